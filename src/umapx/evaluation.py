"""Measures of embedding quality.

Every function here is a plain function that takes the high-dimensional data ``X``, the
embedding ``Y`` and, where relevant, class labels ``y``, and returns a number (or, for
:func:`rnx_curve`, an array; for :func:`evaluate`, a dict).

Conventions shared by the functions
-----------------------------------
``X``
    Dense array or scipy.sparse matrix of shape (n_samples, n_features), compared with
    ``metric`` (``"euclidean"`` by default, any metric of
    :func:`sklearn.metrics.pairwise_distances`, or ``"precomputed"`` for a dense square
    distance matrix). float32 and 8-bit integer data are computed in float32 for speed;
    anything else in float64.
``Y``
    Dense embedding of shape (n_samples, n_components), always compared with the euclidean
    distance. A 1-D array is read as a one-dimensional embedding.
``y``
    Class labels of length n_samples. Numeric labels equal to ``-1`` (and NaN) mark
    unlabelled points, which the label-based measures leave out.
``knn_X``
    Optional precomputed nearest neighbours in data space: an integer array of shape
    (n_samples, >= k) whose row i lists i's neighbours, nearest first, **self excluded**.
    An array whose first column is exactly ``arange(n_samples)`` (the usual output of a kNN
    search that includes each point itself) is accepted too: that column is dropped.
``sample_size`` / ``random_state``
    Neighbourhood measures cost O(n) per query point. When n_samples > ``sample_size`` they
    are evaluated on ``sample_size`` query points drawn without replacement (seeded by
    ``random_state``) while ranks and neighbours are still taken among all n points; with
    ``sample_size=None`` or n_samples <= ``sample_size`` the result is exact.

No n x n matrix is ever formed: distances from a block of query points to all points are
computed in bounded chunks (BLAS for the euclidean metric) and reduced on the fly.
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from numba import njit, prange
from scipy.spatial import cKDTree
from scipy.stats import spearmanr
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    normalized_mutual_info_score,
    pairwise_distances,
    silhouette_score,
)
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils import check_array, check_random_state
from threadpoolctl import threadpool_limits

__all__ = [
    "trustworthiness",
    "continuity",
    "knn_accuracy",
    "silhouette",
    "kmeans_nmi",
    "kmeans_ari",
    "distance_spearman",
    "rnx_curve",
    "rnx_auc",
    "local_radius_correlation",
    "reconstruction_mse",
    "evaluate",
]

_CHUNK_BYTES = 64 * 2**20  # memory budget of one block of query-to-all distances
_TREE_MAX_DIM = 16  # embeddings up to this many dimensions use a k-d tree for neighbours
_PAIR_CHUNK = 8192  # pairs per block in paired distance computations
_EUCLIDEAN = ("euclidean", "l2")


# ----------------------------------------------------------------------------------------
# numba kernels
# ----------------------------------------------------------------------------------------


@njit(parallel=True, cache=True, nogil=True)
def _count_less_equal(D, thr):
    """For each row r and threshold thr[r, j]: how many D[r, :] are < and == the threshold."""
    c, n = D.shape
    k = thr.shape[1]
    less = np.zeros((c, k), dtype=np.int64)
    equal = np.zeros((c, k), dtype=np.int64)
    for r in prange(c):
        for j in range(k):
            t = thr[r, j]
            nl = 0
            ne = 0
            for col in range(n):
                v = D[r, col]
                if v < t:
                    nl += 1
                if v == t:
                    ne += 1
            less[r, j] = nl
            equal[r, j] = ne
    return less, equal


@njit(cache=True, inline="always")
def _after(va, ia, vb, ib):
    """(va, ia) sorts after (vb, ib): by value, then by index."""
    return va > vb or (va == vb and ia > ib)


@njit(cache=True)
def _sift_down(hv, hi, start, size):
    s = start
    while True:
        left = 2 * s + 1
        if left >= size:
            return
        big = left
        right = left + 1
        if right < size and _after(hv[right], hi[right], hv[left], hi[left]):
            big = right
        if _after(hv[big], hi[big], hv[s], hi[s]):
            hv[s], hv[big] = hv[big], hv[s]
            hi[s], hi[big] = hi[big], hi[s]
            s = big
        else:
            return


@njit(parallel=True, cache=True, nogil=True)
def _smallest_k(D, K):
    """Column indices of the K smallest entries of each row, ascending (ties: lower index first)."""
    c, n = D.shape
    out = np.empty((c, K), dtype=np.int64)
    for r in prange(c):
        hv = np.empty(K, dtype=D.dtype)
        hi = np.empty(K, dtype=np.int64)
        for col in range(K):
            hv[col] = D[r, col]
            hi[col] = col
        for s in range(K // 2 - 1, -1, -1):
            _sift_down(hv, hi, s, K)
        for col in range(K, n):
            v = D[r, col]
            if v < hv[0]:  # later columns have larger indices, so ties never displace
                hv[0] = v
                hi[0] = col
                _sift_down(hv, hi, 0, K)
        for end in range(K - 1, 0, -1):  # heap sort: pop the largest to the back
            hv[0], hv[end] = hv[end], hv[0]
            hi[0], hi[end] = hi[end], hi[0]
            _sift_down(hv, hi, 0, end)
        for j in range(K):
            out[r, j] = hi[j]
    return out


# ----------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------


def _check_int(value, name, low, high=None, high_text=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int, got {value!r}.")
    value = int(value)
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}.")
    if high is not None and value > high:
        raise ValueError(f"{name}={value} is too large: {high_text or f'it must be <= {high}'}.")
    return value


def _check_metric(metric):
    if not (isinstance(metric, str) or callable(metric)):
        raise ValueError(f"metric must be a string or a callable, got {metric!r}.")
    return "euclidean" if metric in _EUCLIDEAN else metric


def _check_data(X, metric, name="X"):
    """Validate the data-space input; returns a float32/float64 array or CSR matrix."""
    metric = _check_metric(metric)
    if X is None:
        raise ValueError(f"{name} is required.")
    if sp.issparse(X):
        if metric == "precomputed":
            raise ValueError(
                f"metric='precomputed' needs a dense square distance matrix; {name} is sparse."
            )
        X = check_array(
            X, accept_sparse="csr", dtype=[np.float64, np.float32], input_name=name
        )
    else:
        X = np.asarray(X)
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        if X.dtype in (np.uint8, np.int8):  # 8-bit images: float32 is plenty and twice as fast
            X = X.astype(np.float32)
        X = check_array(X, dtype=[np.float64, np.float32], order="C", input_name=name)
    if metric == "precomputed":
        if X.shape[0] != X.shape[1]:
            raise ValueError(
                f"metric='precomputed' needs a square distance matrix; {name} has shape {X.shape}."
            )
        if np.any(X < 0):
            raise ValueError(f"the precomputed distances in {name} must be non-negative.")
    elif metric != "euclidean":
        try:
            pairwise_distances(X[:1], X[:2], metric=metric)
        except (ValueError, TypeError) as err:
            raise ValueError(f"unsupported metric {metric!r} for {name}: {err}") from err
    return X, metric


def _check_embedding(Y, name="Y"):
    if Y is None:
        raise ValueError(f"{name} is required.")
    if sp.issparse(Y):
        Y = Y.toarray()
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    return check_array(Y, dtype=np.float64, order="C", input_name=name)


def _check_same_length(a_len, b_len, a_name="X", b_name="Y"):
    if a_len != b_len:
        raise ValueError(
            f"{a_name} and {b_name} must have the same number of samples: "
            f"{a_name} has {a_len}, {b_name} has {b_len}."
        )


def _check_pair(X, Y, metric):
    X, metric = _check_data(X, metric)
    Y = _check_embedding(Y)
    _check_same_length(X.shape[0], Y.shape[0])
    return X, Y, metric


def _check_labels(y, n, name="y"):
    """Labels as a 1-D array of length n, and the mask of labelled points (not -1 / NaN)."""
    if y is None:
        raise ValueError(f"{name} (class labels) is required.")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {y.shape}.")
    _check_same_length(n, y.shape[0], "Y", name)
    if y.dtype.kind in "iu":
        mask = y != -1
    elif y.dtype.kind == "f":
        mask = (y != -1) & ~np.isnan(y)
    else:
        mask = np.ones(y.shape[0], dtype=bool)
    return y, mask


def _check_tc_k(k, n):
    """k for trustworthiness/continuity: 1 <= k < n/2 keeps the measure within [0, 1]."""
    k = _check_int(k, "k", 1)
    if k >= n / 2:
        raise ValueError(
            f"k={k} is too large for n_samples={n}: it must be smaller than "
            f"n_samples / 2 = {n / 2:g}."
        )
    return k


def _check_knn(knn_X, n, K):
    """Rows' first K neighbours (self excluded) as an (n, K) int64 array."""
    knn = np.asarray(knn_X)
    if knn.ndim != 2:
        raise ValueError(f"knn_X must be 2-D (n_samples, n_neighbors), got shape {knn.shape}.")
    if knn.dtype.kind not in "iu":
        raise ValueError(f"knn_X must hold integer indices, got dtype {knn.dtype}.")
    _check_same_length(n, knn.shape[0], "X", "knn_X")
    if knn.shape[1] > 0 and np.array_equal(knn[:, 0], np.arange(n)):
        knn = knn[:, 1:]  # the search included each point itself: drop that column
    if knn.shape[1] < K:
        raise ValueError(
            f"knn_X has {knn.shape[1]} neighbours per row (self excluded) but {K} are needed."
        )
    knn = knn[:, :K].astype(np.int64)
    if knn.size and (knn.min() < 0 or knn.max() >= n):
        raise ValueError(
            f"knn_X must hold indices in [0, {n}); got values from {knn.min()} to {knn.max()}."
        )
    if np.any(knn == np.arange(n)[:, None]):
        raise ValueError("knn_X rows must exclude the point itself (row i contains i).")
    return knn


