"""Same config and seed, same Dataset: across repeated runs, 1, 2 and 4 Numba threads, a fresh
process (with and without Numba's on-disk cache) and a warm one; and a stored baseline.

The baseline (``tests/data/baseline_summary.json``) holds the final state of the
default scenario at seed 0 with 20,000 customers. When the model changes on
purpose, refresh it with ``make baseline`` (= ``python -m tests.test_reproducibility``)
and commit the new file together with the change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr

import sim

ROOT = Path(__file__).resolve().parents[1]
BASELINE = Path(__file__).parent / "data" / "baseline_summary.json"
#: The baseline run: the default scenario (no scenario override), seed 0, 20,000 customers.
BASELINE_OVERRIDES = ["customers.n=20000"]
BASELINE_SEED = 0
#: A run that exercises every mechanism, an entrant and several chunks of customers.
CASE = ["scenario=disruptor", "customers.n=20000", "steps=30", "firms.disruptor.enter_step=10",
        "firms.neither.steering=soft", "firms.neither.steering_strength=0.7",
        "firms.digital_only.steering=hard", "firms.digital_only.steering_strength=0.8",
        "firms.both.personalisation=0.4", "firms.both.intervention=[0.02,0.01,0.03]",
        "firms.human_only.pricing=best_response", "firms.both.strategy=adaptive",
        "market.adoption.innovation=0.05", "market.adoption.imitation=0.2",
        "market.shock.start=5", "market.shock.end=8"]
SEED = 11
MARKET_SUMMARY = ("digital_expectation", "hhi", "mean_price", "price_sensitivity", "adoption_total",
                  "commoditisation")


def _run_in_subprocess(out: Path, threads: int, cache_dir: Path | None = None) -> subprocess.Popen:
    """Run CASE in a new Python process writing ``out``; it prints its Numba thread count."""
    code = ("import sys, numba, sim\n"
            "ds = sim.run(sys.argv[3:], seed=int(sys.argv[2]))\n"
            "ds.to_netcdf(sys.argv[1], engine='h5netcdf')\n"
            "print(numba.get_num_threads())\n")
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT))
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    return subprocess.Popen([sys.executable, "-c", code, str(out), str(SEED), *CASE], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _roundtrip(ds: xr.Dataset, path: Path) -> xr.Dataset:
    ds.to_netcdf(path, engine="h5netcdf")
    return sim.load(path)


def test_no_attribute_changes_from_run_to_run():
    ds = sim.run(["scenario=baseline", "customers.n=300", "steps=2"], seed=1)
    assert set(ds.attrs) == {"title", "scenario", "seed", "customers_n", "config", "Conventions"} | \
        {k for k in ds.attrs if k.startswith("version_")}, "a new attribute: make sure it is not a timestamp"


def test_repeated_runs_are_identical():
    a = sim.run(CASE, seed=SEED)
    b = sim.run(CASE, seed=SEED)
    assert a.identical(b)
    c = sim.run(CASE, seed=SEED + 1)
    assert not np.array_equal(a.share.values, c.share.values)


def test_identical_across_threads_and_fresh_and_warm_processes(tmp_path):
    warm = _roundtrip(sim.run(CASE, seed=SEED), tmp_path / "warm.nc")  # this process: compiled, warm
    procs = {}
    for threads in (1, 2, 4):
        procs[threads] = _run_in_subprocess(tmp_path / f"t{threads}.nc", threads)
    # a fresh process that also compiles the kernels from scratch (empty Numba cache)
    procs["cold"] = _run_in_subprocess(tmp_path / "cold.nc", 2, cache_dir=tmp_path / "numba_cache")
    for key, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        if key != "cold":
            assert out.split()[-1] == str(key), "NUMBA_NUM_THREADS was not honoured"
    assert list((tmp_path / "numba_cache").rglob("*.nbi")), "the cold run did not compile into its own cache"
    for key in procs:
        other = sim.load(tmp_path / (f"t{key}.nc" if key != "cold" else "cold.nc"))
        assert other.identical(warm), f"{key}: differs from the warm in-process run"


# ------------------------------------------------------------------- baseline
def _floats(values) -> list[float | None]:
    """Floats for JSON; NaN (a mean over no customers) as null."""
    return [None if np.isnan(v) else float(v) for v in np.asarray(values, float)]


def baseline_summary() -> dict:
    """The numbers the baseline pins: final state per firm and of the market, plus run totals."""
    ds = sim.run(BASELINE_OVERRIDES, seed=BASELINE_SEED)
    last = ds.isel(step=-1)
    return {
        "about": "final state of the default scenario; refresh with `make baseline` when the model changes "
                 "on purpose",
        "overrides": BASELINE_OVERRIDES,
        "seed": BASELINE_SEED,
        "scenario": ds.attrs["scenario"],
        "steps": int(ds.sizes["step"]),
        "firms": [str(f) for f in ds.firm.values],
        "customers": [int(v) for v in last.customers.values],
        "alive": [int(v) for v in last.alive.values],
        "share": _floats(last.share.values),
        "nps": _floats(last.nps.values),
        "trust": _floats(last.trust.values),
        "engagement": _floats(last.engagement.values),
        "price": _floats(last.price.values),
        "cash": _floats(last.cash.values),
        "profit_total": _floats(ds.profit.sum("step").values),
        "market": {name: float(last[name]) for name in MARKET_SUMMARY},
        "segment_engagement": _floats(last.segment_engagement.values),
        "versions": {k.removeprefix("version_"): v for k, v in ds.attrs.items() if k.startswith("version_")},
    }


def write_baseline(path: Path = BASELINE) -> Path:
    """Recompute the baseline and store it (``make baseline``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(baseline_summary(), indent=1, allow_nan=False) + "\n")
    return path


def _compare(expected, actual, where: str = "") -> list[str]:
    if isinstance(expected, dict):
        out = []
        for k in expected:
            if k in ("versions", "about"):
                continue
            out += _compare(expected[k], actual.get(k), f"{where}.{k}" if where else k)
        return out
    if isinstance(expected, list) and any(isinstance(v, float) for v in expected):
        if actual is None or len(actual) != len(expected) or \
                [v is None for v in expected] != [v is None for v in actual]:
            return [f"{where}: {actual} != {expected}"]
        e, a = (np.array([np.nan if v is None else v for v in x], float) for x in (expected, actual))
        close = np.isclose(a, e, rtol=1e-9, atol=1e-12, equal_nan=True)
        return [] if close.all() else [f"{where}: {actual} != {expected}"]
    return [] if expected == actual else [f"{where}: {actual!r} != {expected!r}"]


def test_default_scenario_matches_stored_baseline():
    assert BASELINE.exists(), "no stored baseline: run `make baseline`"
    expected = json.loads(BASELINE.read_text())
    diffs = _compare(expected, baseline_summary())
    assert not diffs, ("the default scenario no longer reproduces tests/data/baseline_summary.json. If the "
                       "model changed on purpose, run `make baseline` and commit the file with the change.\n"
                       + "\n".join(diffs))


def test_baseline_comparison_notices_a_change():
    expected = json.loads(BASELINE.read_text())
    changed = json.loads(BASELINE.read_text())
    changed["share"][-1] *= 1 + 1e-6  # a change far below any plot resolution
    assert _compare(expected, changed) and not _compare(expected, expected)


if __name__ == "__main__":
    print(f"wrote {write_baseline()}")
