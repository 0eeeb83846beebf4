"""Front-end assets of the classroom page, installed locally so the page works offline.

Solara serves the JavaScript and CSS of its page (the Vuetify app, RequireJS, the
draggable grid layout its page loads, Font Awesome) through
its own CDN proxy, ``/_solara/cdn/<package>@<version>/<file>``: on a miss the *server*
downloads the file from jsDelivr and keeps it in ``{sys.prefix}/share/solara/cdn/``.
Offline, in a lecture hall, that download fails and the page stays blank. The
documented remedy, the ``solara-assets`` wheel, stops at an older Solara than the one
Mesa installs, so this module fills the same folder from the npm registry at install
time instead: ``npm pack <package>@<version>`` for every package the page loads,
unpacked into ``<cache>/<package>@<version>/``. Solara then finds every file locally
and never goes to the network.

The package versions are read from the installed Solara's own templates and
components (:func:`required_packages`), so an upgrade of Solara fetches the versions
it needs. Run once after installing (``make test``, ``make app`` do it, keeping a
stamp file)::

    python -m sim.app.assets          # fills the folder; no-op when already complete
    python -m sim.app.assets --check  # exit 1 and name what is missing

Needs ``npm`` (Node.js) and the npm registry at install time only.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: npm packages the classroom page loads through Solara's CDN proxy (the Vuetify 2
#: app, RequireJS, the grid layout Solara's page loads). Font Awesome is added
#: from Solara's ``fontawesome_path`` setting.
PAGE_PACKAGES: tuple[str, ...] = ("@widgetti/solara-vuetify-app", "requirejs", "@widgetti/vue-grid-layout")

_PINNED = re.compile(r"(?:\{\{ ?cdn ?\}\}|getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+)@(\d[\w.-]*)/")


def cache_dir() -> Path:
    """The folder Solara's CDN proxy reads from (``{sys.prefix}/share/solara/cdn``)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def required_packages() -> dict[str, str]:
    """``{npm package: exact version}`` the page needs, read from the installed Solara.

    Scans Solara's page template and widget sources for pinned CDN urls
    (``{{cdn}}/pkg@1.2.3/...``, ``${this.getCdn()}/pkg@1.2.3/...``) of the packages in
    :data:`PAGE_PACKAGES`, and adds Font Awesome from Solara's ``fontawesome_path``.

    Raises
    ------
    RuntimeError
        If a package of :data:`PAGE_PACKAGES` has no pinned version in Solara's sources
        (a Solara release that changed how it loads its front end).
    """
    import solara
    from solara.server import settings

    root = Path(solara.__file__).parent
    found: dict[str, str] = {}
    for sub in ("server/templates", "widgets", "components"):
        for path in (root / sub).rglob("*"):
            if path.suffix not in {".j2", ".html", ".vue", ".py"} or not path.is_file():
                continue
            for name, version in _PINNED.findall(path.read_text(errors="ignore")):
                if name in PAGE_PACKAGES:
                    found.setdefault(name, version)
    missing = [p for p in PAGE_PACKAGES if p not in found]
    if missing:
        raise RuntimeError(f"no pinned version of {', '.join(missing)} in Solara {solara.__version__}'s sources")
    fa = re.match(r"/?((?:@[\w.-]+/)?[\w.-]+)@([\w.-]+)/", settings.assets.fontawesome_path)
    if fa:
        found[fa.group(1)] = fa.group(2)
    return found


def missing_packages(root: Path | None = None) -> list[str]:
    """``pkg@version`` entries of :func:`required_packages` not yet unpacked in the cache."""
    root = cache_dir() if root is None else root
    return [f"{p}@{v}" for p, v in required_packages().items() if not (root / f"{p}@{v}" / "package.json").is_file()]


def install(root: Path | None = None, npm: str = "npm") -> list[str]:
    """Unpack every missing package into the cache folder with ``npm pack``.

    Each package is unpacked into a temporary folder beside its target and renamed
    into place, so an interrupted install never leaves half a package that would
    look complete.

    Returns
    -------
    list of str
        The ``pkg@version`` entries installed (empty when all were present).

    Raises
    ------
    RuntimeError
        If ``npm`` is not on the PATH or ``npm pack`` fails (one line naming the package).
    """
    root = cache_dir() if root is None else root
    todo = missing_packages(root)
    if not todo:
        return []
    exe = shutil.which(npm)
    if exe is None:
        raise RuntimeError(f"npm not found on PATH: needed once to fetch {', '.join(todo)} "
                           "into Solara's asset folder (install Node.js, or run online once)")
    root.mkdir(parents=True, exist_ok=True)
    for spec in todo:
        with tempfile.TemporaryDirectory(dir=root, prefix=".pack-") as tmp:
            proc = subprocess.run([exe, "pack", spec, "--silent", "--pack-destination", tmp],
                                  capture_output=True, text=True, check=False)
            tarballs = list(Path(tmp).glob("*.tgz"))
            if proc.returncode != 0 or len(tarballs) != 1:
                msg = (proc.stderr or proc.stdout).strip().splitlines()
                raise RuntimeError(f"npm pack {spec} failed: {msg[-1] if msg else 'no tarball'}")
            unpacked = Path(tmp) / "unpacked"
            with tarfile.open(tarballs[0]) as tar:
                tar.extractall(unpacked, filter="data")
            target = root / spec
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():  # an incomplete earlier attempt (no package.json)
                shutil.rmtree(target)
            (unpacked / "package").rename(target)
    return todo


def main(argv: list[str] | None = None) -> int:
    """Command line: fill the asset folder (default) or ``--check`` it."""
    ap = argparse.ArgumentParser(prog="python -m sim.app.assets", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only report what is missing (exit 1 if anything is)")
    args = ap.parse_args(argv)
    try:
        if args.check:
            missing = missing_packages()
            if missing:
                print(f"missing in {cache_dir()}: {', '.join(missing)}", file=sys.stderr)
                return 1
            print(f"all page assets present in {cache_dir()}")
            return 0
        done = install()
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"installed {', '.join(done)} into {cache_dir()}" if done else f"page assets already in {cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
