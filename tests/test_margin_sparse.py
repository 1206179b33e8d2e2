"""The CSR layout of unified accounts (``lob.margin.sparse``) against the
dense reference (``lob.margin.unified``): same valuations bit for bit, on
random portfolios (empty accounts, loans, perps, tiered haircuts and perp
brackets, worthless and missing prices), the incremental update after one
asset's move, and keeping the layout in step with dense rows after fills.

Units as in ``lob.margin.unified``: atoms, contracts, quote atoms; USD."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lob.margin import sparse as S
from lob.margin import unified as U
from lob.margin.perps import perp_fill
from test_margin_unified import random_accounts, random_venue


def same(x, y):
    """Bit for bit, NaN where NaN."""
    return np.array_equal(x, y, equal_nan=True)


def dense_and_sparse(cfg, prices, mark, bal, pos, cost):
    out = U.value_accounts(cfg, prices, mark, bal, pos, cost, np.empty((len(bal), U.N_V)))
    sp = S.to_sparse(bal, pos, cost)
    got = S.value_sparse(cfg, prices, mark, sp, np.full((len(bal), U.N_V), -7.0))
    return out, got, sp


@pytest.mark.parametrize("seed", range(12))
def test_sparse_equals_dense_random_portfolios(seed):
    rng = np.random.default_rng(100 + seed)
    cfg = random_venue(rng, int(rng.integers(1, 14)), int(rng.integers(0, 5)))
    bal, pos, cost, prices, mark = random_accounts(rng, cfg, 400)
    bal[rng.random(len(bal)) < 0.1] = 0                  # accounts that hold nothing ...
    empty = rng.random(len(bal)) < 0.1
    bal[empty], pos[empty], cost[empty] = 0, 0, 0        # ... at all
    pos[rng.random(pos.shape) < 0.05] = 0                # flat with a cost left (realised, not settled)
    if seed % 3 == 0:
        prices[rng.random(prices.shape) < 0.05] = np.nan  # a source with no price yet
    out, got, sp = dense_and_sparse(cfg, prices, mark, bal, pos, cost)
    assert same(got, out)
    assert len(sp.row_bal) == int((bal != 0).sum())
    assert len(sp.prow_pos) == int(((pos != 0) | (cost != 0)).sum())
    b2, p2, c2 = S.to_dense(sp, bal.shape[1], pos.shape[1])
    assert (b2 == bal).all() and (p2 == pos).all() and (c2 == cost).all()
    for a in range(bal.shape[1]):
        assert (S.holders_sparse(sp, a) == U.holders(bal, a)).all()
    rows = np.sort(rng.choice(len(bal), 37, replace=False)).astype(np.int64)
    sub = np.full_like(out, -1.0)
    S.value_sparse_rows(cfg, prices, mark, sp, rows, sub)
    assert same(sub[rows], out[rows])
    assert (np.delete(sub, rows, axis=0) == -1.0).all()


def test_sparse_hand_account_and_empty_layouts():
    """The hand-computed account of test_margin_unified (ratio 445,000 /
    58,750, leverage 2.5) beside an empty account; no accounts; no perps."""
    E8 = 10**8
    inf = math.inf
    cfg = U.build_config(
        [U.AssetSpec("USDT", haircut=1.0, policy=U.SRC_ORACLE, cash=True),
         U.AssetSpec("BTC", haircut=[(100_000, .95), (1_100_000, .90), (inf, .50)])],
        [U.PerpSpec("BTCUSDT", 0.001, [(250_000, 0.02, 0.01), (inf, 0.05, 0.025)])], quote=0)
    prices = U.price_matrix(2, 1.0)
    prices[1, :] = 100_000.0
    bal = np.array([[-1_000_000 * E8, 20 * E8], [0, 0]], np.int64)
    pos, cost = np.array([[-5_000], [0]]), np.array([[-500_000 * E8], [0]])
    out, got, sp = dense_and_sparse(cfg, prices, np.array([100_000.0]), bal, pos, cost)
    assert same(got, out)
    r = U.as_dict(got[0])
    assert r["equity"] == 445_000 and r["mm"] == 58_750 and r["leverage"] == 2.5
    assert got[1, U.V_RATIO] == math.inf and got[1, U.V_LEVERAGE] == 0 and not got[1, :U.V_RATIO].any()
    assert list(sp.row_ptr) == [0, 2, 2] and list(sp.prow_ptr) == [0, 1, 1]
    none = S.to_sparse(np.zeros((0, 2), np.int64), np.zeros((0, 1), np.int64), np.zeros((0, 1), np.int64))
    assert S.value_sparse(cfg, prices, np.array([1.0]), none, np.empty((0, U.N_V))).shape == (0, U.N_V)
    spot = S.to_sparse(bal)                              # no perps at all
    cfg0 = U.build_config([U.AssetSpec("USDT", cash=True, policy=U.SRC_ORACLE), U.AssetSpec("BTC")])
    assert same(S.value_sparse(cfg0, prices, np.zeros(0), spot, np.empty((2, U.N_V))),
                U.valuation(cfg0, prices, bal))


@pytest.mark.parametrize("seed", range(4))
def test_incremental_sparse_equals_dense_and_full(seed):
    """One asset moves at a time (longs, loans, cash-like assets, tiered
    haircuts): the CSR update equals the dense one bit for bit, and both
    equal a full valuation to float rounding, move after move."""
    rng = np.random.default_rng(200 + seed)
    n_a = 7
    assets = [U.AssetSpec("USDT", haircut=1.0, policy=U.SRC_ORACLE, cash=True)]
    for a in range(1, n_a):
        tiers = [(float(rng.uniform(1e3, 1e5)), 0.9), (math.inf, float(rng.uniform(0.2, 0.8)))]
        assets.append(U.AssetSpec(f"A{a}", atoms_per_unit=int(10 ** rng.integers(2, 9)), haircut=tiers,
                                  loan_im=0.2, loan_mm=0.1, policy=U.SRC_LAST, cash=bool(a == n_a - 1)))
    perps = [U.PerpSpec("P0", 0.01, [(1e5, 0.02, 0.01), (math.inf, 0.1, 0.05)])]
    cfg = U.build_config(assets, perps, quote=0)
    n = 600
    bal = (rng.integers(-10**9, 10**10, (n, n_a)) * (rng.random((n, n_a)) < 0.4)).astype(np.int64)
    bal[:20] = 0
    pos = (rng.integers(-10**4, 10**4, (n, 1)) * (rng.random((n, 1)) < 0.5)).astype(np.int64)
    cost = (pos * rng.uniform(50, 150, (n, 1)) * 0.01 * cfg.atoms_per_unit[0]).astype(np.int64)
    prices = U.price_matrix(n_a, 1.0)
    prices[1:] = rng.uniform(0.5, 50, (n_a - 1, 1))
    mark = np.array([100.0])
    dense = U.value_accounts(cfg, prices, mark, bal, pos, cost, np.empty((n, U.N_V)))
    sp = S.to_sparse(bal, pos, cost)
    csr = dense.copy()
    for _ in range(30):
        a = int(rng.integers(1, n_a))
        old = prices[a, U.SRC_LAST]
        new = old * float(np.exp(rng.normal(-0.1, 0.3)))
        prices[a, :] = new
        U.revalue_asset(cfg, a, old, new, bal, U.holders(bal, a), dense)
        assert S.revalue_asset_sparse(cfg, a, old, new, sp, csr) == int((bal[:, a] != 0).sum())
        assert same(csr, dense)
        full = U.value_accounts(cfg, prices, mark, bal, pos, cost, np.empty((n, U.N_V)))
        fin = np.isfinite(full)
        assert (np.isfinite(csr) == fin).all()
        np.testing.assert_allclose(csr[fin], full[fin], rtol=1e-9, atol=1e-6)


def test_layout_follows_fills_within_its_pattern():
    """Spot and perp fills change dense rows; ``sync_rows`` copies the
    touched rows into the layout (which then values exactly as the dense
    rows), and reports a holding outside the pattern, which ``pattern=``
    reserves."""
    rng = np.random.default_rng(5)
    cfg = random_venue(rng, 6, 2)
    bal, pos, cost, prices, mark = random_accounts(rng, cfg, 50)
    bal //= 1000                                          # room for the fills
    q = cfg.quote
    others = [a for a in range(6) if a != q]
    bal[:, q] = 10**15
    bal[0] = 0
    bal[0, q] = 10**15                                   # account 0: only the quote, no perps
    pos[0], cost[0] = 0, 0
    sp = S.to_sparse(bal, pos, cost)
    for _ in range(200):
        i, j = (int(x) for x in rng.choice(np.arange(1, 50), 2, replace=False))
        a = int(rng.choice([x for x in others if bal[j, x] > 0] or others))
        if bal[j, a] > 0:
            U.spot_fill(cfg, bal, i, j, a, int(rng.integers(1, bal[j, a] + 1)), 1.5)
        m = int(rng.integers(2))
        if pos[i, m] != 0 and pos[j, m] != 0:
            perp_fill(cfg, pos, cost, bal, i, j, m, 3, 2.0)
        touched = np.array([i, j], np.int64)
        missing = S.sync_rows(sp, bal, pos, cost, touched)
        if missing:
            sp = S.to_sparse(bal, pos, cost)              # a new holding: rebuild
        assert same(S.value_sparse(cfg, prices, mark, sp, np.empty((50, U.N_V))),
                    U.value_accounts(cfg, prices, mark, bal, pos, cost, np.empty((50, U.N_V))))
    # account 0 buys an asset it never held: not in the pattern ...
    a = others[0]
    seller = int(np.argmax(bal[:, a]))
    U.spot_fill(cfg, bal, 0, seller, a, 1, 1.0)
    assert S.sync_rows(sp, bal, pos, cost, np.array([0, seller], np.int64)) == 1
    assert not S.set_balance(sp, 0, a, 5) and S.set_balance(sp, 0, a, 0)
    # ... unless reserved: zero entries are skipped exactly as zero balances
    keep = np.zeros(bal.shape, bool)
    keep[0, :] = True
    bal[0, a] = 0
    sp = S.to_sparse(bal, pos, cost, pattern=keep, perp_pattern=np.ones(pos.shape, bool))
    assert sp.row_ptr[1] - sp.row_ptr[0] == 6 and sp.prow_ptr[1] - sp.prow_ptr[0] == 2
    base = S.value_sparse(cfg, prices, mark, sp, np.empty((50, U.N_V)))
    assert same(base, U.value_accounts(cfg, prices, mark, bal, pos, cost, np.empty((50, U.N_V))))
    bal[0, a] = 7
    pos[0, 1], cost[0, 1] = 2, 200
    assert S.sync_rows(sp, bal, pos, cost, np.array([0], np.int64)) == 0
    k = int(sp.row_ptr[0]) + sp.row_asset[sp.row_ptr[0]:sp.row_ptr[1]].tolist().index(a)
    assert sp.row_bal[k] == 7 and sp.col_bal[sp.row_col[k]] == 7       # both copies
    assert same(S.value_sparse(cfg, prices, mark, sp, np.empty((50, U.N_V))),
                U.value_accounts(cfg, prices, mark, bal, pos, cost, np.empty((50, U.N_V))))
    with pytest.raises(ValueError):
        S.to_sparse(bal, pos, cost[:, :1])


def draw_small_accounts(data, *, n_min=0, balances=(0, 0, 0, 1, -1, 7, -10**8, 10**12, -(10**15), 4 * 10**18,
                                                  -(4 * 10**18)), prices=(0.0, 1e-9, 0.5, 1.0, 3e4, 1e12)):
    """A hypothesis draw of a small venue and accounts with extreme values:
    ``(cfg, bal, pos, cost, prices, mark)``."""
    n_a = data.draw(st.integers(1, 5))
    n_p = data.draw(st.integers(0, 3))
    seed = data.draw(st.integers(0, 2**32 - 1))
    cfg = random_venue(np.random.default_rng(seed), n_a, n_p)
    n = data.draw(st.integers(n_min, 6))

    def table(values, cols):
        rows = st.lists(st.lists(st.sampled_from(values), min_size=cols, max_size=cols), min_size=n, max_size=n)
        return np.array(data.draw(rows), np.int64).reshape(n, cols)

    bal = table(list(balances), n_a)
    pv = [0, 0, 1, -1, 10**6, -(10**9)]
    pos, cost = table(pv, n_p), table(pv, n_p)
    px = st.sampled_from(list(prices))
    p = np.array(data.draw(st.lists(px, min_size=n_a * U.N_SOURCES, max_size=n_a * U.N_SOURCES)),
                 float).reshape(n_a, U.N_SOURCES)
    mark = np.array(data.draw(st.lists(px, min_size=n_p, max_size=n_p)), float)
    return cfg, bal, pos, cost, p, mark


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_hypothesis_sparse_equals_dense(data):
    """Small accounts with extreme values: one atom, the int64 range's edge,
    zero and huge prices, one- and many-tier schedules."""
    cfg, bal, pos, cost, prices, mark = draw_small_accounts(data)
    out, got, _ = dense_and_sparse(cfg, prices, mark, bal, pos, cost)
    assert same(got, out)