def _query_indices(n, sample_size, random_state):
    """All points, or a sorted seeded subsample of ``sample_size`` of them."""
    if sample_size is None:
        return np.arange(n)
    sample_size = _check_int(sample_size, "sample_size", 1)
    if n <= sample_size:
        return np.arange(n)
    rng = check_random_state(random_state)
    return np.sort(rng.choice(n, sample_size, replace=False))


# ----------------------------------------------------------------------------------------
# distance machinery
# ----------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------
# trustworthiness and continuity
# ----------------------------------------------------------------------------------------


def _penalty(ranks, k):
    return float(np.maximum(ranks - k, 0.0).sum())


def _tc_value(total, m, n, k):
    return 1.0 - 2.0 * total / (m * k * (2.0 * n - 3.0 * k - 1.0))


def _intruder_ranks(A, metric, idx, cand, k, known=None):
    """Sum of max(0, rank - k) over candidates ``cand`` ranked in space ``A``.

    Rows whose candidates all lie in ``known`` (the k nearest in ``A``) contribute nothing and
    are skipped.
    """
    if known is not None:
        need = ~_membership(cand, known, A.shape[0]).all(axis=1)
        idx, cand = idx[need], cand[need]
    if len(idx) == 0:
        return 0.0
    ranks, _ = _scan(A, metric, idx, thr_cols=cand)
    return _penalty(ranks, k)


