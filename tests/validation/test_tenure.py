"""Validation 5: relationship durations under a constant and a trust-dependent hazard.

Constant hazard: each step a customer reviews with probability h; on review the logit
choice among F identical firms keeps the current one with probability
e^k / (e^k + F - 1) (inertia k), so relationships end with the per-step probability
h_eff = h (F - 1) / (e^k + F - 1): durations are geometric, survival (1 - h_eff)^t,
mean 1 / h_eff. Trust-dependent hazard: the Kaplan-Meier curve of the simulated
relationships matches the survival computed from the hazard model by an exact
dynamic programme over the number of (trust-raising) contacts.
"""

from __future__ import annotations

import numpy as np
import pytest

from . import theory as T
from .cases import run_tenure

N = 50_000
STEPS = 60
#: (review hazard h, inertia, identical firms)
CONSTANT = [(0.1, -100.0, 2), (0.05, 0.0, 3), (0.2, 1.0, 4)]
#: (h0, k_tau, tau0, trust_gain, human_expectation, contact rate): surprise 1 - human_expectation
TRUST = [(0.3, 3.0, 0.1, 0.3, 0.5, 0.5), (0.2, 5.0, 0.0, 0.2, 0.0, 1.0), (0.5, 2.0, 0.3, 0.1, 0.0, 0.3)]
_RUNS: dict = {}


def constant_run(case):
    if case not in _RUNS:
        h, inertia, firms = case
        _RUNS[case] = run_tenure("tenure", [f"market.review_hazard={h}", f"market.inertia={inertia}"],
                                 N, STEPS, seed=9, n_firms=firms)
    return _RUNS[case]


def trust_run(case):
    if case not in _RUNS:
        h0, k, tau0, gain, hum_exp, contact = case
        _RUNS[case] = run_tenure("tenure_trust", [
            f"market.review_hazard={h0}", f"market.hazard_trust={k}", f"market.trust_init={tau0}",
            f"market.trust_gain={gain}", f"market.human_expectation={hum_exp}",
            f"market.contact_rate={contact}"], N, STEPS, seed=9)
    return _RUNS[case]


def effective_hazard(case):
    h, inertia, firms = case
    return h * T.switch_probability_on_review(firms, inertia)


@pytest.mark.parametrize("case", CONSTANT)
def test_constant_hazard_rate(case):
    """Events / exposure estimates h_eff; every at-risk step is an independent Bernoulli(h_eff)."""
    run = constant_run(case)
    h = effective_hazard(case)
    exposure = run.at_risk.sum()
    estimate = run.events.sum() / exposure
    assert abs(estimate - h) < T.z_limit() * np.sqrt(h * (1 - h) / exposure), (estimate, h)


@pytest.mark.parametrize("case", CONSTANT)
def test_kaplan_meier_is_geometric(case):
    run = constant_run(case)
    h = effective_hazard(case)
    k = np.arange(STEPS + 1)
    km = T.kaplan_meier(run.at_risk, run.events)
    theory = T.geometric_survival(h, k)
    sd = T.greenwood_sigma(theory, np.full(STEPS + 1, h), run.at_risk)
    z = (km[1:] - theory[1:]) / sd[1:]
    assert np.max(np.abs(z)) < T.z_limit(STEPS), np.abs(z).max()


@pytest.mark.parametrize("case", CONSTANT)
def test_tenure_and_churn_outputs(case):
    """Output ``tenure`` tends to 1/h_eff as (1 - (1 - h_eff)^t)/h_eff; output ``churn`` is h_eff."""
    run = constant_run(case)
    h = effective_hazard(case)
    assert run.tenure_array_ok
    moments = [T.tenure_moments(h, t) for t in range(1, STEPS + 1)]
    mean = np.array([m for m, _ in moments])
    sd = np.sqrt(np.array([v for _, v in moments]) / N)
    assert run.tenure[0] == 1.0  # everybody has had their provider for exactly one step
    assert np.max(np.abs(run.tenure[1:] - mean[1:]) / sd[1:]) < T.z_limit(STEPS - 1)
    z = (run.churn - h) / np.sqrt(h * (1 - h) / N)
    assert np.max(np.abs(z)) < T.z_limit(STEPS)


def survival_theory(case):
    h0, k, tau0, gain, hum_exp, contact = case
    surprise = min(1.0 - hum_exp, 1.0)
    return T.trust_hazard_survival(h0, k, T.switch_probability_on_review(2, -100.0), contact,
                                   gain * surprise, tau0, STEPS)


@pytest.mark.parametrize("case", TRUST)
def test_kaplan_meier_matches_trust_hazard(case):
    run = trust_run(case)
    assert run.tenure_array_ok
    surv, haz = survival_theory(case)
    km = T.kaplan_meier(run.at_risk, run.events)
    sd = T.greenwood_sigma(surv, haz, run.at_risk)
    z = (km[1:] - surv[1:]) / sd[1:]
    assert np.max(np.abs(z)) < T.z_limit(STEPS), (np.abs(z).max(), int(np.argmax(np.abs(z))) + 1)


@pytest.mark.parametrize("case", TRUST)
def test_trust_dependent_hazard_is_not_constant(case):
    """Power check: a constant hazard with the first step's rate misses the KM curve by far."""
    run = trust_run(case)
    surv, haz = survival_theory(case)
    km = T.kaplan_meier(run.at_risk, run.events)
    flat = T.geometric_survival(haz[1], np.arange(STEPS + 1))
    sd = T.greenwood_sigma(surv, haz, run.at_risk)
    assert np.max(np.abs(km[1:] - flat[1:]) / sd[1:]) > 3 * T.z_limit(STEPS)
