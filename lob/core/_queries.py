"""Compiled read-only queries on the arena, the invariant checker, and the
rehash used when the id table grows.  Units: ticks, lots.

Like the kernel, everything here is compiled without numba's reference
counting (``_nrt=False``) and allocates nothing (callers pass scratch
arrays): the simulation loop, which runs without it, calls some of these
functions, and numba's cache keys a compiled function by its signature but
not by that flag -- a function compiled both ways would have two cache
entries under one key, and a later process could load the wrong one."""
from __future__ import annotations

import numpy as np
from numba import njit

from . import _layout as Y
from . import codes as C
from ._bits import clz64
from ._kernel import _best_level, _hash_pos, _rank


@njit(cache=True, _nrt=False)
def _tables(arena):
    ord_cap = arena[Y.H_ORD_CAP]
    orders = arena[arena[Y.H_ORD_OFF]:arena[Y.H_ORD_OFF] + ord_cap * Y.N_ORD].reshape((ord_cap, Y.N_ORD))
    lvl_cap = arena[Y.H_LVL_CAP]
    levels = arena[arena[Y.H_LVL_OFF]:arena[Y.H_LVL_OFF] + lvl_cap * Y.N_LVL].reshape((lvl_cap, Y.N_LVL))
    chk_cap = arena[Y.H_CHK_CAP]
    chunks = arena[arena[Y.H_CHK_OFF]:arena[Y.H_CHK_OFF] + chk_cap * Y.N_CHK].reshape((chk_cap, Y.N_CHK))
    n_books = arena[Y.H_NBOOKS]
    books = arena[arena[Y.H_BOOK_OFF]:arena[Y.H_BOOK_OFF] + n_books * Y.N_BOOK].reshape((n_books, Y.N_BOOK))
    lad_cap = arena[Y.H_LAD_CAP]
    ladder = arena[arena[Y.H_LAD_OFF]:arena[Y.H_LAD_OFF] + lad_cap * Y.N_LAD].reshape((lad_cap, Y.N_LAD))
    hash_cap = arena[Y.H_HASH_CAP]
    htab = arena[arena[Y.H_HASH_OFF]:arena[Y.H_HASH_OFF] + hash_cap * Y.N_HASH].reshape((hash_cap, Y.N_HASH))
    return orders, levels, chunks, books, ladder, htab


@njit(cache=True, _nrt=False)
def _side_levels(arena, book, side, out):
    """Rows of the levels on one side, best first, into ``out``; returns the
    count.  O(levels + chunks)."""
    orders, levels, chunks, books, ladder, htab = _tables(arena)
    n = 0
    loff = books[book, Y.B_LOFF + side]
    for k in range(loff + books[book, Y.B_NCHK + side] - 1, loff - 1, -1):
        c = ladder[k, 1]
        bits = chunks[c, Y.K_BITS]
        while bits != 0:
            hb = 63 - clz64(bits)
            bits &= ~(np.int64(1) << hb)
            out[n] = chunks[c, Y.K_LVL + hb]
            n += 1
    return n


@njit(cache=True, _nrt=False)
def best_price(arena, book, side):
    """Price of the best level on ``side`` of ``book`` (0 if empty), read
    straight from the arena without building table views.  O(1)."""
    bk = arena[Y.H_BOOK_OFF] + book * Y.N_BOOK
    n = arena[bk + Y.B_NCHK + side]
    if n == 0:
        return 0
    c = arena[arena[Y.H_LAD_OFF] + 2 * (arena[bk + Y.B_LOFF + side] + n - 1) + 1]
    pc = arena[Y.H_CHK_OFF] + c * Y.N_CHK
    lv = arena[pc + Y.K_LVL + 63 - clz64(arena[pc + Y.K_BITS])]
    return arena[arena[Y.H_LVL_OFF] + lv * Y.N_LVL + Y.L_PRICE]


@njit(cache=True, _nrt=False)
def best(arena, book, side):
    """(price, qty) of the best level on ``side`` of ``book``; (0, 0) if empty.  O(1)."""
    orders, levels, chunks, books, ladder, htab = _tables(arena)
    lv = _best_level(books, chunks, ladder, book, side)
    if lv < 0:
        return 0, 0
    return levels[lv, Y.L_PRICE], levels[lv, Y.L_QTY]


