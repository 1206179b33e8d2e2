"""Avellaneda & Stoikov (2008) sec. 3.3 reproduction, and the model harness.

Tolerances come from standard errors, not from hand-picked numbers: a mean
agrees when it lies within ``Z_TOL = 3`` combined standard errors of the
paper's (the paper's SE is its std / sqrt(1000), ours std / sqrt(N)), a
standard deviation when it lies within ``STD_RTOL = 15%`` of the paper's.
Seeds are fixed, so the suite is deterministic; the tolerances still say
what a fresh seed would pass with probability ~0.997 per check.
"""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from lob.mm.model_harness import ModelParams, simulate
from lob.reproduce import as2008
from strategies.avellaneda_stoikov import ASConfig, AvellanedaStoikov, SymmetricSpread

N = 100_000          # paths per row: our SE is then ~1/10 of the paper's
SEED = 12345

MATCHING_ROWS = [(g, s) for g in as2008.GAMMAS for s in ("inventory", "symmetric")
                 if (g, s) not in as2008.KNOWN_DEVIATIONS]


@pytest.fixture(scope="module")
def table():
    """The paper's six rows plus the matched-spread symmetric variant, fill
    timing after_move, N paths each."""
    res = as2008.run(n_paths=N, seed=SEED, timings=("after_move",), matched_symmetric=True)
    return {(r["gamma"], r["strategy"]): r for r in res["rows"]}


def test_five_rows_match(table):
    assert len(MATCHING_ROWS) == 5


@pytest.mark.parametrize("gamma, strategy", MATCHING_ROWS)
def test_row_matches_paper(table, gamma, strategy):
    r = table[(gamma, strategy)]
    o, p, c = r["ours"], r["paper"], r["comparison"]
    assert o["n_paths"] == N
    # mean profit within 3 combined SE; std within 15%
    assert abs(c["z_profit"]) <= as2008.Z_TOL, (o["profit_mean"], p["profit_mean"], c)
    assert abs(c["profit_std_ratio"] - 1) <= as2008.STD_RTOL, (o["profit_std"], p["profit_std"])
    # the final inventory too
    assert abs(c["z_final_q"]) <= as2008.Z_TOL, (o["final_q_mean"], p["final_q_mean"])
    assert abs(c["final_q_std_ratio"] - 1) <= as2008.STD_RTOL, (o["final_q_std"], p["final_q_std"])
    assert c["match"] and r["known_deviation"] is None


def test_known_deviation_inventory_gamma_05(table):
    """DOCUMENTED KNOWN DEVIATION (as2008.KNOWN_DEVIATIONS): the paper prints
    33.92 for the inventory strategy at gamma = 0.5; a faithful simulation
    gives ~47.3.  This asserts the deviation is exactly what we report: far
    from the paper's figure, and at our own reproducible estimate."""
    key = (0.5, "inventory")
    assert key in as2008.KNOWN_DEVIATIONS
    r = table[key]
    o, c = r["ours"], r["comparison"]
    assert not c["match"]
    assert c["z_profit"] > 30                        # ~13 profit units above 33.92, SE ~0.15
    assert o["profit_mean"] - as2008.PAPER[key]["profit_mean"] > 10
    ref = as2008.OUR_REFERENCE[("after_move", 0.5, "inventory")]
    se = math.hypot(o["profit_se"], ref[1])
    assert abs(o["profit_mean"] - ref[0]) <= as2008.Z_TOL * se, (o["profit_mean"], ref)
    assert abs(o["profit_std"] / ref[2] - 1) <= 0.02
    # its std (5.8) is also more than 15% above the printed 4.72; the final
    # inventory (std 1.98 vs 1.88) is consistent with the paper
    assert c["profit_std_ratio"] > 1 + as2008.STD_RTOL
    assert abs(c["final_q_std_ratio"] - 1) <= as2008.STD_RTOL


def test_symmetric_benchmark_needs_the_constant_spread(table):
    """The paper's symmetric rows need the constant spread (2/gamma) ln(1 + gamma/k)
    (its printed "average spread"); with the inventory strategy's full
    time-varying spread the gamma = 0.5 row misses by ~20 SE."""
    for gamma in as2008.GAMMAS:
        assert table[(gamma, "symmetric")]["ours"]["spread_mean"] == pytest.approx(
            as2008.PAPER[(gamma, "symmetric")]["spread"], abs=0.005)
    o = table[(0.5, "symmetric_matched")]["ours"]
    p = as2008.PAPER[(0.5, "symmetric")]
    c = as2008.compare_row(o, p)
    assert c["z_profit"] < -10 and not c["match"]


