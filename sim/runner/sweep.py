"""Sweeps: run many jobs through a Hydra launcher, keep failures, resume, merge into one Dataset.

``python -m sim -m ...`` (the basic sweeper's grid) and :func:`run_jobs` (any list
of override lists, e.g. a sampled design) go through the same path,
:func:`launch`:

1. every job is composed and checked before anything runs (exit 2 / ConfigError);
2. the design table (``design.yaml``: job number -> overrides, the launcher
   options) is written into the sweep folder;
3. on ``resume``, only jobs without ``run.nc`` are launched; a killed job's
   marker is kept as ``INCOMPLETE.<k>``;
4. the driver compiles (or loads from Numba's on-disk cache) the kernels once
   with a tiny run, so that workers load the cache instead of compiling;
5. the jobs go to Hydra's launcher (``joblib`` on all local cores by default, or
   ``ray``, ``slurm``, ``submitit_local``) as one launcher job per worker
   (:mod:`sim.runner.worker`), each taking the jobs no one has taken, each job in
   its own folder ``<sweep_dir>/<job>``, with one Numba thread per job for local
   launchers; a failing job records why in its folder and never stops the others;
6. one line per finished job (done / total, failures, elapsed, time left); the
   driver reads each finished job's ``run.nc`` meanwhile (:class:`~sim.results.merge.RunReader`);
7. the job folders are merged from disk into ``sweep.nc`` (:mod:`sim.results.merge`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from ..results.merge import MERGED_NC, MERGED_ZARR, RunReader, collect
from ..results.runfolder import RESULT, RunFolderTaken
from ..results.sweepfolder import (
    DESIGN,
    JobState,
    job_states,
    read_design,
    reset_unfinished,
    running_elsewhere,
    write_design,
)
from ..settings.jobs import compose_many
from ..settings.schema import ConfigError
from .job import ENV_DRIVER_PID, ENV_PLOTS, ENV_THREADS
from .launchers import LOCAL_LAUNCHERS, check_launcher, launcher_name, worker_count
from .worker import warm_up


@dataclass
class SweepResult:
    """What :func:`launch` did: the merged Dataset (None if nothing finished) and every job's state."""

    sweep_dir: Path
    dataset: xr.Dataset | None
    states: list[JobState] = field(default_factory=list)
    launched: int = 0
    #: launcher jobs that ran the jobs (sim.runner.worker): as many as ran at once
    workers: int = 0
    launcher_error: str = ""
    merged_path: Path | None = None
    #: seconds spent by the driver: check, warm_up, jobs (launch to last job), merge
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[JobState]:
        return [s for s in self.states if not s.done]


def check_jobs(jobs: Sequence[Sequence[str]]) -> list:
    """Compose and validate every job and check its memory estimate; raise ConfigError (one line)."""
    from ..results.memory import check_memory
    from ..settings.compose import job_label

    composed = compose_many([list(j) for j in jobs])
    for k, job in enumerate(composed):
        try:
            check_memory(job.config)
        except ConfigError as exc:
            label = f"job {k} ({job_label(job.overrides)}): " if len(composed) > 1 else ""
            raise ConfigError(f"{label}{exc}") from None
    return composed


@contextlib.contextmanager
def _env(**values: str | None) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is not None:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _hydra_launch(root: Path, n_jobs: int, name: str, hydra_overrides: list[str], env_set: dict[str, str]) -> int:
    """Run the sweep in ``root`` (its design table written, ``n_jobs`` jobs to run) through the Hydra
    launcher chosen in ``hydra_overrides``: one launcher job per worker (:mod:`sim.runner.worker`), as
    many as run at once (:func:`~sim.runner.launchers.worker_count`). Returns the number of workers."""
    from hydra._internal.callbacks import Callbacks
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.plugins import Plugins
    from hydra.core.utils import setup_globals
    from hydra.types import HydraContext, RunMode

    from ..settings.compose import CONF_DIR, SCHEMA_MATCH_WARNING
    from .job import quote_path
    from .worker import worker_main

    GlobalHydra.instance().clear()
    setup_globals()
    try:
        with warnings.catch_warnings():
            # conf/hydra/launcher/ray.yaml extends the plugin's schema of the same name on purpose
            warnings.filterwarnings("ignore", message=SCHEMA_MATCH_WARNING)
            hydra = Hydra.create_main_hydra2(task_name="sim",
                                             config_search_path=create_config_search_path(f"file://{CONF_DIR}"))
            # hydra.output_subdir=null: no .hydra/ (three YAML dumps of the whole config); the workers run in
            # the sweep folder itself (subdir .) and log each job to its own folder's sim.log, so Hydra sets up
            # no job logging (hydra/job_logging=none) and writes nothing; design.yaml holds every job's
            # overrides and each run.nc its resolved config
            own = [o for o in hydra_overrides if not o.lstrip("+~").startswith("hydra/job_logging")]
            overrides = [*own, f"hydra.sweep.dir={quote_path(str(root))}", "hydra/hydra_logging=none",
                         "hydra/job_logging=none", "hydra.output_subdir=null",
                         *[f"++hydra.job.env_set.{k}={v}" for k, v in env_set.items()]]
            cfg = hydra.compose_config("config", overrides=overrides, with_log_configuration=True,
                                       run_mode=RunMode.MULTIRUN)
            HydraConfig.instance().set_config(cfg)
            workers = worker_count(name, cfg.hydra.launcher, n_jobs)
            ctx = HydraContext(config_loader=hydra.config_loader, callbacks=Callbacks(cfg))
            launcher = Plugins.instance().instantiate_launcher(hydra_context=ctx, task_function=worker_main,
                                                               config=cfg)
            launcher.launch([["hydra.sweep.subdir=."] for _ in range(workers)], initial_job_idx=0)
    finally:
        GlobalHydra.instance().clear()
    return workers


