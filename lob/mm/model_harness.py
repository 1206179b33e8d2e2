"""The model-based market-making harness of Avellaneda & Stoikov (2008), sec. 3.3.

No order book here: the mid-price is a binomial random walk and market
orders arrive at the agent's quotes as Poisson processes whose intensity
decays with the quote's distance from the mid.  Per step of length ``dt``:

* the strategy quotes ``(bid, ask) = strategy.quotes(t, S_t, q_t)`` (or,
  when the strategy has one, ``strategy.quotes_vec(t, S_array, q_array)``
  for all paths at once);
* the mid moves ``S_{t+dt} = S_t +/- sigma sqrt(dt)``, each sign with
  probability 1/2 (``price_step="binomial"``, the paper's), or by a
  normal increment of the same variance (``price_step="gaussian"``);
* the bid is hit with probability ``min(1, A exp(-k delta_b) dt)`` and the
  ask lifted with probability ``min(1, A exp(-k delta_a) dt)``,
  independently; a fill moves the inventory by ``fill_size`` (1 in the
  paper) and the cash by the quote price times that size.

The terminal profit is ``cash_T + q_T S_T`` (inventory marked at the final
mid, no liquidation cost).

Fill timing
-----------
The paper's description does not pin down *which* mid the distances
``delta_b = S - bid`` and ``delta_a = ask - S`` are measured from; two
readings are possible, and they differ at the precision of the paper's
tables.  ``fill_timing`` chooses:

``"before_move"``
    fills are tested against the mid the quotes were computed from
    (``S = S_t``), before the step's price move.  Fill events are then
    independent of the move: no adverse selection, and the expected
    spread capture is exactly ``sum A exp(-k delta) delta dt``.

``"after_move"`` (default; the one that matches the paper)
    the quotes are posted from ``S_t``, the mid moves, and the fills are
    tested against the new mid (``S = S_{t+dt}``): a bid is more likely to
    be hit after a down-move, which is also when it is worth less.  This is
    the order of the paper's own description (quotes at ``t``, state
    updated at ``t + dt``) and it gives a small adverse-selection cost of
    about ``1 - E[f(delta +/- sigma sqrt(dt))]/f(delta)``, ``f(x) = x e^{-kx}``
    (~2.5% of the spread income at the paper's parameters).

In both the fill price is the quote the strategy posted (not the quote
re-centred on the new mid: re-centring would make ``"after_move"``
identical in law to ``"before_move"``).  Quotes on the far side of the mid
(``delta < 0``, which the inventory strategy produces at large inventory)
fill with probability ``min(1, A e^{-k delta} dt)`` at the quote price.
A non-finite quote (NaN, +-inf) means "no quote on that side".

Randomness: one explicit ``numpy.random.Generator``; per step one block of
three uniforms per path (price sign, bid fill, ask fill) in a fixed order,
so two strategies run with equal seeds see the same price paths and the
same fill uniforms (common random numbers).  No global seeding anywhere.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

__all__ = ["FILL_TIMINGS", "PRICE_STEPS", "ModelParams", "SimResult", "Quoter", "simulate"]

FILL_TIMINGS = ("before_move", "after_move")
PRICE_STEPS = ("binomial", "gaussian")


class Quoter(Protocol):
    def quotes(self, t: float, mid: float, inventory: float) -> tuple[float, float]: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelParams:
    """The simulated market (paper sec. 3.3 defaults).

    s0:          initial mid-price, price units.
    T:           horizon, time units; the run has ``round(T/dt)`` steps.
    sigma:       mid volatility, price units / sqrt(time); each step moves
                 the mid by ``+/- sigma sqrt(dt)``.
    dt:          step length, time units.
    A:           order-arrival intensity at zero distance, 1/time.
    k:           intensity decay, 1/price units: ``lambda(d) = A exp(-k d)``.
    q0:          initial inventory, asset units.
    fill_size:   inventory change per fill, asset units.
    fill_timing: ``"after_move"`` or ``"before_move"`` (module docstring).
    price_step:  ``"binomial"`` (the paper) or ``"gaussian"``.
    """

    s0: float = 100.0
    T: float = 1.0
    sigma: float = 2.0
    dt: float = 0.005
    A: float = 140.0
    k: float = 1.5
    q0: float = 0.0
    fill_size: float = 1.0
    fill_timing: str = "after_move"
    price_step: str = "binomial"

    def __post_init__(self):
        if self.fill_timing not in FILL_TIMINGS:
            raise ValueError(f"fill_timing must be one of {FILL_TIMINGS}, got {self.fill_timing!r}")
        if self.price_step not in PRICE_STEPS:
            raise ValueError(f"price_step must be one of {PRICE_STEPS}, got {self.price_step!r}")
        for name in ("T", "dt", "A", "k", "fill_size"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be finite and > 0, got {v!r}")
        if not (math.isfinite(self.sigma) and self.sigma >= 0):
            raise ValueError(f"sigma must be finite and >= 0, got {self.sigma!r}")
        n = self.T / self.dt
        if abs(n - round(n)) > 1e-9 * max(1.0, n):
            raise ValueError(f"T/dt must be an integer number of steps, got {n!r}")

    @property
    def n_steps(self) -> int:
        return int(round(self.T / self.dt))


@dataclass(slots=True)
class SimResult:
    """Per-path outcomes of :func:`simulate` (arrays of length ``n_paths``).

    profit:      ``cash_T + q_T S_T``, price units (P&L from zero cash).
    final_q:     terminal inventory, asset units.
    final_s:     terminal mid, price units.
    mean_spread: time-average over the steps of the quoted ``ask - bid``
                 (price units; steps with a missing quote are skipped).
    n_bid_fills, n_ask_fills: fills on each side.
    """

    profit: np.ndarray
    final_q: np.ndarray
    final_s: np.ndarray
    mean_spread: np.ndarray
    n_bid_fills: np.ndarray
    n_ask_fills: np.ndarray
    params: ModelParams
    strategy: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_paths(self) -> int:
        return int(self.profit.shape[0])

    def summary(self) -> dict[str, float]:
        """Means, sample standard deviations (ddof=1) and standard errors of
        the mean of profit and final inventory, and the mean spread."""
        n = self.n_paths
        out: dict[str, float] = {"n_paths": n}
        for name, x in (("profit", self.profit), ("final_q", self.final_q)):
            m = float(np.mean(x))
            sd = float(np.std(x, ddof=1)) if n > 1 else float("nan")
            out[f"{name}_mean"] = m
            out[f"{name}_std"] = sd
            out[f"{name}_se"] = sd / math.sqrt(n) if n > 1 else float("nan")
        out["spread_mean"] = float(np.nanmean(self.mean_spread))
        out["fills_mean"] = float(np.mean(self.n_bid_fills + self.n_ask_fills))
        return out


def _quote_all(strategy, t: float, s: np.ndarray, q: np.ndarray):
    vec = getattr(strategy, "quotes_vec", None)
    if vec is not None:
        bid, ask = vec(t, s, q)
        return (np.broadcast_to(np.asarray(bid, dtype=float), s.shape),
                np.broadcast_to(np.asarray(ask, dtype=float), s.shape))
    bid = np.empty_like(s)
    ask = np.empty_like(s)
    for j in range(s.shape[0]):
        bid[j], ask[j] = strategy.quotes(t, float(s[j]), float(q[j]))
    return bid, ask


# exp(-k delta) is clipped here: beyond it the fill probability is 1 anyway
_MAX_EXPONENT = 50.0


def _fill_prob(A: float, k: float, delta: np.ndarray, dt: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        x = np.minimum(-k * delta, _MAX_EXPONENT)
        p = np.minimum(A * np.exp(x) * dt, 1.0)
    return np.where(np.isfinite(delta), p, 0.0)


def simulate(strategy: Quoter, params: ModelParams | None = None, *, n_paths: int,
             rng: np.random.Generator, record_paths: bool = False) -> SimResult:
    """Run ``n_paths`` independent paths of the model market with ``strategy``.

    ``strategy`` is any object with ``quotes(t, mid, inventory) -> (bid,
    ask)`` (prices, price units); its ``quotes_vec`` is used when present.
    ``rng`` must be a ``numpy.random.Generator`` (seed it yourself:
    ``np.random.default_rng(seed)``).  With ``record_paths`` the mid,
    inventory, bid, ask and fill flags of every step are kept in
    ``result.extra`` (``mid``, ``inventory``: shape ``(n_steps + 1,
    n_paths)``; ``bid``, ``ask``, ``bid_fill``, ``ask_fill``: ``(n_steps,
    n_paths)``).
    """
    p = ModelParams() if params is None else params
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    n_paths = int(n_paths)
    if n_paths < 1:
        raise ValueError("n_paths must be >= 1")
    n_steps = p.n_steps
    step = p.sigma * math.sqrt(p.dt)
    after = p.fill_timing == "after_move"

    s = np.full(n_paths, float(p.s0))
    q = np.full(n_paths, float(p.q0))
    cash = np.zeros(n_paths)
    spread_sum = np.zeros(n_paths)
    spread_cnt = np.zeros(n_paths)
    nb = np.zeros(n_paths, dtype=np.int64)
    na = np.zeros(n_paths, dtype=np.int64)
    rec = {}
    if record_paths:
        rec = {"mid": np.empty((n_steps + 1, n_paths)), "inventory": np.empty((n_steps + 1, n_paths)),
               "bid": np.empty((n_steps, n_paths)), "ask": np.empty((n_steps, n_paths)),
               "bid_fill": np.empty((n_steps, n_paths), dtype=bool),
               "ask_fill": np.empty((n_steps, n_paths), dtype=bool)}
        rec["mid"][0] = s
        rec["inventory"][0] = q

    for i in range(n_steps):
        t = i * p.dt
        bid, ask = _quote_all(strategy, t, s, q)
        u = rng.random((3, n_paths))
        if p.price_step == "binomial":
            move = np.where(u[0] < 0.5, step, -step)
        else:
            # the gaussian increment comes from the same uniform (inverse cdf
            # via the generator would break the fixed 3-uniform layout)
            move = step * _norm_ppf(u[0])
        s_new = s + move
        ref = s_new if after else s
        pb = _fill_prob(p.A, p.k, ref - bid, p.dt)
        pa = _fill_prob(p.A, p.k, ask - ref, p.dt)
        hit_b = u[1] < pb
        hit_a = u[2] < pa
        dq = p.fill_size * (hit_b.astype(float) - hit_a.astype(float))
        cash -= np.where(hit_b, bid, 0.0) * p.fill_size
        cash += np.where(hit_a, ask, 0.0) * p.fill_size
        q += dq
        nb += hit_b
        na += hit_a
        sp = ask - bid
        ok = np.isfinite(sp)
        spread_sum += np.where(ok, sp, 0.0)
        spread_cnt += ok
        s = s_new
        if record_paths:
            rec["mid"][i + 1] = s
            rec["inventory"][i + 1] = q
            rec["bid"][i] = bid
            rec["ask"][i] = ask
            rec["bid_fill"][i] = hit_b
            rec["ask_fill"][i] = hit_a

    with np.errstate(invalid="ignore", divide="ignore"):
        mean_spread = spread_sum / spread_cnt
    return SimResult(profit=cash + q * s, final_q=q, final_s=s, mean_spread=mean_spread,
                     n_bid_fills=nb, n_ask_fills=na, params=p,
                     strategy=getattr(strategy, "name", type(strategy).__name__), extra=rec)


def _norm_ppf(u: np.ndarray) -> np.ndarray:
    """Standard normal quantile (Acklam's rational approximation, relative
    error < 1.2e-9), vectorized; ``u`` in (0, 1)."""
    u = np.clip(u, 1e-300, 1 - 1e-16)
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549671010739435e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
         3.754408661907416e+00)
    lo = 0.02425
    out = np.empty_like(u)
    m = (u >= lo) & (u <= 1 - lo)
    x = u[m] - 0.5
    r = x * x
    out[m] = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * x /
              (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1))
    for mask, sign in ((u < lo, 1.0), (u > 1 - lo, -1.0)):
        uu = u[mask] if sign > 0 else 1 - u[mask]
        z = np.sqrt(-2 * np.log(uu))
        out[mask] = sign * ((((((c[0] * z + c[1]) * z + c[2]) * z + c[3]) * z + c[4]) * z + c[5]) /
                            ((((d[0] * z + d[1]) * z + d[2]) * z + d[3]) * z + 1))
    return out
