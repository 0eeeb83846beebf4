"""Plots of a run: six PNG figures beside ``run.nc`` and an animated quadrant map.

:func:`plot_run` (called by the CLI after ``run.nc`` is written) draws, into the run
folder, the files named in :data:`PLOT_FILES`:

``quadrant_map.png``
    Digital (x) against human (y) service level, the four quadrants with their names
    from the model brief, each firm's path over the run (hollow circle: start, filled
    circle sized by final market share: end, cross: exit), and the digital
    expectation E (band: range over the run, dotted: start, dashed: end).
``market_share.png``
    Market share over time as a stacked area, with firm entries and exits marked.
``trust_engagement_nps.png``
    Mean trust, mean engagement and NPS of each firm's customers over time.
``building_blocks.png``
    The five building blocks (trust, engagement, freedom of choice, influence,
    fairness) and the relationship index per firm at the final step (a tick marks
    each firm's first recorded value).
``segments.png``
    Engagement, disengaged share and digital adoption by customer segment over time.
``economics.png``
    Price, profit and cash per firm over time.

:func:`animate_quadrants` writes the quadrant map as an animated GIF, one frame per
step, for teaching; the CLI does not call it::

    import xarray as xr
    from sim.plots import animate_quadrants
    ds = xr.open_dataset("results/<run>/run.nc", engine="h5netcdf")
    animate_quadrants(ds, "results/<run>/quadrants.gif", fps=8)

Every firm keeps the same colour in every figure (:func:`firm_colors`). Values are
shown only while a firm takes part in the market (``alive``): nothing is drawn for a
firm before it enters or after it exits, and means over no customers stay gaps.
Only :class:`matplotlib.figure.Figure` objects are used, never ``pyplot``: no window
opens, no global figure list grows, and plotting is safe in threads and worker
processes. Each file is written to a hidden temporary file in the same folder and
renamed into place, so an interrupted run never leaves half an image.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib import colormaps
from matplotlib.animation import PillowWriter
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory
from PIL import Image

#: File names written by :func:`plot_run`, in order.
PLOT_FILES: tuple[str, ...] = (
    "quadrant_map.png",
    "market_share.png",
    "trust_engagement_nps.png",
    "building_blocks.png",
    "segments.png",
    "economics.png",
)

#: Quadrant number -> (position on the map, name from the model brief).
QUADRANTS: dict[int, tuple[str, str]] = {
    1: ("neither", "quick death"),
    2: ("human only", "strong today,\ninsufficient tomorrow"),
    3: ("digital only", "fighter's market"),
    4: ("digital and human", "when digital\nbecomes human"),
}
#: Threshold on digital and human separating the quadrants (as in ``sim.firms.quadrant``).
QUADRANT_THRESHOLD = 0.5
#: The building blocks of a sustainable relationship, plus the combined index.
BLOCKS: tuple[tuple[str, str], ...] = (
    ("trust", "trust"),
    ("engagement", "engagement"),
    ("freedom", "freedom of choice"),
    ("influence", "influence"),
    ("fairness", "fairness"),
    ("relationship", "relationship index"),
)

_DPI = 110
_QUADRANT_FILL = {1: "#f6dede", 2: "#f8ecd4", 3: "#dde8f5", 4: "#ddf0dd"}
_SEGMENT_STYLES = ("-", "--", "-.", ":")
_SHOCK_COLOR = "#9e9e9e"
#: Up to this many firms, the quadrant map names firms beside their markers.
_FEW_FIRMS = 12


# ---------------------------------------------------------------- public API


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
        paths.append(_save_atomic(draw(ds), outdir / name))
    return paths


def animate_quadrants(ds: xr.Dataset, path: str | os.PathLike, fps: int = 8, every: int = 1,
                      dpi: int = 80) -> Path:
    """Write the quadrant map as an animated GIF, one frame per step.

    Each frame shows every firm's trail up to that step, its current position with
    a marker sized by its market share at that step, and the digital expectation E
    of that step as a dashed vertical line. The map, its labels and ticks are drawn
    once and blitted (only the moving parts are redrawn per frame) and all frames
    share one colour palette, so 120 steps take one or two seconds.

    Parameters
    ----------
    ds : xarray.Dataset
        One run as returned by :func:`sim.run`.
    path : path-like
        The ``.gif`` file to write (replaced if it exists; written atomically).
    fps : int, default 8
        Frames per second.
    every : int, default 1
        Draw every ``every``-th step (the last step is always included).
    dpi : int, default 80
        Resolution; a frame is 6.4 x 6 inches (512 x 480 pixels at 80 dpi).

    Returns
    -------
    pathlib.Path
        ``path``. The GIF holds ``ceil(steps / every)`` frames (one per step with
        ``every=1``) and loops forever.
    """
    _check(ds)
    if fps < 1 or every < 1:
        raise ValueError(f"fps and every must be >= 1, got fps={fps}, every={every}")
    path = Path(path)
    n_steps = ds.sizes["step"]
    frames = list(range(0, n_steps, every))
    if frames[-1] != n_steps - 1:
        frames.append(n_steps - 1)
    steps = ds["step"].values
    alive = _alive(ds)
    x = np.where(alive, ds["digital"].values, np.nan)
    y = np.where(alive, ds["human"].values, np.nan)
    share = np.where(alive, ds["share"].values, np.nan)
    e = ds["digital_expectation"].values
    shock = np.nan_to_num(ds["shock"].values.astype(float)) > 0 if "shock" in ds else np.zeros(n_steps, bool)
    colors = firm_colors(ds)

    fig = Figure(figsize=(6.4, 6.0), dpi=dpi)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.09, top=0.88)
    ax = fig.add_subplot()
    _draw_quadrants(ax, ds)
    fig.suptitle(f"Quadrant map: scenario {_scenario(ds)}", fontsize=12)
    stamp = ax.set_title("", fontsize=10, loc="left")
    e_line = ax.axvline(e[0] if np.isfinite(e[0]) else 0.0, color="0.25", ls="--", lw=1.3, zorder=2)
    moving: list = [stamp, e_line]
    trails, dots, names = [], [], []
    for firm in ds["firm"].values:
        c = colors[str(firm)]
        (trail,) = ax.plot([], [], color=c, lw=1.5, alpha=0.8, zorder=3)
        (dot,) = ax.plot([], [], ls="", marker="o", color=c, mec="black", mew=0.6, zorder=4)
        name = ax.annotate(str(firm), (0.0, 0.0), xytext=(7, 3), textcoords="offset points",
                           fontsize=8, color=c, fontweight="bold", zorder=5, va="bottom", ha="left",
                           bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6})
        trails.append(trail)
        dots.append(dot)
        names.append(name)
    moving += trails + dots + names

    tmp = _tmp_beside(path, suffix=".gif")  # Pillow picks the format from the suffix
    try:
        writer = _BlitGifWriter(moving, fps=fps, extra_colors=list(colors.values()))
        with writer.saving(fig, tmp, dpi):
            for i in frames:
                label = f"step {steps[i]} of {steps[-1]}    E = {e[i]:.2f}"
                stamp.set_text(label + ("    shock" if shock[i] else ""))
                e_line.set_xdata([e[i], e[i]])
                e_line.set_visible(bool(np.isfinite(e[i])))
                shown = []
                for j in range(len(trails)):
                    trails[j].set_data(x[: i + 1, j], y[: i + 1, j])
                    seen = np.flatnonzero(np.isfinite(x[: i + 1, j]) & np.isfinite(y[: i + 1, j]))
                    if seen.size == 0:  # not entered yet
                        dots[j].set_visible(False)
                        names[j].set_visible(False)
                        continue
                    k = seen[-1]
                    exited = k < i  # a cross where it left the market
                    radius = 5.0 if exited else np.sqrt(_marker_area(share[i, j])) / 2
                    dots[j].set_data([x[k, j]], [y[k, j]])
                    dots[j].set_marker("X" if exited else "o")
                    dots[j].set_markersize(2 * radius)
                    dots[j].set_visible(True)
                    names[j].xy = (x[k, j], y[k, j])
                    names[j].set_visible(True)
                    shown.append((j, x[k, j], y[k, j], radius))
                labels = [(names[j].get_text(), xj, yj, r) for j, xj, yj, r in shown]
                for (j, *_), offset in zip(shown, _name_offsets(ax, labels, 8.0), strict=True):
                    names[j].xyann = offset
                writer.grab_frame()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


class _BlitGifWriter(PillowWriter):
    """:class:`~matplotlib.animation.PillowWriter` that blits and shares one palette.

    The figure without the ``moving`` artists is drawn once and kept as a background;
    each frame restores it and draws only the moving artists (the quadrant labels and
    ticks are not re-rendered 120 times). Pillow would otherwise also build an
    adaptive palette per frame when saving; here every frame is mapped onto one
    palette taken from the first frame plus swatches of ``extra_colors`` (the firm
    colours, as some firms appear only later).
    """

    def __init__(self, moving: Sequence, fps: int, extra_colors: Sequence[tuple[float, ...]] = ()):
        super().__init__(fps=fps)
        self._moving = list(moving)
        self._extra = [tuple(int(round(255 * v)) for v in c[:3]) for c in extra_colors]

    def setup(self, fig: Figure, outfile: str | os.PathLike, dpi: float | None = None) -> None:
        super().setup(fig, outfile, dpi=dpi)
        fig.set_dpi(self.dpi)
        self._canvas = FigureCanvasAgg(fig)
        for artist in self._moving:
            artist.set_animated(True)  # left out of a full draw
        self._canvas.draw()
        self._background = self._canvas.copy_from_bbox(fig.bbox)
        self._palette: Image.Image | None = None
        self._images: list[Image.Image] = []

    def grab_frame(self, **savefig_kwargs) -> None:
        canvas = self._canvas
        canvas.restore_region(self._background)
        for artist in self._moving:
            if artist.get_visible():
                self.fig.draw_artist(artist)
        w, h = canvas.get_width_height()
        im = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        if self._palette is None:
            swatch = 24
            colors = [*self._extra, (0, 0, 0)]
            per_row = max(1, w // swatch)
            rows = -(-len(colors) // per_row)
            sample = Image.new("RGB", (w, h + rows * swatch), "white")
            sample.paste(im, (0, 0))
            for k, rgb in enumerate(colors):
                x0, y0 = k % per_row * swatch, h + k // per_row * swatch
                sample.paste(rgb, (x0, y0, x0 + swatch, y0 + swatch))
            self._palette = sample.quantize(colors=192, method=Image.Quantize.MEDIANCUT)
        self._images.append(im.quantize(palette=self._palette, dither=Image.Dither.NONE))

    def finish(self) -> None:
        self._images[0].save(self.outfile, save_all=True, append_images=self._images[1:],
                             duration=int(round(1000 / self.fps)), loop=0)


def firm_colors(ds: xr.Dataset) -> dict[str, tuple[float, float, float, float]]:
    """One colour per firm, by position in ``ds.firm``: the same in every figure.

    ``tab10`` for up to 10 firms, ``tab20`` for up to 20, evenly spaced ``turbo``
    colours beyond.
    """
    firms = [str(f) for f in ds["firm"].values]
    n = len(firms)
    if n <= 10:
        cmap = colormaps["tab10"]
        cols = [cmap(i) for i in range(n)]
    elif n <= 20:
        cmap = colormaps["tab20"]
        cols = [cmap(i) for i in range(n)]
    else:
        cmap = colormaps["turbo"]
        cols = [cmap(v) for v in np.linspace(0.05, 0.95, n)]
    return dict(zip(firms, cols, strict=True))


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


def _draw_quadrants(ax: Axes, ds: xr.Dataset) -> None:
    """Quadrant shading, dividing lines, names and axis labels on a [0, 1]^2 map."""
    t, lo, hi = QUADRANT_THRESHOLD, -0.03, 1.03
    boxes = {1: (lo, t, lo, t), 2: (lo, t, t, hi), 3: (t, hi, lo, t), 4: (t, hi, t, hi)}
    for q, (x0, x1, y0, y1) in boxes.items():
        ax.fill_between([x0, x1], y0, y1, color=_QUADRANT_FILL[q], lw=0, zorder=0)
        where, name = QUADRANTS[q]
        ax.text((x0 + x1) / 2, y1 - 0.02, f"{q}  {where}\n{name}", ha="center", va="top",
                fontsize=9, color="0.3", style="italic", zorder=2.5, linespacing=1.15,
                bbox={"boxstyle": "round,pad=0.2", "fc": _QUADRANT_FILL[q], "ec": "none", "alpha": 0.75})
    ax.axvline(t, color="0.45", lw=1.0, zorder=1)
    ax.axhline(t, color="0.45", lw=1.0, zorder=1)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel(_label(ds, "digital"))
    ax.set_ylabel(_label(ds, "human"))
    ax.set_xticks(np.linspace(0, 1, 5))
    ax.set_yticks(np.linspace(0, 1, 5))


def _place_names(fig: Figure, ax: Axes, ends: Sequence[tuple[str, float, float, tuple, float]],
                 fontsize: float = 9.0) -> None:
    """Write each firm's name beside its end marker, avoiding other names and markers.

    ``ends`` holds (name, x, y, colour, marker radius in points).
    """
    if not ends:
        return
    fig.get_layout_engine().execute(fig)  # lay out (no drawing): data -> pixel transforms are final
    offsets = _name_offsets(ax, [(e[0], e[1], e[2], e[4]) for e in ends], fontsize)
    for (name, x, y, color, _), off in zip(ends, offsets, strict=True):
        ax.annotate(name, (x, y), xytext=off, textcoords="offset points", ha="left", va="bottom",
                    fontsize=fontsize, color=color, fontweight="bold", zorder=6,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6})


def _name_offsets(ax: Axes, points: Sequence[tuple[str, float, float, float]],
                  fontsize: float) -> list[tuple[float, float]]:
    """Offsets (points) of the lower-left corners of name labels beside markers.

    ``points`` holds (name, x, y, marker radius in points). For each in turn, tries
    positions around the marker (right, left, above, below, then further out) and
    takes the first whose estimated text box overlaps no marker or earlier label and
    stays inside the axes; if none is free, the one with the least overlap. Needs
    final data -> pixel transforms (the figure laid out).
    """
    px = ax.get_figure(root=True).dpi / 72.0
    frame = ax.get_window_extent()
    centres = ax.transData.transform([(p[1], p[2]) for p in points]) if points else []
    taken = [(cx - r * px, cy - r * px, cx + r * px, cy + r * px)
             for (cx, cy), (*_, r) in zip(centres, points, strict=True)]

    def overlap(b: tuple[float, float, float, float]) -> float:
        area = sum(max(0.0, min(b[2], o[2]) - max(b[0], o[0])) * max(0.0, min(b[3], o[3]) - max(b[1], o[1]))
                   for o in taken)
        inside = (max(0.0, min(b[2], frame.x1) - max(b[0], frame.x0))
                  * max(0.0, min(b[3], frame.y1) - max(b[1], frame.y0)))
        return area + 4.0 * ((b[2] - b[0]) * (b[3] - b[1]) - inside)

    out = []
    for (name, _, _, r), (cx, cy) in zip(points, centres, strict=True):
        w, h = 0.64 * fontsize * px * len(name), 1.3 * fontsize * px
        d = (r + 3.0) * px
        options = []  # lower-left corner of the box relative to the centre, pixels
        for k in range(4):
            g = k * h
            options += [(d, 0.2 * h + g), (d, -1.2 * h - g), (-d - w, 0.2 * h + g), (-d - w, -1.2 * h - g),
                        (-w / 2, d + g), (-w / 2, -d - h - g)]
        best, best_score = options[0], np.inf
        for dx, dy in options:
            score = overlap((cx + dx, cy + dy, cx + dx + w, cy + dy + h))
            if score < best_score:
                best, best_score = (dx, dy), score
            if score == 0.0:
                break
        dx, dy = best
        taken.append((cx + dx, cy + dy, cx + dx + w, cy + dy + h))
        out.append((dx / px, dy / px))
    return out


def _marker_area(share: float) -> float:
    """Scatter marker area (points^2) for a market share in [0, 1]."""
    if not np.isfinite(share):
        return 0.0
    return 40.0 + 1400.0 * float(np.clip(share, 0.0, 1.0))


def _alive(ds: xr.Dataset) -> np.ndarray:
    """(step, firm) bool: the firm takes part in the market."""
    if "alive" in ds:
        return np.nan_to_num(ds["alive"].values.astype(float)) > 0
    return np.nan_to_num(ds["customers"].values.astype(float)) > 0


def _events(ds: xr.Dataset) -> list[tuple[int, str, str]]:
    """Entries and exits as (step index, firm, "enters" | "exits")."""
    alive = _alive(ds)
    out = []
    for j, firm in enumerate(ds["firm"].values):
        change = np.flatnonzero(np.diff(alive[:, j].astype(int))) + 1
        out += [(int(i), str(firm), "enters" if alive[i, j] else "exits") for i in change]
    return sorted(out)


def _status(ds: xr.Dataset, alive: np.ndarray, j: int) -> str:
    """Short end-of-run status of firm ``j`` for legends and empty bars."""
    steps = ds["step"].values
    if not alive[:, j].any():
        return "never entered"
    if not alive[-1, j]:
        last_exit = [i for i, f, kind in _events(ds) if f == str(ds["firm"].values[j]) and kind == "exits"]
        return f"exited at step {steps[last_exit[-1]]}" if last_exit else "exited"
    share = ds["share"].values[-1, j]
    return f"share {share:.0%}" if np.isfinite(share) else "no customers"


def _mark_events(ax: Axes, ds: xr.Dataset, label: bool, values: np.ndarray | None = None) -> None:
    """Vertical lines at entries (dotted) and exits (dash-dot) in the firm's colour."""
    colors = firm_colors(ds)
    steps = ds["step"].values
    firms = [str(f) for f in ds["firm"].values]
    events = _events(ds)
    for i, firm, kind in events:
        c = colors[firm]
        ax.axvline(steps[i], color=c, ls=":" if kind == "enters" else "-.", lw=1.3, zorder=1)
        if values is not None:
            j = firms.index(firm)
            k = i if kind == "enters" else i - 1  # the first / last step with a value
            if np.isfinite(values[k, j]):
                ax.plot(steps[k], values[k, j], marker="o" if kind == "enters" else "X", ms=7,
                        color=c, mec="black", mew=0.6, zorder=5)
    if label and events:
        # names on a top axis, slanted so that neighbouring events do not collide
        at: dict[int, list[tuple[str, str]]] = {}
        for i, firm, kind in events:
            at.setdefault(int(steps[i]), []).append((firm, kind))
        top = ax.secondary_xaxis("top")
        top.set_xticks(list(at), [_event_label(v) for v in at.values()], rotation=30, ha="left",
                       rotation_mode="anchor", fontsize=8)
        top.tick_params(length=3, pad=2)
        for tick, step in zip(top.get_xticklabels(), at, strict=True):
            first = next(f for i, f, _ in events if int(steps[i]) == step)
            tick.set_color(_darker(colors[first]))


