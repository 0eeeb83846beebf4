"""The classroom page (sim/app/page.py), in-process and in a real browser.

In-process: the page rendered with ``solara.render``, its controls driven as widgets.
In a real browser: ``python -m sim.app`` served on a free local port and driven in
headless Chromium (Debian's ``/usr/bin/chromium``) through Playwright, checking that
no request leaves 127.0.0.1. The browser tests are skipped only where Chromium or
Playwright is missing, with a message naming what is missing; they save a screenshot
of each state in ``test-artifacts/`` (``$SIM_TEST_ARTIFACTS``; git-ignored).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import ipyvuetify as vw
import pytest
import solara
import solara.widgets

from sim.app import assets as app_assets
from sim.app import figures as F
from sim.app import page as A
from sim.settings.compose import scenario_names

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("SIM_TEST_ARTIFACTS", ROOT / "test-artifacts"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
SMALL = 2000


# ------------------------------------------------------------- in-process page


def _html(rc, cls: str) -> list[str]:
    return [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
            if cls in (w.attributes.get("class", "") or "").split()]


def _status(rc) -> str:
    found = _html(rc, "cs-status")
    return found[0] if found else ""


def _until(check, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


def _set_input(rc, label: str, text: str) -> None:
    field = next(w for w in rc.find(vw.TextField).widgets if w.label == label)
    field.v_model = text
    field.fire_event("keyup.enter", None)


def _click(rc, label: str) -> None:
    rc.find(vw.Btn, children=[label]).widget.click()


def test_page_renders_steps_and_shows_errors_in_process():
    _, rc = solara.render(A.Page(), handle_error=False)
    try:
        assert _status(rc) == "step 0 of 120, seed 0: scenario disruptor, 100,000 customers, 4 firms in the market"
        selects = {w.label: w for w in rc.find(vw.Select).widgets}
        assert selects["scenario"].items == [n for n in scenario_names() if "/" not in n]
        assert {f"{f} steering" for f in ("neither", "digital_only", "human_only", "both", "disruptor")} <= set(selects)
        assert selects["both steering"].items == ["none", "soft", "hard"]
        assert len(rc.find(A.FigureBox).widgets) == len(F.PANELS)
        _set_input(rc, "customers", str(SMALL))  # a control rebuilds the model
        _until(lambda: "2,000 customers" in _status(rc))
        _click(rc, "Step")
        _until(lambda: _status(rc) == "step 1 of 120, seed 0: no entry, exit or shock")
        _set_input(rc, "customers", "0")  # a bad value: one line on the page, no model
        _until(lambda: rc.find(vw.Alert).widgets)
        alerts = [str(w.children) for w in rc.find(vw.Alert).widgets]
        assert alerts and all("customers.n = 0 is out of range: allowed [1, 100000000]" in a for a in alerts)
        assert not any("Traceback" in a for a in alerts)
        _set_input(rc, "customers", "1000")  # and back: Step works again
        _until(lambda: "1,000 customers" in _status(rc))
        _click(rc, "Step")
        _until(lambda: _status(rc).startswith("step 1 of 120"))
        selects = {w.label: w for w in rc.find(vw.Select).widgets}
        selects["scenario"].v_model = "steering"  # another scenario: its own firms get controls, its lesson
        _until(lambda: "scenario steering" in _status(rc))
        labels = {w.label for w in rc.find(vw.Select).widgets}
        assert {"open steering", "nudging steering", "closing steering"} <= labels and "both steering" not in labels
        lesson = " ".join(_html(rc, "cs-lesson-text"))
        assert "nudging" in lesson and "Ask the class" in lesson
        table = next(h for h in (w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets)
                     if "cs-numbers" in h)
        assert "<th>steering</th>" in table and "soft 60%" in table and "hard 80%" in table
    finally:
        rc.close()


def test_a_value_typed_before_a_redraw_is_kept_and_enter_commits_it():
    """The browser sends what is typed, then Enter; a redraw in between (a step of a play, or any
    redraw under load) set Solara's field back to the old value, and Enter committed that: the typed
    value was lost (the browser test waiting for the error line of customers = 0 timed out)."""
    _, rc = solara.render(A.Page(), handle_error=False)
    try:
        _set_input(rc, "customers", str(SMALL))
        _until(lambda: "2,000 customers" in _status(rc))
        field = next(w for w in rc.find(vw.TextField).widgets if w.label == "customers")
        field.v_model = "0"  # typed in the browser, not committed yet
        _click(rc, "Step")  # the page is drawn again meanwhile
        _until(lambda: _status(rc).startswith("step 1 of 120"))
        assert field.v_model == "0"  # still shown
        field.fire_event("keyup.enter", None)
        _until(lambda: rc.find(vw.Alert).widgets)
        assert all("customers.n = 0 is out of range" in str(w.children) for w in rc.find(vw.Alert).widgets)
    finally:
        rc.close()


def test_two_pages_do_not_share_a_model():
    _, rc1 = solara.render(A.Page(), handle_error=False)
    _, rc2 = solara.render(A.Page(), handle_error=False)
    try:
        _set_input(rc1, "customers", str(SMALL))
        _until(lambda: "2,000 customers" in _status(rc1))
        _click(rc1, "Step")
        _until(lambda: _status(rc1).startswith("step 1 of 120"))
        assert _status(rc2).startswith("step 0 of 120, seed 0: scenario disruptor, 100,000 customers")
    finally:
        rc1.close()
        rc2.close()


def test_page_assets_are_installed_locally():
    pinned = app_assets.required_packages()
    assert set(pinned) == {*app_assets.PAGE_PACKAGES, "font-awesome"}
    missing = app_assets.missing_packages()
    assert not missing, f"run `python -m sim.app.assets` (make test does): missing {missing}"


# ------------------------------------------------------------------ real browser

#: In the page: the step of the status line ("step N of T, seed S: ...").
_STEP = "() => parseInt((document.querySelector('.cs-status') || {innerText: 'step -1'}).innerText.split(' ')[1])"
#: In the page: the number of builds started so far (the event log's "model N (B builds), built in ...").
_BUILDS = "() => parseInt(document.querySelector('.cs-builds').innerText.split('(')[1])"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _browser_or_skip():
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed ({CHROMIUM} missing; Debian package `chromium`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the Python package `playwright` is not installed (pip install -e '.[test]')")
    return sync_playwright


@pytest.fixture(scope="module")
def server():
    """``python -m sim.app`` on a free local port; a missing asset cannot be fetched from outside."""
    _browser_or_skip()
    port = _free_port()
    env = dict(os.environ, PORT=str(port), SIM_APP_HOST="127.0.0.1",
               SOLARA_ASSETS_CDN="http://127.0.0.1:9/")  # the discard port: a cache miss fails here
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "app-server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "sim.app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the app did not start (see {ARTIFACTS / 'app-server.log'})")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture()
def browser():
    """A headless Chromium whose requests are recorded; at the end none may have left 127.0.0.1."""
    sync_playwright = _browser_or_skip()
    requests: list[str] = []
    failed: list[str] = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)

        def new_page(width: int = 1400, height: int = 900, scale: float = 1.0):
            context = b.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
            context.on("request", lambda r: requests.append(r.url))
            context.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
            context.on("response", lambda r: failed.append(f"{r.url} ({r.status})") if r.status >= 400 else None)
            return context.new_page()

        try:
            yield new_page
        finally:
            b.close()
    outside = sorted({u for u in requests if not u.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:",
                                                                "blob:"))})
    assert not outside, f"requests left the machine: {outside}"
    assert not failed, f"failed requests: {failed}"
    assert any("/_solara/cdn/@widgetti/solara-vuetify-app@" in u for u in requests)  # served locally


#: In the page: every figure is drawn at the size it is shown (the page has settled after loading).
_SETTLED = """() => [...document.querySelectorAll('.cs-figbox')].every(e => {
    const img = e.querySelector('img'); return img && img.complete &&
    Math.abs(img.naturalWidth - e.clientWidth * devicePixelRatio) <= 2 &&
    Math.abs(img.naturalHeight - e.clientHeight * devicePixelRatio) <= 2; })"""


def _open(new_page, server, **kw):
    page = new_page(**kw)
    page.goto(server)
    page.wait_for_selector(".cs-status", timeout=120_000)
    page.wait_for_function(_SETTLED, timeout=120_000)
    return page


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _boxes(page) -> dict[str, dict]:
    return page.evaluate("""() => {
      const out = {};
      const box = (key, el) => { if (el) { const r = el.getBoundingClientRect();
        out[key] = {x: r.left, y: r.top, right: r.right, bottom: r.bottom, w: r.width, h: r.height}; } };
      for (const el of document.querySelectorAll('[class*="cs-cell-"]')) {
        box([...el.classList].find(c => c.startsWith('cs-cell-')).slice(8), el); }
      box('log', document.querySelector('.cs-log'));
      box('table', document.querySelector('.cs-numbers'));
      box('tablebox', document.querySelector('.cs-tablebox'));
      box('status', document.querySelector('.cs-status'));
      box('play', document.querySelector('.cs-play'));
      box('side', document.querySelector('.cs-side'));
      return out; }""")


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["right"] - 1 and b["x"] < a["right"] - 1 and a["y"] < b["bottom"] - 1 and b["y"] < a["bottom"] - 1


def test_layout_at_1400x900_and_at_150_percent_zoom(server, browser):
    page = _open(browser, server)
    assert "customer-sim" in page.title() and "Solara" not in page.title()
    page.locator(".cs-step").click()
    page.wait_for_function(_STEP + " >= 1", timeout=60_000)
    page.wait_for_timeout(500)
    _shot(page, "page-1400x900")
    boxes = _boxes(page)
    panels = [*F.PANELS, "log", "tablebox", "status", "play"]
    assert set(panels) <= set(boxes)
    for key in panels:  # every panel on screen without scrolling
        b = boxes[key]
        assert b["w"] > 0 and b["x"] >= 0 and b["y"] >= 0 and b["right"] <= 1400 and b["bottom"] <= 900, (key, b)
    for key in F.PANELS:
        assert boxes[key]["w"] >= 300 and boxes[key]["h"] >= 230, (key, boxes[key])  # big enough to read
    for a, b in [(a, b) for i, a in enumerate([*F.PANELS, "log", "tablebox", "side"])
                 for b in [*F.PANELS, "log", "tablebox", "side"][i + 1:]]:
        assert not _overlap(boxes[a], boxes[b]), (a, b)
    assert boxes["table"]["bottom"] <= 900 and boxes["table"]["right"] <= 1400  # all firms' rows shown
    assert page.evaluate("() => document.scrollingElement.scrollHeight") <= 900
    text = page.inner_text("body")
    assert "This website runs on" not in text and "Model Parameters" not in text and "PAGE 0" not in text
    assert "E " in text and "H (expected human)" in text and "HHI" in text and "mean price" in text
    # no empty card: every card has text beyond its title
    assert page.evaluate("() => [...document.querySelectorAll('.v-card')].every(c => c.innerText.trim().length > 12)")

    # 150% browser zoom = the same screen with 1.5 device pixels per CSS pixel
    zoomed = _open(browser, server, width=933, height=600, scale=1.5)
    zoomed.locator(".cs-step").click()
    zoomed.wait_for_function(_STEP + " >= 1", timeout=60_000)
    zoomed.wait_for_timeout(500)
    _shot(zoomed, "page-zoom-150")
    z = _boxes(zoomed)
    assert not _overlap(z["side"], z["tablebox"])  # the sidebar never covers the table
    assert z["table"]["right"] <= 933 and z["table"]["x"] >= 0  # the whole table is on screen
    font = zoomed.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.cs-numbers td')).fontSize)")
    assert font >= 14  # CSS pixels: 21 screen pixels at 150%


def test_play_to_the_end_change_a_control_and_play_again(server, browser):
    page = _open(browser, server)
    field = page.get_by_label("customers")
    field.fill("3000")
    field.press("Enter")
    page.wait_for_selector(".cs-status:has-text('3,000 customers')", timeout=60_000)
    speed = page.locator(".cs-speed .cs-value input")
    speed.fill("30")
    speed.press("Enter")
    page.locator(".cs-play").click()
    page.wait_for_selector(".cs-status:has-text('step 120 of 120')", timeout=180_000)
    page.wait_for_selector(".cs-play:has-text('Play again')", timeout=30_000)
    log = page.inner_text(".cs-events")
    assert "step 36: disruptor enters" in log  # events stay listed with their step
    _shot(page, "page-end-of-run")

    seed = page.get_by_label("seed")  # the guide's next step: move a control
    seed.fill("2")
    seed.press("Enter")
    page.wait_for_selector(".cs-status:has-text('step 0 of 120, seed 2')", timeout=60_000)
    assert page.locator(".cs-play").is_enabled() and page.locator(".cs-step").is_enabled()
    page.locator(".cs-play").click()
    page.wait_for_function(_STEP + " >= 10", timeout=60_000)
    page.locator(".cs-pause").click()
    page.wait_for_selector(".cs-play", timeout=30_000)
    _shot(page, "page-played-again")

    page.locator(".cs-keep").click()  # keep this run: a faint line and grey rows
    page.wait_for_selector(".cs-kept-row", timeout=30_000)
    assert page.locator(".cs-kept-row").count() == 5

    field.fill("0")  # a bad value: one line, never a traceback; Play while it is shown does nothing harmful
    field.press("Enter")
    page.wait_for_selector(".cs-error >> nth=0", timeout=60_000)
    text = page.inner_text("body")
    assert "customers.n = 0 is out of range: allowed [1, 100000000]" in text and "Traceback" not in text
    _shot(page, "page-error")
    field.fill("3000")
    field.press("Enter")
    page.wait_for_selector(".cs-status:has-text('step 0 of 120')", timeout=60_000)
    page.locator(".cs-play").click()
    page.wait_for_function(_STEP + " >= 10", timeout=60_000)
    page.locator(".cs-pause").click()


def test_holding_an_arrow_key_rebuilds_once_and_play_is_not_lost(server, browser):
    page = _open(browser, server)
    builds = page.evaluate(_BUILDS)
    page.get_by_text(re.compile(r"^both: 4 both$")).click()
    slider = page.locator(".cs-slider", has_text="both human").locator("[role=slider]")
    slider.focus()
    start = float(slider.get_attribute("aria-valuenow"))
    for _ in range(15):  # a held key repeats about every 30 ms
        page.keyboard.press("ArrowLeft")
        page.wait_for_timeout(30)
    page.wait_for_selector(".cs-building", timeout=60_000)  # the page says it is busy
    _shot(page, "page-building")
    page.locator(".cs-play").click()  # pressed while building: plays the new model
    page.wait_for_function(_STEP + " >= 3", timeout=120_000)
    assert page.evaluate(_BUILDS) == builds + 1
    row = page.locator(".cs-numbers tr", has_text="both").first.inner_text()
    assert "3 digital" in row  # human 0.8 - 15 x 0.05 < 0.5: the digital-only quadrant
    page.locator(".cs-pause").click()
    value = page.locator(".cs-sliderrow", has=page.locator(".cs-slider", has_text="both human")).locator(
        ".cs-value input")
    # the slider's value is shown (no key press lost), and typeable
    page.wait_for_function("v => Math.abs(parseFloat([...document.querySelectorAll('.cs-slider')].find(e => "
                           "e.innerText.includes('both human')).querySelector('[role=slider]')"
                           ".getAttribute('aria-valuenow')) - v) < 1e-6", arg=max(0.0, start - 0.75), timeout=10_000)
    assert float(value.input_value()) == pytest.approx(max(0.0, start - 0.75))
    value.fill("0.6")
    value.press("Enter")
    page.wait_for_function(_BUILDS + f" == {builds + 2}", timeout=60_000)
    page.wait_for_selector(".cs-status:has-text('step 0 of 120')", timeout=120_000)
    page.wait_for_function("() => [...document.querySelectorAll('.cs-numbers tr')].some(r => "
                           "r.innerText.startsWith('both') && r.innerText.includes('4 both'))", timeout=30_000)


# ------------------------------------------------------------ the guide names the page's controls


def _texts(rc) -> set[str]:
    """Every text the rendered page shows: labels, button and card texts, HTML (tags dropped)."""
    import ipywidgets

    out: set[str] = set()
    todo, done = [rc.container], set()
    while todo:
        w = todo.pop()
        if id(w) in done or not isinstance(w, ipywidgets.Widget):
            continue
        done.add(id(w))
        for attr in ("label", "summary"):
            value = getattr(w, attr, None)
            if isinstance(value, str) and value:
                out.add(value)
        for child in list(getattr(w, "children", None) or []) + list(getattr(w, "v_slots", None) or []):
            if isinstance(child, str):
                out.add(child)
            elif isinstance(child, dict):
                todo.append(child.get("children"))
            else:
                todo.append(child)
        html_text = getattr(w, "unsafe_innerHTML", None)
        if isinstance(html_text, str):
            out.add(re.sub(r"<[^>]+>", " ", html_text))
    return out


def test_every_control_the_guide_names_exists_under_that_name():
    from sim.app.lesson import TEMPLATE
    from sim.app.settings import FirmSetting, make_model
    from sim.app.settings import Settings as S

    template = TEMPLATE.read_text()
    _, rc = solara.render(A.Page(), handle_error=False)
    try:
        _set_input(rc, "customers", "300")
        _until(lambda: "300 customers" in _status(rc))
        seen = _texts(rc)
        _set_input(rc, "seed", "1")  # a change: "building..." while it builds
        seen |= _until(lambda: next((t for t in [_texts(rc)] if "building…" in t), None), 5)
        _until(lambda: "seed 1" in _status(rc))
        speed = next(w for w in rc.find(vw.TextField).widgets if w.label == "" and w.v_model == "8")
        speed.v_model = "30"
        speed.fire_event("keyup.enter", None)
        _click(rc, "▶ Play")
        seen |= _until(lambda: next((t for t in [_texts(rc)] if "❚❚ Pause" in t), None), 30)  # while playing
        _until(lambda: "end of the run" in _status(rc) or "step 120 of 120" in _status(rc), 180)
        _until(lambda: "▶ Play again" in _texts(rc))
        seen |= _texts(rc)
        _click(rc, "Keep this run")
        seen |= _until(lambda: next((t for t in [_texts(rc)] if "Forget kept run" in t), None), 30)
    finally:
        rc.close()
    page_section = re.sub(r"`[^`]*`", "", template[template.index("## The page"):template.index("## baseline")])
    titles = {cls.title for cls in F.PANELS.values()}
    text = " \n ".join(" ".join(t.split()) for t in seen)
    for name in (" ".join(q.split()) for q in re.findall(r'"([^"]+)"', page_section)):
        assert name in titles or name in text, f"the guide names {name!r}, the page does not show it"
    # "*firm → control*" in a scenario's section: that firm of that scenario, and its control's label
    for section in re.split(r"^## ", template, flags=re.M)[1:]:
        scenario = section.split(":", 1)[0].strip()
        if scenario not in scenario_names():
            continue
        for firm, control in re.findall(r"\*([a-z_]+) → ([a-z]+)\*", section):
            firms = make_model(S(scenario=scenario, customers=10)).cfg.firms
            assert firm in firms, (scenario, firm)
            _, rc = solara.render(A.FirmControls(firm, FirmSetting(0.5, 0.5, 1.0), lambda f: None),
                                  handle_error=False)
            try:
                assert f"{firm} {control}" in _texts(rc), (scenario, firm, control)
            finally:
                rc.close()
        for name in re.findall(r"\*(disruptor enters at step|disruptor enters|shock starts at step)\*", section):
            assert any(t.startswith(name) for t in seen), name
