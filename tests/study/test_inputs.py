"""sim.study.inputs: reading a run, a sweep folder or a netCDF file for the analysis (eagerly or lazily),
the seed dimension, and the jobs behind a Dataset, on real small runs and sweeps.

The sweeps are real: ``python -m sim -m ...`` with Hydra's in-process ``basic`` launcher, seed 1 made to
fail in its third step by the fault injection of ``tests/fault/sitecustomize.py``. The statistics on
what is read are tests/study/test_analysis.py's business.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.results.merge import MERGED_NC, collect, load_sweep
from sim.results.runfolder import write_atomic
from sim.results.sweepfolder import write_design
from sim.runner.sweep import run_jobs
from sim.study.inputs import AnalysisError, job_counts, jobs_note, open_result, with_seed_dim
from tests.sweep_helpers import ENV, FAULT, ROOT, fake_sweep, run_cli

FIXED = ["customers.n=300", "steps=5", "hydra/launcher=basic"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One run at seed 5, written as a run folder, and the run in memory."""
    ds = sim.run(["scenario=disruptor", "customers.n=300", "steps=5"], seed=5)
    folder = tmp_path_factory.mktemp("run")
    write_atomic(ds, folder / "run.nc")
    return folder, ds


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """Two scenarios x seeds 2, 0, 1 (in that order): both seed-1 jobs fail, and the folder of job 4
    (disruptor, seed 0) is removed as if its worker never started; not merged."""
    out = tmp_path_factory.mktemp("inputs") / "grid"
    env = dict(ENV, PYTHONPATH=f"{FAULT}{os.pathsep}{ROOT}", SIM_TEST_FAIL_SEED="1")
    proc = run_cli(["-m", "scenario=baseline,disruptor", "seed=2,0,1", *FIXED, f"hydra.sweep.dir={out}"], env=env)
    assert proc.returncode == 1 and "2 of 6 jobs did not finish" in proc.stderr, proc.stderr[-3000:]
    shutil.rmtree(out / "4")
    (out / MERGED_NC).unlink()
    return out


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    """A sampled design (three runs, not a grid of price x seed), not merged."""
    out = tmp_path_factory.mktemp("inputs") / "design"
    jobs = [["scenario=baseline", "firms.both.price=1.07", "seed=3"], ["scenario=baseline", "firms.both.price=0.93",
            "seed=4"], ["scenario=baseline", "firms.both.price=1.31", "seed=3"]]
    run_jobs([[*j, *FIXED[:2]] for j in jobs], out, launcher="basic")
    (out / MERGED_NC).unlink()
    return out


def _merged_copy(src, dst):
    shutil.copytree(src, dst)
    collect(dst)
    return dst


# ------------------------------------------------------------------------------ a run
def test_a_run_folder_and_its_file_open_as_the_run_made_them(run_dir):
    folder, direct = run_dir
    for ds in (open_result(folder), open_result(folder / "run.nc"), open_result(str(folder))):
        assert ds.customers.dtype == np.int64 == direct.customers.dtype, "32-bit integers on disk, int64 again"
        assert set(ds.data_vars) == set(direct.data_vars)
        for name in direct.data_vars:
            np.testing.assert_array_equal(ds[name].values, direct[name].values, err_msg=name)
        assert ds.attrs["seed"] == 5 and ds.attrs["config"] == direct.attrs["config"]
        assert ds.share.chunks is None, "eager: in memory"


def test_a_run_opened_lazily_is_dask_backed_and_computes_to_the_same_values(run_dir):
    folder, direct = run_dir
    lazy = open_result(folder, chunks={"step": 2})
    assert lazy.share.chunksizes["step"] == (2, 2, 1)
    assert lazy.customers.dtype == np.int64
    computed = lazy.compute()
    for name in direct.data_vars:
        np.testing.assert_array_equal(computed[name].values, direct[name].values, err_msg=name)


