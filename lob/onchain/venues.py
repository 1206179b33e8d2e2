"""Swap venues with one interface, and a fixed-price venue.

Every venue (``StableSwapPool``, ``ConstantProductPool``,
:class:`FixedPriceVenue`) offers

    venue.quote(asset_in, asset_out, amount_in) -> amount_out
    venue.swap(trader, asset_in, asset_out, amount_in, min_out=0) -> record

where the record has ``amount_in``, ``amount_out`` and ``moves``; amounts are
integer base units.  The loop builder and the whale unwinder take any venue.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Protocol

from .ledger import BPS, WAD, Ledger, Move, as_wad, check_amount


class Venue(Protocol):
    def quote(self, asset_in: str, asset_out: str, amount_in: int) -> int: ...

    def swap(self, trader: str, asset_in: str, asset_out: str, amount_in: int,
             min_out: int = 0): ...


@dataclass(frozen=True)
class SwapRecord:
    """A swap: ``amount_in`` of ``asset_in`` from ``trader``, ``amount_out``
    of ``asset_out`` to ``receiver``; ``fee`` in ``asset_in`` base units;
    ``price`` out per in in whole coins, WAD."""
    pool: str
    trader: str
    receiver: str
    asset_in: str
    asset_out: str
    amount_in: int
    amount_out: int
    fee: int
    price: int
    moves: tuple[Move, ...]


class FixedPriceVenue:
    """Swaps at given USD prices against a ``dealer``'s inventory.

    ``prices`` maps asset -> USD price (a WAD int, or a str/float/Decimal/
    Fraction number of USD; see :func:`~lob.onchain.ledger.as_wad`).  A swap pays
    ``amount_in * p_in * 10**dec_out // (p_out * 10**dec_in)`` less
    ``fee_bps``; the dealer must hold the output (fund it with
    ``ledger.mint``).  Stands in for "swap at a given price" (an exchange
    book walked elsewhere, an OTC desk, a 1:1 peg)."""

    def __init__(self, ledger: Ledger, prices: Mapping[str, object], *, dealer: str = "dealer",
                 fee_bps: int = 0, decimals: Mapping[str, int] | None = None):
        self.ledger = ledger
        self.dealer = dealer
        self.fee_bps = fee_bps
        self.decimals = dict(decimals or {})
        self.prices: dict[str, int] = {}
        for a, p in prices.items():
            self.set_price(a, p)

    def set_price(self, asset: str, price) -> None:
        """Set ``asset``'s USD price (a WAD int, or a str/float/Decimal/Fraction
    number of USD)."""
        self.prices[asset] = as_wad(price)

    def _dec(self, a: str) -> int:
        return self.decimals.get(a, 18)

    def quote(self, asset_in: str, asset_out: str, amount_in: int) -> int:
        check_amount(amount_in)
        gross = (amount_in * self.prices[asset_in] * 10 ** self._dec(asset_out)
                 // (self.prices[asset_out] * 10 ** self._dec(asset_in)))
        return gross * (BPS - self.fee_bps) // BPS

    def swap(self, trader: str, asset_in: str, asset_out: str, amount_in: int,
             min_out: int = 0, receiver: str | None = None) -> SwapRecord:
        out = self.quote(asset_in, asset_out, amount_in)
        if out < min_out:
            raise ValueError(f"insufficient output amount ({out} < {min_out})")
        receiver = trader if receiver is None else receiver
        m1 = self.ledger.transfer(trader, self.dealer, asset_in, amount_in)
        m2 = self.ledger.transfer(self.dealer, receiver, asset_out, out)
        price = (out * 10 ** self._dec(asset_in) * WAD // (amount_in * 10 ** self._dec(asset_out))
                 if amount_in else 0)
        return SwapRecord(f"fixed:{self.dealer}", trader, receiver, asset_in, asset_out,
                          amount_in, out, amount_in * self.fee_bps // BPS, price, (m1, m2))
