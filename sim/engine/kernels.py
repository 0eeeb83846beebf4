"""Numba kernels: the per-customer work of a step, the logit choice and the per-firm tallies.

Everything here is a pure function of arrays. The arrays' layout (rows, columns,
parameters, tallies, streams) is :mod:`sim.engine.layout`'s; the draws are :mod:`sim.engine.rng`'s
counter-based uniforms; :mod:`sim.engine.reference` is the plain specification that the
tests compare these kernels with, bit for bit.

Tallies are summed per fixed chunk of customers (the chunking depends only on N),
then over chunks in chunk order, so results are identical for any thread count.

How the step is made fast (measured in benchmarks/, log in benchmarks/README.md):
per-firm quantities are tabulated once per step (:func:`_firm_table`); each block
of customers goes through the short passes of :func:`_chunk`, each a named helper
inlined into it (by Numba; by LLVM for the tally pass, which is compiled and cached on
its own so that a cold start compiles it in a second process, :func:`_ensure_compiled`):
the draws as 32-bit integer compares (8 customers per 256-bit vector), a scalar
gather of the provider's table entries, the state update in float32 (vectorised and
branch-free, results in stack buffers), a scalar pass for the few customers who
review, the copy-out, and a scalar pass for the tallies.
Threads take chunks from an atomic counter (:func:`_work`), so a thread slowed by
other work on its core does less of the step; they are Numba's own threads, which call
the kernel through its address (:func:`_kernel`), so the parallel launcher does not
compile the kernel again. The arithmetic is the reference's, operation for operation.
"""

from __future__ import annotations

import math
import os
import threading

import numba
import numpy as np
from numba import cfunc, njit, prange, types

from . import jitcache  # noqa: F401  (the cache locator, before any cached function is defined)
from .layout import FT, NO_FIRM, A, B, C, F, P, R, S, Sm, St, Steer, T, Tr
from .llvm import add_row8, always_inline, c_caller, prefer_512, stack_array, take_next
from .rng import UNIT_BITS, UNIT_SCALE, draw_int, stream_keys, threshold, uniform_at

#: Customers per block. The vectorised pass writes a block's results to stack
#: buffers (about 64 bytes per customer), which must stay in the L1 cache.
BLOCK = 256
#: Relative margin of the review bound (see ``_exp_neg``), far above its error (~1e-3).
REVIEW_MARGIN = 0.03
#: Customers per chunk: the unit of the tallies' summation order.
CHUNK = 8192
#: The public kernels: Python functions that run compiled kernels on Numba's threads (:func:`_threads`).
ENTRY_POINTS = ("customer_step", "assign_orphans")

# float32 constants: a float literal is float64 in Numba and would widen float32 arithmetic
_F0, _F1, _FHALF, _F10 = np.float32(0.0), np.float32(1.0), np.float32(0.5), np.float32(10.0)
_FUNIT = np.float32(2.0 ** -UNIT_BITS)
_U1, _U2, _U3, _U4, _U8 = (np.uint64(v) for v in (1, 2, 3, 4, 8))
_N_ACC = len(A)
_UN_ACC = np.uint64(_N_ACC)
_UC_CHURN, _UC_TENURE, _UC_STATE0, _UC_SEGMENT = (np.uint64(v) for v in (C.CHURN, C.TENURE, C.STATE,
                                                                          C.SEGMENT))
_N_CONTACT_PATTERNS = int(C.CHURN)
_N_STATE_PATTERNS = int(C.SEGMENT - C.STATE)
_CONTACT_MASK = _N_CONTACT_PATTERNS - 1
_STEER_NONE, _STEER_HARD = float(Steer.NONE), float(Steer.HARD)  # compared with float64 firm columns
# the tally pass adds a customer's state values to its firm's row as one vector of eight (add_row8)
if len(St) != 8 or [a.name for a in A][:8] != [s.name for s in St]:
    raise ImportError("sim.engine.layout: _tally_firm adds the state sums as one vector of 8 (llvm.add_row8); with "
                      f"{len(St)} state rows it needs rewriting")


# ---------------------------------------------------------------------------- pieces
@njit(inline="always")
def _gate(x, center, slope):
    return 1.0 / (1.0 + math.exp(-slope * (x - center)))


@njit(inline="always")
def _digital_seen(firm, m, shared, adopted, par):
    """Digital quality customer sees at firm m: d (1 + pi shared), capped at 1, times exclusion."""
    de = firm[m, F.DIGITAL] * (1.0 + firm[m, F.PERSONALISATION] * shared)
    if de > 1.0:
        de = 1.0
    if adopted == 0:
        de *= par[P.EXCLUSION_QUALITY]
    return de


@njit(inline="always")
def _clip01_f32(x):
    return _F0 if x < _F0 else (_F1 if x > _F1 else x)


@njit(inline="always")
def _exp_neg(a):
    """exp(-a) for 0 <= a <= 64 in float32, to about 1e-4 (vectorisable; only a bound's estimate).

    exp(-a) = exp(-a / 128) ** 128: a degree-6 Taylor polynomial on [0, 0.5], squared seven times.
    """
    x = a * np.float32(1.0 / 128.0)
    g = _F1 + x * (-_F1 + x * (_FHALF + x * (np.float32(-1.0 / 6.0) + x * (np.float32(1.0 / 24.0) + x * (
        np.float32(-1.0 / 120.0) + x * np.float32(1.0 / 720.0))))))
    for _ in range(7):
        g = g * g
    return g


@njit(inline="always")
def _state_bits(shared, adopted, disengaged, score):
    """The bit pattern counted per firm (``layout.STATE_BITS``): shared | adopted << 1 |
    disengaged << 2 | promoter << 3 | detractor << 4 (a promoter scores 9-10, a detractor 0-6)."""
    return (np.uint8(shared != 0) | (np.uint8(adopted) << 1) | (np.uint8(disengaged) << 2)
            | (np.uint8(score >= 9) << 3) | (np.uint8(score <= 6) << 4))


@njit(inline="always")
def _f32_at_least(x):
    """The least float32 ``y`` with ``y >= x``: for a float32 ``v``, ``v >= x`` is ``v >= y``."""
    y = np.float32(x)
    if np.float64(y) < x:
        y = np.nextafter(y, np.float32(np.inf))
    return y


