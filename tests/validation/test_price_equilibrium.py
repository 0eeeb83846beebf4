"""Validation 2: Nash prices converge to the logit Bertrand-Nash equilibrium: for one price
sensitivity (p_j = c_j + 1 / (alpha (1 - s_j))), along the rule's own path step by step, for any
``price_adjust`` in (0, 1]; and for Gamma-distributed price sensitivities (a random-coefficients logit)
to the equilibrium computed independently over a large sample and cross-checked with pyblp.

The theory is computed in the test: by iterated numerical profit maximisation (no formula), by the
fixed point of the first-order conditions, and by pyblp, the standard BLP library (a test-only
dependency). The rule aims at p = c + S / D, S and D the firm's estimates of the demand of the
customers who choose and of its slope; here every customer chooses every step.
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
STEPS = 60
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
    np.testing.assert_allclose(T.rc_logit_nash(np.full(200, alpha), costs), by_foc, atol=1e-9)
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
    np.testing.assert_allclose(run.price[-TAIL:], np.broadcast_to(nash, (TAIL, nash.size)), rtol=2e-3)


@pytest.mark.parametrize("name", CASES)
def test_price_path_follows_the_rule(name):
    """The whole path: the rule's recurrence (best responses at step 1, then the moving estimates of
    demand and slope), firm after firm, to rounding."""
    run = price_run(name)
    path = T.nash_rule_path(run.alpha, run.costs, run.p0, run.lam, run.mu, STEPS)
    np.testing.assert_allclose(run.price, path, atol=1e-8)


@pytest.mark.parametrize("lam", [0.6, 1.0])
def test_no_cobweb_for_any_adjustment(lam):
    alpha = 2.0
    nash = np.full(2, BASE_COST + T.symmetric_markup(alpha, 2))
    run = run_prices(alpha, (0.0, 0.0), lam, 20_000, 80, 1.0, BASE_COST, seed=5)
    np.testing.assert_allclose(run.price[-TAIL:], np.broadcast_to(nash, (TAIL, 2)), rtol=1e-4)


# ------------------------------------------------------- random coefficients: Gamma price sensitivity
RC = {"alpha": 2.0, "cv": 0.5, "extras": (0.0, 0.2, 0.5)}


@pytest.fixture(scope="module")
def rc_run():
    return run_prices(RC["alpha"], RC["extras"], 0.5, N, 80, 1.0, BASE_COST, seed=7, cv=RC["cv"])


def test_the_rc_equilibrium_solver_agrees_with_pyblp():
    pytest.importorskip("pyblp")
    alphas = T.gamma_sample(RC["alpha"], RC["cv"], 20_000, seed=11)
    costs = BASE_COST + np.asarray(RC["extras"])
    np.testing.assert_allclose(T.rc_logit_nash(alphas, costs), T.rc_logit_nash_pyblp(alphas, costs), rtol=1e-8)


def test_rc_prices_converge_to_the_random_coefficients_equilibrium(rc_run):
    """With Gamma-distributed price sensitivity the simulated prices equal, within 1%, the Nash prices
    of the random-coefficients logit computed over an independent sample of a million customers; the
    homogeneous formula with the mean sensitivity would be off by more."""
    costs = BASE_COST + np.asarray(RC["extras"])
    theory = T.rc_logit_nash(T.gamma_sample(RC["alpha"], RC["cv"], 1_000_000, seed=12), costs)
    tail = rc_run.price[-TAIL:]
    np.testing.assert_allclose(tail, np.broadcast_to(theory, tail.shape), rtol=0.01)
    own_sample = T.rc_logit_nash(rc_run.alphas, costs)
    np.testing.assert_allclose(tail[-1], own_sample, rtol=2e-3)
    homogeneous = T.nash_by_fixed_point(RC["alpha"], costs)
    assert np.abs(homogeneous / theory - 1).max() > 0.02
