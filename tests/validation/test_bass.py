"""Validation 3: adoption follows the discrete Bass recurrence within sampling error.

The model draws adoption once per step with probability p + q A(t-1) (A the adopted
share at the end of the previous step), so it integrates the Bass model in discrete
time: F(t+1) = F(t) + (1 - F(t)) (p + q F(t)). Its peak comes about ln(q/p)/2 + 1
steps after the continuous peak ln(q/p)/(p+q); the gap is the time step, and shrinks
as 1/k when one period is split into k steps with rates p/k, q/k.
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


@pytest.mark.parametrize("n", [N, 200_000])
@pytest.mark.parametrize("p,q,steps", CASES)
def test_adoption_follows_discrete_bass(p, q, steps, n):
    sim = bass_run(p, q, steps, n)
    theory = T.bass_discrete(p, q, steps)[1:]
    sd = np.sqrt(T.bass_discrete_var(p, q, steps, n)[1:])
    z = (sim - theory) / sd
    assert np.max(np.abs(z)) < T.z_limit(steps), (np.abs(z).max(), int(np.argmax(np.abs(z))) + 1)


@pytest.mark.parametrize("p,q,steps", CASES)
def test_peak_step(p, q, steps):
    sim = bass_run(p, q, steps)
    sim_peak = int(np.argmax(np.diff(np.concatenate([[0.0], sim])))) + 1
    window, theory_peak = peak_window(p, q, steps, N)
    assert sim_peak in window, (sim_peak, theory_peak, window)
    # the discrete recurrence's peak vs the continuous formula: a time-step effect of
    # about ln(q/p)/2 (Euler growth (1+p+q)^t instead of e^{(p+q)t}) plus up to one
    # step (the step-t increment is the rate at F(t-1))
    t_cont = T.bass_peak_time(p, q)
    assert 0.0 < theory_peak - t_cont < math.log(q / p) / 2 + 1.0


def test_peak_approaches_continuous_formula_with_finer_steps():
    """Split each period into k steps (rates p/k, q/k): the peak, in periods, tends to ln(q/p)/(p+q)."""
    p, q, periods = 0.01, 0.3, 30
    t_cont = T.bass_peak_time(p, q)
    gaps = []
    for k in (1, 2, 4):
        steps = k * periods
        sim = bass_run(p / k, q / k, steps)
        sim_peak = int(np.argmax(np.diff(np.concatenate([[0.0], sim])))) + 1
        window, theory_peak = peak_window(p / k, q / k, steps, N)
        assert sim_peak in window
        gaps.append(theory_peak / k - t_cont)
        assert 0.0 < gaps[-1] < (math.log(q / p) / 2 + 1.0) / k
    assert gaps[0] > gaps[1] > gaps[2]