_TC_DOC_PARAMS = """
    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data (or a square distance matrix when ``metric="precomputed"``).
    Y : array-like of shape (n_samples, n_components)
        Embedding of ``X``; compared with the euclidean distance.
    k : int, default=15
        Neighbourhood size; ``1 <= k < n_samples / 2``.
    metric : str or callable, default="euclidean"
        Data-space metric (any metric of :func:`sklearn.metrics.pairwise_distances`, or
        ``"precomputed"``).
    sample_size : int or None, default=20000
        When ``n_samples > sample_size``, evaluate on this many seeded random query points;
        the normaliser then uses the number of query points m in place of the leading n:
        ``1 - 2 / (m k (2n - 3k - 1)) * sum``. ``None`` always uses every point (exact).
    random_state : int, RandomState instance or None, default=0
        Seed of the query subsample.
    knn_X : array-like of int, shape (n_samples, >= k), optional
        Precomputed data-space neighbours, row i listing i's neighbours nearest first, self
        excluded (a leading self column is detected and dropped)."""


def trustworthiness(
    X, Y, k=15, *, metric="euclidean", sample_size=20000, random_state=0, knn_X=None
):
    r"""Trustworthiness of an embedding (Venna & Kaski, 2001).

    .. math::

        T(k) = 1 - \frac{2}{n k (2n - 3k - 1)} \sum_{i=1}^{n}
               \sum_{j \in U_k(i)} (r(i, j) - k)

    where :math:`U_k(i)` are the points among i's k nearest neighbours in the embedding but
    not in the data, and :math:`r(i, j)` is the rank of j among i's neighbours in the data
    (1 = nearest). 1 means no embedding neighbour is a stranger in the data; a random
    embedding scores about 0.5.
    {params}

    Returns
    -------
    float

    Notes
    -----
    Data-space distances from each query point to all points are computed in chunks and
    only the ranks of its k embedding neighbours are extracted, by counting the points that
    are strictly closer: O(n) memory and O(m n d) time, no n x n matrix. Tied distances get
    the mean rank of the tied group; :func:`sklearn.manifold.trustworthiness` breaks ties by
    argsort order, so the two agree exactly (to rounding) on data without tied distances.
    With ``knn_X``, query points whose embedding neighbours all lie in their data kNN
    contribute zero and are skipped (a speed-up that trusts ``knn_X`` to be exact).
    """
    X, Y, metric = _check_pair(X, Y, metric)
    n = X.shape[0]
    k = _check_tc_k(k, n)
    known = None if knn_X is None else _check_knn(knn_X, n, k)
    idx = _query_indices(n, sample_size, random_state)
    emb_nn = _EmbeddingNeighbours(Y).query(idx, k)
    if known is not None:
        known = known[idx]
    total = _intruder_ranks(X, metric, idx, emb_nn, k, known)
    return _tc_value(total, len(idx), n, k)


