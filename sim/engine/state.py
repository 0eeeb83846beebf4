"""Customer population as a struct of arrays, and how its traits are drawn.

Dtypes are chosen here, once: scores in float32 (their precision, 1e-7, is far
below any effect in the model), small integers in int8, providers in int16 (up to
32,767 firms) and tenure in int32. Rows of the 2-D blocks are the entries of the
tables of :mod:`sim.engine.layout` (``Tr``, ``St``, ``Sm``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .layout import BYTES_PER_CUSTOMER, FORMS, NO_FIRM, SMALLS, STATES, TRAITS, Sm, St, Tr

if TYPE_CHECKING:  # the engine imports nothing above it at run time
    from ..settings.schema import SimConfig

FLOAT = np.float32
SMALL = np.int8
PROVIDER = np.int16
TENURE = np.int32

__all__ = ["BYTES_PER_CUSTOMER", "Population", "draw_population", "segment_sizes"]


@dataclass
class Population:
    """All customers' traits and state.

    Attributes
    ----------
    traits : float32[len(TRAITS), N]  rows ``layout.Tr``: literacy, human_pref, affinity, privacy, alpha0
    state : float32[len(STATES), N]   rows ``layout.St``: trust, engagement, satisfaction, freedom, ...
    small : int8[len(SMALLS), N]      rows ``layout.Sm``: shared, adopted, score (0-10), form, segment
    provider : int16[N]            index of the current firm, ``NO_FIRM`` for none
    tenure : int32[N]              steps with the current provider
    """

    traits: np.ndarray
    state: np.ndarray
    small: np.ndarray
    provider: np.ndarray
    tenure: np.ndarray

    @property
    def n(self) -> int:
        return self.provider.shape[0]

    @classmethod
    def empty(cls, n: int) -> Population:
        return cls(
            traits=np.zeros((len(TRAITS), n), FLOAT),
            state=np.zeros((len(STATES), n), FLOAT),
            small=np.zeros((len(SMALLS), n), SMALL),
            provider=np.full(n, NO_FIRM, PROVIDER),
            tenure=np.zeros(n, TENURE),
        )

    def copy(self) -> Population:
        return Population(*(a.copy() for a in (self.traits, self.state, self.small,
                                               self.provider, self.tenure)))

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.traits, self.state, self.small, self.provider, self.tenure))


def _beta(rng: np.random.Generator, mean: float, conc: float, n: int) -> np.ndarray:
    return rng.beta(mean * conc, (1.0 - mean) * conc, n)


def segment_sizes(shares: list[float], n: int) -> np.ndarray:
    """Split ``n`` customers over segments by largest remainder (sizes sum to ``n``)."""
    raw = np.asarray(shares, float) * n
    sizes = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - sizes), kind="stable")
    sizes[order[: n - sizes.sum()]] += 1
    return sizes


def draw_population(cfg: SimConfig, rng: np.random.Generator) -> Population:
    """Draw traits per segment and set the initial state (trust_init, no provider).

    Segments occupy consecutive blocks of customers, in config order.
    """
    n = cfg.customers.n
    pop = Population.empty(n)
    m = cfg.market
    segs = list(cfg.customers.segments.values())
    sizes = segment_sizes([s.share for s in segs], n)
    start = 0
    for s_idx, (seg, size) in enumerate(zip(segs, sizes, strict=True)):
        sl = slice(start, start + int(size))
        start += int(size)
        if size == 0:
            continue
        t = pop.traits
        t[Tr.LITERACY, sl] = _beta(rng, seg.literacy, seg.concentration, size)
        t[Tr.HUMAN_PREF, sl] = _beta(rng, seg.human_pref, seg.concentration, size)
        t[Tr.AFFINITY, sl] = _beta(rng, seg.affinity, seg.concentration, size)
        t[Tr.PRIVACY, sl] = _beta(rng, seg.privacy, seg.concentration, size)
        cv2 = seg.alpha0_cv**2
        shape = 1.0 / cv2 if cv2 > 0 else math.inf
        if math.isfinite(shape):
            t[Tr.ALPHA0, sl] = rng.gamma(shape, seg.alpha0 / shape, size)
        else:  # cv = 0, or so small that 1/cv^2 overflows (gamma would give NaN): homogeneous
            t[Tr.ALPHA0, sl] = seg.alpha0
        eligible = t[Tr.LITERACY, sl] >= FLOAT(m.adoption.literacy_threshold)
        adopted = eligible & (rng.random(size) < seg.adopted_init)
        pop.small[Sm.ADOPTED, sl] = adopted
        pop.small[Sm.FORM, sl] = rng.choice(len(FORMS) + 1, size=size, p=np.asarray(seg.forms) / sum(seg.forms))
        pop.small[Sm.SEGMENT, sl] = s_idx
    st = pop.state
    st[St.TRUST] = m.trust_init
    st[St.ENGAGEMENT] = pop.traits[Tr.AFFINITY] * 0.5
    st[St.SATISFACTION] = 0.5
    st[St.FREEDOM] = 1.0
    st[St.INFLUENCE] = 0.5
    st[St.FAIRNESS] = 1.0
    st[St.ALPHA] = pop.traits[Tr.ALPHA0]
    return pop
