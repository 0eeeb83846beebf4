"""Regenerate docs/ANALYSIS.md and its figures (``make analysis``).

Runs the three worked examples with the project's own command-line tools, exactly as
an analyst would type them, and fills docs/analysis/ANALYSIS.template.md with their
printed results:

1. a comparison: two Hydra multiruns (baseline and disruptor scenarios, the same
   seeds) compared with ``python -m sim.compare``, and a two-factor grid (soft
   steering or none, over the firm's digital and human levels) for the heatmap;
2. a sensitivity analysis: Morris screening and Sobol indices of the
   digital-and-human firm's profit and NPS (``python -m sim.sensitivity``);
3. a calibration to retail-bank figures (``python -m sim.calibrate``).

Working files go to results/analysis/ (git-ignored); the figures are copied to
docs/analysis/. Sizes (customers, seeds, samples, trials) are chosen for a few
minutes on 2 cores and are stated in the generated document.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FIG = DOCS / "analysis"
sys.path.insert(0, str(ROOT))

from sim.runner.design import run_design  # noqa: E402
from sim.study import analysis as A  # noqa: E402

#: Sizes of the comparison (the sensitivity and calibration sizes are in their YAML files).
COMPARE_N = 20_000
COMPARE_SEEDS = "0,1,2,3,4,5"
GRID_N = 5_000
GRID_SEEDS = [0, 1, 2, 3]


def sh(work: Path, label: str, *args: str) -> str:
    """Run a command from the repository root and return its stdout (kept in ``work/<label>.stdout``).

    When the file is already there (``--reuse``), the command is not run again.
    """
    kept = work / f"{label}.stdout"
    if kept.exists():
        print(f"(reusing {kept.name})", flush=True)
        return kept.read_text()
    print("$", " ".join(args), flush=True)
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(args)}\n{proc.stderr[-3000:]}")
    kept.write_text(proc.stdout)
    return proc.stdout


#: A sweep's progress line while jobs remain ("sweep: 12/448 done, ... about 0:14:07 left"):
#: the document keeps the sweep's first and last lines only.
PROGRESS = re.compile(r"^sweep: \d+/\d+ done, .* left$")


def fence(text: str) -> str:
    """A text block for the document, with the repository's path removed from file names
    and a sweep's intermediate progress lines left out."""
    text = "\n".join(ln for ln in text.replace(f"{ROOT}/", "").splitlines() if not PROGRESS.match(ln))
    return f"```text\n{text.rstrip()}\n```"


#: The worked example of the EMA Workbench adapter (sim.study.ema) and PRIM (sim.study.discovery).
EMA_UNCERTAINTIES = {"market.beta_human": (1.5, 4.5), "market.human_staff_cost": (0.3, 1.2),
                     "market.review_hazard": (0.06, 0.24), "market.expectation_drift": (0.0, 0.01)}
EMA_LEVERS = {"firms.disruptor.price": (0.6, 1.2)}
EMA_SCENARIOS, EMA_POLICIES, EMA_SEEDS, EMA_N = 48, 2, [0, 1], 2_000
EMA_THRESHOLD = 0.20


