"""The merge of a sweep folder (sim.results.merge), on sweep folders made without running the model.

Missing is missing: a firm absent from a scenario and a job that failed or never ran
are NaN in every variable (integers too), in memory and after a round trip through
``sweep.nc``; the analysis then counts only the seeds that finished.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import sim
from sim.results.merge import (
    INT_FILL,
    MERGED_NC,
    _is_grid,
    collect,
    factors_of,
    load_sweep,
    masked,
    merge_jobs,
    open_merged,
    parse_overrides,
)
from sim.results.sweepfolder import job_states
from sim.study import analysis as A
from tests.sweep_helpers import fake_sweep

STEPS = 3


@pytest.fixture(scope="module")
def template():
    """A small real run: the layout (variables, attributes) of every fake job's run.nc."""
    return sim.run(["scenario=disruptor", "customers.n=200", f"steps={STEPS}"])


def test_overrides_and_factors():
    assert parse_overrides(["a=1", "+b.c=0.5", "~d=", "e=[1,2]", "f=text"]) == {
        "a": 1, "b.c": 0.5, "d": "", "e": [1, 2], "f": "text"}
    jobs = [["scenario=a", "seed=0", "n=5"], ["scenario=a", "seed=1", "n=5"],
            ["scenario=b", "seed=0", "n=5"], ["scenario=b", "seed=1", "n=5"]]
    swept, levels, cells, fixed = factors_of(jobs)
    assert swept == ["scenario", "seed"] and levels == {"scenario": ["a", "b"], "seed": [0, 1]}
    assert cells[2] == {"scenario": "b", "seed": 0} and fixed == {"n": 5}
    assert _is_grid(swept, levels, cells)
    assert not _is_grid(*factors_of(jobs[:3])[:3])  # a cell missing: a list of runs, not a grid


def test_masked_turns_an_older_files_fill_attribute_into_nan(tmp_path):
    old = xr.Dataset({"customers": (("seed", "firm"), np.array([[3, -1], [4, 5]]), {"fill_value": -1}),
                      "share": (("seed", "firm"), np.array([[0.5, np.nan], [0.4, 0.6]]))})
    old.to_netcdf(tmp_path / "old.nc", engine="h5netcdf")  # an attribute, not CF's _FillValue
    for ds in (masked(old.copy()), A.open_result(tmp_path / "old.nc"),
               A.open_result(tmp_path / "old.nc", chunks={"seed": 1}).compute()):
        assert ds.customers.dtype == np.float64 and "fill_value" not in ds.customers.attrs
        np.testing.assert_array_equal(ds.customers.values, [[3, np.nan], [4, 5]])
        assert int(A.mean_ci(ds.customers.sel(firm=ds.firm.values[1]) if "firm" in ds.coords
                             else ds.customers.isel(firm=1)).n) == 1


