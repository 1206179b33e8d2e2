"""Evaluate a user's market maker on the crash suite (:mod:`lob.suite`):
``lob benchmark pkg.mod:MyMM`` / :func:`benchmark` (also ``lob.benchmark``).

Every entry of the suite runs with each of its seeds, the user's strategy
in place of ``share`` of the built-in unified-account market makers on
every book (:func:`lob.suite.spec`), on local processes.  In each run the
user's agents (those built from the user's class) and the built-in market
makers of the same kind of account (the other
:class:`strategies.guarded_ladder.GuardedLadderMM` agents on unified
accounts) are watched by :class:`lob.analysis.mm_observer.Sampler`, which
gives, per agent: PnL, worst drawdown of the marked-to-market PnL,
inventory at the low, time in market and liquidity within 2% of the mid
during the crash window, and whether the risk engine took it over.  Each
run writes ``OUT/<run id>/agents.json`` when it finishes; a benchmark
started again with the same ``out`` reads the finished runs back instead
of running them (resume).  A run that raises is recorded with its error
(``error`` column, ``failed`` in the scorecard) without stopping the
others, and is run again on resume.  The run id hashes the suite entry
(:func:`lob.suite.entry_key`), the seed, the share and the strategy: its
import path and the source of the file that defines it, so that editing
your strategy gives new runs instead of stale ones read back.

``suite`` is ``"short"``, ``"full"`` or a sequence of
:class:`lob.suite.Entry` of your own.

:func:`benchmark` returns one row per agent and run (``role`` is
``"user"`` or ``"built-in"``); :func:`scorecard` condenses it into the
comparison (``benchmark.json``), :func:`plot_benchmark` draws it
(``benchmark.png``).  Money in USD (the books' quote, USDT).
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

from .sweeps import run_id, run_local

ROLES = ("user", "built-in")

#: the columns of the scorecard: (column, statistic over agents and runs, label)
CARD = (("pnl", "median", "PnL median, USD"), ("pnl", "p10", "PnL p10, USD"), ("pnl", "p90", "PnL p90, USD"),
        ("pnl_pct", "median", "PnL median, % of equity"), ("drawdown", "max", "worst drawdown, USD"),
        ("drawdown_pct", "median", "drawdown median, % of equity"),
        ("drawdown_pct", "max", "worst drawdown, % of equity"),
        ("inventory_at_low_usd", "median", "inventory change at the low median, USD"),
        ("time_in_market", "median", "time in market in the crash median"),
        ("time_with_bids", "median", "time with bids in the crash median"),
        ("liquidity_2pct_usd", "median", "liquidity within 2% in the crash median, USD"),
        ("bid_liquidity_2pct_usd", "median", "bids within 2% in the crash median, USD"),
        ("liquidated", "sum", "liquidated (agents)"), ("liquidated", "mean", "liquidated (share)"))


def strategy_path(strategy) -> str:
    """An import path for ``strategy`` (a class, or a path already)."""
    if isinstance(strategy, str):
        return strategy
    return f"{strategy.__module__}:{strategy.__qualname__}"


def load_strategy(strategy):
    """The strategy class named by ``strategy`` (an import path or a class).
    Raises ``ValueError`` with the reason when it cannot be imported or is
    not a :class:`lob.sim.strategy.Strategy` subclass."""
    from .config.errors import ConfigError
    from .sim.strategy import Strategy
    if isinstance(strategy, str):
        from .config.loader import load_object
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())          # like python -m: modules of the current folder
        try:
            obj = load_object(strategy)
        except ConfigError as e:
            raise ValueError(str(e).strip()) from None
    else:
        obj = strategy
    if not (isinstance(obj, type) and issubclass(obj, Strategy)):
        raise ValueError(f"{strategy_path(strategy)!r} is not a lob.sim.strategy.Strategy subclass (got {obj!r})")
    return obj


def strategy_source(cls) -> str:
    """A hash of the source file that defines ``cls`` (its import path when
    the file cannot be read)."""
    import hashlib
    import inspect
    try:
        data = Path(inspect.getsourcefile(cls) or "").read_bytes()
    except (TypeError, OSError):
        data = strategy_path(cls).encode()
    return hashlib.sha256(data).hexdigest()[:12]


def plan(strategy, suite="short", *, share: float = 0.5, names=None) -> list[tuple]:
    """The runs of a benchmark: ``(entry, seed, run id)`` for every entry of
    ``suite`` (see :func:`benchmark`) and each of its seeds."""
    from .suite import entries, entry_key
    cls = load_strategy(strategy)
    src = strategy_source(cls)
    out = []
    for e in entries(suite, names):
        key = {"entry": entry_key(e), "strategy": strategy_path(strategy), "source": src, "share": share}
        out += [(e, seed, run_id(e.name, key, seed)) for seed in e.seeds]
    return out


def _agents(sim, user_cls) -> tuple[list, list]:
    """(user agents, built-in market makers) of a simulation: the agents
    built from the user's class; GuardedLadderMM agents on unified accounts
    (Python or compiled)."""
    from strategies.guarded_ladder import GuardedLadderMM
    user, a = [], 0
    for p in sim.populations:
        if p.strategy is user_cls:
            user += range(a, a + p.count)
        a += p.count
    user = sorted(set(user) | {a for a, s in sim.strategies.items() if type(s) is user_cls})
    from .sim import layout as L
    compiled = {int(a) for a in (sim.W.agents[:, L.A_KIND] == L.KIND_GUARDED_MM).nonzero()[0]}
    builtin = sorted(a for a in set(a for a, s in sim.strategies.items() if isinstance(s, GuardedLadderMM)) | compiled
                     if sim.margin_venue_of[a] is not None and a not in set(user))
    return user, builtin


def run_one(entry, seed: int, strategy, share: float, out_dir: str, every_s: float = 1.0,
            path: str | None = None, rid: str | None = None) -> list[dict]:
    """One run of a suite entry with the user's strategy: one row per
    watched agent (also written to ``out_dir/<rid>/agents.json``; ``rid``
    defaults to the run id of :func:`plan`)."""
    from .analysis.mm_observer import Sampler
    from .sim.model import Simulation
    from .suite import spec as suite_spec
    if path and path not in sys.path:
        sys.path.insert(0, path)
    if rid is None:
        rid = next(r for e, s, r in plan(strategy, [entry], share=share) if s == seed)
    base = {"run": rid, "scenario": entry.name, "seed": seed}
    t0 = time.perf_counter()
    try:
        cls = load_strategy(strategy)
        sp = suite_spec(entry, cls, share)
        sim = Simulation(sp, seed=seed)
        user, builtin = _agents(sim, cls)
        if not user:
            raise ValueError(f"scenario {entry.scenario!r} built no agent of {strategy_path(strategy)!r}")
        window = entry.crash_window(sp)
        sampler = Sampler(sim, user + builtin, every_s=every_s, start_s=window[0])
        res = sim.run(progress=sampler)
        conserved = bool(not res.conservation_error().any())
        digest = res.digest()
        rows = []
        for r in sampler.figures(res, window):
            rows.append({**base, "role": "user" if r["agent"] in set(user) else "built-in", **r,
                         "conserved": conserved, "digest": digest, "error": None})
    except Exception as e:                          # recorded, not raised: the others go on
        rows = [{**base, "role": None, "error": f"{type(e).__name__}: {e}",
                 "traceback": traceback.format_exc(limit=5)}]
    wall = time.perf_counter() - t0
    for r in rows:
        r["wall_s"] = wall
    d = Path(out_dir) / rid
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / "agents.json.tmp"
    tmp.write_text(json.dumps(rows, default=_json_default, indent=1))
    tmp.replace(d / "agents.json")
    return rows


def _json_default(v):
    if hasattr(v, "item"):
        return v.item()
    return str(v)


def benchmark(strategy, suite="short", *, share: float = 0.5, out: str | os.PathLike = "benchmarks/run",
              workers: int | None = None, names=None, progress: bool = False, every_s: float = 1.0):
    """Run ``strategy`` (a Strategy class or an import path) across the
    ``suite`` (``"short"``, ``"full"`` or a sequence of
    :class:`lob.suite.Entry`; ``names``: only those entries) replacing
    ``share`` of the built-in market makers; returns the rows (one per
    watched agent and run; a run that failed has one row with its
    ``error``).  ``workers`` local processes (default: all cores);
    ``every_s``: the sampling period of the watched agents, s."""
    import pandas as pd

    from .suite import SUITE_VERSION, entries
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if not (isinstance(every_s, (int, float)) and every_s > 0):
        raise ValueError(f"every_s must be > 0 seconds, got {every_s!r}")
    runs = plan(strategy, suite, share=share, names=names)   # a bad path or suite fails here, before any run
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    todo, rows = [], []
    for e, seed, rid in runs:
        f = out / rid / "agents.json"
        done_rows = json.loads(f.read_text()) if f.exists() else None
        if done_rows and all(r.get("error") is None for r in done_rows):
            rows += done_rows                       # finished earlier: resume
        else:
            todo.append((e, seed, rid))             # not run yet, or failed: (again)
    # a class goes to the workers by reference (forked processes import it as the parent did)
    tasks = [(e, s, strategy, share, str(out), every_s, os.getcwd(), rid) for e, s, rid in todo]
    for r in run_local(run_one, tasks, workers or os.cpu_count() or 1, progress=progress,
                       failed=lambda r: r[0].get("error") is not None,
                       lost=lambda t, error: [{"run": t[7], "scenario": t[0].name, "seed": t[1], "role": None,
                                               "error": error}]):
        rows += r
    df = pd.DataFrame(rows)
    order = {e.name: i for i, e in enumerate(entries(suite))}
    if len(df):
        df = df.sort_values(["scenario", "seed", "agent"] if "agent" in df else ["scenario", "seed"],
                            key=lambda c: c.map(order) if c.name == "scenario" else c).reset_index(drop=True)
    df.attrs.update(strategy=strategy_path(strategy), suite=suite if isinstance(suite, str) else "custom",
                    suite_version=SUITE_VERSION if isinstance(suite, str) else None, share=share)
    return df


# ---------------------------------------------------------------- the scorecard
def _stat(x, how):
    import numpy as np
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if not len(x):
        return None
    return float({"median": np.median, "max": np.max, "sum": np.sum, "mean": np.mean,
                  "p10": lambda v: np.percentile(v, 10), "p90": lambda v: np.percentile(v, 90)}[how](x))


def _card(df) -> dict:
    out = {"agents": int(len(df)), "runs": int(df["run"].nunique()) if len(df) else 0}
    for col, how, _ in CARD:
        out[f"{col}_{how}"] = _stat(df[col].astype(float), how) if col in df and len(df) else None
    return out


def scorecard(df) -> dict:
    """The comparison of a :func:`benchmark` table: per role (``user``,
    ``built-in``) the statistics of :data:`CARD` over all agents and runs,
    the same per scenario, and the failed runs."""
    ok = df[df["error"].isna()] if "error" in df else df
    ok = ok[ok["role"].notna()] if "role" in ok else ok.iloc[0:0].assign(role=None, run=None, scenario=None)
    res = {"strategy": df.attrs.get("strategy"), "suite": df.attrs.get("suite"),
           "suite_version": df.attrs.get("suite_version"), "share": df.attrs.get("share"),
           "runs": int(df["run"].nunique()) if len(df) else 0,
           "conserved": bool(ok["conserved"].all()) if "conserved" in ok and len(ok) else None,
           "overall": {r: _card(ok[ok["role"] == r]) for r in ROLES}, "by_scenario": {},
           "failed": [] if "error" not in df else
           [{"run": r["run"], "scenario": r["scenario"], "seed": int(r["seed"]), "error": r["error"]}
            for r in df[df["error"].notna()].to_dict("records")]}
    for name in dict.fromkeys(ok["scenario"]) if len(ok) else ():
        g = ok[ok["scenario"] == name]
        res["by_scenario"][name] = {r: _card(g[g["role"] == r]) for r in ROLES}
    return res


def card_table(card: dict):
    """The overall scorecard as a DataFrame: one row per statistic, one
    column per role."""
    import pandas as pd
    rows = []
    for col, how, label in CARD:
        rows.append({"": label, **{r: card["overall"][r].get(f"{col}_{how}") for r in ROLES}})
    rows.append({"": "agents (runs)", **{r: f"{card['overall'][r]['agents']} ({card['overall'][r]['runs']})"
                                         for r in ROLES}})
    return pd.DataFrame(rows).set_index("")


def plot_benchmark(df, out_png="benchmark.png"):
    """Six panels, per scenario, the user's agents beside the built-in
    market makers: PnL (% of equity), worst drawdown (% of equity),
    inventory change at the low (USD), time in market during the crash,
    liquidity within 2% of the mid during the crash (USD, log scale) and
    the share of agents liquidated.  Writes ``out_png``, returns its path."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    ok = df[df["error"].isna()] if "error" in df else df
    names = list(dict.fromkeys(ok["scenario"]))
    panels = (("pnl_pct", "PnL, % of equity", False), ("drawdown_pct", "worst drawdown, % of equity", False),
              ("inventory_at_low_usd", "inventory change at the low, USD", False),
              ("time_in_market", "time in market (crash)", False),
              ("liquidity_2pct_usd", "within 2% of mid (crash), USD", True), ("liquidated", "liquidated, share", None))
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5))
    colors = {"user": "tab:red", "built-in": "tab:blue"}
    x = np.arange(len(names))
    for ax, (col, label, log) in zip(axes.flat, panels):
        for k, role in enumerate(ROLES):
            off = (k - 0.5) * 0.35
            if log is None:
                v = [ok[(ok["scenario"] == n) & (ok["role"] == role)][col].astype(float).mean() for n in names]
                ax.bar(x + off, v, width=0.35, color=colors[role], label=role)
                continue
            data = [ok[(ok["scenario"] == n) & (ok["role"] == role)][col].astype(float).dropna().to_numpy()
                    for n in names]
            pos = [xi + off for xi, d in zip(x, data) if len(d)]
            data = [d for d in data if len(d)]
            if data:
                bp = ax.boxplot(data, positions=pos, widths=0.3, patch_artist=True, showfliers=False)
                for b in bp["boxes"]:
                    b.set_facecolor(colors[role])
                    b.set_alpha(0.5)
            for xi, d in zip(pos, data):
                ax.scatter(np.full(len(d), xi), d, s=6, color=colors[role], alpha=0.6,
                           label=role if xi == pos[0] else None)
        if log:
            ax.set_yscale("symlog", linthresh=1000)
        ax.set_xticks(x, [n.replace("oct-10-2025-", "oct10-") for n in names], rotation=30, ha="right",
                      fontsize=7)
        ax.set_title(label, fontsize=9)
        ax.axhline(0, color="grey", lw=0.5)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"{df.attrs.get('strategy', 'user strategy')} vs built-in market makers "
                 f"({df.attrs.get('suite', '')} suite v{df.attrs.get('suite_version', '')}, "
                 f"share {df.attrs.get('share', '')})", fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png


