"""The report of a crash run: PNG figures and one self-contained HTML file,
made from the tables ``lob run SCENARIO --out RUN_DIR`` writes.

``make_report(run_dir)`` (``lob report RUN_DIR``; ``lob run --out`` calls
it) writes into ``RUN_DIR``:

* ``price_paths.png``: mid prices per venue, normalised to their pre-shock
  level, against minutes after the shock;
* ``depth_heatmap.png``: bid depth within 2% of the mid of every book of
  the large exchange, as a share of its pre-shock level, through the crash;
* ``slippage.png``: the cost (bps) of selling 100k USD into the bids,
  median and range over the altcoin books, per venue, over time;
* ``liquidations.png``: cumulative liquidated notional (exchange risk
  engine, on-chain lending) -- the liquidation waterfall;
* ``timeline.png``: the causal chain of :mod:`lob.explain`;
* ``real_overlay.png``: the simulated altcoin paths beside the real trades
  of 10 October 2025 (``../shared/data/crash-2025-10-10``; skipped when
  absent), both aligned on the shock (20:50 UTC for the real day);
* ``report.html``: all of the above embedded, with the summary, targets and
  wick tables.

matplotlib (Agg) is imported here only.  Units: minutes after the shock,
bps, USD.
"""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

REAL_SHOCK_UTC = "2025-10-10T20:50:00"
REAL_MARKETS = (("binance-delivery", "ATOMUSD_PERP"), ("binance-delivery", "DOTUSD_PERP"),
                ("binance-delivery", "FILUSD_PERP"), ("binance-delivery", "AVAXUSD_PERP"),
                ("binance-delivery", "WIFUSD_PERP"), ("binance", "POLUSDT"), ("coinbase", "ATOM-USD"),
                ("coinbase", "DOT-USD"), ("coinbase", "POL-USD"))


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def _norm_paths(stress, shock_s, venue, pre_s=300.0):
    """{symbol: (minutes, mid / pre-shock median)} for one venue."""
    out = {}
    s = stress[stress["venue"] == venue]
    for sym, g in s.groupby("symbol"):
        pre = g[(g["t_s"] >= shock_s - pre_s) & (g["t_s"] < shock_s)]["mid"].median()
        if not pre > 0:
            continue
        out[sym] = ((g["t_s"].to_numpy() - shock_s) / 60.0, g["mid"].to_numpy() / pre)
    return out


def fig_price_paths(stress, shock_s, path):
    plt = _plt()
    venues = list(dict.fromkeys(stress["venue"]))
    fig, axes = plt.subplots(1, len(venues), figsize=(6 * len(venues), 4.2), sharey=True, squeeze=False)
    for ax, v in zip(axes[0], venues):
        for sym, (t, y) in _norm_paths(stress, shock_s, v).items():
            base = sym.split("/")[0]
            major = not base.startswith("ALT")
            ax.plot(t, y, lw=1.4 if major else 0.5, alpha=1.0 if major else 0.5,
                    label=base if major else None)
        ax.axvline(0, color="k", lw=0.8, ls="--")
        ax.set_title(f"{v}: mid / pre-shock level")
        ax.set_xlabel("minutes after the shock")
        ax.legend(fontsize=7, loc="lower right")
    axes[0][0].set_ylabel("price relative to the pre-shock level")
    return _save(fig, path)


