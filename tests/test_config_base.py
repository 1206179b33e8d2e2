"""lob.config.base: typed frozen configs, checks, located errors, round trips."""
import copy
import dataclasses
import pickle
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Annotated, Any, Literal, Optional

import numpy as np
import pytest

from lob.config import (Config, ConfigError, FrozenDict, Range, SourceMap, config, describe, field,
                        from_dict, loads_toml, to_dict)
from lob.config.errors import Loc, fmt_path, parse_path


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Level(IntEnum):
    LOW = 1
    HIGH = 2


def positive_even(x):
    return x > 0 and x % 2 == 0


@config
class Quote(Config):
    """A quoting rule."""
    spread: float = field(2.0, gt=0, lt=1000, unit="bps")
    """Half-spread of the innermost quote."""
    levels: int = field(5, ge=1, le=50)
    policy: Literal["fifo", "pro_rata"] = "fifo"
    post_only: bool = True
    name: str = field("q", min_len=1, max_len=8)
    sizes: tuple[float, ...] = field((1.0, 2.0), ge=0)
    pair: tuple[int, str] = (1, "a")
    weights: tuple[Annotated[float, Range(ge=0, le=1)], ...] = ()
    color: Color = Color.RED
    level: Level = Level.LOW
    tick: Decimal = Decimal("0.01")
    cap: Optional[float] = field(None, gt=0)
    either: int | str = 0
    even: int = field(2, check=positive_even)
    start: datetime | None = None
    extra: Any = None

    def validate(self):
        if self.levels > 10 and self.spread < 1:
            raise ConfigError("must be >= 1 when levels > 10", key="spread")


@config
class Venue(Config):
    fee: float = field(0.0, ge=-10, le=100, unit="bps")
    quote: Quote = field(default_factory=Quote)


@config
class Root(Config):
    venues: dict[str, Venue] = field(default_factory=FrozenDict)
    books: tuple[Venue, ...] = ()
    seed: int = 0


# ----------------------------------------------------------------------
# construction and values
# ----------------------------------------------------------------------
def test_defaults_frozen_kwonly_slotted_hashable():
    q = Quote()
    assert q.spread == 2.0 and q.sizes == (1.0, 2.0) and q.color is Color.RED
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.spread = 3.0
    with pytest.raises(TypeError):
        Quote(3.0)                      # keyword-only
    assert not hasattr(q, "__dict__")   # slotted
    assert Quote(spread=3) == Quote(spread=3.0) and hash(Quote(spread=3)) == hash(Quote(spread=3.0))
    assert Quote(spread=3) != Quote(spread=4)
    assert len({Quote(), Quote(), Quote(levels=6)}) == 2
    r = Root(venues={"a": {"fee": 1}})   # nested tables are built on direct construction too
    assert r.venues["a"] == Venue(fee=1.0) and isinstance(r.venues, FrozenDict)
    assert hash(r) == hash(Root(venues=FrozenDict(a=Venue(fee=1.0))))
    with pytest.raises(TypeError, match="read-only"):
        r.venues["b"] = Venue()


def test_conversions():
    q = Quote.from_dict({"spread": 3, "sizes": [1, 2.5], "pair": [7, "x"], "color": "blue",
                         "level": "HIGH", "tick": "0.001", "either": "s", "start": "2025-10-10T21:00:00+00:00",
                         "extra": [1, {"a": 2}]})
    assert q.spread == 3.0 and type(q.spread) is float
    assert q.sizes == (1.0, 2.5) and q.pair == (7, "x")
    assert q.color is Color.BLUE and q.level is Level.HIGH
    assert q.tick == Decimal("0.001") and q.either == "s"
    assert q.start == datetime(2025, 10, 10, 21, tzinfo=timezone.utc)
    assert Quote.from_dict({"level": 2, "tick": 0.1}).level is Level.HIGH
    assert Quote.from_dict({"tick": 0.1}).tick == Decimal("0.1")      # via repr, exact
    assert Quote.from_dict({"levels": np.int64(7), "spread": np.float32(0.5)}).levels == 7
    assert Quote.from_dict({"sizes": np.array([1.0, 2.0])}).sizes == (1.0, 2.0)


def test_replace_validates():
    q = Quote()
    assert q.replace(levels=7).levels == 7
    with pytest.raises(ConfigError, match=r"^levels: must be <= 50, got 51$"):
        q.replace(levels=51)


def test_direct_construction_errors_name_keys():
    with pytest.raises(ConfigError) as ei:
        Quote(spread=-1, policy="lifo", levels="3")
    assert str(ei.value).splitlines() == [
        "spread: must be > 0, got -1.0",
        "levels: expected int, got str '3'",
        "policy: 'lifo' is not one of 'fifo', 'pro_rata' (did you mean 'fifo'?)",
    ]


