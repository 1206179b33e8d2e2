"""Price impact of metaorders and the square-root law.

A *metaorder* is a large order one agent executes in one direction as a
sequence of child trades over a time window.  Its peak impact is, across
markets and eras (Torre 1997; Almgren et al. 2005; Toth et al. 2011;
Bouchaud, Bonart, Donier and Gould 2018, ch. 12),

    I = Y * sigma_D * (Q / V_D) ** delta,    delta ~ 0.5,

with ``Q`` the metaorder size, ``V_D`` the daily volume (or the market's
volume during the metaorder), ``sigma_D`` the daily volatility and ``Y`` a
prefactor of order 1.

* :func:`identify_metaorders` groups the fills of each agent into
  metaorders (consecutive same-side child trades);
* :func:`metaorder_impact` measures ``Q``, ``V`` and the impact
  ``I = sign * (mid_end - mid_start) / mid_start`` of each metaorder;
* :func:`fit_square_root_law` fits ``delta`` (and ``Y``) by log-log least
  squares on size bins with a bootstrap interval over metaorders.

Units: timestamps int64 **ns**, sizes and volumes in any one unit (lots,
contracts, shares), prices in any one unit, impact and volatility as
relative price changes (dimensionless; 0.01 = 1%).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lob.analysis.stylized import bar_returns, duration_ns

__all__ = ["METAORDER_DTYPE", "IMPACT_DTYPE", "identify_metaorders", "child_trades_from_fills",
           "metaorder_impact", "fit_square_root_law", "ImpactFit", "daily_volatility",
           "engine_side_to_sign"]

#: one metaorder: the agent, its direction (+1 buy, -1 sell), first and last
#: child trade (ns), total size ``q`` and number of child trades
METAORDER_DTYPE = np.dtype([("agent", np.int64), ("sign", np.int8), ("t_start_ns", np.int64),
                            ("t_end_ns", np.int64), ("q", np.float64), ("n_fills", np.int64)])

#: :data:`METAORDER_DTYPE` plus the market volume ``v`` over the window (or
#: the daily volume), ``eta = q / v``, the mids before and after, the impact
#: ``sign * (mid_end / mid_start - 1)`` and the impact in units of the daily
#: volatility
IMPACT_DTYPE = np.dtype(METAORDER_DTYPE.descr + [("v", np.float64), ("eta", np.float64),
                                                 ("mid_start", np.float64), ("mid_end", np.float64),
                                                 ("impact", np.float64), ("impact_sigma", np.float64)])


def engine_side_to_sign(side) -> np.ndarray:
    """Engine side codes (``lob.core.codes``: BUY = 0, SELL = 1) to signs
    (+1 buy, -1 sell)."""
    s = np.asarray(side)
    if not np.isin(s, (0, 1)).all():
        raise ValueError("engine sides must be 0 (BUY) or 1 (SELL)")
    return np.where(s == 0, 1, -1).astype(np.int8)


def child_trades_from_fills(fills, role: str = "taker", book: int | None = None) -> dict:
    """The child trades of every account from engine fills
    (``lob.core.codes.FILL_DTYPE`` rows).

    ``role``: ``"taker"`` (the account that sent the aggressive order;
    direction = ``taker_side``), ``"maker"`` (the resting order's account;
    direction opposite to the taker's) or ``"both"``.  ``book``: keep only
    that book.  Returns a dict of equal-length arrays ``agent, sign, ts_ns,
    qty, price`` in time order (stable), ready for :func:`identify_metaorders`.
    """
    f = np.asarray(fills)
    if book is not None:
        f = f[f["book"] == book]
    tsign = engine_side_to_sign(f["taker_side"])
    parts = []
    if role in ("taker", "both"):
        parts.append((f["taker_account"], tsign, f["ts"], f["qty"], f["price"]))
    if role in ("maker", "both"):
        parts.append((f["maker_account"], -tsign, f["ts"], f["qty"], f["price"]))
    if not parts:
        raise ValueError(f"role must be 'taker', 'maker' or 'both', not {role!r}")
    agent, sign, ts, qty, price = (np.concatenate([p[j] for p in parts]) for j in range(5))
    order = np.argsort(ts, kind="stable")
    return {"agent": agent[order].astype(np.int64), "sign": sign[order].astype(np.int8),
            "ts_ns": ts[order].astype(np.int64), "qty": qty[order].astype(np.float64),
            "price": price[order].astype(np.float64)}


def identify_metaorders(agent, sign, ts_ns, qty=None, max_gap_ns=None, min_fills: int = 1):
    """Group child trades into metaorders: for each agent, in time order,
    consecutive trades of the same sign form one metaorder; a change of sign
    (or, with ``max_gap_ns``, a pause longer than that many ns between two
    child trades) starts a new one.

    ``agent``: int ids; ``sign``: +1 (buy) / -1 (sell) per trade (see
    :func:`engine_side_to_sign`); ``ts_ns``: int64 ns; ``qty``: sizes
    (default 1 per trade).  Metaorders with fewer than ``min_fills`` child
    trades are dropped (their trades get label -1).

    Returns ``(labels, metaorders)``: ``labels[i]`` is the row of
    ``metaorders`` (a :data:`METAORDER_DTYPE` array sorted by start time,
    then agent) that trade ``i`` belongs to.
    """
    ag = np.asarray(agent).astype(np.int64, copy=False)
    sg = np.asarray(sign)
    ts = np.asarray(ts_ns)
    n = len(ag)
    if len(sg) != n or len(ts) != n:
        raise ValueError(f"agent, sign and ts_ns must have equal lengths ({n}, {len(sg)}, {len(ts)})")
    q = np.ones(n) if qty is None else np.asarray(qty, dtype=np.float64)
    if len(q) != n:
        raise ValueError(f"qty has {len(q)} rows, expected {n}")
    bad = np.flatnonzero((sg != 1) & (sg != -1))
    if len(bad):
        raise ValueError(f"sign must be +1 or -1; sign[{bad[0]}] = {sg[bad[0]]!r} "
                         "(engine sides 0/1: use engine_side_to_sign)")
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, METAORDER_DTYPE)
    ts = ts.astype(np.int64, copy=False)
    order = np.lexsort((ts, ag))                     # by agent, then time (stable)
    a, s, t, qq = ag[order], sg[order].astype(np.int8), ts[order], q[order]
    new = np.ones(n, bool)
    new[1:] = (a[1:] != a[:-1]) | (s[1:] != s[:-1])
    if max_gap_ns is not None:
        new[1:] |= (t[1:] - t[:-1]) > int(max_gap_ns)
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], n] - 1
    group = np.cumsum(new) - 1                      # group of each sorted trade
    counts = ends - starts + 1
    metas = np.empty(len(starts), METAORDER_DTYPE)
    metas["agent"] = a[starts]
    metas["sign"] = s[starts]
    metas["t_start_ns"] = t[starts]
    metas["t_end_ns"] = t[ends]
    metas["q"] = np.add.reduceat(qq, starts)
    metas["n_fills"] = counts
    keep = counts >= int(min_fills)
    # renumber the kept groups by start time, then agent
    kept = np.flatnonzero(keep)
    rank = np.lexsort((metas["agent"][kept], metas["t_start_ns"][kept]))
    new_id = np.full(len(starts), -1, np.int64)
    new_id[kept[rank]] = np.arange(len(kept))
    labels = np.empty(n, np.int64)
    labels[order] = new_id[group]
    return labels, metas[kept[rank]]


def metaorder_impact(metaorders, mid_ts_ns, mid, trade_ts_ns=None, trade_qty=None, daily_volume=None,
                     sigma_d=None, end_lag_ns: int = 0) -> np.ndarray:
    """Size, market volume and impact of each metaorder.

    ``mid_ts_ns``/``mid``: the mid-price series (int64 ns, non-decreasing).
    ``mid_start`` is the last mid strictly before the first child trade,
    ``mid_end`` the last mid at or before the last one plus ``end_lag_ns``;
    NaN when there is none.  The impact is ``sign * (mid_end - mid_start) /
    mid_start``.  With a mid updated at every book event (a row at the
    trade's own timestamp), ``end_lag_ns = 0`` includes the last child's
    effect; with a *sampled* mid (periodic snapshots) the last sample at or
    before the last child precedes it, and the impact measured is that of
    all children but the last -- a size-dependent bias (``Q - q_child``
    instead of ``Q``) that makes small metaorders' impact look convex on a
    log-log plot.  Pass the sampling interval as ``end_lag_ns`` then (the
    first sample after the last child; the volume window is unchanged).

    Volume ``v``: ``daily_volume`` (a scalar or one per metaorder) when
    given, else the sum of ``trade_qty`` over the market trades with
    ``t_start <= trade_ts <= t_end`` (the metaorder's own trades included,
    when the tape holds them).  ``eta = q / v`` (NaN when ``v <= 0``).
    ``sigma_d``: daily volatility (scalar or per metaorder, relative) for
    ``impact_sigma = impact / sigma_d`` (NaN without it).  Returns an
    :data:`IMPACT_DTYPE` array.
    """
    m = np.asarray(metaorders)
    mt = np.asarray(mid_ts_ns).astype(np.int64, copy=False)
    mp = np.asarray(mid, dtype=np.float64)
    if len(mt) != len(mp):
        raise ValueError(f"{len(mt)} mid timestamps but {len(mp)} mids")
    if len(mt) > 1 and (mt[1:] < mt[:-1]).any():
        raise ValueError("mid timestamps must be non-decreasing")
    out = np.empty(len(m), IMPACT_DTYPE)
    for f in METAORDER_DTYPE.names:
        out[f] = m[f]
    i0 = np.searchsorted(mt, m["t_start_ns"], "left") - 1
    i1 = np.searchsorted(mt, m["t_end_ns"] + int(end_lag_ns), "right") - 1
    pick = lambda i: np.where(i >= 0, mp[np.maximum(i, 0)] if len(mp) else np.nan, np.nan)  # noqa: E731
    out["mid_start"] = pick(i0)
    out["mid_end"] = pick(i1)
    if daily_volume is not None:
        v = np.broadcast_to(np.asarray(daily_volume, dtype=np.float64), (len(m),))
    else:
        if trade_ts_ns is None or trade_qty is None:
            raise ValueError("give daily_volume or the market trades (trade_ts_ns, trade_qty)")
        tt = np.asarray(trade_ts_ns).astype(np.int64, copy=False)
        tq = np.asarray(trade_qty, dtype=np.float64)
        if len(tt) != len(tq):
            raise ValueError(f"{len(tt)} trade timestamps but {len(tq)} trade sizes")
        order = None if len(tt) < 2 or (tt[1:] >= tt[:-1]).all() else np.argsort(tt, kind="stable")
        if order is not None:
            tt, tq = tt[order], tq[order]
        cum = np.r_[0.0, np.cumsum(tq)]
        v = cum[np.searchsorted(tt, m["t_end_ns"], "right")] - cum[np.searchsorted(tt, m["t_start_ns"], "left")]
    out["v"] = v
    with np.errstate(invalid="ignore", divide="ignore"):
        out["eta"] = np.where(v > 0, out["q"] / np.where(v > 0, v, 1.0), np.nan)
        out["impact"] = out["sign"] * (out["mid_end"] - out["mid_start"]) / out["mid_start"]
        if sigma_d is None:
            out["impact_sigma"] = np.nan
        else:
            out["impact_sigma"] = out["impact"] / np.asarray(sigma_d, dtype=np.float64)
    return out


def daily_volatility(ts_ns, prices, bar="5min", day="1d") -> float:
    """Realised daily volatility of a price series: the standard deviation
    of the ``bar`` log returns scaled by ``sqrt(day / bar)`` (``day`` = the
    length of a trading day: ``"1d"`` for 24h markets, ``"390min"`` for a
    NYSE session).  Relative (0.02 = 2%)."""
    r = bar_returns(ts_ns, prices, bar)
    if len(r) < 2:
        raise ValueError(f"only {len(r)} returns on {bar!r} bars: cannot estimate the volatility")
    return float(r.std(ddof=1) * np.sqrt(duration_ns(day) / duration_ns(bar)))


# ---------------------------------------------------------------------- fit
@dataclass(frozen=True)
class ImpactFit:
    """The fit ``I / sigma = Y * (Q/V) ** delta``.

    ``delta`` and ``y`` from log-log least squares on the ``n_bins``
    equal-count bins of ``log(Q/V)`` (bins with a non-positive mean impact
    are left out: ``n_bins_used``); ``[ci_low, ci_high]`` is the percentile
    bootstrap interval of ``delta`` at level ``ci`` over ``n_boot``
    resamples of the metaorders (``boot``: the bootstrap deltas; resamples
    leaving fewer than 2 usable bins are dropped), ``y_ci`` that of ``Y``.
    ``bin_eta`` (geometric mean of Q/V), ``bin_impact`` (mean of I/sigma)
    and ``bin_count`` describe the bins of the full sample."""

    delta: float
    y: float
    ci_low: float
    ci_high: float
    y_ci: tuple
    ci: float
    n: int
    n_bins: int
    n_bins_used: int
    bin_eta: np.ndarray
    bin_impact: np.ndarray
    bin_count: np.ndarray
    boot: np.ndarray

    @property
    def se(self) -> float:
        """Bootstrap standard error of ``delta``."""
        return float(self.boot.std(ddof=1)) if len(self.boot) > 1 else float("nan")


def _binned(le: np.ndarray, y: np.ndarray, n_bins: int):
    edges = np.quantile(le, np.linspace(0.0, 1.0, n_bins + 1))
    b = np.searchsorted(edges[1:-1], le, side="right")
    cnt = np.bincount(b, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.bincount(b, le, n_bins) / cnt
        yb = np.bincount(b, y, n_bins) / cnt
    return x, yb, cnt


def _fit_bins(x, yb, cnt):
    use = (cnt > 0) & (yb > 0) & np.isfinite(yb)
    if use.sum() < 2 or np.ptp(x[use]) == 0:
        return np.nan, np.nan, int(use.sum())
    slope, icpt = np.polyfit(x[use], np.log(yb[use]), 1)
    return float(slope), float(np.exp(icpt)), int(use.sum())


def fit_square_root_law(eta, impact, sigma=1.0, n_bins: int = 10, n_boot: int = 500, ci: float = 0.95,
                        seed=0) -> ImpactFit:
    """Fit ``I = Y * sigma * eta ** delta`` with ``eta = Q / V``.

    ``impact``: signed impact of each metaorder (relative, positive in the
    metaorder's direction); ``sigma``: daily volatility (scalar or per
    metaorder; 1 when ``impact`` is already in units of sigma).  The
    metaorders are binned by ``log(eta)`` into ``n_bins`` equal-count bins;
    ``log(mean(I / sigma))`` is regressed on ``mean(log eta)`` over the bins
    with a positive mean impact.  The interval is a percentile bootstrap
    over metaorders with ``np.random.default_rng(seed)`` (``seed`` may be a
    Generator); rows with a non-finite value or ``eta <= 0`` are left out.
    """
    e = np.asarray(eta, dtype=np.float64).ravel()
    i = np.asarray(impact, dtype=np.float64).ravel()
    s = np.broadcast_to(np.asarray(sigma, dtype=np.float64), e.shape)
    if len(i) != len(e):
        raise ValueError(f"{len(e)} eta values but {len(i)} impacts")
    ok = np.isfinite(e) & (e > 0) & np.isfinite(i) & np.isfinite(s) & (s > 0)
    le, y = np.log(e[ok]), i[ok] / s[ok]
    n = len(le)
    n_bins = int(n_bins)
    if n_bins < 2:
        raise ValueError("n_bins must be >= 2")
    if n < 2 * n_bins:
        raise ValueError(f"{n} usable metaorders: too few for {n_bins} bins")
    x, yb, cnt = _binned(le, y, n_bins)
    delta, yy, used = _fit_bins(x, yb, cnt)
    if not np.isfinite(delta):
        raise ValueError("fewer than 2 bins with a positive mean impact: no fit")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    boots, ys = [], []
    for _ in range(int(n_boot)):
        idx = rng.integers(0, n, n)
        d, yv, _u = _fit_bins(*_binned(le[idx], y[idx], n_bins))
        if np.isfinite(d):
            boots.append(d)
            ys.append(yv)
    boot = np.asarray(boots)
    a = (1 - ci) / 2
    if len(boot) >= 2:
        lo, hi = np.quantile(boot, [a, 1 - a])
        ylo, yhi = np.quantile(ys, [a, 1 - a])
    else:
        lo = hi = ylo = yhi = np.nan
    return ImpactFit(delta=delta, y=yy, ci_low=float(lo), ci_high=float(hi), y_ci=(float(ylo), float(yhi)),
                     ci=ci, n=n, n_bins=n_bins, n_bins_used=used, bin_eta=np.exp(x), bin_impact=yb,
                     bin_count=cnt, boot=boot)
