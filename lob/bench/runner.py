"""Engine throughput against the reference twin, as ``lob bench`` prints it.

Every measurement here checks what it timed: after each timed run the
engine's final book (live orders, level by level, FIFO order) must equal the
twin's on the same messages, so a fast wrong engine cannot report a number.

Workloads (see ``workloads``):

* ``synthetic``: the standard synthetic L3 stream (2,000,000 messages by
  default) processed in one compiled call into reused output buffers; the
  twin runs a prefix of the same stream (its rate is per message, the ratio
  compares both on that prefix).
* ``lobster``: the AAPL 50-level hour of NASDAQ messages
  (../shared/data/lobster, 91,997 events) converted to an engine order
  stream; skipped when the data is absent.
* ``per_message``: ``Engine.submit`` called from a Python loop, one message
  per call (the agent path), against the twin's ``submit``.
* ``start``: cold start (empty numba cache: import, compile, first call) and
  warm start (import plus first call with the cache filled), each in a fresh
  interpreter.

Units: messages per second, nanoseconds per call, seconds.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..core import codes as C
from ..core.engine import Engine
from ..core.reference import ReferenceEngine
from .workloads import synthetic_l3

AAPL_50 = "AAPL_2012-06-21_34200000_37800000_message_50.csv"


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside the project (or ``$LOB_SHARED_DATA``), if present."""
    env = os.environ.get("LOB_SHARED_DATA")
    cands = [Path(env)] if env else []
    cands.append(Path(__file__).resolve().parents[2].parent / "shared" / "data")
    cands.append(Path.cwd().parent / "shared" / "data")
    for c in cands:
        if c.is_dir():
            return c
    return None


def same_final_state(eng, twin, n_books: int) -> None:
    """Assert the two engines hold identical books (orders in priority order)."""
    for b in range(n_books):
        lo_e, lo_t = eng.live_orders(b), twin.live_orders(b)
        if not (lo_e.shape == lo_t.shape and all(np.array_equal(lo_e[f], lo_t[f]) for f in lo_e.dtype.names)):
            raise AssertionError(f"engine and twin disagree on book {b} after the benchmark run")
    eng.check()


def _buffers(n: int):
    """An output buffer for ``n`` messages, touched once so that page faults
    are not part of the timing (a replay loop reuses its buffer)."""
    return Engine.output_buffer(n)


# tables sized for the workloads' books, as a replay would size them: the
# timing is then the matching, not the first few table doublings
SIZED = dict(order_capacity=4096, level_capacity=4096, chunks_per_side=64)


def time_engine(msgs, n_books: int = 1, repeat: int = 5, out=None) -> tuple[float, Engine]:
    """Median seconds for a fresh (pre-sized) engine to process ``msgs`` in one call."""
    times = []
    eng = None
    out = out if out is not None else _buffers(len(msgs))
    for _ in range(repeat):
        eng = Engine(n_books, **SIZED)
        t0 = time.perf_counter()
        eng.process(msgs, out=out)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), eng


def time_twin(msgs, n_books: int = 1) -> tuple[float, ReferenceEngine]:
    twin = ReferenceEngine(n_books)
    t0 = time.perf_counter()
    twin.process(msgs)
    return time.perf_counter() - t0, twin


def bench_synthetic(n: int = 2_000_000, twin_n: int = 200_000, repeat: int = 5, seed: int = 42) -> dict:
    msgs = synthetic_l3(n, seed)
    mix = np.bincount(msgs["type"], minlength=9) / n
    t_full, _ = time_engine(msgs, repeat=repeat)
    pre = msgs[:twin_n]
    t_pre, eng = time_engine(pre, repeat=repeat)
    t_twin, twin = time_twin(pre)
    same_final_state(eng, twin, 1)
    return {
        "messages": n,
        "engine_msgs_per_s": n / t_full,
        "prefix_messages": twin_n,
        "engine_prefix_msgs_per_s": twin_n / t_pre,
        "twin_msgs_per_s": twin_n / t_twin,
        "ratio_to_twin": t_twin / t_pre,
        "mix": {"limit": float(mix[C.LIMIT]), "ioc": float(mix[C.IOC]), "cancel": float(mix[C.CANCEL])},
        "live_orders_end": eng.n_live(),
    }


def bench_lobster(repeat: int = 5) -> dict | None:
    data = shared_data_dir()
    if data is None or not (data / "lobster" / AAPL_50).exists():
        return None
    from ..data.lobster import load_messages
    from ..replay.lobster import to_engine_messages

    msgs = to_engine_messages(load_messages(data / "lobster" / AAPL_50))
    t_eng, eng = time_engine(msgs, repeat=repeat)
    t_twin, twin = time_twin(msgs)
    same_final_state(eng, twin, 1)
    return {"messages": len(msgs), "engine_msgs_per_s": len(msgs) / t_eng,
            "twin_msgs_per_s": len(msgs) / t_twin, "ratio_to_twin": t_twin / t_eng}


def _submit_loop(eng, rows) -> float:
    submit = eng.submit
    t0 = time.perf_counter()
    for r in rows:
        submit(r[1], r[2], r[3], r[5], r[6], r[4], r[7], r[8], r[0])
    return time.perf_counter() - t0


def bench_per_message(n: int = 200_000, seed: int = 42) -> dict:
    rows = C.as_matrix(synthetic_l3(n, seed)).tolist()
    eng = Engine(1, fill_capacity=1 << 16, event_capacity=1 << 18, **SIZED)
    _submit_loop(Engine(1), rows[:1000])     # compile/warm
    t_eng = _submit_loop(eng, rows)
    twin = ReferenceEngine(1)
    t_twin = _submit_loop(twin, rows)
    same_final_state(eng, twin, 1)
    return {"messages": n, "engine_ns_per_call": t_eng / n * 1e9, "twin_ns_per_call": t_twin / n * 1e9,
            "ratio_to_twin": t_twin / t_eng}


_START = ("import time; t=time.perf_counter(); from lob.core.engine import Engine; from lob.core import codes as C; "
          "e=Engine(1); e.submit(C.LIMIT, 0, C.BUY, 100, 1); e.process(C.messages(1)); "
          "print(time.perf_counter()-t)")


def bench_start() -> dict:
    """Cold (empty numba cache) and warm start, each in a new interpreter."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        env.pop("LOB_NUMBA_CACHE_BASE", None)     # a truly empty cache, not the parent's

        def once():
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", _START], env=env, capture_output=True, text=True, check=True)
            return time.perf_counter() - t0, float(out.stdout.strip())

        cold_wall, cold_in = once()
        warm_wall, warm_in = once()
    return {"cold_s": cold_wall, "cold_in_process_s": cold_in, "warm_s": warm_wall, "warm_in_process_s": warm_in}


def run_all(quick: bool = False) -> dict:
    """Every workload; ``quick`` shrinks them for a smoke test."""
    out = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    if quick:
        out["synthetic"] = bench_synthetic(n=100_000, twin_n=20_000, repeat=2)
        out["per_message"] = bench_per_message(n=20_000)
    else:
        out["synthetic"] = bench_synthetic()
        out["per_message"] = bench_per_message()
    out["lobster_aapl_50"] = bench_lobster(repeat=2 if quick else 5)
    out["start"] = bench_start()
    return out
