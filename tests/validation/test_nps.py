"""Validation 6: NPS = % promoters (9-10) - % detractors (0-6) of the customers' scores, in [-100, 100].

Identity: after every step, the output ``nps`` equals the NPS recomputed from the
score array per provider, in the validation scenario, the baseline with every
mechanism on, and at the extremes. Distribution: with no state terms the score is
floor(level + noise T), T triangular on [-1, 1] (the sum of two uniforms minus 1),
so the expected NPS is known in closed form.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ALL_MECHANISMS

from . import theory as T
from .cases import run_nps, run_nps_identity

N = 50_000
STEPS = 5
#: (rec_offset, rec_noise): score level = rec_offset + 0.5
LEVELS = [(2.0, 3.5), (7.0, 3.5), (8.5, 3.5), (6.0, 1.0), (8.7, 0.0)]


@pytest.mark.parametrize("overrides", [
    ["scenario=validation/nps", "customers.n=5000"],
    ["scenario=baseline", "customers.n=5000", *ALL_MECHANISMS],
    ["scenario=disruptor", "customers.n=5000", "firms.disruptor.enter_step=2"],
], ids=["validation-nps", "baseline-all-mechanisms", "disruptor-entry"])
def test_nps_is_promoters_minus_detractors(overrides):
    out, recomputed = run_nps_identity(overrides, steps=8)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(recomputed))
    np.testing.assert_allclose(out[~np.isnan(out)], recomputed[~np.isnan(recomputed)], rtol=0, atol=1e-9)
    assert np.all(np.abs(out[~np.isnan(out)]) <= 100.0)


@pytest.mark.parametrize("offset,expected", [(10.0, 100.0), (-10.0, -100.0)])
def test_nps_reaches_its_bounds(offset, expected):
    nps, _ = run_nps(offset, 1.0, n=2000, steps=2)
    np.testing.assert_array_equal(nps, expected)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offset=st.floats(-10, 10), noise=st.floats(0, 10), w=st.floats(0, 1))
def test_nps_always_within_bounds(offset, noise, w):
    nps, _ = run_nps_identity(["scenario=validation/nps", "customers.n=500", f"market.rec_offset={offset}",
                               f"market.rec_noise={noise}", f"market.rec_satisfaction={w}",
                               f"market.rec_trust={w}", f"market.rec_engagement={w}"], steps=2)
    assert np.all((nps >= -100.0) & (nps <= 100.0))


@pytest.mark.parametrize("offset,noise", LEVELS)
def test_nps_matches_triangular_score(offset, noise):
    nps, customers = run_nps(offset, noise, n=N, steps=STEPS, seed=2)
    prom, det = T.nps_probabilities(offset + 0.5, noise)
    expected = 100.0 * (prom - det)
    sd = np.array([[T.nps_sigma(prom, det, int(c)) for c in row] for row in customers])
    if np.all(sd == 0):
        np.testing.assert_allclose(nps, expected, atol=1e-9)
        return
    z = (nps - expected) / sd
    assert np.max(np.abs(z)) < T.z_limit(nps.size), (nps, expected)
