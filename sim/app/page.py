"""The classroom page: a Solara page that runs the model live in the browser.

Start it with ``make app`` or ``python -m sim.app`` (port ``$PORT``, default 8765;
address ``$SIM_APP_HOST``, default 127.0.0.1: this machine only; ``0.0.0.0`` serves the
lecture hall's network) and open ``http://127.0.0.1:8765``.

The page is laid out for a projector: at 1400 x 900 every panel is visible without
scrolling. Top: the title, Play / Pause, Step, Reset, the speed in steps per second, a
"building..." sign while a change rebuilds the model, Keep this run and the exports.
Below it: the status line (step, seed, what just happened) and the market read-outs
(E, H, digital adoption, HHI, mean price). Then the figure panels of
:mod:`sim.app.figures` (quadrant map, market share, price and profit, trust /
engagement / NPS, building blocks), each drawn at the size of its place, the event log
(with "pause at entries, exits and shocks") and the table of each firm's numbers. The
left column holds the lesson of the chosen scenario (:mod:`sim.app.lesson`) and the
lecturer's controls (:mod:`sim.app.settings`); narrower windows (or a zoomed page)
stack the panels and put the controls below them.

Each browser tab gets its own :class:`~sim.app.session.Session` (``solara.use_memo``),
hence its own model; the session's worker thread builds and plays, and asks the page
to redraw after each step. The front-end files come from the local install
(:mod:`sim.app.assets`); the server's telemetry and Solara's banner are switched off,
so the page makes no request to any outside host.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import os
import sys
from collections.abc import Callable

import markdown
import numpy as np
import solara

from ..plots import QUADRANT_COLORS
from . import export
from . import figures as F
from .lesson import lesson
from .session import READOUTS, SPEED_RANGE, Session
from .settings import (
    DISRUPTOR,
    PRICE_RANGE,
    SHOCK_LENGTH,
    STEERING_MODES,
    FirmSetting,
    Settings,
    library_scenarios,
    with_steering,
)
from .widgets import FigureBox, NumberField, QuietSlider, panel_size

#: Port of ``make app`` / ``python -m sim.app`` unless ``$PORT`` says otherwise.
DEFAULT_PORT = 8765
#: The browser tab's title and the page's heading.
TITLE = "customer-sim: customer relationships on the digital × human map"
#: The heading on the page (short: the top bar holds the play controls beside it).
HEADING = "customer-sim: customer relationships"
#: Where each figure panel goes in the grid (CSS grid area names, see :data:`CSS`).
PANEL_AREAS = {"map": "map", "share": "share", "money": "money", "relationship": "rel", "blocks": "blocks"}

CSS = """
.cs-app { display: grid; grid-template-columns: 330px minmax(0, 1fr); height: 100vh; font-size: 15px;
          background: white; color: #222; }
.cs-side { overflow-y: auto; border-right: 1px solid #ddd; padding: 6px 8px; }
.cs-main { display: grid; gap: 6px; padding: 6px 8px; height: 100vh; box-sizing: border-box; overflow: hidden;
           grid-template-columns: repeat(3, minmax(0, 1fr));
           grid-template-rows: auto auto minmax(0, 1fr) minmax(0, 1fr) auto;
           grid-template-areas: "top top top" "status status status" "map share money"
                                "rel blocks log" "table table table"; }
.cs-top { grid-area: top; display: flex; align-items: center; gap: 8px; height: 40px; overflow: hidden;
          white-space: nowrap; }
.cs-top h1 { font-size: 17px; font-weight: 600; margin: 0 10px 0 0; }
.cs-tools { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; padding: 2px 4px; }
.cs-tools .v-btn { height: 26px !important; }
.cs-sliderrow .cs-slider { flex: 1; min-width: 0; }
.cs-sliderrow .cs-slider .v-input__slot { flex-wrap: wrap; }
.cs-sliderrow .cs-slider .v-input__slot > .v-label { flex: 0 0 100%; max-width: 100%; font-size: 13px;
                                                     margin: 0 0 -8px 0 !important; }
.cs-speed .cs-slider { width: 110px; flex: none; }
.cs-speed { align-items: center !important; }
.cs-statusrow { grid-area: status; height: 50px; overflow: hidden; }
.cs-status { display: block; font-size: 17px; font-weight: 600; white-space: nowrap; overflow: hidden;
             text-overflow: ellipsis; }
.cs-readouts { display: flex; gap: 12px; white-space: nowrap; overflow: hidden; font-size: 14px; }
.cs-readout { white-space: nowrap; }
.cs-readout b { font-weight: 600; }
.cs-kept-value { color: #888; }
.cs-cell { min-height: 0; min-width: 0; border: 1px solid #eee; border-radius: 4px; overflow: hidden; }
.cs-log { grid-area: log; display: flex; flex-direction: column; padding: 4px 8px; font-size: 14px; }
.cs-log-list { overflow-y: auto; flex: 1; min-height: 0; }
.cs-tablebox { grid-area: table; overflow: auto; max-height: 30vh; }
.cs-numbers { border-collapse: collapse; font-size: 15px; white-space: nowrap; }
.cs-numbers th, .cs-numbers td { padding: 1px 8px; text-align: right; }
.cs-numbers th:first-child, .cs-numbers td:first-child { text-align: left; }
.cs-numbers tr.cs-kept-row td { color: #888; font-style: italic; }
.cs-swatch { display: inline-block; width: 22px; height: 4px; vertical-align: middle; margin-right: 6px; }
.cs-quadrant { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 4px; }
.cs-building { color: #b26a00; font-weight: 600; min-width: 80px; }
.cs-note { color: #b26a00; }
.cs-lesson p { margin: 4px 0; font-size: 14px; }
.cs-lesson strong { font-weight: 700; }
.cs-mode .v-btn { text-transform: none; letter-spacing: 0; font-size: 13px; padding: 0 8px !important; }
.cs-sliderrow { display: flex; align-items: flex-end; gap: 6px; }
.cs-sliderrow .cs-value { max-width: 78px; }
@media (max-width: 1150px), (max-height: 640px) {
  .cs-app { grid-template-columns: minmax(0, 1fr); height: auto; }
  .cs-side { order: 2; border-right: none; }
  .cs-main { height: auto; overflow: visible; grid-template-columns: repeat(2, minmax(0, 1fr));
             grid-template-rows: auto auto 320px 320px 320px auto;
             grid-template-areas: "top top" "status status" "map share" "money rel" "blocks log" "table table"; }
  .cs-tablebox { max-height: none; }
}
"""


# ----------------------------------------------------------------- a figure at its size


@solara.component
def FigurePanel(session: Session, name: str, tick: int):
    """One figure panel, drawn for the size the browser reports (:class:`FigureBox`)."""
    size, set_size = solara.use_state(panel_size(None))
    run = session.run
    src = ""
    if run.sim is not None:
        kept = session.kept.data if session.kept is not None else None
        png = run.png(name, size[:2], size[2], kept)
        src = "data:image/png;base64," + base64.b64encode(png).decode()
    box = FigureBox.element(src=src, name=name,
                            on_width=lambda w: set_size(lambda s: panel_size((w, s[1], s[2]))),
                            on_height=lambda h: set_size(lambda s: panel_size((s[0], h, s[2]))),
                            on_scale=lambda k: set_size(lambda s: panel_size((s[0], s[1], k))))
    with solara.Div(classes=["cs-cell", f"cs-cell-{name}"], style={"grid-area": PANEL_AREAS[name]}) as cell:
        if run.sim is None:
            solara.Text("no model: see the error line", style={"color": "#999"})
        else:
            solara.Div(children=[box], style={"width": "100%", "height": "100%"})
    return cell


# ---------------------------------------------------------------------- the numbers


def firm_table_html(session: Session) -> str:
    """HTML table of each firm's numbers now: colour, quadrant, steering (mode and strength),
    market share, price (money per customer per step), profit (money per market customer per
    step), trust and engagement (scores in [0, 1]) and NPS ([-100, 100]) of its customers at
    the last step, and cash (money per market customer); then the kept run's rows."""
    run = session.run
    colors = {f.name: _hex(c) for f, c in zip(run.firms(), _colors(run), strict=True)}

    def rows(ds, firms, kept: bool) -> list[str]:
        out = []
        for j, f in enumerate(firms):
            def last(var: str, j: int = j) -> float:
                return float(ds[var].values[-1, j]) if ds is not None and var in ds else float("nan")

            q = F.quadrant_of(f.digital, f.human)
            swatch = f'<span class="cs-swatch" style="background:{colors.get(f.name, "#888")}"></span>'
            quadrant = (f'<span class="cs-quadrant" style="background:{QUADRANT_COLORS[q]}"></span>'
                        f"{q} {F.QUADRANT_SHORT[q]}") if f.alive else "out"
            steering = f.steering if f.steering == "none" else f"{f.steering} {f.steering_strength:.0%}"
            cells = [swatch + html.escape(("kept: " if kept else "") + f.name), quadrant, steering,
                     f"{100 * f.share:.1f}%" if f.alive else "-", f"{f.price:.2f}", _fmt(last("profit"), "{:+.3f}"),
                     _fmt(last("trust")), _fmt(last("engagement")), _fmt(last("nps"), "{:+.0f}"), f"{f.cash:.2f}"]
            out.append(f'<tr class="{"cs-kept-row" if kept else "cs-firm-row"}">'
                       + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        return out

    body = rows(run.data(), run.firms(), False)
    if session.kept is not None:
        body += rows(session.kept.data, _kept_firms(session.kept.data), True)
    columns = ("firm", "quadrant", "steering", "share", "price", "profit", "trust", "engagement", "NPS", "cash")
    head = "".join(f"<th>{h}</th>" for h in columns)
    return f'<table class="cs-numbers"><tr>{head}</tr>{"".join(body)}</table>'


def _kept_firms(ds) -> list[F.FirmView]:
    """Each firm of a kept run at its last recorded step (steering from its config attribute)."""
    import yaml

    firms_cfg = (yaml.safe_load(ds.attrs.get("config", "")) or {}).get("firms", {})
    out = []
    for j, name in enumerate(str(f) for f in ds["firm"].values):
        def last(var: str, j: int = j) -> float:
            return float(ds[var].values[-1, j])

        fc = firms_cfg.get(name, {})
        out.append(F.FirmView(name, last("digital"), last("human"), last("price"), np.nan_to_num(last("share")),
                              bool(last("alive")), last("cash"), fc.get("steering", "none"),
                              float(fc.get("steering_strength", 0.0))))
    return out


def _colors(run) -> list:
    import xarray as xr

    from ..plots import firm_colors

    names = [f.name for f in run.firms()]
    return list(firm_colors(xr.Dataset(coords={"firm": names})).values()) if names else []


def _hex(color) -> str:
    from matplotlib.colors import to_hex

    return to_hex(color)


def _fmt(x: float, spec: str = "{:.2f}") -> str:
    return spec.format(x) if np.isfinite(x) else "-"


@solara.component
def StatusRow(session: Session, tick: int):
    """The status line and the market read-outs (with the kept run's values in grey)."""
    run = session.run
    with solara.Div(classes=["cs-statusrow"]) as row:
        if run.sim is None:
            solara.Error(run.error or "no model", classes=["cs-error"])
            return row
        solara.HTML(tag="span", unsafe_innerHTML=html.escape(run.status()), classes=["cs-status"])
        now = run.readouts()
        kept = session.kept.data if session.kept is not None else None
        items = []
        for var, (label, spec) in READOUTS.items():
            text = f"{label} <b>{_fmt(now[var], spec)}</b>"
            if kept is not None and var in kept:
                text += f' <span class="cs-kept-value">(kept {_fmt(float(kept[var].values[-1]), spec)})</span>'
            items.append(f'<span class="cs-readout cs-readout-{var}">{text}</span>')
        solara.HTML(tag="div", unsafe_innerHTML="".join(items), classes=["cs-readouts"])
    return row


@solara.component
def EventLog(session: Session, tick: int):
    """Every event so far with its step (newest first), and the option to pause at them."""
    with solara.Div(classes=["cs-cell", "cs-log"]) as box:
        solara.HTML(tag="div", unsafe_innerHTML="<b>What happened</b>", style="font-size: 15px")
        solara.Checkbox(label="pause at entries, exits and shocks", value=session.pause_at_events,
                        on_value=session.set_pause_at_events)
        if session.note:
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(session.note), classes=["cs-note"])
        items = [f"step {s}: {html.escape(t)}" for s, t in reversed(session.run.events())]
        solara.HTML(tag="div", unsafe_innerHTML="<br>".join(items) or "nothing yet",
                    classes=["cs-events", "cs-log-list"])
        solara.HTML(tag="div", unsafe_innerHTML=f"model {session.builds} ({session.builds_started} builds), "
                                                       f"built in {session.run.build_seconds:.1f} s",
                    classes=["cs-builds"], style="font-size: 12px; color: #888")
    return box


# ----------------------------------------------------------------- top bar


@solara.component
def TopBar(session: Session, tick: int):
    """Title, Play / Pause, Step, Reset, speed, the building sign, Keep this run and the exports."""
    run = session.run
    playable = run.sim is not None or session.building
    with solara.Div(classes=["cs-top"]) as bar:
        solara.HTML(tag="h1", unsafe_innerHTML=html.escape(HEADING))
        if session.playing:
            solara.Button("❚❚ Pause", on_click=session.pause, color="primary", classes=["cs-pause"])
        else:
            label = "▶ Play again" if run.ended and run.sim is not None else "▶ Play"
            solara.Button(label, on_click=session.play, color="primary", disabled=not playable, classes=["cs-play"])
        solara.Button("Step", on_click=session.step, disabled=not playable or session.playing, classes=["cs-step"])
        solara.Button("Reset", on_click=session.reset, classes=["cs-reset"])
        SpeedControl(session.speed, session.set_speed)
        # always there (empty when idle): the sign must not move the panels, which would redraw them
        solara.HTML(tag="span", unsafe_innerHTML="building…" if session.building else "",
                    classes=["cs-building"] if session.building else ["cs-idle"], style="min-width: 80px")
    return bar


@solara.component
def RunTools(session: Session, tick: int):
    """Keep this run (drawn faintly beside the next runs), forget it, and the exports."""
    run = session.run
    with solara.Div(classes=["cs-tools"]) as bar:
        solara.Button("Keep this run", on_click=session.keep, disabled=run.data() is None, classes=["cs-keep"],
                      outlined=True)
        if session.kept is not None:
            solara.Button("Forget kept run", on_click=session.forget_kept, text=True, classes=["cs-forget"])
        if run.data() is not None:
            stem = export.file_stem(run)
            kept = session.kept
            solara.FileDownload(lambda: export.figures_zip(run, kept), filename=f"{stem}-figures.zip",
                                label="figures (PNG)", mime_type="application/zip")
            solara.FileDownload(lambda: export.run_netcdf(run), filename=f"{stem}.nc", label="run (netCDF)",
                                mime_type="application/x-netcdf")
            solara.FileDownload(lambda: export.run_csv(run), filename=f"{stem}.csv", label="run (CSV)",
                                mime_type="text/csv")
    return bar


@solara.component
def SpeedControl(speed: float, on_value: Callable[[float], None]):
    """The play speed in steps per second: a slider and its number."""
    with solara.Div(classes=["cs-sliderrow", "cs-speed"]) as row:
        solara.Text("speed")
        ValueSlider("", speed, *SPEED_RANGE, 1.0, on_value, integer=True)
        solara.Text("steps/s")
    return row


# ----------------------------------------------------------------- the controls


@solara.component
def ValueSlider(label: str, value: float, vmin: float, vmax: float, step: float,
                on_change: Callable[[float], None], integer: bool = False, disabled: bool = False):
    """A slider with its value shown beside it in a field where a value can be typed.

    The slider reports its value once its knob has been still for a moment
    (:class:`QuietSlider`); the field on Enter or when it loses focus.
    """
    def changed(x) -> None:
        x = int(round(x)) if integer else round(float(x), 6)
        if x != value:
            on_change(x)

    with solara.Div(classes=["cs-sliderrow"]) as row:
        QuietSlider.element(value=float(value), label=label, min=float(vmin), max=float(vmax), step=float(step),
                            disabled=disabled, on_value=changed)
        NumberField("", int(value) if integer else float(value), on_change, kind=int if integer else float,
                    disabled=disabled, classes=["cs-value"], dense=True, hide_details=True)
    return row


@solara.component
def Lesson(scenario: str):
    """The chosen scenario's lesson: description, what to show, ask, look for and move."""
    ls = lesson(scenario)
    with solara.Details(summary=f"Lesson: {scenario}" + (f": {ls.title}" if ls.title else ""), expand=True) as box:
        with solara.Div(classes=["cs-lesson"]):
            parts = [("", ls.description), ("**Show.** ", ls.show), ("**Ask the class.** ", ls.ask),
                     ("", ls.look), ("**Move this control.** ", ls.move)]
            text = "\n\n".join(head + text for head, text in parts if text) or "(no lesson for this scenario)"
            solara.HTML(tag="div", unsafe_innerHTML=markdown.markdown(text), classes=["cs-lesson-text"])
    return box


@solara.component
def Controls(session: Session, s: Settings, cfg, error: str | None, mode: str):
    """The lecturer's controls: what a change does, scenario, customers, seed, firms,
    disruptor and shock. Every change goes to :meth:`Session.change`.

    Drawn again only when what it shows changes (``s``: the sidebar's settings, ``cfg``: the
    config of the last model built, ``error``: the current run's one-line error, ``mode``: what a
    change does), not at every step of a play."""
    apply = session.change
    if error:
        solara.Error(error, classes=["cs-error"])
    modes = {"restart": "restart from step 0", "now": "apply from now"}
    solara.ToggleButtonsSingle(value=modes[mode], values=list(modes.values()), classes=["cs-mode"],
                               on_value=lambda label: session.set_mode(next(k for k, x in modes.items() if x == label)))
    solara.Text("a changed control: restart the run from step 0, or apply a firm's change to the running "
                "model from its current step", style={"font-size": "12px", "color": "#666"})
    with solara.Card("Scenario"):
        names = library_scenarios()
        scenario = s.scenario or (cfg.scenario if cfg is not None else names[0])
        solara.Select("scenario", value=scenario, values=names,
                      on_value=lambda name: apply(Settings(scenario=name, customers=s.customers, seed=s.seed)))
        n_default = cfg.customers.n if cfg is not None else 100_000
        NumberField("customers", s.customers if s.customers is not None else n_default,
                    lambda n: apply(dataclasses.replace(s, customers=n)))
        NumberField("seed", s.seed, lambda n: apply(dataclasses.replace(s, seed=n)))
    if cfg is None:
        return
    with solara.Card("Firms"):
        for name, fc in cfg.firms.items():
            current = s.firms.get(name, FirmSetting(fc.digital, fc.human, fc.price, fc.steering, fc.steering_strength))
            FirmControls(name, current,
                         lambda new, name=name: apply(dataclasses.replace(s, firms={**s.firms, name: new})))
    with solara.Card("Disruptor and shock"):
        DisruptorShock(session, s, cfg)


@solara.component
def DisruptorShock(session: Session, s: Settings, cfg):
    """The disruptor on or off and its entry step; the shock on or off and its start (``s``: the
    sidebar's settings, ``cfg``: the config of the last model built)."""
    apply = session.change
    on = DISRUPTOR in cfg.firms and s.disruptor is not False
    native = (DISRUPTOR in cfg.firms and not s.add_disruptor) or s.disruptor is False

    def set_disruptor(b: bool) -> None:
        if b:  # the scenario's own disruptor, or the disruptor scenario's added to this one
            apply(dataclasses.replace(s, disruptor=None) if native
                  else dataclasses.replace(s, disruptor=True, add_disruptor=True))
        elif s.add_disruptor:  # back to the scenario as it is
            firms = {k: f for k, f in s.firms.items() if k != DISRUPTOR}
            apply(dataclasses.replace(s, disruptor=None, add_disruptor=False, enter_step=None, firms=firms))
        else:
            apply(dataclasses.replace(s, disruptor=False))

    solara.Checkbox(label="disruptor enters", value=on, on_value=set_disruptor)
    if not native and not on:
        solara.Text("(adds the newcomer of the disruptor scenario)", style={"font-size": "12px", "color": "#666"})
    dcfg = cfg.firms.get(DISRUPTOR)
    enter = s.enter_step if s.enter_step is not None else (dcfg.enter_step if dcfg is not None else 36)
    ValueSlider("disruptor enters at step", enter, 1, cfg.steps - 1, 1,
                lambda n: apply(dataclasses.replace(s, enter_step=n)), integer=True, disabled=not on)
    shock_on = cfg.market.shock.start >= 0
    start = cfg.market.shock.start if shock_on else s.shock_start
    solara.Checkbox(label="shock (human capacity cut, push online)", value=shock_on,
                    on_value=lambda b: apply(dataclasses.replace(s, shock=b, shock_start=start)))
    ValueSlider(f"shock starts at step (lasts {SHOCK_LENGTH})", start, 1, max(1, cfg.steps - SHOCK_LENGTH), 1,
                lambda n: apply(dataclasses.replace(s, shock=True, shock_start=n)), integer=True,
                disabled=not shock_on)


@solara.component
def FirmControls(name: str, f: FirmSetting, on_change: Callable[[FirmSetting], None]):
    """Digital level, human level, price and steering mode of one firm."""
    q = F.quadrant_of(f.digital, f.human)
    with solara.Details(summary=f"{name}: {q} {F.QUADRANT_SHORT[q]}", expand=False) as box:
        ValueSlider(f"{name} digital", f.digital, 0.0, 1.0, 0.05,
                    lambda x: on_change(dataclasses.replace(f, digital=x)))
        ValueSlider(f"{name} human", f.human, 0.0, 1.0, 0.05, lambda x: on_change(dataclasses.replace(f, human=x)))
        ValueSlider(f"{name} price", f.price, *PRICE_RANGE, 0.05, lambda x: on_change(dataclasses.replace(f, price=x)))
        solara.Select(f"{name} steering", value=f.steering, values=list(STEERING_MODES),
                      on_value=lambda mode: on_change(with_steering(f, mode)))
    return box


# --------------------------------------------------------------------- the page


def _context():
    """The kernel context of the page being drawn (None outside Solara's server)."""
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context()
    except Exception:  # no server (solara.render in tests) or another Solara
        return None


@solara.component
def Page():
    """The classroom page; one :class:`Session` (and so one model) per browser tab."""
    tick, set_tick = solara.use_state(0)

    def new_session() -> Session:
        return Session(on_change=lambda: set_tick(lambda t: t + 1), context=_context())

    session = solara.use_memo(new_session, [])
    solara.use_effect(lambda: session.close, [])  # the tab went away: stop its worker
    solara.use_effect(session.drawn, None)  # after every drawing: the worker may step on
    scenario = session.settings.scenario or (session.last_cfg.scenario if session.last_cfg else "disruptor")
    with solara.Div(classes=["cs-app"]) as app:
        solara.Title(TITLE)
        solara.Style(CSS)
        with solara.Div(classes=["cs-side"]):
            Lesson(scenario)
            Controls(session, session.settings, session.last_cfg, session.run.error, session.mode)
        with solara.Div(classes=["cs-main"]):
            TopBar(session, tick)
            StatusRow(session, tick)
            for name in F.PANELS:
                FigurePanel(session, name, tick)
            EventLog(session, tick)
            with solara.Div(classes=["cs-cell", "cs-tablebox"]):
                RunTools(session, tick)
                if session.run.sim is not None:
                    solara.HTML(tag="div", unsafe_innerHTML=firm_table_html(session))
                if session.kept is not None:
                    solara.HTML(tag="div", unsafe_innerHTML="kept run (faint lines, grey rows): "
                                + html.escape(session.kept.label), classes=["cs-kept-label"],
                                style="font-size: 13px; color: #777")
    return app


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's signature
    """No app bar or frame around the page: it uses the whole window."""
    return solara.Div(children=children)


# ----------------------------------------------------------------------- server


def serve(port: int | None = None, host: str | None = None) -> None:
    """Run the page in Solara's server (production mode, telemetry and banner off); blocks.

    Checks first that the front-end assets are installed (:mod:`sim.app.assets`) and
    installs them if not (needs ``npm`` and the network once).
    """
    from . import assets as app_assets

    port = int(port if port is not None else os.environ.get("PORT", DEFAULT_PORT))
    host = host or os.environ.get("SIM_APP_HOST", "127.0.0.1")
    if app_assets.missing_packages():
        try:
            app_assets.install()
        except RuntimeError as e:
            print(f"warning: {e}; the page needs internet access to load its scripts", file=sys.stderr)
    env = dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="False", SOLARA_THEME_SHOW_BANNER="False",
               SOLARA_THEME_TITLE=TITLE)
    argv = [sys.executable, "-m", "solara", "run", "sim.app.page", "--production", "--no-open",
            "--host", host, "--port", str(port)]
    print(f"classroom page on http://{host}:{port}  (Ctrl-C to stop)", flush=True)
    os.execve(sys.executable, argv, env)


if __name__ == "__main__":
    serve()
