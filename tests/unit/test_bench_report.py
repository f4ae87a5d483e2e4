"""The benchmark's report on a recorded run (tests/data/bench_sample.json: digits and mnist_test from
the first `make bench`, with scranpy's mnist_test run replaced by a recorded failure)."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def record():
    return json.loads((ROOT / "tests" / "data" / "bench_sample.json").read_text())


def _row(table, dataset):
    return next(line for line in table.splitlines() if line.startswith(f"| {dataset} |"))


def test_ratio_is_umapx_over_fastest_peer(bench, record):
    table = bench.markdown(record)
    times = {r["library"]: r["wall_s"] for r in record["runs"] if r["dataset"] == "digits"}
    expected = times["umapx"] / min(t for lib, t in times.items() if lib != "umapx")
    assert _row(table, "digits").endswith(f"| {expected:.2f} |")


def _cells(row):
    return [c.strip() for c in row.strip("|").split("|")]


def test_failed_peer_is_reported_and_named_beside_the_ratio(bench, record):
    cells = _cells(_row(bench.markdown(record), "mnist_test"))
    assert cells[0] == "mnist_test" and cells[4] == "failed"
    times = {r["library"]: r["wall_s"] for r in record["runs"] if r["dataset"] == "mnist_test" and r["status"] == "ok"}
    assert cells[-1] == f"{times['umapx'] / min(times['umap-learn'], times['fastumap']):.2f} (scranpy failed)"


def test_timed_out_peer_is_neither_failed_nor_not_run(bench, record):
    runs = [
        {**r, "status": "timed out", "error": "timed out after 1800 s"}
        if (r["library"], r["dataset"]) == ("umap-learn", "digits")
        else r
        for r in record["runs"]
    ]
    cells = _cells(_row(bench.markdown({**record, "runs": runs}), "digits"))
    assert cells[2] == "timed out"
    assert cells[-1].endswith("(umap-learn timed out)")
    assert "—" not in cells  # "—" is kept for a library that was not run


def test_quality_rss_imports_and_stages_are_shown(bench, record):
    table = bench.markdown(record)
    umapx_digits = next(r for r in record["runs"] if r["library"] == "umapx" and r["dataset"] == "digits")
    assert f"({umapx_digits['trust']:.3f} / {umapx_digits['acc']:.3f}, {umapx_digits['peak_rss_mb']:.0f} MB)" in table
    assert f"umap-learn {record['imports']['umap-learn']:.2f}" in table
    stages = " | ".join(f"{v:.2f}" for v in [umapx_digits["import_s"], *umapx_digits["stages"].values()])
    assert f"| digits | {stages} |" in table


def test_settings_say_how_each_library_ran(bench, record):
    settings = {"umapx": "all cores", "scranpy": "num_threads=2, parallel_optimization=True"}
    table = bench.markdown({**record, "settings": settings})
    line = next(line for line in table.splitlines() if line.startswith("How each library ran"))
    assert all(f"{lib}: {how}" in line for lib, how in settings.items())


def test_shared_table_gives_each_condition_its_own_ratio(bench, record):
    shared = [
        {"dataset": "digits", "library": lib, "condition": cond, "status": "ok", "wall_s": t}
        for lib, cond, t in [
            ("umapx", "pair", 2.0),
            ("fastumap", "pair", 4.0),
            ("scranpy", "pair", 5.0),
            ("umapx", "busy", 3.0),
            ("fastumap", "busy", 2.0),
            ("scranpy", "busy", 6.0),
        ]
    ]
    table = bench.markdown({**record, "runs": record["runs"] + shared})
    rows = [line for line in table.splitlines() if line.startswith("| digits |")]
    assert rows[0] == _row(bench.markdown(record), "digits")  # the idle table ignores the shared runs
    shared_row = next(row for row in rows[1:] if "s / " in row)
    assert shared_row.endswith("| 0.50 | 1.50 |")
    assert "2.0 s / 3.0 s" in shared_row
