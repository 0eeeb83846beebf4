"""Run a design of experiments: many parameter points times many seeds, one Dataset.

:func:`run_design` is the **only** place where sensitivity analysis
(:mod:`sim.sensitivity`) and calibration (:mod:`sim.calibrate`) run simulations.
Today it composes the base overrides once, merges each point's overrides onto that
config (:func:`sim.configure.as_config`, the path of ``sim.run(config=..., seed=...)``)
and calls :func:`sim.run` for every point and seed in parallel through joblib (loky
processes, one Numba thread each); the result equals ``sim.run(base + point, seed)``
(tested); routing it through the sweep machinery (Hydra launchers) later means
changing this one function, with the same arguments and the same Dataset back.

A *point* maps a parameter name to a value. A name is a config path
(``firms.both.price``) that becomes the override ``firms.both.price=<value>``; a
point may also name a *template* (``templates={"spend": "firms.both.intervention=[{value},{value},{value}]"}``)
for parameters that are not one config field.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .config import ConfigError

#: Name of the design dimension.
RUN_DIM = "run"


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
    from .api import run
    from .configure import as_config

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
    from .configure import as_config

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


def run_design(points: pd.DataFrame | Sequence[Mapping[str, Any]], base_overrides: Sequence[str] = (),
               seeds: Sequence[int] = (0,), n_jobs: int = 1, *, templates: Mapping[str, str] | None = None,
               variables: Sequence[str] | None = None, verbose: int = 0) -> xr.Dataset:
    """Run every design point with every seed and return one Dataset.

    This is the single function through which sensitivity analysis and calibration
    run simulations; to move them onto the sweep machinery, change only this body.

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
        Parallel processes (joblib loky), each with one Numba thread; 1 runs in
        this process; -1 uses every core.
    templates : dict, optional
        ``name -> override template`` with ``{value}``, e.g.
        ``"firms.both.intervention=[{value},{value},{value}]"``.
    variables : list of str, optional
        Keep only these Dataset variables (saves memory for large designs).
    verbose : int
        joblib verbosity.

    Returns
    -------
    xarray.Dataset
        The runs' variables with leading dimensions ``run`` (design point, 0..P-1) and
        ``seed``; each parameter is a coordinate along ``run``; attributes
        ``base_overrides``, ``parameters`` and ``templates`` record the design.

    Raises
    ------
    sim.ConfigError
        Before any run, with one line, if a point is malformed or the design's
        configurations are invalid (the base and the design's extremes are composed
        and validated first; see :func:`_check_points`).
    """
    from joblib import Parallel, delayed, parallel_config

    from .configure import compose_config

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
        from .output import FIRM_VARS, MARKET_VARS, SEGMENT_VARS

        known = {*FIRM_VARS, *SEGMENT_VARS, *MARKET_VARS}
        unknown = [v for v in keep if v not in known]
        if unknown:
            raise ConfigError(f"variables: unknown {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    base_cfg = compose_config([*base, f"seed={seeds[0]}"])
    _check_points(base_cfg, frame, point_ov, templates)
    # the base is composed once (Hydra composition costs more than a small run); each point's
    # overrides are merged onto it in the worker, once per point, and every seed runs on it
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
    for i in range(len(frame)):
        runs = [r.drop_attrs(deep=False) for r in results[i * ns:(i + 1) * ns]]
        per_point.append(xr.concat(runs, dim=pd.Index(seeds, name="seed"), join="outer"))
    ds = xr.concat(per_point, dim=pd.Index(np.arange(len(frame)), name=RUN_DIM), join="outer")
    for name in frame.columns:
        values = frame[name].to_numpy()
        if values.dtype == object:
            values = np.array([_format(v) for v in values])
        ds = ds.assign_coords({name: (RUN_DIM, values)})
        ds[name].attrs["long_name"] = f"design parameter {name}"
    first = results[0].attrs
    ds.attrs.update({k: v for k, v in first.items() if k not in ("seed", "config")})
    ds.attrs["base_overrides"] = " ".join(base)
    ds.attrs["parameters"] = ", ".join(map(str, frame.columns))
    ds.attrs["templates"] = "; ".join(f"{k}: {v}" for k, v in templates.items())
    ds.attrs["design_runs"] = len(frame) * ns
    return ds

