"""The model as Mesa's tools drive it: keyword construction, ``running``, the DataCollector,
``mesa.batch_run``."""

from __future__ import annotations

import logging

import mesa
import numpy as np
import pandas as pd
import pytest

import sim
from sim.model import CustomerModel
from sim.results.output import MESA_VERSION

SMALL = {"scenario": "baseline", "customers": 1500, "steps": 5}


def test_keywords_compose_the_same_config_as_overrides():
    model = CustomerModel(seed=3, **SMALL, contact_rate=0.3, market__adoption__innovation=0.01,
                          **{"firms.both.price": 1.2}, overrides=["firms.neither.price=0.9"])
    ref = sim.build(["scenario=baseline", "customers.n=1500", "steps=5", "market.contact_rate=0.3",
                     "market.adoption.innovation=0.01", "firms.both.price=1.2", "firms.neither.price=0.9"], seed=3)
    assert model.cfg == ref.cfg
    assert model.seed == 3
    model.run()
    ref.run()
    assert sim.dataset(model).identical(sim.dataset(ref))


def test_positional_config_still_works_and_mixing_is_refused(small_cfg):
    assert CustomerModel(small_cfg).cfg is small_cfg
    with pytest.raises(sim.ConfigError, match="not both"):
        CustomerModel(small_cfg, seed=1)


def test_seed_none_draws_a_fresh_seed_that_repeats_the_run():
    a, b = CustomerModel(**SMALL), CustomerModel(**SMALL)
    assert a.seed != b.seed  # two fresh draws
    assert a.cfg.seed == a.seed
    a.run()
    again = CustomerModel(seed=a.seed, **SMALL)
    again.run()
    assert sim.dataset(again).identical(sim.dataset(a))


def test_rng_as_in_mesa():
    assert CustomerModel(rng=7, **SMALL).seed == 7
    gen = np.random.default_rng(5)
    expect = int(np.random.default_rng(5).integers(0, 2**63 - 1))
    assert CustomerModel(rng=gen, **SMALL).seed == expect


@pytest.mark.parametrize("kwargs, match", [
    ({"seed": 1, "rng": 2}, "either seed or rng"),
    ({"seed": "x"}, r"^seed = 'x' must be a whole number"),
    ({"customers": 0}, r"^customers.n = 0 is out of range: allowed \[1, 100000000\]$"),
    ({"contact_rat": 0.3}, r"^contact_rat: unknown keyword \(did you mean contact_rate\?\)"),
    ({"contact_rate": 2.0}, r"^market.contact_rate = 2.0 is out of range"),
    ({"firms__both__pricng": "markup"}, r"firms.both.pricng: unknown field \(did you mean firms.both.pricing\?\)"),
    ({"scenario": "Baseline"}, r"did you mean scenario=baseline\?"),
    ({"overrides": 3}, "expected a list of override strings"),
])
def test_bad_keywords_are_one_line_errors(kwargs, match):
    with pytest.raises(sim.ConfigError, match=match) as info:
        CustomerModel(**kwargs)
    assert "\n" not in str(info.value)


def test_running_turns_false_at_the_horizon_and_stepping_on_extends_the_record():
    model = CustomerModel(seed=0, **SMALL)
    while model.running:
        model.step()
    assert model.steps == 5
    model.step()  # a sixth step: no IndexError, the record grows
    model.step()
    assert not model.running
    ds = sim.dataset(model)
    assert list(ds.step.values) == [1, 2, 3, 4, 5, 6, 7]
    ref = sim.run(["scenario=baseline", "customers.n=1500", "steps=7"], seed=0)
    assert ds.drop_attrs().identical(ref.drop_attrs())  # the same steps as a 7-step run


def test_running_turns_false_when_no_firm_is_alive_or_to_come():
    model = CustomerModel(seed=0, scenario="baseline", customers=500, steps=20,
                          **{f"firms.{f}.bankruptcy": 100 for f in ("neither", "human_only", "digital_only", "both")})
    model.step()  # every firm is below its bankruptcy line: all exit in step 1
    assert not any(f.alive for f in model.firm_list)
    assert not model.running
    model.run()  # run() still covers the horizon
    assert model.steps == 20


def test_a_firm_entering_after_the_horizon_warns_once_and_never_enters(caplog):
    with caplog.at_level(logging.WARNING, logger="sim"):
        ds = sim.run(["customers.n=1000", "steps=12"], seed=0)  # disruptor enters at 36
    lines = [r.getMessage() for r in caplog.records if "horizon" in r.getMessage()]
    assert lines == ["firms.disruptor.enter_step = 36 is after the horizon (steps = 12): disruptor never "
                     "enters this run"]
    assert not ds.alive.sel(firm="disruptor").any()
    assert int(ds.customers.sel(firm="disruptor").max()) == 0


