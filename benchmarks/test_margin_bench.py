"""Unified-account re-valuation benchmarks (pytest-benchmark).

Run:  .venv/bin/python -m pytest benchmarks/test_margin_bench.py --benchmark-only -s
Timings are reported (``extra_info``), not asserted; every test asserts the
results it timed.

* ``test_revalue_accounts``: 100,000 accounts x 40 assets x 4 perps after a
  price move, in the dense layout (``unified.value_accounts``, rows over
  threads too) and the CSR layout (``sparse.value_sparse``, bit-identical);
  two holdings profiles: ``sparse`` (each account holds ~25% of the assets,
  half the perps) and ``dense`` (everything); the pure-Python reference
  (``value_account_ref``) on a subset, bit for bit.
* ``test_revalue_watch_list``: a 10% watch list (``value_accounts_rows``).
* ``test_revalue_after_one_asset_move``: an altcoin falls 20%; only its
  holders are re-valued (``unified.revalue_asset`` over dense rows,
  ``sparse.revalue_asset_sparse`` over the asset's column).
* ``test_revalue_vs_resulting_orders``: the issue's check.  A healthy
  population, a price move, the orders the risk engine's slicing really
  sends for the accounts it takes over, timed on realistic books
  (``Engine.process``) in the same rounds as the re-valuations; the ratios
  re-valuation / books and the load average are in ``extra_info``.  Beside
  them the risk engine's screen (``lob.margin.screen``): the accounts a
  bound cannot clear after the move, valued exactly in the same compiled
  call (``screen``; none below the margin-call level missed, asserted), and
  its build cost (a full valuation plus one pass over the holdings, paid
  once per reference prices, not per move) in ``screen_build_s``.
"""
from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest

from benchmarks.conftest import QUICK
from lob.core import codes as C
from lob.core.engine import Engine
from lob.margin import risk_engine as RE
from lob.margin import screen as SC
from lob.margin import sparse as S
from lob.margin import unified as U
from lob.margin.perps import perp_fill
from lob.margin.unified import AssetSpec, PerpSpec, build_config

N_ACC = 10_000 if QUICK else 100_000
N_ASSETS = 40
N_PERPS = 4
N_REF = 200 if QUICK else 2_000


def _venue(rng):
    assets = [AssetSpec("USDT", haircut=1.0, policy=U.SRC_ORACLE, cash=True)]
    for a in range(1, N_ASSETS):
        tiers = [(1e5, 0.95), (1.1e6, 0.9), (math.inf, 0.5)] if a < 10 else \
            [(5e4, float(rng.uniform(0.5, 0.9))), (math.inf, 0.3)]
        assets.append(AssetSpec(f"A{a}", haircut=tiers, loan_im=0.2, loan_mm=0.1,
                                policy=int(rng.integers(0, U.N_SOURCES))))
    perps = [PerpSpec(f"P{m}", 0.001 * 10**m, [(2.5e5, 0.02, 0.01), (1e6, 0.05, 0.025),
                                               (math.inf, 0.1, 0.05)]) for m in range(N_PERPS)]
    return build_config(assets, perps, quote=0)


def _accounts(rng, cfg, density):
    n = N_ACC
    units = rng.lognormal(4, 2, (n, N_ASSETS)) * (rng.random((n, N_ASSETS)) < density)
    units[:, 0] *= np.where(rng.random(n) < 0.4, -1, 1)          # 40% borrow USDT
    loans = rng.random((n, N_ASSETS)) < 0.05                     # a few short altcoins
    loans[:, 0] = False
    units[loans] *= -0.3
    bal = (units * cfg.atoms_per_unit).astype(np.int64)
    pdens = 1.0 if density >= 1 else 0.5
    pos = (rng.integers(-5_000, 5_000, (n, N_PERPS)) * (rng.random((n, N_PERPS)) < pdens))
    pos = pos.astype(np.int64)
    entry = np.array([100_000.0, 4_000.0, 200.0, 1.0]) * rng.uniform(0.9, 1.1, (n, N_PERPS))
    cost = np.rint(pos * cfg.contract_size * entry * cfg.atoms_per_unit[0]).astype(np.int64)
    prices = np.exp(rng.normal(0, 3, (N_ASSETS, U.N_SOURCES)))
    prices[0] = 1.0
    mark = np.array([100_000.0, 4_000.0, 200.0, 1.0])
    return bal, pos, cost, prices, mark


KERNELS = {"serial": U.value_accounts, "parallel": U.value_accounts_parallel,
           "csr": lambda cfg, p, mk, sp, out: S.value_sparse(cfg, p, mk, sp, out)}


@pytest.mark.parametrize("kernel, density", [("serial", 0.25), ("csr", 0.25), ("serial", 1.0),
                                             ("csr", 1.0), ("parallel", 0.25)],
                         ids=["sparse", "sparse-csr", "dense", "dense-csr", "sparse-parallel"])
