"""The 10 October 2025 cascade: many books, two exchanges and a chain,
composed from the mechanisms of ``liquidation_cascade`` and ``usde_depeg``.

Venues:

* ``BIG``: one large exchange with unified accounts and a risk engine that
  values USDe, WBETH, BNSOL (``policy``) and the altcoins from its own
  books; books for BTC, USDe, ETH, SOL, BNB, WBETH, BNSOL and ``n_alts``
  altcoins of heterogeneous liquidity (a depth factor drawn per coin), all
  against USDT.
* ``CALM``: a second exchange with cash-only accounts and books for BTC,
  ETH, SOL and the first ``n_calm_alts`` altcoins (the same fundamentals).
* a chain with the Curve USDe/USDC pool, the lending protocol (USDe at its
  peg by default), loopers, a liquidation bot and the bridge to ``BIG``.

Who provides liquidity on a BIG altcoin book (depth factor ``s``):

* ``mm_per_alt`` **market makers on unified accounts**
  (:class:`strategies.guarded_ladder.GuardedLadderMM`), most of the depth
  near the mid (``mm_quote_frac`` of their inventory per level, 5 levels a
  side).  Each account holds the book's coin, a basket of ``mm_basket``
  other altcoins (``mm_basket_frac`` of an inventory each: a market-making
  firm holds many coins in one account), BTC or ETH (``mm_major_frac``),
  USDe (``mm_usde_frac``) and WBETH or BNSOL (``mm_lst_frac``) as
  collateral against a USDT loan that opens the
  account at a margin ratio drawn from ``mm_open_ratio``.  Kill switches
  (drawdown, range, adverse fills, margin ratio) are drawn per agent.
* a cash **index arbitrageur** (compiled ladder quoting around the index,
  i.e. the other venues' price, with ``arb_inventory_usd`` of room);
* a **zero-intelligence flow** whose limit-order rate falls and whose
  cancellation rate rises with realized volatility (``zi_vol_ref_bps``);
* noise traders; **value traders** (dip buyers) with ``value_capital_usd``
  each; resting **stink bids** far below the market (``stink_scale``).

Forced sellers: leveraged longs (``longs_per_alt``, margin ratio at open
drawn from ``long_open_ratio``), whales with two layers of leverage, the
market makers' own accounts, the on-chain lender's liquidation bot.  On
the majors the same populations, deeper.  On USDe the exchange loopers,
peg traders, arbitrageurs and whales of ``usde_depeg``.

The macro shock starts at ``shock_s``: the fundamentals of BTC
(``shock_btc``), ETH and WBETH (``shock_eth``), SOL, BNB and BNSOL
(``shock_sol``) and each altcoin (a draw in ``shock_alt``) are repriced
along ``1 - exp(-t / shock_tau_s)`` (risk-off spreading through the
market; ``shock_tau_s = 0`` is a jump).  Nothing else is scripted: the
USDe depeg, the takeovers, the pulled bids and the wicks are the
populations' doing.

Perpetuals (``perps``, BTC and ETH by default) are listed on BIG with the
underlying's fundamental as reference: leveraged perp longs (``perp_longs``
of ``perp_notional_usd`` each, leverage lognormal around
``perp_leverage``), delta-neutral basis holders (``perp_basis_traders``) and
``perp_arbs`` basis arbitrageurs (:class:`BasisArb`, ``perp_arb_usd`` of
capital each) who buy the perp and sell spot when the perp trades under it:
the perp longs' liquidations reach the spot books through them.

Parameters (units: s, USD; ranges ``(low, high)`` are uniform draws):

* shock: ``shock_s`` start, ``shock_tau_s`` ramp time constant, moves
  ``shock_btc``, ``shock_eth``, ``shock_sol``, ``shock_alt`` (fractions);
* market makers: ``mm_per_alt``, ``mm_open_ratio`` (opening uniMMR of
  their accounts), ``mm_basket``/``mm_basket_frac``, ``mm_major_frac``,
  ``mm_usde_frac``, ``mm_lst_frac`` (collateral mix), ``mm_quote_frac``
  (inventory share per quote level), ``kill_switch`` and its thresholds
  drawn per market maker (``strategies.risk_controls``): ``mm_drawdown_bps``
  (mark-to-market value under its peak of the last 600 s), ``mm_range_bps``
  (high-low range of the mid over 60 s), ``mm_adverse_frac`` (lots bought
  within 60 s, as a share of the inventory), ``mm_min_margin_ratio`` (the
  account's uniMMR), ``mm_forced_frac`` (the liquidation feed: forced sells
  the risk engine sent on the book, decayed over ``feed_tau_s``, as a share
  of the inventory; ``None``, off, draws nothing);
* leverage: ``longs_per_alt``/``long_open_ratio``, ``longs_per_major``/
  ``major_long_open_ratio``, ``major_open_ratio`` (majors' market makers),
  ``leverage_scale`` (multiplies every loan), ``liq_target_ratio`` (the risk
  engine liquidates a taken-over account until its ratio is back there;
  ``liq_stall_backoff_s``: after slices that found no bids within their
  limit, it waits cadence x 2^k, at most this long, before the next);
* USDe: ``loops``, ``looper_capital_usd``, ``looper_drawdown`` (the depeg
  at which a looper unwinds), ``usde_arb_capital``, ``usde_stink_usd``
  (bids 5-50% under the peg), ``usde_value_capital_usd``/``usde_value_wake_s``;
  ``policy`` prices USDe, WBETH and BNSOL as collateral (``last``: BIG's own
  book; ``oracle``: redemption value);
* liquidity: ``stink_usd`` per unit of depth factor, bids 10-95% under the
  open weighted by depth cubed, ``stink_scale``, ``stink_refresh_s``;
  ``value_capital_usd``, ``value_wake_s``, ``value_vol_ref_bps`` (dip buyers
  on altcoins act with probability ``1 / (1 + (vol / ref)^2)``, vol the
  EWMA realized volatility per sqrt(s) over ``zi_vol_horizon_s``);
  ``zi_vol_ref_bps`` (the ZI flow's limit rate divides and its cancel rate
  multiplies by the same factor); ``arb_inventory_usd``, ``major_arb_mult``;
* ``params_seed`` draws the population (prices, depth factors, accounts).

Calibration (version 3 of ``oct-10-2025.toml``) and its measured values:
see the README and the closing note of issue #7.

A margin ratio here is the venue's uniMMR: haircut-weighted collateral
minus the loan, over the loan's maintenance margin (``loan_mm`` = 5% of
it); takeover below 1.  An account opened at ratio ``r`` is taken over
when its haircut-weighted collateral loses ``1 - 1.05 / (1 + 0.05 r)``:
12.5% at ``r = 4``, 30% at ``r = 10``.  Units: s, USD.
"""
from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from ..core import codes as C
from ..sim import layout as L
from ..sim.chain import ChainSpec
from ..sim.model import AgentSpec, AssetSpec, BookSpec, ScenarioSpec, VenueSpec
from ..sim.risk import MarginAssetSpec, MarginPerpSpec, RiskEngineSpec
from ..sim.strategy import Strategy
from .liquidation_cascade import Holder, StinkBids
from .usde_depeg import ExchangeLooper, UsdeArb, Whale, usde_book_agents

