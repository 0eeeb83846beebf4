"""Numba's on-disk cache for the kernels, invalidated by a change in any kernel source file.

Numba keys a cached function on the source file that defines it. The kernel is spread
over several modules (the layout's constants, the counter RNG, the LLVM helpers, the
passes), and a cached kernel inlines them all: an edit of :mod:`sim.layout` alone
would leave a stale compiled kernel in the cache. :func:`install` puts a cache
locator in front of Numba's own for the functions of this package: it stores where
Numba would (``NUMBA_CACHE_DIR`` if set, else ``__pycache__``) but stamps the cache
with a hash of all :data:`SOURCES` together. Import this module before any
``@njit(cache=True)`` of the package is defined (the kernel modules do).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from numba.core import caching

HERE = Path(__file__).resolve().parent
#: The files whose code is compiled into the cached kernels.
SOURCES = tuple(HERE / name for name in ("layout.py", "rng.py", "llvm.py", "kernels.py", "jitcache.py"))


def sources_stamp(paths=SOURCES) -> str:
    """A hash of the contents of ``paths`` (what a cached kernel was compiled from)."""
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()


class _SourcesStamp:
    """Mixin: the stamp of every kernel source, not only the defining file's."""

    def get_source_stamp(self):
        key = tuple((str(p), os.stat(p).st_mtime_ns, os.stat(p).st_size) for p in SOURCES)
        return _stamp_of(key)

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(py_file).resolve().parent != HERE:
            return None
        return super().from_function(py_func, py_file)


_stamps: dict[tuple, str] = {}


def _stamp_of(key: tuple) -> str:
    if key not in _stamps:
        _stamps[key] = sources_stamp()
    return _stamps[key]


class UserDirLocator(_SourcesStamp, caching.UserProvidedCacheLocator):
    """Numba's ``NUMBA_CACHE_DIR`` locator, stamped with all kernel sources."""


class InTreeLocator(_SourcesStamp, caching.InTreeCacheLocator):
    """Numba's ``__pycache__`` locator, stamped with all kernel sources."""


def install() -> bool:
    """Put the locators in front of Numba's (once); False where this Numba has no such hook."""
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    classes = getattr(impl, "_locator_classes", None)
    if not isinstance(classes, list):
        return False
    if UserDirLocator not in classes:
        classes[:0] = [UserDirLocator, InTreeLocator]
    return True


INSTALLED = install()
