"""Counterfactual comparison: several scenarios (a base case and its
counterfactual files) over the same seeds, one table.

``compare(["oct-10-2025", "oct-10-2025-no-loops"], seeds=3, out="cmp")``
runs every scenario with every seed (local processes, or a Dask cluster
with ``scheduler``), one folder per run under ``OUT/<scenario>/<run id>``
(resumable like :func:`lob.sweeps.sweep`), and returns one row per run:
the scenario, the seed and the run's metrics (:func:`lob.sweeps.metrics`:
altcoin wick distribution, majors' wicks, USDe low, liquidation volume by
type).  :func:`table` reduces it to one row per scenario -- the mean across
seeds of each metric and, for the altcoin wick median, its range across
seeds -- beside the base case (the first scenario).

``lob compare oct-10-2025 --counterfactuals --seeds 3 --out cmp`` is the
CLI: the base and every shipped file named ``<base>-*``; it prints the
table and writes ``compare.csv`` (runs) and ``compare_table.csv``.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .sweeps import _lost, _one, run_dask, run_id, run_local

TABLE_METRICS = ("alt_wick_median", "alt_wick_q25", "alt_wick_q75", "alt_share_80", "alt_t_low_min", "btc_wick",
                 "eth_wick", "usde_low", "accounts_taken_over", "spot_liq_usd", "perp_liq_usd", "adl_usd",
                 "lending_liq_usd")


def counterfactuals(base: str) -> list[str]:
    """The shipped scenario files named ``<base>-*`` (sorted)."""
    from .run import known
    return sorted(n for n in known() if n.startswith(base + "-"))


def compare(scenarios, seeds=3, *, out: str | os.PathLike = "compare", workers: int | None = None,
            progress: bool = False, scheduler=None):
    """Run every scenario with every seed (see the module docstring); a
    DataFrame with one row per run (``error`` holds a failed run's error)."""
    import pandas as pd
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    out = Path(out)
    rows, todo = [], []
    for sc in scenarios:
        d = out / sc.replace(os.sep, "_")
        d.mkdir(parents=True, exist_ok=True)
        for s in seeds:
            f = d / run_id(sc, {}, s) / "summary.json"
            if f.exists():
                rows.append(dict(json.loads(f.read_text()), scenario=sc))
            else:
                todo.append((sc, {}, s, str(d)))
    if todo:
        # _one's row does not carry the scenario: find it by run id
        by_id = {run_id(sc, p, s): sc for sc, p, s, _ in todo}
        done = run_dask(scheduler, _one, todo, progress=progress) if scheduler is not None else \
            run_local(_one, todo, workers or os.cpu_count() or 1, progress=progress, lost=_lost)
        rows += [dict(r, scenario=by_id[r["run"]]) for r in done]
    df = pd.DataFrame(rows)
    order = {sc: i for i, sc in enumerate(scenarios)}
    df["_o"] = df["scenario"].map(order)
    return df.sort_values(["_o", "seed"]).drop(columns="_o").reset_index(drop=True)


def table(runs, metrics=TABLE_METRICS):
    """One row per scenario (in the runs' order): the number of runs, the
    mean across seeds of each metric, the range of the altcoin wick median
    across seeds, and each metric's change against the first scenario."""
    import pandas as pd
    ok = runs[runs["error"].isna()] if "error" in runs else runs
    metrics = [m for m in metrics if m in ok]
    g = ok.groupby("scenario", sort=False)
    t = g[metrics].mean()
    t.insert(0, "runs", g.size())
    if "alt_wick_median" in ok:
        t.insert(2, "alt_wick_median_min", g["alt_wick_median"].min())
        t.insert(3, "alt_wick_median_max", g["alt_wick_median"].max())
    t = t.reindex([s for s in dict.fromkeys(runs["scenario"]) if s in t.index])
    return pd.DataFrame(t)


def add_arguments(p) -> None:
    p.add_argument("scenarios", nargs="+", help="named scenarios or scenario files; the first is the base case")
    p.add_argument("--counterfactuals", action="store_true",
                   help="add every shipped scenario named <first scenario>-* (oct-10-2025's five variants)")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 for every scenario")
    p.add_argument("--out", default="compare", help="folder of the per-run results (resumable)")
    p.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    p.add_argument("--scheduler", default=None, help="a Dask distributed scheduler address (tcp://host:port)")


def main(args) -> int:
    import pandas as pd
    from .run import known
    scen = list(args.scenarios)
    if args.counterfactuals:
        scen += [c for c in counterfactuals(scen[0]) if c not in scen]
    names = set(known())
    bad = [s for s in scen if s not in names and not Path(s).exists()]
    if bad:
        print(f"lob compare: unknown scenario(s) {', '.join(bad)}; known: {', '.join(sorted(names))}", file=sys.stderr)
        return 2
    runs = compare(scen, args.seeds, out=args.out, workers=args.workers, progress=True, scheduler=args.scheduler)
    out = Path(args.out)
    runs.drop(columns=[c for c in ("traceback",) if c in runs]).to_csv(out / "compare.csv", index=False)
    t = table(runs)
    t.to_csv(out / "compare_table.csv")
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.precision", 3):
        print(t.T.to_string())
    failed = runs[runs["error"].notna()] if "error" in runs else runs.iloc[:0]
    for _, r in failed.iterrows():
        print(f"lob compare: {r['scenario']} seed {r['seed']} failed: {r['error']}", file=sys.stderr)
    return 0 if failed.empty else 1
