"""Position strategies: how a firm moves on the digital x human map. A registry of functions.

A strategy is called once per step, before the firm's pricing rule, with the firm
(:meth:`sim.agents.Firm.decide`); it may move ``firm.digital`` / ``firm.human`` and
book ``firm.invest_spend``. The config's allowed ``firms.<firm>.strategy`` values are
this registry's keys.

The adaptive strategy reasons at firm level: it values a position by the logit share
of the *average* customer (:func:`representative_utility`), at the price its own
pricing rule would set there (:func:`expected_profit`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

#: Steps over which an adaptive move must pay back its investment cost.
PAYBACK_STEPS = 24.0


def representative_utility(m, expectation: float, digital: float, human: float, price: float,
                           reputation: float, phi: float, w: float, alpha: float, adopted: float,
                           availability: float = 1.0, similarity: float = 0.0) -> float:
    """Long-run attraction of a firm for the average customer (firm-level reasoning).

    The logit utility of the customers' choice (:func:`sim.reference.utility`) for a
    customer with the population's mean traits, where ``adopted`` is the adopted
    share (0 or 1 give exactly the utility of a non-adopter or an adopter without
    shared data; ``tests/test_strategies.py`` holds them equal), plus the retention a
    position earns: in a steady state a firm's share grows with attraction / exit
    hazard, and the hazard falls by ``exp(-hazard_engagement * e)`` with the
    engagement target e = w h gate.
    """
    de = digital * (adopted + (1.0 - adopted) * m.adoption.exclusion_quality)
    x = de - expectation
    ud = adopted * m.beta_digital * (-x * x if x < 0 else m.digital_gain * x)
    om = adopted * (1.0 - phi)  # reliance on digital channels
    eg = om * _gate(x, m) + (1.0 - om) * _gate(availability - 1.0, m)
    phi = adopted * phi + (1.0 - adopted)  # non-adopters always want a human
    engagement = w * human * eg
    weighed = price * (1.0 + m.alpha_commodity * similarity)
    return (ud + m.beta_human * phi * human + m.beta_emotion * engagement
            - alpha * weighed + m.beta_reputation * reputation + retention(m, engagement))


def _gate(x: float, m) -> float:
    return 1.0 / (1.0 + math.exp(-m.gate_slope * (x - m.gate_center)))


def retention(m, engagement: float) -> float:
    """The log of the relationship duration an engagement level buys: ``hazard_engagement * e``."""
    return m.hazard_engagement * engagement


def _utility_of(firm, digital: float, human: float, price: float) -> float:
    """``firm``'s representative utility at a position and price, as the market sees it now."""
    model = firm.model
    return representative_utility(model.cfg.market, model.expectation, digital, human, price, firm.reputation,
                                  model.mean_human_pref, model.mean_affinity, model.mean_alpha, model.adoption,
                                  firm.availability, firm.similarity)


def predicted_share(firm, price: float, digital: float | None = None, human: float | None = None) -> float:
    """The logit share of the average customer ``firm`` would have at ``price`` (and a position),
    against the alive rivals as they stand and the outside option (``outside_utility``)."""
    d = firm.digital if digital is None else digital
    h = firm.human if human is None else human
    others = [_utility_of(f, f.digital, f.human, f.price) for f in firm.model.alive_firms() if f is not firm]
    mine = _utility_of(firm, d, h, price)
    v0 = firm.model.cfg.market.outside_utility
    top = max([mine, v0, *others])
    return math.exp(mine - top) / (math.exp(v0 - top) + sum(math.exp(u - top) for u in [mine, *others]))


def expected_profit(firm, digital: float, human: float) -> float:
    """Profit per step at (digital, human): the predicted share at the price the firm's pricing
    rule would set there, less the fixed costs of the position."""
    from .pricing import PRICING

    unit = firm.unit_cost(human)
    rule = PRICING[firm.cfg.pricing]
    price = rule(firm, unit, firm.share, digital=digital, human=human)
    share = predicted_share(firm, price, digital, human)
    return (price - unit) * share - firm.fixed_cost(digital, human)


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
