"""What a long call tells the user while it runs: INFO records of the 'umapx' logger and tqdm bars."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager

log = logging.getLogger("umapx")


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
    name) and ``seconds`` as attributes for handlers that collect stage times."""
    label = name if detail is None else f"{name} ({detail})"
    start = time.perf_counter()
    log.info("%s ...", label)
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
