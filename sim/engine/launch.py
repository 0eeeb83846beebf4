"""How a step's work is shared between threads: chunks, the thread kernels and their launchers.

Customers are split into fixed chunks (:func:`chunk_bounds`: the split depends only on
N). Threads take chunks from an atomic counter (``llvm.take_next``), so a thread slowed
by other work on its core does less of the step; what a chunk computes and where it
writes its tallies do not depend on the thread, so results are identical for any
thread count. The thread kernels (:func:`work`, :func:`orphans_work`) are compiled as C
functions (``cfunc``, cached on disk) and run on Numba's own thread pool by small
``parallel=True`` launchers that call them through their address (:func:`kernel_address`).
"""

from __future__ import annotations

import os
import threading

import numba
import numpy as np
from numba import cfunc, njit, prange, types

from .choice import choose
from .layout import NO_FIRM, A, C, F, Sm, St, Tr
from .llvm import c_caller, take_next
from .passes import chunk
from .rng import uniform_at
from .tally import finish_tally

#: Customers per chunk: the unit of the tallies' summation order.
CHUNK = 8192
_N_ACC = len(A)


def chunk_bounds(n: int, chunk: int = CHUNK) -> np.ndarray:
    """Fixed chunk boundaries for ``n`` customers (independent of the thread count)."""
    n_chunks = max(1, -(-n // chunk))
    return np.linspace(0, n, n_chunks + 1).astype(np.int64)


#: The signature :func:`work` is compiled for (as a C function, :func:`kernel_address`).
WORK_SIG = types.void(types.int64[::1], types.uint32[::1], types.float64[::1], types.float64[:, ::1],
                      types.float32[::1], types.int32[::1], types.float64[:, ::1], types.float32[:, ::1],
                      types.float32[:, ::1], types.int8[:, ::1], types.int16[::1], types.int32[::1],
                      types.int64[::1], types.float64[:, :, ::1], types.float64[:, :, ::1])


def work(next_chunk, ks, par, ft, ftf, fti, firm, traits, state, small, provider, tenure, bounds, tally, seg_tally):
    """One thread's share of a step: take the next chunk until none is left (compiled by
    :func:`kernel_address`)."""
    n_chunks = bounds.shape[0] - 1
    c = take_next(next_chunk)
    if c >= n_chunks:
        return
    n_firms = firm.shape[0]
    util = np.empty(n_firms)
    acc = np.empty((n_firms + 1 + seg_tally.shape[1]) * _N_ACC)
    cnt = np.empty((n_firms + 1) * C.SEGMENT + 4 * seg_tally.shape[1], np.int64)
    while c < n_chunks:
        acc[:] = 0.0
        cnt[:] = 0
        chunk(ks, bounds[c], bounds[c + 1], par, ft, ftf, fti, firm, traits, state, small, provider, tenure, acc,
              cnt, util)
        finish_tally(acc, cnt, tally[c], seg_tally[c])
        c = take_next(next_chunk)


_call_work = c_caller(WORK_SIG)


@njit(parallel=True, nogil=True, cache=True)
def launch_work(address, n, next_chunk, ks, par, ft, ftf, fti, firm, traits, state, small, provider, tenure,
                bounds, tally, seg_tally):
    """Run the compiled :func:`work` at ``address`` on ``n`` of Numba's threads (``n`` = 1: on this one,
    without entering the thread pool)."""
    if n == 1:
        _call_work(address, (next_chunk, ks, par, ft, ftf, fti, firm, traits, state, small, provider, tenure,
                             bounds, tally, seg_tally))
        return
    for _ in prange(n):
        _call_work(address, (next_chunk, ks, par, ft, ftf, fti, firm, traits, state, small, provider, tenure,
                             bounds, tally, seg_tally))


ORPHANS_SIG = types.void(types.int64[::1], types.uint32, types.float64[::1], types.float64[:, ::1],
                         types.float64[:, ::1], types.float32[:, ::1], types.float32[:, ::1], types.int8[:, ::1],
                         types.int16[::1], types.int64[::1], types.int64)


def orphans_work(next_chunk, k_choice, par, firm, ft, traits, state, small, provider, bounds, lost):
    """One thread's share of :func:`sim.engine.kernels.assign_orphans`: the next chunk until none is left
    (compiled by :func:`kernel_address`)."""
    n_chunks = bounds.shape[0] - 1
    util = np.empty(firm.shape[0])
    c = take_next(next_chunk)
    while c < n_chunks:
        for i in range(bounds[c], bounds[c + 1]):
            if provider[i] == lost:
                k = choose(firm, ft, NO_FIRM, 0, np.int64(small[Sm.ADOPTED, i]),
                           np.float64(traits[Tr.HUMAN_PREF, i]), np.float64(traits[Tr.AFFINITY, i]),
                           np.float64(state[St.ALPHA, i]), par, uniform_at(i, k_choice), util)
                provider[i] = k
                if k != NO_FIRM:
                    state[St.REF_PRICE, i] = np.float32(firm[k, F.PRICE])
        c = take_next(next_chunk)


_call_orphans = c_caller(ORPHANS_SIG)


@njit(parallel=True, nogil=True, cache=True)
def launch_orphans(address, n, next_chunk, k_choice, par, firm, ft, traits, state, small, provider, bounds, lost):
    """Run the compiled :func:`orphans_work` at ``address`` on ``n`` of Numba's threads (as :func:`launch_work`)."""
    if n == 1:
        _call_orphans(address, (next_chunk, k_choice, par, firm, ft, traits, state, small, provider, bounds, lost))
        return
    for _ in prange(n):
        _call_orphans(address, (next_chunk, k_choice, par, firm, ft, traits, state, small, provider, bounds, lost))


#: The thread kernels, compiled as C functions with these signatures (:func:`kernel_address`).
KERNELS = {"work": (work, WORK_SIG), "orphans": (orphans_work, ORPHANS_SIG)}
COMPILED: dict[str, object] = {}  # the CFunc objects: their code lives as long as they do
#: One launch at a time in a process: Numba's ``workqueue`` threading layer (the one it falls back
#: to without OpenMP or TBB) must not be entered from two threads at once, and two launches would
#: only share the same cores (the classroom page may build a model while another steps).
_LAUNCH = threading.Lock()


def kernel_address(name: str) -> int:
    """The address of thread kernel ``name`` compiled as a C function (``cfunc``; loaded from Numba's
    on-disk cache when it is there), compiled on first use.

    How the threads run: a ``parallel=True`` launcher (:func:`launch_work`,
    :func:`launch_orphans`) calls the kernel through its address once per thread, on Numba's
    own thread pool, whose threads wake without the GIL (a step of 10,000 customers on 2
    threads: 0.09 ms in the kernel, against 0.12 ms on one thread and 0.3 ms with Python helper
    threads). Each thread takes chunks from the same atomic counter until none is left.
    Calling the kernel through an address keeps it out of the launcher's compiled code, so
    the parallel lowering does not compile the kernel again (it did until round 3: a third of
    the cold start, benchmarks/README.md).
    """
    if name not in COMPILED:
        py_func, sig = KERNELS[name]
        COMPILED[name] = cfunc(sig, cache=True)(py_func)
    return COMPILED[name].address


def threads_for(bounds: np.ndarray) -> int:
    """Threads for a call over the chunks ``bounds``: Numba's thread count, at most one per chunk; one in a
    process forked from one whose kernels ran on GNU OpenMP's threads (:func:`_after_fork`)."""
    if _FORK["serial"]:
        return 1
    return max(1, min(numba.get_num_threads(), bounds.shape[0] - 1))


def run(name: str, launcher, bounds: np.ndarray, *args) -> None:
    """Run thread kernel ``name`` through ``launcher`` over the chunks ``bounds``: one launch at a time,
    each thread taking chunks from a fresh counter (the kernel's first argument)."""
    n = threads_for(bounds)
    with _LAUNCH:
        _FORK["launched"] = True
        launcher(kernel_address(name), n, np.zeros(1, np.int64), *args)


#: launched: this process has called a kernel; serial: it is a fork of one that ran them on OpenMP.
_FORK = {"launched": False, "serial": False}


def _after_fork() -> None:
    """In a forked child (``multiprocessing``'s default on Linux, ``mesa.batch_run`` with several
    processes): GNU OpenMP, the threading layer Numba picks where it exists, terminates a child
    that starts a parallel region after its parent had used it, so such a child runs the kernels
    on its own thread (the same numbers: they do not depend on the thread count). Numba's
    fork-safe ``workqueue`` layer instead made every call slower than one thread (benchmarks/
    README.md, round 5). The launch lock is made anew (the fork may have copied it locked)."""
    global _LAUNCH
    _LAUNCH = threading.Lock()
    if _FORK["launched"] and not _FORK["serial"]:
        try:
            _FORK["serial"] = numba.threading_layer() == "omp"
        except ValueError:  # no parallel region ran after all
            pass


os.register_at_fork(after_in_child=_after_fork)
