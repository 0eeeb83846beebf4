"""Validation 2: best_response prices converge to the logit Bertrand-Nash equilibrium.

The equilibrium is computed in the test twice: by iterated numerical profit
maximisation (no formula) and by fixed-point iteration of the first-order condition
p_j = c_j + 1 / (alpha (1 - s_j)). Tolerances come from the stationary price noise
that multinomial share sampling of N customers causes (a discrete Lyapunov equation).
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
    sd = np.sqrt(np.diag(T.price_noise_cov(run.alpha, nash, run.lam, N)))
    path = T.adjustment_path(run.alpha, run.costs, run.p0, run.lam, STEPS, run.shares0)
    transient = np.abs(path[-TAIL:] - nash)  # what is left of the start, noise-free
    dev = np.abs(run.price[-TAIL:] - nash)
    limit = T.z_limit(TAIL * len(nash)) * sd + transient
    assert np.all(dev < limit), (run.price[-1], nash, dev.max(axis=0), sd)


@pytest.mark.parametrize("name", CASES)
def test_price_path_follows_adjustment_dynamics(name):
    """The whole path: the noise-free recurrence +- the sampling noise propagated along it."""
    run = price_run(name)
    path = T.adjustment_path(run.alpha, run.costs, run.p0, run.lam, STEPS, run.shares0)
    var = T.adjustment_path_var(run.alpha, path, run.lam, N)
    z = (run.price - path)[1:] / np.sqrt(var[1:])
    assert np.max(np.abs(z)) < T.z_limit(z.size), np.max(np.abs(z))


def test_adjustment_stability_bound():
    """Linear theory: symmetric duopoly partial adjustment is stable iff price_adjust < 2/3.

    Below the bound the model's prices settle at the equilibrium; above it they run
    away into a two-step cycle, as the eigenvalue 1 - 3 lambda < -1 predicts.
    """
    alpha, nash = 2.0, np.full(2, BASE_COST + T.symmetric_markup(2.0, 2))
    radius = {lam: np.max(np.abs(np.linalg.eigvals(T.adjustment_jacobian(alpha, nash, lam)[0])))
              for lam in (0.6, 0.75)}
    assert radius[0.6] < 1.0 < radius[0.75]
    stable = run_prices(alpha, (0.0, 0.0), 0.6, N, STEPS, 1.0, BASE_COST, seed=5)
    sd = np.sqrt(np.diag(T.price_noise_cov(alpha, nash, 0.6, N)))
    path = T.adjustment_path(alpha, stable.costs, stable.p0, 0.6, STEPS, stable.shares0)
    transient = np.abs(path[-TAIL:] - nash)
    assert np.all(np.abs(stable.price[-TAIL:] - nash) < T.z_limit(2 * TAIL) * sd + transient)
    unstable = run_prices(alpha, (0.0, 0.0), 0.75, N, STEPS, 1.0, BASE_COST, seed=5)
    assert np.all(np.abs(unstable.price[-TAIL:] - nash).max(axis=1) > 100 * sd.max())
    moves = np.sign(np.diff(unstable.price[-TAIL:], axis=0))
    assert np.all(moves[:, 0] * moves[:, 1] < 0)  # the two prices move in opposite directions
    assert np.all(moves[1:] * moves[:-1] < 0)  # and flip every step: a two-step cycle
