"""Position strategies (sim.firms.strategies): static firms stay, adaptive firms move only as far and as often
as they may, toward positions their forecast values at the prices the market would settle at."""

from __future__ import annotations

import numpy as np
import pytest

from sim.firms.strategies import STRATEGIES as REGISTRY
from sim.settings.schema import STRATEGIES
from tests.conftest import make_model


def test_config_options_are_the_registry_keys():
    assert STRATEGIES == tuple(REGISTRY)


def test_static_firms_stay_and_adaptive_firms_move_within_limits():
    model = make_model(["firms.both.strategy=adaptive", "firms.both.pricing=nash",
                        "firms.both.invest_step=0.03"], n=2000, steps=20)
    start = {f.name: (f.digital, f.human) for f in model.firm_list}
    path = []
    for _ in range(20):
        model.step()
        both = model.firm_list[3]
        path.append((both.digital, both.human))
    for f in model.firm_list[:3]:
        assert (f.digital, f.human) == start[f.name]
    moves = np.abs(np.diff(np.array([start["both"], *path]), axis=0))
    assert moves.max() <= 0.03 + 1e-12
    assert moves.sum() > 0, "the adaptive firm found a better neighbour at least once"




def test_a_move_is_valued_at_the_prices_the_market_would_settle_at():
    """expected_profit re-prices every Nash-pricing firm at the candidate position: it equals the margin
    times the forecast share at the market view's equilibrium, less the position's fixed costs."""
    from sim.firms.demand import market_view
    from sim.firms.strategies import expected_profit

    model = make_model(["firms.both.strategy=adaptive"], n=2000)
    model.prepare_step(1)
    both = model.firm_list[3]
    view, me = market_view(both, 0.95, 0.6)
    prices = view.equilibrium()
    share, _ = view.demand(prices)
    expected = (prices[me] - view.offers[me].unit_cost) * share[me] - both.fixed_cost(0.95, 0.6)
    assert expected_profit(both, 0.95, 0.6) == pytest.approx(expected, rel=1e-9)


def test_adaptive_firms_end_at_an_interior_human_level_that_follows_their_customers():
    """No rule says where human service should be: adaptive firms settle inside (0, 1) on the human
    axis, lower in a market of digital-minded customers than in one of human-minded customers."""
    import sim

    def final_h(prefs):
        ov = ["scenario=adaptive", "customers.n=5000", "steps=90",
              *[f"customers.segments.{s}.human_pref={v}" for s, v in zip(("natives", "late_adopters", "excluded"),
                                                                             prefs, strict=True)]]
        ds = sim.run(ov, seed=0)
        alive = ds.alive.isel(step=-1) == 1
        return ds.human.isel(step=-1).where(alive).dropna("firm").values

    digital_minded, human_minded = final_h((0.1, 0.2, 0.3)), final_h((0.6, 0.75, 0.9))
    assert np.all((digital_minded > 0.3) & (digital_minded < 0.95))
    assert np.all((human_minded > 0.3) & (human_minded < 0.98))
    assert digital_minded.mean() < human_minded.mean() - 0.04
