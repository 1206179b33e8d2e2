"""Unified-account re-valuation benchmark (pytest-benchmark).

Run:  .venv/bin/python -m pytest benchmarks/test_margin_bench.py --benchmark-only
Re-values 100,000 accounts x 40 assets x 4 perps after a price move with the
compiled kernel (``lob.margin.unified.value_accounts``), times the pure-Python
reference (``value_account_ref``) on a subset of the same accounts, records
accounts/s and the per-account ratio in ``extra_info``, and asserts the
kernel's rows equal the reference's on that subset (bit for bit).  Two
holdings profiles: ``sparse`` (each account holds ~25% of the assets, half
the perps) and ``dense`` (every asset, every perp); the sparse one also with
the threaded kernel; and a 10% watch list (``value_accounts_rows``).
``book_s_for_one_slice_each`` puts the time next to what the books need for
the orders the move causes (one slice per account taken over, at 25M
msgs/s).  Timings are reported, not asserted.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest

from benchmarks.conftest import QUICK
from lob.margin import unified as U
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


KERNELS = {"serial": U.value_accounts, "parallel": U.value_accounts_parallel}
#: the matching engine's rate on the synthetic workload (README), to put the
#: re-valuation time next to the time the books take for the orders it causes
ENGINE_MSGS_PER_S = 25e6


@pytest.mark.parametrize("kernel, density", [("serial", 0.25), ("serial", 1.0),
                                             ("parallel", 0.25)],
                         ids=["sparse", "dense", "sparse-parallel"])
def test_revalue_accounts(benchmark, kernel, density):
    rng = np.random.default_rng(2025)
    cfg = _venue(rng)
    bal, pos, cost, prices, mark = _accounts(rng, cfg, density)
    out = np.empty((N_ACC, U.N_V))
    fn = KERNELS[kernel]
    fn(cfg, prices, mark, bal[:10], pos[:10], cost[:10], out[:10])   # compile
    moves = []

    def setup():      # a price move: every source of every asset, and the marks
        p = prices * np.exp(rng.normal(-0.05, 0.1, prices.shape))
        p[0] = 1.0
        mk = mark * np.exp(rng.normal(-0.05, 0.05, N_PERPS))
        moves.append((p, mk))
        return (cfg, p, mk, bal, pos, cost, out), {}

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
    med = benchmark.stats.stats.median
    t_eng = med / N_ACC
    taken = int((out[:, U.V_RATIO] < 1.0).sum())
    benchmark.extra_info.update(
        kernel=kernel, threads=_threads(kernel),
        accounts=N_ACC, assets=N_ASSETS, perps=N_PERPS, density=density,
        nonzero_balances=int((bal != 0).sum()), open_perps=int((pos != 0).sum()),
        engine_median_s=med, engine_accounts_per_s=N_ACC / med,
        engine_ns_per_account=t_eng * 1e9, ref_us_per_account=t_ref * 1e6,
        ratio_to_reference=t_ref / t_eng, taken_over_after_move=taken,
        # one slice order per account taken over (a lower bound on the
        # orders the move causes), at the engine's synthetic-workload rate
        book_s_for_one_slice_each=taken / ENGINE_MSGS_PER_S)


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


def test_revalue_after_one_asset_move(benchmark):
    """An altcoin crashes: only its holders are re-valued
    (``unified.revalue_asset``, incremental, equal to a full valuation to
    float rounding -- tested in tests/test_margin_unified.py).  Records the
    time next to the books' time for one slice per account it takes over,
    and the full re-valuation of every account for the same move."""
    rng = np.random.default_rng(2025)
    cfg = _venue(rng)
    bal, pos, cost, prices, mark = _accounts(rng, cfg, 0.25)
    out = U.value_accounts(cfg, prices, mark, bal, pos, cost, np.empty((N_ACC, U.N_V)))
    a = 17                                    # an altcoin
    rows = U.holders(bal, a)
    pol = cfg.policy[a]
    state = {"p": float(prices[a, pol])}
    U.revalue_asset(cfg, a, state["p"], state["p"], bal, rows[:10], out)          # compile

    def setup():                              # the altcoin falls 20% (again and again)
        old = state["p"]
        state["p"] = old * 0.8
        return (cfg, a, old, state["p"], bal, rows, out), {}

    benchmark.pedantic(U.revalue_asset, setup=setup, rounds=3 if QUICK else 15, iterations=1)
    p1 = prices.copy()
    p1[a, :] = state["p"]
    full_out = np.empty((N_ACC, U.N_V))
    t0 = time.perf_counter()
    U.value_accounts(cfg, p1, mark, bal, pos, cost, full_out)
    t_full = time.perf_counter() - t0
    fin = np.isfinite(full_out)
    assert np.allclose(out[fin], full_out[fin], rtol=1e-9, atol=1e-6)
    newly = int((out[rows, U.V_RATIO] < 1.0).sum())
    med = benchmark.stats.stats.median
    benchmark.extra_info.update(
        accounts=N_ACC, holders=int(len(rows)), incremental_s=med, full_revaluation_s=t_full,
        taken_over_holders=newly, book_s_for_one_slice_each=newly / ENGINE_MSGS_PER_S,
        ratio_incremental_to_book=med / max(newly / ENGINE_MSGS_PER_S, 1e-12))
