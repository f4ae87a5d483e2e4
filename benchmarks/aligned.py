"""AlignedUMAP beside umap-learn's, each run in a fresh process, numba caches warm (a first run of each
task warms them and is not recorded); umapx's tasks run in ``--rounds`` rounds, round r seeded with r.

    python benchmarks/aligned.py [--rounds 3] [--skip-fashion] [--fashion-timeout 1800]

Tasks (003's tutorial: digits sorted by total ink, 10 slices of 400 rows with step 150, relations by
shared row):

- ``fit``: the aligned fit of the 10 slices; the process's wall time and the fit's, mean per-slice
  trustworthiness (k=10) and the alignment gap: the mean distance between related points of
  consecutive slices over the standard deviation of the earlier slice's coordinates (mean over axes),
  averaged over the 9 pairs.
- ``separate`` (umapx): the same slices fitted one by one with ``UMAP(n_epochs=200)``, the aligned
  fit's epochs, to show what the alignment costs.
- ``update``: fit 9 slices, then ``update`` with the tenth (relations from the ninth's rows to the
  tenth's); the update's time, the new pair's gap and whether the 9 earlier embeddings kept their bytes.
- ``transform`` (umapx): every 10th row of the sorted digits held out before slicing; each held-out
  point transformed into the slices whose row range holds it. 10-NN accuracy of the held-out points
  against each slice's fitted points (pooled over slices), beside ``UMAP.transform`` of a UMAP fitted
  on each slice alone; the held-out points' gap between consecutive slices beside the fitted points'.
- ``fashion``: fashion_mnist in its stored order, 10 slices of 10,000 rows with step 6,000
  (trustworthiness on a 2,000-point sample per slice).

Writes ``benchmarks/results/aligned-<date>.json``, ``benchmarks/ALIGNED.md`` and ``benchmarks/aligned.png``
(the tutorial's slices 0, 3, 6 and 9 from each library).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
LIBRARIES = ("umapx", "umap-learn")  # the libraries with an AlignedUMAP
PEERS = ("umap-learn", "fastumap", "scranpy")  # every peer fits the slices one by one (no alignment)


# ---------------------------------------------------------------------------------------- the data
def digits_slices(hold_out=False):
    """The tutorial's slices (and with ``hold_out`` every 10th sorted row left out, with its sorted position)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    order = np.argsort(d.data.sum(axis=1), kind="stable")
    X, y = d.data[order].astype(np.float32), d.target[order]
    position = np.arange(len(X))
    held = position % 10 == 5 if hold_out else np.zeros(len(X), dtype=bool)
    kept = ~held
    Xk, yk, pk = X[kept], y[kept], position[kept]
    ranges = [(150 * i, min(len(Xk), 150 * i + 400)) for i in range(10)]
    slices = [Xk[a:b] for a, b in ranges]
    labels = [yk[a:b] for a, b in ranges]
    relations = [{j + 150: j for j in range(b - a - 150)} for a, b in ranges[1:]]
    positions = [pk[a:b] for a, b in ranges]
    return slices, labels, relations, (X[held], y[held], position[held], positions)


def fashion_slices():
    from umapx.datasets import load

    X, y = load("fashion_mnist")
    X = X.astype(np.float32)
    ranges = [(6000 * i, 6000 * i + 10000) for i in range(10)]
    relations = [{j + 6000: j for j in range(4000)} for _ in ranges[1:]]
    return [X[a:b] for a, b in ranges], [y[a:b] for a, b in ranges], relations


def gap(first, second, relation):
    """Mean distance of related rows over the earlier slice's coordinate standard deviation (mean over axes)."""
    pairs = np.array(list(relation.items()))
    return float(np.linalg.norm(first[pairs[:, 0]] - second[pairs[:, 1]], axis=1).mean() / first.std(axis=0).mean())


def mean_gap(embeddings, relations):
    return float(np.mean([gap(embeddings[i], embeddings[i + 1], r) for i, r in enumerate(relations)]))


def mean_trust(slices, embeddings, sample=None):
    from umapx.evaluation import trustworthiness

    kw = {} if sample is None else {"sample_size": sample}
    return float(
        np.mean([trustworthiness(X, E, k=10, random_state=0, **kw) for X, E in zip(slices, embeddings, strict=True)])
    )


def digest(embeddings):
    return hashlib.md5(b"".join(np.ascontiguousarray(e).tobytes() for e in embeddings)).hexdigest()


# ---------------------------------------------------------------------------------------- children
def aligned_class(library):
    if library == "umapx":
        import umapx

        return umapx.AlignedUMAP
    import umap

    return umap.AlignedUMAP


