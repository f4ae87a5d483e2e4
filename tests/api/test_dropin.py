"""umapx as a drop-in for umap-learn: its functional API (``umapx.umap_``), the estimator behaviour its
users rely on, scikit-learn's estimator contract, every input kind, and scanpy running on umapx."""

import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils.estimator_checks import parametrize_with_checks

import umapx
from umapx import umap_
from umapx._sklearn import EXPECTED_FAILED_CHECKS
from umapx.evaluation import knn_accuracy, silhouette, trustworthiness
from umapx.targets import levenshtein, target_distance

FAST = {"n_epochs": 60, "random_state": 0}


@pytest.fixture(scope="module")
def fitted(digits):
    X, y = digits
    return umapx.UMAP(random_state=0).fit(X[:1000])


# ---------------------------------------------------------------------------------- functional API
def test_functional_graph_is_the_estimators(digits, fitted):
    X = digits[0][:1000]
    idx, dist, index = umap_.nearest_neighbors(X, 15, "euclidean", {}, False, 0)
    assert idx.shape == dist.shape == (1000, 15) and (idx[:, 0] == np.arange(1000)).all()
    brute = np.sort(np.sqrt(((X[:50, None, :] - X[None, :, :]) ** 2).sum(-1)), axis=1)[:, :15]
    np.testing.assert_allclose(dist[:50], brute, rtol=1e-4, atol=1e-3)
    graph, sigmas, rhos = umap_.fuzzy_simplicial_set(X, 15, 0, "euclidean")
    assert sp.isspmatrix_coo(graph) and sigmas.shape == rhos.shape == (1000,)
    assert (abs(graph.tocsr() - fitted.graph_) > 1e-6).nnz == 0
    # scanpy's call: a placeholder X (n x 1 sparse), no random state, no metric, the kNN given
    placeholder = sp.coo_matrix((1000, 1))
    again, _, _ = umap_.fuzzy_simplicial_set(placeholder, 15, None, None, knn_indices=idx, knn_dists=dist)
    assert (abs(again.tocsr() - fitted.graph_) > 1e-6).nnz == 0
    directed, _, _, dmat = umap_.fuzzy_simplicial_set(
        X, 15, 0, "euclidean", knn_indices=idx, knn_dists=dist, apply_set_operations=False, return_dists=True
    )
    P = directed.tocsr()
    assert (abs(P - P.T) > 1e-6).nnz > 0, "without set operations the memberships stay directed"
    union = P + P.T - P.multiply(P.T)
    assert (abs(union - fitted.graph_) > 1e-6).nnz == 0
    assert np.isclose(dmat.tocsr()[0, idx[0, 1]], dist[0, 1])


def test_functional_pieces(digits):
    X = digits[0][:300]
    idx, dist, _ = umap_.nearest_neighbors(X, 10, "euclidean", None, False, None)
    sigmas, rhos = umap_.smooth_knn_dist(dist, 10)
    total = np.exp(-np.maximum(dist[:, 1:] - rhos[:, None], 0) / sigmas[:, None]).sum(axis=1)
    np.testing.assert_allclose(total, np.log2(10), rtol=1e-3)
    np.testing.assert_array_equal(rhos, dist[:, 1])
    rows, cols, vals, dists = umap_.compute_membership_strengths(idx, dist, sigmas, rhos, return_dists=True)
    assert rows.shape == cols.shape == vals.shape == dists.shape == (3000,)
    assert (vals[cols == rows] == 0).all() and ((vals > 0) & (vals <= 1))[cols != rows].all()
    assert umap_.compute_membership_strengths(idx, dist, sigmas, rhos)[3] is None
    a, b = umap_.find_ab_params(1.0, 0.1)
    assert abs(a - 1.577) < 0.01 and abs(b - 0.895) < 0.01
    assert (umap_.INT32_MIN, umap_.INT32_MAX) == (-(2**31) + 1, 2**31 - 2)
    eps = umap_.make_epochs_per_sample(np.array([1.0, 0.5, 0.001, 0.0]), 200)
    np.testing.assert_allclose(eps, [1.0, 2.0, 1000.0, -1.0])
    with pytest.raises(ValueError, match="bandwidth=1.0 only"):
        umap_.smooth_knn_dist(dist, 10, bandwidth=2.0)


