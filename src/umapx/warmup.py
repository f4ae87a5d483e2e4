"""Compile and cache umapx's numba kernels ahead of the first fit.

    python -m umapx.warmup

numba compiles a kernel on its first call and keeps the machine code in its cache (``__pycache__``
beside the source, or ``NUMBA_CACHE_DIR``); every later process loads it from there. Run once after
installing (``make install`` does), so that the first real fit is as fast as later ones. It fits
small random data along the paths whose kernels a fit, ``transform``, ``inverse_transform``,
``update``, DensMAP, loss reports, sparse input, the supervised graph and AlignedUMAP use; the kernels are
chosen by metric code, not compiled per metric, so one pass covers every metric.
"""

from __future__ import annotations

import time


def warm_up():
    """Run every kernel once on small data; returns the seconds it took."""
    import numpy as np
    import scipy.sparse as sp

    from .aligned_umap import AlignedUMAP
    from .umap import UMAP

    start = time.perf_counter()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)).astype(np.float32)
    y = rng.integers(0, 3, 300)
    model = UMAP(n_epochs=20, random_state=0, loss_report=True).fit(X[:250], y[:250])
    model.transform(X[250:])
    model.inverse_transform(model.embedding_[:5])
    UMAP(n_epochs=20, random_state=0).fit(X[:250]).update(X[250:])
    UMAP(n_epochs=20, random_state=0, densmap=True, output_dens=True).fit(X[:250]).transform(X[250:])
    UMAP(n_epochs=20, random_state=0, metric="manhattan").fit(X)
    wide = rng.normal(size=(300, 300)).astype(np.float32)  # indexed in its principal axes
    UMAP(n_epochs=20, random_state=0, force_approximation_algorithm=True).fit(wide[:250]).transform(wide[250:])
    UMAP(n_epochs=20, random_state=0).fit(sp.csr_matrix(np.abs(X)))
    pairs = {i + 50: i for i in range(100)}
    aligned = AlignedUMAP(n_epochs=20, random_state=0).fit([X[:150], X[50:200]], relations=[pairs])
    aligned.update(X[100:250], relations=pairs).transform(X[250:], slice=1)
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"umapx kernels compiled and cached in {warm_up():.1f} s")
