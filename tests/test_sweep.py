"""Hydra multirun sweeps and their collection into one Dataset."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.sweep import load_sweep

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "-m", "scenario=baseline,disruptor", "seed=0,1", "customers.n=1000",
         "steps=40", f"hydra.sweep.dir={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def test_multirun_writes_one_run_per_job(sweep_dir):
    assert sorted(p.name for p in sweep_dir.iterdir() if p.is_dir()) == ["0", "1", "2", "3"]
    assert all((sweep_dir / j / "run.nc").exists() for j in "0123")


def test_load_sweep_has_a_dimension_per_swept_factor(sweep_dir):
    ds = load_sweep(sweep_dir)
    assert ds.attrs["swept"] == "scenario, seed"
    assert dict(ds.sizes)["scenario"] == 2 and dict(ds.sizes)["seed"] == 2
    assert set(ds.firm.values) == {"neither", "digital_only", "human_only", "both", "disruptor"}
    # the disruptor firm exists only in its scenario
    assert bool(ds.share.sel(scenario="baseline", firm="disruptor").isnull().all())
    direct = sim.run(["scenario=disruptor", "customers.n=1000", "steps=40"], seed=1)
    np.testing.assert_array_equal(ds.share.sel(scenario="disruptor", seed=1, firm=direct.firm.values).values,
                                  direct.share.values)


def test_load_sweep_skips_and_lists_unfinished_jobs(sweep_dir, tmp_path):
    copy = tmp_path / "partial"
    shutil.copytree(sweep_dir, copy)
    (copy / "3" / "run.nc").unlink()
    ds = load_sweep(copy)
    assert ds.attrs["missing_jobs"] == "3"
    assert bool(ds.share.sel(scenario="disruptor", seed=1).isnull().all())
