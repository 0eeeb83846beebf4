"""Shared fixtures: small composed configs and models."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("NUMBA_NUM_THREADS", "2")

from sim.configure import compose_config  # noqa: E402
from sim.model import CustomerModel  # noqa: E402

#: Overrides that switch on every mechanism for kernel comparisons.
ALL_MECHANISMS = [
    "firms.neither.steering=soft", "firms.neither.steering_strength=0.7",
    "firms.digital_only.steering=hard", "firms.digital_only.steering_strength=0.8",
    "firms.both.personalisation=0.4", "firms.both.intervention=[0.02,0.01,0.03]",
    "firms.human_only.intervention=[0.0,0.05,0.0]", "firms.human_only.human_capacity=0.7",
    "market.adoption.innovation=0.05", "market.adoption.imitation=0.2",
    "market.shock.start=2", "market.shock.end=4",
]


@pytest.fixture(scope="session")
def small_cfg():
    """The baseline scenario with 3,000 customers and 12 steps."""
    return compose_config(["scenario=baseline", "customers.n=3000", "steps=12"])


def make_model(overrides=(), n=2000, steps=12, seed=0) -> CustomerModel:
    cfg = compose_config(["scenario=baseline", f"customers.n={n}", f"steps={steps}", f"seed={seed}", *overrides])
    return CustomerModel(cfg)


def step_inputs(model, step):
    """Run a step's market and firm phases and fill the kernel inputs; return the step key."""
    import numpy as np

    from sim import kernels as K

    model._update_market()
    model.firms.do("decide")
    model._set_mean_price()
    model._fill_kernel_inputs()
    return np.uint64(K.step_key(model.cfg.seed, step))
