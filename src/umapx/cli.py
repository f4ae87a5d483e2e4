"""The ``umapx`` command line: fit, transform, evaluate and plot from data files.

Data files are .npy, .npz, .csv, .tsv, .parquet or .h5ad; ``umapx COMMAND --help`` lists the options, with
examples. A user error exits with status 2 and one line ``umapx: error: ...`` on stderr, Ctrl-C with 130. Every
output is written to a temporary file beside its destination and moved into place only when complete.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

DATA_FORMATS = (".npy", ".npz", ".csv", ".tsv", ".parquet", ".h5ad")
ARRAY_FORMATS = (".npy", ".csv", ".tsv")
PLOT_FORMATS = (".png", ".html")
TRUST_MAX_ROWS = 20000  # the fit summary computes trustworthiness up to this many rows


class UserError(Exception):
    """A problem with the command's input: reported as one line, exit status 2."""


# ------------------------------------------------------------------ reading
def read_data(path, labels=None, x_name="X"):
    """``(X, y)`` of a data file: ``y`` holds the labels named by ``labels`` (an .npz file's ``y`` by default,
    as names from its ``label_names`` when present), or None. A csv/tsv/parquet label column is not a feature."""
    path = _existing(path)
    ext = _extension(path, DATA_FORMATS, "data")
    try:
        if ext == ".npy":
            if labels is not None:
                raise UserError(f"{path} is a .npy file, which holds no labels; use .npz, .csv, .tsv or .parquet")
            X, y = np.load(path, allow_pickle=False), None
        elif ext == ".npz":
            X, y = _read_npz(path, labels, x_name)
        elif ext == ".h5ad":
            X, y = _read_h5ad(path, labels)
        else:
            X, y = _split_table(path, _read_table(path, ext), labels)
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise UserError(f"cannot read {path}: {error}") from None
    if not hasattr(X, "tocsr"):  # an h5ad file's X may be sparse
        X = np.asarray(X)
    if X.ndim != 2:
        raise UserError(f"{path} holds a {X.ndim}-D array of shape {X.shape}; a 2-D array (rows x features) is needed")
    if y is not None and len(y) != X.shape[0]:
        raise UserError(f"{path}: the labels have {len(y)} entries but the data has {X.shape[0]} rows")
    return X, y


def _read_npz(path, labels, x_name):
    with np.load(path, allow_pickle=False) as archive:
        for name, option in ((x_name, "--x-name"), (labels, "--labels")):
            if name is not None and name not in archive.files:
                raise UserError(f"{path} has no array {name!r} ({option}); its arrays: {_names(archive.files)}")
        name = labels if labels is not None else "y" if "y" in archive.files else None
        y = None if name is None else archive[name]
        if name == "y" and "label_names" in archive.files and y.dtype.kind in "iu" and y.size:
            names = archive["label_names"]
            if y.min() >= 0 and y.max() < len(names):
                y = names[y]
        return archive[x_name], y


def _read_table(path, ext):
    """The columns of a csv, tsv or parquet file, as {name: 1-D array}."""
    if ext == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise UserError("reading .parquet files needs pyarrow: pip install pyarrow") from None
        table = pq.read_table(path)
        return {name: table.column(name).to_numpy() for name in table.column_names}
    sep = "\t" if ext == ".tsv" else ","
    try:
        import pandas as pd
    except ImportError:
        table = np.genfromtxt(path, delimiter=sep, names=True, dtype=None, encoding="utf-8", deletechars="")
        return {name: np.atleast_1d(table[name]) for name in table.dtype.names}
    frame = pd.read_csv(path, sep=sep)
    return {str(name): frame[name].to_numpy() for name in frame.columns}


