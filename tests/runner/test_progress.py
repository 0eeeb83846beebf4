"""Progress: a bar over the steps of an interactive run (stdout a terminal), silent otherwise or with
progress=false; one line per finished job of a sweep (see also tests/test_sweep.py)."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.runner import cli
from sim.runner.progress import SweepMonitor

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, NUMBA_NUM_THREADS="2", PYTHONPATH=str(ROOT))
RUN = ["scenario=baseline", "customers.n=2000", "steps=30"]


def _run_on_terminal(args: list[str]) -> tuple[int, str, str]:
    """Run ``python -m sim`` with stdout on a pseudo-terminal; return (status, stdout, stderr)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=ROOT, env=ENV, stdout=follower,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        out += chunk
    err = proc.stderr.read().decode()
    proc.wait(timeout=300)
    os.close(leader)
    return proc.returncode, out.decode(errors="replace"), err


def test_interactive_run_shows_a_bar_over_steps(tmp_path):
    code, out, err = _run_on_terminal([*RUN, "plots=false", f"hydra.run.dir={tmp_path / 'a'}"])
    assert code == 0, err
    assert "/30 [" in err and "step/s" in err, err  # tqdm's bar on stderr (cleared at the end)
    assert (tmp_path / "a" / "run.nc").exists() and not list((tmp_path / "a").glob("*.png"))  # plots=false


def test_progress_false_and_non_terminal_runs_are_silent(tmp_path):
    code, out, err = _run_on_terminal([*RUN, "plots=false", "progress=false", f"hydra.run.dir={tmp_path / 'b'}"])
    assert code == 0 and "30/30" not in err and "|" not in err, err
    proc = subprocess.run([sys.executable, "-m", "sim", *RUN, "plots=false", f"hydra.run.dir={tmp_path / 'c'}"],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "results:" in proc.stdout


def test_single_run_keeps_its_plots_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["sim"])
    cli.main([*RUN[:1], "customers.n=500", "steps=4", f"hydra.run.dir={tmp_path / 'd'}"])
    assert list((tmp_path / "d").glob("*.png")), "a single run writes its plots"
    assert "results:" in capsys.readouterr().out


def test_sweep_monitor_prints_a_line_per_finished_job(tmp_path):
    folders = [tmp_path / str(k) for k in range(4)]
    for f in folders:
        f.mkdir()
    stream = io.StringIO()
    mon = SweepMonitor(folders, total=5, done_before=1, stream=stream, interval=3600)
    mon.poll()
    assert stream.getvalue() == ""
    sim.run(["scenario=baseline", "customers.n=100", "steps=2"]).to_netcdf(folders[0] / "run.nc")
    (folders[2] / "INCOMPLETE").write_text("This run did not finish: failed with ValueError: x.\n")
    (folders[3] / "INCOMPLETE").write_text("This run has not finished (or was killed): no run.nc yet.\n")
    mon.poll()
    line = stream.getvalue().strip()
    # four jobs were seen running at once, two have finished: no estimate before a full round
    assert line.startswith("sweep: 2/5 done, 1 failed, 0:00:0") and line.endswith("elapsed")
    mon.poll()
    assert stream.getvalue().count("\n") == 1  # nothing new, no new line


def test_the_time_left_leaves_out_the_start_up(tmp_path):
    """The issue's sweep: 200 jobs, 2 workers, about 10 s of start-up before the first job and 1.7 s a job
    afterwards; the first progress line said "about 0:37:16 left" for a sweep of 3 minutes."""
    now = [0.0]
    folders = [tmp_path / str(k) for k in range(200)]
    stream = io.StringIO()
    mon = SweepMonitor(folders, total=200, stream=stream, interval=3600, clock=lambda: now[0])
    startup, per_job = 10.0, 1.7
    for k in range(0, 200, 2):  # the workers take two jobs at a time
        now[0] = startup + per_job * k / 2
        for j in (k, k + 1):
            folders[j].mkdir()
        mon.poll()
        now[0] += per_job
        for j in (k, k + 1):
            (folders[j] / "run.nc").write_text("")
        mon.poll()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 100 and lines[-1].startswith("sweep: 200/200 done")
    first = lines[0]  # two jobs done at 11.7 s, 198 left: 198 x 1.7 / 2 = 168 s
    assert first.startswith("sweep: 2/200 done, 0:00:12 elapsed, about 0:02:48 left"), first
    for k, line in enumerate(lines[:-1]):
        left = 198 - 2 * k
        h, m, sec = map(int, line.split("about ")[1].split(" left")[0].split(":"))
        assert abs(3600 * h + 60 * m + sec - left * per_job / 2) <= 1, line


@pytest.mark.parametrize("value", ["yes", "off"])
def test_tool_options_accept_yes_and_off(value):
    assert cli._bool_option("plots", value) is (value == "yes")
