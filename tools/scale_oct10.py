"""Runs per minute of oct-10-2025 (issue #8): python tools/scale_oct10.py local1|local2|cluster -- 1 and 2 local workers, a 2-worker LocalCluster."""
import json, os, sys, time
from lob.sweeps import sweep
def main():
    which = sys.argv[1]
    out = {}
    if which == "local1":
        t = time.perf_counter(); df = sweep("oct-10-2025", {}, [10, 11], out="/tmp/sc_l1", workers=1); w = time.perf_counter() - t
        out = dict(mode="local 1 worker", runs=len(df), wall_s=w, runs_per_min=len(df) / w * 60, run_wall=df["wall_s"].tolist())
    elif which == "local2":
        t = time.perf_counter(); df = sweep("oct-10-2025", {}, [12, 13, 14, 15], out="/tmp/sc_l2", workers=2); w = time.perf_counter() - t
        out = dict(mode="local 2 workers", runs=len(df), wall_s=w, runs_per_min=len(df) / w * 60, run_wall=df["wall_s"].tolist())
    else:
        from distributed import Client, LocalCluster
        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster); t_up = time.perf_counter() - t0
        t = time.perf_counter(); df = sweep("oct-10-2025", {}, [16, 17, 18, 19], out="/tmp/sc_c2", scheduler=client); w = time.perf_counter() - t
        client.close(); cluster.close()
        out = dict(mode="LocalCluster 2 workers", startup_s=t_up, runs=len(df), wall_s=w, runs_per_min=len(df) / w * 60,
                   run_wall=df["wall_s"].tolist(), errors=df["error"].dropna().tolist())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
