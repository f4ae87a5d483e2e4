"""The moves every layout kernel makes: the distance between two rows in the output metric, with the
direction of its gradient, and a clipped step along it."""

from __future__ import annotations

import numba

from ..metrics import OUT_EUCLIDEAN, output_distance_grad

CLIP = 4.0  # the largest step per coordinate, as in umap-learn


@numba.njit(inline="always")
def direction(out_code, Y, i, Z, j, out_params, grad):
    """d^2 between rows Y[i] and Z[j] and, in ``grad``, a vector v with dd/dY[i] = v / d: Y[i] - Z[j] for
    euclidean, d * grad(d) for the other output metrics. Rows are read in place: a row view per
    sample would cost two atomic reference counts on an array that every thread shares."""
    if out_code == OUT_EUCLIDEAN:
        d2 = 0.0
        for c in range(Y.shape[1]):
            grad[c] = Y[i, c] - Z[j, c]
            d2 += grad[c] * grad[c]
        return d2
    d = output_distance_grad(out_code, Y[i], Z[j], out_params, grad)
    for c in range(Y.shape[1]):
        grad[c] *= d
    return d * d


@numba.njit(inline="always")
def tail_row(j, rows):
    """The row of the tail array where tail j is read: ``rows`` = (offset, shift, mask, stage) puts
    the tails of the moving stage (j >> shift & mask == stage) at j + offset."""
    offset, shift, mask, stage = rows
    return j + offset * (((j >> shift) & mask) == stage)


@numba.njit(inline="always")
def clip(v, cap=CLIP):
    return min(max(v, -cap), cap)


@numba.njit(inline="always")
def step(Y, i, grad, coeff, alpha, cap=CLIP):
    """Y[i] += alpha clip(coeff grad), coordinate by coordinate."""
    for c in range(Y.shape[1]):
        Y[i, c] += alpha * clip(coeff * grad[c], cap)
