"""Two-layer whales: hand-computed health factors and margin-call plans,
and the same plans carried out on the protocols."""
from __future__ import annotations

from fractions import Fraction as Fr

from lob.onchain.ledger import WAD, Ledger
from lob.onchain.lending import LendingProtocol, MarketConfig
from lob.onchain.oracles import FixedPriceOracle
from lob.onchain.venues import FixedPriceVenue
from lob.onchain.whales import (WhalePosition, build_whale, execute_margin_call, hf_wad,
                                position_of, unwind_plan, whale_health)

# 1M ALT at 2 USD, 1M USDC borrowed (LTV 50%, LT 65%); the USDC looped 5
# rounds at 80% into USDe (LT 85%): 3,689,280 USDe against 2,689,280 USDC.
POS = WhalePosition.of(1_000_000, 1_000_000, "0.65", 3_689_280, 2_689_280, "0.85")
C2, D2 = Fr(3_689_280), Fr(2_689_280)


def test_health_of_both_layers():
    h = whale_health(POS, 2, 1)
    assert h.hf1 == Fr(13, 10)
    assert h.hf2 == C2 * Fr(85, 100) / D2                       # 1.16607
    assert h.equity1 == 1_000_000 and h.equity2 == 1_000_000
    h = whale_health(POS, "1.6", "0.65")
    assert h.hf1 == Fr(104, 100)
    assert h.hf2 == C2 * Fr(65, 100) * Fr(85, 100) / D2          # 0.758: loop liquidatable
    assert h.net_equity == 600_000 + C2 * Fr(65, 100) - D2
    assert not unwind_plan(POS, 2, 1).margin_call


def test_margin_call_met_by_selling_free_usde():
    p = unwind_plan(POS, "1.6", 1, sell_price="0.98")
    assert p.margin_call and p.hf1_before == Fr(104, 100)
    assert p.need == 200_000                                      # 1M - 1.6M * 0.65 / 1.3
    assert p.free_usde_sold == Fr(200_000) / Fr(98, 100)          # 204,081.63 USDe
    assert p.free_usde_proceeds == 200_000
    assert p.unwind_usde_sold == 0 and not p.loop_closed
    assert p.repaid1 == 200_000 and p.hf1_after == Fr(13, 10)
    assert p.hf2_after == (C2 - p.free_usde_sold) * Fr(85, 100) / D2      # 1.1016
    assert p.shortfall == 0 and not p.liquidatable


def test_depeg_priced_off_the_book_traps_the_whale():
    # the lender prices USDe at the book's 0.65: the loop has no free USDe and
    # selling it all does not cover its debt
    p = unwind_plan(POS, "1.6", "0.65")
    assert p.free_usde_sold == 0 and p.loop_underwater and not p.loop_closed
    assert p.repaid1 == 0 and p.hf1_after == Fr(104, 100) and not p.liquidatable
    # a further 6% fall of the altcoin makes layer 1 liquidatable:
    p = unwind_plan(POS, "1.5", "0.65")
    assert p.hf1_after == Fr(975, 1000) and p.liquidatable
    assert p.shortfall == 25_000                                  # 1M - 1.5M * 0.65
    assert p.liq_debt_repaid == 500_000                           # close factor 50% (HF > 0.95)
    assert p.alt_seizable == Fr(500_000) * Fr(105, 100) / Fr(15, 10)   # 350,000 ALT
    p = unwind_plan(POS, "1.4", "0.65")                           # HF 0.91 -> close factor 100%
    assert p.liq_debt_repaid == 1_000_000 and p.alt_seizable == 750_000


def test_redemption_value_oracle_lets_the_whale_pay():
    # same 0.65 market price, but the lender values USDe at 1 (redemption)
    p = unwind_plan(POS, "1.6", 1, sell_price="0.65")
    assert p.free_usde_sold == Fr(200_000) / Fr(65, 100)          # 307,692.3 USDe dumped
    assert p.repaid1 == 200_000 and p.hf1_after == Fr(13, 10)


def test_full_unwind_when_free_usde_is_not_enough():
    p = unwind_plan(POS, 1, 1, sell_price="0.9")
    assert p.need == 500_000                                      # 1M - 1M * 0.65 / 1.3
    free = C2 - D2 / Fr(85, 100)                                  # 525,421.18 USDe
    assert p.free_usde_sold == free and p.free_usde_proceeds == free * Fr(9, 10)
    assert p.loop_closed and p.unwind_usde_sold == C2 - free
    assert p.unwind_proceeds == (C2 - free) * Fr(9, 10) and p.loop_debt_repaid == D2
    assert p.repaid1 == 500_000 and p.hf1_after == Fr(13, 10) and p.hf2_after is None


