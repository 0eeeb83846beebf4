"""The quadrant map as an animated GIF, one frame per step (for slides)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.animation import PillowWriter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from ..results.runfolder import save_atomic
from .common import (
    _alive,
    _check,
    _draw_quadrants,
    _marker_area,
    _scenario,
    firm_colors,
    name_offsets,
)


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

    def write(tmp: Path) -> None:
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
                for (j, *_), offset in zip(shown, name_offsets(ax, labels, 8.0), strict=True):
                    names[j].xyann = offset
                writer.grab_frame()

    return save_atomic(write, path, suffix=".gif")  # Pillow picks the format from the suffix


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


