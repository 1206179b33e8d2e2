"""Hand-computed cases pinning the matching semantics of ``lob.core.codes``.

Every test runs on both engines: the reference twin
``lob.core.reference.ReferenceEngine`` and the compiled
``lob.core.engine.Engine`` (the autouse ``engine_cls`` fixture sets
``ENGINE``), except the ``check()`` corruption tests at the end, which reach
into the twin's internals (``@reference_only``; the compiled engine's are in
``test_engine.py``).  Every engine used here is wrapped in :class:`Checked`,
which runs the engine's ``check()`` invariant checker after every single
message.  The tests only use the public API shared by both engines.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

from lob.core import codes as C
from lob.core.engine import Engine
from lob.core.reference import ORDER_DTYPE, ReferenceEngine, _Level

ENGINE = ReferenceEngine
ENGINES = {"ref": ReferenceEngine, "engine": Engine}
MAXP = 1000          # max_price_ticks of the default fixture engine
AUTO = C.AUTO_ID_BASE
BUY, SELL = C.BUY, C.SELL
ACC, REJ, MOD, CXL, FIL = (C.EV_ACCEPTED, C.EV_REJECTED, C.EV_MODIFIED,
                           C.EV_CANCELLED, C.EV_FILLED)


def reference_only(test):
    """Run ``test`` on the reference twin only."""
    test.reference_only = True
    return test


def pytest_generate_tests(metafunc):
    if not getattr(metafunc.function, "reference_only", False):
        metafunc.parametrize("engine_cls", list(ENGINES.values()), ids=list(ENGINES),
                             indirect=True)


@pytest.fixture(autouse=True)
def engine_cls(request, monkeypatch):
    """The engine class under test; ``ENGINE`` points at it meanwhile."""
    cls = getattr(request, "param", ReferenceEngine)
    monkeypatch.setattr(sys.modules[__name__], "ENGINE", cls)
    return cls


class Checked:
    """Delegates to an engine and runs ``check()`` after every message."""

    def __init__(self, engine):
        self.engine = engine

    def submit(self, *args, **kwargs):
        result = self.engine.submit(*args, **kwargs)
        self.engine.check()
        return result

    def process(self, msgs):
        fills, events = [], []
        for i in range(len(msgs)):
            f, e = self.engine.process(msgs[i:i + 1])
            self.engine.check()
            fills.append(f)
            events.append(e)
        if not fills:
            return self.engine.process(msgs)
        return np.concatenate(fills), np.concatenate(events)

    def __getattr__(self, name):
        return getattr(self.engine, name)


def make(n_books=1, **kw):
    return Checked(ENGINE(n_books, **kw))


@pytest.fixture
def e():
    return make(2, max_price_ticks=MAXP)


# --- message helpers ----------------------------------------------------
def new(e, typ, side, price, qty, oid=0, acct=0, stp=0, book=0, ts=0):
    return e.submit(typ, book, side, price, qty, order_id=oid, account=acct,
                    stp=stp, ts=ts)


def buy(e, price, qty, oid=0, acct=0, typ=C.LIMIT, **kw):
    return new(e, typ, BUY, price, qty, oid, acct, **kw)


def sell(e, price, qty, oid=0, acct=0, typ=C.LIMIT, **kw):
    return new(e, typ, SELL, price, qty, oid, acct, **kw)


def cancel(e, oid, acct=0, book=0, ts=0):
    return e.submit(C.CANCEL, book, 0, 0, 0, order_id=oid, account=acct, ts=ts)


def reduce(e, oid, qty, acct=0, book=0):
    return e.submit(C.REDUCE, book, 0, 0, qty, order_id=oid, account=acct)


def modify(e, oid, price, qty, acct=0, stp=0, book=0):
    return e.submit(C.MODIFY, book, 0, price, qty, order_id=oid, account=acct,
                    stp=stp)


# --- output helpers -----------------------------------------------------
def evs(events):
    """Events as (kind, order_id, account, side, price, qty, reason)."""
    return [tuple(int(r[f]) for f in ("kind", "order_id", "account", "side",
                                      "price", "qty", "reason"))
            for r in events]


def fls(fills):
    """Fills as (maker, taker, maker_acct, taker_acct, price, qty, taker_side)."""
    return [tuple(int(r[f]) for f in ("maker_id", "taker_id", "maker_account",
                                      "taker_account", "price", "qty",
                                      "taker_side"))
            for r in fills]


def drain(e):
    f, ev = e.drain()
    return fls(f), evs(ev)


def live(e, book=0):
    """Live orders as (id, side, price, qty, account), in book order."""
    return [tuple(int(x) for x in r) for r in e.live_orders(book)]


def reasons(e):
    return [r[6] for r in drain(e)[1] if r[0] == REJ]


# ======================================================================
# queries on an empty engine, constructor
# ======================================================================
def test_engine_under_test(e, engine_cls):
    assert type(e.engine) is engine_cls and type(make().engine) is engine_cls


def test_empty_engine(e):
    assert e.n_books == 2
    for b in (0, 1):
        assert e.best_bid(b) == (0, 0)
        assert e.best_ask(b) == (0, 0)
        assert e.last_trade(b) == (0, 0)
        assert e.volume(b) == 0
        assert e.depth_within(b, 10_000) == (0, 0)
        bp, bq, ap, aq = e.l2(b, 3)
        for a in (bp, bq, ap, aq):
            assert a.dtype == np.int64 and a.tolist() == [0, 0, 0]
        lo = e.live_orders(b)
        assert lo.dtype == ORDER_DTYPE and len(lo) == 0
    assert e.n_live() == 0
    f, ev = e.drain()
    assert f.dtype == C.FILL_DTYPE and ev.dtype == C.EVENT_DTYPE
    assert len(f) == len(ev) == 0
    e.check()


def test_max_price_ticks_variants():
    eng = make(2)
    assert buy(eng, C.DEFAULT_MAX_PRICE_TICKS, 1) == AUTO
    assert buy(eng, C.DEFAULT_MAX_PRICE_TICKS + 1, 1) == 0
    eng = make(2, max_price_ticks=[10, 20])
    assert buy(eng, 11, 1, book=0) == 0
    assert buy(eng, 11, 1, book=1) == AUTO
    assert buy(eng, 20, 1, book=1) == AUTO + 1
    assert buy(eng, 21, 1, book=1) == 0
    assert reasons(eng) == [C.R_BAD_PRICE, C.R_BAD_PRICE]
    with pytest.raises(ValueError):
        ENGINE(2, max_price_ticks=[10])


# ======================================================================
# resting, priority, partial fills, maker price
# ======================================================================
def test_limit_rests_full_rows(e):
    assert buy(e, 99, 5, oid=7, acct=3, ts=123, book=1) == 7
    f, ev = e.drain()
    assert len(f) == 0
    assert ev.tolist() == [(123, ACC, 1, 7, 3, BUY, 99, 5, 0)]
    assert e.best_bid(1) == (99, 5)
    assert e.best_bid(0) == (0, 0)
    assert live(e, 1) == [(7, BUY, 99, 5, 3)]
    assert e.n_live() == 1


def test_price_priority_across_levels(e):
    sell(e, 102, 1, oid=1)
    sell(e, 101, 1, oid=2)
    sell(e, 103, 1, oid=3)
    buy(e, 99, 1, oid=4)
    buy(e, 100, 1, oid=5)
    buy(e, 98, 1, oid=6)
    assert e.best_ask(0) == (101, 1) and e.best_bid(0) == (100, 1)
    assert [r[0] for r in live(e)] == [5, 4, 6, 2, 1, 3]
    drain(e)
    buy(e, 103, 3, oid=10, acct=9)
    f, _ = drain(e)
    assert f == [(2, 10, 0, 9, 101, 1, BUY), (1, 10, 0, 9, 102, 1, BUY),
                 (3, 10, 0, 9, 103, 1, BUY)]
    sell(e, 1, 3, oid=11, acct=9)
    f, _ = drain(e)
    assert f == [(5, 11, 0, 9, 100, 1, SELL), (4, 11, 0, 9, 99, 1, SELL),
                 (6, 11, 0, 9, 98, 1, SELL)]
    assert e.n_live() == 0


def test_time_priority_within_level(e):
    sell(e, 100, 2, oid=1, acct=1)
    sell(e, 100, 2, oid=2, acct=2)
    sell(e, 100, 2, oid=3, acct=3)
    assert e.best_ask(0) == (100, 6)
    drain(e)
    buy(e, 100, 3, oid=9, acct=9)
    f, ev = drain(e)
    assert f == [(1, 9, 1, 9, 100, 2, BUY), (2, 9, 2, 9, 100, 1, BUY)]
    assert ev == [(ACC, 9, 9, BUY, 100, 3, 0), (FIL, 1, 1, SELL, 100, 0, 0),
                  (FIL, 9, 9, BUY, 100, 0, 0)]
    assert live(e) == [(2, SELL, 100, 1, 2), (3, SELL, 100, 2, 3)]
    assert e.best_ask(0) == (100, 3)


def test_partial_fill_taker_rests(e):
    sell(e, 100, 3, oid=1, acct=1)
    drain(e)
    buy(e, 101, 5, oid=2, acct=2)
    f, ev = drain(e)
    assert f == [(1, 2, 1, 2, 100, 3, BUY)]
    assert ev == [(ACC, 2, 2, BUY, 101, 5, 0), (FIL, 1, 1, SELL, 100, 0, 0)]
    assert e.best_bid(0) == (101, 2) and e.best_ask(0) == (0, 0)
    assert live(e) == [(2, BUY, 101, 2, 2)]


def test_partial_fill_maker_stays(e):
    buy(e, 100, 10, oid=1, acct=1)
    drain(e)
    sell(e, 100, 4, oid=2, acct=2)
    f, ev = drain(e)
    assert f == [(1, 2, 1, 2, 100, 4, SELL)]
    assert ev == [(ACC, 2, 2, SELL, 100, 4, 0), (FIL, 2, 2, SELL, 100, 0, 0)]
    assert live(e) == [(1, BUY, 100, 6, 1)]


def test_maker_price_used(e):
    sell(e, 100, 1, oid=1)
    buy(e, 105, 1, oid=2)
    buy(e, 90, 1, oid=3)
    sell(e, 80, 1, oid=4)
    f, _ = drain(e)
    assert [(r[0], r[1], r[4]) for r in f] == [(1, 2, 100), (3, 4, 90)]
    assert e.last_trade(0) == (90, 0)


def test_sweep_exact_row_order(e):
    """Spec: ACCEPTED; per maker its fill then its FILLED if done; then the
    taker's terminal event."""
    sell(e, 100, 2, oid=1, acct=1)
    sell(e, 100, 3, oid=2, acct=2)
    sell(e, 101, 4, oid=3, acct=3)
    sell(e, 102, 5, oid=4, acct=4)
    drain(e)
    assert buy(e, 102, 7, oid=9, acct=9, typ=C.IOC, ts=55) == 9
    f, ev = e.drain()
    assert (f["ts"] == 55).all() and (ev["ts"] == 55).all()
    assert fls(f) == [(1, 9, 1, 9, 100, 2, BUY), (2, 9, 2, 9, 100, 3, BUY),
                      (3, 9, 3, 9, 101, 2, BUY)]
    assert evs(ev) == [(ACC, 9, 9, BUY, 102, 7, 0),
                       (FIL, 1, 1, SELL, 100, 0, 0),
                       (FIL, 2, 2, SELL, 100, 0, 0),
                       (FIL, 9, 9, BUY, 102, 0, 0)]
    assert live(e) == [(3, SELL, 101, 2, 3), (4, SELL, 102, 5, 4)]
    assert e.volume(0) == 7
    assert e.last_trade(0) == (101, 55)


