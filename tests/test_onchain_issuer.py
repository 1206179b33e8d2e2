"""USDe issuer: whitelist, per-period caps, the redemption queue, supply
conservation."""
from __future__ import annotations

import pytest

from lob.onchain.issuer import IssuerError, USDeIssuer
from lob.onchain.ledger import WAD, Ledger

USDC = 10**6          # USDC has 6 decimals here


def make(**kw):
    led = Ledger()
    args = dict(whitelist={"mm", "arb"}, decimals={"USDe": 18, "USDC": 6, "USDT": 6})
    args.update(kw)
    iss = USDeIssuer(led, **args)
    led.mint("mm", "USDC", 10**9 * USDC)
    led.mint("mm", "USDT", 10**9 * USDC)
    led.mint("arb", "USDC", 10**9 * USDC)
    return led, iss


def conserved(led, iss):
    led.check()
    iss.check()
    assert led.supply("USDe") == iss.supply


def test_mint_and_instant_redeem_at_one_usd():
    led, iss = make()
    r = iss.mint("mm", "USDC", 1_000 * USDC, now=0)
    assert r.minted == 1_000 * WAD and led.balance("mm", "USDe") == 1_000 * WAD
    assert iss.reserve("USDC") == 1_000 * USDC
    p = iss.redeem("mm", 400 * WAD + 123, "USDC", now=1)     # 123 wei of USDe below 1e-6 USDC
    assert p.paid == 400 * USDC and p.dust == 123 and p.burned == 400 * WAD + 123
    assert iss.supply == 600 * WAD - 123
    assert iss.reserve("USDC") == 600 * USDC
    conserved(led, iss)


def test_whitelist_and_collateral():
    led, iss = make()
    led.mint("retail", "USDC", 10 * USDC)
    with pytest.raises(IssuerError):
        iss.mint("retail", "USDC", 10 * USDC, now=0)
    with pytest.raises(IssuerError):
        iss.mint("mm", "DAI", 10, now=0)
    with pytest.raises(IssuerError):
        iss.mint("mm", "USDC", 10**10 * USDC, now=0)        # does not hold it
    conserved(led, iss)


def test_per_period_caps():
    led, iss = make(period_s=3600, mint_cap=1_000_000 * WAD, redeem_cap=500_000 * WAD)
    iss.mint("mm", "USDC", 600_000 * USDC, now=10)
    assert iss.room("mint", 10) == 400_000 * WAD
    with pytest.raises(IssuerError):
        iss.mint("arb", "USDC", 400_001 * USDC, now=3599)    # same hour, shared cap
    iss.mint("arb", "USDC", 400_000 * USDC, now=3599)
    assert iss.room("mint", 3599) == 0
    iss.mint("arb", "USDC", 1_000_000 * USDC, now=3600)      # next hour: fresh cap
    iss.request_redeem("mm", 500_000 * WAD, "USDC", now=3700)
    with pytest.raises(IssuerError):
        iss.request_redeem("mm", 1, "USDC", now=7199)
    iss.request_redeem("mm", 1, "USDC", now=7200)
    assert iss.supply == 2_000_000 * WAD
    conserved(led, iss)


def test_redemption_queue_delay_and_fifo():
    led, iss = make(delay_s=600)
    iss.mint("mm", "USDC", 1_000 * USDC, now=0)
    iss.mint("arb", "USDC", 1_000 * USDC, now=0)
    with pytest.raises(IssuerError):
        iss.redeem("mm", WAD, "USDC", now=0)                  # delayed: use the queue
    a = iss.request_redeem("mm", 300 * WAD, "USDC", now=100)
    b = iss.request_redeem("arb", 200 * WAD, "USDT", now=150)   # no USDT in reserve
    c = iss.request_redeem("arb", 100 * WAD, "USDC", now=200)
    assert (a.ready_at, b.ready_at, c.ready_at) == (700, 750, 800)
    assert iss.escrowed == 600 * WAD and led.balance("ethena", "USDe") == 600 * WAD
    assert iss.supply == 2_000 * WAD                          # escrowed USDe still counts
    assert iss.process(699) == []
    paid = iss.process(800)
    assert [p.id for p in paid] == [a.id]                     # b blocks c (strict FIFO)
    assert led.balance("mm", "USDC") == 10**9 * USDC - 700 * USDC
    led.mint("ethena", "USDT", 200 * USDC)                    # reserve refilled
    paid = iss.process(800)
    assert [p.id for p in paid] == [b.id, c.id]
    assert iss.supply == 1_400 * WAD and iss.escrowed == 0
    assert iss.reserve("USDC") == 1_600 * USDC and iss.reserve("USDT") == 0
    conserved(led, iss)


def test_seeded_supply_and_conservation():
    led, iss = make()
    iss.seed("holders", 14 * 10**9 * WAD)                     # pre-crash supply, not in reserve
    iss.mint("mm", "USDT", 5 * USDC, now=0)
    assert led.supply("USDe") == iss.supply == 14 * 10**9 * WAD + 5 * WAD
    conserved(led, iss)
