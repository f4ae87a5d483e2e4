"""scanpy on umapx against scanpy on umap-learn, and the other peers on the same cells: ``make bench-scanpy``.

Each task runs in a fresh process on ``pbmc68k_reduced`` (700 cells, scanpy's own example data) with
seeds 0, 1 and 2: scanpy's PCA (50 components), then ``sc.pp.neighbors`` + ``sc.tl.umap`` with
umap-learn or, through ``umapx.compat.use_as_umap()``, umapx; fastumap and scranpy embed the same
PCA coordinates with their own kNN. The timed part is the embedding (neighbours included, PCA
not): ``cold`` is the first seed, with imports and compilation; ``warm`` the mean of the other two.
The scanpy tasks then time ``sc.tl.ingest`` of the last 350 cells onto an embedding of the first 350.
Quality: trustworthiness (k=15, against the expression matrix) and 10-NN accuracy of the cell types,
means over the three seeds. Writes ``results/scanpy-DATE.json`` and ``SCANPY.md``.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
TASKS = ("scanpy + umap-learn", "scanpy + umapx", "fastumap", "scranpy")
SEEDS = (0, 1, 2)


def child(task, out):
    warnings.simplefilter("ignore")
    import numpy as np

    start = time.perf_counter()
    import anndata as ad
    import scanpy as sc

    if task == "scanpy + umapx":
        import umapx.compat

        umapx.compat.use_as_umap()
    from umapx.datasets import load
    from umapx.evaluation import knn_accuracy, trustworthiness

    X, y = load("pbmc68k_reduced")
    imports = time.perf_counter() - start

    def adata_of(rows=slice(None)):
        adata = ad.AnnData(X[rows].copy())
        adata.obs["label"] = y[rows].astype(str)
        return adata

    def embed(adata, seed):
        sc.pp.pca(adata, random_state=seed)
        began = time.perf_counter()
        if task.startswith("scanpy"):
            sc.pp.neighbors(adata, random_state=seed)
            sc.tl.umap(adata, random_state=seed)
            Y = adata.obsm["X_umap"]
        elif task == "fastumap":
            import fastumap

            Y = fastumap.fit(adata.obsm["X_pca"], 2, n_neighbors=15, random_state=seed).embedding
        else:
            import scranpy

            data = np.asfortranarray(adata.obsm["X_pca"].T.astype(np.float64))
            threads = len(os.sched_getaffinity(0))
            Y = scranpy.run_umap(data, num_threads=threads, parallel_optimization=True, optimize_seed=seed)
            Y = np.asarray(Y)
        return time.perf_counter() - began, Y

    times, trust, knn = [], [], []
    for seed in SEEDS:
        seconds, Y = embed(adata_of(), seed)
        times.append(seconds)
        trust.append(trustworthiness(X, Y, 15))
        knn.append(knn_accuracy(Y, y))
    result = {"imports_s": imports, "cold_s": times[0], "warm_s": float(np.mean(times[1:])), "times_s": times}
    result.update(trust=float(np.mean(trust)), knn=float(np.mean(knn)), trust_all=trust, knn_all=knn)
    if task.startswith("scanpy"):
        import pynndescent.rp_trees

        make_forest = pynndescent.rp_trees.make_forest  # scanpy 1.11.5 passes pynndescent 0.7's None trees
        pynndescent.rp_trees.make_forest = lambda d, k, n, *a: make_forest(d, k, n or 1, *a)
        ref, new = adata_of(slice(0, 350)), adata_of(slice(350, None))
        embed(ref, 0)
        began = time.perf_counter()
        sc.tl.ingest(new, ref, obs="label")
        result["ingest_s"] = time.perf_counter() - began
        result["ingest_label_agreement"] = float((new.obs["label"].to_numpy() == y[350:].astype(str)).mean())
    import umap

    result["umap_module"] = getattr(umap, "__file__", "") if task.startswith("scanpy") else None
    Path(out).write_text(json.dumps(result))


def markdown(record):
    rows = [
        "| task | embedding s (cold) | embedding s (warm) | ingest s | trustworthiness | 10-NN accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for task in TASKS:
        r = record["results"][task]
        if "error" in r:
            rows.append(f"| {task} | failed: {r['error'][:80]} | | | | |")
            continue
        ingest = f"{r['ingest_s']:.2f}" if "ingest_s" in r else "no ingest"
        rows.append(
            f"| {task} | {r['cold_s']:.2f} | {r['warm_s']:.2f} | {ingest} | {r['trust']:.4f} | {r['knn']:.4f} |"
        )
    return "\n".join(
        [
            "# scanpy on umapx",
            "",
            f"`make bench-scanpy`, {record['date']}, {record['machine']}. Written by `benchmarks/scanpy_run.py`;",
            "see its docstring for what is timed. Record: `results/" + record["file"] + "`.",
            "",
            *rows,
            "",
            "`ingest` includes the pynndescent index that scanpy builds itself for the label transfer, compiled",
            "at its first use in the process; UMAP's `transform` of the new cells is the rest.",
            "",
        ]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("TASK", "OUT"))
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    date = datetime.date.today().isoformat()
    record = {"date": date, "machine": f"{len(os.sched_getaffinity(0))} usable CPUs", "results": {}}
    record["file"] = f"scanpy-{date}.json"
    for task in TASKS:
        out = HERE / "results" / f".scanpy-{task.replace(' ', '')}.json"
        began = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--child", task, out], capture_output=True, text=True)
        result = json.loads(out.read_text()) if done.returncode == 0 else {"error": done.stderr.strip()[-400:]}
        result["process_s"] = time.perf_counter() - began
        out.unlink(missing_ok=True)
        record["results"][task] = result
        print(task, {k: v for k, v in result.items() if not isinstance(v, list)}, flush=True)
    (HERE / "results" / record["file"]).write_text(json.dumps(record, indent=1))
    (HERE / "SCANPY.md").write_text(markdown(record))


if __name__ == "__main__":
    main()
