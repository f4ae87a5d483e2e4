"""Model files of earlier formats keep loading and transform to the same bytes.

``tests/data/models/format2_*.umapx`` were written by umapx before the model became explicit
dataclasses (format 2): an exact euclidean model, an hnswlib DensMAP model with ``output_dens``, a
supervised model of sparse input with the cosine metric, and an hnswlib model of 300-feature rows
indexed in their principal axes. ``format2_expected.npz`` holds the new points each was given and
what its ``transform`` returned then, and its ``embedding_``.
"""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import umapx

MODELS = Path(__file__).resolve().parents[1] / "data" / "models"
CASES = ["exact", "hnsw_densmap", "sparse_cosine_supervised", "wide_axes"]


@pytest.fixture(scope="module")
def expected():
    with np.load(MODELS / "format2_expected.npz") as archive:
        return dict(archive)


@pytest.mark.parametrize("name", CASES)
def test_format_2_file_loads_and_transforms_to_the_same_bytes(expected, name):
    model = umapx.load(MODELS / f"format2_{name}.umapx")
    assert model.embedding_.tobytes() == expected[f"{name}.embedding"].tobytes()
    new = expected[f"{name}.new"]
    result = model.transform(sp.csr_matrix(new) if "sparse" in name else new)
    result = result if isinstance(result, tuple) else (result,)
    outputs = sorted(key for key in expected if key.startswith(f"{name}.out"))
    assert len(result) == len(outputs)
    for got, key in zip(result, outputs):
        assert np.asarray(got).tobytes() == expected[key].tobytes(), key
