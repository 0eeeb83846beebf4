"""sim.study.sensitivity: Sobol and Morris through the design path; toy functions with known indices."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
import yaml

from sim.settings.schema import ConfigError
from sim.study.sensitivity import Parameter, analyze, load_settings, main, sample

ISHIGAMI = [Parameter(f"x{i}", (-np.pi, np.pi)) for i in (1, 2, 3)]


def _design(points):
    """The sampled points as a design Dataset: a run dimension, parameters as coordinates."""
    return xr.Dataset(coords={"run": np.arange(len(points)), **{c: ("run", points[c].to_numpy()) for c in points}})


def test_sobol_indices_of_the_ishigami_function():
    points = sample(ISHIGAMI, "sobol", 2048, seed=1)
    design = _design(points)
    x1, x2, x3 = (design[f"x{i}"] for i in (1, 2, 3))
    y = (np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)).rename("ishigami")
    s = analyze(design, y, ISHIGAMI, "sobol", seed=1).sel(output="ishigami")
    # analytic values for a = 7, b = 0.1 (Ishigami & Homma 1990; Saltelli et al. 2008)
    np.testing.assert_allclose(s.S1, [0.3139, 0.4424, 0.0], atol=0.04)
    np.testing.assert_allclose(s.ST, [0.5576, 0.4424, 0.2437], atol=0.04)
    assert (s.S1_conf > 0).all() and (s.S1_conf < 0.1).all()


def test_morris_effects_of_a_linear_function():
    params = [Parameter("a", (0, 1)), Parameter("b", (0, 1)), Parameter("c", (0, 2))]
    design = _design(sample(params, "morris", 20, seed=1))
    y = (2 * design.a - 3 * design.c).rename("y")
    m = analyze(design, y, params, "morris").sel(output="y")
    np.testing.assert_allclose(m.mu_star, [2, 0, 6], atol=1e-9)  # |slope| x range
    np.testing.assert_allclose(m.mu, [2, 0, -6], atol=1e-9)


BASE = {
    "method": "morris", "samples": 2, "seeds": [0], "n_jobs": 1,
    "base_overrides": ["scenario=baseline", "customers.n=300", "steps=12"],
    "parameters": {"price": {"override": "firms.both.price", "bounds": [0.9, 1.5]},
                   "noise": {"override": "firms.neither.unit_cost_extra", "bounds": [0.0, 0.001]}},
    "outputs": {"share": {"variable": "share", "firm": "both", "reduce": "last"},
                "hhi": {"variable": "hhi", "reduce": "mean", "steps": [7, 12]}},
}


def test_cli_runs_a_small_morris_screening(tmp_path, capsys):
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump(BASE))
    assert main([str(cfg), "--out", str(tmp_path / "out")]) == 0
    for name in ("design.nc", "indices.nc", "indices.csv", "sensitivity.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    ind = xr.open_dataset(tmp_path / "out" / "indices.nc")
    design = xr.open_dataset(tmp_path / "out" / "design.nc")
    assert dict(design.sizes) == {"run": 6, "seed": 1} and "price" in design.coords
    # the firm's own price moves its share far more than a negligible cost of another firm
    assert float(ind.mu_star.sel(output="share", parameter="price")) > 0.05
    assert float(ind.mu_star.sel(output="share", parameter="price")) > \
        10 * float(ind.mu_star.sel(output="share", parameter="noise"))
    assert design.attrs["launcher"] == "basic"  # n_jobs 1: the sweep's jobs one after the other, here
    assert sorted(int(p.name) for p in (tmp_path / "out" / "sweep").iterdir() if p.is_dir()) == list(range(6))
    assert main([str(cfg), "--out", str(tmp_path / "out")]) == 2  # never overwritten
    assert "already holds files" in capsys.readouterr().err


def test_a_failed_job_stops_the_analysis_and_resume_finishes_it(tmp_path, capsys, monkeypatch):
    from sim.model import CustomerModel

    step = CustomerModel.step

    def failing(self):
        if self.cfg.firms["both"].price > 1.4 and self.recorder.filled == 2:
            raise FloatingPointError("injected failure")
        step(self)

    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump(BASE))
    out = tmp_path / "out"
    monkeypatch.setattr(CustomerModel, "step", failing)
    assert main([str(cfg), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "design jobs did not finish" in err and f"--out {out} --resume" in err and err.count("\n") == 1
    assert not (out / "indices.nc").exists()
    done_before = {p.parent.name for p in (out / "sweep").glob("*/run.nc")}
    assert 0 < len(done_before) < 6
    monkeypatch.setattr(CustomerModel, "step", step)
    assert main([str(cfg), "--out", str(out), "--resume"]) == 0
    text = capsys.readouterr().out
    assert f"sweep: {6 - len(done_before)} of 6 jobs to run" in text  # only the failed ones ran again
    assert (out / "indices.nc").exists()
    assert main([str(cfg), "--out", str(out), "--resume"]) == 2
    assert "this analysis is complete" in capsys.readouterr().err


def test_launch_arguments(tmp_path, capsys):
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump({**BASE, "n_jobs": 2}))
    out = tmp_path / "out"
    assert main([str(cfg), "--out", str(out), "--launcher", "local"]) == 0
    assert not (out / "sweep").exists() and (out / "indices.nc").exists()  # in memory: no job folders
    local = xr.open_dataset(out / "design.nc")
    assert main([str(cfg), "--out", str(tmp_path / "j"), "--launcher", "joblib", "--sweep-dir",
                 str(tmp_path / "jobs"), "--hydra", "hydra.launcher.n_jobs=2"]) == 0
    assert len(list((tmp_path / "jobs").glob("*/run.nc"))) == 6
    joblib = xr.open_dataset(tmp_path / "j" / "design.nc")
    xr.testing.assert_identical(local.drop_attrs(), joblib.drop_attrs())
    capsys.readouterr()
    for args, message in ((["--resume"], "holds no sweep to resume"),
                          (["--launcher", "local", "--resume"], "--launcher local runs in memory"),
                          (["--hydra", "seed=3"], "--hydra: 'seed=3': only launcher options")):
        assert main([str(cfg), "--out", str(tmp_path / "new"), *args]) == 2
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("change, message", [
    ({"method": "fast"}, "method: 'fast'; allowed: sobol, morris"),
    ({"method": "sobol", "samples": 12}, "samples: 12 must be a power of 2"),
    ({"samples": 1}, "samples: 1 must be a whole number [2, 65536]"),
    ({"seeds": []}, "seeds: [] must be a non-empty list"),
    ({"level": 2}, "level: 2 must be a number in (0, 1)"),
    ({"samples_": 3}, "samples_: unknown field; allowed: method, samples"),
    ({"parameters": {"p": {"override": "firms.both.price", "bounds": [2, 1]}}},
     "parameters.p.bounds: [2, 1]: low must be below high"),
    ({"parameters": {"p": {"bounds": [0, 1]}}}, "parameters.p: give exactly one of override"),
    ({"outputs": {"o": {"variable": "profits", "firm": "both"}}}, "outputs.o.variable: 'profits' is not a"),
    ({"outputs": {"o": {"variable": "profit", "firm": "bot"}}}, "outputs.o.firm: 'bot' is not a firm"),
    ({"outputs": {"o": {"variable": "profit", "firm": "both", "steps": [1, 40]}}},
     "outputs.o.steps: [1, 40] ends after the horizon: allowed [1, 12]"),
    ({"outputs": {"o": {"variable": "profit", "firm": "both", "reduce": "max"}}},
     "outputs.o.reduce: 'max'; allowed: sum, mean, last"),
])
def test_bad_config_fields_are_named_in_one_line(change, message):
    with pytest.raises(ConfigError) as err:
        load_settings({**BASE, **change})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_parameter_values_stop_before_any_run(tmp_path, capsys):
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump({**BASE, "parameters": {"p": {"override": "firms.both.human",
                                                               "bounds": [0.5, 1.5]}}}))
    assert main([str(cfg), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "firms.both.human = 1.5 is out of range: allowed [0, 1]" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_undefined_outputs_need_a_stated_fill_value():
    from sim.study.sensitivity import Output, reduce_output

    nps = np.array([[[10.0, 20.0], [30.0, np.nan]], [[np.nan, np.nan], [np.nan, np.nan]]])  # run, step, firm
    ds = xr.Dataset({"nps": (("run", "step", "firm"), nps)},
                    coords={"run": [0, 1], "step": [1, 2], "firm": ["a", "b"]})
    plain = reduce_output(ds, Output("n", "nps", "b", "mean"))
    assert plain.values[0] == 20.0 and np.isnan(plain.values[1])  # mean over the steps it had customers
    filled = reduce_output(ds, Output("n", "nps", "b", "mean", fill=-100.0))
    np.testing.assert_array_equal(filled.values, [20.0, -100.0])
    params = [Parameter("p", (0, 1))]
    with pytest.raises(ConfigError, match="give the output a fill value"):
        analyze(xr.Dataset(coords={"run": [0, 1], "p": ("run", [0.0, 1.0])}), plain, params, "morris")
    with pytest.raises(ConfigError, match=r"outputs.o.fill: 'low' must be a finite number"):
        load_settings({**BASE, "outputs": {"o": {"variable": "nps", "firm": "both", "fill": "low"}}})


@pytest.mark.parametrize("name, samples", [("morris_both", 2), ("sensitivity_both", 2)])
def test_the_worked_examples_run_through_the_sweep_path(tmp_path, name, samples):
    """docs/ANALYSIS.md's configs, made small (fewer samples and customers), through the command."""
    from pathlib import Path

    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "analysis" / f"{name}.yaml").read_text())
    raw["samples"] = samples
    raw["base_overrides"] = [o for o in raw["base_overrides"] if not o.startswith("customers.n=")] + \
        ["customers.n=200"]
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert main([str(cfg), "--out", str(tmp_path / "out")]) == 0
    ind = xr.open_dataset(tmp_path / "out" / "indices.nc")
    assert list(ind.parameter.values) == list(raw["parameters"]) and list(ind.output.values) == ["profit", "nps"]
    design = xr.open_dataset(tmp_path / "out" / "design.nc")
    assert design.attrs["launcher"] == "joblib"  # n_jobs: 2
    points = design.sizes["run"] * design.sizes["seed"]
    assert len(list((tmp_path / "out" / "sweep").glob("*/run.nc"))) == points


