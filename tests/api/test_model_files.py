"""Model files of earlier formats keep loading and transform to the same bytes.

``tests/data/models/format2_*.umapx`` were written by umapx before the model became explicit
dataclasses (format 2): an exact euclidean model, an hnswlib DensMAP model with ``output_dens``, a
supervised model of sparse input with the cosine metric, and an hnswlib model of 300-feature rows
indexed in their principal axes. ``format2_expected.npz`` holds the new points each was given and
what its ``transform`` returned then, and its ``embedding_``.
"""

import json
import zipfile
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
    for got, key in zip(result, outputs, strict=True):
        assert np.asarray(got).tobytes() == expected[key].tobytes(), key


def test_format_1_file_loads_and_transforms_alike(expected, tmp_path):
    """Format 1 kept the bare hnswlib index (always in the full space): the format-2 hnswlib file,
    written back as format 1, still loads and transforms to the same bytes."""
    source = MODELS / "format2_hnsw_densmap.umapx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(tmp_path / "v1.umapx", "w") as dst:
        for item in src.namelist():
            payload = src.read(item)
            if item == "model.json":
                meta = json.loads(payload)
                assert meta["version"] == 2 and meta["state"]["_hnsw"]["list"][1] is None
                meta["version"] = 1
                meta["state"]["_hnsw"] = meta["state"]["_hnsw"]["list"][0]
                payload = json.dumps(meta)
            dst.writestr(item, payload)
    old = umapx.load(tmp_path / "v1.umapx")
    assert old.graph_model_.index.kind == "hnsw" and old.graph_model_.index.projection is None
    result = old.transform(expected["hnsw_densmap.new"])
    assert result[0].tobytes() == expected["hnsw_densmap.out0"].tobytes()
