"""The spectral start: a bounded Lanczos basis that still finds the Laplacian's leading eigenvectors."""

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
from scipy.sparse.csgraph import connected_components

from umapx import UMAP, init


def largest_component(graph):
    _, labels = connected_components(graph, directed=False)
    members = np.nonzero(labels == np.bincount(labels).argmax())[0]
    return graph[members][:, members]


def test_spectral_start_finds_the_eigenvectors_with_a_bounded_basis(digits, monkeypatch):
    graph = largest_component(UMAP(n_epochs=0, random_state=0).fit(digits[0]).graph_).astype(np.float64)
    n = graph.shape[0]
    assert np.sqrt(n) > init.MAX_LANCZOS_VECTORS  # umap-learn's sqrt(n) basis would be larger
    bases = []
    eigsh = sla.eigsh

    def recording(*args, **kwargs):
        bases.append(kwargs["ncv"])
        return eigsh(*args, **kwargs)

    monkeypatch.setattr(sla, "eigsh", recording)
    layout = init._component_spectral(graph, 2, np.random.default_rng(0))
    assert bases == [init.MAX_LANCZOS_VECTORS]
    # against a dense solve: the 2nd and 3rd eigenvectors of D^-1/2 W D^-1/2 span the same plane
    scale = sp.diags(1.0 / np.sqrt(np.asarray(graph.sum(axis=1)).ravel()))
    vals, vecs = np.linalg.eigh((scale @ graph @ scale).toarray())
    expected = vecs[:, -3:-1]
    cosines = np.linalg.svd(expected.T @ (layout / np.linalg.norm(layout, axis=0)), compute_uv=False)
    assert vals[-4] < vals[-3] - 1e-3 and cosines.min() > 0.999  # the plane is well defined: a gap below it
