"""umap-learn's ``umap.distances`` API as thin wrappers over umapx's kernels in ``umapx.metrics``.

Each function here has umap-learn's name and signature, is ``numba.njit``-compiled and calls the
``umapx.metrics`` kernel that umapx's own neighbour search and layout run (those take ``(x, y, params)``
with the metric's parameters packed into a float64 array). The ``*_grad`` functions return
``(distance, gradient with respect to x)`` as umap-learn's do.

Differences from umap-learn, all inherited from umapx's kernels:

* the gradients are exact (umap-learn adds 1e-6 to some denominators); ``hyperboloid_grad`` is 0
  when the points coincide and ``haversine_grad`` is the gradient of ``haversine`` itself
  (latitude, longitude in radians; umap-learn's shifts the latitude by pi/2);
* ``kulsinski`` and ``russellrao`` follow scipy's formulas, so neither is 0 for a vector with
  itself (umap-learn special-cases identical vectors to 0);
* ``weighted_minkowski``, ``standardised_euclidean`` and ``mahalanobis`` default to unit weights,
  unit variances and the identity for any number of features (umap-learn's defaults fit 2).

Not provided (umapx has no kernel for them): ``poincare``, ``softmax_hellinger``, ``ll_dirichlet``,
``symmetric_kl``, ``sinkhorn_distance``, ``categorical_distance``, ``hierarchical_categorical_distance``,
``ordinal_distance``, ``count_distance``, ``levenshtein``, ``levenshtein_myers_ascii``,
``mahalanobis_f64``, the gradients ``standardised_euclidean_grad``, ``weighted_minkowski_grad``,
``mahalanobis_grad``, ``canberra_grad``, ``bray_curtis_grad``, ``hellinger_grad``,
``softmax_hellinger_grad``, ``symmetric_kl_grad``, ``spherical_gaussian_energy_grad``,
``diagonal_gaussian_energy_grad``, ``gaussian_energy_grad``, ``spherical_gaussian_grad``, and the
helpers ``sign``, ``softmax``, ``approx_log_Gamma``, ``log_beta``, ``log_single_beta``,
``get_discrete_params``, ``parallel_special_metric``, ``chunked_parallel_special_metric``,
``DISCRETE_METRICS``, ``SPECIAL_METRICS``.
"""

from __future__ import annotations

import numba
import numpy as np

from . import metrics as _m

_jit = numba.njit(cache=True)
_NONE = np.empty(0, dtype=np.float64)  # params of a metric without parameters


@_jit
def _check_2d(x):
    if x.shape[0] != 2:
        raise ValueError("haversine is only defined for 2 dimensional data")


# --------------------------------------------------------------------------
# Distances
# --------------------------------------------------------------------------


@_jit
def euclidean(x, y):
    """Euclidean (l2) distance."""
    return _m.euclidean(x, y, _NONE)


@_jit
def manhattan(x, y):
    """Manhattan (l1, taxicab) distance."""
    return _m.manhattan(x, y, _NONE)


@_jit
def chebyshev(x, y):
    """Chebyshev (l-infinity) distance."""
    return _m.chebyshev(x, y, _NONE)


@_jit
def minkowski(x, y, p=2):
    """Minkowski distance of order ``p``."""
    return _m.minkowski(x, y, np.array([float(p)]))


@_jit
def weighted_minkowski(x, y, w=None, p=2):
    """(sum_i w_i |x_i - y_i|^p)^(1/p) (scipy's weighted minkowski); ``w`` >= 0, default all ones."""
    params = np.ones(x.shape[0] + 1)
    params[0] = p
    if w is not None:
        # umapx's kernel weighs the differences before the power: pass w^(1/p)
        params[1:] = np.asarray(w, dtype=np.float64) ** (1.0 / p)
    return _m.wminkowski(x, y, params)


@_jit
def standardised_euclidean(x, y, sigma=None):
    """sqrt(sum_i (x_i - y_i)^2 / sigma_i) with ``sigma`` the per-feature variances (default all ones)."""
    if sigma is None:
        return _m.euclidean(x, y, _NONE)
    return _m.seuclidean(x, y, sigma)


@_jit
def mahalanobis(x, y, vinv=None):
    """sqrt((x - y)^T vinv (x - y)) with ``vinv`` the inverse covariance (default the identity)."""
    if vinv is None:
        return _m.euclidean(x, y, _NONE)
    return _m.mahalanobis(x, y, np.ascontiguousarray(vinv).ravel())


@_jit
def canberra(x, y):
    """Canberra distance."""
    return _m.canberra(x, y, _NONE)


@_jit
def bray_curtis(x, y):
    """Bray-Curtis dissimilarity."""
    return _m.braycurtis(x, y, _NONE)


@_jit
def cosine(x, y):
    """Cosine distance (0 for two zero vectors, 1 for one)."""
    return _m.cosine(x, y, _NONE)


