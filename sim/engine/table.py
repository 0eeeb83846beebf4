"""The per-step firm table: what a customer's step needs of each firm, computed once per step.

Per firm and per (data shared, adopted) combination: the digital quality seen, its gate, the
escalation to a human, the digital value (saturating above the expectation E) and the freedom of
choice the channels give; per firm: the human basics' gate, the human level, its emotional weight
and its value against the human expectation H, the price, and the draw thresholds of steering,
notice and availability. Computed with the same operations as the reference's per-customer formulas
(:mod:`sim.engine.reference`), so looking them up gives identical results; the gate of the digital
gap costs one ``exp`` per firm and combination instead of one per customer.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import jitcache  # noqa: F401  (the cache locator, before any cached function is defined)
from .layout import FT, F, P, Steer
from .rng import threshold
from .scalars import digital_value, emotion_weight, gate, human_value

_STEER_NONE, _STEER_HARD = float(Steer.NONE), float(Steer.HARD)  # compared with float64 firm columns


@njit(inline="always")
def digital_seen(firm, m, shared, adopted, par):
    """Digital quality customer sees at firm m: d (1 + pi shared), capped at 1, times exclusion."""
    de = firm[m, F.DIGITAL] * (1.0 + firm[m, F.PERSONALISATION] * shared)
    if de > 1.0:
        de = 1.0
    if adopted == 0:
        de *= par[P.EXCLUSION_QUALITY]
    return de


@njit(cache=True)
def firm_table(par, firm, interv):
    """This step's per-firm quantities that do not depend on the customer.

    Returns float64[F + 1, FT.IV + n_forms + 1] (columns ``layout.FT``); row 0 (no firm) is zero.
    """
    n_firms = firm.shape[0]
    n_forms = interv.shape[1]
    ft = np.zeros((n_firms + 1, FT.IV + n_forms + 1))
    e = par[P.EXPECTATION]
    eps = par[P.ESCALATION_FLOOR]
    for m in range(n_firms):
        row = ft[m + 1]
        h = firm[m, F.HUMAN]
        for sh in range(2):
            for ad in range(2):
                s = 2 * sh + ad
                dx = digital_seen(firm, m, sh, ad, par)
                x = dx - e
                row[FT.DX + s] = dx
                row[FT.GATE + s] = gate(x, par[P.GATE_CENTER], par[P.GATE_SLOPE])
                short = 1.0 - dx / e if e > 0.0 else 0.0
                row[FT.ESC + s] = eps + (1.0 - eps) * max(short, 0.0)
                ud = 0.0
                if ad != 0:
                    ud = par[P.BETA_DIGITAL] * digital_value(x, par[P.DIGITAL_GAIN], par[P.DIGITAL_SCALE])
                row[FT.UD + s] = ud
                a = firm[m, F.HUMAN] * firm[m, F.AVAILABILITY]
                if firm[m, F.STEERING] == _STEER_HARD:
                    a *= 1.0 - firm[m, F.STEERING_STRENGTH]
                d = dx if ad != 0 else 0.0
                row[FT.FREE + s] = 1.0 - (1.0 - a) * (1.0 - d)
        row[FT.GATE_AVAIL] = gate(firm[m, F.AVAILABILITY] - 1.0, par[P.GATE_CENTER], par[P.GATE_SLOPE])
        row[FT.H] = h
        row[FT.HV] = emotion_weight(h, par[P.EMOTION_SCALE])
        row[FT.VH] = human_value(h - par[P.HUMAN_EXPECTATION], par[P.HUMAN_SCALE])
        row[FT.PRICE] = firm[m, F.PRICE]
        # "mode != none and u < p" is "u < p" with p = 0 without steering (u >= 0)
        row[FT.STEER] = threshold(firm[m, F.STEERING_STRENGTH] if firm[m, F.STEERING] != _STEER_NONE else 0.0)
        # a hard-steered customer always notices: u < 1 holds for every draw u
        row[FT.NOTICE] = threshold(1.0 if firm[m, F.STEERING] == _STEER_HARD else par[P.NOTICE_SOFT])
        row[FT.AVAIL] = threshold(firm[m, F.AVAILABILITY])
        for f in range(n_forms):
            row[FT.IV + f] = interv[m, f]
    return ft
