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
        assert got[name].dtype == direct[name].dtype, name
        np.testing.assert_array_equal(got[name].values, direct[name].values, err_msg=name)
    assert str(got["run_config"].values) == direct.attrs["config"]
