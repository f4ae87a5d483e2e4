"""ParametricUMAP on scikit-learn's digits: the loss it trains, the networks it saves, what it explains,
and the errors of bad input. Each fit here takes seconds on the CPU build of torch."""

import copy
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from sklearn.utils.estimator_checks import parametrize_with_checks

import umapx
from umapx._sklearn import EXPECTED_FAILED_CHECKS
from umapx.evaluation import distance_spearman, knn_accuracy
from umapx.layout.curve import find_ab_params, phi_of
from umapx.parametric import networks, training
from umapx.parametric.networks import Network
from umapx.parametric_umap import ParametricUMAP, load_ParametricUMAP

FAST = {"n_epochs": 20, "random_state": 0}


@pytest.fixture(scope="module")
def scaled(digits):
    X, y = digits
    return X / 16.0, y


@pytest.fixture(scope="module")
def full(scaled):
    """A model with every network: encoder, decoder (autoencoder) and classifier head on 20% of the labels."""
    X, y = scaled
    labels = np.where(np.random.default_rng(0).random(len(y)) < 0.2, y, -1)
    model = ParametricUMAP(
        n_epochs=40,
        random_state=0,
        parametric_reconstruction=True,
        autoencoder_loss=True,
        classifier=True,
        reconstruction_validation=X[:200],
    )
    return model.fit(X, labels), labels


class Encoder(torch.nn.Module):
    """A user's encoder that keeps its constructor arguments as attributes."""

    def __init__(self, n_in, width, n_out=2):
        super().__init__()
        self.n_in, self.width, self.n_out = n_in, width, n_out
        self.net = torch.nn.Sequential(torch.nn.Linear(n_in, width), torch.nn.Tanh(), torch.nn.Linear(width, n_out))

    def forward(self, x):
        return self.net(x)


class Forgetful(Encoder):
    """An encoder that does not keep its constructor argument ``size``."""

    def __init__(self, size):
        super().__init__(64, size)


def test_the_curve_is_the_kernels_curve():
    d2 = np.array([0.0, 1e-4, 0.01, 0.3, 1.0, 2.5, 10.0, 400.0])
    for min_dist, spread in ((0.1, 1.0), (0.5, 1.0), (0.01, 2.0)):
        a, b = find_ab_params(spread, min_dist)
        mirrored = training.phi(torch.tensor(d2, dtype=torch.float32), a, b).numpy()
        np.testing.assert_allclose(mirrored, phi_of(d2, a, b), rtol=2e-6)
        model = ParametricUMAP(min_dist=min_dist, spread=spread, n_epochs=2, random_state=0)
        model.fit(np.random.default_rng(0).random((60, 5)).astype(np.float32))
        assert (model.a_, model.b_) == (a, b)


def test_the_edge_list_follows_the_sgd_schedule():
    import scipy.sparse as sp

    graph = sp.csr_matrix(np.array([[0, 1.0, 0.5], [1.0, 0, 0.26], [0.5, 0.26, 0]], dtype=np.float32))
    heads, tails = training.edge_list(graph, 10)
    pairs = list(zip(heads.tolist(), tails.tolist(), strict=True))
    assert pairs.count((0, 1)) == 10 and pairs.count((0, 2)) == 5 and pairs.count((1, 2)) == 2
    assert len(pairs) == 2 * (10 + 5 + 2)


def test_in_batch_negatives_repel_from_the_batch_tails():
    z_head = torch.zeros(2, 2)
    z_tail = torch.tensor([[0.0, 0.0], [30.0, 0.0]])
    a, b = find_ab_params(1.0, 0.1)
    near = training.umap_loss(z_head, z_tail, torch.tensor([0, 0]), a, b, 1.0)
    far = training.umap_loss(z_head, z_tail, torch.tensor([1, 1]), a, b, 1.0)
    assert near > far  # a negative sample on top of its head costs; one far away costs almost nothing


def test_training_lowers_the_loss_and_embeds_the_classes(scaled):
    X, y = scaled
    model = ParametricUMAP(n_epochs=60, random_state=0, loss_report_frequency=10).fit(X)
    umap = model.batch_history_["umap"]
    assert len(umap) == 10 and umap[-1] < 0.6 * umap[0]
    assert model.history_["epoch"] == [1]
    accuracy = knn_accuracy(model.embedding_, y, k=10)
    assert accuracy > 0.8, accuracy  # PCA's two components: 0.64
    np.testing.assert_array_equal(model.transform(X), model.embedding_)


