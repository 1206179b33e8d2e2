"""Calibration runs of oct-10-2025: every parameter set in a JSON file, on
local processes, one JSON line per run with the targets table, the alt wick
distribution and the causal chain's first times.

    python tools/calibrate_oct10.py GRID.json OUT.jsonl [--workers N] [--seed S]

GRID.json: a list of {"name": ..., "params": {...builder overrides...}}.
Not part of the package: a researcher's tool for the calibration notes."""
from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed


def one(name, params, seed):
    import numpy as np

    from lob.analysis import crash
    from lob.run import run
    t0 = time.perf_counter()
    try:
        res = run("oct-10-2025", seed=seed, **params)
    except Exception as e:                                   # noqa: BLE001 (recorded)
        return {"name": name, "params": params, "seed": seed, "error": repr(e)}
    wall = time.perf_counter() - t0
    shock = min(t for t, _, _ in res.sim.spec.shocks)
    ch = next(iter(res.sim.chains.values()), None)
    pool_low = min(p for _, p in ch.pool_prices) if ch is not None and ch.pool_prices else None
    tgt = crash.oct10_targets(res, shock, pool_low=pool_low)
    w = crash.wicks(res, shock)
    big = w[(w["venue"] == "BIG") & w["symbol"].str.startswith("ALT")]
    out = {"name": name, "params": params, "seed": seed, "wall_s": round(wall, 1),
           "met": int(tgt["met"].sum()), "of": int(len(tgt)),
           "targets": dict(zip(tgt["target_name"].str[:28], tgt["measured"])),
           "alt_wicks_q": [round(float(x), 3) for x in np.quantile(big["wick"], [0.1, 0.25, 0.5, 0.75, 0.9])],
           "alt_tlow_min_q": [round(float(x) / 60, 1) for x in np.quantile(big["t_low_s"], [0.25, 0.5, 0.75])]}
    mm = crash.market_makers(res)
    me = res.frame("margin_events")
    taken = me[(me["kind"] == 2) & me["account"].isin(mm["account"])].groupby("account")["ts"].min() / 1e9 - shock
    unw = [t / 1e9 - shock for t, *_ in ch.unwinds] if ch is not None else []
    eng = next(iter(res.sim.risk_engines.values()))
    apu = float(eng.cfg.atoms_per_unit[eng.q])
    out["chain"] = {"unwind_first_s": round(min(unw), 0) if unw else None, "n_unwinds": len(unw),
                    "mm_taken": int(len(taken)), "mm_taken_first_med_s": [round(float(taken.min())), round(float(taken.median()))] if len(taken) else None,
                    "mm_pulled": int((mm["pulls"] > 0).sum()),
                    "mm_pull_first_med_s": [round(float(mm["first_pull_s"].min() - shock)), round(float(mm["first_pull_s"].median() - shock))] if (mm["pulls"] > 0).any() else None,
                    "liquidated_musd": round(float(me.loc[me["kind"] == 3, "notional"].sum()) / apu / 1e6, 1)}
    return out


def main(argv):
    grid = json.load(open(argv[0]))
    out = argv[1]
    workers = int(argv[argv.index("--workers") + 1]) if "--workers" in argv else 2
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 0
    with ProcessPoolExecutor(max_workers=workers) as ex, open(out, "a") as f:
        futs = [ex.submit(one, g["name"], g["params"], g.get("seed", seed)) for g in grid]
        for fu in as_completed(futs):
            r = fu.result()
            f.write(json.dumps(r) + "\n")
            f.flush()
            print(r["name"], r.get("met"), r.get("alt_wicks_q"), r.get("targets", r.get("error")), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
