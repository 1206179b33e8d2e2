"""Unified (cross-margin) account valuation: hand-computed accounts, price
policies, passive leverage, and the kernel against its pure-Python twin.

All amounts below are in whole units / USD; balances are stored in atoms
(``E8 = 10**8`` atoms per unit unless stated)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lob.margin import unified as U
from lob.margin.risk_engine import ACT_NONE, ACT_SLICE, next_slice, risk_params
from lob.margin.unified import (SRC_AVG, SRC_INDEX, SRC_LAST, SRC_MID, SRC_ORACLE, AssetSpec,
                                PerpSpec, build_config, price_matrix, valuation,
                                value_account_ref, with_policy)

E8 = 10**8
INF = math.inf
BTC_TIERS = [(100_000, 0.95), (1_100_000, 0.90), (INF, 0.50)]


def btc_venue():
    """USDT (quote, cash, redeemable at 1) + BTC with tiered haircuts + one
    BTC perp (0.001 BTC contracts) with tiered IM/MM."""
    return build_config(
        [AssetSpec("USDT", haircut=1.0, loan_im=0.10, loan_mm=0.05, policy=SRC_ORACLE, cash=True),
         AssetSpec("BTC", haircut=BTC_TIERS, policy=SRC_INDEX)],
        [PerpSpec("BTCUSDT", 0.001, [(250_000, 0.02, 0.01), (INF, 0.05, 0.025)])],
        quote="USDT")


def btc_prices(btc=100_000.0):
    p = price_matrix(2, 1.0)
    p[1, :] = btc
    return p


def row(out):
    return U.as_dict(out[0])


# ----------------------------------------------------------------------
# hand-computed accounts
# ----------------------------------------------------------------------
def test_margin_ratio_hand_computed():
    """20 BTC at 100,000, a 1,000,000 USDT loan, short 5,000 BTC-perp
    contracts (5 BTC) entered at 100,000, mark 100,000.

    BTC value 2,000,000; haircut tiers: 100,000 x .95 = 95,000
      + 1,000,000 x .90 = 900,000 + 900,000 x .50 = 450,000 -> 1,445,000
    liabilities 1,000,000; UPL 0
    equity = 1,445,000 - 1,000,000 = 445,000;  net = 2,000,000 - 1,000,000 = 1,000,000
    MM = loan 1,000,000 x .05 = 50,000 + perp 500,000 notional tiered
         (250,000 x .01 + 250,000 x .025 = 8,750) = 58,750
    IM = 100,000 + (250,000 x .02 + 250,000 x .05 = 17,500) = 117,500
    ratio = 445,000 / 58,750 = 7.5744...;  exposure = 2,000,000 BTC + 500,000 perp
    (the USDT loan is cash) -> leverage 2,500,000 / 1,000,000 = 2.5"""
    cfg = btc_venue()
    bal = np.array([[-1_000_000 * E8, 20 * E8]])
    pos, cost = np.array([[-5_000]]), np.array([[-500_000 * E8]])
    r = row(valuation(cfg, btc_prices(), bal, pos, cost, [100_000.0]))
    assert r["assets"] == 2_000_000 and r["collateral"] == 1_445_000
    assert r["liabilities"] == 1_000_000 and r["upl"] == 0
    assert r["equity"] == 445_000 and r["net"] == 1_000_000
    assert r["mm"] == 58_750 and r["im"] == 117_500
    assert r["ratio"] == pytest.approx(445_000 / 58_750, rel=1e-15)
    assert r["exposure"] == 2_500_000 and r["leverage"] == 2.5


@pytest.mark.parametrize("btc, coll", [
    (0.5, 47_500),          # 50,000 x .95
    (1, 95_000),            # the first tier exactly
    (6, 545_000),           # 95,000 + 500,000 x .90
    (11, 995_000),          # 95,000 + 900,000: both first tiers full
    (31, 1_995_000),        # 995,000 + 2,000,000 x .50
])
def test_tiered_haircut(btc, coll):
    cfg = btc_venue()
    r = row(valuation(cfg, btc_prices(), np.array([[0, int(btc * E8)]])))
    assert r["collateral"] == pytest.approx(coll, rel=1e-15)
    assert r["ratio"] == INF and r["leverage"] == 1.0      # no MM; BTC/net = 1


def test_unrealised_pnl_counts_in_equity():
    """Long 2,000 contracts (2 BTC) entered at 100,000 (cost 200,000 USDT),
    mark 90,000, with 30,000 USDT: UPL = 2 x 90,000 - 200,000 = -20,000;
    equity = net = 30,000 - 20,000 = 10,000; notional 180,000 -> MM 1,800,
    IM 3,600; ratio 10,000 / 1,800; leverage 180,000 / 10,000 = 18."""
    cfg = btc_venue()
    r = row(valuation(cfg, btc_prices(90_000), np.array([[30_000 * E8, 0]]),
                      np.array([[2_000]]), np.array([[200_000 * E8]]), [90_000.0]))
    assert r["upl"] == pytest.approx(-20_000, abs=1e-9)
    assert r["equity"] == pytest.approx(10_000, abs=1e-9)
    assert r["mm"] == pytest.approx(1_800) and r["im"] == pytest.approx(3_600)
    assert r["ratio"] == pytest.approx(10_000 / 1_800)
    assert r["leverage"] == pytest.approx(18.0)


def alt_venue():
    """USDT (quote) with loan MM .25 and IM .5; ALT with a flat .5 haircut."""
    return build_config([AssetSpec("USDT", loan_im=0.5, loan_mm=0.25, policy=SRC_ORACLE, cash=True),
                         AssetSpec("ALT", haircut=0.5, policy=SRC_LAST)], quote=0)


def alt_prices(p):
    pr = price_matrix(2, 1.0)
    pr[1, :] = p
    return pr


def test_exact_moment_of_takeover_as_price_falls():
    """1,000 ALT against a 500 USDT loan: equity = 1,000 p x .5 - 500,
    MM = 500 x .25 = 125; ratio = (500 p - 500) / 125 < 1  <=>  p < 1.25.
    On a falling path the takeover starts at the first price below 1.25."""
    cfg = alt_venue()
    rp = risk_params(takeover_ratio=1.0)
    bal = np.array([-500 * E8, 1_000 * E8], np.int64)
    z = np.zeros(0, np.int64)
    assert U.takeover_price(cfg, alt_prices(2.0), bal, asset=1) == pytest.approx(1.25, rel=1e-12)
    path = [2.0, 1.5, 1.3, 1.26, 1.2501, 1.2499, 1.2, 1.0]
    started = []
    for p in path:
        r = row(valuation(cfg, alt_prices(p), bal[None, :]))
        assert r["ratio"] == pytest.approx((500 * p - 500) / 125, rel=1e-12)
        act = next_slice(cfg, rp, alt_prices(p), np.zeros(0), bal, z, z, 0, np.zeros(2),
                         np.zeros(0), np.full(2, np.nan), 0, False)[0]
        started.append(act == ACT_SLICE)
        assert (act == ACT_SLICE) == (r["ratio"] < 1.0)
        assert act in (ACT_NONE, ACT_SLICE)
    assert started == [False, False, False, False, False, True, True, True]
    # ratio at 1.2501 = (625.05 - 500) / 125 = 1.0004; at 1.2499: 0.9996
    st = U.account_status(valuation(cfg, alt_prices(1.2499), bal[None, :]))
    assert st.tolist() == [2]
    st = U.account_status(valuation(cfg, alt_prices(1.3), bal[None, :]), call_ratio=1.5)
    assert st.tolist() == [1]      # (650 - 500) / 125 = 1.2: margin call, no takeover


def test_passive_leverage_rises_without_trades():
    """200 ALT bought with 100 USDT of own money and a 100 USDT loan.
    p = 1:     exposure 200, net 100 -> 2x
    p = 0.75:  150 / 50  -> 3x
    p = 0.625: 125 / 25  -> 5x
    p = 0.5:   net 0     -> inf.  The balances never change."""
    cfg = alt_venue()
    bal = np.array([[-100 * E8, 200 * E8]])
    before = bal.copy()
    lev = [valuation(cfg, alt_prices(p), bal)[0, U.V_LEVERAGE] for p in (1.0, 0.75, 0.625, 0.5)]
    assert lev == [2.0, 3.0, 5.0, INF]
    assert np.array_equal(bal, before)


# ----------------------------------------------------------------------
# the October 2025 policy question: own book vs redemption value
# ----------------------------------------------------------------------
def lst_venue(policy):
    """USDT + USDe, WBETH, BNSOL at a flat .9 collateral ratio; USDT loans at
    MM .10.  ``policy`` prices the three collaterals."""
    return build_config(
        [AssetSpec("USDT", loan_im=0.2, loan_mm=0.10, policy=SRC_ORACLE, cash=True),
         AssetSpec("USDe", haircut=0.9, policy=policy, cash=True),
         AssetSpec("WBETH", haircut=0.9, policy=policy),
         AssetSpec("BNSOL", haircut=0.9, policy=policy)], quote="USDT")


def lst_prices():
    """Own book (last, mid, short average) depegged; index / redemption not:
    USDe 0.65 on the book, 1.00 redeemable; WBETH 3,024 on the book,
    4,320 = 1.08 x ETH 4,000 by redemption; BNSOL 126 vs 210 = 1.05 x SOL 200."""
    p = price_matrix(4, np.nan)
    p[0, :] = 1.0
    for a, (book, fair) in enumerate([(0.65, 1.0), (3_024.0, 4_320.0), (126.0, 210.0)], start=1):
        p[a, [SRC_LAST, SRC_MID, SRC_AVG]] = book
        p[a, [SRC_INDEX, SRC_ORACLE]] = fair
    return p


@pytest.mark.parametrize("own", [SRC_LAST, SRC_MID, SRC_AVG])
def test_policy_own_book_liquidates_redemption_does_not(own):
    """A market maker holds 1,000,000 USDe, 100 WBETH, 1,000 BNSOL and owes
    900,000 USDT (MM 90,000).

    redemption: assets 1,000,000 + 432,000 + 210,000 = 1,642,000;
      collateral x .9 = 1,477,800; equity 577,800; ratio 6.42 -> healthy
    own book:   assets 650,000 + 302,400 + 126,000 = 1,078,400;
      collateral 970,560; equity 70,560; ratio 0.784 -> taken over
      (net equity still +178,400: the account is solvent, yet liquidated)."""
    bal = np.array([-900_000 * E8, 1_000_000 * E8, 100 * E8, 1_000 * E8], np.int64)
    prices = lst_prices()
    fair = row(valuation(lst_venue(SRC_ORACLE), prices, bal[None, :]))
    book = row(valuation(lst_venue(own), prices, bal[None, :]))
    assert fair["equity"] == pytest.approx(577_800) and fair["ratio"] == pytest.approx(6.42)
    assert book["equity"] == pytest.approx(70_560) and book["ratio"] == pytest.approx(0.784)
    assert book["net"] == pytest.approx(178_400)
    rp = risk_params(slice_frac=0.5)
    z = np.zeros(0, np.int64)
    # liquidity: WBETH most liquid on this venue: the risk engine sells a
    # healthy LST position although the USDe price caused the shortfall
    score = np.array([0.0, 1e6, 5e6, 2e6])
    args = (prices, np.zeros(0), bal, z, z, 0, score, np.zeros(0), np.full(4, np.nan), 0, False)
    assert next_slice(lst_venue(SRC_ORACLE), rp, *args)[0] == ACT_NONE
    act, item, idx, side, qty = next_slice(lst_venue(own), rp, *args)[:5]
    assert (act, idx, qty) == (ACT_SLICE, 2, 50 * E8)
    # the same venue switching only USDe to its redemption value: still taken
    # over by the LSTs' book prices?  equity = 900,000 + 272,160 + 113,400
    # - 900,000 = 385,560 -> ratio 4.28: no.
    mixed = with_policy(lst_venue(own), {1: SRC_ORACLE})
    r = row(valuation(mixed, prices, bal[None, :]))
    assert r["equity"] == pytest.approx(385_560)
    assert next_slice(mixed, rp, *args)[0] == ACT_NONE


# ----------------------------------------------------------------------
# config building
# ----------------------------------------------------------------------
def test_build_config_checks_and_padding():
    cfg = build_config([AssetSpec("Q"), AssetSpec("A", haircut=[(10, .9), (20, .8)]),
                        AssetSpec("B", haircut=[(5, .7)])], [PerpSpec("P", 1.0, (0.1, 0.05))])
    assert cfg.hc_bounds.shape == (3, 3)
    assert cfg.hc_bounds[1].tolist() == [10, 20, INF]
    assert cfg.hc_rates[1].tolist() == [.9, .8, .8]     # inf tier repeats the last rate
    assert cfg.hc_bounds[2].tolist() == [5, INF, INF]
    assert cfg.perp_im.tolist() == [[0.1]] and cfg.perp_mm.tolist() == [[0.05]]
    with pytest.raises(ValueError):
        build_config([AssetSpec("A", haircut=[(10, .9), (5, .8)])])
    with pytest.raises(ValueError):
        build_config([AssetSpec("A", policy=7)])
    with pytest.raises(ValueError):
        with_policy(cfg, 9)
    assert with_policy(cfg, SRC_MID).policy.tolist() == [SRC_MID] * 3


# ----------------------------------------------------------------------
# the kernel against the reference
# ----------------------------------------------------------------------
def random_venue(rng, n_assets, n_perps):
    assets = []
    for a in range(n_assets):
        k = int(rng.integers(1, 4))
        bounds = np.cumsum(rng.uniform(1e3, 1e6, k))
        rates = np.sort(rng.uniform(0.0, 1.0, k))[::-1]
        hc = [(float(b), float(r)) for b, r in zip(bounds, rates)] if rng.random() < 0.8 \
            else float(rng.uniform(0, 1))
        assets.append(AssetSpec(f"A{a}", atoms_per_unit=int(10 ** rng.integers(0, 10)),
                                haircut=hc, loan_im=float(rng.uniform(0, .5)),
                                loan_mm=float(rng.uniform(0, .25)),
                                policy=int(rng.integers(0, 5)), cash=bool(rng.random() < 0.2)))
    perps = []
    for m in range(n_perps):
        k = int(rng.integers(1, 5))
        bounds = np.cumsum(rng.uniform(1e4, 1e7, k))
        im = np.sort(rng.uniform(0.005, 0.5, k))
        perps.append(PerpSpec(f"P{m}", float(10.0 ** rng.integers(-4, 2)),
                              [(float(b), float(i), float(i) / 2) for b, i in zip(bounds, im)]))
    return build_config(assets, perps, quote=int(rng.integers(n_assets)))


def random_accounts(rng, cfg, n):
    A, P = cfg.atoms_per_unit.shape[0], cfg.contract_size.shape[0]
    units = rng.lognormal(3, 3, (n, A)) * rng.choice([-1, 1, 1, 1], (n, A))
    units *= rng.random((n, A)) < 0.5
    bal = np.clip(units * cfg.atoms_per_unit, -9e18, 9e18).astype(np.int64)
    bal[0] = 0                                         # an empty account
    pos = (rng.integers(-10**6, 10**6, (n, P)) * (rng.random((n, P)) < 0.5)).astype(np.int64)
    entry = rng.lognormal(3, 2, (n, P))
    cost = np.rint(pos * cfg.contract_size * entry * cfg.atoms_per_unit[cfg.quote]).astype(np.int64)
    prices = np.exp(rng.normal(0, 3, (A, U.N_SOURCES)))
    prices[rng.random(prices.shape) < 0.05] = 0.0      # worthless sources too
    mark = rng.lognormal(3, 2, P)
    return bal, pos, cost, prices, mark


@pytest.mark.parametrize("seed", range(6))
def test_kernel_equals_reference_random(seed):
    rng = np.random.default_rng(seed)
    cfg = random_venue(rng, int(rng.integers(1, 12)), int(rng.integers(0, 4)))
    bal, pos, cost, prices, mark = random_accounts(rng, cfg, 300)
    out = valuation(cfg, prices, bal, pos, cost, mark)
    for i in range(len(bal)):
        ref = value_account_ref(cfg, prices, mark, bal[i], pos[i], cost[i])
        got = U.as_dict(out[i])
        for k in U.V_NAMES:          # bit-identical: same operations, same order
            assert got[k] == ref[k] or (math.isnan(got[k]) and math.isnan(ref[k])), \
                (i, k, got[k], ref[k])


def test_value_one_matches_rows():
    rng = np.random.default_rng(11)
    cfg = random_venue(rng, 8, 2)
    bal, pos, cost, prices, mark = random_accounts(rng, cfg, 50)
    out = valuation(cfg, prices, bal, pos, cost, mark)
    for i in range(50):
        assert np.array_equal(np.array(U.value_one(cfg, prices, mark, bal[i], pos[i], cost[i])),
                              out[i])
    par = U.value_accounts_parallel(cfg, prices, mark, bal, pos, cost, np.empty_like(out))
    assert np.array_equal(par, out, equal_nan=True)
    rows = np.array([3, 17, 42], np.int64)
    sub = np.full_like(out, -1.0)
    U.value_accounts_rows(cfg, prices, mark, bal, pos, cost, rows, sub)
    assert np.array_equal(sub[rows], out[rows], equal_nan=True)
    assert (np.delete(sub, rows, axis=0) == -1.0).all()


def test_spot_fill_conserves_and_rounds():
    """0.5 BTC at 100,000.5 USDT: 50,000.25 USDT = 5,000,025,000,000 atoms."""
    cfg = btc_venue()
    bal = np.zeros((2, 2), np.int64)
    bal[0, 0] = 10**6 * E8
    bal[1, 1] = 10 * E8
    qa = U.spot_fill(cfg, bal, 0, 1, 1, E8 // 2, 100_000.5)
    assert qa == 5_000_025_000_000
    assert bal[:, 0].sum() == 10**6 * E8 and bal[:, 1].sum() == 10 * E8
    assert bal[0, 1] == E8 // 2 and bal[1, 0] == qa


def test_revalue_asset_incrementally_equals_full_valuation():
    # random unified accounts (spot only, some loans); one asset moves: the incremental update of
    # the holders equals a full re-valuation (to float rounding), repeatedly
    rng = np.random.default_rng(7)
    n_acc, n_a = 500, 6
    assets = [U.AssetSpec("USDT", haircut=1.0, policy=U.SRC_ORACLE, cash=True)]
    for a in range(1, n_a):
        assets.append(U.AssetSpec(f"A{a}", haircut=[(5e4, 0.9), (math.inf, 0.5)], loan_im=0.2, loan_mm=0.1,
                                  policy=U.SRC_LAST))
    cfg = U.build_config(assets, quote=0)
    bal = (rng.integers(-10**9, 10**10, (n_acc, n_a)) * (rng.random((n_acc, n_a)) < 0.4)).astype(np.int64)
    prices = U.price_matrix(n_a, 1.0)
    prices[1:] = rng.uniform(0.5, 50, (n_a - 1, 1))
    out = U.valuation(cfg, prices, bal)
    for step in range(20):
        a = int(rng.integers(1, n_a))
        old = prices[a, U.SRC_LAST]
        new = old * float(np.exp(rng.normal(-0.1, 0.2)))
        prices[a, :] = new
        rows = U.holders(bal, a)
        assert len(rows) == int((bal[:, a] != 0).sum())
        U.revalue_asset(cfg, a, old, new, bal, rows, out)
        full = U.valuation(cfg, prices, bal)
        fin = np.isfinite(full)
        assert (np.isfinite(out) == fin).all()
        np.testing.assert_allclose(out[fin], full[fin], rtol=1e-9, atol=1e-6)
