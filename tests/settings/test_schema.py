"""The config schema (sim.settings.schema): every field documented, ranges enforced with one line each."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from sim.settings import files as conffiles
from sim.settings.compose import compose_config
from sim.settings.schema import ConfigError, SimConfig, validate
from tests.conftest import ERROR_BASE as BASE  # noqa: F401
from tests.conftest import error_of


# --------------------------------------------------------------------- schema
def _leaf_fields(cls: type, prefix: str = "") -> typing.Iterator[tuple[str, dataclasses.Field, object]]:
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            yield from _leaf_fields(tp, f"{prefix}{f.name}.")
        elif typing.get_origin(tp) is dict:
            yield from _leaf_fields(typing.get_args(tp)[-1], f"{prefix}{f.name}.<name>.")
        else:
            yield f"{prefix}{f.name}", f, tp


def test_every_field_documents_type_and_allowed_values():
    rows = list(_leaf_fields(SimConfig))
    assert len(rows) > 90
    for path, f, tp in rows:
        assert f.metadata.get("doc"), f"{path} has no doc"
        if tp in (int, float):
            lo, hi = f.metadata["range"]
            assert lo <= hi, path
            assert f.metadata.get("integer", False) == (tp is int), f"{path}: integer flag vs type"
            default = f.default
            assert lo <= default <= hi, f"{path}: default {default} outside its own range"
        elif tp is str:
            assert path == "scenario" or f.metadata.get("options"), f"{path}: string without options"
        else:
            assert typing.get_origin(tp) is list and f.metadata.get("allowed"), f"{path}: no 'allowed' text"


def test_defaults_and_every_scenario_validate():
    for name in conffiles.group_options("scenario"):
        cfg = compose_config([f"scenario={name}"])
        assert validate(cfg) is cfg


# -------------------------------------------------------------- out of range
@pytest.mark.parametrize("override, expected", [
    ("market.contact_rate=1.5", "market.contact_rate = 1.5 is out of range: allowed [0, 1]"),
    ("market.trust_gain=-0.1", "market.trust_gain = -0.1 is out of range: allowed [0, 1]"),
    ("firms.both.price=0", "firms.both.price = 0.0 is out of range: allowed [1e-06, 1000]"),
    ("firms.both.price=nan", "firms.both.price = nan is out of range"),
    ("firms.both.price=inf", "firms.both.price = inf is out of range"),
    ("seed=-1", "seed = -1 is out of range: allowed [0, 9223372036854775807]"),
    ("steps=0", "steps = 0 is out of range: allowed [1, 1000000]"),
    ("customers.segments.natives.alpha0=0", "customers.segments.natives.alpha0 = 0.0 is out of range"),
    ("firms.both.intervention=[0,200,0]",
     "firms.both.intervention[1] = 200.0 is out of range: allowed [0, 100]"),
    ("customers.segments.natives.forms=[0.5,0.5,0,0.1]", "customers.segments.natives.forms sums to 1.1"),
    ("customers.segments.natives.forms=[1,0]",
     "customers.segments.natives.forms has 2 entries: allowed exactly 4"),
    ("market.shock.start=5", "market.shock.end = -1 must be after market.shock.start = 5"),
])
def test_out_of_range_names_field_value_and_range(override, expected):
    assert error_of([override]).startswith(expected)


def test_shares_must_sum_to_one():
    msg = error_of(["customers.segments.natives.share=0.9"])
    assert msg == ("customers.segments.*.share sum to 1.4 (natives 0.9 + late_adopters 0.35 + "
                   "excluded 0.15): allowed a sum of 1")


def test_firm_entering_after_the_horizon_is_not_an_error():
    # a lecturer's short run of a scenario with a late entrant works: the firm never enters
    # (the model warns once: tests/test_model_mesa.py)
    cfg = compose_config([*BASE, "firms.both.enter_step=7"])
    assert cfg.firms["both"].enter_step == 7 and cfg.steps == 6


def test_zero_customers():
    assert error_of(["customers.n=0"]) == "customers.n = 0 is out of range: allowed [1, 100000000]"


def test_zero_firms():
    msg = error_of([f"~firms.{f}" for f in ("neither", "digital_only", "human_only", "both")])
    assert msg == "firms is empty: allowed at least 1 firm"
    cfg = compose_config(BASE)
    cfg.firms = {}
    with pytest.raises(ConfigError, match="^firms is empty"):
        validate(cfg)


def test_no_firm_at_the_start():
    msg = error_of([f"firms.{f}.enter_step=2" for f in ("neither", "digital_only", "human_only", "both")])
    assert msg.startswith("firms: no firm has enter_step = 0")


