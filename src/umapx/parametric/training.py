"""ParametricUMAP's training (001 sec. 2.4 and 4, 002 Alg. 2): an encoder learns the layout over
mini-batches of the graph's edges.

The edge list holds each edge of the fuzzy set as often as the SGD schedule samples it in ``n_epochs``
graph epochs (``layout.sampling``: n_epochs w / w_max times), shuffled; a training epoch is one pass
over it. Each of a batch's b heads is attracted to its tail and repelled from m tails of the same batch
(umap-learn's in-batch negative sampling). Damrich & Hamprecht (004 Theorem 5.1) show what this
optimises: not the purported cross-entropy but, up to a constant factor, the effective loss

    -sum_{i<j} mu_ij log phi_ij + m (b - 1)/b * d_i d_j / (2 mu_tot) * log(1 - phi_ij)      (004 eq. 13)

with d_i the degree of i in the fuzzy set and mu_tot half their sum: the repulsion between two points
grows with the product of their degrees and shrinks with the graph, as in non-parametric UMAP, and
the total attraction and repulsion stay of the same order (1/(m + 1) and m/(m + 1) (b - 1)/b).

The other losses of 001: the reconstruction of a decoder (sec. 4.1), the correlation of pairwise
distances in the data and in the embedding (sec. 5.3, eq. 5.1), the cross-entropy of a classifier head
on the labelled points (sec. 4.2) and, as in umap-learn 0.5.4+, the distance of landmark points from
the positions they must keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from .._report import checkpoint, progress
from ..layout.sampling import prune

_EPS = 1e-4  # log(1 - phi) is clipped there, as in umap-learn
GRAD_CLIP = 4.0  # each gradient entry is clipped to [-4, 4], as in umap-learn
VALIDATION_EDGES = 8  # batches' worth of held-out edges scored at each report


def phi(d2, a, b):
    """phi = 1 / (1 + a d^2b) of squared distances (002 eq. 12), the curve of ``layout.curve``."""
    return 1.0 / (1.0 + a * d2.pow(b))


def umap_loss(z_head, z_tail, negatives, a, b, gamma):
    """UMAP's cross-entropy of a batch (002 eq. 10): -log phi of each edge, -gamma log(1 - phi) of each
    head and its negative samples (``negatives``: rows of ``z_tail``, m per head, heads repeated m
    times), averaged over all b (1 + m) pairs as umap-learn does."""
    m = negatives.shape[0] // z_head.shape[0]
    d2_pos = (z_head - z_tail).square().sum(1).clamp_min(1e-12)
    d2_neg = (z_head.repeat(m, 1) - z_tail[negatives]).square().sum(1).clamp_min(1e-12)
    attract = torch.log1p(a * d2_pos.pow(b))  # -log phi
    repel = -gamma * torch.log((1.0 - phi(d2_neg, a, b)).clamp_min(_EPS))
    return torch.cat([attract, repel]).mean()


def correlation_loss(x, z, pairs):
    """-Pearson correlation of the distances of pairs (i, pairs[i]) in the data and in the embedding (001 eq. 5.1)."""
    dx = (x - x[pairs]).square().sum(1).sqrt()
    dz = ((z - z[pairs]).square().sum(1) + 1e-12).sqrt()
    dx, dz = dx - dx.mean(), dz - dz.mean()
    return -(dx * dz).sum() / (dx.norm() * dz.norm() + 1e-12)


def edge_list(graph, n_epochs):
    """(heads, tails) of the graph's edges, each repeated as often as the SGD schedule samples it in
    ``n_epochs`` epochs (002 Alg. 1: every w_max / w epochs, so floor(n_epochs w / w_max) times)."""
    coo = prune(graph, n_epochs).tocoo()
    counts = np.floor(n_epochs * coo.data / coo.data.max() + 1e-9).astype(np.int64)
    return np.repeat(coo.row.astype(np.int32), counts), np.repeat(coo.col.astype(np.int32), counts)


def hold_out(heads, tails, fraction, rng):
    """A random ``fraction`` of the distinct edges (both directions of each), apart: (train, validation) lists."""
    lo, hi = np.minimum(heads, tails).astype(np.int64), np.maximum(heads, tails).astype(np.int64)
    pairs, which = np.unique(lo * (int(hi.max()) + 1) + hi, return_inverse=True)
    held = (rng.random(pairs.shape[0]) < fraction)[which]
    return (heads[~held], tails[~held]), (heads[held], tails[held])


@dataclass
class Objective:
    """The weighted losses of a training step and the curve they use."""

    a: float
    b: float
    gamma: float
    negative_sample_rate: int
    reconstruction: str | None = None  # "mse", "bce" (logits), or None without a decoder
    reconstruction_weight: float = 1.0
    autoencoder: bool = False
    correlation_weight: float = 0.0
    landmark_weight: float = 1.0
    classifier_weight: float = 1.0

    def reconstruction_loss(self, out, x):
        if self.reconstruction == "bce":
            return F.binary_cross_entropy_with_logits(out, x)
        return F.mse_loss(out, x)


@dataclass
class Nets:
    """The networks being trained: the encoder as trunk and embedding layer (``networks.split_head``),
    and the optional decoder and classifier head."""

    encoder: torch.nn.Module
    decoder: torch.nn.Module | None = None
    head: torch.nn.Module | None = None
    trunk: torch.nn.Module | None = None
    last: torch.nn.Module | None = None

    def features_and_embedding(self, x):
        """The classifier head's input and the embedding of rows ``x``."""
        if self.trunk is None:
            z = self.encoder(x)
            return z, z
        f = self.trunk(x)
        return f, self.last(f)

    def parameters(self):
        return [p for net in (self.encoder, self.decoder, self.head) if net is not None for p in net.parameters()]

    def train(self, on):
        for net in (self.encoder, self.decoder, self.head):
            if net is not None:
                net.train(on)