def continuity(X, Y, k=15, *, metric="euclidean", sample_size=20000, random_state=0, knn_X=None):
    r"""Continuity of an embedding (Venna & Kaski, 2001): trustworthiness with roles swapped.

    .. math::

        C(k) = 1 - \frac{2}{n k (2n - 3k - 1)} \sum_{i=1}^{n}
               \sum_{j \in V_k(i)} (\hat r(i, j) - k)

    where :math:`V_k(i)` are the points among i's k nearest neighbours in the data but not in
    the embedding, and :math:`\hat r(i, j)` is the rank of j among i's neighbours in the
    embedding. 1 means every data neighbour stays close in the embedding.
    {params}

    Returns
    -------
    float

    Notes
    -----
    Equals ``sklearn.manifold.trustworthiness(Y, X, n_neighbors=k)`` on euclidean data
    without ties. Data-space neighbours come from ``knn_X`` when given (then no data-space
    distances are computed at all), otherwise from a chunked exact search.
    """
    X, Y, metric = _check_pair(X, Y, metric)
    n = X.shape[0]
    k = _check_tc_k(k, n)
    knn = None if knn_X is None else _check_knn(knn_X, n, k)
    idx = _query_indices(n, sample_size, random_state)
    if knn is None:
        data_nn = _scan(X, metric, idx, topk=k)[1]
    else:
        data_nn = knn[idx]
    emb_nn = _EmbeddingNeighbours(Y).query(idx, k)
    total = _intruder_ranks(Y, "euclidean", idx, data_nn, k, emb_nn)
    return _tc_value(total, len(idx), n, k)


trustworthiness.__doc__ = trustworthiness.__doc__.replace("{params}", _TC_DOC_PARAMS)
continuity.__doc__ = continuity.__doc__.replace("{params}", _TC_DOC_PARAMS)


# ----------------------------------------------------------------------------------------
# R_NX curve
# ----------------------------------------------------------------------------------------


def _default_max_k(n, knn_X=None):
    """min(100, n - 2), and no more than the usable columns of ``knn_X``."""
    if n < 3:
        raise ValueError(f"R_NX needs at least 3 samples, got n_samples={n}.")
    max_k = min(100, n - 2)
    if knn_X is not None:
        knn = np.asarray(knn_X)
        if knn.ndim == 2 and knn.shape[0] == n:
            width = knn.shape[1]
            if width and np.array_equal(knn[:, 0], np.arange(n)):
                width -= 1
            max_k = min(max_k, width)
    return max(1, max_k)


def _check_max_k(max_k, n):
    if n < 3:
        raise ValueError(f"R_NX needs at least 3 samples, got n_samples={n}.")
    return _check_int(
        max_k, "max_k", 1, n - 2, f"it must be <= n_samples - 2 = {n - 2} (n_samples={n})"
    )


def _rnx_from_neighbours(data_nn, emb_nn, n):
    """R_NX(K), K = 1..K_max, from the ordered neighbour lists of the m query points."""
    m, K = data_nn.shape
    rows = np.arange(m, dtype=np.int64)[:, None] * n
    _, ia, ib = np.intersect1d(
        (data_nn + rows).ravel(), (emb_nn + rows).ravel(), assume_unique=True,
        return_indices=True,
    )
    # a shared neighbour is in both K-neighbourhoods once K reaches its worse position
    first_k = np.maximum(ia % K, ib % K) + 1
    overlap = np.cumsum(np.bincount(first_k, minlength=K + 1)[1:])
    ks = np.arange(1, K + 1, dtype=np.float64)
    q = overlap / (ks * m)
    return ((n - 1) * q - ks) / (n - 1 - ks)


def _auc_log(rnx):
    ks = np.arange(1, len(rnx) + 1, dtype=np.float64)
    return float(np.sum(rnx / ks) / np.sum(1.0 / ks))


