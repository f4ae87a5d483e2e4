"""k nearest neighbours: exact search for small data, an approximate index for large data.

A search backend is an index object with ``build`` (the kNN of the data among themselves, and the
index kept for later queries), ``query`` (new points among the indexed ones), ``add`` (grow it)
and ``to_bytes``/``from_bytes``; ``choose_index`` is the one place that picks the backend.
Every backend returns ``(indices, distances)`` of shape (n_queries, k), rows sorted by distance
with ties broken by index, and, when the queries are the data itself, each point first in its own
row at distance 0 (so duplicated points never displace themselves). Missing neighbours (a sparse
precomputed matrix with short rows) are index -1 at distance inf.
"""

from __future__ import annotations

import io
import os
import tempfile

import numba
import numpy as np
import scipy.sparse as sp

from ._report import checkpoint
from .metrics import distance
from .model import savable

#: Largest n searched exactly unless ``force_approximation_algorithm`` is set: where the seeded hnswlib
#: index catches up (4,096 rows: exact 1.07 s / 0.26 s, index 0.64 s / 0.24 s on mnist_test / letter).
EXACT_MAX_SAMPLES = 4_096
#: Metrics whose exact search is a matrix product.
BLAS_METRICS = ("euclidean", "cosine", "correlation")
#: Metrics served by hnswlib on dense data (correlation as cosine of centred rows).
HNSW_SPACES = {"euclidean": "l2", "cosine": "cosine", "correlation": "cosine"}
_CHUNK_BYTES = 1 << 27
#: hnswlib build breadth (M = 16). On fashion_mnist (serial build, 2,000 sampled rows against exact
#: 15-NN): 200 builds in 30.8 s, 64 in 11.8 s; fit queries at ef 64 reach recall 0.999 / 0.996.
EF_CONSTRUCTION = 64
#: hnswlib search breadth for new points: recall 0.995 on the same index and sample (0.996 at 64) in 85% of the time.
TRANSFORM_EF = 50
#: Rows with more than 2 x PCA_COMPONENTS (and at most PCA_MAX_FEATURES) features are indexed in the space of
#: their leading principal components, from a seeded sample of PCA_SAMPLE rows, and each query's
#: PCA_CANDIDATES x k candidates are re-measured in the full space. On fashion_mnist (784 features, serial
#: build, 2,000 sampled rows against exact 16-NN): build 10.0 s instead of 29.8 s, query 40% of the time
#: (64 candidates at ef 96 against 16 at ef 64), recall 0.996 either way.
PCA_COMPONENTS = 128
PCA_MAX_FEATURES = 4_096
PCA_SAMPLE = 10_000
PCA_CANDIDATES = 4


def choose_index(X, metric, approximate):
    """The index class for ``X``: precomputed distances; pynndescent for callable metrics, sparse input
    without a BLAS metric, and approximate search outside hnswlib's spaces; hnswlib for approximate
    search of dense euclidean/cosine/correlation rows; exact search otherwise, and for a callable
    metric on rows with NaN or infinity (``ensure_all_finite=False``), which pynndescent refuses."""
    sparse = sp.issparse(X)
    if metric.name == "precomputed":
        return PrecomputedIndex
    if metric.callable is not None and not _finite(X):
        return ExactIndex
    if (
        metric.callable is not None
        or (sparse and metric.name not in BLAS_METRICS)
        or (approximate and (sparse or metric.name not in HNSW_SPACES))
    ):
        return NNDescentIndex
    return HnswIndex if approximate else ExactIndex


