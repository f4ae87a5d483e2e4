"""AlignedUMAP: embeddings of related slices of data (003), kept aligned by one joint layout.

A leaf on the stages: a ``build_graph`` per slice, then one stacked ``embed_graph`` of all the
slices' graphs with an ``AlignmentTerm`` that pulls each point towards the points it is related to
in the slices within ``alignment_window_size``. ``update`` lays out a new slice against the last
window, whose blocks run no epochs and so keep their bytes; ``transform(X, slice=i)`` places new
points into slice i as ``UMAP.transform`` does. The fitted state is a ``Graph`` and a ``Layout`` per
slice, the relations between consecutive slices and each slice's parameters.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp

from ._random import as_generator, seed_key
from ._report import logging_to_stderr
from ._threads import thread_limit
from ._validation import Interval, ParamsMixin, check_array, check_params
from .init import follow, initial_layout, procrustes
from .layout.terms import AlignmentTerm
from .model import estimator
from .pipeline import (
    GRAPH_CONSTRAINTS,
    LAYOUT_CONSTRAINTS,
    build_graph,
    check_layout_options,
    check_new_points,
    embed_graph,
    memberships,
    place,
)
from .umap import UMAP, Fitted

DEFAULT_EPOCHS = 200  # n_epochs=None, as in umap-learn's AlignedUMAP
#: The parameters that may hold one value per slice (a list or tuple); the others apply to all slices.
SLICE_PARAMS = (
    "n_neighbors",
    "metric",
    "metric_kwds",
    "n_epochs",
    "init",
    "min_dist",
    "spread",
    "low_memory",
    "set_op_mix_ratio",
    "local_connectivity",
    "transform_queue_size",
    "a",
    "b",
    "angular_rp_forest",
    "target_n_neighbors",
    "target_metric",
    "target_metric_kwds",
    "target_weight",
    "force_approximation_algorithm",
)


@estimator
class AlignedUMAP(ParamsMixin, Fitted):
    """UMAP embeddings of a sequence of related data sets ("slices"), aligned with each other, with
    umap-learn's AlignedUMAP parameters and defaults.

    ``fit(X, relations=...)`` takes a list of slices (dense or sparse, any row and feature counts)
    and, for each consecutive pair, a dict (or an array of index pairs) from rows of slice i to the
    rows of slice i + 1 that are the same point; relations may be partial. Every parameter listed
    in ``SLICE_PARAMS`` may be a list with one value per slice. All slices are optimised together:
    each on its own graph, with the penalty ``alignment_regularisation`` * w |y_i - y_r|^2 between
    related points of slices up to ``alignment_window_size`` apart (relations composed across the
    slices between). w = exp(-(distance in slices - 1)) times the Jaccard similarity of the two
    points' graph neighbourhoods, as in umap-learn. Each slice after the first starts where its
    related points are in the slice before, the points connected to them following through its
    graph (``init.follow``).

    Seeded runs are bit-identical across runs and ``n_jobs``. Fitted: ``embeddings_`` (one array per
    slice; NaN rows for points without graph edges, with a warning), ``mappers_`` (a fitted ``UMAP``
    per slice, whose ``transform`` places new points into that slice), ``n_models_`` and
    ``dict_relations_``. Beyond umap-learn: ``transform(X, slice=i)``, ``update`` that leaves the
    earlier slices' bytes as they were, and ``save`` / ``umapx.load``.
    """

    _FITTED = "layouts_"
    _parameter_constraints = {
        **UMAP._parameter_constraints,
        "n_epochs": LAYOUT_CONSTRAINTS["n_epochs"],  # UMAP's list of epochs is not taken
        "alignment_regularisation": [Interval(0, np.inf)],
        "alignment_window_size": [Interval(1, np.inf, integer=True)],
    }

    def __init__(
        self,
        n_neighbors=15,
        n_components=2,
        metric="euclidean",
        metric_kwds=None,
        n_epochs=None,
        learning_rate=1.0,
        init="spectral",
        alignment_regularisation=1.0e-2,
        alignment_window_size=3,
        min_dist=0.1,
        spread=1.0,
        low_memory=False,
        set_op_mix_ratio=1.0,
        local_connectivity=1.0,
        repulsion_strength=1.0,
        negative_sample_rate=5,
        transform_queue_size=4.0,
        a=None,
        b=None,
        random_state=None,
        angular_rp_forest=False,
        target_n_neighbors=-1,
        target_metric="categorical",
        target_metric_kwds=None,
        target_weight=0.5,
        transform_seed=42,
        force_approximation_algorithm=False,
        verbose=False,
        n_jobs=-1,
    ):
        params = dict(locals())
        del params["self"]
        vars(self).update(params)

    # ------------------------------------------------------------------ parameters
    def _slice_params(self, n_slices):
        """The UMAP parameters of each of ``n_slices`` slices, checked: a list value gives each slice its own."""
        shared = {name: value for name, value in self.get_params().items() if name not in SLICE_PARAMS}
        for name, value in shared.items():
            if isinstance(value, (list, tuple)) and name in UMAP._parameter_constraints:
                raise ValueError(
                    f"The {name!r} parameter of AlignedUMAP applies to all slices together; give one value, "
                    f"not a list. Parameters that take one value per slice: {', '.join(SLICE_PARAMS)}."
                )
        per_slice = []
        for name in SLICE_PARAMS:
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                if len(value) != n_slices:
                    raise ValueError(
                        f"The {name!r} parameter of AlignedUMAP has {len(value)} values, but there are "
                        f"{n_slices} slices: give one value per slice, or a single value for all."
                    )
                per_slice.append(list(value))
            else:
                per_slice.append([value] * n_slices)
        params = [{**shared, **dict(zip(SLICE_PARAMS, values, strict=True))} for values in zip(*per_slice, strict=True)]
        for p in params:
            self._check_slice(p)
        return params

    def _check_slice(self, params):
        """One slice's parameters against the constraints (the alignment's own, and UMAP's)."""
        if params["n_epochs"] is None:
            params["n_epochs"] = DEFAULT_EPOCHS
        check_params("AlignedUMAP", params, self._parameter_constraints)
        fixed = {
            "output_metric": "euclidean",
            "output_dens": False,
            "terms": (),
            "loss_report": None,
            "callbacks": None,
        }
        check_layout_options({**_layout(params), **fixed})

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, relations=None):
        """Embed each slice of ``X`` (a list of at least 2 arrays), aligned through ``relations``
        (one dict or array of (row of slice i, row of slice i + 1) pairs per consecutive pair)."""
        slices = _check_slices(X)
        sizes = [s.shape[0] for s in slices]
        links = check_relations(relations, sizes)
        labels = _check_labels(y, sizes)
        params = self._slice_params(len(slices))
        rng = as_generator(self.random_state)
        with logging_to_stderr(self.verbose):
            graphs = [
                build_graph(X_s, y_s, **_graph(p, self.random_state))
                for X_s, y_s, p in zip(slices, labels, params, strict=True)
            ]
            layouts = _align(graphs, links, params, rng, self, fixed=[])
        self._set_fitted_state({"graphs": graphs, "layouts": layouts, "relations": links, "slice_params": params})
        _warn_isolated(graphs, 0)
        return self

    def fit_transform(self, X, y=None, relations=None):
        """Fit and return ``embeddings_``."""
        return self.fit(X, y, relations=relations).embeddings_

    def update(self, X, y=None, relations=None, **slice_values):
        """Add slice ``X``, related to the last fitted slice by ``relations`` (a dict or array of
        (row of the last slice, row of ``X``) pairs), and lay it out against the last
        ``alignment_window_size`` slices, which stay as they are (their ``embeddings_`` keep their
        bytes). Keyword arguments give the new slice its own values of ``SLICE_PARAMS``
        (``n_neighbors=...``); the others are the last slice's. A failed update leaves the model as it was."""
        self._check_fitted("update")
        unknown = sorted(set(slice_values) - set(SLICE_PARAMS))
        if unknown:
            raise ValueError(
                f"update takes per-slice values of {', '.join(SLICE_PARAMS)}; got {', '.join(map(repr, unknown))}."
            )
        (X,) = _check_slices([X], minimum=1, name="X")
        n_last = self.graph_models_[-1].n_vertices
        (link,) = check_relations([relations], [n_last, X.shape[0]], first=self.n_models_ - 1)
        (y,) = _check_labels(None if y is None else [y], [X.shape[0]])
        params = {**self.slice_params_[-1], **slice_values}
        if "init" not in slice_values and not isinstance(params["init"], str):
            params["init"] = "spectral"  # the last slice's array has that slice's rows
        self._check_slice(params)
        n = len(self.graph_models_)
        window = min(self.alignment_window_size, n)
        rng = np.random.default_rng([seed_key(self.random_state), n])
        with logging_to_stderr(self.verbose):
            graph = build_graph(X, y, **_graph(params, self.random_state))
            kept = slice(n - window, n)
            layouts = _align(
                [*self.graph_models_[kept], graph],
                [*self.relations_[n - window : n - 1], link],
                [*self.slice_params_[kept], params],
                rng,
                self,
                fixed=self.layouts_[kept],
            )
        self._set_fitted_state(
            {
                "graphs": [*self.graph_models_, graph],
                "layouts": [*self.layouts_, layouts[-1]],
                "relations": [*self.relations_, link],
                "slice_params": [*self.slice_params_, params],
            }
        )
        _warn_isolated([graph], n)
        return self

    def transform(self, X, slice=-1):  # noqa: A002 (umapx's keyword, after umap-learn's issue #960)
        """Place new points ``X`` into the aligned embedding of slice ``slice`` (default: the last).

        Each point is placed as ``UMAP.transform`` places it, into slice ``slice`` and at once into
        the slices within ``alignment_window_size`` of it that take the same features, and its
        placements are held together as related points of a fit are (weight exp(-(distance - 1)) in
        slices, times the penalty of a fit; their graph neighbourhoods, unknown for a new point,
        count as alike), so that a new point is as aligned across slices as the fitted ones. Returns
        the placement in slice ``slice``: batch-invariant and deterministic, like ``UMAP.transform``."""
        self._check_fitted("transform")
        n = self.n_models_
        if isinstance(slice, bool) or not isinstance(slice, numbers.Integral) or not -n <= slice < n:
            raise ValueError(
                f"slice={slice!r} is out of range: this model has {n} slices (0 to {n - 1}, or -{n} to -1)."
            )
        target = slice % n
        window = self.alignment_window_size
        near = [
            s
            for s in range(max(0, target - window), min(n, target + window + 1))
            if s == target or _same_space(self.graph_models_[s], self.graph_models_[target])
        ]
        with thread_limit(self.n_jobs) as threads:
            found = [
                memberships(
                    self.graph_models_[s],
                    check_new_points(self.graph_models_[s], X, "transform"),  # dense or CSR, as the slice's
                    seed=self.transform_seed,
                    n_jobs=threads.count,
                    breadth=self.slice_params_[s]["transform_queue_size"] / 4.0,
                )
                for s in near
            ]
            placed = place(
                [self.graph_models_[s] for s in near],
                [self.layouts_[s] for s in near],
                [f[0] for f in found],
                [f[1] for f in found],
                seed=self.transform_seed,
                learning_rate=self.learning_rate,
                repulsion_strength=self.repulsion_strength,
                negative_sample_rate=self.negative_sample_rate,
                together=(
                    _copies(near, found[0][0].shape[0]),
                    penalty_weight(self.alignment_regularisation, self.negative_sample_rate),
                ),
            )
        return placed[near.index(target)]

    # ------------------------------------------------------------------ fitted state
    def _fitted_state(self):
        self._check_fitted("save")
        return {
            "graphs": self.graph_models_,
            "layouts": self.layouts_,
            "relations": self.relations_,
            "slice_params": self.slice_params_,
        }

    def _set_fitted_state(self, state):
        graphs, layouts = list(state["graphs"]), list(state["layouts"])
        self.graph_models_, self.layouts_ = graphs, layouts
        self.relations_ = [np.asarray(r, dtype=np.int64).reshape(-1, 2) for r in state["relations"]]
        self.slice_params_ = [dict(p) for p in state["slice_params"]]
        self.n_models_ = len(graphs)
        self.dict_relations_ = [dict(zip(r[:, 0].tolist(), r[:, 1].tolist(), strict=True)) for r in self.relations_]
        self.mappers_ = [_mapper(g, lay, p) for g, lay, p in zip(graphs, layouts, self.slice_params_, strict=True)]
        self.embeddings_ = [_with_nan_rows(g, lay) for g, lay in zip(graphs, layouts, strict=True)]


