"""The one place that finds the real data sets: ``$UMAPX_DATA``, else ``../shared/data`` beside the checkout."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

_DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data"


def data_dir() -> Path:
    return Path(os.environ.get("UMAPX_DATA", _DEFAULT))


def dataset_path(name: str) -> Path:
    return data_dir() / f"{name}.npz"


def load(name: str, *, dtype=np.float32):
    """``(X, y)`` of ``<data_dir>/<name>.npz`` (y is None when the set has no labels)."""
    path = dataset_path(name)
    if not path.exists():
        raise FileNotFoundError(f"data set {name!r} not found at {path}; set UMAPX_DATA to the folder holding it.")
    with np.load(path, allow_pickle=False) as archive:
        X = archive["X"].astype(dtype)
        y = archive["y"] if "y" in archive.files else None
    return X, y


def load_or_bundled(name: str):
    """``(X, y, source)``: the named set if present, else scikit-learn's bundled digits."""
    if dataset_path(name).exists():
        X, y = load(name)
        return X, y, name
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data.astype(np.float32), digits.target, "sklearn digits (bundled)"
