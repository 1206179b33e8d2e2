"""The matching engine: a thin Python layer over the compiled kernel.

``Engine`` validates and allocates, then hands whole arrays of messages (or a
single message) to ``_kernel.run``; it grows tables when the kernel asks and
collects output rows.  Semantics and record layouts: ``lob.core.codes``.
Units: ticks, lots, nanoseconds.

>>> from lob.core import codes as C
>>> eng = Engine(1)
>>> eng.submit(C.LIMIT, 0, C.SELL, price=101, qty=5, order_id=7)
7
>>> eng.submit(C.MARKET, 0, C.BUY, price=0, qty=2)
1000000000000000
>>> fills, events = eng.drain()
>>> int(fills["maker_id"][0]), int(fills["qty"][0]), eng.best_ask(0)
(7, 2, (101, 3))
"""
from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from . import _kernel, _queries
from . import _layout as Y
from . import codes as C


class CapacityError(RuntimeError):
    """A table would have to grow past the limit the engine was given.

    The message that needed the room changed nothing.  Raised by
    ``process``, it carries ``processed`` (how many messages were applied)
    and their ``fills`` and ``events``; raised by ``submit``, the earlier
    messages' outputs stay queued for ``drain()``."""

    processed: int = 0
    fills = None
    events = None


CHECK_MESSAGES = {
    1: "ladder level count exceeds its capacity", 2: "ladder entry points to a level of another book/side",
    3: "ladder key does not match the level price", 4: "ladder not strictly sorted",
    5: "level price outside [1, max_price_ticks]", 6: "order appears in two places (or a cycle)",
    7: "order does not point to its level", 8: "broken back link in a level FIFO",
    9: "resting order with qty < 1", 10: "FIFO order violated (arrival sequence not increasing)",
    11: "level tail does not match its last order", 12: "level total/count differs from its orders (or empty level)",
    13: "side order count differs from its levels", 14: "book crossed after matching",
    15: "live order count differs", 16: "live level count differs", 17: "order lost or stray slot",
    18: "order free list corrupt", 19: "order slots not all accounted for", 20: "level free list corrupt",
    21: "level slots not all accounted for", 22: "id table points to a wrong slot",
    23: "id unreachable from its hash position", 24: "id table count differs from live orders",
    25: "side level count differs from its ladder", 26: "live chunk count differs",
    27: "chunk slots not all accounted for",
}

ORDER_DTYPE = np.dtype([("order_id", np.int64), ("side", np.int64), ("price", np.int64),
                        ("qty", np.int64), ("account", np.int64)])


def _aligned_zeros(n: int) -> np.ndarray:
    """A zeroed int64 array whose data starts on a 64-byte boundary (so the
    arena's 64-byte rows each sit in one cache line)."""
    buf = np.zeros(n + 8, np.int64)
    skip = (-buf.ctypes.data % 64) // 8
    return buf[skip:skip + n]


def _pow2(n: int) -> int:
    return 1 << max(0, int(n - 1).bit_length())


