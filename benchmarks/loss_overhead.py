"""What loss reporting costs: fit time with loss_report None, True and "epoch", in one process.

    python benchmarks/loss_overhead.py [DATASET ...]   (default: digits mnist_test)

Fit-to-fit noise on a shared 2-core machine is several percent, more than the cost measured, so the
three settings are fitted in turn five times over (random_state 0) and each is summarised by its
median. Fresh-process figures with imports come from ``run.py --libraries
umapx,umapx-loss-report,umapx-loss-epoch``.
"""
import sys
import time

import numpy as np

from umapx import UMAP
from umapx.datasets import load

SETTINGS = (None, True, "epoch")


def main(names):
    print("| data | loss_report=None | True | \"epoch\" | cost of True | cost of \"epoch\" |\n|---|---|---|---|---|---|")
    for name in names:
        X, _ = load(name)
        UMAP(random_state=0, n_epochs=5, loss_report=True).fit(X)  # load the compiled kernels
        times = {setting: [] for setting in SETTINGS}
        for _ in range(5):
            for setting in SETTINGS:
                began = time.perf_counter()
                UMAP(random_state=0, loss_report=setting).fit(X)
                times[setting].append(time.perf_counter() - began)
        base, report, epoch = (float(np.median(times[s])) for s in SETTINGS)
        print(f"| {name} | {base:.2f} s | {report:.2f} s | {epoch:.2f} s | {100 * (report / base - 1):+.1f}% "
              f"| {100 * (epoch / base - 1):+.1f}% |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["digits", "mnist_test"])