MAJORS = {"BTC": 120_000.0, "ETH": 4_300.0, "SOL": 220.0, "BNB": 1_200.0, "WBETH": 4_600.0, "BNSOL": 230.0}
LOAN_MM, LOAN_IM = 0.05, 0.10
SHOCK_STEP_S = 10.0            # a gradual shock is applied as a step every 10 s
MAJOR_DEPTH = {"BTC": 100.0, "ETH": 60.0, "SOL": 20.0, "BNB": 20.0, "WBETH": 10.0, "BNSOL": 10.0}
USDE_STINK_DEPTHS = tuple(round(0.05 + 0.05 * k, 2) for k in range(10))  # 5%, ..., 50% under the peg
STINK_DEPTHS = tuple(round(0.10 + 0.05 * k, 2) for k in range(18))     # 10%, 15%, ..., 95% under the open


def _grid(price: float) -> tuple[Decimal, Decimal]:
    """(tick, lot) for a coin at ``price`` USD: a tick near 1 bps, a lot near 1 USD."""
    tick = Decimal(10) ** int(math.floor(math.log10(price)) - 4)
    lot = Decimal(10) ** int(round(math.log10(1.0 / price)))
    return max(tick, Decimal("1e-6")), max(lot, Decimal("1e-6"))


class BasisArb(Strategy):
    """Keeps a perpetual in line with its spot book on the same venue, with
    finite capital.  Every ``wake_s`` seconds: when the perp's bid is more
    than ``edge_bps`` over the spot ask it sells perps and buys spot (IOC,
    ``chunk`` units each); when the perp's ask is that far under the spot
    bid it buys perps and sells spot -- which is how a perp liquidation
    cascade reaches the spot book.  Its net perp position stays within
    ``max_units`` either way, and it sells only the spot it holds.
    Units: base units, bps, s."""

    def __init__(self, spot_book: int, perp_book: int, chunk: float, max_units: float, edge_bps: float = 30.0,
                 wake_s: float = 1.0, lot: float = 1.0):
        self.spot, self.perp, self.chunk, self.max_units = spot_book, perp_book, chunk, max_units
        self.edge, self.wake_ns, self.lot = edge_bps * 1e-4, int(wake_s * 1e9), lot

    def on_wakeup(self, now):
        sb, sa, _ = self.bbo(self.spot)
        pb, pa, _ = self.bbo(self.perp)
        if sb > 0 and sa > 0 and pb > 0 and pa > 0 and not self.open_orders():
            pos = float(self._sim_balance(self.perp))
            held = float(self._sim_balance(self.spot))
            q = int(self.chunk / self.lot)
            if pb > sa * (1 + self.edge) and pos - self.chunk >= -self.max_units:
                self.submit(C.SELL, pb, q, type=C.IOC, book=self.perp)
                self.submit(C.BUY, sa, q, type=C.IOC, book=self.spot)
            elif pa < sb * (1 - self.edge) and pos + self.chunk <= self.max_units and held >= self.chunk:
                self.submit(C.BUY, pa, q, type=C.IOC, book=self.perp)
                self.submit(C.SELL, sb, q, type=C.IOC, book=self.spot)
        return now + self.wake_ns

    def _sim_balance(self, book: int):
        return self.balance(self._sim.spec.books[book].base)


