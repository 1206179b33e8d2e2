"""Column layouts and codes of the simulation kernel's tables.

Units: time in ns; prices in ticks of the book; quantities in lots;
balances in *atoms* of each asset (the smallest unit the simulation counts,
``Asset.atom``); fees in parts per million of notional.
"""
from __future__ import annotations

import numpy as np

# ---- event kinds in the heap ---------------------------------------------
EV_WAKE = 1        # an agent's timer fires (agent-local time = venue time here)
EV_ORDER = 2       # an order message reaches its venue (p0 = pending-message row)
EV_NOTIFY = 3      # an agent learns of its own fill / order event (p0 = kind, p1..p3 payload)
EV_SNAPSHOT = 4    # record book snapshots
EV_STOP = 5

# ---- EV_NOTIFY payload kinds ----------------------------------------------
# p1 = a row of World.notes holding a copy of the fill row (N_FILL; the 13
# columns of the fill log) or of the order-event row (N_ORDER; 11 columns);
# the row is freed when the notification is delivered
N_FILL = 1
N_ORDER = 2
NOTE_NEXT_FREE = 15
N_NOTE = 16

# ---- clock / counters (int64 vector) --------------------------------------
K_NOW = 0
K_SEQ = 1          # heap tie-break counter
K_HEAPN = 2
K_NEXT_OID = 3     # next kernel-assigned order id
K_NFILL = 4        # rows in the fill log
K_NEVT = 5         # rows in the order-event log
K_NSNAP = 6        # rows in the snapshot log
K_NPEND = 7        # pending-message rows in use (high-water, rows recycled via free list)
K_PEND_FREE = 8
K_PY_AGENT = 9     # agent whose Python callback is due (-1: none)
K_EVENTS = 10      # events processed
K_SNAP_DT = 11     # snapshot interval, ns (0: off)
K_NSUB = 12        # rows in the submission log
K_OI_FREE = 13     # head of the free order-info rows
K_NEXT_SHOCK = 14  # next scheduled fundamental shock (row of World.shocks)
K_OI_LIVE = 15     # order-info rows in use
K_GROW = 16        # what S_GROW asks for: an engine status (lob.core._layout.ST_*) or G_*
K_NOTE_FREE = 17   # head of the free notification rows
K_NOTE_LIVE = 18
K_LOGMASK = 19     # which logs are kept: LOG_* bits (rows of the others are overwritten)
N_CLOCK = 24

# ---- what S_GROW asks for (besides engine statuses 1..6) -------------------
G_HEAP = 101
G_PEND = 102
G_ORDERS = 103     # order-info rows and the id map
G_SCRATCH = 104    # engine output scratch buffers
G_NOTES = 105      # notification rows

# ---- status returned by advance() -----------------------------------------
S_DONE = 0         # reached t_stop (or the queue emptied)
S_PYTHON = 1       # a Python agent's event is due: see pyev
S_FLUSH = 2        # a log buffer is full: flush and call again
S_GROW = 3         # a table is full: grow and call again

# ---- pending messages (orders in flight to the venue) ---------------------
# the engine message (codes.MSG_FIELDS) + who sent it and when
P_MSG = 0          # 9 columns of the engine message
P_AGENT = 9
P_SENT = 10        # agent-local send time, ns
P_NEXT_FREE = 11
N_PEND = 12

# ---- agents ----------------------------------------------------------------
A_KIND = 0
A_ACCOUNT = 1      # account row
A_BOOK = 2         # the book it trades (-1: several)
A_LAT_ORD = 3      # order-entry latency, ns (mean)
A_LAT_ORD_JIT = 4  # jitter: lognormal sigma x 1e6 (0: constant)
A_LAT_MD = 5       # market-data latency, ns
A_NOTIFY = 6       # 1: send EV_NOTIFY for own fills and order events; 2: fills only
A_PY = 7           # 1: a Python strategy handles its events
A_HALT = 8         # 1: halted (its account was taken over by a risk engine): wake-ups are
                   # dropped (the loop sets 2 when it drops one, so a restart knows to wake it)
N_AGENT_I = 9

# agent kinds (compiled)
KIND_NONE = 0
KIND_ZI = 1        # zero-intelligence flow for one book (SFGK / CST)
KIND_NOISE = 2
KIND_VALUE = 3
KIND_MOMENTUM = 4
KIND_LADDER_MM = 5
KIND_EXECUTOR = 6  # splits parent orders (metaorders) into child market orders
KIND_LATENT = 7    # a latent trader: hidden reservation price, the latent order book (LLOB)
KIND_PYTHON = 9
KIND_GUARDED_MM = 12   # the guarded ladder market maker, compiled (lob.sim.guarded)

