"""The job function: one run of the model in its folder, as every launcher runs it.

:func:`job_main` is Hydra's task function for a single run (``python -m sim``) and for
each job of a sweep, in whatever process a launcher puts it; :func:`execute` is the
run itself: claim the folder, run, write ``run.nc`` atomically, then the optional
artefacts. A job gets its tool options from the environment (:data:`ENV_PLOTS`,
:data:`ENV_PROGRESS`, :data:`ENV_THREADS`, :data:`ENV_SWEEP_JOB`,
:data:`ENV_DRIVER_PID`), the one set of names the command line and the sweep driver use.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from ..model import CustomerModel
from ..results.runfolder import (
    INCOMPLETE,
    RESULT,
    RunFolderTaken,
    claim_folder,
    finish_folder,
    mark_incomplete,
    publish,
    write_netcdf_tmp,
    write_text_atomic,
)
from ..settings.compose import CONF_DIR, from_dictconfig, to_yaml
from ..settings.schema import ConfigError
from .guard import RunInterrupted, interrupts_as_exceptions

#: Environment variables through which a job (in whatever process a launcher puts it) gets its options.
ENV_PLOTS, ENV_PROGRESS, ENV_THREADS, ENV_SWEEP_JOB = "SIM_PLOTS", "SIM_PROGRESS", "SIM_JOB_THREADS", "SIM_SWEEP_JOB"


#: Set by a local sweep's driver to its pid: a worker whose driver died stops its job (SIGTERM to itself).
ENV_DRIVER_PID = "SIM_DRIVER_PID"


def claim_note(cfg) -> str:
    """What a run folder's ``INCOMPLETE`` marker says while the run is going: when, which process, how long."""
    started = datetime.now().isoformat(timespec="seconds")
    return f"started {started}, pid {os.getpid()}, host {socket.gethostname()}, {cfg.steps} steps\n"


#: Run folders the command line claimed (with their INCOMPLETE marker) before Hydra started: the
#: run in this process finds its folder claimed and does not claim it again.
CLAIMED: set[Path] = set()


