"""State of the compiled guarded ladder market maker (``KIND_GUARDED_MM``).

The compiled twin of :class:`strategies.guarded_ladder.GuardedLadderMM` with
its :class:`strategies.risk_controls.RiskControls`: the same decisions, in
the same floating-point operations, so the two give identical fills for the
same scenario and seed (``tests/test_guarded_compiled.py``).  Its decision
function is ``agents.decide_guarded_mm``; this module holds its layout, the
windows (monotone deques as rings) and the hook the fill settlement calls.

Layout (set by :func:`configure` from a ``GuardedLadderConfig``):

* ``W.ap[a]``: half spread, spacing (bps), skew (bps per lot), lot units,
  the four trigger thresholds (drawdown bps, range bps, bought lots, margin
  ratio), re-entry (ns, float), widening per 100 bps, inventory limit
  (lots), tick (quote units), atoms per unit of the base and quote assets,
  the forced-sells threshold (lots) and the liquidation feed's time
  constant (ns; the venue's risk engine writes it);
* ``W.ai[a]``: book, levels, size (lots), offset of its block in
  ``W.gbuf``, refresh (ns), volatility window (ns), drawdown window (ns),
  pull all (1) or bids only (0);
* ``W.ast[a]``: start lots, start value (NaN: none yet), peak, last value,
  pulled since (NaN: quoting), last fire (NaN), lots bought in the window
  (with the fills not yet seen), pulls, first pull time (ns, NaN), first
  trigger (index in ``TRIGGERS``, -1), re-entries, margin ratio (the
  venue's risk engine writes it, ``inf`` without one), overflow flag,
  the liquidation feed of its book (forced sells, lots, decayed to the
  time of the last forced sell) and that time (ns); the risk engine writes
  both when it sends a forced sell on the book;
* ``W.gbuf[off:]``: a head of ring heads and counts, then four rings of
  ``(time ns, value)`` pairs: the window's high and low mids (monotone),
  the drawdown window's values (monotone), and the buy fills (time the
  agent learns of them, lots).

Times are stored as float64 (exact below 2**53 ns, 104 days).  The high /
low / value rings hold at most one entry per wake-up within their window,
so their capacity follows from the refresh; the buy ring holds
``BUY_CAP`` fills within ``window_s``.  A full ring sets the overflow flag
(the simulation then fails loudly at the end of the run).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import layout as L

TRIGGERS = ("drawdown", "volatility", "adverse_fills", "margin", "liquidations")
BUY_CAP = 4096

# W.ap columns
P_HALF, P_SPACING, P_SKEW, P_LOT_UNITS = 0, 1, 2, 3
P_MAX_DD, P_MAX_RANGE, P_MAX_BOUGHT, P_MIN_RATIO = 4, 5, 6, 7
P_REENTRY_NS, P_WIDEN, P_MAX_INV, P_TICK, P_APU_BASE, P_APU_QUOTE = 8, 9, 10, 11, 12, 13
P_MAX_FORCED, P_FEED_TAU_NS = 14, 15
# W.ai columns (0 is the book)
I_LEVELS, I_SIZE, I_OFF, I_STEP, I_W, I_WD, I_PULL_ALL = 1, 2, 3, 4, 5, 6, 7
# W.ast columns
S_START_LOTS, S_START_VALUE, S_PEAK, S_VALUE, S_PULLED, S_LAST_FIRE, S_BOUGHT = 0, 1, 2, 3, 4, 5, 6
S_PULLS, S_FIRST_PULL, S_FIRST_TRIG, S_REENTRIES, S_RATIO, S_OVERFLOW = 7, 8, 9, 10, 11, 12
S_FORCED, S_FORCED_T = 13, 14
FEED_TAU_S = 60.0      # the liquidation feed's time constant until a risk engine sets its own
# block head in W.gbuf
H_CAPW, H_CAPD, H_CAPB = 0, 1, 2
H_HI, H_LO, H_VAL, H_BUY = 3, 5, 7, 9      # (head, count) pairs
N_HEAD = 11


def windows_ns(cfg) -> tuple[int, int, int]:
    """(refresh, volatility window, drawdown window) of a ``GuardedLadderConfig``, ns."""
    step = int(cfg.refresh_s * 1e9)
    if step <= 0:
        raise ValueError("GuardedLadderConfig.refresh_s must be > 0 seconds")
    return step, int(cfg.risk.window_s * 1e9), int(cfg.risk.drawdown_window_s * 1e9)


def caps(cfg) -> tuple[int, int, int]:
    """Ring capacities: wake-ups within each window (plus slack), buy fills."""
    step, w, wd = windows_ns(cfg)
    return w // step + 4, wd // step + 4, BUY_CAP


def block_size(cfg) -> int:
    """Floats of one agent's block in ``W.gbuf``."""
    cw, cd, cb = caps(cfg)
    return N_HEAD + 2 * (2 * cw + cd + cb)


