"""The ``umapx`` command line on real data: fit, transform, evaluate and plot write what they say, every bad input
exits with status 2 and one ``umapx: error:`` line, and Ctrl-C exits with 130 leaving no partial output."""

import contextlib
import io
import os
import re
import signal
import subprocess
import sys

import anndata
import matplotlib.image
import numpy as np
import pandas as pd
import pytest
import scipy.sparse

import umapx.cli
import umapx.io
import umapx.umap
from umapx.cli import main, read_data
from umapx.evaluation import trustworthiness

FAST = ["--n-epochs", "50", "--seed", "0", "--quiet"]


def run(capsys, *argv):
    """(exit status, stdout, stderr) of ``umapx argv`` run in this process."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def summary_value(text, name):
    return float(re.search(rf"{re.escape(name)}:\s*([0-9.]+)", text).group(1))


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory, digits):
    """scikit-learn's digits as an .npz of X, y and label_names (the layout of the bundled sets), and its (X, y)."""
    X, y = digits
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(path, X=X, y=y, label_names=np.array([str(d) for d in range(10)]))
    return path, X, y


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, digits_npz):
    """One ``umapx fit`` of digits with --save and --plot: (folder, stdout, stderr)."""
    folder = tmp_path_factory.mktemp("fit")
    out, err = io.StringIO(), io.StringIO()
    argv = ["fit", str(digits_npz[0]), "-o", str(folder / "emb.npy"), "--save", str(folder / "model.umapx")]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv + ["--plot", str(folder / "map.png"), "--n-epochs", "50", "--seed", "0"])
    assert status == 0, err.getvalue()
    return folder, out.getvalue(), err.getvalue()


def test_fit_writes_embedding_model_plot_and_summary(fitted, digits_npz):
    folder, out, err = fitted
    _, X, y = digits_npz
    assert sorted(os.listdir(folder)) == ["emb.npy", "map.png", "model.umapx"]  # no temporary files left
    Y = np.load(folder / "emb.npy")
    assert Y.shape == (1797, 2) and np.isfinite(Y).all()
    assert "1797 rows x 64 features" in out
    for stage in ("nearest neighbours", "optimisation", "total fit"):
        assert 0 <= summary_value(out, stage) < 60
    assert summary_value(out, "trustworthiness (k=15)") == pytest.approx(trustworthiness(X, Y, k=15), abs=1e-4)
    assert summary_value(out, "10-NN accuracy") > 0.9  # the labels colour and score; they are not fitted
    assert "nearest neighbours done in" in err and "layout" in err  # stage logs and the tqdm bar without --quiet
    image = matplotlib.image.imread(folder / "map.png")
    assert image.ndim == 3 and min(image.shape[:2]) > 300
    assert len(np.unique(image.reshape(-1, image.shape[2]), axis=0)) > 10  # coloured by label


def test_saved_model_transforms_through_the_cli_as_in_python(fitted, digits_npz, tmp_path, capsys):
    folder, _, _ = fitted
    _, X, _ = digits_npz
    model = umapx.io.load(folder / "model.umapx")
    np.testing.assert_array_equal(model.embedding_, np.load(folder / "emb.npy"))
    np.save(tmp_path / "new.npy", X[:300] + 0.5)
    status, _, err = run(capsys, "transform", folder / "model.umapx", tmp_path / "new.npy", "-o", tmp_path / "t.npy")
    assert status == 0, err
    np.testing.assert_array_equal(np.load(tmp_path / "t.npy"), model.transform(X[:300] + 0.5))


def test_python_m_umapx_cli_in_a_subprocess(fitted, digits_npz, tmp_path):
    def umapx_process(*argv):
        command = [sys.executable, "-m", "umapx.cli", *map(str, argv)]
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    model = fitted[0] / "model.umapx"
    np.save(tmp_path / "new.npy", digits_npz[1][:100])
    done = umapx_process("transform", model, tmp_path / "new.npy", "-o", tmp_path / "t.csv")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "t.csv")
    assert list(table.columns) == ["umap1", "umap2"] and table.shape == (100, 2)
    np.testing.assert_allclose(table.to_numpy(), umapx.io.load(model).transform(digits_npz[1][:100]), rtol=1e-6)

    done = umapx_process("transform", model, tmp_path / "absent.npy", "-o", tmp_path / "u.npy")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"umapx: error: {tmp_path / 'absent.npy'}: no such file"]


