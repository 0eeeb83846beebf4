"""Every scenario file composes, validates and runs a few steps; the CLI writes a readable run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.settings.compose import scenario_description, scenario_names

ROOT = Path(__file__).resolve().parents[1]


def test_scenario_library_is_listed():
    names = scenario_names()
    assert {"baseline", "disruptor"} <= set(names)


@pytest.mark.parametrize("name", scenario_names())
def test_scenario_composes_and_runs(name):
    cfg = sim.build([f"scenario={name}"]).cfg  # full size composes and validates
    assert cfg.scenario == name
    assert len(scenario_description(name)) > 80, "each scenario opens with a paragraph for lecturers"
    enter = max(f.enter_step for f in cfg.firms.values())
    steps = min(cfg.steps, enter + 3)
    ds = sim.run([f"scenario={name}", "customers.n=500", f"steps={steps}"], seed=0)
    assert ds.sizes["step"] == steps
    assert ds.attrs["scenario"] == name
    assert int(ds.customers.isel(step=-1).sum() + ds.unassigned.isel(step=-1)) == 500


def test_default_scenario_is_disruptor():
    assert sim.build().cfg.scenario == "disruptor"


def test_cli_writes_readable_run(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "scenario=baseline", "customers.n=2000", "steps=12", "seed=4",
         f"hydra.run.dir={out}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "human_only" in proc.stdout and "share" in proc.stdout
    ds = sim.load(out / "run.nc")
    assert ds.sizes == {"step": 12, "firm": 4, "segment": 3}
    for name in ("customers", "share", "price", "digital", "human", "quadrant", "revenue", "profit", "cash",
                 "alive", "trust", "engagement", "satisfaction", "nps", "churn", "tenure",
                 "digital_expectation", "hhi"):
        assert name in ds and ds[name].attrs["long_name"]
        assert ("units" in ds[name].attrs) != ("flag_values" in ds[name].attrs)  # CF: units or flags
    assert "seed: 4" in ds.attrs["config"]
    again = sim.run(["scenario=baseline", "customers.n=2000", "steps=12"], seed=4)
    np.testing.assert_array_equal(ds.share.values, again.share.values)
    assert (out / "config.yaml").exists() and (out / "summary.txt").exists()
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))
