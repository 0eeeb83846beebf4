"""The per-agent Mesa model (one mesa.Agent per customer) against the Numba kernel."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import kernels as K
from sim.engine.layout import St
from sim.engine.yardsticks.per_agent import CustomerAgent, PerAgentModel
from tests.conftest import ALL_MECHANISMS, make_model
from tests.conftest import step_inputs as _inputs


@pytest.mark.parametrize("overrides", [[], ALL_MECHANISMS], ids=["default", "all_mechanisms"])
def test_per_agent_model_matches_kernel(overrides):
    model = make_model(overrides, n=400)
    agents = PerAgentModel(model.pop.copy(), len(model.firm_list), len(model.segment_names), seed=0)
    assert len(agents.agents) == 400
    assert all(isinstance(a, CustomerAgent) for a in agents.agents)
    for t in range(1, 4):
        key = _inputs(model, t)
        K.customer_step(key, model.par, model.firm_cols, model.interv, model.pop.traits, model.pop.state,
                        model.pop.small, model.pop.provider, model.pop.tenure, model.bounds, model.tally,
                        model.seg_tally)
        agents.set_inputs(key, model.par, model.firm_cols, model.interv)
        agents.step()
        out = model.pop.copy()
        out.state[:] = np.nan
        agents.write_to(out)
        np.testing.assert_array_equal(out.provider, model.pop.provider)
        np.testing.assert_array_equal(out.tenure, model.pop.tenure)
        np.testing.assert_array_equal(out.small, model.pop.small)
        np.testing.assert_array_equal(out.state, model.pop.state)
        np.testing.assert_allclose(agents.tally, model.tally.sum(axis=0), rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(agents.seg_tally, model.seg_tally.sum(axis=0), rtol=1e-12, atol=1e-9)
    assert agents.steps == 3  # Mesa's clock advanced by the wrapped step()


def test_agents_hold_scalar_attributes():
    model = make_model(n=50)
    agents = PerAgentModel(model.pop, len(model.firm_list), len(model.segment_names))
    a = agents.customers[7]
    assert a.index == 7
    assert a.trust == pytest.approx(float(model.pop.state[St.TRUST, 7]))
    assert isinstance(a.provider, int) and a.provider == int(model.pop.provider[7])