def separate_fit(library, seed):
    """A function fitting one slice alone with ``library``'s UMAP at the aligned fit's 200 epochs (as
    ``run.py`` calls each library: umap-learn unseeded, so that it runs in parallel)."""
    if library == "umapx":
        from umapx import UMAP

        return lambda X: UMAP(n_epochs=200, random_state=seed).fit_transform(X)
    if library == "umap-learn":
        import umap

        return lambda X: umap.UMAP(n_epochs=200).fit_transform(X)
    if library == "fastumap":
        import fastumap

        return lambda X: fastumap.fit(X, 2, n_neighbors=15, n_epochs=200, random_state=seed).embedding
    import scranpy

    return lambda X: scranpy.run_umap(np.asfortranarray(X.T.astype(np.float64)), num_dim=2, num_epochs=200)


def child(library, task, out, seed):
    """One task in this (fresh) process with ``random_state=seed``; writes its figures to ``out``.json
    (embeddings to ``out``.npz)."""
    seed = int(seed)
    started = time.perf_counter()
    Aligned = None if task == "separate" else aligned_class(library)  # a peer's separate fit imports its own
    result = {"import_s": time.perf_counter() - started}
    if task in ("fit", "fashion"):
        slices, labels, relations = fashion_slices() if task == "fashion" else digits_slices()[:3]
        start = time.perf_counter()
        model = Aligned(random_state=seed).fit(slices, relations=relations)
        result["fit_s"] = time.perf_counter() - start
        embeddings = [np.asarray(e) for e in model.embeddings_]
        result["trust"] = mean_trust(slices, embeddings, 2000 if task == "fashion" else None)
        result["gap"] = mean_gap(embeddings, relations)
        np.savez(out + ".npz", *embeddings)
    elif task == "separate":
        slices, _, relations = digits_slices()[:3]
        fit_one = separate_fit(library, seed)
        start = time.perf_counter()
        embeddings = [np.asarray(fit_one(X)) for X in slices]
        result["fit_s"] = time.perf_counter() - start
        result["trust"] = mean_trust(slices, embeddings)
        result["gap"] = mean_gap(embeddings, relations)
    elif task == "update":
        slices, _, relations, _ = digits_slices()
        model = Aligned(random_state=seed).fit(slices[:9], relations=relations[:8])
        before = digest(model.embeddings_[:9])
        start = time.perf_counter()
        model.update(slices[9], relations=relations[8])
        result["update_s"] = time.perf_counter() - start
        embeddings = [np.asarray(e) for e in model.embeddings_]
        result["earlier_unchanged"] = digest(embeddings[:9]) == before
        result["new_gap"] = gap(embeddings[8], embeddings[9], relations[8])
        full = Aligned(random_state=seed).fit(slices, relations=relations).embeddings_
        result["full_fit_gap"] = gap(np.asarray(full[8]), np.asarray(full[9]), relations[8])
    elif task == "transform":
        result.update(transform_figures(Aligned, seed))
    print(json.dumps(result))
    Path(out + ".json").write_text(json.dumps(result))


def transform_figures(Aligned, seed):
    from umapx import UMAP

    slices, labels, relations, (Xh, yh, ph, positions) = digits_slices(hold_out=True)
    model = Aligned(random_state=seed).fit(slices, relations=relations)
    placed = {}
    pooled = {"aligned": ([], []), "alone": ([], [])}
    for s, (X, y, pos) in enumerate(zip(slices, labels, positions, strict=True)):
        inside = (ph > pos[0]) & (ph < pos[-1])
        if not inside.any():
            continue
        placed[s] = dict(zip(np.nonzero(inside)[0], model.transform(Xh[inside], slice=s), strict=True))
        single = UMAP(n_epochs=200, random_state=seed).fit(X)
        for name, fitted, new in (
            ("aligned", model.embeddings_[s], np.array(list(placed[s].values()))),
            ("alone", single.embedding_, single.transform(Xh[inside])),
        ):
            pooled[name][0].append(_knn_labels(fitted, y, new))
            pooled[name][1].append(yh[inside])
    accuracy = {name: float(np.mean(np.concatenate(p) == np.concatenate(t))) for name, (p, t) in pooled.items()}
    held_gaps = []
    for s in range(len(slices) - 1):
        if s in placed and s + 1 in placed:
            common = sorted(set(placed[s]) & set(placed[s + 1]))
            if common:
                a = np.array([placed[s][i] for i in common])
                b = np.array([placed[s + 1][i] for i in common])
                scale = model.embeddings_[s].std(axis=0).mean()
                held_gaps.append(np.linalg.norm(a - b, axis=1).mean() / scale)
    return {
        "heldout_knn_aligned": accuracy["aligned"],
        "heldout_knn_alone": accuracy["alone"],
        "heldout_gap": float(np.mean(held_gaps)),
        "fitted_gap": mean_gap(model.embeddings_, relations),
        "n_heldout": int(len(Xh)),
    }


