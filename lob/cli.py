"""The ``lob`` command line.  Each subcommand lives in its own module and is
imported only when used, so ``lob --help`` stays fast."""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, help); the module defines add_arguments(parser) and main(args) -> int
SUBCOMMANDS = {
    "run": ("lob.run_cli", "run a scenario (oct-10-2025, liquidation-cascade, usde-depeg, flash-crash, "
                           "stablecoin-depeg, calm-day) and print a summary"),
    "explain": ("lob.explain", "print the causal chain of a crash run written by `lob run --out`"),
    "sweep": ("lob.sweeps", "run a scenario over a parameter grid and seeds on local processes"),
    "compare": ("lob.compare", "run a base scenario and its counterfactuals over the same seeds and print one "
                               "table (altcoin wicks, majors, USDe, liquidation volume by type)"),
    "benchmark": ("lob.mm_benchmark", "evaluate your market maker (an import path) on the crash suite against the "
                                      "built-in market makers: scorecard, benchmark.json, benchmark.png"),
    "report": ("lob.report", "write the figures and the HTML report of a run written by `lob run --out`"),
    "lobster": ("lob.replay.lobster_cli", "replay a LOBSTER message file and check it against the orderbook file"),
    "bench": ("lob.bench.cli", "measure engine throughput against the reference twin (prints JSON)"),
    "reproduce": ("lob.reproduce.cli", "reproduce a published result (as2008: Avellaneda-Stoikov 2008 tables)"),
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lob", description="Order-book microstructure simulator.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module, help_) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(_module=module)
        # arguments are added lazily in main() once the command is known
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    # find the subcommand first, then let its module declare its arguments
    known, _ = parser.parse_known_args(argv[:1]) if argv and not argv[0].startswith("-") else (None, None)
    if known is None:
        parser.parse_args(argv)
        return 2
    mod = importlib.import_module(known._module)
    sp = argparse.ArgumentParser(prog=f"lob {known.command}", description=SUBCOMMANDS[known.command][1])
    mod.add_arguments(sp)
    args = sp.parse_args(argv[1:])
    return int(mod.main(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
