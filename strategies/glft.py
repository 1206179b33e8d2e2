"""Gueant-Lehalle-Fernandez-Tapia closed-form (asymptotic) quotes.

O. Gueant, C.-A. Lehalle and J. Fernandez-Tapia, "Dealing with the inventory
risk: a solution to the market making problem", Mathematics and Financial
Economics 7(4), 477-507 (2013), and O. Gueant, "Optimal market making",
Applied Mathematical Finance 24(6), 497-528 (2017).

Same market as Avellaneda-Stoikov (``dS = sigma dW``, fills at intensity
``A exp(-k delta)``), but the optimal quotes far from the horizon converge
to stationary values, approximated in closed form.  With trade size
``Delta`` and ``xi`` the exponent of the objective (``xi = gamma`` for the
expected CARA utility of the 2013 paper, ``xi = 0`` for the risk-adjusted
expectation of the 2017 paper)::

    c1 = 1/(xi Delta) ln(1 + xi Delta / k)                  (-> 1/k as xi -> 0)
    c2 = sqrt( gamma sigma^2 / (2 A Delta k) (1 + xi Delta / k)^(k/(xi Delta) + 1) )
                                                            (-> sqrt(gamma sigma^2 e / (2 A Delta k)))
    delta_b(q) = c1 + (2q + Delta)/2 * c2       bid = mid - delta_b(q)
    delta_a(q) = c1 - (2q - Delta)/2 * c2       ask = mid + delta_a(q)

so the total spread is ``2 c1 + Delta c2`` whatever the inventory and the
quotes are skewed by ``q c2`` (a long agent lowers both quotes).

Units: prices, quote distances ``delta`` and ``c1``, ``c2``: price units
(``c2`` per unit of inventory); ``gamma``, ``xi``, ``k``: 1/price units;
``sigma``: price / sqrt(time); ``A``: 1/time; inventory, ``Delta``,
``q_max``: asset units.  The quotes do not depend on time.

With inventory bounds (``q_max``), the side that would push ``|q|`` beyond
the bound is withdrawn: its quote is returned as NaN ("no quote"), which
harnesses treat as "cannot fill".  (The closed form itself is the
unconstrained asymptotic; near the bounds the exact solution of the
2013 paper differs.)
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .avellaneda_stoikov import ConfigError, _finite, _round_to_grid, config_from_dict

__all__ = ["GLFTConfig", "glft_coefficients", "glft_deltas", "GLFT", "ConfigError"]


# ----------------------------------------------------------------------
# pure functions (numba-friendly scalar floats)
# ----------------------------------------------------------------------
def glft_coefficients(gamma: float, xi: float, sigma: float, A: float, k: float,
                      delta: float) -> tuple[float, float]:
    """``(c1, c2)`` of the closed-form quotes (module docstring), in price
    units (``c2`` per unit of inventory).  ``xi = 0`` gives the exact
    ``xi -> 0`` limits."""
    x = xi * delta / k
    if x == 0.0:
        c1 = 1.0 / k
        power = math.e
    else:
        c1 = math.log1p(x) / (xi * delta)
        power = math.exp((k / (xi * delta) + 1.0) * math.log1p(x))
    c2 = math.sqrt(gamma * sigma * sigma / (2.0 * A * delta * k) * power)
    return c1, c2


def glft_deltas(q: float, c1: float, c2: float, delta: float) -> tuple[float, float]:
    """``(delta_b, delta_a)``: distances (price units) of the bid below and of
    the ask above the mid at inventory ``q`` (asset units).  Broadcasts over
    an array ``q``."""
    return c1 + (2.0 * q + delta) * 0.5 * c2, c1 - (2.0 * q - delta) * 0.5 * c2


# ----------------------------------------------------------------------
# config
# ----------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, slots=True)
class GLFTConfig:
    """Parameters of the GLFT quoter (units in the module docstring).

    gamma:      risk aversion, 1/price units (>= 0; 0 is the risk-neutral limit).
    k:          intensity decay, 1/price units (> 0).
    A:          intensity at zero distance, 1/time (> 0).
    sigma:      mid volatility, price units / sqrt(time) (>= 0).
    xi:         objective exponent, 1/price units: ``None`` means
                ``xi = gamma`` (CARA utility, GLFT 2013); ``0`` the
                risk-adjusted expectation of Gueant (2017).
    order_size: trade size ``Delta`` of each quote, asset units (> 0).
    q_max:      inventory bound, asset units (``None``: unbounded); at
                ``q >= q_max`` no bid, at ``q <= -q_max`` no ask.
    min_spread: floor on ``ask - bid``, price units (>= 0), widened
                symmetrically about the quotes' centre.
    tick_size:  if > 0, bids rounded down and asks up to this grid (price units).
    """

    gamma: float
    k: float
    A: float
    sigma: float
    xi: float | None = None
    order_size: float = 1.0
    q_max: float | None = None
    min_spread: float = 0.0
    tick_size: float = 0.0

    def __post_init__(self):
        set_ = lambda name, v: object.__setattr__(self, name, v)  # noqa: E731
        set_("gamma", _finite("gamma", self.gamma, nonneg=True))
        set_("k", _finite("k", self.k, positive=True))
        set_("A", _finite("A", self.A, positive=True))
        set_("sigma", _finite("sigma", self.sigma, nonneg=True))
        if self.xi is not None:
            set_("xi", _finite("xi", self.xi, nonneg=True))
        set_("order_size", _finite("order_size", self.order_size, positive=True))
        if self.q_max is not None:
            set_("q_max", _finite("q_max", self.q_max, positive=True))
        set_("min_spread", _finite("min_spread", self.min_spread, nonneg=True))
        set_("tick_size", _finite("tick_size", self.tick_size, nonneg=True))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "GLFTConfig":
        """Build from a mapping; an unknown key raises :class:`ConfigError`
        naming it."""
        return config_from_dict(cls, d)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @property
    def xi_effective(self) -> float:
        return self.gamma if self.xi is None else self.xi


class GLFT:
    """Closed-form GLFT quoter.  ``quotes(t, mid, inventory) -> (bid_price,
    ask_price)`` (price units; ``t`` is accepted for interface compatibility
    and ignored: the asymptotic quotes are stationary); ``quotes_vec`` for
    arrays of mids and inventories.  A withdrawn side (inventory bound) is NaN.
    """

    name = "glft"

    def __init__(self, config: GLFTConfig | Mapping[str, Any]):
        c = config if isinstance(config, GLFTConfig) else GLFTConfig.from_dict(config)
        self.config = c
        self.c1, self.c2 = glft_coefficients(c.gamma, c.xi_effective, c.sigma, c.A, c.k, c.order_size)

    def __repr__(self):
        return f"GLFT({self.config!r})"

    def deltas(self, inventory):
        """``(delta_b, delta_a)`` at ``inventory`` before flooring and rounding
        (price units)."""
        return glft_deltas(inventory, self.c1, self.c2, self.config.order_size)

    def quotes_vec(self, t, mid, inventory):
        c = self.config
        mid = np.asarray(mid, dtype=float)
        q = np.asarray(inventory, dtype=float)
        db, da = glft_deltas(q, self.c1, self.c2, c.order_size)
        widen = 0.5 * np.maximum(c.min_spread - (db + da), 0.0)
        bid, ask = _round_to_grid(mid - db - widen, mid + da + widen, c.tick_size)
        if c.q_max is not None:
            bid = np.where(q >= c.q_max, np.nan, bid)
            ask = np.where(q <= -c.q_max, np.nan, ask)
        return bid, ask

    def quotes(self, t: float, mid: float, inventory: float) -> tuple[float, float]:
        bid, ask = self.quotes_vec(t, float(mid), float(inventory))
        return float(bid), float(ask)
