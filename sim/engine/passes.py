"""The step of a chunk of customers, block by block: the passes and their order (:func:`chunk`).

Per block of at most :data:`BLOCK` customers, the passes in order:

1. :func:`draw_pass`: the draws that do not depend on the firm, as 32-bit integer
   compares (8 customers per 256-bit vector); adoption first, since the digital
   quality seen depends on it;
2. :func:`gather_pass` (scalar): the firm-table entries of each customer's provider to
   stack buffers (a gather; vector gathers are slow on many CPUs, and LLVM then
   declines to vectorise the whole update);
3. :func:`firm_draw_pass`: the draws compared with the provider's probabilities;
4. :func:`sim.engine.update.update_pass` (vectorised, branch-free): every rule but the
   review's choice;
5. :func:`sim.engine.update.review_pass` (scalar, the few pending customers);
6. :func:`store_pass`: the block's new state copied out, one row of the layout at a time;
7. :func:`sim.engine.tally.tally_pass` (scalar): the tallies.

The block's buffers live on :func:`chunk`'s stack (``llvm.stack_array``,
``llvm.stack_matrix``: LLVM knows they cannot overlap the array arguments, so the
update needs no run-time overlap checks), one row per state of ``layout.St`` and per
small row of ``layout.Sm``. Arrays are indexed with unsigned integers: Numba then
emits no negative-index wraparound, which would cost a compare and a select per access.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .layout import FT, N_ST, SM_DYNAMIC, C, D, P, R, Sm, Tr
from .llvm import prefer_512, stack_array, stack_matrix
from .rng import UNIT_BITS, UNIT_SCALE, draw_int, threshold
from .scalars import f32_at_least
from .tally import tally_pass
from .update import Derived, Gathered, review_pass, update_pass

#: Customers per block. The vectorised pass writes a block's results to stack
#: buffers (about 64 bytes per customer), which must stay in the L1 cache.
BLOCK = 256
_N_P = len(P)
_N_SM = len(Sm)


@njit(inline="always")
def draw_pass(nb, ub, ks, dv, traits, small, o_sm, m_review, dbits, noise_m):
    """The draws that do not depend on the firm: adoption (written to ``o_sm``), contact, the demand
    panel, the review draw and the score noise (``u1 + u2 - 1`` of the score noise is
    ``(m1 + m2 - 2**24) 2**-24``, exactly)."""
    lit_ = traits[Tr.LITERACY]
    adopted_ = small[Sm.ADOPTED]
    k_adopt = ks[R.ADOPT]
    k_contact = ks[R.CONTACT]
    k_review = ks[R.REVIEW]
    k_score = ks[R.SCORE]
    k_score2 = ks[R.SCORE2]
    k_panel = ks[R.PANEL]
    for t in range(nb):
        ix = ub + np.uint64(t)
        i32 = np.uint32(ix)
        o_sm[Sm.ADOPTED, t] = (adopted_[ix] != 0) | ((lit_[ix] >= dv.literacy32)
                                                     & (draw_int(np.uint32(i32 + k_adopt)) < dv.t_adopt))
        d_contact = draw_int(np.uint32(i32 + k_contact)) < dv.t_contact
        m_review[t] = draw_int(np.uint32(i32 + k_review))
        d_panel = draw_int(np.uint32(i32 + k_panel)) < dv.t_panel
        dbits[t] = (np.uint8(d_contact) * np.uint8(D.CONTACT)) | (np.uint8(d_panel) * np.uint8(D.PANEL))
        noise_m[t] = (draw_int(np.uint32(i32 + k_score)) + draw_int(np.uint32(i32 + k_score2))
                      - np.int32(1 << UNIT_BITS))


@njit(inline="always")
def gather_pass(nb, ub, nt, ftf, fti, provider, small, o_sm, prov0, g):
    """The firm-table entries of each customer's provider (row 0: none) to the buffers ``g``."""
    shared_ = small[Sm.SHARED]
    form_ = small[Sm.FORM]
    for t in range(nb):
        ix = ub + np.uint64(t)
        j = np.int64(provider[ix])
        prov0[t] = j
        row = np.uint64(j + 1) * nt
        rsa = row + np.uint64(2 * np.int64(shared_[ix]) + np.int64(o_sm[Sm.ADOPTED, t]))
        g.dx[t] = ftf[rsa + np.uint64(FT.DX)]
        g.gate[t] = ftf[rsa + np.uint64(FT.GATE)]
        g.esc[t] = ftf[rsa + np.uint64(FT.ESC)]
        g.free[t] = ftf[rsa + np.uint64(FT.FREE)]
        g.gate_avail[t] = ftf[row + np.uint64(FT.GATE_AVAIL)]
        g.h[t] = ftf[row + np.uint64(FT.H)]
        g.hv[t] = ftf[row + np.uint64(FT.HV)]
        g.price[t] = ftf[row + np.uint64(FT.PRICE)]
        g.steer[t] = fti[row + np.uint64(FT.STEER)]
        g.notice[t] = fti[row + np.uint64(FT.NOTICE)]
        g.avail[t] = fti[row + np.uint64(FT.AVAIL)]
        g.iv[t] = ftf[row + np.uint64(FT.IV) + np.uint64(form_[ix])]


