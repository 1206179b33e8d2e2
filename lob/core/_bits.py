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

