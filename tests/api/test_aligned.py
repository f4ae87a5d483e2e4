"""AlignedUMAP: per-slice parameters, (partial) relations pulling related rows together, update keeping
the earlier slices' bytes, transform into one slice, save/load, the plot, and its input checks."""

import copy
import pickle
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neighbors import KNeighborsClassifier

import umapx
import umapx.plot
from umapx import AlignedUMAP
from umapx.evaluation import knn_accuracy, trustworthiness

FAST = {"n_epochs": 60, "random_state": 1}
RELATION = {j + 150: j for j in range(250)}  # rows 150..399 of slice i are rows 0..249 of slice i + 1


@pytest.fixture(scope="module")
def ink(digits):
    """The digits sorted by ink, as in the tutorial: consecutive slices drift from light to heavy digits."""
    X, y = digits
    order = np.argsort(X.sum(axis=1), kind="stable")
    return X[order], y[order]


def _slices(data, n):
    return [data[150 * i : 150 * i + 400] for i in range(n)]


def _gap(model, s):
    """Mean distance between the related rows of slices s and s + 1, over the spread of slice s."""
    pairs = model.relations_[s]
    first, second = model.embeddings_[s], model.embeddings_[s + 1]
    return float(np.mean(np.linalg.norm(first[pairs[:, 0]] - second[pairs[:, 1]], axis=1)) / first.std())


@pytest.fixture(scope="module")
def fitted(ink):
    """Three slices, each with its own n_neighbors, the middle one with a wider min_dist."""
    X, _ = ink
    model = AlignedUMAP(n_neighbors=[10, 15, 20], min_dist=[0.1, 0.8, 0.1], **FAST)
    return model.fit(_slices(X, 3), relations=[RELATION, RELATION])


def test_list_parameters_give_each_slice_its_own_value(fitted):
    assert fitted.n_models_ == 3 and [e.shape for e in fitted.embeddings_] == [(400, 2)] * 3
    assert [m.graph_model_.n_neighbors for m in fitted.mappers_] == [10, 15, 20]
    assert [p["n_neighbors"] for p in fitted.slice_params_] == [10, 15, 20]
    assert [m.n_neighbors for m in fitted.mappers_] == [10, 15, 20]
    assert [p["min_dist"] for p in fitted.slice_params_] == [0.1, 0.8, 0.1]
    assert fitted.layouts_[1].b != fitted.layouts_[0].b
    assert (fitted.layouts_[2].a, fitted.layouts_[2].b) == (fitted.layouts_[0].a, fitted.layouts_[0].b)
    assert fitted.get_params()["n_neighbors"] == [10, 15, 20]


def test_partial_relations_pull_the_related_rows_together(ink):
    """Only every other shared row is related: the model keeps exactly those pairs, and the alignment
    brings them much closer than independent layouts of the slices place them."""
    X, _ = ink
    half = {j + 150: j for j in range(0, 250, 2)}
    relations = [half, dict(half)]
    aligned = AlignedUMAP(**FAST).fit(_slices(X, 3), relations=relations)
    free = AlignedUMAP(alignment_regularisation=0.0, **FAST).fit(_slices(X, 3), relations=relations)
    assert aligned.dict_relations_ == relations
    assert [len(r) for r in aligned.relations_] == [125, 125]
    for s in range(2):
        assert _gap(aligned, s) < 0.5 * _gap(free, s), (s, _gap(aligned, s), _gap(free, s))


def test_slices_of_different_sizes_and_features(ink):
    """Slice 0: 300 rows of 30 features; slice 1: 500 rows of all 64; related by an array of pairs."""
    X, _ = ink
    pairs = np.column_stack([np.arange(300), np.arange(300)])
    model = AlignedUMAP(n_epochs=40, random_state=0)
    embeddings = model.fit_transform([X[:300, :30], X[:500]], relations=[pairs])
    assert embeddings is model.embeddings_
    assert [e.shape for e in embeddings] == [(300, 2), (500, 2)]
    assert all(np.isfinite(e).all() for e in embeddings)
    assert model.dict_relations_ == [{i: i for i in range(300)}]
    assert model.transform(X[500:520, :30], slice=0).shape == (20, 2)
    with pytest.raises(ValueError, match="X has 64 features, but \\w+ is expecting 30 features"):
        model.transform(X[500:520], slice=0)