def test_simplicial_set_embedding_as_good_as_fit(digits, fitted):
    X, y = digits[0][:1000], digits[1][:1000]
    graph, _, _ = umap_.fuzzy_simplicial_set(X, 15, 0, "euclidean")
    a, b = umap_.find_ab_params(1.0, 0.1)
    args = (X, graph, 2, 1.0, a, b, 1.0, 5, 500, "spectral", 0, "euclidean", {}, False, {})
    np.testing.assert_array_equal(umap_.simplicial_set_embedding(*args, False)[0], fitted.embedding_)
    args = (*args[:10], np.random.RandomState(0), *args[11:])
    embedding, aux = umap_.simplicial_set_embedding(*args, False)
    assert embedding.shape == (1000, 2) and embedding.dtype == np.float32 and aux == {}
    fit = fitted.embedding_
    assert trustworthiness(X, embedding) > trustworthiness(X, fit) - 0.01
    assert knn_accuracy(embedding, y) > knn_accuracy(fit, y) - 0.01
    # an array init (scanpy's init_pos), the gradient function as output metric, epochs as a list
    from umapx import distances

    start = embedding * 1.0
    out, aux = umap_.simplicial_set_embedding(
        *args[:8], [0, 5, 10], start, 0, *args[11:], False, output_metric=distances.euclidean_grad
    )
    assert len(aux["embedding_list"]) == 2 and np.array_equal(aux["embedding_list"][-1], out)
    assert np.abs(out - start).max() < 0.5 * np.ptp(start), "10 epochs from a good layout stay near it"


def test_simplicial_set_embedding_densmap(digits):
    X = digits[0][:600]
    graph, _, _, dmat = umap_.fuzzy_simplicial_set(X, 15, 0, "euclidean", return_dists=True)
    kw = {"lambda": 2.0, "frac": 0.3, "var_shift": 0.1, "n_neighbors": 15, "graph_dists": dmat.tocsr()}
    emb, aux = umap_.simplicial_set_embedding(
        X, graph, 2, 1.0, 1.577, 0.895, 1.0, 5, 100, "spectral", 0, "euclidean", {}, True, kw, True
    )
    assert set(aux) == {"rad_orig", "rad_emb"}
    assert np.corrcoef(aux["rad_orig"], aux["rad_emb"])[0, 1] > 0.3


def test_discrete_intersection_and_set_operations(fitted):
    G = fitted.graph_
    y = np.repeat([0, 1], 500)
    sup = umap_.discrete_metric_simplicial_set_intersection(G, y, far_dist=5.0)
    coo = sup.tocoo()
    cross = y[coo.row] != y[coo.col]
    assert coo.data[cross].mean() < 0.05 * coo.data[~cross].mean()
    ordinal = umap_.discrete_metric_simplicial_set_intersection(G, np.arange(1000.0), metric="ordinal", metric_scale=5)
    assert ordinal.shape == G.shape
    union = umap_.general_simplicial_set_union(G, G)
    np.testing.assert_allclose(union.toarray(), (2 * G - G.multiply(G)).toarray(), atol=1e-6)
    assert umap_.general_simplicial_set_intersection(G, G).nnz == G.nnz
    with pytest.raises(ValueError, match="discrete metric must be"):
        umap_.discrete_metric_simplicial_set_intersection(G, y, metric="jaccard")


