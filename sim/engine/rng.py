"""The counter-based random numbers of a step, for the kernel, the reference and the yardsticks.

Every uniform is a pure function of (seed, step, stream, customer index): a step's
64-bit key comes from the seed and the step (SplitMix64, :func:`step_key`), each
stream's 32-bit key from the step key (:func:`stream_key`), and customer ``i``'s
draw is the 32-bit hash ``triple32`` of ``i + stream key``, whose top 24 bits make
the uniform ``u = m 2**-24``. So a customer's draws do not depend on how customers
are split over threads, and the kernels stay pure functions of their inputs.

Three twins compute the same bits: the Python ints of :func:`uniform` (the
reference), the NumPy ``uint32`` arrays of :func:`draw` (the NumPy yardstick), and
the compiled :func:`draw_unit` / :func:`draw_int` (written in LLVM IR so that every
operation stays 32 bits wide: Numba widens uint32 arithmetic to 64 bits, and 64-bit
multiplies have no vector instruction before AVX-512).
"""

from __future__ import annotations

import functools

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from . import jitcache  # noqa: F401  (the cache locator, before any cached function is defined)
from .layout import R
from .llvm import i32

N_STREAMS = len(R)
MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1
GOLDEN = 0x9E3779B97F4A7C15
_GOLD = np.uint64(GOLDEN)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)
#: The 32-bit hash of the draws ("triple32", C. Wellons' hash-prospector): three
#: rounds of (xor-shift, multiply) and a final xor-shift. A bijection of 32-bit words.
HASH32_ROUNDS = ((17, 0xED5AD4BB), (11, 0xAC4C1B51), (15, 0x31848BAB))
HASH32_LAST = 14
UNIT_BITS = 24  #: bits of a uniform: u = (hash >> 8) * 2**-24, exact in float32 and float64
UNIT_SCALE = float(1 << UNIT_BITS)


# ------------------------------------------------------------------ Python ints
def mix64(z: int) -> int:
    """SplitMix64 finaliser on a Python int (the pure-Python twin of ``_mix``)."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def step_key(seed: int, step: int) -> int:
    """The 64-bit key of all draws of ``step`` (step -1 is the initial assignment, -2... the burn-in)."""
    return mix64(mix64(seed) ^ ((step + 2) * GOLDEN & MASK64))


@functools.lru_cache(maxsize=4096)
def stream_key(key: int, stream: int) -> int:
    """The 32-bit key of ``stream`` under a step ``key``: the high half of a SplitMix64 hash."""
    return mix64(int(key) ^ ((int(stream) + 1) * GOLDEN & MASK64)) >> 32


def hash32(x: int) -> int:
    """The draw hash on a Python int (the pure-Python twin of the compiled hash)."""
    x &= MASK32
    for shift, mult in HASH32_ROUNDS:
        x = ((x ^ (x >> shift)) * mult) & MASK32
    return x ^ (x >> HASH32_LAST)


def uniform(key: int, i: int, stream: int) -> float:
    """The uniform of customer ``i`` in ``stream`` under the step ``key`` (one Python float)."""
    return (hash32(i + stream_key(key, stream)) >> (32 - UNIT_BITS)) * 2.0 ** -UNIT_BITS


# ------------------------------------------------------------------ NumPy arrays
def draw(key: int, index: np.ndarray, stream: int) -> np.ndarray:
    """The uniforms of ``stream`` for customers ``index`` under ``key``: the same bits as the kernel's
    (``uint32`` arithmetic wraps modulo 2**32, like the kernel's)."""
    x = index.astype(np.uint32) + np.uint32(stream_key(key, stream))
    for shift, mult in HASH32_ROUNDS:
        x = (x ^ (x >> np.uint32(shift))) * np.uint32(mult)
    x = x ^ (x >> np.uint32(HASH32_LAST))
    return (x >> np.uint32(32 - UNIT_BITS)).astype(np.float64) * 2.0 ** -UNIT_BITS


# ------------------------------------------------------------------ compiled
@njit(inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def stream_keys(key):
    """The 32-bit keys of all streams under a step ``key`` (see :func:`stream_key`)."""
    ks = np.empty(N_STREAMS, np.uint32)
    for s in range(N_STREAMS):
        ks[s] = np.uint32(_mix(np.uint64(key) ^ (np.uint64(s + 1) * _GOLD)) >> _S32)
    return ks


def _hash_ir(builder, v):
    """LLVM IR of the draw hash of the i32 value ``v``, shifted to its top 24 bits."""
    for shift, mult in HASH32_ROUNDS:
        v = builder.xor(v, builder.lshr(v, i32(shift)))
        v = builder.mul(v, i32(mult))
    v = builder.xor(v, builder.lshr(v, i32(HASH32_LAST)))
    return builder.lshr(v, i32(32 - UNIT_BITS))


@intrinsic
def draw_unit(typingctx, x):
    """The uniform in [0, 1) of a 32-bit counter ``x`` (customer index + stream key).

    The top 24 bits of the hash, as a signed 32-bit int, convert exactly to float64
    with one instruction.
    """
    if x != types.uint32:
        return None

    def codegen(context, builder, sig, args):
        d = builder.sitofp(_hash_ir(builder, args[0]), ir.DoubleType())
        return builder.fmul(d, ir.Constant(ir.DoubleType(), 2.0 ** -UNIT_BITS))

    return types.float64(types.uint32), codegen


@intrinsic
def draw_int(typingctx, x):
    """The integer ``m`` of the uniform ``u = m 2**-24`` of counter ``x`` (see ``draw_unit``):
    ``u < p`` is ``m < threshold(p)``, a 32-bit integer compare."""
    if x != types.uint32:
        return None

    def codegen(context, builder, sig, args):
        return _hash_ir(builder, args[0])

    return types.int32(types.uint32), codegen


@njit(inline="always")
def uniform_at(i, k):
    """The uniform of customer ``i`` in the stream with 32-bit key ``k`` (compiled)."""
    return draw_unit(np.uint32(np.uint32(i) + k))


@njit(inline="always")
def threshold(p):
    """The integer ``T`` with ``u < p`` exactly when ``m < T``, for every draw ``u = m 2**-24``.

    ``p 2**24`` is exact in float64 (a power-of-two scaling), and an integer ``m``
    is below it exactly when it is below its ceiling; clamped to [0, 2**24].
    """
    return min(max(np.ceil(p * UNIT_SCALE), 0.0), UNIT_SCALE)


@njit
def uniforms(key, n, stream):
    """The uniforms of ``stream`` for customers ``0..n-1`` under ``key`` (compiled; for tests)."""
    k = stream_keys(key)[stream]
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform_at(i, k)
    return out
