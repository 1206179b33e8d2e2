"""The config machinery on an example scenario schema (not the real one):
assets, venues (named tables), books (array of tables), agent populations
with distributions and strategy specs, shocks (a tagged union in an array
of tables), policies with Literal choices; a base scenario file and a
counterfactual that extends it."""
import pickle
import sys
import tomllib
import types
from decimal import Decimal
from enum import Enum
from typing import Literal

import numpy as np
import pytest

from lob.config import (Config, ConfigError, Const, Dist, FrozenDict, LogNormal, Pareto,
                        ScenarioResolver, StrategySpec, config, describe, dumps, field,
                        load_scenario)


# ----------------------------------------------------------------------
# a strategy module, as ``strategies.ladder`` would be
# ----------------------------------------------------------------------
@config
class LadderConfig(Config):
    spread: float = field(2.0, gt=0, unit="bps")
    """Half-spread of the innermost quote."""
    levels: int = field(5, ge=1, le=50)
    size: float = field(1.0, gt=0, unit="lots")


class Ladder:
    Config = LadderConfig

    def __init__(self, config: LadderConfig):
        self.config = config


Ladder.__module__ = "cfgtest_strategies"      # what to_dict() writes back


@pytest.fixture(autouse=True)
def strategy_module(monkeypatch):
    mod = types.ModuleType("cfgtest_strategies")
    mod.Ladder = Ladder
    monkeypatch.setitem(sys.modules, "cfgtest_strategies", mod)
    return mod


# ----------------------------------------------------------------------
# the example schema
# ----------------------------------------------------------------------
class OracleKind(Enum):
    SPOT = "spot"
    TWAP = "twap"
    PEGGED = "pegged"


@config
class Asset(Config):
    """A traded asset."""
    symbol: str = field(min_len=1)
    tick_size: Decimal = field(gt=0, unit="USD")
    lot_size: Decimal = field(gt=0)
    initial_price: float = field(gt=0, unit="USD")


@config
class Venue(Config):
    """A trading venue."""
    kind: Literal["clob", "amm"] = "clob"
    maker_fee: float = field(0.0, ge=-10, le=100, unit="bps")
    taker_fee: float = field(0.0, ge=0, le=100, unit="bps")
    latency: Dist = field(default=Const(value=1_000_000), ge=0, unit="ns")
    """One-way latency of an order to the matching engine."""


@config
class Book(Config):
    venue: str
    asset: str
    depth_levels: int = field(20, ge=1)


@config
class AgentPopulation(Config):
    count: int = field(ge=0)
    """Number of agents."""
    capital: Dist = field(gt=0, unit="USD")
    leverage: Dist = field(default=Const(value=1.0), ge=1, le=125, unit="x")
    venues: tuple[str, ...] = ()
    strategy: StrategySpec | None = None


@config(tag_key="kind")
class Shock(Config):
    at: float = field(ge=0, unit="s")
    """Time of the shock from the start."""


@config(tag="price_move")
class PriceMove(Shock):
    """The fundamental price of an asset moves."""
    asset: str
    move: float = field(gt=-100, unit="%")
    over: float = field(0.0, ge=0, unit="s")


@config(tag="liquidity_pull")
class LiquidityPull(Shock):
    """Market makers pull part of their quotes on a venue."""
    venue: str
    fraction: float = field(gt=0, le=1)


@config
class Policies(Config):
    matching: Literal["fifo", "pro_rata"] = "fifo"
    adl: Literal["off", "ranked", "pro_rata"] = "ranked"
    oracle: OracleKind = OracleKind.SPOT


@config
class Output(Config):
    dir: str = "out"
    l2_levels: int = field(10, ge=1)
    snapshot_every: float = field(1.0, gt=0, unit="s")


@config
class ExampleScenario(Config):
    """An example scenario schema."""
    name: str
    version: int | None = None
    seed: int = field(0, ge=0)
    duration: float = field(gt=0, unit="s")
    assets: dict[str, Asset] = field(min_len=1)
    venues: dict[str, Venue] = field(min_len=1)
    books: tuple[Book, ...] = field(min_len=1)
    agents: dict[str, AgentPopulation] = field(default_factory=FrozenDict)
    shocks: tuple[Shock, ...] = ()
    policies: Policies = field(default_factory=Policies)
    output: Output = field(default_factory=Output)

    def validate(self):
        problems = []
        for i, b in enumerate(self.books):
            if b.venue not in self.venues:
                problems.append((("books", i, "venue"), f"unknown venue {b.venue!r} (venues: {', '.join(self.venues)})"))
            if b.asset not in self.assets:
                problems.append((("books", i, "asset"), f"unknown asset {b.asset!r}"))
        for name, a in self.agents.items():
            for j, v in enumerate(a.venues):
                if v not in self.venues:
                    problems.append((("agents", name, "venues", j), f"unknown venue {v!r}"))
        for i, s in enumerate(self.shocks):
            if s.at > self.duration:
                problems.append((("shocks", i, "at"), f"after the end of the run ({self.duration} s)"))
        if problems:
            raise ConfigError.of(problems)