def test_sweep_market_sell_row_order(e):
    buy(e, 100, 2, oid=1, acct=1)
    buy(e, 99, 2, oid=2, acct=2)
    buy(e, 98, 2, oid=3, acct=3)
    drain(e)
    sell(e, 0, 5, oid=9, acct=9, typ=C.MARKET)
    f, ev = drain(e)
    assert f == [(1, 9, 1, 9, 100, 2, SELL), (2, 9, 2, 9, 99, 2, SELL),
                 (3, 9, 3, 9, 98, 1, SELL)]
    assert ev == [(ACC, 9, 9, SELL, 0, 5, 0), (FIL, 1, 1, BUY, 100, 0, 0),
                  (FIL, 2, 2, BUY, 99, 0, 0), (FIL, 9, 9, SELL, 0, 0, 0)]
    assert live(e) == [(3, BUY, 98, 1, 3)]


# ======================================================================
# MARKET / IOC / FOK / POST_ONLY
# ======================================================================
def test_market_larger_than_book(e):
    sell(e, 100, 2, oid=1, acct=1)
    sell(e, 150, 3, oid=2, acct=2)
    drain(e)
    assert buy(e, 7, 10, oid=9, acct=9, typ=C.MARKET, ts=5) == 9
    f, ev = drain(e)
    assert f == [(1, 9, 1, 9, 100, 2, BUY), (2, 9, 2, 9, 150, 3, BUY)]
    assert ev == [(ACC, 9, 9, BUY, 0, 10, 0), (FIL, 1, 1, SELL, 100, 0, 0),
                  (FIL, 2, 2, SELL, 150, 0, 0),
                  (CXL, 9, 9, BUY, 0, 5, C.CX_IOC_REMAINDER)]
    assert e.best_ask(0) == (0, 0) and e.best_bid(0) == (0, 0)
    assert e.n_live() == 0
    assert e.volume(0) == 5 and e.last_trade(0) == (150, 5)


def test_market_on_empty_book(e):
    assert sell(e, 0, 4, acct=2, typ=C.MARKET) == AUTO
    assert drain(e) == ([], [(ACC, AUTO, 2, SELL, 0, 4, 0),
                             (CXL, AUTO, 2, SELL, 0, 4, C.CX_IOC_REMAINDER)])
    assert e.n_live() == 0 and e.volume(0) == 0


def test_market_ignores_price(e):
    """Price is not validated for MARKET (sentinel, 0, above max)."""
    for p in (C.PRICE_OFF_GRID, 0, -3, MAXP + 1):
        assert buy(e, p, 1, typ=C.MARKET) != 0
    assert reasons(e) == []