class Engine:
    """Many order books sharing preallocated, growable tables.

    Parameters
    ----------
    n_books : int
        Number of books (instruments), indexed ``0..n_books-1``.
    max_price_ticks : int or sequence of int, optional
        Highest valid limit price per book (default ``codes.DEFAULT_MAX_PRICE_TICKS``).
        Memory never depends on it.
    order_capacity, level_capacity, chunks_per_side, fill_capacity, event_capacity : int
        Initial table sizes (``chunks_per_side``: occupied 64-tick windows
        per book side); every table doubles when full.  The fill/event
        capacities size the buffers of the per-message path; ``process``
        sizes its own.
    max_orders, max_levels : int, optional
        Hard limits: growing past them raises ``CapacityError`` instead.
    """

    def __init__(self, n_books: int, *, max_price_ticks: int | Sequence[int] | None = None,
                 order_capacity: int = 1024, level_capacity: int = 256, chunks_per_side: int = 8,
                 fill_capacity: int = 4096, event_capacity: int = 8192,
                 max_orders: int | None = None, max_levels: int | None = None):
        n_books = int(n_books)
        if n_books < 1:
            raise ValueError(f"n_books must be >= 1, got {n_books}")
        if max_price_ticks is None:
            mp = np.full(n_books, C.DEFAULT_MAX_PRICE_TICKS, np.int64)
        elif np.ndim(max_price_ticks) == 0:
            mp = np.full(n_books, int(max_price_ticks), np.int64)
        else:
            mp = np.asarray(max_price_ticks, np.int64)
            if mp.shape != (n_books,):
                raise ValueError(f"max_price_ticks has {mp.shape[0]} entries for {n_books} books")
        if (mp < 1).any() or (mp > Y.MAX_PRICE_LIMIT).any():
            raise ValueError(f"max_price_ticks must be in [1, 2**50] for every book")
        for name, v in (("order_capacity", order_capacity), ("level_capacity", level_capacity),
                        ("chunks_per_side", chunks_per_side), ("fill_capacity", fill_capacity),
                        ("event_capacity", event_capacity)):
            if int(v) < 1:
                raise ValueError(f"{name} must be >= 1, got {v}")
        self.n_books = n_books
        self.max_orders = max_orders
        self.max_levels = max_levels
        lad = max(2, int(chunks_per_side))
        caps = dict(ord_cap=int(order_capacity), lvl_cap=int(level_capacity),
                    chk_cap=max(2, int(level_capacity) // 4), lad_cap=2 * n_books * lad, hash_cap=_pow2(2 * int(order_capacity) + 2),
                    fill_cap=int(fill_capacity), ev_cap=max(8, int(event_capacity)))
        off = Y.layout(n_books, **caps)
        a = _aligned_zeros(off["size"])
        a[Y.H_MAGIC] = Y.MAGIC
        a[Y.H_NBOOKS] = n_books
        self._write_offsets(a, off, caps)
        a[Y.H_NEXT_ID] = C.AUTO_ID_BASE
        a[Y.H_ORD_FREE] = -1
        a[Y.H_LVL_FREE] = -1
        a[Y.H_CHK_FREE] = -1
        self.arena = a
        self._chain_free("orders", 0, caps["ord_cap"])
        self._chain_free("levels", 0, caps["lvl_cap"])
        self._chain_free("chunks", 0, caps["chk_cap"])
        books = self.table("books")
        books[:, Y.B_MAX_PRICE] = mp
        for b in range(n_books):
            for s in range(2):
                books[b, Y.B_LOFF + s] = (2 * b + s) * lad
                books[b, Y.B_LCAP + s] = lad
        a[Y.H_LAD_USED] = 2 * n_books * lad
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._run_one = None
        self._l2buf: dict[int, np.ndarray] = {}
        self.grow_count = 0

    @classmethod
    def from_instruments(cls, instruments, **kw) -> "Engine":
        """An engine with one book per ``lob.core.instrument.Instrument``."""
        return cls(len(instruments), max_price_ticks=[i.max_price_ticks for i in instruments], **kw)

    # ------------------------------------------------------------------ layout
    @staticmethod
    def _write_offsets(a, off, caps):
        a[Y.H_ORD_CAP], a[Y.H_ORD_OFF] = caps["ord_cap"], off["orders"]
        a[Y.H_LVL_CAP], a[Y.H_LVL_OFF] = caps["lvl_cap"], off["levels"]
        a[Y.H_CHK_CAP], a[Y.H_CHK_OFF] = caps["chk_cap"], off["chunks"]
        a[Y.H_BOOK_OFF] = off["books"]
        a[Y.H_LAD_CAP], a[Y.H_LAD_OFF] = caps["lad_cap"], off["ladder"]
        a[Y.H_HASH_CAP], a[Y.H_HASH_OFF] = caps["hash_cap"], off["hash"]
        a[Y.H_FILL_CAP], a[Y.H_FILL_OFF] = caps["fill_cap"], off["fills"]
        a[Y.H_EV_CAP], a[Y.H_EV_OFF] = caps["ev_cap"], off["events"]
        a[Y.H_INBOX_OFF] = off["inbox"]

    def _caps(self) -> dict[str, int]:
        a = self.arena
        return dict(ord_cap=int(a[Y.H_ORD_CAP]), lvl_cap=int(a[Y.H_LVL_CAP]),
                    chk_cap=int(a[Y.H_CHK_CAP]), lad_cap=int(a[Y.H_LAD_CAP]), hash_cap=int(a[Y.H_HASH_CAP]),
                    fill_cap=int(a[Y.H_FILL_CAP]), ev_cap=int(a[Y.H_EV_CAP]))

    _COLS = {"orders": (Y.H_ORD_OFF, Y.H_ORD_CAP, Y.N_ORD), "levels": (Y.H_LVL_OFF, Y.H_LVL_CAP, Y.N_LVL),
             "chunks": (Y.H_CHK_OFF, Y.H_CHK_CAP, Y.N_CHK),
             "books": (Y.H_BOOK_OFF, Y.H_NBOOKS, Y.N_BOOK), "ladder": (Y.H_LAD_OFF, Y.H_LAD_CAP, Y.N_LAD),
             "hash": (Y.H_HASH_OFF, Y.H_HASH_CAP, Y.N_HASH), "fills": (Y.H_FILL_OFF, Y.H_FILL_CAP, C.N_FILL),
             "events": (Y.H_EV_OFF, Y.H_EV_CAP, C.N_EVENT)}

    def table(self, name: str, arena: np.ndarray | None = None) -> np.ndarray:
        """A 2-D int64 view of one arena table (``orders``, ``levels``,
        ``chunks``, ``books``, ``ladder``, ``hash``, ``fills``, ``events``)."""
        a = self.arena if arena is None else arena
        h_off, h_rows, cols = self._COLS[name]
        off, rows = int(a[h_off]), int(a[h_rows])
        return a[off:off + rows * cols].reshape(rows, cols)

    def _chain_free(self, name: str, lo: int, hi: int) -> None:
        """Push slots ``lo..hi-1`` on the free list of ``orders``,
        ``levels`` or ``chunks``."""
        t = self.table(name)
        col, head, mark = {"orders": (Y.O_NEXT, Y.H_ORD_FREE, Y.O_LEVEL),
                           "levels": (Y.L_NEXT_FREE, Y.H_LVL_FREE, Y.L_BOOK),
                           "chunks": (Y.K_NEXT_FREE, Y.H_CHK_FREE, Y.K_KEY)}[name]
        t[lo:hi, mark] = -1
        t[lo:hi - 1, col] = np.arange(lo + 1, hi)
        t[hi - 1, col] = self.arena[head]
        self.arena[head] = lo

    def _realloc(self, **new) -> None:
        """Rebuild the arena with the capacities in ``new`` (others kept)."""
        old = self.arena
        caps = self._caps()
        caps.update(new)
        off = Y.layout(self.n_books, **caps)
        a = _aligned_zeros(off["size"])
        a[:Y.N_HEADER] = old[:Y.N_HEADER]
        self._write_offsets(a, off, caps)
        names = ["orders", "levels", "chunks", "books", "ladder", "fills", "events"]
        if caps["hash_cap"] == int(old[Y.H_HASH_CAP]):
            names.append("hash")      # otherwise the caller rehashes
        for name in names:
            src = self.table(name, old)
            dst = self.table(name, a)
            n = min(len(src), len(dst))
            dst[:n] = src[:n]
        self.arena = a
        self._run_one = None
        self.grow_count += 1

    def _grow(self, status: int) -> None:
        a = self.arena
        if status == Y.ST_NEED_ORDERS:
            cap = int(a[Y.H_ORD_CAP])
            new = 2 * cap
            if self.max_orders is not None:
                if cap >= self.max_orders:
                    raise CapacityError(f"order table full: {cap} live orders reached max_orders={self.max_orders}")
                new = min(new, self.max_orders)
            self._realloc(ord_cap=new)
            self._chain_free("orders", cap, new)
            if int(self.arena[Y.H_HASH_CAP]) < 2 * new:
                self._rehash(_pow2(2 * new + 2))
        elif status == Y.ST_NEED_LEVELS:
            cap = int(a[Y.H_LVL_CAP])
            new = 2 * cap
            if self.max_levels is not None:
                if cap >= self.max_levels:
                    raise CapacityError(f"level table full: {cap} price levels reached max_levels={self.max_levels}")
                new = min(new, self.max_levels)
            self._realloc(lvl_cap=new)
            self._chain_free("levels", cap, new)
        elif status == Y.ST_NEED_CHUNKS:
            cap = int(a[Y.H_CHK_CAP])
            self._realloc(chk_cap=2 * cap)
            self._chain_free("chunks", cap, 2 * cap)
        elif status == Y.ST_NEED_HASH:
            self._rehash(2 * int(a[Y.H_HASH_CAP]))
        elif status == Y.ST_NEED_LADDER:
            self._grow_ladder(int(a[Y.H_NEED_BOOK]), int(a[Y.H_NEED_SIDE]))
        else:  # pragma: no cover - the kernel has no other status
            raise RuntimeError(f"unknown kernel status {status}")

    def _rehash(self, new_cap: int) -> None:
        self._realloc(hash_cap=new_cap)
        htab = self.table("hash")
        n = _queries.rehash(self.arena, htab)
        self.arena[Y.H_HASH_COUNT] = n

    def _grow_ladder(self, book: int, side: int) -> None:
        """Move one book side's ladder slice to the end of the pool with
        twice the room, compacting the pool when it runs out."""
        books = self.table("books")
        cap = int(books[book, Y.B_LCAP + side])
        need = 2 * cap
        used = int(self.arena[Y.H_LAD_USED])
        if used + need > int(self.arena[Y.H_LAD_CAP]):
            live = int(books[:, Y.B_LCAP:Y.B_LCAP + 2].sum())
            self._compact_ladder(max(2 * (live + need), int(self.arena[Y.H_LAD_CAP])))
            books = self.table("books")
            used = int(self.arena[Y.H_LAD_USED])
        lad = self.table("ladder")
        lo, n = int(books[book, Y.B_LOFF + side]), int(books[book, Y.B_NCHK + side])
        lad[used:used + n] = lad[lo:lo + n]
        books[book, Y.B_LOFF + side] = used
        books[book, Y.B_LCAP + side] = need
        self.arena[Y.H_LAD_USED] = used + need
        self.grow_count += 1

    def _compact_ladder(self, new_cap: int) -> None:
        old_lad = self.table("ladder").copy()
        self._realloc(lad_cap=new_cap)
        books = self.table("books")
        lad = self.table("ladder")
        pos = 0
        for b in range(self.n_books):
            for s in range(2):
                lo, n, cap = (int(books[b, Y.B_LOFF + s]), int(books[b, Y.B_NCHK + s]),
                              int(books[b, Y.B_LCAP + s]))
                lad[pos:pos + n] = old_lad[lo:lo + n]
                books[b, Y.B_LOFF + s] = pos
                pos += cap
        self.arena[Y.H_LAD_USED] = pos

    # ------------------------------------------------------------------ outputs
    def _take_outputs(self) -> tuple[np.ndarray, np.ndarray]:
        """Copy the rows in the output buffers out and empty them."""
        a = self.arena
        nf, ne = int(a[Y.H_NFILLS]), int(a[Y.H_NEVENTS])
        f = self.table("fills")[:nf].copy().view(C.FILL_DTYPE).reshape(nf)
        e = self.table("events")[:ne].copy().view(C.EVENT_DTYPE).reshape(ne)
        a[Y.H_NFILLS] = 0
        a[Y.H_NEVENTS] = 0
        return f, e

    def _make_room(self, out: list) -> None:
        """Flush the output buffers into ``out``; grow them if a single
        message needs more rows than they hold."""
        out.append(self._take_outputs())
        a = self.arena
        nf, ne = int(a[Y.H_NEED_FILLS]), int(a[Y.H_NEED_EVENTS])
        if nf > a[Y.H_FILL_CAP] or ne > a[Y.H_EV_CAP]:
            self._realloc(fill_cap=max(int(a[Y.H_FILL_CAP]), _pow2(nf)),
                          ev_cap=max(int(a[Y.H_EV_CAP]), _pow2(ne)))

    @staticmethod
    def _concat(chunks) -> tuple[np.ndarray, np.ndarray]:
        if not chunks:
            return np.zeros(0, C.FILL_DTYPE), np.zeros(0, C.EVENT_DTYPE)
        if len(chunks) == 1:
            return chunks[0]
        return (np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks]))

    # ------------------------------------------------------------------ entry points
    @staticmethod
    def output_buffer(n_msgs: int) -> np.ndarray:
        """A flat buffer for ``process(..., out=)`` sized for ``n_msgs``
        messages (touched once, so reusing it costs no page faults)."""
        rows = 3 * max(64, n_msgs)
        return np.zeros(rows * 9, np.int64)

    def process(self, msgs, out=None) -> tuple[np.ndarray, np.ndarray]:
        """Process an array of messages (``MSG_DTYPE`` or (n, 9) int64) in
        one compiled call; return the ``(fills, events)`` they produced.

        The kernel writes straight into the result arrays, so rows are never
        copied.  By default they are allocated from the message count; pass
        ``out=Engine.output_buffer(n)`` to reuse one buffer across calls, as a
        replay loop would: the results are then views into it, valid until it
        is used again (a buffer that proves too small is replaced by a larger
        copy, never overrun).  ``out=(fills_like, events_like)`` sizes the
        results from two arrays' lengths instead."""
        m = C.as_matrix(msgs)
        a = self.arena
        if a[Y.H_NFILLS] or a[Y.H_NEVENTS]:
            self._pending.append(self._take_outputs())
        n = len(m)
        if out is None:
            frows, erows = max(64, n // 2), max(64, 2 * n + 8)
            O = np.empty((frows + erows) * 9, np.int64)
        elif isinstance(out, np.ndarray):
            # a reusable flat buffer (``output_buffer``): a third for fills
            if out.dtype != np.int64 or out.ndim != 1 or not out.flags.c_contiguous or len(out) < 27 * 2:
                raise ValueError("out must be a flat C-contiguous int64 array (see Engine.output_buffer)")
            O = out
            frows = len(out) // 27
            erows = (len(out) - frows * 9) // 9
        else:
            f_in, e_in = out
            frows, erows = max(2, len(f_in)), max(2, len(e_in))
            O = np.empty((frows + erows) * 9, np.int64)
        ms = m.reshape(-1)
        i = 0
        while True:
            status = _kernel.run(self.arena, ms, O, i, n, 0, frows, frows * 9, erows, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            i = int(self.arena[Y.H_NEXT_INDEX])
            if status == Y.ST_OK:
                break
            if status == Y.ST_NEED_OUTPUT:
                O, frows, erows = self._enlarge(O, frows, erows)
            else:
                try:
                    self._grow(status)
                except CapacityError as err:
                    # messages before i were applied: hand their outputs over
                    # with the error, and leave the arena's own buffers clean
                    err.processed = i
                    err.fills, err.events = self._results(O, frows)
                    raise
        return self._results(O, frows)

    def _results(self, O: np.ndarray, frows: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows ``run`` wrote into ``O`` as record arrays; resets the counts."""
        nf, ne = int(self.arena[Y.H_NFILLS]), int(self.arena[Y.H_NEVENTS])
        self.arena[Y.H_NFILLS] = 0
        self.arena[Y.H_NEVENTS] = 0
        fills = O[:nf * 9].view(C.FILL_DTYPE)
        events = O[frows * 9:(frows + ne) * 9].view(C.EVENT_DTYPE)
        return fills, events

    def _enlarge(self, O: np.ndarray, frows: int, erows: int):
        """A larger output buffer holding the rows written so far."""
        a = self.arena
        nf, ne = int(a[Y.H_NFILLS]), int(a[Y.H_NEVENTS])
        nfr = max(frows, 2 * (nf + int(a[Y.H_NEED_FILLS])))
        ner = max(erows, 2 * (ne + int(a[Y.H_NEED_EVENTS])))
        new = np.empty((nfr + ner) * 9, np.int64)
        new[:nf * 9] = O[:nf * 9]
        new[nfr * 9:(nfr + ne) * 9] = O[frows * 9:(frows + ne) * 9]
        return new, nfr, ner

    def submit(self, type: int, book: int, side: int, price: int = 0, qty: int = 0,
               order_id: int = 0, account: int = 0, stp: int = 0, ts: int = 0) -> int:
        """Process one message.  Returns the order id (the engine-assigned one
        when ``order_id`` is 0), or 0 if the message was rejected.  Outputs
        wait in the engine until ``drain()``."""
        run_one = self._run_one or self._bind_run_one()
        status = run_one(ts, type, book, side, order_id, price, qty, account, stp)
        while status != Y.ST_OK:
            if status == Y.ST_NEED_OUTPUT:
                self._make_room(self._pending)
            else:
                self._grow(status)
            status = self._bind_run_one()(ts, type, book, side, order_id, price, qty, account, stp)
        return int(self.arena[Y.H_RESULT])

    def _bind_run_one(self):
        """``run`` with every argument but the message bound: the arena as
        input and as output (its own buffers); rebuilt when the arena moves."""
        a = self.arena
        self._run_one = functools.partial(_kernel.run, a, a, a, -1, 0, int(a[Y.H_FILL_OFF]), int(a[Y.H_FILL_CAP]),
                                          int(a[Y.H_EV_OFF]), int(a[Y.H_EV_CAP]))
        return self._run_one

    def drain(self) -> tuple[np.ndarray, np.ndarray]:
        """``(fills, events)`` produced by ``submit`` since the last drain."""
        self._pending.append(self._take_outputs())
        chunks, self._pending = self._pending, []
        return self._concat(chunks)

    # ------------------------------------------------------------------ queries
    def _book(self, book) -> int:
        b = int(book)
        if not 0 <= b < self.n_books:
            raise IndexError(f"book {book} out of range [0, {self.n_books})")
        return b

    def best_bid(self, book: int) -> tuple[int, int]:
        """(price, qty) of the best bid level, (0, 0) if none.  O(1)."""
        p, q = _queries.best(self.arena, self._book(book), C.BUY)
        return int(p), int(q)

    def best_ask(self, book: int) -> tuple[int, int]:
        """(price, qty) of the best ask level, (0, 0) if none.  O(1)."""
        p, q = _queries.best(self.arena, self._book(book), C.SELL)
        return int(p), int(q)

    def l2(self, book: int, n: int):
        """Top ``n`` levels: ``(bid_px, bid_qty, ask_px, ask_qty)`` int64 arrays,
        best first, zero padded.  O(n)."""
        book = self._book(book)
        if int(n) < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        out = np.empty((4, int(n)), np.int64)
        _queries.l2(self.arena, book, int(n), out)
        return out[0], out[1], out[2], out[3]

    def depth_within(self, book: int, bps: int) -> tuple[int, int]:
        """(bid_lots, ask_lots) within ``bps`` basis points of the mid."""
        b, a = _queries.depth_within(self.arena, self._book(book), C.check_depth_bps(bps))
        return int(b), int(a)

    def last_trade(self, book: int) -> tuple[int, int]:
        """(price, ts) of the last fill in ``book``; (0, 0) if none."""
        row = self.table("books")[self._book(book)]
        return int(row[Y.B_LAST_PX]), int(row[Y.B_LAST_TS])

    def volume(self, book: int) -> int:
        """Cumulative lots traded in ``book``."""
        return int(self.table("books")[self._book(book), Y.B_VOLUME])

    def live_orders(self, book: int) -> np.ndarray:
        """Live orders of ``book`` (``ORDER_DTYPE``): bids best first, then
        asks best first, FIFO within a level."""
        book = self._book(book)
        books = self.table("books")
        n = int(books[book, Y.B_NORD] + books[book, Y.B_NORD + 1])
        out = np.empty((n, 5), np.int64)
        rows = np.empty(int(books[book, Y.B_NLEV] + books[book, Y.B_NLEV + 1]) + 1, np.int64)
        r = _queries.live_orders(self.arena, book, out, rows)
        assert r == n
        return out.view(ORDER_DTYPE).reshape(n)

    def n_live(self) -> int:
        """Live orders in all books."""
        return int(self.arena[Y.H_ORD_LIVE])

    @property
    def messages_processed(self) -> int:
        return int(self.arena[Y.H_NMSG])

    def check(self) -> None:
        """Verify every invariant (see ``_queries.check``); raise
        ``AssertionError`` naming the first one broken."""
        a = self.arena
        code, book, detail = _queries.check(a, np.zeros(int(a[Y.H_ORD_CAP]), np.int8),
                                            np.zeros(int(a[Y.H_LVL_CAP]), np.int8))
        if code:
            raise AssertionError(f"engine invariant broken: {CHECK_MESSAGES.get(int(code), code)} "
                                 f"(book {int(book)}, detail {int(detail)})")
