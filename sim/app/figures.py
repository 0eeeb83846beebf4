"""Figures of a running model for the classroom page (:mod:`sim.app.page`), one per panel.

Each panel (:class:`QuadrantMapPanel`, :class:`SharePanel`, :class:`RelationshipPanel`,
:class:`BlocksPanel`) is a small :class:`matplotlib.figure.Figure` drawn from what a
model has recorded so far (``sim.dataset(model)``, ``None`` before the first step)
and the firms' current state (:class:`FirmView`, read from ``model.firm_list``): the
quadrant map with each firm's trail, market share over time, trust / engagement /
NPS per firm, and the five building blocks. They use only the public outputs of a
model, so the page shows whatever the model does. A panel renders its static parts
once and redraws only its moving parts per step (:class:`LivePanel`). No
``pyplot``: figures are plain objects, safe in the server's threads. :func:`events`
lists entries, exits and shocks for the page's line of what just happened.

Firm colours are :func:`sim.plots.firm_colors`, the same as in the PNGs of a run;
on the quadrant map a firm's marker is filled with the colour of the quadrant it
stands in (:data:`QUADRANT_COLORS`) and sized by its market share.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Rectangle
from PIL import Image

from ..plots import BLOCKS, QUADRANT_THRESHOLD, QUADRANTS, firm_colors

#: Marker fill per quadrant (1 neither, 2 human only, 3 digital only, 4 both).
QUADRANT_COLORS: dict[int, str] = {1: "#d62728", 2: "#ff9f1c", 3: "#1f77b4", 4: "#2ca02c"}
#: Light background of each quadrant on the map.
QUADRANT_FILL: dict[int, str] = {1: "#f9e3e3", 2: "#fbefdb", 3: "#e1ebf6", 4: "#e2f2e2"}
#: Figure size of a panel, inches, and its resolution (dots per inch).
PANEL_SIZE: tuple[float, float] = (5.6, 4.2)
PANEL_DPI = 80


@dataclass(frozen=True)
class FirmView:
    """A firm's state now, as the page shows it.

    ``digital`` and ``human`` are service levels in [0, 1]; ``price`` is money per
    customer per step; ``share`` is the market share in [0, 1]; ``cash`` is money
    per customer in the market.
    """

    name: str
    digital: float
    human: float
    price: float
    share: float
    alive: bool
    cash: float


def quadrant_of(digital: float, human: float) -> int:
    """Quadrant number of a position (1 neither, 2 human only, 3 digital only, 4 both).

    A level counts as high at or above :data:`sim.plots.QUADRANT_THRESHOLD` (0.5).
    """
    return 1 + int(human >= QUADRANT_THRESHOLD) + 2 * int(digital >= QUADRANT_THRESHOLD)


def marker_size(share: float) -> float:
    """Marker area in points² for a market share in [0, 1] (area proportional to share)."""
    return 40.0 + 1600.0 * max(0.0, float(share))


class LivePanel:
    """One panel of the page: a figure drawn once, then only its moving parts per step.

    The axes, ticks, labels and legends are static (time axes run from 0 to the
    horizon from the start), so the figure is rendered in full once and kept as a
    background; each :meth:`render` restores it and draws only the artists that move
    (lines, markers, bars, labels), then encodes a PNG. That keeps a redraw of all
    panels well under the 0.5 s a step may take at 100,000 customers.
    """

    def __init__(self, names: Sequence[str], horizon: int, size: tuple[float, float] = PANEL_SIZE,
                 dpi: int = PANEL_DPI) -> None:
        self.names = list(names)
        self.horizon = int(horizon)
        self.colors = firm_colors(xr.Dataset(coords={"firm": self.names}))
        self.fig = Figure(figsize=size, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self._moving: list = []
        self._background = None

    def moving(self, *artists):
        """Mark ``artists`` as redrawn each step (left out of the static background)."""
        for a in artists:
            a.set_animated(True)
            self._moving.append(a)
        return artists[0] if len(artists) == 1 else artists

    def update(self, ds: xr.Dataset | None, firms: Sequence[FirmView]) -> None:
        """Set the moving artists to the state of ``ds`` (recorded steps) and ``firms`` (now)."""
        raise NotImplementedError

    def render(self, ds: xr.Dataset | None, firms: Sequence[FirmView]) -> bytes:
        """The panel for this state as PNG bytes."""
        self.update(ds, firms)
        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self._background)
        for a in self._moving:
            if a.get_visible():
                self.fig.draw_artist(a)
        w, h = self.canvas.get_width_height()
        im = Image.frombuffer("RGBA", (w, h), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        out = io.BytesIO()
        im.save(out, format="PNG", compress_level=1)
        return out.getvalue()


class QuadrantMapPanel(LivePanel):
    """The digital x human map: quadrants, each firm's trail and its marker now.

    Trails are the recorded positions while the firm was in the market (firm
    colour); the marker is filled with the colour of the firm's quadrant and
    outlined in the firm's colour, its area proportional to market share
    (:func:`marker_size`); a firm that has exited is a grey cross, one not yet
    entered is not drawn. The dashed line is the customers' digital expectation E at
    the last recorded step.
    """

    def __init__(self, names: Sequence[str], horizon: int, scenario: str = "") -> None:
        super().__init__(names, horizon)
        fig = self.fig
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.11, top=0.88)
        ax = self.ax = fig.add_subplot()
        t = QUADRANT_THRESHOLD
        for q, (x0, y0) in {1: (0, 0), 2: (0, t), 3: (t, 0), 4: (t, t)}.items():
            w, h = (t if x0 == 0 else 1 - t), (t if y0 == 0 else 1 - t)
            ax.add_patch(Rectangle((x0, y0), w, h, facecolor=QUADRANT_FILL[q], edgecolor="white", lw=1.5, zorder=0))
            ax.text(x0 + 0.02, y0 + h - 0.03, f"{q} {QUADRANTS[q][0]}", fontsize=8, color="0.35", va="top")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("digital service level")
        ax.set_ylabel("human service level")
        handles = [Line2D([], [], ls="", marker="o", mfc=QUADRANT_COLORS[q], mec="none", ms=7,
                          label=QUADRANTS[q][0]) for q in (1, 2, 3, 4)]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 1.1), ncol=4, fontsize=7,
                  frameon=False, handletextpad=0.2, columnspacing=0.8)
        fig.suptitle(f"Quadrant map{': ' + scenario if scenario else ''}", fontsize=10, y=0.995)
        self.e_line = self.moving(ax.axvline(0.0, color="0.3", ls="--", lw=1.0, zorder=2))
        self.trails, self.dots, self.labels = [], [], []
        for name in self.names:
            c = self.colors[name]
            self.trails.append(self.moving(ax.plot([], [], color=c, lw=1.6, alpha=0.8, zorder=3)[0]))
            self.dots.append(self.moving(ax.scatter([0.0], [0.0], s=[40.0], c=[QUADRANT_COLORS[1]],
                                                    edgecolors=[c], linewidths=2.0, zorder=4, alpha=0.9)))
            self.labels.append(self.moving(ax.annotate(
                name, (0.0, 0.0), xytext=(8, 6), textcoords="offset points", fontsize=8, zorder=5,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": c, "alpha": 0.8})))

    def update(self, ds: xr.Dataset | None, firms: Sequence[FirmView]) -> None:
        has = _has_steps(ds)
        if has:
            alive = ds["alive"].values.astype(bool)
            x = np.where(alive, ds["digital"].values, np.nan)
            y = np.where(alive, ds["human"].values, np.nan)
            e = float(ds["digital_expectation"].values[-1])
            self.e_line.set_xdata([e, e])
            self.e_line.set_visible(bool(np.isfinite(e)))
        else:
            self.e_line.set_visible(False)
        entered = _entered(ds, firms)
        for j, f in enumerate(firms):
            trail, dot, label = self.trails[j], self.dots[j], self.labels[j]
            if has:
                trail.set_data(x[:, j], y[:, j])
            else:
                trail.set_data([], [])
            dot.set_offsets([[f.digital, f.human]])
            label.xy = (f.digital, f.human)
            right = f.digital > 0.7  # label to the left of markers near the right edge
            label.xyann = (-8, 6) if right else (8, 6)
            label.set_horizontalalignment("right" if right else "left")
            if f.alive:
                dot.set_sizes([marker_size(f.share)])
                dot.set_facecolor(QUADRANT_COLORS[quadrant_of(f.digital, f.human)])
                dot.set_edgecolor(self.colors[f.name])
                dot.set_paths([MarkerStyle("o").get_path().transformed(MarkerStyle("o").get_transform())])
                label.set_text(f"{f.name} {100 * f.share:.0f}%")
                dot.set_visible(True)
                label.set_visible(True)
            elif f.name in entered:  # exited
                dot.set_sizes([70.0])
                dot.set_facecolor("0.5")
                dot.set_edgecolor("0.5")
                dot.set_paths([MarkerStyle("X").get_path().transformed(MarkerStyle("X").get_transform())])
                label.set_text(f"{f.name} (exited)")
                dot.set_visible(True)
                label.set_visible(True)
            else:  # not entered yet
                dot.set_visible(False)
                label.set_visible(False)


class SharePanel(LivePanel):
    """Market share of each firm over the steps (percent); grey band: the shock."""

    def __init__(self, names: Sequence[str], horizon: int) -> None:
        super().__init__(names, horizon)
        self.fig.subplots_adjust(left=0.12, right=0.98, bottom=0.12, top=0.9)
        ax = self.ax = self.fig.add_subplot()
        _time_axis(ax, horizon)
        ax.set_ylim(0, 100)
        ax.set_ylabel("market share (%)")
        ax.set_title("Market share", fontsize=10)
        _firm_legend(ax, self.names, self.colors, loc="upper right")
        self.band = self.moving(_band(ax))
        self.lines = [self.moving(ax.plot([], [], color=self.colors[n], lw=1.8)[0]) for n in self.names]
        self.wait = self.moving(_waiting(ax))

    def update(self, ds: xr.Dataset | None, firms: Sequence[FirmView]) -> None:
        has = _has_steps(ds)
        self.wait.set_visible(not has)
        _set_band(self.band, ds)
        if has:
            steps = ds["step"].values
            share = np.where(ds["alive"].values.astype(bool), ds["share"].values, np.nan) * 100
        for j, line in enumerate(self.lines):
            line.set_data((steps, share[:, j]) if has else ([], []))


class RelationshipPanel(LivePanel):
    """Mean trust and engagement (scores in [0, 1]) and NPS ([-100, 100]) per firm over time."""

    PANELS: tuple[tuple[str, str, tuple[float, float]], ...] = (
        ("trust", "trust", (0, 1)), ("engagement", "engagement", (0, 1)), ("nps", "NPS", (-100, 100)))

    def __init__(self, names: Sequence[str], horizon: int) -> None:
        super().__init__(names, horizon)
        self.fig.subplots_adjust(left=0.12, right=0.98, bottom=0.12, top=0.86, hspace=0.15)
        self.axes = self.fig.subplots(3, 1, sharex=True)
        self.lines: list[list] = []
        self.bands = []
        for ax, (_, label, lim) in zip(self.axes, self.PANELS, strict=True):
            ax.set_ylabel(label, fontsize=8)
            ax.set_ylim(*lim)
            ax.tick_params(labelsize=7)
            ax.set_xlim(0, max(1, horizon))
            self.bands.append(self.moving(_band(ax)))
            self.lines.append([self.moving(ax.plot([], [], color=self.colors[n], lw=1.5)[0]) for n in self.names])
        self.axes[-1].set_xlabel("step (month)")
        self.axes[0].set_title("Trust, engagement and NPS of each firm's customers", fontsize=10, pad=14)
        _firm_legend(self.axes[0], self.names, self.colors, loc="lower center", bbox_to_anchor=(0.5, 0.98),
                     ncol=min(5, len(self.names)), fontsize=6)
        self.wait = self.moving(_waiting(self.axes[1]))

    def update(self, ds: xr.Dataset | None, firms: Sequence[FirmView]) -> None:
        has = _has_steps(ds)
        self.wait.set_visible(not has)
        for band, lines, (var, _, _) in zip(self.bands, self.lines, self.PANELS, strict=True):
            _set_band(band, ds)
            values = ds[var].values if has else None
            for j, line in enumerate(lines):
                line.set_data((ds["step"].values, values[:, j]) if has else ([], []))


class BlocksPanel(LivePanel):
    """The five building blocks and the relationship index per firm at the last recorded step."""

    def __init__(self, names: Sequence[str], horizon: int) -> None:
        super().__init__(names, horizon)
        self.fig.subplots_adjust(left=0.12, right=0.98, bottom=0.27, top=0.9)
        ax = self.ax = self.fig.add_subplot()
        xs = np.arange(len(BLOCKS))
        width = 0.8 / max(1, len(self.names))
        ax.set_xticks(xs, [label.replace(" ", "\n", 1) for _, label in BLOCKS], fontsize=7)
        ax.set_xlim(-0.5, len(BLOCKS) - 0.5)
        ax.set_ylim(0, 1)
        ax.set_ylabel("mean score of its customers")
        _firm_legend(ax, self.names, self.colors, loc="upper center", bbox_to_anchor=(0.5, -0.14),
                     ncol=min(5, len(self.names)))
        self.bars = []
        for j, name in enumerate(self.names):
            bars = ax.bar(xs - 0.4 + width * (j + 0.5), np.zeros(len(BLOCKS)), width, color=self.colors[name])
            self.bars.append([self.moving(b) for b in bars])
        self.title = self.moving(ax.set_title("Building blocks", fontsize=10))
        self.wait = self.moving(_waiting(ax))

    def update(self, ds: xr.Dataset | None, firms: Sequence[FirmView]) -> None:
        has = _has_steps(ds)
        self.wait.set_visible(not has)
        self.title.set_text(f"Building blocks at step {int(ds['step'].values[-1])}" if has else "Building blocks")
        for j, bars in enumerate(self.bars):
            for bar, (var, _) in zip(bars, BLOCKS, strict=True):
                value = float(ds[var].values[-1, j]) if has else np.nan
                bar.set_height(value if np.isfinite(value) else 0.0)


def events(ds: xr.Dataset | None) -> list[tuple[int, str]]:
    """What happened when: ``(step, text)`` for each entry, exit, shock start and shock end.

    Read from the recorded ``alive`` and ``shock`` variables: a firm enters at the
    first step it is alive after a step it was not (or at step 1 if it is alive then
    but was not at the start, which the model does not do), and exits at the first
    step it is no longer alive after being alive.
    """
    if not _has_steps(ds):
        return []
    steps = ds["step"].values
    alive = ds["alive"].values.astype(bool)
    names = [str(f) for f in ds["firm"].values]
    shock = np.nan_to_num(ds["shock"].values.astype(float)) > 0 if "shock" in ds else np.zeros(len(steps), bool)
    out: list[tuple[int, str]] = []
    for i in range(len(steps)):
        step = int(steps[i])
        if shock[i] and (i == 0 or not shock[i - 1]):
            out.append((step, "shock starts: human capacity cut, customers pushed online"))
        if i > 0 and shock[i - 1] and not shock[i]:
            out.append((step, "shock ends"))
        if i == 0:
            continue
        for j, name in enumerate(names):
            if alive[i, j] and not alive[i - 1, j]:
                d, h = float(ds["digital"].values[i, j]), float(ds["human"].values[i, j])
                out.append((step, f"{name} enters ({QUADRANTS[quadrant_of(d, h)][0]}, "
                                  f"price {float(ds['price'].values[i, j]):.2f})"))
            if alive[i - 1, j] and not alive[i, j]:
                out.append((step, f"{name} exits (ran out of cash)"))
    return out


# ----------------------------------------------------------------- helpers


def _has_steps(ds: xr.Dataset | None) -> bool:
    return ds is not None and ds.sizes.get("step", 0) > 0


def _entered(ds: xr.Dataset | None, firms: Sequence[FirmView]) -> set[str]:
    """Firms that have been in the market at some recorded step (or are now)."""
    now = {f.name for f in firms if f.alive}
    if not _has_steps(ds):
        return now
    alive = ds["alive"].values.astype(bool).any(axis=0)
    return now | {str(n) for n, a in zip(ds["firm"].values, alive, strict=True) if a}


def _time_axis(ax, horizon: int) -> None:
    ax.set_xlim(0, max(1, horizon))
    ax.set_xlabel("step (month)")


def _firm_legend(ax, names: Sequence[str], colors: dict, **kw) -> None:
    handles = [Line2D([], [], color=colors[n], lw=2, label=n) for n in names]
    kw.setdefault("fontsize", 7)
    kw.setdefault("ncol", min(3, len(names)))
    ax.legend(handles=handles, frameon=False, **kw)


def _band(ax) -> Rectangle:
    """A shaded band over the full height of ``ax`` (for the shock), hidden until set."""
    band = Rectangle((0, 0), 0, 1, transform=ax.get_xaxis_transform(), color="0.6", alpha=0.25, lw=0, zorder=1)
    ax.add_patch(band)
    band.set_visible(False)
    return band


def _set_band(band: Rectangle, ds: xr.Dataset | None) -> None:
    if not _has_steps(ds) or "shock" not in ds:
        band.set_visible(False)
        return
    on = np.nan_to_num(ds["shock"].values.astype(float)) > 0
    band.set_visible(bool(on.any()))
    if on.any():
        steps = ds["step"].values[on]
        band.set_x(float(steps.min()) - 0.5)
        band.set_width(float(steps.max() - steps.min()) + 1.0)


def _waiting(ax):
    return ax.text(0.5, 0.5, "press Step or Play", transform=ax.transAxes, ha="center", va="center", color="0.5")
