"""Stylized facts (``lob.analysis.stylized``) and metaorder impact
(``lob.analysis.impact``) on synthetic data with known answers.  Every
random draw comes from a seeded ``np.random.Generator``."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from lob.analysis import impact as IM
from lob.analysis import stylized as S
from lob.core import codes as C

NS = 1_000_000_000
MIN = 60 * NS


# ---------------------------------------------------------------------- generators
def garch11(n, omega=0.05, alpha=0.1, beta=0.85, seed=7, burn=1000):
    """GARCH(1,1) returns r_t = sqrt(h_t) z_t, h_t = omega + alpha r_{t-1}^2
    + beta h_{t-1} (Gaussian z; finite 4th moment: 3a^2 + 2ab + b^2 < 1)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n + burn)
    r = np.empty(n + burn)
    h = omega / (1 - alpha - beta)
    for t in range(n + burn):
        r[t] = np.sqrt(h) * z[t]
        h = omega + alpha * r[t] * r[t] + beta * h
    return r[burn:]


def ar1(n, phi, seed=3, burn=500):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n + burn)
    x = np.empty(n + burn)
    x[0] = e[0]
    for t in range(1, n + burn):
        x[t] = phi * x[t - 1] + e[t]
    return x[burn:]


def prices_from_returns(r, p0=100.0):
    return p0 * np.exp(np.r_[0.0, np.cumsum(r)])


# ---------------------------------------------------------------------- resampling
def test_resample_last_carries_forward_over_gaps():
    ts = np.array([0, 10, 25, 25, 90], np.int64) * NS
    px = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    g, v = S.resample_last(ts, px, "20s")
    assert g.tolist() == [0, 20 * NS, 40 * NS, 60 * NS, 80 * NS]
    # at 40, 60, 80 s nothing new traded since 25 s: the last of the tie (4.0) carries
    assert v.tolist() == [1.0, 2.0, 4.0, 4.0, 4.0]
    g, v = S.resample_last(ts, px, 20 * NS, t0=-20 * NS, t1=100 * NS)
    assert np.isnan(v[0]) and v[1:].tolist() == [1.0, 2.0, 4.0, 4.0, 4.0, 5.0]
    # the default grid starts at the first multiple of the step at or after the first trade
    g, v = S.resample_last(ts + 1, px, "20s")
    assert g[0] == 20 * NS and v[0] == 2.0 and g[-1] == 80 * NS


def test_resample_last_minute_bars():
    ts = np.array([5, 59, 61, 200], np.int64) * NS
    g, v = S.resample_last(ts, [10.0, 11.0, 12.0, 13.0], "1min", t0=0)
    assert g.tolist() == [0, MIN, 2 * MIN, 3 * MIN] and np.isnan(v[0]) and v[1:].tolist() == [11.0, 12.0, 12.0]
    assert S.duration_ns("1min") == MIN == S.duration_ns("1m") == S.duration_ns("60s") == S.duration_ns(MIN)


def test_resample_last_rejects_unsorted_and_bad_input():
    with pytest.raises(ValueError, match=r"non-decreasing: ts\[2\] = 5 < ts\[1\] = 10"):
        S.resample_last(np.array([0, 10, 5]), [1.0, 2.0, 3.0], 1)
    with pytest.raises(ValueError, match="3 timestamps but 2 prices"):
        S.resample_last(np.array([0, 1, 2]), [1.0, 2.0], 1)
    with pytest.raises(TypeError, match="integers"):
        S.resample_last(np.array([0.0, 1.5]), [1.0, 2.0], 1)
    with pytest.raises(ValueError, match="positive"):
        S.resample_last(np.array([0, 1]), [1.0, 2.0], 0)
    with pytest.raises(ValueError, match="bad duration"):
        S.resample_last(np.array([0, 1]), [1.0, 2.0], "1 fortnight")


def test_resample_last_empty():
    g, v = S.resample_last(np.array([], np.int64), np.array([]), "1s")
    assert len(g) == 0 and len(v) == 0 and g.dtype == np.int64
    g, v = S.resample_last([], [], "1s", t0=0, t1=2 * NS)
    assert g.tolist() == [0, NS, 2 * NS] and np.isnan(v).all()
    assert len(S.bar_returns([], [], "1s")) == 0