# ---- accounts ---------------------------------------------------------------
# balances[acct, asset] and reserved[acct, asset] in atoms

# ---- books (int64 rows) -------------------------------------------------------
BK_VENUE = 0
BK_BASE = 1        # base asset index
BK_QUOTE = 2       # quote asset index
BK_SCALE = 3       # quote atoms per (tick x lot)
BK_LOT = 4         # base atoms per lot
BK_TAPE_HEAD = 5   # next write position in the tape ring
BK_REF = 6         # the asset whose fundamental (oracle) the book's agents read: its base,
                   # or the underlying of a perpetual
BK_QUOTE_APU = 7   # quote atoms per whole quote unit (for notionals in quote units)
N_BOOK_I = 8

# ---- venues ---------------------------------------------------------------
V_MAKER_PPM = 0
V_TAKER_PPM = 1
V_FEE_ACCT = 2
N_VENUE = 4

# ---- tape: per-book ring of top-of-book changes ----------------------------
TP_TS = 0
TP_BID = 1
TP_ASK = 2
TP_LAST = 3
N_TAPE = 4
TAPE_LEN = 4096   # must cover the longest market-data latency at the busiest book

# ---- logs ------------------------------------------------------------------
# fill log: the engine fill row + venue time already in it + the local times
# at which maker and taker learn of it
LF_FILL = 0        # 9 columns (codes.FILL_FIELDS)
LF_MAKER_AGENT = 9
LF_TAKER_AGENT = 10
LF_MAKER_LOCAL = 11
LF_TAKER_LOCAL = 12
N_LOGF = 13
# order-event log: the engine event row + agent + local time it is learnt
LE_EVENT = 0       # 9 columns (codes.EVENT_FIELDS)
LE_AGENT = 9
LE_LOCAL = 10
N_LOGE = 11
# snapshot log: ts, book, bid, bid qty, ask, ask qty, last, depth within 1%/2%/5%/10% per side
LS_TS = 0
LS_BOOK = 1
LS_BID = 2
LS_BIDQ = 3
LS_ASK = 4
LS_ASKQ = 5
LS_LAST = 6
LS_PAD = 7
LS_DEPTH = 8       # 8 columns: lots within 1%, 2%, 5%, 10% of the mid, (bid, ask) for each band
DEPTH_BPS = (100, 200, 500, 1000)
LS_SELL = 16       # 3 columns: slippage of a market sell of SELL_NOTIONALS quote units into
                   # the bids, against the mid, in 0.01 bps (-1: the bids cannot fill it)
SELL_NOTIONALS = (100_000, 1_000_000, 10_000_000)
N_LOGS = 20
# submission log: agent, local send time, venue arrival time, message (9)
LU_AGENT = 0
LU_SENT = 1
LU_ARRIVE = 2
LU_MSG = 3
N_LOGU = 12

LOG_FILLS = 1
LOG_EVENTS = 2
LOG_SNAPSHOTS = 4
LOG_SUBMISSIONS = 8
LOG_ALL = 15
LOG_BITS = {"fills": LOG_FILLS, "events": LOG_EVENTS, "snapshots": LOG_SNAPSHOTS, "submissions": LOG_SUBMISSIONS}

LOG_FILL_FIELDS = ("ts", "book", "maker_id", "taker_id", "maker_account", "taker_account", "price", "qty",
                   "taker_side", "maker_agent", "taker_agent", "maker_local_ts", "taker_local_ts")
LOG_EVENT_FIELDS = ("ts", "kind", "book", "order_id", "account", "side", "price", "qty", "reason",
                    "agent", "local_ts")
LOG_SNAP_FIELDS = ("ts", "book", "bid", "bid_qty", "ask", "ask_qty", "last", "pad",
                   "bid_1pct", "ask_1pct", "bid_2pct", "ask_2pct", "bid_5pct", "ask_5pct", "bid_10pct", "ask_10pct",
                   "sell_100k", "sell_1m", "sell_10m", "pad2")
LOG_SUB_FIELDS = ("agent", "sent_ts", "arrive_ts", "ts", "type", "book", "side", "order_id", "price", "qty",
                  "account", "stp")
LOG_FILL_DTYPE = np.dtype([(f, np.int64) for f in LOG_FILL_FIELDS])
LOG_EVENT_DTYPE = np.dtype([(f, np.int64) for f in LOG_EVENT_FIELDS])
LOG_SNAP_DTYPE = np.dtype([(f, np.int64) for f in LOG_SNAP_FIELDS])
LOG_SUB_DTYPE = np.dtype([(f, np.int64) for f in LOG_SUB_FIELDS])