# ---------------------------------------------------------------------------------- targets
def test_target_distances():
    assert levenshtein("kitten", "sitting") == 3 and levenshtein("", "abc") == 3
    y = np.array([0.0, 2.0, 4.0, 8.0])
    np.testing.assert_allclose(target_distance(y, "ordinal")(y[:1], y[1:]), [0.5, 1.0, 2.0])
    counts = np.array([0.0, 1, 2, 3, 5, 9])
    d = target_distance(counts, "count")
    lam = counts.mean()
    from scipy.stats import poisson

    direct = poisson.logpmf(np.arange(2, 5), lam).sum() / (poisson.logpmf(np.arange(0, 9), lam).sum() / 2)
    np.testing.assert_allclose(d(np.array([2.0]), np.array([5.0])), [direct])
    np.testing.assert_allclose(d(np.array([5.0]), np.array([2.0])), [direct])
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        umapx.UMAP(target_metric="count").fit(np.eye(5), [0, 1, 2.5, 3, 4])
    words = np.array(["abcdefghi", "abcdefghx", "zzzzzzzzz", "abcdefghi"])  # capped at a third of the longest
    s = target_distance(words, "string")(words[:1].repeat(4), words)
    np.testing.assert_allclose(s, [0, 1 / 3, 1, 0])


def test_labels_of_any_type(digits):
    X, y = digits[0][:600], digits[1][:600]
    base = umapx.UMAP(**FAST).fit_transform(X, y)
    names = np.array([f"digit {v}" for v in y])  # sorts as the integers do
    np.testing.assert_array_equal(umapx.UMAP(**FAST).fit_transform(X, names), base)
    np.testing.assert_array_equal(umapx.UMAP(**FAST).fit_transform(X, names.astype(object)), base)
    semi_int = np.where(np.arange(600) % 3 == 0, -1, y)
    semi = umapx.UMAP(**FAST).fit_transform(X, semi_int)
    as_nan = np.where(semi_int == -1, np.nan, semi_int.astype(float))
    np.testing.assert_array_equal(umapx.UMAP(**FAST).fit_transform(X, as_nan), semi)
    as_none = np.where(semi_int == -1, None, names.astype(object))
    np.testing.assert_array_equal(umapx.UMAP(**FAST).fit_transform(X, as_none), semi)


def test_unlabelled_marks_and_labels_that_do_not_compare():
    import pandas as pd

    from umapx.targets import category_codes

    marks = np.array(["b", "a", None, np.float32("nan"), pd.NA, -1, "a"], dtype=object)
    np.testing.assert_array_equal(category_codes(marks), [1, 0, -1, -1, -1, -1, 0])
    np.testing.assert_array_equal(category_codes(np.array([1, "1", "x", 1], dtype=object)), [0, 1, 2, 0])
    nullable = pd.array(["x", None, "y"], dtype="string").to_numpy()
    np.testing.assert_array_equal(category_codes(nullable), [0, -1, 1])


@pytest.mark.parametrize("metric", ["ordinal", "count", "string"])
def test_discrete_target_metrics_pull_equal_targets_together(digits, metric):
    X, y = digits[0][:800], digits[1][:800]
    target = y.astype(str) if metric == "string" else y
    plain = umapx.UMAP(**FAST).fit_transform(X)
    supervised = umapx.UMAP(**FAST, target_metric=metric).fit_transform(X, target)
    assert silhouette(supervised, y) > silhouette(plain, y) + 0.05


# ---------------------------------------------------------------------------------- estimator
def test_unique_for_sparse_and_precomputed(digits):
    X = digits[0][:400]
    X2 = np.vstack([X, X[:40]])
    distances = np.sqrt(((X2[:, None] - X2[None]) ** 2).sum(-1))
    for data, kw in [(sp.csr_matrix(X2), {}), (distances, {"metric": "precomputed"})]:
        model = umapx.UMAP(unique=True, **FAST, **kw).fit(data)
        assert model.graph_.shape == (400, 400)
        np.testing.assert_array_equal(model.embedding_[400:], model.embedding_[:40])
    sparse = umapx.UMAP(unique=True, **FAST).fit(sp.csr_matrix(X2))
    np.testing.assert_array_equal(sparse.transform(sp.csr_matrix(X2[[3, 403]])), sparse.embedding_[[3, 403]])
    placed = model.transform(distances[[3, 403]])  # precomputed rows are placed, each as its duplicate
    np.testing.assert_array_equal(placed[0], placed[1])
    assert np.linalg.norm(placed[0] - model.embedding_[3]) < 0.1 * np.ptp(model.embedding_)
    with pytest.raises(ValueError, match="a single distinct point"):
        umapx.UMAP(unique=True).fit(np.ones((5, 3)))