def nearest_neighbors(
    X,
    k,
    metric,
    *,
    approximate=False,
    seed=0,
    deterministic=False,
    n_jobs=1,
    low_memory=True,
    angular=False,
    verbose=False,
    progress=None,
):
    """``(indices int32, distances float32, index)``: the kNN of the rows of ``X`` among themselves with
    the resolved ``metric`` (see metrics.resolve_metric), each point first in its row, and the index
    of ``choose_index`` kept for queries. Index construction draws from ``seed``; ``deterministic``
    runs it on one thread so that the graph, and everything after it, is reproducible; queries stay
    parallel. ``progress`` (a tqdm bar or None) counts rows done."""
    return choose_index(X, metric, approximate).build(
        X,
        k,
        metric,
        seed=seed,
        deterministic=deterministic,
        n_jobs=n_jobs,
        low_memory=low_memory,
        angular=angular,
        verbose=verbose,
        progress=progress,
    )


class Index:
    """The indexed rows (``data``) and how to search them. A query's answer for one row depends on that
    row alone, never on the other rows of the call."""

    kind = ""

    def __init__(self, data):
        self.data = data

    @property
    def n(self):
        return self.data.shape[0]

    def add(self, X, metric, *, n_jobs=1, deterministic=True):
        """Index the rows of ``X`` after the current ones."""
        self.data = (
            sp.vstack([self.data, X], format="csr") if sp.issparse(self.data) else np.concatenate([self.data, X])
        )

    def to_bytes(self):
        """The index as bytes (an ``.npz`` archive of plain arrays); ``from_bytes`` reads it back."""
        buffer = io.BytesIO()
        np.savez(buffer, **self._arrays())
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, payload):
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            return cls._from_arrays(dict(archive))

    def _arrays(self):
        if sp.issparse(self.data):
            return {
                "indptr": self.data.indptr,
                "indices": self.data.indices,
                "values": self.data.data,
                "shape": np.array(self.data.shape),
            }
        return {"data": self.data}

    @classmethod
    def _from_arrays(cls, arrays):
        if "data" in arrays:
            return cls(arrays["data"])
        parts = (arrays["values"], arrays["indices"], arrays["indptr"])
        return cls(sp.csr_matrix(parts, shape=tuple(arrays["shape"])))

    def __repr__(self):
        return f"{type(self).__name__}({self.n} rows)"


@savable
class ExactIndex(Index):
    """Exact search: a matrix product for euclidean, cosine and correlation, a compiled scan for the
    other named metrics on dense rows; a seeded pynndescent index queried one row at a time for
    sparse rows without a BLAS metric and for callable metrics."""

    kind = "exact"

    @classmethod
    def build(cls, X, k, metric, *, progress=None, **_):
        if metric.name in BLAS_METRICS:
            idx, dist = blas_knn(X, X, k, metric.name, progress)
        elif metric.callable is not None:
            idx, dist = callable_knn(X, X, k, metric)
            _tick(progress, X.shape[0])
        else:
            idx, dist = _brute_knn(X, X, k, metric.code, metric.params, True)
            _tick(progress, X.shape[0])
        return (*_self_first(idx, dist), cls(X))

    def query(self, Q, k, metric, *, n_jobs=1, seed=0, self_index=None, breadth=1.0):
        """kNN of the rows of ``Q`` among the indexed rows; with ``self_index``, query i is indexed row
        ``self_index[i]`` and comes first in its answer. ``breadth`` scales an approximate search's
        effort (``transform_queue_size / 4``)."""
        if metric.name in BLAS_METRICS:
            idx, dist = blas_knn(self.data, Q, k, metric.name)
        elif metric.callable is None and not sp.issparse(self.data):
            idx, dist = _brute_knn(self.data, Q, k, metric.code, metric.params, False)
        elif metric.callable is not None and not (_finite(self.data) and _finite(Q)):
            idx, dist = callable_knn(self.data, Q, k, metric)
        else:
            idx, dist = self._nndescent_query(Q, k, metric, seed, breadth)
        return (idx, dist) if self_index is None else _self_first(idx, dist, self_index)

    def _nndescent_query(self, Q, k, metric, seed, breadth):
        """Query a seeded pynndescent index one row at a time: its search draws from a random state that
        every call restarts, so a row's answer does not depend on the rows queried with it."""
        index = _nndescent(self.data, k, metric, seed, 1, True, False)
        idx, dist = np.empty((Q.shape[0], k), dtype=np.int32), np.empty((Q.shape[0], k), dtype=np.float32)
        for i in range(Q.shape[0]):
            idx[i], dist[i] = (a[0] for a in index.query(Q[i : i + 1], k=k, epsilon=0.1 * breadth))
        return idx, dist


