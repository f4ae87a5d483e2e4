"""Make the example pictures of docs/images from the shared data sets (``UMAPX_DATA``):
``python docs/make_images.py`` (all) or ``python docs/make_images.py aligned`` (those of docs/aligned.md)."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import umapx
import umapx.plot
from umapx.datasets import load

OUT = Path(__file__).parent / "images"


def save(ax, name, title):
    ax.set_title(title, fontsize=10)
    ax.figure.savefig(OUT / f"{name}.png", dpi=100, bbox_inches="tight")
    print("wrote", OUT / f"{name}.png")


def aligned():
    """The pictures of docs/aligned.md: 003's tutorial run with umapx."""
    import numpy as np

    X, y = load("digits")
    order = np.argsort(X.sum(axis=1), kind="stable")
    X, y = X[order], y[order]
    parts = [slice(150 * i, min(len(X), 150 * i + 400)) for i in range(10)]
    slices, labels = [X[p] for p in parts], [y[p] for p in parts]
    relation_dicts = [{i + 150: i for i in range(250)} for _ in range(9)]
    model = umapx.AlignedUMAP(random_state=42).fit(slices, relations=relation_dicts)
    grid = umapx.plot.aligned(model, labels=labels, kind="grid")
    grid[0, 0].figure.savefig(OUT / "aligned_grid.png", dpi=100, bbox_inches="tight")
    save(umapx.plot.aligned(model, labels=labels, width=700, height=600), "aligned_stack", "10 slices, aligned")
    updating = umapx.AlignedUMAP(random_state=42).fit(slices[:2], relations=relation_dicts[:1])
    for i in range(2, len(slices)):
        updating.update(slices[i], relations=relation_dicts[i - 1])
    grid = umapx.plot.aligned(updating, labels=labels, kind="grid")
    grid[0, 0].figure.savefig(OUT / "aligned_update_grid.png", dpi=100, bbox_inches="tight")
    full = X[np.argsort(order)]
    constant = [{i: i for i in range(len(full))}] * 9
    varying = umapx.AlignedUMAP(
        n_neighbors=[3, 4, 5, 7, 11, 16, 22, 29, 37, 45],
        min_dist=[0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45],
        alignment_window_size=2,
        alignment_regularisation=1e-3,
        random_state=42,
    ).fit([full] * 10, relations=constant)
    save(
        umapx.plot.aligned(varying, labels=[load("digits")[1]] * 10, max_lines=300, width=700, height=600),
        "aligned_parameters",
        "n_neighbors 3 to 45, min_dist 0.01 to 0.45",
    )


if sys.argv[1:] == ["aligned"]:
    aligned()
    sys.exit()
X, y = load("digits")
digits = umapx.UMAP(random_state=42).fit(X)
save(umapx.plot.points(digits, labels=y, width=600, height=600), "digits_points", "digits: points, by label")
save(
    umapx.plot.connectivity(digits, edge_bundling="hammer", width=600, height=600),
    "digits_connectivity",
    "digits: fuzzy graph edges, hammer bundling",
)
save(
    umapx.plot.diagnostic(digits, diagnostic_type="pca", width=600, height=600),
    "digits_diagnostic_pca",
    "digits: diagnostic, PCA of the data as colour",
)
X, y = load("fashion_mnist")
fashion = umapx.UMAP(random_state=42).fit(X)
save(
    umapx.plot.points(fashion, labels=y, datashade=True, color_key_cmap="tab10", width=600, height=600),
    "fashion_mnist_datashader",
    "fashion_mnist (70,000 points) through datashader",
)
aligned()
