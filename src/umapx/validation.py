"""umap-learn's ``umap.validation`` API as thin wrappers over ``umapx.evaluation``'s trustworthiness.

A trustworthiness vector ``t`` holds ``t[k]`` = T(k), the trustworthiness of the embedding's k
nearest neighbours (Venna & Kaski 2001; ``umapx.evaluation.trustworthiness``), for k = 1..max_k, and
at index 0 the value umap-learn puts there: 1.0, except in ``trustworthiness_vector_bulk`` (0.0).
The data-space ranks come from ``umapx.evaluation``'s distance scan (ties share their mean rank)
and the embedding's neighbours are euclidean, as in ``umapx.evaluation`` (umap-learn uses
``metric`` in the embedding too).
"""

from __future__ import annotations

import numpy as np

from ._validation import check_data, check_embedding
from .evaluation._neighbours import _EmbeddingNeighbours, _scan
from .evaluation.neighbourhood import _check_tc_k, _penalty, _tc_value

__all__ = ["make_trustworthiness_calculator", "trustworthiness_vector", "trustworthiness_vector_bulk"]


def _vector(ranks, n, max_k, first):
    """[first, T(1), ..., T(max_k)] from the data-space ranks (1 = nearest) of each point's embedding
    neighbours, nearest first: T(k) penalises max(0, rank - k) over the first k of them."""
    out = np.empty(max_k + 1)
    out[0] = first
    for k in range(1, max_k + 1):
        out[k] = _tc_value(_penalty(ranks[:, :k], k), ranks.shape[0], n, k)
    return out


def _neighbour_ranks(source, metric, indices_embedded, max_k):
    """Validated data, max_k and the data-space ranks of the first max_k embedding neighbours."""
    X, metric = check_data(source, metric, name="source")
    n = X.shape[0]
    max_k = _check_tc_k(max_k, n)
    cand = np.ascontiguousarray(np.asarray(indices_embedded, dtype=np.int64)[:, :max_k])
    if cand.shape != (n, max_k):
        raise ValueError(f"indices_embedded must have shape (n_samples, >= max_k) = ({n}, >= {max_k})")
    return _scan(X, metric, np.arange(n), thr_cols=cand)[0], n, max_k


def trustworthiness_vector(source, embedding, max_k, metric="euclidean"):
    """Trustworthiness for k = 0..max_k (array of max_k + 1; index 0 is 1.0) of ``embedding`` of
    ``source`` under the data-space ``metric`` (any metric of scikit-learn's ``pairwise_distances``)."""
    Y = check_embedding(embedding, name="embedding")
    n = Y.shape[0]
    emb_nn = _EmbeddingNeighbours(Y).query(np.arange(n), _check_tc_k(max_k, n))
    ranks, n, max_k = _neighbour_ranks(source, metric, emb_nn, max_k)
    return _vector(ranks, n, max_k, 1.0)


def trustworthiness_vector_bulk(indices_source, indices_embedded, max_k):
    """Trustworthiness for k = 0..max_k from neighbour lists: row i of ``indices_source`` lists the
    points by increasing data distance from point i, i itself first (an argsort of its distance
    row), and row i of ``indices_embedded`` its embedding neighbours nearest first, i excluded.
    Index 0 is 0.0, as in umap-learn."""
    src = np.asarray(indices_source, dtype=np.int64)
    n = src.shape[0]
    max_k = _check_tc_k(max_k, n)
    emb = np.asarray(indices_embedded, dtype=np.int64)[:, :max_k]
    if emb.shape != (n, max_k):
        raise ValueError(f"indices_embedded must have shape (n_samples, >= max_k) = ({n}, >= {max_k})")
    position = np.full((n, max(src.max(), emb.max()) + 1), -1, dtype=np.int64)
    position[np.arange(n)[:, None], src] = np.arange(src.shape[1])  # rank in the data = place in the list
    ranks = np.take_along_axis(position, emb, axis=1)
    if (ranks < 0).any():
        raise ValueError("every embedding neighbour must appear in its row of indices_source")
    return _vector(ranks.astype(np.float64), n, max_k, 0.0)


def make_trustworthiness_calculator(metric):
    """A function ``(source, indices_embedded, max_k) -> trustworthiness vector`` (index 0 is 1.0)
    that ranks the embedding neighbours ``indices_embedded`` (nearest first, self excluded) by the
    data-space ``metric``: a name or a callable of scikit-learn's ``pairwise_distances``, such as a
    function of ``umapx.distances``."""

    def trustworthiness_vector_lowmem(source, indices_embedded, max_k):
        ranks, n, max_k = _neighbour_ranks(source, metric, indices_embedded, max_k)
        return _vector(ranks, n, max_k, 1.0)

    return trustworthiness_vector_lowmem
