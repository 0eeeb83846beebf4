"""Plain-Python reference of the customer step, written for reading, not speed.

:func:`step_customer` applies one step to one customer with Python floats and
``math``, in the order the model documents (docs/ODD.md); :func:`customer_step`
loops it over a population. The tests compare it with the Numba kernel
:func:`sim.kernels.customer_step` on small populations: states must agree
exactly, tallies to 1e-12. The per-agent Mesa model of the benchmarks reuses
:func:`step_customer`.
"""

from __future__ import annotations

import math

import numpy as np

from . import kernels as K
from .kernels import GOLDEN, MASK64, mix64


def uniform(key: int, i: int, stream: int) -> float:
    """The counter-based uniform of customer ``i``, ``stream``, under ``key``."""
    base = mix64((key + i * GOLDEN) & MASK64)
    z = mix64((base + (stream + 1) * GOLDEN) & MASK64)
    return (z >> 11) * (1.0 / 9007199254740992.0)


def gate(x: float, center: float, slope: float) -> float:
    """Emotion gate: 1 / (1 + exp(-slope (x - center)))."""
    return 1.0 / (1.0 + math.exp(-slope * (x - center)))


def digital_seen(firm: np.ndarray, m: int, shared: int, adopted: int, par: np.ndarray) -> float:
    de = float(firm[m, K.F_DIGITAL]) * (1.0 + float(firm[m, K.F_PERSONAL]) * shared)
    de = min(de, 1.0)
    if not adopted:
        de *= float(par[K.P_EXCLUSION])
    return de


def utility(firm, m, current, shared, adopted, phi, w, alpha, par) -> float:
    """Utility of firm ``m`` for one customer (see docs/ODD.md, submodel 'choice')."""
    x = digital_seen(firm, m, shared if m == current else 0, adopted, par) - par[K.P_EXPECTATION]
    ud = 0.0
    if adopted:
        ud = par[K.P_BETA_DIGITAL] * (-x * x if x < 0 else par[K.P_DIGITAL_GAIN] * x)
    h = float(firm[m, K.F_HUMAN])
    if not adopted:
        phi = 1.0
    u = (ud + par[K.P_BETA_HUMAN] * phi * h
         + par[K.P_BETA_EMOTION] * w * h * gate(x, par[K.P_GATE_CENTER], par[K.P_GATE_SLOPE])
         - alpha * firm[m, K.F_PRICE] + par[K.P_BETA_REP] * firm[m, K.F_REPUTATION])
    if m == current:
        u += par[K.P_INERTIA]
    return float(u)


def choose(firm, current, shared, adopted, phi, w, alpha, par, r) -> int:
    """Logit choice among alive firms with one uniform ``r`` (inverse CDF, firm order)."""
    alive = [m for m in range(firm.shape[0]) if firm[m, K.F_ALIVE] > 0]
    if not alive:
        return K.NO_FIRM
    utils = [utility(firm, m, current, shared, adopted, phi, w, alpha, par) for m in alive]
    top = max(utils)
    weights = [math.exp(u - top) for u in utils]
    total = 0.0
    for wgt in weights:
        total += wgt
    target, acc = r * total, 0.0
    for m, wgt in zip(alive, weights):
        acc += wgt
        if target < acc:
            return m
    return alive[-1]


def clip01(x: float) -> float:
    return min(1.0, max(0.0, x))