def _knn_labels(fitted, labels, new, k=10):
    """The majority label of each new point's k nearest fitted points."""
    d = ((new[:, None, :] - fitted[None, :, :]) ** 2).sum(axis=2)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.array([np.bincount(row, minlength=10).argmax() for row in labels[nearest]])


# ---------------------------------------------------------------------------------------- parent
def run_child(library, task, workdir, timeout, seed=0):
    out = os.path.join(workdir, f"{library}-{task}-{seed}")
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", library, task, out, str(seed)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"status": "timed out", "error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"status": "failed", "error": lines[-1] if lines else f"exit status {proc.returncode}"}
    return {"status": "ok", "wall_s": wall, **json.loads(Path(out + ".json").read_text())}


def median_of(runs):
    """Per key, the median over rounds of the numbers (the first round's other values)."""
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return runs[0]
    return {k: float(np.median([r[k] for r in ok])) if isinstance(v, float) else v for k, v in ok[0].items()} | {
        "rounds": len(ok)
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=4, metavar=("LIBRARY", "TASK", "OUT", "SEED"), help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of umapx's digits tasks, round r with seed r")
    parser.add_argument("--skip-fashion", action="store_true")
    parser.add_argument("--fashion-timeout", type=float, default=1800)
    parser.add_argument("--markdown", metavar="RECORD", help="only write ALIGNED.md again from a results file")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.markdown:
        (HERE / "ALIGNED.md").write_text(markdown(json.loads(Path(args.markdown).read_text())))
        return
    plan = [
        ("umapx", "fit"),
        ("umap-learn", "fit"),
        *((lib, "separate") for lib in ("umapx", *PEERS)),
        ("umapx", "update"),
        ("umap-learn", "update"),
        ("umapx", "transform"),
    ]
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for library, task in plan:  # warm the numba caches
            print(f"warming {library} {task}", flush=True)
            run_child(library, task, workdir, 1800)
        for r in range(args.rounds):
            for library, task in plan:
                if library != "umapx" and r > 0:
                    continue  # one measured round (umap-learn's takes minutes; its result is the same for any seed)
                run = run_child(library, task, workdir, 1800, seed=r)
                print(f"round {r} {library} {task}: {run}", flush=True)
                results.setdefault(f"{library} {task}", []).append(run)
        embeddings = {lib: dict(np.load(os.path.join(workdir, f"{lib}-fit-0.npz"))) for lib in LIBRARIES}
        if not args.skip_fashion:
            for library in LIBRARIES:
                run = run_child(library, "fashion", workdir, args.fashion_timeout)
                print(f"{library} fashion: {run}", flush=True)
                results[f"{library} fashion"] = [run]
    summary = {key: median_of(runs) for key, runs in results.items()}
    date = dt.datetime.now().isoformat(timespec="minutes")
    record = {
        "date": date,
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "summary": summary,
        "runs": results,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"aligned-{date[:10]}.json").write_text(json.dumps(record, indent=1))
    figure(embeddings)
    (HERE / "ALIGNED.md").write_text(markdown(record))
    print((HERE / "ALIGNED.md").read_text())


def figure(embeddings):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = digits_slices()[1]
    shown = (0, 3, 6, 9)
    fig, axes = plt.subplots(2, len(shown), figsize=(10, 5.4), dpi=100)
    for row, library in enumerate(LIBRARIES):
        for ax, s in zip(axes[row], shown, strict=True):
            xy = embeddings[library][f"arr_{s}"]
            ax.scatter(xy[:, 0], xy[:, 1], s=3, c=labels[s], cmap="Spectral")
            ax.set(xticks=[], yticks=[], title=f"{library}, slice {s}")
    fig.tight_layout()
    fig.savefig(HERE / "aligned.png")


def markdown(record):
    s = record["summary"]

    def get(key, field, fmt="{:.2f}"):
        entry = s.get(key, {})
        if entry.get("status") != "ok":
            return entry.get("error", "not run")
        return fmt.format(entry[field]) if field in entry else "—"

    ux, ul = "umapx", "umap-learn"
    lines = [
        f"# AlignedUMAP ({record['date']}, {record['machine']})",
        "",
        "Made by `make bench-aligned` (`benchmarks/aligned.py`): every task in a fresh process, numba caches "
        "warm; umapx's figures are the median of its rounds, round r seeded with `random_state=r`; umap-learn's "
        "are one round (its AlignedUMAP gives the same embeddings for every `random_state`, None included). "
        f"Raw runs in `benchmarks/results/aligned-{record['date'][:10]}.json`.",
        "",
        "## The tutorial's run (digits sorted by ink, 10 slices of 400, step 150)",
        "",
        "| | umapx | umap-learn | umapx / umap-learn |",
        "|---|---|---|---|",
    ]
    for label, key, field, fmt in (
        ("process wall time, quality figures included (s)", "fit", "wall_s", "{:.2f}"),
        ("fit (s)", "fit", "fit_s", "{:.2f}"),
        ("mean per-slice trustworthiness (k=10)", "fit", "trust", "{:.4f}"),
        ("alignment gap (lower is better)", "fit", "gap", "{:.4f}"),
        ("update with a 10th slice after 9 (s)", "update", "update_s", "{:.2f}"),
        ("gap of the updated pair", "update", "new_gap", "{:.4f}"),
        ("gap of the same pair in a fit of all 10", "update", "full_fit_gap", "{:.4f}"),
    ):
        a, b = s.get(f"{ux} {key}", {}), s.get(f"{ul} {key}", {})
        ratio = f"{a[field] / b[field]:.2f}" if a.get("status") == b.get("status") == "ok" else "—"
        lines.append(f"| {label} | {get(f'{ux} {key}', field, fmt)} | {get(f'{ul} {key}', field, fmt)} | {ratio} |")
    per_seed = ", ".join(f"{r['gap']:.4f}" for r in record["runs"].get(f"{ux} fit", []) if r["status"] == "ok")
    lines += [
        f"| earlier slices' bytes kept by update | {get(f'{ux} update', 'earlier_unchanged', '{}')} "
        f"| {get(f'{ul} update', 'earlier_unchanged', '{}')} | |",
        "",
        f"umapx's alignment gap per round: {per_seed}.",
        "",
        f"An update takes {get(f'{ux} update', 'update_s')} s against {get(f'{ux} fit', 'fit_s')} s for refitting "
        "all 10 slices.",
        "",
        "## The same slices fitted one by one, without alignment (every peer)",
        "",
        "fastumap and scranpy have no aligned UMAP: what they offer is a UMAP per slice. Each library fits the 10 "
        "slices one after another in one process at 200 epochs, the aligned fit's (umap-learn unseeded, as "
        "`run.py` calls it, so that it runs in parallel; scranpy on its default one thread). This is also the "
        "alignment's cost in umapx: its aligned fit against its own slice-by-slice fits.",
        "",
        "| | fit of the 10 slices (s) | mean trustworthiness (k=10) | alignment gap |",
        "|---|---|---|---|",
        f"| umapx `AlignedUMAP` (above) | {get(f'{ux} fit', 'fit_s')} | {get(f'{ux} fit', 'trust', '{:.4f}')} "
        f"| {get(f'{ux} fit', 'gap', '{:.4f}')} |",
        *(
            f"| {lib} `UMAP` per slice | {get(f'{lib} separate', 'fit_s')} "
            f"| {get(f'{lib} separate', 'trust', '{:.4f}')} | {get(f'{lib} separate', 'gap', '{:.4f}')} |"
            for lib in ("umapx", *PEERS)
        ),
        "",
        "## transform into a slice (umapx; umap-learn has none)",
        "",
        "Every 10th row of the sorted digits held out before slicing, then transformed into each slice whose "
        "range holds it:",
        "",
        "| held-out 10-NN accuracy against the slice's fitted points, pooled | gap |",
        "|---|---|",
        f"| `AlignedUMAP.transform(X, slice=i)`: {get(f'{ux} transform', 'heldout_knn_aligned', '{:.4f}')} "
        f"| held-out points: {get(f'{ux} transform', 'heldout_gap', '{:.4f}')} |",
        f"| `UMAP.transform` of each slice's own UMAP: {get(f'{ux} transform', 'heldout_knn_alone', '{:.4f}')} "
        f"| fitted points: {get(f'{ux} transform', 'fitted_gap', '{:.4f}')} |",
        "",
        "## A larger case: fashion_mnist, 10 slices of 10,000 rows, step 6,000",
        "",
        "| | process wall time, quality figures included (s) | fit (s) | mean trustworthiness (k=10, 2,000-point "
        "sample) | gap |",
        "|---|---|---|---|---|",
    ]
    for lib in LIBRARIES:
        key = f"{lib} fashion"
        lines.append(
            f"| {lib} | {get(key, 'wall_s')} | {get(key, 'fit_s')} | {get(key, 'trust', '{:.4f}')} "
            f"| {get(key, 'gap', '{:.4f}')} |"
        )
    lines += ["", "![slices 0, 3, 6 and 9 of the tutorial's run, umapx above, umap-learn below](aligned.png)", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
