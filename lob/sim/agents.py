"""Built-in compiled agents: one decision function per kind.

Each ``decide_*`` runs when the agent's timer fires (``EV_WAKE``): it reads
the top of book as of one market-data latency ago (``kernel.tape_asof``), its
parameters ``W.ap[a]`` / ``W.ai[a]`` and state ``W.ast[a]``, draws from its
own random stream ``W.arng[a]``, sends orders through ``kernel.send`` (they
arrive after its order-entry latency) and returns the time of its next wake
(or -1 for none).  Units: ns, ticks, lots; rates per second.

Kinds:

* ZI (Smith, Farmer, Gillemot & Krishnamurthy 2003; Cont, Stoikov & Talreja
  2010): one agent per book generating the background flow as a Gillespie
  process: limit orders at rate ``ap[0]`` placed ``d`` ticks from the
  opposite best with P(d) ~ d**-alpha on [1, D] (``ap[4]``, ``ap[5]``),
  market orders at rate ``ap[1]``, and cancellation of each of its resting
  orders at rate ``ap[2]`` (so total cancellations are proportional to the
  queue it holds).  Sizes are geometric with mean ``ap[3]`` lots.  With
  ``ap[7] > 0`` liquidity is withdrawn under stress: the limit-order rate
  is divided by ``1 + (sigma / ap[7])**2`` and the cancellation rate
  multiplied by it, sigma the realized volatility of the mid
  (bps/sqrt(s), exponentially weighted over ``ap[6]`` s).  With ``ap[8] >
  0`` its activity feeds back on itself (a Hawkes-like self-excitation):
  all three rates are multiplied by ``min(ap[10], 1 + (sigma / ap[9])**2)``
  (``ap[10] = 0``: uncapped), sigma the mid's realized volatility weighted
  over ``ap[8]`` s from the mid sampled at most every ``ap[11]`` s
  (state ``ast[a, 3:7]``).  With ``alpha = ap[4] < 0``
  the placement density grows with the distance (``P(d) ~ d**-alpha``):
  with a slow cancellation rate this is a latent, V-shaped book.
* NOISE: wakes at exponential intervals (mean ``ap[0]`` s); a market order
  with probability ``ap[1]``, else a limit order within ``ap[3]`` ticks of
  the far touch; size geometric with mean ``ap[2]``.
* VALUE: wakes at exponential intervals (mean ``ap[0]`` s), observes the
  fundamental with noise (sd ``ap[1]`` ticks), smooths its estimate (weight
  ``ap[2]``), and trades toward it when the estimate is more than ``ap[4]``
  ticks from the mid: at the far touch (taking) with probability ``ap[5]``,
  else one tick inside its own side; size and taking probability scale with
  the mispricing in units of ``ap[4]`` (capped at ``ap[6]``, 0 = no scaling).
  It keeps at most one resting order.  With ``ap[7] > 0`` it waits out
  turbulence: it acts at a wake with probability ``1 / (1 + (sigma /
  ap[7])**2)``, sigma the realized volatility of the mid (bps/sqrt(s),
  weighted over ``ap[8]`` s).
* MOMENTUM: wakes every ``ap[0]`` s; fast and slow EMAs of the mid (spans
  ``ap[1]``, ``ap[2]`` observations); a market order of ``ap[3]`` lots in
  the direction of the fast EMA when it leads by more than ``ap[4]`` bps.
* LADDER_MM: every ``ap[0]`` s cancels its quotes and posts ``ai[1]`` levels
  per side around the mid: half spread ``ap[1]`` bps, spacing ``ap[2]`` bps,
  ``ap[3]`` lots each, centre skewed by ``ap[5]`` bps per lot of inventory,
  a side withheld when inventory passes ``ap[6]`` lots.  With ``ap[7] > 0``
  the centre is ``(1 - ap[7]) * mid + ap[7] * reference``, the reference
  being the book's fundamental (an index / other venues' price): an
  arbitrageur quoting around the index with a finite inventory (``ap[6]``).
* GUARDED_MM: ``strategies.guarded_ladder.GuardedLadderMM`` with its risk
  controls, compiled (layout and windows in ``lob.sim.guarded``).
* LATENT: one latent trader of the latent order book (``decide_latent``):
  a hidden reservation price that diffuses, follows the news and is renewed,
  sending an IOC when the market reaches it.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..core import codes as C
from . import layout as L
from . import rng
from . import guarded as G
from .kernel import oracle_value, send, tape_asof


@njit(cache=True, _nrt=False)
def _view(W, a, now):
    """(bid, ask, last) of the agent's book as it saw it, ticks."""
    b = W.ai[a, 0]
    return tape_asof(W, b, now - W.agents[a, L.A_LAT_MD])


