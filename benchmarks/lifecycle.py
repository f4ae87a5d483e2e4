"""Transform and update on fashion_mnist, umapx beside its peers, each step in a fresh process.

    python benchmarks/lifecycle.py [--libraries umapx,umap-learn,fastumap] [--no-update]

Transform: fit the first 60,000 points, then time transforming the last 10,000 (first call, and
again), 1,000 points, and one point (median of 20); record how far a point moves with the batch it
comes in (first 100 alone against inside the 10,000), held-out 10-NN accuracy (classifier on the
training embedding), and the size of the saved model; then, in a new process, load the model and
time the first transform of the 10,000 (cold). Update (umapx): fit 60,000, add the last 10,000 in
batches of 2,000, and compare time and quality (trustworthiness k=15 on a 5,000 sample, 5-fold 10-NN
accuracy on all 70,000) with a refit on all 70,000. Writes ``benchmarks/results/lifecycle-<date>.json``
and ``benchmarks/LIFECYCLE.md``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_TRAIN = 60_000
BATCH = 2_000
LIBRARIES = ["umapx", "umap-learn", "fastumap"]


# ------------------------------------------------------------------ children (one fresh process each)
def _fit(library, X):
    if library == "umapx":
        import umapx

        return umapx.UMAP(random_state=42).fit(X)
    if library == "umap-learn":
        import umap

        return umap.UMAP().fit(X)
    import fastumap

    return fastumap.fit(X, 2, n_neighbors=15)


def _embedding(library, model):
    return np.asarray(model.embedding if library == "fastumap" else model.embedding_, dtype=np.float32)


def _save(library, model, path):
    if library == "umapx":
        model.save(path)
    else:
        with open(path, "wb") as f:
            pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)


def _load(library, path):
    if library == "umapx":
        import umapx

        return umapx.load(path)
    with open(path, "rb") as f:
        return pickle.load(f)


def _timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return np.asarray(out, dtype=np.float32), time.perf_counter() - start


def child_transform(library, workdir):
    from umapx.datasets import load

    X, _ = load("fashion_mnist")
    train, new = X[:N_TRAIN], X[N_TRAIN:]
    start = time.perf_counter()
    model = _fit(library, train)
    out = {"fit_s": time.perf_counter() - start}
    first, out["transform_10k_first_s"] = _timed(model.transform, new)
    again, out["transform_10k_again_s"] = _timed(model.transform, new)
    _, out["transform_1k_s"] = _timed(model.transform, new[:1000])
    out["transform_1_s"] = float(np.median([_timed(model.transform, new[i:i + 1])[1] for i in range(20)]))
    alone, _ = _timed(model.transform, new[:100])
    out["batch_movement_max"] = float(np.linalg.norm(alone - first[:100], axis=1).max())
    out["repeat_movement_max"] = float(np.linalg.norm(again - first, axis=1).max())
    path = os.path.join(workdir, f"{library}.model")
    try:
        _save(library, model, path)
        out["model_file_mb"] = os.path.getsize(path) / 1e6
    except Exception as error:  # a peer that cannot be saved is reported, not fatal
        out["save_error"] = f"{type(error).__name__}: {error}"
    np.save(os.path.join(workdir, f"{library}-train.npy"), _embedding(library, model))
    np.save(os.path.join(workdir, f"{library}-new.npy"), first)
    return out


def child_cold(library, workdir):
    from umapx.datasets import load

    X, _ = load("fashion_mnist")
    start = time.perf_counter()
    model = _load(library, os.path.join(workdir, f"{library}.model"))
    loaded = time.perf_counter()
    cold, seconds = _timed(model.transform, X[N_TRAIN:])
    first = np.load(os.path.join(workdir, f"{library}-new.npy"))
    return {"load_s": loaded - start, "transform_10k_cold_s": seconds,
            "cold_equals_first": bool(cold.tobytes() == first.tobytes())}


def child_update(workdir):
    import umapx
    from umapx.datasets import load

    X, _ = load("fashion_mnist")
    model = umapx.UMAP(random_state=42).fit(X[:N_TRAIN])
    start = time.perf_counter()
    for lo in range(N_TRAIN, len(X), BATCH):
        model.update(X[lo:lo + BATCH])
    out = {"update_s": time.perf_counter() - start}
    np.save(os.path.join(workdir, "update.npy"), model.embedding_)
    return out


def child_refit(workdir):
    import umapx
    from umapx.datasets import load

    X, _ = load("fashion_mnist")
    start = time.perf_counter()
    model = umapx.UMAP(random_state=42).fit(X)
    out = {"refit_s": time.perf_counter() - start}
    np.save(os.path.join(workdir, "refit.npy"), model.embedding_)
    return out


# ------------------------------------------------------------------ parent
def run_child(*args):
    with tempfile.NamedTemporaryFile("r", suffix=".json") as result:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--child", result.name, *args],
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            return {"error": lines[-1] if lines else f"exit status {proc.returncode}"}
        return {**json.load(open(result.name)), "process_s": wall}


def held_out_accuracy(workdir, library, y):
    from sklearn.neighbors import KNeighborsClassifier

    train = np.load(os.path.join(workdir, f"{library}-train.npy"))
    new = np.load(os.path.join(workdir, f"{library}-new.npy"))
    if not np.isfinite(new).all():
        return None
    return float(KNeighborsClassifier(10).fit(train, y[:N_TRAIN]).score(new, y[N_TRAIN:]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--libraries", default=",".join(LIBRARIES))
    parser.add_argument("--no-update", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        out_path, task, *rest = args.child
        result = {"transform": child_transform, "cold": child_cold, "update": child_update,
                  "refit": child_refit}[task](*rest)
        with open(out_path, "w") as f:
            json.dump(result, f)
        return

    sys.path.insert(0, str(HERE))
    from run import quality

    from umapx.datasets import load

    _, y = load("fashion_mnist")
    record = {"date": dt.date.today().isoformat(), "transform": {}, "update": {}}
    with tempfile.TemporaryDirectory() as workdir:
        for library in args.libraries.split(","):
            print(f"transform: {library} ...", flush=True)
            result = run_child("transform", library, workdir)
            if "error" not in result:
                result["held_out_acc"] = held_out_accuracy(workdir, library, y)
                if "save_error" not in result:
                    result.update(run_child("cold", library, workdir))
            record["transform"][library] = result
            print(f"  {result}", flush=True)
        if not args.no_update:
            for task in ("update", "refit"):
                print(f"{task}: umapx ...", flush=True)
                result = run_child(task, workdir)
                if "error" not in result:
                    result.update(quality("fashion_mnist", os.path.join(workdir, f"{task}.npy")))
                record["update"][task] = result
                print(f"  {result}", flush=True)
    (HERE / "results").mkdir(exist_ok=True)
    with open(HERE / "results" / f"lifecycle-{record['date']}.json", "w") as f:
        json.dump(record, f, indent=1)
    (HERE / "LIFECYCLE.md").write_text(markdown(record))
    print(markdown(record))


def markdown(record):
    rows = [("fit 60,000 (s)", "fit_s"), ("transform 10,000, first call after fit (s)", "transform_10k_first_s"),
            ("transform 10,000, again (s)", "transform_10k_again_s"),
            ("transform 10,000, fresh process after load (s)", "transform_10k_cold_s"),
            ("load saved model (s)", "load_s"), ("transform 1,000 (s)", "transform_1k_s"),
            ("transform 1 point, median of 20 (ms)", "transform_1_s"),
            ("max movement of a point with its batch", "batch_movement_max"),
            ("max movement between two identical calls", "repeat_movement_max"),
            ("held-out 10-NN accuracy", "held_out_acc"), ("saved model (MB)", "model_file_mb")]
    libs = list(record["transform"])
    lines = [f"# Transform and update on fashion_mnist ({record['date']})", "",
             "Made by `make bench-lifecycle` (benchmarks/lifecycle.py); each step in a fresh process, "
             "one at a time, on this 2-core machine.", "",
             "| | " + " | ".join(libs) + " |", "|---|" + "---|" * len(libs)]
    for label, key in rows:
        cells = []
        for lib in libs:
            value = record["transform"][lib].get(key)
            value = value * 1000 if value is not None and key == "transform_1_s" else value
            cells.append(_fmt(value) if "error" not in record["transform"][lib] else "failed")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    update = record["update"]
    if update:
        lines += ["", "Update: fit 60,000, then add 10,000 in batches of 2,000, against a refit on 70,000 (umapx).",
                  "", "| | time (s) | trustworthiness | 10-NN accuracy |", "|---|---|---|---|"]
        for task, key in (("update", "update_s"), ("refit", "refit_s")):
            r = update[task]
            lines.append(f"| {task} | {_fmt(r.get(key))} | {_fmt(r.get('trust'))} | {_fmt(r.get('acc'))} |")
    return "\n".join(lines) + "\n"


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


if __name__ == "__main__":
    main()