@_jit
def correlation(x, y):
    """Correlation distance: cosine distance of the mean-centred vectors."""
    return _m.correlation(x, y, _NONE)


@_jit
def hellinger(x, y):
    """Hellinger distance of two non-negative vectors, each taken as a distribution."""
    return _m.hellinger(x, y, _NONE)


@_jit
def haversine(x, y):
    """Great-circle angle between two (latitude, longitude) points in radians."""
    _check_2d(x)
    return _m.haversine(x, y, _NONE)


@_jit
def hamming(x, y):
    """Fraction of entries that differ."""
    return _m.hamming(x, y, _NONE)


@_jit
def jaccard(x, y):
    """Jaccard distance (nonzero entries are True)."""
    return _m.jaccard(x, y, _NONE)


@_jit
def dice(x, y):
    """Dice dissimilarity (nonzero entries are True)."""
    return _m.dice(x, y, _NONE)


@_jit
def matching(x, y):
    """Matching dissimilarity: hamming on the boolean vectors."""
    return _m.matching(x, y, _NONE)


@_jit
def kulsinski(x, y):
    """Kulsinski dissimilarity, scipy's (< 1.11) formula."""
    return _m.kulsinski(x, y, _NONE)


@_jit
def rogers_tanimoto(x, y):
    """Rogers-Tanimoto dissimilarity."""
    return _m.rogerstanimoto(x, y, _NONE)


@_jit
def russellrao(x, y):
    """Russell-Rao dissimilarity, scipy's formula."""
    return _m.russellrao(x, y, _NONE)


@_jit
def sokal_sneath(x, y):
    """Sokal-Sneath dissimilarity."""
    return _m.sokalsneath(x, y, _NONE)


@_jit
def sokal_michener(x, y):
    """Sokal-Michener dissimilarity (the same formula as Rogers-Tanimoto)."""
    return _m.sokalmichener(x, y, _NONE)


@_jit
def yule(x, y):
    """Yule dissimilarity (0 when no entry is True in one vector and False in the other, either way)."""
    return _m.yule(x, y, _NONE)


# --------------------------------------------------------------------------
# Distances with gradients: (d(x, y), dd/dx)
# --------------------------------------------------------------------------


@_jit
def euclidean_grad(x, y):
    """Euclidean distance and its gradient with respect to ``x``."""
    grad = np.empty(x.shape[0])
    return _m.euclidean_grad(x, y, _NONE, grad), grad


@_jit
def manhattan_grad(x, y):
    """Manhattan distance and its gradient with respect to ``x``."""
    grad = np.empty(x.shape[0])
    return _m.manhattan_grad(x, y, _NONE, grad), grad


@_jit
def chebyshev_grad(x, y):
    """Chebyshev distance and its gradient with respect to ``x``."""
    grad = np.empty(x.shape[0])
    return _m.chebyshev_grad(x, y, _NONE, grad), grad


@_jit
def minkowski_grad(x, y, p=2.0):
    """Minkowski distance of order ``p`` and its gradient with respect to ``x``."""
    grad = np.empty(x.shape[0])
    return _m.minkowski_grad(x, y, np.array([float(p)]), grad), grad


@_jit
def haversine_grad(x, y):
    """Haversine distance and its gradient with respect to ``x`` (latitude, longitude in radians)."""
    _check_2d(x)
    grad = np.empty(2)
    return _m.haversine_grad(x, y, _NONE, grad), grad


@_jit
def hyperboloid_grad(x, y):
    """Distance on the hyperboloid model (x, y its free coordinates) and its gradient."""
    grad = np.empty(x.shape[0])
    return _m.hyperboloid_grad(x, y, _NONE, grad), grad


@_jit
def cosine_grad(x, y):
    """Cosine distance and its gradient with respect to ``x``."""
    grad = np.empty(x.shape[0])
    return _m.cosine_grad(x, y, _NONE, grad), grad


@_jit
def correlation_grad(x, y):
    """Correlation distance and its gradient with respect to ``x``."""
    grad = np.empty(x.shape[0])
    return _m.correlation_grad(x, y, _NONE, grad), grad


# --------------------------------------------------------------------------
# Registries
# --------------------------------------------------------------------------

