"""Pricing rules (sim.firms.pricing): the registry, each rule's target, and prices that move toward it:
Bertrand-Nash against the demand the firm sees, a monopolist bounded by the outside option."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.firms.demand import market_view
from sim.firms.pricing import PRICING
from sim.settings.schema import PRICING_RULES
from tests.conftest import make_model

FIRMS = ("neither", "digital_only", "human_only", "both")


def test_config_options_are_the_registry_keys():
    assert PRICING_RULES == tuple(PRICING)


def test_targets():
    model = make_model(n=2000)
    model.prepare_step(1)
    firm = model.firm_list[3]
    firm.cfg.markup = 0.25
    assert PRICING["fixed"](firm, 0.5) == firm.cfg.price != firm.price  # the list price, not the last one
    assert PRICING["markup"](firm, 0.5) == pytest.approx(0.625)
    # before any demand is seen: the best response of the forecast demand to the rivals' prices
    view, me = market_view(firm)
    assert PRICING["nash"](firm, 0.5) == pytest.approx(view.best_response(
        me, np.array([o.price for o in view.offers])), rel=1e-9)
    # with estimates of the choosers' demand S and its slope D: the first-order condition p = c + S / D
    firm.demand_share, firm.demand_slope = 30.0, 40.0
    assert PRICING["nash"](firm, 0.5) == pytest.approx(0.5 + 30.0 / 40.0)
    assert PRICING["nash"](firm, 0.5, human=0.2) != pytest.approx(1.25), "a candidate position is forecast"


def test_demand_estimates_are_moving_averages_of_the_steps_tallies():
    model = make_model(["firms.both.demand_memory=0.25"], n=1000)
    both = model.firm_list[3]
    both.observe_demand(10.0, 20.0)
    assert (both.demand_share, both.demand_slope) == (10.0, 20.0), "the first observation is taken whole"
    both.observe_demand(20.0, 20.0)
    assert both.demand_share == pytest.approx(12.5) and both.demand_slope == pytest.approx(20.0)


def test_markup_prices_converge_to_the_markup_and_stay_above_cost():
    ds = sim.run(["scenario=baseline", "customers.n=2000", "steps=40", *[f"firms.{f}.pricing=markup" for f in FIRMS]],
                 seed=0)
    price, cost = ds.price.where(ds.alive == 1), ds.unit_cost.where(ds.alive == 1)
    assert float((price - cost).min()) > 0, "prices stay above unit cost"
    np.testing.assert_allclose((price / cost).isel(step=-1).dropna("firm"), 1.5, rtol=0.05)


def test_fixed_prices_do_not_move():
    model = make_model([f"firms.{f}.pricing=fixed" for f in FIRMS], n=1000, steps=5)
    model.run()
    assert all(f.price == f.cfg.price for f in model.firm_list)


def test_nash_prices_are_above_cost_and_the_default():
    ds = sim.run(["scenario=baseline", "customers.n=3000", "steps=24"], seed=0)
    alive = ds.alive == 1
    assert float((ds.price - ds.unit_cost).where(alive).min()) > 0
    assert all(ds.price.sel(firm=f).values[-1] != ds.price.sel(firm=f).values[0] for f in ("both", "human_only"))


def _monopoly(*extra, steps=240):
    return sim.run(["scenario=baseline", "customers.n=20000", f"steps={steps}", "firms.both.pricing=nash",
                    *[f"firms.{f}.enter_step=100000" for f in FIRMS[:3]], *extra], seed=1)


def test_a_monopolist_keeps_a_finite_price_that_settles_and_the_outside_option_bounds():
    ds = _monopoly()
    price = ds.price.sel(firm="both").values
    assert np.all(np.isfinite(price)) and price.max() < 20
    tail = price[-40:]
    assert (tail.max() - tail.min()) / tail.mean() < 0.01, "settled within 1% over the last 40 of 240 steps"
    # a better outside option (less to lose by leaving) holds the price down: demand bounds it
    cheaper = _monopoly("market.outside_utility=-3.5", steps=120).price.sel(firm="both").values
    assert cheaper[-1] < price[119] - 0.1
    assert float(ds.unassigned.isel(step=-1)) > 0, "some customers leave the market at that price"


def test_an_entrant_penetrates_below_its_rule_and_then_prices_by_it():
    base = ["scenario=disruptor", "customers.n=3000", "steps=60", "firms.disruptor.penetration_steps=12"]
    cut = sim.run([*base, "firms.disruptor.penetration_discount=0.3"], seed=0).price.sel(firm="disruptor").values
    full = sim.run([*base, "firms.disruptor.penetration_discount=0.0"], seed=0).price.sel(firm="disruptor").values
    assert np.all(cut[36:48] < full[36:48]), "lower while penetrating"
    assert abs(cut[-1] - full[-1]) < 0.15 * full[-1], "then the rule's price again"


@pytest.mark.parametrize("adjust", [0.1, 0.5, 1.0])
def test_nash_prices_converge_for_any_adjustment(adjust):
    ds = sim.run(["scenario=validation/price_equilibrium", "customers.n=20000", "steps=60",
                  *[f"firms.{f}.price_adjust={adjust}" for f in "abc"]], seed=2)
    late = ds.price.values[-10:]
    assert np.abs(np.diff(late, axis=0)).max() < 0.005, "no cobweb: consecutive prices stay close"
