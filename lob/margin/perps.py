"""Linear perpetual futures: fills, mark price, funding, isolated positions.

State (see :mod:`lob.margin.unified`): per account and perp market ``m``,
``perp_pos[i, m]`` (int64 signed contracts, one contract =
``cfg.contract_size[m]`` underlying units = one lot of the perp book) and
``perp_cost[i, m]`` (int64 signed entry notional in quote atoms, positive for
a long).  Prices of the perp (fills, mark, index) are in quote units per
underlying unit.

Exact conservation
------------------
:func:`perp_fill` moves one integer notional ``N = rint(qty * cs * price *
apu_quote)`` between the two sides; a reducing side releases
``rint(cost * closed / |pos|)`` of its cost (all of it when it closes) and
books ``realised = -sign(dq) * N_closing - released`` into its quote
balance.  Hence ``sum(quote balances) - sum(perp_cost)`` (plus the insurance
fund, see the risk engine) is invariant exactly, and it equals total wallet
plus unrealised PnL at any common mark since ``sum(pos) == 0``.

Binance's definitions (USD-margined perpetuals), as implemented
---------------------------------------------------------------
* premium index sample: ``(max(0, impact_bid - index) - max(0, index -
  impact_ask)) / index`` (impact prices: the average fill price of the
  impact notional on each side of the perp book; the caller computes them);
* average premium over a funding interval: weights ``1..n`` on the ``n``
  samples (later samples count more), ``sum(k * P_k) / sum(k)``;
* funding rate ``F = P + clamp(I - P, -0.05%, +0.05%)`` with interest
  ``I = 0.01%`` per 8 h, optionally capped at ``+-cap``;
* funding payment (every 8 h): ``position notional at mark * F``, longs pay
  shorts when ``F > 0``; :func:`settle_funding` makes it exactly zero-sum in
  atoms (payers pay their own rounded amount; the total is split among the
  receivers pro rata to contracts by cumulative rounding);
* mark price ``= median(index * (1 + F_last * time_to_funding / interval),
  index + MA(mid - index), last)`` with ``MA`` the mean of the last 30 basis
  samples (:class:`MarkPriceState`; the caller picks the sampling period:
  once a minute gives the 30-minute basis of Binance's original
  definition, every 5 s the 2.5-minute basis of its current FAQ).

Isolated and cross
------------------
A *cross* position is a perp column of a unified account row (its margin is
the whole account).  An *isolated* position is its own account row holding
only its allocated margin (in the quote asset) and one perp position: the
same valuation, risk engine and liquidation code apply, and the row's margin
ratio crosses 1 exactly at :func:`isolated_liq_price` (Binance's formula
``LP = (WB + cum - side * size * entry) / (size * mmr - side * size)`` with
the bracket's maintenance amount ``cum``).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .unified import V_RATIO, MarginConfig, value_one

FUNDING_INTERVAL_S = 8 * 3600
INTEREST_8H = 0.0001          # 0.01% per 8 h
FUNDING_CLAMP = 0.0005        # +-0.05%


# ----------------------------------------------------------------------
# fills
# ----------------------------------------------------------------------
@njit(cache=True)
def _perp_side(perp_pos, perp_cost, balances, i, m, dq, notional, quote):
    """Apply a signed change ``dq`` of contracts, worth ``notional`` quote
    atoms (>= 0), to account ``i``; returns the realised PnL (quote atoms)."""
    p0 = perp_pos[i, m]
    c0 = perp_cost[i, m]
    s = 1 if dq > 0 else -1
    if p0 == 0 or (p0 > 0) == (dq > 0):          # opening / adding
        perp_pos[i, m] = p0 + dq
        perp_cost[i, m] = c0 + s * notional
        return np.int64(0)
    a = abs(dq)
    ap = abs(p0)
    closed = min(a, ap)
    opened = a - closed
    if opened == 0:
        n_close = notional
    else:
        n_close = np.int64(np.rint(notional * (closed / a)))
    n_open = notional - n_close
    if closed == ap:
        released = c0
    else:
        released = np.int64(np.rint(c0 * (closed / ap)))
    realised = -s * n_close - released
    balances[i, quote] += realised
    perp_cost[i, m] = c0 - released + s * n_open
    perp_pos[i, m] = p0 + dq
    return realised


@njit(cache=True)
def perp_notional_atoms(cfg, m, qty, price):
    """Quote atoms of ``qty`` contracts at ``price`` (nearest atom)."""
    return np.int64(np.rint(qty * cfg.contract_size[m] * price * cfg.atoms_per_unit[cfg.quote]))


@njit(cache=True)
def perp_fill(cfg, perp_pos, perp_cost, balances, buyer, seller, m, qty, price):
    """``buyer`` buys ``qty > 0`` contracts of perp ``m`` from ``seller`` at
    ``price``.  Returns ``(notional_atoms, realised_buyer, realised_seller)``;
    realised PnL goes to each side's quote balance."""
    n = perp_notional_atoms(cfg, m, qty, price)
    q = cfg.quote
    rb = _perp_side(perp_pos, perp_cost, balances, buyer, m, qty, n, q)
    rs = _perp_side(perp_pos, perp_cost, balances, seller, m, -qty, n, q)
    return n, rb, rs


