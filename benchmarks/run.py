"""Side-by-side benchmark: umapx and every peer, each fit in a fresh process, one at a time.

    python benchmarks/run.py [--datasets digits,mnist_test,...] [--libraries umapx,umap-learn,...] [--torchdr]
                             [--idle-only] [--rounds 3]

Records per data set and library the process's wall time, peak RSS, umapx's stage times and the
quality figures (trustworthiness k=15 on a 5,000-point sample, 5-fold 10-NN accuracy), then writes
``benchmarks/results/<date>.json`` and ``benchmarks/RESULTS.md``. Unless ``--idle-only``, each fit
is also timed on a shared machine: two identical fits at once in two processes ("pair", the mean of
the two), and one fit beside two CPU-bound processes ("busy"). On a data set whose idle fits all take
under QUICK_S seconds, every timing is repeated in ``--rounds`` rounds (each round times every
library in turn, so that a machine that drifts slower does not favour one of them) and the median
counts: a single short timing on a shared virtual machine varies by a tenth or more.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_DATASETS = ["digits", "mnist_test", "letter", "shuttle", "fashion_mnist"]
PEERS = ["umap-learn", "fastumap", "scranpy"]
LIBRARIES = ["umapx", *PEERS]
TIMEOUT_S = 1800
QUICK_S = 30.0  # data sets whose idle fits all take less are timed in several rounds (the median counts)


def run_fit(library: str, dataset: str, workdir: str, env: dict | None = None, timeout: float = TIMEOUT_S) -> dict:
    """Fit in a fresh interpreter; returns its wall time, peak RSS and inner timings, or the failure
    (a fit still running after ``timeout`` seconds is killed)."""
    prefix = os.path.join(workdir, f"{library}-{dataset}")
    with open(prefix + ".err", "w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(HERE / "fit_one.py"), library, dataset, prefix],
                                stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **(env or {})})
        killed = threading.Event()
        timer = threading.Timer(timeout, lambda: (killed.set(), proc.kill()))
        timer.start()
        _, status = os.waitpid(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = err.read().strip().splitlines()
    if killed.is_set():
        return {"status": "timed out", "error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"status": "failed", "error": lines[-1] if lines else f"exit status {proc.returncode}"}
    with open(prefix + ".json") as f:
        inner = json.load(f)
    return {"status": "ok", "wall_s": wall, **inner,
            "embedding": prefix + ".npy"}


def run_pair(library: str, dataset: str, workdir: str) -> dict:
    """Two identical fits at once, each in a fresh process: the mean of their wall times."""
    folders = [os.path.join(workdir, tag) for tag in ("a", "b")]
    for folder in folders:
        os.makedirs(folder, exist_ok=True)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda folder: run_fit(library, dataset, folder), folders))
    failed = next((r for r in results if r["status"] != "ok"), None)
    return failed or {"status": "ok", "wall_s": float(np.mean([r["wall_s"] for r in results]))}


def run_busy(library: str, dataset: str, workdir: str, n_busy: int = 2) -> dict:
    """One fit beside ``n_busy`` CPU-bound processes (a Python loop each)."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n_busy)]
    try:
        time.sleep(0.5)
        result = run_fit(library, dataset, workdir)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    result.pop("embedding", None)
    return result


SHARED = {"pair": run_pair, "busy": run_busy}


def quality(dataset: str, embedding_path: str) -> dict:
    from fit_one import load_spec
    from umapx.evaluation import knn_accuracy, trustworthiness

    X, y = load_spec(dataset)
    Y = np.load(embedding_path)
    if not np.all(np.isfinite(Y)):
        return {"trust": None, "acc": None, "non_finite": int((~np.isfinite(Y)).any(axis=1).sum())}
    return {"trust": trustworthiness(X, Y, k=15, sample_size=5000, random_state=0),
            "acc": knn_accuracy(Y, y, k=10, cv=5, random_state=0)}