@pytest.mark.parametrize("n", [2, 3, 9])
@pytest.mark.parametrize(
    "kw", [{}, {"force_approximation_algorithm": True}, {"metric": "manhattan"}, {"densmap": True}]
)
def test_tiny_inputs(n, kw):
    X = np.random.default_rng(n).normal(size=(n, 6)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = umapx.UMAP(random_state=0, **kw).fit(X)
        new = model.transform(X[:2] + 0.01)
    assert model.graph_.nnz > 0 and np.isfinite(model.embedding_).all() and np.isfinite(new).all()


def test_ensure_all_finite_lets_nan_reach_a_metric_function():
    import numba

    @numba.njit
    def nan_euclidean(x, y):
        total, seen = 0.0, 0
        for i in range(x.shape[0]):
            if not (np.isnan(x[i]) or np.isnan(y[i])):
                total += (x[i] - y[i]) ** 2
                seen += 1
        return np.sqrt(total / max(seen, 1))

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (60, 5)), rng.normal(8, 1, (60, 5))]).astype(np.float32)
    X[::7, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        umapx.UMAP(metric=nan_euclidean).fit(X)
    with pytest.raises(ValueError, match="NaN or infinity"):
        umapx.UMAP().fit(X, ensure_all_finite=False)
    model = umapx.UMAP(metric=nan_euclidean, **FAST)
    Y = model.fit_transform(X, ensure_all_finite=False)
    assert np.isfinite(Y).all() and knn_accuracy(Y, np.repeat([0, 1], 60)) == 1.0
    assert np.isfinite(model.transform(X[:5] + 0.1, ensure_all_finite=False)).all()


def test_umap_learn_fitted_attributes(digits, fitted):
    X = digits[0][:1000]
    m = fitted
    assert (m._a, m._b) == (m.a_, m.b_) and m._n_neighbors == 15 and m._initial_alpha == 1.0
    np.testing.assert_array_equal(m._raw_data, X)
    assert m._knn_indices.shape == m._knn_dists.shape == (1000, 15)
    assert m._sigmas.shape == m._rhos.shape == (1000,) and m._small_data and not m._sparse_data
    assert not m._supervised and m._disconnection_distance == np.inf and m._metric_kwds == {}
    assert isinstance(m._input_hash, str) and m._knn_search_index.n == 1000
    assert m.knn_indices is m._knn_indices and m.knn_dists is m._knn_dists and m._n_features_out == 2
    assert m._densmap_kwds == {"lambda": 2.0, "frac": 0.3, "var_shift": 0.1} and m.n_epochs_list is None
    assert m._output_metric_kwds == {} == m._target_metric_kwds
    with pytest.raises(AttributeError, match="read from its fitted state"):
        m._sigmas = np.zeros(1000)
    with pytest.raises(umapx.NotFittedError):
        _ = umapx.UMAP()._a


def test_transform_of_training_rows_returns_their_embedding(digits, fitted):
    X = digits[0][:1000]
    np.testing.assert_array_equal(fitted.transform(X), fitted.embedding_)
    mixed = np.vstack([X[[5, 7]], digits[0][1500:1502]])
    out = fitted.transform(mixed)
    np.testing.assert_array_equal(out[:2], fitted.embedding_[[5, 7]])
    np.testing.assert_array_equal(out[2:], fitted.transform(digits[0][1500:1502]))


def test_a_model_built_by_hand_as_scanpy_ingest_does(digits, fitted):
    """scanpy's ``ingest`` assigns umap-learn's attributes to a fresh UMAP and calls transform."""
    X, new = digits[0][:1000], digits[0][1000:1100]
    hand = umapx.UMAP(random_state=0)
    hand._initial_alpha = hand.learning_rate
    hand._raw_data = X
    hand.knn_dists = None
    hand._validate_parameters()
    hand.embedding_ = fitted.embedding_
    hand._sparse_data, hand._small_data, hand._metric_kwds = False, True, {}
    hand._n_neighbors = 15
    hand._knn_search_index = object()  # pynndescent's index in scanpy; umapx builds its own
    hand._a, hand._b, hand._input_hash = fitted._a, fitted._b, None
    np.testing.assert_array_equal(hand.transform(new), fitted.transform(new))
    hand.embedding_ = fitted.embedding_ + 1.0  # settable on a fitted model too
    np.testing.assert_array_equal(hand.embedding_, fitted.embedding_ + 1.0)
    with pytest.raises(ValueError, match="embedding_ must keep the shape"):
        hand.embedding_ = np.zeros((3, 2))


def test_n_epochs_list_keeps_each_layout(digits):
    X = digits[0][:400]
    model = umapx.UMAP(n_epochs=[10, 30, 60], random_state=0).fit(X)
    assert [e.shape for e in model.embedding_list_] == [(400, 2)] * 3
    np.testing.assert_array_equal(model.embedding_list_[-1], model.embedding_)
    assert not np.array_equal(model.embedding_list_[0], model.embedding_list_[1])
    np.testing.assert_array_equal(model.embedding_, umapx.UMAP(n_epochs=60, random_state=0).fit(X).embedding_)
    with pytest.raises(ValueError, match="n_epochs.*a list of positive ints"):
        umapx.UMAP(n_epochs=[10, 0]).fit(X)
    other = umapx.UMAP(n_epochs=[5, 10], output_metric="manhattan", random_state=0).fit(X)
    assert len(other.embedding_list_) == 2 and other.loss_history_ is None
    with pytest.raises(ValueError, match="'n_epochs' parameter of AlignedUMAP"):
        umapx.AlignedUMAP(n_epochs=[[10, 20], [10, 20]]).fit([X[:200], X[200:]], relations=[{i: i for i in range(50)}])


def test_saved_models_keep_epoch_layouts_and_feature_names(digits, tmp_path):
    import pandas as pd
    from sklearn.base import clone

    frame = pd.DataFrame(digits[0][:300], columns=[f"px{i}" for i in range(64)])
    model = umapx.UMAP(n_epochs=[10, 20], random_state=0).set_output(transform="pandas").fit(frame)
    model.save(tmp_path / "m.umapx")
    again = umapx.load(tmp_path / "m.umapx")
    assert all(np.array_equal(a, b) for a, b in zip(again.embedding_list_, model.embedding_list_, strict=True))
    assert list(again.feature_names_in_) == list(frame.columns)
    with pytest.raises(ValueError, match="feature names"):
        again.transform(frame.iloc[:5, ::-1])
    assert isinstance(clone(model).fit(frame).transform(frame.iloc[:5] + 0.5), pd.DataFrame)
    graph_mode = clone(model).set_params(transform_mode="graph", n_epochs=20).fit(frame)
    assert sp.issparse(graph_mode.transform(frame.iloc[:5] + 0.5))


def test_diagnostic_all(fitted):
    import matplotlib

    matplotlib.use("Agg")
    import umapx.plot

    axes = umapx.plot.diagnostic(fitted, diagnostic_type="all", width=200, height=200)
    assert axes.shape == (2, 3)
    titles = [ax.get_title() for ax in axes.ravel()[:5]]
    assert all(titles) and "PCA" in titles[0] and "Jaccard" in titles[4] and not axes.ravel()[5].axison
    ax = umapx.plot.nearest_neighbour_distribution(fitted, bins=10)
    heights = [patch.get_height() for patch in ax.patches]
    assert len(heights) == 10 and sum(heights) == 1000
    D = fitted.graph_dists_
    mean = np.asarray(D.sum(axis=1)).ravel() / np.diff(D.indptr)
    assert ax.patches[0].get_x() == pytest.approx(mean.min())
    with pytest.raises(ValueError, match="a combined model"):
        umapx.plot.nearest_neighbour_distribution(fitted + fitted)


# ---------------------------------------------------------------------------------- scikit-learn
@parametrize_with_checks(
    [umapx.UMAP(n_epochs=50, random_state=0), umapx.DensMAP(n_epochs=50, random_state=0)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {}),
)
def test_sklearn_check_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_sklearn_tools(digits):
    import pandas as pd
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = digits[0][:500], digits[1][:500]
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)], index=np.arange(500) + 1000)
    model = umapx.UMAP(**FAST).set_output(transform="pandas")
    out = model.fit_transform(frame)
    assert list(out.columns) == ["umap0", "umap1"] and (out.index == frame.index).all()
    assert list(model.feature_names_in_) == list(frame.columns)
    assert list(model.get_feature_names_out()) == ["umap0", "umap1"]
    with pytest.raises(ValueError, match="feature names"):
        model.transform(frame.rename(columns={"px0": "other"}).iloc[:5])
    assert clone(model).get_params() == model.get_params()
    pipe = make_pipeline(StandardScaler(), umapx.UMAP(**FAST)).set_output(transform="pandas")
    assert pipe.fit_transform(frame).columns.tolist() == ["umap0", "umap1"]

    def score(estimator, X_, y_):
        return knn_accuracy(estimator.transform(X_), y_)

    search = GridSearchCV(umapx.UMAP(**FAST), {"n_neighbors": [5, 30]}, scoring=score, cv=2).fit(X, y)
    assert search.best_params_["n_neighbors"] in (5, 30) and search.best_score_ > 0.8
    with pytest.raises(ValueError, match="set_output"):
        model.set_output(transform="polars!")


