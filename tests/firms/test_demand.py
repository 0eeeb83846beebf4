"""Demand as a firm foresees it (sim.firms.demand): the representative utility is the customers'
choice utility plus retention, and the share curve is its logit share."""

from __future__ import annotations

import pytest

from sim.engine import reference as ref
from sim.engine.layout import NO_FIRM, F, P
from sim.firms.demand import representative_utility
from tests.conftest import make_model


@pytest.mark.parametrize("adopted", [0, 1])
def test_representative_utility_is_choice_utility_plus_retention(adopted):
    """For a population of identical customers (adopted or not, no shared data), the firm-level
    utility equals the kernel's choice utility (the reference's twin) plus hazard_engagement * e,
    e = w h gate: the engagement target that lengthens relationships."""
    model = make_model(n=500)
    model.prepare_step(1)
    m = model.cfg.market
    par, firm = model.par, model.firm_cols
    phi, w, alpha = 0.37, 0.61, 2.7
    for j, f in enumerate(model.firm_list):
        choice = ref.utility(firm, j, NO_FIRM, 0, adopted, phi, w, alpha, par)
        om = ref.reliance(adopted, phi)
        basics = om * ref.digital_gate(firm, j, 0, adopted, par) + (1 - om) * ref.human_gate(firm, j, par)
        firm_level = representative_utility(m, par[P.EXPECTATION], f.digital, f.human, firm[j, F.PRICE],
                                            f.reputation, phi, w, alpha, float(adopted), f.availability,
                                            f.similarity)
        assert firm_level == pytest.approx(choice + m.hazard_engagement * w * f.human * basics, rel=1e-12,
                                           abs=1e-12)


def test_share_curve_is_the_logit_share_of_the_representative_utility():
    """ShareCurve computes everything but the price once; at any price it equals the logit share of
    the representative utilities (with the outside option) computed from scratch."""
    import math

    from sim.firms.demand import ShareCurve, _utility_of

    model = make_model(n=500)
    model.prepare_step(1)
    firm = model.firm_list[1]
    curve = ShareCurve(firm)
    for price in (0.0, 0.7, 1.3, 5.0):
        v = [_utility_of(f, f.digital, f.human, price if f is firm else f.price, f.similarity)
             for f in model.alive_firms()]
        mine = v[model.alive_firms().index(firm)]
        expected = math.exp(mine) / (math.exp(model.cfg.market.outside_utility) + sum(math.exp(u) for u in v))
        assert curve(price) == pytest.approx(expected, rel=1e-12)
    assert curve(0.5) > curve(1.0) > curve(2.0) > 0.0, "share falls with the price"


def test_a_firm_foresees_the_price_competition_next_to_a_rival():
    """A candidate position next to a rival carries that rival's similarity: the share curve there
    is steeper in price (customers weigh a look-alike's price more) than the same move with
    commoditisation switched off."""
    from sim.firms.demand import ShareCurve, similarity_at

    for ac, steeper in ((1.0, True), (0.0, False)):
        model = make_model([f"market.alpha_commodity={ac}"], n=500)
        model.prepare_step(1)
        both, digital_only = model.firm_list[3], model.firm_list[1]
        here = ShareCurve(both)
        there = ShareCurve(both, digital_only.digital, digital_only.human)
        assert similarity_at(both, digital_only.digital, digital_only.human) == pytest.approx(1.0)
        assert (there.slope > 1.5 * here.slope) is steeper
