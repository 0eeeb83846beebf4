"""LLVM-level helpers for the kernels: what Numba's Python subset cannot say.

Each is a Numba ``@intrinsic`` (code generated directly as LLVM IR), used only
inside compiled functions; why each is needed is in its docstring, and the
benchmark log (benchmarks/README.md) has what each gained.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils, errors
from numba.extending import intrinsic


def i32(v: int) -> ir.Constant:
    """An LLVM i32 constant of the unsigned 32-bit value ``v``."""
    return ir.Constant(ir.IntType(32), v - (1 << 32) if v >= 1 << 31 else v)


@intrinsic
def stack_array(typingctx, n, dtype):
    """A C-contiguous 1-D array of ``n`` (a literal int) items of ``dtype`` on the stack.

    LLVM knows that a stack buffer cannot overlap the function's array arguments,
    so a loop that reads arguments and writes only stack buffers needs no run-time
    overlap checks and can be vectorised (Numba has no ``noalias`` for arguments).
    The array must not outlive the function that creates it; it may be handed to
    helpers inlined into that function (``inline="always"``, or :func:`always_inline`).
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
def prefer_512(typingctx):
    """Let LLVM vectorise the calling function with 512-bit registers where it has them.

    LLVM's x86 tuning prefers 256-bit vectors; with AVX-512, 512-bit registers do
    twice the customers per instruction (-20% step time on an AVX-512 machine with
    the 64-bit hash of 2026-11; not re-measured since the hash is 32-bit). Without
    AVX-512 the attribute does nothing. It sets the LLVM function attribute
    ``prefer-vector-width``, which llvmlite's attribute set does not list, hence ``set.add``.
    """

    def codegen(context, builder, sig, args):
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()
    return types.none(), codegen


@intrinsic
def always_inline(typingctx):
    """Mark the calling function ``alwaysinline`` for LLVM.

    A function compiled (and cached) on its own, rather than inlined into its caller's
    Numba IR, is then still inlined by LLVM when the caller is linked with it (Numba keeps
    the bitcode of cached functions for that), so the caller's machine code has no call.
    """

    def codegen(context, builder, sig, args):
        builder.function.attributes.add("alwaysinline")
        return context.get_dummy_value()
    return types.none(), codegen


@intrinsic
def take_next(typingctx, counter):
    """Atomically add 1 to ``counter[0]`` (int64) and return its previous value."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.atomic_rmw("add", ary.data, context.get_constant(types.int64, 1), "seq_cst")

    return types.int64(counter), codegen


@intrinsic
def stack_matrix(typingctx, rows, cols, dtype):
    """A C-contiguous 2-D array of ``rows`` x ``cols`` (literal ints) items of ``dtype`` on the stack.

    As :func:`stack_array`, one buffer per row of a layout table (``m[St.TRUST, t]``): the
    kernel's per-state block buffers, so that a state row added to :mod:`sim.engine.layout`
    gets its buffer without a line of kernel code.
    """
    if not (isinstance(rows, types.IntegerLiteral) and isinstance(cols, types.IntegerLiteral)):
        return None
    n_rows, n_cols = rows.literal_value, cols.literal_value
    dt = dtype.instance_type if isinstance(dtype, types.NumberClass) else dtype.dtype
    arrty = types.Array(dt, 2, "C")

    def codegen(context, builder, sig, args):
        lty = context.get_data_type(dt)
        ptr = cgutils.alloca_once(builder, lty, size=n_rows * n_cols)
        ary = context.make_array(arrty)(context, builder)
        itemsize = context.get_abi_sizeof(lty)
        intp = context.get_value_type(types.intp)
        context.populate_array(ary, data=ptr, shape=[intp(n_rows), intp(n_cols)],
                               strides=[intp(itemsize * n_cols), intp(itemsize)], itemsize=intp(itemsize),
                               meminfo=None)
        return ary._getvalue()

    return arrty(rows, cols, dtype), codegen


@intrinsic
def add_column(typingctx, acc, off, m, t, n):
    """``acc[off:off + n] += m[:n, t]``, the float32 entries widened to float64, as one vector add.

    Each entry gets the IEEE addition it gets one by one (results identical); the tally pass
    adds a customer's state values (column ``t`` of the block's state buffers, one row per
    state of ``layout.St``) to its firm's row this way: one vector load-add-store instead of
    one scalar per state (-6% kernel time at 10^6 customers with eight states, benchmarks/
    README.md round 4). ``n`` (a literal int: the table's width) entries of ``acc`` from
    ``off`` must be contiguous (``layout.A``).
    """
    if not (isinstance(acc, types.Array) and acc.dtype == types.float64 and isinstance(m, types.Array)
            and m.ndim == 2 and m.dtype == types.float32 and isinstance(n, types.IntegerLiteral)):
        return None
    width = n.literal_value

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        mat = context.make_array(sig.args[2])(context, builder, args[2])
        ptr = builder.gep(ary.data, [args[1]])
        fv = ir.VectorType(ir.FloatType(), width)
        dv = ir.VectorType(ir.DoubleType(), width)
        col = context.cast(builder, args[3], sig.args[3], types.intp)
        v = ir.Constant(fv, None)
        for r in range(width):
            item = cgutils.get_item_pointer2(context, builder, mat.data, cgutils.unpack_tuple(builder, mat.shape, 2),
                                             cgutils.unpack_tuple(builder, mat.strides, 2), "C",
                                             [context.get_constant(types.intp, r), col])
            v = builder.insert_element(v, builder.load(item), i32(r))
        vp = builder.bitcast(ptr, dv.as_pointer())
        builder.store(builder.fadd(builder.load(vp, align=8), builder.fpext(v, dv)), vp, align=8)
        return context.get_dummy_value()

    return types.none(acc, off, m, t, n), codegen


def c_caller(sig):
    """An intrinsic ``call(address, args)`` that calls the compiled function at ``address`` with the
    values of the tuple ``args``: a Numba ``cfunc`` of signature ``sig`` (``None`` result), by its
    ``.address``.

    It lets a ``parallel=True`` launcher run a kernel on Numba's thread pool without linking the
    kernel into itself: calling a jitted function links its code into the caller, and the
    parallel lowering then optimises and compiles it all again (about a third of the cold start
    in 2026-12, benchmarks/README.md round 3), whereas a call through an address costs nothing to
    compile. Numba's own first-class function types do the same but build a type and look the
    address up in Python at every call (tens of microseconds). The argument types must be the
    signature's exactly: checked when the caller is compiled (a mismatch is a typing error, not
    a wrong call).
    """
    expected = tuple(sig.args)
    if sig.return_type not in (types.none, types.void):
        raise ValueError(f"c_caller: {sig} returns a value; only procedures are supported")

    @intrinsic
    def call(typingctx, address, args):
        if not (isinstance(address, types.Integer) and isinstance(args, types.BaseTuple)):
            return None
        if tuple(args.types) != expected:
            raise errors.TypingError(f"c_caller: arguments {tuple(args.types)} do not match the signature {sig}")

        def codegen(context, builder, signature, llargs):
            argtys = [context.get_value_type(t) for t in expected]
            fnty = ir.FunctionType(context.get_value_type(types.none), argtys)
            fn = builder.inttoptr(llargs[0], fnty.as_pointer())
            builder.call(fn, [builder.extract_value(llargs[1], i) for i in range(len(expected))])
            return context.get_dummy_value()

        return types.none(address, args), codegen

    return call
