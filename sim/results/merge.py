"""Merge a sweep's job folders into one labelled Dataset, write it, open it.

The merge reads the job folders from disk (:mod:`sim.results.sweepfolder`), so it
also works after some jobs failed, after the driver was killed, and while a cluster
sweep is still running. The merged Dataset has one dimension per swept factor (an
override whose value differs between jobs: ``scenario``, ``seed``,
``firms.both.price``...) when the design is a full grid, with the swept values as
coordinates in the order of the sweep; otherwise (a sampled design) one ``run``
dimension with the factors as coordinates along it. Firms and segments keep the
order in which the scenarios list them. Missing is missing: where a firm is absent
from a scenario or a job has no result, float variables are NaN and integer variables
too (they become float64 in memory, and are stored as int64 with the CF ``_FillValue``
:data:`INT_FILL`, which every CF reader masks again); an integer variable without any
such cell stays int64. Each run's
attributes that differ between runs (``config``, ``seed``, ``scenario``...) become
``run_<name>`` variables, the common ones stay attributes. The design table is
stored along a ``job`` dimension (``job_overrides``, ``job_status``,
``job_exit_status``, ``job_error``, ``job_log``); ``job_number`` maps each cell to
its job. Beside the merge: ``failures.yaml``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from .output import label_coordinates, load
from .runfolder import RESULT, publish, widened, write_netcdf_tmp, write_text_atomic
from .sweepfolder import DESIGN, JobState, job_states

#: The merged result (netCDF), and its Zarr form for big sweeps.
MERGED_NC = "sweep.nc"


MERGED_ZARR = "sweep.zarr"


#: Failed and unfinished jobs, written by every merge.
FAILURES = "failures.yaml"


#: Estimated size of the merged Dataset above which it is written as Zarr (2 GiB):
#: a netCDF file of that size is written in one piece, a Zarr store in chunks.
ZARR_THRESHOLD = 2 * 1024**3


#: Fill value of integer variables (``customers``, ``alive``, ``quadrant``...) in a merged file
#: where a firm is absent from a scenario or a job has no result: the variables' CF ``_FillValue``,
#: masked (NaN) on reading.
INT_FILL = -1


#: The encoding of an integer variable that holds missing cells (float64 with NaN in memory):
#: int64 on disk with :data:`INT_FILL` as CF ``_FillValue``.
MASKED_INT = {"dtype": "int64", "_FillValue": INT_FILL}


def _masked(arr: np.ndarray, attrs: dict) -> tuple[np.ndarray, dict, dict]:
    """An int64 array holding :data:`INT_FILL` where nothing was recorded, as float64 with NaN there
    and the encoding that stores it as int64 with that ``_FillValue``; without fills, unchanged."""
    attrs = {k: v for k, v in attrs.items() if k not in ("fill_value", "_FillValue")}
    missing = arr == INT_FILL
    if not missing.any():
        return arr, attrs, {}
    out = arr.astype(np.float64)
    out[missing] = np.nan
    return out, attrs, dict(MASKED_INT)


def masked(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with the integer fill values of older merged files (an attribute ``fill_value``, not
    CF's ``_FillValue``, which xarray masks itself) as NaN: missing is missing. Lazy arrays stay lazy."""
    for name in list(ds.data_vars):
        var = ds[name]
        fill = var.attrs.get("fill_value")
        if fill is None or var.dtype.kind not in "iu":
            continue
        new = var.where(var != fill)
        new.attrs = {k: v for k, v in var.attrs.items() if k != "fill_value"}
        new.encoding = {**var.encoding, **MASKED_INT}
        ds[name] = new
    return ds


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
    """One run's arrays, coordinates and attributes, read straight from its file.

    ``xarray.open_dataset`` spends most of its time on metadata (about 30 times longer
    than reading the arrays of a run here); the merge knows the layout from the
    first run, so it reads the others with SciPy's netCDF-3 reader (a run file that fits
    netCDF-3, :func:`sim.results.runfolder.classic_fits`: 3 ms) or h5py (netCDF-4: 20 ms).
    """

    def __init__(self, path: Path, template: xr.Dataset):
        def text(values) -> list[str]:
            values = np.asarray(values)
            if values.dtype.kind == "S" and values.ndim == 2:  # a character array (netCDF char, S1)
                return [b"".join(row).decode() for row in values]
            return [v.decode() if isinstance(v, bytes) else str(v) for v in values]

        with open(path, "rb") as fh:
            classic = fh.read(3) == b"CDF"
        if classic:
            from scipy.io import netcdf_file

            with netcdf_file(path, "r", mmap=False) as f:
                variables = f.variables
                self.data = {name: variables[name].data.astype(variables[name].data.dtype.newbyteorder("="))
                             for name in template.data_vars if name in variables}
                step, firm, segment = (variables[n].data for n in ("step", "firm", "segment"))
                self.attrs = run_attributes(f._attributes)
        else:
            import h5py

            with h5py.File(path, "r") as f:
                self.data = {name: f[name][()] for name in template.data_vars if name in f}
                step, firm, segment = f["step"][()], f["firm"][()], f["segment"][()]
                self.attrs = run_attributes(f.attrs)
        #: the run's coordinates: steps (int), firms and segments (str)
        self.axes = {"step": step.astype(step.dtype.newbyteorder("=")).tolist(), "firm": text(firm),
                     "segment": text(segment)}


