"""DensMAP: local radii and the gradient of their correlation (Narayan et al. 2021; 002 section 6).

The log local radius of a point is the log of its neighbours' mean squared distance, weighted by
membership: mu in the data (002 eq. 30), phi = 1 / (1 + a d^2b) in the embedding (002 eq. 31).
DensMAP adds -lambda Corr(r_emb, R) to UMAP's loss (002 eqs. 33-34), with R the standardised
data radii, in the last ``frac`` of the epochs. Each such epoch starts with a pass in which every
vertex sums over its own CSR row in the epoch's snapshot (no shared accumulators, so the result is
the same on any number of threads); in the SGD kernel each vertex then steps along the correlation's
gradient, a sum over its own edges (002 eq. 35), one step per edge, along every edge in every such
epoch. Only the head moves for it: the tail of an edge takes its own share from its own row, so no
stale pull carries the term (with pulls, its large steps overshoot and blur the clusters).

Each edge's step is clipped per coordinate at 4 min(1, 2 w_e), w_e = mu_e / max(mu) (mu_e in
transform, whose weights count against 1): 4 is the clip of every SGD step, and 8 w_e is what
umap-learn delivers along the edge per epoch at most, in expectation (it samples the term with the
attraction, w_e times per epoch in each direction, as a step of 1 / w_e clipped at 4). Unclipped,
the expected step is the same in both. Sampled, a weak edge's rare large step mostly falls to the
clip; delivered every epoch, its term is exact up to the same bound. On mnist_test the clip on weak
edges is what lets a larger lambda keep raising the radii correlation (seeds 0-4: .774 at lambda 2,
.788 at 5, higher in every seed); with the clip at 4 alone the correlation peaked at .80 near lambda
1 and wandered from there.
"""

from __future__ import annotations

import numba
import numpy as np

from .layout.curve import phi, pow32

_RADIUS_EPS = 1e-8  # keeps log finite where all neighbours coincide, as umap-learn does


def log_radii(graph, dists, power=2):
    """r_i = log(sum_j mu_ij d_ij^2 / sum_j mu_ij) over the edges of i (002 eq. 30); NaN without edges.

    ``graph`` holds the memberships mu and ``dists`` the distances d of (at least) the same edges.
    ``power=1`` weighs d instead of d^2: umap-learn's ``rad_emb``, the embedding radius it reports.
    """
    mu = graph.astype(np.float64)
    weighted = np.asarray(mu.multiply(dists.astype(np.float64).power(power)).sum(axis=1)).ravel()
    total = np.asarray(mu.sum(axis=1)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(_RADIUS_EPS + weighted / total)


def data_radii(graph, graph_dists, n_epochs):
    """Log radii of the data (002 eq. 30) on the edges the layout optimises: the graph pruned as the SGD prunes it."""
    from .layout.sampling import prune

    return log_radii(prune(graph, n_epochs), graph_dists)


def radius_stats(r):
    """Mean and standard deviation of the finite log radii."""
    finite = r[np.isfinite(r)]
    return (float(finite.mean()), float(finite.std())) if finite.size else (0.0, 0.0)


def standardise(r, mean=None, std=None):
    """R = (r - mean) / std of 002 eq. 35 (by default r's own ``radius_stats``); all 0 when the radii
    are all equal (no density to keep)."""
    if mean is None:
        mean, std = radius_stats(r)
    return (r - mean) / std if std > 0 else np.where(np.isfinite(r), 0.0, np.nan)


def correlation_stats(r, R):
    """Mean and variance of the embedding radii r and their covariance with R (002 eq. 33)."""
    centred = r - r.mean()
    return float(r.mean()), float(np.mean(centred * centred)), float(np.mean(centred * R))


@numba.njit(parallel=True, cache=True, fastmath=True)
def embedding_log_radii(head, tail, indptr, tails, a, b, r, phi_sum):
    """phi_sum_i = sum_j phi_ij and r_i = log(sum_j phi_ij d_ij^2 / phi_sum_i), phi = 1 / (1 + a d^2b),
    over the edges of head i into ``tail`` (002 eq. 31), written into ``r`` and ``phi_sum``; each
    vertex sums its own row."""
    n, dim = head.shape
    for i in numba.prange(n):
        weighted, total = 0.0, 0.0
        for e in range(indptr[i], indptr[i + 1]):
            d2 = 0.0
            for c in range(dim):
                diff = head[i, c] - tail[tails[e], c]
                d2 += diff * diff
            p = phi(d2, a, b)
            weighted += p * d2
            total += p
        phi_sum[i] = total
        r[i] = np.log(_RADIUS_EPS + weighted / total) if total > 0.0 else 0.0


@numba.njit(inline="always")
def radius_grad(d2, a, b, u, v):
    """g_i dr_i / d(d_ij^2) for r_i of 002 eq. 31, given u = g_i / phi_sum_i and v = u e^(-r_i) (d2 > 0):
    phi ((1 - b (1 - phi)) v + a b d^(2(b-1)) phi u) (002 eq. 35, last line, divided by phi_sum_i as the
    average in eq. 31 requires). It is linear in (u, v), so both ends of an edge take one call with
    their factors summed, and one power of d^2 serves phi and d^(2(b-1))."""
    d2b = pow32(d2, b)
    p = 1.0 / (1.0 + a * d2b)
    return p * ((1.0 - b * (1.0 - p)) * v + a * b * d2b / d2 * p * u)
