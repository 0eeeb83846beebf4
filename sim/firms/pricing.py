"""Pricing rules: how a firm sets its price each step. A registry of functions.

Each rule maps ``(firm, unit_cost)`` to the price the firm aims at (money per own
customer per step), at the firm's position or at a candidate one (``digital``,
``human``: the adaptive strategy asks what price it would set there); the firm moves
``price_adjust`` of the way toward it each step (:meth:`sim.firms.agents.Firm.decide`).
The config's allowed ``firms.<firm>.pricing`` values are this registry's keys
(``sim.settings.schema.PRICING_RULES``); adding a rule is one function and one entry.

``nash`` is the default: Bertrand-Nash pricing against the demand the firm sees. Its
first-order condition is s_j + (p_j - c_j) ds_j/dp_j = 0; with logit choice the
population's derivative is ds_j/dp_j = -mean_i[alpha_i s_ij (1 - s_ij)], which the
customer kernel tallies over the customers who choose each step (``T.CHOICE_SHARE``,
``T.CHOICE_SLOPE``). The firm keeps a moving estimate of both sums
(:meth:`sim.firms.agents.Firm.observe_demand`) and aims at p = c + S / D, the
Morrow-Skerlos fixed point of single-product Bertrand-Nash pricing; moving
``price_adjust`` of the way each step damps it so that it converges from any start.
With one price sensitivity alpha for everybody this is p = c + 1 / (alpha (1 - s)).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .demand import market_view

#: A pricing rule: (firm, unit cost, position) -> target price.
Rule = Callable[..., float]


def fixed(firm, unit_cost: float, **position: Any) -> float:
    """The config's ``price`` (a list price the firm returns to after penetration pricing): for teaching,
    and for scenarios that fix prices."""
    return firm.cfg.price


def markup(firm, unit_cost: float, **position: Any) -> float:
    """Unit cost times (1 + ``markup``)."""
    return unit_cost * (1.0 + firm.cfg.markup)


def nash(firm, unit_cost: float, digital: float | None = None, human: float | None = None) -> float:
    """Bertrand-Nash: p = c + S / D, S and D the firm's estimates of the choosers' demand and of minus its
    price derivative (see the module docstring). At a candidate position, or before the firm has seen
    any demand (a new entrant, the first step), the best response of its forecast demand to the rivals'
    prices (:meth:`sim.firms.demand.MarketView.best_response`) instead."""
    moved = (digital is not None and digital != firm.digital) or (human is not None and human != firm.human)
    if not moved and firm.demand_slope > 0.0:
        return unit_cost + firm.demand_share / firm.demand_slope
    view, me = market_view(firm, digital, human)
    return view.best_response(me, np.array([o.price for o in view.offers]))


PRICING: dict[str, Rule] = {"fixed": fixed, "markup": markup, "nash": nash}
