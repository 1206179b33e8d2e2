"""The compiled matching kernel: price-time priority, L3, many books.

``run(arena, msgs, start, stop, fills, events)`` processes
``msgs[start:stop]`` (an (n, 9) int64 matrix, see ``codes.MSG_FIELDS``)
against the engine state held in ``arena`` (see ``_layout``) and appends
fill rows to ``fills`` and order-event rows to ``events`` (int64 matrices
shaped like ``FILL_DTYPE`` / ``EVENT_DTYPE`` records) from the row counts
kept in the arena header.  Semantics: ``codes`` module docstring; the
readable twin is ``reference.ReferenceEngine``.

The message loop -- validation, matching, resting, cancelling -- is one
compiled body.  The small pieces it uses in several places (drop a level,
unlink an order, hash operations) are written as ``inline="always"``
functions: numba splices them into the body at the IR level, so there is no
call boundary and no reference counting per use, which matters (a chain of
real calls that pass arrays measured 6M msgs/s against 44M as one body).

Capacity is checked **before** a message changes anything: when a table is
full or an output buffer could overflow, ``run`` returns ``(status, i)`` with
message ``i`` untouched, the Python layer grows or flushes, and calls again
from ``i``.  Nothing is ever written past a table's end.

Complexity per message, with C = occupied 64-tick chunks on the side
(typically a handful), K = orders touched: passive add O(1) at or near the
top, else O(log C); cancel O(1), plus O(C) when a whole chunk empties;
matching O(K + levels crossed); id lookups O(1) expected.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from . import _layout as Y
from . import codes as C
from ._bits import clz64

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


# ---------------------------------------------------------------- id table
@njit(cache=True, inline="always")
def _hash_pos(key, mask):
    """Home slot of an order id (Fibonacci hashing, ``mask`` = cap - 1)."""
    h = np.uint64(key) * _GOLDEN
    return np.int64(h >> np.uint64(29)) & mask


@njit(cache=True, inline="always")
def _rank(price, side):
    """Higher rank = better price on ``side``."""
    return price if side == C.BUY else Y.RANK_BASE - price


@njit(cache=True, inline="always")
def _best_level(books, chunks, ladder, b, s):
    """Row of the best level on side ``s`` of book ``b``, or -1."""
    n = books[b, Y.B_NCHK + s]
    if n == 0:
        return -1
    c = ladder[books[b, Y.B_LOFF + s] + n - 1, 1]
    return chunks[c, Y.K_LVL + 63 - clz64(chunks[c, Y.K_BITS])]


@njit(cache=True, inline="always")
def _nth_level(books, chunks, ladder, b, s, n):
    """Row of the ``n``-th best level (0 = best) on side ``s``, or -1.
    O(n + chunks above it)."""
    loff = books[b, Y.B_LOFF + s]
    k = loff + books[b, Y.B_NCHK + s] - 1
    while k >= loff:
        c = ladder[k, 1]
        bits = chunks[c, Y.K_BITS]
        while bits != 0:
            hb = 63 - clz64(bits)
            if n == 0:
                return chunks[c, Y.K_LVL + hb]
            n -= 1
            bits &= ~(np.int64(1) << hb)
        k -= 1
    return -1


@njit(cache=True, inline="always")
def _ladder_search(ladder, lo, hi, key):
    """First position in ``ladder[lo:hi]`` whose key is >= ``key``."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if ladder[mid, 0] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _crosses(side, price, opp_price):
    """Would a ``side`` order at ``price`` trade with a level at ``opp_price``?"""
    return price >= opp_price if side == C.BUY else price <= opp_price


