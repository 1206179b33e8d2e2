"""A ladder market maker with risk controls (Python plug-in path).

Every ``refresh_s`` seconds it cancels its quotes and, unless its
:class:`~strategies.risk_controls.RiskControls` say otherwise, posts
``levels`` orders a side around the mid (``half_spread_bps`` away,
``spacing_bps`` apart, ``size`` lots each, widened on volatility, the
inventory side withheld at the limit).  When the kill switch fires it pulls
its bids (or everything) and re-enters after a calm period.  Its margin
ratio trigger reads the venue risk engine's view of its unified account.
Units: s, bps, lots, ticks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from lob.core import codes as C
from lob.sim.strategy import Strategy

from .risk_controls import RiskControls, RiskControlsConfig

_BUY, _SELL = C.BUY, C.SELL


@dataclass(frozen=True, kw_only=True, slots=True)
class GuardedLadderConfig:
    refresh_s: float = 1.0
    half_spread_bps: float = 10.0
    spacing_bps: float = 10.0
    size: int = 1000
    levels: int = 5
    skew_bps_per_lot: float = 0.0
    risk: RiskControlsConfig = field(default_factory=RiskControlsConfig)


class GuardedLadderMM(Strategy):
    Config = GuardedLadderConfig

    def __init__(self, config: GuardedLadderConfig = GuardedLadderConfig(), *, base: str, quote: str,
                 lot_units: float = 1.0):
        self.config = config
        self.base, self.quote = base, quote
        self.lot_units = lot_units
        self.risk = RiskControls(config.risk)
        self.start_lots = None
        self._tick = None

    def _lots(self) -> float:
        return self.units(self.base) / self.lot_units

    def on_start(self):
        self.start_lots = self._lots()

    def on_fill(self, fill):
        mine_buy = (fill["taker_side"] == C.BUY) == fill["is_taker"]
        self.risk.on_fill(self.now, mine_buy, fill["qty"])

    def on_wakeup(self, now):
        cfg = self.config
        self.cancel_all()
        bid, ask, last = self.bbo()
        mid = 0.5 * (bid + ask) if bid > 0 and ask > 0 else float(last)
        if mid > 0.0:
            tick = self._tick
            if tick is None:
                tick = self._tick = float(self._sim.spec.books[self.book].tick)
            base = self.units(self.base)
            value = self.units(self.quote) + base * mid * tick
            self.risk.observe(now, mid, value)
            inv = base / self.lot_units - self.start_lots
            d = self.risk.decide(now, inv, self.margin_ratio(), self.forced_sells())
            centre = mid * (1.0 - cfg.skew_bps_per_lot * inv * 1e-4)
            submit, size, bids, asks = self.submit, cfg.size, d.bids, d.asks
            half, spacing = cfg.half_spread_bps * d.widen, cfg.spacing_bps
            for i in range(cfg.levels):
                off = (half + i * spacing) * 1e-4
                if bids:
                    px = math.floor(centre * (1.0 - off))
                    if px >= 1:
                        submit(_BUY, px, size)
                if asks:
                    submit(_SELL, math.ceil(centre * (1.0 + off)), size)
        return now + int(cfg.refresh_s * 1e9)
