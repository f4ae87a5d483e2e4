"""Callbacks for the layout optimisation: ``UMAP(callbacks=[...])``.

A callback is any callable ``cb(epoch, embedding, record)``, called after every ``cb.every``-th
epoch (every epoch when it has no ``every``) with the epoch number (from 1), a read-only view of
the current layout and the loss record of that epoch (see ``umapx.loss.losses``, plus the
``actual`` loss of eq. 11 of 004), or None for a callback whose ``needs_record`` is False.
Returning True stops the optimisation; the fitted model's ``n_epochs_run_`` says how many epochs ran.
"""

from __future__ import annotations

from functools import reduce
from math import gcd

import numpy as np


class EarlyStopping:
    """Stop when the monitored loss has not fallen by a relative ``rel_tol`` for ``patience`` epochs."""

    def __init__(self, monitor="effective", rel_tol=1e-3, patience=20, every=1):
        self.monitor, self.rel_tol, self.patience, self.every = monitor, rel_tol, patience, every
        self.best, self.waited, self.stopped_epoch = np.inf, 0, None

    def __call__(self, epoch, embedding, record):
        loss = record[self.monitor]
        if loss < self.best * (1.0 - self.rel_tol):
            self.best, self.waited = loss, 0
            return False
        self.waited += self.every
        if self.waited >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False


class EmbeddingSnapshots:
    """Keep a copy of the layout every ``every`` epochs in ``snapshots`` as (epoch, array) pairs, or
    after each epoch of the list ``epochs`` (umap-learn's ``n_epochs`` list). It reads no loss record,
    so none is computed for it, and it works with any output metric."""

    needs_record = False

    def __init__(self, every=10, epochs=None):
        self.epochs = None if epochs is None else set(epochs)
        self.every = every if epochs is None else reduce(gcd, self.epochs)
        self.snapshots = []

    def __call__(self, epoch, embedding, record):
        if self.epochs is None or epoch in self.epochs:
            self.snapshots.append((epoch, np.array(embedding)))
        return False
