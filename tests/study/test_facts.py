"""The stylized facts (sim.study.facts), each through customers' choices, over several seeds.

Every fact compares configurations that differ in one mechanism (or a market with and
without one event) and asserts a consequence in share, churn, tenure, NPS, profit,
survival or customers leaving the market (see :mod:`sim.study.facts` for each measurement);
each must hold at the default parameters in every seed here. How robust each is over a
neighbourhood of parameters is measured by ``make facts`` (docs/FACTS.md).
"""

from __future__ import annotations

import pytest

from sim.study.facts import FACTS

pytestmark = pytest.mark.slow  # minutes: `make test-fast` leaves them out

SEEDS = (0, 1, 2)
N = 20_000


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("number", sorted(FACTS))
def test_fact_holds(number, seed):
    claim, measure = FACTS[number]
    outcome = measure(seed, N, [])
    assert outcome.holds, f"fact {number} ({claim}) failed at seed {seed}: {outcome.measured}"
