"""Progress: a bar over the steps of an interactive run, one line per finished job of a sweep.

:func:`step_bar` shows a tqdm bar on stderr when stdout is a terminal (and
``progress`` is not switched off); otherwise it is silent. :class:`SweepMonitor`
watches a sweep's job folders from the driver (so it works with every launcher:
joblib, Ray, submitit) and prints one line each time jobs finish: done / total,
failures, elapsed time and an estimate of the time left.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from ..results.runfolder import INCOMPLETE, RESULT


def interactive() -> bool:
    """True when stdout is a terminal."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def step_bar(total: int, enabled: bool = True, desc: str = "steps"):
    """A tqdm progress bar over ``total`` steps, or ``None`` when not interactive or disabled."""
    if not (enabled and interactive()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", file=sys.stderr, leave=False, dynamic_ncols=True)


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def job_finished(folder: Path) -> str | None:
    """``"done"``, ``"failed"`` (the job recorded why it stopped) or ``None`` (not finished)."""
    if (folder / RESULT).exists():
        return "done"
    marker = folder / INCOMPLETE
    try:
        with marker.open() as fh:
            head = fh.read(26)
    except OSError:
        return None
    return "failed" if head.startswith("This run did not finish") else None


class SweepMonitor:
    """Watch job folders in a background thread; print a line whenever jobs finish.

    The estimate of the time left leaves out the start-up (worker processes starting,
    imports, the first load of the compiled kernels): it counts from the moment the
    first job folder appears, and is printed once as many jobs have finished as were
    seen running at once (a full round of the workers), at the rate since then.

    Parameters
    ----------
    folders : the folders of the jobs being run now
    total : jobs in the whole sweep; ``done_before`` of them finished in an earlier launch
    clock : seconds, monotonic (a test hands in its own)
    on_done : called with the folder of each job seen finished (the sweep's driver reads its
        ``run.nc`` ahead of the merge: :class:`sim.results.merge.RunReader`)
    """

    def __init__(self, folders: Iterable[Path], total: int, done_before: int = 0,
                 stream: TextIO | None = None, enabled: bool = True, interval: float = 0.25,
                 clock=time.monotonic, on_done: Callable[[Path], object] | None = None):
        self.pending = list(folders)
        self.total, self.done_before = total, done_before
        self.done = self.failed = 0
        self.stream = stream or sys.stdout
        self.enabled, self.interval = enabled, interval
        self.clock = clock
        self.start = clock()
        self.first_start: float | None = None  # when the first job folder appeared
        self.running_max = 0  # the most jobs seen running at once
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sweep-monitor", daemon=True)
        self._printed = (-1, -1)
        self.on_done = on_done

    def __enter__(self) -> SweepMonitor:
        self.start = self.clock()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.poll()

    def poll(self) -> None:
        still = []
        running = 0
        for folder in self.pending:
            state = job_finished(folder)
            if state == "done":
                self.done += 1
                if self.on_done is not None:
                    self.on_done(folder)
            elif state == "failed":
                self.failed += 1
            else:
                still.append(folder)
                running += folder.exists()
            if state is not None or folder.exists():
                self.first_start = self.first_start if self.first_start is not None else self.clock()
        self.running_max = max(self.running_max, running)
        self.pending = still
        if (self.done, self.failed) != self._printed:
            self._printed = (self.done, self.failed)
            if self.enabled and self.done + self.failed:
                self.stream.write(self.line() + "\n")
                self.stream.flush()

    def time_left(self) -> float | None:
        """Seconds left at the rate since the first job started, once a full round of jobs has finished."""
        finished = self.done + self.failed
        if not finished or not self.pending or self.first_start is None or finished < max(1, self.running_max):
            return None
        return (self.clock() - self.first_start) / finished * len(self.pending)

    def line(self) -> str:
        elapsed = self.clock() - self.start
        left = self.time_left()
        eta = f", about {_clock(left)} left" if left is not None else ""
        failed = f", {self.failed} failed" if self.failed else ""
        return (f"sweep: {self.done_before + self.done}/{self.total} done{failed}, "
                f"{_clock(elapsed)} elapsed{eta}")

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()