def configure(W, a: int, off: int, cfg, *, tick: float, apu_base: float, apu_quote: float,
              start_lots: float, lot_units: float = 1.0) -> None:
    """Write agent ``a``'s parameters (a ``GuardedLadderConfig``) and empty
    state; its block starts at ``W.gbuf[off]``."""
    r = cfg.risk
    step, w, wd = windows_ns(cfg)
    if apu_base <= 0 or apu_quote <= 0:
        raise ValueError("the compiled guarded market maker needs assets whose atom is 10**-k "
                         "(use the Python GuardedLadderMM)")
    W.ap[a, :16] = (cfg.half_spread_bps, cfg.spacing_bps, cfg.skew_bps_per_lot, lot_units,
                    r.max_drawdown_bps, r.max_range_bps, r.max_bought_lots, r.min_margin_ratio,
                    r.reentry_s * 1e9, r.widen_per_100bps, r.max_inventory_lots, tick, apu_base, apu_quote,
                    r.max_forced_lots, FEED_TAU_S * 1e9)
    W.ai[a, 1:8] = (cfg.levels, cfg.size, off, step, w, wd, 1 if r.pull == "all" else 0)
    W.ast[a, :15] = (start_lots, np.nan, -np.inf, 0.0, np.nan, np.nan, 0.0, 0, np.nan, -1, 0, np.inf, 0, 0.0, 0.0)
    cw, cd, cb = caps(cfg)
    W.gbuf[off:off + block_size(cfg)] = 0.0
    W.gbuf[off + H_CAPW] = cw
    W.gbuf[off + H_CAPD] = cd
    W.gbuf[off + H_CAPB] = cb


# ---------------------------------------------------------------- rings
# A ring is (head, count) at g[off + which], then (time ns, value) pairs.
# The helpers take the block (g, off) only: no world passed per call.
@njit(cache=True, _nrt=False, inline="always")
def _ring(g, off, which):
    """(start, capacity, head, count) of ring ``which`` (H_HI, H_LO, H_VAL, H_BUY)."""
    cw = int(g[off + H_CAPW])
    if which == H_HI:
        base, cap = off + N_HEAD, cw
    elif which == H_LO:
        base, cap = off + N_HEAD + 2 * cw, cw
    elif which == H_VAL:
        base, cap = off + N_HEAD + 4 * cw, int(g[off + H_CAPD])
    else:
        base, cap = off + N_HEAD + 4 * cw + 2 * int(g[off + H_CAPD]), int(g[off + H_CAPB])
    return base, cap, int(g[off + which]), int(g[off + which + 1])


@njit(cache=True, _nrt=False, inline="always")
def _append(g, off, which, t, x):
    """Append ``(t, x)`` at the right; False (nothing written) when full."""
    base, cap, h, n = _ring(g, off, which)
    if n >= cap:
        return False
    j = base + 2 * ((h + n) % cap)
    g[j] = t
    g[j + 1] = x
    g[off + which + 1] = n + 1
    return True


@njit(cache=True, _nrt=False)
def _push_monotone(g, off, which, t, x, keep_greater):
    """Append ``(t, x)`` after popping from the right the entries it dominates
    (``keep_greater``: entries ``<= x`` leave, the left end is the maximum;
    else entries ``>= x`` leave, the left end is the minimum).  False when
    the ring is full."""
    base, cap, h, n = _ring(g, off, which)
    while n > 0:
        y = g[base + 2 * ((h + n - 1) % cap) + 1]
        if (keep_greater and y <= x) or (not keep_greater and y >= x):
            n -= 1
        else:
            break
    g[off + which + 1] = n
    return _append(g, off, which, t, x)


@njit(cache=True, _nrt=False)
def _cut(g, off, which, cut):
    """Drop entries older than ``cut`` (ns) from the left; returns the sum
    of the values dropped."""
    base, cap, h, n = _ring(g, off, which)
    gone = 0.0
    while n > 0 and g[base + 2 * h] < cut:
        gone += g[base + 2 * h + 1]
        h = (h + 1) % cap
        n -= 1
    g[off + which] = h
    g[off + which + 1] = n
    return gone


@njit(cache=True, _nrt=False, inline="always")
def _left(g, off, which):
    """Value at the left end of a non-empty ring."""
    base, cap, h, n = _ring(g, off, which)
    return g[base + 2 * h + 1]


@njit(cache=True, _nrt=False)
def _unseen(g, off, now):
    """Lots of the buys the agent learns of at or after ``now`` (not yet seen:
    a Python strategy is told of them by a later event)."""
    base, cap, h, n = _ring(g, off, H_BUY)
    s = 0.0
    for i in range(n - 1, -1, -1):
        j = base + 2 * ((h + i) % cap)
        if g[j] < now:
            break
        s += g[j + 1]
    return s


