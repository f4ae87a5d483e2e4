"""ParametricUMAP on fashion_mnist (fit on the first 60,000 rows, the last 10,000 held out) beside
non-parametric umapx, umap-learn (UMAP and its TensorFlow ParametricUMAP), TorchDR 0.5's UMAP (torch,
on the CPU), fastumap and scranpy; each task in a fresh process, one at a time. Attribution on digits.

    python benchmarks/parametric.py [--timeout 1800] [--markdown RECORD]

Tasks (pixels scaled to [0, 1]; every library with its defaults and n_neighbors=15):

- ``fit``: fit on the 60,000 training rows; where the library has a transform, transform the 10,000
  held-out rows once (100 rows first, untimed: the warm call) and time it. Held-out trustworthiness
  (k=15, 5,000-point sample) and 10-NN accuracy of the held-out embedding (5-fold, within it) and of a
  10-NN classifier of the training embedding scoring the held-out rows.
- ``decoder``: ParametricUMAP with ``parametric_reconstruction=True``: the held-out rows' reconstruction
  error (mean squared, per pixel) through encoder and decoder, beside PCA with as many components.
- ``semi``: 1% of the training labels (about 600 rows, seeded): ParametricUMAP's classifier head
  (``classifier=True``) against the same network (trunk and head) trained on the labelled rows alone
  for as many steps, each on as many labelled draws (with replacement) as the head's steps take;
  accuracy on the held-out rows.
- ``attribution`` (digits, pixels / 16): ``explain`` with the training mean as baseline; for pairs of
  classes, the Spearman correlation of the per-pixel mean |attribution| (summed over components, over
  the points of both classes) with |mean image a - mean image b|; and completeness: per point,
  |sum over pixels - (transform(x) - transform(baseline))| over |transform(x) - transform(baseline)|
  (its median, and the share of points where it is at most 5%).

Writes ``benchmarks/results/parametric-<date>.json`` and ``benchmarks/PARAMETRIC.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FIT_LIBRARIES = ("umapx", "umapx-parametric", "umap-learn", "umap-learn-parametric", "torchdr", "fastumap", "scranpy")
PAIRS = ((0, 1), (3, 8), (4, 9), (1, 7), (5, 6), (2, 3))
LABELLED = 0.01


def fashion():
    from umapx.datasets import load

    X, y = load("fashion_mnist")
    X = X.astype(np.float32) / 255.0
    return X[:60000], y[:60000], X[60000:], y[60000:]


# ---------------------------------------------------------------------------------------- children
def fitter(library):
    """(fit(X) -> (model, training embedding), transform or None) of ``library``."""
    if library == "umapx":
        import umapx

        model = umapx.UMAP(random_state=0)
        return lambda X: model.fit_transform(X), model.transform
    if library == "umapx-parametric":
        import umapx

        model = umapx.ParametricUMAP(random_state=0)
        return lambda X: model.fit_transform(X), model.transform
    if library == "umap-learn":
        import umap

        model = umap.UMAP(n_neighbors=15)  # unseeded: a seed makes it single-threaded
        return lambda X: model.fit_transform(X), model.transform
    if library == "umap-learn-parametric":
        from umap.parametric_umap import ParametricUMAP

        model = ParametricUMAP(n_neighbors=15)
        return lambda X: model.fit_transform(X), lambda X: model.transform(X)
    if library == "torchdr":
        import torchdr

        model = torchdr.UMAP(n_neighbors=15, device="cpu")
        return lambda X: model.fit_transform(X), None
    if library == "fastumap":
        import fastumap

        return lambda X: fastumap.fit(X, 2, n_neighbors=15, random_state=0).embedding, None
    import scranpy

    threads = len(os.sched_getaffinity(0))
    return lambda X: scranpy.run_umap(
        np.asfortranarray(X.T.astype(np.float64)), num_dim=2, num_neighbors=15, num_threads=threads,
        parallel_optimization=True,
    ), None


def fit_task(library):
    Xtr, ytr, Xte, yte = fashion()
    started = time.perf_counter()
    fit, transform = fitter(library)
    result = {"import_s": time.perf_counter() - started}
    start = time.perf_counter()
    train = np.asarray(fit(Xtr), dtype=np.float32)
    result["fit_s"] = time.perf_counter() - start
    test = None
    if transform is not None:
        transform(Xte[:100])
        start = time.perf_counter()
        test = np.asarray(transform(Xte), dtype=np.float32)
        result["transform_s"] = time.perf_counter() - start
    result.update(quality(Xtr, ytr, train, Xte, yte, test))
    return result


def quality(Xtr, ytr, train, Xte, yte, test):
    from sklearn.neighbors import KNeighborsClassifier

    from umapx.evaluation import knn_accuracy, trustworthiness

    if test is None:
        return {"train_trust": trustworthiness(Xtr, train, k=15, sample_size=5000, random_state=0)}
    return {
        "trust": trustworthiness(Xte, test, k=15, sample_size=5000, random_state=0),
        "knn": knn_accuracy(test, yte, k=10, cv=5, random_state=0),
        "knn_from_train": float(KNeighborsClassifier(10).fit(train, ytr).score(test, yte)),
    }


def decoder_task():
    from sklearn.decomposition import PCA

    import umapx

    Xtr, _, Xte, _ = fashion()
    start = time.perf_counter()
    model = umapx.ParametricUMAP(random_state=0, parametric_reconstruction=True).fit(Xtr)
    fit_s = time.perf_counter() - start
    back = model.inverse_transform(model.transform(Xte))
    pca = PCA(n_components=model.n_components, random_state=0).fit(Xtr)
    return {
        "fit_s": fit_s,
        "mse": float(((back - Xte) ** 2).mean()),
        "pca_mse": float(((pca.inverse_transform(pca.transform(Xte)) - Xte) ** 2).mean()),
        "mean_image_mse": float(((Xtr.mean(0) - Xte) ** 2).mean()),
    }


def semi_task():
    import torch

    import umapx
    from umapx.parametric import networks

    Xtr, ytr, Xte, yte = fashion()
    labelled = np.random.default_rng(0).random(len(ytr)) < LABELLED
    y = np.where(labelled, ytr, -1)
    start = time.perf_counter()
    model = umapx.ParametricUMAP(random_state=0, classifier=True).fit(Xtr, y)
    fit_s = time.perf_counter() - start
    head_accuracy = float((model.predict(Xte) == yte).mean())
    steps = len(model.batch_history_["step"]) and model.batch_history_["step"][-1]
    # the same shape trained on the labelled rows alone: as many steps, each on min(1000, n) labelled draws
    torch.manual_seed(0)
    encoder = networks.default_encoder(Xtr.shape[1], 2)
    trunk, _ = networks.split_head(encoder)
    head = networks.classifier_head(encoder, 2, 10)
    net = torch.nn.Sequential(trunk, head)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    rows = torch.from_numpy(Xtr[labelled])
    codes = torch.from_numpy(ytr[labelled].astype(np.int64))
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        draw = torch.randint(len(rows), (min(1000, len(rows)),), generator=generator)
        loss = torch.nn.functional.cross_entropy(net(rows[draw]), codes[draw])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        plain_accuracy = float((net(torch.from_numpy(Xte)).argmax(1).numpy() == yte).mean())
    return {"fit_s": fit_s, "n_labelled": int(labelled.sum()), "steps": int(steps),
            "head_accuracy": head_accuracy, "plain_accuracy": plain_accuracy}


def attribution_task():
    from scipy.stats import spearmanr
    from sklearn.datasets import load_digits

    import umapx

    d = load_digits()
    X, y = (d.data / 16.0).astype(np.float32), d.target
    start = time.perf_counter()
    model = umapx.ParametricUMAP(random_state=0).fit(X)
    fit_s = time.perf_counter() - start
    result = {"fit_s": fit_s, "pairs": {}}
    errors = []
    for a, b in PAIRS:
        rows = np.isin(y, (a, b))
        attribution = model.explain(X[rows])
        importance = np.abs(attribution).sum(2).mean(0)
        difference = np.abs(X[y == a].mean(0) - X[y == b].mean(0))
        result["pairs"][f"{a}-{b}"] = float(spearmanr(importance, difference).statistic)
        moved = model.transform(X[rows]) - model.transform(model.feature_mean_[None, :])
        errors.append(np.linalg.norm(attribution.sum(1) - moved, axis=1) / np.linalg.norm(moved, axis=1))
    errors = np.concatenate(errors)
    result["completeness_median"] = float(np.median(errors))
    result["completeness_within_5pct"] = float(np.mean(errors <= 0.05))
    return result


def child(task, out):
    tasks = {"decoder": decoder_task, "semi": semi_task, "attribution": attribution_task}
    result = tasks[task]() if task in tasks else fit_task(task)
    Path(out).write_text(json.dumps(result))


# ---------------------------------------------------------------------------------------- parent
def run_child(task, workdir, timeout):
    out = os.path.join(workdir, f"{task}.json")
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, __file__, "--child", task, out], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "timed out", "error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"status": "failed", "error": lines[-1] if lines else f"exit status {proc.returncode}"}
    return {"status": "ok", "wall_s": time.perf_counter() - start, **json.loads(Path(out).read_text())}


def versions():
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("umapx", "torch", "umap-learn", "tensorflow-cpu", "keras", "torchdr", "fastumap", "scranpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=2, metavar=("TASK", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a task is stopped")
    parser.add_argument("--tasks", default=",".join((*FIT_LIBRARIES, "decoder", "semi", "attribution")))
    parser.add_argument("--markdown", metavar="RECORD", help="only write PARAMETRIC.md again from a results file")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.markdown:
        (HERE / "PARAMETRIC.md").write_text(markdown(json.loads(Path(args.markdown).read_text())))
        return
    import tempfile

    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for task in args.tasks.split(","):
            results[task] = run_child(task, workdir, args.timeout)
            print(task, results[task], flush=True)
    date = dt.datetime.now().isoformat(timespec="minutes")
    record = {"date": date, "machine": f"{len(os.sched_getaffinity(0))} usable cores, Python "
              f"{platform.python_version()}", "versions": versions(), "results": results}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"parametric-{date[:10]}.json").write_text(json.dumps(record, indent=1))
    (HERE / "PARAMETRIC.md").write_text(markdown(record))
    print((HERE / "PARAMETRIC.md").read_text())


def markdown(record):
    r = record["results"]

    def cell(task, field, fmt="{:.3f}"):
        run = r.get(task, {"status": "not run"})
        if run["status"] != "ok":
            return run.get("error", run["status"]) if field == "fit_s" else run["status"]
        return fmt.format(run[field]) if field in run else "—"

    lines = [
        "# ParametricUMAP benchmark",
        "",
        f"Run {record['date']} on {record['machine']}; versions: "
        + ", ".join(f"{k} {v}" for k, v in record["versions"].items() if v) + ".",
        "Command: `make bench-parametric` (`python benchmarks/parametric.py`); every task in a fresh process, "
        "one at a time, on an idle machine.",
        "",
        "## fashion_mnist: fit on the first 60,000 rows, the last 10,000 held out",
        "",
        "Held-out quality: trustworthiness (k=15) and 10-NN accuracy of the held-out embedding (5-fold, "
        "within it), and of a 10-NN classifier of the training embedding on the held-out rows. Transform: "
        "the 10,000 held-out rows, warm (after a first call on 100 rows). TorchDR, fastumap and scranpy have no "
        "transform: the last column is their training embedding's trustworthiness (5,000-point sample). umap-learn "
        "runs unseeded (a seed makes it single-threaded), umapx and fastumap with random_state=0, TorchDR and scranpy "
        "with their own defaults.",
        "",
        "| library | fit s | transform s | held-out trustworthiness | held-out 10-NN | train-to-held-out 10-NN "
        "| training trustworthiness |",
        "|---|---|---|---|---|---|---|",
    ]
    for lib in FIT_LIBRARIES:
        lines.append(
            f"| {lib} | {cell(lib, 'fit_s', '{:.1f}')} | {cell(lib, 'transform_s', '{:.3f}')} | {cell(lib, 'trust')} "
            f"| {cell(lib, 'knn')} | {cell(lib, 'knn_from_train')} | {cell(lib, 'train_trust')} |"
        )
    p, u = r.get("umapx-parametric", {}), r.get("umapx", {})
    if p.get("status") == "ok" and u.get("status") == "ok":
        lines += [
            "",
            f"ParametricUMAP against umapx's transform: trustworthiness {p['trust'] - u['trust']:+.3f}, "
            f"held-out 10-NN {p['knn'] - u['knn']:+.3f}, train-to-held-out 10-NN "
            f"{p['knn_from_train'] - u['knn_from_train']:+.3f}; transform time ratio (umapx / ParametricUMAP) "
            f"{u['transform_s'] / p['transform_s']:.1f}.",
        ]
    lines += [
        "",
        "## Decoder: reconstruction of the held-out rows (mean squared error per pixel)",
        "",
        "| model | fit s | MSE |",
        "|---|---|---|",
        f"| ParametricUMAP, parametric_reconstruction=True (2 components) | {cell('decoder', 'fit_s', '{:.1f}')} "
        f"| {cell('decoder', 'mse', '{:.4f}')} |",
        f"| PCA, 2 components | — | {cell('decoder', 'pca_mse', '{:.4f}')} |",
        f"| the training mean image | — | {cell('decoder', 'mean_image_mse', '{:.4f}')} |",
        "",
        f"## Semi-supervised head: {LABELLED:.0%} of the training labels",
        "",
        "| model | labelled rows | steps | held-out accuracy |",
        "|---|---|---|---|",
        f"| ParametricUMAP(classifier=True): UMAP loss on all rows, cross-entropy on the labelled "
        f"| {cell('semi', 'n_labelled', '{}')} | {cell('semi', 'steps', '{}')} | {cell('semi', 'head_accuracy')} |",
        f"| the same network (trunk and head), cross-entropy on the labelled rows alone "
        f"| {cell('semi', 'n_labelled', '{}')} | {cell('semi', 'steps', '{}')} | {cell('semi', 'plain_accuracy')} |",
        "",
        "## Attribution on digits (integrated gradients, baseline the training mean)",
        "",
        "Spearman correlation of the per-pixel mean |attribution| over the points of classes a and b with "
        "|mean image a - mean image b|:",
        "",
        "| pair | Spearman |",
        "|---|---|",
    ]
    a = r.get("attribution", {})
    if a.get("status") == "ok":
        lines += [f"| {pair} | {rho:.3f} |" for pair, rho in a["pairs"].items()]
        lines += [
            "",
            f"Completeness (|sum of attributions - (z(x) - z(baseline))| / |z(x) - z(baseline)|, per point): "
            f"median {a['completeness_median']:.4f}; at most 5% for {a['completeness_within_5pct']:.1%} of the "
            "points.",
        ]
    else:
        lines.append(f"| — | {a.get('status', 'not run')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
