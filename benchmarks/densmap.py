"""DensMAP's density figures on mnist_test: correlation of data and embedding log radii, 10-NN accuracy.

    python benchmarks/densmap.py [--seeds 0,1,2] [--lambdas 0.1,2,5] [--umap-learn]

Fits plain UMAP and DensMAP at each dens_lambda (default the tutorial's 0.1, 2 and 5; output_dens=True)
on all 10,000 points, for each seed, and reports per seed and as the mean over seeds: Pearson
corr(rad_orig_, rad_emb_) (embedding radii on the embedding's own kNN graph, as umap-learn reports
them), the correlation DensMAP optimises (002 eq. 33: embedding radii of eq. 31 over the data graph's
edges), trustworthiness (k=15, 5,000-point sample) and 5-fold 10-NN accuracy; with ``--umap-learn``
the same for umap-learn's densMAP. Then fits on the first 9,000 and transforms the last 1,000,
comparing the new points' radius correlation with the training points'. Fit times belong to
``run.py --libraries umapx,umapx-densmap,umap-learn-densmap``.
"""
import argparse

import numpy as np

from umapx import UMAP
from umapx.datasets import load
from umapx.density import embedding_log_radii
from umapx.evaluation import knn_accuracy, trustworthiness
from umapx.layout.sampling import prune


def objective_corr(graph, n_epochs, rad_orig, embedding, a, b):
    """corr(rad_orig, r) with r the eq. 31 radii over the edges the layout optimised (002 eqs. 31, 33)."""
    g = prune(graph, n_epochs, graph.data.max())
    g.sort_indices()
    Y = np.asarray(embedding, dtype=np.float64)
    r, phi_sum = np.zeros(len(Y)), np.zeros(len(Y))
    embedding_log_radii(Y, Y, g.indptr.astype(np.int64), g.indices.astype(np.int64), a, b, r, phi_sum)
    keep = np.isfinite(rad_orig)
    return np.corrcoef(rad_orig[keep], r[keep])[0, 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--lambdas", default="0.1,2,5")
    parser.add_argument("--umap-learn", action="store_true", help="also run umap-learn's densMAP")
    args = parser.parse_args()
    X, y = load("mnist_test")
    lambdas = [None] + [float(v) for v in args.lambdas.split(",")]

    def quality(emb):
        return (trustworthiness(X, emb, k=15, sample_size=5000, random_state=0),
                knn_accuracy(emb, y, k=10, cv=5, random_state=0))

    print("| library | seed | setting | corr(rad_orig_, rad_emb_) | optimised corr (eq. 33) | trustworthiness "
          "| 10-NN accuracy |\n|---|---|---|---|---|---|---|")
    means = {}
    for seed in (int(s) for s in args.seeds.split(",")):
        for lam in lambdas:
            model = UMAP(random_state=seed, output_dens=True, densmap=lam is not None, dens_lambda=lam or 2.0).fit(X)
            corr = np.corrcoef(model.rad_orig_, model.rad_emb_)[0, 1]
            optimised = objective_corr(model.graph_, model.n_epochs_run_, model.rad_orig_, model.embedding_,
                                       model.a_, model.b_)
            trust, acc = quality(model.embedding_)
            setting = "plain UMAP" if lam is None else f"DensMAP lambda={lam}"
            print(f"| umapx | {seed} | {setting} | {corr:.3f} | {optimised:.3f} | {trust:.3f} | {acc:.3f} |",
                  flush=True)
            means.setdefault(setting, []).append((corr, optimised, trust, acc))
        if args.umap_learn:
            import umap

            for lam in lambdas[1:]:
                emb, ro, re = umap.UMAP(random_state=seed, densmap=True, dens_lambda=lam,
                                        output_dens=True).fit_transform(X)
                trust, acc = quality(emb)
                print(f"| umap-learn | {seed} | densMAP lambda={lam} | {np.corrcoef(ro, re)[0, 1]:.3f} | — "
                      f"| {trust:.3f} | {acc:.3f} |", flush=True)
    print("\nmean over seeds:\n\n| setting | corr(rad_orig_, rad_emb_) | optimised corr | trustworthiness "
          "| 10-NN accuracy |\n|---|---|---|---|---|")
    for setting, rows in means.items():
        print(f"| {setting} | " + " | ".join(f"{v:.3f}" for v in np.mean(rows, axis=0)) + " |")
    model = UMAP(random_state=0, densmap=True, output_dens=True).fit(X[:9000])
    _, rad_orig, rad_emb = model.transform(X[9000:])
    print(f"\nfit 9,000 / transform 1,000: training corr {np.corrcoef(model.rad_orig_, model.rad_emb_)[0, 1]:.3f}, "
          f"new points corr {np.corrcoef(rad_orig, rad_emb)[0, 1]:.3f}")


if __name__ == "__main__":
    main()