def _split_table(path, columns, labels):
    if labels is not None and labels not in columns:
        raise UserError(f"{path} has no column {labels!r} (--labels); its columns: {_names(list(columns))}")
    y = columns.pop(labels) if labels is not None else None
    text = [name for name, column in columns.items() if column.dtype.kind not in "biuf"]
    if text:
        raise UserError(f"{path}: column(s) {_names(text)} are not numeric; name the label column with --labels")
    return np.column_stack(list(columns.values())).astype(np.float32), y


def _read_h5ad(path, labels):
    try:
        import anndata
    except ImportError:
        raise UserError("reading .h5ad files needs anndata: pip install anndata") from None
    adata = anndata.read_h5ad(path)
    if labels is not None and labels not in adata.obs.columns:
        raise UserError(f"{path} has no obs column {labels!r} (--labels); its obs columns: {_names(adata.obs.columns)}")
    return adata.X, None if labels is None else adata.obs[labels].to_numpy()


def _names(names, most=20):
    names = [str(name) for name in names]
    more = f", ... ({len(names)} in all)" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def _existing(path):
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    return path


def _extension(path, allowed, what):
    ext = path.suffix.lower()
    if ext not in allowed:
        raise UserError(f"{path}: unknown {what} file extension {ext or '(none)'!r}; supported: {', '.join(allowed)}")
    return ext


def _load_model(path):
    from umapx import io

    return io.load(_existing(path))


# ------------------------------------------------------------------ writing
def _output(path, allowed=None, what=""):
    """``path`` as a Path, checked before any work: its extension is one of ``allowed`` and its folder exists."""
    path = Path(path)
    if allowed is not None:
        _extension(path, allowed, what)
    if not path.parent.is_dir():
        raise UserError(f"{path}: the folder {path.parent} does not exist")
    return path


@contextmanager
def _replacing(path):
    """A temporary path beside ``path``, moved onto ``path`` when the body completes and removed otherwise."""
    tmp = path.parent / f".{path.name}.{os.getpid()}.part"
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_array(path, Y):
    """Write an embedding as .npy, or as .csv/.tsv with a header row ``umap1,umap2,...``."""
    with _replacing(path) as tmp:
        if path.suffix.lower() == ".npy":
            with open(tmp, "wb") as out:
                np.save(out, Y)
        else:
            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            header = sep.join(f"umap{i + 1}" for i in range(Y.shape[1]))
            np.savetxt(tmp, Y, fmt="%.9g", delimiter=sep, header=header, comments="")


def draw(model, labels, path):
    """Draw the model's map: a PNG with ``umapx.plot.points``, an HTML page with ``umapx.plot.interactive``."""
    try:
        import umapx.plot

        with _replacing(path) as tmp:
            if path.suffix.lower() == ".html":
                umapx.plot.save_html(umapx.plot.interactive(model, labels=labels), tmp)
            else:
                import matplotlib

                matplotlib.use("Agg")
                import matplotlib.pyplot as plt

                ax = umapx.plot.points(model, labels=labels)
                ax.figure.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
                plt.close(ax.figure)
    except ImportError as error:
        raise UserError(f"plotting needs the plot extra: pip install 'umapx[plot]' ({error})") from None


# ------------------------------------------------------------------ commands
class _StageTimes(logging.Handler):
    """Within ``with``, collects the stage times the 'umapx' logger reports as {stage: seconds}."""

    log = logging.getLogger("umapx")

    def __enter__(self):
        self.times, self.previous = {}, self.log.level
        self.log.addHandler(self)
        self.log.setLevel(logging.INFO)
        return self.times

    def __exit__(self, *exc_info):
        self.log.removeHandler(self)
        self.log.setLevel(self.previous)

    def emit(self, record):
        if hasattr(record, "seconds"):
            self.times[record.stage] = record.seconds


