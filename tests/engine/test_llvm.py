"""The kernel's LLVM intrinsics (sim.engine.llvm): stack buffers, the atomic chunk counter, the row add."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from sim.engine.llvm import add_row8, always_inline, i32, prefer_512, stack_array, take_next


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


@njit
def _add_rows(acc, rows, vals):
    for t in range(rows.shape[0]):
        v = vals[t]
        add_row8(acc, np.uint64(rows[t]), v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])


_F32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.lists(_F32, min_size=8, max_size=8)), min_size=1, max_size=40),
       st.lists(st.floats(-1e6, 1e6), min_size=40, max_size=40))
def test_add_row8_adds_each_entry_as_scalar_additions_would(items, start):
    """Eight float32 values added to eight contiguous float64 entries at any offset (not aligned)
    give, entry by entry, exactly what eight scalar additions in the same order give."""
    rows = np.array([3 + 9 * r for r, _ in items], np.int64)  # a row of 9 from 3 on: unaligned
    vals = np.array([v for _, v in items], np.float32).reshape(-1, 8)
    acc = np.array(start, np.float64)
    expected = acc.copy()
    for r, v in zip(rows, vals, strict=True):
        for i in range(8):
            expected[r + i] += np.float64(v[i])
    _add_rows(acc, rows, vals)
    assert acc.tobytes() == expected.tobytes()


@njit
def _marked(x):
    always_inline()
    return x * 3.0 + 1.0


@njit
def _unmarked(x):
    return x * 3.0 + 1.0


@njit
def _calls_both(x):
    return _marked(x) + _unmarked(x)


def test_always_inline_marks_the_function_and_llvm_inlines_it_into_its_caller():
    """The mark is on the function's own definition (what a separately cached function, the kernel's
    tally pass, carries into the bitcode its callers link), and the caller has no call left."""
    import re

    assert _calls_both(2.0) == 14.0
    (marked_ir,) = _marked.inspect_llvm().values()
    assert re.search(r"define [^\n]*_marked[^\n]*\balwaysinline\b|attributes #\d+ = \{[^}]*alwaysinline", marked_ir)
    (caller_ir,) = _calls_both.inspect_llvm().values()
    body = caller_ir[caller_ir.index("define"):]
    assert not re.search(r"call [^\n]*_marked", body)
