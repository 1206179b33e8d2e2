"""Differential tests: the compiled ``Engine`` must give exactly the outputs
of the pure-Python ``ReferenceEngine`` twin (fills and events row for row,
and every query of the final state), on long random streams, with tiny
starting capacities (every growth path), per-message vs batch entry points,
Hypothesis-generated message lists, and a 4188 -> 1 -> 41880 tick crash.

The stream generator and comparison helpers live in ``conftest.py``.
"""
from __future__ import annotations

import collections

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lob.core import codes as C
from lob.core.engine import Engine
from lob.core.reference import ReferenceEngine

from conftest import (BIG, STREAM_MAX_PRICES, TINY, StreamGen, assert_outputs_equal,
                      assert_same_state, make_stream, submit_row)

AUTO = C.AUTO_ID_BASE


def _pair(max_prices=STREAM_MAX_PRICES, **kw):
    n = len(max_prices)
    return (Engine(n, max_price_ticks=list(max_prices), **kw),
            ReferenceEngine(n, max_price_ticks=list(max_prices)))


def _coverage(events, fills):
    """Sanity of a stream: it exercised what it claims to."""
    kinds = collections.Counter(events["kind"].tolist())
    rej = collections.Counter(events["reason"][events["kind"] == C.EV_REJECTED].tolist())
    cx = collections.Counter(events["reason"][events["kind"] == C.EV_CANCELLED].tolist())
    return kinds, rej, cx, len(fills)


# ======================================================================
# long random streams, processed in chunks of varying size
# ======================================================================
def _run_stream(seed, n, max_prices=STREAM_MAX_PRICES, check_every=1, engine_kw=None):
    rng = np.random.default_rng(10_000 + seed)
    gen = StreamGen(seed, max_prices=max_prices)
    eng, ref = _pair(max_prices, **(engine_kw or {}))
    all_f, all_e = [], []
    done = k = 0
    while done < n:
        size = int(rng.choice((1, 2, 7, 50, 100, 250, 400)))
        msgs = gen.chunk(min(size, n - done))
        out_e = eng.process(msgs)
        out_r = ref.process(msgs)
        assert_outputs_equal(out_e, out_r, f"messages {done}..{done + len(msgs)}")
        done += len(msgs)
        gen.observe(ref, out_r[1])
        k += 1
        if k % check_every == 0:
            assert_same_state(eng, ref)
            eng.check()
            ref.check()
        all_f.append(out_r[0])
        all_e.append(out_r[1])
    assert_same_state(eng, ref)
    eng.check()
    ref.check()
    assert eng.messages_processed == n
    return eng, ref, np.concatenate(all_f), np.concatenate(all_e)


@pytest.mark.parametrize("seed", range(8))
def test_random_stream_vs_twin(seed):
    eng, ref, fills, events = _run_stream(seed, 25_000)
    kinds, rej, cx, nfills = _coverage(events, fills)
    # the stream did what it claims: lots of trading, every outcome seen
    assert nfills > 2000
    assert set(kinds) == {C.EV_ACCEPTED, C.EV_REJECTED, C.EV_MODIFIED, C.EV_CANCELLED,
                          C.EV_FILLED}
    assert set(cx) == {C.CX_USER, C.CX_IOC_REMAINDER, C.CX_FOK_UNFILLABLE, C.CX_STP}
    assert {C.R_BAD_TYPE, C.R_BAD_BOOK, C.R_BAD_SIDE, C.R_BAD_ID, C.R_DUPLICATE_ID,
            C.R_UNKNOWN_ID, C.R_NOT_OWNER, C.R_BAD_PRICE, C.R_BAD_QTY,
            C.R_POST_ONLY_WOULD_TAKE, C.R_BAD_STP} <= set(rej)
    assert ref.n_live() > 50


def test_random_stream_full_price_range():
    """Books with the default max_price_ticks (2**50); the grid edges 1 and
    2**50 rest now and then next to a cluster of prices far from both."""
    _run_stream(7, 20_000, max_prices=(C.DEFAULT_MAX_PRICE_TICKS,) * 3)


