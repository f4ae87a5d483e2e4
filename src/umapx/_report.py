"""What a long call tells the user while it runs (INFO records of the 'umapx' logger, tqdm bars), and how
it stops on Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
import time
from contextlib import contextmanager

log = logging.getLogger("umapx")
_interrupt = threading.Event()  # a Ctrl-C that waits for the next checkpoint()


@contextmanager
def logging_to_stderr(verbose):
    """With verbose=True, send the 'umapx' logger's INFO records to stderr for the body."""
    if not verbose:
        yield
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s umapx: %(message)s", "%H:%M:%S"))
    previous = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)


@contextmanager
def stage(name, detail=None):
    """Log the start of a stage and its time when it ends; the end's record carries ``stage`` (the
    name) and ``seconds`` as attributes for handlers that collect stage times. A Ctrl-C within it
    stops the call at the next ``checkpoint()`` (``_deferred_interrupts``)."""
    label = name if detail is None else f"{name} ({detail})"
    start = time.perf_counter()
    log.info("%s ...", label)
    with _deferred_interrupts():
        yield
    seconds = time.perf_counter() - start
    log.info("%s done in %.2f s", label, seconds, extra={"stage": name, "seconds": seconds})


@contextmanager
def progress(verbose, tqdm_kwds, total, unit, desc):
    """A tqdm bar of ``total`` units while verbose (None otherwise)."""
    if not verbose:
        yield None
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, **{"desc": desc, "unit": unit, **(tqdm_kwds or {})}) as bar:
        yield bar


@contextmanager
def _deferred_interrupts():
    """Within ``with``, Ctrl-C raises KeyboardInterrupt at the next ``checkpoint()`` or at the end, not
    wherever the main thread is: numba runs llvmlite's finalisers while it loads kernels, and Python
    prints and drops an exception raised in a finaliser (the fit went on). A second Ctrl-C before a
    checkpoint raises at once. Only Python's own handler, in the main thread, is replaced (and restored)."""
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    signal.signal(signal.SIGINT, _defer)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        pending = _interrupt.is_set()
        _interrupt.clear()
    if pending:
        raise KeyboardInterrupt


def _defer(signum, frame):
    if _interrupt.is_set():
        raise KeyboardInterrupt
    _interrupt.set()


def checkpoint():
    """Raise, in the main thread, the KeyboardInterrupt of a Ctrl-C pressed during a stage (see
    ``_deferred_interrupts``)."""
    if _interrupt.is_set() and threading.current_thread() is threading.main_thread():
        _interrupt.clear()
        raise KeyboardInterrupt