# --------------------------------------------------------------------------- sweeps
def test_a_merged_sweep_file_reads_missing_as_nan_eagerly_and_lazily(grid, tmp_path):
    root = _merged_copy(grid, tmp_path / "merged")
    eager = open_result(root)
    assert eager.seed.values.tolist() == [2, 0, 1] and eager.scenario.values.tolist() == ["baseline", "disruptor"]
    assert eager.customers.dtype == np.float64
    assert bool(eager.customers.sel(scenario="baseline", firm="disruptor").isnull().all()), "absent firm"
    assert bool(eager.customers.sel(seed=1).isnull().all()), "failed jobs"
    assert bool(eager.customers.sel(scenario="disruptor", seed=0).isnull().all()), "the job that never started"
    run = sim.load(root / "3")  # disruptor, seed 2
    np.testing.assert_array_equal(eager.customers.sel(scenario="disruptor", seed=2).values, run.customers.values)
    for lazy in (open_result(root, chunks={"seed": 1}), open_result(root / MERGED_NC, chunks={"seed": 1})):
        assert lazy.customers.chunksizes["seed"] == (1, 1, 1)
        xr.testing.assert_identical(lazy.compute(), eager)


def test_an_unmerged_sweep_opens_eagerly_as_its_merge_in_memory(grid):
    eager = open_result(grid)
    assert not (grid / MERGED_NC).exists(), "nothing written"
    xr.testing.assert_identical(eager, load_sweep(grid))
    assert eager.job_status.values.tolist() == ["done", "done", "failed", "done", "not started", "failed"]


def test_an_unmerged_sweep_opened_lazily_holds_each_finished_jobs_run(grid):
    """Whatever its cells, the lazy combination holds each finished job's run at that job's factor values,
    NaN for a firm the job did not have, and counts the jobs as the eager one does."""
    lazy = open_result(grid, chunks={"step": 2})
    assert lazy.share.chunks is not None and not (grid / MERGED_NC).exists()
    assert lazy.attrs["swept"] == "scenario, seed"
    computed = lazy.compute()
    for job, scenario, seed in ((0, "baseline", 2), (1, "baseline", 0), (3, "disruptor", 2)):
        run = sim.load(grid / str(job))
        cell = computed.sel(scenario=scenario, seed=seed)
        for name in ("customers", "share", "price", "nps"):
            np.testing.assert_array_equal(cell[name].sel(firm=run.firm.values).values, run[name].values,
                                          err_msg=f"job {job}: {name}")
        others = [f for f in cell.firm.values if f not in run.firm.values]
        assert all(bool(cell.share.sel(firm=f).isnull().all()) for f in others)
    assert job_counts(lazy) == job_counts(open_result(grid)) == {
        "total": 6, "done": 3, "failed": 2, "absent": 1, "missing": [2, 4, 5]}


def test_an_unmerged_sweep_opened_lazily_has_the_eager_cells(grid):
    """``open_result`` combines a multirun folder "as load_sweep does", lazily or not: the same
    swept levels in the sweep's order (a level without a finished job too), NaN for jobs without a
    result, the same dtypes, attributes and encodings: the lazy Dataset computes to the eager one."""
    eager, lazy = open_result(grid), open_result(grid, chunks={"step": 2})
    assert lazy.seed.values.tolist() == eager.seed.values.tolist() == [2, 0, 1]
    assert lazy.share.dims == eager.share.dims == ("scenario", "seed", "step", "firm")
    assert lazy.share.chunksizes["step"] == (2, 2, 1) and lazy.customers.dtype == np.float64
    assert bool(lazy.share.sel(seed=1).isnull().all().compute()), "the failed jobs"
    computed = lazy.compute()
    xr.testing.assert_identical(computed, eager)
    for name, var in eager.variables.items():
        assert lazy[name].encoding == var.encoding, name