def test_random_stream_tiny_price_grids():
    """max_price_ticks 1 (every order at price 1), 64 and 130 (64-tick
    chunk boundaries inside the grid)."""
    eng, ref, fills, events = _run_stream(8, 15_000, max_prices=(1, 64, 130))
    assert len(fills) > 1000


@pytest.mark.slow
def test_random_stream_vs_twin_300k():
    eng, ref, fills, events = _run_stream(99, 300_000, check_every=5)
    assert len(fills) > 30_000


# ======================================================================
# stress: submit() per message, check() on both engines after every one
# ======================================================================
def _stress(seed, n, engine_kw=None, max_prices=STREAM_MAX_PRICES):
    gen = StreamGen(seed, max_prices=max_prices)
    eng, ref = _pair(max_prices, **(engine_kw or {}))
    done = 0
    while done < n:
        msgs = gen.chunk(min(50, n - done))
        evs = []
        for m in msgs:
            ra = submit_row(eng, m)
            rb = submit_row(ref, m)
            eng.check()
            ref.check()
            assert ra == rb, f"message {done}: submit returned {ra} != {rb} for {m.tolist()}"
            out_r = ref.drain()
            assert_outputs_equal(eng.drain(), out_r, f"message {done} {m.tolist()}")
            evs.append(out_r[1])
            done += 1
        gen.observe(ref, np.concatenate(evs))
        assert_same_state(eng, ref)
    assert eng.messages_processed == n


@pytest.mark.parametrize("seed", range(4))
def test_stress_submit_check_every_message(seed):
    _stress(100 + seed, 5000)


def test_stress_submit_tiny_capacities():
    _stress(200, 5000, engine_kw=TINY)


@pytest.mark.slow
def test_stress_submit_check_every_message_long():
    _stress(300, 100_000)


# ======================================================================
# process() of a whole stream == submit() per message == chunked process()
# ======================================================================
@pytest.mark.parametrize("seed", range(2))
def test_process_whole_equals_submit_each(seed):
    msgs = make_stream(500 + seed, 20_000)
    a, ref = _pair()
    out_a = a.process(msgs)
    out_r = ref.process(msgs)
    assert_outputs_equal(out_a, out_r, "process(all) vs twin")

    b, _ = _pair()
    ids = [submit_row(b, m) for m in msgs]
    assert_outputs_equal(b.drain(), out_a, "submit each vs process(all)")

    # submit() with a drain() now and then, and a process() in between
    c, _ = _pair()
    parts_f, parts_e = [], []
    rng = np.random.default_rng(seed)
    i = 0
    while i < len(msgs):
        k = int(rng.integers(1, 300))
        if rng.random() < 0.5:
            for m in msgs[i:i + k]:
                submit_row(c, m)
            if rng.random() < 0.5:
                f, e = c.drain()
                parts_f.append(f)
                parts_e.append(e)
        else:
            # process() returns only its own rows; earlier submit rows stay
            # queued for drain(), so take them first to keep the order
            f, e = c.drain()
            parts_f.append(f)
            parts_e.append(e)
            f, e = c.process(msgs[i:i + k])
            parts_f.append(f)
            parts_e.append(e)
        i += k
    f, e = c.drain()
    parts_f.append(f)
    parts_e.append(e)
    assert_outputs_equal((np.concatenate(parts_f), np.concatenate(parts_e)), out_a,
                         "mixed submit/process vs process(all)")

    # submit() returns the id the twin returns
    ref2 = ReferenceEngine(3, max_price_ticks=list(STREAM_MAX_PRICES))
    assert ids == [submit_row(ref2, m) for m in msgs]
    for eng in (a, b, c):
        assert_same_state(eng, ref)
        eng.check()
        assert eng.messages_processed == len(msgs)


def test_process_matrix_input_equals_records():
    msgs = make_stream(600, 5000)
    a, _ = _pair()
    b, _ = _pair()
    assert_outputs_equal(a.process(msgs), b.process(C.as_matrix(msgs).copy()))
    assert_same_state(a, b)


