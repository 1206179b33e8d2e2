"""The 10 October 2025 cascade, first version: many books, two exchanges
and a chain, composed from the mechanisms of ``liquidation_cascade`` and
``usde_depeg``.

* ``BIG``: one large exchange with unified accounts and a risk engine that
  values USDe, WBETH, BNSOL and the altcoins from its own books (``policy``);
  books for BTC, USDe, ETH, SOL, BNB, WBETH, BNSOL and ``n_alts`` altcoins
  of heterogeneous liquidity (a depth factor drawn per coin), all against
  USDT.
* ``CALM``: a second exchange with cash-only accounts and books for BTC,
  ETH, SOL and the first ``n_calm_alts`` altcoins (the same fundamentals).
* a chain with the Curve USDe/USDC pool, the lending protocol (USDe at its
  peg by default), loopers, a liquidation bot and the bridge to ``BIG``.

Populations on BIG, per altcoin book: background flow (ZI, noise, value
traders reading the fundamental), a wide cash market maker, ``mm_per_alt``
guarded market makers on unified accounts (the altcoin inventory and some
USDe / WBETH / BNSOL as collateral against a USDT loan; kill switches drawn
per agent), leveraged longs, and stink bids; on the majors the same with
more agents; on USDe the exchange loopers, collateral holders, peg traders,
arbitrageurs and whales of ``usde_depeg``.

At ``shock_s`` a macro shock moves the fundamentals: BTC by ``shock_btc``,
ETH and WBETH by ``shock_eth``, SOL, BNB and BNSOL by ``shock_sol``, each
altcoin by a draw in ``shock_alt``.  Nothing else is scripted.

This first version reaches the mechanism chain (loop unwinds, USDe depeg on
BIG, takeovers, market makers pulling bids, altcoin wicks deeper than their
fundamental moves, CALM falling less); it is not calibrated to the
targets of the crash-replay issue yet: ``lob run oct-10-2025`` prints the
measured values beside them.  Units: s, USD.
"""
from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from ..sim import layout as L
from ..sim.chain import ChainSpec
from ..sim.model import AgentSpec, AssetSpec, BookSpec, ScenarioSpec, VenueSpec
from ..sim.risk import MarginAssetSpec, RiskEngineSpec
from .liquidation_cascade import Holder, StinkBids
from .usde_depeg import ExchangeLooper, UsdeArb, Whale, usde_book_agents

MAJORS = {"BTC": 120_000.0, "ETH": 4_300.0, "SOL": 220.0, "BNB": 1_200.0, "WBETH": 4_600.0, "BNSOL": 230.0}


def _grid(price: float) -> tuple[Decimal, Decimal]:
    """(tick, lot) for a coin at ``price`` USD: a tick near 1 bps, a lot near 1 USD."""
    tick = Decimal(10) ** int(math.floor(math.log10(price)) - 4)
    lot = Decimal(10) ** int(round(math.log10(1.0 / price)))
    return max(tick, Decimal("1e-6")), max(lot, Decimal("1e-6"))


def _mm(base, cfg):
    from strategies.guarded_ladder import GuardedLadderMM
    return lambda: GuardedLadderMM(cfg, base=base, quote="USDT", lot_units=1.0)


