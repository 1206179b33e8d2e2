"""Curve StableSwap pool, integer-exact as the ``CurveStableSwapNG`` contract.

The invariant (Egorov 2019), for ``n`` coins with normalised balances ``x_i``:

    A_wp * n**n * sum(x_i) + D = A_wp * n**n * D + D**(n+1) / (n**n * prod(x_i))

is solved with the contracts' integer Newton iterations (:func:`get_D`,
:func:`get_y`, :func:`get_y_D`), copied operation by operation from
curvefi/stableswap-ng ``CurveStableSwapNG.vy`` (v7.0.0): uint256 floor
divisions, ``A_PRECISION = 100``, convergence "with the precision of 1",
``dy = xp[j] - y - 1``, the fee taken from the output, the optional
"off-peg" dynamic fee, the admin share of the fee kept apart from the LPs'.

**The amplification convention is the contracts'.**  ``A`` is the number a
Curve pool is deployed with and shows (``pool.A()``); the iteration uses
``Ann = A * n`` (times ``A_PRECISION``), which is ``A_wp * n**n`` for the
whitepaper's ``A_wp = A / n**(n-1)``.  For two coins ``A = 100`` is
``A_wp = 50``.

Units:

* amounts are integer base units of each coin; ``decimals[k]`` (default 18)
  gives ``rate_multipliers[k] = 10**(36 - decimals[k])`` as in the NG
  factory, and the math runs on ``xp = balance * rate // 10**18`` (18
  decimals);
* ``fee`` and ``admin_fee`` are fractions times ``FEE_DENOMINATOR = 10**10``
  (``fee=4_000_000`` is 0.04%, ``admin_fee=5_000_000_000`` is 50% of it);
  ``offpeg_fee_multiplier`` also times 10**10 (``<= 10**10``: static fee);
* prices are WAD (10**18 = 1 whole coin per whole coin).

Not modelled: A ramping, rate oracles / rebasing / ERC4626 coins, the
EMA price and D oracles, ``remove_liquidity_imbalance``, LP-token permits.
A revert of the contract is a ``ValueError`` (or ``InsufficientBalance``)
raised before any state changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .ledger import Ledger, Move, check_amount

A_PRECISION = 100
PRECISION = 10**18
FEE_DENOMINATOR = 10**10
MAX_A = 10**6
MAX_FEE = 5 * 10**9


class ConvergenceError(ArithmeticError):
    """The Newton iteration did not converge in 255 rounds (the contract
    reverts)."""


# ----------------------------------------------------------------------
# invariant math (pure functions on normalised balances ``xp``, 1e18 units;
# ``amp`` is A * A_PRECISION)
# ----------------------------------------------------------------------
def get_D(xp: Sequence[int], amp: int) -> int:
    """The invariant ``D`` of normalised balances ``xp`` (contract ``get_D``)."""
    n = len(xp)
    S = sum(xp)
    if S == 0:
        return 0
    D = S
    Ann = amp * n
    nn = n**n
    for _ in range(255):
        D_P = D
        for x in xp:
            D_P = D_P * D // x
        D_P //= nn
        Dprev = D
        D = ((Ann * S // A_PRECISION + D_P * n) * D
             // ((Ann - A_PRECISION) * D // A_PRECISION + (n + 1) * D_P))
        if abs(D - Dprev) <= 1:
            return D
    raise ConvergenceError("get_D did not converge")


def _solve_y(c: int, b: int, D: int) -> int:
    y = D
    for _ in range(255):
        y_prev = y
        den = 2 * y + b - D
        if den <= 0:
            raise ConvergenceError("get_y: negative denominator (uint256 underflow)")
        y = (y * y + c) // den
        if abs(y - y_prev) <= 1:
            return y
    raise ConvergenceError("get_y did not converge")


def get_y(i: int, j: int, x: int, xp: Sequence[int], amp: int, D: int) -> int:
    """New normalised balance of coin ``j`` when coin ``i``'s becomes ``x``,
    at constant ``D`` (contract ``get_y``)."""
    n = len(xp)
    if i == j or not (0 <= i < n and 0 <= j < n):
        raise ValueError("bad coin indices")
    Ann = amp * n
    c = D
    S_ = 0
    for k in range(n):
        if k == i:
            _x = x
        elif k != j:
            _x = xp[k]
        else:
            continue
        S_ += _x
        c = c * D // (_x * n)
    c = c * D * A_PRECISION // (Ann * n)
    b = S_ + D * A_PRECISION // Ann
    return _solve_y(c, b, D)


def get_y_D(amp: int, i: int, xp: Sequence[int], D: int) -> int:
    """Normalised balance of coin ``i`` that gives invariant ``D`` with the
    other balances unchanged (contract ``get_y_D``)."""
    n = len(xp)
    if not 0 <= i < n:
        raise ValueError("bad coin index")
    Ann = amp * n
    c = D
    S_ = 0
    for k in range(n):
        if k == i:
            continue
        S_ += xp[k]
        c = c * D // (xp[k] * n)
    c = c * D * A_PRECISION // (Ann * n)
    b = S_ + D * A_PRECISION // Ann
    return _solve_y(c, b, D)


def get_p(xp: Sequence[int], amp: int, D: int) -> list[int]:
    """State prices of coins 1..n-1 in units of coin 0, WAD, fee excluded
    (contract ``_get_p``; the contract caps only its oracle at 2.0)."""
    n = len(xp)
    ANN = amp * n
    Dr = D // n**n
    for x in xp:
        Dr = Dr * D // x
    xp0_A = ANN * xp[0] // A_PRECISION
    return [PRECISION * (xp0_A + Dr * xp[0] // xp[k]) // (xp0_A + Dr) for k in range(1, n)]


def dynamic_fee(xpi: int, xpj: int, fee: int, offpeg_fee_multiplier: int) -> int:
    """Fee (times 1e10) for a trade between coins whose average normalised
    balances are ``xpi``, ``xpj`` (contract ``_dynamic_fee``): the base fee
    when balanced, up to ``fee * multiplier`` when very imbalanced."""
    if offpeg_fee_multiplier <= FEE_DENOMINATOR:
        return fee
    xps2 = (xpi + xpj) ** 2
    return (offpeg_fee_multiplier * fee
            // ((offpeg_fee_multiplier - FEE_DENOMINATOR) * 4 * xpi * xpj // xps2 + FEE_DENOMINATOR))


# ----------------------------------------------------------------------
# records
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class ExchangeRecord:
    """A swap: ``dx`` base units of coin ``i`` in, ``dy`` of coin ``j`` out.
    ``fee`` is the whole fee in coin-``j`` base units (LP share + admin share,
    ``= dy_without_fee - dy``); ``admin_fee`` the part set aside for the
    admin.  ``price`` is ``dy/dx`` in whole coins per whole coin, WAD."""
    pool: str
    trader: str
    receiver: str
    i: int
    j: int
    asset_in: str
    asset_out: str
    dx: int
    dy: int
    fee: int
    admin_fee: int
    price: int
    moves: tuple[Move, ...]

    @property
    def amount_in(self) -> int:
        return self.dx

    @property
    def amount_out(self) -> int:
        return self.dy


@dataclass(frozen=True)
class LiquidityRecord:
    """An add or remove of liquidity: ``amounts`` per coin (in for add, out
    for remove), ``lp`` LP tokens minted (add) or burned (remove), ``fees``
    per coin (imbalance fees; zeros for a balanced remove)."""
    pool: str
    provider: str
    kind: str            # "add", "remove", "remove_one"
    amounts: tuple[int, ...]
    lp: int
    fees: tuple[int, ...]
    moves: tuple[Move, ...]


# ----------------------------------------------------------------------
# the pool
# ----------------------------------------------------------------------
class StableSwapPool:
    """A plain StableSwap-NG pool holding its coins in a shared :class:`Ledger`.

    ``address`` is the pool's holder name in the ledger; LP tokens are the
    ledger asset ``lp_token`` (default ``address + ":LP"``).  The pool's
    ledger balance of coin ``k`` always equals ``stored_balances[k]``; of
    it, ``admin_balances[k]`` belongs to ``fee_receiver`` until
    :meth:`withdraw_admin_fees`, the rest (:attr:`balances`) to the LPs.
    """

    def __init__(self, ledger: Ledger, coins: Sequence[str], A: int, fee: int = 4_000_000, *,
                 admin_fee: int = 5_000_000_000, offpeg_fee_multiplier: int = FEE_DENOMINATOR,
                 decimals: Sequence[int] | None = None, address: str | None = None,
                 lp_token: str | None = None, fee_receiver: str = "curve:fee_receiver"):
        n = len(coins)
        if n < 2 or n > 8 or len(set(coins)) != n:
            raise ValueError("need 2..8 distinct coins")
        if not 0 < A <= MAX_A:
            raise ValueError("A out of range")
        if not 0 <= fee <= MAX_FEE or not 0 <= admin_fee <= FEE_DENOMINATOR:
            raise ValueError("fee out of range")
        decimals = [18] * n if decimals is None else list(decimals)
        if len(decimals) != n or any(not 0 <= d <= 18 for d in decimals):
            raise ValueError("decimals must be 0..18, one per coin")
        self.ledger = ledger
        self.coins = tuple(coins)
        self.n = n
        self.A = A
        self.amp = A * A_PRECISION
        self.fee = fee
        self.admin_fee = admin_fee
        self.offpeg_fee_multiplier = offpeg_fee_multiplier
        self.decimals = tuple(decimals)
        self.rates = tuple(10 ** (36 - d) for d in decimals)
        self.address = address or "curve:" + "/".join(coins)
        self.lp_token = lp_token or self.address + ":LP"
        self.fee_receiver = fee_receiver
        self.stored_balances = [0] * n
        self.admin_balances = [0] * n

    # -- views ------------------------------------------------------------
    @property
    def balances(self) -> list[int]:
        """LP-owned balances (stored minus admin fees), base units."""
        return [s - a for s, a in zip(self.stored_balances, self.admin_balances)]

    @property
    def total_supply(self) -> int:
        """LP tokens outstanding."""
        return self.ledger.supply(self.lp_token)

    def index(self, coin: str) -> int:
        return self.coins.index(coin)

    def _xp(self, balances: Sequence[int] | None = None) -> list[int]:
        bal = self.balances if balances is None else balances
        return [r * b // PRECISION for r, b in zip(self.rates, bal)]

    def xp(self) -> list[int]:
        """Normalised (18-decimal) LP balances."""
        return self._xp()

    def D(self) -> int:
        """Current invariant (18 decimals)."""
        return get_D(self._xp(), self.amp)

    def get_virtual_price(self) -> int:
        """``D / total_supply``, WAD."""
        return self.D() * PRECISION // self.total_supply

    def get_p(self) -> list[int]:
        """State prices of coins 1.. in coin 0, WAD (contract ``get_p``)."""
        xp = self._xp()
        return get_p(xp, self.amp, get_D(xp, self.amp))

    def state_price(self, i: int, j: int) -> int:
        """Marginal price of coin ``i`` in units of coin ``j`` (fee
        excluded), whole coins per whole coin, WAD."""
        p = [PRECISION] + self.get_p()
        return p[i] * PRECISION // p[j]

    def spot_price(self, base: str, quote: str) -> int:
        """:meth:`state_price` by coin name (the interface the AMM oracle
        uses)."""
        return self.state_price(self.index(base), self.index(quote))

    def _exchange_math(self, i: int, j: int, dx: int):
        if i == j or not (0 <= i < self.n and 0 <= j < self.n):
            raise ValueError("bad coin indices")
        rates = self.rates
        xp = self._xp()
        x = xp[i] + dx * rates[i] // PRECISION
        D = get_D(xp, self.amp)
        y = get_y(i, j, x, xp, self.amp, D)
        dy = xp[j] - y - 1
        dy_fee = dy * dynamic_fee((xp[i] + x) // 2, (xp[j] + y) // 2, self.fee,
                                  self.offpeg_fee_multiplier) // FEE_DENOMINATOR
        dy_gross = dy * PRECISION // rates[j]
        dy_net = (dy - dy_fee) * PRECISION // rates[j]
        admin = dy_fee * self.admin_fee // FEE_DENOMINATOR * PRECISION // rates[j]
        return dy_net, dy_gross - dy_net, admin

    def get_dy(self, i: int, j: int, dx: int) -> int:
        """Output of coin ``j`` for ``dx`` of coin ``i`` (base units, fee
        deducted), as the NG views contract quotes it."""
        check_amount(dx, "dx")
        return self._exchange_math(i, j, dx)[0]

    def quote(self, asset_in: str, asset_out: str, amount_in: int) -> int:
        """:meth:`get_dy` by coin name."""
        return self.get_dy(self.index(asset_in), self.index(asset_out), amount_in)

    def dynamic_fee(self, i: int, j: int) -> int:
        """Current fee (times 1e10) for a marginal ``i -> j`` trade."""
        xp = self._xp()
        return dynamic_fee(xp[i], xp[j], self.fee, self.offpeg_fee_multiplier)

    # -- swaps ------------------------------------------------------------
    def exchange(self, trader: str, i: int, j: int, dx: int, min_dy: int = 0,
                 receiver: str | None = None) -> ExchangeRecord:
        """Sell ``dx`` base units of coin ``i`` from ``trader`` for coin
        ``j`` sent to ``receiver`` (default ``trader``).  Raises
        ``ValueError`` if the output is below ``min_dy``."""
        check_amount(dx, "dx")
        if dx == 0:
            raise ValueError("do not exchange 0 coins")
        dy, fee, admin = self._exchange_math(i, j, dx)
        if dy < min_dy:
            raise ValueError(f"Exchange resulted in fewer coins than expected ({dy} < {min_dy})")
        receiver = trader if receiver is None else receiver
        led = self.ledger
        m_in = led.transfer(trader, self.address, self.coins[i], dx)
        self.stored_balances[i] += dx
        self.admin_balances[j] += admin
        m_out = led.transfer(self.address, receiver, self.coins[j], dy)
        self.stored_balances[j] -= dy
        price = dy * 10 ** self.decimals[i] * PRECISION // (dx * 10 ** self.decimals[j])
        return ExchangeRecord(self.address, trader, receiver, i, j, self.coins[i], self.coins[j],
                              dx, dy, fee, admin, price, (m_in, m_out))

    def swap(self, trader: str, asset_in: str, asset_out: str, amount_in: int,
             min_out: int = 0) -> ExchangeRecord:
        """:meth:`exchange` by coin name (the venue interface)."""
        return self.exchange(trader, self.index(asset_in), self.index(asset_out), amount_in, min_out)

    # -- liquidity ----------------------------------------------------------
    def _imbalance_fees(self, old_balances, new_balances, D0, D1, ys):
        base_fee = self.fee * self.n // (4 * (self.n - 1))
        fees = []
        for k in range(self.n):
            ideal = D1 * old_balances[k] // D0
            diff = abs(ideal - new_balances[k])
            xs = self.rates[k] * (old_balances[k] + new_balances[k]) // PRECISION
            f = dynamic_fee(xs, ys, base_fee, self.offpeg_fee_multiplier) * diff // FEE_DENOMINATOR
            fees.append(f)
        return fees

    def calc_token_amount(self, amounts: Sequence[int]) -> int:
        """LP tokens :meth:`add_liquidity` would mint for ``amounts``."""
        return self._add_math(amounts)[0]

    def _add_math(self, amounts):
        if len(amounts) != self.n:
            raise ValueError("one amount per coin")
        for a in amounts:
            check_amount(a)
        old = self.balances
        D0 = get_D(self._xp(old), self.amp)
        supply = self.total_supply
        if supply == 0 and any(a == 0 for a in amounts):
            raise ValueError("initial deposit requires all coins")
        new = [o + a for o, a in zip(old, amounts)]
        D1 = get_D(self._xp(new), self.amp)
        if D1 <= D0:
            raise ValueError("D1 must exceed D0")
        fees = [0] * self.n
        admin = [0] * self.n
        if supply > 0:
            fees = self._imbalance_fees(old, new, D0, D1, (D0 + D1) // self.n)
            admin = [f * self.admin_fee // FEE_DENOMINATOR for f in fees]
            D2 = get_D(self._xp([b - f for b, f in zip(new, fees)]), self.amp)
            mint = supply * (D2 - D0) // D0
        else:
            mint = D1
        return mint, fees, admin

    def add_liquidity(self, provider: str, amounts: Sequence[int], min_mint_amount: int = 0,
                      receiver: str | None = None) -> LiquidityRecord:
        """Deposit ``amounts`` (base units per coin) from ``provider``; LP
        tokens go to ``receiver`` (default ``provider``)."""
        mint, fees, admin = self._add_math(amounts)
        if mint < min_mint_amount:
            raise ValueError("Slippage screwed you")
        receiver = provider if receiver is None else receiver
        moves = []
        for k, a in enumerate(amounts):
            if a:
                moves.append(self.ledger.transfer(provider, self.address, self.coins[k], a))
                self.stored_balances[k] += a
            self.admin_balances[k] += admin[k]
        moves.append(self.ledger.mint(receiver, self.lp_token, mint))
        return LiquidityRecord(self.address, provider, "add", tuple(amounts), mint, tuple(fees),
                               tuple(moves))

    def remove_liquidity(self, provider: str, burn_amount: int,
                         min_amounts: Sequence[int] | None = None, receiver: str | None = None,
                         claim_admin_fees: bool = True) -> LiquidityRecord:
        """Burn ``burn_amount`` LP tokens of ``provider`` for a pro-rata share
        of every coin (no fee).  As in the contract, admin fees are sent to
        the fee receiver afterwards unless ``claim_admin_fees`` is False."""
        check_amount(burn_amount, "burn_amount")
        if burn_amount == 0:
            raise ValueError("invalid burn amount")
        supply = self.total_supply
        bal = self.balances
        amounts = [b * burn_amount // supply for b in bal]
        mins = min_amounts or [0] * self.n
        if any(a < m for a, m in zip(amounts, mins)):
            raise ValueError("Withdrawal resulted in fewer coins than expected")
        receiver = provider if receiver is None else receiver
        moves = [self.ledger.burn(provider, self.lp_token, burn_amount)]
        for k, a in enumerate(amounts):
            if a:
                moves.append(self.ledger.transfer(self.address, receiver, self.coins[k], a))
                self.stored_balances[k] -= a
        if claim_admin_fees:
            moves.extend(self.withdraw_admin_fees())
        return LiquidityRecord(self.address, provider, "remove", tuple(amounts), burn_amount,
                               (0,) * self.n, tuple(moves))

    def _withdraw_one_math(self, burn_amount: int, i: int):
        xp = self._xp()
        D0 = get_D(xp, self.amp)
        supply = self.total_supply
        D1 = D0 - burn_amount * D0 // supply
        new_y = get_y_D(self.amp, i, xp, D1)
        base_fee = self.fee * self.n // (4 * (self.n - 1))
        ys = (D0 + D1) // (2 * self.n)
        xp_reduced = list(xp)
        for k in range(self.n):
            if k == i:
                dx_expected = xp[k] * D1 // D0 - new_y
                xavg = (xp[k] + new_y) // 2
            else:
                dx_expected = xp[k] - xp[k] * D1 // D0
                xavg = xp[k]
            f = dynamic_fee(xavg, ys, base_fee, self.offpeg_fee_multiplier)
            xp_reduced[k] = xp[k] - f * dx_expected // FEE_DENOMINATOR
        dy = xp_reduced[i] - get_y_D(self.amp, i, xp_reduced, D1)
        dy_0 = (xp[i] - new_y) * PRECISION // self.rates[i]
        dy = (dy - 1) * PRECISION // self.rates[i]
        return dy, dy_0 - dy

    def calc_withdraw_one_coin(self, burn_amount: int, i: int) -> int:
        """Coin ``i`` base units :meth:`remove_liquidity_one_coin` would pay."""
        return self._withdraw_one_math(check_amount(burn_amount), i)[0]

    def remove_liquidity_one_coin(self, provider: str, burn_amount: int, i: int,
                                  min_received: int = 0, receiver: str | None = None
                                  ) -> LiquidityRecord:
        """Burn LP tokens for coin ``i`` only (imbalance fee charged)."""
        check_amount(burn_amount, "burn_amount")
        if burn_amount == 0:
            raise ValueError("do not remove 0 LP tokens")
        if self.ledger.balance(provider, self.lp_token) < burn_amount:
            raise ValueError("not enough LP tokens")
        dy, fee = self._withdraw_one_math(burn_amount, i)
        if dy < min_received:
            raise ValueError("Not enough coins removed")
        receiver = provider if receiver is None else receiver
        self.admin_balances[i] += fee * self.admin_fee // FEE_DENOMINATOR
        moves = [self.ledger.burn(provider, self.lp_token, burn_amount),
                 self.ledger.transfer(self.address, receiver, self.coins[i], dy)]
        self.stored_balances[i] -= dy
        amounts = [0] * self.n
        amounts[i] = dy
        fees = [0] * self.n
        fees[i] = fee
        return LiquidityRecord(self.address, provider, "remove_one", tuple(amounts), burn_amount,
                               tuple(fees), tuple(moves))

    def withdraw_admin_fees(self) -> list[Move]:
        """Send the accumulated admin fees to :attr:`fee_receiver`."""
        moves = []
        for k in range(self.n):
            a = self.admin_balances[k]
            if a:
                moves.append(self.ledger.transfer(self.address, self.fee_receiver, self.coins[k], a))
                self.stored_balances[k] -= a
                self.admin_balances[k] = 0
        return moves

    def check(self) -> None:
        """Assert the pool's ledger balances equal its stored balances."""
        for k, c in enumerate(self.coins):
            assert self.ledger.balance(self.address, c) == self.stored_balances[k], c
            assert 0 <= self.admin_balances[k] <= self.stored_balances[k], c
