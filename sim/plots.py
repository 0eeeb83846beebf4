"""Plots of a run (matplotlib). Being written; plot_run writes nothing yet."""

from __future__ import annotations

from pathlib import Path

import xarray as xr


def plot_run(ds: xr.Dataset, outdir: Path) -> list[Path]:
    return []