def test_ioc(e):
    sell(e, 100, 2, oid=1)
    sell(e, 101, 2, oid=2)
    sell(e, 103, 2, oid=3)
    drain(e)
    assert buy(e, 101, 5, oid=9, typ=C.IOC) == 9
    f, ev = drain(e)
    assert [r[0] for r in f] == [1, 2]
    assert ev[-1] == (CXL, 9, 0, BUY, 101, 1, C.CX_IOC_REMAINDER)
    assert e.best_bid(0) == (0, 0) and e.best_ask(0) == (103, 2)
    # IOC that crosses nothing: cancelled whole
    assert sell(e, 104, 3, oid=10, typ=C.IOC) == 10
    assert drain(e) == ([], [(ACC, 10, 0, SELL, 104, 3, 0),
                             (CXL, 10, 0, SELL, 104, 3, C.CX_IOC_REMAINDER)])
    # IOC filled exactly: FILLED, no cancel
    assert buy(e, 103, 2, oid=11, typ=C.IOC) == 11
    assert drain(e)[1][-1] == (FIL, 11, 0, BUY, 103, 0, 0)
    assert e.n_live() == 0


def test_fok_fillable(e):
    sell(e, 100, 2, oid=1, acct=1)
    sell(e, 101, 3, oid=2, acct=2)
    sell(e, 102, 9, oid=3, acct=3)
    drain(e)
    assert buy(e, 101, 5, oid=9, acct=9, typ=C.FOK) == 9
    f, ev = drain(e)
    assert f == [(1, 9, 1, 9, 100, 2, BUY), (2, 9, 2, 9, 101, 3, BUY)]
    assert ev == [(ACC, 9, 9, BUY, 101, 5, 0), (FIL, 1, 1, SELL, 100, 0, 0),
                  (FIL, 2, 2, SELL, 101, 0, 0), (FIL, 9, 9, BUY, 101, 0, 0)]
    assert live(e) == [(3, SELL, 102, 9, 3)]


def test_fok_unfillable_nothing_trades(e):
    sell(e, 100, 2, oid=1, acct=1)
    sell(e, 101, 3, oid=2, acct=2)
    sell(e, 102, 9, oid=3, acct=3)
    drain(e)
    before = live(e)
    # enough lots exist, but not within the limit
    assert buy(e, 101, 6, oid=9, acct=9, typ=C.FOK) == 9
    assert drain(e) == ([], [(ACC, 9, 9, BUY, 101, 6, 0),
                             (CXL, 9, 9, BUY, 101, 6, C.CX_FOK_UNFILLABLE)])
    # more than the whole book
    assert buy(e, 200, 15, typ=C.FOK) == AUTO   # accepted: consumes an id
    assert drain(e)[1][-1] == (CXL, AUTO, 0, BUY, 200, 15, C.CX_FOK_UNFILLABLE)
    # empty side
    assert sell(e, 1, 1, oid=10, typ=C.FOK) == 10
    assert drain(e)[1][-1] == (CXL, 10, 0, SELL, 1, 1, C.CX_FOK_UNFILLABLE)
    assert live(e) == before
    assert e.volume(0) == 0 and e.last_trade(0) == (0, 0)
    assert e.n_live() == 3


def test_post_only(e):
    sell(e, 100, 5, oid=1)
    buy(e, 98, 5, oid=2)
    drain(e)
    # would take: at the best ask, through it, and sell side at the best bid
    assert buy(e, 100, 1, oid=3, typ=C.POST_ONLY) == 0
    assert buy(e, 105, 1, typ=C.POST_ONLY) == 0
    assert sell(e, 98, 1, typ=C.POST_ONLY) == 0
    f, ev = drain(e)
    assert f == []
    assert ev == [(REJ, 3, 0, BUY, 100, 1, C.R_POST_ONLY_WOULD_TAKE),
                  (REJ, 0, 0, BUY, 105, 1, C.R_POST_ONLY_WOULD_TAKE),
                  (REJ, 0, 0, SELL, 98, 1, C.R_POST_ONLY_WOULD_TAKE)]
    # rests when it does not cross (no id consumed by the rejections)
    assert buy(e, 99, 4, typ=C.POST_ONLY) == AUTO
    assert sell(e, 100, 1, oid=4, typ=C.POST_ONLY) == 4   # joins ask 100
    assert drain(e) == ([], [(ACC, AUTO, 0, BUY, 99, 4, 0),
                             (ACC, 4, 0, SELL, 100, 1, 0)])
    assert e.best_bid(0) == (99, 4) and e.best_ask(0) == (100, 6)
    # POST_ONLY on an empty book rests
    assert sell(e, 5, 1, oid=5, typ=C.POST_ONLY, book=1) == 5
    assert e.best_ask(1) == (5, 1)


# ======================================================================
# validation
# ======================================================================
BAD_NEW = [
    # (type, book, side, price, qty, order_id, stp) -> reason
    ((0, 0, BUY, 10, 1, 0, 0), C.R_BAD_TYPE),
    ((9, 0, BUY, 10, 1, 0, 0), C.R_BAD_TYPE),
    ((-1, 0, BUY, 10, 1, 0, 0), C.R_BAD_TYPE),
    ((C.LIMIT, -1, BUY, 10, 1, 0, 0), C.R_BAD_BOOK),
    ((C.LIMIT, 2, BUY, 10, 1, 0, 0), C.R_BAD_BOOK),
    ((C.MARKET, 2, BUY, 10, 1, 0, 0), C.R_BAD_BOOK),
    ((C.LIMIT, 0, 2, 10, 1, 0, 0), C.R_BAD_SIDE),
    ((C.LIMIT, 0, -1, 10, 1, 0, 0), C.R_BAD_SIDE),
    ((C.LIMIT, 0, BUY, 10, 1, 0, 4), C.R_BAD_STP),
    ((C.IOC, 0, BUY, 10, 1, 0, -1), C.R_BAD_STP),
    ((C.LIMIT, 0, BUY, 10, 1, -1, 0), C.R_BAD_ID),
    ((C.LIMIT, 0, BUY, 10, 1, AUTO, 0), C.R_BAD_ID),
    ((C.FOK, 0, BUY, 10, 1, AUTO + 5, 0), C.R_BAD_ID),
    ((C.LIMIT, 0, BUY, C.PRICE_OFF_GRID, 1, 0, 0), C.R_OFF_GRID),
    ((C.LIMIT, 0, BUY, 0, 1, 0, 0), C.R_BAD_PRICE),
    ((C.LIMIT, 0, SELL, -5, 1, 0, 0), C.R_BAD_PRICE),
    ((C.POST_ONLY, 0, SELL, MAXP + 1, 1, 0, 0), C.R_BAD_PRICE),
    ((C.LIMIT, 0, BUY, 10, 0, 0, 0), C.R_BAD_QTY),
    ((C.LIMIT, 0, BUY, 10, -1, 0, 0), C.R_BAD_QTY),
    ((C.LIMIT, 0, BUY, 10, C.QTY_OFF_LOT, 0, 0), C.R_BAD_QTY),
    ((C.LIMIT, 0, BUY, 10, C.MAX_QTY + 1, 0, 0), C.R_BAD_QTY),
    ((C.MARKET, 0, BUY, 10, 0, 0, 0), C.R_BAD_QTY),
    # validation order: the first failing check names the reason
    ((C.LIMIT, 5, 7, 0, 0, -1, 9), C.R_BAD_BOOK),
    ((C.LIMIT, 0, 7, 0, 0, -1, 9), C.R_BAD_SIDE),
    ((C.LIMIT, 0, BUY, 0, 0, -1, 9), C.R_BAD_STP),
    ((C.LIMIT, 0, BUY, 0, 0, -1, 0), C.R_BAD_ID),
    ((C.LIMIT, 0, BUY, C.PRICE_OFF_GRID, 0, 0, 0), C.R_OFF_GRID),
    ((C.LIMIT, 0, BUY, 0, 0, 0, 0), C.R_BAD_PRICE),
    ((C.POST_ONLY, 0, BUY, 200, 0, 0, 0), C.R_BAD_QTY),  # qty before cross
]


