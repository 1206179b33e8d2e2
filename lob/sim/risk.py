"""A venue's risk engine inside a simulation: unified (cross-margin)
accounts valued from the venue's own books, margin calls, takeovers and
liquidation slices sent into the books.

The valuation and the slice decisions are :mod:`lob.margin` (``unified``:
:func:`~lob.margin.unified.value_accounts`; ``risk_engine``:
:func:`~lob.margin.risk_engine.next_slice`); this module wires them to a
running :class:`~lob.sim.model.Simulation`:

* a :class:`RiskEngineSpec` in ``ScenarioSpec.risk_engines`` adds one agent
  per venue (a Python strategy, :class:`RiskEngine`) whose account is the
  venue's **insurance fund**; it watches every agent whose population has
  ``AgentSpec.margin_venue`` set to the venue;
* every ``cadence_s`` seconds -- and, with ``move_bps`` set, as soon as the
  last price of one of its books has moved that many basis points since the
  previous valuation (checked every ``check_s``) -- it builds the USD price matrix (per asset, one
  column per source: the venue's last trade, its mid, a short-window average
  of its mid, an index over all venues' mids, an oracle / redemption value)
  and values all its accounts; each asset's ``policy`` picks the column --
  the October 2025 question (own book against redemption value);
* an account below ``call_ratio`` gets a margin call event; below
  ``takeover_ratio`` the engine takes it over: it halts the account's agent,
  cancels the orders the agent has resting, then sends one slice at a time
  (market orders, or IOC limits ``limit_bps`` through the reference) for the
  account until the ratio is back at ``target_ratio`` (the agent gets its
  account back), or nothing sellable is left (the account stays closed; a
  negative quote balance is paid by the insurance fund as far as it can);
* each executed slice pays ``fee_rate`` of its notional to the fund, capped
  at the account's remaining net equity;
* every forced sell joins the venue's public **liquidation feed** (as
  Binance's ``forceOrder`` stream): per book, the lots sent, decayed as
  ``exp(-age / feed_tau_s)`` (:meth:`RiskEngine.forced_sells`,
  ``Strategy.forced_sells()``; mirrored to the compiled market makers),
  which a market maker's kill switch may watch (``max_forced_lots``).

Money only moves through the books (fills) or between an account and the
fund (fees, deficits), so every asset stays conserved to the atom.

Every event is a row of ``RiskEngine.events`` (``MARGIN_EVENT_DTYPE`` of
:mod:`lob.margin.risk_engine`, timestamps in ns) and every valuation a row of
``RiskEngine.states`` (:data:`STATE_DTYPE`): the passive rise of leverage
when collateral prices fall, with no trade, is in that table.
Units: ns, USD, atoms, lots, ticks.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from ..core import _queries as EQ
from ..core import codes as C
from ..margin import risk_engine as RE
from ..margin import unified as U
from . import layout as L
from . import world as WD
from . import guarded as _G
from .guarded import S_RATIO as _S_RATIO
from .strategy import Strategy

POLICIES = {"last": U.SRC_LAST, "mid": U.SRC_MID, "avg": U.SRC_AVG, "index": U.SRC_INDEX,
            "oracle": U.SRC_ORACLE}
ORDER_POLICIES = {"most_liquid": RE.ORDER_MOST_LIQUID, "pro_rata": RE.ORDER_PRO_RATA,
                  "largest_loss": RE.ORDER_LARGEST_LOSS}

STATE_DTYPE = np.dtype([
    ("ts", np.int64), ("account", np.int64), ("equity", np.float64), ("net", np.float64),
    ("mm", np.float64), ("ratio", np.float64), ("exposure", np.float64), ("leverage", np.float64),
    ("status", np.int8),          # 0 normal, 1 taken over, 2 closed (empty or bankrupt)
])


@dataclass(frozen=True, kw_only=True)
class MarginAssetSpec:
    """How a venue counts one asset in unified accounts.

    ``haircut``: collateral ratio (flat, or tiers ``((upper_usd, rate), ...)``);
    ``loan_im``/``loan_mm``: margin rates on a loan of the asset (USD value);
    ``policy``: the price source (``last``, ``mid``, ``avg``, ``index``,
    ``oracle``); ``oracle_usd``: a fixed redemption value in USD for the
    ``oracle`` source (None: the asset's fundamental, if it has one);
    ``cash``: a stablecoin (not a position in the leverage measure)."""
    asset: str
    haircut: float | tuple = 1.0
    loan_im: float = 0.10
    loan_mm: float = 0.05
    policy: str = "last"
    oracle_usd: float | None = None
    cash: bool = False

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"margin asset {self.asset!r}: policy must be one of {sorted(POLICIES)}, "
                             f"got {self.policy!r}")


@dataclass(frozen=True, kw_only=True)
class MarginPerpSpec:
    """A linear perpetual on the venue: a book ``contract``/quote whose base
    asset ``contract`` is one unit of exposure to ``underlying`` per unit
    (a long holds a positive balance, a short a negative one within its
    credit line; the cash side of every trade is the quote).  ``tiers``:
    ``(im, mm)`` rates or ``((upper_usd_notional, im, mm), ...)`` brackets.
    The mark price is Binance's (median of the funding-adjusted index, index
    plus the moving basis, last), the index the underlying's ``index``
    price; funding is paid every ``funding_interval_s`` from the premium of
    the perp's best bid / ask over the index, sampled every risk cycle."""
    contract: str
    underlying: str
    tiers: tuple = (0.02, 0.01)
    funding_interval_s: float = 8 * 3600.0
    basis_window: int = 30
    funding_cap: float = float("inf")


