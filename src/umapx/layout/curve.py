"""The low-dimensional similarity curve phi(d) = 1 / (1 + a d^2b) and its derivatives (002 eq. 12):
the one definition every kernel, loss and radius uses.

Powers are taken in single precision (libm's powf costs about half of pow, and layouts are
float32); every function takes d^2, so no square root is needed. A torch mirror of these functions
(for the parametric model) is to be tested against them.
"""

from __future__ import annotations

import numba
import numpy as np

_REPULSION_EPS = 1e-3  # softens the repulsion at d = 0, as umap-learn does


#: a, b of ``fit_ab_params`` for umap-learn's defaults (spread 1, min_dist 0.1), kept because
#: importing scipy.optimize for the fit costs 0.2 s, a tenth of a fit of 1,800 points.
DEFAULT_AB = (1.5769434602697652, 0.8950608778515733)


def find_ab_params(spread, min_dist):
    """a, b of phi for ``spread`` and ``min_dist``: ``DEFAULT_AB`` for the defaults, else fitted."""
    return DEFAULT_AB if (spread, min_dist) == (1.0, 0.1) else fit_ab_params(spread, min_dist)


def fit_ab_params(spread, min_dist):
    """Fit a, b of phi to the target curve: 1 below min_dist, exp(-(d - min_dist) / spread) above (002 eq. 12)."""
    from scipy.optimize import curve_fit

    d = np.linspace(0, spread * 3, 300)
    target = np.where(d < min_dist, 1.0, np.exp(-(d - min_dist) / spread))
    (a, b), _ = curve_fit(lambda x, a, b: 1.0 / (1.0 + a * x ** (2 * b)), d, target)
    return float(a), float(b)


@numba.njit(inline="always")
def pow32(x, p):
    """x^p in single precision, returned as float64."""
    return np.float64(np.float32(x) ** np.float32(p))


@numba.njit(inline="always")
def q_of(d2, a, b):
    """q = a d^2b, so that phi = 1 / (1 + q) (004 eq. 6)."""
    return a * pow32(d2, b)


@numba.njit(inline="always")
def phi(d2, a, b):
    """phi = 1 / (1 + a d^2b) (002 eq. 12)."""
    return 1.0 / (1.0 + q_of(d2, a, b))


@numba.njit(inline="always")
def attract_coeff(d2, a, b):
    """-dL/dd / d of the attractive term log(1 + a d^2b), as a function of d^2 (002 eq. 13)."""
    if d2 <= 0.0:
        return 0.0
    d2b = pow32(d2, b)
    return -2.0 * a * b * d2b / (d2 * (1.0 + a * d2b))


@numba.njit(inline="always")
def repel_coeff(d2, a, b, gamma):
    """-dL/dd / d of the repulsive term -gamma log(1 - phi), softened at d = 0 (002 eq. 13)."""
    return 2.0 * gamma * b / ((d2 + _REPULSION_EPS) * (1.0 + q_of(d2, a, b)))


@numba.njit(cache=True)
def phi_of(d2, a, b):
    """phi of every entry of an array of squared distances."""
    out = np.empty(d2.shape)
    flat, res = d2.ravel(), out.ravel()
    for t in range(flat.shape[0]):
        res[t] = phi(flat[t], a, b)
    return out
