import subprocess
import sys
import warnings

import numba
import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.metrics.pairwise import haversine_distances

from umapx import metrics as M

N_FEATURES = 6
RTOL = 1e-5


def pairwise(name, X, Y, kwds=None):
    r = M.resolve_metric(name, kwds, X.shape[1])
    return np.array([[M.distance(r.code, x, y, r.params) for y in Y] for x in X])


@pytest.fixture(scope="module")
def float_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, N_FEATURES))
    Y = rng.normal(size=(5, N_FEATURES))
    return X, Y


@pytest.fixture(scope="module")
def bool_data():
    rng = np.random.default_rng(1)
    X = (rng.random((12, N_FEATURES)) < 0.4).astype(np.float64)
    X[0] = 0.0  # all-false rows exercise the edge cases
    X[1] = 0.0
    X[2] = 1.0
    return X


# ---------------------------------------------------------------- input metrics

SCIPY_FLOAT = {
    "euclidean": ("euclidean", {}),
    "manhattan": ("cityblock", {}),
    "chebyshev": ("chebyshev", {}),
    "canberra": ("canberra", {}),
    "braycurtis": ("braycurtis", {}),
    "cosine": ("cosine", {}),
    "correlation": ("correlation", {}),
    "hamming": ("hamming", {}),
}


@pytest.mark.parametrize("name", sorted(SCIPY_FLOAT))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_float_metrics_match_scipy(name, dtype, float_data):
    X, Y = (a.astype(dtype) for a in float_data)
    if name == "hamming":  # make some entries equal
        Y = Y.copy()
        Y[:, :3] = X[0, :3]
    sp_name, sp_kw = SCIPY_FLOAT[name]
    expected = cdist(X.astype(np.float64), Y.astype(np.float64), sp_name, **sp_kw)
    np.testing.assert_allclose(pairwise(name, X, Y), expected, rtol=RTOL, atol=1e-7)


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
def test_minkowski(p, float_data):
    X, Y = float_data
    np.testing.assert_allclose(pairwise("minkowski", X, Y, {"p": p}), cdist(X, Y, "minkowski", p=p), rtol=RTOL)


def test_minkowski_default_p_is_euclidean(float_data):
    X, Y = float_data
    np.testing.assert_allclose(pairwise("minkowski", X, Y), cdist(X, Y), rtol=RTOL)


def test_seuclidean(float_data):
    X, Y = float_data
    V = np.random.default_rng(2).uniform(0.5, 2.0, N_FEATURES)
    np.testing.assert_allclose(pairwise("seuclidean", X, Y, {"V": V}), cdist(X, Y, "seuclidean", V=V), rtol=RTOL)


def test_wminkowski(float_data):
    X, Y = float_data
    w = np.random.default_rng(3).uniform(-2.0, 2.0, N_FEATURES)
    expected = cdist(X * w, Y * w, "minkowski", p=3.0)
    np.testing.assert_allclose(pairwise("wminkowski", X, Y, {"w": w, "p": 3.0}), expected, rtol=RTOL)


def test_mahalanobis(float_data):
    X, Y = float_data
    Z = np.random.default_rng(4).normal(size=(50, N_FEATURES))
    VI = np.linalg.inv(np.cov(Z.T))
    np.testing.assert_allclose(pairwise("mahalanobis", X, Y, {"VI": VI}), cdist(X, Y, "mahalanobis", VI=VI), rtol=RTOL)


def test_hellinger():
    rng = np.random.default_rng(5)
    X = rng.random((6, N_FEATURES))
    X[0, :3] = 0.0
    expected = np.sqrt(np.maximum(1 - np.sqrt(X) @ np.sqrt(X).T / np.sqrt(np.outer(X.sum(1), X.sum(1))), 0))
    np.testing.assert_allclose(pairwise("hellinger", X, X), expected, rtol=RTOL, atol=1e-7)
    z, x = np.zeros(3), np.ones(3)
    code, e = M.HELLINGER, np.empty(0)
    assert M.distance(code, z, z, e) == 0.0
    assert M.distance(code, z, x, e) == 1.0


def test_haversine():
    rng = np.random.default_rng(6)
    X = np.column_stack([rng.uniform(-1.5, 1.5, 8), rng.uniform(-np.pi, np.pi, 8)])
    np.testing.assert_allclose(pairwise("haversine", X, X), haversine_distances(X), rtol=RTOL, atol=1e-7)


def test_zero_vector_conventions():
    z, x, e = np.zeros(4), np.array([1.0, 2.0, 0.0, -1.0]), np.empty(0)
    for code in (M.COSINE, M.CORRELATION):
        assert M.distance(code, z, z, e) == 0.0
        assert M.distance(code, z, x, e) == 1.0
    assert M.distance(M.BRAYCURTIS, z, z, e) == 0.0
    assert M.distance(M.CANBERRA, z, z, e) == 0.0


