"""Make the example pictures of docs/images from the shared data sets (``UMAPX_DATA``):
``python docs/make_images.py``."""

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
