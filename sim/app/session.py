"""One browser tab's state on the classroom page: its model, its kept run and its play loop.

:class:`Run` is one model built from the page's :class:`~sim.app.settings.Settings`
(or the one-line error that refused them): it steps up to its horizon, caches the
recorded steps (``sim.dataset``) and the figure panels per step, lists what happened
(entries, exits, shocks, and controls applied from a step on) and gives the numbers the
page shows. It uses the model's public API only (``sim.build`` through
:func:`~sim.app.settings.make_model`, ``sim.dataset``, the firms' public attributes);
:meth:`Run.apply_now` is the one place that changes a running model.

:class:`Session` is a tab: the settings the sidebar shows, the current :class:`Run`, a
kept run (:class:`Kept`) and one worker thread that builds and plays. Nothing a click
asks for is dropped and no control is ever left disabled:

* a control change rebuilds once the controls have been still for :data:`DEBOUNCE`
  seconds (holding an arrow key on a slider is one rebuild), meanwhile ``building``
  is True and the page says so; a change in "apply from now" mode that touches only
  firms' controls is applied to the running model at its current step instead;
* Play, Step and Reset act on the newest settings: pressed while a build is pending or
  running they wait for it (Play then plays the new model, each Step is one step of it);
  Play at the end of a run plays it again from step 0; Reset rebuilds what the sidebar
  shows;
* play runs at ``speed`` steps per second (as fast as the machine allows when it cannot
  keep up) and draws every step: the worker asks the page to redraw after each step
  and goes on only once the page says it has drawn it (:meth:`Session.drawn`); with
  ``pause_at_events`` it stops at an entry, an exit or a shock.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

import sim

from ..settings.compose import to_yaml
from ..settings.schema import ConfigError, validate
from . import figures as F
from .settings import FirmSetting, Settings, firm_only_change, make_model

log = logging.getLogger(__name__)

#: Longest wait, seconds, of the worker for the page to draw the step before.
SHOW_WAIT = 10.0
#: Seconds the controls must be still before a change rebuilds the model.
DEBOUNCE = 0.8
#: Play speed range and default, steps per second.
SPEED_RANGE: tuple[float, float] = (1.0, 30.0)
DEFAULT_SPEED = 8.0
#: The market read-outs of the page: dataset variable -> (label, format).
READOUTS: dict[str, tuple[str, str]] = {
    "digital_expectation": ("E (expected digital)", "{:.2f}"),
    "human_expectation": ("H (expected human)", "{:.2f}"),
    "adoption_total": ("digital adoption", "{:.0%}"),
    "hhi": ("HHI", "{:.2f}"),
    "mean_price": ("mean price", "{:.2f}"),
}
#: The same read-outs at step 0, before anything is recorded: public attributes of the model.
_READOUT_ATTRS = {"digital_expectation": "expectation", "human_expectation": "human_expectation",
                  "adoption_total": "adoption", "mean_price": "mean_price"}


def one_line(e: BaseException) -> str:
    """The first line of an error's message (its type when it has none)."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _whole(method):
    """``method`` of a :class:`Run` holding the run's lock: the page reads the model from its own
    thread while the worker steps it, and a step is read before or after, never half done."""
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    return locked