def test_revalue_accounts(benchmark, kernel, density):
    """Every account after a random move of every price and mark.  ``csr``
    values the same accounts from the CSR layout (``sparse.value_sparse``),
    whose rows equal the dense kernel's bit for bit (asserted here too)."""
    rng = np.random.default_rng(2025)
    cfg = _venue(rng)
    bal, pos, cost, prices, mark = _accounts(rng, cfg, density)
    out = np.empty((N_ACC, U.N_V))
    fn = KERNELS[kernel]
    data = (S.to_sparse(bal, pos, cost),) if kernel == "csr" else (bal, pos, cost)
    if kernel == "csr":
        S.value_sparse(cfg, prices, mark, S.to_sparse(bal[:10], pos[:10], cost[:10]), out[:10])
    else:
        fn(cfg, prices, mark, bal[:10], pos[:10], cost[:10], out[:10])   # compile
    moves = []

    def setup():      # a price move: every source of every asset, and the marks
        p = prices * np.exp(rng.normal(-0.05, 0.1, prices.shape))
        p[0] = 1.0
        mk = mark * np.exp(rng.normal(-0.05, 0.05, N_PERPS))
        moves.append((p, mk))
        return (cfg, p, mk, *data, out), {}

    benchmark.pedantic(fn, setup=setup, rounds=3 if QUICK else 15, iterations=1)
    p, mk = moves[-1]
    # the reference on a subset of the same accounts, after the same move
    sub = np.linspace(0, N_ACC - 1, N_REF).astype(np.int64)
    t0 = time.perf_counter()
    ref = [U.value_account_ref(cfg, p, mk, bal[i], pos[i], cost[i]) for i in sub]
    t_ref = (time.perf_counter() - t0) / N_REF
    for j, i in enumerate(sub):
        got = out[i]
        for k, name in enumerate(U.V_NAMES):
            assert got[k] == ref[j][name], (int(i), name, got[k], ref[j][name])
    if kernel == "csr":
        assert np.array_equal(out, U.value_accounts(cfg, p, mk, bal, pos, cost, np.empty_like(out)),
                              equal_nan=True)
    med = benchmark.stats.stats.median
    t_eng = med / N_ACC
    benchmark.extra_info.update(
        kernel=kernel, threads=_threads(kernel), load_avg=os.getloadavg(),
        accounts=N_ACC, assets=N_ASSETS, perps=N_PERPS, density=density,
        nonzero_balances=int((bal != 0).sum()), open_perps=int((pos != 0).sum()),
        engine_median_s=med, engine_accounts_per_s=N_ACC / med,
        engine_ns_per_account=t_eng * 1e9, ref_us_per_account=t_ref * 1e6,
        ratio_to_reference=t_ref / t_eng)


def _threads(kernel):
    if kernel != "parallel":
        return 1
    import numba
    return numba.get_num_threads()


