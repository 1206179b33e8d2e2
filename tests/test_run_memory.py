"""A finished run is freed as soon as nothing refers to it: by reference
counting, not by the cyclic garbage collector.

Issue #7: ``lob compare`` was OOM-killed (past 24 GB) late in its 18
oct-10-2025 runs, at oct-10-2025-no-loops seed 1.  No run grows: that one
peaks at 3.5 GB alone, with the same digest alone or after others.  Every
``Simulation`` was a reference cycle (its strategies held it strongly), so a
worker process kept the world and logs of the runs it had finished until a
full collection of the cyclic GC -- and CPython's full collections wait
until the objects promoted since the last one exceed a quarter of all
long-lived objects, which a run (its memory is in a few numpy arrays)
rarely reaches.  A worker running the compare's runs one after the other
held 1.8, 1.8, 3.1, 4.7 GB after its first four and passed 6.4 GB in the
fifth.  Freed, the memory then stayed in the malloc heap (the logs were
hundreds of 6-10 MB buffers): 4.5 GB after three runs.  The log buffers are
now their own mappings (``lob.sim.world.LOG_CAP``), and the worker stays at
0.6 GB between runs.
"""
from __future__ import annotations

import gc
import weakref

import pytest

from lob.run import scenario_spec
from lob.sim.model import Simulation
from lob.sim.strategy import Strategy
from lob.sweeps import _one, metrics

# the scenario of the issue, small: a risk engine, a chain, Python strategies of every kind it has
SMALL = dict(duration_s=300.0, shock_s=60.0, shock_tau_s=60.0, n_alts=3, n_calm_alts=1, longs_per_major=5,
             perps=("BTC",), perp_longs=10)


@pytest.fixture
def no_cyclic_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_a_finished_run_is_freed_by_reference_counting(no_cyclic_gc):
    sim = Simulation(scenario_spec("oct-10-2025-no-loops", **SMALL), seed=1)
    res = sim.run()
    metrics(res)                                   # the analysis a sweep worker runs on it
    assert sim.risk_engines and sim.chains
    refs = [weakref.ref(sim), weakref.ref(res), weakref.ref(sim.W.bal), weakref.ref(res.submissions)]
    refs += [weakref.ref(s) for s in {type(s): s for s in sim.strategies.values()}.values()]
    del sim, res
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"kept alive by a reference cycle: {[type(o).__name__ for o in alive]}"


def test_a_sweep_worker_keeps_no_finished_run(no_cyclic_gc, tmp_path):
    def runs():            # type(), not isinstance: that would look through other tests' dead weak proxies
        return {id(o) for o in gc.get_objects() if issubclass(type(o), (Simulation, Strategy))}
    before = runs()
    for seed in (0, 1):                            # what a worker of lob compare does, run after run
        row = _one("oct-10-2025-no-loops", SMALL, seed, str(tmp_path))
        assert row["error"] is None and row["conserved"]
        kept = runs() - before
        assert not kept, f"{len(kept)} objects of finished runs kept in the worker"


def test_a_strategy_outliving_its_simulation_says_so():
    sim = Simulation(scenario_spec("oct-10-2025-no-loops", **SMALL), seed=0)
    strat = next(iter(sim.strategies.values()))
    del sim
    gc.collect()
    with pytest.raises(ReferenceError):
        strat.bbo()


@pytest.mark.parametrize("log_cap", [64, 1 << 12])
def test_the_logs_do_not_depend_on_the_log_buffers_size(monkeypatch, log_cap):
    # a run's logs are the same whatever size its log buffers (and so its flushes): 64 rows is
    # fewer than the room the loop asks for (live orders + 16), which the flush then grows to
    from lob.sim import world as WD
    spec = scenario_spec("oct-10-2025-no-loops", **dict(SMALL, duration_s=120.0))
    ref = Simulation(spec, seed=2).run()
    monkeypatch.setattr(WD, "LOG_CAP", log_cap)
    sim = Simulation(spec, seed=2)
    assert sim.W.logf.shape[0] == log_cap
    res = sim.run()
    assert sum(len(c) for c in sim._chunks["submissions"]) == len(res.submissions) > 4 * log_cap
    assert res.digest() == ref.digest()
    assert len(sim._chunks["submissions"]) == 1         # joined once, the chunks not kept beside the log
    if log_cap < 1000:
        assert sim.W.logf.shape[0] > log_cap             # grown by the flush