@pytest.mark.parametrize("msg,reason", BAD_NEW)
def test_new_order_rejects(e, msg, reason):
    sell(e, 100, 1, oid=1)       # something to cross, unchanged by a reject
    drain(e)
    typ, book, side, price, qty, oid, stp = msg
    assert e.submit(typ, book, side, price, qty, order_id=oid, account=42,
                    stp=stp, ts=77) == 0
    f, ev = e.drain()
    assert len(f) == 0
    # the reject row echoes the message
    assert ev.tolist() == [(77, REJ, book, oid, 42, side, price, qty, reason)]
    assert live(e) == [(1, SELL, 100, 1, 0)]
    assert buy(e, 10, 1) == AUTO     # the reject consumed no id


def test_duplicate_live_id(e):
    assert buy(e, 10, 1, oid=5) == 5
    assert sell(e, 20, 1, oid=5) == 0
    assert sell(e, 20, 1, oid=5, book=1) == 0    # ids are engine-wide
    assert buy(e, 10, 1, oid=5, typ=C.IOC) == 0
    assert reasons(e) == [C.R_DUPLICATE_ID] * 3
    assert e.n_live() == 1


def test_price_and_qty_bounds_accepted(e):
    assert buy(e, 1, 1, oid=1) == 1
    assert sell(e, MAXP, C.MAX_QTY, oid=2) == 2
    assert e.best_bid(0) == (1, 1)
    assert e.best_ask(0) == (MAXP, C.MAX_QTY)
    assert buy(e, 1, 1, oid=AUTO - 1) == AUTO - 1
    assert reasons(e) == []


def test_cancel_rejects(e):
    buy(e, 10, 5, oid=1, acct=1)
    sell(e, 20, 2, oid=2, acct=2)
    buy(e, 20, 2, oid=3, acct=3)          # fills 2 completely
    buy(e, 11, 1, oid=4, acct=4)
    assert cancel(e, 4, acct=4) == 4      # cancelled
    drain(e)
    assert cancel(e, 99, acct=1) == 0     # never existed
    assert cancel(e, 2, acct=2) == 0      # filled
    assert cancel(e, 3, acct=3) == 0      # taker filled
    assert cancel(e, 4, acct=4) == 0      # already cancelled
    assert cancel(e, 1, acct=1, book=1) == 0   # live, but in another book
    assert cancel(e, -1, acct=1) == 0
    assert cancel(e, 1, acct=2) == 0      # not owner
    assert cancel(e, 1, acct=2, book=2) == 0   # book checked first
    assert reasons(e) == [C.R_UNKNOWN_ID] * 6 + [C.R_NOT_OWNER, C.R_BAD_BOOK]
    assert live(e) == [(1, BUY, 10, 5, 1)]


def test_bad_type_beats_everything(e):
    assert e.submit(0, 9, 9, 0, 0, order_id=-1, stp=9) == 0
    assert reasons(e) == [C.R_BAD_TYPE]


# ======================================================================
# self-trade prevention
# ======================================================================
def _stp_book(e):
    """Asks at 100: B(acct 2, 3 lots), A(acct 1, 5 lots); at 101: C(acct 2, 5)."""
    sell(e, 100, 3, oid=11, acct=2)
    sell(e, 100, 5, oid=12, acct=1)
    sell(e, 101, 5, oid=13, acct=2)
    drain(e)


def test_stp_none_trades_with_self(e):
    _stp_book(e)
    buy(e, 100, 8, oid=9, acct=1, stp=C.STP_NONE)
    f, ev = drain(e)
    assert f == [(11, 9, 2, 1, 100, 3, BUY), (12, 9, 1, 1, 100, 5, BUY)]
    assert ev[-1] == (FIL, 9, 1, BUY, 100, 0, 0)


def test_stp_cancel_resting(e):
    _stp_book(e)
    buy(e, 101, 8, oid=9, acct=1, stp=C.STP_CANCEL_RESTING)
    f, ev = drain(e)
    assert f == [(11, 9, 2, 1, 100, 3, BUY), (13, 9, 2, 1, 101, 5, BUY)]
    assert ev == [(ACC, 9, 1, BUY, 101, 8, 0),
                  (FIL, 11, 2, SELL, 100, 0, 0),
                  (CXL, 12, 1, SELL, 100, 5, C.CX_STP),
                  (FIL, 13, 2, SELL, 101, 0, 0),
                  (FIL, 9, 1, BUY, 101, 0, 0)]
    assert e.n_live() == 0


def test_stp_cancel_incoming(e):
    _stp_book(e)
    buy(e, 101, 8, oid=9, acct=1, stp=C.STP_CANCEL_INCOMING)
    f, ev = drain(e)
    assert f == [(11, 9, 2, 1, 100, 3, BUY)]
    assert ev == [(ACC, 9, 1, BUY, 101, 8, 0),
                  (FIL, 11, 2, SELL, 100, 0, 0),
                  (CXL, 9, 1, BUY, 101, 5, C.CX_STP)]
    # the LIMIT remainder does not rest
    assert live(e) == [(12, SELL, 100, 5, 1), (13, SELL, 101, 5, 2)]


def test_stp_cancel_both(e):
    _stp_book(e)
    buy(e, 101, 8, oid=9, acct=1, stp=C.STP_CANCEL_BOTH)
    f, ev = drain(e)
    assert f == [(11, 9, 2, 1, 100, 3, BUY)]
    assert ev == [(ACC, 9, 1, BUY, 101, 8, 0),
                  (FIL, 11, 2, SELL, 100, 0, 0),
                  (CXL, 12, 1, SELL, 100, 5, C.CX_STP),
                  (CXL, 9, 1, BUY, 101, 5, C.CX_STP)]
    assert live(e) == [(13, SELL, 101, 5, 2)]


def test_stp_other_account_unaffected(e):
    _stp_book(e)
    buy(e, 100, 8, oid=9, acct=7, stp=C.STP_CANCEL_BOTH)
    f, ev = drain(e)
    assert [r[0] for r in f] == [11, 12]
    assert ev[-1] == (FIL, 9, 7, BUY, 100, 0, 0)


