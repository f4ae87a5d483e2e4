"""umap-learn's ``umap.sparse`` distance API, re-exported from ``pynndescent.sparse``.

A sparse distance takes one CSR row as ``(ind1, data1)`` (sorted int32 indices, float32 data, as
umapx stores sparse input) and another as ``(ind2, data2)``; those named in ``sparse_need_n_features``
also take the number of features.
umapx measures sparse rows with exactly these functions: its neighbour search hands sparse input to
pynndescent (``umapx.neighbors.NNDescentIndex``) for every metric except euclidean, cosine and
correlation, which it computes exactly by sparse matrix products (``umapx.neighbors.blas_knn``).

Not provided: ``sparse_ll_dirichlet`` (umapx has no ll_dirichlet), ``sparse_mul`` (pynndescent's
returns typed lists, umap-learn's arrays), ``general_sset_intersection``, ``general_sset_union``
and the log-Gamma helpers.
"""

from __future__ import annotations

from pynndescent.sparse import (
    arr_intersect,
    arr_union,
    arr_unique,
    sparse_bray_curtis,
    sparse_canberra,
    sparse_chebyshev,
    sparse_correlation,
    sparse_cosine,
    sparse_dice,
    sparse_diff,
    sparse_euclidean,
    sparse_hamming,
    sparse_hellinger,
    sparse_jaccard,
    sparse_kulsinski,
    sparse_manhattan,
    sparse_matching,
    sparse_minkowski,
    sparse_rogers_tanimoto,
    sparse_russellrao,
    sparse_sokal_michener,
    sparse_sokal_sneath,
    sparse_sum,
)

__all__ = [
    "arr_intersect",
    "arr_union",
    "arr_unique",
    "sparse_bray_curtis",
    "sparse_canberra",
    "sparse_chebyshev",
    "sparse_correlation",
    "sparse_cosine",
    "sparse_dice",
    "sparse_diff",
    "sparse_euclidean",
    "sparse_hamming",
    "sparse_hellinger",
    "sparse_jaccard",
    "sparse_kulsinski",
    "sparse_manhattan",
    "sparse_matching",
    "sparse_minkowski",
    "sparse_rogers_tanimoto",
    "sparse_russellrao",
    "sparse_sokal_michener",
    "sparse_sokal_sneath",
    "sparse_sum",
    "sparse_named_distances",
    "sparse_need_n_features",
    "SPARSE_SPECIAL_METRICS",
]

#: umap-learn's sparse metric names (and aliases), without ll_dirichlet.
sparse_named_distances = {
    "euclidean": sparse_euclidean,
    "manhattan": sparse_manhattan,
    "l1": sparse_manhattan,
    "taxicab": sparse_manhattan,
    "chebyshev": sparse_chebyshev,
    "linf": sparse_chebyshev,
    "linfty": sparse_chebyshev,
    "linfinity": sparse_chebyshev,
    "minkowski": sparse_minkowski,
    "canberra": sparse_canberra,
    "braycurtis": sparse_bray_curtis,
    "hamming": sparse_hamming,
    "jaccard": sparse_jaccard,
    "dice": sparse_dice,
    "matching": sparse_matching,
    "kulsinski": sparse_kulsinski,
    "rogerstanimoto": sparse_rogers_tanimoto,
    "russellrao": sparse_russellrao,
    "sokalmichener": sparse_sokal_michener,
    "sokalsneath": sparse_sokal_sneath,
    "cosine": sparse_cosine,
    "correlation": sparse_correlation,
    "hellinger": sparse_hellinger,
}

#: Metrics whose sparse function takes ``n_features`` as a fifth argument.
sparse_need_n_features = (
    "hamming",
    "matching",
    "kulsinski",
    "rogerstanimoto",
    "russellrao",
    "sokalmichener",
    "correlation",
)

SPARSE_SPECIAL_METRICS = {sparse_hellinger: "hellinger"}
