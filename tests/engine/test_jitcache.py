"""Numba's cache for the kernels (sim.engine.jitcache): keyed on every kernel source, not only the defining file."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from numba import njit
from numba.core import inline_closurecall

from sim.engine import jitcache, launch


def test_stamp_changes_when_any_kernel_source_changes(tmp_path):
    copies = []
    for path in jitcache.SOURCES:
        shutil.copy(path, tmp_path / path.name)
        copies.append(tmp_path / path.name)
    before = jitcache.sources_stamp(copies)
    assert before == jitcache.sources_stamp(jitcache.SOURCES)
    layout = tmp_path / "layout.py"
    layout.write_text(layout.read_text() + "\n# an edit of the layout alone\n")
    assert jitcache.sources_stamp(copies) != before


def test_kernels_are_cached_through_the_locator():
    """The launchers (jitted) and the thread kernels (C functions) alike."""
    assert jitcache.INSTALLED
    launch.kernel_address("work")
    for cached in (launch.launch_work, launch.COMPILED["work"]):
        locator = cached._cache._impl._locator
        assert isinstance(locator, (jitcache.UserDirLocator, jitcache.InTreeLocator))
        assert locator.get_source_stamp() == jitcache.sources_stamp()


class _CountingCopy:
    """A ``copy`` module that counts ``deepcopy`` calls."""

    def __init__(self):
        self.deepcopies = 0

    def __getattr__(self, name):
        return getattr(copy, name)

    def deepcopy(self, x, memo=None):
        self.deepcopies += 1
        return copy.deepcopy(x, memo)


def _compile_with_inline_helper(module: str) -> int:
    """Compile a function that inlines an ``inline="always"`` helper, both defined in ``module``;
    return how many times Numba's inliner deep-copied IR meanwhile."""
    namespace = {"__name__": module, "njit": njit}
    exec(  # noqa: S102  (a fixed snippet: functions that must carry the given __module__)
        "@njit(inline='always')\n"
        "def helper(x):\n"
        "    if x > 1.0:\n"
        "        return x * 2.0\n"
        "    return x - 1.0\n"
        "@njit\n"
        "def caller(x):\n"
        "    return helper(x) + helper(x + 3.0)\n", namespace)
    counting = _CountingCopy()
    saved = inline_closurecall.copy
    inline_closurecall.copy = counting
    try:
        assert namespace["caller"](0.5) == 0.5 - 1.0 + 3.5 * 2.0
    finally:
        inline_closurecall.copy = saved
    return counting.deepcopies


def test_this_packages_helpers_are_inlined_without_copying_their_ir():
    """For this package's functions the inliner skips its deep copies of an IR made for the one call
    (the same results: every kernel test compares the inlined kernel with the reference); other
    packages' functions go through Numba's code unchanged, copies and all."""
    assert jitcache.INLINE_FIX
    assert _compile_with_inline_helper("sim.engine.inline_probe") == 0
    assert _compile_with_inline_helper("elsewhere.inline_probe") > 0
    assert inline_closurecall.copy is copy


def test_in_cache_tells_a_cached_kernel_from_one_not_compiled_for_that_signature():
    from numba import types

    py_func, sig = launch.KERNELS["work"]
    launch.kernel_address("work")
    assert jitcache.in_cache(py_func, sig)
    assert not jitcache.in_cache(py_func, types.void(types.int64[::1]))


_COLD_RUN = """
import json, sys
import numpy as np
import sim
from sim.engine import compile, launch
ds = sim.run(["scenario=baseline", "customers.n=3000", "steps=6"], seed=1)
out = {"customers": ds.customers.values.tolist(), "trust": ds.trust.values.tolist(),
       "side": {d.py_func.__name__: {"sigs": [str(s) for s in d.signatures],
                                     "misses": sum(d.stats.cache_misses.values())} for d, _ in compile.SIDE},
       "declared": {d.py_func.__name__: str(tuple(sig)) for d, sig in compile.SIDE},
       "work_hits": launch.COMPILED["work"].cache_hits}
print(json.dumps(out))
"""


def test_a_cold_cache_is_filled_by_a_helper_process_with_the_signatures_this_one_uses(tmp_path):
    """With an empty cache a helper process compiles everything but the customer kernel: this process
    then loads those pieces (no compile of its own: the declared signatures are the ones it uses),
    and the numbers equal a run with a warm cache."""
    import sim

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    env.pop(jitcache.HELPER_ENV, None)
    proc = subprocess.run([sys.executable, "-c", _COLD_RUN], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cold = json.loads(proc.stdout.strip().splitlines()[-1])
    assert cold["work_hits"] == 0  # the customer kernel was compiled in that process
    for name, seen in cold["side"].items():
        assert seen["sigs"] == [cold["declared"][name]], name
        if name != "tally_pass":  # typed early in the kernel's compile: the helper may not have finished it
            assert seen["misses"] == 0, f"{name} compiled by the process itself, not loaded from the helper's cache"
    warm = sim.run(["scenario=baseline", "customers.n=3000", "steps=6"], seed=1)
    np.testing.assert_array_equal(np.array(cold["customers"]), warm.customers.values)
    np.testing.assert_array_equal(np.array(cold["trust"], float), warm.trust.values)
