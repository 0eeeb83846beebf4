"""``python -m sim.calibrate TARGETS.yaml``: fit parameters so simulated outcomes match given figures.

Our own driver around Optuna (ask/tell, a current Optuna: the Hydra Optuna sweeper
pins a 2022 version): each batch of trials is run as one design through
:func:`sim.runner.design.run_design` (the same path as the sensitivity analysis: a sweep,
``OUT/sweep/batch_<k>``, then ``OUT/sweep/profiles``, on the launcher of
``--launcher``; ``--resume`` replays the seeded search, reusing every job already
in those folders and running the rest), the outcomes averaged over the seeds, and the loss

    loss = sum_k  w_k * dev_k^2

told back, with ``dev_k`` the distance of outcome ``k`` from its target: for a
``range: [low, high]`` the distance outside the range in units of its width (0
inside), for a ``value`` with a ``tolerance`` the difference in tolerances. A target
with ``weight: 0`` is not fitted, only reported against the fit (e.g. a figure the
model cannot meet together with the others, kept in view).

After the search the fit is reported (each outcome against its target), the fitted
values, and how well each is identified: a **profile** varies one parameter over its
bounds with the others at the fit, and the set of values whose loss stays within
``profile_tolerance`` of the profile's minimum, as a share of the bounds, says how
tightly the targets pin it down (a flat profile = not identified by these targets).
A verdict rests on the trials and profile points behind it, and says so: below
:data:`MIN_TRIALS_PER_PARAMETER` trials per fitted parameter (at least
:data:`MIN_TRIALS`) or :data:`MIN_PROFILE_POINTS` profile points it is marked weak, with
what to rerun (a coarse profile misplaces the ends of the set; a short search may not
have found the best region). Failed trials (a job without a result) are counted and
reported, never averaged.

The config file (see ``analysis/calibrate_retail_bank.yaml``)::

    base_overrides: [scenario=baseline, customers.n=5000]
    seeds: [0, 1]
    n_jobs: 2
    trials: 48                # Optuna trials, run in batches
    batch: 8                  # trials asked at once and run in parallel
    sampler: tpe              # tpe | random | qmc
    sample_seed: 0
    profile_points: 7         # per parameter (0 = no profiles)
    profile_tolerance: 0.1    # loss above the profile minimum still counted as a fit
    parameters:
      review_hazard: {override: market.review_hazard, bounds: [0.01, 0.15], log: true}
    targets:
      churn: {variable: churn, firm: all, reduce: mean, steps: [61, 120],
              range: [0.0064, 0.0099], weight: 1, source: "..."}

Every field is checked before any run (one line naming the field; exit status 2).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..runner.design import run_design
from ..settings.schema import ConfigError
from .analysis import job_counts
from .options import (
    COMMON_FIELDS,
    Output,
    Parameter,
    check_against_model,
    check_keys,
    common_fields,
    field_error,
    launch_options,
    n_jobs_option,
    number,
    output_folder,
    parse_outputs,
    parse_parameters,
    read_settings,
    tool_parser,
    whole,
)
from .sensitivity import outputs_of, variables_needed

SAMPLERS = ("tpe", "random", "qmc")
#: The least an identification verdict should rest on (the documented example, docs/ANALYSIS.md:
#: 64 trials for 3 parameters, 9 profile points): trials with a result per fitted parameter, at
#: least :data:`MIN_TRIALS` in all, and profile points per parameter.
MIN_TRIALS_PER_PARAMETER = 16
MIN_TRIALS = 32
MIN_PROFILE_POINTS = 9


def minimum_trials(n_parameters: int) -> int:
    """Trials with a result an identification verdict should rest on, for ``n_parameters`` parameters."""
    return max(MIN_TRIALS, MIN_TRIALS_PER_PARAMETER * n_parameters)


@dataclass
class Target:
    """A target for one outcome: a range or a value with a tolerance, a weight and its source."""

    output: Output
    low: float | None = None
    high: float | None = None
    value: float | None = None
    tolerance: float | None = None
    weight: float = 1.0
    source: str = ""

    def deviation(self, y: np.ndarray) -> np.ndarray:
        """Distance from the target in its own units (range widths or tolerances); NaN stays NaN."""
        y = np.asarray(y, dtype=float)
        if self.value is not None:
            return (y - self.value) / self.tolerance
        width = self.high - self.low
        return np.where(y < self.low, (self.low - y) / width, np.where(y > self.high, (y - self.high) / width, 0.0))

    def describe(self) -> str:
        if self.value is not None:
            return f"{self.value:g} ± {self.tolerance:g}"
        return f"[{self.low:g}, {self.high:g}]"


@dataclass
class Settings:
    parameters: list[Parameter]
    targets: list[Target]
    base_overrides: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [0])
    n_jobs: int = 1
    level: float = 0.95
    trials: int = 32
    batch: int = 8
    sampler: str = "tpe"
    sample_seed: int = 0
    profile_points: int = 7
    profile_tolerance: float = 0.1
    log: dict[str, bool] = field(default_factory=dict)
    #: where and how the designs run (run_design's launcher, sweep_dir, hydra_overrides, resume)
    launch: dict[str, Any] = field(default_factory=dict)


def load_settings(raw: Mapping | str | Path) -> Settings:
    """Read and check a calibration config (a mapping or a YAML file) before any run."""
    raw = read_settings(raw)
    check_keys(raw, (*COMMON_FIELDS, "source", "trials", "batch", "sampler", "sample_seed", "profile_points",
                     "profile_tolerance", "parameters", "targets"), "", ("parameters", "targets"))
    params = parse_parameters(raw["parameters"])
    log = {}
    for p in params:
        lg = raw["parameters"][p.name].get("log", False)
        if not isinstance(lg, bool):
            raise field_error(f"parameters.{p.name}.log", f"{lg!r} must be true or false")
        if lg and p.bounds[0] <= 0:
            raise field_error(f"parameters.{p.name}.bounds", f"{list(p.bounds)}: a log scale needs low > 0")
        log[p.name] = lg
    targets = []
    for out, extra in parse_outputs(raw["targets"], "targets", ("range", "value", "tolerance", "weight", "source")):
        w = f"targets.{out.name}"
        if ("range" in extra) == ("value" in extra):
            raise field_error(w, "give exactly one of range: [low, high] or value: x (with tolerance: s)")
        t = Target(out, source=str(extra.get("source", "")))
        if "range" in extra:
            r = extra["range"]
            if not isinstance(r, (list, tuple)) or len(r) != 2:
                raise field_error(f"{w}.range", f"{r!r} must be [low, high]")
            t.low, t.high = number(r[0], f"{w}.range"), number(r[1], f"{w}.range")
            if not t.low < t.high:
                raise field_error(f"{w}.range", f"[{t.low:g}, {t.high:g}]: low must be below high")
            if "tolerance" in extra:
                raise field_error(f"{w}.tolerance", "only with value: (a range is its own tolerance)")
        else:
            t.value = number(extra["value"], f"{w}.value")
            if "tolerance" not in extra:
                raise field_error(f"{w}.tolerance", "missing: a value target needs a tolerance > 0 (same units)")
            t.tolerance = number(extra["tolerance"], f"{w}.tolerance")
            if t.tolerance <= 0:
                raise field_error(f"{w}.tolerance", f"{t.tolerance:g} must be > 0")
        t.weight = number(extra.get("weight", 1.0), f"{w}.weight")
        if t.weight < 0:
            raise field_error(f"{w}.weight", f"{t.weight:g} must be >= 0 (0: reported against the fit, not fitted)")
        targets.append(t)
    common = common_fields(raw)
    sampler = raw.get("sampler", "tpe")
    if sampler not in SAMPLERS:
        raise field_error("sampler", f"{sampler!r}; allowed: {', '.join(SAMPLERS)}")
    tol = number(raw.get("profile_tolerance", 0.1), "profile_tolerance")
    if tol <= 0:
        raise field_error("profile_tolerance", f"{tol:g} must be > 0")
    s = Settings(params, targets, trials=whole(raw.get("trials", 32), "trials", 1, 100_000),
                 batch=whole(raw.get("batch", 8), "batch", 1, 10_000), sampler=sampler,
                 sample_seed=whole(raw.get("sample_seed", 0), "sample_seed", 0),
                 profile_points=whole(raw.get("profile_points", 7), "profile_points", 0, 1000),
                 profile_tolerance=tol, log=log, **common)
    if s.profile_points == 1:
        raise field_error("profile_points", "1: use 0 (no profiles) or at least 2")
    check_against_model(s.base_overrides, [t.output for t in targets], "targets")
    return s


# ---------------------------------------------------------------------------- fitting
def _evaluate(settings: Settings, points: pd.DataFrame, label: str = "") -> tuple[pd.DataFrame, np.ndarray]:
    """Run ``points`` (one design, in the sweep folder ``<sweep_dir>/<label>``) and return the outcomes
    per point (mean over seeds) and the losses; a failed job's point has a NaN loss."""
    outputs = [t.output for t in settings.targets]
    launch = dict(settings.launch)
    root = launch.pop("sweep_dir", None)
    resume = bool(launch.pop("resume", False))

    def run(folder: Path | None, again: bool):
        where = {} if folder is None else {"sweep_dir": folder, "resume": again}
        return run_design(points, settings.base_overrides, settings.seeds, settings.n_jobs,
                          templates={p.name: p.as_template() for p in settings.parameters},
                          variables=variables_needed(outputs), allow_failures=folder is not None, **where, **launch)

    if root is None:
        ds = run(None, False)
    else:
        folder = Path(root) / label
        k = 1
        while True:
            try:
                ds = run(folder, resume and (folder / "design.yaml").exists())
                break
            except ConfigError as exc:  # a replayed search left the earlier run's path: a new folder
                if not (resume and str(exc).startswith("resume: the jobs differ")):
                    raise
                k += 1
                folder = Path(root) / f"{label}.{k}"
    y = outputs_of(ds, outputs).mean("seed").transpose("run", "output")
    frame = pd.DataFrame(y.values, columns=[str(o) for o in y.output.values])
    losses = loss(settings.targets, frame)
    failed = [int(i) for i in str(ds.attrs.get("failed_points", "")).split(", ") if i]
    losses[failed] = np.nan  # a point with a failed job has no outcome (told to Optuna as a failed trial)
    frame.attrs["job_counts"] = job_counts(ds)
    return frame, losses


