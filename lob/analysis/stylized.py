"""Stylized facts of (simulated) markets: the checks a calm simulated trading
day should pass against the empirical regularities of asset returns (Cont
2001, "Empirical properties of asset returns: stylized facts and
statistical issues", Quantitative Finance 1; Bouchaud, Bonart, Donier and
Gould 2018, "Trades, Quotes and Prices").

* heavy tails: the excess kurtosis of intraday returns is positive (returns
  of a few minutes typically show excess kurtosis of several units);
* absence of linear autocorrelation: returns beyond a few minutes are
  uncorrelated (inside the +-1.96/sqrt(n) band);
* volatility clustering: absolute returns are positively autocorrelated
  over many lags;
* aggregational Gaussianity: the kurtosis falls as the bar grows;
* a tight spread that sits at one tick most of the time for a large-tick
  asset.

Units: timestamps are int64 **nanoseconds** (any epoch), prices in any
consistent unit (ticks or currency), log returns dimensionless, spreads in
the unit of the quotes and in ticks.  The core needs numpy only; the
``DataFrame`` of :func:`stylized_facts` needs pandas (the ``analysis``
extra: ``pip install -e '.[analysis]'``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from statistics import NormalDist

import numpy as np

from lob.data.tardis import duration_ns

__all__ = ["resample_last", "log_returns", "bar_returns", "excess_kurtosis", "KurtosisResult",
           "autocorrelation", "abs_autocorrelation", "AcfResult", "spread_stats", "SpreadStats",
           "stylized_facts", "facts_table", "duration_ns", "z_value"]


#: largest grid :func:`resample_last` builds (a guard against a unit slip)
MAX_GRID = 50_000_000


def z_value(ci: float) -> float:
    """Two-sided standard-normal quantile of a confidence level
    (``z_value(0.95) = 1.95996...``)."""
    if not 0 < ci < 1:
        raise ValueError(f"confidence level must be in (0, 1), got {ci!r}")
    return NormalDist().inv_cdf(0.5 + ci / 2)


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


# ---------------------------------------------------------------------- resampling
def _check_series(ts_ns, values, what="prices"):
    ts = np.asarray(ts_ns)
    v = np.asarray(values, dtype=np.float64)
    if ts.ndim != 1 or v.ndim != 1:
        raise ValueError(f"timestamps and {what} must be 1-d arrays")
    if len(ts) != len(v):
        raise ValueError(f"{len(ts)} timestamps but {len(v)} {what}")
    if len(ts) and not np.issubdtype(ts.dtype, np.integer):
        raise TypeError(f"timestamps must be integers (ns), got dtype {ts.dtype}")
    ts = ts.astype(np.int64, copy=False)
    if len(ts) > 1:
        dec = np.flatnonzero(ts[1:] < ts[:-1])
        if len(dec):
            i = int(dec[0]) + 1
            raise ValueError(f"timestamps must be non-decreasing: ts[{i}] = {int(ts[i])} < "
                             f"ts[{i - 1}] = {int(ts[i - 1])} (sort the series first, stably)")
    return ts, v


def resample_last(ts_ns, values, step, t0=None, t1=None):
    """Sample a step series on the regular grid ``t0, t0 + step, ..., <= t1``
    (last value carried forward): the value at grid time ``g`` is the last
    value with timestamp ``<= g`` (the last one among equal timestamps), NaN
    before the first observation.

    ``ts_ns``: int64 ns, non-decreasing (``ValueError`` naming the first
    decrease otherwise); ``step``: ns or a string such as ``"1min"``
    (see :func:`duration_ns`); ``t0``/``t1``: ns, default the first grid
    multiple of ``step`` at or after the first observation and the last at
    or before the last observation.  Returns ``(grid_ns int64, values
    float64)``; both empty for an empty series unless ``t0`` and ``t1`` are
    given (then all NaN).
    """
    ts, v = _check_series(ts_ns, values)
    step = duration_ns(step)
    if len(ts) == 0 and (t0 is None or t1 is None):
        return np.empty(0, np.int64), np.empty(0, np.float64)
    a = int(t0) if t0 is not None else -(-int(ts[0]) // step) * step
    b = int(t1) if t1 is not None else int(ts[-1]) // step * step
    if b < a:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    npts = (b - a) // step + 1
    if npts > MAX_GRID:
        raise ValueError(f"a grid of {npts} points of {step} ns: more than {MAX_GRID} (check the units: ns)")
    grid = a + step * np.arange(npts, dtype=np.int64)
    idx = np.searchsorted(ts, grid, side="right") - 1
    out = np.where(idx >= 0, v[np.maximum(idx, 0)] if len(v) else np.nan, np.nan)
    return grid, out.astype(np.float64)


def log_returns(prices, dropna: bool = True) -> np.ndarray:
    """``log(p[t+1] / p[t])`` of a price series (dimensionless).  Prices
    must be positive where finite; returns touching a NaN price are dropped
    (``dropna``) or kept as NaN."""
    p = np.asarray(prices, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError("prices must be a 1-d array")
    fin = np.isfinite(p)
    if (p[fin] <= 0).any():
        raise ValueError("prices must be positive for log returns")
    with np.errstate(invalid="ignore"):
        r = np.diff(np.log(p))
    return r[np.isfinite(r)] if dropna else r


def bar_returns(ts_ns, prices, bar="1min", t0=None, t1=None) -> np.ndarray:
    """Log returns of a trade/mid price series over regular bars (last
    price carried forward, see :func:`resample_last`)."""
    _, p = resample_last(ts_ns, prices, bar, t0, t1)
    return log_returns(p)


# ---------------------------------------------------------------------- kurtosis
@dataclass(frozen=True)
class KurtosisResult:
    """Excess kurtosis (0 for a Gaussian) with its standard error and a
    confidence interval ``[ci_low, ci_high]`` at level ``ci``.  ``method``:
    ``"normal"`` (the exact normal-theory SE: only right for light tails)
    or ``"bootstrap"`` (percentile interval, SE = bootstrap std)."""

    kurtosis: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    ci: float
    method: str


def _kurt(x: np.ndarray, bias: bool) -> np.ndarray:
    """Excess kurtosis of each row of ``x`` (2-d) or of ``x`` (1-d)."""
    n = x.shape[-1]
    m = x - x.mean(axis=-1, keepdims=True)
    m2 = (m * m).mean(axis=-1)
    m4 = (m * m * m * m).mean(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        g2 = m4 / (m2 * m2) - 3.0
    if bias:
        return g2
    return ((n + 1) * g2 + 6.0) * (n - 1) / ((n - 2) * (n - 3))


def excess_kurtosis(x, n_boot: int = 0, ci: float = 0.95, seed=0, bias: bool = False,
                    chunk: int = 5_000_000) -> KurtosisResult:
    """Excess kurtosis of a sample (NaNs dropped; needs n >= 4).

    ``bias=False`` (default) gives the adjusted Fisher-Pearson estimator
    G2 (as pandas ``Series.kurt``), ``bias=True`` the moment ratio
    ``m4 / m2**2 - 3``.  With ``n_boot > 0`` the interval is a percentile
    bootstrap over ``n_boot`` resamples drawn from ``np.random.default_rng(seed)``
    (``seed`` may be a Generator), worked in chunks of about ``chunk``
    draws; else the exact normal-theory SE is used, which is far too small
    for heavy-tailed data.  Beware: for tails with an infinite 8th moment
    (Student-t with 8 or fewer degrees of freedom) the estimator converges
    slowly and is biased low at any practical n (t(5): theory 6, typical
    samples of 1e5-1e6 give 4-6).
    """
    a = np.asarray(x, dtype=np.float64).ravel()
    a = a[np.isfinite(a)]
    n = len(a)
    if n < 4:
        raise ValueError(f"excess kurtosis needs at least 4 finite values, got {n}")
    k = float(_kurt(a, bias))
    z = z_value(ci)
    if n_boot <= 0:
        se_skew = np.sqrt(6.0 * n * (n - 1) / ((n - 2) * (n + 1) * (n + 3)))
        se = float(2 * se_skew * np.sqrt((n * n - 1) / ((n - 3) * (n + 5))))
        return KurtosisResult(k, se, k - z * se, k + z * se, n, ci, "normal")
    rng = _rng(seed)
    per = max(1, chunk // n)
    boots = []
    done = 0
    while done < n_boot:
        b = min(per, n_boot - done)
        idx = rng.integers(0, n, size=(b, n))
        boots.append(_kurt(a[idx], bias))
        done += b
    kb = np.concatenate(boots)
    lo, hi = np.quantile(kb, [0.5 - ci / 2, 0.5 + ci / 2])
    return KurtosisResult(k, float(kb.std(ddof=1)), float(lo), float(hi), n, ci, "bootstrap")


# ---------------------------------------------------------------------- autocorrelation
@dataclass(frozen=True)
class AcfResult:
    """Sample autocorrelation at ``lags`` with the white-noise band
    ``+-band`` (``band = z / sqrt(n)``, 1.96/sqrt(n) at the 95% level)."""

    lags: np.ndarray
    acf: np.ndarray
    band: float
    n: int
    ci: float = 0.95

    @property
    def outside(self) -> np.ndarray:
        """Lags whose autocorrelation is outside the band."""
        return self.lags[np.abs(self.acf) > self.band]

    def as_dict(self) -> dict:
        return {"lags": self.lags.tolist(), "acf": self.acf.tolist(), "band": self.band, "n": self.n,
                "ci": self.ci}


def autocorrelation(x, max_lag: int = 10, ci: float = 0.95) -> AcfResult:
    """Sample autocorrelation ``r_k = sum_t (x_t - m)(x_{t+k} - m) /
    sum_t (x_t - m)^2`` at lags ``1..max_lag`` (NaNs dropped first), with
    the band ``z_value(ci) / sqrt(n)``.  Needs ``n > max_lag``; a constant
    series gives NaN."""
    a = np.asarray(x, dtype=np.float64).ravel()
    a = a[np.isfinite(a)]
    n = len(a)
    max_lag = int(max_lag)
    if max_lag < 1:
        raise ValueError("max_lag must be >= 1")
    if n <= max_lag:
        raise ValueError(f"autocorrelation up to lag {max_lag} needs more than {max_lag} values, got {n}")
    m = a - a.mean()
    den = float(m @ m)
    lags = np.arange(1, max_lag + 1)
    if den == 0:
        acf = np.full(max_lag, np.nan)
    else:
        acf = np.array([float(m[:-k] @ m[k:]) for k in lags]) / den
    return AcfResult(lags, acf, z_value(ci) / np.sqrt(n), n, ci)


def abs_autocorrelation(x, max_lag: int = 10, ci: float = 0.95) -> AcfResult:
    """Autocorrelation of ``|x|`` (volatility clustering)."""
    return autocorrelation(np.abs(np.asarray(x, dtype=np.float64)), max_lag, ci)


# ---------------------------------------------------------------------- spread
@dataclass(frozen=True)
class SpreadStats:
    """Distribution of the quoted spread ``ask - bid`` (unit of the quotes;
    ``*_ticks`` in ticks).  ``time_weighted``: each snapshot weighs the time
    until the next one (else all snapshots weigh the same).  ``quantiles``
    maps a probability to a spread (inverted-CDF quantile: an observed
    value).  Snapshots with a missing side (NaN) or a locked/crossed book
    (``ask <= bid``) are left out and counted in ``n_invalid``."""

    n: int
    n_invalid: int
    tick: float
    mean: float
    mean_ticks: float
    quantiles: dict
    quantiles_ticks: dict
    one_tick_fraction: float
    time_weighted: bool

    def as_dict(self) -> dict:
        return asdict(self)


def _weighted_quantiles(x, w, qs):
    order = np.argsort(x, kind="stable")
    xs, cw = x[order], np.cumsum(w[order])
    tot = cw[-1]
    out = {}
    for q in qs:
        i = int(np.searchsorted(cw, q * tot * (1 - 1e-12), side="left"))
        out[float(q)] = float(xs[min(i, len(xs) - 1)])
    return out


def spread_stats(bid, ask, tick=None, ts_ns=None, t_end_ns=None,
                 quantiles=(0.05, 0.25, 0.5, 0.75, 0.95)) -> SpreadStats:
    """Spread distribution of a series of ``(bid, ask)`` snapshots.

    ``tick``: the tick size in the unit of the quotes (1 for engine
    ticks); default the smallest positive spread seen.  ``ts_ns`` (int64
    ns, non-decreasing): time-weight each snapshot by the time until the
    next, the last one until ``t_end_ns`` (default: weight 0).  A spread
    is "at one tick" when it is within 1e-6 tick of ``tick``.
    """
    b = np.asarray(bid, dtype=np.float64).ravel()
    a = np.asarray(ask, dtype=np.float64).ravel()
    if len(a) != len(b):
        raise ValueError(f"{len(b)} bids but {len(a)} asks")
    s = a - b
    valid = np.isfinite(s) & (s > 0)
    if ts_ns is not None:
        ts, _ = _check_series(ts_ns, s, "spreads")
        w = np.empty(0)
        if len(ts):
            end = int(ts[-1]) if t_end_ns is None else int(t_end_ns)
            if end < ts[-1]:
                raise ValueError(f"t_end_ns = {end} is before the last snapshot ({int(ts[-1])})")
            w = np.diff(np.r_[ts, end]).astype(np.float64)
    else:
        w = np.ones(len(s))
    sv, wv = s[valid], w[valid]
    n_invalid = int((~valid).sum())
    if len(sv) == 0 or wv.sum() <= 0:
        raise ValueError("no valid (bid < ask) snapshot with positive weight")
    if tick is None:
        tick = float(sv.min())
    tick = float(tick)
    if not tick > 0:
        raise ValueError(f"tick must be positive, got {tick!r}")
    tot = wv.sum()
    mean = float((sv * wv).sum() / tot)
    qd = _weighted_quantiles(sv, wv, quantiles)
    one = np.abs(sv / tick - 1.0) < 1e-6
    return SpreadStats(n=int(len(sv)), n_invalid=n_invalid, tick=tick, mean=mean, mean_ticks=mean / tick,
                       quantiles=qd, quantiles_ticks={q: v / tick for q, v in qd.items()},
                       one_tick_fraction=float(wv[one].sum() / tot), time_weighted=ts_ns is not None)


# ---------------------------------------------------------------------- summary
def stylized_facts(ts_ns, prices, bar="1min", max_lag: int = 10, bid=None, ask=None, quote_ts_ns=None,
                   tick=None, n_boot: int = 200, seed=0, ci: float = 0.95,
                   aggregation=(1, 5, 15), frame: bool = True):
    """Stylized facts of a trade or mid price series ``(ts_ns, prices)``
    (int64 ns, non-decreasing) sampled on ``bar`` bars, and of the spread
    when ``bid``/``ask`` snapshots are given (time-weighted when
    ``quote_ts_ns`` is given).

    Returns ``(facts, table)``: ``facts`` is a plain dict (numbers, lists,
    the ``checks`` verdicts), ``table`` a pandas DataFrame with one row per
    statistic (``None`` when ``frame=False``; pandas is needed only for
    it).  The checks, heuristics for a calm day:

    * ``heavy_tails``: the kurtosis interval lies above 0;
    * ``no_return_autocorrelation``: at most ``max(1, max_lag // 10)`` of
      the return autocorrelations leave the band (1 in 20 does by chance
      at the 95% level);
    * ``volatility_clustering``: the lag-1 autocorrelation of ``|r|`` is
      above the band and the mean over the lags is positive;
    * ``aggregational_gaussianity``: the kurtosis at the coarsest
      ``aggregation`` multiple of ``bar`` is below that at ``bar``
      (``None`` when too few bars).
    """
    bar_ns = duration_ns(bar)
    grid, p = resample_last(ts_ns, prices, bar_ns)
    r = log_returns(p)
    if len(r) < max(8, max_lag + 2):
        raise ValueError(f"only {len(r)} returns on {bar!r} bars: too few for the stylized facts")
    kurt = excess_kurtosis(r, n_boot=n_boot, ci=ci, seed=seed)
    acf = autocorrelation(r, max_lag, ci)
    aacf = abs_autocorrelation(r, max_lag, ci)
    by_bar = {}
    for m in aggregation:
        rm = log_returns(p[::int(m)])
        if len(rm) >= 8:
            by_bar[int(m) * bar_ns] = float(excess_kurtosis(rm).kurtosis)
    spread = None
    if bid is not None and ask is not None:
        spread = spread_stats(bid, ask, tick=tick, ts_ns=quote_ts_ns)
    coarse = by_bar.get(int(max(aggregation)) * bar_ns) if aggregation else None
    checks = {
        "heavy_tails": bool(kurt.ci_low > 0),
        "no_return_autocorrelation": bool(len(acf.outside) <= max(1, max_lag // 10)),
        "volatility_clustering": bool(aacf.acf[0] > aacf.band and np.nanmean(aacf.acf) > 0),
        "aggregational_gaussianity": (None if coarse is None or len(by_bar) < 2
                                      else bool(coarse < kurt.kurtosis)),
    }
    facts = {
        "bar_ns": bar_ns,
        "n_bars": int(len(grid)),
        "n_returns": int(len(r)),
        "return_std": float(r.std(ddof=1)),
        "kurtosis": asdict(kurt),
        "kurtosis_by_bar_ns": by_bar,
        "acf_returns": acf.as_dict(),
        "acf_abs_returns": aacf.as_dict(),
        "spread": spread.as_dict() if spread is not None else None,
        "checks": checks,
    }
    return facts, (facts_frame(facts) if frame else None)


def facts_table(facts: dict) -> list[dict]:
    """The rows of :func:`stylized_facts`' table as dicts (no pandas):
    ``statistic, lag, value, low, high, expected``."""
    rows = []
    k = facts["kurtosis"]
    rows.append(dict(statistic="excess_kurtosis", lag=None, value=k["kurtosis"], low=k["ci_low"],
                     high=k["ci_high"], expected="> 0 (heavy tails)"))
    for bar, v in facts["kurtosis_by_bar_ns"].items():
        rows.append(dict(statistic=f"excess_kurtosis_{bar // 10**9}s", lag=None, value=v, low=None, high=None,
                         expected="falls as the bar grows"))
    for key, name, exp in (("acf_returns", "acf_returns", "inside the band"),
                           ("acf_abs_returns", "acf_abs_returns", "> band, slowly decaying")):
        a = facts[key]
        for lag, v in zip(a["lags"], a["acf"]):
            rows.append(dict(statistic=name, lag=lag, value=v, low=-a["band"], high=a["band"], expected=exp))
    s = facts.get("spread")
    if s:
        rows.append(dict(statistic="spread_mean", lag=None, value=s["mean"], low=None, high=None, expected=""))
        rows.append(dict(statistic="spread_mean_ticks", lag=None, value=s["mean_ticks"], low=None, high=None,
                         expected=""))
        for q, v in s["quantiles"].items():
            rows.append(dict(statistic=f"spread_q{q:g}", lag=None, value=v, low=None, high=None, expected=""))
        rows.append(dict(statistic="spread_one_tick_fraction", lag=None, value=s["one_tick_fraction"],
                         low=None, high=None, expected="large for a large-tick asset"))
    return rows


def facts_frame(facts: dict):
    """:func:`facts_table` as a pandas DataFrame (needs pandas: the
    ``analysis`` extra)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("the stylized-facts DataFrame needs pandas: pip install -e '.[analysis]' "
                          "(or pass frame=False)") from None
    return pd.DataFrame(facts_table(facts), columns=["statistic", "lag", "value", "low", "high", "expected"])
