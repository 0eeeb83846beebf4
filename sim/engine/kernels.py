"""The public kernels: one step of every customer (:func:`customer_step`) and the choice of
customers without a provider (:func:`assign_orphans`).

Everything here is a pure function of arrays. The arrays' layout (rows, columns,
parameters, tallies, streams) is :mod:`sim.engine.layout`'s; the draws are
:mod:`sim.engine.rng`'s counter-based uniforms; :mod:`sim.engine.reference` is the plain
specification that the tests compare these kernels with, bit for bit. The kernel is
split by concern:

* :mod:`sim.engine.table`: the per-step firm table (what the step needs of each firm);
* :mod:`sim.engine.choice`: the logit choice;
* :mod:`sim.engine.update`: the rules (the vectorised update, the review);
* :mod:`sim.engine.passes`: a chunk's blocks and the order of their passes;
* :mod:`sim.engine.tally`: the tallies and the Recorder's rows;
* :mod:`sim.engine.launch`: chunks, threads and the launchers;
* :mod:`sim.engine.compile`: what a cold start compiles where.

Tallies are summed per fixed chunk of customers (the chunking depends only on N),
then over chunks in chunk order, so results are identical for any thread count.

How the step is made fast (measured in benchmarks/, log in benchmarks/README.md):
per-firm quantities are tabulated once per step; each block of customers goes through
short passes, each a named helper inlined into the chunk (by Numba; by LLVM for the
tally pass, which is compiled and cached on its own so that a cold start compiles it
in a second process): the draws as 32-bit integer compares (8 customers per 256-bit
vector), a scalar gather of the provider's table entries, the state update in float32
(vectorised and branch-free, results in stack buffers), a scalar pass for the few
customers who review, the copy-out, and a scalar pass for the tallies. Threads take
chunks from an atomic counter; they are Numba's own threads, which call the kernel
through its address, so the parallel launcher does not compile the kernel again. The
arithmetic is the reference's, operation for operation.
"""

from __future__ import annotations

import numpy as np

from .compile import ensure_compiled
from .launch import CHUNK, chunk_bounds, launch_orphans, launch_work, run
from .layout import R
from .passes import BLOCK
from .rng import stream_keys
from .table import firm_table
from .tally import record_rows

#: The public kernels: Python functions that run compiled kernels on Numba's threads.
ENTRY_POINTS = ("customer_step", "assign_orphans")
__all__ = ["BLOCK", "CHUNK", "ENTRY_POINTS", "assign_orphans", "chunk_bounds", "customer_step", "record_rows"]


def customer_step(key, par, firm, interv, traits, state, small, provider, tenure, bounds, tally, seg_tally):
    """Advance every customer one step and tally the result per chunk.

    Parameters
    ----------
    key : uint64
        Step key (:func:`sim.engine.rng.step_key`).
    par : float64[len(layout.P)]
        Market parameters and this step's market state (``layout.P``).
    firm : float64[F, len(layout.F)]
        Firm columns (``layout.F``); ``F.ALIVE`` > 0 marks firms customers can choose.
    interv : float64[F, n_forms]
        Per step pull of engagement toward 1 for customers preferring each form.
    traits : float32[len(Tr), N]; state : float32[len(St), N]; small : int8[len(Sm), N]
    provider : int16[N] (``NO_FIRM`` = must choose); tenure : int32[N] (steps with provider)
    bounds : int64[C + 1]
        Chunk boundaries; chunk c is customers ``bounds[c]:bounds[c + 1]``.
    tally : float64[C, F, len(layout.T)]; seg_tally : float64[C, S, len(layout.S)]
        Output, overwritten: per-chunk sums.

    The per-customer phases, in order: adoption, contact (channel, steering,
    availability), experience and disconfirmation, trust / satisfaction / influence
    / engagement / freedom / fairness, interventions, data sharing, price
    sensitivity, switching review and logit choice, tenure, recommendation score,
    tallies (the specification is :func:`sim.engine.reference.advance`).
    """
    ensure_compiled()
    ks = stream_keys(np.uint64(key))
    ft = firm_table(par, firm, interv)
    ftf = ft.ravel().astype(np.float32)  # the entries the float32 update uses, rounded as it rounds them
    fti = ft.ravel().astype(np.int32)  # the draw thresholds (integers in the table)
    run("work", launch_work, bounds, ks, par, ft, ftf, fti, firm, traits, state, small, provider, tenure, bounds,
        tally, seg_tally)


def assign_orphans(key, par, firm, traits, state, small, provider, bounds, lost):
    """Customers whose provider is ``lost`` (``NO_FIRM`` for the initial assignment, an exiting firm's
    index at its exit) choose among the alive firms and the outside option, through the same choice
    code as a review (:func:`sim.engine.choice.choose`, no inertia); a chosen firm's price becomes their
    reference price. Draws stream ``R.CHOICE`` of ``key``."""
    ensure_compiled()
    k_choice = stream_keys(np.uint64(key))[R.CHOICE]
    ft = firm_table(par, firm, np.zeros((firm.shape[0], 0)))
    run("orphans", launch_orphans, bounds, k_choice, par, firm, ft, traits, state, small, provider, bounds,
        np.int64(lost))
