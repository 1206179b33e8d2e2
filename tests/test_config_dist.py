"""lob.config.dist: distributions as config values, validated with lines,
sampled only with an explicit numpy Generator."""
import math

import numpy as np
import pytest

from lob.config import (Choice, Config, ConfigError, Const, Dist, Exponential, LogNormal, LogUniform,
                        Normal, Pareto, Uniform, config, field, loads_toml)


@config
class Pop(Config):
    leverage: Dist = field(default=Const(value=1.0), ge=1, le=125, unit="x")
    capital: Dist = field(default=Const(value=1e4), gt=0, unit="USD")
    kind: Dist = field(default=Const(value="retail"))
    latency: LogNormal | None = None


def build(text: str, name="p.toml"):
    return loads_toml(text, name).build(Pop)


def test_forms():
    p = build('''
leverage = { dist = "lognormal", mean = 5.0, sigma = 0.5, min = 1.0, max = 50.0 }
capital = { dist = "pareto", alpha = 1.5, scale = 1e4 }
kind = { dist = "choice", values = ["retail", "whale"], weights = [9, 1] }
latency = { dist = "lognormal", median = 2e6, sigma = 0.3 }
''')
    assert p.leverage == LogNormal(mean=5.0, sigma=0.5, min=1.0, max=50.0)
    assert p.capital == Pareto(alpha=1.5, scale=1e4)
    assert p.kind == Choice(values=("retail", "whale"), weights=(9.0, 1.0))
    assert p.latency.log_mean == pytest.approx(math.log(2e6))
    assert build("leverage = 3").leverage == Const(value=3)          # a bare number is a constant
    assert build('leverage = { dist = "const", value = 2.5 }').leverage == Const(value=2.5)
    assert build('leverage = { dist = "uniform", low = 1, high = 10 }').leverage == Uniform(low=1.0, high=10.0)
    assert Dist.from_dict({"dist": "exponential", "mean": 2}) == Exponential(mean=2.0)
    assert Pop(leverage=4).leverage == Const(value=4)
    assert Pop().to_dict()["leverage"] == {"dist": "const", "value": 1.0}
    assert Pop.from_dict(build('leverage = { dist = "loguniform", low = 1, high = 100 }').to_dict()) == \
        Pop(leverage=LogUniform(low=1, high=100))


@pytest.mark.parametrize("line, message", [
    ('leverage = { dist = "lognorml", mean = 5.0, sigma = 0.5 }',
     "leverage.dist: unknown dist 'lognorml' (did you mean 'lognormal'?); expected one of 'choice', "
     "'const', 'exponential', 'lognormal', 'loguniform', 'normal', 'pareto', 'uniform'"),
    ('leverage = { mean = 5.0, sigma = 0.5 }',
     "missing required key 'dist' in [leverage] (one of: 'choice', 'const', 'exponential', 'lognormal', "
     "'loguniform', 'normal', 'pareto', 'uniform')"),
    ('leverage = { dist = "lognormal", mean = 5.0, sigmaa = 0.5 }',
     "unknown key 'sigmaa' in [leverage] (did you mean 'sigma'?)\n"
     "pop.toml:3: missing required key 'sigma' in [leverage]"),
    ('leverage = { dist = "uniform", low = 1.0 }', "missing required key 'high' in [leverage]"),
    ('leverage = { dist = "uniform", low = 9.0, high = 2.0 }', "leverage.low: must be <= high (2.0), got 9.0"),
    ('leverage = { dist = "uniform", low = 1.0, high = "x" }', "leverage.high: expected float, got str 'x'"),
    ('leverage = { dist = "lognormal", mean = 5.0, median = 4.0, sigma = 0.5, min = 1 }',
     "leverage: give exactly one of 'mean', 'median' or 'mu' (got 'mean', 'median')"),
    ('leverage = { dist = "lognormal", mean = 5.0, sigma = -0.5, min = 1 }', "leverage.sigma: must be >= 0, got -0.5"),
    ('leverage = { dist = "lognormal", mean = 5.0, sigma = 0.5 }',
     "leverage: values must be >= 1, <= 125, but the distribution's range is (0.0, inf) (narrow it, "
     "e.g. with min/max)"),
    ('leverage = { dist = "lognormal", mean = 5.0, sigma = 0.5, min = 1, max = 500 }',
     "leverage: values must be <= 125, but the distribution's range is [1.0, 500.0] (narrow it, e.g. with min/max)"),
    ('leverage = { dist = "lognormal", mean = 5.0, sigma = 0.5, min = 60, max = 50 }',
     "leverage.min: must be <= max (50.0), got 60.0"),
    ('leverage = { dist = "normal", mean = 5.0, std = 0.1, min = 9, max = 10 }',
     "leverage: min and max keep only 0 of the distribution's mass (at least 0.0001 is needed)"),
    ('leverage = { dist = "choice", values = [] }', "leverage.values: needs at least 1 item, got 0"),
    ('leverage = { dist = "choice", values = [1, 2], weights = [1] }',
     "leverage.weights: has 1 items for 2 values"),
    ('leverage = { dist = "choice", values = [1, 2], weights = [1, -1] }', "leverage.weights[1]: must be >= 0, got -1.0"),
    ('leverage = { dist = "choice", values = [1, 2], weights = [0, 0] }', "leverage.weights: must have a positive finite sum"),
    ('leverage = { dist = "choice", values = [1, "a"] }', "leverage.values: mixes numbers, strings and booleans; use one kind"),
    ('leverage = { dist = "choice", values = [0.5, 2] }',
     "leverage: values must be >= 1, but the distribution's range is [0.5, 2] (narrow it, e.g. with min/max)"),
    ('leverage = 0.5', "leverage: must be >= 1, got 0.5"),
    ('leverage = "high"', "leverage: must be numeric (>= 1, <= 125), got a non-numeric distribution"),
    ('leverage = [1, 2]', "leverage: expected a table (Dist), got an array [1, 2]"),
    ('capital = { dist = "pareto", alpha = 0, scale = 1 }', "capital.alpha: must be > 0, got 0.0"),
    ('latency = { dist = "uniform", low = 1, high = 2 }', "latency.dist: expected 'lognormal' here, got 'uniform'"),
    ('leverage = { dist = 3 }', "leverage.dist: unknown dist int 3; expected one of 'choice', 'const', "
                               "'exponential', 'lognormal', 'loguniform', 'normal', 'pareto', 'uniform'"),
])
def test_bad_distributions_cite_line(line, message):
    text = f"# population\n\n{line}\n"
    with pytest.raises(ConfigError) as ei:
        build(text, "pop.toml")
    assert str(ei.value) == f"pop.toml:3: {message}"