def test_sparse_slices_give_the_dense_bytes(ink):
    X, _ = ink
    dense = AlignedUMAP(**FAST).fit(_slices(X, 3), relations=[RELATION, RELATION])
    sparse = AlignedUMAP(**FAST).fit([sp.csr_matrix(s) for s in _slices(X, 3)], relations=[RELATION, RELATION])
    assert all(sp.issparse(m.graph_model_.data) for m in sparse.mappers_)
    for d, s in zip(dense.embeddings_, sparse.embeddings_, strict=True):
        assert d.tobytes() == s.tobytes()
    assert trustworthiness(X[:400], dense.embeddings_[0]) > 0.9


def test_seeded_fits_are_bit_identical_across_n_jobs(ink, on_threads):
    X, _ = ink

    def fit(seed, n_jobs):
        model = AlignedUMAP(n_epochs=40, random_state=seed, n_jobs=n_jobs)
        fitted = on_threads(n_jobs, lambda: model.fit(_slices(X, 3), relations=[RELATION, RELATION]))
        return [e.tobytes() for e in fitted.embeddings_]

    one = fit(7, 1)
    assert fit(7, 2) == one
    other = fit(8, 1)
    assert all(a != b for a, b in zip(one, other, strict=True))


def test_update_adds_a_slice_and_keeps_the_earlier_bytes(ink):
    """update lays out a 4th slice against the fitted ones, which keep their bytes; its related rows
    land near their partners; its n_neighbors applies to it alone; a failed update changes nothing."""
    X, _ = ink
    slices = _slices(X, 4)
    model = AlignedUMAP(**FAST).fit(slices[:3], relations=[RELATION, RELATION])
    before = [e.tobytes() for e in model.embeddings_]
    assert model.update(slices[3], relations=dict(RELATION), n_neighbors=12) is model
    assert model.n_models_ == 4 and len(model.embeddings_) == 4 and len(model.mappers_) == 4
    assert [e.tobytes() for e in model.embeddings_[:3]] == before
    assert model.embeddings_[3].shape == (400, 2) and np.isfinite(model.embeddings_[3]).all()
    assert [p["n_neighbors"] for p in model.slice_params_] == [15, 15, 15, 12]
    assert [m.graph_model_.n_neighbors for m in model.mappers_] == [15, 15, 15, 12]
    assert model.n_neighbors == 15 and model.dict_relations_[2] == RELATION

    free = AlignedUMAP(**FAST).fit(slices[:3], relations=[RELATION, RELATION])
    free.set_params(alignment_regularisation=0.0).update(slices[3], relations=RELATION)
    assert _gap(model, 2) < 0.4 * _gap(free, 2), (_gap(model, 2), _gap(free, 2))

    after = [e.tobytes() for e in model.embeddings_]
    with pytest.raises(ValueError, match="names row 400 of slice 3"):
        model.update(slices[0], relations={400: 0})
    with pytest.raises(ValueError, match=r"init array must have shape \(n_samples, n_components\) = \(400, 2\)"):
        model.update(slices[0], relations=RELATION, init=np.zeros((5, 2)))  # fails after the new graph is built
    assert model.n_models_ == 4 and len(model.relations_) == 3 and len(model.slice_params_) == 4
    assert [e.tobytes() for e in model.embeddings_] == after


def test_transform_places_new_points_into_one_slice(fitted, ink):
    """Rows not used in fitting (the next heavier digits) land among the same labels in slice 2; one
    point alone lands where it does in a batch, and again on a second call."""
    X, y = ink
    new, labels = X[700:800], y[700:800]
    placed = fitted.transform(new, slice=2)
    assert placed.shape == (100, 2) and np.isfinite(placed).all()
    knn = KNeighborsClassifier(n_neighbors=10).fit(fitted.embeddings_[2], y[300:700])
    assert knn.score(placed, labels) > 0.85
    assert fitted.transform(new[40:41], slice=2).tobytes() == placed[40:41].tobytes()
    assert fitted.transform(new[:10], slice=2).tobytes() == placed[:10].tobytes()
    assert fitted.transform(new, slice=2).tobytes() == placed.tobytes()
    assert fitted.transform(new, slice=-1).tobytes() == placed.tobytes()
    assert fitted.transform(new, slice=0).tobytes() != placed.tobytes()


