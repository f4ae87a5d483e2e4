"""Tests of umapx.evaluation: agreement with scikit-learn, hand-computed cases, bad inputs."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import pdist, squareform
from scipy.stats import spearmanr
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, load_iris, make_blobs
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness as sk_trustworthiness
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from threadpoolctl import threadpool_limits

from umapx.evaluation import (
    continuity,
    distance_spearman,
    evaluate,
    kmeans_ari,
    kmeans_nmi,
    knn_accuracy,
    local_radius_correlation,
    reconstruction_mse,
    rnx_auc,
    rnx_curve,
    silhouette,
    trustworthiness,
)


@pytest.fixture(scope="module")
def digits():
    """Digits with a 1e-6 jitter (the raw pixels are integers, so distances tie) and PCA-2."""
    data = load_digits()
    X = data.data + np.random.default_rng(0).normal(scale=1e-6, size=data.data.shape)
    Y = PCA(n_components=2, random_state=0).fit_transform(data.data)
    return X, Y, data.target


@pytest.fixture(scope="module")
def blobs():
    """3000 points in 10-D with a noisy 2-D projection as embedding."""
    X, y = make_blobs(n_samples=3000, n_features=10, centers=6, random_state=1)
    rng = np.random.default_rng(1)
    Y = X[:, :2] + rng.normal(scale=2.0, size=(3000, 2))
    return X, Y, y


def _random_rotation(d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q


def _rank_matrix(X):
    """Full rank matrix: R[i, j] = rank of j among i's neighbours (1 = nearest)."""
    D = squareform(pdist(X))
    np.fill_diagonal(D, np.inf)
    order = np.argsort(D, axis=1, kind="stable")
    R = np.empty_like(order)
    R[np.arange(len(X))[:, None], order] = np.arange(1, len(X) + 1)
    return R, order


# ------------------------------------------------------------------ trustworthiness


@pytest.mark.parametrize("k", [1, 5, 15])
def test_trustworthiness_matches_sklearn_on_digits(digits, k):
    X, Y, _ = digits
    ours = trustworthiness(X, Y, k)
    assert ours == pytest.approx(sk_trustworthiness(X, Y, n_neighbors=k), abs=1e-6)
    assert 0.7 < ours < 0.95  # a PCA-2 view of digits is informative but far from perfect
    # scikit-learn's keyword names call the same computation
    assert trustworthiness(X, Y, n_neighbors=k) == ours
    assert trustworthiness(X, X_embedded=Y, n_neighbors=k) == ours


@pytest.mark.parametrize("k", [5, 15])
def test_continuity_is_swapped_sklearn_trustworthiness(digits, k):
    X, Y, _ = digits
    assert continuity(X, Y, k) == pytest.approx(sk_trustworthiness(Y, X, n_neighbors=k), abs=1e-6)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
def test_trustworthiness_matches_sklearn_iris_like(metric):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((150, 4)) + np.repeat(rng.standard_normal((3, 4)) * 3, 50, axis=0)
    Y = X @ rng.standard_normal((4, 2))
    for k in (3, 10, 30):
        expected = sk_trustworthiness(X, Y, n_neighbors=k, metric=metric)
        assert trustworthiness(X, Y, k, metric=metric) == pytest.approx(expected, abs=1e-6)


def test_trustworthiness_on_real_iris_matches_sklearn():
    X = load_iris().data + np.random.default_rng(0).normal(scale=1e-7, size=(150, 4))
    Y = PCA(n_components=2, random_state=0).fit_transform(X)
    assert trustworthiness(X, Y, 10) == pytest.approx(sk_trustworthiness(X, Y, n_neighbors=10), abs=1e-6)


def test_ties_stay_close_to_sklearn_on_raw_digits():
    # raw digit pixels give many tied distances: we use mean ranks, sklearn argsort order
    data = load_digits()
    Y = PCA(n_components=2, random_state=0).fit_transform(data.data)
    assert trustworthiness(data.data, Y, 10) == pytest.approx(
        sk_trustworthiness(data.data, Y, n_neighbors=10), abs=1e-4
    )


