"""Nearest-neighbour backends: exact search is exact, the approximate index keeps recall >= 0.95."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from umapx.metrics import resolve_metric
from umapx.neighbors import nearest_neighbors


def _exact(X, k, metric="euclidean"):
    D = cdist(X, X, metric=metric)
    np.fill_diagonal(D, -1)
    return np.argsort(D, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "correlation", "manhattan", "canberra"])
def test_exact_paths_match_scipy(metric):
    X = np.random.default_rng(0).normal(size=(400, 12)).astype(np.float32)
    scipy_name = {"manhattan": "cityblock"}.get(metric, metric)
    idx, dist = nearest_neighbors(X, 10, resolve_metric(metric, None, 12))[:2]
    assert np.array_equal(idx, _exact(X.astype(np.float64), 10, scipy_name))
    ref = np.take_along_axis(cdist(X, X, metric=scipy_name), idx.astype(np.int64), axis=1)
    assert np.allclose(dist, ref, atol=1e-5)


def test_sparse_exact_matches_dense():
    X = sp.random(300, 50, density=0.2, random_state=1, format="csr", dtype=np.float32)
    m = resolve_metric("cosine", None, 50)
    dense = nearest_neighbors(X.toarray(), 8, m)[:2]
    sparse = nearest_neighbors(X, 8, m)[:2]
    assert np.array_equal(dense[0], sparse[0]) and np.allclose(dense[1], sparse[1], atol=1e-5)


def test_duplicates_keep_self_first():
    X = np.repeat(np.arange(5.0)[:, None], 4, axis=0)
    idx, dist = nearest_neighbors(X, 3, resolve_metric("euclidean", None, 1))[:2]
    assert (idx[:, 0] == np.arange(len(X))).all() and (dist[:, :3] == 0).all()


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_approximate_recall_on_real_data(real_data, metric):
    X, _ = real_data("mnist_test")
    X = X[:5000]
    m = resolve_metric(metric, None, X.shape[1])
    exact, _ = nearest_neighbors(X, 15, m)[:2]
    approx, _ = nearest_neighbors(X, 15, m, approximate=True, seed=0, deterministic=True, n_jobs=2)[:2]
    recall = np.mean([len(np.intersect1d(a, e)) / 15 for a, e in zip(approx, exact)])
    assert recall >= 0.95


def test_approximate_other_metric_uses_nndescent(digits):
    X, _ = digits
    m = resolve_metric("manhattan", None, X.shape[1])
    exact, _ = nearest_neighbors(X, 10, m)[:2]
    approx, _ = nearest_neighbors(X, 10, m, approximate=True, seed=0, deterministic=True)[:2]
    recall = np.mean([len(np.intersect1d(a, e)) / 10 for a, e in zip(approx, exact)])
    assert recall >= 0.95