def test_transform_holds_a_points_placements_together(fitted, ink):
    """A new point's placements into neighbouring slices lie closer together than those of a UMAP
    transform into each slice alone, and no further apart than related fitted points."""
    X, _ = ink
    new = X[300:700][::7] + 0.5  # near points of both slices 1 and 2, none of them a fitted point itself
    joint = np.linalg.norm(fitted.transform(new, slice=1) - fitted.transform(new, slice=2), axis=1).mean()
    alone = np.linalg.norm(fitted.mappers_[1].transform(new) - fitted.mappers_[2].transform(new), axis=1).mean()
    spread = fitted.embeddings_[1].std()
    assert joint < alone, (joint, alone)
    assert joint / spread <= _gap(fitted, 1), (joint / spread, _gap(fitted, 1))


def test_transform_into_a_slice_of_precomputed_distances(ink):
    """With metric='precomputed' a new point's distances reach one slice's points only: it is placed
    into that slice alone, as that slice's UMAP.transform places it."""
    from sklearn.metrics import pairwise_distances

    X, _ = ink
    D = [pairwise_distances(X[:400]), pairwise_distances(X[150:550])]
    model = AlignedUMAP(metric="precomputed", **FAST).fit(D, relations=[RELATION])
    new = pairwise_distances(X[600:620], X[150:550])
    assert model.transform(new, slice=1).tobytes() == model.mappers_[1].transform(new).tobytes()
    with pytest.raises(ValueError, match=r"the distances from each new point to the 400 training points"):
        model.transform(new[:, :300], slice=1)


def test_update_is_as_aligned_as_a_fit(ink):
    """The slice that update adds is about as close to its partners as the same slice in a fit of all."""
    X, _ = ink
    slices = _slices(X, 4)
    full = AlignedUMAP(random_state=2).fit(slices, relations=[RELATION] * 3)
    grown = AlignedUMAP(random_state=2).fit(slices[:3], relations=[RELATION] * 2).update(slices[3], relations=RELATION)
    assert _gap(grown, 2) < 1.25 * _gap(full, 2), (_gap(grown, 2), _gap(full, 2))


def test_save_and_load_round_trip(fitted, ink, tmp_path):
    X, _ = ink
    path = tmp_path / "aligned.umapx"
    fitted.save(path)
    loaded = umapx.load(path)
    assert type(loaded) is AlignedUMAP
    assert loaded.get_params() == fitted.get_params()
    assert loaded.get_params()["n_neighbors"] == [10, 15, 20] and loaded.get_params()["min_dist"] == [0.1, 0.8, 0.1]
    assert loaded.n_models_ == 3 and loaded.dict_relations_ == fitted.dict_relations_
    assert [e.tobytes() for e in loaded.embeddings_] == [e.tobytes() for e in fitted.embeddings_]
    assert [p["n_neighbors"] for p in loaded.slice_params_] == [10, 15, 20]
    for s in range(3):
        assert loaded.mappers_[s].transform(X[700:730]).tobytes() == fitted.mappers_[s].transform(X[700:730]).tobytes()
    assert loaded.transform(X[700:730], slice=1).tobytes() == fitted.transform(X[700:730], slice=1).tobytes()
    unpickled = pickle.loads(pickle.dumps(fitted))
    assert unpickled.transform(X[700:730], slice=1).tobytes() == fitted.transform(X[700:730], slice=1).tobytes()


def _png(fig, path):
    """The figure as an RGB array read back from a PNG at 100 dpi."""
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return matplotlib.image.imread(path)[..., :3]


def _inked(image):
    """Share of pixels that differ from white."""
    return float(np.mean(np.any(np.abs(image - 1.0) > 0.05, axis=-1)))


