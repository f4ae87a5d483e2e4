"""New data and the model's life cycle: transform, inverse_transform, update, composition, save/load."""

import pickle
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neighbors import KNeighborsClassifier

import umapx
from umapx import UMAP, NotFittedError
from umapx.evaluation import trustworthiness
from umapx.graph import fuzzy_simplicial_set
from umapx.io import VERSION

FAST = {"random_state": 0, "n_epochs": 60}


def knn_score(train_emb, train_y, emb, y):
    return KNeighborsClassifier(10).fit(train_emb, train_y).score(emb, y)


@pytest.fixture(scope="module")
def digits_model(digits):
    X, y = digits
    return UMAP(random_state=0).fit(X[:1400]), X, y


@pytest.fixture(scope="module")
def letter_split():
    from umapx.datasets import dataset_path, load

    if not dataset_path("letter").exists():
        pytest.skip(f"data set {dataset_path('letter')} is absent")
    return load("letter")


# ---------------------------------------------------------------- transform
@pytest.mark.parametrize("approximate", [False, True], ids=["exact", "hnsw"])
def test_transform_is_batch_invariant_and_thread_independent(letter_split, approximate):
    X, _ = letter_split
    model = UMAP(force_approximation_algorithm=approximate, n_jobs=2, **FAST).fit(X[:4000])
    assert (model.graph_model_.index.kind == "hnsw") == approximate
    batch = model.transform(X[6000:11000])
    alone = model.transform(X[6000:6100])
    assert alone.tobytes() == batch[:100].tobytes()
    model.set_params(n_jobs=1)
    assert model.transform(X[6000:6100]).tobytes() == alone.tobytes()
    assert model.transform(X[6050:6051]).tobytes() == alone[50:51].tobytes()


def test_transform_places_held_out_points_with_their_class(digits_model):
    model, X, y = digits_model
    new = model.transform(X[1400:])
    assert new.shape == (397, 2) and new.dtype == np.float32
    assert knn_score(model.embedding_, y[:1400], new, y[1400:]) >= 0.9
    assert model.transform(X[1400:]).tobytes() == new.tobytes()


def test_transform_of_training_points_lands_near_them(digits_model):
    model, X, _ = digits_model
    again = model.transform(X[:300])
    spread = np.ptp(model.embedding_, axis=0).max()
    assert np.median(np.linalg.norm(again - model.embedding_[:300], axis=1)) < 0.05 * spread


def test_transform_graph_mode(digits_model):
    model, X, _ = digits_model
    graph = UMAP(**model.get_params()).set_params(transform_mode="graph")
    graph.__dict__.update({k: v for k, v in vars(model).items() if k not in graph.get_params()})
    G = graph.transform(X[1400:1450])
    assert sp.issparse(G) and G.shape == (50, 1400)
    assert np.all(np.diff(G.indptr) == model.graph_model_.n_neighbors)
    assert G.data.min() > 0 and G.data.max() <= 1.0


def test_transform_sparse_precomputed_supervised_and_output_metric(digits):
    X, y = digits
    train, new = X[:1000], X[1000:1100]
    sparse = UMAP(**FAST).fit(sp.csr_matrix(train))
    dense = UMAP(**FAST).fit(train)
    assert knn_score(sparse.embedding_, y[:1000], sparse.transform(sp.csr_matrix(new)), y[1000:1100]) >= 0.85
    assert np.array_equal(sparse.transform(new), sparse.transform(sp.csr_matrix(new)))

    D = np.sqrt(((train[:, None, :] - train[None, :, :]) ** 2).sum(-1))
    Dnew = np.sqrt(((new[:, None, :] - train[None, :, :]) ** 2).sum(-1))
    pre = UMAP(metric="precomputed", **FAST).fit(D)
    assert knn_score(pre.embedding_, y[:1000], pre.transform(Dnew), y[1000:1100]) >= 0.85

    sup = UMAP(**FAST).fit(train, y[:1000])
    assert knn_score(sup.embedding_, y[:1000], sup.transform(new), y[1000:1100]) >= 0.85

    man = UMAP(output_metric="manhattan", **FAST).fit(train)
    assert knn_score(man.embedding_, y[:1000], man.transform(new), y[1000:1100]) >= 0.85
    assert dense.transform(new).shape == (100, 2)


