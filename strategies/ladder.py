"""A ladder market maker written as a Python strategy: every ``refresh_s``
seconds it cancels its quotes and posts ``levels`` orders a side around the
mid, ``half_spread_bps`` away and ``spacing_bps`` apart, ``size`` lots each,
with the centre skewed by ``skew_bps_per_lot`` basis points per lot of
inventory and a side withheld once inventory passes ``max_inventory`` lots.

It is the twin of the compiled ``KIND_LADDER_MM`` agent (``lob.sim.agents``):
the same decisions from the same inputs, so the two give identical fills
for the same seed (``tests/test_sim.py``).  Units: s, bps, lots, ticks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from lob.core import codes as C
from lob.sim.strategy import Strategy


@dataclass(frozen=True, kw_only=True, slots=True)
class LadderConfig:
    refresh_s: float = 1.0
    half_spread_bps: float = 5.0
    spacing_bps: float = 5.0
    size: int = 50
    levels: int = 5
    skew_bps_per_lot: float = 0.0
    max_inventory: float = 1e9

    def params(self) -> tuple:
        """The compiled agent's parameter row (``W.ap``) for the same config."""
        return (self.refresh_s, self.half_spread_bps, self.spacing_bps, float(self.size), 0.0,
                self.skew_bps_per_lot, self.max_inventory)


class LadderMM(Strategy):
    Config = LadderConfig

    def __init__(self, config: LadderConfig = LadderConfig(), *, base: str = "XYZ", lot_units: int = 1):
        self.config = config
        self.base = base
        self.lot_units = lot_units
        self.start_inventory = None

    def on_start(self):
        self.start_inventory = int(self.balance(self.base)) // self.lot_units

    def on_wakeup(self, now):
        cfg = self.config
        self.cancel_all()
        bid, ask, last = self.bbo()
        mid = 0.5 * (bid + ask) if bid > 0 and ask > 0 else float(last)
        if mid > 0.0:
            inv = int(self.balance(self.base)) // self.lot_units - self.start_inventory
            centre = mid * (1.0 - cfg.skew_bps_per_lot * inv * 1e-4)
            for i in range(cfg.levels):
                d = (cfg.half_spread_bps + i * cfg.spacing_bps) * 1e-4
                if inv < cfg.max_inventory:
                    px = int(math.floor(centre * (1.0 - d)))
                    if px >= 1:
                        self.submit(C.BUY, px, cfg.size)
                if inv > -cfg.max_inventory:
                    self.submit(C.SELL, int(math.ceil(centre * (1.0 + d))), cfg.size)
        return now + int(cfg.refresh_s * 1e9)