def test_hand_computed_five_points():
    # Data on a line at 0, 1, 3, 7, 15 (no tied distances); in the embedding, point 4 is moved
    # from 15 to -0.5, next to point 0. With k = 1:
    #   embedding nearest neighbours: 0->4, 1->0, 2->1, 3->2, 4->0
    #   data ranks of those: r(0,4) = 4 (0 is nearest to 1, 3, 7, then 15), r(4,0) = 4,
    #   the other three are data nearest neighbours (rank 1, no penalty).
    #   T = 1 - 2 / (n k (2n - 3k - 1)) * sum(r - k) = 1 - 2/(5*1*6) * (3 + 3) = 1 - 6/15 = 0.6
    # Continuity: data nearest neighbours 0->1, 1->0, 2->1, 3->2, 4->3; their embedding ranks:
    #   from 0 (at 0): 4 at 0.5, then 1 at 1 -> rank 2, penalty 1;
    #   from 4 (at -0.5): 0, 1, 2, then 3 -> rank 4, penalty 3; the rest rank 1.
    #   C = 1 - (1 + 3) / 15 = 11/15
    X = np.array([0.0, 1.0, 3.0, 7.0, 15.0])
    Y = np.array([0.0, 1.0, 3.0, 7.0, -0.5])
    assert trustworthiness(X, Y, k=1) == pytest.approx(0.6, abs=1e-12)
    assert continuity(X, Y, k=1) == pytest.approx(11 / 15, abs=1e-12)
    assert sk_trustworthiness(X[:, None], Y[:, None], n_neighbors=1) == pytest.approx(0.6)


def test_perfect_embedding_scores_one():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, 3))
    Y = 2.5 * X @ _random_rotation(3, 6) + 4.0  # rotation, scaling and shift
    assert trustworthiness(X, Y, 10) == pytest.approx(1.0, abs=1e-12)
    assert continuity(X, Y, 10) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(rnx_curve(X, Y), 1.0, atol=1e-12)
    assert rnx_auc(X, Y) == pytest.approx(1.0, abs=1e-12)
    assert distance_spearman(X, Y) == pytest.approx(1.0, abs=1e-12)
    assert local_radius_correlation(X, Y, k=10) == pytest.approx(1.0, abs=1e-9)
    assert trustworthiness(X, X, 10) == 1.0


def test_random_embedding_of_structured_data_scores_low(digits):
    X, _, _ = digits
    n, k = X.shape[0], 15
    Y = np.random.default_rng(0).standard_normal((n, 2))
    # expected value for a random embedding: every embedding neighbour has a uniform data rank
    expected = 1 - (n - 1 - k) * (n - k) / ((n - 1) * (2 * n - 3 * k - 1))  # ~0.502
    assert trustworthiness(X, Y, k) == pytest.approx(expected, abs=0.01)
    assert continuity(X, Y, k) == pytest.approx(expected, abs=0.01)
    curve = rnx_curve(X, Y, max_k=50)
    assert np.all(np.abs(curve) < 0.02)
    assert abs(rnx_auc(X, Y)) < 0.01
    assert abs(distance_spearman(X, Y)) < 0.05


@pytest.mark.parametrize("func", [trustworthiness, continuity])
def test_subsample_close_to_exact(blobs, func):
    X, Y, _ = blobs
    exact = func(X, Y, 15, sample_size=None)
    approx = func(X, Y, 15, sample_size=1000, random_state=3)
    assert approx != exact  # the subsample path really ran
    assert approx == pytest.approx(exact, abs=0.01)
    assert func(X, Y, 15, sample_size=3000) == exact  # n <= sample_size is exact
    assert func(X, Y, 15, sample_size=1000, random_state=3) == approx  # seeded


def test_rnx_subsample_close_to_exact(blobs):
    X, Y, _ = blobs
    exact = rnx_auc(X, Y, max_k=30, sample_size=None)
    approx = rnx_auc(X, Y, max_k=30, sample_size=1000, random_state=1)
    assert approx != exact
    assert approx == pytest.approx(exact, abs=0.01)


def test_knn_X_gives_same_results(blobs):
    X, Y, _ = blobs
    X, Y = X[:800], Y[:800]
    with_self = NearestNeighbors(n_neighbors=31).fit(X).kneighbors(X, return_distance=False)
    without_self = NearestNeighbors(n_neighbors=30).fit(X).kneighbors(return_distance=False)
    assert np.array_equal(with_self[:, 0], np.arange(800))
    for knn in (with_self, without_self):
        assert trustworthiness(X, Y, 15, knn_X=knn) == pytest.approx(trustworthiness(X, Y, 15))
        assert continuity(X, Y, 15, knn_X=knn) == pytest.approx(continuity(X, Y, 15))
        np.testing.assert_allclose(rnx_curve(X, Y, knn_X=knn), rnx_curve(X, Y, max_k=30))
        assert local_radius_correlation(X, Y, knn_X=knn) == pytest.approx(local_radius_correlation(X, Y))


