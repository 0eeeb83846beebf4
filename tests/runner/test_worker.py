"""A sweep's workers (sim.runner.worker): launcher jobs that share the sweep's jobs, each run once.

In-process: a worker skips what is finished or claimed, goes on after a failure, stops at an
interrupt. For real: a joblib sweep's workers, the files they leave (only what a sweep needs)
and the log lines the benchmark reads.
"""

from __future__ import annotations

import re
import signal

import numpy as np
import pytest

import sim
from sim.model import CustomerModel
from sim.results.runfolder import INCOMPLETE, RESULT, claim_folder
from sim.results.sweepfolder import job_states, write_design
from sim.runner.guard import RunInterrupted
from sim.runner.worker import run_jobs_of

SMALL = ["scenario=baseline", "customers.n=300", "steps=6"]


def _design(root, seeds):
    jobs = [[*SMALL, f"seed={s}"] for s in seeds]
    write_design(root, jobs)
    return jobs


def test_a_worker_runs_what_is_left_and_skips_finished_and_claimed_jobs(tmp_path):
    root = tmp_path / "sw"
    jobs = _design(root, range(4))
    claim_folder(root / "1", "another worker's job\n")  # being run by another worker
    (root / "2").mkdir()
    (root / "2" / RESULT).write_bytes(b"finished earlier")  # done: not read, not touched
    assert run_jobs_of(root, jobs) == 0
    for k in (0, 3):
        np.testing.assert_array_equal(sim.load(root / str(k)).customers.values,
                                      sim.run(jobs[k]).customers.values)
        assert sorted(p.name for p in (root / str(k)).iterdir()) == [RESULT, "sim.log"]
    assert (root / "1" / INCOMPLETE).read_text().endswith("another worker's job\n")
    assert not (root / "1" / RESULT).exists()
    assert (root / "2" / RESULT).read_bytes() == b"finished earlier"


def test_a_failing_job_is_recorded_and_the_worker_goes_on(tmp_path, monkeypatch):
    root = tmp_path / "sw"
    jobs = _design(root, range(3))
    step = CustomerModel.step

    def failing(self):
        if self.cfg.seed == 1 and self.recorder.filled == 2:
            raise FloatingPointError("injected in step 3")
        step(self)

    monkeypatch.setattr(CustomerModel, "step", failing)
    assert run_jobs_of(root, jobs) == 1
    states = {s.job: s for s in job_states(root)}
    assert [states[k].status for k in range(3)] == ["done", "failed", "done"]
    assert "FloatingPointError: injected in step 3" in states[1].error
    assert "Traceback" in (root / "1" / INCOMPLETE).read_text()


def test_an_interrupt_stops_the_job_in_hand_and_the_worker(tmp_path, monkeypatch):
    root = tmp_path / "sw"
    jobs = _design(root, range(3))
    step = CustomerModel.step

    def interrupted(self):
        if self.cfg.seed == 1 and self.recorder.filled == 2:
            raise RunInterrupted(signal.SIGTERM)
        step(self)

    monkeypatch.setattr(CustomerModel, "step", interrupted)
    with pytest.raises(RunInterrupted):
        run_jobs_of(root, jobs)
    assert (root / "0" / RESULT).exists()
    marker = (root / "1" / INCOMPLETE).read_text()
    assert "interrupted by SIGTERM after 2 of 6 steps" in marker and not (root / "1" / RESULT).exists()
    assert not (root / "2").exists()  # never started: a resume runs it
    assert [s.status for s in job_states(root)] == ["done", "interrupted", "not started"]


def test_a_job_whose_config_no_longer_composes_is_recorded_as_failed(tmp_path):
    root = tmp_path / "sw"
    jobs = _design(root, range(2))
    jobs[1] = [*SMALL, "seed=-3"]  # the driver checked the design; here the worker finds it bad
    assert run_jobs_of(root, jobs) == 1
    assert (root / "0" / RESULT).exists()
    assert "failed with ConfigError: seed = -3 is out of range" in (root / "1" / INCOMPLETE).read_text()


def test_a_sweep_runs_its_jobs_in_its_workers_each_job_once(tmp_path):
    from sim.runner.sweep import launch

    jobs = [[*SMALL, f"seed={s}"] for s in range(7)]
    from joblib import cpu_count

    result = launch(jobs, tmp_path / "sw", progress=False)
    assert result.workers == min(cpu_count(), 7)  # joblib on every core: a launcher job per core, not per job
    assert [s.status for s in result.states] == ["done"] * 7
    # the sweep folder holds the design, the merge, the failures list and the job folders: no log or
    # .hydra/ of the launcher jobs
    assert sorted(p.name for p in (tmp_path / "sw").iterdir()) == \
        sorted(["design.yaml", "sweep.nc", "failures.yaml", *map(str, range(7))])
    starts = re.compile(r"^\[[\d\-: ,]+\]\[sim\]\[INFO\] - scenario baseline, seed (\d+), 300 customers, 6 steps")
    timed = re.compile(r"^\[[\d\-: ,]+\]\[sim\]\[INFO\] - (set-up \(population drawn, burn-in\)|run \(6 steps\)|"
                       r"writing run\.nc) \d+\.\d{3} s$")
    for k in range(7):
        lines = (tmp_path / "sw" / str(k) / "sim.log").read_text().splitlines()
        assert [int(m.group(1)) for m in map(starts.match, lines) if m] == [k]  # run once, by one worker
        assert len([ln for ln in lines if timed.match(ln)]) == 3, lines


def test_the_command_line_stops_its_idle_workers_before_it_exits(tmp_path):
    """At exit the interpreter would wait for each idle worker to finalise: stopped at once instead."""
    import os

    from sim.runner.sweep import launch, stop_idle_workers

    launch([[*SMALL, f"seed={s}"] for s in range(2)], tmp_path / "sw", progress=False)
    from joblib.externals.loky import reusable_executor

    pids = list(reusable_executor._executor._processes)
    assert pids and all(_alive(pid) for pid in pids)  # kept for the next sweep of this session
    stop_idle_workers()
    assert not any(_alive(pid) for pid in pids)
    assert os.getpid() not in pids


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
