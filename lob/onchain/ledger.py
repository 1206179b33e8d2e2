"""Token ledger shared by the on-chain modules, and the fixed-point helpers.

Every on-chain module (pools, lending, issuer, staking) moves real tokens only
through a :class:`Ledger`: a map ``asset -> holder -> amount`` of
non-negative Python ints.  A holder is any string ("alice", "curve:USDe/USDC",
"aave:reserve", "ethena"...).  Tokens enter only by :meth:`Ledger.mint` and
leave only by :meth:`Ledger.burn`, so for every asset

    sum of all balances == minted - burned == ``ledger.supply(asset)``

which :meth:`Ledger.check` asserts.  Modules that share one ledger (a user's
USDC wallet is the same in the pool, the lending market and the issuer)
therefore conserve every asset across users, reserves, pools and issuers.

Units: an amount is an integer number of the asset's base units ("wei").
The modules here default to 18 decimals for every asset (1 token = 10**18);
a module that supports other decimals says so.  Prices are integers in WAD
(10**18 = 1 USD per whole token) unless stated otherwise.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

WAD = 10**18
RAY = 10**27
BPS = 10_000
SECONDS_PER_YEAR = 365 * 86_400


class InsufficientBalance(ValueError):
    """A transfer or burn would make a balance negative."""


@dataclass(frozen=True)
class Move:
    """One token movement: ``amount`` base units of ``asset`` from ``src`` to
    ``dst``.  ``src`` is None for a mint, ``dst`` is None for a burn."""
    asset: str
    src: str | None
    dst: str | None
    amount: int


def check_amount(amount, what: str = "amount") -> int:
    """``amount`` as a non-negative int (bools and floats are refused)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"{what} must be an int (base units), got {type(amount).__name__}")
    if amount < 0:
        raise ValueError(f"{what} must be >= 0, got {amount}")
    return amount


def to_wad(x, scale: int = WAD) -> int:
    """A decimal number (int, str, float, Decimal, Fraction) as an integer
    with ``scale`` units per 1, rounded half-even.  Floats go through their
    shortest repr, so ``to_wad(0.65) == 65 * 10**16`` exactly."""
    if isinstance(x, bool):
        raise TypeError("bool is not a number here")
    if isinstance(x, int):
        return x * scale
    if isinstance(x, float):
        x = Decimal(repr(x))
    if isinstance(x, str):
        x = Decimal(x)
    if isinstance(x, Decimal):
        return int((x * scale).to_integral_value())   # ROUND_HALF_EVEN by default
    if isinstance(x, Fraction):
        return round(x * scale)
    raise TypeError(f"cannot convert {type(x).__name__} to fixed point")


def as_wad(p) -> int:
    """A price given either as a WAD int (taken as is) or as a number of
    units (str, float, Decimal, Fraction; converted with :func:`to_wad`)."""
    if isinstance(p, int) and not isinstance(p, bool):
        return p
    return to_wad(p)


def from_wad(x: int, scale: int = WAD) -> float:
    """An integer fixed-point value as a float (for display only)."""
    return x / scale


def net_flows(moves) -> dict[tuple[str, str], int]:
    """Net change of each ``(holder, asset)`` over ``moves`` (mints credit,
    burns debit); holders ``None`` are left out."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for m in moves:
        if m.src is not None:
            out[(m.src, m.asset)] -= m.amount
        if m.dst is not None:
            out[(m.dst, m.asset)] += m.amount
    return {k: v for k, v in out.items() if v != 0}


class Ledger:
    """Balances of every asset by holder, with mint/burn accounting.

    ``journal=True`` keeps every :class:`Move` in :attr:`journal` (off by
    default: the records returned by the modules already list their moves).
    """

    def __init__(self, journal: bool = False):
        self._bal: dict[str, dict[str, int]] = defaultdict(dict)
        self._minted: dict[str, int] = defaultdict(int)
        self._burned: dict[str, int] = defaultdict(int)
        self.journal: list[Move] | None = [] if journal else None

    # -- queries ----------------------------------------------------------
    def balance(self, holder: str, asset: str) -> int:
        """Base units of ``asset`` held by ``holder`` (0 if none)."""
        return self._bal[asset].get(holder, 0)

    def supply(self, asset: str) -> int:
        """Minted minus burned base units of ``asset``."""
        return self._minted[asset] - self._burned[asset]

    def minted(self, asset: str) -> int:
        return self._minted[asset]

    def burned(self, asset: str) -> int:
        return self._burned[asset]

    def total(self, asset: str) -> int:
        """Sum of all balances of ``asset``."""
        return sum(self._bal[asset].values())

    def assets(self) -> list[str]:
        return sorted(set(self._bal) | set(self._minted))

    def holders(self, asset: str) -> dict[str, int]:
        """Non-zero balances of ``asset`` by holder (a copy)."""
        return {h: v for h, v in self._bal[asset].items() if v}

    def portfolio(self, holder: str) -> dict[str, int]:
        """Non-zero balances of ``holder`` by asset."""
        return {a: b[holder] for a, b in self._bal.items() if b.get(holder)}

    def snapshot(self) -> dict[tuple[str, str], int]:
        """Every non-zero ``(holder, asset) -> amount`` (for diffs in tests)."""
        return {(h, a): v for a, b in self._bal.items() for h, v in b.items() if v}

    def check(self) -> None:
        """Assert conservation: for every asset, the balances sum to the
        minted minus burned amount, and no balance is negative."""
        for a in self.assets():
            bal = self._bal[a]
            assert all(v >= 0 for v in bal.values()), f"negative balance of {a}"
            assert sum(bal.values()) == self.supply(a), \
                f"{a}: balances {sum(bal.values())} != supply {self.supply(a)}"

    # -- mutations --------------------------------------------------------
    def _log(self, m: Move) -> Move:
        if self.journal is not None:
            self.journal.append(m)
        return m

    def mint(self, holder: str, asset: str, amount: int) -> Move:
        """Create ``amount`` of ``asset`` in ``holder``'s balance (an
        endowment, an issuer's mint, staking rewards)."""
        check_amount(amount)
        b = self._bal[asset]
        b[holder] = b.get(holder, 0) + amount
        self._minted[asset] += amount
        return self._log(Move(asset, None, holder, amount))

    def burn(self, holder: str, asset: str, amount: int) -> Move:
        """Destroy ``amount`` of ``asset`` from ``holder``'s balance."""
        check_amount(amount)
        b = self._bal[asset]
        have = b.get(holder, 0)
        if have < amount:
            raise InsufficientBalance(f"{holder} burns {amount} {asset}, holds {have}")
        b[holder] = have - amount
        self._burned[asset] += amount
        return self._log(Move(asset, holder, None, amount))

    def transfer(self, src: str, dst: str, asset: str, amount: int) -> Move:
        """Move ``amount`` of ``asset`` from ``src`` to ``dst``."""
        check_amount(amount)
        b = self._bal[asset]
        have = b.get(src, 0)
        if have < amount:
            raise InsufficientBalance(f"{src} sends {amount} {asset}, holds {have}")
        b[src] = have - amount
        b[dst] = b.get(dst, 0) + amount
        return self._log(Move(asset, src, dst, amount))
