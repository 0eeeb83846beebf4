"""The Numba kernels against the plain reference in sim.engine.reference (bit for bit)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

import sim
from sim.engine import choice, launch, rng, scalars, table, update
from sim.engine import kernels as K
from sim.engine import reference as ref
from sim.engine.layout import NO_FIRM, F, P
from tests.conftest import ALL_MECHANISMS, compare_with_kernel, make_model


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
    from sim.engine.state import Population

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
    est = np.array([scalars.exp_neg(x) for x in a[::50]])
    exact = np.exp(-a[::50].astype(np.float64))
    assert np.max(np.abs(est / exact - 1.0)) < update.REVIEW_MARGIN / 10


def test_chunk_bounds_cover_population():
    for n in (1, 7, 8192, 8193, 100_000):
        b = K.chunk_bounds(n)
        assert b[0] == 0 and b[-1] == n and np.all(np.diff(b) > 0)


#: Every compiled function of the engine and its plain twin (numbagg's pattern), or the public kernel
#: whose comparison with the reference covers it: the tests above and tests/engine/test_rng.py compare each.
TWINS = {
    "sim.engine.kernels.customer_step": ref.customer_step,
    "sim.engine.kernels.assign_orphans": ref.assign_orphans,
    "sim.engine.tally.record_rows": ref.record_rows,
    "sim.engine.choice.choose": ref.choose,
    "sim.engine.rng.stream_keys": rng.stream_key,
    "sim.engine.rng.uniforms": rng.uniform,
    "sim.engine.rng.uniform_at": rng.uniform,
    "sim.engine.rng.threshold": None,  # an exact integer bound: tested against every draw in test_rng.py
    "sim.engine.scalars.exp_neg": np.exp,  # an estimate: test_review_bound_estimate_is_well_inside_its_margin
    "sim.engine.scalars.gate": ref.gate,
    "sim.engine.scalars.digital_value": ref.digital_value,
    "sim.engine.scalars.human_value": ref.human_value,
    "sim.engine.scalars.emotion_weight": ref.emotion_weight,
    "sim.engine.scalars.satisfaction_target": ref.satisfaction_target,
    "sim.engine.choice.choice_weights": ref.choice_weights,
    "sim.engine.choice.pick": ref.pick,
}
#: Pieces of the customer step: covered by the kernel-against-reference comparisons of customer_step.
PIECES = {"sim.engine.table.digital_seen", "sim.engine.table.firm_table", "sim.engine.scalars.clip01_f32",
          "sim.engine.scalars.state_bits", "sim.engine.scalars.f32_at_least", "sim.engine.update.score_of",
          "sim.engine.update.update_pass", "sim.engine.update.review_pass", "sim.engine.passes.draw_pass",
          "sim.engine.passes.gather_pass", "sim.engine.passes.firm_draw_pass", "sim.engine.passes.store_pass",
          "sim.engine.passes.derived", "sim.engine.passes.chunk", "sim.engine.tally.tally_firm",
          "sim.engine.choice.tally_demand",
          "sim.engine.tally.tally_pass", "sim.engine.tally.finish_tally", "sim.engine.launch.launch_work",
          "sim.engine.launch.launch_orphans"}


def test_every_kernel_has_a_reference():
    """A compiled function added to the engine without a twin (or the kernel that covers it) fails here."""
    import importlib
    import pkgutil

    import sim.engine

    compiled = set()
    for info in pkgutil.iter_modules(sim.engine.__path__):
        mod = importlib.import_module(f"sim.engine.{info.name}")
        compiled |= {f"{mod.__name__}.{name}" for name in dir(mod)
                     if hasattr(getattr(mod, name), "py_func") and not name.startswith("_")
                     and getattr(mod, name).py_func.__module__ == mod.__name__}
    compiled |= {f"{K.__name__}.{name}" for name in K.ENTRY_POINTS}  # Python, running compiled kernels
    assert compiled == set(TWINS) | PIECES, f"kernels without a twin: {compiled - set(TWINS) - PIECES}"


_FINITE = st.floats(-2.0, 2.0, allow_nan=False)
_SCALE = st.floats(1e-3, 1e3, allow_nan=False)


@njit
def _values(x, gain, scale, slope, tol):
    return (scalars.digital_value(x, gain, scale), scalars.human_value(x, scale),
            scalars.emotion_weight(abs(x) / 2.0, scale),
            scalars.satisfaction_target(np.float32(x), np.float32(slope), np.float32(tol)))


@settings(max_examples=300, deadline=None)
@given(_FINITE, st.floats(0.0, 1.0), _SCALE, st.floats(0.0, 100.0), st.floats(0.0, 1.0))
def test_value_functions_equal_their_reference_twins(x, gain, scale, slope, tol):
    """The compiled value functions give the reference's numbers, bit for bit, over their whole ranges:
    V_d and V_h are increasing and concave, e(h) maps [0, 1] onto [0, 1], the satisfaction target is in (0, 1)."""
    vd, vh, ew, sat = _values(x, gain, scale, slope, tol)
    f = np.float32
    assert vd == ref.digital_value(x, gain, scale) and vh == ref.human_value(x, scale)
    assert ew == ref.emotion_weight(abs(x) / 2.0, scale)
    assert sat == ref.satisfaction_target(f(x), f(slope), f(tol)) and 0.0 <= sat <= 1.0
    assert ref.digital_value(x + 1e-3, gain, scale) >= vd and ref.human_value(x + 1e-3, scale) >= vh
    assert 0.0 <= ew <= 1.0 + 1e-12


def test_value_functions_saturate_above_expectation_and_are_linear_in_the_limit():
    """Above the expectation the digital and human values level off at gain x scale and scale (the lead
    stops differentiating); with a large scale they are the linear values of a model without saturation."""
    assert abs(ref.digital_value(10.0, 0.5, 0.1) - 0.05) < 1e-12 and abs(ref.human_value(10.0, 0.3) - 0.3) < 1e-12
    assert ref.digital_value(-0.3, 0.5, 0.1) == -0.09 and ref.human_value(-0.3, 0.3) == -0.3
    assert abs(ref.digital_value(0.2, 0.5, 1e6) - 0.1) < 1e-6 and abs(ref.human_value(0.2, 1e6) - 0.2) < 1e-6
    assert abs(ref.emotion_weight(0.4, 1e6) - 0.4) < 1e-5 and ref.emotion_weight(1.0, 0.5) == 1.0


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
    par = _par(outside)
    ft = table.firm_table(par, cols, np.zeros((cols.shape[0], 0)))
    return choice.choose(cols, ft, current, 0, 1, 0.5, 0.5, alpha, par, r, np.empty(cols.shape[0]))


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
    ft = table.firm_table(_par(-1.0), cols, np.zeros((2, 0)))
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
    par[P.DIGITAL_SCALE], par[P.HUMAN_SCALE], par[P.EMOTION_SCALE] = 0.1, 0.3, 0.5
    return par


def test_threads_are_numbas_thread_count_at_most_one_per_chunk():
    import numba

    n = numba.get_num_threads()
    assert launch.threads_for(K.chunk_bounds(100)) == 1
    assert launch.threads_for(K.chunk_bounds(8192 * 64)) == n


def test_c_caller_calls_a_compiled_function_through_its_address_and_checks_the_types():
    """The parallel launchers call the thread kernels through their address (llvm.c_caller): the
    call reaches the function with the arguments given, and arguments that are not exactly the
    signature's are a typing error when the caller is compiled, never a wrong call."""
    import numba
    from numba import cfunc, njit, types

    from sim.engine.llvm import c_caller

    sig = types.void(types.float64[::1], types.int64)

    def fill(out, k):
        for i in range(out.shape[0]):
            out[i] = k * i

    fill_c = cfunc(sig)(fill)
    call = c_caller(sig)

    @njit
    def via_address(address, out, k):
        call(address, (out, k))

    out = np.zeros(5)
    via_address(fill_c.address, out, 3)
    assert out.tolist() == [0.0, 3.0, 6.0, 9.0, 12.0]
    with pytest.raises(numba.core.errors.TypingError, match="do not match the signature"):
        via_address(fill_c.address, np.zeros(5, np.float32), 3)