def fit(args):
    import umapx
    from umapx import io
    from umapx.evaluation import knn_accuracy, trustworthiness

    out = _output(args.output, ARRAY_FORMATS, "embedding")
    save = args.save and _output(args.save)
    plot = args.plot and _output(args.plot, (".png",), "plot")
    if plot and args.n_components != 2:
        raise UserError(f"--plot draws two-dimensional maps; --n-components is {args.n_components}")
    params = {name: vars(args)[name] for name in ("n_neighbors", "n_components", "metric", "min_dist", "n_epochs")}
    model = umapx.UMAP(**params, random_state=args.seed, densmap=args.densmap, verbose=not args.quiet)
    model._check_params()  # bad option values fail before the data is read
    start = time.perf_counter()
    X, y = read_data(args.data, args.labels, args.x_name)
    read = time.perf_counter() - start
    start = time.perf_counter()
    with _StageTimes() as stages:
        Y = model.fit_transform(X)
    total = time.perf_counter() - start
    write_array(out, Y)
    if save:
        with _replacing(save) as tmp:
            io.save(model, tmp)
    if plot:
        draw(model, y, plot)

    rows = [("reading data", f"{read:.2f} s")]
    rows += [(name, f"{seconds:.2f} s") for name, seconds in stages.items()]
    rows.append(("total fit", f"{total:.2f} s"))
    small = X.shape[0] <= TRUST_MAX_ROWS
    trust = f"{trustworthiness(X, Y, k=15):.4f}" if small else f"skipped (more than {TRUST_MAX_ROWS} rows)"
    rows.append(("trustworthiness (k=15)", trust))
    if y is not None:
        rows.append(("10-NN accuracy", f"{knn_accuracy(Y, y, k=10):.4f}"))
    print(f"umapx: {X.shape[0]} rows x {X.shape[1]} features -> {out} ({Y.shape[0]} x {Y.shape[1]})")
    for name, value in rows:
        print(f"  {name + ':':<24}{value}")


def transform(args):
    out = _output(args.output, ARRAY_FORMATS, "embedding")
    model = _load_model(args.model)
    X, _ = read_data(args.data, args.labels, args.x_name)
    write_array(out, model.transform(X))


def evaluate(args):
    from umapx.evaluation import knn_accuracy, trustworthiness

    X, y = read_data(args.data, args.labels, args.x_name)
    Y, _ = read_data(args.embedding)
    if Y.shape[0] != X.shape[0]:
        raise UserError(f"{args.embedding} has {Y.shape[0]} rows but {args.data} has {X.shape[0]}")
    print(f"trustworthiness (k={args.k}): {trustworthiness(X, Y, k=args.k):.4f}")
    if y is not None:
        print(f"10-NN accuracy: {knn_accuracy(Y, y, k=10):.4f}")


def plot(args):
    out = _output(args.output, PLOT_FORMATS, "plot")
    if args.labels is not None and args.labels_from is None:
        raise UserError("--labels needs --labels-from DATA")
    model = _load_model(args.model)
    labels = None
    if args.labels_from is not None:
        _, labels = read_data(args.labels_from, args.labels)
        if labels is None:
            raise UserError(f"{args.labels_from} holds no labels; name them with --labels")
    draw(model, labels, out)


# ------------------------------------------------------------------ parser
EXAMPLES = {
    "umapx": ["umapx fit digits.npz -o embedding.npy --save model.umapx", "umapx fit --help"],
    "fit": [
        "umapx fit digits.npz -o embedding.npy --save model.umapx --plot embedding.png",
        "umapx fit cells.csv --labels cell_type -o embedding.csv --metric cosine --n-neighbors 30",
        "umapx fit pbmc.h5ad --labels bulk_labels -o embedding.tsv --densmap --quiet",
    ],
    "transform": [
        "umapx transform model.umapx new.npy -o new_embedding.npy",
        "umapx transform model.umapx new.csv --labels cell_type -o new_embedding.csv",
    ],
    "evaluate": [
        "umapx evaluate digits.npz embedding.npy",
        "umapx evaluate cells.csv embedding.csv --labels cell_type -k 30",
    ],
    "plot": [
        "umapx plot model.umapx -o map.png",
        "umapx plot model.umapx -o map.html --labels-from digits.npz --labels y",
    ],
}