# ---------------------------------------------------------------- the kernel
@njit(cache=True)
def run(arena, msgs, start, stop, fills, events):  # noqa: C901 - one body by design
    """Process ``msgs[start:stop]``; return ``(status, next_index)``.

    ``status`` is ``ST_OK`` when all were processed, otherwise the reason the
    kernel stopped before message ``next_index`` (see ``_layout.ST_*``).

    Blocks marked ``[name]`` below are the pieces a less performance-minded
    engine would call as functions; they are spelled out in place (see the
    module docstring for why) and each appears at most twice."""
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
    hmask = hash_cap - 1
    fill_cap = fills.shape[0]
    ev_cap = events.shape[0]
    # header counters stay in registers for the whole call (the arena
    # aliases every table, so the compiler could not keep them otherwise)
    nf = arena[Y.H_NFILLS]
    ne = arena[Y.H_NEVENTS]
    ord_free = arena[Y.H_ORD_FREE]
    ord_live = arena[Y.H_ORD_LIVE]
    lvl_free = arena[Y.H_LVL_FREE]
    lvl_live = arena[Y.H_LVL_LIVE]
    chk_free = arena[Y.H_CHK_FREE]
    chk_live = arena[Y.H_CHK_LIVE]
    hcount = arena[Y.H_HASH_COUNT]
    seq = arena[Y.H_SEQ]
    next_id = arena[Y.H_NEXT_ID]
    result = arena[Y.H_RESULT]

    i = start
    status = Y.ST_OK
    while i < stop:
        ts = msgs[i, C.M_TS]
        typ = msgs[i, C.M_TYPE]
        b = msgs[i, C.M_BOOK]
        side = msgs[i, C.M_SIDE]
        oid = msgs[i, C.M_ID]
        price = msgs[i, C.M_PRICE]
        qty = msgs[i, C.M_QTY]
        acct = msgs[i, C.M_ACCT]
        stp = msgs[i, C.M_STP]

        # room for the rows any message may write before it knows more
        if ev_cap - ne < 4:
            arena[Y.H_NEED_FILLS] = 0
            arena[Y.H_NEED_EVENTS] = 4
            status = Y.ST_NEED_OUTPUT
            break

        # ================= validation (no state changes) ==================
        reason = 0
        slot = -1                      # slot of the live order a message names
        if typ < C.LIMIT or typ > C.REDUCE:
            reason = C.R_BAD_TYPE
        elif b < 0 or b >= n_books:
            reason = C.R_BAD_BOOK
        elif typ <= C.POST_ONLY:
            if side != C.BUY and side != C.SELL:
                reason = C.R_BAD_SIDE
            elif stp < C.STP_NONE or stp > C.STP_CANCEL_BOTH:
                reason = C.R_BAD_STP
            elif oid < 0 or oid >= C.AUTO_ID_BASE:
                reason = C.R_BAD_ID
            else:
                if oid != 0:
                    # [hash lookup]
                    h = _hash_pos(oid, hmask)
                    while htab[h, 0] != 0:
                        if htab[h, 0] == oid:
                            reason = C.R_DUPLICATE_ID
                            break
                        h = (h + 1) & hmask
                if reason != 0:
                    pass
                elif typ != C.MARKET and price == C.PRICE_OFF_GRID:
                    reason = C.R_OFF_GRID
                elif typ != C.MARKET and (price < 1 or price > books[b, Y.B_MAX_PRICE]):
                    reason = C.R_BAD_PRICE
                elif qty < 1 or qty > C.MAX_QTY:
                    reason = C.R_BAD_QTY
                elif typ == C.POST_ONLY:
                    # [best level of the other side]
                    nc = books[b, Y.B_NCHK + 1 - side]
                    if nc > 0:
                        c = ladder[books[b, Y.B_LOFF + 1 - side] + nc - 1, 1]
                        lv = chunks[c, Y.K_LVL + 63 - clz64(chunks[c, Y.K_BITS])]
                        if _crosses(side, price, levels[lv, Y.L_PRICE]):
                            reason = C.R_POST_ONLY_WOULD_TAKE
        else:
            # CANCEL / MODIFY / REDUCE name a live order of this book
            if oid > 0:
                # [hash lookup]
                h = _hash_pos(oid, hmask)
                while htab[h, 0] != 0:
                    if htab[h, 0] == oid:
                        slot = htab[h, 1]
                        break
                    h = (h + 1) & hmask
            if slot < 0 or orders[slot, Y.O_BOOK] != b:
                reason = C.R_UNKNOWN_ID
            elif orders[slot, Y.O_ACCT] != acct:
                reason = C.R_NOT_OWNER
            elif typ == C.REDUCE:
                if qty < 1 or qty > C.MAX_QTY:
                    reason = C.R_BAD_QTY
            elif typ == C.MODIFY:
                if stp < C.STP_NONE or stp > C.STP_CANCEL_BOTH:
                    reason = C.R_BAD_STP
                elif price == C.PRICE_OFF_GRID:
                    reason = C.R_OFF_GRID
                elif price < 1 or price > books[b, Y.B_MAX_PRICE]:
                    reason = C.R_BAD_PRICE
                elif qty < 1 or qty > C.MAX_QTY:
                    reason = C.R_BAD_QTY
                elif orders[slot, Y.O_TIF] == C.POST_ONLY and price != orders[slot, Y.O_PRICE]:
                    # [best level of the other side]
                    s = orders[slot, Y.O_SIDE]
                    nc = books[b, Y.B_NCHK + 1 - s]
                    if nc > 0:
                        c = ladder[books[b, Y.B_LOFF + 1 - s] + nc - 1, 1]
                        lv = chunks[c, Y.K_LVL + 63 - clz64(chunks[c, Y.K_BITS])]
                        if _crosses(s, price, levels[lv, Y.L_PRICE]):
                            reason = C.R_POST_ONLY_WOULD_TAKE

        if reason != 0:
            events[ne, C.E_TS] = ts
            events[ne, C.E_KIND] = C.EV_REJECTED
            events[ne, C.E_BOOK] = b
            events[ne, C.E_ID] = oid
            events[ne, C.E_ACCT] = acct
            events[ne, C.E_SIDE] = side
            events[ne, C.E_PRICE] = price
            events[ne, C.E_QTY] = qty
            events[ne, C.E_REASON] = reason
            ne += 1
            result = 0
            i += 1
            continue

        # ================= capacity for orders that may take and rest =====
        in_place = typ == C.MODIFY and price == orders[slot, Y.O_PRICE] and qty <= orders[slot, Y.O_QTY]
        takes = typ <= C.POST_ONLY or (typ == C.MODIFY and not in_place)
        if takes:
            if typ == C.MODIFY:
                side = orders[slot, Y.O_SIDE]
            os_ = 1 - side
            if ord_live >= ord_cap and typ != C.MODIFY:
                status = Y.ST_NEED_ORDERS
                break
            if lvl_live >= lvl_cap:
                status = Y.ST_NEED_LEVELS
                break
            if chk_live >= chk_cap:
                status = Y.ST_NEED_CHUNKS
                break
            if 2 * (hcount + 1) > hash_cap:
                status = Y.ST_NEED_HASH
                break
            if books[b, Y.B_NCHK + side] >= books[b, Y.B_LCAP + side]:
                arena[Y.H_NEED_BOOK] = b
                arena[Y.H_NEED_SIDE] = side
                status = Y.ST_NEED_LADDER
                break
            n_opp = books[b, Y.B_NORD + os_]
            need_f = n_opp if n_opp < qty else qty
            need_e = need_f + 4
            if stp == C.STP_CANCEL_RESTING or stp == C.STP_CANCEL_BOTH:
                need_e += n_opp
            if fill_cap - nf < need_f or ev_cap - ne < need_e:
                arena[Y.H_NEED_FILLS] = need_f
                arena[Y.H_NEED_EVENTS] = need_e
                status = Y.ST_NEED_OUTPUT
                break

        # ================= CANCEL / REDUCE / MODIFY ========================
        if typ >= C.CANCEL:
            o = slot
            oq = orders[o, Y.O_QTY]
            s = orders[o, Y.O_SIDE]
            opx = orders[o, Y.O_PRICE]
            if in_place or (typ == C.REDUCE and qty < oq):
                newq = qty if typ == C.MODIFY else oq - qty
                orders[o, Y.O_QTY] = newq
                levels[orders[o, Y.O_LEVEL], Y.L_QTY] -= oq - newq
                events[ne, C.E_TS] = ts
                events[ne, C.E_KIND] = C.EV_MODIFIED
                events[ne, C.E_BOOK] = b
                events[ne, C.E_ID] = oid
                events[ne, C.E_ACCT] = acct
                events[ne, C.E_SIDE] = s
                events[ne, C.E_PRICE] = opx
                events[ne, C.E_QTY] = newq
                events[ne, C.E_REASON] = 0
                ne += 1
                result = oid
                i += 1
                continue
            # the order leaves its queue: CANCEL, REDUCE of all, or a MODIFY
            # that loses priority (it re-enters below as a new arrival)
            events[ne, C.E_TS] = ts
            events[ne, C.E_BOOK] = b
            events[ne, C.E_ID] = oid
            events[ne, C.E_ACCT] = acct
            events[ne, C.E_SIDE] = s
            if typ == C.MODIFY:
                events[ne, C.E_KIND] = C.EV_MODIFIED
                events[ne, C.E_PRICE] = price
                events[ne, C.E_QTY] = qty
                events[ne, C.E_REASON] = 0
                tif = orders[o, Y.O_TIF]
            else:
                events[ne, C.E_KIND] = C.EV_CANCELLED
                events[ne, C.E_PRICE] = opx
                events[ne, C.E_QTY] = oq
                events[ne, C.E_REASON] = C.CX_USER
            ne += 1
            # [unlink o from its level]
            lv = orders[o, Y.O_LEVEL]
            pv = orders[o, Y.O_PREV]
            nx = orders[o, Y.O_NEXT]
            if pv >= 0:
                orders[pv, Y.O_NEXT] = nx
            else:
                levels[lv, Y.L_HEAD] = nx
            if nx >= 0:
                orders[nx, Y.O_PREV] = pv
            else:
                levels[lv, Y.L_TAIL] = pv
            levels[lv, Y.L_QTY] -= oq
            levels[lv, Y.L_COUNT] -= 1
            books[b, Y.B_NORD + s] -= 1
            if levels[lv, Y.L_COUNT] == 0:
                # [drop level lv]: clear its bit; drop its chunk if now empty
                c = levels[lv, Y.L_CHUNK]
                bits = chunks[c, Y.K_BITS] & ~(np.int64(1) << (_rank(opx, s) & 63))
                chunks[c, Y.K_BITS] = bits
                if bits == 0:
                    loff = books[b, Y.B_LOFF + s]
                    n = books[b, Y.B_NCHK + s]
                    if ladder[loff + n - 1, 1] == c:
                        pos = loff + n - 1
                    else:
                        pos = _ladder_search(ladder, loff, loff + n, chunks[c, Y.K_KEY])
                    for k in range(pos, loff + n - 1):
                        ladder[k, 0] = ladder[k + 1, 0]
                        ladder[k, 1] = ladder[k + 1, 1]
                    books[b, Y.B_NCHK + s] = n - 1
                    chunks[c, Y.K_NEXT_FREE] = chk_free
                    chk_free = c
                    chk_live -= 1
                books[b, Y.B_NLEV + s] -= 1
                levels[lv, Y.L_BOOK] = -1
                levels[lv, Y.L_NEXT_FREE] = lvl_free
                lvl_free = lv
                lvl_live -= 1
            # [free order o]: drop its id (backward-shift deletion, Knuth's
            # algorithm R: no tombstones) and return its slot
            h = _hash_pos(oid, hmask)
            while htab[h, 0] != oid:
                h = (h + 1) & hmask
            j = h
            while True:
                j = (j + 1) & hmask
                if htab[j, 0] == 0:
                    break
                home = _hash_pos(htab[j, 0], hmask)
                # entry j moves into the hole unless home is cyclically in (h, j]
                if (j > h and (home <= h or home > j)) or (j < h and home <= h and home > j):
                    htab[h, 0] = htab[j, 0]
                    htab[h, 1] = htab[j, 1]
                    h = j
            htab[h, 0] = 0
            hcount -= 1
            orders[o, Y.O_BOOK] = -1
            orders[o, Y.O_NEXT] = ord_free
            ord_free = o
            ord_live -= 1
            if typ != C.MODIFY:
                result = oid
                i += 1
                continue
        else:
            tif = typ
            if oid == 0:
                oid = next_id
                next_id += 1
            if typ == C.MARKET:
                price = 0
            events[ne, C.E_TS] = ts
            events[ne, C.E_KIND] = C.EV_ACCEPTED
            events[ne, C.E_BOOK] = b
            events[ne, C.E_ID] = oid
            events[ne, C.E_ACCT] = acct
            events[ne, C.E_SIDE] = side
            events[ne, C.E_PRICE] = price
            events[ne, C.E_QTY] = qty
            events[ne, C.E_REASON] = 0
            ne += 1

        # ================= a taker: new order or re-entering MODIFY ========
        rem = qty
        stp_stop = False
        fok_ok = True
        if tif == C.FOK:
            # can the whole quantity trade now within the limit?  Walk the
            # other side best first: chunks from the top, bits high to low.
            avail = 0
            loff = books[b, Y.B_LOFF + os_]
            k = loff + books[b, Y.B_NCHK + os_] - 1
            counting = True
            while k >= loff and avail < rem and counting:
                c = ladder[k, 1]
                bits = chunks[c, Y.K_BITS]
                while bits != 0 and avail < rem and counting:
                    hb = 63 - clz64(bits)
                    bits &= ~(np.int64(1) << hb)
                    lv = chunks[c, Y.K_LVL + hb]
                    if not _crosses(side, price, levels[lv, Y.L_PRICE]):
                        counting = False
                    elif stp == C.STP_NONE:
                        avail += levels[lv, Y.L_QTY]
                    else:
                        o = levels[lv, Y.L_HEAD]
                        while o >= 0 and avail < rem:
                            if orders[o, Y.O_ACCT] != acct:
                                avail += orders[o, Y.O_QTY]
                            elif stp != C.STP_CANCEL_RESTING:
                                counting = False
                                break
                            o = orders[o, Y.O_NEXT]
                k -= 1
            fok_ok = avail >= rem

        if fok_ok and tif != C.POST_ONLY:
            # ---- the matching walk: best level first, FIFO within it ------
            while rem > 0:
                nc = books[b, Y.B_NCHK + os_]
                if nc == 0:
                    break
                kpos = books[b, Y.B_LOFF + os_] + nc - 1
                c = ladder[kpos, 1]
                hb = 63 - clz64(chunks[c, Y.K_BITS])
                lv = chunks[c, Y.K_LVL + hb]
                lpx = levels[lv, Y.L_PRICE]
                if typ != C.MARKET and not _crosses(side, price, lpx):
                    break
                o = levels[lv, Y.L_HEAD]
                while o >= 0:
                    nx = orders[o, Y.O_NEXT]
                    mq = orders[o, Y.O_QTY]
                    macct = orders[o, Y.O_ACCT]
                    mid_ = orders[o, Y.O_ID]
                    events[ne, C.E_TS] = ts
                    events[ne, C.E_BOOK] = b
                    events[ne, C.E_ID] = mid_
                    events[ne, C.E_ACCT] = macct
                    events[ne, C.E_SIDE] = os_
                    events[ne, C.E_PRICE] = lpx
                    if stp != C.STP_NONE and macct == acct:
                        if stp == C.STP_CANCEL_INCOMING:
                            stp_stop = True
                            break
                        events[ne, C.E_KIND] = C.EV_CANCELLED
                        events[ne, C.E_QTY] = mq
                        events[ne, C.E_REASON] = C.CX_STP
                        ne += 1
                        stp_stop = stp == C.STP_CANCEL_BOTH
                    else:
                        q = mq if mq < rem else rem
                        fills[nf, C.F_TS] = ts
                        fills[nf, C.F_BOOK] = b
                        fills[nf, C.F_MAKER] = mid_
                        fills[nf, C.F_TAKER] = oid
                        fills[nf, C.F_MAKER_ACCT] = macct
                        fills[nf, C.F_TAKER_ACCT] = acct
                        fills[nf, C.F_PRICE] = lpx
                        fills[nf, C.F_QTY] = q
                        fills[nf, C.F_TAKER_SIDE] = side
                        nf += 1
                        rem -= q
                        books[b, Y.B_VOLUME] += q
                        books[b, Y.B_NTRADES] += 1
                        books[b, Y.B_LAST_PX] = lpx
                        books[b, Y.B_LAST_TS] = ts
                        if q < mq:
                            # the taker is done; the maker stays at the head
                            orders[o, Y.O_QTY] = mq - q
                            levels[lv, Y.L_QTY] -= q
                            break
                        events[ne, C.E_KIND] = C.EV_FILLED
                        events[ne, C.E_QTY] = 0
                        events[ne, C.E_REASON] = 0
                        ne += 1
                    # the maker is done (filled or STP-cancelled): pop the head
                    levels[lv, Y.L_HEAD] = nx
                    if nx >= 0:
                        orders[nx, Y.O_PREV] = -1
                    else:
                        levels[lv, Y.L_TAIL] = -1
                    levels[lv, Y.L_QTY] -= mq
                    levels[lv, Y.L_COUNT] -= 1
                    books[b, Y.B_NORD + os_] -= 1
                    # [free order o] (as above)
                    h = _hash_pos(mid_, hmask)
                    while htab[h, 0] != mid_:
                        h = (h + 1) & hmask
                    j = h
                    while True:
                        j = (j + 1) & hmask
                        if htab[j, 0] == 0:
                            break
                        home = _hash_pos(htab[j, 0], hmask)
                        if (j > h and (home <= h or home > j)) or (j < h and home <= h and home > j):
                            htab[h, 0] = htab[j, 0]
                            htab[h, 1] = htab[j, 1]
                            h = j
                    htab[h, 0] = 0
                    hcount -= 1
                    orders[o, Y.O_BOOK] = -1
                    orders[o, Y.O_NEXT] = ord_free
                    ord_free = o
                    ord_live -= 1
                    if stp_stop or rem == 0:
                        break
                    o = nx
                if levels[lv, Y.L_COUNT] == 0:
                    # [drop level lv] -- the best level: its chunk is the
                    # last ladder entry and it is the chunk's top bit
                    bits = chunks[c, Y.K_BITS] & ~(np.int64(1) << hb)
                    chunks[c, Y.K_BITS] = bits
                    if bits == 0:
                        books[b, Y.B_NCHK + os_] = nc - 1
                        chunks[c, Y.K_NEXT_FREE] = chk_free
                        chk_free = c
                        chk_live -= 1
                    books[b, Y.B_NLEV + os_] -= 1
                    levels[lv, Y.L_BOOK] = -1
                    levels[lv, Y.L_NEXT_FREE] = lvl_free
                    lvl_free = lv
                    lvl_live -= 1
                if stp_stop:
                    break

        if rem > 0 and not stp_stop and (tif == C.LIMIT or tif == C.POST_ONLY):
            # ---- the remainder rests: a slot, its id, then its level ------
            o = ord_free
            ord_free = orders[o, Y.O_NEXT]
            ord_live += 1
            orders[o, Y.O_ID] = oid
            orders[o, Y.O_BOOK] = b
            orders[o, Y.O_SIDE] = side
            orders[o, Y.O_PRICE] = price
            orders[o, Y.O_QTY] = rem
            orders[o, Y.O_ACCT] = acct
            orders[o, Y.O_TIF] = tif
            orders[o, Y.O_TS] = ts
            orders[o, Y.O_SEQ] = seq
            seq += 1
            h = _hash_pos(oid, hmask)
            while htab[h, 0] != 0:
                h = (h + 1) & hmask
            htab[h, 0] = oid
            htab[h, 1] = o
            hcount += 1
            # [find or create the level]: most arrivals land in the top chunk
            r = _rank(price, side)
            key = r >> 6
            bit = r & 63
            loff = books[b, Y.B_LOFF + side]
            n = books[b, Y.B_NCHK + side]
            if n > 0 and ladder[loff + n - 1, 0] == key:
                pos = loff + n - 1
                found = True
            elif n == 0 or ladder[loff + n - 1, 0] < key:
                pos = loff + n
                found = False
            else:
                pos = _ladder_search(ladder, loff, loff + n, key)
                found = pos < loff + n and ladder[pos, 0] == key
            if found:
                c = ladder[pos, 1]
            else:
                c = chk_free
                chk_free = chunks[c, Y.K_NEXT_FREE]
                chk_live += 1
                chunks[c, Y.K_KEY] = key
                chunks[c, Y.K_BITS] = 0
                for k in range(loff + n, pos, -1):
                    ladder[k, 0] = ladder[k - 1, 0]
                    ladder[k, 1] = ladder[k - 1, 1]
                ladder[pos, 0] = key
                ladder[pos, 1] = c
                books[b, Y.B_NCHK + side] = n + 1
            if (chunks[c, Y.K_BITS] >> bit) & 1:
                lv = chunks[c, Y.K_LVL + bit]
                tail = levels[lv, Y.L_TAIL]
                orders[tail, Y.O_NEXT] = o
                levels[lv, Y.L_QTY] += rem
                levels[lv, Y.L_COUNT] += 1
            else:
                lv = lvl_free
                lvl_free = levels[lv, Y.L_NEXT_FREE]
                lvl_live += 1
                levels[lv, Y.L_PRICE] = price
                levels[lv, Y.L_QTY] = rem
                levels[lv, Y.L_COUNT] = 1
                levels[lv, Y.L_HEAD] = o
                levels[lv, Y.L_BOOK] = b
                levels[lv, Y.L_SIDE] = side
                levels[lv, Y.L_CHUNK] = c
                chunks[c, Y.K_BITS] |= np.int64(1) << bit
                chunks[c, Y.K_LVL + bit] = lv
                books[b, Y.B_NLEV + side] += 1
                tail = -1
            # append at the back of the FIFO
            orders[o, Y.O_PREV] = tail
            orders[o, Y.O_NEXT] = -1
            orders[o, Y.O_LEVEL] = lv
            levels[lv, Y.L_TAIL] = o
            books[b, Y.B_NORD + side] += 1
        else:
            # ---- the taker is done: filled, or its remainder cancelled ----
            events[ne, C.E_TS] = ts
            events[ne, C.E_BOOK] = b
            events[ne, C.E_ID] = oid
            events[ne, C.E_ACCT] = acct
            events[ne, C.E_SIDE] = side
            events[ne, C.E_PRICE] = price
            events[ne, C.E_QTY] = rem
            if rem == 0:
                events[ne, C.E_KIND] = C.EV_FILLED
                events[ne, C.E_REASON] = 0
            else:
                events[ne, C.E_KIND] = C.EV_CANCELLED
                if stp_stop:
                    events[ne, C.E_REASON] = C.CX_STP
                elif not fok_ok:
                    events[ne, C.E_REASON] = C.CX_FOK_UNFILLABLE
                else:
                    events[ne, C.E_REASON] = C.CX_IOC_REMAINDER
            ne += 1
        result = oid
        i += 1

    arena[Y.H_NFILLS] = nf
    arena[Y.H_NEVENTS] = ne
    arena[Y.H_ORD_FREE] = ord_free
    arena[Y.H_ORD_LIVE] = ord_live
    arena[Y.H_LVL_FREE] = lvl_free
    arena[Y.H_LVL_LIVE] = lvl_live
    arena[Y.H_CHK_FREE] = chk_free
    arena[Y.H_CHK_LIVE] = chk_live
    arena[Y.H_HASH_COUNT] = hcount
    arena[Y.H_SEQ] = seq
    arena[Y.H_NEXT_ID] = next_id
    arena[Y.H_RESULT] = result
    arena[Y.H_NMSG] += i - start
    return status, i