def test_aligned_plot(fitted, ink, tmp_path):
    from mpl_toolkits.mplot3d import Axes3D
    from mpl_toolkits.mplot3d.art3d import Line3DCollection, Path3DCollection

    _, y = ink
    labels = _slices(y, 3)
    ax = umapx.plot.aligned(fitted, labels=labels, kind="stack")
    assert isinstance(ax, Axes3D)
    assert sum(isinstance(c, Path3DCollection) for c in ax.collections) == 3
    assert sum(isinstance(c, Line3DCollection) for c in ax.collections) == 2
    assert len(ax.get_legend().get_texts()) == 10
    image = _png(ax.figure, tmp_path / "stack.png")
    assert image.shape[:2] == (800, 1000) and _inked(image) > 0.05

    axes = umapx.plot.aligned(fitted, labels=labels, kind="grid", columns=5)
    assert isinstance(axes, np.ndarray) and axes.size == 5
    shown = [a for a in axes.ravel() if a.axison]
    assert [a.get_title() for a in shown] == ["slice 0", "slice 1", "slice 2"]
    assert [len(a.collections) for a in shown] == [1, 1, 1]
    image = _png(axes.ravel()[0].figure, tmp_path / "grid.png")
    assert _inked(image) > 0.03

    with pytest.raises(ValueError, match="kind must be 'stack' or 'grid'; got '3d'"):
        umapx.plot.aligned(fitted, kind="3d")
    with pytest.raises(ValueError, match=r"labels must be a list of one label array per slice \(3\)"):
        umapx.plot.aligned(fitted, labels=labels[:2])
    with pytest.raises(ValueError, match=r"labels\[2\] must have one entry per point \(400\)"):
        umapx.plot.aligned(fitted, labels=[labels[0], labels[1], labels[2][:5]])
    plt.close("all")


def test_bad_input_is_refused(fitted, ink):
    X, y = ink
    slices, labels = _slices(X, 3), _slices(y, 3)
    model = AlignedUMAP(n_epochs=10, random_state=0)
    with pytest.raises(ValueError, match=r"relations\[1\] names row 400 of slice 2, which has 400 rows"):
        model.fit(slices, relations=[RELATION, {399: 400}])
    with pytest.raises(ValueError, match=r"relations\[0\] names row -1 of slice 0"):
        model.fit(slices, relations=[{-1: 0}, RELATION])
    with pytest.raises(ValueError, match="'n_neighbors' parameter of AlignedUMAP has 2 values, but there are 3 slices"):
        AlignedUMAP(n_neighbors=[10, 15]).fit(slices, relations=[RELATION, RELATION])
    with pytest.raises(ValueError, match=r"y\[2\] has 10 labels, but slice 2 has 400 rows"):
        model.fit(slices, y=[labels[0], labels[1], labels[2][:10]], relations=[RELATION, RELATION])
    with pytest.raises(ValueError, match=r"y must be a list of one label array per slice \(3\); got 2"):
        model.fit(slices, y=labels[:2], relations=[RELATION, RELATION])
    with pytest.raises(ValueError, match="needs at least 2 slices to align; got 1"):
        model.fit(slices[:1], relations=[])
    with pytest.raises(ValueError, match="relations must have one entry per consecutive pair of slices: 2 for 3"):
        model.fit(slices, relations=[RELATION])
    with pytest.raises(ValueError, match="AlignedUMAP needs relations"):
        model.fit(slices)
    with pytest.raises(ValueError, match=r"relations\[1\] must be a dict or an integer array"):
        model.fit(slices, relations=[RELATION, np.zeros((3, 2))])
    with pytest.raises(ValueError, match="'learning_rate' parameter of AlignedUMAP applies to all slices together"):
        AlignedUMAP(learning_rate=[1.0, 1.0, 1.0]).fit(slices, relations=[RELATION, RELATION])
    with pytest.raises(ValueError, match=r"slice=5 is out of range: this model has 3 slices"):
        fitted.transform(X[:5], slice=5)
    with pytest.raises(ValueError, match=r"slice=-4 is out of range"):
        fitted.transform(X[:5], slice=-4)
    with pytest.raises(ValueError, match="update takes per-slice values of n_neighbors.*got 'learning_rate'"):
        fitted.update(X[:100], relations={0: 0}, learning_rate=0.5)
    assert fitted.n_models_ == 3
    with pytest.raises(umapx.NotFittedError, match="call fit before transform"):
        AlignedUMAP().transform(X[:5], slice=0)
    with pytest.raises(umapx.NotFittedError, match="call fit before update"):
        AlignedUMAP().update(X[:5], relations={0: 0})


