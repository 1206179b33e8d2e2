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
* every ``cadence_s`` seconds it builds the USD price matrix (per asset, one
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
  at the account's remaining net equity.

Money only moves through the books (fills) or between an account and the
fund (fees, deficits), so every asset stays conserved to the atom.

Every event is a row of ``RiskEngine.events`` (``MARGIN_EVENT_DTYPE`` of
:mod:`lob.margin.risk_engine`, timestamps in ns) and every valuation a row of
``RiskEngine.states`` (:data:`STATE_DTYPE`): the passive rise of leverage
when collateral prices fall, with no trade, is in that table.
Units: ns, USD, atoms, lots, ticks.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..core import _queries as EQ
from ..core import codes as C
from ..margin import risk_engine as RE
from ..margin import unified as U
from . import layout as L
from . import world as WD
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
class RiskEngineSpec:
    """A venue's risk engine.  Times in s, ratios as Binance's uniMMR
    (adjusted equity / maintenance margin), ``fee_rate`` a fraction of the
    executed notional, ``insurance_fund`` in units of ``quote``."""
    venue: str
    quote: str
    assets: tuple = ()                    # MarginAssetSpec per asset it accepts (others count 0)
    cadence_s: float = 1.0
    takeover_ratio: float = 1.0
    target_ratio: float = 1.2
    call_ratio: float = 1.5
    fee_rate: float = 0.005
    slice_frac: float = 0.25
    slice_usd: float = 0.0
    limit_bps: float = -1.0               # < 0: market orders; else IOC limits this far through the mid
    order_policy: str = "most_liquid"
    avg_window_s: float = 60.0
    insurance_fund: float = 0.0
    lat_order_ns: int = 1_000_000
    lat_md_ns: int = 1_000_000
    record_states: bool = True
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.order_policy not in ORDER_POLICIES:
            raise ValueError(f"risk engine {self.venue!r}: order_policy must be one of "
                             f"{sorted(ORDER_POLICIES)}, got {self.order_policy!r}")
        if not self.cadence_s > 0:
            raise ValueError(f"risk engine {self.venue!r}: cadence_s must be > 0 seconds")
        if not self.target_ratio >= self.takeover_ratio:
            raise ValueError(f"risk engine {self.venue!r}: target_ratio must be >= takeover_ratio")


class RiskEngine(Strategy):
    """The risk engine of one venue, run as the venue's own agent (its
    account is the insurance fund).  Reads the venue's state directly (no
    latency: it is the venue); its orders take ``lat_order_ns``."""

    def __init__(self, spec: RiskEngineSpec):
        self.spec = spec
        self.events: list = []
        self._states: list = []
        self.ratio: dict[int, float] = {}       # account -> latest margin ratio
        self.status: dict[int, int] = {}        # account -> 0 normal, 1 taken over, 2 closed

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
        self.cfg = U.build_config(assets, quote=self.q)
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
        for acct in self.accts.tolist():
            self.status[acct] = 0
            self.ratio[acct] = np.inf
        self._called = set()
        self._step = {}
        self._ref = {}
        self._open_slice = {}      # account -> order id of its slice in flight
        self._slice_of = {}        # order id -> [account, event row index]
        self._avg = [deque() for _ in range(n_a)]
        self._prices = U.price_matrix(n_a)
        self._known = U.price_matrix(n_a)
        self._out = np.empty((len(rows), U.N_V))
        self._mark = np.zeros(0)
        self._pos = np.zeros((len(rows), 0), np.int64)
        self._pos1 = np.zeros(0, np.int64)

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
        """The price matrix ``[asset, source]`` in USD per unit at ``now``."""
        sim, W = self._sim, self._sim.W
        P = self._prices
        P[:] = np.nan
        n_a = P.shape[0]
        window = int(self.spec.avg_window_s * 1e9)
        for a in range(n_a):
            if a == self.q:
                P[a, :] = 1.0
                continue
            b = self.book_of[a]
            mid = last = np.nan
            if b >= 0:
                mid, last = self._mid_usd(b)
                if not last > 0:
                    last = mid
                P[a, U.SRC_LAST] = last
                P[a, U.SRC_MID] = mid
                buf = self._avg[a]
                if mid == mid:
                    buf.append((now, mid))
                while buf and buf[0][0] < now - window:
                    buf.popleft()
                P[a, U.SRC_AVG] = np.mean([x for _, x in buf]) if buf else mid
            mids = [m for m in (self._mid_usd(b2)[0] for b2 in self.all_books[a]) if m == m]
            P[a, U.SRC_INDEX] = float(np.median(mids)) if mids else mid
            o = self.oracle_usd[a]
            if o != o and W.oracle[a, WD.OR_ON] != 0.0 and b >= 0:
                o = W.oracle[a, WD.OR_VALUE] * self.tick_usd[b]
            P[a, U.SRC_ORACLE] = o if o == o else mid
            if b < 0 and not self.all_books[a] and o != o:
                P[a, :] = 0.0              # not traded against the quote here, no oracle: counts nothing
                continue
            for s in range(U.N_SOURCES):
                # a source that cannot be read now keeps its last value, else
                # falls back to the mid, the last trade, the fundamental
                if not P[a, s] == P[a, s]:
                    prev = self._known[a, s]
                    P[a, s] = prev if prev == prev else (mid if mid == mid else (last if last == last else o))
            self._known[a] = P[a]
        return P

    def _score(self):
        """Liquidity of each asset: USD bid depth within 2% of the mid."""
        W = self._sim.W
        n_a = self._prices.shape[0]
        s = np.zeros(n_a)
        for a in range(n_a):
            b = self.book_of[a]
            if b >= 0:
                bid_lots, _ = EQ.depth_within(W.arena, b, 200)
                s[a] = bid_lots * W.books[b, L.BK_LOT] / self.cfg.atoms_per_unit[a] * self._prices[a, U.SRC_MID]
        return s

    # ------------------------------------------------------------ the cycle
    def on_wakeup(self, now):
        sim, W = self._sim, self._sim.W
        P = self.prices(now)
        bal = W.bal[self.accts]
        out = U.value_accounts(self.cfg, P, self._mark, bal, self._pos, self._pos, self._out)
        # an asset with no price at all yet (no trade, no quote, no oracle)
        # makes its holders' ratios NaN: they are not judged until it has one
        score = None
        for j, acct in enumerate(self.accts.tolist()):
            st = self.status[acct]
            ratio = float(out[j, U.V_RATIO])
            self.ratio[acct] = ratio
            if st == 0:
                if ratio < self.rp.call_ratio and acct not in self._called:
                    self._called.add(acct)
                    self._event(RE.EV_MARGIN_CALL, acct, now, ratio_before=ratio, equity_before=out[j, U.V_NET])
                elif ratio >= self.rp.call_ratio:
                    self._called.discard(acct)
                if ratio < self.rp.takeover_ratio:
                    self._takeover(acct, now, ratio, out[j, U.V_NET])
                    st = 1
            if st == 1 and acct not in self._open_slice:
                if score is None:
                    score = self._score()
                self._slice(acct, now, score)
        if self.spec.record_states:
            n = len(self.accts)
            rows = np.zeros(n, STATE_DTYPE)
            rows["ts"] = now
            rows["account"] = self.accts
            for name, col in (("equity", U.V_EQUITY), ("net", U.V_NET), ("mm", U.V_MM), ("ratio", U.V_RATIO),
                              ("exposure", U.V_EXPOSURE), ("leverage", U.V_LEVERAGE)):
                rows[name] = out[:, col]
            rows["status"] = [self.status[a] for a in self.accts.tolist()]
            self._states.append(rows)
        return now + int(self.spec.cadence_s * 1e9)

    def _takeover(self, acct, now, ratio, net):
        sim, W = self._sim, self._sim.W
        a = self.agent_of[acct]
        self.status[acct] = 1
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
        bal = np.ascontiguousarray(W.bal[acct])
        act, item, idx, side, qty, lim, ratio, net = RE.next_slice(
            self.cfg, self.rp, self._prices, self._mark, bal, self._pos1, self._pos1,
            int(W.bal[self.fund_acct, self.q]), score, np.zeros(0), self._ref[acct], self._step[acct], True)
        if act == RE.ACT_DONE:
            self.status[acct] = 0
            self._called.discard(acct)
            sim.resume(self.agent_of[acct], now)
            self._event(RE.EV_RESTORED, acct, now, ratio_before=ratio, equity_before=net,
                        ratio_after=ratio, equity_after=net)
            return
        if act in (RE.ACT_EMPTY, RE.ACT_BANKRUPT):
            self.status[acct] = 2
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
        if act != RE.ACT_SLICE or item != RE.ITEM_ASSET:
            return
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
        self._open_slice[acct] = oid
        self._slice_of[oid] = [acct, len(self.events)]
        self._step[acct] += 1
        self._event(RE.EV_SLICE, acct, now, item=RE.ITEM_ASSET, index=idx, side=side, qty=int(qty),
                    limit=lim, ratio_before=ratio, equity_before=net)

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
        ev["filled"] += qty * int(W.books[b, L.BK_LOT])
        ev["notional"] += notional
        # the liquidation fee, capped at the account's remaining net equity
        v = U.value_one(self.cfg, self._prices, self._mark, np.ascontiguousarray(W.bal[acct]), self._pos1,
                        self._pos1)
        cap = int(np.floor(v[U.V_NET] * self.cfg.atoms_per_unit[self.q])) if v[U.V_NET] > 0 else 0
        fee = max(0, min(int(np.rint(self.rp.fee_rate * notional)), cap))
        W.bal[acct, self.q] -= fee
        W.bal[self.fund_acct, self.q] += fee
        ev["fee"] += fee
        ev["fund_delta"] += fee
        ev["ratio_after"] = v[U.V_RATIO]
        ev["equity_after"] = v[U.V_NET]
        apu = self.cfg.atoms_per_unit
        ev["price"] = (ev["notional"] / apu[self.q]) / (ev["filled"] / apu[ev["index"]])

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

    # ------------------------------------------------------------ records
    def _event(self, kind, acct, ts, **kw):
        self.events.append(RE.make_event(kind, acct, ts=ts, **kw))

    def event_table(self) -> np.ndarray:
        out = np.zeros(len(self.events), RE.MARGIN_EVENT_DTYPE)
        for j, r in enumerate(self.events):
            out[j] = r
        return out

    def state_table(self) -> np.ndarray:
        return np.concatenate(self._states) if self._states else np.zeros(0, STATE_DTYPE)


# engine arena layout pieces used for the last trade price
from ..core import _layout as _EY  # noqa: E402
from .idmap import get as _idmap_get  # noqa: E402

_H_BOOK_OFF = _EY.H_BOOK_OFF
_N_BOOK = _EY.N_BOOK
_B_LAST_PX = _EY.B_LAST_PX