@dataclass(frozen=True, kw_only=True)
class RiskEngineSpec:
    """A venue's risk engine.  Times in s, ratios as Binance's uniMMR
    (adjusted equity / maintenance margin), ``fee_rate`` a fraction of the
    executed notional, ``insurance_fund`` in units of ``quote``."""
    venue: str
    quote: str
    assets: tuple = ()                    # MarginAssetSpec per asset it accepts (others count 0)
    perps: tuple = ()                     # MarginPerpSpec per perpetual it lists
    cadence_s: float = 1.0
    start_s: float = 0.0                  # first valuation (s): after a warm-up in which the books form
    move_bps: float = float("inf")       # also re-value when a watched book's last price moved this much
    check_s: float = 0.1                  # how often prices are checked for such a move (when move_bps is set)
    takeover_ratio: float = 1.0
    target_ratio: float = 1.2
    call_ratio: float = 1.5
    fee_rate: float = 0.005
    slice_frac: float = 0.25
    slice_usd: float = 0.0
    limit_bps: float = -1.0               # < 0: market orders; else IOC limits this far through the mid
    order_policy: str = "most_liquid"
    avg_window_s: float = 60.0             # the ``avg`` source: mean mid of the last avg_window_s / cadence_s cycles
    insurance_fund: float = 0.0
    lat_order_ns: int = 1_000_000
    lat_md_ns: int = 1_000_000
    record_states: bool = True
    states_every_s: float = 0.0           # record valuations at most this often (0: every cycle)
    stall_backoff_s: float = 0.0          # after k slices in a row found nothing, wait min(cadence 2^k, this)
                                          # before the account's next slice (0: retry every cycle)
    feed_tau_s: float = 60.0              # the liquidation feed: forced sells per book, decayed exp(-age / this)

    def __post_init__(self):
        if self.order_policy not in ORDER_POLICIES:
            raise ValueError(f"risk engine {self.venue!r}: order_policy must be one of "
                             f"{sorted(ORDER_POLICIES)}, got {self.order_policy!r}")
        if not self.start_s >= 0:
            raise ValueError(f"risk engine {self.venue!r}: start_s must be >= 0 seconds, got {self.start_s}")
        if not self.cadence_s > 0:
            raise ValueError(f"risk engine {self.venue!r}: cadence_s must be > 0 seconds")
        if not self.check_s > 0:
            raise ValueError(f"risk engine {self.venue!r}: check_s must be > 0 seconds")
        if not self.feed_tau_s > 0:
            raise ValueError(f"risk engine {self.venue!r}: feed_tau_s must be > 0 seconds")
        if not self.target_ratio >= self.takeover_ratio:
            raise ValueError(f"risk engine {self.venue!r}: target_ratio must be >= takeover_ratio")


def _nanmean_rows(a: np.ndarray) -> np.ndarray:
    """``np.nanmean(a, axis=1)`` bit for bit (the same copy with NaN as 0,
    the same row sums, divided by the counts), without its warnings."""
    nan = np.isnan(a)
    tot = np.where(nan, 0.0, a).sum(axis=1)
    cnt = a.shape[1] - nan.sum(axis=1)
    out = tot / np.where(cnt > 0, cnt, 1)
    out[cnt == 0] = np.nan
    return out


def _nanmedian_rows(a: np.ndarray) -> np.ndarray:
    """``np.nanmedian(a, axis=1)`` bit for bit for a narrow ``a`` (numpy's
    path below 600 columns: the two middle values of each row's sorted
    non-NaN values, ``(low + high) / 2``; NaN for a row of NaNs), without its
    masked arrays (a hundred times faster at this size)."""
    s = np.sort(a, axis=1)                   # NaNs last
    cnt = a.shape[1] - np.isnan(a).sum(axis=1)
    h = cnt // 2
    rows = np.arange(a.shape[0])
    lo = s[rows, np.maximum(np.where(cnt % 2 == 1, h, h - 1), 0)]
    hi = s[rows, np.minimum(h, a.shape[1] - 1)]
    out = (lo + hi) / 2.0
    out[cnt == 0] = np.nan
    return out


