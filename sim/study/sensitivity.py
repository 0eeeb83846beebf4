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

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..runner.design import RUN_DIM, run_design
from ..settings.schema import ConfigError
from .analysis import jobs_note
from .options import (
    COMMON_FIELDS,
    Output,
    Parameter,
    check_against_model,
    check_keys,
    common_fields,
    field_error,
    launch_options,
    n_jobs_option,
    output_folder,
    parse_outputs,
    parse_parameters,
    read_settings,
    tool_parser,
    whole,
)

METHODS = ("sobol", "morris")
#: Morris grid levels (SALib's default).
MORRIS_LEVELS = 4


# ------------------------------------------------------------------------- settings
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


def load_settings(raw: Mapping | str | Path) -> Settings:
    """Read and check a sensitivity config (a mapping or a YAML file) before any run."""
    raw = read_settings(raw)
    check_keys(raw, ("method", "samples", "sample_seed", *COMMON_FIELDS, "parameters", "outputs"), "",
               ("method", "samples", "parameters", "outputs"))
    method = raw["method"]
    if method not in METHODS:
        raise field_error("method", f"{method!r}; allowed: {', '.join(METHODS)}")
    samples = whole(raw["samples"], "samples", 2, 1 << 16)
    if method == "sobol" and samples & (samples - 1):
        raise field_error("samples", f"{samples} must be a power of 2 for Sobol sampling (e.g. 32, 64, 128)")
    params = parse_parameters(raw["parameters"])
    outputs = [o for o, _ in parse_outputs(raw["outputs"])]
    common = common_fields(raw)
    check_against_model(common["base_overrides"], outputs)
    return Settings(method, samples, params, outputs, sample_seed=whole(raw.get("sample_seed", 0), "sample_seed", 0),
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
        raise field_error("method", f"{method!r}; allowed: {', '.join(METHODS)}")
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
        parameter range). Both: ``quality`` (:func:`quality`: ``ok`` or the flags on the
        estimate) and the attribute ``advice`` (:func:`advice`).
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
        raise field_error("method", f"{method!r}; allowed: {', '.join(METHODS)}")
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
    out["quality"] = quality(out)
    out.attrs["advice"] = advice(out)
    return out


#: The checks of :func:`quality`: method -> (flag, test on the indices of one output and parameter).
QUALITY_CHECKS = {
    "sobol": (("S1 < 0", lambda x: x.S1 < 0),
              ("ST > 1", lambda x: x.ST > 1),
              ("S1 interval includes 0", lambda x: (x.S1 - x.S1_conf <= 0) & (x.S1 + x.S1_conf >= 0)),
              ("ST interval includes 0", lambda x: x.ST - x.ST_conf <= 0)),
    "morris": (("mu* interval includes 0", lambda x: x.mu_star - x.mu_star_conf <= 0),),
}


def quality(indices: xr.Dataset) -> xr.DataArray:
    """Flags on each index (dims ``output``, ``parameter``): ``"ok"`` or the reasons to distrust it,
    ``; ``-separated: an interval that includes 0 (the index cannot be told from no effect at
    these samples), a total index above 1 or a negative first-order index (impossible values:
    sampling error)."""
    flags = np.full((indices.sizes["output"], indices.sizes["parameter"]), "", dtype=object)
    for flag, test in QUALITY_CHECKS[indices.attrs["method"]]:
        hit = np.asarray(test(indices).transpose("output", "parameter").values, dtype=bool)
        flags[hit] = [f"{old}; {flag}" if old else flag for old in flags[hit]]
    flags[flags == ""] = "ok"
    return xr.DataArray(flags, dims=("output", "parameter"), coords={"output": indices.output,
                                                                     "parameter": indices.parameter},
                        attrs={"long_name": "flags on the estimate (ok, or why to distrust it)"})


def advice(indices: xr.Dataset) -> str:
    """What the flags of :func:`quality` mean for this analysis, with what to do ("" if none)."""
    flags = indices["quality"].values.ravel()
    bad = [f for f in flags if f != "ok"]
    if not bad:
        return ""
    runs = indices.attrs["runs"]
    impossible = sum(("S1 < 0" in f) or ("ST > 1" in f) for f in bad)
    text = (f"{len(bad)} of {len(flags)} indices flagged (on {runs} design points): an interval that includes 0 "
            f"cannot be told from no effect")
    if impossible:
        text += f"; {impossible} with impossible values (S1 < 0 or ST > 1), a sign of too few samples"
    return text + ("; rerun with more samples (double samples: the intervals narrow as 1/sqrt(samples)) before "
                   "ranking flagged parameters; an index that stays near 0 with more samples means no effect")


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
    indices.attrs["jobs"] = jobs_note(ds)
    return indices, design


# --------------------------------------------------------------------------- report
def table(indices: xr.Dataset) -> pd.DataFrame:
    """The indices as a table: rows (output, parameter) sorted by importance, columns the indices and
    their ``quality`` flags; ``attrs``: ``advice`` and ``jobs`` (how many jobs finished)."""
    key = "ST" if indices.attrs["method"] == "sobol" else "mu_star"
    df = indices.to_dataframe()
    df = df.sort_values(["output", key], ascending=[True, False])
    df.attrs.update(advice=indices.attrs.get("advice", ""), jobs=indices.attrs.get("jobs", ""))
    return df


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
        flagged = ["" if q == "ok" else "//" for q in x["quality"].values] if "quality" in x else [""] * len(y)
        if indices.attrs["method"] == "sobol":
            ax.barh(y - 0.2, x.S1, 0.4, xerr=x.S1_conf, label="first order S1", color="C0", capsize=3,
                    hatch=flagged)
            ax.barh(y + 0.2, x.ST, 0.4, xerr=x.ST_conf, label="total ST", color="C1", capsize=3, hatch=flagged)
            ax.set_xlabel(f"Sobol index (share of variance),\n{level} intervals; hatched: flagged")
            ax.axvline(0, color="0.5", lw=0.8)
        else:
            ax.barh(y, x.mu_star, 0.6, xerr=x.mu_star_conf, color="C0", capsize=3, label="mu*", hatch=flagged)
            ax.plot(x.sigma, y, "kx", label="sigma")
            ax.set_xlabel(f"Morris mu* (output units per range),\n{level} intervals; hatched: flagged")
        ax.set_yticks(y, list(indices.parameter.values))
        ax.invert_yaxis()
        ax.set_title(str(o))
        ax.legend(fontsize=7)
    fig.suptitle(f"{indices.attrs['method'].capitalize()} sensitivity, {indices.attrs['runs']} design points "
                 f"x {indices.attrs.get('seeds', 1)} seeds", fontsize=10)
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    parser = tool_parser("python -m sim.sensitivity", __doc__.split("\n\n")[0],
                         "sensitivity config YAML (see analysis/sensitivity_both.yaml)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
        settings.n_jobs = n_jobs_option(args, settings.n_jobs)
        out = output_folder(args, "sensitivity")
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
              f"in {time.perf_counter() - t0:.0f} s{where} ({indices.attrs['jobs']}){filled}\n{tab.to_string()}")
    if indices.attrs["advice"]:
        print(f"warning: {indices.attrs['advice']}")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
