"""``n_jobs`` as a context manager: numba's thread count for the call, restored afterwards."""

from __future__ import annotations

from contextlib import contextmanager


def effective_n_jobs(n_jobs: int | None) -> int:
    """-1 (or None) means every core; -2 all but one, as in scikit-learn."""
    import numba

    available = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None or n_jobs == 0:
        n_jobs = -1
    count = n_jobs if n_jobs > 0 else available + 1 + n_jobs
    return max(1, min(count, available))


@contextmanager
def thread_limit(n_jobs: int | None):
    """Run the body with numba using ``n_jobs`` threads; restores the previous count even on error."""
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(effective_n_jobs(n_jobs))
    try:
        yield numba.get_num_threads()
    finally:
        numba.set_num_threads(previous)
