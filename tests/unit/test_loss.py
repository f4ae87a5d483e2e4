"""UMAP's purported and effective losses (004 eqs. 5-6, 12, 15, 18) against direct numpy sums."""
import numpy as np
import pytest
import scipy.sparse as sp

from umapx.loss import losses, target_similarities


def dense_reference(Y, G, a, b, m, gamma=1.0):
    n = len(Y)
    D2 = ((Y[:, None] - Y[None]) ** 2).sum(-1)
    q = np.maximum(a * D2**b, 1e-12)
    La, Lr = np.log1p(q), np.log1p(1 / q)
    off = ~np.eye(n, dtype=bool)
    d = G.sum(1)
    W = (d[:, None] + d[None]) * m / (2 * n)
    attraction = (G * La)[off].sum()
    return {"purported_attraction": attraction, "purported_repulsion": ((1 - G) * Lr)[off].sum(),
            "effective_repulsion": gamma * (W * Lr)[off].sum(),
            "corrected_repulsion": gamma * ((W + np.where(G > 0, np.maximum(1 - G - W, 0), 0)) * Lr)[off].sum()}


@pytest.fixture(scope="module")
def small_graph():
    rng = np.random.default_rng(0)
    n = 300
    Y = rng.normal(size=(n, 2)) * 3
    A = sp.random(n, n, density=0.03, random_state=1, data_rvs=lambda k: rng.uniform(0.05, 1, k))
    G = A.maximum(A.T).tocsr()
    G.setdiag(0)
    G.eliminate_zeros()
    return Y, G


@pytest.mark.parametrize("gamma", [1.0, 0.5])
def test_exact_losses_match_the_equations(small_graph, gamma):
    Y, G = small_graph
    a, b, m = 1.58, 0.9, 5
    ref = dense_reference(Y, G.toarray(), a, b, m, gamma)
    got = losses(Y, G, a, b, m, gamma)
    assert got["purported_attraction"] == pytest.approx(ref["purported_attraction"], rel=1e-6)
    assert got["purported_repulsion"] == pytest.approx(ref["purported_repulsion"], rel=1e-6)
    assert got["effective_repulsion"] == pytest.approx(ref["effective_repulsion"], rel=1e-6)
    assert got["effective"] == pytest.approx(ref["purported_attraction"] + ref["effective_repulsion"], rel=1e-6)
    corrected = losses(Y, G, a, b, m, gamma, corrected=True)
    assert corrected["effective_repulsion"] == pytest.approx(ref["corrected_repulsion"], rel=1e-6)


def test_sampled_estimate_within_two_percent_at_5000(real_data):
    from umapx import UMAP

    X, _ = real_data("mnist_test")
    model = UMAP(random_state=0, n_epochs=100).fit(X[:5000])
    exact = losses(model.embedding_, model.graph_, model._a, model._b)
    for key in (1, 2, 3):
        est = losses(model.embedding_, model.graph_, model._a, model._b, exact=False, key=key)
        for name in ("purported", "effective", "purported_repulsion", "effective_repulsion"):
            assert est[name] == pytest.approx(exact[name], rel=0.02), name


def test_target_similarities_binarise_a_large_graph(small_graph):
    Y, G = small_graph
    target = target_similarities(G, 5)
    d = np.asarray(G.sum(1)).ravel()
    coo = G.tocoo()
    expected = coo.data / (coo.data + (d[coo.row] + d[coo.col]) * 5 / (2 * G.shape[0]))
    assert np.allclose(target.tocoo().data, expected)
    assert (target != target.T).nnz == 0
    big = sp.block_diag([G] * 20).tocsr()  # more points, same degrees: nu* -> 1 on every edge (eq. 15)
    assert target_similarities(big, 5).data.min() > target.data.min()
