"""The Mesa model: invariants after every step, reproducibility, entry and exit."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.engine.layout import NO_FIRM, Sm, St
from tests.conftest import ALL_MECHANISMS, make_model


def _check_invariants(model) -> None:
    pop = model.pop
    n_firms = len(model.firm_list)
    provider = pop.provider
    assert provider.min() >= NO_FIRM and provider.max() < n_firms
    alive = np.array([f.alive for f in model.firm_list])
    assigned = provider[provider != NO_FIRM]
    assert alive[assigned].all(), "a customer is with a firm that is not alive"
    outside = np.count_nonzero(provider == NO_FIRM)
    assert outside < 0.2 * model.n, "the outside option takes a few customers, not the market"
    counts = np.bincount(assigned, minlength=n_firms)
    assert counts.sum() + np.count_nonzero(provider == NO_FIRM) == model.n
    assert [f.customers for f in model.firm_list] == counts.tolist()
    shares = np.array([f.share for f in model.firm_list])
    if alive.any():
        assert shares[alive].sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(shares[~alive] == 0)
    assert np.all(np.isfinite(pop.state))
    scores = pop.state[[St.TRUST, St.ENGAGEMENT, St.SATISFACTION, St.FREEDOM, St.INFLUENCE, St.FAIRNESS]]
    assert scores.min() >= 0.0 and scores.max() <= 1.0
    assert pop.state[St.ALPHA].min() >= 0.0
    small = pop.small
    assert set(np.unique(small[Sm.SHARED])) <= {0, 1} and set(np.unique(small[Sm.ADOPTED])) <= {0, 1}
    assert small[Sm.SCORE].min() >= 0 and small[Sm.SCORE].max() <= 10
    assert pop.tenure.min() >= 1


@pytest.mark.parametrize("overrides", [[], ALL_MECHANISMS], ids=["baseline", "all_mechanisms"])
def test_invariants_after_every_step(overrides):
    model = make_model(overrides, n=3000, steps=30)
    for _ in range(30):
        adopted_before = model.pop.small[Sm.ADOPTED].copy()
        model.step()
        _check_invariants(model)
        assert np.all(model.pop.small[Sm.ADOPTED] >= adopted_before), "adoption is not reversible"
    assert model.steps == 30


def test_dataset_invariants(small_cfg):
    ds = sim.run(config=small_cfg)
    alive = ds.alive.astype(bool)
    np.testing.assert_allclose(ds.share.where(alive).sum("firm"), 1.0, atol=1e-12)
    assert int((ds.customers.sum("firm") + ds.unassigned).min()) == small_cfg.customers.n
    for name in ("trust", "engagement", "satisfaction", "freedom", "influence", "fairness", "relationship"):
        v = ds[name].where(ds.customers > 0)
        assert float(v.min()) >= 0 and float(v.max()) <= 1
        assert not ds[name].where(ds.customers > 0).isnull().any()
    assert float(ds.nps.min()) >= -100 and float(ds.nps.max()) <= 100
    # money balances: cash(t) - cash(t-1) = profit(t) = revenue - cost
    np.testing.assert_allclose(ds.profit, ds.revenue - ds.cost, atol=1e-12)
    np.testing.assert_allclose(ds.cash.diff("step"), ds.profit.isel(step=slice(1, None)), atol=1e-12)
    for name in ("digital_expectation", "hhi", "mean_price", "price_sensitivity", "adoption_total"):
        assert np.all(np.isfinite(ds[name]))
    assert set(np.unique(ds.quadrant)) <= {1, 2, 3, 4}


def test_same_seed_same_dataset_and_different_seeds_differ():
    args = ["scenario=baseline", "customers.n=2000", "steps=15"]
    a, b = sim.run(args, seed=5), sim.run(args, seed=5)
    assert a.identical(b)
    c = sim.run(args, seed=6)
    assert not np.array_equal(a.share.values, c.share.values)


def test_firm_exits_below_bankruptcy_line_and_customers_choose_again():
    model = make_model(["firms.neither.bankruptcy=100"], n=2000, steps=3)
    victim = model.firm_list[0]
    had = victim.customers
    assert had > 0
    outside_before = np.count_nonzero(model.pop.provider == NO_FIRM)
    model.step()
    assert not victim.alive and victim.exited_at == 1
    assert victim.customers == 0
    assert np.count_nonzero(model.pop.provider == victim.index) == 0
    # its customers chose again at once: most among the firms left, some leave the market
    assert np.count_nonzero(model.pop.provider == NO_FIRM) - outside_before < 0.5 * had
    ds = model.recorder.to_dataset({})
    assert float(ds.churn.sel(firm="neither").isel(step=0)) == pytest.approx(1.0)


def test_entrant_appears_at_its_step_and_wins_customers():
    model = sim.build(["scenario=disruptor", "customers.n=3000", "steps=60"], seed=1)
    entrant = model.firm_list[model.firm_names.index("disruptor")]
    for t in range(1, 61):
        model.step()
        assert entrant.alive == (t >= 36)
        if t < 36:
            assert entrant.customers == 0
    assert entrant.customers > 0


def test_expectations_follow_what_customers_use_and_the_frontier():
    """The external frontier drifts toward 1; E moves toward a mix of it and the digital level adopters
    use (their providers' d weighted by adopters), so an entrant moves E only as far as customers take
    it up; H moves toward the human level customers are served with."""
    m = sim.build(["scenario=disruptor"]).cfg.market
    ds = sim.run(["scenario=disruptor", "customers.n=3000", "steps=80"], seed=0)
    steps = ds.step.values
    frontier = 1 - (1 - m.expectation_init) * (1 - m.expectation_drift) ** steps
    np.testing.assert_allclose(ds.digital_frontier.values, frontier, rtol=1e-12)
    e = np.concatenate([[m.expectation_init], ds.digital_expectation.values])
    target = m.frontier_weight * ds.digital_frontier.values + (1 - m.frontier_weight) * ds.digital_used.values
    np.testing.assert_allclose(e[1:], e[:-1] + m.expectation_rate * (target - e[:-1]), rtol=1e-12)
    base = sim.run(["scenario=baseline", "customers.n=3000", "steps=80"], seed=0)
    gap = ds.digital_used - base.digital_used
    assert float(gap.sel(step=35)) == 0.0 and float(gap.sel(step=80)) > 0.005, "the entrant is used, then E rises"
    assert float((ds.digital_expectation - base.digital_expectation).sel(step=80)) > 0.001
    h = ds.human_expectation
    assert float(h.isel(step=-1)) > float(h.isel(step=0)) and float(h.max()) <= 0.8 + 1e-12


@pytest.mark.parametrize("scenario", ["baseline", "disruptor"])
def test_step_0_is_recorded_like_every_other_step(scenario):
    """The DataCollector's step-0 share divided by all customers (shares summed to 0.969, later steps 1.0)
    and its step-0 hhi used those unnormalised shares."""
    from sim.model import CustomerModel

    model = CustomerModel(scenario=scenario, seed=3, customers=3000, steps=2)
    assert model.unassigned > 0  # some customers start with the outside option
    model.run()
    dc = model.datacollector
    av = dc.get_agent_vars_dataframe().reset_index()
    for step in (0, 1, 2):
        rows = av[av.Step == step]
        with_provider = rows.n_customers.sum()
        np.testing.assert_allclose(rows.share.to_numpy(float), rows.n_customers.to_numpy(float) / with_provider,
                                   rtol=1e-12, err_msg=f"step {step}")
        assert rows.share.sum() == pytest.approx(1.0, rel=1e-12)
        assert dc.model_vars["hhi"][step] == pytest.approx(float((rows.share**2).sum()), rel=1e-12)
        assert dc.model_vars["unassigned"][step] == model.n - with_provider
