"""Embed a real data set, save a PNG coloured by label, and print fit time and quality figures."""
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import umapx
import umapx.plot
from umapx.datasets import load_or_bundled
from umapx.evaluation import knn_accuracy, trustworthiness

name = sys.argv[1] if len(sys.argv) > 1 else "fashion_mnist"
X, y, source = load_or_bundled(name)
print(f"data: {source}, {X.shape[0]} x {X.shape[1]}")
start = time.perf_counter()
model = umapx.UMAP(random_state=42, verbose=True).fit(X)
embedding = model.embedding_
print(f"fit time: {time.perf_counter() - start:.1f} s")
print(f"trustworthiness (k=15): {trustworthiness(X, embedding, k=15):.3f}")
print(f"10-NN accuracy (5-fold): {knn_accuracy(embedding, y, k=10):.3f}")

out = Path("demo_out")
out.mkdir(exist_ok=True)
ax = umapx.plot.points(model, labels=y, color_key_cmap="tab10")
ax.set_title(f"umapx on {source}")
ax.figure.savefig(out / "demo.png", dpi=100, bbox_inches="tight")
print(f"wrote {out / 'demo.png'}")
