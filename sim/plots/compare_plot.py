"""Command line: ``python -m sim.compare_plot RUN_A RUN_B ...`` draws small multiples across runs.

One column per run, one row per chosen variable, all panels of a row on the same
y-axis, and one legend shared by the whole figure: firms keep one colour across all
runs (by name, in order of first appearance), so the same firm is the same colour in
every column. A RUN is a run folder or its ``run.nc``, or ``scenario=NAME`` to run a
scenario now (with ``--customers`` and ``--seed``), so scenarios compare without
running them first::

    python -m sim.compare_plot results/baseline/... results/disruptor/... --vars share nps
    python -m sim.compare_plot scenario=baseline scenario=shock --vars share trust hhi --out shock.png

Variables with a ``firm`` dimension are drawn per firm (values only while the firm is
in the market); per-``segment`` variables per segment (line styles, in the legend);
market-level variables as one black line. The grey band marks a shock.
Exit status 2 with one line on stderr for an unknown variable, a missing run or a
bad scenario.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..settings.schema import ConfigError
from . import firm_colors

#: Variables drawn when none are chosen.
DEFAULT_VARS: tuple[str, ...] = ("share", "trust", "engagement", "nps")
_SEGMENT_STYLES = ("-", "--", "-.", ":")


def load_runs(runs: Sequence[str], customers: int | None = None, seed: int = 0) -> list[tuple[str, xr.Dataset]]:
    """``(label, dataset)`` for each RUN: a run folder, a ``run.nc``, or ``scenario=NAME`` (run now).

    Labels are the scenario and seed, with the folder name added when two runs would
    otherwise share a label.

    Raises
    ------
    ValueError
        One line naming a RUN that is neither a finished run nor a scenario.
    sim.ConfigError
        For a ``scenario=`` RUN with a bad scenario or customer count.
    """
    from ..api import run as run_model
    from ..results.output import load

    out: list[tuple[str, xr.Dataset, str]] = []
    for arg in runs:
        if arg.startswith("scenario="):
            overrides = [arg] + ([f"customers.n={customers}"] if customers is not None else [])
            ds = run_model(overrides, seed=seed)
            source = arg
        else:
            path = Path(arg)
            nc = path / "run.nc" if path.is_dir() else path
            if not nc.is_file():
                raise ValueError(f"{arg}: no finished run here (no run.nc) and not scenario=NAME")
            ds = load(nc)
            source = nc.parent.name
        out.append((f"{ds.attrs.get('scenario', '?')} (seed {ds.attrs.get('seed', '?')})", ds, source))
    labels = [label for label, _, _ in out]
    return [(f"{label}\n{source}" if labels.count(label) > 1 else label, ds) for label, ds, source in out]


def compare_figure(runs: Sequence[tuple[str, xr.Dataset]], variables: Sequence[str] = DEFAULT_VARS,
                   panel_size: tuple[float, float] = (3.4, 2.3)) -> Figure:
    """Small multiples: a column per run, a row per variable, one shared legend.

    Parameters
    ----------
    runs : sequence of (label, Dataset)
        The runs, as from :func:`load_runs`.
    variables : sequence of str
        Dataset variable names (``share``, ``nps``, ``hhi``, ``segment_engagement``...).
    panel_size : (float, float)
        Width and height of one panel, inches.

    Raises
    ------
    ValueError
        One line naming an unknown variable and the variables available.
    """
    if not runs:
        raise ValueError("no runs to compare: give at least one RUN")
    for var in variables:
        missing = [label for label, ds in runs if var not in ds.data_vars]
        if missing:
            known = sorted(set.intersection(*(set(map(str, ds.data_vars)) for _, ds in runs)))
            raise ValueError(f"--vars: unknown variable {var!r} (in {missing[0]!r}); allowed: {', '.join(known)}")
    firms: list[str] = []
    segments: list[str] = []
    for _, ds in runs:
        firms += [str(f) for f in ds["firm"].values if str(f) not in firms]
        if "segment" in ds.coords:
            segments += [str(s) for s in ds["segment"].values if str(s) not in segments]
    colors = firm_colors(xr.Dataset(coords={"firm": firms}))
    nrow, ncol = len(variables), len(runs)
    fig = Figure(figsize=(panel_size[0] * ncol + 0.6, panel_size[1] * nrow + 1.2), dpi=110)
    axes = np.atleast_2d(fig.subplots(nrow, ncol, sharex="col", sharey="row", squeeze=False))
    used_firms: set[str] = set()
    used_segments: set[str] = set()
    market_line = False
    for c, (label, ds) in enumerate(runs):
        steps = ds["step"].values
        alive = ds["alive"].values.astype(bool) if "alive" in ds else None
        for r, var in enumerate(variables):
            ax = axes[r, c]
            da = ds[var]
            if "firm" in da.dims:
                values = da.transpose("step", "firm").values.astype(float)
                if alive is not None:
                    values = np.where(alive, values, np.nan)
                for j, firm in enumerate(str(f) for f in ds["firm"].values):
                    if np.isfinite(values[:, j]).any():
                        ax.plot(steps, values[:, j], color=colors[firm], lw=1.4)
                        used_firms.add(firm)
            elif "segment" in da.dims:
                values = da.transpose("step", "segment").values.astype(float)
                for k, seg in enumerate(str(s) for s in ds["segment"].values):
                    ax.plot(steps, values[:, k], color="0.2", lw=1.2,
                            ls=_SEGMENT_STYLES[segments.index(seg) % len(_SEGMENT_STYLES)])
                    used_segments.add(seg)
            else:
                ax.plot(steps, da.values.astype(float), color="black", lw=1.4)
                market_line = True
            _shade_shock(ax, ds)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3, lw=0.5)
            if r == 0:
                ax.set_title(label, fontsize=9)
            if c == 0:
                units = da.attrs.get("units", "")
                ax.set_ylabel(f"{var}" + (f"\n({units})" if units and units != "1" else ""), fontsize=8)
            if r == nrow - 1:
                ax.set_xlabel("step", fontsize=8)
    handles = [Line2D([], [], color=colors[f], lw=2, label=f) for f in firms if f in used_firms]
    handles += [Line2D([], [], color="0.2", lw=1.2, ls=_SEGMENT_STYLES[segments.index(s) % len(_SEGMENT_STYLES)],
                       label=f"segment {s}") for s in segments if s in used_segments]
    if market_line:
        handles.append(Line2D([], [], color="black", lw=1.4, label="market"))
    if any(_shock_steps(ds) is not None for _, ds in runs):
        from matplotlib.patches import Patch

        handles.append(Patch(color="0.6", alpha=0.3, label="shock"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=8, frameon=False)
    bottom = 0.6 + 0.25 * ((len(handles) - 1) // 6 + 1)
    fig.subplots_adjust(left=0.8 / fig.get_figwidth() + 0.04, right=0.98, top=1 - 0.5 / fig.get_figheight(),
                        bottom=bottom / fig.get_figheight(), wspace=0.08, hspace=0.12)
    return fig


def save(fig: Figure, path: str | os.PathLike) -> Path:
    """Write ``fig`` (format from the suffix: png, pdf, svg) to a temporary file and rename it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    FigureCanvasAgg(fig)
    try:
        fig.savefig(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _shock_steps(ds: xr.Dataset) -> np.ndarray | None:
    if "shock" not in ds:
        return None
    on = np.nan_to_num(ds["shock"].values.astype(float)) > 0
    return ds["step"].values[on] if on.any() else None


def _shade_shock(ax, ds: xr.Dataset) -> None:
    steps = _shock_steps(ds)
    if steps is not None:
        ax.axvspan(steps.min() - 0.5, steps.max() + 0.5, color="0.6", alpha=0.3, lw=0)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    ap = argparse.ArgumentParser(prog="python -m sim.compare_plot",
                                 description="Small multiples of chosen variables across runs or scenarios.")
    ap.add_argument("runs", nargs="+", metavar="RUN", help="run folder, run.nc, or scenario=NAME (run now)")
    ap.add_argument("--vars", nargs="+", default=list(DEFAULT_VARS),
                    help=f"variables (default: {' '.join(DEFAULT_VARS)})")
    ap.add_argument("--out", default="compare.png", help="figure to write (.png, .pdf, .svg; default compare.png)")
    ap.add_argument("--customers", type=int, help="customers for scenario=NAME runs (default: the scenario's)")
    ap.add_argument("--seed", type=int, default=0, help="seed for scenario=NAME runs (default 0)")
    args = ap.parse_args(argv)
    try:
        runs = load_runs(args.runs, args.customers, args.seed)
        path = save(compare_figure(runs, args.vars), args.out)
    except (ValueError, ConfigError, OSError) as e:
        print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
