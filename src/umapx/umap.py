"""The UMAP and DensMAP estimators: parameters and their constraints; ``fit`` is ``build_graph`` then
``embed_graph`` (``umapx.pipeline``), and the fitted state is a ``model.Graph`` and a ``model.Layout``."""

from __future__ import annotations

import inspect

import numpy as np

from . import graph as fuzzy
from ._learned import LearnedAttributes
from ._random import hash_rows, seed_key
from ._report import logging_to_stderr
from ._threads import thread_limit
from ._validation import Interval, Options, ParamsMixin, Satisfies, check_array, check_params
from .layout.terms import DensityTerm
from .model import Graph, estimator
from .pipeline import (
    GRAPH_CONSTRAINTS,
    LAYOUT_CONSTRAINTS,
    build_graph,
    check_layout_options,
    check_new_points,
    embed_graph_at,
    grow,
    inverse,
    is_training_data,
    memberships,
    new_point_density,
    new_point_radii,
    place,
    training_rows,
)


def _epoch_list(value):
    return isinstance(value, list) and value and all(Interval(1, np.inf, integer=True).accepts(e) for e in value)


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class Fitted:
    """What every umapx estimator does with its fitted state: tell whether it has one (the attribute
    ``_FITTED``, set by ``_set_fitted_state``), refuse a method that needs it, and save it."""

    _FITTED = "layout_"

    def __sklearn_is_fitted__(self):
        return self._FITTED in vars(self)

    def _check_fitted(self, what):
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet; call fit before {what}.")

    def save(self, path):
        """Write the fitted model to one file (see ``umapx.load``); loading it never runs code."""
        from .io import save

        save(self, path)


class Transformer:
    """scikit-learn's transformer contract for the estimators with ``embedding_`` and ``transform``,
    without importing scikit-learn until it asks (its tags) or a DataFrame comes in."""

    _sparse_input = True  # whether fit takes sparse input (a tag)

    def __sklearn_tags__(self):
        from ._sklearn import tags

        return tags(self)

    def get_feature_names_out(self, input_features=None):
        """Names of the embedding's columns: the class name in lower case and the column's number."""
        self._check_fitted("get_feature_names_out")
        prefix = type(self).__name__.lower()
        return np.array([f"{prefix}{i}" for i in range(self.embedding_.shape[1])], dtype=object)

    def set_output(self, *, transform=None):
        """``transform="pandas"`` makes ``transform`` and ``fit_transform`` return DataFrames (columns
        ``get_feature_names_out()``, the input's index), ``"default"`` arrays; None keeps the setting."""
        if transform not in (None, "default", "pandas"):
            raise ValueError(f"set_output(transform=...) must be one of None, 'default', 'pandas'; got {transform!r}.")
        if transform is not None:
            self._sklearn_output_config = {"transform": transform}  # scikit-learn's name: clone copies it
        return self

    def _wrap_output(self, result, X):
        wanted = getattr(self, "_sklearn_output_config", {}).get("transform", "default")
        if wanted != "pandas" or not isinstance(result, np.ndarray):  # not the radii tuple, not a sparse graph
            return result
        import pandas as pd

        return pd.DataFrame(result, columns=self.get_feature_names_out(), index=getattr(X, "index", None))

    def _check_feature_names(self, X, reset):
        """Record (``reset``) or compare the column names of a DataFrame ``X``, as scikit-learn does."""
        if reset and not hasattr(X, "columns"):
            vars(self).pop("feature_names_in_", None)
        elif hasattr(X, "columns") or "feature_names_in_" in vars(self):
            from sklearn.utils.validation import _check_feature_names

            _check_feature_names(self, X, reset=reset)

    def _feature_names_state(self):
        names = getattr(self, "feature_names_in_", None)
        return {"feature_names_in": None if names is None else [str(name) for name in names]}

    def _set_feature_names_state(self, state):
        if state.get("feature_names_in") is not None:  # older model files lack it
            self.feature_names_in_ = np.array(state["feature_names_in"], dtype=object)


