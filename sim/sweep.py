"""Collect a Hydra multirun (``python -m sim -m ...``) into one xarray Dataset.

Every job folder holds ``run.nc`` and ``.hydra/overrides.yaml``. The overrides
whose values differ between jobs are the swept factors; each becomes a dimension
(``seed``, ``scenario``, ``market.contact_rate``...), so an analyst can write
``ds.share.mean("seed")``. Jobs without ``run.nc`` (failed or interrupted) are
skipped and listed in the ``missing_jobs`` attribute.
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr
import yaml

from .output import load


def _overrides(job: Path) -> dict[str, object]:
    path = job / ".hydra" / "overrides.yaml"
    items = yaml.safe_load(path.read_text()) if path.exists() else []
    out: dict[str, object] = {}
    for item in items or []:
        key, _, value = str(item).partition("=")
        out[key.lstrip("+~")] = yaml.safe_load(value) if value else None
    return out


def load_sweep(path: str | Path) -> xr.Dataset:
    """Combine the runs below ``path`` with one dimension per swept override.

    Combinations that were not run (a partial grid, a failed job) are NaN; firms
    missing from a scenario are NaN there too.
    """
    root = Path(path)
    jobs = sorted({p.parent for p in root.rglob("run.nc")})
    missing = sorted(str(p.relative_to(root)) for p in root.iterdir()
                     if p.is_dir() and (p / ".hydra").exists() and not (p / "run.nc").exists())
    if not jobs:
        raise FileNotFoundError(f"no run.nc below {root}")
    overrides = [_overrides(j) for j in jobs]
    keys = sorted({k for o in overrides for k in o})
    swept = [k for k in keys if len({repr(o.get(k)) for o in overrides}) > 1]
    runs = []
    for job, ov in zip(jobs, overrides, strict=True):
        ds = load(job).drop_encoding()
        runs.append(ds.expand_dims({k: [ov.get(k)] for k in swept}))
    # merge (not combine_by_coords): firm labels differ between scenarios and are not sorted
    combined = xr.merge(runs, join="outer", compat="no_conflicts", combine_attrs="drop_conflicts")
    combined.attrs["swept"] = ", ".join(swept)
    combined.attrs["missing_jobs"] = ", ".join(missing)
    return combined
