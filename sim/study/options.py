"""What the analysis tools (:mod:`sim.study.sensitivity`, :mod:`sim.study.calibrate`) share:
the settings file's common fields and how each is checked, the parameters a design
varies and the outputs it reads, and the command-line options.

Every check raises :class:`~sim.settings.schema.ConfigError` with one line naming the
field (``parameters.price.bounds``, ``seeds``, ``--n-jobs``...) and what is allowed,
before any run.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..settings.schema import ConfigError

#: How an output is reduced over its steps.
REDUCE = ("sum", "mean", "last")
#: Fields every analysis config may have (see :func:`common_fields`).
COMMON_FIELDS = ("description", "base_overrides", "seeds", "n_jobs", "level")


# ------------------------------------------------------------------ parameters, outputs
@dataclass
class Parameter:
    """A parameter varied by the design: its override (or template) and bounds."""

    name: str
    bounds: tuple[float, float]
    override: str | None = None
    template: str | None = None

    def as_template(self) -> str:
        return self.template if self.template else f"{self.override}={{value}}"


@dataclass
class Output:
    """A scalar output per run: ``variable`` of ``firm`` reduced over the steps ``[first, last]``.

    ``firm: all`` sums a firm variable over firms (``reduce: sum``) or takes the
    customer-weighted mean over firms (``mean``, ``last``); market variables need no firm.
    ``fill`` replaces an undefined result (NaN: e.g. the NPS of a firm that has lost
    all its customers) by a stated value; without it an undefined result is an error.
    """

    name: str
    variable: str
    firm: str | None = None
    reduce: str = "mean"
    steps: tuple[int, int] | None = None
    fill: float | None = None


def read_settings(raw: Mapping | str | Path) -> Mapping:
    """The settings as a mapping: ``raw`` itself, or the YAML file it names."""
    if isinstance(raw, Mapping):
        return raw
    path = Path(raw)
    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping of settings (field: value), got {type(data).__name__}")
    return data


def field_error(where: str, msg: str) -> ConfigError:
    return ConfigError(f"{where}: {msg}")


def number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise field_error(where, f"{value!r} must be a finite number")
    return float(value)


def whole(value: Any, where: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise field_error(where, f"{value!r} must be a whole number {rng}")
    return value


def check_keys(d: Mapping, allowed: Sequence[str], where: str, required: Sequence[str] = ()) -> None:
    if not isinstance(d, Mapping):
        raise field_error(where, f"expected a mapping with fields {', '.join(allowed)}")
    for k in d:
        if k not in allowed:
            raise field_error(f"{where}.{k}" if where else str(k), f"unknown field; allowed: {', '.join(allowed)}")
    for k in required:
        if k not in d:
            raise field_error(f"{where}.{k}" if where else str(k), "missing (required)")


def parse_parameters(raw: Any, where: str = "parameters") -> list[Parameter]:
    """Parameters from ``{name: {override|template, bounds: [lo, hi]}}``; one-line errors."""
    if not isinstance(raw, Mapping) or not raw:
        raise field_error(where, "expected a mapping name -> {override: config.path, bounds: [low, high]}")
    out = []
    for name, spec in raw.items():
        w = f"{where}.{name}"
        check_keys(spec, ("override", "template", "bounds", "log"), w, ("bounds",))
        if ("override" in spec) == ("template" in spec):
            raise field_error(w, "give exactly one of override (a config path) or template (with {value})")
        if "template" in spec and "{value}" not in str(spec["template"]):
            raise field_error(f"{w}.template", f"{spec['template']!r} must contain {{value}}")
        b = spec["bounds"]
        if not isinstance(b, (list, tuple)) or len(b) != 2:
            raise field_error(f"{w}.bounds", f"{b!r} must be [low, high]")
        lo, hi = number(b[0], f"{w}.bounds"), number(b[1], f"{w}.bounds")
        if not lo < hi:
            raise field_error(f"{w}.bounds", f"[{lo:g}, {hi:g}]: low must be below high")
        out.append(Parameter(str(name), (lo, hi), spec.get("override"), spec.get("template")))
    return out


def parse_outputs(raw: Any, where: str = "outputs", extra: Sequence[str] = ()) -> list[tuple[Output, dict]]:
    """Outputs from ``{name: {variable, firm, reduce, steps}}`` (plus ``extra`` fields, returned raw)."""
    from ..results.output import FIRM_VARS, MARKET_VARS

    if not isinstance(raw, Mapping) or not raw:
        raise field_error(where, "expected a mapping name -> {variable: ..., firm: ..., reduce: ..., "
                                 "steps: [first, last]}")
    out = []
    for name, spec in raw.items():
        w = f"{where}.{name}"
        check_keys(spec, ("variable", "firm", "reduce", "steps", "fill", *extra), w, ("variable",))
        var = spec["variable"]
        if var not in FIRM_VARS and var not in MARKET_VARS:
            raise field_error(f"{w}.variable", f"{var!r} is not a firm or market variable; allowed: "
                                        f"{', '.join([*FIRM_VARS, *MARKET_VARS])}")
        firm = spec.get("firm")
        if var in FIRM_VARS and firm is None:
            raise field_error(f"{w}.firm", f"missing: {var} is per firm; name a firm or 'all'")
        reduce = spec.get("reduce", "mean")
        if reduce not in REDUCE:
            raise field_error(f"{w}.reduce", f"{reduce!r}; allowed: {', '.join(REDUCE)}")
        steps = spec.get("steps")
        if steps is not None:
            if (not isinstance(steps, (list, tuple)) or len(steps) != 2
                    or not all(isinstance(s, int) and not isinstance(s, bool) for s in steps)
                    or not 1 <= steps[0] <= steps[1]):
                raise field_error(f"{w}.steps", f"{steps!r} must be [first, last] whole steps with 1 <= first <= last")
            steps = (int(steps[0]), int(steps[1]))
        fill = spec.get("fill")
        if fill is not None:
            fill = number(fill, f"{w}.fill")
        out.append((Output(str(name), var, None if firm is None else str(firm), reduce, steps, fill),
                    {k: spec[k] for k in extra if k in spec}))
    return out


def check_against_model(base_overrides: Sequence[str], outputs: Sequence[Output], where: str = "outputs") -> None:
    """Check firms and step windows of ``outputs`` against the composed base config."""
    from ..settings.compose import compose_config

    cfg = compose_config(list(base_overrides))
    for o in outputs:
        w = f"{where}.{o.name}"
        if o.firm is not None and o.firm != "all" and o.firm not in cfg.firms:
            raise field_error(f"{w}.firm", f"{o.firm!r} is not a firm of the scenario; allowed: "
                                    f"{', '.join([*cfg.firms, 'all'])}")
        if o.steps is not None and o.steps[1] > cfg.steps:
            raise field_error(f"{w}.steps", f"{list(o.steps)} ends after the horizon: allowed [1, {cfg.steps}]")


def common_fields(raw: Mapping, where: str = "") -> dict:
    out: dict[str, Any] = {}
    base = raw.get("base_overrides", [])
    if not isinstance(base, list) or not all(isinstance(b, str) for b in base):
        raise field_error("base_overrides", f"{base!r} must be a list of override strings like scenario=baseline")
    out["base_overrides"] = base
    seeds = raw.get("seeds", [0])
    if (not isinstance(seeds, list) or not seeds
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)):
        raise field_error("seeds", f"{seeds!r} must be a non-empty list of whole numbers >= 0")
    out["seeds"] = seeds
    n_jobs = raw.get("n_jobs", 1)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise field_error("n_jobs", f"{n_jobs!r} must be a whole number >= 1, or -1 for every core")
    out["n_jobs"] = n_jobs
    level = raw.get("level", 0.95)
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level < 1:
        raise field_error("level", f"{level!r} must be a number in (0, 1), e.g. 0.95")
    out["level"] = float(level)
    return out


# ------------------------------------------------------------------------ command line
def tool_parser(prog: str, description: str, config_help: str, *, trials: bool = False) -> argparse.ArgumentParser:
    """The command line of an analysis tool: the config file, ``--out``, ``--n-jobs`` (``--trials``)
    and the launch options (:func:`add_launch_arguments`)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("config", help=config_help)
    parser.add_argument("--out", help=f"output folder (default results/{prog.rsplit('.', 1)[-1]}/<config name>)")
    parser.add_argument("--n-jobs", type=int, help="override the config's n_jobs")
    if trials:
        parser.add_argument("--trials", type=int, help="override the config's trials")
    add_launch_arguments(parser)
    return parser


