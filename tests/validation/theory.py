"""Analytic results the validation cases are checked against, written independently of ``sim``.

Nothing here imports the model: every formula is derived from the textbook result
(logit choice, logit Bertrand-Nash pricing, Bass diffusion, asymmetric trust
updating, discrete-time survival, net promoter score) and from the sampling
distribution of a population of ``N`` independent customers. The tests and
``docs/validation/make_validation.py`` both use these functions, so the document's
numbers are the tested numbers.

Tolerances: :func:`z_limit` gives the number of standard errors a deviation may
reach when ``m`` comparisons are made at once, for a family-wise false-alarm
probability of 0.1 % (Bonferroni). No margin is chosen by hand.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

#: Family-wise probability that a correct model fails one test by chance.
FAMILY_ALPHA = 1e-3


def z_limit(m: int = 1, family_alpha: float = FAMILY_ALPHA) -> float:
    """Two-sided z bound for ``m`` simultaneous comparisons (Bonferroni)."""
    return float(stats.norm.isf(family_alpha / (2.0 * max(m, 1))))


def chi2_bounds(dof: int, family_alpha: float = FAMILY_ALPHA) -> tuple[float, float]:
    """Central ``1 - family_alpha`` interval of a chi-square variable with ``dof`` degrees of freedom."""
    return (float(stats.chi2.ppf(family_alpha / 2, dof)), float(stats.chi2.isf(family_alpha / 2, dof)))


# ------------------------------------------------------------------------ 1. logit
def logit_shares(alpha: float, prices) -> np.ndarray:
    """Multinomial logit choice probabilities exp(-alpha p_j) / sum_k exp(-alpha p_k), no outside option."""
    u = -alpha * np.asarray(prices, float)
    e = np.exp(u - u.max())
    return e / e.sum()


def share_sigma(shares, n: int) -> np.ndarray:
    """Binomial standard error of each share in a population of ``n`` independent choosers."""
    s = np.asarray(shares, float)
    return np.sqrt(s * (1.0 - s) / n)


def pearson_chi2(observed_shares, probs, n: int) -> float:
    """Pearson's statistic sum_j n (s_j - P_j)^2 / P_j of one multinomial draw (dof F - 1)."""
    s, p = np.asarray(observed_shares, float), np.asarray(probs, float)
    return float(n * np.sum((s - p) ** 2 / p))


# ------------------------------------------------------------- 2. price equilibrium
def logit_profit(j: int, pj: float, prices, costs, alpha: float) -> float:
    """Profit per market customer of firm ``j`` at its price ``pj`` (others at ``prices``)."""
    p = np.array(prices, float)
    p[j] = pj
    return (pj - costs[j]) * logit_shares(alpha, p)[j]


def nash_by_best_responses(alpha: float, costs, tol: float = 1e-9, max_iter: int = 10_000) -> np.ndarray:
    """Logit Bertrand-Nash prices by iterated *numerical* best responses.

    Each firm in turn maximises its own profit (p_j - c_j) s_j(p) over p_j with a
    bounded scalar optimiser, others' prices fixed; no first-order formula is used.
    A maximum is located to about sqrt(machine epsilon), so agreement with the
    first-order solution is to about 1e-7.
    """
    c = np.asarray(costs, float)
    p = c + 1.0 / alpha
    for _ in range(max_iter):
        old = p.copy()
        for j in range(len(c)):
            res = optimize.minimize_scalar(lambda x, j=j: -logit_profit(j, x, p, c, alpha),
                                           bounds=(c[j], c[j] + 50.0 / alpha), method="bounded",
                                           options={"xatol": 1e-13})
            p[j] = res.x
        if np.max(np.abs(p - old)) < tol:
            return p
    raise RuntimeError("best responses did not converge")


def nash_by_fixed_point(alpha: float, costs, damping: float = 0.5, tol: float = 1e-14,
                        max_iter: int = 100_000) -> np.ndarray:
    """Logit Bertrand-Nash prices from the first-order condition p_j = c_j + 1 / (alpha (1 - s_j(p))).

    Solved by damped fixed-point iteration (the FOC of (p_j - c_j) s_j with
    ds_j/dp_j = -alpha s_j (1 - s_j)).
    """
    c = np.asarray(costs, float)
    p = c + 1.0 / alpha
    for _ in range(max_iter):
        target = c + 1.0 / (alpha * (1.0 - logit_shares(alpha, p)))
        new = p + damping * (target - p)
        if np.max(np.abs(new - p)) < tol:
            return new
        p = new
    raise RuntimeError("fixed point did not converge")


