"""Every bad input gets an exception that names the problem; inputs are never modified."""

import numpy as np
import pytest
import scipy.sparse as sp

from umapx import UMAP


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)


FAST = dict(n_epochs=5, random_state=0)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]), "NaN or infinity"),
        (np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 4.0]]), "NaN or infinity"),
        (np.empty((0, 3)), "empty"),
        (np.arange(10.0), "2-D"),
        (np.ones((1, 4)), "at least 2 are needed"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric"),
    ],
)
def test_bad_X(bad, match):
    with pytest.raises(ValueError, match=match):
        UMAP(**FAST).fit(bad)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_neighbors=1), "'n_neighbors' parameter of UMAP must be"),
        (dict(min_dist=2.0, spread=1.0), r"min_dist \(2.0\) must not exceed spread"),
        (dict(negative_sample_rate=-1), "'negative_sample_rate'"),
        (dict(set_op_mix_ratio=1.5), r"'set_op_mix_ratio' parameter of UMAP must be a number in \[0, 1\]"),
        (dict(n_components=0), "'n_components'"),
        (dict(n_epochs=-3), "'n_epochs'"),
        (dict(learning_rate=0.0), "'learning_rate'"),
        (dict(learning_rate=-1.0), "'learning_rate'"),
        (dict(init="magic"), "'init' parameter of UMAP must be one of 'spectral', 'pca', 'random' or an array"),
        (dict(transform_mode="both"), "'transform_mode'"),
        (dict(target_weight=2.0), "'target_weight'"),
    ],
)
def test_bad_params(X, params, match):
    with pytest.raises(ValueError, match=match):
        UMAP(**{**FAST, **params}).fit(X)


@pytest.mark.parametrize("metric", ["eucldean", object(), lambda x, y: 0.0, 3])
def test_unknown_metric_lists_valid_names(X, metric):
    """A metric is a known name or a numba-jitted function; anything else is refused before any work."""
    with pytest.raises(ValueError, match="The 'metric' parameter of UMAP must be one of .* or a numba-jitted") as info:
        UMAP(metric=metric, **FAST).fit(X)
    assert "'euclidean'" in str(info.value) and "'cosine'" in str(info.value)
    with pytest.raises(ValueError, match="The 'target_metric' parameter of UMAP must be one of 'categorical'"):
        UMAP(target_metric=metric, **FAST).fit(X)


def test_unknown_output_metric(X):
    with pytest.raises(ValueError, match="The 'output_metric' parameter of UMAP must be one of .*'hyperboloid'"):
        UMAP(output_metric="jaccard", **FAST).fit(X)


def test_init_array_of_wrong_shape(X):
    with pytest.raises(ValueError, match=r"init array must have shape .*\(60, 2\).*got \(60, 3\)"):
        UMAP(init=np.zeros((60, 3)), **FAST).fit(X)


def test_precomputed_not_square(X):
    with pytest.raises(ValueError, match="square distance matrix"):
        UMAP(metric="precomputed", **FAST).fit(np.ones((10, 9)))


@pytest.mark.parametrize("make", [np.array, sp.csr_matrix])
def test_precomputed_negative(make):
    D = np.abs(np.random.default_rng(1).normal(size=(20, 20)))
    D = D + D.T
    D[3, 4] = -1.0
    with pytest.raises(ValueError, match="negative"):
        UMAP(metric="precomputed", **FAST).fit(make(D))


