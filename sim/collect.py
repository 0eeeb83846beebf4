"""Merge a sweep's job folders into one labelled Dataset: ``python -m sim.collect SWEEP_DIR``.

A sweep folder (``python -m sim -m ...`` or :func:`sim.sweep.run_jobs`) holds

* ``design.yaml``: the design table written before any job starts: every job's
  number and override list, the Hydra options of the launch (launcher...), the
  tool options (``plots``);
* one folder per job, named by its number, holding ``run.nc`` when (and only when)
  the job finished, or an ``INCOMPLETE`` marker saying why it did not;
* after the merge: ``sweep.nc`` (or ``sweep.zarr`` above :data:`ZARR_THRESHOLD`
  bytes, or on request) and ``failures.yaml``.

The merge reads the job folders from disk, so it also works after some jobs
failed, after the driver was killed, and while a cluster sweep is still running.
The merged Dataset has one dimension per swept factor (an override whose value
differs between jobs: ``scenario``, ``seed``, ``firms.both.price``...) when the
design is a full grid, with the swept values as coordinates in the order of the
sweep; otherwise (a sampled design) one ``run`` dimension with the factors as
coordinates along it. Firms and segments keep the order in which the scenarios
list them; integer variables stay integers, with :data:`INT_FILL` where a firm is
absent or a job has no result; each run's attributes that differ between runs
(``config``, ``seed``, ``scenario``...) become ``run_<name>`` variables, the
common ones stay attributes. The design table is stored along a ``job``
dimension (``job_overrides``, ``job_status``, ``job_exit_status``, ``job_error``,
``job_log``); ``job_number`` maps each cell to its job.

``python -m sim.collect --resume SWEEP_DIR`` reruns the jobs without ``run.nc``
(through the launcher recorded in the design) and then merges.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from .output import load
from .runfolder import INCOMPLETE, RESULT, publish, write_netcdf_tmp, write_text_atomic

#: The design table of a sweep folder.
DESIGN = "design.yaml"
#: The merged result (netCDF), and its Zarr form for big sweeps.
MERGED_NC = "sweep.nc"
MERGED_ZARR = "sweep.zarr"
#: Failed and unfinished jobs, written by every merge.
FAILURES = "failures.yaml"
#: Estimated size of the merged Dataset above which it is written as Zarr (2 GiB):
#: a netCDF file of that size is written in one piece, a Zarr store in chunks.
ZARR_THRESHOLD = 2 * 1024**3
#: Fill value of integer variables (``customers``, ``alive``, ``quadrant``...) where a
#: firm is absent from a scenario or a job has no result.
INT_FILL = -1


# ----------------------------------------------------------------- design table
def write_design(sweep_dir: str | os.PathLike, jobs: list[list[str]], hydra_overrides: list[str] = (),
                 options: dict | None = None) -> Path:
    """Write the design table (job number -> overrides) of a sweep, atomically."""
    data = {"jobs": [{"job": k, "overrides": list(job)} for k, job in enumerate(jobs)],
            "hydra_overrides": list(hydra_overrides), "options": dict(options or {})}
    Path(sweep_dir).mkdir(parents=True, exist_ok=True)
    return write_text_atomic(yaml.safe_dump(data, sort_keys=False), Path(sweep_dir) / DESIGN)


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


# ----------------------------------------------------------------- factors
def _value(text: str):
    try:
        return yaml.safe_load(text) if text != "" else ""
    except yaml.YAMLError:
        return text


def parse_overrides(overrides: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in overrides:
        key, _, value = str(item).partition("=")
        out[key.lstrip("+~")] = _value(value)
    return out


def _coord(values: list) -> np.ndarray:
    """Swept values as a coordinate: int64, float64 or strings."""
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.float64)
    return np.array([v if isinstance(v, str) else yaml.safe_dump(v, default_flow_style=True).strip()
                     for v in values], dtype=object)


def factors_of(jobs: list[list[str]]) -> tuple[list[str], dict[str, list], list[dict], dict]:
    """Swept factors (keys whose values differ between jobs), in first-seen order, their values
    in sweep order, each job's factor values, and the overrides shared by every job."""
    parsed = [parse_overrides(j) for j in jobs]
    keys: list[str] = []
    for p in parsed:
        keys += [k for k in p if k not in keys]
    swept = [k for k in keys if len({repr(p.get(k)) for p in parsed}) > 1]
    fixed = {k: parsed[0].get(k) for k in keys if k not in swept}
    levels: dict[str, list] = {}
    for k in swept:
        seen: dict[str, object] = {}
        for p in parsed:
            seen.setdefault(repr(p.get(k)), p.get(k))
        levels[k] = list(seen.values())
    return swept, levels, [{k: p.get(k) for k in swept} for p in parsed], fixed


