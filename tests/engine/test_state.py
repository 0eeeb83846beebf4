"""The population arrays (sim.engine.state): dtypes and sizes from the layout, trait draws per segment."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.engine.layout import BYTES_PER_CUSTOMER, NO_FIRM, SMALLS, STATES, TRAITS, Sm, St, Tr
from sim.engine.state import Population, draw_population, segment_sizes
from sim.settings.compose import compose_config


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6), st.integers(0, 100_000))
def test_segment_sizes_sum_to_n_and_follow_shares(shares, n):
    total = sum(shares)
    if total == 0:
        return
    shares = [s / total for s in shares]
    sizes = segment_sizes(shares, n)
    assert sizes.sum() == n and (sizes >= 0).all()
    assert np.all(np.abs(sizes - np.asarray(shares) * n) < 1.0 + 1e-9)


def test_empty_population_has_the_layout_shape_and_no_provider():
    pop = Population.empty(10)
    assert pop.traits.shape == (len(TRAITS), 10) and pop.traits.dtype == np.float32
    assert pop.state.shape == (len(STATES), 10) and pop.small.shape == (len(SMALLS), 10)
    assert (pop.provider == NO_FIRM).all()
    assert pop.nbytes == 10 * BYTES_PER_CUSTOMER


def test_copy_is_independent():
    pop = Population.empty(5)
    other = pop.copy()
    other.state[St.TRUST] = 1.0
    assert pop.state[St.TRUST].sum() == 0.0


def test_draws_follow_segments_in_blocks_and_traits_stay_in_range():
    cfg = compose_config(["scenario=inclusion", "customers.n=20000"])
    pop = draw_population(cfg, np.random.default_rng(1))
    seg = pop.small[Sm.SEGMENT]
    assert np.all(np.diff(seg) >= 0), "segments occupy consecutive blocks"
    segs = list(cfg.customers.segments.values())
    for k, s in enumerate(segs):
        block = seg == k
        assert abs(block.mean() - s.share) < 1e-3
        lit = pop.traits[Tr.LITERACY, block]
        assert abs(lit.mean() - s.literacy) < 0.02
        adopted = pop.small[Sm.ADOPTED, block] == 1
        # nobody below the literacy threshold starts adopted
        assert not np.any(adopted & (lit < cfg.market.adoption.literacy_threshold))
    assert np.all((pop.traits[:Tr.ALPHA0] > 0) & (pop.traits[:Tr.ALPHA0] < 1))
    assert np.all(pop.traits[Tr.ALPHA0] > 0)
    assert np.all(pop.state[St.TRUST] == cfg.market.trust_init)


def test_same_rng_same_population():
    cfg = compose_config(["scenario=baseline", "customers.n=3000"])
    a = draw_population(cfg, np.random.default_rng(7))
    b = draw_population(cfg, np.random.default_rng(7))
    assert all(np.array_equal(x, y) for x, y in zip((a.traits, a.small), (b.traits, b.small), strict=True))
