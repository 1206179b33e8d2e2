"""The USDe loop: the mission's numbers, building on a lending protocol
through a fixed-price venue and a Curve pool, unwinding, populations."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lob.onchain.ledger import WAD, Ledger
from lob.onchain.lending import LendingProtocol, MarketConfig
from lob.onchain.loops import (break_even_price, build_loop, build_population, leverage,
                               liquidation_price, loop_position, sample_loopers, unwind_loop)
from lob.onchain.oracles import FixedPriceOracle
from lob.onchain.stableswap import StableSwapPool
from lob.onchain.venues import FixedPriceVenue

K = 1000 * WAD


def world(usde_ltv=8000, usde_lt=8500, usdc_cash=10**7 * WAD):
    led = Ledger()
    oracle = FixedPriceOracle({"USDe": "1", "USDC": "1"})
    lp = LendingProtocol(led)
    lp.add_market(MarketConfig("USDe", usde_ltv, usde_lt, 500), oracle)
    lp.add_market(MarketConfig("USDC", 7500, 7800, 450), oracle)
    led.mint("lender", "USDC", usdc_cash)
    lp.supply("lender", "USDC", usdc_cash, 0)
    venue = FixedPriceVenue(led, {"USDe": "1", "USDC": "1"}, dealer="dealer")
    led.mint("dealer", "USDe", 10**8 * WAD)
    led.mint("dealer", "USDC", 10**8 * WAD)
    return led, lp, oracle, venue


def test_mission_numbers_closed_form():
    coll, debt = loop_position(100_000, Fraction(8, 10), 5)
    assert coll == 368_928 and debt == 268_928
    assert coll > 360_000
    be = break_even_price(coll, debt)
    assert be == Fraction(268_928, 368_928)
    assert abs(float(be) - 0.72894) < 1e-5          # a fall of 27.1% wipes the principal
    assert abs(float(leverage(coll, debt)) - 3.68928) < 1e-12
    # liquidation (HF = 1) comes first: at LT 85% when USDe is at 0.8576
    assert abs(float(liquidation_price(coll, debt, Fraction(85, 100))) - 0.85758) < 1e-5
    # 4 rounds: 336,160 -- "4-5 rounds take the position to nearly 4x"
    assert loop_position(100_000, 0.8, 4)[0] == 336_160


def test_mission_numbers_on_chain():
    led, lp, oracle, venue = world()
    led.mint("alice", "USDe", 100 * K)
    r = build_loop(lp, venue, "alice", 100 * K, now=0, rounds=5, ltv_bps=8000)
    assert r.rounds_done == 5
    assert r.supplied == 368_928 * WAD and r.borrowed == 268_928 * WAD
    acc = lp.account("alice", 0)
    assert acc.total_collateral == 368_928 * WAD and acc.total_debt == 268_928 * WAD
    assert acc.equity == 100 * K
    # the break-even price, to the wei: equity >= 0 at ceil(BE), < 0 one wei below
    be = Fraction(268_928, 368_928)
    p_be = -(-be.numerator * WAD // be.denominator)
    oracle.set_price("USDe", p_be)
    assert lp.account("alice", 0).equity >= 0
    oracle.set_price("USDe", p_be - 1)
    assert lp.account("alice", 0).equity < 0
    assert lp.is_liquidatable("alice", 0)
    # a 25% fall leaves ~7.5% of the principal ...
    oracle.set_price("USDe", "0.75")
    assert lp.account("alice", 0).equity == 368_928 * 3 * WAD // 4 - 268_928 * WAD
    led.check()


def test_ltv_of_max_and_limits():
    led, lp, _, venue = world(usde_ltv=9000, usde_lt=9300)
    led.mint("a", "USDe", 100 * K)
    r = build_loop(lp, venue, "a", 100 * K, now=0, rounds=2, ltv_of_max_bps=8000)
    assert r.ltv_bps == 7200
    assert r.supplied == (100 + 72 + Fraction(72 * 72, 100)) * K
    with pytest.raises(ValueError):
        build_loop(lp, venue, "a", 0, now=0, rounds=1, ltv_bps=9100)   # above the market's LTV
    led.check()


def test_loop_stops_when_the_market_runs_dry():
    led, lp, _, venue = world(usdc_cash=150 * K)
    led.mint("a", "USDe", 100 * K)
    r = build_loop(lp, venue, "a", 100 * K, now=0, rounds=5, ltv_bps=8000)
    assert r.borrowed == 150 * K                       # 80 + 64, then the last 6 available
    assert r.rounds_done == 3
    assert lp.cash("USDC") == 0
    led.check()


def test_loop_through_curve_pool_and_unwind():
    led, lp, _, _ = world()
    pool = StableSwapPool(led, ["USDe", "USDC"], 200, 4_000_000)
    led.mint("lp", "USDe", 50_000 * K)
    led.mint("lp", "USDC", 50_000 * K)
    pool.add_liquidity("lp", [50_000 * K, 50_000 * K])
    led.mint("alice", "USDe", 100 * K)
    r = build_loop(lp, pool, "alice", 100 * K, now=0, rounds=5, ltv_bps=8000)
    # fees and a little impact: slightly less than 368,928
    assert 368_000 * WAD < r.supplied < 368_928 * WAD
    assert r.swapped_in == r.borrowed
    u = unwind_loop(lp, pool, "alice", now=0)
    assert u.completed and u.debt_left == 0
    assert lp.account("alice", 0).total_collateral == 0
    wealth = led.balance("alice", "USDe") + led.balance("alice", "USDC")
    assert 99_500 * WAD < wealth < 100 * K               # round trips cost the fees
    pool.check()
    led.check()


def test_unwind_at_par_returns_the_principal_exactly():
    led, lp, _, venue = world()
    led.mint("a", "USDe", 100 * K)
    build_loop(lp, venue, "a", 100 * K, now=0, rounds=5, ltv_bps=8000)
    u = unwind_loop(lp, venue, "a", now=0)
    assert u.completed and u.repaid == 268_928 * WAD and u.sold == 268_928 * WAD
    assert led.balance("a", "USDe") + led.balance("a", "USDC") == 100 * K
    assert u.steps > 1
    led.check()


def test_unwind_stuck_when_underwater():
    led, lp, oracle, venue = world()
    led.mint("a", "USDe", 100 * K)
    build_loop(lp, venue, "a", 100 * K, now=0, rounds=5, ltv_bps=8000)
    oracle.set_price("USDe", "0.8")        # HF = 368928 * 0.8 * 0.85 / 268928 = 0.933
    venue.set_price("USDe", "0.8")
    u = unwind_loop(lp, venue, "a", now=0)
    assert not u.completed and u.steps == 0 and u.debt_left == 268_928 * WAD
    led.check()


def test_population_is_deterministic_and_conserves():
    specs1 = sample_loopers(np.random.default_rng(42), 40, max_ltv_bps=8000)
    specs2 = sample_loopers(np.random.default_rng(42), 40, max_ltv_bps=8000)
    assert specs1 == specs2
    assert specs1 != sample_loopers(np.random.default_rng(43), 40, max_ltv_bps=8000)
    assert all(6000 <= s.ltv_bps <= 8000 and 1 <= s.rounds <= 5 for s in specs1)
    assert all(s.principal % (10**16) == 0 for s in specs1)        # whole cents
    with pytest.raises(TypeError):
        sample_loopers(np.random, 3)
    led, lp, _, _ = world(usdc_cash=10**8 * WAD)
    pool = StableSwapPool(led, ["USDe", "USDC"], 500, 1_000_000)
    led.mint("lp", "USDe", 10**8 * WAD)
    led.mint("lp", "USDC", 10**8 * WAD)
    pool.add_liquidity("lp", [10**8 * WAD, 10**8 * WAD])
    loops = build_population(lp, pool, specs1, now=0)
    assert [x.rounds_done for x in loops] == [s.rounds for s in specs1]
    total_coll = sum(x.supplied for x in loops)
    total_principal = sum(s.principal for s in specs1)
    assert total_coll > 2 * total_principal                      # the collateral illusion
    for x, s in zip(loops, specs1):
        acc = lp.account(s.user, 0)
        assert acc.total_collateral * s.ltv_bps // 10_000 >= acc.total_debt
    # the population's buying pushed USDe above par on the pool
    assert pool.state_price(0, 1) > WAD
    pool.check()
    led.check()