BASE = """\
# Example crash scenario (a test fixture, not the real schema)
name = "example-crash"
version = 2
seed = 7
duration = 3600.0   # s

[assets.ATOM]
symbol = "ATOMUSDT"
tick_size = "0.001"
lot_size = "0.01"
initial_price = 4.188

[assets.BTC]
symbol = "BTCUSDT"
tick_size = "0.1"
lot_size = "0.001"
initial_price = 121000.0

[venues.binance]
maker_fee = 1.0
taker_fee = 4.0
latency = { dist = "lognormal", median = 2e6, sigma = 0.4, min = 1e5, max = 1e8 }

[venues.hyperliquid]
maker_fee = 1.5
taker_fee = 4.5

[[books]]
venue = "binance"
asset = "ATOM"

[[books]]
venue = "hyperliquid"
asset = "ATOM"
depth_levels = 50

[[books]]
venue = "binance"
asset = "BTC"

[agents.mm]
count = 4
capital = { dist = "pareto", alpha = 1.5, scale = 1e5, max = 1e8 }
leverage = 3.0
venues = ["binance", "hyperliquid"]
strategy = { class = "cfgtest_strategies:Ladder", config = { spread = 2.0, levels = 5 } }

[agents.retail]
count = 500
capital = { dist = "lognormal", mean = 5e3, sigma = 1.2 }
leverage = { dist = "choice", values = [2, 5, 10, 20, 50], weights = [0.3, 0.3, 0.2, 0.15, 0.05] }
venues = ["binance"]

[[shocks]]
kind = "price_move"
at = 600.0
asset = "ATOM"
move = -35.0
over = 120.0

[[shocks]]
kind = "liquidity_pull"
at = 600.0
venue = "binance"
fraction = 0.8

[policies]
matching = "fifo"
adl = "ranked"
oracle = "spot"

[output]
dir = "out/example"
"""