@njit(inline="always")
def firm_draw_pass(nb, ub, ks, traits, g, dbits):
    """The draws compared with the provider's probabilities: a wish for a human, steering, notice,
    a human available."""
    phi_ = traits[Tr.HUMAN_PREF]
    k_want = ks[R.WANT_HUMAN]
    k_steer = ks[R.STEER]
    k_notice = ks[R.NOTICE]
    k_avail = ks[R.AVAIL]
    scale32 = np.float32(UNIT_SCALE)
    for t in range(nb):
        ix = ub + np.uint64(t)
        i32 = np.uint32(ix)
        # u < phi esc, exactly: (phi esc) 2**24 is exact in float32, an integer is below it when below its ceiling
        d_want = draw_int(np.uint32(i32 + k_want)) < np.int32(min(np.ceil(phi_[ix] * g.esc[t] * scale32), scale32))
        d_steer = draw_int(np.uint32(i32 + k_steer)) < g.steer[t]
        d_notice = draw_int(np.uint32(i32 + k_notice)) < g.notice[t]
        d_avail = draw_int(np.uint32(i32 + k_avail)) < g.avail[t]
        dbits[t] |= ((np.uint8(d_want) * np.uint8(D.WANT_HUMAN)) | (np.uint8(d_steer) * np.uint8(D.STEER))
                     | (np.uint8(d_notice) * np.uint8(D.NOTICE)) | (np.uint8(d_avail) * np.uint8(D.AVAIL)))


@njit(inline="always")
def store_pass(nb, ub, o_st, o_sm, tenure_o, state, small, tenure):
    """Copy the block's new state out: every state row, the small rows the kernel writes, tenure."""
    for row in range(N_ST):
        out = state[row]
        for t in range(nb):
            out[ub + np.uint64(t)] = o_st[row, t]
    for row in SM_DYNAMIC:
        out = small[row]
        for t in range(nb):
            out[ub + np.uint64(t)] = o_sm[row, t]
    for t in range(nb):
        tenure[ub + np.uint64(t)] = tenure_o[t]


@njit(inline="always")
def derived(par, n_forms):
    """The :data:`Derived` values of a step's ``par``."""
    hzf = par[P.REVIEW_HAZARD] * math.exp(par[P.HAZARD_FREEDOM])
    return Derived(f32_at_least(par[P.LITERACY_THRESHOLD]), np.int32(threshold(par[P.ADOPT_PROB])),
                   np.int32(threshold(par[P.CONTACT_RATE])), np.int32(threshold(par[P.REVIEW_HAZARD])),
                   np.int32(threshold(par[P.PANEL_RATE])), hzf,
                   np.float32(hzf), np.float32(1.0 / (1.0 + par[P.INFLUENCE_ENGAGEMENT])),
                   f32_at_least(par[P.DISENGAGED_BELOW]), np.int64(n_forms))


@njit(error_model="numpy")  # a division by zero in a lane that is not used gives inf, not an exception
def chunk(ks, lo, hi, par, ft, ftf, fti, firm, traits, state, small, provider, tenure, acc, cnt, util):
    """The step of customers ``lo:hi``, block by block, adding to the chunk's accumulators."""
    prefer_512()
    g = Gathered(stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32),
                 stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32),
                 stack_array(BLOCK, np.float32), stack_array(BLOCK, np.int32), stack_array(BLOCK, np.int32),
                 stack_array(BLOCK, np.int32), stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32))
    o_st = stack_matrix(N_ST, BLOCK, np.float32)
    o_sm = stack_matrix(_N_SM, BLOCK, np.int8)
    tenure_o = stack_array(BLOCK, np.int32)
    dbits = stack_array(BLOCK, np.uint8)
    noise_m = stack_array(BLOCK, np.int32)
    m_review = stack_array(BLOCK, np.int32)
    effort = stack_array(BLOCK, np.float32)
    flags = stack_array(BLOCK, np.uint8)
    sbits = stack_array(BLOCK, np.uint8)
    prov0 = stack_array(BLOCK, np.int16)
    pend = stack_array(BLOCK, np.int64)
    # the state update is float32 arithmetic (as stored; twice the vector lanes of float64)
    p = stack_array(_N_P, np.float32)
    for k in range(_N_P):
        p[k] = np.float32(par[k])
    seg_ = small[Sm.SEGMENT]
    nt = np.uint64(ft.shape[1])
    n1 = np.uint64(ft.shape[0])
    dv = derived(par, ft.shape[1] - FT.IV - 1)
    churn0 = np.uint64(C.CHURN) * n1
    for b0 in range(lo, hi, BLOCK):
        nb = min(BLOCK, hi - b0)
        ub = np.uint64(b0)
        draw_pass(nb, ub, ks, dv, traits, small, o_sm, m_review, dbits, noise_m)
        gather_pass(nb, ub, nt, ftf, fti, provider, small, o_sm, prov0, g)
        firm_draw_pass(nb, ub, ks, traits, g, dbits)
        update_pass(nb, ub, p, dv, traits, state, small, tenure, prov0, g, dbits, m_review, noise_m, o_st, o_sm,
                    tenure_o, effort, flags, sbits)
        review_pass(nb, ub, ks, p, dv, par, firm, ft, traits, provider, prov0, flags, pend, noise_m, o_st, o_sm,
                    tenure_o, sbits, util, n1, cnt, churn0, acc)
        store_pass(nb, ub, o_st, o_sm, tenure_o, state, small, tenure)
        tally_pass(nb, ub, n1, seg_, prov0, provider, flags, effort, sbits, o_st, o_sm, tenure_o, acc, cnt)
