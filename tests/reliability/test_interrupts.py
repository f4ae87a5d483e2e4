"""Ctrl-C stops a fit, wherever in the stage it lands, and leaves Python's own handler in place."""

import signal

import pytest
from sklearn.datasets import load_digits

from umapx import UMAP
from umapx._report import checkpoint, stage


class _PressesCtrlC:
    """An object whose finaliser receives a Ctrl-C, as llvmlite's do while numba loads a kernel:
    Python prints and drops a KeyboardInterrupt raised there."""

    def __del__(self):
        signal.raise_signal(signal.SIGINT)


@pytest.fixture(autouse=True)
def _python_handler():
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    yield
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_ctrl_c_in_a_finaliser_stops_the_stage_at_its_end():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with stage("work"):
            _PressesCtrlC()
            done.append("rest of the stage")
    assert done == ["rest of the stage"]


def test_a_checkpoint_raises_it_and_a_second_ctrl_c_raises_at_once():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with stage("work"):
            signal.raise_signal(signal.SIGINT)
            done.append("before the checkpoint")
            checkpoint()
            done.append("after it")
    with pytest.raises(KeyboardInterrupt):
        with stage("work"):
            signal.raise_signal(signal.SIGINT)
            done.append("between two presses")
            signal.raise_signal(signal.SIGINT)
            done.append("after the second")
    assert done == ["before the checkpoint", "between two presses"]


def test_an_error_in_the_stage_wins_and_leaves_no_interrupt_behind():
    with pytest.raises(ValueError, match="bad"):
        with stage("work"):
            signal.raise_signal(signal.SIGINT)
            raise ValueError("bad")
    checkpoint()  # nothing pending: a later call is not interrupted


def test_a_handler_of_the_user_is_left_alone():
    pressed = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        with stage("work"):
            signal.raise_signal(signal.SIGINT)
            checkpoint()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert pressed == [signal.SIGINT]


def test_ctrl_c_during_the_layout_stops_it_after_that_epoch_and_fits_nothing():
    seen = []

    def press_at_3(epoch, embedding, record):
        seen.append(epoch)
        if epoch == 3:
            signal.raise_signal(signal.SIGINT)

    model = UMAP(n_epochs=50, callbacks=[press_at_3], random_state=0)
    with pytest.raises(KeyboardInterrupt):
        model.fit(load_digits().data[:300])
    assert seen == [1, 2, 3]
    assert not hasattr(model, "embedding_")
