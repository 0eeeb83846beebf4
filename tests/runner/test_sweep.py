"""Sweeps: real parallel multiruns, the merged Dataset against single runs, failures, resume, kills.

Every sweep here runs for real: ``python -m sim -m ...`` in a subprocess (Hydra's
joblib launcher, two worker processes) or :func:`sim.runner.sweep.run_jobs` in-process.
A job is made to fail at run time with the fault injection in
``tests/fault/sitecustomize.py`` (``SIM_TEST_FAIL_SEED``), which every worker
process picks up from ``PYTHONPATH``.
"""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest
import xarray as xr
import yaml

import sim
from sim.results.merge import MERGED_NC, collect, load_sweep, open_merged
from sim.runner.sweep import run_jobs
from tests.sweep_helpers import assert_cell_is_run, run_cli

GRID = ["scenario=baseline,disruptor", "firms.both.price=1.0,1.2", "seed=0,1", "customers.n=500", "steps=40"]
_sim = run_cli


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
    # only what a sweep needs: the result and the job's log (the config is run.nc's config attribute)
    assert all(sorted(p.name for p in (out / str(j)).iterdir()) == ["run.nc", "sim.log"] for j in range(8))
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


def test_missing_is_missing_integers_with_absent_cells_are_nan_and_stored_with_a_cf_fill_value(grid):
    import h5py

    ds = open_merged(grid[0])
    for name in ("segment_customers", "unassigned"):  # defined in every cell: integers stay integers
        assert ds[name].dtype == np.int64, name
    for name in ("customers", "alive", "quadrant"):  # the disruptor is absent from the baseline
        assert ds[name].dtype == np.float64 and ds[name].encoding["_FillValue"] == -1, name
        assert "fill_value" not in ds[name].attrs
    assert bool(ds.customers.sel(scenario="baseline", firm="disruptor").isnull().all())
    assert (ds.customers.sel(scenario="disruptor", firm="disruptor").values >= 0).all()
    assert bool(ds.share.sel(scenario="baseline", firm="disruptor").isnull().all())
    with h5py.File(grid[0] / MERGED_NC) as f:  # on disk: integers with the CF _FillValue every reader masks
        assert f["customers"].dtype == np.int32 and int(f["customers"].attrs["_FillValue"][0]) == -1


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
    proc = _sim(["--resume", str(copy)], module="sim.runner.collect")
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


@pytest.mark.parametrize("launcher, blocked, extra", [
    ("ray", "hydra_plugins.hydra_ray_launcher", "ray"),
    ("ray", "ray", "ray"),
    ("slurm", "hydra_plugins.hydra_submitit_launcher", "slurm"),
    ("submitit_local", "submitit", "slurm"),
])
def test_a_launcher_without_its_extra_says_how_to_install_it(tmp_path, monkeypatch, launcher, blocked, extra):
    import sys

    monkeypatch.setitem(sys.modules, blocked, None)  # as if not installed: importing it fails
    jobs = [["scenario=baseline", "seed=0", "customers.n=300", "steps=6"]]
    with pytest.raises(sim.ConfigError) as err:
        run_jobs(jobs, tmp_path / "s", launcher=launcher)
    msg = str(err.value)
    assert f"hydra/launcher={launcher} needs the '{extra}' extra" in msg and f'pip install ".[{extra}]"' in msg
    assert blocked in msg and "\n" not in msg
    assert not (tmp_path / "s").exists()  # nothing written, nothing run


# ------------------------------------------------------------ checking a sweep fast
@pytest.mark.timing
def test_checking_a_500_job_sweep_takes_seconds_not_minutes(tmp_path):
    from sim.runner import cli

    t0 = time.perf_counter()
    prep = cli._prepare(["-m", "scenario=baseline,disruptor", "firms.both.price=1.0,1.2", "seed=range(125)",
                         f"hydra.sweep.dir={tmp_path / 'big'}"])
    elapsed = time.perf_counter() - t0
    assert len(prep.composed) == 500 and prep.composed[499].config.seed == 124
    assert elapsed < 15, f"checking 500 jobs took {elapsed:.1f} s"

