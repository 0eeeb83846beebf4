"""The customer step vectorised in plain NumPy: a yardstick of the benchmarks, tested equal to the kernel.

:func:`customer_step` does what :func:`sim.engine.kernels.customer_step` does, with
whole-array operations (a loop over firms, none over customers): the same
counter-based uniforms (the same 32-bit hash in ``uint32`` arithmetic, :func:`sim.engine.rng.draw`),
the same per-firm table, the same operations in the same order, so the new state
equals the kernel's exactly. Two things can differ in principle: ``np.exp``
(used for the review hazard and the logit weights of reviewing customers) may
differ from the C library's ``exp`` in the last bit, which would flip a review or
a choice only for a draw within 1e-16 of its threshold; and tallies are summed
in another order (``np.bincount``), so they agree to about 1e-12 relative.

This is the step as a NumPy user would write it first: every phase is a pass
over all customers with temporaries; the kernel fuses them into one pass.
"""

from __future__ import annotations

import numpy as np

from ..layout import N_ST, NO_FIRM, S_STATE0, SEG_STATES, T_STATE0, F, P, R, S, Sm, St, Steer, T, Tr
from ..reference import (
    digital_gate,
    digital_seen,
    digital_value,
    emotion_weight,
    escalation,
    freedom_target,
    hazard_scale,
    human_gate,
    human_value,
    satisfaction_target,
)
from ..rng import draw


def uniforms(key: int, n: int, stream: int) -> np.ndarray:
    """The uniforms of ``stream`` for customers ``0..n-1`` (twin of :func:`sim.engine.rng.uniforms`)."""
    return draw(key, np.arange(n), stream)


def firm_table(par: np.ndarray, firm: np.ndarray, interv: np.ndarray) -> dict[str, np.ndarray]:
    """This step's per-firm quantities, row 0 for "no firm", row m + 1 for firm m.

    Digital quality seen, its gate, the escalation and the digital utility are indexed by
    ``s = 2 * shared + adopted`` in their second axis.
    """
    n_firms, n_forms = firm.shape[0], interv.shape[1]
    t = {name: np.zeros((n_firms + 1, 4)) for name in ("dx", "gate", "esc", "ud", "free")}
    t.update({name: np.zeros(n_firms + 1) for name in ("gate_avail", "h", "hv", "vh", "price", "steer", "hard",
                                                       "avail")})
    t["iv"] = np.zeros((n_firms + 1, n_forms + 1))
    for m in range(n_firms):
        r = m + 1
        for sh in (0, 1):
            for ad in (0, 1):
                s = 2 * sh + ad
                dx = digital_seen(firm, m, sh, ad, par)
                x = dx - par[P.EXPECTATION]
                t["dx"][r, s] = dx
                t["gate"][r, s] = digital_gate(firm, m, sh, ad, par)
                t["esc"][r, s] = escalation(firm, m, sh, ad, par)
                t["free"][r, s] = freedom_target(firm, m, sh, ad, par)
                if ad:
                    t["ud"][r, s] = par[P.BETA_DIGITAL] * digital_value(x, par[P.DIGITAL_GAIN], par[P.DIGITAL_SCALE])
        t["gate_avail"][r] = human_gate(firm, m, par)
        t["h"][r] = firm[m, F.HUMAN]
        t["hv"][r] = emotion_weight(firm[m, F.HUMAN], par[P.EMOTION_SCALE])
        t["vh"][r] = human_value(firm[m, F.HUMAN] - par[P.HUMAN_EXPECTATION], par[P.HUMAN_SCALE])
        t["price"][r] = firm[m, F.PRICE]
        mode = firm[m, F.STEERING]
        t["steer"][r] = firm[m, F.STEERING_STRENGTH] if mode != Steer.NONE else 0.0
        t["hard"][r] = mode == Steer.HARD
        t["avail"][r] = firm[m, F.AVAILABILITY]
        t["iv"][r, :n_forms] = interv[m]
    return t


