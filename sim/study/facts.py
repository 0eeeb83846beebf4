"""The stylized facts of the source articles, each measured through customers' choices.

Every fact is a function ``fact(seed, n, extra) -> Outcome``: it runs configurations
that differ in one mechanism (or a market with and without one event) and measures a
consequence that passes through customers' choices (share, churn, tenure, NPS, profit,
survival, leaving the market), never the quantity the mechanism's rule sets. ``extra``
are overrides applied to every run (a point of a robustness sample). The tests
(``tests/test_facts.py``) require every fact at the defaults over several seeds;
``python -m sim.facts`` (``make facts``) measures how often each holds over a
Latin-hypercube sample of the key parameters and firm positions and writes
``docs/FACTS.md`` with a figure.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..engine.layout import Sm, St

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    """Whether a fact held in one run set, and what was measured (name -> value)."""

    holds: bool
    measured: dict[str, float] = field(default_factory=dict)


@functools.cache
def _firms_of(scenario: str) -> frozenset[str]:
    from ..settings.compose import compose_config

    return frozenset(compose_config([f"scenario={scenario}"]).firms)


def _args(scenario: str, n: int, extra: Sequence[str], more: Sequence[str]) -> list[str]:
    """The overrides of one run: a robustness point's firm positions apply where those firms exist."""
    firms = _firms_of(scenario)
    kept = [o for o in extra if not o.startswith("firms.") or o.split(".")[1] in firms]
    return [f"scenario={scenario}", f"customers.n={n}", *kept, *more]


@functools.lru_cache(maxsize=64)
def _run_cached(args: tuple[str, ...], seed: int):
    import sim

    return sim.run(list(args), seed=seed)


def _run(scenario: str, seed: int, n: int, extra: Sequence[str], *more: str):
    """The Dataset of a run (runs shared by several facts are made once)."""
    return _run_cached(tuple(_args(scenario, n, extra, more)), seed)


def _model(scenario: str, seed: int, n: int, extra: Sequence[str], *more: str):
    import sim

    model = sim.build(_args(scenario, n, extra, more), seed=seed)
    model.run()
    return model


def _exit_step(ds, firm: str) -> float:
    alive = ds.alive.sel(firm=firm).values.astype(bool)
    gone = np.flatnonzero(np.maximum.accumulate(alive) & ~alive)
    if gone.size:
        return float(ds.step.values[gone[0]])
    return 0.0 if not alive.any() else math.inf


def _last(ds, var: str, firm: str) -> float:
    return float(ds[var].sel(firm=firm).isel(step=-1))


