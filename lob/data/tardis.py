"""Loader for Tardis trade files (tardis.dev "trades" CSV datasets).

One row per trade, eight comma-separated columns after a header line::

    exchange,symbol,timestamp,local_timestamp,id,side,price,amount

``timestamp`` is the exchange's time of the trade and ``local_timestamp``
the time Tardis received it, both integer **microseconds** since the Unix
epoch (UTC).  ``side`` is the *taker* side: ``buy`` (the aggressor bought,
lifting an ask), ``sell``, or ``unknown`` where the venue does not say.
``price`` is in quote currency per unit; ``amount`` is in base units, except
for Binance coin-margined perpetuals (``binance-delivery``) where it is a
number of contracts of a fixed USD value (10 USD for the alts, 100 USD for
BTC): see :func:`notional_usd`.  Rows come in ``local_timestamp`` order; the
exchange timestamps may step back a little, so functions here that need time
order sort stably by ``ts_ns``.

:func:`load_trades` returns a :class:`Trades` array (a numpy structured array
with ``exchange``, ``symbol`` and ``path`` attributes) of :data:`TRADE_DTYPE`:
``ts_ns`` and ``local_ts_ns`` (int64 ns since the epoch), ``side`` (int8,
+1 buy taker, -1 sell taker, 0 unknown), ``price`` and ``amount`` (float64,
units as in the file).  The trade ``id`` is not kept (on some venues it is
not a number).

Parsing is vectorised (pandas' C reader when pandas is installed, else
``np.loadtxt``; the 300k-row, 22 MB POLUSDT file parses in about 0.3 s with
pandas).  When the fast path fails or a vectorised check finds a bad row, a
slow line-by-line parser walks the file to find the first offending line and
:class:`TardisFormatError` names the file and the 1-based line number (line
1 is the header).  Gzip files are recognised by their magic bytes.

The crash day data of this project lives in
``../shared/data/crash-2025-10-10/trades`` (relative to the repository
root); :func:`load_market` resolves a file there, and :func:`crash_summary`
reproduces the table of ``../shared/data/README.md``.
"""
from __future__ import annotations

from .errors import DataFormatError

import csv
import gzip
import io
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

COLUMNS = ("exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price", "amount")

#: one trade: times in ns since the epoch (UTC), side +1 buy / -1 sell taker
#: (0 unknown), price and amount as in the file
TRADE_DTYPE = np.dtype([("ts_ns", np.int64), ("local_ts_ns", np.int64), ("side", np.int8),
                        ("price", np.float64), ("amount", np.float64)])

BUY, SELL, UNKNOWN = 1, -1, 0
_SIDES = {"buy": BUY, "sell": SELL, "unknown": UNKNOWN}

NS_PER_US = 1_000
NS_PER_S = 1_000_000_000
DAY_NS = 86_400 * NS_PER_S
_MAX_US = (2**63 - 1) // NS_PER_US          # largest microsecond time that fits int64 ns

#: USD value of one contract of a Binance coin-margined perpetual
BINANCE_DELIVERY_CONTRACT_USD = 10.0
BINANCE_DELIVERY_BTC_CONTRACT_USD = 100.0

#: the crash-day files, relative to the shared data directory
CRASH_DAY = "2025-10-10"
CRASH_TRADES_DIR = Path("crash-2025-10-10") / "trades"

#: largest number of bars :func:`price_path` builds (a guard against a unit slip)
MAX_BARS = 50_000_000


class TardisFormatError(DataFormatError):
    """A Tardis file is malformed.  ``path`` and ``line`` (1-based; line 1
    is the header; ``None`` when the problem is not one line) name the
    place."""


@dataclass(frozen=True)
class TardisHeader:
    """What a trade file is about: ``exchange`` and ``symbol`` as in the file
    (``None`` for a file with no rows), ``path`` it was read from, and
    ``contract_usd``: USD value of one unit of ``amount`` for contract-sized
    markets (Binance coin-margined perpetuals), ``None`` when ``amount`` is
    in base units."""

    exchange: str | None
    symbol: str | None
    path: str
    contract_usd: float | None = None

    @property
    def market(self) -> str:
        return f"{self.exchange} {self.symbol}"


