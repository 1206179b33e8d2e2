"""The recursive USDe loop: build, analyse and unwind.

A looper deposits USDe as collateral, borrows USDC at a target LTV, swaps the
USDC for USDe on a venue (a StableSwap pool, a constant-product pool, or a
:class:`~lob.onchain.venues.FixedPriceVenue` at a given price), deposits it
again, and repeats for ``rounds`` borrow/redeposit rounds.  With principal
``P``, target LTV ``l``, oracle price ``p`` of the collateral (debt priced 1)
and swap rate ``q`` (collateral per debt unit), each round multiplies the
new deposit by ``r = l * p * q``:

    collateral = P * (1 + r + ... + r**rounds)
    debt       = l * p * P * (1 + r + ... + r**(rounds - 1))

(the exact versions are :func:`loop_position`, :func:`break_even_price`,
:func:`liquidation_price`, in ``Fraction``).  100,000 USD at 80% and five
rounds: collateral 368,928, debt 268,928; the principal is gone when USDe
falls to 268,928 / 368,928 = 0.7289 (-27.1%).

Units: amounts are integer base units; ``ltv_bps`` basis points of the
collateral's oracle value; ``now`` seconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence

import numpy as np

from .ledger import BPS, Move
from .lending import LendingProtocol


# ----------------------------------------------------------------------
# closed forms
# ----------------------------------------------------------------------
def _frac(x) -> Fraction:
    return Fraction(repr(x)) if isinstance(x, float) else Fraction(x)


def loop_position(principal, ltv, rounds: int, *, price=1, swap_rate=1) -> tuple[Fraction, Fraction]:
    """``(collateral, debt)`` of an ideal loop, exact.  ``principal`` in
    collateral units, ``ltv`` a fraction (0.8), ``price`` the oracle price of
    the collateral in debt units, ``swap_rate`` collateral received per debt
    unit swapped; ``collateral`` in collateral units, ``debt`` in debt
    units."""
    P, l, p, q = _frac(principal), _frac(ltv), _frac(price), _frac(swap_rate)
    coll, debt, dep = P, Fraction(0), P
    for _ in range(rounds):
        b = l * p * dep
        dep = b * q
        debt += b
        coll += dep
    return coll, debt


def break_even_price(collateral, debt) -> Fraction:
    """Collateral price (in debt units) at which the equity is zero."""
    return _frac(debt) / _frac(collateral)


def liquidation_price(collateral, debt, liquidation_threshold) -> Fraction:
    """Collateral price at which the health factor reaches 1."""
    return _frac(debt) / (_frac(collateral) * _frac(liquidation_threshold))


def leverage(collateral, debt) -> Fraction:
    """Position over equity (at price 1)."""
    return _frac(collateral) / (_frac(collateral) - _frac(debt))


# ----------------------------------------------------------------------
# records
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class LoopRecord:
    """A built loop.  ``supplied``: collateral deposited in total (base
    units), ``borrowed``: debt taken, ``swapped_in``/``swapped_out``: debt
    asset sold / collateral bought on the venue; ``rounds_done`` may be
    below ``rounds`` when the market ran out of cash or room.  ``records``
    are the underlying lending and swap records in order."""
    user: str
    collateral_asset: str
    debt_asset: str
    principal: int
    ltv_bps: int
    rounds: int
    rounds_done: int
    supplied: int
    borrowed: int
    swapped_in: int
    swapped_out: int
    records: tuple
    moves: tuple[Move, ...]


@dataclass(frozen=True)
class UnwindRecord:
    """An unwind.  ``sold``: collateral sold on the venue, ``bought``: debt
    asset received, ``repaid``: debt repaid, ``withdrawn_free``: collateral
    withdrawn after the debt was gone; ``completed`` is False when the
    position got stuck (HF at 1, nothing withdrawable) with ``debt_left``."""
    user: str
    steps: int
    sold: int
    bought: int
    repaid: int
    withdrawn_free: int
    debt_left: int
    completed: bool
    records: tuple
    moves: tuple[Move, ...]


def _moves(records) -> tuple[Move, ...]:
    return tuple(m for r in records for m in r.moves)


# ----------------------------------------------------------------------
# build / unwind on a protocol
# ----------------------------------------------------------------------
def build_loop(lending: LendingProtocol, venue, user: str, principal: int, *, now: int,
               rounds: int, ltv_bps: int | None = None, ltv_of_max_bps: int | None = None,
               collateral_asset: str = "USDe", debt_asset: str = "USDC",
               principal_asset: str | None = None, min_rate_bps: int = 0) -> LoopRecord:
    """Build a loop for ``user`` from ``principal`` base units of
    ``principal_asset`` (default the collateral; if it is the debt asset it
    is swapped first) held in ``user``'s wallet.

    Each round borrows up to the target LTV -- ``ltv_bps`` of the
    collateral's oracle value, or ``ltv_of_max_bps`` of the market's maximum
    LTV -- swaps the debt asset for collateral on ``venue`` and deposits it.
    The target must not exceed the market's LTV.  The LTV is measured on
    ``user``'s whole account, so give each loop its own account.
    ``min_rate_bps``: refuse
    swaps paying less than this many bps of 1:1 (slippage guard; 0 = off)."""
    cm = lending.market(collateral_asset)
    dm = lending.market(debt_asset)
    if (ltv_bps is None) == (ltv_of_max_bps is None):
        raise ValueError("give exactly one of ltv_bps, ltv_of_max_bps")
    if ltv_bps is None:
        ltv_bps = cm.config.ltv_bps * ltv_of_max_bps // BPS
    if not 0 < ltv_bps <= cm.config.ltv_bps:
        raise ValueError(f"target LTV {ltv_bps} bps outside (0, {cm.config.ltv_bps}]")
    principal_asset = principal_asset or collateral_asset
    records = []
    swapped_in = swapped_out = 0

    def swap(amount):
        nonlocal swapped_in, swapped_out
        min_out = amount * min_rate_bps * cm.unit // (BPS * dm.unit)
        r = venue.swap(user, debt_asset, collateral_asset, amount, min_out)
        records.append(r)
        swapped_in += r.amount_in
        swapped_out += r.amount_out
        return r.amount_out

    dep = principal
    if principal_asset == debt_asset:
        dep = swap(principal)
    elif principal_asset != collateral_asset:
        raise ValueError("principal must be in the collateral or the debt asset")
    records.append(lending.supply(user, collateral_asset, dep, now))
    supplied, borrowed, done = dep, 0, 0
    for _ in range(rounds):
        acc = lending.account(user, now)
        target_value = acc.total_collateral * ltv_bps // BPS - acc.total_debt
        b = target_value * dm.unit // lending.price(debt_asset, now) if target_value > 0 else 0
        b = min(b, lending.max_borrowable(user, debt_asset, now))
        if b <= 0:
            break
        records.append(lending.borrow(user, debt_asset, b, now))
        borrowed += b
        out = swap(b)
        if out == 0:
            break
        records.append(lending.supply(user, collateral_asset, out, now))
        supplied += out
        done += 1
    return LoopRecord(user, collateral_asset, debt_asset, principal, ltv_bps, rounds, done,
                      supplied, borrowed, swapped_in, swapped_out, tuple(records),
                      _moves(records))


def unwind_loop(lending: LendingProtocol, venue, user: str, *, now: int,
                collateral_asset: str = "USDe", debt_asset: str = "USDC",
                max_steps: int = 200, withdraw_rest: bool = True,
                use_wallet: bool = False) -> UnwindRecord:
    """Unwind ``user``'s loop: repeatedly withdraw the most collateral the
    health factor allows, sell it on ``venue`` for the debt asset and repay,
    until the debt is gone (then, with ``withdraw_rest``, withdraw the
    remaining collateral to the wallet).  Each sale is capped at what is
    needed to repay the rest of the debt at the venue's quote.  Proceeds
    above the debt stay in the wallet.  With ``use_wallet``, debt-asset
    already in the wallet repays first.  Stops (``completed=False``) when
    nothing can be withdrawn while debt remains (HF at or below 1)."""
    records = []
    sold = bought = repaid = steps = 0

    def debt():
        return lending.debt_balance(user, debt_asset, now)

    if use_wallet and debt():
        w = min(lending.ledger.balance(user, debt_asset), debt())
        if w:
            r = lending.repay(user, debt_asset, w, now)
            records.append(r)
            repaid += r.amount
    while debt() > 0 and steps < max_steps:
        w = lending.max_withdrawable(user, collateral_asset, now)
        if w == 0:
            break
        # sell no more than needed to clear the debt (at the venue's quote)
        d = debt()
        if venue.quote(collateral_asset, debt_asset, w) > d:
            lo, hi = 0, w
            while hi - lo > 1:          # smallest sale that covers the debt
                mid = (lo + hi) // 2
                if venue.quote(collateral_asset, debt_asset, mid) >= d:
                    hi = mid
                else:
                    lo = mid
            w = hi
        records.append(lending.withdraw(user, collateral_asset, w, now))
        r = venue.swap(user, collateral_asset, debt_asset, w)
        records.append(r)
        sold += r.amount_in
        bought += r.amount_out
        pay = min(r.amount_out, debt())
        if pay:
            rr = lending.repay(user, debt_asset, pay, now)
            records.append(rr)
            repaid += rr.amount
        steps += 1
    left = debt()
    free = 0
    if left == 0 and withdraw_rest and lending.collateral_balance(user, collateral_asset, now):
        r = lending.withdraw(user, collateral_asset, None, now)
        records.append(r)
        free = r.amount
    return UnwindRecord(user, steps, sold, bought, repaid, free, left, left == 0,
                        tuple(records), _moves(records))


# ----------------------------------------------------------------------
# populations
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class LooperSpec:
    """One looper: ``principal`` in collateral base units, target
    ``ltv_bps``, ``rounds``."""
    user: str
    principal: int
    ltv_bps: int
    rounds: int


def lognormal_capital(median_usd: float = 100_000.0, sigma: float = 1.0
                      ) -> Callable[[np.random.Generator, int], np.ndarray]:
    """Capital distribution: lognormal with the given median (USD)."""
    return lambda rng, n: median_usd * np.exp(sigma * rng.standard_normal(n))


def uniform_ltv(lo: float = 0.6, hi: float = 0.8) -> Callable[[np.random.Generator, int], np.ndarray]:
    """LTV distribution (fractions), uniform on [lo, hi]."""
    return lambda rng, n: rng.uniform(lo, hi, n)


def integer_rounds(lo: int = 1, hi: int = 5) -> Callable[[np.random.Generator, int], np.ndarray]:
    """Rounds distribution, uniform on the integers lo..hi."""
    return lambda rng, n: rng.integers(lo, hi + 1, n)


def sample_loopers(rng: np.random.Generator, n: int, *,
                   capital=None, ltv=None, rounds=None, max_ltv_bps: int = BPS,
                   decimals: int = 18, prefix: str = "looper") -> list[LooperSpec]:
    """``n`` loopers drawn from ``rng`` (an explicit ``numpy.random.Generator``).
    ``capital(rng, n)`` gives USD amounts (rounded to cents), ``ltv(rng, n)``
    fractions (rounded to bps, clipped to ``[1, max_ltv_bps]``),
    ``rounds(rng, n)`` non-negative ints.  Defaults: lognormal capital with
    median 100,000 USD and sigma 1, LTV uniform on [0.6, 0.8], rounds 1..5.
    Draw order (capital, then LTV, then rounds) is fixed, so the result is a
    deterministic function of the generator's state."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("pass an explicit numpy.random.Generator")
    capital = capital or lognormal_capital()
    ltv = ltv or uniform_ltv()
    rounds = rounds or integer_rounds()
    cap = np.asarray(capital(rng, n), dtype=float)
    lt = np.asarray(ltv(rng, n), dtype=float)
    rd = np.asarray(rounds(rng, n))
    out = []
    for k in range(n):
        cents = int(round(float(cap[k]) * 100))
        principal = cents * 10**decimals // 100
        ltv_bps = min(max(int(round(float(lt[k]) * BPS)), 1), max_ltv_bps)
        out.append(LooperSpec(f"{prefix}{k}", principal, ltv_bps, max(0, int(rd[k]))))
    return out


def build_population(lending: LendingProtocol, venue, specs: Sequence[LooperSpec], *, now: int,
                     fund: bool = True, collateral_asset: str = "USDe",
                     debt_asset: str = "USDC") -> list[LoopRecord]:
    """Build every looper's loop in order (later loopers trade against the
    venue state the earlier ones left).  With ``fund``, each principal is
    first minted into the looper's wallet (an endowment, logged in the
    ledger's minted total).  A looper whose first borrow is refused keeps
    its deposit and gets a loop with ``rounds_done == 0`` (a market out of
    cash or LTV room stops the rounds early in the same way)."""
    out = []
    for s in specs:
        if fund:
            lending.ledger.mint(s.user, collateral_asset, s.principal)
        out.append(build_loop(lending, venue, s.user, s.principal, now=now, rounds=s.rounds,
                              ltv_bps=s.ltv_bps, collateral_asset=collateral_asset,
                              debt_asset=debt_asset))
    return out
