"""The UMAP estimator: validates, then runs the stages neighbours -> graph -> init -> optimise."""
from __future__ import annotations

import inspect
import logging
import time
import warnings
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp

from . import graph as fuzzy
from ._random import as_generator, hash_rows, seed_key
from ._threads import thread_limit
from ._validation import ARRAY, DICT, NONE, Interval, Kind, Options, ParamsMixin, check_array, check_labels, check_params
from .density import DensityTerm, correlation_stats, embedding_log_radii, log_radii, radius_stats, standardise
from .metrics import ALIASES, METRICS, OUTPUT_METRICS, resolve_metric, resolve_output_metric
from .optimize import NEGATIVE_SAMPLING, default_n_epochs, find_ab_params, optimize_layout, prune

log = logging.getLogger("umapx")

_POSITIVE = Interval(0, np.inf, open_low=True)
LOSS_REPORT_RECORDS = 25  # loss records per fit with loss_report=True
_METRIC = Kind((str, object), "a metric name or a numba-jitted function")

_CONSTRAINTS = {
    "n_neighbors": [Interval(2, np.inf)],
    "n_components": [Interval(1, np.inf, integer=True)],
    "metric": [_METRIC],
    "metric_kwds": [NONE, DICT],
    "output_metric": [_METRIC],
    "output_metric_kwds": [NONE, DICT],
    "n_epochs": [NONE, Interval(0, np.inf, integer=True)],
    "learning_rate": [_POSITIVE],
    "init": [Options(("spectral", "pca", "random")), ARRAY],
    "min_dist": [Interval(0, np.inf)],
    "spread": [_POSITIVE],
    "low_memory": [Options((True, False))],
    "n_jobs": [NONE, Interval(-np.inf, np.inf, integer=True)],
    "set_op_mix_ratio": [Interval(0, 1)],
    "local_connectivity": [Interval(0, np.inf)],
    "repulsion_strength": [Interval(0, np.inf)],
    "negative_sample_rate": [Interval(0, np.inf)],
    "transform_queue_size": [_POSITIVE],
    "a": [NONE, _POSITIVE],
    "b": [NONE, _POSITIVE],
    "random_state": [NONE, Interval(0, np.inf, integer=True), Kind((np.random.Generator, np.random.RandomState), "a numpy random generator")],
    "angular_rp_forest": [Options((True, False))],
    "target_n_neighbors": [Interval(-1, -1, integer=True), Interval(2, np.inf, integer=True)],
    "target_metric": [_METRIC],
    "target_metric_kwds": [NONE, DICT],
    "target_weight": [Interval(0, 1)],
    "transform_seed": [Interval(0, np.inf, integer=True)],
    "transform_mode": [Options(("embedding", "graph"))],
    "force_approximation_algorithm": [Options((True, False))],
    "verbose": [Options((True, False))],
    "tqdm_kwds": [NONE, DICT],
    "unique": [Options((True, False))],
    "densmap": [Options((True, False))],
    "dens_lambda": [Interval(0, np.inf)],
    "dens_frac": [Interval(0, 1)],
    "dens_var_shift": [Interval(0, np.inf)],
    "output_dens": [Options((True, False))],
    "disconnection_distance": [NONE, _POSITIVE],
    "precomputed_knn": [Kind((tuple, list), "a tuple (knn_indices, knn_dists, knn_search_index)")],
    "loss_report": [NONE, Options((True, "epoch")), Interval(1, np.inf, integer=True)],
    "callbacks": [NONE, Kind((list, tuple), "a list of callables cb(epoch, embedding, record)")],
    "negative_sampling": [Options(NEGATIVE_SAMPLING)],
}


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class UMAP(ParamsMixin):
    """Uniform Manifold Approximation and Projection, with umap-learn's parameters and defaults.

    Seeded runs (``random_state`` set) are bit-identical across runs and across ``n_jobs``, and still
    use every thread given. See umap-learn's documentation for the meaning of each parameter.

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
      ``umapx.optimize.sampling_scheme``.
    """

    def __init__(self, n_neighbors=15, n_components=2, metric="euclidean", metric_kwds=None,
                 output_metric="euclidean", output_metric_kwds=None, n_epochs=None, learning_rate=1.0,
                 init="spectral", min_dist=0.1, spread=1.0, low_memory=True, n_jobs=-1, set_op_mix_ratio=1.0,
                 local_connectivity=1.0, repulsion_strength=1.0, negative_sample_rate=5,
                 transform_queue_size=4.0, a=None, b=None, random_state=None, angular_rp_forest=False,
                 target_n_neighbors=-1, target_metric="categorical", target_metric_kwds=None, target_weight=0.5,
                 transform_seed=42, transform_mode="embedding", force_approximation_algorithm=False,
                 verbose=False, tqdm_kwds=None, unique=False, densmap=False, dens_lambda=2.0, dens_frac=0.3,
                 dens_var_shift=0.1, output_dens=False, disconnection_distance=None,
                 precomputed_knn=(None, None, None), loss_report=None, callbacks=None, negative_sampling="umap"):
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.metric = metric
        self.metric_kwds = metric_kwds
        self.output_metric = output_metric
        self.output_metric_kwds = output_metric_kwds
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.init = init
        self.min_dist = min_dist
        self.spread = spread
        self.low_memory = low_memory
        self.n_jobs = n_jobs
        self.set_op_mix_ratio = set_op_mix_ratio
        self.local_connectivity = local_connectivity
        self.repulsion_strength = repulsion_strength
        self.negative_sample_rate = negative_sample_rate
        self.transform_queue_size = transform_queue_size
        self.a = a
        self.b = b
        self.random_state = random_state
        self.angular_rp_forest = angular_rp_forest
        self.target_n_neighbors = target_n_neighbors
        self.target_metric = target_metric
        self.target_metric_kwds = target_metric_kwds
        self.target_weight = target_weight
        self.transform_seed = transform_seed
        self.transform_mode = transform_mode
        self.force_approximation_algorithm = force_approximation_algorithm
        self.verbose = verbose
        self.tqdm_kwds = tqdm_kwds
        self.unique = unique
        self.densmap = densmap
        self.dens_lambda = dens_lambda
        self.dens_frac = dens_frac
        self.dens_var_shift = dens_var_shift
        self.output_dens = output_dens
        self.disconnection_distance = disconnection_distance
        self.precomputed_knn = precomputed_knn
        self.loss_report = loss_report
        self.callbacks = callbacks
        self.negative_sampling = negative_sampling

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        check_params(type(self).__name__, self.get_params(), _CONSTRAINTS)
        if self.min_dist > self.spread:
            raise ValueError(f"min_dist ({self.min_dist}) must not exceed spread ({self.spread}).")
        if (self.densmap or self.output_dens) and ALIASES.get(self.output_metric, self.output_metric) != "euclidean":
            raise ValueError(f"densmap and output_dens need output_metric='euclidean' (the local radii are "
                             f"euclidean); got output_metric={self.output_metric!r}.")
        if (self.loss_report is not None or self.callbacks) and self.output_metric not in ("euclidean", "l2"):
            raise ValueError(f"loss_report and callbacks need output_metric='euclidean'; got {self.output_metric!r}.")
        if self.callbacks and not all(callable(cb) for cb in self.callbacks):
            raise ValueError("callbacks must be callables cb(epoch, embedding, record).")

    def _check_input(self, X):
        precomputed = isinstance(self.metric, str) and self.metric == "precomputed"
        X = check_array(X, min_samples=2)
        if precomputed:
            if X.shape[0] != X.shape[1]:
                raise ValueError(f"metric='precomputed' needs a square distance matrix; got shape {X.shape}.")
            values = X.data if sp.issparse(X) else X
            if (values < 0).any():
                raise ValueError("metric='precomputed' needs non-negative distances; the matrix has negative entries.")
        return X

    def _check_init(self, n):
        if isinstance(self.init, str):
            return self.init
        init = np.asarray(self.init, dtype=np.float64)
        if init.shape != (n, self.n_components):
            raise ValueError(f"init array must have shape (n_samples, n_components) = {(n, self.n_components)}; "
                             f"got {init.shape}.")
        if not np.all(np.isfinite(init)):
            raise ValueError("init array contains NaN or infinity.")
        return init

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Embed ``X`` (n_samples x n_features, dense or sparse; a distance matrix for 'precomputed')."""
        self._check_params()
        X = self._check_input(X)
        n = X.shape[0]
        y = None if y is None else check_labels(y, n)
        dense_features = not sp.issparse(X) and not (isinstance(self.metric, str) and self.metric == "precomputed")
        if self.unique and not dense_features:
            warnings.warn("unique=True applies to dense feature input only; it is ignored for sparse or "
                          "precomputed input.", stacklevel=2)
        if self.unique and dense_features:
            _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
            order = np.argsort(first)
            keep, rank = first[order], np.empty_like(order)
            rank[order] = np.arange(len(order))
            unique_inverse = rank[inverse.ravel()]
            X, y = X[keep], None if y is None else y[keep]
        else:
            unique_inverse = None
        init = self._check_init(X.shape[0])
        with _logging(self.verbose), thread_limit(self.n_jobs) as threads:
            fitted = self._fit_embedding(X, y, init, threads)
        if unique_inverse is not None:
            for name in ("embedding_", "rad_orig_", "rad_emb_"):
                if fitted[name] is not None:
                    fitted[name] = fitted[name][unique_inverse]
        fitted["_unique_inverse"] = unique_inverse
        self.__dict__.update(fitted)
        return self

    def fit_transform(self, X, y=None):
        """Fit and return ``embedding_``, or ``(embedding_, rad_orig_, rad_emb_)`` with ``output_dens=True``."""
        self.fit(X, y)
        return (self.embedding_, self.rad_orig_, self.rad_emb_) if self.output_dens else self.embedding_

    def _fit_embedding(self, X, y, init, threads):
        """Run the stages; returns the fitted attributes, so a failure leaves a fitted model as it was."""
        n = X.shape[0]
        k = int(self.n_neighbors)
        if k >= n:
            warnings.warn(f"n_neighbors ({k}) is not smaller than the number of samples ({n}); using {n - 1}.",
                          stacklevel=3)
            k = n - 1
        metric = resolve_metric(self.metric, self.metric_kwds, X.shape[1])
        output_metric = resolve_output_metric(self.output_metric, self.output_metric_kwds, self.n_components)
        rng = as_generator(self.random_state)
        key = seed_key(rng)

        with _stage("nearest neighbours"), self._progress(n, "points", "kNN") as bar:
            knn_idx, knn_dist, hnsw = self._neighbors(X, k, metric, key, threads, bar)
        with _stage("fuzzy simplicial set"):
            idx, dist = self._disconnect(knn_idx, knn_dist, metric)
            graph, sigmas, rhos = fuzzy.fuzzy_simplicial_set(
                idx, dist, set_op_mix_ratio=self.set_op_mix_ratio, local_connectivity=self.local_connectivity)
            if y is not None:
                graph = self._supervise(graph, y, threads, key)
        graph_dists = fuzzy.knn_distance_graph(idx, dist)
        fitted = self._embed_graph(graph, None if metric.name == "precomputed" else X, init, rng, key, threads,
                                   output_metric, graph_dists)
        return {**fitted, "graph_dists_": graph_dists,
                "_knn_indices": knn_idx, "_knn_dists": knn_dist, "_sigmas": sigmas, "_rhos": rhos,
                "_knn_mean": fuzzy.mean_distance(dist), "_n_neighbors": k, "_metric": metric,
                "n_features_in_": X.shape[1], "_raw_data": X, "_hnsw": hnsw, "_supervised": y is not None}

    def _embed_graph(self, graph, X, init, rng, key, threads, output_metric, graph_dists=None):
        """Initialise and optimise a layout of ``graph``; returns the fitted attributes it sets.
        DensMAP's radii need ``graph_dists``, the data distances of the graph's edges."""
        a, b = self._curve()
        n_epochs = self._fit_epochs(graph.shape[0])
        rad_orig = rad_mean = rad_std = density = None
        if (self.densmap or self.output_dens) and graph_dists is not None:
            # data radii on the edges the layout optimises: the graph pruned as optimize_layout prunes it (002 eq. 30)
            rad_orig = log_radii(prune(graph, n_epochs, graph.data.max()) if n_epochs else graph, graph_dists)
            rad_mean, rad_std = radius_stats(rad_orig)
        if self.densmap and rad_orig is not None:
            density = DensityTerm(standardise(rad_orig, rad_mean, rad_std), self.dens_lambda, self.dens_frac,
                                  self.dens_var_shift)
        with _stage("initialisation"):
            layout = self._initialise(graph, X, init, rng)
        monitor = self._monitor(graph, n_epochs, a, b)
        with _stage(f"optimisation ({n_epochs} epochs, {threads} threads)"), self._progress(n_epochs, "epochs", "layout") as bar:
            layout = optimize_layout(layout, graph, n_epochs, a=a, b=b, key=key,
                                     output_metric=output_metric, gamma=self.repulsion_strength,
                                     learning_rate=self.learning_rate, negative_sample_rate=self.negative_sample_rate,
                                     negative_sampling=self.negative_sampling, density=density, monitor=monitor,
                                     progress=bar)
        self._warn_isolated(graph)
        rad_emb = None
        if self.output_dens and rad_orig is not None:
            with _stage("embedding radii"):
                rad_emb = self._embedding_radii(layout, int(min(self.n_neighbors, graph.shape[0] - 1)), key, threads)
        return {"embedding_": layout, "graph_": graph, "_a": a, "_b": b, "_output_metric": output_metric,
                "rad_orig_": rad_orig, "rad_emb_": rad_emb, "_rad_orig_mean": rad_mean, "_rad_orig_std": rad_std,
                "loss_history_": None if monitor is None else monitor.loss_history(),
                "n_epochs_run_": n_epochs if monitor is None or monitor.stopped_epoch is None else monitor.stopped_epoch}

    def _monitor(self, graph, n_epochs, a, b):
        if self.loss_report is None and not self.callbacks:
            return None
        from .loss import LossMonitor

        if self.loss_report is True:
            every = max(1, n_epochs // LOSS_REPORT_RECORDS)
        else:
            every = 1 if self.loss_report == "epoch" else self.loss_report
        return LossMonitor(graph, n_epochs, a=a, b=b, negative_sample_rate=self.negative_sample_rate,
                           gamma=self.repulsion_strength, corrected=self.negative_sampling == "corrected",
                           every=every, callbacks=self.callbacks or (), log=log)

    def _curve(self):
        if self.a is not None and self.b is not None:
            return self.a, self.b
        return find_ab_params(self.spread, self.min_dist)

    def _fit_epochs(self, n):
        return self.n_epochs if self.n_epochs is not None else default_n_epochs(n)

    @property
    def a_(self):
        return self._a

    @property
    def b_(self):
        return self._b

    # ------------------------------------------------------------------ new data
    def transform(self, X):
        """Embed new points into the fitted embedding.

        Each new point gets fuzzy memberships to its ``n_neighbors`` nearest training points (local
        connectivity lowered by one, as in umap-learn), starts at the membership-weighted mean of
        their embedding and is optimised against the fixed training embedding for a third of the
        fit's epochs at a quarter of its learning rate. A point's result depends on that point alone,
        never on the other points in the call, and is bit-identical across calls and thread counts:
        its negative samples are keyed by ``transform_seed`` and its own neighbours. With
        ``transform_mode='graph'`` the memberships (CSR, n_new x n_train) are returned instead. For
        ``metric='precomputed'``, ``X`` holds the distances from each new point to every training point.

        DensMAP models (umap-learn has no DensMAP transform) add the density term in the last
        ``dens_frac`` of these epochs, against the fixed training layout: a new point's data radius
        (its n_neighbors - 1 nearest training points, memberships as in a fit) is standardised with
        the training radii's mean and deviation, and the point follows its own term of the training
        correlation between data and embedding radii (002 eq. 35), whose statistics stay fixed. With
        ``output_dens=True`` the result is ``(embedding, r_orig, r_emb)``, the new points' log radii
        in the data and in the embedding (their nearest embedded training points), as ``rad_orig_``
        and ``rad_emb_``.
        """
        X = self._check_new_data(X, "transform")
        with thread_limit(self.n_jobs) as threads:
            graph, keys, idx, dist = self._memberships(X, threads)
            if self.transform_mode == "graph":
                return graph
            rad_orig = self._new_point_radii(idx, dist) if self.densmap or self.output_dens else None
            embedding = self._place(graph, keys, self._new_point_density(rad_orig) if self.densmap else None)
            if not self.output_dens:
                return embedding
            from .neighbors import query_neighbors

            euclidean = resolve_metric("euclidean", None, self.n_components)
            tail = self._training_embedding()
            emb_idx, emb_dist = query_neighbors(tail, embedding, self._n_neighbors, euclidean, n_jobs=threads)
            return embedding, rad_orig, self._new_point_radii(emb_idx, emb_dist, power=1)

    def _new_point_radii(self, idx, dist, power=2):
        """Log local radii of new points (002 eq. 30) from their nearest training points, with the
        memberships a fit gives a point: itself first, then its n_neighbors - 1 nearest; ``power``
        as in ``log_radii`` (1 for ``rad_emb_``)."""
        m, k = idx.shape
        rows = np.concatenate([np.arange(m)[:, None] + self._raw_data.shape[0], idx[:, :k - 1]], axis=1)
        dists = np.concatenate([np.zeros((m, 1), dtype=np.float32), dist[:, :k - 1]], axis=1)
        sigma, rho = fuzzy.smooth_knn_dist(dists, k, float(self.local_connectivity), self._knn_mean)
        mu = fuzzy.membership_strengths(rows, dists, sigma, rho, False)
        mu[:, 0] = 0.0
        return log_radii(sp.csr_matrix(mu), sp.csr_matrix(dists), power)

    def _new_point_density(self, rad_orig):
        """The density term of new points against the fitted layout (see ``transform``)."""
        graph = prune(self.graph_, self._fit_epochs(self._raw_data.shape[0]), self.graph_.data.max())
        tail = self._training_embedding().astype(np.float64)
        r, phi_sum = np.zeros(tail.shape[0]), np.zeros(tail.shape[0])
        embedding_log_radii(tail, tail, graph.indptr.astype(np.int64), graph.indices.astype(np.int64),
                            self._a, self._b, r, phi_sum)
        R = standardise(self._per_training_row(self.rad_orig_), self._rad_orig_mean, self._rad_orig_std)
        keep = np.isfinite(R)
        scale = float(graph.data.sum() / graph.data.max()) / keep.sum()
        reference = correlation_stats(r[keep], R[keep]) + (scale,)
        return DensityTerm(standardise(rad_orig, self._rad_orig_mean, self._rad_orig_std), self.dens_lambda,
                           self.dens_frac, self.dens_var_shift, reference)

    def _memberships(self, X, threads):
        from .neighbors import query_neighbors

        idx, dist = query_neighbors(self._raw_data, X, self._n_neighbors, self._metric, hnsw=self._hnsw,
                                    seed=self.transform_seed, n_jobs=threads)
        idx, dist = self._disconnect(idx, dist, self._metric)
        graph = fuzzy.new_point_memberships(idx, dist, self._raw_data.shape[0],
                                            local_connectivity=self.local_connectivity,
                                            mean_all=self._knn_mean)
        return graph, hash_rows(np.column_stack([idx, dist.view(np.int32)])), idx, dist

    def _place(self, graph, keys, density=None):
        """Start each new point at the membership-weighted mean of its neighbours' embedding, then
        optimise the new points against the fixed training embedding."""
        tail = self._training_embedding()
        weight = np.asarray(graph.sum(axis=1)).ravel()
        empty = weight == 0
        head = np.ascontiguousarray((graph @ tail) / np.where(empty, 1.0, weight)[:, None], dtype=np.float32)
        if empty.any():
            head[empty] = np.nan
            warnings.warn(f"{empty.sum()} new point(s) have no training neighbour within disconnection_distance "
                          f"(first: {np.nonzero(empty)[0][:5].tolist()}); their embedding is NaN.", stacklevel=3)
        return optimize_layout(head, graph, self._refine_epochs(), a=self._a, b=self._b,
                               key=seed_key(self.transform_seed), output_metric=self._output_metric, tail=tail,
                               row_keys=keys, gamma=self.repulsion_strength, learning_rate=self.learning_rate / 4.0,
                               negative_sample_rate=self.negative_sample_rate, density=density)

    def _refine_epochs(self, share=3):
        """Epochs for placing new points: a third of the fit's for transform; update takes a sixth, as its
        points start beside their nearest neighbour among points that have converged already."""
        return self._fit_epochs(self._raw_data.shape[0]) // share

    def _training_embedding(self):
        """The embedding of each row of ``_raw_data``."""
        return self._per_training_row(self.embedding_)

    def _per_training_row(self, values):
        """``values`` (one per fitted sample) for each row of ``_raw_data``: one per distinct point with unique=True."""
        if self._unique_inverse is None:
            return values
        return np.ascontiguousarray(values[np.unique(self._unique_inverse, return_index=True)[1]])

    def inverse_transform(self, Y):
        """Map points of the embedding back to the input space.

        Each row of ``Y`` is matched with its ``n_neighbors`` nearest training points in the
        embedding (output metric), weighted by the low-dimensional similarity 1 / (1 + a d^2b)
        (002 eq. 12), and returned as the weighted mean of their input vectors: a dense array for
        dense training data, CSR for sparse. umap-learn goes on to refine that mean by SGD in input
        space; umapx returns the mean itself, which depends on ``Y`` alone.
        """
        from .neighbors import query_neighbors

        self._check_fitted("inverse_transform")
        if self._raw_data is None or self._metric.name == "precomputed":
            raise ValueError("inverse_transform needs the training points as feature vectors; this model was "
                             + ("fitted on a precomputed distance matrix." if self._raw_data is not None
                                else "made by combining models (+, *, -)."))
        if self._output_metric.name not in METRICS:
            raise ValueError(f"inverse_transform does not support output_metric={self._output_metric.name!r}; "
                             f"supported: {', '.join(m for m in OUTPUT_METRICS if m in METRICS)}.")
        Y = check_array(Y, name="Y", min_samples=1)
        if Y.shape[1] != self.n_components:
            raise ValueError(f"Y has {Y.shape[1]} columns, but the embedding has n_components={self.n_components}.")
        tail = self._training_embedding()
        metric = resolve_metric(self._output_metric.name, self.output_metric_kwds, self.n_components)
        k = min(self._n_neighbors, tail.shape[0])
        with thread_limit(self.n_jobs) as threads:
            idx, dist = query_neighbors(tail, Y, k, metric, n_jobs=threads)
        w = 1.0 / (1.0 + self._a * dist.astype(np.float64) ** (2.0 * self._b))  # 002 eq. 12
        w /= w.sum(axis=1, keepdims=True)
        W = sp.csr_matrix((w.ravel(), idx.ravel(), np.arange(0, w.size + 1, k)), shape=(len(Y), tail.shape[0]))
        X = W @ self._raw_data
        return sp.csr_matrix(X, dtype=np.float32) if sp.issparse(X) else np.asarray(X, dtype=np.float32)

    def update(self, X):
        """Add the rows of ``X`` to the fitted model without refitting: progressive UMAP (002 Alg. 3).

        The new points' neighbours are searched among all points; an existing point whose kNN list
        gains a new point is updated. The graph is rebuilt with rho and sigma recomputed for the new
        and updated rows only (the others keep theirs, so the graph is the one a fresh fuzzy set of the
        updated kNN lists would give); each new point starts at its nearest existing point's
        embedding plus small Gaussian noise, and only new and updated points are optimised (a sixth
        of the fit's epochs, a quarter of its learning rate) while the rest stay fixed. The kept
        nearest-neighbour index grows with the new points. A failed update leaves the model as it was.
        """
        X = self._check_new_data(X, "update")
        if (self._metric.name == "precomputed" or self._supervised or self._unique_inverse is not None
                or self.densmap or self.output_dens):
            raise ValueError("update needs a model fitted without labels, on feature vectors (not "
                             "metric='precomputed'), with unique=False and without densmap or output_dens.")
        with _logging(self.verbose), thread_limit(self.n_jobs) as threads:
            self.__dict__.update(self._grown(X, threads))
        return self

    def _grown(self, X, threads):
        from .neighbors import hnsw_add, merge_knn, query_neighbors, reverse_neighbors

        old, metric, k = self._raw_data, self._metric, self._n_neighbors
        n, m = old.shape[0], X.shape[0]
        key = int(hash_rows(np.array([[seed_key(self.random_state), n]]))[0])
        new_rows = np.arange(n, n + m)
        with _stage(f"neighbours of {m} new points"):
            to_old = query_neighbors(old, X, min(k, n), metric, hnsw=self._hnsw, seed=key, n_jobs=threads)
            to_new = query_neighbors(X, X, min(k, m), metric, seed=key, n_jobs=threads, self_index=np.arange(m))
            new_idx, new_dist = merge_knn(to_old, (to_new[0] + n, to_new[1]), k, new_rows)
            knn_idx, knn_dist, changed = reverse_neighbors(self._knn_indices, self._knn_dists, new_idx, new_dist, n)
            knn_idx, knn_dist = np.concatenate([knn_idx, new_idx]), np.concatenate([knn_dist, new_dist])
        with _stage("fuzzy simplicial set"):
            idx, dist = self._disconnect(knn_idx, knn_dist, metric)
            graph, sigmas, rhos = fuzzy.fuzzy_simplicial_set(
                idx, dist, set_op_mix_ratio=self.set_op_mix_ratio, local_connectivity=self.local_connectivity,
                known=(self._sigmas, self._rhos, changed))
        rng = np.random.default_rng(key)
        noise = rng.normal(scale=0.01 * self.embedding_.std(axis=0), size=(m, self.n_components))
        layout = np.concatenate([self.embedding_, self.embedding_[to_old[0][:, 0]] + noise]).astype(np.float32)
        heads = np.concatenate([np.nonzero(changed)[0], new_rows])
        with _stage(f"optimisation of {len(heads)} new and updated points"):
            layout[heads] = optimize_layout(layout[heads], graph[heads], self._refine_epochs(6), a=self._a, b=self._b,
                                            key=key, output_metric=self._output_metric, tail=layout, rows=heads,
                                            gamma=self.repulsion_strength, learning_rate=self.learning_rate / 4.0,
                                            negative_sample_rate=self.negative_sample_rate)
        data = sp.vstack([old, X], format="csr") if sp.issparse(old) else np.concatenate([old, X])
        if self._hnsw is not None:
            hnsw_add(self._hnsw, X, new_rows, metric.name, threads, self.random_state is not None)
        return {"embedding_": layout, "graph_": graph, "graph_dists_": fuzzy.knn_distance_graph(idx, dist),
                "_knn_indices": knn_idx, "_knn_dists": knn_dist, "_sigmas": sigmas, "_rhos": rhos,
                "_knn_mean": fuzzy.mean_distance(dist), "_raw_data": data}

    def _check_fitted(self, what):
        if not hasattr(self, "embedding_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet; call fit before {what}.")

    def _check_new_data(self, X, what):
        """New points as the training data's kind (dense or CSR), with the training data's width."""
        self._check_fitted(what)
        if self._raw_data is None:
            raise ValueError(f"{what} is not available for a model made by combining models (+, *, -): "
                             "it has no single input space.")
        X = check_array(X, min_samples=1)
        if self._metric.name == "precomputed":
            n = self._raw_data.shape[0]
            if X.shape[1] != n:
                raise ValueError(f"with metric='precomputed', {what} needs the distances from each new point to "
                                 f"the {n} training points, shape (n_new, {n}); got {X.shape}.")
            if ((X.data if sp.issparse(X) else X) < 0).any():
                raise ValueError("metric='precomputed' needs non-negative distances; the matrix has negative entries.")
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but this model was fitted on {self.n_features_in_}.")
        if sp.issparse(X) != sp.issparse(self._raw_data):
            X = sp.csr_matrix(X) if sp.issparse(self._raw_data) else X.toarray()
        return X

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
            raise ValueError(f"models can be combined only when fitted on the same samples; got "
                             f"{self.graph_.shape[0]} and {other.graph_.shape[0]} samples.")
        graph = fuzzy.combine(self.graph_, other.graph_, op)
        result = type(self)(**self.get_params())
        rng = as_generator(self.random_state)
        init = "random" if isinstance(self.init, str) and self.init == "random" else "spectral"
        with _logging(self.verbose), thread_limit(self.n_jobs) as threads:
            fitted = result._embed_graph(graph, None, init, rng, seed_key(rng), threads, self._output_metric)
        result.__dict__.update({**fitted, "graph_dists_": None, "_knn_indices": None, "_knn_dists": None,
                                "_sigmas": None, "_rhos": None, "_knn_mean": None, "_n_neighbors": self._n_neighbors,
                                "_metric": self._metric, "n_features_in_": None, "_raw_data": None,
                                "_hnsw": None, "_supervised": False, "_unique_inverse": None})
        return result

    # ------------------------------------------------------------------ persistence
    def save(self, path):
        """Write the fitted model to one file (see ``umapx.load``); loading it never runs code."""
        from .io import save

        save(self, path)

    # ------------------------------------------------------------------ stages
    def _neighbors(self, X, k, metric, key, threads, progress):
        from .neighbors import EXACT_MAX_SAMPLES, nearest_neighbors

        knn_idx, knn_dist, _ = self.precomputed_knn
        if knn_idx is not None:
            return (*_check_precomputed_knn(knn_idx, knn_dist, X.shape[0], k), None)
        approximate = self.force_approximation_algorithm or X.shape[0] > EXACT_MAX_SAMPLES
        return nearest_neighbors(X, k, metric, approximate=approximate, random_state=self.random_state, seed=key,
                                 n_jobs=threads, low_memory=self.low_memory,
                                 verbose=self.verbose, progress=progress)

    def _disconnect(self, idx, dist, metric):
        """Drop kNN edges at or beyond ``disconnection_distance`` (default: the metric's natural bound)."""
        limit = self.disconnection_distance
        if limit is None:
            limit = METRICS[metric.name].disconnection_distance if metric.name in METRICS else np.inf
        far = dist >= limit
        if far.any():
            log.info("disconnection_distance=%s removes %d kNN edges", limit, far.sum())
            idx, dist = np.where(far, -1, idx), np.where(far, np.inf, dist).astype(np.float32)
        return idx, dist

    def _supervise(self, graph, y, threads, key):
        """Intersect the data graph with the label graph (002, supervised and semi-supervised UMAP)."""
        if self.target_metric == "categorical":
            labels = np.unique(y[y != -1], return_inverse=True)[1]
            codes = np.full(y.shape, -1, dtype=np.int64)
            codes[y != -1] = labels
            far = 2.5 / (1.0 - self.target_weight) if self.target_weight < 1.0 else 1e12
            return fuzzy.categorical_intersection(graph, codes, unknown_dist=1.0, far_dist=far)
        from .neighbors import nearest_neighbors

        target = y.astype(np.float32).reshape(-1, 1)
        k = self.n_neighbors if self.target_n_neighbors == -1 else self.target_n_neighbors
        k = min(int(k), len(y) - 1)
        metric = resolve_metric(self.target_metric, self.target_metric_kwds, 1)
        idx, dist, _ = nearest_neighbors(target, k, metric, seed=key, n_jobs=threads)
        target_graph, _, _ = fuzzy.fuzzy_simplicial_set(idx, dist)
        return fuzzy.reset_local_connectivity(fuzzy.general_intersection(graph, target_graph, self.target_weight))

    def _initialise(self, graph, X, init, rng):
        from .init import INIT_SCALE, initial_layout

        layout = initial_layout(init, graph, X, self.n_components, rng)
        if isinstance(init, str):
            low, high = layout.min(axis=0), layout.max(axis=0)
            layout = INIT_SCALE * (layout - low) / np.where(high > low, high - low, 1.0)
        return np.ascontiguousarray(layout, dtype=np.float32)

    def _embedding_radii(self, layout, k, key, threads):
        """Log local radii of the embedding on its own euclidean kNN fuzzy graph, as umap-learn's
        ``rad_emb_``: 002 eq. 30 applied to the embedding, weighing distances where ``rad_orig_``
        weighs squared distances, as umap-learn does (so the two libraries' correlations compare)."""
        from .neighbors import EXACT_MAX_SAMPLES, nearest_neighbors

        euclidean = resolve_metric("euclidean", None, layout.shape[1])
        idx, dist, _ = nearest_neighbors(layout, k, euclidean, approximate=layout.shape[0] > EXACT_MAX_SAMPLES,
                                      random_state=self.random_state, seed=key, n_jobs=threads)
        emb_graph, _, _ = fuzzy.fuzzy_simplicial_set(idx, dist)
        return log_radii(emb_graph, fuzzy.knn_distance_graph(idx, dist), power=1)

    def _warn_isolated(self, graph):
        degree = np.diff(graph.indptr)
        isolated = np.nonzero(degree == 0)[0]
        if isolated.size:
            warnings.warn(f"{isolated.size} point(s) have no edges in the fuzzy graph (first: {isolated[:5].tolist()}), "
                          "e.g. because of disconnection_distance; they keep their initial position.", stacklevel=4)

    @contextmanager
    def _progress(self, total, unit, desc):
        if not self.verbose:
            yield None
            return
        from tqdm.auto import tqdm

        kwds = {"desc": desc, "unit": unit, **(self.tqdm_kwds or {})}
        with tqdm(total=total, **kwds) as bar:
            yield bar


def _with_defaults(signature, **defaults):
    """``signature`` with new defaults for the named parameters."""
    return signature.replace(parameters=[p.replace(default=defaults.get(p.name, p.default))
                                         for p in signature.parameters.values()])


_DENSMAP_SIGNATURE = _with_defaults(inspect.signature(UMAP.__init__), densmap=True)


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


def _check_precomputed_knn(knn_idx, knn_dist, n, k):
    knn_idx, knn_dist = np.asarray(knn_idx), np.asarray(knn_dist)
    if knn_idx.shape != knn_dist.shape or knn_idx.ndim != 2 or knn_idx.shape[0] != n or knn_idx.shape[1] < k:
        raise ValueError(f"precomputed_knn arrays must both have shape (n_samples, >= n_neighbors) = ({n}, >= {k}); "
                         f"got {knn_idx.shape} and {knn_dist.shape}.")
    return knn_idx[:, :k].astype(np.int32), knn_dist[:, :k].astype(np.float32)


@contextmanager
def _logging(verbose):
    """While fitting with verbose=True, send the 'umapx' logger's INFO records to stderr."""
    if not verbose:
        yield
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s umapx: %(message)s", "%H:%M:%S"))
    previous = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)


@contextmanager
def _stage(name):
    start = time.perf_counter()
    log.info("%s ...", name)
    yield
    log.info("%s done in %.2f s", name, time.perf_counter() - start)
