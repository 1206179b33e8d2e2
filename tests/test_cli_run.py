"""``lob run``: a scenario by name with overrides, its summary and its
Parquet tables; bad overrides are refused with the key named."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd


def _lob(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lob.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_run_writes_summary_and_tables(tmp_path):
    out = tmp_path / "run"
    p = _lob("run", "liquidation-cascade", "--duration", "400", "--set", "shock_s=100", "--no-progress",
             "--out", str(out))
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["conservation_error_atoms"] == [0, 0]
    assert summary["wicks"][0]["symbol"] == "ALT/USDT" and summary["market_makers"]["count"] == 10
    assert "market makers' scorecards" in p.stderr
    assert json.loads((out / "summary.json").read_text()) == summary
    for name in ("wicks", "liquidations", "market_makers", "accounts", "scorecards", "stress", "margin_events"):
        assert (out / f"{name}.parquet").exists(), name
    stress = pd.read_parquet(out / "stress.parquet")
    assert {"bid_depth_2pct_usd", "sell_100k_bps"} <= set(stress.columns) and len(stress) >= 399


def test_run_refuses_bad_overrides():
    p = _lob("run", "liquidation-cascade", "--set", "no_such_knob=1", "--no-progress")
    assert p.returncode == 2 and "no_such_knob" in p.stderr
    p = _lob("run", "liquidation-cascade", "--set", "shock_s=5000", "--duration", "100", "--no-progress")
    assert p.returncode == 2 and "shock_s" in p.stderr
    p = _lob("run", "no-such-scenario")
    assert p.returncode == 2 and "unknown scenario" in p.stderr


def test_explain_order_verdict_accepts_times_within_a_states_interval():
    from lob.explain import _ordered
    nan = float("nan")
    assert _ordered([0, 5, 4, 6], [0, 5, 5, 6])            # the state [4, 5] can sit at 5
    assert not _ordered([0, 5, 6, 6], [0, 5, 7, 5.5])       # a point at 5.5 after a state no earlier than 6
    assert _ordered([0, nan, 3], [0, nan, 3])               # steps without events are left out
    assert not _ordered([0, 3, 2], [0, 3, 2])


def test_explain_prints_the_causal_chain_of_a_run(tmp_path):
    out = tmp_path / "depeg"
    p = _lob("run", "usde-depeg", "--duration", "600", "--set", "shock_s=120", "--no-progress", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert (out / "chain_unwinds.parquet").exists() and (out / "chain_liquidations.parquet").exists()
    from lob.explain import CHAIN_UNWINDS, STEPS, timeline
    df = timeline(out)
    assert list(df.loc[df["in_chain"], "step"]) == list(STEPS)
    # loop unwinds: the exchange loopers' (the loopers table), whose USDe is sold on the exchange; the
    # on-chain loopers' (which react to the exchange's price) in a row of their own, outside the order
    unw = pd.read_parquet(out / "chain_unwinds.parquet")
    lp = pd.read_parquet(out / "loopers.parquet")
    assert len(lp) == 100 and lp["unwind_s"].notna().any()
    t = lp["unwind_s"].dropna().to_numpy() - 120
    t = np.sort(t[t >= 0])
    rows = df.set_index("step")
    row = rows.loc["loop unwinds"]
    assert row["count"] == len(t) > 0
    assert row["first_s"] == t[0]
    tc = unw["ts"].to_numpy() / 1e9 - 120
    assert rows.loc[CHAIN_UNWINDS, "count"] == int((tc >= 0).sum()) > 0 and not rows.loc[CHAIN_UNWINDS, "in_chain"]
    # the onset: the first time by which a tenth of the unwinds had happened
    assert row["onset_s"] == t[int(np.ceil(0.1 * len(t))) - 1] and row["first_s"] <= row["onset_s"]
    # the depeg is a state: its onset is its first second; loops liquidated include the exchange's takeovers
    dep = rows.loc["USDe depeg on the large exchange (< 0.97)"]
    assert dep["onset_s"] == dep["first_s"]
    # ... which it reached after the sample before (the stress table's interval, 1 s): the verdicts accept
    # any time in between; the events' onsets are points
    assert dep["onset_after_s"] == dep["onset_s"] - 1.0
    ev = df[df["step"] != "USDe depeg on the large exchange (< 0.97)"]
    assert (ev["onset_after_s"].fillna(-1) == ev["onset_s"].fillna(-1)).all()
    taken = lp["taken_over_s"].dropna().to_numpy() - 120
    assert rows.loc["loop and lending liquidations", "count"] >= int((taken >= 0).sum()) > 0
    # the worst inversion of the onsets, recomputed from the table
    d = df[df["in_chain"]].dropna(subset=["onset_s"])
    on, lo = d["onset_s"].to_numpy(), d["onset_after_s"].to_numpy()
    worst = max([0.0] + [lo[i] - on[j] for j in range(len(on)) for i in range(j)])
    assert df.attrs["worst_inversion_s"] == worst and (worst == 0) == df.attrs["onsets_in_order"]
    p = _lob("explain", str(out))
    assert p.returncode == 0 and "USDe depeg" in p.stdout and "mission's order" in p.stdout
    # the report: figures and one self-contained HTML page (written by `lob run --out`)
    for fig in ("price_paths", "depth_heatmap", "slippage", "liquidations", "timeline"):
        assert (out / f"{fig}.png").stat().st_size > 5_000, fig
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 5 and "Causal chain" in page
    from lob.data import tardis
    try:
        tardis.list_markets()
        assert (out / "real_overlay.png").exists()          # the shared data is there
    except Exception:
        pass
    p = _lob("explain", str(tmp_path / "missing"))
    assert p.returncode == 2 and "summary.json" in p.stderr
