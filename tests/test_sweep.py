"""Sweeps: real parallel multiruns, the merged Dataset against single runs, failures, resume, kills.

Every sweep here runs for real: ``python -m sim -m ...`` in a subprocess (Hydra's
joblib launcher, two worker processes) or :func:`sim.sweep.run_jobs` in-process.
A job is made to fail at run time with the fault injection in
``tests/fault/sitecustomize.py`` (``SIM_TEST_FAIL_SEED``), which every worker
process picks up from ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

import sim
from sim.collect import FAILURES, MERGED_NC, collect, job_states, open_merged
from sim.sweep import load_sweep, run_jobs

ROOT = Path(__file__).resolve().parents[1]
FAULT = ROOT / "tests" / "fault"
ENV = dict(os.environ, NUMBA_NUM_THREADS="2", PYTHONPATH=str(ROOT))
GRID = ["scenario=baseline,disruptor", "firms.both.price=1.0,1.2", "seed=0,1", "customers.n=500", "steps=40"]


def _sim(args: list[str], env: dict | None = None, module: str = "sim", timeout: float = 600
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


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "grid"
    t0 = time.monotonic()
    proc = _sim(["-m", *GRID, f"hydra.sweep.dir={out}"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc, time.monotonic() - t0


def test_sweep_runs_every_job_in_its_folder_without_plots(grid):
    out, proc, _ = grid
    assert sorted(int(p.name) for p in out.iterdir() if p.is_dir()) == list(range(8))
    assert all((out / str(j) / "run.nc").exists() for j in range(8))
    assert not list(out.rglob("*.png")), "sweep jobs make no plots unless plots=true"
    assert (out / MERGED_NC).exists() and (out / "design.yaml").exists()
    design = yaml.safe_load((out / "design.yaml").read_text())
    assert design["jobs"][5]["overrides"] == ["scenario=disruptor", "firms.both.price=1.0", "seed=1",
                                              "customers.n=500", "steps=40"]
    assert design["hydra_overrides"] == ["hydra/launcher=joblib"]


def test_sweep_prints_one_line_per_finished_job_not_tables(grid):
    _, proc, _ = grid
    lines = proc.stdout.splitlines()
    progress = [ln for ln in lines if ln.startswith("sweep: ") and " done" in ln and "/8" in ln]
    assert progress and progress[-1].startswith("sweep: 8/8 done")
    assert all("elapsed" in ln for ln in progress)
    assert "final share" not in proc.stdout.lower() and "results:" not in proc.stdout
    assert lines[-1].startswith("sweep: 8 of 8 jobs merged into ") and lines[-1].endswith("sweep.nc")
    assert proc.stderr == ""


def test_merged_dataset_has_a_dimension_per_factor_and_equals_single_runs(grid):
    out, _, _ = grid
    ds = open_merged(out)
    assert list(ds["share"].dims) == ["scenario", "firms.both.price", "seed", "step", "firm"]
    assert ds.scenario.values.tolist() == ["baseline", "disruptor"]
    assert ds["firms.both.price"].values.tolist() == [1.0, 1.2] and ds["firms.both.price"].dtype == np.float64
    assert ds.seed.values.tolist() == [0, 1] and ds.seed.dtype == np.int64
    # the scenarios' order of firms, not alphabetical
    assert ds.firm.values.tolist() == ["neither", "digital_only", "human_only", "both", "disruptor"]
    assert ds.attrs["swept"] == "scenario, firms.both.price, seed"
    assert ds.attrs["fixed_overrides"] == "customers.n=500 steps=40"
    assert int(ds.attrs["jobs_done"]) == 8 and list(np.atleast_1d(ds.attrs["missing_jobs"])) == []
    for scenario, price, seed in [("baseline", 1.0, 0), ("disruptor", 1.2, 1), ("disruptor", 1.0, 0)]:
        assert_cell_is_run(ds, {"scenario": scenario, "firms.both.price": price, "seed": seed},
                           [f"scenario={scenario}", f"firms.both.price={price}", f"seed={seed}",
                            "customers.n=500", "steps=40"])
    # the factor changes the result
    assert not np.array_equal(ds.share.sel({"firms.both.price": 1.0}).values,
                              ds.share.sel({"firms.both.price": 1.2}).values)


def test_integer_variables_keep_their_dtype_with_a_fill_value(grid):
    ds = open_merged(grid[0])
    for name in ("customers", "alive", "quadrant", "segment_customers", "unassigned"):
        assert ds[name].dtype == np.int64, name
    absent = ds.customers.sel(scenario="baseline", firm="disruptor")
    assert (absent.values == -1).all() and ds.customers.attrs["fill_value"] == -1
    assert (ds.customers.sel(scenario="disruptor", firm="disruptor").values >= 0).all()
    assert bool(ds.share.sel(scenario="baseline", firm="disruptor").isnull().all())


def test_provenance_per_run_and_design_table(grid):
    ds = open_merged(grid[0])
    assert ds.run_seed.sel(seed=1).values.tolist() == [[1, 1], [1, 1]]
    assert ds.run_scenario.sel(scenario="disruptor").values.ravel().tolist() == ["disruptor"] * 4
    cfg = yaml.safe_load(str(ds.run_config.sel(scenario="baseline", seed=1).isel({"firms.both.price": 1}).values))
    assert cfg["firms"]["both"]["price"] == 1.2 and cfg["seed"] == 1 and cfg["customers"]["n"] == 500
    assert ds.attrs["version_numpy"] == np.__version__  # shared attributes stay attributes
    assert ds.job_status.values.tolist() == ["done"] * 8
    assert ds.job_overrides.values[5] == "scenario=disruptor firms.both.price=1.0 seed=1 customers.n=500 steps=40"
    assert int(ds.job_number.sel(scenario="disruptor", seed=1, **{"firms.both.price": 1.0})) == 5


def test_string_labels_survive_netcdf_round_trips(grid, tmp_path):
    ds = open_merged(grid[0])
    # re-saving what was opened from disk (the xarray trap: labels cut to the first file's width)
    ds.to_netcdf(tmp_path / "again.nc", engine="h5netcdf")
    with xr.open_dataset(tmp_path / "again.nc", engine="h5netcdf") as again:
        assert again.firm.values.tolist() == ["neither", "digital_only", "human_only", "both", "disruptor"]
        assert again.scenario.values.tolist() == ["baseline", "disruptor"]
        assert again.segment.values.tolist() == ds.segment.values.tolist()
        assert again.job_overrides.values.tolist() == ds.job_overrides.values.tolist()
        assert again.run_config.values.tolist() == ds.run_config.values.tolist()


def test_load_sweep_reads_the_merged_file_or_merges_in_memory(grid, tmp_path):
    out = grid[0]
    xr.testing.assert_identical(load_sweep(out), open_merged(out))
    copy = tmp_path / "nomerge"
    shutil.copytree(out, copy)
    (copy / MERGED_NC).unlink()
    merged = load_sweep(copy)
    assert not (copy / MERGED_NC).exists()
    np.testing.assert_array_equal(merged.share.values, open_merged(out).share.values)


def test_resume_runs_only_the_jobs_without_run_nc(grid, tmp_path):
    out = grid[0]
    copy = tmp_path / "partial"
    shutil.copytree(out, copy)
    (copy / "2" / "run.nc").unlink()
    (copy / "6" / "run.nc").unlink()
    (copy / "6" / "INCOMPLETE").write_text("This run has not finished (or was killed): no run.nc yet.\n")
    (copy / MERGED_NC).unlink()
    before = {j: (copy / str(j) / "run.nc").stat() for j in range(8) if j not in (2, 6)}
    ds = collect(copy)
    assert list(np.atleast_1d(ds.attrs["missing_jobs"])) == [2, 6]
    proc = _sim(["--resume", str(copy)], module="sim.collect")
    assert proc.returncode == 0, proc.stderr
    assert "sweep: 2 of 8 jobs to run" in proc.stdout and "merged 8 of 8 jobs" in proc.stdout
    for j, st in before.items():  # untouched
        now = (copy / str(j) / "run.nc").stat()
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    assert (copy / "6" / "INCOMPLETE.1").exists() and not (copy / "6" / "INCOMPLETE").exists()
    resumed, original = open_merged(copy), open_merged(out)
    for name in original.data_vars:
        if not name.startswith("job_"):
            np.testing.assert_array_equal(resumed[name].values, original[name].values, err_msg=name)


def test_resume_through_the_cli_and_refusals(grid, tmp_path):
    out = grid[0]
    copy = tmp_path / "again"
    shutil.copytree(out, copy)
    (copy / "7" / "run.nc").unlink()
    proc = _sim(["-m", *GRID, f"hydra.sweep.dir={copy}", "resume=true"])
    assert proc.returncode == 0, proc.stderr
    assert "sweep: 1 of 8 jobs to run" in proc.stdout
    assert (copy / "7" / "run.nc").exists()
    # another design into the same folder is refused, before any work
    proc = _sim(["-m", *GRID[:-1], "steps=41", f"hydra.sweep.dir={copy}", "resume=true"])
    assert proc.returncode == 2 and proc.stderr.startswith("error: resume: the jobs differ from the design")
    proc = _sim(["-m", *GRID, f"hydra.sweep.dir={copy}"])  # without resume: never overwritten
    assert proc.returncode == 2 and "already holds files" in proc.stderr and proc.stderr.count("\n") == 1


@pytest.mark.parametrize("args, expected", [
    (["plots=maybe"], "error: plots = 'maybe' must be true or false"),
    (["resume=true"], "error: resume = true applies to a sweep"),
    (["-m", "seed=0,1", "resume=true"], "error: resume = true needs hydra.sweep.dir=FOLDER"),
])
def test_tool_options_bad_values_exit_2_one_line(args, expected, tmp_path):
    proc = _sim([*args, "customers.n=100", "steps=2"], timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith(expected) and proc.stderr.count("\n") == 1


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
    assert err[0] == ("error: job 1 (scenario=baseline seed=1 customers.n=300 steps=5): failed: failed with "
                      f"FloatingPointError: injected failure in step 3 (seed 1) after 2 of 5 steps (see {out}/1/"
                      "INCOMPLETE)") or err[0].startswith("error: job 1 (scenario=baseline seed=1")
    assert "injected failure in step 3" in err[0]
    assert err[-1] == f"error: 1 of 3 jobs did not finish; rerun them with: python -m sim.collect --resume {out}"
    assert "3/3 done" not in proc.stdout and "sweep: 2/3 done, 1 failed" in proc.stdout
    ds = open_merged(out)
    assert ds.seed.values.tolist() == [0, 1, 2]
    assert bool(ds.share.sel(seed=1).isnull().all()) and (ds.customers.sel(seed=1).values == -1).all()
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
    proc = _sim(["--resume", str(copy)], module="sim.collect")  # no fault injection now
    assert proc.returncode == 0, proc.stderr
    ds = open_merged(copy)
    assert int(ds.attrs["jobs_failed"]) == 0 and ds.job_status.values.tolist() == ["done"] * 3
    assert (copy / "1" / "INCOMPLETE.1").read_text().startswith("This run did not finish: failed with")
    assert_cell_is_run(ds, {"seed": 1}, ["scenario=baseline", "seed=1", "customers.n=300", "steps=5"])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_a_killed_sweep_keeps_finished_jobs_and_resumes(tmp_path, sig):
    out = tmp_path / "killed"
    args = ["-m", "scenario=baseline", "seed=range(6)", "customers.n=100000", "steps=60", f"hydra.sweep.dir={out}"]
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("*/run.nc")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
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
    assert finished and len(finished) < 6
    for j in finished:
        sim.load(out / str(j))  # complete and readable
    proc = _sim(["--resume", str(out)], module="sim.collect")
    assert proc.returncode == 0, proc.stderr
    for j, st in finished.items():
        now = (out / str(j) / "run.nc").stat()
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    ds = open_merged(out)
    assert ds.seed.values.tolist() == list(range(6)) and int(ds.attrs["jobs_done"]) == 6
    last = max(set(range(6)) - set(finished))
    direct = sim.run(["scenario=baseline", f"seed={last}", "customers.n=100000", "steps=60"])
    np.testing.assert_array_equal(ds.customers.sel(seed=last).values, direct.customers.values)


def _alive(marker_text: str) -> bool:
    import re

    m = re.search(r"pid (\d+)", marker_text)
    if not m:
        return False
    try:
        os.kill(int(m.group(1)), 0)
    except ProcessLookupError:
        return False
    return True


def test_run_jobs_with_a_sampled_design_has_a_run_dimension(tmp_path):
    jobs = [["scenario=baseline", "firms.both.price=1.07", "seed=3", "customers.n=300", "steps=6"],
            ["scenario=baseline", "firms.both.price=0.93", "seed=4", "customers.n=300", "steps=6"],
            ["scenario=baseline", "firms.both.price=1.31", "seed=3", "customers.n=300", "steps=6"]]
    ds = run_jobs(jobs, tmp_path / "design", hydra_overrides=["hydra.launcher.n_jobs=2"])
    assert ds.attrs["design"] == "list of runs" and ds.sizes["run"] == 3
    assert ds["firms.both.price"].dims == ("run",)
    assert ds["firms.both.price"].values.tolist() == [1.07, 0.93, 1.31]
    assert ds.seed.values.tolist() == [3, 4, 3]
    assert (tmp_path / "design" / MERGED_NC).exists()
    assert_cell_is_run(ds, {"run": 1}, jobs[1])
    with pytest.raises(sim.ConfigError, match=r"job 1 \(.*\): customers.n = 0 is out of range"):
        run_jobs([jobs[0], [*jobs[1], "customers.n=0"]], tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


# ------------------------------------------------------------ checking a sweep fast
def test_compose_many_equals_hydra_composition_job_by_job():
    from sim.configure import compose_jobs, expand_sweep
    from sim.sweep import compose_many

    jobs = expand_sweep(["scenario=baseline,steering", "market.contact_rate=0,0.35", "seed=0,7",
                         "customers.n=1000"])
    jobs += [["scenario=baseline", "firms.neither.steering=hard", "seed=3"],
             ["scenario=baseline", "firms.neither.steering=soft", "seed=4"]]
    fast, slow = compose_many(jobs), compose_jobs(jobs)
    assert [f.config for f in fast] == [s.config for s in slow]
    assert isinstance(fast[1].config.market.contact_rate, float)  # 0 -> 0.0, as OmegaConf makes it
    assert [f.overrides for f in fast] == jobs


@pytest.mark.parametrize("sweep, expected", [
    (["seed=0,1,-5"], r"job 2 \(scenario=baseline seed=-5\): seed = -5 is out of range"),
    (["customers.n=1000,abc"], r"job 1 \(scenario=baseline customers.n=abc\): customers.n = 'abc' must be"),
    (["firms.both.steering=soft,sideways"], r"job 1 \(.*\): firms.both.steering = 'sideways' is not allowed"),
])
def test_compose_many_reports_the_same_one_line_errors(sweep, expected):
    from sim.configure import compose_jobs, expand_sweep
    from sim.sweep import compose_many

    jobs = expand_sweep(["scenario=baseline", *sweep])
    with pytest.raises(sim.ConfigError, match=expected) as fast:
        compose_many(jobs)
    with pytest.raises(sim.ConfigError) as slow:
        compose_jobs(jobs)
    assert str(fast.value) == str(slow.value)


def test_checking_a_500_job_sweep_takes_seconds_not_minutes(tmp_path):
    from sim import cli

    t0 = time.perf_counter()
    prep = cli._prepare(["-m", "scenario=baseline,disruptor", "firms.both.price=1.0,1.2", "seed=range(125)",
                         f"hydra.sweep.dir={tmp_path / 'big'}"])
    elapsed = time.perf_counter() - t0
    assert len(prep.composed) == 500 and prep.composed[499].config.seed == 124
    assert elapsed < 15, f"checking 500 jobs took {elapsed:.1f} s"


def test_zarr_on_request_replaces_the_netcdf_merge(failing, tmp_path):
    pytest.importorskip("zarr")
    copy = tmp_path / "z"
    shutil.copytree(failing[0], copy)
    nc = open_merged(copy)
    proc = _sim([str(copy), "--format", "zarr"], module="sim.collect")
    assert proc.returncode == 1 and "merged 2 of 3 jobs into" in proc.stdout  # one job failed
    assert (copy / "sweep.zarr").is_dir() and not (copy / MERGED_NC).exists()
    z = open_merged(copy)
    assert z.firm.values.tolist() == nc.firm.values.tolist() and z.customers.dtype == np.int64
    for name in nc.data_vars:
        if name != "job_log":  # a path into the copied folder
            np.testing.assert_array_equal(z[name].values, nc[name].values, err_msg=name)
