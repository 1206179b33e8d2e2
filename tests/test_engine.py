"""Tests specific to the compiled ``Engine``: many books, hard capacity
limits, growth, per-message ids, the invariant checker against deliberate
arena corruption, the message counter, and query edge cases.  Semantics are
checked against the ``ReferenceEngine`` twin wherever outputs are involved.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lob.core import _layout as Y
from lob.core import codes as C
from lob.core.engine import CapacityError, Engine
from lob.core.reference import ReferenceEngine

from conftest import (TINY, StreamGen, assert_outputs_equal, assert_same_state, submit_row)

AUTO = C.AUTO_ID_BASE
BUY, SELL = C.BUY, C.SELL
#: header slots the kernel uses as scratch when it asks for room
SCRATCH = (Y.H_NEED_BOOK, Y.H_NEED_SIDE, Y.H_NEED_FILLS, Y.H_NEED_EVENTS, Y.H_NEXT_INDEX)


def _both(n_books=1, engine_kw=None, **kw):
    return Engine(n_books, **(engine_kw or {}), **kw), ReferenceEngine(n_books, **kw)


def _send(engines, *args, **kw):
    """Submit the same message to every engine; return the results."""
    return [e.submit(*args, **kw) for e in engines]


def _state(arena):
    """The arena without its scratch cells (room requests, per-message inbox)."""
    a = arena.copy()
    a[list(SCRATCH)] = 0
    off = int(a[Y.H_INBOX_OFF])
    a[off:off + C.N_MSG] = 0
    return a


# ======================================================================
# many books
# ======================================================================
def _thousand_books(engine_kw, n_msgs, seed):
    n = 1000
    max_prices = [200 + 37 * b for b in range(n)]
    eng, ref = _both(n, engine_kw, max_price_ticks=max_prices)
    # every book gets orders on both sides
    seed_msgs = C.messages(4 * n)
    seed_msgs["ts"] = np.arange(4 * n)
    seed_msgs["type"] = C.LIMIT
    seed_msgs["book"] = np.repeat(np.arange(n), 4)
    seed_msgs["side"] = np.tile([BUY, BUY, SELL, SELL], n)
    mids = np.array(max_prices) // 2
    seed_msgs["price"] = np.repeat(mids, 4) + np.tile([-2, -1, 1, 2], n)
    seed_msgs["qty"] = np.arange(4 * n) % 7 + 1
    seed_msgs["account"] = np.arange(4 * n) % 5
    assert_outputs_equal(eng.process(seed_msgs), ref.process(seed_msgs), "seeding")
    for b in range(n):
        assert len(eng.live_orders(b)) == 4
    gen = StreamGen(seed, max_prices=max_prices, target_live=6000, far_rate=0.2, far=2000)
    gen.observe(ref)
    done = 0
    while done < n_msgs:
        msgs = gen.chunk(1000)
        out_r = ref.process(msgs)
        assert_outputs_equal(eng.process(msgs), out_r, f"messages {done}..")
        gen.observe(ref, out_r[1])
        done += len(msgs)
    assert_same_state(eng, ref, depth_bps=(5, 100, 10_000))
    eng.check()
    ref.check()
    assert sum(eng.volume(b) > 0 for b in range(n)) > 800
    return eng


def test_thousand_books_vs_twin():
    eng = _thousand_books({}, 30_000, 1)
    assert eng.n_live() > 3000


def test_thousand_books_tiny_capacities_vs_twin():
    """Ladder slices of 2 chunks per side for 1000 books: the ladder pool
    grows and is compacted many times."""
    eng = _thousand_books(TINY, 20_000, 2)
    assert eng.grow_count > 100


# ======================================================================
# hard limits: CapacityError
# ======================================================================
def test_max_orders_capacity_error_leaves_state_untouched():
    eng, ref = _both(2, dict(order_capacity=2, max_orders=6))
    ids = []
    for i in range(6):
        ids += _send((eng, ref), C.LIMIT, i % 2, BUY, price=100 - i, qty=i + 1,
                     order_id=10 + i, account=i % 3, ts=i)
    assert ids[::2] == ids[1::2] == [10, 11, 12, 13, 14, 15]
    before = _state(eng.arena)
    with pytest.raises(CapacityError, match=r"order table.*max_orders=6"):
        eng.submit(C.LIMIT, 0, BUY, price=90, qty=1, order_id=99, ts=50)
    assert np.array_equal(_state(eng.arena), before)     # nothing changed
    eng.check()
    assert eng.n_live() == 6 and eng.messages_processed == 6
    assert_outputs_equal(eng.drain(), ref.drain())        # no rows from the failed message
    assert_same_state(eng, ref)
    # still usable: make room, then the same order goes in
    assert _send((eng, ref), C.CANCEL, 1, 0, price=0, qty=0, order_id=11, account=1, ts=60) == [11, 11]
    assert _send((eng, ref), C.LIMIT, 0, BUY, price=90, qty=1, order_id=99, ts=61) == [99, 99]
    assert_outputs_equal(eng.drain(), ref.drain())
    assert_same_state(eng, ref)
    eng.check()
    with pytest.raises(CapacityError, match="max_orders=6"):
        eng.submit(C.POST_ONLY, 1, SELL, price=500, qty=1)
    eng.check()
    assert eng.table("orders").shape[0] == 6


def test_max_levels_capacity_error_leaves_state_untouched():
    eng, ref = _both(1, dict(level_capacity=2, max_levels=3))
    for i, (side, px) in enumerate(((BUY, 90), (SELL, 110), (SELL, 111))):
        _send((eng, ref), C.LIMIT, 0, side, price=px, qty=2, order_id=i + 1, ts=i)
    before = _state(eng.arena)
    with pytest.raises(CapacityError, match=r"level table.*max_levels=3"):
        eng.submit(C.LIMIT, 0, BUY, price=89, qty=1, ts=9)
    assert np.array_equal(_state(eng.arena), before)
    eng.check()
    assert_outputs_equal(eng.drain(), ref.drain())
    assert_same_state(eng, ref)
    assert eng.messages_processed == 3
    # a new level after one empties
    assert _send((eng, ref), C.CANCEL, 0, 0, price=0, qty=0, order_id=3, ts=10) == [3, 3]
    assert _send((eng, ref), C.LIMIT, 0, BUY, price=89, qty=1, ts=11) == [AUTO, AUTO]
    assert_outputs_equal(eng.drain(), ref.drain())
    assert_same_state(eng, ref)
    eng.check()


def test_capacity_error_in_process_leaves_no_stray_output_rows():
    """process() hits max_orders in the middle of a batch: the messages
    before it are applied, the rest are not; the engine stays consistent
    and later calls return exactly the rows of their own messages."""
    eng = Engine(1, order_capacity=2, max_orders=4)
    msgs = C.messages(6)
    msgs["ts"] = np.arange(1, 7)
    msgs["type"] = C.LIMIT
    msgs["side"] = BUY
    msgs["price"] = [10, 11, 12, 13, 14, 15]
    msgs["qty"] = 1
    with pytest.raises(CapacityError, match="max_orders=4"):
        eng.process(msgs)
    k = eng.messages_processed
    assert k == 4
    ref = ReferenceEngine(1)
    ref.process(msgs[:k])
    eng.check()
    assert_same_state(eng, ref)
    # the next calls produce the rows of their own messages, nothing else
    assert _send((eng, ref), C.CANCEL, 0, 0, price=0, qty=0, order_id=AUTO, ts=20) == [AUTO, AUTO]
    assert_outputs_equal(eng.drain(), ref.drain(), "submit after a failed process")
    out_e = eng.process(msgs[k:k + 1])
    assert_outputs_equal(out_e, ref.process(msgs[k:k + 1]), "process after a failed process")
    assert_outputs_equal(eng.drain(), ref.drain(), "drain after a failed process")
    assert_same_state(eng, ref)
    eng.check()


@pytest.mark.parametrize("typ", [C.MARKET, C.IOC, C.FOK, C.LIMIT])
def test_full_order_table_still_takes_liquidity(typ):
    """max_orders bounds *live* orders: an order that only trades (and so
    frees slots) needs no new slot and must not raise CapacityError."""
    eng, ref = _both(1, dict(order_capacity=2, max_orders=2))
    _send((eng, ref), C.LIMIT, 0, SELL, price=10, qty=1, order_id=1)
    _send((eng, ref), C.LIMIT, 0, SELL, price=11, qty=1, order_id=2)
    assert _send((eng, ref), typ, 0, BUY, price=10, qty=1, order_id=3) == [3, 3]
    assert_outputs_equal(eng.drain(), ref.drain())
    assert_same_state(eng, ref)
    eng.check()


@pytest.mark.parametrize("typ,side,price", [(C.LIMIT, SELL, 11), (C.MARKET, BUY, 0),
                                            (C.IOC, BUY, 11)])
def test_full_level_table_still_accepts_orders_needing_no_level(typ, side, price):
    """max_levels bounds price levels: joining an existing level or taking
    liquidity needs no new level and must not raise CapacityError."""
    eng, ref = _both(1, dict(level_capacity=2, max_levels=2))
    _send((eng, ref), C.LIMIT, 0, SELL, price=10, qty=1, order_id=1)
    _send((eng, ref), C.LIMIT, 0, SELL, price=11, qty=1, order_id=2)
    assert _send((eng, ref), typ, 0, side, price=price, qty=1, order_id=3) == [3, 3]
    assert_outputs_equal(eng.drain(), ref.drain())
    assert_same_state(eng, ref)
    eng.check()


def test_limits_with_growth_to_exact_max():
    """Growth stops exactly at a limit that is not a power-of-two multiple."""
    eng = Engine(1, order_capacity=2, level_capacity=2, max_orders=5, max_levels=5)
    for i in range(5):
        assert eng.submit(C.LIMIT, 0, BUY, price=50 + i, qty=1) == AUTO + i
    assert eng.table("orders").shape[0] == 5 and eng.table("levels").shape[0] == 5
    with pytest.raises(CapacityError):
        eng.submit(C.LIMIT, 0, BUY, price=40, qty=1)
    eng.check()


# ======================================================================
# growth preserves state
# ======================================================================
def _populated(engine_kw):
    eng, ref = _both(3, engine_kw, max_price_ticks=10**6)
    gen = StreamGen(31, max_prices=(10**6,) * 3, far_rate=0.5, far=3000)
    for _ in range(20):
        msgs = gen.chunk(50)
        assert_outputs_equal(eng.process(msgs), ref.process(msgs))
        gen.observe(ref)
    assert eng.n_live() > 100
    return eng, ref


@pytest.mark.parametrize("what", ["orders", "levels", "chunks", "hash", "ladder", "compact",
                                  "outputs"])
def test_growth_preserves_state(what):
    eng, ref = _populated({})
    a = eng.arena
    caps = eng._caps()
    if what == "orders":
        eng._grow(Y.ST_NEED_ORDERS)
    elif what == "levels":
        eng._grow(Y.ST_NEED_LEVELS)
    elif what == "chunks":
        eng._grow(Y.ST_NEED_CHUNKS)
    elif what == "hash":
        eng._grow(Y.ST_NEED_HASH)
    elif what == "ladder":
        for b in range(3):
            for s in range(2):
                eng._grow_ladder(b, s)
    elif what == "compact":
        eng._compact_ladder(4 * caps["lad_cap"])
    else:
        eng._realloc(fill_cap=2 * caps["fill_cap"], ev_cap=2 * caps["ev_cap"])
    assert eng.arena is not a or what == "ladder"
    eng.check()
    assert_same_state(eng, ref, levels=10_000)
    # and it goes on working the same
    gen = StreamGen(32, max_prices=(10**6,) * 3, far_rate=0.5, far=3000)
    gen.observe(ref)
    msgs = gen.chunk(2000)
    assert_outputs_equal(eng.process(msgs), ref.process(msgs))
    assert_same_state(eng, ref)
    eng.check()


def test_growth_during_submit_keeps_pending_outputs():
    """Outputs waiting for drain() survive every growth of the tables and
    of the per-message buffers (fill_capacity=1, event_capacity=4)."""
    eng, ref = _both(2, TINY)
    for i in range(300):
        for e in (eng, ref):
            e.submit(C.LIMIT, i % 2, i % 2, price=1000 + (i * 37) % 500 * (1 if i % 2 else -1),
                     qty=1 + i % 4, account=i % 3, ts=i)
    for e in (eng, ref):   # a sweep producing hundreds of rows in one message
        e.submit(C.MARKET, 0, SELL, price=0, qty=10**6, account=1, stp=C.STP_CANCEL_RESTING, ts=999)
    assert eng.grow_count > 15
    assert_outputs_equal(eng.drain(), ref.drain())
    assert_same_state(eng, ref, levels=1000)
    eng.check()


def test_single_message_sweeps_thousands_of_makers():
    """One message producing far more rows than process() sizes its result
    arrays for (max(64, n // 2) fills), and than the per-message buffers
    hold; with STP cancels mixed in."""
    for engine_kw, via_submit in (({}, False), ({}, True), (TINY, False), (TINY, True)):
        eng, ref = _both(1, engine_kw)
        rows = [(i, C.LIMIT, 0, SELL, 0, 100 + i % 300, 1 + i % 3, i % 4, 0) for i in range(5000)]
        setup = np.array(rows, dtype=C.MSG_DTYPE)
        assert_outputs_equal(eng.process(setup), ref.process(setup))
        sweep = np.array([(9999, C.MARKET, 0, BUY, 0, 0, 10**6, 1, C.STP_CANCEL_RESTING)],
                         dtype=C.MSG_DTYPE)
        if via_submit:
            assert submit_row(eng, sweep[0]) == submit_row(ref, sweep[0])
            out_e, out_r = eng.drain(), ref.drain()
        else:
            out_e, out_r = eng.process(sweep), ref.process(sweep)
        assert len(out_r[0]) == 3750 and len(out_r[1]) == 5002
        assert_outputs_equal(out_e, out_r)
        assert_same_state(eng, ref)
        assert eng.n_live() == 0
        eng.check()


# ======================================================================
# per-message ids, message counter
# ======================================================================
def test_submit_returns_ids():
    eng, ref = _both(2)
    for e in (eng, ref):
        assert e.submit(C.LIMIT, 0, BUY, price=10, qty=5) == AUTO
        assert e.submit(C.LIMIT, 0, BUY, price=10, qty=5, order_id=77) == 77
        assert e.submit(C.LIMIT, 0, BUY, price=10, qty=5, order_id=77) == 0      # duplicate
        assert e.submit(C.LIMIT, 0, BUY, price=0, qty=5) == 0                    # rejected
        assert e.submit(C.IOC, 1, SELL, price=10, qty=5) == AUTO + 1             # no fill
        assert e.submit(C.MARKET, 0, SELL, price=0, qty=7) == AUTO + 2                    # fills
        assert e.submit(C.REDUCE, 0, 0, price=0, qty=1, order_id=77) == 77
        assert e.submit(C.MODIFY, 0, 0, price=11, qty=4, order_id=77) == 77
        assert e.submit(C.CANCEL, 0, 0, price=0, qty=0, order_id=77) == 77
        assert e.submit(C.CANCEL, 0, 0, price=0, qty=0, order_id=77) == 0
        assert e.submit(C.LIMIT, 0, BUY, price=10, qty=5, order_id=AUTO - 1) == AUTO - 1
        assert e.submit(C.FOK, 0, SELL, price=10, qty=99) == AUTO + 3
        assert e.submit(99, 0, SELL, price=10, qty=99) == 0
        assert e.submit(C.LIMIT, 0, BUY, price=10, qty=5) == AUTO + 4
    assert_outputs_equal(eng.drain(), ref.drain())
    assert_same_state(eng, ref)


def test_messages_processed_counter():
    eng = Engine(2, **TINY)
    assert eng.messages_processed == 0
    msgs = C.messages(500)
    msgs["type"] = np.arange(500) % 10           # includes bad types 0 and 9
    msgs["book"] = np.arange(500) % 3            # includes bad book 2
    msgs["side"] = np.arange(500) % 2
    msgs["price"] = 100 + np.arange(500) % 13 - 6
    msgs["qty"] = 1 + np.arange(500) % 5
    eng.process(msgs)                            # grows many times on the way
    assert eng.messages_processed == 500
    eng.process(msgs[:0])
    assert eng.messages_processed == 500
    for m in msgs[:37]:
        submit_row(eng, m)
    assert eng.messages_processed == 537
    eng.drain()
    assert eng.messages_processed == 537
    eng.check()


# ======================================================================
# queries
# ======================================================================
def test_depth_within_large_prices():
    """Prices up to max_price_ticks = 2**50 are valid; depth_within's
    integer rule must not overflow there (the twin uses exact ints)."""
    eng, ref = _both(1)
    for e in (eng, ref):
        e.submit(C.LIMIT, 0, BUY, price=1, qty=3)
        e.submit(C.LIMIT, 0, SELL, price=C.DEFAULT_MAX_PRICE_TICKS, qty=4)
    for bps in (0, 1, 100, 10_000, 20_000, 10**6):
        assert eng.depth_within(0, bps) == ref.depth_within(0, bps), bps


QUERIES = ("best_bid", "best_ask", "l2", "depth_within", "last_trade", "volume", "live_orders")


def _query(eng, name, book):
    return getattr(eng, name)(*((book, 3) if name in ("l2", "depth_within") else (book,)))


@pytest.mark.parametrize("book", [-1, 2])
@pytest.mark.parametrize("name", QUERIES)
def test_queries_reject_bad_book_index(name, book):
    """A book index outside [0, n_books) raises IndexError like the twin,
    instead of aliasing another book (-1) or reading past the books table."""
    eng, ref = _both(2)
    for e in (eng, ref):
        e.submit(C.LIMIT, 1, BUY, price=10, qty=5)
    with pytest.raises(IndexError):
        _query(ref, name, book)
    with pytest.raises(IndexError):
        _query(eng, name, book)


def test_query_far_out_of_range_book_does_not_crash():
    """Run in a subprocess: an unchecked index reads outside the arena."""
    code = textwrap.dedent("""
        from lob.core.engine import Engine
        e = Engine(2)
        try:
            e.best_bid(10**6)
        except IndexError:
            print("IndexError")
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert (p.returncode, p.stdout.strip()) == (0, "IndexError"), (p.returncode, p.stderr[-500:])


def test_l2_wide_and_deep():
    """l2 over many chunks and levels, n larger than the depth."""
    eng, ref = _both(1, max_price_ticks=10**9)
    rng = np.random.default_rng(5)
    for i in range(2000):
        side = i % 2
        px = int(5 * 10**8 + (1 if side else -1) * rng.integers(1, 10**6))
        qty = int(rng.integers(1, 9))
        for e in (eng, ref):
            e.submit(C.LIMIT, 0, side, price=px, qty=qty, ts=i)
    for n in (0, 1, 63, 64, 65, 500, 3000):
        for x, y in zip(eng.l2(0, n), ref.l2(0, n)):
            assert x.tolist() == y.tolist()
    assert_same_state(eng, ref, depth_bps=(0, 1, 10, 100, 1000, 10_000, 10**6))


# ======================================================================
# check() catches deliberate corruption of the arena
# ======================================================================
def _corruptible():
    """Book 0: asks 100 x3 orders (ids 1, 2, 3), 101 x1 (4); bids 90 x2
    (5, 6), 20 (7, another chunk); book 1: one bid."""
    eng = Engine(2)
    for oid, side, px in ((1, SELL, 100), (2, SELL, 100), (3, SELL, 100), (4, SELL, 101),
                          (5, BUY, 90), (6, BUY, 90), (7, BUY, 20)):
        eng.submit(C.LIMIT, 0, side, price=px, qty=5, order_id=oid)
    eng.submit(C.LIMIT, 1, BUY, price=50, qty=1, order_id=8)
    eng.check()
    return eng


def _slot(eng, oid):
    """Order-table row of live order ``oid`` (through the id table)."""
    h = eng.table("hash")
    return int(h[np.nonzero(h[:, 0] == oid)[0][0], 1])


def _level_of(eng, oid):
    return int(eng.table("orders")[_slot(eng, oid), Y.O_LEVEL])


def _corrupt_level_qty(eng):
    eng.table("levels")[_level_of(eng, 1), Y.L_QTY] += 1


def _corrupt_level_count(eng):
    eng.table("levels")[_level_of(eng, 1), Y.L_COUNT] -= 1


def _corrupt_back_link(eng):
    eng.table("orders")[_slot(eng, 2), Y.O_PREV] = -1


def _corrupt_forward_link_cycle(eng):
    o = eng.table("orders")
    o[_slot(eng, 3), Y.O_NEXT] = _slot(eng, 1)


def _corrupt_tail(eng):
    eng.table("levels")[_level_of(eng, 1), Y.L_TAIL] = _slot(eng, 2)


def _corrupt_fifo_seq(eng):
    o = eng.table("orders")
    a, b = _slot(eng, 1), _slot(eng, 2)
    o[a, Y.O_SEQ], o[b, Y.O_SEQ] = o[b, Y.O_SEQ], o[a, Y.O_SEQ]


def _corrupt_order_qty_zero(eng):
    o = eng.table("orders")
    s = _slot(eng, 4)
    eng.table("levels")[o[s, Y.O_LEVEL], Y.L_QTY] -= o[s, Y.O_QTY]
    o[s, Y.O_QTY] = 0


def _corrupt_order_level(eng):
    """Order 2 (ask 100) claims to be in the level of order 4 (ask 101)."""
    eng.table("orders")[_slot(eng, 2), Y.O_LEVEL] = _level_of(eng, 4)


def _corrupt_order_level_other_side(eng):
    eng.table("orders")[_slot(eng, 2), Y.O_LEVEL] = _level_of(eng, 5)


def _corrupt_hash_slot(eng):
    h = eng.table("hash")
    row = int(np.nonzero(h[:, 0] == 3)[0][0])
    h[row, 1] = _slot(eng, 4)


def _corrupt_hash_id(eng):
    h = eng.table("hash")
    row = int(np.nonzero(h[:, 0] == 3)[0][0])
    h[row, 0] = 12345


def _corrupt_hash_moved(eng):
    """Move an id to an empty slot just before its home: unreachable."""
    h = eng.table("hash")
    row = int(np.nonzero(h[:, 0] == 3)[0][0])
    mask = len(h) - 1
    dst = (row - 1) & mask
    while h[dst, 0] != 0:
        dst = (dst - 1) & mask
    h[dst] = h[row]
    h[row] = 0


def _corrupt_hash_dropped(eng):
    h = eng.table("hash")
    row = int(np.nonzero(h[:, 0] == 3)[0][0])
    h[row] = 0
    eng.arena[Y.H_HASH_COUNT] -= 1


def _corrupt_live_count(eng):
    eng.arena[Y.H_ORD_LIVE] += 1


def _corrupt_side_count(eng):
    eng.table("books")[0, Y.B_NORD + SELL] += 1


def _corrupt_level_live_count(eng):
    eng.arena[Y.H_LVL_LIVE] -= 1


def _corrupt_free_list(eng):
    o = eng.table("orders")
    head = int(eng.arena[Y.H_ORD_FREE])
    o[head, Y.O_NEXT] = _slot(eng, 1)          # free list runs into a live order


def _corrupt_stray_slot(eng):
    o = eng.table("orders")
    head = int(eng.arena[Y.H_ORD_FREE])
    eng.arena[Y.H_ORD_FREE] = o[head, Y.O_NEXT]
    if hasattr(Y, "O_BOOK"):                   # a "live" slot in no level
        o[head, Y.O_BOOK] = 0
    else:
        o[head, Y.O_LEVEL] = _level_of(eng, 1)


def _corrupt_ladder_order(eng):
    books = eng.table("books")
    lad = eng.table("ladder")
    lo = int(books[0, Y.B_LOFF + BUY])
    assert books[0, Y.B_NCHK + BUY] == 2
    lad[[lo, lo + 1]] = lad[[lo + 1, lo]]


def _corrupt_chunk_bits(eng):
    lv = _level_of(eng, 4)
    c = int(eng.table("levels")[lv, Y.L_CHUNK])
    eng.table("chunks")[c, Y.K_BITS] |= 1      # a bit with no level behind it


#: corruption -> what check() must say (the generic prefix where several
#: invariants could fire first, depending on the order of the checks)
CORRUPTIONS = {
    _corrupt_level_qty: "level total/count",
    _corrupt_level_count: "level total/count",
    _corrupt_back_link: "back link",
    _corrupt_forward_link_cycle: "engine invariant broken",
    _corrupt_tail: "engine invariant broken",
    _corrupt_fifo_seq: "FIFO order violated",
    _corrupt_order_qty_zero: "qty < 1",
    _corrupt_order_level: "engine invariant broken",
    _corrupt_order_level_other_side: "engine invariant broken",
    _corrupt_hash_slot: "id table points to a wrong slot",
    _corrupt_hash_id: "id table points to a wrong slot",
    _corrupt_hash_moved: "unreachable",
    _corrupt_hash_dropped: "id table count",
    _corrupt_live_count: "live order count",
    _corrupt_side_count: "side order count",
    _corrupt_level_live_count: "live level count",
    _corrupt_free_list: "free list",
    _corrupt_stray_slot: "engine invariant broken",
    _corrupt_ladder_order: "engine invariant broken",
    _corrupt_chunk_bits: "engine invariant broken",
}


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS), ids=lambda f: f.__name__[9:])
def test_check_detects_corruption(corrupt):
    eng = _corruptible()
    corrupt(eng)
    with pytest.raises(AssertionError, match=CORRUPTIONS[corrupt]):
        eng.check()


def test_check_passes_after_heavy_use():
    eng = Engine(3, **TINY)
    gen = StreamGen(77)
    for _ in range(20):
        eng.process(gen.chunk(200))
        gen.observe(eng)
        eng.check()


def test_check_detects_crossed_book():
    """Book 0 bids 100, book 1 asks 100; then book 1's whole ask side is
    re-filed under book 0 (every field consistent): book 0 is crossed."""
    eng = Engine(2)
    eng.submit(C.LIMIT, 0, BUY, price=100, qty=5, order_id=1)
    eng.submit(C.LIMIT, 1, SELL, price=100, qty=5, order_id=2)
    eng.check()
    books = eng.table("books")
    for f in (Y.B_NCHK, Y.B_LOFF, Y.B_LCAP, Y.B_NORD, Y.B_NLEV):
        books[[0, 1], f + SELL] = books[[1, 0], f + SELL]
    eng.table("levels")[_level_of(eng, 2), Y.L_BOOK] = 0
    if hasattr(Y, "O_BOOK"):     # layouts that copy the book into the order row
        eng.table("orders")[_slot(eng, 2), Y.O_BOOK] = 0
    with pytest.raises(AssertionError, match="crossed"):
        eng.check()
