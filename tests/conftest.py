"""Shared helpers for the engine tests: a random message-stream generator
that knows the live orders (so cancels/modifies hit), and comparison helpers
that check the compiled ``Engine`` against the ``ReferenceEngine`` twin.

Units as in ``lob.core.codes``: ticks, lots, nanoseconds.
"""
from __future__ import annotations

import numpy as np

from lob.core import codes as C

AUTO = C.AUTO_ID_BASE
NEW_TYPES = (C.LIMIT, C.MARKET, C.IOC, C.FOK, C.POST_ONLY)
#: bps values at which depth_within is compared
DEPTH_BPS = (0, 1, 3, 10, 25, 100, 500, 1000, 10_000, 1_000_000)
#: accounts used by the random streams (a few, so self-trade prevention
#: triggers often; any int64 is a valid account)
ACCOUNTS = (0, 1, 2, 3, -7, 1 << 40)
ACCOUNT_P = (0.3, 0.25, 0.2, 0.15, 0.05, 0.05)
#: max_price_ticks of the books of the default random stream.  Book 0 is
#: narrow (the grid edges 1 and max are reachable), book 2 large.  2**40
#: keeps ``bps * m2`` of depth_within inside int64 for bps <= 1e6 (see
#: test_engine.py::test_depth_within_large_prices for the 2**50 case).
STREAM_MAX_PRICES = (500, 1_000_000, 1 << 40)
#: capacities that make every growth path of the engine run many times
TINY = dict(order_capacity=2, level_capacity=2, chunks_per_side=2,
            fill_capacity=1, event_capacity=4)
BIG = dict(order_capacity=1 << 15, level_capacity=1 << 13, chunks_per_side=64,
           fill_capacity=1 << 15, event_capacity=1 << 16)


