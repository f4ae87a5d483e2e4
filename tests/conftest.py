import os
from pathlib import Path

import numpy as np
import pytest

from umapx.datasets import dataset_path, load

# A plain ``pytest`` in a checkout reads the shared data beside it (as ``make test`` does).
os.environ.setdefault("UMAPX_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def real_data():
    """``real_data(name)`` -> (X, y); skips, naming the file, when the shared data set is absent."""

    def _load(name):
        if not dataset_path(name).exists():
            pytest.skip(f"data set {dataset_path(name)} is absent")
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
