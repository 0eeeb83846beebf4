"""The rules of a customer's step as the kernel runs them: the vectorised update and the review.

:func:`update_pass` applies every phase but the review's choice to a block of
customers, branch-free (each conditional update of the reference is a select), in
float32, reading the market parameters from ``p`` (``par`` rounded to float32, indexed
by ``layout.P``) and writing the new state to the block's buffers ``o_st`` (one row per
state of ``layout.St``) and ``o_sm`` (rows of ``layout.Sm``). :func:`review_pass` then
handles the few customers whose review is near or below the hazard bound: the exact
review, the logit choice (:mod:`sim.engine.choice`) and the reset of those who switch.
The arithmetic is the reference's (:func:`sim.engine.reference.advance`), operation for
operation.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from .choice import choice_weights, pick, tally_demand
from .layout import FT, N_ST, NO_FIRM, A, B, D, P, R, Sm, St, Tr
from .rng import uniform_at
from .scalars import _F0, _F1, _F10, _FHALF, _FUNIT, clip01_f32, exp_neg, satisfaction_target, state_bits

_N_ACC = len(A)
#: Relative margin of the review bound (see ``exp_neg``), far above its error (~1e-3).
REVIEW_MARGIN = 0.03

#: The values of a step derived from ``par`` that the passes need besides ``p`` (rounded or
#: combined as the reference rounds or combines them): draw thresholds, the literacy and
#: disengagement thresholds as float32, the hazard at zero trust, engagement and freedom
#: (float64 and float32), 1 / (1 + influence_engagement), and the number of intervention forms.
Derived = namedtuple("Derived", ("literacy32", "t_adopt", "t_contact", "t_hz", "t_panel", "hzf", "hz32", "inv_ki",
                                 "below32", "n_forms"))
#: The block's gathered firm-table entries of each customer's provider (one buffer each).
Gathered = namedtuple("Gathered", ("dx", "gate", "esc", "gate_avail", "h", "hv", "price", "steer", "notice", "avail",
                                   "iv", "free"))


@njit(inline="always")
def score_of(p, noise, sat, tau, eng, free, infl, noise_m):
    """The 0-10 recommendation likelihood: 10 x the weighted scores plus offset and noise, floored."""
    x = (_F10 * (p[P.REC_SATISFACTION] * sat + p[P.REC_TRUST] * tau + p[P.REC_ENGAGEMENT] * eng
                 + p[P.REC_FREEDOM] * free + p[P.REC_INFLUENCE] * infl) + p[P.REC_OFFSET] + _FHALF
         + noise * (np.float32(noise_m) * _FUNIT))
    return np.int32(min(max(x, _F0), _F10))


@njit(inline="always")
def update_pass(nb, ub, p, dv, traits, state, small, tenure, prov0, g, dbits, m_review, noise_m, o_st, o_sm,
                tenure_o, effort, flags, sbits):
    """Every phase but the review's choice, for the ``nb`` customers from ``ub`` (vectorised).

    Every uniform a customer might need was drawn (an unused draw changes nothing).
    Results go to the block's buffers, assuming the customer stays; customers whose
    review draw is near or below the hazard bound (and the outside customers who look
    around) are flagged pending.
    """
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
    e = p[P.EXPECTATION]
    ki = p[P.INFLUENCE_ENGAGEMENT]
    for t in range(nb):
        ix = ub + np.uint64(t)
        for row in range(N_ST):  # a state row no rule below writes is carried over unchanged
            o_st[row, t] = state[row, ix]
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
        adopted = o_sm[Sm.ADOPTED, t] != 0
        dx = g.dx[t]
        h = g.h[t]
        # emotional value: the human level's weight, gated by the basics of the channels this customer uses
        om = (_F1 - phi_[ix]) if adopted else _F0
        emo = g.hv[t] * (om * g.gate[t] + (_F1 - om) * g.gate_avail[t])
        # contact and channel
        contacted = has & ((db & D.CONTACT) != 0)
        wants = contacted & ((not adopted) | ((db & D.WANT_HUMAN) != 0))
        steered = wants & ((db & D.STEER) != 0)
        noticed = steered & ((db & D.NOTICE) != 0)
        human = wants & (not steered) & ((db & D.AVAIL) != 0)
        pushed = wants & (not human)
        # experience (spoilt by low freedom of choice) and disconfirmation
        q = (h if human else dx) * (_F1 - p[P.FREEDOM_QUALITY] * (_F1 - free))
        expected = p[P.HUMAN_EXPECTATION] if human else e
        delta = (h - expected + p[P.TRUST_HUMAN_BONUS]) if human else (dx - expected)
        heard = h if human else dx * p[P.INFLUENCE_DIGITAL]
        # trust (asymmetric, confirmation when met), satisfaction, influence, engagement
        tol = p[P.TOLERANCE]
        up = tau + (p[P.TRUST_GAIN] * min(max(delta, _F0), _F1) + p[P.CONFIRMATION]) * (_F1 - tau)
        down = tau + p[P.TRUST_LOSS] * max(delta + tol, -_F1) * tau
        tau_c = up if delta >= -tol else down
        # satisfaction: met expectations, saturating above them
        sat_c = sat + p[P.SATISFACTION_MEMORY] * (satisfaction_target(q - expected, p[P.SATISFACTION_SLOPE], tol) - sat)
        infl_c = infl + p[P.INFLUENCE_RATE] * (heard - infl)
        eng_c = eng + p[P.ENGAGEMENT_RATE] * (w * ((emo + ki * infl_c) * dv.inv_ki) - eng)
        if pushed & (not adopted):
            eng_c = eng_c - p[P.DISENGAGE_RATE] * eng_c
        free_c = free
        if noticed:
            free_c = free - p[P.STEER_FREEDOM_LOSS] * free
            tau_c = tau_c - p[P.STEER_TRUST_LOSS] * tau_c
        if not contacted:
            tau_c = tau
            sat_c = sat
            infl_c = infl
            eng_c = eng - p[P.ENGAGEMENT_DECAY] * eng
        if not noticed:
            free_c = free_c + p[P.FREEDOM_RECOVERY] * (g.free[t] - free_c)
        # fairness against the remembered reference price, interventions, clipping, data sharing
        price = g.price[t]
        fair_c = fair + p[P.FAIRNESS_RATE] * (clip01_f32(_F1 - p[P.FAIRNESS_SLOPE] * (price / ref - _F1)) - fair)
        ref_c = ref + p[P.REFERENCE_PRICE_RATE] * (price - ref)
        tau_c = tau_c - p[P.FAIRNESS_TRUST_LOSS] * (_F1 - fair_c) * tau_c  # unfairness costs trust
        if np.int64(form_[ix]) < dv.n_forms:
            eng_c = eng_c + w * g.iv[t] * (_F1 - eng_c)
        tau_c = clip01_f32(tau_c)
        eng_c = clip01_f32(eng_c)
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
        alpha = a0_[ix] * (_F1 - p[P.ALPHA_ENGAGEMENT] * eng) * (_F1 - p[P.ALPHA_TRUST] * tau)
        # review: u < hz exp(-k_tau tau - k_e eng - k_f free), decided here unless u is within the
        # margin of an approximation of the bound; those, and the sure reviews, are pending.
        # A customer outside the market looks around when u < hz (an exact integer compare).
        u_rev = np.float32(m_review[t]) * _FUNIT
        hb = dv.hz32 * exp_neg(p[P.HAZARD_TRUST] * tau + p[P.HAZARD_ENGAGEMENT] * eng + p[P.HAZARD_FREEDOM] * free)
        outside_looks = m_review[t] < dv.t_hz
        reviews = (has & (u_rev < hb * lo_margin)) | ((not has) & outside_looks)
        panel = (db & D.PANEL) != 0
        pending = (has & (u_rev < hb * hi_margin)) | ((not has) & outside_looks) | panel
        score = score_of(p, p[P.REC_NOISE], sat, tau, eng, free, infl, noise_m[t])
        o_st[St.TRUST, t] = tau
        o_st[St.ENGAGEMENT, t] = eng
        o_st[St.SATISFACTION, t] = sat
        o_st[St.FREEDOM, t] = free
        o_st[St.INFLUENCE, t] = infl
        o_st[St.FAIRNESS, t] = fair
        o_st[St.ALPHA, t] = alpha
        o_st[St.REF_PRICE, t] = ref
        o_sm[Sm.SHARED, t] = shared
        o_sm[Sm.SCORE, t] = score
        sbits[t] = state_bits(shared, adopted, eng < dv.below32, score)
        tenure_o[t] = tenure[ix] + 1
        effort[t] = (_F1 - q) if contacted else _F0
        flags[t] = ((B.CONTACTED if contacted else 0) | (B.WANTS if wants else 0)
                    | (B.HUMAN if human else 0) | (B.NOTICED if noticed else 0)
                    | (B.PUSHED if pushed else 0) | (B.PENDING if pending else 0)
                    | (B.REVIEWS if reviews else 0) | (B.PANEL if panel else 0))


@njit(inline="always")
def review_pass(nb, ub, ks, p, dv, par, firm, ft, traits, provider, prov0, flags, pend, noise_m, o_st, o_sm,
                tenure_o, sbits, util, n1, cnt, churn0, acc):
    """Pending customers only (a few percent, listed first by a branch-free compaction): the exact
    review, the logit choice with its demand tallies, and the reset of those who switch (churn counted
    at ``churn0``)."""
    phi_ = traits[Tr.HUMAN_PREF]
    w_ = traits[Tr.AFFINITY]
    k_review = ks[R.REVIEW]
    k_choice = ks[R.CHOICE]
    n_pend = 0
    for t in range(nb):
        pend[n_pend] = t
        n_pend += np.int64((flags[t] & B.PENDING) != 0)
    for q in range(n_pend):
        t = pend[q]
        ix = ub + np.uint64(t)
        i32 = np.uint32(ix)
        j = np.int64(prov0[t])
        tau = o_st[St.TRUST, t]
        eng = o_st[St.ENGAGEMENT, t]
        review = (flags[t] & B.REVIEWS) != 0
        if not review and j != NO_FIRM:  # outside the market: only the exact integer compare above
            review = uniform_at(i32, k_review) < dv.hzf * math.exp(
                -par[P.HAZARD_TRUST] * np.float64(tau) - par[P.HAZARD_ENGAGEMENT] * np.float64(eng)
                - par[P.HAZARD_FREEDOM] * np.float64(o_st[St.FREEDOM, t]))
        if not (review or (flags[t] & B.PANEL) != 0):
            continue
        # a choosing customer, or one of the step's demand panel: the firms' demand tallies
        alpha = np.float64(o_st[St.ALPHA, t])
        total = choice_weights(firm, ft, j, np.int64(o_sm[Sm.SHARED, t]), np.int64(o_sm[Sm.ADOPTED, t]),
                               np.float64(phi_[ix]), np.float64(w_[ix]), alpha, par, util)
        tally_demand(firm, util, total, alpha, acc, _N_ACC)
        if review:
            k = pick(firm, util, total, uniform_at(i32, k_choice))
            if k != j:
                cnt[churn0 + np.uint64(j + 1)] += 1
                tau = p[P.TRUST_INIT]
                eng = eng * p[P.CARRY_ENGAGEMENT]
                score = score_of(p, p[P.REC_NOISE], o_st[St.SATISFACTION, t], tau, eng, o_st[St.FREEDOM, t],
                                 o_st[St.INFLUENCE, t], noise_m[t])
                provider[ix] = k
                o_st[St.TRUST, t] = tau
                o_st[St.ENGAGEMENT, t] = eng
                o_sm[Sm.SHARED, t] = 0
                if k != NO_FIRM:
                    o_st[St.REF_PRICE, t] = np.float32(ft[k + 1, FT.PRICE])
                o_sm[Sm.SCORE, t] = score
                sbits[t] = state_bits(0, o_sm[Sm.ADOPTED, t] != 0, eng < dv.below32, score)
                tenure_o[t] = 1
