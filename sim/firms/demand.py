"""Demand as a firm forecasts it: a latent-class logit of its market (firm-level reasoning).

Customers differ in what they value (:mod:`sim.engine.choice`); a firm cannot see each
one, but it knows its market's groups (:class:`Classes`, counted by the model): taste
groups (each segment split at the quartiles of human preference) times digital
adoption, with their sizes, mean human preference, affinity and current price
sensitivity, and how many of each are whose customers. A class's utility for a firm is
the customers' own utility (:func:`sim.engine.reference.utility`) at the class's mean
traits (without data sharing), with the inertia bonus for the class's current provider,
plus the retention a position buys (a firm's long-run share grows with attraction times
relationship duration, and engagement lengthens relationships). Summed over the classes
this is a latent-class logit: the discrete form of the random-coefficients demand the
customers really have.

:class:`MarketView` gives every firm's forecast demand and its price slope at any prices,
one firm's best-response price, and the Bertrand-Nash prices of all firms together. The
adaptive strategy (:mod:`sim.firms.strategies`) values a candidate position by the price
equilibrium it would lead to (so it foresees the price competition it would meet next to
a look-alike); the Nash pricing rule falls back on the best response before the firm has
seen any demand of its own (:mod:`sim.firms.pricing`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.reference import emotion_weight, gate, human_value

#: The largest price a forecast sets (the schema's upper bound of a firm's price).
MAX_PRICE = 1000.0


@dataclass
class Classes:
    """The market's customer classes (taste group x adopted), float64 arrays of one entry per class.

    weight : customers in the class; phi, w : mean human preference and affinity; alpha : mean
    current price sensitivity (1/money); adopted : 1.0 for adopters, 0.0 for the others;
    by_firm : float64[F, classes], each firm's customers in each class (the rest are outside).
    """

    weight: np.ndarray
    phi: np.ndarray
    w: np.ndarray
    alpha: np.ndarray
    adopted: np.ndarray
    by_firm: np.ndarray

    @property
    def n(self) -> float:
        return float(self.weight.sum())


@dataclass
class Offer:
    """A firm as the forecast sees it: position, reputation, availability, price, unit cost at that
    position, and how it prices (``rule``: a key of ``sim.firms.pricing.PRICING``; ``markup``)."""

    index: int
    digital: float
    human: float
    reputation: float
    availability: float
    price: float
    unit_cost: float
    rule: str = "fixed"
    markup: float = 0.0


def class_utilities(m, expectation: float, human_expectation: float, classes: Classes, offer: Offer) -> np.ndarray:
    """Each class's utility for ``offer`` at price 0, plus the log of the relationship duration the
    position's engagement buys (``hazard_engagement`` x the engagement target)."""
    ad = classes.adopted
    x = offer.digital * (ad + (1.0 - ad) * m.adoption.exclusion_quality) - expectation
    # the customers' value functions (sim.engine.reference), over the classes
    lead = m.digital_gain * m.digital_scale * (1.0 - np.exp(-np.maximum(x, 0.0) / m.digital_scale))
    vd = m.beta_digital * np.where(x < 0.0, -x * x, lead) * ad
    om = ad * (1.0 - classes.phi)  # reliance on digital channels: the digital taste
    g_avail = gate(offer.availability - 1.0, m.gate_center, m.gate_slope)
    eg = om / (1.0 + np.exp(-m.gate_slope * (x - m.gate_center))) + (1.0 - om) * g_avail
    phi = ad * classes.phi + (1.0 - ad)  # a non-adopter wants a human for every contact
    engagement = classes.w * emotion_weight(offer.human, m.emotion_scale) * eg
    return (om * vd + m.beta_human * phi * human_value(offer.human - human_expectation, m.human_scale)
            + m.beta_emotion * engagement + m.beta_reputation * offer.reputation
            + m.hazard_engagement * engagement)