@njit(cache=True, _nrt=False)
def _ref_price(W, a, now, bid, ask, last):
    if bid > 0 and ask > 0:
        return 0.5 * (bid + ask)
    if last > 0:
        return float(last)
    b = W.ai[a, 0]
    v = oracle_value(W, W.books[b, L.BK_REF], now)
    if v > 0.0:
        return v
    return float(bid if bid > 0 else ask)


@njit(cache=True, _nrt=False)
def _size(W, a, mean):
    return 1 + rng.geometric0(W.arng, a, mean - 1.0)


@njit(cache=True, _nrt=False)
def _cancel_all(W, a, now):
    b = W.ai[a, 0]
    off = W.aloff[a]
    for k in range(W.alcnt[a]):
        send(W, a, now, C.CANCEL, b, 0, 0, 0, W.alist[off + k], 0)


@njit(cache=True, _nrt=False)
def _stress(W, a, now, bid, ask, col, horizon_s, ref_bps):
    """Realized-volatility stress factor ``1 + (sigma / ref_bps)**2`` of the
    agent's book, sigma the volatility of the mid in bps/sqrt(s): an
    exponentially weighted (``horizon_s``) sum of squared log returns (bps)
    between the agent's observations, divided by the horizon.  State in
    ``ast[a, col:col + 3]``: last mid (ticks), its time (ns), the variance
    rate (bps^2/s)."""
    if bid > 0 and ask > 0:
        mid = 0.5 * (bid + ask)
        if W.ast[a, col] > 0.0:
            r = math.log(mid / W.ast[a, col]) * 1e4
            W.ast[a, col + 2] = W.ast[a, col + 2] * math.exp(-(now - W.ast[a, col + 1]) * 1e-9 / horizon_s) \
                + r * r / horizon_s
        W.ast[a, col] = mid
        W.ast[a, col + 1] = float(now)
    return 1.0 + W.ast[a, col + 2] / (ref_bps * ref_bps)


@njit(cache=True, _nrt=False, inline="always")
def decide_zi(W, a, now):
    b = W.ai[a, 0]
    bid, ask, last = _view(W, a, now)
    lam_l = W.ap[a, 0]
    delta = W.ap[a, 2]
    if W.ap[a, 7] > 0.0:
        # liquidity withdrawal: fewer new limit orders, faster cancellations
        stress = _stress(W, a, now, bid, ask, np.int64(0), W.ap[a, 6], W.ap[a, 7])
        lam_l = lam_l / stress
        delta = delta * stress
    lam_m = W.ap[a, 1]
    if W.ap[a, 8] > 0.0:
        # activity feedback (self-excitation): every rate of the flow is
        # multiplied by 1 + (sigma / ap[9])**2, capped at ap[10] (0: no cap),
        # sigma the realized volatility of the mid over ap[8] s -- a time
        # change of the flow driven by its own recent volatility
        if W.ast[a, 6] < 1.0 or now - W.ast[a, 4] >= W.ap[a, 11] * 1e9:
            # the mid sampled every ap[11] s at most (coarse sampling: price
            # moves, not the bid-ask bounce of every event)
            W.ast[a, 6] = _stress(W, a, now, bid, ask, np.int64(3), W.ap[a, 8], W.ap[a, 9])
        act = W.ast[a, 6]
        if W.ap[a, 10] > 0.0 and act > W.ap[a, 10]:
            act = W.ap[a, 10]
        lam_l = lam_l * act
        lam_m = lam_m * act
        delta = delta * act
    n_live = W.alcnt[a]
    total = lam_l + lam_m + delta * n_live
    if total <= 0.0:
        return -1
    u = rng.uniform(W.arng, a) * total
    side = C.BUY if rng.uniform(W.arng, a) < 0.5 else C.SELL
    if u < lam_l:
        alpha = W.ap[a, 4]
        dmax = W.ap[a, 5]
        x = rng.uniform(W.arng, a)
        if abs(alpha - 1.0) < 1e-9:
            d = int(math.exp(x * math.log(dmax)))
        else:
            e = 1.0 - alpha
            d = int(((dmax ** e - 1.0) * x + 1.0) ** (1.0 / e))
        if d < 1:
            d = 1
        ref = _ref_price(W, a, now, bid, ask, last)
        if side == C.BUY:
            opp = ask if ask > 0 else int(ref) + 1
            px = opp - d
        else:
            opp = bid if bid > 0 else int(ref)
            px = opp + d
        if px >= 1:
            send(W, a, now, C.LIMIT, b, side, px, _size(W, a, W.ap[a, 3]), 0, 0)
    elif u < lam_l + lam_m:
        send(W, a, now, C.MARKET, b, side, 0, _size(W, a, W.ap[a, 3]), 0, 0)
    elif n_live > 0:
        k = rng.randint(W.arng, a, n_live)
        send(W, a, now, C.CANCEL, b, 0, 0, 0, W.alist[W.aloff[a] + k], 0)
    return now + 1 + int(rng.exponential(W.arng, a, 1e9 / total))


