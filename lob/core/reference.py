"""Pure-Python reference twin of the matching engine.

``ReferenceEngine`` implements exactly the semantics specified in the module
docstring of :mod:`lob.core.codes` (validation order, order types,
self-trade prevention, event kinds/reasons and the order of output rows).
It is the *oracle* that the compiled engine (:mod:`lob.core.engine`) is
differentially tested against, so it is written for clarity, not speed:
every rule of the spec appears once, in plain Python, in the order the spec
states it.

Units
-----
Prices are integer **ticks**, quantities integer **lots**, times integer
**nanoseconds** (the ``ts`` of a message is copied onto every row it
produces).  All arithmetic is on Python ints, so nothing overflows.

Data structures
---------------
* one :class:`_Book` per instrument, holding two ``SortedDict``\\ s
  ``price -> _Level`` (``bids`` and ``asks``); the best bid is the *last*
  key of ``bids``, the best ask the *first* key of ``asks``;
* a :class:`_Level` is a FIFO of resting orders: an ``OrderedDict``
  ``order_id -> _Order`` in arrival order, plus its cached ``total`` lots and
  ``count`` of orders;
* one engine-wide ``dict`` ``order_id -> _Order`` of all live orders (ids
  are unique across all books of an engine: see ``R_DUPLICATE_ID``);
* every order carries ``seq``, the value of a global arrival counter taken
  when it entered its level (new order resting, or re-entry after a MODIFY
  that lost priority), so :meth:`ReferenceEngine.check` can verify FIFO.

Complexity (L = price levels on a side, k = maker orders touched)
-----------------------------------------------------------------
* resting a new order: O(log L) when it opens a new level, else O(1);
* cancel / reduce / in-place modify: O(1) (O(log L) when a level empties);
* matching: O(k log L); FOK pre-check: O(k') for the k' orders counted;
* best_bid / best_ask / last_trade / volume / n_live: O(1);
* l2(n): O(n); depth_within: O(levels within the band);
  live_orders: O(orders in the book); check(): O(all orders + all levels).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator, Sequence

import numpy as np
from sortedcontainers import SortedDict

from lob.core import codes as C

__all__ = ["ReferenceEngine", "ORDER_DTYPE"]

#: Row layout of :meth:`ReferenceEngine.live_orders`.
ORDER_DTYPE = np.dtype([("order_id", np.int64), ("side", np.int64),
                        ("price", np.int64), ("qty", np.int64),
                        ("account", np.int64)])

_STP_MODES = (C.STP_NONE, C.STP_CANCEL_RESTING, C.STP_CANCEL_INCOMING,
              C.STP_CANCEL_BOTH)


class _Order:
    """A live (resting) order.  ``tif`` is its time-in-force, LIMIT or
    POST_ONLY, remembered for MODIFY; ``seq`` its arrival number."""

    __slots__ = ("order_id", "book", "side", "price", "qty", "account", "tif",
                 "seq")

    def __init__(self, order_id: int, book: int, side: int, price: int,
                 qty: int, account: int, tif: int, seq: int) -> None:
        self.order_id = order_id
        self.book = book
        self.side = side
        self.price = price
        self.qty = qty
        self.account = account
        self.tif = tif
        self.seq = seq

    def __repr__(self) -> str:
        side = "BUY" if self.side == C.BUY else "SELL"
        return (f"_Order(id={self.order_id}, book={self.book}, {side} "
                f"{self.qty}@{self.price}, acct={self.account}, "
                f"tif={C.MSG_TYPE_NAMES.get(self.tif)}, seq={self.seq})")


class _Level:
    """All resting orders of one side of one book at one price, in FIFO
    order (``orders`` iterates oldest first)."""

    __slots__ = ("price", "orders", "total", "count")

    def __init__(self, price: int) -> None:
        self.price = price
        self.orders: OrderedDict[int, _Order] = OrderedDict()
        self.total = 0      # sum of the orders' qty, lots
        self.count = 0      # number of orders

    def append(self, order: _Order) -> None:
        """Add ``order`` at the back of the queue.  O(1)."""
        self.orders[order.order_id] = order
        self.total += order.qty
        self.count += 1

    def remove(self, order: _Order) -> None:
        """Take ``order`` out of the queue (wherever it is).  O(1)."""
        del self.orders[order.order_id]
        self.total -= order.qty
        self.count -= 1

    def head(self) -> _Order:
        """The oldest order (first in time priority).  O(1)."""
        return next(iter(self.orders.values()))


class _Book:
    """One instrument: two sides of price levels plus trade statistics."""

    __slots__ = ("index", "max_price", "bids", "asks", "last_price",
                 "last_ts", "volume")

    def __init__(self, index: int, max_price: int) -> None:
        self.index = index
        self.max_price = max_price
        self.bids: SortedDict = SortedDict()   # price -> _Level, best = last
        self.asks: SortedDict = SortedDict()   # price -> _Level, best = first
        self.last_price = 0
        self.last_ts = 0
        self.volume = 0

    def levels(self, side: int) -> SortedDict:
        return self.bids if side == C.BUY else self.asks

    def best(self, side: int) -> _Level | None:
        """Best level of ``side`` or None when that side is empty.  O(1)."""
        if side == C.BUY:
            return self.bids.peekitem(-1)[1] if self.bids else None
        return self.asks.peekitem(0)[1] if self.asks else None

    def by_priority(self, side: int) -> Iterator[_Level]:
        """Levels of ``side``, best price first (read-only iteration)."""
        if side == C.BUY:
            return reversed(self.bids.values())
        return iter(self.asks.values())


def _within_limit(taker_side: int, maker_price: int, limit: int | None) -> bool:
    """Whether a taker of ``taker_side`` with ``limit`` (None = MARKET, no
    limit) may trade at ``maker_price``."""
    if limit is None:
        return True
    if taker_side == C.BUY:
        return maker_price <= limit
    return maker_price >= limit


class _Out:
    """Collects the output rows of one message (all stamped with its ts)."""

    __slots__ = ("ts", "fills", "events")

    def __init__(self, ts: int, fills: list, events: list) -> None:
        self.ts = ts
        self.fills = fills
        self.events = events

    def event(self, kind: int, book: int, order_id: int, account: int,
              side: int, price: int, qty: int, reason: int = 0) -> None:
        self.events.append((self.ts, kind, book, order_id, account, side,
                            price, qty, reason))

    def order_event(self, kind: int, order: _Order, qty: int,
                    reason: int = 0) -> None:
        """An event about a resting/known order, using its own fields."""
        self.event(kind, order.book, order.order_id, order.account,
                   order.side, order.price, qty, reason)

    def fill(self, book: int, maker: _Order, taker_id: int, taker_account: int,
             qty: int, taker_side: int) -> None:
        self.fills.append((self.ts, book, maker.order_id, taker_id,
                           maker.account, taker_account, maker.price, qty,
                           taker_side))


def _fills_array(rows: list) -> np.ndarray:
    return np.array(rows, dtype=C.FILL_DTYPE) if rows else np.zeros(0, C.FILL_DTYPE)


def _events_array(rows: list) -> np.ndarray:
    return np.array(rows, dtype=C.EVENT_DTYPE) if rows else np.zeros(0, C.EVENT_DTYPE)


class ReferenceEngine:
    """Multi-book price-time-priority matching engine (reference twin).

    Parameters
    ----------
    n_books:
        number of books (instruments), addressed ``0 .. n_books - 1``.
    max_price_ticks:
        largest valid limit price: ``None`` -> ``codes.DEFAULT_MAX_PRICE_TICKS``
        for every book, an int -> the same for every book, a sequence of
        ``n_books`` ints -> per book.
    """

    def __init__(self, n_books: int, *,
                 max_price_ticks: int | Sequence[int] | None = None) -> None:
        n_books = int(n_books)
        if n_books < 1:
            raise ValueError(f"n_books must be >= 1, got {n_books}")
        if max_price_ticks is None:
            maxes = [C.DEFAULT_MAX_PRICE_TICKS] * n_books
        elif np.ndim(max_price_ticks) == 0:
            maxes = [int(max_price_ticks)] * n_books
        else:
            maxes = [int(m) for m in max_price_ticks]
            if len(maxes) != n_books:
                raise ValueError(f"max_price_ticks has {len(maxes)} entries, "
                                 f"expected n_books={n_books}")
        if any(m < 1 for m in maxes):
            raise ValueError(f"max_price_ticks must be >= 1, got {maxes}")
        self.n_books = n_books
        self._books = [_Book(i, m) for i, m in enumerate(maxes)]
        self._orders: dict[int, _Order] = {}   # id index of all live orders
        self._next_id = C.AUTO_ID_BASE          # next engine-assigned id
        self._next_seq = 0                      # global arrival counter
        self._pending_fills: list = []          # submit() outputs until drain()
        self._pending_events: list = []

    # ------------------------------------------------------------------
    # message entry points
    # ------------------------------------------------------------------
    def process(self, msgs) -> tuple[np.ndarray, np.ndarray]:
        """Process every message of ``msgs`` (``MSG_DTYPE`` array or (n, 9)
        int64 matrix) in order; return the ``(fills, events)`` they produced.
        These outputs are *not* added to the :meth:`drain` buffer."""
        fills: list = []
        events: list = []
        for row in C.as_matrix(np.asarray(msgs)).tolist():
            self._handle(row, fills, events)
        return _fills_array(fills), _events_array(events)

    def submit(self, type: int, book: int, side: int, price: int, qty: int,
               order_id: int = 0, account: int = 0, stp: int = 0,
               ts: int = 0) -> int:
        """Process one message.  Returns the order id for an accepted new
        order (the assigned one when ``order_id == 0``) or an accepted
        CANCEL/MODIFY/REDUCE, and 0 when the message was rejected.  Its
        outputs are kept until :meth:`drain`."""
        row = [int(ts), int(type), int(book), int(side), int(order_id),
               int(price), int(qty), int(account), int(stp)]
        return self._handle(row, self._pending_fills, self._pending_events)

    def drain(self) -> tuple[np.ndarray, np.ndarray]:
        """``(fills, events)`` produced by :meth:`submit` since the last
        drain, then clear that buffer."""
        fills = _fills_array(self._pending_fills)
        events = _events_array(self._pending_events)
        self._pending_fills = []
        self._pending_events = []
        return fills, events

    # ------------------------------------------------------------------
    # queries
    # ------------------------------------------------------------------
    def _book(self, book: int) -> _Book:
        book = int(book)
        if not 0 <= book < self.n_books:
            raise IndexError(f"book {book} out of range [0, {self.n_books})")
        return self._books[book]

    def best_bid(self, book: int) -> tuple[int, int]:
        """``(price_ticks, total_lots)`` of the best bid level, (0, 0) if none."""
        level = self._book(book).best(C.BUY)
        return (level.price, level.total) if level else (0, 0)

    def best_ask(self, book: int) -> tuple[int, int]:
        """``(price_ticks, total_lots)`` of the best ask level, (0, 0) if none."""
        level = self._book(book).best(C.SELL)
        return (level.price, level.total) if level else (0, 0)

    def l2(self, book: int, n: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Top ``n`` levels: ``bid_px, bid_qty, ask_px, ask_qty`` (int64
        arrays of length ``n``, best first, zero padded)."""
        bk = self._book(book)
        out = [np.zeros(n, np.int64) for _ in range(4)]
        for side, (px, qty) in ((C.BUY, out[0:2]), (C.SELL, out[2:4])):
            for i, level in enumerate(bk.by_priority(side)):
                if i >= n:
                    break
                px[i] = level.price
                qty[i] = level.total
        return out[0], out[1], out[2], out[3]

    def depth_within(self, book: int, bps) -> tuple[int, int]:
        """``(bid_lots, ask_lots)`` resting within ``bps`` basis points of
        the reference price (inclusive).  With ``m2`` = best bid + best ask
        (or twice the best of the only non-empty side), a bid at ``p`` counts
        if ``(m2 - 2p) * 10000 <= bps * m2`` and an ask if
        ``(2p - m2) * 10000 <= bps * m2``.  (0, 0) for an empty book.
        ``bps`` must be an integer in ``[0, MAX_DEPTH_BPS]``."""
        bk = self._book(book)
        C.check_depth_bps(bps)
        bid, ask = bk.best(C.BUY), bk.best(C.SELL)
        if bid is None and ask is None:
            return 0, 0
        if bid is not None and ask is not None:
            m2 = bid.price + ask.price
        else:
            m2 = 2 * (bid or ask).price
        band = bps * m2
        bid_lots = 0
        for level in bk.by_priority(C.BUY):     # distance grows as we go
            if (m2 - 2 * level.price) * 10000 > band:
                break
            bid_lots += level.total
        ask_lots = 0
        for level in bk.by_priority(C.SELL):
            if (2 * level.price - m2) * 10000 > band:
                break
            ask_lots += level.total
        return bid_lots, ask_lots

    def last_trade(self, book: int) -> tuple[int, int]:
        """``(price_ticks, ts_ns)`` of the last fill in the book, (0, 0) if none."""
        bk = self._book(book)
        return bk.last_price, bk.last_ts

    def volume(self, book: int) -> int:
        """Cumulative lots traded in the book."""
        return self._book(book).volume

    def live_orders(self, book: int) -> np.ndarray:
        """Resting orders of the book as an ``ORDER_DTYPE`` array: bids
        (best price first, FIFO within a price), then asks (same)."""
        bk = self._book(book)
        rows = [(o.order_id, o.side, o.price, o.qty, o.account)
                for side in (C.BUY, C.SELL)
                for level in bk.by_priority(side)
                for o in level.orders.values()]
        return np.array(rows, dtype=ORDER_DTYPE) if rows else np.zeros(0, ORDER_DTYPE)

    def n_live(self) -> int:
        """Number of live (resting) orders in all books."""
        return len(self._orders)

    # ------------------------------------------------------------------
    # invariants
    # ------------------------------------------------------------------
    def check(self) -> None:
        """Verify every structural invariant; raise ``AssertionError``
        naming the first violation found."""
        seen: set[int] = set()
        for bk in self._books:
            b = bk.index
            bid, ask = bk.best(C.BUY), bk.best(C.SELL)
            if bid is not None and ask is not None and bid.price >= ask.price:
                raise AssertionError(f"book {b} crossed: best bid {bid.price} "
                                     f">= best ask {ask.price}")
            for side in (C.BUY, C.SELL):
                name = "bid" if side == C.BUY else "ask"
                for price, level in bk.levels(side).items():
                    where = f"book {b} {name} level {price}"
                    if level.price != price:
                        raise AssertionError(f"{where}: keyed under {price} "
                                             f"but level.price={level.price}")
                    if not level.orders:
                        raise AssertionError(f"{where}: empty level")
                    if level.count != len(level.orders):
                        raise AssertionError(
                            f"{where}: count={level.count} but holds "
                            f"{len(level.orders)} orders")
                    total = sum(o.qty for o in level.orders.values())
                    if level.total != total:
                        raise AssertionError(f"{where}: total={level.total} "
                                             f"but orders sum to {total}")
                    prev_seq = None
                    for oid, o in level.orders.items():
                        what = f"{where}: order {oid}"
                        if o.order_id != oid:
                            raise AssertionError(f"{what} keyed under wrong "
                                                 f"id {o.order_id}")
                        if o.qty < 1:
                            raise AssertionError(f"{what} has qty {o.qty} < 1")
                        if (o.book, o.side, o.price) != (b, side, price):
                            raise AssertionError(
                                f"{what} says book={o.book} side={o.side} "
                                f"price={o.price}")
                        if o.tif not in (C.LIMIT, C.POST_ONLY):
                            raise AssertionError(f"{what} has tif {o.tif}")
                        if prev_seq is not None and o.seq <= prev_seq:
                            raise AssertionError(
                                f"{what}: FIFO violated, seq {o.seq} after "
                                f"{prev_seq}")
                        if o.seq >= self._next_seq:
                            raise AssertionError(f"{what}: seq {o.seq} from "
                                                 f"the future")
                        prev_seq = o.seq
                        if oid in seen:
                            raise AssertionError(f"{what} rests in more than "
                                                 f"one level")
                        seen.add(oid)
                        if self._orders.get(oid) is not o:
                            raise AssertionError(f"{what} missing from (or "
                                                 f"different in) the id index")
        extra = set(self._orders) - seen
        if extra:
            raise AssertionError(f"id index holds orders resting nowhere: "
                                 f"{sorted(extra)[:10]}")

    # ------------------------------------------------------------------
    # message handling
    # ------------------------------------------------------------------
    def _handle(self, row: list, fills: list, events: list) -> int:
        """Apply one message (a list of nine ints in ``MSG_FIELDS`` order),
        appending its output rows; return as :meth:`submit` does."""
        out = _Out(row[C.M_TS], fills, events)
        typ = row[C.M_TYPE]
        if typ in C.NEW_ORDER_TYPES:
            return self._new_order(row, out)
        if typ == C.CANCEL:
            return self._cancel(row, out)
        if typ == C.REDUCE:
            return self._reduce(row, out)
        if typ == C.MODIFY:
            return self._modify(row, out)
        return self._reject(row, out, C.R_BAD_TYPE)

    @staticmethod
    def _reject(row: list, out: _Out, reason: int) -> int:
        """One EV_REJECTED row echoing the message; nothing else changes."""
        out.event(C.EV_REJECTED, row[C.M_BOOK], row[C.M_ID], row[C.M_ACCT],
                  row[C.M_SIDE], row[C.M_PRICE], row[C.M_QTY], reason)
        return 0

    def _price_error(self, price: int, book: int) -> int:
        """Reason code for an invalid limit price in ``book``, else 0."""
        if price == C.PRICE_OFF_GRID:
            return C.R_OFF_GRID
        if not 1 <= price <= self._books[book].max_price:
            return C.R_BAD_PRICE
        return 0

    @staticmethod
    def _qty_bad(qty: int) -> bool:
        return qty == C.QTY_OFF_LOT or not 1 <= qty <= C.MAX_QTY

    @staticmethod
    def _would_take(bk: _Book, side: int, price: int) -> bool:
        """Whether a limit order at ``price`` crosses the opposite best."""
        opp = bk.best(1 - side)
        if opp is None:
            return False
        return price >= opp.price if side == C.BUY else price <= opp.price

    # --- new orders ----------------------------------------------------
    def _new_order(self, row: list, out: _Out) -> int:
        (_, typ, book, side, order_id, price, qty, account, stp) = row
        if not 0 <= book < self.n_books:
            return self._reject(row, out, C.R_BAD_BOOK)
        if side not in (C.BUY, C.SELL):
            return self._reject(row, out, C.R_BAD_SIDE)
        if stp not in _STP_MODES:
            return self._reject(row, out, C.R_BAD_STP)
        if not 0 <= order_id < C.AUTO_ID_BASE:
            return self._reject(row, out, C.R_BAD_ID)
        if order_id != 0 and order_id in self._orders:
            return self._reject(row, out, C.R_DUPLICATE_ID)
        if typ != C.MARKET:
            reason = self._price_error(price, book)
            if reason:
                return self._reject(row, out, reason)
        if self._qty_bad(qty):
            return self._reject(row, out, C.R_BAD_QTY)
        bk = self._books[book]
        if typ == C.POST_ONLY and self._would_take(bk, side, price):
            return self._reject(row, out, C.R_POST_ONLY_WOULD_TAKE)

        # accepted
        if order_id == 0:
            order_id = self._next_id
            self._next_id += 1
        limit = None if typ == C.MARKET else price
        shown_price = 0 if typ == C.MARKET else price
        out.event(C.EV_ACCEPTED, book, order_id, account, side, shown_price, qty)

        if typ == C.FOK and not self._fok_fillable(bk, side, limit, qty,
                                                   account, stp):
            out.event(C.EV_CANCELLED, book, order_id, account, side,
                      shown_price, qty, C.CX_FOK_UNFILLABLE)
            return order_id

        # (a POST_ONLY that got here does not cross, so this trades nothing)
        remaining, stp_stopped = self._match(bk, order_id, side, limit, qty,
                                             account, stp, out)
        if remaining == 0:
            out.event(C.EV_FILLED, book, order_id, account, side, shown_price, 0)
        elif stp_stopped:
            out.event(C.EV_CANCELLED, book, order_id, account, side,
                      shown_price, remaining, C.CX_STP)
        elif typ in (C.MARKET, C.IOC, C.FOK):
            assert typ != C.FOK, "a fillable FOK must fill completely"
            out.event(C.EV_CANCELLED, book, order_id, account, side,
                      shown_price, remaining, C.CX_IOC_REMAINDER)
        else:   # LIMIT or POST_ONLY: rest the remainder
            order = _Order(order_id, book, side, price, remaining, account,
                           typ, 0)
            self._orders[order_id] = order
            self._rest(bk, order)
        return order_id

    def _fok_fillable(self, bk: _Book, side: int, limit: int, qty: int,
                      account: int, stp: int) -> bool:
        """Whether ``qty`` can be filled at once within ``limit``, counting
        makers the way :meth:`_match` would meet them (self orders skipped
        for STP_CANCEL_RESTING, counting stops at the first self order for
        STP_CANCEL_INCOMING / STP_CANCEL_BOTH).  Read-only."""
        available = 0
        for level in bk.by_priority(1 - side):
            if not _within_limit(side, level.price, limit):
                break
            for maker in level.orders.values():
                if stp != C.STP_NONE and maker.account == account:
                    if stp == C.STP_CANCEL_RESTING:
                        continue
                    return False
                available += maker.qty
                if available >= qty:
                    return True
        return False

    def _match(self, bk: _Book, taker_id: int, side: int, limit: int | None,
               qty: int, account: int, stp: int, out: _Out) -> tuple[int, bool]:
        """Walk the opposite side, best price first and FIFO within a price,
        trading ``qty`` lots at the makers' prices while they are within
        ``limit`` (None = any price).  Emits per maker its fill row then its
        FILLED event when done, or its CANCELLED (CX_STP) event.  Returns
        ``(remaining_qty, stopped_by_stp)``; the taker's own terminal event is
        left to the caller."""
        remaining = qty
        while remaining > 0:
            level = bk.best(1 - side)
            if level is None or not _within_limit(side, level.price, limit):
                break
            maker = level.head()
            if stp != C.STP_NONE and maker.account == account:
                if stp in (C.STP_CANCEL_RESTING, C.STP_CANCEL_BOTH):
                    cancelled = maker.qty
                    self._remove(maker)
                    out.order_event(C.EV_CANCELLED, maker, cancelled, C.CX_STP)
                if stp in (C.STP_CANCEL_INCOMING, C.STP_CANCEL_BOTH):
                    return remaining, True
                continue
            traded = min(remaining, maker.qty)
            out.fill(bk.index, maker, taker_id, account, traded, side)
            bk.last_price = maker.price
            bk.last_ts = out.ts
            bk.volume += traded
            remaining -= traded
            if traded == maker.qty:
                self._remove(maker)
                out.order_event(C.EV_FILLED, maker, 0)
            else:
                maker.qty -= traded
                level.total -= traded
        return remaining, False

    # --- book maintenance ----------------------------------------------
    def _rest(self, bk: _Book, order: _Order) -> None:
        """Put ``order`` (already in the id index) at the back of its level,
        as a new arrival."""
        order.seq = self._next_seq
        self._next_seq += 1
        levels = bk.levels(order.side)
        level = levels.get(order.price)
        if level is None:
            level = levels[order.price] = _Level(order.price)
        level.append(order)

    def _unlink(self, order: _Order) -> None:
        """Take ``order`` out of its level (dropping the level if it empties);
        the id index is left alone."""
        levels = self._books[order.book].levels(order.side)
        level = levels[order.price]
        level.remove(order)
        if level.count == 0:
            del levels[order.price]

    def _remove(self, order: _Order) -> None:
        """The order is done: out of its level and out of the id index."""
        self._unlink(order)
        del self._orders[order.order_id]

    # --- CANCEL / REDUCE / MODIFY ----------------------------------------
    def _find_own(self, row: list, out: _Out) -> _Order | None:
        """Common validation of CANCEL/REDUCE/MODIFY: book, live id in that
        book, owner account.  Rejects and returns None on failure."""
        book, order_id, account = row[C.M_BOOK], row[C.M_ID], row[C.M_ACCT]
        if not 0 <= book < self.n_books:
            self._reject(row, out, C.R_BAD_BOOK)
            return None
        order = self._orders.get(order_id)
        if order is None or order.book != book:
            self._reject(row, out, C.R_UNKNOWN_ID)
            return None
        if order.account != account:
            self._reject(row, out, C.R_NOT_OWNER)
            return None
        return order

    def _cancel(self, row: list, out: _Out) -> int:
        order = self._find_own(row, out)
        if order is None:
            return 0
        cancelled = order.qty
        self._remove(order)
        out.order_event(C.EV_CANCELLED, order, cancelled, C.CX_USER)
        return order.order_id

    def _reduce(self, row: list, out: _Out) -> int:
        order = self._find_own(row, out)
        if order is None:
            return 0
        amount = row[C.M_QTY]
        if self._qty_bad(amount):
            return self._reject(row, out, C.R_BAD_QTY)
        if amount >= order.qty:             # nothing left: same as CANCEL
            cancelled = order.qty
            self._remove(order)
            out.order_event(C.EV_CANCELLED, order, cancelled, C.CX_USER)
        else:                               # in place, priority kept
            order.qty -= amount
            self._books[order.book].levels(order.side)[order.price].total -= amount
            out.order_event(C.EV_MODIFIED, order, order.qty)
        return order.order_id

    def _modify(self, row: list, out: _Out) -> int:
        order = self._find_own(row, out)
        if order is None:
            return 0
        price, qty, stp = row[C.M_PRICE], row[C.M_QTY], row[C.M_STP]
        if stp not in _STP_MODES:
            return self._reject(row, out, C.R_BAD_STP)
        reason = self._price_error(price, order.book)
        if reason:
            return self._reject(row, out, reason)
        if self._qty_bad(qty):
            return self._reject(row, out, C.R_BAD_QTY)
        bk = self._books[order.book]
        if order.tif == C.POST_ONLY and self._would_take(bk, order.side, price):
            return self._reject(row, out, C.R_POST_ONLY_WOULD_TAKE)

        if price == order.price and qty <= order.qty:
            # in place: priority kept
            bk.levels(order.side)[price].total -= order.qty - qty
            order.qty = qty
            out.order_event(C.EV_MODIFIED, order, qty)
            return order.order_id

        # loses priority: leave the queue, re-enter as a new arrival
        self._unlink(order)
        order.price = price
        order.qty = qty
        out.order_event(C.EV_MODIFIED, order, qty)
        # (a POST_ONLY that got here does not cross, so this trades nothing)
        remaining, stp_stopped = self._match(bk, order.order_id, order.side,
                                             price, qty, order.account, stp,
                                             out)
        if remaining == 0:
            del self._orders[order.order_id]
            out.order_event(C.EV_FILLED, order, 0)
        elif stp_stopped:
            del self._orders[order.order_id]
            out.order_event(C.EV_CANCELLED, order, remaining, C.CX_STP)
        else:
            order.qty = remaining
            self._rest(bk, order)
        return order.order_id