def test_y_of_wrong_length(X):
    with pytest.raises(ValueError, match="y has 59 entries but X has 60 samples"):
        UMAP(**FAST).fit(X, np.zeros(59))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(dens_lambda=-0.5), r"'dens_lambda' parameter of UMAP must be a number in \[0, inf\]; got -0.5"),
        (dict(dens_frac=1.5), r"'dens_frac' parameter of UMAP must be a number in \[0, 1\]; got 1.5"),
        (dict(dens_frac=-0.1), r"'dens_frac' parameter of UMAP must be a number in \[0, 1\]"),
        (dict(dens_var_shift=-1.0), r"'dens_var_shift' parameter of UMAP must be a number in \[0, inf\]"),
        (dict(output_metric="manhattan"), r"densmap and output_dens need output_metric='euclidean'.*'manhattan'"),
    ],
)
def test_bad_densmap_params(X, params, match):
    with pytest.raises(ValueError, match=match):
        UMAP(densmap=True, **{**FAST, **params}).fit(X)


def test_output_dens_needs_euclidean_output(X):
    with pytest.raises(ValueError, match=r"output_dens need output_metric='euclidean'.*'hyperboloid'"):
        UMAP(output_dens=True, output_metric="hyperboloid", **FAST).fit(X)
    assert UMAP(output_dens=True, output_metric="l2", **FAST).fit(X).rad_emb_.shape == (60,)


def test_densmap_class_names_itself_in_errors(X):
    from umapx import DensMAP

    with pytest.raises(ValueError, match="'dens_lambda' parameter of DensMAP"):
        DensMAP(dens_lambda=-1.0, **FAST).fit(X)


def test_precomputed_knn_of_wrong_shape(X):
    with pytest.raises(ValueError, match="precomputed_knn arrays must both have shape"):
        UMAP(precomputed_knn=(np.zeros((60, 3), int), np.zeros((60, 3)), None), **FAST).fit(X)


def test_too_many_neighbors_warns_and_clamps(X):
    with pytest.warns(
        UserWarning, match=r"n_neighbors \(100\) is not smaller than the number of samples \(60\); using 59"
    ):
        model = UMAP(n_neighbors=100, **FAST).fit(X)
    assert model.graph_model_.knn_indices.shape == (60, 59)
    assert model.n_neighbors == 100


def test_inputs_and_params_not_modified(X):
    y = np.arange(60) % 3
    init = np.random.default_rng(2).normal(size=(60, 2))
    kwds = {"p": 3}
    X0, y0, init0 = X.copy(), y.copy(), init.copy()
    model = UMAP(metric="minkowski", metric_kwds=kwds, init=init, **FAST)
    params = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in model.get_params().items()}
    model.fit(X, y)
    assert np.array_equal(X, X0) and np.array_equal(y, y0) and np.array_equal(init, init0)
    assert kwds == {"p": 3}
    after = model.get_params()
    for key, value in params.items():
        assert np.array_equal(after[key], value) if isinstance(value, np.ndarray) else after[key] == value


def test_failed_fit_keeps_fitted_model(X):
    model = UMAP(**FAST).fit(X)
    before = model.embedding_.copy()
    with pytest.raises(ValueError):
        model.set_params(n_neighbors=1).fit(X)
    with pytest.raises(ValueError, match="minkowski"):
        model.set_params(n_neighbors=15, metric="minkowski", metric_kwds={"q": 1}).fit(X)
    assert np.array_equal(model.embedding_, before)
    assert model.graph_model_.metric.name == "euclidean"


def test_duplicates_and_disconnected_graph_stay_finite():
    rng = np.random.default_rng(3)
    blob = rng.normal(size=(30, 4))
    X = np.vstack([blob, blob[:10], blob + 1000.0, np.repeat(blob[:1], 12, axis=0)])
    emb = UMAP(n_neighbors=5, **FAST).fit_transform(X)
    assert np.isfinite(emb).all()


def test_disconnection_distance_warns_about_isolated_points():
    X = np.vstack([np.zeros((20, 2)) + np.random.default_rng(4).normal(size=(20, 2)), [[100.0, 100.0]]])
    with pytest.warns(UserWarning, match=r"1 point\(s\) have no edges .*\[20\]"):
        emb = UMAP(n_neighbors=5, disconnection_distance=20.0, **FAST).fit_transform(X)
    assert np.isfinite(emb).all()
