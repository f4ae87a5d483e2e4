"""Invariants of the fuzzy simplicial set (002 eqs. 2-5) and the supervised intersections."""

import numpy as np
import pytest

from umapx import graph as fuzzy
from umapx.metrics import resolve_metric
from umapx.neighbors import nearest_neighbors


@pytest.fixture(scope="module")
def knn(digits):
    X, _ = digits
    return nearest_neighbors(X, 15, resolve_metric("euclidean", None, X.shape[1]))[:2]


def test_row_sums_equal_log2_k(knn):
    idx, dist = knn
    sigma, rho = fuzzy.smooth_knn_dist(dist, 15, 1.0)
    gaps = np.maximum(dist[:, 1:] - rho[:, None], 0.0)
    sums = np.exp(-gaps / sigma[:, None]).sum(axis=1)
    assert np.allclose(sums, np.log2(15), atol=1e-3)
    assert np.allclose(rho, dist[:, 1])


def test_graph_symmetric_with_weights_in_unit_interval(knn):
    idx, dist = knn
    graph, _, _ = fuzzy.fuzzy_simplicial_set(idx, dist)
    assert abs(graph - graph.T).max() < 1e-6
    assert graph.data.min() > 0 and graph.data.max() <= 1.0
    assert graph.diagonal().max() == 0
    # every point's nearest neighbour is a full member (d = rho)
    assert np.allclose(graph[np.arange(len(idx)), idx[:, 1]].A1, 1.0)


def test_set_op_mix_ratio_spans_intersection_to_union(knn):
    idx, dist = knn
    union, _, _ = fuzzy.fuzzy_simplicial_set(idx, dist, set_op_mix_ratio=1.0)
    inter, _, _ = fuzzy.fuzzy_simplicial_set(idx, dist, set_op_mix_ratio=0.0)
    assert inter.nnz < union.nnz
    assert (union - inter).min() >= -1e-7


def test_local_connectivity_two_makes_two_full_members(knn):
    idx, dist = knn
    sigma, rho = fuzzy.smooth_knn_dist(dist, 15, 2.0)
    assert np.allclose(rho, dist[:, 2])


def test_categorical_intersection_weakens_cross_label_edges(knn, digits):
    idx, dist = knn
    _, y = digits
    graph, _, _ = fuzzy.fuzzy_simplicial_set(idx, dist)
    sup = fuzzy.categorical_intersection(graph, y, far_dist=5.0)
    coo = sup.tocoo()
    same = y[coo.row] == y[coo.col]
    assert coo.data[same].mean() > 10 * coo.data[~same].mean()
    assert abs(sup - sup.T).max() < 1e-6 and sup.data.max() <= 1.0 + 1e-6


def test_general_intersection_weight_extremes(knn):
    idx, dist = knn
    left, _, _ = fuzzy.fuzzy_simplicial_set(idx, dist)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(idx))
    right, _, _ = fuzzy.fuzzy_simplicial_set(perm[idx], dist)
    mostly_left = fuzzy.general_intersection(left, right, 0.01)
    mostly_right = fuzzy.general_intersection(left, right, 0.99)
    corr_left = np.corrcoef(mostly_left[left.nonzero()].A1, left.data)[0, 1]
    corr_right = np.corrcoef(mostly_right[right.nonzero()].A1, right.data)[0, 1]
    assert corr_left > 0.9 and corr_right > 0.9


def test_missing_neighbours_keep_sigma_finite():
    """Removed edges (index -1, distance inf) must not poison the bandwidths of other points."""
    dist = np.array([[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, np.inf, np.inf], [0.0, 0.5, 1.0, 2.0]], dtype=np.float32)
    sigma, rho = fuzzy.smooth_knn_dist(dist, 4, 1.0)
    assert np.all(np.isfinite(sigma)) and np.all(sigma > 0)
    assert rho.tolist() == [1.0, 0.0, 0.5]
