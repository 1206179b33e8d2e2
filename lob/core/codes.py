"""Codes and record layouts shared by the compiled engine and its reference twin.

Units everywhere in this layer: prices in integer **ticks** of the book's
instrument, quantities in integer **lots**, times in integer **nanoseconds**.

Messages
--------
A message is one row of ``MSG_DTYPE`` (nine int64 fields, so an array of
messages can be viewed as an ``(n, 9)`` int64 matrix for the kernel):

=========  ================================================================
field      meaning
=========  ================================================================
ts         venue time of the message, ns; copied onto every output row
type       one of ``LIMIT MARKET IOC FOK POST_ONLY CANCEL MODIFY REDUCE``
book       book (instrument) index in the engine, ``0 <= book < n_books``
side       ``BUY`` (0) or ``SELL`` (1); ignored for CANCEL/MODIFY/REDUCE
order_id   for new orders: ``0`` = let the engine assign one
           (``>= AUTO_ID_BASE``), or an external id in ``[1, AUTO_ID_BASE)``;
           for CANCEL/MODIFY/REDUCE: the id of the live order
price      limit price in ticks, ``1 <= price <= max_price_ticks`` of the book;
           ignored for MARKET/CANCEL/REDUCE; the new price for MODIFY.
           ``PRICE_OFF_GRID`` marks a price that was not on the tick grid
           (set by the Python layer, rejected by the kernel with OFF_GRID)
qty        lots, ``1 <= qty <= MAX_QTY``; the new remaining qty for MODIFY;
           the amount to take off for REDUCE; ignored for CANCEL.
           ``QTY_OFF_LOT`` marks a quantity that was not a whole lot.
account    owner account (any int64); CANCEL/MODIFY/REDUCE must come from
           the order's own account
stp        self-trade prevention of the incoming order: ``STP_NONE``,
           ``STP_CANCEL_RESTING``, ``STP_CANCEL_INCOMING``, ``STP_CANCEL_BOTH``
=========  ================================================================

Semantics (identical in ``lob.core.engine.Engine`` and
``lob.core.reference.ReferenceEngine``)
------------------------------------------------------------------------
* Validation happens first and the first failing check names the reason.
  New orders: type, book, side, stp, order_id (``R_BAD_ID`` outside
  ``[0, AUTO_ID_BASE)``, ``R_DUPLICATE_ID`` if live), price (not for MARKET:
  ``R_OFF_GRID`` for the sentinel, ``R_BAD_PRICE`` outside
  ``[1, max_price_ticks]``), qty (``R_BAD_QTY`` for the sentinel or outside
  ``[1, MAX_QTY]``), then POST_ONLY's cross check.  CANCEL: type, book,
  order_id (``R_UNKNOWN_ID`` unless live *in that book*), account
  (``R_NOT_OWNER``).  REDUCE: as CANCEL, then qty.  MODIFY: as CANCEL, then
  stp, price, qty, then the POST_ONLY cross check.  A failing message
  produces one ``EV_REJECTED`` event (reason = ``R_*``; the other fields
  echo the message) and changes nothing else.
* LIMIT is good-till-cancel: it matches against the opposite side at prices
  at or better than its limit (price-time priority: best price first, FIFO
  within a price), then rests.  MARKET matches at any price; IOC matches like
  LIMIT; both cancel any remainder (``CX_IOC_REMAINDER``).  FOK matches only
  if its whole quantity can be filled at once at prices within its limit,
  otherwise it is cancelled with ``CX_FOK_UNFILLABLE`` and nothing trades.
  POST_ONLY is rejected (``R_POST_ONLY_WOULD_TAKE``) if its price crosses the
  opposite best; otherwise it rests like LIMIT.
* Each trade happens at the resting (maker) order's price.
* Self-trade prevention applies when the maker's account equals the
  incoming order's account and the incoming order's ``stp`` is not
  ``STP_NONE``: CANCEL_RESTING cancels the maker (``CX_STP``) and matching
  goes on; CANCEL_INCOMING cancels the incoming order's remainder (``CX_STP``)
  and stops; CANCEL_BOTH does both.  For FOK the fillable quantity is
  counted with the same rule (self orders skipped for CANCEL_RESTING,
  counting stops at the first self order for the other two modes).
* CANCEL removes the order (``EV_CANCELLED``, ``CX_USER``, qty = what was
  left).  REDUCE takes ``qty`` lots off and keeps priority
  (``EV_MODIFIED`` with the new remaining qty), or cancels like CANCEL when
  ``qty >= remaining``.
* MODIFY sets a new price and remaining qty.  Same price and qty not larger
  than the remaining qty: in place, priority kept.  Otherwise the order
  leaves its queue and re-enters as a new arrival (same id, same account,
  same time-in-force) at the back of the new level; a LIMIT that now crosses
  matches first (taker), a POST_ONLY that would cross is rejected
  (``R_POST_ONLY_WOULD_TAKE``) and stays as it was.  ``EV_MODIFIED`` is
  emitted before any fills that the modify causes.
* Ids of orders that are gone (filled, cancelled) are unknown: a later
  CANCEL/MODIFY/REDUCE is rejected with ``R_UNKNOWN_ID``; a new order may
  reuse the id.

Outputs
-------
Fills (``FILL_DTYPE``), one row per maker order touched by a trade::

    ts, book, maker_id, taker_id, maker_account, taker_account,
    price (ticks), qty (lots), taker_side

Order events (``EVENT_DTYPE``)::

    ts, kind, book, order_id, account, side, price, qty, reason

``kind`` is one of:

* ``EV_ACCEPTED``: a new order passed validation (qty = its size,
  price = its limit, or 0 for MARKET); emitted before its fills.
* ``EV_REJECTED``: the message failed (reason = ``R_*``; qty/price echo it).
* ``EV_MODIFIED``: MODIFY or partial REDUCE applied (qty = new remaining).
* ``EV_CANCELLED``: the order is done, its remainder cancelled
  (qty = lots cancelled, reason = ``CX_*``).
* ``EV_FILLED``: the order is done, fully filled (qty = 0), emitted after the
  fill row that completed it.

``EV_CANCELLED`` and ``EV_FILLED`` are the *done* events (``DONE_KINDS``):
every accepted order gets exactly one of them when it leaves the book, or
stays live.  Within one message the rows come in this order: ACCEPTED or
MODIFIED; then per maker touched: its fill row, then the maker's FILLED if it
is done; then the taker's terminal event (FILLED, or CANCELLED for an
IOC/MARKET/FOK/STP remainder).  An STP-cancelled maker emits its CANCELLED
event at the point in the walk where it was met.
"""
from __future__ import annotations