SCIPY_BOOL = {
    "hamming": "hamming",
    "matching": "hamming",
    "jaccard": "jaccard",
    "dice": "dice",
    "rogerstanimoto": "rogerstanimoto",
    "sokalmichener": "rogerstanimoto",  # scipy dropped it; same formula
    "russellrao": "russellrao",
    "sokalsneath": "sokalsneath",
    "yule": "yule",
}


@pytest.mark.parametrize("name", sorted(SCIPY_BOOL))
def test_boolean_metrics_match_scipy(name, bool_data):
    X = bool_data
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        expected = cdist(X.astype(bool), X.astype(bool), SCIPY_BOOL[name])
    # scipy leaves dice/sokalsneath of two all-false vectors as nan; we say 0
    expected = np.where(np.isnan(expected), 0.0, expected)
    np.testing.assert_allclose(pairwise(name, X, X), expected, rtol=RTOL)


def test_boolean_metrics_treat_nonzero_as_true(bool_data):
    X = bool_data
    scaled = X * np.random.default_rng(7).uniform(0.5, 3.0, X.shape)
    for name in set(SCIPY_BOOL) - {"hamming"}:
        np.testing.assert_allclose(pairwise(name, scaled, scaled), pairwise(name, X, X))


def test_kulsinski_formula(bool_data):
    X = bool_data.astype(bool)
    n = X.shape[1]
    ntt = X.astype(int) @ X.T.astype(int)
    neq = (X[:, None, :] != X[None, :, :]).sum(-1)
    expected = (neq - ntt + n) / (neq + n)
    np.testing.assert_allclose(pairwise("kulsinski", bool_data, bool_data), expected, rtol=RTOL)


def test_every_metric_has_a_kernel_and_finite_value():
    rng = np.random.default_rng(8)
    kwds = {
        "minkowski": {"p": 3},
        "seuclidean": {"V": np.ones(2)},
        "wminkowski": {"w": np.ones(2)},
        "mahalanobis": {"VI": np.eye(2)},
    }
    x, y = rng.random(2), rng.random(2)
    for name in M.METRICS:
        r = M.resolve_metric(name, kwds.get(name), 2)
        assert np.isfinite(M.distance(r.code, x, y, r.params)), name
    with pytest.raises(ValueError):
        M.distance(999, x, y, np.empty(0))


# -------------------------------------------------------------------- registry


def test_registry_shape():
    codes = [m.code for m in M.METRICS.values()]
    assert sorted(codes) == list(range(len(codes)))
    assert all(m.name == k for k, m in M.METRICS.items())
    sparse = {k for k, m in M.METRICS.items() if m.sparse_ok}
    assert sparse == {
        "euclidean",
        "manhattan",
        "chebyshev",
        "minkowski",
        "canberra",
        "braycurtis",
        "cosine",
        "correlation",
        "hellinger",
        "hamming",
        "jaccard",
        "dice",
        "matching",
        "kulsinski",
        "rogerstanimoto",
        "russellrao",
        "sokalmichener",
        "sokalsneath",
    }
    bounded = {k: m.disconnection_distance for k, m in M.METRICS.items() if m.bounded_disconnection}
    assert bounded == {"cosine": 2, "correlation": 2, "hellinger": 1, "jaccard": 1, "dice": 1}
    assert M.METRICS["euclidean"].disconnection_distance == np.inf
    assert {m.kind for m in M.METRICS.values()} <= {"float", "angular", "boolean", "geographic"}


@pytest.mark.parametrize(
    "alias, canon",
    [
        ("l2", "euclidean"),
        ("l1", "manhattan"),
        ("taxicab", "manhattan"),
        ("manhattan", "manhattan"),
        ("linf", "chebyshev"),
        ("linfinity", "chebyshev"),
        ("infinity", "chebyshev"),
        ("chebyshev", "chebyshev"),
    ],
)
def test_aliases(alias, canon):
    r = M.resolve_metric(alias, None, 3)
    assert r.name == canon and r.code == M.METRICS[canon].code
    assert r.params.dtype == np.float64 and r.params.shape == (0,)
    assert alias in M.metric_names()


def test_metric_names_sorted_and_complete():
    names = M.metric_names()
    assert names == sorted(names)
    assert set(names) == set(M.METRICS) | set(M.ALIASES) | {"precomputed"}
    assert "sqeuclidean" not in names


@pytest.mark.parametrize("bad", ["xyz", "sqeuclidean", "Euclidean"])
def test_unknown_metric(bad):
    with pytest.raises(ValueError, match="Unknown metric") as info:
        M.resolve_metric(bad, None, 3)
    assert f"'{bad}'" in str(info.value) and "euclidean" in str(info.value)


