"""The Numba kernels against the plain reference in sim.reference (bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import kernels as K
from sim import reference as ref
from sim import rng
from sim.layout import NO_FIRM, F, P

from .conftest import ALL_MECHANISMS, compare_with_kernel, make_model


def _compare_step(model, step):
    return compare_with_kernel(model, step, ref.customer_step, rtol=1e-12)


@pytest.mark.parametrize("overrides", [[], ALL_MECHANISMS], ids=["default", "all_mechanisms"])
def test_customer_step_matches_reference(overrides):
    model = make_model(overrides, n=1500)
    for t in range(1, 5):
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
        model.pop = _compare_step(model, t)


def test_reference_with_orphans_and_a_dead_firm():
    model = make_model(ALL_MECHANISMS, n=1200)
    model.firm_list[1].alive = False
    model.pop.provider[model.pop.provider == 1] = NO_FIRM
    model.pop.provider[::7] = NO_FIRM
    outside = np.count_nonzero(model.pop.provider == NO_FIRM)
    out = _compare_step(model, 1)
    assert not np.any(out.provider == 1), "nobody chooses a dead firm"
    # customers outside the market look around at the base hazard, and most who do come back
    assert 0 < np.count_nonzero(out.provider == NO_FIRM) < outside


def test_no_alive_firm_leaves_customers_unassigned():
    model = make_model(n=500)
    for f in model.firm_list:
        f.alive = False
    model.pop.provider[:] = NO_FIRM
    out = _compare_step(model, 1)
    assert np.all(out.provider == NO_FIRM)


@pytest.mark.parametrize("lost", [NO_FIRM, 2])
def test_assign_orphans_matches_reference(lost):
    """The initial assignment (everyone) and an exit (the customers of one firm) choose through the
    same code as a review, outside option included; a chosen firm's price becomes the reference."""
    model = make_model(n=1000)
    key = np.uint64(rng.step_key(3, -1))
    a, b = model.pop.copy(), model.pop.copy()
    if lost == NO_FIRM:
        a.provider[:] = NO_FIRM
        b.provider[:] = NO_FIRM
    chosen = a.provider == lost
    K.assign_orphans(key, model.par, model.firm_cols, a.traits, a.state, a.small, a.provider, model.bounds, lost)
    ref.assign_orphans(key, model.par, model.firm_cols, b.traits, b.state, b.small, b.provider, lost)
    np.testing.assert_array_equal(a.provider, b.provider)
    np.testing.assert_array_equal(a.state, b.state)
    assert np.array_equal(a.provider[~chosen], model.pop.provider[~chosen]), "the others keep theirs"


def test_review_bound_estimate_is_well_inside_its_margin():
    """The vectorised pass decides a review without ``exp`` only outside a 3% band around an
    estimate of the hazard; the estimate must be far more accurate than that, for every a
    the configuration allows (k_tau + k_e + k_f <= 60)."""
    a = np.linspace(0.0, 60.0, 300_001).astype(np.float32)
    est = np.array([K._exp_neg(x) for x in a[::50]])
    exact = np.exp(-a[::50].astype(np.float64))
    assert np.max(np.abs(est / exact - 1.0)) < K.REVIEW_MARGIN / 10


def test_chunk_bounds_cover_population():
    for n in (1, 7, 8192, 8193, 100_000):
        b = K.chunk_bounds(n)
        assert b[0] == 0 and b[-1] == n and np.all(np.diff(b) > 0)


#: Every public compiled function of the kernel modules and its plain twin (numbagg's pattern):
#: the tests above and tests/test_rng.py compare each pair.
TWINS = {
    "sim.kernels.customer_step": ref.customer_step,
    "sim.kernels.assign_orphans": ref.assign_orphans,
    "sim.rng.stream_keys": rng.stream_key,
    "sim.rng.uniforms": rng.uniform,
    "sim.rng.uniform_at": rng.uniform,
    "sim.rng.threshold": None,  # an exact integer bound: tested against every draw in test_rng.py
}


def test_every_kernel_has_a_reference():
    """A compiled function added without a twin (or a reason) fails here."""
    compiled = {f"{mod.__name__}.{name}" for mod in (K, rng) for name in dir(mod)
                if hasattr(getattr(mod, name), "py_func") and not name.startswith("_")
                and getattr(mod, name).py_func.__module__ == mod.__name__}
    compiled |= {f"{K.__name__}.{name}" for name in K.ENTRY_POINTS}  # Python, running compiled kernels
    assert compiled == set(TWINS), f"kernels without a twin: {compiled - set(TWINS)}"


# ------------------------------------------------------------- logit choice (hand-made edge cases)
def _firm_cols(prices: list[float], alive: list[bool] | None = None) -> np.ndarray:
    cols = np.zeros((len(prices), len(F)))
    cols[:, F.DIGITAL] = 0.5
    cols[:, F.HUMAN] = 0.5
    cols[:, F.PRICE] = prices
    cols[:, F.AVAILABILITY] = 1.0
    cols[:, F.ALIVE] = 1.0 if alive is None else np.asarray(alive, float)
    return cols


