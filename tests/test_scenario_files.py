"""Scenario files: the shipped oct-10-2025 scenario and its counterfactuals
load and validate; bad files are refused with file, line and key."""
from __future__ import annotations

import pytest

from lob.config.errors import ConfigError
from lob.scenarios import files

SHIPPED = ["oct-10-2025", "oct-10-2025-mms-keep-quoting", "oct-10-2025-oracle-collateral", "oct-10-2025-no-loops",
           "oct-10-2025-half-leverage", "oct-10-2025-double-stink-bids"]
CHANGED = {"oct-10-2025-mms-keep-quoting": {"kill_switch": False},
           "oct-10-2025-oracle-collateral": {"policy": "oracle"}, "oct-10-2025-no-loops": {"loops": False},
           "oct-10-2025-half-leverage": {"leverage_scale": 0.5}, "oct-10-2025-double-stink-bids": {"stink_scale": 2.0}}


def test_shipped_scenarios_are_found_and_valid():
    assert set(SHIPPED) <= set(files.names())
    for name in SHIPPED:
        builder, params, doc = files.load(name)
        assert builder.__name__ == "oct_10_2025" and doc.data["version"] == 4


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_counterfactuals_change_only_their_knob(name):
    _, base, _ = files.load("oct-10-2025")
    _, params, _ = files.load(name)
    diff = {k: v for k, v in params.items() if base.get(k) != v}
    assert diff == CHANGED[name]


def test_a_file_builds_the_same_spec_as_the_builder(tmp_path):
    from lob.scenarios.oct_10_2025 import oct_10_2025
    small = dict(duration_s=300.0, shock_s=60.0, n_alts=3, n_calm_alts=1)
    spec = files.build("oct-10-2025", small)
    _, params, _ = files.load("oct-10-2025")
    direct = oct_10_2025(**{**params, **small})
    assert [b.base for b in spec.books] == [b.base for b in direct.books]
    assert spec.shocks == direct.shocks and len(spec.agents) == len(direct.agents)


def _write(tmp_path, text):
    p = tmp_path / "s.toml"
    p.write_text(text)
    return str(p)


def test_bad_files_name_file_line_and_key(tmp_path):
    f = _write(tmp_path, 'version = 1\nextends = "oct-10-2025"\n[params]\nkill_swich = false\nshock_s = "soon"\n')
    with pytest.raises(ConfigError) as e:
        files.load(f)
    msg = str(e.value)
    assert "s.toml:4: unknown key 'kill_swich' in [params]" in msg and "kill_switch" in msg
    assert "s.toml:5: params.shock_s: must be a number" in msg
    f = _write(tmp_path, 'version = 1\nextends = "oct-10-2025"\n[params]\nshock_s = 20000.0\n')
    with pytest.raises(ConfigError, match=r"s.toml:4: params.shock_s: shock_s must be inside the run"):
        files.build(f)
    f = _write(tmp_path, 'version = 1\nbuilder = "lob.scenarios.oct_10_2025:nope"\nbuidler = 1\n')
    with pytest.raises(ConfigError) as e:
        files.load(f)
    assert "s.toml:3: unknown key 'buidler'" in str(e.value)
    f = _write(tmp_path, 'version = 1\nbuilder = "lob.scenarios.oct_10_2025:nope"\n')
    with pytest.raises(ConfigError, match=r"s.toml:2: .*nope"):
        files.load(f)
    f = _write(tmp_path, 'version = 1\n[params]\nn_alts = 3\n')
    with pytest.raises(ConfigError, match="missing required key 'builder'"):
        files.load(f)