def test_stp_market_first_maker_is_self(e):
    _stp_book(e)
    buy(e, 0, 3, oid=9, acct=2, typ=C.MARKET, stp=C.STP_CANCEL_INCOMING)
    assert drain(e) == ([], [(ACC, 9, 2, BUY, 0, 3, 0),
                             (CXL, 9, 2, BUY, 0, 3, C.CX_STP)])


def test_fok_stp_cancel_resting(e):
    _stp_book(e)
    # fillable: self order 12 is skipped in the count (3 + 5 = 8 from 11, 13)
    before = live(e)
    buy(e, 101, 9, oid=8, acct=1, typ=C.FOK, stp=C.STP_CANCEL_RESTING)
    assert drain(e) == ([], [(ACC, 8, 1, BUY, 101, 9, 0),
                             (CXL, 8, 1, BUY, 101, 9, C.CX_FOK_UNFILLABLE)])
    assert live(e) == before          # self order NOT cancelled on failure
    buy(e, 101, 8, oid=9, acct=1, typ=C.FOK, stp=C.STP_CANCEL_RESTING)
    f, ev = drain(e)
    assert f == [(11, 9, 2, 1, 100, 3, BUY), (13, 9, 2, 1, 101, 5, BUY)]
    assert ev == [(ACC, 9, 1, BUY, 101, 8, 0),
                  (FIL, 11, 2, SELL, 100, 0, 0),
                  (CXL, 12, 1, SELL, 100, 5, C.CX_STP),
                  (FIL, 13, 2, SELL, 101, 0, 0),
                  (FIL, 9, 1, BUY, 101, 0, 0)]


@pytest.mark.parametrize("stp", [C.STP_CANCEL_INCOMING, C.STP_CANCEL_BOTH])
def test_fok_stp_counting_stops_at_self(e, stp):
    _stp_book(e)
    before = live(e)
    # 3 lots before the self order: 4 is unfillable even though 13 has 5
    buy(e, 101, 4, oid=8, acct=1, typ=C.FOK, stp=stp)
    assert drain(e) == ([], [(ACC, 8, 1, BUY, 101, 4, 0),
                             (CXL, 8, 1, BUY, 101, 4, C.CX_FOK_UNFILLABLE)])
    assert live(e) == before
    # 3 lots fill completely before the self order is met: it is untouched
    buy(e, 101, 3, oid=9, acct=1, typ=C.FOK, stp=stp)
    f, ev = drain(e)
    assert f == [(11, 9, 2, 1, 100, 3, BUY)]
    assert ev == [(ACC, 9, 1, BUY, 101, 3, 0), (FIL, 11, 2, SELL, 100, 0, 0),
                  (FIL, 9, 1, BUY, 101, 0, 0)]
    assert live(e) == [(12, SELL, 100, 5, 1), (13, SELL, 101, 5, 2)]


def test_fok_stp_none_counts_self(e):
    _stp_book(e)
    buy(e, 101, 13, oid=9, acct=1, typ=C.FOK)
    f, ev = drain(e)
    assert [r[0] for r in f] == [11, 12, 13]
    assert e.n_live() == 0


# ======================================================================
# CANCEL / REDUCE
# ======================================================================
def test_cancel(e):
    sell(e, 100, 5, oid=1, acct=1)
    buy(e, 100, 2, oid=2, acct=2)
    drain(e)
    assert cancel(e, 1, acct=1, ts=9) == 1
    f, ev = e.drain()
    assert len(f) == 0
    # side is ignored on CANCEL; the row carries the order's own fields
    assert ev.tolist() == [(9, CXL, 0, 1, 1, SELL, 100, 3, C.CX_USER)]
    assert e.n_live() == 0 and e.best_ask(0) == (0, 0)


def test_cancel_ignores_side_and_price_fields(e):
    buy(e, 50, 1, oid=1)
    drain(e)
    assert e.submit(C.CANCEL, 0, 99, C.PRICE_OFF_GRID, -7, order_id=1) == 1
    assert drain(e)[1] == [(CXL, 1, 0, BUY, 50, 1, C.CX_USER)]


def test_reduce_partial_keeps_priority(e):
    sell(e, 100, 5, oid=1, acct=1)
    sell(e, 100, 5, oid=2, acct=2)
    drain(e)
    assert reduce(e, 1, 3, acct=1) == 1
    assert drain(e) == ([], [(MOD, 1, 1, SELL, 100, 2, 0)])
    assert e.best_ask(0) == (100, 7)
    assert live(e) == [(1, SELL, 100, 2, 1), (2, SELL, 100, 5, 2)]
    buy(e, 100, 3, oid=3)
    f, _ = drain(e)
    assert f == [(1, 3, 1, 0, 100, 2, BUY), (2, 3, 2, 0, 100, 1, BUY)]


@pytest.mark.parametrize("amount", [5, 6, C.MAX_QTY])
def test_reduce_to_zero_cancels(e, amount):
    buy(e, 100, 5, oid=1, acct=1)
    drain(e)
    assert reduce(e, 1, amount, acct=1) == 1
    assert drain(e) == ([], [(CXL, 1, 1, BUY, 100, 5, C.CX_USER)])
    assert e.n_live() == 0 and e.best_bid(0) == (0, 0)
    assert reduce(e, 1, 1, acct=1) == 0
    assert reasons(e) == [C.R_UNKNOWN_ID]


def test_reduce_rejects(e):
    buy(e, 100, 5, oid=1, acct=1)
    drain(e)
    for qty in (0, -1, C.QTY_OFF_LOT, C.MAX_QTY + 1):
        assert reduce(e, 1, qty, acct=1) == 0
    assert reduce(e, 1, 0, acct=2) == 0        # owner before qty
    assert reduce(e, 2, 0, acct=1) == 0        # id before qty
    assert reasons(e) == [C.R_BAD_QTY] * 4 + [C.R_NOT_OWNER, C.R_UNKNOWN_ID]
    assert live(e) == [(1, BUY, 100, 5, 1)]


# ======================================================================
# MODIFY
# ======================================================================
def _two_asks(e):
    sell(e, 100, 5, oid=1, acct=1)
    sell(e, 100, 5, oid=2, acct=2)
    drain(e)


@pytest.mark.parametrize("new_qty", [3, 5])
def test_modify_in_place_keeps_priority(e, new_qty):
    _two_asks(e)
    assert modify(e, 1, 100, new_qty, acct=1) == 1
    assert drain(e) == ([], [(MOD, 1, 1, SELL, 100, new_qty, 0)])
    assert e.best_ask(0) == (100, new_qty + 5)
    assert [r[0] for r in live(e)] == [1, 2]
    buy(e, 100, 1, oid=3)
    assert drain(e)[0][0][0] == 1


def test_modify_qty_up_loses_priority(e):
    _two_asks(e)
    assert modify(e, 1, 100, 6, acct=1) == 1
    assert drain(e) == ([], [(MOD, 1, 1, SELL, 100, 6, 0)])
    assert live(e) == [(2, SELL, 100, 5, 2), (1, SELL, 100, 6, 1)]
    assert e.best_ask(0) == (100, 11)
    buy(e, 100, 6, oid=3)
    f, _ = drain(e)
    assert f == [(2, 3, 2, 0, 100, 5, BUY), (1, 3, 1, 0, 100, 1, BUY)]


