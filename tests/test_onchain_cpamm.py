"""Constant-product pool and the ledger."""
from __future__ import annotations

from math import isqrt

import pytest

from lob.onchain.cpamm import MINIMUM_LIQUIDITY, ConstantProductPool, get_amount_in, get_amount_out
from lob.onchain.ledger import WAD, InsufficientBalance, Ledger, net_flows, to_wad
from lob.onchain.venues import FixedPriceVenue


def test_ledger_conservation_and_errors():
    led = Ledger(journal=True)
    led.mint("a", "X", 100)
    led.transfer("a", "b", "X", 40)
    led.burn("b", "X", 10)
    assert led.balance("a", "X") == 60 and led.balance("b", "X") == 30
    assert led.supply("X") == 90 == led.total("X")
    with pytest.raises(InsufficientBalance):
        led.transfer("a", "b", "X", 61)
    with pytest.raises(TypeError):
        led.mint("a", "X", 1.5)
    with pytest.raises(ValueError):
        led.mint("a", "X", -1)
    assert net_flows(led.journal) == {("a", "X"): 60, ("b", "X"): 30}
    led.check()
    assert to_wad(0.65) == 65 * 10**16 and to_wad("1.5") == 15 * 10**17 and to_wad(2) == 2 * WAD


def test_uniswap_v2_formulas():
    # 1 ETH into 100 ETH / 200,000 USDC at 0.3%: 1*0.997*200000/(100+0.997)
    out = get_amount_out(WAD, 100 * WAD, 200_000 * WAD)
    assert out == WAD * 997 * 200_000 * WAD // (100 * WAD * 1000 + WAD * 997)
    assert get_amount_in(out, 100 * WAD, 200_000 * WAD) <= WAD + 1


def test_pool_swap_k_grows_and_conserves():
    led = Ledger()
    pool = ConstantProductPool(led, ["ALT", "USDC"], 30)
    led.mint("lp", "ALT", 1_000_000 * WAD)
    led.mint("lp", "USDC", 2_000_000 * WAD)
    r = pool.add_liquidity("lp", [1_000_000 * WAD, 2_000_000 * WAD])
    assert r.lp == isqrt(2 * 10**12 * WAD * WAD) - MINIMUM_LIQUIDITY
    assert pool.spot_price("ALT", "USDC") == 2 * WAD
    k0 = pool.k
    led.mint("seller", "ALT", 500_000 * WAD)
    s = pool.swap("seller", "ALT", "USDC", 500_000 * WAD)
    assert s.amount_out == get_amount_out(500_000 * WAD, 1_000_000 * WAD, 2_000_000 * WAD)
    assert pool.k > k0
    # a 50% dump of the pool's ALT side: price falls to ~ 2 / 1.5**2
    assert abs(pool.spot_price("ALT", "USDC") / WAD - 2 / 2.25) < 0.01
    out = pool.remove_liquidity("lp", r.lp)
    assert out.amounts[0] > 1_000_000 * WAD
    pool.check()
    led.check()


def test_fixed_price_venue():
    led = Ledger()
    # prices: numbers as str/float are USD; a plain int would be taken as WAD
    v = FixedPriceVenue(led, {"USDe": "0.65", "USDC": 1.0}, fee_bps=10, decimals={"USDC": 6})
    assert v.prices == {"USDe": 65 * 10**16, "USDC": WAD}
    led.mint("dealer", "USDC", 10**6 * 10**6)
    led.mint("t", "USDe", 1000 * WAD)
    r = v.swap("t", "USDe", "USDC", 1000 * WAD)
    assert r.amount_out == 650 * 10**6 * 9990 // 10_000           # 649.35 USDC (6 decimals)
    assert r.price == r.amount_out * WAD // 10**6 * WAD // (1000 * WAD)
    led.check()
