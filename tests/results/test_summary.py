"""The text summary of a run (sim.results.summary)."""

from __future__ import annotations

import sim
from sim.results.summary import QUADRANT_NAMES, summary_table


def test_summary_names_every_firm_its_quadrant_status_and_the_market():
    ds = sim.run(["scenario=disruptor", "customers.n=2000", "steps=40", "firms.disruptor.enter_step=30"], seed=1)
    text = summary_table(ds)
    lines = text.splitlines()
    assert lines[0].startswith("scenario disruptor, seed 1, 2,000 customers, 40 steps")
    for firm in ds.firm.values:
        row = next(line for line in lines if line.startswith(str(firm)))
        q = int(ds.quadrant.sel(firm=firm).isel(step=-1))
        assert QUADRANT_NAMES[q] in row
    assert "digital expectation E" in text and "HHI" in text


def test_summary_marks_an_exit_and_a_firm_that_never_entered():
    ds = sim.run(["scenario=disruptor", "customers.n=1500", "steps=12", "firms.neither.bankruptcy=100",
                  "firms.disruptor.enter_step=11"], seed=0).isel(step=slice(0, 10))
    text = summary_table(ds)
    assert "exit@1" in next(line for line in text.splitlines() if line.startswith("neither"))
    assert "never in" in next(line for line in text.splitlines() if line.startswith("disruptor"))