def import_time(library: str) -> float | None:
    """Seconds from ``import`` to the fitting name in hand: umapx and fastumap load lazily, at first use."""
    names = {"umapx": "umapx.UMAP", "umap-learn": "umap.UMAP", "fastumap": "fastumap.fit",
             "scranpy": "scranpy.run_umap", "torchdr": "torchdr.UMAP"}
    name = next(n for lib, n in names.items() if library == lib or library.startswith(lib + "-"))
    module = name.partition(".")[0]
    code = f"import time; t = time.perf_counter(); import {module}; {name}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return float(out.stdout.strip()) if out.returncode == 0 else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DEFAULT_DATASETS))
    parser.add_argument("--libraries", default=",".join(LIBRARIES))
    parser.add_argument("--torchdr", action="store_true", help="also run torchdr (slow on CPU)")
    parser.add_argument("--idle-only", action="store_true", help="skip the shared-machine timings")
    parser.add_argument("--rounds", type=int, default=3,
                        help=f"rounds of timings on a data set whose idle fits all take under {QUICK_S:.0f} s")
    parser.add_argument("--out", default=str(HERE / "results"), help="folder for the JSON record")
    parser.add_argument("--markdown", default=str(HERE / "RESULTS.md"), help="where to write the table")
    args = parser.parse_args(argv)
    datasets = args.datasets.split(",")
    libraries = args.libraries.split(",") + (["torchdr"] if args.torchdr else [])
    from fit_one import SETTINGS

    record = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": _machine(),
              "settings": {lib: SETTINGS[lib] for lib in libraries if lib in SETTINGS},
              "imports": {lib: import_time(lib) for lib in libraries}, "runs": []}
    began = time.perf_counter()
    conditions = {"idle": run_fit, **({} if args.idle_only else SHARED)}
    with tempfile.TemporaryDirectory() as workdir:
        for dataset in datasets:
            rounds = []
            while len(rounds) < args.rounds:
                rounds.append(measure_round(dataset, libraries, conditions, workdir, began, first=not rounds))
                if max(r.get("wall_s", math.inf) for (_, c), r in rounds[0].items() if c == "idle") >= QUICK_S:
                    break
            record["runs"] += merge_rounds(dataset, rounds)
        if "umapx" in libraries:
            record["cold_start"] = cold_start(workdir)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{record['date'][:10]}.json"
    path.write_text(json.dumps(record, indent=1))
    Path(args.markdown).write_text(markdown(record))
    print(f"wrote {path} and {args.markdown}")


def measure_round(dataset, libraries, conditions, workdir, began, first):
    """One timing of every library under every condition, the libraries in turn; the quality of the
    idle embedding on the first round. Returns {(library, condition): result}."""
    results = {}
    for library in libraries:
        for condition, run in conditions.items():
            print(f"[{time.perf_counter() - began:7.1f} s] {library} on {dataset}, {condition} ...", flush=True)
            result = run(library, dataset, workdir)
            embedding = result.pop("embedding", None)
            if first and embedding and result["status"] == "ok":
                result.update(quality(dataset, embedding))
            print("    " + (f"{result['wall_s']:.1f} s" if result["status"] == "ok" else f"{result['status']}: {result['error']}")
                  + (f", trust {result['trust']}, acc {result['acc']}" if "trust" in result else ""), flush=True)
            results[library, condition] = result
    return results


def merge_rounds(dataset, rounds):
    """One record per library and condition: the first round's, with the median wall time of the
    rounds (all of them, each listed in ``rounds_s``); failed if any round failed."""
    runs = []
    for (library, condition), first in rounds[0].items():
        results = [r[library, condition] for r in rounds]
        failed = next((r for r in results if r["status"] != "ok"), None)
        run = dict(failed or first)
        if not failed:
            run["rounds_s"] = [r["wall_s"] for r in results]
            run["wall_s"] = float(np.median(run["rounds_s"]))
        runs.append({"dataset": dataset, "library": library, **({} if condition == "idle" else
                                                                 {"condition": condition}), **run})
    return runs


def cold_start(workdir):
    """umapx on digits in a fresh process with an empty numba cache (a plain ``pip install``), and
    after ``python -m umapx.warmup`` has filled another empty cache (``make install``)."""
    print("cold start: umapx on digits with an empty kernel cache ...", flush=True)
    empty = run_fit("umapx", "digits", workdir, {"NUMBA_CACHE_DIR": os.path.join(workdir, "empty-cache")})
    print("cold start: python -m umapx.warmup, then umapx on digits ...", flush=True)
    env = {**os.environ, "NUMBA_CACHE_DIR": os.path.join(workdir, "warmed-cache")}
    start = time.perf_counter()
    warm = subprocess.run([sys.executable, "-m", "umapx.warmup"], env=env, capture_output=True, text=True)
    warmup_s = time.perf_counter() - start
    after = run_fit("umapx", "digits", workdir, {"NUMBA_CACHE_DIR": env["NUMBA_CACHE_DIR"]})
    return {"umapx_digits_empty_cache_s": empty.get("wall_s"), "status": empty["status"],
            "warmup_s": warmup_s if warm.returncode == 0 else None,
            "umapx_digits_after_warmup_s": after.get("wall_s")}


def _machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"