def test_outputs_have_their_shapes(full, scaled):
    model, labels = full
    X, _ = scaled
    new = X[:37]
    assert model.embedding_.shape == (len(X), 2) and model.embedding_.dtype == np.float32
    assert model.transform(new).shape == (37, 2)
    assert model.inverse_transform(model.transform(new)).shape == (37, 64)
    proba = model.predict_proba(new)
    assert proba.shape == (37, 10)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    assert set(model.predict(new)) <= set(model.classes_.tolist())
    assert model.explain(new[:3]).shape == (3, 64, 2)
    assert model.graph_.shape == (len(X), len(X))
    assert {"loss", "umap", "reconstruction", "classifier", "val_reconstruction"} <= set(model.history_)


def test_the_semi_supervised_head_and_the_decoder_learn(full, scaled):
    model, labels = full
    X, y = scaled
    unlabelled = labels == -1
    accuracy = (model.predict(X[unlabelled]) == y[unlabelled]).mean()
    assert accuracy > 0.85, accuracy
    assert model.classifier_[0].in_features == 100  # the head reads the trunk's features, not the embedding
    mse = ((model.inverse_transform(model.transform(X)) - X) ** 2).mean()
    assert mse < 0.6 * ((X - X.mean(0)) ** 2).mean(), mse  # better than the mean image
    assert model.history_["val_reconstruction"][-1] < model.history_["reconstruction"][0] * 1.5


def test_transform_of_a_row_depends_on_that_row_alone(full, scaled):
    model, _ = full
    X, _ = scaled
    order = np.random.default_rng(1).permutation(len(X))
    together = model.transform(X)
    assert model.transform(X[order]).tobytes() == together[order].tobytes()
    assert model.transform(X[5:6]).tobytes() == together[5:6].tobytes()


def test_seeded_fits_are_identical_and_restore_torch_threads(scaled, monkeypatch):
    X, _ = scaled
    before = torch.get_num_threads()
    counts = []
    set_threads = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (counts.append(n), set_threads(n))[1])
    first = ParametricUMAP(**FAST).fit(X[:600])
    second = ParametricUMAP(**FAST).fit(X[:600])
    assert first.embedding_.tobytes() == second.embedding_.tobytes()
    assert ParametricUMAP(**{**FAST, "random_state": 1}).fit(X[:600]).embedding_.tobytes() != first.embedding_.tobytes()
    assert torch.get_num_threads() == before
    from umapx._threads import usable_cpus

    assert counts[0] <= usable_cpus() and counts[-1] == before


def test_save_and_load_give_identical_outputs(full, scaled, tmp_path):
    model, _ = full
    X, _ = scaled
    path = tmp_path / "p.umapx"
    model.save(path)
    loaded = load_ParametricUMAP(path)
    for method in ("transform", "predict_proba", "explain"):
        assert getattr(loaded, method)(X[:50]).tobytes() == getattr(model, method)(X[:50]).tobytes(), method
    Y = model.transform(X[:50])
    assert loaded.inverse_transform(Y).tobytes() == model.inverse_transform(Y).tobytes()
    assert loaded.history_ == model.history_ and loaded.batch_history_ == model.batch_history_
    for name, value in model.get_params().items():
        assert np.array_equal(loaded.get_params()[name], value) or name in ("encoder", "decoder", "optimizer"), name
    assert (loaded.graph_ != model.graph_).nnz == 0
    assert umapx.load(path).embedding_.tobytes() == model.embedding_.tobytes()


