"""Watch market makers through a run: their account value, inventory and
resting orders sampled from the venue's own state every ``every_s``
seconds, and the benchmark figures computed from those samples.

The orders a market maker has resting are read from the venue, not from
the logs: the agent's live-order list (``World.alist``, what the venue
holds for it, up to its ``AgentSpec.list_cap``), each order's remaining
quantity, side and price (``World.oinfo`` through the order-id map).  This
works whether or not the run keeps the order-event log or the strategy is
told of order events (``oct-10-2025`` keeps neither for its market makers),
and changes nothing in the run: the sampler is the ``progress`` callback of
:meth:`lob.sim.model.Simulation.run`, called between compiled stretches
(at least once per simulated second wherever a Python agent -- a risk
engine, a market maker -- acts every second); each sample is taken at the
first call at or after its due time and weighted by the time to the next.

Figures per agent (:meth:`Sampler.figures`), money in the quote asset of
its book (USDT: USD):

* ``pnl``: the account's trading PnL at the end, ``sum over assets of
  (balance_end - balance_start) x price_end`` (what it made against holding
  its opening balances; prices: the mids of the venue's books, else their
  last trade); ``pnl_pct``: in % of its opening equity;
* ``drawdown``: the worst fall of that PnL, marked to market at every
  sample, from its running peak (``drawdown_pct``: in % of opening equity);
  opening equity (``equity_start``): its opening balances at the last
  prices before the crash window (``start_s``);
* ``inventory_at_low``: the change of its base-asset inventory since the
  opening (base units; ``_usd``: at the median mid of the five minutes
  before the crash window) at the sample where its book's mid is lowest
  inside the crash window (``low``, quote units; ``t_low_s``: seconds into
  the window);
* ``time_in_market`` / ``time_with_bids``: the share of the crash window
  with at least one order / one bid resting;
* ``liquidity_2pct_usd`` / ``bid_liquidity_2pct_usd``: the time-weighted
  mean over the crash window of its resting quantity within 2% of the mid
  (both sides / bids), in USD at the mid;
* ``liquidated``: whether the venue's risk engine took its account over
  (``margin_events`` kind 2), and ``liquidated_usd`` the notional it sold
  for it (kind 3).
"""
from __future__ import annotations

import numpy as np

from ..core import _queries as EQ
from ..core import codes as C
from ..sim import idmap
from ..sim import layout as L
from ..sim import world as WD

NS = 1_000_000_000


