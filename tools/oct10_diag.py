"""Diagnose one oct-10-2025 run minute by minute (a calibration aid, not
part of the package).

    python tools/oct10_diag.py [KEY=VALUE ...] [--seed S] [--every 120]

KEY=VALUE are builder overrides (Python literals).  Prints, every
``--every`` seconds from 5 minutes before the shock: BTC, ETH, USDe,
WBETH, BNSOL prices (ratio to the pre-shock level), the altcoins'
median / quartile ratio on BIG and CALM, cumulative takeovers by kind of
account, market makers with bids pulled, and then the targets table."""
from __future__ import annotations

import ast
import sys
import time

import numpy as np
import pandas as pd


def main(argv):
    kw, seed, every = {}, 0, 120.0
    it = iter(argv)
    for a in it:
        if a == "--seed":
            seed = int(next(it))
        elif a == "--every":
            every = float(next(it))
        else:
            k, v = a.split("=", 1)
            try:
                kw[k] = ast.literal_eval(v)
            except (ValueError, SyntaxError):
                kw[k] = v
    from lob.analysis import crash
    from lob.run import scenario_spec
    from lob.sim.model import Simulation
    from lob.sim.strategy import Strategy  # noqa: F401
    spec = scenario_spec("oct-10-2025", **kw)
    t0 = time.perf_counter()
    sim = Simulation(spec, seed=seed)
    res = sim.run()
    wall = time.perf_counter() - t0
    shock = min(t for t, _, _ in spec.shocks)
    f = res.fills
    books = spec.books
    grid = np.arange(shock - 300.0, spec.duration_s + 1e-9, every)

    def path(b):
        m = f["book"] == b
        ts, px = f["ts"][m] / 1e9, f["price"][m] * float(books[b].tick)
        pre = px[(ts >= shock - 60) & (ts < shock)]
        if not len(pre):
            return np.full(len(grid), np.nan), np.full(len(grid), np.nan)
        o = float(np.median(pre))
        last, low = [], []
        for t in grid:
            w = (ts >= t - every) & (ts < t)
            last.append(px[ts < t][-1] / o if (ts < t).any() else np.nan)
            low.append(px[w].min() / o if w.any() else np.nan)
        return np.array(last), np.array(low)

    ix = {(b.venue, b.base): i for i, b in enumerate(books)}
    cols = {}
    for name in ("BTC", "ETH", "USDe", "WBETH", "BNSOL"):
        cols[name] = path(ix[("BIG", name)])[1]
    alt_big = np.array([path(i)[1] for (v, a), i in ix.items() if v == "BIG" and a.startswith("ALT")])
    alt_calm = np.array([path(i)[1] for (v, a), i in ix.items() if v == "CALM" and a.startswith("ALT")])
    # account kinds
    kinds = {}
    for a, st in sim.strategies.items():
        kinds[int(sim.W.agents[a, 1])] = type(st).__name__
    me = res.frame("margin_events")
    tk = me[me["kind"] == 2].copy()
    tk["who"] = tk["account"].map(kinds)
    mm = crash.market_makers(res)
    st = res.sim.risk_engines["BIG"].state_table()
    ms = pd.DataFrame(st)
    ms = ms[ms["account"].isin(mm["account"])]
    ms_times = np.unique(ms["ts"].to_numpy())
    rows = []
    for k, t in enumerate(grid):
        r = {"t_min": round((t - shock) / 60, 1)}
        for name, v in cols.items():
            r[name] = v[k]
        r["alt_q25"], r["alt_med"], r["alt_min"] = (np.nanquantile(alt_big[:, k], 0.25), np.nanmedian(alt_big[:, k]),
                                                    np.nanmin(alt_big[:, k]))
        r["calm_med"] = np.nanmedian(alt_calm[:, k]) if len(alt_calm) else np.nan
        done = tk[tk["ts"] / 1e9 < t]
        for who, short in (("GuardedLadderMM", "tk_mm"), ("Holder", "tk_long"), ("ExchangeLooper", "tk_loop"),
                           ("Whale", "tk_whale")):
            r[short] = int((done["who"] == who).sum())
        r["pulled"] = int((mm["first_pull_s"] < t).sum())
        r["mm_acc_tk"] = int(done[done["who"] == "GuardedLadderMM"]["account"].nunique())
        if len(ms):
            k2 = np.searchsorted(ms_times, t * 1e9) - 1
            if k2 >= 0:
                rr = ms[ms["ts"] == ms_times[k2]]["ratio"]
                r["mm_r_q25"], r["mm_r_med"] = np.nanquantile(rr, 0.25), np.nanmedian(rr)
        rows.append(r)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    ch = next(iter(sim.chains.values()), None)
    pool_low = min(p for _, p in ch.pool_prices) if ch is not None and ch.pool_prices else None
    print(crash.oct10_targets(res, shock, pool_low=pool_low).to_string(index=False))
    w = crash.wicks(res, shock)
    big = w[(w["venue"] == "BIG") & w["symbol"].str.startswith("ALT")]
    print("alt wicks q10/25/50/75/90:", np.round(np.quantile(big["wick"], [0.1, 0.25, 0.5, 0.75, 0.9]), 3),
          " t_low min q25/50/75:", np.round(np.quantile(big["t_low_s"] / 60, [0.25, 0.5, 0.75]), 1))
    print("trigger counts:", mm["trigger"].value_counts().to_dict(), " MMs:", len(mm), " taken over:",
          int(mm["taken_over"].sum()))
    print(f"wall {wall:.1f} s, events {int(res.sim.W.clock[0]) if False else ''}")


if __name__ == "__main__":
    main(sys.argv[1:])
