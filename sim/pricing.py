"""Pricing rules: how a firm sets its price each step. A registry of functions.

Each rule maps ``(firm, unit_cost, share)`` to the price the firm aims at (money per
own customer per step); the firm moves ``price_adjust`` of the way toward it each
step (:meth:`sim.agents.Firm.decide`). The config's allowed ``firms.<firm>.pricing``
values are this registry's keys; adding a rule is one function and one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: A pricing rule: (firm, unit cost, share) -> target price.
Rule = Callable[[Any, float, float], float]


def fixed(firm, unit_cost: float, share: float) -> float:
    """Keep the price (the config's ``price``)."""
    return firm.price


def markup(firm, unit_cost: float, share: float) -> float:
    """Unit cost times (1 + ``markup``)."""
    return unit_cost * (1.0 + firm.cfg.markup)


def best_response(firm, unit_cost: float, share: float) -> float:
    """Best response to logit demand: p = c + 1 / (alpha_bar (1 - s)), with the customers' mean price
    sensitivity alpha_bar of the last step and the share s (at most 0.999)."""
    return unit_cost + 1.0 / (max(firm.model.mean_alpha, 1e-9) * (1.0 - min(share, 0.999)))


PRICING: dict[str, Rule] = {"fixed": fixed, "markup": markup, "best_response": best_response}
