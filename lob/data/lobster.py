"""Loader for LOBSTER message and orderbook files (lobsterdata.com).

Message file, one row per event, six comma-separated columns::

    time (s after midnight, decimal), type, order_id, size, price, direction

``type``: 1 new limit order, 2 partial cancellation, 3 full deletion,
4 execution of a visible order, 5 execution of a hidden order, 6 cross
trade / auction, 7 trading halt.  ``price`` is USD x 10,000 (integer);
``direction`` is 1 (buy) or -1 (sell); for executions it is the side of the
*resting* order that was hit.

Orderbook file, row i = the book after message i, ``4 * N`` columns::

    ask_price_1, ask_size_1, bid_price_1, bid_size_1, ask_price_2, ...

An empty level is padded with ask price ``9999999999`` / bid price
``-9999999999`` and size 0.

Parsing is numpy based (``np.loadtxt``: the 92k-row, 3.7 MB message file
loads in well under 0.1 s).  When the fast path fails or a vectorised check
finds a bad row, a slow line-by-line parser runs over the file to find the
first offending line, and :class:`LobsterFormatError` names the file and the
1-based line number.  Files without a trailing newline and CRLF files are
accepted; an empty line is an error unless it only trails the data.

Times become int64 nanoseconds after midnight: the decimal seconds are parsed
as float64 and rounded to the nearest ns, which is exact for any time of day
written with at most 9 decimals (float64 resolves 86,400 s to ~1e-11 s).
"""
from __future__ import annotations

from .errors import DataFormatError

import io
import os
import re
from dataclasses import dataclass

import numpy as np

MESSAGE_COLUMNS = ("time", "type", "order_id", "size", "price", "direction")

# LOBSTER event types
ADD = 1              # new limit order
PARTIAL_CANCEL = 2   # partial cancellation (size = lots taken off)
DELETE = 3           # full deletion (size = lots that were left)
EXECUTE = 4          # execution of a visible order
EXECUTE_HIDDEN = 5   # execution of a hidden order (book unchanged)
CROSS = 6            # cross trade / auction
HALT = 7             # trading halt indicator
TYPE_NAMES = {ADD: "add", PARTIAL_CANCEL: "partial cancel", DELETE: "delete",
              EXECUTE: "execute", EXECUTE_HIDDEN: "hidden execute",
              CROSS: "cross", HALT: "halt"}

ASK_EMPTY = 9999999999       # ask price of an empty level
BID_EMPTY = -9999999999      # bid price of an empty level


class LobsterFormatError(DataFormatError):
    """A LOBSTER file is malformed.  ``path`` and ``line`` (1-based, or
    ``None`` when the problem is not one line) name the place."""


@dataclass(frozen=True, eq=False)
class LobsterMessages:
    """The columns of a message file as int64 arrays of equal length.
    Row ``i`` came from line ``i + 1`` of ``path``."""

    time_ns: np.ndarray      # ns after midnight
    type: np.ndarray         # 1..7
    order_id: np.ndarray
    size: np.ndarray         # shares
    price: np.ndarray        # USD x 10,000
    direction: np.ndarray    # 1 buy, -1 sell
    path: str = "<messages>"

    def __len__(self) -> int:
        return len(self.type)

    def line(self, i: int) -> int:
        """1-based line number of row ``i`` in ``path``."""
        return int(i) + 1

    def head(self, n: int) -> "LobsterMessages":
        """The first ``n`` rows."""
        return LobsterMessages(self.time_ns[:n], self.type[:n], self.order_id[:n], self.size[:n],
                               self.price[:n], self.direction[:n], self.path)


@dataclass(frozen=True, eq=False)
class LobsterOrderbook:
    """An orderbook file: ``data`` is the (rows, 4 * levels) int64 matrix
    exactly as in the file.  Row ``i`` came from line ``i + 1`` of ``path``."""

    data: np.ndarray
    path: str = "<orderbook>"

    def __len__(self) -> int:
        return self.data.shape[0]

    @property
    def levels(self) -> int:
        return self.data.shape[1] // 4

    def line(self, i: int) -> int:
        return int(i) + 1

    @property
    def ask_price(self) -> np.ndarray:
        return self.data[:, 0::4]

    @property
    def ask_size(self) -> np.ndarray:
        return self.data[:, 1::4]

    @property
    def bid_price(self) -> np.ndarray:
        return self.data[:, 2::4]

    @property
    def bid_size(self) -> np.ndarray:
        return self.data[:, 3::4]

    def head(self, n: int) -> "LobsterOrderbook":
        return LobsterOrderbook(self.data[:n], self.path)


# ---------------------------------------------------------------------- text
def _read_text(path) -> str:
    raw = open(path, "rb").read()
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise LobsterFormatError(path, line, f"non-ASCII byte 0x{raw[exc.start]:02x}") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    body = text.rstrip("\n \t")
    if not body:
        raise LobsterFormatError(path, None, "file holds no rows")
    return body


def _has_blank_line(body: str) -> bool:
    return body.startswith("\n") or "\n\n" in body or bool(re.search(r"\n[ \t]+(\n|$)", body))


