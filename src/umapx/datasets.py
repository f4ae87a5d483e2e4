"""The one place that finds the real data sets (``<name>.npz`` with arrays ``X`` and, optionally, ``y``).

They are read from ``$UMAPX_DATA`` when it is set, else from the per-user cache folder
``$XDG_CACHE_HOME/umapx/data`` (``~/.cache/umapx/data`` when ``XDG_CACHE_HOME`` is unset). A development
checkout's Makefile and test configuration point ``UMAPX_DATA`` at the shared data beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    """The per-user data folder: ``$XDG_CACHE_HOME/umapx/data``, else ``~/.cache/umapx/data``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "umapx" / "data"


def data_dir() -> Path:
    """The folder holding the data sets: ``$UMAPX_DATA`` when set, else ``cache_dir()``."""
    env = os.environ.get("UMAPX_DATA")
    return Path(env).expanduser() if env else cache_dir()


def dataset_path(name: str) -> Path:
    return data_dir() / f"{name}.npz"


def load(name: str, *, dtype=np.float32):
    """``(X, y)`` of ``<data_dir>/<name>.npz`` (y is None when the set has no labels)."""
    path = dataset_path(name)
    if not path.exists():
        raise FileNotFoundError(
            f"data set {name!r} not found at {path}: set UMAPX_DATA to the folder holding "
            f"{name}.npz, or put it in {cache_dir()} (read when UMAPX_DATA is unset)."
        )
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