# ======================================================================
# tiny starting capacities: every growth path, many times
# ======================================================================
@pytest.mark.parametrize("seed", range(2))
def test_tiny_capacities_equal_big_and_twin(seed):
    msgs = make_stream(700 + seed, 15_000)
    tiny, ref = _pair(**TINY)
    tiny1, _ = _pair(**TINY)        # one message per process() call at first
    tiny_s, _ = _pair(**TINY)       # submit() per message (fill_capacity=1 buffers)
    big, _ = _pair(**BIG)
    out_r = ref.process(msgs)
    assert_outputs_equal(big.process(msgs), out_r, "big vs twin")
    rng = np.random.default_rng(seed)
    fs, es = [], []
    i = 0
    while i < len(msgs):
        k = int(rng.integers(1, 200))
        f, e = tiny.process(msgs[i:i + k])
        fs.append(f)
        es.append(e)
        i += k
    assert_outputs_equal((np.concatenate(fs), np.concatenate(es)), out_r, "tiny chunks vs twin")
    fs, es = [], []
    for j in range(len(msgs)):
        f, e = tiny1.process(msgs[j:j + 1]) if j < 3000 else (None, None)
        if f is None:
            f, e = tiny1.process(msgs[j:])
            fs.append(f)
            es.append(e)
            break
        fs.append(f)
        es.append(e)
    assert_outputs_equal((np.concatenate(fs), np.concatenate(es)), out_r, "tiny single vs twin")
    for m in msgs:
        submit_row(tiny_s, m)
    assert_outputs_equal(tiny_s.drain(), out_r, "tiny submit vs twin")
    for eng in (tiny, tiny1, tiny_s, big):
        assert_same_state(eng, ref)
        eng.check()
    # the tiny engines really grew (orders, levels, chunks, hash, ladder, buffers)
    for eng in (tiny, tiny1, tiny_s):
        assert eng.grow_count >= 20, eng.grow_count
    assert big.grow_count == 0


def test_tiny_capacities_growth_each_step():
    """Grow step by step with check() and a full comparison after every
    message, on a stream that spreads orders over many 64-tick chunks."""
    mp = (300, 100_000, 1 << 40)
    gen = StreamGen(800, max_prices=mp, far_rate=0.4, far=5000)
    eng, ref = _pair(mp, **TINY)
    grown = 0
    for _ in range(40):
        for m in gen.chunk(50):
            g0 = eng.grow_count
            assert submit_row(eng, m) == submit_row(ref, m)
            eng.check()
            if eng.grow_count != g0:
                grown += 1
                assert_same_state(eng, ref, levels=1000, depth_bps=(10, 10_000))
        assert_outputs_equal(eng.drain(), ref.drain())
        gen.observe(ref)
    assert grown >= 20
    assert_same_state(eng, ref, levels=1000)


# ======================================================================
# Hypothesis: short message lists, mostly valid, narrow prices, small id pool
# ======================================================================
HMAXP = 110


def _weighted(pairs):
    """A strategy drawing from (weight, strategy) pairs."""
    table = []
    for w, s in pairs:
        table += [s] * w
    return st.integers(0, len(table) - 1).flatmap(lambda i: table[i])


_types = _weighted([(30, st.just(C.LIMIT)), (6, st.just(C.MARKET)), (8, st.just(C.IOC)),
                    (6, st.just(C.FOK)), (8, st.just(C.POST_ONLY)), (14, st.just(C.CANCEL)),
                    (14, st.just(C.MODIFY)), (8, st.just(C.REDUCE)),
                    (1, st.sampled_from([0, 9, -1]))])
_books = _weighted([(20, st.integers(0, 1)), (1, st.sampled_from([-1, 2]))])
_sides = _weighted([(30, st.integers(0, 1)), (1, st.sampled_from([2, -1]))])
_prices = _weighted([(30, st.integers(95, 105)),
                     (1, st.sampled_from([0, 1, HMAXP, HMAXP + 1, -3, C.PRICE_OFF_GRID]))])