def test_sparse_precomputed_and_float32_agree(digits):
    X, Y, _ = digits
    X, Y = X[:400], Y[:400]
    dense = trustworthiness(X, Y, 10)
    assert trustworthiness(sp.csr_matrix(X), Y, 10) == pytest.approx(dense, abs=1e-12)
    D = squareform(pdist(X))
    assert trustworthiness(D, Y, 10, metric="precomputed") == pytest.approx(dense, abs=1e-12)
    assert continuity(D, Y, 10, metric="precomputed") == pytest.approx(continuity(X, Y, 10))
    assert trustworthiness(X.astype(np.float32), Y, 10) == pytest.approx(dense, abs=1e-4)
    assert distance_spearman(D, Y, metric="precomputed") == pytest.approx(distance_spearman(X, Y), abs=1e-12)


# ------------------------------------------------------------------ R_NX


def test_rnx_curve_matches_brute_force_definition():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((60, 5))
    Y = X[:, :2] + 0.3 * rng.standard_normal((60, 2))
    n = len(X)
    _, order_x = _rank_matrix(X)
    _, order_y = _rank_matrix(Y)
    expected = []
    for K in range(1, n - 1):
        overlap = sum(len(set(order_x[i, :K]) & set(order_y[i, :K])) for i in range(n))
        q = overlap / (K * n)
        expected.append(((n - 1) * q - K) / (n - 1 - K))
    expected = np.array(expected)
    curve = rnx_curve(X, Y, max_k=n - 2)
    np.testing.assert_allclose(curve, expected, atol=1e-12)
    assert curve.shape == (n - 2,)
    assert rnx_curve(X, Y).shape == (n - 2,)  # default min(100, n - 2)
    ks = np.arange(1, 11)
    assert rnx_auc(X, Y, max_k=10) == pytest.approx(np.sum(expected[:10] / ks) / np.sum(1.0 / ks), abs=1e-12)


# ------------------------------------------------------------------ label-based measures


def test_knn_accuracy_matches_sklearn_cross_validation(digits):
    _, Y, y = digits
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    expected = cross_val_score(KNeighborsClassifier(n_neighbors=10), Y, y, cv=folds).mean()
    assert knn_accuracy(Y, y) == pytest.approx(expected, abs=1e-12)
    assert 0.4 < knn_accuracy(Y, y) < 0.8


def test_unlabelled_points_are_excluded(digits):
    _, Y, y = digits
    rng = np.random.default_rng(2)
    Y_more = np.vstack([Y, rng.normal(scale=50.0, size=(300, 2))])
    y_more = np.concatenate([y, -np.ones(300, dtype=int)])
    assert knn_accuracy(Y_more, y_more) == pytest.approx(knn_accuracy(Y, y))
    assert silhouette(Y_more, y_more) == pytest.approx(silhouette(Y, y), abs=1e-12)
    assert kmeans_nmi(Y_more, y_more) == pytest.approx(kmeans_nmi(Y, y), abs=1e-12)


def test_silhouette_matches_sklearn(digits):
    _, Y, y = digits
    assert silhouette(Y, y) == pytest.approx(silhouette_score(Y, y), abs=1e-6)
    assert silhouette(Y, y, sample_size=500, random_state=4) == pytest.approx(
        silhouette_score(Y, y, sample_size=500, random_state=4), abs=1e-6
    )


def test_kmeans_scores_match_sklearn(digits):
    _, Y, y = digits
    with threadpool_limits(limits=1, user_api="openmp"):  # same result, no thread thrashing
        pred = KMeans(n_clusters=10, n_init=10, random_state=0).fit_predict(Y)
    assert kmeans_nmi(Y, y) == pytest.approx(normalized_mutual_info_score(y, pred), abs=1e-6)
    assert kmeans_ari(Y, y) == pytest.approx(adjusted_rand_score(y, pred), abs=1e-6)
    X_blobs, y_blobs = make_blobs(n_samples=300, centers=3, cluster_std=0.3, random_state=0)
    assert kmeans_nmi(X_blobs, y_blobs) == pytest.approx(1.0)  # well separated: perfect


# ------------------------------------------------------------------ global / density / mse