def _fitted(name, doc):
    """A fitted attribute read from the model's ``graph_model_`` or ``layout_``."""
    part, field = name.split(".")

    def get(self):
        self._check_fitted(f"reading {field}")
        return getattr(getattr(self, part), field)

    return property(get, doc=doc)


@estimator
class UMAP(ParamsMixin, Fitted, Transformer, LearnedAttributes):
    """Uniform Manifold Approximation and Projection, with umap-learn's parameters and defaults.

    Seeded runs (``random_state`` set) are bit-identical across runs and across ``n_jobs``, and still
    run in parallel. ``n_jobs=-1`` counts the CPUs of the affinity mask and cgroup quota; a fit uses
    fewer threads than ``n_jobs`` while other processes run on them. See umap-learn's documentation
    for the meaning of each parameter; ``transform_queue_size`` / 4 scales the search breadth of an
    approximate index in ``transform``, and ``angular_rp_forest`` builds pynndescent's trees by angle.

    ``densmap=True`` adds DensMAP's density term (see ``DensMAP``). With ``densmap`` or ``output_dens``
    the fitted ``rad_orig_`` holds the data's log local radii (NaN for a point without graph edges),
    and with ``output_dens`` ``rad_emb_`` holds the embedding's; otherwise they are None.
    Beyond umap-learn (after Damrich & Hamprecht, "On UMAP's true loss function"):

    - ``loss_report``: None, True (25 records per fit), ``"epoch"`` or k (every k-th epoch): record the
      purported loss, the effective loss the sampling optimises and the actual loss of the sampled
      pairs in ``loss_history_``. Records use an unbiased O(n) estimate (see ``umapx.loss``); for
      exact values, keep ``callbacks.EmbeddingSnapshots`` and pass them to ``umapx.loss.losses``.
    - ``callbacks``: callables ``cb(epoch, embedding, record)`` run between epochs; one returning
      True stops the fit (``n_epochs_run_``). See ``umapx.callbacks``.
    - ``negative_sampling``: ``"umap"`` (umap-learn's), ``"push_tail"`` or ``"corrected"``; see
      ``umapx.layout.sampling.sampling_scheme``.

    The fitted state is ``graph_model_`` (a ``umapx.model.Graph``) and ``layout_`` (a
    ``umapx.model.Layout``); ``embedding_``, ``graph_`` and the other fitted attributes read them,
    umap-learn's included (see ``umapx._learned``). ``n_epochs`` may be a list of epochs, as in
    umap-learn: ``embedding_list_`` keeps the layout after each (None for a single ``n_epochs``).
    """

    _parameter_constraints = {
        **GRAPH_CONSTRAINTS,
        **{k: v for k, v in LAYOUT_CONSTRAINTS.items() if k != "terms"},
        "n_epochs": [*LAYOUT_CONSTRAINTS["n_epochs"], Satisfies(_epoch_list, "a list of positive ints")],
        "transform_queue_size": [Interval(0, np.inf, open_low=True)],
        "transform_seed": [Interval(0, np.inf, integer=True)],
        "transform_mode": [Options(("embedding", "graph"))],
        "densmap": [Options((True, False))],
        "dens_lambda": [Interval(0, np.inf)],
        "dens_frac": [Interval(0, 1)],
        "dens_var_shift": [Interval(0, np.inf)],
    }

    def __init__(
        self,
        n_neighbors=15,
        n_components=2,
        metric="euclidean",
        metric_kwds=None,
        output_metric="euclidean",
        output_metric_kwds=None,
        n_epochs=None,
        learning_rate=1.0,
        init="spectral",
        min_dist=0.1,
        spread=1.0,
        low_memory=True,
        n_jobs=-1,
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
        transform_mode="embedding",
        force_approximation_algorithm=False,
        verbose=False,
        tqdm_kwds=None,
        unique=False,
        densmap=False,
        dens_lambda=2.0,
        dens_frac=0.3,
        dens_var_shift=0.1,
        output_dens=False,
        disconnection_distance=None,
        precomputed_knn=(None, None, None),
        loss_report=None,
        callbacks=None,
        negative_sampling="umap",
    ):
        params = dict(locals())
        del params["self"]
        vars(self).update(params)

    def _check_params(self):
        check_params(type(self).__name__, self.get_params(), self._parameter_constraints)
        check_layout_options(self._layout_params())

    def _graph_params(self):
        return self._stage_params(GRAPH_CONSTRAINTS)

    def _layout_params(self):
        return {**self._stage_params(LAYOUT_CONSTRAINTS), "terms": self._terms()}

    def _stage_params(self, constraints):
        """UMAP's parameters that a stage takes (a subclass may expose fewer and leave the rest at UMAP's values)."""
        return {name: getattr(self, name) for name in UMAP._param_names() if name in constraints}

    def _terms(self):
        return [DensityTerm(self.dens_lambda, self.dens_frac, self.dens_var_shift)] if self.densmap else []

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, ensure_all_finite=True):
        """Embed ``X`` (n_samples x n_features, dense or sparse; a distance matrix for 'precomputed').
        ``ensure_all_finite=False`` lets NaN through to a metric function that handles it."""
        self._check_params()
        graph = build_graph(X, y, **self._graph_params(), ensure_all_finite=ensure_all_finite)
        layout, listed = embed_graph_at(graph, **self._layout_params())
        self._check_feature_names(X, reset=True)
        self.graph_model_, self.layout_, self.embedding_list_ = graph, layout, listed
        vars(self).pop("_assigned", None)
        return self

    def fit_transform(self, X, y=None, ensure_all_finite=True):
        """Fit and return ``embedding_``, or ``(embedding_, rad_orig_, rad_emb_)`` with ``output_dens=True``."""
        self.fit(X, y, ensure_all_finite=ensure_all_finite)
        return self._wrap_output(self._training_result(), X)

    def _training_result(self, copy=False):
        result = (self.embedding_, self.rad_orig_, self.rad_emb_) if self.output_dens else (self.embedding_,)
        result = tuple(r.copy() if copy and r is not None else r for r in result)
        return result if self.output_dens else result[0]

    rad_orig_ = _fitted("layout_.rad_orig", "Log local radii of the data (densmap or output_dens).")
    rad_emb_ = _fitted("layout_.rad_emb", "Log local radii of the embedding (output_dens).")
    loss_history_ = _fitted("layout_.loss_history", "Loss records of the fit (loss_report).")
    n_epochs_run_ = _fitted("layout_.n_epochs_run", "Epochs the fit ran (fewer when a callback stopped it).")
    a_ = _fitted("layout_.a", "a of the curve 1 / (1 + a d^2b).")
    b_ = _fitted("layout_.b", "b of the curve 1 / (1 + a d^2b).")
    graph_ = _fitted("graph_model_.graph", "The fuzzy simplicial set (CSR, n_samples x n_samples).")
    graph_dists_ = _fitted("graph_model_.graph_dists", "The data distances of the kNN edges (CSR).")
    n_features_in_ = _fitted("graph_model_.n_features", "The number of features of the training data.")

    # ------------------------------------------------------------------ new data
    def transform(self, X, ensure_all_finite=True):
        """Embed new points into the fitted embedding.

        Each new point gets fuzzy memberships to its ``n_neighbors`` nearest training points (as in
        umap-learn), starts at the membership-weighted mean of their embedding and is optimised
        against the fixed training embedding for a third of the fit's epochs at a quarter of its
        learning rate. A point's result depends on that point alone and is bit-identical across
        calls and thread counts (its negative samples are keyed by its own neighbours). With
        ``transform_mode='graph'`` the memberships (CSR, n_new x n_train) are returned instead. For
        ``metric='precomputed'``, ``X`` holds the distances from each new point to every training point.

        DensMAP models (umap-learn has no DensMAP transform) add the density term in the last
        ``dens_frac`` of these epochs, against the fixed training layout (``pipeline.new_point_density``).
        With ``output_dens=True`` the result is ``(embedding, r_orig, r_emb)``, the new points' log
        radii in the data and in the embedding, as ``rad_orig_`` and ``rad_emb_``. A row equal to a
        training row gets that row's embedding (and radii), as umap-learn does for its training data.
        """
        self._from_assigned()
        rows = self._check_new_data(X, "transform", ensure_all_finite)
        if self.transform_mode == "embedding" and is_training_data(self.graph_model_, rows):
            return self._wrap_output(self._training_result(copy=True), X)
        return self._wrap_output(self._transform(rows), X)

    def _transform(self, X):
        from .metrics import resolve_metric
        from .neighbors import ExactIndex

        graph, layout = self.graph_model_, self.layout_
        with thread_limit(self.n_jobs) as threads:
            mu, keys, idx, dist = memberships(
                graph, X, seed=self.transform_seed, n_jobs=threads.count, breadth=self.transform_queue_size / 4.0
            )
            if self.transform_mode == "graph":
                return mu
            rad_orig = new_point_radii(graph, idx, dist) if self.densmap or self.output_dens else None
            density = (
                None
                if not self.densmap
                else new_point_density(graph, layout, rad_orig, self.dens_lambda, self.dens_frac, self.dens_var_shift)
            )
            embedding = place(
                graph,
                layout,
                mu,
                keys,
                seed=self.transform_seed,
                learning_rate=self.learning_rate,
                repulsion_strength=self.repulsion_strength,
                negative_sample_rate=self.negative_sample_rate,
                density=density,
            )
            seen, vertex = training_rows(graph, X, idx)
            embedding[seen] = graph.per_vertex(layout.embedding)[vertex]
            if not self.output_dens:
                return embedding
            euclidean = resolve_metric("euclidean", None, self.n_components)
            training = ExactIndex(graph.per_vertex(layout.embedding))
            emb_idx, emb_dist = training.query(embedding, graph.n_neighbors, euclidean, n_jobs=threads.count)
            rad_emb = new_point_radii(graph, emb_idx, emb_dist, power=1)
            rad_orig[seen], rad_emb[seen] = (graph.per_vertex(r)[vertex] for r in (layout.rad_orig, layout.rad_emb))
            return embedding, rad_orig, rad_emb

    def inverse_transform(self, Y):
        """Map points of the embedding back to the input space: the phi-weighted mean of the input
        vectors of their ``n_neighbors`` nearest training points in the embedding (see
        ``pipeline.inverse``). umap-learn goes on to refine that mean by SGD in input space; umapx
        returns the mean itself, which depends on ``Y`` alone."""
        self._check_fitted("inverse_transform")
        Y = check_array(Y, name="Y", min_samples=1)
        if Y.shape[1] != self.n_components:
            raise ValueError(f"Y has {Y.shape[1]} columns, but the embedding has n_components={self.n_components}.")
        with thread_limit(self.n_jobs) as threads:
            return inverse(self.graph_model_, self.layout_, Y, n_jobs=threads.count)

    def update(self, X, ensure_all_finite=True):
        """Add the rows of ``X`` to the fitted model without refitting: progressive UMAP (002 Alg. 3,
        see ``pipeline.grow``). A failed update leaves the model as it was."""
        X = self._check_new_data(X, "update", ensure_all_finite)
        graph = self.graph_model_
        if (
            graph.metric.name == "precomputed"
            or graph.supervised
            or graph.unique_inverse is not None
            or self.densmap
            or self.output_dens
        ):
            raise ValueError(
                "update needs a model fitted without labels, on feature vectors (not "
                "metric='precomputed'), with unique=False and without densmap or output_dens."
            )
        key = int(hash_rows(np.array([[seed_key(self.random_state), graph.n_vertices]]))[0])
        with logging_to_stderr(self.verbose), thread_limit(self.n_jobs) as threads:
            self.graph_model_, self.layout_ = grow(
                graph,
                self.layout_,
                X,
                key=key,
                deterministic=self.random_state is not None,
                n_jobs=threads.count,
                learning_rate=self.learning_rate,
                repulsion_strength=self.repulsion_strength,
                negative_sample_rate=self.negative_sample_rate,
            )
        self.embedding_list_ = None  # the layouts of the fit's epochs hold the earlier points only
        return self

    def _check_new_data(self, X, what, ensure_all_finite=True):
        self._check_fitted(what)
        self._check_feature_names(X, reset=False)
        return check_new_points(self.graph_model_, X, what, ensure_all_finite)

    # ------------------------------------------------------------------ composition
    def __add__(self, other):
        """Fuzzy union of the two models' graphs, embedded afresh."""
        return self._combine(other, "union")

    def __mul__(self, other):
        """Fuzzy intersection of the two models' graphs, embedded afresh."""
        return self._combine(other, "intersection")

    def __sub__(self, other):
        """This model's graph without the other's (fuzzy difference), embedded afresh."""
        return self._combine(other, "difference")

    def _combine(self, other, op):
        """A fitted model (with this model's parameters) of the combined graph of two models fitted on
        the same samples, e.g. with different features or metrics."""
        if not isinstance(other, UMAP):
            return NotImplemented
        self._check_fitted(f"the {op} of models")
        other._check_fitted(f"the {op} of models")
        if self.graph_.shape != other.graph_.shape:
            raise ValueError(
                f"models can be combined only when fitted on the same samples; got "
                f"{self.graph_.shape[0]} and {other.graph_.shape[0]} samples."
            )
        mine = self.graph_model_
        graph = Graph(
            graph=fuzzy.combine(self.graph_, other.graph_, op), metric=mine.metric, n_neighbors=mine.n_neighbors
        )
        result = type(self)(**self.get_params())
        init = "random" if isinstance(self.init, str) and self.init == "random" else "spectral"
        layout, _ = embed_graph_at(
            graph, **{**result._layout_params(), "init": init, "terms": [], "output_dens": False}
        )
        result.graph_model_, result.layout_, result.embedding_list_ = graph, layout, None
        return result

    # ------------------------------------------------------------------ persistence
    def _fitted_state(self):
        self._from_assigned()
        self._check_fitted("save")
        state = {"graph": self.graph_model_, "layout": self.layout_, **self._feature_names_state()}
        return {**state, "embedding_list": getattr(self, "embedding_list_", None)}

    def _set_fitted_state(self, state):
        self.graph_model_, self.layout_ = state["graph"], state["layout"]
        self.embedding_list_ = state.get("embedding_list")  # older model files lack it
        self._set_feature_names_state(state)