@pytest.fixture(scope="module")
def digits_table(digits_npz):
    """Digits as a table: 64 pixel columns and a text label column ``digit``."""
    _, X, y = digits_npz
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    frame.insert(10, "digit", [f"d{v}" for v in y])
    return frame


def test_fit_a_csv_with_a_label_column(digits_table, tmp_path, capsys):
    digits_table.to_csv(tmp_path / "digits.csv", index=False)
    status, out, err = run(capsys, "fit", tmp_path / "digits.csv", "--labels", "digit", "-o", tmp_path / "e.tsv", *FAST)
    assert status == 0, err
    assert "1797 rows x 64 features" in out  # the label column is not a feature
    assert summary_value(out, "10-NN accuracy") > 0.9
    assert err == ""  # --quiet
    embedding = pd.read_csv(tmp_path / "e.tsv", sep="\t")
    assert list(embedding.columns) == ["umap1", "umap2"] and embedding.shape == (1797, 2)


def test_x_name_reads_another_array_of_an_npz(digits_npz, tmp_path, capsys):
    _, X, y = digits_npz
    np.savez(tmp_path / "two.npz", X=np.zeros((5, 3)), pixels=X[:, :32], y=y)
    status, out, err = run(capsys, "fit", tmp_path / "two.npz", "--x-name", "pixels", "-o", tmp_path / "e.npy", *FAST)
    assert status == 0, err
    assert "1797 rows x 32 features" in out and summary_value(out, "10-NN accuracy") > 0.8
    status, _, err = run(capsys, "fit", tmp_path / "two.npz", "--x-name", "pix", "-o", tmp_path / "f.npy", *FAST)
    assert status == 2 and "no array 'pix'" in err and not (tmp_path / "f.npy").exists()


def test_densmap_option_fits_densmap(digits_npz, tmp_path, capsys):
    path, X, _ = digits_npz
    status, _, err = run(
        capsys, "fit", path, "--densmap", "-o", tmp_path / "d.npy", "--save", tmp_path / "d.umapx", *FAST
    )
    assert status == 0, err
    assert umapx.io.load(tmp_path / "d.umapx").densmap is True
    expected = umapx.umap.UMAP(densmap=True, n_epochs=50, random_state=0).fit_transform(X)
    assert np.load(tmp_path / "d.npy").tobytes() == expected.tobytes()
    assert not np.array_equal(expected, umapx.umap.UMAP(n_epochs=50, random_state=0).fit_transform(X))