# ----------------------------------------------------------------------
# errors with file, key and line
# ----------------------------------------------------------------------
TOML = """\
seed = 1

[venues.binance]
fee = 2.0

[venues.binance.quote]
sprd = 3.0
levels = 60
policy = "FIFO"
post_only = "yes"
name = ""
sizes = [1.0, -2.0]
pair = [1, 2]
weights = [0.5, 1.5]
color = "green"
tick = "abc"
cap = 0
even = 3

[venues.okx]
fee = "free"
quote = 3

[[books]]
fee = 1.0

[[books]]
fee = 200.0
quote = { spread = 0.5, levels = 20 }
"""


def _line(text, needle, nth=0):
    hits = [i for i, ln in enumerate(text.splitlines(), 1) if needle in ln]
    return hits[nth]


def test_every_error_has_file_key_and_line():
    doc = loads_toml(TOML, "scenarios/foo.toml")
    with pytest.raises(ConfigError) as ei:
        doc.build(Root)
    L = lambda s, n=0: f"scenarios/foo.toml:{_line(TOML, s, n)}"  # noqa: E731
    assert str(ei.value).splitlines() == [
        f"{L('sprd')}: unknown key 'sprd' in [venues.binance.quote] (did you mean 'spread'?)",
        f"{L('levels = 60')}: venues.binance.quote.levels: must be <= 50, got 60",
        f"{L('FIFO')}: venues.binance.quote.policy: 'FIFO' is not one of 'fifo', 'pro_rata' (did you mean 'fifo'?)",
        f"{L('post_only')}: venues.binance.quote.post_only: expected bool, got str 'yes'",
        f"{L('name =')}: venues.binance.quote.name: needs at least 1 item (characters), got 0",
        f"{L('sizes')}: venues.binance.quote.sizes[1]: must be >= 0, got -2.0",
        f"{L('pair')}: venues.binance.quote.pair[1]: expected str, got int 2",
        f"{L('weights')}: venues.binance.quote.weights[1]: must be <= 1, got 1.5",
        f"{L('green')}: venues.binance.quote.color: str 'green' is not one of 'red', 'blue'",
        f"{L('abc')}: venues.binance.quote.tick: expected a decimal number, got str 'abc'",
        f"{L('cap')}: venues.binance.quote.cap: must be > 0, got 0.0",
        f"{L('even')}: venues.binance.quote.even: invalid value 3 (positive_even failed)",
        f"{L('free')}: venues.okx.fee: expected float, got str 'free'",
        f"{L('quote = 3')}: venues.okx.quote: expected a table (Quote), got int 3",
        f"{L('fee = 200')}: books[1].fee: must be <= 100, got 200.0",
        f"{L('spread = 0.5')}: books[1].quote.spread: must be >= 1 when levels > 10",
    ]
    assert all(i.loc.file == "scenarios/foo.toml" and i.loc.line for i in ei.value.issues)


def test_missing_required_key_points_at_table():
    @config
    class Need(Config):
        alpha: float
        beta: int = 0

    text = "x = 1\n\n[a]\nbeta = 2\n"
    doc = loads_toml(text, "f.toml")
    with pytest.raises(ConfigError) as ei:
        doc.build(Need, at=("a",))
    assert str(ei.value) == "f.toml:3: missing required key 'alpha' in [a]"
    with pytest.raises(ConfigError, match=r"^missing required key 'alpha' at top level$"):
        Need.from_dict({})


def test_source_as_file_name_only():
    with pytest.raises(ConfigError, match=r"^cfg.toml: unknown key 'x' at top level$"):
        Venue.from_dict({"x": 1}, source="cfg.toml")
    with pytest.raises(ConfigError, match=r"^sweep.toml:4: strategies\[2\].fee: expected float"):
        Venue.from_dict({"fee": "x"}, source=SourceMap({("strategies", 2): Loc("sweep.toml", 4)}),
                        at=("strategies", 2))


def test_top_level_not_a_table():
    with pytest.raises(ConfigError, match=r"^expected a table \(Venue\), got an array \[1, 2\]$"):
        Venue.from_dict([1, 2])


def test_nan_refused_and_bool_is_not_a_number():
    with pytest.raises(ConfigError, match="expected float, got nan"):
        Venue(fee=float("nan"))
    with pytest.raises(ConfigError, match="expected float, got bool True"):
        Venue(fee=True)
    with pytest.raises(ConfigError, match="expected int, got bool True"):
        Root(seed=True)
    with pytest.raises(ConfigError, match=r"expected int, got float 1\.0"):
        Root(seed=1.0)


def test_union_errors():
    with pytest.raises(ConfigError, match=r"^either: expected int \| str, got float 1\.5$"):
        Quote(either=1.5)
    with pytest.raises(ConfigError, match=r"^cap: expected float, got str 'x'$"):
        Quote(cap="x")


def test_schema_mistakes_are_caught_at_first_use():
    @config
    class Bad(Config):
        xs: list[int] = ()

    with pytest.raises(TypeError, match=r"use tuple\[int, \.\.\.\]"):
        Bad()
    with pytest.raises(TypeError, match="must subclass lob.config.Config"):
        @config
        class NotConfig:
            a: int = 0
    with pytest.raises(TypeError, match="validate"):
        @config
        class WithPostInit(Config):
            def __post_init__(self):
                pass