def test_log_returns():
    r = S.log_returns([100.0, 110.0, np.nan, 121.0, 121.0])
    assert np.allclose(r, [np.log(1.1), 0.0])
    assert len(S.log_returns([1.0, np.nan, 2.0], dropna=False)) == 2
    with pytest.raises(ValueError, match="positive"):
        S.log_returns([1.0, 0.0, 2.0])


# ---------------------------------------------------------------------- kurtosis
def test_kurtosis_gaussian_is_zero_within_se():
    x = np.random.default_rng(11).standard_normal(100_000)
    k = S.excess_kurtosis(x)
    assert k.method == "normal" and k.n == 100_000
    assert k.se == pytest.approx(np.sqrt(24 / 100_000), rel=1e-3)
    assert abs(k.kurtosis) < 2 * k.se
    assert k.ci_low < 0 < k.ci_high
    kb = S.excess_kurtosis(x[:20_000], n_boot=200, seed=1)
    assert kb.method == "bootstrap" and kb.ci_low < 0 < kb.ci_high
    assert kb.se == pytest.approx(np.sqrt(24 / 20_000), rel=0.3)


def test_kurtosis_student_t():
    rng = np.random.default_rng(5)
    # t(10): excess kurtosis 6 / (nu - 4) = 1, 8th moment finite: the estimator behaves
    k10 = S.excess_kurtosis(rng.standard_t(10, 100_000), n_boot=100, seed=2)
    assert k10.ci_low < 1.0 < k10.ci_high and k10.kurtosis == pytest.approx(1.0, abs=0.25)
    # t(5): theory 6, but the 8th moment is infinite, so the sample kurtosis
    # converges slowly and sits below 6 at any practical n: only a loose band
    k5 = S.excess_kurtosis(rng.standard_t(5, 200_000))
    assert 3.5 < k5.kurtosis < 9.0
    assert k5.kurtosis > 100 * k5.se       # the normal-theory SE rejects Gaussian tails outright


def test_kurtosis_estimators_match_textbook():
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0, -3.0, 0.5])
    n = len(x)
    m = x - x.mean()
    g2 = (m**4).mean() / (m**2).mean() ** 2 - 3
    G2 = ((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3))
    assert S.excess_kurtosis(x, bias=True).kurtosis == pytest.approx(g2)
    assert S.excess_kurtosis(x).kurtosis == pytest.approx(G2)
    with pytest.raises(ValueError, match="at least 4"):
        S.excess_kurtosis([1.0, 2.0, np.nan, 3.0])


def test_kurtosis_matches_pandas():
    pd = pytest.importorskip("pandas")
    x = np.random.default_rng(0).standard_t(6, 1000)
    assert S.excess_kurtosis(x).kurtosis == pytest.approx(pd.Series(x).kurt(), rel=1e-10)


# ---------------------------------------------------------------------- autocorrelation
def test_garch_returns_uncorrelated_abs_returns_clustered():
    r = garch11(20_000)
    a = S.autocorrelation(r, 10)
    assert a.band == pytest.approx(1.96 / np.sqrt(20_000), rel=1e-3)
    assert a.lags.tolist() == list(range(1, 11))
    assert len(a.outside) <= 1 and np.abs(a.acf).max() < 2 * a.band
    b = S.abs_autocorrelation(r, 10)
    assert (b.acf > 0).all() and (b.acf > b.band).all()
    assert b.acf[0] > 0.1
    k = S.excess_kurtosis(r)      # GARCH(1,1) with Gaussian shocks: theory 3 * 0.0975 / 0.0775 - 3 = 0.77
    assert k.ci_low > 0.3 and k.kurtosis < 1.5


@pytest.mark.parametrize("phi", [0.3, -0.5, 0.8])
def test_ar1_lag1_autocorrelation_is_phi(phi):
    n = 20_000
    a = S.autocorrelation(ar1(n, phi, seed=int(abs(phi) * 10)), 5)
    se = np.sqrt((1 - phi**2) / n)                         # Bartlett SE of the lag-1 estimate
    assert a.acf[0] == pytest.approx(phi, abs=4 * se)
    assert np.allclose(a.acf, phi ** a.lags, atol=0.03)