class Trades(np.ndarray):
    """A structured array of :data:`TRADE_DTYPE` rows that carries the
    ``exchange``, ``symbol`` and ``path`` of its file (kept by slices and
    boolean selections).  A field access (``trades["price"]``) gives a
    plain ndarray."""

    exchange: str | None
    symbol: str | None
    path: str

    def __new__(cls, data: np.ndarray, exchange=None, symbol=None, path="<trades>"):
        obj = np.asarray(data, dtype=TRADE_DTYPE).view(cls)
        obj.exchange = exchange
        obj.symbol = symbol
        obj.path = str(path)
        return obj

    def __array_finalize__(self, obj):
        self.exchange = getattr(obj, "exchange", None)
        self.symbol = getattr(obj, "symbol", None)
        self.path = getattr(obj, "path", "<trades>")

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if isinstance(key, str) or (isinstance(key, list) and key and isinstance(key[0], str)):
            return out.view(np.ndarray)
        return out

    def __reduce__(self):               # keep the attributes through pickle
        state = super().__reduce__()
        return state[0], state[1], (state[2], self.exchange, self.symbol, self.path)

    def __setstate__(self, state):
        base, self.exchange, self.symbol, self.path = state
        super().__setstate__(base)

    @property
    def header(self) -> TardisHeader:
        return TardisHeader(self.exchange, self.symbol, self.path, contract_usd(self.exchange, self.symbol))


def contract_usd(exchange: str | None, symbol: str | None) -> float | None:
    """USD value of one ``amount`` unit for contract-sized markets (Binance
    coin-margined perpetuals: 100 USD for BTC, 10 USD otherwise), ``None``
    when ``amount`` is in base units."""
    if exchange == "binance-delivery":
        return BINANCE_DELIVERY_BTC_CONTRACT_USD if (symbol or "").upper().startswith("BTCUSD") \
            else BINANCE_DELIVERY_CONTRACT_USD
    return None


def notional_usd(trades: Trades) -> np.ndarray:
    """Traded value of each trade in quote currency (USD for the USD and
    USDT markets here): ``amount * contract_usd`` for Binance coin-margined
    perpetuals, ``price * amount`` otherwise."""
    c = contract_usd(getattr(trades, "exchange", None), getattr(trades, "symbol", None))
    amount = np.asarray(trades["amount"])
    return amount * c if c is not None else np.asarray(trades["price"]) * amount