def test_a_users_encoder_is_saved_by_class_and_arguments(scaled, tmp_path):
    X, _ = scaled
    model = ParametricUMAP(encoder=Encoder(64, 32), **FAST).fit(X[:400])
    assert isinstance(model.encoder_, Encoder) and model.encoder_ is not model.encoder
    model.save(tmp_path / "e.umapx")
    assert umapx.load(tmp_path / "e.umapx").transform(X[:20]).tobytes() == model.transform(X[:20]).tobytes()
    sequential = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    untouched = [p.detach().clone() for p in sequential.parameters()]
    model = ParametricUMAP(encoder=sequential, **FAST).fit(X[:400])
    assert all(torch.equal(p, q) for p, q in zip(sequential.parameters(), untouched, strict=True))
    model.save(tmp_path / "s.umapx")
    assert umapx.load(tmp_path / "s.umapx").transform(X[:20]).tobytes() == model.transform(X[:20]).tobytes()
    forgetful = ParametricUMAP(encoder=Forgetful(8), **FAST).fit(X[:400])
    with pytest.raises(ValueError, match=r"constructor argument 'size' is not stored as an attribute"):
        forgetful.save(tmp_path / "f.umapx")


def test_loading_never_imports_a_module_named_in_the_file():
    spec = {"module": "some_package_never_imported.nets", "name": "Encoder", "kwargs": {}}
    with pytest.raises(ValueError, match=r"some_package_never_imported.nets is not imported; import it before loading"):
        Network(spec, {}).module("encoder")
    assert "some_package_never_imported" not in sys.modules
    with pytest.raises(ValueError, match=r"os.system, which is not a torch.nn.Module class"):
        Network({"module": "os", "name": "system", "kwargs": {"command": "true"}}, {}).module("encoder")
    lazy = "torch._dynamo" in sys.modules
    with pytest.raises(ValueError, match=r"torch._dynamo.Thing, which is not a torch.nn.Module class"):
        Network({"module": "torch", "name": "_dynamo.Thing", "kwargs": {}}, {}).module("encoder")
    assert ("torch._dynamo" in sys.modules) == lazy  # torch's lazy attributes import nothing either
    with pytest.raises(ValueError, match=r"torch.testing._internal.common_utils is not imported"):
        Network({"module": "torch.testing._internal.common_utils", "name": "X", "kwargs": {}}, {}).module("encoder")


def test_landmarks_keep_their_places_while_new_data_trains(scaled):
    X, y = scaled
    old, new = X[:900], X[900:]
    model = ParametricUMAP(**FAST).fit(old)
    before = model.transform(old)
    spread = before.std(0).mean()
    positions = np.vstack([before, np.full((len(new), 2), np.nan, dtype=np.float32)])
    both = np.vstack([old, new])
    kept = copy.deepcopy(model).fit(both, landmark_positions=positions)
    drift = np.linalg.norm(kept.transform(old) - before, axis=1).mean()
    loose = copy.deepcopy(model).set_params(landmark_loss_weight=0.0).fit(both, landmark_positions=positions)
    free = np.linalg.norm(loose.transform(old) - before, axis=1).mean()
    assert drift < 0.15 * spread and drift < 0.5 * free, (drift, free, spread)
    fresh = ParametricUMAP(**FAST).fit(both)  # the same training budget on all the rows at once
    assert knn_accuracy(kept.transform(new), y[900:], k=10) > knn_accuracy(fresh.transform(new), y[900:], k=10) - 0.05


def test_attributions_add_up_and_point_at_the_pixels_that_differ(full, scaled):
    model, _ = full
    X, y = scaled
    pick = np.flatnonzero(np.isin(y, (0, 1)))[:120]
    attribution = model.explain(X[pick])
    moved = model.transform(X[pick]) - model.transform(model.feature_mean_[None, :])
    error = np.linalg.norm(attribution.sum(1) - moved, axis=1)
    assert (error <= 0.05 * np.linalg.norm(moved, axis=1) + 1e-3).mean() > 0.95
    importance = np.abs(attribution).sum(2).mean(0)
    difference = np.abs(X[y == 0].mean(0) - X[y == 1].mean(0))
    rho = spearmanr(importance, difference).statistic
    assert rho >= 0.5, rho
    base = X[:2]
    assert not np.allclose(model.explain(X[pick[:2]], baseline=base), attribution[:2])


def test_global_correlation_loss_raises_the_distance_correlation(scaled):
    X, _ = scaled
    plain = ParametricUMAP(**FAST).fit(X)
    glob = ParametricUMAP(**FAST, global_correlation_loss_weight=5.0).fit(X)
    assert "global_correlation" in glob.history_
    low, high = (distance_spearman(X, m.embedding_, n_pairs=20000) for m in (plain, glob))
    assert high > low + 0.05, (low, high)