def test_autocorrelation_edge_cases():
    a = S.autocorrelation(np.ones(50), 3)
    assert np.isnan(a.acf).all()
    with pytest.raises(ValueError, match="more than 10"):
        S.autocorrelation(np.arange(10.0), 10)
    a = S.autocorrelation([1.0, -1.0] * 20 + [np.nan], 2)
    assert a.n == 40 and a.acf[0] == pytest.approx(-39 / 40) and a.acf[1] == pytest.approx(38 / 40)
    assert a.as_dict()["lags"] == [1, 2]


# ---------------------------------------------------------------------- spread
def test_spread_stats_counts_and_time_weights():
    tick = 0.01
    bid = np.array([100.00, 100.00, 100.01, 100.00, 100.02, 100.05, np.nan])
    ask = np.array([100.01, 100.02, 100.02, 100.03, 100.03, 100.05, 100.10])   # spreads 1 2 1 3 1 | locked, NaN
    s = S.spread_stats(bid, ask, tick=tick)
    assert s.n == 5 and s.n_invalid == 2 and not s.time_weighted
    assert s.one_tick_fraction == pytest.approx(3 / 5)
    assert s.mean_ticks == pytest.approx(8 / 5)
    assert s.quantiles_ticks[0.5] == pytest.approx(1.0) and s.quantiles_ticks[0.95] == pytest.approx(3.0)
    # time-weighted: the 2-tick and 3-tick spreads last long
    ts = np.array([0, 1, 9, 10, 30, 31, 32]) * NS
    tw = S.spread_stats(bid, ask, tick=tick, ts_ns=ts, t_end_ns=40 * NS)
    # weights 1, 8, 1, 20, 1 s (the invalid snapshots are left out)
    assert tw.time_weighted
    assert tw.one_tick_fraction == pytest.approx(3 / 31)
    assert tw.mean_ticks == pytest.approx((1 + 16 + 1 + 60 + 1) / 31)
    assert tw.quantiles_ticks[0.5] == pytest.approx(3.0)
    # tick inferred as the smallest spread; engine ticks
    assert S.spread_stats(bid, ask).tick == pytest.approx(tick)
    assert S.spread_stats([10, 11], [11, 13]).one_tick_fraction == 0.5


def test_spread_stats_errors():
    with pytest.raises(ValueError, match="no valid"):
        S.spread_stats([1.0, 2.0], [1.0, 1.5])
    with pytest.raises(ValueError, match="2 bids but 1 asks"):
        S.spread_stats([1.0, 2.0], [3.0])
    with pytest.raises(ValueError, match="non-decreasing"):
        S.spread_stats([1.0, 2.0], [2.0, 3.0], ts_ns=[5, 1])


