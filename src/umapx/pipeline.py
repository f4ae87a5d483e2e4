"""The stages as public functions: ``build_graph`` (neighbours -> fuzzy simplicial set) and
``embed_graph`` (initial layout -> SGD), and the stages of a fitted model's life: the memberships and
placement of new points, their inverse, and progressive growth.

    graph = umapx.build_graph(X, n_neighbors=15, random_state=0)      # a model.Graph
    layout = umapx.embed_graph(graph, n_components=2, random_state=0)  # a model.Layout
    layout.embedding                                                   # = UMAP(random_state=0).fit_transform(X)

Each stage validates its own arguments with the constraints below, which the estimators extend.
Seeded, each stage draws its key from ``random_state`` alone, so the stages compose to the bytes of
the estimator.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from . import graph as fuzzy
from ._random import as_generator, hash_rows, seed_key
from ._report import log, logging_to_stderr, progress, stage
from ._threads import thread_limit
from ._validation import (
    ARRAY,
    DICT,
    NONE,
    Interval,
    Kind,
    MetricChoice,
    Options,
    check_array,
    check_params,
)
from .callbacks import EmbeddingSnapshots
from .density import correlation_stats, data_radii, embedding_log_radii, log_radii, radius_stats, standardise
from .init import check_init, initialise
from .layout.curve import find_ab_params, phi_of
from .layout.sampling import NEGATIVE_SAMPLING, default_n_epochs, prune
from .layout.sgd import optimize_layout
from .layout.terms import AlignmentTerm, DensityTerm
from .metrics import ALIASES, METRICS, OUTPUT_METRICS, metric_names, resolve_metric, resolve_output_metric
from .model import Graph, Layout
from .targets import DISCRETE, check_target, target_distance

_POSITIVE = Interval(0, np.inf, open_low=True)
_BOOL = Options((True, False))
LOSS_REPORT_RECORDS = 25  # loss records per fit with loss_report=True
NEW_POINT_RATE = 0.25  # new points (transform, update) move at this share of the fit's learning rate

#: build_graph's parameters and what each accepts (umap-learn's names).
GRAPH_CONSTRAINTS = {
    "n_neighbors": [Interval(2, np.inf)],
    "metric": [MetricChoice(tuple(metric_names()))],
    "metric_kwds": [NONE, DICT],
    "random_state": [
        NONE,
        Interval(0, np.inf, integer=True),
        Kind((np.random.Generator, np.random.RandomState), "a numpy random generator"),
    ],
    "set_op_mix_ratio": [Interval(0, 1)],
    "local_connectivity": [Interval(0, np.inf)],
    "disconnection_distance": [NONE, _POSITIVE],
    "target_metric": [MetricChoice((*DISCRETE, *metric_names()))],
    "target_metric_kwds": [NONE, DICT],
    "target_n_neighbors": [Interval(-1, -1, integer=True), Interval(2, np.inf, integer=True)],
    "target_weight": [Interval(0, 1)],
    "precomputed_knn": [Kind((tuple, list), "a tuple (knn_indices, knn_dists, knn_search_index)")],
    "unique": [_BOOL],
    "low_memory": [_BOOL],
    "angular_rp_forest": [_BOOL],
    "force_approximation_algorithm": [_BOOL],
    "n_jobs": [NONE, Interval(-np.inf, np.inf, integer=True)],
    "verbose": [_BOOL],
    "tqdm_kwds": [NONE, DICT],
    "ensure_all_finite": [_BOOL],
}

#: embed_graph's parameters and what each accepts.
LAYOUT_CONSTRAINTS = {
    "n_components": [Interval(1, np.inf, integer=True)],
    "init": [Options(("spectral", "pca", "random")), ARRAY],
    "n_epochs": [NONE, Interval(0, np.inf, integer=True)],
    "random_state": GRAPH_CONSTRAINTS["random_state"],
    "min_dist": [Interval(0, np.inf)],
    "spread": [_POSITIVE],
    "a": [NONE, _POSITIVE],
    "b": [NONE, _POSITIVE],
    "learning_rate": [_POSITIVE],
    "repulsion_strength": [Interval(0, np.inf)],
    "negative_sample_rate": [Interval(0, np.inf)],
    "negative_sampling": [Options(NEGATIVE_SAMPLING)],
    "output_metric": [MetricChoice(tuple(sorted({*OUTPUT_METRICS, *ALIASES})), functions=False)],
    "output_metric_kwds": [NONE, DICT],
    "terms": [Kind((list, tuple), "a list of layout terms (umapx.layout.terms)")],
    "output_dens": [_BOOL],
    "loss_report": [NONE, Options((True, "epoch")), Interval(1, np.inf, integer=True)],
    "callbacks": [NONE, Kind((list, tuple), "a list of callables cb(epoch, embedding, record)")],
    "n_jobs": GRAPH_CONSTRAINTS["n_jobs"],
    "verbose": [_BOOL],
    "tqdm_kwds": [NONE, DICT],
}


def build_graph(
    X,
    y=None,
    *,
    n_neighbors=15,
    metric="euclidean",
    metric_kwds=None,
    random_state=None,
    set_op_mix_ratio=1.0,
    local_connectivity=1.0,
    disconnection_distance=None,
    target_metric="categorical",
    target_metric_kwds=None,
    target_n_neighbors=-1,
    target_weight=0.5,
    precomputed_knn=(None, None, None),
    unique=False,
    low_memory=True,
    angular_rp_forest=False,
    force_approximation_algorithm=False,
    n_jobs=-1,
    verbose=False,
    tqdm_kwds=None,
    ensure_all_finite=True,
):
    """The fuzzy simplicial set of ``X`` (002 Alg. 1, lines 1-5), supervised by ``y`` when given.

    ``X`` is n_samples x n_features, dense or sparse, or a distance matrix with
    ``metric='precomputed'``; ``y`` holds labels of any type (-1, NaN or None: unlabelled) or values
    (``target_metric``). The parameters are umap-learn's; ``ensure_all_finite=False`` lets NaN and
    infinity through to a metric given as a function, which must handle them (named metrics refuse
    them still). Returns a ``model.Graph``.
    """
    args = {k: v for k, v in locals().items() if k in GRAPH_CONSTRAINTS}
    check_params("build_graph", args, GRAPH_CONSTRAINTS)
    X = check_input(X, metric, ensure_all_finite)
    y = None if y is None else check_target(y, X.shape[0], target_metric)
    X, y, unique_inverse = _unique_rows(X, y, metric) if unique else (X, y, None)
    n = X.shape[0]
    if n < 2:
        raise ValueError("unique=True leaves a single distinct point; UMAP needs at least 2 distinct rows.")
    k = int(n_neighbors)
    if k >= n:  # umap-learn's n - 1, but two points keep each other (a kNN list holds the point itself)
        k = max(n - 1, 2)
        warnings.warn(
            f"n_neighbors ({n_neighbors}) is not smaller than the number of samples ({n}); using {k}.", stacklevel=2
        )
    with logging_to_stderr(verbose), thread_limit(n_jobs) as threads:
        resolved = resolve_metric(metric, metric_kwds, X.shape[1])
        key = seed_key(random_state)
        with stage("nearest neighbours"), progress(verbose, tqdm_kwds, n, "points", "kNN") as bar:
            knn_idx, knn_dist, index = _neighbors(
                X, k, resolved, precomputed_knn, key, random_state is not None, threads.count, args, bar
            )
        with stage("fuzzy simplicial set"):
            limit = disconnection_limit(resolved, disconnection_distance)
            idx, dist = disconnect(knn_idx, knn_dist, limit)
            graph, sigmas, rhos = fuzzy.fuzzy_simplicial_set(
                idx, dist, set_op_mix_ratio=set_op_mix_ratio, local_connectivity=local_connectivity
            )
            if y is not None:
                graph = _supervise(graph, y, args, k, key, threads.count)
    return Graph(
        graph=graph,
        metric=resolved,
        n_neighbors=k,
        knn_indices=knn_idx,
        knn_dists=knn_dist,
        sigmas=sigmas,
        rhos=rhos,
        knn_mean=float(fuzzy.mean_distance(dist)),
        graph_dists=fuzzy.knn_distance_graph(idx, dist),
        index=index,
        local_connectivity=float(local_connectivity),
        set_op_mix_ratio=float(set_op_mix_ratio),
        disconnection_distance=float(limit),
        supervised=y is not None,
        unique_inverse=unique_inverse,
        n_features=X.shape[1],
    )


def check_input(X, metric, ensure_all_finite=True):
    """``X`` as float32 (dense or CSR); a precomputed matrix must be square and non-negative. NaN and
    infinity pass only to a metric function, and only without ``ensure_all_finite``."""
    X = check_array(X, min_samples=2, finite=ensure_all_finite or isinstance(metric, str))
    if isinstance(metric, str) and metric == "precomputed":
        if X.shape[0] != X.shape[1]:
            raise ValueError(f"metric='precomputed' needs a square distance matrix; got shape {X.shape}.")
        check_distances(X)
    return X


def check_distances(D):
    if ((D.data if sp.issparse(D) else D) < 0).any():
        raise ValueError("metric='precomputed' needs non-negative distances; the matrix has negative entries.")


def _unique_rows(X, y, metric):
    """The distinct points of ``X`` in order of first appearance, and each row's vertex: distinct rows
    of feature vectors (dense or sparse), or of a precomputed distance matrix (whose columns follow)."""
    keys = row_keys(X, explicit_zeros=isinstance(metric, str) and metric == "precomputed")
    axis = None if keys.dtype == object else 0
    _, first, inverse = np.unique(keys, axis=axis, return_index=True, return_inverse=True)
    order = np.argsort(first)
    keep, rank = first[order], np.empty_like(order)
    rank[order] = np.arange(len(order))
    X = X[keep][:, keep] if isinstance(metric, str) and metric == "precomputed" else X[keep]
    return X, None if y is None else y[keep], rank[inverse.ravel()]


def row_keys(X, explicit_zeros=False):
    """Rows that compare equal exactly when the rows of ``X`` hold the same values: a sparse row as
    the bytes of its sorted stored columns and values (keys of the same length hold as many entries,
    so they split the same way). Explicit zeros count only with ``explicit_zeros`` (in a sparse
    distance matrix a stored 0 is a distance, an absent entry no edge)."""
    if not sp.issparse(X):
        return X
    X = sp.csr_matrix(X, copy=True)
    X.sum_duplicates()
    if not explicit_zeros:
        X.eliminate_zeros()
    cut = X.indptr
    keys = [X.indices[a:b].tobytes() + X.data[a:b].tobytes() for a, b in zip(cut[:-1], cut[1:], strict=True)]
    return np.array(keys, dtype=object)


def _neighbors(X, k, metric, precomputed, key, deterministic, threads, args, bar):
    from .neighbors import EXACT_MAX_SAMPLES, ExactIndex, nearest_neighbors

    knn_idx, knn_dist, _ = precomputed
    if knn_idx is not None:
        return (*_check_precomputed_knn(knn_idx, knn_dist, X.shape[0], k), ExactIndex(X))
    approximate = args["force_approximation_algorithm"] or X.shape[0] > EXACT_MAX_SAMPLES
    return nearest_neighbors(
        X,
        k,
        metric,
        approximate=approximate,
        seed=key,
        deterministic=deterministic,
        n_jobs=threads,
        low_memory=args["low_memory"],
        angular=args["angular_rp_forest"],
        verbose=args["verbose"],
        progress=bar,
    )


def _check_precomputed_knn(knn_idx, knn_dist, n, k):
    knn_idx, knn_dist = np.asarray(knn_idx), np.asarray(knn_dist)
    if knn_idx.shape != knn_dist.shape or knn_idx.ndim != 2 or knn_idx.shape[0] != n or knn_idx.shape[1] < k:
        raise ValueError(
            f"precomputed_knn arrays must both have shape (n_samples, >= n_neighbors) = ({n}, >= {k}); "
            f"got {knn_idx.shape} and {knn_dist.shape}."
        )
    return knn_idx[:, :k].astype(np.int32), knn_dist[:, :k].astype(np.float32)


def disconnection_limit(metric, disconnection_distance):
    """The distance at or beyond which kNN edges are dropped (default: the metric's natural bound)."""
    if disconnection_distance is not None:
        return disconnection_distance
    return METRICS[metric.name].disconnection_distance if metric.name in METRICS else np.inf


def disconnect(idx, dist, limit):
    """kNN lists without the edges at or beyond ``limit`` (index -1, distance inf)."""
    far = dist >= limit
    if far.any():
        log.info("disconnection_distance=%s removes %d kNN edges", limit, far.sum())
        idx, dist = np.where(far, -1, idx), np.where(far, np.inf, dist).astype(np.float32)
    return idx, dist


def _supervise(graph, y, args, k, key, threads):
    """Intersect the data graph with the label graph (002, supervised and semi-supervised UMAP)."""
    metric, weight = args["target_metric"], args["target_weight"]
    far = 2.5 / (1.0 - weight) if weight < 1.0 else 1e12
    if metric == "categorical":
        return fuzzy.categorical_intersection(graph, y, unknown_dist=1.0, far_dist=far)
    if metric in DISCRETE:
        return fuzzy.target_intersection(graph, y, target_distance(y, metric), scale=far)
    from .neighbors import nearest_neighbors

    target = y.astype(np.float32).reshape(-1, 1)
    k = min(int(args["n_neighbors"] if args["target_n_neighbors"] == -1 else args["target_n_neighbors"]), len(y) - 1)
    metric = resolve_metric(args["target_metric"], args["target_metric_kwds"], 1)
    idx, dist, _ = nearest_neighbors(target, k, metric, seed=key, n_jobs=threads)
    target_graph, _, _ = fuzzy.fuzzy_simplicial_set(idx, dist)
    return fuzzy.reset_local_connectivity(fuzzy.general_intersection(graph, target_graph, args["target_weight"]))


def embed_graph(
    graph,
    *,
    n_components=2,
    init="spectral",
    n_epochs=None,
    random_state=None,
    min_dist=0.1,
    spread=1.0,
    a=None,
    b=None,
    learning_rate=1.0,
    repulsion_strength=1.0,
    negative_sample_rate=5,
    negative_sampling="umap",
    output_metric="euclidean",
    output_metric_kwds=None,
    terms=(),
    output_dens=False,
    loss_report=None,
    callbacks=None,
    n_jobs=-1,
    verbose=False,
    tqdm_kwds=None,
):
    """A layout of ``graph`` (a ``model.Graph``): the initial layout, then ``n_epochs`` of SGD on UMAP's
    cross-entropy (002 Alg. 1, lines 6-14) plus ``terms`` (``umapx.layout.terms``, e.g. DensMAP's
    ``DensityTerm``). Returns a ``model.Layout``.

    ``graph`` may also be a list of graphs, laid out together as one stacked layout in which each
    block keeps its own curve (``min_dist``, ``spread``, ``a``, ``b``, ``init`` and ``n_epochs`` may
    then be lists, one per graph) and sampling schedule, and draws its negative samples from itself;
    terms such as ``AlignmentTerm`` join the blocks. Then a list of layouts is returned. The blocks
    run together for the largest ``n_epochs``, each sampled as in a layout of its own ``n_epochs``; a
    block of 0 epochs stays where it starts (an ``init`` array exactly: AlignedUMAP's ``update``
    holds its earlier slices so).

    ``output_dens`` reports the data's and the embedding's log local radii (``rad_orig``,
    ``rad_emb``); ``loss_report`` and ``callbacks`` are those of ``UMAP``.
    """
    args = {k: v for k, v in locals().items() if k in LAYOUT_CONSTRAINTS}
    graphs = list(graph) if isinstance(graph, (list, tuple)) else [graph]
    per_block = {
        name: _per_block(args[name], len(graphs)) for name in ("min_dist", "spread", "a", "b", "init", "n_epochs")
    }
    for i in range(len(graphs)):
        block = {**args, **{name: v[i] for name, v in per_block.items()}}
        check_params("embed_graph", block, LAYOUT_CONSTRAINTS)
        check_layout_options(block)
    if len(graphs) > 1 and (output_dens or loss_report is not None or callbacks or negative_sampling != "umap"):
        raise ValueError(
            "output_dens, loss_report, callbacks and negative_sampling other than 'umap' apply to a "
            "single graph; got a list of graphs."
        )
    with logging_to_stderr(verbose), thread_limit(n_jobs) as threads:
        rng = as_generator(random_state)
        key = seed_key(rng)
        out_metric = resolve_output_metric(output_metric, output_metric_kwds, n_components)
        curves = [_curve(*(per_block[p][i] for p in ("a", "b", "spread", "min_dist"))) for i in range(len(graphs))]
        default = default_n_epochs(max(g.n_vertices for g in graphs))
        block_epochs = [default if e is None else e for e in per_block["n_epochs"]]
        n_epochs = max(block_epochs)
        radii = (
            _data_radii(graphs[0], n_epochs) if output_dens or any(isinstance(t, DensityTerm) for t in terms) else None
        )
        terms = [t.prepare(graphs[0], n_epochs) for t in terms]
        with stage("initialisation"):
            head = np.concatenate(
                [
                    _initial_block(per_block["init"][i], g, n_components, rng, block_epochs[i] > 0)
                    for i, g in enumerate(graphs)
                ]
            )
        monitor = _monitor(args, graphs[0].graph, n_epochs, *curves[0])
        with (
            stage("optimisation", f"{n_epochs} epochs, {threads.count} threads at the start"),
            progress(verbose, tqdm_kwds, n_epochs, "epochs", "layout") as bar,
        ):
            head = optimize_layout(
                head,
                [g.graph for g in graphs],
                n_epochs,
                a=[c[0] for c in curves],
                b=[c[1] for c in curves],
                key=key,
                output_metric=out_metric,
                gamma=repulsion_strength,
                learning_rate=learning_rate,
                negative_sample_rate=negative_sample_rate,
                negative_sampling=negative_sampling,
                terms=terms,
                block_epochs=block_epochs,
                monitor=monitor,
                progress=bar,
                threads=threads,
            )
        layouts = []
        blocks = np.split(head, np.cumsum([g.n_vertices for g in graphs])[:-1])
        for g, (a_, b_), block, epochs in zip(graphs, curves, blocks, block_epochs, strict=True):
            if epochs:
                _warn_isolated(g.graph)
            rad_orig, rad_emb, rad_mean, rad_std = None, None, None, None
            if radii is not None:
                rad_orig, (rad_mean, rad_std) = radii, radius_stats(radii)
            if output_dens and radii is not None:
                with stage("embedding radii"):
                    rad_emb = _embedding_radii(
                        block, min(g.n_neighbors, g.n_vertices - 1), key, random_state is not None, threads.count
                    )
            layouts.append(
                Layout(
                    embedding=g.per_row(block),
                    a=a_,
                    b=b_,
                    output_metric=out_metric,
                    n_epochs=epochs,
                    rad_orig=g.per_row(rad_orig),
                    rad_emb=g.per_row(rad_emb),
                    rad_mean=rad_mean,
                    rad_std=rad_std,
                    loss_history=None if monitor is None else monitor.loss_history(),
                    n_epochs_run=epochs if monitor is None or monitor.stopped_epoch is None else monitor.stopped_epoch,
                )
            )
    return layouts if isinstance(graph, (list, tuple)) else layouts[0]


def embed_graph_at(graph, *, n_epochs=None, **params):
    """``embed_graph`` of one graph with ``n_epochs`` also a list of epochs, as umap-learn takes it: the
    layout runs to the largest, and the embedding after each listed epoch is returned beside the
    layout (None for a single ``n_epochs``)."""
    if not isinstance(n_epochs, list):
        return embed_graph(graph, n_epochs=n_epochs, **params), None
    snapshots = EmbeddingSnapshots(epochs=n_epochs)
    callbacks = [*(params.pop("callbacks", None) or []), snapshots]
    layout = embed_graph(graph, n_epochs=max(n_epochs), callbacks=callbacks, **params)
    return layout, [graph.per_row(e) for _, e in snapshots.snapshots]


def _initial_block(init, graph, n_components, rng, moves):
    """A block's starting layout: ``initialise``'s, or for a block that does not move, its ``init``
    array as it is (float32)."""
    init = check_init(init, graph.n_vertices, n_components)
    if not moves and not isinstance(init, str):
        return init.astype(np.float32)
    return initialise(init, graph.graph, graph.data, n_components, rng)


def _per_block(value, n):
    """One value per block: a list or tuple of n values as given, any other value repeated (an init array too)."""
    if isinstance(value, (list, tuple)) and len(value) == n and n > 1:
        return list(value)
    return [value] * n


def check_layout_options(args):
    if args["min_dist"] > args["spread"]:
        raise ValueError(f"min_dist ({args['min_dist']}) must not exceed spread ({args['spread']}).")
    euclidean = ALIASES.get(args["output_metric"], args["output_metric"]) == "euclidean"
    if (args["output_dens"] or any(isinstance(t, DensityTerm) for t in args["terms"])) and not euclidean:
        raise ValueError(
            f"densmap and output_dens need output_metric='euclidean' (the local radii are "
            f"euclidean); got output_metric={args['output_metric']!r}."
        )
    losses = args["loss_report"] is not None or any(getattr(cb, "needs_record", True) for cb in args["callbacks"] or ())
    if losses and not euclidean:
        raise ValueError(f"loss_report and callbacks need output_metric='euclidean'; got {args['output_metric']!r}.")
    if args["callbacks"] and not all(callable(cb) for cb in args["callbacks"]):
        raise ValueError("callbacks must be callables cb(epoch, embedding, record).")


def _curve(a, b, spread, min_dist):
    return (a, b) if a is not None and b is not None else find_ab_params(spread, min_dist)


def _data_radii(graph, n_epochs):
    return None if graph.graph_dists is None else data_radii(graph.graph, graph.graph_dists, n_epochs)


def _monitor(args, graph, n_epochs, a, b):
    if args["loss_report"] is None and not args["callbacks"]:
        return None
    from .loss import LossMonitor

    report = args["loss_report"]
    every = max(1, n_epochs // LOSS_REPORT_RECORDS) if report is True else 1 if report == "epoch" else report
    return LossMonitor(
        graph,
        n_epochs,
        a=a,
        b=b,
        negative_sample_rate=args["negative_sample_rate"],
        gamma=args["repulsion_strength"],
        corrected=args["negative_sampling"] == "corrected",
        every=every,
        callbacks=args["callbacks"] or (),
        log=log,
    )


def _warn_isolated(graph):
    isolated = np.nonzero(np.diff(graph.indptr) == 0)[0]
    if isolated.size:
        warnings.warn(
            f"{isolated.size} point(s) have no edges in the fuzzy graph (first: {isolated[:5].tolist()}), "
            "e.g. because of disconnection_distance; they keep their initial position.",
            stacklevel=3,
        )


def _embedding_radii(layout, k, key, deterministic, threads):
    """Log local radii of the embedding on its own euclidean kNN fuzzy graph, as umap-learn's
    ``rad_emb_``: 002 eq. 30 applied to the embedding, weighing distances where ``rad_orig_``
    weighs squared distances, as umap-learn does (so the two libraries' correlations compare)."""
    from .neighbors import EXACT_MAX_SAMPLES, nearest_neighbors

    euclidean = resolve_metric("euclidean", None, layout.shape[1])
    idx, dist, _ = nearest_neighbors(
        layout,
        k,
        euclidean,
        approximate=layout.shape[0] > EXACT_MAX_SAMPLES,
        seed=key,
        deterministic=deterministic,
        n_jobs=threads,
    )
    emb_graph, _, _ = fuzzy.fuzzy_simplicial_set(idx, dist)
    return log_radii(emb_graph, fuzzy.knn_distance_graph(idx, dist), power=1)


# ---------------------------------------------------------------------------------------- new points
def check_new_points(graph, X, what, ensure_all_finite=True):
    """New points ``X`` as the training data's kind (dense or CSR), with its width; for precomputed
    distances, a row of distances to every training point. ``what`` names the call in errors;
    ``ensure_all_finite`` as in ``build_graph``."""
    if graph.index is None:
        raise ValueError(
            f"{what} is not available for a model made by combining models (+, *, -): it has no single input space."
        )
    X = check_array(X, min_samples=1, finite=ensure_all_finite or graph.metric.callable is None)
    if graph.metric.name == "precomputed":
        n = graph.index.n if graph.unique_inverse is None else len(graph.unique_inverse)
        if X.shape[1] != n:
            raise ValueError(
                f"with metric='precomputed', {what} needs the distances from each new point to "
                f"the {n} training points, shape (n_new, {n}); got {X.shape}."
            )
        check_distances(X)
        return X if graph.unique_inverse is None else graph.per_vertex(X.T).T
    if X.shape[1] != graph.n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but {what} is expecting {graph.n_features} features as input "
            "(the number the model was fitted on)."
        )
    if sp.issparse(X) != sp.issparse(graph.data):
        X = sp.csr_matrix(X) if sp.issparse(graph.data) else X.toarray()
    return X


def memberships(graph, X, *, seed, n_jobs, breadth=1.0):
    """Fuzzy memberships (CSR, n_new x n_vertices) of new points to their ``n_neighbors`` nearest
    training points (local connectivity lowered by one, as in umap-learn), a key per point from its
    own neighbours, and the neighbours themselves."""
    idx, dist = graph.index.query(X, graph.n_neighbors, graph.metric, seed=seed, n_jobs=n_jobs, breadth=breadth)
    idx, dist = disconnect(idx, dist, graph.disconnection_distance)
    mu = fuzzy.new_point_memberships(
        idx, dist, graph.index.n, local_connectivity=graph.local_connectivity, mean_all=graph.knn_mean
    )
    return mu, hash_rows(np.column_stack([idx, dist.view(np.int32)])), idx, dist


def is_training_data(graph, X):
    """Whether ``X`` is the training data itself (row for row; not for precomputed or merged rows)."""
    data = graph.data
    if data is None or graph.unique_inverse is not None or X.shape != data.shape:
        return False
    return (X != data).nnz == 0 if sp.issparse(X) else np.array_equal(X, data, equal_nan=True)


def training_rows(graph, X, idx):
    """Which new points equal their nearest training point (a mask), and that point's vertex."""
    data, nearest = graph.data, idx[:, 0]
    if data is None or graph.metric.name == "precomputed":
        return np.zeros(len(nearest), dtype=bool), nearest[:0]
    valid = nearest >= 0
    rows, near = X[valid], data[nearest[valid]]
    if sp.issparse(rows):
        valid[valid] = np.diff((rows != near).indptr) == 0
    else:
        valid[valid] = ((rows == near) | (np.isnan(rows) & np.isnan(near))).all(axis=1)
    return valid, nearest[valid]


def place(
    graph,
    layout,
    mu,
    keys,
    *,
    seed,
    learning_rate=1.0,
    repulsion_strength=1.0,
    negative_sample_rate=5,
    density=None,
    together=None,
):
    """Start each new point at the membership-weighted mean of its neighbours' embedding, then
    optimise the new points against the fixed training embedding for a third of the fit's epochs at
    a quarter of its learning rate; ``density`` (a prepared ``DensityTerm``) adds DensMAP's term.

    ``graph``, ``layout``, ``mu`` and ``keys`` may also be lists, one per fitted layout (AlignedUMAP's
    slices): the new points are then placed into every layout at once, and ``together`` = (w, lam),
    w a CSR matrix over the stacked placements, adds the ``AlignmentTerm`` lam w |y_p - y_q|^2 that
    holds a point's placements in different layouts together. Its steps are as large as in a fit
    (lam / NEW_POINT_RATE): the placements start apart, and the reduced learning rate that keeps a new
    point near its start would leave them so. Returns a list of placements then."""
    many = isinstance(graph, list)
    graphs, layouts, mus, keys = ([x] if not many else x for x in (graph, layout, mu, keys))
    tails = [g.per_vertex(lay.embedding) for g, lay in zip(graphs, layouts, strict=True)]
    starts = []
    for m, t in zip(mus, tails, strict=True):  # a loop, not a comprehension: the warning's stacklevel
        starts.append(_start(m, t))
    head = np.concatenate(starts)
    tail, rows, terms = np.concatenate(tails), None, [] if density is None else [density]
    if together is not None:  # the placements join the tail rows, written back every epoch
        weights, lam = together
        placed = np.isfinite(head).all(axis=1).astype(np.float64)
        weights = sp.csr_matrix(sp.diags(placed) @ sp.csr_matrix(weights) @ sp.diags(placed))
        weights.eliminate_zeros()  # no weight to or from a NaN point, not even 0 (0 NaN is NaN)
        rows = len(tail) + np.arange(len(head))
        between = sp.hstack([sp.csr_matrix((len(head), len(tail))), weights], format="csr")
        terms.append(AlignmentTerm(between, lam / NEW_POINT_RATE))
        tail = np.concatenate([tail, head])
    head = optimize_layout(
        head,
        mus,
        max(lay.n_epochs // 3 for lay in layouts),
        a=[lay.a for lay in layouts],
        b=[lay.b for lay in layouts],
        key=seed_key(seed),
        output_metric=layouts[0].output_metric,
        tail=tail,
        rows=rows,
        row_keys=np.concatenate(keys),
        gamma=repulsion_strength,
        learning_rate=learning_rate * NEW_POINT_RATE,
        negative_sample_rate=negative_sample_rate,
        terms=terms,
        block_epochs=[lay.n_epochs // 3 for lay in layouts],
    )
    return np.split(head, np.cumsum([m.shape[0] for m in mus])[:-1]) if many else head


def _start(mu, tail):
    """New points at the membership-weighted mean of their neighbours' embedding; NaN, with a
    warning, for a point without neighbours."""
    weight = np.asarray(mu.sum(axis=1)).ravel()
    empty = weight == 0
    head = np.ascontiguousarray((mu @ tail) / np.where(empty, 1.0, weight)[:, None], dtype=np.float32)
    if empty.any():
        head[empty] = np.nan
        warnings.warn(
            f"{empty.sum()} new point(s) have no training neighbour within disconnection_distance "
            f"(first: {np.nonzero(empty)[0][:5].tolist()}); their embedding is NaN.",
            stacklevel=4,
        )
    return head


def new_point_radii(graph, idx, dist, power=2):
    """Log local radii of new points (002 eq. 30) from their nearest training points, with the
    memberships a fit gives a point: itself first, then its n_neighbors - 1 nearest; ``power``
    as in ``log_radii`` (1 for ``rad_emb``)."""
    m, k = idx.shape
    rows = np.concatenate([np.arange(m)[:, None] + graph.index.n, idx[:, : k - 1]], axis=1)
    dists = np.concatenate([np.zeros((m, 1), dtype=np.float32), dist[:, : k - 1]], axis=1)
    sigma, rho = fuzzy.smooth_knn_dist(dists, k, graph.local_connectivity, graph.knn_mean)
    mu = fuzzy.membership_strengths(rows, dists, sigma, rho, False)
    mu[:, 0] = 0.0
    return log_radii(sp.csr_matrix(mu), sp.csr_matrix(dists), power)


def new_point_density(graph, layout, rad_orig, lam, frac, var_shift):
    """DensMAP's term for new points against the fixed training layout: a new point's data radius is
    standardised with the training radii's mean and deviation, and the point follows its own term
    of the training correlation between data and embedding radii (002 eq. 35), whose statistics
    stay fixed."""
    pruned = prune(graph.graph, layout.n_epochs)
    tail = graph.per_vertex(layout.embedding).astype(np.float64)
    r, phi_sum = np.zeros(tail.shape[0]), np.zeros(tail.shape[0])
    embedding_log_radii(
        tail, tail, pruned.indptr.astype(np.int64), pruned.indices.astype(np.int64), layout.a, layout.b, r, phi_sum
    )
    R = standardise(graph.per_vertex(layout.rad_orig), layout.rad_mean, layout.rad_std)
    keep = np.isfinite(R)
    scale = float(pruned.data.sum() / pruned.data.max()) / keep.sum()
    reference = correlation_stats(r[keep], R[keep]) + (scale,)
    return DensityTerm(lam, frac, var_shift, standardise(rad_orig, layout.rad_mean, layout.rad_std), reference)


def inverse(graph, layout, Y, *, n_jobs=1):
    """Rows of the input space for points ``Y`` of the embedding: the mean of the input vectors of
    their ``n_neighbors`` nearest training points in the embedding (output metric), weighted by
    phi (002 eq. 12); dense for dense training data, CSR for sparse."""
    from .neighbors import ExactIndex

    if graph.data is None or graph.metric.name == "precomputed":
        raise ValueError(
            "inverse_transform needs the training points as feature vectors; this model was "
            + (
                "fitted on a precomputed distance matrix."
                if graph.metric.name == "precomputed"
                else "made by combining models (+, *, -)."
            )
        )
    out = layout.output_metric
    if out.name not in METRICS:
        raise ValueError(
            f"inverse_transform does not support output_metric={out.name!r}; "
            f"supported: {', '.join(m for m in OUTPUT_METRICS if m in METRICS)}."
        )
    tail = graph.per_vertex(layout.embedding)
    metric = resolve_metric(out.name, out.kwds, tail.shape[1])
    k = min(graph.n_neighbors, tail.shape[0])
    idx, dist = ExactIndex(tail).query(Y, k, metric, n_jobs=n_jobs)
    w = phi_of(dist.astype(np.float64) ** 2, layout.a, layout.b)
    w /= w.sum(axis=1, keepdims=True)
    W = sp.csr_matrix((w.ravel(), idx.ravel(), np.arange(0, w.size + 1, k)), shape=(len(Y), tail.shape[0]))
    X = W @ graph.data
    return sp.csr_matrix(X, dtype=np.float32) if sp.issparse(X) else np.asarray(X, dtype=np.float32)


def grow(
    graph, layout, X, *, key, deterministic, n_jobs, learning_rate=1.0, repulsion_strength=1.0, negative_sample_rate=5
):
    """``(graph, layout)`` with the rows of ``X`` added, without refitting: progressive UMAP (002 Alg. 3).

    The new points' neighbours are searched among all points; an existing point whose kNN list
    gains a new point is updated. The graph is rebuilt with rho and sigma recomputed for the new
    and updated rows only (the others keep theirs, so the graph is the one a fresh fuzzy set of the
    updated kNN lists would give); each new point starts at its nearest existing point's
    embedding plus small Gaussian noise, and only new and updated points are optimised (a sixth
    of the fit's epochs, a quarter of its learning rate) while the rest stay fixed. The index grows
    with the new points, last, so that a failure leaves it as it was.
    """
    from .neighbors import ExactIndex, merge_knn, reverse_neighbors

    k, metric = graph.n_neighbors, graph.metric
    n, m = graph.n_vertices, X.shape[0]
    new_rows = np.arange(n, n + m)
    with stage(f"neighbours of {m} new points"):
        to_old = graph.index.query(X, min(k, n), metric, seed=key, n_jobs=n_jobs)
        to_new = ExactIndex(X).query(X, min(k, m), metric, seed=key, n_jobs=n_jobs, self_index=np.arange(m))
        new_idx, new_dist = merge_knn(to_old, (to_new[0] + n, to_new[1]), k, new_rows)
        knn_idx, knn_dist, changed = reverse_neighbors(graph.knn_indices, graph.knn_dists, new_idx, new_dist, n)
        knn_idx, knn_dist = np.concatenate([knn_idx, new_idx]), np.concatenate([knn_dist, new_dist])
    with stage("fuzzy simplicial set"):
        idx, dist = disconnect(knn_idx, knn_dist, graph.disconnection_distance)
        fuzzy_set, sigmas, rhos = fuzzy.fuzzy_simplicial_set(
            idx,
            dist,
            set_op_mix_ratio=graph.set_op_mix_ratio,
            local_connectivity=graph.local_connectivity,
            known=(graph.sigmas, graph.rhos, changed),
        )
    rng = np.random.default_rng(key)
    noise = rng.normal(scale=0.01 * layout.embedding.std(axis=0), size=(m, layout.embedding.shape[1]))
    head = np.concatenate([layout.embedding, layout.embedding[to_old[0][:, 0]] + noise]).astype(np.float32)
    heads = np.concatenate([np.nonzero(changed)[0], new_rows])
    with stage(f"optimisation of {len(heads)} new and updated points"):
        head[heads] = optimize_layout(
            head[heads],
            fuzzy_set[heads],
            layout.n_epochs // 6,
            a=layout.a,
            b=layout.b,
            key=key,
            output_metric=layout.output_metric,
            tail=head,
            rows=heads,
            gamma=repulsion_strength,
            learning_rate=learning_rate * NEW_POINT_RATE,
            negative_sample_rate=negative_sample_rate,
        )
    grown = Graph(
        **{
            **vars(graph),
            "graph": fuzzy_set,
            "knn_indices": knn_idx,
            "knn_dists": knn_dist,
            "sigmas": sigmas,
            "rhos": rhos,
            "knn_mean": float(fuzzy.mean_distance(dist)),
            "graph_dists": fuzzy.knn_distance_graph(idx, dist),
        }
    )
    graph.index.add(X, metric, n_jobs=n_jobs, deterministic=deterministic)
    return grown, Layout(**{**vars(layout), "embedding": head})
