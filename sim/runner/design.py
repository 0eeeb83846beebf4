"""Run a design of experiments: many parameter points times many seeds, one Dataset.

:func:`run_design` is the **only** place where sensitivity analysis
(:mod:`sim.study.sensitivity`) and calibration (:mod:`sim.study.calibrate`) run simulations,
and it runs them as a sweep (:func:`sim.runner.sweep.run_jobs`): one job per design point
and seed (``base overrides + point overrides + seed=s``), launched by a Hydra
launcher (``basic``: one after the other in this process; ``joblib``: local worker
processes; ``ray``, ``slurm``, ``submitit_local``), each job writing its ``run.nc``
in the sweep folder, a failing job recorded without stopping the others, and an
interrupted design resumable (``resume=True`` with the same ``sweep_dir``). The
merged sweep is reshaped to dimensions ``run`` (design point) x ``seed``; a cell
equals ``sim.run(base + point, seed)`` bit for bit (tested).

One in-memory path remains, ``launcher="local"``: the base is composed once, each
point's overrides merged onto it (:func:`sim.settings.compose.as_config`, the path of
``sim.run(config=..., seed=...)``) and run here or in joblib's loky workers, with no
files. It is there because every sweep job pays for a Hydra composition, writing
its ``run.nc`` and the merge (about 1.5 to 5 s per job on a loaded 2-core machine,
against 1.7 to 3.3 s for a 5,000-customer, 120-step run), which dominates designs
of many small runs run one batch after another (tests, a quick calibration). It
gives the same Dataset (tested); it keeps nothing on failure and cannot resume.

A *point* maps a parameter name to a value. A name is a config path
(``firms.both.price``) that becomes the override ``firms.both.price=<value>``; a
point may also name a *template* (``templates={"spend": "firms.both.intervention=[{value},{value},{value}]"}``)
for parameters that are not one config field.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..settings.schema import ConfigError

#: Name of the design dimension.
RUN_DIM = "run"
#: The launcher name of the in-memory path (no Hydra launcher, no sweep folder).
LOCAL = "local"


def _format(value: Any) -> str:
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ",".join(_format(v) for v in value) + "]"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def point_overrides(point: Mapping[str, Any], templates: Mapping[str, str] | None = None) -> list[str]:
    """The override strings of one design point (``name=value`` or the name's template)."""
    templates = templates or {}
    out = []
    for name, value in point.items():
        if name in templates:
            out.append(templates[name].format(value=_format(value)))
        else:
            out.append(f"{name}={_format(value)}")
    return out


def _as_frame(points: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    if isinstance(points, pd.DataFrame):
        frame = points.reset_index(drop=True)
    else:
        points = list(points)
        if not all(isinstance(p, Mapping) for p in points):
            raise ConfigError("points: expected a pandas DataFrame or a list of dicts {parameter: value}")
        frame = pd.DataFrame(points)
    if len(frame) == 0:
        raise ConfigError("points: the design has no points")
    if frame.isna().any().any():
        bad = [c for c in frame.columns if frame[c].isna().any()]
        raise ConfigError(f"points: every point must give every parameter; missing values for {', '.join(bad)}")
    return frame


def _point(base: Any, overrides: list[str], seeds: list[int], variables: list[str] | None,
           single_thread: bool) -> list[xr.Dataset]:
    """Worker: one design point (its overrides on the composed base config), run for each seed."""
    if single_thread:
        import numba

        numba.set_num_threads(1)
    from ..api import run
    from ..settings.compose import as_config

    cfg = as_config(base, overrides)
    out = []
    for seed in seeds:
        ds = run(config=dataclasses.replace(cfg, seed=int(seed)))
        out.append(ds[variables] if variables is not None else ds)
    return out


def _check_points(base: Any, frame: pd.DataFrame, point_ov: list[list[str]],
                  templates: Mapping[str, str]) -> None:
    """Validate the design before any run: the first point, and every parameter at its
    smallest and largest value (numeric columns) or at each of its values (others).

    Schema ranges are intervals, so a design whose extremes are valid is valid throughout.
    """
    from ..settings.compose import as_config

    first = frame.iloc[0].to_dict()
    probes: list[tuple[str, list[str]]] = [("design point 0", point_ov[0])]
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            values = [col.min(), col.max()]
        else:
            values = list(dict.fromkeys(map(_format, col)))
        for v in values:
            i = int(np.flatnonzero(np.array([_format(x) for x in col]) == _format(v))[0])
            probes.append((f"design point {i}", point_overrides({**first, name: v}, templates)))
    for label, ov in probes:
        try:
            as_config(base, ov)
        except ConfigError as err:
            raise ConfigError(f"{label} ({' '.join(ov)}): {err}") from None


def _run_local(base_cfg: Any, point_ov: list[list[str]], seeds: list[int], keep: list[str] | None,
               n_jobs: int, verbose: int) -> xr.Dataset:
    """The in-process path (``launcher="local"``): each point's overrides merged onto the composed
    base (:func:`sim.settings.compose.as_config`, the path of ``sim.run(config=..., seed=...)``), run for
    every seed here (``n_jobs=1``) or in joblib's loky workers; no files, no resume."""
    from joblib import Parallel, delayed, parallel_config

    if n_jobs == 1:
        results = [ds for ov in point_ov for ds in _point(base_cfg, ov, seeds, keep, False)]
    else:
        workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
        per_seed = len(point_ov) < workers
        tasks = ([(ov, [s]) for ov in point_ov for s in seeds] if per_seed else [(ov, seeds) for ov in point_ov])
        with parallel_config(backend="loky", inner_max_num_threads=1):
            chunks = Parallel(n_jobs=n_jobs, verbose=verbose)(
                delayed(_point)(base_cfg, ov, ss, keep, True) for ov, ss in tasks)
        results = [ds for chunk in chunks for ds in chunk]
    ns = len(seeds)
    per_point = []
    for i in range(len(point_ov)):
        runs = [r.drop_attrs(deep=False) for r in results[i * ns:(i + 1) * ns]]
        per_point.append(xr.concat(runs, dim=pd.Index(seeds, name="seed"), join="outer"))
    ds = xr.concat(per_point, dim=pd.Index(np.arange(len(point_ov)), name=RUN_DIM), join="outer")
    ds.attrs.update({k: v for k, v in results[0].attrs.items() if k not in ("seed", "config")})
    ds.attrs.update(jobs_total=len(results), jobs_done=len(results), jobs_failed=0, failures="[]\n",
                    failed_points="")
    return ds


def design_jobs(point_ov: Sequence[Sequence[str]], base_overrides: Sequence[str],
                seeds: Sequence[int]) -> list[list[str]]:
    """The sweep's jobs of a design: point-major, one job per (point, seed): ``base + point + seed=s``."""
    return [[*base_overrides, *ov, f"seed={int(s)}"] for ov in point_ov for s in seeds]


def _launcher_overrides(launcher: str | None, n_jobs: int) -> tuple[str, list[str]]:
    """The Hydra launcher and its options for ``n_jobs``: one process in this one (``basic``, Hydra's
    in-process launcher), else joblib with ``n_jobs`` workers; a named launcher is used as given."""
    if launcher is None:
        launcher = "basic" if n_jobs == 1 else "joblib"
    if launcher == "joblib" and n_jobs != -1:
        return launcher, [f"hydra.launcher.n_jobs={int(n_jobs)}"]
    return launcher, []


def run_design(points: pd.DataFrame | Sequence[Mapping[str, Any]], base_overrides: Sequence[str] = (),
               seeds: Sequence[int] = (0,), n_jobs: int = 1, *, templates: Mapping[str, str] | None = None,
               variables: Sequence[str] | None = None, verbose: int = 0, sweep_dir: str | os.PathLike | None = None,
               launcher: str | None = None, hydra_overrides: Sequence[str] = (), resume: bool = False,
               allow_failures: bool = False) -> xr.Dataset:
    """Run every design point with every seed through the sweep machinery and return one Dataset.

    This is the single function through which sensitivity analysis and calibration
    run simulations. Each (point, seed) is one job of :func:`sim.runner.sweep.run_jobs`
    (``base_overrides + point overrides + seed=s``), launched by a Hydra launcher
    into its own folder of ``sweep_dir`` (``run.nc``), failures recorded, resumable;
    the merged sweep (a ``run`` dimension over the jobs) is reshaped here to
    ``run`` (design point) x ``seed``.

    Parameters
    ----------
    points : pandas.DataFrame or list of dict
        One row (dict) per design point: parameter name -> value. Names are config
        paths (``firms.both.price``) unless ``templates`` names them.
    base_overrides : list of str
        Overrides shared by every run (``scenario=...``, ``customers.n=...``, ``steps=...``),
        applied before the point's own.
    seeds : list of int
        Every point runs once per seed; the same seed gives the same customers
        (common random numbers), so points differ only by their parameters.
    n_jobs : int
        Local parallel processes for ``launcher`` None, ``joblib`` or ``local``: with no
        launcher named, 1 runs the jobs one after the other in this process (Hydra's
        ``basic`` launcher), more use the ``joblib`` launcher with ``n_jobs`` workers
        (-1: every core), one Numba thread each.
    templates : dict, optional
        ``name -> override template`` with ``{value}``, e.g.
        ``"firms.both.intervention=[{value},{value},{value}]"``.
    variables : list of str, optional
        Keep only these Dataset variables (saves memory for large designs).
    verbose : int
        Non-zero: one line per finished job (the sweep's progress).
    sweep_dir : path, optional
        The sweep folder (job ``k`` = point ``k // len(seeds)``, seed ``k % len(seeds)``;
        ``design.yaml``, ``sweep.nc``, ``failures.yaml``). Without it, a temporary
        folder, removed afterwards (nothing to resume).
    launcher : ``basic``, ``joblib``, ``ray``, ``slurm``, ``submitit_local`` or ``local``, optional
        The Hydra launcher (default from ``n_jobs``); its options in ``hydra_overrides``
        (``hydra.launcher.partition=short``...). ``local``: the in-memory path (see
        the module docstring), without sweep folder, failures kept or resume.
    resume : bool
        Run only the jobs of ``sweep_dir`` without ``run.nc`` (the same design), then merge.
    allow_failures : bool
        Return a Dataset with failed jobs as NaN / -1 (listed in ``attrs["failures"]``)
        instead of raising :class:`RuntimeError`.

    Returns
    -------
    xarray.Dataset
        The runs' variables with leading dimensions ``run`` (design point, 0..P-1) and
        ``seed``; each parameter is a coordinate along ``run``; attributes
        ``base_overrides``, ``parameters`` and ``templates`` record the design,
        ``sweep_dir``, ``jobs_failed`` and ``failures`` the sweep.

    Raises
    ------
    sim.ConfigError
        Before any run, with one line, if a point is malformed or the design's
        configurations are invalid (the base and the design's extremes are composed
        and validated first with a message naming the design point, see
        :func:`_check_points`; then every job, as for any sweep).
    RuntimeError
        If a job failed (without ``allow_failures``): it names the failed jobs and the
        sweep folder, to fix and ``resume``.
    """
    from ..settings.compose import compose_config

    frame = _as_frame(points)
    templates = dict(templates or {})
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("seeds: give at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds: each seed once, got {seeds}")
    base = [str(o) for o in base_overrides]
    point_ov = [point_overrides(row, templates) for row in frame.to_dict("records")]
    keep = list(variables) if variables is not None else None
    if keep is not None:
        from ..results.output import FIRM_VARS, MARKET_VARS, SEGMENT_VARS

        known = {*FIRM_VARS, *SEGMENT_VARS, *MARKET_VARS}
        unknown = [v for v in keep if v not in known]
        if unknown:
            raise ConfigError(f"variables: unknown {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    if resume and sweep_dir is None:
        raise ConfigError("resume: give the sweep_dir of the design to resume")
    base_cfg = compose_config([*base, f"seed={seeds[0]}"])
    _check_points(base_cfg, frame, point_ov, templates)
    name, options = _launcher_overrides(launcher, n_jobs)
    if name == LOCAL:
        if sweep_dir is not None or resume or hydra_overrides:
            raise ConfigError(f"launcher={LOCAL} runs in memory: no sweep folder, resume or Hydra options; "
                              "choose a Hydra launcher (basic, joblib, ray, slurm, submitit_local) for those")
        ds = _run_local(base_cfg, point_ov, seeds, keep, n_jobs, verbose)
        folder = None
    else:
        ds, folder = _run_sweep(design_jobs(point_ov, base, seeds), len(frame), seeds, keep, name,
                                [*options, *hydra_overrides], sweep_dir, resume, verbose, allow_failures)
    for name_ in frame.columns:
        values = frame[name_].to_numpy()
        if values.dtype == object:
            values = np.array([_format(v) for v in values])
        ds = ds.assign_coords({name_: (RUN_DIM, values)})
        ds[name_].attrs["long_name"] = f"design parameter {name_}"
    ds.attrs["base_overrides"] = " ".join(base)
    ds.attrs["parameters"] = ", ".join(map(str, frame.columns))
    ds.attrs["templates"] = "; ".join(f"{k}: {v}" for k, v in templates.items())
    ds.attrs["design_runs"] = len(frame) * len(seeds)
    ds.attrs["launcher"] = name
    ds.attrs["sweep_dir"] = str(folder.resolve()) if folder is not None and sweep_dir is not None else ""
    return ds


def _run_sweep(jobs: list[list[str]], n_points: int, seeds: list[int], keep: list[str] | None, launcher: str,
               hydra_overrides: list[str], sweep_dir: str | os.PathLike | None, resume: bool, verbose: int,
               allow_failures: bool) -> tuple[xr.Dataset, Path]:
    """The design's jobs through :func:`sim.runner.sweep.run_jobs`, reshaped to ``run`` x ``seed``."""
    import shutil
    import tempfile

    from .sweep import run_jobs

    folder = Path(sweep_dir) if sweep_dir is not None else Path(tempfile.mkdtemp(prefix="sim-design-")) / "sweep"
    try:
        merged = run_jobs(jobs, folder, launcher=launcher, hydra_overrides=hydra_overrides,
                          progress=bool(verbose), resume=resume)
        missing = [int(j) for j in np.atleast_1d(merged.attrs.get("missing_jobs", []))]
        if missing and not allow_failures:
            where = (f"fix the cause (see {folder / 'failures.yaml'}) and resume the design"
                     if sweep_dir is not None else "run with a sweep folder to keep the finished jobs and resume")
            raise RuntimeError(f"{len(missing)} of {len(jobs)} design jobs did not finish (jobs "
                               f"{', '.join(map(str, missing[:10]))}{'...' if len(missing) > 10 else ''}): {where}")
        ds = _by_point_and_seed(merged, n_points, seeds, keep)
    finally:
        if sweep_dir is None:
            shutil.rmtree(folder.parent, ignore_errors=True)
    return ds, folder


def _by_point_and_seed(merged: xr.Dataset, n_points: int, seeds: list[int], keep: list[str] | None) -> xr.Dataset:
    """The merged sweep (its cells in any layout: ``run``, or a grid when the jobs happen to form
    one) as dims ``run`` (point) x ``seed`` x the variables' own, in the design's job order."""
    ns = len(seeds)
    number = merged["job_number"]
    cells = list(number.dims)
    order = np.argsort(number.values.reshape(-1), kind="stable")
    if len(order) != n_points * ns or not np.array_equal(number.values.reshape(-1)[order], np.arange(len(order))):
        raise RuntimeError(f"the merged sweep has {len(order)} cells, the design {n_points * ns} jobs")
    names = [v for v in merged.data_vars if not v.startswith(("run_", "job_")) and v != "job_number"
             and set(cells) <= set(merged[v].dims)]
    if keep is not None:
        names = [v for v in names if v in keep]
    data = {}
    for v in names:
        da = merged[v]
        rest = [d for d in da.dims if d not in cells]
        arr = da.transpose(*cells, *rest).values.reshape(-1, *[da.sizes[d] for d in rest])[order]
        data[v] = ((RUN_DIM, "seed", *rest), arr.reshape(n_points, ns, *arr.shape[1:]), dict(da.attrs))
    coords = {RUN_DIM: np.arange(n_points), "seed": np.array(seeds, dtype=np.int64)}
    for d in ("step", "firm", "segment"):
        if d in merged.coords and any(d in dims for dims, _, _ in data.values()):
            coords[d] = merged[d]
    if "step" in coords and "time" in merged.coords:
        coords["time"] = merged["time"]
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update({k: v for k, v in merged.attrs.items()
                     if k not in ("swept", "design", "fixed_overrides", "missing_jobs", "failed_jobs")})
    failed = [int(j) for j in np.atleast_1d(merged.attrs.get("missing_jobs", []))]
    ds.attrs["failed_points"] = ", ".join(str(j // ns) for j in failed)
    return ds
