"""The simulation kernel: event queue, id map, random streams, and short
calm-market runs checked for conservation, determinism and funds checks."""
from __future__ import annotations

import heapq
import os
import subprocess
import sys
from decimal import Decimal

import numpy as np
import pytest

from lob.core import codes as C
from lob.scenarios.calm_day import calm_day
from lob.sim import heap as H
from lob.sim import idmap, rng
from lob.sim import layout as L
from lob.sim.model import AgentSpec, AssetSpec, BookSpec, ScenarioSpec, Simulation, VenueSpec
from lob.sim.strategy import Strategy


def test_heap_matches_heapq():
    r = np.random.default_rng(0)
    h = np.zeros((4, 8), np.int64)
    n, seq, ref = 0, 0, []
    out = np.zeros(8, np.int64)
    for _ in range(20_000):
        if n == len(h):
            h = H.grow(h)
        if r.random() < 0.55 or n == 0:
            t = int(r.integers(0, 30))          # many ties: order must follow seq
            n = H.push(h, n, t, seq, 1, 2, 3, 4, 5, seq)
            heapq.heappush(ref, (t, seq))
            seq += 1
        else:
            n = H.pop(h, n, out)
            assert (out[0], out[1]) == heapq.heappop(ref)
            assert out[7] == out[1]             # payload travels with its key


def test_idmap_against_dict():
    r = np.random.default_rng(1)
    t, ref = idmap.new(4096), {}
    for i in range(50_000):
        k = int(r.integers(1, 2000))
        if r.random() < 0.5:
            assert idmap.put(t, k, i) == (k not in ref)
            ref[k] = i
        else:
            assert idmap.delete(t, k) == (k in ref)
            ref.pop(k, None)
        if i % 5003 == 0:
            assert all(idmap.get(t, kk) == ref.get(kk, -1) for kk in range(1, 2000))


def test_rng_streams_are_independent_and_reproducible():
    a, b = rng.seed_states(7, 2), rng.seed_states(7, 2)
    xa = [rng.uniform(a, 0) for _ in range(1000)]
    assert xa == [rng.uniform(b, 0) for _ in range(1000)]
    ya = [rng.uniform(a, 1) for _ in range(1000)]
    assert abs(np.corrcoef(xa, ya)[0, 1]) < 0.1
    s = rng.seed_states(3, 1)
    x = np.array([rng.normal(s, 0) for _ in range(20_000)])
    assert abs(x.mean()) < 0.03 and abs(x.std() - 1) < 0.03
    e = np.array([rng.exponential(s, 0, 2.0) for _ in range(20_000)])
    assert abs(e.mean() - 2.0) < 0.06


def _small_day(seconds=300.0, **kw):
    return calm_day(duration_s=seconds, n_noise=100, n_value=10, n_momentum=3, **kw)


def test_calm_run_conserves_and_trades():
    sim = Simulation(_small_day(), seed=3)
    res = sim.run()
    assert len(res.fills) > 100
    assert (res.conservation_error() == 0).all()
    W = sim.W
    assert (W.resv >= 0).all() and (W.bal >= W.resv).all()      # nobody spent what it did not have
    snaps = res.snapshots
    ok = (snaps["bid"] > 0) & (snaps["ask"] > 0)
    assert ok.mean() > 0.9 and (snaps["ask"][ok] > snaps["bid"][ok]).all()
    # every fill's two timestamps: the venue's, and when each side learns it
    f = res.fills
    assert (f["taker_local_ts"] >= f["ts"]).all() and (f["maker_local_ts"] >= f["ts"]).all()
    sim.engine.arena = W.arena
    sim.engine.check()


def test_more_agents_than_the_initial_event_heap_holds():
    # every agent's first wake-up is queued before the loop can grow the heap (4,096 rows at
    # least): 9,000 noise traders once wrote past it and corrupted memory
    from lob.scenarios.calm_day import calm_day
    sim = Simulation(calm_day(duration_s=30.0, n_noise=9000), seed=1)
    assert sim.W.heap.shape[0] >= 2 * 9000
    res = sim.run()
    assert len(res.fills) > 0 and (res.conservation_error() == 0).all()
    assert len(np.unique(res.frame("submissions")["agent"])) > 100    # the agents past row 4,096 woke too