class Run:
    """One model built from ``settings``: the simulation, or the error that refused them.

    Attributes
    ----------
    settings : Settings
        What the model was built from, with every change applied from a step on.
    sim : CustomerModel or None
        The simulation (``None`` when the settings were rejected).
    error : str or None
        One-line message of the rejected settings.
    changes : list of (step, text)
        Controls applied to the running model (:meth:`apply_now`), with their step.
    build_seconds : float
        Wall time of building the simulation, seconds.
    """

    def __init__(self, settings: Settings) -> None:
        self._lock = threading.RLock()
        self.settings = settings
        self.sim = None
        self.error: str | None = None
        self.changes: list[tuple[int, str]] = []
        self._ds: xr.Dataset | None = None
        self._ds_step = -1
        self._yaml: str | None = None
        self._panels: dict[str, F.LivePanel] = {}
        self._png: dict[str, tuple[tuple, bytes]] = {}
        t0 = time.perf_counter()
        try:
            self.sim = make_model(settings)
        except ConfigError as e:
            self.error = one_line(e)
        except Exception as e:  # never a traceback on the page; the server log keeps it
            log.exception("building the model failed")
            self.error = f"{type(e).__name__}: {one_line(e)}"
        self.build_seconds = time.perf_counter() - t0

    @property
    def horizon(self) -> int:
        """Number of steps of the run (0 without a simulation)."""
        return self.sim.cfg.steps if self.sim is not None else 0

    @property
    def step_now(self) -> int:
        """Steps run so far."""
        return self.sim.steps if self.sim is not None else 0

    @property
    def ended(self) -> bool:
        """True when there is nothing more to step: the horizon is reached (or no model)."""
        return self.sim is None or self.sim.steps >= self.sim.cfg.steps or not self.sim.running

    @_whole
    def step(self) -> bool:
        """Advance one step, up to the horizon; False when there was nothing to step."""
        if self.ended:
            return False
        self.sim.step()
        return True

    @_whole
    def data(self) -> xr.Dataset | None:
        """The recorded steps (``sim.dataset``), cached per step; None before the first step."""
        if self.sim is None or self.sim.steps == 0:
            return None
        if self._ds_step != self.sim.steps:
            if self._yaml is None:  # the config as YAML, once per config (tens of ms)
                self._yaml = to_yaml(self.sim.cfg)
            self._ds = sim.dataset(self.sim, config_yaml=self._yaml)
            self._ds_step = self.sim.steps
        return self._ds

    @_whole
    def firms(self) -> list[F.FirmView]:
        """Each firm's current state (empty without a simulation)."""
        if self.sim is None:
            return []
        return [F.FirmView(f.name, float(f.digital), float(f.human), float(f.price), float(f.share), bool(f.alive),
                           float(f.cash), str(f.cfg.steering), float(f.cfg.steering_strength))
                for f in self.sim.firm_list]

    @_whole
    def png(self, panel: str, size: tuple[int, int] = F.DEFAULT_SIZE, scale: float = 1.0,
            kept: xr.Dataset | None = None) -> bytes:
        """PNG of one figure panel (a key of :data:`sim.app.figures.PANELS`) at the current step,
        ``size`` CSS pixels at ``scale`` device pixels each, with ``kept`` as faint lines;
        cached per step, size and kept run."""
        size = (max(120, int(size[0])), max(100, int(size[1])))
        key = (self.step_now, size, scale, id(kept), len(self.changes))
        cached = self._png.get(panel)
        if cached is not None and cached[0] == key:
            return cached[1]
        figure = self._panels.get(panel)
        if figure is None or figure.size != size or figure.fig.dpi != F.CSS_DPI * max(0.5, scale):
            names = [f.name for f in self.sim.firm_list]
            figure = self._panels[panel] = F.PANELS[panel](names, self.horizon, size, scale)
            figure.keep(kept)
        elif figure.kept is not kept:
            figure.keep(kept)
        data = figure.render(self.data(), self.firms())
        self._png[panel] = (key, data)
        return data

    @_whole
    def events(self) -> list[tuple[int, str]]:
        """Entries, exits, shock starts and ends, and controls applied from a step, by step."""
        return sorted(F.events(self.data()) + self.changes, key=lambda e: e[0])

    @_whole
    def status(self) -> str:
        """The line of where the run is: step, seed, and what happened at this step."""
        if self.sim is None:
            return f"error: {self.error}"
        t, n = self.sim.steps, self.horizon
        head = f"step {t} of {n}, seed {self.sim.cfg.seed}: "  # the seed at every step: runs of two seeds look alike
        if t == 0:
            return head + (f"scenario {self.sim.cfg.scenario}, {self.sim.cfg.customers.n:,} customers, "
                           f"{sum(f.alive for f in self.sim.firm_list)} firms in the market")
        now = [text for step, text in self.events() if step == t]
        if now:
            return head + "; ".join(now)
        return head + ("end of the run" if t >= n else "no entry, exit or shock")

    @_whole
    def readouts(self) -> dict[str, float]:
        """The market now: dataset variable of :data:`READOUTS` -> value (NaN when unknown)."""
        ds = self.data()
        out = {}
        for var in READOUTS:
            if ds is not None and var in ds:
                out[var] = float(ds[var].values[-1])
            elif self.sim is not None and var in _READOUT_ATTRS:
                out[var] = float(getattr(self.sim, _READOUT_ATTRS[var], np.nan))
            elif self.sim is not None and var == "hhi":
                out[var] = float(sum(f.share**2 for f in self.sim.firm_list if f.alive))
            else:
                out[var] = np.nan
        return out

    @_whole
    def apply_now(self, firms: dict[str, FirmSetting], settings: Settings) -> list[str]:
        """Give the firms in ``firms`` these controls from the current step on ("apply from now").

        The firm's config (``firm.cfg`` and ``model.cfg.firms[name]``) and its current
        levels and price change; the change is checked like any config first (a bad
        value raises :class:`~sim.settings.schema.ConfigError` and changes nothing) and
        listed in :attr:`changes` with its step, so the event log and an exported run say
        from when the run differs from its config. Returns the texts listed.
        """
        if self.sim is None:
            raise ConfigError("no model to apply the change to")
        cfg = dataclasses.replace(self.sim.cfg, firms=dict(self.sim.cfg.firms))
        by_name = {f.name: f for f in self.sim.firm_list}
        texts = []
        for name, new in firms.items():
            if name not in by_name:
                raise ConfigError(f"firms.{name}: no such firm in this run")
            old = cfg.firms[name]
            cfg.firms[name] = dataclasses.replace(old, digital=new.digital, human=new.human, price=new.price,
                                                  steering=new.steering, steering_strength=new.steering_strength)
            moved = [f"{k} {getattr(old, k):g} → {getattr(new, k):g}" for k in ("digital", "human", "price")
                     if getattr(old, k) != getattr(new, k)]
            if (old.steering, old.steering_strength) != (new.steering, new.steering_strength):
                moved.append(f"steering {old.steering} → {new.steering} ({new.steering_strength:g})")
            if moved:
                texts.append(f"{name}: {', '.join(moved)} (applied from now)")
        validate(cfg)
        for name, new in firms.items():
            firm = by_name[name]
            firm.cfg = self.sim.cfg.firms[name] = cfg.firms[name]
            firm.digital, firm.human, firm.price = new.digital, new.human, new.price
        step = self.sim.steps
        self.changes += [(step, text) for text in texts]
        self.settings = settings
        self._png.clear()
        self._yaml = None
        return texts


