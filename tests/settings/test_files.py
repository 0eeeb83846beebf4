"""Config files are data (sim.settings.files): `_target_` is an unknown field, YAML tags are refused, a
file may not reach into Hydra's settings (callbacks, launchers, logging)."""

from __future__ import annotations

import dataclasses
import shutil
import typing
from pathlib import Path

import pytest

import sim
from sim.settings import files as conffiles
from sim.settings.compose import compose_config
from sim.settings.schema import ConfigError, FirmConfig
from tests.conftest import ERROR_BASE as BASE  # noqa: F401


# ----------------------------------------------------------- safe config files
@pytest.fixture()
def conf_copy(tmp_path, monkeypatch):
    """A copy of conf/ (scenarios included) that tests may add files to; configure points at it."""
    conf = tmp_path / "conf"
    shutil.copytree(conffiles.CONF_DIR, conf, symlinks=False)
    monkeypatch.setattr(conffiles, "CONF_DIR", conf)
    monkeypatch.setattr(conffiles, "SCENARIO_DIR", conf / "scenario")
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
        "market: " + ", ".join(f.name for f in dataclasses.fields(sim.settings.schema.MarketConfig)))
    _scenario(conf_copy, "typo2", "# @package _global_\nmarket:\n  contact_rate: lots\n")
    assert _refused("typo2").endswith("typo2.yaml: market.contact_rate = 'lots' must be a number in [0, 1] "
                                      "(probability/step)")


def test_check_config_file_accepts_the_shipped_files():
    for path in sorted(conffiles.CONF_DIR.rglob("*.yaml")):
        if path.name != "config.yaml":
            group = path.parent.relative_to(conffiles.CONF_DIR).as_posix()
            conffiles.check_config_file(path, group)


def test_no_instantiate_anywhere_in_the_package():
    root = Path(sim.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "instantiate(" not in text, path.name
        assert "yaml.load(" not in text and "yaml.unsafe_load" not in text, path.name


def test_firm_config_has_no_callable_fields():
    hints = typing.get_type_hints(FirmConfig)
    assert all(tp in (int, float, str) or typing.get_origin(tp) is list for tp in hints.values())