@dataclass
class Data:
    """The training rows (a tensor on the device) and what some points carry: class codes (-1:
    unlabelled) and landmark positions (NaN rows: not a landmark)."""

    X: torch.Tensor
    codes: torch.Tensor | None = None
    landmarks: torch.Tensor | None = None
    labelled: torch.Tensor | None = field(init=False, default=None)
    is_landmark: torch.Tensor | None = field(init=False, default=None)

    def __post_init__(self):
        if self.codes is not None:
            self.labelled = torch.nonzero(self.codes >= 0).ravel()
        if self.landmarks is not None:
            self.is_landmark = ~torch.isnan(self.landmarks).any(1)


def step_losses(nets, data, objective, heads, tails, generator):
    """The losses of one batch of edges, by name."""
    device = data.X.device
    n = heads.shape[0]
    x_head = data.X[heads]
    features, z = nets.features_and_embedding(torch.cat([x_head, data.X[tails]]))
    z_head, z_tail = z[:n], z[n:]
    m = objective.negative_sample_rate
    negatives = (torch.randperm(n * m, generator=generator) % n).to(device)
    losses = {"umap": umap_loss(z_head, z_tail, negatives, objective.a, objective.b, objective.gamma)}
    if objective.correlation_weight > 0:
        pairs = torch.randperm(n, generator=generator).to(device)
        losses["global_correlation"] = correlation_loss(x_head, z_head, pairs)
    if nets.decoder is not None:
        out = nets.decoder(z_head if objective.autoencoder else z_head.detach())
        losses["reconstruction"] = objective.reconstruction_loss(out, x_head)
    if nets.head is not None:
        draw = torch.randint(data.labelled.shape[0], (min(n, data.labelled.shape[0]),), generator=generator)
        points = data.labelled[draw.to(device)]
        logits = nets.head(nets.features_and_embedding(data.X[points])[0])
        losses["classifier"] = F.cross_entropy(logits, data.codes[points])
    if data.landmarks is not None:  # 0 for a batch without a landmark head, so that every report has the key
        keep = data.is_landmark[heads]
        gap = (z_head[keep] - data.landmarks[heads[keep]]).square().sum(1)
        losses["landmark"] = (gap + 1e-12).sqrt().sum() / max(1, int(keep.sum()))  # finite where a landmark sits
    return losses


WEIGHTS = {
    "umap": lambda o: 1.0,
    "global_correlation": lambda o: o.correlation_weight,
    "reconstruction": lambda o: o.reconstruction_weight,
    "classifier": lambda o: o.classifier_weight,
    "landmark": lambda o: o.landmark_weight,
}


@dataclass
class Plan:
    """How long and in what order to train: the edge list, the batches, the reports and early stopping."""

    heads: np.ndarray
    tails: np.ndarray
    batch_size: int
    n_training_epochs: int
    reports_per_epoch: int
    validation: tuple | None = None  # (heads, tails) held out
    patience: int | None = None
    reconstruction_validation: torch.Tensor | None = None
    verbose: bool = False
    tqdm_kwds: dict | None = None


