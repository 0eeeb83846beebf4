"""The memory a run will need, checked before anything is allocated.

:func:`check_memory` estimates the bytes a config will allocate (customer state,
transient arrays while drawing the population, per-chunk tallies, recorded
outputs) and refuses, with one line naming the estimate and the limit, a run that
would not fit in the memory available now, instead of being killed by the
out-of-memory killer part-way through. :class:`sim.model.CustomerModel` calls it
before it draws the population; the command line and the sweep driver call it for
every job before anything runs.
"""

from __future__ import annotations

from pathlib import Path

from ..engine.kernels import chunk_bounds
from ..engine.layout import BYTES_PER_CUSTOMER, FIRM_TALLIES, SEGMENT_TALLIES
from ..settings.schema import ConfigError, SimConfig

GIB = 1024**3


#: Short-lived arrays per customer while the population is drawn and firms exit:
#: a float64 draw and an int64 form choice (``rng.choice``) of a segment at a time,
#: plus boolean masks and an int16 copy of the providers.
TRANSIENT_BYTES_PER_CUSTOMER = 8 + 8 + 1 + 1 + 2


#: Share of the available memory a run may plan to use (the rest is headroom for
#: the interpreter, Numba's compiled code, xarray's copy when saving, other processes).
USABLE_FRACTION = 0.8


def estimate_bytes(cfg: SimConfig) -> dict[str, int]:
    """Bytes a run of ``cfg`` allocates, by part (keys: state, transient, tallies, records, total)."""
    from .output import FIRM_VARS, MARKET_VARS, SEGMENT_VARS

    n = cfg.customers.n
    n_firms = len(cfg.firms)
    n_segments = len(cfg.customers.segments)
    n_chunks = len(chunk_bounds(n)) - 1  # small: one boundary per chunk of customers
    parts = {
        "state": n * BYTES_PER_CUSTOMER,
        "transient": n * TRANSIENT_BYTES_PER_CUSTOMER,
        "tallies": 8 * n_chunks * (n_firms * len(FIRM_TALLIES) + n_segments * len(SEGMENT_TALLIES)),
        # recorder arrays (float64), and about as much again for the Dataset written at the end
        "records": 2 * 8 * cfg.steps * (len(FIRM_VARS) * n_firms + len(SEGMENT_VARS) * n_segments
                                        + len(MARKET_VARS)),
    }
    parts["total"] = sum(parts.values())
    return parts


def _meminfo_available(path: str = "/proc/meminfo") -> int | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_available(root: str = "/sys/fs/cgroup") -> int | None:
    """Room left under a cgroup v2 memory limit (containers), if there is one."""
    try:
        limit = Path(root, "memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int(Path(root, "memory.current").read_text().strip())
        return max(0, int(limit) - used)
    except (OSError, ValueError):
        return None


def available_bytes() -> tuple[int | None, str]:
    """Memory available to this process now, and where the figure comes from.

    The smaller of ``MemAvailable`` in ``/proc/meminfo`` and the room left under a
    cgroup v2 limit; ``(None, "unknown")`` where neither can be read.
    """
    found = [(v, src) for v, src in ((_meminfo_available(), "MemAvailable"),
                                     (_cgroup_available(), "cgroup memory.max"))
             if v is not None]
    if not found:
        return None, "unknown"
    return min(found)


class InsufficientMemory(ConfigError):
    """The configured population will not fit in the memory available."""


def check_memory(cfg: SimConfig, available: int | None = None, source: str = "") -> dict[str, int]:
    """Raise :class:`InsufficientMemory` if ``cfg`` will not fit; return the estimate.

    ``available`` defaults to :func:`available_bytes`; an unknown figure passes.
    """
    est = estimate_bytes(cfg)
    if available is None:
        available, source = available_bytes()
        if available is None:
            return est
    limit = available * USABLE_FRACTION
    if est["total"] > limit:
        per_customer = BYTES_PER_CUSTOMER + TRANSIENT_BYTES_PER_CUSTOMER
        fits = max(0, int((limit - est["tallies"] - est["records"]) // per_customer))
        raise InsufficientMemory(
            f"customers.n = {cfg.customers.n} needs about {est['total'] / GIB:.2f} GiB "
            f"(state {est['state'] / GIB:.2f} GiB + work arrays and records), more than the "
            f"{limit / GIB:.2f} GiB limit ({USABLE_FRACTION:.0%} of {available / GIB:.2f} GiB "
            f"{source or 'available'}): allowed customers.n up to about {fits} on this machine now")
    return est