def _choose(cols, alpha, r, current=NO_FIRM, outside=-1e9):
    par = np.zeros(len(P))
    par[P.EXPECTATION] = 0.5
    par[P.EXCLUSION_QUALITY] = 1.0
    par[P.OUTSIDE_UTILITY] = outside
    ft = K._firm_table(par, cols, np.zeros((cols.shape[0], 0)))
    return K._choose(cols, ft, current, 0, 1, 0.5, 0.5, alpha, par, r, np.empty(cols.shape[0]))


def test_logit_choice_is_max_subtracted():
    # utilities around -1e6 and -1e6 + 1000: exp() of them underflows to 0 without max subtraction
    cols = _firm_cols([1000.0, 999.0, 1000.0])
    for r in (0.0, 0.3, 0.999999):
        assert _choose(cols, 1000.0, r) == 1
    # equal, enormous utilities split evenly
    cols = _firm_cols([1000.0, 1000.0])
    assert _choose(cols, 1e3, 0.49) == 0 and _choose(cols, 1e3, 0.51) == 1
    # dead firms are never chosen, whatever their utility
    cols = _firm_cols([1e-6, 1000.0, 1000.0], alive=[False, True, True])
    assert {_choose(cols, 10.0, r) for r in np.linspace(0, 0.999, 50)} == {1, 2}


def test_logit_choice_matches_softmax_probabilities():
    prices = [1.0, 1.2, 0.9, 1.5]
    cols = _firm_cols(prices)
    alpha = 3.0
    u = -alpha * np.asarray(prices)  # the other utility terms are equal across these firms
    p = np.exp(u - u.max())
    p /= p.sum()
    rs = (np.arange(20000) + 0.5) / 20000
    picks = np.bincount([_choose(cols, alpha, r) for r in rs], minlength=4) / rs.size
    np.testing.assert_allclose(picks, p, atol=1e-4)


def test_outside_option_takes_its_logit_share_and_is_chosen_when_no_firm_is_alive():
    prices = [1.0, 1.0]
    cols = _firm_cols(prices)
    alpha = 2.0
    u_firm = 0.5 * 0.5 * 0.5 * 0.0 - alpha * 1.0  # the other utility terms are zero in this market
    ft = K._firm_table(np.zeros(len(P)), cols, np.zeros((2, 0)))
    rs = (np.arange(20000) + 0.5) / 20000
    picks = np.array([_choose(cols, alpha, r, outside=-1.0) for r in rs])
    v = np.array([ref.utility(cols, m, NO_FIRM, 0, 1, 0.5, 0.5, alpha, _par(-1.0)) for m in (0, 1)])
    p_out = np.exp(-1.0) / (np.exp(-1.0) + np.exp(v).sum())
    assert abs(np.mean(picks == NO_FIRM) - p_out) < 1e-3
    assert ft.shape[0] == 3 and u_firm < 0
    cols[:, F.ALIVE] = 0.0
    assert {_choose(cols, alpha, r, outside=-50.0) for r in (0.0, 0.5, 0.999)} == {NO_FIRM}


def _par(outside):
    par = np.zeros(len(P))
    par[P.EXPECTATION] = 0.5
    par[P.EXCLUSION_QUALITY] = 1.0
    par[P.OUTSIDE_UTILITY] = outside
    return par


def test_run_threads_runs_work_on_every_thread_and_raises_a_helper_threads_error():
    """run_threads calls ``work`` once on each of numba's threads and waits for all; an error in a
    helper thread is raised in the caller, after every thread has finished."""
    import threading

    import numba

    from sim.kernels import run_threads

    seen = []
    lock = threading.Lock()

    def work(tag):
        with lock:
            seen.append((tag, threading.current_thread().name))

    run_threads(work, "a")
    assert len(seen) == numba.get_num_threads()
    main = threading.current_thread().name

    def failing(tag):
        if threading.current_thread().name != main:
            raise ValueError(tag)

    if numba.get_num_threads() > 1:
        with pytest.raises(ValueError, match="boom"):
            run_threads(failing, "boom")


def test_run_threads_keeps_a_small_market_on_the_calling_thread():
    """With fewer chunks than ``CHUNKS_PER_THREAD`` per thread, only the calling thread works
    (starting a helper would cost more than it does); with many chunks, every thread does."""
    import threading

    import numba

    from sim.kernels import CHUNKS_PER_THREAD, run_threads

    seen = []
    lock = threading.Lock()

    def work(tag):
        with lock:
            seen.append(threading.current_thread().name)

    run_threads(work, "a", chunks=CHUNKS_PER_THREAD - 1)
    assert seen == [threading.current_thread().name]
    seen.clear()
    run_threads(work, "a", chunks=CHUNKS_PER_THREAD * numba.get_num_threads())
    assert len(seen) == numba.get_num_threads()
