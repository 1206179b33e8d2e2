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


def calm_day(*, duration_s: float = DAY_S, n_noise: int = 1000, n_value: int = 100, n_momentum: int = 12,
             n_mm: int = 2, n_exec: int = 0, python_mm=None) -> ScenarioSpec:
    """The spec; ``python_mm`` (a Strategy factory) adds one Python market maker."""
    cash = {"USD": 10_000_000, "XYZ": 10_000}
    agents = [
        AgentSpec(kind=L.KIND_ZI, count=1, params=(5.0, 0.3, 0.02, 20.0, 0.7, 300.0), balances={"USD": 10**9, "XYZ": 10**6},
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
    if n_exec:
        # metaorder executors (for the price-impact law): parents of 100+
        # lots (Pareto tail 1.5, up to 20,000), 20 lots every 2 s
        agents.append(AgentSpec(kind=L.KIND_EXECUTOR, count=n_exec, params=(600.0, 1.5, 200.0, 1.0, 100.0, 50000.0),
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
