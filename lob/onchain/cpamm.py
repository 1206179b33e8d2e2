"""Constant-product pool (x * y = k), integer-exact as Uniswap v2.

For volatile pairs (an altcoin against USDC, ETH against USDT).  A swap of
``dx`` with fee ``f`` (basis points, default 30) pays

    dy = dx * (10000 - f) * y // (x * 10000 + dx * (10000 - f))

(``UniswapV2Library.getAmountOut``); the whole fee stays in the pool (to the
LPs), so ``x * y`` never decreases.  LP tokens are minted as in
``UniswapV2Pair.mint``: ``isqrt(dx * dy) - 1000`` on the first deposit (the
``MINIMUM_LIQUIDITY`` of 1000 base units is minted to ``locked_holder`` and
never returned), then ``min(dx * L / x, dy * L / y)``.  No protocol fee, no
TWAP oracle.

Units: amounts are integer base units (both coins 18 decimals unless
``decimals`` says otherwise); prices are WAD whole-coin prices.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import isqrt
from typing import Sequence

from .ledger import BPS, WAD, Ledger, Move, check_amount
from .venues import SwapRecord

MINIMUM_LIQUIDITY = 1000


@dataclass(frozen=True)
class CPLiquidityRecord:
    pool: str
    provider: str
    kind: str              # "add" or "remove"
    amounts: tuple[int, int]
    lp: int
    moves: tuple[Move, ...]


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int = 30) -> int:
    """Uniswap v2 ``getAmountOut`` with a fee of ``fee_bps`` basis points."""
    if amount_in <= 0 or reserve_in <= 0 or reserve_out <= 0:
        raise ValueError("insufficient amount or liquidity")
    a = amount_in * (BPS - fee_bps)
    return a * reserve_out // (reserve_in * BPS + a)


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int, fee_bps: int = 30) -> int:
    """Uniswap v2 ``getAmountIn``: input needed for ``amount_out``."""
    if amount_out <= 0 or reserve_in <= 0 or not amount_out < reserve_out:
        raise ValueError("insufficient amount or liquidity")
    return reserve_in * amount_out * BPS // ((reserve_out - amount_out) * (BPS - fee_bps)) + 1


class ConstantProductPool:
    """An x*y=k pool of two coins held in a shared :class:`Ledger` under
    ``address``; LP tokens are the ledger asset ``lp_token``."""

    def __init__(self, ledger: Ledger, coins: Sequence[str], fee_bps: int = 30, *,
                 decimals: Sequence[int] = (18, 18), address: str | None = None,
                 lp_token: str | None = None, locked_holder: str = "0x0"):
        if len(coins) != 2 or coins[0] == coins[1]:
            raise ValueError("two distinct coins")
        if not 0 <= fee_bps < BPS:
            raise ValueError("fee out of range")
        self.ledger = ledger
        self.coins = tuple(coins)
        self.fee_bps = fee_bps
        self.decimals = tuple(decimals)
        self.address = address or "cpamm:" + "/".join(coins)
        self.lp_token = lp_token or self.address + ":LP"
        self.locked_holder = locked_holder
        self.reserves = [0, 0]

    @property
    def total_supply(self) -> int:
        return self.ledger.supply(self.lp_token)

    @property
    def k(self) -> int:
        return self.reserves[0] * self.reserves[1]

    def index(self, coin: str) -> int:
        return self.coins.index(coin)

    def spot_price(self, base: str, quote: str) -> int:
        """Marginal price of ``base`` in ``quote`` (fee excluded), whole coins,
        WAD: ``reserve_quote / reserve_base`` scaled by decimals."""
        i, j = self.index(base), self.index(quote)
        ri, rj = self.reserves[i], self.reserves[j]
        return rj * 10 ** self.decimals[i] * WAD // (ri * 10 ** self.decimals[j])

    def quote(self, asset_in: str, asset_out: str, amount_in: int) -> int:
        """Output of :meth:`swap` for ``amount_in`` (base units)."""
        i, j = self.index(asset_in), self.index(asset_out)
        if i == j:
            raise ValueError("same coin")
        return get_amount_out(check_amount(amount_in), self.reserves[i], self.reserves[j],
                              self.fee_bps)

    def amount_in_for(self, asset_in: str, asset_out: str, amount_out: int) -> int:
        """Input of ``asset_in`` needed to receive ``amount_out``."""
        i, j = self.index(asset_in), self.index(asset_out)
        return get_amount_in(amount_out, self.reserves[i], self.reserves[j], self.fee_bps)

    def swap(self, trader: str, asset_in: str, asset_out: str, amount_in: int,
             min_out: int = 0, receiver: str | None = None) -> SwapRecord:
        """Sell ``amount_in`` of ``asset_in`` for ``asset_out``."""
        out = self.quote(asset_in, asset_out, amount_in)
        if out < min_out:
            raise ValueError(f"insufficient output amount ({out} < {min_out})")
        i, j = self.index(asset_in), self.index(asset_out)
        receiver = trader if receiver is None else receiver
        m1 = self.ledger.transfer(trader, self.address, asset_in, amount_in)
        m2 = self.ledger.transfer(self.address, receiver, asset_out, out)
        self.reserves[i] += amount_in
        self.reserves[j] -= out
        price = out * 10 ** self.decimals[i] * WAD // (amount_in * 10 ** self.decimals[j])
        return SwapRecord(self.address, trader, receiver, asset_in, asset_out, amount_in, out,
                          amount_in * self.fee_bps // BPS, price, (m1, m2))

    def add_liquidity(self, provider: str, amounts: Sequence[int],
                      receiver: str | None = None) -> CPLiquidityRecord:
        """Deposit both coins (Uniswap v2 ``mint``: any surplus of one side
        over the pool ratio is donated to the pool)."""
        a0, a1 = (check_amount(a) for a in amounts)
        supply = self.total_supply
        r0, r1 = self.reserves
        receiver = provider if receiver is None else receiver
        moves = []
        if supply == 0:
            liq = isqrt(a0 * a1) - MINIMUM_LIQUIDITY
            if liq <= 0:
                raise ValueError("insufficient liquidity minted")
        else:
            liq = min(a0 * supply // r0, a1 * supply // r1)
            if liq <= 0:
                raise ValueError("insufficient liquidity minted")
        moves.append(self.ledger.transfer(provider, self.address, self.coins[0], a0))
        moves.append(self.ledger.transfer(provider, self.address, self.coins[1], a1))
        if supply == 0:
            moves.append(self.ledger.mint(self.locked_holder, self.lp_token, MINIMUM_LIQUIDITY))
        moves.append(self.ledger.mint(receiver, self.lp_token, liq))
        self.reserves = [r0 + a0, r1 + a1]
        return CPLiquidityRecord(self.address, provider, "add", (a0, a1), liq, tuple(moves))

    def remove_liquidity(self, provider: str, lp_amount: int,
                         receiver: str | None = None) -> CPLiquidityRecord:
        """Burn LP tokens for a pro-rata share of both reserves."""
        check_amount(lp_amount)
        supply = self.total_supply
        amts = [r * lp_amount // supply for r in self.reserves]
        if lp_amount == 0 or min(amts) == 0:
            raise ValueError("insufficient liquidity burned")
        receiver = provider if receiver is None else receiver
        moves = [self.ledger.burn(provider, self.lp_token, lp_amount)]
        for k in range(2):
            moves.append(self.ledger.transfer(self.address, receiver, self.coins[k], amts[k]))
            self.reserves[k] -= amts[k]
        return CPLiquidityRecord(self.address, provider, "remove", (amts[0], amts[1]), lp_amount,
                                 tuple(moves))

    def check(self) -> None:
        """Assert the reserves equal the pool's ledger balances."""
        for k, c in enumerate(self.coins):
            assert self.ledger.balance(self.address, c) == self.reserves[k], c
