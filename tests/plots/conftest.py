"""Run folders the plot tests share (the fixture runs): shock and disruptor, 600 customers, 14 steps."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim

STEPS = 14


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Two finished run folders (run.nc written as the CLI would): shock and disruptor, 600 customers."""
    out = {}
    for scenario, extra in (("shock", ["market.shock.start=4", "market.shock.end=8"]),
                            ("disruptor", ["firms.disruptor.enter_step=6"])):
        folder = tmp_path_factory.mktemp(scenario)
        ds = sim.run([f"scenario={scenario}", "customers.n=600", f"steps={STEPS}", *extra], seed=1)
        ds.to_netcdf(folder / "run.nc", engine="h5netcdf")
        out[scenario] = folder
    return out
