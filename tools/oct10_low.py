"""Who made the lowest trades of one book in an oct-10-2025 run (a
calibration aid, not part of the package).

    python tools/oct10_low.py BASE [KEY=VALUE ...] [--seed S] [--venue BIG]"""
from __future__ import annotations

import ast
import sys

import numpy as np


def main(argv):
    base, kw, seed, venue = argv[0], {}, 0, "BIG"
    it = iter(argv[1:])
    for a in it:
        if a == "--seed":
            seed = int(next(it))
        elif a == "--venue":
            venue = next(it)
        else:
            k, v = a.split("=", 1)
            try:
                kw[k] = ast.literal_eval(v)
            except (ValueError, SyntaxError):
                kw[k] = v
    from lob.run import scenario_spec
    from lob.sim.model import Simulation
    sys.path.insert(0, "tools")
    from oct10_flow import kind_names
    spec = scenario_spec("oct-10-2025", **kw)
    sim = Simulation(spec, seed=seed)
    res = sim.run()
    kinds = kind_names(sim)
    b = next(i for i, bk in enumerate(spec.books) if bk.venue == venue and bk.base == base)
    tick = float(spec.books[b].tick)
    f = res.fills[res.fills["book"] == b]
    shock = min(t for t, _, _ in spec.shocks)
    pre = f["price"][(f["ts"] < shock * 1e9) & (f["ts"] > (shock - 60) * 1e9)]
    o = float(np.median(pre))
    order = np.argsort(f["price"])[:15]
    for k in sorted(order, key=lambda k: f["ts"][k]):
        r = f[k]
        print(f"t={r['ts'] / 1e9 - shock:8.1f}s px/open={r['price'] / o:.3f} qty={r['qty']} "
              f"taker={kinds.get(int(r['taker_agent']))}({r['taker_agent']}) maker={kinds.get(int(r['maker_agent']))}"
              f" side={'buy' if r['taker_side'] == 0 else 'sell'} taker_id={r['taker_id']}")
    # the taker orders that made the lows: all their fills
    for tid in sorted({int(f["taker_id"][k]) for k in order})[:3]:
        g = f[f["taker_id"] == tid]
        print(f"taker order {tid}: {len(g)} fills, px/open {g['price'].max() / o:.3f}..{g['price'].min() / o:.3f}, "
              f"qty {g['qty'].sum()}, makers {sorted({kinds.get(int(m)) for m in g['maker_agent']})}")


if __name__ == "__main__":
    main(sys.argv[1:])
