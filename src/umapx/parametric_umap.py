"""ParametricUMAP: a neural network (torch) learns the map from data to embedding (001, 002 Alg. 2).

A leaf on the stages: ``build_graph`` gives the fuzzy set, ``layout.curve`` the curve's a and b,
``layout.sampling`` the edge schedule; ``parametric.training`` trains the encoder on mini-batches of
edges, with an optional decoder, global-structure loss, classifier head and landmarks. Needs the
``parametric`` extra (``pip install 'umapx[parametric]'``); importing umapx itself never imports torch.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np

try:
    import torch
except ImportError as error:  # the message names the extra (tested by hiding torch)
    raise ImportError(
        "ParametricUMAP needs torch, an optional extra of umapx: pip install 'umapx[parametric]'"
    ) from error

from ._random import as_generator
from ._report import logging_to_stderr, stage
from ._threads import thread_limit, torch_threads
from ._validation import ARRAY, NONE, Interval, Options, ParamsMixin, Satisfies, check_array, check_params
from .layout.curve import find_ab_params
from .layout.sampling import default_n_epochs
from .model import Graph, estimator
from .parametric import networks
from .parametric.training import Data, Nets, Objective, Plan, edge_list, hold_out, train
from .pipeline import GRAPH_CONSTRAINTS, LAYOUT_CONSTRAINTS, build_graph, check_distances
from .umap import UMAP, Fitted, Transformer

#: UMAP's parameters that ParametricUMAP takes, in UMAP's order: the graph's, and the layout's that
#: shape the loss (init and learning_rate do not apply: the network starts from its own weights and
#: trains with ``optimizer``).
UMAP_PARAMS = tuple(
    name
    for name in UMAP._param_names()
    if name in GRAPH_CONSTRAINTS
    or name in ("n_components", "n_epochs", "min_dist", "spread", "a", "b", "repulsion_strength")
    or name in ("negative_sample_rate", "disconnection_distance")
)
#: ParametricUMAP's own parameters and their defaults (umap-learn's names where it has them).
PARAMETRIC_DEFAULTS = {
    "encoder": None,
    "decoder": None,
    "dims": None,
    "batch_size": None,
    "n_training_epochs": 1,
    "optimizer": None,
    "parametric_reconstruction": False,
    "parametric_reconstruction_loss_fcn": None,
    "parametric_reconstruction_loss_weight": 1.0,
    "autoencoder_loss": False,
    "reconstruction_validation": None,
    "loss_report_frequency": 10,
    "global_correlation_loss_weight": 0.0,
    "landmark_loss_weight": 1.0,
    "classifier": False,
    "classifier_loss_weight": 1.0,
    "validation_fraction": 0.0,
    "patience": None,
    "device": "auto",
}
#: Edge samples of the default schedule at most: on fashion_mnist's 60,000 rows 22 graph epochs, a fit of
#: 3.5 minutes on two CPU cores, where the held-out quality has levelled off (held-out trustworthiness at
#: 10 epochs 0.961, 20: 0.960, 30: 0.966; umap-learn's 200 would take 40 minutes).
EDGE_BUDGET = 10_000_000
DEFAULT_BATCH = 1000  # umap-learn's: min(n_vertices, 1000) edges per batch
LEARNING_RATE = 1e-3  # Adam's, as in umap-learn
CHUNK = 1024  # rows per network call in transform: every row goes through a call of this many rows
IG_STEPS = 64  # points on the integrated-gradients path (midpoint rule)


def _sizes(value):
    return (
        isinstance(value, (tuple, list))
        and len(value) > 0
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in value)
    )


_MODULE = Satisfies(lambda v: isinstance(v, torch.nn.Module), "a torch.nn.Module")
_BOOL = Options((True, False))
_WEIGHT = Interval(0, np.inf)
_DEVICE = Satisfies(
    lambda v: isinstance(v, str) and (v in ("auto", "cpu", "mps") or v.startswith("cuda")),
    "'auto', 'cpu', 'cuda', 'cuda:<n>' or 'mps'",
)


def _signature():
    umap = inspect.signature(UMAP.__init__).parameters
    own = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in PARAMETRIC_DEFAULTS.items()]
    params = [umap["self"]] + [umap[n].replace(kind=inspect.Parameter.KEYWORD_ONLY) for n in UMAP_PARAMS] + own
    return inspect.Signature(params)


@estimator
class ParametricUMAP(ParamsMixin, Fitted, Transformer):
    """UMAP whose embedding is the output of a neural network (torch), trained on UMAP's loss over
    mini-batches of the graph's edges (Sainburg, McInnes & Gentner 2021).

    Takes UMAP's graph parameters and ``n_components``, ``n_epochs``, ``min_dist``, ``spread``, ``a``,
    ``b``, ``repulsion_strength``, ``negative_sample_rate`` with UMAP's meaning, and umap-learn's
    ParametricUMAP parameters:

    - ``encoder``: a ``torch.nn.Module`` from rows of features to ``n_components`` (it is copied, not
      trained in place); default umap-learn's 3 x 100 ReLU network, or with an image ``dims`` (h, w),
      (h, w, c) or (c, h, w) a small conv net. ``decoder`` (with ``parametric_reconstruction=True``)
      maps embeddings back to features; default an MLP of 3 x 100 units, as umap-learn's.
    - ``n_epochs``: the graph epochs of the edge schedule: the edge list holds each edge as often as
      the SGD samples it in that many epochs (default umap-learn's 500 up to 10,000 points, else 200,
      but at most as many as give ``EDGE_BUDGET`` = 10 million edge samples); ``n_training_epochs``
      passes over that list; ``batch_size`` edges per step (default min(n, 1000)); ``optimizer`` a
      callable ``params -> torch.optim.Optimizer`` (default Adam, 1e-3). ``encoder``, ``decoder`` and
      ``optimizer`` are where a fit starts: ``save`` keeps the trained networks, not these.
    - ``parametric_reconstruction_loss_fcn``: ``"mse"`` (default) or ``"bce"`` (logits; data in [0, 1]),
      weighted by ``parametric_reconstruction_loss_weight``; with ``autoencoder_loss`` its gradient
      also trains the encoder; ``reconstruction_validation`` rows are scored each epoch.
    - ``global_correlation_loss_weight``: the weight of -corr(data distances, embedding distances)
      over pairs within each batch (001 eq. 5.1); ``landmark_loss_weight`` that of landmarks' distance
      from their positions (``fit(..., landmark_positions=...)``).
    - ``classifier=True``: the semi-supervised model of 001 Fig. 2D: a classifier head beside the
      embedding layer, trained by cross-entropy on the points of ``y`` other than -1 (``predict``,
      ``predict_proba``); otherwise ``y`` supervises the graph, as in ``UMAP``.
    - ``validation_fraction`` of the edges held out and scored ``loss_report_frequency`` times an
      epoch; with ``patience``, training stops after that many scores without improvement.
    - ``device``: ``"auto"`` (a GPU when torch sees one, else the CPU), ``"cpu"``, ``"cuda"``, ...

    What the training optimises is 004 Theorem 5.1's effective loss (see ``parametric.training``).
    Fitted: ``embedding_``, ``encoder_`` (and ``decoder_``, ``classifier_``), ``graph_``, ``a_``,
    ``b_``, ``history_`` (each loss per training epoch), ``batch_history_`` (``loss_report_frequency``
    times an epoch), ``feature_mean_`` (the default baseline of ``explain``). Seeded runs on the CPU
    are bit-identical on a fixed thread count; torch uses the threads umapx allows (``n_jobs``) and
    gets its own count back afterwards.
    """

    _FITTED = "encoder_"
    _sparse_input = False  # the network reads dense rows

    _parameter_constraints = {
        **{name: UMAP._parameter_constraints[name] for name in UMAP_PARAMS},
        "n_epochs": LAYOUT_CONSTRAINTS["n_epochs"],  # UMAP's list of epochs is not taken
        "negative_sample_rate": [Interval(1, np.inf, integer=True)],  # tails of the batch per head
        "encoder": [NONE, _MODULE],
        "decoder": [NONE, _MODULE],
        "dims": [NONE, Satisfies(_sizes, "a tuple of positive int sizes")],
        "batch_size": [NONE, Interval(1, np.inf, integer=True)],
        "n_training_epochs": [Interval(1, np.inf, integer=True)],
        "optimizer": [NONE, Satisfies(callable, "a callable params -> torch.optim.Optimizer")],
        "parametric_reconstruction": [_BOOL],
        "parametric_reconstruction_loss_fcn": [NONE, Options(("mse", "bce"))],
        "parametric_reconstruction_loss_weight": [_WEIGHT],
        "autoencoder_loss": [_BOOL],
        "reconstruction_validation": [NONE, ARRAY],
        "loss_report_frequency": [Interval(1, np.inf, integer=True)],
        "global_correlation_loss_weight": [_WEIGHT],
        "landmark_loss_weight": [_WEIGHT],
        "classifier": [_BOOL],
        "classifier_loss_weight": [_WEIGHT],
        "validation_fraction": [Interval(0, 1, open_high=True)],
        "patience": [NONE, Interval(1, np.inf, integer=True)],
        "device": [_DEVICE],
    }

    def __init__(self, **params):
        bound = _SIGNATURE.bind(self, **params)
        bound.apply_defaults()
        del bound.arguments["self"]
        vars(self).update(bound.arguments)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, precomputed_distances=None, landmark_positions=None):
        """Train the networks on ``X`` (n_samples x n_features, or n_samples x ``dims``).

        ``y``: labels (-1: unlabelled) for the classifier head with ``classifier=True``, else labels or
        values that supervise the graph as in ``UMAP``. ``precomputed_distances``: an (n, n) distance
        matrix to build the graph from instead of ``X`` (the network still reads ``X``).
        ``landmark_positions``: (n, n_components), a position for each point that must keep it and
        NaN rows for the others; on a fitted model the training goes on from its networks, so an
        embedding can be extended with new data without drifting (umap-learn 0.5.4+'s retraining)."""
        check_params(type(self).__name__, self.get_params(), self._parameter_constraints)
        self._check_feature_names(X, reset=True)
        X = self._rows(X)
        n = X.shape[0]
        warm = landmark_positions is not None and self.__sklearn_is_fitted__()
        if warm and X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but this model was fitted on {self.n_features_in_}.")
        codes, classes = _class_codes(y, n) if self.classifier else (None, None)
        if warm:
            self._check_retraining(classes)
        landmarks = None if landmark_positions is None else _check_landmarks(landmark_positions, n, self.n_components)
        graph_input, metric = X, self.metric
        if precomputed_distances is not None:
            graph_input = check_array(precomputed_distances, name="precomputed_distances")
            if graph_input.shape != (n, n):
                raise ValueError(
                    f"precomputed_distances must be a square matrix of the {n} rows of X; got {graph_input.shape}."
                )
            check_distances(graph_input)
            metric = "precomputed"
        params = {name: getattr(self, name) for name in UMAP_PARAMS if name in GRAPH_CONSTRAINTS}
        graph = build_graph(graph_input, None if self.classifier else y, **{**params, "metric": metric})
        rows = graph.per_vertex(X)
        a, b = (
            (self.a, self.b)
            if self.a is not None and self.b is not None
            else find_ab_params(self.spread, self.min_dist)
        )
        n_epochs = default_epochs(graph.graph) if self.n_epochs is None else self.n_epochs
        rng = as_generator(self.random_state)
        heads, tails = edge_list(graph.graph, n_epochs)
        validation = None
        if self.validation_fraction > 0:
            (heads, tails), validation = hold_out(heads, tails, self.validation_fraction, rng)
            if validation[0].shape[0] == 0:
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} holds out no edge of this graph; raise it."
                )
        if heads.shape[0] == 0:
            raise ValueError("the graph has no edge to train on (n_epochs is 0, or every point is isolated).")
        if self.patience is not None and validation is None:
            raise ValueError("patience stops training on held-out edges: give validation_fraction > 0 as well.")
        with (
            logging_to_stderr(self.verbose),
            thread_limit(self.n_jobs) as threads,
            torch_threads(threads.count),
            torch.random.fork_rng(devices=[]),  # weights and dropout draw from a seeded stream; the caller's stays
        ):
            device = _device(self.device)
            generator = torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))  # negatives, classifier draws
            torch.default_generator.manual_seed(int(rng.integers(2**63 - 1)))
            nets = self._networks(rows.shape[1], classes, device, warm)
            data = Data(
                torch.from_numpy(rows).to(device),
                None if codes is None else torch.from_numpy(graph.per_vertex(codes)).to(device),
                None if landmarks is None else torch.from_numpy(graph.per_vertex(landmarks)).to(device),
            )
            objective = Objective(
                a=a,
                b=b,
                gamma=self.repulsion_strength,
                negative_sample_rate=self.negative_sample_rate,
                reconstruction=(self.parametric_reconstruction_loss_fcn or "mse") if nets.decoder is not None else None,
                reconstruction_weight=self.parametric_reconstruction_loss_weight,
                autoencoder=self.autoencoder_loss,
                correlation_weight=self.global_correlation_loss_weight,
                landmark_weight=self.landmark_loss_weight,
                classifier_weight=self.classifier_loss_weight,
            )
            plan = Plan(
                heads,
                tails,
                batch_size=self.batch_size or min(graph.n_vertices, DEFAULT_BATCH),
                n_training_epochs=self.n_training_epochs,
                reports_per_epoch=self.loss_report_frequency,
                validation=validation,
                patience=self.patience,
                reconstruction_validation=self._validation_rows(device),
                verbose=self.verbose,
                tqdm_kwds=self.tqdm_kwds,
            )
            optimizer = (self.optimizer or _adam)(nets.parameters())
            with stage("training", f"{heads.shape[0]} edge samples, {threads.count} threads"):
                history, batch_history = train(nets, data, objective, plan, optimizer, rng, generator)
            embedding = _encode(nets.encoder, X, device)
        self.encoder_, self.decoder_, self.classifier_ = nets.encoder.cpu(), _cpu(nets.decoder), _cpu(nets.head)
        self.graph_model_ = Graph(
            graph=graph.graph, metric=graph.metric, n_neighbors=graph.n_neighbors, n_features=X.shape[1]
        )
        self.embedding_, self.a_, self.b_, self.classes_ = embedding, float(a), float(b), classes
        self.feature_mean_ = X.mean(axis=0)
        self.history_, self.batch_history_ = history, batch_history
        return self

    def fit_transform(self, X, y=None, precomputed_distances=None, landmark_positions=None):
        """Fit and return ``embedding_``."""
        return self._wrap_output(self.fit(X, y, precomputed_distances, landmark_positions).embedding_, X)

    def _check_retraining(self, classes):
        """Retraining goes on from the fitted networks: the settings that chose them must not have changed."""
        fitted = {"classifier": self.classifier_ is not None, "parametric_reconstruction": self.decoder_ is not None}
        for name, had in fitted.items():
            if getattr(self, name) != had:
                raise ValueError(
                    f"retraining with landmarks goes on from the fitted networks, which were trained with "
                    f"{name}={had}; set {name}={had}, or fit a new model."
                )
        if self.classifier and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"retraining with landmarks keeps the classifier's classes {self.classes_.tolist()}; "
                f"y has {classes.tolist()}."
            )

    def _networks(self, n_features, classes, device, warm):
        """The networks to train: copies of the fitted ones (``warm``), else of the given ones, else the
        defaults (weights from torch's seeded stream); each checked against the data's and embedding's widths."""
        if warm:
            encoder, decoder, head = (copy.deepcopy(m) for m in (self.encoder_, self.decoder_, self.classifier_))
        else:
            encoder = copy.deepcopy(self.encoder)
            if encoder is None:
                encoder = networks.default_encoder(n_features, self.n_components, self.dims)
            decoder = copy.deepcopy(self.decoder) if self.parametric_reconstruction else None
            if self.parametric_reconstruction and decoder is None:
                decoder = networks.default_decoder(self.n_components, n_features)
            head = networks.classifier_head(encoder, self.n_components, len(classes)) if self.classifier else None
        encoder = encoder.to(device)
        width = networks.output_width(encoder, n_features, "encoder", device)
        if width != self.n_components:
            raise ValueError(f"the encoder's output has {width} columns, but n_components={self.n_components}.")
        if decoder is not None:
            decoder = decoder.to(device)
            width = networks.output_width(
                decoder, self.n_components, f"decoder (input: n_components={self.n_components})", device
            )
            if width != n_features:
                raise ValueError(f"the decoder's output has {width} columns, but the data has {n_features} features.")
        trunk, last = networks.split_head(encoder) if head is not None else (None, encoder)
        return Nets(encoder, decoder, None if head is None else head.to(device), trunk, None if trunk is None else last)

    def _rows(self, X, name="X", min_samples=2):
        """``X`` as a dense float32 (n, n_features) array; rows of shape ``dims`` are flattened."""
        import scipy.sparse as sp

        if sp.issparse(X):
            raise TypeError(f"ParametricUMAP's network reads dense rows; {name} is sparse. Pass {name}.toarray().")
        X = np.asarray(X)
        if X.ndim > 2:
            X = X.reshape(X.shape[0], -1)
        X = check_array(X, name=name, min_samples=min_samples, allow_sparse=False)
        if self.dims is not None and int(np.prod(self.dims)) != X.shape[1]:
            raise ValueError(
                f"dims={tuple(self.dims)} holds {int(np.prod(self.dims))} values; {name} rows have {X.shape[1]}."
            )
        return X

    def _validation_rows(self, device):
        if self.reconstruction_validation is None or not self.parametric_reconstruction:
            return None
        return torch.from_numpy(self._rows(self.reconstruction_validation, "reconstruction_validation", 1)).to(device)

    # ------------------------------------------------------------------ fitted model
    def transform(self, X):
        """The encoder's embedding of ``X``. A row's embedding depends on that row alone: every row
        goes through the network in a call of ``CHUNK`` rows (the last padded)."""
        self._check_fitted("transform")
        self._check_feature_names(X, reset=False)
        rows = self._new_rows(X, self.n_features_in_, "X")
        with thread_limit(self.n_jobs) as threads, torch_threads(threads.count):
            return self._wrap_output(_encode(self.encoder_, rows, "cpu"), X)

    def inverse_transform(self, Y):
        """The decoder's reconstruction of embedding points ``Y`` (shaped as ``dims`` when given)."""
        self._check_fitted("inverse_transform")
        if self.decoder_ is None:
            raise ValueError(
                "inverse_transform needs a decoder: fit with parametric_reconstruction=True "
                "(ParametricUMAP's inverse_transform runs the decoder)."
            )
        Y = self._new_rows(Y, self.n_components, "Y")
        with thread_limit(self.n_jobs) as threads, torch_threads(threads.count):
            out = _encode(self.decoder_, Y, "cpu")
        return out.reshape(out.shape[0], *self.dims) if self.dims is not None and len(self.dims) > 1 else out

    def predict_proba(self, X):
        """Class probabilities of the classifier head (columns in the order of ``classes_``)."""
        logits = self._logits(X)
        return torch.softmax(torch.from_numpy(logits), dim=1).numpy()

    def predict(self, X):
        """The classifier head's class of each row of ``X``."""
        return self.classes_[self._logits(X).argmax(axis=1)]

    def _logits(self, X):
        self._check_fitted("predict")
        if self.classifier_ is None:
            raise ValueError(
                "predict needs the classifier head: fit with classifier=True and labels y (-1: unlabelled)."
            )
        X = self._new_rows(X, self.n_features_in_, "X")
        trunk, last = networks.split_head(self.encoder_)
        features = trunk if trunk is not None else self.encoder_
        with thread_limit(self.n_jobs) as threads, torch_threads(threads.count):
            return _encode(torch.nn.Sequential(features, self.classifier_), X, "cpu")

    def explain(self, X, baseline=None):
        """Feature attributions by integrated gradients through the encoder: an array of shape
        (n_points, n_features, n_components) whose [i, f, c] is how much feature f moves coordinate c of
        point i from where the baseline lies, (x_f - b_f) times the mean of dz_c/dx_f along the straight
        path from the baseline to x (``IG_STEPS`` midpoints). Summed over features it equals
        transform(x) - transform(baseline) up to the path's discretisation. ``baseline``: one row of
        features, or one per point; default ``feature_mean_``, the training data's mean."""
        self._check_fitted("explain")
        X = self._new_rows(X, self.n_features_in_, "X")
        base = self.feature_mean_ if baseline is None else np.asarray(baseline, dtype=np.float32)
        if base.ndim == 1:
            base = base[None, :]
        if base.shape[1] != X.shape[1] or base.shape[0] not in (1, X.shape[0]):
            raise ValueError(
                f"baseline must be one row of {X.shape[1]} features or one per point ({X.shape[0]}); "
                f"got shape {base.shape}."
            )
        alphas = torch.tensor((np.arange(IG_STEPS) + 0.5) / IG_STEPS, dtype=torch.float32)[:, None, None]
        out = np.empty((X.shape[0], X.shape[1], self.n_components), dtype=np.float32)
        chunk = max(1, CHUNK // IG_STEPS)
        with thread_limit(self.n_jobs) as threads, torch_threads(threads.count):
            for start in range(0, X.shape[0], chunk):
                x = torch.from_numpy(X[start : start + chunk])
                b = torch.from_numpy(np.ascontiguousarray(base if base.shape[0] == 1 else base[start : start + chunk]))
                path = (b + alphas * (x - b)).reshape(-1, X.shape[1]).requires_grad_(True)
                z = self.encoder_(path)
                for c in range(self.n_components):
                    (grad,) = torch.autograd.grad(z[:, c].sum(), path, retain_graph=c + 1 < self.n_components)
                    mean = grad.reshape(IG_STEPS, -1, X.shape[1]).mean(0)
                    out[start : start + chunk, :, c] = ((x - b) * mean).numpy()
        return out

    def _new_rows(self, X, width, name):
        X = self._rows(X, name, 1) if name == "X" else check_array(X, name=name, min_samples=1, allow_sparse=False)
        if X.shape[1] != width:
            raise ValueError(
                f"{name} has {X.shape[1]} features, but ParametricUMAP is expecting {width} features as input."
            )
        return X

    @property
    def graph_(self):
        """The fuzzy simplicial set the networks were trained on (CSR, n_samples x n_samples)."""
        self._check_fitted("reading graph_")
        return self.graph_model_.graph

    @property
    def n_features_in_(self):
        self._check_fitted("reading n_features_in_")
        return self.graph_model_.n_features

    # ------------------------------------------------------------------ persistence
    def _fitted_state(self):
        self._check_fitted("save")
        nets = {name: getattr(self, name) for name in ("encoder_", "decoder_", "classifier_")}
        return {
            "graph": self.graph_model_,
            "embedding": self.embedding_,
            "a": self.a_,
            "b": self.b_,
            "classes": self.classes_,
            "feature_mean": self.feature_mean_,
            "history": self.history_,
            "batch_history": self.batch_history_,
            **{name: None if net is None else networks.Network.of(net) for name, net in nets.items()},
        }

    def _set_fitted_state(self, state):
        nets = {}
        for name in ("encoder_", "decoder_", "classifier_"):
            saved = state[name]
            nets[name] = None if saved is None else saved.module(name.rstrip("_"))
        self.graph_model_, self.embedding_ = state["graph"], state["embedding"]
        self.a_, self.b_, self.classes_ = state["a"], state["b"], state["classes"]
        self.feature_mean_, self.history_, self.batch_history_ = (
            state["feature_mean"],
            state["history"],
            state["batch_history"],
        )
        vars(self).update(nets)


_SIGNATURE = _signature()
ParametricUMAP.__init__.__signature__ = _SIGNATURE


def load_ParametricUMAP(path, verbose=False):
    """A ParametricUMAP saved with ``save`` (umap-learn's name and signature; umapx prints nothing, so
    ``verbose`` changes nothing; ``umapx.load`` loads any model)."""
    from .io import load

    model = load(path)
    if not isinstance(model, ParametricUMAP):
        raise ValueError(f"{path} holds a {type(model).__name__}, not a ParametricUMAP; load it with umapx.load.")
    return model


def default_epochs(graph):
    """umap-learn's default graph epochs (500 up to 10,000 points, else 200), fewer where the edge list
    would hold more than ``EDGE_BUDGET`` samples (each epoch holds sum(w) / w_max of them)."""
    per_epoch = float(graph.data.sum() / graph.data.max())
    return max(1, min(default_n_epochs(graph.shape[0]), int(EDGE_BUDGET / per_epoch)))


def _adam(params):
    return torch.optim.Adam(params, lr=LEARNING_RATE)


def _device(name):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError) as error:
        raise ValueError(f"device={name!r} is not available here ({error}); use 'auto' or 'cpu'.") from None
    return device


