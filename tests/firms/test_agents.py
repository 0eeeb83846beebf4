"""The firms (sim.firms.agents.Firm, the mesa.Agents): costs from one formula, accounts, kernel columns."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from sim.engine.layout import FIRM_COLUMNS, F, Steer
from sim.firms.agents import Firm, quadrant
from tests.conftest import make_model


def test_firms_are_mesa_agents_of_the_model():
    model = make_model(n=300)
    assert all(isinstance(f, Firm) and isinstance(f, mesa.Agent) for f in model.firm_list)
    assert set(model.agents) >= set(model.firm_list)


@pytest.mark.parametrize("d, h, q", [(0.2, 0.2, 1), (0.2, 0.8, 2), (0.8, 0.2, 3), (0.8, 0.8, 4), (0.5, 0.5, 4)])
def test_quadrants(d, h, q):
    assert quadrant(d, h) == q


def test_unit_cost_is_the_variable_cost_of_one_customer():
    """Base cost (the market's c0 times the firm's factor, plus its extra), then people on hand for each
    customer and the handling of each human contact, both times h^gamma."""
    model = make_model(["firms.both.unit_cost_extra=0.1", "firms.both.unit_cost_factor=0.5"], n=300)
    both = model.firm_list[3]
    both.human_per_customer = 0.3
    m = model.cfg.market
    quality = both.human**m.human_contact_exponent
    assert both.unit_cost() == pytest.approx(0.5 * m.base_unit_cost + 0.1
                                             + quality * (m.human_staff_cost + m.human_contact_cost * 0.3))
    assert both.variable_cost(both.human, 200.0, 60.0) == pytest.approx(200 * both.unit_cost())
    assert both.unit_cost(human=0.0) == pytest.approx(0.5 * m.base_unit_cost + 0.1)


def test_human_service_costs_more_than_in_proportion_to_its_level():
    """People do not scale: with the default exponent, doubling the human level quadruples the human
    part of the unit cost; with exponent 1 it exactly doubles."""
    for exponent, ratio in ((2.0, 4.0), (1.0, 2.0)):
        model = make_model([f"market.human_contact_exponent={exponent}"], n=300)
        both = model.firm_list[3]
        both.human_per_customer = 0.3
        human_part = [both.unit_cost(human=h) - both.unit_cost(human=0.0) for h in (0.4, 0.8)]
        assert human_part[1] / human_part[0] == pytest.approx(ratio)


def test_reserves_are_months_of_the_firms_costs_at_the_start():
    model = make_model(["firms.both.reserve_months=6", "firms.human_only.reserve_months=24"], n=2000)
    both, human_only = model.firm_list[3], model.firm_list[2]
    assert both.cash == pytest.approx(6 * both.step_cost(both.customers), rel=1e-12)
    assert human_only.cash == pytest.approx(24 * human_only.step_cost(human_only.customers), rel=1e-12)
    assert both.reserves == pytest.approx(6.0)


def test_an_entrant_is_funded_at_entry_and_known_as_well_as_the_average_firm():
    model = make_model(["scenario=disruptor", "firms.disruptor.enter_step=3", "firms.disruptor.reserve_months=36"],
                       n=3000, steps=6)
    entrant = model.firm_list[4]
    assert entrant.cash == 0.0 and not entrant.alive
    for _ in range(2):
        model.step()
    incumbents = model.alive_firms()
    mean_rep = sum(f.reputation * f.share for f in incumbents) / sum(f.share for f in incumbents)
    model.prepare_step(3)
    assert entrant.alive and entrant.entered_at == 3
    assert entrant.reputation == pytest.approx(mean_rep)
    assert entrant.cash == pytest.approx(36 * entrant.step_cost(model.n / len(model.alive_firms())))


@pytest.mark.parametrize("enter_step", [0, 3])
def test_penetration_pricing_lasts_penetration_steps_decisions_from_entry(enter_step):
    """A firm present from the start and an entrant both charge the cut price for exactly
    ``penetration_steps`` steps (fixed pricing, full adjustment: the price is the target)."""
    firm_cfg = [f"firms.disruptor.{k}" for k in ("pricing=fixed", "price=1.0", "price_adjust=1.0",
                                                  "penetration_steps=4", "penetration_discount=0.25")]
    model = make_model(["scenario=disruptor", f"firms.disruptor.enter_step={enter_step}", *firm_cfg], n=2000,
                       steps=12)
    entrant = model.firm_list[4]
    prices = {}
    for _ in range(12):
        model.step()
        if entrant.alive:
            prices[model.steps] = entrant.price
    first = max(enter_step, 1)
    cut = [t for t, p in prices.items() if p == pytest.approx(0.75)]
    assert cut == list(range(first, first + 4))
    assert all(p == pytest.approx(1.0) for t, p in prices.items() if t >= first + 4)


def test_settle_books_revenue_costs_and_cash():
    model = make_model(["firms.both.intervention=[0.01,0.0,0.02]"], n=1000)
    both = model.firm_list[3]
    cash = both.cash
    both.settle(customers=400.0, human_contacts=50.0, n_market=1000)
    assert both.human_per_customer == pytest.approx(50 / 400)
    assert both.revenue == pytest.approx(both.price * 0.4)
    expected_cost = both.variable_cost(both.human, 400.0, 50.0) / 1000 + both.fixed_cost() + 0.03
    assert both.cost == pytest.approx(expected_cost)
    assert both.cash == pytest.approx(cash + both.revenue - both.cost)
    dead = model.firm_list[0]
    dead.alive = False
    dead.settle(customers=0.0, human_contacts=0.0, n_market=1000)
    assert dead.profit == 0.0


def test_kernel_columns_come_from_the_firm():
    model = make_model(["firms.neither.steering=hard", "firms.neither.steering_strength=0.6",
                        "firms.both.human_capacity=0.5", "market.shock.start=1", "market.shock.end=3",
                        "market.shock.human_cut=0.4"], n=500)
    model.prepare_step(1)
    cols = model.firm_cols
    assert cols.shape == (4, len(FIRM_COLUMNS))
    assert cols[0, F.STEERING] == Steer.HARD and cols[0, F.STEERING_STRENGTH] == 0.6
    assert cols[3, F.AVAILABILITY] == pytest.approx(0.5 * (1 - 0.4)), "the shock cuts human capacity"
    for f in model.firm_list:
        assert cols[f.index, F.DIGITAL] == f.digital and cols[f.index, F.PRICE] == f.price
        assert cols[f.index, F.ALIVE] == float(f.alive)


def test_intervention_pull_grows_with_spend_per_own_customer_and_saturates_at_the_effect():
    from sim.firms.agents import intervention_pulls

    spend = np.array([[0.0, 0.01, 0.04], [0.0, 0.01, 0.04]])
    effect = np.array([0.2, 0.2])
    pull = intervention_pulls(spend, effect, [500, 100], 1000, half=0.05)
    assert pull.shape == (2, 3)
    assert (pull[:, 0] == 0).all()  # no spend, no pull
    assert (np.diff(pull, axis=1) > 0).all()  # more spend pulls harder
    assert (pull[1, 1:] > pull[0, 1:]).all()  # the same spend over fewer own customers pulls harder
    assert (pull < 0.2).all()  # never beyond the effect
    # a firm without customers counts one: finite
    assert np.isfinite(intervention_pulls(spend, effect, [0, 0], 1000, half=0.05)).all()
