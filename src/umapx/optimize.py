"""Layout optimisation: the a/b curve fit, the epoch schedule and one deterministic parallel SGD kernel.

An epoch moves the head vertices in ``PHASES`` phases of interleaved blocks of vertices. In a
phase, every head is owned by one thread: it moves only itself, reading its tails and negative
samples from a snapshot of the layout taken at the start of the phase, and every negative sample is
a counter-based hash of (seed, epoch, edge, sample). The pull that umap-learn applies to the tail
of a sampled edge (``move_other``) is stored per edge and added by the tail's own thread at the end
of the epoch, in a fixed order. The result is therefore the same on any number of threads. With
the phases most tails are read where they are, as in umap-learn's serial loop: moving every head
against one snapshot per epoch cost letter about .01 of 10-NN accuracy (and DensMAP, when its term
was still sampled, .03 at lambda 5).
"""
from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from ._random import hash_pairs, uniform_float, uniform_int
from .density import NO_TERMS, radius_grad
from .loss import attraction_loss, degrees, repulsion_loss, repulsion_weight
from .metrics import OUT_EUCLIDEAN, output_distance_grad

_CLIP = 4.0
_REPULSION_EPS = 1e-3
_CHUNK = 256
PHASES = 8  # an epoch on the own graph moves the heads in this many phases, each against a fresh snapshot
_KNN_DRAW = 1 << 40  # hash coordinates of the corrected scheme's draws and push_tail's pushers,
_PUSHER_DRAW = 1 << 41  # apart from the negative samples' 0, 1, ...


def find_ab_params(spread, min_dist):
    """Fit a, b of 1 / (1 + a d^(2b)) to the target curve: 1 below min_dist, exp(-(d - min_dist)/spread) above (002 eq. 12)."""
    from scipy.optimize import curve_fit

    d = np.linspace(0, spread * 3, 300)
    target = np.where(d < min_dist, 1.0, np.exp(-(d - min_dist) / spread))
    (a, b), _ = curve_fit(lambda x, a, b: 1.0 / (1.0 + a * x ** (2 * b)), d, target)
    return float(a), float(b)


def default_n_epochs(n_samples):
    """umap-learn's plain defaults: 500 epochs up to 10,000 samples, else 200. DensMAP takes the same,
    its term on in the last ``dens_frac`` of them. umap-learn adds 200 for DensMAP; here they would
    break DensMAP's bound of 1.3x plain UMAP's fit time, for about .01 more radii correlation on
    mnist_test (measured before the weak-edge clip of ``umapx.density``)."""
    return 500 if n_samples <= 10_000 else 200


def epochs_per_sample(weights, w_max):
    """Edge e is sampled every w_max / w_e epochs, so over n_epochs it is drawn n_epochs w_e / w_max times."""
    return (w_max / weights).astype(np.float64)


def prune(graph, n_epochs, w_max):
    """Drop edges too weak to be sampled even once in n_epochs (002, Alg. 1)."""
    graph = graph.tocsr(copy=True)
    graph.data[graph.data < w_max / float(n_epochs)] = 0.0
    graph.eliminate_zeros()
    return graph


@numba.njit(inline="always")
def _pow32(x, p):
    """x^p in single precision: libm's powf costs about half of pow, and the layout is float32."""
    return np.float64(np.float32(x) ** np.float32(p))


@numba.njit(inline="always")
def attract_coeff(d2, a, b):
    """-dL/dd / d of the attractive term log(1 + a d^2b), as a function of d^2 (002 eq. 13)."""
    if d2 <= 0.0:
        return 0.0
    d2b = _pow32(d2, b)
    return -2.0 * a * b * d2b / (d2 * (1.0 + a * d2b))


@numba.njit(inline="always")
def repel_coeff(d2, a, b, gamma):
    """-dL/dd / d of the repulsive term -gamma log(1 - w), w = 1 / (1 + a d^2b), softened at d = 0 (002 eq. 13)."""
    return 2.0 * gamma * b / ((d2 + _REPULSION_EPS) * (1.0 + a * _pow32(d2, b)))


