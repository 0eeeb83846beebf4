"""The run-folder protocol (sim.results.runfolder): atomic files, never overwriting a result."""

from __future__ import annotations

import pytest

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