def symmetric_markup(alpha: float, n_firms: int) -> float:
    """Equilibrium markup p - c of ``n_firms`` identical logit firms without outside option.

    N / (alpha (N - 1)): the first-order condition at s = 1 / N.
    """
    return n_firms / (alpha * (n_firms - 1))


def best_response(alpha: float, costs, prices, j: int) -> float:
    """Firm j's best response to the others' ``prices`` under logit demand without outside option:
    the p solving p = c_j + 1 / (alpha (1 - s_j(p))), s_j the share *at p* (bisection; the left
    side minus the right grows with p, so the root is unique)."""
    c = float(np.asarray(costs, float)[j])
    p = np.asarray(prices, float).copy()

    def excess(x: float) -> float:
        p[j] = x
        return x - c - 1.0 / (alpha * (1.0 - logit_shares(alpha, p)[j]))

    lo = c
    hi = c + 1.0 / (alpha * (1.0 - logit_shares(alpha, np.where(np.arange(p.size) == j, c, p))[j])) + 1e-9
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if excess(mid) > 0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def nash_rule_path(alpha: float, costs, p0, lam: float, mu: float, steps: int) -> np.ndarray:
    """Price path of the ``nash`` pricing rule in a logit market where every customer chooses every step
    (one price sensitivity, no outside option, no inertia); row t = prices set at step t + 1.

    Step 1: before any demand is seen, each firm in turn (a later firm sees an earlier one's new price)
    moves ``lam`` of the way toward its best response. Every step's choices give each firm its demand
    s_j and slope alpha s_j (1 - s_j) at that step's prices (per customer: the rule uses their ratio);
    the firm's estimates are moving averages of them with weight ``mu`` on the latest step (the
    first taken whole), and from step 2 every firm moves ``lam`` of the way toward
    c_j + estimate_s / estimate_slope.
    """
    c = np.asarray(costs, float)
    p = np.full(len(c), float(p0)) if np.ndim(p0) == 0 else np.asarray(p0, float).copy()
    out = np.empty((steps, len(c)))
    est_s = est_d = None
    for t in range(steps):
        if est_s is None:
            for j in range(len(c)):
                p[j] = p[j] + lam * (best_response(alpha, c, p, j) - p[j])
        else:
            p = p + lam * (c + est_s / est_d - p)
        out[t] = p
        s = logit_shares(alpha, p)
        d = alpha * s * (1.0 - s)
        if est_s is None:
            est_s, est_d = s, d
        else:
            est_s, est_d = est_s + mu * (s - est_s), est_d + mu * (d - est_d)
    return out


def gamma_sample(mean: float, cv: float, n: int, seed: int) -> np.ndarray:
    """``n`` price sensitivities from the Gamma distribution with this mean and coefficient of variation
    (shape 1 / cv^2, scale mean cv^2), as the model draws ``alpha0``."""
    shape = 1.0 / cv**2
    return np.random.default_rng(seed).gamma(shape, mean / shape, n)


def rc_logit_nash(alphas, costs, tol: float = 1e-12, max_iter: int = 100_000) -> np.ndarray:
    """Bertrand-Nash prices of single-product firms whose customers choose by logit with individual
    price sensitivities ``alphas`` (a sample: the random-coefficients logit), no outside option and
    equal qualities: the first-order conditions p_j = c_j + mean_i s_ij / mean_i[alpha_i s_ij (1 - s_ij)],
    solved by damped fixed-point iteration over the sample."""
    a = np.asarray(alphas, float)[:, None]
    c = np.asarray(costs, float)
    p = c + 1.0 / a.mean()
    for _ in range(max_iter):
        u = -a * p[None, :]
        e = np.exp(u - u.max(axis=1, keepdims=True))
        s = e / e.sum(axis=1, keepdims=True)
        target = c + s.mean(axis=0) / (a * s * (1.0 - s)).mean(axis=0)
        new = p + 0.5 * (target - p)
        if np.max(np.abs(new - p)) < tol:
            return new
        p = new
    raise RuntimeError("the first-order conditions did not converge")