def lookup_rows(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Values of ``keys`` in an order-id map (:mod:`lob.sim.idmap`), -1 where
    absent: the same linear probing, for many keys at once."""
    keys = np.asarray(keys, np.int64)
    out = np.full(len(keys), -1, np.int64)
    if not len(keys):
        return out
    mask = table.shape[0] - 1
    with np.errstate(over="ignore"):
        h = ((keys.astype(np.uint64) * idmap._GOLDEN) >> np.uint64(29)).astype(np.int64) & mask
    todo = np.arange(len(keys))
    while len(todo):
        k = table[h[todo], 0]
        hit = k == keys[todo]
        out[todo[hit]] = table[h[todo[hit]], 1]
        todo = todo[~hit & (k != 0)]
        h[todo] = (h[todo] + 1) & mask
    return out


class Sampler:
    """The ``progress`` callback that samples ``agents`` every ``every_s``
    seconds (see the module docstring); ``band`` is the distance from the
    mid that counts as near (0.02: 2%)."""

    def __init__(self, sim, agents, every_s: float = 1.0, band: float = 0.02, start_s: float = 0.0):
        self.sim = sim
        self.start_ns = int(start_s * NS)
        self.agents = np.asarray(sorted(agents), np.int64)
        self.every = int(every_s * NS)
        self.band = band
        W, spec = sim.W, sim.spec
        self.accts = W.agents[self.agents, L.A_ACCOUNT].astype(np.int64)
        self.books = W.agents[self.agents, L.A_BOOK].astype(np.int64)
        nb, na = len(spec.books), len(spec.assets)
        self.tick = np.array([float(b.tick) for b in spec.books])
        self.lot_units = np.array([float(b.lot) for b in spec.books])
        atom = np.array([float(a.atom) for a in spec.assets])
        # per (venue, quote) of the agents' books: which book prices each asset
        self.groups = {}
        for k, b in enumerate(self.books.tolist()):
            bk = spec.books[b]
            key = (bk.venue, bk.quote)
            if key not in self.groups:
                src = np.full(na, -1, np.int64)
                for j, other in enumerate(spec.books):
                    if other.venue == bk.venue and other.quote == bk.quote:
                        src[sim.asset_ix[other.base]] = j
                self.groups[key] = (src, sim.asset_ix[bk.quote])
        self.group_of = [(spec.books[b].venue, spec.books[b].quote) for b in self.books.tolist()]
        self.atom = atom
        self.base = np.array([sim.asset_ix[spec.books[b].base] for b in self.books.tolist()], np.int64)
        self.lot_atoms = W.books[self.books, L.BK_LOT].astype(float)
        self._tops = np.zeros((nb, 3), np.int64)
        self._last_px = np.zeros(nb)
        self.next = 0
        self.t, self.pnl, self.inv, self.mid = [], [], [], []
        self.rest, self.bids, self.near_bid, self.near_ask = [], [], [], []
        self.bal0 = sim.initial_balances[self.accts].astype(float)
        self.equity_ref = np.full(len(self.agents), np.nan)

    def __call__(self, now_ns: int, stop_ns: int) -> None:
        if now_ns >= self.next:
            self.sample(now_ns)
            self.next = (now_ns // self.every + 1) * self.every

    # ------------------------------------------------------------ one sample
    def _book_prices(self):
        """Mid of every book (ticks; the last trade where one side is empty,
        else the previous price)."""
        W = self.sim.W
        EQ.tops(W.arena, self._tops)
        bid, ask, last = self._tops[:, 0], self._tops[:, 1], self._tops[:, 2]
        px = np.where((bid > 0) & (ask > 0), 0.5 * (bid + ask), np.where(last > 0, last, self._last_px))
        self._last_px = px
        return px

    def _asset_values(self, px):
        """Per group: quote units per atom of every asset (0: no book prices it)."""
        out = {}
        for key, (src, q) in self.groups.items():
            v = np.where(src >= 0, px[np.maximum(src, 0)] * self.tick[np.maximum(src, 0)], 0.0) * self.atom
            v[q] = self.atom[q]
            out[key] = v
        return out

    def sample(self, now_ns: int) -> None:
        W = self.sim.W
        px = self._book_prices()
        vals = self._asset_values(px)
        bal = W.bal[self.accts].astype(float)
        pnl = np.array([(bal[k] - self.bal0[k]) @ vals[g] for k, g in enumerate(self.group_of)])
        if now_ns <= self.start_ns or np.isnan(self.equity_ref).all():
            # opening equity at the last prices before the crash (the first samples' books are still filling)
            self.equity_ref = np.array([self.bal0[k] @ vals[g] for k, g in enumerate(self.group_of)])
        inv = bal[np.arange(len(self.agents)), self.base] / self.lot_atoms
        # resting orders from the venue's live-order lists
        off, cnt = W.aloff[self.agents], W.alcnt[self.agents]
        n = int(cnt.sum())
        owner = np.repeat(np.arange(len(self.agents)), cnt)
        start = np.repeat(off - np.concatenate(([0], np.cumsum(cnt)[:-1])), cnt)
        ids = W.alist[start + np.arange(n)] if n else np.zeros(0, np.int64)
        rows = lookup_rows(W.ordmap, ids)
        ok = rows >= 0
        owner, rows = owner[ok], rows[ok]
        side = W.oinfo[rows, WD.OI_SIDE]
        price = W.oinfo[rows, WD.OI_LIMIT].astype(float)
        qty = W.oinfo[rows, WD.OI_QTY].astype(float)
        ref = px[self.books][owner]
        is_bid = side == C.BUY
        usd = qty * self.lot_units[self.books][owner] * ref * self.tick[self.books][owner]
        near_b = is_bid & (price >= ref * (1 - self.band)) & (ref > 0)
        near_a = ~is_bid & (price <= ref * (1 + self.band)) & (ref > 0)
        k = len(self.agents)
        self.t.append(now_ns)
        self.pnl.append(pnl)
        self.inv.append(inv)
        self.mid.append(px[self.books] * self.tick[self.books])
        self.rest.append(np.bincount(owner, minlength=k))
        self.bids.append(np.bincount(owner[is_bid], minlength=k))
        self.near_bid.append(np.bincount(owner[near_b], weights=usd[near_b], minlength=k))
        self.near_ask.append(np.bincount(owner[near_a], weights=usd[near_a], minlength=k))

    # ------------------------------------------------------------ the figures
    def figures(self, res, window: tuple[float, float]) -> list[dict]:
        """One dict per sampled agent (see the module docstring); ``window``:
        the crash window (start, end), s.  Takes a last sample at the end."""
        self.sample(int(self.sim.W.clock[L.K_NOW]))
        t = np.array(self.t, float) / NS
        t_end = self.sim.t_end / NS
        dt = np.diff(np.append(t, max(t_end, t[-1])))              # each sample holds until the next
        P, I, M = (np.array(x) for x in (self.pnl, self.inv, self.mid))
        R, B, NB, NA = (np.array(x, float) for x in (self.rest, self.bids, self.near_bid, self.near_ask))
        lo, hi = window
        inw = (t >= lo) & (t < hi)
        w = np.where(inw, np.minimum(t + dt, hi) - t, 0.0)
        wsum = w.sum()
        pre = (t < lo) & (t >= lo - 300.0)
        taken, liq = _takeovers(res)
        rows = []
        for k, a in enumerate(self.agents.tolist()):
            eq0 = float(self.equity_ref[k])
            peak = np.maximum.accumulate(P[:, k])
            m = np.where(inw & (M[:, k] > 0), M[:, k], np.inf)
            j = int(np.argmin(m)) if np.isfinite(m).any() else -1
            mid_pre = float(np.median(M[pre, k])) if pre.any() else float(M[0, k])
            inv0 = float(self.bal0[k, self.base[k]]) / float(self.lot_atoms[k])    # the opening inventory, lots
            inv_low = float(I[j, k] - inv0) * float(self.lot_units[self.books[k]]) if j >= 0 else np.nan
            acct = int(self.accts[k])
            rows.append(dict(
                agent=a, account=acct, book=int(self.books[k]), equity_start=float(eq0),
                pnl=float(P[-1, k]), pnl_pct=float(P[-1, k] / eq0 * 100) if eq0 > 0 else np.nan,
                drawdown=float((peak - P[:, k]).max()),
                drawdown_pct=float((peak - P[:, k]).max() / eq0 * 100) if eq0 > 0 else np.nan,
                low=float(M[j, k]) if j >= 0 else np.nan, t_low_s=float(t[j] - lo) if j >= 0 else np.nan,
                inventory_at_low=inv_low, inventory_at_low_usd=inv_low * mid_pre if j >= 0 else np.nan,
                time_in_market=float((w * (R[:, k] > 0)).sum() / wsum) if wsum else np.nan,
                time_with_bids=float((w * (B[:, k] > 0)).sum() / wsum) if wsum else np.nan,
                liquidity_2pct_usd=float((w * (NB[:, k] + NA[:, k])).sum() / wsum) if wsum else np.nan,
                bid_liquidity_2pct_usd=float((w * NB[:, k]).sum() / wsum) if wsum else np.nan,
                liquidated=acct in taken, liquidated_usd=float(liq.get(acct, 0.0))))
        return rows


def _takeovers(res) -> tuple[set, dict]:
    """(accounts taken over, liquidated notional per account in quote units)."""
    if not getattr(res.sim, "risk_engines", None):
        return set(), {}
    me = res.frame("margin_events")
    if me.empty:
        return set(), {}
    taken = set(me.loc[me["kind"] == 2, "account"].astype(int).tolist())
    liq = {}
    for venue, g in me[me["kind"] == 3].groupby("venue"):
        eng = res.sim.risk_engines[venue]
        apu = float(eng.cfg.atoms_per_unit[eng.q])
        for acct, n in g.groupby("account")["notional"].sum().items():
            liq[int(acct)] = liq.get(int(acct), 0.0) + float(n) / apu
    return taken, liq