@njit(cache=True, _nrt=False, inline="always")
def decide_noise(W, a, now):
    b = W.ai[a, 0]
    bid, ask, last = _view(W, a, now)
    side = C.BUY if rng.uniform(W.arng, a) < 0.5 else C.SELL
    q = _size(W, a, W.ap[a, 2])
    if rng.uniform(W.arng, a) < W.ap[a, 1]:
        send(W, a, now, C.MARKET, b, side, 0, q, 0, 0)
    else:
        off = rng.randint(W.arng, a, int(W.ap[a, 3]) + 1)
        ref = _ref_price(W, a, now, bid, ask, last)
        if side == C.BUY:
            px = (ask if ask > 0 else int(ref)) - off
        else:
            px = (bid if bid > 0 else int(ref)) + off
        if px >= 1:
            send(W, a, now, C.LIMIT, b, side, px, q, 0, 0)
    if W.ap[a, 0] <= 0.0:
        return -1
    return now + 1 + int(rng.exponential(W.arng, a, W.ap[a, 0] * 1e9))


@njit(cache=True, _nrt=False, inline="always")
def decide_value(W, a, now):
    b = W.ai[a, 0]
    _cancel_all(W, a, now)
    bid, ask, last = _view(W, a, now)
    obs = oracle_value(W, W.books[b, L.BK_REF], now) + W.ap[a, 1] * rng.normal(W.arng, a)
    est = W.ast[a, 0]
    est = obs if est == 0.0 else est + W.ap[a, 2] * (obs - est)
    W.ast[a, 0] = est
    mid = _ref_price(W, a, now, bid, ask, last)
    if W.ap[a, 7] > 0.0:
        # a dip buyer does not catch a falling knife: it acts at a wake only
        # with probability 1 / stress (realized volatility, ``_stress``)
        if rng.uniform(W.arng, a) * _stress(W, a, now, bid, ask, np.int64(1), W.ap[a, 8], W.ap[a, 7]) > 1.0:
            return now + 1 + int(rng.exponential(W.arng, a, W.ap[a, 0] * 1e9))
    edge = W.ap[a, 4]
    # conviction grows with the mispricing: size scales with it (capped at
    # ap[6] times the base size), and so does the chance of taking
    gap = abs(est - mid) / edge if edge > 0.0 else 1.0
    scale = min(max(1.0, gap), max(1.0, W.ap[a, 6]))
    q = int(_size(W, a, W.ap[a, 3]) * scale)
    take = rng.uniform(W.arng, a) < min(1.0, W.ap[a, 5] * scale)
    if est > mid + edge:
        if take and ask > 0 and est > ask:
            send(W, a, now, C.LIMIT, b, C.BUY, ask, q, 0, 0)
        elif bid > 0:
            send(W, a, now, C.LIMIT, b, C.BUY, min(bid + 1, int(est)), q, 0, 0)
    elif est < mid - edge:
        if take and bid > 0 and est < bid:
            send(W, a, now, C.LIMIT, b, C.SELL, bid, q, 0, 0)
        elif ask > 0:
            send(W, a, now, C.LIMIT, b, C.SELL, max(ask - 1, int(est) + 1), q, 0, 0)
    return now + 1 + int(rng.exponential(W.arng, a, W.ap[a, 0] * 1e9))


