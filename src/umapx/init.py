"""Initial layouts: spectral (with a fallback chain that never hangs), PCA, random, or a user's array."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import scipy.sparse as sp

log = logging.getLogger("umapx")

#: Spread of the initial layout, as in umap-learn.
INIT_SCALE = 10.0
#: Most Lanczos vectors ARPACK keeps. umap-learn's sqrt(n) makes each restart cost n^2 (its
#: re-orthogonalisation is n x ncv^2): nycflights13's 300k-row component ran past 9 minutes, 26 s with 32;
#: shuttle 10.0 -> 2.5 s, fashion_mnist 5.7 -> 1.2 s.
MAX_LANCZOS_VECTORS = 32


def check_init(init, n, n_components):
    """``init`` as given when it names a method, else as a float64 array of shape (n, n_components)."""
    if isinstance(init, str):
        return init
    init = np.asarray(init, dtype=np.float64)
    if init.shape != (n, n_components):
        raise ValueError(
            f"init array must have shape (n_samples, n_components) = {(n, n_components)}; got {init.shape}."
        )
    if not np.all(np.isfinite(init)):
        raise ValueError("init array contains NaN or infinity.")
    return init


def initialise(init, graph, X, n_components, rng):
    """The starting layout (float32): a method's layout scaled into [0, INIT_SCALE] per axis, or the array."""
    layout = initial_layout(init, graph, X, n_components, rng)
    if isinstance(init, str):
        low, high = layout.min(axis=0), layout.max(axis=0)
        layout = INIT_SCALE * (layout - low) / np.where(high > low, high - low, 1.0)
    return np.ascontiguousarray(layout, dtype=np.float32)


def initial_layout(init, graph, X, n_components, rng):
    """Dispatch on ``init``: "spectral", "pca", "random" or an (n, n_components) array."""
    n = graph.shape[0]
    if isinstance(init, str) and init == "random":
        return rng.uniform(-INIT_SCALE, INIT_SCALE, size=(n, n_components)).astype(np.float32)
    if isinstance(init, str) and init == "pca":
        return noisy_scale(pca_layout(X, n_components, rng), rng)
    if isinstance(init, str) and init == "spectral":
        return noisy_scale(spectral_layout(graph, X, n_components, rng), rng)
    layout = np.array(init, dtype=np.float32, copy=True)
    if len(np.unique(layout, axis=0)) < n:
        layout += rng.normal(scale=1e-4, size=layout.shape).astype(np.float32)
    return layout


def noisy_scale(layout, rng, noise=1e-4):
    """Scale so the largest coordinate is INIT_SCALE and add tiny noise to separate coincident points."""
    peak = np.abs(layout).max()
    layout = layout * (INIT_SCALE / peak if peak > 0 else 1.0)
    return (layout + rng.normal(scale=noise, size=layout.shape)).astype(np.float32)


def pca_layout(X, n_components, rng):
    if X is None:
        raise ValueError("init='pca' needs feature vectors; with metric='precomputed' use 'spectral' or 'random'.")
    seed = int(rng.integers(2**31 - 1))
    if sp.issparse(X):
        from sklearn.decomposition import TruncatedSVD

        return TruncatedSVD(n_components=n_components, random_state=seed).fit_transform(X)
    from sklearn.decomposition import PCA

    return PCA(n_components=n_components, random_state=seed).fit_transform(X)


def spectral_layout(graph, X, n_components, rng):
    """Eigenvectors of the normalised graph Laplacian (002, spectral initialisation).

    A disconnected graph is laid out component by component, each scaled into a unit box and placed
    at its centroid's position in a PCA (or, without features, random) layout of the components.
    Components too small for an eigen-decomposition get random positions inside their box.
    """
    from scipy.sparse.csgraph import connected_components

    n_parts, labels = connected_components(graph, directed=False)
    if n_parts == 1:
        return _component_spectral(graph, n_components, rng)
    log.info("graph has %d connected components; laying them out separately", n_parts)
    centres = _component_centres(X, labels, n_parts, n_components, rng)
    layout = np.empty((graph.shape[0], n_components))
    for part in range(n_parts):
        members = np.nonzero(labels == part)[0]
        sub = graph[members][:, members]
        local = (
            _component_spectral(sub, n_components, rng)
            if len(members) > 2 * n_components + 1
            else (rng.uniform(-1, 1, size=(len(members), n_components)))
        )
        span = np.abs(local).max()
        layout[members] = centres[part] + 0.5 * local / (span if span > 0 else 1.0)
    return layout