def test_modify_price_change_loses_priority(e):
    _two_asks(e)
    sell(e, 101, 5, oid=3, acct=3)
    # move 2 to 101 (behind 3), then back to 100 (behind 1) with less qty
    assert modify(e, 2, 101, 5, acct=2) == 2
    assert live(e) == [(1, SELL, 100, 5, 1), (3, SELL, 101, 5, 3),
                       (2, SELL, 101, 5, 2)]
    assert modify(e, 1, 101, 4, acct=1) == 1
    assert e.best_ask(0) == (101, 14)
    assert modify(e, 3, 100, 1, acct=3) == 3
    assert live(e) == [(3, SELL, 100, 1, 3), (2, SELL, 101, 5, 2),
                       (1, SELL, 101, 4, 1)]
    drain(e)
    buy(e, 101, 10)
    f, _ = drain(e)
    assert [(r[0], r[5]) for r in f] == [(3, 1), (2, 5), (1, 4)]


def test_modify_crosses_trades_as_taker(e):
    buy(e, 99, 5, oid=1, acct=1)
    sell(e, 101, 3, oid=2, acct=2)
    sell(e, 102, 1, oid=3, acct=3)
    drain(e)
    assert modify(e, 1, 101, 5, acct=1) == 1
    f, ev = drain(e)
    assert f == [(2, 1, 2, 1, 101, 3, BUY)]
    assert ev == [(MOD, 1, 1, BUY, 101, 5, 0), (FIL, 2, 2, SELL, 101, 0, 0)]
    assert live(e) == [(1, BUY, 101, 2, 1), (3, SELL, 102, 1, 3)]
    # now fully filled by a further modify through 102
    assert modify(e, 1, 102, 1, acct=1) == 1
    f, ev = drain(e)
    assert f == [(3, 1, 3, 1, 102, 1, BUY)]
    assert ev == [(MOD, 1, 1, BUY, 102, 1, 0), (FIL, 3, 3, SELL, 102, 0, 0),
                  (FIL, 1, 1, BUY, 102, 0, 0)]
    assert e.n_live() == 0
    assert e.volume(0) == 4 and e.last_trade(0) == (102, 0)
    assert cancel(e, 1, acct=1) == 0


def test_modify_uses_its_own_stp(e):
    buy(e, 99, 5, oid=1, acct=1)
    sell(e, 101, 3, oid=2, acct=1)       # same account
    drain(e)
    assert modify(e, 1, 101, 5, acct=1, stp=C.STP_CANCEL_INCOMING) == 1
    assert drain(e) == ([], [(MOD, 1, 1, BUY, 101, 5, 0),
                             (CXL, 1, 1, BUY, 101, 5, C.CX_STP)])
    assert live(e) == [(2, SELL, 101, 3, 1)]
    buy(e, 99, 5, oid=1, acct=1)
    drain(e)
    assert modify(e, 1, 101, 5, acct=1, stp=C.STP_CANCEL_RESTING) == 1
    assert drain(e) == ([], [(MOD, 1, 1, BUY, 101, 5, 0),
                             (CXL, 2, 1, SELL, 101, 3, C.CX_STP)])
    assert live(e) == [(1, BUY, 101, 5, 1)]


def test_modify_post_only_cross_rejected_unchanged(e):
    buy(e, 98, 5, oid=1, acct=1, typ=C.POST_ONLY)
    buy(e, 98, 5, oid=2, acct=2)
    sell(e, 100, 5, oid=3, acct=3)
    drain(e)
    assert modify(e, 1, 100, 5, acct=1) == 0
    assert modify(e, 1, 100, 4, acct=1) == 0
    assert drain(e) == ([], [(REJ, 1, 1, 0, 100, 5, C.R_POST_ONLY_WOULD_TAKE),
                             (REJ, 1, 1, 0, 100, 4, C.R_POST_ONLY_WOULD_TAKE)])
    assert live(e)[:2] == [(1, BUY, 98, 5, 1), (2, BUY, 98, 5, 2)]
    # a LIMIT order may cross by modify
    assert modify(e, 2, 100, 1, acct=2) == 2
    # POST_ONLY keeps its time-in-force after a non-crossing modify
    assert modify(e, 1, 99, 5, acct=1) == 1
    assert modify(e, 1, 100, 5, acct=1) == 0
    assert reasons(e) == [C.R_POST_ONLY_WOULD_TAKE]
    assert live(e) == [(1, BUY, 99, 5, 1), (3, SELL, 100, 4, 3)]
    # still priority: a sell hits it
    sell(e, 99, 1, oid=4)
    assert drain(e)[0] == [(1, 4, 1, 0, 99, 1, SELL)]


def test_modify_rejects(e):
    buy(e, 50, 5, oid=1, acct=1)
    drain(e)
    cases = [
        (dict(oid=2, price=50, qty=1, acct=1), C.R_UNKNOWN_ID),
        (dict(oid=1, price=50, qty=1, acct=1, book=1), C.R_UNKNOWN_ID),
        (dict(oid=1, price=50, qty=1, acct=1, book=2), C.R_BAD_BOOK),
        (dict(oid=1, price=50, qty=1, acct=2), C.R_NOT_OWNER),
        (dict(oid=1, price=50, qty=1, acct=1, stp=4), C.R_BAD_STP),
        (dict(oid=1, price=0, qty=0, acct=1, stp=4), C.R_BAD_STP),
        (dict(oid=1, price=C.PRICE_OFF_GRID, qty=0, acct=1), C.R_OFF_GRID),
        (dict(oid=1, price=0, qty=0, acct=1), C.R_BAD_PRICE),
        (dict(oid=1, price=MAXP + 1, qty=1, acct=1), C.R_BAD_PRICE),
        (dict(oid=1, price=50, qty=0, acct=1), C.R_BAD_QTY),
        (dict(oid=1, price=50, qty=C.QTY_OFF_LOT, acct=1), C.R_BAD_QTY),
        (dict(oid=1, price=50, qty=C.MAX_QTY + 1, acct=1), C.R_BAD_QTY),
    ]
    for kw, _ in cases:
        assert modify(e, kw.pop("oid"), kw.pop("price"), kw.pop("qty"), **kw) == 0
    assert reasons(e) == [r for _, r in cases]
    assert live(e) == [(1, BUY, 50, 5, 1)]
    assert modify(e, 1, MAXP, C.MAX_QTY, acct=1) == 1


# ======================================================================
# ids
# ======================================================================
def test_id_reuse_after_done(e):
    sell(e, 100, 2, oid=7, acct=1)
    buy(e, 100, 2, oid=8, acct=2)                # 7 and 8 both filled
    assert sell(e, 100, 1, oid=7, acct=3) == 7   # reuse (other account, too)
    assert cancel(e, 7, acct=3) == 7
    assert buy(e, 90, 1, oid=7, acct=4) == 7     # reuse after cancel
    assert buy(e, 90, 1, oid=8, typ=C.IOC) == 8  # reuse of a taker id
    assert live(e) == [(7, BUY, 90, 1, 4)]
    assert reasons(e) == []