def _cpu(module):
    return None if module is None else module.cpu()


def _encode(module, X, device):
    """``module`` applied to the rows of ``X`` in calls of ``CHUNK`` rows (the last padded with zeros),
    so that a row's result never depends on the other rows; float32."""
    module = module.to(device).eval()
    n = X.shape[0]
    padded = np.zeros((-(-n // CHUNK) * CHUNK, X.shape[1]), dtype=np.float32)
    padded[:n] = X
    with torch.no_grad():
        parts = [module(torch.from_numpy(padded[s : s + CHUNK]).to(device)).cpu() for s in range(0, n, CHUNK)]
    return torch.cat(parts).numpy()[:n]


def _class_codes(y, n):
    """Class codes (-1: unlabelled) and the classes, for the classifier head."""
    if y is None:
        raise ValueError("classifier=True needs labels y (-1 marks an unlabelled point).")
    y = np.asarray(y).ravel()
    if y.shape[0] != n:
        raise ValueError(f"y has {y.shape[0]} entries but X has {n} samples; they must match.")
    labelled = y != -1
    if not labelled.any():
        raise ValueError("classifier=True needs labelled points in y (labels other than -1); y has none.")
    classes, codes = np.unique(y[labelled], return_inverse=True)
    out = np.full(n, -1, dtype=np.int64)
    out[labelled] = codes
    return out, classes


def _check_landmarks(positions, n, n_components):
    positions = np.array(positions, dtype=np.float32)
    if positions.shape != (n, n_components):
        raise ValueError(
            f"landmark_positions must have one row per point of X and n_components columns, ({n}, {n_components}); "
            f"got {positions.shape}."
        )
    missing = np.isnan(positions)
    if (missing.any(1) & ~missing.all(1)).any() or np.isinf(positions).any():
        raise ValueError("each row of landmark_positions must be all finite (a landmark) or all NaN (not a landmark).")
    return positions