# ------------------------------------------------------------------ firm table, choice
@njit(cache=True)
def _firm_table(par, firm, interv):
    """This step's per-firm quantities that do not depend on the customer.

    Computed with the same operations as the reference's per-customer formulas, so
    looking them up gives identical results; the gate of the digital gap costs one
    ``exp``, 4 per firm and step instead of one per customer.

    Returns float64[F + 1, FT.IV + n_forms + 1] (columns ``layout.FT``); row 0 (no firm) is zero.
    """
    n_firms = firm.shape[0]
    n_forms = interv.shape[1]
    ft = np.zeros((n_firms + 1, FT.IV + n_forms + 1))
    e = par[P.EXPECTATION]
    eps = par[P.ESCALATION_FLOOR]
    for m in range(n_firms):
        row = ft[m + 1]
        h = firm[m, F.HUMAN]
        for sh in range(2):
            for ad in range(2):
                s = 2 * sh + ad
                dx = _digital_seen(firm, m, sh, ad, par)
                x = dx - e
                row[FT.DX + s] = dx
                row[FT.GATE + s] = _gate(x, par[P.GATE_CENTER], par[P.GATE_SLOPE])
                short = 1.0 - dx / e if e > 0.0 else 0.0
                row[FT.ESC + s] = eps + (1.0 - eps) * max(short, 0.0)
                ud = 0.0
                if ad != 0:
                    ud = par[P.BETA_DIGITAL] * (-x * x if x < 0.0 else par[P.DIGITAL_GAIN] * x)
                row[FT.UD + s] = ud
                a = firm[m, F.HUMAN] * firm[m, F.AVAILABILITY]
                if firm[m, F.STEERING] == _STEER_HARD:
                    a *= 1.0 - firm[m, F.STEERING_STRENGTH]
                d = dx if ad != 0 else 0.0
                row[FT.FREE + s] = 1.0 - (1.0 - a) * (1.0 - d)
        row[FT.GATE_AVAIL] = _gate(firm[m, F.AVAILABILITY] - 1.0, par[P.GATE_CENTER], par[P.GATE_SLOPE])
        row[FT.H] = h
        row[FT.PRICE] = firm[m, F.PRICE]
        row[FT.PRICE_WEIGHT] = firm[m, F.PRICE] * (1.0 + par[P.ALPHA_COMMODITY] * firm[m, F.SIMILARITY])
        # "mode != none and u < p" is "u < p" with p = 0 without steering (u >= 0)
        row[FT.STEER] = threshold(firm[m, F.STEERING_STRENGTH] if firm[m, F.STEERING] != _STEER_NONE else 0.0)
        # a hard-steered customer always notices: u < 1 holds for every draw u
        row[FT.NOTICE] = threshold(1.0 if firm[m, F.STEERING] == _STEER_HARD else par[P.NOTICE_SOFT])
        row[FT.AVAIL] = threshold(firm[m, F.AVAILABILITY])
        for f in range(n_forms):
            row[FT.IV + f] = interv[m, f]
    return ft


@njit(inline="always")
def _choose(firm, ft, current, shared, adopted, phi, w, alpha, par, r, util):
    """Multinomial logit choice among the alive firms and the outside option with one uniform ``r``
    (inverse CDF: firms in order, the outside option last; ``NO_FIRM`` is the outside option).

    The utility of firm m is the reference's :func:`sim.engine.reference.utility`, with the gates, the
    digital term and the weighed price looked up in the firm table ``ft``; ``current`` gets the
    inertia bonus (``NO_FIRM``: nobody). Max-subtracted, so exp never overflows.
    """
    n_firms = firm.shape[0]
    om = (1.0 - phi) if adopted != 0 else 0.0
    if adopted == 0:
        phi = 1.0
    bh = par[P.BETA_HUMAN] * phi
    be = par[P.BETA_EMOTION] * w
    v0 = par[P.OUTSIDE_UTILITY]
    umax = v0
    for m in range(n_firms):
        if firm[m, F.ALIVE] > 0.0:
            s = adopted + 2 * shared if m == current else adopted
            h = firm[m, F.HUMAN]
            eg = om * ft[m + 1, FT.GATE + s] + (1.0 - om) * ft[m + 1, FT.GATE_AVAIL]
            u = (ft[m + 1, FT.UD + s] + bh * h + be * h * eg
                 - alpha * ft[m + 1, FT.PRICE_WEIGHT] + par[P.BETA_REPUTATION] * firm[m, F.REPUTATION])
            if m == current:
                u += par[P.INERTIA]
            util[m] = u
            if u > umax:
                umax = u
    total = 0.0
    for m in range(n_firms):
        if firm[m, F.ALIVE] > 0.0:
            util[m] = math.exp(util[m] - umax)
            total += util[m]
    w0 = math.exp(v0 - umax)
    total += w0
    target = r * total
    acc = 0.0
    for m in range(n_firms):
        if firm[m, F.ALIVE] > 0.0:
            acc += util[m]
            if target < acc:
                return m
    return NO_FIRM


# ----------------------------------------------------------------- the passes of a block
@njit(inline="always")
def _draw_pass(nb, ub, ks, k_thr, traits, small, adopted_o, m_review, dbits, noise_m):
    """Pass 1: the draws that do not depend on the firm, as integer compares (8 customers per
    256-bit vector); adoption first: the digital quality seen depends on it."""
    lit_ = traits[Tr.LITERACY]
    adopted_ = small[Sm.ADOPTED]
    thr32, t_adopt, t_contact = k_thr
    k_adopt = ks[R.ADOPT]
    k_contact = ks[R.CONTACT]
    k_review = ks[R.REVIEW]
    k_score = ks[R.SCORE]
    k_score2 = ks[R.SCORE2]
    for t in range(nb):
        ix = ub + np.uint64(t)
        i32 = np.uint32(ix)
        adopted_o[t] = (adopted_[ix] != 0) | ((lit_[ix] >= thr32)
                                              & (draw_int(np.uint32(i32 + k_adopt)) < t_adopt))
        d_contact = draw_int(np.uint32(i32 + k_contact)) < t_contact
        m_review[t] = draw_int(np.uint32(i32 + k_review))
        dbits[t] = np.uint8(d_contact) << 1
        # u1 + u2 - 1 of the score noise is (m1 + m2 - 2**24) 2**-24, exactly
        noise_m[t] = (draw_int(np.uint32(i32 + k_score)) + draw_int(np.uint32(i32 + k_score2))
                      - np.int32(1 << UNIT_BITS))


