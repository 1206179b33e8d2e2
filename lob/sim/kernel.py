"""The discrete-event simulation kernel (compiled).

``advance(W, t_stop, actions, n_actions)`` runs the event queue of the world
``W`` (see ``world.World``) until ``t_stop`` (ns) and returns a status
(``layout.S_*``):

* ``S_DONE``: no event at or before ``t_stop`` is left;
* ``S_PYTHON``: the next event belongs to a Python strategy; it is in
  ``W.pyev`` and the Python layer calls the strategy, then calls ``advance``
  again with the strategy's actions;
* ``S_FLUSH`` / ``S_GROW``: a log is full or a table needs to grow; nothing
  of the pending event was applied (it is back in the queue).

Time.  Every event carries a time and a sequence number; ties in time are
broken by the sequence number, so a scenario and seed give one event order,
in any process.  An agent's order reaches the venue after its order-entry
latency; what it learns (own fills and order events) reaches it after its
market-data latency; its decisions read the top of book as it was one
market-data latency ago (the per-book tape).

Money.  Balances are int64 atoms per account and asset.  An order is
accepted only if its account can pay for it (quote for buys at the limit
price plus the taker fee, base for sells); the amount is reserved until the
order is done; a margin account may go below zero down to its credit
line (``World.credit``), the loan a venue's risk engine watches.  Trades settle at once at the venue: buyer pays notional plus
its fee, seller receives notional minus its fee, fees go to the venue's fee
account, so every asset is conserved exactly.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..core import _kernel as EK
from ..core import _layout as EY
from ..core import _queries as EQ
from ..core import codes as C
from ..core._bits import clz64
from . import heap as H
from . import idmap
from . import layout as L
from . import rng
from . import world as WD
from .guarded import record_buy


# ------------------------------------------------------------------ basics
@njit(cache=True, _nrt=False)
def schedule(W, t, kind, agent, p0, p1, p2, p3):
    """Queue an event (the caller guarantees heap room)."""
    seq = W.clock[L.K_SEQ]
    W.clock[L.K_SEQ] = seq + 1
    W.clock[L.K_HEAPN] = H.push(W.heap, W.clock[L.K_HEAPN], t, seq, kind, agent, p0, p1, p2, p3)


@njit(cache=True, _nrt=False)
def latency(W, a, which):
    """A draw of agent ``a``'s order-entry (which=0) or market-data (1) latency, ns."""
    if which == 0:
        mean = W.agents[a, L.A_LAT_ORD]
        jit = W.agents[a, L.A_LAT_ORD_JIT]
        if jit <= 0:
            return mean
        s = jit * 1e-6
        return int(mean * math.exp(s * rng.normal(W.arng, a) - 0.5 * s * s))
    return W.agents[a, L.A_LAT_MD]


@njit(cache=True, _nrt=False)
def send(W, a, now, typ, book, side, price, qty, oid, stp):
    """Agent ``a`` sends an order message at local time ``now``; it reaches the
    venue one order-entry latency later.  New orders get an id here (returned)."""
    return send_as(W, a, W.agents[a, L.A_ACCOUNT], now, typ, book, side, price, qty, oid, stp)


@njit(cache=True, _nrt=False)
def send_as(W, a, acct, now, typ, book, side, price, qty, oid, stp):
    """``send`` for account ``acct``: a venue's risk engine (agent ``a``)
    acting on an account it has taken over."""
    if oid == 0 and typ <= C.POST_ONLY:
        oid = W.clock[L.K_NEXT_OID]
        W.clock[L.K_NEXT_OID] = oid + 1
    r = W.clock[L.K_PEND_FREE]
    W.clock[L.K_PEND_FREE] = W.pend[r, L.P_NEXT_FREE]
    W.clock[L.K_NPEND] += 1
    W.pend[r, C.M_TS] = 0
    W.pend[r, C.M_TYPE] = typ
    W.pend[r, C.M_BOOK] = book
    W.pend[r, C.M_SIDE] = side
    W.pend[r, C.M_ID] = oid
    W.pend[r, C.M_PRICE] = price
    W.pend[r, C.M_QTY] = qty
    W.pend[r, C.M_ACCT] = acct
    W.pend[r, C.M_STP] = stp
    W.pend[r, L.P_AGENT] = a
    W.pend[r, L.P_SENT] = now
    schedule(W, now + latency(W, a, 0), L.EV_ORDER, a, r, 0, 0, 0)
    return oid


