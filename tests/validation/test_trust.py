"""Validation 4: mean trust under a fixed chance g of a positive experience.

The model's rule (sim/kernels.py, phase 4): on a contact with surprise delta,
tau += a+ min(delta, 1) (1 - tau) if delta > 0, else tau += a- max(delta, -1) tau.
With surprises of +-1, a positive contact (probability g) is the affine map
tau -> (1 - a+) tau + a+, a negative one tau -> (1 - a-) tau, so the mean and the
variance follow exact linear recurrences and the mean tends to
g a+ / (g a+ + (1 - g) a-), whatever the contact rate.
"""

from __future__ import annotations

import numpy as np
import pytest

from . import theory as T
from .cases import run_trust

#: (g, a+, a-, contact rate, initial trust)
CASES = [(0.6, 0.2, 0.4, 0.5, 0.5), (0.3, 0.1, 0.3, 1.0, 0.9), (0.9, 0.05, 0.5, 0.8, 0.1)]
N = 50_000
STEPS = 120
_RUNS: dict = {}


def trust_run(case):
    if case not in _RUNS:
        _RUNS[case] = run_trust(*case, n=N, steps=STEPS, seed=5)
    return _RUNS[case]


@pytest.mark.parametrize("case", CASES)
def test_mean_trust_path(case):
    mean, _ = trust_run(case)
    m1, var = T.trust_moments(*case, STEPS)
    z = (mean - m1[1:]) / np.sqrt(var[1:] / N)
    assert np.max(np.abs(z)) < T.z_limit(STEPS), np.abs(z).max()


@pytest.mark.parametrize("case", CASES)
def test_trust_reaches_steady_state(case):
    g, a_plus, a_minus, _, _ = case
    mean, final = trust_run(case)
    star = T.trust_steady_state(g, a_plus, a_minus)
    m1, var = T.trust_moments(*case, STEPS)
    sd = np.sqrt(var[-1] / N)
    assert abs(m1[-1] - star) < 0.1 * sd  # the horizon is long enough for the mean to settle
    assert abs(mean[-1] - star) < T.z_limit() * sd
    # the spread across customers is the one the rule implies, too (4th moment bounded by 1)
    assert abs(final.var() - var[-1]) < T.z_limit() * np.sqrt(var[-1] / N)


def test_steady_state_is_not_the_naive_one():
    """Power check: with a+ != a-, the steady state differs from g by many standard errors."""
    g, a_plus, a_minus, c, tau0 = CASES[0]
    mean, _ = trust_run(CASES[0])
    _, var = T.trust_moments(*CASES[0], STEPS)
    assert abs(mean[-1] - g) > 20 * np.sqrt(var[-1] / N)
