"""New data and the model's life cycle: transform, inverse_transform, update, composition, save/load."""

import pickle
import struct
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
def letter_split(real_data):
    return real_data("letter")


# ---------------------------------------------------------------- transform
@pytest.mark.parametrize("approximate", [False, True], ids=["exact", "hnsw"])
def test_transform_is_batch_invariant_and_thread_independent(letter_split, approximate, on_threads):
    X, _ = letter_split
    model = UMAP(force_approximation_algorithm=approximate, n_jobs=2, **FAST).fit(X[:4000])
    assert (model.graph_model_.index.kind == "hnsw") == approximate
    batch = model.transform(X[6000:11000])
    alone = on_threads(2, lambda: model.transform(X[6000:6100]))
    assert alone.tobytes() == batch[:100].tobytes()
    model.set_params(n_jobs=1)
    assert on_threads(1, lambda: model.transform(X[6000:6100])).tobytes() == alone.tobytes()
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


def test_update_is_deterministic(letter_split, on_threads):
    X, _ = letter_split
    runs = []
    for n_jobs in (1, 2):
        model = UMAP(force_approximation_algorithm=True, n_jobs=n_jobs, **FAST).fit(X[:3000])
        runs.append(on_threads(n_jobs, lambda model=model: model.update(X[3000:3500])).embedding_)
    assert runs[0].tobytes() == runs[1].tobytes()


def test_failed_update_leaves_the_model_as_it_was(digits):
    X, _ = digits
    model = UMAP(**FAST).fit(X[:1000])
    before = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in vars(model).items()}
    bad = X[1000:1010].copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.update(bad)
    with pytest.raises(ValueError, match="X has 10 features, but \\w+ is expecting 64 features"):
        model.update(X[1000:1010, :10])
    for name, value in vars(model).items():
        old = before[name]
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, old), name
        elif sp.issparse(value):
            assert (value != old).nnz == 0, name


@pytest.mark.parametrize("kind", ["labels", "precomputed", "unique"])
def test_update_refuses_models_it_cannot_grow(digits, kind):
    X, y = digits
    if kind == "labels":
        model = UMAP(**FAST).fit(X[:500], y[:500])
        new = X[500:510]
    elif kind == "precomputed":
        D = np.sqrt(((X[:510, None] - X[None, :510]) ** 2).sum(-1))
        model = UMAP(metric="precomputed", **FAST).fit(D[:500, :500])
        new = D[500:510, :500]
    else:
        model = UMAP(unique=True, **FAST).fit(X[:500])
        new = X[500:510]
    before = model.embedding_.copy()
    with pytest.raises(ValueError, match=r"update needs a model fitted without labels, on feature vectors \(not "):
        model.update(new)
    assert model.embedding_.tobytes() == before.tobytes()


@pytest.mark.parametrize("make", [np.asarray, sp.csr_matrix], ids=["dense", "sparse"])
def test_updated_model_transforms_saves_and_loads(digits, tmp_path, make):
    """After update the model holds the new rows (of the training data's kind), places them with their
    class, and transform and save/load work on the grown model as on a fitted one."""
    X, y = digits
    model = UMAP(**FAST).fit(make(X[:1000])).update(make(X[1000:1400]))
    data = model.graph_model_.data
    assert (
        model.embedding_.shape == (1400, 2)
        and data.shape == (1400, 64)
        and sp.issparse(data) == (make is not np.asarray)
    )
    assert knn_score(model.embedding_[:1000], y[:1000], model.embedding_[1000:], y[1000:1400]) >= 0.9
    placed = model.transform(make(X[1400:]))
    assert knn_score(model.embedding_, y[:1400], placed, y[1400:]) >= 0.9
    model.save(tmp_path / "grown.umapx")
    loaded = umapx.load(tmp_path / "grown.umapx")
    assert loaded.embedding_.tobytes() == model.embedding_.tobytes()
    assert loaded.transform(make(X[1400:])).tobytes() == placed.tobytes()


def test_transform_of_a_point_without_training_neighbours_is_nan_with_a_warning(digits):
    X, _ = digits
    model = UMAP(disconnection_distance=200.0, **FAST).fit(X[:1000])  # digits' rows are never 200 apart
    new = X[1000:1003].copy()
    new[1] += 1000.0
    with pytest.warns(UserWarning, match=r"1 new point\(s\) have no training neighbour within disconnection_distance"):
        placed = model.transform(new)
    assert np.isnan(placed[1]).all() and np.isfinite(placed[[0, 2]]).all()
    assert placed[[0, 2]].tobytes() == model.transform(new[[0, 2]]).tobytes()


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


