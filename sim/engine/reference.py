"""Plain-Python reference of the customer step, written for reading, not speed.

:func:`advance` applies one step to one customer (any object with the attributes
:data:`FIELDS`) with Python floats and ``math``, in the order the model documents
(docs/ODD.md); :func:`step_customer` applies it to customer ``i`` of the
population arrays and :func:`customer_step` loops that over a population. The
tests compare it with the Numba kernel :func:`sim.engine.kernels.customer_step` on
small populations: states must agree exactly, tallies to 1e-12. The per-agent
Mesa model of the benchmarks (:mod:`sim.engine.yardsticks.per_agent`) calls :func:`advance` on its
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
    S_STATE0,
    SEG_STATES,
    SEGMENT_TALLIES,
    SMALL_FIELDS,
    STATE_FIELDS,
    T_STATE0,
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
    """Digital quality a customer sees at firm m: d (1 + pi shared), capped at 1, times the exclusion
    factor for a non-adopter."""
    de = float(firm[m, F.DIGITAL]) * (1.0 + float(firm[m, F.PERSONALISATION]) * shared)
    de = min(de, 1.0)
    if not adopted:
        de *= float(par[P.EXCLUSION_QUALITY])
    return de


def digital_gate(firm, m, shared, adopted, par) -> float:
    """The gate of the digital basics: gate(d_seen - E)."""
    return gate(digital_seen(firm, m, shared, adopted, par) - par[P.EXPECTATION], par[P.GATE_CENTER],
                par[P.GATE_SLOPE])


def human_gate(firm, m, par) -> float:
    """The gate of the human basics: gate(availability - 1), whether a person is there when needed."""
    return gate(float(firm[m, F.AVAILABILITY]) - 1.0, par[P.GATE_CENTER], par[P.GATE_SLOPE])


def reliance(adopted: int, phi: float) -> float:
    """omega: how much a customer relies on digital channels, adopted (1 - human_pref); 0 for a non-adopter."""
    return 1.0 - phi if adopted else 0.0


def escalation(firm, m, shared, adopted, par) -> float:
    """How much of an adopter's human preference asks for a human: eps + (1 - eps) (1 - d_seen / E)+.

    A customer asks for a person mostly when digital fails them.
    """
    e = float(par[P.EXPECTATION])
    short = 1.0 - digital_seen(firm, m, shared, adopted, par) / e if e > 0.0 else 0.0
    eps = float(par[P.ESCALATION_FLOOR])
    return eps + (1.0 - eps) * max(short, 0.0)


def freedom_target(firm, m, shared, adopted, par) -> float:
    """The freedom of choice a customer's channel options give: the chance that at least one serves,
    1 - (1 - a)(1 - adopted d_seen), a = h availability the human option (its quality, as far as hard
    steering leaves it open), d_seen the digital option (only for an adopter)."""
    a = float(firm[m, F.HUMAN]) * float(firm[m, F.AVAILABILITY])
    if firm[m, F.STEERING] == Steer.HARD:
        a *= 1.0 - float(firm[m, F.STEERING_STRENGTH])
    d = digital_seen(firm, m, shared, adopted, par) if adopted else 0.0
    return 1.0 - (1.0 - a) * (1.0 - d)


def hazard_scale(par) -> float:
    """review_hazard exp(hazard_freedom): the hazard at zero trust, engagement and freedom."""
    return float(par[P.REVIEW_HAZARD]) * math.exp(float(par[P.HAZARD_FREEDOM]))


def digital_value(x: float, gain: float, scale: float) -> float:
    """V_d(x): the value of a digital level ``x`` above (x > 0) or below the expectation E. A shortfall
    costs x^2; a lead earns ``gain scale (1 - exp(-x / scale))``, which saturates at ``gain scale``: once
    the basics are met, more digital hardly sets a firm apart (commoditisation). Linear (``gain x``) as
    ``scale`` grows."""
    return -x * x if x < 0.0 else gain * scale * (1.0 - math.exp(-x / scale))


def human_value(y: float, scale: float) -> float:
    """V_h(y): the value of a human level ``y`` above (y > 0) or below the human expectation H: ``y`` below
    H, ``scale (1 - exp(-y / scale))`` above it: better people than customers expect add less and less
    (diminishing, saturating at ``scale``). Linear (``y``) everywhere as ``scale`` grows."""
    return y if y < 0.0 else scale * (1.0 - math.exp(-y / scale))


def emotion_weight(h: float, scale: float) -> float:
    """e(h) in [0, 1]: the emotional weight of human level ``h``, ``(1 - exp(-h / scale)) / (1 -
    exp(-1 / scale))``: diminishing returns to better people (linear, ``h``, as ``scale`` grows)."""
    return (1.0 - math.exp(-h / scale)) / (1.0 - math.exp(-1.0 / scale))


def satisfaction_target(delta, slope, tol):
    """The satisfaction of a contact ``delta`` above its channel's expectation (float32 in, float32 out):
    0.5 + 0.5 z / (1 + |z|), z = slope (delta + tol)."""
    f = np.float32
    z = slope * (delta + tol)
    return f(0.5) + f(0.5) * z / (f(1.0) + abs(z))


def utility(firm, m, current, shared, adopted, phi, w, alpha, par) -> float:
    """Utility of firm ``m`` for one customer (see docs/ODD.md, submodel 'choice'): the digital value
    weighed by the customer's digital reliance (an adopter's 1 - phi), the human value weighed by
    phi (1 for a non-adopter), the emotional value (affinity x the human level's weight x the
    gate of the basics), price, reputation, and inertia toward the current provider."""
    sh = shared if m == current else 0
    x = digital_seen(firm, m, sh, adopted, par) - par[P.EXPECTATION]
    ud = 0.0
    if adopted:
        ud = par[P.BETA_DIGITAL] * digital_value(x, par[P.DIGITAL_GAIN], par[P.DIGITAL_SCALE])
    h = float(firm[m, F.HUMAN])
    vh = human_value(h - par[P.HUMAN_EXPECTATION], par[P.HUMAN_SCALE])
    hv = emotion_weight(h, par[P.EMOTION_SCALE])
    om = reliance(adopted, phi)
    eg = om * digital_gate(firm, m, sh, adopted, par) + (1.0 - om) * human_gate(firm, m, par)
    if not adopted:
        phi = 1.0
    u = (om * ud + par[P.BETA_HUMAN] * phi * vh + par[P.BETA_EMOTION] * w * hv * eg
         - alpha * float(firm[m, F.PRICE]) + par[P.BETA_REPUTATION] * firm[m, F.REPUTATION])
    if m == current:
        u += par[P.INERTIA]
    return float(u)


def choice_weights(firm, current, shared, adopted, phi, w, alpha, par) -> tuple[list[int], list[float], float]:
    """The options of a choice (the alive firms in order, then the outside option ``NO_FIRM``), their
    logit weights ``exp(u - u_max)`` and the weights' sum: ``weights[k] / total`` is option k's probability."""
    alive = [m for m in range(firm.shape[0]) if firm[m, F.ALIVE] > 0]
    utils = [utility(firm, m, current, shared, adopted, phi, w, alpha, par) for m in alive]
    utils.append(float(par[P.OUTSIDE_UTILITY]))
    top = max(utils)
    weights = [math.exp(u - top) for u in utils]
    total = 0.0
    for wgt in weights:
        total += wgt
    return [*alive, NO_FIRM], weights, total


def pick(options: list[int], weights: list[float], total: float, r: float) -> int:
    """The option of uniform ``r`` by inverse CDF over the options in order."""
    target, acc = r * total, 0.0
    for m, wgt in zip(options, weights, strict=True):
        acc += wgt
        if target < acc:
            return m
    return NO_FIRM


def choose(firm, current, shared, adopted, phi, w, alpha, par, r) -> int:
    """Logit choice among the alive firms and the outside option (utility ``outside_utility``) with one
    uniform ``r`` (inverse CDF: firms in order, the outside option last). ``NO_FIRM``: outside."""
    return pick(*choice_weights(firm, current, shared, adopted, phi, w, alpha, par), r)


def clip01(x: float) -> float:
    return min(1.0, max(0.0, x))


#: The attributes of one customer that :func:`advance` reads and writes: traits, state, small
#: integers (rows of the population arrays, in their order, as ``sim.engine.layout`` names them),
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
    or a Mesa agent in :mod:`sim.engine.yardsticks.per_agent`); its state attributes are updated,
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
    ref = f(c.ref_price)
    shared = c.shared
    adopted = c.adopted
    # 1. adoption
    if not adopted and c.literacy >= pv[P.LITERACY_THRESHOLD] and u(R.ADOPT) < pv[P.ADOPT_PROB]:
        adopted = 1
    contacted = human = wants = pushed = noticed = False
    effort = f(0.0)
    if j != NO_FIRM:
        dx = f(digital_seen(firm, j, shared, adopted, pv))
        h = f(firm[j, F.HUMAN])
        # emotional value: the human level's weight, gated by the basics of the channels this customer uses
        hv = f(emotion_weight(float(firm[j, F.HUMAN]), pv[P.EMOTION_SCALE]))
        om = f(reliance(adopted, f(phi)))
        emo = hv * (om * f(digital_gate(firm, j, shared, adopted, pv)) + (f(1.0) - om) * f(human_gate(firm, j, pv)))
        p_want = f(phi) * f(escalation(firm, j, shared, adopted, pv))
        fstar = f(freedom_target(firm, j, shared, adopted, pv))
        damp = f(1.0) - pv32[P.FREEDOM_QUALITY] * (f(1.0) - free)  # low freedom spoils the experience
        inv_ki = f(1.0 / (1.0 + float(pv[P.INFLUENCE_ENGAGEMENT])))
        pv = pv32  # from here on, float32
        if u(R.CONTACT) < par[P.CONTACT_RATE]:
            contacted = True
            wants = (not adopted) or u(R.WANT_HUMAN) < p_want
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
                expected = pv[P.HUMAN_EXPECTATION]
                q, delta, heard = h * damp, h - expected + pv[P.TRUST_HUMAN_BONUS], h
            else:
                expected = pv[P.EXPECTATION]
                q, delta, heard = dx * damp, dx - expected, dx * pv[P.INFLUENCE_DIGITAL]
            effort = 1.0 - q
            if delta >= -pv[P.TOLERANCE]:  # met (within tolerance) or beaten: gain, plus confirmation
                tau += (pv[P.TRUST_GAIN] * min(max(delta, f(0.0)), 1.0) + pv[P.CONFIRMATION]) * (1.0 - tau)
            else:  # below the zone of tolerance: lose with the shortfall beyond it
                tau += pv[P.TRUST_LOSS] * max(delta + pv[P.TOLERANCE], -1.0) * tau
            # satisfaction: met expectations, saturating above them
            sat += pv[P.SATISFACTION_MEMORY] * (satisfaction_target(q - expected, pv[P.SATISFACTION_SLOPE],
                                                                    pv[P.TOLERANCE]) - sat)
            infl += pv[P.INFLUENCE_RATE] * (heard - infl)
            eng += pv[P.ENGAGEMENT_RATE] * (w * ((emo + pv[P.INFLUENCE_ENGAGEMENT] * infl) * inv_ki) - eng)
            if pushed and not adopted:
                eng -= pv[P.DISENGAGE_RATE] * eng
            if noticed:
                free -= pv[P.STEER_FREEDOM_LOSS] * free
                tau -= pv[P.STEER_TRUST_LOSS] * tau
        else:
            eng -= pv[P.ENGAGEMENT_DECAY] * eng
        if not noticed:
            free += pv[P.FREEDOM_RECOVERY] * (fstar - free)
        # dual entitlement: the price paid against the remembered reference price
        price = f(firm[j, F.PRICE])
        target = f(clip01(f(1.0) - pv[P.FAIRNESS_SLOPE] * (price / ref - f(1.0))))
        fair += pv[P.FAIRNESS_RATE] * (target - fair)
        ref += pv[P.REFERENCE_PRICE_RATE] * (price - ref)
        tau -= pv[P.FAIRNESS_TRUST_LOSS] * (1.0 - fair) * tau  # unfairness costs trust
        form = c.form
        if form < interv.shape[1]:
            eng += w * f(interv[j, form]) * (1.0 - eng)
        tau, eng = f(clip01(tau)), f(clip01(eng))
        shared = 1 if tau > c.privacy else 0
    pv = pv32
    alpha = f(c.alpha0) * (1.0 - pv[P.ALPHA_ENGAGEMENT] * eng) * (1.0 - pv[P.ALPHA_TRUST] * tau)
    r = u(R.REVIEW)
    if j == NO_FIRM:  # outside the market: looks around at the base hazard
        review = r < par[P.REVIEW_HAZARD]
    else:
        review = r < hazard_scale(par) * math.exp(-par[P.HAZARD_TRUST] * float(tau) - par[P.HAZARD_ENGAGEMENT]
                                                  * float(eng) - par[P.HAZARD_FREEDOM] * float(free))
    k = j
    panel = u(R.PANEL) < par[P.PANEL_RATE]
    if review or panel:
        options, weights, total = choice_weights(firm, j, shared, adopted, phi, float(w), float(alpha), par)
        for m, wgt in zip(options[:-1], weights[:-1], strict=True):  # the firms' demand and its slope
            s = wgt / total
            tally[m, T.CHOICE_SHARE] += s
            tally[m, T.CHOICE_SLOPE] += float(alpha) * s * (1.0 - s)
    if review:
        k = pick(options, weights, total, u(R.CHOICE))
        if k != j:
            if j != NO_FIRM:
                tally[j, T.CHURN] += 1
            c.tenure = 0
            shared = 0
            tau = pv[P.TRUST_INIT]
            eng = eng * pv[P.CARRY_ENGAGEMENT]
            if k != NO_FIRM:
                ref = f(firm[k, F.PRICE])
    c.tenure += 1
    x = (10.0 * (pv[P.REC_SATISFACTION] * sat + pv[P.REC_TRUST] * tau + pv[P.REC_ENGAGEMENT] * eng
                 + pv[P.REC_FREEDOM] * free + pv[P.REC_INFLUENCE] * infl)
         + pv[P.REC_OFFSET] + 0.5 + pv[P.REC_NOISE] * f(u(R.SCORE) + u(R.SCORE2) - 1.0))
    score = 10 if x >= 10 else (0 if x < 0 else int(x))
    c.provider = k
    c.trust, c.engagement, c.satisfaction = f32(tau), f32(eng), f32(sat)
    c.freedom, c.influence, c.fairness, c.alpha = f32(free), f32(infl), f32(fair), f32(alpha)
    c.ref_price = f32(ref)
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
        for k, name in enumerate(STATE_FIELDS):  # every state row of the layout, summed at the provider
            row[T_STATE0 + k] += float(getattr(c, name))
        for col, value in ((T.TENURE, c.tenure), (T.SHARED, shared), (T.ADOPTED, adopted),
                           (T.DISENGAGED, diseng)):
            row[col] += float(value)
        row[T.PROMOTERS] += score >= 9
        row[T.DETRACTORS] += score <= 6
    s = c.segment
    for k, row in enumerate(SEG_STATES):  # the state rows summed per segment
        seg_tally[s, S_STATE0 + k] += float(getattr(c, STATE_FIELDS[row]))
    for col, value in ((S.COUNT, 1.0), (S.DISENGAGED, diseng), (S.ADOPTED, adopted)):
        seg_tally[s, col] += float(value)


def step_customer(i: int, key: int, par, firm, interv, traits, state, small, provider, tenure,
                  tally, seg_tally) -> None:
    """One step for customer ``i`` of the arrays; mutates them and adds to ``tally``/``seg_tally``."""
    c = load_customer(Customer(), i, traits, state, small, provider, tenure)
    advance(c, lambda stream: uniform(key, i, stream), par, firm, interv, tally, seg_tally)
    store_customer(c, i, state, small, provider, tenure)


def customer_step(key, par, firm, interv, traits, state, small, provider, tenure, n_segments
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Reference of :func:`sim.engine.kernels.customer_step`; returns the summed tallies."""
    tally = np.zeros((firm.shape[0], len(FIRM_TALLIES)))
    seg_tally = np.zeros((n_segments, len(SEGMENT_TALLIES)))
    key = int(key)
    for i in range(provider.shape[0]):
        step_customer(i, key, par, firm, interv, traits, state, small, provider, tenure, tally, seg_tally)
    return tally, seg_tally