def _with_defaults(signature, **defaults):
    """``signature`` with new defaults for the named parameters."""
    return signature.replace(
        parameters=[p.replace(default=defaults.get(p.name, p.default)) for p in signature.parameters.values()]
    )


_DENSMAP_SIGNATURE = _with_defaults(inspect.signature(UMAP.__init__), densmap=True)


@estimator
class DensMAP(UMAP):
    """UMAP with ``densmap=True`` by default: keeps the data's relative local densities (Narayan et al. 2021).

    Same parameters as ``UMAP``; ``dens_lambda`` weighs the density term, ``dens_frac`` is the final
    fraction of epochs it acts in, and ``output_dens=True`` makes ``fit_transform`` also return the
    log local radii ``rad_orig_`` and ``rad_emb_``. The term's gradient is taken along every edge in
    every epoch it is on, each edge's step clipped at what umap-learn's sampled step delivers at most
    in expectation (see ``umapx.density``), so ``dens_lambda`` weighs about as it does in umap-learn.
    On mnist_test (seeds 0-4) ``dens_lambda`` 0.1 / 2 / 5 give a radii correlation of .60 / .77 / .79
    (umap-learn .80 / .81 at 2 / 5), trustworthiness .96 / .92 / .87 (umap-learn .93 / .89) and
    10-NN accuracy .945 / .924 / .889 (plain UMAP .945).
    """

    def __init__(self, *args, **kwargs):
        bound = _DENSMAP_SIGNATURE.bind(self, *args, **kwargs)
        bound.apply_defaults()
        super().__init__(*bound.args[1:], **bound.kwargs)

    __init__.__signature__ = _DENSMAP_SIGNATURE
