"""UMAP's losses after Damrich & Hamprecht (004): the loss UMAP claims to minimise and the one its
negative sampling really minimises, with the target similarities that follow from it.

With q_ij = a d_ij^2b and nu_ij = 1 / (1 + q_ij), the attractive and repulsive terms are
L^a = -log nu = log(1 + q) and L^r = -log(1 - nu) = log(1 + 1/q) (eq. 6). Every sum is a sum over
points i of a sum over the others j, split into j among i's graph neighbours and j elsewhere.
``losses`` sums all pairs exactly up to ``EXACT_MAX_SAMPLES`` points. The estimate, used beyond and
by ``loss_report`` (with key 0, so that records of any fit are comparable), draws for each point
some of its graph neighbours and twice as many of the other points, uniformly with
replacement, and scales each of the two means by how many such partners the point has: an unbiased
estimate in O(n). Most of its variance is in the far pairs, hence more draws there. There are
``EDGE_DRAWS`` + ``FAR_DRAWS`` draws per point, more on small graphs so that every estimate rests on
at least ``MIN_DRAWS``. Draws come from a counter-based hash of the key, the point and the draw
number, so the estimate is the same on any number of threads.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from ._random import uniform_int
from .layout.curve import q_of

EXACT_MAX_SAMPLES = 5_000
EDGE_DRAWS, FAR_DRAWS, MIN_DRAWS = 12, 24, 1 << 17
_Q_FLOOR = 1e-12  # q = a d^2b at coincident points, so that L^r stays finite


@numba.njit(inline="always")
def attraction_loss(d2, a, b):
    """L^a = log(1 + a d^2b) (004 eq. 6)."""
    return np.log1p(max(q_of(d2, a, b), _Q_FLOOR))


@numba.njit(inline="always")
def repulsion_loss(d2, a, b):
    """L^r = log(1 + 1 / (a d^2b)) (004 eq. 6)."""
    return np.log1p(1.0 / max(q_of(d2, a, b), _Q_FLOOR))


@numba.njit(inline="always")
def _dist2(y, z):
    d2 = 0.0
    for c in range(y.shape[0]):
        d2 += (y[c] - z[c]) ** 2
    return d2


@numba.njit(parallel=True, cache=True)
def _point_sums(Y, indptr, indices, mu, degree, a, b, m, exact, edge_draws, far_draws, key):
    """For each point i, sums over j != i of: mu_ij L^a_ij; (1 - mu_ij) L^r_ij; L^r_ij; and, on graph
    edges, max(1 - mu_ij - w_ij, 0) L^r_ij with w_ij = (d_i + d_j) m / 2n (eq. 18). Exact, or
    estimated from draws among i's graph neighbours and among the other points."""
    n = Y.shape[0]
    out = np.zeros((n, 4))
    for i in numba.prange(n):
        lo, row = indptr[i], indices[indptr[i] : indptr[i + 1]]
        at = np.searchsorted(row, i)
        loop = int(at < row.shape[0] and row[at] == i)
        r = row.shape[0] - loop  # neighbours other than i
        draws = r if exact or r <= edge_draws else edge_draws
        scale = r / max(draws, 1)
        for s in range(draws):
            p = s if draws == r else uniform_int(key, i, 0, s, r)
            e = lo + p + (loop and p >= at)
            j = indices[e]
            d2 = _dist2(Y[i], Y[j])
            lr = repulsion_loss(d2, a, b)
            w = repulsion_weight(degree[i], degree[j], m, n)
            out[i, 0] += scale * mu[e] * attraction_loss(d2, a, b)
            out[i, 1] += scale * (1.0 - mu[e]) * lr
            out[i, 2] += scale * lr
            out[i, 3] += scale * max(1.0 - mu[e] - w, 0.0) * lr
        others = n - 1 - r
        far = 0.0
        if exact or others <= far_draws:
            k = 0
            for j in range(n):
                while k < row.shape[0] and row[k] < j:
                    k += 1
                if j != i and not (k < row.shape[0] and row[k] == j):
                    far += repulsion_loss(_dist2(Y[i], Y[j]), a, b)
        else:
            drawn, t = 0, 0
            while drawn < far_draws:
                j = uniform_int(key, i, 1, t, n - 1)
                j += j >= i
                t += 1
                k = np.searchsorted(row, j)
                if k < row.shape[0] and row[k] == j:
                    continue
                far += repulsion_loss(_dist2(Y[i], Y[j]), a, b)
                drawn += 1
            far *= others / far_draws
        out[i, 1] += far
        out[i, 2] += far
    return out


def degrees(graph):
    """d_i = sum_j mu_ij (004, section 3)."""
    return np.asarray(graph.sum(axis=1), dtype=np.float64).ravel()


@numba.njit(cache=True)
def repulsion_weight(d_i, d_j, m, n):
    """(d_i + d_j) m / 2n, d the degrees: the repulsion weight of pair ij in the effective loss (eq. 12)."""
    return (d_i + d_j) * m / (2.0 * n)


def effective_repulsion_weights(graph, negative_sample_rate):
    """``repulsion_weight`` on each edge of ``graph``, as a matrix like it."""
    coo = graph.tocoo()
    d = degrees(graph)
    w = repulsion_weight(d[coo.row], d[coo.col], float(negative_sample_rate), d.shape[0])
    return sp.csr_matrix((w, (coo.row, coo.col)), shape=graph.shape)


