"""A stablecoin depeg without an altcoin shock: a run on USDe's exchange
book, amplified by leverage on it, while the on-chain pool holds.

``usde-depeg`` starts its spiral with a macro shock to the altcoin (its
collateral holders are liquidated and the risk engine sells their USDe).
Here nothing moves any fundamental: the exchange, the chain, the
populations of ``usde_depeg`` are the same (collateral holders, exchange
USDe loopers, whales, arbitrageurs, the thin USDe book of peg traders),
but the altcoin gets no shock; instead, at ``shock_s``, a holder of
``run_usd`` USDe sends it to the exchange's USDe book as market orders
over ``run_s`` seconds (:class:`lob.scenarios.flash_crash.SellProgram`;
what the bids cannot take is cancelled: about 9.5M of the default 15M
fill): a redemption run that goes to the order book because withdrawing
to the chain takes ``withdraw_s``.  Arbitrageurs buy the discount,
withdraw it and sell it on the pool, which stays near 1, until their
capital is in transit; the peg traders' bids run out, the book's price
falls, every unified account holding USDe as collateral (valued at that
book's last price, ``policy="last"``) loses margin, the risk engine takes
the leveraged ones over and sells their USDe into the same book.

Measured with the defaults, seeds 0-4: USDe's last trade on the exchange
falls to 0.72-0.80 (median 0.77) 13-14 minutes after the run starts and
is back above 0.995 by the end; 82-100 accounts are taken over; the
altcoin's wick stays under 1.2% and the pool above 0.998.  With
``policy="oracle"`` (USDe valued at 1 by the risk engine) nobody is taken
over and USDe's low is 0.94-0.95: the leverage, not the run alone, makes
the depeg.

``mm_per_book`` guarded market makers on unified accounts quote each of
the two books (USDe and ALT; inventory of the book's coin against a USDT
loan, kill switches drawn per agent); ``user_mm`` (a Strategy class or
factory, or an import path ``"pkg.mod:Class"``) takes the place of
``user_mm_share`` of them on every book (at least one per book).

``shock`` (default 0) moves the USDe fundamental at ``shock_s``; the
scenario lists it either way as the time of the run.  Units: s, USD.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..sim import layout as L
from ..sim.model import AgentSpec, ScenarioSpec
from . import user_mm as U
from .flash_crash import check_stylized, sell_program
from .usde_depeg import ALT_BOOK, USDE_BOOK, usde_depeg


def _mm(base, cfg):
    from strategies.guarded_ladder import GuardedLadderMM
    return lambda: GuardedLadderMM(cfg, base=base, quote="USDT", lot_units=1.0)


def stablecoin_depeg(*, duration_s: float = 3600.0, shock_s: float = 300.0, shock: float = 0.0,
                     run_usd: float = 15_000_000.0, run_s: float = 300.0, mm_per_book: int = 3,
                     mm_inventory: float = 1_000_000.0, mm_leverage: tuple = (1.2, 2.0), kill_switch: bool = True,
                     policy: str = "last", usde_oracle: str = "peg", withdraw_s: float = 600.0, n_arbs: int = 4,
                     arb_capital: float = 2_000_000.0, n_holders: int = 40, n_ex_loopers: int = 100,
                     peg_size: float = 20_000.0, user_mm=None, user_mm_share: float = 0.5,
                     params_seed: int = 5) -> ScenarioSpec:
    """The spec (see the module docstring); the populations of
    :func:`lob.scenarios.usde_depeg.usde_depeg` with ``params_seed``, no
    altcoin shock, the run on USDe and the unified-account market makers."""
    from strategies.guarded_ladder import GuardedLadderConfig
    from strategies.risk_controls import RiskControlsConfig

    check_stylized(duration_s, shock_s, shock, ("run_usd", run_usd), ("run_s", run_s))
    user_mm = U.resolve(user_mm, user_mm_share)
    base = usde_depeg(duration_s=duration_s, shock_s=shock_s, shock=0.0, policy=policy, usde_oracle=usde_oracle,
                      withdraw_s=withdraw_s, n_arbs=n_arbs, arb_capital=arb_capital, n_holders=n_holders,
                      n_ex_loopers=n_ex_loopers, peg_size=peg_size, params_seed=params_seed)
    g = np.random.default_rng(params_seed + 1000)
    agents = list(base.agents)
    if run_usd > 0:
        agents.append(sell_program("USDe", int(run_usd), shock_s, run_s, book=USDE_BOOK))   # USDe lot: 1 USDe
    inf = float("inf")
    for book, coin, px_bps in ((USDE_BOOK, "USDe", 1.0), (ALT_BOOK, "ALT", 10.0)):
        n_user = U.n_replaced(user_mm, user_mm_share, mm_per_book)
        for j in range(mm_per_book):
            lev = float(g.uniform(*mm_leverage))
            loan = round(mm_inventory * (1.0 - 1.0 / lev), 2)
            # a stablecoin's book is quiet: its triggers are tighter (px_bps scales them)
            risk = RiskControlsConfig(
                window_s=60.0,
                max_drawdown_bps=float(g.uniform(50, 300)) * px_bps if kill_switch else inf,
                max_range_bps=float(g.uniform(30, 150)) * px_bps if kill_switch else inf,
                max_bought_lots=float(g.uniform(0.05, 0.2)) * mm_inventory if kill_switch else inf,
                min_margin_ratio=float(g.uniform(1.5, 4.0)) if kill_switch else 0.0,
                pull="bids", reentry_s=float(g.uniform(300, 900)), widen_per_100bps=0.5,
                max_inventory_lots=0.5 * mm_inventory)
            cfg = GuardedLadderConfig(refresh_s=float(g.uniform(1.0, 3.0)),
                                      half_spread_bps=float(g.uniform(1, 4)) * px_bps,
                                      spacing_bps=float(g.uniform(1, 4)) * px_bps,
                                      size=int(mm_inventory * float(g.uniform(0.005, 0.02))), levels=5, risk=risk)
            agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, book=book, margin_venue="EX",
                                    strategy=user_mm if j < n_user else _mm(coin, cfg),
                                    balances={coin: mm_inventory, "USDT": -loan}, credit={"USDT": loan + mm_inventory},
                                    lat_order_ns=1_000_000, lat_md_ns=1_000_000, first_wake_s=(0.5, 3.0),
                                    list_cap=64, order_events=False))
    return dataclasses.replace(base, agents=tuple(agents), shocks=((shock_s, "USDe", shock),))