@pytest.mark.parametrize(
    "name, kwds, n, match",
    [
        ("minkowski", {"p": -1}, 3, "minkowski.*'p'"),
        ("minkowski", {"p": 0}, 3, "minkowski.*'p'"),
        ("minkowski", {"p": "a"}, 3, "minkowski.*'p'"),
        ("minkowski", {"q": 2}, 3, r"minkowski.*\['q'\].*accepted keys: \['p'\]"),
        ("euclidean", {"p": 2}, 3, r"euclidean.*\['p'\].*accepted keys: \[\]"),
        ("seuclidean", {}, 3, "seuclidean.*'V'"),
        ("seuclidean", {"V": np.ones(2)}, 3, "seuclidean.*'V'"),
        ("seuclidean", {"V": np.array([1.0, 0.0, 1.0])}, 3, "seuclidean.*'V'"),
        ("wminkowski", {"p": 2}, 3, "wminkowski.*'w'"),
        ("wminkowski", {"w": np.ones(3), "p": -2}, 3, "wminkowski.*'p'"),
        ("mahalanobis", {}, 3, "mahalanobis.*'VI'"),
        ("mahalanobis", {"VI": np.eye(2)}, 3, "mahalanobis.*'VI'"),
        ("mahalanobis", {"VI": np.full((3, 3), np.nan)}, 3, "mahalanobis.*'VI'"),
        ("haversine", {}, 3, "haversine"),
    ],
)
def test_bad_kwds(name, kwds, n, match):
    with pytest.raises(ValueError, match=match):
        M.resolve_metric(name, kwds, n)


def test_params_layout():
    w = np.array([1.0, 2.0, 3.0])
    r = M.resolve_metric("wminkowski", {"w": w, "p": 3}, 3)
    np.testing.assert_array_equal(r.params, [3.0, 1.0, 2.0, 3.0])
    VI = np.arange(9.0).reshape(3, 3)
    r = M.resolve_metric("mahalanobis", {"VI": VI}, 3)
    np.testing.assert_array_equal(r.params, VI.ravel())
    assert r.params.dtype == np.float64 and r.params.flags.c_contiguous
    np.testing.assert_array_equal(M.resolve_metric("minkowski", None, 3).params, [2.0])


def test_user_kwds_not_mutated_or_aliased():
    V = np.ones(3)
    kwds = {"V": V}
    r = M.resolve_metric("seuclidean", kwds, 3)
    assert kwds == {"V": V} and kwds["V"] is V
    r.params[:] = 5.0
    np.testing.assert_array_equal(V, 1.0)
    kwds = {"p": 3}
    M.resolve_metric("minkowski", kwds, 3)
    assert kwds == {"p": 3}


@numba.njit
def _my_metric(x, y, scale):
    return scale * np.abs(x - y).sum()


def test_numba_callable():
    arr = np.ones(2)
    kwds = {"scale": 2.0, "other": arr}
    r = M.resolve_metric(_my_metric, kwds, 3)
    assert r.code == M.CUSTOM and r.name == "_my_metric" and r.callable is _my_metric
    assert r.params.shape == (0,)
    assert r.extra[0] == 2.0 and r.extra[1] is not arr
    assert list(kwds) == ["scale", "other"]
    r = M.resolve_metric(_my_metric, {"scale": 2.0}, 3)
    assert r.callable(np.zeros(3), np.ones(3), *r.extra) == 6.0


def test_python_callable_rejected():
    with pytest.raises(TypeError, match="numba.njit"):
        M.resolve_metric(lambda x, y: 0.0, None, 3)
    with pytest.raises(TypeError):
        M.resolve_metric(42, None, 3)