@savable
class NNDescentIndex(ExactIndex):
    """pynndescent's approximate kNN graph with umap-learn's settings (one thread when seeded); later
    queries are those of ``ExactIndex``."""

    kind = "nndescent"

    @classmethod
    def build(
        cls,
        X,
        k,
        metric,
        *,
        seed=0,
        deterministic=False,
        n_jobs=1,
        low_memory=True,
        angular=False,
        verbose=False,
        progress=None,
    ):
        """``angular`` (umap-learn's ``angular_rp_forest``) builds pynndescent's trees by angle."""
        index = _nndescent(X, k, metric, seed if deterministic else None, n_jobs, low_memory, verbose, angular)
        idx, dist = index.neighbor_graph
        _tick(progress, X.shape[0])
        return (*_self_first(idx.astype(np.int64), dist), cls(X))


@savable
class PrecomputedIndex(Index):
    """Distances given as a matrix: a fit reads its rows, a query holds the distances from each new
    point to every indexed point. It keeps no rows, only their number."""

    kind = "precomputed"

    def __init__(self, n):
        self.data, self._n = None, int(n)

    @property
    def n(self):
        return self._n

    @classmethod
    def build(cls, X, k, metric, *, progress=None, **_):
        idx, dist = precomputed_knn(X, k)
        _tick(progress, X.shape[0])
        return idx, dist, cls(X.shape[0])

    def query(self, Q, k, metric, *, n_jobs=1, seed=0, self_index=None, breadth=1.0):
        return precomputed_knn(Q, k, self_query=False)

    def add(self, X, metric, *, n_jobs=1, deterministic=True):
        raise ValueError("a precomputed distance matrix cannot grow; refit with the whole matrix.")

    def _arrays(self):
        return {"n": np.array(self._n)}

    @classmethod
    def _from_arrays(cls, arrays):
        return cls(int(arrays["n"]))