_qtys = _weighted([(25, st.integers(1, 6)), (4, st.integers(7, 40)),
                   (1, st.sampled_from([0, -1, C.QTY_OFF_LOT, C.MAX_QTY, C.MAX_QTY + 1]))])
_ids = _weighted([(8, st.just(0)), (10, st.integers(1, 6)),
                  (8, st.integers(AUTO, AUTO + 8)), (1, st.sampled_from([-1, AUTO - 1]))])
_accounts = st.integers(0, 2)
_stps = _weighted([(20, st.integers(0, 3)), (1, st.sampled_from([4, -1]))])
_msg = st.tuples(st.integers(0, 3), _types, _books, _sides, _ids, _prices, _qtys,
                 _accounts, _stps)
_msgs = st.lists(_msg, min_size=1, max_size=60)

HSETTINGS = settings(max_examples=400, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow])


def _as_msgs(rows):
    m = np.array(rows, dtype=C.MSG_DTYPE)
    m["ts"] = np.cumsum(m["ts"])
    return m


def _hyp_compare(rows, engine_kw):
    msgs = _as_msgs(rows)
    eng = Engine(2, max_price_ticks=HMAXP, **engine_kw)
    ref = ReferenceEngine(2, max_price_ticks=HMAXP)
    for i, m in enumerate(msgs):
        assert submit_row(eng, m) == submit_row(ref, m), f"message {i}"
        eng.check()
        ref.check()
        assert_outputs_equal(eng.drain(), ref.drain(), f"message {i} {m.tolist()}")
    assert_same_state(eng, ref)


@HSETTINGS
@given(_msgs)
def test_hypothesis_engine_equals_twin(rows):
    _hyp_compare(rows, {})


@HSETTINGS
@given(_msgs)
def test_hypothesis_tiny_engine_equals_twin(rows):
    _hyp_compare(rows, TINY)


