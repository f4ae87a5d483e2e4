"""Terms added to UMAP's loss, optimised by the one SGD kernel (``layout.sgd``).

A term is an object with two parts:

- a per-epoch step in Python, ``arrays(epoch, n_epochs, head, tail, edges)``, which returns the
  term's arrays for the epoch's kernel call, or None while it is off (reductions over the whole
  layout, such as DensMAP's radii, belong here);
- a per-edge gradient, a branch of ``edge_step`` below, compiled into the kernel (numba neither
  caches nor inlines a function passed as an argument).

Every term's arrays have one shape, ``(code, head_rows, tail_rows, ints, floats)``, and the terms
of an epoch reach the kernel stacked along a first axis (``kernel_terms``), so the kernel takes any
number of terms as five arrays. A new term adds a code, a branch of ``edge_step`` and a class here;
nothing else in the kernel changes. ``prepare(graph, n_epochs)``
binds a term to the graph it is laid out with (``embed_graph`` calls it). A term whose arrays change
from epoch to epoch says so with ``per_epoch = True``: the layout then returns to Python after every
epoch; the others let epochs run together in one kernel call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numba
import numpy as np

from ..density import correlation_stats, data_radii, embedding_log_radii, radius_grad, standardise
from .steps import CLIP, direction, step, tail_row

DENSITY, ALIGNMENT = 1, 2
_NO_ROWS, _NO_INTS, _NO_FLOATS = np.zeros((0, 0)), np.zeros(0, dtype=np.int64), np.zeros(0)
# no term on: zero terms stacked (the types of any stack), not a term that does nothing (whose check on
# every edge cost the plain layout a fifth of its time)
NO_TERMS = (_NO_INTS, _NO_ROWS[None], _NO_ROWS[None], _NO_INTS[None], _NO_FLOATS[None])


def kernel_terms(terms, epoch, n_epochs, head, tail, edges):
    """The arrays of the terms that are on this epoch, stacked along a first axis (zero-padded):
    codes, head rows, tail rows, ints and floats."""
    on = [t for t in (term.arrays(epoch, n_epochs, head, tail, edges) for term in terms) if t is not None]
    if not on:
        return NO_TERMS
    return (np.array([t[0] for t in on], dtype=np.int64), *(_padded([t[part] for t in on]) for part in range(1, 5)))


def _padded(arrays):
    shape = np.max([a.shape for a in arrays], axis=0)
    out = np.zeros((len(arrays), *shape), dtype=arrays[0].dtype)
    for k, a in enumerate(arrays):
        out[(k, *(slice(0, s) for s in a.shape))] = a
    return out


@numba.njit(inline="always")
def edge_step(terms, t, head, i, tail, j, rows, eps_e, due, alpha, a, b, out_code, out_params, grad):
    """Move head[i] by term t's gradient along its edge to tail j (``due``: the edge is sampled this
    epoch; tail rows are read where ``tail_row(j, rows)`` puts them); ``terms`` are the five arrays of
    ``kernel_terms``."""
    codes, head_rows, tail_rows, ints, floats = terms
    code = codes[t]
    if code == DENSITY:
        # -lam Corr moves y_i by lam dCorr/dy_i = sum over i's edges of 2 (g_i dr_i/dd^2 + g_j dr_j/dd^2)
        # (y_i - y_j) (002 eqs. 34-35): each vertex takes it along every edge of its own row, every
        # epoch (not sampled: no pull), clipped at the clip times min(1, 2 w_e / w_max)
        d2 = direction(out_code, head, i, tail, tail_row(j, rows), out_params, grad)
        if d2 > 0.0:
            u = head_rows[t, i, 0] + tail_rows[t, j, 0]
            v = head_rows[t, i, 1] + tail_rows[t, j, 1]
            step(head, i, grad, 2.0 * radius_grad(d2, a, b, u, v), alpha, CLIP * min(1.0, 2.0 / eps_e))
    elif code == ALIGNMENT and due:
        # lam w_ir |y_i - y_r|^2 for each related row r of i in the other slices: a step of -2 lam w_ir (y_i - y_r)
        for p in range(ints[t, i], ints[t, i + 1]):
            direction(out_code, head, i, tail, tail_row(ints[t, head.shape[0] + 1 + p], rows), out_params, grad)
            step(head, i, grad, -2.0 * floats[t, 0] * floats[t, 1 + p], alpha)


@dataclass(frozen=True)
class DensityTerm:
    """DensMAP's -lam Corr(r_emb, R) (002 eq. 34), on in the epochs after the first (1 - frac).

    ``R`` is the standardised data radius of each head, NaN for a head without edges (left out of
    the correlation); ``prepare`` computes it from the graph. ``var_shift`` is added to Var(r_emb)
    to keep the correlation's gradient bounded. Without ``reference`` the heads are the whole layout
    and the correlation is theirs. With ``reference`` = (mean, Var, Cov, scale) of a fitted layout's
    radii, the heads are new points placed against that fixed layout (transform): each head's
    gradient is its term of the fitted correlation, and the fixed points take none.

    Each edge's step is clipped per coordinate at 4 min(1, 2 w_e / w_max), see ``umapx.density``.
    """

    per_epoch: ClassVar[bool] = True
    lam: float = 2.0
    frac: float = 0.3
    var_shift: float = 0.1
    R: np.ndarray | None = None
    reference: tuple | None = None

    def prepare(self, graph, n_epochs):
        if self.R is not None:
            return self
        rad_orig = data_radii(graph.graph, graph.graph_dists, n_epochs)
        return replace(self, R=standardise(rad_orig))

    def active(self, epoch, n_epochs):
        """On in the last ``frac`` of the epochs, with umap-learn's rounding."""
        return self.lam > 0 and (epoch + 1) > (1.0 - self.frac) * n_epochs

    def arrays(self, epoch, n_epochs, head, tail, edges):
        """While ``active``: per-vertex factors (u, v) for
        ``radius_grad``, a row per vertex, of the heads, then of the tails: u_i = g_i / phi_sum_i and
        v_i = u_i e^(-r_i), with r and phi_sum of the heads' edges into ``tail`` (002 eq. 31) and
        g_i = lam * scale * dCorr/dr_i (002 eq. 35, first factor), scale = edge_scale / n.

        ``edges.scale`` = sum(mu) / max(mu): the loss is sum_e mu_e CE_e - lam sum_e mu_e Corr, as in
        umap-learn, and edge sampling delivers the cross-entropy's gradient divided by max(mu), so
        an epoch of the exact density gradient is scaled alike.
        """
        if not self.active(epoch, n_epochs):
            return None
        n = head.shape[0]
        r, phi_sum = np.zeros(n), np.zeros(n)
        embedding_log_radii(head, tail, edges.indptr, edges.tails, edges.a, edges.b, r, phi_sum)
        keep = np.isfinite(self.R)
        if self.reference is None:
            mean, var, cov, scale = correlation_stats(r[keep], self.R[keep]) + (edges.scale / keep.sum(),)
        else:
            mean, var, cov, scale = self.reference
        var += self.var_shift
        g = np.zeros(n)
        # dCorr/dr_i = (R_i - Cov (r_i - mean r) / Var) / (n sqrt(Var)), with Corr = Cov / sqrt(Var) (002 eq. 33, 35)
        g[keep] = self.lam * scale * (self.R[keep] - cov * (r[keep] - mean) / var) / np.sqrt(var)
        uv = np.empty((n, 2))
        uv[:, 0] = np.divide(g, phi_sum, out=np.zeros(n), where=phi_sum > 0)
        uv[:, 1] = uv[:, 0] * np.exp(-r)
        tail_uv = uv if self.reference is None else np.zeros((tail.shape[0], 2))
        return DENSITY, uv, tail_uv, _NO_INTS, _NO_FLOATS


@dataclass(frozen=True)
class AlignmentTerm:
    """lam sum_ir w_ir |y_i - y_r|^2 over related rows i, r of a stacked layout (AlignedUMAP's
    regularisation): ``relations`` is a CSR matrix with a row per head and a column per row the
    heads' tails are read from (the stacked rows themselves in a stacked layout), weight w_ir where
    row r (in another slice) is the same point as head i. Each head takes the step on its sampled
    edges. Its arrays do not change between epochs."""

    per_epoch: ClassVar[bool] = False
    relations: object
    lam: float = 0.01

    def prepare(self, graph, n_epochs):
        return self

    def arrays(self, epoch, n_epochs, head, tail, edges):
        rel = self.relations
        ints = np.concatenate([rel.indptr, rel.indices]).astype(np.int64)
        return ALIGNMENT, _NO_ROWS, _NO_ROWS, ints, np.concatenate([[self.lam], rel.data]).astype(np.float64)