# ------------------------------------------------------------------------ the facts
def fact1(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """Quadrant 1 firms exit first (in the baseline and the disruptor market)."""
    out, ok = {}, True
    for sc in ("baseline", "disruptor"):
        ds = _run(sc, seed, n, extra)
        first = _exit_step(ds, "neither")
        others = min(_exit_step(ds, f) for f in ds.firm.values if f != "neither")
        out[f"{sc}: neither exits at"] = first
        ok &= math.isfinite(first) and first < others
    return Outcome(ok, out)


def fact2(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """Without a disruptor quadrant 2 keeps most of its share; after one enters it loses it clearly faster."""
    kept = {}
    for sc in ("baseline", "disruptor"):
        ds = _run(sc, seed, n, extra)
        kept[sc] = _last(ds, "share", "human_only") / float(ds.share.sel(firm="human_only", step=35))
    ok = kept["baseline"] > 0.6 and kept["disruptor"] < kept["baseline"] - 0.05
    return Outcome(ok, {"share kept, baseline": kept["baseline"], "share kept, disruptor": kept["disruptor"]})


def fact3(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """Among look-alike digital-only firms price competition erodes margins and profit; a firm that
    stands apart on the human axis escapes the fighter's market."""
    look = _run("commoditisation", seed, n, extra)
    apart = _run("commoditisation", seed, n, extra, "market.alpha_commodity=0")
    escape = _run("commoditisation", seed, n, extra, "firms.epsilon.human=0.8")

    def margin(ds, firms=None):
        """Mean price - unit cost over the firms' alive steps (time and firms)."""
        m = (ds.price - ds.unit_cost).where(ds.alive == 1)
        return float((m if firms is None else m.sel(firm=firms)).mean())

    rivals = ["alpha", "beta", "gamma", "delta"]
    out = {"margin, look-alikes": margin(look), "margin, similarity off": margin(apart),
           "profit, look-alikes": float(look.profit.sum()), "profit, similarity off": float(apart.profit.sum()),
           "margin of the firm apart": margin(escape, ["epsilon"]), "margin of its rivals": margin(escape, rivals)}
    ok = (out["margin, look-alikes"] < 0.85 * out["margin, similarity off"]
          and out["profit, look-alikes"] < out["profit, similarity off"]
          and out["margin of the firm apart"] > 1.2 * out["margin of its rivals"])
    return Outcome(ok, out)


def fact4(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """Quadrant 4 ends with the highest engagement, NPS, relationship duration and profit."""
    ds = _run("baseline", seed, n, extra)
    last = ds.isel(step=-1)
    alive = [f for f in ds.firm.values if bool(last.alive.sel(firm=f)) and f != "both"]
    duration = 1.0 / ds.churn.isel(step=slice(-24, None)).mean("step")
    profit = ds.profit.sum("step")
    ok = True
    out = {}
    for name, v in (("engagement", last.engagement), ("nps", last.nps), ("duration", duration), ("profit", profit)):
        out[f"{name}: both"] = float(v.sel(firm="both"))
        out[f"{name}: best other"] = float(v.sel(firm=alive).max()) if alive else -math.inf
        ok &= out[f"{name}: both"] > out[f"{name}: best other"]
    return Outcome(bool(ok), out)


def fact5(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """Hard steering lowers trust and NPS more than soft, soft more than none, while it lowers service cost."""
    last = _run("steering", seed, n, extra).isel(step=-1)
    firms = ["open", "nudging", "closing"]
    out = {f"{v}: {f}": float(last[v].sel(firm=f)) for v in ("nps", "trust", "unit_cost") for f in firms}
    ok = all(out[f"{v}: open"] > out[f"{v}: nudging"] > out[f"{v}: closing"] for v in ("nps", "trust", "unit_cost"))
    return Outcome(ok, out)


def fact6(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """Non-adopters served by a digital-only firm disengage far more than its adopters and than
    non-adopters served by a digital-and-human firm."""
    model = _model("inclusion", seed, n, extra)
    pop, thr = model.pop, model.cfg.market.disengaged_below
    eng, adopted, provider = pop.state[St.ENGAGEMENT], pop.small[Sm.ADOPTED] == 1, pop.provider
    d_only = provider == model.firm_names.index("digital_only")
    d_human = provider == model.firm_names.index("digital_human")

    def dis(mask):
        return float((eng[mask] < thr).mean()) if mask.any() else math.nan

    out = {"disengaged: non-adopters at digital_only": dis(d_only & ~adopted),
           "disengaged: adopters at digital_only": dis(d_only & adopted),
           "disengaged: non-adopters at digital_human": dis(d_human & ~adopted)}
    v = list(out.values())
    ok = v[0] > 3 * v[1] and v[0] > v[1] + 0.1 and v[0] > v[2] + 0.1
    return Outcome(bool(ok), out)


def fact7(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """Longer tenure goes with higher trust; trust above privacy unlocks data, and through
    personalisation a better experience that customers choose."""
    from scipy.stats import spearmanr

    model = _model("personalisation", seed, n, extra)
    import sim

    on = sim.dataset(model)
    off = _run("personalisation", seed, n, extra, "firms.personalising.personalisation=0")
    pop = model.pop
    out = {"spearman(tenure, trust)": float(spearmanr(pop.tenure, pop.state[St.TRUST]).statistic),
           "data shared at personalising": _last(on, "data_shared", "personalising"),
           "share, personalising": _last(on, "share", "personalising"),
           "share, personalisation off": _last(off, "share", "personalising")}
    ok = (out["spearman(tenure, trust)"] > 0.2 and out["data shared at personalising"] > 0.3
          and out["share, personalising"] > out["share, personalisation off"] + 0.01)
    return Outcome(ok, out)


def fact8(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """An engagement intervention wins and keeps the customers who like that form, not the others."""
    community, webinar = 0, 1
    on = _model("interventions", seed, n, extra)
    off = _model("interventions", seed, n, extra, "firms.community.intervention=[0.0,0.0,0.0]")

    def share(model, form):
        pop = model.pop
        fans = pop.small[Sm.FORM] == form
        return float(np.mean(pop.provider[fans] == model.firm_names.index("community")))

    out = {"community lovers at community, on": share(on, community),
           "community lovers at community, off": share(off, community),
           "webinar lovers at community, on": share(on, webinar),
           "webinar lovers at community, off": share(off, webinar)}
    gain_fans = out["community lovers at community, on"] - out["community lovers at community, off"]
    gain_others = out["webinar lovers at community, on"] - out["webinar lovers at community, off"]
    out["gain among its fans"], out["gain among the others"] = gain_fans, gain_others
    return Outcome(gain_fans > 0.02 and gain_fans > 3 * abs(gain_others), out)


def fact9(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """A shock that cuts human channels moves customers to digital and hurts quadrant 2 most."""
    shock = _run("shock", seed, n, extra)
    calm = _run("shock", seed, n, extra, "market.shock.start=-1", "market.shock.end=-1")
    loss = (shock.share - calm.share).isel(step=-1).drop_sel(firm="neither")
    out = {"adoption gap at step 40": float(shock.adoption_total.sel(step=40) - calm.adoption_total.sel(step=40)),
           "share lost: human_only": float(loss.sel(firm="human_only")),
           "share lost: worst other": float(loss.drop_sel(firm="human_only").min())}
    ok = (out["adoption gap at step 40"] > 0.05 and str(loss.idxmin("firm").values) == "human_only"
          and out["share lost: human_only"] < -0.02)
    return Outcome(ok, out)


def fact10(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """Quadrant 2 keeps a loyal, engaged core (engagement at least half quadrant 4's, few disengaged
    non-adopters, less churn than quadrant 3) while its share erodes as adoption spreads."""
    model = _model("baseline", seed, n, extra)
    import sim

    ds = sim.dataset(model)
    pop, thr = model.pop, model.cfg.market.disengaged_below
    q2 = pop.provider == model.firm_names.index("human_only")
    non = q2 & (pop.small[Sm.ADOPTED] == 0)
    churn = ds.churn.isel(step=slice(-24, None)).mean("step")
    out = {"engagement: human_only / both": _last(ds, "engagement", "human_only") / _last(ds, "engagement", "both"),
           "disengaged non-adopters at human_only": float((pop.state[St.ENGAGEMENT][non] < thr).mean()),
           "churn: human_only": float(churn.sel(firm="human_only")),
           "churn: digital_only": float(churn.sel(firm="digital_only")),
           "share at step 35": float(ds.share.sel(firm="human_only", step=35)),
           "share at the end": _last(ds, "share", "human_only")}
    ok = (out["engagement: human_only / both"] >= 0.5 and out["disengaged non-adopters at human_only"] < 0.5
          and out["churn: human_only"] < out["churn: digital_only"]
          and out["share at the end"] < out["share at step 35"])
    return Outcome(ok, out)


def fact11(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """Quadrant 3 customers are satisfied but cold: satisfaction close to quadrant 4's, engagement
    clearly lower (Booking versus Airbnb)."""
    last = _run("baseline", seed, n, extra).isel(step=-1)
    out = {f"{v}: {f}": float(last[v].sel(firm=f)) for v in ("satisfaction", "engagement")
           for f in ("digital_only", "both")}
    ok = (abs(out["satisfaction: digital_only"] - out["satisfaction: both"]) <= 0.05
          and out["engagement: digital_only"] < 2 / 3 * out["engagement: both"])
    return Outcome(ok, out)


def fact12(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """A monopolist's price stays bounded by what customers will bear, and a price hike feels unfair
    and costs trust and customers even without a rival."""
    import sim

    mono = ["firms.neither.cash=-1", "firms.digital_only.cash=-1", "firms.human_only.cash=-1"]
    ds = _run("baseline", seed, n, extra, *mono, "firms.both.pricing=best_response", "steps=80")
    price = ds.price.sel(firm="both").values
    runs = {}
    for hike in (False, True):
        model = sim.build(_args("baseline", n, extra, [*mono, "steps=60"]), seed=seed)
        for t in range(60):
            if hike and t == 30:
                model.firm_list[3].price *= 1.4
            model.step()
        runs[hike] = sim.dataset(model)
    out = {"monopoly price, end": float(price[-1]), "monopoly price, max": float(np.max(price)),
           "fairness after a hike": _after(runs[True], "fairness"), "fairness without": _after(runs[False], "fairness"),
           "trust after a hike": _after(runs[True], "trust"), "trust without": _after(runs[False], "trust"),
           "outside at the end, hike": float(runs[True].unassigned[-1]),
           "outside at the end, no hike": float(runs[False].unassigned[-1])}
    ok = (np.isfinite(price).all() and out["monopoly price, max"] < 10.0
          and out["trust after a hike"] < out["trust without"] - 0.01
          and out["fairness after a hike"] < out["fairness without"] - 0.1
          and out["outside at the end, hike"] > out["outside at the end, no hike"])
    return Outcome(bool(ok), out)


def _after(ds, var: str) -> float:
    """The monopolist's mean ``var`` over the 15 steps after the hike at step 31."""
    return float(ds[var].sel(firm="both", step=slice(31, 45)).mean())


def fact13(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """Steering saves service cost, but once customers notice it, it loses them."""
    noticed = _run("steering", seed, n, extra)
    unnoticed = _run("steering", seed, n, extra, "market.notice_soft=0")
    out = {"unit cost: nudging / open": _last(noticed, "unit_cost", "nudging") / _last(noticed, "unit_cost", "open"),
           "share: nudging, noticed": _last(noticed, "share", "nudging"),
           "share: nudging, unnoticed": _last(unnoticed, "share", "nudging")}
    ok = out["unit cost: nudging / open"] < 1.0 and out["share: nudging, noticed"] < out["share: nudging, unnoticed"]
    return Outcome(ok, out)


def _survivor_positions(ds) -> list[tuple[float, float]]:
    """(digital, human) of the firms alive at the end of a run."""
    last = ds.isel(step=-1)
    return [(float(last.digital.sel(firm=f)), float(last.human.sel(firm=f)))
            for f in ds.firm.values if bool(last.alive.sel(firm=f))]


def _closest_pair(positions: list[tuple[float, float]]) -> float:
    return min((math.dist(a, b) for i, a in enumerate(positions) for b in positions[i + 1:]), default=math.nan)


def fact14(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """Adaptive firms that foresee price competition among look-alikes stand apart on the map and do
    not all end in the (1, 1) corner; without that competition they crowd into one spot."""
    apart = _survivor_positions(_run("adaptive", seed, n, extra))
    crowd = _survivor_positions(_run("adaptive", seed, n, extra, "market.alpha_commodity=0"))
    out = {"closest survivors, look-alikes compete": _closest_pair(apart),
           "closest survivors, no commoditisation": _closest_pair(crowd),
           "survivors off the corner": float(sum(min(d, h) < 0.95 for d, h in apart)),
           "survivors": float(len(apart))}
    ok = (len(apart) >= 2 and out["closest survivors, look-alikes compete"]
          > out["closest survivors, no commoditisation"] + 0.05 and out["survivors off the corner"] >= 1)
    return Outcome(ok, out)


def fact15(seed: int, n: int, extra: Sequence[str]) -> Outcome:
    """The position that pays depends on the customers: where customers care less for a human,
    adaptive firms end with less human service (human contacts cost more than in proportion to
    their level)."""
    low = ("customers.segments.natives.human_pref=0.1", "customers.segments.late_adopters.human_pref=0.15",
           "customers.segments.excluded.human_pref=0.3")

    def mean_human(ds) -> float:
        pos = _survivor_positions(ds)
        return float(np.mean([h for _, h in pos])) if pos else math.nan

    out = {"survivors' mean human level, default customers": mean_human(_run("adaptive", seed, n, extra)),
           "survivors' mean human level, digital-minded customers": mean_human(_run("adaptive", seed, n, extra,
                                                                                      *low))}
    ok = (out["survivors' mean human level, digital-minded customers"]
          < out["survivors' mean human level, default customers"] - 0.05)
    return Outcome(ok, out)


#: Every fact: number -> (the claim, its measurement).
FACTS: dict[int, tuple[str, Callable[[int, int, Sequence[str]], Outcome]]] = {
    k: (" ".join(line.strip() for line in (f.__doc__ or "").strip().splitlines()), f)
    for k, f in enumerate((fact1, fact2, fact3, fact4, fact5, fact6, fact7, fact8, fact9, fact10, fact11, fact12,
                           fact13, fact14, fact15), start=1)
}


# ------------------------------------------------------------------ robustness (make facts)
#: Market parameters varied by the robustness sample, each within +-25% of its default.
KEY_PARAMETERS = (
    "market.contact_rate", "market.trust_gain", "market.trust_loss", "market.tolerance", "market.confirmation",
    "market.engagement_rate", "market.review_hazard", "market.hazard_trust", "market.hazard_engagement",
    "market.beta_digital", "market.beta_human", "market.beta_emotion", "market.gate_slope",
    "market.expectation_rate", "market.expectation_drift", "market.outside_utility", "market.escalation_floor",
    "market.alpha_commodity", "market.fairness_slope", "market.adoption.expectation_pull",
)
#: Four-quadrant firms' positions: (firm, axis) -> (low, high), inside the firm's quadrant.
POSITIONS = {
    ("neither", "digital"): (0.1, 0.3), ("neither", "human"): (0.1, 0.3),
    ("digital_only", "digital"): (0.8, 1.0), ("digital_only", "human"): (0.1, 0.3),
    ("human_only", "digital"): (0.15, 0.35), ("human_only", "human"): (0.7, 0.9),
    ("both", "digital"): (0.8, 1.0), ("both", "human"): (0.7, 0.9),
}


def sample(draws: int, seed: int = 2026) -> list[dict[str, float]]:
    """A Latin-hypercube sample of the key parameters (+-25%) and the firm positions (in quadrant)."""
    import operator

    from scipy.stats import qmc

    from ..settings.schema import SimConfig

    base = SimConfig()
    dims = len(KEY_PARAMETERS) + len(POSITIONS)
    u = qmc.LatinHypercube(d=dims, seed=seed).random(draws)
    points = []
    for row in u:
        point = {}
        for k, path in enumerate(KEY_PARAMETERS):
            default = operator.attrgetter(path.removeprefix("market."))(base.market)
            point[path] = float(default * (0.75 + 0.5 * row[k]))
        for k, ((firm, axis), (lo, hi)) in enumerate(POSITIONS.items(), start=len(KEY_PARAMETERS)):
            point[f"firms.{firm}.{axis}"] = float(lo + (hi - lo) * row[k])
        points.append(point)
    return points


def overrides(point: dict[str, float]) -> list[str]:
    return [f"{k}={v:.6g}" for k, v in point.items()]


def _measure_point(args) -> list[tuple[int, bool, dict]]:
    i, point, seed, n = args
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    out = []
    for number, (_, measure) in FACTS.items():
        try:
            o = measure(seed, n, overrides(point))
            out.append((number, bool(o.holds), o.measured))
        except Exception as exc:  # a draw the model cannot run counts as a failure, and says why
            out.append((number, False, {"error": f"{type(exc).__name__}: {exc}"[:200]}))
    return out


def _failure_region(results, points, number) -> str:
    """The parameter that best separates the draws where a fact fails from those where it holds."""
    holds = np.array([dict((k, h) for k, h, _ in r)[number] for r in results])
    if holds.all() or not holds.any():
        return "-" if holds.all() else "everywhere sampled"
    best, text = 0.0, "-"
    for key in points[0]:
        x = np.array([p[key] for p in points])
        spread = x.std() or 1.0
        gap = (x[~holds].mean() - x[holds].mean()) / spread
        if abs(gap) > best:
            best = abs(gap)
            side = "high" if gap > 0 else "low"
            lo, hi = np.percentile(x[~holds], [10, 90])
            text = f"`{key}` {side} (failing draws: {lo:.3g} to {hi:.3g}; sampled {x.min():.3g} to {x.max():.3g})"
    return text


def main(argv: list[str] | None = None) -> int:
    """Measure every fact over a Latin-hypercube sample and write docs/FACTS.md and its figure."""
    parser = argparse.ArgumentParser(prog="python -m sim.facts", description=main.__doc__)
    parser.add_argument("--draws", type=int, default=32, help="parameter sets (default 32)")
    parser.add_argument("--customers", type=int, default=4000, help="customers per run (default 4000)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel processes")
    parser.add_argument("--out", default=str(ROOT / "docs" / "FACTS.md"))
    args = parser.parse_args(argv)
    if args.draws < 2 or args.customers < 100:
        parser.error("--draws must be at least 2 and --customers at least 100")
    from joblib import Parallel, delayed

    from .facts import _measure_point  # by its module name, so that worker processes can unpickle it

    points = sample(args.draws)
    # every draw has its own seed: the sample spans seeds as well as parameters
    jobs = [(i, p, 1000 + i, args.customers) for i, p in enumerate(points)]
    results = Parallel(n_jobs=args.jobs, verbose=0)(delayed(_measure_point)(j) for j in jobs)
    write_report(results, points, args, Path(args.out))
    return 0


def write_report(results, points, args, out: Path) -> None:
    import datetime

    from matplotlib.figure import Figure

    rows, shares = [], []
    for number, (claim, _) in FACTS.items():
        holds = np.array([dict((k, h) for k, h, _ in r)[number] for r in results])
        share = float(holds.mean())
        shares.append(share)
        status = "robust" if share >= 0.8 else "conditional"
        rows.append(f"| {number} | {claim} | {share:.0%} | {status} | {_failure_region(results, points, number)} |")
    fig = Figure(figsize=(8, 4.2), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    colors = ["#4c9a2a" if s >= 0.8 else "#d9822b" for s in shares]
    ax.bar([str(k) for k in FACTS], [100 * s for s in shares], color=colors)
    ax.axhline(80, color="0.3", ls="--", lw=1)
    ax.set_xlabel("fact")
    ax.set_ylabel("% of sampled parameter sets where it holds")
    ax.set_ylim(0, 100)
    ax.set_title(f"Stylized facts over {len(points)} Latin-hypercube draws ({args.customers:,} customers)")
    fig_path = out.parent / "facts" / "facts.png"
    fig_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(fig_path)
    errors = sorted({m["error"] for r in results for _, _, m in r if "error" in m})
    text = [
        "# Stylized facts: do they hold, and where do they fail?",
        "",
        "Generated by `make facts` (`python -m sim.facts`); do not edit by hand. Each fact is measured",
        "by `sim/facts.py` through customers' choices (share, churn, tenure, NPS, profit, survival,",
        "leaving the market), comparing configurations that differ in one mechanism.",
        "",
        f"Sample: {len(points)} Latin-hypercube draws of {len(KEY_PARAMETERS)} market parameters, each within",
        "+-25% of its default, and of the four-quadrant firms' positions, each drawn inside its quadrant",
        "(`sim.study.facts.KEY_PARAMETERS`, `sim.study.facts.POSITIONS`); every draw runs with its own seed;",
        f"{args.customers:,} customers per run. A fact holding in fewer than 80% of draws is *conditional*:",
        "the last column names the parameter that best separates the draws where it fails.",
        "",
        "| # | fact | holds in | status | where it fails |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "![share of draws where each fact holds](facts/facts.png)",
        "",
        f"Generated {datetime.date.today().isoformat()}.",
    ]
    if errors:
        text += ["", "Draws that could not run (counted as failures):", "", *[f"- {e}" for e in errors]]
    out.write_text("\n".join(text) + "\n")
    print(f"wrote {out} and {fig_path}")


if __name__ == "__main__":
    sys.exit(main())
