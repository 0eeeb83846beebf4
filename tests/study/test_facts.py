"""The stylized facts (sim.study.facts): each holds at the defaults over several seeds, through
customers' choices, and fails when its mechanism is switched off (the ablation).

How robust each is over parameter samples and structural variations is measured by
``make facts`` (sim.study.robustness, docs/FACTS.md); tests/study/test_robustness.py checks
that report's machinery.
"""

from __future__ import annotations

import pytest

from sim.study.facts import FACTS, VARIATIONS

pytestmark = pytest.mark.slow  # minutes: `make test-fast` leaves them out

SEEDS = (0, 1, 2)
N = 20_000


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("number", sorted(FACTS))
def test_fact_holds(number, seed):
    fact = FACTS[number]
    outcome = fact.run(seed, N)
    assert outcome.holds, f"fact {number} ({fact.claim}) failed at seed {seed}: {outcome.measured}"


@pytest.mark.parametrize("number", sorted(FACTS))
def test_fact_fails_without_its_mechanism(number):
    """No fact's test passes with its mechanism switched off: the fact is about that mechanism."""
    fact = FACTS[number]
    outcome = fact.run(0, N, ablate=True)
    assert not outcome.holds, f"fact {number} holds without its mechanism ({fact.mechanism}): {outcome.measured}"


def test_every_fact_names_its_mechanism_and_where_it_applies():
    for number, fact in FACTS.items():
        assert fact.number == number and fact.claim and fact.mechanism and fact.ablation
        assert set(fact.applies) <= set(VARIATIONS), number
        # a variation outside a fact's premise says why, and is not also counted as applying
        assert set(fact.outside) <= set(VARIATIONS) - set(fact.applies), number
        assert all(why.strip() for why in fact.outside.values()), number
        assert fact.measure.__name__ == f"fact{number}"
