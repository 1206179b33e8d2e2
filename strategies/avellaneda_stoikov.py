"""Avellaneda & Stoikov (2008) inventory-based quoting.

M. Avellaneda and S. Stoikov, "High-frequency trading in a limit order book",
Quantitative Finance 8(3), 217-224 (2008).  The mid-price follows
``dS = sigma dW``; market orders hit the agent's quotes with intensity
``lambda(delta) = A exp(-k delta)``, ``delta`` being the distance of a quote
from the mid.  For an agent with exponential utility (risk aversion
``gamma``) and inventory ``q`` the approximate optimal quotes are (paper,
eqs. (29)-(30))::

    reservation price   r = s - q gamma sigma^2 (T - t)
    total spread        delta_a + delta_b = gamma sigma^2 (T - t) + (2/gamma) ln(1 + gamma/k)
    bid = r - spread/2,  ask = r + spread/2

Units used throughout this module:

* prices ``s``, ``r``, quotes, spreads: price units (e.g. dollars);
* time ``t``, ``T``, ``window``: the time unit in which ``sigma`` is quoted;
* ``sigma``: price units per sqrt(time unit) (arithmetic Brownian motion);
* ``gamma``, ``k``: 1 / price units (``gamma`` per unit of P&L, ``k`` per
  unit of quote distance);
* inventory ``q``: units of the asset (the paper's orders are one unit).

The module has two layers:

* pure quoting functions on scalar floats (:func:`reservation_price`,
  :func:`optimal_spread`, :func:`as_quotes`), written with arithmetic and
  ``math.log1p`` only so that ``numba.njit`` compiles them unchanged; the
  arithmetic ones also broadcast over numpy arrays of ``s``, ``q``, ``tau``;
* strategy objects (:class:`AvellanedaStoikov`, :class:`SymmetricSpread`)
  with ``quotes(t, mid, inventory) -> (bid_price, ask_price)`` and a
  vectorized ``quotes_vec`` for path-parallel harnesses.  They hold no
  state besides their frozen config and know nothing of any environment.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

__all__ = [
    "ConfigError",
    "ASConfig",
    "reservation_price",
    "optimal_spread",
    "as_quotes",
    "AvellanedaStoikov",
    "SymmetricSpread",
    "SYMMETRIC_SPREADS",
]


class ConfigError(ValueError):
    """A strategy config was given an unknown key or an invalid value."""


def config_from_dict(cls, d: Mapping[str, Any]):
    """Build the frozen dataclass ``cls`` from a mapping, rejecting unknown
    keys with a :class:`ConfigError` that names them (shared by the strategy
    configs of this package)."""
    if not isinstance(d, Mapping):
        raise ConfigError(f"{cls.__name__}.from_dict expects a mapping, got {type(d).__name__}")
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = [key for key in d if key not in known]
    if unknown:
        raise ConfigError(
            f"unknown key{'s' if len(unknown) > 1 else ''} for {cls.__name__}: "
            + ", ".join(repr(key) for key in unknown)
            + f" (known keys: {', '.join(sorted(known))})")
    return cls(**d)


def _finite(name: str, x, *, positive: bool = False, nonneg: bool = False) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {x!r}") from None
    if not math.isfinite(v):
        raise ConfigError(f"{name} must be finite, got {x!r}")
    if positive and not v > 0:
        raise ConfigError(f"{name} must be > 0, got {x!r}")
    if nonneg and not v >= 0:
        raise ConfigError(f"{name} must be >= 0, got {x!r}")
    return v


# ----------------------------------------------------------------------
# pure quoting functions (numba-friendly: scalar floats, no Python objects)
# ----------------------------------------------------------------------
def reservation_price(s: float, q: float, gamma: float, sigma: float, tau: float) -> float:
    """Reservation (indifference) price ``r = s - q gamma sigma^2 tau``.

    ``s``: mid-price (price units); ``q``: inventory (units); ``gamma``:
    risk aversion (1/price); ``sigma``: volatility (price/sqrt(time));
    ``tau``: time to horizon ``T - t`` (time).  Returns price units.
    Broadcasts over numpy arrays of ``s``, ``q``, ``tau``.
    """
    return s - q * gamma * sigma * sigma * tau


def optimal_spread(gamma: float, sigma: float, k: float, tau: float) -> float:
    """Total optimal spread ``delta_a + delta_b`` (price units)::

        gamma sigma^2 tau + (2/gamma) ln(1 + gamma/k)

    The second term tends to ``2/k`` as ``gamma -> 0`` (risk-neutral limit);
    ``gamma == 0`` returns that limit exactly.  Units as in
    :func:`reservation_price`; ``k`` in 1/price.  Broadcasts over ``tau``.
    """
    if gamma == 0.0:
        return 2.0 / k + 0.0 * tau
    return gamma * sigma * sigma * tau + (2.0 / gamma) * math.log1p(gamma / k)


def as_quotes(s: float, q: float, gamma: float, sigma: float, k: float, tau: float,
              min_spread: float) -> tuple[float, float]:
    """Avellaneda-Stoikov ``(bid, ask)`` in price units: the optimal spread
    (floored at ``min_spread``) centred on the reservation price.

    The two formulas are written out here rather than called, so that
    ``numba.njit(as_quotes)`` compiles on its own (a jitted function
    cannot call plain Python functions)."""
    var = gamma * sigma * sigma * tau
    r = s - q * var
    if gamma == 0.0:
        spread = 2.0 / k
    else:
        spread = var + (2.0 / gamma) * math.log1p(gamma / k)
    half = 0.5 * max(spread, min_spread)
    return r - half, r + half


# ----------------------------------------------------------------------
# config
# ----------------------------------------------------------------------
HORIZONS = ("finite", "infinite")


@dataclass(frozen=True, kw_only=True, slots=True)
class ASConfig:
    """Parameters of the Avellaneda-Stoikov quoter (see the module docstring
    for units).

    gamma:       risk aversion, 1/price units (> 0).
    k:           decay of the order-arrival intensity ``A exp(-k delta)``,
                 1/price units (> 0).
    sigma:       mid-price volatility, price units / sqrt(time) (>= 0).
    T:           terminal time of the finite horizon, time units (> 0).
    horizon:     ``"finite"`` (the paper: ``tau = max(T - t, 0)``) or
                 ``"infinite"`` (``tau = window`` at every ``t``, a
                 stationary quoter for open-ended runs).
    window:      time units; the fixed ``tau`` of the infinite horizon
                 (default: ``T``).  Ignored for the finite horizon.
    order_size:  quantity of each quote, asset units (> 0); for the book
                 user, the paper's unit orders are ``1``.
    min_spread:  floor on the quoted total spread ``ask - bid``, price
                 units (>= 0); the floor widens symmetrically about ``r``.
    tick_size:   if > 0, bids are rounded down and asks up to this price
                 grid (price units); ``0`` leaves quotes continuous.
    """

    gamma: float
    k: float
    sigma: float
    T: float = 1.0
    horizon: str = "finite"
    window: float | None = None
    order_size: float = 1.0
    min_spread: float = 0.0
    tick_size: float = 0.0

    def __post_init__(self):
        set_ = lambda name, v: object.__setattr__(self, name, v)  # noqa: E731
        set_("gamma", _finite("gamma", self.gamma, positive=True))
        set_("k", _finite("k", self.k, positive=True))
        set_("sigma", _finite("sigma", self.sigma, nonneg=True))
        set_("T", _finite("T", self.T, positive=True))
        if self.horizon not in HORIZONS:
            raise ConfigError(f"horizon must be one of {HORIZONS}, got {self.horizon!r}")
        if self.window is not None:
            set_("window", _finite("window", self.window, nonneg=True))
        set_("order_size", _finite("order_size", self.order_size, positive=True))
        set_("min_spread", _finite("min_spread", self.min_spread, nonneg=True))
        set_("tick_size", _finite("tick_size", self.tick_size, nonneg=True))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ASConfig":
        """Build from a mapping; an unknown key raises :class:`ConfigError`
        naming it."""
        return config_from_dict(cls, d)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def tau(self, t):
        """Time left to the horizon (time units) at time ``t``: ``max(T - t, 0)``
        for the finite horizon, the fixed ``window`` for the infinite one."""
        if self.horizon == "infinite":
            return self.T if self.window is None else self.window
        if isinstance(t, np.ndarray):
            return np.maximum(self.T - t, 0.0)
        return max(self.T - t, 0.0)


def _round_to_grid(bid, ask, tick: float):
    if tick > 0:
        # a tiny tolerance keeps exact grid prices from moving a tick on float noise
        eps = 1e-9
        bid = np.floor(np.asarray(bid) / tick + eps) * tick
        ask = np.ceil(np.asarray(ask) / tick - eps) * tick
    return bid, ask


# ----------------------------------------------------------------------
# strategies
# ----------------------------------------------------------------------
class AvellanedaStoikov:
    """The paper's inventory strategy: quotes ``r -/+ spread/2``.

    ``quotes(t, mid, inventory)`` takes time (time units), mid-price (price
    units) and inventory (asset units) and returns ``(bid_price,
    ask_price)`` in price units.  ``quotes_vec`` does the same for numpy
    arrays of ``mid`` and ``inventory`` (one entry per simulated path).
    Quotes may lie on the far side of the mid when the inventory is large;
    the strategy does not clip them (the paper does not either).
    """

    name = "inventory"

    def __init__(self, config: ASConfig | Mapping[str, Any]):
        self.config = config if isinstance(config, ASConfig) else ASConfig.from_dict(config)

    def __repr__(self):
        return f"{type(self).__name__}({self.config!r})"

    def spread(self, t) -> float:
        """Total quoted spread ``ask - bid`` at time ``t`` (price units),
        before tick rounding; independent of inventory."""
        c = self.config
        return np.maximum(optimal_spread(c.gamma, c.sigma, c.k, c.tau(t)), c.min_spread)

    def quotes(self, t: float, mid: float, inventory: float) -> tuple[float, float]:
        c = self.config
        bid, ask = as_quotes(float(mid), float(inventory), c.gamma, c.sigma, c.k,
                             c.tau(float(t)), c.min_spread)
        if c.tick_size > 0:
            bid, ask = _round_to_grid(bid, ask, c.tick_size)
            return float(bid), float(ask)
        return bid, ask

    def quotes_vec(self, t: float, mid: np.ndarray, inventory: np.ndarray):
        c = self.config
        tau = c.tau(float(t))
        r = reservation_price(np.asarray(mid, dtype=float), np.asarray(inventory, dtype=float),
                              c.gamma, c.sigma, tau)
        half = 0.5 * max(optimal_spread(c.gamma, c.sigma, c.k, tau), c.min_spread)
        return _round_to_grid(r - half, r + half, c.tick_size)


SYMMETRIC_SPREADS = ("constant", "matched")


class SymmetricSpread(AvellanedaStoikov):
    """The paper's benchmark "symmetric strategy": quotes centred on the mid,
    ignoring the inventory.  Same config and methods as
    :class:`AvellanedaStoikov`; ``spread`` chooses its total spread:

    ``"constant"`` (default; the one that reproduces the paper)
        ``(2/gamma) ln(1 + gamma/k)`` (floored at ``min_spread``) at every
        ``t``: the inventory strategy's spread without its
        ``gamma sigma^2 (T - t)`` term, i.e. the value the paper prints in
        its "average spread" column (1.29, 1.33, 1.15 for gamma = 0.1,
        0.01, 0.5).  Only with this spread does the paper's symmetric row
        at gamma = 0.5 (profit 66.20, std 14.53, final-q std 9.06) come
        out; see ``lob.reproduce.as2008``.
    ``"matched"``
        the inventory strategy's full total spread at that ``t``,
        ``gamma sigma^2 (T - t) + (2/gamma) ln(1 + gamma/k)``; a
        like-for-like comparison, but it gives about 58 rather than the
        paper's 66 at gamma = 0.5.
    """

    name = "symmetric"

    def __init__(self, config: ASConfig | Mapping[str, Any], *, spread: str = "constant"):
        super().__init__(config)
        if spread not in SYMMETRIC_SPREADS:
            raise ConfigError(f"spread must be one of {SYMMETRIC_SPREADS}, got {spread!r}")
        self.spread_mode = spread

    def __repr__(self):
        return f"SymmetricSpread({self.config!r}, spread={self.spread_mode!r})"

    def spread(self, t) -> float:
        c = self.config
        if self.spread_mode == "matched":
            return super().spread(t)
        return np.maximum(optimal_spread(c.gamma, c.sigma, c.k, 0.0 * np.asarray(t, dtype=float)),
                          c.min_spread)

    def _tau(self, t):
        return self.config.tau(t) if self.spread_mode == "matched" else 0.0

    def quotes(self, t: float, mid: float, inventory: float) -> tuple[float, float]:
        c = self.config
        # inventory 0 and the mode's tau: the reservation price is the mid
        bid, ask = as_quotes(float(mid), 0.0, c.gamma, c.sigma, c.k, self._tau(float(t)), c.min_spread)
        if c.tick_size > 0:
            bid, ask = _round_to_grid(bid, ask, c.tick_size)
            return float(bid), float(ask)
        return bid, ask

    def quotes_vec(self, t: float, mid: np.ndarray, inventory: np.ndarray):
        c = self.config
        mid = np.asarray(mid, dtype=float)
        half = 0.5 * max(optimal_spread(c.gamma, c.sigma, c.k, self._tau(float(t))), c.min_spread)
        return _round_to_grid(mid - half, mid + half, c.tick_size)
