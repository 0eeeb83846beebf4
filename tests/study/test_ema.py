"""sim.study.ema: the model as an EMA Workbench model; experiments equal direct runs; one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.settings.schema import ConfigError
from sim.study.ema import config_path, ema_model, ema_name, parameters_of, run_experiments, workbench

# the workbench imported quietly (it warns that ipyparallel, an evaluator we do not use, is missing)
ema = workbench()
ArrayOutcome, ScalarOutcome, ReplicatorModel = ema.ArrayOutcome, ema.ScalarOutcome, ema.ReplicatorModel
RealParameter, IntegerParameter = ema.RealParameter, ema.IntegerParameter
CategoricalParameter = ema.CategoricalParameter

BASE = ["scenario=baseline"]
SIZE = {"customers": 300, "steps": 6}
OUTCOMES = {
    "share_both": {"variable": "share", "firm": "both", "reduce": "last"},
    "hhi_mean": {"variable": "hhi", "reduce": "mean"},
    "profit_all": {"variable": "profit", "firm": "all", "reduce": "sum", "steps": [2, 6]},
    "nps_human": {"variable": "nps", "firm": "human_only", "reduce": "mean", "fill": -100.0},
    "expectation": {"variable": "digital_expectation", "reduce": "series", "steps": [2, 5]},
}


def _direct(row, seed: int) -> dict:
    """The outcomes of a direct ``sim.run`` (composed from scratch) for one experiment's parameters."""
    overrides = [*BASE, "customers.n=300", "steps=6"]
    for name, value in row.items():
        overrides.append(f"{config_path(name)}={value!r}" if not isinstance(value, str) else
                         f"{config_path(name)}={value}")
    ds = sim.run(overrides, seed=seed)
    s = ds.sel(step=slice(2, 6))
    return {
        "share_both": float(ds.share.sel(firm="both").isel(step=-1)),
        "hhi_mean": float(ds.hhi.mean()),
        "profit_all": float(s.profit.sum("firm").sum("step")),  # over the firms, then the steps
        "nps_human": float(ds.nps.sel(firm="human_only").fillna(-100.0).mean()),
        "expectation": ds.digital_expectation.sel(step=slice(2, 5)).to_numpy(),
    }


def _row(experiments, i: int, columns) -> dict:
    row = {}
    for c in columns:
        v = experiments.loc[i, c]
        row[c] = v if isinstance(v, str) else (int(v) if isinstance(v, (int, np.integer)) else float(v))
    return row


def test_experiments_through_the_workbench_equal_direct_runs():
    model = ema_model({"market.beta_human": (2.0, 4.0), "market.burn_in": (0, 6)}, OUTCOMES,
                      levers={"firms.both.human": (0.5, 1.0), "firms.both.steering": ["none", "soft"]},
                      base_overrides=BASE, seeds=3, **SIZE)
    kinds = {p.name: type(p) for p in [*model.uncertainties, *model.levers]}
    assert kinds == {"market__beta_human": RealParameter, "market__burn_in": IntegerParameter,
                     "firms__both__human": RealParameter, "firms__both__steering": CategoricalParameter}
    assert {o.name: type(o) for o in model.outcomes} == {
        "share_both": ScalarOutcome, "hhi_mean": ScalarOutcome, "profit_all": ScalarOutcome,
        "nps_human": ScalarOutcome, "expectation": ArrayOutcome}
    state = np.random.get_state()
    np.random.seed(2)  # the workbench's sampler draws from NumPy's global generator
    try:
        with ema.SequentialEvaluator(model) as evaluator:
            experiments, outcomes = ema.perform_experiments(model, scenarios=2, policies=2, evaluator=evaluator)
    finally:
        np.random.set_state(state)
    assert len(experiments) == 4 and outcomes["share_both"].shape == (4,) and outcomes["expectation"].shape == (4, 4)
    assert experiments["market__beta_human"].between(2.0, 4.0).all()
    assert experiments["market__burn_in"].between(0, 6).all()
    assert set(experiments["firms__both__steering"]) <= {"none", "soft"}
    params = ["market__beta_human", "market__burn_in", "firms__both__human", "firms__both__steering"]
    for i in (0, 3):
        direct = _direct(_row(experiments, i, params), seed=3)
        for name, value in direct.items():
            np.testing.assert_array_equal(outcomes[name][i], value, err_msg=name)
    by_path = parameters_of(experiments)
    assert list(by_path.columns) == ["market.beta_human", "market.burn_in", "firms.both.human",
                                     "firms.both.steering"]


