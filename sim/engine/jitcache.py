"""Numba's on-disk cache for the kernels, invalidated by a change in any kernel source file.

Numba keys a cached function on the source file that defines it. The kernel is spread
over several modules (the layout's constants, the counter RNG, the LLVM helpers, the
passes), and a cached kernel inlines them all: an edit of :mod:`sim.engine.layout` alone
would leave a stale compiled kernel in the cache. :func:`install` puts a cache
locator in front of Numba's own for the functions of this package: it stores where
Numba would (``NUMBA_CACHE_DIR`` if set, else ``__pycache__``) but stamps the cache
with a hash of all :data:`SOURCES` together. Import this module before any
``@njit(cache=True)`` of the package is defined (the kernel modules do).

It also shortens the compilation itself: :func:`install_inline_fix` lets Numba inline
the package's ``inline="always"`` helpers without deep-copying their IR.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import os
from pathlib import Path

from numba.core import caching, inline_closurecall

HERE = Path(__file__).resolve().parent
#: The package folder above the engine (``sim/``), for the helper process's import.
PACKAGE = HERE.parent
#: The files whose code may be compiled into the cached kernels: every module of the engine folder
#: (compiled code imports only these; ``tests/engine/test_jitcache.py`` checks it).
SOURCES = tuple(sorted(HERE.glob("*.py")))


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


# ------------------------------------------------------------------ inlining without copies
class _NoBlockCopies:
    """Stands in for the ``copy`` module inside Numba's inliner while it inlines a function whose
    IR was made for that one call: ``deepcopy`` returns its argument, the rest is ``copy``'s."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(x, memo=None):
        return x


def _fresh_ir_inliner(original):
    def inline_function(self, caller_ir, block, i, function, arg_typs=None):
        if not getattr(function, "__module__", "").startswith(f"{__package__}."):
            return original(self, caller_ir, block, i, function, arg_typs)
        callee_ir = self.run_untyped_passes(function)  # as Numba's own inline_function
        saved = inline_closurecall.copy
        inline_closurecall.copy = _NoBlockCopies()
        try:
            return self.inline_ir(caller_ir, block, i, callee_ir, function.__code__.co_freevars,
                                  arg_typs=arg_typs)
        finally:
            inline_closurecall.copy = saved

    inline_function.fresh_ir = True
    return inline_function


def install_inline_fix() -> bool:
    """Let Numba inline this package's ``inline="always"`` helpers without deep-copying their IR.

    Numba's ``InlineWorker.inline_function`` builds the callee's IR afresh for each call
    site (``run_untyped_passes``), then ``inline_ir`` deep-copies it twice, block by block,
    and each block's copy drags a copy of the function's whole variable scope with it:
    quadratic in the size of the callee. For the kernel's passes (hundreds of variables,
    dozens of blocks) that was 0.8 s of a 7 s cold start (benchmarks/README.md, round 5).
    The copies protect an IR that nobody else holds, so for functions of this package the
    inliner runs with a ``copy`` whose ``deepcopy`` returns its argument; other packages'
    functions go through Numba's code unchanged. Known upstream: numba/numba#8989, and the
    same fix in numba-cuda (NVIDIA/numba-cuda#689). Installed only where Numba's
    ``inline_function`` is still the two calls it replaces; returns whether it is installed.
    """
    worker = getattr(inline_closurecall, "InlineWorker", None)
    original = getattr(worker, "inline_function", None)
    if original is None or getattr(original, "fresh_ir", False):
        return original is not None
    try:
        source = inspect.getsource(original)
    except (OSError, TypeError):
        return False
    if ("self.run_untyped_passes(function)" not in source or "self.inline_ir(" not in source
            or source.count("copy.deepcopy") or not hasattr(inline_closurecall, "copy")):
        return False
    worker.inline_function = _fresh_ir_inliner(original)
    return True


INLINE_FIX = install_inline_fix()


# ------------------------------------------------------------------ a second process compiling
#: Environment switch: ``0`` compiles everything in this process (no helper process on a cold cache).
HELPER_ENV = "SIM_COMPILE_HELPER"


def in_cache(py_func, sig) -> bool:
    """Whether Numba's on-disk cache holds ``py_func`` compiled for ``sig`` from the current sources
    (the index entry a ``cache=True`` compile would load). False where it cannot tell."""
    try:
        from numba.core.registry import cpu_target

        cache = caching.FunctionCache(py_func)
        key = cache._index_key(sig, cpu_target.target_context.codegen())
        return key in cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 (Numba internals moved: behave as with a cold cache)
        return False


def helper_wanted() -> bool:
    """A helper process pays where a second core is free and Numba compiles and caches at all."""
    from numba.core import config

    if os.environ.get(HELPER_ENV, "1") == "0" or config.DISABLE_JIT:
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores >= 2


def start_helper(module: str, function: str):
    """Start a process that imports ``sim.<module>`` (without the package's ``__init__``: no Mesa,
    xarray or Hydra to import) and calls ``function()`` in it, with this environment; the process
    (a :class:`subprocess.Popen`), or None if it could not start. Used to compile, into the shared
    on-disk cache, the functions this process will need after the one it compiles itself."""
    import subprocess
    import sys

    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('sim', {str(PACKAGE / '__init__.py')!r}, "
            f"submodule_search_locations=[{str(PACKAGE)!r}])\n"
            "sys.modules['sim'] = importlib.util.module_from_spec(spec)\n"
            f"from sim.{module} import {function}\n"
            f"{function}()\n")
    env = {**os.environ, HELPER_ENV: "0"}
    try:
        return subprocess.Popen([sys.executable, "-c", code], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None


def finish_helper(proc, wait: bool = True, timeout: float = 600.0) -> bool:
    """End a helper process: wait for it (``wait``; at most ``timeout`` seconds), or kill it (this
    process was interrupted); whether it compiled everything (exit status 0). Anything it did not
    compile is compiled here when first called, as without a helper."""
    import subprocess

    try:
        return wait and proc.wait(timeout) == 0
    except subprocess.TimeoutExpired:
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
