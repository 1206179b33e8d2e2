"""The calm day's opt-in mechanisms for the stylized facts (issue #3), in
the direction they claim, on whole simulated days (a day runs in about a
second once compiled).

* ``latent_book``: a slow, V-shaped latent book makes metaorder impact
  concave in size; the default day's impact is convex.
* ``activity_feedback``: the background flow's rates rise with recent
  volatility; the flow stays bounded (its cap) and the day still trades.
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
def _impacts(seed, latent):
    sim = Simulation(calm_day(n_exec=10, latent_book=latent), seed=seed)
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


def _pooled(latent):
    return np.concatenate([_impacts(s, latent) for s in SEEDS])


def _slope(imp, lo, hi):
    """Log-log slope of the mean impact (ticks) between parents in ``lo``
    and in ``hi`` (ranges of lots)."""
    ticks = imp["sign"] * (imp["mid_end"] - imp["mid_start"])
    q = imp["q"]
    a = (q >= lo[0]) & (q < lo[1])
    b = (q >= hi[0]) & (q < hi[1])
    return np.log(ticks[b].mean() / ticks[a].mean()) / np.log(q[b].mean() / q[a].mean())


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