def test_difference_removes_the_edges_the_other_model_holds_fully(digits):
    """a (1 - b): an edge the other model holds at strength 1 is gone from the difference, while an edge
    only this model has stays; the union keeps both."""
    X, _ = digits
    left, right = UMAP(**FAST).fit(X[:, :40]), UMAP(metric="cosine", **FAST).fit(X[:, 24:])
    diff, union = (left - right).graph_, (left + right).graph_
    edges = left.graph_.tocoo()
    other = np.asarray(right.graph_[edges.row, edges.col]).ravel()
    full, absent = other == 1, other == 0
    assert full.sum() > 100 and absent.sum() > 100
    assert np.all(np.asarray(diff[edges.row[full], edges.col[full]]).ravel() == 0)
    assert np.all(np.asarray(diff[edges.row[absent], edges.col[absent]]).ravel() > 0)
    assert np.all(np.asarray(union[edges.row[full], edges.col[full]]).ravel() >= 1 - 1e-6)


def test_composition_needs_the_same_samples(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="fitted on the same samples; got 300 and 400 samples"):
        UMAP(**FAST).fit(X[:300]) + UMAP(**FAST).fit(X[:400])
    with pytest.raises(NotFittedError, match="not fitted yet"):
        UMAP(**FAST).fit(X[:300]) * UMAP()


# ---------------------------------------------------------------- persistence
@pytest.mark.parametrize("approximate", [False, True], ids=["exact", "hnsw"])
def test_save_load_round_trip(tmp_path, digits, approximate):
    X, _ = digits
    model = UMAP(force_approximation_algorithm=approximate, **FAST).fit(X[:1400])
    assert (model.graph_model_.index.kind == "hnsw") == approximate
    path = tmp_path / "model.umapx"
    model.save(path)
    loaded = umapx.load(path)
    assert loaded.get_params() == model.get_params()
    assert loaded.embedding_.tobytes() == model.embedding_.tobytes()
    assert (loaded.graph_ != model.graph_).nnz == 0
    assert loaded.transform(X[1400:]).tobytes() == model.transform(X[1400:]).tobytes()
    unpickled = pickle.loads(pickle.dumps(model))
    assert unpickled.transform(X[1400:]).tobytes() == model.transform(X[1400:]).tobytes()
    with zipfile.ZipFile(path) as zf:
        assert not any(name.endswith(".pkl") for name in zf.namelist())


def _round_trip(model, tmp_path):
    model.save(tmp_path / "m.umapx")
    return umapx.load(tmp_path / "m.umapx")


def test_round_trip_keeps_loss_history_array_init_and_precomputed_knn(digits, tmp_path):
    """Parameters that are arrays come back equal, so the loaded parameters refit the same bytes."""
    X = digits[0][:600]
    init = np.random.default_rng(0).normal(size=(600, 2)).astype(np.float32)
    first = UMAP(**FAST).fit(X)
    knn = (first.graph_model_.knn_indices, first.graph_model_.knn_dists, None)
    model = UMAP(init=init, precomputed_knn=knn, loss_report=True, **FAST).fit(X)
    loaded = _round_trip(model, tmp_path)
    assert np.array_equal(loaded.init, init)
    assert np.array_equal(loaded.precomputed_knn[0], knn[0]) and np.array_equal(loaded.precomputed_knn[1], knn[1])
    assert loaded.loss_history_.keys() == model.loss_history_.keys() and len(model.loss_history_["epoch"]) > 0
    for key, values in model.loss_history_.items():
        assert np.array_equal(np.asarray(loaded.loss_history_[key]), np.asarray(values)), key
    assert UMAP(**loaded.get_params()).fit(X).embedding_.tobytes() == model.embedding_.tobytes()


def test_round_trip_of_a_combined_model(digits, tmp_path):
    X, _ = digits
    union = UMAP(**FAST).fit(X[:600, :40]) + UMAP(metric="cosine", **FAST).fit(X[:600, 24:])
    loaded = _round_trip(union, tmp_path)
    assert loaded.embedding_.tobytes() == union.embedding_.tobytes() and (loaded.graph_ != union.graph_).nnz == 0
    with pytest.raises(ValueError, match="has no single input space"):
        loaded.transform(X[:5, :40])