def test_a_seeded_fit_with_dropout_is_reproducible_and_epochs_are_recorded(scaled):
    X, _ = scaled
    drop = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(32, 2))
    state = torch.random.get_rng_state()
    fits = [
        ParametricUMAP(encoder=drop, n_training_epochs=2, loss_report_frequency=3, **FAST).fit(X[:400]) for _ in "ab"
    ]
    assert fits[0].embedding_.tobytes() == fits[1].embedding_.tobytes()
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's torch stream is left as it was
    assert fits[0].history_["epoch"] == [1, 2] and len(fits[0].batch_history_["loss"]) == 6


def test_y_supervises_the_graph_unless_the_classifier_takes_it(scaled):
    X, y = scaled
    plain = ParametricUMAP(n_epochs=1, random_state=0).fit(X[:300])
    supervised = ParametricUMAP(n_epochs=1, random_state=0).fit(X[:300], y[:300])
    head = ParametricUMAP(n_epochs=1, random_state=0, classifier=True).fit(X[:300], y[:300])
    assert (plain.graph_ != head.graph_).nnz == 0 and (plain.graph_ != supervised.graph_).nnz > 0
    assert supervised.classifier_ is None and head.classifier_ is not None


def test_validation_split_stops_training_early(scaled):
    X, _ = scaled
    model = ParametricUMAP(
        n_epochs=5, random_state=0, validation_fraction=0.2, patience=1, n_training_epochs=30, loss_report_frequency=4
    ).fit(X[:600])
    scores = model.batch_history_["val_loss"]
    assert len(model.history_["epoch"]) < 30
    assert scores[-1] >= min(scores[:-1])  # it stopped on a score that did not improve
    assert model.history_["val_loss"][-1] == scores[-1]


def test_precomputed_distances_build_the_graph(scaled):
    from scipy.spatial.distance import cdist

    X, _ = scaled
    X = X[:500]
    a = ParametricUMAP(**FAST).fit(X, precomputed_distances=cdist(X, X))
    b = ParametricUMAP(**FAST).fit(X)
    assert (a.graph_ != a.graph_.T).nnz == 0 and a.graph_.shape == (500, 500)
    assert abs(a.graph_ - b.graph_).sum() < 0.01 * b.graph_.sum()  # ties among duplicate rows may break otherwise


def test_image_dims_give_the_conv_net(scaled):
    X, _ = scaled
    model = ParametricUMAP(dims=(8, 8), **FAST).fit(X[:300].reshape(300, 8, 8))
    assert any(isinstance(m, torch.nn.Conv2d) for m in model.encoder_.modules())
    assert model.transform(X[:5].reshape(5, 8, 8)).shape == (5, 2)
    images = torch.rand(4, 6, 5, 3)  # Keras' (h, w, c) rows are read as such, and handed on as (c, h, w)
    for dims in ((6, 5, 3), (3, 6, 5)):
        encoder = networks.default_encoder(90, 2, dims)
        rows = images.reshape(4, -1) if dims[0] == 6 else images.permute(0, 3, 1, 2).reshape(4, -1)
        seen = torch.nn.Sequential(*list(encoder)[: 2 if dims[0] == 6 else 1])(rows)
        assert torch.equal(seen, images.permute(0, 3, 1, 2)), dims