@njit(cache=True, _nrt=False)
def record_buy(W, a, t_local, lots):
    """The fill settlement's hook: agent ``a`` bought ``lots`` and learns of it
    at its local time ``t_local`` (ns)."""
    if _append(W.gbuf, W.ai[a, I_OFF], H_BUY, t_local, lots):
        W.ast[a, S_BOUGHT] += lots
    else:
        W.ast[a, S_OVERFLOW] = 1.0


@njit(cache=True, _nrt=False)
def observe(W, a, now, mid, value):
    """``RiskControls.observe`` then ``range_bps``: returns (range bps, lots
    bought in the window)."""
    g, off, t = W.gbuf, W.ai[a, I_OFF], float(now)
    c = now - W.ai[a, I_W]
    ok = _push_monotone(g, off, H_HI, t, mid, True)
    ok &= _push_monotone(g, off, H_LO, t, mid, False)
    _cut(g, off, H_HI, c)
    _cut(g, off, H_LO, c)
    W.ast[a, S_BOUGHT] -= _cut(g, off, H_BUY, c)
    if W.ast[a, S_START_VALUE] != W.ast[a, S_START_VALUE]:     # NaN: the first observation
        W.ast[a, S_START_VALUE] = value
    ok &= _push_monotone(g, off, H_VAL, t, value, True)
    _cut(g, off, H_VAL, now - W.ai[a, I_WD])
    if not ok:
        W.ast[a, S_OVERFLOW] = 1.0
    W.ast[a, S_PEAK] = _left(g, off, H_VAL)
    W.ast[a, S_VALUE] = value
    hi = _left(g, off, H_HI)
    lo = _left(g, off, H_LO)
    rng = (hi - lo) / hi * 1e4 if hi > 0 else 0.0
    return rng, W.ast[a, S_BOUGHT] - _unseen(g, off, now)


@njit(cache=True, _nrt=False)
def decide_controls(W, a, now, inv, rng, bought):
    """``RiskControls.decide``: returns (bids, asks, widen)."""
    ratio = W.ast[a, S_RATIO]
    sv = W.ast[a, S_START_VALUE]
    trig = -1
    if sv != 0.0 and sv > 0 and (W.ast[a, S_PEAK] - W.ast[a, S_VALUE]) / sv * 1e4 > W.ap[a, P_MAX_DD]:
        trig = 0
    elif rng > W.ap[a, P_MAX_RANGE]:
        trig = 1
    elif bought > W.ap[a, P_MAX_BOUGHT]:
        trig = 2
    elif ratio < W.ap[a, P_MIN_RATIO]:
        trig = 3
    elif W.ast[a, S_FORCED] > 0.0 and \
            W.ast[a, S_FORCED] * math.exp(-(now - W.ast[a, S_FORCED_T]) / W.ap[a, P_FEED_TAU_NS]) > W.ap[a, P_MAX_FORCED]:
        trig = 4
    pulled_since = W.ast[a, S_PULLED]
    if trig >= 0:
        W.ast[a, S_LAST_FIRE] = now
        if pulled_since != pulled_since:
            W.ast[a, S_PULLED] = now
            if W.ast[a, S_PULLS] == 0:
                W.ast[a, S_FIRST_PULL] = now
                W.ast[a, S_FIRST_TRIG] = trig
            W.ast[a, S_PULLS] += 1
    elif pulled_since == pulled_since and float(now - int(W.ast[a, S_LAST_FIRE])) >= W.ap[a, P_REENTRY_NS]:
        W.ast[a, S_PULLED] = np.nan
        W.ast[a, S_REENTRIES] += 1
        # the drawdown is measured afresh after re-entry
        g, off = W.gbuf, W.ai[a, I_OFF]
        g[off + H_VAL] = 0
        g[off + H_VAL + 1] = 0
        _append(g, off, H_VAL, float(now), W.ast[a, S_VALUE])
        W.ast[a, S_PEAK] = W.ast[a, S_VALUE]
    pulled = W.ast[a, S_PULLED] == W.ast[a, S_PULLED]
    mx = W.ap[a, P_MAX_INV]
    bids = (not pulled) and inv < mx
    asks = (not (pulled and W.ai[a, I_PULL_ALL] == 1)) and inv > -mx
    widen = 1.0 + W.ap[a, P_WIDEN] * rng / 100.0
    return bids, asks, widen


def summary(W, a: int) -> dict:
    """The agent's pull record, as ``market_makers`` reports it."""
    s = W.ast[a]
    n = int(s[S_PULLS])
    return dict(first_pull_ns=float(s[S_FIRST_PULL]) if n else None,
                trigger=TRIGGERS[int(s[S_FIRST_TRIG])] if n else None, pulls=n,
                reentries=int(s[S_REENTRIES]), overflow=bool(s[S_OVERFLOW]))


__all__ = ["TRIGGERS", "BUY_CAP", "configure", "windows_ns", "caps", "block_size", "observe", "decide_controls",
           "record_buy", "summary", "L", "math"]
