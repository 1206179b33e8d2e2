"""lob.config.loader: objects by import path, strategy specs."""
import sys
import types

import pytest

from lob.config import (Config, ConfigError, StrategySpec, build_strategy, config, config_class_of,
                        field, load_object, loads_toml)


@config
class GridConfig(Config):
    spread: float = field(2.0, gt=0, unit="bps")
    levels: int = field(5, ge=1)


class Grid:
    Config = GridConfig

    def __init__(self, config, venue="x"):
        self.config, self.venue = config, venue


class NoConfig:
    pass


@pytest.fixture(autouse=True)
def fake_modules(monkeypatch):
    pkg = types.ModuleType("cfgtest_pkg2")
    pkg.__path__ = []
    mod = types.ModuleType("cfgtest_pkg2.grid")
    mod.Grid, mod.NoConfig, mod.helper = Grid, NoConfig, len

    class Outer:
        class Inner:
            pass
    mod.Outer = Outer
    pkg.grid = mod
    monkeypatch.setitem(sys.modules, "cfgtest_pkg2", pkg)
    monkeypatch.setitem(sys.modules, "cfgtest_pkg2.grid", mod)


def test_load_object_forms():
    assert load_object("cfgtest_pkg2.grid:Grid") is Grid
    assert load_object("cfgtest_pkg2.grid.Grid") is Grid
    assert load_object("cfgtest_pkg2.grid:Outer.Inner").__name__ == "Inner"
    assert load_object("os.path:join") is __import__("os").path.join
    assert load_object("os.path.join") is __import__("os").path.join
    assert load_object("collections") is __import__("collections")


def test_load_object_errors():
    with pytest.raises(ConfigError, match=r"^cannot import 'cfgtest_pkg2.grid:Gird': module 'cfgtest_pkg2.grid' "
                                          r"has no attribute 'Gird' \(did you mean 'Grid'\?\)$"):
        load_object("cfgtest_pkg2.grid:Gird")
    with pytest.raises(ConfigError, match=r"^cannot import 'cfgtest_pkg2.grid:Outer.Innr': class "
                                          r"'cfgtest_pkg2.grid.Outer' has no attribute 'Innr' \(did you mean 'Inner'\?\)$"):
        load_object("cfgtest_pkg2.grid:Outer.Innr")
    with pytest.raises(ConfigError, match=r"^cannot import 'strategies.avellaneda_stoikv:X': no module named "
                                          r"'strategies.avellaneda_stoikv' \(did you mean 'strategies.avellaneda_stoikov'\?\)$"):
        load_object("strategies.avellaneda_stoikv:X")
    with pytest.raises(ConfigError, match=r"^cannot import 'nosuchpkg_xyz.mod.Cls': no module named 'nosuchpkg_xyz'"):
        load_object("nosuchpkg_xyz.mod.Cls")
    with pytest.raises(ConfigError, match=r"^invalid import path 'a:b:c'"):
        load_object("a:b:c")
    with pytest.raises(ConfigError, match=r"^an import path must be a non-empty string"):
        load_object("")


def test_import_errors_inside_the_module_are_not_hidden(tmp_path, monkeypatch):
    (tmp_path / "cfgtest_broken.py").write_text("import numpyy_not_there\n")
    (tmp_path / "cfgtest_raises.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=r"^cannot import 'cfgtest_broken:X': importing module 'cfgtest_broken' "
                                          r"failed: No module named 'numpyy_not_there'$"):
        load_object("cfgtest_broken:X")
    with pytest.raises(ConfigError, match=r"^cannot import 'cfgtest_raises:X': module 'cfgtest_raises' raised "
                                          r"RuntimeError: boom$"):
        load_object("cfgtest_raises:X")