def rnx_curve(
    X, Y, *, max_k=None, metric="euclidean", sample_size=20000, random_state=0, knn_X=None
):
    r"""Rescaled neighbourhood agreement :math:`R_{NX}(K)` for K = 1..max_k (Lee & Verleysen).

    .. math::

        Q_{NX}(K) = \frac{1}{K n} \sum_i |N_K(i) \cap M_K(i)|, \qquad
        R_{NX}(K) = \frac{(n - 1) Q_{NX}(K) - K}{n - 1 - K}

    with :math:`N_K(i)`, :math:`M_K(i)` the K nearest neighbours of i in the data and in the
    embedding. 1 is perfect agreement, 0 is what a random embedding gets on average.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data (or a square distance matrix when ``metric="precomputed"``).
    Y : array-like of shape (n_samples, n_components)
        Embedding; euclidean distance.
    max_k : int or None, default=None
        Largest K; at most n_samples - 2. ``None`` means ``min(100, n_samples - 2)`` (and no
        more than the columns of ``knn_X`` when it is given).
    metric : str or callable, default="euclidean"
        Data-space metric.
    sample_size : int or None, default=20000
        Query subsample size beyond which the sum over i runs over a seeded subsample (the
        1/n factor then becomes 1/m). ``None``: exact.
    random_state : int, RandomState instance or None, default=0
        Seed of the query subsample.
    knn_X : array-like of int, shape (n_samples, >= max_k), optional
        Precomputed data-space neighbours, nearest first, self excluded.

    Returns
    -------
    ndarray of shape (max_k,)
        ``R_NX(K)`` for K = 1, ..., max_k.

    Notes
    -----
    Only kNN sets are used (exact chunked search in data space, a k-d tree in low-dimensional
    embeddings), never full rank matrices. Ties among neighbour distances are broken by
    index in data space and by the tree's order in the embedding.
    """
    X, Y, metric = _check_pair(X, Y, metric)
    n = X.shape[0]
    if max_k is None:
        max_k = _default_max_k(n, knn_X)
    max_k = _check_max_k(max_k, n)
    idx = _query_indices(n, sample_size, random_state)
    if knn_X is not None:
        data_nn = _check_knn(knn_X, n, max_k)[idx]
    else:
        data_nn = _scan(X, metric, idx, topk=max_k)[1]
    emb_nn = _EmbeddingNeighbours(Y).query(idx, max_k)
    return _rnx_from_neighbours(data_nn, emb_nn, n)


def rnx_auc(
    X, Y, *, max_k=None, metric="euclidean", sample_size=20000, random_state=0, knn_X=None
):
    r"""Area under the :math:`R_{NX}` curve on a log scale of K.

    .. math::

        \mathrm{AUC} = \frac{\sum_{K} R_{NX}(K) / K}{\sum_{K} 1 / K}, \qquad K = 1..\mathrm{max\_k}

    The 1/K weights stress small neighbourhoods. Parameters as in :func:`rnx_curve`.

    Returns
    -------
    float
    """
    curve = rnx_curve(
        X, Y, max_k=max_k, metric=metric, sample_size=sample_size,
        random_state=random_state, knn_X=knn_X,
    )
    return _auc_log(curve)


# ----------------------------------------------------------------------------------------
# label-based measures
# ----------------------------------------------------------------------------------------


def _labelled(Y, y, name="Y"):
    Y = _check_embedding(Y, name)
    y, mask = _check_labels(y, Y.shape[0])
    Y, y = Y[mask], y[mask]
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(
            f"at least 2 classes are needed among the labelled points, got {len(classes)} "
            f"(labels -1 count as unlabelled)."
        )
    return Y, y, classes


def knn_accuracy(Y, y, k=10, *, cv=5, random_state=0):
    """Cross-validated accuracy of a k-NN classifier in the embedding.

    Parameters
    ----------
    Y : array-like of shape (n_samples, n_components)
        Embedding (any feature matrix works).
    y : array-like of shape (n_samples,)
        Class labels; ``-1`` marks unlabelled points, which are left out.
    k : int, default=10
        Neighbours of :class:`sklearn.neighbors.KNeighborsClassifier` (uniform weights).
    cv : int, default=5
        Folds of :class:`sklearn.model_selection.StratifiedKFold` (shuffled).
    random_state : int, RandomState instance or None, default=0
        Seed of the fold shuffle.

    Returns
    -------
    float
        Mean test accuracy over the folds.
    """
    Y, y, _ = _labelled(Y, y)
    k = _check_int(k, "k", 1)
    cv = _check_int(cv, "cv", 2, len(y), f"it must be <= the {len(y)} labelled samples")
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    scores = []
    for train, test in folds.split(Y, y):
        if k > len(train):
            raise ValueError(
                f"k={k} exceeds the {len(train)} training points of a fold; use a smaller k."
            )
        clf = KNeighborsClassifier(n_neighbors=k).fit(Y[train], y[train])
        scores.append(clf.score(Y[test], y[test]))
    return float(np.mean(scores))


