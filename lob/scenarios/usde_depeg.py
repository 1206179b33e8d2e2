"""A USDe depeg on one exchange while the on-chain pool holds: the on-chain
leverage demonstration.

One exchange (``EX``) lists ALT/USDT (book 0) and USDe/USDT (book 1, thin);
its risk engine values unified accounts from its own books (``policy``).
One chain holds a deep Curve USDe/USDC pool, an Aave-like lending protocol
(USDe, ALT and USDC markets, USDe priced by ``usde_oracle``), the issuer,
loopers (USDe collateral, USDC debt) and a liquidation bot; a bridge
connects it to the exchange with withdrawal and deposit latency.

Populations:

* exchange **collateral holders** (``n_holders``): unified accounts with
  USDe and ALT as collateral against a USDT loan -- when ALT falls their
  accounts are taken over and the risk engine sells USDe into the thin
  USDe book, which lowers the USDe collateral of every other holder
  (valued at that book's last price): the spiral of October 2025;
* exchange **USDe loopers** (``n_ex_loopers``): USDe against a USDT loan
  at 3x-8x on unified accounts; risk-off (ALT down past a threshold each)
  makes some unwind by selling USDe on the book, and the rest are
  liquidated by the risk engine as the book's USDe price falls;
* **whales** (``n_whales``, two layers): ALT on the exchange against a USDT
  loan (layer 1) and a USDe loop on-chain (layer 2); on a margin call they
  unwind the loop (USDe sold on the pool), swap to USDT and deposit it to
  the exchange -- which takes ``deposit_s``, so their ALT may be liquidated
  first;
* **arbitrageurs** (``n_arbs``): buy USDe on the exchange when it trades
  below the pool, withdraw it (``withdraw_s``), sell it on the pool or
  redeem it at the issuer, and bring the USDT back: the gap closes as fast
  as their capital and the transfer latency allow;
* on-chain loopers unwind when ALT or the exchange's USDe falls past their
  thresholds; ALT borrowers on-chain are liquidated when ALT falls and
  their collateral is sold on the exchange through the bot's account;
* background: ALT value/noise/ZI flow and cash market makers; a thin USDe
  book of peg traders, ZI flow and a guarded market maker that pulls on
  volatility.

At ``shock_s`` the ALT fundamental falls by ``shock``.  Nothing else is
scripted.  Knobs: ``policy`` (``last`` / ``oracle`` = USDe at its 1 USD
redemption value on the exchange), ``usde_oracle`` (on-chain: ``peg``,
``exchange``, ``pool``), ``withdraw_s``, ``n_arbs``, ``arb_capital``.
Units: s, USD.
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np

from ..core import codes as C
from ..sim import layout as L
from ..sim.chain import ChainSpec
from ..sim.model import AgentSpec, AssetSpec, BookSpec, ScenarioSpec, VenueSpec
from ..sim.risk import MarginAssetSpec, RiskEngineSpec
from ..sim.strategy import Strategy
from .liquidation_cascade import Holder

ALT_BOOK = 0
USDE_BOOK = 1
NS = 1_000_000_000


def _chain(strategy):
    return next(iter(strategy._sim.chains.values()))


class Whale(Strategy):
    """Two layers: ALT on the exchange against a USDT loan, a USDe loop on
    chain.  On a margin call (ratio below ``call_ratio``) it unwinds the loop
    and sends the proceeds, as USDT, to its exchange account."""

    def __init__(self, loop_usd: float, ltv: float, rounds: int, call_ratio: float):
        self.loop_usd, self.ltv, self.rounds, self.call_ratio = loop_usd, ltv, rounds, call_ratio
        self.state = "start"
        self.unwound_at = None

    def on_wakeup(self, now):
        ch = _chain(self)
        if self.state == "start":
            ch.build_loop(self.agent, self.loop_usd, self.ltv, self.rounds)
            self.state = "looped"
        elif self.state == "looped" and self.margin_ratio() < self.call_ratio:
            ch.unwind(self.agent)
            self.state = "unwinding"
            self.unwound_at = now
        elif self.state == "unwinding":
            w = ch.wallet(self.agent)
            if ch.ledger.balance(w, "USDe") > 0:
                ch.swap(self.agent, "USDe", "USDC")
            elif ch.ledger.balance(w, "USDC") > 0:
                ch.swap(self.agent, "USDC", "USDT")
            elif ch.ledger.balance(w, "USDT") > 0:
                ch.deposit(self.agent, "USDT")
                self.state = "done"
        return now + 5 * NS


class UsdeArb(Strategy):
    """Buys USDe on the exchange below the pool price minus ``edge_bps``,
    withdraws it, sells it on the pool (or redeems it at the issuer when
    ``redeem``), swaps to USDT and deposits it back.  ``chunk`` USDT per buy."""

    def __init__(self, edge_bps: float = 30.0, chunk: float = 200_000.0, redeem: bool = False):
        self.edge_bps, self.chunk, self.redeem = edge_bps, chunk, redeem
        self.bought = 0.0
        self.cycles = 0

    def on_start(self):
        if self.redeem:
            _chain(self).whitelist(self.agent)

    def on_fill(self, fill):
        if fill["book"] == USDE_BOOK and fill["is_taker"]:
            self.bought += fill["qty"]

    def on_wakeup(self, now):
        ch = _chain(self)
        w = ch.wallet(self.agent)
        # 1. USDe bought on the exchange: withdraw it
        usde = self.units("USDe")
        if usde >= 1000 and not self.open_orders():
            if ch.withdraw(self.agent, "USDe", usde):
                self.cycles += 1
        # 2. on chain: USDe -> USDC (pool or issuer) -> USDT -> exchange
        if ch.ledger.balance(w, "USDe") > 0:
            if self.redeem:
                ch.request_redeem(self.agent, None, "USDC")
            else:
                ch.swap(self.agent, "USDe", "USDC")
        elif ch.ledger.balance(w, "USDC") > 0:
            ch.swap(self.agent, "USDC", "USDT")
        elif ch.ledger.balance(w, "USDT") > 0:
            ch.deposit(self.agent, "USDT")
        # 3. buy USDe on the exchange below the pool
        bid, ask, _ = self.bbo(USDE_BOOK)
        cash = self.units("USDT")
        tick = float(self._sim.spec.books[USDE_BOOK].tick)
        if ask > 0 and cash > 1000 and not self.open_orders():
            limit = ch.pool_price() * (1 - self.edge_bps * 1e-4)
            if ask * tick <= limit:
                px = int(limit / tick)
                q = int(min(self.chunk, cash * 0.99) / (px * tick))
                if q > 0:
                    self.submit(C.BUY, px, q, type=C.IOC, book=USDE_BOOK)
        return now + 1 * NS


class ExchangeLooper(Strategy):
    """A USDe loop on the exchange: USDe against a USDT loan on a unified
    account (farming the USDe yield).  Risk-off -- ALT on the exchange
    ``drawdown`` below where it started -- makes it unwind: it sells its
    USDe in slices of ``slice_frac`` every few seconds until the loan is
    repaid.  The venue's risk engine liquidates it if the USDe price (its own
    book's) falls first."""

    def __init__(self, drawdown: float, slice_frac: float = 0.2):
        self.drawdown, self.slice_frac = drawdown, slice_frac
        self.alt0 = None
        self.unwind_ns = None          # when it started unwinding (venue time, ns); None: never

    def on_wakeup(self, now):
        _, _, alt = self.bbo(ALT_BOOK)
        if self.alt0 is None:
            self.alt0 = alt or None
        elif alt and self.unwind_ns is None and alt < self.alt0 * (1 - self.drawdown):
            self.unwind_ns = now
        if self.unwind_ns is not None and not self.open_orders():
            loan = -self.units("USDT")
            usde = self.units("USDe")
            if loan <= 0 or usde < 1:
                return None
            bid, _, _ = self.bbo(USDE_BOOK)
            if bid > 0:
                q = int(min(usde, max(loan, usde * self.slice_frac)))
                self.submit(C.SELL, bid, q, type=C.IOC, book=USDE_BOOK)
        return now + 3 * NS