def test_bad_input_gets_a_clear_error(full, scaled):
    model, _ = full
    X, _ = scaled
    small = X[:200]
    wide = torch.nn.Sequential(torch.nn.Linear(64, 3))
    with pytest.raises(ValueError, match=r"encoder's output has 3 columns, but n_components=2"):
        ParametricUMAP(encoder=wide, **FAST).fit(small)
    decoder = torch.nn.Sequential(torch.nn.Linear(5, 64))
    with pytest.raises(ValueError, match=r"decoder \(input: n_components=2\) cannot take rows of 2 features"):
        ParametricUMAP(decoder=decoder, parametric_reconstruction=True, **FAST).fit(small)
    with pytest.raises(ValueError, match=r"decoder's output has 10 columns, but the data has 64"):
        ParametricUMAP(decoder=torch.nn.Linear(2, 10), parametric_reconstruction=True, **FAST).fit(small)
    with pytest.raises(ValueError, match=r"needs labelled points in y \(labels other than -1\)"):
        ParametricUMAP(classifier=True, **FAST).fit(small, np.full(200, -1))
    with pytest.raises(ValueError, match=r"inverse_transform needs a decoder: fit with parametric_reconstruction=True"):
        ParametricUMAP(**FAST).fit(small).inverse_transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"predict needs the classifier head"):
        ParametricUMAP(**FAST).fit(small).predict(small)
    with pytest.raises(ValueError, match=r"landmark_positions must have one row per point"):
        ParametricUMAP(**FAST).fit(small, landmark_positions=np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"all finite \(a landmark\) or all NaN"):
        ParametricUMAP(**FAST).fit(small, landmark_positions=np.where(np.eye(200, 2) > 0, np.nan, 0.0))
    with pytest.raises(TypeError, match=r"reads dense rows; X is sparse"):
        import scipy.sparse as sp

        ParametricUMAP(**FAST).fit(sp.csr_matrix(small))
    with pytest.raises(ValueError, match=r"dims=\(8, 9\) holds 72 values; X rows have 64"):
        ParametricUMAP(dims=(8, 9), **FAST).fit(small)
    with pytest.raises(
        ValueError, match=r"The 'batch_size' parameter of ParametricUMAP must be one of None or an int in \[1, inf\]"
    ):
        ParametricUMAP(batch_size=0).fit(small)
    with pytest.raises(ValueError, match=r"'device' parameter .* must be .*'auto', 'cpu'"):
        ParametricUMAP(device="tpu").fit(small)
    with pytest.raises(ValueError, match=r"precomputed_distances must be a square matrix of the 200 rows"):
        ParametricUMAP(**FAST).fit(small, precomputed_distances=np.zeros((200, 100)))
    with pytest.raises(ValueError, match=r"X has 10 features, but ParametricUMAP is expecting 64 features"):
        model.transform(np.zeros((3, 10)))
    with pytest.raises(ValueError, match=r"baseline must be one row of 64 features or one per point"):
        model.explain(small[:3], baseline=np.zeros(10))
    with pytest.raises(ValueError, match=r"patience stops training on held-out edges: give validation_fraction"):
        ParametricUMAP(patience=2, **FAST).fit(small)
    with pytest.raises(ValueError, match=r"validation_fraction=1e-09 holds out no edge of this graph; raise it"):
        ParametricUMAP(validation_fraction=1e-9, **FAST).fit(small)
    plain = ParametricUMAP(**FAST).fit(small)
    with pytest.raises(ValueError, match=r"trained with classifier=False; set classifier=False, or fit a new model"):
        plain.set_params(classifier=True).fit(small, np.arange(200) % 3, landmark_positions=np.full((200, 2), np.nan))
    with pytest.raises(
        ValueError, match=r"'dims' parameter of ParametricUMAP must be one of None or a tuple of positive"
    ):
        ParametricUMAP(dims=(8, 0)).fit(small)
    with pytest.raises(umapx.NotFittedError, match="not fitted yet; call fit before transform"):
        ParametricUMAP().transform(small)
    with pytest.raises(TypeError, match="unexpected keyword argument 'epochs'"):
        ParametricUMAP(epochs=3)
    assert model.transform(small).tobytes() == model.embedding_[:200].tobytes()  # the errors changed nothing


def test_without_torch_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delitem(sys.modules, "umapx.parametric_umap")
    with pytest.raises(ImportError, match=r"pip install 'umapx\[parametric\]'"):
        import umapx.parametric_umap  # noqa: F401


def test_importing_umapx_imports_no_torch():
    code = "import sys, umapx; umapx.UMAP; umapx.AlignedUMAP; umapx.load; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


@pytest.mark.slow
@parametrize_with_checks(
    [ParametricUMAP(n_epochs=20, n_training_epochs=1, random_state=0, classifier=True)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS["ParametricUMAP"],
)
def test_sklearn_check_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_a_list_of_epochs_is_umaps_alone():
    with pytest.raises(ValueError, match="'n_epochs' parameter of ParametricUMAP"):
        ParametricUMAP(n_epochs=[10, 20]).fit(np.zeros((20, 3)))
