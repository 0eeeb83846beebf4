"""Reading results for the analysis: a run folder, a sweep folder or a netCDF file as one Dataset
(eagerly or lazily with dask), with a seed dimension, and what its jobs were (finished, failed,
absent). Re-exported by :mod:`sim.study.analysis`, where the statistics are.

Missing is missing here: the integer fill values of merged sweeps are NaN on reading
(:func:`sim.results.merge.masked`), and the 32-bit integers of the files int64 again
(:func:`sim.results.runfolder.widened`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr


class AnalysisError(ValueError):
    """Bad input to an analysis function (missing variable, non-matching dimensions...)."""


# ------------------------------------------------------------------------------ input
def _open_sweep_lazy(root: Path, chunks: dict | str) -> xr.Dataset:
    """A sweep folder without its merged file as one lazy Dataset (dask): what
    :func:`sim.results.merge.load_sweep` gives in memory, with the data read on demand.

    The merge's own layout and assembly (:func:`sim.results.merge.layout_of`,
    :func:`sim.results.merge.assemble`): one dimension per swept override in the order of the
    sweep's design table (``design.yaml``), or a ``run`` dimension for a sampled design; NaN for
    firms absent from a run and for jobs without a result (listed in ``missing_jobs``);
    ``job_number``, the ``run_<name>`` variables and the design table as in the merge. Chunks
    along the cell dimensions apply after combining (one cell per chunk before).
    """
    import dask.array as da

    from ..results.merge import MASKED_INT, assemble, layout_of, run_attributes, run_axes
    from ..results.runfolder import RESULT, netcdf_engine, widened
    from ..results.sweepfolder import job_states

    states = job_states(root)
    done = [s for s in states if s.done]
    if not done:
        raise AnalysisError(f"{root}: no run.nc below this folder")
    lay = layout_of(states)
    inner = {k: v for k, v in chunks.items() if k not in lay.dims} if isinstance(chunks, dict) else chunks
    runs = {s.job: widened(xr.open_dataset(s.folder / RESULT, engine=netcdf_engine(s.folder / RESULT),
                                           chunks=inner)).drop_encoding() for s in done}
    full = run_axes([r.step.values.tolist() for r in runs.values()], [list(r.firm.values) for r in runs.values()],
                    [list(r.segment.values) for r in runs.values()])
    first = runs[done[0].job]
    order = lay.jobs_in_cell_order()
    variables = {}
    for name, var in first.data_vars.items():
        axes = {d: full[d] for d in var.dims}
        shape = tuple(len(v) for v in axes.values())
        # each cell's run on the merged axes (a firm it did not have: NaN), None for a job without a result
        cells = [runs[j][name].reindex(axes).data if j in runs and name in runs[j] else None for j in order]
        integer = np.issubdtype(var.dtype, np.integer) and all(c is not None and c.dtype.kind in "iu" for c in cells)
        dtype = np.int64 if integer else np.float64
        cells = [da.full(shape, np.nan, dtype=dtype) if c is None else c.astype(dtype) for c in cells]
        data = da.stack(cells).reshape(lay.shape + shape)
        attrs = {k: v for k, v in var.attrs.items() if k not in ("fill_value", "_FillValue")}
        masked = np.issubdtype(var.dtype, np.integer) and not integer  # written as the merge writes it
        variables[name] = xr.Variable(lay.dims + list(var.dims), data, attrs,
                                      encoding=dict(MASKED_INT) if masked else {})
    out = assemble(lay, states, variables, {j: run_attributes(r.attrs) for j, r in runs.items()}, full,
                   first.step.dtype)
    outer = {k: v for k, v in chunks.items() if k in lay.dims} if isinstance(chunks, dict) else {}
    return out.chunk(outer) if outer else out


def _open_lazy(path: Path, chunks: dict | str) -> xr.Dataset:
    """``path`` with dask arrays of ``chunks``. A dict is applied after opening on the file's own
    chunks: asked directly of the reader, chunks that split the stored (compressed) ones make
    xarray warn that reading will be slow."""
    from ..results.merge import masked
    from ..results.runfolder import netcdf_engine, widened

    if isinstance(chunks, dict):
        ds = xr.open_dataset(path, engine=netcdf_engine(path), chunks={})
        # the small coordinates (time, decoded from the file) in memory: they have no stored chunks to split
        ds = ds.assign_coords({c: ds[c].compute() for c in ds.coords if c not in ds.indexes})
        return masked(widened(ds.chunk(chunks)))
    return masked(widened(xr.open_dataset(path, engine=netcdf_engine(path), chunks=chunks)))


def open_result(path: str | os.PathLike, chunks: dict | str | None = None) -> xr.Dataset:
    """Open a run folder, a sweep (multirun) folder or a netCDF file.

    Parameters
    ----------
    path : str or path
        A run folder (holding ``run.nc``), a multirun folder (job folders below it,
        combined as :func:`sim.results.merge.load_sweep` does) or a ``.nc`` file (a run, a
        saved sweep or a saved design).
    chunks : dict or "auto", optional
        Open lazily with dask arrays of these chunks (e.g. ``{"step": 60}``); None
        loads into memory.
    """
    p = Path(path)
    if not p.exists():
        raise AnalysisError(f"{p}: no such file or folder")
    if p.is_file():
        from ..results.merge import masked
        from ..results.runfolder import netcdf_engine, widened

        if chunks is None:
            with xr.open_dataset(p, engine=netcdf_engine(p)) as ds:
                return masked(widened(ds.load()))
        return _open_lazy(p, chunks)
    if (p / "run.nc").exists():
        return open_result(p / "run.nc", chunks)
    if chunks is not None and (p / "sweep.nc").exists():  # the sweep's own merge (sim.runner.collect)
        return _open_lazy(p / "sweep.nc", chunks)
    if chunks is None:
        from ..results.merge import load_sweep

        try:
            return load_sweep(p)
        except FileNotFoundError:
            raise AnalysisError(f"{p}: no run.nc in or below this folder") from None
    return _open_sweep_lazy(p, chunks)


def with_seed_dim(ds: xr.Dataset, dim: str = "seed") -> xr.Dataset:
    """``ds`` with a seed dimension: unchanged if it has one, else a single run's seed (length 1)."""
    if dim in ds.dims:
        return ds
    seed = ds.attrs.get("seed", 0) if dim == "seed" else 0
    if dim in ds.coords:  # a scalar coordinate
        return ds.expand_dims(dim)
    return ds.expand_dims({dim: [int(seed)]})


