"""sim.engine.table (the per-step firm table) against the plain reference's per-customer formulas
(sim.engine.reference), bit for bit, over random markets: looking a quantity up in the table gives
what the reference computes for the customer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import reference as ref
from sim.engine import rng, table
from sim.engine.layout import FORMS, FT, F, P, Steer
from tests.engine.markets import firm_columns, intervention_levels, market_par

#: The (shared, adopted) combinations of the table's 4-wide columns, at s = 2 shared + adopted.
COMBINATIONS = [(sh, ad) for sh in range(2) for ad in range(2)]


@st.composite
def markets(draw):
    par = draw(market_par())
    firm = draw(firm_columns())
    return par, firm, draw(intervention_levels(firm.shape[0]))


@settings(max_examples=200, deadline=None)
@given(markets())
def test_every_column_equals_the_references_formula(market):
    par, firm, interv = market
    ft = table.firm_table(par, firm, interv)
    n = firm.shape[0]
    assert ft.shape == (n + 1, FT.IV + len(FORMS) + 1)
    assert np.all(ft[0] == 0.0), "row 0 is the no-firm row"
    for m in range(n):
        row = ft[m + 1]
        for sh, ad in COMBINATIONS:
            s = 2 * sh + ad
            dx = ref.digital_seen(firm, m, sh, ad, par)
            assert row[FT.DX + s] == dx == table.digital_seen(firm, m, sh, ad, par)
            assert row[FT.GATE + s] == ref.digital_gate(firm, m, sh, ad, par)
            assert row[FT.ESC + s] == ref.escalation(firm, m, sh, ad, par)
            assert row[FT.FREE + s] == ref.freedom_target(firm, m, sh, ad, par)
            vd = par[P.BETA_DIGITAL] * ref.digital_value(dx - par[P.EXPECTATION], par[P.DIGITAL_GAIN],
                                                         par[P.DIGITAL_SCALE])
            assert row[FT.UD + s] == (vd if ad else 0.0), "a non-adopter gets no digital value"
        h = firm[m, F.HUMAN]
        assert row[FT.GATE_AVAIL] == ref.human_gate(firm, m, par)
        assert row[FT.H] == h and row[FT.PRICE] == firm[m, F.PRICE]
        assert row[FT.HV] == ref.emotion_weight(h, par[P.EMOTION_SCALE])
        assert row[FT.VH] == ref.human_value(h - par[P.HUMAN_EXPECTATION], par[P.HUMAN_SCALE])
        np.testing.assert_array_equal(row[FT.IV:FT.IV + len(FORMS)], interv[m])
        assert row[FT.IV + len(FORMS)] == 0.0, "the 'no form' column adds nothing"


@settings(max_examples=100, deadline=None)
@given(markets())
def test_draw_thresholds_let_through_the_draws_the_reference_compares(market):
    """The steering, notice and availability thresholds pass a draw ``u`` exactly when the reference's
    comparison does: steered if u < strength (never without steering), noticed if u < notice_soft (always
    under hard steering), a human available if u < availability."""
    par, firm, interv = market
    ft = table.firm_table(par, firm, interv)
    ks = np.unique(np.r_[np.arange(0, rng.UNIT_SCALE, 4099), rng.UNIT_SCALE - 1]).astype(np.int64)
    u = ks * 2.0**-24
    for m in range(firm.shape[0]):
        row = ft[m + 1]
        mode = firm[m, F.STEERING]
        steered = (mode != Steer.NONE) & (u < firm[m, F.STEERING_STRENGTH])
        noticed = np.ones_like(u, bool) if mode == Steer.HARD else u < par[P.NOTICE_SOFT]
        available = u < firm[m, F.AVAILABILITY]
        for col, want in ((FT.STEER, steered), (FT.NOTICE, noticed), (FT.AVAIL, available)):
            np.testing.assert_array_equal(ks < row[col], want, err_msg=f"firm {m}, column {FT(col).name}")


def test_personalisation_helps_only_customers_sharing_data_and_is_capped_at_one():
    """Hand-made: d = 0.6 with pi = 0.5 is 0.9 seen by a customer sharing data, 0.6 otherwise; d = 0.8
    with pi = 1 is capped at 1; a non-adopter sees it times the exclusion quality."""
    par = np.zeros(len(P))
    par[P.EXCLUSION_QUALITY] = 0.5
    par[P.EXPECTATION] = 0.7
    par[P.DIGITAL_SCALE] = par[P.HUMAN_SCALE] = par[P.EMOTION_SCALE] = 1.0
    firm = np.zeros((2, len(F)))
    firm[:, F.ALIVE] = 1.0
    firm[0, [F.DIGITAL, F.PERSONALISATION]] = 0.6, 0.5
    firm[1, [F.DIGITAL, F.PERSONALISATION]] = 0.8, 1.0
    ft = table.firm_table(par, firm, np.zeros((2, len(FORMS))))
    np.testing.assert_allclose(ft[1, FT.DX:FT.DX + 4], [0.3, 0.6, 0.45, 0.9])  # s = 2 shared + adopted
    np.testing.assert_allclose(ft[2, FT.DX:FT.DX + 4], [0.4, 0.8, 0.5, 1.0])
    # escalation: eps + (1 - eps) (1 - d_seen / E)+ with eps = 0: none once digital meets E = 0.7
    np.testing.assert_allclose(ft[1, FT.ESC:FT.ESC + 4], [1 - 0.3 / 0.7, 1 - 0.6 / 0.7, 1 - 0.45 / 0.7, 0.0])