def entry_price(cfg: MarginConfig, pos, cost, m: int):
    """Entry price(s) (quote units per underlying unit) from ``pos``/``cost``
    (nan where flat)."""
    pos = np.asarray(pos, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pos != 0, np.asarray(cost, float)
                        / (pos * cfg.contract_size[m] * cfg.atoms_per_unit[cfg.quote]), np.nan)


# ----------------------------------------------------------------------
# premium, funding rate, mark price (Binance)
# ----------------------------------------------------------------------
def premium_index(impact_bid, impact_ask, index):
    """Binance's premium index sample (works on arrays)."""
    impact_bid, impact_ask, index = (np.asarray(x, float) for x in (impact_bid, impact_ask, index))
    return (np.maximum(0.0, impact_bid - index) - np.maximum(0.0, index - impact_ask)) / index


def average_premium(samples) -> float:
    """Weighted average of the premium samples of one interval, weights 1..n."""
    s = np.asarray(samples, float)
    if s.size == 0:
        return 0.0
    w = np.arange(1, s.size + 1, dtype=float)
    return float((w * s).sum() / w.sum())


def funding_rate(avg_premium, interest: float = INTEREST_8H, clamp: float = FUNDING_CLAMP,
                 cap: float = math.inf):
    """``F = P + clamp(I - P, -clamp, clamp)``, then capped at ``+-cap``."""
    p = np.asarray(avg_premium, float)
    f = p + np.clip(interest - p, -clamp, clamp)
    f = np.clip(f, -cap, cap)
    return float(f) if f.ndim == 0 else f


def mark_price(index, last_funding_rate, time_to_funding_s, basis_ma, last,
               interval_s: float = FUNDING_INTERVAL_S):
    """Binance's mark price: ``median(p1, p2, last)`` (arrays allowed) with
    ``p1 = index * (1 + F_last * time_to_funding / interval)`` and
    ``p2 = index + basis_ma``."""
    index = np.asarray(index, float)
    p1 = index * (1.0 + np.asarray(last_funding_rate, float) * (np.asarray(time_to_funding_s, float)
                                                                  / interval_s))
    p2 = index + np.asarray(basis_ma, float)
    p3 = np.asarray(last, float)
    # the median of three, as np.median gives it (the middle value; NaN if any is)
    m = np.maximum(np.minimum(p1, p2), np.minimum(np.maximum(p1, p2), p3))
    return float(m) if m.ndim == 0 else m


class MarkPriceState:
    """Per-perp running state for the mark price and the funding rate.

    * :meth:`sample_basis` once per sampling period (a minute, or 5 s):
      ``mid - index`` into a ``window``-sample ring (``basis_ma`` is the mean
      of the samples so far, at most ``window``);
    * :meth:`sample_premium` at the premium sampling period: accumulates the
      1..n weighted average of the interval;
    * :meth:`mark` gives the mark prices; :meth:`close_interval` returns the
      funding rates of the interval ending now (and remembers them as the
      ``last_funding_rate`` of the mark price), resetting the average.
    """

    def __init__(self, n_perps: int, window: int = 30, interest: float = INTEREST_8H,
                 clamp: float = FUNDING_CLAMP, cap: float = math.inf,
                 interval_s: float = FUNDING_INTERVAL_S):
        self.window = window
        self.ring = np.zeros((n_perps, window))
        self.n = 0
        self.head = 0
        self.wsum = np.zeros(n_perps)
        self.k = 0
        self.last_rate = np.zeros(n_perps)
        self.interest, self.clamp, self.cap, self.interval_s = interest, clamp, cap, interval_s

    def sample_basis(self, mid, index) -> None:
        self.ring[:, self.head] = np.asarray(mid, float) - np.asarray(index, float)
        self.head = (self.head + 1) % self.window
        self.n = min(self.n + 1, self.window)

    @property
    def basis_ma(self) -> np.ndarray:
        if self.n == 0:
            return np.zeros(self.ring.shape[0])
        if self.n < self.window:
            return self.ring[:, :self.n].mean(axis=1)
        return self.ring.mean(axis=1)

    def sample_premium(self, impact_bid, impact_ask, index) -> None:
        self.k += 1
        self.wsum += self.k * premium_index(impact_bid, impact_ask, index)

    @property
    def avg_premium(self) -> np.ndarray:
        if self.k == 0:
            return np.zeros(self.ring.shape[0])
        return self.wsum / (self.k * (self.k + 1) / 2)

    def mark(self, index, last, time_to_funding_s) -> np.ndarray:
        return np.atleast_1d(mark_price(index, self.last_rate, time_to_funding_s, self.basis_ma,
                                        last, self.interval_s))

    def close_interval(self) -> np.ndarray:
        rate = np.atleast_1d(funding_rate(self.avg_premium, self.interest, self.clamp, self.cap))
        self.last_rate = rate.copy()
        self.wsum[:] = 0.0
        self.k = 0
        return rate