import numpy as np

# --- sides -------------------------------------------------------------
BUY = 0
SELL = 1

# --- message types -----------------------------------------------------
LIMIT = 1
MARKET = 2
IOC = 3
FOK = 4
POST_ONLY = 5
CANCEL = 6
MODIFY = 7
REDUCE = 8
NEW_ORDER_TYPES = (LIMIT, MARKET, IOC, FOK, POST_ONLY)
MSG_TYPE_NAMES = {LIMIT: "LIMIT", MARKET: "MARKET", IOC: "IOC", FOK: "FOK",
                  POST_ONLY: "POST_ONLY", CANCEL: "CANCEL", MODIFY: "MODIFY",
                  REDUCE: "REDUCE"}

# --- self-trade prevention modes ---------------------------------------
STP_NONE = 0
STP_CANCEL_RESTING = 1
STP_CANCEL_INCOMING = 2
STP_CANCEL_BOTH = 3

# --- event kinds -------------------------------------------------------
EV_ACCEPTED = 1
EV_REJECTED = 2
EV_MODIFIED = 3
EV_CANCELLED = 4
EV_FILLED = 5
DONE_KINDS = (EV_CANCELLED, EV_FILLED)
EVENT_KIND_NAMES = {EV_ACCEPTED: "ACCEPTED", EV_REJECTED: "REJECTED",
                    EV_MODIFIED: "MODIFIED", EV_CANCELLED: "CANCELLED",
                    EV_FILLED: "FILLED"}

# --- reject reasons (EV_REJECTED.reason) -------------------------------
R_BAD_TYPE = 1
R_BAD_BOOK = 2
R_BAD_SIDE = 3
R_BAD_ID = 4
R_DUPLICATE_ID = 5
R_UNKNOWN_ID = 6
R_NOT_OWNER = 7
R_OFF_GRID = 8
R_BAD_PRICE = 9
R_BAD_QTY = 10
R_POST_ONLY_WOULD_TAKE = 11
R_BAD_STP = 12
R_INSUFFICIENT_FUNDS = 13      # set by the simulation layer's pre-trade check
REJECT_NAMES = {R_BAD_TYPE: "BAD_TYPE", R_BAD_BOOK: "BAD_BOOK",
                R_BAD_SIDE: "BAD_SIDE", R_BAD_ID: "BAD_ID",
                R_DUPLICATE_ID: "DUPLICATE_ID", R_UNKNOWN_ID: "UNKNOWN_ID",
                R_NOT_OWNER: "NOT_OWNER", R_OFF_GRID: "OFF_GRID",
                R_BAD_PRICE: "BAD_PRICE", R_BAD_QTY: "BAD_QTY",
                R_POST_ONLY_WOULD_TAKE: "POST_ONLY_WOULD_TAKE",
                R_BAD_STP: "BAD_STP", R_INSUFFICIENT_FUNDS: "INSUFFICIENT_FUNDS"}

