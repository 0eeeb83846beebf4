"""Yardsticks: the customer step written as a NumPy user and as a Mesa user would write it first.

:mod:`sim.engine.yardsticks.numpy_step` (whole-array NumPy) and :mod:`sim.engine.yardsticks.per_agent`
(one ``mesa.Agent`` per customer) compute what :func:`sim.engine.kernels.customer_step`
computes, bit for bit; the tests hold them equal and the benchmarks time the kernel
against them. The production path never uses them.

:data:`ALL_MECHANISMS` switches on every customer mechanism in the four-quadrant
line-up (``firms/four_quadrants``: the ``baseline`` and ``disruptor`` scenarios), so a
comparison of the kernel with its twins exercises every branch; the tests and the
benchmarks import it from here.
"""

from __future__ import annotations

#: Overrides that switch on every customer mechanism (soft and hard steering, personalisation,
#: interventions of every form, limited human capacity, Bass adoption) for the four-quadrant firms.
ALL_MECHANISMS = [
    "firms.neither.steering=soft", "firms.neither.steering_strength=0.7",
    "firms.digital_only.steering=hard", "firms.digital_only.steering_strength=0.8",
    "firms.both.personalisation=0.4", "firms.both.intervention=[0.02,0.01,0.03]",
    "firms.human_only.intervention=[0.0,0.05,0.0]", "firms.human_only.human_capacity=0.7",
    "market.adoption.innovation=0.05", "market.adoption.imitation=0.2",
]


def all_mechanisms(shock_start: int = 2, shock_end: int = 4) -> list[str]:
    """:data:`ALL_MECHANISMS` plus a shock window ``[shock_start, shock_end)``."""
    return [*ALL_MECHANISMS, f"market.shock.start={shock_start}", f"market.shock.end={shock_end}"]
