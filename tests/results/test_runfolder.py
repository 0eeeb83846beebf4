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