def test_same_seed_same_log_in_process_and_across_processes():
    d1 = Simulation(_small_day(120.0), seed=11).run().digest()
    d2 = Simulation(_small_day(120.0), seed=11).run().digest()
    d3 = Simulation(_small_day(120.0), seed=12).run().digest()
    assert d1 == d2 != d3
    code = ("from lob.sim.model import Simulation; from tests.test_sim import _small_day; "
            "print(Simulation(_small_day(120.0), seed=11).run().digest())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == d1


def test_orders_beyond_the_balance_are_rejected():
    spec = ScenarioSpec(
        assets=(AssetSpec(name="USD"), AssetSpec(name="XYZ", fundamental=10_000.0)),
        venues=(VenueSpec(name="V", maker_ppm=100, taker_ppm=500),),
        books=(BookSpec(venue="V", base="XYZ", quote="USD", tick=Decimal("0.01"), lot=Decimal(1)),),
        agents=(AgentSpec(kind=L.KIND_NOISE, count=20, params=(5.0, 0.5, 50.0, 3.0),
                          balances={"USD": 1000, "XYZ": 5}, first_wake_s=(0.0, 5.0)),
                AgentSpec(kind=L.KIND_LADDER_MM, count=1, params=(1.0, 10.0, 10.0, 5.0, 0.0, 0.0, 1e9),
                          iparams=(3,), balances={"USD": 10**7, "XYZ": 10**5}, first_wake_s=(0.0, 0.5))),
        duration_s=120.0)
    sim = Simulation(spec, seed=5)
    res = sim.run()
    ev = res.events
    rejected = ev[(ev["kind"] == C.EV_REJECTED) & (ev["reason"] == C.R_INSUFFICIENT_FUNDS)]
    assert len(rejected) > 0
    assert (sim.W.bal >= 0).all() and (sim.W.bal >= sim.W.resv).all()
    assert (res.conservation_error() == 0).all()
    assert sim.W.bal[-1, 0] > 0                    # the venue collected fees


class _Quoter(Strategy):
    """A Python market maker: every 0.5 s, cancel and requote one level a side."""

    def __init__(self):
        self.fills = []
        self.rejects = 0

    def on_wakeup(self, now):
        self.cancel_all()
        bid, ask, last = self.bbo()
        if bid and ask:
            self.submit(C.BUY, bid, 5)
            self.submit(C.SELL, ask, 5)
        return now + 500_000_000

    def on_fill(self, fill):
        assert fill["qty"] > 0
        self.fills.append(fill)

    def on_order_event(self, event):
        if event["kind"] == C.EV_REJECTED:
            self.rejects += 1


def test_python_strategy_trades_with_latency():
    sim = Simulation(_small_day(300.0, python_mm=_Quoter), seed=2)
    res = sim.run()
    strat = next(iter(sim.strategies.values()))
    assert len(strat.fills) > 0
    assert all(f["maker_local_ts"] > f["ts"] or f["taker_local_ts"] > f["ts"] for f in strat.fills)
    assert (res.conservation_error() == 0).all()


def _mm_day(python: bool):
    """A short day whose first agent after the background is a ladder market
    maker, compiled or written in Python, with the same parameters."""
    from strategies.ladder import LadderConfig, LadderMM

    cfg = LadderConfig(refresh_s=0.5, half_spread_bps=0.2, spacing_bps=0.3, size=20, levels=3,
                       skew_bps_per_lot=0.01, max_inventory=400)
    base = calm_day(duration_s=600.0, n_noise=80, n_value=8, n_momentum=3, n_mm=1)
    agents = list(base.agents)
    mm = agents[-1]
    common = dict(count=1, balances=mm.balances, lat_order_ns=mm.lat_order_ns, lat_md_ns=mm.lat_md_ns,
                  first_wake_s=(5.0, 5.0), list_cap=64)
    if python:
        agents[-1] = AgentSpec(kind=L.KIND_PYTHON, strategy=lambda: LadderMM(cfg, base="XYZ"), **common)
    else:
        agents[-1] = AgentSpec(kind=L.KIND_LADDER_MM, params=cfg.params(), iparams=(cfg.levels,), **common)
    from dataclasses import replace
    return replace(base, agents=tuple(agents))


def test_same_strategy_compiled_and_python_give_identical_fills():
    rc = Simulation(_mm_day(python=False), seed=21).run()
    rp = Simulation(_mm_day(python=True), seed=21).run()
    mm = len(_mm_day(False).agents) and rc.sim.W.agents.shape[0] - 1
    cols = ["ts", "book", "price", "qty", "taker_side", "maker_agent", "taker_agent"]
    fc, fp = rc.fills[cols], rp.fills[cols]
    assert len(fc) > 100
    touched = (fc["maker_agent"] == mm) | (fc["taker_agent"] == mm)
    assert touched.sum() >= 10                   # the market maker really trades
    assert len(fc) == len(fp) and all(np.array_equal(fc[c], fp[c]) for c in cols)
    assert np.array_equal(rc.balances, rp.balances)


def _plugin_day():
    from dataclasses import replace
    spec = _mm_day(python=False)
    agents = list(spec.agents)
    agents[-1] = replace(agents[-1], kind=L.KIND_NONE, compiled="strategies.ladder_compiled:decide")
    return replace(spec, agents=tuple(agents))


def test_compiled_plugin_by_import_path_matches_builtin(tmp_path, monkeypatch):
    """A user-compiled strategy named by import path runs inside the compiled
    loop and gives the built-in agent's fills; its compiled code is cached,
    so a second process loads it instead of compiling."""
    monkeypatch.setenv("LOB_PLUGIN_DIR", str(tmp_path))
    rb = Simulation(_mm_day(python=False), seed=21).run()
    ru = Simulation(_plugin_day(), seed=21).run()
    assert rb.digest() == ru.digest()
    code = ("import os; from lob.sim.model import Simulation; from tests.test_sim import _plugin_day; "
            "sim = Simulation(_plugin_day(), seed=21); r = sim.run(); "
            "print(r.digest(), sum(sim._advance.stats.cache_hits.values()))")
    env = dict(os.environ, LOB_PLUGIN_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    digest, hits = out.stdout.split()
    assert digest == rb.digest() and int(hits) >= 1


def test_plugin_path_errors_name_the_path():
    from lob.sim.plugins import loop_for
    with pytest.raises(ImportError, match="no.such.module:decide"):
        loop_for(["no.such.module:decide"])
    with pytest.raises(TypeError, match="not a numba-compiled"):
        loop_for(["os.path:join"])


def test_log_selection_changes_nothing_but_the_logs():
    from dataclasses import replace
    full = Simulation(_small_day(120.0), seed=4).run()
    lean = Simulation(replace(_small_day(120.0), logs=("fills",)), seed=4).run()
    assert np.array_equal(full.fills, lean.fills) and np.array_equal(full.balances, lean.balances)
    assert len(lean.events) == 0 and len(lean.submissions) == 0 and len(full.events) > 0
    with pytest.raises(ValueError, match="unknown log"):
        Simulation(replace(_small_day(120.0), logs=("trades",)), seed=4)


def test_scorecard_of_a_market_maker_agrees_with_its_fills():
    from lob.analysis.scorecard import inventory_path, scorecard
    res = Simulation(_small_day(600.0, python_mm=_Quoter), seed=2).run()
    agent = next(iter(res.sim.strategies))
    card = scorecard(res, agent)
    ts, inv = inventory_path(res, agent)
    assert card["fills_maker"] + card["fills_taker"] == len(ts) > 0
    assert card["inventory_change_lots"] == (inv[-1] if len(inv) else 0)
    assert card["inventory_min"] <= card["inventory_change_lots"] <= card["inventory_max"]
    assert 0 < card["fill_rate"] <= 1 and card["quoted_half_spread_ticks"] >= 0
    assert np.isfinite(card["mtm_pnl"]) and card["rejected_for_funds"] == 0


def test_stress_conservation_and_book_invariants_after_every_event():
    """Step the loop one event time at a time; after each: every asset summed
    over accounts and fee sinks equals its initial total, nobody holds less
    than it has reserved, and the engine's invariants hold."""
    from lob.sim import heap as Hp
    sim = Simulation(_small_day(60.0, python_mm=_Quoter), seed=9)
    W = sim.W
    totals = W.bal.sum(axis=0).copy()
    steps = 0
    for strat in sim.strategies.values():
        strat._started = True
        strat.on_start()
    while int(sim.W.clock[L.K_HEAPN]) > 0 and steps < 4000:
        t_next = int(sim.W.heap[0, Hp.T_TIME])
        if t_next > sim.t_end:
            break
        sim.run(until_s=t_next / 1e9)
        W = sim.W
        assert np.array_equal(W.bal.sum(axis=0), totals)
        assert (W.resv >= 0).all() and (W.bal >= W.resv).all()
        sim.engine.arena = W.arena
        sim.engine.check()
        steps += 1
    assert steps == 4000


def test_executors_work_metaorders_as_child_market_orders():
    from lob.analysis import impact as I
    sim = Simulation(calm_day(duration_s=900.0, n_noise=50, n_value=10, n_momentum=2, n_exec=4), seed=6)
    res = sim.run()
    f = res.fills
    kinds = sim.W.agents[:, L.A_KIND]
    mine = kinds[f["taker_agent"]] == L.KIND_EXECUTOR
    assert mine.sum() > 50
    sign = np.where(f["taker_side"][mine] == C.BUY, 1, -1)
    _, metas = I.identify_metaorders(f["taker_agent"][mine], sign, f["ts"][mine], f["qty"][mine],
                                     max_gap_ns=30 * 10**9, min_fills=3)
    assert len(metas) >= 4 and (res.conservation_error() == 0).all()


def test_every_log_column_is_written_whatever_the_buffers_held():
    # log buffers are recycled (np memory may hold old data): a run whose
    # buffers start as garbage must log exactly what a clean run logs
    spec = _small_day(120.0)
    clean = Simulation(spec, seed=4).run()
    sim = Simulation(spec, seed=4)
    for name in ("logf", "loge", "logs", "logu"):
        getattr(sim.W, name)[:] = -7
    dirty = sim.run()
    for k in clean.logs.keys():
        assert (clean.logs[k] == dirty.logs[k]).all(), k
    assert clean.digest() == dirty.digest()


def test_realized_pnl_by_average_cost_by_hand():
    from lob.analysis.scorecard import realized_pnl
    # buy 10 @ 100, buy 10 @ 110 (avg 105), sell 15 @ 120 (+225), sell 10 @ 100 (closes 5 at
    # a loss of 25, opens -5 @ 100)
    r, pos, avg = realized_pnl([100, 110, 120, 100], [10, 10, 15, 10], [True, True, False, False])
    assert r == 225 - 25 and pos == -5 and avg == 100
    # ... and buying the short back at 90 realizes 5 x 10
    r2, pos2, _ = realized_pnl([100, 110, 120, 100, 90], [10, 10, 15, 10, 5], [True, True, False, False, True])
    assert r2 == r + 50 and pos2 == 0


def test_scorecards_table_of_the_market_makers():
    from lob.analysis.scorecard import scorecards
    res = Simulation(_small_day(300.0), seed=3).run()
    cards = scorecards(res)
    mm = [a for a in range(res.sim.W.agents.shape[0]) if res.sim.W.agents[a, L.A_KIND] == L.KIND_LADDER_MM]
    assert sorted(cards["agent"]) == mm
    from lob.analysis.scorecard import scorecard
    one = scorecard(res, mm[0])                     # the table's per-agent views give the same figures
    row = cards.set_index("agent").loc[mm[0]]
    for k, v in one.items():
        if k != "agent":
            assert (v == row[k]) or (v != v and row[k] != row[k]), k
    for _, c in cards.iterrows():
        assert 0.5 < c["time_in_market"] <= 1.0 and 0.0 <= c["time_with_bids"] <= c["time_in_market"]
        assert c["mean_resting_lots"] > 0
        # no fees in the calm day: mark-to-market = realized + open position at the last mid
        snaps = res.snapshots
        last_mid = (snaps["bid"][-1] + snaps["ask"][-1]) / 2.0
        tv = float(res.sim.W.books[0, L.BK_SCALE]) * 1e-8
        assert abs(c["mtm_pnl"] - (c["realized_pnl"] + c["position_lots"] * (last_mid - c["avg_entry_ticks"]) * tv)) \
            < 1e-6 * max(1.0, abs(c["mtm_pnl"]))


def test_snapshot_depth_bands_and_sell_slippage_by_hand():
    # a book with bids 100 lots at 99.00, 200 at 98.50, 1000 at 95.00 (tick 0.01 USD, lot 1) and
    # one ask of 10 at 101.00: mid 100.00.  Depth within 1%: bids >= 99.00 -> 100; 2%: >= 98.00 -> 300;
    # 5%: >= 95.00 -> 1300; asks within 1%: <= 101.00 -> 10.
    # Selling 100,000 USD: 100 x 99 = 9,900, 200 x 98.5 = 19,700, then the 70,400 left at 95 a lot:
    # 742 lots (the last one partly) -> 70,490; 100,090 USD for 1,042 lots: avg 96.0557 -> 394.43 bps.
    class _Book(Strategy):
        def on_wakeup(self, now):
            for px, q in ((9900, 100), (9850, 200), (9500, 1000)):
                self.submit(C.BUY, px, q)
            self.submit(C.SELL, 10100, 10)

    spec = ScenarioSpec(
        assets=(AssetSpec(name="USD"), AssetSpec(name="XYZ")),
        venues=(VenueSpec(name="V"),),
        books=(BookSpec(venue="V", base="XYZ", quote="USD", tick=Decimal("0.01"), lot=Decimal(1)),),
        agents=(AgentSpec(kind=L.KIND_PYTHON, strategy=_Book, balances={"USD": 10**7, "XYZ": 10**5},
                          first_wake_s=(0.1, 0.1)),),
        duration_s=2.0, snapshot_s=1.0)
    res = Simulation(spec, seed=0).run()
    row = res.snapshots[-1]
    assert (row["bid_1pct"], row["ask_1pct"], row["bid_2pct"], row["bid_5pct"], row["bid_10pct"]) == \
        (100, 10, 300, 1300, 1300)
    avg = (100 * 9900 + 200 * 9850 + 742 * 9500) / 1042
    assert row["sell_100k"] == int((10000 - avg) / 10000 * 1e6)
    assert row["sell_1m"] == -1 and row["sell_10m"] == -1      # 1,300 lots cannot raise 1M USD


def test_fills_only_strategies_cancel_what_the_venue_holds():
    # a Python ladder told of fills only (no acks): cancel_all cancels the venue's live orders,
    # so its resting orders never pile up, and it gets far fewer callbacks
    from dataclasses import replace

    from strategies.ladder import LadderConfig, LadderMM
    cfg = LadderConfig(refresh_s=0.5, half_spread_bps=0.2, spacing_bps=0.3, size=20, levels=3)
    counts = {}
    for events in (True, False):
        base = _small_day(300.0)
        mm = AgentSpec(kind=L.KIND_PYTHON, strategy=lambda: LadderMM(cfg, base="XYZ"), order_events=events,
                       balances={"USD": 10**8, "XYZ": 10**5}, first_wake_s=(1.0, 1.0), list_cap=64)
        sim = Simulation(replace(base, agents=base.agents + (mm,)), seed=4)
        res = sim.run()
        a = len(sim.W.agents) - 1
        assert int(sim.W.alcnt[a]) <= 2 * cfg.levels
        sub = res.submissions
        assert ((sub["agent"] == a) & (sub["type"] == C.CANCEL)).sum() > 100
        assert (res.conservation_error() == 0).all()
        counts[events] = int(sim.W.clock[L.K_EVENTS])
    assert counts[False] < counts[True]          # no acknowledgements delivered to Python