@njit(inline="always")
def _gather_pass(nb, ub, nt, ftf, fti, provider, small, adopted_o, prov0, g):
    """Pass 2 (scalar): the firm-table entries of each customer's provider (row 0: none) to stack
    buffers (a gather; vector gathers are slow on many CPUs, and LLVM then declines to vectorise
    the whole update)."""
    g_dx, g_gate, g_esc, g_gavail, g_h, g_price, g_steer, g_notice, g_avail, g_iv, g_free = g
    shared_ = small[Sm.SHARED]
    form_ = small[Sm.FORM]
    for t in range(nb):
        ix = ub + np.uint64(t)
        j = np.int64(provider[ix])
        prov0[t] = j
        row = np.uint64(j + 1) * nt
        rsa = row + np.uint64(2 * np.int64(shared_[ix]) + np.int64(adopted_o[t]))
        g_dx[t] = ftf[rsa + np.uint64(FT.DX)]
        g_gate[t] = ftf[rsa + np.uint64(FT.GATE)]
        g_esc[t] = ftf[rsa + np.uint64(FT.ESC)]
        g_free[t] = ftf[rsa + np.uint64(FT.FREE)]
        g_gavail[t] = ftf[row + np.uint64(FT.GATE_AVAIL)]
        g_h[t] = ftf[row + np.uint64(FT.H)]
        g_price[t] = ftf[row + np.uint64(FT.PRICE)]
        g_steer[t] = fti[row + np.uint64(FT.STEER)]
        g_notice[t] = fti[row + np.uint64(FT.NOTICE)]
        g_avail[t] = fti[row + np.uint64(FT.AVAIL)]
        g_iv[t] = ftf[row + np.uint64(FT.IV) + np.uint64(form_[ix])]


@njit(inline="always")
def _firm_draw_pass(nb, ub, ks, traits, g, dbits):
    """Pass 2b: the draws compared with the provider's probabilities (a wish for a human, steering,
    notice, a human available)."""
    g_esc, g_steer, g_notice, g_avail = g[2], g[6], g[7], g[8]
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
        d_want = draw_int(np.uint32(i32 + k_want)) < np.int32(min(np.ceil(phi_[ix] * g_esc[t] * scale32), scale32))
        d_steer = draw_int(np.uint32(i32 + k_steer)) < g_steer[t]
        d_notice = draw_int(np.uint32(i32 + k_notice)) < g_notice[t]
        d_avail = draw_int(np.uint32(i32 + k_avail)) < g_avail[t]
        dbits[t] |= ((np.uint8(d_want) << 2) | (np.uint8(d_steer) << 3) | (np.uint8(d_notice) << 4)
                     | (np.uint8(d_avail) << 5))


@njit(inline="always")
def _update_pass(nb, ub, c, traits, state, small, tenure, prov0, g, dbits, m_review, noise_m, o, effort,
                 flags, sbits):
    """Pass 3, vectorised and branch-free: every phase but the review and choice.

    Each conditional update of the reference is a select; every uniform a customer
    might need was drawn (an unused draw changes nothing). Results go to the stack
    buffers ``o``, assuming the customer stays; customers whose review draw is near or
    below the hazard bound (and the outside customers who look around) are flagged pending.
    """
    (e, hexp, thum, infd, gain, loss, tol, conf, smem, irate, erate, dis, sfree, strust, decay, recov, frate, ftrust,
     fslope, rrate, fq, ki, inv_ki, ae, at, hz32, ht32, he32, hf32, t_hz, rs, rt, re, rf, ri, roff, noise, below32,
     n_forms) = c
    g_dx, g_gate, g_esc, g_gavail, g_h, g_price, g_steer, g_notice, g_avail, g_iv, g_free = g
    tau_o, eng_o, sat_o, free_o, infl_o, fair_o, alpha_o, ref_o, shared_o, adopted_o, score_o, tenure_o = o
    phi_ = traits[Tr.HUMAN_PREF]
    w_ = traits[Tr.AFFINITY]
    priv_ = traits[Tr.PRIVACY]
    a0_ = traits[Tr.ALPHA0]
    tau_ = state[St.TRUST]
    eng_ = state[St.ENGAGEMENT]
    sat_ = state[St.SATISFACTION]
    free_ = state[St.FREEDOM]
    infl_ = state[St.INFLUENCE]
    fair_ = state[St.FAIRNESS]
    ref_ = state[St.REF_PRICE]
    shared_ = small[Sm.SHARED]
    form_ = small[Sm.FORM]
    lo_margin = np.float32(1.0 - REVIEW_MARGIN)
    hi_margin = np.float32(1.0 + REVIEW_MARGIN)
    for t in range(nb):
        ix = ub + np.uint64(t)
        db = dbits[t]
        has = prov0[t] != NO_FIRM
        w = w_[ix]
        tau = tau_[ix]
        eng = eng_[ix]
        sat = sat_[ix]
        free = free_[ix]
        infl = infl_[ix]
        fair = fair_[ix]
        ref = ref_[ix]
        shared = np.int32(shared_[ix])
        adopted = adopted_o[t] != 0
        dx = g_dx[t]
        h = g_h[t]
        # the emotion gate reads the basics of the channels this customer uses
        om = (_F1 - phi_[ix]) if adopted else _F0
        emo = h * (om * g_gate[t] + (_F1 - om) * g_gavail[t])
        # contact and channel
        contacted = has & ((db & 2) != 0)
        wants = contacted & ((not adopted) | ((db & 4) != 0))
        steered = wants & ((db & 8) != 0)
        noticed = steered & ((db & 16) != 0)
        human = wants & (not steered) & ((db & 32) != 0)
        pushed = wants & (not human)
        # experience (spoilt by low freedom of choice) and disconfirmation
        q = (h if human else dx) * (_F1 - fq * (_F1 - free))
        delta = (h - hexp + thum) if human else (dx - e)
        heard = h if human else dx * infd
        # trust (asymmetric, confirmation when met), satisfaction, influence, engagement
        up = tau + (gain * min(max(delta, _F0), _F1) + conf) * (_F1 - tau)
        down = tau + loss * max(delta + tol, -_F1) * tau
        tau_c = up if delta >= -tol else down
        sat_c = sat + smem * (q - sat)
        infl_c = infl + irate * (heard - infl)
        eng_c = eng + erate * (w * ((emo + ki * infl_c) * inv_ki) - eng)
        if pushed & (not adopted):
            eng_c = eng_c - dis * eng_c
        free_c = free
        if noticed:
            free_c = free - sfree * free
            tau_c = tau_c - strust * tau_c
        if not contacted:
            tau_c = tau
            sat_c = sat
            infl_c = infl
            eng_c = eng - decay * eng
        if not noticed:
            free_c = free_c + recov * (g_free[t] - free_c)
        # fairness against the remembered reference price, interventions, clipping, data sharing
        price = g_price[t]
        fair_c = fair + frate * (_clip01_f32(_F1 - fslope * (price / ref - _F1)) - fair)
        ref_c = ref + rrate * (price - ref)
        tau_c = tau_c - ftrust * (_F1 - fair_c) * tau_c  # unfairness costs trust
        if np.int64(form_[ix]) < n_forms:
            eng_c = eng_c + w * g_iv[t] * (_F1 - eng_c)
        tau_c = _clip01_f32(tau_c)
        eng_c = _clip01_f32(eng_c)
        if has:
            tau = tau_c
            eng = eng_c
            sat = sat_c
            free = free_c
            infl = infl_c
            fair = fair_c
            ref = ref_c
            shared = 1 if tau_c > priv_[ix] else 0
        # price sensitivity; review decided in the review pass; recommendation
        alpha = a0_[ix] * (_F1 - ae * eng) * (_F1 - at * tau)
        # review: u < hz exp(-k_tau tau - k_e eng), decided here unless u is within the
        # margin of an approximation of the bound; those, and the sure reviews, are pending.
        # A customer outside the market looks around when u < hz (an exact integer compare).
        u_rev = np.float32(m_review[t]) * _FUNIT
        hb = hz32 * _exp_neg(ht32 * tau + he32 * eng + hf32 * free)
        outside_looks = m_review[t] < t_hz
        reviews = (has & (u_rev < hb * lo_margin)) | ((not has) & outside_looks)
        pending = (has & (u_rev < hb * hi_margin)) | ((not has) & outside_looks)
        x = (_F10 * (rs * sat + rt * tau + re * eng + rf * free + ri * infl) + roff + _FHALF
             + noise * (np.float32(noise_m[t]) * _FUNIT))
        tau_o[t] = tau
        eng_o[t] = eng
        sat_o[t] = sat
        free_o[t] = free
        infl_o[t] = infl
        fair_o[t] = fair
        alpha_o[t] = alpha
        ref_o[t] = ref
        shared_o[t] = shared
        score = np.int32(min(max(x, _F0), _F10))
        score_o[t] = score
        sbits[t] = _state_bits(shared, adopted, eng < below32, score)
        tenure_o[t] = tenure[ix] + 1
        effort[t] = (_F1 - q) if contacted else _F0
        flags[t] = ((B.CONTACTED if contacted else 0) | (B.WANTS if wants else 0)
                    | (B.HUMAN if human else 0) | (B.NOTICED if noticed else 0)
                    | (B.PUSHED if pushed else 0) | (B.PENDING if pending else 0)
                    | (B.REVIEWS if reviews else 0))


