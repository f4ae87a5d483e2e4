"""umap-learn's functional API (``umap.umap_``, 0.5.12): the same names, signatures, argument order,
defaults and return values, each a thin wrapper over the stages the estimators run (``pipeline``,
``graph``, ``neighbors``, ``layout.curve``). Code written for ``umap.umap_`` (scanpy's
``sc.pp.neighbors`` and ``sc.tl.umap`` among it) runs on umapx with one changed import, or with
``umapx.compat.use_as_umap()``.

Arguments accepted for umap-learn's signatures that change nothing here: ``nearest_neighbors``'
``use_pynndescent`` (the index is chosen as ``UMAP.fit`` chooses it); ``simplicial_set_embedding``'s
``parallel`` (it always runs in parallel, and is reproducible for a seeded ``random_state``),
``euclidean_output`` (read from ``output_metric``) and ``metric`` / ``metric_kwds`` (the components
of a disconnected graph are placed by euclidean centroids of ``data``); ``smooth_knn_dist``'s
``n_iter`` (it bisects for up to 64 steps). ``init="tswspectral"`` is the spectral layout.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import graph as fuzzy
from ._random import seed_key
from ._threads import thread_limit
from .layout.curve import find_ab_params
from .layout.sampling import epochs_per_sample
from .layout.terms import DensityTerm
from .metrics import resolve_metric
from .model import Graph
from .pipeline import _check_precomputed_knn, _neighbors, check_input, embed_graph_at
from .targets import target_distance
from .umap import UMAP

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "UMAP",
    "compute_membership_strengths",
    "discrete_metric_simplicial_set_intersection",
    "find_ab_params",
    "fuzzy_simplicial_set",
    "general_simplicial_set_intersection",
    "general_simplicial_set_union",
    "make_epochs_per_sample",
    "nearest_neighbors",
    "reset_local_connectivity",
    "simplicial_set_embedding",
    "smooth_knn_dist",
]

INT32_MIN = np.iinfo(np.int32).min + 1
INT32_MAX = np.iinfo(np.int32).max - 1


def nearest_neighbors(
    X,
    n_neighbors,
    metric,
    metric_kwds,
    angular,
    random_state,
    low_memory=True,
    use_pynndescent=True,
    n_jobs=-1,
    verbose=False,
):
    """``(knn_indices, knn_dists, knn_search_index)`` of the rows of ``X``, each point first in its
    row, searched as ``UMAP.fit`` searches (``use_pynndescent`` is umap-learn's and changes nothing)."""
    X = check_input(X, metric)
    resolved = resolve_metric(metric, metric_kwds, X.shape[1])
    options = {"force_approximation_algorithm": False, "low_memory": low_memory, "angular_rp_forest": angular}
    with thread_limit(n_jobs) as threads:
        return _neighbors(
            X,
            int(n_neighbors),
            resolved,
            (None, None, None),
            seed_key(random_state),
            random_state is not None,
            threads.count,
            {**options, "verbose": verbose},
            None,
        )


def fuzzy_simplicial_set(
    X,
    n_neighbors,
    random_state,
    metric,
    metric_kwds=None,
    knn_indices=None,
    knn_dists=None,
    angular=False,
    set_op_mix_ratio=1.0,
    local_connectivity=1.0,
    apply_set_operations=True,
    verbose=False,
    return_dists=None,
):
    """``(graph, sigmas, rhos)``, and the kNN distances as a sparse matrix with ``return_dists``: the
    fuzzy simplicial set (COO) of ``X``, or of the given ``knn_indices`` / ``knn_dists`` (each point
    first in its row; ``X`` is then read for nothing but its length)."""
    if knn_indices is None or knn_dists is None:
        knn_indices, knn_dists, _ = nearest_neighbors(
            X, n_neighbors, metric, metric_kwds, angular, random_state, verbose=verbose
        )
    idx, dist = _check_precomputed_knn(knn_indices, knn_dists, np.shape(knn_indices)[0], int(n_neighbors))
    graph, sigmas, rhos = fuzzy.fuzzy_simplicial_set(
        idx,
        dist,
        set_op_mix_ratio=set_op_mix_ratio,
        local_connectivity=local_connectivity,
        apply_set_operations=apply_set_operations,
    )
    result = (graph.tocoo(), sigmas, rhos)
    return (*result, fuzzy.knn_distance_graph(idx, dist).tocoo()) if return_dists else result


def smooth_knn_dist(distances, k, n_iter=64, local_connectivity=1.0, bandwidth=1.0):
    """``(sigmas, rhos)`` of kNN distance rows (the first column, the point itself, left out of the sum)."""
    if bandwidth != 1.0:
        raise ValueError(f"smooth_knn_dist supports bandwidth=1.0 only (umap-learn's default); got {bandwidth!r}.")
    return fuzzy.smooth_knn_dist(np.asarray(distances, dtype=np.float32), k, float(local_connectivity))


def compute_membership_strengths(knn_indices, knn_dists, sigmas, rhos, return_dists=False, bipartite=False):
    """``(rows, cols, vals, dists)`` of the directed memberships (``dists`` None without
    ``return_dists``); a point's membership to itself is 0 unless ``bipartite``."""
    knn_indices, knn_dists = np.asarray(knn_indices), np.asarray(knn_dists, dtype=np.float32)
    vals = fuzzy.membership_strengths(knn_indices, knn_dists, sigmas, rhos, not bipartite)
    n, k = knn_indices.shape
    rows, cols = np.repeat(np.arange(n, dtype=np.int32), k), knn_indices.ravel().astype(np.int32)
    return rows, cols, vals.ravel(), knn_dists.ravel() if return_dists else None


def general_simplicial_set_intersection(simplicial_set1, simplicial_set2, weight=0.5, right_complement=False):
    """The weighted fuzzy intersection of two graphs on the same points (``set2`` weighted by ``weight``)."""
    if right_complement:
        raise ValueError("right_complement=True is not supported; use the fuzzy difference (UMAP's `-`).")
    return fuzzy.general_intersection(sp.csr_matrix(simplicial_set1), sp.csr_matrix(simplicial_set2), weight)


def general_simplicial_set_union(simplicial_set1, simplicial_set2):
    """The fuzzy union a + b - ab of two graphs on the same points."""
    return fuzzy.combine(sp.csr_matrix(simplicial_set1), sp.csr_matrix(simplicial_set2), "union")


def reset_local_connectivity(simplicial_set, reset_local_metric=False):
    """Each row rescaled so its strongest edge is 1, then the fuzzy union taken again."""
    if reset_local_metric:
        raise ValueError("reset_local_metric=True is not supported; umapx resets the connectivity only.")
    return fuzzy.reset_local_connectivity(simplicial_set)


def discrete_metric_simplicial_set_intersection(
    simplicial_set, discrete_space, unknown_dist=1.0, far_dist=5.0, metric=None, metric_kws=None, metric_scale=1.0
):
    """The graph intersected with labels (``metric`` None: categories, -1 unknown) or with values under
    a discrete target metric (``"ordinal"``, ``"count"``, ``"string"``; ``metric_kws`` are read
    from the values, as in ``UMAP``)."""
    graph, values = sp.csr_matrix(simplicial_set), np.asarray(discrete_space)
    if metric is None:
        return fuzzy.categorical_intersection(graph, values, unknown_dist=unknown_dist, far_dist=far_dist)
    if metric not in ("ordinal", "count", "string"):
        raise ValueError(f"discrete metric must be None, 'ordinal', 'count' or 'string'; got {metric!r}.")
    return fuzzy.target_intersection(graph, values, target_distance(values, metric), scale=metric_scale)


def make_epochs_per_sample(weights, n_epochs):
    """How often each edge is sampled: every w_max / w epochs, -1 for an edge of weight 0 (edges
    sampled less than once in ``n_epochs`` are pruned before, as in umap-learn, so ``n_epochs``
    changes nothing here)."""
    weights = np.asarray(weights, dtype=np.float64)
    result = np.full(weights.shape, -1.0)
    positive = weights > 0
    result[positive] = epochs_per_sample(weights[positive], weights.max())
    return result


def simplicial_set_embedding(
    data,
    graph,
    n_components,
    initial_alpha,
    a,
    b,
    gamma,
    negative_sample_rate,
    n_epochs,
    init,
    random_state,
    metric,
    metric_kwds,
    densmap,
    densmap_kwds,
    output_dens,
    output_metric="euclidean",
    output_metric_kwds=None,
    euclidean_output=True,
    parallel=False,
    verbose=False,
    tqdm_kwds=None,
):
    """``(embedding, aux_data)``: ``embed_graph`` of the fuzzy set ``graph``. ``aux_data`` holds
    ``rad_orig`` and ``rad_emb`` with ``output_dens``, and ``embedding_list`` when ``n_epochs`` is a
    list of epochs. ``data`` places the components of a disconnected graph and is PCA's input;
    ``densmap_kwds`` may give ``lambda``, ``frac``, ``var_shift`` and ``graph_dists`` (the kNN
    distances, which DensMAP needs). ``output_metric`` is a name or one of ``umapx.distances``'
    gradient functions."""
    from .neighbors import ExactIndex

    densmap_kwds = densmap_kwds or {}
    data = None if data is None else check_input(data, "euclidean")
    fuzzy_set = sp.csr_matrix(graph, dtype=np.float32)
    fuzzy_set.eliminate_zeros()
    model = Graph(
        graph=fuzzy_set,
        metric=resolve_metric("euclidean", None, 1),
        n_neighbors=int(densmap_kwds.get("n_neighbors", 15)),
        graph_dists=densmap_kwds.get("graph_dists"),
        index=None if data is None or data.shape[0] != fuzzy_set.shape[0] else ExactIndex(data),
    )
    terms = []
    if densmap:
        terms = [
            DensityTerm(
                densmap_kwds.get("lambda", 2.0), densmap_kwds.get("frac", 0.3), densmap_kwds.get("var_shift", 0.1)
            )
        ]
    layout, listed = embed_graph_at(
        model,
        n_components=n_components,
        init="spectral" if isinstance(init, str) and init == "tswspectral" else init,
        n_epochs=n_epochs or None,
        random_state=random_state,
        a=a,
        b=b,
        learning_rate=initial_alpha,
        repulsion_strength=gamma,
        negative_sample_rate=negative_sample_rate,
        output_metric=_output_name(output_metric),
        output_metric_kwds=output_metric_kwds,
        terms=terms,
        output_dens=output_dens,
        verbose=verbose,
        tqdm_kwds=tqdm_kwds,
    )
    aux = {"rad_orig": layout.rad_orig, "rad_emb": layout.rad_emb} if output_dens else {}
    if listed is not None:
        aux["embedding_list"] = listed
    return layout.embedding, aux


def _output_name(output_metric):
    """An output metric's name from its name or its gradient function (``umapx.distances.*_grad``)."""
    if isinstance(output_metric, str):
        return output_metric
    name = getattr(output_metric, "__name__", "")
    return name[: -len("_grad")] if name.endswith("_grad") else name