# --- cancel reasons (EV_CANCELLED.reason) ------------------------------
CX_USER = 1
CX_IOC_REMAINDER = 2
CX_FOK_UNFILLABLE = 3
CX_STP = 4
CANCEL_NAMES = {CX_USER: "USER", CX_IOC_REMAINDER: "IOC_REMAINDER",
                CX_FOK_UNFILLABLE: "FOK_UNFILLABLE", CX_STP: "STP"}

# --- limits and sentinels ----------------------------------------------
AUTO_ID_BASE = 10**15          # engine-assigned ids start here
MAX_QTY = 1 << 48              # largest order size, lots
PRICE_OFF_GRID = -(1 << 62)    # price sentinel: not a multiple of the tick
QTY_OFF_LOT = -(1 << 62)       # qty sentinel: not a multiple of the lot
DEFAULT_MAX_PRICE_TICKS = 1 << 50
MAX_DEPTH_BPS = 1_000_000      # depth_within's widest band: 10,000% of mid


def check_depth_bps(bps) -> int:
    """Validate the band of ``depth_within``: an integer in [0, MAX_DEPTH_BPS]."""
    if isinstance(bps, bool) or int(bps) != bps or not 0 <= bps <= MAX_DEPTH_BPS:
        raise ValueError(f"bps must be an integer in [0, {MAX_DEPTH_BPS}], got {bps!r}")
    return int(bps)

# --- record layouts ----------------------------------------------------
MSG_FIELDS = ("ts", "type", "book", "side", "order_id", "price", "qty",
              "account", "stp")
FILL_FIELDS = ("ts", "book", "maker_id", "taker_id", "maker_account",
               "taker_account", "price", "qty", "taker_side")
EVENT_FIELDS = ("ts", "kind", "book", "order_id", "account", "side", "price",
                "qty", "reason")

MSG_DTYPE = np.dtype([(f, np.int64) for f in MSG_FIELDS])
FILL_DTYPE = np.dtype([(f, np.int64) for f in FILL_FIELDS])
EVENT_DTYPE = np.dtype([(f, np.int64) for f in EVENT_FIELDS])

# column indices (used by the kernel on int64 matrices)
M_TS, M_TYPE, M_BOOK, M_SIDE, M_ID, M_PRICE, M_QTY, M_ACCT, M_STP = range(9)
N_MSG = len(MSG_FIELDS)
F_TS, F_BOOK, F_MAKER, F_TAKER, F_MAKER_ACCT, F_TAKER_ACCT, F_PRICE, F_QTY, \
    F_TAKER_SIDE = range(9)
N_FILL = len(FILL_FIELDS)
E_TS, E_KIND, E_BOOK, E_ID, E_ACCT, E_SIDE, E_PRICE, E_QTY, E_REASON = range(9)
N_EVENT = len(EVENT_FIELDS)


def messages(n: int) -> np.ndarray:
    """A zeroed array of ``n`` messages (``MSG_DTYPE``)."""
    return np.zeros(n, MSG_DTYPE)


def as_matrix(arr: np.ndarray, dtype: np.dtype = MSG_DTYPE) -> np.ndarray:
    """View an array of ``dtype`` records (all nine fields int64: messages,
    fills or events), or an (n, 9) int64 array, as an (n, 9) C-contiguous
    int64 matrix, copying only when needed."""
    if arr.dtype.names is not None:
        if arr.dtype != dtype and [arr.dtype[k] for k in range(len(arr.dtype))] != [np.dtype(np.int64)] * 9:
            raise ValueError(f"expected records of {dtype.names}, got {arr.dtype}")
        arr = np.ascontiguousarray(arr)
        return arr.view(np.int64).reshape(len(arr), 9)
    mat = np.ascontiguousarray(arr, dtype=np.int64)
    if mat.ndim != 2 or mat.shape[1] != 9:
        raise ValueError(f"expected {dtype.names} records or an (n, 9) int64 array, "
                         f"got shape {mat.shape} dtype {arr.dtype}")
    return mat
