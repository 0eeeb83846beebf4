"""Command line: ``python -m sim [overrides]`` runs a scenario and writes its results.

The only module that runs Hydra's app (``@hydra.main``). :func:`main` checks
everything it can before Hydra starts and before any work or output:

* every job's config (one for a plain run, each job of a ``-m`` sweep, expanded
  as Hydra's basic sweeper would) is composed and validated, the config files it
  draws on are checked to be plain data, and its memory estimate is compared with
  the memory available; the first problem is printed as one line on stderr and
  the exit status is 2;
* the output folder is claimed before Hydra or anything else writes into it
  (:func:`_claim`): a default, timestamped folder that already exists gets a
  suffix (``_2``, ``_3``...), taken by an atomic ``mkdir``, so two runs started in
  the same second get two folders; an explicit ``hydra.run.dir`` /
  ``hydra.sweep.dir`` that already holds anything is refused (exit 2), so an
  earlier run's results are never overwritten and a refused run writes nothing; a
  folder that cannot be created (no permission, a read-only file system, a parent
  that is a file) is one line, exit 2.

A multirun with Hydra's basic sweeper (``-m`` without ``hydra/sweeper=...``) is
run by :func:`sim.runner.sweep.launch`: in parallel on all cores (Hydra's joblib
launcher) or through ``hydra/launcher=ray`` / ``slurm`` / ``submitit_local``, one
line per finished job, failures kept, merged into ``sweep.nc`` at the end.
Tool options, not model fields: ``plots=true|false`` (default: true for a single
run, false for sweep jobs), ``progress=true|false`` (a bar over the steps of an
interactive run; a line per finished job of a sweep), ``resume=true`` (with
``hydra.sweep.dir=`` of an earlier sweep: run only its jobs without ``run.nc``).

A run (:func:`execute`) claims its folder with an ``INCOMPLETE`` marker, writes
``config.yaml``, runs, writes ``summary.txt`` and the plots, and as its last act
moves ``run.nc`` into place (it is never replaced) and removes the marker. SIGINT
and SIGTERM during a run stop it cleanly: no ``run.nc``, the marker says what
happened, exit status 130 / 143.

A run (:func:`execute`) claims its folder with an ``INCOMPLETE`` marker (and prints
the folder), writes ``config.yaml``, runs, moves ``run.nc`` into place (it is never
replaced) and removes the marker; then it writes the optional artefacts,
``summary.txt`` and the figures: one that fails (a full disk) is named in one warning
line and ``run.nc`` is kept. SIGINT and SIGTERM during a run stop it cleanly: no
``run.nc``, the marker says what happened, exit status 130 / 143. Any other failure
prints one line naming the cause and the folder (exit 1); its traceback is in the
folder's ``INCOMPLETE`` and in the log (``sim.log``), which also records the scenario,
the seed, the folder, the timings of set-up, run and writing, and every warning.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..results.memory import check_memory
from ..results.runfolder import INCOMPLETE, RESULT, claim_new_folder
from ..results.sweepfolder import failure_line
from ..settings.compose import compose_jobs, expand_sweep, job_label, to_yaml
from ..settings.schema import ConfigError
from .guard import RunInterrupted, interrupts_as_exceptions
from .job import CLAIMED, ENV_PLOTS, ENV_PROGRESS, ENV_SWEEP_JOB, PREPARED, claim_note, hydra_main, quote_path
from .launchers import check_launcher, launcher_name

#: Hydra flags that print something and run nothing: passed through unchecked.
INFO_FLAGS = ("--cfg", "-c", "--info", "-i", "--hydra-help", "--version", "--shell-completion", "-sc",
              "--resolve", "--package", "-p")
#: Hydra flags that would load configs from elsewhere than conf/: refused (the checks would not see them).
FOREIGN_CONFIG_FLAGS = ("--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd",
                        "--experimental-rerun")
#: Tool options given as KEY=true|false: how to run, not what to simulate (never part of the config).
TOOL_OPTIONS = ("plots", "progress", "resume")


# ------------------------------------------------------------------ argv handling
def _flag_name(arg: str) -> str:
    return arg.split("=", 1)[0]


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Hydra flags and overrides."""
    flags = [a for a in argv if a.startswith("-") and not a.startswith("--=")]
    return flags, [a for a in argv if a not in flags]


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


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
    return [o for o in overrides if _key(o) != key] + [f"{key}={quote_path(folder)}"]


def _bool_option(key: str, value: str) -> bool:
    v = value.strip().lower()
    if v in ("true", "yes", "on", "1"):
        return True
    if v in ("false", "no", "off", "0"):
        return False
    raise ConfigError(f"{key} = {value!r} must be true or false (a tool option, not a model field)")