# ---------------------------------------------------------------------- text
def _read_bytes(path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise TardisFormatError(path, None, f"corrupt gzip data: {exc}") from None
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return raw


_INT = re.compile(r"[0-9]+\Z")
_NUM = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


def _shown(tok: str) -> str:
    return repr(tok if len(tok) <= 30 else tok[:27] + "...")


def _check_header(path, first: str) -> None:
    cells = first.split(",")
    if tuple(c.strip() for c in cells) != COLUMNS:
        raise TardisFormatError(path, 1, f"header is {first[:120]!r}, expected {','.join(COLUMNS)!r}")


def _slow_parse(path, raw: bytes) -> Trades:
    """Line-by-line parser: raises :class:`TardisFormatError` at the first
    bad line, else returns the parsed file."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise TardisFormatError(path, line, f"invalid UTF-8 byte 0x{raw[exc.start]:02x}") from None
    lines = text.rstrip("\n").split("\n")
    if not lines or not lines[0].strip():
        raise TardisFormatError(path, 1, "empty file (no header line)")
    _check_header(path, lines[0])
    n = len(lines) - 1
    out = np.empty(n, TRADE_DTYPE)
    exchange = symbol = None
    for k in range(n):
        line = k + 2
        ln = lines[k + 1]
        if not ln.strip():
            raise TardisFormatError(path, line, "empty line")
        cells = ln.split(",")
        if len(cells) != len(COLUMNS):
            raise TardisFormatError(path, line, f"expected {len(COLUMNS)} columns ({','.join(COLUMNS)}), "
                                                f"found {len(cells)}")
        ex, sym, ts, lts, _id, side, price, amount = (c.strip() for c in cells)
        if exchange is None:
            exchange, symbol = ex, sym
        elif (ex, sym) != (exchange, symbol):
            raise TardisFormatError(path, line, f"market {ex},{sym} differs from {exchange},{symbol} "
                                                "of the first row (one market per file)")
        for col, tok in (("timestamp", ts), ("local_timestamp", lts)):
            if not _INT.match(tok):
                raise TardisFormatError(path, line, f"column '{col}' is not a non-negative integer "
                                                    f"(microseconds): {_shown(tok)}")
            if int(tok) > _MAX_US:
                raise TardisFormatError(path, line, f"column '{col}' {tok} us overflows int64 ns")
        if side not in _SIDES:
            raise TardisFormatError(path, line, f"bad side {_shown(side)} (expected buy, sell or unknown)")
        vals = []
        for col, tok in (("price", price), ("amount", amount)):
            if not _NUM.match(tok):
                raise TardisFormatError(path, line, f"column '{col}' is not a number: {_shown(tok)}")
            v = float(tok)
            if not np.isfinite(v):
                raise TardisFormatError(path, line, f"column '{col}' is not finite: {_shown(tok)}")
            vals.append(v)
        if vals[0] <= 0:
            raise TardisFormatError(path, line, f"non-positive price {price}")
        if vals[1] < 0:
            raise TardisFormatError(path, line, f"negative amount {amount}")
        out[k] = (int(ts) * NS_PER_US, int(lts) * NS_PER_US, _SIDES[side], vals[0], vals[1])
    return Trades(out, exchange, symbol, path)


# ---------------------------------------------------------------------- fast paths
def _fast_pandas(body: bytes):
    import pandas as pd
    df = pd.read_csv(io.BytesIO(body), header=0, names=list(COLUMNS), engine="c", na_filter=False,
                     skip_blank_lines=False, quoting=csv.QUOTE_NONE,
                     dtype={"exchange": str, "symbol": str, "timestamp": np.int64,
                            "local_timestamp": np.int64, "id": str, "side": str,
                            "price": np.float64, "amount": np.float64})
    ex = df["exchange"].to_numpy()
    sym = df["symbol"].to_numpy()
    same = (ex == ex[0]) & (sym == sym[0]) if len(df) else np.ones(0, bool)
    side_s = df["side"].to_numpy()
    side = np.full(len(df), 2, np.int8)                   # 2 = not a side
    for name, code in _SIDES.items():
        side[side_s == name] = code
    return (df["timestamp"].to_numpy(np.int64), df["local_timestamp"].to_numpy(np.int64), side,
            df["price"].to_numpy(np.float64), df["amount"].to_numpy(np.float64), same,
            (str(ex[0]), str(sym[0])) if len(df) else (None, None))


def _fast_numpy(body: bytes):
    lines = body.split(b"\n")[1:]
    first = lines[0].split(b",") if lines else []
    prefix = b",".join(first[:2]) + b","
    same = np.fromiter((ln.startswith(prefix) for ln in lines), bool, len(lines))
    dt = [("ts", np.int64), ("lts", np.int64), ("side", "U8"), ("price", np.float64),
          ("amount", np.float64)]
    a = np.loadtxt(io.StringIO(body.decode("utf-8")), delimiter=",", skiprows=1, usecols=(2, 3, 5, 6, 7),
                   dtype=dt, ndmin=1, comments=None)
    side = np.full(len(a), 2, np.int8)
    for name, code in _SIDES.items():
        side[a["side"] == name] = code
    ex_sym = (first[0].decode(), first[1].decode()) if lines else (None, None)
    return a["ts"], a["lts"], side, a["price"], a["amount"], same, ex_sym


def _pandas_available() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def load_trades(path: str | os.PathLike, engine: str = "auto") -> Trades:
    """Load a Tardis trades CSV (gzip or plain) into a :class:`Trades` array.

    ``engine``: ``"pandas"``, ``"numpy"`` or ``"auto"`` (pandas when
    installed).  Raises :class:`TardisFormatError` naming the file and line
    of the first malformed row: wrong column count, a timestamp that is not
    a non-negative integer, a price or amount that is not a finite number
    (price > 0, amount >= 0), a side other than buy/sell/unknown, a row of
    another exchange or symbol than the first, an empty line, or a header
    other than :data:`COLUMNS`.  A file with a header and no rows gives an
    empty array with ``exchange``/``symbol`` ``None``.
    """
    if engine not in ("auto", "pandas", "numpy"):
        raise ValueError(f"engine must be 'auto', 'pandas' or 'numpy', not {engine!r}")
    raw = _read_bytes(path)
    body = raw.rstrip(b"\n")
    if not body.strip():
        raise TardisFormatError(path, 1, "empty file (no header line)")
    nl = body.find(b"\n")
    first = body if nl < 0 else body[:nl]
    try:
        _check_header(path, first.decode("utf-8"))
    except UnicodeDecodeError:
        return _slow_parse(path, raw)
    if nl < 0:                                            # header only
        return Trades(np.empty(0, TRADE_DTYPE), None, None, path)
    rows = body.count(b"\n")
    if b"\n\n" in body or body.count(b",") != (len(COLUMNS) - 1) * (rows + 1):
        return _slow_parse(path, raw)                     # an empty line or a wrong column count
    use_pandas = engine == "pandas" or (engine == "auto" and _pandas_available())
    try:
        ts, lts, side, price, amount, same, (ex, sym) = (_fast_pandas if use_pandas else _fast_numpy)(body)
    except ImportError:
        raise
    except Exception:                                     # noqa: BLE001 - the slow path names the line
        return _slow_parse(path, raw)
    if len(ts) != rows:                                   # pragma: no cover - defensive
        return _slow_parse(path, raw)
    bad = ~same | (side == 2) | (ts < 0) | (lts < 0) | (ts > _MAX_US) | (lts > _MAX_US) \
        | ~np.isfinite(price) | ~np.isfinite(amount) | (price <= 0) | (amount < 0)
    if bad.any():
        return _slow_parse(path, raw)                     # finds and names the first bad line
    out = np.empty(rows, TRADE_DTYPE)
    out["ts_ns"] = ts * NS_PER_US
    out["local_ts_ns"] = lts * NS_PER_US
    out["side"] = side
    out["price"] = price
    out["amount"] = amount
    return Trades(out, ex, sym, path)


# ---------------------------------------------------------------------- shared data
def shared_data_dir() -> Path:
    """``../shared/data`` beside the repository root (override with the
    ``LOB_SHARED_DATA`` environment variable)."""
    env = os.environ.get("LOB_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def list_markets(data_dir: str | os.PathLike | None = None, date: str = CRASH_DAY) -> list[tuple[str, str]]:
    """``(exchange, symbol)`` of every trade file of ``date`` in the crash
    data directory (empty when it is absent)."""
    d = Path(data_dir) if data_dir is not None else shared_data_dir()
    d = d / CRASH_TRADES_DIR
    out = []
    pat = re.compile(rf"(.+)_trades_{re.escape(date)}_(.+)\.csv(?:\.gz)?\Z")
    for p in sorted(d.glob(f"*_trades_{date}_*.csv*")) if d.is_dir() else []:
        m = pat.match(p.name)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def market_path(exchange: str, symbol: str, data_dir: str | os.PathLike | None = None,
                date: str = CRASH_DAY) -> Path:
    """Path of ``{exchange}_trades_{date}_{symbol}.csv[.gz]`` in the crash
    data directory; ``FileNotFoundError`` listing the available markets."""
    base = Path(data_dir) if data_dir is not None else shared_data_dir()
    d = base / CRASH_TRADES_DIR
    for name in (f"{exchange}_trades_{date}_{symbol}.csv.gz", f"{exchange}_trades_{date}_{symbol}.csv"):
        if (d / name).is_file():
            return d / name
    avail = list_markets(base, date)
    for ex, sym in avail:                                 # case-insensitive second try
        if ex.lower() == exchange.lower() and sym.lower() == symbol.lower():
            return market_path(ex, sym, base, date)
    if not d.is_dir():
        raise FileNotFoundError(f"no trade data directory {d} (is ../shared/data present?)")
    raise FileNotFoundError(f"no trades of {exchange} {symbol} on {date} in {d}; available: "
                            + ", ".join(f"{e} {s}" for e, s in avail))


def load_market(exchange: str, symbol: str, data_dir: str | os.PathLike | None = None,
                date: str = CRASH_DAY, engine: str = "auto") -> Trades:
    """Load the trades of one market of the shared crash-day data, e.g.
    ``load_market("binance-delivery", "ATOMUSD_PERP")`` or
    ``load_market("coinbase", "DOT-USD")``."""
    return load_trades(market_path(exchange, symbol, data_dir, date), engine=engine)


# ---------------------------------------------------------------------- time helpers
_DUR = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(ns|us|ms|s|sec|min|m|h|d)?\s*\Z")
_DUR_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": NS_PER_S, "sec": NS_PER_S,
           "min": 60 * NS_PER_S, "m": 60 * NS_PER_S, "h": 3600 * NS_PER_S, "d": DAY_NS}


def duration_ns(spec) -> int:
    """A duration in ns from an int (ns), a ``np.timedelta64``, a
    ``datetime.timedelta`` or a string such as ``"500ms"``, ``"1s"``,
    ``"1min"`` (also ``"1m"``), ``"5min"``, ``"1h"``, ``"1d"`` (a string
    needs its unit).  Must be positive."""
    if isinstance(spec, (bool, np.bool_)):
        raise TypeError("a duration cannot be a bool")
    if isinstance(spec, np.timedelta64):             # (a subclass of np.integer)
        v = int(spec.astype("timedelta64[ns]").astype(np.int64))
    elif isinstance(spec, (int, np.integer)):
        v = int(spec)
    elif hasattr(spec, "total_seconds"):
        v = round(spec.total_seconds() * NS_PER_S)
    elif isinstance(spec, str):
        m = _DUR.match(spec)
        if not m or m.group(2) is None:
            raise ValueError(f"bad duration {spec!r} (examples: '500ms', '1s', '1min', '1h')")
        v = round(float(m.group(1)) * _DUR_NS[m.group(2)])
    else:
        raise TypeError(f"bad duration {spec!r}")
    if v <= 0:
        raise ValueError(f"duration must be positive, got {spec!r}")
    return v


_HHMM = re.compile(r"\s*([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}(?:\.[0-9]+)?))?\s*\Z")


def day_start_ns(trades) -> int:
    """Start (00:00 UTC, ns since the epoch) of the UTC day of the first
    trade (by exchange time)."""
    ts = np.asarray(trades["ts_ns"])
    if len(ts) == 0:
        raise ValueError("no trades: cannot tell the day")
    return int(ts.min()) // DAY_NS * DAY_NS


def time_ns(t, day0: int | None = None) -> int:
    """A time in ns since the epoch from an int (already ns since the
    epoch), a ``np.datetime64``, a ``datetime`` (naive = UTC), an ISO string
    (``"2025-10-10T20:50"``, UTC) or a ``"HH:MM[:SS[.f]]"`` string taken on
    the UTC day starting at ``day0`` (ns)."""
    if isinstance(t, (bool, np.bool_)):
        raise TypeError("a time cannot be a bool")
    if isinstance(t, np.datetime64):
        return int(t.astype("datetime64[ns]").astype(np.int64))
    if isinstance(t, (int, np.integer)):
        return int(t)
    if isinstance(t, datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        return round(t.timestamp() * 1e6) * NS_PER_US
    if isinstance(t, str):
        m = _HHMM.match(t)
        if m:
            if day0 is None:
                raise ValueError(f"time of day {t!r} needs the day (no trades to take it from)")
            h, mi, s = int(m.group(1)), int(m.group(2)), float(m.group(3) or 0)
            if h > 24 or mi > 59 or s >= 60:
                raise ValueError(f"bad time of day {t!r}")
            return day0 + (h * 3600 + mi * 60) * NS_PER_S + round(s * NS_PER_S)
        try:
            return int(np.datetime64(t.strip().rstrip("Z"), "ns").astype(np.int64))
        except ValueError:
            raise ValueError(f"bad time {t!r} (expected 'HH:MM[:SS]' or an ISO date-time)") from None
    raise TypeError(f"bad time {t!r}")


def utc_str(ts_ns: int, digits: int = 0) -> str:
    """``HH:MM:SS`` (UTC, truncated, with ``digits`` decimals of seconds)
    of a time in ns since the epoch."""
    s = np.datetime64(int(ts_ns), "ns").astype(str)          # YYYY-MM-DDTHH:MM:SS.fffffffff
    hms = s[11:19]
    return hms + ("." + s[20:20 + digits] if digits > 0 else "")


def _time_order(trades):
    ts = np.asarray(trades["ts_ns"])
    if len(ts) < 2 or bool((ts[1:] >= ts[:-1]).all()):
        return None
    return np.argsort(ts, kind="stable")


# ---------------------------------------------------------------------- price path
def price_path(trades, t0, t1, bar="1s"):
    """Trade-price bars over ``[t0, t1)``: returns ``(t, close, low, high)``
    with ``t`` the bar start times (int64 ns since the epoch) and the last,
    lowest and highest trade price of each bar (float64).

    ``t0``/``t1`` as accepted by :func:`time_ns` (``"HH:MM"`` strings are on
    the UTC day of the trades); ``bar`` as accepted by :func:`duration_ns`.
    Trades are taken in exchange-time order (``ts_ns``, stable).  A bar with
    no trade is flat at the previous close (``close = low = high``); bars
    before the first trade (none before ``t0`` either) are NaN.
    """
    step = duration_ns(bar)
    day0 = day_start_ns(trades) if len(trades) else None
    a, b = time_ns(t0, day0), time_ns(t1, day0)
    if b <= a:
        raise ValueError(f"empty window: t1 ({b}) <= t0 ({a})")
    nbar = -(-(b - a) // step)
    if nbar > MAX_BARS:
        raise ValueError(f"{nbar} bars of {step} ns in the window: more than {MAX_BARS}")
    t = a + step * np.arange(nbar, dtype=np.int64)
    ts = np.asarray(trades["ts_ns"])
    px = np.asarray(trades["price"], dtype=np.float64)
    order = _time_order(trades)
    if order is not None:
        ts, px = ts[order], px[order]
    i0, i1 = np.searchsorted(ts, a, "left"), np.searchsorted(ts, b, "left")
    close = np.full(nbar, np.nan)
    low = np.full(nbar, np.nan)
    high = np.full(nbar, np.nan)
    if i1 > i0:
        k = (ts[i0:i1] - a) // step                     # bar of each trade, sorted
        p = px[i0:i1]
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        bars = k[starts]
        low[bars] = np.minimum.reduceat(p, starts)
        high[bars] = np.maximum.reduceat(p, starts)
        close[bars] = p[np.r_[starts[1:], len(p)] - 1]
    # carry the close forward through empty bars (from the last trade before t0)
    has = ~np.isnan(close)
    idx = np.where(has, np.arange(nbar), -1)
    np.maximum.accumulate(idx, out=idx)
    prev = px[i0 - 1] if i0 > 0 else np.nan
    filled = np.where(idx >= 0, close[np.maximum(idx, 0)], prev)
    empty = ~has
    close = filled
    low[empty] = filled[empty]
    high[empty] = filled[empty]
    return t, close, low, high


# ---------------------------------------------------------------------- crash summary
@dataclass(frozen=True)
class CrashSummary:
    """Last trade before the crash and lowest trade in the crash window.
    Prices as in the file; times in ns since the epoch (UTC); ``drop`` is
    the relative change ``low / before - 1`` (negative for a fall)."""

    exchange: str | None
    symbol: str | None
    before_price: float
    before_ts_ns: int
    low_price: float
    low_ts_ns: int
    drop: float

    @property
    def drop_pct(self) -> float:
        """``drop`` in percent (e.g. -73.2)."""
        return 100.0 * self.drop

    @property
    def low_time(self) -> str:
        """``HH:MM:SS`` (UTC, truncated) of the lowest trade."""
        return utc_str(self.low_ts_ns)

    def row(self) -> dict:
        return {"market": f"{self.exchange} {self.symbol}", "before": self.before_price,
                "before_time": utc_str(self.before_ts_ns, 6), "low": self.low_price,
                "low_time": self.low_time, "drop_pct": round(self.drop_pct, 1)}


def crash_summary(trades, before_utc="20:50", low_window=("20:50", "22:00")) -> CrashSummary:
    """The README table row of a market: the last trade (exchange time)
    strictly before ``before_utc``, the lowest trade price in
    ``[low_window[0], low_window[1])`` and the time of its first occurrence,
    and the drop ``low / before - 1``.  Times as accepted by
    :func:`time_ns`, ``"HH:MM"`` on the UTC day of the trades.  Among trades
    with the same timestamp the last in file order counts as "last"."""
    if len(trades) == 0:
        raise ValueError("no trades")
    day0 = day_start_ns(trades)
    cut = time_ns(before_utc, day0)
    w0, w1 = time_ns(low_window[0], day0), time_ns(low_window[1], day0)
    ts = np.asarray(trades["ts_ns"])
    px = np.asarray(trades["price"], dtype=np.float64)
    order = _time_order(trades)
    if order is not None:
        ts, px = ts[order], px[order]
    i = int(np.searchsorted(ts, cut, "left")) - 1
    if i < 0:
        raise ValueError(f"no trade before {utc_str(cut)} UTC")
    j0, j1 = np.searchsorted(ts, w0, "left"), np.searchsorted(ts, w1, "left")
    if j1 <= j0:
        raise ValueError(f"no trade in [{utc_str(w0)}, {utc_str(w1)}) UTC")
    j = j0 + int(np.argmin(px[j0:j1]))
    before, low = float(px[i]), float(px[j])
    return CrashSummary(getattr(trades, "exchange", None), getattr(trades, "symbol", None), before,
                        int(ts[i]), low, int(ts[j]), low / before - 1.0)
