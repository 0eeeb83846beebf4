"""Numba kernels: the per-customer work of a step and the per-firm tallies.

Everything here is a pure function of arrays (numpy and numba only). The layout
of the arrays is fixed by the index constants below, shared with
:mod:`sim.state` (which allocates them), :mod:`sim.reference` (the plain
re-implementation the tests compare against) and :mod:`sim.model` (which fills
the parameter vectors).

Randomness is counter-based: every uniform draw is a SplitMix64 hash of
(step key, customer index, stream), so a customer's draws do not depend on how
customers are split over threads, and the kernels stay pure. Tallies are summed
per fixed chunk of customers (the chunking depends only on N), then over chunks
in chunk order, so results are identical for any thread count.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

NO_FIRM = -1  #: sentinel provider for a customer without a firm

# ---- float32 trait rows (static) ------------------------------------------------
LITERACY, HUMAN_PREF, AFFINITY, PRIVACY, ALPHA0 = range(5)
N_TRAITS = 5
# ---- float32 state rows (dynamic) ------------------------------------------------
TRUST, ENGAGEMENT, SATISFACTION, FREEDOM, INFLUENCE, FAIRNESS, ALPHA = range(7)
N_STATE = 7
# ---- int8 rows ------------------------------------------------------------------
SHARED, ADOPTED, SCORE, FORM, SEGMENT = range(5)
N_SMALL = 5

# ---- firm columns (float64, shape (F, N_FIRM_COLS)) -------------------------------
F_DIGITAL, F_HUMAN, F_PRICE, F_PERSONAL, F_STEER_MODE, F_STEER_P, F_AVAIL, F_REPUTATION, F_ALIVE = range(9)
N_FIRM_COLS = 9
STEER_NONE, STEER_SOFT, STEER_HARD = 0, 1, 2

# ---- market parameter vector (float64) -------------------------------------------
(P_EXPECTATION, P_COMMODITY, P_ADOPT_PROB, P_LIT_THRESHOLD, P_EXCLUSION, P_MEAN_PRICE,
 P_CONTACT, P_HUMAN_EXP, P_GATE_CENTER, P_GATE_SLOPE, P_NOTICE_SOFT,
 P_TRUST_INIT, P_TRUST_GAIN, P_TRUST_LOSS, P_TRUST_HUMAN, P_STEER_TRUST, P_STEER_FREEDOM,
 P_FREEDOM_RECOVERY, P_INFLUENCE_RATE, P_INFLUENCE_DIGITAL, P_FAIR_RATE, P_FAIR_SLOPE,
 P_FAIR_TRUST, P_SAT_MEMORY, P_ENG_RATE, P_ENG_DECAY, P_DISENGAGE, P_DISENGAGED_BELOW,
 P_CARRY_ENG, P_ALPHA_COMMODITY, P_ALPHA_ENG, P_ALPHA_TRUST, P_HAZARD, P_HAZARD_TRUST,
 P_HAZARD_ENG, P_BETA_DIGITAL, P_DIGITAL_GAIN, P_BETA_HUMAN, P_BETA_EMOTION, P_BETA_REP,
 P_INERTIA, P_REC_SAT, P_REC_TRUST, P_REC_ENG, P_REC_OFFSET, P_REC_NOISE) = range(46)
N_PARAMS = 46

# ---- per-firm tally columns ---------------------------------------------------------
(T_CUSTOMERS, T_CONTACTS, T_HUMAN, T_WANTED_HUMAN, T_NOTICED, T_PUSHED, T_EFFORT, T_TRUST,
 T_ENGAGEMENT, T_SATISFACTION, T_FREEDOM, T_INFLUENCE, T_FAIRNESS, T_PROMOTERS, T_DETRACTORS,
 T_CHURN, T_TENURE, T_SHARED, T_ALPHA, T_ADOPTED, T_DISENGAGED) = range(21)
N_FIRM_TALLY = 21
# ---- per-segment tally columns ------------------------------------------------------
S_COUNT, S_ENGAGEMENT, S_TRUST, S_DISENGAGED, S_ADOPTED, S_SATISFACTION = range(6)
N_SEG_TALLY = 6

# ---- random streams (one uniform each per customer and step) -------------------------
R_ADOPT, R_CONTACT, R_WANT_HUMAN, R_STEER, R_NOTICE, R_AVAIL, R_REVIEW, R_CHOICE, R_SCORE, R_SCORE2 = range(10)

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
_GOLD = np.uint64(GOLDEN)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def mix64(z: int) -> int:
    """SplitMix64 finaliser on a Python int (the pure-Python twin of ``_mix``)."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def step_key(seed: int, step: int) -> int:
    """The 64-bit key of all draws of ``step`` (step -1 is the initial assignment)."""
    return mix64(mix64(seed) ^ ((step + 2) * GOLDEN & MASK64))


