"""The NumPy yardstick (sim.yardsticks.numpy_step) against the Numba kernel, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from sim import kernels as K
from sim import rng
from sim.layout import NO_FIRM, R
from sim.yardsticks import numpy_step as V

from ..conftest import ALL_MECHANISMS, make_model
from ..conftest import step_inputs as _inputs


def _compare_step(model, step):
    """One step by the kernel and by NumPy from the same state: states equal, tallies close."""
    key = _inputs(model, step)
    a, b = model.pop.copy(), model.pop.copy()
    K.customer_step(key, model.par, model.firm_cols, model.interv, a.traits, a.state, a.small,
                    a.provider, a.tenure, model.bounds, model.tally, model.seg_tally)
    tally, seg = V.customer_step(key, model.par, model.firm_cols, model.interv, b.traits, b.state,
                                 b.small, b.provider, b.tenure, len(model.segment_names))
    np.testing.assert_array_equal(b.provider, a.provider)
    np.testing.assert_array_equal(b.tenure, a.tenure)
    np.testing.assert_array_equal(b.small, a.small)
    np.testing.assert_array_equal(b.state, a.state)
    np.testing.assert_allclose(tally, model.tally.sum(axis=0), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(seg, model.seg_tally.sum(axis=0), rtol=1e-9, atol=1e-9)
    return a


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
    out = _compare_step(model, 1)
    assert not np.any(out.provider == 1)
    assert not np.any(out.provider == NO_FIRM)


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