_INT = re.compile(r"\s*[+-]?\d+\s*\Z")
_DEC = re.compile(r"\s*\+?(\d+)(?:\.(\d*))?\s*\Z")


def _int_cell(path, line: int, col: str, tok: str) -> int:
    if not _INT.match(tok):
        shown = tok if len(tok) <= 30 else tok[:27] + "..."
        raise LobsterFormatError(path, line, f"column '{col}' is not an integer: {shown!r}")
    return int(tok)


# ---------------------------------------------------------------------- messages
def _check_message_row(path, line, t_ns, typ, oid, size, price, direction):
    """Raise for a semantically bad message row (the checks the fast path
    applies vectorised)."""
    if not 1 <= typ <= 7:
        raise LobsterFormatError(path, line, f"bad event type {typ} (expected 1..7)")
    if direction not in (1, -1):
        raise LobsterFormatError(path, line, f"bad direction {direction} (expected 1 or -1)")
    if size < 0:
        raise LobsterFormatError(path, line, f"negative size {size}")
    if typ <= EXECUTE and oid <= 0:
        raise LobsterFormatError(path, line, f"order id {oid} is not positive for a {TYPE_NAMES[typ]} event")
    if typ <= EXECUTE and price <= 0:
        raise LobsterFormatError(path, line, f"non-positive price {price} for a {TYPE_NAMES[typ]} event")
    if typ <= EXECUTE and size == 0:
        raise LobsterFormatError(path, line, f"zero size for a {TYPE_NAMES[typ]} event")


def _slow_messages(path, body: str) -> LobsterMessages:
    """Line-by-line parser: raises at the first bad line, else returns the
    parsed file (used when the fast path refused the file)."""
    lines = body.split("\n")
    n = len(lines)
    out = np.empty((n, 6), np.int64)
    for k, ln in enumerate(lines):
        line = k + 1
        if not ln.strip():
            raise LobsterFormatError(path, line, "empty line")
        cells = ln.split(",")
        if len(cells) != 6:
            raise LobsterFormatError(path, line, f"expected 6 columns ({', '.join(MESSAGE_COLUMNS)}), "
                                                 f"found {len(cells)}")
        m = _DEC.match(cells[0])
        if not m:
            shown = cells[0] if len(cells[0]) <= 30 else cells[0][:27] + "..."
            raise LobsterFormatError(path, line, f"column 'time' is not a non-negative decimal number: {shown!r}")
        t_ns = int(m.group(1)) * 10**9 + round(int(((m.group(2) or "") + "0" * 10)[:10]) / 10)
        vals = [_int_cell(path, line, MESSAGE_COLUMNS[j], cells[j]) for j in range(1, 6)]
        if any(abs(v) >= 2**63 for v in vals):
            raise LobsterFormatError(path, line, "integer out of int64 range")
        _check_message_row(path, line, t_ns, *vals)
        out[k, 0] = t_ns
        out[k, 1:] = vals
    return _messages_from(out, path)


def _messages_from(mat: np.ndarray, path) -> LobsterMessages:
    cols = [np.ascontiguousarray(mat[:, j]) for j in range(6)]
    return LobsterMessages(*cols, path=str(path))


def load_messages(path: str | os.PathLike) -> LobsterMessages:
    """Load a LOBSTER message file; raise :class:`LobsterFormatError`
    naming the file and line of the first malformed row."""
    body = _read_text(path)
    if _has_blank_line(body):
        return _slow_messages(path, body)
    rows = body.count("\n") + 1
    first = body[:body.find("\n")] if rows > 1 else body
    if first.count(",") != 5 or body.count(",") != 5 * rows:
        return _slow_messages(path, body)     # some row has another column count
    try:
        ints = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.int64, usecols=(1, 2, 3, 4, 5),
                          ndmin=2, comments=None)
        secs = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.float64, usecols=(0,),
                          ndmin=1, comments=None)
    except ValueError:
        return _slow_messages(path, body)
    if len(secs) != len(ints):               # pragma: no cover - loadtxt keeps them aligned
        return _slow_messages(path, body)
    typ, oid, size, price, direction = (ints[:, j] for j in range(5))
    hi = EXECUTE
    bad = (~np.isfinite(secs)) | (secs < 0) | (secs >= 2**63 / 1e9) | (typ < 1) | (typ > 7) \
        | ((direction != 1) & (direction != -1)) | (size < 0) \
        | ((typ <= hi) & ((price <= 0) | (size == 0) | (oid <= 0)))
    if bad.any():
        return _slow_messages(path, body)     # finds and names the first bad line
    t_ns = np.rint(secs * 1e9).astype(np.int64)
    return LobsterMessages(t_ns, np.ascontiguousarray(typ), np.ascontiguousarray(oid),
                           np.ascontiguousarray(size), np.ascontiguousarray(price),
                           np.ascontiguousarray(direction), path=str(path))


