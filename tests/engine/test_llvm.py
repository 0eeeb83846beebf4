"""The kernel's LLVM intrinsics (sim.engine.llvm): stack buffers, the atomic chunk counter, the row add."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from sim.engine.llvm import add_column, always_inline, i32, prefer_512, stack_array, stack_matrix, take_next


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
def _add_columns(acc, rows, vals):
    """Each item's values as column ``t`` of a stack matrix, added at its row by ``add_column``."""
    m = stack_matrix(9, 64, np.float32)
    for t in range(rows.shape[0]):
        for r in range(9):
            m[r, t] = vals[t, r]
        add_column(acc, np.uint64(rows[t]), m, t, 9)


_F32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.lists(_F32, min_size=9, max_size=9)), min_size=1, max_size=40),
       st.lists(st.floats(-1e6, 1e6), min_size=40, max_size=40))
def test_add_column_adds_each_entry_as_scalar_additions_would(items, start):
    """A column of nine float32 values (the width of a layout table with nine states: any width
    works) added to nine contiguous float64 entries at any offset (not aligned) gives, entry by
    entry, exactly what nine scalar additions in the same order give."""
    rows = np.array([3 + 9 * r for r, _ in items], np.int64)  # a row of 9 from 3 on: unaligned
    vals = np.array([v for _, v in items], np.float32).reshape(-1, 9)
    acc = np.array(start, np.float64)
    expected = acc.copy()
    for r, v in zip(rows, vals, strict=True):
        for i in range(9):
            expected[r + i] += np.float64(v[i])
    _add_columns(acc, rows, vals)
    assert acc.tobytes() == expected.tobytes()


@njit
def _matrix_roundtrip(x):
    m = stack_matrix(3, 5, np.float32)
    for r in range(3):
        for c in range(5):
            m[r, c] = x[r, c]
    return m.copy()


def test_stack_matrix_is_a_c_contiguous_matrix():
    x = np.arange(15, dtype=np.float32).reshape(3, 5)
    y = _matrix_roundtrip(x)
    assert y.shape == (3, 5) and y.flags.c_contiguous
    np.testing.assert_array_equal(x, y)


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