def test_transform_with_unique_rows(digits):
    X, y = digits
    doubled = np.concatenate([X[:600], X[:600]])
    model = UMAP(unique=True, **FAST).fit(doubled)
    new = model.transform(X[600:700])
    assert knn_score(model.embedding_[:600], y[:600], new, y[600:700]) >= 0.8


def test_transform_epochs_are_a_third_of_the_fit(digits_model, monkeypatch):
    model, X, _ = digits_model
    import umapx.pipeline

    seen = []
    real = umapx.pipeline.optimize_layout

    def spy(head, graph, n_epochs, **kw):
        seen.append((n_epochs, kw["learning_rate"]))
        return real(head, graph, n_epochs, **kw)

    monkeypatch.setattr(umapx.pipeline, "optimize_layout", spy)
    model.transform(X[1400:1410])
    assert seen == [(500 // 3, model.learning_rate / 4)]


# ---------------------------------------------------------------- inverse_transform
def test_inverse_transform_reconstructs_the_right_digit(digits_model):
    model, X, y = digits_model
    recon = model.inverse_transform(model.transform(X[1400:]))
    assert recon.shape == (397, 64) and np.isfinite(recon).all()
    match = KNeighborsClassifier(1).fit(X[:1400], y[:1400]).score(recon, y[1400:])
    assert match >= 0.8


def test_inverse_transform_any_n_components_and_sparse(digits):
    X, y = digits
    model = UMAP(n_components=5, **FAST).fit(X[:1000])
    recon = model.inverse_transform(model.embedding_[:200])
    assert recon.shape == (200, 64)
    assert KNeighborsClassifier(1).fit(X[:1000], y[:1000]).score(recon, y[:200]) >= 0.8
    sparse = UMAP(**FAST).fit(sp.csr_matrix(X[:1000]))
    out = sparse.inverse_transform(sparse.embedding_[:10])
    assert sp.issparse(out) and out.shape == (10, 64)


# ---------------------------------------------------------------- update
def test_update_adds_points_and_keeps_the_rest(digits):
    X, y = digits
    model = UMAP(**FAST).fit(X[:1200])
    before = model.embedding_.copy()
    n_knn_before = model.graph_model_.knn_indices.copy()
    model.update(X[1200:1500]).update(X[1500:])
    assert model.embedding_.shape == (1797, 2) and model.graph_.shape == (1797, 1797)
    assert model.graph_model_.data.shape == (1797, 64)
    moved = np.any(model.embedding_[:1200] != before, axis=1)
    changed = np.any(model.graph_model_.knn_indices[:1200] != n_knn_before, axis=1)
    assert moved.any() and not moved[~changed].any()
    assert (model.graph_ != model.graph_.T).nnz == 0
    acc = knn_score(model.embedding_[:1200], y[:1200], model.embedding_[1200:], y[1200:])
    assert acc >= 0.9
    assert trustworthiness(X, model.embedding_, k=15) >= 0.95


def test_update_neighbours_match_a_fresh_knn(digits):
    X, _ = digits
    model = UMAP(**FAST).fit(X[:1500]).update(X[1500:])
    fresh = UMAP(**FAST).fit(X)
    same = [
        len(set(a) & set(b)) / len(a)
        for a, b in zip(model.graph_model_.knn_indices, fresh.graph_model_.knn_indices, strict=True)
    ]
    assert np.mean(same[1500:]) == 1.0  # new points: exact search over old and new points
    assert np.mean(same[:1500]) > 0.95  # old points: updated through the new points' lists only


def test_update_graph_is_the_fuzzy_set_of_its_knn_lists(digits):
    X, _ = digits
    copies = np.repeat(X[:1], 20, axis=0)  # all kNN distances 0: rho = 0 and sigma at the global floor
    model = UMAP(**FAST).fit(np.concatenate([X[:1200], copies])).update(X[1200:1500])
    assert (model.graph_model_.rhos == 0).sum() >= 20
    graph, sigmas, rhos = fuzzy_simplicial_set(model.graph_model_.knn_indices, model.graph_model_.knn_dists)
    assert np.array_equal(sigmas, model.graph_model_.sigmas) and np.array_equal(rhos, model.graph_model_.rhos)
    assert (graph != model.graph_).nnz == 0


def test_update_is_deterministic(letter_split):
    X, _ = letter_split
    runs = []
    for n_jobs in (1, 2):
        model = UMAP(force_approximation_algorithm=True, n_jobs=n_jobs, **FAST).fit(X[:3000])
        runs.append(model.update(X[3000:3500]).embedding_)
    assert runs[0].tobytes() == runs[1].tobytes()


def test_failed_update_leaves_the_model_as_it_was(digits):
    X, _ = digits
    model = UMAP(**FAST).fit(X[:1000])
    before = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in vars(model).items()}
    bad = X[1000:1010].copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.update(bad)
    with pytest.raises(ValueError, match="X has 10 features, but this model was fitted on 64"):
        model.update(X[1000:1010, :10])
    for name, value in vars(model).items():
        old = before[name]
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, old), name
        elif sp.issparse(value):
            assert (value != old).nnz == 0, name


