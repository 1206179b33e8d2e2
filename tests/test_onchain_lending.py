"""Aave-like lending protocol: hand-computed health factors, borrow limits,
liquidations, interest accrual and oracle-policy switches."""
from __future__ import annotations

from fractions import Fraction

import pytest

from lob.onchain.ledger import BPS, RAY, SECONDS_PER_YEAR, WAD, Ledger
from lob.onchain.lending import (InterestRateModel, LendingError, LendingProtocol,
                                 MarketConfig, compounded_interest, linear_interest, ray_mul)
from lob.onchain.oracles import AmmSpotOracle, CallableOracle, FixedPriceOracle, RoutedOracle
from lob.onchain.stableswap import StableSwapPool

FLAT5 = InterestRateModel.from_percent(optimal=90, base=5, slope1=0, slope2=0)


def setup(rate_model=None, eth_price="2000", protocol_fee_bps=1000):
    led = Ledger()
    oracle = FixedPriceOracle({"ETH": eth_price, "USDC": "1", "USDe": "1"})
    lp = LendingProtocol(led, "aave")
    kw = {} if rate_model is None else {"rate_model": rate_model}
    lp.add_market(MarketConfig("ETH", 8000, 8250, 500, protocol_fee_bps), oracle)
    lp.add_market(MarketConfig("USDC", 7500, 7800, 450, **kw), oracle)
    led.mint("bob", "USDC", 1_000_000 * WAD)
    lp.supply("bob", "USDC", 1_000_000 * WAD, 0)
    led.mint("alice", "ETH", 10 * WAD)
    lp.supply("alice", "ETH", 10 * WAD, 0)
    return led, lp, oracle


def test_health_factor_and_borrow_limit():
    led, lp, _ = setup()
    lp.borrow("alice", "USDC", 10_000 * WAD, 0)
    acc = lp.account("alice", 0)
    assert acc.total_collateral == 20_000 * WAD
    assert acc.total_debt == 10_000 * WAD
    assert acc.health_factor == 165 * WAD // 100                # 20000 * 0.825 / 10000
    assert acc.available_borrows == 6_000 * WAD                  # 20000 * 0.80 - 10000
    assert acc.ltv_bps == 8000 and acc.liquidation_threshold_bps == 8250
    assert lp.max_borrowable("alice", "USDC", 0) == 6_000 * WAD
    with pytest.raises(LendingError):
        lp.borrow("alice", "USDC", 6_000 * WAD + 1, 0)
    lp.borrow("alice", "USDC", 6_000 * WAD, 0)
    acc = lp.account("alice", 0)
    assert acc.health_factor == WAD * 16_500 // 16_000          # 1.03125
    assert acc.available_borrows == 0
    assert led.balance("alice", "USDC") == 16_000 * WAD
    led.check()


def test_max_withdraw_keeps_hf_at_one():
    led, lp, _ = setup()
    lp.borrow("alice", "USDC", 10_000 * WAD, 0)
    # (10 - w) * 2000 * 0.825 >= 10000  <=>  w <= 10 - 6.0606...
    w = lp.max_withdrawable("alice", "ETH", 0)
    exact = Fraction(10) - Fraction(10_000, 2000) / Fraction(825, 1000)
    assert abs(Fraction(w, WAD) - exact) < Fraction(2, WAD)
    with pytest.raises(LendingError):
        lp.withdraw("alice", "ETH", w + 1, 0)
    lp.withdraw("alice", "ETH", w, 0)
    assert not lp.is_liquidatable("alice", 0)
    assert lp.health_factor("alice", 0) >= WAD
    led.check()


