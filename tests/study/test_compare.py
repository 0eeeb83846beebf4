"""python -m sim.compare: table with intervals and significance marks, figures, one-line errors."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.runner.design import run_design as _run_design
from sim.study import analysis as A
from sim.study.compare import main

#: The designs here are data for the analysis code: run in memory (the sweep path's equality with
#: it is tests/test_design.py's business).
run_design = functools.partial(_run_design, launcher="local")

ROOT = Path(__file__).resolve().parents[2]
GRID = [{"firms.both.price": p, "firms.both.human": h} for p in (1.0, 1.4) for h in (0.5, 0.8)]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Two 2x2 grids (human_only firm's price 1.1 vs 0.9) and one single-point result, as files."""
    out = tmp_path_factory.mktemp("cmp")
    keep = ["share", "profit", "nps", "alive", "quadrant", "churn"]
    for name, extra in (("base", []), ("cheap", ["firms.human_only.price=0.9"])):
        ds = run_design(GRID, ["scenario=baseline", "customers.n=400", "steps=12", *extra], seeds=[0, 1, 2],
                        variables=keep)
        A.unstack_design(ds).to_netcdf(out / f"{name}.nc", engine="h5netcdf")
    one = run_design([{"firms.both.price": 1.2}], ["scenario=baseline", "customers.n=400", "steps=12"],
                     seeds=[0, 1, 2], variables=keep).isel(run=0, drop=True)
    one.to_netcdf(out / "one.nc", engine="h5netcdf")
    return out


def test_compare_prints_marked_differences_and_writes_figures(results, tmp_path, capsys):
    out = tmp_path / "c"
    assert main([str(results / "cheap.nc"), str(results / "base.nc"), "--out", str(out),
                 "--outcomes", "share", "profit", "--steps", "6", "12"]) == 0
    text = capsys.readouterr().out
    assert "paired by seed" in text and "== share" in text and "== profit" in text
    # a cheaper human-only firm gains share: its interval excludes zero in every grid cell
    table = A.compare_table(A.open_result(results / "cheap.nc"), A.open_result(results / "base.nc"),
                            steps=[12], names=["share"])
    human = table.xs("human_only", level="firm")["share"]
    assert len(human) == 4 and human["significant"].all() and (human["low"] > 0).all()
    assert sum(" *" in ln for ln in text.splitlines() if "human_only" in ln) >= 4
    for name in ("comparison.txt", "comparison.csv", "fan_share.png", "difference_share.png",
                 "heatmap_share.png"):
        assert (out / name).stat().st_size > 0
    assert main([str(results / "cheap.nc"), str(results / "base.nc"), "--out", str(out)]) == 0
    assert (tmp_path / "c_2" / "comparison.txt").exists()  # an earlier comparison is never overwritten


def test_a_sweep_against_one_result_is_broadcast(results, tmp_path, capsys):
    assert main([str(results / "base.nc"), str(results / "one.nc"), "--out", str(tmp_path / "b"),
                 "--outcomes", "share"]) == 0
    table = A.compare_table(A.open_result(results / "base.nc"), A.open_result(results / "one.nc"),
                            names=["share"])
    assert len(table) == 4 * 4  # 2 x 2 grid points x 4 firms