def _add_counts(total: dict | None, more: dict | None) -> dict | None:
    if more is None:
        return total
    if total is None:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in more.items()}
    return {k: total[k] + more[k] for k in total}


def loss(targets: Sequence[Target], outcomes: pd.DataFrame) -> np.ndarray:
    """``sum_k w_k dev_k^2`` per row of ``outcomes`` (a column per target; NaN if any outcome is undefined)."""
    total = np.zeros(len(outcomes))
    for t in targets:
        if t.weight > 0:  # weight 0: a check reported with the fit, not part of the loss
            total += t.weight * t.deviation(outcomes[t.output.name].to_numpy()) ** 2
    return total


def _sampler(settings: Settings):
    import optuna

    if settings.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=settings.sample_seed, multivariate=True,
                                          n_startup_trials=min(settings.trials, max(settings.batch, 8)))
    if settings.sampler == "random":
        return optuna.samplers.RandomSampler(seed=settings.sample_seed)
    return optuna.samplers.QMCSampler(seed=settings.sample_seed, scramble=True)


def fit(settings: Settings, verbose: bool = False) -> tuple[pd.Series, pd.DataFrame]:
    """Search the parameters with Optuna (ask/tell in batches run by :func:`run_design`).

    Returns the best parameters and the trials table (parameters, outcomes, loss).
    """
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=_sampler(settings))
    dists = {p.name: FloatDistribution(p.bounds[0], p.bounds[1], log=settings.log.get(p.name, False))
             for p in settings.parameters}
    rows = []
    done = 0
    counts = None
    while done < settings.trials:
        trials = [study.ask(dists) for _ in range(min(settings.batch, settings.trials - done))]
        points = pd.DataFrame([t.params for t in trials])[[p.name for p in settings.parameters]]
        outcomes, losses = _evaluate(settings, points, f"batch_{done // settings.batch:03d}")
        counts = _add_counts(counts, outcomes.attrs.get("job_counts"))
        for t, value in zip(trials, losses, strict=True):
            if np.isfinite(value):
                study.tell(t, float(value))
            else:
                study.tell(t, state=TrialState.FAIL)
        rows.append(pd.concat([points, outcomes, pd.Series(losses, name="loss")], axis=1))
        done += len(trials)
        if verbose:
            print(f"  {done}/{settings.trials} trials, best loss {study.best_value:.4g}", flush=True)
    table = pd.concat(rows, ignore_index=True)
    table.index.name = "trial"
    table.attrs["job_counts"] = counts
    if not np.isfinite(table["loss"]).any():
        raise ConfigError("every trial gave an undefined outcome (NaN): check the targets' firms and steps")
    return pd.Series(study.best_params)[[p.name for p in settings.parameters]], table


