"""Parameter distributions as config values.

In TOML a distribution is an inline table selected by ``dist``; a bare
value means a constant::

    leverage = { dist = "lognormal", mean = 5.0, sigma = 0.5, min = 1.0, max = 50.0 }
    capital  = { dist = "pareto", alpha = 1.5, scale = 1e4, max = 1e8 }
    latency  = { dist = "uniform", low = 1e5, high = 5e5 }
    side     = { dist = "choice", values = ["long", "short"], weights = [0.7, 0.3] }
    count    = 3                      # = { dist = "const", value = 3 }

Declare such a field with the type :class:`Dist` (any family) or a single
family (``LogNormal``); numeric bounds on the field (``field(ge=1)``)
apply to the distribution's range, so ``leverage: Dist = field(ge=1)``
refuses a lognormal without ``min >= 1``.  Unknown families, unknown,
missing or inconsistent parameters are config errors with file and line.

``dist.sample(rng, n)`` draws ``n`` values with an explicit
``numpy.random.Generator`` (nothing else is accepted: no global state, no
seeds, no legacy ``RandomState``); the same generator state gives the same
draws.  ``min``/``max`` on the unbounded families truncate by rejection
(the shape inside the bounds is kept; no mass piles up on the bounds).

Families (parameters; units are those of the field):

==============  ==============================================================
``const``       ``value`` (a number, string or bool)
``uniform``     ``low``, ``high``  (``low <= high``)
``loguniform``  ``low``, ``high``  (``0 < low <= high``; uniform in log)
``normal``      ``mean``, ``std``; optional ``min``, ``max``
``lognormal``   one of ``mean`` (the mean of the values), ``median`` or ``mu``
                (the mean of their log), and ``sigma`` (std of the log);
                optional ``min``, ``max``
``exponential`` ``mean``; optional ``min``, ``max``
``pareto``      ``alpha`` (tail index), ``scale`` (the minimum value x_m);
                optional ``min``, ``max``
``choice``      ``values`` (numbers, or strings, or bools), optional
                ``weights`` (non-negative, same length; normalised)
==============  ==============================================================
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .base import Config, config, field
from .errors import ConfigError

__all__ = ["Dist", "Support", "Const", "Uniform", "LogUniform", "Normal", "LogNormal",
           "Exponential", "Pareto", "Choice", "sample"]

_MIN_MASS = 1e-4


class Support(NamedTuple):
    """The range of a numeric distribution: ``lo``..``hi`` with open or
    closed ends (used to check field bounds)."""
    lo: float
    hi: float
    lo_open: bool = False
    hi_open: bool = False


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"sample() needs a numpy.random.Generator (numpy.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    return rng


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return int(n)


@config(tag_key="dist")
class Dist(Config):
    """A parameter distribution (``{ dist = "<family>", ... }``; a bare value
    is a constant)."""

    @classmethod
    def from_scalar(cls, value: Any) -> "Dist":
        return Const(value=value)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws as a 1-d array (float64; a ``choice``/``const`` keeps
        its values' dtype)."""
        _check_rng(rng)
        return self._sample(rng, _check_n(n))

    def _sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def support(self) -> Support | None:
        """The range of the values; ``None`` for non-numeric ones."""
        raise NotImplementedError  # pragma: no cover


def sample(d: Dist, rng: np.random.Generator, n: int) -> np.ndarray:
    """``d.sample(rng, n)``."""
    return d.sample(rng, n)


def _is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


@config(tag="const")
class Const(Dist):
    """Always ``value``."""
    value: int | float | str | bool

    def _sample(self, rng, n):
        return np.full(n, self.value)

    def support(self):
        return Support(self.value, self.value) if _is_num(self.value) else None