def _is_grid(swept: list[str], levels: dict[str, list], cells: list[dict]) -> bool:
    if not swept:
        return len(cells) == 1
    combos = {tuple(repr(c[k]) for k in swept) for c in cells}
    size = math.prod(len(levels[k]) for k in swept)
    return len(combos) == len(cells) == size and all(v is not None for c in cells for v in c.values())


# ------------------------------------------------------------------- merge
def _union(lists: list[list]) -> list:
    out: list = []
    seen = set()
    for items in lists:
        for x in items:
            if x not in seen:
                seen.add(x)
                out.append(x)
    return out


def estimate_merged_bytes(first: xr.Dataset, n_cells: int, n_firms: int, n_segments: int) -> int:
    """Bytes of the merged Dataset: each variable of one run, scaled to all cells and firms."""
    total = 0
    for var in first.data_vars.values():
        size = var.dtype.itemsize
        for d in var.dims:
            size *= {"firm": n_firms, "segment": n_segments}.get(d, first.sizes[d])
        total += size
    return total * n_cells


class _Run:
    """One run's arrays, coordinates and attributes, read straight from its HDF5 file.

    ``xarray.open_dataset`` spends most of its time on metadata (about 30 times longer
    than reading the arrays of a run here); the merge knows the layout from the
    first run, so it reads the others with h5py.
    """

    def __init__(self, path: Path, template: xr.Dataset):
        import h5py

        def text(values) -> list[str]:
            return [v.decode() if isinstance(v, bytes) else str(v) for v in values]

        with h5py.File(path, "r") as f:
            self.data = {name: f[name][()] for name in template.data_vars if name in f}
            self.step = xr.DataArray(f["step"][()])
            self.firm = xr.DataArray(np.array(text(f["firm"][()]), dtype=object))
            self.segment = xr.DataArray(np.array(text(f["segment"][()]), dtype=object))
            self.attrs = {}
            for key, value in f.attrs.items():
                if key.startswith("_"):  # the file format's own (_NCProperties...), hidden by xarray too
                    continue
                if isinstance(value, bytes):
                    value = value.decode()
                elif isinstance(value, np.ndarray) and value.size == 1:
                    value = value.reshape(()).item()
                self.attrs[key] = value

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def __getitem__(self, name: str):
        if name in ("step", "firm", "segment"):
            return getattr(self, name)
        return xr.DataArray(self.data[name])


def _read_run(path: Path, template: xr.Dataset) -> _Run:
    return _Run(path, template)


