"""Cluster launchers, run for real on this machine: Ray (a local Ray instance the test starts and
stops) and submitit's local executor (the SLURM launcher's code path without SLURM).

Each sweep is merged and checked against single runs, bit for bit. ``make test`` installs the
``ray`` and ``slurm`` extras, so these run in CI; without them (a plain ``pip install -e .[test]``)
they are skipped, except under CI, where a missing extra fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.results.merge import MERGED_NC
from sim.runner.sweep import run_jobs

JOBS = [[f"scenario={s}", f"seed={k}", "customers.n=400", "steps=38"]
        for s in ("baseline", "disruptor") for k in (0, 1)]


def _need(module: str):
    if os.environ.get("CI"):
        return __import__(module)
    return pytest.importorskip(module)


def check_grid(ds, folder: Path) -> None:
    assert (folder / MERGED_NC).exists()
    assert ds.attrs["design"] == "grid" and ds.attrs["swept"] == "scenario, seed"
    assert ds.scenario.values.tolist() == ["baseline", "disruptor"] and ds.seed.values.tolist() == [0, 1]
    assert int(ds.attrs["jobs_done"]) == 4
    for scenario, seed in (("baseline", 1), ("disruptor", 0)):
        direct = sim.run([f"scenario={scenario}", f"seed={seed}", "customers.n=400", "steps=38"])
        cell = ds.sel(scenario=scenario, seed=seed).sel(firm=direct.firm.values)
        for name in direct.data_vars:
            assert cell[name].dtype == direct[name].dtype
            np.testing.assert_array_equal(cell[name].values, direct[name].values, err_msg=name)


def test_ray_sweep_on_a_local_ray_instance(tmp_path):
    ray = _need("ray")
    _need("hydra_plugins.hydra_ray_launcher")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 2**20, log_to_driver=False,
             configure_logging=False)
    try:
        ds = run_jobs(JOBS, tmp_path / "ray", launcher="ray")
    finally:
        ray.shutdown()
    check_grid(ds, tmp_path / "ray")
    assert not ray.is_initialized()


def test_submitit_local_sweep(tmp_path):
    _need("hydra_plugins.hydra_submitit_launcher")
    ds = run_jobs(JOBS, tmp_path / "submitit", launcher="submitit_local",
                  hydra_overrides=["hydra.launcher.timeout_min=20"])
    check_grid(ds, tmp_path / "submitit")
    assert (tmp_path / "submitit" / ".submitit").is_dir()  # submitit's own logs, beside the job folders