def test_update_refuses_supervised_models(digits):
    X, y = digits
    model = UMAP(**FAST).fit(X[:500], y[:500])
    with pytest.raises(ValueError, match="update needs a model fitted without labels"):
        model.update(X[500:510])


# ---------------------------------------------------------------- composition
def test_composition_of_models_on_different_features(digits):
    X, y = digits
    left = UMAP(**FAST).fit(X[:, :40])
    right = UMAP(metric="cosine", **FAST).fit(X[:, 24:])
    union, inter, diff = left + right, left * right, left - right
    for model in (union, inter, diff):
        assert model.embedding_.shape == (1797, 2) and np.isfinite(model.embedding_).all()
        assert (model.graph_ != model.graph_.T).nnz == 0
    assert union.graph_.nnz > left.graph_.nnz
    assert inter.graph_.nnz >= left.graph_.nnz
    acc = [knn_score(m.embedding_, y, m.embedding_, y) for m in (union, inter)]
    assert min(acc) > 0.9
    with pytest.raises(ValueError, match="has no single input space"):
        union.transform(X[:5])


def test_composition_needs_the_same_samples(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="fitted on the same samples; got 300 and 400 samples"):
        UMAP(**FAST).fit(X[:300]) + UMAP(**FAST).fit(X[:400])
    with pytest.raises(NotFittedError, match="not fitted yet"):
        UMAP(**FAST).fit(X[:300]) * UMAP()


# ---------------------------------------------------------------- persistence
@pytest.mark.parametrize("approximate", [False, True], ids=["exact", "hnsw"])
def test_save_load_round_trip(tmp_path, letter_split, approximate):
    X, _ = letter_split
    model = UMAP(force_approximation_algorithm=approximate, **FAST).fit(X[:3000])
    path = tmp_path / "model.umapx"
    model.save(path)
    loaded = umapx.load(path)
    assert loaded.get_params() == model.get_params()
    assert loaded.embedding_.tobytes() == model.embedding_.tobytes()
    assert (loaded.graph_ != model.graph_).nnz == 0
    assert loaded.transform(X[3000:3200]).tobytes() == model.transform(X[3000:3200]).tobytes()
    unpickled = pickle.loads(pickle.dumps(model))
    assert unpickled.transform(X[3000:3200]).tobytes() == model.transform(X[3000:3200]).tobytes()
    with zipfile.ZipFile(path) as zf:
        assert not any(name.endswith(".pkl") for name in zf.namelist())


def test_saved_file_is_not_much_larger_than_its_arrays(tmp_path, digits_model):
    model, _, _ = digits_model
    path = tmp_path / "m.umapx"
    model.save(path)
    state = [*vars(model.graph_model_).values(), *vars(model.layout_).values(), model.graph_model_.data]
    arrays = sum(v.nbytes for v in state if isinstance(v, np.ndarray))
    arrays += sum(v.data.nbytes + v.indices.nbytes + v.indptr.nbytes for v in state if sp.issparse(v))
    assert path.stat().st_size < 1.1 * arrays
    assert len(pickle.dumps(model)) < 1.5 * arrays


