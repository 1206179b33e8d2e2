"""An on-chain venue inside a simulation: a block-producing chain with a
lending protocol, a stableswap pool, the stablecoin issuer, loopers, a
liquidation bot, and a bridge to an exchange with transfer latency.

The on-chain mechanics are :mod:`lob.onchain` (token ledger, Curve pool,
Aave-like lending, USDe issuer, loops); this module wires them to a running
:class:`~lob.sim.model.Simulation`:

* a :class:`ChainSpec` in ``ScenarioSpec.chains`` adds one agent (a Python
  strategy, :class:`Chain`) that produces a block every ``block_s``
  seconds; its exchange account is the **bridge custody** (the exchange's
  hot wallet, seen from the exchange);
* the **bridge**: :meth:`Chain.withdraw` takes an asset off an agent's
  exchange account at once and credits its on-chain wallet after
  ``withdraw_s`` (the exchange's withdrawal queue plus confirmations, in
  whole blocks); :meth:`Chain.deposit` takes it from the wallet and credits
  the exchange account ``deposit_s`` later.  ``withdraw_limit_usd`` caps
  what one account can withdraw per hour.  One exchange atom is ``10**10``
  ledger base units (1e-8 against 18 decimals), so both sides stay exact;
* **oracles** of the lending protocol per asset: ``peg`` (a fixed 1 USD),
  ``exchange`` (the exchange book's last trade), ``pool`` (the stableswap
  spot price): the October 2025 policy question on-chain;
* **loopers** (USDe collateral, USDC debt, built at t = 0 at 1:1) unwind when
  risk-off: the exchange's ALT has fallen ``unwind_drawdown`` from its
  start, or the exchange's USDe below ``unwind_usde``; they sell on the pool;
* the **liquidation bot** liquidates every position with health factor
  below 1 each block (close factor, bonus), sells seized USDe on the pool at
  once, and deposits seized exchange-traded collateral (ALT) to its
  exchange account, where its agent sells it into the book;
* agents call :meth:`Chain.swap`, :meth:`Chain.request_redeem` and the
  bridge from their callbacks: actions take effect at the next block.

Conservation: the ledger conserves every token (supply = minted - burned);
the simulation's balances move only between accounts (the custody row
included); ``Chain.check()`` asserts both plus the bridge identity, per
asset: hot-wallet tokens + 10**10 x (custody atoms - atoms in flight either
way) is constant.

Units: s for times in specs, ns inside; USD; ledger base units (1e18 per
token); exchange atoms (1e8 per token).
"""
from __future__ import annotations

import heapq
import weakref
from dataclasses import dataclass

import numpy as np

from ..onchain.issuer import USDeIssuer
from ..onchain.ledger import WAD, Ledger
from ..onchain.lending import InterestRateModel, LendingError, LendingProtocol, MarketConfig
from ..onchain.loops import build_loop, unwind_loop
from ..onchain.oracles import CallableOracle
from ..onchain.stableswap import StableSwapPool
from ..onchain.venues import FixedPriceVenue
from ..core import _layout as EY
from ..core import codes as C
from . import layout as L
from . import world as WD
from .kernel import tape_at
from .strategy import Strategy

UNIT = 10**10          # ledger base units per exchange atom (18 - 8 decimals)
NS = 1_000_000_000
HOT = "exchange:hot"   # the exchange's on-chain hot wallet
BOT = "liquidator"


