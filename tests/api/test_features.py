"""The umap-learn surface: parameters and defaults, input kinds, metrics, supervision, attributes."""

import inspect
import logging

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from umapx import UMAP
from umapx.evaluation import trustworthiness

UMAP_LEARN_DEFAULTS = dict(
    n_neighbors=15,
    n_components=2,
    metric="euclidean",
    metric_kwds=None,
    output_metric="euclidean",
    output_metric_kwds=None,
    n_epochs=None,
    learning_rate=1.0,
    init="spectral",
    min_dist=0.1,
    spread=1.0,
    low_memory=True,
    n_jobs=-1,
    set_op_mix_ratio=1.0,
    local_connectivity=1.0,
    repulsion_strength=1.0,
    negative_sample_rate=5,
    transform_queue_size=4.0,
    a=None,
    b=None,
    random_state=None,
    angular_rp_forest=False,
    target_n_neighbors=-1,
    target_metric="categorical",
    target_metric_kwds=None,
    target_weight=0.5,
    transform_seed=42,
    transform_mode="embedding",
    force_approximation_algorithm=False,
    verbose=False,
    tqdm_kwds=None,
    unique=False,
    densmap=False,
    dens_lambda=2.0,
    dens_frac=0.3,
    dens_var_shift=0.1,
    output_dens=False,
    disconnection_distance=None,
    precomputed_knn=(None, None, None),
)
UMAPX_EXTRAS = dict(loss_report=None, callbacks=None, negative_sampling="umap")
FAST = dict(n_epochs=50, random_state=0)


def test_parameters_and_defaults_match_umap_learn():
    sig = inspect.signature(UMAP.__init__)
    defaults = {k: p.default for k, p in sig.parameters.items() if k != "self"}
    assert defaults == {**UMAP_LEARN_DEFAULTS, **UMAPX_EXTRAS}


def test_clone_and_repr():
    from sklearn.base import clone

    model = UMAP(n_neighbors=7, metric="cosine")
    copy = clone(model)
    assert copy.get_params() == model.get_params() and copy is not model
    assert repr(model) == "UMAP(n_neighbors=7, metric='cosine')"


def test_fitted_attributes(digits):
    X, _ = digits
    model = UMAP(**FAST).fit(X)
    n = len(X)
    assert model.embedding_.shape == (n, 2) and model.embedding_.dtype == np.float32
    assert sp.isspmatrix_csr(model.graph_) and model.graph_.shape == (n, n)
    assert model.graph_dists_.shape == (n, n)
    assert model.graph_model_.knn_indices.shape == (n, 15) and model.graph_model_.knn_dists.shape == (n, 15)
    assert (model.graph_model_.knn_indices[:, 0] == np.arange(n)).all()
    assert model.a_ == model.layout_.a and abs(model.layout_.b - 0.895) < 0.01
    assert model.n_features_in_ == 64


def test_explicit_a_b_are_used(iris):
    X, _ = iris
    model = UMAP(a=2.0, b=0.5, **FAST).fit(X)
    assert (model.layout_.a, model.layout_.b) == (2.0, 0.5)


def _unit_rows(A):
    return A / np.linalg.norm(A, axis=1, keepdims=True)


# each metric with a transform of the data under which euclidean distance ranks neighbours the same way
METRIC_VIEWS = {
    "manhattan": (None, None),
    "chebyshev": (None, None),
    "minkowski": ({"p": 3}, None),
    "canberra": (None, None),
    "braycurtis": (None, None),
    "seuclidean": ("V", lambda X: X / X.std(axis=0)),
    "mahalanobis": ("VI", lambda X: X @ np.linalg.cholesky(np.linalg.inv(np.cov(X.T)))),
    "cosine": (None, _unit_rows),
    "correlation": (None, lambda X: _unit_rows(X - X.mean(axis=1, keepdims=True))),
    "hellinger": (None, lambda X: np.sqrt(X / X.sum(axis=1, keepdims=True))),
}


@pytest.mark.parametrize("metric", sorted(METRIC_VIEWS))
def test_input_metrics_give_faithful_embeddings(iris, metric):
    X, _ = iris
    X = X.astype(np.float64)
    kwds, view = METRIC_VIEWS[metric]
    if kwds == "V":
        kwds = {"V": X.var(axis=0)}
    elif kwds == "VI":
        kwds = {"VI": np.linalg.inv(np.cov(X.T))}
    emb = UMAP(metric=metric, metric_kwds=kwds, **FAST).fit_transform(X)
    if view is None:
        trust = trustworthiness(X, emb, k=10, metric=metric if metric != "minkowski" else "manhattan")
    else:
        trust = trustworthiness(view(X), emb, k=10)
    assert trust > 0.9


def test_boolean_metric(digits):
    X, _ = digits
    B = (X > 8).astype(np.float32)
    emb = UMAP(metric="jaccard", **FAST).fit_transform(B)
    assert np.isfinite(emb).all()
    assert trustworthiness(B, emb, k=10, metric="jaccard") > 0.85


