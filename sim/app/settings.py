"""The classroom page's control values and the model they build.

:class:`Settings` holds what the sidebar shows (``None``: as the scenario says);
:func:`overrides` turns it into the override strings of ``python -m sim``;
:func:`make_model` builds the model through the public :func:`sim.build`, the one
place where the page creates a model. :func:`firm_only_change` tells a change that
can be applied to a running model ("apply from now": a firm's levels, price or
steering) from one that needs a new model at step 0.

The steering modes are the config schema's (:data:`sim.settings.schema.STEERING_MODES`):
the page keeps no list of its own.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import sim

from ..settings.compose import scenario_names
from ..settings.schema import STEERING_MODES

__all__ = ["DEFAULT_STEERING_STRENGTH", "DISRUPTOR", "PRICE_RANGE", "SHOCK_LENGTH", "SHOCK_START",
           "STEERING_MODES", "FirmSetting", "Settings", "disruptor_template", "firm_only_change",
           "library_scenarios", "make_model", "overrides", "with_steering"]

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


@dataclass(frozen=True)
class FirmSetting:
    """Control values for one firm: service levels in [0, 1], price in money per
    customer per step, steering mode (one of :data:`STEERING_MODES`) and strength
    (share of human requests steered, in [0, 1])."""

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

    The one place where the page creates a model: through the public
    ``sim.build(overrides, seed)``. With ``add_disruptor`` the scenario is built first,
    then rebuilt from its resolved config (``sim.build(config=...)``) with the newcomer
    of the ``disruptor`` scenario added (its entry step and controls applied).

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


def with_steering(f: FirmSetting, mode: str) -> FirmSetting:
    """``f`` switched to steering ``mode``; from a strength of 0 to soft or hard, the
    ``steering`` scenario's strength (:data:`DEFAULT_STEERING_STRENGTH`)."""
    if mode not in STEERING_MODES:
        raise ValueError(f"steering = {mode!r}: allowed {', '.join(STEERING_MODES)}")
    strength = f.steering_strength
    if mode != "none" and strength == 0.0:
        strength = DEFAULT_STEERING_STRENGTH.get(mode, 0.5)
    return dataclasses.replace(f, steering=mode, steering_strength=strength)


def firm_only_change(old: Settings, new: Settings) -> dict[str, FirmSetting] | None:
    """The firms whose controls differ, when that is all that differs between ``old``
    and ``new`` (a change a running model can take from now on); ``None`` when anything
    else differs (scenario, customers, seed, disruptor, shock: a new model at step 0)."""
    if dataclasses.replace(old, firms={}) != dataclasses.replace(new, firms={}):
        return None
    changed = {name: f for name, f in new.firms.items() if old.firms.get(name) != f}
    if any(name not in new.firms for name in old.firms):
        return None  # a firm's controls went back to the scenario's: rebuild
    return changed