def silhouette(Y, y, *, sample_size=None, random_state=0):
    """Mean silhouette coefficient of the classes in the embedding (euclidean).

    Wraps :func:`sklearn.metrics.silhouette_score` after removing unlabelled points (``-1``).

    Parameters
    ----------
    Y : array-like of shape (n_samples, n_components)
        Embedding.
    y : array-like of shape (n_samples,)
        Class labels; ``-1`` marks unlabelled points.
    sample_size : int or None, default=None
        Evaluate on a random subset of this many (labelled) points; ``None`` uses all
        (O(n^2) time).
    random_state : int, RandomState instance or None, default=0
        Seed of the subset.

    Returns
    -------
    float
    """
    Y, y, _ = _labelled(Y, y)
    if sample_size is not None:
        sample_size = _check_int(sample_size, "sample_size", 2)
        if sample_size >= len(y):
            sample_size = None
    return float(silhouette_score(Y, y, sample_size=sample_size, random_state=random_state))


def _kmeans(Y, y, random_state):
    Y, y, classes = _labelled(Y, y)
    km = KMeans(n_clusters=len(classes), n_init=10, random_state=random_state)
    # One OpenMP thread: on a busy machine k-means' many short parallel sections can run
    # 100x slower than serially, and low-dimensional embeddings are cheap to cluster anyway.
    with threadpool_limits(limits=1, user_api="openmp"):
        return y, km.fit_predict(Y)


_KMEANS_DOC = """
    Parameters
    ----------
    Y : array-like of shape (n_samples, n_components)
        Embedding.
    y : array-like of shape (n_samples,)
        Class labels; ``-1`` marks unlabelled points, which are left out.
    random_state : int, RandomState instance or None, default=0
        Seed of :class:`sklearn.cluster.KMeans` (``n_clusters`` = number of classes,
        ``n_init=10``).

    Returns
    -------
    float
    """


def kmeans_nmi(Y, y, *, random_state=0):
    """Normalized mutual information between the classes and a k-means clustering of Y.
    {params}"""
    y, pred = _kmeans(Y, y, random_state)
    return float(normalized_mutual_info_score(y, pred))


def kmeans_ari(Y, y, *, random_state=0):
    """Adjusted Rand index between the classes and a k-means clustering of Y.
    {params}"""
    y, pred = _kmeans(Y, y, random_state)
    return float(adjusted_rand_score(y, pred))


kmeans_nmi.__doc__ = kmeans_nmi.__doc__.replace("{params}", _KMEANS_DOC)
kmeans_ari.__doc__ = kmeans_ari.__doc__.replace("{params}", _KMEANS_DOC)


# ----------------------------------------------------------------------------------------
# global and density measures
# ----------------------------------------------------------------------------------------


def _random_pairs(n, n_pairs, random_state):
    """All unordered pairs when there are at most n_pairs of them, else n_pairs random ones."""
    if n * (n - 1) // 2 <= n_pairs:
        i, j = np.triu_indices(n, k=1)
        return i.astype(np.int64), j.astype(np.int64)
    rng = check_random_state(random_state)
    i = rng.randint(0, n, size=n_pairs).astype(np.int64)
    j = rng.randint(0, n - 1, size=n_pairs).astype(np.int64)
    j[j >= i] += 1  # uniform over j != i
    return i, j


def distance_spearman(X, Y, *, n_pairs=100000, random_state=0, metric="euclidean"):
    """Spearman rank correlation between data-space and embedding distances.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data (or a square distance matrix when ``metric="precomputed"``).
    Y : array-like of shape (n_samples, n_components)
        Embedding; euclidean distance.
    n_pairs : int, default=100000
        Number of random pairs (i, j), i != j, drawn with replacement. When the data has at
        most this many unordered pairs, every pair is used once instead (exact).
    random_state : int, RandomState instance or None, default=0
        Seed of the pair sample.
    metric : str or callable, default="euclidean"
        Data-space metric.

    Returns
    -------
    float
        Spearman's rho in [-1, 1] (NaN if either distance sample is constant).
    """
    X, Y, metric = _check_pair(X, Y, metric)
    n = X.shape[0]
    if n < 3:
        raise ValueError(f"distance_spearman needs at least 3 samples, got n_samples={n}.")
    n_pairs = _check_int(n_pairs, "n_pairs", 2)
    i, j = _random_pairs(n, n_pairs, random_state)
    dx = _paired_distances(X, i, j, metric)
    dy = _paired_distances(Y, i, j, "euclidean")
    return float(spearmanr(dx, dy).statistic)


