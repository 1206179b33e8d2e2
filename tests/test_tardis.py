"""Tardis trades loader (``lob.data.tardis``): the crash-day table of
``../shared/data/README.md`` on the real files (skipped when the shared
data is absent) and malformed-file errors on small files."""
from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest

from lob.data import tardis as T

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
TRADES = DATA / "crash-2025-10-10" / "trades"
NS = 1_000_000_000

# README table: market -> (before, low, low time UTC, drop %).  The README
# rounds the Gemini prices to whole dollars.
README = {
    ("binance-delivery", "ATOMUSD_PERP"): (3.93, 1.055, "21:21:36", -73.2),
    ("binance-delivery", "DOTUSD_PERP"): (3.962, 0.696, "21:20:46", -82.4),
    ("binance-delivery", "FILUSD_PERP"): (2.233, 0.32, "21:22:24", -85.7),
    ("binance-delivery", "AVAXUSD_PERP"): (26.59, 6.02, "21:21:29", -77.4),
    ("binance-delivery", "WIFUSD_PERP"): (0.6652, 0.1252, "21:21:47", -81.2),
    ("binance", "POLUSDT"): (0.2258, 0.1152, "21:24:52", -49.0),
    ("coinbase", "ATOM-USD"): (3.936, 3.56, "21:19:14", -9.6),
    ("coinbase", "DOT-USD"): (3.964, 2.86, "21:18:10", -27.9),
    ("gemini", "BTCUSD"): (116_909, 107_000, "21:26:24", -8.5),
    ("gemini", "ETHUSD"): (4_010, 3_681, "21:14:37", -8.2),
}

_cache: dict = {}


def market(exchange, symbol):
    if not TRADES.is_dir():
        pytest.skip(f"crash-day trade data not found: {TRADES} (../shared/data is absent)")
    key = (exchange, symbol)
    if key not in _cache:
        _cache[key] = T.load_market(exchange, symbol, data_dir=DATA)
    return _cache[key]


HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
ROWS = ("binance-delivery,ATOMUSD_PERP,1760054400536000,1760054400727646,37972787,buy,4.058,2\n"
        "binance-delivery,ATOMUSD_PERP,1760054400536000,1760054400727648,37972788,sell,4.057,1\n"
        "binance-delivery,ATOMUSD_PERP,1760054401000001,1760054401000002,abc-9,unknown,4.06,0\n")


def write(tmp_path, name, text, gz=False):
    p = tmp_path / name
    if gz:
        with gzip.open(p, "wt") as f:
            f.write(text)
    else:
        p.write_text(text)
    return p


# ---------------------------------------------------------------------- real data
@pytest.mark.data
@pytest.mark.parametrize("key", list(README), ids=[f"{e}-{s}" for e, s in README])
def test_readme_crash_table(key):
    before, low, low_time, drop = README[key]
    tr = market(*key)
    s = T.crash_summary(tr)
    tol = 0.5 if key[0] == "gemini" else 1e-9
    assert s.before_price == pytest.approx(before, abs=tol)
    assert s.low_price == pytest.approx(low, abs=tol)
    assert s.low_time == low_time
    assert round(s.drop_pct, 1) == drop
    assert T.utc_str(s.before_ts_ns) < "20:50:00" <= T.utc_str(s.low_ts_ns) < "22:00:00"
    assert (s.exchange, s.symbol) == key


@pytest.mark.data
def test_real_file_fields_and_engines():
    tr = market("binance-delivery", "ATOMUSD_PERP")
    assert isinstance(tr, T.Trades) and tr.dtype == T.TRADE_DTYPE
    assert (tr.exchange, tr.symbol) == ("binance-delivery", "ATOMUSD_PERP")
    assert tr.header.contract_usd == 10.0 and tr.header.path.endswith("ATOMUSD_PERP.csv.gz")
    first = tr[0]
    assert int(first["ts_ns"]) == 1760054400536000 * 1000 and int(first["local_ts_ns"]) == 1760054400727646000
    assert int(first["side"]) == 1 and float(first["price"]) == 4.058 and float(first["amount"]) == 2.0
    assert set(np.unique(tr["side"]).tolist()) <= {-1, 1}
    assert T.notional_usd(tr[:2]).tolist() == [20.0, 10.0]
    # the numpy fallback parses the same
    small = T.market_path("coinbase", "POL-USD", DATA)
    a, b = T.load_trades(small, engine="numpy"), T.load_trades(small)
    assert np.array_equal(a, b) and a.symbol == b.symbol == "POL-USD"
    assert T.notional_usd(a[:1]).tolist() == pytest.approx([0.2363 * 7126.82])


