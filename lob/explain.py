"""``lob explain RUN_DIR``: the causal chain of a crash run, from the tables
``lob run ... --out RUN_DIR`` wrote, as a timeline with counts and first
times (seconds after the shock).

The mission's chain, in its order: shock -> loop unwinds -> USDe depeg on
the large exchange -> liquidations of loops (the exchange taking over its
loopers' accounts) and the lending protocol's liquidations -> market makers'
unified accounts taken over -> market makers pulling bids -> altcoin
wicks.  Each step is found in the run's tables: the loop unwinds are the
exchange loopers' (``loopers``: the loops whose USDe is sold on the large
exchange's thin book, the cause of its depeg); the on-chain loopers'
(``chain_unwinds``) unwind *because* of that depeg or of the altcoin's fall
(``lob.sim.chain``: the exchange's USDe under 0.90-0.99, or its ALT down
10-40%) and sell on the pool, so they are shown in a row of their own,
outside the chain's order (a run without exchange loopers takes them as
its loop unwinds).  The depeg is read from the per-second stress table,
the loop liquidations from the risk engine's takeovers of loopers'
accounts and the chain's liquidations, then the market makers' table
(pulls: the first pull of each market maker on an altcoin book -- the
books the chain ends on -- where the run has altcoins) and the wicks; a
step with no events says so.

Each step's times: the first event, the *onset* (the time by which a tenth
of the step's events had happened: one early outlier -- a market maker
whose kill switch fired on noise before anything happened -- does not
make it) and the median.  The depeg is a state, not a count of events: its
count is the seconds spent below the threshold and its onset is when it
began -- the first sample below, which the state reached after the sample
before it (``onset_after_s``, one snapshot interval earlier): the
per-second stress table knows it to that resolution, so the verdicts
accept any time in that interval.  The verdicts say whether the first
times and the onsets follow the mission's order (steps with no events left
out), that is whether a non-decreasing choice of times exists, each step's
within its interval (the events' times are exact: a point).
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ONSET_Q = 0.1      # a step's onset: when this share of its events had happened
CHAIN_UNWINDS = "on-chain loop unwinds (follow the exchange's prices; outside the order)"
STEPS = ("shock", "loop unwinds", "USDe depeg on the large exchange (< 0.97)", "loop and lending liquidations",
         "market makers' accounts taken over", "market makers pulling bids", "altcoin lows")


def add_arguments(p) -> None:
    p.add_argument("run_dir", help="a folder written by `lob run SCENARIO --out RUN_DIR`")
    p.add_argument("--depeg", type=float, default=0.97, help="USDe price counted as a depeg (default 0.97)")


def timeline(run_dir, depeg: float = 0.97):
    """A DataFrame: step, count, first and median time (s after the shock)."""
    import numpy as np
    import pandas as pd

    d = Path(run_dir)
    summary_path = d / "summary.json"
    if not summary_path.exists():
        raise FileNotFoundError(f"{summary_path}: not found (write it with `lob run SCENARIO --out {d}`)")
    summary = json.loads(summary_path.read_text())
    shock = float(summary.get("shock_s", 0.0))

    def table(name):
        p = d / f"{name}.parquet"
        return pd.read_parquet(p) if p.exists() else None

    rows = [dict(step="shock", count=1, first_s=0.0, onset_s=0.0, median_s=0.0, in_chain=True)]

    def add(step, times_s, state_dt=None, in_chain=True):
        """``state_dt``: the step is a state sampled every ``state_dt`` s (its times known to that)."""
        t = np.asarray([x for x in times_s if x == x], float) - shock
        t = t[t >= 0]
        state = state_dt is not None
        onset = float(t.min() if state else np.quantile(t, ONSET_Q, method="inverted_cdf")) if len(t) else np.nan
        first = float(t.min()) if len(t) else np.nan
        after = first - state_dt if state else first
        rows.append(dict(step=step, count=int(len(t)), first_s=first, onset_s=onset,
                         onset_after_s=after if state else onset, first_after_s=after,
                         median_s=float(np.median(t)) if len(t) else np.nan, in_chain=in_chain))

    unw, lp = table("chain_unwinds"), table("loopers")
    ex = [] if lp is None else lp["unwind_s"].dropna().tolist()
    chain_t = [] if unw is None else (unw["ts"] / 1e9).tolist()
    add(STEPS[1], ex if ex else chain_t)
    st = table("stress")
    dep, step_s = [], 1.0
    if st is not None:
        u = st[st["symbol"].str.startswith("USDe/")]
        big = summary.get("risk_venue")
        if big is not None:
            u = u[u["venue"] == big]
        dep = u.loc[u["mid"] < depeg, "t_s"].tolist()
        dt = np.diff(np.sort(u["t_s"].unique()))
        if len(dt):
            step_s = float(np.median(dt))
    add(STEPS[2], dep, state_dt=step_s)
    liq = table("chain_liquidations")
    add(STEPS[3], ([] if liq is None else (liq["ts"] / 1e9).tolist())
        + ([] if lp is None else lp["taken_over_s"].tolist()))
    me, mm = table("margin_events"), table("market_makers")
    taken = []
    if me is not None and mm is not None and len(mm):
        t = me[(me["kind"] == 2) & me["account"].isin(mm["account"])]
        taken = (t.groupby("account")["ts"].min() / 1e9).tolist()
    add(STEPS[4], taken)
    pulls = mm
    if mm is not None and "symbol" in mm and mm["symbol"].str.startswith("ALT").any():
        pulls = mm[mm["symbol"].str.startswith("ALT")]     # the altcoin books, where the chain ends
    add(STEPS[5], [] if pulls is None else pulls["first_pull_s"].tolist())
    w = table("wicks")
    lows = []
    if w is not None:
        a = w[w["symbol"].str.startswith("ALT")]
        lows = (a["t_low_s"] + shock).tolist()
    add(STEPS[6], lows)
    if ex and chain_t:
        add(CHAIN_UNWINDS, chain_t, in_chain=False)
    rows[0].update(onset_after_s=0.0, first_after_s=0.0)
    df = pd.DataFrame(rows)
    ch = df[df["in_chain"]].reset_index(drop=True)
    for col, lo_col, key in (("first_s", "first_after_s", "in_order"), ("onset_s", "onset_after_s", "onsets_in_order")):
        df.attrs[key] = _ordered(ch[lo_col].to_numpy(), ch[col].to_numpy())
    # the worst inversion of the onsets: a step whose onset comes this long before an earlier step's
    # (a state's onset taken at the end of its interval, the earlier step's at the start of its own)
    worst, pair = 0.0, None
    v, lo = ch["onset_s"].to_numpy(), ch["onset_after_s"].to_numpy()
    for j in range(len(v)):
        for i in range(j):
            if lo[i] == lo[i] and v[j] == v[j] and lo[i] - v[j] > worst:
                worst, pair = float(lo[i] - v[j]), (ch["step"][j], ch["step"][i])
    df.attrs["worst_inversion_s"] = worst
    df.attrs["worst_inversion"] = pair
    return df.drop(columns=["first_after_s"])


def _ordered(lo, hi) -> bool:
    """Whether times ``x[i]`` in ``[lo[i], hi[i]]`` exist that never decrease
    (NaN steps left out): greedily, each step takes the earliest time its
    interval allows after the previous step's."""
    cur = -math.inf
    for a, b in zip(lo, hi):
        if a != a or b != b:
            continue
        cur = max(cur, a)
        if cur > b:
            return False
    return True


def main(args) -> int:
    try:
        df = timeline(args.run_dir, args.depeg)
    except (FileNotFoundError, ValueError) as e:
        print(f"lob explain: {e}", file=sys.stderr)
        return 2
    import pandas as pd
    with pd.option_context("display.width", 160, "display.precision", 1):
        print(df.drop(columns=["in_chain"]).to_string(index=False))
    print(f"first times in the mission's order: {'yes' if df.attrs['in_order'] else 'no'}")
    print(f"onsets (a tenth of each step's events) in the mission's order: "
          f"{'yes' if df.attrs['onsets_in_order'] else 'no'}")
    if df.attrs["worst_inversion"] is not None:
        early, late = df.attrs["worst_inversion"]
        print(f"worst inversion: {early!r} begins {df.attrs['worst_inversion_s']:.1f} s before {late!r}")
    return 0
