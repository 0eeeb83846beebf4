"""One clear line for every bad override (sim.settings.errors): unknown key with the closest name, wrong type,
missing scenario or group option, malformed override."""

from __future__ import annotations

import pytest

import sim
from sim.settings.compose import compose_config
from sim.settings.schema import ConfigError, validate
from tests.conftest import ERROR_BASE as BASE  # noqa: F401
from tests.conftest import error_of


# ------------------------------------------------------------- unknown keys
@pytest.mark.parametrize("override, field, suggestion", [
    ("market.contact_rat=0.1", "market.contact_rat", "market.contact_rate"),
    ("+market.contact_rat=0.1", "market.contact_rat", "market.contact_rate"),
    ("++market.trust_gian=0.1", "market.trust_gian", "market.trust_gain"),
    ("market.adoption.innovatoin=0.1", "market.adoption.innovatoin", "market.adoption.innovation"),
    ("firms.both.prise=1", "firms.both.prise", "firms.both.price"),
    ("customers.segments.natives.litracy=0.5", "customers.segments.natives.litracy",
     "customers.segments.natives.literacy"),
    ("stepz=3", "stepz", "steps"),
    ("+colour=red", "colour", None),
])
def test_unknown_key_names_field_and_closest_allowed(override, field, suggestion):
    msg = error_of([override])
    assert msg.startswith(f"{field}: unknown field")
    assert "allowed fields" in msg
    if suggestion:
        assert f"did you mean {suggestion}?" in msg


def test_unknown_firm_or_segment_name():
    assert error_of(["firms.acme.price=1"]).startswith("firms.acme.price: no firm named 'acme'")
    assert error_of(["customers.segments.elderly.share=0.2"]).startswith(
        "customers.segments.elderly.share: no segment named 'elderly'")


@pytest.mark.parametrize("overrides", [
    ["scenario=baseline", "firms.nosuchfirm.price=1"],
    ["scenario=baseline", "+firms.nosuchfirm.price=1"],
])
def test_an_override_never_creates_a_firm_and_the_error_lists_the_firms(overrides):
    with pytest.raises(ConfigError) as err:
        compose_config(overrides)
    msg = str(err.value)
    assert msg.startswith("firms.nosuchfirm.price: no firm named 'nosuchfirm'") and "\n" not in msg
    assert "allowed firms: neither, digital_only, human_only, both" in msg


def test_a_config_object_with_overrides_never_creates_a_firm():
    """sim.build / sim.run(config=..., overrides) merge overrides onto a config: no silent new firm."""
    base = compose_config(["scenario=baseline"])
    for call in (lambda: sim.build(config=base, overrides=["firms.nosuchfirm.price=1"]),
                 lambda: sim.settings.compose.as_config({"firms": {"a": {"price": 1.0}}}, ["firms.b.price=1"])):
        with pytest.raises(ConfigError) as err:
            call()
        assert "no firm named" in str(err.value) and "allowed firms:" in str(err.value)
    assert "nosuchfirm" not in base.firms
    # firms that a firms group or a scenario defines are set by overrides as before
    assert compose_config(["scenario=commoditisation", "firms.epsilon.human=0.8"]).firms["epsilon"].human \
        == 0.8
    assert sim.build(config=base, overrides=["firms.both.price=1.3"]).cfg.firms["both"].price == 1.3


# ---------------------------------------------------------------- wrong type
@pytest.mark.parametrize("override, expected", [
    ("market.contact_rate=abc", "market.contact_rate = 'abc' must be a number in [0, 1]"),
    ("market.contact_rate=true", "market.contact_rate = True must be a number in [0, 1]"),
    ("market.contact_rate=null", "market.contact_rate = None must be a number in [0, 1]"),
    ("market.contact_rate=[1,2]", "market.contact_rate = [1, 2] must be a number in [0, 1]"),
    ("steps=1.5", "steps = 1.5 must be a whole number in [1, 1000000]"),
    ("customers.n=1e4", "customers.n = 10000.0 must be a whole number in [1, 100000000]"),
    ("firms.both=5", "firms.both = 5 must be a group of fields (digital, human, price"),
    ("market.adoption=3", "market.adoption = 3 must be a group of fields (innovation"),
    ("customers.segments.natives.forms=abc", "customers.segments.natives.forms = 'abc' must be a list of 4"),
    ("firms.both.steering=sometimes",
     "firms.both.steering = 'sometimes' is not allowed: choose one of none, soft, hard"),
    ("firms.both.pricing=cheap", "firms.both.pricing = 'cheap' is not allowed: choose one of fixed, markup"),
])
def test_wrong_type_names_field_value_and_allowed(override, expected):
    assert error_of([override]).startswith(expected)


def test_whole_number_written_as_float_gets_a_hint():
    assert "write 10000, without a decimal point or exponent" in error_of(["customers.n=1e4"])


def test_wrong_type_in_python_config_objects():
    cfg = compose_config(BASE)
    cfg.market.contact_rate = "high"
    with pytest.raises(ConfigError, match=r"^market.contact_rate = 'high' must be a number in \[0, 1\]"):
        validate(cfg)
    with pytest.raises(ConfigError, match=r"^market.contact_rat: unknown field"):
        sim.run(["market.contact_rat=0.2"], config=compose_config(BASE))
    with pytest.raises(ConfigError, match=r"^market.contact_rate = 'x' must be a number"):
        sim.run(config={"market": {"contact_rate": "x"}})
    with pytest.raises(ConfigError, match=r"^market.bogus: unknown field"):
        sim.run(config={"market": {"bogus": 1}})


# ------------------------------------------------------ scenarios and groups
def test_missing_scenario_lists_the_scenarios():
    msg = error_of(["scenario=baselin"])
    assert msg.startswith("scenario = 'baselin': no such scenario (did you mean scenario=baseline?); allowed: ")
    assert "baseline" in msg and "disruptor" in msg


def test_missing_group_option_lists_the_options():
    assert error_of(["market=fast"]) == "market = 'fast': no such market; allowed: default"
    assert error_of(["firms=nobody"]).startswith("firms = 'nobody': no such firms; allowed: ")


@pytest.mark.parametrize("token, expected", [
    ("baseline", "baseline: not an override: write KEY=VALUE; did you mean scenario=baseline?"),
    ("seed", "seed: not an override: write KEY=VALUE"),
    ("market.contact_rate=[", "market.contact_rate=[: could not parse this override"),
])
def test_malformed_override(token, expected):
    assert error_of([token]).startswith(expected)




@pytest.mark.parametrize("override, hint", [
    ("scenario=disrupter", "(did you mean scenario=disruptor?)"),
    ("scenario=Baseline", "(did you mean scenario=baseline?)"),
    ("customers=defalt", "(did you mean customers=default?)"),
])
def test_missing_scenario_or_group_option_suggests_the_closest(override, hint):
    msg = error_of([override])
    assert hint in msg and "\n" not in msg


def test_missing_hydra_plugin_names_the_package():
    import importlib.util

    try:
        installed = importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is not None
    except ModuleNotFoundError:  # no Hydra plugin at all
        installed = False
    if installed:
        pytest.skip("hydra-submitit-launcher is installed here")
    msg = error_of(["hydra/launcher=submitit_slurm"])
    assert msg == ("hydra/launcher=submitit_slurm needs the Hydra plugin hydra-submitit-launcher, which is not "
                   "installed: pip install -e '.[slurm]' (into this project's .venv)")