def markdown(record: dict) -> str:
    """The results table: time (trust / acc) per library and the ratio umapx / fastest peer; then the
    shared-machine table where the record has one."""
    runs = [r for r in record["runs"] if r.get("condition", "idle") == "idle"]
    libraries = list(dict.fromkeys(r["library"] for r in runs))
    datasets = list(dict.fromkeys(r["dataset"] for r in runs))
    peers = [lib for lib in libraries if lib != "umapx"]
    lines = [f"# Benchmark results ({record['date']}, {record['machine']})", "",
             "Wall time of a fresh process per fit (imports and compilation included); quality as "
             "trustworthiness (k=15, 5,000-point sample) / 5-fold 10-NN accuracy; peak RSS in MB. "
             "A peer that failed or timed out is named beside the ratio, which then compares with the peers "
             "that finished (one that timed out took longer than any of them).", "",
             *_settings(record),
             "| data | " + " | ".join(libraries) + " | umapx / fastest peer |",
             "|---" * (len(libraries) + 2) + "|"]
    for dataset in datasets:
        found = {r["library"]: r for r in runs if r["dataset"] == dataset}
        cells = []
        for lib in libraries:
            run = found.get(lib)
            if run is None or run["status"] != "ok":
                cells.append(_outcome(run))
                continue
            rss = f", {run['peak_rss_mb']:.0f} MB" if run.get("peak_rss_mb") else ""
            cells.append(f"{run['wall_s']:.1f} s ({_fmt(run['trust'])} / {_fmt(run['acc'])}{rss})")
        lines.append(f"| {dataset} | " + " | ".join(cells) + f" | {_ratio(found, peers)} |")
    lines += _shared_table(record["runs"], libraries, datasets, peers)
    repeated = {r["dataset"]: len(r["rounds_s"]) for r in record["runs"] if len(r.get("rounds_s", [])) > 1}
    if repeated:
        lines += ["", "Timed in several rounds, each round every library in turn (the median above): " + ", ".join(
            f"{d} ({n})" for d, n in repeated.items()) + "."]
    cold = record.get("cold_start", {})
    if cold.get("umapx_digits_empty_cache_s") is not None:
        lines += ["", f"Cold start: umapx on digits with an empty numba cache (first fit after a plain pip install): "
                      f"{cold['umapx_digits_empty_cache_s']:.1f} s."]
    if cold.get("umapx_digits_after_warmup_s") is not None and cold.get("warmup_s") is not None:
        lines += [f"After `python -m umapx.warmup` (run by `make install`; {cold['warmup_s']:.1f} s), the first fit "
                  f"on digits in a new process: {cold['umapx_digits_after_warmup_s']:.1f} s."]
    lines += ["", "Import time (s): " + ", ".join(
        f"{lib} {t:.2f}" if t is not None else f"{lib} failed" for lib, t in record["imports"].items())]
    stage_rows = [r for r in runs if r["library"] == "umapx" and r["status"] == "ok"]
    if stage_rows:
        lines += ["", "umapx stage times (s):", "", "| data | import | " + " | ".join(stage_rows[0]["stages"]) + " |",
                  "|---" * (len(stage_rows[0]["stages"]) + 2) + "|"]
        for r in stage_rows:
            lines.append(f"| {r['dataset']} | {r['import_s']:.2f} | " + " | ".join(
                f"{v:.2f}" for v in r["stages"].values()) + " |")
    return "\n".join(lines) + "\n"


def _shared_table(runs, libraries, datasets, peers):
    """Pair and busy times per library, each with umapx / fastest peer under the same condition."""
    shared = [r for r in runs if r.get("condition", "idle") in SHARED]
    if not shared:
        return []
    lines = ["", "Shared machine: wall time per fit with two identical fits running at once in two processes "
             "(pair) and beside two CPU-bound processes (busy); ratio umapx / fastest peer in that condition.", "",
             "| data | " + " | ".join(f"{lib} pair / busy" for lib in libraries) + " | ratio pair | ratio busy |",
             "|---" * (len(libraries) + 3) + "|"]
    for dataset in datasets:
        found = {c: {r["library"]: r for r in shared if r["dataset"] == dataset and r["condition"] == c} for c in SHARED}
        cells = [" / ".join(f"{found[c][lib]['wall_s']:.1f} s" if found[c].get(lib, {}).get("status") == "ok"
                            else _outcome(found[c].get(lib)) for c in SHARED) for lib in libraries]
        ratios = [_ratio(found[c], peers) for c in SHARED]
        lines.append(f"| {dataset} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    return lines


def _settings(record):
    """How each library was run (threads, seeds), as recorded."""
    settings = record.get("settings", {})
    if not settings:
        return []
    return ["How each library ran: " + "; ".join(f"{lib}: {how}" for lib, how in settings.items()) + ".", ""]


def _outcome(run):
    """The cell of a run without a time: not run, failed or timed out."""
    return "—" if run is None else run["status"]


def _ratio(found, peers):
    """umapx / the fastest peer that finished, naming each peer that failed or timed out."""
    ours = found.get("umapx", {})
    finished = [found[p]["wall_s"] for p in peers if found.get(p, {}).get("status") == "ok"]
    if ours.get("status") != "ok" or not finished:
        return "—"
    missing = [f"{p} {found[p]['status']}" for p in peers if p in found and found[p]["status"] != "ok"]
    return f"{ours['wall_s'] / min(finished):.2f}" + (f" ({', '.join(missing)})" if missing else "")


def _fmt(value):
    return "n/a" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