@HSETTINGS
@given(_msgs, st.lists(st.integers(1, 20), min_size=1, max_size=10))
def test_hypothesis_process_equals_submit(rows, cuts):
    msgs = _as_msgs(rows)
    ref = ReferenceEngine(2, max_price_ticks=HMAXP)
    out_r = ref.process(msgs)
    a = Engine(2, max_price_ticks=HMAXP, **TINY)
    fs, es = [], []
    i = 0
    for k in cuts * (len(msgs) // len(cuts) + 1):
        if i >= len(msgs):
            break
        f, e = a.process(msgs[i:i + k])
        fs.append(f)
        es.append(e)
        i += k
    assert_outputs_equal((np.concatenate(fs), np.concatenate(es)), out_r)
    assert_same_state(a, ref)
    a.check()


# ======================================================================
# crash: 4188 ticks -> 1 tick -> 41880 ticks in one run, memory bounded
# ======================================================================
def _crash_stream(seed=0, n=60_000, live_target=2000):
    """One book; a market-making crowd quoting around a mid that holds at
    4188, crashes to 1 and rallies to 41880, with aggressive flow in the
    direction of the move.  Every order has a fresh sparse external id; the
    oldest ids are cancelled to keep about ``live_target`` orders live."""
    rng = np.random.default_rng(seed)
    t1, t2 = n // 5, 2 * n // 5
    lo_mid, start, top = 1.0, 4188.0, 41880.0
    rows = []
    ids = collections.deque()
    ts = 0
    next_id = 17
    for i in range(n):
        if i < t1:
            mid = start
        elif i < t2:
            mid = start * (lo_mid / start) ** ((i - t1) / (t2 - t1))
        else:
            mid = lo_mid * (top / lo_mid) ** ((i - t2) / (n - 1 - t2))
        trend = -1 if t1 <= i < t2 else (1 if i >= t2 else 0)
        ts += int(rng.integers(1, 50))
        acct = int(rng.integers(0, 8))
        u = rng.random()
        if len(ids) > live_target and u < 0.5:
            rows.append((ts, C.CANCEL, 0, 0, ids.popleft(), 0, 0, -1, 0))  # owner below
            continue
        if u < 0.9:           # passive quote within 2% of mid
            side = int(rng.integers(2))
            off = mid * rng.uniform(0.0, 0.02) + int(rng.integers(0, 3))
            price = mid - off if side == C.BUY else mid + off
            price = max(1, int(round(price)))
            next_id += int(rng.integers(1, 10**9))
            ids.append(next_id)
            typ = C.POST_ONLY if rng.random() < 0.2 else C.LIMIT
            rows.append((ts, typ, 0, side, next_id, price, int(rng.integers(1, 20)), acct,
                         int(rng.choice((0, 0, 1, 2, 3)))))
        else:                 # aggressive flow, mostly with the trend
            side = C.BUY if (rng.random() < 0.5 + 0.3 * trend) else C.SELL
            typ = int(rng.choice((C.MARKET, C.IOC, C.IOC, C.LIMIT, C.FOK)))
            lim = mid * (1.03 if side == C.BUY else 0.97)
            price = max(1, int(round(lim)))
            rows.append((ts, typ, 0, side, 0, price, int(rng.integers(1, 40)), acct,
                         int(rng.choice((0, 0, 1, 2, 3)))))
    msgs = np.array(rows, dtype=C.MSG_DTYPE)
    # the owner of each cancelled id is the account that placed it
    owner = {int(r["order_id"]): int(r["account"]) for r in msgs[msgs["type"] != C.CANCEL]}
    cx = np.nonzero(msgs["type"] == C.CANCEL)[0]
    msgs["account"][cx] = [owner[int(i)] for i in msgs["order_id"][cx]]
    return msgs


def test_crash_4188_to_1_to_41880_memory_bounded():
    msgs = _crash_stream()
    eng = Engine(1, max_price_ticks=10**6)
    ref = ReferenceEngine(1, max_price_ticks=10**6)
    max_live = max_bytes = 0
    fills = []
    for i in range(0, len(msgs), 1000):
        chunk = msgs[i:i + 1000]
        out_e, out_r = eng.process(chunk), ref.process(chunk)
        assert_outputs_equal(out_e, out_r, f"crash messages {i}..{i + len(chunk)}")
        fills.append(out_r[0])
        assert_same_state(eng, ref, depth_bps=(1, 100, 10_000))
        eng.check()
        max_live = max(max_live, eng.n_live())
        max_bytes = max(max_bytes, eng.arena.nbytes)
    fills = np.concatenate(fills)
    # the run really went from ~4188 down to 1 tick and up to ~41880
    assert fills["price"][:len(fills) // 10].max() >= 4100
    assert fills["price"].min() <= 2
    assert fills["price"].max() >= 40_000
    ref.check()
    assert 1500 <= max_live <= 2600, max_live
    # memory follows live orders/levels, not the 41880-tick price range
    assert max_bytes < 2 * 2**20, f"arena grew to {max_bytes} bytes for {max_live} live orders"


def test_process_with_reused_out_buffers():
    """process(msgs, out=buffer) gives the rows process() gives; a buffer big
    enough is written in place, a too-small one is replaced (never overrun)."""
    from lob.core.engine import Engine
    msgs = make_stream(650, 10_000)
    a, ref = _pair()
    big = Engine.output_buffer(5000)
    small = np.zeros(54, np.int64)
    rng = np.random.default_rng(3)
    i = 0
    while i < len(msgs):
        k = int(rng.integers(1, 400))
        chunk = msgs[i:i + k]
        out_r = ref.process(chunk)
        use_big = rng.random() < 0.5
        f, e = a.process(chunk, out=big if use_big else small)
        assert f.dtype == C.FILL_DTYPE and e.dtype == C.EVENT_DTYPE
        if use_big:
            assert np.shares_memory(f, big) and np.shares_memory(e, big)
        assert_outputs_equal((f.copy(), e.copy()), out_r, f"messages {i}..{i + k}")
        i += k
    assert_same_state(a, ref)
    a.check()
