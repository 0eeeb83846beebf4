"""The pure entry points (sim.api): run, build, dataset."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.settings.compose import compose_config


def test_run_equals_build_then_step_then_dataset():
    args = ["scenario=baseline", "customers.n=1500", "steps=5"]
    ds = sim.run(args, seed=4)
    model = sim.build(args, seed=4)
    assert model.steps == 0 and model.recorder.filled == 0, "built, not run"
    model.run()
    assert sim.dataset(model).identical(ds)


def test_seed_argument_is_the_seed_override():
    args = ["scenario=baseline", "customers.n=800", "steps=3"]
    assert sim.run(args, seed=9).identical(sim.run([*args, "seed=9"]))


def test_config_object_with_overrides_on_top():
    cfg = compose_config(["scenario=baseline", "customers.n=800", "steps=3"])
    ds = sim.run(["market.contact_rate=0.2"], config=cfg)
    assert "contact_rate: 0.2" in ds.attrs["config"]
    assert ds.attrs["scenario"] == "baseline" and ds.attrs["customers_n"] == 800
    assert cfg.market.contact_rate != 0.2, "the caller's config object is not changed"


def test_dataset_carries_provenance():
    ds = sim.run(["scenario=steering", "customers.n=600", "steps=2"], seed=3)
    assert ds.attrs["seed"] == 3 and ds.attrs["Conventions"].startswith("CF")
    assert ds.attrs["version_customer_sim"] and ds.attrs["version_hydra_core"]  # CF attribute names: no hyphens
    assert list(ds.firm.values) == ["open", "nudging", "closing"], "firms keep the scenario's order"
    assert np.array_equal(ds.step.values, [1, 2])


def test_one_override_string_is_split_like_a_command_line():
    a = sim.run("scenario=baseline customers.n=500 steps=2", seed=1)
    b = sim.run(["scenario=baseline", "customers.n=500", "steps=2"], seed=1)
    assert a.identical(b)
    with pytest.raises(sim.ConfigError, match="^overrides: 3 is not an override string"):
        sim.build(["scenario=baseline", 3])
    with pytest.raises(sim.ConfigError, match="^overrides: expected a list of override strings"):
        sim.build({"scenario": "baseline"})


def test_align_runs_keeps_firms_that_one_run_lacks():
    base = sim.run(["scenario=baseline", "customers.n=500", "steps=3"])
    disr = sim.run(["scenario=disruptor", "customers.n=500", "steps=3", "firms.disruptor.enter_step=1"])
    assert "disruptor" not in (disr.share - base.share).firm  # xarray's default: inner join
    a, b = sim.align_runs(base, disr)
    diff = b.share - a.share
    assert "disruptor" in diff.firm and bool(diff.sel(firm="disruptor").isnull().all())
    a, b = sim.align_runs(base, disr, fill_value={"share": 0.0})
    diff = (b.share - a.share).sel(firm="disruptor")
    np.testing.assert_array_equal(diff.values, disr.share.sel(firm="disruptor").values)
