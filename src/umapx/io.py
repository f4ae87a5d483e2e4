"""Saving and loading fitted models: one zip file of JSON metadata and ``.npy`` arrays.

A file holds the estimator's class name, its parameters and its fitted state, the dataclasses of
``umapx.model`` written field by field (an index object as the bytes of its ``to_bytes``). Loading
reads arrays with ``allow_pickle=False`` and rebuilds only registered classes (``model.savable``,
``model.estimator``) and torch modules (``parametric.networks.Network``: ``nn.Module`` classes of modules
already imported; it imports none), so a model file can never bring code of its own. What only a fit uses
(callbacks, ParametricUMAP's starting networks and optimizer) is saved as None. Files carry a format
version (``model.SCHEMA``); a file from a newer version is refused, and files of versions 1 and 2 (the
estimator's attributes, saved by name) still load.
"""

from __future__ import annotations

import dataclasses
import io
import json
import warnings
import zipfile

import numpy as np
import scipy.sparse as sp

from . import neighbors  # noqa: F401  (registers the index classes a model file may hold)
from .model import ESTIMATORS, SAVABLE, SCHEMA, Graph, Layout

FORMAT = "umapx-model"
VERSION = SCHEMA
_META = "model.json"
# used while fitting only, saved as None: callbacks, and ParametricUMAP's starting networks and optimizer
# (its trained networks are state: encoder_, decoder_)
_FIT_ONLY = ("callbacks", "encoder", "decoder", "optimizer")


def save(model, path):
    """Write a fitted ``model`` (a registered estimator) to ``path`` (see the module docstring)."""
    arrays = {}
    params = {
        name: None if name in _FIT_ONLY else _encode(value, f"params/{name}", arrays, name)
        for name, value in model.get_params().items()
    }
    state = {name: _encode(value, f"state/{name}", arrays, name) for name, value in model._fitted_state().items()}
    meta = {"format": FORMAT, "version": VERSION, "class": type(model).__name__, "params": params, "state": state}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(_META, json.dumps(meta))
        for name, payload in arrays.items():
            zf.writestr(name, payload)


def load(path):
    """Read a model written by ``save``; raises ValueError, naming ``path``, for a file that is not
    one, is damaged, or comes from a newer umapx."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise ValueError(f"{path}: the model file is damaged (member {bad!r} fails its checksum).")
            if _META not in zf.namelist():
                raise ValueError(f"{path} is not a umapx model file (it has no {_META}).")
            meta = json.loads(zf.read(_META))
            _check_meta(meta, path)
            arrays = {name: zf.read(name) for name in zf.namelist() if name != _META}
    except (zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"{path} is not a umapx model file, or it is truncated ({error}).") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: the model file is damaged (its metadata is not valid JSON: {error}).") from None
    except Exception as error:  # a damaged header: an unknown compression method, an encryption flag, ...
        raise _damaged(path, error) from None
    try:
        params = {name: _decode(value, arrays) for name, value in meta["params"].items()}
        model = _estimator(meta["class"], path)(**params)
        state = {name: _decode(value, arrays) for name, value in meta["state"].items()}
        if meta["version"] < 3:
            state = _state_of_format_2(state, model, meta["version"])
        model._set_fitted_state(state)
    except Exception as error:  # whatever numpy, zipfile or hnswlib raise on a damaged member
        raise _damaged(path, error) from None
    return model


def _damaged(path, error):
    """The ValueError that ``load`` raises for ``error``: itself where it already names the file."""
    if isinstance(error, ValueError) and str(path) in str(error):
        return error
    return ValueError(f"{path}: the model file is damaged ({type(error).__name__}: {error}).")


def _estimator(name, path):
    """The registered estimator class ``name``; importing umapx's public name registers it."""
    import umapx

    if name not in ESTIMATORS and name in umapx.__all__:
        getattr(umapx, name)
    if name not in ESTIMATORS:
        for public in umapx.__all__:
            try:
                getattr(umapx, public)
            except ImportError:  # an optional extra (torch for ParametricUMAP) is not installed
                pass
        raise ValueError(
            f"{path} holds a {name!r} model, which this umapx cannot load; it loads: {', '.join(sorted(ESTIMATORS))}."
        )
    return ESTIMATORS[name]


def _check_meta(meta, path):
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a umapx model file (its metadata names no umapx model format).")
    version = meta.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ValueError(
            f"{path} was written by a newer umapx (format version {version}); this umapx reads "
            f"versions up to {VERSION}. Upgrade umapx to load it."
        )
    if (
        not isinstance(meta.get("class"), str)
        or not isinstance(meta.get("params"), dict)
        or not isinstance(meta.get("state"), dict)
    ):
        raise ValueError(f"{path}: the model file is damaged (its metadata lacks the class, params or state).")


