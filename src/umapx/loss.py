"""UMAP's losses after Damrich & Hamprecht (004): the loss UMAP claims to minimise and the one its
negative sampling really minimises, with the target similarities that follow from it.

With q_ij = a d_ij^2b and nu_ij = 1 / (1 + q_ij), the attractive and repulsive terms are
L^a = -log nu = log(1 + q) and L^r = -log(1 - nu) = log(1 + 1/q) (eq. 6). Sums over all pairs are
exact up to ``EXACT_MAX_SAMPLES`` points. Beyond, each point's sum over the others is its exact
sum over its graph neighbours plus an unbiased estimate of the rest from ``samples_per_point``
partners drawn uniformly among them (by a counter-based hash, so the estimate is the same on any
number of threads).
"""
from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from ._random import uniform_int

EXACT_MAX_SAMPLES = 5_000
SAMPLES_PER_POINT = 32
_Q_FLOOR = 1e-12  # q = a d^2b at coincident points, so that L^r stays finite


@numba.njit(inline="always")
def attraction_loss(d2, a, b):
    """L^a = log(1 + a d^2b) (004 eq. 6)."""
    return np.log1p(max(a * d2**b, _Q_FLOOR))


@numba.njit(inline="always")
def repulsion_loss(d2, a, b):
    """L^r = log(1 + 1 / (a d^2b)) (004 eq. 6)."""
    return np.log1p(1.0 / max(a * d2**b, _Q_FLOOR))


@numba.njit(inline="always")
def _rep(y, z, a, b):
    d2 = 0.0
    for c in range(y.shape[0]):
        d2 += (y[c] - z[c]) ** 2
    return repulsion_loss(d2, a, b)


@numba.njit(parallel=True, cache=True)
def _repulsion_row_sums(Y, indptr, indices, a, b, exact, samples, key):
    """R_i = sum_{j != i} L^r_ij. The estimate sums the graph neighbours of i exactly (the closest,
    largest terms) and the others from ``samples`` uniform draws among them, scaled by their count."""
    n = Y.shape[0]
    sums = np.zeros(n, dtype=np.float64)
    for i in numba.prange(n):
        total = 0.0
        if exact:
            for j in range(n):
                if j != i:
                    total += _rep(Y[i], Y[j], a, b)
            sums[i] = total
            continue
        row = indices[indptr[i]:indptr[i + 1]]
        others = n - 1 - row.shape[0]
        for j in row:
            if j != i:
                total += _rep(Y[i], Y[j], a, b)
            else:
                others += 1
        if others <= 0:
            sums[i] = total
            continue
        far, t, drawn = 0.0, 0, 0
        while drawn < samples:
            j = uniform_int(key, i, t, 0, n - 1)
            j += j >= i
            t += 1
            k = np.searchsorted(row, j)
            if k < row.shape[0] and row[k] == j:
                continue
            far += _rep(Y[i], Y[j], a, b)
            drawn += 1
        sums[i] = total + far * others / samples
    return sums


def degrees(graph):
    """d_i = sum_j mu_ij (004, section 3)."""
    return np.asarray(graph.sum(axis=1), dtype=np.float64).ravel()


def pair_repulsion_weights(d, rows, cols, negative_sample_rate):
    """(d_i + d_j) m / 2n for the pairs (rows, cols), d the degrees: the repulsion weight of a pair in
    the effective loss (eq. 12)."""
    return (d[rows] + d[cols]) * negative_sample_rate / (2.0 * d.shape[0])


def effective_repulsion_weights(graph, negative_sample_rate):
    """``pair_repulsion_weights`` on each edge of ``graph``, as a matrix like it."""
    coo = graph.tocoo()
    w = pair_repulsion_weights(degrees(graph), coo.row, coo.col, negative_sample_rate)
    return sp.csr_matrix((w, (coo.row, coo.col)), shape=graph.shape)


def target_similarities(graph, negative_sample_rate=5):
    """nu*_ij = mu_ij / (mu_ij + (d_i + d_j) m / 2n): the embedding similarities UMAP's sampling
    actually aims at (004 eq. 15), zero off the graph. Pass a fitted model's ``graph_``."""
    graph = sp.csr_matrix(graph, dtype=np.float64)
    rep = effective_repulsion_weights(graph, negative_sample_rate)
    target = graph.copy()
    target.data = graph.data / (graph.data + rep.data)
    return target


