"""sim.runner.guard: SIGINT and SIGTERM as RunInterrupted inside the block, ignored while it unwinds."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from sim.runner.guard import RunInterrupted, interrupts_as_exceptions


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_in_the_block_raises_run_interrupted(sig, code):
    with pytest.raises(RunInterrupted) as info, interrupts_as_exceptions():
        os.kill(os.getpid(), sig)
        for _ in range(10**6):  # the handler runs between bytecodes
            pass
    assert info.value.signum == sig and info.value.exit_code == code
    assert str(info.value) == f"interrupted by {signal.Signals(sig).name}"
    assert not isinstance(info.value, Exception)  # a BaseException: `except Exception` does not swallow it


def test_a_second_signal_while_unwinding_is_ignored_and_handlers_are_restored():
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    cleaned = []
    with pytest.raises(RunInterrupted):
        with interrupts_as_exceptions():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10**6):
                    pass
            finally:
                os.kill(os.getpid(), signal.SIGINT)  # during clean-up: not raised
                for _ in range(10**6):
                    pass
                cleaned.append(True)
    assert cleaned == [True]
    assert {s: signal.getsignal(s) for s in before} == before


def test_outside_the_main_thread_it_does_nothing():
    seen = []

    def worker():
        before = signal.getsignal(signal.SIGTERM)
        with interrupts_as_exceptions():
            seen.append(signal.getsignal(signal.SIGTERM) is before)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == [True]
