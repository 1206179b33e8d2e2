"""Run a model quoter (Avellaneda-Stoikov, its symmetric benchmark, GLFT)
in the order book: the same strategy objects the model harness
(:mod:`lob.mm.model_harness`) drives, as a Python plug-in strategy.

Every ``refresh_s`` seconds the quoter reads the mid (as seen one
market-data latency ago), converts it to price units (``tick`` quote units
per tick) and its inventory to asset units, asks the model for
``(bid, ask)`` at the time since the start, and replaces its two quotes
(``size`` lots each; a NaN side is withheld).  Optional
:class:`~strategies.risk_controls.RiskControls` can pull or widen them.
Units: s, quote units (model prices), asset units (model inventory), lots.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from lob.core import codes as C
from lob.sim.strategy import Strategy

from .risk_controls import RiskControls, RiskControlsConfig


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelQuoterConfig:
    refresh_s: float = 1.0
    size: int = 10                      # lots per quote
    risk: RiskControlsConfig | None = None


class ModelQuoter(Strategy):
    """``model``: any object with ``quotes(t, mid, inventory) -> (bid, ask)``
    in price units (e.g. ``AvellanedaStoikov``, ``SymmetricSpread``, ``GLFT``)."""

    def __init__(self, model, config: ModelQuoterConfig = ModelQuoterConfig(), *, base: str, quote: str,
                 lot_units: float = 1.0):
        self.model = model
        self.config = config
        self.base, self.quote = base, quote
        self.lot_units = lot_units
        self.risk = RiskControls(config.risk) if config.risk is not None else None
        self.t0 = None
        self.start_units = None

    def on_start(self):
        self.start_units = float(self.balance(self.base))

    def on_fill(self, fill):
        if self.risk is not None:
            mine_buy = (fill["taker_side"] == C.BUY) == fill["is_taker"]
            self.risk.on_fill(self.now, mine_buy, fill["qty"])

    def on_wakeup(self, now):
        if self.t0 is None:
            self.t0 = now
        self.cancel_all()
        bid, ask, last = self.bbo()
        if bid > 0 and ask > 0:
            tick = float(self._sim.spec.books[self.book].tick)
            mid = 0.5 * (bid + ask) * tick
            inv = float(self.balance(self.base)) - self.start_units
            qb, qa = self.model.quotes((now - self.t0) / 1e9, mid, inv)
            bids = asks = True
            widen = 1.0
            if self.risk is not None:
                value = float(self.balance(self.quote)) + float(self.balance(self.base)) * mid
                self.risk.observe(now, mid, value)
                d = self.risk.decide(now, inv / self.lot_units, self.margin_ratio(), self.forced_sells())
                bids, asks, widen = d.bids, d.asks, d.widen
            if widen != 1.0:
                qb = mid - (mid - qb) * widen
                qa = mid + (qa - mid) * widen
            if bids and qb == qb and qb > 0:
                self.submit(C.BUY, max(1, int(math.floor(qb / tick + 1e-9))), self.config.size)
            if asks and qa == qa:
                self.submit(C.SELL, max(1, int(math.ceil(qa / tick - 1e-9))), self.config.size)
        return now + int(self.config.refresh_s * 1e9)
