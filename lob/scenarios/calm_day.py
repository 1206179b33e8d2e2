"""The calm reference day, shaped like ABIDES's RMSC04: one venue, one
stock-like book, about 1,000 noise, 100 value and 12 momentum agents, two
market makers and a zero-intelligence background flow, for 6.5 hours.

Units: the book trades XYZ against USD with a 0.01 USD tick and a one-share
lot; the fundamental starts at 1,000 USD (100,000 ticks).
"""
from __future__ import annotations

from decimal import Decimal

from ..sim import layout as L
from ..sim.model import AgentSpec, AssetSpec, BookSpec, ScenarioSpec, VenueSpec

DAY_S = 6.5 * 3600


#: the background flow's parameters (``agents.decide_zi``): 5 limit orders/s
#: at P(d) ~ d**-0.7 on [1, 300] ticks from the far touch, 0.3 market
#: orders/s, each resting order cancelled at 0.02/s, 20 lots
ZI_PARAMS = (5.0, 0.3, 0.02, 20.0, 0.7, 300.0)
#: ``latent_book=True``: the fast flow keeps a short memory (orders live 5 s,
#: within 20 ticks of the touch) ...
ZI_FAST_PARAMS = (5.0, 0.3, 0.2, 20.0, 0.7, 20.0)
#: ... and a slow population holds the latent book: 4 orders/s of 20 lots,
#: density growing linearly with the distance (alpha = -1) out to 200 ticks,
#: lifetime 2,000 s, no market orders
ZI_LATENT_PARAMS = (4.0, 0.0, 0.0005, 20.0, -1.0, 200.0)
#: ``activity_feedback=True``: the flow's rates times min(10, 1 + (sigma /
#: 0.035 bps/sqrt(s))**2), sigma over 600 s from the mid sampled every 10 s
ZI_ACTIVITY = (0.0, 0.0, 600.0, 0.035, 10.0, 10.0)
#: ``latent_traders=N``: N latent traders (``agents.decide_latent``): wake
#: every 1 s on average, reservation diffusing 1 tick/sqrt(s), renewed at
#: 0.0005/s (a 2,000 s memory, longer than a metaorder), placed within 150
#: ticks of the mid, 200 lots, following the fundamental one for one,
#: revealed within 30 ticks of the opposite best
LATENT_PARAMS = (1.0, 1.0, 0.0005, 150.0, 200.0, 1.0, 30.0)


