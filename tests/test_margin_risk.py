"""The risk engine: slice sequences for every order policy, fees and the
insurance fund, bankruptcy, auto-deleveraging, conservation in a random
liquidation run on a toy book.  Amounts in whole units / USD(T);
E8 = 10**8 atoms per unit; lots are 0.01 units (10**6 atoms)."""
from __future__ import annotations

import numpy as np
import pytest

from lob.core.codes import BUY, SELL
from lob.margin import risk_engine as R
from lob.margin import unified as U
from lob.margin.perps import perp_fill
from lob.margin.unified import (N_SOURCES, SRC_LAST, SRC_MID, SRC_ORACLE, AssetSpec, PerpSpec,
                                build_config, price_matrix)

E8 = 10**8
LOT = 10**6


def venue(policy=SRC_ORACLE, perp_mm=0.05):
    """USDT (quote; loans at MM .10); AAA and BBB at a .5 collateral ratio;
    one perp XXX (1 unit contracts, flat MM ``perp_mm``)."""
    return build_config(
        [AssetSpec("USDT", lot_atoms=1, loan_im=0.2, loan_mm=0.10, policy=SRC_ORACLE, cash=True),
         AssetSpec("AAA", lot_atoms=LOT, haircut=0.5, policy=policy),
         AssetSpec("BBB", lot_atoms=LOT, haircut=0.5, policy=policy)],
        [PerpSpec("XXX", 1.0, (2 * perp_mm, perp_mm))], quote="USDT")