@njit(cache=True, _nrt=False)
def l2(arena, book, n, out):
    """Top ``n`` levels into ``out`` (4, n): bid px, bid qty, ask px, ask qty,
    best first, zero padded.  O(n + chunks)."""
    orders, levels, chunks, books, ladder, htab = _tables(arena)
    out[:, :] = 0
    for side in range(2):
        k = 0
        loff = books[book, Y.B_LOFF + side]
        j = loff + books[book, Y.B_NCHK + side] - 1
        while j >= loff and k < n:
            c = ladder[j, 1]
            bits = chunks[c, Y.K_BITS]
            while bits != 0 and k < n:
                hb = 63 - clz64(bits)
                bits &= ~(np.int64(1) << hb)
                lv = chunks[c, Y.K_LVL + hb]
                out[2 * side, k] = levels[lv, Y.L_PRICE]
                out[2 * side + 1, k] = levels[lv, Y.L_QTY]
                k += 1
            j -= 1


@njit(cache=True, _nrt=False)
def depth_within(arena, book, bps):
    """(bid_lots, ask_lots) within ``bps`` basis points of the mid
    (inclusive); see ``codes`` for the exact integer rule.  O(levels in range)."""
    orders, levels, chunks, books, ladder, htab = _tables(arena)
    lb = _best_level(books, chunks, ladder, book, C.BUY)
    la = _best_level(books, chunks, ladder, book, C.SELL)
    if lb < 0 and la < 0:
        return 0, 0
    if lb >= 0 and la >= 0:
        m2 = levels[lb, Y.L_PRICE] + levels[la, Y.L_PRICE]
    elif lb >= 0:
        m2 = 2 * levels[lb, Y.L_PRICE]
    else:
        m2 = 2 * levels[la, Y.L_PRICE]
    # floor(bps * m2 / 10000) without overflow: m2 < 2**52, bps <= 10**6
    tol = bps * (m2 // 10000) + (bps * (m2 % 10000)) // 10000
    res_b = 0
    res_a = 0
    for side in range(2):
        loff = books[book, Y.B_LOFF + side]
        j = loff + books[book, Y.B_NCHK + side] - 1
        done = False
        while j >= loff and not done:
            c = ladder[j, 1]
            bits = chunks[c, Y.K_BITS]
            while bits != 0:
                hb = 63 - clz64(bits)
                bits &= ~(np.int64(1) << hb)
                lv = chunks[c, Y.K_LVL + hb]
                dist = m2 - 2 * levels[lv, Y.L_PRICE] if side == C.BUY else 2 * levels[lv, Y.L_PRICE] - m2
                if dist > tol:            # dist * 10000 > bps * m2, for integers
                    done = True
                    break
                if side == C.BUY:
                    res_b += levels[lv, Y.L_QTY]
                else:
                    res_a += levels[lv, Y.L_QTY]
            j -= 1
    return res_b, res_a


@njit(cache=True, _nrt=False)
def live_orders(arena, book, out, rows):
    """Write the live orders of ``book`` into ``out`` (n, 5): id, side,
    price, qty, account; bids best first then asks best first, FIFO within
    a level.  ``rows`` is scratch for the level rows of a side.  Returns the
    row count."""
    orders, levels, chunks, books, ladder, htab = _tables(arena)
    r = 0
    for side in range(2):
        nl = _side_levels(arena, book, side, rows)
        for k in range(nl):
            o = levels[rows[k], Y.L_HEAD]
            while o >= 0:
                out[r, 0] = orders[o, Y.O_ID]
                out[r, 1] = side
                out[r, 2] = levels[rows[k], Y.L_PRICE]
                out[r, 3] = orders[o, Y.O_QTY]
                out[r, 4] = orders[o, Y.O_ACCT]
                r += 1
                o = orders[o, Y.O_NEXT]
    return r


@njit(cache=True, _nrt=False)
def rehash(arena, new_htab):
    """Insert every live order id into the empty table ``new_htab``."""
    orders, levels, chunks, books, ladder, htab = _tables(arena)
    mask = new_htab.shape[0] - 1
    n = 0
    for o in range(orders.shape[0]):
        if orders[o, Y.O_LEVEL] >= 0:
            oid = orders[o, Y.O_ID]
            h = _hash_pos(oid, mask)
            while new_htab[h, 0] != 0:
                h = (h + 1) & mask
            new_htab[h, 0] = oid
            new_htab[h, 1] = o
            n += 1
    return n


# error codes of check(); messages in engine.CHECK_MESSAGES
@njit(cache=True, _nrt=False)
def check(arena, seen, lseen):
    """Verify every invariant of the arena; return (0, 0, 0) if all hold,
    else (code, book, detail).  ``seen``/``lseen``: zeroed int8 scratch of
    the order and level capacities.  O(orders + levels + chunks + hash
    capacity)."""
    orders, levels, chunks, books, ladder, htab = _tables(arena)
    ord_cap = orders.shape[0]
    lvl_cap = levels.shape[0]
    chk_cap = chunks.shape[0]
    n_orders = 0
    n_levels = 0
    n_chunks = 0
    for b in range(books.shape[0]):
        for side in range(2):
            nc = books[b, Y.B_NCHK + side]
            loff = books[b, Y.B_LOFF + side]
            if nc < 0 or nc > books[b, Y.B_LCAP + side]:
                return 1, b, side                       # ladder overflow
            side_orders = 0
            side_levels = 0
            last_rank = -1
            for k in range(loff + nc - 1, loff - 1, -1):   # best chunk first
                c = ladder[k, 1]
                if c < 0 or c >= chk_cap or chunks[c, Y.K_KEY] != ladder[k, 0] or chunks[c, Y.K_BITS] == 0:
                    return 2, b, k                      # ladder entry points to a bad/empty chunk
                if k > loff and ladder[k - 1, 0] >= ladder[k, 0]:
                    return 4, b, k                      # ladder not strictly sorted
                n_chunks += 1
                bits = chunks[c, Y.K_BITS]
                while bits != 0:
                    hb = 63 - clz64(bits)
                    bits &= ~(np.int64(1) << hb)
                    lv = chunks[c, Y.K_LVL + hb]
                    if lv < 0 or lv >= lvl_cap or lseen[lv] != 0 or levels[lv, Y.L_BOOK] != b \
                            or levels[lv, Y.L_SIDE] != side or levels[lv, Y.L_CHUNK] != c:
                        return 2, b, lv                 # chunk points to a foreign level
                    lseen[lv] = 1
                    px = levels[lv, Y.L_PRICE]
                    r = _rank(px, side)
                    if (r >> 6) != chunks[c, Y.K_KEY] or (r & 63) != hb:
                        return 3, b, px                 # level filed under the wrong price
                    if last_rank >= 0 and r >= last_rank:
                        return 4, b, px                 # levels not strictly ordered
                    last_rank = r
                    if px < 1 or px > books[b, Y.B_MAX_PRICE]:
                        return 5, b, px                 # price off range
                    tot = 0
                    cnt = 0
                    prev = -1
                    last_seq = -1
                    o = levels[lv, Y.L_HEAD]
                    while o >= 0:
                        if o >= ord_cap or seen[o] != 0:
                            return 6, b, o              # order in two places / cycle
                        seen[o] = 1
                        if orders[o, Y.O_LEVEL] != lv:
                            return 7, b, orders[o, Y.O_ID]  # order does not point to its level
                        if orders[o, Y.O_PREV] != prev:
                            return 8, b, orders[o, Y.O_ID]  # broken back link
                        if orders[o, Y.O_QTY] < 1:
                            return 9, b, orders[o, Y.O_ID]  # non-positive resting qty
                        if orders[o, Y.O_SEQ] <= last_seq:
                            return 10, b, orders[o, Y.O_ID]  # FIFO violated
                        last_seq = orders[o, Y.O_SEQ]
                        tot += orders[o, Y.O_QTY]
                        cnt += 1
                        prev = o
                        o = orders[o, Y.O_NEXT]
                    if levels[lv, Y.L_TAIL] != prev:
                        return 11, b, px                # tail mismatch
                    if cnt == 0 or cnt != levels[lv, Y.L_COUNT] or tot != levels[lv, Y.L_QTY]:
                        return 12, b, px                # level totals wrong / empty level
                    side_orders += cnt
                    side_levels += 1
            if side_orders != books[b, Y.B_NORD + side]:
                return 13, b, side                      # order count wrong
            if side_levels != books[b, Y.B_NLEV + side]:
                return 25, b, side                      # level count wrong
            n_orders += side_orders
            n_levels += side_levels
        lb = _best_level(books, chunks, ladder, b, C.BUY)
        la = _best_level(books, chunks, ladder, b, C.SELL)
        if lb >= 0 and la >= 0 and levels[lb, Y.L_PRICE] >= levels[la, Y.L_PRICE]:
            return 14, b, levels[lb, Y.L_PRICE]         # crossed book
    if n_orders != arena[Y.H_ORD_LIVE]:
        return 15, -1, n_orders                         # live count wrong
    if n_levels != arena[Y.H_LVL_LIVE]:
        return 16, -1, n_levels
    if n_chunks != arena[Y.H_CHK_LIVE]:
        return 26, -1, n_chunks
    # every live slot is in a level; every free slot is on the free list
    for o in range(ord_cap):
        if (orders[o, Y.O_LEVEL] >= 0) != (seen[o] == 1):
            return 17, -1, o                            # order lost / stray
    nfree = 0
    o = arena[Y.H_ORD_FREE]
    while o >= 0:
        if orders[o, Y.O_LEVEL] != -1 or nfree > ord_cap:
            return 18, -1, o                            # free list corrupt
        nfree += 1
        o = orders[o, Y.O_NEXT]
    if nfree + n_orders != ord_cap:
        return 19, -1, nfree
    nfree = 0
    lv = arena[Y.H_LVL_FREE]
    while lv >= 0:
        if levels[lv, Y.L_BOOK] != -1 or nfree > lvl_cap:
            return 20, -1, lv
        nfree += 1
        lv = levels[lv, Y.L_NEXT_FREE]
    if nfree + n_levels != lvl_cap:
        return 21, -1, nfree
    nfree = 0
    c = arena[Y.H_CHK_FREE]
    while c >= 0:
        if nfree > chk_cap:
            return 27, -1, c
        nfree += 1
        c = chunks[c, Y.K_NEXT_FREE]
    if nfree + n_chunks != chk_cap:
        return 27, -1, nfree
    # the id table maps exactly the live orders
    mask = htab.shape[0] - 1
    nh = 0
    for h in range(htab.shape[0]):
        oid = htab[h, 0]
        if oid != 0:
            nh += 1
            o = htab[h, 1]
            if o < 0 or o >= ord_cap or orders[o, Y.O_LEVEL] < 0 or orders[o, Y.O_ID] != oid:
                return 22, -1, oid                      # hash points to a wrong slot
            p = _hash_pos(oid, mask)
            while p != h:
                if htab[p, 0] == 0:
                    return 23, -1, oid                  # unreachable from its home slot
                p = (p + 1) & mask
    if nh != n_orders or nh != arena[Y.H_HASH_COUNT]:
        return 24, -1, nh
    return 0, 0, 0


@njit(cache=True, _nrt=False)
def tops(arena, out):
    """Best bid, best ask and last trade price (ticks; 0 = none) of every
    book into ``out[n_books, 3]``.  O(books)."""
    for b in range(out.shape[0]):
        out[b, 0] = best_price(arena, b, C.BUY)
        out[b, 1] = best_price(arena, b, C.SELL)
        out[b, 2] = arena[arena[Y.H_BOOK_OFF] + b * Y.N_BOOK + Y.B_LAST_PX]


@njit(cache=True, _nrt=False)
def bid_depth_many(arena, books, bps, out):
    """Bid lots within ``bps`` of the mid (:func:`depth_within`'s first
    value) of each book in ``books`` into ``out`` (same length; a book < 0
    gives 0).  O(levels in range) per book, one compiled call for all."""
    for j in range(books.shape[0]):
        b = books[j]
        if b < 0:
            out[j] = 0
        else:
            out[j] = depth_within(arena, b, bps)[0]