# ----------------------------------------------------------------------
# round trips
# ----------------------------------------------------------------------
def test_to_dict_round_trip_and_pickle():
    r = Root.from_dict({"venues": {"a": {"fee": 1, "quote": {"color": "blue", "tick": "0.5", "cap": 3}}},
                        "books": [{"fee": 2}], "seed": 4})
    d = r.to_dict()
    assert d["venues"]["a"]["quote"]["color"] == "blue" and d["venues"]["a"]["quote"]["tick"] == "0.5"
    assert d["books"][0]["quote"]["sizes"] == [1.0, 2.0]
    assert type(d["venues"]) is dict
    assert Root.from_dict(d) == r
    assert pickle.loads(pickle.dumps(r)) == r
    assert copy.deepcopy(r) == r
    assert r.fingerprint() == Root.from_dict(d).fingerprint() != Root().fingerprint()


def test_plain_dataclass_from_dict():
    @dataclasses.dataclass(frozen=True)
    class Plain:
        a: float
        tags: list[str] = dataclasses.field(default_factory=list)

        def __post_init__(self):
            if self.a > 10:
                raise ValueError("a must be <= 10")

    assert from_dict(Plain, {"a": 1, "tags": ["x"]}) == Plain(a=1.0, tags=["x"])
    doc = loads_toml("[p]\na = 11\n", "p.toml")
    with pytest.raises(ConfigError, match=r"^p.toml:1: p: a must be <= 10$"):
        doc.build(Plain, at=("p",))
    with pytest.raises(ConfigError, match=r"^p.toml:3: unknown key 'b' in \[p\]"):
        loads_toml("[p]\na = 1\nb = 2\n", "p.toml").build(Plain, at=("p",))
    assert to_dict(Plain(a=1.0)) == {"a": 1.0, "tags": []}


# ----------------------------------------------------------------------
# key paths and describe
# ----------------------------------------------------------------------
def test_paths():
    p = ("venues", "binance-perp", "quote", "levels")
    assert fmt_path(p) == "venues.binance-perp.quote.levels"
    assert fmt_path(("a b", 2, "c")) == '"a b"[2].c'
    assert parse_path('venues."a.b".fee') == ("venues", "a.b", "fee")
    assert parse_path("books[1].venue") == ("books", 1, "venue")
    assert parse_path("books.1.venue") == ("books", "1", "venue")
    assert parse_path(fmt_path(("a b", 2, "c"))) == ("a b", 2, "c")
    with pytest.raises(ValueError):
        parse_path("a..b")


def test_describe():
    text = describe(Root)
    lines = text.splitlines()
    assert lines[0].split() == ["key", "type", "default", "unit", "constraint", "doc"]
    row = next(ln for ln in lines if ln.startswith("venues.<name>.quote.spread "))
    assert row.split()[:6] == ["venues.<name>.quote.spread", "float", "2.0", "bps", ">", "0,"]
    assert "Half-spread of the innermost quote." in row
    assert any(ln.startswith("books[].quote.policy ") and '"fifo" | "pro_rata"' in ln for ln in lines)
    assert any(ln.startswith("venues.<name>.quote.weights ") and "each >= 0, <= 1" in ln for ln in lines)
    assert any(ln.startswith("venues.<name>.quote.even ") and "check positive_even" in ln for ln in lines)
    md = Quote.describe(style="markdown")
    assert "| `spread` | `float` | `2.0` | bps | > 0, < 1000 | Half-spread of the innermost quote. |" in md
    assert '| `policy` | `"fifo" \\| "pro_rata"` |' in md


@config
class Parent(Config):
    x: int = 0

    def validate(self):
        if self.x < 0:
            raise ConfigError("must be >= 0", key="x")


@config
class Child(Parent):
    y: int = 0

    def validate(self):
        super().validate()                 # zero-argument super() works in slotted configs
        if self.y > self.x:
            raise ValueError("y must be <= x")


def test_inheritance_and_super():
    assert Child(x=2, y=1) == Child(x=2, y=1) and Child(x=2) != Parent(x=2)
    with pytest.raises(ConfigError, match=r"^x: must be >= 0$"):
        Child(x=-1)
    with pytest.raises(ConfigError, match=r"^y must be <= x$"):
        Child(x=1, y=2)
    with pytest.raises(ConfigError, match=r"^f.toml:1: c: y must be <= x$"):
        loads_toml("[c]\nx = 1\ny = 2\n", "f.toml").build(Child, at="c")


def test_any_fields_are_frozen_for_hashing():
    q = Quote(extra=[1, {"a": [2]}])
    assert q.extra == (1, FrozenDict(a=(2,))) and hash(q) == hash(Quote(extra=(1, {"a": (2,)})))
    assert q.to_dict()["extra"] == [1, {"a": [2]}]


def test_union_root_is_abstract_and_build_at_missing_table():
    from lob.config import Dist
    with pytest.raises(TypeError, match="root of a tagged union"):
        Dist()
    with pytest.raises(ConfigError, match=r"^f.toml:1: missing required key 'b' in \[a\]$"):
        loads_toml("[a]\nx = 1\n", "f.toml").build(Venue, at=("a", "b"))
