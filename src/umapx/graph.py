"""The fuzzy simplicial set: local metric per point (rho, sigma), memberships, and set operations."""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

_SIGMA_TOL = 1e-5
_MIN_SIGMA_SCALE = 1e-3
_BISECTION_STEPS = 64


@numba.njit(parallel=True, cache=True)
def smooth_knn_dist(dists, k, local_connectivity=1.0, mean_all=-1.0):
    """rho_i and sigma_i such that sum_j exp(-(d_ij - rho_i) / sigma_i) = log2(k)  (002 eqs. 3-4).

    rho_i is the distance to the ``local_connectivity``-th nearest non-zero neighbour (interpolated
    when fractional); sigma_i is found by bisection and kept above 1e-3 of the mean distance of
    its row, or, where rho_i = 0, of ``mean_all`` (by default the mean of all finite ``dists``).
    The first column of ``dists`` (the point itself in a fit) is excluded from the sum, as in umap-learn.
    """
    n = dists.shape[0]
    target = np.log2(k)
    rho = np.zeros(n, dtype=np.float32)
    sigma = np.zeros(n, dtype=np.float32)
    if mean_all < 0.0:
        mean_all = mean_distance(dists)
    whole = int(np.floor(local_connectivity))
    frac = local_connectivity - whole
    for i in numba.prange(n):
        row = dists[i]
        nonzero = row[(row > 0.0) & np.isfinite(row)]
        if nonzero.shape[0] >= local_connectivity:
            if whole > 0:
                rho[i] = nonzero[whole - 1]
                if frac > _SIGMA_TOL:
                    rho[i] += frac * (nonzero[whole] - nonzero[whole - 1])
            else:
                rho[i] = frac * nonzero[0]
        elif nonzero.shape[0] > 0:
            rho[i] = np.max(nonzero)
        lo, hi, mid = 0.0, np.inf, 1.0
        for _ in range(_BISECTION_STEPS):
            total = 0.0
            for j in range(1, row.shape[0]):
                gap = row[j] - rho[i]
                total += np.exp(-(gap / mid)) if gap > 0.0 else 1.0
            if abs(total - target) < _SIGMA_TOL:
                break
            if total > target:
                hi = mid
                mid = (lo + hi) / 2.0
            else:
                lo = mid
                mid = mid * 2.0 if hi == np.inf else (lo + hi) / 2.0
        finite = row[np.isfinite(row)]
        floor = _MIN_SIGMA_SCALE * (np.mean(finite) if rho[i] > 0.0 and finite.shape[0] > 0 else mean_all)
        sigma[i] = max(mid, floor)
    return sigma, rho


@numba.njit(cache=True)
def mean_distance(dists):
    """Mean of the finite kNN distances (1 if there are none): the scale of sigma's floor."""
    flat = dists.ravel()
    finite = flat[np.isfinite(flat)]
    return np.mean(finite) if finite.shape[0] > 0 else 1.0


@numba.njit(parallel=True, cache=True)
def membership_strengths(knn_idx, knn_dist, sigma, rho, self_rows=True):
    """mu_{i|j} = exp(-(d_ij - rho_i) / sigma_i), 1 where d_ij <= rho_i (002 eq. 2).

    With ``self_rows`` (row i is training point i) the point itself gets 0.
    """
    n, k = knn_idx.shape
    vals = np.zeros((n, k), dtype=np.float32)
    for i in numba.prange(n):
        for j in range(k):
            nb = knn_idx[i, j]
            if nb < 0 or (self_rows and nb == i) or not np.isfinite(knn_dist[i, j]):
                continue
            gap = knn_dist[i, j] - rho[i]
            vals[i, j] = 1.0 if gap <= 0.0 or sigma[i] == 0.0 else np.exp(-gap / sigma[i])
    return vals


def fuzzy_simplicial_set(
    knn_idx, knn_dist, *, set_op_mix_ratio=1.0, local_connectivity=1.0, known=None, apply_set_operations=True
):
    """The symmetric fuzzy graph (CSR, float32) with its sigmas and rhos.

    Directed memberships P are combined as  mix (P + P^T - P*P^T) + (1 - mix) P*P^T  (002 eq. 5);
    without ``apply_set_operations``, P itself is returned.
    ``known`` = (sigma, rho, stale) of the first rows: those not ``stale`` keep their sigma and rho,
    as progressive UMAP computes them only for new and updated points (002 Alg. 3, line 10).
    """
    n, k = knn_idx.shape
    dists = knn_dist.astype(np.float32)
    if known is None:
        sigma, rho = smooth_knn_dist(dists, k, float(local_connectivity))
    else:
        sigma, rho = _local_scales(dists, k, float(local_connectivity), *known)
    vals = membership_strengths(knn_idx, knn_dist, sigma, rho)
    rows = np.repeat(np.arange(n), k)
    keep = (knn_idx.ravel() >= 0) & (vals.ravel() > 0)
    P = sp.csr_matrix((vals.ravel()[keep], (rows[keep], knn_idx.ravel()[keep])), shape=(n, n))
    graph = _symmetrize(P, set_op_mix_ratio) if apply_set_operations else sp.csr_matrix(P, dtype=np.float32)
    return graph, sigma, rho


