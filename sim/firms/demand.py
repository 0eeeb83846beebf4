"""Demand as a firm forecasts it: a latent-class logit of its market (firm-level reasoning).

Customers differ in what they value (:mod:`sim.engine.choice`); a firm cannot see each
one, but it knows its market's groups: each customer segment split into digital
adopters and non-adopters, with their sizes, mean human preference, affinity and
current price sensitivity (:class:`Classes`, filled by the model from the kernel's
segment tallies each step). A class's utility for a firm is the customers' own utility
(:func:`sim.engine.reference.utility`) at the class's mean traits, without data
sharing and inertia, plus the retention a position buys (a firm's long-run share grows
with attraction times relationship duration, and engagement lengthens relationships).
Summed over classes this is a latent-class logit, the discrete form of the
random-coefficients demand the customers really have.

:class:`Forecast` gives a firm's predicted share at any price and position against its
rivals as they stand, and the Bertrand-Nash price that goes with it; the adaptive
strategy (:mod:`sim.firms.strategies`) values positions with it, and the Nash pricing
rule falls back on it before the firm has seen any demand of its own
(:mod:`sim.firms.pricing`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.reference import emotion_weight, gate, human_value


@dataclass
class Classes:
    """The market's customer classes (segment x adopted), float64 arrays of one entry per class.

    weight : customers in the class; phi, w : mean human preference and affinity (an adopter's
    phi is the mean over the segment's digitally able customers); alpha : mean current price
    sensitivity (1/money); adopted : 1.0 for adopters, 0.0 for the others.
    """

    weight: np.ndarray
    phi: np.ndarray
    w: np.ndarray
    alpha: np.ndarray
    adopted: np.ndarray
    #: customers of each firm in each class, float64[F, classes] (None: not counted this step)
    by_firm: np.ndarray | None = None

    @property
    def n(self) -> float:
        return float(self.weight.sum())


def class_utilities(m, expectation: float, human_expectation: float, classes: Classes, digital: float,
                    human: float, price: float, reputation: float, availability: float = 1.0) -> np.ndarray:
    """Each class's utility for a firm at a position and price, plus the log of the relationship
    duration the position's engagement buys (``hazard_engagement`` x the engagement target)."""
    ad = classes.adopted
    d_seen = digital * (ad + (1.0 - ad) * m.adoption.exclusion_quality)
    x = d_seen - expectation
    # the customers' value functions (sim.engine.reference), over the classes
    lead = m.digital_gain * m.digital_scale * (1.0 - np.exp(-np.maximum(x, 0.0) / m.digital_scale))
    vd = m.beta_digital * np.where(x < 0.0, -x * x, lead) * ad
    om = ad * (1.0 - classes.phi)  # reliance on digital channels: the digital taste
    g_avail = gate(availability - 1.0, m.gate_center, m.gate_slope)
    eg = om / (1.0 + np.exp(-m.gate_slope * (x - m.gate_center))) + (1.0 - om) * g_avail
    phi = ad * classes.phi + (1.0 - ad)  # a non-adopter wants a human for every contact
    engagement = classes.w * emotion_weight(human, m.emotion_scale) * eg
    return (om * vd + m.beta_human * phi * human_value(human - human_expectation, m.human_scale)
            + m.beta_emotion * engagement - classes.alpha * price + m.beta_reputation * reputation
            + m.hazard_engagement * engagement)


class Forecast:
    """A firm's forecast of its demand at one position, against its rivals as they stand.

    ``rivals`` are (digital, human, price, reputation, availability) of the other alive firms.
    With ``own`` (the firm's customers in each class), each class is two groups: the firm's own
    customers, who weigh the firm with the inertia bonus when they choose, and the others, who
    choose afresh; so a firm's forecast leans toward what its own customers value. Utility is linear
    in the firm's own price, so everything but the price is computed once.
    """

    def __init__(self, m, expectation: float, human_expectation: float, classes: Classes, digital: float,
                 human: float, reputation: float, availability: float, rivals: list[tuple[float, ...]],
                 own: np.ndarray | None = None):
        base = class_utilities(m, expectation, human_expectation, classes, digital, human, 0.0, reputation,
                               availability)
        others = [class_utilities(m, expectation, human_expectation, classes, d, h, p, r, a)
                  for d, h, p, r, a in rivals]
        stack = np.vstack([np.full_like(base, m.outside_utility), *others])
        top = stack.max(axis=0)
        rest = np.exp(stack - top).sum(axis=0)
        if own is None:
            self.base, self.weight, self.alpha = base, classes.weight, classes.alpha
            self._top, self._rest = top, rest
        else:
            own = np.minimum(own, classes.weight)
            self.base = np.concatenate([base + m.inertia, base])
            self.weight = np.concatenate([own, classes.weight - own])
            self.alpha = np.concatenate([classes.alpha, classes.alpha])
            self._top, self._rest = np.concatenate([top, top]), np.concatenate([rest, rest])
        self.n = classes.n

    def shares(self, price: float) -> np.ndarray:
        """Each group's probability of choosing the firm at ``price``."""
        x = self.base - self.alpha * price - self._top
        return 1.0 / (1.0 + self._rest * np.exp(-x))

    def share(self, price: float) -> float:
        """The firm's predicted share of the market at ``price``, in [0, 1)."""
        return float(self.weight @ self.shares(price)) / self.n

    def slope(self, price: float) -> float:
        """Minus the derivative of the share in the firm's own price: sum_c n_c alpha_c s_c (1 - s_c) / N."""
        s = self.shares(price)
        return float(self.weight @ (self.alpha * s * (1.0 - s))) / self.n

    def nash_price(self, unit_cost: float) -> float:
        """The price solving the firm's first-order condition p = c + share(p) / slope(p) (its best
        response to the rivals' prices), found by Brent's method: the excess p - c - share/slope rises
        with p, and is negative at p = c."""
        from scipy.optimize import brentq

        def excess(p: float) -> float:
            sl = self.slope(p)
            return p - unit_cost - (self.share(p) / sl if sl > 0.0 else math.inf)

        lo = unit_cost
        hi = unit_cost + 1.0 / max(float(self.alpha.min()), 1e-9) + 1e-9
        while excess(hi) < 0.0 and hi < unit_cost + 1e6:
            hi = unit_cost + 2.0 * (hi - unit_cost)
        return brentq(excess, lo, hi, xtol=1e-10, rtol=1e-10)


def forecast(firm, digital: float | None = None, human: float | None = None) -> Forecast:
    """``firm``'s :class:`Forecast` at a position (default: where it stands), as its market stands now."""
    model = firm.model
    rivals = [(g.digital, g.human, g.price, g.reputation, g.availability) for g in model.alive_firms()
              if g is not firm]
    classes = model.classes
    own = classes.by_firm[firm.index] if classes.by_firm is not None else None
    return Forecast(model.cfg.market, model.expectation, model.human_expectation, classes,
                    firm.digital if digital is None else digital, firm.human if human is None else human,
                    firm.reputation, firm.availability, rivals, own)
