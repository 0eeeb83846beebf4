"""The validation scenarios are a nested config group option: ``scenario=validation/NAME``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.settings.compose import compose_config, scenario_description

ROOT = Path(__file__).resolve().parents[2]
NAMES = sorted(p.stem for p in (ROOT / "scenarios" / "validation").glob("*.yaml"))


def test_every_case_has_a_scenario():
    assert set(NAMES) >= {"logit", "price_equilibrium", "bass", "trust", "tenure", "tenure_trust", "nps"}


@pytest.mark.parametrize("name", NAMES)
def test_validation_scenario_composes(name):
    cfg = compose_config([f"scenario=validation/{name}"])
    assert cfg.scenario == f"validation/{name}"
    assert len(scenario_description(f"validation/{name}")) > 80
    text = (ROOT / "scenarios" / "validation" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_\n")
    assert "Off:" in text and "overrides" in text  # says what is off and which overrides set the case
    assert all(f.bankruptcy <= -1000 for f in cfg.firms.values())  # no exit in validation markets


def test_cli_runs_a_validation_scenario(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    args = [sys.executable, "-m", "sim", "scenario=validation/logit", "customers.n=2000", "steps=2",
            f"hydra.run.dir={out}"]
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (out / "run.nc").exists()
