"""The memory floor: a pass that only reads and writes the customer state arrays.

It touches what :func:`sim.engine.kernels.customer_step` touches (reads every trait,
state, small-int, provider and tenure entry; writes state, the three changing
small-int rows, provider and tenure), over the same chunks in parallel, with one
add per value so the compiler keeps every load and store. No step can run
faster than this on the same machine; the benchmark reports step time / floor.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def read_write_pass(traits, state, small, provider, tenure, bounds):
    n_chunks = bounds.shape[0] - 1
    for c in prange(n_chunks):
        for i in range(bounds[c], bounds[c + 1]):
            x = traits[0, i] + traits[1, i] + traits[2, i] + traits[3, i] + traits[4, i]
            for r in range(state.shape[0]):
                state[r, i] = state[r, i] + x
            d = small[3, i] + small[4, i]
            for r in range(3):
                small[r, i] = small[r, i] + d
            provider[i] = provider[i] + np.int16(1)
            tenure[i] = tenure[i] + 1
