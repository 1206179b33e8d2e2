"""The state of a simulation as a NamedTuple of arrays (``World``).

The compiled kernel (``kernel.advance``) reads and writes only these arrays;
the Python layer (``model.Simulation``) allocates them, grows them when the
kernel asks, and drains the logs.  Column meanings: ``layout``.

Units: ns, ticks, lots, atoms (balances), ppm (fees).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import layout as L

# order info columns (per live order placed through the simulation)
OI_AGENT = 0
OI_ACCT = 1
OI_BOOK = 2
OI_SIDE = 3
OI_LIMIT = 4      # limit price (ticks) used for the quote reservation
OI_QTY = 5        # remaining lots
OI_RESV_Q = 6     # quote atoms reserved
OI_RESV_B = 7     # base atoms reserved
OI_LPOS = 8       # position in the agent's live-order list (-1: not listed)
OI_NEXT_FREE = 9
N_OI = 10

# oracle (fundamental value) columns, per asset, float64
OR_MU = 0         # long-run mean (price units of the asset's reference book, ticks)
OR_KAPPA = 1      # mean reversion, 1/s
OR_SIGMA = 2      # volatility, ticks/sqrt(s)
OR_JUMP_RATE = 3  # megashocks per s
OR_JUMP_SIGMA = 4  # jump size, relative
OR_T = 5          # time of the last evaluation, ns
OR_VALUE = 6      # value at OR_T, ticks
OR_ON = 7         # 1: the asset has an oracle
N_OR = 8

PY_ID_BASE = 1 << 48    # ids of orders sent by Python strategies start here

# rows of each log buffer (a full buffer becomes a chunk of the run's log).  2**19 rows of 11-20
# int64 columns are 46-84 MB: above glibc's largest mmap threshold (32 MiB), so each buffer is
# its own mapping and goes back to the system when the run is freed.  With 2**16 rows (6-10 MB)
# the chunks came from the malloc heap, which kept the memory after the run (a worker of
# lob compare held 4.5 GB of freed heap after three oct-10-2025 runs).  Pages never written
# (the tail of the last chunk, logs not kept) are never resident.
LOG_CAP = 1 << 19


class World(NamedTuple):
    clock: np.ndarray      # int64[N_CLOCK]
    heap: np.ndarray       # int64[cap, 8]
    ev: np.ndarray         # int64[8]: the event being processed
    pyev: np.ndarray       # int64[8]: the event handed to Python
    arena: np.ndarray      # the matching engine (lob.core)
    efills: np.ndarray     # int64[3k * 9] engine output scratch: k fill rows, then 2k event rows
    msg: np.ndarray        # int64[9] engine input scratch
    pend: np.ndarray       # int64[cap, N_PEND] messages in flight
    books: np.ndarray      # int64[B, N_BOOK_I]
    venues: np.ndarray     # int64[V, N_VENUE]
    tape: np.ndarray       # int64[B, TAPE_LEN, N_TAPE]
    bal: np.ndarray        # int64[accounts, assets]
    resv: np.ndarray       # int64[accounts, assets]
    cost: np.ndarray       # int64[accounts, assets] net quote atoms paid for each asset (buys minus
                           # sells, plus the opening cost basis): entry prices, perp PnL
    credit: np.ndarray     # int64[accounts, assets] how far below zero a balance may go (a
                           # venue's margin loan line, atoms); 0 = cash only
    ordmap: np.ndarray     # int64[cap, 2] order id -> order-info row
    oinfo: np.ndarray      # int64[cap, N_OI]
    agents: np.ndarray     # int64[N, N_AGENT_I]
    ap: np.ndarray         # float64[N, 16] agent parameters
    ai: np.ndarray         # int64[N, 8] agent integer parameters
    ast: np.ndarray        # float64[N, 16] agent state
    arng: np.ndarray       # uint64[N, 4] agent random streams
    alist: np.ndarray      # int64[pool] live order ids of each agent
    aloff: np.ndarray      # int64[N] offset of each agent's list in alist
    alcap: np.ndarray      # int64[N]
    alcnt: np.ndarray      # int64[N]
    oracle: np.ndarray     # float64[assets, N_OR]
    orng: np.ndarray       # uint64[assets, 4]
    shocks: np.ndarray     # float64[k, 3]: time ns, asset, relative jump (sorted by time)
    logf: np.ndarray       # int64[cap, N_LOGF]
    loge: np.ndarray       # int64[cap, N_LOGE]
    logs: np.ndarray       # int64[cap, N_LOGS]
    logu: np.ndarray       # int64[cap, N_LOGU]
    notes: np.ndarray      # int64[cap, N_NOTE] notifications on their way to Python agents
    gbuf: np.ndarray       # float64[...] compiled guarded market makers' windows (lob.sim.guarded)


def empty_world(*, arena: np.ndarray, n_books: int, n_venues: int, n_accounts: int, n_assets: int,
                n_agents: int, list_caps: np.ndarray, log_cap: int | None = None, heap_cap: int = 1 << 12,
                pend_cap: int = 1 << 10, order_cap: int = 1 << 12) -> World:
    """Zeroed tables of the given sizes (the scenario builder fills them);
    ``log_cap`` rows per log buffer (default ``LOG_CAP``)."""
    log_cap = LOG_CAP if log_cap is None else int(log_cap)
    clock = np.zeros(L.N_CLOCK, np.int64)
    clock[L.K_NEXT_OID] = 1
    clock[L.K_PY_AGENT] = -1
    pend = np.zeros((pend_cap, L.N_PEND), np.int64)
    pend[:, L.P_NEXT_FREE] = np.arange(1, pend_cap + 1)
    pend[-1, L.P_NEXT_FREE] = -1
    clock[L.K_PEND_FREE] = 0
    oinfo = np.zeros((order_cap, N_OI), np.int64)
    oinfo[:, OI_NEXT_FREE] = np.arange(1, order_cap + 1)
    oinfo[-1, OI_NEXT_FREE] = -1
    notes = np.zeros((256, L.N_NOTE), np.int64)
    notes[:, L.NOTE_NEXT_FREE] = np.arange(1, 257)
    notes[-1, L.NOTE_NEXT_FREE] = -1
    clock[L.K_NOTE_FREE] = 0
    list_caps = np.asarray(list_caps, np.int64)
    aloff = np.zeros(n_agents, np.int64)
    aloff[1:] = np.cumsum(list_caps)[:-1]
    return World(
        clock=clock, heap=np.zeros((heap_cap, 8), np.int64), ev=np.zeros(8, np.int64),
        pyev=np.zeros(8, np.int64), arena=arena,
        efills=np.zeros(3 * 1024 * 9, np.int64),
        msg=np.zeros(9, np.int64), pend=pend,
        books=np.zeros((n_books, L.N_BOOK_I), np.int64), venues=np.zeros((n_venues, L.N_VENUE), np.int64),
        tape=np.zeros((n_books, L.TAPE_LEN, L.N_TAPE), np.int64),
        bal=np.zeros((n_accounts, n_assets), np.int64), resv=np.zeros((n_accounts, n_assets), np.int64),
        credit=np.zeros((n_accounts, n_assets), np.int64), cost=np.zeros((n_accounts, n_assets), np.int64),
        ordmap=np.zeros((2 * order_cap, 2), np.int64), oinfo=oinfo,
        agents=np.zeros((n_agents, L.N_AGENT_I), np.int64), ap=np.zeros((n_agents, 16)),
        ai=np.zeros((n_agents, 8), np.int64), ast=np.zeros((n_agents, 16)),
        arng=np.zeros((n_agents, 4), np.uint64),
        alist=np.zeros(max(1, int(list_caps.sum())), np.int64), aloff=aloff, alcap=list_caps.copy(),
        alcnt=np.zeros(n_agents, np.int64),
        oracle=np.zeros((n_assets, N_OR)), orng=np.zeros((n_assets, 4), np.uint64),
        shocks=np.zeros((0, 3)),
        logf=np.zeros((log_cap, L.N_LOGF), np.int64), loge=np.zeros((log_cap, L.N_LOGE), np.int64),
        logs=np.zeros((log_cap, L.N_LOGS), np.int64), logu=np.zeros((log_cap, L.N_LOGU), np.int64),
        notes=notes, gbuf=np.zeros(1),
    )
