"""Bad input gets one clear line (field, value, what is allowed); config files are data.

One test per class of error: unknown key, wrong type, out of range, shares not
summing to one, missing scenario or group option, firm entering after the
horizon, zero firms, zero customers, malformed override; and the safe-config
promises: ``_target_`` is an unknown field, YAML tags are refused, a config file
may not reach into Hydra's settings (callbacks, launchers, logging).
"""

from __future__ import annotations

import dataclasses
import shutil
import typing
from pathlib import Path

import pytest

import sim
from sim import configure
from sim.config import ConfigError, FirmConfig, SimConfig, validate
from sim.configure import compose_config

BASE = ["scenario=baseline", "customers.n=500", "steps=6"]


def error_of(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as info:
        compose_config([*BASE, *overrides])
    msg = str(info.value)
    assert "\n" not in msg and msg.strip() == msg and msg, f"not one clean line: {msg!r}"
    assert "Traceback" not in msg and "full_key" not in msg and "object_type" not in msg
    return msg


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
    for name in configure.group_options("scenario"):
        cfg = compose_config([f"scenario={name}"])
        assert validate(cfg) is cfg


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
    assert error_of(["firms.acme.price=1"]).startswith("firms.acme: no firm named 'acme'")
    assert error_of(["customers.segments.elderly.share=0.2"]).startswith(
        "customers.segments.elderly: no segment named 'elderly'")


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


def test_firm_entering_after_the_horizon():
    assert error_of(["firms.both.enter_step=6"]) == \
        "firms.both.enter_step = 6 is after the horizon: allowed [0, 5] (steps = 6)"


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


# ------------------------------------------------------ scenarios and groups
def test_missing_scenario_lists_the_scenarios():
    msg = error_of(["scenario=baselin"])
    assert msg.startswith("scenario = 'baselin': no such scenario; allowed: ")
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


# ----------------------------------------------------------- safe config files
@pytest.fixture()
def conf_copy(tmp_path, monkeypatch):
    """A copy of conf/ (scenarios included) that tests may add files to; configure points at it."""
    conf = tmp_path / "conf"
    shutil.copytree(configure.CONF_DIR, conf, symlinks=False)
    monkeypatch.setattr(configure, "CONF_DIR", conf)
    monkeypatch.setattr(configure, "SCENARIO_DIR", conf / "scenario")
    return conf


def _scenario(conf: Path, name: str, text: str) -> None:
    (conf / "scenario" / f"{name}.yaml").write_text(text)


def _refused(name: str) -> str:
    with pytest.raises(ConfigError) as info:
        compose_config([f"scenario={name}", "customers.n=500", "steps=4"])
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_copied_conf_still_composes(conf_copy):
    _scenario(conf_copy, "plain", "# @package _global_\n# plain\nsteps: 4\ncustomers:\n  n: 500\n")
    assert compose_config(["scenario=plain"]).steps == 4


def test_target_key_in_a_scenario_is_an_unknown_field(conf_copy, tmp_path):
    marker = tmp_path / "pwned"
    _scenario(conf_copy, "evil", f"# @package _global_\nmarket:\n  _target_: os.system\n"
                                 f"  command: touch {marker}\n")
    assert "evil.yaml: market._target_: unknown field; allowed fields of market: " in _refused("evil")
    _scenario(conf_copy, "evil2", "# @package _global_\nfirms:\n  both:\n    _target_: builtins.eval\n"
                                  "    _args_: ['print(1)']\n")
    assert "firms.both._" in _refused("evil2") and "unknown field" in _refused("evil2")
    assert not marker.exists()


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['touch {marker}']",
                                 "!!python/name:os.system", "!!python/object:builtins.dict {{}}"])
def test_python_yaml_tags_are_refused(conf_copy, tmp_path, tag):
    marker = tmp_path / "pwned"
    _scenario(conf_copy, "tagged", f"# @package _global_\nsteps: {tag.format(marker=marker)}\n")
    msg = _refused("tagged")
    assert "tagged.yaml, line 2: YAML tag !!python/" in msg and "is not allowed" in msg
    assert not marker.exists()


@pytest.mark.parametrize("text, expected", [
    ("# @package _global_\nhydra:\n  callbacks:\n    pwn:\n      _target_: subprocess.call\n"
     "      args: [touch, {marker}]\n", "sets hydra.callbacks"),
    ("# @package hydra.callbacks\npwn:\n  _target_: subprocess.call\n  args: [touch, {marker}]\n",
     "@package hydra.callbacks puts the file into Hydra's settings"),
    ("# @package _global_\ndefaults:\n  - override /hydra/job_logging: none\nsteps: 4\n",
     "defaults entry 'override /hydra/job_logging' selects Hydra's own config"),
])
def test_config_files_may_not_touch_hydra_settings(conf_copy, tmp_path, text, expected):
    marker = tmp_path / "pwned"
    _scenario(conf_copy, "hook", text.format(marker=marker))
    msg = _refused("hook")
    assert expected in msg and "config files are data" in msg
    assert not marker.exists()


def test_search_path_from_a_scenario_is_refused(conf_copy):
    _scenario(conf_copy, "reach", "# @package _global_\nhydra:\n  searchpath: [file:///tmp]\n")
    msg = _refused("reach")  # Hydra itself refuses this one, before our check
    assert msg.endswith("reach.yaml: Overriding hydra.searchpath is only supported from the primary config")


def test_group_files_are_checked_too(conf_copy):
    (conf_copy / "firms" / "sneaky.yaml").write_text(
        "# @package _global_\nhydra:\n  job_logging:\n    handlers: {}\n")
    with pytest.raises(ConfigError, match=r"sneaky.yaml: sets hydra.job_logging"):
        compose_config(["firms=sneaky"])


def test_invalid_yaml_names_file_and_line(conf_copy):
    _scenario(conf_copy, "broken", "# @package _global_\nsteps: [1, 2\n")
    assert "broken.yaml, line 3: not valid YAML" in _refused("broken")


def test_bad_value_in_scenario_file_names_the_file(conf_copy):
    _scenario(conf_copy, "typo", "# @package _global_\nmarket:\n  contact_rat: 0.3\n")
    assert _refused("typo").endswith(
        "typo.yaml: market.contact_rat: unknown field (did you mean market.contact_rate?); allowed fields of "
        "market: " + ", ".join(f.name for f in dataclasses.fields(sim.config.MarketConfig)))
    _scenario(conf_copy, "typo2", "# @package _global_\nmarket:\n  contact_rate: lots\n")
    assert _refused("typo2").endswith("typo2.yaml: market.contact_rate = 'lots' must be a number in [0, 1] "
                                      "(probability/step)")


def test_check_config_file_accepts_the_shipped_files():
    for path in sorted(configure.CONF_DIR.rglob("*.yaml")):
        if path.name != "config.yaml":
            group = path.parent.relative_to(configure.CONF_DIR).as_posix()
            configure.check_config_file(path, group)


def test_no_instantiate_anywhere_in_the_package():
    root = Path(sim.__file__).parent
    for path in root.glob("*.py"):
        text = path.read_text()
        assert "instantiate(" not in text, path.name
        assert "yaml.load(" not in text and "yaml.unsafe_load" not in text, path.name


def test_firm_config_has_no_callable_fields():
    hints = typing.get_type_hints(FirmConfig)
    assert all(tp in (int, float, str) or typing.get_origin(tp) is list for tp in hints.values())
