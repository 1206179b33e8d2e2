"""Simulation-kernel benchmarks (pytest-benchmark): the calm reference day.

Run:  .venv/bin/python -m pytest benchmarks/test_sim_bench.py --benchmark-only -s

* ``test_calm_day``: ``calm-day`` (6.5 simulated hours; about 1,000 noise,
  100 value and 12 momentum agents, two compiled ladder market makers and a
  zero-intelligence flow; all compiled), warm, with every log kept
  (``all``), with the fills and snapshots only (``lean``) and with none.
  Issue #3's target: at least 5M events/s warm.
* ``test_calm_day_python_mm``: the same day with one Python market maker
  (``strategies.ladder.LadderMM``) deciding every 100 ms on top of the
  compiled population.  Target: at least 0.3M events/s.
* ``test_calm_day_cold``: import plus the whole day in a fresh process with
  an empty numba cache (compile included), one round.

Every round asserts the final state: every asset conserved to the atom, the
same digest as the first round (the same seed gives the same log), a
working market (fills, a spread).  ``extra_info`` has events, events/s and
the load average.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

from benchmarks.conftest import QUICK
from lob.scenarios.calm_day import DAY_S, calm_day
from lob.sim import layout as L
from lob.sim.model import Simulation

DURATION = 1800.0 if QUICK else DAY_S
LOGS = {"all": ("fills", "events", "snapshots", "submissions"), "lean": ("fills", "snapshots"), "none": ()}


def _run(spec, seed=0):
    sim = Simulation(spec, seed=seed)
    t = time.perf_counter()
    res = sim.run()
    return sim, res, time.perf_counter() - t


def _check(sim, res, digests, logs):
    assert (res.conservation_error() == 0).all()
    assert int(sim.W.clock[L.K_EVENTS]) > 100_000
    d = res.digest()
    digests.append(d)
    assert d == digests[0]                       # the same seed, the same log
    if "fills" in logs:
        assert len(res.fills) > 1_000


@pytest.mark.parametrize("logs", list(LOGS))
def test_calm_day(benchmark, logs):
    spec = dataclasses.replace(calm_day(duration_s=DURATION), logs=LOGS[logs])
    _run(dataclasses.replace(spec, duration_s=60.0))              # compile / load
    digests, walls, events = [], [], []

    def one():
        sim, res, wall = _run(spec)
        _check(sim, res, digests, LOGS[logs])
        walls.append(wall)
        events.append(int(sim.W.clock[L.K_EVENTS]))

    benchmark.pedantic(one, rounds=2 if QUICK else 5, iterations=1)
    ev = events[0]
    assert len(set(events)) == 1
    med = float(np.median(walls))
    benchmark.extra_info.update(logs=logs, simulated_s=DURATION, events=ev, wall_median_s=med,
                                events_per_s=ev / med, target_events_per_s=5e6, load_avg=os.getloadavg())
    print(f"\ncalm day, logs {logs}: {ev:,} events, {med:.3f} s, {ev / med / 1e6:.2f}M events/s "
          f"(load {os.getloadavg()[0]:.2f})")


def test_calm_day_python_mm(benchmark):
    from strategies.ladder import LadderConfig, LadderMM
    spec = calm_day(duration_s=DURATION, python_mm=lambda: LadderMM(LadderConfig(refresh_s=0.1, size=20)))
    _run(dataclasses.replace(spec, duration_s=60.0))
    digests, walls, events, mine = [], [], [], []

    def one():
        sim, res, wall = _run(spec)
        _check(sim, res, digests, spec.logs)
        walls.append(wall)
        events.append(int(sim.W.clock[L.K_EVENTS]))
        (agent,) = sim.strategies                      # the one Python market maker
        acct = int(sim.W.agents[agent, L.A_ACCOUNT])
        f = res.fills
        mine.append(int(((f["maker_account"] == acct) | (f["taker_account"] == acct)).sum()))
        assert mine[-1] > 0                            # it quoted and was filled

    benchmark.pedantic(one, rounds=2 if QUICK else 3, iterations=1)
    med = float(np.median(walls))
    ev = events[0]
    benchmark.extra_info.update(simulated_s=DURATION, events=ev, wall_median_s=med, events_per_s=ev / med,
                                python_mm_decisions=int(DURATION / 0.1), python_mm_fills=mine[0],
                                target_events_per_s=3e5,
                                load_avg=os.getloadavg())
    print(f"\ncalm day + Python MM every 100 ms: {ev:,} events, {med:.3f} s, {ev / med / 1e6:.2f}M events/s")


_COLD = """
import json, time, sys
t0 = time.perf_counter()
import lob
from lob.scenarios.calm_day import calm_day
from lob.sim.model import Simulation
from lob.sim import layout as L
t1 = time.perf_counter()
sim = Simulation(calm_day(duration_s={d}), seed=0)
res = sim.run()
t2 = time.perf_counter()
print(json.dumps(dict(import_s=t1 - t0, run_s=t2 - t1, events=int(sim.W.clock[L.K_EVENTS]),
                      conserved=bool((res.conservation_error() == 0).all()))))
"""


def test_calm_day_cold(benchmark):
    """Empty numba cache: every compiled function of the loop is compiled."""
    out = {}

    def one():
        with tempfile.TemporaryDirectory() as cache:
            env = {k: v for k, v in os.environ.items() if k != "LOB_NUMBA_CACHE_BASE"}   # not the parent's cache
            env["NUMBA_CACHE_DIR"] = cache
            t = time.perf_counter()
            p = subprocess.run([sys.executable, "-c", _COLD.format(d=DURATION)], env=env, capture_output=True,
                               text=True, check=True)
            out.update(json.loads(p.stdout.strip().splitlines()[-1]), wall_s=time.perf_counter() - t)

    benchmark.pedantic(one, rounds=1, iterations=1)
    assert out["conserved"] and out["events"] > 100_000
    benchmark.extra_info.update(**out, load_avg=os.getloadavg())
    print(f"\ncalm day cold: {out['wall_s']:.1f} s in all (import {out['import_s']:.1f} s, "
          f"compile + run {out['run_s']:.1f} s)")
