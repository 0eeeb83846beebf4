"""The run-folder protocol (sim.results.runfolder): atomic files, never overwriting a result."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.results.runfolder import RunFolderTaken, publish, write_atomic


def _tiny_dataset():
    return sim.run(["scenario=baseline", "customers.n=200", "steps=2"])


def test_write_atomic_never_overwrites_when_asked(tmp_path):
    ds = _tiny_dataset()
    path = tmp_path / "run.nc"
    write_atomic(ds, path, overwrite=False)
    before = path.read_bytes()
    with pytest.raises(RunFolderTaken):
        write_atomic(ds, path, overwrite=False)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nc"]
    assert sim.load(path).identical(sim.load(tmp_path))


def test_publish_keeps_existing_file_and_removes_tmp(tmp_path):
    (tmp_path / "run.nc").write_text("earlier")
    tmp = tmp_path / ".run.nc.x.tmp"
    tmp.write_text("new")
    with pytest.raises(RunFolderTaken):
        publish(tmp, tmp_path / "run.nc")
    assert (tmp_path / "run.nc").read_text() == "earlier" and not tmp.exists()


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    import xarray as xr

    ds = _tiny_dataset()

    def interrupted(self, path, *a, **kw):
        assert path is None  # made in memory, then written with plain file I/O
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(xr.Dataset, "to_netcdf", interrupted)
        with pytest.raises(KeyboardInterrupt):
            write_atomic(ds, tmp_path / "run.nc")
    assert list(tmp_path.iterdir()) == []

    def interrupted_flush(fd):  # the bytes are in the temporary file, not yet on disk
        assert any(p.stat().st_size > 0 for p in tmp_path.glob(".run.nc.*.tmp"))
        raise KeyboardInterrupt

    import sim.results.runfolder

    monkeypatch.setattr(sim.results.runfolder.os, "fsync", interrupted_flush)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(ds, tmp_path / "run.nc")
    assert list(tmp_path.iterdir()) == []


def _claim(args):
    import time

    from sim.results.runfolder import claim_new_folder

    path, start = args
    while time.time() < start:  # every process claims at the same moment
        pass
    return str(claim_new_folder(path, "hydra.run.dir", suffix=True, note="test\n"))


def test_processes_claiming_one_default_folder_at_once_each_get_their_own(tmp_path):
    import multiprocessing
    import time

    path = tmp_path / "results" / "2026-01-02_03-04-05"
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        got = pool.map(_claim, [(path, time.time() + 2.0)] * 6)
    assert sorted(got) == sorted([str(path)] + [f"{path}_{k}" for k in range(2, 7)])
    assert all((tmp_path / "results" / p / "INCOMPLETE").read_text().endswith("test\n") for p in got)


def test_a_named_folder_is_claimed_if_new_or_empty_and_refused_otherwise(tmp_path):
    from sim.results.runfolder import claim_new_folder
    from sim.settings.schema import ConfigError

    assert claim_new_folder(tmp_path / "new", "k", suffix=False) == tmp_path / "new"
    assert claim_new_folder(tmp_path / "new", "k", suffix=False, note="x") == tmp_path / "new"  # empty: ours
    with pytest.raises(RunFolderTaken, match="k = '.*new' already holds files"):
        claim_new_folder(tmp_path / "new", "k", suffix=False, note="x")
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"k = '.*file': the folder cannot be created \(a part of the path is a "
                                          r"file, not a folder\)"):
        claim_new_folder(tmp_path / "file", "k", suffix=False)
    assert claim_new_folder(tmp_path / "new", "k", suffix=True) == tmp_path / "new_2"


def test_a_sweep_folder_is_claimed_by_its_design_table_once(tmp_path):
    from sim.results.sweepfolder import read_design, write_design

    write_design(tmp_path, [["seed=0"]], exclusive=True)
    with pytest.raises(RunFolderTaken):
        write_design(tmp_path, [["seed=1"]], exclusive=True)
    assert read_design(tmp_path)["jobs"] == [{"job": 0, "overrides": ["seed=0"]}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design.yaml"]


# ----------------------------------------------------------------- the run file's format
@pytest.fixture(scope="module")
def short_run():
    return sim.run(["scenario=disruptor", "customers.n=300", "steps=30"])


def _format(path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(4)
    return {b"CDF\x02": "netCDF-3", b"\x89HDF": "netCDF-4"}[head]


def test_a_short_run_is_netcdf3_a_long_one_netcdf4_and_both_read_back_as_written(short_run, tmp_path):
    from sim.results.runfolder import netcdf_engine

    short = write_atomic(short_run, tmp_path / "short.nc")
    assert _format(short) == "netCDF-3" and netcdf_engine(short) == "netcdf4"
    assert sim.load(short).identical(short_run)
    # a variable worth compressing (2,100 steps x 5 firms: 84 KB): netCDF-4, compressed
    long = sim.run(["scenario=baseline", "customers.n=200", "steps=2100"])
    path = write_atomic(long, tmp_path / "long.nc")
    assert _format(path) == "netCDF-4" and netcdf_engine(path) == "h5netcdf"
    back = sim.load(path)
    assert back.identical(long) and back.share.encoding["zlib"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**63 - 1) | st.sampled_from([2**31 - 1, 2**31]),
       n=st.integers(0, 2**33) | st.sampled_from([2**31 - 1, 2**31]))
def test_any_run_reads_back_as_written_netcdf3_exactly_when_it_fits(short_run, tmp_path_factory, seed, n):
    """netCDF-3 has no 64-bit integers: a seed or a count beyond 32 bits makes the file netCDF-4."""
    ds = short_run.copy()
    ds.attrs["seed"] = seed
    ds["unassigned"] = ds["unassigned"] * 0 + n  # an integer variable
    path = write_atomic(ds, tmp_path_factory.mktemp("fmt") / "run.nc")
    fits = seed < 2**31 and n < 2**31
    assert _format(path) == ("netCDF-3" if fits else "netCDF-4")
    back = sim.load(path)
    assert back.identical(ds) and back.attrs["seed"] == seed and int(back.unassigned[0]) == n


def test_the_merge_reads_either_format_the_same(short_run, tmp_path):
    """A sweep's job files may be of either format (an older sweep resumed): the merge is the same."""
    from sim.results.merge import merge_jobs
    from sim.results.runfolder import write_netcdf_tmp
    from sim.results.sweepfolder import job_states
    from tests.sweep_helpers import fake_sweep

    jobs = [{"overrides": [f"seed={s}"], "status": "done", "firms": short_run.firm.values.tolist()[:-1 if s else None]}
            for s in range(3)]
    root = fake_sweep(tmp_path / "sw", short_run, jobs)
    classic = merge_jobs(job_states(root))
    for k in (0, 2):  # rewritten as netCDF-4
        ds = sim.load(root / str(k))
        (root / str(k) / "run.nc").unlink()
        publish(write_netcdf_tmp(ds, root / str(k) / "run.nc", classic=False), root / str(k) / "run.nc")
    assert [_format(root / str(k) / "run.nc") for k in range(3)] == ["netCDF-4", "netCDF-3", "netCDF-4"]
    mixed = merge_jobs(job_states(root))
    assert mixed.identical(classic)
    assert {type(v) for v in mixed.attrs.values()} == {type(v) for v in classic.attrs.values()}