def test_user_numba_metric(iris):
    @numba.njit
    def l1(x, y):
        return np.abs(x - y).sum()

    X, _ = iris
    emb = UMAP(metric=l1, **FAST).fit_transform(X)
    assert trustworthiness(X, emb, k=10, metric="manhattan") > 0.9


def test_sparse_input_matches_dense(digits):
    X, _ = digits
    dense = UMAP(**FAST).fit(X)
    sparse = UMAP(**FAST).fit(sp.csr_matrix(X))
    assert np.array_equal(dense.graph_model_.knn_indices, sparse.graph_model_.knn_indices)
    assert np.allclose(dense.embedding_, sparse.embedding_, atol=1e-3)


def test_sparse_input_other_metric(digits):
    X, _ = digits
    emb = UMAP(metric="manhattan", **FAST).fit_transform(sp.csr_matrix(X))
    assert trustworthiness(X, emb, k=10, metric="manhattan") > 0.9


@pytest.mark.parametrize("make", [np.asarray, sp.csr_matrix])
def test_precomputed_matches_euclidean(make):
    from scipy.spatial.distance import cdist

    X = np.random.default_rng(5).normal(size=(300, 6)).astype(np.float32)
    D = cdist(X, X)
    direct = UMAP(**FAST).fit(X)
    pre = UMAP(metric="precomputed", **FAST).fit(make(D))
    assert np.array_equal(direct.graph_model_.knn_indices, pre.graph_model_.knn_indices)
    assert np.allclose(direct.graph_model_.knn_dists, pre.graph_model_.knn_dists, atol=1e-4)
    assert abs(trustworthiness(X, pre.embedding_, k=10) - trustworthiness(X, direct.embedding_, k=10)) < 0.01


def test_precomputed_knn_reproduces_fit(digits):
    X, _ = digits
    first = UMAP(**FAST).fit(X)
    again = UMAP(precomputed_knn=(first.graph_model_.knn_indices, first.graph_model_.knn_dists, None), **FAST).fit(X)
    assert np.array_equal(first.embedding_, again.embedding_)


@pytest.mark.parametrize(
    "out", ["manhattan", "chebyshev", "minkowski", "cosine", "correlation", "haversine", "hyperboloid"]
)
def test_output_metrics(iris, out):
    X, _ = iris
    emb = UMAP(output_metric=out, n_components=2 if out in ("haversine", "hyperboloid") else 3, **FAST).fit_transform(X)
    assert np.isfinite(emb).all()


def test_n_components_and_inits(digits):
    X, _ = digits
    for init in ("spectral", "pca", "random", np.random.default_rng(0).normal(size=(len(X), 3))):
        emb = UMAP(n_components=3, init=init, **FAST).fit_transform(X)
        assert emb.shape == (len(X), 3)
        assert trustworthiness(X, emb, k=15) > 0.95


def test_unique_embeds_duplicates_together(iris):
    X, _ = iris
    X = np.vstack([X, X[:20]])
    emb = UMAP(unique=True, **FAST).fit_transform(X)
    assert emb.shape == (len(X), 2)
    assert np.array_equal(emb[-20:], emb[:20])


def test_continuous_target(iris):
    X, _ = iris
    target = X[:, 2].astype(np.float64)
    plain = UMAP(**FAST).fit_transform(X)
    sup = UMAP(target_metric="euclidean", target_weight=0.9, **FAST).fit_transform(X, target)

    def agreement(emb):
        """Mean gap between a point's target and its 10 embedding neighbours' mean target."""
        nb = np.argsort(((emb[:, None] - emb[None]) ** 2).sum(-1), axis=1)[:, 1:11]
        return np.abs(target - target[nb].mean(axis=1)).mean()

    assert agreement(sup) < agreement(plain)


def test_verbose_logs_stages_and_shows_progress(iris, capsys):
    X, _ = iris
    UMAP(verbose=True, **FAST).fit(X)
    err = capsys.readouterr().err
    for stage in (
        "nearest neighbours done in",
        "fuzzy simplicial set done in",
        "initialisation done in",
        "optimisation (50 epochs",
    ):
        assert stage in err
    assert "kNN: 100%" in err and f"{len(X)}/{len(X)}" in err and "layout: 100%" in err and "50/50" in err
    assert not logging.getLogger("umapx").handlers
    UMAP(verbose=True, tqdm_kwds={"disable": True}, **FAST).fit(X)
    quiet = capsys.readouterr().err
    assert "optimisation (50 epochs" in quiet and "layout:" not in quiet


def test_generic_output_path_agrees_with_euclidean(iris):
    """minkowski with p=2 goes through the generic gradient path; it must follow the euclidean one."""
    X, _ = iris
    euclid = UMAP(**FAST).fit_transform(X)
    generic = UMAP(output_metric="minkowski", output_metric_kwds={"p": 2}, **FAST).fit_transform(X)
    assert np.abs(euclid - generic).max() < 0.05 * np.ptp(euclid)


def test_unique_on_sparse_input_warns(iris):
    X, _ = iris
    with pytest.warns(UserWarning, match="unique=True applies to dense feature input only"):
        emb = UMAP(unique=True, **FAST).fit_transform(sp.csr_matrix(X))
    assert emb.shape == (len(X), 2)