def _mm(base, cfg):
    from strategies.guarded_ladder import GuardedLadderMM
    return lambda: GuardedLadderMM(cfg, base=base, quote="USDT", lot_units=1.0)


def shock_path(t0: float, asset: str, move: float, tau_s: float, until_s: float) -> list[tuple]:
    """Scheduled fundamental moves ``(time s, asset, relative move)`` that
    take ``asset`` by ``move`` in all along ``1 - exp(-(t - t0) / tau_s)``:
    one step every ``SHOCK_STEP_S`` seconds while the remaining move is at
    least 0.1% of the total, the remainder in the last step, none after
    ``until_s``.  ``tau_s <= 0``: one jump at ``t0``.  The product of the
    steps is exactly ``1 + move``."""
    if tau_s <= 0 or move == 0:
        return [(t0, asset, move)]
    lg = math.log1p(move)
    out, done, t = [], 0.0, t0
    while t < until_s:
        frac = 1.0 - math.exp(-(t + SHOCK_STEP_S - t0) / tau_s)
        if frac > 0.999 or t + 2 * SHOCK_STEP_S > until_s:
            frac = 1.0
        step = math.expm1(lg * (frac - done))
        out.append((t, asset, step))
        done = frac
        if frac == 1.0:
            break
        t += SHOCK_STEP_S
    return out