def test_engine_assigned_ids(e):
    assert buy(e, 10, 1) == AUTO
    assert buy(e, 0, 1) == 0                     # rejected: no id consumed
    assert buy(e, 10, 1, oid=5) == 5             # external: no id consumed
    assert sell(e, 0, 1, typ=C.MARKET) == AUTO + 1   # fills AUTO (first in time)
    assert sell(e, 10, 1, typ=C.POST_ONLY) == 0  # rejected
    assert buy(e, 10, 1, book=1) == AUTO + 2     # counter is engine-wide
    assert cancel(e, AUTO + 2, book=1) == AUTO + 2
    assert modify(e, AUTO + 2, 10, 1) == 0       # gone
    assert live(e) == [(5, BUY, 10, 1, 0)]
    # fill rows carry assigned ids
    assert sell(e, 10, 1, acct=3) == AUTO + 3    # fills 5
    drain(e)
    sell(e, 10, 1, acct=3)                       # rests
    buy(e, 10, 1, acct=4)
    assert drain(e)[0] == [(AUTO + 4, AUTO + 5, 3, 4, 10, 1, BUY)]


# ======================================================================
# depth_within, l2, multi-book, process/drain
# ======================================================================
def _depth_book(e):
    buy(e, 99, 5)
    buy(e, 98, 3)
    buy(e, 98, 1)
    buy(e, 90, 10)
    sell(e, 101, 4)
    sell(e, 102, 6)
    sell(e, 110, 1)


def test_depth_within(e):
    _depth_book(e)
    # m2 = 200; bid p counts iff (200 - 2p) * 10000 <= 200 * bps
    assert e.depth_within(0, 0) == (0, 0)
    assert e.depth_within(0, 99) == (0, 0)
    assert e.depth_within(0, 100) == (5, 4)      # inclusive boundary: 99, 101
    assert e.depth_within(0, 199) == (5, 4)
    assert e.depth_within(0, 200) == (9, 10)
    assert e.depth_within(0, 999) == (9, 10)
    assert e.depth_within(0, 1000) == (19, 11)
    assert e.depth_within(0, 10**6) == (19, 11)
    assert e.depth_within(1, 100) == (0, 0)


def test_depth_within_odd_mid_and_one_sided(e):
    buy(e, 99, 2)
    sell(e, 102, 3)
    # m2 = 201: bid 99 needs 3 * 10000 <= 201 * bps -> bps >= 149.25
    assert e.depth_within(0, 149) == (0, 0)
    assert e.depth_within(0, 150) == (2, 3)
    # one-sided: m2 = 2 * best
    buy(e, 100, 4, book=1)
    buy(e, 95, 6, book=1)
    assert e.depth_within(1, 499) == (4, 0)      # 95: 10 * 10000 <= 200 * 500
    assert e.depth_within(1, 500) == (10, 0)
    sell(e, 200, 7, book=1)
    sell(e, 190, 1, book=1)
    # m2 = 290.  bid 100 and ask 190 are both 45 ticks off: 90e4 <= 290 * bps
    # iff bps >= 3104; bid 95: 100e4 -> 3449; ask 200: 110e4 -> 3794
    assert e.depth_within(1, 3103) == (0, 0)
    assert e.depth_within(1, 3104) == (4, 1)
    assert e.depth_within(1, 3448) == (4, 1)
    assert e.depth_within(1, 3449) == (10, 1)
    assert e.depth_within(1, 3793) == (10, 1)
    assert e.depth_within(1, 3794) == (10, 8)


def test_l2(e):
    _depth_book(e)
    bp, bq, ap, aq = e.l2(0, 2)
    assert bp.tolist() == [99, 98] and bq.tolist() == [5, 4]
    assert ap.tolist() == [101, 102] and aq.tolist() == [4, 6]
    bp, bq, ap, aq = e.l2(0, 5)
    assert bp.tolist() == [99, 98, 90, 0, 0] and bq.tolist() == [5, 4, 10, 0, 0]
    assert ap.tolist() == [101, 102, 110, 0, 0] and aq.tolist() == [4, 6, 1, 0, 0]
    assert [len(a) for a in e.l2(0, 0)] == [0, 0, 0, 0]
    assert e.best_bid(0) == (99, 5) and e.best_ask(0) == (101, 4)


def test_books_are_independent(e):
    sell(e, 100, 5, oid=1, book=0)
    buy(e, 200, 5, oid=2, book=1)              # would cross book 0; does not
    assert e.best_ask(0) == (100, 5) and e.best_bid(1) == (200, 5)
    assert e.best_bid(0) == (0, 0) and e.best_ask(1) == (0, 0)
    sell(e, 150, 2, oid=3, book=1, ts=4)
    f, ev = e.drain()
    assert f.tolist() == [(4, 1, 2, 3, 0, 0, 200, 2, SELL)]
    assert (ev["book"] == [0, 1, 1, 1]).all()
    assert e.volume(0) == 0 and e.volume(1) == 2
    assert e.last_trade(0) == (0, 0) and e.last_trade(1) == (200, 4)
    assert [r[0] for r in live(e, 1)] == [2] and [r[0] for r in live(e, 0)] == [1]
    assert e.n_live() == 2


def _scenario():
    rows = [
        # ts, type, book, side, id, price, qty, account, stp
        (1, C.LIMIT, 0, SELL, 1, 100, 5, 1, 0),
        (2, C.LIMIT, 0, SELL, 0, 101, 5, 2, 0),
        (3, C.LIMIT, 1, BUY, 3, 50, 5, 3, 0),
        (4, C.POST_ONLY, 0, BUY, 0, 100, 1, 4, 0),       # rejected
        (5, C.IOC, 0, BUY, 0, 101, 2, 1, C.STP_CANCEL_RESTING),
        (6, C.MODIFY, 1, 0, 3, 49, 9, 3, 0),
        (7, C.REDUCE, 0, 0, AUTO, 0, 1, 2, 0),
        (8, C.FOK, 0, BUY, 0, 101, 99, 5, 0),
        (9, C.CANCEL, 1, 0, 3, 0, 0, 3, 0),
        (10, C.MARKET, 0, SELL, 0, 0, 1, 5, 0),
        (11, 99, 0, 0, 0, 0, 0, 0, 0),
    ]
    return np.array(rows, dtype=C.MSG_DTYPE)


