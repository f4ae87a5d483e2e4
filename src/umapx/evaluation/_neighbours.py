"""Chunked query-to-all distance scans, embedding neighbours and paired distances."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from sklearn.metrics import pairwise_distances
from sklearn.utils import check_random_state

from .._validation import check_data, check_embedding, check_int, check_same_length
from ._kernels import _count_less_equal, _smallest_k

_CHUNK_BYTES = 64 * 2**20  # memory budget of one block of query-to-all distances
_TREE_MAX_DIM = 16  # embeddings up to this many dimensions use a k-d tree for neighbours
_PAIR_CHUNK = 8192  # pairs per block in paired distance computations


def _check_pair(X, Y, metric):
    """Validated data, embedding and metric, with matching sample counts."""
    X, metric = check_data(X, metric)
    Y = check_embedding(Y)
    check_same_length(X.shape[0], Y.shape[0])
    return X, Y, metric


def _query_indices(n, sample_size, random_state):
    """All points, or a sorted seeded subsample of ``sample_size`` of them."""
    if sample_size is None:
        return np.arange(n)
    sample_size = check_int(sample_size, "sample_size", 1)
    if n <= sample_size:
        return np.arange(n)
    rng = check_random_state(random_state)
    return np.sort(rng.choice(n, sample_size, replace=False))


class _Rows:
    """Distances (or an order-preserving surrogate) from query points to every point.

    For dense euclidean data a row is ``|x_l|^2 - 2 <q, x_l>``: the squared distance minus a
    per-row constant, so it orders the points exactly as the distance does.
    """

    def __init__(self, A, metric):
        self.A = A
        self.metric = metric
        self.n = A.shape[0]
        self.dense_euclidean = metric == "euclidean" and not sp.issparse(A)
        if self.dense_euclidean:
            sq = np.einsum("ij,ij->i", A, A, dtype=np.float64)
            self.sqnorms = sq.astype(A.dtype)

    def chunk_rows(self):
        return max(1, _CHUNK_BYTES // (8 * self.n))

    def block(self, rows):
        A = self.A
        if self.metric == "precomputed":
            D = np.array(A[rows], dtype=np.float64, order="C")
        elif self.dense_euclidean:
            D = (-2 * A[rows]) @ A.T  # scaling by -2 is exact, and cheaper on the query side
            D += self.sqnorms[None, :]
        else:
            D = pairwise_distances(A[rows], A, metric=self.metric)
        D = np.ascontiguousarray(D)
        if D.dtype not in (np.float32, np.float64):
            D = D.astype(np.float64)
        D[np.arange(len(rows)), rows] = np.inf  # a point is never its own neighbour
        return D


def _scan(A, metric, idx, *, thr_cols=None, topk=0):
    """One pass over query-to-all distances.

    Returns ``(ranks, nn)``: ``ranks[r, j]`` is the rank of point ``thr_cols[r, j]`` among the
    neighbours of ``idx[r]`` (1 = nearest; ties share the mean rank of their group), and
    ``nn[r]`` the ``topk`` nearest neighbours of ``idx[r]`` (self excluded), nearest first.
    """
    m = len(idx)
    rows = _Rows(A, metric)
    ranks = None if thr_cols is None else np.empty(thr_cols.shape, dtype=np.float64)
    nn = np.empty((m, topk), dtype=np.int64) if topk else None
    step = rows.chunk_rows()
    for s in range(0, m, step):
        e = min(s + step, m)
        D = rows.block(idx[s:e])
        if thr_cols is not None:
            thr = np.ascontiguousarray(np.take_along_axis(D, thr_cols[s:e], axis=1))
            less, equal = _count_less_equal(D, thr)
            ranks[s:e] = 1.0 + less + (equal - 1) / 2.0  # equal counts the point itself
        if topk:
            nn[s:e] = _smallest_k(D, topk)
    return ranks, nn


def _drop_self(ind, idx):
    """Remove each query's own index from a (m, K+1) neighbour array (or its last column)."""
    m, width = ind.shape
    is_self = ind == idx[:, None]
    missing = ~is_self.any(axis=1)  # duplicates crowded the point out: drop the farthest
    is_self[missing, width - 1] = True
    return ind[~is_self].reshape(m, width - 1)


class _EmbeddingNeighbours:
    """k nearest embedding neighbours of query points, self excluded, nearest first."""

    def __init__(self, Y):
        self.Y = Y
        self.tree = cKDTree(Y) if Y.shape[1] <= _TREE_MAX_DIM else None

    def query(self, idx, K):
        if self.tree is None:
            return _scan(self.Y, "euclidean", idx, topk=K)[1]
        _, ind = self.tree.query(self.Y[idx], k=K + 1)
        return _drop_self(ind.astype(np.int64), idx)


def _membership(a, b, n):
    """``out[r, j]``: whether ``a[r, j]`` occurs in row r of ``b``."""
    rows = np.arange(a.shape[0], dtype=np.int64)[:, None] * n
    return np.isin(a + rows, b + rows)


def _paired_distances(A, i, j, metric):
    """d(A[i[p]], A[j[p]]) for each pair p, computed in blocks."""
    out = np.empty(len(i), dtype=np.float64)
    if metric == "precomputed":
        out[:] = A[i, j]
        return out
    sparse = sp.issparse(A)
    step = _PAIR_CHUNK if metric == "euclidean" else 256
    for s in range(0, len(i), step):
        a, b = i[s : s + step], j[s : s + step]
        if metric == "euclidean":
            if sparse:
                diff = A[a] - A[b]
                sq = np.asarray(diff.multiply(diff).sum(axis=1)).ravel()
            else:
                diff = A[a].astype(np.float64) - A[b]
                sq = np.einsum("ij,ij->i", diff, diff)
            out[s : s + step] = np.sqrt(sq)
        else:
            out[s : s + step] = np.diagonal(pairwise_distances(A[a], A[b], metric=metric))
    return out
