"""Results: preallocated per-step records, the xarray Dataset, atomic netCDF files.

Every variable carries ``long_name`` and ``units``; the resolved config is kept as
one YAML string attribute (netCDF attributes cannot nest); no attribute holds a
time, so equal runs give identical Datasets. Means over a firm's customers are NaN
while the firm has no customers (missing, not zero); per-contact shares are NaN in
a step without contacts; market variables are always defined.

Run folders: :func:`claim_folder` creates the ``INCOMPLETE`` marker exclusively,
:func:`write_netcdf_tmp` writes the Dataset to a hidden temporary file,
:func:`publish` moves it into place without ever replacing an existing file, and
:func:`finish_folder` removes the marker. A folder holds a complete result if and
only if it holds ``run.nc``.
"""

from __future__ import annotations

import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from . import kernels as K
from .config import ConfigError
from .firms import quadrant

if TYPE_CHECKING:
    from .model import CustomerModel

#: (step, firm) variables: name -> (long_name, units)
FIRM_VARS: dict[str, tuple[str, str]] = {
    "customers": ("customers of the firm at the end of the step", "customers"),
    "share": ("market share among customers with a provider", "1"),
    "price": ("price", "money/customer/step"),
    "unit_cost": ("variable cost per own customer", "money/customer/step"),
    "digital": ("digital service level d", "1"),
    "human": ("human service level h", "1"),
    "quadrant": ("quadrant: 1 neither, 2 human only, 3 digital only, 4 both", "1"),
    "revenue": ("revenue", "money/market customer/step"),
    "cost": ("total cost (variable, fixed, interventions, investment)", "money/market customer/step"),
    "profit": ("profit", "money/market customer/step"),
    "cash": ("cash at the end of the step", "money/market customer"),
    "alive": ("firm takes part in the market", "1"),
    "trust": ("mean trust of the firm's customers", "1"),
    "engagement": ("mean engagement of the firm's customers", "1"),
    "satisfaction": ("mean satisfaction of the firm's customers", "1"),
    "freedom": ("mean perceived freedom of choice", "1"),
    "influence": ("mean feeling of being heard", "1"),
    "fairness": ("mean perceived fairness", "1"),
    "relationship": ("relationship index: mean of trust, engagement, freedom, influence, fairness", "1"),
    "effort": ("mean effort of the step's service contacts (1 - quality)", "1"),
    "nps": ("net promoter score: % promoters (9-10) - % detractors (0-6)", "percent"),
    "churn": ("share of the firm's customers at the start of the step who left", "1/step"),
    "tenure": ("mean tenure of the firm's customers", "steps"),
    "data_shared": ("share of the firm's customers sharing data", "1"),
    "steering_noticed": ("share of the step's contacts with noticed steering", "1"),
    "human_contacts": ("share of the step's contacts served by a human", "1"),
    "adopted_share": ("share of the firm's customers using digital channels", "1"),
    "disengaged": ("share of the firm's customers with engagement below the threshold", "1"),
    "price_sensitivity_firm": ("mean price sensitivity alpha of the firm's customers", "1/money"),
}
#: (step, segment) variables
SEGMENT_VARS: dict[str, tuple[str, str]] = {
    "segment_customers": ("customers in the segment", "customers"),
    "segment_engagement": ("mean engagement in the segment", "1"),
    "segment_trust": ("mean trust in the segment", "1"),
    "segment_satisfaction": ("mean satisfaction in the segment", "1"),
    "segment_disengaged": ("share of the segment with engagement below the threshold", "1"),
    "adoption": ("share of the segment using digital channels", "1"),
}
#: (step,) variables
MARKET_VARS: dict[str, tuple[str, str]] = {
    "digital_expectation": ("digital expectation E", "1"),
    "hhi": ("Herfindahl-Hirschman index of shares", "1"),
    "mean_price": ("share-weighted mean price", "money/customer/step"),
    "price_sensitivity": ("mean price sensitivity alpha", "1/money"),
    "adoption_total": ("share of all customers using digital channels", "1"),
    "commoditisation": ("commoditisation index (1 - spread of digital levels / commodity_spread)", "1"),
    "shock": ("shock window active", "1"),
    "unassigned": ("customers without a provider (no firm alive)", "customers"),
}
INT_VARS = {"customers", "quadrant", "alive", "segment_customers", "shock", "unassigned"}


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(a, b).shape, np.nan)
    np.divide(a, b, out=out, where=b > 0)
    return out