class PegTrader(Strategy):
    """Rests bids and asks around 1 USD on the USDe book (``levels`` of
    ``size`` USDe, ``step_bps`` apart) and refreshes them, buying at most
    ``max_buy`` USDe net: the exchange's own peg liquidity, which runs out
    when sellers keep coming."""

    def __init__(self, size: float = 20_000.0, levels: int = 5, step_bps: float = 5.0, refresh_s: float = 10.0,
                 max_buy: float = 300_000.0):
        self.size, self.levels, self.step_bps, self.refresh_s = size, levels, step_bps, refresh_s
        self.max_buy = max_buy

    def on_start(self):
        self.start = self.units("USDe")

    def on_wakeup(self, now):
        self.cancel_all()
        tick = float(self._sim.spec.books[USDE_BOOK].tick)
        room = self.max_buy - (self.units("USDe") - self.start)
        for i in range(1, self.levels + 1):
            d = i * self.step_bps * 1e-4
            q = min(self.size, room)
            if q >= 1:
                self.submit(C.BUY, int(round((1 - d) / tick)), int(q), book=USDE_BOOK)
                room -= q
            self.submit(C.SELL, int(round((1 + d) / tick)), int(self.size), book=USDE_BOOK)
        return now + int(self.refresh_s * NS)


def usde_book_agents(book: int, peg_size: float = 20_000.0) -> list:
    """The USDe/USDT book's own liquidity: peg traders, a small ZI flow and
    two guarded market makers that pull on volatility (shared with
    ``oct_10_2025``)."""
    from strategies.guarded_ladder import GuardedLadderConfig, GuardedLadderMM
    from strategies.risk_controls import RiskControlsConfig

    return [
        AgentSpec(kind=L.KIND_PYTHON, count=3, book=book, strategy=lambda: PegTrader(size=peg_size),
                  balances={"USDT": 5_000_000, "USDe": 5_000_000}, lat_order_ns=5_000_000, lat_md_ns=5_000_000,
                  first_wake_s=(0.5, 5.0), list_cap=32),
        AgentSpec(kind=L.KIND_ZI, count=1, book=book, params=(2.0, 0.1, 0.02, 2000.0, 0.7, 30.0),
                  balances={"USDT": 1_000_000, "USDe": 1_000_000}, lat_order_ns=500_000, lat_md_ns=500_000,
                  first_wake_s=(0.0, 0.1), list_cap=4096),
        AgentSpec(kind=L.KIND_PYTHON, count=2, book=book,
                  strategy=lambda: GuardedLadderMM(GuardedLadderConfig(
                      refresh_s=1.0, half_spread_bps=2.0, spacing_bps=3.0, size=50_000, levels=4,
                      risk=RiskControlsConfig(window_s=60.0, max_range_bps=150.0, reentry_s=600.0, pull="bids",
                                              max_inventory_lots=500_000.0)),
                      base="USDe", quote="USDT"),
                  balances={"USDT": 2_000_000, "USDe": 2_000_000}, lat_order_ns=1_000_000, lat_md_ns=1_000_000,
                  first_wake_s=(0.5, 2.0), list_cap=32),
    ]