#: umap-learn's name (and alias) -> (function, umapx.metrics name)
_NAMED = {
    "euclidean": (euclidean, "euclidean"),
    "l2": (euclidean, "euclidean"),
    "manhattan": (manhattan, "manhattan"),
    "taxicab": (manhattan, "manhattan"),
    "l1": (manhattan, "manhattan"),
    "chebyshev": (chebyshev, "chebyshev"),
    "linfinity": (chebyshev, "chebyshev"),
    "linfty": (chebyshev, "chebyshev"),
    "linf": (chebyshev, "chebyshev"),
    "minkowski": (minkowski, "minkowski"),
    "seuclidean": (standardised_euclidean, "seuclidean"),
    "standardised_euclidean": (standardised_euclidean, "seuclidean"),
    "wminkowski": (weighted_minkowski, "wminkowski"),
    "weighted_minkowski": (weighted_minkowski, "wminkowski"),
    "mahalanobis": (mahalanobis, "mahalanobis"),
    "canberra": (canberra, "canberra"),
    "cosine": (cosine, "cosine"),
    "correlation": (correlation, "correlation"),
    "hellinger": (hellinger, "hellinger"),
    "haversine": (haversine, "haversine"),
    "braycurtis": (bray_curtis, "braycurtis"),
    "hamming": (hamming, "hamming"),
    "jaccard": (jaccard, "jaccard"),
    "dice": (dice, "dice"),
    "matching": (matching, "matching"),
    "kulsinski": (kulsinski, "kulsinski"),
    "rogerstanimoto": (rogers_tanimoto, "rogerstanimoto"),
    "russellrao": (russellrao, "russellrao"),
    "sokalsneath": (sokal_sneath, "sokalsneath"),
    "sokalmichener": (sokal_michener, "sokalmichener"),
    "yule": (yule, "yule"),
}

named_distances = {name: fn for name, (fn, _) in _NAMED.items()}

named_distances_with_gradients = {
    "euclidean": euclidean_grad,
    "l2": euclidean_grad,
    "manhattan": manhattan_grad,
    "taxicab": manhattan_grad,
    "l1": manhattan_grad,
    "chebyshev": chebyshev_grad,
    "linfinity": chebyshev_grad,
    "linfty": chebyshev_grad,
    "linf": chebyshev_grad,
    "minkowski": minkowski_grad,
    "cosine": cosine_grad,
    "correlation": correlation_grad,
    "haversine": haversine_grad,
    "hyperboloid": hyperboloid_grad,
}


# --------------------------------------------------------------------------
# Pairwise distances
# --------------------------------------------------------------------------


def _resolve(metric, kwds, n_features):
    """umapx's resolved metric for a name of ``named_distances`` and umap-learn's keywords
    (minkowski ``p``; seuclidean ``sigma``; wminkowski ``w``, ``p``; mahalanobis ``vinv``)."""
    kw = {_m.KEY_ALIASES.get(k, k): v for k, v in (kwds or {}).items()}
    name = _NAMED[metric][1]
    if name == "seuclidean":
        kw.setdefault("V", np.ones(n_features))
    elif name == "wminkowski":
        kw.setdefault("p", 2.0)
        kw["w"] = np.asarray(kw.pop("w", np.ones(n_features)), dtype=np.float64) ** (1.0 / float(kw["p"]))
    elif name == "mahalanobis":
        kw.setdefault("VI", np.eye(n_features))
    return _m.resolve_metric(name, kw, n_features)


@numba.njit(parallel=True, cache=True)
def _pairwise(X, Y, code, params, symmetric):
    """d(X[i], Y[j]) by umapx's metric ``code``; ``symmetric`` (Y is X) fills the upper triangle
    and mirrors it, leaving 0 on the diagonal as scipy's ``pdist`` does."""
    out = np.zeros((X.shape[0], Y.shape[0]))
    for i in numba.prange(X.shape[0]):
        for j in range(i + 1 if symmetric else 0, Y.shape[0]):
            out[i, j] = _m.distance(code, X[i], Y[j], params)
    if symmetric:
        for i in range(X.shape[0]):
            for j in range(i):
                out[i, j] = out[j, i]
    return out


def pairwise_special_metric(X, Y=None, metric="hellinger", kwds=None, ensure_all_finite=True):
    """Pairwise distance matrix of the rows of ``X`` (and ``Y``).

    ``metric`` is a name of ``named_distances`` (computed by umapx's kernels, with ``kwds`` as
    umap-learn's keyword names) or a numba function ``metric(x, y, *kwds.values())`` (computed by
    the kernel that umapx's exact search runs for metric functions). With ``Y=None`` and a name the
    diagonal is 0.
    """
    from .neighbors import callable_distances

    if not callable(metric) and metric not in _NAMED:
        raise ValueError(f"Unknown metric {metric!r}; valid: {', '.join(sorted(_NAMED))}")
    X = np.ascontiguousarray(X, dtype=np.float64)
    Z = X if Y is None else np.ascontiguousarray(Y, dtype=np.float64)
    if ensure_all_finite and not (np.isfinite(X).all() and np.isfinite(Z).all()):
        raise ValueError("Input contains NaN or infinity.")
    if callable(metric):
        return callable_distances(Z, X, metric, tuple((kwds or {}).values()))
    resolved = _resolve(metric, kwds, X.shape[1])
    return _pairwise(X, Z, resolved.code, resolved.params, Y is None)