def test_import_compiles_nothing():
    code = (
        "import numba, umapx.metrics as m\n"
        "d = [v for v in vars(m).values() if isinstance(v, numba.core.registry.CPUDispatcher)]\n"
        "assert len(d) > 30 and all(not f.signatures for f in d), d\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- output metrics


def _random_point(name, rng, dim):
    if name == "haversine":
        return np.array([rng.uniform(-1.2, 1.2), rng.uniform(-np.pi, np.pi)])
    return rng.normal(size=dim)


# haversine exists in 2-D only; 2-D correlation is piecewise constant (0 or 2), so it has no gradient to check
GRADIENT_CASES = [
    (name, dim)
    for name in sorted(M.OUTPUT_METRICS) + ["minkowski-1.5"]
    for dim in (2, 3)
    if not (name == "haversine" and dim != 2) and not (name == "correlation" and dim == 2)
]


@pytest.mark.parametrize("name, dim", GRADIENT_CASES)
def test_output_gradient_finite_differences(name, dim):
    kwds = {}
    if name == "minkowski-1.5":
        name, kwds = "minkowski", {"p": 1.5}
    elif name == "minkowski":
        kwds = {"p": 3.0}
    r = M.resolve_output_metric(name, kwds, dim)
    rng = np.random.default_rng(dim)
    grad, scratch = np.empty(dim), np.empty(dim)
    h = 1e-6
    for _ in range(10):
        x, y = _random_point(name, rng, dim), _random_point(name, rng, dim)
        d = M.output_distance_grad(r.code, x, y, r.params, grad)
        assert np.isfinite(d) and d > 0
        fd = np.empty(dim)
        for i in range(dim):
            e = np.zeros(dim)
            e[i] = h
            fd[i] = (
                M.output_distance_grad(r.code, x + e, y, r.params, scratch)
                - M.output_distance_grad(r.code, x - e, y, r.params, scratch)
            ) / (2 * h)
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", sorted(M.OUTPUT_METRICS))
def test_output_zero_distance_has_zero_gradient(name):
    dim = 2
    r = M.resolve_output_metric(name, {"p": 3.0} if name == "minkowski" else None, dim)
    x = np.array([0.3, -0.7])
    grad = np.full(dim, np.nan)
    d = M.output_distance_grad(r.code, x, x.copy(), r.params, grad)
    assert abs(d) < 1e-7
    np.testing.assert_allclose(grad, 0.0, atol=1e-12)
    if name in ("cosine", "correlation"):  # degenerate (zero / constant) vectors
        z = np.zeros(dim)
        assert M.output_distance_grad(r.code, z, z, r.params, grad) == 0.0
        assert M.output_distance_grad(r.code, z, x, r.params, grad) == 1.0
        np.testing.assert_array_equal(grad, 0.0)


@pytest.mark.parametrize("name", sorted(set(M.OUTPUT_METRICS) & set(M.METRICS)))
def test_output_value_agrees_with_input_metric(name):
    kwds = {"p": 3.0} if name == "minkowski" else None
    ro = M.resolve_output_metric(name, kwds, 2)
    ri = M.resolve_metric(name, kwds, 2)
    rng = np.random.default_rng(9)
    grad = np.empty(2)
    for _ in range(10):
        x, y = _random_point(name, rng, 2), _random_point(name, rng, 2)
        np.testing.assert_allclose(
            M.output_distance_grad(ro.code, x, y, ro.params, grad),
            M.distance(ri.code, x, y, ri.params),
            rtol=1e-12,
            atol=1e-14,
        )


@pytest.mark.parametrize("name", sorted(M.OUTPUT_METRICS))
def test_output_float32_embedding(name):
    kwds = {"p": 3.0} if name == "minkowski" else None
    r = M.resolve_output_metric(name, kwds, 2)
    rng = np.random.default_rng(11)
    x, y = _random_point(name, rng, 2), _random_point(name, rng, 2)
    g32, g64 = np.empty(2), np.empty(2)
    d32 = M.output_distance_grad(r.code, x.astype(np.float32), y.astype(np.float32), r.params, g32)
    d64 = M.output_distance_grad(r.code, x, y, r.params, g64)
    np.testing.assert_allclose(d32, d64, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)


def test_hyperboloid_value():
    rng = np.random.default_rng(10)
    grad = np.empty(3)
    r = M.resolve_output_metric("hyperboloid", None, 3)
    for _ in range(5):
        x, y = rng.normal(size=3), rng.normal(size=3)
        b = np.sqrt(1 + x @ x) * np.sqrt(1 + y @ y) - x @ y
        assert np.isclose(M.output_distance_grad(r.code, x, y, r.params, grad), np.arccosh(b))


def test_resolve_output_metric_errors():
    with pytest.raises(ValueError, match="Unknown output_metric") as info:
        M.resolve_output_metric("canberra", None, 2)
    assert "hyperboloid" in str(info.value) and "euclidean" in str(info.value)
    with pytest.raises(ValueError, match="haversine"):
        M.resolve_output_metric("haversine", None, 3)
    with pytest.raises(ValueError, match="minkowski.*'p'"):
        M.resolve_output_metric("minkowski", {"p": -1}, 2)
    with pytest.raises(ValueError, match="accepted keys"):
        M.resolve_output_metric("euclidean", {"p": 2}, 2)
    with pytest.raises(TypeError):
        M.resolve_output_metric(_my_metric, None, 2)
    r = M.resolve_output_metric("l2", None, 2)
    assert r.name == "euclidean" and r.code == M.OUT_EUCLIDEAN
    assert M.resolve_output_metric("minkowski", None, 2).params.tolist() == [2.0]
    with pytest.raises(ValueError):
        M.output_distance_grad(999, np.zeros(2), np.zeros(2), np.empty(0), np.empty(2))