@config(tag="uniform")
class Uniform(Dist):
    """Uniform on [low, high)."""
    low: float
    high: float

    def validate(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ConfigError("must be finite", key="low" if not math.isfinite(self.low) else "high")
        if self.low > self.high:
            raise ConfigError(f"must be <= high ({self.high!r}), got {self.low!r}", key="low")

    def _sample(self, rng, n):
        return rng.uniform(self.low, self.high, n)

    def support(self):
        return Support(self.low, self.high, False, self.low < self.high)


@config(tag="loguniform")
class LogUniform(Dist):
    """Log-uniform on [low, high]: ``exp(uniform(log low, log high))``."""
    low: float = field(gt=0)
    high: float = field(gt=0)

    def validate(self):
        if not math.isfinite(self.high):
            raise ConfigError("must be finite", key="high")
        if self.low > self.high:
            raise ConfigError(f"must be <= high ({self.high!r}), got {self.low!r}", key="low")

    def _sample(self, rng, n):
        return np.exp(rng.uniform(math.log(self.low), math.log(self.high), n))

    def support(self):
        return Support(self.low, self.high)


def _phi(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


@config
class _Truncatable(Dist):
    """Families with optional truncation bounds ``min``/``max``."""
    min: float | None = None
    """Lower truncation bound (values below are redrawn)."""
    max: float | None = None
    """Upper truncation bound (values above are redrawn)."""

    def _cdf(self, x: float) -> float:  # pragma: no cover
        raise NotImplementedError

    def _raw(self, rng, n):  # pragma: no cover
        raise NotImplementedError

    def _natural(self) -> Support:  # pragma: no cover
        raise NotImplementedError

    def mass(self) -> float:
        """Probability of [min, max] under the untruncated distribution."""
        lo = -math.inf if self.min is None else self.min
        hi = math.inf if self.max is None else self.max
        return max(0.0, self._cdf(hi) - (self._cdf(lo) if lo > -math.inf else 0.0))

    def validate(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ConfigError(f"must be <= max ({self.max!r}), got {self.min!r}", key="min")
        if self.min is not None or self.max is not None:
            m = self.mass()
            if m < _MIN_MASS:
                given = [k for k in ("min", "max") if getattr(self, k) is not None]
                raise ConfigError(f"{'min and max keep' if len(given) == 2 else 'keeps'} only "
                                  f"{m:.3g} of the distribution's mass (at least {_MIN_MASS:g} is "
                                  f"needed)", key=given[0] if len(given) == 1 else None)

    def _sample(self, rng, n):
        if self.min is None and self.max is None:
            return self._raw(rng, n)
        lo = -math.inf if self.min is None else self.min
        hi = math.inf if self.max is None else self.max
        p = self.mass()
        out = np.empty(n)
        filled = 0
        while filled < n:
            need = n - filled
            m = min(int(math.ceil(need / p * 1.2)) + 16, max(4 * need, 1 << 22))
            x = self._raw(rng, m)
            x = x[(x >= lo) & (x <= hi)][:need]
            out[filled:filled + len(x)] = x
            filled += len(x)
        return out

    def support(self):
        s = self._natural()
        lo, lo_open = s.lo, s.lo_open
        hi, hi_open = s.hi, s.hi_open
        if self.min is not None and self.min >= lo:
            lo, lo_open = self.min, False
        if self.max is not None and self.max <= hi:
            hi, hi_open = self.max, False
        return Support(lo, hi, lo_open, hi_open)


@config(tag="normal")
class Normal(_Truncatable):
    """Normal(mean, std), optionally truncated to [min, max]."""
    mean: float
    std: float = field(ge=0)

    def _cdf(self, x):
        if self.std == 0:
            return 1.0 if x >= self.mean else 0.0
        return _phi((x - self.mean) / self.std)

    def _raw(self, rng, n):
        return rng.normal(self.mean, self.std, n)

    def _natural(self):
        if self.std == 0:
            return Support(self.mean, self.mean)
        return Support(-math.inf, math.inf, True, True)


@config(tag="lognormal")
class LogNormal(_Truncatable):
    """exp(Normal(mu, sigma)); give the mean of the values (``mean``), their
    ``median`` (= exp(mu)) or ``mu`` itself; optionally truncated."""
    mean: float | None = field(None, gt=0)
    median: float | None = field(None, gt=0)
    mu: float | None = None
    sigma: float = field(ge=0)

    @property
    def log_mean(self) -> float:
        """``mu``, the mean of the log."""
        if self.mu is not None:
            return self.mu
        if self.median is not None:
            return math.log(self.median)
        return math.log(self.mean) - 0.5 * self.sigma ** 2

    def validate(self):
        given = [k for k in ("mean", "median", "mu") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ConfigError("give exactly one of 'mean', 'median' or 'mu'"
                              + (f" (got {', '.join(map(repr, given))})" if given else ""))
        _Truncatable.validate(self)

    def _cdf(self, x):
        if x <= 0:
            return 0.0
        if math.isinf(x):
            return 1.0
        if self.sigma == 0:
            return 1.0 if math.log(x) >= self.log_mean else 0.0
        return _phi((math.log(x) - self.log_mean) / self.sigma)

    def _raw(self, rng, n):
        return rng.lognormal(self.log_mean, self.sigma, n)

    def _natural(self):
        if self.sigma == 0:
            v = math.exp(self.log_mean)
            return Support(v, v)
        return Support(0.0, math.inf, True, True)


@config(tag="exponential")
class Exponential(_Truncatable):
    """Exponential with the given ``mean``, optionally truncated."""
    mean: float = field(gt=0)

    def _cdf(self, x):
        return 0.0 if x <= 0 else 1.0 - math.exp(-x / self.mean)

    def _raw(self, rng, n):
        return rng.exponential(self.mean, n)

    def _natural(self):
        return Support(0.0, math.inf, False, True)


@config(tag="pareto")
class Pareto(_Truncatable):
    """Pareto (type I): P(X > x) = (scale / x)^alpha for x >= scale;
    optionally truncated."""
    alpha: float = field(gt=0)
    scale: float = field(gt=0)

    def _cdf(self, x):
        if x < self.scale:
            return 0.0
        if math.isinf(x):
            return 1.0
        return 1.0 - (self.scale / x) ** self.alpha

    def _raw(self, rng, n):
        return self.scale * (1.0 + rng.pareto(self.alpha, n))

    def _natural(self):
        return Support(self.scale, math.inf, False, True)


@config(tag="choice")
class Choice(Dist):
    """One of ``values``, with probabilities ``weights`` (normalised;
    equal when absent)."""
    values: tuple[int | float | str | bool, ...] = field(min_len=1)
    weights: tuple[float, ...] | None = field(None, ge=0)

    def validate(self):
        kinds = {("num" if _is_num(v) else type(v).__name__) for v in self.values}
        if len(kinds) > 1:
            raise ConfigError("mixes numbers, strings and booleans; use one kind", key="values")
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ConfigError(f"has {len(self.weights)} items for {len(self.values)} values",
                                  key="weights")
            if not math.isfinite(sum(self.weights)) or sum(self.weights) <= 0:
                raise ConfigError("must have a positive finite sum", key="weights")

    def _sample(self, rng, n):
        vals = np.asarray(self.values)
        if self.weights is None:
            idx = rng.integers(0, len(vals), n)
        else:
            w = np.asarray(self.weights, dtype=float)
            idx = rng.choice(len(vals), size=n, p=w / w.sum())
        return vals[idx]

    def support(self):
        if not all(_is_num(v) for v in self.values):
            return None
        vals = [v for i, v in enumerate(self.values) if self.weights is None or self.weights[i] > 0]
        return Support(min(vals), max(vals))