def fig_depth_heatmap(stress, shock_s, path, venue=None, band="bid_depth_2pct_usd", bin_s=30.0):
    plt = _plt()
    venue = venue or stress["venue"].iloc[0]
    s = stress[stress["venue"] == venue]
    syms = list(dict.fromkeys(s["symbol"]))
    t0, t1 = s["t_s"].min(), s["t_s"].max()
    edges = np.arange(t0, t1 + bin_s, bin_s)
    mat = np.full((len(syms), len(edges) - 1), np.nan)
    by_sym = dict(tuple(s.groupby("symbol", sort=False)))      # each symbol's rows, in order
    for i, sym in enumerate(syms):
        g = by_sym[sym]
        pre = g[(g["t_s"] >= shock_s - 300) & (g["t_s"] < shock_s)][band].median()
        if not pre > 0:
            continue
        k = np.clip(np.searchsorted(edges, g["t_s"].to_numpy(), side="right") - 1, 0, len(edges) - 2)
        sums = np.bincount(k, weights=np.nan_to_num(g[band].to_numpy()), minlength=len(edges) - 1)
        cnt = np.bincount(k, minlength=len(edges) - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mat[i] = sums / cnt / pre
    fig, ax = plt.subplots(figsize=(11, 0.18 * len(syms) + 2))
    im = ax.imshow(np.clip(mat, 0, 2), aspect="auto", cmap="RdYlGn", vmin=0, vmax=2,
                   extent=[(t0 - shock_s) / 60, (t1 - shock_s) / 60, len(syms), 0])
    ax.set_yticks(np.arange(len(syms)) + 0.5)
    ax.set_yticklabels([x.split("/")[0] for x in syms], fontsize=6)
    ax.axvline(0, color="k", lw=0.8, ls="--")
    ax.set_xlabel("minutes after the shock")
    ax.set_title(f"{venue}: bid depth within 2% of the mid, share of the pre-shock level")
    fig.colorbar(im, ax=ax, fraction=0.03)
    return _save(fig, path)


def fig_slippage(stress, shock_s, path, col="sell_100k_bps", bin_s=60.0):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4))
    for v, s in stress.groupby("venue"):
        s = s[s["symbol"].str.startswith("ALT")]
        if s.empty:
            continue
        b = ((s["t_s"] - shock_s) // bin_s) * bin_s / 60.0
        g = s.assign(bin=b).groupby("bin")[col]
        med, lo, hi = g.median(), g.quantile(0.1), g.quantile(0.9)
        ax.plot(med.index, med.to_numpy(), label=f"{v} median")
        ax.fill_between(med.index, lo.to_numpy(), hi.to_numpy(), alpha=0.2)
    ax.axvline(0, color="k", lw=0.8, ls="--")
    ax.set_yscale("symlog")
    ax.set_xlabel("minutes after the shock")
    ax.set_ylabel("bps against the mid")
    ax.set_title("cost of a 100k USD market sell into the altcoin bids (10-90% band)")
    ax.legend()
    return _save(fig, path)


def fig_liquidations(margin_events, chain_liq, shock_s, path):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4))
    if margin_events is not None and len(margin_events):
        sl = margin_events[margin_events["kind"] == 3].sort_values("ts")
        ax.step((sl["ts"] / 1e9 - shock_s) / 60, sl["notional"].cumsum() / 1e8 / 1e6, where="post",
                label="exchange risk engine (sold)")
    if chain_liq is not None and len(chain_liq):
        cl = chain_liq.sort_values("ts")
        ax.step((cl["ts"] / 1e9 - shock_s) / 60, cl["debt_repaid_usd"].cumsum() / 1e6, where="post",
                label="on-chain lending (debt repaid)")
    ax.axvline(0, color="k", lw=0.8, ls="--")
    ax.set_xlabel("minutes after the shock")
    ax.set_ylabel("million USD, cumulative")
    ax.set_title("liquidation waterfall")
    ax.legend()
    return _save(fig, path)


def fig_timeline(tl, path):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 3.5))
    y = np.arange(len(tl))[::-1]
    ax.scatter(tl["first_s"] / 60, y, marker="|", s=300, label="first")
    ax.scatter(tl["median_s"] / 60, y, marker="o", label="median")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{s} ({c})" for s, c in zip(tl["step"], tl["count"])], fontsize=8)
    ax.set_xlabel("minutes after the shock")
    ax.set_title("the causal chain (count of events in brackets)")
    ax.legend()
    return _save(fig, path)