def test_revalue_watch_list(benchmark):
    """Re-valuing only a watch list (the 10% of accounts closest to their
    threshold, say) costs in proportion to the list."""
    rng = np.random.default_rng(7)
    cfg = _venue(rng)
    bal, pos, cost, prices, mark = _accounts(rng, cfg, 0.25)
    out = np.empty((N_ACC, U.N_V))
    rows = np.sort(rng.choice(N_ACC, N_ACC // 10, replace=False)).astype(np.int64)
    U.value_accounts_rows(cfg, prices, mark, bal, pos, cost, rows[:10], out)
    benchmark.pedantic(U.value_accounts_rows, args=(cfg, prices, mark, bal, pos, cost, rows, out),
                       rounds=3 if QUICK else 15, iterations=1)
    full = U.value_accounts(cfg, prices, mark, bal, pos, cost, np.empty_like(out))
    assert np.array_equal(out[rows], full[rows], equal_nan=True)
    med = benchmark.stats.stats.median
    benchmark.extra_info.update(rows=len(rows), engine_median_s=med,
                                engine_ns_per_account=med / len(rows) * 1e9)


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_revalue_after_one_asset_move(benchmark, layout):
    """An altcoin crashes: only its holders are re-valued, incrementally
    (``unified.revalue_asset`` over the dense rows, or
    ``sparse.revalue_asset_sparse`` over the asset's CSR column; equal to a
    full valuation to float rounding, and to each other bit for bit --
    tested in tests/test_margin_unified.py and tests/test_margin_sparse.py).
    Records the full re-valuation of every account for the same move.  The
    orders such a move causes are timed in ``test_revalue_vs_resulting_orders``
    (this population is no risk engine's: 20% of it is below takeover before
    any move: ``below_takeover_before``; ``newly_below_takeover`` counts the
    accounts the repeated 20% falls pushed under)."""
    rng = np.random.default_rng(2025)
    cfg = _venue(rng)
    bal, pos, cost, prices, mark = _accounts(rng, cfg, 0.25)
    out = U.value_accounts(cfg, prices, mark, bal, pos, cost, np.empty((N_ACC, U.N_V)))
    before = out[:, U.V_RATIO].copy()
    a = 17                                    # an altcoin
    rows = U.holders(bal, a)
    sp = S.to_sparse(bal, pos, cost)
    pol = cfg.policy[a]
    state = {"p": float(prices[a, pol])}
    if layout == "csr":
        fn = S.revalue_asset_sparse
        S.revalue_asset_sparse(cfg, a, state["p"], state["p"], sp, out)           # compile
    else:
        fn = U.revalue_asset
        U.revalue_asset(cfg, a, state["p"], state["p"], bal, rows[:10], out)      # compile

    def setup():                              # the altcoin falls 20% (again and again)
        old = state["p"]
        state["p"] = old * 0.8
        data = (sp,) if layout == "csr" else (bal, rows)
        return (cfg, a, old, state["p"], *data, out), {}

    benchmark.pedantic(fn, setup=setup, rounds=3 if QUICK else 15, iterations=1)
    p1 = prices.copy()
    p1[a, :] = state["p"]
    full_out = np.empty((N_ACC, U.N_V))
    t0 = time.perf_counter()
    U.value_accounts(cfg, p1, mark, bal, pos, cost, full_out)
    t_full = time.perf_counter() - t0
    fin = np.isfinite(full_out)
    assert np.allclose(out[fin], full_out[fin], rtol=1e-9, atol=1e-6)
    med = benchmark.stats.stats.median
    benchmark.extra_info.update(
        layout=layout, load_avg=os.getloadavg(), accounts=N_ACC, holders=int(len(rows)),
        incremental_s=med, ns_per_holder=med / len(rows) * 1e9, full_revaluation_s=t_full,
        below_takeover_before=int((before < 1.0).sum()),
        newly_below_takeover=int(((before >= 1.0) & (out[:, U.V_RATIO] < 1.0)).sum()))


# ----------------------------------------------------------------------
# re-valuation against the books' time for the orders a move causes
# ----------------------------------------------------------------------
#: a venue whose books are the valuation prices (policy ``mid``): 39 coins
#: against USDT and the 4 perps above, every book's mid at 10,000 ticks (a
#: 1 bp tick), a lot near 1 USD (as oct-10-2025's grid)
MARKS = np.array([100_000.0, 4_000.0, 200.0, 1.0])
TICKS_MID = 10_000
LEVELS = 1_000              # market makers' levels per side, every tick out to 10% from mid
DEPTH_2PCT = 0.02           # their bid within 2% of mid holds 2% of all accounts' holdings
ACCT_ORDERS = 2             # resting orders per account, on instruments it holds
MM_ACCOUNT = 1 << 40
OPEN_RATIO = (2.1, 12.0)    # margin ratio (uniMMR) at open, uniform: oct-10-2025's longs
N_BOOKS = N_ASSETS - 1 + N_PERPS
REPEAT = 2 if QUICK else 5


def _healthy_world(rng, n):
    """A venue and ``n`` unified accounts that are all above maintenance.

    ``_accounts`` above times the kernels but is no population a risk engine
    would face: 20% of its accounts are below takeover before any move (a
    median perp position of 250,000 USD notional against a median net equity
    of 20,000 USD).  Here each account holds each coin with
    probability 1/4 (lognormal USD value, median 3,000; 5% of the holdings are
    loans), each perp with probability 1/2 (lognormal notional, entry within
    5% of the mark), 2% of the accounts hold nothing, and the USDT balance
    (deposit or loan) puts the account at a margin ratio drawn from
    ``OPEN_RATIO``.  Returns ``(cfg, px, bal, pos, cost)``, ``px`` USD per
    unit."""
    px = np.r_[1.0, np.exp(rng.normal(0.0, 2.0, N_ASSETS - 1))]
    lot = np.r_[1, np.maximum(1, np.rint(1e8 / px[1:]))].astype(np.int64)     # ~1 USD
    assets = [AssetSpec("USDT", haircut=1.0, policy=U.SRC_ORACLE, cash=True)]
    for a in range(1, N_ASSETS):
        tiers = [(1e5, 0.95), (1.1e6, 0.9), (math.inf, 0.5)] if a < 10 else \
            [(5e4, float(rng.uniform(0.5, 0.9))), (math.inf, 0.3)]
        assets.append(AssetSpec(f"A{a}", lot_atoms=int(lot[a]), haircut=tiers, loan_im=0.2,
                                loan_mm=0.1, policy=U.SRC_MID))
    perps = [PerpSpec(f"P{m}", 0.001 * 10**m, [(2.5e5, 0.02, 0.01), (1e6, 0.05, 0.025),
                                               (math.inf, 0.1, 0.05)]) for m in range(N_PERPS)]
    cfg = build_config(assets, perps, quote=0)
    apu = cfg.atoms_per_unit
    held = rng.random((n, N_ASSETS)) < 0.25
    held[:, 0] = False
    bal = np.where(held, rng.lognormal(8.0, 1.5, (n, N_ASSETS)) / px * apu, 0.0)
    bal[held & (rng.random((n, N_ASSETS)) < 0.05)] *= -0.3
    empty = rng.random(n) < 0.02
    bal[empty] = 0
    bal = np.rint(bal).astype(np.int64)
    cs = cfg.contract_size
    opn = (rng.random((n, N_PERPS)) < 0.5) & ~empty[:, None]
    k = np.maximum(1, np.rint(rng.lognormal(8.0, 1.5, (n, N_PERPS)) / (cs * MARKS)))
    pos = (np.where(opn, k, 0) * rng.choice([-1, 1], (n, N_PERPS))).astype(np.int64)
    cost = np.rint(pos * cs * MARKS * rng.uniform(0.95, 1.05, (n, N_PERPS)) * apu[0]).astype(np.int64)
    v = U.value_accounts(cfg, _price_matrix(px), MARKS, bal, pos, cost, np.empty((n, U.N_V)))
    e0, m0 = v[:, U.V_EQUITY], v[:, U.V_MM]
    r = rng.uniform(*OPEN_RATIO, n)
    lmm = cfg.loan_mm[0]
    usdt = np.where(r * m0 >= e0, r * m0 - e0, -(e0 - r * m0) / (1.0 + lmm * r))   # deposit or loan
    usdt = np.where(m0 > 0, usdt, rng.lognormal(8.0, 1.5, n) * ~empty)
    bal[:, 0] = np.rint(usdt * apu[0]).astype(np.int64)
    return cfg, px, bal, pos, cost


def _price_matrix(px):
    p = U.price_matrix(len(px))
    p[:] = np.asarray(px, float)[:, None]
    return p


def _book_setup(rng, cfg, px, mark, bal, pos):
    """Messages that build the books at the prices ``px``/``mark``: market
    makers' ladders (every tick out to ``LEVELS``, size growing 1% per tick,
    the bid within 2% holding ``DEPTH_2PCT`` of the accounts' holdings of
    the asset) in shuffled arrival order, then ``ACCT_ORDERS`` resting limit
    orders per account on instruments it holds (1-10% of the holding, 1 to
    ``LEVELS`` ticks from mid, either side).  Returns ``(msgs, tick,
    account_orders)``, ``tick`` in quote units per tick per book."""
    apu, lot, cs = cfg.atoms_per_unit, cfg.lot_atoms, cfg.contract_size
    tick = np.r_[px[1:], mark] / TICKS_MID
    hold_usd = np.r_[np.abs(bal[:, 1:]).sum(0) / apu[1:] * px[1:], np.abs(pos).sum(0) * cs * MARKS]
    lot_usd = np.r_[lot[1:] / apu[1:] * px[1:], cs * MARKS]
    w = 1.0 + np.arange(1, LEVELS + 1) / 100.0
    lv = hold_usd * DEPTH_2PCT / w[:200].sum() / lot_usd
    d = np.arange(1, LEVELS + 1)
    mm = np.zeros((N_BOOKS, 2, LEVELS, 9), np.int64)
    mm[..., 1] = C.LIMIT
    mm[..., 2] = np.arange(N_BOOKS)[:, None, None]
    mm[:, 0, :, 3], mm[:, 1, :, 3] = C.BUY, C.SELL
    mm[..., 4] = 1 + np.arange(mm[..., 4].size).reshape(N_BOOKS, 2, LEVELS)
    mm[:, 0, :, 5], mm[:, 1, :, 5] = TICKS_MID - d, TICKS_MID + d
    mm[..., 6] = np.maximum(1, np.rint(lv[:, None, None] * w)).astype(np.int64)
    mm[..., 7] = MM_ACCOUNT
    mm = mm.reshape(-1, 9)
    mm = mm[rng.permutation(len(mm))]
    n = bal.shape[0]
    units = np.concatenate([np.abs(bal[:, 1:]) // lot[1:], np.abs(pos)], axis=1)
    rows = []
    for k in range(ACCT_ORDERS):
        pick = np.argmax(np.where(units > 0, rng.random(units.shape), -1.0), axis=1)
        ok = units[np.arange(n), pick] > 0
        i = np.nonzero(ok)[0]
        b = pick[ok]
        side = rng.integers(0, 2, len(i))
        dist = rng.integers(1, LEVELS + 1, len(i))
        m = np.zeros((len(i), 9), np.int64)
        m[:, 1] = C.LIMIT
        m[:, 2] = b
        m[:, 3] = side
        m[:, 4] = 10**9 + i * ACCT_ORDERS + k
        m[:, 5] = np.where(side == C.BUY, TICKS_MID - dist, TICKS_MID + dist)
        m[:, 6] = np.maximum(1, (units[i, b] * rng.uniform(0.01, 0.1, len(i))).astype(np.int64))
        m[:, 7] = i
        rows.append(m)
    acc = np.concatenate(rows)
    return np.ascontiguousarray(np.concatenate([mm, acc])), tick, acc


def _engine(setup_msgs):
    eng = Engine(N_BOOKS, order_capacity=1 << 19, level_capacity=1 << 18, chunks_per_side=64,
                 fill_capacity=1 << 16, event_capacity=1 << 18)
    eng.process(setup_msgs)
    return eng


def _book_prices(eng, tick, px, mark):
    """USD per unit from the books' mids (the last trade, else the previous
    price, where a side is empty)."""
    mid = np.full(N_BOOKS, np.nan)
    for b in range(N_BOOKS):
        (bp, _), (ap, _) = eng.best_bid(b), eng.best_ask(b)
        if bp > 0 and ap > 0:
            mid[b] = 0.5 * (bp + ap) * tick[b]
        elif eng.last_trade(b)[0] > 0:
            mid[b] = eng.last_trade(b)[0] * tick[b]
    new = np.r_[1.0, mid[:N_ASSETS - 1]], mid[N_ASSETS - 1:]
    return np.where(np.isfinite(new[0]), new[0], px), np.where(np.isfinite(new[1]), new[1], mark)


def _liquidate(cfg, rp, eng, tick, taken, bal, pos, cost, acc_orders, px, mark, max_rounds=10_000):
    """The orders the risk engine sends for the accounts ``taken`` over, as
    the simulation's engine sends them (``lob.sim.risk``): first a cancel of
    every resting order of theirs, then one slice per account in flight,
    decided by ``risk_engine.next_slice`` (``rp``: policy, slice size, market
    orders) from the account's rows, the books' mids and their liquidity
    (USD bid depth within 2%), until it is restored, empty or bankrupt.  Each
    round (one slice per active account) is processed by ``eng``; the fills
    are applied to the account (``spot_fill``/``perp_fill`` against one
    market row) and the liquidation fee charged (``charge_fee``), so that
    the next slice sees the liquidity really there.  Returns the rounds'
    messages (int64 ``[n, 9]`` each) and counts; asserts every asset is
    conserved."""
    n_t, n_a, n_p = len(taken), bal.shape[1], pos.shape[1]
    B = np.vstack([bal[taken], np.zeros((1, n_a), np.int64)])
    P = np.vstack([pos[taken], np.zeros((1, n_p), np.int64)])
    Cc = np.vstack([cost[taken], np.zeros((1, n_p), np.int64)])
    mkt, fund = n_t, np.zeros(1, np.int64)
    before = B.sum(0) - np.r_[Cc.sum(), np.zeros(n_a - 1, np.int64)]
    local = np.full(bal.shape[0], -1, np.int64)
    local[taken] = np.arange(n_t)
    cancels = acc_orders[local[acc_orders[:, 7]] >= 0].copy()
    cancels[:, 1] = C.CANCEL
    cancels[:, 5:7] = 0
    lot = cfg.lot_atoms
    step = np.zeros(n_t, np.int64)
    active = np.ones(n_t, bool)
    ref = np.full(n_a, np.nan)
    prices = _price_matrix(px)
    rounds, outcome, n_fills = [], {}, 0
    for r in range(max_rounds):
        score, pscore = np.zeros(n_a), np.zeros(n_p)
        for b in range(N_BOOKS):
            bid_lots = eng.depth_within(b, 200)[0]
            if b < n_a - 1:
                score[b + 1] = bid_lots * lot[b + 1] / cfg.atoms_per_unit[b + 1] * px[b + 1]
            else:
                m = b - (n_a - 1)
                pscore[m] = bid_lots * cfg.contract_size[m] * mark[m]
        sl, who = [], {}
        for j in np.nonzero(active)[0].tolist():
            act, item, idx, side, qty, _, _, _ = RE.next_slice(
                cfg, rp, prices, mark, B[j], P[j], Cc[j], int(fund[0]), score, pscore, ref,
                int(step[j]), True)
            if act != RE.ACT_SLICE:
                name = RE.ACT_NAMES[act]
                outcome[name] = outcome.get(name, 0) + 1
                active[j] = False
                continue
            b, lots = (idx - 1, int(qty) // int(lot[idx])) if item == RE.ITEM_ASSET else \
                (n_a - 1 + idx, int(qty))
            oid = 2 * 10**12 + r * 10**6 + len(who)
            who[oid] = (j, int(item), int(idx), int(side))
            sl.append((0, C.MARKET, b, side, oid, 0, lots, int(taken[j]), 0))
            step[j] += 1
        batch = [cancels] if r == 0 else []
        if sl:
            batch.append(np.array(sl, np.int64))
        if not batch:
            break
        batch = np.ascontiguousarray(np.concatenate(batch))
        rounds.append(batch)
        fills, _ = eng.process(batch)
        n_fills += len(fills)
        notional = np.zeros(n_t, np.int64)
        filled = np.zeros(n_t, np.int64)
        for f in fills.tolist():
            w = who.get(f[C.F_TAKER])
            if w is None:
                continue
            j, item, idx, side = w
            q, fpx = f[C.F_QTY], f[C.F_PRICE] * tick[f[C.F_BOOK]]
            buyer, seller = (j, mkt) if side == C.BUY else (mkt, j)
            if item == RE.ITEM_ASSET:
                notional[j] += U.spot_fill(cfg, B, buyer, seller, idx, q * lot[idx], fpx)
            else:
                notional[j] += perp_fill(cfg, P, Cc, B, buyer, seller, idx, q, fpx)[0]
            filled[j] += q
        px, mark = _book_prices(eng, tick, px, mark)
        prices = _price_matrix(px)
        for j in sorted({w[0] for w in who.values()}):
            if filled[j] == 0:                 # no liquidity: the slice stalls, the account stops
                outcome["stalled"] = outcome.get("stalled", 0) + 1
                active[j] = False
                continue
            v = U.value_one(cfg, prices, mark, B[j], P[j], Cc[j])
            RE.charge_fee(cfg, B, j, fund, notional[j], rp.fee_rate, v[U.V_NET], 1.0)
    after = B.sum(0) - np.r_[Cc.sum() - fund[0], np.zeros(n_a - 1, np.int64)]
    assert (after == before).all(), "the liquidation broke conservation of an asset"
    assert (P.sum(0) == pos[taken].sum(0)).all(), "the liquidation broke conservation of a perp"
    return rounds, dict(outcome=outcome, fills=n_fills, unfinished=int(active.sum()), px=px, mark=mark,
                        slices_q=[int(x) for x in np.quantile(step, [0.5, 0.9, 1.0])] if n_t else [])


#: price moves: (assets moved, factor, factor of the perps' marks)
MOVES = {
    "alt-20%": ([17], 0.8, 1.0),                          # one altcoin: incremental re-valuation
    "market-5%": (list(range(1, N_ASSETS)), 0.95, 0.95),  # every coin and perp
    "market-10%": (list(range(1, N_ASSETS)), 0.90, 0.90),
}


@pytest.mark.parametrize("move", list(MOVES))
def test_revalue_vs_resulting_orders(benchmark, move):
    """The issue's check, measured: re-valuing every account after a price
    move against the time the books take to process the orders that move
    causes, both in this run.

    A healthy population (``_healthy_world``; every account at a margin
    ratio of at least 2.1 before the move) is moved (``MOVES``); the accounts
    newly below takeover (ratio < 1) are liquidated with the risk engine's
    own slicing (``_liquidate``: cancels of their resting orders, then
    market-order slices, ``slice_frac`` 0.25 of the most liquid item, until
    they are back at ratio 1.2, as ``lob.sim.risk``'s defaults) against books
    at the post-move prices with market makers' depth and every account's
    resting orders.  Those orders are then timed on fresh, identical books
    (``Engine.process``: the benchmark's rounds, all orders in one call; and
    once more one call per risk-engine round) and, in the same rounds, right
    after each fresh book is built (so the caches hold the books, as after a
    busy market), the re-valuation: full (dense ``value_accounts`` and the
    CSR ``sparse.value_sparse``) and, for a one-asset move, incremental over
    the asset's holders (``revalue_asset`` and ``revalue_asset_sparse``).
    ``extra_info`` has every median, the ratios re-valuation / books (the
    median of the per-round ratios) and the load average."""
    load = [os.getloadavg()]
    rng = np.random.default_rng(2025)
    cfg, px, bal, pos, cost = _healthy_world(rng, N_ACC)
    moved, f, fm = MOVES[move]
    px1 = px.copy()
    px1[moved] *= f
    mark1 = MARKS * fm
    P0, P1 = _price_matrix(px), _price_matrix(px1)
    sp = S.to_sparse(bal, pos, cost)
    out0 = U.value_accounts(cfg, P0, MARKS, bal, pos, cost, np.empty((N_ACC, U.N_V)))
    assert (out0[:, U.V_RATIO] > 2.0).all()                      # nobody near takeover before
    full = U.value_accounts(cfg, P1, mark1, bal, pos, cost, np.empty((N_ACC, U.N_V)))
    assert np.array_equal(S.value_sparse(cfg, P1, mark1, sp, np.empty_like(full)), full,
                          equal_nan=True)                          # bit for bit
    rp = RE.risk_params(RE.ORDER_MOST_LIQUID, slice_frac=0.25, takeover_ratio=1.0, target_ratio=1.2,
                        fee_rate=0.005)
    taken = np.nonzero(full[:, U.V_RATIO] < rp.takeover_ratio)[0]
    setup, tick, acc_orders = _book_setup(np.random.default_rng(1), cfg, px1, mark1, bal, pos)
    eng = _engine(setup)
    rounds, info = _liquidate(cfg, rp, eng, tick, taken, bal, pos, cost, acc_orders, px1, mark1)
    orders = np.ascontiguousarray(np.concatenate(rounds))
    volume = [eng.volume(b) for b in range(N_BOOKS)]
    buf = Engine.output_buffer(4 * len(orders))
    buf.fill(1)
    incremental = len(moved) == 1 and fm == 1.0
    a = moved[0]
    rows = U.holders(bal, a)
    # the screen: built at the prices before the move (its cost is a full
    # valuation plus a sort, paid once per reference, not per move), against
    # the margin-call level, the highest ratio the risk engine acts on
    theta = rp.call_ratio
    SC.build_screen(cfg, P0, MARKS, S.to_sparse(bal[:10], pos[:10], cost[:10]), theta)   # compile
    t0 = time.perf_counter()
    sc = SC.build_screen(cfg, P0, MARKS, sp, theta, np.empty((N_ACC, U.N_V)))
    t_screen_build = time.perf_counter() - t0
    cand_rows = np.empty(N_ACC, np.int64)
    o_chk = out0.copy()
    n_cand = SC.screened_revalue(sc, cfg, P1, mark1, SC.BAND, sp, cand_rows, o_chk)
    cand = np.sort(cand_rows[:n_cand])
    assert set(np.nonzero(~(full[:, U.V_RATIO] >= theta))[0]) <= set(cand.tolist())   # none missed
    assert np.array_equal(o_chk[cand], full[cand], equal_nan=True)
    T = {k: [] for k in ("full_dense", "full_sparse", "incr_dense", "incr_sparse", "screen")}
    W = {k: [] for k in T}                       # the same call again at once: warm caches
    scan = []                                    # finding the holders in dense rows (U.holders)
    books = []

    def setup_round():
        """Fresh books (building them evicts the caches, as a busy market
        would), then the re-valuations after the move, each on its own copy
        of the valuations before it, dense and CSR taking turns to go first;
        each is called a second time at once (warm; an incremental one with
        the new price on both sides: the same work, no change)."""
        rep = len(books)
        outs = {k: out0.copy() for k in T}
        jobs = {
            "full_dense": lambda o, p0: U.value_accounts(cfg, P1, mark1, bal, pos, cost, o),
            "full_sparse": lambda o, p0: S.value_sparse(cfg, P1, mark1, sp, o),
            "incr_dense": lambda o, p0: U.revalue_asset(cfg, a, p0, px1[a], bal, rows, o),
            "incr_sparse": lambda o, p0: S.revalue_asset_sparse(cfg, a, p0, px1[a], sp, o),
            "screen": lambda o, p0: SC.screened_revalue(sc, cfg, P1, mark1, SC.BAND, sp, cand_rows, o),
        }
        pairs = [("screen", "incr_sparse", "incr_dense"), ("full_sparse", "full_dense")] if incremental \
            else [("screen", "full_sparse"), ("full_dense",)]
        e = _engine(setup)
        for pair in pairs:
            for k in (pair if rep % 2 == 0 else pair[::-1]):
                t0 = time.perf_counter()
                jobs[k](outs[k], px[a])
                t1 = time.perf_counter()
                jobs[k](outs[k], px1[a])
                W[k].append(time.perf_counter() - t1)
                T[k].append(t1 - t0)
        if incremental:
            t0 = time.perf_counter()
            U.holders(bal, a)
            scan.append(time.perf_counter() - t0)
        assert np.array_equal(outs["full_sparse"], full, equal_nan=True)
        assert np.array_equal(outs["full_dense"], full, equal_nan=True)
        assert np.array_equal(outs["screen"][cand], full[cand], equal_nan=True)
        if incremental:                       # CSR == dense bit for bit; both == full to rounding
            assert np.array_equal(outs["incr_sparse"], outs["incr_dense"], equal_nan=True)
            fin = np.isfinite(full)
            assert (np.isfinite(outs["incr_sparse"]) == fin).all()
            assert np.allclose(outs["incr_sparse"][fin], full[fin], rtol=1e-9, atol=1e-6)
        books.append(e)
        return (e,), {}

    def process(e):
        e.process(orders, out=buf)

    benchmark.pedantic(process, setup=setup_round, rounds=REPEAT, iterations=1)
    t_books = np.array(benchmark.stats.stats.data)
    e = books[-1]
    assert [e.volume(b) for b in range(N_BOOKS)] == volume     # the replay made the same trades
    e.check()
    per_round = []                                # one Engine.process call per risk-engine round
    for _ in range(2):
        e = _engine(setup)
        t0 = time.perf_counter()
        for batch in rounds:
            e.process(batch, out=buf)
        per_round.append(time.perf_counter() - t0)
    load.append(os.getloadavg())
    kinds = np.bincount(orders[:, 1], minlength=C.REDUCE + 1)
    med = {k: float(np.median(v)) for k, v in T.items() if v}
    warm = {k: float(np.median(v)) for k, v in W.items() if v}
    ratios = {f"ratio_{k}_to_books": float(np.median(np.array(v) / t_books)) for k, v in T.items() if v}
    benchmark.extra_info.update(
        move=move, accounts=N_ACC, nonzero_balances=int(len(sp.row_bal)), open_perps=int(len(sp.prow_pos)),
        holders_of_moved_asset=int(len(rows)) if incremental else None,
        taken_over=int(len(taken)), cancels=int(kinds[C.CANCEL]), slices=int(kinds[C.MARKET]),
        orders=int(len(orders)), orders_per_taken_account=len(orders) / max(1, len(taken)),
        slices_per_account_q50_q90_max=info["slices_q"], risk_engine_rounds=len(rounds),
        fills=info["fills"], outcome=info["outcome"], unfinished=info["unfinished"],
        books_one_call_s=float(np.median(t_books)), books_per_round_calls_s=float(np.median(per_round)),
        books_ns_per_order=float(np.median(t_books)) / len(orders) * 1e9,
        **{f"{k}_s": v for k, v in med.items()}, **{f"{k}_warm_s": v for k, v in warm.items()},
        holders_scan_dense_s=float(np.median(scan)) if scan else None, **ratios,
        sparse_speedup_full=med["full_dense"] / med["full_sparse"],
        screen_theta=theta, screen_candidates=int(n_cand), screen_build_s=t_screen_build,
        screen_candidates_below_theta=int((~(full[cand, U.V_RATIO] >= theta)).sum()),
        sparse_speedup_incremental=med["incr_dense"] / med["incr_sparse"] if incremental else None,
        load_avg_start=load[0], load_avg_end=load[1])
    print(f"\n{move}: {len(taken)} taken over, {len(orders)} orders ({kinds[C.CANCEL]} cancels, "
          f"{kinds[C.MARKET]} slices, {len(rounds)} rounds); books {np.median(t_books) * 1e3:.2f} ms "
          f"(per round {np.median(per_round) * 1e3:.2f} ms); "
          + "; ".join(f"{k} {v * 1e3:.3f} ms [warm {warm[k] * 1e3:.3f}] ({ratios[f'ratio_{k}_to_books']:.3f})"
                      for k, v in med.items())
          + f"; load {load[0][0]:.2f} -> {load[1][0]:.2f}")


def test_monitor_sequence(benchmark):
    """The screen kept up over a trading session: ``screen.AccountMonitor``
    on the healthy population above through 100 price moves (each step
    every coin and perp moves by 0.2% (s.d.); at steps 30 and 80 an altcoin
    falls 20%, at step 60 the market 3%; between steps 100 pairs of holders
    of a coin trade half of one's holding to the other: 200 accounts dirty a
    step, within the layout's pattern), against a full CSR
    re-valuation (``sparse.value_sparse``) at every step.  Each step's
    accounts below the margin-call level equal the full valuation's
    (asserted); the monitor's total includes its rebuilds."""
    rng = np.random.default_rng(2025)
    cfg, px, bal, pos, cost = _healthy_world(rng, N_ACC)
    theta = 1.5
    steps = 20 if QUICK else 100
    moves = []
    p, mk = _price_matrix(px), MARKS.copy()
    r = np.random.default_rng(3)
    for s in range(steps):
        p = p.copy()
        mk = mk.copy()
        p[1:] *= np.exp(r.normal(0, 0.002, (N_ASSETS - 1, 1)))
        mk *= np.exp(r.normal(0, 0.002, N_PERPS))
        if s in (30 * steps // 100, 80 * steps // 100):
            p[int(r.integers(1, N_ASSETS))] *= 0.8
        if s == 60 * steps // 100:
            p[1:] *= 0.97
            mk *= 0.97
        coins = r.integers(1, N_ASSETS, 100)
        traders = []
        for a in coins:                                # two holders of the coin
            h = U.holders(bal, int(a))
            traders += [int(x) for x in r.choice(h, 2, replace=False)]
        moves.append((p, mk, np.array(traders, np.int64), coins))
    SC.AccountMonitor(cfg, bal[:10], pos[:10], cost[:10], theta, prices=_price_matrix(px), mark=MARKS)

    def trade(b, traders, coins):
        for k in range(0, len(traders), 2):         # half of a holding changes hands
            i, j, a = int(traders[k]), int(traders[k + 1]), int(coins[k // 2])
            q = b[j, a] // 2
            b[i, a] += q
            b[j, a] -= q

    res = {}

    def run():
        b = bal.copy()
        t_check = t_update = 0.0
        mon = SC.AccountMonitor(cfg, b, pos, cost, theta, prices=_price_matrix(px), mark=MARKS)
        found = []
        for p1, m1, traders, coins in moves:
            trade(b, traders, coins)
            t0 = time.perf_counter()
            mon.update(traders, b, pos, cost)
            t1 = time.perf_counter()
            found.append(mon.check(p1, m1))
            t_check += time.perf_counter() - t1
            t_update += t1 - t0
        res.update(t_check=t_check, t_update=t_update, found=found, stats=dict(mon.stats), b=b)

    benchmark.pedantic(run, rounds=1 if QUICK else 3, iterations=1)
    # the same steps, every account re-valued (CSR), in the same process
    b = bal.copy()
    sp = S.to_sparse(b, pos, cost)
    out = np.empty((N_ACC, U.N_V))
    t_full = 0.0
    for (p1, m1, traders, coins), got in zip(moves, res["found"]):
        trade(b, traders, coins)
        if S.sync_rows(sp, b, pos, cost, traders):
            sp = S.to_sparse(b, pos, cost)
        t0 = time.perf_counter()
        S.value_sparse(cfg, p1, m1, sp, out)
        t_full += time.perf_counter() - t0
        assert got.tolist() == np.nonzero(~(out[:, U.V_RATIO] >= theta))[0].tolist()
    st = res["stats"]
    benchmark.extra_info.update(
        accounts=N_ACC, steps=steps, monitor_check_s=res["t_check"], monitor_update_s=res["t_update"],
        full_revaluation_s=t_full, ratio_monitor_to_full=(res["t_check"] + res["t_update"]) / t_full,
        rebuilds=st["rebuilds"], mean_candidates=st["candidates"] / steps, mean_below=st["below"] / steps,
        load_avg=os.getloadavg())
    print(f"\nmonitor over {steps} steps: checks {res['t_check'] * 1e3:.1f} ms + updates "
          f"{res['t_update'] * 1e3:.1f} ms (rebuilds {st['rebuilds']}, mean candidates "
          f"{st['candidates'] / steps:.0f}, below {st['below'] / steps:.0f}) vs full CSR "
          f"{t_full * 1e3:.1f} ms")