def _read_run(path: Path, template: xr.Dataset) -> _Run:
    return _Run(path, template)


class RunReader:
    """Job files read ahead: a sweep's driver reads each job's ``run.nc`` as the job finishes
    (:meth:`read_ahead`, from its progress monitor, while the other jobs run), so that the merge at
    the end (:func:`merge_jobs` with ``reader=``) reads only what it has not read yet. A file is
    read again if it changed since (another inode, size or time: a job rerun)."""

    def __init__(self) -> None:
        self._runs: dict[Path, tuple[tuple[int, int, int], _Run]] = {}
        self._template: xr.Dataset | None = None

    @staticmethod
    def _key(path: Path) -> tuple[int, int, int]:
        st = path.stat()
        return st.st_ino, st.st_size, st.st_mtime_ns

    def get(self, path: Path, template: xr.Dataset) -> _Run:
        path = Path(path)
        key = self._key(path)
        held = self._runs.get(path)
        if held is not None and held[0] == key:
            return held[1]
        run = _Run(path, template)
        self._runs[path] = (key, run)
        return run

    def read_ahead(self, path: Path) -> None:
        """Read the finished run file ``path`` now; a file that cannot be read is left to the merge."""
        try:
            if self._template is None:
                self._template = load(path)
            self.get(path, self._template)
        except Exception:  # only a speed-up: the merge reads it (and says what is wrong)
            pass


@dataclass
class Layout:
    """Where each job of a sweep goes in the merged Dataset (from the design table, in design order).

    A full grid has one dimension per swept factor, its levels in the order the sweep lists
    them (``dims``, ``shape``, ``coords``); any other design one ``run`` dimension, a cell per
    job, with the factors as coordinates along it. ``pos`` maps each job to its cell's index.
    """

    swept: list[str]
    fixed: dict
    grid: bool
    dims: list[str]
    shape: tuple[int, ...]
    coords: dict
    pos: dict[int, tuple[int, ...]]

    def jobs_in_cell_order(self) -> list[int]:
        """The jobs, one per cell, in the order of the cells flattened (C order)."""
        return sorted(self.pos, key=self.pos.__getitem__)


