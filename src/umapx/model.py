"""The fitted state as explicit dataclasses, and the registries through which ``io`` saves them.

``build_graph`` returns a ``Graph``, ``embed_graph`` a ``Layout``; an estimator's fitted state is
made of them. ``io`` writes a registered dataclass field by field and a registered object with
``to_bytes`` as its bytes, so a new kind of state (a list of slices, an encoder's weights)
registers itself here and needs no change to ``io``. ``SCHEMA`` is the model file's format version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .metrics import ResolvedMetric

#: Model file format: 1 kept a bare hnswlib index, 2 added its principal axes, 3 writes these dataclasses.
SCHEMA = 3
SAVABLE: dict[str, type] = {}
ESTIMATORS: dict[str, type] = {}


def savable(cls):
    """Register a class that a model file may hold: a dataclass (saved field by field) or a class
    with ``to_bytes`` and a ``from_bytes`` classmethod."""
    SAVABLE[cls.__name__] = cls
    return cls


def estimator(cls):
    """Register an estimator class that ``umapx.load`` may rebuild: it has ``_fitted_state()``, a dict of
    savable values, and ``_set_fitted_state(state)``."""
    ESTIMATORS[cls.__name__] = cls
    return cls


savable(ResolvedMetric)


@savable
@dataclass
class Graph:
    """The fuzzy simplicial set of the data and what later queries of new points need.

    ``graph`` is the symmetric fuzzy set (CSR, float32); ``knn_indices``/``knn_dists`` each point's
    kNN list (itself first) before far edges were dropped, ``sigmas``/``rhos`` its local metric
    (002 eqs. 3-4), ``knn_mean`` the mean kNN distance (sigma's floor), ``graph_dists`` the data
    distances of the kNN edges (symmetric), ``index`` the neighbour index of the training points
    (``umapx.neighbors``). ``unique_inverse`` maps each input row to its vertex when duplicates were
    merged. A graph made by combining others has only ``graph``, ``metric`` and ``n_neighbors``.
    """

    graph: sp.csr_matrix
    metric: ResolvedMetric
    n_neighbors: int
    knn_indices: np.ndarray | None = None
    knn_dists: np.ndarray | None = None
    sigmas: np.ndarray | None = None
    rhos: np.ndarray | None = None
    knn_mean: float | None = None
    graph_dists: sp.csr_matrix | None = None
    index: object | None = None
    local_connectivity: float = 1.0
    set_op_mix_ratio: float = 1.0
    disconnection_distance: float = np.inf
    supervised: bool = False
    unique_inverse: np.ndarray | None = None
    n_features: int | None = None

    @property
    def n_vertices(self):
        return self.graph.shape[0]

    @property
    def data(self):
        """The training rows (one per vertex), or None for precomputed distances and combined graphs."""
        return None if self.index is None else self.index.data

    def per_vertex(self, values):
        """``values`` (one per input row) for each vertex: one per distinct row with ``unique_inverse``."""
        if self.unique_inverse is None:
            return values
        return np.ascontiguousarray(values[np.unique(self.unique_inverse, return_index=True)[1]])

    def per_row(self, values):
        """``values`` (one per vertex) for each input row."""
        return values if self.unique_inverse is None or values is None else values[self.unique_inverse]


@savable
@dataclass
class Layout:
    """A low-dimensional layout of a graph (``embedding``: one row per input row, float32) with the
    curve it was optimised for, its epoch schedule and what the fit reported: the data's and the
    embedding's log local radii (``rad_orig``, ``rad_emb``, one per input row, with ``rad_orig``'s
    mean and deviation over the vertices), the loss history and the epochs run."""

    embedding: np.ndarray
    a: float
    b: float
    output_metric: ResolvedMetric
    n_epochs: int
    rad_orig: np.ndarray | None = None
    rad_emb: np.ndarray | None = None
    rad_mean: float | None = None
    rad_std: float | None = None
    loss_history: dict | None = None
    n_epochs_run: int = 0
