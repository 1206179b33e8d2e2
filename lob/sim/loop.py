"""The event loop: ``advance(W, t_stop, actions, n_actions) -> status``.

See ``kernel`` for the model of time and money.  ``actions`` are order
messages from Python strategies, sent at the current time before the loop
resumes: an int64 (k, 9) array of (agent, type, book, side, order_id,
price, qty, stp, account); account -1 is the agent's own (a risk engine
names the account it has taken over).  A halted agent's (``A_HALT``)
wake-ups are dropped.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..core import _layout as EY
from ..core import _queries as EQ
from ..core import codes as C
from ..core._bits import clz64
from . import heap as H
from . import layout as L
from .agents import decide
from .kernel import _arrive, _tape_record, schedule, send_as


@njit(cache=True, _nrt=False)
def _room(W):
    """0 if every table has room for one more event, else what must grow
    (G_* or a log flush, returned as -1)."""
    live = W.arena[EY.H_ORD_LIVE]
    need = live + 16
    cap = W.logf.shape[0]
    if (cap - W.clock[L.K_NFILL] < need or W.loge.shape[0] - W.clock[L.K_NEVT] < 2 * need + 64
            or W.logs.shape[0] - W.clock[L.K_NSNAP] < W.books.shape[0] + 1
            or W.logu.shape[0] - W.clock[L.K_NSUB] < 256):
        return -1
    if W.heap.shape[0] - W.clock[L.K_HEAPN] < 3 * need + 256:
        return L.G_HEAP
    if W.pend.shape[0] - W.clock[L.K_NPEND] < 256:
        return L.G_PEND
    if (W.oinfo.shape[0] - W.clock[L.K_OI_LIVE] < 64
            or 2 * (W.clock[L.K_OI_LIVE] + 64) > W.ordmap.shape[0]):
        return L.G_ORDERS
    if W.efills.shape[0] < 27 * (need + 8):
        return L.G_SCRATCH
    if W.notes.shape[0] - W.clock[L.K_NOTE_LIVE] < 3 * need + 64:
        return L.G_NOTES
    return 0


@njit(cache=True, _nrt=False)
def advance(W, t_stop, actions, n_actions):
    now = W.clock[L.K_NOW]
    if n_actions > 0:
        if W.pend.shape[0] - W.clock[L.K_NPEND] < n_actions + 256 \
                or W.heap.shape[0] - W.clock[L.K_HEAPN] < n_actions + 256:
            W.clock[L.K_GROW] = L.G_PEND if W.pend.shape[0] - W.clock[L.K_NPEND] < n_actions + 256 else L.G_HEAP
            return L.S_GROW
        for i in range(n_actions):
            acct = actions[i, 8]
            if acct < 0:
                acct = W.agents[actions[i, 0], L.A_ACCOUNT]
            send_as(W, actions[i, 0], acct, now, actions[i, 1], actions[i, 2], actions[i, 3],
                    actions[i, 5], actions[i, 6], actions[i, 4], actions[i, 7])
    ev = W.ev
    while True:
        n = W.clock[L.K_HEAPN]
        if n == 0 or W.heap[0, H.T_TIME] > t_stop:
            if t_stop > now:
                W.clock[L.K_NOW] = t_stop
            return L.S_DONE
        g = _room(W)
        if g < 0:
            return L.S_FLUSH
        if g > 0:
            W.clock[L.K_GROW] = g
            return L.S_GROW
        W.clock[L.K_HEAPN] = H.pop(W.heap, n, ev)
        now = ev[H.T_TIME]
        W.clock[L.K_NOW] = now
        W.clock[L.K_EVENTS] += 1
        kind = ev[H.T_KIND]
        a = ev[H.T_AGENT]
        if kind == L.EV_ORDER:
            r = ev[H.T_P0]
            # the submission log: who sent what, when, and when it arrived
            u = W.clock[L.K_NSUB]
            W.logu[u, L.LU_AGENT] = a
            W.logu[u, L.LU_SENT] = W.pend[r, L.P_SENT]
            W.logu[u, L.LU_ARRIVE] = now
            for c in range(9):
                W.logu[u, L.LU_MSG + c] = W.pend[r, c]
            W.logu[u, L.LU_MSG] = now
            from_kernel = _arrive(W, now, r)
            if from_kernel != EY.ST_OK:
                # the engine needs room: put the event back untouched
                W.clock[L.K_HEAPN] = H.push(W.heap, W.clock[L.K_HEAPN], ev[0], ev[1], ev[2], ev[3],
                                            ev[4], ev[5], ev[6], ev[7])
                W.clock[L.K_EVENTS] -= 1
                W.clock[L.K_GROW] = from_kernel
                return L.S_GROW
            if W.clock[L.K_LOGMASK] & L.LOG_SUBMISSIONS:
                W.clock[L.K_NSUB] = u + 1
            W.pend[r, L.P_NEXT_FREE] = W.clock[L.K_PEND_FREE]
            W.clock[L.K_PEND_FREE] = r
            W.clock[L.K_NPEND] -= 1
        elif kind == L.EV_WAKE or kind == L.EV_NOTIFY:
            if kind == L.EV_WAKE and W.agents[a, L.A_HALT] != 0:
                W.agents[a, L.A_HALT] = 2
                continue
            if W.agents[a, L.A_PY] != 0:
                for c in range(8):
                    W.pyev[c] = ev[c]
                W.clock[L.K_PY_AGENT] = a
                return L.S_PYTHON
            if kind == L.EV_WAKE:
                t_next = decide(W, a, now)
                if t_next >= 0:
                    schedule(W, t_next, L.EV_WAKE, a, 0, 0, 0, 0)
        elif kind == L.EV_SNAPSHOT:
            for b in range(W.books.shape[0]):
                _snapshot(W, b, now)
            dt = W.clock[L.K_SNAP_DT]
            if dt > 0:
                schedule(W, now + dt, L.EV_SNAPSHOT, -1, 0, 0, 0, 0)
        elif kind == L.EV_STOP:
            return L.S_DONE


@njit(cache=True, _nrt=False)
def _sell_costs(W, b, s, bid, ask):
    """Slippage of market sells of ``L.SELL_NOTIONALS`` quote units into the
    bids of book ``b`` (one walk from the best bid down), against the mid, in
    0.01 bps, into log row ``s``; -1 where the bids run out."""
    orders, levels, chunks, books, ladder, htab = EQ._tables(W.arena)
    scale = W.books[b, L.BK_SCALE]
    apu = W.books[b, L.BK_QUOTE_APU]
    for k in range(3):
        W.logs[s, L.LS_SELL + k] = -1
    if bid <= 0 or apu <= 0:
        return
    mid = 0.5 * (bid + ask) if ask > 0 else float(bid)
    k = 0
    target = L.SELL_NOTIONALS[0] * apu
    got = 0          # quote atoms
    lots = 0
    loff = books[b, EY.B_LOFF + C.BUY]
    j = loff + books[b, EY.B_NCHK + C.BUY] - 1
    while j >= loff and k < 3:
        c = ladder[j, 1]
        bits = chunks[c, EY.K_BITS]
        while bits != 0 and k < 3:
            hb = 63 - clz64(bits)
            bits &= ~(np.int64(1) << hb)
            lv = chunks[c, EY.K_LVL + hb]
            px = levels[lv, EY.L_PRICE]
            q = levels[lv, EY.L_QTY]
            while k < 3:
                need = target - got
                unit = px * scale
                take = (need + unit - 1) // unit
                if take > q:
                    got += q * unit
                    lots += q
                    break
                got += take * unit
                lots += take
                q -= take
                avg = got / (lots * scale)
                W.logs[s, L.LS_SELL + k] = int((mid - avg) / mid * 1e6)
                k += 1
                if k < 3:
                    target = (L.SELL_NOTIONALS[1] if k == 1 else L.SELL_NOTIONALS[2]) * apu
        j -= 1


@njit(cache=True, _nrt=False)
def _snapshot(W, b, now):
    s = W.clock[L.K_NSNAP]
    bid, bq = EQ.best(W.arena, b, C.BUY)
    ask, aq = EQ.best(W.arena, b, C.SELL)
    W.logs[s, L.LS_TS] = now
    W.logs[s, L.LS_BOOK] = b
    W.logs[s, L.LS_BID] = bid
    W.logs[s, L.LS_BIDQ] = bq
    W.logs[s, L.LS_ASK] = ask
    W.logs[s, L.LS_ASKQ] = aq
    off = W.arena[EY.H_BOOK_OFF] + b * EY.N_BOOK
    W.logs[s, L.LS_LAST] = W.arena[off + EY.B_LAST_PX]
    W.logs[s, L.LS_PAD] = 0              # pad columns: every column of a kept row is written
    W.logs[s, L.N_LOGS - 1] = 0
    for k in range(4):
        db, da = EQ.depth_within(W.arena, b, L.DEPTH_BPS[k])
        W.logs[s, L.LS_DEPTH + 2 * k] = db
        W.logs[s, L.LS_DEPTH + 2 * k + 1] = da
    _sell_costs(W, b, s, bid, ask)
    if W.clock[L.K_LOGMASK] & L.LOG_SNAPSHOTS:
        W.clock[L.K_NSNAP] = s + 1
    _tape_record(W, b, now)
