"""``lob run SCENARIO``: run a scenario and print a summary."""
from __future__ import annotations

import json
import time


def add_arguments(p) -> None:
    p.add_argument("scenario", help="a named scenario (calm-day)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration", type=float, default=None, help="simulated seconds (default: the scenario's)")
    p.add_argument("--out", default=None, help="folder for the logs (.npz) and summary.json")
    p.add_argument("--no-progress", action="store_true")


def main(args) -> int:
    import numpy as np

    from .run import run
    from .sim.layout import K_EVENTS

    import sys

    from .run import SCENARIOS

    if args.scenario not in SCENARIOS:
        print(f"lob run: unknown scenario {args.scenario!r}; known: {', '.join(sorted(SCENARIOS))}", file=sys.stderr)
        return 2
    kw = {} if args.duration is None else {"duration_s": args.duration}
    t0 = time.perf_counter()
    try:
        res = run(args.scenario, seed=args.seed, progress=not args.no_progress, **kw)
    except ValueError as e:
        print(f"lob run: {e}", file=sys.stderr)
        return 2
    wall = time.perf_counter() - t0
    W = res.sim.W
    snaps = res.snapshots
    ok = (snaps["bid"] > 0) & (snaps["ask"] > 0)
    spread = (snaps["ask"] - snaps["bid"])[ok]
    summary = {
        "scenario": args.scenario, "seed": args.seed, "simulated_s": res.sim.t_end / 1e9,
        "wall_s": round(wall, 3), "events": int(W.clock[K_EVENTS]), "events_per_s": int(W.clock[K_EVENTS] / wall),
        "fills": int(len(res.fills)), "order_events": int(len(res.events)),
        "spread_ticks": {"median": float(np.median(spread)) if len(spread) else None,
                         "p90": float(np.percentile(spread, 90)) if len(spread) else None},
        "conservation_error_atoms": [int(x) for x in res.conservation_error()],
        "digest": res.digest(),
    }
    print(json.dumps(summary, indent=2))
    if args.out:
        from pathlib import Path
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out / "logs.npz", **{k: res.logs[k] for k in res.logs.keys()})
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return 0 if not any(summary["conservation_error_atoms"]) else 1
