"""Run a design of experiments: many parameter points times many seeds, one Dataset.

:func:`run_design` is the **only** place where sensitivity analysis
(:mod:`sim.sensitivity`) and calibration (:mod:`sim.calibrate`) run simulations.
Today it composes each point once (the overrides, as `sim.run(overrides, seed)` would) and calls
:func:`sim.run` for every seed in parallel through joblib (loky processes, one Numba
thread each); routing it through the sweep machinery (Hydra launchers) later means
changing this one function, with the same arguments and the same Dataset back.

A *point* maps a parameter name to a value. A name is a config path
(``firms.both.price``) that becomes the override ``firms.both.price=<value>``; a
point may also name a *template* (``templates={"spend": "firms.both.intervention=[{value},{value},{value}]"}``)
for parameters that are not one config field.
"""

from __future__ import annotations

import dataclasses
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


def _one(config: Any, seed: int, variables: list[str] | None, single_thread: bool) -> xr.Dataset:
    """Worker: one simulation of a composed, validated config (in a loky process when ``single_thread``)."""
    if single_thread:
        import numba

        numba.set_num_threads(1)
    from .api import run

    ds = run(config=dataclasses.replace(config, seed=int(seed)))
    if variables is not None:
        ds = ds[variables]
    return ds


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
        Before any run, with one line, if a point is malformed or any run's
        configuration is invalid (each distinct configuration is composed and
        validated first).
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
    configs = []
    for i, ov in enumerate(point_ov):  # compose and validate every point before the first run
        try:
            configs.append(compose_config([*base, *ov, f"seed={seeds[0]}"]))
        except ConfigError as err:
            raise ConfigError(f"design point {i} ({' '.join(ov)}): {err}") from None
    keep = list(variables) if variables is not None else None
    if keep is not None:
        from .output import FIRM_VARS, MARKET_VARS, SEGMENT_VARS

        known = {*FIRM_VARS, *SEGMENT_VARS, *MARKET_VARS}
        unknown = [v for v in keep if v not in known]
        if unknown:
            raise ConfigError(f"variables: unknown {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    # each point is composed once (Hydra composition costs more than a small run); seeds vary on it
    jobs = [(cfg, s) for cfg in configs for s in seeds]
    if n_jobs == 1:
        results = [_one(ov, s, keep, False) for ov, s in jobs]
    else:
        with parallel_config(backend="loky", inner_max_num_threads=1):
            results = Parallel(n_jobs=n_jobs, verbose=verbose)(
                delayed(_one)(ov, s, keep, True) for ov, s in jobs)
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