# ---------------------------------------------------------------------- summary
def _garch_day(n=6000, seed=7):
    r = garch11(n, seed=seed) * 1e-3
    p = prices_from_returns(r)
    jitter = np.random.default_rng(seed).integers(0, MIN // 2, len(p))
    ts = np.arange(len(p), dtype=np.int64) * MIN + jitter       # one trade per minute, jittered
    return ts, p


def test_stylized_facts_on_garch():
    ts, p = _garch_day()
    bid = np.round(p, 2) - 0.01
    ask = bid + np.where(np.arange(len(p)) % 4 == 0, 0.02, 0.01)
    facts, table = S.stylized_facts(ts, p, bar="1min", bid=bid, ask=ask, tick=0.01, n_boot=50, seed=0,
                                    frame=False)
    assert table is None
    assert facts["bar_ns"] == MIN and facts["n_returns"] == len(p) - 2
    assert facts["checks"]["heavy_tails"]
    assert facts["checks"]["no_return_autocorrelation"]
    assert facts["checks"]["volatility_clustering"]
    assert facts["checks"]["aggregational_gaussianity"]
    assert facts["spread"]["one_tick_fraction"] == pytest.approx(0.75, abs=1e-3)
    assert len(facts["acf_abs_returns"]["acf"]) == 10
    rows = S.facts_table(facts)
    assert rows[0]["statistic"] == "excess_kurtosis"
    assert sum(r["statistic"] == "acf_returns" for r in rows) == 10
    # Gaussian random walk: no heavy tails, no clustering
    rng = np.random.default_rng(9)
    pg = prices_from_returns(rng.standard_normal(6000) * 1e-3)
    f2, _ = S.stylized_facts(np.arange(len(pg), dtype=np.int64) * MIN, pg, n_boot=50, frame=False)
    assert not f2["checks"]["heavy_tails"] and not f2["checks"]["volatility_clustering"]


def test_stylized_facts_dataframe():
    pytest.importorskip("pandas")
    ts, p = _garch_day(2000)
    facts, df = S.stylized_facts(ts, p, n_boot=20)
    assert list(df.columns) == ["statistic", "lag", "value", "low", "high", "expected"]
    assert len(df) == len(S.facts_table(facts))
    assert df.loc[df.statistic == "excess_kurtosis", "value"].item() == pytest.approx(
        facts["kurtosis"]["kurtosis"])


def test_stylized_facts_without_pandas(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    ts, p = _garch_day(500)
    with pytest.raises(ImportError, match=r"analysis"):
        S.stylized_facts(ts, p, n_boot=0)
    facts, df = S.stylized_facts(ts, p, n_boot=0, frame=False)
    assert df is None and facts["kurtosis"]["method"] == "normal"


def test_stylized_facts_too_few_bars():
    with pytest.raises(ValueError, match="too few"):
        S.stylized_facts(np.arange(5, dtype=np.int64) * MIN, np.ones(5) * 100.0)


# ---------------------------------------------------------------------- metaorders
def test_identify_metaorders_groups_consecutive_same_side():
    #          agent sign  t(s) qty
    rows = [(1, +1, 0, 5), (2, -1, 1, 1), (1, +1, 2, 5), (2, -1, 3, 2), (1, -1, 4, 7),
            (1, -1, 5, 1), (2, -1, 100, 3), (1, +1, 6, 2)]
    ag, sg, t, q = (np.array(c) for c in zip(*rows))
    labels, m = IM.identify_metaorders(ag, sg, t * NS, q)
    assert m.dtype == IM.METAORDER_DTYPE
    # agent 1: buy (0, 2), sell (4, 5), buy (6); agent 2: sell (1, 3, 100)
    assert m[["agent", "sign"]].tolist() == [(1, 1), (2, -1), (1, -1), (1, 1)]
    assert m["q"].tolist() == [10, 6, 8, 2] and m["n_fills"].tolist() == [2, 3, 2, 1]
    assert m["t_start_ns"].tolist() == [0, NS, 4 * NS, 6 * NS] and m["t_end_ns"][1] == 100 * NS
    assert labels.tolist() == [0, 1, 0, 1, 2, 2, 1, 3]
    # a long pause splits agent 2's sells; min_fills drops the one-trade metaorders
    labels, m = IM.identify_metaorders(ag, sg, t * NS, q, max_gap_ns=10 * NS, min_fills=2)
    assert m[["agent", "sign", "n_fills"]].tolist() == [(1, 1, 2), (2, -1, 2), (1, -1, 2)]
    assert labels.tolist() == [0, 1, 0, 1, 2, 2, -1, -1]
    with pytest.raises(ValueError, match="engine_side_to_sign"):
        IM.identify_metaorders([1], [0], [0])
    l0, m0 = IM.identify_metaorders([], [], [])
    assert len(l0) == 0 and len(m0) == 0


def test_child_trades_from_engine_fills():
    f = np.zeros(3, C.FILL_DTYPE)
    f["ts"] = [30, 10, 20]
    f["maker_account"] = [5, 5, 6]
    f["taker_account"] = [7, 8, 7]
    f["qty"] = [1, 2, 3]
    f["price"] = [100, 101, 102]
    f["taker_side"] = [C.BUY, C.SELL, C.BUY]
    t = IM.child_trades_from_fills(f)
    assert t["ts_ns"].tolist() == [10, 20, 30] and t["agent"].tolist() == [8, 7, 7]
    assert t["sign"].tolist() == [-1, 1, 1]
    mk = IM.child_trades_from_fills(f, role="maker")
    assert mk["agent"].tolist() == [5, 6, 5] and mk["sign"].tolist() == [1, -1, -1]
    assert len(IM.child_trades_from_fills(f, role="both")["ts_ns"]) == 6
    assert IM.engine_side_to_sign([C.BUY, C.SELL]).tolist() == [1, -1]


def test_metaorder_impact_windows():
    m = np.zeros(2, IM.METAORDER_DTYPE)
    m["sign"] = [1, -1]
    m["t_start_ns"] = [10, 50]
    m["t_end_ns"] = [20, 60]
    m["q"] = [4, 5]
    mid_t = np.array([0, 10, 15, 20, 40, 55, 60, 70])
    mid = np.array([100., 101., 102., 103., 100., 99., 98., 97.])
    trade_t = np.array([5, 10, 12, 20, 21, 50, 60, 61])
    trade_q = np.array([100, 4, 6, 10, 100, 5, 15, 100.])
    out = IM.metaorder_impact(m, mid_t, mid, trade_t, trade_q, sigma_d=0.02)
    assert out["mid_start"].tolist() == [100.0, 100.0]        # strictly before the first child
    assert out["mid_end"].tolist() == [103.0, 98.0]           # at or before the last child
    assert out["v"].tolist() == [20.0, 20.0] and out["eta"].tolist() == [0.2, 0.25]
    assert out["impact"] == pytest.approx([0.03, 0.02])
    assert out["impact_sigma"] == pytest.approx([1.5, 1.0])
    d = IM.metaorder_impact(m, mid_t, mid, daily_volume=1000.0)
    assert d["eta"].tolist() == [0.004, 0.005] and np.isnan(d["impact_sigma"]).all()
    with pytest.raises(ValueError, match="daily_volume"):
        IM.metaorder_impact(m, mid_t, mid)
    # a sampled mid: read it one sample after the last child (the volume window stays the same)
    lag = IM.metaorder_impact(m, mid_t, mid, trade_t, trade_q, end_lag_ns=5)
    assert lag["mid_end"].tolist() == [103.0, 98.0]           # no sample in (20, 25] nor (60, 65]
    lag = IM.metaorder_impact(m, mid_t, mid, trade_t, trade_q, end_lag_ns=10)
    assert lag["mid_end"].tolist() == [103.0, 97.0] and lag["v"].tolist() == out["v"].tolist()


def _synthetic_impacts(delta, n=4000, y=0.8, sigma=0.02, seed=1):
    """eta log-uniform over 1e-4..1e-1; I = Y sigma eta^delta (1 + 0.5 eps1)
    + 0.03 sigma sqrt(eta) eps2 (multiplicative noise plus price diffusion)."""
    rng = np.random.default_rng(seed)
    eta = 10 ** rng.uniform(-4, -1, n)
    imp = y * sigma * eta**delta * (1 + 0.5 * rng.standard_normal(n)) \
        + 0.03 * sigma * np.sqrt(eta) * rng.standard_normal(n)
    return eta, imp


@pytest.mark.parametrize("delta", [0.5, 1.0])
def test_fit_recovers_delta(delta):
    eta, imp = _synthetic_impacts(delta, seed=int(delta * 10))
    fit = IM.fit_square_root_law(eta, imp, sigma=0.02, n_bins=10, n_boot=300, seed=4)
    assert fit.ci_low <= delta <= fit.ci_high, fit
    assert fit.ci_high - fit.ci_low < 0.12
    assert fit.delta == pytest.approx(delta, abs=0.05)
    assert fit.y_ci[0] < 0.8 * 1.1 and fit.y_ci[1] > 0.8 * 0.9
    assert fit.n == 4000 and fit.n_bins_used == 10 and fit.bin_count.sum() == 4000
    assert len(fit.boot) == 300 and 0 < fit.se < 0.05
    # deterministic
    again = IM.fit_square_root_law(eta, imp, sigma=0.02, n_bins=10, n_boot=300, seed=4)
    assert (again.ci_low, again.ci_high) == (fit.ci_low, fit.ci_high)


def test_fit_errors():
    with pytest.raises(ValueError, match="too few"):
        IM.fit_square_root_law([0.1, 0.2], [0.1, 0.2], n_bins=2)
    with pytest.raises(ValueError, match="positive mean impact"):
        IM.fit_square_root_law(np.linspace(0.01, 0.1, 40), -np.ones(40), n_boot=0)


def _simulated_day(delta, k=800, y=0.7, sigma_d=0.03, seed=2):
    """Sequential metaorders by 5 agents over a background trade tape of one
    trade per second; each moves the mid by sign * Y sigma_D eta^delta (with
    10% multiplicative noise) and the mid diffuses between them."""
    rng = np.random.default_rng(seed)
    agents, signs, child_t, child_q, true_eta = [], [], [], [], []
    mid_t, mid = [], []
    t = 0
    m = 100.0
    bg_rate = 50.0                                         # background lots per second
    for i in range(k):
        dur = int(rng.integers(60, 600))                   # s
        n_child = dur // 20 + 1                            # a child every 20 s
        eta = 10 ** rng.uniform(-3, -0.5)
        vol_bg = bg_rate * ((n_child - 1) * 20 + 1)        # background trades in [first, last child]
        q = eta / (1 - eta) * vol_bg                       # q / (background + q) = eta
        s = int(rng.choice((-1, 1)))
        a = i % 5
        ct = t + np.arange(n_child) * 20
        agents += [a] * n_child
        signs += [s] * n_child
        child_t += ct.tolist()
        child_q += [q / n_child] * n_child
        true_eta.append(eta)
        start = m
        end = start * (1 + s * y * sigma_d * eta**delta * (1 + 0.1 * rng.standard_normal()))
        mid_t += [t - 1, t + dur // 2, ct[-1]]
        mid += [start, (start + end) / 2, end]
        m = end * np.exp(0.002 * rng.standard_normal())   # diffusion before the next one
        t = int(ct[-1]) + 300                              # pause: 5 min
    bg_t = np.arange(-10, t + 10)                          # one background trade per second
    bg_q = np.full(len(bg_t), bg_rate)
    tape_t = np.r_[bg_t, child_t] * NS
    tape_q = np.r_[bg_q, child_q]
    order = np.argsort(tape_t, kind="stable")
    return (np.array(agents), np.array(signs), np.array(child_t) * NS, np.array(child_q),
            np.array(mid_t) * NS, np.array(mid), tape_t[order], tape_q[order], np.array(true_eta))


@pytest.mark.parametrize("delta", [0.5, 1.0])
def test_pipeline_fills_to_delta(delta):
    ag, sg, ct, cq, mt, mid, tt, tq, true_eta = _simulated_day(delta, seed=int(delta * 4))
    labels, metas = IM.identify_metaorders(ag, sg, ct, cq, max_gap_ns=60 * NS)
    assert len(metas) == len(true_eta)                     # the pauses split same-agent, same-side runs
    out = IM.metaorder_impact(metas, mt, mid, tt, tq, sigma_d=0.03)
    assert out["eta"] == pytest.approx(true_eta, rel=1e-9)
    fit = IM.fit_square_root_law(out["eta"], out["impact"], sigma=0.03, n_bins=8, n_boot=200, seed=1)
    assert fit.ci_low <= delta <= fit.ci_high, fit
    assert fit.ci_high - fit.ci_low < 0.1
    fit2 = IM.fit_square_root_law(out["eta"], out["impact_sigma"], n_bins=8, n_boot=0)
    assert fit2.delta == pytest.approx(fit.delta)
    assert fit.y == pytest.approx(0.7, rel=0.15)


def test_daily_volatility_of_a_random_walk():
    rng = np.random.default_rng(8)
    sigma_5m = 0.001
    n = 288 * 20                                           # 20 days of 5-minute bars
    p = prices_from_returns(sigma_5m * rng.standard_normal(n))
    ts = np.arange(len(p), dtype=np.int64) * 5 * MIN
    sd = IM.daily_volatility(ts, p, "5min", "1d")
    assert sd == pytest.approx(sigma_5m * np.sqrt(288), rel=0.05)


def test_resample_last_refuses_a_huge_grid():
    with pytest.raises(ValueError, match="check the units"):
        S.resample_last(np.array([0, 10**15]), [1.0, 2.0], 1)