def target_similarities(graph, negative_sample_rate=5):
    """nu*_ij = mu_ij / (mu_ij + (d_i + d_j) m / 2n): the embedding similarities UMAP's sampling
    actually aims at (004 eq. 15), zero off the graph. Pass a fitted model's ``graph_``."""
    graph = sp.csr_matrix(graph, dtype=np.float64)
    rep = effective_repulsion_weights(graph, negative_sample_rate)
    target = graph.copy()
    target.data = graph.data / (graph.data + rep.data)
    return target


def losses(Y, graph, a, b, negative_sample_rate=5, gamma=1.0, *, corrected=False, exact=None, key=0):
    """The purported loss (eqs. 5-6) and the effective loss (eq. 12, or eq. 18 with ``corrected``)
    of layout ``Y`` for the symmetric fuzzy graph ``graph``, each with its attractive and repulsive parts.

    Sums run over ordered pairs i != j, i.e. twice the sums over i < j of the equations. The
    repulsive parts scale with ``gamma`` (repulsion_strength) where the optimiser applies it: in the
    effective loss. ``exact`` defaults to n <= EXACT_MAX_SAMPLES; otherwise the estimate of the module
    docstring is drawn with ``key``.
    """
    g = _GraphParts(graph)
    return _losses(
        Y, g, a, b, negative_sample_rate, gamma, corrected, g.n <= EXACT_MAX_SAMPLES if exact is None else exact, key
    )


class _GraphParts:
    """The arrays of a graph that the loss sums need, computed once."""

    def __init__(self, graph):
        graph = sp.csr_matrix(graph, dtype=np.float64)
        graph.sort_indices()
        self.n, self.indptr, self.indices, self.mu = graph.shape[0], graph.indptr, graph.indices, graph.data
        self.degrees = degrees(graph)


def _draws_per_point(n):
    """(graph-neighbour draws, other-point draws) per point of the estimate."""
    scale = max(1, -(-MIN_DRAWS // (n * (EDGE_DRAWS + FAR_DRAWS))))
    return scale * EDGE_DRAWS, scale * FAR_DRAWS


def _losses(Y, g, a, b, m, gamma, corrected, exact, key):
    sums = _point_sums(
        np.ascontiguousarray(Y, dtype=np.float64),
        g.indptr,
        g.indices,
        g.mu,
        g.degrees,
        a,
        b,
        float(m),
        exact,
        *_draws_per_point(g.n),
        key,
    )
    attraction, purported_rep = float(sums[:, 0].sum()), float(sums[:, 1].sum())
    effective_rep = m / g.n * float(g.degrees @ sums[:, 2])  # sum_{i != j} (d_i + d_j) m / 2n L^r_ij
    if corrected:  # eq. 18: kNN-graph pairs repelled with weight 1 - mu_ij instead of (d_i + d_j) m / 2n
        effective_rep += float(sums[:, 3].sum())
    effective_rep *= gamma
    return {
        "purported": attraction + purported_rep,
        "purported_attraction": attraction,
        "purported_repulsion": purported_rep,
        "effective": attraction + effective_rep,
        "effective_attraction": attraction,
        "effective_repulsion": effective_rep,
    }


class LossMonitor:
    """Loss records and callbacks between the epochs of a fit: ``UMAP(loss_report=..., callbacks=...)``.

    A record holds the purported and effective losses of the layout at the end of the epoch and the
    actual loss of the pairs the epoch sampled (eq. 11), each with its attractive and repulsive part.
    """

    def __init__(self, graph, n_epochs, *, a, b, negative_sample_rate, gamma, corrected, every, callbacks, log=None):
        self.parts = _GraphParts(graph)
        self.n_epochs, self.every, self.callbacks, self.log = n_epochs, every, list(callbacks), log
        exact = self.parts.n - 1 <= sum(_draws_per_point(self.parts.n))  # where it costs no more than the estimate
        self.args = (a, b, negative_sample_rate, gamma, corrected, exact, 0)
        self.history, self.stopped_epoch = {}, None

    def due(self, epoch):
        """Whether epoch ``epoch`` (from 1) is recorded or has a callback due."""
        return bool(self.every and epoch % self.every == 0) or any(
            epoch % getattr(cb, "every", 1) == 0 for cb in self.callbacks
        )

    def after_epoch(self, epoch, layout, actual):
        """Record epoch ``epoch`` and run the callbacks due; returns True to stop. The losses are
        computed only when recorded or read: a callback with ``needs_record = False`` gets None."""
        due = [cb for cb in self.callbacks if epoch % getattr(cb, "every", 1) == 0]
        recorded = bool(self.every and epoch % self.every == 0)
        record = None
        if recorded or any(getattr(cb, "needs_record", True) for cb in due):
            record = {
                "epoch": epoch,
                **_losses(layout, self.parts, *self.args),
                "actual": float(actual.sum()),
                "actual_attraction": float(actual[0]),
                "actual_repulsion": float(actual[1]),
            }
        if recorded:
            for name, value in record.items():
                self.history.setdefault(name, []).append(value)
            if self.log is not None and (epoch % max(1, self.n_epochs // 10) == 0 or epoch == self.n_epochs):
                self.log.info(
                    "epoch %d/%d: purported loss %.5g, effective %.5g, actual %.5g",
                    epoch,
                    self.n_epochs,
                    record["purported"],
                    record["effective"],
                    record["actual"],
                )
        view = layout.view()
        view.flags.writeable = False
        stop = [bool(cb(epoch, view, record)) for cb in due]
        if any(stop):
            self.stopped_epoch = epoch
        return any(stop)

    def loss_history(self):
        """The records by name, or None when the fit records none (callbacks only)."""
        return {name: np.asarray(values) for name, values in self.history.items()} if self.every else None
