"""The lecture guide's claims (sim.study.lecture): every "Move this control" sentence of docs/LECTURE.md
is what a run with and without the move shows now. A model change that turns a number the other way
fails here until ``make lecture`` rewrites the sentence."""

from __future__ import annotations

import pytest

from sim.settings.files import ROOT
from sim.study.lecture import MOVES, runs, sentence

GUIDE = (ROOT / "docs" / "LECTURE.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("move", MOVES, ids=lambda m: f"{m.scenario}: {m.control}")
def test_the_guide_says_what_the_move_does(move):
    before, after = runs(move)
    said = sentence(move, before, after)
    assert said in " ".join(GUIDE.split()), f"docs/LECTURE.md does not say (rerun make lecture): {said}"


def test_every_scenario_section_has_its_moves():
    from sim.app.lesson import parse_sections

    sections = parse_sections(GUIDE)
    for move in MOVES:
        assert move.control in sections[move.scenario]["move"], (move.scenario, move.control)


def test_a_sentence_follows_the_numbers():
    """The direction words come from the numbers: the same move with the runs swapped says the opposite."""
    from sim.study.lecture import _went

    assert _went(0.2, 0.3).startswith("rises from 20%") and _went(0.3, 0.2).startswith("falls from 30%")
    assert _went(0.2, 0.2001) == "stays at 20%"
