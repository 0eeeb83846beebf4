"""Plain-Python reference of the customer step, written for reading, not speed.

:func:`advance` applies one step to one customer (any object with the attributes
:data:`FIELDS`) with Python floats and ``math``, in the order the model documents
(docs/ODD.md); :func:`step_customer` applies it to customer ``i`` of the
population arrays and :func:`customer_step` loops that over a population. The
tests compare it with the Numba kernel :func:`sim.kernels.customer_step` on
small populations: states must agree exactly, tallies to 1e-12. The per-agent
Mesa model of the benchmarks (:mod:`sim.yardsticks.per_agent`) calls :func:`advance` on its
agents.
"""

from __future__ import annotations

import math
from dataclasses import make_dataclass

import numpy as np

from .layout import (
    CUSTOMER_FIELDS,
    FIRM_TALLIES,
    NO_FIRM,
    SEGMENT_TALLIES,
    SMALL_FIELDS,
    STATE_FIELDS,
    TRAIT_FIELDS,
    F,
    P,
    R,
    S,
    Sm,
    St,
    Steer,
    T,
    Tr,
)
from .rng import uniform


def gate(x: float, center: float, slope: float) -> float:
    """Emotion gate: 1 / (1 + exp(-slope (x - center)))."""
    return 1.0 / (1.0 + math.exp(-slope * (x - center)))


def digital_seen(firm: np.ndarray, m: int, shared: int, adopted: int, par: np.ndarray) -> float:
    de = float(firm[m, F.DIGITAL]) * (1.0 + float(firm[m, F.PERSONALISATION]) * shared)
    de = min(de, 1.0)
    if not adopted:
        de *= float(par[P.EXCLUSION_QUALITY])
    return de


def utility(firm, m, current, shared, adopted, phi, w, alpha, par) -> float:
    """Utility of firm ``m`` for one customer (see docs/ODD.md, submodel 'choice')."""
    x = digital_seen(firm, m, shared if m == current else 0, adopted, par) - par[P.EXPECTATION]
    ud = 0.0
    if adopted:
        ud = par[P.BETA_DIGITAL] * (-x * x if x < 0 else par[P.DIGITAL_GAIN] * x)
    h = float(firm[m, F.HUMAN])
    if not adopted:
        phi = 1.0
    u = (ud + par[P.BETA_HUMAN] * phi * h
         + par[P.BETA_EMOTION] * w * h * gate(x, par[P.GATE_CENTER], par[P.GATE_SLOPE])
         - alpha * firm[m, F.PRICE] + par[P.BETA_REPUTATION] * firm[m, F.REPUTATION])
    if m == current:
        u += par[P.INERTIA]
    return float(u)


def choose(firm, current, shared, adopted, phi, w, alpha, par, r) -> int:
    """Logit choice among alive firms with one uniform ``r`` (inverse CDF, firm order)."""
    alive = [m for m in range(firm.shape[0]) if firm[m, F.ALIVE] > 0]
    if not alive:
        return NO_FIRM
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


#: The attributes of one customer that :func:`advance` reads and writes: traits, state, small
#: integers (rows of the population arrays, in their order, as ``sim.layout`` names them),
#: provider and tenure.
FIELDS = CUSTOMER_FIELDS