def test_fill_timing_before_move_does_not_match():
    """Testing fills against the pre-move mid removes the adverse selection and
    lifts the mean profit by ~1.5: the inventory rows at gamma = 0.1 and 0.01
    then miss the paper by > 4 combined SE."""
    params = replace(as2008.PARAMS, fill_timing="before_move")
    for gamma in (0.1, 0.01):
        strat = as2008.make_strategies(gamma)["inventory"]
        o = simulate(strat, params, n_paths=N // 2, rng=np.random.default_rng(SEED)).summary()
        c = as2008.compare_row(o, as2008.PAPER[(gamma, "inventory")])
        assert c["z_profit"] > 4, (gamma, o["profit_mean"])
        ref_before = as2008.OUR_REFERENCE[("before_move", gamma, "inventory")]
        ref_after = as2008.OUR_REFERENCE[("after_move", gamma, "inventory")]
        assert ref_before[0] - ref_after[0] == pytest.approx(1.5, abs=0.2)


def test_reference_table_is_complete():
    keys = set(as2008.OUR_REFERENCE)
    for timing in ("after_move", "before_move"):
        for g in as2008.GAMMAS:
            for s in ("inventory", "symmetric", "symmetric_matched"):
                assert (timing, g, s) in keys


def test_our_rows_reproduce_our_reference(table):
    """Regression guard: this seed's estimates agree with the 1,000,000-path
    reference within 4 combined SE."""
    for (g, s), r in table.items():
        ref = as2008.OUR_REFERENCE[("after_move", g, s)]
        o = r["ours"]
        assert abs(o["profit_mean"] - ref[0]) <= 4 * math.hypot(o["profit_se"], ref[1]), (g, s, o, ref)


# ----------------------------------------------------------------------
# the harness itself
# ----------------------------------------------------------------------
class ConstantQuoter:
    """Quotes mid -/+ delta, scalar interface only (exercises the harness's
    per-path fallback)."""

    def __init__(self, delta):
        self.delta = delta

    def quotes(self, t, mid, inventory):
        return mid - self.delta, mid + self.delta


class ConstantQuoterVec(ConstantQuoter):
    def quotes_vec(self, t, mid, inventory):
        return mid - self.delta, mid + self.delta


def _f(x, k=1.5):
    return x * math.exp(-k * x)


@pytest.mark.parametrize("timing", ["before_move", "after_move"])
def test_expected_spread_income_is_exact(timing):
    """For constant quotes at distance delta the expected profit is known in
    closed form: per step and side, A dt f(delta) before the move, and
    A dt (f(delta + e) + f(delta - e)) / 2 after it (e = sigma sqrt(dt)),
    f(x) = x exp(-k x)."""
    p = replace(as2008.PARAMS, fill_timing=timing)
    delta = 0.6
    e = p.sigma * math.sqrt(p.dt)
    per_side = _f(delta) if timing == "before_move" else 0.5 * (_f(delta + e) + _f(delta - e))
    expected = 2 * p.n_steps * p.A * p.dt * per_side
    o = simulate(ConstantQuoterVec(delta), p, n_paths=40_000, rng=np.random.default_rng(1)).summary()
    assert abs(o["profit_mean"] - expected) <= 4 * o["profit_se"], (o["profit_mean"], expected)
    assert o["spread_mean"] == pytest.approx(2 * delta)


def test_after_move_costs_the_adverse_selection():
    """Same seed, same quotes: after_move has more fills but less profit."""
    res = {}
    for timing in ("before_move", "after_move"):
        p = replace(as2008.PARAMS, fill_timing=timing)
        res[timing] = simulate(ConstantQuoterVec(0.6), p, n_paths=20_000, rng=np.random.default_rng(3)).summary()
    assert res["after_move"]["fills_mean"] > res["before_move"]["fills_mean"]
    assert res["after_move"]["profit_mean"] < res["before_move"]["profit_mean"]


def test_scalar_fallback_equals_vectorized_path():
    p = as2008.PARAMS
    a = simulate(ConstantQuoter(0.7), p, n_paths=64, rng=np.random.default_rng(9))
    b = simulate(ConstantQuoterVec(0.7), p, n_paths=64, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a.profit, b.profit)
    np.testing.assert_array_equal(a.final_q, b.final_q)

    class ScalarAS:                      # AvellanedaStoikov through its scalar method only
        def __init__(self):
            self.inner = AvellanedaStoikov(ASConfig(gamma=0.1, k=1.5, sigma=2.0))

        def quotes(self, t, mid, q):
            return self.inner.quotes(t, mid, q)

    a = simulate(ScalarAS(), p, n_paths=64, rng=np.random.default_rng(4))
    b = simulate(AvellanedaStoikov(ASConfig(gamma=0.1, k=1.5, sigma=2.0)), p, n_paths=64,
                 rng=np.random.default_rng(4))
    np.testing.assert_allclose(a.profit, b.profit, rtol=0, atol=1e-9)


def test_seeded_reproducibility_and_common_random_numbers():
    p = as2008.PARAMS
    cfg = ASConfig(gamma=0.1, k=1.5, sigma=2.0)
    r1 = simulate(AvellanedaStoikov(cfg), p, n_paths=500, rng=np.random.default_rng(11), record_paths=True)
    r2 = simulate(AvellanedaStoikov(cfg), p, n_paths=500, rng=np.random.default_rng(11))
    r3 = simulate(SymmetricSpread(cfg), p, n_paths=500, rng=np.random.default_rng(11), record_paths=True)
    np.testing.assert_array_equal(r1.profit, r2.profit)
    np.testing.assert_array_equal(r1.final_s, r3.final_s)                 # same price paths
    np.testing.assert_array_equal(r1.extra["mid"], r3.extra["mid"])
    steps = np.diff(r1.extra["mid"], axis=0)                              # binomial +-sigma sqrt(dt)
    np.testing.assert_allclose(np.abs(steps), p.sigma * math.sqrt(p.dt))
    dq = np.diff(r1.extra["inventory"], axis=0)
    assert set(np.unique(dq)) <= {-1.0, 0.0, 1.0}
    with pytest.raises(TypeError, match="Generator"):
        simulate(AvellanedaStoikov(cfg), p, n_paths=10, rng=np.random.RandomState(0))


def test_profit_accounting():
    """profit = cash + q_T S_T, cash moving by the posted quote at each fill."""
    p = replace(as2008.PARAMS, T=0.25)
    r = simulate(AvellanedaStoikov(ASConfig(gamma=0.1, k=1.5, sigma=2.0)), p, n_paths=300,
                 rng=np.random.default_rng(2), record_paths=True)
    x = r.extra
    hb, ha = x["bid_fill"], x["ask_fill"]
    cash = (np.where(ha, x["ask"], 0.0) - np.where(hb, x["bid"], 0.0)).sum(axis=0)
    q = hb.sum(axis=0) - ha.sum(axis=0)
    np.testing.assert_array_equal(r.final_q, q)
    np.testing.assert_array_equal(r.final_q, x["inventory"][-1])
    np.testing.assert_allclose(r.profit, cash + q * x["mid"][-1], rtol=0, atol=1e-8)
    assert (hb & ha).any()                       # both sides can fill in one step


def test_nan_quote_means_no_fill():
    class BidOnly:
        def quotes_vec(self, t, mid, q):
            return mid - 0.5, np.full_like(mid, np.nan)

        def quotes(self, t, mid, q):
            return mid - 0.5, float("nan")

    r = simulate(BidOnly(), as2008.PARAMS, n_paths=200, rng=np.random.default_rng(0))
    assert r.n_ask_fills.sum() == 0 and r.n_bid_fills.sum() > 0
    assert np.all(np.isfinite(r.profit)) and np.all(r.final_q >= 0)


def test_glft_runs_in_the_harness_within_its_bounds():
    from strategies.glft import GLFT, GLFTConfig
    st = GLFT(GLFTConfig(gamma=0.1, k=1.5, A=140.0, sigma=2.0, q_max=4))
    r = simulate(st, as2008.PARAMS, n_paths=2000, rng=np.random.default_rng(8))
    assert np.all(np.abs(r.final_q) <= 4)
    assert 40 < r.summary()["profit_mean"] < 80


def test_model_params_validation():
    with pytest.raises(ValueError, match="fill_timing"):
        ModelParams(fill_timing="during")
    with pytest.raises(ValueError, match="integer number of steps"):
        ModelParams(T=1.0, dt=0.003)
    assert ModelParams().n_steps == 200


def test_cli_writes_json(tmp_path, capsys):
    from lob.cli import main
    out = tmp_path / "as.json"
    assert main(["reproduce", "as2008", "--paths", "300", "--seed", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "after_move" in text and "before_move" in text and "KNOWN DEVIATION" in text
    data = json.loads(out.read_text())
    assert data["n_paths"] == 300 and len(data["rows"]) == 18
    row = next(r for r in data["rows"] if r["gamma"] == 0.1 and r["strategy"] == "inventory")
    assert row["paper"]["profit_mean"] == 62.94