def test_a_sampled_design_opened_lazily_has_a_run_dimension_as_eagerly(design):
    eager, lazy = open_result(design), open_result(design, chunks={})
    assert eager.share.dims == ("run", "step", "firm")
    assert eager["firms.both.price"].values.tolist() == [1.07, 0.93, 1.31]
    assert lazy.share.dims == eager.share.dims and lazy.share.chunks is not None
    xr.testing.assert_identical(lazy.compute(), eager)
    assert open_result(design, chunks={"run": 2}).share.chunksizes["run"] == (2, 1), "chunks along the cells"


def test_a_selection_of_a_lazily_opened_sweep_counts_its_own_jobs(grid):
    eager, lazy = open_result(grid), open_result(grid, chunks={"step": 2})
    assert job_counts(eager.sel(scenario="baseline"))["total"] == 3
    assert lazy.job_number.values.tolist() == eager.job_number.values.tolist() == [[0, 1, 2], [3, 4, 5]]
    for sel in ({"scenario": "baseline"}, {"scenario": "disruptor"}, {"seed": 1}, {"seed": 2}):
        assert job_counts(lazy.sel(sel)) == job_counts(eager.sel(sel)), sel


@pytest.fixture(scope="module")
def template():
    """A small real run: the layout of every fake job's run.nc (five firms, five steps)."""
    return sim.run(["scenario=disruptor", "customers.n=200", "steps=5"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_sweep_opened_lazily_computes_to_its_merge_in_memory(template, data):
    """Whatever the design (a grid with its levels in any order, or a grid with cells left out: a list of runs),
    whichever jobs finished, failed or never started, whichever firms (in whatever order) each run has:
    the lazy Dataset computes to the eager one, encodings too, and its selections count the same jobs."""
    firms = template.firm.values.tolist()
    scenarios = data.draw(st.permutations(["a", "b", "c"]).map(lambda p: p[:2]), label="scenarios")
    seeds = data.draw(st.lists(st.integers(0, 9), min_size=1, max_size=3, unique=True), label="seeds")
    cells = [(sc, s) for sc in scenarios for s in seeds]
    kept = data.draw(st.lists(st.sampled_from(cells), min_size=1, max_size=len(cells), unique=True), label="cells")
    statuses = data.draw(st.lists(st.sampled_from(["done", "failed", "absent"]), min_size=len(kept),
                                  max_size=len(kept)).filter(lambda x: "done" in x), label="statuses")
    runs_firms = [data.draw(st.permutations(firms).flatmap(lambda p: st.integers(1, len(p)).map(lambda n: p[:n])),
                            label=f"firms of job {k}") for k in range(len(kept))]
    jobs = [{"overrides": [f"scenario={sc}", f"seed={s}"], "status": status, "firms": list(fs)}
            for (sc, s), status, fs in zip(kept, statuses, runs_firms, strict=True)]
    with tempfile.TemporaryDirectory() as tmp:
        root = fake_sweep(Path(tmp) / "sw", template, jobs)
        eager, lazy = open_result(root), open_result(root, chunks={"step": 2})
        assert lazy.share.chunks is not None
        xr.testing.assert_identical(lazy.compute(), eager)
        for name, var in eager.variables.items():
            assert lazy[name].encoding == var.encoding, name
        for d in eager.job_number.dims:
            for value in eager[d].values[:2]:
                assert job_counts(lazy.sel({d: value})) == job_counts(eager.sel({d: value})), (d, value)


# ------------------------------------------------------------------ the seed dimension
def test_with_seed_dim_gives_a_single_run_its_seed_and_leaves_a_sweep_alone(run_dir, grid):
    folder, direct = run_dir
    ds = open_result(folder)
    seeded = with_seed_dim(ds)
    assert seeded.seed.values.tolist() == [5] and seeded.share.dims == ("seed", "step", "firm")
    np.testing.assert_array_equal(seeded.share.isel(seed=0).values, direct.share.values)
    sweep = open_result(grid)
    assert with_seed_dim(sweep) is sweep
    one = sweep.sel(seed=0)  # a selection keeps the seed as a scalar coordinate
    assert "seed" not in one.dims and with_seed_dim(one).seed.values.tolist() == [0]
    assert with_seed_dim(ds, dim="run").run.values.tolist() == [0], "another dimension starts at 0"


# ------------------------------------------------------------------------ the jobs
def test_job_counts_and_note_of_a_run_a_sweep_and_a_selection(run_dir, grid):
    assert job_counts(open_result(run_dir[0])) is None and jobs_note(open_result(run_dir[0])) == "one run"
    sweep = open_result(grid)
    assert jobs_note(sweep) == ("6 jobs: 3 finished, 2 failed, 1 absent (not run or unfinished); without a result: "
                                "jobs 2, 4, 5")
    # a selection of cells counts its own jobs
    assert job_counts(sweep.sel(scenario="baseline")) == {"total": 3, "done": 2, "failed": 1, "absent": 0,
                                                          "missing": [2]}
    assert jobs_note(sweep.sel(scenario="disruptor")) == ("3 jobs: 1 finished, 1 failed, 1 absent (not run or "
                                                          "unfinished); without a result: jobs 4, 5")
    assert job_counts(sweep.sel(seed=2)) == {"total": 2, "done": 2, "failed": 0, "absent": 0, "missing": []}
    assert jobs_note(sweep.sel(scenario="baseline", seed=1)).endswith("without a result: job 2")


def test_jobs_note_shows_ten_missing_jobs_then_an_ellipsis():
    ds = xr.Dataset(attrs={"jobs_total": 40, "jobs_done": 28, "jobs_failed": 12,
                           "missing_jobs": np.arange(0, 36, 3), "failed_jobs": np.arange(0, 36, 3)})
    assert job_counts(ds) == {"total": 40, "done": 28, "failed": 12, "absent": 0, "missing": list(range(0, 36, 3))}
    assert jobs_note(ds).endswith("without a result: jobs 0, 3, 6, 9, 12, 15, 18, 21, 24, 27, ...")


# --------------------------------------------------------------------------- errors
def test_what_cannot_be_read_raises_one_analysis_error_line(tmp_path):
    (tmp_path / "empty").mkdir()
    never = tmp_path / "never"
    write_design(never, [["seed=0"], ["seed=1"]])  # a sweep whose jobs never ran
    cases = [
        (lambda: open_result(tmp_path / "nope"), "no such file or folder"),
        (lambda: open_result(tmp_path / "nope", chunks={}), "no such file or folder"),
        (lambda: open_result(tmp_path / "empty"), "no run.nc in or below this folder"),
        (lambda: open_result(tmp_path / "empty", chunks={}), "no run.nc below this folder"),
        (lambda: open_result(never), "no run.nc in or below this folder"),
        (lambda: open_result(never, chunks="auto"), "no run.nc below this folder"),
    ]
    for call, message in cases:
        with pytest.raises(AnalysisError) as err:
            call()
        assert message in str(err.value) and "\n" not in str(err.value)
        assert isinstance(err.value, ValueError), "callers catching ValueError catch it too"


def test_a_folder_of_identical_jobs_opens_lazily_as_eagerly_a_run_per_job(run_dir, tmp_path):
    """Nothing swept (the jobs' overrides are the same): not a grid, so a ``run`` dimension, lazily as eagerly."""
    root = tmp_path / "same"
    write_design(root, [["seed=5"], ["seed=5"]])
    for k in (0, 1):
        shutil.copytree(run_dir[0], root / str(k))
    eager, lazy = open_result(root), open_result(root, chunks={})
    assert eager.share.dims == ("run", "step", "firm") and eager.attrs["swept"] == ""
    xr.testing.assert_identical(lazy.compute(), eager)