#: One customer as plain Python scalars (floats hold float32 values, as stored).
Customer = make_dataclass(
    "Customer",
    [*((name, float, 0.0) for name in (*TRAIT_FIELDS, *STATE_FIELDS)), *((name, int, 0) for name in SMALL_FIELDS),
     ("provider", int, NO_FIRM), ("tenure", int, 0)],
    slots=True,
)


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
    or a Mesa agent in :mod:`sim.yardsticks.per_agent`); its state attributes are updated,
    rounded to float32 as the arrays store them. ``u(stream)`` returns the
    customer's uniform of a random stream for this step. Adds the customer's
    contributions to ``tally`` (F, N_FIRM_TALLY) and ``seg_tally`` (S, N_SEG_TALLY).
    ``par32`` is ``par`` rounded to float32, if the caller has it (made here otherwise).
    """
    # The state update is float32 arithmetic: pv32 holds the parameters rounded to float32,
    # the state variables are np.float32, and Python float literals adapt to them.
    pv = par
    pv32 = np.asarray(par, dtype=np.float32) if par32 is None else par32
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
    if not adopted and c.literacy >= pv[P.LITERACY_THRESHOLD] and u(R.ADOPT) < pv[P.ADOPT_PROB]:
        adopted = 1
    contacted = human = wants = pushed = noticed = False
    effort = f(0.0)
    if j != NO_FIRM:
        dx64 = digital_seen(firm, j, shared, adopted, pv)
        h = f(firm[j, F.HUMAN])
        emo = f(float(firm[j, F.HUMAN]) * gate(dx64 - pv[P.EXPECTATION], pv[P.GATE_CENTER],
                                                 pv[P.GATE_SLOPE]))
        dx = f(dx64)
        pv = pv32  # from here on, float32
        if u(R.CONTACT) < par[P.CONTACT_RATE]:
            contacted = True
            wants = (not adopted) or u(R.WANT_HUMAN) < phi
            human = wants
            if wants:
                mode = firm[j, F.STEERING]
                if mode != Steer.NONE and u(R.STEER) < firm[j, F.STEERING_STRENGTH]:
                    human = False
                    noticed = True if mode == Steer.HARD else u(R.NOTICE) < par[P.NOTICE_SOFT]
                if human and u(R.AVAIL) >= firm[j, F.AVAILABILITY]:
                    human = False
            pushed = wants and not human
            if human:
                q, delta, heard = h, h - pv[P.HUMAN_EXPECTATION] + pv[P.TRUST_HUMAN_BONUS], h
            else:
                q, delta, heard = dx, dx - pv[P.EXPECTATION], dx * pv[P.INFLUENCE_DIGITAL]
            effort = 1.0 - q
            if delta > 0:
                tau += pv[P.TRUST_GAIN] * min(delta, 1.0) * (1.0 - tau)
            else:
                tau += pv[P.TRUST_LOSS] * max(delta, -1.0) * tau
            sat += pv[P.SATISFACTION_MEMORY] * (q - sat)
            infl += pv[P.INFLUENCE_RATE] * (heard - infl)
            eng += pv[P.ENGAGEMENT_RATE] * (w * emo - eng)
            if pushed and not adopted:
                eng -= pv[P.DISENGAGE_RATE] * eng
            if noticed:
                free -= pv[P.STEER_FREEDOM_LOSS] * free
                tau -= pv[P.STEER_TRUST_LOSS] * tau
        else:
            eng -= pv[P.ENGAGEMENT_DECAY] * eng
        if not noticed:
            free += pv[P.FREEDOM_RECOVERY] * (1.0 - free)
        target = f(clip01(1.0 - par[P.FAIRNESS_SLOPE] * (firm[j, F.PRICE] / par[P.MEAN_PRICE] - 1.0)))
        fair += pv[P.FAIRNESS_RATE] * (target - fair)
        if fair < 0.5:
            tau -= pv[P.FAIRNESS_TRUST_LOSS] * (0.5 - fair) * tau
        form = c.form
        if form < interv.shape[1]:
            eng += w * f(interv[j, form]) * (1.0 - eng)
        tau, eng = f(clip01(tau)), f(clip01(eng))
        shared = 1 if tau > c.privacy else 0
    pv = pv32
    c1 = f(1.0 + par[P.ALPHA_COMMODITY] * par[P.COMMODITY])
    alpha = f(c.alpha0) * c1 * (1.0 - pv[P.ALPHA_ENGAGEMENT] * eng) * (1.0 - pv[P.ALPHA_TRUST] * tau)
    review = j == NO_FIRM
    if not review:
        r = u(R.REVIEW)
        review = r < par[P.REVIEW_HAZARD] * math.exp(-par[P.HAZARD_TRUST] * float(tau)
                                                - par[P.HAZARD_ENGAGEMENT] * float(eng))
    k = j
    if review:
        k = choose(firm, j, shared, adopted, phi, float(w), float(alpha), par, u(R.CHOICE))
        if k != j:
            if j != NO_FIRM:
                tally[j, T.CHURN] += 1
            c.tenure = 0
            shared = 0
            tau = pv[P.TRUST_INIT]
            eng = eng * pv[P.CARRY_ENGAGEMENT]
    c.tenure += 1
    x = (10.0 * (pv[P.REC_SATISFACTION] * sat + pv[P.REC_TRUST] * tau + pv[P.REC_ENGAGEMENT] * eng)
         + pv[P.REC_OFFSET] + 0.5 + pv[P.REC_NOISE] * f(u(R.SCORE) + u(R.SCORE2) - 1.0))
    score = 10 if x >= 10 else (0 if x < 0 else int(x))
    c.provider = k
    c.trust, c.engagement, c.satisfaction = f32(tau), f32(eng), f32(sat)
    c.freedom, c.influence, c.fairness, c.alpha = f32(free), f32(infl), f32(fair), f32(alpha)
    c.shared, c.adopted, c.score = shared, adopted, score
    if contacted:
        tally[j, T.CONTACTS] += 1
        tally[j, T.EFFORT] += effort
        tally[j, T.WANTED_HUMAN] += wants
        tally[j, T.HUMAN] += human
        tally[j, T.NOTICED] += noticed
        tally[j, T.PUSHED] += pushed
    eng32 = c.engagement
    diseng = 1.0 if eng32 < par[P.DISENGAGED_BELOW] else 0.0
    if k != NO_FIRM:
        row = tally[k]
        row[T.CUSTOMERS] += 1
        for col, value in ((T.TRUST, c.trust), (T.ENGAGEMENT, eng32),
                           (T.SATISFACTION, c.satisfaction), (T.FREEDOM, c.freedom),
                           (T.INFLUENCE, c.influence), (T.FAIRNESS, c.fairness),
                           (T.ALPHA, c.alpha), (T.TENURE, c.tenure), (T.SHARED, shared),
                           (T.ADOPTED, adopted), (T.DISENGAGED, diseng)):
            row[col] += float(value)
        row[T.PROMOTERS] += score >= 9
        row[T.DETRACTORS] += score <= 6
    s = c.segment
    for col, value in ((S.COUNT, 1.0), (S.ENGAGEMENT, eng32), (S.TRUST, c.trust),
                       (S.DISENGAGED, diseng), (S.ADOPTED, adopted),
                       (S.SATISFACTION, c.satisfaction)):
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
    tally = np.zeros((firm.shape[0], len(FIRM_TALLIES)))
    seg_tally = np.zeros((n_segments, len(SEGMENT_TALLIES)))
    key = int(key)
    for i in range(provider.shape[0]):
        step_customer(i, key, par, firm, interv, traits, state, small, provider, tenure, tally, seg_tally)
    return tally, seg_tally


def assign_orphans(key, par, firm, traits, state, small, provider) -> None:
    """Reference of :func:`sim.kernels.assign_orphans`."""
    key = int(key)
    for i in range(provider.shape[0]):
        if provider[i] == NO_FIRM:
            provider[i] = choose(firm, NO_FIRM, 0, int(small[Sm.ADOPTED, i]), float(traits[Tr.HUMAN_PREF, i]),
                                 float(traits[Tr.AFFINITY, i]), float(state[St.ALPHA, i]), par,
                                 uniform(key, i, R.CHOICE))
