"""sim.study.analysis: intervals over seeds, paired differences, outcome tables, CLV, lazy sweeps."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from sim.runner.design import run_design as _run_design
from sim.study import analysis as A

#: The designs here are data for the analysis code: run in memory (the sweep path's equality with
#: it is tests/test_design.py's business).
run_design = functools.partial(_run_design, launcher="local")

ROOT = Path(__file__).resolve().parents[2]
BASE = ["scenario=baseline", "customers.n=500", "steps=24"]


@pytest.fixture(scope="module")
def prices():
    """Two close prices of the digital-and-human firm, 16 common seeds each."""
    return run_design([{"firms.both.price": 1.20}, {"firms.both.price": 1.25}], BASE, seeds=range(16),
                      variables=["share", "profit", "nps", "churn", "alive", "quadrant", "cash", "trust",
                                 "engagement", "tenure", "relationship", "price", "unit_cost", "customers"])


def test_mean_ci_matches_the_t_interval():
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, size=(7, 3))
    da = xr.DataArray(x, dims=("seed", "firm"), attrs={"units": "money"})
    s = A.mean_ci(da, level=0.9)
    for j in range(3):
        lo, hi = stats.t.interval(0.9, 6, loc=x[:, j].mean(), scale=stats.sem(x[:, j]))
        assert s.low[j] == pytest.approx(lo, rel=1e-12) and s.high[j] == pytest.approx(hi, rel=1e-12)
    assert (s.n == 7).all() and s["mean"].attrs["units"] == "money"


def test_missing_seeds_are_skipped_and_counted():
    da = xr.DataArray([[1.0, np.nan], [3.0, np.nan], [5.0, 2.0]], dims=("seed", "firm"))
    s = A.mean_ci(da)
    assert list(s.n.values) == [3, 1] and s["mean"][0] == 3.0 and s["mean"][1] == 2.0
    assert np.isnan(s.low[1])  # one seed: no interval


def test_interval_shrinks_as_one_over_root_seeds(prices):
    share = prices.share.sel(run=0, step=slice(6, None))
    se16 = A.mean_ci(share)["se"]
    se4 = sum(A.mean_ci(share.isel(seed=slice(k, k + 4)))["se"] for k in (0, 4, 8, 12)) / 4  # 4 disjoint groups
    ratio = float(se4.mean() / se16.mean())
    # sqrt(16 / 4) = 2, times the small-sample bias of sd (c4(4) / c4(16) = 0.921 / 0.983), up to noise
    assert 1.5 < ratio < 2.4
    rng = np.random.default_rng(0)
    x = xr.DataArray(rng.normal(size=(1600, 50)), dims=("seed", "k"))
    exact = float((A.mean_ci(x.isel(seed=slice(0, 100))).se / A.mean_ci(x).se).mean())
    assert exact == pytest.approx(4.0, rel=0.05)


def test_difference_of_a_scenario_with_itself_is_exactly_zero_when_paired(prices):
    a = prices.profit.sel(run=0)
    d = A.difference(a, a)
    assert d.attrs["paired"] == 1
    assert (d["diff"] == 0).all() and (d.low == 0).all() and (d.high == 0).all()
    assert not d.significant.any()
    u = A.difference(a, a, paired=False)  # unpaired, the same data gives an interval around 0
    assert float(u.high_unpaired.isel(step=-1).max()) > 0


def test_pairing_by_seed_tightens_the_interval(prices):
    d = A.difference(prices.share.sel(run=1), prices.share.sel(run=0))
    assert d.attrs["paired"] == 1 and d.attrs["seeds_paired"].startswith("0, 1, 2")
    gain = d.crn_gain.sel(firm="both").isel(step=slice(6, None))
    assert float(gain.median()) > 2  # common random numbers: a much tighter interval
    assert (d.se.sel(firm="both") <= d.se_unpaired.sel(firm="both")).all()
    # a higher price loses share, and the paired interval says so
    assert bool(d.significant.sel(firm="both").isel(step=-1)) and float(d["diff"].sel(firm="both")[-1]) < 0


def test_unmatched_seeds_fall_back_to_welch(prices):
    a = prices.share.sel(run=0).isel(seed=slice(0, 8))
    b = prices.share.sel(run=1).isel(seed=slice(8, 16))
    d = A.difference(a, b)
    assert d.attrs["paired"] == 0
    assert np.allclose(d.se, d.se_unpaired, equal_nan=True)
    with pytest.raises(A.AnalysisError, match="paired=True needs at least two seeds"):
        A.difference(a, b, paired=True)


def test_comparison_keeps_firms_present_on_one_side_only():
    base = run_design([{"firms.both.price": 1.2}], ["scenario=baseline", "customers.n=400", "steps=40"],
                      seeds=[0, 1], variables=["share", "profit", "churn", "alive", "quadrant"]).isel(run=0)
    disr = run_design([{"firms.both.price": 1.2}], ["scenario=disruptor", "customers.n=400", "steps=40"],
                      seeds=[0, 1], variables=["share", "profit", "churn", "alive", "quadrant"]).isel(run=0)
    assert "disruptor" not in base.firm.values
    d = A.difference(disr.share, base.share)
    assert sorted(d.firm.values) == ["both", "digital_only", "disruptor", "human_only", "neither"]
    assert d["diff"].sel(firm="disruptor").isnull().all() and d.mean_a.sel(firm="disruptor").notnull().all()
    assert d["diff"].sel(firm="both").notnull().all()
    table = A.compare_table(disr, base, steps=[40], names=["share", "profit", "churn", "survival"])
    assert "disruptor" in table.index.get_level_values("firm")
    row = table.xs("disruptor", level="firm")
    assert list(row.index.get_level_values("quadrant")) == ["3"]  # the disruptor is digital only
    assert np.isnan(row[("share", "diff")]).all() and not row[("share", "A")].isna().any()
    from sim.study.compare import format_table

    text = format_table(table)
    assert "(only in A)" in [ln for ln in text.splitlines() if "disruptor" in ln][0]


def test_outcome_table_rows_and_columns(prices):
    ds = prices.sel(run=0)
    table = A.outcome_table(ds, steps=[12, 24])
    assert list(table.index.names) == ["step", "quadrant", "firm"]
    assert set(table.columns.get_level_values(0)) == set(A.OUTCOMES)
    assert list(table[("share", "n")].unique()) == [16]
    row = table.loc[(24, "4", "both")]
    assert row[("profit", "mean")] == pytest.approx(float(ds.profit.sum("step").sel(firm="both").mean()))
    assert row[("survival", "mean")] == 1.0
    churn = ds.churn.sel(firm="both").mean("step").mean("seed")
    assert row[("churn", "mean")] == pytest.approx(float(churn))


def test_design_dims_are_kept_in_the_table(prices):
    table = A.outcome_table(prices, steps=[24], names=["share", "nps"])
    assert list(table.index.names) == ["run", "step", "quadrant", "firm"]
    assert len(table) == 2 * 4


def test_lifetime_value_is_margin_times_retention_over_discount():
    steps, firms = np.arange(1, 13), ["a", "b"]
    shape = (2, 12, 2)
    ds = xr.Dataset({
        "price": (("seed", "step", "firm"), np.broadcast_to([1.0, 2.0], shape).copy()),
        "unit_cost": (("seed", "step", "firm"), np.broadcast_to([0.4, 0.5], shape).copy()),
        "churn": (("seed", "step", "firm"), np.broadcast_to([0.02, 0.05], shape).copy()),
        "customers": (("seed", "step", "firm"), np.full(shape, 100)),
    }, coords={"seed": [0, 1], "step": steps, "firm": firms})
    clv = A.lifetime_value(ds, discount=0.01)
    assert clv.dims == ("seed", "firm")
    assert float(clv.sel(seed=0, firm="a")) == pytest.approx(0.6 * 0.98 / (1.01 - 0.98))
    assert float(clv.sel(seed=1, firm="b")) == pytest.approx(1.5 * 0.95 / (1.01 - 0.95))


def test_lifetime_value_of_a_run(prices):
    clv = A.mean_ci(A.lifetime_value(prices.sel(run=0), window=(13, 24)))
    assert clv["mean"].sel(firm="both") > clv["mean"].sel(firm="neither")
    assert (clv.low <= clv["mean"]).all()


@pytest.mark.parametrize("call, message", [
    (lambda ds: A.outcome_table(ds.drop_vars("nps"), names=["share", "nps"]), "variable 'nps' is not in the dataset"),
    (lambda ds: A.outcome_table(ds, steps=[99]), "steps [99] are not in the dataset: allowed 1..24"),
    (lambda ds: A.outcome_table(ds, names=["profits"]), "unknown outcome 'profits'"),
    (lambda ds: A.mean_ci(ds.share.isel(seed=0)), "has no 'seed' dimension"),
    (lambda ds: A.mean_ci(ds.share, level=95), "level = 95 must be a number in (0, 1)"),
    (lambda ds: A.difference(ds.share.isel(firm=0), ds.share.isel(step=0)), "dimensions do not match"),
    (lambda ds: A.lifetime_value(ds, discount=2), "discount = 2"),
])
def test_bad_input_gives_one_line(prices, call, message):
    with pytest.raises(A.AnalysisError) as err:
        call(prices.sel(run=0))
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "-m", "scenario=baseline", "seed=0,1,2", "customers.n=500", "steps=12",
         f"hydra.sweep.dir={out}"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def test_a_lazily_opened_sweep_gives_the_same_table_as_an_eager_one(sweep_dir, tmp_path):
    eager = A.open_result(sweep_dir)
    lazy = A.open_result(sweep_dir, chunks={"step": 4, "seed": 1})
    assert lazy.share.chunks is not None and eager.share.chunks is None
    assert lazy.share.chunksizes["seed"] == (1, 1, 1) and lazy.share.chunksizes["step"] == (4, 4, 4)
    te, tl = A.outcome_table(eager, steps=[6, 12]), A.outcome_table(lazy, steps=[6, 12])
    tl = tl.reindex(te.index)
    assert tl.index.equals(te.index) and len(te) == 8
    np.testing.assert_allclose(tl.to_numpy(float), te.to_numpy(float), rtol=1e-12, equal_nan=True)
    # a saved sweep file opened with chunks, too
    eager.to_netcdf(tmp_path / "sweep.nc", engine="h5netcdf")
    tf = A.outcome_table(A.open_result(tmp_path / "sweep.nc", chunks={"seed": 1}), steps=[6, 12]).reindex(te.index)
    np.testing.assert_allclose(tf.to_numpy(float), te.to_numpy(float), rtol=1e-12, equal_nan=True)


def test_a_run_opened_lazily_with_chunks_that_split_its_stored_ones_gives_no_warning(tmp_path):
    """run.nc compresses its larger variables (stored in chunks); chunks asked of open_result are
    applied after opening, so xarray has no reason to warn that they split the stored ones."""
    import warnings

    import sim
    from sim.results.runfolder import write_atomic

    ds = sim.run(["customers.n=500", "steps=120"], seed=0)
    write_atomic(ds, tmp_path / "run.nc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lazy = A.open_result(tmp_path, chunks={"step": 30})
        assert lazy.share.chunksizes["step"] == (30, 30, 30, 30)
        assert float(lazy.share.sum().compute()) == float(ds.share.sum())


def test_open_result_errors(tmp_path):
    with pytest.raises(A.AnalysisError, match="no such file"):
        A.open_result(tmp_path / "nope")
    with pytest.raises(A.AnalysisError, match="no run.nc"):
        A.open_result(tmp_path)
