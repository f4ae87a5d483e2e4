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
    recall = np.mean([len(np.intersect1d(a, e)) / 15 for a, e in zip(approx, exact, strict=True)])
    assert recall >= 0.95


def test_approximate_other_metric_uses_nndescent(digits):
    X, _ = digits
    m = resolve_metric("manhattan", None, X.shape[1])
    exact, _ = nearest_neighbors(X, 10, m)[:2]
    approx, _ = nearest_neighbors(X, 10, m, approximate=True, seed=0, deterministic=True)[:2]
    recall = np.mean([len(np.intersect1d(a, e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall >= 0.95


@pytest.mark.parametrize(
    "kind, approximate, metric, sparse",
    [
        ("exact", False, "euclidean", False),
        ("exact", False, "manhattan", False),
        ("hnsw", True, "cosine", False),
        ("nndescent", True, "manhattan", False),
        ("nndescent", False, "manhattan", True),
    ],
)
def test_index_objects_choose_build_query_add_and_round_trip(digits, kind, approximate, metric, sparse):
    """One chooser picks the backend; an index answers queries as it did after to_bytes / from_bytes,
    and grows with add."""
    from umapx.neighbors import choose_index

    X = digits[0][:600]
    X = sp.csr_matrix(X) if sparse else X
    m = resolve_metric(metric, None, X.shape[1])
    assert choose_index(X[:500], m, approximate).kind == kind
    idx, dist, index = nearest_neighbors(X[:500], 10, m, approximate=approximate, seed=0, deterministic=True)
    assert (idx[:, 0] == np.arange(500)).all() and index.n == 500
    again = type(index).from_bytes(index.to_bytes())
    first = index.query(X[500:], 10, m, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(first, again.query(X[500:], 10, m, seed=0), strict=True))
    index.add(X[500:], m)
    assert index.n == 600
    found, found_dist = index.query(X[500:510], 3, m, seed=0)
    assert (found[:, 0] == np.arange(500, 510)).all() and np.allclose(found_dist[:, 0], 0.0, atol=1e-3)


def test_precomputed_index_keeps_only_its_size(digits):
    from umapx.neighbors import PrecomputedIndex

    X = digits[0][:100]
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(axis=2))
    m = resolve_metric("precomputed", None, 100)
    idx, _, index = nearest_neighbors(D, 5, m)
    assert isinstance(index, PrecomputedIndex) and index.data is None
    assert PrecomputedIndex.from_bytes(index.to_bytes()).n == 100
    assert np.array_equal(index.query(D[:7], 5, m)[0], idx[:7])
    with pytest.raises(ValueError, match="cannot grow"):
        index.add(D[:2], m)
