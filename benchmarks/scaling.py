"""Fit time against n, within one data set: subsamples of fashion_mnist (10k to all 70k) and of
nycflights13 (80k to all 327k).

    python benchmarks/scaling.py [--libraries umapx,umap-learn,fastumap,scranpy] [--datasets fashion_mnist,...]
    python benchmarks/scaling.py --markdown RECORD   (re-render SCALING.md and scaling.png from a record)

Each fit runs in a fresh process (``run.run_fit``), one at a time. A subsample is a seeded random
choice of rows (``fit_one.load_spec``, spelled ``fashion_mnist@20000``). For each library and data set
the table gives the wall times and the growth against n log n's from the first size of 20k or more
(200 epochs, as at every larger n) to the whole set: a growth ratio at most 1 means time grew no
faster than n log n. Growth is only taken within one data set: sets differ in features and structure.
Writes ``benchmarks/results/scaling-<date>.json``, ``benchmarks/SCALING.md`` and ``benchmarks/scaling.png``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import tempfile
import time
from pathlib import Path

from fit_one import SETTINGS
from run import LIBRARIES, _machine, quality, run_fit

HERE = Path(__file__).resolve().parent
SERIES = {"fashion_mnist": ([10_000, 20_000, 40_000], 70_000), "nycflights13": ([80_000, 160_000], 327_346)}
FIRST_N = 20_000  # growth starts here: up to 10,000 rows UMAP runs 500 epochs, above it 200


def specs(datasets):
    """(data set, spec, n) of each subsample, then of the whole set, per data set."""
    return [row for name in datasets
            for row in [(name, f"{name}@{n}", n) for n in SERIES[name][0]] + [(name, name, SERIES[name][1])]]


def growth(t_small, t_large, n_small, n_large):
    """(t_large / t_small) / ((n_large log n_large) / (n_small log n_small)): <= 1 is n log n or slower growth."""
    return (t_large / t_small) / (n_large * math.log(n_large) / (n_small * math.log(n_small)))


def _growth_cell(runs, library, dataset):
    """Growth of one library's time within one data set, from its first size of FIRST_N or more to the whole set."""
    times = {r["n"]: r.get("wall_s") for r in runs if r["library"] == library and r["dataset"] == dataset}
    ns = [n for n in sorted(times) if n >= FIRST_N]
    if len(ns) < 2 or not times[ns[0]] or not times[ns[-1]]:
        return "—"
    return f"{growth(times[ns[0]], times[ns[-1]], ns[0], ns[-1]):.2f}"


def _dataset(run):
    """A run's data set; records before 2026-12-07 name only the spec."""
    return run.get("dataset", run["spec"].partition("@")[0])


def markdown(record):
    runs = [{**r, "dataset": _dataset(r)} for r in record["runs"]]
    libraries = list(dict.fromkeys(r["library"] for r in runs))
    datasets = list(dict.fromkeys(r["dataset"] for r in runs))
    columns = list(dict.fromkeys((r["spec"], r["n"]) for r in runs))
    cell = {(r["library"], r["spec"]): f"{r['wall_s']:.1f}" if r.get("wall_s") else r.get("error", "failed") for r in runs}
    spans = {d: sorted(n for s, n in columns if s.partition("@")[0] == d and n >= FIRST_N) for d in datasets}
    lines = [f"# Fit time against n ({record['date']}, {record['machine']})", "",
             "Wall time (s) of a fresh process per fit; subsamples are seeded random rows. Growth is measured "
             "within one data set, from its first size of 20k or more to the whole set: (t(n2) / t(n1)) / "
             "(n2 log n2 / n1 log n1), at most 1 meaning time grew no faster than n log n. It starts at 20k "
             "because UMAP runs 500 epochs up to 10,000 rows and 200 above, so 10k would flatter it. Times of "
             "different data sets are not compared: they differ in features (fashion_mnist 784, nycflights13 "
             "12) and in structure. Plot: `scaling.png`.", "",
             "| library | " + " | ".join(f"{spec} ({n:,})" for spec, n in columns) + " | " + " | ".join(
                 f"growth {d} {spans[d][0] // 1000}k -> {spans[d][-1] // 1000}k" for d in datasets if len(spans[d]) > 1)
             + " |", "|---" * (len(columns) + 1 + sum(len(spans[d]) > 1 for d in datasets)) + "|"]
    for lib in libraries:
        cells = [cell.get((lib, spec), "—") for spec, _ in columns]
        cells += [_growth_cell(runs, lib, d) for d in datasets if len(spans[d]) > 1]
        lines.append(f"| {lib} | " + " | ".join(cells) + " |")
    quality_rows = [r for r in runs if r.get("trust") is not None]
    if quality_rows:
        lines += ["", "Quality (trustworthiness k=15 on 5,000 points / 5-fold 10-NN accuracy):", "",
                  "| library | data | trust | acc |", "|---|---|---|---|"]
        lines += [f"| {r['library']} | {r['spec']} | {r['trust']:.3f} | {r['acc']:.3f} |" for r in quality_rows]
    return "\n".join(lines) + "\n"


