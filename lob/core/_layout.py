"""Memory layout of the engine's arena: one flat int64 array holding every
table of the order book engine.

Why one array: a Python -> numba call costs about 60 ns per array argument
(measured: 300 ns for one array and eight scalars, 690 ns for eight arrays and
the same scalars), and the per-message entry point must stay under 1 us.  So
the whole engine state is a single int64 buffer; the kernel slices 2-D views
out of it once per call.  A fixed header at the start of the arena records
where each table starts and how many rows it has.

Tables (rows x columns, all int64):

=========  ==================  ==============================================
table      rows                columns
=========  ==================  ==============================================
orders     order capacity      ``O_*``: one slot per live order; free slots
                               are chained through ``O_NEXT``
levels     level capacity      ``L_*``: one per non-empty price level, FIFO of
                               orders as a doubly linked list head..tail
books      n_books             ``B_*``: per book and side: level count, ladder
                               offset/capacity, order count; last trade
chunks     chunk capacity      ``K_*``: a 64-tick window of one book side: an
                               occupancy bitmap and 64 level slots
ladder     ladder pool size    2 columns: chunk key and chunk row; each book
                               side owns a slice ``[off, off+cap)`` holding its
                               occupied chunks sorted by key ascending, best
                               **last**
hash       hash capacity       2 columns: order id -> order slot, open
                               addressing with linear probing, id 0 = empty
fills      fill capacity       ``codes.FILL_FIELDS`` (output buffer)
events     event capacity      ``codes.EVENT_FIELDS`` (output buffer)
inbox      1                   ``codes.MSG_FIELDS`` (per-message entry point)
=========  ==================  ==============================================

Price index.  Each side ranks prices by ``r = price`` (bids) or
``r = RANK_BASE - price`` (asks), so that higher ``r`` is always better.  A
level lives in chunk ``r >> 6`` at bit ``r & 63``; a chunk exists only while
one of its 64 ticks holds a level.  The best level is the highest set bit of
the last chunk in the side's ladder slice (one ``ctlz``); finding a level by
price is a check of the top chunk, else a binary search over the side's
chunks; adding or removing a level flips a bit, and only creating or
dropping a whole chunk shifts ladder entries.  Memory is proportional to
live orders, non-empty levels and occupied 64-tick windows, never to the
price range of a book: a book can trade from 1 tick to ``max_price_ticks``
(at most 2**50) without allocating anything for the prices in between.
"""
from __future__ import annotations

from .codes import N_EVENT, N_FILL, N_MSG

# ---- header slots ------------------------------------------------------
H_MAGIC = 0
H_NBOOKS = 1
H_ORD_CAP = 2
H_ORD_OFF = 3
H_LVL_CAP = 4
H_LVL_OFF = 5
H_BOOK_OFF = 6
H_LAD_CAP = 7
H_LAD_OFF = 8
H_LAD_USED = 9      # next unused row of the ladder pool
H_HASH_CAP = 10     # power of two
H_HASH_OFF = 11
H_FILL_CAP = 12
H_FILL_OFF = 13
H_EV_CAP = 14
H_EV_OFF = 15
H_INBOX_OFF = 16
H_ORD_FREE = 17     # head of the free order-slot list (-1: none)
H_ORD_LIVE = 18
H_LVL_FREE = 19
H_LVL_LIVE = 20
H_HASH_COUNT = 21
H_NFILLS = 22       # rows written in the fills buffer
H_NEVENTS = 23      # rows written in the events buffer
H_NEXT_ID = 24      # next engine-assigned order id
H_SEQ = 25          # arrival sequence counter (FIFO witness)
H_NMSG = 26         # messages processed since creation
H_NEED_BOOK = 27    # book whose ladder must grow (ST_NEED_LADDER)
H_NEED_SIDE = 28
H_NEED_FILLS = 29   # free fill rows the pending message needs
H_NEED_EVENTS = 30  # free event rows the pending message needs
H_RESULT = 31       # result of the last message (order id, or 0 if rejected)
H_CHK_CAP = 32
H_CHK_OFF = 33
H_CHK_FREE = 34
H_CHK_LIVE = 35
H_NEXT_INDEX = 36   # next unprocessed message after run() returns
N_HEADER = 64
MAGIC = 0x4C4F42_0003  # "LOB", layout version 3
RANK_BASE = 1 << 51     # ask rank = RANK_BASE - price
MAX_PRICE_LIMIT = 1 << 50

