"""DensMAP's pieces against their definitions: local radii (002 eqs. 30-31), the correlation's gradient
(002 eqs. 33-35) by finite differences, and the gradient the SGD kernel applies in one epoch."""

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from umapx.density import embedding_log_radii, log_radii, radius_grad, radius_stats, standardise
from umapx.layout.curve import find_ab_params
from umapx.layout.sgd import Edges, reverse_edges, sgd_epochs, stage_counters
from umapx.layout.terms import DensityTerm, kernel_terms

A, B = find_ab_params(1.0, 0.1)


def density(term, Y, indptr, tails):
    """The term's arrays for the kernel in an epoch where it is on, against layout Y and unit edge scale."""
    return kernel_terms([term], 0, 1, Y, Y, Edges(indptr, tails, None, 1.0, A, B))


def uv(terms):
    """The (u, v) factors of each vertex from the kernel's term arrays."""
    return terms[1][0].T


def run_epoch(
    head, tail, indptr, tails, eps, next_sample, next_negative, rate, alpha, key, pull, terms, phases=1, edge_id=None
):
    """One epoch of the SGD kernel on one block (epoch 1, euclidean, umap-learn's sampling, no loss). With
    ``tail`` twice as long as ``head`` (the heads, then room for their positions at the epoch's start),
    a layout of the heads themselves in ``phases`` phases, else against a fixed ``tail``."""
    n = len(head)
    snapshot = n if len(tail) == 2 * n else 0
    counters = stage_counters(1, phases, snapshot > 0)
    graph = sp.csr_matrix((np.ones(len(tails)), tails, indptr), shape=(n, n))
    sgd_epochs(
        head,
        tail,
        indptr,
        tails,
        eps,
        next_sample,
        next_negative,
        rate,
        1,
        np.array([alpha]),
        np.array([0, n]),
        np.array([0, n]),
        np.array([[A, B]]),
        1.0,
        key,
        np.arange(len(tails)) if edge_id is None else edge_id,
        0,
        np.zeros(1),
        pull,
        reverse_edges(graph) if snapshot else np.zeros(0, dtype=np.int64),
        (np.zeros(0),) * 3,
        terms,
        np.zeros((0, 2)),
        phases,
        snapshot,
        counters[0],
        counters[1],
        numba.get_num_threads(),
    )
    return counters


def symmetric_graph(n, density, seed):
    """A random symmetric CSR graph with weights in (0, 1], sorted indices, no self loops."""
    rng = np.random.default_rng(seed)
    upper = sp.triu(sp.random(n, n, density=density, random_state=rng, data_rvs=lambda k: rng.uniform(0.05, 1, k)), 1)
    graph = (upper + upper.T).tocsr()
    graph.sort_indices()
    return graph


def radii_by_loops(graph, d2_of, weight_of):
    r = np.full(graph.shape[0], np.nan)
    for i in range(graph.shape[0]):
        row = graph.indices[graph.indptr[i] : graph.indptr[i + 1]]
        mu = graph.data[graph.indptr[i] : graph.indptr[i + 1]]
        if row.size:
            w = np.array([weight_of(m, d2_of(i, j)) for m, j in zip(mu, row, strict=True)])
            d2 = np.array([d2_of(i, j) for j in row])
            r[i] = np.log(1e-8 + np.sum(w * d2) / np.sum(w))
    return r


def test_data_radii_follow_eq_30():
    dense = symmetric_graph(40, 0.15, 0).toarray()
    dense[39, :] = dense[:, 39] = 0.0  # vertex 39 has no edges
    graph = sp.csr_matrix(dense)
    X = np.random.default_rng(1).normal(size=(40, 3))
    D = sp.csr_matrix(np.linalg.norm(X[:, None] - X[None], axis=2) * (graph.toarray() > 0))
    expected = radii_by_loops(graph, lambda i, j: D[i, j] ** 2, lambda mu, d2: mu)
    got = log_radii(graph, D)
    assert np.isnan(got[39]) and np.isnan(expected[39])
    assert np.allclose(got[:39], expected[:39], rtol=1e-10)
    # power=1 (umap-learn's rad_emb): log of the weighted mean distance
    mu, d = graph.toarray()[:39], D.toarray()[:39]
    mean_d = np.log(1e-8 + (mu * d).sum(axis=1) / mu.sum(axis=1))
    assert np.allclose(log_radii(graph, D, power=1)[:39], mean_d, rtol=1e-10)
    assert not np.allclose(mean_d, expected[:39] / 2, rtol=1e-3)  # not just half the squared version


