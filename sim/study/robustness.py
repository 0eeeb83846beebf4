"""Where the stylized facts hold: ``make facts`` (``python -m sim.facts``) writes docs/FACTS.md.

For every fact of :mod:`sim.study.facts` it measures

* the fact at the defaults and with its mechanism switched off (the *ablation*: the fact must fail
  or clearly weaken);
* the share of a Latin-hypercube sample of the key market parameters (each within +-25% of its
  default, at least 64 draws, each with its own seed) and of the four-quadrant firms' positions
  (each inside its quadrant) where it holds;
* the fact in each structural variation of the market where it applies
  (:data:`sim.study.facts.VARIATIONS`), and over a smaller +-50% sample;
* for a fact that holds in fewer than 80% of the draws (a *conditional* fact), the box of parameter
  space where it fails, found by PRIM (scenario discovery, the EMA Workbench's implementation), with
  its coverage and density, in words a strategy researcher can use.
"""

from __future__ import annotations

import argparse
import datetime
import math
import operator
import os
import sys
import time
from pathlib import Path

import numpy as np

from .facts import FACTS, VARIATIONS, Outcome, _run_cached

ROOT = Path(__file__).resolve().parents[2]
#: Market parameters varied by the robustness sample, each within +-25% (or +-50%) of its default.
KEY_PARAMETERS = (
    "market.contact_rate",
    "market.trust_gain",
    "market.trust_loss",
    "market.tolerance",
    "market.confirmation",
    "market.engagement_rate",
    "market.review_hazard",
    "market.hazard_trust",
    "market.hazard_engagement",
    "market.beta_digital",
    "market.beta_human",
    "market.beta_emotion",
    "market.gate_slope",
    "market.expectation_rate",
    "market.expectation_drift",
    "market.outside_utility",
    "market.escalation_floor",
    "market.fairness_slope",
    "market.adoption.expectation_pull",
    "market.human_staff_cost",
    "market.human_contact_cost",
    "market.human_scale",
    "market.digital_scale",
    "market.inertia",
)
#: Four-quadrant firms' positions: (firm, axis) -> (low, high), inside the firm's quadrant.
POSITIONS = {
    ("neither", "digital"): (0.1, 0.3),
    ("neither", "human"): (0.1, 0.3),
    ("digital_only", "digital"): (0.8, 1.0),
    ("digital_only", "human"): (0.1, 0.3),
    ("human_only", "digital"): (0.15, 0.35),
    ("human_only", "human"): (0.7, 0.9),
    ("both", "digital"): (0.8, 1.0),
    ("both", "human"): (0.7, 0.9),
}
#: A fact holding in at least this share of the draws is robust; below, conditional (with a PRIM box).
ROBUST = 0.8


def sample(draws: int, seed: int = 2026, spread: float = 0.25) -> list[dict[str, float]]:
    """A Latin-hypercube sample of the key parameters (default +- ``spread``) and the firm positions."""
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
            point[path] = float(default * (1.0 - spread + 2.0 * spread * row[k]))
        for k, ((firm, axis), (lo, hi)) in enumerate(POSITIONS.items(), start=len(KEY_PARAMETERS)):
            point[f"firms.{firm}.{axis}"] = float(lo + (hi - lo) * row[k])
        points.append(point)
    return points


def overrides(point: dict[str, float]) -> list[str]:
    return [f"{k}={v:.6g}" for k, v in point.items()]


def _measure(args) -> list[tuple[int, bool, dict]]:
    """Facts ``numbers`` at one seed with extra overrides (a worker: the facts of one configuration share
    its runs; a failure to run counts as the fact failing, and says why)."""
    numbers, seed, n, extra, ablate = args
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    out = []
    for number in numbers:
        try:
            o = FACTS[number].run(seed, n, extra, ablate=ablate)
            out.append((number, bool(o.holds), o.measured))
        except Exception as exc:
            out.append((number, False, {"error": f"{type(exc).__name__}: {exc}"[:200]}))
    # the next job is another configuration: its runs are not these (and a worker that keeps them grows
    # until loky replaces it, which costs a fresh import and kernel load)
    _run_cached.cache_clear()
    return out


def _parallel(jobs: list[tuple], n_jobs: int) -> list[tuple[int, bool, dict]]:
    """Every job's results, flattened in the jobs' order (one result per fact of each job)."""
    from joblib import Parallel, delayed

    from .robustness import _measure as measure  # by its module name, so that workers can unpickle it

    # the largest jobs first (the 100,000-customer variation), so that no worker is left with it at the end
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][2] * len(jobs[i][0]))
    done = Parallel(n_jobs=n_jobs, verbose=0, batch_size=1)(delayed(measure)(jobs[i]) for i in order)
    by_job = dict(zip(order, done, strict=True))
    return [r for i in range(len(jobs)) for r in by_job[i]]


def _fmt(v) -> str:
    if isinstance(v, float):
        return "inf" if math.isinf(v) else f"{v:.3g}"
    return str(v)


def _measured(m: dict) -> str:
    return "; ".join(f"{k} {_fmt(v)}" for k, v in m.items())


