"""`python -m umapx.warmup` (run by `make install`) leaves nothing for the first fit to compile."""

import os
import subprocess
import sys

FIT = """
import numpy as np, umapx
from sklearn.datasets import load_digits
X = load_digits().data
model = umapx.UMAP(random_state=0).fit(X[:1500])
model.transform(X[1500:])
umapx.UMAP(random_state=0, densmap=True).fit(X)
wide = np.random.default_rng(0).normal(size=(600, 300)).astype(np.float32)
umapx.UMAP(random_state=0, force_approximation_algorithm=True).fit(wide[:500]).transform(wide[500:])
"""


def _cache_files(path):
    return {os.path.join(root, f) for root, _, files in os.walk(path) for f in files if f.endswith((".nbi", ".nbc"))}


def test_warmup_caches_every_kernel_a_fit_needs(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "umapx.warmup"], env=env, check=True, capture_output=True)
    cached = _cache_files(tmp_path)
    assert any("sgd_epochs" in f for f in cached)
    subprocess.run([sys.executable, "-c", FIT], env=env, check=True, capture_output=True)
    assert _cache_files(tmp_path) == cached
