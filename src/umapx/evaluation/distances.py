"""Global and density measures: distance rank correlation, local radii, reconstruction error."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.stats import spearmanr
from sklearn.utils import check_array, check_random_state

from .._validation import check_data, check_int, check_knn, check_same_length
from ._neighbours import (
    _CHUNK_BYTES,
    _check_pair,
    _EmbeddingNeighbours,
    _paired_distances,
    _query_indices,
    _scan,
)


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
    n_pairs = check_int(n_pairs, "n_pairs", 2)
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
        ro = check_array(np.asarray(rad_orig).reshape(-1, 1), dtype=np.float64, input_name="rad_orig").ravel()
        re = check_array(np.asarray(rad_emb).reshape(-1, 1), dtype=np.float64, input_name="rad_emb").ravel()
        check_same_length(len(ro), len(re), "rad_orig", "rad_emb")
        if len(ro) < 2:
            raise ValueError(f"at least 2 radii are needed, got {len(ro)}.")
        return _pearson(ro, re)

    X, Y, metric = _check_pair(X, Y, metric)
    n = X.shape[0]
    k = check_int(k, "k", 1, n - 1, f"it must be < n_samples = {n}")
    knn = None if knn_X is None else check_knn(knn_X, n, k)
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
    A, _ = check_data(X, "euclidean", "X")
    B, _ = check_data(X_reconstructed, "euclidean", "X_reconstructed")
    if A.shape != B.shape:
        raise ValueError(
            f"X and X_reconstructed must have the same shape: X is {A.shape}, X_reconstructed is {B.shape}."
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
