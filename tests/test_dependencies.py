"""A plain install is enough for ``make run``: ``python -m sim`` runs with only the packages
that ``customer-sim`` (no extras) requires, the rest of the test venv hidden.

Mesa 3.5 (Python 3.12+) imports networkx on ``import mesa`` without requiring it; the test
venvs hold networkx anyway (``mesa[rec]`` of the app extra), so a bare ``import mesa`` here
would pass whatever the dependencies say. A hidden package is not found (ModuleNotFoundError on
import, None from ``importlib.util.find_spec``), as when it is not installed: optional imports stay optional.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]

#: Runs ``python -m sim`` (argv from the command line) with the top-level modules named in argv[1] hidden.
HIDING_RUN = """
import importlib.machinery, runpy, sys
hidden = set(sys.argv[1].split(","))

class PathFinder(importlib.machinery.PathFinder):  # finds nothing hidden, as if it were not installed
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.partition(".")[0] in hidden:
            return None
        return super().find_spec(name, path, target)

sys.meta_path[:] = [PathFinder if f is importlib.machinery.PathFinder else f for f in sys.meta_path]
sys.argv = ["sim", *sys.argv[2:]]
runpy.run_module("sim", run_name="__main__", alter_sys=True)
"""


def base_closure(project: str = "customer-sim", extras: frozenset[str] = frozenset()) -> set[str]:
    """Distributions a plain ``pip install customer-sim`` (or with ``extras``) brings on this interpreter
    and platform: its requirements, and theirs with the extras they ask for (as far as installed)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(project, extras)]
    while todo:
        name, extras = todo.pop()
        key = (canonicalize_name(name), extras)
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.distribution(name).requires or ()
        except metadata.PackageNotFoundError:  # an extra not installed here: its name only
            continue
        for text in requires:
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras or {""}):
                todo.append((req.name, frozenset(req.extras)))
    return {name for name, _ in seen}


def test_base_closure_follows_extras_and_markers():
    closure = base_closure()
    assert {"mesa", "numba", "hydra-core", "xarray", "h5netcdf", "h5py", "numpy"} <= closure  # h5py: h5netcdf[h5py]
    assert not {"solara", "pytest", "ray", "optuna"} & closure  # extras only


def test_a_run_needs_only_the_base_dependencies(tmp_path):
    closure = base_closure()
    hidden = sorted(module for module, dists in metadata.packages_distributions().items()
                    if module.isidentifier() and not {canonicalize_name(d) for d in dists} & closure)
    assert "pytest" in hidden and "mesa" not in hidden
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", HIDING_RUN, ",".join(hidden), "scenario=baseline",
                           "customers.n=1000", "steps=3", f"hydra.run.dir={out}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "run.nc").exists()


@pytest.mark.parametrize("extra", metadata.metadata("customer-sim").get_all("Provides-Extra"))
def test_no_extra_brings_rays_launcher(extra):
    """hydra-ray-launcher pins cloudpickle<3; with dask (analysis, test) in the same environment
    ``pip install ".[ray]"`` downgraded cloudpickle under it. It is installed after the extras with
    --no-deps (``make ray``, ``make test``), as docs/SWEEPS.md, the Makefile and the error hints say."""
    assert "hydra-ray-launcher" not in base_closure(extras=frozenset({extra}))


def test_rays_launcher_is_installed_alike_everywhere():
    from sim.settings.errors import RAY_LAUNCHER

    makefile = (ROOT / "Makefile").read_text()
    assert f"RAY_LAUNCHER := {RAY_LAUNCHER}\n" in makefile
    assert makefile.count('--no-deps "$(RAY_LAUNCHER)"') == 2  # make test, make ray
    line = f'pip install -e ".[ray]" && pip install --no-deps "{RAY_LAUNCHER}"'
    assert line in (ROOT / "docs" / "SWEEPS.md").read_text()
    for page in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):  # no other way to install it
        assert ".[ray]" not in page.read_text().replace(line, ""), page.name
