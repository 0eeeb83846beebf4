"""Customer population as a struct of arrays, and how its traits are drawn.

Dtypes are chosen here, once: scores in float32 (their precision, 1e-7, is far
below any effect in the model), small integers in int8, providers in int16 (up to
32,767 firms) and tenure in int32. Rows of the 2-D blocks are named by the index
constants of :mod:`sim.kernels`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import kernels as K
from .config import FORMS, SimConfig

FLOAT = np.float32
SMALL = np.int8
PROVIDER = np.int16
TENURE = np.int32

#: Bytes of state per customer (traits, dynamic state, small ints, provider, tenure).
BYTES_PER_CUSTOMER = (K.N_TRAITS + K.N_STATE) * 4 + K.N_SMALL + 2 + 4


@dataclass
class Population:
    """All customers' traits and state.

    Attributes
    ----------
    traits : float32[N_TRAITS, N]  literacy, human_pref, affinity, privacy, alpha0
    state : float32[N_STATE, N]    trust, engagement, satisfaction, freedom, influence, fairness, alpha
    small : int8[N_SMALL, N]       shared, adopted, score (0-10), form (3 = none), segment
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
            traits=np.zeros((K.N_TRAITS, n), FLOAT),
            state=np.zeros((K.N_STATE, n), FLOAT),
            small=np.zeros((K.N_SMALL, n), SMALL),
            provider=np.full(n, K.NO_FIRM, PROVIDER),
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
        t[K.LITERACY, sl] = _beta(rng, seg.literacy, seg.concentration, size)
        t[K.HUMAN_PREF, sl] = _beta(rng, seg.human_pref, seg.concentration, size)
        t[K.AFFINITY, sl] = _beta(rng, seg.affinity, seg.concentration, size)
        t[K.PRIVACY, sl] = _beta(rng, seg.privacy, seg.concentration, size)
        cv2 = seg.alpha0_cv**2
        shape = 1.0 / cv2 if cv2 > 0 else math.inf
        if math.isfinite(shape):
            t[K.ALPHA0, sl] = rng.gamma(shape, seg.alpha0 / shape, size)
        else:  # cv = 0, or so small that 1/cv^2 overflows (gamma would give NaN): homogeneous
            t[K.ALPHA0, sl] = seg.alpha0
        eligible = t[K.LITERACY, sl] >= FLOAT(m.adoption.literacy_threshold)
        adopted = eligible & (rng.random(size) < seg.adopted_init)
        pop.small[K.ADOPTED, sl] = adopted
        pop.small[K.FORM, sl] = rng.choice(len(FORMS) + 1, size=size, p=np.asarray(seg.forms) / sum(seg.forms))
        pop.small[K.SEGMENT, sl] = s_idx
    st = pop.state
    st[K.TRUST] = m.trust_init
    st[K.ENGAGEMENT] = pop.traits[K.AFFINITY] * 0.5
    st[K.SATISFACTION] = 0.5
    st[K.FREEDOM] = 1.0
    st[K.INFLUENCE] = 0.5
    st[K.FAIRNESS] = 1.0
    st[K.ALPHA] = pop.traits[K.ALPHA0]
    return pop
