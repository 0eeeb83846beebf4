"""Pricing rules (sim.pricing): the registry, each rule's target, and prices that move toward it."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.config import PRICING_RULES
from sim.pricing import PRICING

from .conftest import make_model


def test_config_options_are_the_registry_keys():
    assert PRICING_RULES == tuple(PRICING)


def test_targets():
    model = make_model(n=500)
    firm = model.firm_list[0]
    firm.cfg.markup = 0.25
    model.mean_alpha = 2.0
    assert PRICING["fixed"](firm, 0.5, 0.3) == firm.price
    assert PRICING["markup"](firm, 0.5, 0.3) == pytest.approx(0.625)
    assert PRICING["best_response"](firm, 0.5, 0.3) == pytest.approx(0.5 + 1 / (2.0 * 0.7))
    assert PRICING["best_response"](firm, 0.5, 1.0) == pytest.approx(0.5 + 1 / (2.0 * 0.001))


@pytest.mark.parametrize("rule", ["markup", "best_response"])
def test_prices_converge_to_the_rule_and_stay_above_cost(rule):
    ds = sim.run(["scenario=baseline", "customers.n=2000", "steps=40",
                  *[f"firms.{f}.pricing={rule}" for f in ("neither", "digital_only", "human_only", "both")]],
                 seed=0)
    price, cost = ds.price.where(ds.alive == 1), ds.unit_cost.where(ds.alive == 1)
    assert float((price - cost).min()) > 0, "prices stay above unit cost"
    if rule == "markup":
        np.testing.assert_allclose((price / cost).isel(step=-1).dropna("firm"), 1.5, rtol=0.05)
    else:
        last = ds.isel(step=-1)
        alpha = float(ds.price_sensitivity.isel(step=-2))
        target = (last.unit_cost + 1.0 / (alpha * (1 - ds.share.isel(step=-2)))).where(last.alive == 1)
        np.testing.assert_allclose(last.price.dropna("firm"), target.dropna("firm"), rtol=0.1)


def test_fixed_prices_do_not_move():
    model = make_model(n=1000, steps=5)
    model.run()
    assert all(f.price == f.cfg.price for f in model.firm_list)
