"""Numba's cache for the kernels (sim.jitcache): keyed on every kernel source, not only the defining file."""

from __future__ import annotations

import shutil

from sim import jitcache
from sim import kernels as K


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
    assert jitcache.INSTALLED
    locator = K._work._cache._impl._locator
    assert isinstance(locator, (jitcache.UserDirLocator, jitcache.InTreeLocator))
    assert locator.get_source_stamp() == jitcache.sources_stamp()