@njit(cache=True, _nrt=False, inline="always")
def decide_momentum(W, a, now):
    b = W.ai[a, 0]
    bid, ask, last = _view(W, a, now)
    if bid > 0 and ask > 0:
        mid = 0.5 * (bid + ask)
        n = W.ast[a, 2]
        af = 2.0 / (W.ap[a, 1] + 1.0)
        asl = 2.0 / (W.ap[a, 2] + 1.0)
        if n == 0.0:
            W.ast[a, 0] = mid
            W.ast[a, 1] = mid
        else:
            W.ast[a, 0] += af * (mid - W.ast[a, 0])
            W.ast[a, 1] += asl * (mid - W.ast[a, 1])
        W.ast[a, 2] = n + 1.0
        if n + 1.0 >= W.ap[a, 2]:
            lead = (W.ast[a, 0] - W.ast[a, 1]) / W.ast[a, 1] * 1e4
            q = int(W.ap[a, 3])
            if lead > W.ap[a, 4]:
                send(W, a, now, C.MARKET, b, C.BUY, 0, q, 0, 0)
            elif lead < -W.ap[a, 4]:
                send(W, a, now, C.MARKET, b, C.SELL, 0, q, 0, 0)
    jit = rng.uniform(W.arng, a) * 0.1 * W.ap[a, 0]
    return now + int((W.ap[a, 0] + jit) * 1e9)


