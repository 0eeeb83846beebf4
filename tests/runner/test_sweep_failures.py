"""Sweeps that go wrong: a job failing at run time, a driver killed part-way, then resumed.

A job is made to fail at run time with the fault injection in
``tests/fault/sitecustomize.py`` (``SIM_TEST_FAIL_SEED``), which every worker
process picks up from ``PYTHONPATH``. Also: the merge as Zarr, the collect command's refusals.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from sim.results.merge import FAILURES, MERGED_NC, open_merged
from sim.results.sweepfolder import job_states
from tests.sweep_helpers import ENV, FAULT, ROOT, assert_cell_is_run, run_cli

_sim = run_cli


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    out = tmp_path_factory.mktemp("failing") / "sw"
    env = dict(ENV, PYTHONPATH=f"{FAULT}{os.pathsep}{ROOT}", SIM_TEST_FAIL_SEED="1")
    proc = _sim(["-m", "scenario=baseline", "seed=0,1,2", "customers.n=300", "steps=5",
                 f"hydra.sweep.dir={out}"], env=env)
    return out, proc


def test_a_failing_job_is_recorded_and_the_others_merge(failing):
    out, proc = failing
    assert proc.returncode == 1
    assert (out / "0" / "run.nc").exists() and (out / "2" / "run.nc").exists()
    assert not (out / "1" / "run.nc").exists()
    err = proc.stderr.splitlines()
    assert err[0].startswith("error: job 1 (scenario=baseline seed=1 customers.n=300 steps=5): failed with "
                             "FloatingPointError: injected failure in step 3 (seed 1) after 2 of 5 steps")
    assert err[0].endswith(f"(see {out}/1/INCOMPLETE)")
    assert "injected failure in step 3" in err[0]
    assert err[-1] == f"error: 1 of 3 jobs did not finish; rerun them with: python -m sim.collect --resume {out}"
    assert "3/3 done" not in proc.stdout and "sweep: 2/3 done, 1 failed" in proc.stdout
    ds = open_merged(out)
    assert ds.seed.values.tolist() == [0, 1, 2]
    assert bool(ds.share.sel(seed=1).isnull().all()) and bool(ds.customers.sel(seed=1).isnull().all())
    assert list(np.atleast_1d(ds.attrs["failed_jobs"])) == [1] and int(ds.attrs["jobs_failed"]) == 1
    (record,) = yaml.safe_load(ds.attrs["failures"])
    assert record["job"] == 1 and record["overrides"] == "scenario=baseline seed=1 customers.n=300 steps=5"
    assert record["exit_status"] == 1 and record["status"] == "failed"
    assert record["error"].startswith("failed with FloatingPointError: injected failure in step 3 (seed 1)")
    assert record["log"].endswith("INCOMPLETE") and "Traceback" in Path(record["log"]).read_text()
    assert yaml.safe_load((out / FAILURES).read_text()) == [record]
    assert ds.job_status.values.tolist() == ["done", "failed", "done"]
    assert_cell_is_run(ds, {"seed": 2}, ["scenario=baseline", "seed=2", "customers.n=300", "steps=5"])


def test_failed_job_resumes_once_the_fault_is_gone(failing, tmp_path):
    copy = tmp_path / "fixed"
    shutil.copytree(failing[0], copy)
    proc = _sim(["--resume", str(copy)], module="sim.runner.collect")  # no fault injection now
    assert proc.returncode == 0, proc.stderr
    ds = open_merged(copy)
    assert int(ds.attrs["jobs_failed"]) == 0 and ds.job_status.values.tolist() == ["done"] * 3
    assert (copy / "1" / "INCOMPLETE.1").read_text().startswith("This run did not finish: failed with")
    assert_cell_is_run(ds, {"seed": 1}, ["scenario=baseline", "seed=1", "customers.n=300", "steps=5"])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_a_killed_sweep_keeps_finished_jobs_and_resumes(tmp_path, sig):
    out = tmp_path / "killed"
    args = ["-m", "scenario=baseline", "seed=range(5)", "customers.n=60000", "steps=60", f"hydra.sweep.dir={out}"]
    # the driver's output goes to a file, not a pipe: the launcher's worker processes inherit the
    # pipe, so its end would wait for idle workers too (whether they stop is checked below)
    log = tmp_path / "driver.err"
    with open(log, "w") as err_file:
        proc = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                                stderr=err_file, text=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("*/run.nc")):
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(sig)
    proc.wait(timeout=120)
    err = log.read_text()
    assert proc.returncode == {signal.SIGINT: 130, signal.SIGKILL: -9}[sig], err
    if sig == signal.SIGINT:
        assert f"python -m sim.collect --resume {out}" in err.splitlines()[-1]
    # the workers notice and stop: no job is left computing for nobody
    deadline = time.monotonic() + 60
    while any(s.status == "unfinished" and (s.folder / "INCOMPLETE").exists() and
              "pid" in (s.folder / "INCOMPLETE").read_text() and
              _alive((s.folder / "INCOMPLETE").read_text()) for s in job_states(out)):
        assert time.monotonic() < deadline, "a worker kept running after its driver died"
        time.sleep(0.2)
    states = job_states(out)
    finished = {s.job: (s.folder / "run.nc").stat() for s in states if s.done}
    assert finished and len(finished) < 5
    for j in finished:
        sim.load(out / str(j))  # complete and readable
    proc = _sim(["--resume", str(out)], module="sim.runner.collect")
    assert proc.returncode == 0, proc.stderr
    for j, st in finished.items():
        now = (out / str(j) / "run.nc").stat()
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    ds = open_merged(out)
    assert ds.seed.values.tolist() == list(range(5)) and int(ds.attrs["jobs_done"]) == 5
    last = max(set(range(5)) - set(finished))
    direct = sim.run(["scenario=baseline", f"seed={last}", "customers.n=60000", "steps=60"])
    np.testing.assert_array_equal(ds.customers.sel(seed=last).values, direct.customers.values)


def _alive(marker_text: str) -> bool:

    m = re.search(r"pid (\d+)", marker_text)
    if not m:
        return False
    try:
        os.kill(int(m.group(1)), 0)
    except ProcessLookupError:
        return False
    return True


def test_zarr_on_request_replaces_the_netcdf_merge(failing, tmp_path):
    pytest.importorskip("zarr")
    copy = tmp_path / "z"
    shutil.copytree(failing[0], copy)
    nc = open_merged(copy)
    proc = _sim([str(copy), "--format", "zarr"], module="sim.runner.collect")
    assert proc.returncode == 1 and "merged 2 of 3 jobs into" in proc.stdout  # one job failed
    assert (copy / "sweep.zarr").is_dir() and not (copy / MERGED_NC).exists()
    z = open_merged(copy)
    assert z.firm.values.tolist() == nc.firm.values.tolist()
    assert z.customers.dtype == nc.customers.dtype == np.float64 and bool(z.customers.sel(seed=1).isnull().all())
    for name in nc.data_vars:
        if name != "job_log":  # a path into the copied folder
            np.testing.assert_array_equal(z[name].values, nc[name].values, err_msg=name)


def test_collect_command_refuses_what_is_not_a_sweep_in_one_line(tmp_path, capsys):
    from sim.runner import collect as collect_module

    assert collect_module.main([str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "no such sweep folder" in err
    (tmp_path / "empty").mkdir()
    assert collect_module.main([str(tmp_path / "empty")]) == 2
    assert "not a sweep folder" in capsys.readouterr().err
    assert collect_module.main(["--resume", str(tmp_path / "empty")]) == 2
    assert "holds no design.yaml" in capsys.readouterr().err