def _jobs(template, statuses, absent_firm, customers, alive):
    """Two scenarios x seeds: scenario ``a`` lacks ``absent_firm``; job k has statuses[k]."""
    firms = template.firm.values.tolist()
    n_seeds = len(statuses) // 2
    jobs = []
    for k, status in enumerate(statuses):
        scenario, seed = ("a", "b")[k // n_seeds], k % n_seeds
        have = [f for f in firms if not (scenario == "a" and f == absent_firm)]
        idx = [firms.index(f) for f in have]
        jobs.append({"overrides": [f"scenario={scenario}", f"seed={seed}"], "status": status, "firms": have,
                     "values": {"customers": customers[k][:, idx], "alive": alive[k][:, idx]}})
    return jobs


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_absent_firms_and_failed_jobs_are_missing_and_n_counts_the_finished_seeds(template, data):
    firms = template.firm.values.tolist()
    n_seeds = data.draw(st.integers(2, 4), label="seeds")
    statuses = data.draw(st.lists(st.sampled_from(["done", "failed", "absent"]), min_size=2 * n_seeds,
                                  max_size=2 * n_seeds).filter(lambda s: "done" in s), label="statuses")
    absent_firm = data.draw(st.sampled_from(firms), label="absent firm")
    shape = (2 * n_seeds, STEPS, len(firms))
    customers = data.draw(arrays(np.int64, shape, elements=st.integers(0, 10_000)), label="customers")
    alive = data.draw(arrays(np.int64, shape, elements=st.integers(0, 1)), label="alive")
    with tempfile.TemporaryDirectory() as tmp:
        root = fake_sweep(Path(tmp) / "sw", template, _jobs(template, statuses, absent_firm, customers, alive))
        in_memory = collect(root)  # also writes sweep.nc
        for ds in (in_memory, open_merged(root), load_sweep(root)):
            assert INT_FILL not in np.nan_to_num(ds.customers.values, nan=0).tolist()
            counts = A.job_counts(ds)
            assert counts["total"] == len(statuses) and counts["done"] == statuses.count("done")
            assert counts["failed"] == statuses.count("failed") and counts["absent"] == statuses.count("absent")
            table = A.outcome_table(ds, names=["survival"])
            assert f"{statuses.count('failed')} failed" in table.attrs["jobs"]
            for s_i, scenario in enumerate(("a", "b")):
                done = [k for k in range(s_i * n_seeds, (s_i + 1) * n_seeds) if statuses[k] == "done"]
                for f_i, firm in enumerate(firms):
                    if firm not in ds.firm.values:  # in no finished run at all
                        assert firm == absent_firm and all(statuses[k] != "done" for k in range(n_seeds, 2 * n_seeds))
                        continue
                    cell = ds.customers.sel(scenario=scenario, firm=firm).isel(step=-1)
                    stats = A.mean_ci(cell)
                    row = table.xs((scenario, firm), level=("scenario", "firm"))["survival"].iloc[0]
                    if scenario == "a" and firm == absent_firm or not done:
                        assert bool(cell.isnull().all()) and int(stats.n) == 0 and row["n"] == 0
                        assert np.isnan(row["mean"])
                        continue
                    want = customers[done, -1, f_i]
                    assert int(stats.n) == len(done) and float(stats["mean"]) == pytest.approx(want.mean())
                    assert row["n"] == len(done) and row["mean"] == pytest.approx(alive[done, -1, f_i].mean())
                    assert 0 <= row["mean"] <= 1


def test_a_complete_sweep_keeps_integers_and_writes_no_fill(template, tmp_path):
    firms = template.firm.values.tolist()
    jobs = [{"overrides": [f"seed={s}"], "status": "done", "firms": firms} for s in range(3)]
    ds = collect(fake_sweep(tmp_path / "sw", template, jobs))
    assert ds.customers.dtype == np.int64 and "_FillValue" not in ds.customers.encoding
    assert open_merged(tmp_path / "sw").customers.dtype == np.int64
    assert A.jobs_note(ds) == "3 jobs: 3 finished, 0 failed, 0 absent (not run or unfinished)"


def test_failures_are_listed_in_the_merge_and_beside_it(template, tmp_path):
    firms = template.firm.values.tolist()
    jobs = [{"overrides": [f"seed={s}"], "status": st_, "firms": firms}
            for s, st_ in enumerate(["done", "failed", "absent", "done"])]
    root = fake_sweep(tmp_path / "sw", template, jobs)
    ds = merge_jobs(job_states(root))
    assert ds.job_status.values.tolist() == ["done", "failed", "not started", "done"]
    assert np.isnan(ds.job_exit_status.values[2]) and ds.job_exit_status.values[1] == 1
    assert np.isnan(ds.run_seed.sel(seed=1)) and ds.run_seed.sel(seed=3) == 3
    assert list(ds.attrs["missing_jobs"]) == [1, 2] and list(ds.attrs["failed_jobs"]) == [1]
    records = yaml.safe_load(ds.attrs["failures"])
    assert [r["status"] for r in records] == ["failed", "not started"]
    collect(root)
    assert (root / MERGED_NC).exists() and yaml.safe_load((root / "failures.yaml").read_text()) == records
    assert "2 absent" not in A.jobs_note(ds) and "1 absent" in A.jobs_note(ds)


def test_the_lazy_path_reads_the_design_table_when_there_is_no_merged_file(template, tmp_path):
    firms = template.firm.values.tolist()
    jobs = [{"overrides": [f"scenario={sc}", f"seed={s}"], "status": "failed" if (sc, s) == ("b", 1) else "done",
             "firms": firms if sc == "b" else firms[:-1]} for sc in ("a", "b") for s in range(2)]
    root = fake_sweep(tmp_path / "sw", template, jobs)
    lazy = A.open_result(root, chunks={"step": 2})
    eager = load_sweep(root)
    assert set(lazy.dims) >= {"scenario", "seed"} and A.job_counts(lazy) == A.job_counts(eager)
    got = lazy.customers.sel(scenario=["a", "b"], seed=[0, 1]).transpose(*eager.customers.dims).compute()
    np.testing.assert_array_equal(got.sel(firm=eager.firm).values, eager.customers.values)


def test_files_read_ahead_merge_as_files_read_at_the_end_and_a_rewritten_one_is_read_again(template, tmp_path):
    from sim.results.merge import RunReader

    firms = template.firm.values.tolist()
    jobs = [{"overrides": [f"seed={s}"], "status": "done", "firms": firms} for s in range(3)]
    root = fake_sweep(tmp_path / "sw", template, jobs)
    reader = RunReader()
    for k in range(3):  # as the driver's monitor does while the jobs run
        reader.read_ahead(root / str(k) / "run.nc")
    reader.read_ahead(root / "nope" / "run.nc")  # unreadable: left to the merge, no error here
    assert merge_jobs(job_states(root), reader=reader).identical(merge_jobs(job_states(root)))
    # job 1 rerun after it was read (a resume): its new file is what the merge takes
    new = sim.load(root / "1")
    new["customers"] = new["customers"] + 1
    (root / "1" / "run.nc").unlink()
    from sim.results.runfolder import write_atomic

    write_atomic(new, root / "1" / "run.nc")
    merged = merge_jobs(job_states(root), reader=reader)
    assert merged.identical(merge_jobs(job_states(root)))
    np.testing.assert_array_equal(merged.customers.sel(seed=1).values, new.customers.values)