def profiles(settings: Settings, best: pd.Series) -> pd.DataFrame:
    """Loss along each parameter's bounds with the others at ``best`` (one design for all profiles).

    Returns rows (parameter, value) with the outcomes and the loss.
    """
    k = settings.profile_points
    rows, labels = [], []
    for p in settings.parameters:
        lo, hi = p.bounds
        grid = np.geomspace(lo, hi, k) if settings.log.get(p.name) else np.linspace(lo, hi, k)
        grid = np.unique(np.append(grid, best[p.name]))
        for v in grid:
            rows.append({**best.to_dict(), p.name: float(v)})
            labels.append((p.name, float(v)))
    points = pd.DataFrame(rows)[[p.name for p in settings.parameters]]
    outcomes, losses = _evaluate(settings, points, "profiles")
    out = outcomes.assign(loss=losses)
    out.index = pd.MultiIndex.from_tuples(labels, names=["parameter", "value"])
    out.attrs["job_counts"] = outcomes.attrs.get("job_counts")
    return out


def _within(x: np.ndarray, loss: np.ndarray, threshold: float) -> tuple[float, float]:
    """The interval around the profile minimum where the loss stays below ``threshold``.

    Walks out from the minimum to the first grid points above the threshold and
    places each end by linear interpolation between the last point below and the
    first above (at the bound if the loss never rises above the threshold there).
    """
    ok = np.isfinite(loss) & (loss <= threshold)
    i = int(np.nanargmin(loss))
    a = i
    while a > 0 and ok[a - 1]:
        a -= 1
    b = i
    while b < len(x) - 1 and ok[b + 1]:
        b += 1

    def cross(j_in: int, j_out: int) -> float:
        if not np.isfinite(loss[j_out]):
            return float(x[j_in])
        f = (threshold - loss[j_in]) / (loss[j_out] - loss[j_in])
        return float(x[j_in] + f * (x[j_out] - x[j_in]))

    low = float(x[0]) if a == 0 else cross(a, a - 1)
    high = float(x[-1]) if b == len(x) - 1 else cross(b, b + 1)
    return low, high


