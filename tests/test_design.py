"""run_design: the one place sensitivity and calibration run simulations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.design import point_overrides, run_design

BASE = ["scenario=baseline", "customers.n=500", "steps=12"]


def test_design_has_run_and_seed_dims_with_parameter_coordinates():
    points = pd.DataFrame({"firms.both.price": [1.0, 1.4], "firms.both.human": [0.5, 0.9]})
    ds = run_design(points, BASE, seeds=[3, 5], n_jobs=1, variables=["share", "profit"])
    assert dict(ds.sizes) == {"run": 2, "seed": 2, "step": 12, "firm": 4}
    assert list(ds["firms.both.price"].values) == [1.0, 1.4]
    assert ds["firms.both.human"].dims == ("run",)
    assert set(ds.data_vars) == {"share", "profit"}
    direct = sim.run([*BASE, "firms.both.price=1.4", "firms.both.human=0.9"], seed=5)
    np.testing.assert_array_equal(ds.share.sel(run=1, seed=5).values, direct.share.values)
    assert ds.share.attrs["units"] == "1"


def test_parallel_design_equals_serial():
    points = [{"firms.both.price": 1.1}, {"firms.both.price": 1.3}]
    serial = run_design(points, BASE, seeds=[0, 1], n_jobs=1, variables=["share", "nps"])
    parallel = run_design(points, BASE, seeds=[0, 1], n_jobs=2, variables=["share", "nps"])
    assert serial.identical(parallel)


def test_templates_turn_one_parameter_into_an_override():
    ov = point_overrides({"spend": 0.02, "firms.both.price": 1}, {"spend": "firms.both.intervention=[{value},0,0]"})
    assert ov == ["firms.both.intervention=[0.02,0,0]", "firms.both.price=1"]


@pytest.mark.parametrize("points, seeds, variables, message", [
    ([{"firms.both.price": -1.0}], [0], None, "design point 0 (firms.both.price=-1.0): firms.both.price"),
    ([{"firms.both.price": 1.0}, {"firms.both.price": 2.0}, {"firms.both.price": -1.0}], [0], None,
     "design point 2 (firms.both.price=-1.0): firms.both.price = -1.0 is out of range"),
    ([{"firms.both.pric": 1.0}], [0], None, "did you mean"),
    ([], [0], None, "no points"),
    ([{"firms.both.price": 1.0}], [], None, "seeds"),
    ([{"firms.both.price": 1.0}], [0, 0], None, "each seed once"),
    ([{"firms.both.price": 1.0}], [0], ["shares"], "variables: unknown shares"),
])
def test_bad_design_stops_before_any_run_with_one_line(points, seeds, variables, message):
    with pytest.raises(sim.ConfigError) as err:
        run_design(points, BASE, seeds=seeds, variables=variables)
    assert message in str(err.value) and "\n" not in str(err.value)
