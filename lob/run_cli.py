"""``lob run SCENARIO``: run a scenario and print a summary."""
from __future__ import annotations

import json
import time


def add_arguments(p) -> None:
    p.add_argument("scenario", help="a named scenario (oct-10-2025 and its counterfactuals oct-10-2025-*, "
                                    "liquidation-cascade, usde-depeg, calm-day) or a scenario file (.toml)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario builder argument (Python literal), e.g. --set kill_switch=False")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration", type=float, default=None, help="simulated seconds (default: the scenario's)")
    p.add_argument("--out", default=None, help="folder for the logs (.npz) and summary.json")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--logs", action="store_true",
                   help="also write the raw fills / order events / submissions logs (large) with --out")


def main(args) -> int:
    import numpy as np

    from .run import run
    from .sim.layout import K_EVENTS

    import sys

    from .run import known

    is_file = args.scenario.endswith(".toml") or "/" in args.scenario
    if not is_file and args.scenario not in known():
        print(f"lob run: unknown scenario {args.scenario!r}; known: {', '.join(known())}", file=sys.stderr)
        return 2
    kw = {} if args.duration is None else {"duration_s": args.duration}
    import ast
    for item in args.set:
        key, sep, val = item.partition("=")
        if not sep or not key.isidentifier():
            print(f"lob run: --set expects KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        try:
            kw[key] = ast.literal_eval(val)
        except (ValueError, SyntaxError):
            kw[key] = val               # a bare word: a string

    t0 = time.perf_counter()
    try:
        res = run(args.scenario, seed=args.seed, progress=not args.no_progress, **kw)
    except (ValueError, TypeError) as e:
        print(f"lob run: {e}", file=sys.stderr)
        return 2
    wall = time.perf_counter() - t0
    W = res.sim.W
    snaps = res.snapshots
    ok = (snaps["bid"] > 0) & (snaps["ask"] > 0)
    spread = (snaps["ask"] - snaps["bid"])[ok]
    summary = {
        "scenario": args.scenario,
        "shock_s": min((t for t, _, _ in res.sim.spec.shocks), default=0.0),
        "risk_venue": next(iter(res.sim.risk_engines), None), "seed": args.seed, "simulated_s": res.sim.t_end / 1e9,
        "wall_s": round(wall, 3), "events": int(W.clock[K_EVENTS]), "events_per_s": int(W.clock[K_EVENTS] / wall),
        "fills": int(len(res.fills)), "order_events": int(len(res.events)),
        "spread_ticks": {"median": float(np.median(spread)) if len(spread) else None,
                         "p90": float(np.percentile(spread, 90)) if len(spread) else None},
        "conservation_error_atoms": [int(x) for x in res.conservation_error()],
        "digest": res.digest(),
    }
    tables = {}
    from .analysis.scorecard import scorecards
    cards = scorecards(res)
    tables["scorecards"] = cards
    if len(cards):
        cols = [c for c in ("agent", "fills_maker", "mtm_pnl", "realized_pnl", "inventory_change_lots",
                            "quoted_half_spread_ticks", "adverse_selection_ticks", "time_in_market",
                            "time_with_bids", "margin_ratio_min", "takeovers") if c in cards]
        import pandas as pd
        shown = cards if len(cards) <= 20 else cards.sort_values("mtm_pnl").iloc[list(range(10)) + list(range(-10, 0))]
        more = "" if len(cards) <= 20 else f" (10 worst and 10 best by PnL of {len(cards)}; all in scorecards.parquet)"
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
            print(f"market makers' scorecards{more}:\n" + shown[cols].to_string(index=False), file=sys.stderr)
    if res.sim.risk_engines:
        from .analysis import crash
        shock_s = min((t for t, _, _ in res.sim.spec.shocks), default=0.0)
        tables.update({"wicks": crash.wicks(res, shock_s), "liquidations": crash.liquidations(res),
                       "liquidation_volumes": crash.liquidation_volumes(res),
                       "market_makers": crash.market_makers(res), "accounts": crash.passive_leverage(res),
                       "loopers": crash.loopers(res)})
        summary["wicks"] = _records(tables["wicks"])
        summary["liquidations"] = _records(tables["liquidations"])
        summary["liquidation_volumes"] = _records(tables["liquidation_volumes"])
        lv = tables["liquidation_volumes"]
        if len(lv):
            print("liquidation volume by type and venue (USD):\n"
                  + lv.to_string(index=False, float_format=lambda x: f"{x:,.0f}"), file=sys.stderr)
        mm = tables["market_makers"]
        acc = tables["accounts"]
        summary["market_makers"] = {
            "count": int(len(mm)), "pulled_bids": int((mm["pulls"] > 0).sum()) if len(mm) else 0,
            "reentered": int((mm["reentries"] > 0).sum()) if len(mm) else 0,
            "taken_over": int(mm["taken_over"].sum()) if len(mm) else 0,
            "pnl_total": float(mm["pnl"].sum()) if len(mm) else 0.0}
        summary["unified_accounts"] = {
            "count": int(len(acc)), "taken_over": int(acc["taken_over_s"].notna().sum()),
            "closed": int(acc["closed"].sum()),
            "median_leverage_start": float(acc["leverage_start"].median()) if len(acc) else None,
            "median_leverage_max_before_takeover": float(acc["leverage_max"].median()) if len(acc) else None}
    for name, ch in getattr(res.sim, "chains", {}).items():
        liq = ch.liquidation_table()
        pool = [p for _, p in ch.pool_prices]
        summary.setdefault("chains", {})[name] = {
            "pool_usde_low": min(pool) if pool else None, "pool_usde_end": pool[-1] if pool else None,
            "lending_liquidations": int(len(liq)),
            "lending_debt_repaid_usd": float(liq["debt_repaid_usd"].sum()),
            "lending_liquidations_by_collateral": {c: int((liq["collateral"] == c).sum()) for c in set(liq["collateral"])},
            "loop_unwinds": len(ch.unwinds), "bridge_transfers": len(ch.transfers)}
        tables[f"{name}_liquidations"] = __import__("pandas").DataFrame(liq)
        tables[f"{name}_unwinds"] = __import__("pandas").DataFrame(
            ch.unwinds, columns=["ts", "user", "usde_sold", "completed"])
    if args.scenario.startswith("oct-10-2025") or "oct_10_2025" in repr(type(res.sim.spec)) or \
            {"BIG", "CALM"} <= {b.venue for b in res.sim.spec.books}:
        from .analysis import crash
        shock_s = min((t for t, _, _ in res.sim.spec.shocks), default=0.0)
        ch = next(iter(res.sim.chains.values()), None)
        pool_low = min(p for _, p in ch.pool_prices) if ch is not None and ch.pool_prices else None
        tgt = crash.oct10_targets(res, shock_s, pool_low=pool_low)
        tables["targets"] = tgt
        summary["targets"] = _records(tgt)
        print("targets of the crash replay (issue #7):\n" + tgt.to_string(index=False), file=sys.stderr)
    print(json.dumps(summary, indent=2))
    if args.out:
        from pathlib import Path
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        _write_tables(res, tables, out, raw=args.logs)
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        if res.sim.risk_engines:
            from .report import make_report
            make_report(out)
        print(f"wrote {out}/ (summary.json, Parquet tables" + (", figures, report.html)" if res.sim.risk_engines
                                                               else ")"), file=sys.stderr)
    return 0 if not any(summary["conservation_error_atoms"]) else 1


def _records(df):
    """A DataFrame as JSON-safe records (NaN -> None, numpy scalars -> Python)."""
    import math
    out = []
    for r in df.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else
                        v.item() if hasattr(v, "item") else v) for k, v in r.items()})
    return out