@pytest.mark.data
def test_price_path_agrees_with_crash_summary():
    tr = market("binance-delivery", "DOTUSD_PERP")
    s = T.crash_summary(tr)
    t, close, low, high = T.price_path(tr, "20:45", "22:00", bar="1min")
    assert len(t) == 75 and t[0] == T.day_start_ns(tr) + (20 * 60 + 45) * 60 * NS
    assert np.nanmin(low[5:]) == s.low_price
    assert t[np.nanargmin(low)] <= s.low_ts_ns < t[np.nanargmin(low)] + 60 * NS
    assert close[4] == s.before_price                     # bar 20:49 closes on the last trade before 20:50
    assert (low <= close).all() and (close <= high).all()


def test_market_path_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="is ../shared/data present"):
        T.market_path("binance", "POLUSDT", tmp_path)
    d = tmp_path / "crash-2025-10-10" / "trades"
    d.mkdir(parents=True)
    write(d, "binance_trades_2025-10-10_POLUSDT.csv", HEADER)
    with pytest.raises(FileNotFoundError, match="available: binance POLUSDT"):
        T.market_path("binance", "XYZ", tmp_path)
    assert T.list_markets(tmp_path) == [("binance", "POLUSDT")]
    assert T.market_path("Binance", "polusdt", tmp_path).name == "binance_trades_2025-10-10_POLUSDT.csv"


# ---------------------------------------------------------------------- small files
@pytest.mark.parametrize("engine", ["auto", "numpy"])
@pytest.mark.parametrize("gz", [False, True])
def test_load_small_file(tmp_path, engine, gz):
    p = write(tmp_path, "t.csv.gz" if gz else "t.csv", HEADER + ROWS, gz=gz)
    tr = T.load_trades(p, engine=engine)
    assert len(tr) == 3 and tr.dtype == T.TRADE_DTYPE
    assert tr["ts_ns"].tolist() == [1760054400536000000, 1760054400536000000, 1760054401000001000]
    assert tr["local_ts_ns"][2] == 1760054401000002000
    assert tr["side"].tolist() == [1, -1, 0]
    assert tr["price"].tolist() == [4.058, 4.057, 4.06] and tr["amount"].tolist() == [2.0, 1.0, 0.0]
    assert tr.exchange == "binance-delivery" and tr.path == str(p)


def test_crlf_no_trailing_newline_and_header_only(tmp_path):
    text = (HEADER + ROWS).replace("\n", "\r\n").rstrip("\r\n")
    assert len(T.load_trades(write(tmp_path, "a.csv", text))) == 3
    empty = T.load_trades(write(tmp_path, "b.csv", HEADER))
    assert len(empty) == 0 and empty.exchange is None and empty.dtype == T.TRADE_DTYPE


def test_trades_array_keeps_its_market():
    tr = T.Trades(np.zeros(4, T.TRADE_DTYPE), "gemini", "BTCUSD", "x.csv")
    assert tr[1:].symbol == "BTCUSD" and tr[tr["side"] == 0].exchange == "gemini"
    assert type(tr["price"]) is np.ndarray
    back = pickle.loads(pickle.dumps(tr))
    assert back.symbol == "BTCUSD" and back.path == "x.csv" and np.array_equal(back, tr)
    assert T.notional_usd(tr).tolist() == [0.0] * 4


