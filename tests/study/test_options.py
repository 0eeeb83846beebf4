"""sim.study.options: the settings fields and command-line options the analysis tools share (one copy)."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

import pytest

from sim.settings.schema import ConfigError
from sim.study import calibrate, options, sensitivity


def test_the_tools_use_one_copy_of_the_shared_parsing():
    shared = [name for name, obj in vars(options).items()
              if inspect.isfunction(obj) and obj.__module__ == options.__name__ and not name.startswith("_")]
    assert {"parse_parameters", "parse_outputs", "common_fields", "launch_options", "tool_parser"} <= set(shared)
    for tool in (sensitivity, calibrate):
        own = {name for name, obj in vars(tool).items() if inspect.isfunction(obj) and obj.__module__ == tool.__name__}
        assert not own & set(shared), f"{tool.__name__} defines its own {sorted(own & set(shared))}"
        # no private twins of the shared checks either (the helpers that were copied before)
        assert not own & {"_err", "_number", "_int", "_keys", "_common", "add_launch_arguments"}


@pytest.mark.parametrize("call, message", [
    (lambda: options.read_settings("/nonexistent/x.yaml"), "/nonexistent/x.yaml: no such file"),
    (lambda: options.number("a", "level"), "level: 'a' must be a finite number"),
    (lambda: options.number(float("nan"), "level"), "level: nan must be a finite number"),
    (lambda: options.whole(1.5, "trials", 1, 10), "trials: 1.5 must be a whole number [1, 10]"),
    (lambda: options.whole(True, "trials", 1), "trials: True must be a whole number >= 1"),
    (lambda: options.check_keys({"sed": 1}, ("seed",), "run"), "run.sed: unknown field; allowed: seed"),
    (lambda: options.check_keys({}, ("seed",), "", ("seed",)), "seed: missing (required)"),
    (lambda: options.common_fields({"seeds": [0, -1]}), "seeds: [0, -1] must be a non-empty list"),
    (lambda: options.common_fields({"n_jobs": 0}), "n_jobs: 0 must be a whole number >= 1, or -1"),
    (lambda: options.common_fields({"level": 1}), "level: 1 must be a number in (0, 1)"),
    (lambda: options.parse_parameters({"p": {"override": "x", "bounds": [2, 1]}}),
     "parameters.p.bounds: [2, 1]: low must be below high"),
    (lambda: options.parse_outputs({"o": {"variable": "nope"}}), "outputs.o.variable: 'nope' is not a firm"),
])
def test_each_check_names_the_field_in_one_line(call, message):
    with pytest.raises(ConfigError) as err:
        call()
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_settings_file_that_is_not_a_mapping_is_refused(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping of settings"):
        options.read_settings(path)
    path.write_text("method: sobol\n")
    assert options.read_settings(path) == {"method": "sobol"}


def test_the_command_line_options(tmp_path):
    parser = options.tool_parser("python -m sim.calibrate", "d", "config", trials=True)
    args = parser.parse_args([str(tmp_path / "bank.yaml"), "--n-jobs", "-1", "--trials", "5"])
    assert options.n_jobs_option(args, 2) == -1 and args.trials == 5
    assert options.output_folder(args, "calibrate") == Path("results") / "calibrate" / "bank"
    assert options.n_jobs_option(argparse.Namespace(n_jobs=None), 3) == 3
    with pytest.raises(ConfigError, match="--n-jobs: 0 must be >= 1 or -1"):
        options.n_jobs_option(argparse.Namespace(n_jobs=0), 1)
    run = options.launch_options(parser.parse_args(["c.yaml", "--out", str(tmp_path / "o")]), tmp_path / "o", "r")
    assert run == {"launcher": None, "sweep_dir": tmp_path / "o" / "sweep", "hydra_overrides": [], "resume": False}
    with pytest.raises(ConfigError, match="--hydra: 'x=1': only launcher options"):
        options.launch_options(parser.parse_args(["c.yaml", "--hydra", "x=1"]), tmp_path / "o", "r")
