"""The counter-based draws (sim.engine.rng): three twins give the same bits, and the bits look random."""

from __future__ import annotations

import numpy as np

from sim.engine import rng
from sim.engine.layout import R


def test_uniforms_match_reference_and_look_uniform():
    key = rng.step_key(12345, 7)
    u = rng.uniforms(np.uint64(key), 20000, R.CHOICE)
    py = np.array([rng.uniform(key, i, R.CHOICE) for i in range(200)])
    np.testing.assert_array_equal(u[:200], py)
    np.testing.assert_array_equal(u, rng.draw(key, np.arange(20000), R.CHOICE))  # the NumPy twin
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01
    hist = np.histogram(u, bins=10, range=(0, 1))[0]
    assert hist.min() > 1800
    # different streams and keys give different numbers
    assert not np.array_equal(u, rng.uniforms(np.uint64(key), 20000, R.REVIEW))
    assert not np.array_equal(u, rng.uniforms(np.uint64(rng.step_key(12345, 8)), 20000, R.CHOICE))


def test_stream_keys_match_python():
    key = rng.step_key(7, 3)
    np.testing.assert_array_equal(rng.stream_keys(np.uint64(key)),
                                  [rng.stream_key(key, s) for s in range(rng.N_STREAMS)])


def test_draws_are_24_bit_and_independent_across_streams_and_customers():
    """The 32-bit hash must not tie a customer's streams, or neighbours, together."""
    key, n = rng.step_key(2024, 11), 200_000
    u = np.array([rng.uniforms(np.uint64(key), n, s) for s in range(rng.N_STREAMS)])
    assert np.array_equal(u * 2.0 ** 24, np.floor(u * 2.0 ** 24))
    bound = 5.0 / np.sqrt(n)  # 5 standard errors of a correlation under independence
    corr = np.corrcoef(u)
    assert np.abs(corr[~np.eye(rng.N_STREAMS, dtype=bool)]).max() < bound
    assert all(abs(np.corrcoef(u[s, :-1], u[s, 1:])[0, 1]) < bound for s in range(rng.N_STREAMS))
    for a, b in ((R.CONTACT, R.WANT_HUMAN), (R.REVIEW, R.CHOICE), (R.SCORE, R.SCORE2)):
        h = np.histogram2d(u[a], u[b], bins=10, range=[[0, 1], [0, 1]])[0]
        chi2 = ((h - n / 100) ** 2 / (n / 100)).sum()
        assert chi2 < 99 + 5 * np.sqrt(2 * 99), (a, b, chi2)


def test_threshold_decides_draws_exactly():
    """``m < threshold(p)`` is exactly ``m 2**-24 < p``, for every 24-bit m near the bound."""
    for p in (0.0, 1e-9, 0.3, 0.5, 1 / 3, 0.999999, 1.0, 1.5, -0.2):
        t = rng.threshold(p)
        ms = np.arange(max(0, int(t) - 3), min(1 << 24, int(t) + 3))
        assert np.array_equal(ms < t, ms * 2.0 ** -24 < p), p
