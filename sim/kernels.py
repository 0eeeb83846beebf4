"""Numba kernels: the per-customer work of a step and the per-firm tallies.

Everything here is a pure function of arrays (numpy and numba only). The layout
of the arrays is fixed by the index constants below, shared with
:mod:`sim.state` (which allocates them), :mod:`sim.reference` (the plain
re-implementation the tests compare against) and :mod:`sim.model` (which fills
the parameter vectors).

Randomness is counter-based: every uniform draw is a 32-bit hash of (customer
index + a 32-bit key of the step and the stream), so a customer's draws do not
depend on how customers are split over threads, and the kernels stay pure.
Tallies are summed per fixed chunk of customers (the chunking depends only on N),
then over chunks in chunk order, so results are identical for any thread count.

How the step kernel is made fast (measured in benchmarks/, log in
benchmarks/README.md): per-firm quantities are tabulated once per step; each
block of customers goes through short passes: the draws as 32-bit integer
compares (8 customers per 256-bit vector), a scalar gather of the provider's
table entries, the state update in float32 (vectorised and branch-free, results
in stack buffers), a scalar pass for the few customers who review, and a scalar
pass for the tallies; threads take chunks from an atomic counter, so a thread
slowed by other work on its core does less of the step. The arithmetic is the
reference's, operation for operation, so results are bit-identical to
:mod:`sim.reference`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

NO_FIRM = -1  #: sentinel provider for a customer without a firm

# ---- float32 trait rows (static) ------------------------------------------------
LITERACY, HUMAN_PREF, AFFINITY, PRIVACY, ALPHA0 = range(5)
N_TRAITS = 5
# ---- float32 state rows (dynamic) ------------------------------------------------
TRUST, ENGAGEMENT, SATISFACTION, FREEDOM, INFLUENCE, FAIRNESS, ALPHA = range(7)
N_STATE = 7
# ---- int8 rows ------------------------------------------------------------------
SHARED, ADOPTED, SCORE, FORM, SEGMENT = range(5)
N_SMALL = 5

# ---- firm columns (float64, shape (F, N_FIRM_COLS)) -------------------------------
F_DIGITAL, F_HUMAN, F_PRICE, F_PERSONAL, F_STEER_MODE, F_STEER_P, F_AVAIL, F_REPUTATION, F_ALIVE = range(9)
N_FIRM_COLS = 9
STEER_NONE, STEER_SOFT, STEER_HARD = 0, 1, 2

# ---- market parameter vector (float64) -------------------------------------------
(P_EXPECTATION, P_COMMODITY, P_ADOPT_PROB, P_LIT_THRESHOLD, P_EXCLUSION, P_MEAN_PRICE,
 P_CONTACT, P_HUMAN_EXP, P_GATE_CENTER, P_GATE_SLOPE, P_NOTICE_SOFT,
 P_TRUST_INIT, P_TRUST_GAIN, P_TRUST_LOSS, P_TRUST_HUMAN, P_STEER_TRUST, P_STEER_FREEDOM,
 P_FREEDOM_RECOVERY, P_INFLUENCE_RATE, P_INFLUENCE_DIGITAL, P_FAIR_RATE, P_FAIR_SLOPE,
 P_FAIR_TRUST, P_SAT_MEMORY, P_ENG_RATE, P_ENG_DECAY, P_DISENGAGE, P_DISENGAGED_BELOW,
 P_CARRY_ENG, P_ALPHA_COMMODITY, P_ALPHA_ENG, P_ALPHA_TRUST, P_HAZARD, P_HAZARD_TRUST,
 P_HAZARD_ENG, P_BETA_DIGITAL, P_DIGITAL_GAIN, P_BETA_HUMAN, P_BETA_EMOTION, P_BETA_REP,
 P_INERTIA, P_REC_SAT, P_REC_TRUST, P_REC_ENG, P_REC_OFFSET, P_REC_NOISE) = range(46)
N_PARAMS = 46

# ---- per-firm tally columns ---------------------------------------------------------
(T_CUSTOMERS, T_CONTACTS, T_HUMAN, T_WANTED_HUMAN, T_NOTICED, T_PUSHED, T_EFFORT, T_TRUST,
 T_ENGAGEMENT, T_SATISFACTION, T_FREEDOM, T_INFLUENCE, T_FAIRNESS, T_PROMOTERS, T_DETRACTORS,
 T_CHURN, T_TENURE, T_SHARED, T_ALPHA, T_ADOPTED, T_DISENGAGED) = range(21)
N_FIRM_TALLY = 21
# ---- per-segment tally columns ------------------------------------------------------
S_COUNT, S_ENGAGEMENT, S_TRUST, S_DISENGAGED, S_ADOPTED, S_SATISFACTION = range(6)
N_SEG_TALLY = 6

# ---- random streams (one uniform each per customer and step) -------------------------
(R_ADOPT, R_CONTACT, R_WANT_HUMAN, R_STEER, R_NOTICE, R_AVAIL, R_REVIEW, R_CHOICE, R_SCORE,
 R_SCORE2) = range(10)

N_STREAMS = 10

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


def mix64(z: int) -> int:
    """SplitMix64 finaliser on a Python int (the pure-Python twin of ``_mix``)."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def step_key(seed: int, step: int) -> int:
    """The 64-bit key of all draws of ``step`` (step -1 is the initial assignment)."""
    return mix64(mix64(seed) ^ ((step + 2) * GOLDEN & MASK64))


@functools.lru_cache(maxsize=4096)
def stream_key(key: int, stream: int) -> int:
    """The 32-bit key of ``stream`` under a step ``key``: the high half of a SplitMix64 hash."""
    return mix64(int(key) ^ ((int(stream) + 1) * GOLDEN & MASK64)) >> 32


def hash32(x: int) -> int:
    """The draw hash on a Python int (the pure-Python twin of ``_draw``)."""
    x &= MASK32
    for shift, mult in HASH32_ROUNDS:
        x = ((x ^ (x >> shift)) * mult) & MASK32
    return x ^ (x >> HASH32_LAST)