def execute(cfg, outdir: Path, plots: bool = True, quiet: bool = False, progress: bool = True,
            claimed: bool = False) -> Path:
    """Run ``cfg`` (a validated SimConfig) and write its outputs into ``outdir``.

    ``quiet`` (sweep jobs) prints nothing and writes only what a sweep needs: ``run.nc``
    (the resolved config is its ``config`` attribute) and the figures if ``plots``, no
    ``config.yaml`` or ``summary.txt``; ``progress`` shows a bar over the steps when
    stdout is a terminal; ``claimed``: the folder and its ``INCOMPLETE`` marker were
    claimed already (:func:`sim.results.runfolder.claim_new_folder`, by the command line).

    Raises :class:`~sim.results.output.RunFolderTaken` if ``outdir`` already holds a run.
    Whatever stops the run part-way (an exception, :class:`~sim.runner.guard.RunInterrupted`)
    leaves no ``run.nc`` and an ``INCOMPLETE`` file saying why, then propagates.
    """
    from ..api import dataset
    from ..results.summary import summary_table
    from .progress import step_bar

    outdir = Path(outdir).absolute()
    started = datetime.now().isoformat(timespec="seconds")
    if not claimed:
        claim_folder(outdir, claim_note(cfg))
    if not quiet:
        print(f"run folder: {outdir}", flush=True)
    log.info("scenario %s, seed %d, %d customers, %d steps, folder %s", cfg.scenario, cfg.seed,
             cfg.customers.n, cfg.steps, outdir)
    model = None
    tmp = None
    bar = None
    try:
        config_yaml = to_yaml(cfg)
        if not quiet:
            write_text_atomic(config_yaml, outdir / "config.yaml")
        # the logged set-up and run are the model's own work (what sim.run costs a warm process
        # besides composing the config and making the Dataset): benchmarks/sweep.py sums them
        clock = time.perf_counter()
        model = CustomerModel(cfg)
        log.info("set-up (population drawn, burn-in) %.3f s", time.perf_counter() - clock)
        clock = time.perf_counter()
        bar = step_bar(cfg.steps, progress and not quiet)
        for _ in range(cfg.steps):
            model.step()
            if bar is not None:
                bar.update()
        if bar is not None:
            bar.close()
            bar = None
        log.info("run (%d steps) %.3f s", model.steps, time.perf_counter() - clock)
        clock = time.perf_counter()
        ds = dataset(model, config_yaml)
        # the data come first: run.nc is in place before the optional artefacts (summary, figures)
        tmp = write_netcdf_tmp(ds, outdir / RESULT)
        path = publish(tmp, outdir / RESULT, overwrite=False)
        tmp = None
        finish_folder(outdir)
        log.info("writing %s %.3f s", RESULT, time.perf_counter() - clock)
    except BaseException as exc:
        if bar is not None:
            bar.close()
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        done = model.recorder.filled if model is not None else 0
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        what = str(exc) if isinstance(exc, RunInterrupted) else f"failed with {type(exc).__name__}: {first}"
        stopped = datetime.now().isoformat(timespec="seconds")
        try:  # on a full disk the marker may not be rewritten: the claim's marker stays
            mark_incomplete(outdir, f"{what} after {done} of {cfg.steps} steps "
                                    f"(started {started}, stopped {stopped}, pid {os.getpid()})")
            if not isinstance(exc, (RunInterrupted, KeyboardInterrupt)):
                with (outdir / INCOMPLETE).open("a") as fh:
                    fh.write("\n" + "".join(traceback.format_exception(exc)))
        except OSError:
            pass
        exc.run_folder = outdir  # main() names the folder
        raise
    text = "" if quiet else summary_table(ds)
    artefacts = [] if quiet else [("summary.txt", lambda: write_text_atomic(text + "\n", outdir / "summary.txt"))]
    if plots:
        def figures():
            from ..plots import plot_run

            plot_run(ds, outdir)

        artefacts.append(("figures", figures))
    for name, write in artefacts:
        clock = time.perf_counter()
        try:
            write()
        except (RunInterrupted, KeyboardInterrupt) as exc:
            exc.run_folder = outdir
            raise
        except Exception as exc:  # run.nc is complete: say which artefact failed, keep going
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            print(f"warning: {name} not written ({type(exc).__name__}: {first}); {RESULT} is complete in "
                  f"{outdir}", file=sys.stderr)
            _log_to_files(logging.WARNING, f"{name} not written", exc)
        else:
            log.info("writing %s %.3f s", name, time.perf_counter() - clock)
    if not quiet:
        print(text)
        print(f"\nresults: {outdir}")
    return path


log = logging.getLogger("sim")


#: Libraries whose debug lines stay out of the log unless ``hydra.verbose`` names them.
QUIET_LOGGERS = ("matplotlib", "PIL", "h5py", "h5netcdf", "numba", "fontTools", "asyncio", "MESA", "urllib3")


def _log_to_files(level: int, message: str, exc: BaseException | None = None) -> None:
    """A record (with ``exc``'s traceback) for the log files only, not the terminal.

    The terminal has its one line already: a log file that cannot take the record (a full
    disk, the usual cause of the failure it records) does not add logging's own traceback
    there (``logging.raiseExceptions`` off meanwhile)."""
    record = log.makeRecord(log.name, level, __file__, 0, message, None,
                            (type(exc), exc, exc.__traceback__) if exc is not None else None)
    raise_exceptions, logging.raiseExceptions = logging.raiseExceptions, False
    try:
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.FileHandler):
                handler.handle(record)
    finally:
        logging.raiseExceptions = raise_exceptions


def _set_up_logging(verbose) -> None:
    """Hydra has configured logging: keep other libraries' debug lines out (unless ``hydra.verbose``
    names them), log sim's INFO lines to the file, and only warnings on the terminal."""
    logging.captureWarnings(True)  # Python warnings (NumPy, Numba...) go to the log, one line each
    named = {verbose} if isinstance(verbose, str) else set(verbose) if not isinstance(verbose, bool) else set()
    for name in QUIET_LOGGERS:
        if name not in named:
            logging.getLogger(name).setLevel(logging.WARNING)
    if not {"sim", "root", "__root__"} & named and verbose is not True:
        log.setLevel(logging.INFO)
    if not verbose:
        for handler in logging.getLogger().handlers:
            if not isinstance(handler, logging.FileHandler):
                handler.setLevel(logging.WARNING)


