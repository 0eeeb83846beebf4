"""Plain-Python reference of the customer step, written for reading, not speed.

:func:`advance` applies one step to one customer (any object with the attributes
:data:`FIELDS`) with Python floats and ``math``, in the order the model documents
(docs/ODD.md); :func:`step_customer` applies it to customer ``i`` of the
population arrays and :func:`customer_step` loops that over a population. The
tests compare it with the Numba kernel :func:`sim.kernels.customer_step` on
small populations: states must agree exactly, tallies to 1e-12. The per-agent
Mesa model of the benchmarks (:mod:`sim.agents`) calls :func:`advance` on its
agents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import kernels as K


def uniform(key: int, i: int, stream: int) -> float:
    """The counter-based uniform of customer ``i``, ``stream``, under ``key``."""
    return (K.hash32(i + K.stream_key(key, stream)) >> (32 - K.UNIT_BITS)) * 2.0 ** -K.UNIT_BITS


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
    for m, wgt in zip(alive, weights, strict=True):
        acc += wgt
        if target < acc:
            return m
    return alive[-1]


def clip01(x: float) -> float:
    return min(1.0, max(0.0, x))


#: The attributes of one customer that :func:`advance` reads and writes: traits,
#: state, small integers (rows of the population arrays, in their order), provider
#: and tenure.
TRAIT_FIELDS = ("literacy", "human_pref", "affinity", "privacy", "alpha0")
STATE_FIELDS = ("trust", "engagement", "satisfaction", "freedom", "influence", "fairness", "alpha")
SMALL_FIELDS = ("shared", "adopted", "score", "form", "segment")
FIELDS = (*TRAIT_FIELDS, *STATE_FIELDS, *SMALL_FIELDS, "provider", "tenure")


@dataclass(slots=True)
class Customer:
    """One customer as plain Python scalars (floats hold float32 values, as stored)."""

    literacy: float = 0.0
    human_pref: float = 0.0
    affinity: float = 0.0
    privacy: float = 0.0
    alpha0: float = 0.0
    trust: float = 0.0
    engagement: float = 0.0
    satisfaction: float = 0.0
    freedom: float = 0.0
    influence: float = 0.0
    fairness: float = 0.0
    alpha: float = 0.0
    shared: int = 0
    adopted: int = 0
    score: int = 0
    form: int = 0
    segment: int = 0
    provider: int = K.NO_FIRM
    tenure: int = 0


def load_customer(c, i: int, traits, state, small, provider, tenure):
    """Copy customer ``i`` of the population arrays into the attributes of ``c``; returns ``c``."""
    for row, name in enumerate(TRAIT_FIELDS):
        setattr(c, name, float(traits[row, i]))
    for row, name in enumerate(STATE_FIELDS):
        setattr(c, name, float(state[row, i]))
    for row, name in enumerate(SMALL_FIELDS):
        setattr(c, name, int(small[row, i]))
    c.provider = int(provider[i])
    c.tenure = int(tenure[i])
    return c


def store_customer(c, i: int, state, small, provider, tenure) -> None:
    """Write the state of ``c`` back into customer ``i`` of the arrays (traits do not change)."""
    for row, name in enumerate(STATE_FIELDS):
        state[row, i] = getattr(c, name)
    for row, name in enumerate(SMALL_FIELDS):
        small[row, i] = getattr(c, name)
    provider[i] = c.provider
    tenure[i] = c.tenure


def f32(x: float) -> float:
    """``x`` rounded to float32, as storing it in the state arrays does."""
    return float(np.float32(x))


def advance(c, u, par, firm, interv, tally, seg_tally, par32=None) -> None:
    """One step for one customer: the rules of the model, in order.

    ``c`` is any object with the attributes :data:`FIELDS` (a :class:`Customer`,
    or a Mesa agent in :mod:`sim.agents`); its state attributes are updated,
    rounded to float32 as the arrays store them. ``u(stream)`` returns the
    customer's uniform of a random stream for this step. Adds the customer's
    contributions to ``tally`` (F, N_FIRM_TALLY) and ``seg_tally`` (S, N_SEG_TALLY).
    ``par32`` is ``par`` rounded to float32, if the caller has it (made here otherwise).
    """
    # The state update is float32 arithmetic: P32 holds the parameters rounded to float32,
    # the state variables are np.float32, and Python float literals adapt to them.
    P = par
    P32 = np.asarray(par, dtype=np.float32) if par32 is None else par32
    f = np.float32
    j = c.provider
    phi = c.human_pref
    w = f(c.affinity)
    tau = f(c.trust)
    eng = f(c.engagement)
    sat = f(c.satisfaction)
    free = f(c.freedom)
    infl = f(c.influence)
    fair = f(c.fairness)
    shared = c.shared
    adopted = c.adopted
    # 1. adoption
    if not adopted and c.literacy >= P[K.P_LIT_THRESHOLD] and u(K.R_ADOPT) < P[K.P_ADOPT_PROB]:
        adopted = 1
    contacted = human = wants = pushed = noticed = False
    effort = f(0.0)
    if j != K.NO_FIRM:
        dx64 = digital_seen(firm, j, shared, adopted, P)
        h = f(firm[j, K.F_HUMAN])
        emo = f(float(firm[j, K.F_HUMAN]) * gate(dx64 - P[K.P_EXPECTATION], P[K.P_GATE_CENTER],
                                                 P[K.P_GATE_SLOPE]))
        dx = f(dx64)
        P = P32  # from here on, float32
        if u(K.R_CONTACT) < par[K.P_CONTACT]:
            contacted = True
            wants = (not adopted) or u(K.R_WANT_HUMAN) < phi
            human = wants
            if wants:
                mode = firm[j, K.F_STEER_MODE]
                if mode != K.STEER_NONE and u(K.R_STEER) < firm[j, K.F_STEER_P]:
                    human = False
                    noticed = True if mode == K.STEER_HARD else u(K.R_NOTICE) < par[K.P_NOTICE_SOFT]
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
        target = f(clip01(1.0 - par[K.P_FAIR_SLOPE] * (firm[j, K.F_PRICE] / par[K.P_MEAN_PRICE] - 1.0)))
        fair += P[K.P_FAIR_RATE] * (target - fair)
        if fair < 0.5:
            tau -= P[K.P_FAIR_TRUST] * (0.5 - fair) * tau
        form = c.form
        if form < interv.shape[1]:
            eng += w * f(interv[j, form]) * (1.0 - eng)
        tau, eng = f(clip01(tau)), f(clip01(eng))
        shared = 1 if tau > c.privacy else 0
    P = P32
    c1 = f(1.0 + par[K.P_ALPHA_COMMODITY] * par[K.P_COMMODITY])
    alpha = f(c.alpha0) * c1 * (1.0 - P[K.P_ALPHA_ENG] * eng) * (1.0 - P[K.P_ALPHA_TRUST] * tau)
    review = j == K.NO_FIRM
    if not review:
        r = u(K.R_REVIEW)
        review = r < par[K.P_HAZARD] * math.exp(-par[K.P_HAZARD_TRUST] * float(tau)
                                                - par[K.P_HAZARD_ENG] * float(eng))
    k = j
    if review:
        k = choose(firm, j, shared, adopted, phi, float(w), float(alpha), par, u(K.R_CHOICE))
        if k != j:
            if j != K.NO_FIRM:
                tally[j, K.T_CHURN] += 1
            c.tenure = 0
            shared = 0
            tau = P[K.P_TRUST_INIT]
            eng = eng * P[K.P_CARRY_ENG]
    c.tenure += 1
    x = (10.0 * (P[K.P_REC_SAT] * sat + P[K.P_REC_TRUST] * tau + P[K.P_REC_ENG] * eng)
         + P[K.P_REC_OFFSET] + 0.5 + P[K.P_REC_NOISE] * f(u(K.R_SCORE) + u(K.R_SCORE2) - 1.0))
    score = 10 if x >= 10 else (0 if x < 0 else int(x))
    c.provider = k
    c.trust, c.engagement, c.satisfaction = f32(tau), f32(eng), f32(sat)
    c.freedom, c.influence, c.fairness, c.alpha = f32(free), f32(infl), f32(fair), f32(alpha)
    c.shared, c.adopted, c.score = shared, adopted, score
    if contacted:
        tally[j, K.T_CONTACTS] += 1
        tally[j, K.T_EFFORT] += effort
        tally[j, K.T_WANTED_HUMAN] += wants
        tally[j, K.T_HUMAN] += human
        tally[j, K.T_NOTICED] += noticed
        tally[j, K.T_PUSHED] += pushed
    eng32 = c.engagement
    diseng = 1.0 if eng32 < par[K.P_DISENGAGED_BELOW] else 0.0
    if k != K.NO_FIRM:
        row = tally[k]
        row[K.T_CUSTOMERS] += 1
        for col, value in ((K.T_TRUST, c.trust), (K.T_ENGAGEMENT, eng32),
                           (K.T_SATISFACTION, c.satisfaction), (K.T_FREEDOM, c.freedom),
                           (K.T_INFLUENCE, c.influence), (K.T_FAIRNESS, c.fairness),
                           (K.T_ALPHA, c.alpha), (K.T_TENURE, c.tenure), (K.T_SHARED, shared),
                           (K.T_ADOPTED, adopted), (K.T_DISENGAGED, diseng)):
            row[col] += float(value)
        row[K.T_PROMOTERS] += score >= 9
        row[K.T_DETRACTORS] += score <= 6
    s = c.segment
    for col, value in ((K.S_COUNT, 1.0), (K.S_ENGAGEMENT, eng32), (K.S_TRUST, c.trust),
                       (K.S_DISENGAGED, diseng), (K.S_ADOPTED, adopted),
                       (K.S_SATISFACTION, c.satisfaction)):
        seg_tally[s, col] += float(value)


def step_customer(i: int, key: int, par, firm, interv, traits, state, small, provider, tenure,
                  tally, seg_tally) -> None:
    """One step for customer ``i`` of the arrays; mutates them and adds to ``tally``/``seg_tally``."""
    c = load_customer(Customer(), i, traits, state, small, provider, tenure)
    advance(c, lambda stream: uniform(key, i, stream), par, firm, interv, tally, seg_tally)
    store_customer(c, i, state, small, provider, tenure)


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
