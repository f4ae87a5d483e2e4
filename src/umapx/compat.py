"""Run code written for umap-learn on umapx: ``use_as_umap()`` makes ``import umap`` and
``import umap.<module>`` give umapx and its module of the same name, for libraries that import
umap-learn themselves (scanpy's ``sc.pp.neighbors``, ``sc.tl.umap`` and ``sc.tl.ingest``)::

    import umapx.compat
    umapx.compat.use_as_umap()
    sc.pp.neighbors(adata); sc.tl.umap(adata)        # now on umapx

Nothing is imported until it is asked for. ``use_as_umap()`` returns a handle whose ``undo()`` (or a
``with`` block) gives ``umap`` back to umap-learn.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``umap`` and ``umap.<name>`` and loads them as umapx's modules of the same name."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "umap" or fullname.startswith("umap."):
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("umapx" + spec.name[len("umap") :])

    def exec_module(self, module):
        pass


class UseAsUmap:
    """The installed alias: ``undo()`` removes it and restores the ``umap`` modules imported before."""

    def __init__(self):
        self.saved = _take_umap_modules()
        self.finder = _Alias()
        sys.meta_path.insert(0, self.finder)

    def undo(self):
        if self.finder in sys.meta_path:
            sys.meta_path.remove(self.finder)
            _take_umap_modules()
            sys.modules.update(self.saved)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.undo()


def use_as_umap():
    """Make ``import umap`` (and its submodules: ``umap_``, ``distances``, ``sparse``, ``spectral``,
    ``utils``, ``validation``, ``aligned_umap``, ``parametric_umap``, ``plot``) resolve to umapx."""
    return UseAsUmap()


def _take_umap_modules():
    """Remove the ``umap`` modules imported so far from ``sys.modules`` and return them."""
    names = [name for name in sys.modules if name == "umap" or name.startswith("umap.")]
    return {name: sys.modules.pop(name) for name in names}
