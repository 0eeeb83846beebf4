"""Position strategies: how a firm moves on the digital x human map. A registry of functions.

A strategy is called once per step, before the firm's pricing rule, with the firm
(:meth:`sim.firms.agents.Firm.decide`); it may move ``firm.digital`` / ``firm.human`` and
book ``firm.invest_spend``. The config's allowed ``firms.<firm>.strategy`` values are
this registry's keys.

The adaptive strategy reasons at firm level: it values a position by its forecast
demand there (the latent-class logit of :mod:`sim.firms.demand`) at the prices the
market would settle at, less the human-service cost and the fixed costs of the
position (:func:`expected_profit`): it foresees the price war next to a look-alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .demand import market_view

#: Steps over which an adaptive move must pay back its investment cost.
PAYBACK_STEPS = 24.0


def expected_profit(firm, digital: float, human: float) -> float:
    """Profit per step (money per market customer) at (digital, human): the forecast share at the prices
    the market would settle at with the firm there (every Nash-pricing firm, this one included,
    re-pricing: :meth:`sim.firms.demand.MarketView.equilibrium`), times the margin over the unit cost at
    that human level, less the position's fixed costs. Every position, the current one included, is
    valued with the same forecast."""
    view, me = market_view(firm, digital, human)
    prices = view.equilibrium()
    share, _ = view.demand(prices)
    return (prices[me] - view.offers[me].unit_cost) * share[me] - firm.fixed_cost(digital, human)


def static(firm) -> None:
    """Stay where the config put the firm."""


def adaptive(firm) -> None:
    """Move (d, h) to the neighbour with the best expected profit net of the move's cost.

    Neighbours are the 8 positions ``invest_step`` away on either axis (clipped to
    [0, 1]); a move is taken if its profit over :data:`PAYBACK_STEPS` steps, less
    ``invest_cost`` per unit moved, beats staying.
    """
    step = firm.cfg.invest_step
    if step <= 0:
        return
    best = (expected_profit(firm, firm.digital, firm.human) * PAYBACK_STEPS, 0.0, 0.0)
    for dd in (-step, 0.0, step):
        for dh in (-step, 0.0, step):
            d = float(np.clip(firm.digital + dd, 0.0, 1.0))
            h = float(np.clip(firm.human + dh, 0.0, 1.0))
            if d == firm.digital and h == firm.human:
                continue
            cost = firm.cfg.invest_cost * (abs(d - firm.digital) + abs(h - firm.human))
            value = expected_profit(firm, d, h) * PAYBACK_STEPS - cost
            if value > best[0] + 1e-12:
                best = (value, d - firm.digital, h - firm.human)
    if best[1] or best[2]:
        firm.invest_spend = firm.cfg.invest_cost * (abs(best[1]) + abs(best[2]))
        firm.digital = float(np.clip(firm.digital + best[1], 0.0, 1.0))
        firm.human = float(np.clip(firm.human + best[2], 0.0, 1.0))


STRATEGIES: dict[str, Callable[[Any], None]] = {"static": static, "adaptive": adaptive}
