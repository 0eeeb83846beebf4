"""Regenerate docs/VALIDATION.md and its figures (``make validate``).

Runs every validation case with the same parameters and seeds as
``tests/validation/`` (it imports the tests' case lists and run helpers), computes the
analytic results with :mod:`tests.validation.theory`, draws one figure per case into
``docs/validation/*.png`` and fills the numbers into
``docs/validation/VALIDATION.template.md``, writing ``docs/VALIDATION.md``. Placeholders
in the template are ``{{name}}``; a placeholder without a value is an error.

Usage: ``python docs/validation/make_validation.py`` from anywhere (about a minute on
two cores).
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tests.validation import cases as C  # noqa: E402
from tests.validation import test_bass as TB  # noqa: E402
from tests.validation import test_logit as TL  # noqa: E402
from tests.validation import test_nps as TN  # noqa: E402
from tests.validation import test_price_equilibrium as TP  # noqa: E402
from tests.validation import test_tenure as TT  # noqa: E402
from tests.validation import test_trust as TR  # noqa: E402
from tests.validation import theory as T  # noqa: E402

TEMPLATE = HERE / "VALIDATION.template.md"
OUT = ROOT / "docs" / "VALIDATION.md"
DPI = 110
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def fmt(x: float, nd: int = 4) -> str:
    return f"{x:.{nd}f}"


def vec(xs, nd: int = 4) -> str:
    return ", ".join(fmt(x, nd) for x in xs)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def save(fig, name: str) -> None:
    fig.tight_layout()
    fig.savefig(HERE / name, dpi=DPI)
    plt.close(fig)


# ------------------------------------------------------------------------- 1. logit
def logit(v: dict) -> None:
    rows = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
    ax = axes[0]
    for case, (alpha, prices) in enumerate(TL.CASES):
        probs = T.logit_shares(alpha, prices)
        dof = TL.STEPS * (len(probs) - 1)
        lo, hi = T.chi2_bounds(dof)
        for n in TL.NS:
            run = TL.logit_run(case, n)
            sd = T.share_sigma(probs, n)
            z = (run.shares[0] - probs) / sd
            x2 = sum(T.pearson_chi2(s, probs, n) for s in run.shares)
            rows.append(
                [
                    f"{alpha:g}",
                    vec(prices, 2),
                    f"{n:,}",
                    vec(probs),
                    vec(run.shares[0]),
                    vec(sd),
                    fmt(np.abs(z).max(), 2),
                    f"{T.z_limit(len(probs)):.2f}",
                    f"{x2:.1f} / {dof} [{lo:.0f}, {hi:.0f}]",
                ]
            )
            if n == TL.NS[0]:
                ax.errorbar(
                    probs,
                    run.shares[0] - probs,
                    yerr=2 * sd,
                    fmt="o",
                    color=COLORS[case],
                    capsize=3,
                    label=f"alpha {alpha:g}, {len(prices)} firms",
                )
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("theory exp(-alpha p_j) / sum_k exp(-alpha p_k)")
    ax.set_ylabel("simulated share - theory (step 1)")
    ax.set_title(f"Shares after one step, N = {TL.NS[0]:,} (bars: 2 sigma)")
    ax.legend(fontsize=8)
    # error vs N
    alpha, prices = TL.CASES[0]
    probs = T.logit_shares(alpha, prices)
    ns = [5_000, 20_000, 80_000, 320_000]
    rms = []
    for n in ns:
        run = C.run_logit(alpha, prices, n, TL.STEPS, seed=11)
        rms.append(float(np.sqrt(np.mean((run.shares - probs) ** 2))))
    theory_rms = np.sqrt(np.mean(probs * (1 - probs)) / np.asarray(ns, float))
    ax = axes[1]
    ax.loglog(ns, rms, "o", label="simulation (RMS over 20 steps, 3 firms)")
    ax.loglog(ns, theory_rms, "-", label="sqrt(mean P(1-P) / N)")
    ax.set_xlabel("customers N")
    ax.set_ylabel("RMS share error")
    ax.set_title("Sampling error shrinks as 1/sqrt(N)")
    ax.legend(fontsize=8)
    save(fig, "logit.png")
    slope = np.polyfit(np.log(ns), np.log(rms), 1)[0]
    v["logit_table"] = table(
        [
            "alpha",
            "prices",
            "N",
            "theory P_j",
            "sim step 1",
            "sigma",
            "max abs z",
            "z limit",
            "chi2 / dof over 20 steps [0.1 % bounds]",
        ],
        rows,
    )
    v["logit_scaling"] = table(
        ["N", "RMS error (sim)", "sqrt(mean P(1-P)/N)", "ratio"],
        [
            [f"{n:,}", f"{r:.5f}", f"{t:.5f}", f"{r / t:.2f}"]
            for n, r, t in zip(ns, rms, theory_rms, strict=True)
        ],
    )
    v["logit_slope"] = f"{slope:.3f}"
    rows = []
    for v0 in (-2.0, -1.0):
        import sim

        alpha, pr, n = 2.0, (0.8, 1.0, 1.3), 100_000
        ds = sim.run(["scenario=validation/logit", f"customers.n={n}", "steps=10", f"market.outside_utility={v0}",
                      "customers.segments.all.adopted_init=0.0",
                      *[f"firms.{f}.price={p}" for f, p in zip("abc", pr, strict=True)]], seed=4)
        firms, outside = T.logit_shares_with_outside(alpha, pr, v0)
        probs = np.append(firms, outside)
        observed = np.column_stack([ds.customers.values / n, ds.unassigned.values / n])
        z = (observed - probs) / T.share_sigma(probs, n)
        rows.append([f"{v0:g}", vec(probs), vec(observed[0]), fmt(np.abs(z).max(), 2), f"{T.z_limit(z.size):.2f}"])
    v["logit_outside_table"] = table(["V0", "theory (a, b, c, outside)", "sim, step 1", "max abs z over 10 steps",
                                      "z limit"], rows)


# ------------------------------------------------------------- 2. price equilibrium
def prices(v: dict) -> None:
    rows, prow = [], []
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    for ax, name in zip(axes.flat, TP.CASES, strict=False):
        run = TP.price_run(name)
        by_profit = T.nash_by_best_responses(run.alpha, run.costs)
        nash = T.nash_by_fixed_point(run.alpha, run.costs)
        path = T.nash_rule_path(run.alpha, run.costs, run.p0, run.lam, run.mu, TP.STEPS)
        tail = run.price[-TP.TAIL :]
        symmetric = f"{T.symmetric_markup(run.alpha, len(run.costs)):.4f}" if np.ptp(run.costs) == 0 else "-"
        rows.append([name, f"{run.alpha:g}", vec(run.costs, 2), f"{run.lam:g}", vec(by_profit), vec(nash), symmetric,
                     vec(tail.mean(axis=0)), f"{np.abs(tail - nash).max():.2e}"])
        prow.append([name, f"{np.abs(run.price - path).max():.2e}"])
        steps = np.arange(1, TP.STEPS + 1)
        for j in range(len(run.costs)):
            ax.plot(steps, run.price[:, j], color=COLORS[j], lw=1.5, label=f"firm {'abcd'[j]}: c = {run.costs[j]:.2f}")
            ax.plot(steps, path[:, j], color=COLORS[j], ls="--", lw=1)
            ax.axhline(nash[j], color=COLORS[j], ls=":", lw=1)
        ax.set_title(f"{name}: alpha {run.alpha:g}, price_adjust {run.lam:g}", fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylabel("price")
        ax.legend(fontsize=7)
    alpha = 2.0
    nash2 = np.full(2, TP.BASE_COST + T.symmetric_markup(alpha, 2))
    stab_rows = []
    for ax, lam in zip(axes.flat[4:], (0.75, 1.0), strict=True):
        run = C.run_prices(alpha, (0.0, 0.0), lam, 20_000, TP.STEPS, 1.0, TP.BASE_COST, seed=5)
        steps = np.arange(1, TP.STEPS + 1)
        for j in range(2):
            ax.plot(steps, run.price[:, j], color=COLORS[j], label=f"firm {'ab'[j]}")
        ax.axhline(nash2[0], color="k", ls=":", lw=1, label="Nash")
        ax.set_title(f"duopoly, price_adjust {lam:g}", fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylabel("price")
        ax.legend(fontsize=7)
    for lam in (0.6, 0.75, 1.0):
        run = C.run_prices(alpha, (0.0, 0.0), lam, 20_000, TP.STEPS, 1.0, TP.BASE_COST, seed=5)
        stab_rows.append([f"{lam:g}", vec(nash2), vec(run.price[-2]), vec(run.price[-1]),
                          f"{np.abs(run.price[-TP.TAIL:] - nash2).max():.2e}"])
    save(fig, "price_equilibrium.png")
    # random coefficients: Gamma-distributed price sensitivity, the equilibrium over a million-customer sample
    rc = TP.RC
    run = C.run_prices(rc["alpha"], rc["extras"], 0.5, TP.N, 80, 1.0, TP.BASE_COST, seed=7, cv=rc["cv"])
    costs = TP.BASE_COST + np.asarray(rc["extras"])
    theory = T.rc_logit_nash(T.gamma_sample(rc["alpha"], rc["cv"], 1_000_000, seed=12), costs)
    homogeneous = T.nash_by_fixed_point(rc["alpha"], costs)
    tail = run.price[-TP.TAIL:]
    try:
        alphas = T.gamma_sample(rc["alpha"], rc["cv"], 20_000, seed=11)
        blp = f"{np.abs(T.rc_logit_nash(alphas, costs) / T.rc_logit_nash_pyblp(alphas, costs) - 1).max():.1e}"
    except ImportError:
        blp = "pyblp not installed"
    v["price_rc_table"] = table(
        ["mean alpha", "cv", "unit costs", "Nash, RC logit (1,000,000-customer sample)",
         "Nash with the mean alpha (homogeneous formula)", "sim, mean of last 10 steps",
         "max relative deviation, last 10", "our solver vs pyblp (relative)"],
        [[f"{rc['alpha']:g}", f"{rc['cv']:g}", vec(costs, 2), vec(theory), vec(homogeneous), vec(tail.mean(axis=0)),
          f"{np.abs(tail / theory - 1).max():.2e}", blp]])
    v["price_table"] = table(["case", "alpha", "unit costs", "price_adjust", "Nash (numerical best responses)",
                              "Nash (fixed point of FOC)", "N / (alpha (N-1))", "sim, mean of last 10 steps",
                              "max abs deviation, last 10"], rows)
    v["price_path_table"] = table(["case", "max abs difference of the simulated path from the theory's"], prow)
    v["price_stability_table"] = table(["price_adjust", "Nash", "sim prices, step 39", "sim prices, step 40",
                                        "max abs deviation, last 10"], stab_rows)


# ---------------------------------------------------------------------------- 3. Bass
def bass(v: dict) -> None:
    rows = []
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    for i, (p, q, steps) in enumerate(TB.CASES):
        for n in (TB.N, 200_000):
            sim = TB.bass_run(p, q, steps, n)
            theory = T.bass_discrete(p, q, steps)[1:]
            sd = np.sqrt(T.bass_discrete_var(p, q, steps, n)[1:])
            z = (sim - theory) / sd
            sim_peak = int(np.argmax(np.diff(np.concatenate([[0.0], sim])))) + 1
            window, theory_peak = TB.peak_window(p, q, steps, n)
            cont = T.bass_continuous(p, q, np.arange(1, steps + 1))
            tc, tc_sd = T.bass_crossing(p, q, steps, n)
            tc_sim = TB.sim_crossing(sim, p, q)
            rows.append(
                [
                    f"{p:g}",
                    f"{q:g}",
                    f"{n:,}",
                    fmt(np.abs(z).max(), 2),
                    f"{T.z_limit(steps):.2f}",
                    fmt(np.max(sd)),
                    fmt(np.max(np.abs(theory - cont)), 3),
                    f"{T.bass_peak_time(p, q):.2f}",
                    f"{tc:.2f}",
                    f"{tc_sim:.2f} +- {tc_sd:.2f}",
                    str(theory_peak),
                    str(sim_peak),
                    f"{window.min()}-{window.max()}",
                ]
            )
            if n != TB.N:
                continue
            t = np.arange(1, steps + 1)
            tt = np.linspace(0, steps, 400)
            axes[0].plot(t, sim, "o", ms=3, color=COLORS[i], label=f"sim p={p:g}, q={q:g}")
            axes[0].plot(np.arange(steps + 1), T.bass_discrete(p, q, steps), "-", color=COLORS[i], lw=1)
            axes[0].plot(tt, T.bass_continuous(p, q, tt), ":", color=COLORS[i], lw=1)
            axes[1].plot(t, np.diff(np.concatenate([[0.0], sim])), "o", ms=3, color=COLORS[i])
            axes[1].plot(t, np.diff(T.bass_discrete(p, q, steps)), "-", color=COLORS[i], lw=1)
            axes[1].axvline(T.bass_peak_time(p, q), color=COLORS[i], ls=":", lw=1)
    axes[0].set_title("Adopted share: sim (dots), discrete Bass (line), continuous (dotted)", fontsize=10)
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("F(t)")
    axes[0].legend(fontsize=8)
    axes[1].set_title("New adoptions per step; dotted: ln(q/p)/(p+q)", fontsize=10)
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("F(t) - F(t-1)")
    # finer steps
    p, q, periods = 0.01, 0.3, 30
    t_cont = T.bass_peak_time(p, q)
    krows, ks, sims, theos, sds = [], (1, 2, 4, 8), [], [], []
    for k in ks:
        steps = k * periods
        sim = TB.bass_run(p / k, q / k, steps) if k <= 4 else C.run_bass(p / k, q / k, TB.N, steps, 7)
        tc, tc_sd = T.bass_crossing(p / k, q / k, steps, TB.N)
        tc_sim = TB.sim_crossing(sim, p / k, q / k)
        sim_peak = int(np.argmax(np.diff(np.concatenate([[0.0], sim])))) + 1
        _, theory_peak = TB.peak_window(p / k, q / k, steps, TB.N)
        sims.append(tc_sim / k)
        theos.append(tc / k)
        sds.append(tc_sd / k)
        krows.append(
            [
                str(k),
                f"{tc / k:.3f}",
                f"{tc_sim / k:.3f} +- {tc_sd / k:.3f}",
                f"{t_cont:.3f}",
                f"{tc / k - t_cont:.3f}",
                f"{theory_peak / k:.3f}",
                f"{sim_peak / k:.3f}",
            ]
        )
    ax = axes[2]
    ax.plot(ks, theos, "s-", label="discrete Bass recurrence")
    ax.errorbar(ks, sims, yerr=2 * np.asarray(sds), fmt="o", capsize=3, label="simulation (bars: 2 sigma)")
    ax.axhline(t_cont, color="k", ls=":", label="ln(q/p)/(p+q)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("steps per period k (rates p/k, q/k)")
    ax.set_ylabel("time F reaches (q-p)/(2q) (periods)")
    ax.set_title(f"Peak time tends to the continuous formula (p={p:g}, q={q:g})", fontsize=10)
    ax.legend(fontsize=8)
    save(fig, "bass.png")
    v["bass_table"] = table(
        [
            "p",
            "q",
            "N",
            "max abs z over steps",
            "z limit",
            "largest sigma",
            "max abs(discrete - continuous)",
            "t* = ln(q/p)/(p+q)",
            "F = (q-p)/2q reached, recurrence",
            "reached, sim +- sigma",
            "peak step, recurrence",
            "peak step, sim",
            "peak steps within sampling error",
        ],
        rows,
    )
    v["bass_steps_table"] = table(
        [
            "k",
            "F* reached, recurrence (periods)",
            "F* reached, sim +- sigma",
            "t*",
            "gap recurrence - t*",
            "peak step / k, recurrence",
            "peak step / k, sim",
        ],
        krows,
    )


# --------------------------------------------------------------------------- 4. trust
def trust(v: dict) -> None:
    rows = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
    for i, case in enumerate(TR.CASES):
        g, a_plus, a_minus, contact, tau0 = case
        mean, final = TR.trust_run(case)
        m1, var = T.trust_moments(*case, TR.STEPS)
        z = (mean - m1[1:]) / np.sqrt(var[1:] / TR.N)
        star = T.trust_steady_state(g, a_plus, a_minus)
        sd = np.sqrt(var[-1] / TR.N)
        rows.append(
            [
                f"{g:g}",
                f"{a_plus:g}",
                f"{a_minus:g}",
                f"{contact:g}",
                f"{tau0:g}",
                fmt(star),
                fmt(mean[-1]),
                fmt(sd, 5),
                fmt((mean[-1] - star) / sd, 2),
                fmt(np.abs(z).max(), 2),
                f"{T.z_limit(TR.STEPS):.2f}",
                fmt(var[-1]),
                fmt(final.var()),
            ]
        )
        t = np.arange(1, TR.STEPS + 1)
        axes[0].plot(
            t,
            mean,
            "o",
            ms=2.5,
            color=COLORS[i],
            label=f"g={g:g}, a+={a_plus:g}, a-={a_minus:g}, c={contact:g}",
        )
        axes[0].plot(np.arange(TR.STEPS + 1), m1, "-", color=COLORS[i], lw=1)
        axes[0].axhline(star, color=COLORS[i], ls=":", lw=1)
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("mean trust")
    axes[0].set_title("Mean trust: sim (dots), exact recurrence (line), steady state (dotted)", fontsize=10)
    axes[0].legend(fontsize=8)
    # steady state against g
    gs = np.round(np.linspace(0.1, 0.9, 9), 2)
    sweep = []
    for a_plus, a_minus in ((0.2, 0.4), (0.3, 0.1)):
        sim = []
        for g in gs:
            mean, _ = C.run_trust(g, a_plus, a_minus, 1.0, 0.5, n=20_000, steps=80, seed=3)
            sim.append(mean[-1])
        grid = np.linspace(0, 1, 200)
        line = axes[1].plot(
            grid,
            [T.trust_steady_state(x, a_plus, a_minus) for x in grid],
            "-",
            label=f"g a+ / (g a+ + (1-g) a-), a+={a_plus:g}, a-={a_minus:g}",
        )
        axes[1].plot(gs, sim, "o", color=line[0].get_color())
        sweep.append(
            max(abs(s - T.trust_steady_state(g, a_plus, a_minus)) for s, g in zip(sim, gs, strict=True))
        )
    axes[1].plot([0, 1], [0, 1], "k:", lw=0.8, label="trust = g (symmetric rates)")
    axes[1].set_xlabel("probability of a positive experience g")
    axes[1].set_ylabel("mean trust after 80 steps")
    axes[1].set_title("Steady state across g (N = 20,000, contact every step)", fontsize=10)
    axes[1].legend(fontsize=8)
    save(fig, "trust.png")
    v["trust_table"] = table(
        [
            "g",
            "a+",
            "a-",
            "contact rate",
            "tau0",
            "steady state",
            "sim, step 120",
            "sigma",
            "z",
            "max abs z over steps",
            "z limit",
            "Var theory",
            "Var sim",
        ],
        rows,
    )
    v["trust_sweep_max"] = f"{max(sweep):.4f}"


# -------------------------------------------------------------------------- 5. tenure
def tenure(v: dict) -> None:
    rows, trows = [], []
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    k = np.arange(TT.STEPS + 1)
    for i, case in enumerate(TT.CONSTANT):
        h, inertia, firms = case
        run = TT.constant_run(case)
        h_eff = TT.effective_hazard(case)
        exposure = run.at_risk.sum()
        est = run.events.sum() / exposure
        sd_h = np.sqrt(h_eff * (1 - h_eff) / exposure)
        km = T.kaplan_meier(run.at_risk, run.events)
        theory = T.geometric_survival(h_eff, k)
        sd = T.greenwood_sigma(theory, np.full(TT.STEPS + 1, h_eff), run.at_risk)
        zkm = np.abs((km[1:] - theory[1:]) / sd[1:]).max()
        mean_t, var_t = T.tenure_moments(h_eff, TT.STEPS)
        rows.append(
            [
                f"{h:g}",
                f"{inertia:g}",
                str(firms),
                fmt(T.switch_probability_on_review(firms, inertia)),
                fmt(h_eff),
                fmt(est),
                fmt(sd_h, 5),
                fmt((est - h_eff) / sd_h, 2),
                f"{1 / h_eff:.2f}",
                f"{1 / est:.2f}",
                fmt(zkm, 2),
                f"{mean_t:.3f}",
                f"{run.tenure[-1]:.3f}",
                fmt(np.sqrt(var_t / TT.N), 3),
            ]
        )
        axes[0].plot(
            k, km, "o", ms=2.5, color=COLORS[i], label=f"KM: h={h:g}, inertia={inertia:g}, {firms} firms"
        )
        axes[0].plot(k, theory, "-", color=COLORS[i], lw=1)
        ts = np.arange(1, TT.STEPS + 1)
        axes[2].plot(ts, run.tenure, "o", ms=2.5, color=COLORS[i])
        axes[2].plot(ts, [T.tenure_moments(h_eff, t)[0] for t in ts], "-", color=COLORS[i], lw=1)
        axes[2].axhline(1 / h_eff, color=COLORS[i], ls=":", lw=1)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("relationship duration k (steps)")
    axes[0].set_ylabel("P(D > k)")
    axes[0].set_title("Constant hazard: Kaplan-Meier vs (1 - h_eff)^k", fontsize=10)
    axes[0].legend(fontsize=7)
    axes[2].set_xlabel("step")
    axes[2].set_ylabel("mean tenure (output)")
    axes[2].set_title("Output tenure vs (1 - (1-h_eff)^t)/h_eff; dotted 1/h_eff", fontsize=10)
    for i, case in enumerate(TT.TRUST):
        h0, kt, tau0, gain, hum_exp, contact = case
        run = TT.trust_run(case)
        surv, haz = TT.survival_theory(case)
        km = T.kaplan_meier(run.at_risk, run.events)
        sd = T.greenwood_sigma(surv, haz, run.at_risk)
        z = np.abs((km[1:] - surv[1:]) / sd[1:]).max()
        flat = T.geometric_survival(haz[1], k)
        trows.append(
            [
                f"{h0:g}",
                f"{kt:g}",
                f"{tau0:g}",
                f"{gain * (1 - hum_exp):g}",
                f"{contact:g}",
                fmt(haz[1]),
                fmt(haz[-1]),
                f"{surv[12]:.4f} / {km[12]:.4f}",
                f"{surv[24]:.4f} / {km[24]:.4f}",
                f"{surv.sum():.2f} / {km.sum():.2f}",
                fmt(z, 2),
                f"{T.z_limit(TT.STEPS):.2f}",
                fmt(np.abs((km[1:] - flat[1:]) / sd[1:]).max(), 0),
            ]
        )
        axes[1].plot(k, km, "o", ms=2.5, color=COLORS[i], label=f"KM: h0={h0:g}, k_tau={kt:g}, c={contact:g}")
        axes[1].plot(k, surv, "-", color=COLORS[i], lw=1)
        axes[1].plot(k, flat, ":", color=COLORS[i], lw=1)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("relationship duration k (steps)")
    axes[1].set_ylabel("P(D > k)")
    axes[1].set_title(
        "Trust-dependent hazard: KM vs prediction (dotted: constant first-step hazard)", fontsize=9
    )
    axes[1].legend(fontsize=7)
    save(fig, "tenure.png")
    v["tenure_table"] = table(
        [
            "h",
            "inertia",
            "firms",
            "P(leave on review)",
            "h_eff",
            "sim events/exposure",
            "sigma",
            "z",
            "1/h_eff",
            "1/sim",
            "KM max abs z",
            "tenure t=60 theory",
            "tenure t=60 sim",
            "sigma",
        ],
        rows,
    )
    v["tenure_trust_table"] = table(
        [
            "h0",
            "k_tau",
            "tau0",
            "gain x surprise",
            "contact rate",
            "hazard at k=1",
            "hazard at k=60",
            "S(12) theory / KM",
            "S(24) theory / KM",
            "mean duration to 60, theory / KM",
            "KM max abs z",
            "z limit",
            "max z vs constant hazard",
        ],
        trows,
    )
    v["tenure_z_limit"] = f"{T.z_limit(TT.STEPS):.2f}"


# ----------------------------------------------------------------------------- 6. NPS
def nps(v: dict) -> None:
    rows = []
    for offset, noise in TN.LEVELS:
        out, customers = C.run_nps(offset, noise, n=TN.N, steps=TN.STEPS, seed=2)
        prom, det = T.nps_probabilities(offset + 0.5, noise)
        expected = 100 * (prom - det)
        sd = np.array([[T.nps_sigma(prom, det, int(c)) for c in row] for row in customers])
        pooled = float((out * customers).sum() / customers.sum())
        zmax = np.abs((out - expected) / np.where(sd > 0, sd, 1)).max()
        rows.append(
            [
                f"{offset:g}",
                f"{noise:g}",
                fmt(prom),
                fmt(det),
                f"{expected:.2f}",
                f"{pooled:.2f}",
                f"{T.nps_sigma(prom, det, int(customers.sum())):.3f}",
                fmt(zmax, 2),
                f"{T.z_limit(out.size):.2f}",
            ]
        )
    ident = []
    for overrides, label in (
        (["scenario=validation/nps", "customers.n=5000"], "validation/nps"),
        (["scenario=baseline", "customers.n=5000", *TN.ALL_MECHANISMS], "baseline, all mechanisms on"),
        (["scenario=disruptor", "customers.n=5000", "firms.disruptor.enter_step=2"], "disruptor entering"),
    ):
        out, rec = C.run_nps_identity(overrides, steps=8)
        ok = ~np.isnan(out)
        ident.append(
            [
                label,
                str(int(ok.sum())),
                f"{np.abs(out[ok] - rec[ok]).max():.1e}",
                f"{out[ok].min():.1f} to {out[ok].max():.1f}",
            ]
        )
    fig, ax = plt.subplots(figsize=(6.5, 4.3))
    levels = np.arange(0.0, 10.51, 0.5)
    grid = np.linspace(0.0, 10.5, 300)
    for i, noise in enumerate((3.5, 1.0)):
        sim = []
        for level in levels:
            out, customers = C.run_nps(level - 0.5, noise, n=10_000, steps=2, seed=4)
            sim.append(float((out * customers).sum() / customers.sum()))
        ax.plot(
            grid,
            [100 * np.subtract(*T.nps_probabilities(x, noise)) for x in grid],
            "-",
            color=COLORS[i],
            label=f"theory, noise {noise:g}",
        )
        ax.plot(levels, sim, "o", ms=4, color=COLORS[i], label=f"sim, noise {noise:g}")
    ax.axhline(100, color="k", lw=0.6)
    ax.axhline(-100, color="k", lw=0.6)
    ax.set_xlabel("score level (rec_offset + 0.5)")
    ax.set_ylabel("NPS")
    ax.set_title("NPS of floor(level + noise x triangular), N = 10,000", fontsize=10)
    ax.legend(fontsize=8)
    save(fig, "nps.png")
    v["nps_table"] = table(
        [
            "rec_offset",
            "rec_noise",
            "P(promoter)",
            "P(detractor)",
            "NPS theory",
            "NPS sim (pooled)",
            "sigma (pooled)",
            "max abs z (per step and firm)",
            "z limit",
        ],
        rows,
    )
    v["nps_identity_table"] = table(
        [
            "run (8 steps, 5,000 customers)",
            "firm-steps compared",
            "max abs(output - recomputed)",
            "range of NPS",
        ],
        ident,
    )


def main() -> None:
    start = time.time()
    v: dict[str, str] = {}
    for part in (logit, prices, bass, trust, tenure, nps):
        t0 = time.time()
        part(v)
        print(f"{part.__name__}: {time.time() - t0:.1f} s", flush=True)
    v["z_limit_1"] = f"{T.z_limit(1):.2f}"
    v["z_limit_60"] = f"{T.z_limit(60):.2f}"
    v["family_alpha"] = f"{100 * T.FAMILY_ALPHA:g} %"
    v["n_tests"] = str(count_tests())
    text = TEMPLATE.read_text()
    missing = sorted(set(re.findall(r"{{(\w+)}}", text)) - set(v))
    if missing:
        raise SystemExit(f"template placeholders without a value: {', '.join(missing)}")
    text = re.sub(r"{{(\w+)}}", lambda m: v[m.group(1)], text)
    text = re.sub(
        r"\A<!--.*?-->\n",
        "<!-- Generated by `make validate` (docs/validation/make_validation.py) from "
        "docs/validation/VALIDATION.template.md: edit the template, not this file. -->\n",
        text,
        flags=re.S,
    )
    OUT.write_text(text)
    print(
        f"wrote {OUT.relative_to(ROOT)} and {len(list(HERE.glob('*.png')))} figures in "
        f"{time.time() - start:.0f} s"
    )


def count_tests() -> int:
    import subprocess

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            str(ROOT / "tests" / "validation"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    found = re.search(r"(\d+) tests? collected", proc.stdout)
    return int(found.group(1)) if found else 0


if __name__ == "__main__":
    main()
