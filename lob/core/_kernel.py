"""The compiled matching kernel: price-time priority, L3, many books.

``run(arena, msgs, start, stop)`` processes ``msgs[start:stop]`` (an (n, 9)
int64 matrix, see ``codes.MSG_FIELDS``) against the engine state held in
``arena`` (see ``_layout``) and appends fills and order events to the
arena's output buffers.  Semantics: ``codes`` module docstring; the readable
twin is ``reference.ReferenceEngine``.

The whole message loop -- validation, matching, resting, cancelling -- is one
function body on purpose: every call between compiled functions that passes
arrays costs reference counting, which measured 44M msgs/s as one body vs 6M
as a chain of helpers.  The only helpers are scalar (``_hash_pos``).

Capacity is checked **before** a message changes anything: when a table is
full or an output buffer could overflow, ``run`` returns ``(status, i)`` with
message ``i`` untouched, the Python layer grows or flushes, and calls again
from ``i``.  Nothing is ever written past a table's end.

Complexity per message, with L = levels on the side, K = orders touched:
new passive order O(log L) search + O(distance from the top) ladder shift
for a new level; cancel O(1) plus the same shift when a level empties;
matching O(K + levels crossed); id lookups O(1) expected.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from . import _layout as Y
from . import codes as C

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _hash_pos(key, mask):
    """Home slot of an order id in a power-of-two hash table (Fibonacci
    hashing; ``mask`` = capacity - 1)."""
    h = np.uint64(key) * _GOLDEN
    return np.int64(h >> np.uint64(29)) & mask


@njit(cache=True)
def run(arena, msgs, start, stop):  # noqa: C901 - one body by design
    """Process ``msgs[start:stop]``; return ``(status, next_index)``.

    ``status`` is ``ST_OK`` when all were processed, otherwise the reason the
    kernel stopped before message ``next_index`` (see ``_layout.ST_*``)."""
    # ---- views of the arena (once per call) ----------------------------
    ord_cap = arena[Y.H_ORD_CAP]
    orders = arena[arena[Y.H_ORD_OFF]:arena[Y.H_ORD_OFF] + ord_cap * Y.N_ORD].reshape((ord_cap, Y.N_ORD))
    lvl_cap = arena[Y.H_LVL_CAP]
    levels = arena[arena[Y.H_LVL_OFF]:arena[Y.H_LVL_OFF] + lvl_cap * Y.N_LVL].reshape((lvl_cap, Y.N_LVL))
    n_books = arena[Y.H_NBOOKS]
    books = arena[arena[Y.H_BOOK_OFF]:arena[Y.H_BOOK_OFF] + n_books * Y.N_BOOK].reshape((n_books, Y.N_BOOK))
    lad_cap = arena[Y.H_LAD_CAP]
    ladder = arena[arena[Y.H_LAD_OFF]:arena[Y.H_LAD_OFF] + lad_cap * Y.N_LAD].reshape((lad_cap, Y.N_LAD))
    hash_cap = arena[Y.H_HASH_CAP]
    htab = arena[arena[Y.H_HASH_OFF]:arena[Y.H_HASH_OFF] + hash_cap * Y.N_HASH].reshape((hash_cap, Y.N_HASH))
    hmask = hash_cap - 1
    fill_cap = arena[Y.H_FILL_CAP]
    fills = arena[arena[Y.H_FILL_OFF]:arena[Y.H_FILL_OFF] + fill_cap * C.N_FILL].reshape((fill_cap, C.N_FILL))
    ev_cap = arena[Y.H_EV_CAP]
    events = arena[arena[Y.H_EV_OFF]:arena[Y.H_EV_OFF] + ev_cap * C.N_EVENT].reshape((ev_cap, C.N_EVENT))

    nf = arena[Y.H_NFILLS]
    ne = arena[Y.H_NEVENTS]

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

        # room for the rows any message writes before it can know more
        if ev_cap - ne < 4 or fill_cap - nf < 1:
            arena[Y.H_NEED_FILLS] = 1
            arena[Y.H_NEED_EVENTS] = 4
            status = Y.ST_NEED_OUTPUT
            break

        # ---- validation (pure: no state changes) -----------------------
        reason = 0
        slot = -1          # order slot of the referenced live order
        is_new = typ >= C.LIMIT and typ <= C.POST_ONLY
        if typ < C.LIMIT or typ > C.REDUCE:
            reason = C.R_BAD_TYPE
        elif b < 0 or b >= n_books:
            reason = C.R_BAD_BOOK
        elif is_new:
            if side != C.BUY and side != C.SELL:
                reason = C.R_BAD_SIDE
            elif stp < C.STP_NONE or stp > C.STP_CANCEL_BOTH:
                reason = C.R_BAD_STP
            elif oid < 0 or oid >= C.AUTO_ID_BASE:
                reason = C.R_BAD_ID
            else:
                if oid != 0:
                    h = _hash_pos(oid, hmask)
                    while htab[h, 0] != 0:
                        if htab[h, 0] == oid:
                            reason = C.R_DUPLICATE_ID
                            break
                        h = (h + 1) & hmask
                if reason == 0 and typ != C.MARKET:
                    if price == C.PRICE_OFF_GRID:
                        reason = C.R_OFF_GRID
                    elif price < 1 or price > books[b, Y.B_MAX_PRICE]:
                        reason = C.R_BAD_PRICE
                if reason == 0 and (qty < 1 or qty > C.MAX_QTY):
                    reason = C.R_BAD_QTY
                if reason == 0 and typ == C.POST_ONLY:
                    os_ = 1 - side
                    n_opp = books[b, Y.B_NLEV + os_]
                    if n_opp > 0:
                        bpx = levels[ladder[books[b, Y.B_LOFF + os_] + n_opp - 1, 1], Y.L_PRICE]
                        if (side == C.BUY and price >= bpx) or (side == C.SELL and price <= bpx):
                            reason = C.R_POST_ONLY_WOULD_TAKE
        else:
            # CANCEL / MODIFY / REDUCE: find the live order in this book
            if oid > 0:
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
                    os_ = 1 - orders[slot, Y.O_SIDE]
                    n_opp = books[b, Y.B_NLEV + os_]
                    if n_opp > 0:
                        bpx = levels[ladder[books[b, Y.B_LOFF + os_] + n_opp - 1, 1], Y.L_PRICE]
                        if (os_ == C.SELL and price >= bpx) or (os_ == C.BUY and price <= bpx):
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
            arena[Y.H_RESULT] = 0
            arena[Y.H_NMSG] += 1
            i += 1
            continue

        # ---- simple paths: CANCEL, REDUCE, MODIFY in place --------------
        in_place = False
        if typ == C.MODIFY:
            in_place = price == orders[slot, Y.O_PRICE] and qty <= orders[slot, Y.O_QTY]
        if typ == C.CANCEL or typ == C.REDUCE or in_place:
            o = slot
            oq = orders[o, Y.O_QTY]
            lv = orders[o, Y.O_LEVEL]
            if typ == C.MODIFY or (typ == C.REDUCE and qty < oq):
                newq = qty if typ == C.MODIFY else oq - qty
                orders[o, Y.O_QTY] = newq
                levels[lv, Y.L_QTY] -= oq - newq
                events[ne, C.E_TS] = ts
                events[ne, C.E_KIND] = C.EV_MODIFIED
                events[ne, C.E_BOOK] = b
                events[ne, C.E_ID] = oid
                events[ne, C.E_ACCT] = acct
                events[ne, C.E_SIDE] = orders[o, Y.O_SIDE]
                events[ne, C.E_PRICE] = orders[o, Y.O_PRICE]
                events[ne, C.E_QTY] = newq
                events[ne, C.E_REASON] = 0
                ne += 1
                arena[Y.H_RESULT] = oid
                arena[Y.H_NMSG] += 1
                i += 1
                continue
            # full cancel: event, unlink, drop level if empty, free slot
            s = orders[o, Y.O_SIDE]
            events[ne, C.E_TS] = ts
            events[ne, C.E_KIND] = C.EV_CANCELLED
            events[ne, C.E_BOOK] = b
            events[ne, C.E_ID] = oid
            events[ne, C.E_ACCT] = acct
            events[ne, C.E_SIDE] = s
            events[ne, C.E_PRICE] = orders[o, Y.O_PRICE]
            events[ne, C.E_QTY] = oq
            events[ne, C.E_REASON] = C.CX_USER
            ne += 1
            # -- unlink o from its level (same code as in MODIFY below) --
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
                # remove the level from its ladder (search by key, shift left)
                loff = books[b, Y.B_LOFF + s]
                nl = books[b, Y.B_NLEV + s]
                key = levels[lv, Y.L_PRICE] if s == C.BUY else -levels[lv, Y.L_PRICE]
                lo = loff
                hi = loff + nl
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if ladder[mid, 0] < key:
                        lo = mid + 1
                    else:
                        hi = mid
                for k in range(lo, loff + nl - 1):
                    ladder[k, 0] = ladder[k + 1, 0]
                    ladder[k, 1] = ladder[k + 1, 1]
                books[b, Y.B_NLEV + s] = nl - 1
                levels[lv, Y.L_BOOK] = -1
                levels[lv, Y.L_NEXT_FREE] = arena[Y.H_LVL_FREE]
                arena[Y.H_LVL_FREE] = lv
                arena[Y.H_LVL_LIVE] -= 1
            # -- delete id from the hash (backward-shift deletion) --
            h = _hash_pos(oid, hmask)
            while htab[h, 0] != oid:
                h = (h + 1) & hmask
            j = h
            while True:
                j = (j + 1) & hmask
                if htab[j, 0] == 0:
                    break
                home = _hash_pos(htab[j, 0], hmask)
                # move j back to h if its home is not cyclically in (h, j]
                if (j > h and (home <= h or home > j)) or (j < h and (home <= h and home > j)):
                    htab[h, 0] = htab[j, 0]
                    htab[h, 1] = htab[j, 1]
                    h = j
            htab[h, 0] = 0
            arena[Y.H_HASH_COUNT] -= 1
            # -- free the slot --
            orders[o, Y.O_BOOK] = -1
            orders[o, Y.O_NEXT] = arena[Y.H_ORD_FREE]
            arena[Y.H_ORD_FREE] = o
            arena[Y.H_ORD_LIVE] -= 1
            arena[Y.H_RESULT] = oid
            arena[Y.H_NMSG] += 1
            i += 1
            continue

        # ---- taking paths: new orders, and MODIFY that loses priority ----
        if typ == C.MODIFY:
            side = orders[slot, Y.O_SIDE]
            tif = orders[slot, Y.O_TIF]
        else:
            tif = typ
        os_ = 1 - side
        # capacity: one order slot, one level, one hash entry, ladder room
        # for a new level on this side, and output rows for the worst case
        if arena[Y.H_ORD_LIVE] >= ord_cap:
            status = Y.ST_NEED_ORDERS
            break
        if arena[Y.H_LVL_LIVE] >= lvl_cap:
            status = Y.ST_NEED_LEVELS
            break
        if 2 * (arena[Y.H_HASH_COUNT] + 1) > hash_cap:
            status = Y.ST_NEED_HASH
            break
        if books[b, Y.B_NLEV + side] >= books[b, Y.B_LCAP + side]:
            arena[Y.H_NEED_BOOK] = b
            arena[Y.H_NEED_SIDE] = side
            status = Y.ST_NEED_LADDER
            break
        n_opp_orders = books[b, Y.B_NORD + os_]
        need_f = min(n_opp_orders, qty)
        need_e = need_f + 4
        if stp == C.STP_CANCEL_RESTING or stp == C.STP_CANCEL_BOTH:
            need_e += n_opp_orders
        if fill_cap - nf < need_f or ev_cap - ne < need_e:
            arena[Y.H_NEED_FILLS] = need_f
            arena[Y.H_NEED_EVENTS] = need_e
            status = Y.ST_NEED_OUTPUT
            break

        if typ == C.MODIFY:
            # leave the current queue; the order re-enters as a new arrival
            o = slot
            oq = orders[o, Y.O_QTY]
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
            books[b, Y.B_NORD + side] -= 1
            if levels[lv, Y.L_COUNT] == 0:
                loff = books[b, Y.B_LOFF + side]
                nl = books[b, Y.B_NLEV + side]
                key = levels[lv, Y.L_PRICE] if side == C.BUY else -levels[lv, Y.L_PRICE]
                lo = loff
                hi = loff + nl
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if ladder[mid, 0] < key:
                        lo = mid + 1
                    else:
                        hi = mid
                for k in range(lo, loff + nl - 1):
                    ladder[k, 0] = ladder[k + 1, 0]
                    ladder[k, 1] = ladder[k + 1, 1]
                books[b, Y.B_NLEV + side] = nl - 1
                levels[lv, Y.L_BOOK] = -1
                levels[lv, Y.L_NEXT_FREE] = arena[Y.H_LVL_FREE]
                arena[Y.H_LVL_FREE] = lv
                arena[Y.H_LVL_LIVE] -= 1
            orders[o, Y.O_PRICE] = price
            orders[o, Y.O_QTY] = qty
            acct = orders[o, Y.O_ACCT]
            events[ne, C.E_TS] = ts
            events[ne, C.E_KIND] = C.EV_MODIFIED
            events[ne, C.E_BOOK] = b
            events[ne, C.E_ID] = oid
            events[ne, C.E_ACCT] = acct
            events[ne, C.E_SIDE] = side
            events[ne, C.E_PRICE] = price
            events[ne, C.E_QTY] = qty
            events[ne, C.E_REASON] = 0
            ne += 1
        else:
            if oid == 0:
                oid = arena[Y.H_NEXT_ID]
                arena[Y.H_NEXT_ID] = oid + 1
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

        rem = qty
        stp_stop = False
        fok_ok = True
        if tif == C.FOK:
            # can the whole quantity be filled now within the limit?
            avail = 0
            n_opp = books[b, Y.B_NLEV + os_]
            loff = books[b, Y.B_LOFF + os_]
            k = loff + n_opp - 1
            while k >= loff and avail < rem:
                lv = ladder[k, 1]
                lpx = levels[lv, Y.L_PRICE]
                if (side == C.BUY and lpx > price) or (side == C.SELL and lpx < price):
                    break
                if stp == C.STP_NONE:
                    avail += levels[lv, Y.L_QTY]
                else:
                    o = levels[lv, Y.L_HEAD]
                    while o >= 0 and avail < rem:
                        if orders[o, Y.O_ACCT] == acct:
                            if stp != C.STP_CANCEL_RESTING:
                                k = loff - 1   # counting stops here
                                break
                        else:
                            avail += orders[o, Y.O_QTY]
                        o = orders[o, Y.O_NEXT]
                k -= 1
            fok_ok = avail >= rem

        # ---- the matching walk ------------------------------------------
        if fok_ok and tif != C.POST_ONLY:
            while rem > 0:
                n_opp = books[b, Y.B_NLEV + os_]
                if n_opp == 0:
                    break
                lpos = books[b, Y.B_LOFF + os_] + n_opp - 1
                lv = ladder[lpos, 1]
                lpx = levels[lv, Y.L_PRICE]
                if typ != C.MARKET:
                    if (side == C.BUY and lpx > price) or (side == C.SELL and lpx < price):
                        break
                o = levels[lv, Y.L_HEAD]
                while o >= 0 and rem > 0:
                    nx = orders[o, Y.O_NEXT]
                    mq = orders[o, Y.O_QTY]
                    macct = orders[o, Y.O_ACCT]
                    mid_ = orders[o, Y.O_ID]
                    done_maker = False
                    if stp != C.STP_NONE and macct == acct:
                        if stp == C.STP_CANCEL_INCOMING:
                            stp_stop = True
                            break
                        events[ne, C.E_TS] = ts
                        events[ne, C.E_KIND] = C.EV_CANCELLED
                        events[ne, C.E_BOOK] = b
                        events[ne, C.E_ID] = mid_
                        events[ne, C.E_ACCT] = macct
                        events[ne, C.E_SIDE] = os_
                        events[ne, C.E_PRICE] = lpx
                        events[ne, C.E_QTY] = mq
                        events[ne, C.E_REASON] = C.CX_STP
                        ne += 1
                        levels[lv, Y.L_QTY] -= mq
                        done_maker = True
                        if stp == C.STP_CANCEL_BOTH:
                            stp_stop = True
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
                        mq -= q
                        orders[o, Y.O_QTY] = mq
                        levels[lv, Y.L_QTY] -= q
                        books[b, Y.B_LAST_PX] = lpx
                        books[b, Y.B_LAST_TS] = ts
                        books[b, Y.B_VOLUME] += q
                        books[b, Y.B_NTRADES] += 1
                        if mq == 0:
                            events[ne, C.E_TS] = ts
                            events[ne, C.E_KIND] = C.EV_FILLED
                            events[ne, C.E_BOOK] = b
                            events[ne, C.E_ID] = mid_
                            events[ne, C.E_ACCT] = macct
                            events[ne, C.E_SIDE] = os_
                            events[ne, C.E_PRICE] = lpx
                            events[ne, C.E_QTY] = 0
                            events[ne, C.E_REASON] = 0
                            ne += 1
                            done_maker = True
                    if done_maker:
                        # pop the maker (it is the head of its level)
                        levels[lv, Y.L_HEAD] = nx
                        if nx >= 0:
                            orders[nx, Y.O_PREV] = -1
                        else:
                            levels[lv, Y.L_TAIL] = -1
                        levels[lv, Y.L_COUNT] -= 1
                        books[b, Y.B_NORD + os_] -= 1
                        h = _hash_pos(mid_, hmask)
                        while htab[h, 0] != mid_:
                            h = (h + 1) & hmask
                        j = h
                        while True:
                            j = (j + 1) & hmask
                            if htab[j, 0] == 0:
                                break
                            home = _hash_pos(htab[j, 0], hmask)
                            if (j > h and (home <= h or home > j)) or (j < h and (home <= h and home > j)):
                                htab[h, 0] = htab[j, 0]
                                htab[h, 1] = htab[j, 1]
                                h = j
                        htab[h, 0] = 0
                        arena[Y.H_HASH_COUNT] -= 1
                        orders[o, Y.O_BOOK] = -1
                        orders[o, Y.O_NEXT] = arena[Y.H_ORD_FREE]
                        arena[Y.H_ORD_FREE] = o
                        arena[Y.H_ORD_LIVE] -= 1
                    if stp_stop:
                        break
                    o = nx
                if levels[lv, Y.L_COUNT] == 0:
                    # the best level emptied: it is the last ladder entry
                    books[b, Y.B_NLEV + os_] = n_opp - 1
                    levels[lv, Y.L_BOOK] = -1
                    levels[lv, Y.L_NEXT_FREE] = arena[Y.H_LVL_FREE]
                    arena[Y.H_LVL_FREE] = lv
                    arena[Y.H_LVL_LIVE] -= 1
                if stp_stop:
                    break

        # ---- the taker's end: done, or rests ------------------------------
        rests = rem > 0 and not stp_stop and (tif == C.LIMIT or tif == C.POST_ONLY)
        if not rests:
            events[ne, C.E_TS] = ts
            events[ne, C.E_BOOK] = b
            events[ne, C.E_ID] = oid
            events[ne, C.E_ACCT] = acct
            events[ne, C.E_SIDE] = side
            events[ne, C.E_PRICE] = price
            if rem == 0:
                events[ne, C.E_KIND] = C.EV_FILLED
                events[ne, C.E_QTY] = 0
                events[ne, C.E_REASON] = 0
            else:
                events[ne, C.E_KIND] = C.EV_CANCELLED
                events[ne, C.E_QTY] = rem
                if stp_stop:
                    events[ne, C.E_REASON] = C.CX_STP
                elif not fok_ok:
                    events[ne, C.E_REASON] = C.CX_FOK_UNFILLABLE
                else:
                    events[ne, C.E_REASON] = C.CX_IOC_REMAINDER
            ne += 1
            if typ == C.MODIFY:
                # a modified order that is done leaves the hash and its slot
                o = slot
                h = _hash_pos(oid, hmask)
                while htab[h, 0] != oid:
                    h = (h + 1) & hmask
                j = h
                while True:
                    j = (j + 1) & hmask
                    if htab[j, 0] == 0:
                        break
                    home = _hash_pos(htab[j, 0], hmask)
                    if (j > h and (home <= h or home > j)) or (j < h and (home <= h and home > j)):
                        htab[h, 0] = htab[j, 0]
                        htab[h, 1] = htab[j, 1]
                        h = j
                htab[h, 0] = 0
                arena[Y.H_HASH_COUNT] -= 1
                orders[o, Y.O_BOOK] = -1
                orders[o, Y.O_NEXT] = arena[Y.H_ORD_FREE]
                arena[Y.H_ORD_FREE] = o
                arena[Y.H_ORD_LIVE] -= 1
        else:
            if typ == C.MODIFY:
                o = slot
                orders[o, Y.O_QTY] = rem
            else:
                o = arena[Y.H_ORD_FREE]
                arena[Y.H_ORD_FREE] = orders[o, Y.O_NEXT]
                arena[Y.H_ORD_LIVE] += 1
                orders[o, Y.O_ID] = oid
                orders[o, Y.O_BOOK] = b
                orders[o, Y.O_SIDE] = side
                orders[o, Y.O_PRICE] = price
                orders[o, Y.O_QTY] = rem
                orders[o, Y.O_ACCT] = acct
                orders[o, Y.O_TIF] = tif
                h = _hash_pos(oid, hmask)
                while htab[h, 0] != 0:
                    h = (h + 1) & hmask
                htab[h, 0] = oid
                htab[h, 1] = o
                arena[Y.H_HASH_COUNT] += 1
            orders[o, Y.O_TS] = ts
            orders[o, Y.O_SEQ] = arena[Y.H_SEQ]
            arena[Y.H_SEQ] += 1
            # find or create the level (ladder sorted by key, best last)
            loff = books[b, Y.B_LOFF + side]
            nl = books[b, Y.B_NLEV + side]
            key = price if side == C.BUY else -price
            # most arrivals land near the top: check the best first
            if nl > 0 and ladder[loff + nl - 1, 0] == key:
                lo = loff + nl - 1
                found = True
            elif nl > 0 and ladder[loff + nl - 1, 0] < key:
                lo = loff + nl
                found = False
            else:
                lo = loff
                hi = loff + nl
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if ladder[mid, 0] < key:
                        lo = mid + 1
                    else:
                        hi = mid
                found = lo < loff + nl and ladder[lo, 0] == key
            if found:
                lv = ladder[lo, 1]
            else:
                lv = arena[Y.H_LVL_FREE]
                arena[Y.H_LVL_FREE] = levels[lv, Y.L_NEXT_FREE]
                arena[Y.H_LVL_LIVE] += 1
                levels[lv, Y.L_PRICE] = price
                levels[lv, Y.L_QTY] = 0
                levels[lv, Y.L_COUNT] = 0
                levels[lv, Y.L_HEAD] = -1
                levels[lv, Y.L_TAIL] = -1
                levels[lv, Y.L_BOOK] = b
                levels[lv, Y.L_SIDE] = side
                for k in range(loff + nl, lo, -1):
                    ladder[k, 0] = ladder[k - 1, 0]
                    ladder[k, 1] = ladder[k - 1, 1]
                ladder[lo, 0] = key
                ladder[lo, 1] = lv
                books[b, Y.B_NLEV + side] = nl + 1
            # append at the tail of the FIFO
            tail = levels[lv, Y.L_TAIL]
            orders[o, Y.O_PREV] = tail
            orders[o, Y.O_NEXT] = -1
            orders[o, Y.O_LEVEL] = lv
            if tail >= 0:
                orders[tail, Y.O_NEXT] = o
            else:
                levels[lv, Y.L_HEAD] = o
            levels[lv, Y.L_TAIL] = o
            levels[lv, Y.L_QTY] += rem
            levels[lv, Y.L_COUNT] += 1
            books[b, Y.B_NORD + side] += 1
        arena[Y.H_RESULT] = oid
        arena[Y.H_NMSG] += 1
        i += 1

    arena[Y.H_NFILLS] = nf
    arena[Y.H_NEVENTS] = ne
    return status, i


@njit(cache=True)
def submit(arena, ts, typ, book, side, order_id, price, qty, account, stp):
    """Per-message entry point: write the message into the arena's inbox and
    run it.  Returns ``(status, result)``; ``result`` is the order id (0 if
    rejected) when status is ``ST_OK``."""
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
    status, _ = run(arena, inbox, 0, 1)
    return status, arena[Y.H_RESULT]
