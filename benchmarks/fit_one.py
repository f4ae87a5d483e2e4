"""One fit in a fresh process: ``python fit_one.py LIBRARY DATASET OUT_PREFIX``.

Writes OUT_PREFIX.npy (the embedding) and OUT_PREFIX.json (import and fit seconds, umapx stage
times, peak RSS). The parent measures the process's wall time; imports and compilation count.
The import ends at the first use of the fitting name: umapx and fastumap load their modules then.

Every library runs on all usable cores, as far as it lets a caller choose (SETTINGS says how).
"""
import json
import os
import sys
import time

START = time.perf_counter()
THREADS = len(os.sched_getaffinity(0))
SETTINGS = {
    "umapx": "all usable cores (its default), random_state=42",
    "umap-learn": "n_jobs=-1 (its default), unseeded: a random_state makes it single-threaded",
    "fastumap": "as it ships (no thread setting: its kNN and layout run on one thread, BLAS on all), random_state=42",
    "scranpy": f"num_threads={THREADS} (all usable cores), parallel_optimization=True, its default seeds",
}


def fit_umapx(X, **kwargs):
    import logging

    import umapx

    stages = {}

    class StageTimes(logging.Handler):
        def emit(self, record):
            if hasattr(record, "seconds"):
                stages[record.stage] = record.seconds

    logger = logging.getLogger("umapx")
    logger.addHandler(StageTimes())
    logger.setLevel(logging.INFO)
    UMAP = umapx.UMAP  # umapx loads its modules at the first use of a name
    imported = time.perf_counter()
    return imported, UMAP(n_neighbors=15, random_state=42, **kwargs).fit_transform(X), stages


def fit_umap_learn(X, **kwargs):
    import umap

    imported = time.perf_counter()
    return imported, umap.UMAP(n_neighbors=15, **kwargs).fit_transform(X), {}


def fit_fastumap(X):
    import fastumap

    fit = fastumap.fit  # fastumap loads its modules at the first use of a name
    imported = time.perf_counter()
    return imported, fit(X, 2, n_neighbors=15, random_state=42).embedding, {}


def fit_scranpy(X):
    import numpy as np
    import scranpy

    imported = time.perf_counter()
    data = np.asfortranarray(X.T.astype(np.float64))
    layout = scranpy.run_umap(data, num_dim=2, num_neighbors=15, num_threads=THREADS, parallel_optimization=True)
    return imported, np.asarray(layout), {}


def fit_torchdr(X):
    import torchdr

    imported = time.perf_counter()
    return imported, torchdr.UMAP(n_neighbors=15, n_components=2).fit_transform(X), {}


FITS = {"umapx": fit_umapx, "umap-learn": fit_umap_learn, "fastumap": fit_fastumap, "scranpy": fit_scranpy,
        "torchdr": fit_torchdr, "umapx-densmap": lambda X: fit_umapx(X, densmap=True),
        "umap-learn-densmap": lambda X: fit_umap_learn(X, densmap=True),
        "umapx-loss-report": lambda X: fit_umapx(X, loss_report=True),
        "umapx-loss-epoch": lambda X: fit_umapx(X, loss_report="epoch")}


def load_spec(spec):
    """(X, y) of data set ``spec``: a bundled name, or ``name@n`` for a seeded random n of its rows."""
    import numpy as np

    from umapx.datasets import load

    name, _, n = spec.partition("@")
    X, y = load(name)
    if not n:
        return X, y
    rows = np.sort(np.random.default_rng(0).choice(X.shape[0], int(n), replace=False))
    return X[rows], y[rows]


def main(library, dataset, prefix):
    import numpy as np

    X, _ = load_spec(dataset)
    loaded = time.perf_counter()
    imported, embedding, stages = FITS[library](X)
    done = time.perf_counter()
    np.save(prefix + ".npy", np.asarray(embedding, dtype=np.float32))
    with open(prefix + ".json", "w") as f:
        json.dump({"import_s": imported - loaded, "fit_s": done - imported, "stages": stages,
                   "startup_s": loaded - START, "peak_rss_mb": peak_rss_mb()}, f)


def peak_rss_mb():
    """This process's high-water RSS (VmHWM). Not getrusage: after fork+exec it also counts the parent's."""
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    return kb / 1024.0


if __name__ == "__main__":
    main(*sys.argv[1:4])
