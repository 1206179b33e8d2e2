"""``lob bench``: engine throughput, per-message cost and start times, as JSON."""
from __future__ import annotations

import json


def add_arguments(p) -> None:
    p.add_argument("--quick", action="store_true", help="small workloads (a smoke test, not a measurement)")
    p.add_argument("--only", choices=["synthetic", "lobster", "per_message", "start"],
                   help="run one workload only")


def main(args) -> int:
    from . import runner

    if args.only:
        fn = {"synthetic": runner.bench_synthetic, "lobster": runner.bench_lobster,
              "per_message": runner.bench_per_message, "start": runner.bench_start}[args.only]
        result = {args.only: fn()}
    else:
        result = runner.run_all(quick=args.quick)
    print(json.dumps(result, indent=2))
    return 0
