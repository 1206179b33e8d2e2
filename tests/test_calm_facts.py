"""The calm day's opt-in mechanisms for the stylized facts (issue #3), in
the direction they claim, on whole simulated days (a day runs in about a
second once compiled).

* the default day, executors at the default rate (5 lots/s, about a
  quarter of the volume while they run): impact concave in size, its
  exponent well below the aggressive rate's (100 lots/s).
* ``latent_book``: a slow, V-shaped latent book makes metaorder impact
  concave in size; the default day's impact at 100 lots/s is convex.
* ``activity_feedback``: the background flow's rates rise with recent
  volatility; the flow stays bounded (its cap) and the day still trades.
* ``latent_traders``: latent traders (``agents.decide_latent``) with
  hidden, diffusing reservation prices, revealed near the touch: impact
  concave in size, its exponent below 1 and its interval below the default
  day's.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from lob.analysis import impact as IM
from lob.scenarios.calm_day import calm_day
from lob.sim import layout as L
from lob.sim.model import Simulation

SEEDS = (0, 1, 2)


@lru_cache(maxsize=None)
def _impacts(seed, latent, traders=0, child=100):
    # executors at 100 lots/s (86% of the volume while they run): the regime where the default day's
    # impact is convex, the one these mechanisms were built against
    sim = Simulation(calm_day(n_exec=10, latent_book=latent, latent_traders=traders, exec_child_lots=child),
                     seed=seed)
    res = sim.run()
    s, f = res.snapshots, res.fills
    ok = (s["bid"] > 0) & (s["ask"] > 0)
    ts, mid = s["ts"][ok], 0.5 * (s["bid"][ok] + s["ask"][ok])
    mine = sim.W.agents[f["taker_agent"], L.A_KIND] == L.KIND_EXECUTOR
    sign = np.where(f["taker_side"][mine] == 0, 1, -1)
    _, metas = IM.identify_metaorders(f["taker_agent"][mine], sign, f["ts"][mine], f["qty"][mine],
                                      max_gap_ns=30 * 10**9, min_fills=3)
    # snapshots every second: read the mid one snapshot after the last child
    return IM.metaorder_impact(metas, ts, mid, daily_volume=float(f["qty"].sum()), end_lag_ns=10**9)


def _pooled(latent, traders=0, seeds=SEEDS):
    return np.concatenate([_impacts(s, latent, traders) for s in seeds])


def _slope(imp, lo, hi):
    """Log-log slope of the mean impact (ticks) between parents in ``lo``
    and in ``hi`` (ranges of lots)."""
    ticks = imp["sign"] * (imp["mid_end"] - imp["mid_start"])
    q = imp["q"]
    a = (q >= lo[0]) & (q < lo[1])
    b = (q >= hi[0]) & (q < hi[1])
    return np.log(ticks[b].mean() / ticks[a].mean()) / np.log(q[b].mean() / q[a].mean())


def test_impact_is_concave_at_the_default_execution_rate():
    # twelve 6.5-hour days (about a second each), metaorders begun after the opening (10 minutes, while
    # the book fills): the pooled fit of I / sigma_D = Y (Q / V_D) ** delta
    slow = np.concatenate([_impacts(s, False, child=5) for s in range(12)])
    slow = slow[slow["t_start_ns"] >= 600 * 10**9]
    f = IM.fit_square_root_law(slow["eta"], slow["impact"], n_bins=10, n_boot=200, seed=0)
    assert 0.2 < f.delta < 0.65 and f.ci_high < 0.75, f
    fast = _pooled(False)                        # 100 lots/s, seeds 0-2: convex
    ff = IM.fit_square_root_law(fast["eta"], fast["impact"], n_bins=10, n_boot=200, seed=0)
    assert ff.ci_low > 1.0 and ff.ci_low > f.ci_high + 0.3, (ff, f)


def test_latent_book_makes_impact_concave():
    base, latent = _pooled(False), _pooled(True)
    fb = IM.fit_square_root_law(base["eta"], base["impact"], n_bins=10, n_boot=200, seed=0)
    fl = IM.fit_square_root_law(latent["eta"], latent["impact"], n_bins=10, n_boot=200, seed=0)
    # the default day: convex (the interval lies above 1); the latent book: clearly lower, not convex
    assert fb.ci_low > 1.05, fb
    assert fl.delta < fb.delta - 0.3 and fl.ci_high < fb.ci_low, (fl, fb)
    # large metaorders (1,000 lots and more): the latent book's impact is concave, the default's is not
    big = ((700, 1500), (2500, 60000))
    assert _slope(latent, *big) < 0.75 < _slope(base, *big)


def test_activity_feedback_is_bounded_and_trades():
    quiet = Simulation(calm_day(duration_s=1800.0), seed=0).run()
    sim = Simulation(calm_day(duration_s=1800.0, activity_feedback=True), seed=0)
    busy = sim.run()
    assert (busy.conservation_error() == 0).all()
    assert 1.0 <= sim.W.ast[0, 6] <= 10.0                   # the activity factor, within its cap
    n_q, n_b = len(quiet.fills), len(busy.fills)
    assert n_q < n_b < 12 * n_q
    a = Simulation(calm_day(duration_s=600.0, activity_feedback=True), seed=3).run()
    b = Simulation(calm_day(duration_s=600.0, activity_feedback=True), seed=3).run()
    assert a.digest() == b.digest()


def test_latent_traders_make_impact_concave():
    # 2,000 latent traders (about 15 s a day): seeds 0-1 pooled
    base, lat = _pooled(False, seeds=SEEDS[:2]), _pooled(False, 2000, seeds=SEEDS[:2])
    fb = IM.fit_square_root_law(base["eta"], base["impact"], n_bins=10, n_boot=200, seed=0)
    fl = IM.fit_square_root_law(lat["eta"], lat["impact"], n_bins=10, n_boot=200, seed=0)
    assert fl.delta < 1.0 and fl.ci_high < fb.ci_low, (fl, fb)
    # large metaorders: the latent traders' impact grows about as the square root of the size
    assert _slope(lat, (700, 1500), (2500, 60000)) < 0.7


def test_latent_traders_reveal_trade_renew_and_conserve():
    p = (1.0, 1.0, 0.0005, 150.0, 100.0, 1.0, 30.0)
    spec = calm_day(duration_s=900.0, latent_traders=300, latent_params=p)
    sim = Simulation(spec, seed=4)
    res = sim.run()
    assert (res.conservation_error() == 0).all()
    W = sim.W
    lat = np.nonzero(W.agents[:, L.A_KIND] == L.KIND_LATENT)[0]
    assert len(lat) == 300
    f = res.fills
    kind = W.agents[:, L.A_KIND]
    taker = kind[f["taker_agent"]] == L.KIND_LATENT        # reservations reached: IOCs
    maker = kind[f["maker_agent"]] == L.KIND_LATENT        # revealed near the touch: resting orders hit
    assert taker.sum() > 0 and maker.sum() > 0
    # the state: reservations within the birth band of the last mid (plus diffusion), buyers below
    # the ask and sellers above the bid, and a resting order only within the reveal distance
    s = res.snapshots
    bid, ask = int(s["bid"][-1]), int(s["ask"][-1])
    r, side, resting = W.ast[lat, 0], W.ast[lat, 1], W.ast[lat, 4]
    mid = 0.5 * (bid + ask)
    assert (np.abs(r - mid) < 150.0 + 200.0).all()
    buy = side == 0
    assert (resting[buy & (resting > 0)] < ask).all() and (resting[~buy & (resting > 0)] > bid).all()
    assert (resting[buy & (resting > 0)] >= ask - 30 - 1 - 20).all()
    same = Simulation(calm_day(duration_s=300.0, latent_traders=300, latent_params=p), seed=4).run()
    again = Simulation(calm_day(duration_s=300.0, latent_traders=300, latent_params=p), seed=4).run()
    assert same.digest() == again.digest()