def ema_example(work: Path) -> dict[str, str]:
    """The model as an EMA Workbench model: where does the disruptor take more than 20% of the market?"""
    from sim.study.discovery import plot_discovery, prim_boxes
    from sim.study.ema import ema_model, parameters_of, run_experiments

    cache = work / "ema.csv"
    if cache.exists():
        table = pd.read_csv(cache)
    else:
        model = ema_model(EMA_UNCERTAINTIES, levers=EMA_LEVERS,
                          outcomes={"entrant_share": {"variable": "share", "firm": "disruptor", "reduce": "last",
                                                      "fill": 0.0},
                                    "q2_share": {"variable": "share", "firm": "human_only", "reduce": "last",
                                                 "fill": 0.0}},
                          base_overrides=["scenario=disruptor"], customers=EMA_N, seeds=EMA_SEEDS)
        experiments, outcomes = run_experiments(model, scenarios=EMA_SCENARIOS, policies=EMA_POLICIES,
                                                processes=2, sample_seed=0)
        table = parameters_of(experiments).assign(**{k: np.asarray(v, float) for k, v in outcomes.items()})
        table.to_csv(cache, index=False)
    x = table[[*EMA_UNCERTAINTIES, *EMA_LEVERS]]
    wins = table["entrant_share"].to_numpy() > EMA_THRESHOLD
    d = prim_boxes(x, wins, condition=f"the disruptor holds more than {EMA_THRESHOLD:.0%} of the market at step 120")
    plot_discovery(d, FIG / "ema_prim.png", title=f"Where the disruptor takes more than {EMA_THRESHOLD:.0%} (PRIM)")
    scores = ", ".join(f"{k} {v:.2f}" for k, v in d.feature_scores.items())
    return {
        "EMA_SIZE": (f"{len(table)} experiments ({EMA_SCENARIOS} Latin-hypercube scenarios of the uncertainties x "
                     f"{EMA_POLICIES} policies of the lever), each run with {len(EMA_SEEDS)} seeds and "
                     f"{EMA_N:,} customers"),
        "EMA_WINS": f"{int(wins.sum())} of {len(table)}",
        "EMA_THRESHOLD": f"{EMA_THRESHOLD:.0%}",
        "EMA_THRESHOLD_RAW": f"{EMA_THRESHOLD:g}",
        "EMA_SENTENCE": d.text,
        "EMA_SCORES": scores,
        "EMA_COVERAGE": f"{d.coverage:.2f}",
        "EMA_DENSITY": f"{d.density:.2f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", help="a working folder of an earlier run: rebuild the document from its "
                                        "results, running only the steps it lacks")
    args = parser.parse_args()
    t_all = time.perf_counter()
    if args.reuse:
        work = Path(args.reuse).resolve()
    else:
        work = ROOT / "results" / "analysis" / datetime.now(UTC).strftime("%Y-%m-%d_%H-%M-%S")
        work.mkdir(parents=True)
    timing_file = work / "timings.json"
    earlier = json.loads(timing_file.read_text()) if timing_file.exists() else {}
    FIG.mkdir(parents=True, exist_ok=True)
    fill: dict[str, str] = {}
    timings: dict[str, float] = {}

    # ------------------------------------------------------------------ 1. comparison
    t0 = time.perf_counter()
    for scen in ("baseline", "disruptor"):
        sh(work, f"sweep_{scen}", "-m", "sim", "-m", f"scenario={scen}", f"seed={COMPARE_SEEDS}",
           f"customers.n={COMPARE_N}", f"hydra.sweep.dir={work / scen}")
    text = sh(work, "compare", "-m", "sim.study.compare", str(work / "disruptor"), str(work / "baseline"),
              "--out", str(work / "compare"), "--steps", "60", "120",
              "--outcomes", "share", "profit", "nps", "churn", "survival", "--var", "share")
    fill["COMPARE_OUTPUT"] = fence(text.split("\nwritten:")[0])
    for name in ("fan_share.png", "difference_share.png"):
        shutil.copy(work / "compare" / name, FIG / f"compare_{name}")
    # lazily opened sweep: the same table as the eager one
    eager = A.outcome_table(A.open_result(work / "baseline"), steps=[60, 120])
    lazy = A.outcome_table(A.open_result(work / "baseline", chunks={"step": 30}), steps=[60, 120]).reindex(eager.index)
    same = np.allclose(eager.to_numpy(float), lazy.to_numpy(float), rtol=1e-12, equal_nan=True)
    fill["LAZY_CHECK"] = "identical (to 1e-12)" if same else "DIFFERENT (a bug: please report)"
    base = A.with_seed_dim(A.open_result(work / "baseline"))
    clv = A.mean_ci(A.lifetime_value(base, window=(61, 120)))
    fill["CLV_TABLE"] = fence(clv.to_dataframe()[["mean", "se", "n", "low", "high"]].to_string(
        float_format="{:.3g}".format))
    # two swept factors: soft steering at 0.6 against none, over the firm's digital and human levels
    grid = [{"firms.both.digital": d, "firms.both.human": h} for d in (0.6, 0.75, 0.9) for h in (0.5, 0.75, 1.0)]
    keep = ["share", "profit", "cash", "nps", "trust", "engagement", "tenure", "churn", "alive", "relationship",
            "quadrant"]
    for name, extra in (("steered", ["firms.both.steering=soft", "firms.both.steering_strength=0.6"]),
                        ("unsteered", [])):
        if (work / f"{name}.nc").exists():
            continue
        ds = run_design(grid, ["scenario=disruptor", f"customers.n={GRID_N}", *extra], GRID_SEEDS, n_jobs=2,
                        variables=keep)
        A.unstack_design(ds).to_netcdf(work / f"{name}.nc", engine="h5netcdf")
    text = sh(work, "compare_grid", "-m", "sim.study.compare", str(work / "steered.nc"), str(work / "unsteered.nc"), "--out",
              str(work / "compare_grid"), "--outcomes", "nps", "--var", "nps")
    shutil.copy(work / "compare_grid" / "heatmap_nps.png", FIG / "compare_heatmap_nps.png")
    lines = text.split("\nwritten:")[0].splitlines()
    both = [ln for ln in lines if " both" in ln]
    fill["GRID_OUTPUT"] = fence("\n".join(lines[:7] + ["..."] + ["(rows of firm 'both' only:)"] + both))
    timings["comparison"] = max(time.perf_counter() - t0, earlier.get("comparison", 0.0)) if args.reuse else \
        time.perf_counter() - t0
    timing_file.write_text(json.dumps({**earlier, **timings}))

    # ------------------------------------------------------------------ 2. sensitivity
    t0 = time.perf_counter()
    text = sh(work, "morris", "-m", "sim.study.sensitivity", "analysis/morris_both.yaml", "--out", str(work / "morris"))
    fill["MORRIS_OUTPUT"] = fence(text.split("\nwritten:")[0])
    shutil.copy(work / "morris" / "sensitivity.png", FIG / "sensitivity_morris.png")
    text = sh(work, "sobol", "-m", "sim.study.sensitivity", "analysis/sensitivity_both.yaml", "--out", str(work / "sobol"))
    fill["SOBOL_OUTPUT"] = fence(text.split("\nwritten:")[0])
    shutil.copy(work / "sobol" / "sensitivity.png", FIG / "sensitivity_sobol.png")
    ind = xr.open_dataset(work / "sobol" / "indices.nc").load()
    ranks = []
    for out in ind.output.values:
        st = ind.ST.sel(output=out).to_series().sort_values(ascending=False)
        conf = ind.ST_conf.sel(output=out)
        ranks.append(f"* **{out}**: " + ", ".join(f"{p} (ST {v:.2f} ± {float(conf.sel(parameter=p)):.2f})"
                                                 for p, v in st.items()))
    fill["SOBOL_RANKING"] = "\n".join(ranks)
    timings["sensitivity"] = max(time.perf_counter() - t0, earlier.get("sensitivity", 0.0)) if args.reuse else \
        time.perf_counter() - t0
    timing_file.write_text(json.dumps({**earlier, **timings}))

    # ------------------------------------------------------------------ 3. calibration
    t0 = time.perf_counter()
    text = sh(work, "calibrate", "-m", "sim.study.calibrate", "analysis/calibrate_retail_bank.yaml",
              "--out", str(work / "calibrate"))
    body = [ln for ln in text.split("\nwritten:")[0].splitlines() if "trials, best loss" not in ln]
    fill["CALIBRATION_OUTPUT"] = fence("\n".join(body))
    shutil.copy(work / "calibrate" / "calibration.png", FIG / "calibration.png")
    fit = pd.read_csv(work / "calibrate" / "fit.csv", index_col=0)
    fitted = [t for t in fit.index if fit.loc[t, "weight"] > 0]
    met = [t for t in fitted if bool(fit.loc[t, "met"])]
    missed = [t for t in fitted if not bool(fit.loc[t, "met"])]
    shown = [f"{t} ({'met' if bool(fit.loc[t, 'met']) else 'not met'})" for t in fit.index if t not in fitted]
    fill["CALIBRATION_VERDICT"] = (f"Fitted targets met: {', '.join(met) or 'none'}; "
                                   f"missed: {', '.join(missed) or 'none'} "
                                   "(see the deviations above, in range widths)"
                                   + (f"; reported, not fitted: {', '.join(shown)}" if shown else "") + ".")
    timings["calibration"] = max(time.perf_counter() - t0, earlier.get("calibration", 0.0)) if args.reuse else \
        time.perf_counter() - t0
    timing_file.write_text(json.dumps({**earlier, **timings}))

    # ------------------------------------------------------------------ 4. EMA Workbench and PRIM
    t0 = time.perf_counter()
    fill.update(ema_example(work))
    timings["scenario discovery"] = max(time.perf_counter() - t0, earlier.get("scenario discovery", 0.0)) \
        if args.reuse else time.perf_counter() - t0
    timing_file.write_text(json.dumps({**earlier, **timings}))

    # sizes as configured (the YAML files are the single source)
    from sim.study.calibrate import load_settings as calibration_settings
    from sim.study.sensitivity import load_settings as sensitivity_settings

    def size(base: list[str], seeds: list[int]) -> str:
        n = next((o.split("=")[1] for o in base if o.startswith("customers.n=")), "the scenario's")
        return f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} per point, {int(n):,} customers"

    m = sensitivity_settings(ROOT / "analysis" / "morris_both.yaml")
    fill["MORRIS_SIZE"] = (f"{m.samples} trajectories, {m.samples * (len(m.parameters) + 1)} design points, "
                           + size(m.base_overrides, m.seeds))
    so = sensitivity_settings(ROOT / "analysis" / "sensitivity_both.yaml")
    fill["SOBOL_SIZE"] = (f"Saltelli sampling, N = {so.samples}, {so.samples * (len(so.parameters) + 2)} design "
                          "points, " + size(so.base_overrides, so.seeds))
    c = calibration_settings(ROOT / "analysis" / "calibrate_retail_bank.yaml")
    fill["CALIBRATION_SIZE"] = (f"Optuna's {c.sampler.upper()} sampler proposes {c.trials} trials in batches of "
                                f"{c.batch}, each run with {size(c.base_overrides, c.seeds)}; then each parameter "
                                f"is profiled over {c.profile_points} values across its bounds with the others "
                                f"at the fit. The set of values whose loss stays within {c.profile_tolerance:g}")

    total = sum(timings.values()) if args.reuse else time.perf_counter() - t_all
    fill["TIMINGS"] = (", ".join(f"{k} {v / 60:.1f} min" for k, v in timings.items())
                       + f"; total {total / 60:.1f} min on {os.cpu_count()} cores "
                       f"(load average {os.getloadavg()[0]:.1f} at the end)")
    fill["GENERATED"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    fill["COMPARE_N"] = f"{COMPARE_N:,}"
    fill["COMPARE_N_RAW"] = str(COMPARE_N)
    fill["COMPARE_SEEDS"] = COMPARE_SEEDS
    fill["GRID_N"] = f"{GRID_N:,}"
    fill["GRID_SEEDS"] = str(len(GRID_SEEDS))
    doc = (FIG / "ANALYSIS.template.md").read_text()
    for key, value in fill.items():
        doc = doc.replace("{{" + key + "}}", value)
    missing = [ln for ln in doc.splitlines() if "{{" in ln]
    if missing:
        sys.exit(f"unfilled placeholders: {missing}")
    (DOCS / "ANALYSIS.md").write_text(doc)
    print(f"wrote {DOCS / 'ANALYSIS.md'} in {total / 60:.1f} min; working files in {work}")


if __name__ == "__main__":
    main()