#: The config main() composed and checked for a single run, by its task overrides: the run uses it
#: instead of converting Hydra's composition again (a config is composed and validated once).
PREPARED: dict[tuple[str, ...], object] = {}


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if value == "" else value in ("1", "true", "yes", "on")


_watching: list[int] = []


def interrupted_exit(exc: RunInterrupted) -> int:
    """The exit status of an interrupted launcher job; a worker whose driver died leaves at once (nobody
    waits for it, and its pool would otherwise keep it)."""
    if _watching and os.getppid() != _watching[0]:
        os._exit(exc.exit_code)
    return exc.exit_code


def _watch_driver() -> None:
    """In a local sweep's worker: if the driver process dies (even by SIGKILL), stop this worker's job
    as a SIGTERM would (``INCOMPLETE`` says so), instead of computing on as an orphan."""
    driver = os.environ.get(ENV_DRIVER_PID, "").strip()
    if not driver.isdigit() or _watching or os.getppid() != int(driver):
        return
    _watching.append(int(driver))
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == int(driver):
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="driver-watch", daemon=True).start()


def job_main(cfg: DictConfig) -> int:
    """The task function of every run: a single run, or one job of a sweep (in a launcher's worker).

    A sweep job never raises: whatever stops it is recorded in its folder
    (``INCOMPLETE``) and its exit status is returned, so the other jobs and the
    merge go on. Options come from the environment (``hydra.job.env_set``):
    ``SIM_PLOTS``, ``SIM_PROGRESS``, ``SIM_JOB_THREADS`` (Numba threads of this job).
    """
    hc = HydraConfig.get()
    _set_up_logging(hc.verbose)  # Mesa logs every step at INFO; matplotlib and h5py at DEBUG
    sweep_job = _env_flag(ENV_SWEEP_JOB, False)
    plots = _env_flag(ENV_PLOTS, not sweep_job)
    progress = _env_flag(ENV_PROGRESS, True)
    threads = os.environ.get(ENV_THREADS, "").strip()
    if threads:
        import numba

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    outdir = Path(hc.runtime.output_dir)
    scenario = hc.runtime.choices.get("scenario")
    _watch_driver()
    if not sweep_job:
        try:
            sim_cfg = PREPARED.get(tuple(hc.overrides.task))
            if sim_cfg is None:
                sim_cfg = from_dictconfig(cfg, scenario)
            execute(sim_cfg, outdir, plots=plots, progress=progress, claimed=outdir.resolve() in CLAIMED)
        except ConfigError as exc:  # checked already by main(); kept for other entry points
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)
        except Exception as exc:  # one line on the terminal; the traceback in the log and in INCOMPLETE
            folder = getattr(exc, "run_folder", outdir.absolute())
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            _log_to_files(logging.ERROR, "run failed", exc)
            print(f"error: the run failed with {type(exc).__name__}: {first}; no {RESULT} written in {folder} "
                  f"(the traceback is in {folder / INCOMPLETE})", file=sys.stderr)
            sys.exit(1)
        return 0
    with interrupts_as_exceptions():
        try:
            try:
                sim_cfg = from_dictconfig(cfg, scenario)
            except ConfigError as exc:  # a sweeper other than the basic one: checked only now
                claim_folder(outdir, f"pid {os.getpid()}, host {socket.gethostname()}, config check\n")
                mark_incomplete(outdir, f"failed with ConfigError: {exc}")
                return 2
            execute(sim_cfg, outdir, plots=plots, quiet=True, progress=False)
        except RunFolderTaken:
            return 2
        except RunInterrupted as exc:
            return interrupted_exit(exc)
        except KeyboardInterrupt:
            return 130
        except Exception:  # recorded in INCOMPLETE by execute()
            return 1
    return 0


hydra_main = hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")(job_main)


def quote_path(path: str) -> str:
    """``path`` as the value of an override: quoted unless it is plain (letters, digits, / . - :)."""
    return path if re.fullmatch(r"[\w/.\-:]+", path) else "'" + path.replace("'", "\\'") + "'"
