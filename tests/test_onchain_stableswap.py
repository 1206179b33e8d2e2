"""Curve StableSwap pool: the contract's integer math, checked against the
whitepaper invariant (exact fractions), the published classic-pool model,
and a float re-implementation solved by bisection."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lob.onchain.ledger import WAD, InsufficientBalance, Ledger
from lob.onchain.stableswap import (A_PRECISION, FEE_DENOMINATOR, StableSwapPool, dynamic_fee,
                                    get_D, get_y, get_y_D)

M = 10**6 * WAD          # one million whole coins of 18 decimals


def make_pool(A=100, fee=4_000_000, bal=(50 * M, 50 * M), decimals=None, **kw):
    led = Ledger()
    coins = ["USDe", "USDC", "USDT"][:len(bal)]
    pool = StableSwapPool(led, coins, A, fee, decimals=decimals, **kw)
    for c, b in zip(coins, bal):
        led.mint("lp", c, b)
    pool.add_liquidity("lp", list(bal))
    return led, pool


# ----------------------------------------------------------------------
# references
# ----------------------------------------------------------------------
def invariant_residual(xp, A, D) -> Fraction:
    """Whitepaper invariant with the contracts' convention Ann = A * n:
    Ann*S + D - Ann*D - D**(n+1) / (n**n * prod), relative to D."""
    n = len(xp)
    Ann = Fraction(A * n)
    S = sum(Fraction(x) for x in xp)
    P = Fraction(1)
    for x in xp:
        P *= x
    D = Fraction(D)
    r = Ann * S + D - Ann * D - D ** (n + 1) / (n**n * P)
    return abs(r) / D


def classic_D(xp, A):
    """The classic pool model (curve-contract tests/simulation.py):
    D_P = D_P * D // (n * x) per coin, Ann = A * n, no A_PRECISION."""
    n, S = len(xp), sum(xp)
    D, Dprev, Ann = S, 0, A * n
    while abs(D - Dprev) > 1:
        D_P = D
        for x in xp:
            D_P = D_P * D // (n * x)
        Dprev = D
        D = (Ann * S + D_P * n) * D // ((Ann - 1) * D + (n + 1) * D_P)
    return D


def classic_y(xp, A, i, j, x):
    n = len(xp)
    D = classic_D(xp, A)
    xx = list(xp)
    xx[i] = x
    xx = [xx[k] for k in range(n) if k != j]
    Ann = A * n
    c = D
    for y in xx:
        c = c * D // (y * n)
    c = c * D // (n * Ann)
    b = sum(xx) + D // Ann - D
    y, y_prev = D, 0
    while abs(y - y_prev) > 1:
        y_prev = y
        y = (y * y + c) // (2 * y + b)
    return y


def float_D(xp, A):
    """Invariant solved by bisection in floats (units of 1e18)."""
    xs = [x / WAD for x in xp]
    n, S, P = len(xs), sum(xs), float(np.prod(xs))
    Ann = A * n

    def f(D):                      # decreasing in D on [0, S]
        return Ann * S + D - Ann * D - D ** (n + 1) / (n**n * P)

    lo, hi = 0.0, S
    for _ in range(200):
        mid = (lo + hi) / 2
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def float_dy(xp, A, i, j, dx, fee):
    """Output (whole coins) for dx (whole coins) from the float invariant,
    fee taken from the output."""
    xs = [x / WAD for x in xp]
    n = len(xs)
    D = float_D(xp, A)
    Ann = A * n
    others = [xs[k] + (dx if k == i else 0) for k in range(n) if k != j]
    S_, P_ = sum(others), float(np.prod(others))

    def g(y):                      # increasing in y
        return Ann * (S_ + y) + D - Ann * D - D ** (n + 1) / (n**n * P_ * y)

    lo, hi = 1e-30, D * 2
    for _ in range(300):
        mid = (lo + hi) / 2
        if g(mid) < 0:
            lo = mid
        else:
            hi = mid
    y = (lo + hi) / 2
    dy = xs[j] - y
    return dy * (1 - fee / FEE_DENOMINATOR)