def plot(record, path):
    """Time against n, log-log, one panel per data set, with n log n drawn from umapx's first time at 20k or more."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [{**r, "dataset": _dataset(r)} for r in record["runs"]]
    datasets = list(dict.fromkeys(r["dataset"] for r in runs))
    colours = {lib: f"C{i}" for i, lib in enumerate(dict.fromkeys(r["library"] for r in runs))}
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4.5), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        mine = [r for r in runs if r["dataset"] == dataset]
        for lib, colour in colours.items():
            points = sorted((r["n"], r["wall_s"]) for r in mine if r["library"] == lib and r.get("wall_s"))
            if points:
                ax.plot(*zip(*points), marker="o", color=colour, label=lib)
        ns = sorted({r["n"] for r in mine if r["n"] >= FIRST_N})
        umapx = {r["n"]: r["wall_s"] for r in mine if r["library"] == "umapx" and r.get("wall_s")}
        if len(ns) > 1 and ns[0] in umapx:
            t0 = umapx[ns[0]]
            ax.plot(ns, [t0 * n * math.log(n) / (ns[0] * math.log(ns[0])) for n in ns], "k--", linewidth=0.8,
                    label=f"n log n (from umapx at {ns[0] // 1000}k)")
        several = len({r["n"] for r in mine}) > 1
        ax.set(xscale="log", yscale="log", xlabel=f"n ({dataset}{' subsamples' if several else ', one size'})",
               ylabel="fit wall time (s)", title=f"{dataset}, 2 cores")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--libraries", default=",".join(LIBRARIES))
    parser.add_argument("--datasets", default=",".join(SERIES), help="data sets to subsample: " + ", ".join(SERIES))
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a fit is killed")
    parser.add_argument("--markdown", metavar="RECORD", help="only re-render SCALING.md and scaling.png from RECORD")
    args = parser.parse_args(argv)
    if args.markdown:
        record = json.loads(Path(args.markdown).read_text())
        (HERE / "SCALING.md").write_text(markdown(record))
        plot(record, HERE / "scaling.png")
        return
    record = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": _machine(),
              "settings": {lib: SETTINGS[lib] for lib in args.libraries.split(",") if lib in SETTINGS}, "runs": []}
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        for dataset, spec, n in specs(args.datasets.split(",")):
            for library in args.libraries.split(","):
                print(f"[{time.perf_counter() - began:7.1f} s] {library} on {spec} ...", flush=True)
                result = run_fit(library, spec, workdir, timeout=args.timeout)
                if result["status"] == "ok":
                    result.update(quality(spec, result.pop("embedding")))
                    print(f"    {result['wall_s']:.1f} s", flush=True)
                else:
                    print(f"    {result['status']}: {result['error']}", flush=True)
                record["runs"].append({"dataset": dataset, "spec": spec, "n": n, "library": library, **result})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"scaling-{record['date'][:10]}.json"
    path.write_text(json.dumps(record, indent=1))
    (HERE / "SCALING.md").write_text(markdown(record))
    plot(record, HERE / "scaling.png")
    print(f"wrote {path}, benchmarks/SCALING.md and benchmarks/scaling.png")


if __name__ == "__main__":
    main()
