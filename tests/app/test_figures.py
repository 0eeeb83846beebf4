"""The page's figure panels (sim/app/figures.py): readable, one colour language, following the run."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import xarray as xr
from coloraide import Color
from matplotlib.colors import to_hex

from sim.app import figures as F
from sim.app.session import Run
from sim.app.settings import Settings
from sim.plots import FIRM_PALETTE, QUADRANT_COLORS, firm_colors

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run() -> Run:
    r = Run(Settings(customers=2000, enter_step=3))
    for _ in range(6):
        r.step()
    return r


def _panel(run: Run, name: str, size=(360, 290)) -> F.LivePanel:
    p = F.PANELS[name]([f.name for f in run.sim.firm_list], run.horizon, size)
    p.render(run.data(), run.firms())
    return p


def test_every_text_is_at_least_11_points(run):
    for name in F.PANELS:
        p = _panel(run, name)
        sizes = {t.get_text(): t.get_fontsize() for t in p.texts() if t.get_visible()}
        assert sizes and min(sizes.values()) >= F.FONT == 11, (name, sizes)


def test_a_figure_is_drawn_at_its_size_on_the_page(run):
    import io

    from PIL import Image

    for size, scale in (((360, 290), 1.0), ((520, 400), 2.0)):
        png = run.png("share", size, scale)
        assert Image.open(io.BytesIO(png)).size == (round(size[0] * scale), round(size[1] * scale))


def test_firm_colours_are_not_quadrant_colours():
    """Quadrant colours mean quadrants: every firm colour is far from each of them (CIEDE2000)."""
    for n in (4, 5, 8, 12, 24):
        cols = [to_hex(c) for c in firm_colors(xr.Dataset(coords={"firm": [f"f{i}" for i in range(n)]})).values()]
        assert len(set(cols)) == n
        for c in cols:
            for q in QUADRANT_COLORS.values():
                assert Color(c).delta_e(Color(q), method="2000") > 20, (c, q)
    for a, b in itertools.combinations(FIRM_PALETTE, 2):
        assert Color(a).delta_e(Color(b), method="2000") > 10, (a, b)


def test_map_markers_fill_with_their_quadrant_and_outline_with_their_firm(run):
    p = _panel(run, "map")
    colors = firm_colors(xr.Dataset(coords={"firm": p.names}))
    for f, dot in zip(run.firms(), p.dots, strict=True):
        if f.alive:
            assert to_hex(dot.get_facecolor()[0]) == QUADRANT_COLORS[F.quadrant_of(f.digital, f.human)]
            assert to_hex(dot.get_edgecolor()[0]) == to_hex(colors[f.name])


def test_e_is_labelled_on_the_map(run):
    p = _panel(run, "map")
    e = float(run.data()["digital_expectation"].values[-1])
    assert p.e_text.get_visible() and p.e_text.get_text() == f"E {e:.2f}"
    assert p.e_line.get_xdata()[0] == pytest.approx(e)


def test_names_of_firms_on_one_point_do_not_overlap():
    r = Run(Settings(scenario="steering", customers=2000))  # three firms on one point of the map
    r.step()
    p = _panel(r, "map")
    renderer = p.canvas.get_renderer()
    boxes = [lab.get_window_extent(renderer) for lab in p.labels if lab.get_visible()]
    assert len(boxes) == 3
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


def test_panels_are_pngs_that_follow_the_steps():
    r = Run(Settings(customers=2000))
    before = {name: r.png(name) for name in F.PANELS}
    assert all(png.startswith(PNG) for png in before.values())
    assert r.png("map") is before["map"]  # cached within a step
    r.step()
    after = {name: r.png(name) for name in F.PANELS}
    assert all(after[n] != before[n] for n in F.PANELS)


def test_a_kept_run_is_a_faint_line_in_every_time_series_panel(run):
    kept = run.data()
    for name in ("share", "money", "relationship"):
        p = F.PANELS[name]([f.name for f in run.sim.firm_list], run.horizon)
        p.keep(kept)
        for lines in p.kept_lines:
            assert any(len(line.get_xdata()) == kept.sizes["step"] for line in lines)
            assert all(line.get_alpha() == F.KEPT_ALPHA for line in lines)
        p.keep(None)
        assert all(len(line.get_xdata()) == 0 for lines in p.kept_lines for line in lines)
    m = _panel(run, "map")
    m.keep(kept)
    assert any(len(t.get_xdata()) for t in m.kept_trails)


def test_price_and_profit_axes_hold_the_run(run):
    p = _panel(run, "money")
    ds = run.data()
    for ax, var in zip(p.axes, ("price", "profit"), strict=True):
        values = ds[var].values[ds["alive"].values.astype(bool)]
        lo, hi = ax.get_ylim()
        assert lo <= np.nanmin(values) and np.nanmax(values) <= hi


def test_quadrant_of_matches_the_model():
    from sim.firms.agents import quadrant

    for d in np.linspace(0, 1, 11):
        for h in np.linspace(0, 1, 11):
            assert F.quadrant_of(d, h) == quadrant(d, h)


def test_marker_area_grows_with_share():
    assert F.marker_size(0.5) > F.marker_size(0.1) > F.marker_size(0.0) > 0
