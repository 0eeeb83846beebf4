"""Same config and seed, same Dataset: across repeated runs, 1, 2 and 4 Numba threads, a fresh
process (with and without Numba's on-disk cache) and a warm one; and a stored baseline.

The baseline (``tests/data/baseline_summary.json``) holds the final state of the
default scenario at seed 0 with 20,000 customers. When the model changes on
purpose, refresh it with ``make baseline`` (= ``python -m tests.baseline``)
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
from sim.engine.yardsticks import all_mechanisms

from .baseline import BASELINE, baseline_summary

ROOT = Path(__file__).resolve().parents[1]
#: A run that exercises every mechanism, an entrant and enough chunks of customers for 4 threads
#: (a market of fewer chunks runs on fewer threads: one chunk per thread at most).
CASE_N = 40_000
CASE = ["scenario=disruptor", f"customers.n={CASE_N}", "steps=30", "firms.disruptor.enter_step=10",
        *all_mechanisms(shock_start=5, shock_end=8),
        "firms.human_only.pricing=markup", "firms.both.strategy=adaptive"]
SEED = 11


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
    assert set(ds.attrs) == {"title", "scenario", "seed", "customers_n", "config", "Conventions", "source",
                             "history", "money_unit", "time_step", "featureType"} | \
        {k for k in ds.attrs if k.startswith("version_")}, "a new attribute: make sure it is not a timestamp"


def test_repeated_runs_are_identical():
    a = sim.run(CASE, seed=SEED)
    b = sim.run(CASE, seed=SEED)
    assert a.identical(b)
    c = sim.run(CASE, seed=SEED + 1)
    assert not np.array_equal(a.share.values, c.share.values)


def test_identical_across_threads_and_fresh_and_warm_processes(tmp_path):
    from sim.engine.kernels import chunk_bounds

    assert len(chunk_bounds(CASE_N)) - 1 >= 4, "CASE too small to run on 4 threads"
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
    biggest = max(range(len(changed["share"])), key=lambda k: changed["share"][k])
    changed["share"][biggest] *= 1 + 1e-6  # a change far below any plot resolution
    assert _compare(expected, changed) and not _compare(expected, expected)


