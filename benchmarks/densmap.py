"""DensMAP's density figures on mnist_test: correlation of data and embedding log radii, 10-NN accuracy.

    python benchmarks/densmap.py

Fits plain UMAP and DensMAP at dens_lambda 0.1, 2 and 5 (random_state 0, output_dens=True) on all
10,000 points and reports Pearson corr(rad_orig_, rad_emb_) and 5-fold 10-NN accuracy; then fits on
the first 9,000 and transforms the last 1,000, comparing the new points' radius correlation with
the training points'. Fit times belong to ``run.py --libraries umapx,umapx-densmap,umap-learn-densmap``.
"""
import numpy as np

from umapx import UMAP
from umapx.datasets import load
from umapx.evaluation import knn_accuracy


def main():
    X, y = load("mnist_test")
    print("| setting | corr(rad_orig_, rad_emb_) | 10-NN accuracy |\n|---|---|---|")
    for lam in (None, 0.1, 2.0, 5.0):
        model = UMAP(random_state=0, output_dens=True, densmap=lam is not None, dens_lambda=lam or 2.0).fit(X)
        corr = np.corrcoef(model.rad_orig_, model.rad_emb_)[0, 1]
        acc = knn_accuracy(model.embedding_, y, k=10, cv=5, random_state=0)
        print(f"| {'plain UMAP' if lam is None else f'DensMAP lambda={lam}'} | {corr:.3f} | {acc:.3f} |", flush=True)
    model = UMAP(random_state=0, densmap=True, output_dens=True).fit(X[:9000])
    _, rad_orig, rad_emb = model.transform(X[9000:])
    print(f"\nfit 9,000 / transform 1,000: training corr {np.corrcoef(model.rad_orig_, model.rad_emb_)[0, 1]:.3f}, "
          f"new points corr {np.corrcoef(rad_orig, rad_emb)[0, 1]:.3f}")


if __name__ == "__main__":
    main()
