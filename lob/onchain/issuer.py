"""USDe issuer: mint and redeem at 1 USD for whitelisted parties.

Ethena's minting contract lets approved parties mint USDe 1:1 against
USDC/USDT and redeem USDe 1:1 for them, with per-block caps on both.  Here:

* :meth:`USDeIssuer.mint`: a whitelisted party pays ``amount`` of a
  collateral stablecoin and receives the same USD amount of USDe, minted;
  the collateral joins the issuer's reserve;
* :meth:`USDeIssuer.request_redeem`: the party hands USDe to the issuer
  (escrowed, still in supply) and is queued; :meth:`USDeIssuer.process`
  pays requests FIFO once ``delay_s`` has passed and the reserve holds the
  requested collateral, burning the USDe then.  A request the reserve cannot
  pay blocks those behind it (strict FIFO) until the reserve is refilled;
* caps per fixed window of ``period_s`` seconds (``period_s=12`` is Ethena's
  per-block limit, ``3600`` an hourly cap): minted and requested-for-
  redemption USDe per window, 0 = unlimited.

Units: base units; USDe has ``decimals[token]`` (default 18), each collateral
its own (default 18; USDC/USDT are 6 on Ethereum: pass
``decimals={"USDe": 18, "USDC": 6, "USDT": 6}``).  Converting USDe to a
coarser collateral floors; the dust is burned with the rest and recorded.
``now``: seconds.  Conservation: the ledger supply of the token equals
:attr:`USDeIssuer.supply` as long as nobody else mints it.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Iterable, Mapping

from .ledger import Ledger, Move, check_amount


class IssuerError(ValueError):
    """A refused mint or redemption."""


@dataclass(frozen=True)
class MintRecord:
    party: str
    collateral_asset: str
    collateral_in: int
    minted: int
    now: int
    moves: tuple[Move, ...]


@dataclass(frozen=True)
class RedeemRequest:
    """A queued redemption: ``amount`` USDe escrowed at ``requested_at``,
    payable in ``collateral_asset`` from ``ready_at``."""
    id: int
    party: str
    amount: int
    collateral_asset: str
    requested_at: int
    ready_at: int
    moves: tuple[Move, ...]


@dataclass(frozen=True)
class RedeemPayout:
    """A paid redemption: ``burned`` USDe, ``paid`` collateral base units,
    ``dust`` USDe base units burned without a collateral counterpart."""
    id: int
    party: str
    collateral_asset: str
    burned: int
    paid: int
    dust: int
    now: int
    moves: tuple[Move, ...]


class USDeIssuer:
    """The issuer of a 1-USD synthetic dollar, holding its reserve and the
    escrowed redemptions under ``address`` in the ledger."""

    def __init__(self, ledger: Ledger, *, token: str = "USDe", collateral: Iterable[str] = ("USDC", "USDT"),
                 whitelist: Iterable[str] = (), delay_s: int = 0, period_s: int = 12,
                 mint_cap: int = 0, redeem_cap: int = 0, decimals: Mapping[str, int] | None = None,
                 address: str = "ethena"):
        self.ledger = ledger
        self.token = token
        self.collateral = tuple(collateral)
        self.whitelist = set(whitelist)
        self.delay_s = delay_s
        self.period_s = period_s
        self.mint_cap = mint_cap
        self.redeem_cap = redeem_cap
        self.decimals = dict(decimals or {})
        self.address = address
        self.queue: deque[RedeemRequest] = deque()
        self.minted = 0
        self.burned = 0
        self.dust = 0
        self._next_id = 0
        self._window = {"mint": (None, 0), "redeem": (None, 0)}

    # -- views ------------------------------------------------------------
    @property
    def supply(self) -> int:
        """USDe minted minus burned by this issuer (escrowed USDe counts)."""
        return self.minted - self.burned

    def reserve(self, asset: str) -> int:
        """Collateral held by the issuer (base units)."""
        return self.ledger.balance(self.address, asset)

    @property
    def escrowed(self) -> int:
        """USDe waiting in the redemption queue."""
        return sum(r.amount for r in self.queue)

    def _dec(self, a: str) -> int:
        return self.decimals.get(a, 18)

    def _to_token(self, asset: str, amount: int) -> int:
        d = self._dec(self.token) - self._dec(asset)
        return amount * 10**d if d >= 0 else amount // 10**(-d)

    def _to_collateral(self, asset: str, usde: int) -> int:
        d = self._dec(self.token) - self._dec(asset)
        return usde // 10**d if d >= 0 else usde * 10**(-d)

    def used(self, kind: str, now: int) -> int:
        """USDe already counted against the ``kind`` ("mint"/"redeem") cap in
        the window containing ``now``."""
        w, u = self._window[kind]
        return u if w == now // self.period_s else 0

    def room(self, kind: str, now: int) -> int | None:
        """USDe left under the ``kind`` cap in the current window (None =
        unlimited)."""
        cap = self.mint_cap if kind == "mint" else self.redeem_cap
        return None if cap == 0 else cap - self.used(kind, now)

    def _take(self, kind: str, amount: int, now: int) -> None:
        room = self.room(kind, now)
        if room is not None and amount > room:
            raise IssuerError(f"{kind} cap: {amount} requested, {room} left in this window")
        self._window[kind] = (now // self.period_s, self.used(kind, now) + amount)

    def _check(self, party: str, asset: str) -> None:
        if party not in self.whitelist:
            raise IssuerError(f"{party} is not whitelisted")
        if asset not in self.collateral:
            raise IssuerError(f"{asset} is not accepted collateral")

    # -- actions ------------------------------------------------------------
    def mint(self, party: str, collateral_asset: str, amount: int, now: int) -> MintRecord:
        """``party`` pays ``amount`` base units of ``collateral_asset`` and
        gets the same USD amount of USDe."""
        self._check(party, collateral_asset)
        check_amount(amount)
        usde = self._to_token(collateral_asset, amount)
        if usde == 0:
            raise IssuerError("zero mint")
        if self.ledger.balance(party, collateral_asset) < amount:
            raise IssuerError(f"{party} lacks {collateral_asset}")
        self._take("mint", usde, now)
        m1 = self.ledger.transfer(party, self.address, collateral_asset, amount)
        m2 = self.ledger.mint(party, self.token, usde)
        self.minted += usde
        return MintRecord(party, collateral_asset, amount, usde, now, (m1, m2))

    def seed(self, holder: str, amount: int, now: int = 0) -> MintRecord:
        """Mint ``amount`` USDe to ``holder`` with no collateral paid in: the
        supply that already exists at the start of a run (backed by the
        hedge portfolio, which is not modelled).  Not subject to caps."""
        check_amount(amount)
        mv = self.ledger.mint(holder, self.token, amount)
        self.minted += amount
        return MintRecord(holder, "", 0, amount, now, (mv,))

    def request_redeem(self, party: str, amount: int, collateral_asset: str, now: int
                       ) -> RedeemRequest:
        """Queue a redemption of ``amount`` USDe for ``collateral_asset``,
        payable at ``now + delay_s``.  The USDe moves to the issuer now."""
        self._check(party, collateral_asset)
        check_amount(amount)
        if amount == 0:
            raise IssuerError("zero redemption")
        if self.ledger.balance(party, self.token) < amount:
            raise IssuerError(f"{party} lacks {self.token}")
        self._take("redeem", amount, now)
        mv = self.ledger.transfer(party, self.address, self.token, amount)
        req = RedeemRequest(self._next_id, party, amount, collateral_asset, now,
                            now + self.delay_s, (mv,))
        self._next_id += 1
        self.queue.append(req)
        return req

    def process(self, now: int) -> list[RedeemPayout]:
        """Pay every due request FIFO while the reserve suffices."""
        out = []
        while self.queue and self.queue[0].ready_at <= now:
            r = self.queue[0]
            pay = self._to_collateral(r.collateral_asset, r.amount)
            if self.reserve(r.collateral_asset) < pay:
                break
            self.queue.popleft()
            dust = r.amount - self._to_token(r.collateral_asset, pay)
            m1 = self.ledger.burn(self.address, self.token, r.amount)
            m2 = self.ledger.transfer(self.address, r.party, r.collateral_asset, pay)
            self.burned += r.amount
            self.dust += dust
            out.append(RedeemPayout(r.id, r.party, r.collateral_asset, r.amount, pay, dust, now,
                                    (m1, m2)))
        return out

    def redeem(self, party: str, amount: int, collateral_asset: str, now: int) -> RedeemPayout:
        """Immediate redemption (``delay_s`` must be 0 and the queue empty)."""
        if self.delay_s or self.queue:
            raise IssuerError("redemptions are queued; use request_redeem/process")
        self._check(party, collateral_asset)
        if self.reserve(collateral_asset) < self._to_collateral(collateral_asset, check_amount(amount)):
            raise IssuerError(f"reserve lacks {collateral_asset}")
        req = self.request_redeem(party, amount, collateral_asset, now)
        paid = self.process(now)
        p = paid[0]
        return RedeemPayout(p.id, p.party, p.collateral_asset, p.burned, p.paid, p.dust, now,
                            req.moves + p.moves)

    def check(self) -> None:
        """Assert the issuer's ledger state matches its books."""
        assert self.ledger.balance(self.address, self.token) == self.escrowed
        assert self.supply >= 0
