"""The Mesa agents: firms on the quadrant map, with their pricing, position and accounts.

A firm decides before the customers move (position by its strategy, then price by
its pricing rule: the registries of :mod:`sim.firms.strategies` and :mod:`sim.firms.pricing`)
and settles its accounts after (revenue, costs, cash). Money is per customer in the
market (see :mod:`sim.settings.schema`). Customers are not agents here: they are arrays moved
by the kernels (:mod:`sim.engine.kernels`); the one-agent-per-customer version is a
yardstick (:mod:`sim.engine.yardsticks.per_agent`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import mesa
import numpy as np

from ..engine.layout import STEERING_MODES
from ..settings.schema import FirmConfig, SimConfig
from .pricing import PRICING
from .strategies import STRATEGIES


class Market(Protocol):
    """What a firm reads from the model it lives in (:class:`sim.model.CustomerModel`): the config,
    this step's market state and the customers' mean traits; a Protocol, so that the firms need not
    import the model that holds them."""

    cfg: SimConfig
    expectation: float  # digital expectation E
    adoption: float  # share of customers using digital channels
    mean_human_pref: float
    mean_affinity: float
    mean_alpha: float  # mean price sensitivity
    shock_active: bool

    def alive_firms(self) -> list[Firm]: ...

#: Digital and human levels at or above this put a firm in the upper half of an axis.
QUADRANT_THRESHOLD = 0.5


def quadrant(digital: float, human: float) -> int:
    """Quadrant 1 neither, 2 human only, 3 digital only, 4 both (threshold 0.5 on each axis)."""
    return 1 + (human >= QUADRANT_THRESHOLD) + 2 * (digital >= QUADRANT_THRESHOLD)


def intervention_pulls(spend: np.ndarray, effect: np.ndarray, customers: Sequence[int], n_market: int,
                       half: float) -> np.ndarray:
    """Per-step pull of engagement toward 1 for the customers preferring each intervention form,
    float64[F, forms]: each firm's effect times b / (b + half), with b its spend per own customer
    (``spend``: money per market customer per step, float64[F, forms]; ``customers``: each firm's
    customers of the last step, at least 1 counted)."""
    per_customer = n_market / np.maximum(np.asarray(customers, float), 1.0)
    b = spend * per_customer[:, None]
    return effect[:, None] * b / (b + half)


class Firm(mesa.Agent):
    """A firm on the quadrant map.

    Attributes
    ----------
    index : int             row of this firm in the kernels' firm arrays
    digital, human : float  levels in [0, 1]
    price : float           money per own customer per step
    cash : float            money per market customer
    alive : bool            taking part (entered and not exited)
    reputation : float      word of mouth, moving average of NPS / 100, in [-1, 1]

    The properties ``personalisation``, ``steering_code``, ``steering_strength`` and
    ``availability`` are the remaining firm columns the kernel reads
    (``sim.engine.layout.FIRM_COLUMNS``).
    """

    def __init__(self, model: Market, name: str, index: int, cfg: FirmConfig):
        super().__init__(model)
        self.name = name
        self.index = index
        self.cfg = cfg
        self.digital = cfg.digital
        self.human = cfg.human
        self.price = cfg.price
        self.cash = cfg.cash
        self.alive = cfg.enter_step == 0
        self.exited_at: int | None = None
        self.reputation = 0.0
        self.similarity = 0.0
        self.share = 0.0
        self.customers = 0
        # until the first step's tallies: contacts x chance a contact asks for a human
        # (non-adopters always do)
        wants_human = model.adoption * model.mean_human_pref + (1.0 - model.adoption)
        self.human_per_customer = model.cfg.market.contact_rate * wants_human
        self.invest_spend = 0.0
        self.revenue = self.cost = self.profit = 0.0

    # ------------------------------------------------------------ kernel columns
    @property
    def personalisation(self) -> float:
        return self.cfg.personalisation

    @property
    def steering_code(self) -> int:
        return STEERING_MODES.index(self.cfg.steering)

    @property
    def steering_strength(self) -> float:
        return self.cfg.steering_strength

    @property
    def availability(self) -> float:
        """Share of human-contact demand served: capacity, less the shock's cut while it lasts."""
        shock = self.model.cfg.market.shock
        cut = shock.human_cut if self.model.shock_active else 0.0
        return self.cfg.human_capacity * (1.0 - cut)

    # ------------------------------------------------------------------ economics
    def variable_cost(self, human: float, customers: float, human_contacts: float) -> float:
        """Variable cost of serving ``customers`` with ``human_contacts`` at human level ``human``:
        (c0 + extra) customers + c_h h contacts (``extra`` is the firm's own ``unit_cost_extra``)."""
        m = self.model.cfg.market
        per_contact = m.human_contact_cost * human**m.human_contact_exponent
        return (m.base_unit_cost + self.cfg.unit_cost_extra) * customers + per_contact * human_contacts

    def unit_cost(self, human: float | None = None) -> float:
        """Variable cost per own customer per step at human level ``human`` (default: the firm's),
        with the human contacts per customer of the last step."""
        return self.variable_cost(self.human if human is None else human, 1.0, self.human_per_customer)

    def fixed_cost(self, digital: float | None = None, human: float | None = None) -> float:
        """Fixed cost per step: f0 + f_d d^2 + f_h h^2 (capability costs more the more of it there is:
        a platform's upkeep, and staff, who do not scale)."""
        d = self.digital if digital is None else digital
        h = self.human if human is None else human
        return self.cfg.fixed_cost + self.cfg.digital_cost * d**2 + self.cfg.human_cost * h**2

    # ------------------------------------------------------------------- decisions
    def decide(self) -> None:
        """Set this step's position (the strategy) and price (the pricing rule)."""
        if not self.alive:
            return
        self.invest_spend = 0.0
        STRATEGIES[self.cfg.strategy](self)
        target = PRICING[self.cfg.pricing](self, self.unit_cost(), self.share)
        self.price = max(1e-6, self.price + self.cfg.price_adjust * (target - self.price))

    # --------------------------------------------------------------------- accounts
    def settle(self, customers: float, human_contacts: float, n_market: int) -> None:
        """Book revenue, costs and profit of the step just simulated; update cash."""
        if not self.alive:
            self.revenue = self.cost = self.profit = 0.0
            return
        if customers > 0:
            self.human_per_customer = human_contacts / customers
        variable = self.variable_cost(self.human, customers, human_contacts) / n_market
        self.revenue = self.price * customers / n_market
        self.cost = variable + self.fixed_cost() + sum(self.cfg.intervention) + self.invest_spend
        self.profit = self.revenue - self.cost
        self.cash += self.profit