def _ishigami(samples, seed=1):
    design = _design(sample(ISHIGAMI, "sobol", samples, seed=seed))
    x1, x2, x3 = (design[f"x{i}"] for i in (1, 2, 3))
    y = (np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)).rename("ishigami")
    return analyze(design, y, ISHIGAMI, "sobol", seed=seed)


def test_weak_sobol_estimates_are_flagged_with_advice():
    """Few samples give impossible values (a total above 1, negative first-order indices) and intervals
    across 0: each is flagged, and the advice says to take more samples."""
    from sim.study.sensitivity import table

    params = [Parameter("a", (0, 1)), Parameter("b", (0, 1))]  # a carries nearly all the variance
    found = set()
    for seed in range(1, 6):
        design = _design(sample(params, "sobol", 16, seed=seed))
        weak = analyze(design, (np.exp(3 * design.a) + 0.3 * design.b).rename("y"), params, "sobol", seed=seed)
        flags = weak["quality"].values.ravel().tolist()
        found |= {f for flag in flags for f in flag.split("; ")}
        for p, flag in zip(weak.parameter.values, weak["quality"].sel(output="y").values, strict=True):
            x = weak.sel(output="y", parameter=p)
            assert ("S1 < 0" in flag) == bool(x.S1 < 0) and ("ST > 1" in flag) == bool(x.ST > 1)
            assert ("S1 interval includes 0" in flag) == bool(abs(x.S1) <= x.S1_conf)
            assert ("ST interval includes 0" in flag) == bool(x.ST <= x.ST_conf)
            assert (flag == "ok") == (not any(f in flag for f in ("<", ">", "includes")))
        if any(f != "ok" for f in flags):
            assert "rerun with more samples" in weak.attrs["advice"]
            assert "impossible values" in weak.attrs["advice"] or not {"S1 < 0", "ST > 1"} & found
            assert table(weak).attrs["advice"] == weak.attrs["advice"] and "quality" in table(weak).columns
    assert {"S1 < 0", "ST > 1", "S1 interval includes 0"} <= found
    strong = _ishigami(1024)
    # x3 has no first-order effect (S1 = 0): its interval includes 0 and is flagged; the others are sound
    assert strong["quality"].sel(output="ishigami").values.tolist() == ["ok", "ok", "S1 interval includes 0"]


