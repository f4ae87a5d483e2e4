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


@dataclass(frozen=True)
class MetricChoice:
    """A metric name from ``names`` or, with ``functions``, a numba-jitted function."""

    names: tuple
    functions: bool = True

    def accepts(self, value) -> bool:
        if isinstance(value, str):
            return value in self.names
        return self.functions and type(value).__name__ == "CPUDispatcher"

    def __str__(self) -> str:
        functions = " or a numba-jitted function (numba.njit)" if self.functions else ""
        return f"one of {', '.join(repr(n) for n in self.names)}{functions}"


@dataclass(frozen=True)
class Satisfies:
    """A value for which ``test`` holds (described by ``name``)."""

    test: object
    name: str

    def accepts(self, value) -> bool:
        return bool(self.test(value))

    def __str__(self) -> str:
        return self.name


NONE = Options((None,))
ARRAY = Kind((np.ndarray, list, tuple), "an array")
DICT = Kind((dict,), "a dict")


def check_params(owner: str, params: dict, constraints: dict) -> None:
    """Raise ValueError naming the first parameter that meets none of its constraints (a subclass may
    take fewer parameters than the constraints it inherits)."""
    for name, value in params.items():
        if name not in constraints:
            raise TypeError(f"{owner} declares no constraint for its parameter {name!r} (_parameter_constraints).")
        allowed = constraints[name]
        if any(c.accepts(value) for c in allowed):
            continue
        choices = " or ".join(str(c) for c in allowed)
        raise ValueError(f"The {name!r} parameter of {owner} must be {choices}; got {value!r}.")


def check_array(
    X, *, name: str = "X", min_samples: int = 2, allow_sparse: bool = True, dtype=np.float32, finite: bool = True
):
    """Return ``X`` as a 2-D float array (a copy) or CSR matrix; never modifies ``X``. ``finite``
    refuses NaN and infinity."""
    import scipy.sparse as sp

    if sp.issparse(X):
        if not allow_sparse:
            raise TypeError(f"{name} is a sparse matrix, which is not supported here; pass a dense array.")
        # one copy of data, indices and indptr: a CSR input is copied, any other format converted
        X = sp.csr_matrix(X.astype(dtype, copy=True)) if X.format == "csr" else sp.csr_matrix(X, dtype=dtype)
        values = X.data
    else:
        X = np.asarray(X)
        if X.dtype.kind == "c":
            raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}; pass real numbers.")
        if X.dtype.kind not in "biufO":
            raise ValueError(f"{name} must be numeric (bool, int or float); got dtype {X.dtype}.")
        try:
            X = np.array(X, dtype=dtype, order="C", copy=True)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be numeric (bool, int or float); its objects are not: {err}") from err
        values = X
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got {X.ndim}-D with shape "
            f"{X.shape}. Reshape your data with X.reshape(-1, 1) (one feature) or X.reshape(1, -1) (one sample)."
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"{name} is empty: {X.shape[0]} sample(s) and {X.shape[1]} feature(s) (shape={X.shape}) while a "
            "minimum of 1 is required of each."
        )
    if X.shape[0] < min_samples:
        raise ValueError(f"{name} has {X.shape[0]} sample(s); at least {min_samples} are needed.")
    bad = ~np.isfinite(values)
    if finite and bad.any():
        rows = np.unique(np.nonzero(bad)[0] if not sp.issparse(X) else _sparse_rows(X, bad))
        raise ValueError(
            f"{name} contains NaN or infinity in {rows.size} row(s), first rows {rows[:5].tolist()}; "
            "remove or impute them first."
        )
    return X


def _sparse_rows(X, bad_data):
    row_of_entry = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    return row_of_entry[bad_data]


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
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, sig.parameters[k].default)]
        return f"{type(self).__name__}({', '.join(changed)})"


def _same(a, b) -> bool:
    try:
        return bool(a is b or (type(a) is type(b) and a == b))
    except (ValueError, TypeError):
        return False


# checks shared with umapx.evaluation

_EUCLIDEAN = ("euclidean", "l2")