def _same_space(graph, other):
    """Whether new points of ``other``'s input space can be placed into ``graph``'s slice too (never
    for distances to one slice's points)."""
    return (
        graph.index is not None
        and graph.n_features == other.n_features
        and graph.metric.name == other.metric.name
        and graph.metric.name != "precomputed"
    )


def _copies(slices, m):
    """Weights between the placements of each of ``m`` new points into ``slices`` (stacked slice by
    slice): exp(-(|s - t| - 1)) between its placements in slices s and t."""
    distance = np.abs(np.subtract.outer(slices, slices))
    between = np.where(distance > 0, np.exp(-(distance - 1.0)), 0.0)
    return sp.kron(sp.csr_matrix(between), sp.identity(m), format="csr")


def _graph(params, random_state):
    """A slice's build_graph arguments."""
    return {**{k: params[k] for k in GRAPH_CONSTRAINTS if k in params}, "random_state": random_state}


def _layout(params):
    """A slice's embed_graph arguments that may differ between blocks."""
    return {k: params[k] for k in ("n_epochs", "init", "min_dist", "spread", "a", "b")}


def _mapper(graph, layout, params):
    """A fitted UMAP of one slice: its graph and its aligned layout."""
    names = set(UMAP._param_names())
    mapper = UMAP(**{k: v for k, v in params.items() if k in names})
    mapper.graph_model_, mapper.layout_ = graph, layout
    return mapper


