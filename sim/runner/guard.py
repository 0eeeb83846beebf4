"""Signals as exceptions around a run.

:func:`interrupts_as_exceptions` turns SIGINT and SIGTERM into
:class:`RunInterrupted`, so a run stopped from outside unwinds through the code
that marks its folder incomplete. (The memory guard checked before a run
allocates is :mod:`sim.results.memory`.)
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


# ----------------------------------------------------------------------- signals
class RunInterrupted(BaseException):
    """SIGINT or SIGTERM arrived during a run (a BaseException, like KeyboardInterrupt)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum


@contextlib.contextmanager
def interrupts_as_exceptions(signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Within the block, the first SIGINT/SIGTERM raises :class:`RunInterrupted`.

    Later signals are ignored until the block exits, so clean-up code is not cut
    short. Outside the main thread (where handlers cannot be set) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = False

    def handler(signum, frame):
        nonlocal raised
        if raised:
            return
        raised = True
        raise RunInterrupted(signum)

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