def test_replicated_seeds_and_a_seeded_sample():
    model = ema_model(["market.review_hazard"], {"share_both": OUTCOMES["share_both"],
                                                 "expectation": OUTCOMES["expectation"]},
                      base_overrides=BASE, seeds=[0, 1], **SIZE)
    assert isinstance(model, ReplicatorModel)
    assert [type(o) for o in model.outcomes] == [ScalarOutcome, ArrayOutcome]
    experiments, outcomes = run_experiments(model, scenarios=2, sample_seed=11)
    assert outcomes["share_both"].shape == (2,) and outcomes["expectation"].shape == (2, 4)
    # the schema's whole range [0, 1] when none is given
    assert model.uncertainties["market__review_hazard"].lower_bound == 0.0
    assert model.uncertainties["market__review_hazard"].upper_bound == 1.0
    row = _row(experiments, 1, ["market__review_hazard"])
    runs = [_direct(row, seed) for seed in (0, 1)]
    assert runs[0]["share_both"] != runs[1]["share_both"]  # the seeds differ
    assert outcomes["share_both"][1] == pytest.approx((runs[0]["share_both"] + runs[1]["share_both"]) / 2, abs=1e-15)
    np.testing.assert_allclose(outcomes["expectation"][1], (runs[0]["expectation"] + runs[1]["expectation"]) / 2,
                               rtol=0, atol=1e-15)
    # the same sample seed gives the same experiments (sampling only: no runs needed to check it)
    from ema_workbench.em_framework.samplers import sample_uncertainties

    state = np.random.get_state()
    np.random.seed(11)
    again = [s["market__review_hazard"] for s in sample_uncertainties(model, 2)]
    np.random.set_state(state)
    np.testing.assert_array_equal(np.sort(again), np.sort(experiments["market__review_hazard"].to_numpy()))


def test_an_outcome_name_keeps_its_kind_in_a_session():
    ema_model(["market.contact_rate"], {"kind_probe": {"variable": "hhi"}}, base_overrides=BASE, **SIZE)
    with pytest.raises(ConfigError, match="outcomes.kind_probe: this Python session already has an outcome"):
        ema_model(["market.contact_rate"], {"kind_probe": {"variable": "hhi", "reduce": "series"}},
                  base_overrides=BASE, **SIZE)


def test_multiprocessing_evaluator_gives_the_same_runs():
    model = ema_model({"firms.both.price": (0.8, 1.4)}, {"share_both": OUTCOMES["share_both"]},
                      base_overrides=BASE, seeds=5, **SIZE)
    experiments, outcomes = run_experiments(model, scenarios=2, processes=2, sample_seed=1)
    for i in range(2):
        direct = _direct(_row(experiments, i, ["firms__both__price"]), seed=5)
        assert outcomes["share_both"][i] == direct["share_both"]


def test_names_round_trip():
    assert ema_name("firms.both.human") == "firms__both__human"
    assert config_path(ema_name("market.adoption.expectation_pull")) == "market.adoption.expectation_pull"


