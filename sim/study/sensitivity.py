"""``python -m sim.sensitivity CONFIG.yaml``: which parameters drive which outcomes?

Morris screening (elementary effects) or Sobol indices (SALib) of chosen outputs to
chosen parameters. The sampled design runs through :func:`sim.runner.design.run_design`
(the same path as calibration): a sweep (:func:`sim.runner.sweep.run_jobs`), one job per
point and seed in ``OUT/sweep/<job>`` (``--sweep-dir``), launched locally or on a
cluster (``--launcher basic|joblib|ray|slurm|submitit_local``, options with
``--hydra hydra.launcher.KEY=VALUE``), failures recorded and resumable
(``--resume``); ``--launcher local`` runs in memory without files. The design is
stored with a ``run`` dimension and the parameter values as coordinates;
:func:`analyze` turns any such design and an output per run into the indices, so
a toy function (Ishigami, in the tests) and the simulation go through the same code.

The config file (see ``analysis/sensitivity_both.yaml``)::

    method: sobol             # sobol | morris
    samples: 32               # sobol: base N (power of 2), N (D + 2) points;
                              # morris: trajectories r, r (D + 1) points
    sample_seed: 0            # seed of the sampler and the bootstrap
    seeds: [0, 1]             # simulation seeds per point (common random numbers)
    n_jobs: 2
    level: 0.95               # confidence level of the bootstrap intervals
    base_overrides: [scenario=disruptor, customers.n=5000]
    parameters:               # name -> override (a config path) or template, and bounds
      price: {override: firms.both.price, bounds: [0.9, 1.5]}
      spend: {template: "firms.both.intervention=[{value},{value},{value}]", bounds: [0, 0.03]}
    outputs:                  # name -> variable, firm, reduce (sum | mean | last), steps [first, last],
                              # fill (value for an undefined result, e.g. a firm without customers)
      profit: {variable: profit, firm: both, reduce: sum, steps: [1, 120]}

Every field is checked before any run; a bad one stops with one line naming it
and what is allowed (exit status 2).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from ..runner.design import RUN_DIM, run_design
from ..settings.schema import ConfigError

METHODS = ("sobol", "morris")
REDUCE = ("sum", "mean", "last")
#: Morris grid levels (SALib's default).
MORRIS_LEVELS = 4


# ------------------------------------------------------------------------- settings
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


@dataclass
class Settings:
    method: str
    samples: int
    parameters: list[Parameter]
    outputs: list[Output]
    base_overrides: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [0])
    n_jobs: int = 1
    level: float = 0.95
    sample_seed: int = 0


def _err(where: str, msg: str) -> ConfigError:
    return ConfigError(f"{where}: {msg}")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _err(where, f"{value!r} must be a finite number")
    return float(value)


def _int(value: Any, where: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise _err(where, f"{value!r} must be a whole number {rng}")
    return value


def _keys(d: Mapping, allowed: Sequence[str], where: str, required: Sequence[str] = ()) -> None:
    if not isinstance(d, Mapping):
        raise _err(where, f"expected a mapping with fields {', '.join(allowed)}")
    for k in d:
        if k not in allowed:
            raise _err(f"{where}.{k}" if where else str(k), f"unknown field; allowed: {', '.join(allowed)}")
    for k in required:
        if k not in d:
            raise _err(f"{where}.{k}" if where else str(k), "missing (required)")


def parse_parameters(raw: Any, where: str = "parameters") -> list[Parameter]:
    """Parameters from ``{name: {override|template, bounds: [lo, hi]}}``; one-line errors."""
    if not isinstance(raw, Mapping) or not raw:
        raise _err(where, "expected a mapping name -> {override: config.path, bounds: [low, high]}")
    out = []
    for name, spec in raw.items():
        w = f"{where}.{name}"
        _keys(spec, ("override", "template", "bounds", "log"), w, ("bounds",))
        if ("override" in spec) == ("template" in spec):
            raise _err(w, "give exactly one of override (a config path) or template (with {value})")
        if "template" in spec and "{value}" not in str(spec["template"]):
            raise _err(f"{w}.template", f"{spec['template']!r} must contain {{value}}")
        b = spec["bounds"]
        if not isinstance(b, (list, tuple)) or len(b) != 2:
            raise _err(f"{w}.bounds", f"{b!r} must be [low, high]")
        lo, hi = _number(b[0], f"{w}.bounds"), _number(b[1], f"{w}.bounds")
        if not lo < hi:
            raise _err(f"{w}.bounds", f"[{lo:g}, {hi:g}]: low must be below high")
        out.append(Parameter(str(name), (lo, hi), spec.get("override"), spec.get("template")))
    return out


def parse_outputs(raw: Any, where: str = "outputs", extra: Sequence[str] = ()) -> list[tuple[Output, dict]]:
    """Outputs from ``{name: {variable, firm, reduce, steps}}`` (plus ``extra`` fields, returned raw)."""
    from ..results.output import FIRM_VARS, MARKET_VARS

    if not isinstance(raw, Mapping) or not raw:
        raise _err(where, "expected a mapping name -> {variable: ..., firm: ..., reduce: ..., steps: [first, last]}")
    out = []
    for name, spec in raw.items():
        w = f"{where}.{name}"
        _keys(spec, ("variable", "firm", "reduce", "steps", "fill", *extra), w, ("variable",))
        var = spec["variable"]
        if var not in FIRM_VARS and var not in MARKET_VARS:
            raise _err(f"{w}.variable", f"{var!r} is not a firm or market variable; allowed: "
                                        f"{', '.join([*FIRM_VARS, *MARKET_VARS])}")
        firm = spec.get("firm")
        if var in FIRM_VARS and firm is None:
            raise _err(f"{w}.firm", f"missing: {var} is per firm; name a firm or 'all'")
        reduce = spec.get("reduce", "mean")
        if reduce not in REDUCE:
            raise _err(f"{w}.reduce", f"{reduce!r}; allowed: {', '.join(REDUCE)}")
        steps = spec.get("steps")
        if steps is not None:
            if (not isinstance(steps, (list, tuple)) or len(steps) != 2
                    or not all(isinstance(s, int) and not isinstance(s, bool) for s in steps)
                    or not 1 <= steps[0] <= steps[1]):
                raise _err(f"{w}.steps", f"{steps!r} must be [first, last] whole steps with 1 <= first <= last")
            steps = (int(steps[0]), int(steps[1]))
        fill = spec.get("fill")
        if fill is not None:
            fill = _number(fill, f"{w}.fill")
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
            raise _err(f"{w}.firm", f"{o.firm!r} is not a firm of the scenario; allowed: "
                                    f"{', '.join([*cfg.firms, 'all'])}")
        if o.steps is not None and o.steps[1] > cfg.steps:
            raise _err(f"{w}.steps", f"{list(o.steps)} ends after the horizon: allowed [1, {cfg.steps}]")


def _common(raw: Mapping, where: str = "") -> dict:
    out: dict[str, Any] = {}
    base = raw.get("base_overrides", [])
    if not isinstance(base, list) or not all(isinstance(b, str) for b in base):
        raise _err("base_overrides", f"{base!r} must be a list of override strings like scenario=baseline")
    out["base_overrides"] = base
    seeds = raw.get("seeds", [0])
    if (not isinstance(seeds, list) or not seeds
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)):
        raise _err("seeds", f"{seeds!r} must be a non-empty list of whole numbers >= 0")
    out["seeds"] = seeds
    n_jobs = raw.get("n_jobs", 1)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise _err("n_jobs", f"{n_jobs!r} must be a whole number >= 1, or -1 for every core")
    out["n_jobs"] = n_jobs
    level = raw.get("level", 0.95)
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level < 1:
        raise _err("level", f"{level!r} must be a number in (0, 1), e.g. 0.95")
    out["level"] = float(level)
    return out


def load_settings(raw: Mapping | str | Path) -> Settings:
    """Read and check a sensitivity config (a mapping or a YAML file) before any run."""
    if not isinstance(raw, Mapping):
        path = Path(raw)
        if not path.exists():
            raise ConfigError(f"{path}: no such file")
        raw = yaml.safe_load(path.read_text()) or {}
    _keys(raw, ("method", "samples", "sample_seed", "seeds", "n_jobs", "level", "base_overrides",
                "parameters", "outputs", "description"), "", ("method", "samples", "parameters", "outputs"))
    method = raw["method"]
    if method not in METHODS:
        raise _err("method", f"{method!r}; allowed: {', '.join(METHODS)}")
    samples = _int(raw["samples"], "samples", 2, 1 << 16)
    if method == "sobol" and samples & (samples - 1):
        raise _err("samples", f"{samples} must be a power of 2 for Sobol sampling (e.g. 32, 64, 128)")
    params = parse_parameters(raw["parameters"])
    outputs = [o for o, _ in parse_outputs(raw["outputs"])]
    common = _common(raw)
    check_against_model(common["base_overrides"], outputs)
    return Settings(method, samples, params, outputs, sample_seed=_int(raw.get("sample_seed", 0), "sample_seed", 0),
                    **common)


# ------------------------------------------------------------------------- the method
def problem(params: Sequence[Parameter]) -> dict:
    """The SALib problem dict of ``params``."""
    return {"num_vars": len(params), "names": [p.name for p in params], "bounds": [list(p.bounds) for p in params]}


def sample(params: Sequence[Parameter], method: str, samples: int, seed: int = 0) -> pd.DataFrame:
    """The design points (one row per point, a column per parameter) in SALib's order."""
    if method == "sobol":
        from SALib.sample import sobol

        x = sobol.sample(problem(params), samples, calc_second_order=False, scramble=True, seed=seed)
    elif method == "morris":
        from SALib.sample import morris

        x = morris.sample(problem(params), samples, num_levels=MORRIS_LEVELS, seed=seed)
    else:
        raise _err("method", f"{method!r}; allowed: {', '.join(METHODS)}")
    return pd.DataFrame(x, columns=[p.name for p in params])