@njit(cache=True)
def submit(arena, ts, typ, book, side, order_id, price, qty, account, stp):
    """Per-message entry point: write the message into the arena's inbox and
    run it against the arena's own output buffers.  Returns ``(status,
    result)``; ``result`` is the order id (0 if rejected) when status is
    ``ST_OK``."""
    off = arena[Y.H_INBOX_OFF]
    inbox = arena[off:off + C.N_MSG].reshape((1, C.N_MSG))
    inbox[0, C.M_TS] = ts
    inbox[0, C.M_TYPE] = typ
    inbox[0, C.M_BOOK] = book
    inbox[0, C.M_SIDE] = side
    inbox[0, C.M_ID] = order_id
    inbox[0, C.M_PRICE] = price
    inbox[0, C.M_QTY] = qty
    inbox[0, C.M_ACCT] = account
    inbox[0, C.M_STP] = stp
    fc = arena[Y.H_FILL_CAP]
    fills = arena[arena[Y.H_FILL_OFF]:arena[Y.H_FILL_OFF] + fc * C.N_FILL].reshape((fc, C.N_FILL))
    ec = arena[Y.H_EV_CAP]
    events = arena[arena[Y.H_EV_OFF]:arena[Y.H_EV_OFF] + ec * C.N_EVENT].reshape((ec, C.N_EVENT))
    status, _ = run(arena, inbox, 0, 1, fills, events)
    return status, arena[Y.H_RESULT]
