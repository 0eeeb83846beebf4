"""Small compiled helpers of the customer step: float32 constants, clipping, the gate, a fast bound.

Inlined into the kernel's passes (``inline="always"``). A float literal is float64 in
Numba and would widen float32 arithmetic, hence the named float32 constants.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .layout import SB
from .rng import UNIT_BITS

_F0, _F1, _FHALF, _F10 = np.float32(0.0), np.float32(1.0), np.float32(0.5), np.float32(10.0)
#: The float32 value of one step of a uniform (2**-24).
_FUNIT = np.float32(2.0 ** -UNIT_BITS)


@njit(inline="always")
def gate(x, center, slope):
    """The emotion gate 1 / (1 + exp(-slope (x - center))) (float64)."""
    return 1.0 / (1.0 + math.exp(-slope * (x - center)))


@njit(inline="always")
def digital_value(x, gain, scale):
    """V_d(x) of a digital level ``x`` above (x > 0) or below the expectation E: a shortfall costs x^2,
    a lead earns ``gain scale (1 - exp(-x / scale))``, saturating at ``gain scale`` (float64).
    The twin of :func:`sim.engine.reference.digital_value`."""
    return -x * x if x < 0.0 else gain * scale * (1.0 - math.exp(-x / scale))


@njit(inline="always")
def human_value(y, scale):
    """V_h(y) of a human level ``y`` above or below the human expectation H: ``y`` below H, ``scale (1 -
    exp(-y / scale))`` above it (concave, saturating) (float64). The twin of
    :func:`sim.engine.reference.human_value`."""
    return y if y < 0.0 else scale * (1.0 - math.exp(-y / scale))


@njit(inline="always")
def emotion_weight(h, scale):
    """e(h): the emotional weight of human level ``h`` in [0, 1], ``(1 - exp(-h / scale)) / (1 - exp(-1 / scale))``:
    0 at h = 0, 1 at h = 1, concave (diminishing returns; linear as ``scale`` grows) (float64)."""
    return (1.0 - math.exp(-h / scale)) / (1.0 - math.exp(-1.0 / scale))


@njit(inline="always")
def satisfaction_target(delta, slope, tol):
    """The satisfaction of a contact with quality ``delta`` above its expectation (float32):
    0.5 + 0.5 z / (1 + |z|), z = slope (delta + tol): 0.5 at the edge of the zone of tolerance,
    rising toward 1 above expectation with diminishing increments, toward 0 below it."""
    z = slope * (delta + tol)
    return _FHALF + _FHALF * z / (_F1 + abs(z))


@njit(inline="always")
def clip01_f32(x):
    return _F0 if x < _F0 else (_F1 if x > _F1 else x)


@njit(inline="always")
def exp_neg(a):
    """exp(-a) for 0 <= a <= 64 in float32, to about 1e-4 (vectorisable; only a bound's estimate).

    exp(-a) = exp(-a / 128) ** 128: a degree-6 Taylor polynomial on [0, 0.5], squared seven times.
    """
    x = a * np.float32(1.0 / 128.0)
    g = _F1 + x * (-_F1 + x * (_FHALF + x * (np.float32(-1.0 / 6.0) + x * (np.float32(1.0 / 24.0) + x * (
        np.float32(-1.0 / 120.0) + x * np.float32(1.0 / 720.0))))))
    for _ in range(7):
        g = g * g
    return g


@njit(inline="always")
def state_bits(shared, adopted, disengaged, score):
    """The bit pattern counted per firm (``layout.SB``, in ``layout.STATE_BITS`` order): data shared,
    adopted, disengaged, promoter (score 9-10), detractor (score 0-6)."""
    return ((np.uint8(shared != 0) * np.uint8(SB.SHARED)) | (np.uint8(adopted) * np.uint8(SB.ADOPTED))
            | (np.uint8(disengaged) * np.uint8(SB.DISENGAGED)) | (np.uint8(score >= 9) * np.uint8(SB.PROMOTER))
            | (np.uint8(score <= 6) * np.uint8(SB.DETRACTOR)))


@njit(inline="always")
def f32_at_least(x):
    """The least float32 ``y`` with ``y >= x``: for a float32 ``v``, ``v >= x`` is ``v >= y``."""
    y = np.float32(x)
    if np.float64(y) < x:
        y = np.nextafter(y, np.float32(np.inf))
    return y