def identification(settings: Settings, best: pd.Series, prof: pd.DataFrame | None,
                   trials: pd.DataFrame) -> pd.DataFrame:
    """How well each fitted value is pinned down by the targets.

    Columns: ``fitted``; ``low``/``high`` of the profile set (values whose profile
    loss is within ``profile_tolerance`` of the profile minimum, its ends interpolated
    between the profile's grid points; on a log scale for log parameters); ``width`` of that
    set as a share of the bounds; ``top_spread``, the spread (max - min) of the
    parameter over the best 10% of trials as a share of the bounds; and a verdict:
    identified (width <= 0.25), partly (<= 0.6) or not identified, flagged "at a
    bound" when the fit lies within 2% of a bound (the best value may lie beyond
    it). A profile holds
    the other parameters at the fit, so two parameters that trade off against each
    other (a ridge) can each look identified there; a large ``top_spread`` among the
    best trials is the sign of such a ridge.

    The verdict rests on ``trials`` (trials with a result) and ``profile_points`` (profile
    points with a result, the fit included), both columns; below :func:`minimum_trials`
    or :data:`MIN_PROFILE_POINTS` it is marked "weak" with what to rerun.
    """
    finished = trials[np.isfinite(trials["loss"])]
    top = finished.nsmallest(max(2, len(trials) // 10), "loss")
    need_trials = minimum_trials(len(settings.parameters))
    rows = []
    for p in settings.parameters:
        lo, hi = p.bounds
        span = (math.log(hi) - math.log(lo)) if settings.log.get(p.name) else hi - lo
        tr = (lambda x: np.log(x)) if settings.log.get(p.name) else (lambda x: x)
        row = {"parameter": p.name, "fitted": best[p.name], "bounds": f"[{lo:g}, {hi:g}]",
               "top_spread": float((tr(top[p.name].max()) - tr(top[p.name].min())) / span)}
        if prof is not None:
            pr = prof.loc[p.name]["loss"].sort_index()
            lo_v, hi_v = _within(tr(pr.index.to_numpy(float)), pr.to_numpy(float),
                                 float(pr.min()) + settings.profile_tolerance)
            back = (lambda x: float(np.exp(x))) if settings.log.get(p.name) else float
            row.update(low=back(lo_v), high=back(hi_v), width=float((hi_v - lo_v) / span))
            w = row["width"]
            row["verdict"] = "identified" if w <= 0.25 else "partly" if w <= 0.6 else "not identified"
            row["profile_points"] = int(np.isfinite(pr.to_numpy(float)).sum())
        row["trials"] = len(finished)
        if min(abs(tr(best[p.name]) - tr(lo)), abs(tr(hi) - tr(best[p.name]))) <= 0.02 * span:
            row["verdict"] = row.get("verdict", "") + " (at a bound: widen it)"
        weak = []
        if len(finished) < need_trials:
            weak.append(f"{len(finished)} trials < {need_trials}")
        if prof is not None and row["profile_points"] < MIN_PROFILE_POINTS:
            weak.append(f"{row['profile_points']} profile points < {MIN_PROFILE_POINTS}")
        if "verdict" in row and weak:
            row["verdict"] += f" (weak: {', '.join(weak)})"
        rows.append(row)
    return pd.DataFrame(rows).set_index("parameter")


def weak_evidence(settings: Settings, result: dict[str, Any]) -> str:
    """A warning when the verdicts rest on fewer trials or profile points than the documented
    minimum, saying what to rerun ("" otherwise)."""
    trials = int(np.isfinite(result["trials"]["loss"]).sum())
    need = minimum_trials(len(settings.parameters))
    short = []
    if trials < need:
        short.append(f"{trials} trials with a result (trials: {need} or more for {len(settings.parameters)} "
                     f"parameters)")
    if result["profiles"] is not None:
        points = result["identification"]["profile_points"]
        if (points < MIN_PROFILE_POINTS).any():
            short.append(f"{int(points.min())} profile points (profile_points: {MIN_PROFILE_POINTS} or more)")
    if not short:
        return ""
    return ("the identification verdicts rest on " + " and ".join(short) + ", below the documented minimum: "
            "a coarse profile misplaces the ends of the set and a short search may miss the best region; "
            "treat them as provisional and rerun with more")


def fit_report(settings: Settings, best_outcomes: pd.Series) -> pd.DataFrame:
    """Each target against the simulated outcome at the fit."""
    rows = []
    for t in settings.targets:
        y = float(best_outcomes[t.output.name])
        dev = float(t.deviation(np.array([y]))[0])
        rows.append({"target": t.output.name, "simulated": y, "wanted": t.describe(), "deviation": dev,
                     "met": abs(dev) <= (1.0 if t.value is not None else 0.0), "weight": t.weight,
                     "source": t.source})
    return pd.DataFrame(rows).set_index("target")


def calibrate(settings: Settings, verbose: bool = False) -> dict[str, Any]:
    """Fit, profile and report. Returns a dict of labelled pandas objects:
    ``best`` (Series), ``fit`` (targets vs outcomes), ``identification``, ``trials``, ``profiles``;
    ``job_counts`` (the jobs of every design run: total, done, failed, absent) and ``warning``
    (:func:`weak_evidence`, "" if the verdicts rest on enough)."""
    best, trials = fit(settings, verbose)
    prof = profiles(settings, best) if settings.profile_points else None
    best_row = trials.loc[trials["loss"].idxmin()]
    report = fit_report(settings, best_row)
    ident = identification(settings, best, prof, trials)
    counts = _add_counts(trials.attrs.get("job_counts"), None if prof is None else prof.attrs.get("job_counts"))
    result = {"best": best, "loss": float(best_row["loss"]), "fit": report, "identification": ident,
              "trials": trials, "profiles": prof, "job_counts": counts}
    result["warning"] = weak_evidence(settings, result)
    return result


def plot_profiles(settings: Settings, result: dict[str, Any]):
    """The loss profile of each parameter (others at the fit) and the loss of every trial."""
    import matplotlib.pyplot as plt

    params = settings.parameters
    fig, axes = plt.subplots(1, len(params) + 1, figsize=(3.4 * (len(params) + 1), 3.2), squeeze=False,
                             layout="constrained")
    trials = result["trials"]
    for ax, p in zip(axes[0], params, strict=False):
        ax.scatter(trials[p.name], trials["loss"], s=8, color="0.6", label="trials")
        if result["profiles"] is not None:
            pr = result["profiles"].loc[p.name]
            ax.plot(pr.index, pr["loss"], "o-", color="C0", label="profile")
            ident = result["identification"].loc[p.name]
            ax.axvspan(ident["low"], ident["high"], color="C2", alpha=0.2, label="within tolerance")
        ax.axvline(result["best"][p.name], color="C3", lw=1, label="fit")
        if settings.log.get(p.name):
            ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_ylim(bottom=0)
        ax.set_xlabel(p.name)
    axes[0][0].set_ylabel("loss")
    axes[0][0].legend(fontsize=7)
    ax = axes[0][-1]
    ax.plot(np.arange(len(trials)), trials["loss"], ".", color="0.6")
    ax.plot(np.arange(len(trials)), np.fmin.accumulate(trials["loss"].fillna(np.inf)), color="C3")
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("trial")
    ax.set_title("search")
    fig.suptitle("calibration: loss profiles (others at the fit) and search history", fontsize=10)
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    parser = tool_parser("python -m sim.calibrate", __doc__.split("\n\n")[0],
                         "calibration config YAML (see analysis/calibrate_retail_bank.yaml)", trials=True)
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
        settings.n_jobs = n_jobs_option(args, settings.n_jobs)
        if args.trials is not None:
            settings.trials = whole(args.trials, "--trials", 1, 100_000)
        out = output_folder(args, "calibrate")
        settings.launch = launch_options(args, out, "report.txt")
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = time.perf_counter()
    try:
        result = calibrate(settings, verbose=True)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    result["trials"].to_csv(out / "trials.csv")
    result["fit"].to_csv(out / "fit.csv")
    result["identification"].to_csv(out / "identification.csv")
    if result["profiles"] is not None:
        result["profiles"].to_csv(out / "profiles.csv")
    fig = plot_profiles(settings, result)
    fig.savefig(out / "calibration.png", dpi=110)
    plt.close(fig)
    text = report_text(result, settings, time.perf_counter() - t0)
    (out / "report.txt").write_text(text + "\n")
    print(text + f"\nwritten: {out}")
    return 0


def report_text(result: dict[str, Any], settings: Settings, seconds: float | None = None) -> str:
    """The fit, the fitted values and their identification as text: what the verdicts rest on
    (trials and profile points with a result, failed jobs) and a warning when it is too little."""
    trials = result["trials"]
    failed = int((~np.isfinite(trials["loss"])).sum())
    prof = result["profiles"]
    c = result.get("job_counts")
    jobs = (f"; jobs: {c['done']} of {c['total']} finished, {c['failed']} failed, {c['absent']} absent"
            if c else "")
    with pd.option_context("display.width", 200, "display.max_colwidth", 70, "display.float_format", "{:.4g}".format):
        runs = (len(trials) + (0 if prof is None else len(prof)))
        head = (f"{len(trials)} trials ({settings.sampler}, {len(trials) - failed} with a result, {failed} failed) + "
                f"profiles: {runs} points x {len(settings.seeds)} seeds{jobs}"
                + (f" in {seconds:.0f} s" if seconds is not None else ""))
        text = (f"{head}\nbest loss {result['loss']:.4g}\n\n== fit\n{result['fit'].to_string()}\n\n"
                f"== fitted values and identification\n{result['identification'].to_string()}")
    if result.get("warning"):
        text += f"\n\nwarning: {result['warning']}"
    return text


if __name__ == "__main__":
    raise SystemExit(main())