def _with_nan_rows(graph, layout):
    """A slice's embedding with NaN rows for the points that have no edge in its graph (``_warn_isolated``)."""
    isolated = np.diff(graph.graph.indptr) == 0
    if not isolated.any():
        return layout.embedding
    embedding = layout.embedding.copy()
    embedding[isolated] = np.nan
    return embedding


def _warn_isolated(graphs, first):
    """Say which points of the new slices (numbered from ``first``) have NaN rows, from the caller's line."""
    for s, graph in enumerate(graphs, start=first):
        isolated = np.nonzero(np.diff(graph.graph.indptr) == 0)[0]
        if isolated.size:
            warnings.warn(
                f"slice {s}: {isolated.size} point(s) have no edges in the fuzzy graph (first: "
                f"{isolated[:5].tolist()}); their rows of embeddings_[{s}] are NaN.",
                stacklevel=3,
            )


def _align(graphs, links, params, rng, model, fixed):
    """Layouts of ``graphs``, one joint ``embed_graph`` with an ``AlignmentTerm``: the first
    ``len(fixed)`` blocks stay at the ``fixed`` layouts (0 epochs). Each other block starts from
    its related points' places in the block before, spread over its graph to the points they
    connect to (``init.follow``); the rest keep their own initial layout, turned onto the block
    before (``init.procrustes``). The first block of a fit starts from its own initial layout."""
    inits, epochs = [lay.embedding for lay in fixed], [0] * len(fixed)
    for s in range(len(fixed), len(graphs)):
        g, p = graphs[s], params[s]
        init = p["init"]
        if isinstance(init, str):
            init = initial_layout(init, g.graph, g.data, model.n_components, rng)
            if s > 0:
                pairs = links[s - 1]
                init = follow(procrustes(init, inits[s - 1], pairs), g.graph, pairs[:, 1], inits[s - 1][pairs[:, 0]])
        inits.append(init)
        epochs.append(p["n_epochs"])
    relations = alignment_relations(graphs, links, model.alignment_window_size)
    if fixed:  # a point whose partner cannot move takes the whole correction the two would share in a fit
        n_fixed = sum(lay.embedding.shape[0] for lay in fixed)
        relations = relations @ sp.diags(np.where(np.arange(relations.shape[1]) < n_fixed, 2.0, 1.0))
    per_block = [_layout(p) for p in params]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*no edges in the fuzzy graph")  # said per slice, as NaN rows
        return embed_graph(
            graphs,
            n_components=model.n_components,
            init=inits,
            n_epochs=epochs,
            random_state=int(rng.integers(2**63 - 1)),
            **{k: [b[k] for b in per_block] for k in ("min_dist", "spread", "a", "b")},
            learning_rate=model.learning_rate,
            repulsion_strength=model.repulsion_strength,
            negative_sample_rate=model.negative_sample_rate,
            terms=[
                AlignmentTerm(relations, penalty_weight(model.alignment_regularisation, model.negative_sample_rate))
            ],
            n_jobs=model.n_jobs,
            verbose=model.verbose,
        )