def test_build_strategy():
    cls, cfg = build_strategy({"class": "cfgtest_pkg2.grid:Grid", "config": {"spread": 3}})
    assert cls is Grid and cfg == GridConfig(spread=3.0)
    cls, cfg = build_strategy("cfgtest_pkg2.grid.Grid")               # bare path: default config
    assert cfg == GridConfig()
    spec = StrategySpec.from_dict({"class": "cfgtest_pkg2.grid:Grid", "config": {"levels": 2}})
    assert spec.build(venue="y").venue == "y"
    assert spec.to_dict() == {"class": f"{Grid.__module__}:Grid", "config": {"spread": 2.0, "levels": 2}}
    assert hash(spec) == hash(StrategySpec(cls=Grid, config=GridConfig(levels=2)))


TEXT = """\
[agents.mm]
count = 3

[agents.mm.strategy]
class = "cfgtest_pkg2.grid:Grid"
config = { spread = -1, levls = 2 }

[agents.b.strategy]
class = "cfgtest_pkg2.grid:Gird"

[agents.c.strategy]
class = "cfgtest_pkg2.grid:NoConfig"

[agents.d.strategy]
class = "cfgtest_pkg2.grid:helper"

[agents.e.strategy]
klass = "x"
"""


def test_strategy_errors_cite_lines():
    doc = loads_toml(TEXT, "s.toml")
    problems = []
    for name in ("mm", "b", "c", "d", "e"):
        with pytest.raises(ConfigError) as ei:
            build_strategy(doc.data["agents"][name]["strategy"], source=doc, at=("agents", name, "strategy"))
        problems += str(ei.value).splitlines()
    assert problems == [
        "s.toml:6: agents.mm.strategy.config.spread: must be > 0, got -1.0",
        "s.toml:6: unknown key 'levls' in [agents.mm.strategy.config] (did you mean 'levels'?)",
        "s.toml:9: agents.b.strategy.class: cannot import 'cfgtest_pkg2.grid:Gird': module 'cfgtest_pkg2.grid' "
        "has no attribute 'Gird' (did you mean 'Grid'?)",
        "s.toml:12: agents.c.strategy.class: 'cfgtest_pkg2.grid:NoConfig' names no config class: give the "
        "strategy class a class attribute `Config` (a dataclass)",
        "s.toml:15: agents.d.strategy.class: 'cfgtest_pkg2.grid:helper' is not a class (builtin_function_or_method)",
        "s.toml:18: unknown key 'klass' in [agents.e.strategy] (did you mean 'class'?)",
        "s.toml:17: missing required key 'class' in [agents.e.strategy]",
    ]


def test_existing_strategies_via_init_annotation():
    from strategies.avellaneda_stoikov import ASConfig, AvellanedaStoikov
    assert config_class_of(AvellanedaStoikov) is ASConfig
    text = ('[mm.strategy]\nclass = "strategies.avellaneda_stoikov:AvellanedaStoikov"\n'
            'config = { gamma = 0.1, k = 1.5, sigma = 2.0 }\n'
            '[bad.strategy]\nclass = "strategies.avellaneda_stoikov:AvellanedaStoikov"\n'
            'config = { gamma = -0.1, k = 1.5, sigma = 2.0, horizn = "finite" }\n'
            '[bad2.strategy]\nclass = "strategies.avellaneda_stoikov:AvellanedaStoikov"\n'
            'config = { gamma = -0.1, k = 1.5, sigma = 2.0 }\n')
    doc = loads_toml(text, "as.toml")
    cls, cfg = build_strategy(doc.data["mm"]["strategy"], source=doc, at=("mm", "strategy"))
    assert cls is AvellanedaStoikov and cfg == ASConfig(gamma=0.1, k=1.5, sigma=2.0)
    with pytest.raises(ConfigError, match=r"^as.toml:6: unknown key 'horizn' in \[bad.strategy.config\] "
                                          r"\(did you mean 'horizon'\?\)$"):
        build_strategy(doc.data["bad"]["strategy"], source=doc, at=("bad", "strategy"))
    with pytest.raises(ConfigError, match=r"^as.toml:9: bad2.strategy.config: gamma must be > 0, got -0.1$"):
        build_strategy(doc.data["bad2"]["strategy"], source=doc, at=("bad2", "strategy"))
