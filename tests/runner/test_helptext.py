"""The text of ``python -m sim --help`` (sim.runner.helptext)."""

from __future__ import annotations

from sim.runner.helptext import help_text
from sim.settings.compose import scenario_names


def test_help_lists_every_scenario_and_every_parameter():
    text = help_text()
    for name in scenario_names():
        assert f"\n  {name}\n" in text
    assert "market.contact_rate = 0.4" in text
    assert "firms.<firm>.pricing = 'nash'  fixed | markup | nash" in text
