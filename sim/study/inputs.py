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
    """A sweep folder without its merged file as one lazy Dataset (dask), one dimension per swept override.

    The same combination as :func:`sim.results.merge.load_sweep` (which loads into memory):
    the jobs and their overrides from the folder's design table (``design.yaml``), an
    outer join over firms and steps, NaN for firms absent and for jobs without a result
    (listed in ``missing_jobs``). Chunks along swept dimensions apply after combining.
    """
    from ..results.merge import factors_of
    from ..results.runfolder import widened
    from ..results.sweepfolder import job_states

    states = job_states(root)
    done = [s for s in states if s.done]
    if not done:
        raise AnalysisError(f"{root}: no run.nc below this folder")
    swept, _, cells, _ = factors_of([s.overrides for s in states])
    if not swept:
        raise AnalysisError(f"{root}: the jobs' overrides do not differ; nothing was swept")
    inner = {k: v for k, v in chunks.items() if k not in swept} if isinstance(chunks, dict) else chunks
    runs = [widened(xr.open_dataset(s.folder / "run.nc", engine="h5netcdf", chunks=inner)).drop_encoding()
            for s in done]
    stacked = xr.concat(runs, dim="job", join="outer", combine_attrs="drop_conflicts", data_vars="all",
                        coords="minimal", compat="override")
    by_job = {s.job: c for s, c in zip(states, cells, strict=True)}
    stacked = stacked.assign_coords({k: ("job", [by_job[s.job][k] for s in done]) for k in swept})
    if len(swept) == 1:
        out = stacked.swap_dims(job=swept[0]).sortby(swept[0])
    else:
        out = stacked.set_index(job=swept).unstack("job")
    outer = {k: v for k, v in chunks.items() if k in swept} if isinstance(chunks, dict) else {}
    if outer:
        out = out.chunk(outer)
    failed = [s.job for s in states if s.status in ("failed", "interrupted")]
    out.attrs.update(swept=", ".join(swept), jobs_total=len(states), jobs_done=len(done), jobs_failed=len(failed),
                     missing_jobs=np.array([s.job for s in states if not s.done], dtype=np.int64),
                     failed_jobs=np.array(failed, dtype=np.int64))
    return out


def _open_lazy(path: Path, chunks: dict | str) -> xr.Dataset:
    """``path`` with dask arrays of ``chunks``. A dict is applied after opening on the file's own
    chunks: asked directly of the reader, chunks that split the stored (compressed) ones make
    xarray warn that reading will be slow."""
    from ..results.merge import masked
    from ..results.runfolder import widened

    if isinstance(chunks, dict):
        ds = xr.open_dataset(path, engine="h5netcdf", chunks={})
        # the small coordinates (time, decoded from the file) in memory: they have no stored chunks to split
        ds = ds.assign_coords({c: ds[c].compute() for c in ds.coords if c not in ds.indexes})
        return masked(widened(ds.chunk(chunks)))
    return masked(widened(xr.open_dataset(path, engine="h5netcdf", chunks=chunks)))


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
        from ..results.runfolder import widened

        if chunks is None:
            with xr.open_dataset(p, engine="h5netcdf") as ds:
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
