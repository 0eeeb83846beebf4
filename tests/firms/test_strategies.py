"""Position strategies (sim.firms.strategies): the firm-level utility is the customers' choice utility plus
retention, and adaptive firms move only as far and as often as they may."""

from __future__ import annotations

import numpy as np

from sim.firms.strategies import STRATEGIES as REGISTRY
from sim.settings.schema import STRATEGIES
from tests.conftest import make_model


def test_config_options_are_the_registry_keys():
    assert STRATEGIES == tuple(REGISTRY)


def test_static_firms_stay_and_adaptive_firms_move_within_limits():
    model = make_model(["firms.both.strategy=adaptive", "firms.both.pricing=best_response",
                        "firms.both.invest_step=0.03"], n=2000, steps=20)
    start = {f.name: (f.digital, f.human) for f in model.firm_list}
    path = []
    for _ in range(20):
        model.step()
        both = model.firm_list[3]
        path.append((both.digital, both.human))
    for f in model.firm_list[:3]:
        assert (f.digital, f.human) == start[f.name]
    moves = np.abs(np.diff(np.array([start["both"], *path]), axis=0))
    assert moves.max() <= 0.03 + 1e-12
    assert moves.sum() > 0, "the adaptive firm found a better neighbour at least once"


