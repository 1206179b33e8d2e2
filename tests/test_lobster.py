"""LOBSTER loader, replay and ``lob lobster`` command.

The real sample files live in ``../shared/data/lobster`` (relative to the
repository root); the tests that need them skip when it is absent."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lob import cli
from lob.core import codes as C
from lob.core.engine import Engine
from lob.data.lobster import (LobsterFormatError, _slow_messages, _read_text, load_messages,
                              load_orderbook, load_pair)
from lob.replay.lobster import replay, to_engine_messages

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "lobster"
AMZN = ("AMZN_2012-06-21_34200000_57600000_message_1.csv", "AMZN_2012-06-21_34200000_57600000_orderbook_1.csv")
GOOG = ("GOOG_2012-06-21_34200000_57600000_message_1.csv", "GOOG_2012-06-21_34200000_57600000_orderbook_1.csv")
AAPL10 = ("AAPL_2012-06-21_34200000_57600000_message_10_first999.csv",
          "AAPL_2012-06-21_34200000_57600000_orderbook_10_first999.csv")
AAPL50 = "AAPL_2012-06-21_34200000_37800000_message_50.csv"


def need_data(*names):
    missing = [n for n in names if not (DATA / n).is_file()]
    if missing:
        pytest.skip(f"LOBSTER sample data not found: {DATA / missing[0]} (../shared/data is absent)")
    return [DATA / n for n in names]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD_MSG = ("34200.004241176,1,16113575,18,5853300,1\n"
            "34200.00426064,1,16113584,18,5853200,1\n"
            "34200.1,3,16113575,18,5853300,1\n")


# ---------------------------------------------------------------------- loader
def test_load_messages_columns(tmp_path):
    m = load_messages(write(tmp_path, "m.csv", GOOD_MSG))
    assert len(m) == 3
    assert m.time_ns.tolist() == [34200004241176, 34200004260640, 34200100000000]
    assert m.type.tolist() == [1, 1, 3]
    assert m.order_id.tolist() == [16113575, 16113584, 16113575]
    assert m.size.tolist() == [18, 18, 18]
    assert m.price.tolist() == [5853300, 5853200, 5853300]
    assert m.direction.tolist() == [1, 1, 1]
    for col in (m.time_ns, m.type, m.order_id, m.size, m.price, m.direction):
        assert col.dtype == np.int64


def test_no_trailing_newline_and_crlf(tmp_path):
    a = load_messages(write(tmp_path, "a.csv", GOOD_MSG.rstrip("\n")))
    b = load_messages(write(tmp_path, "b.csv", GOOD_MSG.replace("\n", "\r\n")))
    c = load_messages(write(tmp_path, "c.csv", GOOD_MSG + "\n\n"))
    for x in (a, b, c):
        assert x.order_id.tolist() == [16113575, 16113584, 16113575]
    ob = load_orderbook(write(tmp_path, "o.csv", "5859400,200,5853300,18\n5859400,200,5853300,36"))
    assert ob.data.tolist() == [[5859400, 200, 5853300, 18], [5859400, 200, 5853300, 36]]
    assert ob.data.dtype == np.int64 and ob.levels == 1


def test_time_is_exact_ns(tmp_path):
    m = load_messages(write(tmp_path, "m.csv", "57599.999999999,1,1,1,100,1\n0.000000001,5,0,1,150,-1\n"))
    assert m.time_ns.tolist() == [57599999999999, 1]


@pytest.mark.parametrize("line3, what", [
    ("34200.2,1,5,10,5853300", "expected 6 columns"),
    ("34200.2,1,5,10,5853300,1,7", "expected 6 columns"),
    ("34200.2,1,5,ten,5853300,1", "column 'size' is not an integer"),
    ("34200.2,1,5,1.5,5853300,1", "column 'size' is not an integer"),
    ("noon,1,5,10,5853300,1", "column 'time'"),
    ("34200.2,8,5,10,5853300,1", "bad event type 8"),
    ("34200.2,0,5,10,5853300,1", "bad event type 0"),
    ("34200.2,1,5,10,5853300,0", "bad direction 0"),
    ("34200.2,1,5,-10,5853300,1", "negative size -10"),
    ("34200.2,1,0,10,5853300,1", "order id 0 is not positive"),
    ("34200.2,4,5,10,-5,1", "non-positive price"),
    ("", "empty line"),
])
def test_message_errors_name_file_and_line(tmp_path, line3, what):
    text = GOOD_MSG.splitlines()
    p = write(tmp_path, "bad_message.csv", "\n".join(text[:2] + [line3] + text[2:]) + "\n")
    with pytest.raises(LobsterFormatError) as ei:
        load_messages(p)
    msg = str(ei.value)
    assert str(p) in msg and "line 3" in msg and what in msg, msg
    assert ei.value.line == 3 and ei.value.path == str(p)


def test_halt_and_cross_rows_load(tmp_path):
    m = load_messages(write(tmp_path, "m.csv", GOOD_MSG + "34200.2,7,0,0,-1,-1\n34200.3,6,-1,500,5853300,1\n"))
    assert m.type.tolist()[-2:] == [7, 6]


def test_non_ascii_byte(tmp_path):
    p = tmp_path / "m.csv"
    p.write_bytes(GOOD_MSG.encode() + b"34200.2,1,5,10,58533\xe900,1\n")
    with pytest.raises(LobsterFormatError, match=r"line 4: non-ASCII"):
        load_messages(p)


def test_empty_file(tmp_path):
    with pytest.raises(LobsterFormatError, match="no rows"):
        load_messages(write(tmp_path, "m.csv", "\n"))


BOOK2 = "5859400,200,5853300,18,5859800,200,5853000,150\n"


@pytest.mark.parametrize("row, what", [
    ("5859400,200,5853300,18,5859800,200,5853000", "7 columns, expected 8"),
    ("5859400,200,5853300,18,5859800,200,5853000,150,1", "9 columns, expected 8"),
    ("5859400,200,5853300,x,5859800,200,5853000,150", "'bid_size_1' is not an integer"),
    ("5859400,200,5853300,-18,5859800,200,5853000,150", "negative bid size"),
    ("5853300,200,5859400,18,5859800,200,5853000,150", "crossed book"),
    ("5859800,200,5853300,18,5859400,200,5853000,150", "ask levels out of order"),
    ("5859400,200,5853300,18,5859800,200,5853300,150", "bid levels out of order"),
    ("9999999999,5,5853300,18,9999999999,0,5853000,150", "empty ask level 1 has size 5"),
    ("9999999999,0,5853300,18,5859800,200,5853000,150", "ask level 2 follows an empty level"),
])
def test_orderbook_errors_name_file_and_line(tmp_path, row, what):
    p = write(tmp_path, "bad_orderbook.csv", BOOK2 + BOOK2 + row + "\n" + BOOK2)
    with pytest.raises(LobsterFormatError) as ei:
        load_orderbook(p)
    msg = str(ei.value)
    assert str(p) in msg and "line 3" in msg and what in msg, msg


def test_orderbook_width_not_multiple_of_4(tmp_path):
    p = write(tmp_path, "ob.csv", "1,2,3\n1,2,3\n")
    with pytest.raises(LobsterFormatError, match=r"line 1: orderbook row has 3 columns, expected a multiple of 4"):
        load_orderbook(p)


def test_row_count_mismatch_names_both_files(tmp_path):
    m = write(tmp_path, "msg.csv", GOOD_MSG)
    o = write(tmp_path, "book.csv", "5859400,200,5853300,18\n" * 2)
    with pytest.raises(LobsterFormatError) as ei:
        load_pair(m, o)
    assert str(m) in str(ei.value) and str(o) in str(ei.value) and "2 orderbook rows but 3 messages" in str(ei.value)


def test_fast_and_slow_parsers_agree():
    (path,) = need_data(AAPL10[0])
    fast = load_messages(path)
    slow = _slow_messages(path, _read_text(path))
    for col in ("time_ns", "type", "order_id", "size", "price", "direction"):
        assert np.array_equal(getattr(fast, col), getattr(slow, col)), col


@pytest.mark.data
def test_large_file_loads_fast():
    import time
    (path,) = need_data(AAPL50)
    load_messages(path)                      # warm the file cache
    t = time.perf_counter()
    m = load_messages(path)
    dt = time.perf_counter() - t
    assert len(m) == 91997
    assert dt < 1.0, f"loading {path.name} took {dt:.3f} s"


# ---------------------------------------------------------------------- hand-made pair
# Level 1.  Hidden truth before message 0: asks 101.00 x 100 (id 1),
# 101.50 x 60 (id 4); bids 100.00 x 50 (id 2).  Comments give what happens
# outside the window, which the message file does not show.
TINY_MSG = """\
34200.000000001,1,10,10,1005000,1
34200.000000002,1,11,5,1005000,1
34200.000000003,1,12,7,1006000,1
34200.000000004,3,12,7,1006000,1
34200.000000005,4,11,5,1005000,1
34200.000000006,4,13,3,1005000,1
34200.000000007,1,14,9,1002000,1
34200.000000008,1,15,4,1003000,1
34200.000000009,3,15,4,1003000,1
34200.000000010,5,0,10,1004950,1
34200.000000011,7,0,0,-1,-1
34200.000000012,6,-1,500,1010000,-1
34200.000000013,2,1,30,1010000,-1
34200.000000014,4,1,70,1010000,-1
34200.000000015,1,16,25,1009000,-1
34200.000000016,4,16,25,1009000,-1
"""
# 0: bid 100.50 x 10 enters above the window (seed: the ask only)
# 2: 100.60 takes the window; while 100.50 is hidden: id 10 cancelled, id 13 (3) added
# 3: 100.50 re-enters with 5 + 3: dead id 10 removed, 3 lots of synthetic depth behind id 11
# 4: execution of id 11: must hit it (price-time)     5: unknown id 13 consumes the synthetic 3
# 5: 100.50 empties, 100.00 x 50 enters from below: new level
# 7..8: 100.30 takes the window; 100.20 (id 14) is cancelled while hidden
# 8: 100.00 re-enters; 100.20 would sit above it: vanished level removed
# 9-11: hidden execution (half tick), halt, cross: no visible change
# 12-13: seed order id 1 partially cancelled, then executed: 101.50 x 60 enters
TINY_BOOK = """\
1010000,100,1005000,10
1010000,100,1005000,15
1010000,100,1006000,7
1010000,100,1005000,8
1010000,100,1005000,3
1010000,100,1000000,50
1010000,100,1002000,9
1010000,100,1003000,4
1010000,100,1000000,50
1010000,100,1000000,50
1010000,100,1000000,50
1010000,100,1000000,50
1010000,70,1000000,50
1015000,60,1000000,50
1009000,25,1000000,50
1015000,60,1000000,50
"""


@pytest.fixture
def tiny(tmp_path):
    return write(tmp_path, "tiny_message_1.csv", TINY_MSG), write(tmp_path, "tiny_orderbook_1.csv", TINY_BOOK)


def test_tiny_pair_replays_exactly(tiny):
    m, o = load_pair(*tiny)
    r = replay(m, o, check_engine=True)
    assert (r.rows_checked, r.rows_equal, r.first_mismatch) == (16, 16, None), r.first_mismatch_detail
    assert r.levels == 1
    assert (r.seed_levels, r.seed_lots) == (1, 100)
    rc = r.reconciliations
    assert rc["dead_removed"] == (1, 10)
    assert rc["depth_added"] == (1, 3)
    assert rc["levels_added"] == (2, 110)
    assert rc["levels_removed"] == (1, 9)
    assert rc["forced_removed"] == (0, 0)
    assert r.by_type == {1: 6, 2: 1, 3: 2, 4: 4, 5: 1, 6: 1, 7: 1}
    assert (r.executions, r.exec_known, r.exec_hits, r.exec_unknown) == (4, 2, 2, 2)
    assert r.hit_rate == 1.0
    assert r.unknown_lots_unmatched == 0


def test_tiny_pair_without_orderbook(tiny):
    r = replay(load_messages(tiny[0]))
    assert r.rows_checked == 0 and r.all_equal and r.levels == 0
    # without the orderbook nothing tells that id 10 left while hidden, so the
    # execution of id 11 meets it first: a miss, settled so the book follows
    assert (r.exec_known, r.exec_hits, r.priority_repairs) == (2, 1, 1)
    assert r.messages == 16 and r.messages_per_s > 0


def test_mismatch_inside_the_window_is_not_reconciled(tmp_path, tiny):
    # row 4 claims 4 lots at 100.50, which was in the window before message 4:
    # that is a mismatch, never a reconciliation
    rows = TINY_BOOK.splitlines()
    rows[4] = "1010000,100,1005000,4"
    bad = write(tmp_path, "bad_orderbook_1.csv", "\n".join(rows) + "\n")
    m, o = load_pair(tiny[0], bad)
    r = replay(m, o)
    assert r.first_mismatch == 4 and r.rows_equal == 15 and not r.all_equal
    assert "line 5" in r.first_mismatch_detail
    assert cli.main(["lobster", str(tiny[0]), str(bad)]) == 1


def test_max_rows(tiny):
    m, o = load_pair(*tiny)
    r = replay(m, o, max_rows=5)
    assert (r.messages, r.rows_checked, r.rows_equal) == (5, 5, 5)


def test_off_tick_price_names_line(tmp_path):
    p = write(tmp_path, "m.csv", GOOD_MSG + "34200.2,1,77,10,5853350,1\n")
    with pytest.raises(LobsterFormatError, match=r"line 4: price 5853350 is not a multiple of the tick"):
        replay(load_messages(p))


def test_to_engine_messages(tiny):
    m = load_messages(tiny[0])
    s = to_engine_messages(m)
    assert s.dtype == C.MSG_DTYPE
    assert len(s) == 13                                   # types 5-7 dropped
    assert s["type"].tolist()[:6] == [C.LIMIT, C.LIMIT, C.LIMIT, C.CANCEL, C.IOC, C.IOC]
    assert s["price"].tolist()[:2] == [10050, 10050]
    assert s[4]["side"] == C.SELL and s[4]["order_id"] == 0 and s[4]["qty"] == 5   # hits a resting buy
    assert s[9]["type"] == C.REDUCE and s[9]["order_id"] == 1 and s[9]["qty"] == 30
    assert s["ts"][0] == 34200000000001
    fills, events = Engine(1).process(s)
    assert len(events) and len(fills)


# ---------------------------------------------------------------------- command line
def test_cli_tiny(tiny, capsys):
    assert cli.main(["lobster", str(tiny[0]), str(tiny[1])]) == 0
    out = capsys.readouterr().out
    assert "rows checked        16" in out and "rows equal          16" in out and "messages/s" in out
    assert cli.main(["lobster", str(tiny[0]), str(tiny[1]), "--json", "--max-rows", "3"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["rows_checked"] == 3 and d["rows_equal"] == 3 and d["messages_per_s"] > 0
    assert "reconciliations" in d and "hit_rate" in d


def test_cli_malformed_file(tmp_path, capsys):
    p = write(tmp_path, "m.csv", GOOD_MSG + "34200.2,9,5,10,5853300,1\n")
    assert cli.main(["lobster", str(p)]) == 2
    err = capsys.readouterr().err
    assert str(p) in err and "line 4" in err


# ---------------------------------------------------------------------- real data
def _real(pair, record_property, capsys=None, **kw):
    msg, book = need_data(*pair)
    m, o = load_pair(msg, book)
    r = replay(m, o, **kw)
    record_property("rows_equal", f"{r.rows_equal}/{r.rows_checked}")
    record_property("hit_rate", f"{r.exec_hits}/{r.exec_known}")
    record_property("messages_per_s", round(r.messages_per_s))
    print(f"{msg.name}: rows equal {r.rows_equal}/{r.rows_checked}, hit rate {r.exec_hits}/{r.exec_known} "
          f"= {r.hit_rate:.4f}, reconciliations {r.reconciliations}, {r.messages_per_s:,.0f} msg/s")
    assert r.rows_checked == len(m)
    assert r.rows_equal == r.rows_checked, r.first_mismatch_detail
    assert r.recon_forced_removed == 0 and r.unknown_lots_unmatched == 0 and r.exec_short == 0
    assert r.delete_size_mismatch == 0 and r.adds_rejected == 0
    return r


@pytest.mark.data
def test_amzn_level1_full_day(record_property):
    r = _real(AMZN, record_property)
    assert r.exec_known > 5000 and r.hit_rate > 0.99


@pytest.mark.data
def test_goog_level1_full_day(record_property):
    r = _real(GOOG, record_property)
    assert r.exec_known > 5000 and r.hit_rate > 0.99


@pytest.mark.data
def test_aapl_level10_excerpt(record_property):
    r = _real(AAPL10, record_property, check_engine=True)
    assert r.levels == 10
    assert r.exec_known > 90 and r.hit_rate == 1.0


@pytest.mark.data
def test_aapl_level50_without_orderbook(record_property):
    (path,) = need_data(AAPL50)
    r = replay(load_messages(path))
    record_property("hit_rate", f"{r.exec_hits}/{r.exec_known}")
    record_property("messages_per_s", round(r.messages_per_s))
    print(f"{path.name}: hit rate {r.exec_hits}/{r.exec_known} = {r.hit_rate:.4f}, {r.messages_per_s:,.0f} msg/s")
    assert r.messages == 91997 and r.rows_checked == 0
    assert r.exec_known > 4000 and r.hit_rate > 0.99
    assert r.adds_rejected == 0 and r.exec_short == 0


@pytest.mark.data
@pytest.mark.parametrize("pair", [AMZN, GOOG, AAPL10], ids=["AMZN", "GOOG", "AAPL10"])
def test_cli_exit_code_real(pair, capsys):
    msg, book = need_data(*pair)
    assert cli.main(["lobster", str(msg), str(book), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["rows_equal"] == d["rows_checked"] > 0 and d["all_equal"]


@pytest.mark.data
def test_cli_without_orderbook_real(capsys):
    (path,) = need_data(AAPL50)
    assert cli.main(["lobster", str(path), "--max-rows", "20000"]) == 0
    out = capsys.readouterr().out
    assert "messages            20000" in out and "hits" in out and "messages/s" in out