def _component_centres(X, labels, n_parts, n_components, rng):
    """Component positions spread over [-n, n]: a PCA of the centroids when features exist."""
    spread = np.sqrt(n_parts) * 2.0
    if X is not None and not sp.issparse(X) and n_parts > n_components:
        sums = np.zeros((n_parts, X.shape[1]))
        np.add.at(sums, labels, X)
        centroids = sums / np.bincount(labels, minlength=n_parts)[:, None]
        centroids -= centroids.mean(axis=0)
        u, s, _ = np.linalg.svd(centroids, full_matrices=False)
        pos = u[:, :n_components] * s[:n_components]
        if pos.shape[1] == n_components and np.ptp(pos, axis=0).min() > 0:
            pos = pos / np.abs(pos).max()
            return pos * spread + rng.uniform(-0.1, 0.1, size=pos.shape)
    return rng.uniform(-spread, spread, size=(n_parts, n_components))


def _component_spectral(graph, n_components, rng):
    """Spectral layout of a connected graph; ARPACK, then LOBPCG, then random if both fail."""
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, eigsh, lobpcg

    n = graph.shape[0]
    k = n_components + 1
    degree = np.asarray(graph.sum(axis=1)).ravel()
    inv_sqrt = sp.diags(1.0 / np.sqrt(degree))
    # smallest eigenvectors of L = I - D^-1/2 W D^-1/2 are the largest of I + D^-1/2 W D^-1/2
    shifted = sp.identity(n, format="csr") + inv_sqrt @ graph.astype(np.float64) @ inv_sqrt
    v0 = rng.uniform(0.5, 1.0, size=n)
    if k >= n - 1:
        vals, vecs = np.linalg.eigh(shifted.toarray())
    else:
        try:
            ncv = max(2 * k + 1, min(int(np.sqrt(n)), MAX_LANCZOS_VECTORS))
            vals, vecs = eigsh(shifted, k, which="LA", ncv=ncv, tol=1e-4, v0=v0, maxiter=n * 5)
        except (ArpackError, ArpackNoConvergence):
            log.info("ARPACK did not converge; trying LOBPCG")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    vals, vecs = lobpcg(shifted, rng.normal(size=(n, k)), largest=True, tol=1e-4, maxiter=n * 5)
            except (np.linalg.LinAlgError, ValueError):
                vals = None
            if vals is None or not np.all(np.isfinite(vecs)):
                warnings.warn("Spectral initialisation failed; falling back to a random layout.", stacklevel=3)
                return rng.uniform(-1, 1, size=(n, n_components))
    order = np.argsort(vals)[::-1][1:k]
    return vecs[:, order]


def procrustes(layout, reference, pairs):
    """``layout`` moved onto ``reference`` by the rotation or reflection and shift that best carry
    ``layout[pairs[:, 1]]`` onto ``reference[pairs[:, 0]]`` in least squares (orthogonal Procrustes:
    R = U V^T from the SVD U S V^T of the centred cross-covariance). No scaling: the least-squares
    scale shrinks a layout by the two sets' imperfect correlation, and a chain of slices would shrink
    with each link. Too few pairs to fix a rotation (n_components + 1) leave the layout as it is."""
    if len(pairs) <= layout.shape[1]:
        return layout
    P, Q = layout[pairs[:, 1]].astype(np.float64), reference[pairs[:, 0]].astype(np.float64)
    p_mean, q_mean = P.mean(axis=0), Q.mean(axis=0)
    u, _, vt = np.linalg.svd((P - p_mean).T @ (Q - q_mean))
    return np.ascontiguousarray((layout - p_mean) @ (u @ vt) + q_mean, dtype=np.float32)


def follow(layout, graph, rows, positions):
    """``layout`` with ``rows`` moved to ``positions`` and every other point that the graph connects to
    them placed, ring by ring outwards, at the membership-weighted mean of its already placed
    neighbours; points the graph does not connect to them keep their place in ``layout``."""
    placed = np.zeros(len(layout), dtype=bool)
    placed[rows] = True
    out = np.array(layout, dtype=np.float64)
    out[rows] = positions
    weights = sp.csr_matrix(graph, dtype=np.float64)
    while True:
        mass = weights @ placed.astype(np.float64)
        ring = ~placed & (mass > 0)
        if not ring.any():
            return np.ascontiguousarray(out, dtype=np.float32)
        out[ring] = (weights @ (out * placed[:, None]))[ring] / mass[ring, None]
        placed |= ring