BAD = [
    # (replace line 3 of the file (data row 2) with ..., message regex)
    ("binance-delivery,ATOMUSD_PERP,1760054400536000,1760054400727648,37972788,sell,4.057\n",
     r"line 3: expected 8 columns .* found 7"),
    ("binance-delivery,ATOMUSD_PERP,1760054400536000,1760054400727648,37972788,sell,4.057,1,9\n",
     r"line 3: expected 8 columns .* found 9"),
    ("binance-delivery,ATOMUSD_PERP,17600544005360x0,1760054400727648,37972788,sell,4.057,1\n",
     r"line 3: column 'timestamp' is not a non-negative integer"),
    ("binance-delivery,ATOMUSD_PERP,1760054400536000,-5,37972788,sell,4.057,1\n",
     r"line 3: column 'local_timestamp' is not a non-negative integer"),
    ("binance-delivery,ATOMUSD_PERP,1760054400536000,1760054400727648,37972788,sell,4.05.7,1\n",
     r"line 3: column 'price' is not a number: '4.05.7'"),
    ("binance-delivery,ATOMUSD_PERP,1760054400536000,1760054400727648,37972788,sell,nan,1\n",
     r"line 3: column 'price' is not a number: 'nan'"),
    ("binance-delivery,ATOMUSD_PERP,1760054400536000,1760054400727648,37972788,sell,4.057,\n",
     r"line 3: column 'amount' is not a number: ''"),
    ("binance-delivery,ATOMUSD_PERP,1760054400536000,1760054400727648,37972788,sell,0,1\n",
     r"line 3: non-positive price 0"),
    ("binance-delivery,ATOMUSD_PERP,1760054400536000,1760054400727648,37972788,sell,4.057,-1\n",
     r"line 3: negative amount -1"),
    ("binance-delivery,ATOMUSD_PERP,1760054400536000,1760054400727648,37972788,SELL,4.057,1\n",
     r"line 3: bad side 'SELL' \(expected buy, sell or unknown\)"),
    ("binance-delivery,ATOMUSD_PERP,1760054400536000,1760054400727648,37972788,,4.057,1\n",
     r"line 3: bad side ''"),
    ("binance-delivery,DOTUSD_PERP,1760054400536000,1760054400727648,37972788,sell,4.057,1\n",
     r"line 3: market binance-delivery,DOTUSD_PERP differs"),
    ("\n", r"line 3: empty line"),
    ("binance-delivery,ATOMUSD_PERP,99999999999999999999,1760054400727648,37972788,sell,4.057,1\n",
     r"line 3: column 'timestamp' 99999999999999999999 us overflows"),
]