def job_counts(ds: xr.Dataset) -> dict[str, object] | None:
    """Jobs of a sweep or design Dataset: ``total``, ``done``, ``failed``, ``absent`` (not run or
    unfinished) and ``missing`` (the job numbers without a result); None for a single run.
    A selection of a sweep's cells (``ds.sel(scenario="disruptor")``) counts its own jobs."""
    if "jobs_total" not in ds.attrs:
        return None
    missing = [int(j) for j in np.atleast_1d(ds.attrs.get("missing_jobs", [])) if str(j).strip() != ""]
    failed = {int(j) for j in np.atleast_1d(ds.attrs.get("failed_jobs", [])) if str(j).strip() != ""}
    if "job_number" in ds.data_vars and "job" not in ds["job_number"].dims:
        jobs = {int(j) for j in np.asarray(ds["job_number"].values).reshape(-1) if np.isfinite(j)}
        missing = [j for j in missing if j in jobs]
        n_failed = len(failed & jobs)
        total, done = len(jobs), len(jobs) - len(missing)
    else:
        total = int(ds.attrs["jobs_total"])
        n_failed = int(ds.attrs.get("jobs_failed", len(failed)))
        done = int(ds.attrs.get("jobs_done", total - len(missing)))
    return {"total": total, "done": done, "failed": n_failed, "absent": total - done - n_failed, "missing": missing}


def jobs_note(ds: xr.Dataset) -> str:
    """One line on the jobs behind ``ds``: ``"12 jobs: 10 finished, 2 failed, 0 absent (not run or
    unfinished); without a result: jobs 3, 9"`` (at most ten job numbers, then ``...``); ``"one run"``
    for a run without job records."""
    c = job_counts(ds)
    if c is None:
        return "one run"
    text = (f"{c['total']} jobs: {c['done']} finished, {c['failed']} failed, {c['absent']} absent "
            f"(not run or unfinished)")
    if c["missing"]:
        shown = ", ".join(map(str, c["missing"][:10])) + (", ..." if len(c["missing"]) > 10 else "")
        text += f"; without a result: job{'s' if len(c['missing']) > 1 else ''} {shown}"
    return text