def oct_10_2025(*, duration_s: float = 3 * 3600.0, shock_s: float = 1800.0, n_alts: int = 30, n_calm_alts: int = 10,
                shock_btc: float = -0.07, shock_eth: float = -0.10, shock_sol: float = -0.12,
                shock_alt: tuple = (-0.25, -0.10), mm_per_alt: int = 2, longs_per_alt: int = 3,
                kill_switch: bool = True, policy: str = "last", leverage_scale: float = 1.0,
                stink_scale: float = 1.0, loops: bool = True, value_wake_s: float = 5.0,
                cash_mm_max_usd: float = float("inf"), value_capital_usd: float = float("inf"),
                cash_mm_index_weight: float = 0.0, zi_vol_ref_bps: float = 0.0, zi_vol_horizon_s: float = 60.0,
                mm_open_ratio: tuple = (2.2, 6.0), long_open_ratio: tuple = (2.1, 5.0),
                user_mm=None, user_mm_share: float = 0.5,
                params_seed: int = 2025) -> ScenarioSpec:
    """The spec (see the module docstring).  ``user_mm``: a Python
    ``Strategy`` factory (a class, or an import path ``"pkg.mod:Class"``)
    that takes the place of ``user_mm_share`` of the built-in unified-account
    market makers on every BIG book (at least one per book), on the same
    accounts (inventory, collateral, loan and credit line); ``params_seed``
    draws the population's parameters, the run seed everything that happens."""
    from strategies.guarded_ladder import GuardedLadderConfig
    from strategies.risk_controls import RiskControlsConfig

    if not 0 < shock_s < duration_s:
        raise ValueError(f"shock_s must be inside the run (0, {duration_s}), got {shock_s}")
    if isinstance(user_mm, str):
        from ..config.loader import load_object
        user_mm = load_object(user_mm)
    if user_mm is not None and not 0.0 < user_mm_share <= 1.0:
        raise ValueError(f"user_mm_share must be in (0, 1], got {user_mm_share}")
    g = np.random.default_rng(params_seed)
    alts = [f"ALT{k + 1:02d}" for k in range(n_alts)]
    alt_px = {a: float(np.exp(g.uniform(np.log(0.05), np.log(20.0)))) for a in alts}
    depth = {a: float(np.exp(g.normal(0.0, 0.8))) for a in alts}          # liquidity factor
    prices = dict(MAJORS, **alt_px)
    grid = {a: _grid(p) for a, p in prices.items()}
    grid["USDe"] = (Decimal("0.0001"), Decimal(1))
    # collateral ratios (haircuts) of the large exchange: majors flat, altcoins by liquidity
    hc = {"USDe": 0.95, "BTC": 0.95, "ETH": 0.95, "SOL": 0.9, "BNB": 0.9, "WBETH": 0.9, "BNSOL": 0.9}
    hc.update({a: float(np.clip(0.5 + 0.15 * np.log(depth[a] + 1), 0.4, 0.8)) for a in alts})
    loan_mm, loan_im = 0.05, 0.10
    min_ratio = loan_im / loan_mm * 1.025          # accounts open just inside the initial margin

    def loan_for(collateral_usd, ratio):
        """The USDT loan that opens an account of haircut-weighted
        ``collateral_usd`` at margin ratio (uniMMR) ``ratio``:
        ``(collateral - loan) / (loan_mm * loan) = ratio``."""
        return collateral_usd / (1.0 + loan_mm * max(ratio, min_ratio))

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
    book_of = {("BIG", a): i for i, a in enumerate(big)}
    book_of.update({("CALM", a): len(big) + i for i, a in enumerate(calm)})

    agents = []

    def lots(usd, a):
        return max(1, int(usd / (prices.get(a, 1.0) * float(grid[a][1]))))

    def units(usd, a):
        return round(usd / prices.get(a, 1.0), 8)

    def background(venue, a, scale):
        b = book_of[(venue, a)]
        bal = {"USDT": 50_000_000, a: units(50_000_000, a)}
        size = 2_000.0 * scale
        vcap = value_capital_usd * scale
        vbal = bal if vcap == float("inf") else {"USDT": round(vcap, 2), a: units(vcap, a)}
        return [
            AgentSpec(kind=L.KIND_ZI, count=1, book=b,
                      params=(3.0, 0.2, 0.02, lots(size, a), 0.7, 300.0, zi_vol_horizon_s, zi_vol_ref_bps),
                      balances=bal, lat_order_ns=500_000, lat_md_ns=500_000, first_wake_s=(0.0, 0.1), list_cap=8192),
            AgentSpec(kind=L.KIND_NOISE, count=10, book=b, params=(30.0, 0.5, lots(size, a), 20.0), balances=bal,
                      lat_order_ns=20_000_000, lat_order_jitter=0.5, lat_md_ns=20_000_000, first_wake_s=(0.0, 30.0),
                      list_cap=4),
            AgentSpec(kind=L.KIND_VALUE, count=6, book=b,
                      params=(value_wake_s, 30.0, 0.3, lots(size, a), 30.0, 0.2, 20.0), balances=vbal,
                      lat_order_ns=5_000_000, lat_order_jitter=0.3, lat_md_ns=5_000_000, first_wake_s=(0.0, 5.0),
                      list_cap=8),
            AgentSpec(kind=L.KIND_LADDER_MM, count=1, book=b,
                      params=(2.0, 50.0, 100.0, lots(size / 4, a), 0.0,
                              0.0 if cash_mm_max_usd == float("inf") else 100.0 / lots(cash_mm_max_usd * scale, a),
                              1e12 if cash_mm_max_usd == float("inf") else lots(cash_mm_max_usd * scale, a),
                              cash_mm_index_weight),
                      iparams=(8,), balances=bal,
                      lat_order_ns=1_000_000, lat_md_ns=1_000_000, first_wake_s=(0.5, 2.0), list_cap=64),
        ]

    for a in ["BTC", "ETH", "SOL", "BNB"] + alts:
        agents += background("BIG", a, 10.0 if a in MAJORS else depth[a])
    for a in calm:
        agents += background("CALM", a, 10.0 if a in MAJORS else 2.0 * depth[a])
    # the staking tokens: thin books, traders reading their own fundamentals
    for a in ("WBETH", "BNSOL"):
        agents += background("BIG", a, 0.3)

    # market makers on unified accounts: inventory of their coin + LST / USDe collateral vs a USDT loan
    for a in ["BTC", "ETH", "SOL", "BNB"] + alts:
        b = book_of[("BIG", a)]
        n = 3 if a in MAJORS else mm_per_alt
        scale = 10.0 if a in MAJORS else depth[a]
        n_user = 0 if user_mm is None else max(1, int(round(user_mm_share * n)))
        for j in range(n):
            inv = 300_000.0 * scale
            other = float(g.uniform(0.2, 0.6)) * inv
            r_open = float(g.uniform(*mm_open_ratio))
            which = ("USDe", "WBETH", "BNSOL")[int(g.integers(0, 3))]
            loan = round(loan_for(hc[a] * inv + hc[which] * other, r_open) * leverage_scale, 2)
            risk = RiskControlsConfig(
                window_s=60.0,
                max_drawdown_bps=float(g.uniform(300, 1500)) if kill_switch else math.inf,
                max_range_bps=float(g.uniform(500, 2000)) if kill_switch else math.inf,
                max_bought_lots=float(lots(inv * g.uniform(0.05, 0.2), a)) if kill_switch else math.inf,
                min_margin_ratio=float(g.uniform(1.5, 4.0)) if kill_switch else 0.0,
                pull="bids", reentry_s=float(g.uniform(300, 1800)), widen_per_100bps=0.5,
                max_inventory_lots=float(lots(inv * 0.5, a)))
            cfg = GuardedLadderConfig(refresh_s=float(g.uniform(1.0, 3.0)), half_spread_bps=float(g.uniform(5, 20)),
                                      spacing_bps=float(g.uniform(5, 20)), size=lots(inv * 0.01, a), levels=5,
                                      risk=risk)
            agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=b, margin_venue="BIG",
                                    strategy=user_mm if j < n_user else _mm(a, cfg),
                                    balances={a: units(inv, a), which: units(other, which), "USDT": -loan},
                                    credit={"USDT": loan + inv}, lat_order_ns=1_000_000, lat_md_ns=1_000_000,
                                    first_wake_s=(0.5, 3.0), list_cap=64, order_events=False))
        # leveraged longs (spot margin) and stink bids
        for _ in range(10 if a in MAJORS else longs_per_alt):
            size = float(g.uniform(0.2, 1.5)) * 200_000.0 * scale
            loan = round(loan_for(hc[a] * size, float(g.uniform(*long_open_ratio))) * leverage_scale, 2)
            agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=b, strategy=Holder, margin_venue="BIG",
                                    balances={a: units(size, a), "USDT": -loan}, credit={"USDT": loan},
                                    first_wake_s=(0.0, 0.0), list_cap=4))
        if stink_scale > 0:
            tick = float(grid[a][0])
            agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=b, balances={"USDT": 100_000_000},
                                    strategy=(lambda q=lots(50_000 * scale * stink_scale, a), o=int(prices[a] / tick):
                                              StinkBids(lots=q, open_ticks=o)),
                                    lat_order_ns=10_000_000, lat_md_ns=10_000_000, first_wake_s=(1.0, 1.0)))

    # the USDe complex (as in usde_depeg): book 1 on BIG
    ub = book_of[("BIG", "USDe")]
    agents += usde_book_agents(ub)
    if loops:
        for _ in range(80):
            p = float(100_000.0 * np.exp(g.standard_normal()))
            lev = float(g.uniform(3.0, 8.0))
            # at most the leverage the initial margin allows: (0.95 (p + L) - L) / (0.05 L) >= min_ratio
            loan = round(min(p * (lev - 1), hc["USDe"] * p / (1 + loan_mm * min_ratio - hc["USDe"]))
                         * leverage_scale, 2)
            agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=ub, margin_venue="BIG",
                                    strategy=(lambda d=float(g.uniform(0.03, 0.12)): ExchangeLooper(d)),
                                    balances={"USDe": round(p + loan), "USDT": -loan}, credit={"USDT": loan},
                                    lat_order_ns=5_000_000, lat_md_ns=5_000_000, first_wake_s=(1.0, 5.0), list_cap=4))
    for _ in range(4):
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=ub, strategy=lambda: UsdeArb(),
                                balances={"USDT": 2_000_000}, lat_order_ns=2_000_000, lat_md_ns=2_000_000,
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

    margin_assets = [MarginAssetSpec(asset="USDT", loan_mm=loan_mm, loan_im=loan_im, cash=True),
                     MarginAssetSpec(asset="USDe", haircut=hc["USDe"], policy=policy, oracle_usd=1.0)]
    margin_assets += [MarginAssetSpec(asset=a, haircut=hc[a], policy=policy if a in ("WBETH", "BNSOL") else "last")
                      for a in ["BTC", "ETH", "SOL", "BNB", "WBETH", "BNSOL"] + alts]
    risk_engine = RiskEngineSpec(venue="BIG", quote="USDT", assets=tuple(margin_assets), cadence_s=1.0, start_s=min(300.0, shock_s / 2),
                                 takeover_ratio=1.0, target_ratio=1.2, call_ratio=1.5, fee_rate=0.005,
                                 slice_frac=0.25, limit_bps=500.0, order_policy="pro_rata",
                                 insurance_fund=50_000_000, states_every_s=10.0)
    chain = ChainSpec(exchange="BIG", withdraw_s=900.0, deposit_s=60.0, usde_book=ub,
                      alt_book=book_of[("BIG", alts[0])], alt_asset=alts[0], n_loopers=100 if loops else 0)
    shocks = [(shock_s, "BTC", shock_btc), (shock_s, "ETH", shock_eth), (shock_s, "WBETH", shock_eth),
              (shock_s, "SOL", shock_sol), (shock_s, "BNB", shock_sol), (shock_s, "BNSOL", shock_sol)]
    shocks += [(shock_s, a, float(g.uniform(*shock_alt))) for a in alts]
    return ScenarioSpec(
        assets=tuple(assets),
        venues=(VenueSpec(name="BIG", maker_ppm=0, taker_ppm=500), VenueSpec(name="CALM", maker_ppm=0, taker_ppm=500)),
        books=tuple(books), agents=tuple(agents), duration_s=duration_s, snapshot_s=1.0, shocks=tuple(shocks),
        risk_engines=(risk_engine,), chains=(chain,),
        logs=("fills", "snapshots", "submissions"),      # order events are not kept (memory): scorecards
                                                        # then report no time in market
    )
