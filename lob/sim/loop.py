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
from ..core._kernel import _best_level
from . import heap as H
from . import layout as L
from .agents import decide
from .kernel import _arrive, _tape_record, schedule, send_as

z64 = np.int64(0)
_u = np.uint64      # an index known to be in range (no negative-index fix-up)
if list(L.DEPTH_BPS) != sorted(L.DEPTH_BPS) or len(L.DEPTH_BPS) != 4 or (C.BUY, C.SELL) != (0, 1):
    raise ImportError("loop._book_walk assumes four increasing DEPTH_BPS bands and BUY = 0, SELL = 1")


@njit(cache=True, _nrt=False)
def _pop(h, n, out):
    """``heap.pop`` with its sift-down moving rows up into a hole instead of
    swapping them: the same comparisons, so the same arrangement of the
    heap (and the same stale last row), with half the stores; indices are
    unsigned (no negative-index fix-up)."""
    for c in range(H.EVENT_COLS):
        out[c] = h[0, c]
    n -= 1
    if n > 0:
        t = h[_u(n), H.T_TIME]          # the last row sinks from the top
        s = h[_u(n), H.T_SEQ]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            if c + 1 < n and (h[_u(c + 1), H.T_TIME] < h[_u(c), H.T_TIME]
                              or (h[_u(c + 1), H.T_TIME] == h[_u(c), H.T_TIME]
                                  and h[_u(c + 1), H.T_SEQ] < h[_u(c), H.T_SEQ])):
                c += 1
            if not (h[_u(c), H.T_TIME] < t or (h[_u(c), H.T_TIME] == t and h[_u(c), H.T_SEQ] < s)):
                break
            for k in range(H.EVENT_COLS):
                h[_u(i), k] = h[_u(c), k]
            i = c
        for k in range(H.EVENT_COLS):
            h[_u(i), k] = h[_u(n), k]
    return n


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
        W.clock[L.K_HEAPN] = _pop(W.heap, n, ev)
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


# ---------------------------------------------------------------- the Python layer's steps
# (``model.Simulation``): one compiled call each instead of a dozen numpy
# element accesses; not reachable from ``advance``
@njit(cache=True, _nrt=False)
def push_event(heap, clock, t, kind, agent):
    """Queue an event without payload (a Python agent's wake-up, the first
    snapshot) with the next sequence number."""
    z = np.int64(0)
    seq = clock[L.K_SEQ]
    clock[L.K_SEQ] = seq + 1
    clock[L.K_HEAPN] = H.push(heap, clock[L.K_HEAPN], t, seq, kind, agent, z, z, z, z)


@njit(cache=True, _nrt=False)
def hand_over(clock, pyev, notes, row):
    """The Python event in ``pyev`` as (kind, time, agent, p0, p2); a
    notification's row is copied into ``row`` and its slot freed."""
    kind = pyev[H.T_KIND]
    if kind == L.EV_NOTIFY:
        r = pyev[H.T_P1]
        for c in range(notes.shape[1]):
            row[c] = notes[r, c]
        notes[r, L.NOTE_NEXT_FREE] = clock[L.K_NOTE_FREE]
        clock[L.K_NOTE_FREE] = r
        clock[L.K_NOTE_LIVE] -= 1
    return kind, pyev[H.T_TIME], pyev[H.T_AGENT], pyev[H.T_P0], pyev[H.T_P2]


@njit(cache=True, _nrt=False)
def next_python(heap, clock, agents, pyev, notes, row, t_stop):
    """If the next event is a Python agent's wake-up or notification at or
    before ``t_stop``, take it as ``advance`` would hand it over (``hand_over``'s
    tuple); else kind -1 and nothing changes."""
    n = clock[L.K_HEAPN]
    if n == 0:
        return -1, z64, z64, z64, z64
    kind = heap[0, H.T_KIND]
    if (kind != L.EV_NOTIFY and kind != L.EV_WAKE) or heap[0, H.T_TIME] > t_stop \
            or agents[heap[0, H.T_AGENT], L.A_PY] == 0:
        return -1, z64, z64, z64, z64
    clock[L.K_HEAPN] = _pop(heap, n, pyev)
    clock[L.K_NOW] = pyev[H.T_TIME]
    clock[L.K_EVENTS] += 1
    clock[L.K_PY_AGENT] = pyev[H.T_AGENT]
    return hand_over(clock, pyev, notes, row)


