"""The command line: bad input exits 2 with one line before any output; runs never overwrite
earlier results; an interrupted or failing run leaves no run.nc and an INCOMPLETE marker.

Most error classes are checked in-process through :func:`sim.runner.cli.main` (fast); a
few end-to-end cases run ``python -m sim`` in a subprocess, including runs killed
part-way with SIGINT, SIGTERM and SIGKILL.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sim
from sim.results import memory as guard
from sim.results.runfolder import INCOMPLETE, RESULT
from sim.runner import cli, job

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["scenario=baseline", "customers.n=1000", "steps=4"]
ENV = dict(os.environ, NUMBA_NUM_THREADS="2", PYTHONPATH=str(ROOT))


@pytest.fixture()
def in_tmp(tmp_path, monkeypatch):
    """Run main() from an empty folder (so default results/ would land there) with sys.argv restored."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["sim"])
    return tmp_path


def exit_of(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    err = capsys.readouterr().err
    return info.value.code, err


def assert_one_line_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0].removeprefix("error: ")


# --------------------------------------------------------- bad input: exit 2
@pytest.mark.parametrize("overrides, expected", [
    (["market.contact_rat=0.1"], "market.contact_rat: unknown field (did you mean market.contact_rate?)"),
    (["market.contact_rate=abc"], "market.contact_rate = 'abc' must be a number in [0, 1]"),
    (["market.contact_rate=2"], "market.contact_rate = 2.0 is out of range: allowed [0, 1]"),
    (["customers.segments.natives.share=0.6"], "customers.segments.*.share sum to 1.1"),
    (["scenario=nope"], "scenario = 'nope': no such scenario; allowed: "),
    (["--seed", "3"], "--seed: not an option; overrides are written KEY=VALUE without dashes: seed=3"),
    (["--seed=3"], "--seed=3: not an option; overrides are written KEY=VALUE without dashes: seed=3"),
    ([f"~firms.{f}" for f in ("neither", "digital_only", "human_only", "both")], "firms is empty"),
    (["customers.n=0"], "customers.n = 0 is out of range: allowed [1, 100000000]"),
    (["baseline"], "baseline: not an override"),
    (["+firms.x._target_=os.system"], "firms.x._target_: unknown field"),
    (["--config-dir=/tmp"], "--config-dir is not supported"),
    (["hydra.run.dir=/nonexistent/x", "market.contact_rate=-1"],
     "market.contact_rate = -1.0 is out of range"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(in_tmp, capsys, overrides, expected):
    code, err = exit_of([*SMALL, *overrides], capsys)
    assert code == 2
    assert assert_one_line_error(err).startswith(expected)
    assert list(in_tmp.iterdir()) == [], "something was written before the error"


def test_multirun_bad_job_exits_2_before_any_job_runs(in_tmp, capsys):
    code, err = exit_of(["-m", *SMALL, "seed=0,1", "market.contact_rate=0.5,abc"], capsys)
    assert code == 2
    msg = assert_one_line_error(err)
    assert re.match(r"job [0-9] \(.*market.contact_rate=abc.*\): "
                    r"market.contact_rate = 'abc' must be a number", msg)
    assert list(in_tmp.iterdir()) == []


def test_multirun_missing_scenario_in_sweep(in_tmp, capsys):
    code, err = exit_of(["-m", "scenario=baseline,nope", "customers.n=1000", "steps=4"], capsys)
    assert code == 2 and "job 1 (scenario=nope" in assert_one_line_error(err)


def test_memory_guard_exits_2_naming_estimate_and_limit(in_tmp, capsys, monkeypatch):
    monkeypatch.setattr(guard, "available_bytes", lambda: (200 * 2**20, "MemAvailable"))
    code, err = exit_of(["scenario=baseline", "customers.n=5000000", "steps=4"], capsys)
    assert code == 2
    msg = assert_one_line_error(err)
    assert re.match(r"customers.n = 5000000 needs about 0\.\d\d GiB .* more than the 0\.16 GiB limit "
                    r"\(80% of 0\.20 GiB MemAvailable\): allowed customers.n up to about \d+", msg), msg
    assert list(in_tmp.iterdir()) == []


def test_explicit_folder_holding_files_is_refused(in_tmp, capsys):
    folder = in_tmp / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my earlier work")
    code, err = exit_of([*SMALL, f"hydra.run.dir={folder}"], capsys)
    assert code == 2
    assert "already holds files" in assert_one_line_error(err)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    code, err = exit_of(["-m", *SMALL, "seed=0,1", f"hydra.sweep.dir={folder}"], capsys)
    assert code == 2 and "hydra.sweep.dir" in assert_one_line_error(err)


def test_taken_default_folder_gets_a_suffix(in_tmp):
    first = cli.prepare(list(SMALL))
    run_dir = Path(next(a for a in first if a.startswith("hydra.run.dir=")).split("=", 1)[1])
    assert run_dir.parts[0] == "results" and run_dir.parts[1] == "baseline"
    run_dir.mkdir(parents=True)
    (run_dir / RESULT).write_text("an earlier result")
    second = cli.prepare(list(SMALL))
    other = Path(next(a for a in second if a.startswith("hydra.run.dir=")).split("=", 1)[1])
    assert other != run_dir and not other.exists()
    if other.name.startswith(run_dir.name):  # same second: suffixed
        assert other.name == run_dir.name + "_2"


def test_prepare_pins_sweep_folder_and_keeps_overrides(in_tmp):
    argv = cli.prepare(["-m", *SMALL, "seed=0,1"])
    assert argv[0] == "-m" and "seed=0,1" in argv
    assert any(a.startswith("hydra.sweep.dir=results/multirun/") for a in argv)


def test_a_sweep_takes_the_default_launchers_options(in_tmp, capsys):
    """``hydra.launcher.n_jobs=N`` without ``hydra/launcher=joblib`` (the default launcher) was refused as
    "hydra: unknown field": the check composed the jobs without the launcher the sweep runs with."""
    argv = cli.prepare(["-m", *SMALL, "seed=0,1", "hydra.launcher.n_jobs=1"])
    assert "hydra.launcher.n_jobs=1" in argv
    code, err = exit_of(["-m", *SMALL, "seed=0,1", "hydra.launcher.n_jobz=1"], capsys)
    assert code == 2 and assert_one_line_error(err).endswith(
        "hydra.launcher.n_jobz: unknown Hydra setting (of Hydra or of the chosen launcher, hydra/launcher=...)")
    code, err = exit_of(["-m", *SMALL, "seed=0,1", "hydra.launcher.n_jobs=abc"], capsys)
    assert code == 2 and assert_one_line_error(err).endswith(
        "hydra.launcher.n_jobs: Value 'abc' of type 'str' could not be converted to Integer")


def test_info_flags_pass_through(in_tmp, capsys, monkeypatch):
    called = []
    monkeypatch.setattr(cli, "hydra_main", lambda: called.append(list(sys.argv)))
    cli.main(["--cfg", "hydra", "market.contact_rat=1"])  # Hydra reports; nothing runs
    assert called == [["sim", "--cfg", "hydra", "market.contact_rat=1"]]


def test_cfg_job_shows_what_will_run(in_tmp, capsys):
    cli.main(["--cfg", "job", "customers.n=500"])
    out = capsys.readouterr().out
    assert "\nscenario: disruptor\n" in out and "  'n': 500\n" in out
    assert out == sim.dataset(sim.build(["customers.n=500", "steps=1"])).attrs["config"].replace(
        "steps: 1\n", "steps: 120\n")
    code, err = exit_of(["--cfg", "job", "market.contact_rat=1"], capsys)
    assert code == 2 and assert_one_line_error(err).startswith("market.contact_rat: unknown field")


def test_version_names_the_project_and_its_libraries(capsys):
    cli.main(["--version"])
    out = capsys.readouterr().out
    assert re.fullmatch(r"customer-sim \S+ \(mesa 3\.\S+, numpy \S+, numba \S+, xarray \S+, hydra-core 1\.3\.\S+\)\n",
                        out), out


def test_help_anywhere_names_scenarios_their_firms_and_integer_ranges(capsys):
    cli.main(["scenario=baseline", "--help"])
    out = capsys.readouterr().out
    assert "  disruptor\n" in out
    assert "    firms: neither, digital_only, human_only, both, disruptor\n" in out
    assert "  seed = 0  [0, 9223372036854775807]" in out and "  customers.n = 100000  [1, 100000000]" in out
    assert "e+" not in out


# --------------------------------------------------------------- subprocess
def _sim(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=300, **kw)


def test_subprocess_bad_override_exit_2_one_line(tmp_path):
    proc = _sim([*SMALL, "market.contact_rat=0.1", f"hydra.run.dir={tmp_path / 'x'}"])
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: market.contact_rat: unknown field")
    assert proc.stdout == ""
    assert not (tmp_path / "x").exists()


def test_subprocess_run_then_rerun_is_refused(tmp_path):
    out = tmp_path / "run"
    proc = _sim([*SMALL, f"hydra.run.dir={out}"])
    assert proc.returncode == 0, proc.stderr
    assert (out / RESULT).exists() and not (out / INCOMPLETE).exists()
    before = (out / RESULT).stat()
    proc = _sim([*SMALL, "seed=9", f"hydra.run.dir={out}"])
    assert proc.returncode == 2
    assert "already holds files" in proc.stderr and proc.stderr.count("\n") == 1
    after = (out / RESULT).stat()
    assert (after.st_mtime_ns, after.st_size, after.st_ino) == \
        (before.st_mtime_ns, before.st_size, before.st_ino)


def test_subprocess_multirun_bad_job_exit_2_no_results(tmp_path):
    proc = _sim(["-m", *SMALL, "seed=0,1", "customers.n=1000,0", f"hydra.sweep.dir={tmp_path / 'sw'}"])
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "customers.n = 0 is out of range" in proc.stderr
    assert not (tmp_path / "sw").exists()


LONG = ["scenario=baseline", "customers.n=300000", "steps=3000"]


def _start_long(out: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "sim", *LONG, f"hydra.run.dir={out}"], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "config.yaml").exists():  # the run has claimed its folder and started
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "run did not start"
        time.sleep(0.1)
    time.sleep(2.0)  # well into the steps
    assert proc.poll() is None
    return proc


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_run_leaves_no_result_and_says_why(tmp_path, sig, code):
    out = tmp_path / "run"
    proc = _start_long(out)
    proc.send_signal(sig)
    stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    name = signal.Signals(sig).name
    assert err.strip().splitlines()[-1] == \
        f"error: interrupted by {name}: no run.nc written (see {out / INCOMPLETE})"
    assert stdout.startswith(f"run folder: {out}\n")
    assert not (out / RESULT).exists()
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))
    text = (out / INCOMPLETE).read_text()
    m = re.match(rf"This run did not finish: interrupted by {name} after (\d+) of 3000 steps", text)
    assert m and int(m.group(1)) < 3000, text


