"""A short text summary of a run: the final state of each firm and of the market."""

from __future__ import annotations

import numpy as np
import xarray as xr
import yaml

QUADRANT_NAMES = {1: "neither", 2: "human only", 3: "digital only", 4: "both"}


def _fmt(value: float, spec: str) -> str:
    width = int(spec.split(".")[0] or 0)
    return "-".rjust(width) if value is None or not np.isfinite(value) else format(value, spec)


def summary_table(ds: xr.Dataset) -> str:
    """Final share, cumulative profit, cash, NPS, trust and engagement per firm, as text."""
    last = ds.isel(step=-1)
    steps = int(ds.step.values[-1])
    head = (f"scenario {ds.attrs.get('scenario', '?')}, seed {ds.attrs.get('seed', '?')}, "
            f"{ds.attrs.get('customers_n', '?'):,} customers, {steps} steps")
    cols = f"{'firm':<16}{'quadrant':<14}{'status':<12}{'share':>7}{'profit':>9}{'cash':>8}" \
           f"{'NPS':>7}{'trust':>7}{'engage':>8}"
    lines = [head, "", cols, "-" * len(cols)]
    firms_cfg = (yaml.safe_load(ds.attrs["config"]) or {}).get("firms", {}) if "config" in ds.attrs else {}
    entry = {name: (f or {}).get("enter_step", 0) for name, f in firms_cfg.items()}
    for firm in ds.firm.values:
        f = last.sel(firm=firm)
        alive = ds.alive.sel(firm=firm).values
        if alive[-1]:
            status = "alive"
        elif alive.any():
            status = f"exit@{int(ds.step.values[np.flatnonzero(alive)[-1]] + 1)}"
        elif entry.get(str(firm), 0) < int(ds.step.values[0]):  # present at the start, out at step 1
            status = f"exit@{int(ds.step.values[0])}"
        else:
            status = "never in"
        profit = float(ds.profit.sel(firm=firm).sum())
        lines.append(
            f"{str(firm):<16}{QUADRANT_NAMES[int(f.quadrant)]:<14}{status:<12}"
            f"{_fmt(float(f.share) * 100, '6.1f')}%{_fmt(profit, '9.2f')}{_fmt(float(f.cash), '8.2f')}"
            f"{_fmt(float(f.nps), '7.1f')}{_fmt(float(f.trust), '7.2f')}{_fmt(float(f.engagement), '8.2f')}")
    lines += ["", f"digital expectation E {float(last.digital_expectation):.2f}, HHI {float(last.hhi):.2f}, "
              f"mean price {float(last.mean_price):.2f}, price sensitivity {float(last.price_sensitivity):.2f}, "
              f"digital adoption {float(last.adoption_total) * 100:.0f}%",
              "share: final market share; profit: summed over the run (money per market customer)"]
    return "\n".join(lines)