def test_fit_leaves_its_inputs_and_parameters_as_they_were(ink):
    X, y = ink
    slices = [X[:300].copy(), X[150:450].astype(np.float64), sp.csr_matrix(X[300:600])]
    labels = [y[:300].copy(), None, y[300:600].copy()]
    relations = [{j + 150: j for j in range(150)}, np.column_stack([np.arange(150, 300), np.arange(150)])]
    saved = (copy.deepcopy(slices), copy.deepcopy(labels), copy.deepcopy(relations))
    listed, inits = [10, 12, 14], ["spectral", np.full((300, 2), 1.0) + np.arange(300)[:, None], "pca"]
    model = AlignedUMAP(n_neighbors=listed, n_epochs=[20, None, 20], init=inits, random_state=0)
    params = copy.deepcopy(model.get_params())
    given = list(slices)
    model.fit(slices, y=labels, relations=relations)
    assert [e.shape for e in model.embeddings_] == [(300, 2)] * 3
    assert [lay.n_epochs for lay in model.layouts_] == [20, 200, 20]
    assert len(slices) == 3 and all(a is b for a, b in zip(slices, given, strict=True))
    assert slices[0].tobytes() == saved[0][0].tobytes() and slices[1].dtype == np.float64
    assert slices[1].tobytes() == saved[0][1].tobytes()
    assert (slices[2] != saved[0][2]).nnz == 0
    assert labels[0].tobytes() == saved[1][0].tobytes() and labels[1] is None
    assert relations[0] == saved[2][0] and np.array_equal(relations[1], saved[2][1])
    assert model.n_neighbors is listed and listed == [10, 12, 14]
    assert model.n_epochs == [20, None, 20] and model.init is inits
    after = model.get_params()
    assert {k: v for k, v in after.items() if k != "init"} == {k: v for k, v in params.items() if k != "init"}
    assert after["init"][::2] == ["spectral", "pca"] and after["init"][1].tobytes() == params["init"][1].tobytes()


def test_labels_per_slice_supervise_each_slice(ink):
    X, y = ink
    slices, labels = _slices(X, 3), _slices(y, 3)
    plain = AlignedUMAP(**FAST).fit(slices, relations=[RELATION, RELATION])
    supervised = AlignedUMAP(**FAST).fit(slices, y=labels, relations=[RELATION, RELATION])
    assert [m.graph_model_.supervised for m in supervised.mappers_] == [True] * 3
    for s in range(3):
        with_labels = knn_accuracy(supervised.embeddings_[s], labels[s])
        without = knn_accuracy(plain.embeddings_[s], labels[s])
        assert with_labels >= without and with_labels > 0.95, (s, with_labels, without)


def test_points_without_edges_get_nan_rows(ink):
    """Slice 1 under the jaccard metric (edges at distance 1 are dropped) with three rows that share no
    feature with any other row: exactly those rows have no edges and are NaN, with a warning naming the slice."""
    X, _ = ink
    binary = np.hstack([(X > 8).astype(np.float32), np.zeros((len(X), 3), np.float32)])
    loners = np.zeros((3, 67), np.float32)
    loners[[0, 1, 2], [64, 65, 66]] = 1.0
    padded = [np.hstack([part, np.zeros((400, 3), np.float32)]) for part in _slices(X, 3)]
    slices = [padded[0], np.vstack([binary[150:550], loners]), padded[2]]
    model = AlignedUMAP(metric=["euclidean", "jaccard", "euclidean"], n_epochs=30, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(slices, relations=[RELATION, RELATION])
    said = [w for w in caught if issubclass(w.category, UserWarning) and "no edges" in str(w.message)]
    messages = [str(w.message) for w in said]
    assert len(messages) == 1 and messages[0].startswith("slice 1: 3 point(s) have no edges")
    assert "[400, 401, 402]" in messages[0]
    assert said[0].filename == __file__  # reported at the user's call, not inside umapx
    for s in range(3):
        isolated = np.diff(model.graph_models_[s].graph.indptr) == 0
        nan_rows = np.isnan(model.embeddings_[s]).any(axis=1)
        assert np.array_equal(isolated, nan_rows)
        assert np.isnan(model.embeddings_[s][isolated]).all()
    assert np.flatnonzero(np.isnan(model.embeddings_[1]).any(axis=1)).tolist() == [400, 401, 402]
    assert np.isfinite(model.layouts_[1].embedding).all()
