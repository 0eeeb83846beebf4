"""Validation 1: logit choice shares, within multinomial sampling error, error ~ 1/sqrt(N).

Identical firms except price, one price sensitivity alpha, everybody reviews every
step without inertia: each step every customer draws afresh from
P_j = exp(-alpha p_j) / sum_k exp(-alpha p_k). The model has no outside option.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from . import theory as T
from .cases import run_logit

#: (alpha, prices): two to five firms, flat to steep price response
CASES = [(2.0, (0.8, 1.0, 1.3)), (1.0, (1.0, 1.5)), (4.0, (1.0, 1.1, 1.2, 1.5, 2.0))]
NS = (20_000, 200_000)
STEPS = 20
_RUNS: dict = {}


def logit_run(case: int, n: int):
    if (case, n) not in _RUNS:
        alpha, prices = CASES[case]
        _RUNS[case, n] = run_logit(alpha, prices, n, STEPS, seed=11 + case)
    return _RUNS[case, n]


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_shares_after_one_step_are_logit(case, n):
    run = logit_run(case, n)
    probs = T.logit_shares(run.alpha, run.prices)
    z = (run.shares[0] - probs) / T.share_sigma(probs, n)
    assert np.max(np.abs(z)) < T.z_limit(len(probs)), (run.shares[0], probs, z)
    assert run.shares[0].sum() == pytest.approx(1.0, abs=1e-12)  # no outside option


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_shares_every_step_pearson_chi2(case, n):
    """Each step is an independent multinomial draw: sum of Pearson statistics ~ chi2(steps (F - 1))."""
    run = logit_run(case, n)
    probs = T.logit_shares(run.alpha, run.prices)
    x2 = sum(T.pearson_chi2(s, probs, n) for s in run.shares)
    lo, hi = T.chi2_bounds(STEPS * (len(probs) - 1))
    assert lo < x2 < hi, (x2, lo, hi)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_error_shrinks_as_inverse_sqrt_n(case):
    """(mean squared error x N) is the same at both sizes: the ratio of chi2 sums is F-distributed."""
    small, large = (logit_run(case, n) for n in NS)
    probs = T.logit_shares(small.alpha, small.prices)
    x2 = [sum(T.pearson_chi2(s, probs, r.n) for s in r.shares) for r in (small, large)]
    dof = STEPS * (len(probs) - 1)
    ratio = x2[0] / x2[1]
    lo, hi = stats.f.ppf(T.FAMILY_ALPHA / 2, dof, dof), stats.f.isf(T.FAMILY_ALPHA / 2, dof, dof)
    assert lo < ratio < hi
    # the same statement in words: the RMS error falls by about sqrt(N_large / N_small)
    rms = [np.sqrt(np.mean((r.shares - probs) ** 2)) for r in (small, large)]
    expected = np.sqrt(NS[1] / NS[0])
    assert np.sqrt(lo) * expected < rms[0] / rms[1] < np.sqrt(hi) * expected


@pytest.mark.parametrize("v0", [-2.0, -1.0])
def test_outside_option_takes_its_logit_share(v0):
    """With an outside option of utility V0, the firms' and the outside shares of all customers are
    exp(V_j) / (exp(V0) + sum_k exp(V_k)), within multinomial sampling error, every step."""
    import sim

    alpha, prices, n = 2.0, (0.8, 1.0, 1.3), 100_000
    ds = sim.run(["scenario=validation/logit", f"customers.n={n}", "steps=10", f"market.outside_utility={v0}",
                  "customers.segments.all.adopted_init=0.0",  # nobody values digital: V_j = -alpha p_j exactly
                  *[f"firms.{f}.price={p}" for f, p in zip("abc", prices, strict=True)]], seed=4)
    firms, outside = T.logit_shares_with_outside(alpha, prices, v0)
    probs = np.append(firms, outside)
    observed = np.column_stack([ds.customers.values / n, ds.unassigned.values / n])
    z = (observed - probs) / T.share_sigma(probs, n)
    assert np.abs(z).max() < T.z_limit(z.size), (observed[0], probs)
    x2 = sum(T.pearson_chi2(row, probs, n) for row in observed)
    lo, hi = T.chi2_bounds(observed.shape[0] * (len(probs) - 1))
    assert lo < x2 < hi
    assert outside > 0.1, "the case exercises the outside option"
