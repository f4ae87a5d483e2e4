"""umap-learn's fitted attributes on umapx's estimators (``_a``, ``_raw_data``, ``knn_indices``, ...), read
from the fitted ``Graph`` and ``Layout``, and a model built by hand from them, as scanpy's ``ingest``
builds one: it assigns ``_raw_data``, ``embedding_``, ``_a``, ``_b`` to a fresh ``UMAP`` and calls
``transform``."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from .layout.curve import find_ab_params
from .layout.sampling import default_n_epochs
from .metrics import resolve_output_metric
from .model import Layout
from .pipeline import build_graph


class _Learned:
    """One of umap-learn's fitted attributes, read from the fitted state (``read``). Before a fit, a
    wrapper may assign it, as scanpy's ``ingest`` builds a model by hand (see ``UMAP._from_assigned``);
    ``write`` makes it settable on a fitted model too."""

    def __init__(self, read, write=None, doc=None):
        self.read, self.write, self.__doc__ = read, write, doc

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, model, owner=None):
        if model is None:
            return self
        if model.__sklearn_is_fitted__():
            return self.read(model)
        assigned = vars(model).get("_assigned", {})
        if self.name not in assigned:
            model._check_fitted(f"reading {self.name}")
        return assigned[self.name]

    def __set__(self, model, value):
        if not model.__sklearn_is_fitted__():
            vars(model).setdefault("_assigned", {})[self.name] = value
        elif self.write is None:
            raise AttributeError(f"{self.name} of a fitted {type(model).__name__} is read from its fitted state.")
        else:
            self.write(model, value)


def _set_layout(field, convert=lambda model, value: float(value)):
    """A writer of ``_Learned``: the fitted layout with ``field`` replaced by ``convert(model, value)``."""

    def write(model, value):
        model.layout_ = replace(model.layout_, **{field: convert(model, value)})

    return write


def _embedding_of(model, value):
    value = np.array(value, dtype=np.float32, copy=True)
    if value.shape != model.layout_.embedding.shape:
        raise ValueError(f"embedding_ must keep the shape {model.layout_.embedding.shape}; got {value.shape}.")
    return value


def _data_hash(data):
    """A hex digest of the training rows (their shape, and a sparse matrix's structure and values)."""
    if data is None:
        return None
    digest = hashlib.sha1(str(data.shape).encode())
    for part in (data.indptr, data.indices, data.data) if sp.issparse(data) else (data,):
        digest.update(np.ascontiguousarray(part).view(np.uint8))
    return digest.hexdigest()


class LearnedAttributes:
    """umap-learn's fitted attributes, which its users and wrappers read (and scanpy's ingest sets).
    ``knn_search_index`` is umapx's index of the training data; the search index that
    ``precomputed_knn`` may carry (its third item) is not used."""

    def _validate_parameters(self):
        """umap-learn's name for the parameter check, which scanpy's ingest calls."""
        self._check_params()

    embedding_ = _Learned(
        lambda m: m.layout_.embedding,
        _set_layout("embedding", _embedding_of),
        "The embedding of the training points (n_samples x n_components).",
    )
    _a = _Learned(lambda m: m.layout_.a, _set_layout("a"))
    _b = _Learned(lambda m: m.layout_.b, _set_layout("b"))
    _initial_alpha = _Learned(lambda m: m.learning_rate)
    _n_neighbors = _Learned(lambda m: m.graph_model_.n_neighbors)
    _metric_kwds = _Learned(lambda m: m.metric_kwds or {})
    _raw_data = _Learned(lambda m: m.graph_model_.data)
    _knn_indices = knn_indices = _Learned(lambda m: m.graph_model_.knn_indices)
    _knn_dists = knn_dists = _Learned(lambda m: m.graph_model_.knn_dists)
    _knn_search_index = knn_search_index = _Learned(lambda m: m.graph_model_.index)
    _sigmas = _Learned(lambda m: m.graph_model_.sigmas)
    _rhos = _Learned(lambda m: m.graph_model_.rhos)
    _small_data = _Learned(lambda m: m.graph_model_.n_vertices < 4096)
    _sparse_data = _Learned(lambda m: sp.issparse(m.graph_model_.data))
    _supervised = _Learned(lambda m: m.graph_model_.supervised)
    _disconnection_distance = _Learned(lambda m: m.graph_model_.disconnection_distance)
    _input_hash = _Learned(lambda m: _data_hash(m.graph_model_.data))
    _n_features_out = _Learned(lambda m: m.layout_.embedding.shape[1])
    _output_metric_kwds = _Learned(lambda m: m.output_metric_kwds or {})
    _target_metric_kwds = _Learned(lambda m: m.target_metric_kwds or {})
    _densmap_kwds = _Learned(lambda m: {"lambda": m.dens_lambda, "frac": m.dens_frac, "var_shift": m.dens_var_shift})
    n_epochs_list = _Learned(lambda m: m.n_epochs if isinstance(m.n_epochs, list) else None)

    def _from_assigned(self):
        """Make a model built by hand, as scanpy's ``ingest`` does, a fitted one: the assigned
        ``_raw_data`` (with ``_n_neighbors`` and ``_metric_kwds`` where assigned) gets its graph,
        and the assigned ``embedding_`` (with ``_a``, ``_b``) becomes the layout."""
        assigned = vars(self).get("_assigned", {})
        if self.__sklearn_is_fitted__() or not {"embedding_", "_raw_data"} <= assigned.keys():
            return
        data, embedding = assigned["_raw_data"], np.array(assigned["embedding_"], dtype=np.float32)
        if embedding.ndim != 2 or embedding.shape[0] != data.shape[0]:
            raise ValueError(
                f"an assigned embedding_ needs one row per row of _raw_data ({data.shape[0]}); got {embedding.shape}."
            )
        self._check_params()
        params = {**self._graph_params(), "n_neighbors": int(assigned.get("_n_neighbors", self.n_neighbors))}
        params["metric_kwds"] = assigned.get("_metric_kwds", self.metric_kwds)
        graph = build_graph(data, **params)
        a, b = (self.a, self.b) if None not in (self.a, self.b) else find_ab_params(self.spread, self.min_dist)
        epochs = max(self.n_epochs) if isinstance(self.n_epochs, list) else self.n_epochs
        self.graph_model_, self.embedding_list_ = graph, None
        self.layout_ = Layout(
            embedding=embedding,
            a=float(assigned.get("_a", a)),
            b=float(assigned.get("_b", b)),
            output_metric=resolve_output_metric(self.output_metric, self.output_metric_kwds, embedding.shape[1]),
            n_epochs=default_n_epochs(graph.n_vertices) if epochs is None else int(epochs),
        )
        del self._assigned
