"""Benchmark workloads shaped like real order flow.

``synthetic_l3(n, seed)`` builds the standard synthetic L3 stream: about 53%
passive limit orders placed a geometric distance (mean ``mean_depth`` ticks)
behind the same-side best, about 37% cancels of random live orders, about 10%
marketable orders that sweep 1-3 levels of the opposite side, with the live
order count held near ``target_live``.  The stream is generated *against the
engine itself* (each generated message is applied before the next is drawn),
so cancels name live orders and sweeps see the real top of book; the
resulting array is a plain message array that any engine can replay.
Deterministic for a seed.  Units: ticks, lots, ns.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..core import _kernel
from ..core._kernel import _best_level, _nth_level
from ..core._queries import _tables
from ..core import _layout as Y
from ..core import codes as C


@njit(cache=True, _nrt=False)
def _generate(arena, out, u, geo, target_live, mid0, p_improve, O, fcap, ecap):
    """Fill ``out`` (flat rows of 9) with messages drawn from the uniforms
    ``u`` (n, 6) and geometric depths ``geo`` (n,), applying each to the
    engine in ``arena`` (outputs into the scratch buffer ``O``)."""
    n = out.shape[0] // C.N_MSG
    orders, levels, chunks, books, ladder, htab = _tables(arena)
    ord_cap = orders.shape[0]
    next_id = 1
    i = 0
    while i < n:
        live = arena[Y.H_ORD_LIVE]
        u0, u1, u2, u3, u4, u5 = u[i, 0], u[i, 1], u[i, 2], u[i, 3], u[i, 4], u[i, 5]
        kind = 0 if u0 < 0.53 else (1 if u0 < 0.90 else 2)
        if kind == 0 and live > 1.03 * target_live:
            kind = 1
        elif kind == 1 and live < 0.97 * target_live:
            kind = 0
        if kind == 1 and live == 0:
            kind = 0
        side = 0 if u1 < 0.5 else 1
        out[i * C.N_MSG + C.M_TS] = i * 1000
        out[i * C.N_MSG + C.M_BOOK] = 0
        out[i * C.N_MSG + C.M_ACCT] = int(u2 * 64)
        out[i * C.N_MSG + C.M_STP] = 0
        if kind == 2:
            # marketable: sweep the top k levels of the other side, ending
            # part-way into the k-th
            os_ = 1 - side
            k = 1 + int(u3 * 3)
            q = 0
            lv = -1
            for j in range(k):
                nxt = _nth_level(books, chunks, ladder, 0, os_, j)
                if nxt < 0:
                    break
                if lv >= 0:
                    q += levels[lv, Y.L_QTY]
                lv = nxt
            if lv < 0:
                kind = 0
            else:
                q += 1 + int(u4 * levels[lv, Y.L_QTY])
                out[i * C.N_MSG + C.M_TYPE] = C.IOC if u5 < 0.5 else C.LIMIT
                out[i * C.N_MSG + C.M_SIDE] = side
                out[i * C.N_MSG + C.M_ID] = next_id
                next_id += 1
                out[i * C.N_MSG + C.M_PRICE] = levels[lv, Y.L_PRICE]
                out[i * C.N_MSG + C.M_QTY] = q
        if kind == 1:
            # a uniformly drawn live order: probe slots along a golden-ratio
            # sequence from a random start until one is live
            x = u3
            o = int(x * ord_cap)
            while orders[o, Y.O_LEVEL] < 0:
                x += 0.6180339887498949
                x -= int(x)
                o = int(x * ord_cap)
            out[i * C.N_MSG + C.M_TYPE] = C.CANCEL
            out[i * C.N_MSG + C.M_SIDE] = levels[orders[o, Y.O_LEVEL], Y.L_SIDE]
            out[i * C.N_MSG + C.M_ID] = orders[o, Y.O_ID]
            out[i * C.N_MSG + C.M_PRICE] = 0
            out[i * C.N_MSG + C.M_QTY] = 0
            out[i * C.N_MSG + C.M_ACCT] = orders[o, Y.O_ACCT]
        elif kind == 0:
            # passive: a geometric distance behind the same-side best; a
            # share of arrivals improve the quote inside the spread (still
            # passive), which keeps the spread from widening forever
            ls = _best_level(books, chunks, ladder, 0, side)
            lo = _best_level(books, chunks, ladder, 0, 1 - side)
            if ls >= 0:
                best = levels[ls, Y.L_PRICE]
            elif lo >= 0:
                best = levels[lo, Y.L_PRICE] - 1 if side == C.BUY else levels[lo, Y.L_PRICE] + 1
            else:
                best = mid0 - 1 if side == C.BUY else mid0 + 1
            d = geo[i]
            px = best - d if side == C.BUY else best + d
            if ls >= 0 and lo >= 0 and u5 < p_improve:
                gap = abs(levels[lo, Y.L_PRICE] - best)
                if gap > 1:
                    step = 1 + int(u3 * (gap - 1))
                    px = best + step if side == C.BUY else best - step
            if px < 1:
                px = 1
            out[i * C.N_MSG + C.M_TYPE] = C.LIMIT
            out[i * C.N_MSG + C.M_SIDE] = side
            out[i * C.N_MSG + C.M_ID] = next_id
            next_id += 1
            out[i * C.N_MSG + C.M_PRICE] = px
            out[i * C.N_MSG + C.M_QTY] = 1 + int(u4 * 10)
        z = np.int64(0)  # not literal zeros: they would compile the kernel once more
        status = _kernel.run(arena, out, O, i, i + 1, z, fcap, fcap * 9, ecap, z, z, z, z, z, z, z, z, z)
        if status != Y.ST_OK:
            return i, status        # the caller sized the tables: report loudly
        arena[Y.H_NFILLS] = 0
        arena[Y.H_NEVENTS] = 0
        i += 1
    return i, 0


def synthetic_l3(n: int = 2_000_000, seed: int = 42, *, mean_depth: float = 50.0,
                 target_live: int = 1500, mid: int = 100_000,
                 p_improve: float = 0.2) -> np.ndarray:
    """The synthetic L3 workload (a): ``n`` messages (``MSG_DTYPE``)."""
    from ..core.engine import Engine

    rng = np.random.default_rng(seed)
    u = rng.random((n, 6))
    geo = rng.geometric(1.0 / (mean_depth + 1.0), n).astype(np.int64) - 1
    cap = 4 * int(target_live)
    eng = Engine(1, order_capacity=cap, level_capacity=cap, chunks_per_side=cap)
    O = np.empty((cap + 4 * cap) * 9, np.int64)
    out = np.zeros((n, C.N_MSG), np.int64)
    # sized so that the live-order band never needs growth; a growth request
    # would be a generator bug, reported loudly
    i, status = _generate(eng.arena, out.reshape(-1), u, geo, int(target_live), int(mid), float(p_improve),
                          O, cap, 4 * cap)
    if status != 0:
        raise RuntimeError(f"workload generator hit capacity ({Y.STATUS_NAMES[status]}) at message {i}; "
                           "raise the generator's initial capacities")
    return out.view(C.MSG_DTYPE).reshape(n)
