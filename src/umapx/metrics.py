"""Every distance umapx knows, in one place.

Numba kernels elsewhere choose a distance at run time *and* are cached with
``@numba.njit(cache=True)``.  Numba cannot cache a function that receives
another jitted function as an argument, so distances are dispatched by an
integer code through one jitted if-chain:

* input metrics: ``distance(code, x, y, params) -> float``
* output metrics (with gradient w.r.t. ``x``):
  ``output_distance_grad(code, x, y, params, grad) -> float``

Input and output codes are two separate integer namespaces (module constants
below); ``CUSTOM`` (-1) marks a user-supplied numba function, which callers
must invoke themselves as ``fn(x, y, *extra)``.

Every kernel takes 1-D float32/float64 ``x``, ``y`` and a 1-D float64
``params`` array (empty when the metric has no parameters) and returns a
float64.  Boolean metrics treat nonzero entries as True.  Nothing is compiled
at import time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numba.core.registry
import numpy as np

_jit = numba.njit(cache=True, fastmath=False)

CUSTOM = -1
PRECOMPUTED = -2
(
    EUCLIDEAN,
    MANHATTAN,
    CHEBYSHEV,
    MINKOWSKI,
    SEUCLIDEAN,
    WMINKOWSKI,
    MAHALANOBIS,
    CANBERRA,
    BRAYCURTIS,
    COSINE,
    CORRELATION,
    HELLINGER,
    HAVERSINE,
    HAMMING,
    JACCARD,
    DICE,
    MATCHING,
    KULSINSKI,
    ROGERSTANIMOTO,
    RUSSELLRAO,
    SOKALSNEATH,
    SOKALMICHENER,
    YULE,
) = range(23)
(
    OUT_EUCLIDEAN,
    OUT_MANHATTAN,
    OUT_CHEBYSHEV,
    OUT_MINKOWSKI,
    OUT_HAVERSINE,
    OUT_HYPERBOLOID,
    OUT_COSINE,
    OUT_CORRELATION,
) = range(8)


# --------------------------------------------------------------------------
# Input metrics: f(x, y, params) -> float
# --------------------------------------------------------------------------


@_jit
def euclidean(x, y, params):
    # sqrt(sum (x_i - y_i)^2)
    s = 0.0
    for i in range(x.shape[0]):
        d = x[i] - y[i]
        s += d * d
    return np.sqrt(s)


@_jit
def manhattan(x, y, params):
    # sum |x_i - y_i|
    s = 0.0
    for i in range(x.shape[0]):
        s += abs(x[i] - y[i])
    return s


@_jit
def chebyshev(x, y, params):
    # max |x_i - y_i|
    m = 0.0
    for i in range(x.shape[0]):
        m = max(m, abs(x[i] - y[i]))
    return m


@_jit
def minkowski(x, y, params):
    # (sum |x_i - y_i|^p)^(1/p), params = [p]
    p = params[0]
    s = 0.0
    for i in range(x.shape[0]):
        s += abs(x[i] - y[i]) ** p
    return s ** (1.0 / p)


@_jit
def seuclidean(x, y, params):
    # sqrt(sum (x_i - y_i)^2 / V_i), params = V
    s = 0.0
    for i in range(x.shape[0]):
        d = x[i] - y[i]
        s += d * d / params[i]
    return np.sqrt(s)


@_jit
def wminkowski(x, y, params):
    # (sum |w_i (x_i - y_i)|^p)^(1/p), params = [p, w_0, ..., w_{d-1}]
    p = params[0]
    s = 0.0
    for i in range(x.shape[0]):
        s += abs(params[i + 1] * (x[i] - y[i])) ** p
    return s ** (1.0 / p)


@_jit
def mahalanobis(x, y, params):
    # sqrt((x - y)^T VI (x - y)), params = VI flattened row-major
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        di = x[i] - y[i]
        for j in range(n):
            s += di * params[i * n + j] * (x[j] - y[j])
    return np.sqrt(max(s, 0.0))


@_jit
def canberra(x, y, params):
    # sum |x_i - y_i| / (|x_i| + |y_i|), 0/0 terms count as 0
    s = 0.0
    for i in range(x.shape[0]):
        den = abs(x[i]) + abs(y[i])
        if den > 0:
            s += abs(x[i] - y[i]) / den
    return s


@_jit
def braycurtis(x, y, params):
    # sum |x_i - y_i| / sum |x_i + y_i|, 0 when both vectors are zero
    num = 0.0
    den = 0.0
    for i in range(x.shape[0]):
        num += abs(x[i] - y[i])
        den += abs(x[i] + y[i])
    if den == 0.0:
        return 0.0
    return num / den


@_jit
def _cosine_from_sums(dot, nx, ny):
    # 1 - dot / (|x| |y|) clipped to [0, 2]; 0 if both zero, 1 if one is zero
    if nx == 0.0 and ny == 0.0:
        return 0.0
    if nx == 0.0 or ny == 0.0:
        return 1.0
    return min(max(1.0 - dot / (np.sqrt(nx) * np.sqrt(ny)), 0.0), 2.0)


@_jit
def cosine(x, y, params):
    # 1 - x.y / (|x| |y|)
    dot = 0.0
    nx = 0.0
    ny = 0.0
    for i in range(x.shape[0]):
        dot += x[i] * y[i]
        nx += x[i] * x[i]
        ny += y[i] * y[i]
    return _cosine_from_sums(dot, nx, ny)


@_jit
def _mean(x):
    # mean accumulated in float64
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
    return s / x.shape[0]


@_jit
def correlation(x, y, params):
    # cosine distance between the mean-centred vectors
    mx = _mean(x)
    my = _mean(y)
    dot = 0.0
    nx = 0.0
    ny = 0.0
    for i in range(x.shape[0]):
        a = x[i] - mx
        b = y[i] - my
        dot += a * b
        nx += a * a
        ny += b * b
    return _cosine_from_sums(dot, nx, ny)


@_jit
def hellinger(x, y, params):
    # sqrt(1 - sum sqrt(x_i y_i) / sqrt(sum x * sum y)); non-negative input;
    # 0 if both sum to 0, 1 if exactly one does
    s = 0.0
    sx = 0.0
    sy = 0.0
    for i in range(x.shape[0]):
        s += np.sqrt(x[i] * y[i])
        sx += x[i]
        sy += y[i]
    if sx == 0.0 and sy == 0.0:
        return 0.0
    if sx == 0.0 or sy == 0.0:
        return 1.0
    return np.sqrt(max(1.0 - s / np.sqrt(sx * sy), 0.0))


@_jit
def _haversine_h(x, y):
    # h = sin^2(dlat/2) + cos(lat_x) cos(lat_y) sin^2(dlon/2), clipped to [0, 1]
    sin_lat = np.sin(0.5 * (x[0] - y[0]))
    sin_lon = np.sin(0.5 * (x[1] - y[1]))
    h = sin_lat * sin_lat + np.cos(x[0]) * np.cos(y[0]) * sin_lon * sin_lon
    return min(max(h, 0.0), 1.0)


@_jit
def haversine(x, y, params):
    # great-circle angle 2 arcsin(sqrt(h)); x = [latitude, longitude] in radians
    return 2.0 * np.arcsin(np.sqrt(_haversine_h(x, y)))


@_jit
def _bool_counts(x, y):
    # (n_tt, n_tf, n_ft) with nonzero read as True
    ntt = 0
    ntf = 0
    nft = 0
    for i in range(x.shape[0]):
        a = x[i] != 0
        b = y[i] != 0
        if a and b:
            ntt += 1
        elif a:
            ntf += 1
        elif b:
            nft += 1
    return ntt, ntf, nft


@_jit
def hamming(x, y, params):
    # fraction of entries where x_i != y_i (values compared, like scipy)
    neq = 0
    for i in range(x.shape[0]):
        if x[i] != y[i]:
            neq += 1
    return neq / x.shape[0]


@_jit
def jaccard(x, y, params):
    # n_neq / (n_tt + n_neq); 0 when neither has a true entry
    ntt, ntf, nft = _bool_counts(x, y)
    neq = ntf + nft
    if ntt + neq == 0:
        return 0.0
    return neq / (ntt + neq)


@_jit
def dice(x, y, params):
    # n_neq / (2 n_tt + n_neq); 0 when neither has a true entry
    ntt, ntf, nft = _bool_counts(x, y)
    neq = ntf + nft
    if ntt + neq == 0:
        return 0.0
    return neq / (2 * ntt + neq)


@_jit
def matching(x, y, params):
    # n_neq / n  (hamming on the boolean-ised vectors)
    ntt, ntf, nft = _bool_counts(x, y)
    return (ntf + nft) / x.shape[0]


@_jit
def kulsinski(x, y, params):
    # (n_neq - n_tt + n) / (n_neq + n)  (scipy < 1.11 formula)
    n = x.shape[0]
    ntt, ntf, nft = _bool_counts(x, y)
    neq = ntf + nft
    return (neq - ntt + n) / (neq + n)


@_jit
def rogerstanimoto(x, y, params):
    # 2 n_neq / (n + n_neq)
    ntt, ntf, nft = _bool_counts(x, y)
    neq = ntf + nft
    return 2.0 * neq / (x.shape[0] + neq)


# Sokal-Michener and Rogers-Tanimoto have the same formula.
sokalmichener = rogerstanimoto


@_jit
def russellrao(x, y, params):
    # (n - n_tt) / n
    ntt, ntf, nft = _bool_counts(x, y)
    return (x.shape[0] - ntt) / x.shape[0]


@_jit
def sokalsneath(x, y, params):
    # 2 n_neq / (n_tt + 2 n_neq); 0 when neither has a true entry
    ntt, ntf, nft = _bool_counts(x, y)
    r = 2 * (ntf + nft)
    if ntt + r == 0:
        return 0.0
    return r / (ntt + r)


@_jit
def yule(x, y, params):
    # 2 n_tf n_ft / (n_tt n_ff + n_tf n_ft); 0 when n_tf n_ft == 0
    ntt, ntf, nft = _bool_counts(x, y)
    nff = x.shape[0] - ntt - ntf - nft
    half_r = ntf * nft
    if half_r == 0:
        return 0.0
    return 2.0 * half_r / (ntt * nff + half_r)


@numba.njit(cache=True)
def distance(code, x, y, params):
    """Input distance selected by integer ``code`` (see ``METRICS``)."""
    if code == EUCLIDEAN:
        return euclidean(x, y, params)
    elif code == MANHATTAN:
        return manhattan(x, y, params)
    elif code == CHEBYSHEV:
        return chebyshev(x, y, params)
    elif code == MINKOWSKI:
        return minkowski(x, y, params)
    elif code == SEUCLIDEAN:
        return seuclidean(x, y, params)
    elif code == WMINKOWSKI:
        return wminkowski(x, y, params)
    elif code == MAHALANOBIS:
        return mahalanobis(x, y, params)
    elif code == CANBERRA:
        return canberra(x, y, params)
    elif code == BRAYCURTIS:
        return braycurtis(x, y, params)
    elif code == COSINE:
        return cosine(x, y, params)
    elif code == CORRELATION:
        return correlation(x, y, params)
    elif code == HELLINGER:
        return hellinger(x, y, params)
    elif code == HAVERSINE:
        return haversine(x, y, params)
    elif code == HAMMING:
        return hamming(x, y, params)
    elif code == JACCARD:
        return jaccard(x, y, params)
    elif code == DICE:
        return dice(x, y, params)
    elif code == MATCHING:
        return matching(x, y, params)
    elif code == KULSINSKI:
        return kulsinski(x, y, params)
    elif code == ROGERSTANIMOTO:
        return rogerstanimoto(x, y, params)
    elif code == RUSSELLRAO:
        return russellrao(x, y, params)
    elif code == SOKALSNEATH:
        return sokalsneath(x, y, params)
    elif code == SOKALMICHENER:
        return sokalmichener(x, y, params)
    elif code == YULE:
        return yule(x, y, params)
    raise ValueError("umapx.metrics.distance: unknown metric code")


# --------------------------------------------------------------------------
# Output metrics: g(x, y, params, grad) -> d(x, y); grad <- dd/dx
# --------------------------------------------------------------------------


@_jit
def euclidean_grad(x, y, params, grad):
    # d = |x - y|; dd/dx = (x - y) / d
    dist = euclidean(x, y, params)
    for i in range(x.shape[0]):
        grad[i] = (x[i] - y[i]) / dist if dist > 0.0 else 0.0
    return dist


@_jit
def manhattan_grad(x, y, params, grad):
    # d = sum |x_i - y_i|; dd/dx_i = sign(x_i - y_i)
    for i in range(x.shape[0]):
        grad[i] = np.sign(x[i] - y[i])
    return manhattan(x, y, params)


@_jit
def chebyshev_grad(x, y, params, grad):
    # d = |x_k - y_k| at k = argmax; dd/dx = sign(x_k - y_k) e_k
    k = 0
    m = 0.0
    for i in range(x.shape[0]):
        grad[i] = 0.0
        if abs(x[i] - y[i]) > m:
            m = abs(x[i] - y[i])
            k = i
    grad[k] = np.sign(x[k] - y[k])
    return m


@_jit
def minkowski_grad(x, y, params, grad):
    # dd/dx_i = sign(x_i - y_i) |x_i - y_i|^(p-1) / d^(p-1), params = [p]
    p = params[0]
    dist = minkowski(x, y, params)
    for i in range(x.shape[0]):
        diff = x[i] - y[i]
        if dist > 0.0 and diff != 0.0:
            grad[i] = np.sign(diff) * (abs(diff) / dist) ** (p - 1.0)
        else:
            grad[i] = 0.0
    return dist


@_jit
def haversine_grad(x, y, params, grad):
    # d = 2 arcsin(sqrt(h)); dd/dh = 1 / sqrt(h (1 - h))
    h = _haversine_h(x, y)
    if h <= 0.0 or h >= 1.0:  # coincident or antipodal: no usable gradient
        grad[0] = 0.0
        grad[1] = 0.0
        return 2.0 * np.arcsin(np.sqrt(h))
    dd_dh = 1.0 / np.sqrt(h * (1.0 - h))
    sin_lon = np.sin(0.5 * (x[1] - y[1]))
    # dh/dlat_x = sin(dlat)/2 - sin(lat_x) cos(lat_y) sin^2(dlon/2)
    grad[0] = dd_dh * (0.5 * np.sin(x[0] - y[0]) - np.sin(x[0]) * np.cos(y[0]) * sin_lon * sin_lon)
    # dh/dlon_x = cos(lat_x) cos(lat_y) sin(dlon)/2
    grad[1] = dd_dh * 0.5 * np.cos(x[0]) * np.cos(y[0]) * np.sin(x[1] - y[1])
    return 2.0 * np.arcsin(np.sqrt(h))


@_jit
def hyperboloid_grad(x, y, params, grad):
    # d = arccosh(B), B = sqrt(1+|x|^2) sqrt(1+|y|^2) - x.y;
    # dd/dx = (x sqrt(1+|y|^2)/sqrt(1+|x|^2) - y) / sqrt(B^2 - 1)
    nx = 0.0
    ny = 0.0
    dot = 0.0
    for i in range(x.shape[0]):
        nx += x[i] * x[i]
        ny += y[i] * y[i]
        dot += x[i] * y[i]
    sx = np.sqrt(1.0 + nx)
    sy = np.sqrt(1.0 + ny)
    b = sx * sy - dot
    if b <= 1.0:
        for i in range(x.shape[0]):
            grad[i] = 0.0
        return 0.0
    scale = 1.0 / np.sqrt((b - 1.0) * (b + 1.0))
    for i in range(x.shape[0]):
        grad[i] = scale * (x[i] * sy / sx - y[i])
    return np.arccosh(b)


@_jit
def _cosine_grad_centred(x, y, mx, my, grad):
    # cosine distance of (x - mx, y - my) and its gradient w.r.t. x; centring
    # projects the gradient onto zero-mean vectors, which it already is
    dot = 0.0
    nx = 0.0
    ny = 0.0
    for i in range(x.shape[0]):
        a = x[i] - mx
        b = y[i] - my
        dot += a * b
        nx += a * a
        ny += b * b
    if nx == 0.0 or ny == 0.0:
        for i in range(x.shape[0]):
            grad[i] = 0.0
        return 0.0 if nx == 0.0 and ny == 0.0 else 1.0
    norm = np.sqrt(nx) * np.sqrt(ny)
    cos = dot / norm
    # dd/dx = -(y / (|x||y|) - cos x / |x|^2)
    for i in range(x.shape[0]):
        grad[i] = -((y[i] - my) / norm - cos * (x[i] - mx) / nx)
    return 1.0 - cos


@_jit
def cosine_grad(x, y, params, grad):
    # d = 1 - x.y / (|x||y|)
    return _cosine_grad_centred(x, y, 0.0, 0.0, grad)


@_jit
def correlation_grad(x, y, params, grad):
    # cosine distance of the mean-centred vectors
    return _cosine_grad_centred(x, y, _mean(x), _mean(y), grad)


@numba.njit(cache=True)
def output_distance_grad(code, x, y, params, grad):
    """Output distance selected by ``code`` (see ``OUTPUT_METRICS``); writes
    the gradient w.r.t. ``x`` into ``grad`` and returns the distance."""
    if code == OUT_EUCLIDEAN:
        return euclidean_grad(x, y, params, grad)
    elif code == OUT_MANHATTAN:
        return manhattan_grad(x, y, params, grad)
    elif code == OUT_CHEBYSHEV:
        return chebyshev_grad(x, y, params, grad)
    elif code == OUT_MINKOWSKI:
        return minkowski_grad(x, y, params, grad)
    elif code == OUT_HAVERSINE:
        return haversine_grad(x, y, params, grad)
    elif code == OUT_HYPERBOLOID:
        return hyperboloid_grad(x, y, params, grad)
    elif code == OUT_COSINE:
        return cosine_grad(x, y, params, grad)
    elif code == OUT_CORRELATION:
        return correlation_grad(x, y, params, grad)
    raise ValueError("umapx.metrics.output_distance_grad: unknown metric code")


# --------------------------------------------------------------------------
# Registry and resolution
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """Registry entry.  ``kind`` is one of "float", "angular", "boolean",
    "geographic"; ``sparse_ok``: usable with scipy.sparse input (pynndescent
    has a sparse version); ``disconnection_distance``: default distance at or
    beyond which an edge is dropped (inf: never)."""

    name: str
    code: int
    kind: str
    sparse_ok: bool
    disconnection_distance: float = math.inf

    @property
    def bounded_disconnection(self) -> bool:
        return math.isfinite(self.disconnection_distance)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("euclidean", EUCLIDEAN, "float", True),
        Metric("manhattan", MANHATTAN, "float", True),
        Metric("chebyshev", CHEBYSHEV, "float", True),
        Metric("minkowski", MINKOWSKI, "float", True),
        Metric("seuclidean", SEUCLIDEAN, "float", False),
        Metric("wminkowski", WMINKOWSKI, "float", False),
        Metric("mahalanobis", MAHALANOBIS, "float", False),
        Metric("canberra", CANBERRA, "float", True),
        Metric("braycurtis", BRAYCURTIS, "float", True),
        Metric("cosine", COSINE, "angular", True, 2.0),
        Metric("correlation", CORRELATION, "angular", True, 2.0),
        Metric("hellinger", HELLINGER, "angular", True, 1.0),
        Metric("haversine", HAVERSINE, "geographic", False),
        Metric("hamming", HAMMING, "boolean", True),
        Metric("jaccard", JACCARD, "boolean", True, 1.0),
        Metric("dice", DICE, "boolean", True, 1.0),
        Metric("matching", MATCHING, "boolean", True),
        Metric("kulsinski", KULSINSKI, "boolean", True),
        Metric("rogerstanimoto", ROGERSTANIMOTO, "boolean", True),
        Metric("russellrao", RUSSELLRAO, "boolean", True),
        Metric("sokalsneath", SOKALSNEATH, "boolean", True),
        Metric("sokalmichener", SOKALMICHENER, "boolean", True),
        Metric("yule", YULE, "boolean", False),
    )
}

ALIASES: dict[str, str] = {
    "l2": "euclidean",
    "l1": "manhattan",
    "taxicab": "manhattan",
    "linf": "chebyshev",
    "linfinity": "chebyshev",
    "infinity": "chebyshev",
}

OUTPUT_METRICS: dict[str, int] = {
    "euclidean": OUT_EUCLIDEAN,
    "manhattan": OUT_MANHATTAN,
    "chebyshev": OUT_CHEBYSHEV,
    "minkowski": OUT_MINKOWSKI,
    "haversine": OUT_HAVERSINE,
    "hyperboloid": OUT_HYPERBOLOID,
    "cosine": OUT_COSINE,
    "correlation": OUT_CORRELATION,
}

# keyword arguments each parameterised metric accepts (others accept none)
_PARAM_KEYS: dict[str, tuple[str, ...]] = {
    "minkowski": ("p",),
    "seuclidean": ("V",),
    "wminkowski": ("p", "w"),
    "mahalanobis": ("VI",),
}

#: umap-learn's keyword names (its metrics take them by position) for scipy's, which umapx uses
KEY_ALIASES: dict[str, str] = {"sigma": "V", "vinv": "VI"}

_NO_PARAMS = np.empty(0, dtype=np.float64)


@dataclass(frozen=True)
class ResolvedMetric:
    """A metric ready for the kernels: pass ``code`` and ``params`` to
    ``distance`` / ``output_distance_grad``.  For a user function
    ``code == CUSTOM`` and callers invoke ``callable(x, y, *extra)``."""

    name: str
    code: int
    params: np.ndarray
    callable: Callable | None = None
    extra: tuple = ()
    kwds: dict = field(default_factory=dict)


def metric_names() -> list[str]:
    """Sorted valid input metric names, canonical names and aliases, and 'precomputed'."""
    return sorted({*METRICS, *ALIASES, "precomputed"})


def _output_names() -> list[str]:
    return sorted({*OUTPUT_METRICS, *(a for a, n in ALIASES.items() if n in OUTPUT_METRICS)})


def _check_keys(label: str, name: str, kwds: dict) -> None:
    accepted = _PARAM_KEYS.get(name, ())
    unknown = sorted(set(kwds) - set(accepted))
    if unknown:
        raise ValueError(f"{label} {name!r} got unexpected keyword(s) {unknown}; accepted keys: {list(accepted)}")


def _get_p(name: str, kwds: dict) -> float:
    p = kwds.get("p", 2.0)
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: 'p' must be a number > 0, got {p!r}") from None
    if not (math.isfinite(p) and p > 0):
        raise ValueError(f"{name}: 'p' must be a finite number > 0, got {p!r}")
    return p


def _get_array(name: str, key: str, kwds: dict, shape: tuple[int, ...]) -> np.ndarray:
    if key not in kwds:
        raise ValueError(f"{name} requires metric_kwds[{key!r}] of shape {shape}")
    try:
        arr = np.array(kwds[key], dtype=np.float64)  # always a copy
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {key!r} must be a numeric array of shape {shape}") from None
    if arr.shape != shape:
        raise ValueError(f"{name}: {key!r} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: {key!r} must be finite")
    return arr


def _build_params(name: str, kwds: dict, n_features: int) -> np.ndarray:
    if name == "minkowski":
        return np.array([_get_p(name, kwds)])
    if name == "seuclidean":
        v = _get_array(name, "V", kwds, (n_features,))
        if np.any(v <= 0):
            raise ValueError("seuclidean: 'V' (variances) must be > 0")
        return v
    if name == "wminkowski":
        w = _get_array(name, "w", kwds, (n_features,))
        return np.concatenate(([_get_p(name, kwds)], w))
    if name == "mahalanobis":
        return _get_array(name, "VI", kwds, (n_features, n_features)).ravel()
    if name == "haversine" and n_features != 2:
        raise ValueError(f"haversine needs 2 features (latitude, longitude), got {n_features}")
    return _NO_PARAMS.copy()


def resolve_metric(metric, metric_kwds: dict | None, n_features: int) -> ResolvedMetric:
    """Validate an input metric (name or numba function) and its keywords.

    Keywords: minkowski ``p`` (default 2); seuclidean ``V`` (length
    n_features, > 0); wminkowski ``w`` (length n_features) and ``p`` (default
    2); mahalanobis ``VI`` (n_features x n_features); umap-learn's names ``sigma``
    and ``vinv`` stand for ``V`` and ``VI``.  A numba function is
    called as ``fn(x, y, *metric_kwds.values())`` (values in dict order).
    Neither ``metric_kwds`` nor its arrays are modified.
    """
    kwds = dict(metric_kwds or {})
    if isinstance(metric, str) and metric == "precomputed":
        return ResolvedMetric("precomputed", PRECOMPUTED, _NO_PARAMS.copy())
    if isinstance(metric, str):
        name = ALIASES.get(metric, metric)
        if name not in METRICS:
            raise ValueError(f"Unknown metric {metric!r}; valid metrics: {', '.join(metric_names())}")
        kwds = {KEY_ALIASES.get(k, k): v for k, v in kwds.items()}
        _check_keys("metric", name, kwds)
        return ResolvedMetric(name, METRICS[name].code, _build_params(name, kwds, n_features), kwds=kwds)
    if isinstance(metric, numba.core.registry.CPUDispatcher):
        extra = tuple(np.array(v) if isinstance(v, np.ndarray) else v for v in kwds.values())
        return ResolvedMetric(metric.__name__, CUSTOM, _NO_PARAMS.copy(), metric, extra, kwds)
    if callable(metric):
        raise TypeError(f"custom metric {getattr(metric, '__name__', metric)!r} must be decorated with numba.njit")
    raise TypeError(f"metric must be a string or a numba.njit function, got {type(metric)!r}")


def resolve_output_metric(name, kwds: dict | None, n_components: int) -> ResolvedMetric:
    """Validate an output metric name (aliases allowed) and its keywords
    (only minkowski takes one: ``p``, default 2)."""
    if not isinstance(name, str):
        raise TypeError(f"output_metric must be a string, got {type(name)!r}")
    kwds = dict(kwds or {})
    canon = ALIASES.get(name, name)
    if canon not in OUTPUT_METRICS:
        raise ValueError(f"Unknown output_metric {name!r}; valid: {', '.join(_output_names())}")
    _check_keys("output_metric", canon, kwds)
    if canon == "haversine" and n_components != 2:
        raise ValueError(f"output_metric 'haversine' needs n_components == 2, got {n_components}")
    if canon == "correlation" and n_components < 2:
        raise ValueError("output_metric 'correlation' needs n_components >= 2")
    params = np.array([_get_p(canon, kwds)]) if canon == "minkowski" else _NO_PARAMS.copy()
    return ResolvedMetric(canon, OUTPUT_METRICS[canon], params, kwds=kwds)