# ----------------------------------------------------------------------
# the math
# ----------------------------------------------------------------------
def test_balanced_D_is_sum():
    for n in (2, 3):
        for A in (1, 10, 100, 1000, 10**5):
            xp = [7 * M] * n
            assert get_D(xp, A * A_PRECISION) == 7 * M * n


@pytest.mark.parametrize("A", [1, 50, 100, 1000, 5000])
@pytest.mark.parametrize("n", [2, 3])
def test_D_solves_the_whitepaper_invariant(A, n):
    rng = np.random.default_rng(A * 10 + n)
    for _ in range(20):
        xp = [int(v) * WAD // 1000 for v in rng.integers(1_000, 10**11, n)]
        D = get_D(xp, A * A_PRECISION)
        assert invariant_residual(xp, A, D) < Fraction(1, 10**15)
        assert abs(D - classic_D(xp, A)) <= 2 * n        # published model, rounding apart
        assert abs(D / WAD - float_D(xp, A)) <= 1e-9 * D / WAD


@pytest.mark.parametrize("A", [10, 100, 1000])
def test_get_y_matches_classic_model_and_keeps_D(A):
    rng = np.random.default_rng(A)
    for _ in range(20):
        xp = [int(v) * WAD for v in rng.integers(10**5, 10**8, 2)]
        amp = A * A_PRECISION
        D = get_D(xp, amp)
        x = xp[0] + int(rng.integers(1, 10**8)) * WAD
        y = get_y(0, 1, x, xp, amp, D)
        assert abs(y - classic_y(xp, A, 0, 1, x)) <= 2
        # D of the new balances equals D up to the integer rounding of y
        # (D is very sensitive to y when y is tiny, hence the bracket)
        assert get_D([x, y - 2], amp) <= D <= get_D([x, y + 2], amp)
        assert abs(get_D([x, y], amp) - D) <= D // 10**20
        # get_y_D with the pool's own D returns the balance itself
        assert abs(get_y_D(amp, 1, xp, D) - xp[1]) <= 2


def test_dynamic_fee():
    f = 1_000_000
    assert dynamic_fee(5 * M, 5 * M, f, FEE_DENOMINATOR) == f          # off: static fee
    assert dynamic_fee(5 * M, 5 * M, f, 2 * FEE_DENOMINATOR) == f      # balanced: base fee
    hi = dynamic_fee(9 * M, 1 * M, f, 2 * FEE_DENOMINATOR)
    # m*f / ((m-1)*4xy/(x+y)^2 + 1) with m = 2, 4xy/(x+y)^2 = 0.36
    assert hi == 2 * f * FEE_DENOMINATOR // (FEE_DENOMINATOR * 36 // 100 + FEE_DENOMINATOR)
    assert f < hi < 2 * f


# ----------------------------------------------------------------------
# the pool
# ----------------------------------------------------------------------
def test_exchange_fee_accounting_is_exact():
    led, pool = make_pool(A=200, fee=4_000_000, bal=(40 * M, 60 * M))
    led.mint("trader", "USDe", 3 * M)
    xp = pool.xp()
    amp = pool.amp
    dx = 3 * M
    D0 = get_D(xp, amp)
    x = xp[0] + dx
    y = get_y(0, 1, x, xp, amp, D0)
    gross = xp[1] - y - 1
    fee = gross * 4_000_000 // FEE_DENOMINATOR
    admin = fee * 5_000_000_000 // FEE_DENOMINATOR
    stored0, lp0 = list(pool.stored_balances), pool.balances
    assert pool.get_dy(0, 1, dx) == gross - fee
    r = pool.exchange("trader", 0, 1, dx)
    assert r.dy == gross - fee and r.fee == fee and r.admin_fee == admin
    assert pool.stored_balances == [stored0[0] + dx, stored0[1] - r.dy]
    assert pool.balances == [lp0[0] + dx, lp0[1] - r.dy - admin]
    assert led.balance("trader", "USDC") == r.dy and led.balance("trader", "USDe") == 0
    # before the fee D is kept (up to rounding); the LP fee raises it
    assert abs(get_D([x, y], amp) - D0) <= 4
    assert pool.D() > D0
    pool.check()
    led.check()
    # admin fees out: the pool keeps the LPs' share only
    pool.withdraw_admin_fees()
    assert led.balance("curve:fee_receiver", "USDC") == admin
    assert pool.stored_balances == pool.balances
    pool.check()
    led.check()


def test_balanced_pool_trades_one_to_one_less_fee():
    for A in (10, 100, 1000):
        _, pool = make_pool(A=A, fee=1_000_000)
        assert pool.state_price(0, 1) == WAD
        dy = pool.get_dy(0, 1, WAD)
        assert abs(dy / WAD - (1 - 1e-4)) < 1e-8
        dy = pool.get_dy(0, 1, 1000 * WAD)                 # 0.002% of the pool
        assert abs(dy / (1000 * WAD) - (1 - 1e-4)) < 2e-5 / A


def test_price_impact_grows_as_the_pool_imbalances():
    led, pool = make_pool(A=100, fee=1_000_000)
    led.mint("whale", "USDe", 200 * M)
    prices, states = [], []
    for _ in range(15):
        r = pool.exchange("whale", 0, 1, 5 * M)
        prices.append(r.price)
        states.append(pool.state_price(0, 1))
    assert all(a > b for a, b in zip(prices, prices[1:]))
    assert all(a > b for a, b in zip(states, states[1:]))
    # impact per chunk accelerates until the USDC side is nearly gone
    # (10 chunks = the whole USDe side), then the price is near zero
    drops = [a - b for a, b in zip(prices, prices[1:])]
    assert all(a < b for a, b in zip(drops[:9], drops[1:9]))
    assert prices[-1] < WAD // 20
    pool.check()
    led.check()


def dump_table(A, fractions=(0.1, 0.3, 0.5, 0.7), side=50 * M, fee=1_000_000):
    """For each fraction f of the USDe-side balance dumped in one go into a
    fresh balanced pool: (f, average price, marginal price after, USDC left)."""
    rows = []
    for f in fractions:
        led, pool = make_pool(A=A, fee=fee, bal=(side, side))
        dx = int(Fraction(repr(f)) * side)
        led.mint("whale", "USDe", dx)
        r = pool.exchange("whale", 0, 1, dx)
        rows.append((f, r.price / WAD, pool.state_price(0, 1) / WAD, pool.balances[1] / side))
        pool.check()
        led.check()
    return rows


def test_usde_dump_keeps_price_near_one_until_depletion():
    """The table is printed with ``pytest -s -k dump``."""
    fr = (0.1, 0.3, 0.5, 0.7, 0.9, 1.0, 1.5)
    t100, t1000 = dump_table(100, fr), dump_table(1000, fr)
    print("\nUSDe dump into a 50M/50M USDe/USDC pool, fee 1 bp "
          "(f, avg price, marginal price after, USDC left / 50M):")
    for A, t in ((100, t100), (1000, t1000)):
        for row in t:
            print(f"  A={A:5d}  f={row[0]:4.0%}  avg={row[1]:.5f}  "
                  f"marginal={row[2]:.5f}  usdc_left={row[3]:.4f}")
    by = {A: {r[0]: r for r in t} for A, t in ((100, t100), (1000, t1000))}
    # near 1 while the USDC side lasts ...
    assert by[100][0.5][2] > 0.98 and by[1000][0.5][2] > 0.998
    assert by[100][0.7][2] > 0.95 and by[1000][0.7][2] > 0.99
    # ... higher A holds the peg longer ...
    for f in fr[:-1]:
        assert by[1000][f][2] > by[100][f][2]
    # ... then collapses once the USDC side is nearly gone
    assert by[100][1.5][2] < 0.2 and by[1000][1.5][2] < 0.1
    assert by[1000][1.5][3] < 0.01


def test_float_bisection_agrees_with_integer_pool():
    rng = np.random.default_rng(7)
    for A in (10, 100, 1000):
        for _ in range(10):
            bal = tuple(int(v) * WAD for v in rng.integers(10**6, 10**8, 2))
            _, pool = make_pool(A=A, fee=4_000_000, bal=bal)
            dx_whole = int(rng.integers(1, 10**8))
            got = pool.get_dy(0, 1, dx_whole * WAD) / WAD
            ref = float_dy(pool.xp(), A, 0, 1, dx_whole, 4_000_000)
            assert abs(got - ref) <= 1e-9 * max(ref, 1.0)


def test_three_coin_pool_and_six_decimals():
    led = Ledger()
    pool = StableSwapPool(led, ["USDe", "USDC", "USDT"], 500, 1_000_000, decimals=[18, 6, 6])
    amts = [10 * 10**6 * 10**18, 10 * 10**6 * 10**6, 10 * 10**6 * 10**6]   # 10M each
    for c, a in zip(pool.coins, amts):
        led.mint("lp", c, a)
    pool.add_liquidity("lp", amts)
    assert pool.D() == 30 * 10**6 * WAD
    led.mint("t", "USDe", 10**6 * WAD)
    r = pool.exchange("t", 0, 2, 10**6 * WAD)
    assert 999_000 * 10**6 < r.dy < 10**6 * 10**6            # ~0.9999 USDT per USDe
    assert r.price == r.dy * 10**18 * WAD // (10**6 * WAD * 10**6)
    ref = float_dy([10 * 10**6 * WAD] * 3, 500, 0, 2, 10**6, 1_000_000)
    assert abs(r.dy / 10**6 - ref) < 1e-6
    pool.check()
    led.check()


def test_liquidity_add_remove_conserve():
    led, pool = make_pool(A=100, bal=(30 * M, 30 * M))
    lp0 = led.balance("lp", pool.lp_token)
    assert lp0 == 60 * M                                   # first mint = D
    led.mint("bob", "USDe", 10 * M)
    led.mint("bob", "USDC", 10 * M)
    r = pool.add_liquidity("bob", [10 * M, 10 * M])        # balanced: no fee
    assert r.lp == 20 * M and r.fees == (0, 0)
    led.mint("carol", "USDe", 10 * M)
    r2 = pool.add_liquidity("carol", [10 * M, 0])           # one-sided: imbalance fee
    assert r2.lp < 10 * M and r2.fees[0] > 0 and r2.fees[1] > 0
    assert pool.calc_withdraw_one_coin(r2.lp, 0) < 10 * M
    out = pool.remove_liquidity_one_coin("carol", r2.lp, 0)
    assert out.amounts[0] < 10 * M
    rb = pool.remove_liquidity("bob", r.lp)
    assert all(a > 0 for a in rb.amounts)
    assert sum(rb.amounts) >= 20 * M - 2                    # bob earned a share of carol's fees
    pool.check()
    led.check()
    # everyone out: the pool is emptied down to admin dust-free zero
    pool.remove_liquidity("lp", led.balance("lp", pool.lp_token))
    assert pool.total_supply == 0 and pool.stored_balances == [0, 0]
    led.check()


def test_failed_exchange_changes_nothing():
    led, pool = make_pool()
    led.mint("t", "USDe", 10 * WAD)
    before = (led.snapshot(), list(pool.stored_balances), list(pool.admin_balances))
    with pytest.raises(ValueError):
        pool.exchange("t", 0, 1, 10 * WAD, min_dy=10 * WAD)
    with pytest.raises(InsufficientBalance):
        pool.exchange("t", 0, 1, 11 * WAD)
    with pytest.raises(ValueError):
        pool.exchange("t", 0, 0, WAD)
    # the failed transfer happens before any state change
    assert before == (led.snapshot(), list(pool.stored_balances), list(pool.admin_balances))


def test_deterministic():
    def run():
        led, pool = make_pool(A=300, bal=(20 * M, 25 * M), offpeg_fee_multiplier=2 * FEE_DENOMINATOR)
        led.mint("a", "USDe", 30 * M)
        led.mint("a", "USDC", 30 * M)
        out = []
        for k in range(20):
            i = k % 2
            out.append(pool.exchange("a", i, 1 - i, (k + 1) * M // 3).dy)
        return out, pool.stored_balances, pool.admin_balances
    assert run() == run()