def penalty_weight(alignment_regularisation, negative_sample_rate):
    """The ``AlignmentTerm`` weight that gives umap-learn's alignment per epoch: umap-learn takes the
    penalty's step (lam w (y_i - y_r), no factor 2) with every move of a sampled edge, at its head
    and its tail and with each of the head's negative samples, 2 + negative_sample_rate steps a
    sample; the term takes one step a sample, of the gradient 2 lam w (y_i - y_r)."""
    return alignment_regularisation * (2.0 + negative_sample_rate) / 2.0


# ---------------------------------------------------------------------------------------- relations
def alignment_relations(graphs, links, window):
    """The weights w_ir of the alignment penalty, a CSR matrix over the stacked rows of ``graphs``:
    for rows i of slice s and r of slice t, 0 < |s - t| <= ``window``, related through the
    composition of ``links`` (index pairs between consecutive slices) between them,
    w_ir = exp(-(|s - t| - 1)) J(i, r), with J the Jaccard similarity of i's graph neighbours,
    carried into slice t by the relation, and r's graph neighbours that have a relation (umap-learn's
    weighting). 1 where both sets are empty."""
    offsets = np.cumsum([0] + [g.n_vertices for g in graphs])
    adjacency = [_binary(g.graph) for g in graphs]
    rows, cols, weights = [], [], []
    for s in range(len(graphs)):
        carried = sp.identity(graphs[s].n_vertices, format="csr")
        for t in range(s + 1, min(s + window, len(graphs) - 1) + 1):
            n_from, n_to = carried.shape[1], graphs[t].n_vertices
            carried = _binary(carried @ _relation_matrix(links[t - 1], n_from, n_to))
            if carried.nnz == 0:
                break
            decay = np.exp(-(t - s - 1))
            for a, b, R in ((s, t, carried), (t, s, carried.T.tocsr())):
                i, r = R.nonzero()
                rows.append(offsets[a] + i)
                cols.append(offsets[b] + r)
                weights.append(decay * _jaccard(adjacency[a], adjacency[b], R, i, r))
    n = offsets[-1]
    if not rows:
        return sp.csr_matrix((n, n))
    relations = sp.csr_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    relations.eliminate_zeros()
    relations.sort_indices()
    return relations


