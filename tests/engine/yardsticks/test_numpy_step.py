"""The NumPy yardstick (sim.engine.yardsticks.numpy_step) against the Numba kernel, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import rng
from sim.engine.layout import NO_FIRM, R
from sim.engine.yardsticks import numpy_step as V
from tests.conftest import ALL_MECHANISMS, compare_with_kernel, make_model


def _compare_step(model, step):
    return compare_with_kernel(model, step, V.customer_step, rtol=1e-9)


@pytest.mark.parametrize("overrides", [[], ALL_MECHANISMS], ids=["default", "all_mechanisms"])
def test_numpy_step_matches_kernel(overrides):
    model = make_model(overrides, n=5000)
    for t in range(1, 6):
        model.pop = _compare_step(model, t)


def test_numpy_step_with_orphans_and_a_dead_firm():
    model = make_model(ALL_MECHANISMS, n=3000)
    model.firm_list[1].alive = False
    model.pop.provider[model.pop.provider == 1] = NO_FIRM
    model.pop.provider[::7] = NO_FIRM
    outside = np.count_nonzero(model.pop.provider == NO_FIRM)
    out = _compare_step(model, 1)
    assert not np.any(out.provider == 1)
    assert 0 < np.count_nonzero(out.provider == NO_FIRM) < outside


def test_numpy_step_without_alive_firms():
    model = make_model(n=500)
    for f in model.firm_list:
        f.alive = False
    model.pop.provider[:] = NO_FIRM
    out = _compare_step(model, 1)
    assert np.all(out.provider == NO_FIRM)


@pytest.mark.parametrize("stream", [R.ADOPT, R.CHOICE, R.SCORE2])
def test_numpy_uniforms_have_the_kernel_bits(stream):
    key = rng.step_key(2024, 5)
    np.testing.assert_array_equal(V.uniforms(key, 10_000, stream), rng.uniforms(np.uint64(key), 10_000, stream))
