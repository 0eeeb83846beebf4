"""The customer step with one Mesa agent per customer: a yardstick of the benchmarks and a teaching aid.

:class:`CustomerAgent` holds one customer's traits and state as its own scalar
attributes; its :meth:`~CustomerAgent.step` applies the model's rules through
:func:`sim.engine.reference.advance` (the rules are written once, there).
:class:`PerAgentModel` is a ``mesa.Model`` that runs ``agents.do("step")`` with the
same inputs the kernel gets (step key, ``par``, firm columns, interventions), so
its results agree with :func:`sim.engine.kernels.customer_step`. This is how a Mesa
user would write the model first; the production path keeps customers in arrays
(see :mod:`sim.engine.kernels`), for it is thousands of times faster.
"""

from __future__ import annotations

import mesa
import numpy as np

from ..layout import CUSTOMER_FIELDS as FIELDS
from ..layout import FORMS, F, P, S, T
from ..reference import advance, load_customer, store_customer
from ..rng import uniform
from ..state import Population


class CustomerAgent(mesa.Agent):
    """One customer: traits and state as scalar attributes (see :data:`sim.engine.reference.FIELDS`).

    ``index`` is the customer's position in the population, which keys its random
    draws, so an agent draws the same numbers as the kernel's customer.
    """

    def __init__(self, model: PerAgentModel, index: int):
        super().__init__(model)
        self.index = index
        for name in FIELDS:
            setattr(self, name, 0)

    def draw(self, stream: int) -> float:
        """This step's uniform of ``stream`` for this customer."""
        return uniform(self.model.key, self.index, stream)

    def step(self) -> None:
        m = self.model
        advance(self, self.draw, m.par, m.firm, m.interv, m.tally, m.seg_tally, m.par32)


class PerAgentModel(mesa.Model):
    """Customers as Mesa agents, one per customer, stepped by ``agents.do("step")``.

    Parameters
    ----------
    pop : Population
        The customers to copy into agents (customer ``i`` becomes the agent with
        ``index == i``).
    n_firms, n_segments : int
        Sizes of the tallies.
    """

    def __init__(self, pop: Population, n_firms: int, n_segments: int, seed: int | None = None):
        super().__init__(rng=seed)
        self.key = 0
        self.par = np.zeros(len(P))
        self.par32 = self.par.astype(np.float32)
        self.firm = np.zeros((n_firms, len(F)))
        self.interv = np.zeros((n_firms, len(FORMS)))
        self.tally = np.zeros((n_firms, len(T)))
        self.seg_tally = np.zeros((n_segments, len(S)))
        self.customers = [CustomerAgent(self, i) for i in range(pop.n)]
        for i, agent in enumerate(self.customers):
            load_customer(agent, i, pop.traits, pop.state, pop.small, pop.provider, pop.tenure)

    def set_inputs(self, key: int, par: np.ndarray, firm: np.ndarray, interv: np.ndarray) -> None:
        """The step key and the market, firm and intervention inputs of the next step."""
        self.key = int(key)
        self.par, self.firm, self.interv = par, firm, interv
        self.par32 = np.asarray(par, dtype=np.float32)  # once per step, not once per customer

    def step(self) -> None:
        """Every customer takes its step; ``tally``/``seg_tally`` hold the step's sums."""
        self.tally[:] = 0.0
        self.seg_tally[:] = 0.0
        self.agents.do("step")

    def write_to(self, pop: Population) -> None:
        """Copy the agents' state into the arrays of ``pop`` (for comparisons)."""
        for agent in self.customers:
            store_customer(agent, agent.index, pop.state, pop.small, pop.provider, pop.tenure)