def fig_real_overlay(stress, shock_s, path, data_dir=None):
    """Simulated altcoin paths (large exchange) beside the real 10 October
    2025 trades; returns None when the data is absent."""
    from .data import tardis
    try:
        d = Path(data_dir) if data_dir else tardis.shared_data_dir()
        avail = set(tardis.list_markets(d))
    except Exception:           # no shared data: no overlay
        return None
    t_shock = np.datetime64(REAL_SHOCK_UTC, "ns").astype(np.int64)
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), sharey=True)
    big = stress["venue"].iloc[0]
    for sym, (t, y) in _norm_paths(stress, shock_s, big).items():
        if sym.startswith("ALT"):
            axes[0].plot(t, y, lw=0.6, alpha=0.6)
    axes[0].set_title(f"simulated altcoins on {big}")
    for ex, sym in REAL_MARKETS:
        if (ex, sym) not in avail:
            continue
        tr = tardis.load_market(ex, sym, d)
        ts = np.asarray(tr["ts_ns"], np.int64)
        px = np.asarray(tr["price"], float)
        before = px[ts < t_shock]
        if not len(before):
            continue
        m = (ts >= t_shock - 30 * 60 * 10**9) & (ts <= t_shock + 150 * 60 * 10**9)
        step = max(1, int(m.sum() // 4000))
        axes[1].plot((ts[m][::step] - t_shock) / 6e10, px[m][::step] / before[-1], lw=0.8,
                     label=f"{ex} {sym}", ls="-" if ex.startswith("binance") else "--")
    axes[1].set_title("real trades, 10 October 2025 (shock 20:50 UTC)")
    axes[1].legend(fontsize=7, loc="lower right")
    for ax in axes:
        ax.axvline(0, color="k", lw=0.8, ls="--")
        ax.set_xlabel("minutes after the shock")
    axes[0].set_ylabel("price / pre-shock level")
    return _save(fig, path)


def _table(df, max_rows=60) -> str:
    return df.head(max_rows).to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0)


def make_report(run_dir, *, data_dir=None) -> Path:
    """Write the figures and ``report.html`` into ``run_dir``; returns the HTML path."""
    import pandas as pd

    from .explain import timeline

    d = Path(run_dir)
    summary = json.loads((d / "summary.json").read_text())
    shock = float(summary.get("shock_s", 0.0))

    def table(name):
        p = d / f"{name}.parquet"
        return pd.read_parquet(p) if p.exists() else None

    stress = table("stress")
    figs = []
    if stress is not None and len(stress):
        figs.append(("Price paths", fig_price_paths(stress, shock, d / "price_paths.png")))
        figs.append(("Depth through the crash", fig_depth_heatmap(stress, shock, d / "depth_heatmap.png")))
        figs.append(("Slippage of a 100k USD sell", fig_slippage(stress, shock, d / "slippage.png")))
    figs.append(("Liquidation waterfall", fig_liquidations(table("margin_events"), table("chain_liquidations"),
                                                          shock, d / "liquidations.png")))
    tl = timeline(d)
    figs.append(("Cascade timeline", fig_timeline(tl, d / "timeline.png")))
    if stress is not None and len(stress):
        p = fig_real_overlay(stress, shock, d / "real_overlay.png", data_dir)
        if p is not None:
            figs.append(("Beside the real 10 October 2025", p))
    parts = [f"<h1>lob report: {html.escape(str(summary.get('scenario')))} (seed {summary.get('seed')})</h1>",
             f"<p>simulated {summary.get('simulated_s')} s, {summary.get('events')} events, wall "
             f"{summary.get('wall_s')} s; conservation error (atoms): "
             f"{html.escape(str(summary.get('conservation_error_atoms')))}</p>"]
    tg = table("targets")
    if tg is not None:
        parts += ["<h2>Targets</h2>", _table(tg)]
    parts += ["<h2>Causal chain</h2>", _table(tl)]
    for title, p in figs:
        b64 = base64.b64encode(Path(p).read_bytes()).decode()
        parts += [f"<h2>{html.escape(title)}</h2>", f'<img src="data:image/png;base64,{b64}" style="max-width:100%">']
    for name, title in (("wicks", "Wicks per book"), ("liquidations", "Liquidations by kind"),
                        ("market_makers", "Market makers")):
        t = table(name)
        if t is not None and len(t):
            parts += [f"<h2>{title}</h2>", _table(t)]
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>lob report</title><style>"
            "body{font-family:sans-serif;max-width:1200px;margin:auto} table{border-collapse:collapse;font-size:12px}"
            "td,th{padding:2px 6px;border-bottom:1px solid #ddd}</style></head><body>" + "\n".join(parts)
            + "</body></html>")
    out = d / "report.html"
    out.write_text(page)
    return out


def add_arguments(p) -> None:
    p.add_argument("run_dir", help="a folder written by `lob run SCENARIO --out RUN_DIR`")


def main(args) -> int:
    import sys
    try:
        out = make_report(args.run_dir)
    except FileNotFoundError as e:
        print(f"lob report: {e}", file=sys.stderr)
        return 2
    print(out)
    return 0
