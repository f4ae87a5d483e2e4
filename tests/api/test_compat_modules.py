"""umap-learn's functional submodules (distances, sparse, spectral, utils, validation) against
scipy/scikit-learn references."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.spatial.distance as ssd
from sklearn.manifold import trustworthiness
from sklearn.metrics.pairwise import haversine_distances

from umapx import distances as D
from umapx import sparse as S
from umapx import spectral, utils, validation

RNG = np.random.default_rng(7)
N_FEATURES = 6
V = RNG.uniform(0.5, 2.0, N_FEATURES)
W = RNG.uniform(0.1, 2.0, N_FEATURES)
A = RNG.normal(size=(N_FEATURES, N_FEATURES))
VI = A @ A.T + np.eye(N_FEATURES)


def _hellinger(x, y):
    # |sqrt(p) - sqrt(q)| / sqrt(2) of the normalised vectors
    return np.linalg.norm(np.sqrt(x / x.sum()) - np.sqrt(y / y.sum())) / np.sqrt(2)


def _kulsinski(x, y):
    # scipy < 1.11: (ntf + nft - ntt + n) / (ntf + nft + n)
    x, y = x != 0, y != 0
    neq, ntt = (x != y).sum(), (x & y).sum()
    return (neq - ntt + len(x)) / (neq + len(x))


FLOAT_CASES = [
    (D.euclidean, ssd.euclidean, {}, {}),
    (D.manhattan, ssd.cityblock, {}, {}),
    (D.chebyshev, ssd.chebyshev, {}, {}),
    (D.minkowski, ssd.minkowski, {"p": 3}, {"p": 3}),
    (D.weighted_minkowski, ssd.minkowski, {"w": W, "p": 3}, {"w": W, "p": 3}),
    (D.standardised_euclidean, ssd.seuclidean, {"sigma": V}, {"V": V}),
    (D.mahalanobis, ssd.mahalanobis, {"vinv": VI}, {"VI": VI}),
    (D.canberra, ssd.canberra, {}, {}),
    (D.bray_curtis, ssd.braycurtis, {}, {}),
    (D.cosine, ssd.cosine, {}, {}),
    (D.correlation, ssd.correlation, {}, {}),
    (D.hellinger, _hellinger, {}, {}),
]

BOOL_CASES = [
    (D.hamming, ssd.hamming),
    (D.jaccard, ssd.jaccard),
    (D.dice, ssd.dice),
    (D.matching, ssd.hamming),
    (D.kulsinski, _kulsinski),
    (D.rogers_tanimoto, ssd.rogerstanimoto),
    (D.russellrao, ssd.russellrao),
    (D.sokal_sneath, ssd.sokalsneath),
    (D.sokal_michener, ssd.rogerstanimoto),
    (D.yule, ssd.yule),
]


@pytest.mark.parametrize(("fn", "ref", "kwds", "ref_kwds"), FLOAT_CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_float_distances_match_scipy(fn, ref, kwds, ref_kwds):
    for _ in range(5):
        x, y = RNG.uniform(0.01, 2.0, (2, N_FEATURES))
        assert fn(x, y, **kwds) == pytest.approx(ref(x, y, **ref_kwds), rel=1e-10)
        assert fn(x, x, **kwds) == pytest.approx(0.0, abs=1e-7)


def test_parameter_defaults_are_unit_weights():
    x, y = RNG.normal(size=(2, 9))
    e = ssd.euclidean(x, y)
    assert D.minkowski(x, y) == pytest.approx(e)
    assert D.weighted_minkowski(x, y) == pytest.approx(e)
    assert D.standardised_euclidean(x, y) == pytest.approx(e)
    assert D.mahalanobis(x, y) == pytest.approx(e)


@pytest.mark.parametrize(("fn", "ref"), BOOL_CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_boolean_distances_match_scipy(fn, ref):
    for _ in range(10):
        x, y = RNG.random((2, 12)) < 0.4
        assert fn(x.astype(np.float64), y.astype(np.float64)) == pytest.approx(ref(x, y), rel=1e-12)


def test_haversine_matches_sklearn_and_needs_two_coordinates():
    pts = np.column_stack([RNG.uniform(-1.4, 1.4, 8), RNG.uniform(-3, 3, 8)])
    ref = haversine_distances(pts)
    got = np.array([[D.haversine(a, b) for b in pts] for a in pts])
    np.testing.assert_allclose(got, ref, atol=1e-12)
    with pytest.raises(ValueError, match="2 dimensional"):
        D.haversine(np.zeros(3), np.ones(3))


def _hyperboloid(x, y):
    b = np.sqrt(1 + x @ x) * np.sqrt(1 + y @ y) - x @ y
    return np.arccosh(b)


GRAD_CASES = [
    (D.euclidean_grad, ssd.euclidean, {}),
    (D.manhattan_grad, ssd.cityblock, {}),
    (D.chebyshev_grad, ssd.chebyshev, {}),
    (D.minkowski_grad, lambda x, y: ssd.minkowski(x, y, 3.0), {"p": 3.0}),
    (D.haversine_grad, lambda x, y: haversine_distances([x], [y])[0, 0], {}),
    (D.hyperboloid_grad, _hyperboloid, {}),
    (D.cosine_grad, ssd.cosine, {}),
    (D.correlation_grad, ssd.correlation, {}),
]


@pytest.mark.parametrize(("fn", "ref", "kwds"), GRAD_CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_gradients_match_finite_differences(fn, ref, kwds):
    h = 1e-6
    for _ in range(5):
        x, y = RNG.uniform(-1.2, 1.2, (2, 2 if fn is D.haversine_grad else 5))
        d, grad = fn(x, y, **kwds)
        assert d == pytest.approx(ref(x, y), rel=1e-10)
        assert grad.shape == x.shape
        fd = [(ref(x + h * e, y) - ref(x - h * e, y)) / (2 * h) for e in np.eye(len(x))]
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6)


def test_named_distances_hold_umap_learns_names():
    aliases = {
        "l2": "euclidean",
        "l1": "manhattan",
        "taxicab": "manhattan",
        "linfinity": "chebyshev",
        "linfty": "chebyshev",
        "linf": "chebyshev",
        "seuclidean": "standardised_euclidean",
        "wminkowski": "weighted_minkowski",
        "braycurtis": "bray_curtis",
        "rogerstanimoto": "rogers_tanimoto",
        "sokalsneath": "sokal_sneath",
        "sokalmichener": "sokal_michener",
    }
    for alias, name in aliases.items():
        assert D.named_distances[alias] is getattr(D, name)
    plain = ["euclidean", "manhattan", "chebyshev", "minkowski", "mahalanobis", "canberra", "cosine"]
    plain += ["correlation", "hellinger", "haversine", "hamming", "jaccard", "dice", "matching", "kulsinski"]
    plain += ["russellrao", "yule", "standardised_euclidean", "weighted_minkowski"]
    for name in plain:
        assert D.named_distances[name] is getattr(D, name)
    assert len(D.named_distances) == len(aliases) + len(plain)
    grads = {"euclidean", "l2", "manhattan", "taxicab", "l1", "chebyshev", "linfinity", "linfty", "linf"}
    grads |= {"minkowski", "cosine", "correlation", "haversine", "hyperboloid"}
    assert set(D.named_distances_with_gradients) == grads
    for name, fn in D.named_distances_with_gradients.items():
        assert fn is getattr(D, f"{aliases.get(name, name)}_grad")


@pytest.mark.parametrize(
    ("metric", "kwds", "ref", "ref_kwds"),
    [
        ("hellinger", None, _hellinger, {}),
        ("cosine", None, "cosine", {}),
        ("minkowski", {"p": 3}, "minkowski", {"p": 3}),
        ("wminkowski", {"w": W, "p": 1.5}, "minkowski", {"w": W, "p": 1.5}),
        ("seuclidean", {"sigma": V}, "seuclidean", {"V": V}),
        ("mahalanobis", {"vinv": VI}, "mahalanobis", {"VI": VI}),
        ("jaccard", None, "jaccard", {}),
    ],
)
def test_pairwise_special_metric_matches_cdist(metric, kwds, ref, ref_kwds):
    X, Y = RNG.uniform(0.01, 1.0, (7, N_FEATURES)), RNG.uniform(0.01, 1.0, (4, N_FEATURES))
    if metric == "jaccard":
        X, Y = (X > 0.5).astype(float), (Y > 0.5).astype(float)
    got = D.pairwise_special_metric(X, Y, metric=metric, kwds=kwds)
    np.testing.assert_allclose(got, ssd.cdist(X, Y, ref, **ref_kwds), rtol=1e-10, atol=1e-12)
    square = D.pairwise_special_metric(X, metric=metric, kwds=kwds)
    np.testing.assert_allclose(square, ssd.squareform(ssd.pdist(X, ref, **ref_kwds)), rtol=1e-10, atol=1e-12)


def test_pairwise_special_metric_with_a_function_and_bad_input():
    X, Y = RNG.normal(size=(6, 4)), RNG.normal(size=(3, 4))
    got = D.pairwise_special_metric(X, Y, metric=D.minkowski, kwds={"p": 3.0})
    np.testing.assert_allclose(got, ssd.cdist(X, Y, "minkowski", p=3.0), rtol=1e-10)
    X[0, 0] = np.nan
    with pytest.raises(ValueError):
        D.pairwise_special_metric(X, metric="euclidean")
    with pytest.raises(ValueError, match="Unknown metric"):
        D.pairwise_special_metric(Y, metric="poincare")


# ------------------------------------------------------------------ sparse


def _sparse_pairs(binary, nonneg):
    M = sp.random(6, 15, density=0.4, format="csr", random_state=3, dtype=np.float32)  # as umapx stores it
    if binary:
        M.data[:] = 1.0
    elif not nonneg:
        M.data -= 0.5
    M.sort_indices()
    dense = M.toarray()
    for i in range(M.shape[0] - 1):
        a, b = M[i], M[i + 1]
        yield (a.indices, a.data, b.indices, b.data), dense[i].astype(np.float64), dense[i + 1].astype(np.float64)


@pytest.mark.parametrize("name", sorted(S.sparse_named_distances))
def test_sparse_distances_match_dense(name):
    binary = name in {"hamming", "jaccard", "dice", "matching", "kulsinski", "rogerstanimoto", "russellrao"}
    binary |= name in {"sokalmichener", "sokalsneath"}
    fn, dense_fn = S.sparse_named_distances[name], D.named_distances[name]
    for args, x, y in _sparse_pairs(binary, nonneg=name == "hellinger"):
        extra = (x.shape[0],) if name in S.sparse_need_n_features else ()
        assert fn(*args, *extra) == pytest.approx(dense_fn(x, y), rel=1e-5, abs=1e-6)


# ------------------------------------------------------------------ spectral


@pytest.fixture(scope="module")
def blobs():
    """Three far-apart blobs and their fuzzy graph (three connected components)."""
    from umapx import build_graph

    centres = np.array([[0.0, 0.0, 0.0], [100.0, 0.0, 0.0], [0.0, 80.0, 30.0]])
    X = np.concatenate([c + RNG.normal(size=(30, 3)) for c in centres]).astype(np.float32)
    labels = np.repeat(np.arange(3), 30)
    return X, labels, build_graph(X, n_neighbors=8, random_state=0).graph


def test_spectral_layout_is_finite_seeded_and_separates_components(blobs):
    X, labels, graph = blobs
    layout = spectral.spectral_layout(X, graph, 2, 42)
    assert layout.shape == (90, 2) and np.all(np.isfinite(layout))
    assert layout.tobytes() == spectral.spectral_layout(X, graph, 2, 42).tobytes()
    assert layout.tobytes() != spectral.spectral_layout(X, graph, 2, 43).tobytes()
    same = spectral.spectral_layout(X, graph, 2, np.random.default_rng(42))
    assert same.tobytes() == layout.tobytes()
    centres = np.array([layout[labels == c].mean(axis=0) for c in range(3)])
    radii = np.array([np.linalg.norm(layout[labels == c] - centres[c], axis=1).max() for c in range(3)])
    for a in range(3):
        for b in range(a):
            assert np.linalg.norm(centres[a] - centres[b]) > radii[a] + radii[b]
    assert np.all(np.isfinite(spectral.spectral_layout(None, graph, 3, None)))


def test_spectral_layout_of_a_connected_graph_is_laplacian_eigenvectors(blobs):
    X, labels, graph = blobs
    sub = graph[labels == 0][:, labels == 0]
    layout = spectral.tswspectral_layout(X[labels == 0], sub, 2, np.random.RandomState(0))
    d = np.asarray(sub.sum(axis=1)).ravel()
    norm_adj = sp.diags(1 / np.sqrt(d)) @ sub @ sp.diags(1 / np.sqrt(d))
    for v in layout.T:
        lam = v @ (norm_adj @ v) / (v @ v)
        assert np.linalg.norm(norm_adj @ v - lam * v) < 1e-2 * np.linalg.norm(v)
        assert lam < 1 - 1e-6  # not the trivial eigenvector sqrt(d)


def test_component_and_multi_component_layouts(blobs):
    X, labels, graph = blobs
    centres = spectral.component_layout(X, 3, labels, 2, 1)
    assert centres.shape == (3, 2) and np.all(np.isfinite(centres))
    assert len(np.unique(centres.round(6), axis=0)) == 3
    multi = spectral.multi_component_layout(X, graph, 3, (labels + 1) % 3, 2, 5)
    assert multi.tobytes() == spectral.spectral_layout(X, graph, 2, 5).tobytes()
    with pytest.raises(ValueError, match="connected components"):
        spectral.multi_component_layout(X, graph, 3, np.arange(90) % 3, 2, 5)


# ------------------------------------------------------------------ utils


def test_fast_knn_indices_matches_argsort():
    X = RNG.integers(0, 5, size=(20, 30)).astype(np.float64)  # many ties
    idx = utils.fast_knn_indices(X, 7)
    assert idx.dtype == np.int32 and idx.shape == (20, 7)
    np.testing.assert_array_equal(idx, np.argsort(X, axis=1, kind="mergesort")[:, :7])
    np.testing.assert_array_equal(np.take_along_axis(X, idx, axis=1), np.sort(X, axis=1)[:, :7])


def test_disconnected_vertices_of_a_fitted_model():
    from umapx import UMAP

    X = np.concatenate([RNG.normal(size=(40, 3)), [[50.0, 50.0, 50.0]]]).astype(np.float32)
    with pytest.warns(UserWarning, match="no edges"):
        model = UMAP(n_neighbors=5, disconnection_distance=10.0, n_epochs=10, random_state=0).fit(X)
    expected = np.zeros(41, dtype=bool)
    expected[40] = True
    np.testing.assert_array_equal(utils.disconnected_vertices(model), expected)


def test_disconnected_vertices_of_a_hand_made_graph():
    class Model:
        graph_ = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0.5]]))

    np.testing.assert_array_equal(utils.disconnected_vertices(Model()), [False, False, True, False])


def test_average_nn_distance():
    M = sp.csr_matrix(np.array([[0, 2.0, 4.0], [1.0, 0, 0], [0, 0, 0]]))
    with pytest.warns(UserWarning, match="disconnected"):
        avg = utils.average_nn_distance(M)
    np.testing.assert_array_equal(avg[:2], [3.0, 1.0])
    assert np.isnan(avg[2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(utils.average_nn_distance(M[:2]), [3.0, 1.0])


def test_csr_unique():
    base = sp.random(5, 8, density=0.4, format="csr", random_state=1)
    M = sp.csr_matrix(base[RNG.integers(0, 5, size=12)])
    dense = M.toarray()
    index, inverse, counts = utils.csr_unique(M)
    _, ref_index, ref_counts = np.unique(dense, axis=0, return_index=True, return_counts=True)
    np.testing.assert_array_equal(np.sort(index), np.sort(ref_index))
    np.testing.assert_array_equal(np.sort(counts), np.sort(ref_counts))
    np.testing.assert_array_equal(dense[index][inverse], dense)
    np.testing.assert_array_equal(counts, np.bincount(inverse))
    (only_counts,) = utils.csr_unique(M, return_index=False, return_inverse=False)
    np.testing.assert_array_equal(only_counts, counts)
    # an explicitly stored zero changes nothing
    coo, col = M.tocoo(), int(np.flatnonzero(dense[3] == 0)[0])
    Z = sp.csr_matrix((np.append(coo.data, 0.0), (np.append(coo.row, 3), np.append(coo.col, col))), shape=M.shape)
    assert Z.nnz == M.nnz + 1
    for got, want in zip(utils.csr_unique(Z), (index, inverse, counts), strict=True):
        np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------ validation


@pytest.fixture(scope="module")
def embedded():
    X = RNG.normal(size=(60, 5))
    Y = X[:, :2] + RNG.normal(scale=0.5, size=(60, 2))
    return X, Y


def test_trustworthiness_vector_matches_sklearn(embedded):
    X, Y = embedded
    vec = validation.trustworthiness_vector(X, Y, 12)
    assert vec.shape == (13,) and vec[0] == 1.0
    for k in (1, 2, 5, 12):
        assert vec[k] == pytest.approx(trustworthiness(X, Y, n_neighbors=k), abs=1e-12)
    assert vec[5] < 1.0  # the noisy projection loses some neighbours


def test_trustworthiness_bulk_and_calculator(embedded):
    X, Y = embedded
    source = np.argsort(ssd.squareform(ssd.pdist(X)), axis=1)
    emb = np.argsort(ssd.squareform(ssd.pdist(Y)), axis=1)[:, 1:]
    bulk = validation.trustworthiness_vector_bulk(source, emb, 10)
    assert bulk[0] == 0.0
    np.testing.assert_allclose(bulk[1:], validation.trustworthiness_vector(X, Y, 10)[1:], atol=1e-12)
    for metric, ref in ((D.manhattan, "manhattan"), ("cosine", "cosine")):
        vec = validation.make_trustworthiness_calculator(metric)(X, emb, 6)
        assert vec[0] == 1.0
        for k in (1, 3, 6):
            assert vec[k] == pytest.approx(trustworthiness(X, Y, n_neighbors=k, metric=ref), abs=1e-12)
