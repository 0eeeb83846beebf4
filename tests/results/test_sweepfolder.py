"""sim.results.sweepfolder: the design table and what a job folder says about its job."""

from __future__ import annotations

import os
import socket

import pytest

from sim.results.runfolder import INCOMPLETE, RESULT, RunFolderTaken
from sim.results.sweepfolder import (
    failure_line,
    job_state,
    job_states,
    read_design,
    reset_unfinished,
    running_elsewhere,
    write_design,
)


def test_the_design_table_round_trips_and_claims_once(tmp_path):
    assert read_design(tmp_path) is None
    write_design(tmp_path, [["seed=0"], ["seed=1"]], ["hydra/launcher=joblib"], {"plots": False}, exclusive=True)
    design = read_design(tmp_path)
    assert design == {"jobs": [{"job": 0, "overrides": ["seed=0"]}, {"job": 1, "overrides": ["seed=1"]}],
                      "hydra_overrides": ["hydra/launcher=joblib"], "options": {"plots": False}}
    with pytest.raises(RunFolderTaken):
        write_design(tmp_path, [["seed=9"]], exclusive=True)
    write_design(tmp_path, [["seed=9"]])  # a resume rewrites it
    assert read_design(tmp_path)["jobs"] == [{"job": 0, "overrides": ["seed=9"]}]


@pytest.mark.parametrize("marker, status, exit_status, error", [
    (None, "not started", None, "no attempt recorded"),
    ("This run has not finished (or was killed): no run.nc yet.\n", "unfinished", None,
     "killed or still running (no exit recorded)"),
    ("This run did not finish: failed with ValueError: bad after 2 of 4 steps.\nNo run.nc\n", "failed", 1,
     "failed with ValueError: bad after 2 of 4 steps"),
    ("This run did not finish: failed with ConfigError: x = 2.\n", "failed", 2, "failed with ConfigError: x = 2"),
    ("This run did not finish: interrupted by SIGTERM after 1 of 4 steps.\n", "interrupted", 143,
     "interrupted by SIGTERM after 1 of 4 steps"),
    ("This run did not finish: interrupted by SIGINT.\n", "interrupted", 130, "interrupted by SIGINT"),
])
def test_a_job_folder_says_what_happened(tmp_path, marker, status, exit_status, error):
    folder = tmp_path / "3"
    folder.mkdir()
    if marker is not None:
        (folder / INCOMPLETE).write_text(marker)
    state = job_state(folder, 3, ["seed=3"])
    assert (state.status, state.exit_status, state.error, state.done) == (status, exit_status, error, False)
    line = failure_line(state)
    assert line.startswith("job 3 (seed=3): ") and f"{status}: {status}" not in line and "failed: failed" not in line


def test_run_nc_means_done_whatever_else_is_there(tmp_path):
    (tmp_path / INCOMPLETE).write_text("This run did not finish: failed with X: y.\n")
    (tmp_path / RESULT).write_text("")
    state = job_state(tmp_path, 0)
    assert state.done and state.exit_status == 0 and state.error == ""


def test_job_states_follow_the_design_or_the_folders(tmp_path):
    write_design(tmp_path, [["seed=0"], ["seed=1"]])
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / RESULT).write_text("")
    assert [(s.job, s.status) for s in job_states(tmp_path)] == [(0, "done"), (1, "not started")]
    legacy = tmp_path / "legacy"  # without design.yaml: the job folders' .hydra/overrides.yaml
    for k in (1, 0):
        (legacy / str(k) / ".hydra").mkdir(parents=True)
        (legacy / str(k) / ".hydra" / "overrides.yaml").write_text(f"- seed={k}\n")
    assert [(s.job, s.overrides) for s in job_states(legacy)] == [(0, ["seed=0"]), (1, ["seed=1"])]


def test_an_unfinished_job_is_reset_keeping_its_marker(tmp_path):
    (tmp_path / INCOMPLETE).write_text("first attempt")
    (tmp_path / f"{INCOMPLETE}.1").write_text("an older attempt")
    (tmp_path / f".{RESULT}.abc.tmp").write_text("half written")
    reset_unfinished(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{INCOMPLETE}.1", f"{INCOMPLETE}.2"]
    assert (tmp_path / f"{INCOMPLETE}.2").read_text() == "first attempt"


def test_running_elsewhere_finds_a_live_python_process_on_this_host(tmp_path):
    host = socket.gethostname()
    (tmp_path / INCOMPLETE).write_text(f"started x, pid {os.getpid()}, host {host}, 4 steps\n")
    assert running_elsewhere(tmp_path) == f"pid {os.getpid()}"
    (tmp_path / INCOMPLETE).write_text(f"started x, pid {os.getpid()}, host another-{host}, 4 steps\n")
    assert running_elsewhere(tmp_path) is None  # another host: cannot tell
    (tmp_path / INCOMPLETE).write_text(f"started x, pid 999999999, host {host}, 4 steps\n")
    assert running_elsewhere(tmp_path) is None  # no such process
