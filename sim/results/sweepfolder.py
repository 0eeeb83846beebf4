"""A sweep folder's state: its design table and what each job folder says about its job.

A sweep folder (``python -m sim -m ...`` or :func:`sim.runner.sweep.run_jobs`) holds
``design.yaml`` (every job's number and override list, the launch's Hydra options and
the tool options, written before any job starts) and one folder per job, named by its
number, holding ``run.nc`` when (and only when) the job finished, or an ``INCOMPLETE``
marker saying why it did not (the run-folder protocol of :mod:`sim.results.runfolder`).
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import yaml

from .runfolder import INCOMPLETE, RESULT, publish, tmp_beside, write_text_atomic

#: The design table of a sweep folder.
DESIGN = "design.yaml"


# ----------------------------------------------------------------- design table
def write_design(sweep_dir: str | os.PathLike, jobs: list[list[str]], hydra_overrides: list[str] = (),
                 options: dict | None = None, exclusive: bool = False) -> Path:
    """Write the design table (job number -> overrides) of a sweep, atomically.

    ``exclusive``: the claim of a new sweep folder; if the folder holds a design table
    already (another sweep claimed it a moment earlier), :class:`RunFolderTaken` is raised
    and nothing is replaced.
    """
    data = {"jobs": [{"job": k, "overrides": list(job)} for k, job in enumerate(jobs)],
            "hydra_overrides": list(hydra_overrides), "options": dict(options or {})}
    Path(sweep_dir).mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, sort_keys=False)
    path = Path(sweep_dir) / DESIGN
    if not exclusive:
        return write_text_atomic(text, path)
    tmp = tmp_beside(path)
    tmp.write_text(text)
    return publish(tmp, path, overwrite=False)


def read_design(sweep_dir: str | os.PathLike) -> dict | None:
    path = Path(sweep_dir) / DESIGN
    return yaml.safe_load(path.read_text()) if path.exists() else None


def _job_overrides_from_folders(root: Path) -> list[tuple[int, list[str]]]:
    """(job, overrides) of the job folders below ``root`` (a sweep without design.yaml)."""
    out = []
    for p in root.iterdir():
        ov = p / ".hydra" / "overrides.yaml"
        if p.is_dir() and p.name.isdigit() and ov.exists():
            out.append((int(p.name), [str(o) for o in yaml.safe_load(ov.read_text()) or []]))
    return sorted(out)


# ---------------------------------------------------------------- job states
@dataclass
class JobState:
    """What a job folder says about its job."""

    job: int
    overrides: list[str]
    folder: Path
    status: str  # done, failed, interrupted, unfinished (killed or still running), not started
    exit_status: int | None = None
    error: str = ""
    log: str = ""

    @property
    def done(self) -> bool:
        return self.status == "done"


_INTERRUPTED = re.compile(r"interrupted by (SIG\w+)")


def job_state(folder: str | os.PathLike, job: int = -1, overrides: list[str] = ()) -> JobState:
    """Read a job folder: ``run.nc`` means done; otherwise ``INCOMPLETE`` says why not."""
    folder = Path(folder)
    state = JobState(job, list(overrides), folder, "not started", error="no attempt recorded")
    logs = sorted(folder.glob("*.log"))
    if (folder / RESULT).exists():
        state.status, state.exit_status, state.error = "done", 0, ""
        return state
    marker = folder / INCOMPLETE
    if not marker.exists():
        return state
    text = marker.read_text()
    first = text.splitlines()[0] if text else ""
    state.log = str(logs[0] if logs else marker)
    if first.startswith("This run did not finish: "):
        state.error = first.removeprefix("This run did not finish: ").rstrip(".")
        m = _INTERRUPTED.match(state.error)
        if m:
            state.status = "interrupted"
            state.exit_status = 130 if m.group(1) == "SIGINT" else 143
        else:
            state.status = "failed"
            state.exit_status = 2 if state.error.startswith("failed with ConfigError") else 1
    else:
        state.status = "unfinished"
        state.error = "killed or still running (no exit recorded)"
    state.log = str(marker) if state.status != "unfinished" else state.log
    return state


def failure_line(state: JobState) -> str:
    """One line on a job without a result: ``job 3 (scenario=baseline seed=3): failed with ...: ... (see LOG)``."""
    what = state.error if state.error.startswith(("failed", "interrupted")) else f"{state.status}: {state.error}"
    return f"job {state.job} ({' '.join(state.overrides)}): {what} (see {state.log or state.folder})"


def job_states(sweep_dir: str | os.PathLike) -> list[JobState]:
    """The state of every job of a sweep, in design order."""
    root = Path(sweep_dir)
    design = read_design(root)
    pairs = ([(j["job"], j["overrides"]) for j in design["jobs"]] if design
             else _job_overrides_from_folders(root))
    return [job_state(root / str(k), k, ov) for k, ov in pairs]


def running_elsewhere(folder: Path) -> str | None:
    """If the job in ``folder`` is still running on this host, say so (pid from its marker)."""
    marker = folder / INCOMPLETE
    if not marker.exists():
        return None
    m = re.search(r"pid (\d+), host (\S+?),", marker.read_text())
    if not m or m.group(2) != socket.gethostname():
        return None
    pid = int(m.group(1))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    try:  # a recycled pid belongs to another program
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    return f"pid {pid}" if "python" in cmd else None


def reset_unfinished(folder: Path) -> None:
    """Make an unfinished job's folder claimable again: keep its marker as ``INCOMPLETE.<k>``.

    Hidden temporary files of a killed write are removed; ``run.nc`` is never touched.
    """
    marker = folder / INCOMPLETE
    if marker.exists():
        k = 1
        while (folder / f"{INCOMPLETE}.{k}").exists():
            k += 1
        os.replace(marker, folder / f"{INCOMPLETE}.{k}")
    for tmp in folder.glob(f".{RESULT}.*.tmp"):
        tmp.unlink(missing_ok=True)
