"""Pricing rules (sim.firms.pricing): the registry, each rule's target, and prices that move toward it."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.firms.demand import predicted_share
from sim.firms.pricing import PRICING
from sim.settings.schema import PRICING_RULES
from tests.conftest import make_model


def test_config_options_are_the_registry_keys():
    assert PRICING_RULES == tuple(PRICING)


def test_targets():
    model = make_model(n=500)
    firm = model.firm_list[0]
    firm.cfg.markup = 0.25
    model.mean_alpha = 2.0
    assert PRICING["fixed"](firm, 0.5, 0.3) == firm.price
    assert PRICING["markup"](firm, 0.5, 0.3) == pytest.approx(0.625)
    p = PRICING["best_response"](firm, 0.5, 0.3)
    s_p = predicted_share(firm, p)
    assert p == pytest.approx(0.5 + 1 / (2.0 * (1.0 + model.cfg.market.alpha_commodity * firm.similarity)
                                         * (1 - s_p)), rel=1e-9), "the first-order condition at its own share"
    assert PRICING["best_response"](firm, 0.5, 0.9) == p, "last step's share does not enter"


def test_markup_prices_converge_to_the_markup_and_stay_above_cost():
    ds = sim.run(["scenario=baseline", "customers.n=2000", "steps=40",
                  *[f"firms.{f}.pricing=markup" for f in ("neither", "digital_only", "human_only", "both")]],
                 seed=0)
    price, cost = ds.price.where(ds.alive == 1), ds.unit_cost.where(ds.alive == 1)
    assert float((price - cost).min()) > 0, "prices stay above unit cost"
    np.testing.assert_allclose((price / cost).isel(step=-1).dropna("firm"), 1.5, rtol=0.05)


def test_fixed_prices_do_not_move():
    model = make_model(n=1000, steps=5)
    model.run()
    assert all(f.price == f.cfg.price for f in model.firm_list)


def _monopoly(*extra):
    return sim.run(["scenario=baseline", "customers.n=4000", "steps=80", "firms.both.pricing=best_response",
                    "firms.neither.cash=-1", "firms.digital_only.cash=-1", "firms.human_only.cash=-1",
                    *extra], seed=1)


def test_a_monopolist_keeps_a_finite_price_that_the_outside_option_bounds():
    ds = _monopoly()
    price = ds.price.sel(firm="both").values
    assert np.all(np.isfinite(price)) and price.max() < 20
    assert abs(price[-1] - price[-10]) < 0.02 * price[-1], "settled"
    # a better outside option (less to lose by leaving) holds the price down: demand bounds it
    cheaper = _monopoly("market.outside_utility=-2.5").price.sel(firm="both").values
    assert cheaper[-1] < price[-1] - 0.1
    assert float(ds.unassigned.isel(step=-1)) > 0, "some customers leave the market at that price"


@pytest.mark.parametrize("adjust", [0.1, 0.5, 1.0])
def test_a_best_response_duopoly_converges_for_any_adjustment(adjust):
    ds = sim.run(["scenario=validation/price_equilibrium", "customers.n=20000", "steps=40",
                  f"firms.a.price_adjust={adjust}", f"firms.b.price_adjust={adjust}",
                  "firms.c.cash=-1", "firms.c.bankruptcy=0"],
                 seed=2)
    p = ds.price.sel(firm=["a", "b"]).values
    late = p[-10:]
    assert np.abs(np.diff(late, axis=0)).max() < 0.02, "no cobweb: consecutive prices stay close"
    assert np.all(np.abs(late - late.mean(0)) < 0.03)
