"""The crash suite's two stylized scenarios, shortened: deterministic
(same seed, same digest), and each shows its mechanism in the direction it
claims.

* flash-crash: one book, no fundamental move; a sell program meets market
  makers who pull their bids -- a deep wick that recovers; with the kill
  switches off the same program barely moves the price.
* stablecoin-depeg: no altcoin shock; a run on USDe's exchange book and the
  leverage on it -- USDe depegs on the exchange while the altcoin and the
  on-chain pool hold; valuing USDe at its redemption value (``policy=
  "oracle"``) removes the takeovers and most of the depeg.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from lob.analysis import crash
from lob.run import scenario_spec
from lob.scenarios.flash_crash import SellProgram
from lob.sim import world as WD
from lob.sim.model import Simulation

FLASH = dict(duration_s=600.0, shock_s=120.0)          # the program (800k lots over 120 s) and 8 minutes after
DEPEG = dict(duration_s=1000.0, shock_s=60.0)          # the run (15M USDe over 300 s) and the spiral after it


def _run(name, seed, **kw):
    sp = scenario_spec(name, **kw)
    sim = Simulation(sp, seed=seed)
    fundamental0 = sim.W.oracle[:, WD.OR_VALUE].copy()
    res = sim.run()
    return res, fundamental0


@lru_cache(maxsize=None)
def _cached(name, seed, **kw):
    """Runs shared by the tests of this file (each simulation once)."""
    return _run(name, seed, **kw)


def _wick(res, symbol):
    w = crash.wicks(res, res.sim.spec.shocks[0][0]).set_index("symbol")
    return w.loc[symbol]


def _takeovers(res):
    me = res.frame("margin_events")
    return 0 if me.empty else int(me.loc[me["kind"] == 2, "account"].nunique())


def test_flash_crash_is_deterministic():
    a, _ = _cached("flash-crash", 0, **FLASH)
    b, _ = _run("flash-crash", 0, **FLASH)                  # a fresh simulation of the same seed
    c, _ = _cached("flash-crash", 1, **FLASH)
    assert a.digest() == b.digest()
    assert c.digest() != a.digest()
    assert not a.conservation_error().any()


@pytest.mark.parametrize("seed", [0, 1])
def test_flash_crash_liquidity_withdrawal_wick_and_recovery(seed):
    res, f0 = _cached("flash-crash", seed, **FLASH)
    calm, _ = _cached("flash-crash", seed, kill_switch=False, **FLASH)
    sim = res.sim
    alt = sim.asset_ix["ALT"]
    # nothing moves the fundamental: the listed shock is 0 and it only diffuses (sigma 2 ticks/sqrt(s))
    assert sim.spec.shocks == ((FLASH["shock_s"], "ALT", 0.0),)
    assert abs(sim.W.oracle[alt, WD.OR_VALUE] / f0[alt] - 1) < 0.02
    w, w_calm = _wick(res, "ALT/USDT"), _wick(calm, "ALT/USDT")
    # a deep wick while the program sells; without the kill switches the same program barely moves it
    assert w["wick"] > 0.10 and w["t_low_s"] < 150          # the program runs for the first 120 s
    assert w["wick"] > 5 * w_calm["wick"]
    # and it recovers: the last trade is back near the open
    assert w["close"] > 0.98 * w["open"]
    # the mechanism: the bids within 2% of the mid thin out during the fall (market makers pull them)
    s, t0 = res.snapshots, FLASH["shock_s"] * 1e9
    pre = s[(s["ts"] >= t0 - 60e9) & (s["ts"] < t0)]
    crash_s = s[(s["ts"] >= t0) & (s["ts"] < t0 + 120e9)]
    assert np.median(crash_s["bid_2pct"]) < 0.5 * np.median(pre["bid_2pct"])
    mms = crash.market_makers(res)
    first = mms["first_pull_s"].dropna()
    t0s = FLASH["shock_s"]
    assert len(mms) == 10 and ((first >= t0s) & (first < t0s + 120)).sum() >= 5
    # the program sold all of it (into the stink bids at the bottom), the same amount in both runs
    prog = [s for s in sim.strategies.values() if isinstance(s, SellProgram)]
    assert len(prog) == 1 and prog[0].sent == 800_000 and prog[0].filled() == 800_000


def test_stablecoin_depeg_without_an_altcoin_shock():
    res, f0 = _cached("stablecoin-depeg", 0, **DEPEG)
    oracle, _ = _cached("stablecoin-depeg", 0, policy="oracle", **DEPEG)
    sim = res.sim
    # no altcoin shock: the only listed shock is USDe's, of size 0
    assert sim.spec.shocks == ((DEPEG["shock_s"], "USDe", 0.0),)
    alt = sim.asset_ix["ALT"]
    assert abs(sim.W.oracle[alt, WD.OR_VALUE] / f0[alt] - 1) < 0.05
    usde, alt_w = _wick(res, "USDe/USDT"), _wick(res, "ALT/USDT")
    # USDe depegs on the exchange; the altcoin barely moves; the on-chain pool holds
    assert usde["low"] < 0.85 and alt_w["wick"] < 0.02
    ch = next(iter(sim.chains.values()))
    assert min(p for _, p in ch.pool_prices) > 0.99
    # the leverage on USDe is what deepens it: accounts valued at the book's price are taken over ...
    assert _takeovers(res) >= 10
    # ... and with USDe at its redemption value nothing is taken over and the depeg stays shallow
    usde_o = _wick(oracle, "USDe/USDT")
    assert _takeovers(oracle) == 0
    assert usde_o["low"] > 0.90 and usde_o["low"] - usde["low"] > 0.1
    assert not res.conservation_error().any() and not oracle.conservation_error().any()


def test_stablecoin_depeg_is_deterministic():
    kw = dict(duration_s=300.0, shock_s=60.0, run_s=60.0)
    a, _ = _run("stablecoin-depeg", 3, **kw)
    b, _ = _run("stablecoin-depeg", 3, **kw)
    c, _ = _run("stablecoin-depeg", 4, **kw)
    assert a.digest() == b.digest() and c.digest() != a.digest()


@pytest.mark.parametrize("name,kw,match", [
    ("flash-crash", dict(shock_s=2000.0), "shock_s"),
    ("flash-crash", dict(program_s=0.0), "program_s"),
    ("flash-crash", dict(shock=-1.5), "shock"),
    ("stablecoin-depeg", dict(run_usd=-1.0), "run_usd"),
    ("stablecoin-depeg", dict(user_mm="examples.my_market_maker:SkewedQuoter", user_mm_share=0.0), "user_mm_share"),
])
def test_bad_parameters_are_refused_with_their_name(name, kw, match):
    with pytest.raises(ValueError, match=match):
        scenario_spec(name, **kw)
