"""``lob reproduce``: reproduce a published result and compare with it.

    lob reproduce as2008 [--paths N] [--seed S] [--timing T] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import sys
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="target", metavar="TARGET")
    sub.required = True
    p = sub.add_parser(
        "as2008", help="Avellaneda & Stoikov (2008) sec. 3.3 tables: inventory vs symmetric strategy",
        description="Simulate the Avellaneda-Stoikov (2008) tables and print ours beside the "
                    "paper's.  1,000 paths (the default) is the paper's sample size; use more "
                    "(e.g. --paths 100000) for a tight estimate of our own.")
    p.add_argument("--paths", type=int, default=1000, metavar="N",
                   help="simulated paths per strategy and gamma (default 1000, the paper's)")
    p.add_argument("--seed", type=int, default=2008, metavar="S", help="seed (default 2008)")
    p.add_argument("--timing", choices=("after_move", "before_move", "both"), default="both",
                   help="fill timing convention (default: both; after_move matches the paper)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH ('-': stdout)")


def main(args: argparse.Namespace) -> int:
    if args.target != "as2008":  # pragma: no cover - argparse restricts choices
        print(f"unknown target {args.target!r}", file=sys.stderr)
        return 2
    from . import as2008

    if args.paths < 2:
        print("--paths must be >= 2", file=sys.stderr)
        return 2
    timings = ("after_move", "before_move") if args.timing == "both" else (args.timing,)
    t0 = time.perf_counter()
    result = as2008.run(n_paths=args.paths, seed=args.seed, timings=timings)
    result["elapsed_s"] = round(time.perf_counter() - t0, 3)
    if args.json == "-":
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    print(as2008.format_report(result))
    print(f"\n({result['elapsed_s']:.1f} s)")
    if args.json:
        print(f"wrote {args.json}")
    return 0