# ----------------------------------------------------------------------
# on-chain
# ----------------------------------------------------------------------
def world():
    led = Ledger()
    o1 = FixedPriceOracle({"ALT": "2", "USDC": "1"})
    o2 = FixedPriceOracle({"USDe": "1", "USDC": "1"})
    l1 = LendingProtocol(led, "cex-loans")
    l1.add_market(MarketConfig("ALT", 5500, 6500, 500), o1)
    l1.add_market(MarketConfig("USDC", 7500, 7800, 450), o1)
    l2 = LendingProtocol(led, "aave")
    l2.add_market(MarketConfig("USDe", 8000, 8500, 500), o2)
    l2.add_market(MarketConfig("USDC", 7500, 7800, 450), o2)
    for lp in (l1, l2):
        led.mint("lender", "USDC", 10**7 * WAD)
        lp.supply("lender", "USDC", 10**7 * WAD, 0)
    venue = FixedPriceVenue(led, {"USDe": "1", "USDC": "1"})
    led.mint("dealer", "USDe", 10**8 * WAD)
    led.mint("dealer", "USDC", 10**8 * WAD)
    led.mint("whale", "ALT", 10**6 * WAD)
    rec = build_whale(l1, l2, venue, "whale", alt_asset="ALT", alt_amount=10**6 * WAD,
                      ltv1_bps=5000, ltv2_bps=8000, rounds=5, now=0)
    return led, l1, l2, o1, o2, venue, rec


def test_build_whale_matches_the_hand_numbers():
    led, l1, l2, *_ , rec = world()
    assert rec.borrowed1 == 10**6 * WAD
    assert rec.loop.supplied == 3_689_280 * WAD and rec.loop.borrowed == 2_689_280 * WAD
    assert position_of(l1, l2, "whale", alt_asset="ALT", now=0) == POS
    assert l1.health_factor("whale", 0) == hf_wad(Fr(13, 10))
    assert l2.health_factor("whale/loop", 0) == hf_wad(C2 * Fr(85, 100) / D2)
    led.check()


def test_execute_margin_call_free_usde():
    led, l1, l2, o1, o2, venue, _ = world()
    o1.set_price("ALT", "1.6")
    venue.set_price("USDe", "0.98")
    plan = unwind_plan(position_of(l1, l2, "whale", alt_asset="ALT", now=0), "1.6", 1,
                       sell_price="0.98")
    r = execute_margin_call(l1, l2, venue, "whale", alt_asset="ALT", now=0, target_hf_bps=13_000)
    assert r.need == 200_000 * WAD and r.repaid1 == 200_000 * WAD
    assert abs(Fr(r.free_sold, WAD) - plan.free_usde_sold) < Fr(1, 10**15)
    assert r.unwind is None
    assert r.hf1_after == hf_wad(Fr(13, 10))
    assert abs(r.hf2_after - hf_wad(plan.hf2_after)) < 10**3
    led.check()


def test_execute_margin_call_full_unwind():
    led, l1, l2, o1, o2, venue, _ = world()
    o1.set_price("ALT", "1")
    venue.set_price("USDe", "0.9")
    r = execute_margin_call(l1, l2, venue, "whale", alt_asset="ALT", now=0, target_hf_bps=13_000)
    assert r.need == 500_000 * WAD and r.repaid1 == 500_000 * WAD
    assert r.unwind is not None and r.unwind.completed
    assert l2.debt_balance("whale/loop", "USDC", 0) == 0
    assert r.hf1_after == hf_wad(Fr(13, 10))
    # what is left in the wallet: the plan's surplus
    plan = unwind_plan(POS, 1, 1, sell_price="0.9")
    surplus = plan.free_usde_proceeds + plan.unwind_proceeds - plan.loop_debt_repaid - plan.repaid1
    assert abs(Fr(led.balance("whale", "USDC"), WAD) - surplus) < Fr(1, 10**12)
    led.check()


def test_execute_margin_call_underwater_loop_pays_nothing():
    led, l1, l2, o1, o2, venue, _ = world()
    o1.set_price("ALT", "1.5")
    o2.set_price("USDe", "0.65")
    venue.set_price("USDe", "0.65")
    r = execute_margin_call(l1, l2, venue, "whale", alt_asset="ALT", now=0)
    assert r.repaid1 == 0 and r.free_sold == 0 and not r.unwind.completed
    assert l1.is_liquidatable("whale", 0) and l2.is_liquidatable("whale/loop", 0)
    led.mint("liq", "USDC", 10**6 * WAD)
    liq = l1.liquidate("liq", "whale", "ALT", "USDC", None, 0)
    assert liq.debt_repaid == 500_000 * WAD
    assert abs(Fr(liq.collateral_seized, WAD) - 350_000) < Fr(1, 10**12)
    led.check()
