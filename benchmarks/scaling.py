"""Fit time against n: fashion_mnist subsamples of 10k, 20k, 40k and all 70k, and nycflights13 (327k).

    python benchmarks/scaling.py [--libraries umapx,umap-learn,fastumap,scranpy] [--sizes 10000,20000,40000]

Each fit runs in a fresh process (``run.run_fit``), one at a time. A subsample is a seeded random
choice of rows (``fit_one.load_spec``, spelled ``fashion_mnist@20000``). For each library the table
gives the wall times and the growth from 20k to 70k against n log n's: a growth ratio at most 1 means
time grew no faster than n log n. Writes ``benchmarks/results/scaling-<date>.json``,
``benchmarks/SCALING.md`` and ``benchmarks/scaling.png`` (time against n, log-log).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import tempfile
import time
from pathlib import Path

from run import LIBRARIES, _machine, quality, run_fit

HERE = Path(__file__).resolve().parent
FASHION_SIZES = [10_000, 20_000, 40_000]
SIZES = {"fashion_mnist": 70_000, "nycflights13": 327_346}


def specs(sizes):
    """(spec, n) pairs: the fashion_mnist subsamples, all of fashion_mnist, then nycflights13."""
    return [(f"fashion_mnist@{n}", n) for n in sizes] + list(SIZES.items())


def growth(times, n_small, n_large):
    """(t_large / t_small) / ((n_large log n_large) / (n_small log n_small)): <= 1 is n log n or slower growth."""
    return (times[n_large] / times[n_small]) / (n_large * math.log(n_large) / (n_small * math.log(n_small)))


def markdown(record):
    runs = record["runs"]
    libraries = list(dict.fromkeys(r["library"] for r in runs))
    ns = sorted({r["n"] for r in runs})
    wall = {(r["library"], r["n"]): r.get("wall_s") for r in runs}
    errors = {(r["library"], r["n"]): r["error"] for r in runs if r.get("error")}
    names = {r["n"]: r["spec"] for r in runs}
    lines = [f"# Fit time against n ({record['date']}, {record['machine']})", "",
             "Wall time (s) of a fresh process per fit; fashion_mnist subsamples are seeded random rows. "
             "Growth = (t(70k) / t(20k)) / (70k log 70k / 20k log 20k), and the same from 70k of fashion_mnist "
             "to nycflights13's 327k rows (a different, 12-column data set): at most 1 means time grew no "
             "faster than n log n. Growth starts at 20k because umapx and umap-learn run 500 epochs up to "
             "10,000 rows and 200 above, so 10k would flatter it. Plot: `scaling.png`.", "",
             "| library | " + " | ".join(f"{names[n]} ({n:,})" for n in ns) + " | growth 20k -> 70k | growth 70k -> 327k |",
             "|---" * (len(ns) + 3) + "|"]
    for lib in libraries:
        times = {n: wall.get((lib, n)) for n in ns}
        cells = [f"{t:.1f}" if t is not None else errors.get((lib, n), "failed") for n, t in times.items()]
        first, mid, last = FASHION_SIZES[1], SIZES["fashion_mnist"], SIZES["nycflights13"]
        g1 = f"{growth(times, first, mid):.2f}" if times.get(first) and times.get(mid) else "—"
        g2 = f"{growth(times, mid, last):.2f}" if times.get(mid) and times.get(last) else "—"
        lines.append(f"| {lib} | " + " | ".join(cells) + f" | {g1} | {g2} |")
    quality_rows = [r for r in runs if r.get("trust") is not None]
    if quality_rows:
        lines += ["", "Quality (trustworthiness k=15 on 5,000 points / 5-fold 10-NN accuracy):", "",
                  "| library | data | trust | acc |", "|---|---|---|---|"]
        lines += [f"| {r['library']} | {r['spec']} | {r['trust']:.3f} | {r['acc']:.3f} |" for r in quality_rows]
    return "\n".join(lines) + "\n"


def plot(record, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for lib in dict.fromkeys(r["library"] for r in record["runs"]):
        points = sorted((r["n"], r["wall_s"]) for r in record["runs"] if r["library"] == lib and r.get("wall_s"))
        ax.plot(*zip(*points), marker="o", label=lib)
    ns = sorted({r["n"] for r in record["runs"]})
    umapx = {r["n"]: r["wall_s"] for r in record["runs"] if r["library"] == "umapx" and r.get("wall_s")}
    anchor = FASHION_SIZES[1]  # 200 epochs, as at every larger n
    if anchor in umapx:
        ref = [umapx[anchor] * n * math.log(n) / (anchor * math.log(anchor)) for n in ns]
        ax.plot(ns, ref, "k--", linewidth=0.8, label="n log n (from umapx at 20k)")
    ax.set(xscale="log", yscale="log", xlabel="n (fashion_mnist subsamples, then nycflights13)",
           ylabel="fit wall time (s)", title="UMAP fit time against n, 2 cores")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--libraries", default=",".join(LIBRARIES))
    parser.add_argument("--sizes", default=",".join(map(str, FASHION_SIZES)), help="fashion_mnist subsample sizes")
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a fit is killed")
    args = parser.parse_args(argv)
    record = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": _machine(), "runs": []}
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        for spec, n in specs([int(s) for s in args.sizes.split(",")]):
            for library in args.libraries.split(","):
                print(f"[{time.perf_counter() - began:7.1f} s] {library} on {spec} ...", flush=True)
                result = run_fit(library, spec, workdir, timeout=args.timeout)
                if result["status"] == "ok":
                    result.update(quality(spec, result.pop("embedding")))
                    print(f"    {result['wall_s']:.1f} s", flush=True)
                else:
                    print(f"    failed: {result['error']}", flush=True)
                record["runs"].append({"spec": spec, "n": n, "library": library, **result})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"scaling-{record['date'][:10]}.json"
    path.write_text(json.dumps(record, indent=1))
    (HERE / "SCALING.md").write_text(markdown(record))
    plot(record, HERE / "scaling.png")
    print(f"wrote {path}, benchmarks/SCALING.md and benchmarks/scaling.png")


if __name__ == "__main__":
    main()