def _event_label(events: Sequence[tuple[str, str]]) -> str:
    """'neither exits', 'a, b exit', or '5 firms exit, 1 enters' for one step's events."""
    parts = []
    for kind, one, many in (("enters", "enters", "enter"), ("exits", "exits", "exit")):
        firms = [f for f, k in events if k == kind]
        if len(firms) == 1:
            parts.append(f"{firms[0]} {one}")
        elif len(firms) == 2:
            parts.append(f"{firms[0]}, {firms[1]} {many}")
        elif firms:
            parts.append(f"{len(firms)} firms {many}")
    return "; ".join(parts)


def _darker(color: tuple[float, ...], by: float = 0.75) -> tuple[float, float, float]:
    return tuple(by * float(c) for c in color[:3])  # type: ignore[return-value]


def _shade_shock(ax: Axes, ds: xr.Dataset, over: bool = False) -> None:
    """Grey band over the steps with the shock window active (hatched on top if ``over``)."""
    if "shock" not in ds:
        return
    on = np.nan_to_num(ds["shock"].values.astype(float)) > 0
    steps = ds["step"].values
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(int), [0]])))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if over:
            ax.axvspan(steps[a] - 0.5, steps[b - 1] + 0.5, fill=False, hatch="//", ec=_SHOCK_COLOR, lw=0,
                       zorder=3)
        else:
            ax.axvspan(steps[a] - 0.5, steps[b - 1] + 0.5, color=_SHOCK_COLOR, alpha=0.2, lw=0, zorder=0)


