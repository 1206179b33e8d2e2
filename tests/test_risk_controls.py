"""Market makers' risk controls: each kill-switch trigger, the re-entry
rule, inventory limits and volatility widening, with hand-made paths."""
from __future__ import annotations

import math

import pytest

from strategies.risk_controls import RiskControls, RiskControlsConfig

S = 1_000_000_000


def _feed(rc, path, t0=0, dt_s=1.0, value=None, inv=0.0, margin=math.inf):
    out = []
    for k, mid in enumerate(path):
        t = t0 + int(k * dt_s * S)
        rc.observe(t, mid, value(mid) if value else 1_000_000.0)
        out.append(rc.decide(t, inv, margin))
    return out


def test_defaults_never_pull():
    rc = RiskControls()
    ds = _feed(rc, [100, 50, 10, 100, 1])
    assert all(d.bids and d.asks and not d.pulled for d in ds)
    assert rc.pulls == []


def test_volatility_trigger_pulls_bids_only_and_reenters_after_calm():
    rc = RiskControls(RiskControlsConfig(window_s=10, max_range_bps=500, reentry_s=30))
    ds = _feed(rc, [100.0] * 5 + [94.0] + [94.0] * 60)
    # range (100 - 94) / 100 = 600 bps > 500 at the 6th observation (t = 5 s)
    assert [d.pulled for d in ds[:6]] == [False] * 5 + [True]
    assert ds[5].trigger == "volatility" and not ds[5].bids and ds[5].asks
    assert rc.pulls == [(5 * S, "volatility")]
    # the last 100 (t = 4 s) is inside the 10 s window up to t = 14 s (last fire),
    # out at t = 15 s; re-entry 30 s after the last fire
    assert ds[14].trigger == "volatility" and ds[15].trigger is None
    assert ds[43].pulled and not ds[44].pulled and ds[44].bids
    assert rc.reentries == [44 * S]


def test_drawdown_trigger_and_pull_all():
    cfg = RiskControlsConfig(max_drawdown_bps=1000, pull="all", drawdown_window_s=600)
    rc = RiskControls(cfg)
    # value = 1e6 at mid 100, falling with the mid: 10% drawdown at mid 90 (not more), 10.01% below
    ds = _feed(rc, [100, 95, 90, 89.9], value=lambda m: 10_000.0 * m)
    assert [d.pulled for d in ds] == [False, False, False, True]
    assert ds[3].trigger == "drawdown" and not ds[3].bids and not ds[3].asks


def test_adverse_fill_trigger_counts_bought_lots_in_the_window():
    rc = RiskControls(RiskControlsConfig(window_s=10, max_bought_lots=100))
    rc.observe(0, 100, 1.0)
    rc.on_fill(0, True, 60)
    rc.on_fill(1 * S, False, 500)           # sells do not count
    assert not rc.decide(1 * S, 0).pulled
    rc.on_fill(2 * S, True, 41)
    rc.observe(2 * S, 100, 1.0)
    assert rc.decide(2 * S, 0).trigger == "adverse_fills"
    rc.observe(11 * S, 100, 1.0)            # the 60 left the window: 41 remain
    assert rc.decide(11 * S, 0).trigger is None


def test_margin_trigger_uses_the_venue_ratio():
    rc = RiskControls(RiskControlsConfig(min_margin_ratio=2.0))
    rc.observe(0, 100, 1.0)
    assert rc.decide(0, 0, margin_ratio=2.5).trigger is None
    assert rc.decide(1, 0, margin_ratio=1.9).trigger == "margin"


def test_inventory_limit_and_widening():
    rc = RiskControls(RiskControlsConfig(max_inventory_lots=50, widen_per_100bps=0.5, window_s=100))
    _feed(rc, [100, 98])                    # 200 bps range -> widen 1 + 0.5 * 2
    d = rc.decide(2 * S, 50)
    assert not d.bids and d.asks and d.widen == pytest.approx(2.0)
    assert rc.decide(2 * S, -50).asks is False


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="pull"):
        RiskControlsConfig(pull="asks")
    with pytest.raises(TypeError):
        RiskControlsConfig(max_drawdown=5)      # unknown key