@dataclass
class Prepared:
    """A checked command line: flags, overrides with the output folder pinned, and for a
    sweep its jobs, their composed configs, its folder and Hydra options."""

    argv: list[str]
    multirun: bool = False
    sweep: bool = False  # a multirun run by sim.runner.sweep.launch (the basic sweeper)
    options: dict[str, bool] = field(default_factory=dict)
    jobs: list[list[str]] = field(default_factory=list)
    composed: list = field(default_factory=list)
    hydra_overrides: list[str] = field(default_factory=list)
    sweep_dir: str = ""
    run_dir: str = ""  # a single run's folder, pinned
    user_folder: bool = False  # hydra.run.dir / hydra.sweep.dir given on the command line


def _is_hydra(override: str) -> bool:
    return _key(override).startswith(("hydra.", "hydra/")) or _key(override) == "hydra"


def _prepare(argv: list[str]) -> Prepared:
    flags, overrides = _split(argv)
    for f in flags:
        if _flag_name(f) in FOREIGN_CONFIG_FLAGS:
            raise ConfigError(f"{_flag_name(f)} is not supported: put scenario files in scenarios/ and pick "
                              f"one with scenario=NAME")
    options: dict[str, bool] = {}
    rest = []
    for o in overrides:
        key = _key(o)
        if key in TOOL_OPTIONS and "=" in o:
            options[key] = _bool_option(key, o.split("=", 1)[1])
        else:
            rest.append(o)
    overrides = rest
    multirun = any(_flag_name(f) in ("-m", "--multirun") for f in flags)
    if options.get("resume") and not multirun:
        raise ConfigError("resume = true applies to a sweep: add -m and hydra.sweep.dir=FOLDER of the sweep, "
                          "or use python -m sim.collect --resume FOLDER")
    if options.get("resume") and not any(_key(o) == "hydra.sweep.dir" for o in overrides):
        raise ConfigError("resume = true needs hydra.sweep.dir=FOLDER: the folder of the sweep to finish")
    prep = Prepared(argv=[], multirun=multirun, options=options)
    if multirun:
        other_sweeper = any(_key(o).startswith(("hydra/sweeper", "hydra.sweeper")) for o in overrides)
        hydra_ovs = [o for o in overrides if _is_hydra(o)]
        check_launcher(launcher_name(hydra_ovs))
        if not any(_key(o) == "hydra/launcher" for o in hydra_ovs):
            # the launcher the sweep runs with (sim.runner.sweep.launch adds it too), so that its
            # options (hydra.launcher.n_jobs=4) are checked against the right schema
            hydra_ovs = ["hydra/launcher=joblib", *hydra_ovs]
        if other_sweeper:  # another sweeper builds its own jobs: each is then checked when it runs
            if options.get("resume"):
                raise ConfigError("resume = true works with the basic sweeper (the grid of -m), not with "
                                  "hydra/sweeper=...")
            env = [f"++hydra.job.env_set.{ENV_SWEEP_JOB}=1",
                   f"++hydra.job.env_set.{ENV_PLOTS}={str(options.get('plots', False)).lower()}",
                   f"++hydra.job.env_set.{ENV_PROGRESS}=false"]
            if not any(_key(o) == "hydra/launcher" for o in overrides):
                env.append("hydra/launcher=joblib")
            prep.argv = flags + overrides + env
            return prep
        task = [o for o in overrides if not _is_hydra(o)]
        prep.jobs = expand_sweep(task)
        from ..settings.jobs import compose_many

        prep.composed = compose_many([hydra_ovs + job for job in prep.jobs], first_dirs=True)
    else:
        prep.jobs = [overrides]
        prep.composed = compose_jobs([overrides], dirs=True)
    for k, job in enumerate(prep.composed):
        try:
            check_memory(job.config)
        except ConfigError as exc:
            label = f"job {k} ({job_label(job.overrides)}): " if len(prep.composed) > 1 else ""
            raise ConfigError(f"{label}{exc}") from None
    prep.user_folder = any(_key(o) == ("hydra.sweep.dir" if multirun else "hydra.run.dir") for o in overrides)
    if multirun:
        prep.sweep = True
        if options.get("resume"):
            folder = prep.composed[0].sweep_dir
        else:
            overrides = _fix_folder(overrides, "hydra.sweep.dir", prep.composed[0].sweep_dir)
            folder = next(o for o in overrides if _key(o) == "hydra.sweep.dir").split("=", 1)[1].strip("'")
        prep.sweep_dir = folder
        prep.hydra_overrides = [o for o in overrides if _is_hydra(o) and _key(o) != "hydra.sweep.dir"]
    else:
        overrides = _fix_folder(overrides, "hydra.run.dir", prep.composed[0].run_dir)
        prep.run_dir = next(o for o in overrides if _key(o) == "hydra.run.dir").split("=", 1)[1].strip("'")
        for key, env in (("plots", ENV_PLOTS), ("progress", ENV_PROGRESS)):
            if key in options:
                overrides.append(f"++hydra.job.env_set.{env}={str(options[key]).lower()}")
    prep.argv = flags + overrides
    return prep