def _jaccard(A_from, A_to, R, i, r):
    """|M_i & C_r| / |M_i | C_r| for pairs (i, r): M_i = i's neighbours in A_from carried by R, C_r =
    r's neighbours in A_to that are images of R."""
    M = _binary(A_from @ R)
    C = A_to @ sp.diags((np.asarray(R.sum(axis=0)).ravel() > 0).astype(np.float64))
    C.eliminate_zeros()
    inter = np.asarray(M[i].multiply(C[r]).sum(axis=1)).ravel()
    union = np.diff(M.indptr)[i] + np.diff(C.indptr)[r] - inter
    return np.divide(inter, union, out=np.ones(len(i)), where=union > 0)


def _binary(matrix):
    matrix = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    matrix.eliminate_zeros()
    matrix.data[:] = 1.0
    return matrix


def _relation_matrix(pairs, n_from, n_to):
    return sp.csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n_from, n_to))


# ---------------------------------------------------------------------------------------- input checks
def _check_slices(X, minimum=2, name=None):
    """The slices as float32 arrays or CSR matrices, each checked (errors name the slice)."""
    if isinstance(X, np.ndarray) and X.ndim == 3:
        X = list(X)
    if not isinstance(X, (list, tuple)):
        raise ValueError(
            f"AlignedUMAP needs a list of data slices (2-D arrays or sparse matrices); got {type(X).__name__}."
        )
    if len(X) < minimum:
        raise ValueError(f"AlignedUMAP.fit needs at least {minimum} slices to align; got {len(X)}.")
    return [check_array(X_s, name=name or f"slice {s}") for s, X_s in enumerate(X)]