@njit(cache=True, _nrt=False)
def tape_asof(W, b, t):
    """(bid, ask, last) of book ``b`` as it was at time ``t`` (ticks; 0 = none):
    the newest tape entry not after ``t`` (binary search over the ring, whose
    entries are in time order from the oldest at ``head``).  Older than the
    tape reaches: its oldest entry."""
    return tape_at(W.tape, W.books, b, t)


@njit(cache=True, _nrt=False)
def tape_at(tape, books, b, t):
    """``tape_asof`` on the two tables it reads: what Python calls (a call
    that passes the whole world costs about 3 us, this one a tenth)."""
    head = books[b, L.BK_TAPE_HEAD]
    n = L.TAPE_LEN
    lo = 0                 # positions counted from the oldest entry
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if tape[b, (head + mid) % n, L.TP_TS] <= t:
            lo = mid + 1
        else:
            hi = mid
    k = (head + (lo - 1 if lo > 0 else 0)) % n
    return tape[b, k, L.TP_BID], tape[b, k, L.TP_ASK], tape[b, k, L.TP_LAST]


@njit(cache=True, _nrt=False)
def _top_price(arena, b, side):
    """``EQ.best_price`` from the rank alone: the best level sits at the top
    bit of the side's last ladder chunk, whose rank is ``(key << 6) + bit``
    (``lob.core._layout``: price for bids, ``RANK_BASE - price`` for asks),
    so the chunk's level slot and the level row need not be read."""
    bk = arena[EY.H_BOOK_OFF] + b * EY.N_BOOK
    n = arena[bk + EY.B_NCHK + side]
    if n == 0:
        return 0
    e = arena[EY.H_LAD_OFF] + 2 * (arena[bk + EY.B_LOFF + side] + n - 1)
    r = (arena[e] << 6) + 63 - clz64(arena[arena[EY.H_CHK_OFF] + arena[e + 1] * EY.N_CHK + EY.K_BITS])
    return r if side == C.BUY else EY.RANK_BASE - r


@njit(cache=True, _nrt=False)
def _tape_record(W, b, t):
    """Append the current top of book of ``b`` to its tape if it changed."""
    bid = _top_price(W.arena, b, C.BUY)
    ask = _top_price(W.arena, b, C.SELL)
    last = EQ_last(W.arena, b)
    head = W.books[b, L.BK_TAPE_HEAD]
    k = (head - 1) % L.TAPE_LEN
    if W.tape[b, k, L.TP_BID] == bid and W.tape[b, k, L.TP_ASK] == ask and W.tape[b, k, L.TP_LAST] == last:
        return
    W.tape[b, head, L.TP_TS] = t
    W.tape[b, head, L.TP_BID] = bid
    W.tape[b, head, L.TP_ASK] = ask
    W.tape[b, head, L.TP_LAST] = last
    W.books[b, L.BK_TAPE_HEAD] = (head + 1) % L.TAPE_LEN


@njit(cache=True, _nrt=False)
def EQ_last(arena, b):
    off = arena[EY.H_BOOK_OFF] + b * EY.N_BOOK
    return arena[off + EY.B_LAST_PX]