def _local_scales(dists, k, local_connectivity, sigma, rho, stale):
    """sigma and rho of every row, recomputed only for the rows past ``sigma`` and those ``stale``.

    A row with rho = 0 is stale too: its sigma's floor is the mean of all distances, which moves.
    """
    redo = np.ones(dists.shape[0], dtype=np.bool_)
    redo[: sigma.shape[0]] = stale | (rho == 0.0)
    sigma, rho = np.resize(sigma, redo.shape[0]), np.resize(rho, redo.shape[0])
    sigma[redo], rho[redo] = smooth_knn_dist(dists[redo], k, local_connectivity, mean_distance(dists))
    return sigma, rho


def new_point_memberships(knn_idx, knn_dist, n_train, *, local_connectivity=1.0, mean_all=1.0):
    """Memberships of new points (rows) to their training neighbours (columns) as a CSR matrix.

    As in umap-learn's transform, the local connectivity is lowered by one, so no neighbour is
    certain. ``mean_all`` is the training set's mean kNN distance, so that every row depends on its
    own neighbours alone.
    """
    m, k = knn_idx.shape
    sigma, rho = smooth_knn_dist(knn_dist.astype(np.float32), k, max(0.0, local_connectivity - 1.0), mean_all)
    vals = membership_strengths(knn_idx, knn_dist, sigma, rho, False)
    rows = np.repeat(np.arange(m), k)
    keep = (knn_idx.ravel() >= 0) & (vals.ravel() > 0)
    graph = sp.csr_matrix((vals.ravel()[keep], (rows[keep], knn_idx.ravel()[keep])), shape=(m, n_train))
    graph.sort_indices()
    return graph


def _symmetrize(P, mix=1.0):
    Pt = P.T.tocsr()
    both = P.multiply(Pt)
    graph = mix * (P + Pt - both) + (1.0 - mix) * both
    graph = sp.csr_matrix(graph, dtype=np.float32)
    graph.eliminate_zeros()
    graph.sort_indices()
    return graph


def knn_distance_graph(knn_idx, knn_dist):
    """Symmetric sparse matrix of the kNN distances (umap-learn's ``graph_dists_``)."""
    n, k = knn_idx.shape
    rows = np.repeat(np.arange(n), k)
    keep = (knn_idx.ravel() >= 0) & (knn_idx.ravel() != rows) & np.isfinite(knn_dist.ravel())
    D = sp.csr_matrix((knn_dist.ravel()[keep], (rows[keep], knn_idx.ravel()[keep])), shape=(n, n))
    return D.maximum(D.T).tocsr()


def categorical_intersection(graph, y, *, unknown_dist=1.0, far_dist=5.0):
    """Scale edges by exp(-far_dist) between different labels and exp(-unknown_dist) to unlabelled
    points (-1), then restore local connectivity (002, supervised UMAP)."""

    def distance(yi, yj):
        return np.where((yi == -1) | (yj == -1), unknown_dist, np.where(yi != yj, far_dist, 0.0))

    return target_intersection(graph, y, distance)


def target_intersection(graph, y, distance, scale=1.0):
    """Scale each edge (i, j) by exp(-scale distance(y_i, y_j)), ``distance`` taking arrays of the
    edges' end values, then restore local connectivity (umap-learn's discrete target metrics)."""
    coo = graph.tocoo()
    factor = np.exp(-scale * distance(y[coo.row], y[coo.col]))
    scaled = sp.csr_matrix((coo.data * factor, (coo.row, coo.col)), shape=graph.shape)
    return reset_local_connectivity(scaled)


def general_intersection(left, right, weight):
    """Weighted fuzzy intersection of two graphs on the same points (target graph weighted by ``weight``).

    Absent entries count as half the smallest membership of their graph; an edge survives when either
    side has it.
    """
    union = (left + right).tocoo()
    lv = np.asarray(left[union.row, union.col]).ravel()
    rv = np.asarray(right[union.row, union.col]).ravel()
    lmin, rmin = left.data.min() / 2.0, right.data.min() / 2.0
    lv, rv = np.where(lv > 0, lv, lmin), np.where(rv > 0, rv, rmin)
    if weight < 0.5:
        vals = lv * rv ** (weight / (1.0 - weight))
    else:
        vals = lv ** ((1.0 - weight) / weight) * rv
    vals[(lv <= lmin) & (rv <= rmin)] = 0.0
    return sp.csr_matrix((vals, (union.row, union.col)), shape=left.shape)


def combine(left, right, op):
    """Fuzzy set operation on two graphs of the same points: ``union`` a + b - ab, ``intersection``
    (``general_intersection`` at weight 1/2), or ``difference`` a (1 - b); the last two then get
    their local connectivity restored."""
    if op == "union":
        return sp.csr_matrix(left + right - left.multiply(right), dtype=np.float32)
    if op == "intersection":
        return reset_local_connectivity(general_intersection(left, right, 0.5))
    return reset_local_connectivity(left - left.multiply(right))


def reset_local_connectivity(graph):
    """Rescale each row so its strongest edge is 1, then take the fuzzy union again."""
    graph = sp.csr_matrix(graph, dtype=np.float64)
    row_max = graph.max(axis=1).toarray().ravel()
    scale = np.divide(1.0, row_max, out=np.zeros_like(row_max), where=row_max > 0)
    return _symmetrize(sp.diags(scale) @ graph)
