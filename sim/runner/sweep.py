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
   ``ray``, ``slurm``, ``submitit_local``), each job in its own folder
   ``<sweep_dir>/<job>``, with one Numba thread per job for local launchers;
   a failing job records why in its folder and never stops the others;
6. one line per finished job (done / total, failures, elapsed, time left);
7. the job folders are merged from disk into ``sweep.nc`` (:mod:`sim.results.merge`).
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from ..results.merge import MERGED_NC, MERGED_ZARR, collect
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
from ..settings.schema import ConfigError
from .job import ENV_DRIVER_PID, ENV_PLOTS, ENV_PROGRESS, ENV_SWEEP_JOB, ENV_THREADS
from .launchers import LOCAL_LAUNCHERS, check_launcher, launcher_name


@dataclass
class SweepResult:
    """What :func:`launch` did: the merged Dataset (None if nothing finished) and every job's state."""

    sweep_dir: Path
    dataset: xr.Dataset | None
    states: list[JobState] = field(default_factory=list)
    launched: int = 0
    launcher_error: str = ""
    merged_path: Path | None = None
    #: seconds spent by the driver: check, warm_up, jobs (launch to last job), merge
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[JobState]:
        return [s for s in self.states if not s.done]


def _interpolations_in_conf() -> bool:
    """True if any model config file (``conf/``, ``scenarios/``) uses ``${...}`` interpolation."""
    from ..settings.compose import CONF_DIR

    for path in CONF_DIR.rglob("*.yaml"):
        rel = path.relative_to(CONF_DIR).parts
        if rel[0] == "hydra" or rel == ("config.yaml",):
            continue
        if "${" in path.read_text():
            return True
    return False


def _plain_value_overrides(job: Sequence[str]) -> tuple[tuple[str, ...], dict[str, object]] | None:
    """Split a job into its structural overrides and plain ``field=value`` overrides (parsed as Hydra does).

    Plain: an existing leaf field of the schema set to a value (no ``+``/``~``, no group choice,
    no sweep syntax). ``None`` if the job cannot be parsed.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from ..settings.compose import _lookup, config_groups

    try:
        parsed = OverridesParser.create().parse_overrides(list(job))
    except Exception:
        return None
    groups = config_groups()
    structural, plain = [], {}
    for text, o in zip(job, parsed, strict=True):
        key = o.key_or_group
        if (o.is_hydra_override() or o.package is not None or o.is_sweep_override() or o.is_add()
                or o.is_delete() or o.is_force_add() or key in groups or _lookup(key).kind != "field"):
            structural.append(text)
        else:
            plain[key] = o.value()
    return tuple(structural), plain


def _set_plain(cfg, key: str, value: object) -> bool:
    """Set the leaf field ``key`` of the dataclass ``cfg`` to ``value`` if its type is exactly the
    field's (an int for a float field becomes a float, as OmegaConf makes it); False otherwise."""
    import dataclasses
    import typing

    obj = cfg
    parts = key.split(".")
    for part in parts[:-1]:
        if isinstance(obj, dict):
            if part not in obj:
                return False
            obj = obj[part]
        elif dataclasses.is_dataclass(obj) and hasattr(obj, part):
            obj = getattr(obj, part)
        else:
            return False
    name = parts[-1]
    if not dataclasses.is_dataclass(obj) or name not in {f.name for f in dataclasses.fields(obj)}:
        return False
    tp = typing.get_type_hints(type(obj))[name]
    if tp is bool and isinstance(value, bool):
        pass
    elif tp is int and isinstance(value, int) and not isinstance(value, bool):
        pass
    elif tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)
    elif tp is str and isinstance(value, str):
        pass
    else:
        return False
    setattr(obj, name, value)
    return True


