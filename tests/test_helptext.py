"""The text of ``python -m sim --help`` (sim.helptext)."""

from __future__ import annotations

from sim.configure import scenario_names
from sim.helptext import help_text


def test_help_lists_every_scenario_and_every_parameter():
    text = help_text()
    for name in scenario_names():
        assert f"\n  {name}\n" in text
    assert "market.contact_rate = 0.4" in text
    assert "firms.<firm>.pricing = 'fixed'  fixed | markup | best_response" in text
