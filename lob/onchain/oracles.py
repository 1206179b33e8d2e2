"""Price oracles as policy objects.

The lending protocol only ever calls ``oracle.price(asset, now)`` and gets a
USD price per whole token as a WAD int (10**18 = 1 USD); ``now`` is the
simulation time in integer seconds.  Which oracle backs which market is the
policy under study ("does pricing USDe at its redemption value instead of a
venue's own book stop the cascade?"):

* :class:`FixedPriceOracle` -- a peg or redemption value (USDe = 1 USD);
* :class:`CallableOracle`   -- any external price the caller supplies, e.g.
  an exchange book's mid read from the matching engine;
* :class:`AmmSpotOracle`    -- an AMM's marginal (state) price, times the
  quote coin's own oracle price;
* :class:`RoutedOracle`     -- one policy per asset behind one object.
"""
from __future__ import annotations

from typing import Callable, Mapping, Protocol

from .ledger import WAD, as_wad, to_wad


class Oracle(Protocol):
    def price(self, asset: str, now: int) -> int:
        """USD per whole ``asset`` at time ``now`` (s), WAD."""
        ...


class FixedPriceOracle:
    """Constant prices: ``prices`` maps asset -> USD price (a WAD int, or a
    str/float/Decimal/Fraction number of USD converted with ``to_wad``).
    Note: a plain int is taken as already WAD."""

    def __init__(self, prices: Mapping[str, object]):
        self.prices = {a: as_wad(p) for a, p in prices.items()}

    def set_price(self, asset: str, price) -> None:
        self.prices[asset] = as_wad(price)

    def price(self, asset: str, now: int) -> int:
        return self.prices[asset]


class CallableOracle:
    """``fn(asset, now)`` gives the price: a WAD int by default; with
    ``numeric=True`` a number of USD (float, Decimal, Fraction, str; a float
    goes through its shortest repr, so 0.65 is exactly 0.65e18)."""

    def __init__(self, fn: Callable[[str, int], object], *, numeric: bool = False):
        self.fn = fn
        self.numeric = numeric

    def price(self, asset: str, now: int) -> int:
        p = self.fn(asset, now)
        return to_wad(p) if self.numeric else int(p)


class AmmSpotOracle:
    """Spot price of ``asset`` on ``pool`` (anything with
    ``spot_price(base, quote) -> WAD``) in units of ``quote``, times
    ``quote_oracle``'s USD price of ``quote`` (1 USD if None)."""

    def __init__(self, pool, quote: str, quote_oracle: Oracle | None = None):
        self.pool = pool
        self.quote = quote
        self.quote_oracle = quote_oracle

    def price(self, asset: str, now: int) -> int:
        if asset == self.quote:
            p = WAD
        else:
            p = self.pool.spot_price(asset, self.quote)
        q = WAD if self.quote_oracle is None else self.quote_oracle.price(self.quote, now)
        return p * q // WAD


class RoutedOracle:
    """One oracle per asset (``routes``), ``default`` for the rest."""

    def __init__(self, routes: Mapping[str, Oracle], default: Oracle | None = None):
        self.routes = dict(routes)
        self.default = default

    def set(self, asset: str, oracle: Oracle) -> None:
        self.routes[asset] = oracle

    def price(self, asset: str, now: int) -> int:
        o = self.routes.get(asset, self.default)
        if o is None:
            raise KeyError(f"no oracle for {asset}")
        return o.price(asset, now)
