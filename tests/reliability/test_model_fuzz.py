"""Damaged model files: ``umapx.load`` of a mutated, truncated or reordered real model file either loads
it or raises the documented ValueError; never another exception, and never does a file run code."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import umapx
from umapx import UMAP

MODELS = Path(__file__).resolve().parents[1] / "data" / "models"
VARIANTS = 300


@pytest.fixture(scope="module")
def sources(tmp_path_factory, digits):
    """Real model files: one of this format (exact and hnsw), and the format-2 files kept for loading."""
    X, y = digits
    folder = tmp_path_factory.mktemp("sources")
    UMAP(n_epochs=20, random_state=0).fit(X[:300]).save(folder / "exact.umapx")
    UMAP(n_epochs=20, random_state=0, force_approximation_algorithm=True, densmap=True).fit(X[:300]).save(
        folder / "hnsw_densmap.umapx"
    )
    UMAP(n_epochs=20, random_state=0, metric="cosine").fit(X[:300], y[:300]).save(folder / "supervised.umapx")
    return [path.read_bytes() for path in [*sorted(folder.iterdir()), *sorted(MODELS.glob("format2_*.umapx"))]]


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(name, zf.read(name)) for name in zf.namelist()]


def _zip(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, payload in members:
            zf.writestr(name, payload)
    return out.getvalue()


def _flip(payload, rng, n):
    payload = bytearray(payload)
    for i in rng.integers(0, len(payload), size=min(n, len(payload))):
        payload[i] = rng.integers(0, 256)
    return bytes(payload)


def _json_mutation(meta, rng):
    """``meta`` with one value somewhere replaced by a value of another kind, or one key removed."""
    path, node = [], meta
    while isinstance(node, (dict, list)) and node and rng.random() < 0.8:
        key = list(node)[rng.integers(len(node))] if isinstance(node, dict) else int(rng.integers(len(node)))
        path.append(key)
        node = node[key]
    if not path:
        return {}
    parent = meta
    for key in path[:-1]:
        parent = parent[key]
    choices = [None, -1, 10**12, 2.5, "x", "../../etc/passwd", [], {}, {"array": "nowhere.npy"}, {"dataclass": "os"}]
    if isinstance(parent, dict) and rng.random() < 0.3:
        del parent[path[-1]]
    else:
        parent[path[-1]] = choices[rng.integers(len(choices))]
    return meta


def mutate(data, rng):
    """One seeded mutation of a model file's bytes: raw bytes flipped or cut, or a member's bytes flipped
    (with a valid checksum), dropped, swapped, reordered, or its metadata changed."""
    kind = rng.integers(8)
    if kind == 0:
        return _flip(data, rng, rng.integers(1, 9))
    if kind == 1:
        return data[: rng.integers(0, len(data))]
    members = _members(data)
    i, j = rng.integers(len(members), size=2)
    if kind == 2:
        members[i] = (members[i][0], _flip(members[i][1], rng, rng.integers(1, 9)))
    elif kind == 3:
        del members[i]
    elif kind == 4:
        members[i], members[j] = (members[i][0], members[j][1]), (members[j][0], members[i][1])
    elif kind == 5:
        members = [members[k] for k in rng.permutation(len(members))]
    elif kind == 6:
        meta = next(k for k, (name, _) in enumerate(members) if name == "model.json")
        changed = _json_mutation(json.loads(members[meta][1]), rng)
        members[meta] = ("model.json", json.dumps(changed).encode())
    else:
        members[i] = (members[i][0], members[i][1][: rng.integers(0, len(members[i][1]) + 1)])
    return _zip(members)


def test_mutated_model_files_load_or_raise_the_documented_error(sources, tmp_path):
    rng = np.random.default_rng(37)
    outcomes = {"loaded": 0, "refused": 0}
    for variant in range(VARIANTS):
        data = mutate(sources[variant % len(sources)], rng)
        path = tmp_path / f"v{variant}.umapx"
        path.write_bytes(data)
        try:
            model = umapx.load(path)
        except ValueError as error:
            assert str(path) in str(error), (variant, error)  # the documented error names the file
            outcomes["refused"] += 1
            continue
        assert isinstance(model, UMAP), variant
        outcomes["loaded"] += 1
    assert outcomes["refused"] > VARIANTS // 2  # most mutations break a file, and each was refused cleanly


class _Marker:
    """Unpickling this object writes a file: the proof that loading ran code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return Path.write_text, (Path(self.path), "code ran")


def test_a_pickled_array_in_a_model_file_is_refused_without_running_it(sources, tmp_path):
    marker = tmp_path / "ran.txt"
    members = _members(sources[0])
    payload = io.BytesIO()
    np.save(payload, np.array([_Marker(str(marker))], dtype=object), allow_pickle=True)
    np.load(io.BytesIO(payload.getvalue()), allow_pickle=True)  # the payload is live: unpickled, it runs
    assert marker.exists()
    marker.unlink()
    name = next(n for n, _ in members if n.endswith(".npy"))
    path = tmp_path / "pickled.umapx"
    path.write_bytes(_zip([(n, payload.getvalue() if n == name else p) for n, p in members]))
    with pytest.raises(ValueError, match="the model file is damaged"):
        umapx.load(path)
    assert not marker.exists()