@njit(inline="always")
def _review_pass(nb, ub, ks, c, par, firm, ft, traits, provider, prov0, flags, pend, noise_m, o, sbits, util,
                 n1, cnt):
    """Pass 4 (scalar), pending customers only (a few percent, listed first by a branch-free
    compaction): the exact review, the logit choice, and the reset of those who switch."""
    tau_o, eng_o, sat_o, free_o, infl_o, fair_o, alpha_o, ref_o, shared_o, adopted_o, score_o, tenure_o = o
    rs, rt, re, rf, ri, roff, noise, below32, tau_init, carry, hzf = c
    phi_ = traits[Tr.HUMAN_PREF]
    w_ = traits[Tr.AFFINITY]
    k_review = ks[R.REVIEW]
    k_choice = ks[R.CHOICE]
    n_pend = 0
    for t in range(nb):
        pend[n_pend] = t
        n_pend += np.int64((flags[t] & B.PENDING) != 0)
    for p in range(n_pend):
        t = pend[p]
        ix = ub + np.uint64(t)
        i32 = np.uint32(ix)
        j = np.int64(prov0[t])
        tau = tau_o[t]
        eng = eng_o[t]
        review = (flags[t] & B.REVIEWS) != 0
        if not review:
            review = uniform_at(i32, k_review) < hzf * math.exp(
                -par[P.HAZARD_TRUST] * np.float64(tau) - par[P.HAZARD_ENGAGEMENT] * np.float64(eng)
                - par[P.HAZARD_FREEDOM] * np.float64(free_o[t]))
        if review:
            k = _choose(firm, ft, j, np.int64(shared_o[t]), np.int64(adopted_o[t]), np.float64(phi_[ix]),
                        np.float64(w_[ix]), np.float64(alpha_o[t]), par, uniform_at(i32, k_choice), util)
            if k != j:
                cnt[_UC_CHURN * n1 + np.uint64(j + 1)] += 1
                tau = tau_init
                eng = eng * carry
                x = (_F10 * (rs * sat_o[t] + rt * tau + re * eng + rf * free_o[t] + ri * infl_o[t]) + roff
                     + _FHALF + noise * (np.float32(noise_m[t]) * _FUNIT))
                provider[ix] = k
                tau_o[t] = tau
                eng_o[t] = eng
                shared_o[t] = 0
                if k != NO_FIRM:
                    ref_o[t] = np.float32(ft[k + 1, FT.PRICE])
                score = np.int32(min(max(x, _F0), _F10))
                score_o[t] = score
                sbits[t] = _state_bits(0, adopted_o[t] != 0, eng < below32, score)
                tenure_o[t] = 1


@njit(inline="always")
def _store_pass(nb, ub, o, state, small, tenure):
    """Pass 5: copy the block's new state out, one array at a time."""
    tau_o, eng_o, sat_o, free_o, infl_o, fair_o, alpha_o, ref_o, shared_o, adopted_o, score_o, tenure_o = o
    for row, buf in ((St.TRUST, tau_o), (St.ENGAGEMENT, eng_o), (St.SATISFACTION, sat_o),
                     (St.FREEDOM, free_o), (St.INFLUENCE, infl_o), (St.FAIRNESS, fair_o), (St.ALPHA, alpha_o),
                     (St.REF_PRICE, ref_o)):
        out = state[row]
        for t in range(nb):
            out[ub + np.uint64(t)] = buf[t]
    for row, buf in ((Sm.SHARED, shared_o), (Sm.ADOPTED, adopted_o), (Sm.SCORE, score_o)):
        out = small[row]
        for t in range(nb):
            out[ub + np.uint64(t)] = buf[t]
    for t in range(nb):
        tenure[ub + np.uint64(t)] = tenure_o[t]