@njit(cache=True, _nrt=False)
def _ou_step(W, asset, v, dt):
    """The fundamental of ``asset`` ``dt`` seconds after it was ``v``: the
    exact Ornstein-Uhlenbeck transition plus Poisson jumps."""
    o = W.oracle
    if dt <= 0.0:
        return v
    mu = o[asset, WD.OR_MU]
    kap = o[asset, WD.OR_KAPPA]
    sig = o[asset, WD.OR_SIGMA]
    if kap > 0.0:
        e = math.exp(-kap * dt)
        sd = sig * math.sqrt((1.0 - e * e) / (2.0 * kap))
    else:
        e = 1.0
        sd = sig * math.sqrt(dt)
    v = mu + (v - mu) * e + sd * rng.normal(W.orng, asset)
    lam = o[asset, WD.OR_JUMP_RATE] * dt
    if lam > 0.0:
        for _ in range(rng.poisson(W.orng, asset, lam)):
            v *= 1.0 + o[asset, WD.OR_JUMP_SIGMA] * rng.normal(W.orng, asset)
    return v


@njit(cache=True, _nrt=False)
def oracle_value(W, asset, t):
    """The fundamental value of ``asset`` at time ``t`` (ticks of its reference
    book): an Ornstein-Uhlenbeck process with Poisson jumps, advanced exactly
    from its last evaluation, with scheduled shocks applied as permanent
    moves of both the value and its long-run mean (``World.shocks`` rows:
    time ns, asset or -1 for all, relative move).  Calls must come in
    non-decreasing time (the kernel's clock guarantees it)."""
    o = W.oracle
    if o[asset, WD.OR_ON] == 0.0:
        return 0.0
    while True:
        k = W.clock[L.K_NEXT_SHOCK]
        ts = W.shocks[k, 0] if k < W.shocks.shape[0] else 1e30
        if ts > t:
            break
        # a scheduled shock before t: bring every oracle it names to the
        # shock time, move it, and go on from there
        W.clock[L.K_NEXT_SHOCK] = k + 1
        for a2 in range(o.shape[0]):
            if o[a2, WD.OR_ON] != 0.0 and (int(W.shocks[k, 1]) == a2 or W.shocks[k, 1] < 0):
                v2 = _ou_step(W, a2, o[a2, WD.OR_VALUE], (ts - o[a2, WD.OR_T]) * 1e-9)
                o[a2, WD.OR_VALUE] = v2 * (1.0 + W.shocks[k, 2])
                o[a2, WD.OR_MU] *= 1.0 + W.shocks[k, 2]
                o[a2, WD.OR_T] = ts
    v = _ou_step(W, asset, o[asset, WD.OR_VALUE], (t - o[asset, WD.OR_T]) * 1e-9)
    if v < 1.0:
        v = 1.0
    o[asset, WD.OR_T] = t
    o[asset, WD.OR_VALUE] = v
    return v


@njit(cache=True, _nrt=False)
def notify(W, a, t, what, src, ncols, is_taker):
    """Queue for agent ``a`` (at its local time ``t``) a copy of a log row."""
    r = W.clock[L.K_NOTE_FREE]
    W.clock[L.K_NOTE_FREE] = W.notes[r, L.NOTE_NEXT_FREE]
    W.clock[L.K_NOTE_LIVE] += 1
    for c in range(ncols):
        W.notes[r, c] = src[c]
    schedule(W, t, L.EV_NOTIFY, a, what, r, is_taker, 0)


# ------------------------------------------------------------------ agents' live orders
@njit(cache=True, _nrt=False)
def _list_add(W, a, oid, row):
    n = W.alcnt[a]
    if n >= W.alcap[a]:
        W.oinfo[row, WD.OI_LPOS] = -1     # not tracked (list full): the agent forgets it
        return
    W.alist[W.aloff[a] + n] = oid
    W.oinfo[row, WD.OI_LPOS] = n
    W.alcnt[a] = n + 1


@njit(cache=True, _nrt=False)
def _list_remove(W, a, row):
    pos = W.oinfo[row, WD.OI_LPOS]
    if pos < 0:
        return
    n = W.alcnt[a] - 1
    off = W.aloff[a]
    last = W.alist[off + n]
    W.alist[off + pos] = last
    W.alcnt[a] = n
    if pos != n:
        r2 = idmap.get(W.ordmap, last)
        if r2 >= 0:
            W.oinfo[r2, WD.OI_LPOS] = pos


