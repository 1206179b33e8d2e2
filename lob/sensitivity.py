"""Sensitivity of a sweep's summary metrics to its parameters, with
confidence bands across seeds.

``sensitivity(df, "alt_wick_median", "leverage_scale")`` takes the table
of :func:`lob.sweeps.sweep` (one row per run) and returns one row per value
of the parameter (and per combination of the other grid parameters, which
are held fixed, never pooled): the number of seeds ``n``, the ``mean``, the
``median``, the standard deviation ``sd`` and a confidence band ``lo`` ..
``hi`` for the mean across seeds at ``level`` (default 90%):

* ``band="t"`` (default): the Student-t interval
  ``mean -/+ t(1 - (1 - level) / 2, n - 1) * sd / sqrt(n)`` (``sd`` with
  ``n - 1`` degrees of freedom; the t quantile is computed here by
  integrating the t density, no scipy);
* ``band="bootstrap"``: the percentile bootstrap of the mean (``B``
  resamples of the seeds with replacement, a fixed generator seed, so the
  band is reproducible).

With a single seed the band is the point itself (``lo == hi == mean``) and
``n == 1`` says so.  Runs that failed (an ``error``) and NaN values of the
metric are left out.

``plot_sensitivity(df, metrics, out_png)`` draws, for every metric and
grid parameter, the mean and its band against the parameter's values
(the seeds as dots); matplotlib (Agg backend) is imported only there.
Units: those of the metric (``alt_wick_median``: fraction of the opening
price; ``usde_low``: USD; ``liquidated_usd``: USD).
"""
from __future__ import annotations

import math

#: the sweep metrics the CLI plots, when present and not all NaN
DEFAULT_METRICS = ("alt_wick_median", "usde_low", "liquidated_usd")

#: columns of a sweep table that are not grid parameters
NOT_PARAMS = {"run", "seed", "error", "traceback", "wall_s", "digest", "events", "conserved", "alt_wick_median",
              "alt_wick_max", "usde_low", "accounts_taken_over", "liquidated_usd"}


