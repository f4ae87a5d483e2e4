"""Which edges the SGD visits and how often (002 Alg. 1), and the negative-sampling schemes of 004."""

from __future__ import annotations

import numpy as np

from ..loss import degrees, repulsion_weight

NEGATIVE_SAMPLING = ("umap", "push_tail", "corrected")


def default_n_epochs(n_samples):
    """umap-learn's plain defaults: 500 epochs up to 10,000 samples, else 200. DensMAP takes the same,
    its term on in the last ``dens_frac`` of them. umap-learn adds 200 for DensMAP; here they would
    break DensMAP's bound of 1.3x plain UMAP's fit time, for about .01 more radii correlation on
    mnist_test (measured before the weak-edge clip of ``umapx.density``)."""
    return 500 if n_samples <= 10_000 else 200


def epochs_per_sample(weights, w_max):
    """Edge e is sampled every w_max / w_e epochs, so over n_epochs it is drawn n_epochs w_e / w_max times."""
    return (w_max / weights).astype(np.float64)


def prune(graph, n_epochs, w_max=None):
    """The graph without the edges too weak to be sampled even once in n_epochs (002, Alg. 1); w_max
    defaults to the graph's largest weight. With n_epochs = 0 nothing is optimised and nothing is dropped."""
    graph = graph.tocsr(copy=True)
    if n_epochs:
        w_max = float(graph.data.max()) if w_max is None else w_max
        graph.data[graph.data < w_max / float(n_epochs)] = 0.0
        graph.eliminate_zeros()
    return graph


def sampling_scheme(graph, name, negative_sample_rate, w_max):
    """The arrays by which ``sgd_epochs`` follows negative-sampling scheme ``name`` (004):

    - ``umap``: umap-learn's (Alg. 1 without line 10): none.
    - ``corrected``: each kNN-graph edge ij is also repelled, every epoch, with probability
      1 - mu_ij - (d_i + d_j) m / 2n (over w_max, as attraction is), so that kNN pairs get the
      repulsion weight 1 - mu_ij of the purported loss (eq. 18).
    - ``push_tail``: a negative sample is also pushed away from the head that drew it (Alg. 1 line
      10). A thread must not move another thread's vertex, so each vertex draws the pushes it would
      receive instead: with each of its own negative samples it draws a pusher j with probability
      d_j / sum(d), scaled by mean(d) / d_i, which gives the expected update of eq. 10.
    """
    empty = np.zeros(0)
    if name == "umap":
        return empty, empty, empty
    d, n = degrees(graph), graph.shape[0]
    if name == "corrected":
        rows = np.repeat(np.arange(n), np.diff(graph.indptr))
        w = repulsion_weight(d[rows], d[graph.indices], float(negative_sample_rate), n)
        return np.maximum(1.0 - graph.data - w, 0.0) / w_max, empty, empty
    scale = np.divide(d.mean(), d, out=np.zeros_like(d), where=d > 0)
    return empty, np.concatenate([[0.0], np.cumsum(d)]), scale
