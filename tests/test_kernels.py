"""The Numba kernels against the plain reference in sim.reference, and their RNG."""

from __future__ import annotations

import numpy as np
import pytest

from sim import kernels as K
from sim import reference as R

from .conftest import ALL_MECHANISMS, make_model
from .conftest import step_inputs as _inputs


def _compare_step(model, step):
    key = _inputs(model, step)
    a, b = model.pop.copy(), model.pop.copy()
    K.customer_step(key, model.par, model.firm_cols, model.interv, a.traits, a.state, a.small,
                    a.provider, a.tenure, model.bounds, model.tally, model.seg_tally)
    tally, seg = R.customer_step(key, model.par, model.firm_cols, model.interv, b.traits, b.state,
                                 b.small, b.provider, b.tenure, len(model.segment_names))
    np.testing.assert_array_equal(a.provider, b.provider)
    np.testing.assert_array_equal(a.tenure, b.tenure)
    np.testing.assert_array_equal(a.small, b.small)
    np.testing.assert_array_equal(a.state, b.state)
    np.testing.assert_allclose(model.tally.sum(axis=0), tally, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(model.seg_tally.sum(axis=0), seg, rtol=1e-12, atol=1e-9)
    return a


@pytest.mark.parametrize("overrides", [[], ALL_MECHANISMS], ids=["default", "all_mechanisms"])
def test_customer_step_matches_reference(overrides):
    model = make_model(overrides, n=1500)
    for t in range(1, 5):
        model.steps = t
        model.pop = _compare_step(model, t)


def test_customer_step_matches_reference_with_segments_interleaved():
    """Populations are built segment by segment, and the kernel sums a one-segment block in
    registers; a shuffled population sends every block through the general path."""
    from sim.state import Population

    model = make_model(ALL_MECHANISMS, n=1500)
    perm = np.random.default_rng(5).permutation(model.n)
    p = model.pop
    model.pop = Population(p.traits[:, perm].copy(), p.state[:, perm].copy(), p.small[:, perm].copy(),
                           p.provider[perm].copy(), p.tenure[perm].copy())
    for t in range(1, 3):
        model.steps = t
        model.pop = _compare_step(model, t)


def test_reference_with_orphans_and_a_dead_firm():
    model = make_model(ALL_MECHANISMS, n=1200)
    model.firm_list[1].alive = False
    model.pop.provider[model.pop.provider == 1] = K.NO_FIRM
    model.pop.provider[::7] = K.NO_FIRM
    model.steps = 1
    out = _compare_step(model, 1)
    assert not np.any(out.provider == 1)
    assert not np.any(out.provider == K.NO_FIRM)


def test_no_alive_firm_leaves_customers_unassigned():
    model = make_model(n=500)
    for f in model.firm_list:
        f.alive = False
    model.pop.provider[:] = K.NO_FIRM
    model.steps = 1
    out = _compare_step(model, 1)
    assert np.all(out.provider == K.NO_FIRM)


def test_assign_orphans_matches_reference():
    model = make_model(n=1000)
    key = np.uint64(K.step_key(3, -1))
    a, b = model.pop.copy(), model.pop.copy()
    a.provider[:] = K.NO_FIRM
    b.provider[:] = K.NO_FIRM
    K.assign_orphans(key, model.par, model.firm_cols, a.traits, a.state, a.small, a.provider, model.bounds)
    R.assign_orphans(key, model.par, model.firm_cols, b.traits, b.state, b.small, b.provider)
    np.testing.assert_array_equal(a.provider, b.provider)


def test_uniforms_match_reference_and_look_uniform():
    key = K.step_key(12345, 7)
    u = K.uniforms(np.uint64(key), 20000, K.R_CHOICE)
    ref = np.array([R.uniform(key, i, K.R_CHOICE) for i in range(200)])
    np.testing.assert_array_equal(u[:200], ref)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01
    hist = np.histogram(u, bins=10, range=(0, 1))[0]
    assert hist.min() > 1800
    # different streams and keys give different numbers
    assert not np.array_equal(u, K.uniforms(np.uint64(key), 20000, K.R_REVIEW))
    assert not np.array_equal(u, K.uniforms(np.uint64(K.step_key(12345, 8)), 20000, K.R_CHOICE))


def test_stream_keys_match_python():
    key = K.step_key(7, 3)
    np.testing.assert_array_equal(K._stream_keys(np.uint64(key)),
                                  [K.stream_key(key, s) for s in range(K.N_STREAMS)])


def test_draws_are_24_bit_and_independent_across_streams_and_customers():
    """The 32-bit hash must not tie a customer's streams, or neighbours, together."""
    key, n = K.step_key(2024, 11), 200_000
    u = np.array([K.uniforms(np.uint64(key), n, s) for s in range(K.N_STREAMS)])
    assert np.array_equal(u * 2.0 ** 24, np.floor(u * 2.0 ** 24))
    bound = 5.0 / np.sqrt(n)  # 5 standard errors of a correlation under independence
    corr = np.corrcoef(u)
    assert np.abs(corr[~np.eye(K.N_STREAMS, dtype=bool)]).max() < bound
    assert all(abs(np.corrcoef(u[s, :-1], u[s, 1:])[0, 1]) < bound for s in range(K.N_STREAMS))
    for a, b in ((K.R_CONTACT, K.R_WANT_HUMAN), (K.R_REVIEW, K.R_CHOICE), (K.R_SCORE, K.R_SCORE2)):
        h = np.histogram2d(u[a], u[b], bins=10, range=[[0, 1], [0, 1]])[0]
        chi2 = ((h - n / 100) ** 2 / (n / 100)).sum()
        assert chi2 < 99 + 5 * np.sqrt(2 * 99), (a, b, chi2)


def test_review_bound_estimate_is_well_inside_its_margin():
    """The vectorised pass decides a review without ``exp`` only outside a 3% band around an
    estimate of the hazard; the estimate must be far more accurate than that, for every a
    the configuration allows (k_tau + k_e <= 40)."""
    a = np.linspace(0.0, 40.0, 200_001).astype(np.float32)
    est = np.array([K._exp_neg(x) for x in a[::50]])
    exact = np.exp(-a[::50].astype(np.float64))
    assert np.max(np.abs(est / exact - 1.0)) < K.REVIEW_MARGIN / 10


def test_chunk_bounds_cover_population():
    for n in (1, 7, 8192, 8193, 100_000):
        b = K.chunk_bounds(n)
        assert b[0] == 0 and b[-1] == n and np.all(np.diff(b) > 0)


def test_every_kernel_has_a_reference():
    """A numba kernel added without a reference twin fails here."""
    kernels = {name for name in dir(K) if hasattr(getattr(K, name), "py_func")
               and not name.startswith("_") and name != "uniforms"}
    missing = {name for name in kernels if not hasattr(R, name)}
    assert not missing, f"kernels without a reference: {missing}"