def test_summary_skips_trustworthiness_of_large_data(bad_files, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(umapx.cli, "TRUST_MAX_ROWS", 30)
    status, out, err = run(capsys, "fit", bad_files / "small.npy", "-o", tmp_path / "e.npy", *FAST)
    assert status == 0, err
    assert "trustworthiness (k=15): skipped (more than 30 rows)" in out and "10-NN accuracy" not in out
    assert np.load(tmp_path / "e.npy").shape == (40, 2)


def test_csv_tsv_parquet_and_numpy_fallback_read_the_same(digits_table, digits_npz, tmp_path, monkeypatch):
    _, X, y = digits_npz
    digits_table.to_csv(tmp_path / "d.csv", index=False)
    digits_table.to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    digits_table.to_parquet(tmp_path / "d.parquet")
    reads = [read_data(tmp_path / name, "digit") for name in ("d.csv", "d.tsv", "d.parquet")]
    monkeypatch.setitem(sys.modules, "pandas", None)  # no pandas: numpy.genfromtxt reads csv and tsv
    reads += [read_data(tmp_path / name, "digit") for name in ("d.csv", "d.tsv")]
    for features, labels in reads:
        np.testing.assert_array_equal(features, X)
        assert [str(v) for v in labels] == [f"d{v}" for v in y]


def test_h5ad_with_sparse_counts_and_an_obs_label_column_fits(digits_npz, tmp_path, capsys):
    _, X, y = digits_npz
    obs = pd.DataFrame({"digit": pd.Categorical([f"d{v}" for v in y])}, index=[f"cell{i}" for i in range(len(y))])
    anndata.AnnData(X=scipy.sparse.csr_matrix(X), obs=obs).write_h5ad(tmp_path / "cells.h5ad")
    features, labels = read_data(tmp_path / "cells.h5ad", "digit")
    assert scipy.sparse.issparse(features)
    np.testing.assert_array_equal(features.toarray(), X)
    assert list(labels) == [f"d{v}" for v in y]
    status, out, err = run(capsys, "fit", tmp_path / "cells.h5ad", "--labels", "digit", "-o", tmp_path / "e.tsv", *FAST)
    assert status == 0, err
    assert np.loadtxt(tmp_path / "e.tsv", delimiter="\t", skiprows=1).shape == (1797, 2)
    assert summary_value(out, "10-NN accuracy") > 0.9
    status, _, err = run(capsys, "fit", tmp_path / "cells.h5ad", "--labels", "type", "-o", tmp_path / "f.npy")
    assert status == 2 and "has no obs column 'type'" in err and "digit" in err


def test_evaluate_prints_trustworthiness_and_accuracy(fitted, digits_npz, capsys):
    folder, _, _ = fitted
    status, out, err = run(capsys, "evaluate", digits_npz[0], folder / "emb.npy", "-k", "10")
    assert status == 0, err
    trust, accuracy = summary_value(out, "trustworthiness (k=10)"), summary_value(out, "10-NN accuracy")
    assert 0.9 < trust <= 1 and 0.9 < accuracy <= 1
    assert trust == pytest.approx(trustworthiness(digits_npz[1], np.load(folder / "emb.npy"), k=10), abs=1e-4)


@pytest.mark.parametrize("suffix", [".png", ".html"])
def test_plot_a_saved_model(fitted, digits_npz, tmp_path, capsys, suffix):
    folder, _, _ = fitted
    path = tmp_path / f"map{suffix}"
    status, _, err = run(capsys, "plot", folder / "model.umapx", "-o", path, "--labels-from", digits_npz[0])
    assert status == 0, err
    assert os.listdir(tmp_path) == [path.name]
    if suffix == ".png":
        assert matplotlib.image.imread(path).shape[2] in (3, 4)
    else:
        page = path.read_text()
        assert page.startswith("<!DOCTYPE html>") and "Bokeh" in page and len(page) > 100_000  # BokehJS inlined


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    np.save(folder / "flat.npy", np.arange(10.0))
    np.save(folder / "cube.npy", np.zeros((4, 3, 2)))
    np.save(folder / "nan.npy", np.where(np.eye(40, 5) > 0, np.nan, 1.0))
    np.save(folder / "small.npy", np.random.default_rng(0).normal(size=(40, 5)))
    (folder / "data.xlsx").write_bytes(b"not really")
    (folder / "garbage.umapx").write_bytes(os.urandom(2000))
    pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0], "kind": ["x", "y"]}).to_csv(folder / "t.csv", index=False)
    (folder / "cells.h5ad").write_bytes(b"\x89HDF\r\n")
    return folder


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["fit", "{b}/absent.npz", "-o", "{o}/e.npy"], ["absent.npz: no such file"]),
        (["fit", "{b}/data.xlsx", "-o", "{o}/e.npy"], ["unknown data file extension '.xlsx'", ".npz, .csv, .tsv"]),
        (["fit", "{b}/small.npy", "-o", "{o}/e.txt"], ["unknown embedding file extension '.txt'", ".npy, .csv, .tsv"]),
        (["fit", "{b}/t.csv", "--labels", "species", "-o", "{o}/e.npy"], ["no column 'species'", "a, b, kind"]),
        (["fit", "{b}/t.csv", "-o", "{o}/e.npy"], ["column(s) kind are not numeric", "--labels"]),
        (["fit", "{d}", "--labels", "cls", "-o", "{o}/e.npy"], ["no array 'cls'", "X, y, label_names"]),
        (["fit", "{b}/small.npy", "--labels", "y", "-o", "{o}/e.npy"], ["holds no labels"]),
        (["fit", "{b}/flat.npy", "-o", "{o}/e.npy"], ["1-D array of shape (10,)", "2-D array"]),
        (["fit", "{b}/cube.npy", "-o", "{o}/e.npy"], ["3-D array of shape (4, 3, 2)"]),
        (["fit", "{b}/cells.h5ad", "-o", "{o}/e.npy"], ["pip install anndata"]),
        (["fit", "{b}/small.npy", "-o", "{o}/e.npy", "--n-neighbors", "1"], ["'n_neighbors' parameter of UMAP"]),
        (["fit", "{b}/small.npy", "-o", "{o}/e.npy", "--min-dist", "3"], ["min_dist (3.0) must not exceed spread"]),
        (["fit", "{b}/nan.npy", "-o", "{o}/e.npy"], ["NaN or infinity"]),
        (["fit", "{b}/small.npy", "-o", "{o}/e.npy", "--plot", "{o}/m.png", "--n-components", "3"], ["--plot draws"]),
        (["fit", "{b}/small.npy", "-o", "{o}/missing/e.npy"], ["does not exist"]),
        (["transform", "{b}/small.npy", "{b}/small.npy", "-o", "{o}/t.npy"], ["is not a umapx model file"]),
        (["transform", "{b}/garbage.umapx", "{b}/small.npy", "-o", "{o}/t.npy"], ["is not a umapx model file"]),
        (["transform", "{d}", "{b}/small.npy", "-o", "{o}/t.npy"], ["not a umapx model file (it has no model.json)"]),
        (
            ["transform", "{m}", "{b}/small.npy", "-o", "{o}/t.npy"],
            ["5 features, but transform is expecting 64 features"],
        ),
        (["evaluate", "{d}", "{b}/small.npy"], ["has 40 rows but", "has 1797"]),
        (["plot", "{m}", "-o", "{o}/m.png", "--labels", "y"], ["--labels needs --labels-from"]),
        (["plot", "{m}", "-o", "{o}/m.pdf"], ["unknown plot file extension '.pdf'", ".png, .html"]),
    ],
)
def test_bad_input_is_one_error_line_with_status_2(
    argv, expected, bad_files, digits_npz, fitted, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "anndata", None)  # as where anndata is not installed
    paths = dict(b=bad_files, o=tmp_path, d=digits_npz[0], m=fitted[0] / "model.umapx")
    status, out, err = run(capsys, *[arg.format(**paths) for arg in argv])
    assert status == 2
    assert len(err.splitlines()) == 1 and err.startswith("umapx: error: "), err
    for text in expected:
        assert text in err
    assert out == "" and os.listdir(tmp_path) == []


