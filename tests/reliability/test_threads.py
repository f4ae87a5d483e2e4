"""Thread counts follow the CPUs a fit may use and the other processes running on them; a fit leaves
every thread setting of the process, and its garbage collector, as it found them."""

import gc
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_info

import umapx._threads as threads
import umapx.layout.sgd
from umapx import UMAP


def _counts(monkeypatch):
    """The numba thread count of every SGD kernel call of the fits that follow."""
    seen, kernel = [], umapx.layout.sgd.sgd_epochs

    def spy(*args):
        seen.append(numba.get_num_threads())
        return kernel(*args)

    monkeypatch.setattr(umapx.layout.sgd, "sgd_epochs", spy)
    return seen


def test_one_cpu_affinity_mask_gives_one_thread():
    script = (
        "import os, numba, umapx, umapx.layout.sgd as sgd\n"
        "from sklearn.datasets import load_digits\n"
        "os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})\n"
        "seen, kernel = [], sgd.sgd_epochs\n"
        "sgd.sgd_epochs = lambda *a: (seen.append((numba.get_num_threads(), a[-1])), kernel(*a))\n"
        "umapx.UMAP(n_jobs=-1, n_epochs=5, random_state=0).fit(load_digits().data[:400])\n"
        "print(sorted(set(seen)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[(1, 1)]"  # numba's count, and the kernel's


def test_other_running_processes_take_threads_without_changing_bytes(digits, monkeypatch):
    X = digits[0][:600]
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    monkeypatch.setattr(threads, "others_running", lambda usable: 0.0)
    seen = _counts(monkeypatch)
    idle = UMAP(n_jobs=2, n_epochs=20, random_state=0).fit_transform(X)
    assert set(seen) == {min(2, numba.config.NUMBA_NUM_THREADS)}
    seen.clear()
    monkeypatch.setattr(threads, "others_running", lambda usable: 1.0)
    busy = UMAP(n_jobs=2, n_epochs=20, random_state=0).fit_transform(X)
    assert seen[0] == 1  # the load's count comes first
    assert busy.tobytes() == idle.tobytes()


@pytest.mark.parametrize("seconds", [{1: 1.0, 2: 3.0}, {1: 3.0, 2: 1.0}], ids=["one thread faster", "two faster"])
def test_under_load_the_layout_times_both_counts_and_keeps_the_faster(digits, monkeypatch, seconds):
    # others start running after the first epoch (a check per stage and at the layout's start, then
    # one per epoch); every epoch is a window, and each kernel call takes ``seconds`` of a fake clock
    load = iter([0.0] * 3 + [1.0] * 100)
    clock = [0.0]
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    monkeypatch.setattr(threads, "others_running", lambda usable: next(load))
    monkeypatch.setattr(threads, "time", SimpleNamespace(perf_counter=lambda: clock[0], process_time=lambda: 0.0))
    monkeypatch.setattr(threads.Threads, "EVERY_S", 0.0)
    monkeypatch.setattr(threads.Threads, "RETIME_S", 1e9)
    monkeypatch.setattr(umapx.layout.sgd, "RUN_S", 0.0)  # a kernel call per epoch
    seen, kernel = [], umapx.layout.sgd.sgd_epochs

    def timed(*args):
        seen.append(numba.get_num_threads())
        clock[0] += seconds[seen[-1]]
        return kernel(*args)

    monkeypatch.setattr(umapx.layout.sgd, "sgd_epochs", timed)
    UMAP(n_jobs=2, n_epochs=4, random_state=0).fit(digits[0][:400])
    most = min(2, numba.config.NUMBA_NUM_THREADS)
    keep = 1 if seconds[1] < seconds[2] or most == 1 else most
    # epoch 0 on all threads (idle); epoch 1 times the load's count; epochs 2 and 3 on the faster
    assert seen == [most, 1, keep, keep]


def _paced_counts(monkeypatch, share):
    """The thread count of each of 1,000 epochs (about 10 s) beside one running thread of another
    process, when 1 thread takes 0.01 s per epoch, 2 threads 0.03 s, and the process's threads get
    ``share`` of a CPU each."""
    clock, cpu = [0.0], [0.0]
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    monkeypatch.setattr(threads, "others_running", lambda usable: 1.0)
    monkeypatch.setattr(threads, "time", SimpleNamespace(perf_counter=lambda: clock[0], process_time=lambda: cpu[0]))
    monkeypatch.setattr(numba, "set_num_threads", lambda count: None)
    pool = threads.Threads(2)
    pool.most = 2  # whatever numba's pool size here
    pool.adjust()
    counts = []
    for _ in range(1000):
        counts.append(pool.count)
        seconds = 0.01 if pool.count == 1 else 0.03
        clock[0] += seconds
        cpu[0] += seconds * share * pool.count
        pool.pace()
    return counts


def test_a_count_not_timed_lately_is_timed_again(monkeypatch):
    counts = _paced_counts(monkeypatch, share=0.6)  # beside busy processes: more threads may win CPU
    runs = [c for k, c in enumerate(counts) if k == 0 or counts[k - 1] != c]
    assert counts.count(1) > 0.9 * len(counts)
    assert runs.count(2) >= 9  # two threads timed again about once a second


def test_threads_that_have_whole_cpus_are_not_joined_by_more(monkeypatch):
    # two fits at once: each fit's one thread has a CPU of its own, so neither tries two
    assert set(_paced_counts(monkeypatch, share=1.0)) == {1}


def test_cgroup_quota_caps_the_cpus(tmp_path, monkeypatch):
    (tmp_path / "app" / "job").mkdir(parents=True)
    (tmp_path / "cpu.max").write_text("max 100000\n")
    (tmp_path / "app" / "cpu.max").write_text("150000 100000\n")
    (tmp_path / "app" / "job" / "cpu.max").write_text("max 100000\n")
    v2 = tmp_path / "v2"
    v2.write_text("0::/app/job\n")
    assert threads.cgroup_quota(tmp_path, v2) == 1.5
    (tmp_path / "cpu,cpuacct").mkdir()
    (tmp_path / "cpu,cpuacct" / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "cpu,cpuacct" / "cpu.cfs_period_us").write_text("100000\n")
    v1 = tmp_path / "v1"
    v1.write_text("4:memory:/x\n2:cpu,cpuacct:/docker/abc\n")  # the container sees its own cgroup at the root
    assert threads.cgroup_quota(tmp_path, v1) == 0.5
    v1.write_text("2:cpu,cpuacct:/\n")
    (tmp_path / "cpu,cpuacct" / "cpu.cfs_quota_us").write_text("-1\n")
    assert threads.cgroup_quota(tmp_path, v1) is None
    monkeypatch.setattr(threads, "cgroup_quota", lambda: 1.5)
    assert threads.usable_cpus() == 1
    assert threads.effective_n_jobs(-1) == 1


def _settings():
    blas = sorted((pool["filepath"], pool["num_threads"]) for pool in threadpool_info())
    return numba.get_num_threads(), blas, dict(os.environ), gc.isenabled()


_FIRST_CALLS = """
import gc, sys
import numpy as np
import umapx, umapx._threads as threads
{before}
X = np.load(sys.argv[1])
seen, adjust = [], threads.Threads.adjust
threads.Threads.adjust = lambda self: (seen.append(gc.isenabled()), adjust(self))[1]
umapx.build_graph(X, random_state=0)
enabled = gc.isenabled()
umapx.build_graph(X, random_state=0)
print(seen, enabled, gc.isenabled())
"""


@pytest.mark.parametrize(
    "before, expected", [("", "[False, True] True True"), ("gc.disable()", "[False, False] False False")]
)
def test_the_first_call_pauses_the_collector_and_leaves_it_as_it_was(digits, tmp_path, before, expected):
    np.save(tmp_path / "X.npy", digits[0][:300])
    code = _FIRST_CALLS.format(before=before)
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "X.npy")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected


def test_thread_settings_are_restored_after_a_fit_that_raises(digits):
    def stop(epoch, embedding, record):
        raise RuntimeError("stop here")

    before = _settings()
    with pytest.raises(RuntimeError, match="stop here"):
        UMAP(n_jobs=1, n_epochs=10, random_state=0, callbacks=[stop]).fit(digits[0][:400])
    assert _settings() == before


def test_fits_in_two_python_threads_at_once_leave_the_settings_as_they_were(digits):
    X = digits[0][:500]
    alone = UMAP(n_epochs=30, random_state=0).fit_transform(X)
    before = _settings()
    with ThreadPoolExecutor(2) as pool:
        both = list(pool.map(lambda seed: UMAP(n_epochs=30, random_state=seed).fit_transform(X), [0, 0, 0, 0]))
    assert _settings() == before
    assert all(run.tobytes() == alone.tobytes() for run in both)


_ONE_THREAD_RUNS_ALL = """
import sys, numba, numpy as np, umapx, umapx._threads as threads
threads.usable_cpus, threads.others_running = (lambda: 2), (lambda usable: 0.0)
X = np.load(sys.argv[1])
with numba.parallel_chunksize(2):  # the layout's two workers in one chunk: one thread runs both, one after the other
    np.save(sys.argv[2], umapx.UMAP(n_jobs=2, n_epochs=30, random_state=0).fit_transform(X))
"""


def test_the_layout_completes_when_one_thread_runs_every_worker(digits, tmp_path):
    X = digits[0][:500]
    np.save(tmp_path / "X.npy", X)
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    args = [sys.executable, "-c", _ONE_THREAD_RUNS_ALL, str(tmp_path / "X.npy"), str(tmp_path / "Y.npy")]
    subprocess.run(args, env=env, timeout=600, check=True)  # a worker waiting for a stage it never shares would hang
    alone = UMAP(n_jobs=1, n_epochs=30, random_state=0).fit_transform(X)
    assert np.load(tmp_path / "Y.npy").tobytes() == alone.tobytes()