def t_quantile(p: float, dof: int) -> float:
    """The ``p`` quantile of Student's t distribution with ``dof`` degrees
    of freedom (``0 < p < 1``, ``dof >= 1``), by bisection on its CDF (the
    density integrated with Simpson's rule); accurate to about 1e-7."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if dof < 1:
        raise ValueError(f"dof must be >= 1, got {dof}")
    if p < 0.5:
        return -t_quantile(1.0 - p, dof)
    if p == 0.5:
        return 0.0
    v = float(dof)
    logc = math.lgamma((v + 1) / 2) - math.lgamma(v / 2) - 0.5 * math.log(v * math.pi)

    def dens(x):
        return math.exp(logc - (v + 1) / 2 * math.log1p(x * x / v))

    def cdf(x, n=2000):                      # 0.5 + integral of the density over [0, x]
        h = x / n
        s = dens(0.0) + dens(x) + sum((4 if k % 2 else 2) * dens(k * h) for k in range(1, n))
        return 0.5 + s * h / 3

    lo, hi = 0.0, 1.0
    while cdf(hi) < p:
        lo, hi = hi, hi * 2
        if hi > 1e7:
            return math.inf
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if cdf(mid) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-9 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def _band(values, level: float, band: str, B: int):
    import numpy as np
    x = np.asarray(values, float)
    n = len(x)
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else 0.0
    if n < 2:
        return mean, sd, mean, mean
    if band == "t":
        half = t_quantile(1 - (1 - level) / 2, n - 1) * sd / math.sqrt(n)
        return mean, sd, mean - half, mean + half
    g = np.random.default_rng(12345)
    means = x[g.integers(0, n, size=(B, n))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return mean, sd, float(lo), float(hi)


def grid_params(df, params=None) -> list[str]:
    """The grid parameters of a sweep table: ``params`` if given (checked),
    else its columns that are not the run id, the seed, errors, timings or
    the metrics of :func:`lob.sweeps.metrics`."""
    if params is None:
        return [c for c in df.columns if c not in NOT_PARAMS]
    missing = [p for p in params if p not in df.columns]
    if missing:
        raise KeyError(f"no grid parameter {missing[0]!r} in the sweep table (columns: {', '.join(map(str, df.columns))})")
    return list(params)


def varied(df, params=None) -> list[str]:
    """The grid parameters that take more than one value in the table."""
    return [p for p in grid_params(df, params) if df[p].nunique(dropna=False) > 1]


def sensitivity(df, metric: str, param: str, *, level: float = 0.9, band: str = "t", B: int = 2000,
                params=None):
    """Per value of ``param`` (and of the other grid parameters): ``n``,
    ``mean``, ``median``, ``sd``, ``lo``, ``hi`` of ``metric`` across seeds
    (see the module docstring).  Columns: the grid parameters, then those,
    then ``metric``, ``band`` and ``level``.  ``params``: the grid
    parameters (default: guessed from the columns, :func:`grid_params`).
    Raises ``KeyError`` naming a metric or parameter the table lacks."""
    import numpy as np
    import pandas as pd

    if metric not in df.columns:
        raise KeyError(f"no metric {metric!r} in the sweep table (columns: {', '.join(map(str, df.columns))})")
    params = grid_params(df, params)
    if param not in params:
        raise KeyError(f"no grid parameter {param!r} in the sweep table (parameters: {', '.join(params) or 'none'})")
    if band not in ("t", "bootstrap"):
        raise ValueError(f"band must be 't' or 'bootstrap', got {band!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    ok = df if "error" not in df else df[df["error"].isna()]
    ok = ok[pd.to_numeric(ok[metric], errors="coerce").notna()]
    others = [p for p in params if p != param]
    rows = []
    for key, g in ok.groupby([param] + others, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        x = g[metric].astype(float).to_numpy()
        mean, sd, lo, hi = _band(x, level, band, B)
        rows.append({**dict(zip([param] + others, key)), "n": len(x), "mean": mean, "median": float(np.median(x)),
                     "sd": sd, "lo": lo, "hi": hi, "metric": metric, "band": band, "level": level})
    cols = [param] + others + ["n", "mean", "median", "sd", "lo", "hi", "metric", "band", "level"]
    return pd.DataFrame(rows, columns=cols)


def plottable(df, metrics=DEFAULT_METRICS) -> list[str]:
    """Those of ``metrics`` the table has with at least one finite value."""
    import pandas as pd
    ok = df if "error" not in df else df[df["error"].isna()]
    return [m for m in metrics if m in ok and pd.to_numeric(ok[m], errors="coerce").notna().any()]


def bands(df, metrics=DEFAULT_METRICS, *, params=None, **kw):
    """:func:`sensitivity` of every plottable metric against every grid
    parameter that varies, as one long table: ``metric``, ``param`` (the
    parameter varied), ``value`` (its value, as given: a bool stays a
    bool), the other grid parameters (held at the row's values; empty in
    the column of ``param`` itself), then ``n``, ``mean``, ``median``,
    ``sd``, ``lo``, ``hi``, ``band``, ``level``."""
    import pandas as pd
    ps = grid_params(df, params)
    cols = ["metric", "param", "value", *ps, "n", "mean", "median", "sd", "lo", "hi", "band", "level"]
    parts = []
    for m in plottable(df, metrics):
        for p in varied(df, params):
            s = sensitivity(df, m, p, params=params, **kw)
            s.insert(0, "value", s.pop(p).astype(object))        # one column for every parameter's values
            s.insert(0, "param", p)
            parts.append(s)
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True).reindex(columns=cols)


def plot_sensitivity(df, metrics=DEFAULT_METRICS, out_png="sensitivity.png", *, level: float = 0.9,
                     band: str = "t", params=None):
    """A grid of panels (rows: metrics, columns: the grid parameters that
    vary; ``params`` as in :func:`sensitivity`): the mean
    of the metric across seeds against the parameter's values with its
    confidence band (shaded), the median (dashed) and every seed (dots);
    other grid parameters give one line each.  Writes ``out_png`` and
    returns its path; ``ValueError`` if there is nothing to plot."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import FuncFormatter

    ms = plottable(df, metrics)
    ps = varied(df, params)
    if not ms or not ps:
        raise ValueError(f"nothing to plot: metrics with values {ms or 'none'}, grid parameters {ps or 'none'}")
    fig, axes = plt.subplots(len(ms), len(ps), figsize=(4.2 * len(ps), 3.2 * len(ms)), squeeze=False)
    ok = df if "error" not in df else df[df["error"].isna()]
    for i, m in enumerate(ms):
        for j, p in enumerate(ps):
            ax = axes[i][j]
            s = sensitivity(df, m, p, level=level, band=band, params=ps)
            others = [q for q in ps if q != p]
            values = sorted(s[p].unique(), key=_order)
            numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                          for v in values)
            xpos = (lambda v: float(v)) if numeric else (lambda v, idx={v: k for k, v in enumerate(values)}: idx[v])
            groups = s.groupby(others, dropna=False) if others else [((), s)]
            for key, g in groups:
                g = g.sort_values(p, key=lambda c: c.map(_order))
                x = np.array([xpos(v) for v in g[p]])
                label = ", ".join(f"{q}={k}" for q, k in zip(others, key if isinstance(key, tuple) else (key,)))
                line, = ax.plot(x, g["mean"], marker="o", label=label or "mean")
                ax.fill_between(x, g["lo"], g["hi"], alpha=0.2, color=line.get_color())
                ax.plot(x, g["median"], ls="--", lw=0.8, color=line.get_color())
                sel = ok
                for q, k in zip(others, key if isinstance(key, tuple) else (key,)):
                    sel = sel[sel[q] == k]
                pts = sel[[p, m]].dropna()
                ax.scatter([xpos(v) for v in pts[p]], pts[m].astype(float), s=8, alpha=0.5,
                           color=line.get_color())
            if not numeric:
                ax.set_xticks(range(len(values)), [str(v) for v in values])
            elif len(values) <= 8:                   # the grid's own values, not overlapping long numbers
                ax.set_xticks([float(v) for v in values], [f"{float(v):g}" for v in values],
                              rotation=30 if max(len(f"{float(v):g}") for v in values) > 4 else 0)
            else:
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.set_xlabel(p)
            ax.set_ylabel(m)
            n = int(s["n"].min()) if len(s) else 0
            ax.set_title(f"{m} vs {p} ({int(level * 100)}% {band} band, n>={n})", fontsize=8)
            if others:
                ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png


def _order(v):
    """Sort key mixing numbers and strings: numbers first, by value."""
    try:
        return (0, float(v), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(v))