def build_parser():
    def parser_args(name, help):
        examples = "Examples:\n  " + "\n  ".join(EXAMPLES[name])
        return dict(description=help, epilog=examples, formatter_class=argparse.RawDescriptionHelpFormatter)

    parser = argparse.ArgumentParser(prog="umapx", **parser_args("umapx", "UMAP dimension reduction from files."))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data = argparse.ArgumentParser(add_help=False)
    labels_help = "labels: an .npz array (default: y), a csv/tsv/parquet column (not a feature), an h5ad obs column"
    data.add_argument("--labels", metavar="NAME", help=labels_help)
    data.add_argument("--x-name", default="X", metavar="NAME", help="the feature array of an .npz file (default: X)")

    def command(name, run, help, parents=()):
        sub = commands.add_parser(name, help=help, parents=list(parents), **parser_args(name, help))
        sub.set_defaults(run=run)
        return sub

    sub = command("fit", fit, "Fit a UMAP model and write the embedding.", [data])
    sub.add_argument("data", metavar="DATA", help=f"data file ({', '.join(DATA_FORMATS)})")
    sub.add_argument("-o", "--output", required=True, help="embedding file (.npy, .csv, .tsv)")
    sub.add_argument("--save", metavar="MODEL", help="also save the fitted model (e.g. model.umapx)")
    sub.add_argument("--plot", metavar="PNG", help="also draw the embedding, coloured by the labels")
    sub.add_argument("--metric", default="euclidean", help="distance in the data (default: euclidean)")
    sub.add_argument("--n-neighbors", type=int, default=15, help="neighbourhood size (default: 15)")
    sub.add_argument("--min-dist", type=float, default=0.1, help="minimum distance in the embedding (default: 0.1)")
    sub.add_argument("--n-components", type=int, default=2, help="embedding dimensions (default: 2)")
    sub.add_argument("--n-epochs", type=int, help="optimisation epochs (default: by data size)")
    sub.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    sub.add_argument("--densmap", action="store_true", help="keep the data's local densities (DensMAP)")
    sub.add_argument("--quiet", action="store_true", help="no progress bars or stage logs")

    sub = command("transform", transform, "Embed new data with a saved model.", [data])
    sub.add_argument("model", metavar="MODEL", help="model file written by fit --save")
    sub.add_argument("data", metavar="DATA", help=f"data file ({', '.join(DATA_FORMATS)})")
    sub.add_argument("-o", "--output", required=True, help="embedding file (.npy, .csv, .tsv)")

    sub = command("evaluate", evaluate, "Print the quality measures of an embedding.", [data])
    sub.add_argument("data", metavar="DATA", help=f"data file ({', '.join(DATA_FORMATS)})")
    sub.add_argument("embedding", metavar="EMBEDDING", help="embedding file (.npy, .csv, .tsv)")
    sub.add_argument("-k", type=int, default=15, help="neighbours for trustworthiness (default: 15)")

    sub = command("plot", plot, "Draw a saved model's embedding.")
    sub.add_argument("model", metavar="MODEL", help="model file written by fit --save")
    sub.add_argument("-o", "--output", required=True, help="picture file (.png, or .html for an interactive page)")
    sub.add_argument("--labels-from", metavar="DATA", help="data file holding the labels to colour by")
    sub.add_argument("--labels", metavar="NAME", help="the labels in --labels-from (default for .npz: y)")
    return parser


def main(argv=None) -> int:
    """Run the ``umapx`` command line on ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error (status 2)
        return exit_.code
    try:
        args.run(args)
    except KeyboardInterrupt:
        print("umapx: interrupted", file=sys.stderr)
        return 130
    except (UserError, ValueError, OSError) as error:
        print(f"umapx: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
