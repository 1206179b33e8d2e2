"""Perpetual futures: exact fills and realised PnL, Binance's premium /
funding / mark price, zero-sum funding, isolated liquidation prices and the
leveraged-long population.  Amounts in USDT; E8 = atoms per USDT."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lob.margin import perps as PF
from lob.margin import unified as U
from lob.margin.unified import SRC_ORACLE, AssetSpec, PerpSpec, build_config, price_matrix

E8 = 10**8
INF = math.inf


def venue(cs=1.0, tiers=(0.02, 0.01)):
    return build_config([AssetSpec("USDT", policy=SRC_ORACLE, cash=True),
                         AssetSpec("BTC")], [PerpSpec("BTCUSDT", cs, tiers)], quote=0)


def state(n):
    return (np.zeros((n, 1), np.int64), np.zeros((n, 1), np.int64), np.zeros((n, 2), np.int64))


# ----------------------------------------------------------------------
# fills
# ----------------------------------------------------------------------
def test_perp_fill_realised_pnl_hand_computed():
    """cs = 1.  A buys 10 from B at 100 (A long 10, cost 1,000; B short 10,
    cost -1,000).  A sells 4 to C at 110: releases 1,000 x 4/10 = 400 of cost,
    realises 440 - 400 = +40; C opens long 4 at cost 440.  B buys 15 from A
    at 90: B closes its short (releases -1,000, pays 900: +100) and opens a
    long 5 at 450; A closes long 6 (releases 600, gets 540: -60) and opens a
    short 9 at cost -810."""
    cfg = venue()
    pos, cost, bal = state(3)
    A, B, C = 0, 1, 2
    n, ra, rb = PF.perp_fill(cfg, pos, cost, bal, A, B, 0, 10, 100.0)
    assert (n, ra, rb) == (1_000 * E8, 0, 0)
    n, rc, ra = PF.perp_fill(cfg, pos, cost, bal, C, A, 0, 4, 110.0)
    assert (n, rc, ra) == (440 * E8, 0, 40 * E8)
    assert pos[:, 0].tolist() == [6, -10, 4]
    assert cost[:, 0].tolist() == [600 * E8, -1_000 * E8, 440 * E8]
    n, rb, ra = PF.perp_fill(cfg, pos, cost, bal, B, A, 0, 15, 90.0)
    assert n == 1_350 * E8
    assert rb == 100 * E8        # short 10 from 100 bought back at 90
    assert ra == -60 * E8        # long 6 from 100 sold at 90
    assert pos[:, 0].tolist() == [-9, 5, 4]
    # A's opening part: 1,350 x 9/15 = 810; B's: 1,350 x 5/15 = 450
    assert cost[:, 0].tolist() == [-810 * E8, 450 * E8, 440 * E8]
    assert bal[:, 0].tolist() == [-20 * E8, 100 * E8, 0]
    assert PF.entry_price(cfg, pos[:, 0], cost[:, 0], 0).tolist() == [90.0, 90.0, 110.0]
    # conserved: sum(quote) - sum(cost) = 80 - 80 = 0, and sum(pos) = 0
    assert bal[:, 0].sum() - cost.sum() == 0 and pos.sum() == 0


def test_perp_fill_random_conservation():
    rng = np.random.default_rng(3)
    cfg = venue(cs=0.001)
    n = 12
    pos, cost, bal = state(n)
    for _ in range(5_000):
        b, s = rng.choice(n, 2, replace=False)
        PF.perp_fill(cfg, pos, cost, bal, int(b), int(s), 0, int(rng.integers(1, 5_000)),
                     float(rng.uniform(50_000, 150_000)))
        assert pos.sum() == 0
        assert bal[:, 0].sum() - cost.sum() == 0          # exact, in atoms
    flat = pos[:, 0] == 0
    assert (cost[flat, 0] == 0).all()                    # flat positions carry no cost
    # total wallet + unrealised PnL at any common mark is zero (up to float)
    mark = 97_000.0
    upl = (pos[:, 0] * 0.001 * mark * E8 - cost[:, 0]).sum()
    assert abs(bal[:, 0].sum() + upl) < 1e-3 * E8


# ----------------------------------------------------------------------
# premium, funding rate, mark price
# ----------------------------------------------------------------------
def test_premium_index_binance():
    # impact bid above index: (100.5 - 100) / 100; impact ask below: -(100 - 99.5) / 100
    assert PF.premium_index(100.5, 100.7, 100.0) == pytest.approx(0.005)
    assert PF.premium_index(99.0, 99.5, 100.0) == pytest.approx(-0.005)
    assert PF.premium_index(99.9, 100.1, 100.0) == 0.0


def test_average_premium_weights_later_samples():
    # (1 x .001 + 2 x .002 + 3 x .003) / 6 = .014 / 6
    assert PF.average_premium([0.001, 0.002, 0.003]) == pytest.approx(0.014 / 6)
    assert PF.average_premium([]) == 0.0


@pytest.mark.parametrize("p, f", [
    (0.0003, 0.0001),      # .0003 + clamp(.0001 - .0003 = -.0002) = .0001
    (0.0010, 0.0005),      # .0010 + clamp(-.0009 -> -.0005)
    (-0.0002, 0.0001),     # -.0002 + clamp(.0003)
    (-0.0020, -0.0015),    # -.0020 + clamp(.0021 -> .0005)
    (0.0, 0.0001),         # the interest rate alone
])
def test_funding_rate_binance(p, f):
    assert PF.funding_rate(p) == pytest.approx(f, abs=1e-15)


def test_funding_rate_cap():
    assert PF.funding_rate(0.05, cap=0.0075) == 0.0075
    assert PF.funding_rate(-0.05, cap=0.0075) == -0.0075


def test_mark_price_median():
    """index 100, last funding .0001 with 4 h of 8 left: p1 = 100 x
    (1 + .0001 x .5) = 100.005; basis MA +0.3: p2 = 100.3; last 100.2 ->
    median 100.2.  With last 101: median 100.3; with last 99: 100.005."""
    assert PF.mark_price(100.0, 0.0001, 4 * 3600, 0.3, 100.2) == pytest.approx(100.2)
    assert PF.mark_price(100.0, 0.0001, 4 * 3600, 0.3, 101.0) == pytest.approx(100.3)
    assert PF.mark_price(100.0, 0.0001, 4 * 3600, 0.3, 99.0) == pytest.approx(100.005)


def test_mark_price_is_numpys_median_bit_for_bit():
    """The median of three is taken without np.median; it must give the
    very value np.median gives, NaN included, on arrays and scalars."""
    g = np.random.default_rng(7)
    for _ in range(50):
        n = int(g.integers(1, 40))
        idx, f, basis, last = g.lognormal(0, 2, n), g.normal(0, 1e-3, n), g.normal(0, 1, n), g.lognormal(0, 2, n)
        for arr in (idx, basis, last):
            arr[g.random(n) < 0.1] = np.nan
        t = float(g.uniform(0, 8 * 3600))
        p1 = idx * (1.0 + f * (t / PF.FUNDING_INTERVAL_S))
        tie = g.random(n) < 0.2
        last[tie] = p1[tie]                                                  # ties
        want = np.median(np.stack([p1, idx + basis, last]), axis=0)
        got = PF.mark_price(idx, f, t, basis, last)
        assert np.array_equal(got, want, equal_nan=True)
        assert np.array_equal(np.signbit(got), np.signbit(want))
    assert PF.mark_price(100.0, 0.0, 0.0, np.nan, 100.0) != PF.mark_price(100.0, 0.0, 0.0, np.nan, 100.0)


def test_mark_price_state():
    st = PF.MarkPriceState(2, window=3)
    for mid in (101.0, 102.0, 103.0, 104.0):           # basis 1,2,3,4: MA over the last 3 = 3
        st.sample_basis([mid, 50.0], [100.0, 50.0])
    assert st.basis_ma.tolist() == [3.0, 0.0]
    # premium samples .001 then .003 (impact bid above index) -> (1 x .001 + 2 x .003) / 3
    st.sample_premium([100.1, 50.0], [100.2, 50.1], [100.0, 50.0])
    st.sample_premium([100.3, 50.0], [100.4, 50.1], [100.0, 50.0])
    assert st.avg_premium[0] == pytest.approx(0.007 / 3)
    rate = st.close_interval()
    assert rate[0] == pytest.approx(0.007 / 3 - 0.0005)      # clamp(.0001 - .00233) = -.0005
    assert rate[1] == pytest.approx(0.0001)
    assert st.k == 0
    # mark: median(100 x (1 + F x 1), 100 + 3, last 102) = 102
    mk = st.mark([100.0, 50.0], [102.0, 50.0], PF.FUNDING_INTERVAL_S)
    assert mk[0] == pytest.approx(102.0) and mk[1] == pytest.approx(50.0)


# ----------------------------------------------------------------------
# funding settlement
# ----------------------------------------------------------------------
def test_funding_payments_hand_computed_sum_to_zero():
    """cs 0.001 BTC, mark 100,000, rate +0.01%: longs 3,000 and 1,000
    contracts (notional 300,000 and 100,000) pay 30 and 10 USDT; shorts
    2,500 and 1,500 receive 40 x 2,500/4,000 = 25 and the remaining 15."""
    cfg = venue(cs=0.001)
    pos = np.array([[3_000], [1_000], [-2_500], [-1_500], [0]], np.int64)
    bal = np.zeros((5, 2), np.int64)
    pay = np.zeros(5, np.int64)
    total = PF.settle_funding(cfg, pos, bal, 0, 0.0001, 100_000.0, pay)
    assert total == 40 * E8
    assert pay.tolist() == [-30 * E8, -10 * E8, 25 * E8, 15 * E8, 0]
    assert pay.sum() == 0 and bal[:, 0].tolist() == pay.tolist()
    # negative rate: shorts pay
    total = PF.settle_funding(cfg, pos, bal, 0, -0.0001, 100_000.0, pay)
    assert pay.tolist() == [30 * E8, 10 * E8, -25 * E8, -15 * E8, 0] and bal.sum() == 0


def test_funding_random_zero_sum_and_pro_rata():
    rng = np.random.default_rng(5)
    cfg = build_config([AssetSpec("USDT", atoms_per_unit=10**6)], [PerpSpec("X", 0.37)], quote=0)
    for _ in range(50):
        n = int(rng.integers(2, 200))
        pos = rng.integers(-10**6, 10**6, (n, 1)).astype(np.int64)
        bal = np.zeros((n, 1), np.int64)
        pay = np.zeros(n, np.int64)
        rate = float(rng.normal(0, 0.001))
        mark = float(rng.uniform(0.01, 1e5))
        total = PF.settle_funding(cfg, pos, bal, 0, rate, mark, pay)
        assert pay.sum() == 0 and (bal[:, 0] == pay).all()
        payer = pos[:, 0] > 0 if rate > 0 else pos[:, 0] < 0
        recv = ~payer & (pos[:, 0] != 0)
        per = 0.37 * mark * abs(rate) * 10**6
        assert (np.abs(pay[payer] + np.abs(pos[payer, 0]) * per) <= 0.5 + 1e-6).all()
        if total:   # receivers within one atom of their pro-rata share
            w = np.abs(pos[recv, 0]).astype(float)
            share = float(total) * w / w.sum()
            assert (np.abs(pay[recv] - share) <= 1.0 + 1e-6).all()
            assert (pay[recv] >= 0).all()


# ----------------------------------------------------------------------
# isolated positions
# ----------------------------------------------------------------------
def test_isolated_liq_price_hand_computed():
    """1 BTC (1,000 contracts of 0.001) at 100,000, 10x: margin 10,000; MM .5%.
    long:  LP = (100,000 - 10,000) / (1 - .005) = 90,452.26...
    short: LP = (100,000 + 10,000) / (1 + .005) = 109,452.73...
    bankruptcy: 90,000 / 110,000."""
    bounds, mm = np.array([INF]), np.array([0.005])
    lp = PF.isolated_liq_price(1_000, 100_000.0, 10_000.0, 0.001, bounds, mm, 1.0)
    assert lp == pytest.approx(90_000 / 0.995, rel=1e-12)
    sp = PF.isolated_liq_price(-1_000, 100_000.0, 10_000.0, 0.001, bounds, mm, 1.0)
    assert sp == pytest.approx(110_000 / 1.005, rel=1e-12)
    assert PF.isolated_bankruptcy_price(1_000, 100_000.0, 10_000.0, 0.001) == pytest.approx(90_000)
    assert PF.isolated_bankruptcy_price(-1_000, 100_000.0, 10_000.0, 0.001) == pytest.approx(110_000)
    # 1x long cannot be liquidated above 0: LP = (100,000 - 100,000) / .995 = 0
    assert PF.isolated_liq_price(1_000, 100_000.0, 100_000.0, 0.001, bounds, mm, 1.0) == 0.0


def test_isolated_liq_price_tiered_matches_valuation():
    """Tiered MM (50k at .4%, 200k more at .5%, then 1%): the isolated row's
    margin ratio is exactly 1 at the liquidation price, for longs and shorts
    in every bracket."""
    tiers = [(50_000, 0.008, 0.004), (250_000, 0.01, 0.005), (INF, 0.02, 0.01)]
    cfg = venue(cs=0.001, tiers=tiers)
    prices = price_matrix(2, 1.0)
    for contracts, entry, margin in [(100, 100_000.0, 1_000.0), (1_000, 100_000.0, 8_000.0),
                                     (3_000, 100_000.0, 20_000.0), (-3_000, 100_000.0, 15_000.0),
                                     (-400, 100_000.0, 500.0)]:
        lp = PF.isolated_liq_price(contracts, entry, margin, 0.001, cfg.perp_bounds[0],
                                   cfg.perp_mm[0], 1.0)
        bal = np.array([int(margin * E8), 0])
        pos = np.array([contracts])
        cost = np.array([int(round(contracts * 0.001 * entry * E8))])
        r = U.value_one(cfg, prices, np.array([lp]), bal, pos, cost)
        assert r[U.V_RATIO] == pytest.approx(1.0, rel=1e-9), (contracts, lp)
        # and the cross-margin bisection finds the same price
        assert PF.cross_liq_price(cfg, prices, [entry], bal, pos, cost, 0) == pytest.approx(lp, rel=1e-9)


def test_leveraged_longs_population():
    cfg = venue(cs=0.001, tiers=[(50_000, 0.008, 0.004), (250_000, 0.01, 0.005), (INF, 0.02, 0.01)])
    pop = PF.leveraged_longs(np.random.default_rng(7), 2_000, 100_000.0, cfg, 0,
                             leverage_median=12, leverage_sigma=0.8, max_leverage=100)
    again = PF.leveraged_longs(np.random.default_rng(7), 2_000, 100_000.0, cfg, 0,
                               leverage_median=12, leverage_sigma=0.8, max_leverage=100)
    assert np.array_equal(pop, again)                         # explicit generator: reproducible
    assert (pop["contracts"] >= 1).all()
    assert (pop["leverage"] >= 0.99).all() and (pop["leverage"] <= 100.5).all()
    assert (pop["bankruptcy_price"] <= pop["liq_price"]).all()
    lev = pop["leverage"] > 1.0 + 1e-9         # a 1x long has no liquidation price above 0
    assert (pop["bankruptcy_price"][lev] < pop["liq_price"][lev]).all()
    assert (pop["liq_price"][~lev] == 0).all()
    assert (pop["liq_price"] < pop["entry"]).all()
    # higher leverage -> liquidation closer to entry
    hi, lo = pop["leverage"] > 20, pop["leverage"] < 5
    assert pop["liq_price"][hi].min() > pop["liq_price"][lo].max()
    # as account rows: takeover exactly when the mark falls below each liq price
    bal, pos, cost = PF.isolated_rows(pop, cfg, 0)
    prices = price_matrix(2, 1.0)
    for mark in (95_000.0, 90_000.0, 80_000.0):
        out = U.valuation(cfg, prices, bal, pos, cost, [mark])
        taken = out[:, U.V_RATIO] < 1.0
        far = np.abs(pop["liq_price"] - mark) > 1e-6 * mark
        assert np.array_equal(taken[far], (pop["liq_price"] > mark)[far])
    choice = PF.leveraged_longs(np.random.default_rng(1), 100, 50.0, cfg, 0,
                                leverage_choices=([5, 20], [0.5, 0.5]))
    assert set(np.round(choice["leverage"]).astype(int).tolist()) <= {5, 20}
