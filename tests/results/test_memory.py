"""The memory guard (sim.results.memory): an estimate checked before allocating, one line when it does not fit."""

from __future__ import annotations

import pytest

import sim
from sim.results import memory as guard
from sim.settings.compose import compose_config
from sim.settings.schema import ConfigError


def test_memory_estimate_grows_with_the_population_and_names_its_parts():
    small = guard.estimate_bytes(compose_config(["scenario=baseline", "customers.n=1000", "steps=10"]))
    big = guard.estimate_bytes(compose_config(["scenario=baseline", "customers.n=1000000", "steps=10"]))
    assert set(big) == {"state", "transient", "tallies", "records", "total"}
    assert big["total"] == sum(v for k, v in big.items() if k != "total")
    assert big["state"] == 1000 * small["state"] == 1_000_000 * sim.engine.state.BYTES_PER_CUSTOMER
    assert big["total"] > big["state"] + big["transient"]


def test_memory_guard_refuses_with_estimate_and_limit():
    cfg = compose_config(["scenario=baseline", "customers.n=100000000", "steps=120"])
    with pytest.raises(guard.InsufficientMemory) as info:
        guard.check_memory(cfg, available=4 * 2**30, source="MemAvailable")
    msg = str(info.value)
    assert msg.startswith("customers.n = 100000000 needs about 7.")
    assert "GiB limit (80% of 4.00 GiB MemAvailable)" in msg and "\n" not in msg
    fits = int(msg.rsplit("about ", 1)[1].split()[0])
    smaller = compose_config(["scenario=baseline", f"customers.n={fits}", "steps=120"])
    guard.check_memory(smaller, available=4 * 2**30)  # the suggested size does fit
    assert isinstance(info.value, ConfigError)


def test_memory_guard_runs_before_allocation(monkeypatch):
    monkeypatch.setattr(guard, "available_bytes", lambda: (10 * 2**20, "MemAvailable"))
    allocated = []
    monkeypatch.setattr(sim.engine.state.Population, "empty", classmethod(lambda cls, n: allocated.append(n)))
    with pytest.raises(guard.InsufficientMemory, match=r"^customers.n = 1000000 needs about 0\.08 GiB"):
        sim.run(["scenario=baseline", "customers.n=1000000", "steps=2"])
    assert allocated == []


def test_memory_guard_passes_when_available_memory_is_unknown(monkeypatch):
    monkeypatch.setattr(guard, "available_bytes", lambda: (None, "unknown"))
    cfg = compose_config(["scenario=baseline", "customers.n=100000000"])
    assert guard.check_memory(cfg)["total"] > 5 * 2**30


def test_available_memory_reads_meminfo_and_cgroup(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemFree:  100 kB\nMemAvailable:    8000000 kB\n")
    assert guard._meminfo_available(str(meminfo)) == 8_000_000 * 1024
    assert guard._meminfo_available(str(tmp_path / "missing")) is None
    (tmp_path / "memory.max").write_text("max\n")
    assert guard._cgroup_available(str(tmp_path)) is None
    (tmp_path / "memory.max").write_text("1073741824\n")
    (tmp_path / "memory.current").write_text("268435456\n")
    assert guard._cgroup_available(str(tmp_path)) == 768 * 2**20
    value, source = guard.available_bytes()
    assert value is None or (value > 0 and source in ("MemAvailable", "cgroup memory.max"))