def merge_jobs(states: list[JobState], attrs: dict | None = None) -> xr.Dataset:
    """Merge the finished jobs of ``states`` (design order) into one Dataset (see the module doc)."""
    jobs = [s.overrides for s in states]
    swept, levels, cells, fixed = factors_of(jobs)
    grid = _is_grid(swept, levels, cells)
    done = [s for s in states if s.done]
    if not done:
        raise FileNotFoundError(f"no finished job ({RESULT}) in the sweep: "
                                f"{len(states)} jobs, none done")
    first = load(done[0].folder)  # names, dimensions and attributes of the variables
    runs = {s.job: _read_run(s.folder / RESULT, first) for s in done}
    firms = _union([list(r.firm.values) for r in runs.values()])
    segments = _union([list(r.segment.values) for r in runs.values()])
    steps = sorted(set().union(*[set(r.step.values.tolist()) for r in runs.values()]))

    if grid:
        cell_dims = list(swept)
        cell_shape = tuple(len(levels[k]) for k in swept)
        index = {k: {repr(v): i for i, v in enumerate(levels[k])} for k in swept}

        def where(c: dict) -> tuple[int, ...]:
            return tuple(index[k][repr(c[k])] for k in swept)
        coords = {k: _coord(levels[k]) for k in swept}
    else:
        cell_dims = ["run"]
        cell_shape = (len(states),)
        coords = {"run": np.arange(len(states), dtype=np.int64)}
        for k in swept:
            coords[k] = ("run", _coord([c[k] for c in cells]))
    pos = {s.job: (where(c) if grid else (i,)) for i, (s, c) in enumerate(zip(states, cells, strict=True))}

    full = {"step": steps, "firm": firms, "segment": segments}
    lookups = {d: {v: i for i, v in enumerate(vals)} for d, vals in full.items()}
    data = {}
    for name, var in first.data_vars.items():
        shape = cell_shape + tuple(len(full[d]) for d in var.dims)
        integer = np.issubdtype(var.dtype, np.integer)
        arr = np.full(shape, INT_FILL if integer else np.nan, dtype=np.int64 if integer else np.float64)
        data[name] = (arr, var.dims, dict(var.attrs))
        if integer:
            data[name][2]["fill_value"] = INT_FILL
    for job, ds in runs.items():
        idx = {d: np.array([lookups[d][v] for v in ds[d].values.tolist()], dtype=np.intp) for d in full}
        cell = pos[job]
        for name, (arr, dims, _) in data.items():
            if name not in ds:
                continue
            sel = cell + np.ix_(*[idx[d] for d in dims]) if dims else cell
            arr[sel] = ds[name].values
    variables = {name: (cell_dims + list(dims), arr, a) for name, (arr, dims, a) in data.items()}

    # per-run attributes: common ones stay attributes, the others become run_<name> variables
    names = _union([list(ds.attrs) for ds in runs.values()])
    ds_attrs: dict = {}
    for name in names:
        vals = [ds.attrs.get(name) for ds in runs.values()]
        if all(v is not None for v in vals) and len({repr(v) for v in vals}) == 1:
            ds_attrs[name] = vals[0]
            continue
        numeric = all(isinstance(v, (int, float, np.number)) for v in vals if v is not None)
        if numeric and all(isinstance(v, (int, np.integer)) for v in vals if v is not None):
            arr = np.full(cell_shape, INT_FILL, dtype=np.int64)
        elif numeric:
            arr = np.full(cell_shape, np.nan)
        else:
            arr = np.full(cell_shape, "", dtype=object)
        for job, ds in runs.items():
            if name in ds.attrs:
                arr[pos[job]] = ds.attrs[name] if numeric else str(ds.attrs[name])
        variables[f"run_{name}"] = (cell_dims, arr, {"long_name": f"each run's {name!r} attribute"})
    job_number = np.full(cell_shape, INT_FILL, dtype=np.int64)
    for s in states:
        job_number[pos[s.job]] = s.job
    variables["job_number"] = (cell_dims, job_number, {"long_name": "job of the design table that made the cell",
                                                        "units": "1", "fill_value": INT_FILL})
    # the design table
    variables["job_overrides"] = (["job"], np.array([" ".join(s.overrides) for s in states], dtype=object),
                                  {"long_name": "the job's overrides"})
    variables["job_status"] = (["job"], np.array([s.status for s in states], dtype=object),
                               {"long_name": "done, failed, interrupted, unfinished or not started"})
    variables["job_exit_status"] = (["job"], np.array([INT_FILL if s.exit_status is None else s.exit_status
                                                       for s in states], dtype=np.int64),
                                    {"long_name": "exit status of the job (-1 unknown)", "units": "1"})
    variables["job_error"] = (["job"], np.array([s.error for s in states], dtype=object),
                              {"long_name": "why the job did not finish"})
    variables["job_log"] = (["job"], np.array([s.log for s in states], dtype=object),
                            {"long_name": "where the job's log or INCOMPLETE marker is"})
    coords.update({"step": np.array(steps, dtype=first.step.dtype), "firm": np.array(firms, dtype=object),
                   "segment": np.array(segments, dtype=object),
                   "job": np.array([s.job for s in states], dtype=np.int64)})
    out = xr.Dataset(variables, coords=coords)
    for d in ("step", "firm", "segment"):
        out[d].attrs.update(first[d].attrs)
    failed = [s for s in states if s.status in ("failed", "interrupted")]
    missing = [s for s in states if not s.done]
    ds_attrs.update({
        "swept": ", ".join(swept),
        "design": "grid" if grid else "list of runs",
        "fixed_overrides": " ".join(f"{k}={v}" for k, v in fixed.items()),
        "jobs_total": len(states), "jobs_done": len(done), "jobs_failed": len(failed),
        "missing_jobs": np.array([s.job for s in missing], dtype=np.int64),
        "failed_jobs": np.array([s.job for s in failed], dtype=np.int64),
        "failures": yaml.safe_dump(_failure_records(missing), sort_keys=False),
    })
    ds_attrs.update(attrs or {})
    out.attrs = ds_attrs
    return out


def _failure_records(states: list[JobState]) -> list[dict]:
    return [{"job": s.job, "overrides": " ".join(s.overrides), "status": s.status,
             "exit_status": s.exit_status, "error": s.error, "log": s.log} for s in states]