def _claim(prep: Prepared) -> None:
    """Claim the checked command line's output folder before anything (Hydra's ``.hydra/`` record, the
    log, a sweep's design table) is written: a default, timestamped name that another run took in the
    meantime (the same second) gets a suffix; a run folder gets its ``INCOMPLETE`` marker now.
    Raises :class:`ConfigError` for a folder that cannot be created or is taken."""
    if prep.sweep and not prep.options.get("resume"):
        folder = claim_new_folder(prep.sweep_dir, "hydra.sweep.dir", suffix=not prep.user_folder)
        prep.sweep_dir = str(folder)
    elif not prep.multirun and prep.run_dir:
        cfg = prep.composed[0].config
        folder = claim_new_folder(prep.run_dir, "hydra.run.dir", suffix=not prep.user_folder, note=claim_note(cfg))
        CLAIMED.add(folder.resolve())
        prep.argv = [a for a in prep.argv if _key(a) != "hydra.run.dir"] + [f"hydra.run.dir={quote_path(str(folder))}"]
        prep.run_dir = str(folder)


def prepare(argv: list[str]) -> list[str]:
    """Check ``argv`` completely; return it with the output folder pinned.

    Raises :class:`ConfigError` (one line) for any bad config, unknown flag combination,
    memory shortfall or taken output folder.
    """
    return _prepare(argv).argv


def _run_sweep(prep: Prepared) -> int:
    """Run a checked sweep (:func:`sim.runner.sweep.launch`); print where the result is; return the exit status."""
    from .sweep import launch, stop_idle_workers

    result = launch(prep.jobs, prep.sweep_dir, hydra_overrides=prep.hydra_overrides,
                    plots=prep.options.get("plots", False), progress=prep.options.get("progress", True),
                    resume=prep.options.get("resume", False), composed=prep.composed)
    stop_idle_workers()  # this process exits next
    failed = result.failed
    total = len(result.states)
    if result.merged_path is not None:
        print(f"sweep: {total - len(failed)} of {total} jobs merged into {result.merged_path}")
    if result.launcher_error:
        print(f"error: the launcher stopped: {result.launcher_error}", file=sys.stderr)
    for s in failed:
        print(f"error: {failure_line(s)}", file=sys.stderr)
    if failed:
        print(f"error: {len(failed)} of {total} jobs did not finish; rerun them with: python -m sim.collect "
              f"--resume {result.sweep_dir}", file=sys.stderr)
        return 1
    return 0


#: Every flag Hydra 1.3's app accepts (with the value it may take).
HYDRA_FLAGS = ("--help", "-h", "--hydra-help", "--version", "--cfg", "-c", "--resolve", "--package", "-p",
               "--run", "-r", "--multirun", "-m", "--shell-completion", "-sc", "--info", "-i",
               *FOREIGN_CONFIG_FLAGS)
#: Flags whose value is the next argument.
_VALUE_FLAGS = ("--cfg", "-c", "--package", "-p", "--info", "-i", "--config-path", "-cp", "--config-name",
                "-cn", "--config-dir", "-cd", "--experimental-rerun")


def version_text() -> str:
    """``customer-sim X (mesa ..., numba ..., hydra-core ..., ...)``."""
    from ..results.output import versions

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
    prep = None
    if "--version" in argv:
        print(version_text())
        return
    try:
        check_flags(argv)
        if _shows_job_config(argv):
            from ..settings.compose import compose_config

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
                    prep = _prepare(argv)
                    _claim(prep)
                    if prep.sweep:
                        code = _run_sweep(prep)
                        sys.exit(code)
                except ConfigError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    sys.exit(2)
                argv = prep.argv
                if not prep.multirun and prep.composed:  # the job runs the config checked here
                    task = tuple(o for o in prep.jobs[0] if not _is_hydra(o))
                    PREPARED[task] = prep.composed[0].config
            sys.argv = [sys.argv[0], *argv]
            hydra_main()
    except (RunInterrupted, KeyboardInterrupt) as exc:
        code = exc.exit_code if isinstance(exc, RunInterrupted) else 130
        name = "SIGTERM" if code == 143 else "SIGINT"
        if prep is not None and prep.sweep:
            print(f"error: interrupted by {name}: finished jobs keep their {RESULT}; finish the sweep with: "
                  f"python -m sim.collect --resume {Path(prep.sweep_dir).resolve()}", file=sys.stderr)
        folder = getattr(exc, "run_folder", None)
        if prep is not None and prep.sweep:
            pass
        elif folder is not None and (Path(folder) / RESULT).exists():
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
