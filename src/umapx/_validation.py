"""Declarative parameter constraints and input checks, with error texts that name the valid choices."""
from __future__ import annotations

import inspect
import numbers
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A number in [low, high] (or open at an end); ``integer`` demands an int."""

    low: float = -np.inf
    high: float = np.inf
    integer: bool = False
    open_low: bool = False
    open_high: bool = False

    def accepts(self, value) -> bool:
        kind = numbers.Integral if self.integer else numbers.Real
        if isinstance(value, bool) or not isinstance(value, kind):
            return False
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        return bool(above and below)

    def __str__(self) -> str:
        left = "(" if self.open_low else "["
        right = ")" if self.open_high else "]"
        kind = "an int" if self.integer else "a number"
        return f"{kind} in {left}{self.low}, {self.high}{right}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values."""

    choices: tuple

    def accepts(self, value) -> bool:
        return isinstance(value, (str, bool, type(None))) and value in self.choices

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)


@dataclass(frozen=True)
class Kind:
    """An instance of one of ``types`` (described by ``name``)."""

    types: tuple
    name: str

    def accepts(self, value) -> bool:
        return isinstance(value, self.types)

    def __str__(self) -> str:
        return self.name


NONE = Options((None,))
ARRAY = Kind((np.ndarray, list, tuple), "an array")
DICT = Kind((dict,), "a dict")


def check_params(owner: str, params: dict, constraints: dict) -> None:
    """Raise ValueError naming the first parameter that meets none of its constraints."""
    for name, allowed in constraints.items():
        value = params[name]
        if any(c.accepts(value) for c in allowed):
            continue
        choices = " or ".join(str(c) for c in allowed)
        raise ValueError(f"The {name!r} parameter of {owner} must be {choices}; got {value!r}.")


def check_array(X, *, name: str = "X", min_samples: int = 2, allow_sparse: bool = True, dtype=np.float32):
    """Return ``X`` as a 2-D float array (a copy when converted) or CSR matrix; never modifies ``X``."""
    import scipy.sparse as sp

    if sp.issparse(X):
        if not allow_sparse:
            raise TypeError(f"{name} is a sparse matrix, which is not supported here; pass a dense array.")
        X = sp.csr_matrix(X, dtype=dtype, copy=True)
        values = X.data
    else:
        X = np.asarray(X)
        if X.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric (bool, int or float); got dtype {X.dtype}.")
        X = np.array(X, dtype=dtype, order="C", copy=True)
        values = X
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got {X.ndim}-D with shape "
            f"{X.shape}. Reshape 1-D data with X.reshape(-1, 1) (one feature) or X.reshape(1, -1) (one sample)."
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {X.shape}; it needs at least one sample and one feature.")
    if X.shape[0] < min_samples:
        raise ValueError(f"{name} has {X.shape[0]} sample(s); at least {min_samples} are needed.")
    bad = ~np.isfinite(values)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0] if not sp.issparse(X) else _sparse_rows(X, bad))
        raise ValueError(
            f"{name} contains NaN or infinity in {rows.size} row(s), first rows {rows[:5].tolist()}; "
            "remove or impute them first."
        )
    return X


def _sparse_rows(X, bad_data):
    row_of_entry = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    return row_of_entry[bad_data]


def check_labels(y, n_samples: int) -> np.ndarray:
    """Return ``y`` as a 1-D array of length ``n_samples`` (a copy)."""
    y = np.array(y, copy=True)
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D; got shape {y.shape}.")
    if y.shape[0] != n_samples:
        raise ValueError(f"y has {y.shape[0]} entries but X has {n_samples} samples; they must match.")
    if y.dtype.kind not in "biuf":
        raise ValueError(f"y must be numeric (use -1 for unlabelled points); got dtype {y.dtype}.")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinity; use -1 to mark unlabelled points.")
    return y


class ParamsMixin:
    """``get_params``/``set_params`` from the constructor signature, as scikit-learn's ``clone`` expects."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for {type(self).__name__}; valid: {', '.join(valid)}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        changed = [
            f"{k}={v!r}"
            for k, v in self.get_params().items()
            if not _same(v, sig.parameters[k].default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"


def _same(a, b) -> bool:
    try:
        return bool(a is b or (type(a) is type(b) and a == b))
    except (ValueError, TypeError):
        return False
