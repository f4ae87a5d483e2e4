"""Neighbourhood preservation: trustworthiness, continuity and the R_NX curve."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_knn, keyword_aliases
from ._neighbours import _check_pair, _EmbeddingNeighbours, _membership, _query_indices, _scan


def _check_tc_k(k, n):
    """k for trustworthiness/continuity: 1 <= k < n/2 keeps the measure within [0, 1]."""
    k = check_int(k, "k", 1)
    if k >= n / 2:
        raise ValueError(f"k={k} is too large for n_samples={n}: it must be smaller than n_samples / 2 = {n / 2:g}.")
    return k


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
        Embedding of ``X``; compared with the euclidean distance. ``X_embedded`` (scikit-learn's
        name) is accepted as an alias.
    k : int, default=15
        Neighbourhood size; ``1 <= k < n_samples / 2``. ``n_neighbors`` (scikit-learn's name)
        is accepted as an alias.
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


@keyword_aliases(n_neighbors="k", X_embedded="Y")
def trustworthiness(X, Y, k=15, *, metric="euclidean", sample_size=20000, random_state=0, knn_X=None):
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
    known = None if knn_X is None else check_knn(knn_X, n, k)
    idx = _query_indices(n, sample_size, random_state)
    emb_nn = _EmbeddingNeighbours(Y).query(idx, k)
    if known is not None:
        known = known[idx]
    total = _intruder_ranks(X, metric, idx, emb_nn, k, known)
    return _tc_value(total, len(idx), n, k)


@keyword_aliases(n_neighbors="k", X_embedded="Y")
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
    knn = None if knn_X is None else check_knn(knn_X, n, k)
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
    return check_int(max_k, "max_k", 1, n - 2, f"it must be <= n_samples - 2 = {n - 2} (n_samples={n})")


def _rnx_from_neighbours(data_nn, emb_nn, n):
    """R_NX(K), K = 1..K_max, from the ordered neighbour lists of the m query points."""
    m, K = data_nn.shape
    rows = np.arange(m, dtype=np.int64)[:, None] * n
    _, ia, ib = np.intersect1d(
        (data_nn + rows).ravel(),
        (emb_nn + rows).ravel(),
        assume_unique=True,
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


def rnx_curve(X, Y, *, max_k=None, metric="euclidean", sample_size=20000, random_state=0, knn_X=None):
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
        data_nn = check_knn(knn_X, n, max_k)[idx]
    else:
        data_nn = _scan(X, metric, idx, topk=max_k)[1]
    emb_nn = _EmbeddingNeighbours(Y).query(idx, max_k)
    return _rnx_from_neighbours(data_nn, emb_nn, n)


def rnx_auc(X, Y, *, max_k=None, metric="euclidean", sample_size=20000, random_state=0, knn_X=None):
    r"""Area under the :math:`R_{NX}` curve on a log scale of K.

    .. math::

        \mathrm{AUC} = \frac{\sum_{K} R_{NX}(K) / K}{\sum_{K} 1 / K}, \qquad K = 1..\mathrm{max\_k}

    The 1/K weights stress small neighbourhoods. Parameters as in :func:`rnx_curve`.

    Returns
    -------
    float
    """
    curve = rnx_curve(
        X,
        Y,
        max_k=max_k,
        metric=metric,
        sample_size=sample_size,
        random_state=random_state,
        knn_X=knn_X,
    )
    return _auc_log(curve)
