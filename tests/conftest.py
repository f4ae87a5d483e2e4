import os
from pathlib import Path

import numpy as np
import pytest

from umapx.datasets import dataset_path, load

# A plain ``pytest`` in a checkout reads the shared data beside it (as ``make test`` does).
os.environ.setdefault("UMAPX_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def real_data():
    """``real_data(name)`` -> (X, y); when the shared data set is absent, skips naming the file, or fails
    where ``UMAPX_REQUIRE_DATA`` is set (as CI sets it: there a missing set must not pass unseen)."""

    def _load(name):
        if not dataset_path(name).exists():
            reason = f"data set {dataset_path(name)} is absent"
            if os.environ.get("UMAPX_REQUIRE_DATA"):
                pytest.fail(f"{reason}, and UMAPX_REQUIRE_DATA asks for every data set")
            pytest.skip(reason)
        return load(name)

    return _load


@pytest.fixture(scope="session")
def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data.astype(np.float32), d.target


@pytest.fixture(scope="session")
def iris():
    from sklearn.datasets import load_iris

    d = load_iris()
    return d.data.astype(np.float32), d.target


@pytest.fixture
def on_threads(monkeypatch):
    """``on_threads(n, work)`` runs ``work()`` on a machine pinned at two usable CPUs with nothing else
    running, and fails unless every SGD kernel call of it ran on exactly ``n`` threads: on a loaded
    machine both sides of a one-against-two-threads comparison could otherwise run on one."""
    import numba

    import umapx._threads
    import umapx.layout.sgd

    assert numba.config.NUMBA_NUM_THREADS >= 2, "thread comparisons need numba to start two threads or more"
    monkeypatch.setattr(umapx._threads, "usable_cpus", lambda: 2)
    monkeypatch.setattr(umapx._threads, "others_running", lambda usable: 0.0)
    seen, kernel = [], umapx.layout.sgd.sgd_epochs

    def spy(*args):
        seen.append((numba.get_num_threads(), args[-1]))  # the count numba was set to, the count the kernel used
        return kernel(*args)

    monkeypatch.setattr(umapx.layout.sgd, "sgd_epochs", spy)

    def run(n, work):
        seen.clear()
        result = work()
        assert seen and set(seen) == {(n, n)}, f"the SGD kernel ran on {sorted(set(seen))} threads, not {n}"
        return result

    return run