def test_distance_spearman_all_pairs_for_small_data():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 6))
    Y = rng.standard_normal((40, 2))
    expected = spearmanr(pdist(X), pdist(Y)).statistic
    assert distance_spearman(X, Y) == pytest.approx(expected, abs=1e-12)  # 780 pairs < n_pairs


def test_distance_spearman_sampled_pairs(blobs):
    X, Y, _ = blobs
    full = spearmanr(pdist(X[:1000]), pdist(Y[:1000])).statistic
    sampled = distance_spearman(X[:1000], Y[:1000], n_pairs=50000, random_state=2)
    assert sampled == pytest.approx(full, abs=0.02)
    assert distance_spearman(X[:1000], Y[:1000], n_pairs=50000, random_state=2) == sampled


def test_local_radius_correlation_with_given_radii():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([2.0, 1.0, 4.0, 3.0])
    assert local_radius_correlation(rad_orig=a, rad_emb=b) == pytest.approx(0.6)
    assert local_radius_correlation(rad_orig=a, rad_emb=-a) == pytest.approx(-1.0)


def test_local_radius_correlation_tracks_density():
    # two clusters of very different spread; an embedding that keeps the spreads correlates,
    # one that equalises them (each cluster rescaled to unit spread) does not
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(scale=0.1, size=(200, 5)), 10 + rng.normal(scale=3.0, size=(200, 5))])
    kept = X[:, :2]
    flat = np.vstack([X[:200, :2] / 0.1, X[200:, :2] / 3.0])
    assert local_radius_correlation(X, kept) > 0.9
    assert local_radius_correlation(X, flat) < 0.5


def test_reconstruction_mse():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 7))
    R = X + rng.normal(scale=0.1, size=X.shape)
    assert reconstruction_mse(X, R) == pytest.approx(np.mean((X - R) ** 2), rel=1e-12)
    assert reconstruction_mse(X, X) == 0.0
    Xs = sp.random(50, 7, density=0.3, random_state=0, format="csr")
    assert reconstruction_mse(Xs, R) == pytest.approx(np.mean((Xs.toarray() - R) ** 2))


# ------------------------------------------------------------------ evaluate


def test_evaluate_equals_individual_functions(blobs):
    X, Y, y = blobs
    X, Y, y = X[:600], Y[:600], y[:600]
    res = evaluate(X, Y, y, k=10, rnx_max_k=40)
    assert res["trustworthiness"] == pytest.approx(trustworthiness(X, Y, 10), abs=1e-12)
    assert res["continuity"] == pytest.approx(continuity(X, Y, 10), abs=1e-12)
    assert res["rnx_auc"] == pytest.approx(rnx_auc(X, Y, max_k=40), abs=1e-12)
    assert res["distance_spearman"] == pytest.approx(distance_spearman(X, Y), abs=1e-12)
    assert res["knn_accuracy"] == pytest.approx(knn_accuracy(Y, y))
    assert res["silhouette"] == pytest.approx(silhouette(Y, y))
    assert res["kmeans_nmi"] == pytest.approx(kmeans_nmi(Y, y))
    assert res["kmeans_ari"] == pytest.approx(kmeans_ari(Y, y))
    no_labels = evaluate(X, Y, k=10, rnx_max_k=40)
    assert set(no_labels) == {"trustworthiness", "continuity", "rnx_auc", "distance_spearman"}
    knn = NearestNeighbors(n_neighbors=40).fit(X).kneighbors(return_distance=False)
    with_knn = evaluate(X, Y, k=10, knn_X=knn)
    for key in no_labels:
        assert with_knn[key] == pytest.approx(no_labels[key], abs=1e-12)


# ------------------------------------------------------------------ scikit-learn's keyword names


def test_sklearn_keyword_aliases_give_same_values(digits):
    X, Y, y = digits
    assert continuity(X, X_embedded=Y, n_neighbors=5) == continuity(X, Y, k=5)
    assert knn_accuracy(Y, y, n_neighbors=7) == knn_accuracy(Y, y, k=7)
    assert silhouette(Y, labels=y, sample_size=500, random_state=1) == silhouette(Y, y, sample_size=500, random_state=1)


