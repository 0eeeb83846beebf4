"""Pricing rules: how a firm sets its price each step. A registry of functions.

Each rule maps ``(firm, unit_cost, share)`` to the price the firm aims at (money per
own customer per step); the firm moves ``price_adjust`` of the way toward it each
step (:meth:`sim.firms.agents.Firm.decide`). The config's allowed ``firms.<firm>.pricing``
values are this registry's keys; adding a rule is one function and one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .demand import ShareCurve

#: A pricing rule: (firm, unit cost, share, position) -> target price.
Rule = Callable[..., float]


def fixed(firm, unit_cost: float, share: float, **position: Any) -> float:
    """Keep the price (the config's ``price``)."""
    return firm.price


def markup(firm, unit_cost: float, share: float, **position: Any) -> float:
    """Unit cost times (1 + ``markup``)."""
    return unit_cost * (1.0 + firm.cfg.markup)


def best_response(firm, unit_cost: float, share: float, digital: float | None = None,
                  human: float | None = None) -> float:
    """The best response to logit demand with an outside option: the price p solving
    p = c + 1 / (a (1 - s(p))), a = alpha_bar (1 + alpha_commodity * similarity) the price weight of
    the average customer, s(p) the share predicted *at p* against the rivals' current prices and the
    outside option (:class:`sim.firms.demand.ShareCurve`); ``share`` (last step's) is not used.

    The left side minus the right grows with p (s falls), so Brent's method (scipy's ``brentq``) finds the one root,
    bracketed by c and c + 1 / (a (1 - s(c))); a
    monopolist's price stays finite because the outside option keeps s(p) < 1. The target does not
    depend on the firm's own current price, so moving any share ``price_adjust`` in (0, 1] toward
    it converges without a cobweb.
    """
    from scipy.optimize import brentq


    curve = ShareCurve(firm, digital, human)
    a = max(curve.slope, 1e-9)

    def excess(p: float) -> float:
        return p - unit_cost - 1.0 / (a * max(1.0 - curve(p), 1e-12))

    lo = unit_cost
    hi = unit_cost + 1.0 / (a * max(1.0 - curve(lo), 1e-12)) + 1e-9
    return brentq(excess, lo, hi, xtol=1e-12, rtol=1e-12)


PRICING: dict[str, Rule] = {"fixed": fixed, "markup": markup, "best_response": best_response}