def step_customer(i: int, key: int, par, firm, interv, traits, state, small, provider, tenure,
                  tally, seg_tally) -> None:
    """One step for customer ``i``; mutates the arrays and adds to ``tally``/``seg_tally``."""
    P = par
    u = lambda stream: uniform(key, i, stream)  # noqa: E731
    j = int(provider[i])
    phi = float(traits[K.HUMAN_PREF, i])
    w = float(traits[K.AFFINITY, i])
    tau = float(state[K.TRUST, i])
    eng = float(state[K.ENGAGEMENT, i])
    sat = float(state[K.SATISFACTION, i])
    free = float(state[K.FREEDOM, i])
    infl = float(state[K.INFLUENCE, i])
    fair = float(state[K.FAIRNESS, i])
    shared = int(small[K.SHARED, i])
    adopted = int(small[K.ADOPTED, i])
    # 1. adoption
    if not adopted and traits[K.LITERACY, i] >= P[K.P_LIT_THRESHOLD] and u(K.R_ADOPT) < P[K.P_ADOPT_PROB]:
        adopted = 1
    contacted = human = wants = pushed = noticed = False
    effort = 0.0
    if j != K.NO_FIRM:
        dx = digital_seen(firm, j, shared, adopted, P)
        h = float(firm[j, K.F_HUMAN])
        emo = h * gate(dx - P[K.P_EXPECTATION], P[K.P_GATE_CENTER], P[K.P_GATE_SLOPE])
        if u(K.R_CONTACT) < P[K.P_CONTACT]:
            contacted = True
            wants = (not adopted) or u(K.R_WANT_HUMAN) < phi
            human = wants
            if wants:
                mode = firm[j, K.F_STEER_MODE]
                if mode != K.STEER_NONE and u(K.R_STEER) < firm[j, K.F_STEER_P]:
                    human = False
                    noticed = True if mode == K.STEER_HARD else u(K.R_NOTICE) < P[K.P_NOTICE_SOFT]
                if human and u(K.R_AVAIL) >= firm[j, K.F_AVAIL]:
                    human = False
            pushed = wants and not human
            if human:
                q, delta, heard = h, h - P[K.P_HUMAN_EXP] + P[K.P_TRUST_HUMAN], h
            else:
                q, delta, heard = dx, dx - P[K.P_EXPECTATION], dx * P[K.P_INFLUENCE_DIGITAL]
            effort = 1.0 - q
            if delta > 0:
                tau += P[K.P_TRUST_GAIN] * min(delta, 1.0) * (1.0 - tau)
            else:
                tau += P[K.P_TRUST_LOSS] * max(delta, -1.0) * tau
            sat += P[K.P_SAT_MEMORY] * (q - sat)
            infl += P[K.P_INFLUENCE_RATE] * (heard - infl)
            eng += P[K.P_ENG_RATE] * (w * emo - eng)
            if pushed and not adopted:
                eng -= P[K.P_DISENGAGE] * eng
            if noticed:
                free -= P[K.P_STEER_FREEDOM] * free
                tau -= P[K.P_STEER_TRUST] * tau
        else:
            eng -= P[K.P_ENG_DECAY] * eng
        if not noticed:
            free += P[K.P_FREEDOM_RECOVERY] * (1.0 - free)
        target = clip01(1.0 - P[K.P_FAIR_SLOPE] * (firm[j, K.F_PRICE] / P[K.P_MEAN_PRICE] - 1.0))
        fair += P[K.P_FAIR_RATE] * (target - fair)
        if fair < 0.5:
            tau -= P[K.P_FAIR_TRUST] * (0.5 - fair) * tau
        form = int(small[K.FORM, i])
        if form < interv.shape[1]:
            eng += w * interv[j, form] * (1.0 - eng)
        tau, eng = clip01(tau), clip01(eng)
        shared = 1 if tau > traits[K.PRIVACY, i] else 0
    alpha = (float(traits[K.ALPHA0, i]) * (1.0 + P[K.P_ALPHA_COMMODITY] * P[K.P_COMMODITY])
             * (1.0 - P[K.P_ALPHA_ENG] * eng) * (1.0 - P[K.P_ALPHA_TRUST] * tau))
    review = j == K.NO_FIRM
    if not review:
        r = u(K.R_REVIEW)
        review = r < P[K.P_HAZARD] * math.exp(-P[K.P_HAZARD_TRUST] * tau - P[K.P_HAZARD_ENG] * eng)
    k = j
    if review:
        k = choose(firm, j, shared, adopted, phi, w, alpha, P, u(K.R_CHOICE))
        if k != j:
            if j != K.NO_FIRM:
                tally[j, K.T_CHURN] += 1
            tenure[i] = 0
            shared = 0
            tau = float(P[K.P_TRUST_INIT])
            eng *= P[K.P_CARRY_ENG]
    tenure[i] += 1
    x = (10.0 * (P[K.P_REC_SAT] * sat + P[K.P_REC_TRUST] * tau + P[K.P_REC_ENG] * eng)
         + P[K.P_REC_OFFSET] + 0.5 + P[K.P_REC_NOISE] * (u(K.R_SCORE) + u(K.R_SCORE2) - 1.0))
    score = 10 if x >= 10 else (0 if x < 0 else int(x))
    provider[i] = k
    state[K.TRUST, i], state[K.ENGAGEMENT, i], state[K.SATISFACTION, i] = tau, eng, sat
    state[K.FREEDOM, i], state[K.INFLUENCE, i], state[K.FAIRNESS, i] = free, infl, fair
    state[K.ALPHA, i] = alpha
    small[K.SHARED, i], small[K.ADOPTED, i], small[K.SCORE, i] = shared, adopted, score
    if contacted:
        tally[j, K.T_CONTACTS] += 1
        tally[j, K.T_EFFORT] += effort
        tally[j, K.T_WANTED_HUMAN] += wants
        tally[j, K.T_HUMAN] += human
        tally[j, K.T_NOTICED] += noticed
        tally[j, K.T_PUSHED] += pushed
    eng32 = float(state[K.ENGAGEMENT, i])
    diseng = 1.0 if eng32 < P[K.P_DISENGAGED_BELOW] else 0.0
    if k != K.NO_FIRM:
        row = tally[k]
        row[K.T_CUSTOMERS] += 1
        for col, value in ((K.T_TRUST, state[K.TRUST, i]), (K.T_ENGAGEMENT, eng32),
                           (K.T_SATISFACTION, state[K.SATISFACTION, i]), (K.T_FREEDOM, state[K.FREEDOM, i]),
                           (K.T_INFLUENCE, state[K.INFLUENCE, i]), (K.T_FAIRNESS, state[K.FAIRNESS, i]),
                           (K.T_ALPHA, state[K.ALPHA, i]), (K.T_TENURE, tenure[i]), (K.T_SHARED, shared),
                           (K.T_ADOPTED, adopted), (K.T_DISENGAGED, diseng)):
            row[col] += float(value)
        row[K.T_PROMOTERS] += score >= 9
        row[K.T_DETRACTORS] += score <= 6
    s = int(small[K.SEGMENT, i])
    for col, value in ((K.S_COUNT, 1.0), (K.S_ENGAGEMENT, eng32), (K.S_TRUST, state[K.TRUST, i]),
                       (K.S_DISENGAGED, diseng), (K.S_ADOPTED, adopted),
                       (K.S_SATISFACTION, state[K.SATISFACTION, i])):
        seg_tally[s, col] += float(value)


def customer_step(key, par, firm, interv, traits, state, small, provider, tenure, n_segments
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Reference of :func:`sim.kernels.customer_step`; returns the summed tallies."""
    tally = np.zeros((firm.shape[0], K.N_FIRM_TALLY))
    seg_tally = np.zeros((n_segments, K.N_SEG_TALLY))
    key = int(key)
    for i in range(provider.shape[0]):
        step_customer(i, key, par, firm, interv, traits, state, small, provider, tenure, tally, seg_tally)
    return tally, seg_tally


def assign_orphans(key, par, firm, traits, state, small, provider) -> None:
    """Reference of :func:`sim.kernels.assign_orphans`."""
    key = int(key)
    for i in range(provider.shape[0]):
        if provider[i] == K.NO_FIRM:
            provider[i] = choose(firm, K.NO_FIRM, 0, int(small[K.ADOPTED, i]), float(traits[K.HUMAN_PREF, i]),
                                 float(traits[K.AFFINITY, i]), float(state[K.ALPHA, i]), par,
                                 uniform(key, i, K.R_CHOICE))
