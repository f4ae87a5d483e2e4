"""Make the example pictures of docs/images from the shared data sets (``UMAPX_DATA``):
``python docs/make_images.py`` (all), ``python docs/make_images.py aligned`` (those of docs/aligned.md) or
``python docs/make_images.py parametric`` (those of docs/parametric.md)."""

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


def parametric():
    """The pictures of docs/parametric.md: fashion_mnist through ParametricUMAP, the semi-supervised head on
    digits with 1% of the labels, and integrated-gradient attributions on digits."""
    import matplotlib.pyplot as plt
    import numpy as np

    X, y = load("fashion_mnist")
    X = X / 255.0
    model = umapx.ParametricUMAP(random_state=42).fit(X[:60000])
    held_out = model.transform(X[60000:])
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), dpi=100)
    for ax, (E, labels, title) in zip(
        axes,
        ((model.embedding_, y[:60000], "the 60,000 training rows"), (held_out, y[60000:], "10,000 held-out rows")),
        strict=True,
    ):
        ax.scatter(E[:, 0], E[:, 1], s=0.3, c=labels, cmap="tab10", rasterized=True)
        ax.set(xticks=[], yticks=[], title=f"fashion_mnist, ParametricUMAP: {title}")
    fig.tight_layout()
    fig.savefig(OUT / "parametric_fashion.png", dpi=100)
    print("wrote", OUT / "parametric_fashion.png")

    X, y = load("digits")
    X = X / 16.0
    labels = np.where(np.random.default_rng(0).random(len(y)) < 0.01, y, -1)
    semi = umapx.ParametricUMAP(random_state=42, classifier=True).fit(X, labels)
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), dpi=100)
    E = semi.embedding_
    axes[0].scatter(E[:, 0], E[:, 1], s=3, c="lightgrey")
    known = labels != -1
    axes[0].scatter(E[known, 0], E[known, 1], s=40, c=y[known], cmap="tab10", edgecolors="black", vmin=0, vmax=9)
    axes[0].set(xticks=[], yticks=[], title=f"digits: the {known.sum()} labelled points (1%) in the embedding")
    predicted = semi.predict(X)
    axes[1].scatter(E[:, 0], E[:, 1], s=3, c=predicted, cmap="tab10", vmin=0, vmax=9)
    accuracy = (predicted[~known] == y[~known]).mean()
    axes[1].set(xticks=[], yticks=[], title=f"the classifier head's classes (accuracy {accuracy:.2f} unlabelled)")
    fig.tight_layout()
    fig.savefig(OUT / "parametric_semi.png", dpi=100)
    print("wrote", OUT / "parametric_semi.png")

    model = umapx.ParametricUMAP(random_state=42).fit(X)
    rows = np.flatnonzero(np.isin(y, (0, 1)))
    attribution = model.explain(X[rows])
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.4), dpi=100)
    pictures = (
        (X[y == 0].mean(0), "mean image of 0", "gray_r"),
        (X[y == 1].mean(0), "mean image of 1", "gray_r"),
        (np.abs(X[y == 0].mean(0) - X[y == 1].mean(0)), "|mean 0 - mean 1|", "magma"),
        (np.abs(attribution).sum(2).mean(0), "mean |attribution|, 0s and 1s", "magma"),
    )
    for ax, (image, title, cmap) in zip(axes, pictures, strict=True):
        ax.imshow(image.reshape(8, 8), cmap=cmap)
        ax.set(xticks=[], yticks=[], title=title)
    fig.tight_layout()
    fig.savefig(OUT / "parametric_attribution.png", dpi=100)
    print("wrote", OUT / "parametric_attribution.png")


if sys.argv[1:] == ["aligned"]:
    aligned()
    sys.exit()
if sys.argv[1:] == ["parametric"]:
    parametric()
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
parametric()