class ToyMarket:
    """A toy book: every order fills in full at the current price (times
    ``1 - impact * k`` on the k-th of ``levels`` equal parts for a sell, the
    reverse for a buy) against counterparty row ``maker``; the last trade
    becomes the asset's SRC_LAST / SRC_MID price; SRC_ORACLE stays put."""

    def __init__(self, cfg, px, marks, maker, impact=0.0, levels=1, oracle=None):
        self.cfg = cfg
        self.px = np.array(px, float)           # USD per unit, per asset
        self.mk = np.array(marks, float)
        self.oracle = self.px.copy() if oracle is None else np.array(oracle, float)
        self.maker, self.impact, self.levels = maker, impact, levels
        self.orders = []

    def prices(self):
        p = np.repeat(self.px[:, None], N_SOURCES, axis=1)
        p[:, SRC_ORACLE] = self.oracle
        return p

    def marks(self):
        return self.mk

    def execute(self, item, idx, side, qty, limit):
        self.orders.append((item, idx, side, int(qty)))
        ref = self.px[idx] if item == R.ITEM_ASSET else self.mk[idx]
        sgn = -1 if side == SELL else 1
        lot = self.cfg.lot_atoms[idx] if item == R.ITEM_ASSET else 1
        parts = np.full(self.levels, (qty // lot) // self.levels * lot, np.int64)
        parts[0] += qty - parts.sum()
        fills, px = [], ref
        for k, q in enumerate(parts):
            px = ref * (1 + sgn * self.impact * k)
            if not np.isnan(limit) and (px < limit if side == SELL else px > limit):
                break
            if q > 0:
                fills.append((int(q), px, self.maker))
        if fills:
            if item == R.ITEM_ASSET:
                self.px[idx] = px
            else:
                self.mk[idx] = px
        return fills


def run(cfg, rp, acc, i, market, **kw):
    return R.liquidation_events(cfg, rp, acc, i, market, **kw)


def slices(ev):
    s = ev[ev["kind"] == R.EV_SLICE]
    return [(int(r["item"]), int(r["index"]), int(r["side"]), int(r["qty"])) for r in s]


def maker_row(n_assets=3):
    return [10**9 * E8] * n_assets


# ----------------------------------------------------------------------
# order policies
# ----------------------------------------------------------------------
def test_most_liquid_first_with_usd_slices():
    """AAA 100 @10 (1,000), BBB 50 @20 (1,000), USDT -1,500.
    collateral .5 x 2,000 = 1,000; equity -500; MM 150; ratio -3.33.
    Selling x USD at fair prices: equity -500 + .5x, MM 150 - .1x.
    BBB is more liquid (score 9 > 5); 400 USD slices:
      BBB 20 (x=400):  equity -300, MM 110 -> -2.73
      BBB 20 (x=800):  equity -100, MM 70  -> -1.43
      BBB 10 (x=1000, all that is left): equity 0, MM 50 -> 0
      AAA 40 (x=1400): equity 200, MM 10 -> 20 >= 1: handed back."""
    cfg = venue()
    acc = R.Accounts([[-1_500 * E8, 100 * E8, 50 * E8], maker_row()], n_perps=1)
    mkt = ToyMarket(cfg, [1.0, 10.0, 20.0], [100.0], maker=1)
    rp = R.risk_params(R.ORDER_MOST_LIQUID, slice_usd=400, fee_rate=0.0)
    ev = run(cfg, rp, acc, 0, mkt, asset_score=[0, 5, 9])
    A, S = R.ITEM_ASSET, SELL
    assert slices(ev) == [(A, 2, S, 20 * E8), (A, 2, S, 20 * E8), (A, 2, S, 10 * E8),
                          (A, 1, S, 40 * E8)]
    assert [R.EVENT_NAMES[k] for k in ev["kind"]] == ["takeover"] + ["slice"] * 4 + ["restored"]
    after = ev[ev["kind"] == R.EV_SLICE]["ratio_after"]
    assert after == pytest.approx([-300 / 110, -100 / 70, 0.0, 20.0])
    assert ev[0]["ratio_before"] == pytest.approx(-500 / 150)
    assert acc.balances[0].tolist() == [-100 * E8, 60 * E8, 0]


def test_pro_rata_round_robin():
    """Same account, slice_frac .5, round robin over (AAA, BBB):
      AAA 50 (500 USD):  equity -250, MM 100 -> -2.5
      BBB 25 (500 USD):  equity 0,    MM 50  -> 0
      AAA 25 (250 USD):  equity 125,  MM 25  -> 5: handed back."""
    cfg = venue()
    acc = R.Accounts([[-1_500 * E8, 100 * E8, 50 * E8], maker_row()], n_perps=1)
    mkt = ToyMarket(cfg, [1.0, 10.0, 20.0], [100.0], maker=1)
    rp = R.risk_params(R.ORDER_PRO_RATA, slice_frac=0.5, fee_rate=0.0)
    ev = run(cfg, rp, acc, 0, mkt)
    A, S = R.ITEM_ASSET, SELL
    assert slices(ev) == [(A, 1, S, 50 * E8), (A, 2, S, 25 * E8), (A, 1, S, 25 * E8)]
    assert ev[ev["kind"] == R.EV_SLICE]["ratio_after"] == pytest.approx([-2.5, 0.0, 5.0])


def test_pro_rata_usd_slices_shrink_items_by_equal_fractions():
    """With 300 USD slices split by value, one round (two slices) takes
    about the same fraction of AAA and BBB."""
    cfg = venue()
    acc = R.Accounts([[-3_000 * E8, 100 * E8, 100 * E8], maker_row()], n_perps=1)
    mkt = ToyMarket(cfg, [1.0, 10.0, 20.0], [100.0], maker=1)
    rp = R.risk_params(R.ORDER_PRO_RATA, slice_usd=300, fee_rate=0.0, target_ratio=50.0)
    ev = run(cfg, rp, acc, 0, mkt)
    s = slices(ev)
    # AAA: 300 x 1,000/3,000 = 100 USD = 10 AAA; then BBB: 300 x 2,000/2,900 = 206.9 USD = 10.34 BBB
    assert s[0] == (R.ITEM_ASSET, 1, SELL, 10 * E8)
    assert s[1] == (R.ITEM_ASSET, 2, SELL, 1_034 * LOT)
    assert 10 / 100 == pytest.approx(10.34 / 100, abs=0.005)


def test_largest_loss_first_with_a_perp():
    """AAA 100 @10 (reference 20: loss 1,000), BBB 50 @20 (reference 25:
    loss 250), long 10 XXX entered at 100 marked at 80 (UPL -200: loss 200),
    USDT -1,500.  Perp MM .05 x 800 = 40.  slice_frac .5.
      equity = 1,000 - 1,500 - 200 = -700, MM 150 + 40 = 190
      1. AAA 50  (loss 1,000):  USDT -1,000; equity 750 - 1,000 - 200 = -450; MM 140
      2. AAA 25  (loss 500):    USDT -750;   equity -325; MM 115
      3. BBB 25  (AAA 250 = BBB 250: tie, BBB larger in USD 1,000 > 250):
                               USDT -250;   equity -75;  MM 65
      4. AAA 12.5 (250 > perp 200 > BBB 125): USDT -125; equity -12.5; MM 52.5
      5. perp 5  (200 > 125 = 125): sold at 80, realises 400 - 500 = -100;
                               USDT -225;   UPL -100; equity -12.5; MM 22.5 + 20
      6. BBB 12.5 (AAA 125 = BBB 125, BBB 500 USD > 125; perp loss 100):
                               USDT +25; equity 187.5 + 25 - 100 = 112.5; MM 20
                               -> ratio 5.625: handed back."""
    cfg = venue()
    acc = R.Accounts([[-1_500 * E8, 100 * E8, 50 * E8], maker_row()],
                     [[10], [-10]], [[1_000 * E8], [-1_000 * E8]])
    mkt = ToyMarket(cfg, [1.0, 10.0, 20.0], [80.0], maker=1)
    rp = R.risk_params(R.ORDER_LARGEST_LOSS, slice_frac=0.5, fee_rate=0.0)
    ev = run(cfg, rp, acc, 0, mkt, ref_px=[np.nan, 20.0, 25.0])
    A, P, S = R.ITEM_ASSET, R.ITEM_PERP, SELL
    assert slices(ev) == [(A, 1, S, 50 * E8), (A, 1, S, 25 * E8), (A, 2, S, 25 * E8),
                          (A, 1, S, 1_250 * LOT), (P, 0, S, 5), (A, 2, S, 1_250 * LOT)]
    after = ev[ev["kind"] == R.EV_SLICE]["ratio_after"]
    assert after == pytest.approx([-450 / 140, -325 / 115, -75 / 65, -12.5 / 52.5,
                                   -12.5 / 42.5, 5.625])
    assert acc.balances[0, 0] == 25 * E8 and acc.perp_pos[0, 0] == 5


def test_aggressive_limit_and_buy_back_of_a_loan():
    """An ETH-like loan (BBB balance -10 @20) is bought back with a limit 50
    bps above the mid, rounded up to whole lots; AAA is sold 50 bps below."""
    cfg = venue()
    rp = R.risk_params(R.ORDER_MOST_LIQUID, slice_frac=0.3333, limit_bps=50, limit_src=SRC_MID)
    prices = price_matrix(3, 1.0)
    prices[1, :], prices[2, :] = 10.0, 20.0
    z = np.zeros(1, np.int64)
    bal = np.array([100 * E8, 20 * E8, -10 * E8], np.int64)
    # equity = 100 + 100 - 200 = 0 < MM 20: taken over; BBB the most liquid
    out = R.next_slice(cfg, rp, prices, np.array([100.0]), bal, z, z, 0, np.array([0., 1., 2.]),
                       np.zeros(1), np.full(3, np.nan), 0, False)
    act, item, idx, side, qty, lim = out[:6]
    assert (act, item, idx, side) == (R.ACT_SLICE, R.ITEM_ASSET, 2, BUY)
    assert qty == 334 * LOT                      # 3.333 BBB rounded up to 3.34
    assert lim == pytest.approx(20 * 1.005)
    out = R.next_slice(cfg, rp, prices, np.array([100.0]), bal, z, z, 0, np.array([0., 2., 1.]),
                       np.zeros(1), np.full(3, np.nan), 0, False)
    assert out[2:6] == (1, SELL, 666 * LOT, pytest.approx(10 * 0.995))   # 6.666 AAA rounded down


# ----------------------------------------------------------------------
# fees, insurance fund, bankruptcy
# ----------------------------------------------------------------------
def test_fee_goes_to_insurance_fund():
    """AAA 100 @10, USDT -900: equity 500 - 900 < 0, taken over; one slice
    (frac 1) sells 100 AAA for 1,000 USDT; fee 1% = 10 USDT to the fund:
    USDT -900 + 1,000 - 10 = 90; fund 0 -> 10."""
    cfg = venue()
    acc = R.Accounts([[-900 * E8, 100 * E8, 0], maker_row()], n_perps=1)
    mkt = ToyMarket(cfg, [1.0, 10.0, 20.0], [100.0], maker=1)
    rp = R.risk_params(slice_frac=1.0, fee_rate=0.01)
    before = acc.totals(0)
    ev = run(cfg, rp, acc, 0, mkt)
    s = ev[ev["kind"] == R.EV_SLICE]
    assert len(s) == 1 and s[0]["notional"] == 1_000 * E8 and s[0]["fee"] == 10 * E8
    assert s[0]["fund_delta"] == 10 * E8 and s[0]["price"] == 10.0
    assert acc.fund[0] == 10 * E8 and acc.balances[0].tolist() == [90 * E8, 0, 0]
    assert acc.totals(0) == before


def test_fee_capped_by_remaining_equity():
    """USDT -995: the sale brings 1,000, net equity 5, so the fee (10) is
    capped at 5 and the account ends at exactly 0."""
    cfg = venue()
    acc = R.Accounts([[-995 * E8, 100 * E8, 0], maker_row()], n_perps=1)
    ev = run(cfg, R.risk_params(slice_frac=1.0, fee_rate=0.01), acc, 0,
             ToyMarket(cfg, [1.0, 10.0, 20.0], [100.0], maker=1))
    assert ev[ev["kind"] == R.EV_SLICE][0]["fee"] == 5 * E8
    assert acc.fund[0] == 5 * E8 and acc.balances[0, 0] == 0


def test_bankruptcy_absorbed_by_insurance_fund():
    """The book pays only 8 for AAA (oracle 10): 100 AAA bring 800 against a
    900 loan; no fee (net equity < 0); the fund (500) pays the 100 deficit."""
    cfg = venue()
    acc = R.Accounts([[-900 * E8, 100 * E8, 0], maker_row()], n_perps=1, fund=500 * E8)
    mkt = ToyMarket(cfg, [1.0, 8.0, 20.0], [100.0], maker=1, oracle=[1.0, 10.0, 20.0])
    before = acc.totals(0)
    ev = run(cfg, R.risk_params(slice_frac=1.0, fee_rate=0.01), acc, 0, mkt)
    assert [R.EVENT_NAMES[k] for k in ev["kind"]] == ["takeover", "slice", "bankrupt"]
    assert ev[1]["fee"] == 0
    b = ev[2]
    assert b["fund_delta"] == -100 * E8 and b["qty"] == 0          # nothing uncovered
    assert acc.fund[0] == 400 * E8 and acc.balances[0].tolist() == [0, 0, 0]
    assert acc.totals(0) == before


def test_bankruptcy_partly_uncovered():
    cfg = venue()
    acc = R.Accounts([[-900 * E8, 100 * E8, 0], maker_row()], n_perps=1, fund=30 * E8)
    mkt = ToyMarket(cfg, [1.0, 8.0, 20.0], [100.0], maker=1, oracle=[1.0, 10.0, 20.0])
    ev = run(cfg, R.risk_params(slice_frac=1.0), acc, 0, mkt)
    assert ev[-1]["kind"] == R.EV_BANKRUPT and ev[-1]["qty"] == 70 * E8   # bad debt left
    assert acc.fund[0] == 0 and acc.balances[0, 0] == -70 * E8


# ----------------------------------------------------------------------
# auto-deleveraging
# ----------------------------------------------------------------------
def adl_book():
    """Perp XXX marked at 89 (contracts of 1 unit); the insurance fund is empty.
    row 0: USDT 1,000, long 100 entered at 100 (cost 10,000):
           UPL 8,900 - 10,000 = -1,100; net -100: bankrupt.
    row 1: short 50 at 120 (cost -6,000), USDT 1,000: UPL 6,000 - 4,450 = 1,550
           pnl% = 1,550/6,000 = .2583; net 2,550; eff. lev 4,450/2,550 = 1.745;
           score .4508
    row 2: short 60 at 100 (cost -6,000), USDT 200: UPL 660; pnl% .11; net 860;
           lev 5,340/860 = 6.209; score .683  <- first
    row 3: short 40 at 95 (cost -3,800), USDT 5,000: UPL 240; pnl% .0632;
           net 5,240; lev .679; score .0429
    row 4: long 50 at 90 (cost 4,500), USDT 10,000 (same side: not a candidate)."""
    bal = np.zeros((5, 3), np.int64)
    bal[:, 0] = np.array([1_000, 1_000, 200, 5_000, 10_000]) * E8
    pos = np.array([[100], [-50], [-60], [-40], [50]], np.int64)
    cost = np.array([[10_000], [-6_000], [-6_000], [-3_800], [4_500]], np.int64) * E8
    return R.Accounts(bal, pos, cost)


def test_adl_ranking_hand_computed():
    cfg = venue()
    acc = adl_book()
    prices = price_matrix(3, 1.0)
    mark = np.array([89.0])
    nets = U.valuation(cfg, prices, acc.balances, acc.perp_pos, acc.perp_cost, mark)[:, U.V_NET]
    assert nets.tolist() == pytest.approx([-100, 2_550, 860, 5_240, 9_950])
    rows, score = R.adl_ranking(cfg, acc.perp_pos, acc.perp_cost, nets, mark, 1.0, 0, -1, 0)
    assert rows.tolist() == [2, 1, 3]
    assert score == pytest.approx([660 / 6_000 * 5_340 / 860, 1_550 / 6_000 * 4_450 / 2_550,
                                   240 / 3_800 * 3_560 / 5_240])


def test_adl_closes_most_profitable_shorts_at_bankruptcy_price():
    """Fund empty, deficit 100: the long 100 is closed at the bankruptcy
    price 89 - (-100) / 100 = 90 against row 2 (60) then row 1 (40).
    row 0: sells 100 at 90: realises 9,000 - 10,000 = -1,000 -> USDT 0 (net 0)
    row 2: buys 60 at 90: realises 6,000 - 5,400 = +600 -> USDT 800, flat
    row 1: buys 40 at 90: releases 6,000 x 40/50 = 4,800, pays 3,600:
           +1,200 -> USDT 2,200; short 10 left at cost -1,200
    row 3 untouched."""
    cfg = venue()
    acc = adl_book()
    before = acc.totals(0)
    mkt = ToyMarket(cfg, [1.0, 10.0, 20.0], [89.0], maker=4)
    ev = run(cfg, R.risk_params(fee_rate=0.01), acc, 0, mkt)
    assert [R.EVENT_NAMES[k] for k in ev["kind"]] == ["takeover", "adl", "adl", "restored"]
    adl = ev[ev["kind"] == R.EV_ADL]
    assert adl["counterparty"].tolist() == [2, 1] and adl["qty"].tolist() == [60, 40]
    assert adl["price"].tolist() == pytest.approx([90.0, 90.0])
    assert acc.balances[:, 0].tolist() == [0, 2_200 * E8, 800 * E8, 5_000 * E8, 10_000 * E8]
    assert acc.perp_pos[:, 0].tolist() == [0, -10, 0, -40, 50]
    assert acc.perp_cost[:, 0].tolist() == [0, -1_200 * E8, 0, -3_800 * E8, 4_500 * E8]
    assert acc.totals(0) == before and mkt.orders == []          # nothing went to the book


def test_no_adl_when_the_fund_can_pay():
    """Fund 1,000 >= deficit 100: the long goes to the market (at 89 x (1 -
    2% k) over 2 levels) and the fund absorbs what is left."""
    cfg = venue()
    acc = adl_book()
    acc.fund[0] = 1_000 * E8
    before = acc.totals(0)
    mkt = ToyMarket(cfg, [1.0, 10.0, 20.0], [89.0], maker=4, impact=0.02, levels=2)
    ev = run(cfg, R.risk_params(slice_frac=1.0, fee_rate=0.01), acc, 0, mkt)
    assert [R.EVENT_NAMES[k] for k in ev["kind"]] == ["takeover", "slice", "bankrupt"]
    # 50 at 89 + 50 at 87.22 = 8,811: realises -1,189 -> USDT -189; the fund pays 189
    assert ev[1]["notional"] == 8_811 * E8
    assert ev[2]["fund_delta"] == -189 * E8 and acc.fund[0] == 811 * E8
    assert acc.totals(0) == before


# ----------------------------------------------------------------------
# conservation in a random liquidation run
# ----------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_random_liquidation_run_conserves_everything(seed):
    rng = np.random.default_rng(seed)
    cfg = build_config(
        [AssetSpec("USDT", lot_atoms=1, loan_mm=0.1, loan_im=0.2, policy=SRC_ORACLE, cash=True),
         AssetSpec("AAA", lot_atoms=LOT, haircut=[(5_000, 0.8), (np.inf, 0.5)], loan_mm=0.2,
                   policy=SRC_LAST),
         AssetSpec("BBB", lot_atoms=LOT, haircut=0.6, policy=SRC_LAST),
         AssetSpec("CCC", lot_atoms=10**4, haircut=0.9, policy=SRC_ORACLE)],
        [PerpSpec("XXX", 0.1, [(10_000, 0.04, 0.02), (np.inf, 0.1, 0.05)]),
         PerpSpec("YYY", 1.0, (0.1, 0.05))], quote="USDT")
    n = 40
    maker = n
    bal = np.zeros((n + 1, 4), np.int64)
    bal[:n, 0] = -rng.integers(0, 3_000, n) * E8
    bal[:n, 1:] = (rng.integers(0, 300, (n, 3)) * E8) * (rng.random((n, 3)) < 0.7)
    bal[:n, 2] -= (rng.random(n) < 0.2) * rng.integers(0, 50, n) * E8          # BBB loans
    bal[maker] = 10**8 * E8
    pos = np.zeros((n + 1, 2), np.int64)
    pos[:n] = rng.integers(-200, 200, (n, 2)) * (rng.random((n, 2)) < 0.5)
    pos[maker] = -pos[:n].sum(axis=0)
    entry = np.array([100.0, 30.0]) * rng.uniform(0.8, 1.2, (n + 1, 2))
    cost = np.rint(pos * cfg.contract_size * entry * E8).astype(np.int64)
    acc = R.Accounts(bal, pos, cost, fund=int(rng.integers(0, 2_000)) * E8)
    mkt = ToyMarket(cfg, [1.0, 10.0, 20.0, 5.0], [100.0, 30.0], maker=maker,
                    impact=0.01, levels=3)
    rp = R.risk_params(int(rng.integers(0, 3)), slice_frac=float(rng.uniform(0.2, 1.0)),
                       target_ratio=1.2, fee_rate=0.005)
    before = acc.totals(0)
    kinds = []
    for step in range(6):
        mkt.px[1:3] *= rng.uniform(0.75, 1.0, 2)          # the crash
        mkt.mk *= rng.uniform(0.85, 1.1, 2)
        for i in range(n):
            ev = run(cfg, rp, acc, i, mkt, asset_score=rng.random(4), perp_score=rng.random(2),
                     ref_px=mkt.px * 1.2, ts=step)
            kinds += ev["kind"].tolist()
            assert acc.totals(0) == before, (step, i)
            assert acc.fund[0] >= 0
            if len(ev) and ev[-1]["kind"] in (R.EV_RESTORED,):
                v = U.value_one(cfg, mkt.prices(), mkt.marks(), acc.balances[i],
                                acc.perp_pos[i], acc.perp_cost[i])
                assert v[U.V_RATIO] >= 1.2
    assert kinds.count(R.EV_TAKEOVER) > 0 and kinds.count(R.EV_SLICE) > 0
    fees = acc.fund[0]
    assert fees >= 0


def test_perp_fill_and_next_slice_agree_on_units():
    """A perp slice's qty is in contracts and its limit in quote units."""
    cfg = venue()
    bal = np.zeros((2, 3), np.int64)
    pos = np.zeros((2, 1), np.int64)
    cost = np.zeros((2, 1), np.int64)
    perp_fill(cfg, pos, cost, bal, 0, 1, 0, 100, 100.0)       # row 0 long 100 at 100
    bal[0, 0] = 400 * E8                                       # margin 400; MM 5 x ... see below
    # mark 97: UPL -300, equity 100, MM .05 x 9,700 = 485 -> taken over
    rp = R.risk_params(slice_frac=0.1, limit_bps=100)
    out = R.next_slice(cfg, rp, price_matrix(3, 1.0), np.array([97.0]), bal[0], pos[0], cost[0],
                       0, np.zeros(3), np.ones(1), np.full(3, np.nan), 0, False)
    assert out[:5] == (R.ACT_SLICE, R.ITEM_PERP, 0, SELL, 10)
    assert out[5] == pytest.approx(97.0 * 0.99)
    assert out[6] == pytest.approx(100 / 485)


# ----------------------------------------------------------------------
# with the real matching engine: the slices' fills come from the book
# ----------------------------------------------------------------------
class EngineMarket:
    """Spot asset 1 (ALT) trades on book 0 of a ``lob`` Engine (tick 0.001,
    lot 0.01 = 10**6 atoms); its SRC_LAST / SRC_MID price is the book's last
    trade, SRC_ORACLE a fixed redemption value.  The liquidated account's
    slices go to the book as MARKET orders (IOC at the limit otherwise)."""

    def __init__(self, cfg, eng, inst, oracle, account):
        self.cfg, self.eng, self.inst, self.oracle, self.account = cfg, eng, inst, oracle, account
        self.tick = float(inst.tick_size)

    def prices(self):
        p = price_matrix(2, 1.0)
        last = self.eng.last_trade(0)[0] * self.tick
        p[1, :] = last
        p[1, SRC_ORACLE] = self.oracle
        return p

    def marks(self):
        return np.zeros(0)

    def execute(self, item, idx, side, qty, limit):
        from lob.core import codes as C
        lot = int(self.cfg.lot_atoms[idx])
        if np.isnan(limit):
            self.eng.submit(C.MARKET, 0, side, qty=qty // lot, account=self.account)
        else:
            t = int(np.ceil(limit / self.tick)) if side == SELL else int(np.floor(limit / self.tick))
            self.eng.submit(C.IOC, 0, side, price=t, qty=qty // lot, account=self.account)
        fills, _ = self.eng.drain()
        return [(int(f["qty"]) * lot, int(f["price"]) * self.tick, int(f["maker_account"]))
                for f in fills]


def _engine_book():
    from lob.core import codes as C
    from lob.core.engine import Engine
    from lob.core.instrument import Instrument
    inst = Instrument("ALTUSDT", tick_size="0.001", lot_size="0.01")
    eng = Engine.from_instruments([inst])
    cfg = build_config([AssetSpec("USDT", lot_atoms=1, loan_mm=0.1, policy=SRC_ORACLE, cash=True),
                        AssetSpec("ALT", lot_atoms=LOT, haircut=0.8, policy=SRC_LAST)], quote=0)
    acc = R.Accounts([[-60 * E8, 100 * E8], [10**6 * E8, 0], [0, 10 * E8]], fund=10 * E8)
    # a wick print at 0.80: maker 1 bids 10.01 there, account 2 sells 0.01 into it
    px = inst.price_to_ticks
    eng.submit(C.LIMIT, 0, C.BUY, price=px("0.80"), qty=1001, account=1)
    eng.submit(C.LIMIT, 0, C.SELL, price=px("0.80"), qty=1, account=2)
    for f in eng.drain()[0]:
        U.spot_fill(cfg, acc.balances, int(f["maker_account"]), int(f["taker_account"]), 1,
                    int(f["qty"]) * LOT, int(f["price"]) * 0.001)
    # the rest of the bids: 5 at 0.99, 5 at 0.95, (10 at 0.80), 100 at 0.50
    for p, q in (("0.99", 500), ("0.95", 500), ("0.50", 10_000)):
        eng.submit(C.LIMIT, 0, C.BUY, price=px(p), qty=q, account=1)
    eng.drain()
    return cfg, eng, inst, acc


def test_liquidation_through_the_matching_engine_own_book_vs_oracle():
    """100 ALT, 60 USDT owed, ALT at .8 collateral, USDT loans at MM .1:
    ratio = (80 p - 60) / 6.  Own-book policy with the last print at 0.80:
    (64 - 60) / 6 = 0.667 -> taken over.  Slice 1 (25 ALT, market) walks
    the bids: 5 x .99 + 5 x .95 + 10 x .80 + 5 x .50 = 20.20 USDT; the last
    trade is now 0.50, so the account is bankrupt (75 x .5 - 39.8 = -2.3) and
    the fee is capped at 0; the remaining 75 ALT go at 0.50 (37.50), leaving
    -2.30 USDT, which the insurance fund (10) pays.  With the redemption
    value 1.0: (80 - 60) / 6 = 3.33, nothing happens."""
    cfg, eng, inst, acc = _engine_book()
    before = acc.totals(0)
    ev = run(cfg, R.risk_params(slice_frac=0.25, fee_rate=0.01), acc, 0,
             EngineMarket(cfg, eng, inst, 1.0, 0))
    kinds = [R.EVENT_NAMES[k] for k in ev["kind"]]
    assert kinds[0] == "takeover" and kinds[-1] == "bankrupt" and set(kinds[1:-1]) == {"slice"}
    assert ev[0]["ratio_before"] == pytest.approx(4 / 6)
    first = ev[1]
    assert first["qty"] == 25 * E8 and first["notional"] == 2_020_000_000
    assert first["price"] == pytest.approx(20.20 / 25) and first["fee"] == 0
    assert ev["filled"][1:-1].sum() == 100 * E8
    assert ev[-1]["fund_delta"] == -230_000_000
    assert acc.balances[0].tolist() == [0, 0] and acc.fund[0] == 770_000_000
    assert eng.last_trade(0)[0] == inst.price_to_ticks("0.50")
    assert acc.totals(0) == before
    # the same account and book under the redemption-value policy: untouched
    cfg2, eng2, inst2, acc2 = _engine_book()
    cfg2 = U.with_policy(cfg2, {1: SRC_ORACLE})
    ev2 = run(cfg2, R.risk_params(slice_frac=0.25), acc2, 0, EngineMarket(cfg2, eng2, inst2, 1.0, 0))
    assert len(ev2) == 0 and acc2.balances[0].tolist() == [-60 * E8, 100 * E8]
