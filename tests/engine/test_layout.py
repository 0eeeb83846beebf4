"""The layout table (sim.engine.layout): every index derived, every entry reachable from where it is filled."""

from __future__ import annotations

import dataclasses
import operator

import numpy as np
import pytest

from sim.engine.layout import (
    FIRM_COLUMNS,
    FIRM_TABLE,
    FIRM_TALLIES,
    FT,
    PARAMS,
    SEGMENT_TALLIES,
    SMALLS,
    STATES,
    STREAMS,
    TRAITS,
    A,
    C,
    F,
    P,
    R,
    S,
    Sm,
    St,
    T,
    Tr,
    config_params,
    layout_tables,
)
from sim.firms.agents import Firm
from sim.settings.schema import SimConfig


@pytest.mark.parametrize("table, enum", [(TRAITS, Tr), (STATES, St), (SMALLS, Sm), (PARAMS, P), (FIRM_COLUMNS, F),
                                         (FIRM_TALLIES, T), (SEGMENT_TALLIES, S), (STREAMS, R)])
def test_indices_are_the_table_order(table, enum):
    names = [e.name for e in table]
    assert len(set(names)) == len(names), "a name twice"
    assert [m.name for m in enum] == [n.upper() for n in names]
    assert [int(m) for m in enum] == list(range(len(table)))


def test_config_params_read_their_config_paths():
    cfg = SimConfig()
    cfg.market.trust_gain = 0.123
    cfg.market.adoption.literacy_threshold = 0.3
    par = config_params(cfg)
    assert par[P.TRUST_GAIN] == 0.123
    assert par[P.LITERACY_THRESHOLD] == float(np.float32(0.3))  # compared with float32 literacy
    for p in PARAMS:
        if p.path:
            assert p.path.rsplit(".", 1)[-1] == p.name, "one name: the config field's"
            operator.attrgetter(p.path)(cfg)  # the path exists
        else:
            assert p.doc, f"{p.name}: market state must say how the model sets it"
            assert par[P[p.name.upper()]] == 0.0


def test_firm_columns_are_firm_attributes():
    for column in FIRM_COLUMNS:
        assert hasattr(Firm, column.source) or column.source in Firm.__init__.__code__.co_names, column


def test_firm_table_offsets_follow_widths():
    at = 0
    for name, width in FIRM_TABLE:
        assert FT[name.upper()] == at
        at += width


def test_count_blocks_do_not_overlap():
    assert C.CHURN == 32 and C.TENURE == C.CHURN + 1 and C.STATE == C.TENURE + 1
    assert C.SEGMENT == C.STATE + 32
    assert [a.name.lower() for a in A][:len(STATES)] == [s.name for s in STATES]  # the vector add's order


def test_every_mean_names_a_distinct_output():
    means = [row.mean[0] for row in FIRM_TALLIES if row.mean]
    assert len(set(means)) == len(means)
    assert all(len(row.mean) == 3 for row in FIRM_TALLIES if row.mean)


def test_layout_tables_document_every_row():
    text = layout_tables()
    for row in (*TRAITS, *STATES, *SMALLS, *FIRM_COLUMNS):
        assert f"`{row.name.upper()}`" in text
    assert dataclasses.is_dataclass(TRAITS[0])
