"""Risk controls any market maker can compose: inventory limits, spread
widening on volatility, and a kill switch that pulls bids (or all quotes)
with a re-entry rule.

Many market makers pulling bids at once is what empties books in a crash,
so every trigger threshold is a config field, and scenarios draw them per
agent (heterogeneous populations).  The controls are plain Python with no
simulator dependency: a strategy feeds them observations
(:meth:`RiskControls.observe`, :meth:`RiskControls.on_fill`) and asks what
to quote (:meth:`RiskControls.decide`).

Triggers (each off at its default):

* ``max_drawdown_bps``: mark-to-market value (quote + base at mid) below its
  peak of the last ``drawdown_window_s`` seconds by more than this many bps
  of the starting value;
* ``max_range_bps``: realized volatility, as the high-low range of the mid
  over the last ``window_s`` seconds in bps of the high;
* ``max_bought_lots``: adverse fills, lots bought (bids hit) within
  ``window_s`` -- being run over while the price falls;
* ``min_margin_ratio``: the account's margin ratio (the venue's
  uniMMR, from the risk engine) below this;
* ``max_forced_lots``: the liquidation feed -- forced sells the venue's
  risk engine sent on the market maker's book (lots, exponentially decayed
  with the feed's time constant, :meth:`lob.sim.strategy.Strategy.forced_sells`)
  above this.  Exchanges publish these orders (Binance's ``forceOrder``
  stream); a maker who sees the liquidation engine selling into its book
  pulls its bids rather than buy from it.

When one fires the switch *pulls* (``pull="bids"`` or ``"all"``) and stays
pulled until no trigger has fired for ``reentry_s`` seconds.  Spreads widen
by ``widen_per_100bps`` (a multiplier increment per 100 bps of range), and
``max_inventory_lots`` withholds the side that would grow the inventory.
Units: s, bps, lots.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

INF = math.inf

TRIGGERS = ("drawdown", "volatility", "adverse_fills", "margin", "liquidations")


@dataclass(frozen=True, kw_only=True, slots=True)
class RiskControlsConfig:
    window_s: float = 60.0
    drawdown_window_s: float = 600.0
    max_drawdown_bps: float = INF
    max_range_bps: float = INF
    max_bought_lots: float = INF
    min_margin_ratio: float = 0.0
    max_forced_lots: float = INF
    pull: str = "bids"                 # "bids" or "all"
    reentry_s: float = 300.0
    widen_per_100bps: float = 0.0
    max_inventory_lots: float = INF

    def __post_init__(self):
        if self.pull not in ("bids", "all"):
            raise ValueError(f"RiskControlsConfig.pull must be 'bids' or 'all', got {self.pull!r}")
        if not self.window_s > 0:
            raise ValueError("RiskControlsConfig.window_s must be > 0 seconds")
        if not self.reentry_s >= 0:
            raise ValueError("RiskControlsConfig.reentry_s must be >= 0 seconds")


@dataclass(frozen=True, slots=True)
class Decision:
    """What to quote now: ``bids``/``asks`` allowed, spread ``widen`` factor (>= 1)."""
    bids: bool
    asks: bool
    widen: float
    pulled: bool
    trigger: str | None


class RiskControls:
    """The state of one market maker's controls.  ``pulls`` lists
    ``(time_ns, trigger)`` of every pull, ``reentries`` the re-entry times."""

    def __init__(self, config: RiskControlsConfig = RiskControlsConfig()):
        self.config = config
        self._mids: deque = deque()         # (t, mid)
        # monotone deques over the same window: the high (low) of the mids at the left end
        self._hi: deque = deque()
        self._lo: deque = deque()
        self._t_last = -INF                 # the window's fast high-low needs non-decreasing times
        self._windows_of = None             # the config the windows below (ns) were computed from
        self._buys: deque = deque()         # (t, lots)
        self._bought = 0.0
        self._values: deque = deque()       # (t, value), for the drawdown window
        self.peak = -INF
        self.start_value = None
        self.pulled_since = None
        self.last_fire = None
        self.pulls: list = []
        self.reentries: list = []

    def on_fill(self, t_ns: int, side_buy: bool, lots: int) -> None:
        if side_buy:
            self._buys.append((t_ns, lots))
            self._bought += lots

    def observe(self, t_ns: int, mid: float, value: float) -> None:
        """A mid price (any unit) and the mark-to-market value (quote units) at ``t_ns``."""
        c = self.config
        if c is not self._windows_of:
            self._windows_of = c
            self._w = int(c.window_s * 1e9)
            self._wd = int(c.drawdown_window_s * 1e9)
        mids, hi, lo = self._mids, self._hi, self._lo
        if self._t_last is not None:
            # out of order: range_bps scans the window from now on
            self._t_last = None if t_ns < self._t_last else t_ns
        if mid > 0:
            mids.append((t_ns, mid))
            while hi and hi[-1][1] <= mid:
                hi.pop()
            hi.append((t_ns, mid))
            while lo and lo[-1][1] >= mid:
                lo.pop()
            lo.append((t_ns, mid))
        cut = t_ns - self._w
        while mids and mids[0][0] < cut:
            mids.popleft()
        while hi and hi[0][0] < cut:
            hi.popleft()
        while lo and lo[0][0] < cut:
            lo.popleft()
        buys = self._buys
        while buys and buys[0][0] < cut:
            self._bought -= buys.popleft()[1]
        if self.start_value is None:
            self.start_value = value
        # the drawdown window, a monotone deque: its maximum is at the left end
        values = self._values
        while values and values[-1][1] <= value:
            values.pop()
        values.append((t_ns, value))
        cut = t_ns - self._wd
        while values[0][0] < cut:
            values.popleft()
        self.peak = values[0][1]
        self._value = value

    def range_bps(self) -> float:
        if not self._mids:
            return 0.0
        if self._t_last is not None:
            hi, lo = self._hi[0][1], self._lo[0][1]
        else:
            hi = max(m for _, m in self._mids)
            lo = min(m for _, m in self._mids)
        return (hi - lo) / hi * 1e4 if hi > 0 else 0.0

    def _fired(self, margin_ratio: float, range_bps: float | None = None, forced_lots: float = 0.0) -> str | None:
        c = self.config
        if self.start_value and self.start_value > 0 and \
                (self.peak - self._value) / self.start_value * 1e4 > c.max_drawdown_bps:
            return "drawdown"
        if (self.range_bps() if range_bps is None else range_bps) > c.max_range_bps:
            return "volatility"
        if self._bought > c.max_bought_lots:
            return "adverse_fills"
        if margin_ratio < c.min_margin_ratio:
            return "margin"
        if forced_lots > c.max_forced_lots:
            return "liquidations"
        return None

    def decide(self, t_ns: int, inventory_lots: float, margin_ratio: float = INF,
               forced_lots: float = 0.0) -> Decision:
        """Call after :meth:`observe`; ``inventory_lots`` relative to the start,
        ``forced_lots`` the liquidation feed of the book now (lots)."""
        c = self.config
        rng = self.range_bps()
        trig = self._fired(margin_ratio, rng, forced_lots)
        if trig is not None:
            self.last_fire = t_ns
            if self.pulled_since is None:
                self.pulled_since = t_ns
                self.pulls.append((t_ns, trig))
        elif self.pulled_since is not None and t_ns - self.last_fire >= c.reentry_s * 1e9:
            self.pulled_since = None
            self.reentries.append(t_ns)
            self._values.clear()            # the drawdown is measured afresh after re-entry
            self._values.append((t_ns, self._value))
            self.peak = self._value
        pulled = self.pulled_since is not None
        bids = not pulled and inventory_lots < c.max_inventory_lots
        asks = not (pulled and c.pull == "all") and inventory_lots > -c.max_inventory_lots
        widen = 1.0 + c.widen_per_100bps * rng / 100.0
        return Decision(bids=bids, asks=asks, widen=widen, pulled=pulled, trigger=trig)