def check_int(value, name, low, high=None, high_text=None):
    """Return ``value`` as an int in [low, high]; ``high_text`` explains the upper bound."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int, got {value!r}.")
    value = int(value)
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}.")
    if high is not None and value > high:
        raise ValueError(f"{name}={value} is too large: {high_text or f'it must be <= {high}'}.")
    return value


def check_metric(metric):
    """A metric name or callable; ``"l2"`` becomes ``"euclidean"``."""
    if not (isinstance(metric, str) or callable(metric)):
        raise ValueError(f"metric must be a string or a callable, got {metric!r}.")
    return "euclidean" if metric in _EUCLIDEAN else metric


def check_data(X, metric, name="X"):
    """Validate the data-space input; returns a float32/float64 array or CSR matrix, and the metric."""
    import scipy.sparse as sp
    from sklearn.metrics import pairwise_distances
    from sklearn.utils import check_array as sk_check_array

    metric = check_metric(metric)
    if X is None:
        raise ValueError(f"{name} is required.")
    if sp.issparse(X):
        if metric == "precomputed":
            raise ValueError(f"metric='precomputed' needs a dense square distance matrix; {name} is sparse.")
        X = sk_check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32], input_name=name)
    else:
        X = np.asarray(X)
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        if X.dtype in (np.uint8, np.int8):  # 8-bit images: float32 is plenty and twice as fast
            X = X.astype(np.float32)
        X = sk_check_array(X, dtype=[np.float64, np.float32], order="C", input_name=name)
    if metric == "precomputed":
        if X.shape[0] != X.shape[1]:
            raise ValueError(f"metric='precomputed' needs a square distance matrix; {name} has shape {X.shape}.")
        if np.any(X < 0):
            raise ValueError(f"the precomputed distances in {name} must be non-negative.")
    elif metric != "euclidean":
        try:
            pairwise_distances(X[:1], X[:2], metric=metric)
        except (ValueError, TypeError) as err:
            raise ValueError(f"unsupported metric {metric!r} for {name}: {err}") from err
    return X, metric


def check_embedding(Y, name="Y"):
    """An embedding as a dense C-ordered float64 2-D array (1-D input is one column)."""
    import scipy.sparse as sp
    from sklearn.utils import check_array as sk_check_array

    if Y is None:
        raise ValueError(f"{name} is required.")
    if sp.issparse(Y):
        Y = Y.toarray()
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    return sk_check_array(Y, dtype=np.float64, order="C", input_name=name)


def check_same_length(a_len, b_len, a_name="X", b_name="Y"):
    """Raise ValueError unless the two sample counts match."""
    if a_len != b_len:
        raise ValueError(
            f"{a_name} and {b_name} must have the same number of samples: {a_name} has {a_len}, {b_name} has {b_len}."
        )


def check_eval_labels(y, n, name="y"):
    """Labels as a 1-D array of length n, and the mask of labelled points (not -1 / NaN)."""
    if y is None:
        raise ValueError(f"{name} (class labels) is required.")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {y.shape}.")
    check_same_length(n, y.shape[0], "Y", name)
    if y.dtype.kind in "iu":
        mask = y != -1
    elif y.dtype.kind == "f":
        mask = (y != -1) & ~np.isnan(y)
    else:
        mask = np.ones(y.shape[0], dtype=bool)
    return y, mask


def check_knn(knn_X, n, K):
    """Rows' first K neighbours (self excluded) as an (n, K) int64 array."""
    knn = np.asarray(knn_X)
    if knn.ndim != 2:
        raise ValueError(f"knn_X must be 2-D (n_samples, n_neighbors), got shape {knn.shape}.")
    if knn.dtype.kind not in "iu":
        raise ValueError(f"knn_X must hold integer indices, got dtype {knn.dtype}.")
    check_same_length(n, knn.shape[0], "X", "knn_X")
    if knn.shape[1] > 0 and np.array_equal(knn[:, 0], np.arange(n)):
        knn = knn[:, 1:]  # the search included each point itself: drop that column
    if knn.shape[1] < K:
        raise ValueError(f"knn_X has {knn.shape[1]} neighbours per row (self excluded) but {K} are needed.")
    knn = knn[:, :K].astype(np.int64)
    if knn.size and (knn.min() < 0 or knn.max() >= n):
        raise ValueError(f"knn_X must hold indices in [0, {n}); got values from {knn.min()} to {knn.max()}.")
    if np.any(knn == np.arange(n)[:, None]):
        raise ValueError("knn_X rows must exclude the point itself (row i contains i).")
    return knn


def keyword_aliases(**aliases):
    """Decorator: keyword ``alias=value`` stands for parameter ``aliases[alias]`` (e.g. scikit-learn's names).

    Giving a parameter under both names, by position or keyword, raises TypeError naming both.
    """
    from functools import wraps

    def decorate(func):
        params = list(inspect.signature(func).parameters)
        position = {name: params.index(name) for name in aliases.values()}

        @wraps(func)
        def wrapper(*args, **kwargs):
            for alias, name in aliases.items():
                if alias not in kwargs:
                    continue
                if name in kwargs or position[name] < len(args):
                    raise TypeError(f"{func.__name__}() got both {name!r} and its alias {alias!r}; pass only one.")
                kwargs[name] = kwargs.pop(alias)
            return func(*args, **kwargs)

        return wrapper

    return decorate
