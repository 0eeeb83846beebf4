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
from .demand import MAX_PRICE, Classes
from .pricing import PRICING
from .strategies import STRATEGIES


class Market(Protocol):
    """What a firm reads from the model it lives in (:class:`sim.model.CustomerModel`): the config,
    this step's market state and the customers' mean traits; a Protocol, so that the firms need not
    import the model that holds them."""

    cfg: SimConfig
    n: int  # customers in the market
    steps: int  # Mesa's clock
    expectation: float  # digital expectation E
    human_expectation: float  # human expectation H
    adoption: float  # share of customers using digital channels
    mean_human_pref: float
    mean_affinity: float
    mean_alpha: float  # mean price sensitivity
    shock_active: bool
    classes: Classes  # the customer classes firms forecast demand with (sim.firms.demand)

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
    cash : float            reserves, money per market customer (set at the start: ``reserve_months`` of costs)
    alive : bool            taking part (entered and not exited)
    reputation : float      word of mouth, moving average of NPS / 100, in [-1, 1]
    demand_share, demand_slope : float
        the firm's moving estimates of the choosers' demand sum_i s_ij and of minus its price
        derivative sum_i alpha_i s_ij (1 - s_ij) (customers; customers/money), from the kernel's tallies

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
        self.cash = 0.0  # the model funds the reserves once the firm's first customers are known
        self.alive = cfg.enter_step == 0
        self.entered_at: int | None = 0 if self.alive else None
        self.exited_at: int | None = None
        self.reputation = 0.0
        self.demand_share = self.demand_slope = 0.0
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
        (factor c0 + extra) customers + h^gamma (c_s customers + c_h contacts): a base cost per customer,
        people on hand for the customers, and the handling of each human contact, both dearer for
        better people (``factor`` and ``extra`` are the firm's ``unit_cost_factor`` and ``unit_cost_extra``)."""
        m = self.model.cfg.market
        quality = human**m.human_contact_exponent
        base = m.base_unit_cost * self.cfg.unit_cost_factor + self.cfg.unit_cost_extra
        return base * customers + quality * (m.human_staff_cost * customers + m.human_contact_cost * human_contacts)

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

    def step_cost(self, customers: float) -> float:
        """Cost of a step with ``customers`` own customers (money per market customer): the fixed costs,
        the interventions and the variable cost at the human contacts per customer of the last step."""
        n = self.model.n
        return (self.fixed_cost() + sum(self.cfg.intervention)
                + self.variable_cost(self.human, customers, customers * self.human_per_customer) / n)

    @property
    def margin(self) -> float:
        """The Lerner index (price - unit cost) / price."""
        return (self.price - self.unit_cost()) / self.price

    @property
    def price_elasticity(self) -> float:
        """Own-price elasticity of the demand the firm sees: p D / S from its estimates, or from its forecast
        (:mod:`sim.firms.demand`) before it has seen any demand; NaN once it has left."""
        if not self.alive:
            return float("nan")
        if self.demand_share > 0.0:
            return self.price * self.demand_slope / self.demand_share
        from .demand import market_view

        view, me = market_view(self)
        share, slope = view.demand(np.array([o.price for o in view.offers]))
        return self.price * slope[me] / share[me] if share[me] > 0.0 else float("nan")

    @property
    def reserves(self) -> float:
        """Cash in steps of the firm's current costs (NaN once it has left)."""
        cost = self.step_cost(self.customers)
        return self.cash / cost if self.alive and cost > 0.0 else float("nan")

    def fund_reserves(self, customers: float) -> None:
        """Start cash: ``reserve_months`` steps of the cost of serving ``customers``."""
        self.cash = self.cfg.reserve_months * self.step_cost(customers)

    # ------------------------------------------------------------------- decisions
    def decide(self) -> None:
        """Set this step's position (the strategy) and price (the pricing rule; an entrant's penetration
        discount while it lasts)."""
        if not self.alive:
            return
        self.invest_spend = 0.0
        STRATEGIES[self.cfg.strategy](self)
        target = PRICING[self.cfg.pricing](self, self.unit_cost())
        # a firm present from the start decides first at step 1, an entrant at its entry step: both
        # penetrate for penetration_steps decisions
        if self.entered_at is not None and self.model.steps - max(self.entered_at, 1) < self.cfg.penetration_steps:
            target *= 1.0 - self.cfg.penetration_discount
        if not np.isfinite(target):  # a degenerate market (no price sensitivity at all): keep the price
            target = self.price
        target = min(max(target, 1e-6), MAX_PRICE)
        self.price = max(1e-6, self.price + self.cfg.price_adjust * (target - self.price))

    def observe_demand(self, share: float, slope: float) -> None:
        """Update the estimates of the choosers' demand and its price slope with a step's tallies
        (a moving average with weight ``demand_memory`` on the latest step)."""
        mu = self.cfg.demand_memory
        if self.demand_slope <= 0.0:  # the first observation
            mu = 1.0
        self.demand_share += mu * (share - self.demand_share)
        self.demand_slope += mu * (slope - self.demand_slope)

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
