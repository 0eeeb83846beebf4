"""The per-firm and per-segment tallies of a step, and the Recorder's rows made from them.

Each chunk of customers sums into its own accumulators (``layout.A``: float sums per
firm row and segment row; ``layout.C``: int64 counts of bit patterns, churn and
tenure), in customer order; :func:`finish_tally` turns them into the chunk's tally
rows (``layout.T``, ``layout.S``); the model sums chunks in chunk order, so results do
not depend on the thread count. Every per-state sum loops over the state rows of
:mod:`sim.engine.layout` (``N_ST``, ``SEG_STATES``): a state row added there is tallied
without a line here.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import jitcache  # noqa: F401  (the cache locator, before any cached function is defined)
from .layout import (
    CONTACT_TALLIES,
    N_ST,
    S_STATE0,
    SB,
    SEG_STATES,
    STATE_TALLIES,
    T_STATE0,
    A,
    B,
    C,
    S,
    T,
)
from .llvm import add_column, always_inline, stack_array

_N_ACC = len(A)
_UN_ACC = np.uint64(_N_ACC)
_UC_TENURE, _UC_STATE0, _UC_SEGMENT = (np.uint64(v) for v in (C.TENURE, C.STATE, C.SEGMENT))
_N_CONTACT_PATTERNS = int(C.CHURN)
_N_STATE_PATTERNS = int(C.SEGMENT - C.STATE)
_CONTACT_MASK = _N_CONTACT_PATTERNS - 1
_N_SEG = len(SEG_STATES)
_U1, _U2, _U3, _U4 = (np.uint64(v) for v in (1, 2, 3, 4))
# the segment count patterns: disengaged | adopted << 1, from the state bits
_SB_DIS_SHIFT = np.uint64(int(SB.DISENGAGED).bit_length() - 1)
_SB_AD_SHIFT = np.uint64(int(SB.ADOPTED).bit_length() - 1)


@njit(inline="always")
def tally_firm(t, ub, n1, prov0, provider, flags, effort, sbits, o_st, tenure_o, acc, cnt):
    """Customer ``t`` of the block: service tallies at the serving firm, state at the final one."""
    j1 = np.uint64(np.int64(prov0[t]) + 1)
    cnt[j1 * np.uint64(_N_CONTACT_PATTERNS) + np.uint64(flags[t] & _CONTACT_MASK)] += 1
    acc[j1 * _UN_ACC + np.uint64(A.EFFORT)] += effort[t]
    k1 = np.uint64(np.int64(provider[ub + np.uint64(t)]) + 1)
    cnt[_UC_STATE0 * n1 + k1 * np.uint64(_N_STATE_PATTERNS) + np.uint64(sbits[t])] += 1
    cnt[_UC_TENURE * n1 + k1] += tenure_o[t]
    # the state sums (A's first N_ST entries) in one vector add (same additions, entry by entry)
    add_column(acc, k1 * _UN_ACC, o_st, t, N_ST)


@njit(cache=True, error_model="numpy")
def tally_pass(nb, ub, n1, seg_, prov0, provider, flags, effort, sbits, o_st, o_sm, tenure_o, acc, cnt):
    """The block's tallies at the serving and the final provider (row 0: none) and segment.

    A block within one segment (the population is built segment by segment, so all but
    a few are) sums its segment values in registers, in customer order as ever.

    Compiled and cached on its own (a cold start compiles it in the helper process of
    :func:`sim.engine.compile.ensure_compiled`) and marked for LLVM to inline it into
    :func:`sim.engine.passes.chunk`.
    """
    always_inline()
    sg0 = seg_[ub]
    one_seg = True
    for t in range(1, nb):
        one_seg &= seg_[ub + np.uint64(t)] == sg0
    if one_seg:
        sg = np.uint64(sg0)
        r = (n1 + sg) * _UN_ACC
        sums = stack_array(_N_SEG, np.float64)
        for k in range(_N_SEG):
            sums[k] = acc[r + np.uint64(SEG_STATES[k])]
        n_dis = n_ad = n_both = 0
        for t in range(nb):
            tally_firm(t, ub, n1, prov0, provider, flags, effort, sbits, o_st, tenure_o, acc, cnt)
            for k in range(_N_SEG):
                sums[k] += o_st[SEG_STATES[k], t]
            sb = np.uint64(sbits[t])
            d = np.int64((sb >> _SB_DIS_SHIFT) & _U1)
            a = np.int64((sb >> _SB_AD_SHIFT) & _U1)
            n_dis += d
            n_ad += a
            n_both += d & a
        for k in range(_N_SEG):
            acc[r + np.uint64(SEG_STATES[k])] = sums[k]
        c0 = _UC_SEGMENT * n1 + sg * _U4  # counts by disengaged | adopted << 1
        cnt[c0] += nb - n_dis - n_ad + n_both
        cnt[c0 + _U1] += n_dis - n_both
        cnt[c0 + _U2] += n_ad - n_both
        cnt[c0 + _U3] += n_both
    else:
        for t in range(nb):
            tally_firm(t, ub, n1, prov0, provider, flags, effort, sbits, o_st, tenure_o, acc, cnt)
            sg = np.uint64(seg_[ub + np.uint64(t)])
            bits = np.uint64(sbits[t])
            r = (n1 + sg) * _UN_ACC
            for k in range(_N_SEG):
                acc[r + np.uint64(SEG_STATES[k])] += o_st[SEG_STATES[k], t]
            cnt[_UC_SEGMENT * n1 + sg * _U4 + (((bits >> _SB_DIS_SHIFT) & _U1)
                                              | (((bits >> _SB_AD_SHIFT) & _U1) << _U1))] += 1


@njit(cache=True)  # cached on its own: a helper process compiles it while this one compiles the chunk
def finish_tally(acc, cnt, tal, stal):
    """Turn a chunk's accumulators (``layout.A``, ``layout.C``) into its tally rows."""
    n_firms = tal.shape[0]
    n1 = n_firms + 1
    tal[:, :] = 0.0
    stal[:, :] = 0.0
    for m in range(n_firms):
        r = m + 1
        for bits in range(_N_STATE_PATTERNS):
            n = np.float64(cnt[C.STATE * n1 + r * _N_STATE_PATTERNS + bits])
            tal[m, T.CUSTOMERS] += n
            for b in range(len(STATE_TALLIES)):
                tal[m, STATE_TALLIES[b]] += n * ((bits >> b) & 1)
        for bits in range(_N_CONTACT_PATTERNS):
            if bits & B.CONTACTED:
                n = np.float64(cnt[r * _N_CONTACT_PATTERNS + bits])
                for b in range(len(CONTACT_TALLIES)):
                    tal[m, CONTACT_TALLIES[b]] += n * ((bits >> b) & 1)
        tal[m, T.CHURN] = cnt[C.CHURN * n1 + r]
        tal[m, T.TENURE] = cnt[C.TENURE * n1 + r]
        tal[m, T.EFFORT] = acc[r * _N_ACC + A.EFFORT]
        tal[m, T.CHOICE_SHARE] = acc[r * _N_ACC + A.CHOICE_SHARE]
        tal[m, T.CHOICE_SLOPE] = acc[r * _N_ACC + A.CHOICE_SLOPE]
        for k in range(N_ST):
            tal[m, T_STATE0 + k] = acc[r * _N_ACC + k]
    for sg in range(stal.shape[0]):
        r = (n1 + sg) * _N_ACC
        for k in range(_N_SEG):
            stal[sg, S_STATE0 + k] = acc[r + SEG_STATES[k]]
        for bits in range(4):
            n = np.float64(cnt[C.SEGMENT * n1 + sg * 4 + bits])
            stal[sg, S.COUNT] += n
            stal[sg, S.DISENGAGED] += n * (bits & 1)
            stal[sg, S.ADOPTED] += n * (bits >> 1)


