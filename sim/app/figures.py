"""Figures of a running model for the classroom page (:mod:`sim.app.page`), one per panel.

Each panel (:class:`QuadrantMapPanel`, :class:`SharePanel`, :class:`MoneyPanel`,
:class:`RelationshipPanel`, :class:`BlocksPanel`; in page order in :data:`PANELS`) is a
:class:`matplotlib.figure.Figure` of the pixel size of its place on the page, drawn
from what a model has recorded so far (``sim.dataset(model)``, ``None`` before the
first step) and the firms' current state (:class:`FirmView`). They use only the
public outputs of a model, so the page shows whatever the model does. A panel renders
its static parts once and redraws only its moving parts per step (:class:`LivePanel`).
No ``pyplot``: figures are plain objects, safe in the server's threads. :func:`events`
lists entries, exits and shocks for the page's event log.

Colours are one language with the saved figures of a run (:mod:`sim.plots`): the
quadrant colours (:data:`sim.plots.QUADRANT_COLORS`) mean quadrants only (map
backgrounds, the fill of a firm's marker: the quadrant it stands in), each firm has its
own colour from :func:`sim.plots.firm_colors`, none of them a quadrant's. Every text is
at least :data:`FONT` points at the figure's resolution, which the page sets so that a
point on the figure is a point on the screen. A kept run (:meth:`LivePanel.keep`) is
drawn as faint lines behind the current run in every time-series panel.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Rectangle
from PIL import Image

from ..plots import BLOCKS, QUADRANT_COLORS, QUADRANT_FILL, QUADRANT_THRESHOLD, QUADRANTS, firm_colors
from ..plots.common import name_offsets

#: Smallest text on a panel, points; titles are :data:`TITLE` points.
FONT = 11.0
TITLE = 12.0
#: Screen resolution a panel is drawn for (CSS pixels per inch): 1 pt on the figure is 1 pt on the page.
CSS_DPI = 96.0
#: Panel size, CSS pixels, until the page reports the size of the panel's place.
DEFAULT_SIZE: tuple[int, int] = (400, 300)
#: Quadrant names on the map and in the page's table (number and short name).
QUADRANT_SHORT: dict[int, str] = {1: "neither", 2: "human", 3: "digital", 4: "both"}
#: Opacity of a kept run's lines.
KEPT_ALPHA = 0.3
_CIRCLE = MarkerStyle("o").get_path().transformed(MarkerStyle("o").get_transform())
_CROSS = MarkerStyle("X").get_path().transformed(MarkerStyle("X").get_transform())


@dataclass(frozen=True)
class FirmView:
    """A firm's state now, as the page shows it.

    ``digital`` and ``human`` are service levels in [0, 1]; ``price`` is money per
    customer per step; ``share`` is the market share in [0, 1]; ``cash`` is money
    per customer in the market; ``steering`` is the steering mode and
    ``steering_strength`` the share of human requests steered, in [0, 1].
    """

    name: str
    digital: float
    human: float
    price: float
    share: float
    alive: bool
    cash: float
    steering: str = "none"
    steering_strength: float = 0.0


def quadrant_of(digital: float, human: float) -> int:
    """Quadrant number of a position (1 neither, 2 human only, 3 digital only, 4 both).

    A level counts as high at or above :data:`sim.plots.QUADRANT_THRESHOLD` (0.5).
    """
    return 1 + int(human >= QUADRANT_THRESHOLD) + 2 * int(digital >= QUADRANT_THRESHOLD)


def marker_size(share: float, scale: float = 1.0) -> float:
    """Marker area in points² for a market share in [0, 1] (area proportional to share);
    ``scale`` grows it with the panel."""
    return scale * (40.0 + 1200.0 * max(0.0, float(share)))


class LivePanel:
    """One panel of the page: a figure drawn once, then only its moving parts per step.

    The axes, ticks, labels and a kept run's faint lines are static (time axes run from
    0 to the horizon from the start), so the figure is rendered in full once and kept
    as a background; each :meth:`render` restores it and draws only the artists that
    move (lines, markers, bars, labels), then encodes a PNG.

    Parameters
    ----------
    names : firm names, in the model's order
    horizon : steps of the run
    size : (width, height) of the panel in CSS pixels
    scale : device pixels per CSS pixel (the browser's ``devicePixelRatio``)
    """

    title = ""

    def __init__(self, names: Sequence[str], horizon: int, size: tuple[int, int] = DEFAULT_SIZE,
                 scale: float = 1.0) -> None:
        self.names = list(names)
        self.horizon = int(horizon)
        self.size = (int(size[0]), int(size[1]))
        self.colors = firm_colors(xr.Dataset(coords={"firm": self.names}))
        dpi = CSS_DPI * max(0.5, float(scale))
        self.fig = Figure(figsize=(self.size[0] / CSS_DPI, self.size[1] / CSS_DPI), dpi=dpi, layout="constrained")
        self.fig.get_layout_engine().set(w_pad=2 / 72, h_pad=2 / 72)
        self.canvas = FigureCanvasAgg(self.fig)
        self._moving: list = []
        self._background = None
        self._laid_out = False
        self.kept: xr.Dataset | None = None

    def moving(self, *artists):
        """Mark ``artists`` as redrawn each step (left out of the static background)."""
        for a in artists:
            a.set_animated(True)
            self._moving.append(a)
        return artists[0] if len(artists) == 1 else artists

    def keep(self, ds: xr.Dataset | None) -> None:
        """Draw ``ds`` (a kept run; None: none) as faint lines behind the current run."""
        self.kept = ds
        self.draw_kept(ds)
        self._background = None

    def draw_kept(self, ds: xr.Dataset | None) -> None:
        """Set the static artists of a kept run (panels with time series override this)."""

    def update(self, ds: xr.Dataset | None, firms: Sequence[FirmView]) -> None:
        """Set the moving artists to the state of ``ds`` (recorded steps) and ``firms`` (now)."""
        raise NotImplementedError

    def render(self, ds: xr.Dataset | None, firms: Sequence[FirmView]) -> bytes:
        """The panel for this state as PNG bytes."""
        if not self._laid_out:
            self.canvas.draw()  # lays the figure out: the moving artists below see final transforms
            self.fig.set_layout_engine("none")  # frozen: a redraw never moves the axes
            self._laid_out = True
        self.update(ds, firms)
        if self._background is None:
            self.canvas.draw()  # the static parts (animated artists are left out)
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

    def texts(self) -> list:
        """Every text artist of the figure (for the font-size check)."""
        from matplotlib.text import Text

        return [t for t in self.fig.findobj(Text) if t.get_text()]


class QuadrantMapPanel(LivePanel):
    """The digital x human map: quadrants, each firm's trail and its marker now.

    Trails are the recorded positions while the firm was in the market (firm colour);
    the marker is filled with the colour of the firm's quadrant and outlined in the
    firm's colour, its area proportional to market share (:func:`marker_size`); a firm
    that has exited is a grey cross, one not yet entered is not drawn. Names are placed
    around the markers so that none covers another (firms on one point stay readable).
    The dashed line is the customers' digital expectation E, labelled with its value.
    """

    title = "Quadrant map"

    def __init__(self, names: Sequence[str], horizon: int, size: tuple[int, int] = DEFAULT_SIZE,
                 scale: float = 1.0) -> None:
        super().__init__(names, horizon, size, scale)
        ax = self.ax = self.fig.add_subplot()
        t = QUADRANT_THRESHOLD
        corners = {1: (0, 0, "left", "bottom"), 2: (0, 1, "left", "top"), 3: (1, 0, "right", "bottom"),
                   4: (1, 1, "right", "top")}
        for q, (cx, cy, ha, va) in corners.items():
            x0, y0 = (0 if cx == 0 else t), (0 if cy == 0 else t)
            ax.add_patch(Rectangle((x0, y0), t if cx == 0 else 1 - t, t if cy == 0 else 1 - t,
                                   facecolor=QUADRANT_FILL[q], edgecolor="white", lw=1.5, zorder=0))
            ax.text(cx + (0.015 if cx == 0 else -0.015), cy + (0.015 if cy == 0 else -0.015),
                    f"{q} {QUADRANT_SHORT[q]}", fontsize=FONT, ha=ha, va=va, color=QUADRANT_COLORS[q],
                    fontweight="bold", zorder=1)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xticks([0, 0.5, 1])
        ax.set_yticks([0, 0.5, 1])
        ax.tick_params(labelsize=FONT)
        ax.set_xlabel("digital service level", fontsize=FONT)
        ax.set_ylabel("human service level", fontsize=FONT)
        ax.set_title(self.title, fontsize=TITLE, loc="left")
        self.e_line = self.moving(ax.axvline(0.0, color="0.25", ls="--", lw=1.5, zorder=2))
        self.e_text = self.moving(ax.text(0.0, 1.01, "", fontsize=FONT, color="0.25", ha="center", va="bottom",
                                          zorder=2, transform=ax.get_xaxis_transform(), clip_on=False))
        self.kept_trails = [ax.plot([], [], color=self.colors[n], lw=1.5, alpha=KEPT_ALPHA, zorder=2)[0]
                            for n in self.names]
        self.trails, self.dots, self.labels = [], [], []
        self.scale = max(0.6, min(size) / 300.0)
        for name in self.names:
            c = self.colors[name]
            self.trails.append(self.moving(ax.plot([], [], color=c, lw=2.0, alpha=0.85, zorder=3)[0]))
            self.dots.append(self.moving(ax.scatter([0.0], [0.0], s=[40.0], c=[QUADRANT_COLORS[1]],
                                                    edgecolors=[c], linewidths=2.5, zorder=4)))
            self.labels.append(self.moving(ax.annotate(
                name, (0.0, 0.0), xytext=(8, 6), textcoords="offset points", fontsize=FONT, zorder=5, color=c,
                fontweight="bold", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": c, "alpha": 0.85})))

    def draw_kept(self, ds: xr.Dataset | None) -> None:
        for j, trail in enumerate(self.kept_trails):
            name = self.names[j]
            if _has_steps(ds) and name in ds["firm"].values:
                k = list(map(str, ds["firm"].values)).index(name)
                alive = ds["alive"].values[:, k].astype(bool)
                trail.set_data(np.where(alive, ds["digital"].values[:, k], np.nan),
                               np.where(alive, ds["human"].values[:, k], np.nan))
            else:
                trail.set_data([], [])

    def update(self, ds: xr.Dataset | None, firms: Sequence[FirmView]) -> None:
        has = _has_steps(ds)
        e = float(ds["digital_expectation"].values[-1]) if has else np.nan
        self.e_line.set_visible(bool(np.isfinite(e)))
        self.e_text.set_visible(bool(np.isfinite(e)))
        if np.isfinite(e):
            self.e_line.set_xdata([e, e])
            self.e_text.set_position((min(max(e, 0.2), 0.9), 1.01))
            self.e_text.set_text(f"E {e:.2f}")
        if has:
            alive = ds["alive"].values.astype(bool)
            x = np.where(alive, ds["digital"].values, np.nan)
            y = np.where(alive, ds["human"].values, np.nan)
        entered = _entered(ds, firms)
        shown = []
        for j, f in enumerate(firms):
            trail, dot, label = self.trails[j], self.dots[j], self.labels[j]
            trail.set_data((x[:, j], y[:, j]) if has else ([], []))
            dot.set_offsets([[f.digital, f.human]])
            label.xy = (f.digital, f.human)
            if f.alive:
                size = marker_size(f.share, self.scale)
                dot.set_sizes([size])
                dot.set_facecolor(QUADRANT_COLORS[quadrant_of(f.digital, f.human)])
                dot.set_edgecolor(self.colors[f.name])
                dot.set_paths([_CIRCLE])
                label.set_text(f"{f.name} {100 * f.share:.0f}%")
            elif f.name in entered:  # exited
                size = 90.0
                dot.set_sizes([size])
                dot.set_facecolor("0.5")
                dot.set_edgecolor("0.5")
                dot.set_paths([_CROSS])
                label.set_text(f"{f.name} (exited)")
            else:  # not entered yet
                dot.set_visible(False)
                label.set_visible(False)
                continue
            dot.set_visible(True)
            label.set_visible(True)
            shown.append((j, f, float(np.sqrt(size / np.pi))))
        # bigger markers first, so smaller ones stay visible on top; names placed around them
        for z, (j, _, _) in enumerate(sorted(shown, key=lambda item: -item[2])):
            self.dots[j].set_zorder(4 + 0.01 * z)
        points = [(self.labels[j].get_text(), f.digital, f.human, r) for j, f, r in shown]
        for (j, _, _), off in zip(shown, name_offsets(self.ax, points, FONT), strict=True):
            self.labels[j].xyann = off
            self.labels[j].set_horizontalalignment("left")
            self.labels[j].set_verticalalignment("bottom")


class _TimePanel(LivePanel):
    """A panel of one or more stacked time axes, a line per firm in each (and the kept run's)."""

    #: (variable, axis label, y limits or None, scale factor) per axis, top to bottom.
    ROWS: tuple[tuple[str, str, tuple[float, float] | None, float], ...] = ()

    def __init__(self, names: Sequence[str], horizon: int, size: tuple[int, int] = DEFAULT_SIZE,
                 scale: float = 1.0) -> None:
        super().__init__(names, horizon, size, scale)
        axes = self.fig.subplots(len(self.ROWS), 1, sharex=True, squeeze=False)[:, 0]
        self.axes = list(axes)
        self.lines: list[list] = []
        self.kept_lines: list[list] = []
        self.bands = []
        for ax, (_, label, lim, _) in zip(self.axes, self.ROWS, strict=True):
            ax.set_ylabel(label, fontsize=FONT)
            if lim is not None:
                ax.set_ylim(*lim)
                ax.set_yticks([lim[0], (lim[0] + lim[1]) / 2, lim[1]] if len(self.ROWS) > 1 else
                              np.linspace(lim[0], lim[1], 5))
            ax.tick_params(labelsize=FONT)
            ax.set_xlim(0, max(1, self.horizon))
            ax.grid(axis="y", color="0.9", lw=0.8)
            self.bands.append(self.moving(_band(ax)))
            self.kept_lines.append([ax.plot([], [], color=self.colors[n], lw=1.5, alpha=KEPT_ALPHA)[0]
                                    for n in self.names])
            self.lines.append([self.moving(ax.plot([], [], color=self.colors[n], lw=2.2)[0]) for n in self.names])
        self.axes[-1].set_xlabel("step (month)", fontsize=FONT)
        self.axes[0].set_title(self.title, fontsize=TITLE)
        self.wait = self.moving(_waiting(self.axes[len(self.axes) // 2]))

    def values(self, ds: xr.Dataset, var: str, factor: float) -> np.ndarray:
        """(step, firm) values of ``var`` while each firm is in the market (NaN elsewhere)."""
        return np.where(ds["alive"].values.astype(bool), ds[var].values * factor, np.nan)

    def draw_kept(self, ds: xr.Dataset | None) -> None:
        kept_names = list(map(str, ds["firm"].values)) if _has_steps(ds) else []
        for lines, (var, _, _, factor) in zip(self.kept_lines, self.ROWS, strict=True):
            values = self.values(ds, var, factor) if kept_names and var in ds else None
            for name, line in zip(self.names, lines, strict=True):
                if values is not None and name in kept_names:
                    line.set_data(ds["step"].values, values[:, kept_names.index(name)])
                else:
                    line.set_data([], [])
        for ax, kept, (_, _, lim, _) in zip(self.axes, self.kept_lines, self.ROWS, strict=True):
            if lim is None:
                _autoscale(ax, [ln.get_ydata() for ln in kept])

    def update(self, ds: xr.Dataset | None, firms: Sequence[FirmView]) -> None:
        has = _has_steps(ds)
        self.wait.set_visible(not has)
        for ax, band, lines, (var, _, lim, factor) in zip(self.axes, self.bands, self.lines, self.ROWS, strict=True):
            _set_band(band, ds)
            values = self.values(ds, var, factor) if has and var in ds else None
            for j, line in enumerate(lines):
                line.set_data((ds["step"].values, values[:, j]) if values is not None else ([], []))
            if lim is None and values is not None and _autoscale(ax, [values], keep=True):
                self._background = None  # the axis grew: the static parts are drawn again next time


class SharePanel(_TimePanel):
    """Market share of each firm over the steps (percent); grey band: the shock."""

    title = "Market share"
    ROWS = (("share", "share (%)", (0.0, 100.0), 100.0),)


class MoneyPanel(_TimePanel):
    """Price (money per customer per step) and profit (money per market customer per step)
    of each firm over the steps; the axes grow to what the run reaches."""

    title = "Price and profit"
    ROWS = (("price", "price", None, 1.0), ("profit", "profit", None, 1.0))


class RelationshipPanel(_TimePanel):
    """Mean trust and engagement (scores in [0, 1]) and NPS ([-100, 100]) per firm over time."""

    title = "Trust, engagement, NPS"
    ROWS = (("trust", "trust", (0.0, 1.0), 1.0), ("engagement", "engagem.", (0.0, 1.0), 1.0),
            ("nps", "NPS", (-100.0, 100.0), 1.0))


class BlocksPanel(LivePanel):
    """The five building blocks and the relationship index per firm at the last recorded step."""

    title = "Building blocks"
    SHORT = {"relationship": "index"}

    def __init__(self, names: Sequence[str], horizon: int, size: tuple[int, int] = DEFAULT_SIZE,
                 scale: float = 1.0) -> None:
        super().__init__(names, horizon, size, scale)
        ax = self.ax = self.fig.add_subplot()
        xs = np.arange(len(BLOCKS))
        width = 0.8 / max(1, len(self.names))
        ax.set_xticks(xs, [self.SHORT.get(var, var) for var, _ in BLOCKS], fontsize=FONT, rotation=35,
                      ha="right", rotation_mode="anchor")
        ax.set_xlim(-0.5, len(BLOCKS) - 0.5)
        ax.set_ylim(0, 1)
        ax.set_yticks([0, 0.5, 1])
        ax.tick_params(labelsize=FONT)
        ax.set_ylabel("mean score", fontsize=FONT)
        ax.grid(axis="y", color="0.9", lw=0.8)
        self.bars = []
        for j, name in enumerate(self.names):
            bars = ax.bar(xs - 0.4 + width * (j + 0.5), np.zeros(len(BLOCKS)), width, color=self.colors[name])
            self.bars.append([self.moving(b) for b in bars])
        self.heading = self.moving(ax.set_title(self.title, fontsize=TITLE))
        self.wait = self.moving(_waiting(ax))

    def update(self, ds: xr.Dataset | None, firms: Sequence[FirmView]) -> None:
        has = _has_steps(ds)
        self.wait.set_visible(not has)
        self.heading.set_text(f"{self.title} at step {int(ds['step'].values[-1])}" if has else self.title)
        for j, bars in enumerate(self.bars):
            for bar, (var, _) in zip(bars, BLOCKS, strict=True):
                value = float(ds[var].values[-1, j]) if has else np.nan
                bar.set_height(value if np.isfinite(value) else 0.0)


#: The figure panels, in page order: key -> panel class.
PANELS: dict[str, type[LivePanel]] = {
    "map": QuadrantMapPanel,
    "share": SharePanel,
    "money": MoneyPanel,
    "relationship": RelationshipPanel,
    "blocks": BlocksPanel,
}


def events(ds: xr.Dataset | None) -> list[tuple[int, str]]:
    """What happened when: ``(step, text)`` for each entry, exit, shock start and shock end.

    Read from the recorded ``alive`` and ``shock`` variables: a firm enters at the
    first step it is alive after a step it was not, and exits at the first step it is
    no longer alive after being alive.
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
                out.append((step, f"{name} exits (its reserves ran out)"))
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


def _autoscale(ax, arrays: Sequence[np.ndarray], keep: bool = False) -> bool:
    """Widen the y range of ``ax`` to hold ``arrays`` (never narrower with ``keep``), with a
    margin; True when it changed."""
    finite = [np.asarray(a, float)[np.isfinite(np.asarray(a, float))] for a in arrays]
    finite = [a for a in finite if a.size]
    if not finite:
        return False
    lo, hi = min(float(a.min()) for a in finite), max(float(a.max()) for a in finite)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if keep:
        old_lo, old_hi = ax.get_ylim()
        if lo >= old_lo and hi <= old_hi:
            return False
        lo, hi = min(lo, old_lo), max(hi, old_hi)
    pad = 0.15 * max(hi - lo, 1e-3)
    ax.set_ylim(lo - (pad if lo < 0 else 0.0), hi + pad)
    return True


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
    return ax.text(0.5, 0.5, "press Step or Play", transform=ax.transAxes, ha="center", va="center", color="0.4",
                   fontsize=FONT)
