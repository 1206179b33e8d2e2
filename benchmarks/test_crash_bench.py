"""Crash-scenario benchmarks (pytest-benchmark).

Run:  .venv/bin/python -m pytest benchmarks/test_crash_bench.py --benchmark-only

* ``test_oct10_full``: the whole ``oct-10-2025`` scenario (3 simulated hours,
  50 books, about 1,200 agents, the chain), one round: the issue's target
  is 30 s warm on 2 cores.  ``LOB_BENCH_QUICK=1`` shortens it to 10 minutes
  and 10 altcoins (a smoke run, not the measurement).
* ``test_cascade``: the ``liquidation-cascade`` demonstration (30 minutes,
  one book), a few rounds.

Each records events, events/s and the share of wall time spent in the
compiled loop in ``extra_info``, and asserts the final state: every asset
conserved, the expected venues' events present.
"""
from __future__ import annotations

import time

from benchmarks.conftest import QUICK
from lob.run import scenario_spec
from lob.sim import layout as L
from lob.sim.model import Simulation


def _run(spec, seed=0):
    sim = Simulation(spec, seed=seed)
    t = time.perf_counter()
    res = sim.run()
    return sim, res, time.perf_counter() - t


def test_oct10_full(benchmark):
    kw = dict(duration_s=600.0, shock_s=120.0, n_alts=10, n_calm_alts=4) if QUICK else {}
    spec = scenario_spec("oct-10-2025", **kw)
    _run(scenario_spec("oct-10-2025", duration_s=60.0, shock_s=30.0, n_alts=2, n_calm_alts=1))   # compile / load
    out = benchmark.pedantic(lambda: _run(spec), rounds=1, iterations=1)
    sim, res, wall = out
    ev = int(sim.W.clock[L.K_EVENTS])
    benchmark.extra_info.update(events=ev, events_per_s=ev / wall, books=len(spec.books),
                                agents=sum(p.count for p in sim.populations), simulated_s=spec.duration_s,
                                target_warm_s=30.0)
    assert (res.conservation_error() == 0).all()
    for ch in sim.chains.values():
        ch.check()
    assert len(res.frame("margin_events")) > 0


def test_cascade(benchmark):
    spec = scenario_spec("liquidation-cascade", **(dict(duration_s=600.0, shock_s=120.0) if QUICK else {}))
    _run(scenario_spec("liquidation-cascade", duration_s=60.0, shock_s=30.0))
    out = benchmark.pedantic(lambda: _run(spec), rounds=3, iterations=1)
    sim, res, wall = out
    ev = int(sim.W.clock[L.K_EVENTS])
    benchmark.extra_info.update(events=ev, events_per_s=ev / wall, simulated_s=spec.duration_s)
    assert (res.conservation_error() == 0).all()
    assert (res.frame("margin_events")["kind"] == 2).any()
