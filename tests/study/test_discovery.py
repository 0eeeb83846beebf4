"""sim.study.discovery: PRIM (EMA Workbench) finds a known box; the choice rule; the figure; bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.settings.schema import ConfigError
from sim.study.discovery import boxes_table, plot_discovery, prim_boxes


def _inside(x: pd.DataFrame, d) -> np.ndarray:
    """The points of ``x`` inside the box of discovery ``d`` (limits inclusive, as PRIM's)."""
    mask = np.ones(len(x), bool)
    for path, lim in d.box.items():
        col = x[path.replace(".", "__")] if path not in x else x[path]
        if d.restricted[path] == "categories":
            mask &= col.isin(lim).to_numpy()
        else:
            mask &= ((col >= lim[0]) & (col <= lim[1])).to_numpy()
    return mask


def _sample(n: int, seed: int, dims: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"market.beta_human": rng.uniform(1.5, 4.5, n), "market.review_hazard": rng.uniform(0.05, 0.2, n)})
    for k in range(dims - 2):
        x[f"market.noise{k}"] = rng.uniform(0, 1, n)
    return x


def test_prim_finds_a_known_box():
    x = _sample(400, seed=1)
    truth = (x["market.beta_human"] < 2.4) & (x["market.review_hazard"] > 0.13)
    rng = np.random.default_rng(2)
    y = truth.to_numpy() ^ (rng.uniform(size=len(x)) < 0.03)  # 3% of the labels flipped
    d = prim_boxes(x, y, min_density=0.8)
    assert set(d.box) == {"market.beta_human", "market.review_hazard"}
    assert d.restricted == {"market.beta_human": "upper", "market.review_hazard": "lower"}
    assert abs(d.box["market.beta_human"][1] - 2.4) < 0.15
    assert abs(d.box["market.review_hazard"][0] - 0.13) < 0.01
    assert d.coverage >= 0.8 and d.density >= 0.8
    # the reported numbers are those of the box on the data
    inside = _inside(x, d)
    assert d.mass == pytest.approx(inside.mean())
    assert d.density == pytest.approx(y[inside].mean())
    assert d.coverage == pytest.approx(y[inside].sum() / y.sum())
    assert d.cases == (int(y.sum()), 400)
    # the two parameters that matter rank first; the noise columns after them
    assert set(list(d.feature_scores)[:2]) == {"market.beta_human", "market.review_hazard"}
    assert sum(d.feature_scores.values()) == pytest.approx(1.0)
    # both restrictions are far from chance
    assert d.qp["market.beta_human"][1] < 1e-3 and d.qp["market.review_hazard"][0] < 1e-3
    assert np.isnan(d.qp["market.beta_human"][0])
    assert d.text.startswith("the fact fails when market.beta_human < 2.")
    assert "and market.review_hazard > 0.1" in d.text and f"(coverage {d.coverage:.2f}, density {d.density:.2f})" \
        in d.text


def test_the_box_is_the_largest_that_reaches_the_density():
    x = _sample(300, seed=3)
    y = ((x["market.beta_human"] < 3.0) & (x["market.noise0"] > 0.3)).to_numpy()
    y = y ^ (np.random.default_rng(4).uniform(size=len(y)) < 0.1)
    for level in (0.6, 0.85):
        d = prim_boxes(x, y, min_density=level)
        t = d.trajectory
        assert t.loc[d.chosen, "density"] >= level
        assert t.loc[d.chosen, "coverage"] == t.loc[t["density"] >= level, "coverage"].max()
    # a density no box reaches: the densest box, and the sentence says so
    d = prim_boxes(x, y, min_density=1.0)
    assert d.density == d.trajectory["density"].max() < 1.0
    assert "no box reached density 1.00" in d.text


def test_max_dims_limits_the_restricted_parameters():
    x = _sample(300, seed=5)
    y = ((x["market.beta_human"] < 3.5) & (x["market.noise0"] > 0.2) & (x["market.noise1"] < 0.8)).to_numpy()
    full = prim_boxes(x, y, min_density=0.95)
    assert len(full.box) == 3
    one = prim_boxes(x, y, min_density=0.95, max_dims=1)
    assert len(one.box) == 1
    assert one.trajectory.loc[one.chosen, "res_dim"] <= 1