def check_relations(relations, sizes, first=0):
    """One (m, 2) int64 array of (row of slice i, row of slice i + 1) pairs per consecutive pair of
    slices of ``sizes`` rows, from dicts or arrays of pairs, each row checked against its slice
    (errors number the slices from ``first``)."""
    if relations is None:
        raise ValueError(
            "AlignedUMAP needs relations: for each consecutive pair of slices a dict (or an array of pairs) "
            "from rows of slice i to rows of slice i + 1."
        )
    if not isinstance(relations, (list, tuple)) or len(relations) != len(sizes) - 1:
        count = len(relations) if isinstance(relations, (list, tuple)) else type(relations).__name__
        raise ValueError(
            f"relations must have one entry per consecutive pair of slices: {len(sizes) - 1} for "
            f"{len(sizes)} slices; got {count}."
        )
    links = []
    for k, relation in enumerate(relations):
        if isinstance(relation, dict):
            pairs = np.array(list(relation.items()), dtype=np.int64).reshape(-1, 2)
        else:
            pairs = np.asarray(relation)
            if pairs.ndim != 2 or pairs.shape[1] != 2 or (pairs.size and pairs.dtype.kind not in "iu"):
                raise ValueError(
                    f"relations[{k}] must be a dict or an integer array of (row, row) pairs of shape (m, 2); "
                    f"got shape {pairs.shape}, dtype {pairs.dtype}."
                )
            pairs = pairs.astype(np.int64)
        for side, n in ((0, sizes[k]), (1, sizes[k + 1])):
            bad = (pairs[:, side] < 0) | (pairs[:, side] >= n)
            if bad.any():
                raise ValueError(
                    f"relations[{k}] names row {pairs[bad, side][0]} of slice {first + k + side}, which has {n} "
                    f"rows (valid rows 0 to {n - 1})."
                )
        links.append(pairs)
    return links


def _check_labels(y, sizes):
    """One label array (or None) per slice."""
    if y is None:
        return [None] * len(sizes)
    if not isinstance(y, (list, tuple)) or len(y) != len(sizes):
        count = len(y) if isinstance(y, (list, tuple)) else type(y).__name__
        raise ValueError(f"y must be a list of one label array per slice ({len(sizes)}); got {count}.")
    for s, (labels, n) in enumerate(zip(y, sizes, strict=True)):
        if labels is not None and len(labels) != n:
            raise ValueError(f"y[{s}] has {len(labels)} labels, but slice {s} has {n} rows; they must match.")
    return list(y)