def rc_logit_nash_pyblp(alphas, costs) -> np.ndarray:
    """The same equilibrium computed by pyblp (the standard BLP library): utility beta0 - alpha_i p_j
    with a random coefficient on price (mean -mean(alpha), the agents' nodes mean - alpha_i), a large
    constant beta0 so that pyblp's outside good (utility 0) takes no share, and pyblp's equilibrium
    prices for the given marginal costs (its zeta-markup iteration, Morrow and Skerlos)."""
    import pyblp

    a = np.asarray(alphas, float)
    c = np.asarray(costs, float)
    k = len(c)
    product_data = {"market_ids": np.zeros(k, int), "firm_ids": np.arange(k), "prices": c + 1.0 / a.mean(),
                    "shares": np.full(k, 1.0 / (k + 1))}
    agent_data = {"market_ids": np.zeros(a.size, int), "weights": np.full(a.size, 1.0 / a.size),
                  "nodes": (a.mean() - a)[:, None]}
    pyblp.options.verbose = False
    sim = pyblp.Simulation((pyblp.Formulation("1 + prices"), pyblp.Formulation("0 + prices")), product_data,
                           beta=[60.0, -a.mean()], sigma=[[1.0]], agent_data=agent_data, xi=np.zeros(k))
    iteration = pyblp.Iteration("simple", {"atol": 1e-13, "max_evaluations": 100_000})
    result = sim.replace_endogenous(costs=c, iteration=iteration)
    return np.asarray(result.product_data.prices, float).ravel()


def logit_shares_with_outside(alpha: float, prices, v0_minus_common: float) -> tuple[np.ndarray, float]:
    """Logit shares of firms whose utilities differ only by -alpha p, against an outside option whose
    utility exceeds the firms' common part by ``v0_minus_common``; returns (firm shares, outside share)."""
    u = -alpha * np.asarray(prices, float)
    top = max(u.max(), v0_minus_common)
    w = np.exp(u - top)
    w0 = np.exp(v0_minus_common - top)
    total = w.sum() + w0
    return w / total, w0 / total


# ---------------------------------------------------------------------------- 3. Bass
def bass_discrete(p: float, q: float, steps: int, f0: float = 0.0) -> np.ndarray:
    """Discrete Bass recurrence F(t+1) = F(t) + (1 - F(t)) (p + q F(t)); returns F(0..steps)."""
    f = np.empty(steps + 1)
    f[0] = f0
    for t in range(steps):
        f[t + 1] = f[t] + (1.0 - f[t]) * min(1.0, p + q * f[t])
    return f


def bass_discrete_var(p: float, q: float, steps: int, n: int, f0: float = 0.0) -> np.ndarray:
    """Variance of the simulated adopted share F(t), t = 0..steps, for ``n`` customers.

    Given F(t), the new adopters are Binomial(n (1 - F), P) with P = p + q F, so
    F(t+1) = f(F(t)) + e with Var e = (1 - F) P (1 - P) / n and f(F) = F + (1 - F)(p + q F).
    First-order propagation: V(t+1) = f'(F)^2 V(t) + (1 - F) P (1 - P) / n with
    f'(F) = 1 - p + q - 2 q F.
    """
    f = bass_discrete(p, q, steps, f0)
    v = np.zeros(steps + 1)
    for t in range(steps):
        prob = min(1.0, p + q * f[t])
        slope = 1.0 - p + q - 2.0 * q * f[t]
        v[t + 1] = slope**2 * v[t] + (1.0 - f[t]) * prob * (1.0 - prob) / n
    return v


def bass_increment_var(p: float, q: float, steps: int, n: int) -> np.ndarray:
    """Variance of the new adoptions per step F(t) - F(t-1), t = 1..steps.

    F(t) - F(t-1) = g(F(t-1)) + e with g(F) = (1 - F)(p + q F), g'(F) = q - p - 2 q F.
    """
    f = bass_discrete(p, q, steps)
    v = bass_discrete_var(p, q, steps, n)
    prob = np.minimum(1.0, p + q * f[:-1])
    slope = q - p - 2.0 * q * f[:-1]
    return slope**2 * v[:-1] + (1.0 - f[:-1]) * prob * (1.0 - prob) / n


