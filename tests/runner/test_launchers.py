"""Cluster launchers, run for real on this machine: Ray (a local Ray instance the test starts and
stops) and submitit's local executor (the SLURM launcher's code path without SLURM).

Each sweep is merged and checked against single runs, bit for bit. ``make test`` installs the
``ray`` and ``slurm`` extras, so these run in CI; without them (a plain ``pip install -e .[test]``)
they are skipped, except under CI, where a missing extra fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.results.merge import MERGED_NC
from sim.runner.sweep import run_jobs
from tests.sweep_helpers import assert_cell_is_run

JOBS = [[f"scenario={s}", f"seed={k}", "customers.n=400", "steps=38"]
        for s in ("baseline", "disruptor") for k in (0, 1)]


def _need(module: str):
    if os.environ.get("CI"):
        return __import__(module)
    return pytest.importorskip(module)


def check_grid(ds, folder: Path) -> None:
    assert (folder / MERGED_NC).exists()
    assert ds.attrs["design"] == "grid" and ds.attrs["swept"] == "scenario, seed"
    assert ds.scenario.values.tolist() == ["baseline", "disruptor"] and ds.seed.values.tolist() == [0, 1]
    assert int(ds.attrs["jobs_done"]) == 4
    for scenario, seed in (("baseline", 1), ("disruptor", 0)):
        # integers with absent cells (no disruptor in the baseline) are NaN there, the values the same
        assert_cell_is_run(ds, {"scenario": scenario, "seed": seed},
                           [f"scenario={scenario}", f"seed={seed}", "customers.n=400", "steps=38"])


def test_ray_sweep_on_a_local_ray_instance(tmp_path):
    ray = _need("ray")
    _need("hydra_plugins.hydra_ray_launcher")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 2**20, log_to_driver=False,
             configure_logging=False)
    try:
        ds = run_jobs(JOBS, tmp_path / "ray", launcher="ray")
    finally:
        ray.shutdown()
    check_grid(ds, tmp_path / "ray")
    assert not ray.is_initialized()


def test_submitit_local_sweep(tmp_path):
    _need("hydra_plugins.hydra_submitit_launcher")
    ds = run_jobs(JOBS, tmp_path / "submitit", launcher="submitit_local",
                  hydra_overrides=["hydra.launcher.timeout_min=20"])
    check_grid(ds, tmp_path / "submitit")
    assert (tmp_path / "submitit" / ".submitit").is_dir()  # submitit's own logs, beside the job folders


# ------------------------------------------------------------ the check (sim.runner.launchers)
def test_launcher_name_reads_the_hydra_override():
    from sim.runner.launchers import launcher_name

    assert launcher_name([]) == "joblib"
    assert launcher_name(["hydra.launcher.n_jobs=2", "hydra/launcher=ray"]) == "ray"
    assert launcher_name(["+hydra/launcher=submitit_local"]) == "submitit_local"


@pytest.mark.parametrize("name", ["ray", "slurm", "submitit_slurm", "submitit_local"])
def test_check_launcher_names_the_extra_and_the_missing_module(monkeypatch, name):
    import sys

    from sim.runner.launchers import LAUNCHER_EXTRAS, check_launcher
    from sim.settings.schema import ConfigError

    extra, modules = LAUNCHER_EXTRAS[name]
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(ConfigError) as err:
        check_launcher(name)
    msg = str(err.value)
    assert msg.startswith(f"hydra/launcher={name} needs the {extra!r} extra") and "\n" not in msg
    assert all(m in msg for m in modules) and f'pip install ".[{extra}]"' in msg


@pytest.mark.parametrize("name", ["joblib", "basic", "some_other_plugin"])
def test_launchers_without_an_extra_pass_the_check(name):
    from sim.runner.launchers import check_launcher

    check_launcher(name)  # Hydra itself reports a launcher it does not know


def test_the_command_line_checks_the_launcher_before_any_folder(tmp_path, monkeypatch, capsys):
    import sys

    from sim.runner import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(SystemExit) as info:
        cli.main(["-m", "seed=0,1", "customers.n=300", "steps=3", "hydra/launcher=ray"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1 and "needs the 'ray' extra" in err
    assert list(tmp_path.iterdir()) == []


def test_checking_a_ray_sweep_warns_nothing(tmp_path, monkeypatch):
    """A Ray sweep printed Hydra's UserWarning about conf/hydra/launcher/ray.yaml matching the plugin's schema."""
    import warnings

    from sim.runner import cli

    _need("hydra_plugins.hydra_ray_launcher")
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prep = cli._prepare(["-m", "seed=0,1", "customers.n=300", "steps=3", "hydra/launcher=ray",
                             f"hydra.sweep.dir={tmp_path / 'sw'}"])
    assert len(prep.composed) == 2


# ------------------------------------------------------------ how many workers a sweep runs
@pytest.mark.parametrize("name, cfg, jobs, expected", [
    ("joblib", {"n_jobs": -1}, 200, "cores"),
    ("joblib", {"n_jobs": 1}, 200, 1),
    ("joblib", {"n_jobs": 3}, 2, 2),  # never more workers than jobs
    ("submitit_local", {}, 200, "cores"),
    ("slurm", {}, 37, 37),  # a cluster job per job: each takes the next job left
    ("ray", {}, 1, 1),
])
def test_a_sweep_runs_as_many_workers_as_run_at_once(name, cfg, jobs, expected):
    from joblib import cpu_count
    from omegaconf import OmegaConf

    from sim.runner.launchers import worker_count

    want = min(cpu_count(), jobs) if expected == "cores" else expected
    if name == "submitit_local":
        want = min(os.cpu_count(), jobs)
    assert worker_count(name, OmegaConf.create(cfg), jobs) == want
