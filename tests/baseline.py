"""The stored regression baseline: the final state of the default scenario at seed 0, 20,000 customers.

``python -m tests.baseline`` (``make baseline``) recomputes it and writes
``tests/data/baseline_summary.json``; do that only when the model changes on purpose,
and commit the new file together with that change. ``tests/test_reproducibility.py``
compares a fresh run with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import sim

BASELINE = Path(__file__).parent / "data" / "baseline_summary.json"
#: The baseline run: the default scenario (no scenario override), seed 0, 20,000 customers.
BASELINE_OVERRIDES = ["customers.n=20000"]
BASELINE_SEED = 0
MARKET_SUMMARY = ("digital_expectation", "hhi", "mean_price", "price_sensitivity", "adoption_total",
                  "digital_frontier", "digital_used")


def _floats(values) -> list[float | None]:
    """Floats for JSON; NaN (a mean over no customers) as null."""
    return [None if np.isnan(v) else float(v) for v in np.asarray(values, float)]


def baseline_summary() -> dict:
    """The numbers the baseline pins: final state per firm and of the market, plus run totals."""
    ds = sim.run(BASELINE_OVERRIDES, seed=BASELINE_SEED)
    last = ds.isel(step=-1)
    return {
        "about": "final state of the default scenario; refresh with `make baseline` when the model changes "
                 "on purpose",
        "overrides": BASELINE_OVERRIDES,
        "seed": BASELINE_SEED,
        "scenario": ds.attrs["scenario"],
        "steps": int(ds.sizes["step"]),
        "firms": [str(f) for f in ds.firm.values],
        "customers": [int(v) for v in last.customers.values],
        "alive": [int(v) for v in last.alive.values],
        "share": _floats(last.share.values),
        "nps": _floats(last.nps.values),
        "trust": _floats(last.trust.values),
        "engagement": _floats(last.engagement.values),
        "price": _floats(last.price.values),
        "cash": _floats(last.cash.values),
        "profit_total": _floats(ds.profit.sum("step").values),
        "market": {name: float(last[name]) for name in MARKET_SUMMARY},
        "segment_engagement": _floats(last.segment_engagement.values),
        "versions": {k.removeprefix("version_"): v for k, v in ds.attrs.items() if k.startswith("version_")},
    }


def write_baseline(path: Path = BASELINE) -> Path:
    """Recompute the baseline and store it (``make baseline``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(baseline_summary(), indent=1, allow_nan=False) + "\n")
    return path


if __name__ == "__main__":
    print(f"wrote {write_baseline()}")
