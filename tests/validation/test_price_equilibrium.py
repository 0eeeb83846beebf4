"""Validation 2: best_response prices converge to the logit Bertrand-Nash equilibrium, for any
``price_adjust`` in (0, 1].

The equilibrium is computed in the test twice: by iterated numerical profit
maximisation (no formula) and by fixed-point iteration of the first-order condition
p_j = c_j + 1 / (alpha (1 - s_j)). The rule solves the first-order condition against
the share predicted *at the candidate price* (not last step's realised share), so the
simulated path is the theory's noise-free best-response path, step by step.
"""

from __future__ import annotations

import numpy as np
import pytest

from . import theory as T
from .cases import run_prices

BASE_COST = 0.4
#: name -> (alpha, unit_cost_extra per firm, price_adjust, start price)
CASES = {
    "symmetric duopoly": (2.0, (0.0, 0.0), 0.3, 1.0),
    "symmetric four": (3.0, (0.0, 0.0, 0.0, 0.0), 0.5, 1.0),
    "asymmetric three": (2.0, (0.0, 0.2, 0.5), 0.3, 1.0),
    "asymmetric duopoly": (4.0, (0.0, 0.4), 0.3, 2.0),
}
N = 50_000
STEPS = 40
TAIL = 10  # last steps compared with the equilibrium
_RUNS: dict = {}


def price_run(name):
    if name not in _RUNS:
        alpha, extras, lam, p0 = CASES[name]
        _RUNS[name] = run_prices(alpha, extras, lam, N, STEPS, p0, BASE_COST, seed=3)
    return _RUNS[name]


@pytest.mark.parametrize("name", CASES)
def test_equilibrium_solvers_agree(name):
    alpha, extras, _, _ = CASES[name]
    costs = BASE_COST + np.asarray(extras)
    by_profit = T.nash_by_best_responses(alpha, costs)
    by_foc = T.nash_by_fixed_point(alpha, costs)
    np.testing.assert_allclose(by_profit, by_foc, atol=1e-6)
    if not any(extras):
        np.testing.assert_allclose(by_foc - costs, T.symmetric_markup(alpha, len(costs)), atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_unit_cost_output_is_the_configured_cost(name):
    run = price_run(name)
    np.testing.assert_allclose(run.unit_cost, np.broadcast_to(run.costs, run.unit_cost.shape), atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_prices_converge_to_nash(name):
    run = price_run(name)
    nash = T.nash_by_fixed_point(run.alpha, run.costs)
    transient = np.abs(T.adjustment_path(run.alpha, run.costs, run.p0, run.lam, STEPS)[-TAIL:] - nash)
    assert transient[-1].max() < 0.01, "the theory's path is close to Nash by the end"
    assert np.all(np.abs(run.price[-TAIL:] - nash) <= transient + 1e-6)


@pytest.mark.parametrize("name", CASES)
def test_price_path_follows_best_response_dynamics(name):
    """The whole path: the theory's best-response recurrence, firm after firm, to rounding."""
    run = price_run(name)
    path = T.adjustment_path(run.alpha, run.costs, run.p0, run.lam, STEPS)
    np.testing.assert_allclose(run.price, path, atol=1e-8)


@pytest.mark.parametrize("lam", [0.6, 0.75, 1.0])
def test_no_cobweb_for_any_adjustment(lam):
    """The old rule (target from last step's share) cycled above price_adjust 2/3 in a duopoly; the
    rule that solves the first-order condition at the candidate price converges for every lambda."""
    alpha = 2.0
    nash = np.full(2, BASE_COST + T.symmetric_markup(alpha, 2))
    run = run_prices(alpha, (0.0, 0.0), lam, 20_000, STEPS, 1.0, BASE_COST, seed=5)
    np.testing.assert_allclose(run.price[-TAIL:], np.broadcast_to(nash, (TAIL, 2)), atol=1e-6)
    moves = np.abs(np.diff(run.price, axis=0))
    assert np.all(moves[5:] <= moves[4:-1] + 1e-9), "each step moves less than the one before"