def stop_idle_workers() -> None:
    """Stop joblib's worker processes (its reusable loky executor), idle once a sweep is over.

    For the command line, which exits next: at exit the interpreter would wait for each worker
    to finalise its interpreter (seconds at the end of every sweep, doing nothing). Killing them
    loses nothing: every job has finished and recorded itself in its folder. In a Python session
    the workers are kept for the next sweep (they have imported everything already).
    """
    reusable = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(reusable, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def launch(jobs: Sequence[Sequence[str]], sweep_dir: str | os.PathLike, *, hydra_overrides: Sequence[str] = (),
           plots: bool = False, progress: bool = True, resume: bool = False, fmt: str = "auto",
           composed: list | None = None, warm: bool = True, stream=None) -> SweepResult:
    """Run ``jobs`` (override lists) as a sweep into ``sweep_dir`` and merge them.

    See the module docstring for the steps. Raises :class:`ConfigError` (one line)
    before any work for a bad job, a used folder (without ``resume``), a design
    that differs from the folder's (with ``resume``), or a job still running.
    """
    from .progress import SweepMonitor

    stream = stream or sys.stdout
    jobs = [list(j) for j in jobs]
    if not jobs:
        raise ConfigError("jobs: the design is empty; give at least one override list")
    root = Path(sweep_dir).resolve()
    hydra_overrides = [o for o in hydra_overrides if not o.startswith("hydra.sweep.dir=")]
    name = launcher_name(hydra_overrides)
    check_launcher(name)
    if not any(o.lstrip("+~").startswith("hydra/launcher=") for o in hydra_overrides):
        hydra_overrides = ["hydra/launcher=joblib", *hydra_overrides]
    design = read_design(root)
    if resume:
        if design is None:
            raise ConfigError(f"resume: {root} holds no {DESIGN}: not a sweep folder written by this tool")
        if [j["overrides"] for j in design["jobs"]] != jobs:
            raise ConfigError(f"resume: the jobs differ from the design in {root / DESIGN}: resume the same "
                              f"sweep (same overrides) or use python -m sim.collect --resume {root}")
    elif root.exists() and any(root.iterdir()):
        raise ConfigError(f"hydra.sweep.dir = {str(root)!r} already holds files (an earlier sweep?): results are "
                          f"never overwritten; choose another folder, or add resume=true to finish that sweep")
    t0 = time.perf_counter()
    timings = {}
    if composed is None:
        composed = check_jobs(jobs)
    timings["check"] = time.perf_counter() - t0
    todo = [k for k in range(len(jobs)) if not (root / str(k) / RESULT).exists()]
    for k in todo:
        folder = root / str(k)
        busy = running_elsewhere(folder)
        if busy:
            raise ConfigError(f"resume: job {k} is still running ({busy}): wait for it or stop it first")
    for k in todo:
        reset_unfinished(root / str(k))
    if not resume or design is None:
        try:  # the claim of the folder: two sweeps into one folder, started together, cannot both get it
            write_design(root, jobs, hydra_overrides, {"plots": plots}, exclusive=not resume)
        except RunFolderTaken:
            raise ConfigError(f"hydra.sweep.dir = {str(root)!r} was just taken by another sweep: results are never "
                              f"overwritten; choose another folder") from None
    result = SweepResult(root, None, launched=len(todo), timings=timings)
    reader = RunReader()  # the job files, read as the jobs finish: the merge reads only the rest
    if todo:
        threads = "1" if name in LOCAL_LAUNCHERS else None
        env_set = {ENV_PLOTS: str(bool(plots)).lower()}
        if threads:
            env_set[ENV_THREADS] = threads
        if name in ("joblib", "submitit_local"):  # workers are children of this process
            env_set[ENV_DRIVER_PID] = str(os.getpid())
        if warm:
            try:
                timings["warm_up"] = warm_up(composed[todo[0]].config)
            except Exception:  # only a speed-up: the job itself fails and records why (e.g. on resume)
                timings["warm_up"] = float("nan")
        if progress:
            stream.write(f"sweep: {len(todo)} of {len(jobs)} jobs to run ({name}) in {root}\n")
            stream.flush()
        # local workers inherit the environment: one Numba thread each, no oversubscription
        with _env(NUMBA_NUM_THREADS=threads, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads), \
                SweepMonitor([root / str(k) for k in todo], len(jobs), len(jobs) - len(todo), stream=stream,
                             enabled=progress, on_done=lambda folder: reader.read_ahead(folder / RESULT)):
            t0 = time.perf_counter()
            try:
                result.workers = _hydra_launch(root, len(todo), name, hydra_overrides, env_set)
            except Exception as exc:  # a worker died, a cluster refused a job...: merge what finished
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                result.launcher_error = f"{type(exc).__name__}: {first}"
            timings["jobs"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result.states = job_states(root)
    if any(s.done for s in result.states):
        result.dataset = collect(root, fmt=fmt, reader=reader)
        result.merged_path = root / (MERGED_NC if (root / MERGED_NC).exists() else MERGED_ZARR)
    timings["merge"] = time.perf_counter() - t0
    return result


def run_jobs(jobs: Sequence[Sequence[str]], sweep_dir: str | os.PathLike, *, launcher: str = "joblib",
             hydra_overrides: Sequence[str] = (), plots: bool = False, progress: bool = False,
             resume: bool = False, fmt: str = "auto") -> xr.Dataset:
    """Run a design (a list of override lists, e.g. SALib or Optuna points) and return the merged Dataset.

    Parameters
    ----------
    jobs : list of list of str
        One override list per job, as on the command line:
        ``[["scenario=baseline", "firms.both.price=1.07", "seed=0"], ...]``.
    sweep_dir : path
        The sweep folder (must be empty or new, unless ``resume``); job ``k`` writes
        ``sweep_dir/k/run.nc``; the merge is ``sweep_dir/sweep.nc``.
    launcher : ``joblib`` (all local cores), ``ray``, ``slurm``, ``submitit_local``
        The Hydra launcher config (``hydra/launcher=NAME``); further Hydra options
        (``hydra.launcher.n_jobs=2``...) in ``hydra_overrides``.
    plots, progress, resume, fmt
        Per-job plots; one line per finished job; run only jobs without ``run.nc``;
        merged file format (``auto``, ``netcdf``, ``zarr``).

    Returns
    -------
    xarray.Dataset
        A grid design has one dimension per factor; any other design has a ``run``
        dimension (one per job, in order) with the factors as coordinates along it.
        Failed jobs are NaN / -1 and listed in ``attrs["failures"]``; check
        ``attrs["jobs_failed"]``. Raises :class:`ConfigError` for bad input and
        ``RuntimeError`` if no job finished.
    """
    overrides = [f"hydra/launcher={launcher}", *hydra_overrides]
    result = launch(jobs, sweep_dir, hydra_overrides=overrides, plots=plots, progress=progress, resume=resume,
                    fmt=fmt)
    if result.dataset is None:
        reasons = "; ".join(f"job {s.job}: {s.status} {s.error}" for s in result.failed[:3])
        raise RuntimeError(f"no job of the sweep finished ({result.launcher_error or reasons})")
    return result.dataset


def resume(sweep_dir: str | os.PathLike, fmt: str = "auto", progress: bool = True) -> SweepResult:
    """Rerun a sweep folder's jobs that have no ``run.nc`` (as recorded in its design), then merge."""
    root = Path(sweep_dir).resolve()
    if root.is_file():
        raise ConfigError(f"resume: {root}: a file, not a sweep folder")
    design = read_design(root)
    if design is None:
        raise ConfigError(f"resume: {root} holds no {DESIGN}: not a sweep folder written by this tool")
    jobs = [j["overrides"] for j in design["jobs"]]
    return launch(jobs, root, hydra_overrides=design.get("hydra_overrides", []),
                  plots=bool(design.get("options", {}).get("plots", False)), progress=progress, resume=True,
                  fmt=fmt)