@savable
class HnswIndex(Index):
    """An hnswlib index of dense euclidean, cosine or correlation rows. Rows of more than 2 x
    PCA_COMPONENTS (and at most PCA_MAX_FEATURES) features are indexed in their leading principal
    axes (``projection`` = (mean, axes)) and each query's candidates re-measured exactly."""

    kind = "hnsw"

    def __init__(self, data, index, projection, metric_name):
        super().__init__(data)
        self.index, self.projection, self.metric_name = index, projection, metric_name

    @classmethod
    def build(cls, X, k, metric, *, seed=0, deterministic=False, n_jobs=1, progress=None, **_):
        """Rows added in 20 batches for the progress bar (the same index as one call)."""
        import hnswlib

        projection = _projection(_prepare_blas(X, metric.name), seed)
        space = "l2" if projection is not None else HNSW_SPACES[metric.name]
        index = hnswlib.Index(space=space, dim=X.shape[1] if projection is None else PCA_COMPONENTS)
        index.init_index(max_elements=X.shape[0], ef_construction=EF_CONSTRUCTION, M=16, random_seed=seed % (2**31))
        self = cls(X, index, projection, metric.name)
        for rows in np.array_split(np.arange(X.shape[0]), min(20, X.shape[0])):
            self._add_items(X[rows], rows, n_jobs, deterministic)
            _tick(progress, len(rows) // 2)
        idx, dist = self._search(X, k, n_jobs, progress)
        return (*_self_first(idx, dist), self)

    def add(self, X, metric, *, n_jobs=1, deterministic=True):
        """Add rows, growing the index if needed; one thread when ``deterministic``."""
        self._add_items(X, np.arange(self.n, self.n + X.shape[0]), n_jobs, deterministic)
        super().add(X, metric)

    def _add_items(self, X, labels, n_jobs, deterministic):
        if labels[-1] + 1 > self.index.get_max_elements():
            self.index.resize_index(int(labels[-1]) + 1)
        self.index.add_items(
            _indexed(X, self.metric_name, self.projection), labels, num_threads=1 if deterministic else n_jobs
        )

    def query(self, Q, k, metric, *, n_jobs=1, seed=0, self_index=None, breadth=1.0):
        idx, dist = self._search(Q, k, n_jobs, ef=max(round(TRANSFORM_EF * breadth), 2 * k))
        return (idx, dist) if self_index is None else _self_first(idx, dist, self_index)

    def _search(self, Q, k, n_jobs, progress=None, ef=None):
        """k nearest indexed rows to each row of ``Q``; the search of one row never depends on another.

        ``ef`` (the search breadth) defaults to max(64, 2k), which keeps recall above 0.99 on the data
        sets of ``benchmarks/``. With a projection, the PCA_CANDIDATES x k (at least 64) nearest in the
        principal axes are searched at 1.5 times that breadth and re-measured exactly."""
        metric, projection = self.metric_name, self.projection
        ef, n_cand, prepared = ef or max(64, 2 * k), k, None
        if projection is not None:
            n_cand = min(max(64, PCA_CANDIDATES * k), self.index.get_current_count())
            ef, prepared = max(ef, n_cand * 3 // 2), _prepare_blas(self.data, metric)
        self.index.set_ef(ef)
        m = Q.shape[0]
        idx, dist = np.empty((m, k), dtype=np.int32), np.empty((m, k), dtype=np.float32)
        for rows in np.array_split(np.arange(m), max(20 if progress is not None else 1, m // 2048)):
            found, d = self.index.knn_query(_indexed(Q[rows], metric, projection), k=n_cand, num_threads=n_jobs)
            if projection is None:
                idx[rows], dist[rows] = found, np.sqrt(np.maximum(d, 0.0)) if metric == "euclidean" else d
            else:
                idx[rows], dist[rows] = _remeasure(
                    prepared, _prepare_blas(Q[rows], metric), found.astype(np.int64), k, metric != "euclidean"
                )
            _tick(progress, len(rows) - len(rows) // 2)
        return idx, dist

    def _arrays(self):
        arrays = {
            **super()._arrays(),
            "hnsw": np.frombuffer(_hnsw_bytes(self.index), dtype=np.uint8),
            "space": np.array(self.index.space),
            "metric": np.array(self.metric_name),
        }
        if self.projection is not None:
            arrays["mean"], arrays["axes"] = self.projection
        return arrays

    @classmethod
    def _from_arrays(cls, arrays):
        data = Index._from_arrays(arrays).data
        projection = (arrays["mean"], arrays["axes"]) if "axes" in arrays else None
        dim = data.shape[1] if projection is None else projection[1].shape[1]
        index = hnsw_from_bytes(arrays["hnsw"].tobytes(), str(arrays["space"]), dim)
        return cls(data, index, projection, str(arrays["metric"]))


def _hnsw_bytes(index):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "index.bin")
        index.save_index(path)
        with open(path, "rb") as f:
            return f.read()


def hnsw_from_bytes(payload, space, dim):
    """An hnswlib index from the bytes ``save_index`` writes."""
    import hnswlib

    index = hnswlib.Index(space=space, dim=dim)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "index.bin")
        with open(path, "wb") as f:
            f.write(payload)
        index.load_index(path)
    return index


def _tick(progress, count):
    """A batch of ``count`` rows is done: count it on the bar, and stop here after a Ctrl-C."""
    checkpoint()
    if progress is not None:
        progress.update(count)


def _self_first(idx, dist, self_index=None):
    """Put each point first in its own row at distance 0; rows stay sorted by (distance, index).

    Row i's point is ``self_index[i]`` (default i).
    """
    n, k = idx.shape
    rows = (np.arange(n) if self_index is None else self_index)[:, None]
    dist = np.where(idx == rows, -1.0, dist).astype(np.float64)
    missing = ~(idx == rows).any(axis=1)
    idx = idx.copy()
    idx[missing, -1] = rows[missing, 0]
    dist[missing, -1] = -1.0
    order = np.lexsort((idx, dist), axis=-1)
    idx = np.take_along_axis(idx, order, axis=1)
    dist = np.maximum(np.take_along_axis(dist, order, axis=1), 0.0)
    return idx.astype(np.int32), dist.astype(np.float32)


def _prepare_blas(A, metric):
    """Rows centred (correlation) and scaled to unit norm (cosine, correlation)."""
    if metric == "euclidean":
        return A
    if metric == "correlation":
        A = (A.toarray() if sp.issparse(A) else A) - A.mean(axis=1).reshape(-1, 1)
    norms = np.sqrt(_squared_norms(A))
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.diags(scale) @ A if sp.issparse(A) else A * scale[:, None].astype(A.dtype)


def _squared_norms(A):
    return np.asarray(A.multiply(A).sum(axis=1)).ravel() if sp.issparse(A) else np.einsum("ij,ij->i", A, A)


def blas_knn(X, Q, k, metric, progress=None):
    """Exact kNN of the rows of ``Q`` among the rows of ``X`` for euclidean, cosine or correlation.

    The candidates come from a float32 matrix product; the 2k best are re-measured in float64
    (dense input) so that the ordering is exact.
    """
    Xp, Qp = _prepare_blas(X, metric), _prepare_blas(Q, metric)
    if sp.issparse(Xp):
        Xp, Qp = Xp.astype(np.float64), Qp.astype(np.float64)
    angular = metric != "euclidean"
    x2 = None if angular else _squared_norms(Xp)
    n, m = X.shape[0], Q.shape[0]
    n_cand = min(2 * k, n)
    idx = np.empty((m, k), dtype=np.int64)
    dist = np.empty((m, k), dtype=np.float64)
    step = max(1, min(_CHUNK_BYTES // (8 * n), _CHUNK_BYTES // (8 * n_cand * X.shape[1])))
    for start in range(0, m, step):
        block = Qp[start : start + step]
        prod = block @ Xp.T
        prod = prod.toarray() if sp.issparse(prod) else prod
        score = -prod if angular else x2[None, :] - 2.0 * prod
        cand = (
            np.argpartition(score, n_cand - 1, axis=1)[:, :n_cand]
            if n_cand < n
            else np.tile(np.arange(n), (len(score), 1))
        )
        if sp.issparse(Xp):
            picked = np.take_along_axis(score, cand, axis=1)
            exact = 1.0 + picked if angular else np.sqrt(np.maximum(picked + _squared_norms(block)[:, None], 0.0))
            order = np.lexsort((cand, exact), axis=-1)[:, :k]
            idx[start : start + step] = np.take_along_axis(cand, order, axis=1)
            dist[start : start + step] = np.take_along_axis(exact, order, axis=1)
        else:
            idx[start : start + step], dist[start : start + step] = _remeasure(
                Xp, block, cand.astype(np.int64), k, angular
            )
        _tick(progress, block.shape[0])
    return idx.astype(np.int32), np.maximum(dist, 0.0).astype(np.float32)


@numba.njit(parallel=True, cache=True)
def _brute_knn(X, Q, k, code, params, self_query):
    """Exact kNN for any registered metric: one pass over X per query, keeping the k best in order."""
    m = Q.shape[0]
    idx = np.full((m, k), -1, dtype=np.int32)
    dist = np.full((m, k), np.inf, dtype=np.float64)
    for i in numba.prange(m):
        for j in range(X.shape[0]):
            d = -1.0 if (self_query and i == j) else distance(code, Q[i], X[j], params)
            if d < dist[i, k - 1]:
                p = k - 1
                while p > 0 and dist[i, p - 1] > d:
                    dist[i, p] = dist[i, p - 1]
                    idx[i, p] = idx[i, p - 1]
                    p -= 1
                dist[i, p] = d
                idx[i, p] = j
    return idx, np.maximum(dist, 0.0).astype(np.float32)


def _finite(X):
    return bool(np.isfinite(X.data if sp.issparse(X) else X).all())


def callable_knn(X, Q, k, metric):
    """Exact kNN under a metric function ``fn(x, y, *extra)`` (which may have to handle NaN): every
    distance from a block of queries, then the k smallest of each row."""
    X, Q = (A.toarray() if sp.issparse(A) else A for A in (X, Q))
    rows = max(1, _CHUNK_BYTES // (8 * X.shape[0]))  # queries per block of distances
    blocks = [
        precomputed_knn(callable_distances(X, Q[start : start + rows], metric.callable, metric.extra), k, False)
        for start in range(0, Q.shape[0], rows)
    ]
    return np.concatenate([b[0] for b in blocks]), np.concatenate([b[1] for b in blocks])


@numba.njit(parallel=True)
def callable_distances(X, Q, fn, extra):
    """Distances (m x n) from the rows of ``Q`` to those of ``X``; not cached, as ``fn`` is an argument."""
    D = np.empty((Q.shape[0], X.shape[0]))
    for i in numba.prange(Q.shape[0]):
        for j in range(X.shape[0]):
            D[i, j] = fn(Q[i], X[j], *extra)
    return D


def precomputed_knn(D, k, self_query=True):
    """kNN from a dense or sparse distance matrix; in a sparse one, absent entries are not neighbours.

    With ``self_query`` the rows and columns are the same points and each point comes first in its row.
    """
    n = D.shape[0]
    if not sp.issparse(D):
        score = D.astype(np.float64, copy=True)
        if self_query:
            score[np.arange(n), np.arange(n)] = -1.0
        cand = np.argpartition(score, k - 1, axis=1)[:, :k]
        cdist = np.take_along_axis(score, cand, axis=1)
        order = np.lexsort((cand, cdist), axis=-1)
        idx = np.take_along_axis(cand, order, axis=1)
        return idx.astype(np.int32), np.maximum(np.take_along_axis(cdist, order, axis=1), 0.0).astype(np.float32)
    D = sp.csr_matrix(D)
    D.sort_indices()
    return _sparse_rows_knn(D.indptr, D.indices, D.data.astype(np.float64), k, self_query)


@numba.njit(cache=True)
def _sparse_rows_knn(indptr, indices, data, k, self_query):
    n = indptr.shape[0] - 1
    idx = np.full((n, k), -1, dtype=np.int32)
    dist = np.full((n, k), np.inf, dtype=np.float32)
    for i in range(n):
        cols = indices[indptr[i] : indptr[i + 1]]
        vals = data[indptr[i] : indptr[i + 1]]
        order = np.argsort(vals, kind="mergesort")
        p = 0
        if self_query:
            idx[i, 0], dist[i, 0] = i, 0.0
            p = 1
        for t in order:
            if p == k:
                break
            if not (self_query and cols[t] == i):
                idx[i, p], dist[i, p] = cols[t], vals[t]
                p += 1
    return idx, dist


def _projection(rows, seed):
    """(mean, axes): the PCA_COMPONENTS leading principal axes of a seeded sample of ``rows``, the
    index's coordinates, or None when the rows are too narrow or too wide for them."""
    if not 2 * PCA_COMPONENTS < rows.shape[1] <= PCA_MAX_FEATURES:
        return None
    picked = np.random.default_rng(seed).choice(rows.shape[0], min(PCA_SAMPLE, rows.shape[0]), replace=False)
    sample = rows[np.sort(picked)].astype(np.float64)
    mean = sample.mean(axis=0)
    centred = sample - mean
    _, axes = np.linalg.eigh(centred.T @ centred)  # eigenvalues ascending
    return mean.astype(np.float32), np.ascontiguousarray(axes[:, ::-1][:, :PCA_COMPONENTS], dtype=np.float32)


def _indexed(X, metric, projection):
    """Rows in the index's coordinates: without a projection as they are (correlation's centred; hnswlib's
    cosine space normalises by itself), else prepared as for exact search and projected on the axes."""
    if projection is None:
        return _prepare_blas(X, "correlation") if metric == "correlation" else X
    return (_prepare_blas(X, metric) - projection[0]) @ projection[1]


@numba.njit(parallel=True, cache=True, fastmath=True)
def _remeasure(X, Q, cand, k, angular):
    """The k nearest of each query's candidate rows of ``X``, by the exact distance (euclidean, or
    1 - dot for unit rows), summed in float64; ties go to the lower index."""
    m, c = cand.shape
    idx, dist = np.empty((m, k), dtype=np.int32), np.empty((m, k), dtype=np.float32)
    for i in numba.prange(m):
        rows = np.sort(cand[i])
        d = np.empty(c)
        for t in range(c):
            j, s = rows[t], 0.0
            if angular:
                for f in range(X.shape[1]):
                    s += np.float64(X[j, f]) * Q[i, f]
                d[t] = 1.0 - s
            else:
                for f in range(X.shape[1]):
                    diff = np.float64(X[j, f]) - Q[i, f]
                    s += diff * diff
                d[t] = np.sqrt(s)
        order = np.argsort(d, kind="mergesort")[:k]
        idx[i], dist[i] = rows[order], np.maximum(d[order], 0.0)
    return idx, dist


def _nndescent(X, k, metric, seed, n_jobs, low_memory, verbose, angular=False):
    from pynndescent import NNDescent

    n = X.shape[0]
    return NNDescent(
        X,
        n_neighbors=k,
        metric=metric.callable if metric.callable is not None else metric.name,
        metric_kwds=metric.kwds,
        random_state=None if seed is None else seed % (2**31),
        n_trees=min(64, 5 + int(round(n**0.5 / 20.0))),
        n_iters=max(5, int(round(np.log2(n)))),
        max_candidates=60,
        low_memory=low_memory,
        n_jobs=1 if seed is not None else n_jobs,
        verbose=verbose,
        compressed=False,
        angular_trees=angular,
    )


def merge_knn(first, second, k, self_index):
    """The k best neighbours of each query from two answers ``(idx, dist)`` over disjoint point sets;
    query i is point ``self_index[i]`` and comes first."""
    idx = np.concatenate([first[0], second[0]], axis=1)
    dist = np.concatenate([first[1], second[1]], axis=1)
    idx, dist = _self_first(idx, dist, self_index)
    return idx[:, :k], dist[:, :k]


@numba.njit(cache=True)
def reverse_neighbors(knn_idx, knn_dist, new_idx, new_dist, n_old):
    """Insert each new point into the kNN rows of the existing points it is closer to than their
    current k-th neighbour (progressive UMAP's updated points, 002 Alg. 3, line 2).

    ``new_idx``/``new_dist`` are the new points' rows; new point r is point ``n_old + r``. Returns
    updated copies of the existing rows and a mask of the rows that changed.
    """
    knn_idx, knn_dist = knn_idx.copy(), knn_dist.copy()
    k = knn_idx.shape[1]
    changed = np.zeros(n_old, dtype=np.bool_)
    for r in range(new_idx.shape[0]):
        for t in range(new_idx.shape[1]):
            i, d = new_idx[r, t], new_dist[r, t]
            if i < 0 or i >= n_old or not d < knn_dist[i, k - 1]:
                continue
            p = k - 1
            while p > 1 and knn_dist[i, p - 1] > d:
                knn_idx[i, p], knn_dist[i, p] = knn_idx[i, p - 1], knn_dist[i, p - 1]
                p -= 1
            knn_idx[i, p], knn_dist[i, p] = n_old + r, d
            changed[i] = True
    return knn_idx, knn_dist, changed