@dataclass(frozen=True, kw_only=True)
class ChainSpec:
    """The chain and its protocols.  Amounts in tokens (USD for stables),
    times in seconds, LTV / thresholds / bonus as fractions."""
    name: str = "chain"
    exchange: str = "EX"
    block_s: float = 12.0
    withdraw_s: float = 600.0
    deposit_s: float = 60.0
    withdraw_limit_usd: float = float("inf")      # per account per hour
    # the USDe/USDC stableswap pool
    pool_usde: float = 200e6
    pool_usdc: float = 200e6
    pool_A: int = 200
    pool_fee: int = 1_000_000                     # 0.01%, 1e10 = 100%
    # lending markets
    usdc_supply: float = 2e9
    usde_ltv: float = 0.90
    usde_lt: float = 0.93
    usde_bonus: float = 0.02
    alt_ltv: float = 0.50
    alt_lt: float = 0.65
    alt_bonus: float = 0.10
    usde_oracle: str = "peg"                      # peg | exchange | pool
    alt_oracle: str = "exchange"
    # the issuer (whitelisted minters / redeemers)
    redeem_delay_s: float = 0.0
    redeem_cap_usd: float = float("inf")          # per hour
    issuer_reserve_usd: float = 500e6             # USDC the issuer holds to pay redemptions
    # loopers
    n_loopers: int = 100
    looper_capital: tuple = (100_000.0, 1.0)      # lognormal median USD, sigma
    looper_ltv: tuple = (0.6, 0.8)
    looper_rounds: tuple = (1, 5)
    unwind_drawdown: tuple = (0.10, 0.40)         # ALT drawdown on the exchange that makes them unwind
    unwind_usde: tuple = (0.90, 0.99)             # or the exchange USDe price below this
    # on-chain ALT borrowers (ALT collateral, USDC debt)
    n_alt_borrowers: int = 50
    alt_borrow_usd: tuple = (200_000.0, 1.0)      # collateral value, lognormal
    alt_borrow_ltv: tuple = (0.3, 0.5)
    bot_capital: float = 50e6                     # the liquidation bot's USDC
    params_seed: int = 11
    usde_book: int = -1                           # exchange book of USDe/USDT (-1: none)
    alt_book: int = -1                            # exchange book of ALT/USDT (-1: none)
    alt_asset: str = "ALT"                        # the altcoin used as on-chain collateral (its exchange name)

    def __post_init__(self):
        for k in ("usde_oracle", "alt_oracle"):
            if getattr(self, k) not in ("peg", "exchange", "pool"):
                raise ValueError(f"ChainSpec.{k} must be 'peg', 'exchange' or 'pool', got {getattr(self, k)!r}")
        if not self.block_s > 0:
            raise ValueError("ChainSpec.block_s must be > 0 seconds")
        if self.withdraw_s < 0 or self.deposit_s < 0:
            raise ValueError("ChainSpec.withdraw_s / deposit_s must be >= 0 seconds")


LIQ_DTYPE = np.dtype([("ts", np.int64), ("user", "U32"), ("collateral", "U8"), ("debt_repaid_usd", np.float64),
                      ("collateral_seized", np.float64), ("health_factor", np.float64),
                      ("collateral_price", np.float64)])