def n_jobs_option(args: argparse.Namespace, default: int) -> int:
    """``--n-jobs`` if given (checked: >= 1 or -1), else ``default``."""
    if args.n_jobs is None:
        return default
    if args.n_jobs == 0 or args.n_jobs < -1:
        raise field_error("--n-jobs", f"{args.n_jobs} must be >= 1 or -1")
    return args.n_jobs


def output_folder(args: argparse.Namespace, tool: str) -> Path:
    """``--out``, or ``results/<tool>/<config file name>``."""
    return Path(args.out) if args.out else Path("results") / tool / Path(args.config).stem


def add_launch_arguments(parser: argparse.ArgumentParser, default: str = "basic or joblib, by n_jobs") -> None:
    """``--launcher``, ``--sweep-dir``, ``--hydra``, ``--resume``: where the design's jobs run."""
    parser.add_argument("--launcher", help=f"how the design's jobs run (default: {default}): basic (one after the "
                                           "other here), joblib (local processes), ray, slurm, submitit_local "
                                           "(Hydra launchers, a job folder each), or local (in memory, no files)")
    parser.add_argument("--sweep-dir", help="the sweep folder of the design's jobs (default OUT/sweep; on a "
                                            "cluster: storage every node sees)")
    parser.add_argument("--hydra", action="append", default=[], metavar="OVERRIDE",
                        help="a launcher option, e.g. --hydra hydra.launcher.partition=short (repeatable)")
    parser.add_argument("--resume", action="store_true",
                        help="finish an interrupted or partly failed analysis in OUT: run only the jobs "
                             "without a result, with the same config")


