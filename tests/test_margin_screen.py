"""The risk engine's screen (``lob.margin.screen``): after a price move it
returns every account that can be below the threshold, and proves the rest
above it.

* a hand-computed account whose tolerated move is exactly the move that
  takes it to the threshold;
* the compiled query against its readable twin (``query_ref``): the same
  set of accounts on random venues and moves (dirty accounts, zero and
  missing prices, quote moves);
* soundness: every account a full valuation puts below the threshold is a
  candidate, over sequences of moves and fills, and ``screened_revalue``
  writes the full valuation's bits on the candidates;
* hypothesis with extreme balances and prices.

Units as in ``lob.margin.unified``: atoms, contracts, quote atoms; USD."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lob.margin import screen as SC
from lob.margin import sparse as S
from lob.margin import unified as U
from lob.margin.perps import perp_fill
from lob.margin.unified import AssetSpec, PerpSpec, build_config
from test_margin_sparse import draw_small_accounts
from test_margin_unified import random_accounts, random_venue


def full(cfg, prices, mark, bal, pos, cost):
    return U.value_accounts(cfg, prices, mark, bal, pos, cost, np.empty((len(bal), U.N_V)))


def not_above(v, theta):
    """Accounts a risk engine acting at ``theta`` must look at: ratio below
    it, or not a number."""
    r = v[:, U.V_RATIO]
    return set(np.nonzero(~(r >= theta))[0].tolist())


def test_hand_account_tolerance_is_the_move_to_the_threshold():
    """1,000 ALT at 1 USD (flat haircut 0.5) against a 300 USDT loan
    (maintenance 10%): equity 500 - 300 = 200, MM 30, ratio 6.67.  At
    theta 1 the surplus is 170 and ALT's slope 0.5 x 1,000 = 500 USD per
    unit of relative move (the quote's loan does not move): the bound
    170 + 500 d is exact, zero at d = -0.34: ALT at 0.66 is ratio 1 (330 -
    300 = 30 = MM).  A rise only helps."""
    cfg = build_config([AssetSpec("USDT", haircut=1.0, policy=U.SRC_ORACLE, cash=True, loan_mm=0.1),
                        AssetSpec("ALT", haircut=0.5, policy=U.SRC_MID)], quote=0)
    bal = np.array([[-300 * 10**8, 1000 * 10**8],
                    [0, 0],                              # empty: never a candidate
                    [500 * 10**8, 0]], np.int64)         # only the quote: neither
    pos = np.zeros((3, 0), np.int64)
    prices = U.price_matrix(2, 1.0)
    sc = SC.build_screen(cfg, prices, np.zeros(0), S.to_sparse(bal, pos, pos), 1.0)
    assert sc.acct[0, 0] == pytest.approx(170, rel=1e-8) and sc.acct[0, 0] < 170
    assert sc.acct[0].tolist()[1:] == [500.0, 0.0, 500.0]                # C, W, E
    assert SC.surplus_ref(cfg, prices, np.zeros(0), bal[0], pos[0], pos[0], 1.0) == sc.acct[0, 0]
    for px, expect in [(0.661, []), (0.6601, []), (0.6599, [0]), (0.5, [0]), (3.0, []), (0.0, [0])]:
        p = U.price_matrix(2, 1.0)
        p[1] = px
        assert SC.candidates(sc, cfg, p, np.zeros(0)).tolist() == expect, px
        ratio = full(cfg, p, np.zeros(0), bal, pos, pos)[0, U.V_RATIO]
        if px < 0.66:
            assert ratio < 1.0
        elif px < 1:
            assert ratio > 1.0
    p = U.price_matrix(2, 1.0)
    p[0] = 1.0001                                        # USDT itself moves: everyone
    assert SC.candidates(sc, cfg, p, np.zeros(0)).tolist() == [0, 1, 2]
    assert sc.acct[1, 0] == sc.acct[2, 0] == np.inf and len(sc.always) == 0
    with pytest.raises(ValueError):
        SC.build_screen(cfg, prices, np.zeros(0), S.to_sparse(bal, pos, pos), 0.0)


def test_hand_perp_and_loan_sensitivities():
    """A long of 10 contracts of 1 BTC at mark 100 (flat MM 5%) on 300
    USDT: equity 300, MM 50, theta 1.5: surplus 225, slope 1,000 - 1.5 x
    0.05 x 1,000 = 925, so the bound 225 + 925 d (exact with a flat rate)
    is zero at mark 75.68.  A 2 ETH loan at 100 (maintenance 10%) against
    1,000 USDT: equity 800, MM 20, surplus 770, slope -(1 + 1.5 x 0.1) x
    200 = -230: zero at ETH +334.8%.  With only one item moved the median
    move of the two items is half of it; the bound is the same."""
    cfg = build_config([AssetSpec("USDT", haircut=1.0, policy=U.SRC_ORACLE, cash=True),
                        AssetSpec("ETH", haircut=0.9, loan_mm=0.1, policy=U.SRC_MID)],
                       [PerpSpec("BTC-PERP", 1.0, (0.1, 0.05))], quote=0)
    bal = np.array([[300 * 10**8, 0], [1000 * 10**8, -2 * 10**8]], np.int64)
    pos = np.array([[10], [0]], np.int64)
    cost = np.array([[1000 * 10**8], [0]], np.int64)
    prices = U.price_matrix(2, 1.0)
    prices[1] = 100.0
    mark = np.array([100.0])
    sc = SC.build_screen(cfg, prices, mark, S.to_sparse(bal, pos, cost), 1.5)
    assert sc.acct[0].tolist()[1:] == [925.0, 0.0, 925.0]
    assert sc.acct[1].tolist()[1:] == pytest.approx([-230.0, 0.0, 230.0])
    assert SC.candidates(sc, cfg, prices, mark * 0.76).tolist() == []        # 225 - 222 > 0
    assert SC.candidates(sc, cfg, prices, mark * 0.75).tolist() == [0]
    assert SC.candidates(sc, cfg, prices, mark * 0.75, band=0.5).tolist() == [0]
    p = prices.copy()
    p[1] = 100 * (1 + 3.35)
    assert SC.candidates(sc, cfg, p, mark).tolist() == [1]
    p[1] = 100 * (1 + 3.34)
    assert SC.candidates(sc, cfg, p, mark).tolist() == []
    p[1] = np.nan                                        # ETH has no price: its holders
    assert SC.candidates(sc, cfg, p, mark).tolist() == [1]
    # the actual threshold of the long: 300 + 10 (m - 100) = 1.5 x 0.5 m -> m = 75.68
    assert full(cfg, prices, np.array([75.7]), bal, pos, cost)[0, U.V_RATIO] > 1.5
    assert full(cfg, prices, np.array([75.6]), bal, pos, cost)[0, U.V_RATIO] < 1.5


def _moves(rng, prices, mark, n_a, q):
    p, mk = prices.copy(), mark.copy()
    kind = rng.integers(5)
    if kind == 0:                                        # one asset
        a = int(rng.integers(n_a))
        p[a] *= rng.uniform(0.3, 1.5)
    elif kind == 4:                                      # two assets, the others still
        for a in rng.choice(n_a, min(2, n_a), replace=False):
            p[a] *= rng.uniform(0.3, 1.5)
    elif kind == 1:                                      # the market
        p *= rng.uniform(0.7, 1.1, (n_a, 1))
        mk *= rng.uniform(0.7, 1.1, mk.shape)
    elif kind == 2:                                      # perps only
        mk *= rng.uniform(0.5, 1.5, mk.shape)
    else:                                                # a few sources, some to zero or NaN
        sel = rng.random(p.shape) < 0.2
        p[sel] *= rng.uniform(0.0, 2.0, sel.sum())
        p[rng.random(p.shape) < 0.03] = np.nan
    if rng.random() > 0.1:
        p[q] = prices[q]                                 # the quote stays (mostly)
    return p, mk


@pytest.mark.parametrize("seed", range(10))
def test_query_equals_reference_and_is_sound(seed):
    """Random venues and portfolios: the compiled candidates equal the
    twin's set; every account a full valuation puts below theta is among
    them; ``screened_revalue`` writes the full valuation's bits there."""
    rng = np.random.default_rng(900 + seed)
    cfg = random_venue(rng, int(rng.integers(1, 10)), int(rng.integers(0, 4)))
    bal, pos, cost, prices, mark = random_accounts(rng, cfg, 250)
    pos[rng.random(pos.shape) < 0.05] = 0                # flat with a cost left
    n, n_a = bal.shape
    sp = S.to_sparse(bal, pos, cost)
    theta = float(rng.choice([1.0, 1.2, 1.5, 3.0]))
    out = np.full((n, U.N_V), -5.0)
    sc = SC.build_screen(cfg, prices, mark, sp, theta, out)
    assert np.array_equal(out, full(cfg, prices, mark, bal, pos, cost), equal_nan=True)
    dirty = set()
    rows = np.empty(n, np.int64)
    for step in range(12):
        if step == 6:
            d = rng.choice(n, 20, replace=False).astype(np.int64)
            SC.mark_dirty(sc, d)
            SC.mark_dirty(sc, d[:5])                     # twice: listed once
            dirty |= set(d.tolist())
            assert sc.dirty[0] == 20
        p, mk = _moves(rng, prices, mark, n_a, cfg.quote)
        band = float(rng.choice([0.0, 0.0, 0.01, 0.2]))
        got = SC.candidates(sc, cfg, p, mk, band).tolist()
        assert len(got) == len(set(got))
        assert got == SC.query_ref(cfg, prices, mark, p, mk, bal, pos, cost, theta, dirty, band)
        v = full(cfg, p, mk, bal, pos, cost)
        assert not_above(v, theta) <= set(got) | dirty
        o = np.full((n, U.N_V), -5.0)
        c = SC.screened_revalue(sc, cfg, p, mk, band, sp, rows, o)
        cand = np.sort(rows[:c])
        assert cand.tolist() == got
        assert np.array_equal(o[cand], v[cand], equal_nan=True)
        assert (np.delete(o, cand, axis=0) == -5.0).all()
        assert (sc.flag[np.setdiff1d(np.arange(n), list(dirty))] == 0).all()   # marks cleared


def test_sound_through_moves_and_fills():
    """A healthy population of 2,000 accounts, 40 random moves from the
    reference, fills between accounts (spot and perp) that change their
    holdings: the traders are marked dirty, and no account below theta is
    ever missed; the screen re-values a fraction of the accounts."""
    rng = np.random.default_rng(42)
    n_a, n_p = 12, 3
    assets = [AssetSpec("USDT", haircut=1.0, policy=U.SRC_ORACLE, cash=True)]
    for a in range(1, n_a):
        assets.append(AssetSpec(f"A{a}", haircut=[(5e4, 0.9), (math.inf, 0.5)], loan_mm=0.1,
                                policy=U.SRC_MID))
    perps = [PerpSpec(f"P{m}", 0.01, [(2.5e5, 0.02, 0.01), (math.inf, 0.1, 0.05)]) for m in range(n_p)]
    cfg = build_config(assets, perps, quote=0)
    n = 2000
    px = np.r_[1.0, np.exp(rng.normal(0, 2, n_a - 1))]
    held = rng.random((n, n_a)) < 0.3
    held[:, 0] = True
    bal = np.where(held, rng.lognormal(8, 1.5, (n, n_a)) / px * 10**8, 0)
    bal[:, 0] = rng.lognormal(9, 1, n) * 10**8 * rng.choice([-0.3, 1], n)
    bal = np.rint(bal).astype(np.int64)
    mark = np.array([1000.0, 50.0, 2.0])
    pos = (rng.integers(-3000, 3000, (n, n_p)) * (rng.random((n, n_p)) < 0.3)).astype(np.int64)
    cost = np.rint(pos * 0.01 * mark * 10**8 * rng.uniform(0.95, 1.05, (n, n_p))).astype(np.int64)
    prices = U.price_matrix(n_a)
    prices[:] = px[:, None]
    theta = 1.5
    sc = SC.build_screen(cfg, prices, mark, S.to_sparse(bal, pos, cost), theta)
    p, mk = prices.copy(), mark.copy()
    shares = []
    for step in range(40):
        p[1:] *= np.exp(rng.normal(-0.01, 0.03, (n_a - 1, 1)))
        mk *= np.exp(rng.normal(-0.01, 0.03, n_p))
        i, j = (int(x) for x in rng.choice(n, 2, replace=False))
        a = int(rng.integers(1, n_a))
        if bal[j, a] > 0:
            U.spot_fill(cfg, bal, i, j, a, int(bal[j, a] // 2), float(p[a, 1]))
        if pos[i, 0] != 0:
            perp_fill(cfg, pos, cost, bal, i, j, 0, int(abs(pos[i, 0]) // 2 + 1), float(mk[0]))
        SC.mark_dirty(sc, np.array([i, j], np.int64))
        got = set(SC.candidates(sc, cfg, p, mk, 0.01 * (step % 3)).tolist())
        v = full(cfg, p, mk, bal, pos, cost)
        assert not_above(v, theta) <= got
        shares.append(len(got) / n)
    assert 0 < np.mean(shares) < 0.9


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_hypothesis_sound_on_extreme_values(data):
    """Tiny and huge balances, one atom, zero and huge prices and marks,
    one- and many-tier schedules: nothing below theta is ever missed, and
    the compiled query equals the twin."""
    cfg, bal, pos, cost, prices, mark = draw_small_accounts(
        data, n_min=1, balances=(0, 0, 1, -1, 7, -10**8, 10**12, -(10**15), 4 * 10**17),
        prices=(1e-9, 0.5, 1.0, 3e4, 1e12))
    n_a, n_p = bal.shape[1], pos.shape[1]
    f = st.sampled_from([0.0, 1e-6, 0.5, 0.99, 1.0, 1.01, 2.0, 1e6])
    p2 = prices * np.array(data.draw(st.lists(f, min_size=n_a, max_size=n_a)))[:, None]
    p2[cfg.quote] = prices[cfg.quote]
    m2 = mark * np.array(data.draw(st.lists(f, min_size=n_p, max_size=n_p)), float)
    theta = data.draw(st.sampled_from([0.5, 1.0, 2.0]))
    band = data.draw(st.sampled_from([0.0, 0.01, 0.5]))
    sc = SC.build_screen(cfg, prices, mark, S.to_sparse(bal, pos, cost), theta)
    got = SC.candidates(sc, cfg, p2, m2, band).tolist()
    with np.errstate(all="ignore"):
        v = full(cfg, p2, m2, bal, pos, cost)
        assert got == SC.query_ref(cfg, prices, mark, p2, m2, bal, pos, cost, theta, band=band)
    assert not_above(v, theta) <= set(got)


def test_monitor_finds_exactly_the_accounts_below_theta():
    """``AccountMonitor`` over 60 moves (drifts, one-coin crashes, market
    drops) and trades between them (spot and perp fills, a coin an account
    never held): at every check it returns exactly the accounts a full
    valuation puts below theta, with their exact values; it rebuilds when
    the candidates or the dirty accounts pass the share."""
    rng = np.random.default_rng(8)
    n_a, n_p, n = 10, 2, 1500
    assets = [AssetSpec("USDT", haircut=1.0, policy=U.SRC_ORACLE, cash=True)]
    for a in range(1, n_a):
        assets.append(AssetSpec(f"A{a}", haircut=[(5e4, 0.9), (math.inf, 0.5)], loan_mm=0.1, policy=U.SRC_MID))
    perps = [PerpSpec(f"P{m}", 0.01, [(2.5e5, 0.02, 0.01), (math.inf, 0.1, 0.05)]) for m in range(n_p)]
    cfg = build_config(assets, perps, quote=0)
    px = np.r_[1.0, np.exp(rng.normal(0, 2, n_a - 1))]
    held = rng.random((n, n_a)) < 0.3
    bal = np.where(held, rng.lognormal(8, 1.5, (n, n_a)) / px * 10**8, 0)
    bal[:, 0] = rng.lognormal(8, 1, n) * 10**8 * rng.choice([-0.5, 1], n)
    bal = np.rint(bal).astype(np.int64)
    mark = np.array([1000.0, 50.0])
    pos = (rng.integers(-2000, 2000, (n, n_p)) * (rng.random((n, n_p)) < 0.3)).astype(np.int64)
    cost = np.rint(pos * 0.01 * mark * 10**8 * rng.uniform(0.95, 1.05, (n, n_p))).astype(np.int64)
    prices = U.price_matrix(n_a)
    prices[:] = px[:, None]
    theta = 1.5
    mon = SC.AccountMonitor(cfg, bal, pos, cost, theta, prices=prices, mark=mark, rebuild_share=0.2)
    p, mk = prices.copy(), mark.copy()
    for step in range(60):
        kind = step % 4
        if kind == 0:
            p[1:] *= np.exp(rng.normal(0, 0.01, (n_a - 1, 1)))
        elif kind == 1:
            p[int(rng.integers(1, n_a))] *= 0.7
        elif kind == 2:
            p[1:] *= 0.97
            mk *= 0.97
        else:
            p[1:] *= 1.03
            mk *= 1.02
        traders = rng.choice(n, 6, replace=False)
        for i, j in zip(traders[::2], traders[1::2]):
            a = int(rng.integers(1, n_a))
            if bal[j, a] > 0:
                U.spot_fill(cfg, bal, int(i), int(j), a, int(bal[j, a] // 3), float(p[a, 1]))
            if pos[i, 1] != 0:
                perp_fill(cfg, pos, cost, bal, int(i), int(j), 1, 5, float(mk[1]))
        mon.update(traders, bal, pos, cost)
        below = mon.check(p, mk)
        full_v = full(cfg, p, mk, bal, pos, cost)
        assert below.tolist() == sorted(not_above(full_v, theta)), step
        assert np.array_equal(mon.values[below], full_v[below], equal_nan=True)
    st = mon.stats
    assert st["checks"] == 60 and st["rebuilds"] >= 2 and st["below"] > 0
    assert st["candidates"] < 0.5 * 60 * n                 # the screen did save work
    with pytest.raises(ValueError):
        SC.AccountMonitor(cfg, bal, pos, cost, theta, prices=p, mark=mk, rebuild_share=0)
