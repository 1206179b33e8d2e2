"""lob.compare: a base scenario and a counterfactual over the same seeds,
one row per run equal to a direct run's metrics, one table row per
scenario, resume, and the CLI."""
from __future__ import annotations

import subprocess
import sys

import pytest

from lob import compare as CMP
from lob import sweeps
from lob.run import scenario_spec
from lob.sim.model import Simulation

BASE = """version = 1
extends = "oct-10-2025"
description = "oct-10-2025, 5 minutes, 3 altcoins"
[params]
duration_s = 300.0
shock_s = 60.0
shock_tau_s = 60.0
n_alts = 3
n_calm_alts = 1
longs_per_major = 5
perps = ["BTC"]
perp_longs = 10
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    base = d / "base.toml"
    base.write_text(BASE)
    cf = d / "base-keep-quoting.toml"
    cf.write_text(f'version = 1\nextends = "{base}"\n[params]\nkill_switch = false\n')
    return d, str(base), str(cf)


@pytest.fixture(scope="module")
def runs(files):
    d, base, cf = files
    return CMP.compare([base, cf], seeds=[0, 1], out=d / "out", workers=1)


def test_one_row_per_run_equal_to_direct_runs(files, runs):
    _, base, cf = files
    assert list(runs["scenario"]) == [base, base, cf, cf] and list(runs["seed"]) == [0, 1, 0, 1]
    assert runs["error"].isna().all()
    res = Simulation(scenario_spec(cf), seed=1).run()
    direct = sweeps.metrics(res)
    row = runs.iloc[3]
    assert row["digest"] == direct["digest"] == res.digest()
    for k in ("alt_wick_median", "alt_share_80", "btc_wick", "usde_low", "spot_liq_usd", "perp_liq_usd",
              "lending_liq_usd", "accounts_taken_over"):
        assert row[k] == pytest.approx(direct[k], nan_ok=True), k
    # the kill switch changes what happens: the two scenarios' runs differ
    assert runs.iloc[1]["digest"] != row["digest"]


def test_table_is_the_mean_across_seeds_base_first(files, runs):
    _, base, cf = files
    t = CMP.table(runs)
    assert list(t.index) == [base, cf] and (t["runs"] == 2).all()
    for sc in (base, cf):
        r = runs[runs["scenario"] == sc]
        assert t.loc[sc, "alt_wick_median"] == pytest.approx(r["alt_wick_median"].mean())
        assert t.loc[sc, "alt_wick_median_min"] == r["alt_wick_median"].min()
        assert t.loc[sc, "spot_liq_usd"] == pytest.approx(r["spot_liq_usd"].mean())


def test_resume_reads_finished_runs_back(files, runs, monkeypatch):
    d, base, cf = files

    def boom(*a):
        raise AssertionError("a finished run was run again")
    monkeypatch.setattr(CMP, "_one", boom)
    again = CMP.compare([base, cf], seeds=[0, 1], out=d / "out", workers=1)
    assert list(again["digest"]) == list(runs["digest"])


def test_cli_unknown_scenario_and_counterfactual_names():
    p = subprocess.run([sys.executable, "-m", "lob.cli", "compare", "no-such-scenario", "--seeds", "1"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "unknown scenario" in p.stderr and "no-such-scenario" in p.stderr
    assert CMP.counterfactuals("oct-10-2025") == ["oct-10-2025-double-stink-bids", "oct-10-2025-half-leverage",
                                                  "oct-10-2025-mms-keep-quoting", "oct-10-2025-no-loops",
                                                  "oct-10-2025-oracle-collateral"]
