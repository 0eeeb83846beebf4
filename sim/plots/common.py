"""What every figure shares: the quadrants and their names, firm colours, events, axes helpers.

Values are shown only while a firm takes part in the market (``alive``); every firm
keeps the same colour in every figure (:func:`firm_colors`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..firms.agents import QUADRANT_THRESHOLD

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
#: The colour of each quadrant (1 neither, 2 human only, 3 digital only, 4 both): these four
#: hues mean quadrants in every figure and on the classroom page, and no firm is drawn in them.
QUADRANT_COLORS: dict[int, str] = {1: "#d62728", 2: "#f0a202", 3: "#1f77b4", 4: "#2ca02c"}
#: The light background of each quadrant on a map (the quadrant's colour, pale).
QUADRANT_FILL: dict[int, str] = {1: "#f6dede", 2: "#f8ecd4", 3: "#dde8f5", 4: "#ddf0dd"}
#: Firm colours, in order of the firms: none of them is a quadrant's hue (purple, magenta,
#: near-black, teal, grey, dark brown, lavender, pink; a test checks the colour distance).
FIRM_PALETTE: tuple[str, ...] = ("#6a3d9a", "#e7298a", "#252525", "#00898a", "#969696", "#5c3c10",
                                 "#c2a5cf", "#f4a6c8")
_SEGMENT_STYLES = ("-", "--", "-.", ":")
_SHOCK_COLOR = "#9e9e9e"
#: Up to this many firms, the quadrant map names firms beside their markers.
_FEW_FIRMS = 12




def firm_colors(ds: xr.Dataset) -> dict[str, tuple[float, float, float, float]]:
    """One colour per firm, by position in ``ds.firm``: the same in every figure and on the page.

    The first 8 firms get :data:`FIRM_PALETTE`, firms 9 to 24 its colours mixed with
    white, then with black; beyond 24 firms, evenly spaced ``turbo`` colours (which
    then pass through the quadrants' hues: names and legends tell such firms apart).
    """
    firms = [str(f) for f in ds["firm"].values]
    n = len(firms)
    base = [to_rgba(c) for c in FIRM_PALETTE]
    if n <= 3 * len(base):
        light = [tuple(0.55 * c + 0.45 for c in col[:3]) + (1.0,) for col in base]
        dark = [tuple(0.6 * c for c in col[:3]) + (1.0,) for col in base]
        cols = (base + light + dark)[:n]
    else:
        cmap = colormaps["turbo"]
        cols = [cmap(v) for v in np.linspace(0.05, 0.95, n)]
    return dict(zip(firms, cols, strict=True))


def _draw_quadrants(ax: Axes, ds: xr.Dataset) -> None:
    """Quadrant shading, dividing lines, names and axis labels on a [0, 1]^2 map."""
    t, lo, hi = QUADRANT_THRESHOLD, -0.03, 1.03
    boxes = {1: (lo, t, lo, t), 2: (lo, t, t, hi), 3: (t, hi, lo, t), 4: (t, hi, t, hi)}
    for q, (x0, x1, y0, y1) in boxes.items():
        ax.fill_between([x0, x1], y0, y1, color=QUADRANT_FILL[q], lw=0, zorder=0)
        where, name = QUADRANTS[q]
        ax.text((x0 + x1) / 2, y1 - 0.02, f"{q}  {where}\n{name}", ha="center", va="top",
                fontsize=9, color="0.3", style="italic", zorder=2.5, linespacing=1.15,
                bbox={"boxstyle": "round,pad=0.2", "fc": QUADRANT_FILL[q], "ec": "none", "alpha": 0.75})
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
    offsets = name_offsets(ax, [(e[0], e[1], e[2], e[4]) for e in ends], fontsize)
    for (name, x, y, color, _), off in zip(ends, offsets, strict=True):
        ax.annotate(name, (x, y), xytext=off, textcoords="offset points", ha="left", va="bottom",
                    fontsize=fontsize, color=color, fontweight="bold", zorder=6,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6})


def name_offsets(ax: Axes, points: Sequence[tuple[str, float, float, float]],
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
    units = attrs.get("model_units", attrs.get("units", ""))  # the model's reading (money/customer/step)
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