def bass_continuous(p: float, q: float, t) -> np.ndarray:
    """Continuous Bass solution F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})."""
    e = np.exp(-(p + q) * np.asarray(t, float))
    return (1.0 - e) / (1.0 + (q / p) * e)


def bass_peak_time(p: float, q: float) -> float:
    """Time of the peak adoption rate in the continuous model: ln(q/p) / (p + q)."""
    return math.log(q / p) / (p + q)


def bass_peak_level(p: float, q: float) -> float:
    """Adopted share at which the adoption rate (1 - F)(p + q F) peaks: (q - p) / (2 q)."""
    return (q - p) / (2.0 * q)


def crossing_time(series, level: float) -> float:
    """First time a rising series ``series[0], series[1], ...`` reaches ``level``, linearly interpolated."""
    f = np.asarray(series, float)
    i = int(np.argmax(f >= level))
    if i == 0 or f[i] < level:
        raise ValueError("the series does not cross the level")
    return i - 1 + (level - f[i - 1]) / (f[i] - f[i - 1])


def bass_crossing(p: float, q: float, steps: int, n: int) -> tuple[float, float]:
    """Time the discrete recurrence reaches the peak-rate level (q - p)/(2q), and its sampling sigma.

    In the continuous model this time is exactly ln(q/p)/(p+q). The sigma follows by
    the delta method: sd F at the crossing divided by the slope of F there.
    """
    f = bass_discrete(p, q, steps)
    tc = crossing_time(f, bass_peak_level(p, q))
    i = int(math.ceil(tc))
    sd = math.sqrt(bass_discrete_var(p, q, steps, n)[i]) / (f[i] - f[i - 1])
    return tc, sd


# --------------------------------------------------------------------------- 4. trust
def trust_steady_state(g: float, a_plus: float, a_minus: float) -> float:
    """Fixed point of the mean of tau' = tau + a+ (1 - tau) (prob g) or tau - a- tau (prob 1 - g)."""
    return g * a_plus / (g * a_plus + (1.0 - g) * a_minus)


