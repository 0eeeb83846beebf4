"""Helpers shared by the sweep tests: run the CLI in a subprocess, compare a merged cell with a run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr

import sim

ROOT = Path(__file__).resolve().parents[1]
FAULT = ROOT / "tests" / "fault"
ENV = dict(os.environ, NUMBA_NUM_THREADS="2", PYTHONPATH=str(ROOT))


def run_cli(args: list[str], env: dict | None = None, module: str = "sim", timeout: float = 600
            ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env or ENV, capture_output=True,
                          text=True, timeout=timeout)


def assert_cell_is_run(ds: xr.Dataset, cell: dict, overrides: list[str]) -> None:
    """The merged cell equals a single in-process run with the same overrides, bit for bit."""
    direct = sim.run(overrides)
    got = ds.sel(cell).sel(firm=direct.firm.values, segment=direct.segment.values)
    np.testing.assert_array_equal(got.step.values, direct.step.values)
    for name in direct.data_vars:
        if got[name].dtype != direct[name].dtype:  # an integer variable with absent cells elsewhere: NaN there
            assert direct[name].dtype == np.int64 and str(got[name].encoding.get("dtype")).startswith("int"), name
        np.testing.assert_array_equal(got[name].values, direct[name].values, err_msg=name)
    assert str(got["run_config"].values) == direct.attrs["config"]


def fake_sweep(root: Path, template: xr.Dataset, jobs: list[dict]) -> Path:
    """A sweep folder as the sweep machinery leaves it, without running the model (for the merge and
    the analysis code): ``design.yaml`` and, per job, a folder with ``run.nc`` (status ``done``), a
    failure marker (``failed``) or nothing at all (``absent``: never started).

    ``jobs``: dicts with ``overrides`` (list of ``key=value``), ``status``, and for a finished job
    ``firms`` (the template's firms it has), ``values`` ({variable: array (step, firm)}) and
    ``config`` (a dict of settings, dumped into the ``config`` attribute; ``seed`` and
    ``scenario`` attributes follow the overrides).
    """
    import yaml

    from sim.results.runfolder import claim_folder, mark_incomplete, write_atomic
    from sim.results.sweepfolder import write_design

    write_design(root, [j["overrides"] for j in jobs])
    for k, job in enumerate(jobs):
        folder = root / str(k)
        if job["status"] == "absent":
            continue
        claim_folder(folder, "fake\n")
        if job["status"] == "failed":
            mark_incomplete(folder, "failed with FloatingPointError: injected (fake sweep)")
            continue
        ov = dict(o.split("=", 1) for o in job["overrides"])
        ds = template.sel(firm=job["firms"]).copy(deep=True)
        for name, values in job.get("values", {}).items():
            ds[name] = (ds[name].dims, np.asarray(values, dtype=ds[name].dtype), ds[name].attrs)
        config = dict(job.get("config", {}), seed=int(ov.get("seed", 0)), scenario=ov.get("scenario", ""))
        ds.attrs.update(seed=int(ov.get("seed", 0)), scenario=ov.get("scenario", ""),
                        config=yaml.safe_dump(config, sort_keys=False))
        write_atomic(ds, folder / "run.nc", overwrite=False)
        (folder / "INCOMPLETE").unlink()
    return root