def layout_of(states: list[JobState]) -> Layout:
    """The cells of the merged Dataset of ``states`` (a sweep's jobs in design order)."""
    swept, levels, cells, fixed = factors_of([s.overrides for s in states])
    grid = _is_grid(swept, levels, cells)
    if grid:
        index = {k: {repr(v): i for i, v in enumerate(levels[k])} for k in swept}
        shape = tuple(len(levels[k]) for k in swept)
        coords: dict = {k: _coord(levels[k]) for k in swept}
        pos = {s.job: tuple(index[k][repr(c[k])] for k in swept) for s, c in zip(states, cells, strict=True)}
        return Layout(swept, fixed, True, list(swept), shape, coords, pos)
    coords = {"run": np.arange(len(states), dtype=np.int64)}
    for k in swept:
        coords[k] = ("run", _coord([c[k] for c in cells]))
    return Layout(swept, fixed, False, ["run"], (len(states),), coords, {s.job: (i,) for i, s in enumerate(states)})


def run_attributes(attrs) -> dict:
    """A run file's global attributes as plain values (text as str, one-element arrays as scalars),
    without the file format's own (``_NCProperties``...: hidden by xarray too)."""
    out = {}
    for key, value in attrs.items():
        if key.startswith("_"):
            continue
        if isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, np.ndarray) and value.size == 1:
            value = value.reshape(()).item()
        elif isinstance(value, np.ndarray):  # netCDF-3 (SciPy) gives big-endian arrays
            value = value.astype(value.dtype.newbyteorder("="))
        elif isinstance(value, np.generic):  # the same value whichever format the run file has
            value = value.item()
        out[key] = value
    return out


def merge_jobs(states: list[JobState], attrs: dict | None = None, reader: RunReader | None = None) -> xr.Dataset:
    """Merge the finished jobs of ``states`` (design order) into one Dataset (see the module doc);
    ``reader``: the job files read so far (:class:`RunReader`)."""
    lay = layout_of(states)
    done = [s for s in states if s.done]
    if not done:
        raise FileNotFoundError(f"no finished job ({RESULT}) in the sweep: "
                                f"{len(states)} jobs, none done")
    first = load(done[0].folder)  # names, dimensions and attributes of the variables
    read = reader.get if reader is not None else _read_run
    runs = {s.job: read(s.folder / RESULT, first) for s in done}
    full = run_axes(*([r.axes[d] for r in runs.values()] for d in ("step", "firm", "segment")))
    lookups = {d: {v: i for i, v in enumerate(vals)} for d, vals in full.items()}
    data = {}
    for name, var in first.data_vars.items():
        shape = lay.shape + tuple(len(full[d]) for d in var.dims)
        integer = np.issubdtype(var.dtype, np.integer)
        arr = np.full(shape, INT_FILL if integer else np.nan, dtype=np.int64 if integer else np.float64)
        data[name] = (arr, var.dims, dict(var.attrs))
    for job, run in runs.items():
        idx = {d: np.array([lookups[d][v] for v in run.axes[d]], dtype=np.intp) for d in full}
        cell = lay.pos[job]
        for name, (arr, dims, _) in data.items():
            if name not in run.data:
                continue
            sel = cell + np.ix_(*[idx[d] for d in dims]) if dims else cell
            arr[sel] = run.data[name]
    variables = {name: _variable(lay.dims + list(dims), arr, a) for name, (arr, dims, a) in data.items()}
    return assemble(lay, states, variables, {job: r.attrs for job, r in runs.items()}, full, first.step.dtype,
                    attrs)


def run_axes(steps: list[list], firms: list[list], segments: list[list]) -> dict[str, list]:
    """The merged Dataset's ``step`` (sorted), ``firm`` and ``segment`` (first-seen order: the order in
    which the scenarios list them) from those of each finished run."""
    return {"step": sorted(set().union(*map(set, steps))), "firm": _union(firms), "segment": _union(segments)}


