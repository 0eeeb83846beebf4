"""The customers' choice among the alive firms and the outside option: a random-coefficients logit.

Customers differ in what they value: price sensitivity ``alpha_i``, human preference
``phi_i`` (which weighs human service, and, as ``1 - phi_i``, digital service for an
adopter), affinity ``w_i`` (the emotional term) and adoption. Firms close on the map
therefore serve the same customers and are close substitutes because of who chooses
them; no rule says so. The utility of a firm is the reference's
:func:`sim.engine.reference.utility`, its customer-independent parts looked up in the
firm table (:mod:`sim.engine.table`).

One uniform per choice, by inverse CDF (firms in order, the outside option last), so the
chosen firm is a pure function of the utilities and the draw. A choosing customer also
adds, per firm, its choice probability ``s_ij`` and ``alpha_i s_ij (1 - s_ij)`` to the
step's tallies: the demand of the choosers and minus its derivative in the firm's own
price, from which firms set Bertrand-Nash prices (:mod:`sim.firms.pricing`).
"""

from __future__ import annotations

import math

from numba import njit

from .layout import FT, NO_FIRM, A, F, P


@njit(inline="always")
def choice_weights(firm, ft, current, shared, adopted, phi, w, alpha, par, util):
    """The logit weights ``exp(u_ij - u_max)`` of the alive firms in ``util`` (0 for the others) and
    their sum with the outside option's weight (returned), for one customer.

    ``current`` gets the inertia bonus (``NO_FIRM``: nobody). Max-subtracted, so exp never overflows.
    """
    n_firms = firm.shape[0]
    om = (1.0 - phi) if adopted != 0 else 0.0  # reliance on digital channels: the digital taste
    if adopted == 0:
        phi = 1.0  # a non-adopter wants a human for every contact
    bh = par[P.BETA_HUMAN] * phi
    be = par[P.BETA_EMOTION] * w
    v0 = par[P.OUTSIDE_UTILITY]
    umax = v0
    for m in range(n_firms):
        if firm[m, F.ALIVE] > 0.0:
            s = adopted + 2 * shared if m == current else adopted
            eg = om * ft[m + 1, FT.GATE + s] + (1.0 - om) * ft[m + 1, FT.GATE_AVAIL]
            u = (om * ft[m + 1, FT.UD + s] + bh * ft[m + 1, FT.VH] + be * ft[m + 1, FT.HV] * eg
                 - alpha * ft[m + 1, FT.PRICE] + par[P.BETA_REPUTATION] * firm[m, F.REPUTATION])
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
        else:
            util[m] = 0.0
    return total + math.exp(v0 - umax)


@njit(inline="always")
def pick(firm, util, total, r):
    """The option of uniform ``r`` by inverse CDF over the weights ``util`` (firms in order) and the
    outside option last (``NO_FIRM``)."""
    target = r * total
    acc = 0.0
    for m in range(firm.shape[0]):
        if firm[m, F.ALIVE] > 0.0:
            acc += util[m]
            if target < acc:
                return m
    return NO_FIRM


@njit(inline="always")
def choose(firm, ft, current, shared, adopted, phi, w, alpha, par, r, util):
    """Multinomial logit choice among the alive firms and the outside option with one uniform ``r``
    (``NO_FIRM`` is the outside option); ``util`` is scratch space of one entry per firm."""
    total = choice_weights(firm, ft, current, shared, adopted, phi, w, alpha, par, util)
    return pick(firm, util, total, r)


@njit(inline="always")
def tally_demand(firm, util, total, alpha, acc, n_acc):
    """Add a choosing customer's probabilities ``s_ij = util[j] / total`` and ``alpha s_ij (1 - s_ij)``
    to firm rows ``j + 1`` of the accumulators (``layout.A``)."""
    for m in range(firm.shape[0]):
        if firm[m, F.ALIVE] > 0.0:
            s = util[m] / total
            r = (m + 1) * n_acc
            acc[r + A.CHOICE_SHARE] += s
            acc[r + A.CHOICE_SLOPE] += alpha * s * (1.0 - s)