# ----------------------------------------------------------------------
# funding settlement (exactly zero-sum)
# ----------------------------------------------------------------------
@njit(cache=True)
def settle_funding(cfg, perp_pos, balances, m, rate, mark, payments):
    """Pay one funding of perp ``m`` at ``rate`` (per interval) and ``mark``
    between all rows: when ``rate > 0`` each long pays
    ``rint(|pos| * cs * mark * |rate| * apu_quote)`` quote atoms and the shorts
    receive the total, split pro rata to contracts by cumulative rounding
    (``rate < 0``: the reverse).  ``payments[i]`` (int64, received > 0) is
    written; ``payments.sum() == 0`` exactly.  Returns the total paid."""
    n = perp_pos.shape[0]
    q = cfg.quote
    for i in range(n):
        payments[i] = 0
    if rate == 0.0:
        return np.int64(0)
    payer = 1 if rate > 0.0 else -1
    per_contract = cfg.contract_size[m] * mark * abs(rate) * cfg.atoms_per_unit[q]
    total = np.int64(0)
    recv = np.int64(0)
    for i in range(n):
        k = perp_pos[i, m]
        if k * payer > 0:
            total += np.int64(np.rint(abs(k) * per_contract))
        elif k != 0:
            recv += abs(k)
    if recv == 0 or total == 0:
        return np.int64(0)
    cum = np.int64(0)
    prev = np.int64(0)
    for i in range(n):
        k = perp_pos[i, m]
        if k * payer > 0:
            p = np.int64(np.rint(abs(k) * per_contract))
            payments[i] = -p
            balances[i, q] -= p
        elif k != 0:
            cum += abs(k)
            if cum == recv:
                tgt = total
            else:
                tgt = np.int64(np.floor(total * (cum / recv)))
            payments[i] = tgt - prev
            balances[i, q] += tgt - prev
            prev = tgt
    return total


# ----------------------------------------------------------------------
# isolated positions
# ----------------------------------------------------------------------
@njit(cache=True)
def isolated_liq_price(contracts, entry, margin, cs, bounds, mm_rates, pq):
    """Liquidation price (quote units) of an isolated position of signed
    ``contracts`` at ``entry`` with ``margin`` (quote units), contract size
    ``cs``, tiered maintenance rates ``mm_rates[U]`` on USD notional brackets
    ``bounds[U]`` (cumulative, last inf), quote worth ``pq`` USD: the mark at
    which ``margin + UPL == maintenance margin``.  0.0 for a long that cannot
    be liquidated; nan for a flat position."""
    if contracts == 0:
        return np.nan
    a = abs(contracts)
    lo = 0.0
    cum = 0.0       # maintenance amount of the bracket (USD): MM = r * n - cum
    acc = 0.0       # tiered MM at the bracket's lower bound
    for k in range(bounds.shape[0]):
        r = mm_rates[k]
        hi = bounds[k]
        cum = r * lo - acc
        p = (contracts * cs * entry - margin - cum / pq) / (cs * (contracts - r * a))
        n = a * cs * p * pq
        if contracts > 0 and p <= 0.0 and k == 0:
            return 0.0
        if n >= lo * (1 - 1e-12) and n <= hi * (1 + 1e-12):
            return max(p, 0.0)
        acc += r * (hi - lo)
        lo = hi
    return np.nan


@njit(cache=True)
def isolated_bankruptcy_price(contracts, entry, margin, cs):
    """The price at which ``margin + UPL == 0``."""
    return max(entry - margin / (contracts * cs), 0.0)