class Chain(Strategy):
    """The chain's block producer (see the module docstring)."""

    def __init__(self, spec: ChainSpec):
        self.spec = spec
        self.liquidations: list = []
        self.unwinds: list = []           # (ts, looper, USDe sold, completed)
        self.pool_prices: list = []       # (ts, USDe price in USDC on the pool)
        self.transfers: list = []         # (ts_request, ts_arrival, direction, agent, asset, units)
        self._pending: list = []          # heap of (t_arrival, seq, kind, args)
        self._seq = 0
        self._queue: list = []            # agent actions for the next block
        self._pool_key = None             # the pool state pool_price was computed for

    # ------------------------------------------------------------ setup
    def _bind(self, sim, agent):
        super()._bind(sim, agent)
        sp = self.spec
        self.custody = int(sim.W.agents[agent, L.A_ACCOUNT])
        self.ledger = Ledger()
        L_ = self.ledger
        # all USDe comes from the issuer (seeded: the supply that exists at the start), backed
        # by a USDC reserve it redeems from
        self.issuer = USDeIssuer(L_, whitelist=(), delay_s=int(sp.redeem_delay_s),
                                 period_s=3600, redeem_cap=0 if sp.redeem_cap_usd == float("inf")
                                 else int(sp.redeem_cap_usd * WAD))
        L_.mint(self.issuer.address, "USDC", int(sp.issuer_reserve_usd * WAD))
        self.pool = StableSwapPool(L_, ("USDe", "USDC"), A=sp.pool_A, fee=sp.pool_fee)
        self.issuer.seed("lp", int(sp.pool_usde * WAD))
        L_.mint("lp", "USDC", int(sp.pool_usdc * WAD))
        self.pool.add_liquidity("lp", [int(sp.pool_usde * WAD), int(sp.pool_usdc * WAD)])
        self.lending = LendingProtocol(L_, "aave")
        price = weakref.WeakMethod(self._oracle_price)     # not self._oracle_price: a reference cycle
        orc = CallableOracle(lambda asset, now: price()(asset, now), numeric=True)   # (see Strategy._bind)
        rm = InterestRateModel.from_percent(optimal=90, base=0, slope1=6, slope2=60)
        self.lending.add_market(MarketConfig("USDC", ltv_bps=7_500, liquidation_threshold_bps=7_800,
                                             liquidation_bonus_bps=450, rate_model=rm), orc)
        self.lending.add_market(MarketConfig("USDe", ltv_bps=int(sp.usde_ltv * 1e4),
                                             liquidation_threshold_bps=int(sp.usde_lt * 1e4),
                                             liquidation_bonus_bps=int(sp.usde_bonus * 1e4),
                                             borrowing_enabled=False), orc)
        self.lending.add_market(MarketConfig(sp.alt_asset, ltv_bps=int(sp.alt_ltv * 1e4),
                                             liquidation_threshold_bps=int(sp.alt_lt * 1e4),
                                             liquidation_bonus_bps=int(sp.alt_bonus * 1e4),
                                             borrowing_enabled=False), orc)
        L_.mint("usdc_lender", "USDC", int(sp.usdc_supply * WAD))
        self.lending.supply("usdc_lender", "USDC", int(sp.usdc_supply * WAD), 0)
        self.usdt_usdc = FixedPriceVenue(L_, {"USDT": 1, "USDC": 1}, dealer="stable_desk")
        L_.mint("stable_desk", "USDT", int(1e10 * WAD))
        L_.mint("stable_desk", "USDC", int(1e10 * WAD))
        # the exchange's hot wallet fully backs its users' balances of the bridged assets
        W = sim.W
        for name, i in sim.asset_ix.items():
            atoms = int(W.bal[:, i].clip(min=0).sum())
            if atoms and name in ("USDe", "USDC", "USDT", self.spec.alt_asset):
                if name == "USDe":
                    self.issuer.seed(HOT, atoms * UNIT)
                else:
                    L_.mint(HOT, name, atoms * UNIT)
        self.bot_wallet = BOT
        L_.mint(BOT, "USDC", int(sp.bot_capital * WAD))
        # loopers and on-chain ALT borrowers, built at t = 0 at 1:1
        g = np.random.default_rng(sp.params_seed)
        par = self._par = FixedPriceVenue(L_, {"USDe": 1, "USDC": 1}, dealer="par_desk")
        self.issuer.seed("par_desk", int(1e11 * WAD))
        L_.mint("par_desk", "USDC", int(1e11 * WAD))
        self.loopers = []
        for k in range(sp.n_loopers):
            cap = float(sp.looper_capital[0] * np.exp(sp.looper_capital[1] * g.standard_normal()))
            ltv = float(g.uniform(*sp.looper_ltv))
            rounds = int(g.integers(sp.looper_rounds[0], sp.looper_rounds[1] + 1))
            dd = float(g.uniform(*sp.unwind_drawdown))
            peg = float(g.uniform(*sp.unwind_usde))
            user = f"looper{k}"
            principal = int(cap * 100) * WAD // 100
            self.issuer.seed(user, principal)
            build_loop(self.lending, par, user, principal, now=0, rounds=rounds, ltv_bps=int(ltv * 1e4),
                       collateral_asset="USDe", debt_asset="USDC")
            self.loopers.append(dict(user=user, drawdown=dd, usde=peg, done=False))
        self.alt_borrowers = []
        alt0 = self._alt_px0 = self._exchange_last(sp.alt_book, default=self._fundamental(sp.alt_book))
        for k in range(sp.n_alt_borrowers):
            usd = float(sp.alt_borrow_usd[0] * np.exp(sp.alt_borrow_usd[1] * g.standard_normal()))
            ltv = float(g.uniform(*sp.alt_borrow_ltv))
            user = f"altborrower{k}"
            amount = int(usd / alt0 * 100) * WAD // 100
            L_.mint(user, self.spec.alt_asset, amount)
            self.lending.supply(user, self.spec.alt_asset, amount, 0)
            self.lending.borrow(user, "USDC", int(usd * ltv * 100) * WAD // 100, 0)
            self.alt_borrowers.append(user)
        self.wallets: dict[int, str] = {}         # agent -> its on-chain wallet name
        self._withdrawn: dict = {}
        self._bridge0 = {name: self.ledger.balance(HOT, name) + UNIT * int(W.bal[self.custody, i])
                         for name, i in sim.asset_ix.items() if name in ("USDe", "USDC", "USDT", self.spec.alt_asset)}

    def wallet(self, agent: int) -> str:
        return self.wallets.setdefault(agent, f"agent{agent}")

    # ------------------------------------------------------------ prices
    def _exchange_last(self, book: int, default=float("nan")) -> float:
        if book < 0:
            return default
        sim = self._sim
        W = sim.W
        px = W.arena[W.arena[EY.H_BOOK_OFF] + book * EY.N_BOOK + EY.B_LAST_PX]
        if px <= 0:
            bid, ask, last = tape_at(W.tape, W.books, book, self._clock())
            px = last or (bid + ask) // 2 if (bid and ask) else 0
        return float(px) * float(sim.spec.books[book].tick) if px > 0 else default

    def _fundamental(self, book: int) -> float:
        """The book's reference fundamental (quote units), 1.0 without one."""
        if book < 0:
            return 1.0
        W = self._sim.W
        a = int(W.books[book, L.BK_REF])
        if W.oracle[a, WD.OR_ON] == 0.0:
            return 1.0
        return float(W.oracle[a, WD.OR_VALUE]) * float(self._sim.spec.books[book].tick)

    def pool_price(self) -> float:
        """USDe in USDC on the pool (marginal price, 1 = peg); recomputed
        only when the pool's balances have changed."""
        p = self.pool
        key = (tuple(p.stored_balances), tuple(p.admin_balances), p.amp, p.rates)
        if key != self._pool_key:
            self._pool_key = key
            self._pool_px = p.spot_price("USDe", "USDC") / WAD
        return self._pool_px

    def _oracle_price(self, asset: str, now: int) -> float:
        sp = self.spec
        if asset in ("USDC", "USDT"):
            return 1.0
        if asset == "USDe":
            if sp.usde_oracle == "peg":
                return 1.0
            if sp.usde_oracle == "pool":
                return self.pool_price()
            return self._exchange_last(sp.usde_book, default=1.0)
        if asset == sp.alt_asset:
            return self._exchange_last(sp.alt_book, default=self._alt_px0)
        raise KeyError(asset)

    # ------------------------------------------------------------ bridge (called by agents)
    def withdraw(self, agent: int, asset: str, units: float) -> int:
        """Move ``units`` of ``asset`` from ``agent``'s exchange account to its
        wallet; arrives after ``withdraw_s`` (rounded up to a block).
        Returns the atoms taken (0 if refused: not enough free balance or over
        the hourly limit)."""
        sim, W = self._sim, self._sim.W
        a = sim.asset_ix[asset]
        acct = int(W.agents[agent, L.A_ACCOUNT])
        atoms = int(round(units * 1e8))
        free = int(W.bal[acct, a] - W.resv[acct, a])
        if atoms <= 0 or atoms > free:
            return 0
        t = self._clock()
        hour = t // (3600 * NS)
        used = self._withdrawn.get((acct, hour), 0.0)
        if used + units > self.spec.withdraw_limit_usd:
            return 0
        self._withdrawn[(acct, hour)] = used + units
        W.bal[acct, a] -= atoms
        W.bal[self.custody, a] += atoms
        self._later(t + int(self.spec.withdraw_s * NS), "to_chain", (agent, asset, atoms))
        return atoms

    def deposit(self, agent: int, asset: str, units: float | None = None) -> int:
        """Move ``units`` (None: all) of ``asset`` from ``agent``'s wallet to its
        exchange account; credited after ``deposit_s``.  Returns base units sent."""
        w = self.wallet(agent)
        have = self.ledger.balance(w, asset)
        amt = have if units is None else min(have, int(round(units * 1e8)) * UNIT)
        amt -= amt % UNIT
        if amt <= 0:
            return 0
        self.ledger.transfer(w, HOT, asset, amt)
        self._later(self._clock() + int(self.spec.deposit_s * NS), "to_exchange", (agent, asset, amt // UNIT))
        return amt

    def swap(self, agent: int, asset_in: str, asset_out: str, units: float | None = None) -> None:
        """Queue a swap from the agent's wallet for the next block: USDe<->USDC
        on the pool, USDT<->USDC at par on a stable desk."""
        self._queue.append(("swap", agent, asset_in, asset_out, units))

    def request_redeem(self, agent: int, units: float | None = None, collateral: str = "USDC") -> None:
        """Queue a USDe redemption at the issuer (the agent must be whitelisted)."""
        self._queue.append(("redeem", agent, collateral, None, units))

    def build_loop(self, agent: int, principal_usd: float, ltv: float, rounds: int) -> None:
        """Queue a USDe loop for the agent's wallet (principal minted into it
        as USDe, built at 1:1 at the next block): layer 2 of a whale."""
        self._queue.append(("loop", agent, principal_usd, ltv, rounds))

    def unwind(self, agent: int) -> None:
        """Queue the unwind of the agent's loop (sells USDe on the pool, repays)."""
        self._queue.append(("unwind", agent, None, None, None))

    def loop_of(self, agent: int) -> tuple[float, float]:
        """(USDe collateral, USDC debt) of the agent's loop, tokens."""
        w = self.wallet(agent)
        s = int(self._clock() // NS)
        return (self.lending.collateral_balance(w, "USDe", s) / WAD, self.lending.debt_balance(w, "USDC", s) / WAD)

    def whitelist(self, agent: int) -> None:
        self.issuer.whitelist.add(self.wallet(agent))

    def _clock(self) -> int:
        """The simulation's current time, ns (an agent may call between blocks)."""
        return int(self._sim.W.clock[L.K_NOW])

    def _later(self, t, kind, args):
        self._seq += 1
        heapq.heappush(self._pending, (t, self._seq, kind, args))
        self.transfers.append((self._clock(), t, kind, *args))

    # ------------------------------------------------------------ blocks
    def on_wakeup(self, now):
        sim, W = self._sim, self._sim.W
        sp = self.spec
        s = int(now // NS)
        # bridge arrivals
        while self._pending and self._pending[0][0] <= now:
            _, _, kind, (agent, asset, q) = heapq.heappop(self._pending)
            a = sim.asset_ix[asset]
            if kind == "to_chain":
                self.ledger.transfer(HOT, self.wallet(agent), asset, q * UNIT)
            else:
                acct = int(W.agents[agent, L.A_ACCOUNT])
                W.bal[self.custody, a] -= q
                W.bal[acct, a] += q
        # queued agent actions
        for act in self._queue:
            self._do(act, s)
        self._queue.clear()
        self.issuer.process(s)
        # loopers' risk-off unwinds
        alt = self._exchange_last(sp.alt_book, default=self._alt_px0)
        usde = self._exchange_last(sp.usde_book, default=1.0)
        dd = 1.0 - alt / self._alt_px0 if self._alt_px0 > 0 else 0.0
        for lp in self.loopers:
            if lp["done"] or not (dd >= lp["drawdown"] or usde <= lp["usde"]):
                continue
            try:
                rec = unwind_loop(self.lending, self.pool, lp["user"], now=s, collateral_asset="USDe",
                                  debt_asset="USDC")
            except (LendingError, ValueError):
                continue
            lp["done"] = rec.completed
            self.unwinds.append((now, lp["user"], rec.sold / WAD, rec.completed))
        # liquidation bot
        self._liquidate(now, s)
        self.pool_prices.append((now, self.pool_price()))
        return now + int(sp.block_s * NS)

    def _do(self, act, s):
        kind, agent, a_in, a_out, units = act
        w = self.wallet(agent)
        try:
            if kind == "loop":
                principal = int(a_in * 100) * WAD // 100
                self.issuer.seed(w, principal)
                self._endowed = getattr(self, "_endowed", 0) + principal
                build_loop(self.lending, self._par, w, principal, now=s, rounds=units, ltv_bps=int(a_out * 1e4),
                           collateral_asset="USDe", debt_asset="USDC")
                self.whale_loops = getattr(self, "whale_loops", []) + [w]
            elif kind == "unwind":
                rec = unwind_loop(self.lending, self.pool, w, now=s, collateral_asset="USDe", debt_asset="USDC")
                self.unwinds.append((s * NS, w, rec.sold / WAD, rec.completed))
            elif kind == "swap":
                have = self.ledger.balance(w, a_in)
                amt = have if units is None else min(have, int(round(units * WAD)))
                if amt <= 0:
                    return
                venue = self.pool if {a_in, a_out} == {"USDe", "USDC"} else self.usdt_usdc
                venue.swap(w, a_in, a_out, amt)
            elif kind == "redeem":
                have = self.ledger.balance(w, "USDe")
                amt = have if units is None else min(have, int(round(units * WAD)))
                if amt > 0:
                    self.issuer.request_redeem(w, amt, a_in, s)
        except (ValueError, LendingError):
            pass                                  # refused: nothing moved

    def _liquidate(self, now, s):
        lend = self.lending
        users = [lp["user"] for lp in self.loopers] + self.alt_borrowers + getattr(self, "whale_loops", [])
        # every user's check at once, valid until the first liquidation changes anything
        flags = lend.liquidatable_many(users, s)
        fresh = True
        for u, flag in zip(users, flags):
            if fresh:
                if isinstance(flag, Exception):
                    if isinstance(flag, (LendingError, ZeroDivisionError)):
                        continue
                    raise flag
                if not flag:
                    continue
            else:
                try:
                    if not lend.is_liquidatable(u, s):
                        continue
                except (LendingError, ZeroDivisionError):
                    continue
            for coll in ("USDe", self.spec.alt_asset):
                if lend.collateral_balance(u, coll, s) == 0:
                    continue
                fresh = False
                try:
                    hf = lend.health_factor(u, s) / WAD
                    rec = lend.liquidate(BOT, u, coll, "USDC", None, s)
                except LendingError:
                    continue
                self.liquidations.append((now, u, coll, rec.debt_repaid / WAD, rec.collateral_seized / WAD,
                                          hf, rec.collateral_price / WAD))
                got = self.ledger.balance(BOT, coll)
                if coll == "USDe" and got:
                    self.pool.swap(BOT, "USDe", "USDC", got)        # sold at once on the pool
                break
        # seized ALT goes to the bot's exchange account, where its agent sells it
        if self.ledger.balance(BOT, self.spec.alt_asset) >= UNIT and getattr(self, "bot_agent", None) is not None:
            amt = self.ledger.balance(BOT, self.spec.alt_asset)
            amt -= amt % UNIT
            self.ledger.transfer(BOT, HOT, self.spec.alt_asset, amt)
            self._later(now + int(self.spec.deposit_s * NS), "to_exchange", (self.bot_agent, self.spec.alt_asset, amt // UNIT))

    # ------------------------------------------------------------ records and checks
    def liquidation_table(self) -> np.ndarray:
        out = np.zeros(len(self.liquidations), LIQ_DTYPE)
        for j, r in enumerate(self.liquidations):
            out[j] = r
        return out

    def check(self) -> None:
        """Ledger conservation and the bridge identity (see the module docstring)."""
        self.ledger.check()
        self.issuer.check()
        assert self.issuer.supply == self.ledger.supply("USDe"), "USDe not minted by the issuer"
        sim, W = self._sim, self._sim.W
        for asset in ("USDe", "USDC", "USDT", self.spec.alt_asset):
            if asset not in sim.asset_ix:
                continue
            a = sim.asset_ix[asset]
            to_chain = sum(q for _, _, k, (ag, asx, q) in self._pending if k == "to_chain" and asx == asset)
            to_ex = sum(q for _, _, k, (ag, asx, q) in self._pending if k == "to_exchange" and asx == asset)
            # withdrawals move claims into custody at once and tokens out of the hot wallet on
            # arrival; deposits move tokens in at once and custody out on arrival
            inv = self.ledger.balance(HOT, asset) - UNIT * (to_chain + to_ex) + UNIT * int(W.bal[self.custody, a])
            assert inv == self._bridge0[asset], (asset, inv, self._bridge0[asset])


class ChainSeller(Strategy):
    """The liquidation bot's exchange agent: sells what the chain deposits
    (seized ALT) into the book in market slices of ``slice_units`` every
    ``every_s`` seconds."""

    def __init__(self, book: int, asset: str = "ALT", slice_units: float = 20_000.0, every_s: float = 1.0):
        self.book_ix, self.asset, self.slice_units, self.every_s = book, asset, slice_units, every_s
        self.sold = 0.0

    def on_wakeup(self, now):
        have = self.units(self.asset)
        lot = float(self._sim.spec.books[self.book_ix].lot)
        q = int(min(have, self.slice_units) / lot)
        if q > 0 and not self.open_orders():
            self.submit(C.SELL, 0, q, type=C.MARKET, book=self.book_ix)
        return now + int(self.every_s * NS)

    def on_fill(self, fill):
        self.sold += fill["qty"] * float(self._sim.spec.books[self.book_ix].lot)
