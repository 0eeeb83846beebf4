"""Numbers that can be trusted: no NaN or infinity where a value is defined, invariants over
the config space (hypothesis), stable logit choice, the memory guard, atomic writes.

Where a value is defined
------------------------
* market variables (``digital_expectation``, ``hhi``, ``mean_price``, ...,
  ``unassigned``) and a firm's economics and position (``customers``, ``share``,
  ``price``, ``unit_cost``, ``digital``, ``human``, ``quadrant``, ``revenue``,
  ``cost``, ``profit``, ``cash``, ``alive``): always, every step;
* means over a firm's customers (``trust``, ``engagement``, ``nps``, ``tenure``...):
  where the firm has customers at the end of the step (``customers > 0``);
* per-contact shares (``effort``, ``steering_noticed``, ``human_contacts``): exactly
  where the firm's customers made contacts in the step (``contacts > 0``), NaN
  elsewhere (e.g. with ``market.contact_rate = 0``);
* ``churn``: where the firm had customers at the start of the step;
* segment means: where the segment has customers.

NaN elsewhere means "no data" (a firm not yet entered or exited), never a
numerical failure; infinity never appears.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import sim
from sim.results import memory as guard
from sim.results.output import FIRM_VARS, MARKET_VARS, SEGMENT_VARS
from sim.settings.compose import compose_config

FIRMS = ("neither", "digital_only", "human_only", "both")
SEGMENTS = ("natives", "late_adopters", "excluded")
ALWAYS = {"customers", "share", "price", "unit_cost", "digital", "human", "quadrant", "revenue", "cost",
          "profit", "cash", "alive"}
PER_CONTACT = {"effort", "steering_noticed", "human_contacts"}
SCORES_01 = ("trust", "engagement", "satisfaction", "freedom", "influence", "fairness", "relationship",
             "data_shared", "adopted_share", "disengaged", "effort", "steering_noticed", "human_contacts")

# each example runs a model, so no "explain" phase (it reruns a failure hundreds of times)
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
settings.register_profile("robustness", max_examples=25, deadline=None, print_blob=True, phases=_PHASES,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=300, deadline=None, print_blob=True, phases=_PHASES,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: SIM_THOROUGH=1 runs 300 examples per property instead of 25.
PROFILE = settings.get_profile("thorough" if os.environ.get("SIM_THOROUGH") else "robustness")


def undefined_or_bad(ds) -> list[str]:
    """Variables with NaN or infinity where they are defined (see the module docstring)."""
    bad = []
    for name in MARKET_VARS:
        if not np.isfinite(ds[name].values).all():
            bad.append(name)
    has = ds.customers.values > 0
    had = np.vstack([np.zeros((1, has.shape[1]), bool), has[:-1]])  # customers at the start of the step
    for name in FIRM_VARS:
        v = ds[name].values.astype(float)
        if np.isinf(v).any():
            bad.append(f"{name} (inf)")
            continue
        if name in ALWAYS | {"contacts"}:
            mask = np.ones_like(has)
        elif name in PER_CONTACT:
            mask = ds.contacts.values > 0  # defined where the step had contacts
            if not np.isnan(v[~mask]).all():
                bad.append(f"{name} (a value without contacts)")
        elif name == "churn":
            mask = had  # the first step's start (the initial assignment) is not in the output
        elif name == "reserves":
            mask = has & (ds.cost.values > 0)  # steps of costs: defined while the firm has costs
        else:
            mask = has
        if np.isnan(v[mask]).any():
            bad.append(name)
    seg = ds.segment_customers.values > 0
    for name in SEGMENT_VARS:
        v = ds[name].values.astype(float)
        if np.isinf(v).any() or np.isnan(v[seg]).any():
            bad.append(name)
    return bad


def check_invariants(ds, n: int) -> None:
    """Customers conserved, shares, scores in range, accounts balance (revenue - cost = profit = d cash)."""
    cust = ds.customers.values
    assert (cust >= 0).all()
    np.testing.assert_array_equal(cust.sum(axis=1) + ds.unassigned.values, n)
    alive = ds.alive.values.astype(bool)
    assert (cust[~alive] == 0).all(), "a firm that is not alive has customers"
    share = ds.share.values
    for t in range(share.shape[0]):
        if cust[t].sum() > 0:  # shares among customers with a provider (all may be outside the market)
            assert math.isclose(share[t, alive[t]].sum(), 1.0, abs_tol=1e-12)
        else:
            assert (share[t] == 0).all()
        assert (share[t, ~alive[t]] == 0).all()
    has = cust > 0
    for name in SCORES_01:
        v = ds[name].values[has]
        v = v[np.isfinite(v)]
        assert ((v >= 0) & (v <= 1)).all(), name
    nps = ds.nps.values[has]
    assert ((nps >= -100) & (nps <= 100)).all()
    churn = ds.churn.values
    assert ((churn[np.isfinite(churn)] >= 0) & (churn[np.isfinite(churn)] <= 1)).all()
    for name in ("hhi", "adoption_total", "digital_expectation", "digital_frontier", "digital_used"):
        v = ds[name].values
        assert ((v >= 0) & (v <= 1)).all(), name
    assert (ds.price.values > 0).all()
    # money: profit = revenue - cost, and cash moves by exactly the profit (zero while not alive; the
    # reserves are funded at the start or at entry)
    rev, cost, profit, cash = (ds[k].values for k in ("revenue", "cost", "profit", "cash"))
    scale = 1.0 + np.abs(rev) + np.abs(cost)
    assert (np.abs(rev - cost - profit) <= 1e-12 * scale).all()
    both = alive[1:] & alive[:-1]
    change = np.diff(cash, axis=0)
    assert (np.abs(change - profit[1:])[both] <= 1e-9 * (1.0 + np.abs(cash[1:][both]))).all()
    assert (profit[~alive] == 0).all()


def run_checked(overrides: list[str], seed: int = 0):
    cfg = compose_config(["scenario=baseline", *overrides, f"seed={seed}"])
    ds = sim.run(config=cfg)
    assert undefined_or_bad(ds) == []
    check_invariants(ds, cfg.customers.n)
    return ds


# ------------------------------------------------------------- extreme values
def _all_segments(field: str, value) -> list[str]:
    return [f"customers.segments.{s}.{field}={value}" for s in SEGMENTS]


def _all_firms(field: str, value) -> list[str]:
    return [f"firms.{f}.{field}={value}" for f in FIRMS]


EXTREMES = {
    "price_sensitivity_near_zero": _all_segments("alpha0", 0.001) + _all_firms("pricing", "nash"),
    "price_sensitivity_huge": _all_segments("alpha0", 100) + _all_firms("pricing", "nash"),
    "price_sensitivity_very_dispersed": _all_segments("alpha0_cv", 5) + _all_firms("pricing", "nash"),
    "price_sensitivity_spread_underflows": ["customers.segments.natives.alpha0_cv=5e-324",
                                            "customers.segments.excluded.alpha0_cv=1e-200"],
    "prices_at_the_limits": ["firms.neither.price=1e-6", "firms.both.price=1000",
                             "firms.human_only.price=1000"],
    "utility_weights_at_max": ["market.beta_digital=100", "market.beta_human=100", "market.beta_emotion=100",
                               "market.beta_reputation=100", "market.inertia=100", "market.gate_slope=100"],
    "single_firm": [f"~firms.{f}" for f in FIRMS[:3]],
    "all_firms_exit": _all_firms("bankruptcy", 100),
    "all_firms_exit_later": _all_firms("reserve_months", 0.5) + _all_firms("fixed_cost", 5),
    "one_customer": ["customers.n=1"],
    "no_contacts": ["market.contact_rate=0"],
    "everyone_reviews": ["market.review_hazard=1", "market.hazard_trust=0", "market.hazard_engagement=0"],
    "adaptive_markup": _all_firms("strategy", "adaptive") + _all_firms("pricing", "markup"),
}


@pytest.mark.parametrize("name", list(EXTREMES))
def test_no_nan_or_inf_where_defined_under_extreme_parameters(name):
    ds = run_checked(["customers.n=2000", "steps=24", *EXTREMES[name]], seed=1)
    assert ds.sizes["step"] == 24


def test_all_firms_exited_leaves_customers_unassigned_and_market_finite():
    ds = run_checked(["customers.n=500", "steps=6", *_all_firms("bankruptcy", 100)])
    assert (ds.alive.values == 0).all() and (ds.unassigned.values == 500).all()
    assert (ds.customers.values == 0).all() and (ds.share.values == 0).all()
    assert ds.trust.isnull().all(), "means over no customers are missing, not zero"
    for name in MARKET_VARS:
        assert np.isfinite(ds[name].values).all(), name


def test_single_firm_keeps_everyone_who_stays_in_the_market():
    ds = run_checked(["customers.n=800", "steps=12", *[f"~firms.{f}" for f in FIRMS[:3]]])
    np.testing.assert_array_equal(ds.share.sel(firm="both").values, 1.0)
    assert float(ds.hhi.max()) == 1.0
    # the outside option keeps a monopoly from holding everyone: at its Nash price it holds most
    assert (ds.customers.sel(firm="both").values > 0.6 * 800).all() and int(ds.unassigned[-1]) > 0


@pytest.mark.slow
def test_ten_million_customers_for_a_few_steps():
    cfg = compose_config(["scenario=baseline", "customers.n=10000000", "steps=2"])
    try:
        guard.check_memory(cfg)
    except guard.InsufficientMemory as exc:
        pytest.skip(str(exc))
    ds = sim.run(config=cfg)
    assert undefined_or_bad(ds) == []
    check_invariants(ds, 10_000_000)


# ------------------------------------------------ properties over config space
@st.composite
def configs(draw):
    steps = draw(st.integers(1, 12))
    n = draw(st.integers(1, 2000))
    keep = draw(st.lists(st.sampled_from(FIRMS), min_size=1, max_size=4, unique=True))
    ov = [f"customers.n={n}", f"steps={steps}"]
    ov += [f"~firms.{f}" for f in FIRMS if f not in keep]
    unit = st.floats(0, 1, allow_nan=False)
    for k, f in enumerate(keep):
        p = f"firms.{f}."
        ov += [f"{p}digital={draw(unit)}", f"{p}human={draw(unit)}",
               f"{p}price={min(1000.0, max(1e-6, 10 ** draw(st.floats(-6, 3))))}",
               f"{p}pricing={draw(st.sampled_from(['fixed', 'markup', 'nash']))}",
               f"{p}strategy={draw(st.sampled_from(['static', 'adaptive']))}",
               f"{p}steering={draw(st.sampled_from(['none', 'soft', 'hard']))}",
               f"{p}steering_strength={draw(unit)}",
               f"{p}reserve_months={draw(st.floats(0, 60))}",
               f"{p}unit_cost_factor={draw(st.floats(0, 3))}",
               f"{p}penetration_steps={draw(st.integers(0, 12))}",
               f"{p}penetration_discount={draw(st.floats(0, 0.95))}",
               f"{p}demand_memory={draw(st.floats(1e-3, 1))}",
               f"{p}personalisation={draw(unit)}",
               f"{p}human_capacity={draw(unit)}",
               f"{p}intervention=[{draw(st.floats(0, 0.1))},{draw(st.floats(0, 0.1))},0.0]",
               f"{p}enter_step={0 if k == 0 else draw(st.integers(0, steps - 1))}"]
    m = "market."
    ov += [f"{m}contact_rate={draw(unit)}", f"{m}panel_rate={draw(unit)}",
           f"{m}beta_digital={draw(st.floats(0, 100))}", f"{m}beta_human={draw(st.floats(0, 100))}",
           f"{m}beta_emotion={draw(st.floats(0, 100))}", f"{m}inertia={draw(st.floats(-100, 100))}",
           f"{m}review_hazard={draw(unit)}", f"{m}trust_gain={draw(unit)}", f"{m}trust_loss={draw(unit)}",
           f"{m}gate_slope={draw(st.floats(0, 100))}", f"{m}rec_noise={draw(st.floats(0, 10))}",
           f"{m}adoption.innovation={draw(unit)}", f"{m}adoption.imitation={draw(unit)}",
           f"{m}digital_scale={draw(st.floats(1e-3, 1000))}", f"{m}human_scale={draw(st.floats(1e-3, 1000))}",
           f"{m}emotion_scale={draw(st.floats(1e-3, 1000))}", f"{m}frontier_weight={draw(unit)}",
           f"{m}satisfaction_slope={draw(st.floats(0, 1000))}", f"{m}outside_utility={draw(st.floats(-100, 100))}",
           f"{m}tolerance={draw(unit)}", f"{m}hazard_freedom={draw(st.floats(0, 20))}",
           f"{m}fairness_slope={draw(st.floats(0, 20))}", f"{m}reference_price_rate={draw(unit)}",
           f"{m}expectation_drift={draw(st.floats(-0.1, 0.1))}", f"{m}influence_engagement={draw(st.floats(0, 10))}"]
    if draw(st.booleans()):
        start = draw(st.integers(0, steps - 1))
        ov += [f"{m}shock.start={start}", f"{m}shock.end={draw(st.integers(start + 1, steps + 1))}"]
    for s in SEGMENTS:
        q = f"customers.segments.{s}."
        ov += [f"{q}alpha0={10 ** draw(st.floats(-3, 2))}", f"{q}alpha0_cv={draw(st.floats(0, 5))}",
               f"{q}concentration={10 ** draw(st.floats(-1, 3))}"]
    seed = draw(st.integers(0, 2**32))
    return ov, seed


@PROFILE
@given(configs())
def test_invariants_hold_over_the_config_space(case):
    overrides, seed = case
    run_checked(overrides, seed)


@PROFILE
@given(st.integers(1, 1500), st.integers(1, 8), st.integers(0, 2**63 - 1))
def test_customers_conserved_for_any_size_and_seed(n, steps, seed):
    cfg = compose_config(["scenario=disruptor", f"customers.n={n}", f"steps={steps}", f"seed={seed}",
                          f"firms.disruptor.enter_step={steps // 2}"])
    ds = sim.run(config=cfg)
    np.testing.assert_array_equal(ds.customers.sum("firm").values + ds.unassigned.values, n)
    np.testing.assert_array_equal(ds.segment_customers.sum("segment").values, n)
    assert undefined_or_bad(ds) == []


