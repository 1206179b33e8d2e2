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
@njit(cache=True, _nrt=False)
def _hash_pos(key, mask):
    """Home slot of an order id (Fibonacci hashing, ``mask`` = cap - 1)."""
    h = np.uint64(key) * _GOLDEN
    return np.int64(h >> np.uint64(29)) & mask


# An index the kernel knows is in range and non-negative: indexing with an
# unsigned integer skips numba's negative-index wraparound fix-up, which
# measured about 13% of the kernel's time.
_u = np.uint64


@njit(cache=True, _nrt=False)
def _rank(price, side):
    """Higher rank = better price on ``side``."""
    return price if side == C.BUY else Y.RANK_BASE - price


@njit(cache=True, _nrt=False)
def _best_level(books, chunks, ladder, b, s):
    """Row of the best level on side ``s`` of book ``b``, or -1."""
    n = books[b, Y.B_NCHK + s]
    if n == 0:
        return -1
    c = ladder[books[b, Y.B_LOFF + s] + n - 1, 1]
    return chunks[c, Y.K_LVL + 63 - clz64(chunks[c, Y.K_BITS])]


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False)
def _ladder_search(ladder, lo, hi, key):
    """First position in ``ladder[lo:hi]`` whose key is >= ``key``."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if ladder[mid, 0] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, _nrt=False)
def _crosses(side, price, opp_price):
    """Would a ``side`` order at ``price`` trade with a level at ``opp_price``?"""
    return price >= opp_price if side == C.BUY else price <= opp_price


# ---------------------------------------------------------------- the kernel
@njit(cache=True, _nrt=False)
def run(A, ms, O, start, stop, fo, fcap, eo, ecap,  # noqa: C901 - one body by design
        m_ts, m_type, m_book, m_side, m_id, m_price, m_qty, m_acct, m_stp):
    """Process messages ``start..stop-1`` of ``ms`` against the arena ``A``,
    writing fill rows into ``O`` from offset ``fo`` (room for ``fcap`` rows)
    and order-event rows from offset ``eo`` (``ecap`` rows); return the
    status, with the index of the next unprocessed message in
    ``A[H_NEXT_INDEX]``.  ``ms`` and ``O`` are flat int64 arrays of 9-column
    rows.  With ``start < 0`` the one message is given by the ``m_*``
    scalars instead (the per-message entry point: ``Engine.submit`` passes
    the arena itself as ``ms`` and ``O``, whose own output buffers then
    receive the rows).  One compiled function serves both paths: a second
    compiled function calling this one would compile the whole kernel again
    (numba links and re-optimizes callees), doubling the cold start.

    ``status`` is ``ST_OK`` when all were processed, otherwise the reason the
    kernel stopped before message ``next_index`` (see ``_layout.ST_*``).

    Notation: tables are addressed through row bases into the flat arena,
    e.g. ``po = ORD + o * N_ORD`` then ``A[_u(po + O_QTY)]`` is order
    ``o``'s remaining qty (constant strides let the compiler fold the
    address arithmetic).  Blocks marked ``[name]`` are what a less
    performance-minded engine would call as functions; they are spelled out
    in place (see the module docstring for why)."""
    ORD = A[Y.H_ORD_OFF]
    LVL = A[Y.H_LVL_OFF]
    CHK = A[Y.H_CHK_OFF]
    BKS = A[Y.H_BOOK_OFF]
    LAD = A[Y.H_LAD_OFF]
    HSH = A[Y.H_HASH_OFF]
    ord_cap = A[Y.H_ORD_CAP]
    lvl_cap = A[Y.H_LVL_CAP]
    chk_cap = A[Y.H_CHK_CAP]
    n_books = A[Y.H_NBOOKS]
    hash_cap = A[Y.H_HASH_CAP]
    hmask = hash_cap - 1
    fill_cap = fcap
    ev_cap = ecap
    fl = O
    ev = O
    # header counters stay in locals for the whole call (the arena aliases
    # every table, so the compiler could not keep them in registers otherwise)
    nf = A[Y.H_NFILLS]
    ne = A[Y.H_NEVENTS]
    ord_free = A[Y.H_ORD_FREE]
    ord_live = A[Y.H_ORD_LIVE]
    lvl_free = A[Y.H_LVL_FREE]
    lvl_live = A[Y.H_LVL_LIVE]
    chk_free = A[Y.H_CHK_FREE]
    chk_live = A[Y.H_CHK_LIVE]
    hcount = A[Y.H_HASH_COUNT]
    seq = A[Y.H_SEQ]
    next_id = A[Y.H_NEXT_ID]
    result = A[Y.H_RESULT]

    one = start < 0
    if one:
        start = 0
        stop = 1
    i = start
    status = Y.ST_OK
    while i < stop:
        if one:
            ts, typ, b, side, oid = m_ts, m_type, m_book, m_side, m_id
            price, qty, acct, stp = m_price, m_qty, m_acct, m_stp
        else:
            pm = i * C.N_MSG
            ts = ms[_u(pm + C.M_TS)]
            typ = ms[_u(pm + C.M_TYPE)]
            b = ms[_u(pm + C.M_BOOK)]
            side = ms[_u(pm + C.M_SIDE)]
            oid = ms[_u(pm + C.M_ID)]
            price = ms[_u(pm + C.M_PRICE)]
            qty = ms[_u(pm + C.M_QTY)]
            acct = ms[_u(pm + C.M_ACCT)]
            stp = ms[_u(pm + C.M_STP)]

        # room for the rows any message may write before it knows more
        if ev_cap - ne < 4:
            A[Y.H_NEED_FILLS] = 0
            A[Y.H_NEED_EVENTS] = 4
            status = Y.ST_NEED_OUTPUT
            break

        # ================= validation (no state changes) ==================
        reason = 0
        slot = -1                 # slot of the live order a message names
        hfree = -1                # empty hash cell found by the duplicate check
        pb = BKS + b * Y.N_BOOK   # row bases: book, named order, its level
        po = 0
        pl = 0
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
                    while A[_u(HSH + 2 * h)] != 0:
                        if A[_u(HSH + 2 * h)] == oid:
                            reason = C.R_DUPLICATE_ID
                            break
                        h = (h + 1) & hmask
                    hfree = h
                if reason != 0:
                    pass
                elif typ != C.MARKET and price == C.PRICE_OFF_GRID:
                    reason = C.R_OFF_GRID
                elif typ != C.MARKET and (price < 1 or price > A[_u(pb + Y.B_MAX_PRICE)]):
                    reason = C.R_BAD_PRICE
                elif qty < 1 or qty > C.MAX_QTY:
                    reason = C.R_BAD_QTY
                elif typ == C.POST_ONLY:
                    # [best level of the other side]
                    nc = A[_u(pb + Y.B_NCHK + 1 - side)]
                    if nc > 0:
                        c = A[_u(LAD + 2 * (A[_u(pb + Y.B_LOFF + 1 - side)] + nc - 1) + 1)]
                        pc = CHK + c * Y.N_CHK
                        lv = A[_u(pc + Y.K_LVL + 63 - clz64(A[_u(pc + Y.K_BITS)]))]
                        if _crosses(side, price, A[_u(LVL + lv * Y.N_LVL + Y.L_PRICE)]):
                            reason = C.R_POST_ONLY_WOULD_TAKE
        else:
            # CANCEL / MODIFY / REDUCE name a live order of this book
            if oid > 0:
                # [hash lookup]
                h = _hash_pos(oid, hmask)
                while A[_u(HSH + 2 * h)] != 0:
                    if A[_u(HSH + 2 * h)] == oid:
                        slot = A[_u(HSH + 2 * h + 1)]
                        break
                    h = (h + 1) & hmask
            if slot >= 0:
                po = ORD + slot * Y.N_ORD
                pl = LVL + A[_u(po + Y.O_LEVEL)] * Y.N_LVL
            if slot < 0 or A[_u(pl + Y.L_BOOK)] != b:
                reason = C.R_UNKNOWN_ID
            elif A[_u(po + Y.O_ACCT)] != acct:
                reason = C.R_NOT_OWNER
            elif typ == C.REDUCE:
                if qty < 1 or qty > C.MAX_QTY:
                    reason = C.R_BAD_QTY
            elif typ == C.MODIFY:
                if stp < C.STP_NONE or stp > C.STP_CANCEL_BOTH:
                    reason = C.R_BAD_STP
                elif price == C.PRICE_OFF_GRID:
                    reason = C.R_OFF_GRID
                elif price < 1 or price > A[_u(pb + Y.B_MAX_PRICE)]:
                    reason = C.R_BAD_PRICE
                elif qty < 1 or qty > C.MAX_QTY:
                    reason = C.R_BAD_QTY
                elif A[_u(po + Y.O_TIF)] == C.POST_ONLY and price != A[_u(pl + Y.L_PRICE)]:
                    # [best level of the other side]
                    s = A[_u(pl + Y.L_SIDE)]
                    nc = A[_u(pb + Y.B_NCHK + 1 - s)]
                    if nc > 0:
                        c = A[_u(LAD + 2 * (A[_u(pb + Y.B_LOFF + 1 - s)] + nc - 1) + 1)]
                        pc = CHK + c * Y.N_CHK
                        lv = A[_u(pc + Y.K_LVL + 63 - clz64(A[_u(pc + Y.K_BITS)]))]
                        if _crosses(s, price, A[_u(LVL + lv * Y.N_LVL + Y.L_PRICE)]):
                            reason = C.R_POST_ONLY_WOULD_TAKE

        if reason != 0:
            pe = eo + ne * C.N_EVENT
            ev[_u(pe + C.E_TS)] = ts
            ev[_u(pe + C.E_KIND)] = C.EV_REJECTED
            ev[_u(pe + C.E_BOOK)] = b
            ev[_u(pe + C.E_ID)] = oid
            ev[_u(pe + C.E_ACCT)] = acct
            ev[_u(pe + C.E_SIDE)] = side
            ev[_u(pe + C.E_PRICE)] = price
            ev[_u(pe + C.E_QTY)] = qty
            ev[_u(pe + C.E_REASON)] = reason
            ne += 1
            result = 0
            i += 1
            continue

        # ================= capacity for orders that may take and rest =====
        in_place = False
        if typ == C.MODIFY:
            in_place = price == A[_u(pl + Y.L_PRICE)] and qty <= A[_u(po + Y.O_QTY)]
            side = A[_u(pl + Y.L_SIDE)]
        fok_ok = True
        if typ <= C.POST_ONLY or (typ == C.MODIFY and not in_place):
            os_ = 1 - side
            tif = A[_u(po + Y.O_TIF)] if typ == C.MODIFY else typ
            lcap = A[_u(pb + Y.B_LCAP + side)]
            n = A[_u(pb + Y.B_NCHK + side)]
            full = (ord_live >= ord_cap or lvl_live >= lvl_cap or chk_live >= chk_cap
                    or 2 * (hcount + 1) > hash_cap or n >= lcap)
            fillable = False
            if tif == C.FOK or (tif == C.LIMIT and full):
                # [fillable now?] can the whole quantity trade within the
                # limit?  Walk the other side best first: chunks from the
                # top, bits high to low.  FOK needs the answer; a LIMIT needs
                # it only when a table is full (a LIMIT that fills at once
                # needs no room to rest).
                avail = 0
                loff = A[_u(pb + Y.B_LOFF + os_)]
                k = loff + A[_u(pb + Y.B_NCHK + os_)] - 1
                counting = True
                while k >= loff and avail < qty and counting:
                    pc = CHK + A[_u(LAD + 2 * k + 1)] * Y.N_CHK
                    bits = A[_u(pc + Y.K_BITS)]
                    while bits != 0 and avail < qty and counting:
                        hb = 63 - clz64(bits)
                        bits &= ~(np.int64(1) << hb)
                        pl2 = LVL + A[_u(pc + Y.K_LVL + hb)] * Y.N_LVL
                        if not _crosses(side, price, A[_u(pl2 + Y.L_PRICE)]):
                            counting = False
                        elif stp == C.STP_NONE:
                            avail += A[_u(pl2 + Y.L_QTY)]
                        else:
                            o = A[_u(pl2 + Y.L_HEAD)]
                            while o >= 0 and avail < qty:
                                po2 = ORD + o * Y.N_ORD
                                if A[_u(po2 + Y.O_ACCT)] != acct:
                                    avail += A[_u(po2 + Y.O_QTY)]
                                elif stp != C.STP_CANCEL_RESTING:
                                    counting = False
                                    break
                                o = A[_u(po2 + Y.O_NEXT)]
                    k -= 1
                fillable = avail >= qty
                if tif == C.FOK:
                    fok_ok = fillable
            if full and (tif == C.POST_ONLY or (tif == C.LIMIT and not fillable)):
                # the order may rest: it needs a slot and an id cell (a
                # re-entering MODIFY reuses its own), and a level, chunk and
                # ladder entry only if its price has none yet
                if typ != C.MODIFY and ord_live >= ord_cap:
                    status = Y.ST_NEED_ORDERS
                    break
                if typ != C.MODIFY and 2 * (hcount + 1) > hash_cap:
                    status = Y.ST_NEED_HASH
                    break
                r = _rank(price, side)
                key = r >> 6
                loff = A[_u(pb + Y.B_LOFF + side)]
                lo = loff
                hi = loff + n
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if A[_u(LAD + 2 * mid)] < key:
                        lo = mid + 1
                    else:
                        hi = mid
                chunk_exists = lo < loff + n and A[_u(LAD + 2 * lo)] == key
                level_exists = chunk_exists and ((A[_u(CHK + A[_u(LAD + 2 * lo + 1)] * Y.N_CHK + Y.K_BITS)]
                                                  >> (r & 63)) & 1) == 1
                if not level_exists:
                    if lvl_live >= lvl_cap:
                        status = Y.ST_NEED_LEVELS
                        break
                    if not chunk_exists and chk_live >= chk_cap:
                        status = Y.ST_NEED_CHUNKS
                        break
                    if not chunk_exists and n >= lcap:
                        A[Y.H_NEED_BOOK] = b
                        A[Y.H_NEED_SIDE] = side
                        status = Y.ST_NEED_LADDER
                        break
            n_opp = A[_u(pb + Y.B_NORD + os_)]
            need_f = n_opp if n_opp < qty else qty
            need_e = need_f + 4
            if stp == C.STP_CANCEL_RESTING or stp == C.STP_CANCEL_BOTH:
                need_e += n_opp
            if fill_cap - nf < need_f or ev_cap - ne < need_e:
                A[Y.H_NEED_FILLS] = need_f
                A[Y.H_NEED_EVENTS] = need_e
                status = Y.ST_NEED_OUTPUT
                break

        # ================= CANCEL / REDUCE / MODIFY ========================
        if typ >= C.CANCEL:
            o = slot
            oq = A[_u(po + Y.O_QTY)]
            lv = A[_u(po + Y.O_LEVEL)]
            s = A[_u(pl + Y.L_SIDE)]
            opx = A[_u(pl + Y.L_PRICE)]
            pe = eo + ne * C.N_EVENT
            ev[_u(pe + C.E_TS)] = ts
            ev[_u(pe + C.E_BOOK)] = b
            ev[_u(pe + C.E_ID)] = oid
            ev[_u(pe + C.E_ACCT)] = acct
            ev[_u(pe + C.E_SIDE)] = s
            ne += 1
            if in_place or (typ == C.REDUCE and qty < oq):
                newq = qty if typ == C.MODIFY else oq - qty
                A[_u(po + Y.O_QTY)] = newq
                A[_u(pl + Y.L_QTY)] -= oq - newq
                ev[_u(pe + C.E_KIND)] = C.EV_MODIFIED
                ev[_u(pe + C.E_PRICE)] = opx
                ev[_u(pe + C.E_QTY)] = newq
                ev[_u(pe + C.E_REASON)] = 0
                result = oid
                i += 1
                continue
            # the order leaves its queue: CANCEL, REDUCE of all, or a MODIFY
            # that loses priority (it re-enters below as a new arrival)
            if typ == C.MODIFY:
                ev[_u(pe + C.E_KIND)] = C.EV_MODIFIED
                ev[_u(pe + C.E_PRICE)] = price
                ev[_u(pe + C.E_QTY)] = qty
                ev[_u(pe + C.E_REASON)] = 0
            else:
                ev[_u(pe + C.E_KIND)] = C.EV_CANCELLED
                ev[_u(pe + C.E_PRICE)] = opx
                ev[_u(pe + C.E_QTY)] = oq
                ev[_u(pe + C.E_REASON)] = C.CX_USER
            # [unlink o from its level]
            pv = A[_u(po + Y.O_PREV)]
            nx = A[_u(po + Y.O_NEXT)]
            if pv >= 0:
                A[_u(ORD + pv * Y.N_ORD + Y.O_NEXT)] = nx
            else:
                A[_u(pl + Y.L_HEAD)] = nx
            if nx >= 0:
                A[_u(ORD + nx * Y.N_ORD + Y.O_PREV)] = pv
            else:
                A[_u(pl + Y.L_TAIL)] = pv
            A[_u(pl + Y.L_QTY)] -= oq
            cnt = A[_u(pl + Y.L_COUNT)] - 1
            A[_u(pl + Y.L_COUNT)] = cnt
            A[_u(pb + Y.B_NORD + s)] -= 1
            if cnt == 0:
                # [drop level lv]: clear its bit; drop its chunk if now empty
                c = A[_u(pl + Y.L_CHUNK)]
                pc = CHK + c * Y.N_CHK
                bits = A[_u(pc + Y.K_BITS)] & ~(np.int64(1) << (_rank(opx, s) & 63))
                A[_u(pc + Y.K_BITS)] = bits
                if bits == 0:
                    loff = A[_u(pb + Y.B_LOFF + s)]
                    n = A[_u(pb + Y.B_NCHK + s)]
                    if A[_u(LAD + 2 * (loff + n - 1) + 1)] == c:
                        pos = loff + n - 1
                    else:
                        key = A[_u(pc + Y.K_KEY)]
                        lo = loff
                        hi = loff + n
                        while lo < hi:
                            mid = (lo + hi) >> 1
                            if A[_u(LAD + 2 * mid)] < key:
                                lo = mid + 1
                            else:
                                hi = mid
                        pos = lo
                    for k in range(pos, loff + n - 1):
                        A[_u(LAD + 2 * k)] = A[_u(LAD + 2 * k + 2)]
                        A[_u(LAD + 2 * k + 1)] = A[_u(LAD + 2 * k + 3)]
                    A[_u(pb + Y.B_NCHK + s)] = n - 1
                    A[_u(pc + Y.K_NEXT_FREE)] = chk_free
                    chk_free = c
                    chk_live -= 1
                A[_u(pb + Y.B_NLEV + s)] -= 1
                A[_u(pl + Y.L_BOOK)] = -1
                A[_u(pl + Y.L_NEXT_FREE)] = lvl_free
                lvl_free = lv
                lvl_live -= 1
            # [free order o]: drop its id (backward-shift deletion, Knuth's
            # algorithm R: no tombstones) and return its slot
            h = _hash_pos(oid, hmask)
            while A[_u(HSH + 2 * h)] != oid:
                h = (h + 1) & hmask
            j = h
            while True:
                j = (j + 1) & hmask
                kj = A[_u(HSH + 2 * j)]
                if kj == 0:
                    break
                home = _hash_pos(kj, hmask)
                # entry j moves into the hole unless home is cyclically in (h, j]
                if (j > h and (home <= h or home > j)) or (j < h and home <= h and home > j):
                    A[_u(HSH + 2 * h)] = kj
                    A[_u(HSH + 2 * h + 1)] = A[_u(HSH + 2 * j + 1)]
                    h = j
            A[_u(HSH + 2 * h)] = 0
            hcount -= 1
            hfree = -1
            A[_u(po + Y.O_LEVEL)] = -1
            A[_u(po + Y.O_NEXT)] = ord_free
            ord_free = o
            ord_live -= 1
            if typ != C.MODIFY:
                result = oid
                i += 1
                continue
        else:
            if oid == 0:
                oid = next_id
                next_id += 1
            if typ == C.MARKET:
                price = 0
            pe = eo + ne * C.N_EVENT
            ev[_u(pe + C.E_TS)] = ts
            ev[_u(pe + C.E_KIND)] = C.EV_ACCEPTED
            ev[_u(pe + C.E_BOOK)] = b
            ev[_u(pe + C.E_ID)] = oid
            ev[_u(pe + C.E_ACCT)] = acct
            ev[_u(pe + C.E_SIDE)] = side
            ev[_u(pe + C.E_PRICE)] = price
            ev[_u(pe + C.E_QTY)] = qty
            ev[_u(pe + C.E_REASON)] = 0
            ne += 1

        # ================= a taker: new order or re-entering MODIFY ========
        rem = qty
        stp_stop = False
        if fok_ok and tif != C.POST_ONLY:
            # ---- the matching walk: best level first, FIFO within it ------
            while rem > 0:
                nc = A[_u(pb + Y.B_NCHK + os_)]
                if nc == 0:
                    break
                c = A[_u(LAD + 2 * (A[_u(pb + Y.B_LOFF + os_)] + nc - 1) + 1)]
                pc = CHK + c * Y.N_CHK
                hb = 63 - clz64(A[_u(pc + Y.K_BITS)])
                lv = A[_u(pc + Y.K_LVL + hb)]
                pl = LVL + lv * Y.N_LVL
                lpx = A[_u(pl + Y.L_PRICE)]
                if typ != C.MARKET and not _crosses(side, price, lpx):
                    break
                o = A[_u(pl + Y.L_HEAD)]
                while o >= 0:
                    po = ORD + o * Y.N_ORD
                    nx = A[_u(po + Y.O_NEXT)]
                    mq = A[_u(po + Y.O_QTY)]
                    macct = A[_u(po + Y.O_ACCT)]
                    mid_ = A[_u(po + Y.O_ID)]
                    pe = eo + ne * C.N_EVENT
                    if stp != C.STP_NONE and macct == acct:
                        if stp == C.STP_CANCEL_INCOMING:
                            stp_stop = True
                            break
                        ev[_u(pe + C.E_KIND)] = C.EV_CANCELLED
                        ev[_u(pe + C.E_QTY)] = mq
                        ev[_u(pe + C.E_REASON)] = C.CX_STP
                        stp_stop = stp == C.STP_CANCEL_BOTH
                    else:
                        q = mq if mq < rem else rem
                        pf = fo + nf * C.N_FILL
                        fl[_u(pf + C.F_TS)] = ts
                        fl[_u(pf + C.F_BOOK)] = b
                        fl[_u(pf + C.F_MAKER)] = mid_
                        fl[_u(pf + C.F_TAKER)] = oid
                        fl[_u(pf + C.F_MAKER_ACCT)] = macct
                        fl[_u(pf + C.F_TAKER_ACCT)] = acct
                        fl[_u(pf + C.F_PRICE)] = lpx
                        fl[_u(pf + C.F_QTY)] = q
                        fl[_u(pf + C.F_TAKER_SIDE)] = side
                        nf += 1
                        rem -= q
                        A[_u(pb + Y.B_VOLUME)] += q
                        A[_u(pb + Y.B_NTRADES)] += 1
                        A[_u(pb + Y.B_LAST_PX)] = lpx
                        A[_u(pb + Y.B_LAST_TS)] = ts
                        if q < mq:
                            # the taker is done; the maker stays at the head
                            A[_u(po + Y.O_QTY)] = mq - q
                            A[_u(pl + Y.L_QTY)] -= q
                            break
                        ev[_u(pe + C.E_KIND)] = C.EV_FILLED
                        ev[_u(pe + C.E_QTY)] = 0
                        ev[_u(pe + C.E_REASON)] = 0
                    ev[_u(pe + C.E_TS)] = ts
                    ev[_u(pe + C.E_BOOK)] = b
                    ev[_u(pe + C.E_ID)] = mid_
                    ev[_u(pe + C.E_ACCT)] = macct
                    ev[_u(pe + C.E_SIDE)] = os_
                    ev[_u(pe + C.E_PRICE)] = lpx
                    ne += 1
                    # the maker is done (filled or STP-cancelled): pop the head
                    A[_u(pl + Y.L_HEAD)] = nx
                    if nx >= 0:
                        A[_u(ORD + nx * Y.N_ORD + Y.O_PREV)] = -1
                    else:
                        A[_u(pl + Y.L_TAIL)] = -1
                    A[_u(pl + Y.L_QTY)] -= mq
                    A[_u(pl + Y.L_COUNT)] -= 1
                    A[_u(pb + Y.B_NORD + os_)] -= 1
                    # [free order o] (as above)
                    h = _hash_pos(mid_, hmask)
                    while A[_u(HSH + 2 * h)] != mid_:
                        h = (h + 1) & hmask
                    j = h
                    while True:
                        j = (j + 1) & hmask
                        kj = A[_u(HSH + 2 * j)]
                        if kj == 0:
                            break
                        home = _hash_pos(kj, hmask)
                        if (j > h and (home <= h or home > j)) or (j < h and home <= h and home > j):
                            A[_u(HSH + 2 * h)] = kj
                            A[_u(HSH + 2 * h + 1)] = A[_u(HSH + 2 * j + 1)]
                            h = j
                    A[_u(HSH + 2 * h)] = 0
                    hcount -= 1
                    hfree = -1
                    A[_u(po + Y.O_LEVEL)] = -1
                    A[_u(po + Y.O_NEXT)] = ord_free
                    ord_free = o
                    ord_live -= 1
                    if stp_stop or rem == 0:
                        break
                    o = nx
                if A[_u(pl + Y.L_COUNT)] == 0:
                    # [drop level lv] -- the best level: its chunk is the
                    # last ladder entry and it is the chunk's top bit
                    bits = A[_u(pc + Y.K_BITS)] & ~(np.int64(1) << hb)
                    A[_u(pc + Y.K_BITS)] = bits
                    if bits == 0:
                        A[_u(pb + Y.B_NCHK + os_)] = nc - 1
                        A[_u(pc + Y.K_NEXT_FREE)] = chk_free
                        chk_free = c
                        chk_live -= 1
                    A[_u(pb + Y.B_NLEV + os_)] -= 1
                    A[_u(pl + Y.L_BOOK)] = -1
                    A[_u(pl + Y.L_NEXT_FREE)] = lvl_free
                    lvl_free = lv
                    lvl_live -= 1
                if stp_stop:
                    break

        if rem > 0 and not stp_stop and (tif == C.LIMIT or tif == C.POST_ONLY):
            # ---- the remainder rests: a slot, its id, then its level ------
            o = ord_free
            po = ORD + o * Y.N_ORD
            ord_free = A[_u(po + Y.O_NEXT)]
            ord_live += 1
            A[_u(po + Y.O_ID)] = oid
            A[_u(po + Y.O_QTY)] = rem
            A[_u(po + Y.O_ACCT)] = acct
            A[_u(po + Y.O_TIF)] = tif
            A[_u(po + Y.O_SEQ)] = seq
            seq += 1
            # the duplicate check already found an empty cell for this id,
            # still valid if no id was deleted since
            h = hfree
            if h < 0:
                h = _hash_pos(oid, hmask)
                while A[_u(HSH + 2 * h)] != 0:
                    h = (h + 1) & hmask
            A[_u(HSH + 2 * h)] = oid
            A[_u(HSH + 2 * h + 1)] = o
            hcount += 1
            # [find or create the level]: most arrivals land in the top chunk
            r = _rank(price, side)
            key = r >> 6
            bit = r & 63
            loff = A[_u(pb + Y.B_LOFF + side)]
            n = A[_u(pb + Y.B_NCHK + side)]
            top = A[_u(LAD + 2 * (loff + n - 1))] if n > 0 else -1
            if top == key:
                pos = loff + n - 1
                found = True
            elif top < key:
                pos = loff + n
                found = False
            else:
                lo = loff
                hi = loff + n
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if A[_u(LAD + 2 * mid)] < key:
                        lo = mid + 1
                    else:
                        hi = mid
                pos = lo
                found = pos < loff + n and A[_u(LAD + 2 * pos)] == key
            if found:
                c = A[_u(LAD + 2 * pos + 1)]
                pc = CHK + c * Y.N_CHK
            else:
                c = chk_free
                pc = CHK + c * Y.N_CHK
                chk_free = A[_u(pc + Y.K_NEXT_FREE)]
                chk_live += 1
                A[_u(pc + Y.K_KEY)] = key
                A[_u(pc + Y.K_BITS)] = 0
                for k in range(loff + n, pos, -1):
                    A[_u(LAD + 2 * k)] = A[_u(LAD + 2 * k - 2)]
                    A[_u(LAD + 2 * k + 1)] = A[_u(LAD + 2 * k - 1)]
                A[_u(LAD + 2 * pos)] = key
                A[_u(LAD + 2 * pos + 1)] = c
                A[_u(pb + Y.B_NCHK + side)] = n + 1
            bits = A[_u(pc + Y.K_BITS)]
            if (bits >> bit) & 1:
                lv = A[_u(pc + Y.K_LVL + bit)]
                pl = LVL + lv * Y.N_LVL
                tail = A[_u(pl + Y.L_TAIL)]
                A[_u(ORD + tail * Y.N_ORD + Y.O_NEXT)] = o
                A[_u(pl + Y.L_QTY)] += rem
                A[_u(pl + Y.L_COUNT)] += 1
            else:
                lv = lvl_free
                pl = LVL + lv * Y.N_LVL
                lvl_free = A[_u(pl + Y.L_NEXT_FREE)]
                lvl_live += 1
                A[_u(pl + Y.L_PRICE)] = price
                A[_u(pl + Y.L_QTY)] = rem
                A[_u(pl + Y.L_COUNT)] = 1
                A[_u(pl + Y.L_HEAD)] = o
                A[_u(pl + Y.L_BOOK)] = b
                A[_u(pl + Y.L_SIDE)] = side
                A[_u(pl + Y.L_CHUNK)] = c
                A[_u(pc + Y.K_BITS)] = bits | (np.int64(1) << bit)
                A[_u(pc + Y.K_LVL + bit)] = lv
                A[_u(pb + Y.B_NLEV + side)] += 1
                tail = -1
            # append at the back of the FIFO
            A[_u(po + Y.O_PREV)] = tail
            A[_u(po + Y.O_NEXT)] = -1
            A[_u(po + Y.O_LEVEL)] = lv
            A[_u(pl + Y.L_TAIL)] = o
            A[_u(pb + Y.B_NORD + side)] += 1
        else:
            # ---- the taker is done: filled, or its remainder cancelled ----
            pe = eo + ne * C.N_EVENT
            ev[_u(pe + C.E_TS)] = ts
            ev[_u(pe + C.E_BOOK)] = b
            ev[_u(pe + C.E_ID)] = oid
            ev[_u(pe + C.E_ACCT)] = acct
            ev[_u(pe + C.E_SIDE)] = side
            ev[_u(pe + C.E_PRICE)] = price
            ev[_u(pe + C.E_QTY)] = rem
            if rem == 0:
                ev[_u(pe + C.E_KIND)] = C.EV_FILLED
                ev[_u(pe + C.E_REASON)] = 0
            else:
                ev[_u(pe + C.E_KIND)] = C.EV_CANCELLED
                if stp_stop:
                    ev[_u(pe + C.E_REASON)] = C.CX_STP
                elif not fok_ok:
                    ev[_u(pe + C.E_REASON)] = C.CX_FOK_UNFILLABLE
                else:
                    ev[_u(pe + C.E_REASON)] = C.CX_IOC_REMAINDER
            ne += 1
        result = oid
        i += 1

    A[Y.H_NFILLS] = nf
    A[Y.H_NEVENTS] = ne
    A[Y.H_ORD_FREE] = ord_free
    A[Y.H_ORD_LIVE] = ord_live
    A[Y.H_LVL_FREE] = lvl_free
    A[Y.H_LVL_LIVE] = lvl_live
    A[Y.H_CHK_FREE] = chk_free
    A[Y.H_CHK_LIVE] = chk_live
    A[Y.H_HASH_COUNT] = hcount
    A[Y.H_SEQ] = seq
    A[Y.H_NEXT_ID] = next_id
    A[Y.H_RESULT] = result
    A[Y.H_NMSG] += i - start
    A[Y.H_NEXT_INDEX] = i
    return status
