"""``lob lobster MESSAGE_FILE [ORDERBOOK_FILE]``: replay a LOBSTER message
file into the engine and, with the orderbook file, check the engine's top N
(N = orderbook columns / 4) against every row.

Prints rows checked / equal, the reconciliations by kind, the execution hit
rate and the replay loop's messages per second (``--json``: one JSON object).
Exit status: 0 when every row is equal (or no orderbook was given), 1 on any
mismatch, 2 when a file is malformed (the error names file and line)."""
from __future__ import annotations

import argparse
import json
import sys
import time


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("message_file", metavar="MESSAGE_FILE", help="LOBSTER message file (..._message_N.csv)")
    p.add_argument("orderbook_file", metavar="ORDERBOOK_FILE", nargs="?", default=None,
                   help="matching orderbook file (..._orderbook_N.csv); without it: replay, hit rate "
                        "and throughput only")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--max-rows", type=int, default=None, metavar="N", help="replay only the first N messages")
    p.add_argument("--tick", type=int, default=100,
                   help="LOBSTER price units per tick (default 100: USD 0.01)")
    p.add_argument("--check-engine", action="store_true",
                   help="run the engine's invariant checker after every message (slow)")


def _report(r, load_s: float) -> str:
    lines = [f"messages            {r.messages}  (by type: "
             + ", ".join(f"{k}:{v}" for k, v in sorted(r.by_type.items())) + ")"]
    if r.levels:
        pct = 100.0 * r.rows_equal / r.rows_checked if r.rows_checked else 100.0
        lines += [f"levels              {r.levels}",
                  f"rows checked        {r.rows_checked}",
                  f"rows equal          {r.rows_equal}  ({pct:.3f}%)"]
        if r.first_mismatch is not None:
            lines.append(f"first mismatch      {r.first_mismatch_detail}")
        lines.append(f"seed                {r.seed_levels} levels, {r.seed_lots} lots (synthetic, front)")
        lines.append(f"reconciliations     at {r.recon_prices} entering prices; "
                     f"+{r.lots_added} / -{r.lots_removed} lots")
        for kind, (count, lots) in r.reconciliations.items():
            if count or lots:
                lines.append(f"  {kind:<18}{count} ({lots} lots)")
    lines.append(f"unknown ids         {r.unknown_refs} messages: lots from synthetic {r.unknown_lots_synthetic}, "
                 f"dead {r.unknown_lots_dead}, slack {r.unknown_lots_slack}, unmatched {r.unknown_lots_unmatched}")
    hr = "n/a" if not r.exec_known else f"{100.0 * r.hit_rate:.2f}%"
    lines.append(f"executions          {r.executions}: known {r.exec_known}, hits {r.exec_hits} ({hr}; "
                 f"strict {r.exec_hits_strict}), unknown {r.exec_unknown}, sweeps settled {r.priority_repairs}")
    if r.stale_levels_removed:
        lines.append(f"stale levels        {r.stale_levels_removed} removed ({r.stale_lots_removed} lots)")
    lines.append(f"throughput          {r.messages_per_s:,.0f} messages/s  "
                 f"(replay {r.seconds:.3f} s, load {load_s:.3f} s)")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    from lob.data.lobster import LobsterFormatError, load_messages, load_pair
    from lob.replay.lobster import replay

    t0 = time.perf_counter()
    try:
        if args.orderbook_file:
            msgs, book = load_pair(args.message_file, args.orderbook_file)
        else:
            msgs, book = load_messages(args.message_file), None
        load_s = time.perf_counter() - t0
        r = replay(msgs, book, tick=args.tick, max_rows=args.max_rows, check_engine=args.check_engine)
    except (LobsterFormatError, OSError) as exc:
        print(f"lob lobster: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        d = r.to_dict()
        d["load_seconds"] = load_s
        d["message_file"] = str(args.message_file)
        d["orderbook_file"] = None if args.orderbook_file is None else str(args.orderbook_file)
        print(json.dumps(d))
    else:
        print(_report(r, load_s))
    return 0 if r.all_equal else 1
