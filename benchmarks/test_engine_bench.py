"""Matching-engine benchmarks (pytest-benchmark).

Run:  .venv/bin/python -m pytest benchmarks --benchmark-only
Each benchmark times the engine and the reference twin on the same messages
in the same run, records messages/s and the ratio in ``extra_info``, and
asserts the final book state equals the twin's (a fast wrong engine fails).
Targets (issue #2, 2-core machine): synthetic >= 30M msgs/s and >= 60x the
twin; per-message call <= 1 us; cold start <= 10 s; warm start <= 1 s.
They are reported, not asserted: timings are not tests.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from benchmarks.conftest import QUICK
from lob.bench import runner
from lob.bench.workloads import synthetic_l3
from lob.core.engine import Engine
from lob.core.reference import ReferenceEngine

N_SYN = 100_000 if QUICK else 2_000_000
N_TWIN = 20_000 if QUICK else 200_000


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_l3(N_SYN, seed=42)


def _fresh_engine_args(msgs, out):
    return (Engine(1), msgs, out), {}


def test_synthetic_engine(benchmark, synthetic):
    """Workload (a): 2M-message synthetic L3 stream, one compiled call."""
    out = runner._buffers(len(synthetic))
    Engine(1).process(synthetic[:1000], out=out)          # compile outside the timing
    engines = []

    def setup():
        eng = Engine(1, **runner.SIZED)
        engines.append(eng)
        return (synthetic,), {"out": out}

    def run(msgs, out):
        engines[-1].process(msgs, out=out)

    benchmark.pedantic(run, setup=setup, rounds=3 if QUICK else 7, iterations=1)
    eng = engines[-1]
    # the twin on a prefix: its rate, and the engine's on the same prefix
    pre = synthetic[:N_TWIN]
    t0 = time.perf_counter()
    twin = ReferenceEngine(1)
    twin.process(pre)
    t_twin = time.perf_counter() - t0
    t_pre, eng_pre = runner.time_engine(pre, repeat=5)
    runner.same_final_state(eng_pre, twin, 1)
    if not QUICK:   # the full stream against the twin too (about 10 s)
        twin_full = ReferenceEngine(1)
        twin_full.process(synthetic)
        runner.same_final_state(eng, twin_full, 1)
    med = benchmark.stats.stats.median
    benchmark.extra_info.update(engine_msgs_per_s=len(synthetic) / med, twin_msgs_per_s=N_TWIN / t_twin,
                                ratio_to_twin_same_prefix=t_twin / t_pre)


def test_lobster_aapl_50(benchmark):
    """Workload (b): the AAPL 50-level hour (91,997 NASDAQ events) as an order stream."""
    data = runner.shared_data_dir()
    if data is None or not (data / "lobster" / runner.AAPL_50).exists():
        pytest.skip("../shared/data/lobster is absent")
    from lob.data.lobster import load_messages
    from lob.replay.lobster import to_engine_messages

    msgs = to_engine_messages(load_messages(data / "lobster" / runner.AAPL_50))
    out = runner._buffers(len(msgs))
    Engine(1).process(msgs[:100], out=out)
    engines = []

    def setup():
        engines.append(Engine(1, **runner.SIZED))
        return (msgs,), {"out": out}

    benchmark.pedantic(lambda m, out: engines[-1].process(m, out=out), setup=setup,
                       rounds=3 if QUICK else 10, iterations=1)
    t_twin, twin = runner.time_twin(msgs)
    runner.same_final_state(engines[-1], twin, 1)
    med = benchmark.stats.stats.median
    benchmark.extra_info.update(engine_msgs_per_s=len(msgs) / med, twin_msgs_per_s=len(msgs) / t_twin,
                                ratio_to_twin=t_twin / med)


def test_per_message_submit(benchmark, synthetic):
    """Workload (c): one Engine.submit call per message from a Python loop."""
    n = 20_000 if QUICK else 200_000
    rows = np.asarray(synthetic[:n].tolist()).tolist()
    runner._submit_loop(Engine(1), rows[:1000])
    engines = []

    def setup():
        engines.append(Engine(1, fill_capacity=1 << 16, event_capacity=1 << 18, **runner.SIZED))
        return (engines[-1], rows), {}

    benchmark.pedantic(runner._submit_loop, setup=setup, rounds=3, iterations=1)
    twin = ReferenceEngine(1)
    t_twin = runner._submit_loop(twin, rows)
    runner.same_final_state(engines[-1], twin, 1)
    med = benchmark.stats.stats.median
    benchmark.extra_info.update(engine_ns_per_call=med / n * 1e9, twin_ns_per_call=t_twin / n * 1e9,
                                ratio_to_twin=t_twin / med)


def test_start_times(benchmark):
    """Cold start (empty numba cache) and warm start, in fresh interpreters."""
    res = benchmark.pedantic(runner.bench_start, rounds=1, iterations=1)
    benchmark.extra_info.update(res)
    assert res["warm_s"] < res["cold_s"]
