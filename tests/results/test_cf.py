"""The CF checker (cfchecker's ``cfchecks``) on a run file and a sweep file: no errors.

Before: attribute names with hyphens (``version_customer-sim``), a variable-length string
coordinate the checker crashed on, no time axis (``step`` in units of 1), ``cf_role``
without ``featureType``, ``Conventions`` the checker did not know. ``make test``
installs the checker, UDUNITS-2 and the CF tables (see the Makefile's ``$(CF_STAMP)``
and ``tests/cf_tables.py``); without them the checks here are skipped, saying so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sim
from sim.results.merge import collect, open_merged
from sim.results.runfolder import netcdf_engine, publish, write_atomic, write_netcdf_tmp
from tests import cf_tables
from tests.sweep_helpers import fake_sweep


def _cfchecks() -> str:
    exe = Path(sys.executable).with_name("cfchecks")
    if not exe.exists() and shutil.which("cfchecks") is None:
        pytest.skip("cfchecks is not installed: make test installs it (pip install cfchecker)")
    if not cf_tables.present():
        pytest.skip(f"the CF tables are not in {cf_tables.FOLDER}: make test fetches them (python -m tests.cf_tables)")
    try:
        import cfunits  # noqa: F401  (loads the UDUNITS-2 library)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"cfunits cannot load UDUNITS-2 ({exc}): make test installs libudunits2-dev (Debian)")
    return str(exe if exe.exists() else shutil.which("cfchecks"))


def check(path: Path) -> str:
    """cfchecks' report on ``path``, with the local tables (never the network)."""
    args = [_cfchecks()]
    for name, option in cf_tables.TABLES.items():
        args += [option, str(cf_tables.FOLDER / name)]
    proc = subprocess.run([*args, str(path)], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def errors(report: str) -> list[str]:
    """The ERROR lines of a report, each with the variable being checked when it was given."""
    found, where = [], "global"
    for line in report.splitlines():
        if line.startswith("Checking variable: "):
            where = line.removeprefix("Checking variable: ")
        elif line.startswith("ERROR:"):
            found.append(f"{where}: {line}")
    return found


@pytest.fixture(scope="module")
def run():
    return sim.run(["scenario=disruptor", "customers.n=300", "steps=40"])


@pytest.mark.parametrize("classic", [True, False], ids=["netCDF-3", "netCDF-4"])
def test_a_run_file_passes_the_cf_checker(run, tmp_path, classic):
    # a run file is netCDF-3 when it fits (a short run), else netCDF-4 (sim.results.runfolder.classic_fits)
    path = publish(write_netcdf_tmp(run, tmp_path / "run.nc", classic=classic), tmp_path / "run.nc")
    with open(path, "rb") as fh:
        assert (fh.read(3) == b"CDF") == classic
    report = check(path)
    assert errors(report) == [] and re.search(r"^ERRORS detected: 0$", report, re.M), report[-3000:]
    assert "Invalid variable type" not in report


def test_a_sweep_file_with_missing_cells_passes_the_cf_checker(run, tmp_path):
    firms = run.firm.values.tolist()
    jobs = [{"overrides": [f"scenario={sc}", f"seed={s}"], "status": "failed" if (sc, s) == ("b", 1) else "done",
             "firms": firms if sc == "b" else firms[:-1]} for sc in ("a", "b") for s in range(3)]
    root = fake_sweep(tmp_path / "sw", run, jobs)
    collect(root)
    report = check(root / "sweep.nc")
    assert errors(report) == [] and re.search(r"^ERRORS detected: 0$", report, re.M), report[-3000:]


def test_the_files_carry_what_cf_tools_read(run, tmp_path):
    """A time axis cf-xarray finds, valid attribute names, fixed-length strings, featureType, CF-1.8 types;
    read back through this package the Dataset is the one written."""
    pytest.importorskip("cf_xarray")
    path = write_atomic(run, tmp_path / "run.nc")
    with xr.open_dataset(path, engine=netcdf_engine(path)) as raw:
        assert raw.cf.axes["T"] == ["time"] and raw.time.attrs["axis"] == "T"
        assert raw.time.values[0].month == 2 and raw.time.values[11].year == 2  # step 1 ends 1 month in
        assert raw.attrs["featureType"] == "timeSeries" and raw.firm.attrs["cf_role"] == "timeseries_id"
        assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) for name in raw.attrs), list(raw.attrs)
        assert raw.attrs["version_customer_sim"] and raw.attrs["Conventions"] == "CF-1.8"
        assert raw.customers.dtype == np.int32  # CF-1.8 has no 64-bit integers
        assert raw.firm.values.tolist() == firms_of(run)
    import netCDF4

    with netCDF4.Dataset(path) as f:
        assert f.variables["firm"].dtype == np.dtype("S1")  # a character array, not a variable-length string
        assert f.data_model == "NETCDF3_64BIT_OFFSET"  # 40 steps: nothing to compress, no 64-bit integer
    assert sim.load(path).identical(run)
    assert open_merged_like(tmp_path, run)


def firms_of(ds):
    return [str(f) for f in ds.firm.values]


def open_merged_like(tmp_path, run) -> bool:
    """The merged file reads back (through this package) to the merge held in memory."""
    firms = firms_of(run)
    root = fake_sweep(tmp_path / "m", run, [{"overrides": [f"seed={s}"], "status": st, "firms": firms}
                                            for s, st in enumerate(["done", "failed", "done"])])
    merged = collect(root)
    back = open_merged(root)
    # variables and their attributes identical (a one-element attribute array reads back as a number)
    xr.testing.assert_identical(back.drop_vars("time").drop_attrs(deep=False),
                                merged.drop_vars("time").drop_attrs(deep=False))
    return bool((back.time.values == merged.time.values).all())