@pytest.mark.parametrize("args, message", [
    (["nope.nc", "one.nc"], "nope.nc: no such file or folder"),
    (["one.nc", "one.nc", "--var", "shares"], "variable 'shares' is not in the dataset"),
    (["one.nc", "one.nc", "--steps", "40"], "steps [40] are not in the dataset: allowed 1..12"),
    (["one.nc", "one.nc", "--level", "1.5"], "level = 1.5 must be a number in (0, 1)"),
    (["one.nc", "one.nc", "--chunks", "step"], "--chunks 'step': expected dim=size"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(results, tmp_path, capsys, args, message):
    args = [str(results / a) if a.endswith(".nc") else a for a in args]
    assert main([*args, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_module_entry_point(results, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim.study.compare", str(results / "one.nc"), str(results / "one.nc"),
                           "--out", str(tmp_path / "self"), "--outcomes", "share"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [ln for ln in proc.stdout.splitlines() if "[" in ln and "interval" not in ln]
    assert len(rows) == 4 and all("+0 [+0, +0]" in ln and " *" not in ln for ln in rows)  # itself: exactly 0


def test_two_run_folders_give_differences_without_intervals(tmp_path, capsys):
    import sim

    for name, seed in (("a", 0), ("b", 1)):
        (tmp_path / name).mkdir()
        sim.run(["scenario=baseline", "customers.n=300", "steps=6"], seed=seed).to_netcdf(
            tmp_path / name / "run.nc", engine="h5netcdf")
    assert main([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "c"), "--outcomes", "share"]) == 0
    text = capsys.readouterr().out
    assert "(1 seed with a result; one run)" in text and "one seed on a side" in text
    assert text.count("(no interval)") == 4


# ---------------------------------------------------------------- pairing and missing jobs
@pytest.fixture(scope="module")
def template():
    import sim

    return sim.run(["scenario=disruptor", "customers.n=200", "steps=3"])


def _side(template, root, seeds, failed=(), n=200, segments=None, scenarios=("x",), firms=None):
    from tests.sweep_helpers import fake_sweep

    firms = firms or template.firm.values.tolist()
    config = {"steps": 3, "customers": {"n": n, "segments": segments or {"all": {"share": 1.0}}}}
    jobs = [{"overrides": [f"scenario={sc}", f"seed={s}"], "status": "failed" if (sc, s) in failed else "done",
             "firms": firms, "config": config} for sc in scenarios for s in seeds]
    return fake_sweep(root, template, jobs)


def test_a_failed_job_is_left_out_not_averaged_and_the_printout_says_so(template, tmp_path, capsys):
    """The issue's case: one failed job made survival 0.667 [-0.19, 1.52], quadrants "mixed", "(6 seeds)"."""
    sw = _side(template, tmp_path / "sw", range(6), failed={("a", 3)}, scenarios=("a", "b"))
    out = tmp_path / "c"
    assert main([f"{sw}:scenario=a", f"{sw}:scenario=b", "--out", str(out), "--outcomes", "survival"]) == 0
    text = capsys.readouterr().out
    assert "(5 seeds with a result; 6 jobs: 5 finished, 1 failed, 0 absent" in text
    assert "paired by seed (common random numbers) on 5 seeds: 0, 1, 2, 4, 5" in text
    assert "A: seeds without a result (failed or absent jobs): 3" in text
    assert "mixed" not in text and "-0.19" not in text
    table = pd.read_csv(out / "comparison.csv").set_index("firm")
    alive = template.alive.isel(step=-1).to_series()
    assert set(table.index) == set(alive.index) and (table["step"] == 3).all()
    for firm, row in table.iterrows():
        assert row["survival_A"] == row["survival_B"] == alive[firm]
        assert row["survival_n_A"] == 5 and row["survival_n_B"] == 5 and row["survival_n"] == 5
        assert row["survival_low"] == row["survival_high"] == 0


def test_results_of_different_population_sizes_are_refused_unless_unpaired(template, tmp_path, capsys):
    a = _side(template, tmp_path / "big", range(6), n=200)
    b = _side(template, tmp_path / "small", range(3), n=400)
    assert main([str(a), str(b), "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "A has 200 customers, B 400" in err and "--unpaired" in err
    assert not (tmp_path / "c").exists()
    assert main([str(a), str(b), "--out", str(tmp_path / "d"), "--outcomes", "share", "--unpaired"]) == 0
    text = capsys.readouterr().out
    assert "unpaired (--unpaired): Welch intervals over 6 seeds of A and 3 of B" in text
    assert "customers.n (200 vs 400)" in text


def test_other_customers_are_not_paired_and_dropped_seeds_are_named(template, tmp_path, capsys):
    a = _side(template, tmp_path / "a", range(6))
    b = _side(template, tmp_path / "b", range(3), segments={"all": {"share": 1.0, "literacy": 0.2}})
    assert main([str(a), str(b), "--out", str(tmp_path / "c"), "--outcomes", "share"]) == 0
    text = capsys.readouterr().out
    assert "unpaired: A and B draw their customers differently (customers.segments.all.literacy differ)" in text
    c = _side(template, tmp_path / "c3", range(3))
    assert main([str(a), str(c), "--out", str(tmp_path / "d"), "--outcomes", "share"]) == 0
    text = capsys.readouterr().out
    assert "paired by seed (common random numbers) on 3 seeds: 0, 1, 2" in text
    assert "A: seeds not on the other side, left out of the pairs: 3, 4, 5" in text
    assert "settings that differ" not in text


@pytest.mark.parametrize("a, b, message", [
    ("sw:scen=a", "sw:scenario=b", "'scen' is not swept in"),
    ("sw:scenario=c", "sw:scenario=b", "scenario = 'c' is not in"),
    ("sw:seed=x", "sw:scenario=b", "seed = 'x' is not in"),
])
def test_a_bad_selection_is_one_line(template, tmp_path, capsys, a, b, message):
    _side(template, tmp_path / "sw", range(2), scenarios=("a", "b"))
    assert main([str(tmp_path / a), str(tmp_path / b), "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "c").exists()


def test_the_comparison_rows_are_ordered_as_the_outcome_table(template, tmp_path, capsys):
    """Both tables list rows (swept dims..., step, quadrant, firm); the comparison printed (firm, quadrant, step),
    unlike docs/ANALYSIS.md."""
    sw = _side(template, tmp_path / "sw", range(3), failed={("a", 1)}, scenarios=("a", "b"))
    assert main([f"{sw}:scenario=a", f"{sw}:scenario=b", "--out", str(tmp_path / "c"), "--outcomes", "share"]) == 0
    header = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(("step", "firm"))]
    assert header and all(ln.split() == ["step", "quadrant", "firm"] for ln in header), header
    assert (tmp_path / "c" / "comparison.csv").read_text().startswith("step,quadrant,firm,")
    a = A.open_result(sw)
    assert list(A.outcome_table(a, names=["share"]).index.names) == ["scenario", "step", "quadrant", "firm"]