@njit(inline="always")
def _tally_firm(t, ub, n1, prov0, provider, flags, effort, sbits, o, acc, cnt):
    """Customer ``t`` of the block: service tallies at the serving firm, state at the final one."""
    tau_o, eng_o, sat_o, free_o, infl_o, fair_o, alpha_o, ref_o, shared_o, adopted_o, score_o, tenure_o = o
    j1 = np.uint64(np.int64(prov0[t]) + 1)
    cnt[j1 * np.uint64(_N_CONTACT_PATTERNS) + np.uint64(flags[t] & _CONTACT_MASK)] += 1
    acc[j1 * _UN_ACC + np.uint64(A.EFFORT)] += effort[t]
    k1 = np.uint64(np.int64(provider[ub + np.uint64(t)]) + 1)
    cnt[_UC_STATE0 * n1 + k1 * np.uint64(_N_STATE_PATTERNS) + np.uint64(sbits[t])] += 1
    cnt[_UC_TENURE * n1 + k1] += tenure_o[t]
    # the eight state sums A.TRUST .. A.REF_PRICE in one vector add (same additions, entry by entry)
    add_row8(acc, k1 * _UN_ACC + np.uint64(A.TRUST), tau_o[t], eng_o[t], sat_o[t], free_o[t], infl_o[t],
             fair_o[t], alpha_o[t], ref_o[t])


@njit(cache=True, error_model="numpy")
def _tally_pass(nb, ub, n1, seg_, prov0, provider, flags, effort, sbits, o, acc, cnt):
    """Pass 6 (scalar): tallies at the serving and the final provider (row 0: none) and segment.

    A block within one segment (the population is built segment by segment, so all but
    a few are) sums its segment values in registers, in customer order as ever.

    Compiled and cached on its own (a cold start compiles it in the helper process of
    :func:`_ensure_compiled`) and marked for LLVM to inline it into :func:`_chunk`.
    """
    always_inline()
    tau_o, eng_o, sat_o = o[0], o[1], o[2]
    sg0 = seg_[ub]
    one_seg = True
    for t in range(1, nb):
        one_seg &= seg_[ub + np.uint64(t)] == sg0
    if one_seg:
        sg = np.uint64(sg0)
        r = (n1 + sg) * _UN_ACC
        s_eng = acc[r + np.uint64(A.ENGAGEMENT)]
        s_tau = acc[r + np.uint64(A.TRUST)]
        s_sat = acc[r + np.uint64(A.SATISFACTION)]
        n_dis = n_ad = n_both = 0
        for t in range(nb):
            _tally_firm(t, ub, n1, prov0, provider, flags, effort, sbits, o, acc, cnt)
            s_eng += eng_o[t]
            s_tau += tau_o[t]
            s_sat += sat_o[t]
            sb = np.int64(sbits[t])
            d = (sb >> 2) & 1
            a = (sb >> 1) & 1
            n_dis += d
            n_ad += a
            n_both += d & a
        acc[r + np.uint64(A.ENGAGEMENT)] = s_eng
        acc[r + np.uint64(A.TRUST)] = s_tau
        acc[r + np.uint64(A.SATISFACTION)] = s_sat
        c0 = _UC_SEGMENT * n1 + sg * _U4  # counts by disengaged | adopted << 1
        cnt[c0] += nb - n_dis - n_ad + n_both
        cnt[c0 + _U1] += n_dis - n_both
        cnt[c0 + _U2] += n_ad - n_both
        cnt[c0 + _U3] += n_both
    else:
        for t in range(nb):
            _tally_firm(t, ub, n1, prov0, provider, flags, effort, sbits, o, acc, cnt)
            sg = np.uint64(seg_[ub + np.uint64(t)])
            bits = np.uint64(sbits[t])
            r = (n1 + sg) * _UN_ACC
            acc[r + np.uint64(A.ENGAGEMENT)] += eng_o[t]
            acc[r + np.uint64(A.TRUST)] += tau_o[t]
            acc[r + np.uint64(A.SATISFACTION)] += sat_o[t]
            cnt[_UC_SEGMENT * n1 + sg * _U4 + (((bits >> _U2) & _U1) | (bits & _U2))] += 1


