"""A flash crash from liquidity withdrawal on one book (stylized, after
6 May 2010): nothing happens to the fundamental; a large sell program hits
the bids, the market makers who absorb it pull their bids, and the price
falls through the thinned book until stink bids and returning value
traders stop it and bring it back.

One exchange (``EX``) lists ALT/USDT (book 0, opening at 1 USDT, 0.0001
tick, 1 ALT lot); its risk engine watches unified accounts.

* **market makers** (``n_mm``, :class:`strategies.guarded_ladder.GuardedLadderMM`)
  quote most of the depth near the mid from unified accounts (``mm_inventory``
  ALT against a USDT loan, leverage drawn from ``mm_leverage``), each with a
  kill switch drawn per agent: adverse fills (``max_bought_lots`` within a
  minute), realized range, drawdown and margin ratio; when it fires the
  maker pulls its bids and re-enters after a calm period;
* **cash market makers** (``n_cash_mm``): wide, small, always there;
* **value traders** (``n_value``) trade toward the fundamental, which does
  not move (or by ``shock``, small): they buy when the price is far below
  it, waking every ``value_wake_s`` seconds on average -- slow to return;
* background: noise traders, momentum traders (they sell into the fall),
  a zero-intelligence flow, leveraged longs (``n_longs``, unified accounts
  that the risk engine liquidates when the price falls far enough), and
  stink bids resting 15-65% under the opening price;
* the **sell program** (:class:`SellProgram`): from ``shock_s``, market
  sells of ``program_lots / program_s`` lots a second for ``program_s``
  seconds, whatever the price (a fixed-rate execution algorithm; in the
  default run every lot fills).

With ``kill_switch=False`` the market makers keep quoting and the program
moves the price far less: the depth of the wick is the mechanism's, not a
scripted price.  Measured with the defaults, seeds 0-4: every market maker
pulls its bids, the lowest trade is 15-25% under the open (median 15%:
in three runs of five the fall through the thinned book stops at the
first stink bids, 15% under the open) 50-116 s into the program, and the
last trade is within 1% of the open; with ``kill_switch=False`` the wick
is 0.3-1.0%.
The fundamental does not move (``shock=0``).  ``shock`` (default 0) moves the fundamental at
``shock_s``; the scenario lists it either way as the time of the crash.

``user_mm`` (a Strategy class or factory, or an import path
``"pkg.mod:Class"``) takes the place of ``user_mm_share`` of the
unified-account market makers (at least one), on the same accounts.
Units: s, USDT, ALT lots, bps.
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np

from ..core import codes as C
from ..sim import layout as L
from ..sim.model import AgentSpec, AssetSpec, BookSpec, ScenarioSpec, VenueSpec
from ..sim.risk import MarginAssetSpec, RiskEngineSpec
from ..sim.strategy import Strategy
from . import user_mm as U
from .liquidation_cascade import OPEN_TICKS, Holder, StinkBids

NS = 1_000_000_000


class SellProgram(Strategy):
    """Sends ``lots`` lots from ``start_s`` as market sells of ``slice``
    lots every ``every_s`` seconds (whatever the price) on book ``book``
    (default: its own); stops when all are sent or it is out of inventory.
    It does not chase: what the bids cannot take of a market order is
    cancelled.  ``sent`` counts the lots sent, :meth:`filled` the lots
    actually sold (from its balance)."""

    def __init__(self, lots: int, start_s: float, slice: int, every_s: float = 1.0, book: int | None = None):
        if lots < 0 or slice < 1 or not every_s > 0:
            raise ValueError(f"SellProgram needs lots >= 0, slice >= 1, every_s > 0; got {lots}, {slice}, {every_s}")
        self.lots, self.start_ns, self.slice = int(lots), int(start_s * NS), int(slice)
        self.every_ns = int(every_s * NS)
        self.target_book = book
        self.sent = 0
        self._start_units = None

    def _base(self):
        b = self.book if self.target_book is None else self.target_book
        return b, self._sim.spec.books[b]

    def on_start(self):
        _, bk = self._base()
        self._start_units = self.balance(bk.base)

    def filled(self) -> int:
        """Lots sold so far: the fall of its base balance, in lots."""
        _, bk = self._base()
        return int((self._start_units - self.balance(bk.base)) / bk.lot)

    def on_wakeup(self, now):
        if now < self.start_ns:
            return self.start_ns
        if self.sent >= self.lots:
            return None
        b, bk = self._base()
        have = int(self.balance(bk.base) / bk.lot)
        q = min(self.slice, self.lots - self.sent, have)
        if q <= 0:
            return None
        self.submit(C.SELL, 0, q, type=C.MARKET, book=b)
        self.sent += q
        return now + self.every_ns


def check_stylized(duration_s: float, shock_s: float, shock: float, amount: tuple, over: tuple) -> None:
    """The checks shared by the stylized scenarios: ``shock_s`` inside the
    run, ``shock`` a relative move, ``amount`` = (name, value) >= 0 and
    ``over`` = (name, seconds) > 0; ``ValueError`` naming the parameter."""
    if not 0 < shock_s < duration_s:
        raise ValueError(f"shock_s must be inside the run (0, {duration_s}), got {shock_s}")
    if not -1 < shock < 1:
        raise ValueError(f"shock must be a relative move in (-1, 1), got {shock}")
    if amount[1] < 0 or not over[1] > 0:
        raise ValueError(f"{amount[0]} must be >= 0 and {over[0]} > 0, got {amount[1]}, {over[1]}")


def sell_program(asset: str, lots: int, start_s: float, over_s: float, book: int = 0) -> AgentSpec:
    """A :class:`SellProgram` agent holding ``lots`` lots of ``asset`` (lot:
    one unit) that sends them to ``book`` from ``start_s`` over ``over_s``
    seconds, one market order a second."""
    slice_ = max(1, int(np.ceil(lots / over_s)))
    return AgentSpec(kind=L.KIND_PYTHON, count=1, book=book, balances={asset: lots, "USDT": 1_000},
                     strategy=lambda: SellProgram(lots, start_s, slice_, 1.0),
                     lat_order_ns=2_000_000, lat_md_ns=2_000_000, first_wake_s=(1.0, 1.0), list_cap=4)


def _mm_factory(cfg):
    from strategies.guarded_ladder import GuardedLadderMM
    return lambda: GuardedLadderMM(cfg, base="ALT", quote="USDT", lot_units=1.0)


def flash_crash(*, duration_s: float = 1800.0, shock_s: float = 300.0, shock: float = 0.0,
                program_lots: int = 800_000, program_s: float = 120.0, n_mm: int = 10,
                mm_inventory: float = 500_000.0, mm_leverage: tuple = (1.05, 1.3), mm_size: tuple = (2000, 6000),
                kill_switch: bool = True, n_cash_mm: int = 2, n_value: int = 30, value_wake_s: float = 10.0,
                value_size: float = 500.0, value_cap: float = 10.0, n_noise: int = 200, n_momentum: int = 20,
                n_longs: int = 0, long_leverage: tuple = (2.0, 4.0), stink_bid_lots: int = 100_000,
                user_mm=None, user_mm_share: float = 0.5, params_seed: int = 11) -> ScenarioSpec:
    """The spec (see the module docstring).  ``params_seed`` draws the
    population's parameters (kill-switch thresholds, leverage), the run
    seed everything that happens."""
    from strategies.guarded_ladder import GuardedLadderConfig
    from strategies.risk_controls import RiskControlsConfig

    check_stylized(duration_s, shock_s, shock, ("program_lots", program_lots), ("program_s", program_s))
    user_mm = U.resolve(user_mm, user_mm_share)
    g = np.random.default_rng(params_seed)
    cash = {"USDT": 5_000_000, "ALT": 5_000_000}
    agents = [
        AgentSpec(kind=L.KIND_ZI, count=1, params=(4.0, 0.2, 0.02, 100.0, 0.7, 300.0),
                  balances={"USDT": 10**9, "ALT": 10**9}, lat_order_ns=500_000, lat_md_ns=500_000,
                  first_wake_s=(0.0, 0.1), list_cap=16384),
        AgentSpec(kind=L.KIND_NOISE, count=n_noise, params=(20.0, 0.5, 300.0, 20.0), balances=cash,
                  lat_order_ns=20_000_000, lat_order_jitter=0.5, lat_md_ns=20_000_000,
                  first_wake_s=(0.0, 20.0), list_cap=4),
        AgentSpec(kind=L.KIND_VALUE, count=n_value,
                  params=(value_wake_s, 30.0, 0.3, value_size, 30.0, 0.2, value_cap), balances=cash,
                  lat_order_ns=5_000_000, lat_order_jitter=0.3, lat_md_ns=5_000_000,
                  first_wake_s=(0.0, value_wake_s), list_cap=8),
        AgentSpec(kind=L.KIND_MOMENTUM, count=n_momentum, params=(2.0, 5.0, 30.0, 500.0, 30.0), balances=cash,
                  lat_order_ns=2_000_000, lat_md_ns=2_000_000, first_wake_s=(0.0, 2.0), list_cap=4),
        AgentSpec(kind=L.KIND_LADDER_MM, count=n_cash_mm, params=(2.0, 50.0, 100.0, 500.0, 0.0, 0.02, 50_000.0),
                  iparams=(8,), balances={"USDT": 20_000_000, "ALT": 20_000_000}, lat_order_ns=1_000_000,
                  lat_md_ns=1_000_000, first_wake_s=(0.5, 2.0), list_cap=64),
    ]
    if stink_bid_lots > 0:
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, strategy=lambda: StinkBids(lots=stink_bid_lots),
                                balances={"USDT": 50_000_000}, lat_order_ns=10_000_000, lat_md_ns=10_000_000,
                                first_wake_s=(1.0, 1.0)))
    if program_lots > 0:
        agents.append(sell_program("ALT", program_lots, shock_s, program_s))
    for _ in range(n_longs):
        size = float(g.uniform(50_000, 200_000))
        lev = float(g.uniform(*long_leverage))
        loan = round(size * (1.0 - 1.0 / lev), 2)
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, strategy=Holder, margin_venue="EX",
                                balances={"ALT": round(size), "USDT": -loan}, credit={"USDT": loan},
                                first_wake_s=(0.0, 0.0), list_cap=4))
    n_user = U.n_replaced(user_mm, user_mm_share, n_mm)
    for j in range(n_mm):
        lev = float(g.uniform(*mm_leverage))
        loan = round(mm_inventory * (1.0 - 1.0 / lev), 2)
        inf = float("inf")
        risk = RiskControlsConfig(
            window_s=60.0,
            max_drawdown_bps=float(g.uniform(300, 1500)) if kill_switch else inf,
            max_range_bps=float(g.uniform(300, 1000)) if kill_switch else inf,
            max_bought_lots=float(g.uniform(15_000, 60_000)) if kill_switch else inf,
            min_margin_ratio=float(g.uniform(1.5, 4.0)) if kill_switch else 0.0,
            pull="bids", reentry_s=float(g.uniform(120, 600)), widen_per_100bps=0.5,
            max_inventory_lots=float(mm_inventory * 0.5))
        cfg = GuardedLadderConfig(refresh_s=float(g.uniform(0.5, 2.0)), half_spread_bps=float(g.uniform(5, 15)),
                                  spacing_bps=float(g.uniform(5, 15)), size=int(g.integers(*mm_size)), levels=5,
                                  risk=risk)
        agents.append(AgentSpec(kind=L.KIND_PYTHON, count=1, margin_venue="EX",
                                strategy=user_mm if j < n_user else _mm_factory(cfg),
                                balances={"ALT": mm_inventory, "USDT": -loan},
                                credit={"USDT": loan + mm_inventory}, lat_order_ns=1_000_000,
                                lat_md_ns=1_000_000, first_wake_s=(0.5, 2.0), list_cap=64, order_events=False))
    risk_engine = RiskEngineSpec(
        venue="EX", quote="USDT",
        assets=(MarginAssetSpec(asset="ALT", haircut=0.8, loan_mm=0.10, loan_im=0.2, policy="last"),
                MarginAssetSpec(asset="USDT", loan_mm=0.05, loan_im=0.1, cash=True)),
        cadence_s=1.0, takeover_ratio=1.0, target_ratio=1.2, call_ratio=1.5, fee_rate=0.005,
        slice_frac=0.25, limit_bps=500.0, insurance_fund=1_000_000)
    return ScenarioSpec(
        assets=(AssetSpec(name="USDT", atom=Decimal("1e-8")),
                AssetSpec(name="ALT", atom=Decimal("1e-8"), fundamental=float(OPEN_TICKS), kappa=0.0, sigma=2.0)),
        venues=(VenueSpec(name="EX", maker_ppm=0, taker_ppm=500),),
        books=(BookSpec(venue="EX", base="ALT", quote="USDT", tick=Decimal("0.0001"), lot=Decimal(1)),),
        agents=tuple(agents), duration_s=duration_s, snapshot_s=1.0,
        shocks=((shock_s, "ALT", shock),), risk_engines=(risk_engine,),
    )
