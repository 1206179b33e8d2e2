"""lob.config.scenario: extends chains, merge rules, locations across
files, named/versioned scenarios, cycles, dotted overrides."""
import textwrap
from typing import Literal

import pytest

from lob.config import (DELETE, Config, ConfigError, Const, Dist, FrozenDict, ScenarioResolver,
                        Uniform, config, field, load_scenario, override, parse_value)


@config
class Agent(Config):
    count: int = field(1, ge=0)
    spread: float = field(1.0, gt=0)
    leverage: Dist = field(default=Const(value=1.0), ge=1)


@config
class Scen(Config):
    name: str = "s"
    version: int | None = None
    duration: float = field(60.0, gt=0)
    agents: dict[str, Agent] = field(default_factory=FrozenDict)
    venues: tuple[str, ...] = ()
    adl: Literal["off", "ranked"] = "ranked"


def write(d, name, text):
    p = d / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text))
    return p


@pytest.fixture
def d(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def R(*paths, package=None):
    return ScenarioResolver(search_path=paths, package=package)


def test_chain_merge_and_locations(d):
    write(d, "lib/base.toml", """\
        name = "base"
        version = 3
        duration = 100.0
        venues = ["a", "b"]

        [agents.mm]
        count = 2
        spread = 3.0
        leverage = { dist = "lognormal", mean = 5.0, sigma = 0.5, min = 1.0 }

        [agents.retail]
        count = 100
        """)
    write(d, "lib/mid.toml", """\
        extends = "base@3"
        version = 1
        venues = ["c"]
        agents.mm.leverage.sigma = 0.25
        """)
    write(d, "top.toml", """\
        extends = "lib/mid.toml"
        name = "top"

        [agents.mm]
        spread = 4.0

        [agents.retail]
        leverage = { dist = "uniform", low = 1, high = 3 }
        """)
    doc = load_scenario("top.toml", resolver=R(d / "lib"))
    assert doc.files == ("lib/base.toml", "lib/mid.toml", "top.toml")
    assert doc.data == {
        "name": "top", "duration": 100.0, "venues": ["c"],
        "agents": {"mm": {"count": 2, "spread": 4.0,
                          "leverage": {"dist": "lognormal", "mean": 5.0, "sigma": 0.25, "min": 1.0}},
                   "retail": {"count": 100, "leverage": {"dist": "uniform", "low": 1, "high": 3}}},
    }
    assert "version" not in doc.data                              # not inherited
    assert doc.locate("name") == ("top.toml", 2)
    assert doc.locate("duration") == ("lib/base.toml", 3)
    assert doc.locate("venues") == ("lib/mid.toml", 3)
    assert doc.locate("venues[0]") == ("lib/mid.toml", 3)
    assert doc.locate("agents.mm.count") == ("lib/base.toml", 7)
    assert doc.locate("agents.mm.spread") == ("top.toml", 5)
    assert doc.locate("agents.mm.leverage.sigma") == ("lib/mid.toml", 4)
    assert doc.locate("agents.mm.leverage.mean") == ("lib/base.toml", 9)
    assert doc.locate("agents.retail.leverage.low") == ("top.toml", 8)
    s = doc.build(Scen)
    assert s.agents["retail"].leverage == Uniform(low=1, high=3)
    assert s.version is None and s.name == "top"
    assert load_scenario("lib/mid.toml").data["version"] == 1


def test_inline_table_replaces_header_table_merges(d):
    write(d, "base.toml", """\
        [agents.mm]
        leverage = { dist = "lognormal", mean = 5.0, sigma = 0.5, min = 1.0 }
        """)
    write(d, "inline.toml", """\
        extends = "base.toml"
        agents.mm.leverage = { dist = "uniform", low = 1, high = 3 }
        """)
    write(d, "header.toml", """\
        extends = "base.toml"
        [agents.mm.leverage]
        dist = "uniform"
        low = 1
        high = 3
        """)
    assert load_scenario("inline.toml").build(Scen).agents["mm"].leverage == Uniform(low=1, high=3)
    with pytest.raises(ConfigError) as ei:                        # merged: lognormal keys remain
        load_scenario("header.toml").build(Scen)
    assert "base.toml:2: unknown key 'mean' in [agents.mm.leverage]" in str(ei.value)


def test_error_in_overriding_file_points_there(d):
    write(d, "base.toml", """\
        duration = 10.0
        [agents.mm]
        count = 2
        """)
    write(d, "cf.toml", """\
        extends = "base.toml"

        [agents.mm]
        count = -1
        spred = 2.0
        """)
    with pytest.raises(ConfigError) as ei:
        Scen.load("cf.toml")
    assert str(ei.value).splitlines() == [
        "cf.toml:4: agents.mm.count: must be >= 0, got -1",
        "cf.toml:5: unknown key 'spred' in [agents.mm] (did you mean 'spread'?)",
    ]


def test_delete(d):
    write(d, "base.toml", """\
        venues = ["a"]
        [agents.mm]
        count = 2
        [agents.retail]
        count = 3
        """)
    write(d, "del.toml", """\
        extends = "base.toml"
        venues = "__delete__"
        agents.retail = "__delete__"
        """)
    doc = load_scenario("del.toml")
    assert doc.data == {"agents": {"mm": {"count": 2}}}
    assert doc.locate("agents.retail") == doc.locate("agents")
    write(d, "typo.toml", """\
        extends = "base.toml"
        [agents]
        retial = "__delete__"
        """)
    with pytest.raises(ConfigError, match=r"^typo.toml:3: cannot delete 'agents.retial': no base scenario "
                                          r"defines it \(did you mean 'retail'\?\)$"):
        load_scenario("typo.toml")
    write(d, "root.toml", 'x = "__delete__"\n')
    with pytest.raises(ConfigError, match=r"^root.toml:1: cannot delete 'x'"):
        load_scenario("root.toml")
    write(d, "inarray.toml", 'extends = "base.toml"\nvenues = ["__delete__"]\n')
    with pytest.raises(ConfigError, match=r"^inarray.toml:2: '__delete__' at venues\[0\]: only a key"):
        load_scenario("inarray.toml")


def test_cycles(d):
    write(d, "a.toml", 'extends = "b.toml"\n')
    write(d, "b.toml", 'x = 1\nextends = "c.toml"\n')
    write(d, "c.toml", '# c\n\nextends = "a.toml"\n')
    with pytest.raises(ConfigError) as ei:
        load_scenario("a.toml")
    assert str(ei.value) == "c.toml:3: extends cycle: a.toml -> b.toml -> c.toml -> a.toml"
    write(d, "self.toml", 'extends = "self"\nversion = 1\n')
    with pytest.raises(ConfigError, match=r"^self.toml:1: extends cycle: self.toml -> self.toml$"):
        load_scenario("self.toml")


def test_diamond_is_not_a_cycle(d):
    write(d, "root.toml", "duration = 5.0\n[agents.x]\ncount = 1\n")
    write(d, "left.toml", 'extends = "root.toml"\nagents.x.count = 2\n')
    write(d, "right.toml", 'extends = "root.toml"\nagents.x.spread = 9.0\n')
    write(d, "both.toml", 'extends = ["left.toml", "right.toml"]\n')
    doc = load_scenario("both.toml")
    assert doc.data["agents"]["x"] == {"count": 1, "spread": 9.0}        # right's root resets count
    assert doc.locate("agents.x.spread") == ("right.toml", 2)


def test_not_found_and_bad_extends(d):
    write(d, "lib/oct-10-2025.toml", "version = 1\n")
    write(d, "a.toml", "x = 1\n\nextends = \"oct-10-2052\"\n")
    with pytest.raises(ConfigError) as ei:
        load_scenario("a.toml", resolver=R(d / "lib"))
    assert str(ei.value) == ("a.toml:3: extends 'oct-10-2052': scenario 'oct-10-2052' not found "
                             "(searched: ., lib) (did you mean 'oct-10-2025'?)")
    write(d, "b.toml", 'extends = "missing/file.toml"\n')
    with pytest.raises(ConfigError, match=r"^b.toml:1: extends 'missing/file.toml': scenario file not found: "
                                          r"missing/file.toml$"):
        load_scenario("b.toml")
    write(d, "c.toml", "extends = 3\n")
    with pytest.raises(ConfigError, match=r"^c.toml:1: extends: expected a scenario name or path"):
        load_scenario("c.toml")
    with pytest.raises(ConfigError, match=r"^scenario 'nope' not found \(searched: lib\)$"):
        load_scenario("nope", resolver=R("lib"))
    with pytest.raises(ConfigError, match=r"^scenario file not found: nope.toml$"):
        load_scenario("nope.toml")


def test_versions(d):
    write(d, "lib/named.toml", "duration = 1.0\n")
    with pytest.raises(ConfigError, match=r"^lib/named.toml:1: scenario lib/named.toml is found by name and "
                                          r"must declare `version = N`$"):
        load_scenario("named", resolver=R("lib"))
    write(d, "lib/v2.toml", "version = 2\n")
    assert load_scenario("v2", resolver=R("lib")).data == {"version": 2}
    assert load_scenario("v2@2", resolver=R("lib")).data == {"version": 2}
    with pytest.raises(ConfigError, match=r"^'v2@3': lib/v2.toml has version 2, not 3$"):
        load_scenario("v2@3", resolver=R("lib"))
    write(d, "pin.toml", '\nextends = "v2@3"\n')
    with pytest.raises(ConfigError, match=r"^pin.toml:2: extends 'v2@3': lib/v2.toml has version 2, not 3$"):
        load_scenario("pin.toml", resolver=R("lib"))
    write(d, "badv.toml", 'version = "1.0"\n')
    with pytest.raises(ConfigError, match=r"^badv.toml:1: version: must be a positive integer"):
        load_scenario("badv.toml")


def test_package_resources(tmp_path, monkeypatch):
    pkg = tmp_path / "site" / "cfgtest_pkg"
    write(pkg, "__init__.py", "")
    write(pkg, "scenarios/crash.toml", "version = 4\nduration = 9.0\n")     # no __init__.py
    write(tmp_path, "user/mine.toml", 'extends = "crash@4"\nname = "mine"\n')
    write(tmp_path, "user/crash.toml", "version = 5\nduration = 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.chdir(tmp_path)
    r = ScenarioResolver(package="cfgtest_pkg.scenarios")
    assert r.names() == ["crash"]
    doc = load_scenario("crash", resolver=r)
    assert doc.data == {"version": 4, "duration": 9.0}
    assert doc.files[0].endswith("cfgtest_pkg/scenarios/crash.toml")
    with pytest.raises(ConfigError, match=r"user/crash.toml has version 5, not 4"):
        load_scenario("user/mine.toml", resolver=r)           # the referencing file's directory comes first
    (tmp_path / "user" / "crash.toml").unlink()
    assert load_scenario("user/mine.toml", resolver=r).data == {"duration": 9.0, "name": "mine"}
    # search path before package
    write(tmp_path, "sp/crash.toml", "version = 6\n")
    assert load_scenario("crash", resolver=ScenarioResolver(["sp"], package="cfgtest_pkg.scenarios")
                         ).data == {"version": 6}
    # a package that does not exist (yet) is no error
    assert ScenarioResolver(package="cfgtest_no_such_pkg.scenarios").names() == []
    ScenarioResolver().names()


# ----------------------------------------------------------------------
# overrides
# ----------------------------------------------------------------------
BASE = {"duration": 60.0, "agents": {"mm": {"count": 2}}, "venues": ["a", "b"]}


def test_override_with_schema_parses_strings_by_type():
    out = override(BASE, {"agents.mm.count": "3", "agents.mm.spread": "2.5", "duration": "1e3",
                          "adl": "off", "name": "123", "venues": '["x", "y"]',
                          "agents.new.leverage": "{ dist = 'uniform', low = 1, high = 2 }",
                          "agents.new.count": 4}, schema=Scen)
    assert out == {"duration": 1000.0, "venues": ["x", "y"], "adl": "off", "name": "123",
                   "agents": {"mm": {"count": 3, "spread": 2.5},
                              "new": {"leverage": {"dist": "uniform", "low": 1, "high": 2}, "count": 4}}}
    assert BASE["agents"]["mm"] == {"count": 2}                   # not mutated
    assert Scen.from_dict(out).agents["new"].leverage == Uniform(low=1, high=2)
    assert override(BASE, {"agents.mm.leverage": "3"}, schema=Scen)["agents"]["mm"]["leverage"] == 3
    assert override(BASE, {"version": "none"}, schema=Scen)["version"] is None
    assert override(BASE, {"agents.mm": DELETE}, schema=Scen)["agents"] == {}
    assert override(BASE, {"venues[1]": "c"}, schema=Scen)["venues"] == ["a", "c"]
    assert override(BASE, {"venues.0": "c"})["venues"] == ["c", "b"]


def test_override_without_schema_reads_toml_values():
    out = override(BASE, {"agents.mm.count": "3", "x.y": "abc", "z": "[1, 2]", "t": "true", "f": "1.5"})
    assert out["agents"]["mm"]["count"] == 3 and out["x"] == {"y": "abc"}
    assert out["z"] == [1, 2] and out["t"] is True and out["f"] == 1.5


def test_override_errors():
    with pytest.raises(ConfigError) as ei:
        override(BASE, {"agents.mm.cont": "3", "duration": "long", "venues[5]": "x", "agents.mm.count.x": "1",
                        "bad..key": "1", "agents.mm.spread": DELETE}, schema=Scen)
    assert str(ei.value).splitlines() == [
        "<override>: unknown key 'cont' in [agents.mm] (did you mean 'count'?)",
        "<override>: duration: expected float, got 'long'",
        "<override>: venues[5]: venues has 2 items; no index 5",
        "<override>: agents.mm.count.x: cannot set agents.mm.count.x: agents.mm.count holds a int",
        "<override>: 'bad..key': invalid key path 'bad..key' at character 5",
        "<override>: agents.mm.spread: cannot delete agents.mm.spread: not set",
    ]


def test_override_keeps_other_locations(d):
    write(d, "s.toml", "duration = 5.0\n[agents.mm]\ncount = 2\nspread = 1.0\n")
    doc = load_scenario("s.toml", overrides={"agents.mm.count": "-4"}, schema=Scen)
    assert doc.locate("agents.mm.spread") == ("s.toml", 4)
    assert doc.locate("agents.mm.count") == ("<override>", None)
    with pytest.raises(ConfigError, match=r"^<override>: agents.mm.count: must be >= 0, got -4$"):
        doc.build(Scen)
    doc2 = doc.override({"agents.mm.count": "1"}, schema=Scen, label="--grid")
    assert doc2.build(Scen).agents["mm"].count == 1 and doc2.locate("agents.mm.count") == ("--grid", None)


def test_parse_value():
    from enum import IntEnum

    class Lvl(IntEnum):
        LOW = 1
        HIGH = 2
    assert parse_value("HIGH", Lvl) == "HIGH" and parse_value("2", Lvl) == 2
    assert parse_value("3", int) == 3 and parse_value("1_000", int) == 1000 and parse_value("0x10", int) == 16
    assert parse_value("3", float) == 3.0 and parse_value("inf", float) == float("inf")
    assert parse_value("True", bool) is True
    assert parse_value(" x ", str) == " x "
    assert parse_value("3", int | str) == 3 and parse_value("x", int | str) == "x"
    assert parse_value("null", float | None) is None
    with pytest.raises(ValueError, match="expected int"):
        parse_value("3.5", int)
    with pytest.raises(ValueError, match="expected true or false"):
        parse_value("yes", bool)