@pytest.mark.parametrize(
    "call, names",
    [
        (lambda X, Y, y: trustworthiness(X, Y, 5, n_neighbors=5), ("k", "n_neighbors")),
        (lambda X, Y, y: trustworthiness(X, Y, k=5, n_neighbors=5), ("k", "n_neighbors")),
        (lambda X, Y, y: trustworthiness(X, Y, X_embedded=Y), ("Y", "X_embedded")),
        (lambda X, Y, y: continuity(X, Y=Y, X_embedded=Y), ("Y", "X_embedded")),
        (lambda X, Y, y: knn_accuracy(Y, y, k=3, n_neighbors=3), ("k", "n_neighbors")),
        (lambda X, Y, y: silhouette(Y, y, labels=y), ("y", "labels")),
    ],
)
def test_both_names_of_an_argument_raise_type_error(call, names):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    Y = rng.standard_normal((20, 2))
    y = np.repeat([0, 1], 10)
    with pytest.raises(TypeError, match=rf"'{names[0]}' and its alias '{names[1]}'"):
        call(X, Y, y)


# ------------------------------------------------------------------ bad inputs


def test_bad_inputs_raise():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    Y = rng.standard_normal((20, 2))
    y = np.repeat([0, 1], 10)
    with pytest.raises(ValueError, match="X has 20, Y has 19"):
        trustworthiness(X, Y[:19])
    with pytest.raises(ValueError, match="X has 20, Y has 19"):
        continuity(X, Y[:19], 3)
    with pytest.raises(ValueError, match="X has 20, Y has 19"):
        distance_spearman(X, Y[:19])
    with pytest.raises(ValueError, match=r"k=20 is too large for n_samples=20"):
        trustworthiness(X, Y, k=20)
    with pytest.raises(ValueError, match=r"k=10 is too large"):
        continuity(X, Y, k=10)
    with pytest.raises(ValueError, match="k must be >= 1"):
        trustworthiness(X, Y, k=0)
    with pytest.raises(ValueError, match="k must be an int"):
        trustworthiness(X, Y, k=2.5)
    with pytest.raises(ValueError, match="max_k=19 is too large"):
        rnx_curve(X, Y, max_k=19)
    with pytest.raises(ValueError, match=r"k=20 is too large: it must be < n_samples = 20"):
        local_radius_correlation(X, Y, k=20)
    with pytest.raises(ValueError, match="NaN"):
        trustworthiness(np.where(X > 1.5, np.nan, X), Y, 3)
    with pytest.raises(ValueError, match="square"):
        trustworthiness(X, Y, 3, metric="precomputed")
    with pytest.raises(ValueError, match="unsupported metric"):
        trustworthiness(X, Y, 3, metric="no-such-metric")
    with pytest.raises(ValueError, match="knn_X has 2 neighbours per row"):
        trustworthiness(X, Y, 3, knn_X=np.tile(np.arange(1, 3), (20, 1)))
    with pytest.raises(ValueError, match="integer"):
        continuity(X, Y, 3, knn_X=np.zeros((20, 5)))
    with pytest.raises(ValueError, match="exclude the point itself"):
        continuity(X, Y, 3, knn_X=np.tile(np.arange(5), (20, 1)))
    with pytest.raises(ValueError, match=r"indices in \[0, 20\)"):
        continuity(X, Y, 3, knn_X=np.full((20, 5), 25))
    with pytest.raises(ValueError, match="sample_size must be >= 1"):
        trustworthiness(X, Y, 3, sample_size=0)
    with pytest.raises(ValueError, match="at least 2 classes"):
        knn_accuracy(Y, np.zeros(20, dtype=int))
    with pytest.raises(ValueError, match="at least 2 classes"):
        silhouette(Y, np.r_[np.zeros(10, dtype=int), -np.ones(10, dtype=int)])
    with pytest.raises(ValueError, match="Y has 20, y has 19"):
        kmeans_nmi(Y, y[:19])
    with pytest.raises(ValueError, match="cv must be >= 2"):
        knn_accuracy(Y, y, cv=1)
    with pytest.raises(ValueError, match="exceeds the 16 training points"):
        knn_accuracy(Y, y, k=17)
    with pytest.raises(ValueError, match=r"X is \(20, 3\), X_reconstructed is \(20, 2\)"):
        reconstruction_mse(X, Y)
    with pytest.raises(ValueError, match="not both"):
        local_radius_correlation(X, Y, rad_orig=np.ones(20), rad_emb=np.ones(20))
    with pytest.raises(ValueError, match="together"):
        local_radius_correlation(rad_orig=np.ones(20))
    with pytest.raises(ValueError, match="rad_orig has 3, rad_emb has 2"):
        local_radius_correlation(rad_orig=np.ones(3), rad_emb=np.ones(2))