def _write_tables(res, tables: dict, out, *, raw: bool) -> None:
    """Parquet tables of a run in ``out``: the analysis tables, the
    per-second stress table of every book, the risk engines' events and
    states, the chains' liquidations; with ``raw`` the fills, order events
    and submissions too.  Written table by table, each complete or absent."""
    import pandas as pd

    from .analysis import crash

    def put(name, df):
        tmp = out / f".{name}.parquet.tmp"
        df.to_parquet(tmp, index=False)
        tmp.replace(out / f"{name}.parquet")

    for name, df in tables.items():
        put(name, df)
    parts = []
    by_book = crash.snapshots_by_book(res)
    for b, bk in enumerate(res.sim.spec.books):
        st = crash.stress(res, b, by_book.get(b, res.snapshots[:0]))
        st.insert(0, "symbol", f"{bk.base}/{bk.quote}")
        st.insert(0, "venue", bk.venue)
        st.insert(0, "book", b)
        parts.append(st)
    if parts:
        put("stress", pd.concat(parts, ignore_index=True))
    if res.sim.risk_engines:
        put("margin_events", res.frame("margin_events"))
        ms = res.frame("margin_states")
        if len(ms):
            put("margin_states", ms)
    if raw:
        for name in ("fills", "events", "submissions"):
            if len(res.logs[name]):
                put(name, res.frame(name))