def compose_many(jobs: Sequence[Sequence[str]], first_dirs: bool = False) -> list:
    """Compose and validate many jobs quickly: the same result as :func:`sim.settings.compose.compose_jobs`.

    Hydra composes one job per distinct structure (group choices, added or deleted
    keys, and the set of plain keys set); the jobs that differ from it only in the
    values of plain fields (a seed, a price...) get those values applied to a copy
    of its config exactly as Hydra applies an override (``OmegaConf.update``), then
    the same validation. Without this, checking a sweep cost a full Hydra
    composition (about 80 ms) per job. With ``${...}`` interpolations in the config
    files (a changed value could move another), every job is composed by Hydra.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from ..settings.compose import Composed, compose_jobs, explain, from_dictconfig, job_label
    from ..settings.schema import validate

    jobs = [list(j) for j in jobs]
    if len(jobs) <= 1 or _interpolations_in_conf():
        return compose_jobs(jobs, dirs=first_dirs)
    split = [_plain_value_overrides(j) for j in jobs]
    if any(s is None for s in split):
        return compose_jobs(jobs, dirs=first_dirs)
    reps: dict[tuple, int] = {}
    for k, (structural, plain) in enumerate(split):
        reps.setdefault((structural, tuple(plain)), k)
    rep_jobs = sorted(set(reps.values()))
    try:
        composed_reps = compose_jobs([jobs[k] for k in rep_jobs], dirs=first_dirs)
    except ConfigError as exc:
        if len(rep_jobs) == 1 and len(jobs) > 1:  # name the job, as compose_jobs does for several
            raise ConfigError(f"job {rep_jobs[0]} ({job_label(jobs[rep_jobs[0]])}): {exc}") from None
        msg = str(exc)
        if msg.startswith("job "):  # renumber: job i of the representatives is job rep_jobs[i] of the sweep
            i, rest = msg[4:].split(" ", 1)
            raise ConfigError(f"job {rep_jobs[int(i)]} {rest}") from None
        raise
    by_job = dict(zip(rep_jobs, composed_reps, strict=True))
    out = []
    for k, (structural, plain) in enumerate(split):
        rep = reps[(structural, tuple(plain))]
        if k == rep:
            out.append(by_job[k])
            continue
        base = by_job[rep]
        fast = copy.deepcopy(base.config)
        if all(_set_plain(fast, key, value) for key, value in plain.items()):
            try:
                cfg = validate(fast)
            except ConfigError as exc:
                raise ConfigError(f"job {k} ({job_label(jobs[k])}): {exc}") from None
            out.append(Composed(cfg, jobs[k], base.run_dir, base.sweep_dir))
            continue
        try:  # a value of another type: OmegaConf converts it or says what is wrong, as in Hydra
            node = OmegaConf.structured(base.config)
            for key, value in plain.items():
                OmegaConf.update(node, key, value, merge=True)
            cfg = from_dictconfig(node, base.config.scenario)
        except OmegaConfBaseException as exc:
            raise ConfigError(f"job {k} ({job_label(jobs[k])}): {explain(exc, jobs[k])}") from None
        except ConfigError as exc:
            raise ConfigError(f"job {k} ({job_label(jobs[k])}): {exc}") from None
        out.append(Composed(cfg, jobs[k], base.run_dir, base.sweep_dir))
    return out


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


def warm_up(cfg) -> float:
    """Compile (or load from Numba's cache) the kernels a run of ``cfg`` uses, with a tiny run.

    Workers started afterwards load the cache instead of compiling each. Returns seconds.
    """
    from ..model import CustomerModel

    t0 = time.perf_counter()
    small = copy.deepcopy(cfg)
    small.customers.n = min(small.customers.n, 256)
    CustomerModel(small).run()
    return time.perf_counter() - t0


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


def _hydra_launch(jobs: list[tuple[int, list[str]]], sweep_dir: Path, hydra_overrides: list[str],
                  env_set: dict[str, str]) -> None:
    """Run ``(job number, overrides)`` pairs through the Hydra launcher chosen in ``hydra_overrides``."""
    from hydra._internal.callbacks import Callbacks
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.plugins import Plugins
    from hydra.core.utils import setup_globals
    from hydra.types import HydraContext, RunMode

    from ..settings.compose import CONF_DIR, SCHEMA_MATCH_WARNING
    from .job import job_main, quote_path

    GlobalHydra.instance().clear()
    setup_globals()
    try:
        with warnings.catch_warnings():
            # conf/hydra/launcher/ray.yaml extends the plugin's schema of the same name on purpose
            warnings.filterwarnings("ignore", message=SCHEMA_MATCH_WARNING)
            hydra = Hydra.create_main_hydra2(task_name="sim",
                                             config_search_path=create_config_search_path(f"file://{CONF_DIR}"))
            # hydra.output_subdir=null: no .hydra/ per job (three YAML dumps of the whole config each);
            # design.yaml holds every job's overrides and each run.nc its resolved config
            overrides = [*hydra_overrides, f"hydra.sweep.dir={quote_path(str(sweep_dir))}", "hydra/hydra_logging=none",
                         "hydra.output_subdir=null", *[f"++hydra.job.env_set.{k}={v}" for k, v in env_set.items()]]
            cfg = hydra.compose_config("config", overrides=overrides, with_log_configuration=True,
                                       run_mode=RunMode.MULTIRUN)
            HydraConfig.instance().set_config(cfg)
            ctx = HydraContext(config_loader=hydra.config_loader, callbacks=Callbacks(cfg))
            launcher = Plugins.instance().instantiate_launcher(hydra_context=ctx, task_function=job_main, config=cfg)
            launcher.launch([[*ov, f"hydra.sweep.subdir={k}"] for k, ov in jobs], initial_job_idx=0)
    finally:
        GlobalHydra.instance().clear()


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
    if todo:
        threads = "1" if name in LOCAL_LAUNCHERS else None
        env_set = {ENV_SWEEP_JOB: "1", ENV_PLOTS: str(bool(plots)).lower(), ENV_PROGRESS: "false"}
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
                             enabled=progress):
            t0 = time.perf_counter()
            try:
                _hydra_launch([(k, jobs[k]) for k in todo], root, hydra_overrides, env_set)
            except Exception as exc:  # a worker died, a cluster refused a job...: merge what finished
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                result.launcher_error = f"{type(exc).__name__}: {first}"
            timings["jobs"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result.states = job_states(root)
    if any(s.done for s in result.states):
        result.dataset = collect(root, fmt=fmt)
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