# ---------------------------------------------------------------------- orderbook
def _check_book_row(path, line, row, levels):
    """Raise for a semantically bad orderbook row."""
    for side, col0, empty, better in (("ask", 0, ASK_EMPTY, lambda a, b: a < b),
                                      ("bid", 2, BID_EMPTY, lambda a, b: a > b)):
        prev = None
        gone = False
        for k in range(levels):
            px, sz = int(row[4 * k + col0]), int(row[4 * k + col0 + 1])
            if sz < 0:
                raise LobsterFormatError(path, line, f"negative {side} size {sz} at level {k + 1}")
            if px == empty:
                if sz != 0:
                    raise LobsterFormatError(path, line, f"empty {side} level {k + 1} has size {sz}")
                gone = True
                continue
            if gone:
                raise LobsterFormatError(path, line, f"{side} level {k + 1} follows an empty level")
            if sz == 0:
                raise LobsterFormatError(path, line, f"{side} level {k + 1} at price {px} has size 0")
            if px <= 0:
                raise LobsterFormatError(path, line, f"non-positive {side} price {px} at level {k + 1}")
            if prev is not None and not better(prev, px):
                raise LobsterFormatError(path, line, f"{side} levels out of order at level {k + 1} "
                                                     f"({prev} then {px})")
            prev = px
    a, b = int(row[0]), int(row[2])
    if a != ASK_EMPTY and b != BID_EMPTY and a <= b:
        raise LobsterFormatError(path, line, f"crossed book: best ask {a} <= best bid {b}")


def _slow_orderbook(path, body: str) -> LobsterOrderbook:
    lines = body.split("\n")
    width = None
    rows = []
    for k, ln in enumerate(lines):
        line = k + 1
        if not ln.strip():
            raise LobsterFormatError(path, line, "empty line")
        cells = ln.split(",")
        if width is None:
            if len(cells) % 4 or not cells:
                raise LobsterFormatError(path, line, f"orderbook row has {len(cells)} columns, "
                                                     "expected a multiple of 4")
            width = len(cells)
        elif len(cells) != width:
            raise LobsterFormatError(path, line, f"orderbook row has {len(cells)} columns, "
                                                 f"expected {width} like line 1")
        names = ("ask_price", "ask_size", "bid_price", "bid_size")
        vals = [_int_cell(path, line, f"{names[j % 4]}_{j // 4 + 1}", c) for j, c in enumerate(cells)]
        if any(abs(v) >= 2**63 for v in vals):
            raise LobsterFormatError(path, line, "integer out of int64 range")
        _check_book_row(path, line, vals, width // 4)
        rows.append(vals)
    return LobsterOrderbook(np.array(rows, np.int64).reshape(len(rows), width), str(path))


def _bad_book_rows(d: np.ndarray) -> np.ndarray:
    ap, asz, bp, bsz = d[:, 0::4], d[:, 1::4], d[:, 2::4], d[:, 3::4]
    bad = (asz < 0).any(1) | (bsz < 0).any(1)
    ae, be = ap == ASK_EMPTY, bp == BID_EMPTY
    bad |= (ae & (asz != 0)).any(1) | (be & (bsz != 0)).any(1)
    bad |= (~ae & ((asz == 0) | (ap <= 0))).any(1) | (~be & ((bsz == 0) | (bp <= 0))).any(1)
    if d.shape[1] > 4:
        # empty levels only at the end; prices strictly worse level by level
        bad |= (ae[:, :-1] & ~ae[:, 1:]).any(1) | (be[:, :-1] & ~be[:, 1:]).any(1)
        bad |= (~ae[:, 1:] & (ap[:, 1:] <= ap[:, :-1])).any(1)
        bad |= (~be[:, 1:] & (bp[:, 1:] >= bp[:, :-1])).any(1)
    bad |= ~ae[:, 0] & ~be[:, 0] & (ap[:, 0] <= bp[:, 0])
    return bad


def load_orderbook(path: str | os.PathLike) -> LobsterOrderbook:
    """Load a LOBSTER orderbook file; raise :class:`LobsterFormatError`
    naming the file and line of the first malformed row (wrong width,
    non-integer cell, negative size, crossed or unsorted levels)."""
    body = _read_text(path)
    if _has_blank_line(body):
        return _slow_orderbook(path, body)
    rows = body.count("\n") + 1
    first = body[:body.find("\n")] if rows > 1 else body
    width = first.count(",") + 1
    if width % 4 or body.count(",") != (width - 1) * rows:
        return _slow_orderbook(path, body)
    try:
        d = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.int64, ndmin=2, comments=None)
    except ValueError:
        return _slow_orderbook(path, body)
    if d.shape[1] != width or _bad_book_rows(d).any():
        return _slow_orderbook(path, body)
    return LobsterOrderbook(np.ascontiguousarray(d), str(path))


def load_pair(message_path, orderbook_path) -> tuple[LobsterMessages, LobsterOrderbook]:
    """Load a message file and its orderbook file; they must have the same
    number of rows (row i of the orderbook is the book after message i)."""
    msgs = load_messages(message_path)
    book = load_orderbook(orderbook_path)
    if len(msgs) != len(book):
        raise LobsterFormatError(orderbook_path, None,
                                 f"{len(book)} orderbook rows but {len(msgs)} messages in {message_path} "
                                 "(row i of the orderbook must be the book after message i)")
    return msgs, book
