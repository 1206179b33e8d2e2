"""Replay LOBSTER message files through the matching engine.

:func:`replay` drives ``lob.core.engine.Engine`` one message at a time
(``submit``) and, when an orderbook file is given, checks after every
message that the engine's top ``N`` levels equal the orderbook row.
:func:`to_engine_messages` converts a message file into an engine message
stream as it is (for benchmarks).

Mapping (LOBSTER price = USD x 10,000, NASDAQ tick = 0.01 USD, so
``ticks = price // 100``, checked; one lot = one share):

====  ======================  ===============================================
type  LOBSTER                 engine
====  ======================  ===============================================
1     new limit order         ``LIMIT`` with the LOBSTER order id
2     partial cancellation    ``REDUCE`` by the size (priority kept)
3     full deletion           ``CANCEL``
4     visible execution       ``IOC`` from the opposite side at the execution
                              price for the executed size: an aggressive
                              order, so the engine's price-time priority
                              picks the resting order it fills
5     hidden execution        nothing (hidden orders are not in the book;
                              their prices may be half ticks)
6     cross / auction trade   nothing: an auction trade is not an execution
                              of a visible resting order
7     trading halt            nothing: a status indicator
====  ======================  ===============================================

Types 6 and 7 do not occur in the 2012 sample files (none of the four
message files has such a row); should a file have them, the per-row check
would flag any visible change.  Hidden executions (type 5) leave the
orderbook row unchanged in every case in the sample files (the check
verifies it).

Executions and the hit rate
---------------------------
Executions with one timestamp on one side are one aggressive order sweeping
the book (a *sweep*), and LOBSTER does not always list them in queue order
(e.g. ``..., 4, 38960266, 17`` then ``..., 4, 38960264, 400`` at the same ns
in AMZN, where 38960264 was added first).  So every execution is replayed
as an IOC as it comes, and the fills are judged when the sweep ends: the
execution of a known order is a *hit* when the sweep filled exactly the lots
LOBSTER names for that order (``exec_hits``; ``exec_hits_strict`` counts the
IOCs that filled the named order alone).  The hit rate, hits / executions of
orders known to the book, tests the engine's price-time priority against
NASDAQ's.  Where they differ the book is then made to follow the messages
(``priority_repairs``): orders filled beyond what was named get those lots
back at the back of their queue (the exchange passed over them, so they
behave as if behind) and the named orders lose what they were not filled.
An execution of an id the book does not hold goes through the engine too
when the front of the queue is anonymous (synthetic or dead, see below) or
an order the sweep names; its lots are then matched with the sweep's fills
of synthetic/dead orders.  Otherwise it consumes depth like any unknown id.

Hidden state and reconciliation
-------------------------------
A level-N message file has only the events that touched the top N levels
*when they happened*.  A price that leaves the window can lose orders
(cancels) and gain orders (adds) while it is outside, and none of that is in
the file.  The replay keeps, next to the engine, a mirror of its queues
(id -> side, price, lots, last message that referenced it; the FIFO of ids
at each price) and knows, for every message, the next message that
references the same id and the lots all later messages take off it.  A
known order is *dead* when no later message references it: it was cancelled
while hidden, or it rests untouched to the end of the file; either way no
later execution was behind it, so removing it, or moving its lots to the
back of the queue, agrees with every later message.  Its *slack* is the
lots beyond what later messages take off it (a partial cancel while hidden).
The rules, every use counted in :class:`ReplayResult`:

* **Seed.**  The book before message 0 is orderbook row 0 with message 0
  undone; each level becomes one synthetic order (engine-assigned id, i.e.
  ``>= AUTO_ID_BASE``) at the front of its queue.
* **Entering prices only.**  After a message, if the engine's top N differs
  from the row, prices are reconciled one at a time, best first; a price may
  be touched only if it was *not* in the previous row on that side (it
  enters the window from outside).  A difference at a price that was in the
  window before the message is never repaired: it is a mismatch.
* **Dead orders at a reconciled price.**  When an entering price has to be
  reconciled, its dead known orders are removed whole: each one was
  cancelled while hidden or rests behind every later execution there, so
  none of its lots may keep its old place in the queue.
* **Too much depth** left after that: slack is cut, then synthetic depth is
  removed, and only then (forced, never needed on the sample files) live
  known orders, newest first, the last one reduced rather than removed to
  hit the row's size exactly.
* **Too little depth** (orders added while hidden, or dead orders' lots
  that rest behind): one synthetic order for the difference goes to the
  *back* of the queue, since those orders are behind every order the book
  knows there.
* **Vanished level**: the engine has a price the row does not list where
  the row shows the window (the level emptied while outside it): all its
  orders are removed.
* **Unknown ids.**  A cancel, partial cancel or execution of an id the book
  does not hold (added while hidden, or before the file started) takes its
  lots from synthetic depth at that price.  NASDAQ order ids increase with
  arrival time, so the synthetic order chosen is the first in queue order
  that was created after the id existed (seed orders stand for ids below the
  first id added in the file, a re-entry order for ids up to the largest id
  added so far); then the other synthetic orders; then dead known orders and
  slack at that price (which anonymous lots left, never how many);
  otherwise nothing (``unknown_lots_unmatched``).

Without an orderbook file there is no seed and no reconciliation; unknown
ids consume synthetic depth if any (none is ever created, so they change
nothing, which equals creating the depth and consuming it at once), and a
new order that would cross stale engine levels (known orders cancelled while
their price was outside the file's window) first removes those levels,
since the real book is never crossed (``stale_levels_removed``).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from lob.core import codes as C
from lob.core.engine import Engine
from lob.data.lobster import (ADD, DELETE, EXECUTE, EXECUTE_HIDDEN, PARTIAL_CANCEL, LobsterFormatError,
                              LobsterMessages, LobsterOrderbook)

#: LOBSTER price units per NASDAQ tick (USD 0.01 = 100 x USD 1/10,000)
TICK = 100
AUTO = C.AUTO_ID_BASE
BOOK = 0


@dataclass
class ReplayResult:
    """Counts of one replay (lots = shares, prices in ticks).  The
    ``recon_*`` counters are the reconciliations, all made at prices that
    entered the top-N window from outside it."""

    messages: int = 0                 # messages replayed
    levels: int = 0                   # N of the orderbook (0: no orderbook)
    by_type: dict = field(default_factory=dict)  # LOBSTER type -> count
    rows_checked: int = 0
    rows_equal: int = 0
    first_mismatch: int | None = None  # 0-based message index of the first unequal row
    first_mismatch_detail: str | None = None
    # seed: orderbook row 0 with message 0 undone, one synthetic order per level
    seed_levels: int = 0
    seed_lots: int = 0
    # reconciliation at prices entering the window
    recon_prices: int = 0             # (message, side, price) reconciled
    recon_levels_added: int = 0       # price absent from the engine: synthetic level created
    recon_levels_added_lots: int = 0
    recon_depth_added: int = 0        # synthetic order put behind the known orders of a level
    recon_depth_added_lots: int = 0
    recon_dead_removed: int = 0       # known orders the file never references again, removed
    recon_dead_lots: int = 0
    recon_slack_reduced: int = 0      # known orders cut to the lots the file still takes off them
    recon_slack_lots: int = 0
    recon_synthetic_removed: int = 0  # synthetic orders removed or cut
    recon_synthetic_lots_removed: int = 0
    recon_forced_removed: int = 0     # known orders the file references later, removed anyway
    recon_forced_lots: int = 0
    recon_levels_removed: int = 0     # vanished levels (emptied while outside the window)
    recon_levels_removed_lots: int = 0
    # references to ids the book does not hold (added while hidden / before the file)
    unknown_refs: int = 0
    unknown_lots_synthetic: int = 0   # lots taken from synthetic depth at the price
    unknown_lots_dead: int = 0        # ... else from dead known orders (anonymous lots swapped)
    unknown_lots_slack: int = 0       # ... else from known orders' slack
    unknown_lots_unmatched: int = 0   # lots with nothing to take from
    # executions (type 4)
    executions: int = 0
    exec_known: int = 0               # the named order was live in the book
    exec_hits: int = 0                # ... and its sweep's IOCs filled it for exactly the size
    exec_hits_strict: int = 0         # ... and this message's own IOC filled exactly it
    exec_unknown: int = 0             # named id not in the book (anonymous depth consumed)
    exec_unknown_lots_matched: int = 0  # lots of unknown ids met by the sweep at synthetic/dead orders
    exec_short: int = 0               # IOC filled less than the executed size
    priority_repairs: int = 0         # sweeps settled: fills differed from what the messages name
    priority_repair_lots: int = 0
    miss_examples: list = field(default_factory=list)
    # anomalies
    adds_rejected: int = 0
    delete_size_mismatch: int = 0     # delete of a known order whose engine size differs
    delete_size_mismatch_lots: int = 0
    stale_levels_removed: int = 0     # no-orderbook mode: stale levels a new order would cross
    stale_lots_removed: int = 0
    seconds: float = 0.0              # replay loop (engine + mirror + checks)
    messages_per_s: float = 0.0

    @property
    def hit_rate(self) -> float:
        """Executions that hit the named order / executions of known orders."""
        return self.exec_hits / self.exec_known if self.exec_known else float("nan")

    @property
    def all_equal(self) -> bool:
        return self.rows_checked == self.rows_equal

    @property
    def reconciliations(self) -> dict:
        """Reconciliations by kind: kind -> (orders or levels, lots)."""
        return {"levels_added": (self.recon_levels_added, self.recon_levels_added_lots),
                "depth_added": (self.recon_depth_added, self.recon_depth_added_lots),
                "dead_removed": (self.recon_dead_removed, self.recon_dead_lots),
                "slack_cut": (self.recon_slack_reduced, self.recon_slack_lots),
                "synthetic_removed": (self.recon_synthetic_removed, self.recon_synthetic_lots_removed),
                "forced_removed": (self.recon_forced_removed, self.recon_forced_lots),
                "levels_removed": (self.recon_levels_removed, self.recon_levels_removed_lots)}

    @property
    def lots_added(self) -> int:
        """Lots reconciliation added (synthetic depth)."""
        return self.recon_levels_added_lots + self.recon_depth_added_lots

    @property
    def lots_removed(self) -> int:
        """Lots reconciliation removed."""
        return (self.recon_dead_lots + self.recon_slack_lots + self.recon_synthetic_lots_removed
                + self.recon_forced_lots + self.recon_levels_removed_lots)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["by_type"] = {str(k): v for k, v in self.by_type.items()}
        d["hit_rate"] = None if not self.exec_known else self.hit_rate
        d["all_equal"] = self.all_equal
        d["reconciliations"] = {k: {"count": c, "lots": q} for k, (c, q) in self.reconciliations.items()}
        d["recon_lots_added"] = self.lots_added
        d["recon_lots_removed"] = self.lots_removed
        return d


# ---------------------------------------------------------------------- conversion
def _ticks(msgs: LobsterMessages, rows: np.ndarray, tick: int) -> np.ndarray:
    """Prices of ``rows`` in ticks; raise naming the line of an off-grid one."""
    px = msgs.price[rows]
    off = px % tick != 0
    if off.any():
        i = int(rows[np.argmax(off)])
        raise LobsterFormatError(msgs.path, msgs.line(i),
                                 f"price {int(msgs.price[i])} is not a multiple of the tick ({tick})")
    return px // tick


def to_engine_messages(msgs: LobsterMessages, *, book: int = 0, tick: int = TICK) -> np.ndarray:
    """The message file as an engine stream (``MSG_DTYPE``), as it is: adds
    as ``LIMIT`` with their id, partial cancels as ``REDUCE``, deletions as
    ``CANCEL``, executions as ``IOC`` from the opposite side at the price
    (engine-assigned id); types 5-7 are dropped.  Ids the file never added
    are kept, so the engine rejects those messages (``R_UNKNOWN_ID``)."""
    typ = msgs.type
    keep = np.flatnonzero((typ >= ADD) & (typ <= EXECUTE))
    t = typ[keep]
    out = np.zeros(len(keep), C.MSG_DTYPE)
    out["ts"] = msgs.time_ns[keep]
    out["book"] = book
    side = np.where(msgs.direction[keep] == 1, C.BUY, C.SELL)
    out["type"] = np.select([t == ADD, t == PARTIAL_CANCEL, t == DELETE, t == EXECUTE],
                            [C.LIMIT, C.REDUCE, C.CANCEL, C.IOC])
    out["side"] = np.where(t == EXECUTE, 1 - side, side)
    out["order_id"] = np.where(t == EXECUTE, 0, msgs.order_id[keep])
    out["price"] = _ticks(msgs, keep, tick)
    out["qty"] = msgs.size[keep]
    return out


# ---------------------------------------------------------------------- replay
class _Replay:
    """Engine + queue mirror + counters for one replay.

    Mirror: ``live[id] = [side, price, qty, j]`` for every order in the
    engine (``j``: index of the last message that referenced a known order,
    -1 for synthetic orders) and ``queue[price * 2 + side]`` = the ids at a
    price in FIFO order (a dict used as an ordered set)."""

    def __init__(self, msgs: LobsterMessages, book: LobsterOrderbook | None, tick: int, n: int,
                 engine_kw: dict):
        self.msgs = msgs
        self.n = n
        self.r = ReplayResult(messages=n)
        typ = msgs.type[:n]
        act = np.flatnonzero((typ >= ADD) & (typ <= EXECUTE))
        px = np.zeros(n, np.int64)
        px[act] = _ticks(msgs, act, tick)
        self.px = px
        big = msgs.order_id[:n][act] >= AUTO
        if big.any():
            i = int(act[np.argmax(big)])
            raise LobsterFormatError(msgs.path, msgs.line(i), f"order id {int(msgs.order_id[i])} is not "
                                     f"below {AUTO} (the engine's external id range)")
        # per message j referencing an order: the next message referencing
        # it (-1: none) and the lots the later messages take off it
        oid = msgs.order_id[:n][act]
        order = np.lexsort((act, oid))
        so, sj = oid[order], act[order]
        same_next = np.r_[so[1:] == so[:-1], False] if len(so) else np.zeros(0, bool)
        nxt = np.full(n, -1, np.int64)
        nxt[sj[same_next]] = sj[1:][same_next[:-1]] if len(so) > 1 else []
        size = np.where(typ[sj] == ADD, 0, msgs.size[:n][sj])
        # suffix sums of size within each id group, excluding the row itself
        csum = np.cumsum(size[::-1])[::-1]           # sum from k to the end
        grp_end = np.flatnonzero(~same_next)          # last row of each group
        end_of = np.repeat(grp_end, np.diff(np.r_[-1, grp_end]))
        after_end = np.r_[csum[1:], 0][end_of]        # sum after each group's last row
        rest = np.zeros(n, np.int64)
        rest[sj] = csum - size - after_end
        self.nxt = nxt.tolist()
        self.rest = rest.tolist()
        # largest id added up to each message: ids that may rest, unseen, in a
        # level re-entering at that message are below it
        adds = np.where(typ == ADD, msgs.order_id[:n], 0)
        self.max_added = np.maximum.accumulate(adds).tolist() if n else []
        first_adds = msgs.order_id[:n][typ == ADD]
        self.seed_ub = int(first_adds.min()) - 1 if len(first_adds) else AUTO - 1
        self.eng = Engine(1, **engine_kw)
        self.live: dict[int, list] = {}
        self.queue: dict[int, dict] = {}
        self.ub: dict[int, int] = {}         # synthetic id -> largest LOBSTER id it stands for
        # the open sweep: (message, id, known) of its executions, lots named
        # and filled per id, and (price, j, ub) of every order it filled
        self.sweep_msgs: list = []
        self.sweep_named: dict = {}
        self.sweep_fills: dict = {}
        self.sweep_keep: dict = {}
        self.sweep_unknown: dict = {}        # price -> [[id, lots], ...] executed by IOC
        self.sweep_ids: dict = {}            # id -> lots the open sweep names for it
        self.sweep_side = 0
        # per execution message: does the sweep go on with a later message?
        T, TS, DIR = typ.tolist(), msgs.time_ns[:n].tolist(), msgs.direction[:n].tolist()
        self.sweep_goes_on = cont = [False] * n
        for i in np.flatnonzero(typ == EXECUTE).tolist():
            j = i + 1
            while j < n and T[j] == EXECUTE_HIDDEN and TS[j] == TS[i]:
                j += 1
            cont[i] = j < n and T[j] == EXECUTE and TS[j] == TS[i] and DIR[j] == DIR[i]
        self.exp = None
        self.N = 0
        if book is not None:
            self._prepare_book(book, tick)

    # -------------------------------------------------------------- orderbook
    def _prepare_book(self, book: LobsterOrderbook, tick: int) -> None:
        d = book.data[:self.n]
        N = book.levels
        self.N = N
        self.r.levels = N
        ap, asz, bp, bsz = d[:, 0::4], d[:, 1::4], d[:, 2::4], d[:, 3::4]
        a_on, b_on = asz > 0, bsz > 0
        for p, on in ((ap, a_on), (bp, b_on)):
            off = on & (p % tick != 0)
            if off.any():
                i = int(np.argmax(off.any(1)))
                raise LobsterFormatError(book.path, book.line(i),
                                         f"price {int(p[i][off[i]][0])} is not a multiple of the tick ({tick})")
        bid_t = np.where(b_on, bp // tick, 0)
        ask_t = np.where(a_on, ap // tick, 0)
        bsz = np.where(b_on, bsz, 0)
        asz = np.where(a_on, asz, 0)
        self.bid_t, self.ask_t, self.bid_q, self.ask_q = bid_t, ask_t, bsz, asz
        exp = np.ascontiguousarray(np.stack([bid_t, bsz, ask_t, asz], axis=1))   # (n, 4, N) as l2()
        self.exp_bytes = [row.tobytes() for row in exp]
        self.exp = exp

    def _row_levels(self, i: int, side: int) -> list[tuple[int, int]]:
        p, q = (self.bid_t[i], self.bid_q[i]) if side == C.BUY else (self.ask_t[i], self.ask_q[i])
        return [(int(a), int(b)) for a, b in zip(p.tolist(), q.tolist()) if b > 0]

    def _l2_bytes(self) -> bytes:
        bp, bq, ap, aq = self.eng.l2(BOOK, self.N)
        base = bp.base
        if base is not None and base.shape == (4, self.N) and base.dtype == np.int64:
            return base.tobytes()
        return np.stack([bp, bq, ap, aq]).astype(np.int64).tobytes()   # pragma: no cover

    # -------------------------------------------------------------- mirror + engine
    def _add(self, side, price, qty, oid=0, j=-1) -> int:
        got = self.eng.submit(C.LIMIT, BOOK, side, price, qty, oid)
        if got:
            self.live[got] = [side, price, qty, j]
            self.queue.setdefault(price * 2 + side, {})[got] = None
        return got

    def _add_synthetic(self, side, price, qty, ub) -> int:
        got = self._add(side, price, qty)
        self.ub[got] = ub
        return got

    def _forget(self, oid, o) -> None:
        del self.live[oid]
        key = o[1] * 2 + o[0]
        q = self.queue[key]
        del q[oid]
        if not q:
            del self.queue[key]
        if oid >= AUTO:
            del self.ub[oid]

    def _take(self, oid, qty) -> int:
        """Take up to ``qty`` lots off live order ``oid`` (priority kept);
        return the lots taken."""
        o = self.live[oid]
        if qty >= o[2]:
            self.eng.submit(C.CANCEL, BOOK, 0, 0, 0, oid)
            self._forget(oid, o)
            return o[2]
        self.eng.submit(C.REDUCE, BOOK, 0, 0, qty, oid)
        o[2] -= qty
        return qty

    def _dead(self, oid) -> bool:
        """A known order that no later message references."""
        return oid < AUTO and self.nxt[self.live[oid][3]] < 0

    def _slack(self, oid) -> int:
        """Lots of a known order beyond what later messages take off it."""
        o = self.live[oid]
        return o[2] - self.rest[o[3]] if oid < AUTO else 0

    def _classify(self, key):
        """Ids at a price, back of the queue first: (dead, with slack, synthetic, others)."""
        ids = list(self.queue.get(key, ()))[::-1]
        dead = [o for o in ids if o < AUTO and self._dead(o)]
        slack = [o for o in ids if o < AUTO and not self._dead(o) and self._slack(o) > 0]
        syn = [o for o in ids if o >= AUTO]
        other = [o for o in ids if o < AUTO and not self._dead(o)]
        return dead, slack, syn, other

    # -------------------------------------------------------------- unknown ids
    def _consume(self, side, price, need, oid) -> None:
        """Take ``need`` lots that a message about an order the book does not
        hold (``oid``) takes off the level: synthetic depth first (the order
        created after ``oid`` existed, then the ones behind it, then the
        ones before), then dead known orders, then known orders' slack."""
        r = self.r
        key = price * 2 + side
        if key not in self.queue:
            r.unknown_lots_unmatched += need
            return
        dead, slack, syn, _ = self._classify(key)
        syn = syn[::-1]                                   # queue order
        k = next((j for j, s in enumerate(syn) if self.ub[s] >= oid), len(syn) - 1)
        for s in syn[k:] + syn[:k][::-1]:
            got = self._take(s, need)
            r.unknown_lots_synthetic += got
            need -= got
            if not need:
                return
        if self.exp is None:                             # no orderbook: no swaps
            r.unknown_lots_unmatched += need
            return
        for o in dead:
            got = self._take(o, need)
            r.unknown_lots_dead += got
            need -= got
            if not need:
                return
        for o in slack:
            got = self._take(o, min(need, self._slack(o)))
            r.unknown_lots_slack += got
            need -= got
            if not need:
                return
        r.unknown_lots_unmatched += need

    # -------------------------------------------------------------- reconciliation
    def _level_total(self, key) -> int:
        q = self.queue.get(key)
        return sum(self.live[o][2] for o in q) if q else 0

    def _set_level(self, side, price, target, i) -> None:
        """Make the depth at an entering price equal ``target``."""
        r = self.r
        key = price * 2 + side
        cur = self._level_total(key)
        existed = cur > 0
        r.recon_prices += 1
        dead, slack, syn, other = self._classify(key)
        for o in dead:                                  # whole: gone, or behind everyone
            got = self._take(o, self.live[o][2])
            cur -= got
            r.recon_dead_removed += 1
            r.recon_dead_lots += got
        if cur > target:
            for o in slack:
                if cur <= target:
                    break
                got = self._take(o, min(cur - target, self._slack(o)))
                cur -= got
                r.recon_slack_reduced += 1
                r.recon_slack_lots += got
            for o in syn:
                if cur <= target:
                    break
                got = self._take(o, cur - target)
                cur -= got
                r.recon_synthetic_removed += 1
                r.recon_synthetic_lots_removed += got
            for o in other:
                if cur <= target:
                    break
                if o not in self.live:
                    continue
                got = self._take(o, cur - target)
                cur -= got
                r.recon_forced_removed += 1
                r.recon_forced_lots += got
        if cur < target:
            if not existed:
                r.recon_levels_added += 1
                r.recon_levels_added_lots += target
            else:
                r.recon_depth_added += 1
                r.recon_depth_added_lots += target - cur
            self._add_synthetic(side, price, target - cur, self.max_added[i])

    def _remove_level(self, side, price) -> int:
        """Remove every order at a vanished price; return the lots removed."""
        key = price * 2 + side
        lots = 0
        for o in list(self.queue.get(key, ())):
            if o < AUTO and not self._dead(o):
                self.r.recon_forced_removed += 1
                self.r.recon_forced_lots += self.live[o][2]
            lots += self._take(o, self.live[o][2])
        return lots

    def _reconcile(self, i: int, prev: dict) -> None:
        """Repair the prices entering the window after message ``i``, best
        first; stop at the first difference at a price that was inside the
        window before (row ``i - 1``): that is a mismatch."""
        N = self.N
        for side in (C.BUY, C.SELL):
            want = self._row_levels(i, side)
            inside = prev[side]
            for _ in range(4 * N + 64):
                bp, bq, ap, aq = self.eng.l2(BOOK, N)
                ep, eq = (bp, bq) if side == C.BUY else (ap, aq)
                have = [(a, b) for a, b in zip(ep.tolist(), eq.tolist()) if b > 0]
                k = 0
                while k < len(want) and k < len(have) and want[k] == have[k]:
                    k += 1
                if k == len(want) and k == len(have):
                    break
                if k < len(have) and (k >= len(want) or (have[k][0] > want[k][0] if side == C.BUY
                                                         else have[k][0] < want[k][0])):
                    p = have[k][0]                # an engine level the row does not list
                    if p in inside:
                        break
                    self.r.recon_levels_removed += 1
                    self.r.recon_levels_removed_lots += self._remove_level(side, p)
                else:
                    p, target = want[k]          # a level missing, or of another size
                    if p in inside:
                        break
                    self._set_level(side, p, target, i)

    def _seed(self) -> dict:
        """Book before message 0: row 0 with message 0 undone; one synthetic
        order per level.  Returns the seeded prices per side."""
        m = self.msgs
        lv = {C.BUY: dict(self._row_levels(0, C.BUY)), C.SELL: dict(self._row_levels(0, C.SELL))}
        t = int(m.type[0])
        if ADD <= t <= EXECUTE:
            side = C.BUY if m.direction[0] == 1 else C.SELL
            p, s = int(self.px[0]), int(m.size[0])
            d = lv[side]
            d[p] = d.get(p, 0) + (-s if t == ADD else s)
            if d[p] <= 0:
                del d[p]
        for side in (C.BUY, C.SELL):
            for p in sorted(lv[side], reverse=(side == C.BUY)):
                self._add_synthetic(side, p, lv[side][p], self.seed_ub)
                self.r.seed_levels += 1
                self.r.seed_lots += lv[side][p]
        return {s: set(lv[s]) for s in lv}

    # -------------------------------------------------------------- messages
    def _delete(self, oid, o, size, ts, i) -> None:
        """Full deletion of a known order.  If the engine holds another size
        (an earlier choice of which anonymous lots left was wrong), the level
        still loses exactly ``size``, as the message says."""
        have = o[2]
        if have == size:
            self.eng.submit(C.CANCEL, BOOK, 0, 0, 0, oid, 0, 0, ts)
            self._forget(oid, o)
            return
        r = self.r
        r.delete_size_mismatch += 1
        r.delete_size_mismatch_lots += abs(have - size)
        side, price = o[0], o[1]
        self.eng.submit(C.CANCEL, BOOK, 0, 0, 0, oid, 0, 0, ts)
        self._forget(oid, o)
        if have > size:                      # keep the surplus as anonymous depth
            self._add_synthetic(side, price, have - size, self.max_added[i])
        else:
            self._consume(side, price, size - have, oid)

    # -------------------------------------------------------------- executions
    def _exec_message(self, i, oid, side, price, size, ts) -> None:
        """A type 4 message.  Executions with one timestamp on one side are
        one aggressive order sweeping the book (a *sweep*); LOBSTER does not
        list them in priority order, so fills are judged per sweep."""
        r = self.r
        r.executions += 1
        if not self.sweep_msgs:
            self._open_sweep(i, side)
        live = self.live
        known = oid in live or oid in self.sweep_fills
        if known:
            r.exec_known += 1
            self.sweep_named[oid] = self.sweep_named.get(oid, 0) + size
            self._ioc(side, price, size, ts, oid)
            o = live.get(oid)
            if o is not None:
                o[3] = i
        else:
            r.unknown_refs += 1
            r.exec_unknown += 1
            q = self.queue.get(price * 2 + side)
            front = next(iter(q)) if q else 0
            if front and (front >= AUTO or (self.exp is not None and self._dead(front))
                          or self.sweep_ids.get(front, 0) > self.sweep_fills.get(front, 0)):
                # the aggressor meets anonymous depth (or an order it names):
                # fine for an order the book does not know
                un = self.sweep_unknown.setdefault(price, [])
                un.append([oid, size])
                self._ioc(side, price, size, ts, 0)
            else:
                self._consume(side, price, size, oid)
        self.sweep_msgs.append((i, oid, known))
        if not self.sweep_goes_on[i]:
            self._close_sweep()

    def _open_sweep(self, i, side) -> None:
        self.sweep_side = side
        ids: dict = {}
        j = i
        T, OID, SZ = self.msgs.type, self.msgs.order_id, self.msgs.size
        while True:
            if T[j] == EXECUTE:
                k = int(OID[j])
                ids[k] = ids.get(k, 0) + int(SZ[j])
                if not self.sweep_goes_on[j]:
                    break
            j += 1
        self.sweep_ids = ids

    def _ioc(self, side, price, size, ts, oid) -> None:
        """IOC from the opposite side; record its fills in the sweep."""
        r = self.r
        eng = self.eng
        eng.drain()
        eng.submit(C.IOC, BOOK, 1 - side, price, size, 0, 0, 0, ts)
        fills, _ = eng.drain()
        makers = fills["maker_id"].tolist()
        qtys = fills["qty"].tolist()
        if sum(qtys) < size:
            r.exec_short += 1
        if oid and sum(qtys) == size and all(mk == oid for mk in makers):
            r.exec_hits_strict += 1
        live, sf, keep = self.live, self.sweep_fills, self.sweep_keep
        for mk, q in zip(makers, qtys):
            o = live[mk]
            if mk not in keep:
                keep[mk] = (o[1], o[3], self.ub.get(mk))
            sf[mk] = sf.get(mk, 0) + q
            if q >= o[2]:
                self._forget(mk, o)
            else:
                o[2] -= q

    def _close_sweep(self) -> None:
        """Judge and settle the sweep.  A known order's execution is a hit
        when the sweep filled exactly the lots named for it.  Lots named for
        orders the book does not know are matched with fills of synthetic
        (then dead known) orders at that price.  Whatever else differs is
        settled so the book follows the messages: orders filled beyond what
        was named get those lots back at the back of their queue (the
        exchange passed over them, so they behave as if behind), named
        orders lose what they were not filled, unknown lots not matched are
        consumed like any unknown id."""
        r = self.r
        named, filled, keep = self.sweep_named, self.sweep_fills, self.sweep_keep
        for i, oid, known in self.sweep_msgs:
            if known and filled.get(oid, 0) == named[oid]:
                r.exec_hits += 1
        extra = {mk: q - named.get(mk, 0) for mk, q in filled.items() if q > named.get(mk, 0)}
        left_unknown = []
        for price, lst in self.sweep_unknown.items():
            need = sum(x[1] for x in lst)
            cands = [mk for mk in extra if mk not in named and keep[mk][0] == price
                     and (mk >= AUTO or self.nxt[keep[mk][1]] < 0)]
            cands.sort(key=lambda mk: mk < AUTO)          # synthetic first, then dead known
            for mk in cands:
                a = min(need, extra[mk])
                extra[mk] -= a
                need -= a
                r.exec_unknown_lots_matched += a
                if not need:
                    break
            for oid, lots in lst[::-1]:                   # unmatched: the last ones named
                if need <= 0:
                    break
                left_unknown.append((price, oid, min(lots, need)))
                need -= lots
        shorts = {oid: q - filled.get(oid, 0) for oid, q in named.items() if q > filled.get(oid, 0)}
        repaired = any(v > 0 for v in extra.values()) or shorts or left_unknown
        if repaired:
            r.priority_repairs += 1
            if len(r.miss_examples) < 20:
                i0 = self.sweep_msgs[0][0]
                r.miss_examples.append({"message": i0, "line": self.msgs.line(i0), "named": dict(named),
                                        "unknown": {p: [tuple(x) for x in v] for p, v in self.sweep_unknown.items()},
                                        "filled": dict(filled)})
            side = self.sweep_side
            for mk, e in extra.items():
                if e <= 0:
                    continue
                r.priority_repair_lots += e
                price, j, ub = keep[mk]
                o = self.live.get(mk)
                if o is not None:
                    e += o[2]
                    self.eng.submit(C.CANCEL, BOOK, 0, 0, 0, mk)
                    self._forget(mk, o)
                if mk >= AUTO:
                    self._add_synthetic(side, price, e, ub)
                else:
                    self._add(side, price, e, mk, j)
            for oid, q in shorts.items():
                if oid in self.live:
                    self._take(oid, q)
            for price, oid, lots in left_unknown:
                self._consume(side, price, lots, oid)
        self.sweep_msgs = []
        self.sweep_named = {}
        self.sweep_fills = {}
        self.sweep_keep = {}
        self.sweep_unknown = {}
        self.sweep_ids = {}

    def _uncross(self, side, price) -> None:
        """No-orderbook mode: remove stale opposite levels a new order at
        ``price`` would cross (the real book is never crossed)."""
        opp = 1 - side
        while True:
            p, q = self.eng.best_ask(BOOK) if opp == C.SELL else self.eng.best_bid(BOOK)
            if not q or (p > price if opp == C.SELL else p < price):
                return
            self.r.stale_levels_removed += 1
            for o in list(self.queue.get(p * 2 + opp, ())):
                self.r.stale_lots_removed += self._take(o, self.live[o][2])

    def _describe(self, i: int) -> str:
        bp, bq, ap, aq = self.eng.l2(BOOK, self.N)
        e = self.exp[i]
        m = self.msgs
        return (f"after message {i} ({m.path}, line {m.line(i)}: type {int(m.type[i])}, "
                f"id {int(m.order_id[i])}, size {int(m.size[i])}, price {int(m.price[i])}, "
                f"direction {int(m.direction[i])}): engine bids {list(zip(bp.tolist(), bq.tolist()))} "
                f"asks {list(zip(ap.tolist(), aq.tolist()))}; orderbook row bids "
                f"{list(zip(e[0].tolist(), e[1].tolist()))} asks {list(zip(e[2].tolist(), e[3].tolist()))}")

    # -------------------------------------------------------------- main loop
    def run(self, check_engine: bool = False) -> ReplayResult:
        r, m, eng = self.r, self.msgs, self.eng
        n = self.n
        checking = self.exp is not None
        prev = self._seed() if checking and n else None
        T = m.type[:n].tolist()
        OID = m.order_id[:n].tolist()
        SZ = m.size[:n].tolist()
        PX = self.px.tolist()
        SIDE = np.where(m.direction[:n] == 1, C.BUY, C.SELL).tolist()
        TS = m.time_ns[:n].tolist()
        counts = [0] * 8
        live, queue, submit = self.live, self.queue, eng.submit
        LIMIT, REDUCE = C.LIMIT, C.REDUCE
        exp_bytes = self.exp_bytes if checking else None
        l2_bytes = self._l2_bytes
        sweep_goes_on = self.sweep_goes_on
        if checking:
            bid_t, ask_t = self.bid_t.tolist(), self.ask_t.tolist()
        rows_equal = 0
        t0 = time.perf_counter()
        for i in range(n):
            t = T[i]
            counts[t] += 1
            if t == ADD:
                oid, side, p, s = OID[i], SIDE[i], PX[i], SZ[i]
                if not checking:
                    self._uncross(side, p)
                if submit(LIMIT, BOOK, side, p, s, oid, 0, 0, TS[i]):
                    live[oid] = [side, p, s, i]
                    q = queue.get(p * 2 + side)
                    if q is None:
                        queue[p * 2 + side] = {oid: None}
                    else:
                        q[oid] = None
                else:
                    r.adds_rejected += 1
            elif t == PARTIAL_CANCEL or t == DELETE or t == EXECUTE:
                oid = OID[i]
                o = live.get(oid)
                if t == EXECUTE:
                    self._exec_message(i, oid, SIDE[i], PX[i], SZ[i], TS[i])
                elif o is None:
                    r.unknown_refs += 1
                    self._consume(SIDE[i], PX[i], SZ[i], oid)
                elif t == DELETE:
                    self._delete(oid, o, SZ[i], TS[i], i)
                else:
                    s = SZ[i]
                    submit(REDUCE, BOOK, 0, 0, s, oid, 0, 0, TS[i])
                    if s >= o[2]:
                        self._forget(oid, o)
                    else:
                        o[2] -= s
                        o[3] = i
            # types 5 (hidden execution), 6 (cross), 7 (halt): no visible change
            if checking:
                ok = l2_bytes() == exp_bytes[i]
                if not ok:
                    self._reconcile(i, prev)
                    ok = l2_bytes() == exp_bytes[i]
                if ok:
                    rows_equal += 1
                elif r.first_mismatch is None:
                    r.first_mismatch = i
                    r.first_mismatch_detail = self._describe(i)
                prev = {C.BUY: set(bid_t[i]), C.SELL: set(ask_t[i])}
            if check_engine:
                eng.check()
                if not i & 1023:
                    self.verify_mirror()
        r.seconds = time.perf_counter() - t0
        r.messages_per_s = n / r.seconds if r.seconds > 0 else float("inf")
        r.rows_checked = n if checking else 0
        r.rows_equal = rows_equal
        r.by_type = {k: counts[k] for k in range(1, 8) if counts[k]}
        eng.drain()
        if check_engine:
            self.verify_mirror()
        return r

    def verify_mirror(self) -> None:
        """Assert that the queue mirror equals the engine's live orders
        (ids, sides, prices, lots and FIFO order at every price)."""
        lo = self.eng.live_orders(BOOK)
        got: dict = {}
        for oid, side, price, qty in zip(lo["order_id"].tolist(), lo["side"].tolist(),
                                         lo["price"].tolist(), lo["qty"].tolist()):
            got.setdefault(price * 2 + side, []).append((oid, qty))
        want = {key: [(o, self.live[o][2]) for o in q] for key, q in self.queue.items()}
        if got != want:
            bad = next(k for k in set(got) | set(want) if got.get(k) != want.get(k))
            raise AssertionError(f"replay mirror differs from the engine at price {bad // 2} side {bad % 2}: "
                                 f"engine {got.get(bad)} mirror {want.get(bad)}")
        assert len(self.live) == len(lo), "replay mirror holds orders the engine does not"


def replay(messages: LobsterMessages, orderbook: LobsterOrderbook | np.ndarray | None = None, *,
           tick: int = TICK, max_rows: int | None = None, check_engine: bool = False,
           **engine_kw) -> ReplayResult:
    """Replay ``messages`` into a fresh one-book ``Engine``.

    With ``orderbook`` (same row count), seed the book from row 0 (message 0
    undone), check the engine's top ``N`` against every row and reconcile
    prices entering the window from outside it (module docstring).
    ``max_rows`` replays only the first rows; ``check_engine`` runs the
    engine's invariant checker after every message (slow).  ``engine_kw``
    go to ``Engine``."""
    if isinstance(orderbook, np.ndarray):
        orderbook = LobsterOrderbook(np.asarray(orderbook, np.int64))
    n = len(messages)
    if orderbook is not None and len(orderbook) != n:
        raise LobsterFormatError(orderbook.path, None,
                                 f"{len(orderbook)} orderbook rows but {n} messages in {messages.path}")
    if max_rows is not None:
        n = min(n, max(0, int(max_rows)))
    return _Replay(messages, orderbook, tick, n, engine_kw).run(check_engine)