def main(argv: list[str] | None = None) -> int:
    """Measure every fact at the defaults, ablated, over the samples and the structural variations, and
    write docs/FACTS.md with its figures."""
    parser = argparse.ArgumentParser(prog="python -m sim.facts", description=main.__doc__)
    parser.add_argument(
        "--draws", type=int, default=64, help="+-25%% parameter sets (default 64, at least 64 for the report's claims)"
    )
    parser.add_argument("--wide-draws", type=int, default=16, help="+-50%% parameter sets (default 16)")
    parser.add_argument("--customers", type=int, default=5000, help="customers per sampled run (default 5000)")
    parser.add_argument(
        "--structural-customers",
        type=int,
        default=20000,
        help="customers per run at the defaults, ablated and in the variations (default 20000)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel processes")
    parser.add_argument("--out", default=str(ROOT / "docs" / "FACTS.md"))
    args = parser.parse_args(argv)
    if args.draws < 2 or args.wide_draws < 0 or args.customers < 100 or args.structural_customers < 100:
        parser.error(
            "--draws must be at least 2, --wide-draws at least 0, --customers and --structural-customers at least 100"
        )
    started = time.time()
    numbers = sorted(FACTS)
    n0 = args.structural_customers
    all_facts = tuple(numbers)
    base_jobs = [(all_facts, 0, n0, (), False)] + [((k,), 0, n0, (), True) for k in numbers]
    var_jobs = [
        (tuple(k for k in numbers if name in FACTS[k].applies or name in FACTS[k].outside), 0,
         100_000 if name == "100,000 customers" else n0, VARIATIONS[name], False)
        for name in VARIATIONS
    ]
    points = sample(args.draws)
    wide = sample(args.wide_draws, seed=2027, spread=0.5) if args.wide_draws else []
    lhs_jobs = [(all_facts, 1000 + i, args.customers, tuple(overrides(p)), False) for i, p in enumerate(points)]
    wide_jobs = [(all_facts, 3000 + i, args.customers, tuple(overrides(p)), False) for i, p in enumerate(wide)]
    results = _parallel(base_jobs + var_jobs + lhs_jobs + wide_jobs, args.jobs)
    n_var = sum(len(j[0]) for j in var_jobs)
    var_cells = [(k, seed, n, extra, ablate) for ks, seed, n, extra, ablate in var_jobs for k in ks]
    cut = np.cumsum([2 * len(numbers), n_var, len(points) * len(numbers)])
    report = {
        "base": results[: len(numbers)],
        "ablated": results[len(numbers) : cut[0]],
        "variations": list(zip(var_cells, results[cut[0] : cut[1]], strict=True)),
        "lhs": results[cut[1] : cut[2]],
        "wide": results[cut[2] :],
    }
    write_report(report, points, wide, args, Path(args.out), time.time() - started)
    return 0


def _holds_by_fact(results, n_points: int) -> dict[int, np.ndarray]:
    numbers = sorted(FACTS)
    out = {k: np.zeros(n_points, bool) for k in numbers}
    for i in range(n_points):
        for number, holds, _ in results[i * len(numbers) : (i + 1) * len(numbers)]:
            out[number][i] = holds
    return out


def _prim(points, holds: np.ndarray, number: int, fig_dir: Path):
    """The PRIM box of parameter space where a fact fails (EMA Workbench), with its figure."""
    import pandas as pd

    from .discovery import plot_discovery, prim_boxes

    x = pd.DataFrame(points)
    # at most three parameters: a condition a strategy researcher can use, at some cost in density
    result = prim_boxes(x, ~holds, condition=f"fact {number} fails", max_dims=3)
    path = fig_dir / f"prim_fact{number}.png"
    plot_discovery(result, path, title=f"Fact {number}: where it fails (PRIM)")
    return result, path


