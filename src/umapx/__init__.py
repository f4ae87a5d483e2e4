"""umapx: fast, reproducible UMAP-family dimension reduction.

Importing umapx compiles nothing and imports only the standard library; each public name loads
its module on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "UMAP": "umapx.umap",
    "DensMAP": "umapx.umap",
    "AlignedUMAP": "umapx.aligned_umap",
    "ParametricUMAP": "umapx.parametric_umap",
    "NotFittedError": "umapx.umap",
    "load": "umapx.io",
    "build_graph": "umapx.pipeline",
    "embed_graph": "umapx.pipeline",
    "Graph": "umapx.model",
    "Layout": "umapx.model",
    "DensityTerm": "umapx.layout.terms",
    "AlignmentTerm": "umapx.layout.terms",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        from ._threads import GC_PAUSE

        with GC_PAUSE.held():  # the first load imports numba and scipy (see _threads._pause_gc)
            value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # later lookups find it here and skip this function
        return value
    raise AttributeError(f"module 'umapx' has no attribute {name!r}")


def __dir__():
    return __all__ + ["__version__"]