def cross_liq_price(cfg: MarginConfig, prices, mark, bal, pos, cost, m: int,
                    threshold: float = 1.0, iters: int = 200) -> float:
    """Mark price of perp ``m`` (others fixed) at which a unified account's
    margin ratio crosses ``threshold`` (bisection between 0 and 1e3 x mark,
    in the direction that hurts the position); nan if none."""
    mark = np.array(mark, float)
    bal, pos, cost = (np.asarray(x, np.int64) for x in (bal, pos, cost))
    prices = np.asarray(prices, float)
    k = int(pos[m])
    if k == 0:
        return math.nan

    def ratio(p):
        mark[m] = p
        return value_one(cfg, prices, mark, bal, pos, cost)[V_RATIO]

    m0 = float(mark[m])
    safe, bad = m0, (0.0 if k > 0 else m0 * 1e3)
    if ratio(safe) < threshold or ratio(bad) >= threshold:
        return math.nan
    for _ in range(iters):
        mid = 0.5 * (safe + bad)
        if mid in (safe, bad):
            break
        if ratio(mid) >= threshold:
            safe = mid
        else:
            bad = mid
    return safe


# ----------------------------------------------------------------------
# a population of leveraged long traders (isolated)
# ----------------------------------------------------------------------
LONG_DTYPE = np.dtype([
    ("contracts", np.int64),      # > 0
    ("cost", np.int64),           # entry notional, quote atoms
    ("entry", np.float64),        # quote units per underlying unit (= cost / (contracts cs apu))
    ("margin_atoms", np.int64),   # allocated isolated margin, quote atoms
    ("leverage", np.float64),     # notional / margin at entry
    ("notional", np.float64),     # quote units at entry
    ("liq_price", np.float64),    # isolated_liq_price
    ("bankruptcy_price", np.float64),
])


def leveraged_longs(rng: np.random.Generator, n: int, price: float, cfg: MarginConfig, m: int, *,
                    leverage_median: float = 10.0, leverage_sigma: float = 0.7,
                    max_leverage: float = 125.0, leverage_choices=None,
                    notional_median: float = 20_000.0, notional_sigma: float = 1.5,
                    entry_spread: float = 0.0, quote_usd: float = 1.0) -> np.ndarray:
    """``n`` isolated long positions on perp ``m`` (``LONG_DTYPE``).

    Leverage: lognormal with the given median and sigma, clipped to
    ``[1, max_leverage]``, or ``leverage_choices=(values, probs)``.
    Notional (quote units): lognormal (median, sigma).  Entry: ``price *
    exp(entry_spread * N(0, 1))``.  Every draw comes from ``rng``.
    Margin = notional / leverage (rounded to atoms); the liquidation price
    uses the perp's tiered maintenance rates."""
    if leverage_choices is not None:
        vals, probs = leverage_choices
        lev = rng.choice(np.asarray(vals, float), size=n, p=probs)
    else:
        lev = np.clip(leverage_median * np.exp(leverage_sigma * rng.standard_normal(n)),
                      1.0, max_leverage)
    notional = notional_median * np.exp(notional_sigma * rng.standard_normal(n))
    entry0 = price * np.exp(entry_spread * rng.standard_normal(n))
    cs = float(cfg.contract_size[m])
    apu_q = int(cfg.atoms_per_unit[cfg.quote])
    out = np.zeros(n, LONG_DTYPE)
    k = np.maximum(1, np.rint(notional / (cs * entry0))).astype(np.int64)
    cost = np.rint(k * cs * entry0 * apu_q).astype(np.int64)
    out["contracts"] = k
    out["cost"] = cost
    out["entry"] = cost / (k * cs * apu_q)
    out["notional"] = cost / apu_q
    out["margin_atoms"] = np.maximum(1, np.rint(cost / lev)).astype(np.int64)
    out["leverage"] = cost / out["margin_atoms"]
    mar = out["margin_atoms"] / apu_q
    bounds, mm = cfg.perp_bounds[m], cfg.perp_mm[m]
    for j in range(n):
        out["liq_price"][j] = isolated_liq_price(int(k[j]), float(out["entry"][j]), float(mar[j]),
                                                 cs, bounds, mm, quote_usd)
        out["bankruptcy_price"][j] = isolated_bankruptcy_price(int(k[j]), float(out["entry"][j]),
                                                               float(mar[j]), cs)
    return out


def isolated_rows(positions: np.ndarray, cfg: MarginConfig, m: int):
    """Account rows for isolated positions (``LONG_DTYPE`` or any array with
    ``contracts``, ``cost``, ``margin_atoms``): ``(balances, perp_pos,
    perp_cost)`` with the margin in the quote column and the position in
    column ``m``."""
    n = len(positions)
    bal = np.zeros((n, cfg.atoms_per_unit.shape[0]), np.int64)
    bal[:, cfg.quote] = positions["margin_atoms"]
    pos = np.zeros((n, cfg.contract_size.shape[0]), np.int64)
    cost = np.zeros_like(pos)
    pos[:, m] = positions["contracts"]
    cost[:, m] = positions["cost"]
    return bal, pos, cost