def usde_depeg(*, duration_s: float = 3600.0, shock_s: float = 300.0, shock: float = -0.25,
               n_holders: int = 40, holder_usde: tuple = (100_000, 1_000_000), holder_leverage: tuple = (1.5, 3.0),
               n_whales: int = 5, whale_alt: float = 3_000_000, n_arbs: int = 4, arb_capital: float = 2_000_000,
               arb_redeem: bool = False, policy: str = "last", usde_oracle: str = "peg",
               withdraw_s: float = 600.0, deposit_s: float = 60.0, n_loopers: int = 100,
               peg_size: float = 20_000.0, n_ex_loopers: int = 100, ex_looper_capital: tuple = (100_000.0, 1.0),
               ex_looper_leverage: tuple = (3.0, 8.0), ex_looper_drawdown: tuple = (0.05, 0.3),
               order_policy: str = "pro_rata", params_seed: int = 5) -> ScenarioSpec:
    if not 0 < shock_s < duration_s:
        raise ValueError(f"shock_s must be inside the run (0, {duration_s}), got {shock_s}")
    g = np.random.default_rng(params_seed)
    cash = {"USDT": 5_000_000, "ALT": 5_000_000}
    agents = [
        # ALT background (as in liquidation-cascade)
        AgentSpec(kind=L.KIND_ZI, count=1, book=ALT_BOOK, params=(4.0, 0.2, 0.02, 100.0, 0.7, 300.0),
                  balances={"USDT": 10**9, "ALT": 10**9}, lat_order_ns=500_000, lat_md_ns=500_000,
                  first_wake_s=(0.0, 0.1), list_cap=16384),
        AgentSpec(kind=L.KIND_NOISE, count=100, book=ALT_BOOK, params=(20.0, 0.5, 300.0, 20.0), balances=cash,
                  lat_order_ns=20_000_000, lat_order_jitter=0.5, lat_md_ns=20_000_000, first_wake_s=(0.0, 20.0),
                  list_cap=4),
        AgentSpec(kind=L.KIND_VALUE, count=50, book=ALT_BOOK, params=(5.0, 30.0, 0.3, 500.0, 30.0, 0.2, 20.0),
                  balances=cash, lat_order_ns=5_000_000, lat_order_jitter=0.3, lat_md_ns=5_000_000,
                  first_wake_s=(0.0, 5.0), list_cap=8),
        AgentSpec(kind=L.KIND_LADDER_MM, count=3, book=ALT_BOOK, params=(2.0, 50.0, 100.0, 500.0, 0.0, 0.02, 50_000.0),
                  iparams=(8,), balances={"USDT": 20_000_000, "ALT": 20_000_000}, lat_order_ns=1_000_000,
                  lat_md_ns=1_000_000, first_wake_s=(0.5, 2.0), list_cap=64),
    ]
    agents += usde_book_agents(USDE_BOOK, peg_size)
    # exchange collateral holders: USDe + ALT against a USDT loan
    for _ in range(n_holders):
        usde = float(g.uniform(*holder_usde))
        alt = usde * float(g.uniform(0.5, 2.0))
        lev = float(g.uniform(*holder_leverage))
        loan = round((usde + alt) * (1 - 1 / lev), 2)
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, strategy=Holder, margin_venue="EX",
                                balances={"USDe": round(usde), "ALT": round(alt), "USDT": -loan},
                                credit={"USDT": loan}, first_wake_s=(0.0, 0.0), list_cap=4))
    # USDe loops on the exchange: USDe against a USDT loan, 3x-8x
    for _ in range(n_ex_loopers):
        p = float(ex_looper_capital[0] * np.exp(ex_looper_capital[1] * g.standard_normal()))
        lev = float(g.uniform(*ex_looper_leverage))
        loan = round(p * (lev - 1), 2)
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=USDE_BOOK, margin_venue="EX",
                                strategy=(lambda d=float(g.uniform(*ex_looper_drawdown)): ExchangeLooper(d)),
                                balances={"USDe": round(p * lev), "USDT": -loan}, credit={"USDT": loan},
                                lat_order_ns=5_000_000, lat_md_ns=5_000_000, first_wake_s=(1.0, 5.0), list_cap=4))
    # whales: ALT on the exchange against a USDT loan (layer 1), a USDe loop on chain (layer 2)
    for _ in range(n_whales):
        loan = round(whale_alt * float(g.uniform(0.3, 0.5)), 2)
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, margin_venue="EX",
                                strategy=(lambda loan=loan, r=int(g.integers(3, 6)), c=float(g.uniform(1.5, 3.0)):
                                          Whale(loop_usd=loan, ltv=0.8, rounds=r, call_ratio=c)),
                                balances={"ALT": whale_alt, "USDT": -loan}, credit={"USDT": loan},
                                first_wake_s=(1.0, 1.0), list_cap=4))
    for _ in range(n_arbs):
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=USDE_BOOK,
                                strategy=lambda: UsdeArb(redeem=arb_redeem), balances={"USDT": arb_capital},
                                lat_order_ns=2_000_000, lat_md_ns=2_000_000, first_wake_s=(1.0, 2.0), list_cap=8))
    risk_engine = RiskEngineSpec(
        venue="EX", quote="USDT",
        assets=(MarginAssetSpec(asset="ALT", haircut=0.7, policy="last"),
                MarginAssetSpec(asset="USDe", haircut=0.95, policy=policy, oracle_usd=1.0),
                MarginAssetSpec(asset="USDT", loan_mm=0.05, loan_im=0.1, cash=True)),
        cadence_s=1.0, takeover_ratio=1.0, target_ratio=1.2, call_ratio=1.5, fee_rate=0.005,
        slice_frac=0.25, limit_bps=500.0, insurance_fund=5_000_000, order_policy=order_policy)
    chain = ChainSpec(exchange="EX", withdraw_s=withdraw_s, deposit_s=deposit_s, usde_oracle=usde_oracle,
                      n_loopers=n_loopers, usde_book=USDE_BOOK, alt_book=ALT_BOOK)
    return ScenarioSpec(
        assets=(AssetSpec(name="USDT", atom=Decimal("1e-8")),
                AssetSpec(name="ALT", atom=Decimal("1e-8"), fundamental=10_000.0, kappa=0.0, sigma=2.0),
                AssetSpec(name="USDe", atom=Decimal("1e-8"), fundamental=10_000.0, kappa=0.01, sigma=0.5)),
        venues=(VenueSpec(name="EX", maker_ppm=0, taker_ppm=500),),
        books=(BookSpec(venue="EX", base="ALT", quote="USDT", tick=Decimal("0.0001"), lot=Decimal(1)),
               BookSpec(venue="EX", base="USDe", quote="USDT", tick=Decimal("0.0001"), lot=Decimal(1))),
        agents=tuple(agents), duration_s=duration_s, snapshot_s=1.0,
        shocks=((shock_s, "ALT", shock),), risk_engines=(risk_engine,), chains=(chain,),
    )