# ---- orders table (64-byte rows) ------------------------------------------
# An order's book, side and price are those of its level (O_LEVEL).
O_ID = 0
O_QTY = 1       # remaining lots
O_PREV = 2
O_NEXT = 3      # next in level FIFO, or next free slot
O_LEVEL = 4     # level row; -1 for a free slot
O_ACCT = 5
O_TIF = 6       # LIMIT or POST_ONLY
O_SEQ = 7       # arrival sequence number (FIFO witness)
N_ORD = 8

# ---- levels table (64-byte rows) ------------------------------------------
L_PRICE = 0
L_QTY = 1
L_COUNT = 2
L_HEAD = 3      # first order; next free level while free
L_TAIL = 4
L_BOOK = 5      # -1 for a free level
L_SIDE = 6
L_CHUNK = 7     # chunk row holding this level
N_LVL = 8
L_NEXT_FREE = L_HEAD

# ---- chunks table (64-byte aligned rows) ----------------------------------
K_KEY = 0       # r >> 6
K_BITS = 1      # occupancy bitmap (bit j = rank (key << 6) + j holds a level)
K_NEXT_FREE = 2  # free list link; -1 marks the end
K_LVL = 8       # K_LVL + j: level row at bit j
N_CHK = 8 + 64

# ---- books table (per side fields are FIELD + side) --------------------
B_MAX_PRICE = 0
B_NCHK = 1      # +side: occupied chunks (ladder entries)
B_LOFF = 3      # +side: ladder slice offset
B_LCAP = 5      # +side: ladder slice capacity
B_NORD = 7      # +side: live orders
B_LAST_PX = 9
B_LAST_TS = 10
B_VOLUME = 11
B_NTRADES = 12
B_NLEV = 13     # +side: non-empty levels
N_BOOK = 16

N_LAD = 2       # chunk key, chunk row
N_HASH = 2      # order id, slot

# ---- kernel status codes -----------------------------------------------
ST_OK = 0
ST_NEED_ORDERS = 1
ST_NEED_LEVELS = 2
ST_NEED_LADDER = 3
ST_NEED_HASH = 4
ST_NEED_OUTPUT = 5
ST_NEED_CHUNKS = 6
STATUS_NAMES = {ST_OK: "OK", ST_NEED_ORDERS: "NEED_ORDERS",
                ST_NEED_LEVELS: "NEED_LEVELS", ST_NEED_LADDER: "NEED_LADDER",
                ST_NEED_HASH: "NEED_HASH", ST_NEED_OUTPUT: "NEED_OUTPUT",
                ST_NEED_CHUNKS: "NEED_CHUNKS"}


def layout(n_books: int, ord_cap: int, lvl_cap: int, chk_cap: int, lad_cap: int,
           hash_cap: int, fill_cap: int, ev_cap: int) -> dict[str, int]:
    """Offsets of each table for the given capacities; ``size`` is the total
    number of int64 cells."""
    off = {}
    pos = N_HEADER          # every table starts on a 64-byte boundary
    for name, rows, cols in (("orders", ord_cap, N_ORD), ("levels", lvl_cap, N_LVL),
                             ("chunks", chk_cap, N_CHK), ("books", n_books, N_BOOK),
                             ("ladder", lad_cap, N_LAD),
                             ("hash", hash_cap, N_HASH), ("fills", fill_cap, N_FILL),
                             ("events", ev_cap, N_EVENT), ("inbox", 1, N_MSG)):
        off[name] = pos
        pos += (rows * cols + 7) // 8 * 8
    off["size"] = pos
    return off