def write_merged(ds: xr.Dataset, sweep_dir: str | os.PathLike, fmt: str = "auto") -> Path:
    """Write the merged Dataset into the sweep folder (``sweep.nc`` or ``sweep.zarr``), atomically.

    ``fmt``: ``"netcdf"``, ``"zarr"``, or ``"auto"`` (Zarr above :data:`ZARR_THRESHOLD` bytes).
    The merged file is derived data: a later merge replaces it.
    """
    root = Path(sweep_dir)
    if fmt == "auto":
        fmt = "zarr" if ds.nbytes > ZARR_THRESHOLD else "netcdf"
    if fmt == "netcdf":
        path = root / MERGED_NC
        publish(write_netcdf_tmp(ds, path), path, overwrite=True)
        _remove_stale(root / MERGED_ZARR)
        return path
    if fmt != "zarr":
        raise ValueError(f"format = {fmt!r}: allowed netcdf, zarr, auto")
    import importlib.util
    import shutil

    if importlib.util.find_spec("zarr") is None:
        from .config import ConfigError

        raise ConfigError(f"format = 'zarr' needs the zarr package: pip install \".[zarr]\" (the merged "
                          f"Dataset is {ds.nbytes / 1024**3:.2f} GiB; netCDF is written above "
                          f"{ZARR_THRESHOLD / 1024**3:.0f} GiB only on request: --format netcdf)")

    path = root / MERGED_ZARR
    tmp = root / f".{MERGED_ZARR}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        ds.to_zarr(tmp, mode="w", consolidated=False)
        old = None
        if path.exists():
            old = root / f".{MERGED_ZARR}.{os.getpid()}.old"
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    (root / MERGED_NC).unlink(missing_ok=True)  # an older merge in the other format
    return path


def _remove_stale(path: Path) -> None:
    import shutil

    if path.exists():
        shutil.rmtree(path, ignore_errors=True)


def collect(sweep_dir: str | os.PathLike, fmt: str = "auto", write: bool = True) -> xr.Dataset:
    """Merge a sweep folder's finished jobs; write ``sweep.nc`` (or ``.zarr``) and ``failures.yaml``.

    Works on a partial sweep (failed, interrupted or still running jobs are listed
    in the ``failures`` attribute and ``failures.yaml``, and their cells are NaN / -1).
    """
    root = Path(sweep_dir).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such sweep folder")
    states = job_states(root)
    if not states:
        raise FileNotFoundError(f"{root}: not a sweep folder (no {DESIGN} and no job folders)")
    ds = merge_jobs(states)
    if write:
        missing = [s for s in states if not s.done]
        write_text_atomic(yaml.safe_dump(_failure_records(missing), sort_keys=False), root / FAILURES)
        write_merged(ds, root, fmt)
    return ds


def open_merged(sweep_dir: str | os.PathLike) -> xr.Dataset:
    """Open a sweep's merged file (``sweep.nc`` or ``sweep.zarr``) into memory."""
    root = Path(sweep_dir)
    if (root / MERGED_NC).exists():
        with xr.open_dataset(root / MERGED_NC, engine="h5netcdf") as ds:
            return ds.load()
    with xr.open_zarr(root / MERGED_ZARR, consolidated=False) as ds:
        return ds.load()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sim.collect",
        description="Merge a sweep's job folders into SWEEP_DIR/sweep.nc (or sweep.zarr); with --resume, "
                    "first rerun the jobs without run.nc through the sweep's recorded launcher.")
    parser.add_argument("sweep_dir")
    parser.add_argument("--resume", action="store_true", help="rerun unfinished jobs, then merge")
    parser.add_argument("--format", choices=("auto", "netcdf", "zarr"), default="auto",
                        help=f"merged file format (auto: zarr above {ZARR_THRESHOLD / 1024**3:.0f} GiB)")
    args = parser.parse_args(argv)
    from .config import ConfigError
    from .guard import RunInterrupted, interrupts_as_exceptions

    try:
        with interrupts_as_exceptions():
            if args.resume:
                from .sweep import resume

                result = resume(args.sweep_dir, fmt=args.format)
                ds = result.dataset
                if ds is None:
                    raise FileNotFoundError(f"{args.sweep_dir}: no job finished ({result.launcher_error})")
            else:
                ds = collect(args.sweep_dir, fmt=args.format)
    except (ConfigError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RunInterrupted as exc:
        print(f"error: {exc}: finished jobs are kept; run again to resume", file=sys.stderr)
        return exc.exit_code
    root = Path(args.sweep_dir)
    done, total = int(ds.attrs["jobs_done"]), int(ds.attrs["jobs_total"])
    name = MERGED_NC if (root / MERGED_NC).exists() else MERGED_ZARR
    print(f"merged {done} of {total} jobs into {root / name}")
    for rec in _failure_records([s for s in job_states(root) if not s.done]):
        print(f"error: job {rec['job']} ({rec['overrides']}): {rec['status']}: {rec['error']} (see {rec['log']})",
              file=sys.stderr)
    return 0 if done == total else 1


__all__ = ["collect", "job_states", "merge_jobs", "open_merged", "read_design", "write_design"]

if __name__ == "__main__":
    sys.exit(main())
