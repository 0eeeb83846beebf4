"""The customer step vectorised in plain NumPy: the yardstick of the benchmarks.

:func:`customer_step` does what :func:`sim.kernels.customer_step` does, with
whole-array operations (a loop over firms, none over customers): the same
counter-based uniforms (the same 32-bit hash in ``uint32`` arithmetic, :func:`uniforms`),
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

from . import kernels as K
from .reference import digital_seen, gate


def draw(key: int, index: np.ndarray, stream: int) -> np.ndarray:
    """The uniforms of ``stream`` for customers ``index`` under ``key``: same bits as the kernel's
    (``uint32`` arithmetic wraps modulo 2**32, like the kernel's)."""
    x = index.astype(np.uint32) + np.uint32(K.stream_key(key, stream))
    for shift, mult in K.HASH32_ROUNDS:
        x = (x ^ (x >> np.uint32(shift))) * np.uint32(mult)
    x = x ^ (x >> np.uint32(K.HASH32_LAST))
    return (x >> np.uint32(32 - K.UNIT_BITS)).astype(np.float64) * 2.0 ** -K.UNIT_BITS


def uniforms(key: int, n: int, stream: int) -> np.ndarray:
    """The uniforms of ``stream`` for customers ``0..n-1`` (twin of :func:`sim.kernels.uniforms`)."""
    return draw(key, np.arange(n), stream)


def firm_table(par: np.ndarray, firm: np.ndarray, interv: np.ndarray) -> dict[str, np.ndarray]:
    """This step's per-firm quantities, row 0 for "no firm", row m + 1 for firm m.

    Digital quality seen, gate, emotion and digital utility are indexed by
    ``s = 2 * shared + adopted`` in their second axis.
    """
    n_firms, n_forms = firm.shape[0], interv.shape[1]
    t = {name: np.zeros((n_firms + 1, 4)) for name in ("dx", "gate", "emo", "ud")}
    t.update({name: np.zeros(n_firms + 1) for name in ("h", "fair", "steer", "hard", "avail")})
    t["iv"] = np.zeros((n_firms + 1, n_forms + 1))
    for m in range(n_firms):
        r = m + 1
        h = float(firm[m, K.F_HUMAN])
        for sh in (0, 1):
            for ad in (0, 1):
                s = 2 * sh + ad
                dx = digital_seen(firm, m, sh, ad, par)
                x = dx - par[K.P_EXPECTATION]
                g = gate(x, par[K.P_GATE_CENTER], par[K.P_GATE_SLOPE])
                t["dx"][r, s], t["gate"][r, s], t["emo"][r, s] = dx, g, h * g
                if ad:
                    t["ud"][r, s] = par[K.P_BETA_DIGITAL] * (-x * x if x < 0 else par[K.P_DIGITAL_GAIN] * x)
        t["h"][r] = h
        ratio = firm[m, K.F_PRICE] / par[K.P_MEAN_PRICE] - 1.0
        t["fair"][r] = min(1.0, max(0.0, 1.0 - par[K.P_FAIR_SLOPE] * ratio))
        mode = firm[m, K.F_STEER_MODE]
        t["steer"][r] = firm[m, K.F_STEER_P] if mode != K.STEER_NONE else 0.0
        t["hard"][r] = mode == K.STEER_HARD
        t["avail"][r] = firm[m, K.F_AVAIL]
        t["iv"][r, :n_forms] = interv[m]
    return t


def _choose(t, firm, par, current, shared, adopted, phi, w, alpha, r) -> np.ndarray:
    """Logit choice of customers (arrays) among alive firms, one uniform each."""
    n_firms = firm.shape[0]
    alive = [m for m in range(n_firms) if firm[m, K.F_ALIVE] > 0]
    if not alive:
        return np.full(current.shape, K.NO_FIRM, np.int64)
    phi = np.where(adopted == 0, 1.0, phi)
    util = np.empty((len(alive), current.shape[0]))
    for a, m in enumerate(alive):
        mine = current == m
        s = adopted + np.where(mine, 2 * shared, 0)
        h = firm[m, K.F_HUMAN]
        u = (t["ud"][m + 1, s] + par[K.P_BETA_HUMAN] * phi * h
             + par[K.P_BETA_EMOTION] * w * h * t["gate"][m + 1, s]
             - alpha * firm[m, K.F_PRICE] + par[K.P_BETA_REP] * firm[m, K.F_REPUTATION])
        util[a] = np.where(mine, u + par[K.P_INERTIA], u)
    weight = np.exp(util - util.max(axis=0))
    total = np.zeros(current.shape[0])
    for a in range(len(alive)):
        total += weight[a]
    target = r * total
    choice = np.full(current.shape, alive[-1], np.int64)
    acc = np.zeros(current.shape[0])
    undecided = np.ones(current.shape, bool)
    for a, m in enumerate(alive):
        acc += weight[a]
        hit = undecided & (target < acc)
        choice[hit] = m
        undecided &= ~hit
    return choice


def customer_step(key, par, firm, interv, traits, state, small, provider, tenure, n_segments
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Advance every customer one step; returns the summed tallies (like the reference).

    Same arguments as :func:`sim.reference.customer_step`; the arrays are updated
    in place.
    """
    P = par  # probabilities and the hazard: float64, as the kernel compares them
    Q = np.asarray(par, dtype=np.float32)  # the state update: float32 arithmetic, as the kernel's
    n = provider.shape[0]
    n_firms = firm.shape[0]
    t = firm_table(par, firm, interv)
    idx = np.arange(n)
    j = provider.astype(np.int64)
    has = j != K.NO_FIRM
    row = j + 1
    phi = traits[K.HUMAN_PREF]
    w = traits[K.AFFINITY]
    tau = state[K.TRUST].copy()
    eng = state[K.ENGAGEMENT].copy()
    sat = state[K.SATISFACTION].copy()
    free = state[K.FREEDOM].copy()
    infl = state[K.INFLUENCE].copy()
    fair = state[K.FAIRNESS].copy()
    shared = small[K.SHARED].astype(np.int64)
    adopted = small[K.ADOPTED].astype(np.int64)
    # 1. adoption
    adopt = ((adopted == 0) & (traits[K.LITERACY].astype(np.float64) >= P[K.P_LIT_THRESHOLD])
             & (draw(key, idx, K.R_ADOPT) < P[K.P_ADOPT_PROB]))
    adopted = np.where(adopt, 1, adopted)
    s = 2 * shared + adopted
    dx = t["dx"][row, s].astype(np.float32)
    emo = t["emo"][row, s].astype(np.float32)
    h = t["h"][row].astype(np.float32)
    # 2. contact and channel
    contacted = has & (draw(key, idx, K.R_CONTACT) < P[K.P_CONTACT])
    wants = contacted & ((adopted == 0) | (draw(key, idx, K.R_WANT_HUMAN) < phi))
    steered = wants & (draw(key, idx, K.R_STEER) < t["steer"][row])
    noticed = steered & ((t["hard"][row] > 0) | (draw(key, idx, K.R_NOTICE) < P[K.P_NOTICE_SOFT]))
    human = wants & ~steered & (draw(key, idx, K.R_AVAIL) < t["avail"][row])
    pushed = wants & ~human
    # 3. experience and disconfirmation
    q = np.where(human, h, dx)
    delta = np.where(human, h - Q[K.P_HUMAN_EXP] + Q[K.P_TRUST_HUMAN], dx - Q[K.P_EXPECTATION])
    heard = np.where(human, h, dx * Q[K.P_INFLUENCE_DIGITAL])
    # 4. trust (asymmetric), satisfaction, influence
    tau_c = np.where(delta > 0.0, tau + Q[K.P_TRUST_GAIN] * np.minimum(delta, 1.0) * (1.0 - tau),
                     tau + Q[K.P_TRUST_LOSS] * np.maximum(delta, -1.0) * tau)
    sat_c = sat + Q[K.P_SAT_MEMORY] * (q - sat)
    infl_c = infl + Q[K.P_INFLUENCE_RATE] * (heard - infl)
    # 5. engagement, steering noticed, decay without contact, freedom
    eng_c = eng + Q[K.P_ENG_RATE] * (w * emo - eng)
    eng_c = np.where(pushed & (adopted == 0), eng_c - Q[K.P_DISENGAGE] * eng_c, eng_c)
    free_c = np.where(noticed, free - Q[K.P_STEER_FREEDOM] * free, free)
    tau_c = np.where(noticed, tau_c - Q[K.P_STEER_TRUST] * tau_c, tau_c)
    tau_c = np.where(contacted, tau_c, tau)
    sat_c = np.where(contacted, sat_c, sat)
    infl_c = np.where(contacted, infl_c, infl)
    eng_c = np.where(contacted, eng_c, eng - Q[K.P_ENG_DECAY] * eng)
    free_c = np.where(noticed, free_c, free_c + Q[K.P_FREEDOM_RECOVERY] * (1.0 - free_c))
    # fairness, interventions, clipping, data sharing
    fair_c = fair + Q[K.P_FAIR_RATE] * (t["fair"][row].astype(np.float32) - fair)
    tau_c = np.where(fair_c < 0.5, tau_c - Q[K.P_FAIR_TRUST] * (0.5 - fair_c) * tau_c, tau_c)
    form = small[K.FORM].astype(np.int64)
    has_form = form < interv.shape[1]
    iv = t["iv"][row, np.minimum(form, interv.shape[1])].astype(np.float32)
    eng_c = np.where(has_form, eng_c + w * iv * (1.0 - eng_c), eng_c)
    tau_c = np.clip(tau_c, 0.0, 1.0)
    eng_c = np.clip(eng_c, 0.0, 1.0)
    shared_c = (tau_c > traits[K.PRIVACY]).astype(np.int64)
    tau = np.where(has, tau_c, tau)
    eng = np.where(has, eng_c, eng)
    sat = np.where(has, sat_c, sat)
    free = np.where(has, free_c, free)
    infl = np.where(has, infl_c, infl)
    fair = np.where(has, fair_c, fair)
    shared = np.where(has, shared_c, shared)
    # 7. price sensitivity
    c1 = np.float32(1.0 + P[K.P_ALPHA_COMMODITY] * P[K.P_COMMODITY])
    alpha = traits[K.ALPHA0] * c1 * (1.0 - Q[K.P_ALPHA_ENG] * eng) * (1.0 - Q[K.P_ALPHA_TRUST] * tau)
    # 8. switching review (customers without a provider always review) and logit choice
    review = ~has
    r = draw(key, idx, K.R_REVIEW)
    maybe = np.flatnonzero(has & (r < P[K.P_HAZARD]))
    review[maybe] = r[maybe] < P[K.P_HAZARD] * np.exp(-P[K.P_HAZARD_TRUST] * tau[maybe].astype(np.float64)
                                                      - P[K.P_HAZARD_ENG] * eng[maybe].astype(np.float64))
    rv = np.flatnonzero(review)
    k = j.copy()
    k[rv] = _choose(t, firm, par, j[rv], shared[rv], adopted[rv], phi[rv], w[rv], alpha[rv],
                    draw(key, idx[rv], K.R_CHOICE))
    switch = k != j
    churned = np.bincount(j[switch & has], minlength=n_firms).astype(np.float64)
    new_tenure = np.where(switch, 0, tenure) + 1
    shared = np.where(switch, 0, shared)
    tau = np.where(switch, Q[K.P_TRUST_INIT], tau)
    eng = np.where(switch, eng * Q[K.P_CARRY_ENG], eng)
    # 9. recommendation score 0..10 (u1 + u2 - 1 is a multiple of 2**-24: exact in float32)
    x = (10.0 * (Q[K.P_REC_SAT] * sat + Q[K.P_REC_TRUST] * tau + Q[K.P_REC_ENG] * eng)
         + Q[K.P_REC_OFFSET] + 0.5
         + Q[K.P_REC_NOISE] * (draw(key, idx, K.R_SCORE) + draw(key, idx, K.R_SCORE2) - 1.0).astype(np.float32))
    score = np.clip(x, 0.0, 10.0).astype(np.int64)
    # write back
    provider[:] = k
    tenure[:] = new_tenure
    state[K.TRUST] = tau
    state[K.ENGAGEMENT] = eng
    state[K.SATISFACTION] = sat
    state[K.FREEDOM] = free
    state[K.INFLUENCE] = infl
    state[K.FAIRNESS] = fair
    state[K.ALPHA] = alpha
    small[K.SHARED] = shared
    small[K.ADOPTED] = adopted
    small[K.SCORE] = score
    # 10. tallies: service at the serving firm j, state at the final provider k
    tally = np.zeros((n_firms, K.N_FIRM_TALLY))
    seg_tally = np.zeros((n_segments, K.N_SEG_TALLY))

    def by(index, weights=None, size=n_firms):
        return np.bincount(index, weights, minlength=size)[:size]

    jc = j[contacted]
    tally[:, K.T_CONTACTS] = by(jc)
    tally[:, K.T_EFFORT] = by(jc, 1.0 - q[contacted])
    tally[:, K.T_WANTED_HUMAN] = by(j[wants])
    tally[:, K.T_HUMAN] = by(j[human])
    tally[:, K.T_NOTICED] = by(j[noticed])
    tally[:, K.T_PUSHED] = by(j[pushed])
    tally[:, K.T_CHURN] = churned
    eng32 = state[K.ENGAGEMENT].astype(np.float64)
    diseng = eng32 < P[K.P_DISENGAGED_BELOW]
    ok = k != K.NO_FIRM
    kk = k[ok]
    tally[:, K.T_CUSTOMERS] = by(kk)
    for col, values in ((K.T_TRUST, state[K.TRUST]), (K.T_ENGAGEMENT, eng32),
                        (K.T_SATISFACTION, state[K.SATISFACTION]), (K.T_FREEDOM, state[K.FREEDOM]),
                        (K.T_INFLUENCE, state[K.INFLUENCE]), (K.T_FAIRNESS, state[K.FAIRNESS]),
                        (K.T_ALPHA, state[K.ALPHA]), (K.T_TENURE, tenure), (K.T_SHARED, shared),
                        (K.T_ADOPTED, adopted), (K.T_DISENGAGED, diseng),
                        (K.T_PROMOTERS, score >= 9), (K.T_DETRACTORS, score <= 6)):
        tally[:, col] = by(kk, np.asarray(values, np.float64)[ok])
    seg = small[K.SEGMENT].astype(np.int64)
    seg_tally[:, K.S_COUNT] = by(seg, size=n_segments)
    for col, values in ((K.S_ENGAGEMENT, eng32), (K.S_TRUST, state[K.TRUST]), (K.S_DISENGAGED, diseng),
                        (K.S_ADOPTED, adopted), (K.S_SATISFACTION, state[K.SATISFACTION])):
        seg_tally[:, col] = by(seg, np.asarray(values, np.float64), n_segments)
    return tally, seg_tally
