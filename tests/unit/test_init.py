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


def test_procrustes_recovers_a_rotation_and_shift():
    """A layout rotated, reflected and shifted is carried back onto the original by its pairs alone."""
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(50, 2)).astype(np.float32)
    turn = np.array([[0.0, 1.0], [1.0, 0.0]]) @ np.array([[0.6, -0.8], [0.8, 0.6]])  # a reflection and a rotation
    moved = (reference @ turn + [5.0, -3.0]).astype(np.float32)
    pairs = np.column_stack([np.arange(0, 50, 2), np.arange(0, 50, 2)])
    assert np.allclose(init.procrustes(moved, reference, pairs), reference, atol=1e-4)
    assert init.procrustes(moved, reference, pairs[:2]).tobytes() == moved.tobytes()  # too few pairs: as it was


def test_follow_places_points_ring_by_ring_from_the_known_ones():
    """On a path graph 0-1-2-3 with a separate pair 4-5: 0 and 1 go to their given places, 2 to 1's,
    3 to 2's; 4 and 5, not connected to them, keep their own."""
    edges = [(0, 1), (1, 2), (2, 3), (4, 5)]
    rows, cols = np.array(edges).T
    graph = sp.csr_matrix((np.ones(8), (np.r_[rows, cols], np.r_[cols, rows])), shape=(6, 6))
    layout = np.arange(12, dtype=np.float32).reshape(6, 2)
    out = init.follow(layout, graph, np.array([0, 1]), np.array([[100.0, 0.0], [50.0, 10.0]]))
    assert np.allclose(out[:4], [[100, 0], [50, 10], [50, 10], [50, 10]])
    assert np.array_equal(out[4:], layout[4:])