def analyze(design: xr.Dataset | xr.DataArray, y: xr.DataArray, params: Sequence[Parameter], method: str,
            level: float = 0.95, seed: int = 0) -> xr.Dataset:
    """Sensitivity indices of ``y`` (one value per ``run``; more dims = several outputs).

    Parameters
    ----------
    design : xarray.Dataset or DataArray
        Holds the parameter values as coordinates along ``run`` in the sampler's order.
    y : xarray.DataArray
        Output per run, dims ``run`` and optionally ``output``.
    params : list of Parameter
        The parameters, in the sampler's column order.
    method : "sobol" or "morris"
    level : float
        Confidence level of the bootstrap intervals.

    Returns
    -------
    xarray.Dataset
        Dims (``output``, ``parameter``). Sobol: ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
        (shares of variance, 1; ``*_conf`` is the half-width of the interval). Morris:
        ``mu_star``, ``mu_star_conf``, ``mu``, ``sigma`` (output units per full
        parameter range).
    """
    names = [p.name for p in params]
    missing = [n for n in names if n not in design.coords]
    if missing:
        raise ConfigError(f"the design has no coordinate {missing[0]!r} along {RUN_DIM!r}")
    x = np.column_stack([design[n].values.astype(float) for n in names])
    if "output" not in y.dims:
        y = y.expand_dims(output=[y.name or "y"])
    y = y.transpose("output", RUN_DIM)
    if y.sizes[RUN_DIM] != x.shape[0]:
        raise ConfigError(f"outputs have {y.sizes[RUN_DIM]} runs, the design {x.shape[0]}")
    prob = problem(params)
    keys = {"sobol": ("S1", "S1_conf", "ST", "ST_conf"), "morris": ("mu_star", "mu_star_conf", "mu", "sigma")}
    if method not in keys:
        raise _err("method", f"{method!r}; allowed: {', '.join(METHODS)}")
    rows = {k: [] for k in keys[method]}
    for yk in y.values:
        if not np.isfinite(yk).all():
            raise ConfigError(f"output has {int((~np.isfinite(yk)).sum())} undefined (NaN) runs: choose an output "
                              "defined in every run, or give the output a fill value (e.g. fill: -100 for NPS)")
        if method == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(prob, yk, calc_second_order=False, conf_level=level, seed=seed)
        else:
            from SALib.analyze import morris

            res = morris.analyze(prob, x, yk, conf_level=level, num_levels=MORRIS_LEVELS, seed=seed)
        for k in rows:
            rows[k].append(np.asarray(res[k], dtype=float))
    out = xr.Dataset({k: (("output", "parameter"), np.array(v)) for k, v in rows.items()},
                     coords={"output": y.output.values, "parameter": names})
    out.attrs.update(method=method, level=level, runs=int(x.shape[0]))
    return out


