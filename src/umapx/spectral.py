"""umap-learn's ``umap.spectral`` API as thin wrappers over umapx's spectral initialisation (``umapx.init``).

umapx has one spectral solver, ``umapx.init.spectral_layout``: the eigenvectors of the normalised
graph Laplacian by ARPACK (LOBPCG, then random, as fallbacks), with a disconnected graph laid out
component by component around component centres (``umapx.init._component_centres``: a PCA of the
component centroids, random without feature vectors). Every function here runs that code, so:

* ``tol``, ``maxiter``, ``init`` and ``method`` are accepted for umap-learn's signatures and ignored
  (umapx's solver settings are fixed);
* ``metric`` matters only as ``"precomputed"``, where ``data`` is a distance matrix and so gives no
  centroids; ``metric_kwds`` is ignored (umap-learn reads its ``linkage`` for precomputed data).

``random_state`` may be None, an int, a ``numpy.random.RandomState`` or a ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import init as _init
from ._random import as_generator

__all__ = ["component_layout", "multi_component_layout", "spectral_layout", "tswspectral_layout"]


def _features(data, metric):
    """The feature vectors for component centroids: none for precomputed distances."""
    return None if data is None or (isinstance(metric, str) and metric == "precomputed") else data


def spectral_layout(data, graph, dim, random_state, metric="euclidean", metric_kwds=None, tol=0.0, maxiter=0):
    """Spectral layout (n_samples, dim) of the fuzzy graph ``graph``, as umapx's ``init="spectral"``
    computes it before scaling and noise; ``data`` places the components of a disconnected graph."""
    graph = sp.csr_matrix(graph)
    return _init.spectral_layout(graph, _features(data, metric), dim, as_generator(random_state))


def tswspectral_layout(
    data, graph, dim, random_state, metric="euclidean", metric_kwds=None, method=None, tol=0.0, maxiter=0
):
    """umap-learn's truncated-SVD-warm-started spectral layout. umapx has a single spectral solver,
    so this is ``spectral_layout``; ``method`` is ignored."""
    return spectral_layout(data, graph, dim, random_state, metric, metric_kwds, tol, maxiter)


def component_layout(data, n_components, component_labels, dim, random_state, metric="euclidean", metric_kwds=None):
    """Positions (n_components, dim) of the connected components, labelled 0..n_components-1 in
    ``component_labels``: umapx's PCA of their centroids spread over +-2 sqrt(n_components), or
    random positions there when there are no more components than ``dim`` or no dense features."""
    labels = np.asarray(component_labels, dtype=np.int64)
    return _init._component_centres(_features(data, metric), labels, n_components, dim, as_generator(random_state))


def _check_components(graph, n_components, labels):
    """``labels`` must be the graph's connected components (in any numbering): umapx finds them itself."""
    from scipy.sparse.csgraph import connected_components

    found_n, found = connected_components(graph, directed=False)
    pairs = np.unique(np.stack([found, labels]), axis=1).shape[1]
    if not (found_n == n_components == pairs == len(np.unique(labels))):
        raise ValueError("component_labels must label the connected components of graph")


def multi_component_layout(
    data,
    graph,
    n_components,
    component_labels,
    dim,
    random_state,
    metric="euclidean",
    metric_kwds=None,
    init="random",
    tol=0.0,
    maxiter=0,
):
    """Layout (n_samples, dim) of a graph with several connected components: each component's
    spectral layout inside a unit box at its ``component_layout`` position. This is what
    ``spectral_layout`` does for a disconnected graph; ``component_labels`` must be the graph's
    connected components (ValueError otherwise)."""
    graph = sp.csr_matrix(graph)
    _check_components(graph, n_components, np.asarray(component_labels))
    return spectral_layout(data, graph, dim, random_state, metric, metric_kwds, tol, maxiter)