@njit(cache=True)
def record_rows(firm, segment, tally, seg_tally, firm_rows, left, at_start, assigned, given, ratios, blocks,
                seg_means, rows):
    """A step's firm and segment rows of the Recorder (:meth:`sim.results.output.Recorder.record`) from its tallies.

    firm : float64[firm variables, F], segment : float64[segment variables, S]
        The step's rows of the Recorder's blocks, written.
    tally, seg_tally : the step's summed tallies (``layout.T``, ``layout.S``).
    firm_rows : float64[G, F], written to rows ``given`` (int64[G]).
    left, at_start : float64[F], customers who left each firm in the step and its customers at the start.
    assigned : float64, customers with a provider (the sum of ``tally[:, T.CUSTOMERS]``, as NumPy sums it).
    ratios : int64[K, 3]
        (row, numerator column, denominator column): ``num / den`` where ``den`` > 0, NaN elsewhere;
        a column past the tally's is promoters - detractors, ``left`` or ``at_start``.
    blocks : int64[B], rows averaged (summed in order, divided by B) into row ``rows[4]``.
    seg_means : int64[M, 2], (row, segment tally column): means over the segment's customers.
    rows : int64[6], the rows of customers, share, contacts, NPS (its ratio x 100), relationship and
        (in ``segment``) segment customers.
    """
    n_t = tally.shape[1]
    r_nps, r_rel = rows[3], rows[4]
    for f in range(tally.shape[0]):
        c = tally[f, T.CUSTOMERS]
        firm[rows[0], f] = c
        firm[rows[1], f] = c / assigned if assigned else 0.0
        for g in range(given.shape[0]):
            firm[given[g], f] = firm_rows[g, f]
        firm[rows[2], f] = tally[f, T.CONTACTS]
        for k in range(ratios.shape[0]):
            num = _record_column(tally, left, at_start, f, ratios[k, 1], n_t)
            den = _record_column(tally, left, at_start, f, ratios[k, 2], n_t)
            firm[ratios[k, 0], f] = num / den if den > 0 else np.nan
        firm[r_nps, f] *= 100.0
        total = firm[blocks[0], f]
        for b in range(1, blocks.shape[0]):
            total += firm[blocks[b], f]
        firm[r_rel, f] = total / blocks.shape[0]
    for sg in range(seg_tally.shape[0]):
        n = seg_tally[sg, S.COUNT]
        segment[rows[5], sg] = n
        for k in range(seg_means.shape[0]):
            segment[seg_means[k, 0], sg] = seg_tally[sg, seg_means[k, 1]] / n if n > 0 else np.nan


@njit(inline="always")
def _record_column(tally, left, at_start, f, col, n_t):
    """Column ``col`` of firm ``f`` in :func:`record_rows`: a tally column, or one of the three after them."""
    if col < n_t:
        return tally[f, col]
    if col == n_t:
        return tally[f, T.PROMOTERS] - tally[f, T.DETRACTORS]
    return left[f] if col == n_t + 1 else at_start[f]