def write_report(report, points, wide, args, out: Path, seconds: float) -> None:
    from matplotlib.figure import Figure

    numbers = sorted(FACTS)
    lhs = _holds_by_fact(report["lhs"], len(points))
    wide_holds = _holds_by_fact(report["wide"], len(wide)) if wide else {}
    fig_dir = out.parent / "facts"
    fig_dir.mkdir(parents=True, exist_ok=True)
    rows, sections, shares = [], [], []
    for k in numbers:
        fact = FACTS[k]
        base = report["base"][numbers.index(k)]
        abl = report["ablated"][numbers.index(k)]
        share = float(lhs[k].mean())
        shares.append(share)
        var = {job[3]: r for job, r in report["variations"] if job[0] == k}
        var_text = []
        for name, ov in VARIATIONS.items():
            if name not in fact.applies:
                continue
            r = var.get(ov)
            var_text.append(f"{name}: {'holds' if r and r[1] else 'fails'}")
        wide_share = f"{wide_holds[k].mean():.0%}" if wide else "-"
        status = (
            "robust"
            if share >= ROBUST and base[1] and not abl[1] and all("holds" in v for v in var_text)
            else "conditional"
        )
        rows.append(
            f"| {k} | {'holds' if base[1] else '**fails**'} | "
            f"{'fails (needs it)' if not abl[1] else '**still holds**'} | {share:.0%} | {wide_share} | "
            f"{sum('holds' in v for v in var_text)}/{len(var_text)} | {status} |"
        )
        sec = [
            f"### Fact {k}: {fact.claim}",
            "",
            f"*Mechanism*: {fact.mechanism}. *Switched off by*: " + ", ".join(f"`{o}`" for o in fact.ablation) + ".",
            "",
            f"- At the defaults ({args.structural_customers:,} customers, seed 0): "
            f"**{'holds' if base[1] else 'fails'}**: {_measured(base[2])}.",
            f"- Mechanism switched off: **{'still holds' if abl[1] else 'fails'}**: {_measured(abl[2])}.",
            f"- +-25% sample: holds in {share:.0%} of {len(points)} draws"
            + (f"; +-50% sample: {wide_holds[k].mean():.0%} of {len(wide)}." if wide else "."),
        ]
        for name, ov in VARIATIONS.items():
            r = var.get(ov)
            if name in fact.applies:
                sec.append(f"- {name}: **{'holds' if r and r[1] else 'fails'}**: {_measured(r[2]) if r else '-'}.")
            elif name in fact.outside:
                sec.append(f"- {name}: outside the fact's premise ({fact.outside[name]}), not counted: "
                           f"{'holds' if r and r[1] else 'fails'}: {_measured(r[2]) if r else '-'}.")
        if fact.condition is not None:
            inside = np.array([bool(fact.condition.inside(pt)) for pt in points])
            n_in, n_out = int(inside.sum()), int((~inside).sum())
            sec.append(
                f"- Condition (a finding): it holds where {fact.condition.text}: in "
                + (f"{lhs[k][inside].mean():.0%} of the {n_in} draws inside" if n_in else "none of the draws inside")
                + (f", {lhs[k][~inside].mean():.0%} of the {n_out} outside." if n_out else ".")
            )
        if share < ROBUST and (~lhs[k]).any():
            try:
                box, fig = _prim(points, lhs[k], k, fig_dir)
                sec += ["", f"Where it fails (PRIM): {box.text}", "", f"![PRIM box of fact {k}](facts/{fig.name})"]
            except Exception as exc:  # the report is still written; the error is named
                sec += ["", f"Where it fails: PRIM could not run ({type(exc).__name__}: {exc})."]
        sections += [*sec, ""]
    fig = Figure(figsize=(8, 4.2), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    ax.bar(
        [str(k) for k in numbers],
        [100 * s for s in shares],
        color=["#4c9a2a" if s >= ROBUST else "#d9822b" for s in shares],
    )
    ax.axhline(100 * ROBUST, color="0.3", ls="--", lw=1)
    ax.set_xlabel("fact")
    ax.set_ylabel("% of +-25% draws where it holds")
    ax.set_ylim(0, 100)
    ax.set_title(f"Stylized facts over {len(points)} Latin-hypercube draws ({args.customers:,} customers)")
    fig.savefig(fig_dir / "facts.png")
    errors = sorted({m["error"] for rs in (report["lhs"], report["wide"]) for _, _, m in rs if "error" in m})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    text = [
        "# Stylized facts: what produces them, and where they hold",
        "",
        "Generated by `make facts` (`python -m sim.facts`, :mod:`sim.study.robustness`); do not edit by hand.",
        "Each fact (`sim/study/facts.py`) names the mechanism that produces it and the overrides that switch",
        "that mechanism off; it is measured through customers' choices (share, churn, tenure, NPS, profit,",
        "survival, leaving the market), never through the quantity the mechanism writes.",
        "",
        f"Samples: {len(points)} Latin-hypercube draws of {len(KEY_PARAMETERS)} market parameters within +-25%",
        "of their defaults and of the four-quadrant firms' positions inside their quadrants",
        "(`sim.study.robustness.KEY_PARAMETERS`, `POSITIONS`), each draw with its own seed, "
        f"{args.customers:,} customers per run;",
        f"{len(wide)} draws within +-50%. Structural variations (`sim.study.facts.VARIATIONS`) and the ablations run",
        f"with {args.structural_customers:,} customers (the 100,000-customer variation with 100,000). A fact is",
        f"*robust* when it holds at the defaults, fails without its mechanism, holds in at least {ROBUST:.0%} of",
        "the +-25% draws and in every structural variation where it applies; otherwise *conditional*, with",
        "the box of parameter space where it fails (PRIM).",
        "",
        "| # | defaults | mechanism off | +-25% draws | +-50% draws | variations | status |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "![share of draws where each fact holds](facts/facts.png)",
        "",
        "## The facts",
        "",
        *sections,
        f"Generated {datetime.date.today().isoformat()} in {seconds / 60:.1f} minutes with {args.jobs} processes "
        f"(load average {load:.1f} at the end).",
    ]
    if errors:
        text += ["", "Draws that could not run (counted as failures):", "", *[f"- {e}" for e in errors]]
    out.write_text("\n".join(text) + "\n")
    print(f"wrote {out} and {fig_dir}")


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["KEY_PARAMETERS", "POSITIONS", "Outcome", "main", "overrides", "sample"]
