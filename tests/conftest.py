"""Shared fixtures: small composed configs and models."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("NUMBA_NUM_THREADS", "2")

from sim.configure import compose_config  # noqa: E402
from sim.model import CustomerModel  # noqa: E402
from sim.yardsticks import all_mechanisms  # noqa: E402

#: Every customer mechanism on, with a shock in steps 2 and 3 (one list for tests and benchmarks).
ALL_MECHANISMS = all_mechanisms(shock_start=2, shock_end=4)


@pytest.fixture(scope="session")
def small_cfg():
    """The baseline scenario with 3,000 customers and 12 steps."""
    return compose_config(["scenario=baseline", "customers.n=3000", "steps=12"])


def make_model(overrides=(), n=2000, steps=12, seed=0) -> CustomerModel:
    cfg = compose_config(["scenario=baseline", f"customers.n={n}", f"steps={steps}", f"seed={seed}", *overrides])
    return CustomerModel(cfg)


def step_inputs(model, step):
    """Phases 1-4 of ``step`` and the kernel's inputs (``model.prepare_step``); returns the step key."""
    import numpy as np

    return np.uint64(model.prepare_step(step))


#: The small config the error tests start from.
ERROR_BASE = ["scenario=baseline", "customers.n=500", "steps=6"]


def error_of(overrides: list[str]) -> str:
    """The one-line ConfigError that composing ERROR_BASE + ``overrides`` raises (it must raise)."""
    from sim.config import ConfigError

    with pytest.raises(ConfigError) as info:
        compose_config([*ERROR_BASE, *overrides])
    msg = str(info.value)
    assert "\n" not in msg and msg.strip() == msg and msg, f"not one clean line: {msg!r}"
    assert "Traceback" not in msg and "full_key" not in msg and "object_type" not in msg
    return msg
