"""The targets of supervised UMAP: labels of any type as categories, and umap-learn's discrete target
metrics (``ordinal``, ``count``, ``string``) as distances between the values at an edge's two ends,
each scaled by parameters read from the targets, as umap-learn does."""

from __future__ import annotations

import numpy as np

#: Target metrics that scale the data graph's edges instead of building a target kNN graph.
DISCRETE = ("categorical", "ordinal", "count", "string")


def check_target(y, n_samples, target_metric="categorical"):
    """``y`` as a 1-D array of ``n_samples`` entries (a copy): category codes (-1 unlabelled) for
    ``categorical``, strings for ``string``, finite numbers otherwise."""
    y = np.array(y, copy=True)
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D; got shape {y.shape}.")
    if y.shape[0] != n_samples:
        raise ValueError(f"y has {y.shape[0]} entries but X has {n_samples} samples; they must match.")
    if target_metric == "categorical":
        return category_codes(y)
    if target_metric == "string":
        return y.astype(str)
    if y.dtype.kind not in "biuf":
        raise ValueError(
            f"y must be numeric for target_metric={target_metric!r}; got dtype {y.dtype}. "
            "Labels of other types need target_metric='categorical' (or 'string')."
        )
    if not np.all(np.isfinite(y)):
        raise ValueError(f"y contains NaN or infinity; target_metric={target_metric!r} needs a value for every point.")
    if target_metric == "count" and ((y < 0) | (y != np.rint(y))).any():
        raise ValueError("target_metric='count' needs counts: non-negative whole numbers.")
    return y.astype(np.float64)


def category_codes(y):
    """Each label's index among the distinct labels, -1 for an unlabelled point: -1, NaN or None, as
    umap-learn's semi-supervised fits mark them."""
    if y.dtype.kind in "biuf":
        unlabelled = (y == -1) | np.isnan(y.astype(np.float64))
    else:
        unlabelled = np.array([_missing(v) for v in y.tolist()], dtype=bool)
    codes = np.full(y.shape, -1, dtype=np.int64)
    labels = y[~unlabelled]
    try:
        codes[~unlabelled] = np.unique(labels, return_inverse=True)[1]
    except TypeError:  # labels of types that do not compare (1 and "1"): in order of (type, text)
        keys = [(type(v).__name__, str(v)) for v in labels.tolist()]
        order = {key: i for i, key in enumerate(sorted(set(keys)))}
        codes[~unlabelled] = [order[key] for key in keys]
    return codes


def _missing(value):
    """-1, None, NaN of any float type, and pandas' NA (whose comparisons raise)."""
    try:
        return value is None or bool(value != value) or bool(value == -1)
    except TypeError:
        return True


def target_distance(y, metric):
    """distance(y_i, y_j) on arrays of edge ends for ``graph.target_intersection``."""
    if metric == "ordinal":  # |y_i - y_j| over half the range
        support = max(float(y.max() - y.min()) / 2.0, np.finfo(np.float64).tiny)
        return lambda yi, yj: np.abs(yi - yj) / support
    if metric == "count":
        return _count_distance(y)
    return _string_distance(y)


def _count_distance(y):
    """sum over k in [min, max) of log Poisson(k; lambda), lambda the mean count, normalised by half its
    value over the whole range of counts (umap-learn's count distance, with exact log k!)."""
    from scipy.special import gammaln

    counts = np.rint(y).astype(np.int64)
    low, high, lam = counts.min(), counts.max(), float(y.mean())
    k = np.arange(low, high + 1)
    log_pmf = k * np.log(max(lam, np.finfo(np.float64).tiny)) - lam - gammaln(k + 1.0)
    cumulative = np.concatenate([[0.0], np.cumsum(log_pmf)])  # cumulative[m] = sum for k < low + m
    whole = cumulative[-2] / 2.0 if high > low else 1.0

    def distance(yi, yj):
        lo, hi = np.minimum(yi, yj), np.maximum(yi, yj)
        return (cumulative[np.rint(hi).astype(np.int64) - low] - cumulative[np.rint(lo).astype(np.int64) - low]) / whole

    return distance


def _string_distance(y):
    """The Levenshtein distance, capped at max_distance and divided by the normalisation umap-learn
    derives from the longest string (2/3 and 1/3 of its length)."""
    longest = max(len(s) for s in y.tolist())
    normalisation = cap = longest / 3.0 or 1.0
    words = np.unique(y)

    def distance(yi, yj):
        m = len(words)
        pairs, back = np.unique(np.searchsorted(words, yi) * m + np.searchsorted(words, yj), return_inverse=True)
        d = [min(levenshtein(words[p // m], words[p % m]), cap) / normalisation for p in pairs.tolist()]
        return np.asarray(d)[back]

    return distance


def levenshtein(a, b):
    """The edit distance between two strings (insertions, deletions and substitutions cost 1)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
