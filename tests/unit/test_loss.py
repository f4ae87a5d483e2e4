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
    return {
        "purported_attraction": attraction,
        "purported_repulsion": ((1 - G) * Lr)[off].sum(),
        "effective_repulsion": gamma * (W * Lr)[off].sum(),
        "corrected_repulsion": gamma * ((W + np.where(G > 0, np.maximum(1 - G - W, 0), 0)) * Lr)[off].sum(),
    }


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
    exact = losses(model.embedding_, model.graph_, model.layout_.a, model.layout_.b)
    for key in (1, 2, 3):
        est = losses(model.embedding_, model.graph_, model.layout_.a, model.layout_.b, exact=False, key=key)
        for name in ("purported", "effective", "purported_attraction", "purported_repulsion", "effective_repulsion"):
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


def test_loss_report_records_every_epoch_and_matches_losses(digits):
    from umapx import UMAP

    X, _ = digits
    model = UMAP(random_state=0, n_epochs=30, loss_report="epoch").fit(X[:600])
    h = model.loss_history_
    assert list(h["epoch"]) == list(range(1, 31))
    # records are the estimate with key 0; it is unbiased, so close to the exact sums
    final = losses(model.embedding_, model.graph_, model.layout_.a, model.layout_.b, exact=False)
    exact = losses(model.embedding_, model.graph_, model.layout_.a, model.layout_.b)
    for name, value in final.items():
        assert h[name][-1] == pytest.approx(value, rel=1e-9), name
        assert value == pytest.approx(exact[name], rel=0.03), name
    # the sampled pairs' loss (eq. 11) follows the effective loss (eq. 12), not the purported one (004, Fig. 3)
    assert np.allclose(h["actual"][5:], h["effective"][5:], rtol=0.15)
    assert h["purported"][-1] > 5 * h["effective"][-1]
    every5 = UMAP(random_state=0, n_epochs=30, loss_report=5).fit(X[:600])
    assert list(every5.loss_history_["epoch"]) == [5, 10, 15, 20, 25, 30]
    assert every5.embedding_.tobytes() == model.embedding_.tobytes()
    default = UMAP(random_state=0, n_epochs=100, loss_report=True).fit(X[:600])
    assert list(default.loss_history_["epoch"]) == list(range(4, 101, 4))  # 25 records
    assert list(UMAP(random_state=0, n_epochs=3, loss_report=1).fit(X[:600]).loss_history_["epoch"]) == [1, 2, 3]


def test_negative_sampling_umap_is_the_default_bit_for_bit(digits):
    from umapx import UMAP

    X, _ = digits
    base = UMAP(random_state=1, n_epochs=50).fit_transform(X)
    same = UMAP(random_state=1, n_epochs=50, negative_sampling="umap", loss_report=7).fit_transform(X)
    assert base.tobytes() == same.tobytes()


@pytest.mark.parametrize("scheme", ["push_tail", "corrected"])
def test_other_schemes_change_the_layout_deterministically(digits, scheme, on_threads):
    from umapx import UMAP

    X, _ = digits

    def fit(n):
        return UMAP(random_state=1, n_epochs=50, n_jobs=n, negative_sampling=scheme).fit_transform(X[:800])

    runs = [on_threads(n, lambda n=n: fit(n)) for n in (1, 2)]
    base = UMAP(random_state=1, n_epochs=50).fit_transform(X[:800])
    assert runs[0].tobytes() == runs[1].tobytes()
    assert not np.array_equal(runs[0], base)


def test_corrected_scheme_lowers_the_purported_loss(digits):
    from umapx import UMAP

    X, _ = digits
    runs = {s: UMAP(random_state=0, negative_sampling=s, loss_report=50).fit(X) for s in ("umap", "corrected")}
    h = {s: m.loss_history_ for s, m in runs.items()}
    # eq. 18 gives kNN pairs their purported repulsion weight, so the purported loss ends lower
    assert h["corrected"]["purported"][-1] < h["umap"]["purported"][-1]
    # and the effective loss (eq. 18 for corrected) is what its sampled pairs follow
    assert h["corrected"]["actual"][-1] == pytest.approx(h["corrected"]["effective"][-1], rel=0.15)


def test_early_stopping_and_snapshots(digits):
    from umapx import UMAP
    from umapx.callbacks import EarlyStopping, EmbeddingSnapshots

    X, _ = digits
    stop, snaps = EarlyStopping(rel_tol=0.05, patience=5), EmbeddingSnapshots(every=2)
    model = UMAP(random_state=0, n_epochs=200, callbacks=[stop, snaps]).fit(X[:600])
    assert stop.stopped_epoch is not None and model.n_epochs_run_ == stop.stopped_epoch < 200
    assert [e for e, _ in snaps.snapshots] == list(range(2, model.n_epochs_run_ + 1, 2))
    assert snaps.snapshots[-1][1].shape == (600, 2)
    seen = []

    def reader(epoch, embedding, record):
        seen.append(embedding.flags.writeable)

    UMAP(random_state=0, n_epochs=3, callbacks=[reader]).fit(X[:300])
    assert seen == [False, False, False]
    assert UMAP(random_state=0, n_epochs=20).fit(X[:300]).n_epochs_run_ == 20


def test_loss_and_callback_bad_input(digits):
    from umapx import UMAP

    X, _ = digits
    with pytest.raises(ValueError, match="negative_sampling.*one of 'umap', 'push_tail', 'corrected'"):
        UMAP(negative_sampling="tail").fit(X[:100])
    with pytest.raises(ValueError, match="loss_report"):
        UMAP(loss_report="always").fit(X[:100])
    with pytest.raises(ValueError, match="loss_report and callbacks need output_metric='euclidean'"):
        UMAP(loss_report=1, output_metric="manhattan").fit(X[:100])
    with pytest.raises(ValueError, match="callbacks must be callables"):
        UMAP(callbacks=[3]).fit(X[:100])
