"""A sweep's worker: one launcher job that runs the sweep's jobs one after another.

:func:`sim.runner.sweep.launch` hands Hydra's launcher (joblib, Ray, submitit) one job
per worker, as many as run at once (:func:`sim.runner.launchers.worker_count`), not one
per run. A worker (:func:`worker_main`) takes the jobs of the sweep's design table in
order: it skips a job whose folder holds ``run.nc`` or an ``INCOMPLETE`` marker
(finished, running in another worker, or failed), composes the next one
(:class:`~sim.settings.jobs.JobComposer`: Hydra once per structure, a copy for the
others), claims its folder (the marker, created exclusively: of two workers that reach
the same job, one runs it) and runs it (:func:`sim.runner.job.execute`), until no job is
left. The folders, their files and the results are those of a launcher job per run; what
a launcher job costs besides the run (Hydra composing the whole config with its own part,
copying it, setting up the logging, pickling it to the worker process: about 0.3 s per job
at 10,000 customers, twice the run, ``benchmarks/sweep_results.md``) is paid once per
worker instead of once per run, and a worker that finishes early takes the jobs that
are left.

A job that fails is recorded in its folder (``INCOMPLETE``, with the traceback) and the
worker goes on; SIGINT or SIGTERM stops the job in hand (its marker says so) and the
worker; a job the worker never reached stays without a folder, and a resume runs it.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from ..model import CustomerModel
from ..results.runfolder import INCOMPLETE, RESULT, RunFolderTaken, claim_folder, mark_incomplete
from ..results.sweepfolder import read_design
from ..settings.jobs import JobComposer
from ..settings.schema import ConfigError
from .guard import RunInterrupted, interrupts_as_exceptions
from .job import (
    ENV_PLOTS,
    ENV_THREADS,
    _env_flag,
    _set_up_logging,
    _watch_driver,
    claim_note,
    execute,
    interrupted_exit,
)

#: The format of a job's log lines: Hydra's default job logging (``hydra/job_logging/default.yaml``).
LOG_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"


@contextlib.contextmanager
def worker_logging(verbose) -> Iterator[None]:
    """The logging of a worker, as Hydra's default job logging sets it up for a launcher job: the root
    logger at INFO (DEBUG with ``hydra.verbose=true``), a console handler on stdout; then
    :func:`sim.runner.job._set_up_logging` (warnings only on the console, other libraries quiet)."""
    root = logging.getLogger()
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(logging.Formatter(LOG_FORMAT))
    level = root.level
    root.setLevel(logging.DEBUG if verbose is True else logging.INFO)
    root.addHandler(console)
    if isinstance(verbose, str) or (verbose and not isinstance(verbose, bool)):
        for name in [verbose] if isinstance(verbose, str) else list(verbose):
            logging.getLogger(name).setLevel(logging.DEBUG)
    _set_up_logging(verbose)
    try:
        yield
    finally:
        root.removeHandler(console)
        root.setLevel(level)


@contextlib.contextmanager
def job_log(path: Path) -> Iterator[None]:
    """Log to ``path`` (the job's ``sim.log``, appended to as Hydra's file handler does) within the block."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()


def warm_up(cfg, write: bool = False) -> float:
    """Compile (or load from Numba's cache) the kernels a run of ``cfg`` uses, with a tiny run.

    Workers started afterwards load the cache instead of compiling each. A worker warms up
    before its first job, with ``write`` (the run's Dataset and file made in memory too), so
    that the first job's logged times are those of a warm process, as the others'. Returns seconds.
    """
    t0 = time.perf_counter()
    small = copy.deepcopy(cfg)
    small.customers.n = min(small.customers.n, 256)
    quiet = logging.getLogger("sim").disabled
    logging.getLogger("sim").disabled = True  # its warnings (a firm entering after the horizon) are the job's
    try:
        model = CustomerModel(small)
        model.run()
        if write:  # the Dataset and the file's bytes (in memory), as a job makes them
            from ..api import dataset
            from ..results.runfolder import netcdf_bytes

            netcdf_bytes(dataset(model))
    finally:
        logging.getLogger("sim").disabled = quiet
    return time.perf_counter() - t0


def _threads() -> None:
    threads = os.environ.get(ENV_THREADS, "").strip()
    if threads:
        import numba

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))


def run_jobs_of(root: Path, jobs: list[list[str]], *, plots: bool = False, log_name: str = "sim") -> int:
    """Run the jobs of the sweep folder ``root`` (``jobs``: the design table's override lists) that no
    one has claimed, one after another; return 0, or 1 if a job failed.

    Raises :class:`~sim.runner.guard.RunInterrupted` (SIGINT / SIGTERM; the job in hand records
    it) and ``KeyboardInterrupt``.
    """
    composer = JobComposer()
    status = 0
    warm = False
    for k, overrides in enumerate(jobs):
        folder = root / str(k)
        if (folder / RESULT).exists() or (folder / INCOMPLETE).exists():
            continue  # finished, being run by another worker, or failed
        try:
            cfg = composer.compose(overrides)
        except ConfigError as exc:  # checked by the driver; a config file changed since?
            with contextlib.suppress(RunFolderTaken, OSError):
                claim_folder(folder, f"pid {os.getpid()}, host {socket.gethostname()}, config check\n")
                mark_incomplete(folder, f"failed with ConfigError: {exc}")
                status = 1
            continue
        if not warm:  # the first job's logged set-up and run are then those of a warm process, as the others'
            with contextlib.suppress(Exception):  # only a speed-up: the job itself fails and records why
                warm_up(cfg, write=True)
            warm = True
        try:
            claim_folder(folder, claim_note(cfg))
        except RunFolderTaken:  # another worker claimed it a moment earlier
            continue
        except OSError:  # the folder cannot be made (a full disk...): the job stays not started
            status = 1
            continue
        with job_log(folder / f"{log_name}.log"):
            try:
                execute(cfg, folder, plots=plots, quiet=True, progress=False, claimed=True)
            except (RunInterrupted, KeyboardInterrupt):
                raise
            except Exception:  # recorded in INCOMPLETE by execute(); the other jobs go on
                status = 1
    return status


def worker_main(cfg: DictConfig) -> int:
    """The task function of a sweep's launcher jobs: run the sweep's unclaimed jobs (:func:`run_jobs_of`).

    Its own config (the launcher job's) says only where the sweep is (``hydra.sweep.dir``);
    the jobs come from the sweep's design table. Never raises: returns 0, 1 (a job failed),
    or 130 / 143 (stopped by SIGINT / SIGTERM).
    """
    hc = HydraConfig.get()
    root = Path(str(hc.sweep.dir)).absolute()
    design = read_design(root)
    if design is None:
        print(f"error: {root}: no design table: not a sweep folder written by this tool", file=sys.stderr)
        return 2
    jobs = [list(j["overrides"]) for j in design["jobs"]]
    _threads()
    _watch_driver()
    with worker_logging(hc.verbose), interrupts_as_exceptions():
        try:
            return run_jobs_of(root, jobs, plots=_env_flag(ENV_PLOTS, False), log_name=str(hc.job.name))
        except RunInterrupted as exc:
            return interrupted_exit(exc)
        except KeyboardInterrupt:
            return 130
