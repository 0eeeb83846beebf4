"""The kernel's LLVM intrinsics (sim.llvm): stack buffers and the atomic chunk counter."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.llvm import i32, prefer_512, stack_array, take_next


@njit
def _sum_squares_via_stack(x):
    prefer_512()
    buf = stack_array(64, np.float64)
    total = 0.0
    for start in range(0, x.shape[0], 64):
        n = min(64, x.shape[0] - start)
        for t in range(n):
            buf[t] = x[start + t] * x[start + t]
        for t in range(n):
            total += buf[t]
    return total


@njit
def _take_all(counter, n):
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = take_next(counter)
    return out


def test_stack_buffer_holds_values_between_loops():
    x = np.arange(1000, dtype=np.float64)
    assert _sum_squares_via_stack(x) == float(np.sum(x * x))


def test_take_next_returns_the_previous_value_and_counts_up():
    counter = np.zeros(1, np.int64)
    assert list(_take_all(counter, 5)) == [0, 1, 2, 3, 4]
    assert counter[0] == 5


def test_i32_wraps_unsigned_constants():
    assert i32(0xFFFFFFFF).constant == -1 and i32(5).constant == 5