def reduce_output(ds: xr.Dataset, o: Output) -> xr.DataArray:
    """The scalar output ``o`` per run and seed of a design Dataset."""
    da = ds[o.variable]
    if o.steps is not None:
        da = da.sel(step=slice(*o.steps))
    if "firm" in da.dims:
        if o.firm == "all":
            if o.reduce == "sum":
                da = da.sum("firm", skipna=False)
            else:
                w = ds["customers"].sel(step=da.step).astype(float)
                da = (da * w).sum("firm") / w.where(da.notnull()).sum("firm")
        else:
            da = da.sel(firm=o.firm)
    if o.reduce == "sum":
        da = da.sum("step", skipna=False)
    elif o.reduce == "mean":
        da = da.mean("step")
    else:
        da = da.isel(step=-1)
    if o.fill is not None:
        da = da.fillna(o.fill)
    return da.drop_vars([c for c in ("firm", "step") if c in da.coords]).rename(o.name)


def outputs_of(ds: xr.Dataset, outputs: Sequence[Output]) -> xr.DataArray:
    """All outputs per run and seed, dims (``output``, ``run``, ``seed``)."""
    return xr.concat([reduce_output(ds, o) for o in outputs], dim=pd.Index([o.name for o in outputs],
                                                                             name="output"))


