"""Shared fixtures: small composed configs and models."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("NUMBA_NUM_THREADS", "2")

from sim.engine.yardsticks import all_mechanisms  # noqa: E402
from sim.model import CustomerModel  # noqa: E402
from sim.settings.compose import compose_config  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Tests marked ``timing`` assert a wall-clock bound: skipped under ``CI=true``, where a shared,
    busy machine would fail them for reasons that are not the code's (speed is measured in benchmarks/)."""
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    skip = pytest.mark.skip(reason="a wall-clock bound; skipped under CI=true (see benchmarks/ for speed)")
    for item in items:
        if "timing" in item.keywords:
            item.add_marker(skip)


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
    from sim.settings.schema import ConfigError

    with pytest.raises(ConfigError) as info:
        compose_config([*ERROR_BASE, *overrides])
    msg = str(info.value)
    assert "\n" not in msg and msg.strip() == msg and msg, f"not one clean line: {msg!r}"
    assert "Traceback" not in msg and "full_key" not in msg and "object_type" not in msg
    return msg


def compare_with_kernel(model, step, twin_step, rtol: float):
    """Run step ``step``'s customer phase by the kernel and by ``twin_step`` (the reference's or the
    NumPy yardstick's ``customer_step``) from the same state: states equal bit for bit, tallies within
    ``rtol`` (their summation order differs). Returns the kernel's new population."""
    import numpy as np

    from sim.engine import kernels as K

    key = step_inputs(model, step)
    a, b = model.pop.copy(), model.pop.copy()
    K.customer_step(key, model.par, model.firm_cols, model.interv, a.traits, a.state, a.small,
                    a.provider, a.tenure, model.bounds, model.tally, model.seg_tally)
    tally, seg = twin_step(key, model.par, model.firm_cols, model.interv, b.traits, b.state,
                           b.small, b.provider, b.tenure, len(model.segment_names))
    for x, y in ((a.provider, b.provider), (a.tenure, b.tenure), (a.small, b.small), (a.state, b.state)):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_allclose(model.tally.sum(axis=0), tally, rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(model.seg_tally.sum(axis=0), seg, rtol=rtol, atol=1e-9)
    return a
