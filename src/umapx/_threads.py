"""How many threads a call may use, and the process settings (thread counts, the garbage collector) it
changes for its duration only.

Seeded results are the same on any number of threads, so the count can follow the machine: the
CPUs this process may run on (its affinity mask, capped by a cgroup CPU quota), less the threads of
other processes that are running on them now. The layout's SGD waits for its slowest thread at the
end of every phase, several thousand times per fit; a thread that waits there for a partner the
scheduler has given to another process loses the time until the partner runs again, so on a shared
machine fewer threads may finish sooner. Not always: the scheduler shares a CPU between threads, not
processes, so more threads also win a larger share beside busy processes, and as the waiting threads
sleep, that share often wins. Which way it goes is measured, not guessed: while others run, the
layout times its epochs on both counts and keeps the faster, unless its threads already had whole
CPUs.
"""

from __future__ import annotations

import gc
import math
import os
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

_CGROUP = Path("/sys/fs/cgroup")


def usable_cpus() -> int:
    """The CPUs this process may use: its affinity mask, capped by the floor of a cgroup CPU quota
    (a quota of 1.5 CPUs gives 1: two threads would each get three quarters of a CPU and meet at
    every barrier)."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        count = os.cpu_count() or 1
    quota = cgroup_quota()
    return max(1, min(count, math.floor(quota))) if quota else count


def cgroup_quota(root=_CGROUP, membership="/proc/self/cgroup") -> float | None:
    """CPUs' worth of time per period allowed by the cgroups holding this process (v2 ``cpu.max``
    or v1 ``cpu.cfs_quota_us``, the smallest along the path to the root), None without a quota.
    ``membership`` lists the process's cgroups, ``root`` is where the hierarchies are mounted."""
    try:
        lines = Path(membership).read_text().splitlines()
    except OSError:
        return None
    quotas = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            quotas += [_quota_v2(folder / "cpu.max") for folder in _ancestors(Path(root), path)]
        elif "cpu" in controllers.split(","):
            quotas += [_quota_v1(folder) for folder in _ancestors(Path(root) / controllers, path)]
    quotas = [q for q in quotas if q]
    return min(quotas) if quotas else None


def _ancestors(base, path):
    parts = [p for p in path.split("/") if p]
    return [base.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _quota_v2(file):
    try:
        quota, period = file.read_text().split()
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def _quota_v1(folder):
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 else None


def others_running(usable: int) -> float:
    """Threads of other processes runnable now on this process's ``usable`` CPUs: the machine's
    runnable count (``/proc/loadavg``) less this process's own, scaled to the share of the machine's
    CPUs it may use; 0 where ``/proc`` is missing."""
    try:
        running = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
        own = sum(_state(task) == "R" for task in Path("/proc/self/task").iterdir())
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0, running - own) * usable / (os.cpu_count() or 1)


