"""Quoting strategies: Avellaneda-Stoikov (inventory and symmetric) and the
GLFT closed form.  Units: prices in price units, ``gamma``/``k`` in 1/price,
``sigma`` in price/sqrt(time), time in the unit of ``sigma``."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from strategies.avellaneda_stoikov import (ASConfig, AvellanedaStoikov, ConfigError, SymmetricSpread,
                                           as_quotes, optimal_spread, reservation_price)
from strategies.glft import GLFT, GLFTConfig, glft_coefficients, glft_deltas

PAPER = dict(gamma=0.1, k=1.5, sigma=2.0, T=1.0)


# ----------------------------------------------------------------------
# config conventions
# ----------------------------------------------------------------------
@pytest.mark.parametrize("cls, good", [(ASConfig, PAPER), (GLFTConfig, dict(gamma=0.1, k=1.5, A=140.0, sigma=2.0))])
def test_config_frozen_kw_only_slots_and_unknown_keys(cls, good):
    cfg = cls.from_dict(good)
    assert cfg == cls(**good)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.gamma = 1.0
    assert not hasattr(cfg, "__dict__")                    # slots
    with pytest.raises(TypeError):
        cls(*good.values())                                # keyword-only
    with pytest.raises(ConfigError, match="'gama'"):
        cls.from_dict({**good, "gama": 0.2})
    with pytest.raises(ConfigError, match="'foo', 'bar'"):
        cls.from_dict({**good, "foo": 1, "bar": 2})
    with pytest.raises(ConfigError, match="k must be > 0"):
        cls.from_dict({**good, "k": 0.0})
    with pytest.raises(ConfigError, match="sigma must be finite"):
        cls.from_dict({**good, "sigma": float("nan")})
    assert isinstance(ConfigError("x"), ValueError)


def test_as_config_validation():
    with pytest.raises(ConfigError, match="gamma must be > 0"):
        ASConfig(gamma=0.0, k=1.5, sigma=2.0)
    with pytest.raises(ConfigError, match="horizon"):
        ASConfig(gamma=0.1, k=1.5, sigma=2.0, horizon="forever")
    assert ASConfig.from_dict({"gamma": "0.1", "k": 1.5, "sigma": 2}).gamma == 0.1


# ----------------------------------------------------------------------
# Avellaneda-Stoikov formulas
# ----------------------------------------------------------------------
def test_formulas_match_the_paper():
    # r = s - q gamma sigma^2 (T - t);  spread = gamma sigma^2 (T - t) + (2/gamma) ln(1 + gamma/k)
    assert reservation_price(100.0, 3.0, 0.1, 2.0, 0.5) == pytest.approx(100 - 3 * 0.1 * 4 * 0.5)
    assert optimal_spread(0.1, 2.0, 1.5, 0.5) == pytest.approx(0.2 + 20 * math.log(1 + 0.1 / 1.5))
    # the constant parts the paper prints as "average spread"
    for gamma, printed in ((0.1, 1.29), (0.01, 1.33), (0.5, 1.15)):
        assert round(optimal_spread(gamma, 2.0, 1.5, 0.0), 2) == printed
    bid, ask = as_quotes(100.0, 2.0, 0.1, 2.0, 1.5, 0.25, 0.0)
    r = 100 - 2 * 0.1 * 4 * 0.25
    assert (bid + ask) / 2 == pytest.approx(r) and ask - bid == pytest.approx(optimal_spread(0.1, 2.0, 1.5, 0.25))


def test_formulas_broadcast_over_arrays():
    s = np.array([99.0, 100.0, 101.0])
    q = np.array([-1.0, 0.0, 2.0])
    tau = np.array([1.0, 0.5, 0.0])
    r = reservation_price(s, q, 0.1, 2.0, tau)
    assert r == pytest.approx([reservation_price(*a, 0.1, 2.0, b) for a, b in zip(zip(s, q), tau)])
    assert optimal_spread(0.1, 2.0, 1.5, tau) == pytest.approx([optimal_spread(0.1, 2.0, 1.5, x) for x in tau])


def test_quoting_functions_compile_with_numba():
    numba = pytest.importorskip("numba")
    f = numba.njit(as_quotes)
    assert f(100.0, -2.0, 0.1, 2.0, 1.5, 0.3, 0.0) == pytest.approx(as_quotes(100.0, -2.0, 0.1, 2.0, 1.5, 0.3, 0.0))
    assert numba.njit(optimal_spread)(0.0, 2.0, 1.5, 0.3) == pytest.approx(2 / 1.5)
    for xi in (0.1, 0.0):
        assert numba.njit(glft_coefficients)(0.1, xi, 2.0, 140.0, 1.5, 1.0) == pytest.approx(
            glft_coefficients(0.1, xi, 2.0, 140.0, 1.5, 1.0))
    assert numba.njit(glft_deltas)(2.0, 0.6, 0.1, 1.0) == pytest.approx(glft_deltas(2.0, 0.6, 0.1, 1.0))


def test_inventory_strategy_symmetry_and_skew():
    st = AvellanedaStoikov(ASConfig(**PAPER))
    b0, a0 = st.quotes(0.0, 100.0, 0.0)
    assert 100 - b0 == pytest.approx(a0 - 100)                      # symmetric at q = 0
    assert a0 - b0 == pytest.approx(optimal_spread(0.1, 2.0, 1.5, 1.0))
    bl, al = st.quotes(0.0, 100.0, 3.0)                              # long: both quotes lower
    bs, as_ = st.quotes(0.0, 100.0, -3.0)                            # short: both higher
    assert bl < b0 and al < a0 and bs > b0 and as_ > a0
    assert al - bl == pytest.approx(a0 - b0) and as_ - bs == pytest.approx(a0 - b0)   # spread ignores q
    # skew shrinks to zero at the horizon; spread to its constant part
    bT, aT = st.quotes(1.0, 100.0, 3.0)
    assert (bT + aT) / 2 == pytest.approx(100.0)
    assert aT - bT == pytest.approx(optimal_spread(0.1, 2.0, 1.5, 0.0))
    assert st.quotes(1.7, 100.0, 3.0) == pytest.approx((bT, aT))     # past T: tau = 0


def test_gamma_to_zero_limit():
    # risk-neutral limit: spread -> 2/k, no inventory skew
    for gamma in (1e-4, 1e-7):
        st = AvellanedaStoikov(ASConfig(gamma=gamma, k=1.5, sigma=2.0))
        b, a = st.quotes(0.0, 100.0, 5.0)
        assert a - b == pytest.approx(2 / 1.5, rel=1e-3)
        assert (a + b) / 2 == pytest.approx(100.0, abs=1e-2)
    assert optimal_spread(1e-9, 2.0, 1.5, 0.0) == pytest.approx(optimal_spread(0.0, 2.0, 1.5, 0.0))


def test_infinite_horizon_min_spread_and_ticks():
    st = AvellanedaStoikov(ASConfig(**PAPER, horizon="infinite", window=0.25))
    q0 = st.quotes(0.0, 100.0, 2.0)
    assert st.quotes(5.0, 100.0, 2.0) == pytest.approx(q0)
    assert st.quotes(1e6, 100.0, 2.0) == pytest.approx(q0)
    assert q0 == pytest.approx(as_quotes(100.0, 2.0, 0.1, 2.0, 1.5, 0.25, 0.0))
    wide = AvellanedaStoikov(ASConfig(**PAPER, min_spread=3.0))
    b, a = wide.quotes(0.5, 100.0, 1.0)
    assert a - b == pytest.approx(3.0) and (a + b) / 2 == pytest.approx(100 - 0.1 * 4 * 0.5)
    ticked = AvellanedaStoikov(ASConfig(**PAPER, tick_size=0.01))
    b, a = ticked.quotes(0.5, 100.0, 1.0)
    b_raw, a_raw = AvellanedaStoikov(ASConfig(**PAPER)).quotes(0.5, 100.0, 1.0)
    assert b <= b_raw < b + 0.01 and a - 0.01 < a_raw <= a
    assert round(b / 0.01) == pytest.approx(b / 0.01) and round(a / 0.01) == pytest.approx(a / 0.01)


@pytest.mark.parametrize("make", [
    lambda: AvellanedaStoikov(ASConfig(**PAPER)),
    lambda: AvellanedaStoikov(ASConfig(**PAPER, tick_size=0.05, min_spread=1.6)),
    lambda: SymmetricSpread(ASConfig(**PAPER)),
    lambda: SymmetricSpread(ASConfig(**PAPER), spread="matched"),
    lambda: GLFT(GLFTConfig(gamma=0.1, k=1.5, A=140.0, sigma=2.0, q_max=3)),
])
def test_quotes_vec_matches_quotes(make):
    st = make()
    rng = np.random.default_rng(5)
    mid = 100 + rng.normal(size=50)
    q = rng.integers(-6, 7, size=50).astype(float)
    for t in (0.0, 0.37, 1.0):
        bv, av = st.quotes_vec(t, mid, q)
        bv, av = np.broadcast_to(bv, mid.shape), np.broadcast_to(av, mid.shape)
        for j in range(50):
            b, a = st.quotes(t, mid[j], q[j])
            np.testing.assert_allclose([bv[j], av[j]], [b, a], rtol=0, atol=1e-12)


def test_symmetric_strategy_spreads():
    cfg = ASConfig(**PAPER)
    inv = AvellanedaStoikov(cfg)
    for t in (0.0, 0.5, 1.0):
        b, a = SymmetricSpread(cfg).quotes(t, 100.0, 4.0)           # the paper's benchmark
        assert (a + b) / 2 == pytest.approx(100.0)
        assert a - b == pytest.approx(optimal_spread(0.1, 2.0, 1.5, 0.0))
        b, a = SymmetricSpread(cfg, spread="matched").quotes(t, 100.0, 4.0)
        ib, ia = inv.quotes(t, 100.0, 4.0)
        assert (a + b) / 2 == pytest.approx(100.0) and a - b == pytest.approx(ia - ib)
    with pytest.raises(ConfigError, match="spread"):
        SymmetricSpread(cfg, spread="wide")


def test_strategy_accepts_a_dict_config():
    st = AvellanedaStoikov(dict(PAPER))
    assert st.config == ASConfig(**PAPER)
    with pytest.raises(ConfigError, match="'sigm'"):
        AvellanedaStoikov({"gamma": 0.1, "k": 1.5, "sigm": 2.0})


# ----------------------------------------------------------------------
# GLFT
# ----------------------------------------------------------------------
G = dict(gamma=0.1, k=1.5, A=140.0, sigma=2.0)


def test_glft_closed_form_values():
    st = GLFT(GLFTConfig(**G))
    c1 = math.log(1 + 0.1 / 1.5) / 0.1
    c2 = math.sqrt(0.1 * 4 / (2 * 140 * 1.5) * (1 + 0.1 / 1.5) ** (1 + 1.5 / 0.1))
    assert (st.c1, st.c2) == pytest.approx((c1, c2))
    b, a = st.quotes(0.0, 100.0, 2.0)
    assert 100 - b == pytest.approx(c1 + (2 * 2 + 1) / 2 * c2)
    assert a - 100 == pytest.approx(c1 - (2 * 2 - 1) / 2 * c2)


def test_glft_symmetry_at_zero_inventory_and_skew():
    st = GLFT(GLFTConfig(**G))
    b, a = st.quotes(0.3, 100.0, 0.0)
    assert 100 - b == pytest.approx(a - 100)
    db0, da0 = st.deltas(0.0)
    prev = None
    for q in (-3.0, -1.0, 1.0, 3.0):
        db, da = st.deltas(q)
        assert db + da == pytest.approx(db0 + da0)                   # spread ignores q
        if q > 0:
            assert db > db0 and da < da0                             # long: bid away, ask closer
        else:
            assert db < db0 and da > da0
        if prev is not None:
            assert db > prev[0] and da < prev[1]
        prev = (db, da)
    # time is ignored (stationary quotes)
    assert st.quotes(0.0, 100.0, 2.0) == st.quotes(123.0, 100.0, 2.0)


def test_glft_gamma_to_zero_limit():
    # risk-neutral: each quote at 1/k, the maximiser of delta * exp(-k delta); no skew
    for gamma in (1e-6, 1e-9):
        db, da = GLFT(GLFTConfig(**{**G, "gamma": gamma})).deltas(4.0)
        assert db == pytest.approx(1 / 1.5, rel=1e-2) and da == pytest.approx(1 / 1.5, rel=1e-2)
    db, da = GLFT(GLFTConfig(**{**G, "gamma": 0.0})).deltas(4.0)
    assert db == pytest.approx(1 / 1.5) and da == pytest.approx(1 / 1.5)
    # the xi -> 0 (Gueant 2017 risk-adjusted expectation) limit is continuous
    c_small = glft_coefficients(0.1, 1e-10, 2.0, 140.0, 1.5, 1.0)
    c_zero = glft_coefficients(0.1, 0.0, 2.0, 140.0, 1.5, 1.0)
    assert c_small == pytest.approx(c_zero, rel=1e-6)
    assert c_zero == pytest.approx((1 / 1.5, math.sqrt(0.1 * 4 * math.e / (2 * 140 * 1.5))))


def test_glft_inventory_bounds_withdraw_a_side():
    st = GLFT(GLFTConfig(**G, q_max=2))
    b, a = st.quotes(0.0, 100.0, 2.0)
    assert math.isnan(b) and math.isfinite(a)
    b, a = st.quotes(0.0, 100.0, -2.0)
    assert math.isfinite(b) and math.isnan(a)
    b, a = st.quotes(0.0, 100.0, 1.0)
    assert math.isfinite(b) and math.isfinite(a)