def test_load_rejects_bad_files(tmp_path, digits_model):
    model, _, _ = digits_model
    path = tmp_path / "m.umapx"
    model.save(path)
    data = path.read_bytes()
    (tmp_path / "cut.umapx").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a umapx model file, or it is truncated"):
        umapx.load(tmp_path / "cut.umapx")
    (tmp_path / "text.umapx").write_text("hello")
    with pytest.raises(ValueError, match="not a umapx model file"):
        umapx.load(tmp_path / "text.umapx")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("model.json", '{"format": "something-else"}')
    with pytest.raises(ValueError, match="names no umapx model format"):
        umapx.load(tmp_path / "other.zip")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "new.umapx", "w") as dst:
        for item in src.namelist():
            payload = src.read(item)
            if item == "model.json":
                payload = payload.replace(f'"version": {VERSION}'.encode(), b'"version": 99')
            dst.writestr(item, payload)
    with pytest.raises(ValueError, match="written by a newer umapx \\(format version 99\\)"):
        umapx.load(tmp_path / "new.umapx")
    # damaged: an array missing, the metadata not JSON, an entry of a kind umapx does not save
    for name, edit in [
        ("missing", lambda item, payload: None if item.endswith("knn_dists.npy") else payload),
        ("notjson", lambda item, payload: payload[:-5] if item == "model.json" else payload),
        (
            "alien",
            lambda item, payload: (
                payload.replace(b'"dataclass": "Layout"', b'"dataclass": "os"') if item == "model.json" else payload
            ),
        ),
    ]:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / f"{name}.umapx", "w") as dst:
            for item in src.namelist():
                payload = edit(item, src.read(item))
                if payload is not None:
                    dst.writestr(item, payload)
        with pytest.raises(ValueError, match="the model file is damaged"):
            umapx.load(tmp_path / f"{name}.umapx")


def test_index_in_principal_axes_keeps_the_life_cycle(tmp_path, real_data):
    """Wide rows (mnist_test: 784 features) are indexed in their principal axes; the fit is the same
    on 1 and 2 threads, transform stays batch-invariant, and save/load, pickle and update keep the
    projection."""
    X, _ = real_data("mnist_test")
    model = UMAP(force_approximation_algorithm=True, n_jobs=2, **FAST).fit(X[:2000])
    index, projection = model.graph_model_.index.index, model.graph_model_.index.projection
    assert index.dim == projection[1].shape[1] < X.shape[1]
    one_thread = UMAP(force_approximation_algorithm=True, n_jobs=1, **FAST).fit(X[:2000])
    assert one_thread.embedding_.tobytes() == model.embedding_.tobytes()
    alone = model.transform(X[2000:2100])
    assert alone.tobytes() == model.transform(X[2000:2600])[:100].tobytes()
    model.save(tmp_path / "m.umapx")
    for again in (umapx.load(tmp_path / "m.umapx"), pickle.loads(pickle.dumps(model))):
        assert again.transform(X[2000:2100]).tobytes() == alone.tobytes()
    model.update(X[2600:2800])
    assert model.graph_model_.index.index.get_current_count() == 2200
    assert np.isfinite(model.embedding_).all()


def test_save_refuses_callable_metric(tmp_path, digits):
    import numba

    @numba.njit
    def l1(x, y):
        return np.abs(x - y).sum()

    X, _ = digits
    model = UMAP(metric=l1, **FAST).fit(X[:300])
    with pytest.raises(ValueError, match="cannot save metric='l1': a user-supplied function"):
        model.save(tmp_path / "m.umapx")
    assert not (tmp_path / "m.umapx").exists()
    with pytest.raises(NotFittedError, match="call fit before save"):
        UMAP().save(tmp_path / "m.umapx")


# ---------------------------------------------------------------- bad input
def test_transform_bad_input(digits_model, digits):
    model, X, _ = digits_model
    with pytest.raises(NotFittedError, match="not fitted yet; call fit before transform"):
        UMAP().transform(X[:5])
    with pytest.raises(ValueError, match="X has 10 features, but this model was fitted on 64"):
        model.transform(X[:5, :10])
    bad = X[:5].copy()
    bad[1, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.transform(bad)
    pre = UMAP(metric="precomputed", **FAST).fit(np.abs(X[:50, :1] - X[:50, :1].T))
    with pytest.raises(ValueError, match="distances from each new point to the 50 training points"):
        pre.transform(np.zeros((3, 40)))
    with pytest.raises(ValueError, match="Y has 3 columns, but the embedding has n_components=2"):
        model.inverse_transform(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="fitted on a precomputed distance matrix"):
        pre.inverse_transform(np.zeros((4, 2)))