def _extra_handles(ds: xr.Dataset, hatched: bool = False) -> list:
    """Legend entries for the shock band and entry/exit lines, when present."""
    out: list = []
    if "shock" in ds and np.nan_to_num(ds["shock"].values.astype(float)).any():
        if hatched:
            out.append(Patch(fill=False, hatch="//", ec=_SHOCK_COLOR, label="shock window"))
        else:
            out.append(Patch(color=_SHOCK_COLOR, alpha=0.35, label="shock window"))
    kinds = {kind for _, _, kind in _events(ds)}
    if "enters" in kinds:
        out.append(Line2D([], [], color="0.3", ls=":", marker="o", ms=6, mec="black", label="entry"))
    if "exits" in kinds:
        out.append(Line2D([], [], color="0.3", ls="-.", marker="X", ms=7, mec="black", label="exit"))
    return out


def _time_axis(ax: Axes, ds: xr.Dataset) -> None:
    steps = ds["step"].values
    lo, hi = float(steps[0]), float(steps[-1])
    if hi - lo < 2:
        ax.set_xlim(lo - 0.5, hi + 0.5)
    else:
        ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.set_xlabel(_label(ds, "step"))


def _label(ds: xr.Dataset, var: str, short: str | None = None) -> str:
    """Axis label from the variable's attributes: its long name (or ``short``) and units.

    Dimensionless variables (units ``"1"``) get no unit; with ``short`` the unit goes
    on a second line.
    """
    attrs = ds[var].attrs
    name = short or attrs.get("long_name", var)
    units = attrs.get("units", "")
    if units in ("", "1") or name.split(" ")[0] == units:  # "step (end of)" needs no "[step]"
        return name
    return f"{name}\n[{units}]" if short else f"{name} [{units}]"


