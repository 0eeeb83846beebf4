"""The classroom page: a Mesa SolaraViz app that runs the model live in the browser.

Start it with ``make app`` or ``python -m sim.app`` (port ``$PORT``, default 8765;
address ``$SIM_APP_HOST``, default 127.0.0.1: this machine only; ``0.0.0.0`` serves
the lecture hall's network) and open ``http://127.0.0.1:8765``. It opens on the
default scenario and shows, per step: the quadrant map (firms as markers sized by
market share, filled with the colour of their quadrant, with their trails), market
share over time, trust / engagement / NPS per firm, the five building blocks, a
line of what just happened (entry, exit, shock start and end) and a table of each
firm's numbers. Mesa's controller gives play, pause, step and reset; the sidebar
holds the lecturer's controls (scenario, customers, seed, each firm's digital level,
human level, price and steering mode, the disruptor and the shock). Changing a
control rebuilds the model at step 0; a bad value shows the model's one-line
:class:`~sim.settings.schema.ConfigError` on the page instead of a model.

How it fits together:

* :class:`Settings` holds the control values; :func:`overrides` turns them into the
  override strings of ``python -m sim``; :func:`make_model` builds the model from
  them through the public :func:`sim.build`. That factory is the one place to change
  when :class:`~sim.model.CustomerModel` gains keyword construction.
* :class:`ClassroomModel` is the ``mesa.Model`` SolaraViz drives: constructed by
  keyword (as SolaraViz's Reset does), it builds the simulation with
  :func:`make_model`, keeps a one-line error instead of raising, steps it up to its
  horizon, and caches ``sim.dataset`` of the recorded steps for the panels.
* :func:`Page` creates one :class:`Session` (and so one model) per browser session
  with ``solara.use_memo``: two tabs never share a model.

The front-end assets come from the local install (:mod:`sim.app.assets`); the app
switches off Solara's telemetry, so the page makes no request to any outside host.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import mesa
import numpy as np
import reacton.ipyvuetify as v
import solara
import xarray as xr

import sim

from ..plots import QUADRANTS
from ..settings.compose import scenario_names
from ..settings.schema import ConfigError
from . import figures as F

log = logging.getLogger(__name__)

#: Port of ``make app`` / ``python -m sim.app`` unless ``$PORT`` says otherwise.
DEFAULT_PORT = 8765
#: Steering modes a firm can use (as in ``firms.<name>.steering``).
STEERING_MODES: tuple[str, ...] = ("none", "soft", "hard")
#: Steering strength given to a firm switched to a mode while its strength is 0
#: (share of human requests steered; the values of the ``steering`` scenario).
DEFAULT_STEERING_STRENGTH: dict[str, float] = {"soft": 0.6, "hard": 0.8}
#: Length of the shock switched on by the page, in steps (months), and its default start.
SHOCK_LENGTH = 12
SHOCK_START = 24
#: Price slider range, money per customer per step.
PRICE_RANGE: tuple[float, float] = (0.1, 3.0)
#: Name of the firm the disruptor controls act on.
DISRUPTOR = "disruptor"


# ------------------------------------------------------------- settings and factory


@dataclass(frozen=True)
class FirmSetting:
    """Control values for one firm: service levels in [0, 1], price in money per
    customer per step, steering mode and strength (share of human requests steered)."""

    digital: float
    human: float
    price: float
    steering: str = "none"
    steering_strength: float = 0.0


@dataclass(frozen=True)
class Settings:
    """The page's control values. ``None`` keeps what the scenario says.

    Attributes
    ----------
    scenario : str or None
        Scenario name (``scenario_names()``); None: the default scenario.
    customers : int or None
        Number of customers; None: the scenario's number.
    seed : int
        Random seed.
    firms : dict
        Firm name -> :class:`FirmSetting` for firms whose controls were moved.
    disruptor : bool or None
        Whether the firm named ``disruptor`` takes part; None: as the scenario says.
    add_disruptor : bool
        The scenario has no firm named ``disruptor``: add the newcomer of the
        ``disruptor`` scenario (:func:`disruptor_template`) to it.
    enter_step : int or None
        Step (month) at which the disruptor enters.
    shock : bool or None
        Whether a shock happens (from ``shock_start`` for :data:`SHOCK_LENGTH` steps,
        with the market's shock strength); False removes a scenario's own shock.
    shock_start : int
        First step of the shock, when ``shock`` is True.
    """

    scenario: str | None = None
    customers: int | None = None
    seed: int = 0
    firms: dict[str, FirmSetting] = field(default_factory=dict)
    disruptor: bool | None = None
    add_disruptor: bool = False
    enter_step: int | None = None
    shock: bool | None = None
    shock_start: int = SHOCK_START


def library_scenarios() -> list[str]:
    """The scenarios the page offers: every scenario of the library (``scenarios/*.yaml``);
    the validation cases in ``scenarios/validation/`` are left out."""
    return [name for name in scenario_names() if "/" not in name]


def overrides(s: Settings) -> list[str]:
    """The override strings (as for ``python -m sim``) that the settings stand for.

    >>> overrides(Settings(scenario="baseline", customers=1000, shock=True))
    ['scenario=baseline', 'customers.n=1000', 'market.shock.start=24', 'market.shock.end=36']
    """
    out: list[str] = []
    if s.scenario:
        out.append(f"scenario={s.scenario}")
    if s.customers is not None:
        out.append(f"customers.n={s.customers}")
    for name, f in s.firms.items():
        if name == DISRUPTOR and (s.disruptor is False or s.add_disruptor):
            continue  # removed, or added by make_model
        out += [f"firms.{name}.digital={f.digital:g}", f"firms.{name}.human={f.human:g}",
                f"firms.{name}.price={f.price:g}", f"firms.{name}.steering={f.steering}",
                f"firms.{name}.steering_strength={f.steering_strength:g}"]
    if s.disruptor is False:
        out.append(f"~firms.{DISRUPTOR}")
    elif s.enter_step is not None and not s.add_disruptor:
        out.append(f"firms.{DISRUPTOR}.enter_step={s.enter_step}")
    if s.shock is True:
        out += [f"market.shock.start={s.shock_start}", f"market.shock.end={s.shock_start + SHOCK_LENGTH}"]
    elif s.shock is False:
        out += ["market.shock.start=-1", "market.shock.end=-1"]
    return out


def make_model(s: Settings):
    """Build the simulation for the page's settings (population drawn, step 0).

    The one place where the page creates a model: today through the public
    ``sim.build(overrides, seed)``; later through keyword construction of
    :class:`~sim.model.CustomerModel`. With ``add_disruptor`` the scenario is built
    first, then rebuilt from its resolved config (``sim.build(config=...)``) with the
    newcomer of the ``disruptor`` scenario added (its entry step and controls applied).

    Raises
    ------
    sim.ConfigError
        One line naming the field, the value and what is allowed.
    """
    model = sim.build(overrides(s), seed=s.seed)
    if not s.add_disruptor or DISRUPTOR in model.cfg.firms:
        return model
    cfg = dataclasses.asdict(model.cfg)
    firm = dict(disruptor_template())
    if DISRUPTOR in s.firms:
        firm.update(dataclasses.asdict(s.firms[DISRUPTOR]))
    if s.enter_step is not None:
        firm["enter_step"] = s.enter_step
    cfg["firms"][DISRUPTOR] = firm
    return sim.build([], seed=s.seed, config=cfg)


@functools.lru_cache(maxsize=1)
def disruptor_template() -> dict:
    """The ``disruptor`` scenario's newcomer (its firm config as a dict), read once per process."""
    return dataclasses.asdict(sim.build([f"scenario={DISRUPTOR}", "customers.n=1"], seed=0).cfg.firms[DISRUPTOR])


#: Longest wait, seconds, of a step for the page to show the step before (see ``ClassroomModel.step``).
SHOW_WAIT = 10.0


class Session:
    """One browser session's state: its current settings and the last config that built.

    ``last_cfg`` (the resolved config of the last model that built) lists the firms
    and the current values for the controls while a bad value is shown; ``model`` is
    the model the last control change built.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings if settings is not None else Settings()
        self.last_cfg = None
        self.model: ClassroomModel | None = None  # the model the last control change built


class ClassroomModel(mesa.Model):
    """The model SolaraViz drives: the simulation built from the page's settings.

    Constructed by keyword, as SolaraViz's Reset does (``ClassroomModel(session=s)``
    rebuilds from the session's current settings). A bad setting does not raise: the
    model then holds no simulation, ``error`` is the one-line message and
    ``running`` is False.

    Attributes
    ----------
    sim : CustomerModel or None
        The simulation (``None`` when the settings were rejected).
    error : str or None
        One-line message of the rejected settings.
    build_seconds : float
        Wall time of building the simulation, seconds.
    """

    def __init__(self, settings: Settings | None = None, session: Session | None = None) -> None:
        if settings is None:
            settings = session.settings if session is not None else Settings()
        # the wrapper's own generator is not used; a seed sim rejects is reported by make_model below
        super().__init__(rng=settings.seed if 0 <= settings.seed < 2**63 else None)
        self.settings = settings
        self.sim = None
        self.retired = False
        self.error: str | None = None
        self._ds: xr.Dataset | None = None
        self._ds_step = -1
        self._panels: dict[str, F.LivePanel] = {}
        self._png: dict[str, tuple[int, bytes]] = {}
        self._shown = threading.Condition()
        self.shown_step: int | None = None  # the last step a page has drawn (None: no page shows this model)
        t0 = time.perf_counter()
        try:
            self.sim = make_model(settings)
        except ConfigError as e:
            self.error = str(e).splitlines()[0] if str(e) else type(e).__name__
        except Exception as e:  # never a traceback on the page; the server log keeps it
            log.exception("building the model failed")
            self.error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        self.build_seconds = time.perf_counter() - t0
        self.running = self.sim is not None and self.sim.steps < self.sim.cfg.steps
        if session is not None and self.sim is not None:
            session.last_cfg = self.sim.cfg

    @property
    def horizon(self) -> int:
        """Number of steps of the run (0 without a simulation)."""
        return self.sim.cfg.steps if self.sim is not None else 0

    def retire(self) -> None:
        """Stop this model for good (a control built its successor): ``step`` does nothing."""
        with self._shown:
            self.retired = True
            self.running = False
            self._shown.notify_all()

    def shown(self) -> None:
        """Called when a page has drawn this model: its current step is on screen."""
        with self._shown:
            self.shown_step = self.sim.steps if self.sim is not None else 0
            self._shown.notify_all()

    def step(self) -> None:
        """Advance the simulation one step, up to its horizon (then ``running`` is False);
        nothing once retired.

        Once a page shows this model, a step first waits (at most ``SHOW_WAIT`` seconds)
        until the page has drawn the step before. Play then shows every month, and the
        model never runs ahead of the page: Mesa's play loop asks for a redraw after each
        step, and a redraw asked for while one is drawing is done by the thread that is
        drawing, so without the wait a thread handling a click could keep drawing until
        the run ends, and a control changed meanwhile would wait for the end.
        """
        if self.retired or self.sim is None or self.sim.steps >= self.sim.cfg.steps:
            self.running = False
            return
        with self._shown:
            if self.shown_step is not None:
                self._shown.wait_for(lambda: self.retired or self.shown_step >= self.sim.steps, timeout=SHOW_WAIT)
        if self.retired:
            return
        self.sim.step()
        self.running = self.sim.steps < self.sim.cfg.steps

    def data(self) -> xr.Dataset | None:
        """The recorded steps (``sim.dataset``), cached per step; None before the first step."""
        if self.sim is None or self.sim.steps == 0:
            return None
        if self._ds_step != self.sim.steps:
            self._ds = sim.dataset(self.sim)
            self._ds_step = self.sim.steps
        return self._ds

    def firms(self) -> list[F.FirmView]:
        """Each firm's current state (empty without a simulation)."""
        if self.sim is None:
            return []
        return [F.FirmView(f.name, float(f.digital), float(f.human), float(f.price), float(f.share),
                           bool(f.alive), float(f.cash)) for f in self.sim.firm_list]

    def png(self, panel: str) -> bytes:
        """PNG of one figure panel (a key of :data:`PANELS`) at the current step, cached per step."""
        step = self.sim.steps
        cached = self._png.get(panel)
        if cached is not None and cached[0] == step:
            return cached[1]
        if panel not in self._panels:
            self._panels[panel] = new_panel(panel, self)
        data = self._panels[panel].render(self.data(), self.firms())
        self._png[panel] = (step, data)
        return data

    def status(self) -> str:
        """The line of what just happened at the current step."""
        if self.sim is None:
            return f"error: {self.error}"
        t, n = self.sim.steps, self.horizon
        head = f"step {t} of {n}, seed {self.sim.cfg.seed}: "  # the seed at every step: runs of two seeds look alike
        if t == 0:
            return head + (f"scenario {self.sim.cfg.scenario}, {self.sim.cfg.customers.n:,} customers, "
                           f"{sum(f.alive for f in self.sim.firm_list)} firms in the market")
        now = [text for step, text in F.events(self.data()) if step == t]
        return head + ("; ".join(now) if now else "no entry, exit or shock")

    def history(self, last: int = 6) -> list[str]:
        """The ``last`` most recent events, newest first, as ``"step N: text"``."""
        return [f"step {s}: {text}" for s, text in reversed(F.events(self.data())[-last:])]


# ------------------------------------------------------------------ the panels


#: The figure panels, in page order: name -> panel class of :mod:`sim.app.figures`.
PANELS: dict[str, type[F.LivePanel]] = {
    "QuadrantMap": F.QuadrantMapPanel,
    "MarketShare": F.SharePanel,
    "TrustEngagementNps": F.RelationshipPanel,
    "BuildingBlocks": F.BlocksPanel,
}


def new_panel(name: str, model: ClassroomModel) -> F.LivePanel:
    """Create the figure panel ``name`` for the firms and horizon of ``model``."""
    names = [f.name for f in model.sim.firm_list]
    if name == "QuadrantMap":
        return F.QuadrantMapPanel(names, model.horizon, model.sim.cfg.scenario)
    return PANELS[name](names, model.horizon)


def _figure_component(name: str) -> Callable:
    """A SolaraViz component (a function of the model) showing panel ``name`` as an image."""

    def panel(model: ClassroomModel):
        if model.sim is None:  # the status panel and the controls show the one-line error
            return solara.Text("no model: see the error line", style="color: #999")
        return solara.Image(model.png(name), format="png", classes=[f"cs-panel-{name}"])

    panel.__name__ = panel.__qualname__ = name
    return panel


#: Quadrant labels in the numbers table (number and short name).
QUADRANT_SHORT: dict[int, str] = {1: "1 neither", 2: "2 human", 3: "3 digital", 4: "4 both"}


def firm_table_html(model: ClassroomModel) -> str:
    """HTML table of each firm's numbers now: quadrant, market share, price (money per
    customer per step), trust and engagement (scores in [0, 1]) and NPS ([-100, 100])
    of its customers at the last step, and cash (money per market customer)."""
    import html

    ds = model.data()
    rows = []
    for j, f in enumerate(model.firms()):
        def last(var: str, j: int = j) -> float:
            return float(ds[var].values[-1, j]) if ds is not None else float("nan")

        cells = [html.escape(f.name), QUADRANT_SHORT[F.quadrant_of(f.digital, f.human)] if f.alive else "out",
                 f"{100 * f.share:.1f}%" if f.alive else "-", f"{f.price:.2f}", _fmt(last("trust")),
                 _fmt(last("engagement")), _fmt(last("nps"), "{:+.0f}"), f"{f.cash:.3f}"]
        rows.append("<tr>" + "".join(f'<td style="padding:2px 5px">{c}</td>' for c in cells) + "</tr>")
    columns = ("firm", "quadrant", "share", "price", "trust", "engagement", "NPS", "cash")
    head = "".join(f'<th style="padding:2px 5px;text-align:left">{h}</th>' for h in columns)
    return (f'<table class="cs-numbers" style="border-collapse:collapse;font-size:13px;white-space:nowrap">'
            f"<tr>{head}</tr>{''.join(rows)}</table>")


def _fmt(x: float, spec: str = "{:.2f}") -> str:
    return spec.format(x) if np.isfinite(x) else "-"


def status_panel(model: ClassroomModel):
    """SolaraViz component: what just happened, the recent events and each firm's numbers.

    After each drawing of the page it tells the model that its step is on screen
    (:meth:`ClassroomModel.shown`), which paces play to the page."""
    solara.use_effect(model.shown, None)  # no dependencies: after every render
    with solara.Column(style={"padding": "8px"}) as main:
        if model.sim is None:
            solara.Error(model.error or "no model", classes=["cs-error"])
        else:
            solara.HTML(tag="div", unsafe_innerHTML=_escape(model.status()), classes=["cs-status"],
                        style="font-size: 16px; font-weight: bold")
            hist = model.history()
            if hist:
                solara.HTML(tag="div", unsafe_innerHTML="<br>".join(_escape(h) for h in hist),
                            classes=["cs-events"], style="font-size: 12px; color: #555")
            solara.HTML(tag="div", unsafe_innerHTML=firm_table_html(model))
    return main


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def components() -> list[tuple[Callable, int]]:
    """The SolaraViz components (all on page 0): the status panel and the figures."""
    return [(status_panel, 0)] + [(_figure_component(name), 0) for name in PANELS]


# ----------------------------------------------------------------- the controls


@solara.component
def ChangeSlider(label: str, value: float, vmin: float, vmax: float, step: float,
                 on_change: Callable[[float], None], integer: bool = False, disabled: bool = False):
    """A slider that reports its value when released (a rebuild per drag, not per pixel)."""
    el = v.Slider(v_model=value, label=label, min=vmin, max=vmax, step=step, thumb_label=True,
                  hide_details=True, disabled=disabled, class_="cs-slider")

    def changed(*args) -> None:
        data = args[-1]
        on_change(int(round(data)) if integer else float(data))

    v.use_event(el, "change", changed)
    return el


@solara.component
def Controls(model: solara.Reactive[ClassroomModel], session: Session, apply: Callable[[Settings], None]):
    """The lecturer's controls; each change rebuilds the model with the new settings."""
    s = session.settings
    cfg = session.last_cfg
    current = model.value
    if current.error:
        solara.Error(current.error, classes=["cs-error"])
    with solara.Card("Scenario"):
        names = library_scenarios()
        scenario = s.scenario or (cfg.scenario if cfg is not None else names[0])

        def set_scenario(name: str) -> None:
            apply(Settings(scenario=name, customers=s.customers, seed=s.seed))

        solara.Select("scenario", value=scenario, values=names, on_value=set_scenario)
        n_default = cfg.customers.n if cfg is not None else 100_000
        solara.InputInt("customers", value=s.customers if s.customers is not None else n_default,
                        on_value=lambda n: apply(replace(s, customers=n)))
        solara.InputInt("seed", value=s.seed, on_value=lambda n: apply(replace(s, seed=n)))
    if cfg is None:
        return
    with solara.Card("Firms"):
        for name, fc in cfg.firms.items():
            current_f = s.firms.get(name, FirmSetting(fc.digital, fc.human, fc.price, fc.steering,
                                                      fc.steering_strength))
            FirmControls(name, current_f, lambda new, name=name: apply(replace(s, firms={**s.firms, name: new})))
    with solara.Card("Disruptor and shock"):
        on = DISRUPTOR in cfg.firms and s.disruptor is not False
        native = (DISRUPTOR in cfg.firms and not s.add_disruptor) or s.disruptor is False

        def set_disruptor(b: bool) -> None:
            if b:  # the scenario's own disruptor, or the disruptor scenario's added to this one
                apply(replace(s, disruptor=None) if native else replace(s, disruptor=True, add_disruptor=True))
            elif s.add_disruptor:  # back to the scenario as it is
                firms = {k: v for k, v in s.firms.items() if k != DISRUPTOR}
                apply(replace(s, disruptor=None, add_disruptor=False, enter_step=None, firms=firms))
            else:
                apply(replace(s, disruptor=False))

        solara.Checkbox(label="disruptor enters", value=on, on_value=set_disruptor)
        if not native and not on:
            solara.Text("(adds the newcomer of the disruptor scenario)", style={"font-size": "12px", "color": "#777"})
        dcfg = cfg.firms.get(DISRUPTOR)
        enter = s.enter_step if s.enter_step is not None else (dcfg.enter_step if dcfg is not None else 36)
        ChangeSlider("disruptor enters at step", enter, 1, cfg.steps - 1, 1,
                     lambda n: apply(replace(s, enter_step=n)), integer=True, disabled=not on)
        shock_on = cfg.market.shock.start >= 0
        solara.Checkbox(label="shock (human capacity cut, push online)", value=shock_on,
                        on_value=lambda b: apply(replace(s, shock=b, shock_start=_shock_start(cfg, s))))
        ChangeSlider(f"shock starts at step (lasts {SHOCK_LENGTH})", _shock_start(cfg, s), 1,
                     max(1, cfg.steps - SHOCK_LENGTH), 1,
                     lambda n: apply(replace(s, shock=True, shock_start=n)), integer=True, disabled=not shock_on)


def _shock_start(cfg, s: Settings) -> int:
    return cfg.market.shock.start if cfg.market.shock.start >= 0 else s.shock_start


@solara.component
def FirmControls(name: str, f: FirmSetting, on_change: Callable[[FirmSetting], None]):
    """Digital level, human level, price and steering mode of one firm."""
    with solara.Details(summary=f"{name}: {QUADRANTS[F.quadrant_of(f.digital, f.human)][0]}", expand=False):
        ChangeSlider(f"{name} digital", f.digital, 0.0, 1.0, 0.05, lambda x: on_change(replace(f, digital=x)))
        ChangeSlider(f"{name} human", f.human, 0.0, 1.0, 0.05, lambda x: on_change(replace(f, human=x)))
        ChangeSlider(f"{name} price", f.price, *PRICE_RANGE, 0.05, lambda x: on_change(replace(f, price=x)))

        def set_mode(mode: str) -> None:
            strength = f.steering_strength
            if mode != "none" and strength == 0.0:
                strength = DEFAULT_STEERING_STRENGTH[mode]
            on_change(replace(f, steering=mode, steering_strength=strength))

        solara.Select(f"{name} steering", value=f.steering, values=list(STEERING_MODES), on_value=set_mode)


# --------------------------------------------------------------------- the page


@functools.lru_cache(maxsize=1)
def solara_viz():
    """Mesa's ``SolaraViz``, imported once without Solara's hook warning about Mesa's own
    ``ComponentsView`` (a check Solara runs on Mesa 3.3's code when it is imported)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ComponentsView: `use_state` found despite early return",
                                category=UserWarning)
        from mesa.visualization import SolaraViz
    return SolaraViz


@solara.component
def Page():
    """The classroom page; one model per browser session.

    A control change builds a new model. While the current one can still run, the new
    model simply takes its place (if the class is watching it play, play goes on from
    step 0). When the current one has finished its horizon or was rejected, Mesa's
    controller has stopped, so the new model gets a fresh SolaraViz (keyed by the
    build number: paused at step 0, play and step enabled) around its own reactive
    model, and the old model is retired.
    """
    session = solara.use_memo(Session, [])
    built = solara.use_reactive(0)  # number of rebuilds by a control

    def current_model() -> solara.Reactive[ClassroomModel]:
        return solara.reactive(session.model if session.model is not None else ClassroomModel(session=session))

    model = solara.use_memo(current_model, [built.value])

    def apply(settings: Settings) -> None:
        session.settings = settings
        new = ClassroomModel(session=session)
        old = model.value
        session.model = new
        if old.running:
            model.value = new
        else:  # Mesa's controller has stopped: a fresh one
            old.retire()
            built.value += 1

    Build(model, session, apply).key(f"build-{built.value}")


@solara.component
def Build(model: solara.Reactive[ClassroomModel], session: Session, apply: Callable[[Settings], None]):
    """SolaraViz around one build's model, then the lecturer's controls in the sidebar.

    Mounted afresh for each build (keyed by the build number), so Mesa's controller
    starts paused at step 0, and the sidebar shows SolaraViz's cards (play, step,
    reset) first and these controls after them, in the order they mount.
    """
    solara_viz()(model, components=components(), model_params={"session": session},
                 name="customer-sim: the classroom page", play_interval=50)
    SidebarControls(model, session, apply)


@solara.component
def SidebarControls(model: solara.Reactive[ClassroomModel], session: Session, apply: Callable[[Settings], None]):
    """The lecturer's controls in the sidebar, after SolaraViz's cards (play, step, reset)."""
    with SidebarAfter():
        Controls(model, session, apply)


@solara.component
def SidebarAfter(children: list | None = None):
    """Like ``solara.Sidebar``, but its content always comes after the other sidebar content.

    ``solara.Sidebar`` orders content by a key (2 to the power of the depth of the
    component adding it) and, for equal keys, by the order of mounting, which changes
    when a rebuild remounts SolaraViz during play. This adds its children to the same
    sidebar with a key above any of those; without that portal (another Solara
    version) it falls back to ``solara.Sidebar``.
    """
    children = children or []
    try:
        from solara.components.applayout import sidebar_portal
    except ImportError:  # pragma: no cover - a Solara without the portal
        solara.Sidebar(children=children)
        return
    sidebar_portal.use_portal_add(children, 2**40)


# ----------------------------------------------------------------------- server


def serve(port: int | None = None, host: str | None = None) -> None:
    """Run the page in Solara's server (production mode, telemetry off); blocks.

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
    env = dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="False")
    argv = [sys.executable, "-m", "solara", "run", "sim.app.page:Page", "--production", "--no-open",
            "--host", host, "--port", str(port)]
    print(f"classroom page on http://{host}:{port}  (Ctrl-C to stop)", flush=True)
    os.execve(sys.executable, argv, env)


if __name__ == "__main__":
    serve()
