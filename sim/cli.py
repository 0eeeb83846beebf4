"""Command line: ``python -m sim [overrides]`` runs a scenario and writes its results.

The only module that runs Hydra's app (``@hydra.main``). :func:`main` checks
everything it can before Hydra starts and before any work or output:

* every job's config (one for a plain run, each job of a ``-m`` sweep, expanded
  as Hydra's basic sweeper would) is composed and validated, the config files it
  draws on are checked to be plain data, and its memory estimate is compared with
  the memory available; the first problem is printed as one line on stderr and
  the exit status is 2;
* the output folder is fixed before Hydra creates it: a default, timestamped
  folder that already exists gets a suffix (``_2``, ``_3``...), an explicit
  ``hydra.run.dir`` / ``hydra.sweep.dir`` that already holds anything is refused
  (exit 2), so an earlier run's results are never overwritten.

A run (:func:`execute`) claims its folder with an ``INCOMPLETE`` marker (and prints
the folder), writes ``config.yaml``, runs, moves ``run.nc`` into place (it is never
replaced) and removes the marker; then it writes the optional artefacts,
``summary.txt`` and the figures: one that fails (a full disk) is named in one warning
line and ``run.nc`` is kept. SIGINT and SIGTERM during a run stop it cleanly: no
``run.nc``, the marker says what happened, exit status 130 / 143. Any other failure
prints one line naming the cause and the folder (exit 1); its traceback is in the
folder's ``INCOMPLETE`` and in the log (``cli.log``), which also records the scenario,
the seed, the folder, the timings of set-up, run and writing, and every warning.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from .config import ConfigError
from .configure import CONF_DIR, compose_jobs, expand_sweep, from_dictconfig, to_yaml
from .guard import RunInterrupted, check_memory, interrupts_as_exceptions
from .model import CustomerModel
from .runfolder import (
    INCOMPLETE,
    RESULT,
    claim_folder,
    finish_folder,
    mark_incomplete,
    publish,
    write_netcdf_tmp,
    write_text_atomic,
)

#: Hydra flags that print something and run nothing: passed through unchecked.
INFO_FLAGS = ("--cfg", "-c", "--info", "-i", "--hydra-help", "--version", "--shell-completion", "-sc",
              "--resolve", "--package", "-p")
#: Hydra flags that would load configs from elsewhere than conf/: refused (the checks would not see them).
FOREIGN_CONFIG_FLAGS = ("--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd",
                        "--experimental-rerun")


#: The configs :func:`prepare` composed and checked, by their override list: a job of this
#: process runs the config it was checked with instead of converting Hydra's composition again.
_PREPARED: dict[tuple[str, ...], object] = {}


def execute(cfg, outdir: Path, plots: bool = True, checked: bool = False) -> Path:
    """Run ``cfg`` (a validated SimConfig) and write its outputs into ``outdir``.

    ``checked``: the memory guard already passed this config (in :func:`prepare`).

    Raises :class:`~sim.output.RunFolderTaken` if ``outdir`` already holds a run.
    Whatever stops the run part-way (an exception, :class:`~sim.guard.RunInterrupted`)
    leaves no ``run.nc`` and an ``INCOMPLETE`` file saying why, then propagates.
    """
    from .api import dataset
    from .summary import summary_table

    if not checked:
        check_memory(cfg)
    outdir = Path(outdir).absolute()
    started = datetime.now().isoformat(timespec="seconds")
    claim_folder(outdir, f"started {started}, pid {os.getpid()}, {cfg.steps} steps\n")
    print(f"run folder: {outdir}", flush=True)
    log.info("scenario %s, seed %d, %d customers, %d steps, folder %s", cfg.scenario, cfg.seed,
             cfg.customers.n, cfg.steps, outdir)
    model = None
    tmp = None
    clock = time.perf_counter()
    try:
        write_text_atomic(to_yaml(cfg), outdir / "config.yaml")
        model = CustomerModel(cfg)
        log.info("set-up (population drawn, burn-in) %.2f s", time.perf_counter() - clock)
        clock = time.perf_counter()
        model.run()
        log.info("run (%d steps) %.2f s", model.steps, time.perf_counter() - clock)
        clock = time.perf_counter()
        ds = dataset(model)
        # the data come first: run.nc is in place before the optional artefacts (summary, figures)
        tmp = write_netcdf_tmp(ds, outdir / RESULT)
        path = publish(tmp, outdir / RESULT, overwrite=False)
        tmp = None
        finish_folder(outdir)
        log.info("writing %s %.2f s", RESULT, time.perf_counter() - clock)
    except BaseException as exc:
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
    text = summary_table(ds)
    artefacts = [("summary.txt", lambda: write_text_atomic(text + "\n", outdir / "summary.txt"))]
    if plots:
        def figures():
            from .plots import plot_run

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
            log.info("writing %s %.2f s", name, time.perf_counter() - clock)
    print(text)
    print(f"\nresults: {outdir}")
    return path


log = logging.getLogger("sim")
#: Libraries whose debug lines stay out of the log unless ``hydra.verbose`` names them.
QUIET_LOGGERS = ("matplotlib", "PIL", "h5py", "h5netcdf", "numba", "fontTools", "asyncio", "MESA", "urllib3")


def _log_to_files(level: int, message: str, exc: BaseException | None = None) -> None:
    """A record (with ``exc``'s traceback) for the log files only, not the terminal."""
    record = log.makeRecord(log.name, level, __file__, 0, message, None,
                            (type(exc), exc, exc.__traceback__) if exc is not None else None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


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


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def hydra_main(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    _set_up_logging(hc.verbose)  # Mesa logs every step at INFO; matplotlib and h5py at DEBUG
    try:
        sim_cfg = _PREPARED.get(tuple(hc.overrides.task))
        checked = sim_cfg is not None
        if sim_cfg is None:  # a job prepare() did not see (another sweeper, another process)
            sim_cfg = from_dictconfig(cfg, hc.runtime.choices.get("scenario"))
        execute(sim_cfg, Path(hc.runtime.output_dir), checked=checked)
    except ConfigError as exc:  # checked already by main(); kept for other entry points
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # one line on the terminal; the traceback in the log and in INCOMPLETE
        folder = getattr(exc, "run_folder", Path(hc.runtime.output_dir).absolute())
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _log_to_files(logging.ERROR, "run failed", exc)
        print(f"error: the run failed with {type(exc).__name__}: {first}; no {RESULT} written in {folder} "
              f"(the traceback is in {folder / INCOMPLETE})", file=sys.stderr)
        sys.exit(1)


# ------------------------------------------------------------------ argv handling
def _flag_name(arg: str) -> str:
    return arg.split("=", 1)[0]


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Hydra flags and overrides."""
    flags = [a for a in argv if a.startswith("-") and not a.startswith("--=")]
    return flags, [a for a in argv if a not in flags]


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _quote(path: str) -> str:
    return path if re.fullmatch(r"[\w/.\-:]+", path) else "'" + path.replace("'", "\\'") + "'"


def _free_folder(path: str) -> str:
    """``path`` itself if it does not exist or is empty, else ``path_2``, ``path_3``..."""
    def taken(p: str) -> bool:
        return Path(p).exists() and any(Path(p).iterdir())

    if not taken(path):
        return path
    k = 2
    while taken(f"{path}_{k}"):
        k += 1
    return f"{path}_{k}"


def _fix_folder(overrides: list[str], key: str, resolved: str) -> list[str]:
    """Pin the output folder: refuse a user's folder that holds anything; suffix a taken default."""
    user = [o for o in overrides if _key(o) == key]
    if user:
        if Path(resolved).exists() and any(Path(resolved).iterdir()):
            raise ConfigError(f"{key} = {resolved!r} already holds files (an earlier run?): results are "
                              f"never overwritten; choose another folder or remove it")
        folder = resolved
    else:
        folder = _free_folder(resolved)
    return [o for o in overrides if _key(o) != key] + [f"{key}={_quote(folder)}"]


def prepare(argv: list[str]) -> list[str]:
    """Check ``argv`` completely; return it with the output folder pinned.

    Raises :class:`ConfigError` (one line) for any bad config, unknown flag combination,
    memory shortfall or taken output folder.
    """
    flags, overrides = _split(argv)
    for f in flags:
        if _flag_name(f) in FOREIGN_CONFIG_FLAGS:
            raise ConfigError(f"{_flag_name(f)} is not supported: put scenario files in scenarios/ and pick "
                              f"one with scenario=NAME")
    multirun = any(_flag_name(f) in ("-m", "--multirun") for f in flags)
    if multirun:
        other_sweeper = any(_key(o).startswith(("hydra/sweeper", "hydra.sweeper")) for o in overrides)
        # another sweeper builds its own jobs: each is then checked when it runs
        jobs = [] if other_sweeper else expand_sweep(overrides)
    else:
        jobs = [overrides]
    composed = compose_jobs(jobs, dirs=True) if jobs else []
    for k, job in enumerate(composed):
        try:
            check_memory(job.config)
        except ConfigError as exc:
            label = f"job {k} ({' '.join(job.overrides)}): " if len(composed) > 1 else ""
            raise ConfigError(f"{label}{exc}") from None
    if not composed:
        return argv
    _PREPARED.update((tuple(job.overrides), job.config) for job in composed)
    if multirun:
        overrides = _fix_folder(overrides, "hydra.sweep.dir", composed[0].sweep_dir)
    else:
        overrides = _fix_folder(overrides, "hydra.run.dir", composed[0].run_dir)
    return flags + overrides


#: Every flag Hydra 1.3's app accepts (with the value it may take).
HYDRA_FLAGS = ("--help", "-h", "--hydra-help", "--version", "--cfg", "-c", "--resolve", "--package", "-p",
               "--run", "-r", "--multirun", "-m", "--shell-completion", "-sc", "--info", "-i",
               *FOREIGN_CONFIG_FLAGS)
#: Flags whose value is the next argument.
_VALUE_FLAGS = ("--cfg", "-c", "--package", "-p", "--info", "-i", "--config-path", "-cp", "--config-name",
                "-cn", "--config-dir", "-cd", "--experimental-rerun")


def version_text() -> str:
    """``customer-sim X (mesa ..., numba ..., hydra-core ..., ...)``."""
    from .output import versions

    v = versions()
    own = v.pop("customer-sim")
    return f"customer-sim {own} (" + ", ".join(f"{k} {ver}" for k, ver in v.items()) + ")"


def check_flags(argv: list[str]) -> None:
    """Refuse an option Hydra does not know (``--seed 3``): overrides are written ``seed=3``."""
    for k, arg in enumerate(argv):
        if not arg.startswith("-") or _flag_name(arg) in HYDRA_FLAGS:
            continue
        if k > 0 and argv[k - 1] in _VALUE_FLAGS:  # the value of --cfg, -p, ...
            continue
        key, sep, value = arg.lstrip("-").partition("=")
        if not sep and k + 1 < len(argv) and not argv[k + 1].startswith("-") and "=" not in argv[k + 1]:
            value, sep = argv[k + 1], "="
        example = f"{key}={value}" if sep and key else "seed=3"
        raise ConfigError(f"{arg}: not an option; overrides are written KEY=VALUE without dashes: {example} "
                          f"(python -m sim --help lists them)")


def _shows_job_config(argv: list[str]) -> bool:
    """``--cfg job`` (no ``--package``, no ``-m``): we print the resolved config that will run."""
    for k, arg in enumerate(argv[:-1]):
        if arg in ("--cfg", "-c") and argv[k + 1] == "job":
            return not any(_flag_name(a) in ("--package", "-p", "-m", "--multirun", "--info", "-i")
                           for a in argv)
    return False


def main(argv: list[str] | None = None) -> None:
    """Entry point: check everything (exit 2 on bad input), then run Hydra's app.

    Exit status: 0 done, 1 a failure during the run, 2 bad input (nothing run or
    written), 130 / 143 interrupted by SIGINT / SIGTERM (no ``run.nc`` written).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("--help", "-h") for a in argv):
        from .helptext import help_text

        print(help_text())
        return
    if "--version" in argv:
        print(version_text())
        return
    try:
        check_flags(argv)
        if _shows_job_config(argv):
            from .configure import compose_config

            print(to_yaml(compose_config([a for a in argv if a not in ("--cfg", "-c", "job", "--resolve")])),
                  end="")
            return
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    try:
        with interrupts_as_exceptions():
            if not any(_flag_name(a) in INFO_FLAGS for a in argv):
                try:
                    argv = prepare(argv)
                except ConfigError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    sys.exit(2)
            sys.argv = [sys.argv[0], *argv]
            hydra_main()
    except (RunInterrupted, KeyboardInterrupt) as exc:
        code = exc.exit_code if isinstance(exc, RunInterrupted) else 130
        name = "SIGTERM" if code == 143 else "SIGINT"
        folder = getattr(exc, "run_folder", None)
        if folder is not None and (Path(folder) / RESULT).exists():
            print(f"error: interrupted by {name} after {RESULT} was written: {Path(folder) / RESULT} is "
                  f"complete; some figures may be missing", file=sys.stderr)
        elif folder is not None:
            print(f"error: interrupted by {name}: no {RESULT} written (see {Path(folder) / INCOMPLETE})",
                  file=sys.stderr)
        else:
            print(f"error: interrupted by {name}: no {RESULT} written (see {INCOMPLETE} in the run folder)",
                  file=sys.stderr)
        sys.exit(code)


if __name__ == "__main__":
    main()