def _log_radii(A, metric, idx, nn):
    m, k = nn.shape
    d = _paired_distances(A, np.repeat(idx, k), nn.ravel(), metric).reshape(m, k)
    with np.errstate(divide="ignore"):
        return np.log(d.mean(axis=1))


def _pearson(a, b):
    return float(np.corrcoef(a, b)[0, 1])


def local_radius_correlation(
    X=None,
    Y=None,
    *,
    k=15,
    metric="euclidean",
    knn_X=None,
    rad_orig=None,
    rad_emb=None,
    sample_size=20000,
    random_state=0,
):
    """Pearson correlation of log local radii in data and embedding (after DensMAP).

    The local radius of point i in a space is the mean distance to its own k nearest
    neighbours in that space, ``R_i = log(mean_j d(i, j))`` (DensMAP weights squared
    distances by membership strengths; this plain version is easier to read and compare).
    A high correlation means the embedding keeps relative local densities.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features), optional
        Data (or a square distance matrix when ``metric="precomputed"``).
    Y : array-like of shape (n_samples, n_components), optional
        Embedding; euclidean distance.
    k : int, default=15
        Neighbourhood size, ``1 <= k < n_samples``.
    metric : str or callable, default="euclidean"
        Data-space metric.
    knn_X : array-like of int, shape (n_samples, >= k), optional
        Precomputed data-space neighbours (self excluded); distances to them are recomputed.
    rad_orig, rad_emb : array-like of shape (n_samples,), optional
        Precomputed radii (for example DensMAP's log radii). When given, they are correlated
        as they are and ``X``, ``Y`` must not be passed.
    sample_size : int or None, default=20000
        Compute radii for a seeded subsample of this many points when n_samples is larger
        (neighbours still among all points). ``None``: every point.
    random_state : int, RandomState instance or None, default=0
        Seed of the subsample.

    Returns
    -------
    float
        Pearson correlation in [-1, 1]. Points with a zero radius (duplicates) are left out;
        NaN if a radius vector is constant.
    """
    if rad_orig is not None or rad_emb is not None:
        if X is not None or Y is not None:
            raise ValueError("pass either X and Y, or rad_orig and rad_emb, not both.")
        if rad_orig is None or rad_emb is None:
            raise ValueError("rad_orig and rad_emb must be given together.")
        ro = check_array(np.asarray(rad_orig).reshape(-1, 1), dtype=np.float64,
                         input_name="rad_orig").ravel()
        re = check_array(np.asarray(rad_emb).reshape(-1, 1), dtype=np.float64,
                         input_name="rad_emb").ravel()
        _check_same_length(len(ro), len(re), "rad_orig", "rad_emb")
        if len(ro) < 2:
            raise ValueError(f"at least 2 radii are needed, got {len(ro)}.")
        return _pearson(ro, re)

    X, Y, metric = _check_pair(X, Y, metric)
    n = X.shape[0]
    k = _check_int(k, "k", 1, n - 1, f"it must be < n_samples = {n}")
    knn = None if knn_X is None else _check_knn(knn_X, n, k)
    idx = _query_indices(n, sample_size, random_state)
    data_nn = _scan(X, metric, idx, topk=k)[1] if knn is None else knn[idx]
    emb_nn = _EmbeddingNeighbours(Y).query(idx, k)
    rx = _log_radii(X, metric, idx, data_nn)
    ry = _log_radii(Y, "euclidean", idx, emb_nn)
    keep = np.isfinite(rx) & np.isfinite(ry)
    if keep.sum() < 2:
        raise ValueError("fewer than 2 points have a non-zero local radius in both spaces.")
    return _pearson(rx[keep], ry[keep])


