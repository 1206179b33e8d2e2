"""The compiled guarded ladder market maker (``KIND_GUARDED_MM``,
``lob.sim.guarded``) against its Python twin
(``strategies.guarded_ladder.GuardedLadderMM``): the same scenario and seed
give identical fills, balances and pull records."""
from __future__ import annotations

import numpy as np
import pytest

from lob.analysis import crash
from lob.run import scenario_spec
from lob.sim import guarded as G
from lob.sim import layout as L
from lob.sim.model import Simulation

KW = dict(duration_s=1500.0, shock_s=200.0, n_alts=4, n_calm_alts=2, shock_tau_s=300.0)
COLS = ["agent", "first_pull_s", "trigger", "pulls", "reentries", "taken_over", "pnl"]


def _twins(kw):
    """{compiled: (simulation, result, market makers' table)} for the Python and the compiled makers."""
    out = {}
    for compiled in (False, True):
        sim = Simulation(scenario_spec("oct-10-2025", compiled_mms=compiled, **kw), seed=3)
        res = sim.run()
        out[compiled] = (sim, res, crash.market_makers(res))
    return out


@pytest.fixture(scope="module")
def pair():
    return _twins(KW)


def test_the_compiled_kind_is_used(pair):
    sim_c, sim_p = pair[True][0], pair[False][0]
    n = int((sim_c.W.agents[:, L.A_KIND] == L.KIND_GUARDED_MM).sum())
    assert n > 0 and (sim_p.W.agents[:, L.A_KIND] == L.KIND_GUARDED_MM).sum() == 0
    assert len(sim_p.strategies) - len(sim_c.strategies) == n


def test_identical_fills_and_balances(pair):
    fp, fc = pair[False][1].fills, pair[True][1].fills
    assert len(fp) == len(fc) > 1000
    for col in fp.dtype.names:
        if col in ("maker_id", "taker_id"):      # Python and compiled agents draw ids from different counters
            continue
        assert np.array_equal(fp[col], fc[col]), col
    assert np.array_equal(pair[False][1].balances, pair[True][1].balances)
    assert (pair[True][1].conservation_error() == 0).all()


def test_identical_pull_records(pair):
    mp, mc = pair[False][2], pair[True][2]
    assert len(mp) == len(mc) > 0
    assert mp[COLS].reset_index(drop=True).equals(mc[COLS].reset_index(drop=True))
    # the run exercises the kill switch: several market makers pull, some for more than one reason
    assert (mc["pulls"] > 0).sum() >= 2
    assert mc["trigger"].dropna().nunique() >= 2


# the liquidation-feed trigger alone (the others out of reach): the market makers pull when the risk
# engine's forced sells reach their book, and both twins read the same feed
FEED_KW = dict(KW, mm_forced_frac=(0.002, 0.02), mm_drawdown_bps=(1e5, 1e5), mm_range_bps=(1e5, 1e5),
               mm_adverse_frac=(100.0, 100.0), mm_min_margin_ratio=(1e-6, 1e-6))


@pytest.fixture(scope="module")
def feed_pair():
    return _twins(FEED_KW)


def test_liquidation_feed_trigger_identical_in_both_twins(feed_pair):
    (sim_p, rp, mp), (sim_c, rc, mc) = feed_pair[False], feed_pair[True]
    assert mp[COLS].reset_index(drop=True).equals(mc[COLS].reset_index(drop=True))
    guarded = mc[mc["agent"].isin(np.nonzero(sim_c.W.agents[:, L.A_KIND] == L.KIND_GUARDED_MM)[0])]
    assert len(guarded) and set(guarded["trigger"].dropna()) == {"liquidations"}
    assert (guarded["trigger"] == "liquidations").sum() >= 4
    for col in rp.fills.dtype.names:
        if col not in ("maker_id", "taker_id"):
            assert np.array_equal(rp.fills[col], rc.fills[col]), col
    assert (rc.conservation_error() == 0).all()
    # every such pull comes after the first forced sell on the market maker's own book
    first = sim_c.risk_engines["BIG"].forced_first
    for _, row in guarded[guarded["trigger"] == "liquidations"].iterrows():
        assert row["first_pull_s"] * 1e9 >= first[int(row["book"])], row


def test_feed_decays_with_its_time_constant(feed_pair):
    sim = feed_pair[False][0]
    eng = sim.risk_engines["BIG"]
    b = int(np.argmax(eng.forced))
    t = int(eng.forced_t[b])
    tau = eng.spec.feed_tau_s * 1e9
    assert eng.forced_sells(b, t) == eng.forced[b] > 0
    assert eng.forced_sells(b, t + int(tau)) == pytest.approx(eng.forced[b] / np.e, rel=1e-12)
    assert eng.forced_sells(b, t + int(50 * tau)) < 1e-20 * eng.forced[b]
    assert all(eng.forced_sells(x, t) == 0.0 for x in np.nonzero(eng.forced == 0)[0][:5])


def test_buy_ring_overflow_fails_loudly(monkeypatch):
    monkeypatch.setattr(G, "BUY_CAP", 1)
    sim = Simulation(scenario_spec("oct-10-2025", compiled_mms=True, **dict(KW, duration_s=400.0)), seed=3)
    with pytest.raises(RuntimeError, match="BUY_CAP"):
        sim.run()
