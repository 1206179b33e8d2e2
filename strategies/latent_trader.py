"""The latent trader as a plain Python strategy: the readable twin of the
compiled ``KIND_LATENT`` agent (``lob.sim.agents.decide_latent``), written
for reading, with the same decisions in the same floating-point operations
and the same random stream (the agent's row of the world's RNG states), so
the two give identical fills for the same scenario and seed
(``tests/test_latent_twin.py``).

The latent order book of Donier, Bonart, Mastromatteo & Bouchaud (2015):
each trader holds an *intention* to trade about ``size_lots`` lots at a
hidden *reservation price* (ticks).  At each wake-up (exponential intervals,
mean ``wake_s``):

1. what its revealed order filled since the last wake comes off the
   intention; a fully traded intention is renewed;
2. the reservation diffuses (``diffusion`` ticks per sqrt(s)) and follows the
   news: ``news_beta`` times the change of the book's fundamental;
3. with probability ``1 - exp(-renewal_rate * dt)`` the intention is renewed
   (forgotten and drawn again);
4. a buyer whose reservation reaches the ask (a seller's the bid) sends an
   IOC limit at it and is renewed;
5. within ``reveal_ticks`` of the opposite best the intention is revealed:
   a resting limit order at the reservation for what is left of it
   (re-posted when the reservation moves a tick);
6. a renewed trader is placed uniformly within ``band_ticks`` of the mid, a
   buyer below it, a seller above.

Uniform deposits, diffusion and annihilation at the price make the latent
density grow linearly with the distance from the price: the mechanism of the
square-root impact law.  Units: s, ticks, lots.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from lob.core import codes as C
from lob.sim import rng as R
from lob.sim.kernel import oracle_value
from lob.sim.layout import BK_BASE, BK_LOT, BK_REF
from lob.sim.strategy import Strategy


@dataclass(frozen=True, kw_only=True, slots=True)
class LatentTraderConfig:
    """The parameters of ``calm_day``'s ``LATENT_PARAMS``, by name."""
    wake_s: float = 1.0
    diffusion: float = 1.0            # ticks per sqrt(s)
    renewal_rate: float = 0.0005      # per s
    band_ticks: float = 150.0
    size_lots: float = 200.0          # mean of the intention (geometric, at least 1)
    news_beta: float = 1.0
    reveal_ticks: float = 30.0

    @classmethod
    def from_params(cls, params) -> "LatentTraderConfig":
        """From the 7-tuple ``calm_day(latent_params=)`` takes."""
        names = ("wake_s", "diffusion", "renewal_rate", "band_ticks", "size_lots", "news_beta", "reveal_ticks")
        if len(params) != len(names):
            raise ValueError(f"latent_params: expected {len(names)} numbers {names}, got {len(params)}")
        return cls(**{k: float(v) for k, v in zip(names, params)})


class LatentTrader(Strategy):
    Config = LatentTraderConfig

    def __init__(self, config: LatentTraderConfig = LatentTraderConfig()):
        self.config = config
        self.reservation = 0.0        # ticks; 0: none yet
        self.buy = False
        self.left = 0.0               # lots of the intention not yet traded
        self.resting_px = 0           # price of its revealed order (0: none)
        self._f = 0.0                 # the fundamental at the last wake
        self._t = 0.0                 # the time of the last wake (ns)
        self._held = 0                # its holding (lots) at the last wake
        self._just_renewed = False

    # ---- the views the compiled agent reads, in the same operations
    def _mid(self, now, bid, ask, last):
        if bid > 0 and ask > 0:
            return 0.5 * (bid + ask)
        if last > 0:
            return float(last)
        v = oracle_value(self._sim.W, self._sim.W.books[self.book, BK_REF], now)
        if v > 0.0:
            return v
        return float(bid if bid > 0 else ask)

    def _withdraw(self):
        """Its revealed order cancelled (``agents._latent_withdraw``)."""
        if self.resting_px > 0:
            self.cancel_all()
            self.resting_px = 0

    def on_wakeup(self, now):
        c, W, a = self.config, self._sim.W, self.agent
        bid, ask, last = self.bbo()
        mid = self._mid(now, bid, ask, last)
        f = oracle_value(W, W.books[self.book, BK_REF], now)
        r = self.reservation
        renew = r == 0.0
        held = int(W.bal[self._acct, W.books[self.book, BK_BASE]]) // int(W.books[self.book, BK_LOT])
        if not renew:
            # 1. fills of the revealed order since the last wake (none counted right after a renewal)
            filled = abs(held - self._held) if not self._just_renewed else 0
            self._just_renewed = False
            self.left -= filled
            if self.left <= 0.0:
                renew = True
            elif self.resting_px > 0 and not self.open_orders():
                self.resting_px = 0          # its order is gone (filled in part, then cancelled): re-post
        if not renew:
            dt = (now - self._t) * 1e-9
            r += c.diffusion * math.sqrt(dt) * R.normal(W.arng, a)          # 2. diffusion
            if f > 0.0 and self._f > 0.0:
                r += c.news_beta * (f - self._f)                           #    and news
            q = int(self.left)
            if R.uniform(W.arng, a) < 1.0 - math.exp(-c.renewal_rate * dt):
                renew = True                                               # 3. forgotten
            elif self.buy and ask > 0 and r >= ask:                        # 4. the price reached it
                renew = True
                if self.resting_px == 0:
                    self.submit(C.BUY, int(r), q, type=C.IOC)
            elif not self.buy and bid > 0 and r <= bid:
                renew = True
                if self.resting_px == 0:
                    px = int(math.ceil(r))
                    self.submit(C.SELL, px if px >= 1 else 1, q, type=C.IOC)
            else:                                                          # 5. revealed near the price
                px = 0
                if self.buy and ask > 0 and ask - r <= c.reveal_ticks:
                    px = int(r)
                elif not self.buy and bid > 0 and r - bid <= c.reveal_ticks:
                    px = int(math.ceil(r))
                if px != self.resting_px:
                    self._withdraw()
                    if px >= 1:
                        self.submit(C.BUY if self.buy else C.SELL, px, q)
                        self.resting_px = px
        if renew:                                                          # 6. a new intention
            self._withdraw()
            if mid > 0.0:
                x = (2.0 * R.uniform(W.arng, a) - 1.0) * c.band_ticks
                r = mid + x
                self.buy = x < 0.0
                self.left = float(1 + R.geometric0(W.arng, a, c.size_lots - 1.0))
                self._just_renewed = True
        self._held = held
        self.reservation = r
        self._f = f
        self._t = float(now)
        return now + 1 + int(R.exponential(W.arng, a, c.wake_s * 1e9))