def test_datacollector_reports_what_the_dataset_records():
    model = CustomerModel(seed=2, **SMALL)
    model.run()
    ds = sim.dataset(model)
    mv = model.datacollector.get_model_vars_dataframe()
    assert len(mv) == 6  # step 0 (construction) and steps 1..5
    for name in ("digital_expectation", "hhi", "mean_price", "price_sensitivity", "adoption_total",
                 "digital_frontier", "digital_used", "unassigned"):
        np.testing.assert_allclose(mv[name].to_numpy()[1:].astype(float), ds[name].values, rtol=1e-12,
                                   err_msg=name)
    av = model.datacollector.get_agent_vars_dataframe().reset_index()
    for name, var in (("n_customers", "customers"), ("share", "share"), ("cash", "cash"), ("trust", "trust"),
                      ("nps", "nps"), ("quadrant", "quadrant")):
        got = av[av.Step > 0].pivot(index="Step", columns="firm", values=name)[list(ds.firm.values)]
        np.testing.assert_allclose(got.to_numpy(float), ds[var].values, rtol=1e-12, err_msg=name)
    assert av[av.Step == 0].trust.isna().all()  # nothing recorded before step 1


#: Mesa 3.4+'s batch_run seeds the runs from ``rng`` (one run per value and parameter combination,
#: handed to the model's ``rng``) and deprecates ``iterations``; Mesa 3.3's repeats by ``iterations``.
BATCH_RNG = MESA_VERSION >= (3, 4)
#: Mesa 3.5's batch_run steps while ``model.steps < max_steps`` and reports every collected step,
#: 0 .. the last (its ``model.time``, a float); Mesa 3.3's (and 3.4's) steps while ``model.steps <=
#: max_steps`` and reports steps 0 .. ``model.steps - 1``: no row for the last step of a model that stops.
BATCH_ALL_STEPS = MESA_VERSION >= (3, 5)
NO_ITERATIONS = "error:The `iterations` keyword argument is deprecated:DeprecationWarning"


def _repeats(n: int) -> dict:
    """batch_run's keyword for ``n`` runs of every parameter combination."""
    return {"rng": [None] * n} if BATCH_RNG else {"iterations": n}


def _rows_match_sim_run(table: pd.DataFrame, seed_column: str) -> None:
    """Every row of steps 1.. holds what ``sim.run`` records for its seed, step and firm."""
    for seed in table[seed_column].unique():
        ds = sim.run(["scenario=baseline", "customers.n=1500", "steps=5"], seed=int(seed))
        runs = table[(table[seed_column] == seed) & (table.Step >= 1)]
        assert len(runs) > 0
        for _, row in runs.iterrows():
            rec = ds.sel(step=int(row.Step), firm=row.firm)
            assert row.n_customers == int(rec.customers)
            assert row.share == pytest.approx(float(rec.share), abs=0, rel=1e-12)
            assert row.cash == pytest.approx(float(rec.cash), abs=0, rel=1e-12)
            assert row.mean_price == pytest.approx(float(ds.mean_price.sel(step=int(row.Step))), rel=1e-12)
            assert (np.isnan(row.trust) and np.isnan(float(rec.trust))) or row.trust == float(rec.trust)


@pytest.mark.filterwarnings(NO_ITERATIONS)
def test_batch_run_two_seeds_two_repeats_matches_sim_run():
    """Seeds in batch_run's parameters, each run twice (``rng=[None, None]`` on Mesa 3.4+,
    ``iterations=2`` on 3.3): the seeds reach the model (Mesa 3.4+ would overwrite them with the
    runs' ``rng`` values, None, were ``seed`` named in the model's signature) and repeats are identical."""
    rows = mesa.batch_run(CustomerModel, parameters={"seed": [0, 1], **SMALL}, max_steps=100,
                          data_collection_period=1, display_progress=False, **_repeats(2))
    table = pd.DataFrame(rows)
    assert sorted(table.RunId.unique()) == [0, 1, 2, 3]
    assert sorted(table.groupby("RunId").seed.first()) == [0, 0, 1, 1]
    steps = SMALL["steps"] + 1 if BATCH_ALL_STEPS else SMALL["steps"]
    assert sorted(table.Step.unique()) == list(range(steps))
    assert len(table) == 4 * steps * 4  # runs x steps x firms
    _rows_match_sim_run(table, "seed")
    for _, runs in table.groupby("seed"):
        first, second = (part.drop(columns=["RunId", "iteration", "AgentID"]).reset_index(drop=True)
                         for _, part in runs.groupby("RunId"))
        pd.testing.assert_frame_equal(first, second)


@pytest.mark.skipif(not BATCH_RNG, reason=f"Mesa {mesa.__version__}'s batch_run has no rng (Mesa 3.4+)")
@pytest.mark.filterwarnings(NO_ITERATIONS)
def test_batch_run_rng_seeds_the_runs():
    rows = mesa.batch_run(CustomerModel, parameters=SMALL, rng=[0, 1, 0], max_steps=100, data_collection_period=1,
                          display_progress=False)
    table = pd.DataFrame(rows)
    assert table.groupby("RunId").rng.first().tolist() == [0, 1, 0]
    assert table.Step.max() == SMALL["steps"]
    _rows_match_sim_run(table, "rng")


@pytest.mark.parametrize("max_steps", [0, 3, 50])
def test_batch_run_any_max_steps(max_steps):
    rows = mesa.batch_run(CustomerModel, parameters={"seed": 0, **SMALL}, max_steps=max_steps,
                          display_progress=False)
    last = min(max_steps, SMALL["steps"] if BATCH_ALL_STEPS else SMALL["steps"] - 1)
    assert rows and {row["Step"] for row in rows} == {last}  # the end of the run only
    assert len(rows) == 4  # one per firm
    if last:
        _rows_match_sim_run(pd.DataFrame(rows), "seed")
