"""Liquid staking tokens (WBETH on ETH, BNSOL on SOL).

A token whose exchange rate to the underlying grows with the staking yield.
The rate steps once per epoch (WBETH's rate is updated daily, BNSOL's per
Solana epoch of about two days), compounding ``apr_bps * epoch_s / year``:

    rate(now) = rate0 * (1 + apr * epoch_s / year) ** k // 1,
    k = (now - t0) // epoch_s

computed exactly in integers (floor once at the end).  The redemption value
of one token is ``rate * underlying_price``.  Minting pays underlying in and
receives ``amount / rate`` tokens (floor); redeeming burns tokens now and
pays ``tokens * rate`` underlying (floor, at the request time's rate) after
``unbonding_s``.  Staking rewards are minted into the contract's underlying
balance when the rate steps (:meth:`LiquidStakingToken.sync`), so the
ledger stays conserved and the backing always covers ``supply * rate``.

Units: base units (18 decimals for both by default); rates and prices WAD;
``apr_bps`` basis points per year; times in seconds.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .ledger import BPS, SECONDS_PER_YEAR, WAD, Ledger, Move, check_amount


@dataclass(frozen=True)
class StakeRecord:
    """A mint (``kind="mint"``: ``underlying`` in, ``tokens`` out), a
    redemption request (``"request"``: ``tokens`` burned, ``underlying``
    owed from ``ready_at``) or a payout (``"payout"``)."""
    kind: str
    party: str
    tokens: int
    underlying: int
    rate: int
    now: int
    ready_at: int
    moves: tuple[Move, ...]


class LiquidStakingToken:
    """A liquid staking token backed by ``underlying`` held under
    ``address`` in the ledger."""

    def __init__(self, ledger: Ledger, *, token: str = "WBETH", underlying: str = "ETH",
                 apr_bps: int = 300, epoch_s: int = 86_400, unbonding_s: int = 7 * 86_400,
                 rate0: int = WAD, t0: int = 0, address: str | None = None):
        if epoch_s <= 0 or rate0 <= 0:
            raise ValueError("epoch_s and rate0 must be positive")
        self.ledger = ledger
        self.token = token
        self.underlying = underlying
        self.apr_bps = apr_bps
        self.epoch_s = epoch_s
        self.unbonding_s = unbonding_s
        self.rate0 = rate0
        self.t0 = t0
        self.address = address or f"lst:{token}"
        self._num = SECONDS_PER_YEAR * BPS + apr_bps * epoch_s
        self._den = SECONDS_PER_YEAR * BPS
        self.epoch = 0
        self.pending: deque[StakeRecord] = deque()
        self.rewards = 0

    # -- views ------------------------------------------------------------
    def epoch_at(self, now: int) -> int:
        return max(0, (now - self.t0) // self.epoch_s)

    def rate_at_epoch(self, k: int) -> int:
        return self.rate0 * self._num**k // self._den**k

    def rate(self, now: int) -> int:
        """Underlying per token at ``now``, WAD."""
        return self.rate_at_epoch(self.epoch_at(now))

    @property
    def supply(self) -> int:
        return self.ledger.supply(self.token)

    @property
    def owed(self) -> int:
        """Underlying earmarked for pending redemptions."""
        return sum(r.underlying for r in self.pending)

    @property
    def backing(self) -> int:
        """Underlying backing the outstanding tokens (held minus owed)."""
        return self.ledger.balance(self.address, self.underlying) - self.owed

    def redemption_value(self, tokens: int, now: int, underlying_price: int) -> int:
        """USD value (WAD) of ``tokens`` base units at the redemption rate,
        given the underlying's USD price (WAD); tokens of 18 decimals."""
        return tokens * self.rate(now) // WAD * underlying_price // WAD

    def fair_price(self, now: int, underlying_price: int) -> int:
        """USD per whole token (WAD): ``rate * underlying_price``."""
        return self.rate(now) * underlying_price // WAD

    # -- actions ------------------------------------------------------------
    def sync(self, now: int) -> list[Move]:
        """Step the rate to ``now``'s epoch and mint the staking rewards that
        keep ``backing >= ceil(supply * rate)``."""
        k = self.epoch_at(now)
        if k < self.epoch:
            raise ValueError("time went backwards")
        self.epoch = k
        need = -(-self.supply * self.rate_at_epoch(k) // WAD)
        short = need - self.backing
        if short > 0:
            self.rewards += short
            return [self.ledger.mint(self.address, self.underlying, short)]
        return []

    def mint(self, party: str, amount: int, now: int) -> StakeRecord:
        """Stake ``amount`` underlying; receive ``amount / rate`` tokens."""
        check_amount(amount)
        moves = self.sync(now)
        r = self.rate_at_epoch(self.epoch)
        tokens = amount * WAD // r
        if tokens == 0:
            raise ValueError("amount too small")
        moves.append(self.ledger.transfer(party, self.address, self.underlying, amount))
        moves.append(self.ledger.mint(party, self.token, tokens))
        return StakeRecord("mint", party, tokens, amount, r, now, now, tuple(moves))

    def request_redeem(self, party: str, tokens: int, now: int) -> StakeRecord:
        """Burn ``tokens``; ``tokens * rate`` underlying is paid to ``party``
        by :meth:`process` from ``now + unbonding_s``."""
        check_amount(tokens)
        moves = self.sync(now)
        r = self.rate_at_epoch(self.epoch)
        und = tokens * r // WAD
        moves.append(self.ledger.burn(party, self.token, tokens))
        rec = StakeRecord("request", party, tokens, und, r, now, now + self.unbonding_s,
                          tuple(moves))
        self.pending.append(rec)
        return rec

    def process(self, now: int) -> list[StakeRecord]:
        """Pay the redemptions whose unbonding ended by ``now``."""
        out = []
        due = [r for r in self.pending if r.ready_at <= now]
        for r in due:
            self.pending.remove(r)
            mv = self.ledger.transfer(self.address, r.party, self.underlying, r.underlying)
            out.append(StakeRecord("payout", r.party, r.tokens, r.underlying, r.rate, now,
                                   r.ready_at, (mv,)))
        return out

    def check(self) -> None:
        """Assert the backing covers the outstanding tokens at the synced rate."""
        assert self.backing >= self.supply * self.rate_at_epoch(self.epoch) // WAD


class LSTRedemptionOracle:
    """Prices an LST at its redemption value: ``lst.rate(now)`` times the
    underlying's price from ``underlying_oracle`` (USD WAD)."""

    def __init__(self, lst: LiquidStakingToken, underlying_oracle):
        self.lst = lst
        self.underlying_oracle = underlying_oracle

    def price(self, asset: str, now: int) -> int:
        return self.lst.fair_price(now, self.underlying_oracle.price(self.lst.underlying, now))
