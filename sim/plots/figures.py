"""The six standard figures of a run, and :func:`plot_run`, which writes them beside ``run.nc``."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from ..results.runfolder import save_atomic
from .common import (
    _DPI,
    _FEW_FIRMS,
    _SEGMENT_STYLES,
    BLOCKS,
    PLOT_FILES,
    _alive,
    _check,
    _draw_quadrants,
    _extra_handles,
    _first_finite,
    _label,
    _mark_events,
    _marker_area,
    _ncols,
    _place_names,
    _shade_shock,
    _status,
    _time_axis,
    _title,
    firm_colors,
)


def plot_run(ds: xr.Dataset, outdir: str | os.PathLike) -> list[Path]:
    """Draw the standard figures of one run as PNG files.

    Parameters
    ----------
    ds : xarray.Dataset
        One run as returned by :func:`sim.run` (dimensions ``step``, ``firm``,
        ``segment``; no sweep dimensions).
    outdir : path-like
        Folder to write into (created if missing), normally the run folder that
        holds ``run.nc``. Existing plots of the same name are replaced.

    Returns
    -------
    list of pathlib.Path
        The written files, in the order of :data:`PLOT_FILES`.
    """
    _check(ds)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    drawers: tuple[Callable[[xr.Dataset], Figure], ...] = (
        quadrant_map_figure,
        market_share_figure,
        relationship_figure,
        building_blocks_figure,
        segments_figure,
        economics_figure,
    )
    paths = []
    for name, draw in zip(PLOT_FILES, drawers, strict=True):
        fig = draw(ds)
        paths.append(save_atomic(lambda tmp, fig=fig: fig.savefig(tmp, format="png", dpi=_DPI), outdir / name))
    return paths


# ---------------------------------------------------------------- the figures


def quadrant_map_figure(ds: xr.Dataset) -> Figure:
    """Firm paths on the digital x human map with the digital expectation E.

    Parameters
    ----------
    ds : xarray.Dataset
        One run as returned by :func:`sim.run`.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; save it with ``fig.savefig(path)``.
    """
    n_firms = ds.sizes["firm"]
    extra = 0.5 + 0.2 * -(-n_firms // 3) if n_firms > _FEW_FIRMS else 0.0  # room for the legend below
    fig = Figure(figsize=(9.6, 7.0 + extra), dpi=_DPI, layout="constrained")
    ax = fig.add_subplot()
    _draw_quadrants(ax, ds)
    colors = firm_colors(ds)
    alive = _alive(ds)
    x = np.where(alive, ds["digital"].values, np.nan)
    y = np.where(alive, ds["human"].values, np.nan)
    share = ds["share"].values
    steps = ds["step"].values

    e = ds["digital_expectation"].values
    e_ok = e[np.isfinite(e)]
    handles: list = []
    if e_ok.size:
        ax.axvspan(e_ok.min(), e_ok.max(), color="0.55", alpha=0.18, lw=0, zorder=1)
        ax.axvline(e_ok[0], color="0.35", ls=":", lw=1.2, zorder=2)
        ax.axvline(e_ok[-1], color="0.2", ls="--", lw=1.4, zorder=2)
        ax.plot([e_ok[0]], [0], marker="^", ms=9, color="0.35", clip_on=False, zorder=6,
                transform=blended_transform_factory(ax.transData, ax.transAxes))
        e_steps = steps[np.isfinite(e)]
        handles += [
            Line2D([], [], color="0.35", ls=":", marker="^", ms=7,
                   label=f"E at step {e_steps[0]}: {e_ok[0]:.2f}"),
            Line2D([], [], color="0.2", ls="--", label=f"E at step {e_steps[-1]}: {e_ok[-1]:.2f}"),
            Patch(color="0.55", alpha=0.3, label="range of E over the run"),
        ]

    ends: list[tuple[str, float, float, tuple, float]] = []
    firm_handles = []
    for j, firm in enumerate(ds["firm"].values):
        c = colors[str(firm)]
        ok = np.flatnonzero(np.isfinite(x[:, j]) & np.isfinite(y[:, j]))
        status = _status(ds, alive, j)
        firm_handles.append(Line2D([], [], color=c, marker="o", ms=7, lw=2, label=f"{firm} ({status})"))
        if ok.size == 0:
            continue
        xs, ys = x[ok, j], y[ok, j]
        ax.plot(xs, ys, color=c, lw=2, alpha=0.85, zorder=3, solid_capstyle="round")
        if np.ptp(xs) > 0 or np.ptp(ys) > 0:
            ax.plot(xs[0], ys[0], marker="o", ms=7, mfc="white", mec=c, mew=1.8, zorder=4)
        if alive[-1, j]:
            ax.scatter([xs[-1]], [ys[-1]], s=[_marker_area(share[-1, j])], color=c,
                       edgecolors="black", linewidths=0.7, zorder=5)
        else:
            ax.plot(xs[-1], ys[-1], marker="X", ms=11, color=c, mec="black", mew=0.7, zorder=5)
        ends.append((str(firm), float(xs[-1]), float(ys[-1]), c,
                     np.sqrt(_marker_area(share[-1, j]) if alive[-1, j] else 121.0) / 2))

    size_handles = [Line2D([], [], ls="", marker="o", color="0.6", mec="black", mew=0.5,
                           ms=np.sqrt(_marker_area(s)), label=f"{s:.0%}")
                    for s in (0.1, 0.25, 0.5)]
    many = len(firm_handles) > _FEW_FIRMS  # a long list goes below the map
    fig.legend(handles=firm_handles, title="firm (at the end)",
               loc="outside lower center" if many else "outside right upper", fontsize=8.5,
               title_fontsize=9, alignment="left", ncols=3 if many else 1)
    fig.legend(handles=handles + size_handles, loc="outside right upper" if many else "outside right lower",
               fontsize=8.5,
               title="digital expectation E;\nmarker size: share at the end", title_fontsize=9,
               alignment="left", labelspacing=1.0, borderpad=0.8)
    fig.suptitle(_title(ds, "Quadrant map: firm positions over the run"), fontsize=12)
    if not many:  # names on the map stay readable for a handful of firms
        _place_names(fig, ax, ends)
    return fig


def market_share_figure(ds: xr.Dataset) -> Figure:
    """Stacked market shares over time, entries and exits marked.

    Parameters
    ----------
    ds : xarray.Dataset
        One run as returned by :func:`sim.run`.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; save it with ``fig.savefig(path)``.
    """
    fig = Figure(figsize=(10, 5.2), dpi=_DPI, layout="constrained")
    ax = fig.add_subplot()
    colors = firm_colors(ds)
    steps = ds["step"].values
    share = np.nan_to_num(np.where(_alive(ds), ds["share"].values, 0.0))
    firms = [str(f) for f in ds["firm"].values]
    cols = [colors[f] for f in firms]
    if len(steps) > 1:
        ax.stackplot(steps, share.T, colors=cols, labels=firms, alpha=0.85, lw=0.4, edgecolor="white")
    else:  # one step: a stacked bar, an area of zero width would be invisible
        bottom = 0.0
        for j, f in enumerate(firms):
            ax.bar(steps, share[:, j], bottom=bottom, color=cols[j], width=0.5, label=f)
            bottom += share[0, j]
    _shade_shock(ax, ds, over=True)
    _mark_events(ax, ds, label=True)
    ax.set_ylim(0, 1)
    _time_axis(ax, ds)
    ax.set_ylabel(_label(ds, "share"))
    ax.yaxis.set_major_formatter("{x:.0%}")
    handles = [Patch(color=colors[f], label=f) for f in firms] + _extra_handles(ds, hatched=True)
    fig.legend(handles=handles, loc="outside right upper", fontsize=9, ncols=_ncols(len(handles)))
    fig.suptitle(_title(ds, "Market share"), fontsize=12)
    return fig


def relationship_figure(ds: xr.Dataset) -> Figure:
    """Mean trust, mean engagement and NPS per firm over time, sharing the time axis.

    Parameters
    ----------
    ds : xarray.Dataset
        One run as returned by :func:`sim.run`.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; save it with ``fig.savefig(path)``.
    """
    panels = (("trust", "trust", (0, 1)), ("engagement", "engagement", (0, None)),
              ("nps", "NPS", (None, None)))
    return _firm_time_panels(ds, panels, "Trust, engagement and NPS of each firm's customers",
                             zero_line={"nps"})


def economics_figure(ds: xr.Dataset) -> Figure:
    """Price, profit and cash per firm over time, sharing the time axis.

    Parameters
    ----------
    ds : xarray.Dataset
        One run as returned by :func:`sim.run`.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; save it with ``fig.savefig(path)``.
    """
    panels = (("price", "price", (0, None)), ("profit", "profit", (None, None)),
              ("cash", "cash", (None, None)))
    return _firm_time_panels(ds, panels, "Firm economics", zero_line={"profit", "cash"})


def building_blocks_figure(ds: xr.Dataset) -> Figure:
    """Small multiples: each building block and the relationship index per firm at the end.

    Parameters
    ----------
    ds : xarray.Dataset
        One run as returned by :func:`sim.run`.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; save it with ``fig.savefig(path)``.
    """
    fig = Figure(figsize=(11, 6.6), dpi=_DPI, layout="constrained")
    axes = fig.subplots(2, 3, sharex=True, sharey=True)
    colors = firm_colors(ds)
    firms = [str(f) for f in ds["firm"].values]
    alive = _alive(ds)
    ypos = np.arange(len(firms))
    for ax, (var, title) in zip(axes.flat, BLOCKS, strict=True):
        strong = var == "relationship"
        if strong:
            ax.set_facecolor("#f4f4f4")
        vals = np.where(alive, ds[var].values, np.nan)
        end = vals[-1]
        first = np.array([_first_finite(vals[:, j]) for j in range(len(firms))])
        ax.barh(ypos, np.nan_to_num(end), color=[colors[f] for f in firms], height=0.68, zorder=2)
        ax.plot(first, ypos, ls="", marker="|", ms=16, mew=2, color="black", zorder=3)
        for j in range(len(firms)):
            if np.isfinite(end[j]):
                right = np.nanmax([end[j], first[j], 0.0]) if np.isfinite(first[j]) else end[j]
                ax.text(min(right, 1.0) + 0.03, ypos[j], f"{end[j]:.2f}", va="center", fontsize=8.5,
                        zorder=4)
            else:
                ax.text(0.02, ypos[j], _status(ds, alive, j), va="center", fontsize=8.5,
                        style="italic", color="0.3", zorder=4,
                        bbox={"boxstyle": "square,pad=0.15", "fc": ax.get_facecolor(), "ec": "none",
                              "alpha": 0.85})
        ax.set_title(title, fontsize=10.5, fontweight="bold" if strong else "normal")
        ax.grid(axis="x", color="0.9", zorder=0)
        ax.set_xlim(0, 1.15)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    axes[0, 0].set_yticks(ypos, firms)
    axes[0, 0].invert_yaxis()
    for ax in axes[1]:
        ax.set_xlabel("mean over the firm's customers (0 to 1)", fontsize=9)
    handles = [Line2D([], [], ls="", marker="|", ms=12, mew=2, color="black",
                      label="first recorded value (start or entry)")]
    fig.legend(handles=handles, loc="outside lower center", fontsize=9, frameon=False)
    fig.suptitle(_title(ds, f"Building blocks of the relationship at step {ds['step'].values[-1]}"),
                 fontsize=12)
    return fig


def segments_figure(ds: xr.Dataset) -> Figure:
    """Engagement, disengaged share and adoption by customer segment over time.

    Parameters
    ----------
    ds : xarray.Dataset
        One run as returned by :func:`sim.run`.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; save it with ``fig.savefig(path)``.
    """
    panels = (("segment_engagement", "engagement"), ("segment_disengaged", "disengaged"),
              ("adoption", "adoption"))
    fig = Figure(figsize=(10, 8.2), dpi=_DPI, layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True)
    steps = ds["step"].values
    segs = [str(s) for s in ds["segment"].values]
    cmap = colormaps["Dark2"]
    marker = "o" if len(steps) < 5 else None
    for ax, (var, title) in zip(axes, panels, strict=True):
        vals = ds[var].values
        for k, seg in enumerate(segs):
            ax.plot(steps, vals[:, k], color=cmap(k % 8), ls=_SEGMENT_STYLES[k // 8 % 4], lw=1.8,
                    marker=marker, label=seg)
        ax.set_title(ds[var].attrs.get("long_name", var), fontsize=10, loc="left")
        ax.set_ylabel(_label(ds, var, short=title), fontsize=9.5)
        ax.set_ylim(0, 1.02 if "disengaged" in var or "adoption" in var else None)
        if "engagement" in var:
            ax.set_ylim(bottom=0)
        ax.grid(color="0.92")
        _shade_shock(ax, ds)
    _time_axis(axes[-1], ds)
    handles = [Line2D([], [], color=cmap(k % 8), ls=_SEGMENT_STYLES[k // 8 % 4], lw=2, label=s)
               for k, s in enumerate(segs)]
    handles += [h for h in _extra_handles(ds) if isinstance(h, Patch)]
    fig.legend(handles=handles, title="segment", loc="outside right upper", fontsize=9)
    fig.suptitle(_title(ds, "Customer segments"), fontsize=12)
    return fig


# ---------------------------------------------------------------- helpers


def _firm_time_panels(ds: xr.Dataset, panels: Sequence[tuple[str, str, tuple[float | None, float | None]]],
                      what: str, zero_line: set[str]) -> Figure:
    fig = Figure(figsize=(10, 8.2), dpi=_DPI, layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True)
    colors = firm_colors(ds)
    steps = ds["step"].values
    alive = _alive(ds)
    marker = "o" if len(steps) < 5 else None
    for n, (ax, (var, title, (lo, hi))) in enumerate(zip(axes, panels, strict=True)):
        vals = np.where(alive, ds[var].values, np.nan)
        for j, firm in enumerate(ds["firm"].values):
            ax.plot(steps, vals[:, j], color=colors[str(firm)], lw=1.7, marker=marker, label=str(firm))
        if var in zero_line:
            ax.axhline(0, color="0.4", lw=0.8, zorder=1)
        if lo is not None:
            ax.set_ylim(bottom=lo)
        if hi is not None:
            ax.set_ylim(top=hi)
        ax.set_title(ds[var].attrs.get("long_name", var), fontsize=10, loc="left")
        ax.set_ylabel(_label(ds, var, short=title), fontsize=9.5)
        ax.grid(color="0.92")
        _shade_shock(ax, ds)
        _mark_events(ax, ds, label=n == 0, values=vals)
    _time_axis(axes[-1], ds)
    handles = [Line2D([], [], color=colors[str(f)], lw=2, label=str(f)) for f in ds["firm"].values]
    handles += _extra_handles(ds)
    fig.legend(handles=handles, loc="outside right upper", fontsize=9, ncols=_ncols(len(handles)))
    fig.suptitle(_title(ds, what), fontsize=12)
    return fig