class RiskEngine(Strategy):
    """The risk engine of one venue, run as the venue's own agent (its
    account is the insurance fund).  Reads the venue's state directly (no
    latency: it is the venue); its orders take ``lat_order_ns``."""

    def __init__(self, spec: RiskEngineSpec):
        self.spec = spec
        self.events: list = []
        self._states: list = []
        # per watched account (row j of ``accts``): latest margin ratio, status
        # (0 normal, 1 taken over, 2 closed) and whether a margin call is out

    # ------------------------------------------------------------ setup
    def _bind(self, sim, agent):
        super()._bind(sim, agent)
        sp, spec = self.spec, sim.spec
        if sp.venue not in sim.venue_ix:
            raise ValueError(f"risk engine: unknown venue {sp.venue!r}")
        if sp.quote not in sim.asset_ix:
            raise ValueError(f"risk engine {sp.venue!r}: unknown quote asset {sp.quote!r}")
        v = sim.venue_ix[sp.venue]
        W = sim.W
        self.fund_acct = int(W.agents[agent, L.A_ACCOUNT])
        self.q = sim.asset_ix[sp.quote]
        n_a = len(spec.assets)
        by_asset = {}
        for m in sp.assets:
            if m.asset not in sim.asset_ix:
                raise ValueError(f"risk engine {sp.venue!r}: unknown asset {m.asset!r}")
            by_asset[m.asset] = m
        # the venue's book per asset (base/quote), for prices, lots and liquidity
        self.book_of = np.full(n_a, -1, np.int64)
        self.all_books = [[] for _ in range(n_a)]        # every venue's book of the asset vs the quote
        for b, bk in enumerate(spec.books):
            if bk.quote != sp.quote:
                continue
            a = sim.asset_ix[bk.base]
            self.all_books[a].append(b)
            if sim.venue_ix[bk.venue] == v and self.book_of[a] < 0:
                self.book_of[a] = b
        self.tick_usd = np.zeros(len(spec.books))
        for b, bk in enumerate(spec.books):
            self.tick_usd[b] = float(bk.tick)         # quote units per tick (the quote is worth 1 USD)
        assets = []
        for i, a in enumerate(spec.assets):
            apu = 1 / a.atom
            if apu != int(apu):
                raise ValueError(f"asset {a.name}: atom must divide one unit")
            m = by_asset.get(a.name)
            lot = int(W.books[self.book_of[i], L.BK_LOT]) if self.book_of[i] >= 0 else 1
            if i == self.q:
                assets.append(U.AssetSpec(name=a.name, atoms_per_unit=int(apu), lot_atoms=lot, haircut=1.0,
                                          loan_im=m.loan_im if m else 0.1, loan_mm=m.loan_mm if m else 0.05,
                                          policy=U.SRC_ORACLE, cash=True))
            elif m is None:
                assets.append(U.AssetSpec(name=a.name, atoms_per_unit=int(apu), lot_atoms=lot, haircut=0.0,
                                          policy=U.SRC_ORACLE))
            else:
                assets.append(U.AssetSpec(name=a.name, atoms_per_unit=int(apu), lot_atoms=lot,
                                          haircut=m.haircut, loan_im=m.loan_im, loan_mm=m.loan_mm,
                                          policy=POLICIES[m.policy], cash=m.cash))
        # perpetuals: contract assets count through the perp columns, not as spot
        self.perp_c = np.array([sim.asset_ix[p.contract] for p in sp.perps], np.int64)
        self.perp_u = np.array([sim.asset_ix[p.underlying] for p in sp.perps], np.int64)
        self.perp_book = np.array([self.book_of[c] for c in self.perp_c], np.int64)
        for p, b in zip(sp.perps, self.perp_book):
            if b < 0:
                raise ValueError(f"risk engine {sp.venue!r}: perpetual {p.contract!r} has no book "
                                 f"{p.contract}/{sp.quote} on the venue")
        self.perp_lot = np.array([int(W.books[b, L.BK_LOT]) for b in self.perp_book], np.int64)
        pspecs = []
        for j, p in enumerate(sp.perps):
            apu_c = int(1 / spec.assets[self.perp_c[j]].atom)
            pspecs.append(U.PerpSpec(name=p.contract, contract_size=self.perp_lot[j] / apu_c, tiers=p.tiers))
        self.cfg = U.build_config(assets, perps=pspecs, quote=self.q)
        n_p = len(sp.perps)
        if n_p:
            from ..margin.perps import MarkPriceState
            ivals = {p.funding_interval_s for p in sp.perps}
            if len(ivals) != 1:
                raise ValueError(f"risk engine {sp.venue!r}: perpetuals must share one funding_interval_s")
            self.funding_interval = int(ivals.pop() * 1e9)
            self.marks_state = MarkPriceState(n_p, window=sp.perps[0].basis_window,
                                              cap=sp.perps[0].funding_cap,
                                              interval_s=self.funding_interval / 1e9)
            self.next_funding = self.funding_interval
        self.funding: list = []             # (ts, perp, rate, mark, total paid in quote atoms)
        self.oracle_usd = np.full(n_a, np.nan)
        for i, a in enumerate(spec.assets):
            m = by_asset.get(a.name)
            if m is not None and m.oracle_usd is not None:
                self.oracle_usd[i] = m.oracle_usd
        self.oracle_usd[self.q] = 1.0
        self.rp = RE.risk_params(order_policy=ORDER_POLICIES[sp.order_policy], slice_frac=sp.slice_frac,
                                 slice_usd=sp.slice_usd, limit_bps=sp.limit_bps, limit_src=U.SRC_MID,
                                 takeover_ratio=sp.takeover_ratio, target_ratio=sp.target_ratio,
                                 fee_rate=sp.fee_rate, call_ratio=sp.call_ratio)
        # the watched accounts: agents of populations on this venue's unified accounts
        rows = [a for a, venue in enumerate(sim.margin_venue_of) if venue == sp.venue]
        self.agents_watched = np.array(rows, np.int64)
        self.accts = np.array([int(W.agents[a, L.A_ACCOUNT]) for a in rows], np.int64)
        self.agent_of = {int(W.agents[a, L.A_ACCOUNT]): a for a in rows}
        self.row_of = {acct: j for j, acct in enumerate(self.accts.tolist())}
        self.ratios = np.full(len(rows), np.inf)
        # compiled market makers read their ratio from the world (lob.sim.guarded)
        mirror = [(a, j) for j, a in enumerate(rows) if W.agents[a, L.A_KIND] == L.KIND_GUARDED_MM]
        self._mirror_agents = np.array([a for a, _ in mirror], np.int64)
        self._mirror_rows = np.array([j for _, j in mirror], np.int64)
        # the liquidation feed (public): forced sells per book of the venue, lots decayed to the time of the
        # last one (ns), mirrored to every compiled market maker quoting the book (watched or not)
        n_books = W.books.shape[0]
        self.forced = np.zeros(n_books)
        self.forced_t = np.zeros(n_books)
        self.forced_first = np.full(n_books, np.nan)      # time of each book's first forced sell (ns)
        self._tau_ns = sp.feed_tau_s * 1e9
        self._feed_agents = {}
        for a in range(W.agents.shape[0]):
            if W.agents[a, L.A_KIND] == L.KIND_GUARDED_MM and \
                    sim.spec.books[int(W.ai[a, 0])].venue == sp.venue:
                self._feed_agents.setdefault(int(W.ai[a, 0]), []).append(a)
                W.ap[a, _G.P_FEED_TAU_NS] = self._tau_ns
        self.statuses = np.zeros(len(rows), np.int8)
        self._called = np.zeros(len(rows), bool)
        self._step = {}
        self._ref = {}
        self._open_slice = {}      # account -> order id of its slice in flight
        self._slice_of = {}        # order id -> [account, event row index]
        self._stalls = {}          # account -> slices in a row that found nothing (stall_backoff_s)
        self._retry_at = {}        # account -> time (ns) before which it is not sliced again
        self._prices = U.price_matrix(n_a)
        self._known = U.price_matrix(n_a)
        self._tops = np.zeros((len(spec.books), 3), np.int64)
        self._ring = np.full((n_a, max(1, int(round(sp.avg_window_s / sp.cadence_s)))), np.nan)
        self._ring_n = 0
        width = max([len(x) for x in self.all_books] + [1])
        self._index_books = np.full((n_a, width), -1, np.int64)
        for a, bs in enumerate(self.all_books):
            self._index_books[a, :len(bs)] = bs
        self._has_index = np.array([len(x) > 0 for x in self.all_books])
        # constant pieces of ``prices``
        self._has = self.book_of >= 0
        self._bo = np.where(self._has, self.book_of, 0)
        self._tick_bo = np.where(self._has, self.tick_usd[self._bo], np.nan)
        self._ix_ok = self._index_books >= 0
        self._ix0 = np.where(self._ix_ok, self._index_books, 0)
        self._orc_fixed = np.isfinite(self.oracle_usd)
        self._no_index = ~self._has & ~self._has_index
        self._out = np.empty((len(rows), U.N_V))
        self._mark = np.zeros(n_p)
        # buffers of _margin_rows / _margin_one and _score
        self._acc_spot = np.zeros((len(rows), n_a), np.int64)
        self._acc_pos = np.zeros((len(rows), n_p), np.int64)
        self._acc_cost = np.zeros((len(rows), n_p), np.int64)
        self._one_row = np.zeros(1, np.int64)
        self._one_spot = np.zeros((1, n_a), np.int64)
        self._one_pos = np.zeros((1, n_p), np.int64)
        self._one_cost = np.zeros((1, n_p), np.int64)
        self._score_books = np.concatenate([self.book_of, self.perp_book]).astype(np.int64)
        self._score_lots = np.zeros(len(self._score_books), np.int64)
        self._mid_b = np.zeros(len(spec.books))
        self._mid = np.zeros(n_a)
        self._last = np.zeros(n_a)

    def on_start(self):
        pass

    # ------------------------------------------------------------ prices
    def _mid_usd(self, b):
        W = self._sim.W
        bid = EQ.best_price(W.arena, b, C.BUY)
        ask = EQ.best_price(W.arena, b, C.SELL)
        last = W.arena[W.arena[_H_BOOK_OFF] + b * _N_BOOK + _B_LAST_PX]
        if bid > 0 and ask > 0:
            return 0.5 * (bid + ask) * self.tick_usd[b], last * self.tick_usd[b]
        return (last * self.tick_usd[b] if last > 0 else np.nan), last * self.tick_usd[b]

    def prices(self, now: int) -> np.ndarray:
        """The price matrix ``[asset, source]`` in USD per unit at ``now``:
        one compiled read of every book's top, the mids and the index in
        compiled code (:func:`_book_mids`, :func:`_fill_prices`), the
        short-window average as ``np.nanmean`` computes it
        (:func:`_nanmean_rows`).  Identical to :meth:`_prices_numpy`, the
        readable version (``tests/test_sim_margin.py`` runs both on every
        cycle of a crash).  O(books + assets x window) per call."""
        W = self._sim.W
        P = self._prices
        tp = self._tops
        EQ.tops(W.arena, tp)
        ring = self._ring
        k = self._ring_n % ring.shape[1]
        _book_mids(tp, self.tick_usd, self._has, self._bo, ring, k, self._mid_b, self._mid, self._last)
        self._ring_n += 1
        m = min(self._ring_n, ring.shape[1])
        avg = _nanmean_rows(ring[:, :m] if m < ring.shape[1] else ring)
        _fill_prices(self._mid_b, self._mid, self._last, avg, self._ix_ok, self._ix0, W.oracle, WD.OR_VALUE,
                     WD.OR_ON, self._tick_bo, self._orc_fixed, self.oracle_usd, self._no_index, self.q, self.perp_c,
                     self._known, P)
        return P

    def _prices_numpy(self, now: int) -> np.ndarray:
        """:meth:`prices` in numpy, the readable reference: the price matrix
        ``[asset, source]`` in USD per unit at ``now`` (one compiled read of
        every book's top, then numpy; the index's median and the average's
        mean as ``np.nanmedian`` and ``np.nanmean`` compute them, without
        their overhead).  The same state changes as :meth:`prices`."""
        W = self._sim.W
        P = self._prices
        tp = self._tops
        EQ.tops(W.arena, tp)
        bid, ask, lastt = tp[:, 0], tp[:, 1], tp[:, 2]
        tick = self.tick_usd
        traded = lastt > 0
        mid_b = np.where((bid > 0) & (ask > 0), 0.5 * (bid + ask), np.where(traded, lastt, np.nan)) * tick
        last_b = np.where(traded, lastt * tick, mid_b)
        has, bo = self._has, self._bo
        mid = np.where(has, mid_b[bo], np.nan)
        last = np.where(has, last_b[bo], np.nan)
        # short-window average of the mid: a ring of one sample per cycle
        ring = self._ring
        k = self._ring_n % ring.shape[1]
        ring[:, k] = mid
        self._ring_n += 1
        m = min(self._ring_n, ring.shape[1])
        avg = _nanmean_rows(ring[:, :m] if m < ring.shape[1] else ring)
        # index: median of the mids of every venue's book of the asset
        index = _nanmedian_rows(np.where(self._ix_ok, mid_b[self._ix0], np.nan))
        fund = W.oracle[:, WD.OR_VALUE] * self._tick_bo
        orc = np.where(self._orc_fixed, self.oracle_usd, np.where(W.oracle[:, WD.OR_ON] != 0.0, fund, np.nan))
        orc_ok = np.isfinite(orc)
        P[:, U.SRC_LAST] = last
        P[:, U.SRC_MID] = mid
        P[:, U.SRC_AVG] = avg
        P[:, U.SRC_INDEX] = index
        mid_ok = np.isfinite(mid)
        P[:, U.SRC_ORACLE] = np.where(orc_ok, orc, mid)
        # a source that cannot be read now keeps its last value, else falls
        # back to the mid, the last trade, the fundamental
        bad = ~np.isfinite(P)
        if bad.any():
            fb = np.where(mid_ok, mid, np.where(np.isfinite(last), last, orc))
            P[bad] = np.where(np.isfinite(self._known), self._known, fb[:, None])[bad]
        P[self._no_index & ~orc_ok, :] = 0.0     # not traded against the quote here, no oracle: counts nothing
        P[self.q, :] = 1.0
        self._known[:] = P
        if len(self.perp_c):
            P[self.perp_c, :] = 0.0      # contracts are valued through the perp columns (mark)
        return P

    def _perps(self, now: int) -> None:
        """Marks (quote units per unit), premium and basis samples, funding."""
        if not len(self.perp_c):
            return
        W = self._sim.W
        n_p = len(self.perp_c)
        index = np.array([self._known[u, U.SRC_INDEX] for u in self.perp_u.tolist()])
        mid = np.empty(n_p)
        last = np.empty(n_p)
        bid = np.empty(n_p)
        ask = np.empty(n_p)
        for j, b in enumerate(self.perp_book.tolist()):
            mid[j], last[j] = self._mid_usd(b)
            bb = EQ.best_price(W.arena, b, C.BUY)
            aa = EQ.best_price(W.arena, b, C.SELL)
            bid[j] = bb * self.tick_usd[b] if bb > 0 else index[j]
            ask[j] = aa * self.tick_usd[b] if aa > 0 else index[j]
            if not mid[j] == mid[j]:
                mid[j] = index[j]
            if not last[j] > 0:
                last[j] = mid[j]
        ms = self.marks_state
        ms.sample_basis(mid, index)
        ms.sample_premium(bid, ask, index)
        self._mark = np.ascontiguousarray(ms.mark(index, last, (self.next_funding - now) / 1e9), float)
        if now >= self.next_funding:
            from ..margin.perps import settle_funding
            rates = ms.close_interval()
            pos_all = self._pos_all()
            pay = np.zeros(W.bal.shape[0], np.int64)
            for m in range(n_p):
                total = settle_funding(self.cfg, pos_all, W.bal, m, float(rates[m]), float(self._mark[m]), pay)
                self.funding.append((now, m, float(rates[m]), float(self._mark[m]), int(total)))
            self.next_funding += self.funding_interval

    def _pos_all(self, rows=None) -> np.ndarray:
        """Signed contracts ``[account, perp]`` (all accounts, or ``rows``)."""
        W = self._sim.W
        if not len(self.perp_c):             # no perpetuals: the same empty array, made directly
            return np.zeros((W.bal.shape[0] if rows is None else len(rows), 0), np.int64)
        bal = W.bal if rows is None else W.bal[rows]
        return np.ascontiguousarray(bal[:, self.perp_c] // self.perp_lot)

    def _spot(self, rows) -> np.ndarray:
        """Balances of ``rows`` as the margin model sees them: contract
        columns zeroed (positions count through the perp columns) and the
        quote paid for contracts (``World.cost``) added back to the quote
        balance, so a perp long's cash outlay is its entry cost, not a loan."""
        W = self._sim.W
        b = np.array(W.bal[rows], dtype=np.int64, copy=True)     # never a view of the live balances
        if len(self.perp_c):
            b[..., self.q] += W.cost[rows][..., self.perp_c].sum(axis=-1)
            b[..., self.perp_c] = 0
        return b

    def _cost(self, rows) -> np.ndarray:
        """Perp entry costs ``[row, perp]`` in quote atoms (``World.cost``)."""
        if not len(self.perp_c):
            return np.zeros(np.shape(rows) + (0,), np.int64)
        return np.ascontiguousarray(self._sim.W.cost[rows][..., self.perp_c])

    def _margin_rows(self, rows: np.ndarray, spot: np.ndarray, pos: np.ndarray, cost: np.ndarray):
        """:meth:`_spot`, :meth:`_pos_all` and :meth:`_cost` of ``rows``
        (int64 accounts) in one compiled pass into the given buffers
        (``[len(rows), assets]``, ``[len(rows), perps]`` twice); the same
        values, without the fancy-indexing copies.  Returns the buffers."""
        W = self._sim.W
        _margin_rows(W.bal, W.cost, rows, self.q, self.perp_c, self.perp_lot, spot, pos, cost)
        return spot, pos, cost

    def _margin_one(self, acct: int):
        """One account's 1-D ``(spot, pos, cost)`` rows (:meth:`_margin_rows`),
        in buffers reused by the next call."""
        self._one_row[0] = acct
        sp, po, co = self._margin_rows(self._one_row, self._one_spot, self._one_pos, self._one_cost)
        return sp[0], po[0], co[0]

    def _score_python(self):
        """:meth:`_score` one book at a time, the readable reference."""
        W = self._sim.W
        n_a = self._prices.shape[0]
        s = np.zeros(n_a)
        for a in range(n_a):
            b = self.book_of[a]
            if b >= 0:
                bid_lots, _ = EQ.depth_within(W.arena, b, 200)
                s[a] = bid_lots * W.books[b, L.BK_LOT] / self.cfg.atoms_per_unit[a] * self._prices[a, U.SRC_MID]
        for j, b in enumerate(self.perp_book.tolist()):
            bid_lots, _ = EQ.depth_within(W.arena, b, 200)
            s[self.perp_c[j]] = bid_lots * self.cfg.contract_size[j] * self._mark[j]
        return s

    def _score(self):
        """Liquidity of each asset: USD bid depth within 2% of the mid (one
        compiled depth read for every book; identical to :meth:`_score_python`)."""
        W = self._sim.W
        lots = self._score_lots
        EQ.bid_depth_many(W.arena, self._score_books, 200, lots)
        n_a = self._prices.shape[0]
        s = np.zeros(n_a)
        h = self._has
        sb = self.book_of[h]
        s[h] = lots[:n_a][h] * W.books[sb, L.BK_LOT] / self.cfg.atoms_per_unit[h] * self._prices[h, U.SRC_MID]
        if len(self.perp_c):
            s[self.perp_c] = lots[n_a:] * self.cfg.contract_size * self._mark
        return s

    # ------------------------------------------------------------ the cycle
    def _lasts(self) -> np.ndarray:
        W = self._sim.W
        return np.array([W.arena[W.arena[_H_BOOK_OFF] + b * _N_BOOK + _B_LAST_PX]
                         for b in self._watch_books], float)

    def on_wakeup(self, now):
        sp = self.spec
        if sp.move_bps != float("inf"):
            if not hasattr(self, "_watch_books"):
                self._watch_books = sorted({int(b) for b in self.book_of.tolist() if b >= 0})
                self._ref_last = self._lasts()
                self._last_full = -1 << 62
            due = now - self._last_full >= int(sp.cadence_s * 1e9)
            if not due:
                cur = self._lasts()
                ok = (self._ref_last > 0) & (cur > 0)
                moved = np.abs(cur[ok] / self._ref_last[ok] - 1.0) * 1e4
                due = (bool(len(moved)) and float(moved.max()) >= sp.move_bps) or \
                    bool(((self._ref_last <= 0) & (cur > 0)).any())      # a first price
            if due:
                self._cycle(now)
                self._last_full = now
                self._ref_last = self._lasts()
            return now + int(sp.check_s * 1e9)
        self._cycle(now)
        return now + int(sp.cadence_s * 1e9)

    def _cycle(self, now):
        sim, W = self._sim, self._sim.W
        P = self.prices(now)
        self._perps(now)
        out = U.value_accounts(self.cfg, P, self._mark,
                               *self._margin_rows(self.accts, self._acc_spot, self._acc_pos, self._acc_cost), self._out)
        # an asset with no price at all yet (no trade, no quote, no oracle)
        # makes its holders' ratios NaN: they are not judged until it has one
        # Only the flagged accounts are visited in Python: O(accounts) numpy
        # work per cycle plus O(calls + takeovers + slices) Python work.
        r = out[:, U.V_RATIO]
        self.ratios[:] = r
        if len(self._mirror_agents):
            W.ast[self._mirror_agents, _S_RATIO] = r[self._mirror_rows]
        normal = self.statuses == 0
        calls = np.nonzero(normal & (r < self.rp.call_ratio) & ~self._called)[0]
        self._called[normal & (r >= self.rp.call_ratio)] = False
        self._called[calls] = True
        for j in calls.tolist():
            self._event(RE.EV_MARGIN_CALL, int(self.accts[j]), now, ratio_before=float(r[j]),
                        equity_before=out[j, U.V_NET])
        for j in np.nonzero(normal & (r < self.rp.takeover_ratio))[0].tolist():
            self._takeover(int(self.accts[j]), now, float(r[j]), out[j, U.V_NET])
        score = None
        for j in np.nonzero(self.statuses == 1)[0].tolist():
            acct = int(self.accts[j])
            if acct not in self._open_slice and (not self._retry_at or now >= self._retry_at.get(acct, now)):
                if score is None:
                    score = self._score()
                self._slice(acct, now, score)
        every = int(self.spec.states_every_s * 1e9)
        if self.spec.record_states and (every <= 0 or now - getattr(self, "_last_state", -every) >= every):
            self._last_state = now
            n = len(self.accts)
            rows = np.zeros(n, STATE_DTYPE)
            rows["ts"] = now
            rows["account"] = self.accts
            for name, col in (("equity", U.V_EQUITY), ("net", U.V_NET), ("mm", U.V_MM), ("ratio", U.V_RATIO),
                              ("exposure", U.V_EXPOSURE), ("leverage", U.V_LEVERAGE)):
                rows[name] = out[:, col]
            rows["status"] = self.statuses
            self._states.append(rows)

    def _takeover(self, acct, now, ratio, net):
        sim, W = self._sim, self._sim.W
        a = self.agent_of[acct]
        self.statuses[self.row_of[acct]] = 1
        self._step[acct] = 0
        self._ref[acct] = U.select_prices(self._prices, self.cfg.policy).copy()
        sim.halt(a)
        off, n = int(W.aloff[a]), int(W.alcnt[a])
        for oid in W.alist[off:off + n].tolist():
            row = int(_idmap_get(W.ordmap, oid))
            b = int(W.oinfo[row, WD.OI_BOOK]) if row >= 0 else int(W.agents[a, L.A_BOOK])
            sim._act(self.agent, C.CANCEL, b, 0, 0, 0, oid, 0, acct)
        self._event(RE.EV_TAKEOVER, acct, now, qty=n, ratio_before=ratio, equity_before=net)

    def _slice(self, acct, now, score):
        sim, W = self._sim, self._sim.W
        bal, pos, cost = self._margin_one(acct)
        pscore = score[self.perp_c]
        act, item, idx, side, qty, lim, ratio, net = RE.next_slice(
            self.cfg, self.rp, self._prices, self._mark, bal, pos, cost,
            int(W.bal[self.fund_acct, self.q]), score, pscore, self._ref[acct], self._step[acct], True)
        if act == RE.ACT_DONE:
            self.statuses[self.row_of[acct]] = 0
            self._called[self.row_of[acct]] = False
            sim.resume(self.agent_of[acct], now)
            self._event(RE.EV_RESTORED, acct, now, ratio_before=ratio, equity_before=net,
                        ratio_after=ratio, equity_after=net)
            return
        if act in (RE.ACT_EMPTY, RE.ACT_BANKRUPT):
            self.statuses[self.row_of[acct]] = 2
            paid = uncovered = 0
            if W.bal[acct, self.q] < 0:
                deficit = int(-W.bal[acct, self.q])
                paid = min(deficit, max(0, int(W.bal[self.fund_acct, self.q])))
                W.bal[acct, self.q] += paid
                W.bal[self.fund_acct, self.q] -= paid
                uncovered = deficit - paid
            self._event(RE.EV_BANKRUPT if act == RE.ACT_BANKRUPT else RE.EV_EMPTY, acct, now, qty=uncovered,
                        fund_delta=-paid, ratio_before=ratio, equity_before=net)
            return
        if act == RE.ACT_ADL:
            self._adl(acct, now, int(idx), int(qty), float(lim), ratio, net)
            return
        if act != RE.ACT_SLICE:
            return
        if item == RE.ITEM_PERP:
            b = int(self.perp_book[idx])
            lots = int(qty)                    # one contract is one lot of the perp book
        else:
            b = int(self.book_of[idx])
            if b < 0:
                return
            lots = int(qty) // int(W.books[b, L.BK_LOT])
        if lots <= 0:
            return
        if lim == lim:
            tick = self.tick_usd[b]
            px = int(np.floor(lim / tick)) if side == C.SELL else int(np.ceil(lim / tick))
            oid = sim._act(self.agent, C.IOC, b, int(side), max(px, 1), lots, 0, 0, acct)
        else:
            oid = sim._act(self.agent, C.MARKET, b, int(side), 0, lots, 0, 0, acct)
        if side == C.SELL:
            self._feed(b, lots, now)
        self._open_slice[acct] = oid
        self._slice_of[oid] = [acct, len(self.events)]
        self._step[acct] += 1
        self._event(RE.EV_SLICE, acct, now, item=item, index=idx, side=side, qty=int(qty),
                    limit=lim, ratio_before=ratio, equity_before=net)

    def _feed(self, b, lots, now):
        """A forced sell of ``lots`` on book ``b`` at ``now`` (ns) joins the feed."""
        self.forced[b] = self.forced_sells(b, now) + lots
        self.forced_t[b] = float(now)
        if self.forced_first[b] != self.forced_first[b]:
            self.forced_first[b] = float(now)
        W = self._sim.W
        for a in self._feed_agents.get(b, ()):
            W.ast[a, _G.S_FORCED] = self.forced[b]
            W.ast[a, _G.S_FORCED_T] = self.forced_t[b]

    def forced_sells(self, b: int, now: int) -> float:
        """The liquidation feed of book ``b`` at ``now`` (ns): lots of forced
        sells, each decayed as ``exp(-age / feed_tau_s)``; the same floats the
        compiled market makers compute (``lob.sim.guarded``)."""
        f = float(self.forced[b])
        return f * math.exp(-(now - float(self.forced_t[b])) / self._tau_ns) if f > 0.0 else 0.0

    def _adl(self, acct, now, m, qty, price, ratio, net):
        """Auto-deleveraging: close ``qty`` contracts of the bankrupt account's
        perp ``m`` at the bankruptcy ``price`` against the opposite positions
        ranked by :func:`lob.margin.risk_engine.adl_ranking` (profit x
        leverage first; PnL from the accounts' cost basis ``World.cost``)."""
        W = self._sim.W
        n_acc = W.bal.shape[0]
        rows_all = np.arange(n_acc)
        pos_all = self._pos_all()
        cost_all = np.ascontiguousarray(W.cost[:, self.perp_c])
        out = np.empty((n_acc, U.N_V))
        U.value_accounts(self.cfg, self._prices, self._mark, self._spot(rows_all), pos_all, cost_all, out)
        pq = 1.0
        rows, ks = RE.adl_plan(self.cfg, pos_all, cost_all, out[:, U.V_NET], self._mark, pq, m, acct, qty)
        c = int(self.perp_c[m])
        lot = int(self.perp_lot[m])
        apu_q = int(self.cfg.atoms_per_unit[self.q])
        cs = float(self.cfg.contract_size[m])
        long_bankrupt = pos_all[acct, m] > 0
        for r, k in zip(rows.tolist(), ks.tolist()):
            if k <= 0:
                continue
            n = int(np.rint(k * cs * price * apu_q))
            buyer, seller = (r, acct) if long_bankrupt else (acct, r)
            W.bal[buyer, c] += k * lot
            W.bal[seller, c] -= k * lot
            W.bal[buyer, self.q] -= n
            W.bal[seller, self.q] += n
            W.cost[buyer, c] += n
            W.cost[seller, c] -= n
            self._event(RE.EV_ADL, acct, now, item=RE.ITEM_PERP, index=m, side=C.SELL if long_bankrupt else C.BUY,
                        qty=k, filled=k, price=price, notional=n, counterparty=r, ratio_before=ratio,
                        equity_before=net)
        if self._pos_all([acct])[0, m] != 0:
            self._event(RE.EV_STALLED, acct, now, item=RE.ITEM_PERP, index=m, qty=int(self._pos_all([acct])[0, m]))

    # ------------------------------------------------------------ fills and order events
    def _on_fill_row(self, row, is_taker):
        W, sim = self._sim.W, self._sim
        oid = int(row[3] if is_taker else row[2])
        info = self._slice_of.get(oid)
        if info is None:
            return
        acct, k = info
        b = int(row[1])
        qty = int(row[7])
        notional = int(row[6]) * qty * int(W.books[b, L.BK_SCALE])
        ev = self.events[k]
        perp = ev["item"] == RE.ITEM_PERP
        ev["filled"] += qty if perp else qty * int(W.books[b, L.BK_LOT])
        ev["notional"] += notional
        # the liquidation fee, capped at the account's remaining net equity
        v = U.value_one(self.cfg, self._prices, self._mark, *self._margin_one(acct))
        cap = int(np.floor(v[U.V_NET] * self.cfg.atoms_per_unit[self.q])) if v[U.V_NET] > 0 else 0
        fee = max(0, min(int(np.rint(self.rp.fee_rate * notional)), cap))
        W.bal[acct, self.q] -= fee
        W.bal[self.fund_acct, self.q] += fee
        ev["fee"] += fee
        ev["fund_delta"] += fee
        ev["ratio_after"] = v[U.V_RATIO]
        ev["equity_after"] = v[U.V_NET]
        apu = self.cfg.atoms_per_unit
        units = ev["filled"] * self.cfg.contract_size[ev["index"]] if perp else ev["filled"] / apu[ev["index"]]
        ev["price"] = (ev["notional"] / apu[self.q]) / units

    def _on_event_row(self, row):
        oid = int(row[3])
        kind = int(row[1])
        info = self._slice_of.get(oid)
        if info is None:
            return
        if kind in C.DONE_KINDS or kind == C.EV_REJECTED:
            acct, k = self._slice_of.pop(oid)
            self._open_slice.pop(acct, None)
            if self.events[k]["filled"] == 0:
                self.events[k]["kind"] = RE.EV_STALLED
                cap = self.spec.stall_backoff_s
                if cap > 0:          # back off: cadence x 2^k, at most stall_backoff_s
                    n = self._stalls.get(acct, 0) + 1
                    self._stalls[acct] = n
                    wait = min(self.spec.cadence_s * 2.0 ** n, cap)
                    self._retry_at[acct] = int(row[0]) + int(wait * 1e9)
            elif self._stalls:
                self._stalls.pop(acct, None)
                self._retry_at.pop(acct, None)

    # ------------------------------------------------------------ records
    def _event(self, kind, acct, ts, **kw):
        # RE.make_event's row, built in one conversion instead of a field at a time
        vals = dict(_EV_DEFAULTS, ts=ts, kind=kind, account=acct, **kw)
        self.events.append(np.array([tuple(vals[f] for f in _EV_FIELDS)], RE.MARGIN_EVENT_DTYPE)[0])

    def ratio_of(self, acct: int) -> float | None:
        """The latest margin ratio of account ``acct`` (None if not watched)."""
        j = self.row_of.get(acct)
        return None if j is None else float(self.ratios[j])

    def event_table(self) -> np.ndarray:
        out = np.zeros(len(self.events), RE.MARGIN_EVENT_DTYPE)
        for j, r in enumerate(self.events):
            out[j] = r
        return out

    def funding_table(self) -> np.ndarray:
        """Funding settlements: time (ns), perp index, rate, mark, quote atoms paid."""
        return np.array(self.funding, dtype=[("ts", np.int64), ("perp", np.int64), ("rate", np.float64),
                                             ("mark", np.float64), ("paid", np.int64)])

    def state_table(self) -> np.ndarray:
        return np.concatenate(self._states) if self._states else np.zeros(0, STATE_DTYPE)


# the fields of a margin event row and make_event's defaults
_EV_FIELDS = RE.MARGIN_EVENT_DTYPE.names
_EV_DEFAULTS = {k: p.default for k, p in inspect.signature(RE.make_event).parameters.items()
                if p.default is not inspect.Parameter.empty}
if set(_EV_FIELDS) != set(_EV_DEFAULTS) | {"kind", "account"}:      # pragma: no cover
    raise ImportError("lob.sim.risk: make_event's parameters and MARGIN_EVENT_DTYPE differ")


@njit(cache=True)
def _book_mids(tops, tick, has, bo, ring, k, mid_b, mid, last):
    """Per book (``tops[b] = bid, ask, last`` ticks): ``mid_b[b]`` = the mid
    in USD, or the last trade, or NaN; per asset (its book ``bo[a]`` where
    ``has[a]``): ``mid[a]``, ``last[a]`` (the last trade, else the mid) and
    ``ring[a, k] = mid[a]``.  The elementwise formulas of
    :meth:`RiskEngine._prices_numpy`, in the same order."""
    nb = tops.shape[0]
    last_b = np.empty(nb)
    for b in range(nb):
        bid, ask, lt = tops[b, 0], tops[b, 1], tops[b, 2]
        if bid > 0 and ask > 0:
            v = 0.5 * (bid + ask)
        elif lt > 0:
            v = float(lt)
        else:
            v = np.nan
        mid_b[b] = v * tick[b]
        last_b[b] = lt * tick[b] if lt > 0 else mid_b[b]
    for a in range(has.shape[0]):
        if has[a]:
            mid[a] = mid_b[bo[a]]
            last[a] = last_b[bo[a]]
        else:
            mid[a] = np.nan
            last[a] = np.nan
        ring[a, k] = mid[a]


@njit(cache=True)
def _fill_prices(mid_b, mid, last, avg, ix_ok, ix0, oracle, or_value, or_on, tick_bo, orc_fixed, oracle_usd,
                 no_index, q, perp_c, known, P):
    """The rest of :meth:`RiskEngine._prices_numpy` into ``P[asset,
    source]`` and ``known``: the index (the median of the asset's books'
    mids as ``_nanmedian_rows`` takes it), the oracle, the fall-backs for
    sources that cannot be read, the quote at 1 and the contracts at 0."""
    n_a, w = ix_ok.shape
    nc = P.shape[1]
    vals = np.empty(w)
    for a in range(n_a):
        cnt = 0
        for j in range(w):
            if ix_ok[a, j]:
                x = mid_b[ix0[a, j]]
                if x == x:
                    vals[cnt] = x
                    cnt += 1
        if cnt == 0:
            index = np.nan
        else:
            for i in range(1, cnt):             # insertion sort of the few venues' mids
                x = vals[i]
                j = i - 1
                while j >= 0 and vals[j] > x:
                    vals[j + 1] = vals[j]
                    j -= 1
                vals[j + 1] = x
            h = cnt // 2
            lo = vals[h] if cnt % 2 == 1 else vals[h - 1]
            index = (lo + vals[h]) / 2.0
        if orc_fixed[a]:
            orc = oracle_usd[a]
        elif oracle[a, or_on] != 0.0:
            orc = oracle[a, or_value] * tick_bo[a]
        else:
            orc = np.nan
        orc_ok = np.isfinite(orc)
        P[a, U.SRC_LAST] = last[a]
        P[a, U.SRC_MID] = mid[a]
        P[a, U.SRC_AVG] = avg[a]
        P[a, U.SRC_INDEX] = index
        P[a, U.SRC_ORACLE] = orc if orc_ok else mid[a]
        if np.isfinite(mid[a]):
            fb = mid[a]
        elif np.isfinite(last[a]):
            fb = last[a]
        else:
            fb = orc
        for c in range(nc):
            if not np.isfinite(P[a, c]):
                P[a, c] = known[a, c] if np.isfinite(known[a, c]) else fb
        if no_index[a] and not orc_ok:
            for c in range(nc):
                P[a, c] = 0.0
    for c in range(nc):
        P[q, c] = 1.0
    for a in range(n_a):
        for c in range(nc):
            known[a, c] = P[a, c]
    for m in range(perp_c.shape[0]):
        for c in range(nc):
            P[perp_c[m], c] = 0.0


@njit(cache=True)
def _margin_rows(bal, cost, rows, q, perp_c, perp_lot, spot, pos, pcost):
    """For each ``rows[j]``: ``spot[j]`` = its balances with the contract
    columns zeroed and their entry costs added back to the quote ``q``;
    ``pos[j, m]`` = contracts ``bal // perp_lot[m]`` (floor); ``pcost[j, m]``
    = entry costs (quote atoms).  Integer atoms throughout."""
    n_a = bal.shape[1]
    n_p = perp_c.shape[0]
    for j in range(rows.shape[0]):
        r = rows[j]
        for a in range(n_a):
            spot[j, a] = bal[r, a]
        add = 0
        for m in range(n_p):
            c = perp_c[m]
            pos[j, m] = bal[r, c] // perp_lot[m]
            pcost[j, m] = cost[r, c]
            add += cost[r, c]
        if n_p > 0:
            spot[j, q] += add
            for m in range(n_p):
                spot[j, perp_c[m]] = 0


# engine arena layout pieces used for the last trade price
from ..core import _layout as _EY  # noqa: E402
from .idmap import get as _idmap_get  # noqa: E402

_H_BOOK_OFF = _EY.H_BOOK_OFF
_N_BOOK = _EY.N_BOOK
_B_LAST_PX = _EY.B_LAST_PX