@njit(inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def _stream_keys(key):
    """The 32-bit keys of all streams under a step ``key`` (see :func:`stream_key`)."""
    ks = np.empty(N_STREAMS, np.uint32)
    for s in range(N_STREAMS):
        ks[s] = np.uint32(_mix(np.uint64(key) ^ (np.uint64(s + 1) * _GOLD)) >> _S32)
    return ks


def _i32(v: int) -> ir.Constant:
    return ir.Constant(ir.IntType(32), v - (1 << 32) if v >= 1 << 31 else v)


def _hash_ir(builder, v):
    """LLVM IR of the draw hash of the i32 value ``v``, shifted to its top 24 bits."""
    for shift, mult in HASH32_ROUNDS:
        v = builder.xor(v, builder.lshr(v, _i32(shift)))
        v = builder.mul(v, _i32(mult))
    v = builder.xor(v, builder.lshr(v, _i32(HASH32_LAST)))
    return builder.lshr(v, _i32(32 - UNIT_BITS))


@intrinsic
def _draw(typingctx, x):
    """The uniform in [0, 1) of a 32-bit counter ``x`` (customer index + stream key).

    Written in LLVM IR so that every operation stays 32 bits wide: Numba widens
    uint32 arithmetic to 64 bits, and 64-bit multiplies have no vector instruction
    before AVX-512 (the block pass would not be vectorised). The top 24 bits of the
    hash, as a signed 32-bit int, convert exactly to float64 with one instruction.
    """
    if x != types.uint32:
        return None

    def codegen(context, builder, sig, args):
        d = builder.sitofp(_hash_ir(builder, args[0]), ir.DoubleType())
        return builder.fmul(d, ir.Constant(ir.DoubleType(), 2.0 ** -UNIT_BITS))

    return types.float64(types.uint32), codegen


@intrinsic
def _draw_int(typingctx, x):
    """The integer ``m`` of the uniform ``u = m 2**-24`` of counter ``x`` (see ``_draw``):
    ``u < p`` is ``m < _threshold(p)``, a 32-bit integer compare."""
    if x != types.uint32:
        return None

    def codegen(context, builder, sig, args):
        return _hash_ir(builder, args[0])

    return types.int32(types.uint32), codegen


@njit(inline="always")
def _uniform(i, k):
    """The uniform of customer ``i`` in the stream with 32-bit key ``k``."""
    return _draw(np.uint32(np.uint32(i) + k))


@njit
def uniforms(key, n, stream):
    """The uniforms of ``stream`` for customers ``0..n-1`` under ``key`` (for tests)."""
    k = _stream_keys(key)[stream]
    out = np.empty(n)
    for i in range(n):
        out[i] = _uniform(i, k)
    return out


# ---------------------------------------------------------------------------- pieces
@njit(inline="always")
def _gate(x, center, slope):
    return 1.0 / (1.0 + math.exp(-slope * (x - center)))


@njit(inline="always")
def _digital_seen(firm, m, shared, adopted, par):
    """Digital quality customer sees at firm m: d (1 + pi shared), capped at 1, times exclusion."""
    de = firm[m, F_DIGITAL] * (1.0 + firm[m, F_PERSONAL] * shared)
    if de > 1.0:
        de = 1.0
    if adopted == 0:
        de *= par[P_EXCLUSION]
    return de


@njit(inline="always")
def _utility(firm, m, current, shared, adopted, phi, w, alpha, par):
    sh = shared if m == current else 0
    x = _digital_seen(firm, m, sh, adopted, par) - par[P_EXPECTATION]
    ud = 0.0  # non-adopters do not use digital channels, so do not value them
    if adopted != 0:
        # a shortfall below E costs more than proportionally (digital is the entry
        # ticket); a lead above E earns linearly, at a reduced weight (commodity)
        ud = par[P_BETA_DIGITAL] * (-x * x if x < 0.0 else par[P_DIGITAL_GAIN] * x)
    h = firm[m, F_HUMAN]
    if adopted == 0:
        phi = 1.0  # every contact of a non-adopter is a human one
    u = (ud + par[P_BETA_HUMAN] * phi * h
         + par[P_BETA_EMOTION] * w * h * _gate(x, par[P_GATE_CENTER], par[P_GATE_SLOPE])
         - alpha * firm[m, F_PRICE] + par[P_BETA_REP] * firm[m, F_REPUTATION])
    if m == current:
        u += par[P_INERTIA]
    return u


@njit(inline="always")
def _logit_draw(firm, util, umax, r):
    """Inverse-CDF draw with uniform ``r`` from the utilities ``util`` of the alive firms
    (max-subtracted with ``umax``, so exp never overflows); ``NO_FIRM`` if none is alive."""
    n_firms = firm.shape[0]
    total = 0.0
    for m in range(n_firms):
        if firm[m, F_ALIVE] > 0.0:
            util[m] = math.exp(util[m] - umax)
            total += util[m]
    target = r * total
    acc = 0.0
    last = NO_FIRM
    for m in range(n_firms):
        if firm[m, F_ALIVE] > 0.0:
            acc += util[m]
            last = m
            if target < acc:
                return m
    return last


@njit(inline="always")
def _choose(firm, current, shared, adopted, phi, w, alpha, par, r, util):
    """Multinomial logit choice among alive firms (max-subtracted), one uniform ``r``."""
    n_firms = firm.shape[0]
    umax = -np.inf
    for m in range(n_firms):
        if firm[m, F_ALIVE] > 0.0:
            u = _utility(firm, m, current, shared, adopted, phi, w, alpha, par)
            util[m] = u
            if u > umax:
                umax = u
    return _logit_draw(firm, util, umax, r)


@njit(inline="always")
def _clip01(x):
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


# float32 constants: a float literal is float64 in Numba and would widen float32 arithmetic
_F0, _F1, _FHALF, _F10 = np.float32(0.0), np.float32(1.0), np.float32(0.5), np.float32(10.0)
_FUNIT = np.float32(2.0 ** -24)


@njit(inline="always")
def _clip01_f32(x):
    return _F0 if x < _F0 else (_F1 if x > _F1 else x)


# ----------------------------------------------------------------- per-step tables
# Columns of the per-firm table (row 0: no firm, row m + 1: firm m). The columns
# DX, EMO, GATE and UD hold 4 entries each, indexed by s = 2 * shared + adopted.
FT_DX, FT_EMO, FT_GATE, FT_UD = 0, 4, 8, 12
FT_H, FT_FAIR, FT_STEER, FT_NOTICE, FT_AVAIL, FT_IV = 16, 17, 18, 19, 20, 21

#: Customers per block. The vectorised pass writes a block's results to stack
#: buffers (about 64 bytes per customer), which must stay in the L1 cache.
BLOCK = 256
#: Parallel calls of :func:`_work` per step (at least the number of threads).
N_WORKERS = 256

# Bits of the per-customer flags the vectorised pass leaves for the scalar passes.
B_CONTACTED, B_WANTS, B_HUMAN, B_NOTICED, B_PUSHED, B_PENDING, B_REVIEWS = 1, 2, 4, 8, 16, 32, 64
#: Relative margin of the review bound (see ``_exp_neg``), far above its error (~1e-3).
REVIEW_MARGIN = 0.03

# Per-chunk accumulators. Float sums: ``acc[row * 8 + A_*]``, rows 0 (no firm),
# 1..F (firms), then one row per segment. Int64 counts ``cnt``, with n1 = F + 1:
# [0, 32 n1) service contacts by (firm row, flag bits & 31); [32 n1, 33 n1) churn
# and [33 n1, 34 n1) summed tenure by firm row; [34 n1, 66 n1) customers by (firm
# row, shared | adopted << 1 | disengaged << 2 | promoter << 3 | detractor << 4);
# then customers by (segment, disengaged | adopted << 1). Counting bit patterns
# turns six count tallies into one increment.
A_TRUST, A_ENGAGEMENT, A_SATISFACTION, A_FREEDOM, A_INFLUENCE, A_FAIRNESS, A_ALPHA, A_EFFORT = range(8)
N_ACC = 8
C_CHURN, C_TENURE, C_STATE, C_SEGMENT = 32, 33, 34, 66
_U1, _U2, _U3, _U4, _U8, _U32 = (np.uint64(v) for v in (1, 2, 3, 4, 8, 32))
_UC_CHURN, _UC_TENURE, _UC_STATE, _UC_SEGMENT = (np.uint64(v) for v in (C_CHURN, C_TENURE, C_STATE,
                                                                         C_SEGMENT))


@njit(inline="always")
def _threshold(p):
    """The integer ``T`` with ``u < p`` exactly when ``m < T``, for every draw ``u = m 2**-24``.

    ``p 2**24`` is exact in float64 (a power-of-two scaling), and an integer ``m``
    is below it exactly when it is below its ceiling; clamped to [0, 2**24].
    """
    return min(max(np.ceil(p * UNIT_SCALE), 0.0), UNIT_SCALE)


@njit(inline="always")
def _exp_neg(a):
    """exp(-a) for 0 <= a <= 64 in float32, to about 1e-3 (vectorisable; only a bound's estimate).

    exp(-a) = exp(-a / 64) ** 64: a degree-6 Taylor polynomial on [0, 1], squared six times.
    """
    x = a * np.float32(1.0 / 64.0)
    g = _F1 + x * (-_F1 + x * (_FHALF + x * (np.float32(-1.0 / 6.0) + x * (np.float32(1.0 / 24.0) + x * (
        np.float32(-1.0 / 120.0) + x * np.float32(1.0 / 720.0))))))
    for _ in range(6):
        g = g * g
    return g


@njit(inline="always")
def _state_bits(shared, adopted, disengaged, score):
    """The bit pattern counted per firm: shared | adopted << 1 | disengaged << 2 | promoter << 3
    | detractor << 4 (a promoter scores 9-10, a detractor 0-6)."""
    return (np.uint8(shared != 0) | (np.uint8(adopted) << 1) | (np.uint8(disengaged) << 2)
            | (np.uint8(score >= 9) << 3) | (np.uint8(score <= 6) << 4))


@njit(inline="always")
def _f32_at_least(x):
    """The least float32 ``y`` with ``y >= x``: for a float32 ``v``, ``v >= x`` is ``v >= y``."""
    y = np.float32(x)
    if np.float64(y) < x:
        y = np.nextafter(y, np.float32(np.inf))
    return y


@njit(cache=True)
def _firm_table(par, firm, interv):
    """This step's per-firm quantities that do not depend on the customer.

    Computed with the same operations as the per-customer formulas, so looking
    them up gives identical results; the gate of the digital gap costs one ``exp``,
    now 4 per firm and step instead of one per customer.

    Returns float64[F + 1, FT_IV + n_forms + 1]; row 0 (no firm) is zero.
    """
    n_firms = firm.shape[0]
    n_forms = interv.shape[1]
    ft = np.zeros((n_firms + 1, FT_IV + n_forms + 1))
    for m in range(n_firms):
        row = ft[m + 1]
        h = firm[m, F_HUMAN]
        for sh in range(2):
            for ad in range(2):
                s = 2 * sh + ad
                dx = _digital_seen(firm, m, sh, ad, par)
                x = dx - par[P_EXPECTATION]
                g = _gate(x, par[P_GATE_CENTER], par[P_GATE_SLOPE])
                row[FT_DX + s] = dx
                row[FT_EMO + s] = h * g
                row[FT_GATE + s] = g
                ud = 0.0
                if ad != 0:
                    ud = par[P_BETA_DIGITAL] * (-x * x if x < 0.0 else par[P_DIGITAL_GAIN] * x)
                row[FT_UD + s] = ud
        row[FT_H] = h
        row[FT_FAIR] = _clip01(1.0 - par[P_FAIR_SLOPE] * (firm[m, F_PRICE] / par[P_MEAN_PRICE] - 1.0))
        # "mode != none and u < p" is "u < p" with p = 0 without steering (u >= 0)
        row[FT_STEER] = _threshold(firm[m, F_STEER_P] if firm[m, F_STEER_MODE] != STEER_NONE else 0.0)
        # a hard-steered customer always notices: u < 1 holds for every draw u
        row[FT_NOTICE] = _threshold(1.0 if firm[m, F_STEER_MODE] == STEER_HARD else par[P_NOTICE_SOFT])
        row[FT_AVAIL] = _threshold(firm[m, F_AVAIL])
        for f in range(n_forms):
            row[FT_IV + f] = interv[m, f]
    return ft


@njit(inline="always")
def _choose_table(firm, ft, current, shared, adopted, phi, w, alpha, par, r, util):
    """:func:`_choose` with the gate and digital utility looked up in the firm table."""
    n_firms = firm.shape[0]
    if adopted == 0:
        phi = 1.0
    bh = par[P_BETA_HUMAN] * phi
    be = par[P_BETA_EMOTION] * w
    umax = -np.inf
    for m in range(n_firms):
        if firm[m, F_ALIVE] > 0.0:
            s = adopted + 2 * shared if m == current else adopted
            h = firm[m, F_HUMAN]
            u = (ft[m + 1, FT_UD + s] + bh * h + be * h * ft[m + 1, FT_GATE + s]
                 - alpha * firm[m, F_PRICE] + par[P_BETA_REP] * firm[m, F_REPUTATION])
            if m == current:
                u += par[P_INERTIA]
            util[m] = u
            if u > umax:
                umax = u
    return _logit_draw(firm, util, umax, r)


@intrinsic
def _stack_array(typingctx, n, dtype):
    """A C-contiguous 1-D array of ``n`` (a literal int) items of ``dtype`` on the stack.

    LLVM knows that a stack buffer cannot overlap the function's array arguments,
    so a loop that reads arguments and writes only stack buffers needs no run-time
    overlap checks and can be vectorised (Numba has no ``noalias`` for arguments).
    The array must not outlive the function that creates it, nor be passed on.
    """
    if not isinstance(n, types.IntegerLiteral):
        return None
    size = n.literal_value
    dt = dtype.instance_type if isinstance(dtype, types.NumberClass) else dtype.dtype
    arrty = types.Array(dt, 1, "C")

    def codegen(context, builder, sig, args):
        lty = context.get_data_type(dt)
        ptr = cgutils.alloca_once(builder, lty, size=size)
        ary = context.make_array(arrty)(context, builder)
        itemsize = context.get_abi_sizeof(lty)
        intp = context.get_value_type(types.intp)
        context.populate_array(ary, data=ptr, shape=[intp(size)], strides=[intp(itemsize)],
                               itemsize=intp(itemsize), meminfo=None)
        return ary._getvalue()

    return arrty(n, dtype), codegen


@intrinsic
def _prefer_512(typingctx):
    """Let LLVM vectorise the calling function with 512-bit registers where it has them.

    LLVM's x86 tuning prefers 256-bit vectors; the vectorised pass is limited by
    its vector instructions (64-bit multiplies of the hash above all), and 512-bit
    registers do 8 customers per instruction instead of 4 (-20% step time on an
    AVX-512 machine, see benchmarks/README.md). Without AVX-512 the attribute does
    nothing. It sets the LLVM function attribute ``prefer-vector-width``, which
    llvmlite's attribute set does not list, hence ``set.add``.
    """

    def codegen(context, builder, sig, args):
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()
    return types.none(), codegen


@njit
def _chunk(ks, lo, hi, par, ft, ftf, fti, firm, traits, state, small, provider, tenure, acc, cnt, util):
    """The step of customers ``lo:hi``, block by block, adding to the chunk's accumulators.

    Per block of at most ``BLOCK`` customers:

    1. scalar: the firm-table entries of each customer's provider are copied to
       stack buffers (a gather; vector gathers are slow on many CPUs, and LLVM then
       declines to vectorise the whole pass).
    2. vectorised and branch-free: every phase except the review and choice; each
       conditional update of the reference is a select; every uniform a customer
       might need is drawn (draws are pure functions of the counter, so an unused
       draw changes nothing). Results go to stack buffers, assuming the customer
       stays; customers without a provider, or whose review draw is below the
       hazard bound, are flagged pending.
    3. scalar, pending customers only (about 6%, listed first by a branch-free
       compaction): review, logit choice, and the reset of those who switch.
    4. the new state is copied out.
    5. scalar: service tallies at the serving firm, state tallies at the final
       provider and segment.

    Arrays are indexed with unsigned integers: Numba then emits no negative-index
    wraparound, which would cost a compare and a select per access.
    """
    _prefer_512()
    g_dx = _stack_array(BLOCK, np.float32)
    g_emo = _stack_array(BLOCK, np.float32)
    g_h = _stack_array(BLOCK, np.float32)
    g_steer = _stack_array(BLOCK, np.int32)
    g_notice = _stack_array(BLOCK, np.int32)
    g_avail = _stack_array(BLOCK, np.int32)
    dbits = _stack_array(BLOCK, np.uint8)
    noise_m = _stack_array(BLOCK, np.int32)
    m_review = _stack_array(BLOCK, np.int32)
    g_fair = _stack_array(BLOCK, np.float32)
    g_iv = _stack_array(BLOCK, np.float32)
    tau_o = _stack_array(BLOCK, np.float32)
    eng_o = _stack_array(BLOCK, np.float32)
    sat_o = _stack_array(BLOCK, np.float32)
    effort = _stack_array(BLOCK, np.float32)
    free_o = _stack_array(BLOCK, np.float32)
    infl_o = _stack_array(BLOCK, np.float32)
    fair_o = _stack_array(BLOCK, np.float32)
    alpha_o = _stack_array(BLOCK, np.float32)
    shared_o = _stack_array(BLOCK, np.int8)
    adopted_o = _stack_array(BLOCK, np.int8)
    score_o = _stack_array(BLOCK, np.int8)
    tenure_o = _stack_array(BLOCK, np.int32)
    flags = _stack_array(BLOCK, np.uint8)
    sbits = _stack_array(BLOCK, np.uint8)
    prov0 = _stack_array(BLOCK, np.int16)
    pend = _stack_array(BLOCK, np.int64)
    lit_ = traits[LITERACY]
    phi_ = traits[HUMAN_PREF]
    w_ = traits[AFFINITY]
    priv_ = traits[PRIVACY]
    a0_ = traits[ALPHA0]
    tau_ = state[TRUST]
    eng_ = state[ENGAGEMENT]
    sat_ = state[SATISFACTION]
    free_ = state[FREEDOM]
    infl_ = state[INFLUENCE]
    fair_ = state[FAIRNESS]
    alpha_ = state[ALPHA]
    shared_ = small[SHARED]
    adopted_ = small[ADOPTED]
    score_ = small[SCORE]
    form_ = small[FORM]
    seg_ = small[SEGMENT]
    nt = np.uint64(ft.shape[1])
    n_forms = np.int64(ft.shape[1] - FT_IV - 1)
    n1 = np.uint64(ft.shape[0])
    k_adopt = ks[R_ADOPT]
    k_contact = ks[R_CONTACT]
    k_want = ks[R_WANT_HUMAN]
    k_steer = ks[R_STEER]
    k_notice = ks[R_NOTICE]
    k_avail = ks[R_AVAIL]
    k_review = ks[R_REVIEW]
    k_choice = ks[R_CHOICE]
    k_score = ks[R_SCORE]
    k_score2 = ks[R_SCORE2]
    thr = par[P_LIT_THRESHOLD]
    p_adopt = par[P_ADOPT_PROB]
    p_contact = par[P_CONTACT]
    # the state update is float32 arithmetic (as stored; twice the vector lanes of float64)
    e = np.float32(par[P_EXPECTATION])
    hexp = np.float32(par[P_HUMAN_EXP])
    thum = np.float32(par[P_TRUST_HUMAN])
    infd = np.float32(par[P_INFLUENCE_DIGITAL])
    gain = np.float32(par[P_TRUST_GAIN])
    loss = np.float32(par[P_TRUST_LOSS])
    smem = np.float32(par[P_SAT_MEMORY])
    irate = np.float32(par[P_INFLUENCE_RATE])
    erate = np.float32(par[P_ENG_RATE])
    dis = np.float32(par[P_DISENGAGE])
    sfree = np.float32(par[P_STEER_FREEDOM])
    strust = np.float32(par[P_STEER_TRUST])
    decay = np.float32(par[P_ENG_DECAY])
    recov = np.float32(par[P_FREEDOM_RECOVERY])
    frate = np.float32(par[P_FAIR_RATE])
    ftrust = np.float32(par[P_FAIR_TRUST])
    c1 = np.float32(1.0 + par[P_ALPHA_COMMODITY] * par[P_COMMODITY])
    ae = np.float32(par[P_ALPHA_ENG])
    at = np.float32(par[P_ALPHA_TRUST])
    hz = par[P_HAZARD]
    rs = np.float32(par[P_REC_SAT])
    rt = np.float32(par[P_REC_TRUST])
    re = np.float32(par[P_REC_ENG])
    roff = np.float32(par[P_REC_OFFSET])
    noise = np.float32(par[P_REC_NOISE])
    tau_init = np.float32(par[P_TRUST_INIT])
    carry = np.float32(par[P_CARRY_ENG])
    below = par[P_DISENGAGED_BELOW]
    t_adopt = np.int32(_threshold(p_adopt))
    t_contact = np.int32(_threshold(p_contact))
    hz32 = np.float32(hz)
    ht32 = np.float32(par[P_HAZARD_TRUST])
    he32 = np.float32(par[P_HAZARD_ENG])
    lo_margin = np.float32(1.0 - REVIEW_MARGIN)
    hi_margin = np.float32(1.0 + REVIEW_MARGIN)
    thr32 = _f32_at_least(thr)
    below32 = _f32_at_least(below)
    scale32 = np.float32(UNIT_SCALE)
    for b0 in range(lo, hi, BLOCK):
        nb = min(BLOCK, hi - b0)
        ub = np.uint64(b0)
        # ---- 1. the draws that do not depend on the firm, as integer compares
        #         (8 customers per 256-bit vector); adoption first: digital quality seen depends on it
        for t in range(nb):
            ix = ub + np.uint64(t)
            i32 = np.uint32(ix)
            adopted_o[t] = (adopted_[ix] != 0) | ((lit_[ix] >= thr32)
                                                  & (_draw_int(np.uint32(i32 + k_adopt)) < t_adopt))
            d_contact = _draw_int(np.uint32(i32 + k_contact)) < t_contact
            d_want = _draw_int(np.uint32(i32 + k_want)) < np.int32(min(np.ceil(phi_[ix] * scale32), scale32))
            m_review[t] = _draw_int(np.uint32(i32 + k_review))
            dbits[t] = (np.uint8(d_contact) << 1) | (np.uint8(d_want) << 2)
            # u1 + u2 - 1 of the score noise is (m1 + m2 - 2**24) 2**-24, exactly
            noise_m[t] = (_draw_int(np.uint32(i32 + k_score)) + _draw_int(np.uint32(i32 + k_score2))
                          - np.int32(1 << UNIT_BITS))
        # ---- 2. the firm-table entries of each customer's provider (row 0: none), scalar
        for t in range(nb):
            ix = ub + np.uint64(t)
            j = np.int64(provider[ix])
            prov0[t] = j
            row = np.uint64(j + 1) * nt
            rsa = row + np.uint64(2 * np.int64(shared_[ix]) + np.int64(adopted_o[t]))
            g_dx[t] = ftf[rsa + np.uint64(FT_DX)]
            g_emo[t] = ftf[rsa + np.uint64(FT_EMO)]
            g_h[t] = ftf[row + np.uint64(FT_H)]
            g_steer[t] = fti[row + np.uint64(FT_STEER)]
            g_notice[t] = fti[row + np.uint64(FT_NOTICE)]
            g_avail[t] = fti[row + np.uint64(FT_AVAIL)]
            g_fair[t] = ftf[row + np.uint64(FT_FAIR)]
            g_iv[t] = ftf[row + np.uint64(FT_IV) + np.uint64(form_[ix])]
        # ---- 2b. the draws compared with the firm's probabilities
        for t in range(nb):
            i32 = np.uint32(ub + np.uint64(t))
            d_steer = _draw_int(np.uint32(i32 + k_steer)) < g_steer[t]
            d_notice = _draw_int(np.uint32(i32 + k_notice)) < g_notice[t]
            d_avail = _draw_int(np.uint32(i32 + k_avail)) < g_avail[t]
            dbits[t] |= (np.uint8(d_steer) << 3) | (np.uint8(d_notice) << 4) | (np.uint8(d_avail) << 5)
        # ---- 3. vectorised and branch-free: the state update
        for t in range(nb):
            ix = ub + np.uint64(t)
            db = dbits[t]
            has = prov0[t] != NO_FIRM
            w = w_[ix]
            tau = tau_[ix]
            eng = eng_[ix]
            sat = sat_[ix]
            free = free_[ix]
            infl = infl_[ix]
            fair = fair_[ix]
            shared = np.int32(shared_[ix])
            adopted = adopted_o[t] != 0
            dx = g_dx[t]
            emo = g_emo[t]
            h = g_h[t]
            # contact and channel
            contacted = has & ((db & 2) != 0)
            wants = contacted & ((not adopted) | ((db & 4) != 0))
            steered = wants & ((db & 8) != 0)
            noticed = steered & ((db & 16) != 0)
            human = wants & (not steered) & ((db & 32) != 0)
            pushed = wants & (not human)
            # experience and disconfirmation
            q = h if human else dx
            delta = (h - hexp + thum) if human else (dx - e)
            heard = h if human else dx * infd
            # trust (asymmetric), satisfaction, influence, engagement
            up = tau + gain * min(delta, _F1) * (_F1 - tau)
            down = tau + loss * max(delta, -_F1) * tau
            tau_c = up if delta > _F0 else down
            sat_c = sat + smem * (q - sat)
            infl_c = infl + irate * (heard - infl)
            eng_c = eng + erate * (w * emo - eng)
            if pushed & (not adopted):
                eng_c = eng_c - dis * eng_c
            free_c = free
            if noticed:
                free_c = free - sfree * free
                tau_c = tau_c - strust * tau_c
            if not contacted:
                tau_c = tau
                sat_c = sat
                infl_c = infl
                eng_c = eng - decay * eng
            if not noticed:
                free_c = free_c + recov * (_F1 - free_c)
            # fairness, interventions, clipping, data sharing
            fair_c = fair + frate * (g_fair[t] - fair)
            if fair_c < _FHALF:
                tau_c = tau_c - ftrust * (_FHALF - fair_c) * tau_c
            if np.int64(form_[ix]) < n_forms:
                eng_c = eng_c + w * g_iv[t] * (_F1 - eng_c)
            tau_c = _clip01_f32(tau_c)
            eng_c = _clip01_f32(eng_c)
            if has:
                tau = tau_c
                eng = eng_c
                sat = sat_c
                free = free_c
                infl = infl_c
                fair = fair_c
                shared = 1 if tau_c > priv_[ix] else 0
            # price sensitivity; review decided in pass 3; recommendation
            alpha = a0_[ix] * c1 * (_F1 - ae * eng) * (_F1 - at * tau)
            # review: u < hz exp(-k_tau tau - k_e eng), decided here unless u is within the
            # margin of an approximation of the bound; those, and the sure reviews, are pending
            u_rev = np.float32(m_review[t]) * _FUNIT
            hb = hz32 * _exp_neg(ht32 * tau + he32 * eng)
            reviews = u_rev < hb * lo_margin
            pending = (not has) | (u_rev < hb * hi_margin)
            x = (_F10 * (rs * sat + rt * tau + re * eng) + roff + _FHALF
                 + noise * (np.float32(noise_m[t]) * _FUNIT))
            tau_o[t] = tau
            eng_o[t] = eng
            sat_o[t] = sat
            free_o[t] = free
            infl_o[t] = infl
            fair_o[t] = fair
            alpha_o[t] = alpha
            shared_o[t] = shared
            score = np.int32(min(max(x, _F0), _F10))
            score_o[t] = score
            sbits[t] = _state_bits(shared, adopted, eng < below32, score)
            tenure_o[t] = tenure[ix] + 1
            effort[t] = (_F1 - q) if contacted else _F0
            flags[t] = ((B_CONTACTED if contacted else 0) | (B_WANTS if wants else 0)
                        | (B_HUMAN if human else 0) | (B_NOTICED if noticed else 0)
                        | (B_PUSHED if pushed else 0) | (B_PENDING if pending else 0)
                        | (B_REVIEWS if reviews else 0))
        # ---- 4. review and choice of pending customers (branch-free compaction first)
        n_pend = 0
        for t in range(nb):
            pend[n_pend] = t
            n_pend += (flags[t] >> 5) & 1
        for p in range(n_pend):
            t = pend[p]
            ix = ub + np.uint64(t)
            i32 = np.uint32(ix)
            j = np.int64(prov0[t])
            tau = tau_o[t]
            eng = eng_o[t]
            review = (j == NO_FIRM) | ((flags[t] & B_REVIEWS) != 0)
            if not review:
                review = _uniform(i32, k_review) < hz * math.exp(
                    -par[P_HAZARD_TRUST] * np.float64(tau) - par[P_HAZARD_ENG] * np.float64(eng))
            if review:
                k = _choose_table(firm, ft, j, np.int64(shared_o[t]), np.int64(adopted_o[t]),
                                  np.float64(phi_[ix]), np.float64(w_[ix]), np.float64(alpha_o[t]), par,
                                  _uniform(i32, k_choice), util)
                if k != j:
                    cnt[_UC_CHURN * n1 + np.uint64(j + 1)] += 1
                    tau = tau_init
                    eng = eng * carry
                    x = (_F10 * (rs * sat_o[t] + rt * tau + re * eng) + roff + _FHALF
                         + noise * (np.float32(noise_m[t]) * _FUNIT))
                    provider[ix] = k
                    tau_o[t] = tau
                    eng_o[t] = eng
                    shared_o[t] = 0
                    score = np.int32(min(max(x, _F0), _F10))
                    score_o[t] = score
                    sbits[t] = _state_bits(0, adopted_o[t] != 0, eng < below32, score)
                    tenure_o[t] = 1
        # ---- 5. write the new state
        for t in range(nb):
            tau_[ub + np.uint64(t)] = tau_o[t]
        for t in range(nb):
            eng_[ub + np.uint64(t)] = eng_o[t]
        for t in range(nb):
            sat_[ub + np.uint64(t)] = sat_o[t]
        for t in range(nb):
            free_[ub + np.uint64(t)] = free_o[t]
        for t in range(nb):
            infl_[ub + np.uint64(t)] = infl_o[t]
        for t in range(nb):
            fair_[ub + np.uint64(t)] = fair_o[t]
        for t in range(nb):
            alpha_[ub + np.uint64(t)] = alpha_o[t]
        for t in range(nb):
            shared_[ub + np.uint64(t)] = shared_o[t]
        for t in range(nb):
            adopted_[ub + np.uint64(t)] = adopted_o[t]
        for t in range(nb):
            score_[ub + np.uint64(t)] = score_o[t]
        for t in range(nb):
            tenure[ub + np.uint64(t)] = tenure_o[t]
        # ---- 6. tallies at the serving and the final provider (row 0: none) and segment.
        # A block within one segment (the population is built segment by segment, so all but
        # a few are) sums its segment values in registers, in customer order as ever.
        sg0 = seg_[ub]
        one_seg = True
        for t in range(1, nb):
            one_seg &= seg_[ub + np.uint64(t)] == sg0
        if one_seg:
            sg = np.uint64(sg0)
            r = (n1 + sg) * _U8
            s_eng = acc[r + np.uint64(A_ENGAGEMENT)]
            s_tau = acc[r + np.uint64(A_TRUST)]
            s_sat = acc[r + np.uint64(A_SATISFACTION)]
            n_dis = n_ad = n_both = 0
            for t in range(nb):
                _tally_firm(t, ub, n1, prov0, provider, flags, effort, sbits, tenure_o, tau_o, eng_o, sat_o,
                            free_o, infl_o, fair_o, alpha_o, acc, cnt)
                s_eng += eng_o[t]
                s_tau += tau_o[t]
                s_sat += sat_o[t]
                sb = np.int64(sbits[t])
                d = (sb >> 2) & 1
                a = (sb >> 1) & 1
                n_dis += d
                n_ad += a
                n_both += d & a
            acc[r + np.uint64(A_ENGAGEMENT)] = s_eng
            acc[r + np.uint64(A_TRUST)] = s_tau
            acc[r + np.uint64(A_SATISFACTION)] = s_sat
            c0 = _UC_SEGMENT * n1 + sg * _U4  # counts by disengaged | adopted << 1
            cnt[c0] += nb - n_dis - n_ad + n_both
            cnt[c0 + _U1] += n_dis - n_both
            cnt[c0 + _U2] += n_ad - n_both
            cnt[c0 + _U3] += n_both
        else:
            for t in range(nb):
                _tally_firm(t, ub, n1, prov0, provider, flags, effort, sbits, tenure_o, tau_o, eng_o, sat_o,
                            free_o, infl_o, fair_o, alpha_o, acc, cnt)
                sg = np.uint64(seg_[ub + np.uint64(t)])
                bits = np.uint64(sbits[t])
                r = (n1 + sg) * _U8
                acc[r + np.uint64(A_ENGAGEMENT)] += eng_o[t]
                acc[r + np.uint64(A_TRUST)] += tau_o[t]
                acc[r + np.uint64(A_SATISFACTION)] += sat_o[t]
                cnt[_UC_SEGMENT * n1 + sg * _U4 + (((bits >> _U2) & _U1) | (bits & _U2))] += 1


@njit(inline="always")
def _tally_firm(t, ub, n1, prov0, provider, flags, effort, sbits, tenure_o, tau_o, eng_o, sat_o, free_o,
                infl_o, fair_o, alpha_o, acc, cnt):
    """Customer ``t`` of the block: service tallies at the serving firm, state at the final one."""
    j1 = np.uint64(np.int64(prov0[t]) + 1)
    cnt[j1 * _U32 + np.uint64(flags[t] & 31)] += 1
    acc[j1 * _U8 + np.uint64(A_EFFORT)] += effort[t]
    k1 = np.uint64(np.int64(provider[ub + np.uint64(t)]) + 1)
    cnt[_UC_STATE * n1 + k1 * _U32 + np.uint64(sbits[t])] += 1
    cnt[_UC_TENURE * n1 + k1] += tenure_o[t]
    r = k1 * _U8
    acc[r + np.uint64(A_TRUST)] += tau_o[t]
    acc[r + np.uint64(A_ENGAGEMENT)] += eng_o[t]
    acc[r + np.uint64(A_SATISFACTION)] += sat_o[t]
    acc[r + np.uint64(A_FREEDOM)] += free_o[t]
    acc[r + np.uint64(A_INFLUENCE)] += infl_o[t]
    acc[r + np.uint64(A_FAIRNESS)] += fair_o[t]
    acc[r + np.uint64(A_ALPHA)] += alpha_o[t]


@intrinsic
def _take_next(typingctx, counter):
    """Atomically add 1 to ``counter[0]`` (int64) and return its previous value."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.atomic_rmw("add", ary.data, context.get_constant(types.int64, 1), "seq_cst")

    return types.int64(counter), codegen


@njit
def _work(next_chunk, ks, par, ft, ftf, fti, firm, traits, state, small, provider, tenure, bounds, tally,
          seg_tally):
    """One thread's share of a step: take the next chunk until none is left.

    Chunks go to whichever thread is free (an atomic counter), so a thread slowed by
    other work on its core does less of the step; what a chunk computes and where it
    writes its tallies do not depend on the thread, so results stay identical.
    """
    n_chunks = bounds.shape[0] - 1
    c = _take_next(next_chunk)
    if c >= n_chunks:
        return
    n_firms = firm.shape[0]
    util = np.empty(n_firms)
    acc = np.empty((n_firms + 1 + seg_tally.shape[1]) * N_ACC)
    cnt = np.empty((n_firms + 1) * C_SEGMENT + 4 * seg_tally.shape[1], np.int64)
    while c < n_chunks:
        acc[:] = 0.0
        cnt[:] = 0
        _chunk(ks, bounds[c], bounds[c + 1], par, ft, ftf, fti, firm, traits, state, small, provider,
               tenure, acc, cnt, util)
        _finish_tally(acc, cnt, tally[c], seg_tally[c])
        c = _take_next(next_chunk)


@njit
def _finish_tally(acc, cnt, tal, stal):
    """Turn a chunk's accumulators (see ``A_*``, ``C_*``) into its tally rows."""
    n_firms = tal.shape[0]
    n1 = n_firms + 1
    tal[:, :] = 0.0
    stal[:, :] = 0.0
    for m in range(n_firms):
        r = m + 1
        for bits in range(32):
            n = np.float64(cnt[C_STATE * n1 + r * 32 + bits])
            tal[m, T_CUSTOMERS] += n
            tal[m, T_SHARED] += n * (bits & 1)
            tal[m, T_ADOPTED] += n * ((bits >> 1) & 1)
            tal[m, T_DISENGAGED] += n * ((bits >> 2) & 1)
            tal[m, T_PROMOTERS] += n * ((bits >> 3) & 1)
            tal[m, T_DETRACTORS] += n * ((bits >> 4) & 1)
            if bits & B_CONTACTED:
                n = np.float64(cnt[r * 32 + bits])
                tal[m, T_CONTACTS] += n
                tal[m, T_WANTED_HUMAN] += n * ((bits & B_WANTS) != 0)
                tal[m, T_HUMAN] += n * ((bits & B_HUMAN) != 0)
                tal[m, T_NOTICED] += n * ((bits & B_NOTICED) != 0)
                tal[m, T_PUSHED] += n * ((bits & B_PUSHED) != 0)
        tal[m, T_CHURN] = cnt[C_CHURN * n1 + r]
        tal[m, T_TENURE] = cnt[C_TENURE * n1 + r]
        tal[m, T_EFFORT] = acc[r * N_ACC + A_EFFORT]
        tal[m, T_TRUST] = acc[r * N_ACC + A_TRUST]
        tal[m, T_ENGAGEMENT] = acc[r * N_ACC + A_ENGAGEMENT]
        tal[m, T_SATISFACTION] = acc[r * N_ACC + A_SATISFACTION]
        tal[m, T_FREEDOM] = acc[r * N_ACC + A_FREEDOM]
        tal[m, T_INFLUENCE] = acc[r * N_ACC + A_INFLUENCE]
        tal[m, T_FAIRNESS] = acc[r * N_ACC + A_FAIRNESS]
        tal[m, T_ALPHA] = acc[r * N_ACC + A_ALPHA]
    for sg in range(stal.shape[0]):
        r = (n1 + sg) * N_ACC
        stal[sg, S_ENGAGEMENT] = acc[r + A_ENGAGEMENT]
        stal[sg, S_TRUST] = acc[r + A_TRUST]
        stal[sg, S_SATISFACTION] = acc[r + A_SATISFACTION]
        for bits in range(4):
            n = np.float64(cnt[C_SEGMENT * n1 + sg * 4 + bits])
            stal[sg, S_COUNT] += n
            stal[sg, S_DISENGAGED] += n * (bits & 1)
            stal[sg, S_ADOPTED] += n * (bits >> 1)


# --------------------------------------------------------------------------- kernels
@njit(parallel=True, cache=True)
def customer_step(key, par, firm, interv, traits, state, small, provider, tenure, bounds,
                  tally, seg_tally):
    """Advance every customer one step and tally the result per chunk.

    Parameters
    ----------
    key : uint64
        Step key (:func:`step_key`).
    par : float64[N_PARAMS]
        Market parameters and this step's market state (``P_*``).
    firm : float64[F, N_FIRM_COLS]
        Firm columns (``F_*``); ``F_ALIVE`` > 0 marks firms customers can choose.
    interv : float64[F, 3]
        Per step pull of engagement toward 1 for customers preferring each form.
    traits : float32[N_TRAITS, N]; state : float32[N_STATE, N]; small : int8[N_SMALL, N]
    provider : int16[N] (``NO_FIRM`` = must choose); tenure : int32[N] (steps with provider)
    bounds : int64[C + 1]
        Chunk boundaries; chunk c is customers ``bounds[c]:bounds[c + 1]``.
    tally : float64[C, F, N_FIRM_TALLY]; seg_tally : float64[C, S, N_SEG_TALLY]
        Output, overwritten: per-chunk sums.

    The per-customer phases, in order: adoption, contact (channel, steering,
    availability), experience and disconfirmation, trust / satisfaction / influence
    / engagement / freedom / fairness, interventions, data sharing, price
    sensitivity, switching review and logit choice, tenure, recommendation score,
    tallies (the specification is :func:`sim.reference.step_customer`; how the
    work is split into passes is described in :func:`_chunk`, how chunks are
    shared between threads in :func:`_work`).
    """
    ks = _stream_keys(np.uint64(key))
    ft = _firm_table(par, firm, interv)
    ftf = ft.ravel().astype(np.float32)  # the entries the float32 update uses, rounded as it rounds them
    fti = ft.ravel().astype(np.int32)  # the draw thresholds (integers in the table)
    next_chunk = np.zeros(1, np.int64)
    # N_WORKERS calls are split statically over the threads; the first call on each
    # thread works until the chunks run out, the others return at once
    for _ in prange(N_WORKERS):
        _work(next_chunk, ks, par, ft, ftf, fti, firm, traits, state, small, provider, tenure, bounds,
              tally, seg_tally)


@njit(parallel=True, cache=True)
def assign_orphans(key, par, firm, traits, state, small, provider, bounds):
    """Customers with ``provider == NO_FIRM`` choose a firm by logit (no inertia).

    Used for the initial assignment; draws stream ``R_CHOICE`` of ``key``.
    """
    n_chunks = bounds.shape[0] - 1
    k_choice = _stream_keys(np.uint64(key))[R_CHOICE]
    for c in prange(n_chunks):
        util = np.empty(firm.shape[0])
        for i in range(bounds[c], bounds[c + 1]):
            if provider[i] == NO_FIRM:
                provider[i] = _choose(firm, NO_FIRM, 0, np.int64(small[ADOPTED, i]),
                                      np.float64(traits[HUMAN_PREF, i]),
                                      np.float64(traits[AFFINITY, i]),
                                      np.float64(state[ALPHA, i]), par,
                                      _uniform(i, k_choice), util)


def chunk_bounds(n: int, chunk: int = 8192) -> np.ndarray:
    """Fixed chunk boundaries for ``n`` customers (independent of the thread count)."""
    n_chunks = max(1, -(-n // chunk))
    return np.linspace(0, n, n_chunks + 1).astype(np.int64)