def test_concurrent_kernel_calls_from_two_threads_give_the_sequential_results():
    """Two Python threads stepping two markets at once (the classroom page builds one model while
    another steps) get what each gets alone: launches are serialised, never interleaved."""
    import threading

    models = [sim.build(["scenario=baseline", "customers.n=40000", "steps=4"], seed=s) for s in (1, 2)]
    alone = [sim.build(["scenario=baseline", "customers.n=40000", "steps=4"], seed=s) for s in (1, 2)]
    for m in alone:
        m.run()
    errors = []

    def run(m):
        try:
            m.run()
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    threads = [threading.Thread(target=run, args=(m,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for m, a in zip(models, alone, strict=True):
        assert np.array_equal(m.pop.state, a.pop.state) and np.array_equal(m.pop.provider, a.pop.provider)
        assert np.array_equal(m.tally, a.tally)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_runs_the_kernels_and_gets_the_parents_numbers():
    """multiprocessing's default on Linux (and mesa.batch_run with several processes) forks: a child of
    a process whose kernels ran on Numba's threads must still run them (GNU OpenMP would terminate
    it: it then runs them on one thread), with the same numbers."""
    overrides = ["scenario=baseline", "customers.n=40000", "steps=3"]
    parent = sim.build(overrides, seed=4)
    parent.run()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether its run equals the parent's, then leave at once
        ok = 0
        try:
            child = sim.build(overrides, seed=4)
            child.run()
            ok = int(np.array_equal(child.pop.state, parent.pop.state) and np.array_equal(child.tally, parent.tally))
        finally:
            os.write(write, bytes([ok]))
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert status == 0 and answer == b"\x01"


# ------------------------------------------------------------------ the Recorder's rows
@settings(max_examples=200, deadline=None)
@given(firms=st.integers(1, 12), segments=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       empty=st.floats(0.0, 1.0))
def test_record_rows_equals_its_numpy_twin(firms, segments, seed, empty):
    """The Recorder's step rows from random tallies, some firms and segments without customers or
    contacts (NaN there), more than eight firms included (NumPy sums those pairwise: the share of
    customers comes from NumPy's sum, handed in)."""
    from sim.engine.layout import FIRM_TALLIES, SEGMENT_TALLIES, S, T
    from sim.results import output as O

    g = np.random.default_rng(seed)
    tally = g.uniform(0, 50, (firms, len(FIRM_TALLIES))).round()
    tally[g.uniform(size=firms) < empty, T.CUSTOMERS] = 0.0
    tally[g.uniform(size=firms) < empty, T.CONTACTS] = 0.0
    seg_tally = g.uniform(0, 50, (segments, len(SEGMENT_TALLIES))).round()
    seg_tally[g.uniform(size=segments) < empty, S.COUNT] = 0.0
    firm_rows = g.normal(size=(len(O.FIRM_ROWS), firms))
    left, at_start = g.uniform(0, 9, firms).round(), g.uniform(0, 20, firms).round()
    at_start[g.uniform(size=firms) < empty] = 0.0
    assigned = tally[:, T.CUSTOMERS].sum()
    plan = (O._ROWS_GIVEN, O._RATIOS, O._ROWS_BLOCKS, O._SEGMENT_RATIOS, O._ROWS_NAMED)
    got = (np.full((len(O.FIRM_VARS), firms), -1.0), np.full((len(O.SEGMENT_VARS), segments), -1.0))
    want = (got[0].copy(), got[1].copy())
    K.record_rows(*got, tally, seg_tally, firm_rows, left, at_start, assigned, *plan)
    ref.record_rows(*want, tally, seg_tally, firm_rows, left, at_start, assigned, *plan)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    nps = O._ROWS_NAMED[3]
    assert np.isnan(got[0][nps]).sum() == (tally[:, T.CUSTOMERS] == 0).sum()