def variables_needed(outputs: Sequence[Output]) -> list[str]:
    need = {o.variable for o in outputs}
    if any(o.firm == "all" and o.reduce != "sum" for o in outputs):
        need.add("customers")
    return sorted(need)


def run(settings: Settings, verbose: int = 0, *, sweep_dir: str | Path | None = None, launcher: str | None = None,
        hydra_overrides: Sequence[str] = (), resume: bool = False) -> tuple[xr.Dataset, xr.Dataset]:
    """Sample, run the design (:func:`sim.runner.design.run_design`, a sweep), analyse.

    ``sweep_dir``, ``launcher``, ``hydra_overrides``, ``resume``: where and how the
    design's jobs run (see :func:`sim.runner.design.run_design`); with ``resume`` only the
    jobs of ``sweep_dir`` without a result run. A design with failed jobs raises
    ``RuntimeError`` naming them (Sobol and Morris need every point).

    Returns ``(indices, design)``: the indices (:func:`analyze`) and the design
    Dataset (dims ``run``, ``seed``; the outputs per run and seed as variables
    ``out_<name>``, the parameters as coordinates along ``run``).
    """
    points = sample(settings.parameters, settings.method, settings.samples, settings.sample_seed)
    ds = run_design(points, settings.base_overrides, settings.seeds, settings.n_jobs,
                    templates={p.name: p.as_template() for p in settings.parameters},
                    variables=variables_needed(settings.outputs), verbose=verbose, sweep_dir=sweep_dir,
                    launcher=launcher, hydra_overrides=hydra_overrides, resume=resume)
    raw = outputs_of(ds, [replace(o, fill=None) for o in settings.outputs]).mean("seed")
    filled = {str(k): int(raw.sel(output=k).isnull().sum()) for k in raw.output.values}
    y = outputs_of(ds, settings.outputs)
    indices = analyze(ds, y.mean("seed"), settings.parameters, settings.method, settings.level,
                      settings.sample_seed)
    design = xr.Dataset({f"out_{o}": y.sel(output=o, drop=True) for o in y.output.values},
                        coords={n: ds[n] for n in points.columns})
    design.attrs.update({k: v for k, v in ds.attrs.items() if isinstance(v, (str, int, float))})
    design.attrs["method"] = settings.method
    indices.attrs["seeds"] = len(settings.seeds)
    indices.attrs["filled"] = "; ".join(f"{k}: {v} of {raw.sizes[RUN_DIM]} design points undefined, set to "
                                        f"{next(o.fill for o in settings.outputs if o.name == k):g}"
                                        for k, v in filled.items() if v)
    indices.attrs["base_overrides"] = " ".join(settings.base_overrides)
    return indices, design