def assemble(lay: Layout, states: list[JobState], variables: dict[str, xr.Variable], run_attrs: dict[int, dict],
             full: dict[str, list], step_dtype, attrs: dict | None = None) -> xr.Dataset:
    """The merged Dataset from its data ``variables`` (dimensions ``lay.dims`` + the run's, eager or
    lazy), each finished job's attributes (``run_attrs``: job -> :func:`run_attributes`) and the
    axes ``full`` (:func:`run_axes`): adds the ``run_<name>`` variables, ``job_number``, the design
    table, the coordinates and the attributes (see the module doc)."""
    variables = dict(variables)
    coords = dict(lay.coords)
    # per-run attributes: common ones stay attributes, the others become run_<name> variables
    names = _union([list(a) for a in run_attrs.values()])
    ds_attrs: dict = {}
    for name in names:
        vals = [a.get(name) for a in run_attrs.values()]
        if all(v is not None for v in vals) and len({repr(v) for v in vals}) == 1:
            ds_attrs[name] = vals[0]
            continue
        numeric = all(isinstance(v, (int, float, np.number)) for v in vals if v is not None)
        if numeric and all(isinstance(v, (int, np.integer)) for v in vals if v is not None):
            arr = np.full(lay.shape, INT_FILL, dtype=np.int64)
        elif numeric:
            arr = np.full(lay.shape, np.nan)
        else:
            arr = np.full(lay.shape, "", dtype=object)
        for job, a in run_attrs.items():
            if name in a:
                arr[lay.pos[job]] = a[name] if numeric else str(a[name])
        variables[f"run_{name}"] = _variable(lay.dims, arr, {"long_name": f"each run's {name!r} attribute"})
    job_number = np.full(lay.shape, INT_FILL, dtype=np.int64)
    for s in states:
        job_number[lay.pos[s.job]] = s.job
    variables["job_number"] = (lay.dims, job_number, {"long_name": "job of the design table that made the cell",
                                                      "units": "1"})
    # the design table
    variables["job_overrides"] = (["job"], np.array([" ".join(s.overrides) for s in states], dtype=object),
                                  {"long_name": "the job's overrides"})
    variables["job_status"] = (["job"], np.array([s.status for s in states], dtype=object),
                               {"long_name": "done, failed, interrupted, unfinished or not started"})
    variables["job_exit_status"] = _variable(["job"], np.array([INT_FILL if s.exit_status is None else s.exit_status
                                                                for s in states], dtype=np.int64),
                                             {"long_name": "exit status of the job (missing: unknown)", "units": "1"})
    variables["job_error"] = (["job"], np.array([s.error for s in states], dtype=object),
                              {"long_name": "why the job did not finish"})
    variables["job_log"] = (["job"], np.array([s.log for s in states], dtype=object),
                            {"long_name": "where the job's log or INCOMPLETE marker is"})
    coords.update({"step": np.array(full["step"], dtype=step_dtype), "firm": np.array(full["firm"], dtype=object),
                   "segment": np.array(full["segment"], dtype=object),
                   "job": np.array([s.job for s in states], dtype=np.int64)})
    out = xr.Dataset(variables, coords=coords)
    label_coordinates(out)
    for k in lay.swept:
        out[k].attrs.update(long_name=f"swept setting {k}", **({"units": "1"} if out[k].dtype.kind in "iuf" else {}))
    if not lay.grid:
        out["run"].attrs.update(long_name="run of the sweep (its job number)", units="1")
    out["job"].attrs.update(long_name="job number of the design table", units="1")
    failed = [s for s in states if s.status in ("failed", "interrupted")]
    missing = [s for s in states if not s.done]
    ds_attrs.update({
        "swept": ", ".join(lay.swept),
        "design": "grid" if lay.grid else "list of runs",
        "fixed_overrides": " ".join(f"{k}={v}" for k, v in lay.fixed.items()),
        "jobs_total": len(states), "jobs_done": len(states) - len(missing), "jobs_failed": len(failed),
        "missing_jobs": np.array([s.job for s in missing], dtype=np.int64),
        "failed_jobs": np.array([s.job for s in failed], dtype=np.int64),
        "failures": yaml.safe_dump(failure_records(missing), sort_keys=False),
    })
    ds_attrs.update(attrs or {})
    out.attrs = ds_attrs
    return out


