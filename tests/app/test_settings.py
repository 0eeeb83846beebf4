"""The page's control values -> override strings -> model (sim/app/settings.py)."""

from __future__ import annotations

import pytest

from sim.app import settings as A
from sim.app.session import Run
from sim.settings import schema

SMALL = 2000


def test_overrides_name_every_control():
    s = A.Settings(scenario="disruptor", customers=5000, seed=3,
                   firms={"both": A.FirmSetting(0.4, 0.9, 1.5, "soft", 0.6)}, enter_step=12, shock=True,
                   shock_start=30)
    assert A.overrides(s) == [
        "scenario=disruptor", "customers.n=5000",
        "firms.both.digital=0.4", "firms.both.human=0.9", "firms.both.price=1.5", "firms.both.steering=soft",
        "firms.both.steering_strength=0.6", "firms.disruptor.enter_step=12",
        "market.shock.start=30", "market.shock.end=42"]
    assert A.overrides(A.Settings(scenario="shock", shock=False)) == [
        "scenario=shock", "market.shock.start=-1", "market.shock.end=-1"]
    assert A.overrides(A.Settings(disruptor=False)) == ["~firms.disruptor"]


def test_controls_reach_the_model():
    s = A.Settings(scenario="disruptor", customers=SMALL, seed=2,
                   firms={"both": A.FirmSetting(0.3, 0.9, 1.4, "hard", 0.8)}, enter_step=5, shock=True, shock_start=7)
    cfg = A.make_model(s).cfg
    assert (cfg.scenario, cfg.customers.n, cfg.seed) == ("disruptor", SMALL, 2)
    both = cfg.firms["both"]
    assert (both.digital, both.human, both.price, both.steering, both.steering_strength) == (0.3, 0.9, 1.4, "hard", 0.8)
    assert cfg.firms["disruptor"].enter_step == 5
    assert (cfg.market.shock.start, cfg.market.shock.end) == (7, 7 + A.SHOCK_LENGTH)
    no = A.make_model(A.Settings(customers=SMALL, disruptor=False))
    assert [f.name for f in no.firm_list] == ["neither", "digital_only", "human_only", "both"]


def test_disruptor_added_to_a_scenario_without_one():
    s = A.Settings(scenario="shock", customers=SMALL, disruptor=True, add_disruptor=True, enter_step=10,
                   firms={"disruptor": A.FirmSetting(0.9, 0.2, 0.7), "both": A.FirmSetting(0.7, 0.7, 1.1)})
    m = A.make_model(s)
    cfg = m.cfg
    assert [f.name for f in m.firm_list] == ["neither", "digital_only", "human_only", "both", "disruptor"]
    assert cfg.scenario == "shock" and cfg.market.shock.start == 24  # the scenario stays itself
    template = A.disruptor_template()
    d = cfg.firms["disruptor"]
    assert (d.digital, d.human, d.price, d.enter_step) == (0.9, 0.2, 0.7, 10)
    assert (d.reserve_months, d.unit_cost_factor, d.fixed_cost) == (template["reserve_months"],
                                                                template["unit_cost_factor"], template["fixed_cost"])
    assert (cfg.firms["both"].digital, cfg.firms["both"].price) == (0.7, 1.1)


@pytest.mark.parametrize(("settings", "field"), [
    (A.Settings(customers=0), "customers.n"),
    (A.Settings(customers=SMALL, enter_step=-3), "firms.disruptor.enter_step"),
    (A.Settings(customers=SMALL, firms={"both": A.FirmSetting(0.5, 0.5, -1.0)}), "firms.both.price"),
])
def test_bad_value_gives_one_line_error_instead_of_a_model(settings, field):
    run = Run(settings)
    assert run.sim is None and run.ended
    assert field in run.error and "\n" not in run.error and "Traceback" not in run.error
    assert not run.step()  # a click on Step does nothing
    assert run.status() == f"error: {run.error}"


def test_the_steering_modes_are_the_schemas():
    assert A.STEERING_MODES is schema.STEERING_MODES
    f = A.FirmSetting(0.5, 0.5, 1.0)
    assert A.with_steering(f, "hard").steering_strength == A.DEFAULT_STEERING_STRENGTH["hard"]
    assert A.with_steering(A.FirmSetting(0.5, 0.5, 1.0, "soft", 0.3), "hard").steering_strength == 0.3
    with pytest.raises(ValueError, match="allowed none, soft, hard"):
        A.with_steering(f, "sideways")


def test_firm_only_change():
    a = A.Settings(scenario="baseline", customers=SMALL)
    moved = A.FirmSetting(0.5, 0.2, 1.0)
    assert A.firm_only_change(a, A.Settings(scenario="baseline", customers=SMALL, firms={"both": moved})) == {
        "both": moved}
    assert A.firm_only_change(a, A.Settings(scenario="baseline", customers=SMALL + 1)) is None
    b = A.Settings(scenario="baseline", customers=SMALL, firms={"both": moved})
    assert A.firm_only_change(b, a) is None  # a firm back to its scenario values: rebuilt
    assert A.firm_only_change(a, a) == {}


def test_library_scenarios_leave_out_the_validation_cases():
    names = A.library_scenarios()
    assert "baseline" in names and "disruptor" in names and not any("/" in n for n in names)