def test_embedding_radii_follow_eq_31():
    graph = symmetric_graph(50, 0.1, 2)
    Y = np.random.default_rng(3).normal(size=(50, 2))
    r, phi_sum = np.zeros(50), np.zeros(50)
    embedding_log_radii(Y, Y, graph.indptr.astype(np.int64), graph.indices.astype(np.int64), A, B, r, phi_sum)
    phi = lambda mu, d2: 1.0 / (1.0 + A * d2**B)  # noqa: E731 - the embedding weight ignores mu
    d2_of = lambda i, j: np.sum((Y[i] - Y[j]) ** 2)  # noqa: E731
    expected = radii_by_loops(graph, d2_of, phi)
    has_edges = np.diff(graph.indptr) > 0
    assert has_edges.sum() > 40
    assert np.allclose(r[has_edges], expected[has_edges], rtol=1e-6)  # powers in single precision
    for i in np.nonzero(has_edges)[0][:5]:
        row = graph.indices[graph.indptr[i] : graph.indptr[i + 1]]
        assert phi_sum[i] == pytest.approx(sum(phi(0, d2_of(i, j)) for j in row), rel=1e-6)


def correlation(Y, graph, R, var_shift):
    """Corr(r_emb, R) with Var(r_emb) shifted by var_shift (002 eq. 33), r_emb by eq. 31."""
    r = radii_by_loops(graph, lambda i, j: np.sum((Y[i] - Y[j]) ** 2), lambda mu, d2: 1.0 / (1.0 + A * d2**B))
    centred = r - r.mean()
    return np.mean(centred * R) / np.sqrt(np.mean(centred**2) + var_shift)


def analytic_gradient(Y, graph, u, v):
    """sum_j (g_i dr_i/dd_ij^2 + g_j dr_j/dd_ij^2) 2 (y_i - y_j) (002 eq. 35), each end's term by itself."""
    grad = np.zeros_like(Y)
    for i in range(Y.shape[0]):
        for j in graph.indices[graph.indptr[i] : graph.indptr[i + 1]]:
            d2 = np.sum((Y[i] - Y[j]) ** 2)
            dr = radius_grad(d2, A, B, u[i], v[i]) + radius_grad(d2, A, B, u[j], v[j])
            grad[i] += 2.0 * dr * (Y[i] - Y[j])
    return grad


@pytest.fixture
def problem():
    n = 30
    graph = symmetric_graph(n, 0.2, 4)
    assert (np.diff(graph.indptr) > 0).all()
    rng = np.random.default_rng(5)
    Y = rng.uniform(0, 3, size=(n, 2))
    rad = rng.normal(size=n)
    R = standardise(rad, *radius_stats(rad))
    return graph, Y, R, graph.indptr.astype(np.int64), graph.indices.astype(np.int64)