@njit(error_model="numpy")  # a division by zero in a lane that is not used gives inf, not an exception
def _chunk(ks, lo, hi, par, ft, ftf, fti, firm, traits, state, small, provider, tenure, acc, cnt, util):
    """The step of customers ``lo:hi``, block by block, adding to the chunk's accumulators.

    Per block of at most ``BLOCK`` customers, the passes in order: :func:`_draw_pass`,
    :func:`_gather_pass`, :func:`_firm_draw_pass`, :func:`_update_pass` (vectorised),
    :func:`_review_pass`, :func:`_store_pass`, :func:`_tally_pass`. Their buffers live
    on this function's stack.

    Arrays are indexed with unsigned integers: Numba then emits no negative-index
    wraparound, which would cost a compare and a select per access.
    """
    prefer_512()
    g = (stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32),
         stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32),
         stack_array(BLOCK, np.int32), stack_array(BLOCK, np.int32), stack_array(BLOCK, np.int32),
         stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32))
    o = (stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32),
         stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32),
         stack_array(BLOCK, np.float32), stack_array(BLOCK, np.float32), stack_array(BLOCK, np.int8),
         stack_array(BLOCK, np.int8), stack_array(BLOCK, np.int8), stack_array(BLOCK, np.int32))
    adopted_o = o[9]
    dbits = stack_array(BLOCK, np.uint8)
    noise_m = stack_array(BLOCK, np.int32)
    m_review = stack_array(BLOCK, np.int32)
    effort = stack_array(BLOCK, np.float32)
    flags = stack_array(BLOCK, np.uint8)
    sbits = stack_array(BLOCK, np.uint8)
    prov0 = stack_array(BLOCK, np.int16)
    pend = stack_array(BLOCK, np.int64)
    seg_ = small[Sm.SEGMENT]
    nt = np.uint64(ft.shape[1])
    n1 = np.uint64(ft.shape[0])
    # the state update is float32 arithmetic (as stored; twice the vector lanes of float64)
    below32 = _f32_at_least(par[P.DISENGAGED_BELOW])
    rec = (np.float32(par[P.REC_SATISFACTION]), np.float32(par[P.REC_TRUST]), np.float32(par[P.REC_ENGAGEMENT]),
           np.float32(par[P.REC_FREEDOM]), np.float32(par[P.REC_INFLUENCE]), np.float32(par[P.REC_OFFSET]),
           np.float32(par[P.REC_NOISE]), below32)
    hzf = par[P.REVIEW_HAZARD] * math.exp(par[P.HAZARD_FREEDOM])
    c_draw = (_f32_at_least(par[P.LITERACY_THRESHOLD]), np.int32(threshold(par[P.ADOPT_PROB])),
              np.int32(threshold(par[P.CONTACT_RATE])))
    c_update = (np.float32(par[P.EXPECTATION]), np.float32(par[P.HUMAN_EXPECTATION]),
                np.float32(par[P.TRUST_HUMAN_BONUS]), np.float32(par[P.INFLUENCE_DIGITAL]),
                np.float32(par[P.TRUST_GAIN]), np.float32(par[P.TRUST_LOSS]), np.float32(par[P.TOLERANCE]),
                np.float32(par[P.CONFIRMATION]),
                np.float32(par[P.SATISFACTION_MEMORY]), np.float32(par[P.INFLUENCE_RATE]),
                np.float32(par[P.ENGAGEMENT_RATE]), np.float32(par[P.DISENGAGE_RATE]),
                np.float32(par[P.STEER_FREEDOM_LOSS]), np.float32(par[P.STEER_TRUST_LOSS]),
                np.float32(par[P.ENGAGEMENT_DECAY]), np.float32(par[P.FREEDOM_RECOVERY]),
                np.float32(par[P.FAIRNESS_RATE]), np.float32(par[P.FAIRNESS_TRUST_LOSS]),
                np.float32(par[P.FAIRNESS_SLOPE]), np.float32(par[P.REFERENCE_PRICE_RATE]),
                np.float32(par[P.FREEDOM_QUALITY]), np.float32(par[P.INFLUENCE_ENGAGEMENT]),
                np.float32(1.0 / (1.0 + par[P.INFLUENCE_ENGAGEMENT])),
                np.float32(par[P.ALPHA_ENGAGEMENT]), np.float32(par[P.ALPHA_TRUST]),
                np.float32(hzf), np.float32(par[P.HAZARD_TRUST]),
                np.float32(par[P.HAZARD_ENGAGEMENT]), np.float32(par[P.HAZARD_FREEDOM]),
                np.int32(threshold(par[P.REVIEW_HAZARD])), *rec,
                np.int64(ft.shape[1] - FT.IV - 1))
    c_review = (*rec[:7], below32, np.float32(par[P.TRUST_INIT]), np.float32(par[P.CARRY_ENGAGEMENT]), hzf)
    for b0 in range(lo, hi, BLOCK):
        nb = min(BLOCK, hi - b0)
        ub = np.uint64(b0)
        _draw_pass(nb, ub, ks, c_draw, traits, small, adopted_o, m_review, dbits, noise_m)
        _gather_pass(nb, ub, nt, ftf, fti, provider, small, adopted_o, prov0, g)
        _firm_draw_pass(nb, ub, ks, traits, g, dbits)
        _update_pass(nb, ub, c_update, traits, state, small, tenure, prov0, g, dbits, m_review, noise_m, o,
                     effort, flags, sbits)
        _review_pass(nb, ub, ks, c_review, par, firm, ft, traits, provider, prov0, flags, pend, noise_m, o,
                     sbits, util, n1, cnt)
        _store_pass(nb, ub, o, state, small, tenure)
        _tally_pass(nb, ub, n1, seg_, prov0, provider, flags, effort, sbits, o, acc, cnt)


#: The signature :func:`_work` is compiled for (as a C function, :func:`_kernel`).
_WORK_SIG = types.void(types.int64[::1], types.uint32[::1], types.float64[::1], types.float64[:, ::1],
                       types.float32[::1], types.int32[::1], types.float64[:, ::1], types.float32[:, ::1],
                       types.float32[:, ::1], types.int8[:, ::1], types.int16[::1], types.int32[::1],
                       types.int64[::1], types.float64[:, :, ::1], types.float64[:, :, ::1])


def _work(next_chunk, ks, par, ft, ftf, fti, firm, traits, state, small, provider, tenure, bounds, tally,
          seg_tally):
    """One thread's share of a step: take the next chunk until none is left (compiled by :func:`_kernel`).

    Chunks go to whichever thread is free (an atomic counter), so a thread slowed by
    other work on its core does less of the step; what a chunk computes and where it
    writes its tallies do not depend on the thread, so results stay identical.
    """
    n_chunks = bounds.shape[0] - 1
    c = take_next(next_chunk)
    if c >= n_chunks:
        return
    n_firms = firm.shape[0]
    util = np.empty(n_firms)
    acc = np.empty((n_firms + 1 + seg_tally.shape[1]) * _N_ACC)
    cnt = np.empty((n_firms + 1) * C.SEGMENT + 4 * seg_tally.shape[1], np.int64)
    while c < n_chunks:
        acc[:] = 0.0
        cnt[:] = 0
        _chunk(ks, bounds[c], bounds[c + 1], par, ft, ftf, fti, firm, traits, state, small, provider,
               tenure, acc, cnt, util)
        _finish_tally(acc, cnt, tally[c], seg_tally[c])
        c = take_next(next_chunk)


_call_work = c_caller(_WORK_SIG)


@njit(parallel=True, nogil=True, cache=True)
def _launch_work(address, n, next_chunk, ks, par, ft, ftf, fti, firm, traits, state, small, provider, tenure,
                 bounds, tally, seg_tally):
    """Run the compiled :func:`_work` at ``address`` on ``n`` of Numba's threads (``n`` = 1: on this one,
    without entering the thread pool)."""
    if n == 1:
        _call_work(address, (next_chunk, ks, par, ft, ftf, fti, firm, traits, state, small, provider, tenure,
                             bounds, tally, seg_tally))
        return
    for _ in prange(n):
        _call_work(address, (next_chunk, ks, par, ft, ftf, fti, firm, traits, state, small, provider, tenure,
                             bounds, tally, seg_tally))


