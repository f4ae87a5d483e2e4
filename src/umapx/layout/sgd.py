"""One deterministic parallel SGD kernel for every layout (002 Alg. 1).

An epoch moves the head vertices in ``PHASES`` phases of interleaved blocks of vertices. In a
phase, every head is owned by one thread: it moves only itself, reading its tails and negative
samples where they were when the phase began (the heads of the phase itself from a copy of the
layout taken at the start of the epoch), and every negative sample is a counter-based hash of
(seed, epoch, edge, sample). The pull that umap-learn applies to the tail of a sampled edge
(``move_other``) is stored per edge and added by the tail's own thread at the end of the epoch, in
a fixed order. The result is therefore the same on any number of threads. With the phases most
tails are read where they are, as in umap-learn's serial loop: moving every head against one
snapshot per epoch cost letter about .01 of 10-NN accuracy (and DensMAP, when its term was still
sampled, .03 at lambda 5).

The phases of an epoch, and of as many epochs as take ``RUN_S`` seconds when Python has nothing
to do between them, run in one parallel region: the threads take each phase's chunks from a shared
counter, and one that has to wait for the last chunks sleeps (``umapx._sync``). A region per phase
(4,500 per fit) left its threads spinning at each region's end, as OpenMP does, and on a machine
shared with other processes a spinning thread burns the CPU time its partner needs.

After the attraction of a sampled edge, its negative samples' steps are all computed from the same
position of the head and then added, rather than one after the other as in umap-learn: the core
overlaps their independent work, and their powers (a quarter of the kernel's time) run in a loop
of their own with little else to keep in registers across the calls; together about 30 % less time per
epoch on mnist_test on one thread, quality unchanged.

A layout may stack several graphs (AlignedUMAP's slices): rows ``blocks[s]:blocks[s + 1]`` are
block s, with its own a, b and sampling schedule, and a head draws its negative samples from its
own block. Added terms (``layout.terms``) join through one tuple argument.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numba
import numpy as np
import scipy.sparse as sp

from .._random import hash_pairs, uniform_float, uniform_int
from .._report import checkpoint
from .._sync import claim, finish, wait_done
from ..loss import attraction_loss, repulsion_loss
from .curve import attract_coeff, repel_coeff
from .sampling import epochs_per_sample, prune, sampling_scheme
from .steps import clip, direction, step, tail_row
from .terms import edge_step, kernel_terms

_CHUNK = 256
PHASES = 8  # an epoch on the own graph moves the heads in this many phases, each against a fresh snapshot
RUN_S = 0.2  # seconds of epochs per kernel call, where nothing in Python is due between them
_KNN_DRAW = 1 << 40  # hash coordinates of the corrected scheme's draws and push_tail's pushers,
_PUSHER_DRAW = 1 << 41  # apart from the negative samples' 0, 1, ...


class Edges(NamedTuple):
    """The optimised graph as the terms see it: CSR rows of the heads into the tails, the epochs
    per sample of each edge, sum(mu) / max(mu), and the curve (a single block's a and b)."""

    indptr: np.ndarray
    tails: np.ndarray
    eps: np.ndarray
    scale: float
    a: float
    b: float


@numba.njit(inline="always")
def _repel(head, i, tail, k, grad, a, b, gamma, alpha, out_code, out_params, track):
    """Push head[i] away from tail[k]; returns the pair's repulsive loss L^r (004 eq. 6) when ``track``, else 0."""
    d2 = direction(out_code, head, i, tail, k, out_params, grad)
    step(head, i, grad, repel_coeff(d2, a, b, gamma), alpha)
    return repulsion_loss(d2, a, b) if track else 0.0


@numba.njit(inline="always")
def _hold(moves, m, grad, d2, scale):
    """Keep a repulsive step for later in moves[m]: its direction, d^2 and scale; returns m + 1."""
    dim = grad.shape[0]
    for x in range(dim):
        moves[m, x] = grad[x]
    moves[m, dim] = d2
    moves[m, dim + 1] = scale
    return m + 1


# error_model="numpy": a division by zero gives inf rather than an exception, which would leave a
# worker's claimed chunk unfinished and the other threads waiting for it
@numba.njit(parallel=True, cache=True, fastmath=True, error_model="numpy")
def sgd_epochs(
    head,
    tail,
    indptr,
    tails,
    eps,
    next_sample,
    next_negative,
    neg_rate,
    first,
    alphas,
    blocks,
    tail_blocks,
    ab,
    gamma,
    key,
    edge_id,
    out_code,
    out_params,
    pull,
    reverse,
    scheme,
    terms,
    loss,
    n_phases,
    snapshot,
    claimed,
    done,
    n_threads,
):
    """Epochs first, first + 1, ... of SGD on the heads' positions (in place), one per entry of
    ``alphas`` (their learning rates), in one parallel region (002 Alg. 1).

    An epoch runs in stages, each split in tasks that the ``n_threads`` threads share out through
    ``claimed`` and ``done`` (the rows of ``stage_counters``; ``umapx._sync``); a stage starts once
    the one before has ended. The heads move in ``n_phases`` stages, the chunks of _CHUNK / n_phases
    consecutive heads whose number is the stage modulo n_phases. On a graph of the heads themselves
    (``snapshot`` > 0), ``tail`` holds the heads in its first rows, and a first stage copies them
    ``snapshot`` rows further on, where a tail among the moving heads is read (``tail_row``: where it
    was when its stage began); a last stage adds the pulls stored on the edges to their tails
    (``_pull_chunk``).

    Head i of block s (``blocks[s] <= i < blocks[s + 1]``, curve ``ab[s]``) is attracted to tail
    ``tails[e]`` for its due edges e and pushed from ``neg_rate`` random tails of its block
    (``tail_blocks[s]:tail_blocks[s + 1]``) per sample, drawn by hashing (key, epoch, edge_id[e],
    sample). Counters ``next_sample``/``next_negative`` advance in place. When ``pull`` has a row
    per edge (a graph on ``head`` itself), the tail's attraction towards the head is written to
    ``pull[e]``, and a vertex never repels itself. ``scheme`` = (kNN repulsion probability per edge,
    cumulative pusher weights, push scale per head) switches on the corrected and push_tail negative
    sampling (see ``sampling_scheme``); empty arrays leave umap-learn's scheme. ``terms``
    (``layout.terms``) add their gradients along each edge. When ``loss`` has a row per head, the
    attractive and repulsive losses of the pairs sampled (004 eq. 11) are added to it.
    """
    n_heads, dim = head.shape
    size = max(1, _CHUNK // n_phases)  # a phase has as many chunks for the threads as a whole epoch
    shift = 0
    while (1 << shift) < size:
        shift += 1
    n_chunks = (n_heads + size - 1) // size
    n_stages = n_phases + 2 if snapshot else n_phases
    for _ in numba.prange(n_threads):
        grad = np.empty(dim, dtype=np.float64)
        moves = np.empty((16, dim + 2), dtype=np.float64)
        for run in range(alphas.shape[0]):
            for stage in range(n_stages):
                phase = stage - 1 if snapshot else stage  # -1 copies, n_phases pulls
                if 0 <= phase < n_phases:
                    n_tasks = (n_chunks - phase + n_phases - 1) // n_phases
                else:
                    n_tasks = (n_heads + _CHUNK - 1) // _CHUNK
                counter = run * n_stages + stage
                task = claim(claimed, counter, n_tasks)
                while task >= 0:
                    if phase < 0:
                        _copy_chunk(tail, snapshot, task, n_heads)
                    elif phase < n_phases:
                        moves = _move_chunk(
                            head,
                            tail,
                            indptr,
                            tails,
                            eps,
                            next_sample,
                            next_negative,
                            neg_rate,
                            first + run,
                            blocks,
                            tail_blocks,
                            ab,
                            gamma,
                            alphas[run],
                            key,
                            edge_id,
                            out_code,
                            out_params,
                            pull,
                            scheme,
                            terms,
                            loss,
                            (snapshot, shift, n_phases - 1, phase),
                            phase + task * n_phases,
                            grad,
                            moves,
                        )
                    else:
                        _pull_chunk(head, indptr, reverse, pull, task)
                    finish(done, counter, n_tasks)
                    task = claim(claimed, counter, n_tasks)
                wait_done(done, counter, n_tasks)


def stage_counters(runs, n_phases, own):
    """``sgd_epochs``' claimed and done counters (two int32 rows, zero) for ``runs`` epochs: per epoch a
    copy, the phases and the pulls on a graph of the heads themselves, the phases alone otherwise."""
    return np.zeros((2, runs * (n_phases + 2 if own else n_phases)), dtype=np.int32)


@numba.njit(inline="always")
def _copy_chunk(rows, offset, chunk, n):
    """rows[offset + j] = rows[j] for the rows j of ``chunk``."""
    for j in range(chunk * _CHUNK, min((chunk + 1) * _CHUNK, n)):
        for x in range(rows.shape[1]):
            rows[offset + j, x] = rows[j, x]


@numba.njit(inline="always")
def _move_chunk(
    head,
    tail,
    indptr,
    tails,
    eps,
    next_sample,
    next_negative,
    neg_rate,
    epoch,
    blocks,
    tail_blocks,
    ab,
    gamma,
    alpha,
    key,
    edge_id,
    out_code,
    out_params,
    pull,
    scheme,
    terms,
    loss,
    rows,
    chunk,
    grad,
    moves,
):
    """Move the heads of ``chunk`` (see ``sgd_epochs``); returns ``moves``, grown if needed."""
    n_heads, dim = head.shape
    size = 1 << rows[1]
    move_tails = pull.shape[0] > 0
    knn_repulsion, pushers, push_scale = scheme
    corrected, push_tail, track = knn_repulsion.shape[0] > 0, pushers.shape[0] > 0, loss.shape[0] > 0
    n_terms = terms[0].shape[0]
    block = np.searchsorted(blocks, chunk * size, side="right") - 1
    for i in range(chunk * size, min((chunk + 1) * size, n_heads)):
        while i >= blocks[block + 1]:
            block += 1
        a, b = ab[block, 0], ab[block, 1]
        low, n_tail = tail_blocks[block], tail_blocks[block + 1] - tail_blocks[block]
        attraction, repulsion = 0.0, 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = tails[e]
            tj = tail_row(j, rows)
            if corrected and uniform_float(key, epoch, edge_id[e], _KNN_DRAW) < knn_repulsion[e]:
                repulsion += _repel(head, i, tail, tj, grad, a, b, gamma, alpha, out_code, out_params, track)
            due = next_sample[e] <= epoch
            for t in range(n_terms):
                edge_step(terms, t, head, i, tail, j, rows, eps[e], due, alpha, a, b, out_code, out_params, grad)
            if not due:
                continue
            d2 = direction(out_code, head, i, tail, tj, out_params, grad)
            coeff = attract_coeff(d2, a, b)
            if track:
                attraction += attraction_loss(d2, a, b)
            step(head, i, grad, coeff, alpha)
            if move_tails:
                for x in range(dim):
                    pull[e, x] = -alpha * clip(coeff * grad[x])  # the head's step reversed (clip is odd)
            next_sample[e] += eps[e]
            n_neg = int((epoch - next_negative[e]) * neg_rate / eps[e])
            if n_neg <= 0:
                continue
            # the negative samples' (and pushers') steps, from where the attraction left head[i]
            if 2 * n_neg > moves.shape[0]:
                moves = np.empty((2 * n_neg, dim + 2), dtype=np.float64)
            m = 0
            for s in range(n_neg):
                k = low + uniform_int(key, epoch, edge_id[e], s, n_tail)
                if not (move_tails and k == i):
                    d2 = direction(out_code, head, i, tail, tail_row(k, rows), out_params, grad)
                    m = _hold(moves, m, grad, d2, 1.0)
                    if track:
                        repulsion += repulsion_loss(d2, a, b)
                if push_tail:
                    u = uniform_float(key, epoch, edge_id[e], _PUSHER_DRAW + s) * pushers[-1]
                    pusher = np.searchsorted(pushers, u, side="right") - 1
                    if pusher != i:
                        d2 = direction(out_code, head, i, tail, tail_row(pusher, rows), out_params, grad)
                        m = _hold(moves, m, grad, d2, push_scale[i])
            for k in range(m):  # the powers in a loop of their own, where little else is live
                moves[k, dim] = moves[k, dim + 1] * repel_coeff(moves[k, dim], a, b, gamma)
            for k in range(m):
                for x in range(dim):
                    head[i, x] += alpha * clip(moves[k, dim] * moves[k, x])
            next_negative[e] += n_neg * eps[e] / neg_rate
        if track:
            loss[i, 0] += attraction
            loss[i, 1] += gamma * repulsion
    return moves


@numba.njit(inline="always")
def _pull_chunk(head, indptr, reverse, pull, chunk):
    """Add to each vertex of ``chunk`` the pulls stored on the edges whose tail it is, then clear them.

    ``reverse[e]`` is the position of edge (j, i) for edge e = (i, j) of a symmetric CSR graph.
    """
    n, dim = head.shape
    for j in range(chunk * _CHUNK, min((chunk + 1) * _CHUNK, n)):
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


def _stack(graphs, n_epochs, own, block_epochs):
    """One CSR graph of the blocks laid out together, each pruned against its own largest weight
    (1 against a fixed tail), with the epochs per sample of each edge and the block offsets.

    Block s is sampled as in a layout of ``block_epochs[s]`` epochs, its samples spread over the
    run's ``n_epochs``; a block of 0 epochs has no edges and stays where it is."""
    pruned, eps = [], []
    for g, epochs in zip(graphs, block_epochs, strict=True):
        w_max = float(g.data.max()) if own and g.nnz else 1.0
        g = prune(g, epochs, w_max) if epochs else sp.csr_matrix(g.shape, dtype=g.dtype)
        g.sort_indices()
        pruned.append(g)
        eps.append(epochs_per_sample(g.data, w_max) * (n_epochs / max(epochs, 1)))
    graph = pruned[0] if len(pruned) == 1 else sp.block_diag(pruned, format="csr")
    graph.sort_indices()
    blocks = np.cumsum([0] + [g.shape[0] for g in pruned]).astype(np.int64)
    return graph, np.concatenate(eps), blocks


def optimize_layout(
    head,
    graph,
    n_epochs,
    *,
    a,
    b,
    key,
    output_metric,
    tail=None,
    rows=None,
    row_keys=None,
    gamma=1.0,
    learning_rate=1.0,
    negative_sample_rate=5.0,
    negative_sampling="umap",
    terms=(),
    block_epochs=None,
    monitor=None,
    progress=None,
    threads=None,
):
    """Run ``n_epochs`` of SGD on ``head`` (float32, modified in place) and return it.

    ``graph`` is a CSR matrix whose rows are the heads and columns index ``tail``; without ``tail``
    the graph is the symmetric fuzzy set of ``head`` itself: tails are read where they were at the
    start of each of the epoch's ``PHASES`` phases, and both ends of a sampled edge move, as in
    umap-learn. ``graph`` may also be a list of such graphs laid out as consecutive blocks of
    ``head`` (then ``a`` and ``b`` are sequences, one per block, and ``block_epochs`` may give each
    block its own number of epochs, at most ``n_epochs``: 0 holds a block fixed).

    With ``tail`` given only the heads move (block s's graph then indexes its own rows of ``tail``,
    which follow the rows of the blocks before it), and the sampling schedule counts weights against
    1, the largest membership there is, rather than the graph's own maximum, so that one head's
    schedule does not depend on the other heads. ``rows[i]`` (optional) is the row of ``tail`` that head i
    is: it is written back after every epoch so that heads see each other move. ``row_keys``
    (optional, one per head) replace edge positions in the negative-sampling hash, so that a head's
    samples depend on the head, not on its position among the heads.

    ``terms`` (``layout.terms``, prepared) add to the loss. ``negative_sampling`` (see
    ``sampling_scheme``) and ``monitor`` (a ``loss.LossMonitor``, which can stop the run early) apply
    to a single own graph only. ``threads`` (a ``_threads.Threads``) re-counts the threads between
    kernel calls and times them (the result does not depend on their number).
    """
    graphs = list(graph) if isinstance(graph, (list, tuple)) else [graph]
    if n_epochs == 0 or sum(g.nnz for g in graphs) == 0:
        return head
    own = tail is None
    graph, eps, blocks = _stack(graphs, n_epochs, own, block_epochs or [n_epochs] * len(graphs))
    ab = np.column_stack([np.broadcast_to(a, len(graphs)), np.broadcast_to(b, len(graphs))]).astype(np.float64)
    next_sample = eps.copy()
    rate = float(negative_sample_rate)
    next_negative = eps / rate if rate > 0 else eps.copy()
    n = head.shape[0]
    if own:  # the heads, then their positions at the start of the epoch (see ``sgd_epochs``)
        stacked = np.concatenate([head, head])
        work, tail, snapshot = stacked[:n], stacked, n
    else:
        work, snapshot = head, 0
    # a block's tails (and negative samples) are its own graph's columns: of the stacked heads, or of ``tail``
    tail_blocks = blocks if own else np.cumsum([0] + [g.shape[1] for g in graphs]).astype(np.int64)
    pull = np.zeros((graph.nnz if own else 0, head.shape[1]), dtype=np.float32)
    reverse = reverse_edges(graph) if own else np.zeros(0, dtype=np.int64)
    indptr, tails = graph.indptr.astype(np.int64), graph.indices.astype(np.int64)
    if row_keys is None:
        edge_id = np.arange(graph.nnz, dtype=np.int64)
    else:
        edge_id = hash_pairs(np.repeat(row_keys, np.diff(indptr)), tails)
    w_max = float(graph.data.max()) if own else 1.0
    scheme = sampling_scheme(graph, negative_sampling if own else "umap", rate, w_max)
    edges = Edges(indptr, tails, eps, float(graph.data.sum() / graph.data.max()), float(ab[0, 0]), float(ab[0, 1]))
    n_phases = PHASES if own else 1
    alphas = learning_rate * (1.0 - np.arange(n_epochs) / n_epochs)
    alone = any(t.per_epoch for t in terms) or (not own and rows is not None)  # Python's work between epochs
    epoch, per_epoch = 0, math.inf
    if threads is not None:
        threads.adjust()
    try:
        while epoch < n_epochs:
            track = own and monitor is not None and monitor.due(epoch + 1)
            count = 1
            while not (alone or track) and epoch + count < n_epochs and (count + 1) * per_epoch <= RUN_S:
                if monitor is not None and monitor.due(epoch + count + 1):
                    break
                count += 1
            loss = np.zeros((n if track else 0, 2))
            epoch_terms = kernel_terms(terms, epoch, n_epochs, work, work if own else tail, edges)
            counters = stage_counters(count, n_phases, own)
            started = time.perf_counter()
            sgd_epochs(
                work,
                tail,
                indptr,
                tails,
                eps,
                next_sample,
                next_negative,
                rate,
                epoch,
                alphas[epoch : epoch + count],
                blocks,
                tail_blocks,
                ab,
                gamma,
                key,
                edge_id,
                output_metric.code,
                output_metric.params,
                pull,
                reverse,
                scheme,
                epoch_terms,
                loss,
                n_phases,
                snapshot,
                counters[0],
                counters[1],
                numba.get_num_threads(),
            )
            per_epoch = (time.perf_counter() - started) / count
            epoch += count
            if not own and rows is not None:
                tail[rows] = head
            checkpoint()
            if threads is not None:
                threads.pace(count)
            if progress is not None:
                progress.update(count)
            if track and monitor.after_epoch(epoch, work, loss.sum(axis=0)):
                break
    finally:
        if own:
            head[:] = work
    return head
