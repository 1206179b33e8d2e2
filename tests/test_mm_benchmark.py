"""``lob benchmark`` / ``lob.benchmark``: a user's strategy takes the place
of a share of the built-in market makers (agents counted); its rows match
numbers computed independently from the run's logs (balances, fills,
order events, snapshots, margin events); watching changes nothing in the
run; resume; failing runs recorded (and retried); the scorecard's
statistics; errors named; the CLI."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import lob
from lob.analysis import mm_observer
from lob.cli import main as lob_main
from lob.core import codes as C
from lob.mm_benchmark import card_table, plan, scorecard
from lob.sim.model import Simulation
from lob.sim.strategy import Strategy
from lob.suite import Entry, spec

NS = 1_000_000_000
SHOCK_S = 60.0
# a short flash crash: the program (800k lots) in one minute, four minutes after it
ENTRY = Entry("fc", "flash-crash", dict(duration_s=360.0, shock_s=SHOCK_S, program_s=60.0, program_lots=800_000),
              seeds=(0,), window_s=300.0)
SHARE = 0.3                                       # 3 of the 10 market makers


class BandsThenBuy(Strategy):
    """Two bids and two asks 1% and 3% from the mid (3000 lots each),
    refreshed every second; from the crash on it also buys 20k lots a
    second at market, on credit (enough to be taken over)."""

    def on_wakeup(self, now):
        self.cancel_all()
        bid, ask, _ = self.bbo()
        if bid and ask:
            mid = (bid + ask) / 2
            for d in (0.01, 0.03):
                self.submit(C.BUY, int(mid * (1 - d)), 3000)
                self.submit(C.SELL, int(mid * (1 + d)) + 1, 3000)
        if now >= SHOCK_S * NS:
            self.submit(C.BUY, 0, 20_000, type=C.MARKET)
        return now + NS


class Boom(Strategy):
    def on_wakeup(self, now):
        raise RuntimeError("boom in on_wakeup")


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """The benchmark of BandsThenBuy on ENTRY (in this process), the
    sampler it used, and a plain run of the same scenario and seed."""
    samplers = []

    class Recording(mm_observer.Sampler):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            samplers.append(self)

    out = tmp_path_factory.mktemp("bench")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mm_observer, "Sampler", Recording)
        df = lob.benchmark(BandsThenBuy, [ENTRY], share=SHARE, out=out, workers=1)
    sim = Simulation(spec(ENTRY, BandsThenBuy, SHARE), seed=0)
    res = sim.run()
    assert len(samplers) == 1
    return df, samplers[0], res, out


def test_user_strategy_takes_the_place_of_the_share_of_builtin_mms(bench):
    df, _, res, _ = bench
    assert df["error"].isna().all() and df["conserved"].all()
    from strategies.guarded_ladder import GuardedLadderMM
    sim = res.sim
    user = sorted(a for a, s in sim.strategies.items() if type(s) is BandsThenBuy)
    builtin = sorted(a for a, s in sim.strategies.items() if isinstance(s, GuardedLadderMM))
    assert len(user) == 3 and len(builtin) == 7                 # round(0.3 x 10) of the 10, the rest built-in
    assert sorted(df.loc[df["role"] == "user", "agent"]) == user
    assert sorted(df.loc[df["role"] == "built-in", "agent"]) == builtin
    # the user's agents hold what the built-in ones they replace would have held
    plain = Simulation(spec(ENTRY), seed=0)
    assert (plain.initial_balances[user] == sim.initial_balances[user]).all()


def test_rows_match_numbers_computed_from_the_logs(bench):
    df, smp, res, _ = bench
    sim = res.sim
    # watching changes nothing: the benchmark's run is the plain run, bit for bit
    assert set(df["digest"]) == {res.digest()}
    t = np.array(smp.t)                                         # the sample times, ns
    snaps = res.snapshots
    both = (snaps["bid"] > 0) & (snaps["ask"] > 0)
    snap_mid = dict(zip(snaps["ts"][both].tolist(), ((snaps["bid"] + snaps["ask"])[both] * 0.5e-4).tolist()))
    M = np.array(smp.mid)[:, 0]
    whole = [i for i, ti in enumerate(t.tolist()) if ti in snap_mid]
    assert len(whole) > 0.95 * len(t)
    assert all(M[i] == pytest.approx(snap_mid[t[i]], abs=1e-12) for i in whole)   # the sampler's mid is the book's
    end_mid = snap_mid[sim.t_end]                               # a snapshot at the last instant
    lo, hi = SHOCK_S, ENTRY.params["duration_s"]
    ts = t / NS
    dt = np.diff(np.append(ts, max(sim.t_end / NS, ts[-1])))
    w = np.where((ts >= lo) & (ts < hi), np.minimum(ts + dt, hi) - ts, 0.0)
    me = res.frame("margin_events")
    taken = set(me.loc[me["kind"] == 2, "account"])
    alt, usdt = sim.asset_ix["ALT"], sim.asset_ix["USDT"]
    ev, fills = res.events, res.fills
    seen_liquidated = set()
    for row in df.itertuples():
        acct = int(sim.W.agents[row.agent, 1])
        assert row.account == acct
        # PnL against holding the opening balances, at the last mid
        d = (res.balances[acct] - sim.initial_balances[acct]) * 1e-8
        assert row.pnl == pytest.approx(d[usdt] + d[alt] * end_mid, rel=1e-9, abs=1e-6)
        assert row.drawdown >= max(0.0, -row.pnl) - 1e-6
        # inventory at the low: its fills up to the sample where the mid is lowest in the window
        j = int(np.argmin(np.where((ts >= lo) & (ts < hi), M, np.inf)))
        assert row.low == pytest.approx(M[j]) and row.t_low_s == pytest.approx(ts[j] - lo)
        f = fills[fills["ts"] <= t[j]]
        signed = np.where(f["taker_side"] == C.BUY, f["qty"], -f["qty"])          # to the taker
        inv = signed[f["taker_account"] == acct].sum() - signed[f["maker_account"] == acct].sum()
        assert row.inventory_at_low == inv
        # resting orders at each sample, rebuilt from the order events and fills of its account
        e = ev[ev["account"] == acct]
        assert not (e["kind"] == C.EV_MODIFIED).any()
        done = e[np.isin(e["kind"], C.DONE_KINDS)]
        done_ts = dict(zip(done["order_id"].tolist(), done["ts"].tolist()))
        maker = fills[fills["maker_account"] == acct]
        n_rest, n_bid, near, near_bid = (np.zeros(len(t)) for _ in range(4))
        for o in e[(e["kind"] == C.EV_ACCEPTED) & (e["price"] > 0)]:
            oid = int(o["order_id"])
            fo = maker[maker["maker_id"] == oid]
            filled = np.searchsorted(fo["ts"], t, side="right")
            rem = o["qty"] - np.concatenate(([0], np.cumsum(fo["qty"])))[filled]
            alive = (t >= o["ts"]) & (t < done_ts.get(oid, np.inf)) & (rem > 0)
            is_bid = o["side"] == C.BUY
            px = o["price"] * 1e-4
            in_band = alive & ((px >= 0.98 * M) if is_bid else (px <= 1.02 * M))
            n_rest += alive
            n_bid += alive & is_bid
            near += np.where(in_band, rem * M, 0.0)
            near_bid += np.where(in_band & is_bid, rem * M, 0.0)
        assert row.time_in_market == pytest.approx((w * (n_rest > 0)).sum() / w.sum())
        assert row.time_with_bids == pytest.approx((w * (n_bid > 0)).sum() / w.sum())
        assert row.liquidity_2pct_usd == pytest.approx((w * near).sum() / w.sum(), rel=1e-9)
        assert row.bid_liquidity_2pct_usd == pytest.approx((w * near_bid).sum() / w.sum(), rel=1e-9)
        # taken over by the venue's risk engine, and what it sold for the account
        assert row.liquidated == (acct in taken)
        sold = me.loc[(me["kind"] == 3) & (me["account"] == acct), "notional"].sum() * 1e-8
        assert row.liquidated_usd == pytest.approx(sold)
        seen_liquidated.add(row.liquidated)
    assert seen_liquidated == {True, False}                   # both cases are exercised
    user = df[df["role"] == "user"]
    # its quotes: one bid and one ask 1% from the mid are within 2% (the 3% ones are not)
    assert ((user["liquidity_2pct_usd"] > 0) & (user["bid_liquidity_2pct_usd"] < user["liquidity_2pct_usd"])).all()


def test_scorecard_statistics(bench):
    df = bench[0]
    card = scorecard(df)
    u = df[df["role"] == "user"]
    o = card["overall"]["user"]
    assert o["agents"] == 3 and o["runs"] == 1 and card["runs"] == 1 and card["failed"] == []
    assert o["pnl_median"] == pytest.approx(float(np.median(u["pnl"])))
    assert o["liquidated_sum"] == u["liquidated"].sum() and card["overall"]["built-in"]["agents"] == 7
    assert card["conserved"] is True and card["by_scenario"]["fc"]["user"]["agents"] == 3
    # percentiles by hand on known numbers (linear interpolation): p10 of 1..4 is 1.3, p90 3.7
    toy = pd.DataFrame({"run": "r", "scenario": "s", "seed": 0, "role": ["user"] * 4, "error": None,
                        "pnl": [4.0, 1.0, 3.0, 2.0], "liquidated": [True, False, False, False], "conserved": True})
    c = scorecard(toy)["overall"]["user"]
    assert (c["pnl_p10"], c["pnl_median"], c["pnl_p90"]) == pytest.approx((1.3, 2.5, 3.7))
    assert c["liquidated_sum"] == 1 and c["liquidated_mean"] == 0.25 and c["drawdown_max"] is None
    table = card_table(scorecard(toy))
    assert table.loc["PnL median, USD", "user"] == 2.5 and table.loc["agents (runs)", "user"] == "4 (1)"


def test_resume_reads_finished_runs_back_and_new_code_gives_new_runs(bench, tmp_path, monkeypatch):
    df, _, _, out = bench
    rid = df["run"].iloc[0]
    f = out / rid / "agents.json"
    rows = json.loads(f.read_text())
    for r in rows:
        r["wall_s"] = -1.0                                       # a mark: read back, not run again
    f.write_text(json.dumps(rows))
    again = lob.benchmark(BandsThenBuy, [ENTRY], share=SHARE, out=out, workers=1)
    assert (again["wall_s"] == -1.0).all() and len(again) == len(df)
    # the run id covers the entry, the seed, the share and the strategy's code
    assert plan(BandsThenBuy, [ENTRY], share=SHARE)[0][2] == rid
    assert plan(BandsThenBuy, [ENTRY], share=0.5)[0][2] != rid
    assert plan(BandsThenBuy, [Entry("fc", "flash-crash", dict(ENTRY.params, program_s=30.0), (0,), 300.0)],
                share=SHARE)[0][2] != rid
    mod = tmp_path / "my_mm_for_resume.py"
    mod.write_text("from lob.sim.strategy import Strategy\n\nclass MM(Strategy):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = plan("my_mm_for_resume:MM", [ENTRY])[0][2]
    mod.write_text(mod.read_text() + "    size = 2  # edited\n")
    assert plan("my_mm_for_resume:MM", [ENTRY])[0][2] != before


def test_a_failing_run_is_recorded_the_others_finish_and_resume_retries_it(tmp_path):
    broken = Entry("broken", "flash-crash", dict(duration_s=360.0, shock_s=9999.0), (0,))
    fast = Entry("fc", "flash-crash", dict(duration_s=120.0, shock_s=30.0, program_s=30.0), (0,), window_s=90.0)
    df = lob.benchmark(BandsThenBuy, [broken, fast], share=SHARE, out=tmp_path, workers=1)
    bad = df[df["scenario"] == "broken"]
    assert len(bad) == 1 and "shock_s must be inside the run" in bad["error"].iloc[0]
    assert df.loc[df["scenario"] == "fc", "error"].isna().all() and (df["scenario"] == "fc").sum() == 10
    card = scorecard(df)
    assert [f["scenario"] for f in card["failed"]] == ["broken"] and card["overall"]["user"]["runs"] == 1
    # on resume the failed run runs again (it may have been fixed), the finished one is read back
    f = tmp_path / bad["run"].iloc[0] / "agents.json"
    f.write_text(json.dumps([{**json.loads(f.read_text())[0], "error": "stale"}]))
    again = lob.benchmark(BandsThenBuy, [broken, fast], share=SHARE, out=tmp_path, workers=1)
    assert "shock_s must be inside the run" in again.loc[again["scenario"] == "broken", "error"].iloc[0]
    # a strategy that raises: the run is recorded with its error
    boom = lob.benchmark(Boom, [fast], share=SHARE, out=tmp_path / "boom", workers=1)
    assert len(boom) == 1 and boom["error"].iloc[0].startswith("RuntimeError: boom in on_wakeup")


def test_bad_arguments_are_refused_with_the_name(tmp_path):
    with pytest.raises(ValueError, match="share must be in"):
        lob.benchmark(BandsThenBuy, [ENTRY], share=0.0, out=tmp_path)
    with pytest.raises(ValueError, match="workers must be"):
        lob.benchmark(BandsThenBuy, [ENTRY], workers=0, out=tmp_path)
    with pytest.raises(ValueError, match="every_s must be"):
        lob.benchmark(BandsThenBuy, [ENTRY], every_s=0, out=tmp_path)
    with pytest.raises(ValueError, match="no_such_module_xyz"):
        lob.benchmark("no_such_module_xyz:MM", [ENTRY], out=tmp_path)
    with pytest.raises(ValueError, match="is not a lob.sim.strategy.Strategy subclass"):
        lob.benchmark("lob.suite:Entry", [ENTRY], out=tmp_path)
    with pytest.raises(KeyError, match="no entry 'nope'"):
        lob.benchmark(BandsThenBuy, "short", names=["nope"], out=tmp_path)
    with pytest.raises(ValueError, match="seeds must be"):
        lob.benchmark(BandsThenBuy, [Entry("x", "flash-crash", seeds=())], out=tmp_path)
    assert not any(tmp_path.iterdir())                           # refused before any run


def test_cli_refuses_bad_input(capsys, tmp_path):
    for argv, msg in ((["no_such_module_xyz:MM"], "no_such_module_xyz"),
                      (["examples.my_market_maker:SkewedQuoter", "--share", "0"], "--share must be in (0, 1]"),
                      (["examples.my_market_maker:SkewedQuoter", "--only", "flash"], "no entry 'flash'"),
                      (["lob.suite:Entry"], "not a lob.sim.strategy.Strategy subclass")):
        assert lob_main(["benchmark", *argv, "--out", str(tmp_path / "x")]) == 2
        assert msg in capsys.readouterr().err


def test_cli_writes_scorecard_json_figure_and_table(capsys, tmp_path):
    """``lob benchmark`` on the short suite's flash crash (2 seeds)."""
    out = tmp_path / "b"
    rc = lob_main(["benchmark", "examples.my_market_maker:SkewedQuoter", "--suite", "short", "--only", "flash-crash",
                   "--share", "0.2", "--out", str(out), "--workers", "1"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    card = json.loads((out / "benchmark.json").read_text())
    assert card["suite"] == "short" and card["suite_version"] == lob.suite.SUITE_VERSION and card["runs"] == 2
    assert card["overall"]["user"]["agents"] == 4 and card["overall"]["built-in"]["agents"] == 16
    agents = pd.read_csv(out / "agents.csv")
    assert len(agents) == 20 and set(agents["role"]) == {"user", "built-in"}
    assert card["overall"]["user"]["pnl_median"] == pytest.approx(agents.loc[agents["role"] == "user", "pnl"].median())
    assert (out / "benchmark.png").read_bytes()[:4] == b"\x89PNG"
    assert "PnL median, USD" in cap.out and "flash-crash" in cap.out and not math.isnan(card["overall"]["user"]["pnl_p10"])


@pytest.mark.slow
def test_cli_short_suite_end_to_end(tmp_path):
    """The whole short suite (about a minute on 2 cores, several in CI)."""
    import subprocess
    import sys
    out = tmp_path / "short"
    p = subprocess.run([sys.executable, "-m", "lob.cli", "benchmark", "examples.my_market_maker:SkewedQuoter",
                        "--suite", "short", "--out", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    card = json.loads((out / "benchmark.json").read_text())
    assert card["failed"] == [] and card["conserved"] is True
    assert set(card["by_scenario"]) == {e.name for e in lob.suite.entries("short")}
    assert card["runs"] == sum(len(e.seeds) for e in lob.suite.entries("short"))
