"""Validation 3: adoption follows the discrete Bass recurrence within sampling error.

The model draws adoption once per step with probability p + q A(t-1) (A the adopted
share at the end of the previous step), so it integrates the Bass model in discrete
time: F(t+1) = F(t) + (1 - F(t)) (p + q F(t)). Its peak (the step with the most new
adopters, or the time F reaches (q - p)/(2q)) comes later than the continuous peak
ln(q/p)/(p+q); the gap is the time step, and shrinks as 1/k when one period is split
into k steps with rates p/k, q/k.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from . import theory as T
from .cases import run_bass

#: (p, q, steps)
CASES = [(0.01, 0.3, 50), (0.03, 0.38, 30), (0.005, 0.2, 60)]
N = 50_000
_RUNS: dict = {}


def bass_run(p, q, steps, n=N, seed=7):
    key = (p, q, steps, n, seed)
    if key not in _RUNS:
        _RUNS[key] = run_bass(p, q, n, steps, seed)
    return _RUNS[key]


def peak_window(p, q, steps, n):
    """Steps whose theoretical new adoptions are within sampling error of the theoretical peak."""
    inc = np.diff(T.bass_discrete(p, q, steps))
    var = T.bass_increment_var(p, q, steps, n)
    top = int(np.argmax(inc))
    z = T.z_limit(steps)
    ok = inc[top] - inc <= z * np.sqrt(var + var[top])
    return np.flatnonzero(ok) + 1, top + 1


def sim_crossing(sim, p, q):
    return T.crossing_time(np.concatenate([[0.0], sim]), T.bass_peak_level(p, q))


@pytest.mark.parametrize("n", [N, 200_000])
@pytest.mark.parametrize("p,q,steps", CASES)
def test_adoption_follows_discrete_bass(p, q, steps, n):
    sim = bass_run(p, q, steps, n)
    theory = T.bass_discrete(p, q, steps)[1:]
    sd = np.sqrt(T.bass_discrete_var(p, q, steps, n)[1:])
    z = (sim - theory) / sd
    assert np.max(np.abs(z)) < T.z_limit(steps), (np.abs(z).max(), int(np.argmax(np.abs(z))) + 1)


@pytest.mark.parametrize("p,q,steps", CASES)
def test_peak(p, q, steps):
    sim = bass_run(p, q, steps)
    sim_peak = int(np.argmax(np.diff(np.concatenate([[0.0], sim])))) + 1
    window, theory_peak = peak_window(p, q, steps, N)
    assert sim_peak in window, (sim_peak, theory_peak, window)
    tc, sd = T.bass_crossing(p, q, steps, N)
    assert abs(sim_crossing(sim, p, q) - tc) < T.z_limit() * sd
    # the discrete recurrence lags the continuous peak by a time-step effect: F grows by
    # (1 + p + q) per step instead of e^(p+q) early on, so the lag is below the difference
    # of ln(q/p)/ln(1+p+q) and ln(q/p)/(p+q), plus one step for the argmax convention
    # (the new adoptions of step t are the rate at F(t - 1))
    t_cont = T.bass_peak_time(p, q)
    assert 0.0 < tc - t_cont < math.log(q / p) / math.log(1 + p + q) - t_cont
    assert 0.0 < theory_peak - t_cont < math.log(q / p) / math.log(1 + p + q) - t_cont + 1.0


def test_peak_time_tends_to_continuous_formula_with_finer_steps():
    """Split each period into k steps (rates p/k, q/k): the peak time, in periods, tends to ln(q/p)/(p+q)."""
    p, q, periods = 0.01, 0.3, 30
    t_cont = T.bass_peak_time(p, q)
    gaps = []
    for k in (1, 2, 4):
        steps = k * periods
        sim = bass_run(p / k, q / k, steps)
        tc, sd = T.bass_crossing(p / k, q / k, steps, N)
        assert abs(sim_crossing(sim, p / k, q / k) - tc) < T.z_limit(3) * sd
        gaps.append(tc / k - t_cont)
    assert 0.0 < gaps[2] < gaps[1] < gaps[0]
    np.testing.assert_allclose(np.array(gaps) * [1, 2, 4], gaps[0], rtol=0.05)  # the gap falls as 1/k
