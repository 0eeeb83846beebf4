"""The Makefile finds the Pythons the README promises (``make run PYTHON=python3.12``, ``make test-pythons``)
and names only tests that exist in COMPAT_TESTS.

A machine of this kind keeps Python 3.12 and 3.13 in pyenv's versions folder without activating them:
``python3.12`` is then a pyenv shim that answers "command not found". The interpreter tests run
``make -n`` (nothing is built) with a PATH holding such a shim and a pyenv folder holding this
test's own interpreter under its version.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="no make on this machine")


def _machine(tmp_path: Path) -> dict[str, str]:
    """Environment of a machine with a pyenv shim for python{VERSION} on the PATH that refuses
    (as for a version pyenv has not activated), and that version in pyenv's versions folder."""
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / f"python{VERSION}"
    shim.write_text(f"#!/bin/sh\necho 'pyenv: python{VERSION}: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    real = tmp_path / "pyenv" / "versions" / f"{VERSION}.99" / "bin"
    real.mkdir(parents=True)
    (real / f"python{VERSION}").symlink_to(os.path.realpath(sys.executable))
    return dict(os.environ, PATH=f"{shims}:/usr/local/bin:/usr/bin:/bin", PYENV_ROOT=str(tmp_path / "pyenv"))


def _make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([MAKE, "--no-print-directory", "-C", str(ROOT), *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_python_x_y_that_pyenv_has_not_activated_is_found_in_its_versions_folder(tmp_path):
    env = _machine(tmp_path)
    venv = tmp_path / "venv"
    proc = _make("-n", f"{venv}/bin/python", f"VENV={venv}", f"PYTHON=python{VERSION}", env=env)
    assert proc.returncode == 0, proc.stderr
    interpreter = tmp_path / "pyenv" / "versions" / f"{VERSION}.99" / "bin" / f"python{VERSION}"
    assert proc.stdout.splitlines()[0] == f"{interpreter} -m venv {venv}"


def test_a_python_that_runs_is_used_as_given(tmp_path):
    venv = tmp_path / "venv"
    proc = _make("-n", f"{venv}/bin/python", f"VENV={venv}", f"PYTHON={sys.executable}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == f"{sys.executable} -m venv {venv}"


def test_a_python_the_machine_lacks_is_one_line_before_anything_is_made(tmp_path):
    env = _machine(tmp_path)
    venv = tmp_path / "venv"
    proc = _make(f"{venv}/bin/python", f"VENV={venv}", "PYTHON=python3.99", env=env)
    assert proc.returncode == 2
    assert re.fullmatch(r"Makefile:\d+: \*\*\* no python3\.99 on this machine \(not on the PATH, nor in pyenv's "
                        r"versions folder\): give another, PYTHON=python3 or an interpreter's path\.  Stop\.\n",
                        proc.stderr), proc.stderr
    assert not venv.exists()


def test_test_pythons_skips_a_python_the_machine_lacks_with_one_line(tmp_path):
    # CHROMIUM: an existing file, so that the chromium target installs nothing here
    proc = _make("test-pythons", "EXTRA_PYTHONS=3.99", f"CHROMIUM={sys.executable}", env=_machine(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "make test: skipped Python 3.99: no python3.99 on this machine\n"


def compat_tests() -> list[str]:
    """The words of the Makefile's COMPAT_TESTS (continuation lines joined)."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(r"^COMPAT_TESTS \?=(.*)$", text, flags=re.M)
    assert match, "no COMPAT_TESTS ?= in the Makefile"
    return match.group(1).split()


def test_every_compat_test_exists():
    words = compat_tests()
    assert words
    for word in words:
        path, _, name = word.partition("::")
        assert (ROOT / path).exists(), word
        if name:
            tree = ast.parse((ROOT / path).read_text())
            defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
            assert name.partition("[")[0] in defined, f"COMPAT_TESTS names {word}: no such test"