def losses(Y, graph, a, b, negative_sample_rate=5, gamma=1.0, *, corrected=False, exact=None,
           samples_per_point=SAMPLES_PER_POINT, key=0):
    """The purported loss (eqs. 5-6) and the effective loss (eq. 12, or eq. 18 with ``corrected``)
    of layout ``Y`` for the symmetric fuzzy graph ``graph``, each with its attractive and repulsive parts.

    Sums run over ordered pairs i != j, i.e. twice the sums over i < j of the equations. The
    repulsive parts scale with ``gamma`` (repulsion_strength) where the optimiser applies it: in the
    effective loss. ``exact`` defaults to n <= EXACT_MAX_SAMPLES.
    """
    return _losses(Y, _GraphParts(graph), a, b, negative_sample_rate, gamma, corrected, exact, samples_per_point, key)


class _GraphParts:
    """The arrays of a graph that the loss sums need, computed once."""

    def __init__(self, graph):
        graph = sp.csr_matrix(graph, dtype=np.float64)
        graph.sort_indices()
        coo = graph.tocoo()
        self.n, self.indptr, self.indices = graph.shape[0], graph.indptr, graph.indices
        self.rows, self.cols, self.mu = coo.row, coo.col, coo.data
        self.degrees = degrees(graph)


def _losses(Y, g, a, b, m, gamma, corrected, exact, samples_per_point, key):
    n = g.n
    exact = n <= EXACT_MAX_SAMPLES if exact is None else exact
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    d2 = ((Y[g.rows] - Y[g.cols]) ** 2).sum(axis=1)
    q = np.maximum(a * d2**b, _Q_FLOOR)
    la, lr = np.log1p(q), np.log1p(1.0 / q)
    row_sums = _repulsion_row_sums(Y, g.indptr, g.indices, a, b, exact, samples_per_point, key)
    attraction = float(g.mu @ la)
    purported_rep = float(row_sums.sum() - g.mu @ lr)
    effective_rep = m / n * float(g.degrees @ row_sums)  # sum_{i != j} (d_i + d_j) m / 2n L^r_ij
    if corrected:  # eq. 18: kNN-graph pairs repelled with weight 1 - mu_ij instead of (d_i + d_j) m / 2n
        w = pair_repulsion_weights(g.degrees, g.rows, g.cols, m)
        effective_rep += float(np.maximum(1.0 - g.mu - w, 0.0) @ lr)
    effective_rep *= gamma
    return {"purported": attraction + purported_rep, "purported_attraction": attraction,
            "purported_repulsion": purported_rep, "effective": attraction + effective_rep,
            "effective_attraction": attraction, "effective_repulsion": effective_rep}


class LossMonitor:
    """Loss records and callbacks between the epochs of a fit: ``UMAP(loss_report=..., callbacks=...)``.

    A record holds the purported and effective losses of the layout at the end of the epoch and the
    actual loss of the pairs the epoch sampled (eq. 11), each with its attractive and repulsive part.
    """

    def __init__(self, graph, n_epochs, *, a, b, negative_sample_rate, gamma, corrected, every, callbacks, key,
                 log=None):
        self.parts = _GraphParts(graph)
        self.n_epochs, self.every, self.callbacks, self.log = n_epochs, every, list(callbacks), log
        self.args = (a, b, negative_sample_rate, gamma, corrected, None, SAMPLES_PER_POINT, key)
        self.history, self.stopped_epoch = {}, None

    def due(self, epoch):
        """Whether epoch ``epoch`` (from 1) is recorded or has a callback due."""
        return bool(self.every and epoch % self.every == 0) or any(
            epoch % getattr(cb, "every", 1) == 0 for cb in self.callbacks)

    def after_epoch(self, epoch, layout, actual):
        """Record epoch ``epoch`` and run the callbacks due; returns True to stop."""
        record = {"epoch": epoch, **_losses(layout, self.parts, *self.args), "actual": float(actual.sum()),
                  "actual_attraction": float(actual[0]), "actual_repulsion": float(actual[1])}
        if self.every and epoch % self.every == 0:
            for name, value in record.items():
                self.history.setdefault(name, []).append(value)
            if self.log is not None and (epoch % max(1, self.n_epochs // 10) == 0 or epoch == self.n_epochs):
                self.log.info("epoch %d/%d: purported loss %.5g, effective %.5g, actual %.5g", epoch, self.n_epochs,
                              record["purported"], record["effective"], record["actual"])
        view = layout.view()
        view.flags.writeable = False
        stop = [bool(cb(epoch, view, record)) for cb in self.callbacks if epoch % getattr(cb, "every", 1) == 0]
        if any(stop):
            self.stopped_epoch = epoch
        return any(stop)

    def loss_history(self):
        return {name: np.asarray(values) for name, values in self.history.items()}