def test_usage_error_and_help(capsys):
    status, _, err = run(capsys, "fit", "data.npy")  # no -o
    assert status == 2 and "the following arguments are required: -o/--output" in err
    for command in ([], ["fit"], ["transform"], ["evaluate"], ["plot"]):
        status, out, _ = run(capsys, *command, "--help")
        assert status == 0 and "Examples:" in out and "usage: umapx" in out


def test_ctrl_c_during_fit_exits_130_and_writes_nothing(digits_npz, tmp_path, capsys, monkeypatch):
    def interrupted(self, X, y=None, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(umapx.umap.UMAP, "fit", interrupted)
    argv = ["fit", digits_npz[0], "-o", tmp_path / "e.npy", "--save", tmp_path / "m.umapx", *FAST]
    status, out, err = run(capsys, *argv)
    assert (status, out, err) == (130, "", "umapx: interrupted\n")
    assert os.listdir(tmp_path) == []


def test_ctrl_c_while_saving_leaves_no_partial_model(digits_npz, tmp_path, capsys, monkeypatch):
    def interrupted(model, path):
        with open(path, "wb") as out:
            out.write(b"PK\x03\x04 half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(umapx.io, "save", interrupted)
    argv = ["fit", digits_npz[0], "-o", tmp_path / "e.npy", "--save", tmp_path / "m.umapx", *FAST]
    status, _, err = run(capsys, *argv)
    assert (status, err) == (130, "umapx: interrupted\n")
    assert os.listdir(tmp_path) == ["e.npy"]  # the embedding was complete before the model was written
    assert np.load(tmp_path / "e.npy").shape == (1797, 2)


def test_sigint_to_a_running_fit_exits_130_and_writes_nothing(digits_npz, tmp_path):
    command = [sys.executable, "-m", "umapx.cli", "fit", str(digits_npz[0]), "-o", str(tmp_path / "e.npy")]
    command += ["--save", str(tmp_path / "m.umapx"), "--n-epochs", "100000", "--seed", "0"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:  # the stage logs: interrupt once the layout has started
        if "nearest neighbours done" in line:
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert err.splitlines()[-1] == "umapx: interrupted"
    assert os.listdir(tmp_path) == []