def test_a_numpy_generator_seed_is_saved_as_none_with_a_warning(digits, tmp_path):
    X = digits[0][:300]
    model = UMAP(random_state=np.random.default_rng(3), n_epochs=30).fit(X)
    with pytest.warns(UserWarning, match="random_state is a numpy random generator, which is saved as None"):
        loaded = _round_trip(model, tmp_path)
    assert loaded.random_state is None and loaded.embedding_.tobytes() == model.embedding_.tobytes()
    assert loaded.transform(X[:20]).shape == (20, 2)


def _rewritten(path, out, edit):
    """A copy of the zip ``path`` with each member's bytes passed through ``edit(name, payload)``; a
    member whose edit gives None is left out."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.namelist():
            payload = edit(item, src.read(item))
            if payload is not None:
                dst.writestr(item, payload)
    return out


def test_load_refuses_an_unknown_model_class_and_names_the_ones_it_loads(digits_model, tmp_path):
    model, _, _ = digits_model
    model.save(tmp_path / "m.umapx")
    alien = _rewritten(
        tmp_path / "m.umapx",
        tmp_path / "alien.umapx",
        lambda item, payload: (
            payload.replace(b'"class": "UMAP"', b'"class": "Popen"') if item == "model.json" else payload
        ),
    )
    with pytest.raises(ValueError, match=r"holds a 'Popen' model, which this umapx cannot load; it loads: .*UMAP"):
        umapx.load(alien)


def test_load_refuses_a_member_that_fails_its_checksum(digits_model, tmp_path):
    model, _, _ = digits_model
    model.save(tmp_path / "m.umapx")
    data = bytearray((tmp_path / "m.umapx").read_bytes())
    with zipfile.ZipFile(tmp_path / "m.umapx") as zf:
        info = max(zf.infolist(), key=lambda member: member.file_size)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    data[info.header_offset + 30 + name_len + extra_len + info.compress_size // 2] ^= 0xFF  # a stored byte
    (tmp_path / "flipped.umapx").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"the model file is damaged \(member '{info.filename}' fails its checksum\)"):
        umapx.load(tmp_path / "flipped.umapx")


def test_inverse_transform_errors_name_the_problem(digits):
    X, _ = digits
    model = UMAP(**FAST).fit(X[:500])
    with pytest.raises(ValueError, match=r"Y has 3 columns, but the embedding has n_components=2"):
        model.inverse_transform(np.zeros((4, 3)))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        UMAP().inverse_transform(np.zeros((4, 2)))
    D = np.sqrt(((X[:300, None] - X[None, :300]) ** 2).sum(-1))
    with pytest.raises(ValueError, match="fitted on a precomputed distance matrix"):
        UMAP(metric="precomputed", **FAST).fit(D).inverse_transform(np.zeros((4, 2)))
    union = model + UMAP(metric="cosine", **FAST).fit(X[:500])
    with pytest.raises(ValueError, match=r"made by combining models \(\+, \*, -\)"):
        union.inverse_transform(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="inverse_transform does not support output_metric='hyperboloid'; supported: "):
        UMAP(output_metric="hyperboloid", **FAST).fit(X[:300]).inverse_transform(np.zeros((4, 2)))


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
    newer = _rewritten(
        path,
        tmp_path / "new.umapx",
        lambda item, payload: (
            payload.replace(f'"version": {VERSION}'.encode(), b'"version": 99') if item == "model.json" else payload
        ),
    )
    with pytest.raises(ValueError, match="written by a newer umapx \\(format version 99\\)"):
        umapx.load(newer)
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
        with pytest.raises(ValueError, match="the model file is damaged"):
            umapx.load(_rewritten(path, tmp_path / f"{name}.umapx", edit))


def test_index_in_principal_axes_keeps_the_life_cycle(tmp_path, real_data, on_threads):
    """Wide rows (mnist_test: 784 features) are indexed in their principal axes; the fit is the same
    on 1 and 2 threads, transform stays batch-invariant, and save/load, pickle and update keep the
    projection."""
    X, _ = real_data("mnist_test")
    model = on_threads(2, lambda: UMAP(force_approximation_algorithm=True, n_jobs=2, **FAST).fit(X[:2000]))
    index, projection = model.graph_model_.index.index, model.graph_model_.index.projection
    assert index.dim == projection[1].shape[1] < X.shape[1]
    one_thread = on_threads(1, lambda: UMAP(force_approximation_algorithm=True, n_jobs=1, **FAST).fit(X[:2000]))
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
    with pytest.raises(ValueError, match="X has 10 features, but \\w+ is expecting 64 features"):
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
