"""Hydra launchers: which ones run on this machine, which need an optional extra, and the check.

One table (:data:`LAUNCHER_EXTRAS`) and one check (:func:`check_launcher`), used by the
command line and the sweep driver before any folder is written or job composed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..settings.errors import after_extra
from ..settings.schema import ConfigError

#: Launchers that run the jobs on this machine: one Numba thread per job.
LOCAL_LAUNCHERS = ("joblib", "submitit_local", "ray")


#: Launchers that need an optional extra: name -> (extra, modules it installs).
LAUNCHER_EXTRAS = {
    "ray": ("ray", ("hydra_plugins.hydra_ray_launcher", "ray")),
    "slurm": ("slurm", ("hydra_plugins.hydra_submitit_launcher", "submitit")),
    "submitit_slurm": ("slurm", ("hydra_plugins.hydra_submitit_launcher", "submitit")),
    "submitit_local": ("slurm", ("hydra_plugins.hydra_submitit_launcher", "submitit")),
}


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module blocked
        return False


def check_launcher(name: str) -> None:
    """Raise :class:`ConfigError` (one line, with the install command) if launcher ``name``
    needs an extra that is not installed; before any folder is written or job composed."""
    if name not in LAUNCHER_EXTRAS:
        return
    extra, modules = LAUNCHER_EXTRAS[name]
    missing = [m for m in modules if not _installed(m)]
    if missing:
        raise ConfigError(f"hydra/launcher={name} needs the {extra!r} extra, which is not installed (no "
                          f"{', '.join(missing)}): pip install \".[{extra}]\" (pip install -e \".[{extra}]\" "
                          f"in a development checkout){after_extra(extra)}, into this project's environment")


def launcher_name(hydra_overrides: Sequence[str]) -> str:
    """The launcher chosen by ``hydra/launcher=NAME`` (default joblib)."""
    for o in hydra_overrides:
        key, _, value = o.partition("=")
        if key.lstrip("+~") == "hydra/launcher":
            return value
    return "joblib"


def worker_count(name: str, launcher_cfg, jobs: int) -> int:
    """How many launcher jobs (workers, :mod:`sim.runner.worker`) a sweep of ``jobs`` runs through
    launcher ``name`` (``launcher_cfg``: its ``hydra.launcher`` config): as many as run at once.

    joblib: its ``n_jobs`` (``-1``: every core, as joblib counts them); Ray: the CPUs of the Ray
    instance over the CPUs a job takes (Ray started here as the launcher would start it, on this
    machine or connected to ``ray.init.address``); submitit's local executor: this machine's
    cores; SLURM: one per job (each cluster job takes the next job left, so one that starts
    early runs several). Never more than ``jobs``, at least 1.
    """
    if jobs <= 1:
        return 1
    if name == "joblib":
        from joblib import effective_n_jobs

        n = effective_n_jobs(int(launcher_cfg.get("n_jobs", -1) or -1))
    elif name == "ray":
        import ray

        if not ray.is_initialized():
            from hydra_plugins.hydra_ray_launcher._launcher_util import start_ray

            start_ray(launcher_cfg.ray.init)  # what the launcher does first: it then finds Ray running
        per_job = float(launcher_cfg.ray.get("remote", {}).get("num_cpus", 1) or 1)
        n = int(ray.cluster_resources().get("CPU", 1) // per_job)
    elif name == "submitit_local":
        n = os.cpu_count() or 1
    else:
        n = jobs
    return max(1, min(n, jobs))