def _choose(t, firm, par, current, shared, adopted, phi, w, alpha, r) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logit choice of customers (arrays) among the alive firms and the outside option (last), one
    uniform each; ``NO_FIRM`` for the outside option. Also the choosers' demand and its slope per firm:
    the sums of ``s_ij`` and ``alpha_i s_ij (1 - s_ij)`` (float64[F] each)."""
    n_firms = firm.shape[0]
    alive = [m for m in range(n_firms) if firm[m, F.ALIVE] > 0]
    phi = np.asarray(phi, np.float64)  # as the kernel: the choice is float64 arithmetic
    om = np.where(adopted == 0, 0.0, 1.0 - phi)
    phi = np.where(adopted == 0, 1.0, phi)
    util = np.empty((len(alive) + 1, current.shape[0]))
    for a, m in enumerate(alive):
        mine = current == m
        s = adopted + np.where(mine, 2 * shared, 0)
        eg = om * t["gate"][m + 1, s] + (1.0 - om) * t["gate_avail"][m + 1]
        u = (om * t["ud"][m + 1, s] + par[P.BETA_HUMAN] * phi * t["vh"][m + 1]
             + par[P.BETA_EMOTION] * w * t["hv"][m + 1] * eg
             - alpha * t["price"][m + 1] + par[P.BETA_REPUTATION] * firm[m, F.REPUTATION])
        util[a] = np.where(mine, u + par[P.INERTIA], u)
    util[-1] = par[P.OUTSIDE_UTILITY]
    weight = np.exp(util - util.max(axis=0))
    total = np.zeros(current.shape[0])
    for a in range(len(alive) + 1):
        total += weight[a]
    target = r * total
    choice = np.full(current.shape, NO_FIRM, np.int64)
    acc = np.zeros(current.shape[0])
    undecided = np.ones(current.shape, bool)
    demand, slope = np.zeros(n_firms), np.zeros(n_firms)
    for a, m in enumerate(alive):
        acc += weight[a]
        hit = undecided & (target < acc)
        choice[hit] = m
        undecided &= ~hit
        s = weight[a] / total
        demand[m] = s.sum()
        slope[m] = (alpha * s * (1.0 - s)).sum()
    return choice, demand, slope


def customer_step(key, par, firm, interv, traits, state, small, provider, tenure, n_segments
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Advance every customer one step; returns the summed tallies (like the reference).

    Same arguments as :func:`sim.engine.reference.customer_step`; the arrays are updated
    in place.
    """
    pv = par  # probabilities and the hazard: float64, as the kernel compares them
    qv = np.asarray(par, dtype=np.float32)  # the state update: float32 arithmetic, as the kernel's
    f1 = np.float32(1.0)
    n = provider.shape[0]
    n_firms = firm.shape[0]
    t = firm_table(par, firm, interv)
    idx = np.arange(n)
    j = provider.astype(np.int64)
    has = j != NO_FIRM
    row = j + 1
    phi = traits[Tr.HUMAN_PREF]
    w = traits[Tr.AFFINITY]
    tau = state[St.TRUST].copy()
    eng = state[St.ENGAGEMENT].copy()
    sat = state[St.SATISFACTION].copy()
    free = state[St.FREEDOM].copy()
    infl = state[St.INFLUENCE].copy()
    fair = state[St.FAIRNESS].copy()
    ref = state[St.REF_PRICE].copy()
    shared = small[Sm.SHARED].astype(np.int64)
    adopted = small[Sm.ADOPTED].astype(np.int64)
    # 1. adoption
    adopt = ((adopted == 0) & (traits[Tr.LITERACY].astype(np.float64) >= pv[P.LITERACY_THRESHOLD])
             & (draw(key, idx, R.ADOPT) < pv[P.ADOPT_PROB]))
    adopted = np.where(adopt, 1, adopted)
    s = 2 * shared + adopted
    dx = t["dx"][row, s].astype(np.float32)
    h = t["h"][row].astype(np.float32)
    hv = t["hv"][row].astype(np.float32)
    om = np.where(adopted == 1, f1 - phi, np.float32(0.0))
    emo = hv * (om * t["gate"][row, s].astype(np.float32) + (f1 - om) * t["gate_avail"][row].astype(np.float32))
    p_want = phi * t["esc"][row, s].astype(np.float32)
    # 2. contact and channel
    contacted = has & (draw(key, idx, R.CONTACT) < pv[P.CONTACT_RATE])
    wants = contacted & ((adopted == 0) | (draw(key, idx, R.WANT_HUMAN) < p_want))
    steered = wants & (draw(key, idx, R.STEER) < t["steer"][row])
    noticed = steered & ((t["hard"][row] > 0) | (draw(key, idx, R.NOTICE) < pv[P.NOTICE_SOFT]))
    human = wants & ~steered & (draw(key, idx, R.AVAIL) < t["avail"][row])
    pushed = wants & ~human
    # 3. experience (spoilt by low freedom of choice) and disconfirmation
    q = np.where(human, h, dx) * (f1 - qv[P.FREEDOM_QUALITY] * (f1 - free))
    expected = np.where(human, qv[P.HUMAN_EXPECTATION], qv[P.EXPECTATION])
    delta = np.where(human, h - expected + qv[P.TRUST_HUMAN_BONUS], dx - expected)
    heard = np.where(human, h, dx * qv[P.INFLUENCE_DIGITAL])
    # 4. trust (asymmetric, confirmation when met), satisfaction, influence
    tol = qv[P.TOLERANCE]
    tau_c = np.where(delta >= -tol,
                     tau + (qv[P.TRUST_GAIN] * np.minimum(np.maximum(delta, np.float32(0.0)), f1)
                            + qv[P.CONFIRMATION]) * (f1 - tau),
                     tau + qv[P.TRUST_LOSS] * np.maximum(delta + tol, -f1) * tau)
    sat_c = sat + qv[P.SATISFACTION_MEMORY] * (satisfaction_target(q - expected, qv[P.SATISFACTION_SLOPE], tol) - sat)
    infl_c = infl + qv[P.INFLUENCE_RATE] * (heard - infl)
    # 5. engagement, steering noticed, decay without contact, freedom
    inv_ki = np.float32(1.0 / (1.0 + pv[P.INFLUENCE_ENGAGEMENT]))
    eng_c = eng + qv[P.ENGAGEMENT_RATE] * (w * ((emo + qv[P.INFLUENCE_ENGAGEMENT] * infl_c) * inv_ki) - eng)
    eng_c = np.where(pushed & (adopted == 0), eng_c - qv[P.DISENGAGE_RATE] * eng_c, eng_c)
    free_c = np.where(noticed, free - qv[P.STEER_FREEDOM_LOSS] * free, free)
    tau_c = np.where(noticed, tau_c - qv[P.STEER_TRUST_LOSS] * tau_c, tau_c)
    tau_c = np.where(contacted, tau_c, tau)
    sat_c = np.where(contacted, sat_c, sat)
    infl_c = np.where(contacted, infl_c, infl)
    eng_c = np.where(contacted, eng_c, eng - qv[P.ENGAGEMENT_DECAY] * eng)
    fstar = t["free"][row, s].astype(np.float32)
    free_c = np.where(noticed, free_c, free_c + qv[P.FREEDOM_RECOVERY] * (fstar - free_c))
    # fairness against the remembered reference price, interventions, clipping, data sharing
    price = t["price"][row].astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):  # customers without a provider: not used
        target = np.clip(f1 - qv[P.FAIRNESS_SLOPE] * (price / ref - f1), np.float32(0.0), f1)
    fair_c = fair + qv[P.FAIRNESS_RATE] * (target - fair)
    ref_c = ref + qv[P.REFERENCE_PRICE_RATE] * (price - ref)
    tau_c = tau_c - qv[P.FAIRNESS_TRUST_LOSS] * (f1 - fair_c) * tau_c  # unfairness costs trust
    form = small[Sm.FORM].astype(np.int64)
    has_form = form < interv.shape[1]
    iv = t["iv"][row, np.minimum(form, interv.shape[1])].astype(np.float32)
    eng_c = np.where(has_form, eng_c + w * iv * (f1 - eng_c), eng_c)
    tau_c = np.clip(tau_c, 0.0, 1.0)
    eng_c = np.clip(eng_c, 0.0, 1.0)
    shared_c = (tau_c > traits[Tr.PRIVACY]).astype(np.int64)
    tau = np.where(has, tau_c, tau)
    eng = np.where(has, eng_c, eng)
    sat = np.where(has, sat_c, sat)
    free = np.where(has, free_c, free)
    infl = np.where(has, infl_c, infl)
    fair = np.where(has, fair_c, fair)
    ref = np.where(has, ref_c, ref)
    shared = np.where(has, shared_c, shared)
    # 7. price sensitivity
    alpha = traits[Tr.ALPHA0] * (f1 - qv[P.ALPHA_ENGAGEMENT] * eng) * (f1 - qv[P.ALPHA_TRUST] * tau)
    # 8. switching review (customers outside the market look around at the base hazard) and logit choice
    r = draw(key, idx, R.REVIEW)
    review = ~has & (r < pv[P.REVIEW_HAZARD])
    maybe = np.flatnonzero(has & (r < hazard_scale(par)))  # the hazard never exceeds its scale
    review[maybe] = r[maybe] < hazard_scale(par) * np.exp(-pv[P.HAZARD_TRUST] * tau[maybe].astype(np.float64)
                                                          - pv[P.HAZARD_ENGAGEMENT] * eng[maybe].astype(np.float64)
                                                          - pv[P.HAZARD_FREEDOM] * free[maybe].astype(np.float64))
    panel = draw(key, idx, R.PANEL) < pv[P.PANEL_RATE]  # the step's demand panel: tallied, never switching
    rv = np.flatnonzero(review | panel)
    k = j.copy()
    chosen, demand, slope = _choose(t, firm, par, j[rv], shared[rv], adopted[rv], phi[rv], w[rv],
                                    alpha[rv].astype(np.float64), draw(key, idx[rv], R.CHOICE))
    k[rv] = np.where(review[rv], chosen, j[rv])
    switch = k != j
    churned = np.bincount(j[switch & has], minlength=n_firms).astype(np.float64)
    new_tenure = np.where(switch, 0, tenure) + 1
    shared = np.where(switch, 0, shared)
    tau = np.where(switch, qv[P.TRUST_INIT], tau)
    eng = np.where(switch, eng * qv[P.CARRY_ENGAGEMENT], eng)
    ref = np.where(switch & (k != NO_FIRM), t["price"][k + 1].astype(np.float32), ref)
    # 9. recommendation score 0..10 (u1 + u2 - 1 is a multiple of 2**-24: exact in float32)
    x = (10.0 * (qv[P.REC_SATISFACTION] * sat + qv[P.REC_TRUST] * tau + qv[P.REC_ENGAGEMENT] * eng
                 + qv[P.REC_FREEDOM] * free + qv[P.REC_INFLUENCE] * infl)
         + qv[P.REC_OFFSET] + 0.5
         + qv[P.REC_NOISE] * (draw(key, idx, R.SCORE) + draw(key, idx, R.SCORE2) - 1.0).astype(np.float32))
    score = np.clip(x, 0.0, 10.0).astype(np.int64)
    # write back
    provider[:] = k
    tenure[:] = new_tenure
    state[St.TRUST] = tau
    state[St.ENGAGEMENT] = eng
    state[St.SATISFACTION] = sat
    state[St.FREEDOM] = free
    state[St.INFLUENCE] = infl
    state[St.FAIRNESS] = fair
    state[St.ALPHA] = alpha
    state[St.REF_PRICE] = ref
    small[Sm.SHARED] = shared
    small[Sm.ADOPTED] = adopted
    small[Sm.SCORE] = score
    # 10. tallies: service at the serving firm j, state at the final provider k
    tally = np.zeros((n_firms, len(T)))
    seg_tally = np.zeros((n_segments, len(S)))

    def by(index, weights=None, size=n_firms):
        return np.bincount(index, weights, minlength=size)[:size]

    jc = j[contacted]
    tally[:, T.CONTACTS] = by(jc)
    tally[:, T.EFFORT] = by(jc, 1.0 - q[contacted])
    tally[:, T.WANTED_HUMAN] = by(j[wants])
    tally[:, T.HUMAN] = by(j[human])
    tally[:, T.NOTICED] = by(j[noticed])
    tally[:, T.PUSHED] = by(j[pushed])
    tally[:, T.CHURN] = churned
    tally[:, T.CHOICE_SHARE] = demand
    tally[:, T.CHOICE_SLOPE] = slope
    eng32 = state[St.ENGAGEMENT].astype(np.float64)
    diseng = eng32 < pv[P.DISENGAGED_BELOW]
    ok = k != NO_FIRM
    kk = k[ok]
    tally[:, T.CUSTOMERS] = by(kk)
    for k in range(N_ST):  # every state row of the layout, summed at the provider
        tally[:, T_STATE0 + k] = by(kk, state[k].astype(np.float64)[ok])
    for col, values in ((T.TENURE, tenure), (T.SHARED, shared), (T.ADOPTED, adopted), (T.DISENGAGED, diseng),
                        (T.PROMOTERS, score >= 9), (T.DETRACTORS, score <= 6)):
        tally[:, col] = by(kk, np.asarray(values, np.float64)[ok])
    seg = small[Sm.SEGMENT].astype(np.int64)
    seg_tally[:, S.COUNT] = by(seg, size=n_segments)
    for k, row in enumerate(SEG_STATES):  # the state rows summed per segment
        seg_tally[:, S_STATE0 + k] = by(seg, state[row].astype(np.float64), n_segments)
    for col, values in ((S.DISENGAGED, diseng), (S.ADOPTED, adopted)):
        seg_tally[:, col] = by(seg, np.asarray(values, np.float64), n_segments)
    return tally, seg_tally