# ---------------------------------------------------------------- CLI
def add_arguments(p) -> None:
    p.add_argument("strategy", help="import path of your Strategy class, e.g. examples.my_market_maker:SkewedQuoter "
                                    "(modules of the current folder are found)")
    p.add_argument("--suite", choices=("full", "short"), default="full",
                   help="full: every scenario and seed of the suite; short: shortened, for CI (about a minute)")
    p.add_argument("--share", type=float, default=0.5,
                   help="share of the built-in market makers of every book your strategy replaces (at least one)")
    p.add_argument("--out", default=None, help="folder of the per-run results (resumable), benchmark.json and "
                                               "benchmark.png (default: benchmarks/<strategy>-<suite>)")
    p.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    p.add_argument("--only", default=None, metavar="NAME,NAME", help="only these entries of the suite")


def main(args) -> int:
    import pandas as pd
    try:
        load_strategy(args.strategy)
        from .suite import entries
        names = [n for n in args.only.split(",") if n] if args.only else None
        entries(args.suite, names)
        if not 0.0 < args.share <= 1.0:
            raise ValueError(f"--share must be in (0, 1], got {args.share}")
    except (ValueError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"lob benchmark: {msg}", file=sys.stderr)
        return 2
    out = Path(args.out or f"benchmarks/{args.strategy.replace(':', '.').split('.')[-1]}-{args.suite}")
    df = benchmark(args.strategy, args.suite, share=args.share, out=out, workers=args.workers, names=names,
                   progress=True)
    card = scorecard(df)
    df.drop(columns=[c for c in ("traceback",) if c in df]).to_csv(out / "agents.csv", index=False)
    (out / "benchmark.json").write_text(json.dumps(card, indent=1, default=_json_default))
    ok = df[df["error"].isna()] if "error" in df else df
    if len(ok):
        plot_benchmark(df, out / "benchmark.png")
    with pd.option_context("display.width", 160, "display.float_format", "{:,.3f}".format):
        print(f"{card['strategy']} against the built-in market makers, {args.suite} suite "
              f"v{card['suite_version']} ({card['runs']} runs, share {args.share}):")
        print(card_table(card).to_string())
        print("\nPnL median, USD, by scenario (user / built-in):")
        for name, c in card["by_scenario"].items():
            u, b = c["user"].get("pnl_median"), c["built-in"].get("pnl_median")
            print(f"  {name:34s} {_fmt(u):>14s} / {_fmt(b):>14s}   liquidated {c['user']['liquidated_sum'] or 0:.0f}"
                  f" / {c['built-in']['liquidated_sum'] or 0:.0f}")
    if card["runs"] and not card["overall"]["built-in"]["agents"]:
        print(f"lob benchmark: with --share {args.share} your strategy replaced every built-in market maker: "
              "nothing to compare against (use a smaller --share)", file=sys.stderr)
    for f in card["failed"]:
        print(f"failed: {f['scenario']} seed {f['seed']}: {f['error']}", file=sys.stderr)
    print(f"wrote {out}/benchmark.json, benchmark.png, agents.csv", file=sys.stderr)
    return 0 if not card["failed"] and card["conserved"] is not False else 1


def _fmt(v):
    return "n/a" if v is None else f"{v:,.0f}"