def test_morris_intervals_across_zero_are_flagged():
    params = [Parameter("a", (0, 1)), Parameter("b", (0, 1))]
    design = _design(sample(params, "morris", 10, seed=1))
    rng = np.random.default_rng(0)
    y = (2 * design.a + 0.001 * rng.standard_normal(design.sizes["run"])).rename("y")
    m = analyze(design, y, params, "morris")
    assert m["quality"].sel(output="y", parameter="a") == "ok"


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_the_figure_shows_its_axis_labels_whole(method):
    """The Morris figure of docs/ANALYSIS.md (two outputs, five parameters named like these) had its
    x-axis label cut off at the figure's edge."""
    import matplotlib

    matplotlib.use("Agg")
    from sim.study.sensitivity import plot

    params = [Parameter(n, (0, 1)) for n in ("digital", "human", "price", "steering", "intervention")]
    design = _design(sample(params, method, 16 if method == "sobol" else 10, seed=1))
    y = xr.concat([(2 * design.digital + design.price).rename("y"), (design.human - design.steering).rename("y")],
                  dim=xr.DataArray(["profit", "nps"], dims="output", name="output"))
    ind = analyze(design, y, params, method)
    ind.attrs["seeds"] = 2
    fig = plot(ind)
    fig.canvas.draw()
    box = fig.bbox
    for ax in fig.axes:
        label = ax.xaxis.label.get_window_extent()
        assert label.x0 >= box.x0 and label.x1 <= box.x1 and label.y0 >= box.y0, ax.get_xlabel()