def test_open_lower_bound_of_lognormal_satisfies_gt_zero():
    assert build('capital = { dist = "lognormal", mean = 5e3, sigma = 1.0 }').capital.support() == \
        (0.0, math.inf, True, True)
    with pytest.raises(ConfigError, match="values must be > 0"):
        build('capital = { dist = "normal", mean = 5e3, std = 1.0 }')
    assert build('capital = { dist = "normal", mean = 5e3, std = 1.0, min = 1 }').capital.min == 1.0


ALL = [
    Const(value=2.5), Const(value="a"), Uniform(low=-1, high=3), LogUniform(low=1e-3, high=10),
    Normal(mean=1, std=2), Normal(mean=1, std=2, min=0, max=1.5), LogNormal(mean=5, sigma=0.5),
    LogNormal(mu=0.0, sigma=1.0, min=1.0, max=50.0), Exponential(mean=3.0), Exponential(mean=3, min=1, max=2),
    Pareto(alpha=1.5, scale=1e4), Pareto(alpha=1.1, scale=1, max=100), Choice(values=(1, 2, 3)),
    Choice(values=("x", "y"), weights=(0.2, 0.8)), Choice(values=(True, False), weights=(1, 0)),
]


@pytest.mark.parametrize("d", ALL, ids=repr)
def test_sampling_deterministic_and_in_range(d):
    a = d.sample(np.random.default_rng(123), 2000)
    b = d.sample(np.random.default_rng(123), 2000)
    c = d.sample(np.random.default_rng(124), 2000)
    assert a.shape == (2000,) and np.array_equal(a, b)
    s = d.support()
    if s is not None:
        assert a.min() >= s.lo and a.max() <= s.hi
        if s.lo != s.hi and not isinstance(d, Choice) or isinstance(d, Choice) and len(set(d.values)) > 2:
            assert not np.array_equal(a, c)
    assert len(d.sample(np.random.default_rng(0), 0)) == 0
    assert hash(d) == hash(type(d).from_dict(d.to_dict())) and type(d).from_dict(d.to_dict()) == d


def test_sample_moments():
    rng = np.random.default_rng(7)
    x = LogNormal(mean=5.0, sigma=0.5).sample(rng, 200_000)
    assert x.mean() == pytest.approx(5.0, rel=0.01)
    assert np.median(LogNormal(median=4.0, sigma=0.5).sample(rng, 200_000)) == pytest.approx(4.0, rel=0.01)
    p = Pareto(alpha=3.0, scale=2.0).sample(rng, 200_000)
    assert p.min() >= 2.0 and p.mean() == pytest.approx(3.0 * 2.0 / 2.0, rel=0.02)
    t = Normal(mean=0, std=1, min=0).sample(rng, 200_000)      # half-normal
    assert t.min() >= 0 and t.mean() == pytest.approx(math.sqrt(2 / math.pi), rel=0.01)
    ch = Choice(values=(1, 2), weights=(1, 3)).sample(rng, 100_000)
    assert (ch == 2).mean() == pytest.approx(0.75, abs=0.01) and ch.dtype.kind == "i"


def test_only_generators_accepted():
    d = Uniform(low=0, high=1)
    for bad in (None, 42, np.random.RandomState(0), np.random, np.random.SeedSequence(1), np.random.PCG64(1)):
        with pytest.raises(TypeError, match="numpy.random.Generator"):
            d.sample(bad, 3)
    with pytest.raises(TypeError, match="n must be an int"):
        d.sample(np.random.default_rng(0), 2.0)
    with pytest.raises(ValueError, match="n must be >= 0"):
        d.sample(np.random.default_rng(0), -1)


def test_direct_construction_checks():
    with pytest.raises(ConfigError, match=r"^low: must be <= high"):
        Uniform(low=2, high=1)
    with pytest.raises(ConfigError, match=r"^weights: has 2 items for 3 values$"):
        Choice(values=(1, 2, 3), weights=(1, 1))
    with pytest.raises(TypeError):
        Uniform(0, 1)                            # keyword-only