def _first_finite(v: np.ndarray) -> float:
    ok = np.flatnonzero(np.isfinite(v))
    return float(v[ok[0]]) if ok.size else np.nan


def _ncols(n: int) -> int:
    """Legend columns: at most 16 rows."""
    return 1 + (n - 1) // 16


def _scenario(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("scenario", "unnamed"))


def _title(ds: xr.Dataset, what: str) -> str:
    bits = [f"scenario: {_scenario(ds)}"]
    if "seed" in ds.attrs:
        bits.append(f"seed {ds.attrs['seed']}")
    if "customers_n" in ds.attrs:
        bits.append(f"{int(ds.attrs['customers_n']):,} customers")
    return f"{what}\n" + " · ".join(bits)


def _check(ds: xr.Dataset) -> None:
    extra = set(ds.dims) - {"step", "firm", "segment"}
    if extra:
        raise ValueError(f"plots need one run; select one point of the sweep dimensions "
                         f"{sorted(extra)} first")
    if ds.sizes.get("step", 0) < 1 or ds.sizes.get("firm", 0) < 1:
        raise ValueError("plots need at least one step and one firm")


def _tmp_beside(path: Path, suffix: str = "") -> Path:
    """A fresh hidden name beside ``path`` (created by the writer, so the umask applies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{suffix}")


def _save_atomic(fig: Figure, path: Path) -> Path:
    """Save ``fig`` as PNG to a hidden temporary file beside ``path``, then rename it."""
    tmp = _tmp_beside(path)
    try:
        fig.savefig(tmp, format="png", dpi=_DPI)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
