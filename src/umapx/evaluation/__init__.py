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
scikit-learn's names
    :func:`trustworthiness` and :func:`continuity` also take ``n_neighbors`` for ``k`` and
    ``X_embedded`` for ``Y``, :func:`knn_accuracy` ``n_neighbors`` for ``k``, and
    :func:`silhouette` ``labels`` for ``y``. Giving both names of one argument is a TypeError.

No n x n matrix is ever formed: distances from a block of query points to all points are
computed in bounded chunks (BLAS for the euclidean metric) and reduced on the fly.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from .._validation import check_eval_labels, check_knn
from ._neighbours import _check_pair, _EmbeddingNeighbours, _query_indices, _scan
from .distances import distance_spearman, local_radius_correlation, reconstruction_mse
from .labels import _kmeans, kmeans_ari, kmeans_nmi, knn_accuracy, silhouette
from .neighbourhood import (
    _auc_log,
    _check_max_k,
    _check_tc_k,
    _default_max_k,
    _intruder_ranks,
    _penalty,
    _rnx_from_neighbours,
    _tc_value,
    continuity,
    rnx_auc,
    rnx_curve,
    trustworthiness,
)

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
        check_eval_labels(y, n)
    if rnx_max_k is None:
        rnx_max_k = _default_max_k(n, knn_X)
    rnx_max_k = _check_max_k(rnx_max_k, n)
    big = max(k, rnx_max_k)
    knn = None if knn_X is None else check_knn(knn_X, n, big)

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
        trust_total = _intruder_ranks(X, metric, idx, emb_nn, k, np.ascontiguousarray(data_big[:, :k]))
    data_nn = np.ascontiguousarray(data_big[:, :k])
    cont_total = _intruder_ranks(Y, "euclidean", idx, data_nn, k, emb_nn)

    out = {
        "trustworthiness": _tc_value(trust_total, m, n, k),
        "continuity": _tc_value(cont_total, m, n, k),
        "rnx_auc": _auc_log(_rnx_from_neighbours(data_big[:, :rnx_max_k], emb_big[:, :rnx_max_k], n)),
        "distance_spearman": distance_spearman(X, Y, n_pairs=n_pairs, random_state=random_state, metric=metric),
    }
    if y is not None:
        y_true, pred = _kmeans(Y, y, random_state)
        out["knn_accuracy"] = knn_accuracy(Y, y, knn_k, cv=cv, random_state=random_state)
        out["silhouette"] = silhouette(Y, y, sample_size=silhouette_sample_size, random_state=random_state)
        out["kmeans_nmi"] = float(normalized_mutual_info_score(y_true, pred))
        out["kmeans_ari"] = float(adjusted_rand_score(y_true, pred))
    return out