def test_killed_run_leaves_incomplete_marker(tmp_path):
    out = tmp_path / "run"
    proc = _start_long(out)
    proc.kill()
    proc.communicate(timeout=60)
    assert not (out / RESULT).exists()
    assert (out / INCOMPLETE).read_text().startswith("This run has not finished (or was killed)")
    proc = _sim(["scenario=baseline", "customers.n=1000", "steps=2", f"hydra.run.dir={out}"])
    assert proc.returncode == 2 and "already holds files" in proc.stderr


def test_failed_run_prints_one_line_naming_cause_and_folder(in_tmp, monkeypatch, capsys):
    from sim.model import CustomerModel

    def failing(self):
        raise FloatingPointError("boom")

    monkeypatch.setattr(CustomerModel, "step", failing)
    out = in_tmp / "run"
    code, err = exit_of([*SMALL, f"hydra.run.dir={out}"], capsys)
    assert code == 1
    assert assert_one_line_error(err) == (f"the run failed with FloatingPointError: boom; no {RESULT} written in "
                                          f"{out} (the traceback is in {out / INCOMPLETE})")
    assert "Traceback" in (out / INCOMPLETE).read_text()
    assert "Traceback" in (out / "sim.log").read_text()


def test_load_of_an_unfinished_run_quotes_incomplete(tmp_path):
    from sim.results.runfolder import claim_folder, mark_incomplete

    claim_folder(tmp_path / "run")
    mark_incomplete(tmp_path / "run", "interrupted by SIGINT after 3 of 4 steps")
    with pytest.raises(FileNotFoundError, match=r"run: an unfinished run \(no run.nc\); its INCOMPLETE says: "
                                                r"This run did not finish: interrupted by SIGINT after 3 of 4"):
        sim.load(tmp_path / "run")
    with pytest.raises(FileNotFoundError, match="no such folder"):
        sim.load(tmp_path / "nothing")


