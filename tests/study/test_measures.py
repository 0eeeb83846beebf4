"""sim.study.measures: the whole-run churn the facts use and its exact test, on small hand-made Datasets."""

from __future__ import annotations

from sim.study.measures import churn_test, run_churn


def _two_firms(left_a, left_b, start_a, start_b, steps=12):
    """A dataset of two firms with constant customers at the start of each step and leavers per step."""
    import numpy as np
    import xarray as xr

    cust = np.array([[start_a, start_b]] * steps, float)
    churn = np.array([[left_a / start_a, left_b / start_b]] * steps)
    churn[0] = np.nan  # step 0 has no leavers on record
    coords = {"step": np.arange(steps), "firm": ["a", "b"]}
    return xr.Dataset({"customers": (("step", "firm"), cust), "churn": (("step", "firm"), churn)}, coords)


def test_run_churn_counts_leavers_over_the_customers_at_the_start_of_each_step():
    ds = _two_firms(3, 10, 100, 200, steps=12)
    assert run_churn(ds, "a") == (33.0, 1100.0) and run_churn(ds, "b") == (110.0, 2200.0)


def test_churn_test_is_the_exact_test_of_two_rates_one_sided():
    from scipy.stats import binomtest

    ds = _two_firms(3, 10, 100, 200)  # a: 3% a step, b: 5%
    out = churn_test(ds, "a", "b")
    assert out["run churn: a"] == 0.03 and out["run churn: b"] == 0.05
    assert out["p (equal churn)"] == binomtest(33, 143, 1100 / 3300, alternative="less").pvalue < 0.01
    assert churn_test(ds, "b", "a")["p (equal churn)"] > 0.99  # the other way round: no evidence
    same = churn_test(_two_firms(4, 8, 100, 200), "a", "b")["p (equal churn)"]
    assert 0.3 < same < 0.8  # equal rates: no evidence either way