#: Firm variables that are tally sums divided by the firm's customers.
_MEAN_NAMES, _MEAN_COLS = zip(("trust", K.T_TRUST), ("engagement", K.T_ENGAGEMENT),
                              ("satisfaction", K.T_SATISFACTION), ("freedom", K.T_FREEDOM),
                              ("influence", K.T_INFLUENCE), ("fairness", K.T_FAIRNESS),
                              ("tenure", K.T_TENURE), ("data_shared", K.T_SHARED),
                              ("adopted_share", K.T_ADOPTED), ("disengaged", K.T_DISENGAGED),
                              ("price_sensitivity_firm", K.T_ALPHA), strict=True)
_MEAN_COLS = list(_MEAN_COLS)


class Recorder:
    """Preallocated arrays, one row per step, filled by :meth:`record`."""

    def __init__(self, steps: int, firms: list[str], segments: list[str]):
        self.steps, self.firms, self.segments = steps, firms, segments
        nf, ns = len(firms), len(segments)
        self.data = {name: np.full((steps, nf), np.nan) for name in FIRM_VARS}
        self.data.update({name: np.full((steps, ns), np.nan) for name in SEGMENT_VARS})
        self.data.update({name: np.full(steps, np.nan) for name in MARKET_VARS})
        self.filled = 0

    def record(self, model: CustomerModel, t: int, tal: np.ndarray, seg: np.ndarray) -> None:
        i = t - 1
        d = self.data
        firms = model.firm_list
        cust = tal[:, K.T_CUSTOMERS]
        assigned = cust.sum()
        d["customers"][i] = cust
        d["share"][i] = cust / assigned if assigned else 0.0
        d["price"][i] = [f.price for f in firms]
        d["unit_cost"][i] = [f.unit_cost() for f in firms]
        d["digital"][i] = [f.digital for f in firms]
        d["human"][i] = [f.human for f in firms]
        d["quadrant"][i] = [quadrant(f.digital, f.human) for f in firms]
        d["revenue"][i] = [f.revenue for f in firms]
        d["cost"][i] = [f.cost for f in firms]
        d["profit"][i] = [f.profit for f in firms]
        d["cash"][i] = [f.cash for f in firms]
        d["alive"][i] = [f.alive for f in firms]
        means = _div(tal[:, _MEAN_COLS], cust[:, None])  # one division for every per-customer mean
        for k, name in enumerate(_MEAN_NAMES):
            d[name][i] = means[:, k]
        d["relationship"][i] = np.mean([d[n][i] for n in ("trust", "engagement", "freedom",
                                                          "influence", "fairness")], axis=0)
        contacts = tal[:, K.T_CONTACTS]
        d["effort"][i] = _div(tal[:, K.T_EFFORT], contacts)
        d["steering_noticed"][i] = _div(tal[:, K.T_NOTICED], contacts)
        d["human_contacts"][i] = _div(tal[:, K.T_HUMAN], contacts)
        d["nps"][i] = 100.0 * _div(tal[:, K.T_PROMOTERS] - tal[:, K.T_DETRACTORS], cust)
        prev = model._prev_customers
        d["churn"][i] = _div(tal[:, K.T_CHURN] + model._lost_at_exit, prev)
        sc = seg[:, K.S_COUNT]
        d["segment_customers"][i] = sc
        d["segment_engagement"][i] = _div(seg[:, K.S_ENGAGEMENT], sc)
        d["segment_trust"][i] = _div(seg[:, K.S_TRUST], sc)
        d["segment_satisfaction"][i] = _div(seg[:, K.S_SATISFACTION], sc)
        d["segment_disengaged"][i] = _div(seg[:, K.S_DISENGAGED], sc)
        d["adoption"][i] = _div(seg[:, K.S_ADOPTED], sc)
        d["digital_expectation"][i] = model.expectation
        shares = d["share"][i]
        d["hhi"][i] = float(np.sum(shares**2))
        d["mean_price"][i] = model.mean_price
        d["price_sensitivity"][i] = model.mean_alpha
        d["adoption_total"][i] = model.adoption
        d["commoditisation"][i] = model.commodity
        d["shock"][i] = model.shock_active
        d["unassigned"][i] = model.n - assigned
        self.filled = t

    def to_dataset(self, attrs: dict[str, str | int | float]) -> xr.Dataset:
        n = self.filled
        coords = {"step": np.arange(1, n + 1), "firm": self.firms, "segment": self.segments}
        variables = {}
        for table, dims in ((FIRM_VARS, ("step", "firm")), (SEGMENT_VARS, ("step", "segment")),
                            (MARKET_VARS, ("step",))):
            for name, (long_name, units) in table.items():
                values = self.data[name][:n]
                if name in INT_VARS:
                    values = values.astype(np.int64)
                variables[name] = (dims, values, {"long_name": long_name, "units": units})
        ds = xr.Dataset(variables, coords=coords, attrs=attrs)
        ds["step"].attrs.update(long_name="step (end of)", units="step")
        ds["firm"].attrs.update(long_name="firm")
        ds["segment"].attrs.update(long_name="customer segment")
        return ds