def _tmpfs(path: Path, size: str):
    path.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if proc.returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")


@pytest.mark.parametrize("size, code", [("300k", 0), ("48k", 1)])
def test_full_disk_on_a_small_filesystem(tmp_path, size, code):
    """300 kB: run.nc fits, the figures do not: run.nc kept, one warning. 48 kB: run.nc does not
    fit: exit 1, one line naming the cause and the folder, INCOMPLETE kept."""
    mnt = tmp_path / "mnt"
    _tmpfs(mnt, size)
    try:
        out = mnt / "run"
        proc = _sim(["scenario=baseline", "customers.n=2000", "steps=5", f"hydra.run.dir={out}"])
        assert proc.returncode == code, proc.stderr
        lines = proc.stderr.splitlines()
        assert len(lines) == 1, proc.stderr
        if code == 0:
            assert lines[0].startswith("warning: figures not written (OSError: [Errno 28] No space left on device)")
            assert sim.load(out).sizes["step"] == 5
            assert not (out / INCOMPLETE).exists()
        else:
            assert lines[0] == (f"error: the run failed with OSError: [Errno 28] No space left on device; no "
                                f"{RESULT} written in {out} (the traceback is in {out / INCOMPLETE})")
            assert not (out / RESULT).exists() and (out / INCOMPLETE).exists()
            assert not list(out.glob(".*.tmp"))
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("verbose", [False, True])
def test_log_holds_what_a_user_wants_and_no_library_debug(tmp_path, verbose):
    out = tmp_path / "run"
    args = ["customers.n=1000", "steps=3", f"hydra.run.dir={out}"] + (["hydra.verbose=true"] if verbose else [])
    proc = _sim(args)
    assert proc.returncode == 0, proc.stderr
    log = (out / "sim.log").read_text()
    for needle in ("scenario disruptor, seed 0, 1000 customers, 3 steps", f"folder {out}", "set-up",
                   "run (3 steps)", "writing run.nc", "writing figures",
                   "[WARNING] - firms.disruptor.enter_step = 36 is after the horizon"):
        assert needle in log, (needle, log)
    assert "[matplotlib" not in log and "[h5py" not in log and "[PIL" not in log
    assert len(log) < 5000
    # the terminal: the folder first, the warning once, no INFO lines
    assert proc.stdout.startswith(f"run folder: {out}\n") and "[INFO]" not in proc.stdout + proc.stderr or verbose
    assert (proc.stdout + proc.stderr).count("is after the horizon") == 1