def calm_day(*, duration_s: float = DAY_S, n_noise: int = 1000, n_value: int = 100, n_momentum: int = 12,
             n_mm: int = 2, n_exec: int = 0, python_mm=None, latent_book: bool = False,
             activity_feedback: bool = False, latent_traders: int = 0,
             latent_params: tuple = LATENT_PARAMS, latent_python: bool = False,
             exec_child_lots: int = 5) -> ScenarioSpec:
    """The spec; ``python_mm`` (a Strategy factory) adds one Python market maker.

    Opt-in mechanisms for the stylized facts (issue #3; both off by default,
    so the default day's digest is unchanged):

    * ``latent_book``: liquidity with a memory.  By default the ZI flow
      deposits most of its orders near the touch (``P(d) ~ d**-0.7``) and
      they live 50 s, so the standing book *thins* away from the price and a
      metaorder eats ever thinner liquidity: impact convex in size.  With
      ``latent_book`` the fast flow lives 5 s within 20 ticks of the touch
      and a second ZI agent holds a slow, V-shaped book (density growing
      with the distance, orders living 2,000 s, longer than a metaorder):
      the price meets liquidity that grows with the distance it moved, the
      mechanism of the square-root law (Toth et al. 2011; Donier et al.
      2015).
    * ``activity_feedback``: the ZI flow's rates rise with the mid's recent
      realized volatility (``agents.decide_zi``, ``ap[8:12]``), a
      Hawkes-like self-excitation for volatility clustering.
    * ``n_exec`` metaorder executors work parents of 200 lots and more
      (Pareto) as ``exec_child_lots`` market orders every second.  The
      rest of the market trades about 16 lots/s, so the default 5 lots/s
      is about a quarter of the volume while a parent runs (24%); impact
      grows with that rate: the pooled exponent of the square-root fit
      (``tools/calm_facts.py``, the first 10 minutes left out) is 0.37
      [0.27, 0.50] at 5 lots/s (24 seeds), 0.59 at 10, 0.82 at 20, 1.10 at
      50 and 1.42 at 100 (86% of the volume: the book cannot refill
      between children and impact turns convex).
    * ``latent_traders=N`` (``latent_params``, see :data:`LATENT_PARAMS`):
      N latent traders of the latent order book (``agents.decide_latent``):
      hidden reservation prices placed around the mid, diffusing and
      following the news (the fundamental), revealed as limit orders near
      the touch and sent as IOCs when the price reaches them.  Measured
      (``tools/calm_facts.py --set latent_traders=2000 exec_child_lots=100``,
      6.5 h, seeds 0-2 pooled, 10 executors at 100 lots/s; measured before
      ``--warmup``, the opening included): impact exponent
      0.88 [0.79, 0.98] against 1.38 [1.24, 1.60] for the default day, about 0.6 above 1,000 lots
      (4.3 ticks at 1,220 lots, 14.3 at 9,760) and near linear below;
      excess kurtosis of 1-minute returns 1.05 (default 55, with those
      executors); return acf at lag 1 -0.17 (default -0.11); |r| acf 0.05
      at lag 1 (default 0.38).
      ``latent_python=True`` runs them as their readable Python twin
      (``strategies.latent_trader.LatentTrader``): identical fills, slower.
    """
    cash = {"USD": 10_000_000, "XYZ": 10_000}
    zi = ZI_FAST_PARAMS if latent_book else ZI_PARAMS
    if activity_feedback:
        zi = zi + ZI_ACTIVITY
    agents = [
        AgentSpec(kind=L.KIND_ZI, count=1, params=zi, balances={"USD": 10**9, "XYZ": 10**6},
                  lat_order_ns=200_000, lat_md_ns=200_000, first_wake_s=(0.0, 0.1), list_cap=16384),
        AgentSpec(kind=L.KIND_NOISE, count=n_noise, params=(0.0, 0.5, 10.0, 5.0), balances=cash,
                  lat_order_ns=5_000_000, lat_order_jitter=0.5, lat_md_ns=5_000_000,
                  first_wake_s=(min(60.0, duration_s / 2), duration_s), list_cap=4),
        AgentSpec(kind=L.KIND_VALUE, count=n_value, params=(300.0, 50.0, 0.3, 20.0, 5.0, 0.3, 20.0), balances=cash,
                  lat_order_ns=2_000_000, lat_order_jitter=0.3, lat_md_ns=2_000_000,
                  first_wake_s=(min(10.0, duration_s / 2), min(300.0, duration_s)), list_cap=8),
        AgentSpec(kind=L.KIND_MOMENTUM, count=n_momentum, params=(20.0, 20.0, 50.0, 10.0, 2.0), balances=cash,
                  lat_order_ns=1_000_000, lat_md_ns=1_000_000, first_wake_s=(0.0, 20.0), list_cap=4),
        AgentSpec(kind=L.KIND_LADDER_MM, count=n_mm, params=(1.0, 5.0, 5.0, 50.0, 0.0, 0.01, 5000.0),
                  iparams=(5,), balances={"USD": 100_000_000, "XYZ": 100_000},
                  lat_order_ns=100_000, lat_md_ns=100_000, first_wake_s=(1.0, 2.0), list_cap=64),
    ]
    if latent_book:
        agents.insert(1, AgentSpec(kind=L.KIND_ZI, count=1, params=ZI_LATENT_PARAMS,
                                   balances={"USD": 10**9, "XYZ": 10**6}, lat_order_ns=200_000,
                                   lat_md_ns=200_000, first_wake_s=(0.0, 0.1), list_cap=32768))
    if latent_traders:
        strategy = None
        if latent_python:          # the readable twin (strategies.latent_trader), identical fills, slower
            from strategies.latent_trader import LatentTrader, LatentTraderConfig
            cfg = LatentTraderConfig.from_params(latent_params)
            strategy = lambda cfg=cfg: LatentTrader(cfg)      # noqa: E731
        agents.append(AgentSpec(kind=L.KIND_PYTHON if latent_python else L.KIND_LATENT, count=latent_traders,
                                params=tuple(latent_params), strategy=strategy,
                                balances=cash, lat_order_ns=5_000_000, lat_md_ns=5_000_000,
                                first_wake_s=(0.0, 10.0), list_cap=4, order_events=False))
    if n_exec:
        # metaorder executors (for the price-impact law): parents of 200+
        # lots (Pareto tail 1.5, up to 50,000), exec_child_lots every 1 s
        if not exec_child_lots >= 1:
            raise ValueError(f"exec_child_lots must be >= 1 lot, got {exec_child_lots}")
        agents.append(AgentSpec(kind=L.KIND_EXECUTOR, count=n_exec,
                                params=(600.0, 1.5, 200.0, 1.0, float(exec_child_lots), 50000.0),
                                balances={"USD": 100_000_000, "XYZ": 100_000}, lat_order_ns=1_000_000,
                                lat_md_ns=1_000_000, first_wake_s=(0.0, min(600.0, duration_s)), list_cap=4))
    if python_mm is not None:
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, strategy=python_mm,
                                balances={"USD": 100_000_000, "XYZ": 100_000}, lat_order_ns=100_000,
                                lat_md_ns=100_000, first_wake_s=(1.0, 2.0)))
    return ScenarioSpec(
        assets=(AssetSpec(name="USD", atom=Decimal("1e-8")),
                AssetSpec(name="XYZ", atom=Decimal("1e-8"), fundamental=100_000.0, kappa=1e-4, sigma=0.5)),
        venues=(VenueSpec(name="EXCH", maker_ppm=0, taker_ppm=0),),
        books=(BookSpec(venue="EXCH", base="XYZ", quote="USD", tick=Decimal("0.01"), lot=Decimal(1)),),
        agents=tuple(agents),
        duration_s=duration_s,
        snapshot_s=1.0,
    )