def test_correlation_gradient_matches_finite_differences(problem):
    graph, Y, R, indptr, tails = problem
    term = DensityTerm(lam=1.0, frac=1.0, var_shift=0.1, R=R)
    u, v = uv(density(term, Y, indptr, tails))  # from g = dCorr/dr
    grad = analytic_gradient(Y, graph, u, v)
    h = 1e-6
    numeric = np.zeros_like(Y)
    for i in range(Y.shape[0]):
        for c in range(2):
            up, down = Y.copy(), Y.copy()
            up[i, c] += h
            down[i, c] -= h
            numeric[i, c] = (correlation(up, graph, R, 0.1) - correlation(down, graph, R, 0.1)) / (2 * h)
    assert np.abs(numeric).max() > 1e-3
    assert np.allclose(grad, numeric, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("due", [True, False])  # the density term takes every edge, sampled or not
def test_kernel_moves_points_along_the_correlation_gradient(problem, due):
    graph, Y, R, indptr, tails = problem
    lam, alpha = 5.0, 1e-3  # small steps: the epoch is close to one gradient step
    term = DensityTerm(lam=lam, frac=1.0, var_shift=0.1, R=R)
    start = Y.astype(np.float32)
    dens = density(term, start, indptr, tails)
    moved, pulls = [], []
    for terms in (kernel_terms([], 0, 1, start, start, None), dens):  # every edge due once (eps = 1) or none
        head, ones = start.copy(), np.ones(graph.nnz)
        pull = np.zeros((graph.nnz, 2), dtype=np.float32)
        run_epoch(head, start, indptr, tails, ones, ones * (1 if due else 2), ones.copy(), 0.0, alpha, 0, pull, terms)
        pulls.append(pull.copy())
        np.add.at(head, tails, pull)  # each tail takes the pulls of its edges
        moved.append(head.astype(np.float64))
    expected = alpha * analytic_gradient(start.astype(np.float64), graph, *uv(dens))  # from g = lam dCorr/dr
    assert np.abs(expected).max() > 1e-5
    assert np.allclose(moved[1] - moved[0], expected, rtol=0.02, atol=0.02 * np.abs(expected).max())
    # each vertex takes its density gradient from its own row: the pulls differ only as the heads moved
    assert np.allclose(pulls[0], pulls[1], rtol=0, atol=0.01 * np.abs(expected).max())


@pytest.mark.parametrize("eps, cap", [(1.0, 4.0), (2.0, 4.0), (10.0, 0.8)])
def test_kernel_clips_an_edge_at_what_its_samples_deliver(eps, cap):
    """The density step along an edge sampled every ``eps`` epochs is clipped at 4 min(1, 2 / eps) per
    coordinate: at most what umap-learn's two clipped samples of it (one per direction) deliver per epoch."""
    graph = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    Y = np.array([[0.0, 0.0], [0.3, -0.4]], dtype=np.float32)
    indptr, tails = graph.indptr.astype(np.int64), graph.indices.astype(np.int64)
    dens = density(DensityTerm(lam=1e6, frac=1.0, var_shift=0.1, R=np.array([1.0, 0.5])), Y, indptr, tails)
    head, every, alpha = Y.copy(), np.full(2, eps), 1e-3
    run_epoch(
        head, Y, indptr, tails, every, every + 2, every.copy(), 0.0, alpha, 0, np.zeros((0, 2), dtype=np.float32), dens
    )
    assert np.allclose(np.abs(head - Y), cap * alpha, rtol=1e-4)
    assert (np.sign(head - Y) == np.sign(Y - Y[::-1])).all()  # the larger radius wanted pushes the ends apart


@pytest.mark.parametrize(
    "n_epochs, frac, lam, on",
    [
        (200, 0.3, 2.0, 60),
        (500, 0.3, 2.0, 150),
        (100, 0.0, 2.0, 0),
        (100, 1.0, 2.0, 100),
        (100, 0.5, 0.0, 0),
    ],
)
def test_term_acts_in_the_last_frac_of_the_epochs(n_epochs, frac, lam, on):
    term = DensityTerm(lam=lam, frac=frac, var_shift=0.1, R=np.zeros(3))
    active = [e for e in range(n_epochs) if term.active(e, n_epochs)]
    assert len(active) == on
    assert active == list(range(n_epochs - on, n_epochs))


def test_equal_radii_standardise_to_zero():
    r = np.array([1.5, 1.5, np.nan, 1.5])
    assert np.array_equal(standardise(r, *radius_stats(r)), [0.0, 0.0, np.nan, 0.0], equal_nan=True)
    s = standardise(np.array([1.0, 2.0, 4.0]), *radius_stats(np.array([1.0, 2.0, 4.0])))
    assert s.mean() == pytest.approx(0.0) and s.std() == pytest.approx(1.0)


def test_each_phase_reads_the_tails_where_they_were_when_it_began(problem):
    graph, Y, R, indptr, tails = problem
    start = Y.astype(np.float32)
    n, n_phases = len(start), 64  # blocks of 256 // 64 = 4 consecutive heads; block k moves in phase k % 64
    dens = density(DensityTerm(lam=2.0, frac=1.0, var_shift=0.1, R=R), start, indptr, tails)

    def epoch(head, tail, edges, edge_id=None, phases=1):
        """An epoch of the heads' ``edges`` (a mask): each due once, with 5 negative samples."""
        rows = np.repeat(np.arange(n), np.diff(indptr))[edges]
        sub_indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int64)
        ones, pull = np.ones(edges.sum()), np.zeros((edges.sum(), 2), dtype=np.float32)
        args = (sub_indptr, tails[edges], ones, ones.copy(), np.zeros(edges.sum()), 5.0, 0.5, 3, pull, dens, phases)
        return run_epoch(head, tail, *args, edge_id), pull

    every = np.ones(graph.nnz, dtype=bool)
    stacked = np.concatenate([start, start])
    counters, _ = epoch(stacked[:n], stacked, every, phases=n_phases)
    # each stage's tasks were all claimed and done: the copy, the 64 phases (some without heads), the pulls
    tasks = [-(-n // 256)] + [len(range(p, -(-n // 4), n_phases)) for p in range(n_phases)] + [-(-n // 256)]
    assert counters[1].tolist() == tasks and (counters[0] >= counters[1]).all()
    # phase by phase: the phase's heads (their edges alone) move against the layout as the phase began and
    # store the pulls on their edges; at the end each tail takes its pulls, edge by edge
    head, pull = start.copy(), np.zeros((graph.nnz, 2), dtype=np.float32)
    block = np.repeat(np.arange(n), np.diff(indptr)) // 4 % n_phases
    for phase in range(n_phases):
        mine = block == phase
        pull[mine] = epoch(head, head.copy(), mine, np.flatnonzero(mine))[1]
    reverse = reverse_edges(graph)
    for j in range(n):
        for e in range(indptr[j], indptr[j + 1]):
            head[j] += pull[reverse[e]]
    assert np.array_equal(stacked[:n], head)
    # in one phase, against the layout as the epoch began, the result differs
    once = np.concatenate([start, start])
    epoch(once[:n], once, every)
    assert not np.array_equal(once[:n], head)
