"""The page's browser widgets (sim/app/widgets.py): a figure drawn at the size of its place,
a slider that reports once it is still. Their JavaScript side is exercised by the browser
tests of tests/app/test_page.py."""

from __future__ import annotations

import base64
import io

import ipyvuetify as vw
import solara
from PIL import Image

from sim.app import figures as F
from sim.app import page as P
from sim.app.widgets import FigureBox, NumberField, QuietSlider, panel_size


def test_panel_size_defaults_until_the_browser_reports():
    assert panel_size(None) == (*F.DEFAULT_SIZE, 1.0)
    assert panel_size((0, 300, 2.0)) == (*F.DEFAULT_SIZE, 2.0)
    assert panel_size((512.7, 301.2, 1.5)) == (512, 301, 1.5)


def _size(widget: FigureBox) -> tuple[int, int]:
    return Image.open(io.BytesIO(base64.b64decode(widget.src.split(",", 1)[1]))).size


def test_a_figure_follows_the_size_the_browser_reports():
    _, rc = solara.render(P.Page(), handle_error=False)
    try:
        box = rc.find(FigureBox, name="map").widget
        assert _size(box) == F.DEFAULT_SIZE
        box.width, box.height, box.scale = 500, 350, 2.0  # as the browser's ResizeObserver sets them
        box = rc.find(FigureBox, name="map").widget
        assert _size(box) == (1000, 700)
    finally:
        rc.close()


def test_a_quiet_slider_reports_a_new_value_once():
    got = []

    @solara.component
    def One():
        P.ValueSlider("x", 0.5, 0.0, 1.0, 0.05, got.append)

    _, rc = solara.render(One(), handle_error=False)
    try:
        slider = rc.find(QuietSlider).widget
        assert (slider.value, slider.min, slider.max, slider.step, slider.label) == (0.5, 0.0, 1.0, 0.05, "x")
        slider.value = 0.30000000000000004  # what the browser sends after the knob stopped
        assert got == [0.3]
        field = rc.find(vw.TextField).widget
        field.v_model = "0.25"
        field.fire_event("keyup.enter", None)
        assert got == [0.3, 0.25]
    finally:
        rc.close()


def test_a_number_field_keeps_what_is_typed_through_a_redraw_and_commits_it():
    got = []
    redraw = []

    @solara.component
    def One():
        tick, set_tick = solara.use_state(0)
        redraw[:] = [set_tick]
        solara.Text(f"drawn {tick}")
        NumberField("n", 3000, got.append)

    _, rc = solara.render(One(), handle_error=False)
    try:
        field = rc.find(vw.TextField).widget
        assert field.v_model == "3000"
        field.v_model = "0"  # typed in the browser
        redraw[0](1)  # the page is drawn again before Enter
        assert rc.find(vw.TextField).widget.v_model == "0" and got == []
        field.fire_event("keyup.enter", None)
        assert got == [0]
        field.v_model = "12x"  # not a number: said in the label, nothing committed
        field.fire_event("focusout", None)
        assert got == [0] and field.error and "integer" in field.label
        field.v_model = "3000"  # the value it has: nothing to commit
        field.fire_event("keyup.enter", None)
        assert got == [0] and not field.error and field.label == "n"
    finally:
        rc.close()
