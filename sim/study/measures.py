"""Measurements of a run's Dataset the stylized facts (:mod:`sim.study.facts`) are made of: exits,
last values, shares at a step, and whole-run churn with its exact test. Each reads what customers'
choices produced (share, churn, survival), never a quantity a mechanism writes."""

from __future__ import annotations

import math

import numpy as np


def exit_step(ds, firm: str) -> float:
    """The first step a firm is no longer alive after having been (inf: never; 0: never alive)."""
    if firm not in ds.firm.values:
        return math.inf
    alive = ds.alive.sel(firm=firm).values.astype(bool)
    gone = np.flatnonzero(np.maximum.accumulate(alive) & ~alive)
    if gone.size:
        return float(ds.step.values[gone[0]])
    return 0.0 if not alive.any() else math.inf


def last(ds, var: str, firm: str) -> float:
    return float(ds[var].sel(firm=firm).isel(step=-1))


def run_churn(ds, firm: str) -> tuple[float, float]:
    """The firm's customers who left over the whole run and its customer-months at risk (each step's
    customers at the start of the step, the churn's denominator), from step 1 on."""
    start = ds.customers.sel(firm=firm).shift(step=1).isel(step=slice(1, None)).fillna(0.0)
    rate = ds.churn.sel(firm=firm).isel(step=slice(1, None)).fillna(0.0)
    return float(np.round((rate * start).sum())), float(start.sum())


def churn_test(ds, low: str, high: str) -> dict[str, float]:
    """Whole-run churn of two firms and a one-sided exact test that ``low``'s customers leave less often
    than ``high``'s: given all leavers of the two, ``low``'s count is binomial with its share of the
    customer-months under equal rates (the conditional test of two Poisson rates)."""
    from scipy.stats import binomtest

    k_low, e_low = run_churn(ds, low)
    k_high, e_high = run_churn(ds, high)
    out = {f"run churn: {low}": k_low / e_low if e_low else math.nan,
           f"run churn: {high}": k_high / e_high if e_high else math.nan}
    n = int(k_low + k_high)
    out["p (equal churn)"] = (
        float(binomtest(int(k_low), n, e_low / (e_low + e_high), alternative="less").pvalue) if n and e_low else 1.0
    )
    return out


def share_at(ds, firm: str, step: int) -> float:
    return float(ds.share.sel(firm=firm).sel(step=min(step, int(ds.step.max()))))
