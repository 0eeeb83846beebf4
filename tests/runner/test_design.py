"""run_design: the one place sensitivity and calibration run simulations, as a sweep (sim.runner.sweep.run_jobs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.results.merge import MERGED_NC
from sim.runner.design import point_overrides, run_design

BASE = ["scenario=baseline", "customers.n=500", "steps=12"]


def test_design_has_run_and_seed_dims_with_parameter_coordinates(tmp_path):
    points = pd.DataFrame({"firms.both.price": [1.0, 1.4], "firms.both.human": [0.5, 0.9]})
    ds = run_design(points, BASE, seeds=[3, 5], n_jobs=1, variables=["share", "profit"], sweep_dir=tmp_path / "s")
    assert dict(ds.sizes) == {"run": 2, "seed": 2, "step": 12, "firm": 4}
    assert list(ds["firms.both.price"].values) == [1.0, 1.4]
    assert ds["firms.both.human"].dims == ("run",)
    assert set(ds.data_vars) == {"share", "profit"}
    direct = sim.run([*BASE, "firms.both.price=1.4", "firms.both.human=0.9"], seed=5)
    np.testing.assert_array_equal(ds.share.sel(run=1, seed=5).values, direct.share.values)
    assert ds.share.attrs["units"] == "1"
    # the sweep machinery ran it: one job folder per (point, seed), point-major, and the merge
    assert ds.attrs["launcher"] == "basic" and ds.attrs["jobs_done"] == 4
    design = yaml.safe_load((tmp_path / "s" / "design.yaml").read_text())
    assert design["jobs"][3]["overrides"] == [*BASE, "firms.both.price=1.4", "firms.both.human=0.9", "seed=5"]
    assert all((tmp_path / "s" / str(k) / "run.nc").exists() for k in range(4))
    assert (tmp_path / "s" / MERGED_NC).exists()


def test_launchers_and_the_in_memory_path_give_the_same_design():
    points = [{"firms.both.price": 1.1}, {"firms.both.price": 1.3}]
    here = run_design(points, BASE, seeds=[0, 1], n_jobs=1, variables=["share", "nps", "customers"])
    joblib = run_design(points, BASE, seeds=[0, 1], n_jobs=2, variables=["share", "nps", "customers"])
    local = run_design(points, BASE, seeds=[0, 1], n_jobs=1, variables=["share", "nps", "customers"],
                       launcher="local")
    assert (here.attrs["launcher"], joblib.attrs["launcher"], local.attrs["launcher"]) == ("basic", "joblib", "local")
    for other in (joblib, local):
        assert here.drop_attrs().identical(other.drop_attrs())


def test_a_design_whose_jobs_form_a_grid_keeps_run_and_seed():
    """Two points x two seeds with one parameter is a full grid for the merge; the design is still run x seed."""
    ds = run_design([{"firms.both.price": 1.0}, {"firms.both.price": 1.2}, {"firms.both.price": 1.0}], BASE,
                    seeds=[7], variables=["share"])
    assert dict(ds.sizes) == {"run": 3, "seed": 1, "step": 12, "firm": 4}
    np.testing.assert_array_equal(ds.share.sel(run=0).values, ds.share.sel(run=2).values)
    one = run_design([{"firms.both.price": 1.2}], BASE, seeds=[0])  # a single job: no swept factor
    assert dict(one.sizes)["run"] == 1 and one.customers.dtype == np.int64


def test_a_failed_job_is_kept_and_the_design_resumes(tmp_path, monkeypatch):
    from sim.model import CustomerModel

    step = CustomerModel.step

    def failing(self):
        if self.cfg.seed == 1 and self.recorder.filled == 2:
            raise FloatingPointError("injected failure")
        step(self)

    monkeypatch.setattr(CustomerModel, "step", failing)  # the basic launcher runs the jobs in this process
    points = [{"firms.both.price": 1.1}, {"firms.both.price": 1.3}]
    folder = tmp_path / "s"
    with pytest.raises(RuntimeError, match=r"2 of 4 design jobs did not finish \(jobs 1, 3\).*resume"):
        run_design(points, BASE, seeds=[0, 1], variables=["share"], sweep_dir=folder)
    partial = run_design(points, BASE, seeds=[0, 1], variables=["share"], sweep_dir=folder, resume=True,
                         allow_failures=True)
    assert partial.attrs["failed_points"] == "0, 1" and partial.attrs["jobs_failed"] == 2
    assert np.isnan(partial.share.sel(seed=1)).all() and np.isfinite(partial.share.sel(seed=0)).all()
    monkeypatch.setattr(CustomerModel, "step", step)  # the cause fixed: resume runs only the two failed jobs
    done = run_design(points, BASE, seeds=[0, 1], variables=["share"], sweep_dir=folder, resume=True)
    assert done.attrs["jobs_failed"] == 0 and np.isfinite(done.share).all()
    np.testing.assert_array_equal(done.share.sel(seed=0).values, partial.share.sel(seed=0).values)
    direct = sim.run([*BASE, "firms.both.price=1.3"], seed=1)
    np.testing.assert_array_equal(done.share.sel(run=1, seed=1).values, direct.share.values)


def test_templates_turn_one_parameter_into_an_override():
    ov = point_overrides({"spend": 0.02, "firms.both.price": 1}, {"spend": "firms.both.intervention=[{value},0,0]"})
    assert ov == ["firms.both.intervention=[0.02,0,0]", "firms.both.price=1"]


@pytest.mark.parametrize("points, seeds, variables, message", [
    ([{"firms.both.price": -1.0}], [0], None, "design point 0 (firms.both.price=-1.0): firms.both.price"),
    ([{"firms.both.price": 1.0}, {"firms.both.price": 2.0}, {"firms.both.price": -1.0}], [0], None,
     "design point 2 (firms.both.price=-1.0): firms.both.price = -1.0 is out of range"),
    ([{"firms.both.pric": 1.0}], [0], None, "did you mean"),
    ([{"firms.nosuchfirm.price": 1.0}], [0], None, "no firm named 'nosuchfirm' in this config; allowed firms"),
    ([], [0], None, "no points"),
    ([{"firms.both.price": 1.0}], [], None, "seeds"),
    ([{"firms.both.price": 1.0}], [0, 0], None, "each seed once"),
    ([{"firms.both.price": 1.0}], [0], ["shares"], "variables: unknown shares"),
])
def test_bad_design_stops_before_any_run_with_one_line(points, seeds, variables, message):
    with pytest.raises(sim.ConfigError) as err:
        run_design(points, BASE, seeds=seeds, variables=variables)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_launch_options_are_checked_before_any_run(tmp_path):
    points = [{"firms.both.price": 1.0}]
    with pytest.raises(sim.ConfigError, match="resume: give the sweep_dir"):
        run_design(points, BASE, resume=True)
    with pytest.raises(sim.ConfigError, match="launcher=local runs in memory"):
        run_design(points, BASE, launcher="local", sweep_dir=tmp_path / "s")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("")
    with pytest.raises(sim.ConfigError, match="already holds files"):
        run_design(points, BASE, sweep_dir=tmp_path / "used")
