"""Demand as a firm foresees it: the logit share of the average customer at a position and price.

Firm-level reasoning shared by the pricing rules (:mod:`sim.firms.pricing`) and the
position strategies (:mod:`sim.firms.strategies`): the utility the representative
customer would have for a firm (:func:`representative_utility`), how alike two
positions are (:func:`similarity`), and the share curve against the firm's own price
(:class:`ShareCurve`).
"""

from __future__ import annotations

import math


def representative_utility(m, expectation: float, digital: float, human: float, price: float,
                           reputation: float, phi: float, w: float, alpha: float, adopted: float,
                           availability: float = 1.0, similarity: float = 0.0) -> float:
    """Long-run attraction of a firm for the average customer (firm-level reasoning).

    The logit utility of the customers' choice (:func:`sim.engine.reference.utility`) for a
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


def similarity(digital: float, human: float, rivals, scale: float) -> float:
    """Likeness of a position to the nearest of ``rivals`` ((digital, human) pairs) on the map:
    exp(-dist^2 / (2 scale^2)) in [0, 1], 0 without a rival (``market.similarity_scale``)."""
    scale2 = 2.0 * scale**2
    return max((math.exp(-((digital - d) ** 2 + (human - h) ** 2) / scale2) for d, h in rivals), default=0.0)


def similarity_at(firm, digital: float, human: float) -> float:
    """The similarity ``firm`` would have at (digital, human) against the alive rivals as they stand."""
    rivals = [(g.digital, g.human) for g in firm.model.alive_firms() if g is not firm]
    return similarity(digital, human, rivals, firm.model.cfg.market.similarity_scale)


def _utility_of(firm, digital: float, human: float, price: float, similar: float) -> float:
    """``firm``'s representative utility at a position, price and similarity, as the market sees it now."""
    model = firm.model
    return representative_utility(model.cfg.market, model.expectation, digital, human, price, firm.reputation,
                                  model.mean_human_pref, model.mean_affinity, model.mean_alpha, model.adoption,
                                  firm.availability, similar)


class ShareCurve:
    """The logit share of the average customer a firm would have against the price it sets, at one
    position, against the alive rivals as they stand and the outside option (``outside_utility``).

    At a position other than its own, the firm foresees the commoditisation it would meet there:
    its own similarity, and each rival's, are those with the firm at the new position. Utility is
    linear in the firm's own price, ``V(p) = V(0) - slope p`` with ``slope`` the average customer's
    price weight ``alpha_bar (1 + alpha_commodity similarity)``, so everything but the price is
    computed once per position.
    """

    def __init__(self, firm, digital: float | None = None, human: float | None = None):
        d = firm.digital if digital is None else digital
        h = firm.human if human is None else human
        moved = d != firm.digital or h != firm.human
        model = firm.model
        m = model.cfg.market
        alive = model.alive_firms()
        others = []
        for f in alive:
            if f is firm:
                continue
            sim_f = f.similarity
            if moved:
                rivals = [(g.digital, g.human) if g is not firm else (d, h) for g in alive if g is not f]
                sim_f = similarity(f.digital, f.human, rivals, m.similarity_scale)
            others.append(_utility_of(f, f.digital, f.human, f.price, sim_f))
        self.similarity = similarity_at(firm, d, h) if moved else firm.similarity
        self.base = _utility_of(firm, d, h, 0.0, self.similarity)
        self.slope = model.mean_alpha * (1.0 + m.alpha_commodity * self.similarity)
        self._top = max([m.outside_utility, *others])
        self._rest = math.exp(m.outside_utility - self._top) + sum(math.exp(u - self._top) for u in others)

    def __call__(self, price: float) -> float:
        """The share at ``price`` (money per customer per step), in [0, 1)."""
        x = self.base - self.slope * price - self._top
        if x > 0.0:  # mine is the largest: divide through by it
            return 1.0 / (1.0 + self._rest * math.exp(-x))
        e = math.exp(x)
        return e / (self._rest + e)


def predicted_share(firm, price: float, digital: float | None = None, human: float | None = None) -> float:
    """The logit share of the average customer ``firm`` would have at ``price`` (and a position):
    :class:`ShareCurve` at one price."""
    return ShareCurve(firm, digital, human)(price)