def launch_options(args: argparse.Namespace, out: Path, done_file: str) -> dict[str, Any]:
    """The run_design options of the launch arguments; checks ``out`` (never overwritten)."""
    from ..runner.design import LOCAL

    if args.launcher == LOCAL and (args.sweep_dir or args.resume or args.hydra):
        raise ConfigError(f"--launcher {LOCAL} runs in memory: no --sweep-dir, --resume or --hydra")
    bad = [h for h in args.hydra if not h.startswith("hydra.")]
    if bad:
        raise field_error("--hydra", f"{bad[0]!r}: only launcher options (hydra.launcher.KEY=VALUE)")
    sweep = Path(args.sweep_dir) if args.sweep_dir else out / "sweep"
    if args.resume:
        if (out / done_file).exists():
            raise ConfigError(f"--resume: {out / done_file} exists: this analysis is complete; choose another --out")
        if not sweep.is_dir():
            raise ConfigError(f"--resume: {sweep} holds no sweep to resume; run without --resume first")
    elif out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out} already holds files: results are never overwritten; choose --out, "
                          f"or add --resume to finish that analysis")
    elif args.sweep_dir and sweep.exists() and any(sweep.iterdir()):
        raise ConfigError(f"--sweep-dir {sweep} already holds files; choose another, or add --resume")
    if args.launcher == LOCAL:
        return {"launcher": LOCAL}
    return {"launcher": args.launcher, "sweep_dir": sweep, "hydra_overrides": list(args.hydra),
            "resume": bool(args.resume)}


