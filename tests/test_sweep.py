"""Sweeps on local processes: one row per (parameters, seed), results equal
to direct runs, failures recorded without losing the others, resume."""
from __future__ import annotations

import json

import lob
from lob.run import scenario_spec
from lob.sim.model import Simulation
from lob.sweeps import run_id

GRID = {"leverage_scale": [0.5, 1.0]}
SHORT = {"duration_s": 240.0, "shock_s": 60.0}


def test_sweep_grid_seeds_equal_direct_runs_and_resume(tmp_path):
    grid = {**{k: [v] for k, v in SHORT.items()}, **GRID}
    df = lob.sweep("liquidation-cascade", grid, seeds=2, out=tmp_path, workers=2)
    assert len(df) == 4 and df["error"].isna().all() and df["conserved"].all()
    assert sorted(zip(df["leverage_scale"], df["seed"])) == [(0.5, 0), (0.5, 1), (1.0, 0), (1.0, 1)]
    # every run is the same as a direct run of the same scenario and seed
    row = df[(df["leverage_scale"] == 1.0) & (df["seed"] == 1)].iloc[0]
    direct = Simulation(scenario_spec("liquidation-cascade", leverage_scale=1.0, **SHORT), seed=1).run()
    assert row["digest"] == direct.digest()
    # half leverage: no takeovers
    assert (df.loc[df["leverage_scale"] == 0.5, "accounts_taken_over"] == 0).all()
    # resume: written runs are read back, not run again
    f = tmp_path / row["run"] / "summary.json"
    data = json.loads(f.read_text())
    data["wall_s"] = -1.0
    f.write_text(json.dumps(data))
    again = lob.sweep("liquidation-cascade", grid, seeds=2, out=tmp_path, workers=1)
    assert (again["wall_s"] == -1.0).sum() == 1 and len(again) == 4


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path):
    grid = {"duration_s": [240.0], "shock_s": [60.0, 9999.0]}          # 9999 s: outside the run
    df = lob.sweep("liquidation-cascade", grid, seeds=1, out=tmp_path, workers=1)
    bad = df[df["shock_s"] == 9999.0].iloc[0]
    assert "shock_s must be inside the run" in bad["error"]
    good = df[df["shock_s"] == 60.0].iloc[0]
    assert good["error"] is None or good["error"] != good["error"]
    assert good["conserved"]
    assert (tmp_path / run_id("liquidation-cascade", {"duration_s": 240.0, "shock_s": 9999.0}, 0)
            / "summary.json").exists()


def test_dask_local_cluster_gives_the_same_results_as_local_runs(tmp_path):
    from distributed import Client, LocalCluster
    grid = {**{k: [v] for k, v in SHORT.items()}, **GRID}
    local = lob.sweep("liquidation-cascade", grid, seeds=1, out=tmp_path / "local", workers=1)
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                      processes=True) as cluster, Client(cluster) as client:
        dist = lob.sweep("liquidation-cascade", grid, seeds=1, out=tmp_path / "dask", scheduler=client)
    assert list(dist["digest"]) == list(local["digest"])
    assert list(dist["run"]) == list(local["run"])