@njit(cache=True)  # cached on its own: a helper process compiles it while this one compiles _chunk
def _finish_tally(acc, cnt, tal, stal):
    """Turn a chunk's accumulators (``layout.A``, ``layout.C``) into its tally rows."""
    n_firms = tal.shape[0]
    n1 = n_firms + 1
    n_acc = _N_ACC
    tal[:, :] = 0.0
    stal[:, :] = 0.0
    for m in range(n_firms):
        r = m + 1
        for bits in range(_N_STATE_PATTERNS):
            n = np.float64(cnt[C.STATE * n1 + r * _N_STATE_PATTERNS + bits])
            tal[m, T.CUSTOMERS] += n
            tal[m, T.SHARED] += n * (bits & 1)
            tal[m, T.ADOPTED] += n * ((bits >> 1) & 1)
            tal[m, T.DISENGAGED] += n * ((bits >> 2) & 1)
            tal[m, T.PROMOTERS] += n * ((bits >> 3) & 1)
            tal[m, T.DETRACTORS] += n * ((bits >> 4) & 1)
        for bits in range(_N_CONTACT_PATTERNS):
            if bits & B.CONTACTED:
                n = np.float64(cnt[r * _N_CONTACT_PATTERNS + bits])
                tal[m, T.CONTACTS] += n
                tal[m, T.WANTED_HUMAN] += n * ((bits & B.WANTS) != 0)
                tal[m, T.HUMAN] += n * ((bits & B.HUMAN) != 0)
                tal[m, T.NOTICED] += n * ((bits & B.NOTICED) != 0)
                tal[m, T.PUSHED] += n * ((bits & B.PUSHED) != 0)
        tal[m, T.CHURN] = cnt[C.CHURN * n1 + r]
        tal[m, T.TENURE] = cnt[C.TENURE * n1 + r]
        tal[m, T.EFFORT] = acc[r * n_acc + A.EFFORT]
        tal[m, T.TRUST] = acc[r * n_acc + A.TRUST]
        tal[m, T.ENGAGEMENT] = acc[r * n_acc + A.ENGAGEMENT]
        tal[m, T.SATISFACTION] = acc[r * n_acc + A.SATISFACTION]
        tal[m, T.FREEDOM] = acc[r * n_acc + A.FREEDOM]
        tal[m, T.INFLUENCE] = acc[r * n_acc + A.INFLUENCE]
        tal[m, T.FAIRNESS] = acc[r * n_acc + A.FAIRNESS]
        tal[m, T.ALPHA] = acc[r * n_acc + A.ALPHA]
        tal[m, T.REF_PRICE] = acc[r * n_acc + A.REF_PRICE]
    for sg in range(stal.shape[0]):
        r = (n1 + sg) * n_acc
        stal[sg, S.ENGAGEMENT] = acc[r + A.ENGAGEMENT]
        stal[sg, S.TRUST] = acc[r + A.TRUST]
        stal[sg, S.SATISFACTION] = acc[r + A.SATISFACTION]
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


# --------------------------------------------------------------------------- kernels
def customer_step(key, par, firm, interv, traits, state, small, provider, tenure, bounds, tally, seg_tally):
    """Advance every customer one step and tally the result per chunk.

    Parameters
    ----------
    key : uint64
        Step key (:func:`sim.engine.rng.step_key`).
    par : float64[len(layout.P)]
        Market parameters and this step's market state (``layout.P``).
    firm : float64[F, len(layout.F)]
        Firm columns (``layout.F``); ``F.ALIVE`` > 0 marks firms customers can choose.
    interv : float64[F, n_forms]
        Per step pull of engagement toward 1 for customers preferring each form.
    traits : float32[len(Tr), N]; state : float32[len(St), N]; small : int8[len(Sm), N]
    provider : int16[N] (``NO_FIRM`` = must choose); tenure : int32[N] (steps with provider)
    bounds : int64[C + 1]
        Chunk boundaries; chunk c is customers ``bounds[c]:bounds[c + 1]``.
    tally : float64[C, F, len(layout.T)]; seg_tally : float64[C, S, len(layout.S)]
        Output, overwritten: per-chunk sums.

    The per-customer phases, in order: adoption, contact (channel, steering,
    availability), experience and disconfirmation, trust / satisfaction / influence
    / engagement / freedom / fairness, interventions, data sharing, price
    sensitivity, switching review and logit choice, tenure, recommendation score,
    tallies (the specification is :func:`sim.engine.reference.advance`; how the work is
    split into passes is described in :func:`_chunk`, how chunks are shared between
    threads in :func:`_work`).
    """
    _ensure_compiled()
    ks = stream_keys(np.uint64(key))
    ft = _firm_table(par, firm, interv)
    ftf = ft.ravel().astype(np.float32)  # the entries the float32 update uses, rounded as it rounds them
    fti = ft.ravel().astype(np.int32)  # the draw thresholds (integers in the table)
    _run("work", _launch_work, bounds, ks, par, ft, ftf, fti, firm, traits, state, small, provider, tenure, bounds,
         tally, seg_tally)


def assign_orphans(key, par, firm, traits, state, small, provider, bounds, lost):
    """Customers whose provider is ``lost`` (``NO_FIRM`` for the initial assignment, an exiting firm's
    index at its exit) choose among the alive firms and the outside option, through the same choice
    code as a review (:func:`_choose`, no inertia); a chosen firm's price becomes their reference
    price. Draws stream ``R.CHOICE`` of ``key``."""
    _ensure_compiled()
    k_choice = stream_keys(np.uint64(key))[R.CHOICE]
    ft = _firm_table(par, firm, np.zeros((firm.shape[0], 0)))
    _run("orphans", _launch_orphans, bounds, k_choice, par, firm, ft, traits, state, small, provider, bounds,
         np.int64(lost))


_ORPHANS_SIG = types.void(types.int64[::1], types.uint32, types.float64[::1], types.float64[:, ::1],
                          types.float64[:, ::1], types.float32[:, ::1], types.float32[:, ::1], types.int8[:, ::1],
                          types.int16[::1], types.int64[::1], types.int64)


def _orphans_work(next_chunk, k_choice, par, firm, ft, traits, state, small, provider, bounds, lost):
    """One thread's share of :func:`assign_orphans`: the next chunk until none is left (compiled by
    :func:`_kernel`)."""
    n_chunks = bounds.shape[0] - 1
    util = np.empty(firm.shape[0])
    c = take_next(next_chunk)
    while c < n_chunks:
        for i in range(bounds[c], bounds[c + 1]):
            if provider[i] == lost:
                k = _choose(firm, ft, NO_FIRM, 0, np.int64(small[Sm.ADOPTED, i]),
                            np.float64(traits[Tr.HUMAN_PREF, i]), np.float64(traits[Tr.AFFINITY, i]),
                            np.float64(state[St.ALPHA, i]), par, uniform_at(i, k_choice), util)
                provider[i] = k
                if k != NO_FIRM:
                    state[St.REF_PRICE, i] = np.float32(firm[k, F.PRICE])
        c = take_next(next_chunk)


_call_orphans = c_caller(_ORPHANS_SIG)


@njit(parallel=True, nogil=True, cache=True)
def _launch_orphans(address, n, next_chunk, k_choice, par, firm, ft, traits, state, small, provider, bounds, lost):
    """Run the compiled :func:`_orphans_work` at ``address`` on ``n`` of Numba's threads (as :func:`_launch_work`)."""
    if n == 1:
        _call_orphans(address, (next_chunk, k_choice, par, firm, ft, traits, state, small, provider, bounds, lost))
        return
    for _ in prange(n):
        _call_orphans(address, (next_chunk, k_choice, par, firm, ft, traits, state, small, provider, bounds, lost))


