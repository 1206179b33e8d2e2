"""Instruments: the tick and lot grid that turns prices and sizes into the
integer ticks and lots the engine works in.

>>> atom = Instrument("ATOMUSDT", tick_size="0.001", lot_size="0.01")
>>> atom.price_to_ticks("4.188"), atom.price_to_ticks(0.001)
(4188, 1)
>>> atom.price_to_ticks("4.1885") == PRICE_OFF_GRID     # not on the grid
True
>>> float(atom.ticks_to_price(4188)), atom.qty_to_lots("12.5")
(4.188, 1250)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .codes import DEFAULT_MAX_PRICE_TICKS, PRICE_OFF_GRID, QTY_OFF_LOT


def _dec(x, what: str) -> Decimal:
    try:
        d = x if isinstance(x, Decimal) else Decimal(str(x))
    except (InvalidOperation, ValueError) as e:
        raise ValueError(f"{what}: not a number: {x!r}") from e
    if not d.is_finite():
        raise ValueError(f"{what}: not finite: {x!r}")
    return d


@dataclass(frozen=True, kw_only=False)
class Instrument:
    """One tradable book: ``symbol``, ``tick_size`` (price units per tick),
    ``lot_size`` (quantity units per lot), and the highest price the book
    accepts (``max_price``, price units; default: 2**50 ticks).

    Sizes are given as strings or Decimals for exactness (floats are read
    through their shortest repr, so ``0.001`` means 0.001)."""

    symbol: str
    tick_size: Decimal
    lot_size: Decimal = Decimal(1)
    max_price: Decimal | None = None
    max_price_ticks: int = field(init=False)

    def __post_init__(self):
        tick = _dec(self.tick_size, f"{self.symbol}.tick_size")
        lot = _dec(self.lot_size, f"{self.symbol}.lot_size")
        if tick <= 0:
            raise ValueError(f"{self.symbol}.tick_size must be > 0, got {tick}")
        if lot <= 0:
            raise ValueError(f"{self.symbol}.lot_size must be > 0, got {lot}")
        object.__setattr__(self, "tick_size", tick)
        object.__setattr__(self, "lot_size", lot)
        if self.max_price is None:
            mpt = DEFAULT_MAX_PRICE_TICKS
        else:
            mp = _dec(self.max_price, f"{self.symbol}.max_price")
            mpt = int(mp / tick)
            if mpt < 1 or mpt > DEFAULT_MAX_PRICE_TICKS:
                raise ValueError(f"{self.symbol}.max_price {mp} gives {mpt} ticks; must be in [1, 2**50]")
            object.__setattr__(self, "max_price", mp)
        object.__setattr__(self, "max_price_ticks", mpt)

    def price_to_ticks(self, price) -> int:
        """Integer ticks for ``price``; ``PRICE_OFF_GRID`` if it is not a
        whole number of ticks (the engine rejects it with ``R_OFF_GRID``)."""
        q, r = divmod(_dec(price, f"{self.symbol} price"), self.tick_size)
        return int(q) if r == 0 else PRICE_OFF_GRID

    def ticks_to_price(self, ticks: int) -> Decimal:
        return self.tick_size * int(ticks)

    def qty_to_lots(self, qty) -> int:
        """Integer lots for ``qty``; ``QTY_OFF_LOT`` if not a whole number of lots."""
        q, r = divmod(_dec(qty, f"{self.symbol} qty"), self.lot_size)
        return int(q) if r == 0 else QTY_OFF_LOT

    def lots_to_qty(self, lots: int) -> Decimal:
        return self.lot_size * int(lots)
