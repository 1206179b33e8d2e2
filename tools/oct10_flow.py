"""Who trades with whom on the BIG altcoin books of one oct-10-2025 run (a
calibration aid, not part of the package).

    python tools/oct10_flow.py [KEY=VALUE ...] [--seed S] [--window 600]

For each window after the shock: USD bought and sold by each kind of agent
(summed over BIG altcoin books), split by taker / maker, and the resting
bid depth within 5% and 20% of the mid by kind at the window's start."""
from __future__ import annotations

import ast
import sys

import numpy as np
import pandas as pd


def kind_names(sim):
    from lob.sim import layout as L
    names = {L.KIND_ZI: "zi", L.KIND_NOISE: "noise", L.KIND_VALUE: "value", L.KIND_MOMENTUM: "momentum",
             L.KIND_LADDER_MM: "arb_mm", L.KIND_EXECUTOR: "executor"}
    out = {}
    for a in range(sim.W.agents.shape[0]):
        st = sim.strategies.get(a)
        out[a] = type(st).__name__ if st is not None else names.get(int(sim.W.agents[a, L.A_KIND]), "?")
    return out


def main(argv):
    kw, seed, win, only = {}, 0, 600.0, None
    it = iter(argv)
    for a in it:
        if a == "--seed":
            seed = int(next(it))
        elif a == "--window":
            win = float(next(it))
        elif a == "--base":
            only = next(it)
        else:
            k, v = a.split("=", 1)
            try:
                kw[k] = ast.literal_eval(v)
            except (ValueError, SyntaxError):
                kw[k] = v
    from lob.run import scenario_spec
    from lob.sim.model import Simulation
    spec = scenario_spec("oct-10-2025", **kw)
    sim = Simulation(spec, seed=seed)
    res = sim.run()
    shock = min(t for t, _, _ in spec.shocks)
    kinds = kind_names(sim)
    f = pd.DataFrame(res.fills)
    books = spec.books
    alt = [i for i, b in enumerate(books) if b.venue == "BIG" and (b.base == only if only else b.base.startswith("ALT"))]
    f = f[f["book"].isin(alt)].copy()
    f["usd"] = f["qty"] * np.array([float(books[b].lot) * float(books[b].tick) for b in f["book"]]) * f["price"]
    f["t"] = f["ts"] / 1e9 - shock
    print(f.columns.tolist())
    rows = []
    for w0 in np.arange(-win, spec.duration_s - shock, win):
        g = f[(f["t"] >= w0) & (f["t"] < w0 + win)]
        r = {"from_min": w0 / 60}
        tot = {}
        for side_col, agent_col in (("taker", "taker_agent"), ("maker", "maker_agent")):
            for ag, usd, tside in zip(g[agent_col], g["usd"], g["taker_side"]):
                k = kinds.get(int(ag), "?")
                buy = (tside == 0) if side_col == "taker" else (tside != 0)
                key = f"{k}"
                tot[key] = tot.get(key, 0.0) + (usd if buy else -usd)
        r.update({k: round(v / 1e6, 2) for k, v in sorted(tot.items())})
        rows.append(r)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    print("net USD bought (M) by kind on BIG altcoin books, per window (risk_engine = liquidation sells "
          "sent for taken-over accounts)")
    print(pd.DataFrame(rows).fillna(0).to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1:])