def versions() -> dict[str, str]:
    """Versions of this package and the libraries that shape its numbers."""
    out = {}
    for pkg in ("customer-sim", "mesa", "numpy", "numba", "xarray", "hydra-core"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


#: Marker file in a run folder while the run is unfinished; left behind (with the
#: reason) by an interrupted or failed run.
INCOMPLETE = "INCOMPLETE"
#: The file whose presence means "this folder holds a complete run".
RESULT = "run.nc"


class RunFolderTaken(ConfigError):
    """The folder already holds a run (finished or not): results are never overwritten."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _tmp_beside(path: Path) -> Path:
    """A new hidden temporary file in ``path``'s folder, readable as an ordinary file would be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files
    return Path(tmp)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish(tmp: str | os.PathLike, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Move the finished file ``tmp`` to ``path`` in one atomic step.

    With ``overwrite=False`` an existing ``path`` is never replaced: the file is
    hard-linked into place (which fails if ``path`` exists) and
    :class:`RunFolderTaken` is raised; ``tmp`` is removed either way.
    """
    tmp, path = Path(tmp), Path(path)
    try:
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise RunFolderTaken(f"{path} already exists: results are never overwritten") from None
            except OSError:  # no hard links on this file system: check, then rename
                if path.exists():
                    raise RunFolderTaken(f"{path} already exists: results are never overwritten") from None
                os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return path


def write_netcdf_tmp(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` completely to a hidden temporary file beside ``path`` (flushed to disk)."""
    tmp = _tmp_beside(Path(path))
    try:
        ds.to_netcdf(tmp, engine="h5netcdf")
        _fsync_file(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(ds: xr.Dataset, path: str | os.PathLike, overwrite: bool = True) -> Path:
    """Write ``ds`` as netCDF to a temporary file beside ``path``, then rename into place.

    A crash or interrupt part-way leaves at most a hidden ``.tmp`` file (removed when
    the process can still clean up), never a ``run.nc`` that looks whole. With
    ``overwrite=False`` an existing ``path`` is kept and :class:`RunFolderTaken` raised.
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise RunFolderTaken(f"{path} already exists: results are never overwritten")
    return publish(write_netcdf_tmp(ds, path), path, overwrite=overwrite)


def write_text_atomic(text: str, path: str | os.PathLike) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    tmp = _tmp_beside(path)
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def claim_folder(folder: str | os.PathLike, note: str = "") -> Path:
    """Claim ``folder`` for a new run: create it and its ``INCOMPLETE`` marker exclusively.

    Raises :class:`RunFolderTaken` if the folder already holds ``run.nc`` or an
    ``INCOMPLETE`` marker (a finished, running, interrupted or failed run). The
    marker stays until :func:`finish_folder` removes it after ``run.nc`` is in place.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    hint = "choose another folder (hydra.run.dir=...) or remove it"
    if (folder / RESULT).exists():
        raise RunFolderTaken(f"{folder} already holds a finished run ({RESULT}): results are never "
                             f"overwritten; {hint}")
    try:
        fd = os.open(folder / INCOMPLETE, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise RunFolderTaken(f"{folder} already holds an unfinished run ({INCOMPLETE}): {hint}") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(f"This run has not finished (or was killed): no {RESULT} yet.\n{note}")
    return folder


def mark_incomplete(folder: str | os.PathLike, reason: str) -> Path:
    """Rewrite the folder's ``INCOMPLETE`` marker with why the run stopped."""
    text = (f"This run did not finish: {reason}.\n"
            f"No {RESULT} was written; nothing in this folder is a complete result.\n")
    return write_text_atomic(text, Path(folder) / INCOMPLETE)


def finish_folder(folder: str | os.PathLike) -> None:
    """Remove the ``INCOMPLETE`` marker of a run whose ``run.nc`` is in place."""
    folder = Path(folder)
    if not (folder / RESULT).exists():
        raise RuntimeError(f"{folder}: {RESULT} is missing; the run is not finished")
    (folder / INCOMPLETE).unlink(missing_ok=True)
    _fsync_dir(folder)


def load(path: str | os.PathLike) -> xr.Dataset:
    """Open a run's ``run.nc`` (or the folder holding it) into memory."""
    path = Path(path)
    if path.is_dir():
        path = path / "run.nc"
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()
