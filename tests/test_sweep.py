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


# ---------------------------------------------------------------- workers that die
def _task(x):
    """A task of run_local: dies on "kill" (SIGKILL, as the OOM killer does) and "exit" (os._exit(3))."""
    import os
    import signal
    import time
    if x == "kill":
        time.sleep(0.2)                  # beside a running task: the pool terminates that one too
        os.kill(os.getpid(), signal.SIGKILL)
    if x == "exit":
        os._exit(3)
    time.sleep(0.3)
    return {"x": x, "pid": os.getpid(), "error": None}


def test_run_local_records_a_task_whose_worker_dies_and_finishes_the_others():
    from lob.sweeps import run_local
    tasks = [(0,), (1,), ("kill",), (2,), (3,), ("exit",), (4,), (5,)]
    rows = list(run_local(_task, tasks, 2, lost=lambda t, error: {"x": t[0], "error": error}))
    assert sorted(r["x"] for r in rows if r["error"] is None) == [0, 1, 2, 3, 4, 5]
    err = {r["x"]: r["error"] for r in rows if r["error"] is not None}
    assert set(err) == {"kill", "exit"} and len(rows) == len(tasks)
    assert "killed by signal 9, SIGKILL" in err["kill"] and "BrokenProcessPool" in err["kill"]
    assert "exit code 3" in err["exit"]
    assert len({r["pid"] for r in rows if r["error"] is None}) > 2       # the pool was made again


def _dying_builder(*, die: bool = False, duration_s: float = 240.0, shock_s: float = 60.0):
    """A scenario builder whose worker dies (killed) when ``die``."""
    import os
    import signal
    if die:
        os.kill(os.getpid(), signal.SIGKILL)
    from lob.scenarios.liquidation_cascade import liquidation_cascade
    return liquidation_cascade(duration_s=duration_s, shock_s=shock_s)


def test_a_sweep_records_a_run_whose_worker_is_killed_and_runs_it_again_on_resume(tmp_path):
    f = tmp_path / "dying.toml"
    f.write_text(f'version = 1\nbuilder = "{__name__}:_dying_builder"\n[params]\n')
    df = lob.sweep(str(f), {"die": [False, True]}, seeds=2, out=tmp_path / "out", workers=2)
    assert len(df) == 4
    dead = df[df["die"]]
    assert dead["error"].str.contains("killed by signal 9, SIGKILL").all() and sorted(dead["seed"]) == [0, 1]
    ok = df[~df["die"]]
    assert ok["error"].isna().all() and ok["conserved"].all()
    # a dead run is not written: resume runs it (only it) again
    assert not any((tmp_path / "out" / r).exists() for r in dead["run"])
    assert all((tmp_path / "out" / r / "summary.json").exists() for r in ok["run"])


def test_run_local_without_exit_codes_runs_the_suspects_alone(monkeypatch):
    import lob.sweeps as SW
    monkeypatch.setattr(SW, "_exit_code", lambda procs, pid: None)      # which worker died: unknown
    tasks = [(0,), ("kill",), (1,), (2,)]
    rows = list(SW.run_local(_task, tasks, 2, lost=lambda t, error: {"x": t[0], "error": error}))
    assert sorted(r["x"] for r in rows if r["error"] is None) == [0, 1, 2] and len(rows) == 4
    (bad,) = [r for r in rows if r["error"] is not None]
    assert bad["x"] == "kill" and "exit status unknown" in bad["error"]
