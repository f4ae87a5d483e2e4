"""Label-based measures: k-NN accuracy, silhouette and k-means agreement with the classes."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

from .._validation import check_embedding, check_eval_labels, check_int, keyword_aliases


def _labelled(Y, y, name="Y"):
    Y = check_embedding(Y, name)
    y, mask = check_eval_labels(y, Y.shape[0])
    Y, y = Y[mask], y[mask]
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(
            f"at least 2 classes are needed among the labelled points, got {len(classes)} "
            f"(labels -1 count as unlabelled)."
        )
    return Y, y, classes


@keyword_aliases(n_neighbors="k")
def knn_accuracy(Y, y, k=10, *, cv=5, random_state=0):
    """Cross-validated accuracy of a k-NN classifier in the embedding.

    Parameters
    ----------
    Y : array-like of shape (n_samples, n_components)
        Embedding (any feature matrix works).
    y : array-like of shape (n_samples,)
        Class labels; ``-1`` marks unlabelled points, which are left out.
    k : int, default=10
        Neighbours of :class:`sklearn.neighbors.KNeighborsClassifier` (uniform weights);
        ``n_neighbors`` is accepted as an alias.
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
    k = check_int(k, "k", 1)
    cv = check_int(cv, "cv", 2, len(y), f"it must be <= the {len(y)} labelled samples")
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    scores = []
    for train, test in folds.split(Y, y):
        if k > len(train):
            raise ValueError(f"k={k} exceeds the {len(train)} training points of a fold; use a smaller k.")
        clf = KNeighborsClassifier(n_neighbors=k).fit(Y[train], y[train])
        scores.append(clf.score(Y[test], y[test]))
    return float(np.mean(scores))


@keyword_aliases(labels="y")
def silhouette(Y, y, *, sample_size=None, random_state=0):
    """Mean silhouette coefficient of the classes in the embedding (euclidean).

    Wraps :func:`sklearn.metrics.silhouette_score` after removing unlabelled points (``-1``).

    Parameters
    ----------
    Y : array-like of shape (n_samples, n_components)
        Embedding.
    y : array-like of shape (n_samples,)
        Class labels; ``-1`` marks unlabelled points. ``labels`` (the name in
        :func:`sklearn.metrics.silhouette_score`) is accepted as an alias.
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
        sample_size = check_int(sample_size, "sample_size", 2)
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
