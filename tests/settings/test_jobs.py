"""Many jobs composed fast (sim.settings.jobs): the same configs and the same one-line errors as Hydra
composing every job, whether a whole sweep at once (compose_many) or job after job (JobComposer, a
sweep's worker)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.settings.compose import compose_jobs, expand_sweep
from sim.settings.jobs import JobComposer, compose_many

JOBS = expand_sweep(["scenario=baseline,steering", "market.contact_rate=0,0.35", "seed=0,7", "customers.n=1000"])
JOBS += [["scenario=baseline", "firms.neither.steering=hard", "seed=3"],
         ["scenario=baseline", "firms.neither.steering=soft", "seed=4"]]


@pytest.fixture(scope="module")
def by_hydra():
    return compose_jobs(JOBS)


def test_compose_many_equals_hydra_composition_job_by_job(by_hydra):
    fast = compose_many(JOBS)
    assert [f.config for f in fast] == [s.config for s in by_hydra]
    assert isinstance(fast[1].config.market.contact_rate, float)  # 0 -> 0.0, as OmegaConf makes it
    assert [f.overrides for f in fast] == JOBS


def test_a_worker_composes_each_structure_once_and_gets_hydra_s_configs(by_hydra, monkeypatch):
    import sim.settings.jobs as jobs

    calls = []
    real = jobs.compose_jobs

    def counting(js, **kw):
        calls.append([list(j) for j in js])
        return real(js, **kw)

    monkeypatch.setattr(jobs, "compose_jobs", counting)
    composer = JobComposer()
    # a worker meets the jobs in any order (others took some): each config is Hydra's all the same
    order = [5, 0, 9, 3, 1, 2, 4, 6, 7, 8]
    got = {k: composer.compose(JOBS[k]) for k in order}
    assert all(got[k] == by_hydra[k].config for k in order)
    # Hydra composed one job per structure (scenario, and which plain keys are set): 2 grids + 1 pair
    assert len(calls) == 3 and all(len(c) == 1 for c in calls)
    # the kept configs are not those handed out: a job that changes its config changes no other job's
    got[5].seed = 99
    assert composer.compose(JOBS[5]).seed == by_hydra[5].config.seed


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seeds=st.lists(st.integers(0, 2**40), min_size=1, max_size=3),
       prices=st.lists(st.floats(0.5, 2.0, allow_nan=False).map(lambda x: round(x, 3)) | st.integers(1, 2),
                       min_size=1, max_size=2))
def test_derived_configs_equal_hydra_s_for_any_plain_values(seeds, prices):
    jobs = [["scenario=baseline", f"firms.both.price={p}", f"seed={s}"] for s in seeds for p in prices]
    composer = JobComposer()
    want = compose_jobs(jobs)
    assert [composer.compose(j) for j in jobs] == [w.config for w in want]
    assert [c.config for c in compose_many(jobs)] == [w.config for w in want]


@pytest.mark.parametrize("sweep, expected", [
    (["seed=0,1,-5"], r"job 2 \(scenario=baseline seed=-5\): seed = -5 is out of range"),
    (["customers.n=1000,abc"], r"job 1 \(scenario=baseline customers.n=abc\): customers.n = 'abc' must be"),
    (["firms.both.steering=soft,sideways"], r"job 1 \(.*\): firms.both.steering = 'sideways' is not allowed"),
])
def test_compose_many_reports_the_same_one_line_errors(sweep, expected):
    jobs = expand_sweep(["scenario=baseline", *sweep])
    with pytest.raises(sim.ConfigError, match=expected) as fast:
        compose_many(jobs)
    with pytest.raises(sim.ConfigError) as slow:
        compose_jobs(jobs)
    assert str(fast.value) == str(slow.value)
    # job after job: the same error, without the job's label (the worker records it in the job's folder)
    composer = JobComposer()
    bad = int(expected.split()[1])
    for job in jobs[:bad]:
        composer.compose(job)
    with pytest.raises(sim.ConfigError) as one:
        composer.compose(jobs[bad])
    assert str(fast.value).endswith(str(one.value)) and "\n" not in str(one.value)