@numba.njit(inline="always")
def _direction(out_code, Y, i, Z, j, out_params, grad):
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
def _clip(v, cap=_CLIP):
    return min(max(v, -cap), cap)


@numba.njit(inline="always")
def _step(Y, i, grad, coeff, step, cap=_CLIP):
    for c in range(Y.shape[1]):
        Y[i, c] += step * _clip(coeff * grad[c], cap)


@numba.njit(inline="always")
def _repel(head, i, tail, k, grad, a, b, gamma, alpha, scale, out_code, out_params, track):
    """Push head[i] away from tail[k]; returns the pair's repulsive loss L^r (004 eq. 6) when ``track``, else 0."""
    d2 = _direction(out_code, head, i, tail, k, out_params, grad)
    _step(head, i, grad, scale * repel_coeff(d2, a, b, gamma), alpha)
    return repulsion_loss(d2, a, b) if track else 0.0


@numba.njit(parallel=True, cache=True, fastmath=True)
def sgd_epoch(head, tail, indptr, tails, eps, next_sample, next_negative, neg_rate, epoch, a, b, gamma,
              alpha, key, edge_id, out_code, out_params, pull, scheme, density, loss, phase, n_phases):
    """One epoch of SGD on the heads' positions (in place); ``tail`` is read-only (002 Alg. 1).

    Only the heads of phase ``phase`` move: the blocks of _CHUNK / n_phases consecutive heads whose
    number is phase modulo n_phases (all heads for n_phases = 1; see ``optimize_layout``).

    ``head[i]`` is attracted to ``tail[tails[e]]`` for its due edges e and pushed from ``neg_rate``
    random rows of ``tail`` per sample, drawn by hashing (key, epoch, edge_id[e], sample).
    Counters ``next_sample``/``next_negative`` advance in place.
    When ``pull`` has a row per edge (a graph on ``head`` itself), the tail's attraction towards the
    head is written to ``pull[e]`` for ``apply_pulls``, and a vertex never repels itself.
    ``scheme`` = (kNN repulsion probability per edge, cumulative pusher weights, push scale per
    head) switches on the corrected and push_tail negative sampling (see ``sampling_scheme``); empty
    arrays leave umap-learn's scheme. ``density`` = (u, v) rows of the heads and of the tails
    (``density.DensityTerm.epoch_terms``; empty when off) adds DensMAP's correlation gradient, which
    each head takes along all its edges, due or not, clipped per edge as ``umapx.density`` explains
    (euclidean output only). When ``loss`` has a row per head, the attractive and repulsive losses
    of the pairs sampled (004 eq. 11) are added to it.
    """
    n_heads, dim = head.shape
    n_tail = tail.shape[0]
    move_tails = pull.shape[0] > 0
    knn_repulsion, pushers, push_scale = scheme
    corrected, push_tail, track = knn_repulsion.shape[0] > 0, pushers.shape[0] > 0, loss.shape[0] > 0
    uv_head, uv_tail = density
    densmap = uv_head.shape[0] > 0
    size = max(1, _CHUNK // n_phases)  # a phase has as many chunks for the threads as a whole epoch
    n_blocks = (n_heads + size - 1) // size
    for c in numba.prange((n_blocks - phase + n_phases - 1) // n_phases):
        block = phase + c * n_phases
        grad = np.empty(dim, dtype=np.float64)
        for i in range(block * size, min((block + 1) * size, n_heads)):
            attraction, repulsion = 0.0, 0.0
            for e in range(indptr[i], indptr[i + 1]):
                j = tails[e]
                if corrected and uniform_float(key, epoch, edge_id[e], _KNN_DRAW) < knn_repulsion[e]:
                    repulsion += _repel(head, i, tail, j, grad, a, b, gamma, alpha, 1.0, out_code, out_params, track)
                if densmap:
                    # -lam Corr moves y_i by lam dCorr/dy_i = sum over i's edges of 2 (g_i dr_i/dd^2 + g_j dr_j/dd^2)
                    # (y_i - y_j) (002 eqs. 34-35): each vertex takes it along every edge of its own row, every
                    # epoch (not sampled: no pull), clipped at the clip times min(1, 2 w_e / w_max)
                    d2 = _direction(out_code, head, i, tail, j, out_params, grad)
                    if d2 > 0.0:
                        dr = radius_grad(d2, a, b, uv_head[i, 0] + uv_tail[j, 0], uv_head[i, 1] + uv_tail[j, 1])
                        _step(head, i, grad, 2.0 * dr, alpha, _CLIP * min(1.0, 2.0 / eps[e]))
                if next_sample[e] > epoch:
                    continue
                d2 = _direction(out_code, tail, j, head, i, out_params, grad)  # d is symmetric
                coeff = attract_coeff(d2, a, b)
                if track:
                    attraction += attraction_loss(d2, a, b)
                if move_tails:
                    for k in range(dim):
                        pull[e, k] = alpha * _clip(coeff * grad[k])
                _direction(out_code, head, i, tail, j, out_params, grad)
                _step(head, i, grad, coeff, alpha)
                next_sample[e] += eps[e]
                n_neg = int((epoch - next_negative[e]) * neg_rate / eps[e])
                if n_neg <= 0:
                    continue
                for s in range(n_neg):
                    k = uniform_int(key, epoch, edge_id[e], s, n_tail)
                    if not (move_tails and k == i):
                        repulsion += _repel(head, i, tail, k, grad, a, b, gamma, alpha, 1.0, out_code, out_params, track)
                    if push_tail:
                        u = uniform_float(key, epoch, edge_id[e], _PUSHER_DRAW + s) * pushers[-1]
                        pusher = np.searchsorted(pushers, u, side="right") - 1
                        if pusher != i:
                            _repel(head, i, tail, pusher, grad, a, b, gamma, alpha, push_scale[i], out_code, out_params, False)
                next_negative[e] += n_neg * eps[e] / neg_rate
            if track:
                loss[i, 0] += attraction
                loss[i, 1] += gamma * repulsion


@numba.njit(parallel=True, cache=True)
def apply_pulls(head, indptr, reverse, pull):
    """Add to each vertex the pulls stored on the edges whose tail it is, then clear them.

    ``reverse[e]`` is the position of edge (j, i) for edge e = (i, j) of a symmetric CSR graph.
    """
    n, dim = head.shape
    for c in numba.prange((n + _CHUNK - 1) // _CHUNK):
        for j in range(c * _CHUNK, min((c + 1) * _CHUNK, n)):
            for e in range(indptr[j], indptr[j + 1]):
                r = reverse[e]
                for k in range(dim):
                    head[j, k] += pull[r, k]
                    pull[r, k] = 0.0


def reverse_edges(graph):
    """For a structurally symmetric CSR graph with sorted indices, the position of each edge's reverse."""
    ids = sp.csr_matrix((np.arange(1, graph.nnz + 1), graph.indices, graph.indptr), shape=graph.shape)
    flipped = ids.T.tocsr()
    flipped.sort_indices()
    if not (np.array_equal(flipped.indptr, graph.indptr) and np.array_equal(flipped.indices, graph.indices)):
        raise ValueError("the layout graph must be symmetric (every edge (i, j) needs its reverse (j, i)).")
    return flipped.data.astype(np.int64) - 1


NEGATIVE_SAMPLING = ("umap", "push_tail", "corrected")


def sampling_scheme(graph, name, negative_sample_rate, w_max):
    """The arrays by which ``sgd_epoch`` follows negative-sampling scheme ``name`` (004):

    - ``umap``: umap-learn's (Alg. 1 without line 10): none.
    - ``corrected``: each kNN-graph edge ij is also repelled, every epoch, with probability
      1 - mu_ij - (d_i + d_j) m / 2n (over w_max, as attraction is), so that kNN pairs get the
      repulsion weight 1 - mu_ij of the purported loss (eq. 18).
    - ``push_tail``: a negative sample is also pushed away from the head that drew it (Alg. 1 line
      10). A thread must not move another thread's vertex, so each vertex draws the pushes it would
      receive instead: with each of its own negative samples it draws a pusher j with probability
      d_j / sum(d), scaled by mean(d) / d_i, which gives the expected update of eq. 10.
    """
    empty = np.zeros(0)
    if name == "umap":
        return empty, empty, empty
    d, n = degrees(graph), graph.shape[0]
    if name == "corrected":
        rows = np.repeat(np.arange(n), np.diff(graph.indptr))
        w = repulsion_weight(d[rows], d[graph.indices], float(negative_sample_rate), n)
        return np.maximum(1.0 - graph.data - w, 0.0) / w_max, empty, empty
    scale = np.divide(d.mean(), d, out=np.zeros_like(d), where=d > 0)
    return empty, np.concatenate([[0.0], np.cumsum(d)]), scale


def optimize_layout(head, graph, n_epochs, *, a, b, key, output_metric, tail=None, rows=None, row_keys=None,
                    gamma=1.0, learning_rate=1.0, negative_sample_rate=5.0, negative_sampling="umap",
                    density=None, monitor=None, progress=None):
    """Run ``n_epochs`` of SGD on ``head`` (float32, modified in place) and return it.

    ``graph`` is a CSR matrix whose rows are the heads and columns index ``tail``; without ``tail``
    the graph is the symmetric fuzzy set of ``head`` itself: tails are read from a snapshot taken at
    the start of each of the epoch's ``PHASES`` phases, and both ends of a sampled edge move, as in
    umap-learn.

    With ``tail`` given only the heads move, and the sampling schedule counts weights against 1, the
    largest membership there is, rather than the graph's own maximum, so that one head's schedule
    does not depend on the other heads. ``rows[i]`` (optional) is the row of ``tail`` that head i
    is: it is written back after every epoch so that heads see each other move. ``row_keys``
    (optional, one per head) replace edge positions in the negative-sampling hash, so that a head's
    samples depend on the head, not on its position among the heads.

    ``density`` (a ``density.DensityTerm``) adds DensMAP's term; on the own graph its radii come from
    ``prune(graph, n_epochs, max)``. ``negative_sampling`` (see ``sampling_scheme``) and ``monitor``
    (a ``loss.LossMonitor``, which can stop the run early) apply to the own graph only.
    """
    if n_epochs == 0 or graph.nnz == 0:
        return head
    own = tail is None
    w_max = float(graph.data.max()) if own else 1.0
    graph = prune(graph, n_epochs, w_max)
    graph.sort_indices()
    eps = epochs_per_sample(graph.data, w_max)
    next_sample = eps.copy()
    rate = float(negative_sample_rate)
    next_negative = eps / rate if rate > 0 else eps.copy()
    snapshot = np.empty_like(head) if own else tail
    pull = np.zeros((graph.nnz if own else 0, head.shape[1]), dtype=np.float32)
    reverse = reverse_edges(graph) if own else None
    indptr, tails = graph.indptr.astype(np.int64), graph.indices.astype(np.int64)
    if row_keys is None:
        edge_id = np.arange(graph.nnz, dtype=np.int64)
    else:
        edge_id = hash_pairs(np.repeat(row_keys, np.diff(indptr)), tails)
    scheme = sampling_scheme(graph, negative_sampling if own else "umap", rate, w_max)
    edge_scale = float(graph.data.sum() / graph.data.max())
    for epoch in range(n_epochs):
        if own:
            snapshot[:] = head
        alpha = learning_rate * (1.0 - epoch / n_epochs)
        track = own and monitor is not None and monitor.due(epoch + 1)
        loss = np.zeros((head.shape[0] if track else 0, 2))
        dens = NO_TERMS
        if density is not None and density.active(epoch, n_epochs):
            dens = density.epoch_terms(snapshot if own else head, snapshot, indptr, tails, a, b, edge_scale)
        n_phases = PHASES if own else 1
        for phase in range(n_phases):
            if phase:
                snapshot[:] = head
            sgd_epoch(head, snapshot, indptr, tails, eps, next_sample, next_negative, rate, epoch, a, b, gamma,
                      alpha, key, edge_id, output_metric.code, output_metric.params, pull, scheme, dens, loss,
                      phase, n_phases)
        if own:
            apply_pulls(head, indptr, reverse, pull)
        elif rows is not None:
            tail[rows] = head
        if progress is not None:
            progress.update(1)
        if track and monitor.after_epoch(epoch + 1, head, loss.sum(axis=0)):
            break
    return head
