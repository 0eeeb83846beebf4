"""The job function (sim.runner.job): a run claims its folder, writes run.nc last and atomically, and
whatever stops it part-way leaves no run.nc and an INCOMPLETE marker saying why."""

from __future__ import annotations

import pytest

import sim
from sim.results.runfolder import INCOMPLETE, RESULT, RunFolderTaken
from sim.runner import job
from sim.settings.schema import ConfigError

SMALL = ["scenario=baseline", "customers.n=1000", "steps=4"]


# ------------------------------------------------------ runs: folder claiming
def test_execute_refuses_a_folder_with_a_run(tmp_path):
    cfg = sim.build(SMALL).cfg
    job.execute(cfg, tmp_path / "a", plots=False)
    before = (tmp_path / "a" / RESULT).read_bytes()
    with pytest.raises(RunFolderTaken, match="already holds a finished run"):
        job.execute(cfg, tmp_path / "a", plots=False)
    assert (tmp_path / "a" / RESULT).read_bytes() == before
    assert not (tmp_path / "a" / INCOMPLETE).exists()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / INCOMPLETE).write_text("someone else is running here")
    with pytest.raises(RunFolderTaken, match="already holds an unfinished run"):
        job.execute(cfg, tmp_path / "b", plots=False)
    assert isinstance(RunFolderTaken("x"), ConfigError)  # the CLI maps it to exit 2


def test_exception_mid_step_leaves_incomplete_and_no_result(tmp_path, monkeypatch):
    from sim.model import CustomerModel

    original = CustomerModel.step

    def failing(self):
        if self.recorder.filled == 2:
            raise FloatingPointError("boom in step 3")
        original(self)

    monkeypatch.setattr(CustomerModel, "step", failing)
    out = tmp_path / "run"
    with pytest.raises(FloatingPointError):
        job.execute(sim.build(SMALL).cfg, out, plots=False)
    assert not (out / RESULT).exists()
    assert not list(out.glob(".*.tmp"))
    text = (out / INCOMPLETE).read_text()
    assert text.startswith("This run did not finish: failed with FloatingPointError: boom in step 3 "
                           "after 2 of 4 steps")
    assert "Traceback" in text


def test_failure_while_writing_leaves_no_result(tmp_path, monkeypatch):
    import xarray as xr

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    out = tmp_path / "run"
    with pytest.raises(OSError, match="disk full"):
        job.execute(sim.build(SMALL).cfg, out, plots=False)
    assert sorted(p.name for p in out.iterdir()) == [INCOMPLETE, "config.yaml"]
    assert "failed with OSError: disk full after 4 of 4 steps" in (out / INCOMPLETE).read_text()


# ------------------------------------------------------------------- faults
def test_artefact_failure_keeps_the_result_and_says_which(tmp_path, monkeypatch, capsys):
    import errno

    import sim.plots

    def full(ds, outdir):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sim.plots, "plot_run", full)
    out = tmp_path / "run"
    path = job.execute(sim.build(SMALL).cfg, out)
    assert path == out / RESULT and sim.load(out).sizes["step"] == 4
    assert not (out / INCOMPLETE).exists() and (out / "summary.txt").exists()
    captured = capsys.readouterr()
    assert captured.out.startswith(f"run folder: {out}\n")
    assert captured.err == (f"warning: figures not written (OSError: [Errno 28] No space left on device); "
                            f"{RESULT} is complete in {out}\n")


def test_a_log_file_that_cannot_take_a_failure_record_adds_nothing_on_the_terminal(tmp_path, capsys):
    """On a full disk the log file fails too: the terminal keeps its one line (on Python 3.13 the
    figures' longer traceback no longer fit the full-disk test's last page, and logging printed
    its own traceback)."""
    import errno
    import logging

    class Full:
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self):
            raise OSError(errno.ENOSPC, "No space left on device")

    handler = logging.FileHandler(tmp_path / "cli.log")
    handler.stream.close()
    handler.stream = Full()
    logging.getLogger().addHandler(handler)
    try:
        job._log_to_files(logging.WARNING, "figures not written", OSError(errno.ENOSPC, "No space left on device"))
    finally:
        logging.getLogger().removeHandler(handler)
    assert capsys.readouterr().err == ""
    assert logging.raiseExceptions