def _variable(dims: list[str], arr: np.ndarray, attrs: dict) -> xr.Variable:
    """A merged variable: integers with fills masked (:func:`_masked`), others as they are."""
    encoding: dict = {}
    if arr.dtype.kind in "iu":
        arr, attrs, encoding = _masked(arr, attrs)
    return xr.Variable(dims, arr, attrs, encoding=encoding)


def failure_records(states: list[JobState]) -> list[dict]:
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
        publish(write_netcdf_tmp(ds, path, classic=False), path, overwrite=True)
        _remove_stale(root / MERGED_ZARR)
        return path
    if fmt != "zarr":
        raise ValueError(f"format = {fmt!r}: allowed netcdf, zarr, auto")
    import importlib.util
    import shutil

    if importlib.util.find_spec("zarr") is None:
        from ..settings.schema import ConfigError

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


def collect(sweep_dir: str | os.PathLike, fmt: str = "auto", write: bool = True,
            reader: RunReader | None = None) -> xr.Dataset:
    """Merge a sweep folder's finished jobs; write ``sweep.nc`` (or ``.zarr``) and ``failures.yaml``.

    Works on a partial sweep (failed, interrupted or still running jobs are listed
    in the ``failures`` attribute and ``failures.yaml``, and their cells are NaN).
    ``reader``: the job files read ahead (:class:`RunReader`).
    """
    root = Path(sweep_dir).resolve()
    if root.is_file():  # a merged file, say, where its sweep folder belongs
        raise NotADirectoryError(f"{root}: a file, not a sweep folder")
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such sweep folder")
    states = job_states(root)
    if not states:
        raise FileNotFoundError(f"{root}: not a sweep folder (no {DESIGN} and no job folders)")
    ds = merge_jobs(states, reader=reader)
    if write:
        missing = [s for s in states if not s.done]
        write_text_atomic(yaml.safe_dump(failure_records(missing), sort_keys=False), root / FAILURES)
        write_merged(ds, root, fmt)
    return ds


def open_merged(sweep_dir: str | os.PathLike) -> xr.Dataset:
    """Open a sweep's merged file (``sweep.nc`` or ``sweep.zarr``) into memory."""
    root = Path(sweep_dir)
    if (root / MERGED_NC).exists():
        with xr.open_dataset(root / MERGED_NC, engine="h5netcdf") as ds:
            return masked(widened(ds.load()))
    with xr.open_zarr(root / MERGED_ZARR, consolidated=False) as ds:
        return masked(widened(ds.load()))


def load_sweep(path: str | os.PathLike) -> xr.Dataset:
    """The merged Dataset of a sweep folder: its ``sweep.nc`` / ``sweep.zarr`` when up to date,
    else merged in memory from the job folders (nothing written).

    One dimension per swept override (``scenario``, ``seed``, ``firms.both.price``...);
    firms in the scenarios' order; NaN where a firm is absent or a job has no result (integer
    variables with such cells become float64);
    each run's differing attributes as ``run_<name>`` variables; jobs without
    ``run.nc`` listed in ``attrs["missing_jobs"]`` and ``attrs["failures"]``.
    """
    root = Path(path)
    states = job_states(root)
    if not states:
        raise FileNotFoundError(f"no job folders below {root}")
    merged = [root / MERGED_NC, root / MERGED_ZARR]
    if any(p.exists() for p in merged):
        stamp = max(p.stat().st_mtime for p in merged if p.exists())
        newest = max(((s.folder / RESULT).stat().st_mtime for s in states if s.done), default=0)
        if stamp >= newest:
            ds = open_merged(root)
            if int(ds.attrs.get("jobs_done", -1)) == sum(s.done for s in states):
                return ds
    return merge_jobs(states)