def _encode(value, name, arrays, label):
    """A JSON value for ``value``; arrays, sparse matrices and bytes go to ``arrays``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, (list, tuple)):
        return {
            "list": [_encode(v, f"{name}.{i}", arrays, label) for i, v in enumerate(value)],
            "tuple": isinstance(value, tuple),
        }
    if isinstance(value, dict):
        return {"dict": {str(k): _encode(v, f"{name}.{k}", arrays, label) for k, v in value.items()}}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise ValueError(f"cannot save {label}: an array of dtype {value.dtype} (numbers only).")
        arrays[f"{name}.npy"] = _npy(value)
        return {"array": f"{name}.npy"}
    if sp.issparse(value):
        value = sp.csr_matrix(value)
        for part in ("data", "indices", "indptr"):
            arrays[f"{name}.{part}.npy"] = _npy(getattr(value, part))
        return {"csr": name, "shape": list(value.shape)}
    if SAVABLE.get(type(value).__name__) is type(value):
        if dataclasses.is_dataclass(value):
            return {
                "dataclass": type(value).__name__,
                "fields": {
                    f.name: _encode(getattr(value, f.name), f"{name}.{f.name}", arrays, label)
                    for f in dataclasses.fields(value)
                },
            }
        arrays[f"{name}.bin"] = value.to_bytes()
        return {"object": type(value).__name__, "bytes": f"{name}.bin"}
    if isinstance(value, (np.random.Generator, np.random.RandomState)):
        warnings.warn(
            f"{label} is a numpy random generator, which is saved as None; pass an int seed to keep it.", stacklevel=4
        )
        return None
    if callable(value):
        raise ValueError(
            f"cannot save {label}={getattr(value, '__name__', value)!r}: a user-supplied function "
            "cannot be stored without storing code. Use a named metric to save the model."
        )
    raise ValueError(f"cannot save {label}: values of type {type(value).__name__} are not supported.")


def _decode(value, arrays):
    if not isinstance(value, dict):
        return value
    if "list" in value:
        items = [_decode(v, arrays) for v in value["list"]]
        return tuple(items) if value["tuple"] else items
    if "dict" in value:
        return {k: _decode(v, arrays) for k, v in value["dict"].items()}
    if "array" in value:
        return _array(arrays, value["array"])
    if "csr" in value:
        name = value["csr"]
        parts = [_array(arrays, f"{name}.{part}.npy") for part in ("data", "indices", "indptr")]
        return sp.csr_matrix(tuple(parts), shape=tuple(value["shape"]))
    if "dataclass" in value:
        return _savable(value["dataclass"])(**{k: _decode(v, arrays) for k, v in value["fields"].items()})
    if "object" in value:
        return _savable(value["object"]).from_bytes(arrays[value["bytes"]])
    if "hnsw" in value:  # formats 1 and 2
        return neighbors.hnsw_from_bytes(arrays[value["hnsw"]], value["space"], value["dim"])
    raise ValueError(f"unknown entry in the model file: {sorted(value)}.")


def _savable(name):
    if name not in SAVABLE:
        raise ValueError(f"the model file holds a {name!r}, which is not a kind of state umapx saves.")
    return SAVABLE[name]


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _array(arrays, name):
    return np.load(io.BytesIO(arrays[name]), allow_pickle=False)


def _state_of_format_2(state, model, version):
    """The ``Graph`` and ``Layout`` of a file of format 1 or 2, which saved the estimator's attributes by
    name (format 1 kept the bare hnswlib index, always in the full space)."""
    from .layout.sampling import default_n_epochs
    from .metrics import resolve_metric, resolve_output_metric
    from .pipeline import disconnection_limit

    metric = resolve_metric(model.metric, model.metric_kwds, state.get("n_features_in_") or 1)
    raw, hnsw = state["_raw_data"], state["_hnsw"]
    if version < 2 and hnsw is not None:
        hnsw = (hnsw, None)
    if raw is None:
        index = None
    elif metric.name == "precomputed":
        index = neighbors.PrecomputedIndex(raw.shape[0])
    elif hnsw is not None:
        index = neighbors.HnswIndex(raw, hnsw[0], hnsw[1], metric.name)
    else:
        index = neighbors.ExactIndex(raw)
    fuzzy_set = state["graph_"]
    graph = Graph(
        graph=fuzzy_set,
        metric=metric,
        n_neighbors=state["_n_neighbors"],
        knn_indices=state["_knn_indices"],
        knn_dists=state["_knn_dists"],
        sigmas=state["_sigmas"],
        rhos=state["_rhos"],
        knn_mean=state["_knn_mean"],
        graph_dists=state["graph_dists_"],
        index=index,
        local_connectivity=float(model.local_connectivity),
        set_op_mix_ratio=float(model.set_op_mix_ratio),
        disconnection_distance=float(disconnection_limit(metric, model.disconnection_distance)),
        supervised=state["_supervised"],
        unique_inverse=state["_unique_inverse"],
        n_features=state["n_features_in_"],
    )
    out = resolve_output_metric(model.output_metric, model.output_metric_kwds, model.n_components)
    n_epochs = model.n_epochs if model.n_epochs is not None else default_n_epochs(fuzzy_set.shape[0])
    layout = Layout(
        embedding=state["embedding_"],
        a=state["_a"],
        b=state["_b"],
        output_metric=out,
        n_epochs=n_epochs,
        rad_orig=state["rad_orig_"],
        rad_emb=state["rad_emb_"],
        rad_mean=state["_rad_orig_mean"],
        rad_std=state["_rad_orig_std"],
        loss_history=state["loss_history_"],
        n_epochs_run=state["n_epochs_run_"],
    )
    return {"graph": graph, "layout": layout}