def test_a_single_run_is_composed_and_validated_once(tmp_path, monkeypatch):
    """main() composes and checks the config; the job runs that config instead of converting Hydra's
    composition again (the conversion would validate it a second time)."""
    monkeypatch.chdir(tmp_path)
    calls = []
    real = job.from_dictconfig

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(job, "from_dictconfig", counting)
    cli.main(["scenario=baseline", "customers.n=500", "steps=2", "plots=false", f"hydra.run.dir={tmp_path / 'r'}"])
    assert (tmp_path / "r" / RESULT).exists()
    assert calls == [], "the job converted Hydra's composition again"


# ------------------------------------------------------- run folders that never collide
FAULT = ROOT / "tests" / "fault"


def test_two_runs_started_in_the_same_second_get_two_folders(tmp_path):
    """Before: both picked the same default folder; one was refused as "an unfinished run" and still wrote
    its .hydra/ record over the other's (.hydra said seed 1, run.nc seed 2)."""
    env = dict(ENV, PYTHONPATH=f"{FAULT}{os.pathsep}{ROOT}", SIM_TEST_NOW="2026-01-02T03:04:05")
    procs = [subprocess.Popen([sys.executable, "-m", "sim", *SMALL, f"seed={seed}", "plots=false"], cwd=tmp_path,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for seed in (1, 2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    base = tmp_path / "results" / "baseline"
    folders = sorted(p.name for p in base.iterdir())
    assert folders == ["2026-01-02_03-04-05", "2026-01-02_03-04-05_2"]
    seeds = set()
    for name in folders:
        ds = sim.load(base / name)
        overrides = (base / name / ".hydra" / "overrides.yaml").read_text()
        assert f"seed={ds.attrs['seed']}" in overrides  # each record is its own run's
        assert not (base / name / INCOMPLETE).exists()
        seeds.add(ds.attrs["seed"])
    assert seeds == {1, 2}


def test_a_refused_run_writes_nothing_anywhere(in_tmp, capsys):
    folder = in_tmp / "done"
    cli.main([*SMALL, f"hydra.run.dir={folder}", "plots=false"])
    assert (folder / RESULT).exists() and (folder / ".hydra" / "overrides.yaml").exists()
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    code, err = exit_of([*SMALL, "seed=5", f"hydra.run.dir={folder}"], capsys)
    assert code == 2 and "already holds files" in assert_one_line_error(err)
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before  # .hydra/ and the log untouched
    assert sorted(p.name for p in in_tmp.iterdir()) == ["done"]


@pytest.mark.parametrize("where", ["/proc/nope", "{tmp}/a_file/x", "/sys/nope"])
@pytest.mark.parametrize("multirun", [False, True])
def test_an_unwritable_output_folder_is_one_line_and_exit_2(in_tmp, capsys, where, multirun):
    (in_tmp / "a_file").write_text("a file, not a folder")
    path = where.format(tmp=in_tmp)
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    code, err = exit_of([*(["-m", "seed=0,1"] if multirun else []), *SMALL, f"{key}={path}"], capsys)
    msg = assert_one_line_error(err)
    assert code == 2 and msg.startswith(f"{key} = '{path}': the folder cannot be created (")
    assert sorted(p.name for p in in_tmp.iterdir()) == ["a_file"]


def test_a_read_only_file_system_is_one_line(in_tmp, capsys, monkeypatch):
    import errno

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    code, err = exit_of([*SMALL, f"hydra.run.dir={in_tmp / 'ro'}"], capsys)
    assert code == 2 and "the folder cannot be created (Read-only file system)" in assert_one_line_error(err)


def test_a_python_process_crash_in_hydra_does_not_hide_the_claim(in_tmp, capsys, monkeypatch):
    """The folder is claimed (with its INCOMPLETE marker) before Hydra starts: a run that dies before
    it computes anything leaves a folder that says so, not one that looks empty."""
    monkeypatch.setattr(cli, "hydra_main", lambda: (_ for _ in ()).throw(KeyboardInterrupt()))
    code, err = exit_of([*SMALL, f"hydra.run.dir={in_tmp / 'r'}"], capsys)
    assert code == 130 and (in_tmp / "r" / INCOMPLETE).read_text().startswith("This run has not finished")


def test_a_bad_sweep_job_is_named_by_its_settings_not_by_hydra_options(in_tmp, capsys):
    """The error line listed hydra.sweep.dir=... as if it were one of the job's settings."""
    code, err = exit_of(["-m", "seed=0,1", "customers.n=-5", f"hydra.sweep.dir={in_tmp / 'sw'}",
                         "hydra/launcher=joblib"], capsys)
    msg = assert_one_line_error(err)
    assert code == 2 and msg.startswith("job 0 (seed=0 customers.n=-5): customers.n = -5 is out of range"), msg
    assert "hydra" not in msg and not (in_tmp / "sw").exists()