@pytest.mark.parametrize("engine", ["auto", "numpy"])
@pytest.mark.parametrize("row,msg", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_malformed_rows_name_file_and_line(tmp_path, engine, row, msg):
    lines = (HEADER + ROWS).splitlines(keepends=True)
    lines[2] = row
    p = write(tmp_path, "bad.csv.gz", "".join(lines), gz=True)
    with pytest.raises(T.TardisFormatError, match=msg) as ei:
        T.load_trades(p, engine=engine)
    assert ei.value.path == str(p) and ei.value.line == 3 and str(p) in str(ei.value)


def test_malformed_files(tmp_path):
    with pytest.raises(T.TardisFormatError, match=r"line 1: header is"):
        T.load_trades(write(tmp_path, "h.csv", "a,b,c\n" + ROWS))
    with pytest.raises(T.TardisFormatError, match=r"line 1: empty file"):
        T.load_trades(write(tmp_path, "e.csv", ""))
    p = tmp_path / "z.csv.gz"
    p.write_bytes(gzip.compress((HEADER + ROWS).encode())[:-12])
    with pytest.raises(T.TardisFormatError, match=r"z.csv.gz: corrupt gzip"):
        T.load_trades(p)
    p = tmp_path / "u.csv"
    p.write_bytes((HEADER + ROWS).encode().replace(b"4.057", b"4.0\xff7"))
    with pytest.raises(T.TardisFormatError, match=r"line 3: invalid UTF-8 byte 0xff"):
        T.load_trades(p)
    with pytest.raises(ValueError, match="engine"):
        T.load_trades(p, engine="polars")


# ---------------------------------------------------------------------- time helpers
def _trades(times_s, prices, day0=1760054400 * NS):
    a = np.zeros(len(prices), T.TRADE_DTYPE)
    a["ts_ns"] = day0 + (np.asarray(times_s, dtype=np.float64) * NS).astype(np.int64)
    a["price"] = prices
    return T.Trades(a, "x", "Y")


def test_time_and_duration_parsing():
    day0 = 1760054400 * NS                               # 2025-10-10 00:00 UTC
    assert T.time_ns("20:50", day0) == day0 + 75_000 * NS
    assert T.time_ns("20:50:01.5", day0) == day0 + 75_001_500_000_000
    assert T.time_ns("2025-10-10T20:50") == day0 + 75_000 * NS
    assert T.time_ns(np.datetime64("2025-10-10T20:50:00", "s")) == day0 + 75_000 * NS
    assert T.time_ns(123) == 123
    assert T.utc_str(day0 + 75_001_500_000_000, 3) == "20:50:01.500"
    assert T.duration_ns("500ms") == NS // 2 and T.duration_ns("1h") == 3600 * NS
    assert T.duration_ns(np.timedelta64(2, "s")) == 2 * NS
    for bad in ("25:61", "1 fortnight"):
        with pytest.raises(ValueError):
            T.time_ns(bad, day0) if ":" in bad else T.duration_ns(bad)
    with pytest.raises(ValueError, match="bad duration"):
        T.duration_ns("60")                                # a string needs its unit
    with pytest.raises(ValueError, match="needs the day"):
        T.time_ns("20:50")


def test_price_path_bars_gaps_and_order():
    #             t (s)                         price
    tr = _trades([1, 2.5, 2.2, 2.9, 7.5, 12], [10.0, 12.0, 9.0, 11.0, 8.0, 99.0])   # ts not sorted
    t, close, low, high = T.price_path(tr, 0 + tr["ts_ns"][0] - NS, tr["ts_ns"][0] + 7 * NS, "2s")
    # bars [0,2) [2,4) [4,6) [6,8) s after day start
    assert close.tolist() == [10.0, 11.0, 11.0, 8.0]
    assert low.tolist() == [10.0, 9.0, 11.0, 8.0] and high.tolist() == [10.0, 12.0, 11.0, 8.0]
    assert (np.diff(t) == 2 * NS).all()
    t, close, low, high = T.price_path(tr, "00:00:03", "00:00:05", "1s")
    assert close.tolist() == [11.0, 11.0] and low.tolist() == [11.0, 11.0]   # carried from before t0
    t, close, low, high = T.price_path(tr, "00:00:00", "00:00:01", "500ms")
    assert np.isnan(close).all() and np.isnan(low).all()
    with pytest.raises(ValueError, match="empty window"):
        T.price_path(tr, "00:00:05", "00:00:05")


def test_crash_summary_synthetic():
    # before 20:50: last by time is 20:49:59 (the tie at 20:49:59 goes to the later row)
    tr = _trades([74_000, 74_999, 74_999, 75_000, 76_000, 77_000, 80_000],
                 [5.0, 4.0, 4.2, 3.0, 2.0, 2.0, 1.0])
    s = T.crash_summary(tr)
    assert s.before_price == 4.2
    assert s.low_price == 2.0 and s.low_time == "21:06:40"     # first time the low printed; 22:13:20 is outside
    s2 = T.crash_summary(tr, low_window=("20:50", "23:00"))
    assert s2.low_price == 1.0 and s2.low_time == "22:13:20"
    assert s.drop == pytest.approx(2.0 / 4.2 - 1) and s.row()["drop_pct"] == round(100 * (2 / 4.2 - 1), 1)
    with pytest.raises(ValueError, match="no trade before"):
        T.crash_summary(tr, before_utc="20:00")
    with pytest.raises(ValueError, match="no trade in"):
        T.crash_summary(tr, low_window=("23:00", "23:30"))


def test_quoted_fields_are_rejected_by_both_engines(tmp_path):
    p = write(tmp_path, "q.csv", HEADER + ROWS.replace(",sell,", ',"sell",'))
    for engine in ("auto", "numpy"):
        with pytest.raises(T.TardisFormatError, match=r"line 3: bad side '\"sell\"'"):
            T.load_trades(p, engine=engine)
