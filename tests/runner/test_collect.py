"""``python -m sim.collect`` (sim.runner.collect): merging a real sweep folder from the command line.

The sweeps here are real and small: ``python -m sim -m ...`` with Hydra's in-process ``basic`` launcher
(a few seconds), one of them with a job made to fail at run time by the fault injection of
``tests/fault/sitecustomize.py``. What the merged Dataset holds is tests/results/test_merge.py's
business; here: the command merges what the jobs wrote, cell for cell, says what it did in one line,
lists each job without a result on its own line and exits 1 then, and refuses what is not a sweep
in one line with exit 2. Resuming through this command is tested in tests/runner/test_sweep.py.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import yaml

import sim
from sim.results.merge import FAILURES, MERGED_NC, MERGED_ZARR, open_merged
from sim.results.sweepfolder import read_design
from sim.runner import collect as collect_cli
from tests.sweep_helpers import ENV, FAULT, ROOT, run_cli

FIXED = ["customers.n=300", "steps=5", "hydra/launcher=basic"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Two scenarios (the disruptor is absent from the baseline) x two seeds, finished."""
    out = tmp_path_factory.mktemp("collect") / "grid"
    proc = run_cli(["-m", "scenario=baseline,disruptor", "seed=0,1", *FIXED, f"hydra.sweep.dir={out}"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    """Seeds 0, 1, 2, 3, where seed 1 fails in its third step; job 3's folder is then removed, as if its
    worker never started."""
    out = tmp_path_factory.mktemp("collect") / "failing"
    env = dict(ENV, PYTHONPATH=f"{FAULT}{os.pathsep}{ROOT}", SIM_TEST_FAIL_SEED="1")
    proc = run_cli(["-m", "scenario=baseline", "seed=0,1,2,3", *FIXED, f"hydra.sweep.dir={out}"], env=env)
    assert proc.returncode == 1 and (out / "1" / "INCOMPLETE").exists(), proc.stderr[-3000:]
    shutil.rmtree(out / "3")
    return out


def _fresh(src, dst):
    """A copy of a sweep folder without its merge, as a sweep whose driver died before merging leaves it."""
    shutil.copytree(src, dst)
    for name in (MERGED_NC, FAILURES):
        (dst / name).unlink(missing_ok=True)
    return dst


def test_the_command_merges_every_job_as_its_run_file_holds_it(sweep, tmp_path):
    root = _fresh(sweep, tmp_path / "grid")
    proc = run_cli([str(root)], module="sim.collect", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"merged 4 of 4 jobs into {root / MERGED_NC}\n" and proc.stderr == ""
    assert yaml.safe_load((root / FAILURES).read_text()) == []
    ds = open_merged(root)
    assert ds.scenario.values.tolist() == ["baseline", "disruptor"] and ds.seed.values.tolist() == [0, 1]
    jobs = read_design(root)["jobs"]
    assert len(jobs) == 4
    for job in jobs:
        ov = dict(o.split("=", 1) for o in job["overrides"])
        cell = ds.sel(scenario=ov["scenario"], seed=int(ov["seed"]))
        run = sim.load(root / str(job["job"]))
        assert int(cell.job_number) == job["job"] and str(cell.run_config.values) == run.attrs["config"]
        np.testing.assert_array_equal(cell.step.values, run.step.values)
        present = cell.sel(firm=run.firm.values, segment=run.segment.values)
        for name in run.data_vars:
            np.testing.assert_array_equal(present[name].values, run[name].values,
                                          err_msg=f"job {job['job']}: {name}")
        absent = [f for f in ds.firm.values if f not in run.firm.values]
        assert absent == ([] if ov["scenario"] == "disruptor" else ["disruptor"])
        for f in absent:  # missing is missing: a firm the job did not have is NaN, not 0
            assert bool(cell.customers.sel(firm=f).isnull().all()) and bool(cell.share.sel(firm=f).isnull().all())
    assert ds.job_status.values.tolist() == ["done"] * 4


def test_merging_again_replaces_the_merge_and_an_older_merge_in_the_other_format(sweep, tmp_path, capsys):
    pytest.importorskip("zarr")
    root = _fresh(sweep, tmp_path / "again")
    assert collect_cli.main([str(root), "--format", "zarr"]) == 0
    assert (root / MERGED_ZARR).is_dir() and not (root / MERGED_NC).exists()
    zarr = open_merged(root)
    assert collect_cli.main([str(root), "--format", "netcdf"]) == 0
    assert (root / MERGED_NC).exists() and not (root / MERGED_ZARR).exists(), "the stale Zarr merge is removed"
    out = capsys.readouterr().out.splitlines()
    assert out == [f"merged 4 of 4 jobs into {root.resolve() / MERGED_ZARR}",
                   f"merged 4 of 4 jobs into {root.resolve() / MERGED_NC}"]
    nc = open_merged(root)
    for name in nc.data_vars:
        np.testing.assert_array_equal(nc[name].values, zarr[name].values, err_msg=name)


def test_jobs_without_a_result_are_listed_one_line_each_and_the_exit_is_1(failing, tmp_path, capsys):
    root = _fresh(failing, tmp_path / "failing")
    assert collect_cli.main([str(root)]) == 1
    out, err = capsys.readouterr()
    assert out == f"merged 2 of 4 jobs into {root.resolve() / MERGED_NC}\n"
    lines = err.splitlines()
    assert len(lines) == 2 and all(ln.startswith("error: job ") for ln in lines), err
    assert lines[0].startswith("error: job 1 (scenario=baseline seed=1 customers.n=300 steps=5): failed with "
                               "FloatingPointError: injected failure in step 3 (seed 1)")
    assert lines[0].endswith(f"(see {root.resolve() / '1' / 'INCOMPLETE'})")
    assert lines[1] == (f"error: job 3 (scenario=baseline seed=3 customers.n=300 steps=5): not started: no attempt "
                        f"recorded (see {root.resolve() / '3'})")
    ds = open_merged(root)
    assert ds.job_status.values.tolist() == ["done", "failed", "done", "not started"]
    for seed in (1, 3):
        assert bool(ds.share.sel(seed=seed).isnull().all()) and bool(ds.customers.sel(seed=seed).isnull().all())
    for seed in (0, 2):
        run = sim.load(root / str(seed))
        np.testing.assert_array_equal(ds.customers.sel(seed=seed).values, run.customers.values)
    assert [r["job"] for r in yaml.safe_load((root / FAILURES).read_text())] == [1, 3]


def _bad_inputs(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "results").mkdir()  # folders, but no job folders and no design
    (tmp_path / "file.nc").write_text("not a sweep")
    never = tmp_path / "never"
    from sim.results.sweepfolder import write_design

    write_design(never, [["seed=0"], ["seed=1"]])  # a design whose jobs never ran
    return [
        ([str(tmp_path / "nowhere")], "no such sweep folder"),
        ([str(tmp_path / "file.nc")], "file.nc: a file, not a sweep folder"),
        (["--resume", str(tmp_path / "file.nc")], "file.nc: a file, not a sweep folder"),
        ([str(tmp_path / "empty")], "not a sweep folder (no design.yaml and no job folders)"),
        ([str(tmp_path / "other")], "not a sweep folder (no design.yaml and no job folders)"),
        ([str(never)], "no finished job (run.nc) in the sweep: 2 jobs, none done"),
        (["--resume", str(tmp_path / "nowhere")], "holds no design.yaml"),
        (["--resume", str(tmp_path / "empty")], "holds no design.yaml"),
    ]


def test_what_is_not_a_sweep_is_refused_in_one_line_with_exit_2(tmp_path, capsys):
    for args, message in _bad_inputs(tmp_path):
        before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
        assert collect_cli.main(args) == 2, args
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and err.startswith("error: ") and message in err, (args, err)
        assert "Traceback" not in err
        assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, f"{args} wrote files"


def test_the_entry_module_refuses_a_missing_folder_in_one_line(tmp_path):
    proc = run_cli([str(tmp_path / "nowhere")], module="sim.collect", timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"error: {tmp_path / 'nowhere'}: no such sweep folder\n"


def test_the_entry_module_says_a_file_is_a_file_not_a_missing_folder(tmp_path):
    """A merged file given where its sweep folder belongs exists: the line says it is a file."""
    path = tmp_path / "sweep.nc"
    path.write_bytes(b"")
    proc = run_cli([str(path)], module="sim.collect", timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"error: {path}: a file, not a sweep folder\n"
    assert path.read_bytes() == b"" and sorted(tmp_path.iterdir()) == [path], "nothing written"


def test_an_unknown_format_is_refused_naming_the_allowed_ones(sweep, capsys):
    with pytest.raises(SystemExit) as exit_:
        collect_cli.main([str(sweep), "--format", "parquet"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    last = err.splitlines()[-1]  # argparse prints its usage line above (the quoting of choices varies by version)
    assert last.startswith("python -m sim.collect: error: argument --format: invalid choice: ")
    assert all(name in last for name in ("parquet", "auto", "netcdf", "zarr"))