#: The thread kernels, compiled as C functions with these signatures (:func:`_kernel`).
_KERNELS = {"work": (_work, _WORK_SIG), "orphans": (_orphans_work, _ORPHANS_SIG)}
_COMPILED: dict[str, object] = {}  # the CFunc objects: their code lives as long as they do
#: One launch at a time in a process: Numba's ``workqueue`` threading layer (the one it falls back
#: to without OpenMP or TBB) must not be entered from two threads at once, and two launches would
#: only share the same cores (the classroom page may build a model while another steps).
_LAUNCH = threading.Lock()


def _kernel(name: str) -> int:
    """The address of thread kernel ``name`` compiled as a C function (``cfunc``; loaded from Numba's
    on-disk cache when it is there), compiled on first use.

    How the threads run: a ``parallel=True`` launcher (:func:`_launch_work`,
    :func:`_launch_orphans`) calls the kernel through its address once per thread, on Numba's
    own thread pool, whose threads wake without the GIL (a step of 10,000 customers on 2
    threads: 0.09 ms in the kernel, against 0.12 ms on one thread and 0.3 ms with Python helper
    threads). Each thread takes chunks from the same atomic counter until none is left, so a
    thread slowed by other work on its core does less of the step, and what a chunk computes
    does not depend on the thread that takes it. Calling the kernel through an address keeps
    it out of the launcher's compiled code, so the parallel lowering does not compile the
    kernel again (it did until round 3: a third of the cold start, benchmarks/README.md).
    """
    if name not in _COMPILED:
        py_func, sig = _KERNELS[name]
        _COMPILED[name] = cfunc(sig, cache=True)(py_func)
    return _COMPILED[name].address


#: What :func:`compile_side` compiles: every cached function the entry points call but the customer
#: kernel (:func:`_work` with :func:`_chunk`), for the argument types the entry points pass.
_BLOCK_OUT = types.Tuple((types.float32[::1],) * 8 + (types.int8[::1],) * 3 + (types.int32[::1],))  # _chunk's o
_SIDE = ((_tally_pass, (types.int64, types.uint64, types.uint64, types.int8[::1], types.int16[::1], types.int16[::1],
                        types.uint8[::1], types.float32[::1], types.uint8[::1], _BLOCK_OUT, types.float64[::1],
                        types.int64[::1])),
         (_finish_tally, (types.float64[::1], types.int64[::1], types.float64[:, ::1], types.float64[:, ::1])),
         (_launch_work, (types.int64, types.int64, *_WORK_SIG.args)),
         (stream_keys, (types.uint64,)),
         (_firm_table, (types.float64[::1], types.float64[:, ::1], types.float64[:, ::1])),
         (_launch_orphans, (types.int64, types.int64, *_ORPHANS_SIG.args)),
         (record_rows, (types.float64[:, ::1], types.float64[:, ::1], types.float64[:, ::1], types.float64[:, ::1],
                        types.float64[:, ::1], types.float64[::1], types.float64[::1], types.float64,
                        types.int64[::1], types.int64[:, ::1], types.int64[::1], types.int64[:, ::1],
                        types.int64[::1])))
_COMPILE = threading.Lock()


def compile_side() -> None:
    """Compile :data:`_SIDE` and the orphans kernel into Numba's on-disk cache (run by the helper
    process of :func:`_ensure_compiled`)."""
    for dispatcher, sig in _SIDE:
        dispatcher.compile(sig)
    _kernel("orphans")


def _ensure_compiled() -> None:
    """Compile or load the kernels before the first call of an entry point.

    With a cold cache (the customer kernel is not in it: a new machine, a new cache
    directory, an edited kernel source) and a second core, a helper process compiles
    everything else (:func:`compile_side`, nearly half of the work) into the shared
    on-disk cache while this process compiles the customer kernel; this process then
    loads those pieces. The compiled code is the same either way; ``SIM_COMPILE_HELPER=0``
    compiles everything here (:mod:`sim.engine.jitcache`).
    """
    if "work" in _COMPILED:
        return
    with _COMPILE:
        if "work" in _COMPILED:
            return
        py_func, sig = _KERNELS["work"]
        helper = None
        if jitcache.helper_wanted() and not jitcache.in_cache(py_func, sig):
            helper = jitcache.start_helper("engine.kernels", "compile_side")
        done = False
        try:
            _kernel("work")
            done = True
        finally:
            if helper is not None:
                jitcache.finish_helper(helper, wait=done)


def _threads(bounds: np.ndarray) -> int:
    """Threads for a call over the chunks ``bounds``: Numba's thread count, at most one per chunk; one in a
    process forked from one whose kernels ran on GNU OpenMP's threads (:func:`_after_fork`)."""
    if _FORK["serial"]:
        return 1
    return max(1, min(numba.get_num_threads(), bounds.shape[0] - 1))


def _run(name: str, launcher, bounds: np.ndarray, *args) -> None:
    """Run thread kernel ``name`` through ``launcher`` over the chunks ``bounds``: one launch at a time,
    each thread taking chunks from a fresh counter (the kernel's first argument)."""
    n = _threads(bounds)
    with _LAUNCH:
        _FORK["launched"] = True
        launcher(_kernel(name), n, np.zeros(1, np.int64), *args)


#: launched: this process has called a kernel; serial: it is a fork of one that ran them on OpenMP.
_FORK = {"launched": False, "serial": False}


def _after_fork() -> None:
    """In a forked child (``multiprocessing``'s default on Linux, ``mesa.batch_run`` with several
    processes): GNU OpenMP, the threading layer Numba picks where it exists, terminates a child
    that starts a parallel region after its parent had used it, so such a child runs the kernels
    on its own thread (the same numbers: they do not depend on the thread count). Numba's
    fork-safe ``workqueue`` layer instead made every call slower than one thread (benchmarks/
    README.md, round 5). The launch lock is made anew (the fork may have copied it locked)."""
    global _LAUNCH
    _LAUNCH = threading.Lock()
    if _FORK["launched"] and not _FORK["serial"]:
        try:
            _FORK["serial"] = numba.threading_layer() == "omp"
        except ValueError:  # no parallel region ran after all
            pass


os.register_at_fork(after_in_child=_after_fork)


def chunk_bounds(n: int, chunk: int = CHUNK) -> np.ndarray:
    """Fixed chunk boundaries for ``n`` customers (independent of the thread count)."""
    n_chunks = max(1, -(-n // chunk))
    return np.linspace(0, n, n_chunks + 1).astype(np.int64)
