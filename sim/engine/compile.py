"""The cold start: what is compiled where before the first kernel call.

With a cold cache (the customer kernel is not in Numba's on-disk cache: a new machine,
a new cache directory, an edited engine source) and a second core, a helper process
compiles everything else (:func:`compile_side`, nearly half of the work) into the
shared cache while this process compiles the customer kernel; this process then loads
those pieces. The compiled code is the same either way; ``SIM_COMPILE_HELPER=0``
compiles everything here (:mod:`sim.engine.jitcache`).
"""

from __future__ import annotations

import threading

from numba import types

from . import jitcache
from .launch import COMPILED, KERNELS, ORPHANS_SIG, WORK_SIG, kernel_address, launch_orphans, launch_work
from .rng import stream_keys
from .table import firm_table
from .tally import finish_tally, record_rows, tally_pass

#: What :func:`compile_side` compiles: every cached function the entry points call but the customer
#: kernel (:func:`sim.engine.launch.work` with the chunk), for the argument types the entry points pass.
SIDE = ((tally_pass, (types.int64, types.uint64, types.uint64, types.int8[::1], types.int16[::1], types.int16[::1],
                      types.uint8[::1], types.float32[::1], types.uint8[::1], types.float32[:, ::1],
                      types.int8[:, ::1], types.int32[::1], types.float64[::1], types.int64[::1])),
        (finish_tally, (types.float64[::1], types.int64[::1], types.float64[:, ::1], types.float64[:, ::1])),
        (launch_work, (types.int64, types.int64, *WORK_SIG.args)),
        (stream_keys, (types.uint64,)),
        (firm_table, (types.float64[::1], types.float64[:, ::1], types.float64[:, ::1])),
        (launch_orphans, (types.int64, types.int64, *ORPHANS_SIG.args)),
        (record_rows, (types.float64[:, ::1], types.float64[:, ::1], types.float64[:, ::1], types.float64[:, ::1],
                       types.float64[:, ::1], types.float64[::1], types.float64[::1], types.float64,
                       types.int64[::1], types.int64[:, ::1], types.int64[::1], types.int64[:, ::1],
                       types.int64[::1])))
_COMPILE = threading.Lock()


def compile_side() -> None:
    """Compile :data:`SIDE` and the orphans kernel into Numba's on-disk cache (run by the helper
    process of :func:`ensure_compiled`)."""
    for dispatcher, sig in SIDE:
        dispatcher.compile(sig)
    kernel_address("orphans")


def ensure_compiled() -> None:
    """Compile or load the kernels before the first call of an entry point (see the module docstring)."""
    if "work" in COMPILED:
        return
    with _COMPILE:
        if "work" in COMPILED:
            return
        py_func, sig = KERNELS["work"]
        helper = None
        if jitcache.helper_wanted() and not jitcache.in_cache(py_func, sig):
            helper = jitcache.start_helper("engine.compile", "compile_side")
        done = False
        try:
            kernel_address("work")
            done = True
        finally:
            if helper is not None:
                jitcache.finish_helper(helper, wait=done)
