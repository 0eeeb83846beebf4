"""Demand as a firm forecasts it (sim.firms.demand): a latent-class logit whose class utilities are the
customers' own choice utilities, whose shares are logit shares with inertia and the outside option,
whose slope is the derivative of demand in the own price, and whose prices solve the first-order
conditions of Bertrand-Nash competition."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine import reference as ref
from sim.engine.layout import NO_FIRM, F
from sim.firms.demand import Classes, MarketView, Offer, class_utilities, market_view
from tests.conftest import make_model


def _one_class(phi, w, alpha, adopted, by_firm):
    return Classes(weight=np.array([1.0]), phi=np.array([phi]), w=np.array([w]), alpha=np.array([alpha]),
                   adopted=np.array([float(adopted)]), by_firm=np.asarray(by_firm, float).reshape(-1, 1))


@pytest.mark.parametrize("adopted", [0, 1])
def test_a_class_utility_is_the_customers_choice_utility_plus_retention(adopted):
    """For one customer (no shared data), the class utility at price p equals the kernel's choice
    utility (the reference's twin) plus hazard_engagement x the engagement target w e(h) gate."""
    model = make_model(n=500)
    model.prepare_step(1)
    m, par, cols = model.cfg.market, model.par, model.firm_cols
    phi, w, alpha = 0.37, 0.61, 2.7
    classes = _one_class(phi, w, alpha, adopted, [0.0] * len(model.firm_list))
    for j, f in enumerate(model.firm_list):
        offer = Offer(j, f.digital, f.human, f.reputation, f.availability, f.price, f.unit_cost())
        choice = ref.utility(cols, j, NO_FIRM, 0, adopted, phi, w, alpha, par)
        om = ref.reliance(adopted, phi)
        basics = om * ref.digital_gate(cols, j, 0, adopted, par) + (1 - om) * ref.human_gate(cols, j, par)
        engagement = w * ref.emotion_weight(f.human, m.emotion_scale) * basics
        got = class_utilities(m, model.expectation, model.human_expectation, classes, offer)[0] - alpha * f.price
        assert got == pytest.approx(choice + m.hazard_engagement * engagement, rel=1e-12, abs=1e-12)


def _view(prices=(1.0, 1.2, 0.9), inertia=1.0, n_classes=3, seed=0):
    from types import SimpleNamespace

    g = np.random.default_rng(seed)
    m = make_model(n=200).cfg.market
    m = SimpleNamespace(**{**vars(m), "inertia": inertia})
    weight = g.uniform(50, 150, n_classes)
    by_firm = np.vstack([g.uniform(0, 0.3, n_classes) * weight for _ in prices])
    classes = Classes(weight=weight, phi=g.uniform(0.1, 0.9, n_classes), w=g.uniform(0.2, 0.8, n_classes),
                      alpha=g.uniform(1.0, 4.0, n_classes), adopted=(np.arange(n_classes) % 2).astype(float),
                      by_firm=by_firm)
    offers = [Offer(k, 0.5 + 0.1 * k, 0.8 - 0.2 * k, 0.1 * k, 1.0, p, 0.4 + 0.1 * k, "nash")
              for k, p in enumerate(prices)]
    return MarketView(m, 0.8, 0.6, classes, offers), classes, m


def test_shares_are_logit_shares_with_inertia_for_the_current_provider():
    view, classes, m = _view()
    prices = np.array([o.price for o in view.offers])
    s = view.shares(prices)
    n_c, n_f = classes.weight.shape[0], len(view.offers)
    for k in range(n_f + 1):  # customers of offer k (the last block: nobody's)
        for c in range(n_c):
            u = [class_utilities(m, 0.8, 0.6, classes, o)[c] - classes.alpha[c] * o.price + (m.inertia if j == k else 0)
                 for j, o in enumerate(view.offers)]
            denom = math.exp(m.outside_utility) + sum(math.exp(x) for x in u)
            np.testing.assert_allclose(s[k * n_c + c], [math.exp(x) / denom for x in u], rtol=1e-12)
    assert np.all(s.sum(axis=1) < 1.0), "the outside option keeps a share"


def test_the_slope_is_minus_the_derivative_of_the_share_in_the_own_price():
    view, _, _ = _view()
    p = np.array([1.0, 1.2, 0.9])
    share, slope = view.demand(p)
    for j in range(3):
        up, down = p.copy(), p.copy()
        up[j] += 1e-6
        down[j] -= 1e-6
        numeric = -(view.demand(up)[0][j] - view.demand(down)[0][j]) / 2e-6
        assert slope[j] == pytest.approx(numeric, rel=1e-6)
    assert np.all(share > 0) and share.sum() < 1


def test_best_response_and_equilibrium_solve_the_first_order_conditions():
    view, _, _ = _view()
    p0 = np.array([o.price for o in view.offers])
    br = view.best_response(1, p0)
    p = p0.copy()
    p[1] = br
    share, slope = view.demand(p)
    assert br == pytest.approx(view.offers[1].unit_cost + share[1] / slope[1], rel=1e-9)
    eq = view.equilibrium()
    share, slope = view.demand(eq)
    cost = np.array([o.unit_cost for o in view.offers])
    np.testing.assert_allclose(eq, cost + share / slope, rtol=1e-6)
    for j in range(3):  # nobody gains by deviating: each price is the best response to the others
        assert view.best_response(j, eq) == pytest.approx(eq[j], rel=1e-5)


def test_with_one_price_sensitivity_the_markup_is_one_over_alpha_one_minus_share():
    from types import SimpleNamespace

    m = SimpleNamespace(**{**vars(make_model(n=200).cfg.market), "inertia": 0.0})
    classes = Classes(weight=np.array([100.0]), phi=np.array([0.5]), w=np.array([0.5]), alpha=np.array([2.5]),
                      adopted=np.array([1.0]), by_firm=np.zeros((2, 1)))
    view = MarketView(m, 0.8, 0.6, classes, [Offer(0, 0.9, 0.5, 0.0, 1.0, 1.0, 0.4, "nash"),
                                             Offer(1, 0.7, 0.2, 0.0, 1.0, 1.0, 0.5, "nash")])
    eq = view.equilibrium()
    share, _ = view.demand(eq)
    np.testing.assert_allclose(eq, np.array([0.4, 0.5]) + 1.0 / (2.5 * (1.0 - share)), rtol=1e-6)


def test_a_look_alike_rival_brings_prices_down_through_the_customers_who_choose():
    """Random coefficients, no similarity rule: a rival at the same position serves the same customers,
    so the equilibrium price of a firm facing a twin is lower than facing a rival far away on the map,
    with everything else (costs, reputation, the number of firms) equal."""
    model = make_model(n=4000)
    model.prepare_step(1)
    both = model.firm_list[3]
    m, classes = model.cfg.market, model.classes

    def equilibrium_price(rival_digital, rival_human):
        offers = [Offer(both.index, both.digital, both.human, 0.0, 1.0, 1.0, 0.6, "nash"),
                  Offer(0, rival_digital, rival_human, 0.0, 1.0, 1.0, 0.6, "nash")]
        zero = Classes(classes.weight, classes.phi, classes.w, classes.alpha, classes.adopted,
                       np.zeros((len(model.firm_list), classes.weight.shape[0])))
        return MarketView(m, model.expectation, model.human_expectation, zero, offers).equilibrium()[0]

    twin = equilibrium_price(both.digital, both.human)
    apart = equilibrium_price(0.25, 0.8)
    assert twin < apart - 0.01


def test_the_market_view_of_a_model_forecasts_its_firms():
    model = make_model(n=3000)
    model.prepare_step(1)
    view, me = market_view(model.firm_list[2])
    assert [o.index for o in view.offers] == [f.index for f in model.alive_firms()]
    assert view.offers[me].digital == model.firm_list[2].digital
    moved, me2 = market_view(model.firm_list[2], 0.9, 0.9)
    assert moved.offers[me2].digital == 0.9 and moved.offers[me2].unit_cost > view.offers[me].unit_cost
    assert model.firm_cols[2, F.ALIVE] == 1.0
