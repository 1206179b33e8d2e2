import os
from pathlib import Path

# compiled kernels are cached beside the project, as in CI
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".numba_cache"))

# LOB_BENCH_QUICK=1 shrinks every workload (a smoke run, not a measurement)
QUICK = os.environ.get("LOB_BENCH_QUICK") == "1"
