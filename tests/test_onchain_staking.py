"""Liquid staking tokens: rate growth, redemption value, mint/redeem with
unbonding, conservation."""
from __future__ import annotations

from lob.onchain.ledger import SECONDS_PER_YEAR, WAD, Ledger
from lob.onchain.oracles import FixedPriceOracle
from lob.onchain.staking import LiquidStakingToken, LSTRedemptionOracle

DAY = 86_400


def test_rate_steps_per_epoch_and_compounds():
    led = Ledger()
    lst = LiquidStakingToken(led, apr_bps=365, epoch_s=DAY, rate0=WAD)   # 0.01% a day
    assert lst.rate(0) == WAD and lst.rate(DAY - 1) == WAD
    assert lst.rate(DAY) == WAD * 10_001 // 10_000
    assert lst.rate(2 * DAY) == WAD * 10_001**2 // 10_000**2
    y = lst.rate(SECONDS_PER_YEAR)
    assert y == WAD * 10_001**365 // 10_000**365                    # ~ 1.03717
    assert 1.0371 < y / WAD < 1.0372


def test_mint_redeem_unbonding_and_value():
    led = Ledger()
    lst = LiquidStakingToken(led, token="BNSOL", underlying="SOL", apr_bps=700,
                             epoch_s=2 * DAY, unbonding_s=3 * DAY, rate0=WAD * 105 // 100)
    led.mint("mm", "SOL", 1_050 * WAD)
    r = lst.mint("mm", 1_050 * WAD, now=0)
    assert r.tokens == 1_000 * WAD and led.balance("mm", "BNSOL") == 1_000 * WAD
    # redemption value at SOL = 200 USD: 1.05 * 200 = 210 USD per BNSOL
    assert lst.fair_price(0, 200 * WAD) == 210 * WAD
    oracle = LSTRedemptionOracle(lst, FixedPriceOracle({"SOL": "200"}))
    assert oracle.price("BNSOL", 0) == 210 * WAD
    t = 10 * DAY                                                    # 5 epochs later
    rate = lst.rate(t)
    assert rate == (WAD * 105 // 100) * (SECONDS_PER_YEAR * 10_000 + 700 * 2 * DAY) ** 5 \
        // (SECONDS_PER_YEAR * 10_000) ** 5
    req = lst.request_redeem("mm", 400 * WAD, now=t)
    assert req.underlying == 400 * WAD * rate // WAD and req.ready_at == t + 3 * DAY
    assert led.balance("mm", "BNSOL") == 600 * WAD
    assert lst.process(t + 3 * DAY - 1) == []
    paid = lst.process(t + 3 * DAY)
    assert len(paid) == 1 and led.balance("mm", "SOL") == req.underlying
    lst.check()
    led.check()
    # staking rewards were minted into the backing: the ledger tracks them
    assert lst.rewards > 0 and led.minted("SOL") == 1_050 * WAD + lst.rewards
    # everyone can still redeem at the synced rate
    rest = lst.request_redeem("mm", 600 * WAD, now=t + 3 * DAY)
    lst.process(t + 6 * DAY)
    assert lst.supply == 0 and lst.backing >= 0
    assert led.balance("mm", "SOL") == req.underlying + rest.underlying
    led.check()
