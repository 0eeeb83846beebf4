"""Firms as Mesa agents: position on the quadrant map, pricing, investment, accounts.

A firm decides before the customers move (price, and position if adaptive) and
settles its accounts after (revenue, costs, cash). Money is per customer in the
market (see :mod:`sim.config`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from .config import FirmConfig, MarketConfig

if TYPE_CHECKING:
    from .model import CustomerModel


def quadrant(digital: float, human: float) -> int:
    """Quadrant 1 neither, 2 human only, 3 digital only, 4 both (threshold 0.5)."""
    return 1 + (human >= 0.5) + 2 * (digital >= 0.5)


def representative_utility(m: MarketConfig, expectation: float, digital: float, human: float,
                           price: float, reputation: float, phi: float, w: float,
                           alpha: float, adopted: float) -> float:
    """Long-run attraction of a firm for the average customer (firm-level reasoning).

    The logit utility of the kernel's choice, evaluated for the average customer
    (``adopted`` is the adopted share), plus the retention a position earns: in a
    steady state a firm's share grows with attraction / exit hazard, and the hazard
    falls by ``exp(-hazard_engagement * e)`` with the engagement target e = w h gate.
    """
    de = digital * (adopted + (1.0 - adopted) * m.adoption.exclusion_quality)
    x = de - expectation
    ud = adopted * m.beta_digital * (-x * x if x < 0 else m.digital_gain * x)
    gate = 1.0 / (1.0 + math.exp(-m.gate_slope * (x - m.gate_center)))
    phi = adopted * phi + (1.0 - adopted)  # non-adopters always want a human
    engagement = w * human * gate
    return (ud + m.beta_human * phi * human + m.beta_emotion * engagement
            - alpha * price + m.beta_reputation * reputation + m.hazard_engagement * engagement)


class Firm(mesa.Agent):
    """A firm on the quadrant map.

    Attributes
    ----------
    index : int           column of this firm in the kernels' firm arrays
    digital, human : float  levels in [0, 1]
    price : float          money per customer per step
    cash : float           money per market customer
    alive : bool           taking part (entered and not exited)
    """

    def __init__(self, model: CustomerModel, name: str, index: int, cfg: FirmConfig):
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
        self.share = 0.0
        self.customers = 0
        # until the first step's tallies: contacts x chance a contact asks for a human
        # (non-adopters always do)
        wants_human = model.adoption * model.mean_human_pref + (1.0 - model.adoption)
        self.human_per_customer = model.cfg.market.contact_rate * wants_human
        self.invest_spend = 0.0
        self.revenue = self.cost = self.profit = 0.0

    # ------------------------------------------------------------------ economics
    def unit_cost(self) -> float:
        """Variable cost per own customer per step: c0 + extra + c_h h (human contacts per customer).

        ``extra`` is the firm's own ``unit_cost_extra`` (0 by default: all firms share c0).
        """
        m = self.model.cfg.market
        return (m.base_unit_cost + self.cfg.unit_cost_extra
                + m.human_contact_cost * self.human * self.human_per_customer)

    def fixed_cost(self) -> float:
        """Fixed cost per step: f0 + f_d d^2 (a platform scales, people do not)."""
        return self.cfg.fixed_cost + self.cfg.digital_cost * self.digital**2

    # ------------------------------------------------------------------- decisions
    def decide(self) -> None:
        """Set this step's position (strategy) and price (pricing rule)."""
        if not self.alive:
            return
        self.invest_spend = 0.0
        if self.cfg.strategy == "adaptive":
            self._invest()
        if self.cfg.pricing != "fixed":
            target = self._target_price(self.unit_cost(), self.share)
            self.price = max(1e-6, self.price + self.cfg.price_adjust * (target - self.price))

    def _target_price(self, unit_cost: float, share: float) -> float:
        """The price the pricing rule aims at for a given unit cost and share."""
        rule = self.cfg.pricing
        if rule == "fixed":
            return self.price
        if rule == "markup":
            return unit_cost * (1.0 + self.cfg.markup)
        # best_response to logit demand: p = c + 1 / (alpha_bar (1 - s))
        return unit_cost + 1.0 / (max(self.model.mean_alpha, 1e-9) * (1.0 - min(share, 0.999)))

    def _expected_profit(self, digital: float, human: float) -> float:
        """Profit per step at (digital, human): logit share of the average customer, at the
        price the firm's pricing rule would set there (one fixed-point pass)."""
        model = self.model
        m = model.cfg.market
        args = (model.mean_human_pref, model.mean_affinity, model.mean_alpha, model.adoption)
        unit = (m.base_unit_cost + self.cfg.unit_cost_extra
                + m.human_contact_cost * human * self.human_per_customer)
        others = [representative_utility(m, model.expectation, f.digital, f.human, f.price,
                                         f.reputation, *args)
                  for f in model.alive_firms() if f is not self]
        share, price = self.share, self.price
        for _ in range(2):
            price = self._target_price(unit, share)
            mine = representative_utility(m, model.expectation, digital, human, price, self.reputation, *args)
            top = max([mine, *others])
            share = math.exp(mine - top) / sum(math.exp(u - top) for u in [mine, *others])
        return (price - unit) * share - self.cfg.fixed_cost - self.cfg.digital_cost * digital**2

    def _invest(self) -> None:
        """Move (d, h) to the neighbour with the best expected profit net of the move's cost."""
        step = self.cfg.invest_step
        if step <= 0:
            return
        horizon = 24.0  # steps over which a move must pay back
        best = (self._expected_profit(self.digital, self.human) * horizon, 0.0, 0.0)
        for dd in (-step, 0.0, step):
            for dh in (-step, 0.0, step):
                d = float(np.clip(self.digital + dd, 0.0, 1.0))
                h = float(np.clip(self.human + dh, 0.0, 1.0))
                if d == self.digital and h == self.human:
                    continue
                cost = self.cfg.invest_cost * (abs(d - self.digital) + abs(h - self.human))
                value = self._expected_profit(d, h) * horizon - cost
                if value > best[0] + 1e-12:
                    best = (value, d - self.digital, h - self.human)
        if best[1] or best[2]:
            self.invest_spend = self.cfg.invest_cost * (abs(best[1]) + abs(best[2]))
            self.digital = float(np.clip(self.digital + best[1], 0.0, 1.0))
            self.human = float(np.clip(self.human + best[2], 0.0, 1.0))

    # --------------------------------------------------------------------- accounts
    def settle(self, customers: float, human_contacts: float, n_market: int) -> None:
        """Book revenue, costs and profit of the step just simulated; update cash."""
        if not self.alive:
            self.revenue = self.cost = self.profit = 0.0
            return
        m = self.model.cfg.market
        if customers > 0:
            self.human_per_customer = human_contacts / customers
        variable = ((m.base_unit_cost + self.cfg.unit_cost_extra) * customers
                    + m.human_contact_cost * self.human * human_contacts) / n_market
        self.revenue = self.price * customers / n_market
        self.cost = variable + self.fixed_cost() + sum(self.cfg.intervention) + self.invest_spend
        self.profit = self.revenue - self.cost
        self.cash += self.profit