@njit(cache=True, _nrt=False)
def _tol(bps, m2):
    # floor(bps * m2 / 10000) without overflow, as lob.core._queries.depth_within
    return bps * (m2 // 10000) + (bps * (m2 % 10000)) // 10000


@njit(cache=True, _nrt=False)
def _book_walk(W, b, s, lb, la, bid, ask, levels, chunks, books, ladder):  # noqa: C901
    """Into log row ``s``, for book ``b``, with one walk of each side, best
    level first:

    * depth: the lots within ``L.DEPTH_BPS`` of the mid on each side
      (``lob.core._queries.depth_within`` for the four bands: they are
      prefixes of the same walk, so each sum is the same);
    * sell costs: the slippage of market sells of ``L.SELL_NOTIONALS`` quote
      units into the bids, against the mid, in 0.01 bps; -1 where the bids
      run out.

    The bid walk serves both (it used to be walked twice: the 10M sell
    usually runs the bids out)."""
    for k in range(8):
        W.logs[s, L.LS_DEPTH + k] = 0
    for k in range(3):
        W.logs[s, L.LS_SELL + k] = -1
    if lb < 0 and la < 0:
        return
    if lb >= 0 and la >= 0:
        m2 = levels[lb, EY.L_PRICE] + levels[la, EY.L_PRICE]
    elif lb >= 0:
        m2 = 2 * levels[lb, EY.L_PRICE]
    else:
        m2 = 2 * levels[la, EY.L_PRICE]
    t0 = _tol(L.DEPTH_BPS[0], m2)
    t1 = _tol(L.DEPTH_BPS[1], m2)
    t2 = _tol(L.DEPTH_BPS[2], m2)
    t3 = _tol(L.DEPTH_BPS[3], m2)
    # the sell walk's state (k = 3: nothing to do)
    scale = W.books[b, L.BK_SCALE]
    apu = W.books[b, L.BK_QUOTE_APU]
    k = 3 if bid <= 0 or apu <= 0 else 0
    mid = 0.5 * (bid + ask) if ask > 0 else float(bid)
    target = L.SELL_NOTIONALS[0] * apu
    got = 0          # quote atoms
    lots = 0
    for side in range(2):
        r0 = 0
        r1 = 0
        r2 = 0
        r3 = 0
        loff = books[b, EY.B_LOFF + side]
        j = loff + books[b, EY.B_NCHK + side] - 1
        done = False     # the depth bands are complete
        sell = side == C.BUY
        while j >= loff and not (done and (not sell or k >= 3)):
            c = ladder[j, 1]
            bits = chunks[c, EY.K_BITS]
            while bits != 0:
                hb = 63 - clz64(bits)
                bits &= ~(np.int64(1) << hb)
                lv = chunks[c, EY.K_LVL + hb]
                px = levels[lv, EY.L_PRICE]
                q = levels[lv, EY.L_QTY]
                if not done:
                    dist = m2 - 2 * px if side == C.BUY else 2 * px - m2
                    if dist > t3:
                        done = True
                    else:
                        r3 += q
                        if dist <= t2:
                            r2 += q
                            if dist <= t1:
                                r1 += q
                                if dist <= t0:
                                    r0 += q
                if sell:
                    unit = px * scale
                    while k < 3:
                        need = target - got
                        # ceil(need / unit) > q  <=>  need > q * unit (unit > 0): no
                        # division for the levels a sell eats whole (most of them)
                        if need > q * unit:
                            got += q * unit
                            lots += q
                            break
                        take = (need + unit - 1) // unit
                        got += take * unit
                        lots += take
                        q -= take
                        avg = got / (lots * scale)
                        W.logs[s, L.LS_SELL + k] = int((mid - avg) / mid * 1e6)
                        k += 1
                        if k < 3:
                            target = (L.SELL_NOTIONALS[1] if k == 1 else L.SELL_NOTIONALS[2]) * apu
                if done and (not sell or k >= 3):
                    break
            j -= 1
        W.logs[s, L.LS_DEPTH + side] = r0
        W.logs[s, L.LS_DEPTH + 2 + side] = r1
        W.logs[s, L.LS_DEPTH + 4 + side] = r2
        W.logs[s, L.LS_DEPTH + 6 + side] = r3


@njit(cache=True, _nrt=False)
def _snapshot(W, b, now):
    s = W.clock[L.K_NSNAP]
    orders, levels, chunks, books, ladder, htab = EQ._tables(W.arena)
    lb = _best_level(books, chunks, ladder, b, C.BUY)
    la = _best_level(books, chunks, ladder, b, C.SELL)
    bid = levels[lb, EY.L_PRICE] if lb >= 0 else 0
    ask = levels[la, EY.L_PRICE] if la >= 0 else 0
    W.logs[s, L.LS_TS] = now
    W.logs[s, L.LS_BOOK] = b
    W.logs[s, L.LS_BID] = bid
    W.logs[s, L.LS_BIDQ] = levels[lb, EY.L_QTY] if lb >= 0 else 0
    W.logs[s, L.LS_ASK] = ask
    W.logs[s, L.LS_ASKQ] = levels[la, EY.L_QTY] if la >= 0 else 0
    off = W.arena[EY.H_BOOK_OFF] + b * EY.N_BOOK
    W.logs[s, L.LS_LAST] = W.arena[off + EY.B_LAST_PX]
    W.logs[s, L.LS_PAD] = 0              # pad columns: every column of a kept row is written
    W.logs[s, L.N_LOGS - 1] = 0
    _book_walk(W, b, s, lb, la, bid, ask, levels, chunks, books, ladder)
    if W.clock[L.K_LOGMASK] & L.LOG_SNAPSHOTS:
        W.clock[L.K_NSNAP] = s + 1
    _tape_record(W, b, now)