def test_liquidation_with_bonus_close_factor_and_protocol_fee():
    led, lp, oracle = setup()
    lp.borrow("alice", "USDC", 16_000 * WAD, 0)
    assert not lp.is_liquidatable("alice", 0)
    with pytest.raises(LendingError):
        lp.liquidate("liq", "alice", "ETH", "USDC", None, 0)
    oracle.set_price("ETH", "1900")
    acc = lp.account("alice", 0)
    # 19000 * 0.825 / 16000 = 0.9796875 > 0.95 -> close factor 50%
    assert acc.health_factor == WAD * 15_675 // 16_000
    assert acc.liquidatable
    led.mint("liq", "USDC", 20_000 * WAD)
    snap_before = led.snapshot()
    r = lp.liquidate("liq", "alice", "ETH", "USDC", None, 0)
    assert r.close_factor_bps == 5000
    assert r.debt_repaid == 8_000 * WAD
    # base = 8000 / 1900 ETH; seized = base * 1.05; bonus part = seized - base;
    # protocol fee = 10% of the bonus part; liquidator gets 8000*1.05/1900 - fee = 4.4 ETH
    base = 8_000 * WAD * WAD // (1900 * WAD)
    seized = (base * 10_500 + 5_000) // 10_000
    bonus_part = seized - (seized * 10_000 + 5_250) // 10_500
    fee = (bonus_part * 1_000 + 5_000) // 10_000
    assert r.collateral_seized == seized
    assert r.protocol_fee == fee
    assert r.collateral_to_liquidator == seized - fee == 44 * WAD // 10
    assert led.balance("liq", "ETH") == 44 * WAD // 10
    assert led.balance("liq", "USDC") == 12_000 * WAD
    assert lp.collateral_balance("aave:treasury", "ETH", 0) == fee
    assert lp.collateral_balance("alice", "ETH", 0) == 10 * WAD - seized
    assert lp.debt_balance("alice", "USDC", 0) == 8_000 * WAD
    # after: (10 - 4.4210526) * 1900 * 0.825 / 8000 = 10600 * 0.825 / 8000 = 1.093125
    assert abs(lp.health_factor("alice", 0) - 1_093_125 * 10**12) < 10**4
    # token moves: exactly the liquidator's payment and the collateral paid out
    diff = {k: led.snapshot().get(k, 0) - snap_before.get(k, 0)
            for k in set(led.snapshot()) | set(snap_before)}
    assert {k: v for k, v in diff.items() if v} == {
        ("liq", "USDC"): -8_000 * WAD, ("aave", "USDC"): 8_000 * WAD,
        ("liq", "ETH"): 44 * WAD // 10, ("aave", "ETH"): -44 * WAD // 10}
    led.check()


def test_deep_liquidation_full_close_factor_capped_by_collateral():
    led, lp, oracle = setup(protocol_fee_bps=0)
    lp.borrow("alice", "USDC", 16_000 * WAD, 0)
    oracle.set_price("ETH", "1500")     # HF = 15000 * 0.825 / 16000 = 0.7734 <= 0.95
    led.mint("liq", "USDC", 20_000 * WAD)
    r = lp.liquidate("liq", "alice", "ETH", "USDC", None, 0)
    assert r.close_factor_bps == 10_000
    # 16000 * 1.05 / 1500 = 11.2 ETH > 10 ETH held: all 10 ETH seized,
    # repaid = 10 * 1500 / 1.05 = 14285.714285...
    assert r.collateral_seized == 10 * WAD
    assert abs(Fraction(r.debt_repaid, WAD) - Fraction(15_000 * 100, 105)) < Fraction(1, 10**17)
    assert lp.collateral_balance("alice", "ETH", 0) == 0
    left = lp.debt_balance("alice", "USDC", 0)
    assert left == 16_000 * WAD - r.debt_repaid                  # bad debt stays on the books
    led.check()


def test_receive_atoken_and_partial_cover():
    led, lp, oracle = setup()
    lp.borrow("alice", "USDC", 16_000 * WAD, 0)
    oracle.set_price("ETH", "1900")
    led.mint("liq", "USDC", 1_000 * WAD)
    r = lp.liquidate("liq", "alice", "ETH", "USDC", 1_000 * WAD, 0, receive_atoken=True)
    assert r.debt_repaid == 1_000 * WAD
    assert led.balance("liq", "ETH") == 0
    assert abs(lp.collateral_balance("liq", "ETH", 0) - r.collateral_to_liquidator) <= 1
    assert abs(Fraction(r.collateral_to_liquidator, WAD)
               - Fraction(1000, 1900) * Fraction(105, 100)
               + Fraction(1000, 1900) * Fraction(5, 100) / 10) < Fraction(1, 10**15)
    led.check()


def test_interest_accrual_over_a_year():
    led, lp, _ = setup(rate_model=FLAT5)
    led.mint("alice", "ETH", 100 * WAD)
    lp.supply("alice", "ETH", 100 * WAD, 0)
    lp.borrow("alice", "USDC", 100_000 * WAD, 0)
    m = lp.market("USDC")
    assert m.borrow_rate == 5 * RAY // 100
    # U = 100k / (900k + 100k) = 10%; supply rate = 5% * 10% * (1 - 10%) = 0.45%
    assert m.liquidity_rate == 45 * RAY // 10_000
    Y = SECONDS_PER_YEAR
    debt = lp.debt_balance("alice", "USDC", Y)
    # Aave's 3-term expansion of (1 + r/Y)**Y: 1 + r + Y(Y-1)/2 (r/Y)^2 + Y(Y-1)(Y-2)/6 (r/Y)^3
    r = Fraction(5, 100)
    taylor = 1 + r + Fraction(Y * (Y - 1), 2) * (r / Y) ** 2 + Fraction(Y * (Y - 1) * (Y - 2), 6) * (r / Y) ** 3
    # integer version, term by term as MathUtils.calculateCompoundedInterest:
    rr = 5 * RAY // 100
    p2 = (rr * rr + RAY // 2) // RAY // (Y * Y)
    p3 = (p2 * rr + RAY // 2) // RAY // Y          # = 3: Aave's truncation eats 1/4 of term 3
    factor = RAY + rr * Y // Y + Y * (Y - 1) * p2 // 2 + Y * (Y - 1) * (Y - 2) * p3 // 6
    assert debt == (100_000 * WAD * factor + RAY // 2) // RAY
    # 105,126.57 USDC: the Taylor value 105,127.08 less ~0.52 of that truncation
    assert abs(Fraction(debt, WAD) - 100_000 * taylor) < Fraction(6, 10)
    assert 105_126 * WAD < debt < 105_128 * WAD                 # ~ e**0.05 = 1.0512711
    # suppliers: linear 0.45% -> exactly 1,004,500
    assert lp.collateral_balance("bob", "USDC", Y) == 1_004_500 * WAD
    # the views do not move state; an action at Y accrues the same numbers
    led.mint("alice", "USDC", 10 * WAD)
    lp.repay("alice", "USDC", 10 * WAD, Y)
    assert lp.debt_balance("alice", "USDC", Y) == debt - 10 * WAD
    assert lp.collateral_balance("bob", "USDC", Y) == 1_004_500 * WAD
    # treasury got 10% of the debt interest
    tre = lp.collateral_balance("aave:treasury", "USDC", Y)
    assert abs(Fraction(tre, WAD) - Fraction(debt - 100_000 * WAD, WAD) / 10) < Fraction(1, 10**12)
    assert lp.solvency("USDC", Y) >= 0
    with pytest.raises(LendingError):
        lp.accrue("USDC", Y - 1)
    led.check()


def test_rate_model_kink():
    m = InterestRateModel.from_percent(optimal=80, base=1, slope1=4, slope2=100)
    br, lr, u = m.rates(80 * WAD, 20 * WAD, 1000)          # U = 80%: at the kink
    assert u == 8 * RAY // 10 and br == 5 * RAY // 100
    br, lr, u = m.rates(90 * WAD, 10 * WAD, 1000)          # U = 90%: half way up slope2
    assert br == (1 + 4 + 50) * RAY // 100
    assert lr == ray_mul(br, u) * 9 // 10
    assert linear_interest(br, SECONDS_PER_YEAR) == RAY + br
    assert compounded_interest(br, 0) == RAY


def test_repay_all_and_withdraw_all():
    led, lp, _ = setup(rate_model=FLAT5)
    lp.borrow("alice", "USDC", 1_000 * WAD, 0)
    t = 86_400 * 30
    d = lp.debt_balance("alice", "USDC", t)
    assert d > 1_000 * WAD
    led.mint("alice", "USDC", d - 1_000 * WAD)
    r = lp.repay("alice", "USDC", None, t)
    assert r.amount == d and lp.debt_balance("alice", "USDC", t) == 0
    lp.withdraw("alice", "ETH", None, t)
    assert led.balance("alice", "ETH") == 10 * WAD
    assert lp.account("alice", t).total_collateral == 0
    led.check()


def test_oracle_policy_switch_decides_liquidation():
    """A USDe loop is safe when USDe is priced at its redemption value and
    liquidatable when priced off a depegged book."""
    led = Ledger()
    peg = FixedPriceOracle({"USDe": "1", "USDC": "1"})
    book_mid = {"USDe": Fraction(65, 100)}
    book = CallableOracle(lambda a, now: book_mid[a], numeric=True)
    lp = LendingProtocol(led)
    lp.add_market(MarketConfig("USDe", 9000, 9300, 200), peg)
    lp.add_market(MarketConfig("USDC", 7500, 7800, 450), peg)
    led.mint("bob", "USDC", 10**6 * WAD)
    lp.supply("bob", "USDC", 10**6 * WAD, 0)
    led.mint("looper", "USDe", 368_928 * WAD)
    lp.supply("looper", "USDe", 368_928 * WAD, 0)
    lp.borrow("looper", "USDC", 268_928 * WAD, 0)
    # peg: HF = 368928 * 0.93 / 268928 = 1.2758
    assert lp.health_factor("looper", 0) == 368_928 * 93 * WAD // (268_928 * 100)
    assert not lp.is_liquidatable("looper", 0)
    lp.set_oracle("USDe", book)
    # book at 0.65: HF = 368928 * 0.65 * 0.93 / 268928 = 0.8293 -> liquidatable, 100% close factor
    assert lp.price("USDe", 0) == 65 * WAD // 100
    assert lp.is_liquidatable("looper", 0)
    q = lp.liquidation_quote("looper", "USDe", "USDC", None, 0)
    assert q["close_factor_bps"] == 10_000
    lp.set_oracle("USDe", RoutedOracle({"USDe": peg}))
    assert not lp.is_liquidatable("looper", 0)
    led.check()


def test_amm_spot_oracle_follows_the_pool():
    led = Ledger()
    pool = StableSwapPool(led, ["USDe", "USDC"], 100, 1_000_000)
    led.mint("lp", "USDe", 10**7 * WAD)
    led.mint("lp", "USDC", 10**7 * WAD)
    pool.add_liquidity("lp", [10**7 * WAD, 10**7 * WAD])
    o = AmmSpotOracle(pool, "USDC")
    assert o.price("USDe", 0) == WAD
    led.mint("w", "USDe", 9 * 10**6 * WAD)
    pool.exchange("w", 0, 1, 9 * 10**6 * WAD)
    p = o.price("USDe", 0)
    assert p == pool.state_price(0, 1) < 9 * WAD // 10
    assert o.price("USDC", 0) == WAD


def test_config_validation_and_errors():
    with pytest.raises(ValueError):
        MarketConfig("X", 9000, 8000)                  # LTV > LT
    with pytest.raises(ValueError):
        MarketConfig("X", 9000, 9700, 500)             # LT * (1 + bonus) > 100%
    led, lp, _ = setup()
    with pytest.raises(LendingError):
        lp.borrow("carol", "USDC", WAD, 0)              # no collateral
    with pytest.raises(LendingError):
        lp.withdraw("alice", "ETH", 11 * WAD, 0)
    with pytest.raises(LendingError):
        lp.market("DOGE")
    assert BPS == 10_000


def test_random_operations_conserve_every_asset():
    import numpy as np
    rng = np.random.default_rng(2025)
    led, lp, oracle = setup(rate_model=InterestRateModel.from_percent(80, 1, 4, 75))
    users = [f"u{k}" for k in range(6)]
    for u in users:
        led.mint(u, "ETH", 50 * WAD)
        led.mint(u, "USDC", 50_000 * WAD)
    led.mint("liq", "USDC", 10**7 * WAD)
    now, ok = 0, 0
    for step in range(400):
        now += int(rng.integers(0, 6 * 3600))
        if rng.random() < 0.05:
            oracle.set_price("ETH", int(rng.integers(800, 3000)) * WAD)
        u = users[int(rng.integers(len(users)))]
        a = "ETH" if rng.random() < 0.5 else "USDC"
        amt = int(rng.integers(1, 20_000)) * WAD // (1000 if a == "ETH" else 1)
        op = int(rng.integers(5))
        try:
            if op == 0:
                lp.supply(u, a, min(amt, led.balance(u, a)) or 1, now)
            elif op == 1:
                lp.withdraw(u, a, amt, now)
            elif op == 2:
                lp.borrow(u, a, amt, now)
            elif op == 3:
                lp.repay(u, a, min(amt, led.balance(u, a)) or None, now)
            else:
                for v in users:
                    if lp.is_liquidatable(v, now) and lp.debt_balance(v, "USDC", now) \
                            and lp.collateral_balance(v, "ETH", now):
                        lp.liquidate("liq", v, "ETH", "USDC", None, now)
            ok += 1
        except (LendingError, ValueError):
            pass
        led.check()
        for asset in ("ETH", "USDC"):
            m = lp.market(asset)
            assert m.scaled_supply_total == sum(m.scaled_supply.values())
            assert m.scaled_debt_total == sum(m.scaled_debt.values())
            # cash + debt covers every supply position (up to rounding wei)
            assert lp.solvency(asset, now) >= -10 * len(m.scaled_supply)
    assert ok > 150
