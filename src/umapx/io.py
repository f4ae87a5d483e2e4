"""Saving and loading fitted models: one zip file of JSON metadata and ``.npy`` arrays.

Loading reads arrays with ``allow_pickle=False`` and rebuilds the model from its parameters, so a
model file can never run code. Callbacks, which only a fit uses, are not saved. The hnswlib index, when a model keeps one, is stored as the bytes
hnswlib itself writes. Files carry a format version; a file from a newer version is refused.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import warnings
import zipfile

import numpy as np
import scipy.sparse as sp

FORMAT = "umapx-model"
VERSION = 2  # 2: the hnswlib index is kept with its principal axes (or None)
_META = "model.json"
_DERIVED = ("_metric", "_output_metric")  # rebuilt from the parameters on load
_FIT_ONLY = ("callbacks",)  # used while fitting only; saved as None


def save(model, path):
    """Write a fitted ``model`` to ``path`` (see the module docstring)."""
    model._check_fitted("save")
    arrays = {}
    params = {name: None if name in _FIT_ONLY else _encode(value, f"params/{name}", arrays, name)
              for name, value in model.get_params().items()}
    state = {name: _encode(value, f"state/{name}", arrays, name)
             for name, value in vars(model).items() if name not in params and name not in _DERIVED}
    meta = {"format": FORMAT, "version": VERSION, "class": type(model).__name__, "params": params, "state": state}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(_META, json.dumps(meta))
        for name, payload in arrays.items():
            zf.writestr(name, payload)


def load(path):
    """Read a model written by ``save``; raises ValueError for a file that is not one, is damaged,
    or comes from a newer umapx."""
    from .metrics import resolve_metric, resolve_output_metric
    from .umap import UMAP, DensMAP

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
    params = {name: _decode(value, arrays) for name, value in meta["params"].items()}
    model = {"UMAP": UMAP, "DensMAP": DensMAP}[meta["class"]](**params)
    state = {name: _decode(value, arrays) for name, value in meta["state"].items()}
    if meta["version"] < 2 and state.get("_hnsw") is not None:
        state["_hnsw"] = (state["_hnsw"], None)  # version 1 kept the bare index, always in the full space
    width = state.get("n_features_in_") or 1
    state["_metric"] = resolve_metric(model.metric, model.metric_kwds, width)
    state["_output_metric"] = resolve_output_metric(model.output_metric, model.output_metric_kwds, model.n_components)
    model.__dict__.update(state)
    return model


def _check_meta(meta, path):
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a umapx model file (its metadata names no umapx model format).")
    version = meta.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ValueError(f"{path} was written by a newer umapx (format version {version}); this umapx reads "
                         f"versions up to {VERSION}. Upgrade umapx to load it.")
    if meta.get("class") not in ("UMAP", "DensMAP"):
        raise ValueError(f"{path} holds a {meta.get('class')!r} model, which this umapx cannot load; it loads: "
                         "UMAP, DensMAP.")


def _encode(value, name, arrays, label):
    """A JSON value for ``value``; arrays, sparse matrices and hnswlib indices go to ``arrays``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, (list, tuple)):
        return {"list": [_encode(v, f"{name}.{i}", arrays, label) for i, v in enumerate(value)],
                "tuple": isinstance(value, tuple)}
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
    if type(value).__module__ == "hnswlib":
        arrays[f"{name}.hnsw"] = _hnsw_bytes(value)
        return {"hnsw": f"{name}.hnsw", "space": value.space, "dim": value.dim}
    if isinstance(value, (np.random.Generator, np.random.RandomState)):
        warnings.warn(f"{label} is a numpy random generator, which is saved as None; pass an int seed to "
                      "keep it.", stacklevel=4)
        return None
    if callable(value):
        raise ValueError(f"cannot save {label}={getattr(value, '__name__', value)!r}: a user-supplied function "
                         "cannot be stored without storing code. Use a named metric to save the model.")
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
    if "hnsw" in value:
        return _hnsw_index(arrays[value["hnsw"]], value["space"], value["dim"])
    raise ValueError(f"unknown entry in the model file: {sorted(value)}.")


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _array(arrays, name):
    return np.load(io.BytesIO(arrays[name]), allow_pickle=False)


def _hnsw_bytes(index):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "index.bin")
        index.save_index(path)
        with open(path, "rb") as f:
            return f.read()


def _hnsw_index(payload, space, dim):
    import hnswlib

    index = hnswlib.Index(space=space, dim=dim)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "index.bin")
        with open(path, "wb") as f:
            f.write(payload)
        index.load_index(path)
    return index
