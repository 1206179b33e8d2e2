"""Unified accounts inside a simulation: credit lines, the venue risk engine
(margin call, takeover, liquidation slices into the book, fees to the
insurance fund, hand-back), halted agents, the liquidation-cascade demo
scenario and its counterfactual direction."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from lob.core import codes as C
from lob.margin import risk_engine as RE
from lob.sim import layout as L
from lob.sim.model import AgentSpec, AssetSpec, BookSpec, ScenarioSpec, Simulation, VenueSpec
from lob.sim.risk import MarginAssetSpec, MarginPerpSpec, RiskEngineSpec
from lob.sim.strategy import Strategy

NS = 1_000_000_000


class _Script(Strategy):
    """Sends scripted orders: ``plan`` = [(t_s, side, price_ticks, lots, type)]."""

    def __init__(self, plan):
        self.plan = sorted(plan)
        self.k = 0
        self.rejects = []

    def on_wakeup(self, now):
        while self.k < len(self.plan) and self.plan[self.k][0] * NS <= now:
            t, side, px, q, typ = self.plan[self.k]
            self.submit(side, px, q, type=typ)
            self.k += 1
        return int(self.plan[self.k][0] * NS) if self.k < len(self.plan) else None

    def on_order_event(self, ev):
        if ev["kind"] == C.EV_REJECTED:
            self.rejects.append(ev["reason"])


class _Counter(Strategy):
    """Wakes every second and counts it (a margin account's own agent)."""

    def __init__(self):
        self.wakes = []

    def on_wakeup(self, now):
        self.wakes.append(now)
        return now + NS


def _spec(plan_tape, *, loan=600.0, alt=1000.0, duration_s=20.0, engine_kw=None, bid_ladder=True):
    """ALT/USDT, tick 0.0001, lot 1 ALT.  A deep bid ladder (a cash agent)
    from 0.7700 down; the tape agent prints trades at scripted prices; the
    margin account holds ``alt`` ALT against a ``loan`` USDT loan."""
    ladder = [(0.0, C.BUY, 7700 - 10 * i, 100, C.LIMIT) for i in range(20)] if bid_ladder else []
    eng = dict(venue="EX", quote="USDT",
               assets=(MarginAssetSpec(asset="ALT", haircut=0.8, policy="last"),
                       MarginAssetSpec(asset="USDT", loan_mm=0.05, cash=True)),
               cadence_s=1.0, takeover_ratio=1.0, target_ratio=1.2, call_ratio=1.5, fee_rate=0.005,
               slice_frac=0.25, insurance_fund=1000.0, lat_order_ns=1_000, lat_md_ns=1_000)
    eng.update(engine_kw or {})
    return ScenarioSpec(
        assets=(AssetSpec(name="USDT", atom=Decimal("1e-8")), AssetSpec(name="ALT", atom=Decimal("1e-8"))),
        venues=(VenueSpec(name="EX"),),
        books=(BookSpec(venue="EX", base="ALT", quote="USDT", tick=Decimal("0.0001"), lot=Decimal(1)),),
        agents=(AgentSpec(kind=L.KIND_PYTHON, strategy=lambda: _Script(ladder), balances={"USDT": 10**6},
                          lat_order_ns=1_000, lat_md_ns=1_000, first_wake_s=(0.0, 0.0)),
                AgentSpec(kind=L.KIND_PYTHON, strategy=lambda: _Script(plan_tape),
                          balances={"USDT": 10**6, "ALT": 10**6}, lat_order_ns=1_000, lat_md_ns=1_000,
                          first_wake_s=(0.0, 0.0)),
                AgentSpec(kind=L.KIND_PYTHON, strategy=_Counter, margin_venue="EX",
                          balances={"ALT": alt, "USDT": -loan}, credit={"USDT": loan},
                          lat_order_ns=1_000, lat_md_ns=1_000, first_wake_s=(0.5, 0.5))),
        duration_s=duration_s, snapshot_s=1.0, risk_engines=(RiskEngineSpec(**eng),))


def _tape(points):
    """A trade at each (t_s, price_ticks): a 1-lot ask lifted by a 1-lot buy."""
    plan = []
    for t, px in points:
        plan.append((t, C.SELL, px, 1, C.LIMIT))
        plan.append((t + 0.01, C.BUY, px, 1, C.LIMIT))
    return plan


def test_credit_line_lets_a_margin_account_go_below_zero_and_no_further():
    # a buyer with 100 USDT cash and 50 USDT credit: a 140 USDT bid rests, a 160 USDT one is refused
    spec = ScenarioSpec(
        assets=(AssetSpec(name="USDT"), AssetSpec(name="ALT")),
        venues=(VenueSpec(name="EX"),),
        books=(BookSpec(venue="EX", base="ALT", quote="USDT", tick=Decimal("0.0001"), lot=Decimal(1)),),
        agents=(AgentSpec(kind=L.KIND_PYTHON, strategy=lambda: _Script([(0.0, C.BUY, 10_000, 140, C.LIMIT),
                                                                         (1.0, C.BUY, 10_000, 20, C.LIMIT)]),
                          balances={"USDT": 100}, credit={"USDT": 50}, first_wake_s=(0.0, 0.0)),
                AgentSpec(kind=L.KIND_PYTHON, strategy=lambda: _Script([(2.0, C.SELL, 10_000, 140, C.LIMIT)]),
                          balances={"ALT": 1000}, first_wake_s=(0.0, 0.0))),
        duration_s=5.0)
    sim = Simulation(spec, seed=0)
    res = sim.run()
    buyer = sim.strategies[0]
    assert buyer.rejects == [C.R_INSUFFICIENT_FUNDS]
    assert sim.W.bal[0, 0] == -40 * 10**8          # 100 - 140 USDT: a 40 USDT loan
    assert sim.W.bal[0, 1] == 140 * 10**8
    assert (res.conservation_error() == 0).all()


def test_risk_engine_hand_computed_takeover_slices_fee_and_hand_back():
    # account: 1000 ALT, loan 600 USDT; haircut 0.8; MM = 5% of the loan = 30 USDT.
    # ratio(p) = (800 p - 600) / 30: 1.333 at 0.80 (margin call, < 1.5), 0.9333 at 0.7875 - 0.0075
    # -> at 0.7800 it is (624 - 600) / 30 = 0.8 < 1: takeover.
    sim = Simulation(_spec(_tape([(0.5, 8000), (5.0, 7800)])), seed=0)
    res = sim.run()
    eng = sim.risk_engines["EX"]
    ev = eng.event_table()
    kinds = [RE.EVENT_NAMES[k] for k in ev["kind"]]
    assert kinds[0] == "margin_call" and ev["ts"][0] == 1 * NS      # the first risk cycle
    assert abs(ev["ratio_before"][0] - (800 * 0.8 - 600) / 30) < 1e-9
    assert kinds[1] == "takeover" and 5 * NS < ev["ts"][1] <= 7 * NS
    assert abs(ev["ratio_before"][1] - (800 * 0.78 - 600) / 30) < 1e-9
    slices = ev[ev["kind"] == RE.EV_SLICE]
    # first slice: 25% of 1000 ALT, sold into the bid ladder at 0.7700 (100) 0.7690 (100) 0.7680 (50)
    assert slices["qty"][0] == 250 * 10**8 and slices["filled"][0] == 250 * 10**8
    notional = (100 * 7700 + 100 * 7690 + 50 * 7680) * 10**4          # quote atoms (tick x lot = 1e4 atoms)
    assert slices["notional"][0] == notional
    assert slices["fee"][0] == round(0.005 * notional)
    # the ladder is the only liquidity: prices fall as it is eaten, yet the sale repays the loan
    assert kinds[-1] == "restored"
    acct = int(sim.W.agents[2, L.A_ACCOUNT])
    fund = int(sim.W.agents[3, L.A_ACCOUNT])
    assert sim.W.bal[fund, 0] == 1000 * 10**8 + slices["fee"].sum()
    assert ev["ratio_after"][ev["kind"] == RE.EV_SLICE][-1] >= 1.2
    sold = slices["filled"].sum()
    assert sim.W.bal[acct, 1] == 1000 * 10**8 - sold
    assert sim.W.bal[acct, 0] == -600 * 10**8 + slices["notional"].sum() - slices["fee"].sum()
    assert (res.conservation_error() == 0).all()
    # the account's agent was halted during the takeover and woke again after it
    wakes = np.array(sim.strategies[2].wakes)
    t_take, t_back = ev["ts"][1], ev["ts"][-1]
    assert not ((wakes > t_take) & (wakes < t_back)).any()
    assert (wakes >= t_back).any()
    states = eng.state_table()
    mine = states[states["account"] == acct]
    assert mine["status"].max() == 1 and mine["status"][-1] == 0


def test_takeover_cancels_resting_orders_and_stalls_on_an_empty_book():
    # no bids at all: the slices find nothing (stalled) and the account stays taken over
    class _Resting(_Counter):
        def on_start(self):
            self.submit(C.SELL, 20_000, 10)

    spec = _spec(_tape([(0.5, 7000)]), bid_ladder=False)
    agents = list(spec.agents)
    from dataclasses import replace
    agents[2] = replace(agents[2], strategy=_Resting)
    sim = Simulation(replace(spec, agents=tuple(agents)), seed=0)
    res = sim.run()
    ev = sim.risk_engines["EX"].event_table()
    assert RE.EV_TAKEOVER in ev["kind"]
    assert (ev["kind"] == RE.EV_STALLED).sum() >= 5
    assert RE.EV_RESTORED not in ev["kind"]
    acct = int(sim.W.agents[2, L.A_ACCOUNT])
    cancelled = res.events[(res.events["kind"] == C.EV_CANCELLED) & (res.events["account"] == acct)]
    assert cancelled["price"][0] == 20_000 and cancelled["agent"][0] == 2      # its resting ask, first
    assert (cancelled["agent"][1:] == 3).all()          # then the engine's unfilled market sells
    assert sim.W.resv[acct].sum() == 0
    assert (res.conservation_error() == 0).all()


def test_oracle_policy_values_collateral_at_the_redemption_value():
    # same tape, ALT valued at a fixed 1.00 USD: no margin call, no takeover
    spec = _spec(_tape([(0.5, 8000), (5.0, 7800)]), engine_kw=dict(
        assets=(MarginAssetSpec(asset="ALT", haircut=0.8, policy="oracle", oracle_usd=1.0),
                MarginAssetSpec(asset="USDT", loan_mm=0.05, cash=True))))
    sim = Simulation(spec, seed=0)
    sim.run()
    ev = sim.risk_engines["EX"].event_table()
    assert len(ev) == 0
    assert abs(sim.risk_engines["EX"].ratio_of(2) - (800 - 600) / 30) < 1e-9


def test_spec_errors_name_the_field():
    base = _spec(_tape([(0.5, 8000)]))
    from dataclasses import replace
    with pytest.raises(ValueError, match="margin_venue 'NOPE'"):
        agents = list(base.agents)
        agents[2] = replace(agents[2], margin_venue="NOPE")
        Simulation(replace(base, agents=tuple(agents)), seed=0)
    with pytest.raises(ValueError, match="no risk engine"):
        Simulation(replace(base, risk_engines=()), seed=0)
    with pytest.raises(ValueError, match="policy must be one of"):
        MarginAssetSpec(asset="ALT", policy="book")
    with pytest.raises(ValueError, match="order_policy"):
        RiskEngineSpec(venue="EX", quote="USDT", order_policy="biggest")


# ---------------------------------------------------------------- the demonstration scenario
def _cascade(**kw):
    from lob.run import scenario_spec
    args = dict(duration_s=900.0, shock_s=120.0)
    args.update(kw)
    return scenario_spec("liquidation-cascade", **args)


@pytest.fixture(scope="module")
def cascade_base():
    sim = Simulation(_cascade(), seed=1)
    return sim, sim.run()


def test_cascade_conserves_and_is_deterministic(cascade_base):
    sim, res = cascade_base
    assert (res.conservation_error() == 0).all()
    again = Simulation(_cascade(), seed=1).run()
    for k in res.logs.keys():
        a, b = res.logs[k], again.logs[k]
        n = min(len(a), len(b))
        bad = np.nonzero(a[:n] != b[:n])[0]
        assert len(a) == len(b) and not len(bad), (k, len(a), len(b), a[bad[:2]], b[bad[:2]])
    assert again.digest() == res.digest()
    assert again.frame("margin_events").equals(res.frame("margin_events"))


def test_cascade_shows_passive_leverage_takeovers_and_an_overshoot(cascade_base):
    from lob.analysis import crash
    sim, res = cascade_base
    acc = crash.passive_leverage(res)
    taken = acc[acc["taken_over_s"].notna()]
    assert len(taken) >= 5
    # leverage rose with no trade before the takeover (the holders never trade):
    # with haircut 0.8 and MM 5% of the USDT loan D, the takeover comes at ALT
    # value V = 1.05 D / 0.8, i.e. leverage V / (V - D) = 1.3125 / 0.3125 = 4.2
    assert (taken["leverage_max"] > taken["leverage_start"]).all()
    assert 3.8 < taken["leverage_max"].median() <= 4.2 + 1e-9
    assert taken["leverage_start"].median() < 3.0
    liq = crash.liquidations(res).set_index("kind")
    assert liq.loc["slice", "notional"] > 100_000
    w = crash.wicks(res, 120.0).iloc[0]
    # the fundamental fell 20%; liquidations into pulled bids push the low below it
    assert w["wick"] > 0.25
    mm = crash.market_makers(res)
    assert (mm["pulls"] > 0).sum() >= 5


def test_cascade_counterfactual_half_leverage_has_no_cascade(cascade_base):
    from lob.analysis import crash
    _, base = cascade_base
    res = Simulation(_cascade(leverage_scale=0.5), seed=1).run()
    liq = crash.liquidations(res)
    assert liq.empty or "takeover" not in set(liq["kind"])
    half = crash.wicks(res, 120.0)["wick"].iloc[0]
    assert half < crash.wicks(base, 120.0)["wick"].iloc[0] - 0.05
    assert abs(half - 0.2) < 0.03          # no cascade: about the fundamental's 20% move


# ---------------------------------------------------------------- perpetuals
def _perp_spec(points, *, perp_bids=(), fund=0.0, funding_interval_s=8 * 3600.0, duration_s=12.0):
    """ALT spot and ALT-PERP books (tick 0.0001, lot 1); the tape agent prints
    the same trade on both at each (t_s, ticks).  A 10x long: +1000
    contracts against a 900 USDT loan (entry 1.00, margin 100); a short:
    -1000 contracts with 11,000 USDT.  Tiers: IM 5%, MM 2.5%."""
    tape = _tape(points)
    plan = [(t, side, px, q, typ, 0) for t, side, px, q, typ in tape] + \
           [(t, side, px, q, typ, 1) for t, side, px, q, typ in tape]

    class _Tape2(Strategy):
        def __init__(self):
            self.plan = sorted(plan)
            self.k = 0

        def on_wakeup(self, now):
            while self.k < len(self.plan) and self.plan[self.k][0] * NS <= now:
                t, side, px, q, typ, book = self.plan[self.k]
                self.submit(side, px, q, type=typ, book=book)
                self.k += 1
            return int(self.plan[self.k][0] * NS) if self.k < len(self.plan) else None

    class _Bids(Strategy):
        def on_wakeup(self, now):
            for px, q in perp_bids:
                self.submit(C.BUY, px, q, book=1)

    eng = RiskEngineSpec(venue="EX", quote="USDT",
                         assets=(MarginAssetSpec(asset="ALT", haircut=0.8, policy="last"),
                                 MarginAssetSpec(asset="USDT", loan_mm=0.05, cash=True)),
                         perps=(MarginPerpSpec(contract="ALT-PERP", underlying="ALT", tiers=(0.05, 0.025),
                                               funding_interval_s=funding_interval_s),),
                         cadence_s=1.0, slice_frac=0.25, fee_rate=0.005, insurance_fund=fund,
                         lat_order_ns=1_000, lat_md_ns=1_000)
    return ScenarioSpec(
        assets=(AssetSpec(name="USDT", atom=Decimal("1e-8")), AssetSpec(name="ALT", atom=Decimal("1e-8")),
                AssetSpec(name="ALT-PERP", atom=Decimal("1e-8"))),
        venues=(VenueSpec(name="EX"),),
        books=(BookSpec(venue="EX", base="ALT", quote="USDT", tick=Decimal("0.0001"), lot=Decimal(1)),
               BookSpec(venue="EX", base="ALT-PERP", quote="USDT", tick=Decimal("0.0001"), lot=Decimal(1),
                        reference="ALT")),
        agents=(AgentSpec(kind=L.KIND_PYTHON, strategy=_Tape2,
                          balances={"USDT": 10**6, "ALT": 10**6, "ALT-PERP": 10**6}, lat_order_ns=1_000,
                          lat_md_ns=1_000, first_wake_s=(0.0, 0.0)),
                AgentSpec(kind=L.KIND_PYTHON, strategy=_Counter, margin_venue="EX",
                          balances={"ALT-PERP": 1000, "USDT": -900}, credit={"USDT": 2000},
                          entry={"ALT-PERP": 1.0}, lat_order_ns=1_000, lat_md_ns=1_000, first_wake_s=(0.5, 0.5)),
                AgentSpec(kind=L.KIND_PYTHON, strategy=_Counter, margin_venue="EX",
                          balances={"ALT-PERP": -1000, "USDT": 11_000}, credit={"ALT-PERP": 1000},
                          entry={"ALT-PERP": 1.0}, lat_order_ns=1_000, lat_md_ns=1_000, first_wake_s=(0.5, 0.5)),
                AgentSpec(kind=L.KIND_PYTHON, strategy=_Bids, balances={"USDT": 10**6}, lat_order_ns=1_000,
                          lat_md_ns=1_000, first_wake_s=(0.1, 0.1))),
        duration_s=duration_s, snapshot_s=1.0, risk_engines=(eng,))


def test_perp_long_valued_at_mark_and_liquidated_into_the_perp_book():
    # mark 0.92: equity -900 + 920 = 20, MM 2.5% x 920 = 23 -> ratio 0.8696 < 1: takeover;
    # the first slice sells 250 contracts into the perp bids at 0.9100 / 0.9090
    sim = Simulation(_perp_spec([(0.5, 10_000), (5.0, 9_200)], perp_bids=((9100, 200), (9090, 1000))), seed=0)
    res = sim.run()
    eng = sim.risk_engines["EX"]
    ev = eng.event_table()
    take = ev[ev["kind"] == RE.EV_TAKEOVER]
    assert len(take) == 1 and take["account"][0] == 1
    assert abs(take["ratio_before"][0] - 20 / 23) < 1e-9
    sl = ev[ev["kind"] == RE.EV_SLICE]
    assert sl["item"][0] == RE.ITEM_PERP and sl["qty"][0] == 250 and sl["filled"][0] == 250
    assert sl["notional"][0] == (200 * 9100 + 50 * 9090) * 10**4
    st = eng.state_table()
    first = st[(st["account"] == 1)][0]
    assert abs(first["ratio"] - 100 / 25) < 1e-9          # at mark 1.00: equity 100, MM 25
    assert abs(first["leverage"] - 10.0) < 1e-9
    assert (res.conservation_error() == 0).all()


def test_perp_bankruptcy_goes_to_auto_deleveraging_at_the_bankruptcy_price():
    # mark 0.85 with no perp bids and an empty fund: net equity -50 < 0, deficit uncovered:
    # ADL closes the 1000 contracts against the short at 1 - 100 / 1000 = 0.90
    sim = Simulation(_perp_spec([(0.5, 10_000), (5.0, 8_500)]), seed=0)
    res = sim.run()
    ev = sim.risk_engines["EX"].event_table()
    adl = ev[ev["kind"] == RE.EV_ADL]
    assert len(adl) == 1 and adl["counterparty"][0] == 2 and adl["qty"][0] == 1000
    assert abs(adl["price"][0] - 0.90) < 1e-9
    assert adl["notional"][0] == 900 * 10**8
    W = sim.W
    assert W.bal[1, 2] == 0 and W.bal[2, 2] == 0                   # both positions closed
    assert W.bal[1, 0] == 0                                         # the long lost exactly its margin
    assert W.bal[2, 0] == (11_000 - 900) * 10**8                    # the short made 100
    # flat with zero equity: nothing to maintain, the account is handed back
    assert [RE.EVENT_NAMES[k] for k in ev["kind"]] == ["margin_call", "takeover", "adl", "restored"]
    assert (res.conservation_error() == 0).all()


def test_perp_funding_is_zero_sum_and_longs_pay_when_the_perp_is_rich():
    # the perp's resting bid above the index (1.0100 vs 1.0000): positive premium, longs pay
    sim = Simulation(_perp_spec([(0.5, 10_000)], perp_bids=((10_100, 5),), funding_interval_s=10.0,
                                duration_s=11.0), seed=0)
    before = sim.W.bal[:, 0].copy()
    res = sim.run()
    f = sim.risk_engines["EX"].funding_table()
    assert len(f) == 1 and f["rate"][0] > 0
    delta = sim.W.bal[:, 0] - before
    # premium: best bid 1.0100 over the index 1.0000 (no ask: the index) = 1%;
    # F = P + clamp(0.01% - P, +-0.05%) = 0.95%
    assert abs(f["rate"][0] - 0.0095) < 1e-12
    # each long pays its own rounded amount; the only short (which never trades) receives the total
    assert delta[1] == -int(np.rint(1000 * 1.0 * f["mark"][0] * f["rate"][0] * 1e8))
    assert delta[2] == f["paid"][0]
    assert (res.conservation_error() == 0).all()


def test_cascade_with_perpetuals_liquidates_perp_longs_into_the_perp_book():
    from lob.analysis import crash
    sim = Simulation(_cascade(n_perp_longs=60, duration_s=600.0), seed=2)
    res = sim.run()
    assert (res.conservation_error() == 0).all()
    me = res.frame("margin_events")
    perp_slices = me[(me["kind"] == RE.EV_SLICE) & (me["item"] == RE.ITEM_PERP)]
    assert len(perp_slices) > 10 and perp_slices["filled"].sum() > 0
    # their fills are sells in the perp book (book 1), taken by the risk engine's agent
    eng_agent = next(a for a, s in sim.strategies.items() if s is sim.risk_engines["EX"])
    f = res.fills
    liq = f[(f["taker_agent"] == eng_agent) & (f["book"] == 1)]
    assert len(liq) > 0 and (liq["taker_side"] == C.SELL).mean() > 0.9
    w = crash.wicks(res, 120.0).set_index("symbol")
    assert w.loc["ALT-PERP/USDT", "wick"] > 0.2         # at least the fundamental's move
    # the perp longs' leverage rose passively before their takeovers
    acc = crash.passive_leverage(res)
    assert (acc["leverage_max"] > acc["leverage_start"]).mean() > 0.8


def test_risk_engine_also_revalues_on_a_price_move():
    # cadence 10 s, but a move of 100 bps re-values within the 0.1 s check: the takeover
    # follows the 0.7800 print at t = 5 s long before the next cadence tick (t = 10 s)
    slow = Simulation(_spec(_tape([(0.5, 8000), (5.0, 7800)]), engine_kw=dict(cadence_s=10.0)), seed=0)
    slow.run()
    fast = Simulation(_spec(_tape([(0.5, 8000), (5.0, 7800)]),
                            engine_kw=dict(cadence_s=10.0, move_bps=100.0, check_s=0.1)), seed=0)
    res = fast.run()
    t_slow = slow.risk_engines["EX"].event_table()
    t_fast = fast.risk_engines["EX"].event_table()
    take_slow = t_slow["ts"][t_slow["kind"] == RE.EV_TAKEOVER][0]
    take_fast = t_fast["ts"][t_fast["kind"] == RE.EV_TAKEOVER][0]
    assert take_slow == 10 * NS and 5 * NS < take_fast <= 5.2 * NS
    assert (res.conservation_error() == 0).all()


def test_risk_engine_compiled_pieces_equal_their_numpy_twins(monkeypatch):
    """On every cycle of a short crash (perps, takeovers, slices): the
    compiled price matrix equals the numpy one (and leaves the same state),
    the compiled account rows equal _spot/_pos_all/_cost, the compiled
    liquidity score equals the per-book loop."""
    from lob.run import scenario_spec
    from lob.sim.risk import RiskEngine

    fast_prices, fast_score = RiskEngine.prices, RiskEngine._score
    seen = {"cycles": 0, "scores": 0}

    def prices(self, now):
        ring, n, known = self._ring.copy(), self._ring_n, self._known.copy()
        P = fast_prices(self, now).copy()
        after = (self._ring.copy(), self._ring_n, self._known.copy())
        self._ring[:], self._ring_n, self._known[:] = ring, n, known
        Q = self._prices_numpy(now)
        assert np.array_equal(P, Q, equal_nan=True)
        assert np.array_equal(after[0], self._ring, equal_nan=True) and after[1] == self._ring_n
        assert np.array_equal(after[2], self._known, equal_nan=True)
        rows = self.accts
        sp, po, co = self._margin_rows(rows, np.zeros_like(self._acc_spot), np.zeros_like(self._acc_pos),
                                       np.zeros_like(self._acc_cost))
        assert (sp == self._spot(rows)).all() and (po == self._pos_all(rows)).all() and (co == self._cost(rows)).all()
        seen["cycles"] += 1
        return Q

    def score(self):
        s = fast_score(self)
        assert np.array_equal(s, self._score_python(), equal_nan=True)
        seen["scores"] += 1
        return s

    monkeypatch.setattr(RiskEngine, "prices", prices)
    monkeypatch.setattr(RiskEngine, "_score", score)
    spec = scenario_spec("oct-10-2025", duration_s=900.0, shock_s=200.0, n_alts=4, n_calm_alts=2)
    res = Simulation(spec, seed=1).run()
    assert (res.conservation_error() == 0).all()
    ev = res.frame("margin_events")
    assert seen["cycles"] > 500 and seen["scores"] > 0 and (ev["kind"] == RE.EV_SLICE).any()
