"""umap-learn's ``umap.utils`` helpers for users, on numpy/scipy and umapx's fitted ``Graph``.

Provided: ``fast_knn_indices``, ``disconnected_vertices``, ``average_nn_distance``, ``csr_unique``.
Not provided (umap-learn's internal kernels, with no use outside its own code): ``tau_rand_int``,
``tau_rand``, ``norm``, ``submatrix``, ``ts``.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from .pipeline import row_keys

__all__ = ["average_nn_distance", "csr_unique", "disconnected_vertices", "fast_knn_indices"]


def fast_knn_indices(X, n_neighbors):
    """Indices (int32, n_samples x n_neighbors) of the ``n_neighbors`` smallest entries of each row of
    the distance matrix ``X``, smallest first, ties in column order (a point is its own first
    neighbour when its diagonal entry is the row's smallest)."""
    return np.argsort(np.asarray(X), axis=1, kind="stable")[:, :n_neighbors].astype(np.int32)


def disconnected_vertices(model):
    """Boolean mask, one entry per training row, of the points without an edge in ``model.graph_``.
    With ``unique=True`` a row takes its vertex's value. ``~disconnected_vertices(model)`` selects the
    connected points (for example for ``umapx.plot``'s ``subset_points``)."""
    mask = np.asarray(model.graph_.sum(axis=1)).ravel() == 0
    graph_model = getattr(model, "graph_model_", None)
    return mask if graph_model is None else graph_model.per_row(mask)


def average_nn_distance(dist_matrix):
    """Mean of the stored (nonzero) entries of each row of a sparse matrix (for example a model's
    ``graph_dists_``); NaN, with a warning, for a row without any."""
    rows, _, vals = sp.find(dist_matrix)
    n = dist_matrix.shape[0]
    counts = np.bincount(rows, minlength=n)
    sums = np.bincount(rows, weights=vals, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        averages = sums / counts
    if (counts == 0).any():
        warnings.warn(
            "Embedding contains disconnected vertices which will be ignored. "
            "Use umapx.utils.disconnected_vertices() to identify them.",
            stacklevel=2,
        )
    return averages


def csr_unique(matrix, return_index=True, return_inverse=True, return_counts=True):
    """The distinct rows of a sparse matrix, as ``numpy.unique(..., axis=0)`` gives them for a dense
    one but without densifying: the requested ones of (``index``: the first row of each distinct
    row, ``inverse``: each row's distinct row, ``counts``), as a tuple, so that
    ``matrix[index][inverse]`` equals ``matrix``. Explicit zeros do not count as entries."""
    keys = row_keys(sp.csr_matrix(matrix))
    _, index, inverse, counts = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    wanted = (return_index, return_inverse, return_counts)
    return tuple(out for out, want in zip((index, inverse.ravel(), counts), wanted, strict=True) if want)