class MarketView:
    """The forecast demand of a set of offers (the alive firms, one of them perhaps at a candidate
    position): customers grouped by class and current provider (each firm's, and the rest), choosing
    by logit with the outside option and the inertia bonus for their provider."""

    def __init__(self, m, expectation: float, human_expectation: float, classes: Classes, offers: list[Offer]):
        self.offers = offers
        n_c, n_f = classes.weight.shape[0], len(offers)
        base = np.stack([class_utilities(m, expectation, human_expectation, classes, o) for o in offers], axis=1)
        own = np.stack([np.minimum(classes.by_firm[o.index], classes.weight) for o in offers])  # (F, C)
        rest = np.maximum(classes.weight - own.sum(axis=0), 0.0)
        # groups: (provider k, class c) for each offer k, then (nobody among them, class c)
        self.weight = np.concatenate([*own, rest])
        self.alpha = np.tile(classes.alpha, n_f + 1)
        self.base = np.tile(base, (n_f + 1, 1))
        for k in range(n_f):
            self.base[k * n_c:(k + 1) * n_c, k] += m.inertia
        self.v0 = m.outside_utility
        self.n = classes.n

    def shares(self, prices: np.ndarray) -> np.ndarray:
        """Each group's choice probabilities of the offers at ``prices`` (groups x offers)."""
        u = self.base - self.alpha[:, None] * prices[None, :]
        top = np.maximum(u.max(axis=1), self.v0)
        e = np.exp(u - top[:, None])
        return e / (e.sum(axis=1) + np.exp(self.v0 - top))[:, None]

    def demand(self, prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each offer's share of the market and minus its own-price derivative, sum_g n_g alpha_g s_gj
        (1 - s_gj) / N, at ``prices``."""
        s = self.shares(prices)
        return self.weight @ s / self.n, (self.weight * self.alpha) @ (s * (1.0 - s)) / self.n

    def best_response(self, j: int, prices: np.ndarray) -> float:
        """Offer ``j``'s price solving its first-order condition p = c + share(p) / slope(p) against the
        others' ``prices`` (Brent's method: the excess p - c - share/slope rises with p and is negative at
        p = c). A demand that hardly reacts to price (price sensitivities near 0) has its root beyond any
        price the schema allows: the answer is then :data:`MAX_PRICE`; a forecast with no demand at any
        price leaves the price where it is."""
        from scipy.optimize import brentq

        cost = self.offers[j].unit_cost
        p = prices.astype(float).copy()

        def excess(x: float) -> float:
            p[j] = x
            share, slope = self.demand(p)
            if not (share[j] > 0.0 and slope[j] > 0.0 and np.isfinite(share[j] / slope[j])):
                return -math.inf if share[j] > 0.0 else math.inf
            return x - cost - share[j] / slope[j]

        if excess(cost) > 0.0:  # nobody would buy at any price the firm could charge
            return float(prices[j])
        hi = min(MAX_PRICE, cost + 1.0 / max(float(self.alpha.min()), 1e-9) + 1e-9)
        while excess(hi) < 0.0 and hi < MAX_PRICE:
            hi = min(MAX_PRICE, cost + 2.0 * (hi - cost))
        if excess(hi) < 0.0:
            return MAX_PRICE
        lo = cost
        if not math.isfinite(excess(lo)):  # a finite lower end for Brent's method
            lo = cost + 1e-12 * max(1.0, cost)
            while not math.isfinite(excess(lo)) and lo < hi:
                lo = cost + 2.0 * (lo - cost)
        return brentq(excess, lo, hi, xtol=1e-10, rtol=1e-10)

    def equilibrium(self, iterations: int = 200, tol: float = 1e-7) -> np.ndarray:
        """The prices all offers settle at: ``nash`` offers at the Bertrand-Nash fixed point
        p_j = c_j + share_j / slope_j (the damped Morrow-Skerlos iteration), ``markup`` offers at cost
        times (1 + markup), the others at their price."""
        p = np.array([o.price for o in self.offers], float)
        cost = np.array([o.unit_cost for o in self.offers])
        nash = np.array([o.rule == "nash" for o in self.offers])
        for k, o in enumerate(self.offers):
            if o.rule == "markup":
                p[k] = o.unit_cost * (1.0 + o.markup)
        for _ in range(iterations):
            share, slope = self.demand(p)
            with np.errstate(divide="ignore", invalid="ignore"):
                markup = np.where(slope > 0.0, share / slope, np.inf)
            target = np.where(nash, np.minimum(cost + np.nan_to_num(markup, nan=0.0, posinf=MAX_PRICE), MAX_PRICE), p)
            step = 0.5 * (target - p)
            p = p + step
            if np.abs(step).max() < tol:
                break
        return p


def market_view(firm, digital: float | None = None, human: float | None = None) -> tuple[MarketView, int]:
    """The market as ``firm`` forecasts it, with the firm at a position (default: where it stands), and
    the firm's index among the offers."""
    model = firm.model
    offers, me = [], -1
    for g in model.alive_firms():
        if g is firm:
            me = len(offers)
            h = firm.human if human is None else human
            offers.append(Offer(g.index, firm.digital if digital is None else digital, h, g.reputation,
                                g.availability, g.price, g.unit_cost(h), g.cfg.pricing, g.cfg.markup))
        else:
            offers.append(Offer(g.index, g.digital, g.human, g.reputation, g.availability, g.price, g.unit_cost(),
                                g.cfg.pricing, g.cfg.markup))
    return MarketView(model.cfg.market, model.expectation, model.human_expectation, model.classes, offers), me
