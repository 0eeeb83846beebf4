"""Stylized facts of MODEL.md section 4, each over several seeds.

Each test compares configurations that differ only in the mechanism under test
and asserts the direction and a meaningful size of the effect in every seed.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim

SEEDS = (0, 1, 2, 3, 4)
N = 20_000


def _run(scenario: str, seed: int, *extra: str):
    return sim.run([f"scenario={scenario}", f"customers.n={N}", *extra], seed=seed)


@pytest.fixture(scope="module")
def baseline_runs():
    return [_run("baseline", s) for s in SEEDS]


@pytest.fixture(scope="module")
def disruptor_runs():
    return [_run("disruptor", s) for s in SEEDS]


def _exit_step(ds, firm) -> float:
    """First step at which a firm that had entered is no longer alive (inf if never)."""
    alive = ds.alive.sel(firm=firm).values.astype(bool)
    entered = np.maximum.accumulate(alive)
    gone = np.flatnonzero(entered & ~alive)
    return float(ds.step.values[gone[0]]) if gone.size else np.inf


def test_fact1_quadrant1_exits_first(baseline_runs, disruptor_runs):
    for ds in baseline_runs + disruptor_runs:
        q1 = [f for f in ds.firm.values if int(ds.quadrant.sel(firm=f).isel(step=0)) == 1]
        others = [f for f in ds.firm.values if f not in q1]
        first_q1 = min(_exit_step(ds, f) for f in q1)
        assert np.isfinite(first_q1), "the quadrant-1 firm should exit within the horizon"
        assert all(_exit_step(ds, f) > first_q1 for f in others)


def test_fact2_quadrant2_holds_share_without_disruptor_and_loses_it_after(baseline_runs, disruptor_runs):
    for base, disr in zip(baseline_runs, disruptor_runs):
        at_entry = float(base.share.sel(firm="human_only", step=35))
        end_base = float(base.share.sel(firm="human_only").isel(step=-1))
        end_disr = float(disr.share.sel(firm="human_only").isel(step=-1))
        assert float(disr.share.sel(firm="human_only", step=35)) == pytest.approx(at_entry, abs=0.01)
        assert end_base >= 0.95 * at_entry, "without a disruptor quadrant 2 holds its share"
        assert end_disr <= 0.8 * at_entry, "after the disruptor enters quadrant 2 loses a fifth or more"
        assert end_disr <= end_base - 0.05


def test_fact4_quadrant4_ends_with_highest_engagement_nps_tenure_and_profit(baseline_runs):
    for ds in baseline_runs:
        last = ds.isel(step=-1)
        alive = [f for f in ds.firm.values if bool(last.alive.sel(firm=f))]
        q4 = [f for f in alive if int(last.quadrant.sel(firm=f)) == 4]
        assert q4 == ["both"]
        rest = [f for f in alive if f != "both"]
        for var in ("engagement", "nps", "tenure"):
            assert float(last[var].sel(firm="both")) > float(last[var].sel(firm=rest).max()), var
        total_profit = ds.profit.sum("step")
        assert float(total_profit.sel(firm="both")) > float(total_profit.sel(firm=rest).max())
        # engagement clearly higher than the digital-only firm's, satisfaction close to it
        eng = last.engagement.sel(firm=["both", "digital_only"]).values
        assert eng[0] > 2 * eng[1]