@pytest.mark.parametrize("kwargs, message", [
    ({"uncertainties": ["market.contact_rat"]},
     "uncertainty market.contact_rat: unknown config path; did you mean market.contact_rate"),
    ({"uncertainties": {"market.contact_rate": (0.0, 2.0)}},
     "uncertainty market.contact_rate: range [0, 2] is outside the schema's range: allowed [0, 1] (probability/step)"),
    ({"uncertainties": {"market.contact_rate": (0.5, 0.2)}},
     "uncertainty market.contact_rate: range [0.5, 0.2] is empty: give low < high, allowed [0, 1]"),
    ({"uncertainties": {"market.contact_rate": 0.3}},
     "uncertainty market.contact_rate = 0.3: expected (low, high) inside the allowed [0, 1]"),
    ({"levers": {"firms.nobody.human": None}},
     "lever firms.nobody.human: no entry 'nobody' in firms; allowed: neither, digital_only, human_only, both"),
    ({"levers": {"firms.both.human": (0.5, 1.5)}},
     "lever firms.both.human: range [0.5, 1.5] is outside the schema's range: allowed [0, 1] (level)"),
    ({"levers": {"firms.both.steering": ["none", "sometimes"]}},
     "lever firms.both.steering = ['none', 'sometimes']: allowed a list of options among none, soft, hard"),
    ({"uncertainties": ["firms.both.intervention"]},
     "uncertainty firms.both.intervention: a list, not a number or a choice"),
    ({"uncertainties": ["market.adoption"]}, "uncertainty market.adoption: a group of settings, not a number"),
    ({"uncertainties": {"market.burn_in": (0, 6.5)}},
     "uncertainty market.burn_in: range [0, 6.5] must be whole numbers, allowed [0, 10000] (steps)"),
    ({"uncertainties": ["seed"]}, "uncertainty seed: seeds are given by seeds="),
    ({"uncertainties": ["market.trust_gain"], "levers": ["market.trust_gain"]},
     "levers market.trust_gain: also an uncertainty"),
    ({"uncertainties": []}, "uncertainties: none given"),
    ({"outcomes": {"x": {"variable": "sharee", "firm": "both"}}},
     "outcomes.x.variable: 'sharee' is not a firm or market variable"),
    ({"outcomes": {"x": {"variable": "share"}}}, "outcomes.x.firm: missing: share is per firm"),
    ({"outcomes": {"x": {"variable": "share", "firm": "disruptor"}}},
     "outcomes.x.firm: 'disruptor' is not a firm of the scenario"),
    ({"outcomes": {"x": {"variable": "hhi", "reduce": "median"}}},
     "outcomes.x.reduce: 'median'; allowed: sum, mean, last, series"),
    ({"outcomes": {"x": {"variable": "hhi", "steps": [1, 99]}}}, "outcomes.x.steps: [1, 99] ends after the horizon"),
    ({"outcomes": {"share-both": {"variable": "hhi"}}}, "outcomes: name 'share-both' must be a Python identifier"),
    ({"seeds": [0, -1]}, "seeds = [0, -1]: allowed a whole number >= 0"),
    ({"customers": 0}, "customers = 0: allowed a whole number >= 1"),
    ({"base_overrides": ["scenario=nowhere"]}, "scenario"),
])
def test_bad_input_is_one_line_before_any_run(kwargs, message, monkeypatch):
    def no_run(*args, **kw):
        raise AssertionError("a simulation was built before the input was checked")

    monkeypatch.setattr("sim.model.CustomerModel.__init__", no_run)
    args = {"uncertainties": {"market.contact_rate": None}, "outcomes": {"hhi": {"variable": "hhi"}},
            "base_overrides": BASE, **SIZE}
    args.update(kwargs)
    with pytest.raises(ConfigError) as err:
        ema_model(**args)
    text = str(err.value)
    assert message in text and "\n" not in text, text


def test_bad_evaluator_settings():
    model = ema_model(["market.contact_rate"], {"hhi": {"variable": "hhi"}}, base_overrides=BASE, **SIZE)
    with pytest.raises(ConfigError, match="processes = 0: allowed a whole number >= 1"):
        run_experiments(model, scenarios=2, processes=0)