# --------------------------------------------------------------------------- report
def table(indices: xr.Dataset) -> pd.DataFrame:
    """The indices as a table: rows (output, parameter) sorted by importance, columns the indices."""
    key = "ST" if indices.attrs["method"] == "sobol" else "mu_star"
    df = indices.to_dataframe()
    return df.sort_values(["output", key], ascending=[True, False])


def plot(indices: xr.Dataset):
    """Bar chart of the indices with their interval half-widths, one panel per output."""
    import matplotlib.pyplot as plt

    outs = list(indices.output.values)
    fig, axes = plt.subplots(1, len(outs), figsize=(4.2 * len(outs), 0.5 * indices.sizes["parameter"] + 1.6),
                             squeeze=False, layout="constrained")
    y = np.arange(indices.sizes["parameter"])
    level = f"{100 * indices.attrs['level']:g}%"
    for ax, o in zip(axes[0], outs, strict=True):
        x = indices.sel(output=o)
        if indices.attrs["method"] == "sobol":
            ax.barh(y - 0.2, x.S1, 0.4, xerr=x.S1_conf, label="first order S1", color="C0", capsize=3)
            ax.barh(y + 0.2, x.ST, 0.4, xerr=x.ST_conf, label="total ST", color="C1", capsize=3)
            ax.set_xlabel(f"Sobol index (share of variance), {level} intervals")
            ax.axvline(0, color="0.5", lw=0.8)
        else:
            ax.barh(y, x.mu_star, 0.6, xerr=x.mu_star_conf, color="C0", capsize=3, label="mu*")
            ax.plot(x.sigma, y, "kx", label="sigma")
            ax.set_xlabel(f"Morris mu* (output units per range), {level} intervals")
        ax.set_yticks(y, list(indices.parameter.values))
        ax.invert_yaxis()
        ax.set_title(str(o))
        ax.legend(fontsize=7)
    fig.suptitle(f"{indices.attrs['method'].capitalize()} sensitivity, {indices.attrs['runs']} design points "
                 f"x {indices.attrs.get('seeds', 1)} seeds", fontsize=10)
    return fig


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
        raise _err("--hydra", f"{bad[0]!r}: only launcher options (hydra.launcher.KEY=VALUE)")
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.sensitivity", description=__doc__.split("\n\n")[0])
    parser.add_argument("config", help="sensitivity config YAML (see analysis/sensitivity_both.yaml)")
    parser.add_argument("--out", help="output folder (default results/sensitivity/<config name>)")
    parser.add_argument("--n-jobs", type=int, help="override the config's n_jobs")
    add_launch_arguments(parser)
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
        if args.n_jobs is not None:
            if args.n_jobs == 0 or args.n_jobs < -1:
                raise _err("--n-jobs", f"{args.n_jobs} must be >= 1 or -1")
            settings.n_jobs = args.n_jobs
        out = Path(args.out) if args.out else Path("results") / "sensitivity" / Path(args.config).stem
        options = launch_options(args, out, "indices.nc")
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = time.perf_counter()
    try:
        indices, design = run(settings, verbose=1, **options)  # the design's values are checked before its first run
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # failed jobs: the finished ones stay in the sweep folder
        print(f"error: {err}; then: python -m sim.sensitivity {args.config} --out {out} --resume", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    design.to_netcdf(out / "design.nc", engine="h5netcdf")
    indices.to_netcdf(out / "indices.nc", engine="h5netcdf")
    tab = table(indices)
    tab.to_csv(out / "indices.csv")
    fig = plot(indices)
    fig.savefig(out / "sensitivity.png", dpi=110)
    plt.close(fig)
    filled = f"\nundefined outputs filled: {indices.attrs['filled']}" if indices.attrs["filled"] else ""
    where = (f" ({design.attrs['launcher']}; jobs in {design.attrs['sweep_dir']})"
             if design.attrs.get("sweep_dir") else "")
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        print(f"{settings.method}: {indices.attrs['runs']} design points x {len(settings.seeds)} seeds "
              f"in {time.perf_counter() - t0:.0f} s{where}{filled}\n{tab.to_string()}\nwritten: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