def _state(task):
    try:
        return (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def effective_n_jobs(n_jobs: int | None, usable: int | None = None) -> int:
    """-1 (or None) means every usable CPU (``usable``, else ``usable_cpus()``); -2 all but one, as in
    scikit-learn; a positive count is kept (numba's pool is the limit)."""
    import numba

    if n_jobs is None or n_jobs == 0:
        n_jobs = -1
    count = n_jobs if n_jobs > 0 else (usable or usable_cpus()) + 1 + n_jobs
    return max(1, min(count, numba.config.NUMBA_NUM_THREADS))


class Threads:
    """The thread count of a running call: at most ``effective_n_jobs(n_jobs)``, fewer while other
    processes run on this process's CPUs. ``adjust``, called between parallel steps, sets numba's
    count for the calling thread from the load alone.

    ``pace``, called after each kernel call of the layout with the epochs it ran, works in windows of
    ``EVERY_S`` seconds: at the end of one it records the seconds per epoch of the count it ran.
    While other processes run, the count the load suggests is kept as long as its threads had whole
    CPUs (``FULL`` of the window's time each: two fits at once); else it picks between that count
    and the most allowed: one not timed in the last ``RETIME_S`` seconds is timed next, else the
    faster runs."""

    EVERY_S = 0.05
    RETIME_S = 1.0
    FULL = 0.9

    def __init__(self, n_jobs: int | None):
        self.usable = usable_cpus()
        self.most = effective_n_jobs(n_jobs, self.usable)
        self.count, self.last, self.cpu, self.epochs = self.most, 0.0, 0.0, 0
        self.timed = {}  # count -> (seconds per epoch, when)

    def adjust(self) -> int:
        self._use(self._free())
        return self.count

    def pace(self, epochs: int = 1) -> None:
        self.epochs += epochs
        now = time.perf_counter()
        if now - self.last < self.EVERY_S:
            return
        self.timed[self.count] = ((now - self.last) / self.epochs, now)
        free = self._free()
        if self.count == free and time.process_time() - self.cpu >= self.FULL * free * (now - self.last):
            # its threads had whole CPUs: more threads could only take CPUs from other processes' threads
            # that have theirs, as two fits at once do, and both would lose at the barriers
            return self._use(free)
        rivals = sorted({free, self.most})
        stale = [c for c in rivals if now - self.timed.get(c, (0.0, -math.inf))[1] > self.RETIME_S]
        self._use(stale[0] if stale else min(rivals, key=lambda c: self.timed[c][0]))

    def _free(self):
        return max(1, min(self.most, self.usable - round(others_running(self.usable))))

    def _use(self, count):
        import numba

        self.count = count
        numba.set_num_threads(count)
        self.last, self.cpu, self.epochs = time.perf_counter(), time.process_time(), 0


class ProcessSetting:
    """A process-wide setting held while any call of this process is inside: the first call in
    applies it (``apply(*args)`` returns the function that undoes it) and the last one out undoes
    it, so calls from several Python threads at once never undo each other's setting or leave
    theirs behind."""

    def __init__(self, apply):
        self.apply, self.undo, self.users, self.lock = apply, None, 0, threading.Lock()

    @contextmanager
    def held(self, *args):
        with self.lock:
            if self.users == 0:
                self.undo = self.apply(*args)
            self.users += 1
        try:
            yield
        finally:
            with self.lock:
                self.users -= 1
                if self.users == 0:
                    self.undo()


def _limit_blas(count):
    """The BLAS pools at most ``count`` threads."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=count, user_api="blas").restore_original_limits


def _pause_gc():
    """No garbage collection. The first call of a process imports numba and scipy and sets up
    numba's typing, about 100,000 long-lived objects, and the collections that they trigger scan them
    again and again (272 collections, 0.1 s of a first digits fit); later calls trigger almost none,
    so only the first is paused (``thread_limit``), and the loading of umapx's modules."""
    if not gc.isenabled():
        return lambda: None
    gc.disable()
    return gc.enable


BLAS_LIMIT = ProcessSetting(_limit_blas)
GC_PAUSE = ProcessSetting(_pause_gc)
_LOADED = threading.Event()  # a call has ended in this process: its imports and numba's typing are done


@contextmanager
def torch_threads(count: int):
    """torch's intra-op pool at ``count`` threads for the body, then as it was."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def thread_limit(n_jobs: int | None):
    """Run the body with numba and the BLAS using at most ``n_jobs`` threads (``effective_n_jobs``),
    fewer on a busy machine, and, until a first call has ended, without garbage collection; yields the
    ``Threads``. Numba's count (a setting of the calling thread), the BLAS pools and the collector are
    restored afterwards, also after an exception; no environment variable is touched."""
    with nullcontext() if _LOADED.is_set() else GC_PAUSE.held():
        import numba

        previous = numba.get_num_threads()
        threads = Threads(n_jobs)
        try:
            with BLAS_LIMIT.held(threads.adjust()):
                yield threads
        finally:
            numba.set_num_threads(previous)
            _LOADED.set()