def test_process_equals_submit():
    msgs = _scenario()
    a = make(2)
    fa, ea = a.process(msgs)
    b = make(2)
    b.engine.process(msgs[:0])                 # empty batch is fine
    ids = [b.submit(int(m["type"]), int(m["book"]), int(m["side"]),
                    int(m["price"]), int(m["qty"]), order_id=int(m["order_id"]),
                    account=int(m["account"]), stp=int(m["stp"]),
                    ts=int(m["ts"])) for m in msgs]
    assert ids == [1, AUTO, 3, 0, AUTO + 1, 3, AUTO, AUTO + 2, 3, AUTO + 3, 0]
    fb, eb = b.drain()
    assert fa.dtype == C.FILL_DTYPE and ea.dtype == C.EVENT_DTYPE
    assert fa.tolist() == fb.tolist() and ea.tolist() == eb.tolist()
    assert fa.tolist() == [(5, 0, AUTO, AUTO + 1, 2, 1, 101, 2, BUY)]
    assert ea.tolist() == [
        (1, ACC, 0, 1, 1, SELL, 100, 5, 0),
        (2, ACC, 0, AUTO, 2, SELL, 101, 5, 0),
        (3, ACC, 1, 3, 3, BUY, 50, 5, 0),
        (4, REJ, 0, 0, 4, BUY, 100, 1, C.R_POST_ONLY_WOULD_TAKE),
        (5, ACC, 0, AUTO + 1, 1, BUY, 101, 2, 0),
        (5, CXL, 0, 1, 1, SELL, 100, 5, C.CX_STP),
        (5, FIL, 0, AUTO + 1, 1, BUY, 101, 0, 0),
        (6, MOD, 1, 3, 3, BUY, 49, 9, 0),
        (7, MOD, 0, AUTO, 2, SELL, 101, 2, 0),
        (8, ACC, 0, AUTO + 2, 5, BUY, 101, 99, 0),
        (8, CXL, 0, AUTO + 2, 5, BUY, 101, 99, C.CX_FOK_UNFILLABLE),
        (9, CXL, 1, 3, 3, BUY, 49, 9, C.CX_USER),
        (10, ACC, 0, AUTO + 3, 5, SELL, 0, 1, 0),
        (10, CXL, 0, AUTO + 3, 5, SELL, 0, 1, C.CX_IOC_REMAINDER),
        (11, REJ, 0, 0, 0, 0, 0, 0, C.R_BAD_TYPE),
    ]
    # process() outputs never go to the drain buffer
    assert [len(x) for x in a.drain()] == [0, 0]
    # (n, 9) matrix input gives the same
    c = make(2)
    fc, ec = c.engine.process(C.as_matrix(msgs).copy())
    assert fc.tolist() == fa.tolist() and ec.tolist() == ea.tolist()
    for eng in (a, b, c):
        assert live(eng) == [(AUTO, SELL, 101, 2, 2)]   # 5 - 2 - 1
        assert live(eng, 1) == []
        eng.check()


def test_drain_clears(e):
    buy(e, 10, 1)
    assert len(e.drain()[1]) == 1
    assert len(e.drain()[1]) == 0


@pytest.mark.parametrize("seed", range(5))
def test_random_stream_lifecycle(seed):
    """Random messages, check() after each; every accepted order gets
    exactly one done event unless it is still live; volume adds up."""
    rng = np.random.default_rng(seed)
    n = 3000
    msgs = C.messages(n)
    msgs["ts"] = np.arange(n)
    msgs["type"] = rng.choice([1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 7, 8, 0], n)
    msgs["book"] = rng.choice([0, 0, 1, 2], n)
    msgs["side"] = rng.integers(0, 2, n)
    msgs["order_id"] = np.where(rng.random(n) < 0.5, 0, rng.integers(1, 40, n))
    msgs["price"] = rng.integers(95, 106, n)
    msgs["qty"] = rng.integers(0, 8, n)
    msgs["account"] = rng.integers(0, 3, n)
    msgs["stp"] = rng.choice([0, 0, 1, 2, 3], n)
    eng = make(2)
    live_map = {}                           # id -> (book, account)
    fills, events = [], []
    for i in range(n):                      # CANCEL/MODIFY/REDUCE hit live ids
        if msgs["type"][i] in (C.CANCEL, C.MODIFY, C.REDUCE) and live_map \
                and rng.random() < 0.8:
            oid = sorted(live_map)[rng.integers(len(live_map))]
            msgs["order_id"][i] = oid
            msgs["book"][i], msgs["account"][i] = live_map[oid]
        f, ev = eng.process(msgs[i:i + 1])
        fills.append(f)
        events.append(ev)
        live_map = {int(r["order_id"]): (b, int(r["account"])) for b in (0, 1)
                    for r in eng.live_orders(b)}
    fills, events = np.concatenate(fills), np.concatenate(events)
    open_ids = set()
    for r in events:
        kind, oid = int(r["kind"]), int(r["order_id"])
        if kind == ACC:
            assert oid not in open_ids
            open_ids.add(oid)
        elif kind in (MOD, CXL, FIL):
            assert oid in open_ids
            if kind != MOD:
                open_ids.remove(oid)
    assert open_ids == {int(r["order_id"]) for b in (0, 1)
                        for r in eng.live_orders(b)}
    assert eng.n_live() == len(open_ids)
    for b in (0, 1):
        assert eng.volume(b) == int(fills["qty"][fills["book"] == b].sum())
    assert (fills["qty"] >= 1).all()
    assert len(fills) > 100 and (events["kind"] == REJ).sum() > 100


# ======================================================================
# check() detects corruption (reaches into the reference twin's internals)
# ======================================================================
def _corruptible():
    eng = ReferenceEngine(1)
    for oid, price in ((1, 100), (2, 100), (3, 101)):
        eng.submit(C.LIMIT, 0, SELL, price, 5, order_id=oid)
    eng.submit(C.LIMIT, 0, BUY, 90, 5, order_id=4)
    eng.check()
    return eng


def _level(eng, price, side=SELL):
    book = eng._books[0]
    return (book.asks if side == SELL else book.bids)[price]


@reference_only
def test_check_detects_bad_total():
    eng = _corruptible()
    _level(eng, 100).total += 1
    with pytest.raises(AssertionError, match="total"):
        eng.check()


@reference_only
def test_check_detects_bad_count():
    eng = _corruptible()
    _level(eng, 100).count = 3
    with pytest.raises(AssertionError, match="count"):
        eng.check()


@reference_only
def test_check_detects_fifo_violation():
    eng = _corruptible()
    lvl = _level(eng, 100)
    lvl.orders.move_to_end(1)          # order 1 now behind the younger 2
    with pytest.raises(AssertionError, match="FIFO"):
        eng.check()


@reference_only
def test_check_detects_zero_qty():
    eng = _corruptible()
    lvl = _level(eng, 101)
    lvl.orders[3].qty = 0
    lvl.total = 0
    with pytest.raises(AssertionError, match="qty"):
        eng.check()


@reference_only
def test_check_detects_crossed_book():
    eng = _corruptible()
    o = eng._orders[4]
    lvl = _level(eng, 90, BUY)
    del eng._books[0].bids[90]
    o.price = lvl.price = 100
    eng._books[0].bids[100] = lvl
    with pytest.raises(AssertionError, match="crossed"):
        eng.check()


@reference_only
def test_check_detects_index_mismatch():
    eng = _corruptible()
    del eng._orders[2]
    with pytest.raises(AssertionError, match="index"):
        eng.check()
    eng = _corruptible()
    eng._orders[99] = eng._orders[1]
    with pytest.raises(AssertionError, match="index"):
        eng.check()


@reference_only
def test_check_detects_empty_level():
    eng = _corruptible()
    eng._books[0].asks[150] = _Level(150)
    with pytest.raises(AssertionError, match="empty"):
        eng.check()