@njit(inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(inline="always")
def _base(key, i):
    return _mix(key + np.uint64(i) * _GOLD)


@njit(inline="always")
def _uniform(base, stream):
    """A uniform in [0, 1) from a customer's base hash and a stream number."""
    z = _mix(base + np.uint64(stream + 1) * _GOLD)
    return np.float64(z >> _S11) * _TO_UNIT


@njit
def uniforms(key, n, stream):
    """The uniforms of ``stream`` for customers ``0..n-1`` under ``key`` (for tests)."""
    out = np.empty(n)
    for i in range(n):
        out[i] = _uniform(_base(np.uint64(key), i), stream)
    return out


# ---------------------------------------------------------------------------- pieces
@njit(inline="always")
def _gate(x, center, slope):
    return 1.0 / (1.0 + math.exp(-slope * (x - center)))


@njit(inline="always")
def _digital_seen(firm, m, shared, adopted, par):
    """Digital quality customer sees at firm m: d (1 + pi shared), capped at 1, times exclusion."""
    de = firm[m, F_DIGITAL] * (1.0 + firm[m, F_PERSONAL] * shared)
    if de > 1.0:
        de = 1.0
    if adopted == 0:
        de *= par[P_EXCLUSION]
    return de


@njit(inline="always")
def _utility(firm, m, current, shared, adopted, phi, w, alpha, par):
    sh = shared if m == current else 0
    x = _digital_seen(firm, m, sh, adopted, par) - par[P_EXPECTATION]
    ud = 0.0  # non-adopters do not use digital channels, so do not value them
    if adopted != 0:
        # a shortfall below E costs more than proportionally (digital is the entry
        # ticket); a lead above E earns linearly, at a reduced weight (commodity)
        ud = par[P_BETA_DIGITAL] * (-x * x if x < 0.0 else par[P_DIGITAL_GAIN] * x)
    h = firm[m, F_HUMAN]
    if adopted == 0:
        phi = 1.0  # every contact of a non-adopter is a human one
    u = (ud + par[P_BETA_HUMAN] * phi * h
         + par[P_BETA_EMOTION] * w * h * _gate(x, par[P_GATE_CENTER], par[P_GATE_SLOPE])
         - alpha * firm[m, F_PRICE] + par[P_BETA_REP] * firm[m, F_REPUTATION])
    if m == current:
        u += par[P_INERTIA]
    return u


@njit(inline="always")
def _choose(firm, current, shared, adopted, phi, w, alpha, par, r, util):
    """Multinomial logit choice among alive firms (max-subtracted), one uniform ``r``."""
    n_firms = firm.shape[0]
    umax = -np.inf
    for m in range(n_firms):
        if firm[m, F_ALIVE] > 0.0:
            u = _utility(firm, m, current, shared, adopted, phi, w, alpha, par)
            util[m] = u
            if u > umax:
                umax = u
    total = 0.0
    for m in range(n_firms):
        if firm[m, F_ALIVE] > 0.0:
            util[m] = math.exp(util[m] - umax)
            total += util[m]
    target = r * total
    acc = 0.0
    last = NO_FIRM
    for m in range(n_firms):
        if firm[m, F_ALIVE] > 0.0:
            acc += util[m]
            last = m
            if target < acc:
                return m
    return last


@njit(inline="always")
def _clip01(x):
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


# --------------------------------------------------------------------------- kernels
@njit(parallel=True, cache=True)
def customer_step(key, par, firm, interv, traits, state, small, provider, tenure, bounds,
                  tally, seg_tally):
    """Advance every customer one step and tally the result per chunk.

    Parameters
    ----------
    key : uint64
        Step key (:func:`step_key`).
    par : float64[N_PARAMS]
        Market parameters and this step's market state (``P_*``).
    firm : float64[F, N_FIRM_COLS]
        Firm columns (``F_*``); ``F_ALIVE`` > 0 marks firms customers can choose.
    interv : float64[F, 3]
        Per step pull of engagement toward 1 for customers preferring each form.
    traits : float32[N_TRAITS, N]; state : float32[N_STATE, N]; small : int8[N_SMALL, N]
    provider : int16[N] (``NO_FIRM`` = must choose); tenure : int32[N] (steps with provider)
    bounds : int64[C + 1]
        Chunk boundaries; chunk c is customers ``bounds[c]:bounds[c + 1]``.
    tally : float64[C, F, N_FIRM_TALLY]; seg_tally : float64[C, S, N_SEG_TALLY]
        Output, overwritten: per-chunk sums.

    The per-customer phases, in order: adoption, contact (channel, steering,
    availability), experience and disconfirmation, trust / satisfaction / influence
    / engagement / freedom / fairness, interventions, data sharing, price
    sensitivity, switching review and logit choice, tenure, recommendation score,
    tallies.
    """
    n_chunks = bounds.shape[0] - 1
    n_firms = firm.shape[0]
    key = np.uint64(key)
    for c in prange(n_chunks):
        util = np.empty(n_firms)
        tal = tally[c]
        stal = seg_tally[c]
        tal[:, :] = 0.0
        stal[:, :] = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            base = _base(key, i)
            j = np.int64(provider[i])
            phi = np.float64(traits[HUMAN_PREF, i])
            w = np.float64(traits[AFFINITY, i])
            tau = np.float64(state[TRUST, i])
            eng = np.float64(state[ENGAGEMENT, i])
            sat = np.float64(state[SATISFACTION, i])
            free = np.float64(state[FREEDOM, i])
            infl = np.float64(state[INFLUENCE, i])
            fair = np.float64(state[FAIRNESS, i])
            shared = np.int64(small[SHARED, i])
            adopted = np.int64(small[ADOPTED, i])
            # 1. adoption (Bass: probability p + q A, only for eligible customers)
            if adopted == 0 and traits[LITERACY, i] >= par[P_LIT_THRESHOLD]:
                if _uniform(base, R_ADOPT) < par[P_ADOPT_PROB]:
                    adopted = 1
            contacted = False
            human = False
            wants = False
            pushed = False
            noticed = False
            effort = 0.0
            if j != NO_FIRM:
                # 2. contact and channel
                dx = _digital_seen(firm, j, shared, adopted, par)
                h = firm[j, F_HUMAN]
                emo = h * _gate(dx - par[P_EXPECTATION], par[P_GATE_CENTER], par[P_GATE_SLOPE])
                if _uniform(base, R_CONTACT) < par[P_CONTACT]:
                    contacted = True
                    wants = adopted == 0 or _uniform(base, R_WANT_HUMAN) < phi
                    human = wants
                    if wants:
                        mode = firm[j, F_STEER_MODE]
                        if mode != STEER_NONE and _uniform(base, R_STEER) < firm[j, F_STEER_P]:
                            human = False
                            if mode == STEER_HARD:
                                noticed = True
                            else:
                                noticed = _uniform(base, R_NOTICE) < par[P_NOTICE_SOFT]
                        if human and _uniform(base, R_AVAIL) >= firm[j, F_AVAIL]:
                            human = False
                    pushed = wants and not human
                    # 3. experience and disconfirmation
                    if human:
                        q = h
                        delta = q - par[P_HUMAN_EXP] + par[P_TRUST_HUMAN]
                        heard = h
                    else:
                        q = dx
                        delta = q - par[P_EXPECTATION]
                        heard = dx * par[P_INFLUENCE_DIGITAL]
                    effort = 1.0 - q
                    # 4. trust (asymmetric), satisfaction, influence
                    if delta > 0.0:
                        tau += par[P_TRUST_GAIN] * min(delta, 1.0) * (1.0 - tau)
                    else:
                        tau += par[P_TRUST_LOSS] * max(delta, -1.0) * tau
                    sat += par[P_SAT_MEMORY] * (q - sat)
                    infl += par[P_INFLUENCE_RATE] * (heard - infl)
                    # 5. engagement toward affinity x gated emotion
                    eng += par[P_ENG_RATE] * (w * emo - eng)
                    if pushed and adopted == 0:
                        eng -= par[P_DISENGAGE] * eng
                    if noticed:
                        free -= par[P_STEER_FREEDOM] * free
                        tau -= par[P_STEER_TRUST] * tau
                else:
                    eng -= par[P_ENG_DECAY] * eng
                if not noticed:
                    free += par[P_FREEDOM_RECOVERY] * (1.0 - free)
                # fairness: price relative to the market's mean price
                target = _clip01(1.0 - par[P_FAIR_SLOPE] * (firm[j, F_PRICE] / par[P_MEAN_PRICE] - 1.0))
                fair += par[P_FAIR_RATE] * (target - fair)
                if fair < 0.5:
                    tau -= par[P_FAIR_TRUST] * (0.5 - fair) * tau
                # interventions pull engagement of customers preferring that form
                form = small[FORM, i]
                if form < interv.shape[1]:
                    eng += w * interv[j, form] * (1.0 - eng)
                tau = _clip01(tau)
                eng = _clip01(eng)
                # 6. data sharing
                shared = 1 if tau > traits[PRIVACY, i] else 0
            # 7. price sensitivity
            alpha = (traits[ALPHA0, i] * (1.0 + par[P_ALPHA_COMMODITY] * par[P_COMMODITY])
                     * (1.0 - par[P_ALPHA_ENG] * eng) * (1.0 - par[P_ALPHA_TRUST] * tau))
            # 8. switching review and logit choice
            review = j == NO_FIRM
            if not review:
                r = _uniform(base, R_REVIEW)
                if r < par[P_HAZARD]:
                    review = r < par[P_HAZARD] * math.exp(-par[P_HAZARD_TRUST] * tau
                                                          - par[P_HAZARD_ENG] * eng)
            k = j
            if review:
                k = _choose(firm, j, shared, adopted, phi, w, alpha, par,
                            _uniform(base, R_CHOICE), util)
                if k != j:
                    if j != NO_FIRM:
                        tal[j, T_CHURN] += 1.0
                    tenure[i] = 0
                    shared = 0
                    tau = par[P_TRUST_INIT]
                    eng *= par[P_CARRY_ENG]
            tenure[i] += 1
            # 9. recommendation likelihood 0..10: weighted score plus triangular noise
            x = (10.0 * (par[P_REC_SAT] * sat + par[P_REC_TRUST] * tau + par[P_REC_ENG] * eng)
                 + par[P_REC_OFFSET] + 0.5
                 + par[P_REC_NOISE] * (_uniform(base, R_SCORE) + _uniform(base, R_SCORE2) - 1.0))
            score = np.int64(10) if x >= 10.0 else (np.int64(0) if x < 0.0 else np.int64(x))
            # write back
            provider[i] = k
            state[TRUST, i] = tau
            state[ENGAGEMENT, i] = eng
            state[SATISFACTION, i] = sat
            state[FREEDOM, i] = free
            state[INFLUENCE, i] = infl
            state[FAIRNESS, i] = fair
            state[ALPHA, i] = alpha
            small[SHARED, i] = shared
            small[ADOPTED, i] = adopted
            small[SCORE, i] = score
            # 10. tallies: service at the serving firm j, state at the final provider k
            if contacted:
                tal[j, T_CONTACTS] += 1.0
                tal[j, T_EFFORT] += effort
                if wants:
                    tal[j, T_WANTED_HUMAN] += 1.0
                if human:
                    tal[j, T_HUMAN] += 1.0
                if noticed:
                    tal[j, T_NOTICED] += 1.0
                if pushed:
                    tal[j, T_PUSHED] += 1.0
            eng32 = state[ENGAGEMENT, i]
            diseng = 1.0 if eng32 < par[P_DISENGAGED_BELOW] else 0.0
            if k != NO_FIRM:
                tal[k, T_CUSTOMERS] += 1.0
                tal[k, T_TRUST] += state[TRUST, i]
                tal[k, T_ENGAGEMENT] += eng32
                tal[k, T_SATISFACTION] += state[SATISFACTION, i]
                tal[k, T_FREEDOM] += state[FREEDOM, i]
                tal[k, T_INFLUENCE] += state[INFLUENCE, i]
                tal[k, T_FAIRNESS] += state[FAIRNESS, i]
                tal[k, T_ALPHA] += state[ALPHA, i]
                tal[k, T_TENURE] += tenure[i]
                tal[k, T_SHARED] += shared
                tal[k, T_ADOPTED] += adopted
                tal[k, T_DISENGAGED] += diseng
                if score >= 9:
                    tal[k, T_PROMOTERS] += 1.0
                elif score <= 6:
                    tal[k, T_DETRACTORS] += 1.0
            s = small[SEGMENT, i]
            stal[s, S_COUNT] += 1.0
            stal[s, S_ENGAGEMENT] += eng32
            stal[s, S_TRUST] += state[TRUST, i]
            stal[s, S_DISENGAGED] += diseng
            stal[s, S_ADOPTED] += adopted
            stal[s, S_SATISFACTION] += state[SATISFACTION, i]


@njit(parallel=True, cache=True)
def assign_orphans(key, par, firm, traits, state, small, provider, bounds):
    """Customers with ``provider == NO_FIRM`` choose a firm by logit (no inertia).

    Used for the initial assignment; draws stream ``R_CHOICE`` of ``key``.
    """
    n_chunks = bounds.shape[0] - 1
    key = np.uint64(key)
    for c in prange(n_chunks):
        util = np.empty(firm.shape[0])
        for i in range(bounds[c], bounds[c + 1]):
            if provider[i] == NO_FIRM:
                provider[i] = _choose(firm, NO_FIRM, 0, np.int64(small[ADOPTED, i]),
                                      np.float64(traits[HUMAN_PREF, i]),
                                      np.float64(traits[AFFINITY, i]),
                                      np.float64(state[ALPHA, i]), par,
                                      _uniform(_base(key, i), R_CHOICE), util)


def chunk_bounds(n: int, chunk: int = 8192) -> np.ndarray:
    """Fixed chunk boundaries for ``n`` customers (independent of the thread count)."""
    n_chunks = max(1, -(-n // chunk))
    return np.linspace(0, n, n_chunks + 1).astype(np.int64)
