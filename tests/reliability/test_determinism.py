"""Seeded runs are bit-identical across runs and thread counts; n_jobs never leaks."""

import numba
import numpy as np
import pytest

from umapx import UMAP


def test_bit_identical_for_one_and_two_threads(digits, on_threads):
    X, _ = digits
    runs = [
        on_threads(n, lambda n=n: UMAP(random_state=7, n_jobs=n, n_epochs=100).fit_transform(X)) for n in (1, 2, 2, 1)
    ]
    assert all(r.tobytes() == runs[0].tobytes() for r in runs[1:])


def test_densmap_bit_identical_for_one_and_two_threads(digits, on_threads):
    X, _ = digits

    def fit(n):
        return UMAP(
            densmap=True, output_dens=True, dens_frac=0.5, random_state=7, n_jobs=n, n_epochs=100
        ).fit_transform(X)

    runs = [on_threads(n, lambda n=n: fit(n)) for n in (1, 2, 2, 1)]
    assert all(a.tobytes() == b.tobytes() for run in runs[1:] for a, b in zip(run, runs[0], strict=True))


def test_bit_identical_on_approximate_path(digits, on_threads):
    X, _ = digits

    def fit(n):
        model = UMAP(random_state=3, n_jobs=n, n_epochs=30, force_approximation_algorithm=True).fit(X)
        assert model.graph_model_.index.kind == "hnsw"
        return model.embedding_

    runs = [on_threads(n, lambda n=n: fit(n)) for n in (1, 2)]
    assert runs[0].tobytes() == runs[1].tobytes()


def test_different_seeds_differ(digits):
    X, _ = digits
    a = UMAP(random_state=1, n_epochs=20).fit_transform(X)
    b = UMAP(random_state=2, n_epochs=20).fit_transform(X)
    assert not np.array_equal(a, b)


def test_optimiser_uses_every_thread(digits, monkeypatch):
    X, _ = digits
    import umapx._threads
    import umapx.layout.sgd

    seen = []
    kernel = umapx.layout.sgd.sgd_epochs

    def spy(*args):
        seen.append((numba.get_num_threads(), args[-1], len(args[9])))  # the count set, the count used, epochs
        return kernel(*args)

    monkeypatch.setattr(umapx.layout.sgd, "sgd_epochs", spy)
    monkeypatch.setattr(umapx._threads, "others_running", lambda usable: 0.0)  # an idle machine
    UMAP(random_state=0, n_jobs=-1, n_epochs=3).fit(X)
    assert kernel.targetoptions["parallel"] is True
    most = umapx._threads.effective_n_jobs(-1)
    assert {(count, used) for count, used, _ in seen} == {(most, most)}
    assert sum(epochs for *_, epochs in seen) == 3


def test_thread_count_restored(digits):
    X, _ = digits
    before = numba.get_num_threads()
    UMAP(n_jobs=1, n_epochs=2, random_state=0).fit(X)
    assert numba.get_num_threads() == before


def test_thread_count_restored_after_error(digits, monkeypatch):
    X, _ = digits
    import umapx.pipeline

    seen = []

    def broken(*args, **kwargs):
        seen.append(numba.get_num_threads())
        raise RuntimeError("boom")

    monkeypatch.setattr(umapx.pipeline, "optimize_layout", broken)
    before = numba.get_num_threads()
    with pytest.raises(RuntimeError, match="boom"):
        UMAP(n_jobs=1, n_epochs=2, random_state=0).fit(X)
    assert seen == [1]
    assert numba.get_num_threads() == before
