"""sim.engine.tally: a block's tallies (``tally_pass``) turned into tally rows (``finish_tally``) against
a plain per-customer twin written from the layout's descriptions of the tallies, over random blocks.

The twin knows nothing of the accumulators' packing (``layout.A``, ``layout.C``): it counts customers at
their final provider, their state bits and summed states, the contact bits at the serving provider, and
per segment the count, the summed states and the disengaged and adopted customers. Sums run in customer
order, as the kernel's do, so the comparison is exact. ``record_rows`` is compared with its NumPy twin
in tests/engine/test_kernels.py.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.layout import (
    CONTACT_BITS,
    FIRM_TALLIES,
    N_ST,
    NO_FIRM,
    S_STATE0,
    SB,
    SEG_STATES,
    SEGMENT_TALLIES,
    SMALLS,
    STATE_BITS,
    T_STATE0,
    A,
    B,
    C,
    S,
    T,
)
from sim.engine.tally import finish_tally, tally_pass


@st.composite
def blocks(draw):
    """Customers of one chunk split into one or two blocks (each at most 64 customers), firms and segments,
    the block buffers the passes before the tally leave, and the choice and churn entries the review
    pass adds to the accumulators before it."""
    n_firms = draw(st.integers(1, 5), label="firms")
    n_seg = draw(st.integers(1, 4), label="segments")
    sizes = draw(st.lists(st.integers(1, 64), min_size=1, max_size=2), label="block sizes")
    n = sum(sizes)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    # a block within one segment takes the kernel's register path; a mixed one, the general path
    one_segment = draw(st.lists(st.booleans(), min_size=len(sizes), max_size=len(sizes)), label="one segment")
    seg = np.concatenate([np.full(b, rng.integers(n_seg)) if one else rng.integers(0, n_seg, b)
                          for b, one in zip(sizes, one_segment, strict=True)]).astype(np.int8)
    firms = np.arange(NO_FIRM, n_firms)
    return {
        "n_firms": n_firms, "n_seg": n_seg, "sizes": sizes, "seg": seg,
        "provider": rng.choice(firms, n).astype(np.int16),  # the final provider (after the review)
        "prov0": rng.choice(firms, n).astype(np.int16),  # the serving provider (before it)
        "flags": rng.integers(0, 256, n).astype(np.uint8),  # contact bits and the review's bits above them
        "effort": np.where(rng.random(n) < 0.5, rng.random(n), 0.0).astype(np.float32),
        "sbits": rng.integers(0, 1 << len(STATE_BITS), n).astype(np.uint8),
        "o_st": (rng.random((N_ST, n)) * rng.choice([1.0, 3.0, 1e-3], (N_ST, 1))).astype(np.float32),
        "tenure": rng.integers(1, 500, n).astype(np.int32),
        "choice": rng.random((n_firms + 1, 2)) * 50.0,
        "churn": rng.integers(0, 100, n_firms + 1),
    }


def _kernel(b):
    n_firms, n_seg = b["n_firms"], b["n_seg"]
    n1 = n_firms + 1
    acc = np.zeros((n1 + n_seg) * len(A))
    cnt = np.zeros(n1 * C.SEGMENT + 4 * n_seg, np.int64)
    for r in range(n1):  # what the review pass adds before the tallies
        acc[r * len(A) + A.CHOICE_SHARE], acc[r * len(A) + A.CHOICE_SLOPE] = b["choice"][r]
        cnt[C.CHURN * n1 + r] = b["churn"][r]
    u64 = np.uint64
    lo = 0
    for nb in b["sizes"]:
        part = slice(lo, lo + nb)
        tally_pass(nb, u64(lo), u64(n1), b["seg"], b["prov0"][part].copy(), b["provider"], b["flags"][part].copy(),
                   b["effort"][part].copy(), b["sbits"][part].copy(), np.ascontiguousarray(b["o_st"][:, part]),
                   np.zeros((len(SMALLS), nb), np.int8), b["tenure"][part].copy(), acc, cnt)
        lo += nb
    tal = np.full((n_firms, len(FIRM_TALLIES)), np.nan)
    stal = np.full((n_seg, len(SEGMENT_TALLIES)), np.nan)
    finish_tally(acc, cnt, tal, stal)
    return tal, stal


def _twin(b):
    """The tally rows, customer by customer."""
    n_firms, n_seg = b["n_firms"], b["n_seg"]
    tal = np.zeros((n_firms, len(FIRM_TALLIES)))
    stal = np.zeros((n_seg, len(SEGMENT_TALLIES)))
    for m in range(n_firms):
        tal[m, T.CHURN] = b["churn"][m + 1]
        tal[m, T.CHOICE_SHARE], tal[m, T.CHOICE_SLOPE] = b["choice"][m + 1]
    for i in range(len(b["seg"])):
        served, final, flags, bits = int(b["prov0"][i]), int(b["provider"][i]), int(b["flags"][i]), int(b["sbits"][i])
        states = [float(v) for v in b["o_st"][:, i]]
        if served != NO_FIRM:
            tal[served, T.EFFORT] += float(b["effort"][i])
            if flags & B.CONTACTED:
                for k, (_, col) in enumerate(CONTACT_BITS):
                    tal[served, col] += (flags >> k) & 1
        if final != NO_FIRM:
            row = tal[final]
            row[T.CUSTOMERS] += 1
            row[T.TENURE] += int(b["tenure"][i])
            for k, (_, col) in enumerate(STATE_BITS):
                row[col] += (bits >> k) & 1
            for k, value in enumerate(states):
                row[T_STATE0 + k] += value
        s = stal[b["seg"][i]]
        s[S.COUNT] += 1
        for k, st_row in enumerate(SEG_STATES):
            s[S_STATE0 + k] += states[st_row]
        s[S.DISENGAGED] += bool(bits & SB.DISENGAGED)
        s[S.ADOPTED] += bool(bits & SB.ADOPTED)
    return tal, stal


@settings(max_examples=150, deadline=None)
@given(blocks())
def test_tally_rows_equal_the_per_customer_twin(b):
    tal, stal = _kernel(b)
    want_tal, want_stal = _twin(b)
    for m in range(b["n_firms"]):
        for col in T:
            assert tal[m, col] == want_tal[m, col], f"firm {m}, {col.name}: {tal[m, col]} != {want_tal[m, col]}"
    for sg in range(b["n_seg"]):
        for col in S:
            assert stal[sg, col] == want_stal[sg, col], f"segment {sg}, {col.name}"
    # what every customer is counted in once: their segment, and their final firm unless they are outside
    assert stal[:, S.COUNT].sum() == len(b["seg"])
    assert tal[:, T.CUSTOMERS].sum() == np.count_nonzero(b["provider"] != NO_FIRM)


def test_a_block_in_one_segment_and_the_same_customers_mixed_give_the_same_tallies():
    """The register path (a block within one segment) and the general path count the same customers the
    same way: one segment's customers tallied alone, or interleaved with another segment's whose
    tallies are then left out, give that segment's row bit for bit."""
    rng = np.random.default_rng(7)
    nb = 48
    b = {"n_firms": 3, "n_seg": 2, "sizes": [nb], "seg": np.zeros(nb, np.int8),
         "provider": rng.integers(-1, 3, nb).astype(np.int16), "prov0": rng.integers(-1, 3, nb).astype(np.int16),
         "flags": rng.integers(0, 256, nb).astype(np.uint8), "effort": rng.random(nb).astype(np.float32),
         "sbits": rng.integers(0, 32, nb).astype(np.uint8), "o_st": rng.random((N_ST, nb)).astype(np.float32),
         "tenure": rng.integers(1, 50, nb).astype(np.int32), "choice": np.zeros((4, 2)),
         "churn": np.zeros(4, np.int64)}
    alone = _kernel(b)[1][0]
    mixed = dict(b, seg=np.r_[b["seg"], np.ones(nb, np.int8)], sizes=[2 * nb])
    for key in ("provider", "prov0", "flags", "effort", "sbits", "tenure"):
        mixed[key] = np.r_[b[key], b[key][::-1]]
    mixed["o_st"] = np.ascontiguousarray(np.c_[b["o_st"], b["o_st"][:, ::-1] * 2])
    order = np.argsort(np.r_[np.arange(nb) * 2, np.arange(nb) * 2 + 1], kind="stable")  # interleave 0, 1, 0, 1...
    for key in ("seg", "provider", "prov0", "flags", "effort", "sbits", "tenure"):
        mixed[key] = mixed[key][order]
    mixed["o_st"] = np.ascontiguousarray(mixed["o_st"][:, order])
    assert mixed["seg"][:4].tolist() == [0, 1, 0, 1]
    np.testing.assert_array_equal(_kernel(mixed)[1][0], alone)
    assert alone[S.COUNT] == nb