def trust_moments(g: float, a_plus: float, a_minus: float, contact: float, tau0: float, steps: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and variance of one customer's trust after t = 0..steps steps.

    Each step: with probability ``contact * g`` tau -> (1 - a+) tau + a+; with
    probability ``contact * (1 - g)`` tau -> (1 - a-) tau; otherwise unchanged. Both
    maps are affine, so the first two moments follow closed linear recurrences.
    """
    cp, cm = contact * g, contact * (1.0 - g)
    m1 = np.empty(steps + 1)
    m2 = np.empty(steps + 1)
    m1[0], m2[0] = tau0, tau0 * tau0
    for t in range(steps):
        a, b = a_plus, a_minus
        m1[t + 1] = cp * ((1 - a) * m1[t] + a) + cm * (1 - b) * m1[t] + (1 - cp - cm) * m1[t]
        m2[t + 1] = (cp * ((1 - a) ** 2 * m2[t] + 2 * a * (1 - a) * m1[t] + a * a)
                     + cm * (1 - b) ** 2 * m2[t] + (1 - cp - cm) * m2[t])
    return m1, m2 - m1 * m1


# -------------------------------------------------------------------------- 5. tenure
def switch_probability_on_review(n_firms: int, inertia: float) -> float:
    """Chance that a reviewing customer leaves when all ``n_firms`` firms are identical.

    Logit over the current firm (utility + inertia) and n - 1 others:
    leave = (n - 1) / (e^inertia + n - 1).
    """
    return (n_firms - 1) / (math.exp(inertia) + n_firms - 1)


def geometric_survival(h: float, k) -> np.ndarray:
    """P(D > k) = (1 - h)^k for a constant per-step hazard h."""
    return (1.0 - h) ** np.asarray(k, float)


def tenure_moments(h: float, t: int) -> tuple[float, float]:
    """Mean and variance of the tenure recorded at step t under a constant switching hazard h.

    Tenure counts the steps with the current provider including the current one;
    the initial provider counts from step 1, so P(T >= k) = (1 - h)^(k - 1) for
    k = 1..t and T <= t: mean (1 - (1 - h)^t) / h, which tends to 1 / h.
    """
    k = np.arange(1, t + 1)
    tail = (1.0 - h) ** (k - 1)
    mean = float(tail.sum())
    second = float(((2 * k - 1) * tail).sum())
    return mean, second - mean * mean


def trust_hazard_survival(h0: float, k_trust: float, leave: float, contact: float, gain: float,
                          tau0: float, kmax: int) -> tuple[np.ndarray, np.ndarray]:
    """Survival P(D > k), k = 0..kmax, and mean hazard when trust lengthens relationships.

    Model: each step in a relationship, with probability ``contact`` a positive
    contact moves trust tau -> tau + gain (1 - tau) (so after K contacts
    tau = 1 - (1 - tau0)(1 - gain)^K); then a review happens with probability
    h0 exp(-k_trust tau) and ends the relationship with probability ``leave``.
    Exact dynamic programme over the number of contacts K.
    """
    w = np.zeros(kmax + 1)
    w[0] = 1.0
    surv = np.empty(kmax + 1)
    haz = np.empty(kmax + 1)
    surv[0], haz[0] = 1.0, np.nan
    kk = np.arange(kmax + 1)
    tau = 1.0 - (1.0 - tau0) * (1.0 - gain) ** kk
    hazard_k = h0 * np.exp(-k_trust * tau) * leave
    for m in range(1, kmax + 1):
        moved = np.zeros_like(w)
        moved[1:] = contact * w[:-1]
        w = (1.0 - contact) * w + moved
        w = w * (1.0 - hazard_k)
        surv[m] = w.sum()
        haz[m] = 1.0 - surv[m] / surv[m - 1]
    return surv, haz


def kaplan_meier(at_risk, events) -> np.ndarray:
    """Kaplan-Meier survival S(k) = prod_{m <= k} (1 - d_m / n_m), k = 0..len; index 0 is 1."""
    n = np.asarray(at_risk, float)
    d = np.asarray(events, float)
    factor = np.where(n > 0, 1.0 - d / np.where(n > 0, n, 1.0), 1.0)
    return np.concatenate([[1.0], np.cumprod(factor)])


def greenwood_sigma(surv, hazard, at_risk) -> np.ndarray:
    """Greenwood standard error of the KM curve under the model's hazards (index 0 is 0).

    Var S(k) = S(k)^2 sum_{m <= k} H_m / (n_m (1 - H_m)).
    """
    h = np.asarray(hazard, float)[1:]
    n = np.asarray(at_risk, float)
    terms = np.where(n > 0, h / (np.where(n > 0, n, 1.0) * (1.0 - h)), 0.0)
    return np.asarray(surv, float) * np.sqrt(np.concatenate([[0.0], np.cumsum(terms)]))


# ----------------------------------------------------------------------------- 6. NPS
def triangular_cdf(x) -> np.ndarray:
    """CDF of U1 + U2 - 1 (triangular on [-1, 1]) for independent uniforms U1, U2."""
    x = np.clip(np.asarray(x, float), -1.0, 1.0)
    return np.where(x <= 0.0, 0.5 * (1.0 + x) ** 2, 1.0 - 0.5 * (1.0 - x) ** 2)


def nps_probabilities(level: float, noise: float) -> tuple[float, float]:
    """P(promoter), P(detractor) for a 0-10 score floor(level + noise (U1 + U2 - 1)) clipped to [0, 10].

    Promoter: score >= 9, i.e. x >= 9; detractor: score <= 6, i.e. x < 7.
    """
    if noise == 0.0:
        return float(level >= 9.0), float(level < 7.0)
    prom = 1.0 - float(triangular_cdf((9.0 - level) / noise))
    det = float(triangular_cdf((7.0 - level) / noise))
    return prom, det


def nps_sigma(prom: float, det: float, n: int) -> float:
    """Standard error of NPS = 100 (P - D) from ``n`` independent customers (multinomial)."""
    return 100.0 * math.sqrt(max(prom + det - (prom - det) ** 2, 0.0) / n)