def test_plain_fit_imports_no_scikit_learn():
    code = (
        "import sys, numpy as np, umapx\n"
        "X = np.random.default_rng(0).normal(size=(300, 8)).astype('float32')\n"
        "m = umapx.UMAP(n_epochs=20).fit(X); m.transform(X[:5] + 0.1)\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('sklearn', 'pandas', 'torch')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------- input kinds
def _kinds(X):
    import pandas as pd

    yield "float64", X.astype(np.float64)
    yield "fortran", np.asfortranarray(X)
    yield "read-only", X.copy()
    yield "int", X.astype(np.int64)
    yield "uint8", X.astype(np.uint8)
    yield "pandas", pd.DataFrame(X)
    for fmt in ("csr_matrix", "csc_matrix", "coo_matrix", "lil_matrix", "dok_matrix", "bsr_matrix", "dia_matrix"):
        yield fmt, getattr(sp, fmt)(X.astype(np.float64))
    for fmt in ("csr_array", "csc_array", "coo_array"):
        yield fmt, getattr(sp, fmt)(X)


def test_every_input_kind_gives_the_same_embedding(digits, tmp_path):
    X = digits[0][:300]  # integer-valued pixels, exact in every dtype
    dense = umapx.UMAP(**FAST).fit_transform(np.ascontiguousarray(X, dtype=np.float32))
    sparse = umapx.UMAP(**FAST).fit_transform(sp.csr_matrix(X, dtype=np.float32))
    path = tmp_path / "X.npy"
    np.save(path, X)
    kinds = [*_kinds(X), ("memmap", np.load(path, mmap_mode="r")), ("bool", X > 8)]
    for name, data in kinds:
        if name == "read-only":
            data.setflags(write=False)
        before = data.copy()
        expected = dense if not sp.issparse(data) else sparse
        if name == "bool":
            expected = umapx.UMAP(**FAST).fit_transform((X > 8).astype(np.float32))
        np.testing.assert_array_equal(umapx.UMAP(**FAST).fit_transform(data), expected, err_msg=name)
        if not sp.issparse(data):
            np.testing.assert_array_equal(np.asarray(data), np.asarray(before), err_msg=f"{name} was changed")


@pytest.mark.parametrize("kind", ["float64", "fortran", "int", "csr_matrix", "csr_array"])
def test_input_is_copied_once(digits, kind):
    from umapx._validation import check_array

    X = np.tile(digits[0], (4, 1))
    data = dict(_kinds(X))[kind]
    tracemalloc.start()
    out = check_array(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    size = out.nbytes if not sp.issparse(out) else out.data.nbytes + out.indices.nbytes + out.indptr.nbytes
    assert peak < 1.3 * size, f"{kind}: peak {peak} for an output of {size} bytes"
    parts = ("data", "indices", "indptr") if sp.issparse(data) else (None,)
    for part in parts:
        theirs, ours = (data, out) if part is None else (getattr(data, part), getattr(out, part))
        assert not np.shares_memory(ours, theirs), f"{kind}: the {part or 'array'} is shared with the input"


# ---------------------------------------------------------------------------------- scanpy
def _scanpy_quality(adata_of, seed, labels):
    import scanpy as sc

    adata = adata_of()
    sc.pp.pca(adata, random_state=seed)
    sc.pp.neighbors(adata, random_state=seed)
    sc.tl.umap(adata, random_state=seed)
    Y = adata.obsm["X_umap"]
    return trustworthiness(adata.X, Y), knn_accuracy(Y, labels)


def test_scanpy_runs_on_umapx(real_data, monkeypatch):
    import anndata as ad
    import pynndescent.rp_trees
    import scanpy as sc

    import umapx.compat
    import umapx.umap_

    X, y = real_data("pbmc68k_reduced")

    def adata_of():
        adata = ad.AnnData(X.copy())
        adata.obs["label"] = y.astype(str)
        return adata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        learn = np.mean([_scanpy_quality(adata_of, seed, y) for seed in range(3)], axis=0)
        calls = []
        real_embedding = umapx.umap_.simplicial_set_embedding
        monkeypatch.setattr(
            umapx.umap_, "simplicial_set_embedding", lambda *a, **k: calls.append(1) or real_embedding(*a, **k)
        )
        with umapx.compat.use_as_umap():
            ours = np.mean([_scanpy_quality(adata_of, seed, y) for seed in range(3)], axis=0)
            # ingest: half of the cells mapped onto an embedding of the other half
            ref, new = adata_of()[:350].copy(), adata_of()[350:].copy()
            sc.pp.pca(ref, random_state=0)
            sc.pp.neighbors(ref, random_state=0)
            sc.tl.umap(ref, random_state=0)
            # scanpy 1.11.5 hands pynndescent 0.7's n_search_trees (None) to make_forest; earlier releases had 1
            make_forest = pynndescent.rp_trees.make_forest
            monkeypatch.setattr(pynndescent.rp_trees, "make_forest", lambda d, k, n, *a: make_forest(d, k, n or 1, *a))
            transforms = []
            transform = umapx.UMAP.transform
            monkeypatch.setattr(umapx.UMAP, "transform", lambda self, *a: transforms.append(1) or transform(self, *a))
            sc.tl.ingest(new, ref, obs="label")
    assert len(calls) == 4 and transforms == [1], "scanpy ran on umapx"
    assert ours[0] > learn[0] - 0.02 and ours[1] > learn[1] - 0.02, (ours, learn)
    placed = new.obsm["X_umap"]
    assert placed.shape == (350, 2) and np.isfinite(placed).all()
    assert knn_accuracy(np.vstack([ref.obsm["X_umap"], placed]), y) > learn[1] - 0.1
    assert (new.obs["label"].to_numpy() == y[350:].astype(str)).mean() > 0.6
    import umap

    assert umap.__name__ == "umap", "use_as_umap's block gives umap back to umap-learn"


def test_use_as_umap_gives_umapx_modules_and_gives_them_back():
    import importlib

    import umapx.compat

    before = {name: module for name, module in sys.modules.items() if name.split(".")[0] == "umap"}
    with umapx.compat.use_as_umap():
        import umap

        assert umap is umapx and umap.UMAP is umapx.UMAP
        for name in ("umap_", "distances", "sparse", "spectral", "utils", "validation", "aligned_umap"):
            assert importlib.import_module(f"umap.{name}") is importlib.import_module(f"umapx.{name}")
    after = {name: module for name, module in sys.modules.items() if name.split(".")[0] == "umap"}
    assert after == before
