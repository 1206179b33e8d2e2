"""A liquidation cascade on one venue: the exchange-leverage demonstration.

One exchange (``EX``) lists one altcoin book (ALT/USDT, opening at 1 USDT,
0.0001 tick, 1 ALT lot).  Its risk engine watches unified accounts that
hold ALT as collateral against USDT loans:

* leveraged longs (``n_longs``): ALT bought with borrowed USDT at a
  leverage drawn from ``long_leverage`` (exposure / net equity); they do
  not trade, so their leverage only moves *passively* with the price;
* market makers (``n_mm``, :class:`strategies.guarded_ladder.GuardedLadderMM`)
  quoting a 5-level ladder from accounts of ``mm_inventory`` ALT against a
  USDT loan (leverage drawn from ``mm_leverage``), each with a kill switch
  whose thresholds are drawn per agent (drawdown, range volatility,
  adverse fills, margin ratio) and a re-entry delay.

Around them: value traders who trade toward the fundamental, noise traders,
momentum traders, a zero-intelligence background flow and a few stink bids
resting deep under the market.  At ``shock_s`` the fundamental of ALT drops
by ``shock`` (a macro shock, nothing else is scripted): value traders sell,
the price falls, collateral value falls, leverage rises with no trade, the
risk engine takes accounts over and sells their ALT into the book, market
makers pull bids, and the price overshoots the fundamental before value
traders bring it back.

With ``n_perp_longs > 0`` the venue also lists a perpetual, ALT-PERP
(book 1): that many leveraged perp longs (leverage lognormal around
``perp_leverage[0]``, notional lognormal around ``perp_notional[0]`` USDT)
against ``n_basis`` basis traders (spot long, perp short), with background
flow on the perp book; their liquidations are market sells in the perp
book, and bankrupt positions the insurance fund cannot cover go to
auto-deleveraging.

``python_mm`` (a Strategy factory) adds one user market maker on a unified
account like the built-in ones (``mm_inventory`` ALT against a 2x loan).

Counterfactual knobs: ``policy`` (``last`` = the venue's own last trade,
``oracle`` = the fundamental, i.e. a redemption/oracle value),
``kill_switch`` (False: market makers keep quoting), ``leverage_scale``
(multiplies every borrowed amount) and ``stink_bid_lots``.
Units: s, USDT, ALT, bps.
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np

from ..core import codes as C
from ..sim import layout as L
from ..sim.model import AgentSpec, AssetSpec, BookSpec, ScenarioSpec, VenueSpec
from ..sim.risk import MarginAssetSpec, MarginPerpSpec, RiskEngineSpec
from ..sim.strategy import Strategy

OPEN_TICKS = 10_000          # 1.0000 USDT


class Holder(Strategy):
    """An account that only holds a position (a leveraged long): it never acts."""

    def on_wakeup(self, now):
        return None


class StinkBids(Strategy):
    """Resting bids ``depths`` (fractions below the opening price) of
    ``lots`` each (one number for every level, or one per level),
    re-posted every ``refresh_s`` seconds once filled."""

    def __init__(self, depths=(0.15, 0.25, 0.35, 0.5, 0.65), lots=20_000, refresh_s: float = 60.0,
                 open_ticks: int = OPEN_TICKS):
        self.depths, self.refresh_s, self.open_ticks = tuple(depths), refresh_s, open_ticks
        self.lots = tuple(int(q) for q in lots) if np.ndim(lots) else (int(lots),) * len(self.depths)
        if len(self.lots) != len(self.depths):
            raise ValueError(f"StinkBids: {len(self.lots)} sizes for {len(self.depths)} depths")

    def on_wakeup(self, now):
        live = {o["price"] for o in self.open_orders().values()}
        for d, q in zip(self.depths, self.lots):
            px = int(self.open_ticks * (1.0 - d))
            if px not in live and px >= 1 and q > 0:
                self.submit(C.BUY, px, q)
        return now + int(self.refresh_s * 1e9)


def _mm_factory(cfg):
    from strategies.guarded_ladder import GuardedLadderMM
    return lambda: GuardedLadderMM(cfg, base="ALT", quote="USDT", lot_units=1.0)


def liquidation_cascade(*, duration_s: float = 1800.0, shock_s: float = 300.0, shock: float = -0.2,
                        n_longs: int = 30, long_leverage: tuple = (1.5, 4.0), long_size: tuple = (20_000, 150_000),
                        n_mm: int = 10, mm_inventory: float = 500_000, mm_leverage: tuple = (1.5, 3.5),
                        kill_switch: bool = True, policy: str = "last", leverage_scale: float = 1.0,
                        stink_bid_lots: int = 20_000, haircut: float = 0.8, n_value: int = 50,
                        n_noise: int = 200, n_momentum: int = 10, n_cash_mm: int = 3, n_perp_longs: int = 0,
                        perp_leverage: tuple = (10.0, 0.5), perp_notional: tuple = (5_000.0, 1.0),
                        n_basis: int = 10, python_mm=None, limit_bps: float = 500.0, value_size: float = 500.0, value_cap: float = 20.0, value_wake_s: float = 5.0, params_seed: int = 7) -> ScenarioSpec:
    """The spec.  ``params_seed`` draws the heterogeneous population
    parameters (leverage, kill-switch thresholds); the run seed drives
    everything that happens."""
    from strategies.guarded_ladder import GuardedLadderConfig
    from strategies.risk_controls import RiskControlsConfig

    if not 0 < shock_s < duration_s:
        raise ValueError(f"shock_s must be inside the run (0, {duration_s}), got {shock_s}")
    if not -1 < shock < 1:
        raise ValueError(f"shock must be a relative move in (-1, 1), got {shock}")
    g = np.random.default_rng(params_seed)
    cash = {"USDT": 5_000_000, "ALT": 5_000_000}
    agents = [
        AgentSpec(kind=L.KIND_ZI, count=1, params=(4.0, 0.2, 0.02, 100.0, 0.7, 300.0),
                  balances={"USDT": 10**9, "ALT": 10**9}, lat_order_ns=500_000, lat_md_ns=500_000,
                  first_wake_s=(0.0, 0.1), list_cap=16384),
        AgentSpec(kind=L.KIND_NOISE, count=n_noise, params=(20.0, 0.5, 300.0, 20.0), balances=cash,
                  lat_order_ns=20_000_000, lat_order_jitter=0.5, lat_md_ns=20_000_000,
                  first_wake_s=(0.0, 20.0), list_cap=4),
        AgentSpec(kind=L.KIND_VALUE, count=n_value, params=(value_wake_s, 30.0, 0.3, value_size, 30.0, 0.2, value_cap),
                  balances=cash, lat_order_ns=5_000_000, lat_order_jitter=0.3, lat_md_ns=5_000_000,
                  first_wake_s=(0.0, 30.0), list_cap=8),
        AgentSpec(kind=L.KIND_MOMENTUM, count=n_momentum, params=(2.0, 5.0, 30.0, 300.0, 30.0), balances=cash,
                  lat_order_ns=2_000_000, lat_md_ns=2_000_000, first_wake_s=(0.0, 2.0), list_cap=4),
        # cash market makers (no leverage, no kill switch): wide, small, always there,
        # skewing their quotes with inventory (0.02 bps per lot, at most 50,000 lots)
        AgentSpec(kind=L.KIND_LADDER_MM, count=n_cash_mm, params=(2.0, 50.0, 100.0, 500.0, 0.0, 0.02, 50_000.0),
                  iparams=(8,), balances={"USDT": 20_000_000, "ALT": 20_000_000}, lat_order_ns=1_000_000,
                  lat_md_ns=1_000_000, first_wake_s=(0.5, 2.0), list_cap=64),
    ]
    if stink_bid_lots > 0:
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, strategy=lambda: StinkBids(lots=stink_bid_lots),
                                balances={"USDT": 50_000_000}, lat_order_ns=10_000_000, lat_md_ns=10_000_000,
                                first_wake_s=(1.0, 1.0)))
    # the perpetual ALT-PERP (book 1, read against the ALT fundamental): background flow
    # that may go short within a credit line (not watched by the risk engine)
    if n_perp_longs:
        pcash = {"USDT": 5_000_000}
        pcredit = {"ALT-PERP": 5_000_000}
        agents += [
            AgentSpec(kind=L.KIND_ZI, count=1, book=1, params=(4.0, 0.2, 0.02, 100.0, 0.7, 300.0),
                      balances={"USDT": 10**9}, credit={"ALT-PERP": 10**9}, lat_order_ns=500_000,
                      lat_md_ns=500_000, first_wake_s=(0.0, 0.1), list_cap=16384),
            AgentSpec(kind=L.KIND_NOISE, count=max(1, n_noise // 2), book=1, params=(20.0, 0.5, 300.0, 20.0),
                      balances=pcash, credit=pcredit, lat_order_ns=20_000_000, lat_order_jitter=0.5,
                      lat_md_ns=20_000_000, first_wake_s=(0.0, 20.0), list_cap=4),
            AgentSpec(kind=L.KIND_VALUE, count=max(1, n_value // 2), book=1,
                      params=(value_wake_s, 30.0, 0.3, value_size, 30.0, 0.2, value_cap), balances=pcash, credit=pcredit,
                      lat_order_ns=5_000_000, lat_order_jitter=0.3, lat_md_ns=5_000_000, first_wake_s=(0.0, 30.0),
                      list_cap=8),
            AgentSpec(kind=L.KIND_PYTHON, count=1 if stink_bid_lots > 0 else 0, book=1,
                      strategy=lambda: StinkBids(lots=stink_bid_lots), balances={"USDT": 50_000_000},
                      lat_order_ns=10_000_000, lat_md_ns=10_000_000, first_wake_s=(1.0, 1.0)),
            AgentSpec(kind=L.KIND_LADDER_MM, count=n_cash_mm, book=1, params=(2.0, 50.0, 100.0, 500.0, 0.0, 0.02, 50_000.0),
                      iparams=(8,), balances={"USDT": 20_000_000}, credit={"ALT-PERP": 20_000_000},
                      lat_order_ns=1_000_000, lat_md_ns=1_000_000, first_wake_s=(0.5, 2.0), list_cap=64),
        ]
        # leveraged perp longs (10x median): contracts at 1.00 on `margin = notional / leverage`
        lev = np.clip(perp_leverage[0] * np.exp(perp_leverage[1] * g.standard_normal(n_perp_longs)), 2.0, 50.0)
        notional = np.round(perp_notional[0] * np.exp(perp_notional[1] * g.standard_normal(n_perp_longs)))
        for k, lv in zip(notional.tolist(), lev.tolist()):
            margin = round(k / lv / leverage_scale, 2) if leverage_scale > 0 else k
            agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, strategy=Holder, margin_venue="EX",
                                    balances={"ALT-PERP": k, "USDT": round(margin - k, 2)}, credit={"USDT": k},
                                    entry={"ALT-PERP": 1.0}, first_wake_s=(0.0, 0.0), list_cap=4))
        # basis traders on the other side: spot ALT long, perp short (its sale proceeds in their
        # USDT), plus 20% cash: delta neutral
        per = float(np.round(notional.sum() / n_basis))
        for _ in range(n_basis):
            agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, strategy=Holder, margin_venue="EX",
                                    balances={"ALT": per, "ALT-PERP": -per, "USDT": round(1.2 * per, 2)},
                                    credit={"ALT-PERP": per}, entry={"ALT-PERP": 1.0}, first_wake_s=(0.0, 0.0),
                                    list_cap=4))
    # leveraged longs: ALT worth `size` USDT bought with a loan of size * (1 - 1/leverage)
    for _ in range(n_longs):
        size = float(g.uniform(*long_size))
        lev = float(g.uniform(*long_leverage))
        loan = round(size * (1.0 - 1.0 / lev) * leverage_scale, 2)
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, strategy=Holder, margin_venue="EX",
                                balances={"ALT": round(size), "USDT": -loan}, credit={"USDT": loan},
                                first_wake_s=(0.0, 0.0), list_cap=4))
    # market makers on unified accounts: ALT inventory against a USDT loan
    for _ in range(n_mm):
        lev = float(g.uniform(*mm_leverage))
        loan = round(mm_inventory * (1.0 - 1.0 / lev) * leverage_scale, 2)
        risk = RiskControlsConfig(
            window_s=60.0,
            max_drawdown_bps=float(g.uniform(300, 1500)) if kill_switch else float("inf"),
            max_range_bps=float(g.uniform(500, 2000)) if kill_switch else float("inf"),
            max_bought_lots=float(g.uniform(20_000, 80_000)) if kill_switch else float("inf"),
            min_margin_ratio=float(g.uniform(1.5, 4.0)) if kill_switch else 0.0,
            pull="bids", reentry_s=float(g.uniform(120, 600)), widen_per_100bps=0.5,
            max_inventory_lots=float(mm_inventory * 0.5))
        cfg = GuardedLadderConfig(refresh_s=float(g.uniform(0.5, 2.0)), half_spread_bps=float(g.uniform(5, 20)),
                                  spacing_bps=float(g.uniform(5, 20)), size=int(g.integers(1000, 5000)), levels=5,
                                  skew_bps_per_lot=0.0, risk=risk)
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, strategy=_mm_factory(cfg), margin_venue="EX",
                                balances={"ALT": mm_inventory, "USDT": -loan},
                                credit={"USDT": loan + mm_inventory}, lat_order_ns=1_000_000,
                                lat_md_ns=1_000_000, first_wake_s=(0.5, 2.0), list_cap=64))
    if python_mm is not None:
        # the user's market maker: a unified account like the others (2x)
        loan = round(mm_inventory * 0.5 * leverage_scale, 2)
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, strategy=python_mm, margin_venue="EX",
                                balances={"ALT": mm_inventory, "USDT": -loan}, credit={"USDT": loan + mm_inventory},
                                lat_order_ns=1_000_000, lat_md_ns=1_000_000, first_wake_s=(0.5, 2.0), list_cap=64))
    risk_engine = RiskEngineSpec(
        venue="EX", quote="USDT",
        assets=(MarginAssetSpec(asset="ALT", haircut=haircut, loan_mm=0.10, loan_im=0.2, policy=policy),
                MarginAssetSpec(asset="USDT", loan_mm=0.05, loan_im=0.1, cash=True)),
        perps=(MarginPerpSpec(contract="ALT-PERP", underlying="ALT",
                              tiers=((50_000, 0.02, 0.01), (250_000, 0.05, 0.025), (float("inf"), 0.10, 0.05))),)
        if n_perp_longs else (),
        cadence_s=1.0, takeover_ratio=1.0, target_ratio=1.2, call_ratio=1.5, fee_rate=0.005,
        slice_frac=0.25, limit_bps=limit_bps, insurance_fund=1_000_000)
    return ScenarioSpec(
        assets=(AssetSpec(name="USDT", atom=Decimal("1e-8")),
                AssetSpec(name="ALT", atom=Decimal("1e-8"), fundamental=float(OPEN_TICKS), kappa=0.0,
                          sigma=2.0),
                AssetSpec(name="ALT-PERP", atom=Decimal("1e-8")))[:3 if n_perp_longs else 2],
        venues=(VenueSpec(name="EX", maker_ppm=0, taker_ppm=500),),
        books=(BookSpec(venue="EX", base="ALT", quote="USDT", tick=Decimal("0.0001"), lot=Decimal(1)),
               BookSpec(venue="EX", base="ALT-PERP", quote="USDT", tick=Decimal("0.0001"), lot=Decimal(1),
                        reference="ALT"))[:2 if n_perp_longs else 1],
        agents=tuple(agents), duration_s=duration_s, snapshot_s=1.0,
        shocks=((shock_s, "ALT", shock),), risk_engines=(risk_engine,),
    )