def assign_orphans(key, par, firm, traits, state, small, provider, lost=NO_FIRM) -> None:
    """Reference of :func:`sim.engine.kernels.assign_orphans`: customers whose provider is ``lost`` choose
    among the alive firms and the outside option; a chosen firm's price becomes their reference price."""
    key = int(key)
    for i in range(provider.shape[0]):
        if provider[i] == lost:
            k = choose(firm, NO_FIRM, 0, int(small[Sm.ADOPTED, i]), float(traits[Tr.HUMAN_PREF, i]),
                       float(traits[Tr.AFFINITY, i]), float(state[St.ALPHA, i]), par, uniform(key, i, R.CHOICE))
            provider[i] = k
            if k != NO_FIRM:
                state[St.REF_PRICE, i] = firm[k, F.PRICE]


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b`` where ``b`` > 0, NaN elsewhere (``b`` broadcasts against ``a``)."""
    out = np.full(np.broadcast(a, b).shape, np.nan)
    np.divide(a, b, out=out, where=b > 0)
    return out


def record_rows(firm, segment, tally, seg_tally, firm_rows, left, at_start, assigned, given, ratios, blocks,
                seg_means, rows) -> None:
    """Reference of :func:`sim.engine.kernels.record_rows`, in NumPy array operations (the arguments are the same;
    the columns after the tally's are promoters - detractors, ``left`` and ``at_start``)."""
    cust = tally[:, T.CUSTOMERS]
    firm[rows[0]] = cust
    firm[rows[1]] = cust / assigned if assigned else 0.0
    firm[given] = firm_rows
    firm[rows[2]] = tally[:, T.CONTACTS]
    extra = np.column_stack([tally, tally[:, T.PROMOTERS] - tally[:, T.DETRACTORS], left, at_start])
    firm[ratios[:, 0]] = _ratio(extra[:, ratios[:, 1]], extra[:, ratios[:, 2]]).T
    firm[rows[3]] *= 100.0
    firm[rows[4]] = np.add.reduce(firm[blocks]) / len(blocks)
    n = seg_tally[:, S.COUNT]
    segment[rows[5]] = n
    segment[seg_means[:, 0]] = _ratio(seg_tally[:, seg_means[:, 1]].T, n)
