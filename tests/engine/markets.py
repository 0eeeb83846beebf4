"""Hypothesis strategies shared by the engine tests: random markets (parameters, firm columns,
intervention levels) and choosing customers, over the ranges the configuration allows and beyond."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from sim.engine.layout import FIRM_COLUMNS, FORMS, NO_FIRM, PARAMS, F, P, Steer

_UNIT = st.floats(0.0, 1.0, allow_nan=False)
_SCALE = st.floats(1e-2, 1e2, allow_nan=False)


@st.composite
def market_par(draw) -> np.ndarray:
    """``par`` with every entry the choice and the firm table read drawn at random (the others 0)."""
    par = np.zeros(len(PARAMS))
    for name, strategy in (
        ("expectation", st.one_of(st.just(0.0), st.floats(0.05, 1.0))),
        ("exclusion_quality", _UNIT),
        ("human_expectation", _UNIT),
        ("gate_center", st.floats(-0.5, 0.5)),
        ("gate_slope", st.floats(0.0, 20.0)),
        ("notice_soft", _UNIT),
        ("escalation_floor", _UNIT),
        ("beta_digital", st.floats(0.0, 10.0)),
        ("digital_gain", _UNIT),
        ("digital_scale", _SCALE),
        ("beta_human", st.floats(0.0, 10.0)),
        ("human_scale", _SCALE),
        ("emotion_scale", _SCALE),
        ("beta_emotion", st.floats(0.0, 5.0)),
        ("beta_reputation", st.floats(0.0, 2.0)),
        ("inertia", st.floats(0.0, 5.0)),
        ("outside_utility", st.floats(-30.0, 10.0)),
    ):
        par[P[name.upper()]] = draw(strategy, label=name)
    return par


@st.composite
def firm_columns(draw, min_firms: int = 1, max_firms: int = 6) -> np.ndarray:
    """``firm : float64[F, len(FIRM_COLUMNS)]`` with random levels, prices, steering and life."""
    n = draw(st.integers(min_firms, max_firms), label="firms")
    firm = np.zeros((n, len(FIRM_COLUMNS)))
    for m in range(n):
        firm[m, F.DIGITAL] = draw(_UNIT)
        firm[m, F.HUMAN] = draw(_UNIT)
        firm[m, F.PRICE] = draw(st.floats(0.05, 5.0))
        firm[m, F.PERSONALISATION] = draw(_UNIT)
        firm[m, F.STEERING] = float(draw(st.sampled_from(list(Steer))))
        firm[m, F.STEERING_STRENGTH] = draw(_UNIT)
        firm[m, F.AVAILABILITY] = draw(_UNIT)
        firm[m, F.REPUTATION] = draw(st.floats(-1.0, 1.0))
        firm[m, F.ALIVE] = float(draw(st.booleans()))
    return firm


def intervention_levels(n_firms: int) -> st.SearchStrategy[np.ndarray]:
    """``interv : float64[F, len(FORMS)]``, each firm's intervention level per form."""
    return st.lists(_UNIT, min_size=n_firms * len(FORMS), max_size=n_firms * len(FORMS)).map(
        lambda v: np.asarray(v, float).reshape(n_firms, len(FORMS)))


@st.composite
def chooser(draw, n_firms: int) -> dict:
    """One choosing customer: current provider (``NO_FIRM`` or a firm), data shared, adopted, human
    preference phi, affinity w and price sensitivity alpha."""
    return {
        "current": draw(st.sampled_from([NO_FIRM, *range(n_firms)]), label="current"),
        "shared": draw(st.integers(0, 1), label="shared"),
        "adopted": draw(st.integers(0, 1), label="adopted"),
        "phi": draw(_UNIT, label="phi"),
        "w": draw(_UNIT, label="w"),
        "alpha": draw(st.floats(0.0, 8.0), label="alpha"),
    }