# ------------------------------------------------------------------ order arrival at the venue
@njit(cache=True, _nrt=False)
def _reserve_quote(qty, price, scale, fee_ppm):
    n = qty * price * scale
    fee = (n * fee_ppm + 999_999) // 1_000_000 if fee_ppm > 0 else 0
    return n + fee


@njit(cache=True, _nrt=False)
def _affordable(W, b, budget, scale, fee_ppm):
    """(lots, worst price) a market buy can pay for with ``budget`` quote atoms,
    walking the current asks best first (one pass over the ladder's chunks:
    a call of ``_nth_level`` per level walked from the top each time, and a
    budget that reaches the whole side made this quadratic)."""
    orders, levels, chunks, books, ladder, htab = EQ._tables(W.arena)
    lots = 0
    worst = 0
    loff = books[b, EY.B_LOFF + C.SELL]
    j = loff + books[b, EY.B_NCHK + C.SELL] - 1
    while j >= loff:
        c = ladder[j, 1]
        bits = chunks[c, EY.K_BITS]
        while bits != 0:
            hb = 63 - clz64(bits)
            bits &= ~(np.int64(1) << hb)
            lv = chunks[c, EY.K_LVL + hb]
            px = levels[lv, EY.L_PRICE]
            q = levels[lv, EY.L_QTY]
            unit = _reserve_quote(1, px, scale, fee_ppm)
            can = budget // unit
            if can <= 0:
                return lots, worst
            take = q if q < can else can
            lots += take
            budget -= take * unit
            worst = px
            if take < q:
                return lots, worst
        j -= 1
    return lots, worst


@njit(cache=True, _nrt=False)
def _finish_event_row(W, r, a, now):
    """Complete order-event log row ``r`` (its engine columns written) for
    agent ``a``: the agent and the local time it learns of the event; keep
    the row if the event log is on; notify the agent if it listens."""
    W.loge[r, L.LE_AGENT] = a
    lat = latency(W, a, 1)
    W.loge[r, L.LE_LOCAL] = now + lat
    if W.clock[L.K_LOGMASK] & L.LOG_EVENTS:
        W.clock[L.K_NEVT] = r + 1
    if W.agents[a, L.A_NOTIFY] == 1:
        notify(W, a, now + lat, L.N_ORDER, W.loge[r], L.N_LOGE, 0)


@njit(cache=True, _nrt=False)
def _log_reject(W, now, a, reason):
    """Log a message rejected by the simulation layer (before the engine)."""
    r = W.clock[L.K_NEVT]
    W.loge[r, C.E_KIND] = C.EV_REJECTED
    W.loge[r, C.E_TS] = now
    W.loge[r, C.E_REASON] = reason
    W.loge[r, C.E_ID] = W.msg[C.M_ID]
    W.loge[r, C.E_ACCT] = W.msg[C.M_ACCT]
    W.loge[r, C.E_SIDE] = W.msg[C.M_SIDE]
    W.loge[r, C.E_PRICE] = W.msg[C.M_PRICE]
    W.loge[r, C.E_QTY] = W.msg[C.M_QTY]
    W.loge[r, C.E_BOOK] = W.msg[C.M_BOOK]
    _finish_event_row(W, r, a, now)