@dataclass(frozen=True)
class Kept:
    """A run kept for comparison: its recorded steps and a line saying what it was."""

    data: xr.Dataset
    label: str


class Session:
    """One browser tab: settings, the current :class:`Run`, a kept run and the worker thread.

    ``on_change`` is called (from any thread, without locks held) whenever the page must
    be drawn again; the worker waits for it to return before the next step.
    """

    def __init__(self, settings: Settings | None = None, on_change: Callable[[], None] | None = None,
                 context=None) -> None:
        self.settings = settings if settings is not None else Settings()
        self.on_change = on_change
        self.context = context  # the page's kernel context, entered by the worker thread
        self.run = Run(self.settings)
        self.last_cfg = self.run.sim.cfg if self.run.sim is not None else None
        self.kept: Kept | None = None
        self.mode = "restart"  # what a changed control does: "restart" (from step 0) or "now"
        self.playing = False
        self.speed = DEFAULT_SPEED
        self.pause_at_events = False
        self.note: str | None = None  # why play stopped, or what an apply-from-now refused
        self.builds = 1  # models built so far (the first one above)
        self.builds_started = 1  # builds started (one is dropped when a newer change came in meanwhile)
        self._pending: Settings | None = None
        self._pending_at = 0.0
        self._building = False
        self._steps = 0  # Step presses not yet done
        self._closed = False
        self._cond = threading.Condition(threading.RLock())
        self._worker: threading.Thread | None = None
        self._asked = 0  # redraws asked for by the worker
        self._drawn = 0  # of those, drawn by the page

    # ------------------------------------------------------------------ state the page shows
    @property
    def building(self) -> bool:
        """A new model is on its way (a change waits for the controls to be still, or builds)."""
        return self._pending is not None or self._building

    def drawn(self) -> None:
        """Called by the page after each drawing: what the worker asked for is on screen."""
        with self._cond:
            self._drawn = self._asked
            self._cond.notify_all()

    def _notify_and_wait(self) -> None:
        """Ask the page to draw, and wait (at most :data:`SHOW_WAIT` s) until it has.

        A redraw asked for while the page is drawing (say, after a click) is done by the
        thread that is drawing; without this wait the worker would keep that thread
        drawing step after step, and the click's thread would not return until the play
        ends (nor could it take the next click)."""
        if self.on_change is None:
            return
        with self._cond:
            self._asked += 1
            asked = self._asked
        self._notify()
        with self._cond:
            self._cond.wait_for(lambda: self._closed or self._drawn >= asked, timeout=SHOW_WAIT)

    def _notify(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change()
            except Exception:  # a page that went away; the server log keeps it
                log.exception("redrawing the page failed")

    # ------------------------------------------------------------------ what the controls do
    def change(self, settings: Settings) -> None:
        """A control changed to ``settings``: rebuild after :data:`DEBOUNCE` seconds of quiet, or
        in "apply from now" mode with only firms' controls changed, apply it to the running model."""
        with self._cond:
            if settings == self.settings:
                return  # a control that reports the value it has (a slider losing focus): nothing to do
            self.settings = settings
            firms = firm_only_change(self.run.settings, settings) if self.mode == "now" else None
            if firms is not None and self._pending is None and not self._building and self.run.sim is not None \
                    and not self.run.ended:
                try:
                    self.run.apply_now(firms, settings)
                    self.note = None
                except ConfigError as e:
                    self.note = f"not applied: {one_line(e)}"
            else:
                self._pending = settings
                self._pending_at = time.monotonic() + DEBOUNCE
                self._start()
            self._cond.notify_all()
        self._notify()

    def reset(self) -> None:
        """Rebuild what the sidebar shows, at step 0, paused (no waiting)."""
        with self._cond:
            self.playing = False
            self._steps = 0
            self._pending = self.settings
            self._pending_at = time.monotonic()
            self.note = None
            self._start()
            self._cond.notify_all()
        self._notify()

    def play(self) -> None:
        """Play (at the end of a run: again from step 0, rebuilt from the sidebar's settings)."""
        with self._cond:
            if self.run.ended and not self.building and self.run.sim is not None:
                self._pending, self._pending_at = self.settings, time.monotonic()
            self.playing = True
            self.note = None
            self._start()
            self._cond.notify_all()
        self._notify()

    def pause(self) -> None:
        """Stop playing after the step being drawn."""
        with self._cond:
            self.playing = False
            self._cond.notify_all()
        self._notify()

    def step(self) -> None:
        """One step (of the new model, when one is being built)."""
        with self._cond:
            self._steps += 1
            self._start()
            self._cond.notify_all()

    def set_speed(self, steps_per_second: float) -> None:
        """Play speed, steps per second (clipped to :data:`SPEED_RANGE`)."""
        self.speed = float(min(max(steps_per_second, SPEED_RANGE[0]), SPEED_RANGE[1]))
        self._notify()

    def set_mode(self, mode: str) -> None:
        """What a changed control does: ``"restart"`` (rebuild at step 0) or ``"now"`` (apply from now)."""
        if mode not in ("restart", "now"):
            raise ValueError(f"mode = {mode!r}: allowed restart, now")
        self.mode = mode
        self._notify()

    def set_pause_at_events(self, on: bool) -> None:
        self.pause_at_events = bool(on)
        self._notify()

    def keep(self) -> None:
        """Keep the current run (its recorded steps) to draw beside the next ones."""
        with self._cond:
            ds = self.run.data()
            if ds is None:
                self.note = "nothing to keep yet: press Step or Play first"
            else:
                cfg = self.run.sim.cfg
                self.kept = Kept(ds.copy(), f"{cfg.scenario}, seed {cfg.seed}, {cfg.customers.n:,} customers, "
                                            f"to step {self.run.step_now}" + "".join(
                                                f"; step {s}: {t}" for s, t in self.run.changes))
                self.note = None
        self._notify()

    def forget_kept(self) -> None:
        self.kept = None
        self._notify()

    def close(self) -> None:
        """Stop the worker thread (the tab went away)."""
        with self._cond:
            self._closed = True
            self.playing = False
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no build, step or play is pending (tests); True when idle."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.building or self._steps or self.playing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # ------------------------------------------------------------------ the worker
    def _start(self) -> None:
        # Called with the lock held. ``_worker`` is None once the worker has decided, under the lock,
        # that it has nothing to do: a thread that is leaving may still be alive (``is_alive()``) for
        # a while, longest on Python 3.13, and would never see what was asked of it meanwhile.
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="classroom-session", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        try:
            if self.context is not None:
                with self.context:
                    self._loop()
            else:
                self._loop()
        finally:  # also when the loop raised: the next click starts a new worker
            with self._cond:
                if self._worker is threading.current_thread():
                    self._worker = None

    def _loop(self) -> None:
        next_at = 0.0
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    if self._closed:
                        self._worker = None
                        return
                    if self._pending is not None:
                        if now >= self._pending_at:
                            break
                        self._cond.wait(self._pending_at - now)
                        continue
                    if self._steps or (self.playing and now >= next_at):
                        break
                    if not self.playing:
                        self._worker = None  # nothing to do: the next click starts a new worker
                        return
                    self._cond.wait(next_at - now)
                settings, self._pending = self._pending, None
                if settings is not None:
                    self._building = True
            if settings is not None:
                self.builds_started += 1
                self._notify()  # "building..." on the page
                run = Run(settings)  # a second or so at 100,000 customers: no lock held
                with self._cond:
                    self._building = False
                    if self._pending is None:  # no newer change meanwhile
                        self.run = run
                        self.builds += 1
                        if run.sim is not None:
                            self.last_cfg = run.sim.cfg
                        else:
                            self.playing = False
                            self._steps = 0
                    self._cond.notify_all()
                self._notify()
                continue
            t0 = time.monotonic()
            with self._cond:
                stepped = self.run.step()
                if self._steps:
                    self._steps -= 1
                if not stepped or self.run.ended:
                    self.playing = False
                elif self.playing and self.pause_at_events:
                    now_events = [t for s, t in F.events(self.run.data()) if s == self.run.step_now]
                    if now_events:
                        self.playing = False
                        self.note = f"paused at step {self.run.step_now}: {'; '.join(now_events)}"
                self._cond.notify_all()
            if stepped:
                self._notify_and_wait()  # the page draws this step before the next one
            next_at = t0 + 1.0 / self.speed