def test_workbench_names_and_categories():
    """Columns named as the workbench names them (dots as __) come back as config paths; a
    categorical column is restricted to categories; the workbench's bookkeeping columns are dropped."""
    rng = np.random.default_rng(6)
    n = 240
    x = pd.DataFrame({"firms__both__human": rng.uniform(0.5, 1.0, n),
                      "firms__both__steering": pd.Categorical(rng.choice(["none", "soft", "hard"], n)),
                      "scenario": np.arange(n), "policy": "p", "model": "customersim"})
    y = ((x["firms__both__steering"] == "hard") & (x["firms__both__human"] < 0.8)).to_numpy()
    d = prim_boxes(x, y, condition="trust falls")
    assert d.box["firms.both.steering"] == ("hard",)
    assert d.restricted["firms.both.steering"] == "categories"
    assert d.box["firms.both.human"][1] == pytest.approx(0.8, abs=0.05)
    assert set(d.feature_scores) == {"firms.both.human", "firms.both.steering"}
    assert d.text.startswith("trust falls when ") and "firms.both.steering in {hard}" in d.text
    assert d.density == pytest.approx(y[_inside(x, d)].mean())


def test_nothing_to_find():
    x = _sample(50, seed=7)
    d = prim_boxes(x, np.zeros(50, bool))
    assert d.box == {} and d.coverage == 0.0 and d.text == "the fact fails nowhere in the 50 sampled points"
    d = prim_boxes(x, np.ones(50, bool))
    assert d.box == {} and d.density == 1.0 and d.text == "the fact fails in every one of the 50 sampled points"


def test_figure_and_table(tmp_path):
    import matplotlib.image

    x = _sample(200, seed=8)
    y = (x["market.review_hazard"] > 0.12).to_numpy()
    d = prim_boxes(x, y)
    out = tmp_path / "box.png"
    plot_discovery(d, out)
    img = matplotlib.image.imread(out)
    assert img.shape[0] > 300 and img.shape[1] > 900
    empty = prim_boxes(x, np.zeros(200, bool))
    plot_discovery(empty, tmp_path / "empty.png")
    assert (tmp_path / "empty.png").stat().st_size > 0
    table = boxes_table({"fact 2": d, "fact 4": empty}).splitlines()
    assert table[2].startswith("| fact 2 | market.review_hazard > 0.12")
    assert table[3].startswith("| fact 4 | - | 0.00 |")


@pytest.mark.parametrize("args, message", [
    (("x", [True]), "x: expected a pandas DataFrame"),
    ((None, np.ones(3, bool)), "y: expected one boolean per row of x (20 rows)"),
    ((None, np.full(20, 2)), "y: expected booleans"),
    ((pd.DataFrame({"a": [np.nan] + [0.0] * 19}), np.zeros(20, bool)), "x column a: has missing or infinite values"),
    ((pd.DataFrame({"a": np.arange(5.0)}), np.zeros(5, bool)), "x: 5 points; allowed at least 10"),
    ((pd.DataFrame({"a": [True, False] * 10}), np.zeros(20, bool)), "x column a: bool is not a parameter"),
])
def test_bad_input_is_one_line(args, message):
    x, y = args
    x = _sample(20, seed=0) if x is None else x
    with pytest.raises(ConfigError) as err:
        prim_boxes(x, y)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"min_density": 0}, "min_density = 0: allowed a number in (0, 1]"),
    ({"max_dims": 0}, "max_dims = 0: allowed a whole number >= 1"),
    ({"peel_alpha": 1.5}, "peel_alpha = 1.5: allowed a number in (0, 1)"),
])
def test_bad_settings_are_one_line(kwargs, message):
    x = _sample(20, seed=0)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        prim_boxes(x, np.arange(20) % 2 == 0, **kwargs)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), cut=st.floats(0.2, 0.8), level=st.floats(0.5, 0.95))
def test_reported_statistics_are_the_boxs(seed, cut, level):
    """Whatever the data, coverage, density and mass are those of the reported box on the data,
    and the box is the one the rule picks from the trajectory."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 120), "b": rng.uniform(0, 1, 120), "c": rng.integers(0, 10, 120)})
    y = (x["a"] < cut) ^ (rng.uniform(size=120) < 0.15)
    y = y.to_numpy()
    if y.all() or not y.any():
        return
    d = prim_boxes(x, y, min_density=level)
    inside = _inside(x, d)
    assert d.mass == pytest.approx(inside.mean())
    assert d.density == pytest.approx(y[inside].mean())
    assert d.coverage == pytest.approx(y[inside].sum() / y.sum())
    t = d.trajectory
    if (t["density"] >= level).any():
        assert t.loc[d.chosen, "coverage"] == t.loc[t["density"] >= level, "coverage"].max()
    else:
        assert d.density == t["density"].max()