@njit(cache=True, _nrt=False, inline="always")
def decide_ladder_mm(W, a, now):
    b = W.ai[a, 0]
    _cancel_all(W, a, now)
    bid, ask, last = _view(W, a, now)
    # a market maker sees the book: the mid, else the last trade; with
    # ap[7] > 0 it centres on a blend with the reference (index) value
    mid = 0.5 * (bid + ask) if bid > 0 and ask > 0 else float(last)
    w = W.ap[a, 7]
    if w > 0.0:
        v = oracle_value(W, W.books[b, L.BK_REF], now)
        if v > 0.0:
            mid = v if mid <= 0.0 else (1.0 - w) * mid + w * v
    if mid > 0.0:
        acct = W.agents[a, L.A_ACCOUNT]
        lot = W.books[b, L.BK_LOT]
        inv = (W.bal[acct, W.books[b, L.BK_BASE]] // lot) - W.ai[a, 2]
        centre = mid * (1.0 - W.ap[a, 5] * inv * 1e-4)
        hs = W.ap[a, 1]
        sp = W.ap[a, 2]
        q = int(W.ap[a, 3])
        maxinv = W.ap[a, 6]
        for i in range(W.ai[a, 1]):
            d = (hs + i * sp) * 1e-4
            if inv < maxinv:
                px = int(math.floor(centre * (1.0 - d)))
                if px >= 1:
                    send(W, a, now, C.LIMIT, b, C.BUY, px, q, 0, 0)
            if inv > -maxinv:
                px = int(math.ceil(centre * (1.0 + d)))
                send(W, a, now, C.LIMIT, b, C.SELL, px, q, 0, 0)
    return now + int(W.ap[a, 0] * 1e9)


@njit(cache=True, _nrt=False, inline="always")
def decide_guarded_mm(W, a, now):
    """``strategies.guarded_ladder.GuardedLadderMM.on_wakeup``, compiled
    (layout in ``lob.sim.guarded``): the same operations in the same order."""
    b = W.ai[a, 0]
    _cancel_all(W, a, now)
    bid, ask, last = _view(W, a, now)
    mid = 0.5 * (bid + ask) if bid > 0 and ask > 0 else float(last)
    if mid > 0.0:
        acct = W.agents[a, L.A_ACCOUNT]
        base = W.bal[acct, W.books[b, L.BK_BASE]] / W.ap[a, G.P_APU_BASE]
        value = W.bal[acct, W.books[b, L.BK_QUOTE]] / W.ap[a, G.P_APU_QUOTE] + base * mid * W.ap[a, G.P_TICK]
        rng_bps, bought = G.observe(W, a, now, mid, value)
        inv = base / W.ap[a, G.P_LOT_UNITS] - W.ast[a, G.S_START_LOTS]
        bids, asks, widen = G.decide_controls(W, a, now, inv, rng_bps, bought)
        centre = mid * (1.0 - W.ap[a, G.P_SKEW] * inv * 1e-4)
        half = W.ap[a, G.P_HALF] * widen
        spacing = W.ap[a, G.P_SPACING]
        size = W.ai[a, G.I_SIZE]
        for i in range(W.ai[a, G.I_LEVELS]):
            off = (half + i * spacing) * 1e-4
            if bids:
                px = int(math.floor(centre * (1.0 - off)))
                if px >= 1:
                    send(W, a, now, C.LIMIT, b, C.BUY, px, size, 0, 0)
            if asks:
                send(W, a, now, C.LIMIT, b, C.SELL, int(math.ceil(centre * (1.0 + off))), size, 0, 0)
    return now + W.ai[a, G.I_STEP]


@njit(cache=True, _nrt=False, inline="always")
def decide_executor(W, a, now):
    """Works a parent order (a metaorder) as child market orders: a parent
    of ``ap[2] * U**(-1/ap[1])`` lots (Pareto, capped at ``ap[5]``) in a
    random direction, executed ``ap[4]`` lots every ``ap[3]`` s; between
    parents it waits an exponential time of mean ``ap[0]`` s.  State:
    ``ast[0]`` lots left, ``ast[1]`` side."""
    b = W.ai[a, 0]
    left = W.ast[a, 0]
    if left > 0.0:
        q = min(W.ap[a, 4], left)
        send(W, a, now, C.MARKET, b, int(W.ast[a, 1]), 0, int(q), 0, 0)
        W.ast[a, 0] = left - q
        if W.ast[a, 0] > 0.0:
            return now + int(W.ap[a, 3] * 1e9)
        return now + 1 + int(rng.exponential(W.arng, a, W.ap[a, 0] * 1e9))
    u = 1.0 - rng.uniform(W.arng, a)
    size = min(W.ap[a, 2] * u ** (-1.0 / W.ap[a, 1]), W.ap[a, 5])
    W.ast[a, 0] = float(int(size))
    W.ast[a, 1] = float(C.BUY if rng.uniform(W.arng, a) < 0.5 else C.SELL)
    return now + 1


@njit(cache=True, _nrt=False, inline="always")
def _latent_withdraw(W, a, now):
    """A latent trader's revealed order (``ast[4]``, its price; 0: none) cancelled."""
    if W.ast[a, 4] > 0.0:
        _cancel_all(W, a, now)
        W.ast[a, 4] = 0.0


@njit(cache=True, _nrt=False, inline="always")
def decide_latent(W, a, now):
    """A latent trader of the latent order book (Donier, Bonart,
    Mastromatteo & Bouchaud 2015): an intention to trade ``~ap[4]`` lots at a
    reservation price ``ast[0]`` (ticks).  At each wake (exponential
    intervals, mean ``ap[0]`` s) the reservation diffuses (``ap[1]``
    ticks/sqrt(s)) and moves with the news, ``ap[5]`` times the change of the
    book's fundamental since the last wake; with probability ``1 - exp(-ap[2]
    dt)`` the intention is renewed elsewhere.  A buyer whose reservation
    reaches the ask (a seller's the bid) sends an IOC limit at it and is
    renewed.  Within ``ap[6]`` ticks of the opposite best the intention is
    revealed: it rests a limit order at its reservation for what is left of
    the intention (re-posted when the reservation moves a tick), and is
    renewed once the whole intention has traded.
    A renewed trader is placed uniformly within ``ap[3]`` ticks of the mid,
    a buyer below it, a seller above.  Uniform deposits, diffusion and
    annihilation at the price make the latent density grow linearly with
    the distance from the price: the mechanism of the square-root impact
    law.  State: ``ast[0]`` reservation (0: none yet), ``ast[1]`` side,
    ``ast[2]`` the fundamental and ``ast[3]`` the time (ns) at the last wake,
    ``ast[4]`` the price of its resting order (0: none), ``ast[5]`` the lots
    of the intention not yet traded, ``ast[6]`` its holding (lots) at the
    last wake (fills since come off ``ast[5]``), ``ast[7]`` 1 right after a
    renewal."""
    b = W.ai[a, 0]
    bid, ask, last = _view(W, a, now)
    mid = _ref_price(W, a, now, bid, ask, last)
    f = oracle_value(W, W.books[b, L.BK_REF], now)
    r = W.ast[a, 0]
    renew = r == 0.0
    held = W.bal[W.agents[a, L.A_ACCOUNT], W.books[b, L.BK_BASE]] // W.books[b, L.BK_LOT]
    if not renew:
        # what its revealed order has filled since the last wake comes off the intention (after a
        # renewal, what the old one's IOC or last order did is not the new one's)
        filled = abs(held - int(W.ast[a, 6])) if W.ast[a, 7] == 0.0 else 0
        W.ast[a, 7] = 0.0
        W.ast[a, 5] -= filled
        if W.ast[a, 5] <= 0.0:
            renew = True                     # the whole intention has traded
        elif W.ast[a, 4] > 0.0 and W.alcnt[a] == 0:
            W.ast[a, 4] = 0.0                # its order is gone (filled in part, then cancelled): re-post
    if not renew:
        dt = (now - W.ast[a, 3]) * 1e-9
        r += W.ap[a, 1] * math.sqrt(dt) * rng.normal(W.arng, a)
        if f > 0.0 and W.ast[a, 2] > 0.0:
            r += W.ap[a, 5] * (f - W.ast[a, 2])
        q = int(W.ast[a, 5])
        buy = W.ast[a, 1] == C.BUY
        if rng.uniform(W.arng, a) < 1.0 - math.exp(-W.ap[a, 2] * dt):
            renew = True
        elif buy and ask > 0 and r >= ask:
            renew = True
            if W.ast[a, 4] == 0.0:
                send(W, a, now, C.IOC, b, C.BUY, int(r), q, 0, 0)
        elif not buy and bid > 0 and r <= bid:
            renew = True
            if W.ast[a, 4] == 0.0:
                px = int(math.ceil(r))
                send(W, a, now, C.IOC, b, C.SELL, px if px >= 1 else 1, q, 0, 0)
        else:
            # revealed within ap[6] ticks of the opposite best: rest at the reservation
            px = 0
            if buy and ask > 0 and ask - r <= W.ap[a, 6]:
                px = int(r)
            elif not buy and bid > 0 and r - bid <= W.ap[a, 6]:
                px = int(math.ceil(r))
            if px != int(W.ast[a, 4]):
                _latent_withdraw(W, a, now)
                if px >= 1:
                    send(W, a, now, C.LIMIT, b, C.BUY if buy else C.SELL, px, q, 0, 0)
                    W.ast[a, 4] = float(px)
    if renew:
        _latent_withdraw(W, a, now)
        if mid > 0.0:
            x = (2.0 * rng.uniform(W.arng, a) - 1.0) * W.ap[a, 3]
            r = mid + x
            W.ast[a, 1] = C.BUY if x < 0.0 else C.SELL
            W.ast[a, 5] = float(_size(W, a, W.ap[a, 4]))
            W.ast[a, 7] = 1.0
    W.ast[a, 6] = float(held)
    W.ast[a, 0] = r
    W.ast[a, 2] = f
    W.ast[a, 3] = float(now)
    return now + 1 + int(rng.exponential(W.arng, a, W.ap[a, 0] * 1e9))


@njit(cache=True, _nrt=False, inline="always")
def decide(W, a, now):
    """Dispatch agent ``a``'s wake-up to its kind; returns the next wake time."""
    k = W.agents[a, L.A_KIND]
    if k == L.KIND_ZI:
        return decide_zi(W, a, now)
    if k == L.KIND_NOISE:
        return decide_noise(W, a, now)
    if k == L.KIND_VALUE:
        return decide_value(W, a, now)
    if k == L.KIND_MOMENTUM:
        return decide_momentum(W, a, now)
    if k == L.KIND_LADDER_MM:
        return decide_ladder_mm(W, a, now)
    if k == L.KIND_EXECUTOR:
        return decide_executor(W, a, now)
    if k == L.KIND_LATENT:
        return decide_latent(W, a, now)
    if k == L.KIND_GUARDED_MM:
        return decide_guarded_mm(W, a, now)
    return -1