COUNTERFACTUAL = """\
# What if ADL had been off and twice the market makers had stayed?
extends = "example-crash"
name = "example-crash-no-adl"

[policies]
adl = "off"

[agents.mm]
count = 8
"""


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line of ``text`` that contains ``needle``."""
    for i, ln in enumerate(text.splitlines(), 1):
        if needle in ln:
            return i
    raise AssertionError(needle)


@pytest.fixture
def scen(tmp_path, monkeypatch):
    """A scenario directory with the base (found by name) and the
    counterfactual; the working directory is tmp_path so files display as
    ``scen/...``."""
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "scen"
    d.mkdir()
    (d / "example-crash.toml").write_text(BASE)
    (d / "no-adl.toml").write_text(COUNTERFACTUAL)
    return d


@pytest.fixture
def resolver(scen):
    return ScenarioResolver(search_path=[scen], package=None)


def test_base_builds(resolver):
    sc = ExampleScenario.load("example-crash", resolver=resolver)
    assert sc.name == "example-crash" and sc.version == 2 and sc.duration == 3600.0
    assert sc.assets["ATOM"].tick_size == Decimal("0.001")
    assert sc.venues["binance"].latency == LogNormal(median=2e6, sigma=0.4, min=1e5, max=1e8)
    assert sc.venues["hyperliquid"].latency == Const(value=1_000_000)
    assert [b.venue for b in sc.books] == ["binance", "hyperliquid", "binance"]
    assert sc.books[1].depth_levels == 50 and sc.books[0].depth_levels == 20
    mm = sc.agents["mm"]
    assert mm.capital == Pareto(alpha=1.5, scale=1e5, max=1e8)
    assert mm.leverage == Const(value=3.0)
    assert mm.strategy.cls is Ladder and mm.strategy.config == LadderConfig(spread=2.0, levels=5)
    assert isinstance(mm.strategy.build(), Ladder)
    assert [type(s) for s in sc.shocks] == [PriceMove, LiquidityPull]
    assert sc.shocks[0].move == -35.0
    assert sc.policies.oracle is OracleKind.SPOT
    assert sc.output.dir == "out/example" and sc.output.l2_levels == 10


def test_counterfactual_overrides_two_keys(resolver, scen):
    base = ExampleScenario.load("example-crash", resolver=resolver)
    cf = ExampleScenario.load(str(scen / "no-adl.toml"), resolver=resolver)
    assert cf.policies.adl == "off" and cf.agents["mm"].count == 8
    assert cf.name == "example-crash-no-adl"
    assert cf.version is None                     # versions are not inherited
    # everything else is the base's
    assert cf.replace(name=base.name, version=base.version,
                      policies=base.policies,
                      agents=FrozenDict({**cf.agents, "mm": cf.agents["mm"].replace(count=4)})) == base
    doc = load_scenario(scen / "no-adl.toml", resolver=resolver)
    assert doc.files == ("scen/example-crash.toml", "scen/no-adl.toml")
    assert doc.locate("policies.adl") == ("scen/no-adl.toml", line_of(COUNTERFACTUAL, "adl ="))
    assert doc.locate("agents.mm.count") == ("scen/no-adl.toml", line_of(COUNTERFACTUAL, "count ="))
    assert doc.locate("agents.mm.capital") == ("scen/example-crash.toml", line_of(BASE, "alpha = 1.5"))
    assert doc.locate("books[1].depth_levels") == ("scen/example-crash.toml", line_of(BASE, "depth_levels"))


def test_error_in_overriding_file_points_at_it(resolver, scen):
    bad = COUNTERFACTUAL.replace("count = 8", "count = -2\nsprd = 1")
    (scen / "bad.toml").write_text(bad)
    with pytest.raises(ConfigError) as ei:
        ExampleScenario.load("scen/bad.toml", resolver=resolver)
    msg = str(ei.value)
    assert f"scen/bad.toml:{line_of(bad, 'count =')}: agents.mm.count: must be >= 0, got -2" in msg
    assert f"scen/bad.toml:{line_of(bad, 'sprd')}: unknown key 'sprd' in [agents.mm]" in msg
    assert len(ei.value.issues) == 2


def test_error_in_base_key_points_at_base(resolver, scen):
    (scen / "example-crash.toml").write_text(BASE.replace("move = -35.0", "move = -135.0"))
    with pytest.raises(ConfigError) as ei:
        ExampleScenario.load("scen/no-adl.toml", resolver=resolver)
    assert str(ei.value) == (f"scen/example-crash.toml:{line_of(BASE, 'move =')}: "
                             f"shocks[0].move: must be > -100, got -135.0")


def test_cross_reference_errors_cite_lines(resolver, scen):
    bad = COUNTERFACTUAL + '\n[[books]]\nvenue = "okx"\nasset = "ATOM"\n'
    (scen / "bad.toml").write_text(bad)
    with pytest.raises(ConfigError) as ei:
        ExampleScenario.load("scen/bad.toml", resolver=resolver)
    assert str(ei.value) == (f"scen/bad.toml:{line_of(bad, 'okx')}: books[0].venue: unknown venue 'okx' "
                             f"(venues: binance, hyperliquid)")


def test_all_errors_reported_together(resolver, scen):
    bad = BASE.replace('kind = "liquidity_pull"', 'kind = "liquidity-pull"') \
              .replace('matching = "fifo"', 'matching = "FIFO"') \
              .replace("sigma = 1.2", "sigma = 1.2, max = 1.0") \
              .replace("levels = 5 }", "levels = 500 }") \
              .replace("leverage = 3.0", "leverage = 0.5")
    (scen / "bad.toml").write_text(bad)
    with pytest.raises(ConfigError) as ei:
        ExampleScenario.load("scen/bad.toml", resolver=resolver)
    assert str(ei.value).splitlines() == [
        f"scen/bad.toml:{line_of(bad, 'leverage = 0.5')}: agents.mm.leverage: must be >= 1, got 0.5",
        f"scen/bad.toml:{line_of(bad, 'levels = 500')}: agents.mm.strategy.config.levels: must be <= 50, got 500",
        f"scen/bad.toml:{line_of(bad, 'max = 1.0')}: agents.retail.capital.max: keeps only 4.08e-11 of the "
        f"distribution's mass (at least 0.0001 is needed)",
        f"scen/bad.toml:{line_of(bad, 'liquidity-pull')}: shocks[1].kind: unknown kind 'liquidity-pull' "
        f"(did you mean 'liquidity_pull'?); expected one of 'liquidity_pull', 'price_move'",
        f"scen/bad.toml:{line_of(bad, 'FIFO')}: policies.matching: 'FIFO' is not one of 'fifo', 'pro_rata' "
        f"(did you mean 'fifo'?)",
    ]


def test_sweep_overrides_with_strings(resolver, scen):
    grid = [{"agents.mm.count": c, "policies.adl": a} for c in ("1", "2", "3") for a in ("off", "ranked")]
    runs = [ExampleScenario.load("example-crash", resolver=resolver, overrides=g) for g in grid]
    assert [(r.agents["mm"].count, r.policies.adl) for r in runs] == \
        [(1, "off"), (1, "ranked"), (2, "off"), (2, "ranked"), (3, "off"), (3, "ranked")]
    assert len({r.fingerprint() for r in runs}) == 6 and len(set(runs)) == 6
    r = ExampleScenario.load("example-crash", resolver=resolver, overrides={
        "agents.retail.leverage": "{ dist = 'uniform', low = 1, high = 20 }",
        "agents.mm.capital.alpha": "2.5",
        "agents.mm.strategy.config.spread": "3",
        "venues.binance.latency": "500000",
        "books[1].depth_levels": "10",
        "books.2.asset": "ATOM",
        "policies.oracle": "twap",
        "shocks[0].move": "-50",
    })
    assert r.agents["retail"].leverage.support() == (1.0, 20.0, False, True)
    assert r.agents["mm"].capital.alpha == 2.5
    assert r.agents["mm"].strategy.config.spread == 3.0
    assert r.venues["binance"].latency == Const(value=500000)
    assert r.books[1].depth_levels == 10 and r.books[2].asset == "ATOM"
    assert r.policies.oracle is OracleKind.TWAP and r.shocks[0].move == -50.0


def test_bad_overrides(resolver):
    with pytest.raises(ConfigError) as ei:
        ExampleScenario.load("example-crash", resolver=resolver, overrides={
            "agents.mm.cnt": "3", "agents.mm.count": "three", "shocks[0].moves": "1"})
    assert str(ei.value).splitlines() == [
        "<override>: unknown key 'cnt' in [agents.mm] (did you mean 'count'?)",
        "<override>: agents.mm.count: expected int, got 'three'",
        "<override>: unknown key 'moves' in [shocks[0]] (did you mean 'move'?)",
    ]
    with pytest.raises(ConfigError) as ei:
        ExampleScenario.load("example-crash", resolver=resolver, overrides={"agents.mm.count": "-1"})
    assert str(ei.value) == "<override>: agents.mm.count: must be >= 0, got -1"


def test_round_trips(resolver):
    sc = ExampleScenario.load("example-crash", resolver=resolver)
    d = sc.to_dict()
    assert ExampleScenario.from_dict(d) == sc
    text = dumps(d)
    back = ExampleScenario.from_dict(tomllib.loads(text))
    assert back == sc and hash(back) == hash(sc) and back.fingerprint() == sc.fingerprint()
    assert pickle.loads(pickle.dumps(sc)) == sc
    assert d["shocks"][1] == {"kind": "liquidity_pull", "at": 600.0, "venue": "binance", "fraction": 0.8}
    assert d["agents"]["mm"]["strategy"] == {"class": "cfgtest_strategies:Ladder",
                                             "config": {"spread": 2.0, "levels": 5, "size": 1.0}}


def test_sampling_populations(resolver):
    sc = ExampleScenario.load("example-crash", resolver=resolver)
    retail = sc.agents["retail"]
    a = retail.leverage.sample(np.random.default_rng(42), retail.count)
    b = retail.leverage.sample(np.random.default_rng(42), retail.count)
    assert np.array_equal(a, b) and set(a.tolist()) <= {2, 5, 10, 20, 50} and a.dtype.kind == "i"
    cap = sc.agents["mm"].capital.sample(np.random.default_rng(0), 1000)
    assert cap.min() >= 1e5 and cap.max() <= 1e8


def test_describe_schema():
    text = describe(ExampleScenario)
    rows = {ln.split()[0]: ln for ln in text.splitlines()[2:]}
    assert "duration" in rows and "s" in rows["duration"].split() and "> 0" in rows["duration"]
    assert "venues.<name>.latency" in rows
    assert "One-way latency of an order" in rows["venues.<name>.latency"]
    assert "ns" in rows["venues.<name>.latency"].split()
    assert "books[].depth_levels" in rows and "20" in rows["books[].depth_levels"]
    assert "shocks[].kind" in rows and '"liquidity_pull" | "price_move"' in rows["shocks[].kind"]
    assert any(k.startswith("shocks[].move") and "price_move" in ln for k, ln in rows.items())
    assert '"fifo" | "pro_rata"' in rows["policies.matching"]
    assert '"spot" | "twap" | "pegged"' in rows["policies.oracle"]
    md = describe(ExampleScenario, style="markdown")
    assert md.startswith("| key | type | default | unit | constraint | doc |\n|---|")
    assert "\\|" in md