@njit(cache=True, _nrt=False, inline="always")
def _arrive(W, now, r):  # noqa: C901
    """An order message (pending row ``r``) reaches its venue: pre-trade
    check and reservation, matching, settlement, logs and notifications.
    Returns an engine status (EY.ST_OK, or a growth request)."""
    a = W.pend[r, L.P_AGENT]
    for c in range(9):
        W.msg[c] = W.pend[r, c]
    W.msg[C.M_TS] = now
    typ = W.msg[C.M_TYPE]
    b = W.msg[C.M_BOOK]
    side = W.msg[C.M_SIDE]
    oid = W.msg[C.M_ID]
    price = W.msg[C.M_PRICE]
    qty = W.msg[C.M_QTY]
    acct = W.msg[C.M_ACCT]
    nb = W.books.shape[0]

    # ---- pre-trade check and reservation (new orders and MODIFY) --------
    resv_q = 0
    resv_b = 0
    limit = price
    if 0 <= b < nb and (typ <= C.POST_ONLY or typ == C.MODIFY):
        base = W.books[b, L.BK_BASE]
        quote = W.books[b, L.BK_QUOTE]
        scale = W.books[b, L.BK_SCALE]
        lot = W.books[b, L.BK_LOT]
        v = W.books[b, L.BK_VENUE]
        fee = max(W.venues[v, L.V_TAKER_PPM], W.venues[v, L.V_MAKER_PPM])
        row_old = -1
        if typ == C.MODIFY:
            row_old = idmap.get(W.ordmap, oid)
            if row_old < 0:
                row_old = -1
            else:
                side = W.oinfo[row_old, WD.OI_SIDE]
        if row_old >= 0 or typ != C.MODIFY:
            free_q = W.bal[acct, quote] + W.credit[acct, quote] - W.resv[acct, quote]
            free_b = W.bal[acct, base] + W.credit[acct, base] - W.resv[acct, base]
            if row_old >= 0:     # a MODIFY may reuse what the order already holds
                free_q += W.oinfo[row_old, WD.OI_RESV_Q]
                free_b += W.oinfo[row_old, WD.OI_RESV_B]
            if 1 <= qty <= C.MAX_QTY:
                if side == C.BUY:
                    if typ == C.MARKET:
                        lots, worst = _affordable(W, b, free_q, scale, fee)
                        if lots < qty:
                            qty = lots
                            W.msg[C.M_QTY] = qty
                        limit = worst
                        resv_q = _reserve_quote(qty, worst, scale, fee) if qty > 0 else 0
                    elif 1 <= price <= C.DEFAULT_MAX_PRICE_TICKS:
                        resv_q = _reserve_quote(qty, price, scale, fee)
                    if resv_q > free_q or qty <= 0:
                        W.msg[C.M_QTY] = W.pend[r, C.M_QTY]
                        _log_reject(W, now, a, C.R_INSUFFICIENT_FUNDS)
                        return EY.ST_OK
                else:
                    resv_b = qty * lot
                    if resv_b > free_b:
                        _log_reject(W, now, a, C.R_INSUFFICIENT_FUNDS)
                        return EY.ST_OK

    # ---- match ------------------------------------------------------------
    W.arena[EY.H_NFILLS] = 0
    W.arena[EY.H_NEVENTS] = 0
    fcap = W.efills.shape[0] // 27
    z = np.int64(0)     # not a literal 0: literal arguments would compile the engine kernel again
    st = EK.run(W.arena, W.msg, W.efills, z, z + 1, z, fcap, fcap * 9, 2 * fcap, z, z, z, z, z, z, z, z, z)
    if st != EY.ST_OK:
        return st
    nf = W.arena[EY.H_NFILLS]
    ne = W.arena[EY.H_NEVENTS]

    # ---- bookkeeping of the incoming order -------------------------------
    for k in range(ne):
        if W.efills[fcap * 9 + k * 9 + C.E_KIND] == C.EV_ACCEPTED and W.efills[fcap * 9 + k * 9 + C.E_ID] == oid:
            row = W.clock[L.K_OI_FREE]
            W.clock[L.K_OI_FREE] = W.oinfo[row, WD.OI_NEXT_FREE]
            W.clock[L.K_OI_LIVE] += 1
            W.oinfo[row, WD.OI_AGENT] = a
            W.oinfo[row, WD.OI_ACCT] = acct
            W.oinfo[row, WD.OI_BOOK] = b
            W.oinfo[row, WD.OI_SIDE] = side
            W.oinfo[row, WD.OI_LIMIT] = limit
            W.oinfo[row, WD.OI_QTY] = qty
            W.oinfo[row, WD.OI_RESV_Q] = resv_q
            W.oinfo[row, WD.OI_RESV_B] = resv_b
            W.oinfo[row, WD.OI_LPOS] = -1
            idmap.put(W.ordmap, oid, row)
            W.resv[acct, W.books[b, L.BK_QUOTE]] += resv_q
            W.resv[acct, W.books[b, L.BK_BASE]] += resv_b
            _list_add(W, a, oid, row)
        elif W.efills[fcap * 9 + k * 9 + C.E_KIND] == C.EV_MODIFIED and W.efills[fcap * 9 + k * 9 + C.E_ID] == oid:
            # MODIFY or partial REDUCE: the reservation follows the new terms
            row = idmap.get(W.ordmap, oid)
            if row >= 0:
                quote = W.books[b, L.BK_QUOTE]
                base = W.books[b, L.BK_BASE]
                newq = W.efills[fcap * 9 + k * 9 + C.E_QTY]
                newpx = W.efills[fcap * 9 + k * 9 + C.E_PRICE]
                v = W.books[b, L.BK_VENUE]
                fee = max(W.venues[v, L.V_TAKER_PPM], W.venues[v, L.V_MAKER_PPM])
                if W.oinfo[row, WD.OI_SIDE] == C.BUY:
                    nq, nb_ = _reserve_quote(newq, newpx, W.books[b, L.BK_SCALE], fee), 0
                else:
                    nq, nb_ = 0, newq * W.books[b, L.BK_LOT]
                W.resv[acct, quote] += nq - W.oinfo[row, WD.OI_RESV_Q]
                W.resv[acct, base] += nb_ - W.oinfo[row, WD.OI_RESV_B]
                W.oinfo[row, WD.OI_RESV_Q] = nq
                W.oinfo[row, WD.OI_RESV_B] = nb_
                W.oinfo[row, WD.OI_LIMIT] = newpx
                W.oinfo[row, WD.OI_QTY] = newq

    # ---- settle fills --------------------------------------------------------
    lat_a = latency(W, a, 1)
    for k in range(nf):
        bb = W.efills[k * 9 + C.F_BOOK]
        px = W.efills[k * 9 + C.F_PRICE]
        q = W.efills[k * 9 + C.F_QTY]
        base = W.books[bb, L.BK_BASE]
        quote = W.books[bb, L.BK_QUOTE]
        scale = W.books[bb, L.BK_SCALE]
        lot = W.books[bb, L.BK_LOT]
        v = W.books[bb, L.BK_VENUE]
        notional = px * q * scale
        fee_t = notional * W.venues[v, L.V_TAKER_PPM] // 1_000_000
        fee_m = notional * W.venues[v, L.V_MAKER_PPM] // 1_000_000
        t_acct = W.efills[k * 9 + C.F_TAKER_ACCT]
        m_acct = W.efills[k * 9 + C.F_MAKER_ACCT]
        if W.efills[k * 9 + C.F_TAKER_SIDE] == C.BUY:
            buyer, seller, fee_b, fee_s = t_acct, m_acct, fee_t, fee_m
            buy_id, sell_id = W.efills[k * 9 + C.F_TAKER], W.efills[k * 9 + C.F_MAKER]
        else:
            buyer, seller, fee_b, fee_s = m_acct, t_acct, fee_m, fee_t
            buy_id, sell_id = W.efills[k * 9 + C.F_MAKER], W.efills[k * 9 + C.F_TAKER]
        W.bal[buyer, quote] -= notional + fee_b
        W.bal[buyer, base] += q * lot
        W.bal[seller, quote] += notional - fee_s
        W.bal[seller, base] -= q * lot
        W.bal[W.venues[v, L.V_FEE_ACCT], quote] += fee_b + fee_s
        W.cost[buyer, base] += notional
        W.cost[seller, base] -= notional
        # reservations follow the remaining quantity of each order
        rb = idmap.get(W.ordmap, buy_id)
        if rb >= 0:
            rem = W.oinfo[rb, WD.OI_QTY] - q
            W.oinfo[rb, WD.OI_QTY] = rem
            fee = max(W.venues[v, L.V_TAKER_PPM], W.venues[v, L.V_MAKER_PPM])
            new = _reserve_quote(rem, W.oinfo[rb, WD.OI_LIMIT], scale, fee) if rem > 0 else 0
            if new > W.oinfo[rb, WD.OI_RESV_Q]:
                new = W.oinfo[rb, WD.OI_RESV_Q]
            W.resv[buyer, quote] -= W.oinfo[rb, WD.OI_RESV_Q] - new
            W.oinfo[rb, WD.OI_RESV_Q] = new
        rs = idmap.get(W.ordmap, sell_id)
        if rs >= 0:
            W.oinfo[rs, WD.OI_QTY] -= q
            rel = q * lot
            if rel > W.oinfo[rs, WD.OI_RESV_B]:
                rel = W.oinfo[rs, WD.OI_RESV_B]
            W.resv[seller, base] -= rel
            W.oinfo[rs, WD.OI_RESV_B] -= rel
        # log and notify
        lr = W.clock[L.K_NFILL]
        for c in range(9):
            W.logf[lr, c] = W.efills[k * 9 + c]
        rm = idmap.get(W.ordmap, W.efills[k * 9 + C.F_MAKER])
        ma = W.oinfo[rm, WD.OI_AGENT] if rm >= 0 else -1
        W.logf[lr, L.LF_MAKER_AGENT] = ma
        W.logf[lr, L.LF_TAKER_AGENT] = a
        W.logf[lr, L.LF_TAKER_LOCAL] = now + lat_a
        W.logf[lr, L.LF_MAKER_LOCAL] = now + (latency(W, ma, 1) if ma >= 0 else 0)
        if W.clock[L.K_LOGMASK] & L.LOG_FILLS:
            W.clock[L.K_NFILL] = lr + 1
        if ma >= 0 and W.agents[ma, L.A_NOTIFY] != 0:
            notify(W, ma, W.logf[lr, L.LF_MAKER_LOCAL], L.N_FILL, W.logf[lr], L.N_LOGF, 0)
        if W.agents[a, L.A_NOTIFY] != 0:
            notify(W, a, now + lat_a, L.N_FILL, W.logf[lr], L.N_LOGF, 1)
        # a compiled guarded market maker counts the lots it buys (its adverse-fill trigger)
        if W.efills[k * 9 + C.F_TAKER_SIDE] == C.BUY:
            if W.agents[a, L.A_KIND] == L.KIND_GUARDED_MM:
                record_buy(W, a, now + lat_a, q)
        elif ma >= 0 and W.agents[ma, L.A_KIND] == L.KIND_GUARDED_MM:
            record_buy(W, ma, W.logf[lr, L.LF_MAKER_LOCAL], q)

    # ---- order events: log, notify, release what done orders still hold -----
    for k in range(ne):
        eid = W.efills[fcap * 9 + k * 9 + C.E_ID]
        row = idmap.get(W.ordmap, eid)
        ag = W.oinfo[row, WD.OI_AGENT] if row >= 0 else a
        lr = W.clock[L.K_NEVT]
        for c in range(9):
            W.loge[lr, c] = W.efills[fcap * 9 + k * 9 + c]
        _finish_event_row(W, lr, ag, now)
        kind = W.efills[fcap * 9 + k * 9 + C.E_KIND]
        if (kind == C.EV_FILLED or kind == C.EV_CANCELLED) and row >= 0:
            acct2 = W.oinfo[row, WD.OI_ACCT]
            b2 = W.oinfo[row, WD.OI_BOOK]
            W.resv[acct2, W.books[b2, L.BK_QUOTE]] -= W.oinfo[row, WD.OI_RESV_Q]
            W.resv[acct2, W.books[b2, L.BK_BASE]] -= W.oinfo[row, WD.OI_RESV_B]
            _list_remove(W, ag, row)
            idmap.delete(W.ordmap, eid)
            W.oinfo[row, WD.OI_NEXT_FREE] = W.clock[L.K_OI_FREE]
            W.clock[L.K_OI_FREE] = row
            W.clock[L.K_OI_LIVE] -= 1
    if 0 <= b < nb:
        _tape_record(W, b, now)
    return EY.ST_OK