def reconstruction_mse(X, X_reconstructed):
    """Mean squared error between data and its reconstruction (e.g. ``inverse_transform``).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    X_reconstructed : {array-like, sparse matrix} of the same shape

    Returns
    -------
    float
        ``mean((X - X_reconstructed) ** 2)`` over all entries.
    """
    A, _ = _check_data(X, "euclidean", "X")
    B, _ = _check_data(X_reconstructed, "euclidean", "X_reconstructed")
    if A.shape != B.shape:
        raise ValueError(
            f"X and X_reconstructed must have the same shape: X is {A.shape}, "
            f"X_reconstructed is {B.shape}."
        )
    total = 0.0
    step = max(1, _CHUNK_BYTES // (8 * A.shape[1]))
    for s in range(0, A.shape[0], step):
        a, b = A[s : s + step], B[s : s + step]
        a = a.toarray() if sp.issparse(a) else a
        b = b.toarray() if sp.issparse(b) else b
        diff = a.astype(np.float64) - b
        total += float(np.einsum("ij,ij->", diff, diff))
    return total / (A.shape[0] * A.shape[1])


# ----------------------------------------------------------------------------------------
# all at once
# ----------------------------------------------------------------------------------------


def evaluate(
    X,
    Y,
    y=None,
    *,
    k=15,
    metric="euclidean",
    sample_size=20000,
    random_state=0,
    knn_X=None,
    rnx_max_k=None,
    n_pairs=100000,
    knn_k=10,
    cv=5,
    silhouette_sample_size=10000,
):
    """Compute the standard quality measures of an embedding in one go.

    Parameters
    ----------
    X, Y, k, metric, sample_size, random_state, knn_X
        As in :func:`trustworthiness`; the same query subsample serves trustworthiness,
        continuity and R_NX, and one pass over data-space distances serves all three.
    y : array-like of shape (n_samples,), optional
        Class labels (``-1`` = unlabelled). Adds the label-based measures.
    rnx_max_k : int or None, default=None
        ``max_k`` of :func:`rnx_auc` (default ``min(100, n_samples - 2)``).
    n_pairs : int, default=100000
        Pairs for :func:`distance_spearman`.
    knn_k, cv : int, default=10, 5
        ``k`` and ``cv`` of :func:`knn_accuracy`.
    silhouette_sample_size : int or None, default=10000
        ``sample_size`` of :func:`silhouette` (ignored when there are fewer points).

    Returns
    -------
    dict
        ``trustworthiness``, ``continuity``, ``rnx_auc``, ``distance_spearman`` and, when
        ``y`` is given, ``knn_accuracy``, ``silhouette``, ``kmeans_nmi``, ``kmeans_ari``.
        The values equal those of the individual functions called with the same arguments.
    """
    X, Y, metric = _check_pair(X, Y, metric)
    n = X.shape[0]
    k = _check_tc_k(k, n)
    if y is not None:
        _check_labels(y, n)
    if rnx_max_k is None:
        rnx_max_k = _default_max_k(n, knn_X)
    rnx_max_k = _check_max_k(rnx_max_k, n)
    big = max(k, rnx_max_k)
    knn = None if knn_X is None else _check_knn(knn_X, n, big)

    idx = _query_indices(n, sample_size, random_state)
    m = len(idx)
    emb = _EmbeddingNeighbours(Y)
    emb_big = emb.query(idx, big)
    emb_nn = np.ascontiguousarray(emb_big[:, :k])

    if knn is None:
        ranks, data_big = _scan(X, metric, idx, thr_cols=emb_nn, topk=big)
        trust_total = _penalty(ranks, k)
    else:
        data_big = knn[idx]
        trust_total = _intruder_ranks(
            X, metric, idx, emb_nn, k, np.ascontiguousarray(data_big[:, :k])
        )
    data_nn = np.ascontiguousarray(data_big[:, :k])
    cont_total = _intruder_ranks(Y, "euclidean", idx, data_nn, k, emb_nn)

    out = {
        "trustworthiness": _tc_value(trust_total, m, n, k),
        "continuity": _tc_value(cont_total, m, n, k),
        "rnx_auc": _auc_log(
            _rnx_from_neighbours(data_big[:, :rnx_max_k], emb_big[:, :rnx_max_k], n)
        ),
        "distance_spearman": distance_spearman(
            X, Y, n_pairs=n_pairs, random_state=random_state, metric=metric
        ),
    }
    if y is not None:
        y_true, pred = _kmeans(Y, y, random_state)
        out["knn_accuracy"] = knn_accuracy(Y, y, knn_k, cv=cv, random_state=random_state)
        out["silhouette"] = silhouette(
            Y, y, sample_size=silhouette_sample_size, random_state=random_state
        )
        out["kmeans_nmi"] = float(normalized_mutual_info_score(y_true, pred))
        out["kmeans_ari"] = float(adjusted_rand_score(y_true, pred))
    return out
