"""Composition (sim.settings.compose): override strings to a validated SimConfig, sweeps expanded as Hydra would."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.settings.compose import as_config, compose_config, compose_jobs, expand_sweep, to_yaml
from sim.settings.schema import ConfigError, SimConfig


def test_compose_applies_scenario_and_overrides():
    cfg = compose_config(["scenario=steering", "customers.n=1234", "firms.closing.steering_strength=0.5"])
    assert isinstance(cfg, SimConfig) and cfg.scenario == "steering"
    assert cfg.customers.n == 1234 and cfg.firms["closing"].steering_strength == 0.5


def test_expand_sweep_makes_the_grid_in_hydra_order():
    jobs = expand_sweep(["scenario=baseline,disruptor", "seed=0,1"])
    assert jobs == [["scenario=baseline", "seed=0"], ["scenario=baseline", "seed=1"],
                    ["scenario=disruptor", "seed=0"], ["scenario=disruptor", "seed=1"]]
    assert len(expand_sweep(["seed=range(5)"])) == 5


def test_compose_jobs_names_the_bad_job():
    with pytest.raises(ConfigError, match=r"^job 1 \(market.contact_rate=2\): market.contact_rate = 2"):
        compose_jobs([["market.contact_rate=0.2"], ["market.contact_rate=2"]])


def test_yaml_round_trip_through_as_config():
    cfg = compose_config(["scenario=interventions", "customers.n=900"])
    again = as_config({k: v for k, v in __import__("yaml").safe_load(to_yaml(cfg)).items()})
    assert again == cfg


@pytest.mark.parametrize("scenario", __import__("sim.settings.compose", fromlist=["x"]).scenario_names())
def test_to_yaml_is_omegaconfs_text_for_every_scenario(scenario):
    """The fast YAML writer gives the text OmegaConf gives, also for a config made in Python with an
    int where the schema says float (OmegaConf writes 1.0)."""
    import dataclasses

    from omegaconf import OmegaConf

    cfg = compose_config([f"scenario={scenario}", "customers.n=1000"])
    assert to_yaml(cfg) == OmegaConf.to_yaml(OmegaConf.structured(cfg))
    odd = dataclasses.replace(cfg, market=dataclasses.replace(cfg.market, contact_rate=1))
    name = next(iter(odd.firms))
    odd.firms[name] = dataclasses.replace(odd.firms[name], price=2, intervention=[0, 1, 0.5])
    text = to_yaml(odd)
    assert text == OmegaConf.to_yaml(OmegaConf.structured(odd))
    assert "contact_rate: 1.0" in text


@settings(max_examples=80, deadline=None)
@given(text=st.text(st.characters(codec="ascii"), max_size=40) | st.text(max_size=20))
def test_to_yaml_is_omegaconfs_text_for_any_text_in_a_field(text):
    """Any text in a field (printable ASCII through libyaml, the rest through PyYAML's Python emitter)
    gives OmegaConf's text."""
    import dataclasses

    from omegaconf import OmegaConf

    cfg = dataclasses.replace(_BASE, scenario=text)
    assert to_yaml(cfg) == OmegaConf.to_yaml(OmegaConf.structured(cfg))


_BASE = compose_config(["scenario=baseline"])
