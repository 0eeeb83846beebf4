"""The customers' choice among the alive firms and the outside option: a multinomial logit.

One uniform per choice, by inverse CDF (firms in order, the outside option last), so
the chosen firm is a pure function of the utilities and the draw. The utility of a
firm is the reference's :func:`sim.engine.reference.utility`, its customer-independent
parts looked up in the firm table (:mod:`sim.engine.table`).
"""

from __future__ import annotations

import math

from numba import njit

from .layout import FT, NO_FIRM, F, P


@njit(inline="always")
def choose(firm, ft, current, shared, adopted, phi, w, alpha, par, r, util):
    """Multinomial logit choice among the alive firms and the outside option with one uniform ``r``
    (``NO_FIRM`` is the outside option).

    ``current`` gets the inertia bonus (``NO_FIRM``: nobody); ``util`` is scratch space of
    one entry per firm. Max-subtracted, so exp never overflows.
    """
    n_firms = firm.shape[0]
    om = (1.0 - phi) if adopted != 0 else 0.0
    if adopted == 0:
        phi = 1.0
    bh = par[P.BETA_HUMAN] * phi
    be = par[P.BETA_EMOTION] * w
    v0 = par[P.OUTSIDE_UTILITY]
    umax = v0
    for m in range(n_firms):
        if firm[m, F.ALIVE] > 0.0:
            s = adopted + 2 * shared if m == current else adopted
            h = firm[m, F.HUMAN]
            eg = om * ft[m + 1, FT.GATE + s] + (1.0 - om) * ft[m + 1, FT.GATE_AVAIL]
            u = (ft[m + 1, FT.UD + s] + bh * h + be * h * eg
                 - alpha * ft[m + 1, FT.PRICE_WEIGHT] + par[P.BETA_REPUTATION] * firm[m, F.REPUTATION])
            if m == current:
                u += par[P.INERTIA]
            util[m] = u
            if u > umax:
                umax = u
    total = 0.0
    for m in range(n_firms):
        if firm[m, F.ALIVE] > 0.0:
            util[m] = math.exp(util[m] - umax)
            total += util[m]
    w0 = math.exp(v0 - umax)
    total += w0
    target = r * total
    acc = 0.0
    for m in range(n_firms):
        if firm[m, F.ALIVE] > 0.0:
            acc += util[m]
            if target < acc:
                return m
    return NO_FIRM