# ----------------------------------------------------------------------
# random stream generator
# ----------------------------------------------------------------------
class StreamGen:
    """Random message chunks over ``len(max_prices)`` books.

    Call :meth:`observe` with an engine (any twin) after processing each
    chunk: the generator then knows which orders are live (id, book, side,
    price, qty, account) and which ids were ever accepted, and aims most
    CANCEL/MODIFY/REDUCE messages at live orders, some at filled/cancelled
    ones and some at unknown ids.  New orders get engine-assigned ids (0),
    sparse large external ids, reused ids (live -> duplicate, done -> reuse)
    or small ids.  Prices cluster around a per-book random-walking mid so
    that books trade a lot; a few orders go far away so that the books span
    many 64-tick chunks.  ``edge_rate`` of the messages are edge cases
    (bad fields, sentinels, grid edges, huge quantities, book sweeps).
    """

    def __init__(self, seed: int, max_prices=STREAM_MAX_PRICES, edge_rate: float = 0.03,
                 far_rate: float = 0.08, near: int = 20, far: int = 600,
                 target_live: int = 400):
        self.rng = np.random.default_rng(seed)
        self.max_prices = [int(m) for m in max_prices]
        self.n_books = len(self.max_prices)
        self.mids = [max(30, m // 2) if m < 10_000 else m // 3 for m in self.max_prices]
        self.edge_rate = edge_rate
        self.far_rate = far_rate
        self.near = near
        self.far = far
        self.target_live = target_live
        self.ts = 1_000
        self.live: dict[int, tuple] = {}      # id -> (book, side, price, qty, account)
        self.live_ids: list[int] = []
        self.seen: list[int] = []             # ids ever accepted (with repeats)
        self._seen_set: set[int] = set()
        # sparse external ids: random large values below AUTO_ID_BASE, a few
        # at the ends of the range, a few small ones
        ext = self.rng.integers(1, AUTO, 48).tolist()
        self.ext_pool = ext + [1, 2, 3, 5, 8, AUTO - 1, AUTO - 2, 1 << 40]

    # -- feedback ---------------------------------------------------------
    def observe(self, eng, events=None) -> None:
        """Refresh the live-order picture from ``eng`` (and the accepted ids
        from ``events`` of the chunk just processed)."""
        if events is not None:
            for oid in events["order_id"][events["kind"] == C.EV_ACCEPTED].tolist():
                if oid not in self._seen_set:
                    self._seen_set.add(oid)
                    self.seen.append(oid)
        live = {}
        for b in range(self.n_books):
            for r in eng.live_orders(b).tolist():
                live[r[0]] = (b, r[1], r[2], r[3], r[4])
        self.live = live
        self.live_ids = list(live)

    # -- pieces -----------------------------------------------------------
    def _account(self) -> int:
        return int(self.rng.choice(ACCOUNTS, p=ACCOUNT_P))

    def _stp(self) -> int:
        return int(self.rng.choice((0, 0, 0, 1, 2, 3)))

    def _price(self, book: int, side: int) -> int:
        rng = self.rng
        mid = self.mids[book]
        if rng.random() < self.far_rate:
            off = int(rng.integers(1, self.far))
        else:
            off = int(rng.integers(-4, self.near))   # < 0: crosses the mid
        p = mid - off if side == C.BUY else mid + off
        return min(max(p, 1), self.max_prices[book])

    def _qty(self) -> int:
        rng = self.rng
        u = rng.random()
        if u < 0.95:
            return int(rng.geometric(0.25))
        if u < 0.995:
            return int(rng.integers(10, 200))
        return int(rng.integers(200, 5000))

    def _new_id(self) -> int:
        rng = self.rng
        u = rng.random()
        if u < 0.5:
            return 0
        if u < 0.75:
            return int(self.ext_pool[rng.integers(len(self.ext_pool))])
        if u < 0.85 and self.seen:              # reuse: duplicate if live, else reuse
            return int(self.seen[rng.integers(len(self.seen))])
        if u < 0.95 and self.live_ids:          # a live id: R_DUPLICATE_ID (or BAD_ID if auto)
            return int(self.live_ids[rng.integers(len(self.live_ids))])
        return int(rng.integers(1, 40))

    def _walk(self) -> None:
        rng = self.rng
        if rng.random() < 0.08:
            b = int(rng.integers(self.n_books))
            m = self.mids[b] + int(rng.choice((-1, 1))) * int(rng.integers(1, 4))
            self.mids[b] = min(max(m, 30), self.max_prices[b] - 30) if self.max_prices[b] > 100 \
                else max(1, min(m, self.max_prices[b]))

    def _target(self):
        """(id, book, account, live_row or None) for CANCEL/MODIFY/REDUCE."""
        rng = self.rng
        u = rng.random()
        if u < 0.8 and self.live_ids:
            oid = int(self.live_ids[rng.integers(len(self.live_ids))])
        elif u < 0.92 and self.seen:
            oid = int(self.seen[rng.integers(len(self.seen))])
        elif u < 0.96:
            oid = int(rng.integers(1, AUTO))          # unknown
        else:
            oid = int(rng.choice((0, -1, AUTO + 10**9, 1 << 62, -(1 << 63))))
        row = self.live.get(oid)
        if row is not None:
            book, acct = row[0], row[4]
        else:
            book, acct = int(rng.integers(self.n_books)), self._account()
        v = rng.random()
        if v < 0.04:
            acct = acct + 1 if acct < (1 << 62) else acct - 1   # R_NOT_OWNER
        elif v < 0.07:
            book = (book + 1) % self.n_books          # live elsewhere: R_UNKNOWN_ID
        return oid, book, acct, row

    def _normal(self) -> tuple:
        rng = self.rng
        u = rng.random()
        ts = self.ts
        if u >= 0.65 and rng.random() * self.target_live > len(self.live_ids) + 20:
            u = rng.random() * 0.65                   # let the book build up
        if u < 0.65:      # new order
            typ = int(rng.choice(NEW_TYPES, p=(0.56, 0.07, 0.14, 0.09, 0.14)))
            b = int(rng.integers(self.n_books))
            side = int(rng.integers(2))
            price = self._price(b, side)
            qty = self._qty()
            if typ == C.MARKET:
                price = int(rng.choice((0, price, 12345)))   # ignored
                if rng.random() < 0.02:
                    qty = int(rng.integers(10**4, 10**7))     # larger than the book
            return (ts, typ, b, side, self._new_id(), price, qty, self._account(), self._stp())
        oid, b, acct, row = self._target()
        side = int(rng.integers(2))                   # ignored
        if u < 0.82:
            return (ts, C.CANCEL, b, side, oid, int(rng.integers(0, 1000)),
                    int(rng.integers(0, 9)), acct, int(rng.integers(0, 4)))
        if u < 0.94:
            if row is not None and rng.random() < 0.35:   # in place
                price, qty = row[2], int(rng.integers(1, row[3] + 1))
            elif row is not None and rng.random() < 0.6:
                price = min(max(row[2] + int(rng.integers(-6, 7)), 1), self.max_prices[b])
                qty = self._qty()
            else:
                price, qty = self._price(b, int(rng.integers(2))), self._qty()
            return (ts, C.MODIFY, b, side, oid, price, qty, acct, self._stp())
        if row is not None:
            qty = int(rng.integers(1, row[3] + 3))
        else:
            qty = self._qty()
        return (ts, C.REDUCE, b, side, oid, int(rng.integers(0, 1000)), qty, acct, 0)

    def _edge(self) -> tuple:
        rng = self.rng
        ts = self.ts
        m = list(self._normal())
        k = int(rng.integers(17))
        maxp = self.max_prices[m[2]] if 0 <= m[2] < self.n_books else 100
        if k == 0:
            m[C.M_QTY] = int(rng.choice((0, -1, -5, C.QTY_OFF_LOT, C.MAX_QTY, C.MAX_QTY + 1,
                                         1 << 62, -(1 << 63))))
        elif k == 1:
            m[C.M_PRICE] = int(rng.choice((0, 1, -1, maxp, maxp + 1, C.PRICE_OFF_GRID,
                                           1 << 62, -(1 << 63))))
        elif k == 2:
            m[C.M_BOOK] = int(rng.choice((-1, self.n_books, 1 << 40, -(1 << 63))))
        elif k == 3:
            m[C.M_SIDE] = int(rng.choice((2, -1, 7)))
        elif k == 4:
            m[C.M_TYPE] = int(rng.choice((0, 9, -1, 100, 1 << 62)))
        elif k == 5:
            m[C.M_STP] = int(rng.choice((4, -1, 99)))
        elif k == 6 and m[C.M_TYPE] in NEW_TYPES:
            m[C.M_ID] = int(rng.choice((-1, AUTO, AUTO + 5, 1 << 62, -(1 << 63))))
        elif k == 7 and rng.random() < 0.15:   # sweep a whole side of a book: it is empty afterwards
            b = int(rng.integers(self.n_books))
            return (ts, C.MARKET, b, int(rng.integers(2)), 0, 0, int(rng.integers(10**6, 10**9)),
                    self._account(), 0)
        elif k == 8:   # grid edges that rest (or trade through the whole side)
            b = int(rng.integers(self.n_books))
            side = int(rng.integers(2))
            price = int(rng.choice((1, self.max_prices[b])))
            return (ts, int(rng.choice((C.LIMIT, C.POST_ONLY, C.IOC, C.FOK))), b, side,
                    self._new_id(), price, self._qty(), self._account(), self._stp())
        elif k == 9 and rng.random() < 0.3:   # FOK / IOC / LIMIT for the whole book and more
            b = int(rng.integers(self.n_books))
            side = int(rng.integers(2))
            price = self.max_prices[b] if side == C.BUY else 1
            return (ts, int(rng.choice((C.FOK, C.IOC, C.LIMIT))), b, side, 0, price,
                    int(rng.integers(1, 3000)), self._account(), self._stp())
        elif k == 10 and self.live_ids:   # modify/reduce of a live order with a bad field
            oid = int(self.live_ids[rng.integers(len(self.live_ids))])
            row = self.live[oid]
            typ = int(rng.choice((C.MODIFY, C.REDUCE)))
            price = int(rng.choice((row[2], 0, self.max_prices[row[0]] + 1, C.PRICE_OFF_GRID,
                                    self.max_prices[row[0]], 1)))
            qty = int(rng.choice((0, -1, C.QTY_OFF_LOT, C.MAX_QTY + 1, C.MAX_QTY, row[3])))
            return (ts, typ, row[0], 0, oid, price, qty, row[4], int(rng.choice((0, 1, 4))))
        elif k == 11:  # any int64 is a valid ts and account
            m[C.M_TS] = int(rng.choice((-1, 0, 1 << 62, -(1 << 63), (1 << 63) - 1)))
            m[C.M_ACCT] = int(rng.choice((-(1 << 63), (1 << 63) - 1, m[C.M_ACCT])))
        elif k == 12:  # huge but valid quantity
            m[C.M_QTY] = C.MAX_QTY
        return tuple(m)

    def chunk(self, n: int) -> np.ndarray:
        rng = self.rng
        rows = []
        for _ in range(n):
            self._walk()
            rows.append(self._edge() if rng.random() < self.edge_rate else self._normal())
            if rng.random() < 0.9:     # equal ts now and then
                self.ts += int(rng.integers(1, 1000))
        return np.array(rows, dtype=C.MSG_DTYPE)


def make_stream(seed: int, n: int, chunk: int = 50, **kw) -> np.ndarray:
    """A fixed random stream of ``n`` messages, generated chunk by chunk
    against a scratch ``ReferenceEngine`` (so that cancels hit live orders)."""
    from lob.core.reference import ReferenceEngine
    gen = StreamGen(seed, **kw)
    eng = ReferenceEngine(gen.n_books, max_price_ticks=gen.max_prices)
    parts = []
    done = 0
    while done < n:
        m = gen.chunk(min(chunk, n - done))
        _, ev = eng.process(m)
        gen.observe(eng, ev)
        parts.append(m)
        done += len(m)
    return np.concatenate(parts)


# ----------------------------------------------------------------------
# comparison helpers
# ----------------------------------------------------------------------
def assert_rows_equal(a: np.ndarray, b: np.ndarray, what: str = "rows") -> None:
    """Exact equality of two structured arrays, with a readable diff."""
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
    if len(a) == len(b) and np.array_equal(a, b):
        return
    n = min(len(a), len(b))
    diff = np.nonzero(a[:n] != b[:n])[0]
    first = int(diff[0]) if len(diff) else n
    lo = max(0, first - 3)
    raise AssertionError(
        f"{what}: lengths {len(a)} vs {len(b)}, first difference at row {first}\n"
        f"  left  [{lo}:{first + 3}]: {a[lo:first + 3].tolist()}\n"
        f"  right [{lo}:{first + 3}]: {b[lo:first + 3].tolist()}")


def assert_outputs_equal(x, y, what: str = "") -> None:
    """``(fills, events)`` pairs are identical."""
    assert_rows_equal(x[0], y[0], f"{what} fills")
    assert_rows_equal(x[1], y[1], f"{what} events")


def assert_same_state(a, b, n_books: int | None = None, levels: int = 10,
                      depth_bps=DEPTH_BPS, books=None) -> None:
    """Every public query of two engines agrees."""
    n_books = a.n_books if n_books is None else n_books
    assert a.n_live() == b.n_live(), f"n_live {a.n_live()} != {b.n_live()}"
    for bk in (range(n_books) if books is None else books):
        assert a.best_bid(bk) == b.best_bid(bk), f"book {bk} best_bid"
        assert a.best_ask(bk) == b.best_ask(bk), f"book {bk} best_ask"
        assert a.last_trade(bk) == b.last_trade(bk), f"book {bk} last_trade"
        assert a.volume(bk) == b.volume(bk), f"book {bk} volume"
        for name, x, y in zip(("bid_px", "bid_qty", "ask_px", "ask_qty"),
                              a.l2(bk, levels), b.l2(bk, levels)):
            assert x.tolist() == y.tolist(), f"book {bk} l2 {name}: {x.tolist()} != {y.tolist()}"
        la, lb = a.live_orders(bk), b.live_orders(bk)
        assert la.dtype.names == lb.dtype.names
        assert la.tolist() == lb.tolist(), f"book {bk} live_orders differ"
        for bps in depth_bps:
            assert a.depth_within(bk, bps) == b.depth_within(bk, bps), \
                f"book {bk} depth_within({bps}): {a.depth_within(bk, bps)} != {b.depth_within(bk, bps)}"


def submit_row(eng, m) -> int:
    """Send one ``MSG_DTYPE`` row through ``submit``."""
    return eng.submit(int(m["type"]), int(m["book"]), int(m["side"]), price=int(m["price"]),
                      qty=int(m["qty"]), order_id=int(m["order_id"]), account=int(m["account"]),
                      stp=int(m["stp"]), ts=int(m["ts"]))