def oct_10_2025(*, duration_s: float = 3 * 3600.0, shock_s: float = 1800.0, n_alts: int = 30, n_calm_alts: int = 10,
                shock_btc: float = -0.11, shock_eth: float = -0.17, shock_sol: float = -0.12,
                shock_alt: tuple = (-0.25, -0.10), shock_tau_s: float = 1800.0,
                mm_per_alt: int = 2, mm_open_ratio: tuple = (2.8, 6.5), major_open_ratio: tuple = (8.0, 20.0),
                major_long_open_ratio: tuple = (5.0, 15.0), mm_basket: int = 8,
                mm_basket_frac: float = 0.15, mm_usde_frac: tuple = (0.2, 0.6),
                mm_lst_frac: tuple = (0.1, 0.4), mm_major_frac: float = 0.1,
                mm_quote_frac: float = 0.02, mm_drawdown_bps: tuple = (300.0, 1500.0),
                mm_range_bps: tuple = (1000.0, 3000.0), mm_adverse_frac: tuple = (0.15, 0.4),
                mm_min_margin_ratio: tuple = (1.0, 1.2), mm_forced_frac: tuple | None = (0.05, 0.3),
                feed_tau_s: float = 60.0,
                longs_per_alt: int = 3, longs_per_major: int = 40, long_open_ratio: tuple = (4.0, 14.0),
                kill_switch: bool = True, policy: str = "last", leverage_scale: float = 1.0,
                stink_scale: float = 1.0, stink_usd: float = 4_800_000.0, stink_refresh_s: float = 3600.0, liq_target_ratio: float = 2.0, liq_stall_backoff_s: float = 30.0,
                loops: bool = True, looper_drawdown: tuple = (0.008, 0.03), usde_arb_capital: float = 1_000_000.0, looper_capital_usd: float = 40_000.0,
                usde_stink_usd: float = 20_000_000.0, usde_value_capital_usd: float = 3_000_000.0,
                usde_value_wake_s: float = 30.0, value_wake_s: float = 5.0,
                value_capital_usd: float = 100_000.0, arb_inventory_usd: float = 200_000.0, major_arb_mult: float = 5.0,
                zi_vol_ref_bps: float = 10.0, zi_vol_horizon_s: float = 60.0, value_vol_ref_bps: float = 10.0,
                perps: tuple = ("BTC", "ETH"), perp_longs: int = 60, perp_leverage: tuple = (10.0, 0.5),
                perp_notional_usd: float = 50_000.0, perp_basis_traders: int = 10, perp_arbs: int = 4,
                perp_arb_usd: float = 100_000.0,
                user_mm=None, user_mm_share: float = 0.5, compiled_mms: bool = True,
                params_seed: int = 2025) -> ScenarioSpec:
    """The spec (see the module docstring).  Money in USD per unit of depth
    factor where it says so.  ``user_mm``: a Python ``Strategy`` factory (a
    class, or an import path ``"pkg.mod:Class"``) that takes the place of
    ``user_mm_share`` of the built-in unified-account market makers on every
    BIG book (at least one per book), on the same accounts (inventory,
    collateral, loan and credit line); ``params_seed`` draws the
    population's parameters, the run seed everything that happens.
    ``compiled_mms``: the built-in market makers run as the compiled twin
    of ``GuardedLadderMM`` (``KIND_GUARDED_MM``, identical fills, about
    10 s faster on the full run), else as the Python strategy."""
    from strategies.guarded_ladder import GuardedLadderConfig
    from strategies.risk_controls import RiskControlsConfig

    from .user_mm import n_replaced, resolve

    if not 0 < shock_s < duration_s:
        raise ValueError(f"shock_s must be inside the run (0, {duration_s}), got {shock_s}")
    if not shock_tau_s >= 0:
        raise ValueError(f"shock_tau_s must be >= 0 seconds, got {shock_tau_s}")
    for name, (lo, hi) in (("mm_open_ratio", mm_open_ratio), ("long_open_ratio", long_open_ratio),
                           ("mm_drawdown_bps", mm_drawdown_bps), ("mm_range_bps", mm_range_bps),
                           ("mm_adverse_frac", mm_adverse_frac), ("mm_min_margin_ratio", mm_min_margin_ratio),
                           ("major_open_ratio", major_open_ratio), ("major_long_open_ratio", major_long_open_ratio))\
            + ((("mm_forced_frac", mm_forced_frac),) if mm_forced_frac is not None else ()):
        if not 0 < lo <= hi:
            raise ValueError(f"{name} must be a range (low, high) with 0 < low <= high, got {(lo, hi)}")
    if not mm_basket >= 0:
        raise ValueError(f"mm_basket must be >= 0, got {mm_basket}")
    if n_alts < 1:
        raise ValueError(f"n_alts must be >= 1, got {n_alts}")
    user_mm = resolve(user_mm, user_mm_share)
    g = np.random.default_rng(params_seed)
    alts = [f"ALT{k + 1:02d}" for k in range(n_alts)]
    alt_px = {a: float(np.exp(g.uniform(np.log(0.05), np.log(20.0)))) for a in alts}
    depth = {a: float(np.exp(g.normal(0.0, 0.8))) for a in alts}          # liquidity factor
    depth.update(MAJOR_DEPTH)
    prices = dict(MAJORS, **alt_px)
    grid = {a: _grid(p) for a, p in prices.items()}
    grid["USDe"] = (Decimal("0.0001"), Decimal(1))
    # collateral ratios (haircuts) of the large exchange: majors flat, altcoins by liquidity
    hc = {"USDe": 0.95, "BTC": 0.95, "ETH": 0.95, "SOL": 0.9, "BNB": 0.9, "WBETH": 0.9, "BNSOL": 0.9}
    hc.update({a: float(np.clip(0.5 + 0.15 * np.log(depth[a] + 1), 0.4, 0.8)) for a in alts})
    min_ratio = LOAN_IM / LOAN_MM * 1.025          # accounts open just inside the initial margin

    def loan_for(collateral_hc_usd, ratio):
        """The USDT loan that opens an account of haircut-weighted
        ``collateral_hc_usd`` at margin ratio ``ratio`` (at least the initial
        margin's): ``(collateral - loan) / (LOAN_MM * loan) = ratio``."""
        return collateral_hc_usd / (1.0 + LOAN_MM * max(ratio, min_ratio))

    assets = [AssetSpec(name="USDT")]
    assets.append(AssetSpec(name="USDe", fundamental=10_000.0, kappa=0.01, sigma=0.5))
    for a, p in prices.items():
        tick = float(grid[a][0])
        sig = 0.0002 * p / tick                       # ~2 bps/sqrt(s) of the price, in ticks
        assets.append(AssetSpec(name=a, fundamental=p / tick, kappa=0.0, sigma=sig))
    # books: BIG first (book 0 = BTC, book 1 = USDe: the scenario agents of usde_depeg rely on it)
    big = ["BTC", "USDe", "ETH", "SOL", "BNB", "WBETH", "BNSOL"] + alts
    calm = ["BTC", "ETH", "SOL"] + alts[:n_calm_alts]
    books = [BookSpec(venue="BIG", base=a, quote="USDT", tick=grid[a][0], lot=grid[a][1]) for a in big]
    books += [BookSpec(venue="CALM", base=a, quote="USDT", tick=grid[a][0], lot=grid[a][1]) for a in calm]
    for u in perps:                       # linear perpetuals on BIG, last (book indices above stay put)
        if u not in ("BTC", "ETH", "SOL", "BNB"):
            raise ValueError(f"perps: perpetuals are listed on the majors BTC, ETH, SOL, BNB, got {u!r}")
        assets.append(AssetSpec(name=f"{u}-PERP"))
        grid[f"{u}-PERP"] = grid[u]
        prices[f"{u}-PERP"] = prices[u]
        books.append(BookSpec(venue="BIG", base=f"{u}-PERP", quote="USDT", tick=grid[u][0], lot=grid[u][1],
                              reference=u))
    book_of = {("BIG", a): i for i, a in enumerate(big)}
    book_of.update({("CALM", a): len(big) + i for i, a in enumerate(calm)})
    book_of.update({("BIG", f"{u}-PERP"): len(big) + len(calm) + i for i, u in enumerate(perps)})

    agents = []

    def lots(usd, a):
        return max(1, int(usd / (prices.get(a, 1.0) * float(grid[a][1]))))

    def units(usd, a):
        return round(usd / prices.get(a, 1.0), 8)

    def background(venue, a, scale, arb=True):
        """ZI flow, noise traders, value traders (dip buyers) and a cash
        index arbitrageur on one book; ``scale`` multiplies sizes and capital.
        Dip buyers wait out turbulence on altcoins only (``value_vol_ref_bps``);
        the majors' index arbitrage has ``major_arb_mult`` times the room."""
        b = book_of[(venue, a)]
        perp = a.endswith("-PERP")
        major = a in ("BTC", "ETH", "SOL", "BNB", "USDe") or perp
        vref = 0.0 if major else value_vol_ref_bps
        # a perpetual's traders hold cash and may go short within a credit line
        bal = {"USDT": 50_000_000} if perp else {"USDT": 50_000_000, a: units(50_000_000, a)}
        cr = {a: units(50_000_000, a)} if perp else {}
        size = 2_000.0 * scale
        vcap = value_capital_usd * scale
        vbal = bal if vcap == float("inf") else {"USDT": round(vcap, 2)} if perp else \
            {"USDT": round(vcap, 2), a: units(vcap, a)}
        vcr = cr if vcap == float("inf") or not perp else {a: units(vcap, a)}
        out = [
            AgentSpec(kind=L.KIND_ZI, count=1, book=b,
                      params=(2.0, 0.3, 0.05, lots(size / 2, a), 0.7, 200.0, zi_vol_horizon_s, zi_vol_ref_bps),
                      balances=bal, credit=cr, lat_order_ns=500_000, lat_md_ns=500_000, first_wake_s=(0.0, 0.1),
                      list_cap=4096),
            AgentSpec(kind=L.KIND_NOISE, count=10, book=b, params=(30.0, 0.5, lots(size, a), 20.0), balances=bal,
                      credit=cr, lat_order_ns=20_000_000, lat_order_jitter=0.5, lat_md_ns=20_000_000,
                      first_wake_s=(0.0, 30.0), list_cap=4),
            AgentSpec(kind=L.KIND_VALUE, count=6, book=b,
                      params=(value_wake_s, 30.0, 0.3, lots(size, a), 30.0, 0.2, 20.0, vref,
                              zi_vol_horizon_s), balances=vbal, credit=vcr,
                      lat_order_ns=5_000_000, lat_order_jitter=0.3, lat_md_ns=5_000_000, first_wake_s=(0.0, 5.0),
                      list_cap=8),
        ]
        if arb:
            # cross-venue arbitrage: 8 levels around the index; on the majors a
            # deep one (its room spread over the levels: 100 bps out, 150 apart),
            # on the altcoins a thin one (50 bps out, 100 apart)
            room = lots(arb_inventory_usd * scale * (major_arb_mult if major else 1.0), a)
            hs, sp, q = (100.0, 150.0, max(1, room // 40)) if major else (50.0, 100.0, lots(size / 4, a))
            out.append(AgentSpec(kind=L.KIND_LADDER_MM, count=1, book=b,
                                 params=(2.0, hs, sp, q, 0.0, 100.0 / room, room, 1.0),
                                 iparams=(8,), balances=bal, credit=cr, lat_order_ns=1_000_000,
                                 lat_md_ns=1_000_000, first_wake_s=(0.5, 2.0), list_cap=64))
        return out

    for a in ["BTC", "ETH", "SOL", "BNB"] + alts:
        agents += background("BIG", a, depth[a])
    for a in calm:
        agents += background("CALM", a, depth[a] if a in MAJORS else 2.0 * depth[a], arb=False)
    # the staking tokens: thin books, traders reading their own fundamentals
    for a in ("WBETH", "BNSOL"):
        agents += background("BIG", a, 0.3)
    # perpetuals: background flow reading the underlying, leveraged longs (lognormal
    # leverage, clipped to 2x-50x) against delta-neutral basis traders (spot long,
    # perp short, 20% cash); drawn from their own stream (the spot populations'
    # parameters do not depend on which perps are listed)
    gp = np.random.default_rng([params_seed, 1])
    for u in perps:
        c = f"{u}-PERP"
        agents += background("BIG", c, depth[u])
        px = prices[u]
        lev = np.clip(perp_leverage[0] * np.exp(perp_leverage[1] * gp.standard_normal(perp_longs)), 2.0, 50.0)
        notional = perp_notional_usd * depth[u] * np.exp(gp.standard_normal(perp_longs))
        for k_usd, lv in zip(notional.tolist(), lev.tolist()):
            k = units(k_usd, c)
            margin = k_usd / lv / leverage_scale if leverage_scale > 0 else k_usd
            agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=book_of[("BIG", c)], strategy=Holder,
                                    margin_venue="BIG", balances={c: k, "USDT": round(margin - k * px, 2)},
                                    credit={"USDT": round(k * px, 2)}, entry={c: px}, first_wake_s=(0.0, 0.0),
                                    list_cap=4))
        # active basis arbitrageurs: spot inventory to sell against perps bought
        for _ in range(perp_arbs):
            cap_units = units(perp_arb_usd * depth[u], u)
            lot_u = float(grid[u][1])
            agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=book_of[("BIG", u)],
                                    strategy=(lambda s_b=book_of[("BIG", u)], p_b=book_of[("BIG", c)], m=cap_units,
                                              lot_u=lot_u: BasisArb(s_b, p_b, chunk=m / 20, max_units=m, lot=lot_u)),
                                    balances={u: cap_units, "USDT": round(perp_arb_usd * depth[u], 2)},
                                    credit={c: cap_units}, lat_order_ns=2_000_000, lat_md_ns=2_000_000,
                                    first_wake_s=(1.0, 2.0), list_cap=8))
        if perp_basis_traders and perp_longs:
            per = round(units(float(notional.sum()), c) / perp_basis_traders, 8)
            for _ in range(perp_basis_traders):
                agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=book_of[("BIG", c)], strategy=Holder,
                                        margin_venue="BIG",
                                        balances={u: per, c: -per, "USDT": round(0.2 * per * px, 2)},
                                        credit={c: per}, entry={c: px}, first_wake_s=(0.0, 0.0), list_cap=4))

    # market makers on unified accounts: inventory of their coin, a basket of
    # other altcoins and LST / USDe collateral against a USDT loan
    n_user_total = 0
    for a in ["BTC", "ETH", "SOL", "BNB"] + alts:
        b = book_of[("BIG", a)]
        n = 3 if a in MAJORS else mm_per_alt
        scale = depth[a]
        n_user = n_replaced(user_mm, user_mm_share, n)
        n_user_total += n_user
        for j in range(n):
            inv = 300_000.0 * scale
            usde = float(g.uniform(*mm_usde_frac)) * inv
            lst = float(g.uniform(*mm_lst_frac)) * inv
            which = ("WBETH", "BNSOL")[int(g.integers(0, 2))]
            bal = {a: units(inv, a), "USDe": units(usde, "USDe"), which: units(lst, which)}
            coll = hc[a] * inv + hc["USDe"] * usde + hc[which] * lst
            if a not in MAJORS:
                k = min(mm_basket, n_alts - 1)          # a basket of the other altcoins (all of them at most)
                if k:
                    for o in g.choice([x for x in alts if x != a], size=k, replace=False).tolist():
                        usd = mm_basket_frac * 300_000.0 * depth[o]
                        bal[o] = units(usd, o)
                        coll += hc[o] * usd
                if mm_major_frac > 0:
                    o = ("BTC", "ETH")[int(g.integers(0, 2))]
                    bal[o] = units(mm_major_frac * inv, o)
                    coll += hc[o] * mm_major_frac * inv
            r_open = float(g.uniform(*(major_open_ratio if a in MAJORS else mm_open_ratio)))
            loan = round(loan_for(coll, r_open) * leverage_scale, 2)
            bal["USDT"] = -loan
            risk = RiskControlsConfig(
                window_s=60.0,
                max_drawdown_bps=float(g.uniform(*mm_drawdown_bps)) if kill_switch else math.inf,
                max_range_bps=float(g.uniform(*mm_range_bps)) if kill_switch else math.inf,
                max_bought_lots=float(lots(inv * g.uniform(*mm_adverse_frac), a)) if kill_switch else math.inf,
                min_margin_ratio=float(g.uniform(*mm_min_margin_ratio)) if kill_switch else 0.0,
                max_forced_lots=(float(lots(inv * g.uniform(*mm_forced_frac), a))
                                 if kill_switch and mm_forced_frac is not None else math.inf),
                pull="bids", reentry_s=float(g.uniform(300, 1800)), widen_per_100bps=0.5,
                max_inventory_lots=float(lots(inv * 0.5, a)))
            cfg = GuardedLadderConfig(refresh_s=float(g.uniform(1.0, 3.0)), half_spread_bps=float(g.uniform(5, 20)),
                                      spacing_bps=float(g.uniform(5, 20)), size=lots(inv * mm_quote_frac, a),
                                      levels=5, risk=risk)
            user = j < n_user
            compiled = compiled_mms and not user
            agents.append(AgentSpec(kind=L.KIND_GUARDED_MM if compiled else L.KIND_PYTHON,
                                    count=1, book=b, margin_venue="BIG",
                                    strategy=None if compiled else user_mm if user else _mm(a, cfg),
                                    config=cfg if compiled else None,
                                    balances=bal, credit={"USDT": loan + inv}, lat_order_ns=1_000_000,
                                    lat_md_ns=1_000_000, first_wake_s=(0.5, 3.0), list_cap=64, order_events=False))
        # leveraged longs (spot margin) and stink bids
        for _ in range(longs_per_major if a in MAJORS else longs_per_alt):
            size = float(g.uniform(0.2, 1.5)) * (50_000.0 if a in MAJORS else 200_000.0) * scale
            r_open = float(g.uniform(*(major_long_open_ratio if a in MAJORS else long_open_ratio)))
            loan = round(loan_for(hc[a] * size, r_open) * leverage_scale, 2)
            agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=b, strategy=Holder, margin_venue="BIG",
                                    balances={a: units(size, a), "USDT": -loan}, credit={"USDT": loan},
                                    first_wake_s=(0.0, 0.0), list_cap=4))
        if stink_scale > 0:
            # resting bids every 5% from 10% to 95% under the open, thin near
            # the market and thick far below it (weight ~ depth**3: most of
            # it 60-95% down), of random thickness (lognormal per level and
            # per book), stink_usd per unit of depth factor in all
            tick = float(grid[a][0])
            w = np.asarray(STINK_DEPTHS) ** 3 * np.exp(g.normal(0.0, 0.7, len(STINK_DEPTHS)))
            total = stink_usd * scale * stink_scale * float(np.exp(g.normal(0.0, 0.5)))
            q = tuple(lots(total * x / w.sum(), a) for x in w)
            agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=b, balances={"USDT": 100_000_000},
                                    strategy=(lambda q=q, o=int(prices[a] / tick):
                                              StinkBids(depths=STINK_DEPTHS, lots=q, open_ticks=o,
                                                        refresh_s=stink_refresh_s)),
                                    lat_order_ns=10_000_000, lat_md_ns=10_000_000, first_wake_s=(1.0, 1.0),
                                    list_cap=32))
    if user_mm is not None and n_user_total == 0:
        raise ValueError("user_mm replaces no market maker (mm_per_alt = 0)")

    # the USDe complex (as in usde_depeg): book 1 on BIG
    ub = book_of[("BIG", "USDe")]
    agents += usde_book_agents(ub)
    # dip buyers who value USDe at its redemption value (the fundamental), slow and with limited capital
    agents.append(AgentSpec(kind=L.KIND_VALUE, count=6, book=ub,
                            params=(usde_value_wake_s, 5.0, 0.3, 20_000.0, 30.0, 0.2, 20.0),
                            balances={"USDT": usde_value_capital_usd}, lat_order_ns=5_000_000,
                            lat_order_jitter=0.3, lat_md_ns=5_000_000, first_wake_s=(0.0, 5.0), list_cap=8))
    if usde_stink_usd > 0:
        # bargain hunters' resting bids 5% to 50% under the peg, thicker deeper down
        w = np.asarray(USDE_STINK_DEPTHS) ** 3 * np.exp(g.normal(0.0, 0.7, len(USDE_STINK_DEPTHS)))
        q = tuple(lots(usde_stink_usd * x / w.sum(), "USDe") for x in w)
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=ub, balances={"USDT": 100_000_000},
                                strategy=(lambda q=q: StinkBids(depths=USDE_STINK_DEPTHS, lots=q,
                                                                open_ticks=int(1 / float(grid["USDe"][0])),
                                                                refresh_s=stink_refresh_s)),
                                lat_order_ns=10_000_000, lat_md_ns=10_000_000, first_wake_s=(1.0, 1.0),
                                list_cap=32))
    if loops:
        for _ in range(80):
            p = float(looper_capital_usd * np.exp(g.standard_normal()))
            lev = float(g.uniform(3.0, 8.0))
            # at most the leverage the initial margin allows: (0.95 (p + L) - L) / (0.05 L) >= min_ratio
            loan = round(min(p * (lev - 1), hc["USDe"] * p / (1 + LOAN_MM * min_ratio - hc["USDe"]))
                         * leverage_scale, 2)
            agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=ub, margin_venue="BIG",
                                    strategy=(lambda d=float(g.uniform(*looper_drawdown)): ExchangeLooper(d)),
                                    balances={"USDe": round(p + loan), "USDT": -loan}, credit={"USDT": loan},
                                    lat_order_ns=5_000_000, lat_md_ns=5_000_000, first_wake_s=(1.0, 5.0), list_cap=4))
    for _ in range(4):
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=ub, strategy=lambda: UsdeArb(),
                                balances={"USDT": usde_arb_capital}, lat_order_ns=2_000_000, lat_md_ns=2_000_000,
                                first_wake_s=(1.0, 2.0), list_cap=8))
    for _ in range(5):
        ltv = float(g.uniform(0.3, 0.5))
        a = alts[int(g.integers(0, len(alts)))]
        loan = round(min(3_000_000 * ltv, loan_for(hc[a] * 3_000_000, min_ratio)) * leverage_scale, 2)
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, margin_venue="BIG", book=book_of[("BIG", a)],
                                strategy=(lambda loan=loan, r=int(g.integers(3, 6)), c=float(g.uniform(1.5, 3.0)):
                                          Whale(loop_usd=loan, ltv=0.8, rounds=r, call_ratio=c)),
                                balances={a: units(3_000_000, a), "USDT": -loan}, credit={"USDT": loan},
                                first_wake_s=(1.0, 1.0), list_cap=4))

    margin_assets = [MarginAssetSpec(asset="USDT", loan_mm=LOAN_MM, loan_im=LOAN_IM, cash=True),
                     MarginAssetSpec(asset="USDe", haircut=hc["USDe"], policy=policy, oracle_usd=1.0)]
    margin_assets += [MarginAssetSpec(asset=a, haircut=hc[a], policy=policy if a in ("WBETH", "BNSOL") else "last")
                      for a in ["BTC", "ETH", "SOL", "BNB", "WBETH", "BNSOL"] + alts]
    # perpetuals' margin brackets (notional USD, initial, maintenance), Binance-like
    perp_specs = tuple(MarginPerpSpec(contract=f"{u}-PERP", underlying=u,
                                      tiers=((1e6, 0.02, 0.01), (1e7, 0.05, 0.025), (float("inf"), 0.10, 0.05)))
                       for u in perps)
    risk_engine = RiskEngineSpec(venue="BIG", quote="USDT", assets=tuple(margin_assets), perps=perp_specs,
                                 cadence_s=1.0,
                                 start_s=min(300.0, shock_s / 2),
                                 takeover_ratio=1.0, target_ratio=liq_target_ratio, call_ratio=1.5, fee_rate=0.005,
                                 slice_frac=0.25, limit_bps=500.0, order_policy="pro_rata",
                                 insurance_fund=50_000_000, states_every_s=10.0,
                                 stall_backoff_s=liq_stall_backoff_s, feed_tau_s=feed_tau_s)
    chain = ChainSpec(exchange="BIG", withdraw_s=900.0, deposit_s=60.0, usde_book=ub,
                      alt_book=book_of[("BIG", alts[0])], alt_asset=alts[0], n_loopers=100 if loops else 0)
    moves = [("BTC", shock_btc), ("ETH", shock_eth), ("WBETH", shock_eth), ("SOL", shock_sol), ("BNB", shock_sol),
             ("BNSOL", shock_sol)] + [(a, float(g.uniform(*shock_alt))) for a in alts]
    shocks = sorted((s for a, m in moves for s in shock_path(shock_s, a, m, shock_tau_s, duration_s)),
                    key=lambda s: s[0])
    return ScenarioSpec(
        assets=tuple(assets),
        venues=(VenueSpec(name="BIG", maker_ppm=0, taker_ppm=500), VenueSpec(name="CALM", maker_ppm=0, taker_ppm=500)),
        books=tuple(books), agents=tuple(agents), duration_s=duration_s, snapshot_s=1.0, shocks=tuple(shocks),
        risk_engines=(risk_engine,), chains=(chain,),
        logs=("fills", "snapshots", "submissions"),      # order events are not kept (memory): scorecards
                                                        # then report no time in market
    )
