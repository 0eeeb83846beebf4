"""sim.engine.choice (the compiled logit choice) against the plain reference (sim.engine.reference), over
random markets and customers: the weights and their total, the probabilities with the outside option,
the inverse-CDF pick and the choosers' demand tallies.

The compiled functions are ``inline="always"`` pieces of the kernel; called from Python here, each
compiles on its own. Edge cases by hand (max subtraction, dead firms, the outside option's share)
are in tests/engine/test_kernels.py.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import choice, table
from sim.engine import reference as ref
from sim.engine.layout import NO_FIRM, A, F, P
from tests.engine.markets import chooser, firm_columns, intervention_levels, market_par

EXAMPLES = settings(max_examples=200, deadline=None)


@st.composite
def choices(draw):
    """A market (par, firm columns, this step's firm table) and one choosing customer."""
    par = draw(market_par())
    firm = draw(firm_columns())
    interv = draw(intervention_levels(firm.shape[0]))
    return par, firm, table.firm_table(par, firm, interv), draw(chooser(firm.shape[0]))


def _weights(par, firm, ft, c):
    util = np.full(firm.shape[0], np.nan)
    total = choice.choice_weights(firm, ft, c["current"], c["shared"], c["adopted"], c["phi"], c["w"], c["alpha"],
                                  par, util)
    return util, total


def _reference(par, firm, c):
    return ref.choice_weights(firm, c["current"], c["shared"], c["adopted"], c["phi"], c["w"], c["alpha"], par)


@EXAMPLES
@given(choices())
def test_weights_and_total_equal_the_references(case):
    """Each alive firm's weight and the total (outside option included) are the reference's, bit for bit;
    a dead firm's weight is 0."""
    par, firm, ft, c = case
    util, total = _weights(par, firm, ft, c)
    options, weights, ref_total = _reference(par, firm, c)
    alive = np.flatnonzero(firm[:, F.ALIVE] > 0)
    assert options == [*alive.tolist(), NO_FIRM]
    assert total == ref_total
    np.testing.assert_array_equal(util[alive], weights[:-1])
    assert np.all(util[firm[:, F.ALIVE] <= 0] == 0.0)


@EXAMPLES
@given(choices())
def test_probabilities_are_the_logit_of_the_reference_utilities_with_the_outside_option(case):
    """weight / total is the softmax of the reference's utilities and the outside utility: the firms'
    probabilities and the outside option's (1 - their sum) add to one, and the largest utility's weight is 1."""
    par, firm, ft, c = case
    util, total = _weights(par, firm, ft, c)
    alive = np.flatnonzero(firm[:, F.ALIVE] > 0)
    u = np.array([ref.utility(firm, m, c["current"], c["shared"], c["adopted"], c["phi"], c["w"], c["alpha"], par)
                  for m in alive] + [par[P.OUTSIDE_UTILITY]])
    e = np.exp(u - u.max())
    softmax = e / e.sum()
    p_firms = util[alive] / total
    p_outside = 1.0 - p_firms.sum()
    np.testing.assert_allclose(p_firms, softmax[:-1], rtol=1e-12, atol=1e-15)
    assert math.isclose(p_outside, softmax[-1], rel_tol=1e-9, abs_tol=1e-12)
    assert 1.0 <= total <= len(alive) + 1  # max-subtracted: the top option's weight is exactly 1
    assert max(util[alive].max(initial=0.0), math.exp(par[P.OUTSIDE_UTILITY] - u.max())) == 1.0


@EXAMPLES
@given(choices(), st.floats(0.0, 1.0, exclude_max=True))
def test_pick_is_the_inverse_cdf_option_of_the_draw(case, r):
    """``pick`` returns the first option (alive firms in order, the outside option last) whose cumulative
    weight exceeds r x total, as the reference's pick does; ``choose`` is weights then pick."""
    par, firm, ft, c = case
    util, total = _weights(par, firm, ft, c)
    options, weights, ref_total = _reference(par, firm, c)
    got = choice.pick(firm, util, total, r)
    cdf = np.cumsum(weights)  # firms in order, the outside option last, summed in that order
    want = options[int(np.searchsorted(cdf, r * total, side="right"))] if r * total < cdf[-1] else NO_FIRM
    assert got == want == ref.pick(options, weights, ref_total, r)
    assert got == NO_FIRM or firm[got, F.ALIVE] > 0, "a dead firm is never picked"
    scratch = np.empty(firm.shape[0])
    assert choice.choose(firm, ft, c["current"], c["shared"], c["adopted"], c["phi"], c["w"], c["alpha"], par, r,
                         scratch) == got == ref.choose(firm, c["current"], c["shared"], c["adopted"], c["phi"],
                                                       c["w"], c["alpha"], par, r)


@settings(max_examples=50, deadline=None)
@given(choices())
def test_the_draws_split_in_the_logit_probabilities(case):
    """Over evenly spaced draws, each option is picked in the share of the draws its probability says."""
    par, firm, ft, c = case
    util, total = _weights(par, firm, ft, c)
    options, weights, ref_total = _reference(par, firm, c)
    n = 4000
    rs = (np.arange(n) + 0.5) / n
    picks = [choice.pick(firm, util, total, r) for r in rs]
    for option, wgt in zip(options, weights, strict=True):
        assert abs(picks.count(option) / n - wgt / ref_total) <= 1.0 / n + 1e-12, option


@EXAMPLES
@given(choices(), st.integers(0, 3), st.data())
def test_tally_demand_adds_each_alive_firms_probability_and_slope_to_its_row(case, extra_rows, data):
    """``tally_demand`` adds s = weight / total and alpha s (1 - s) to firm m's row m + 1 of the
    accumulators (``layout.A``), onto what they held; row 0 (no firm), dead firms, the other entries and
    the rows after the firms (segments) are untouched."""
    par, firm, ft, c = case
    util, total = _weights(par, firm, ft, c)
    options, weights, ref_total = _reference(par, firm, c)
    n_acc = len(A)
    rows = firm.shape[0] + 1 + extra_rows
    before = np.asarray(data.draw(st.lists(st.floats(0.0, 1e3), min_size=rows * n_acc, max_size=rows * n_acc)))
    acc = before.copy()
    choice.tally_demand(firm, util, total, c["alpha"], acc, n_acc)
    want = before.copy()
    for m, wgt in zip(options[:-1], weights[:-1], strict=True):
        s = wgt / ref_total
        want[(m + 1) * n_acc + A.CHOICE_SHARE] += s
        want[(m + 1) * n_acc + A.CHOICE_SLOPE] += c["alpha"] * s * (1.0 - s)
    np.testing.assert_array_equal(acc, want)
    # the firms' demand among the choosers plus the outside option's is the one customer who chose
    added = (acc - before).reshape(rows, n_acc)
    outside = weights[-1] / ref_total
    assert math.isclose(added[:, A.CHOICE_SHARE].sum() + outside, 1.0, rel_tol=1e-12)
    assert np.all(added[:, A.CHOICE_SLOPE] >= 0.0) and np.all(added[:, A.CHOICE_SLOPE] <= c["alpha"] / 4 + 1e-15)
