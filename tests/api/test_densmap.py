"""DensMAP's surface: the DensMAP class, output_dens and the radii, and plain UMAP left as it was."""

import inspect

import numpy as np
import pytest

import umapx
from umapx import UMAP, DensMAP

FAST = dict(n_epochs=50, random_state=0)
SUPERVISED_MARGIN = 0.07  # at 200 epochs, seeds 0-4 measured 0.10-0.16


def log_mean_power(dists, power):
    return np.log(np.mean(dists**power, axis=1))


def test_densmap_is_umap_with_densmap_on():
    umap_params = inspect.signature(UMAP.__init__).parameters
    dens_params = inspect.signature(DensMAP.__init__).parameters
    assert list(dens_params) == list(umap_params)
    assert {k: p.default for k, p in dens_params.items()} == {
        k: (True if k == "densmap" else p.default) for k, p in umap_params.items()
    }
    assert DensMAP().densmap is True and DensMAP(densmap=False).densmap is False
    assert DensMAP(7).n_neighbors == 7
    assert repr(DensMAP(dens_lambda=5.0)) == "DensMAP(dens_lambda=5.0)"
    assert "DensMAP" in umapx.__all__ and isinstance(DensMAP(), UMAP)


def test_clone_keeps_densmap():
    from sklearn.base import clone

    model = DensMAP(n_neighbors=7, dens_frac=0.5)
    copy = clone(model)
    assert type(copy) is DensMAP and copy.get_params() == model.get_params()


def test_output_dens_returns_the_local_radii(digits):
    from sklearn.neighbors import NearestNeighbors

    X, _ = digits
    model = DensMAP(output_dens=True, **FAST)
    emb, rad_orig, rad_emb = model.fit_transform(X)
    assert emb is model.embedding_ and rad_orig is model.rad_orig_ and rad_emb is model.rad_emb_
    assert rad_orig.shape == rad_emb.shape == (len(X),)
    assert np.isfinite(rad_orig).all() and np.isfinite(rad_emb).all()
    # log mean squared data distances and log mean embedding distances (as umap-learn), weighted by membership
    data_dists = model.graph_model_.knn_dists[:, 1:].astype(np.float64)
    emb_dists = NearestNeighbors(n_neighbors=15).fit(emb).kneighbors(emb)[0][:, 1:]
    assert np.corrcoef(rad_orig, log_mean_power(data_dists, 2))[0, 1] > 0.9
    assert np.corrcoef(rad_emb, log_mean_power(emb_dists, 1))[0, 1] > 0.9
    assert model.layout_.rad_mean == pytest.approx(rad_orig.mean()) and model.layout_.rad_std == pytest.approx(
        rad_orig.std()
    )


def test_densmap_without_output_dens(digits):
    X, _ = digits
    model = DensMAP(**FAST)
    emb = model.fit_transform(X)
    assert isinstance(emb, np.ndarray) and emb.shape == (len(X), 2) and np.isfinite(emb).all()
    assert model.rad_orig_.shape == (len(X),) and model.rad_emb_ is None


def test_plain_umap_is_untouched_by_the_density_code(digits):
    X, _ = digits
    plain = UMAP(**FAST).fit_transform(X)
    with_radii = UMAP(output_dens=True, **FAST).fit_transform(X)[0]
    zero_lambda = DensMAP(dens_lambda=0.0, **FAST).fit_transform(X)
    zero_frac = DensMAP(dens_frac=0.0, **FAST).fit_transform(X)
    assert plain.tobytes() == with_radii.tobytes() == zero_lambda.tobytes() == zero_frac.tobytes()
    assert not np.array_equal(DensMAP(**FAST).fit_transform(X), plain)


def test_refit_replaces_the_radii(digits):
    X, _ = digits
    model = UMAP(output_dens=True, **FAST).fit(X[:500])
    assert model.rad_emb_.shape == (500,)
    model.set_params(output_dens=False).fit(X[:400])
    assert model.rad_orig_ is None and model.rad_emb_ is None


def test_unique_gives_duplicates_the_same_radii(iris):
    X, _ = iris
    emb, rad_orig, rad_emb = DensMAP(unique=True, output_dens=True, **FAST).fit_transform(X)
    assert rad_orig.shape == rad_emb.shape == (len(X),)
    _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
    assert len(first) < len(X)
    same = first[inverse.ravel()]
    assert np.array_equal(rad_orig, rad_orig[same]) and np.array_equal(emb, emb[same])


def test_point_without_edges_has_no_radius():
    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(size=(40, 2)), [[100.0, 100.0]]])
    with pytest.warns(UserWarning, match=r"1 point\(s\) have no edges"):
        emb, rad_orig, rad_emb = DensMAP(
            n_neighbors=5, disconnection_distance=20.0, output_dens=True, **FAST
        ).fit_transform(X)
    assert np.isfinite(emb).all() and np.isfinite(rad_emb).all()
    assert np.isnan(rad_orig[40]) and np.isfinite(rad_orig[:40]).all()


def test_supervised_densmap_separates_the_labels(digits):
    from sklearn.metrics import silhouette_score

    X, y = digits
    plain = DensMAP(n_epochs=200, random_state=0).fit_transform(X)
    supervised = DensMAP(n_epochs=200, random_state=0).fit_transform(X, y)
    assert silhouette_score(supervised, y) > silhouette_score(plain, y) + SUPERVISED_MARGIN


def test_failed_fit_keeps_the_radii(digits):
    X, _ = digits
    model = DensMAP(output_dens=True, **FAST).fit(X[:300])
    before = model.rad_orig_.copy(), model.rad_emb_.copy()
    with pytest.raises(ValueError, match="output_metric"):
        model.set_params(output_metric="manhattan").fit(X[:200])
    assert np.array_equal(model.rad_orig_, before[0]) and np.array_equal(model.rad_emb_, before[1])


def test_densmap_transform_keeps_the_density_of_new_points(digits):
    X, _ = digits
    model = DensMAP(random_state=0, output_dens=True).fit(X[:1500])
    emb, rad_orig, rad_emb = model.transform(X[1500:])
    assert emb.shape == (297, 2) and rad_orig.shape == rad_emb.shape == (297,)
    train = np.corrcoef(model.rad_orig_, model.rad_emb_)[0, 1]
    new = np.corrcoef(rad_orig, rad_emb)[0, 1]
    assert new > train - 0.1
    plain = UMAP(random_state=0, output_dens=True).fit(X[:1500])
    assert new > np.corrcoef(*plain.transform(X[1500:])[1:])[0, 1] + 0.3
    alone = model.transform(X[1500:1550])
    assert alone[0].tobytes() == emb[:50].tobytes() and np.array_equal(alone[1], rad_orig[:50])
    assert model.set_params(output_dens=False).transform(X[1500:1550]).tobytes() == emb[:50].tobytes()


def test_densmap_model_saves_and_refuses_update(tmp_path, digits):
    import umapx

    X, _ = digits
    model = DensMAP(**FAST).fit(X[:800])
    model.save(tmp_path / "d.umapx")
    loaded = umapx.load(tmp_path / "d.umapx")
    assert type(loaded) is DensMAP and np.array_equal(loaded.rad_orig_, model.rad_orig_)
    assert loaded.transform(X[800:850]).tobytes() == model.transform(X[800:850]).tobytes()
    with pytest.raises(ValueError, match="without densmap or output_dens"):
        model.update(X[800:850])