def train(nets, data, objective, plan, optimizer, rng, generator):
    """Train ``nets`` on ``plan``'s edge batches; returns (history, batch_history): the mean of each loss
    per training epoch, and over each of ``reports_per_epoch`` equal runs of an epoch's batches (with
    the held-out edges' UMAP loss as ``val_loss``). Stops early when ``val_loss`` has not improved for ``patience``
    reports."""
    device = data.X.device
    n_edges = plan.heads.shape[0]
    steps = -(-n_edges // plan.batch_size)
    reports = min(plan.reports_per_epoch, steps)
    scorer = _validation_scorer(nets, data, objective, plan, rng, generator)
    history, batch_history = {}, {}
    best, waited, stop, step_count = np.inf, 0, False, 0
    for epoch in range(plan.n_training_epochs):
        order = rng.permutation(n_edges)
        window, totals = {}, {}
        nets.train(True)
        with progress(
            plan.verbose, plan.tqdm_kwds, steps, "batches", f"epoch {epoch + 1}/{plan.n_training_epochs}"
        ) as bar:
            for s in range(steps):
                batch = order[s * plan.batch_size : (s + 1) * plan.batch_size]
                heads = torch.from_numpy(plan.heads[batch]).long().to(device)
                tails = torch.from_numpy(plan.tails[batch]).long().to(device)
                losses = step_losses(nets, data, objective, heads, tails, generator)
                total = sum(WEIGHTS[name](objective) * value for name, value in losses.items())
                optimizer.zero_grad()
                total.backward()
                torch.nn.utils.clip_grad_value_(nets.parameters(), GRAD_CLIP)
                optimizer.step()
                step_count += 1
                values = {"loss": float(total.detach()), **{k: float(v.detach()) for k, v in losses.items()}}
                for name, v in values.items():
                    window.setdefault(name, []).append(v)
                    totals.setdefault(name, []).append(v)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{values['loss']:.4f}", refresh=False)
                if (s + 1) * reports // steps > s * reports // steps:  # ``reports`` times an epoch, the last at its end
                    record = {"step": step_count, **{k: float(np.mean(v)) for k, v in window.items()}}
                    window = {}
                    if scorer is not None:
                        record["val_loss"] = scorer()
                        nets.train(True)
                        if record["val_loss"] < best:
                            best, waited = record["val_loss"], 0
                        else:
                            waited += 1
                            stop = plan.patience is not None and waited >= plan.patience
                    _append(batch_history, record)
                    if stop:
                        break
                checkpoint()
        epoch_record = {"epoch": epoch + 1, **{k: float(np.mean(v)) for k, v in totals.items()}}
        if scorer is not None:
            epoch_record["val_loss"] = batch_history["val_loss"][-1]
        if plan.reconstruction_validation is not None and nets.decoder is not None:
            epoch_record["val_reconstruction"] = reconstruction_error(nets, plan.reconstruction_validation, objective)
        _append(history, epoch_record)
        if stop:
            break
    nets.train(False)
    return history, batch_history


def _append(history, record):
    for name, value in record.items():
        history.setdefault(name, []).append(value)


def _validation_scorer(nets, data, objective, plan, rng, generator):
    """A function that scores the held-out edges (a fixed sample, with fixed negatives) by UMAP's loss."""
    if plan.validation is None or plan.validation[0].shape[0] == 0:
        return None
    heads, tails = plan.validation
    pick = rng.permutation(heads.shape[0])[: VALIDATION_EDGES * plan.batch_size]
    heads = torch.from_numpy(heads[pick]).long().to(data.X.device)
    tails = torch.from_numpy(tails[pick]).long().to(data.X.device)
    n, m = heads.shape[0], objective.negative_sample_rate
    negatives = (torch.randperm(n * m, generator=generator) % n).to(data.X.device)

    def score():
        nets.train(False)
        with torch.no_grad():
            z = nets.features_and_embedding(torch.cat([data.X[heads], data.X[tails]]))[1]
            return float(umap_loss(z[:n], z[n:], negatives, objective.a, objective.b, objective.gamma))

    return score


def reconstruction_error(nets, X, objective):
    """The decoder's reconstruction loss of rows ``X`` through the encoder."""
    nets.train(False)
    with torch.no_grad():
        return float(objective.reconstruction_loss(nets.decoder(nets.encoder(X)), X))
