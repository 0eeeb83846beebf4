"""What the classroom page lets a lecturer take away: the current figures and the run.

:func:`figures_zip` renders every panel of the page (with a kept run's faint lines) as
a PNG at print size into one ZIP file; :func:`run_netcdf` and :func:`run_csv` give the
recorded steps as netCDF (the file ``python -m sim`` writes, with the resolved config)
and as a CSV table (one row per step and firm, the market variables repeated on each
row; the per-segment variables are in the netCDF file only). Controls applied from a
step on ("apply from now") are listed in the netCDF attribute ``page_changes`` and in
the CSV's first comment line, since the config attribute holds their final values.
"""

from __future__ import annotations

import io
import zipfile

import xarray as xr

from ..results.runfolder import netcdf_encoding
from . import figures as F
from .session import Kept, Run

#: Size of an exported figure, pixels at scale 1, and its scale (device pixels per pixel).
EXPORT_SIZE: tuple[int, int] = (800, 600)
EXPORT_SCALE = 2.0


def file_stem(run: Run) -> str:
    """``SCENARIO-seedN-stepT``: the name exported files start with."""
    cfg = run.sim.cfg
    return f"{cfg.scenario or 'run'}-seed{cfg.seed}-step{run.step_now}"


def figures_zip(run: Run, kept: Kept | None = None) -> bytes:
    """A ZIP of one PNG per panel of :data:`sim.app.figures.PANELS` at the current step."""
    out = io.BytesIO()
    stem = file_stem(run)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        for i, name in enumerate(F.PANELS, 1):
            panel = F.PANELS[name]([f.name for f in run.sim.firm_list], run.horizon, EXPORT_SIZE, EXPORT_SCALE)
            panel.keep(kept.data if kept is not None else None)
            z.writestr(f"{stem}/{i}-{name}.png", panel.render(run.data(), run.firms()))
    return out.getvalue()


def _with_changes(run: Run) -> xr.Dataset:
    ds = run.data()
    if ds is None:
        raise ValueError("nothing recorded yet: press Step or Play first")
    if run.changes:
        ds = ds.assign_attrs(page_changes="; ".join(f"step {s}: {t}" for s, t in run.changes))
    return ds


def run_netcdf(run: Run) -> bytes:
    """The recorded steps as a netCDF-4 file (as ``run.nc`` of ``python -m sim``)."""
    ds = _with_changes(run)
    return bytes(ds.to_netcdf(None, engine="netcdf4", encoding=netcdf_encoding(ds)))


def run_csv(run: Run) -> bytes:
    """The recorded steps as CSV: one row per step and firm, firm and market variables as columns."""
    ds = _with_changes(run)
    frame = ds.drop_dims("segment", errors="ignore").to_dataframe()
    head = f"# {file_stem(run)}" + (f"; {ds.attrs['page_changes']}" if "page_changes" in ds.attrs else "") + "\n"
    return (head + frame.to_csv()).encode()
