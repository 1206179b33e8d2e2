"""Sweeps: every combination of a parameter grid and seeds, each run
independent and deterministic, on local processes; one tidy DataFrame.

``sweep(scenario, grid={"leverage_scale": [0.5, 1.0]}, seeds=3, out="sweeps/x")``
runs ``len(grid product) x seeds`` simulations of ``scenario`` (a name or a
scenario file, see :func:`lob.run.scenario_spec`) with those builder
parameters, on ``workers`` local processes (default: all cores; the
compiled-code cache folder is shared, so each worker loads it once).  Each run
writes ``OUT/<run id>/summary.json`` as it finishes; a sweep started again
with the same ``out`` skips the runs already written (resume).  A run that
raises is recorded with its error (``error`` column) and does not stop the
others; so is a run whose worker process dies (killed for memory, say:
the error names the signal), which is not written to ``OUT`` (a resumed
sweep runs it again).  The result has one row per run: the parameters,
the seed, the run id, and the run's summary metrics (:func:`metrics`).

``lob sweep SCENARIO --grid KEY=V1,V2 --seeds N --out DIR`` is the CLI; with
grid parameters and more than one seed it also writes ``sensitivity.png``
and ``sensitivity.csv`` (each metric against each parameter with confidence
bands across seeds: :func:`sensitivity`, :func:`plot_sensitivity`, from
:mod:`lob.sensitivity`).
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from .sensitivity import DEFAULT_METRICS, bands, plot_sensitivity, plottable, sensitivity  # noqa: F401  (re-exported)


def metrics(res, shock_s: float | None = None) -> dict:
    """Headline numbers of a run: events, conservation, and for runs with a
    risk engine the altcoin wick distribution (median, quartiles, share at
    80% or deeper, median time of the low in minutes after the shock), the
    majors' wicks, the lowest USDe, the accounts taken over and the
    liquidation volume by type in USD (``liquidated_usd``: every slice;
    ``spot_liq_usd``, ``perp_liq_usd``, ``adl_usd``, ``lending_liq_usd``:
    see :func:`lob.analysis.crash.liquidation_volumes`)."""
    import numpy as np

    from .sim import layout as L
    out = {"events": int(res.sim.W.clock[L.K_EVENTS]), "conserved": bool(not res.conservation_error().any()),
           "digest": res.digest()}
    if res.sim.risk_engines:
        from .analysis import crash
        shock = shock_s if shock_s is not None else min((t for t, _, _ in res.sim.spec.shocks), default=0.0)
        w = crash.wicks(res, shock)
        w = w[w["wick"].notna()] if "wick" in w else w
        risk_venues = set(res.sim.risk_engines)
        alts = w[w["symbol"].str.startswith("ALT") & w["venue"].isin(risk_venues)] if len(w) else w
        aw = alts["wick"] if len(alts) else None
        out["alt_wick_median"] = float(aw.median()) if aw is not None else np.nan
        out["alt_wick_q25"] = float(aw.quantile(0.25)) if aw is not None else np.nan
        out["alt_wick_q75"] = float(aw.quantile(0.75)) if aw is not None else np.nan
        out["alt_wick_max"] = float(aw.max()) if aw is not None else np.nan
        out["alt_share_80"] = float((aw >= 0.8).mean()) if aw is not None else np.nan
        out["alt_t_low_min"] = float(alts["t_low_s"].median() / 60.0) if aw is not None else np.nan
        for major in ("BTC", "ETH"):
            m = w[(w["symbol"] == f"{major}/USDT") & w["venue"].isin(risk_venues)] if len(w) else w
            out[f"{major.lower()}_wick"] = float(m["wick"].iloc[0]) if len(m) else np.nan
        usde = w[w["symbol"].str.startswith("USDe/")] if len(w) else w
        out["usde_low"] = float(usde["low"].min()) if len(usde) else np.nan
        me = res.frame("margin_events")
        out["accounts_taken_over"] = int(me.loc[me["kind"] == 2, "account"].nunique()) if len(me) else 0
        eng = next(iter(res.sim.risk_engines.values()))
        apu = float(eng.cfg.atoms_per_unit[eng.q])
        out["liquidated_usd"] = float(me.loc[me["kind"] == 3, "notional"].sum()) / apu if len(me) else 0.0
        lv = crash.liquidation_volumes(res)
        for typ, key in (("spot liquidation", "spot_liq_usd"), ("perp liquidation", "perp_liq_usd"),
                         ("ADL", "adl_usd"), ("lending liquidation", "lending_liq_usd")):
            out[key] = float(lv.loc[lv["type"] == typ, "notional_usd"].sum())
    return out


def run_id(scenario: str, params: dict, seed: int) -> str:
    key = json.dumps({"scenario": scenario, "params": params, "seed": seed}, sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _one(scenario: str, params: dict, seed: int, out_dir: str) -> dict:
    """One run in a worker: returns its row (also written to its folder)."""
    from .run import scenario_spec
    from .sim.model import Simulation
    rid = run_id(scenario, params, seed)
    row = {"run": rid, "seed": seed, **params}
    t0 = time.perf_counter()
    try:
        sim = Simulation(scenario_spec(scenario, **params), seed=seed)
        res = sim.run()
        row.update(metrics(res))
        row["error"] = None
    except Exception as e:                       # recorded, not raised: the sweep goes on
        row["error"] = f"{type(e).__name__}: {e}"
        row["traceback"] = traceback.format_exc(limit=5)
    row["wall_s"] = time.perf_counter() - t0
    d = Path(out_dir) / rid
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / "summary.json.tmp"
    tmp.write_text(json.dumps(row, default=str, indent=1))
    tmp.replace(d / "summary.json")
    return row


def _lost(task, error: str) -> dict:
    """The row of a run whose worker process died (:func:`run_local`): its
    parameters and the error.  Not written to its folder: a resumed sweep
    runs it again."""
    scenario, params, seed, _ = task
    return {"run": run_id(scenario, params, seed), "seed": seed, **params, "error": error}


def combinations(grid: dict, seeds) -> list[tuple[dict, int]]:
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    keys = list(grid)
    combos = [dict(zip(keys, vals)) for vals in itertools.product(*(grid[k] for k in keys))] or [{}]
    return [(c, s) for c in combos for s in seeds]


def sweep(scenario: str, grid: dict | None = None, seeds=1, *, out: str | os.PathLike = "sweeps/run",
          workers: int | None = None, progress: bool = False, scheduler=None):
    """Run the grid (see the module docstring); returns a DataFrame.

    ``scheduler``: a Dask distributed scheduler address
    (``"tcp://host:port"``) or a ``distributed.Client``: the runs are
    submitted to that cluster (``Client.submit``, one task per run, results
    gathered as they complete) instead of local processes.  The workers
    must see ``out`` (a shared folder) and have ``lob`` installed."""
    import pandas as pd
    grid = dict(grid or {})
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    todo, rows = [], []
    for params, seed in combinations(grid, seeds):
        f = out / run_id(scenario, params, seed) / "summary.json"
        if f.exists():
            rows.append(json.loads(f.read_text()))     # finished earlier: resume
        else:
            todo.append((params, seed))
    n_workers = workers or os.cpu_count() or 1
    tasks = [(scenario, p, s, str(out)) for p, s in todo]
    if todo and scheduler is not None:
        rows += run_dask(scheduler, _one, tasks, progress=progress)
    elif todo:
        rows += run_local(_one, tasks, n_workers, progress=progress, lost=_lost)
    df = pd.DataFrame(rows)
    keys = [k for k in grid] + ["seed"]
    return df.sort_values(keys).reset_index(drop=True) if len(df) else df


def run_local(fn, tasks, workers: int, *, progress: bool = False, failed=lambda r: r.get("error") is not None,
              lost=None):
    """``fn(*task)`` for every task, on ``workers`` local processes (in this
    process when there is one worker or one task), yielded as they finish;
    with ``progress`` a line on stderr counts the runs done, those for which
    ``failed(result)`` holds, and the time left.

    A worker process that dies (killed for memory, a crash in compiled code,
    ``os._exit``) breaks its pool: every task not finished gets
    ``BrokenProcessPool``.  The task the dead worker was running is then
    yielded as ``lost(task, error)`` (default ``{"error": error}``; ``error``
    names the signal or exit code), the tasks lost with it run again in a new
    pool, and the sweep goes on.  Each worker records which task it starts,
    and the pool's SIGTERM of the survivors tells them from the one that
    died; where the exit status cannot be read, each task that was running
    beside others when its pool broke runs again alone, and is lost only if
    it breaks that pool too."""
    lost = lost or (lambda task, error: {"error": error})
    t0, done, bad = time.perf_counter(), 0, 0
    if workers == 1 or len(tasks) <= 1:
        for t in tasks:
            r = fn(*t)
            done += 1
            bad += bool(failed(r))
            _progress(progress, done, bad, len(tasks), t0)
            yield r
        return
    todo = list(range(len(tasks)))        # indexes of the tasks not finished
    alone: list[int] = []                 # suspects of a broken pool, each to run in a pool of its own
    barren = 0                            # pools in a row that broke before any task started
    cut = [0] * len(tasks)                # times each task was cut short by another's worker dying
    while todo or alone:
        batch, nw = ([alone.pop(0)], 1) if alone else (todo, min(workers, len(todo)))
        if batch is todo:
            todo = []
        started_any = False
        for i, r, tag in _pool(fn, tasks, batch, nw):
            started_any |= tag != "again"
            if tag == "again":            # not started
                todo.append(i)
                continue
            if tag == "bystander":        # terminated with its pool when another task's worker died
                cut[i] += 1
                (alone if cut[i] >= 2 else todo).append(i)
                continue
            if tag == "suspect":
                alone.append(i)
                continue
            if tag != "ok":
                r = lost(tasks[i], tag)
            done += 1
            bad += bool(failed(r))
            _progress(progress, done, bad, len(tasks), t0)
            yield r
        barren = 0 if started_any else barren + 1
        if barren == 3:                   # the workers die before running anything: give up on the rest
            for i in sorted(todo + alone):
                done += 1
                bad += 1
                _progress(progress, done, bad, len(tasks), t0)
                yield lost(tasks[i], "WorkerDied: the pool's worker processes died three times before "
                                     "starting a task")
            return
        todo.sort()


_STARTED = None        # in a worker of run_local's pool: the pid of the worker that started each task


def _init_worker(started) -> None:
    global _STARTED
    _STARTED = started


def _tracked(i: int, fn, task):
    _STARTED[i] = os.getpid()
    return fn(*task)


def _pool(fn, tasks, batch, workers):
    """``tasks[i]`` for ``i`` in ``batch`` on a new pool of ``workers``
    processes: yields ``(i, result, "ok")`` as they finish and, for each
    task lost if the pool breaks, ``(i, None, tag)``: ``"again"`` (not
    started), ``"bystander"`` (running in a worker the pool terminated when
    another died), ``"suspect"`` (running when the pool broke; which worker
    died is not known) or the error naming how the worker running it died."""
    import multiprocessing
    import signal
    from concurrent.futures.process import BrokenProcessPool
    ctx = multiprocessing.get_context()
    started = ctx.RawArray("q", len(tasks))
    broken, cause = [], None
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(started,)) as ex:
        futs = {ex.submit(_tracked, i, fn, tasks[i]): i for i in batch}
        procs = getattr(ex, "_processes", None) or {}       # pid -> Process (CPython), for exit codes
        for fu in as_completed(futs):
            try:
                r = fu.result()
            except BrokenProcessPool as e:
                broken.append(futs[fu])
                cause = e
                continue
            yield futs[fu], r, "ok"
    # the pool is shut down: its workers are joined and their exit codes known
    running = [i for i in sorted(broken) if started[i]]
    codes = {i: _exit_code(procs, started[i]) for i in running}
    dead = [i for i in running if codes[i] is not None and codes[i] != -signal.SIGTERM]
    if not dead and len(running) == 1:
        dead = running
    for i in sorted(broken):
        if i in dead:
            how = _exit_status(codes[i])
            yield i, None, (f"WorkerDied: the worker process (pid {started[i]}) died while running this task "
                            f"({how}); {type(cause).__name__}: {cause}")
        elif i in running:
            yield i, None, "bystander" if dead or codes[i] is not None else "suspect"
        else:
            yield i, None, "again"


def _exit_code(procs, pid: int):
    """The exit code of worker ``pid`` of a shut-down pool (None: unknown)."""
    return getattr(procs.get(pid), "exitcode", None)


def _exit_status(code) -> str:
    """A worker's exit code in words."""
    import signal
    if code is None:
        return "exit status unknown"
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "unknown signal"
    return f"killed by signal {-code}, {name}" + (", as the kernel's OOM killer does" if -code == signal.SIGKILL
                                                  else "")


def run_dask(scheduler, fn, tasks, *, progress: bool = False, failed=lambda r: r.get("error") is not None):
    """``fn(*task)`` for every task on a Dask cluster (``scheduler``: an
    address or a ``distributed.Client``; one task per run, ``pure=False``),
    yielded as they finish, with the same progress line as :func:`run_local`.
    A client made here from an address is closed at the end."""
    from distributed import Client, as_completed as dask_completed
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    t0, done, bad = time.perf_counter(), 0, 0
    try:
        for fu in dask_completed([client.submit(fn, *t, pure=False) for t in tasks]):
            r = fu.result()
            done += 1
            bad += bool(failed(r))
            _progress(progress, done, bad, len(tasks), t0)
            yield r
    finally:
        if client is not scheduler:
            client.close()


def _progress(on, done, failed, total, t0):
    if not on:
        return
    el = time.perf_counter() - t0
    left = el / done * (total - done) if done else float("nan")
    sys.stderr.write(f"\r{done}/{total} runs done, {failed} failed, {left:6.0f} s left")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- CLI
def add_arguments(p) -> None:
    p.add_argument("scenario", help="a named scenario or a scenario file")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="a builder parameter and its values (Python literals)")
    p.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 for every combination")
    p.add_argument("--out", default="sweeps/run", help="folder of the per-run results (resumable)")
    p.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    p.add_argument("--scheduler", default=None, help="a Dask distributed scheduler address (tcp://host:port)")
    p.add_argument("--metrics", default=",".join(DEFAULT_METRICS),
                   help="metrics of the sensitivity figure, comma-separated (those without values are skipped)")
    p.add_argument("--band", choices=("t", "bootstrap"), default="t",
                   help="confidence band of the mean across seeds in the sensitivity figure (90%%)")


def main(args) -> int:
    import ast
    grid = {}
    for item in args.grid:
        key, sep, vals = item.partition("=")
        if not sep or not key.isidentifier():
            print(f"lob sweep: --grid expects KEY=V1,V2,..., got {item!r}", file=sys.stderr)
            return 2
        out = []
        for v in vals.split(","):
            try:
                out.append(ast.literal_eval(v))
            except (ValueError, SyntaxError):
                out.append(v)
        grid[key] = out
    df = sweep(args.scenario, grid, args.seeds, out=args.out, workers=args.workers, progress=True,
               scheduler=args.scheduler)
    df.to_csv(Path(args.out) / "sweep.csv", index=False)
    cols = [c for c in df.columns if c not in ("digest", "traceback")]
    print(df[cols].to_string(index=False))
    _write_sensitivity(df, grid, args)
    return 0 if "error" not in df or df["error"].isna().all() else 1


def _write_sensitivity(df, grid: dict, args) -> None:
    """``sensitivity.csv`` and ``sensitivity.png`` in ``args.out`` when the
    grid has parameters and more than one seed (else nothing: a band needs
    seeds); a line on stderr says what was written or why not."""
    out = Path(args.out)
    metrics = [m for m in args.metrics.split(",") if m]
    if not grid or args.seeds < 2:
        print("lob sweep: no sensitivity figure (it needs --grid parameters and --seeds >= 2)", file=sys.stderr)
        return
    ms = plottable(df, metrics)
    ok = df[df["error"].isna()] if "error" in df else df
    flat = [m for m in ms if ok[m].astype(float).dropna().nunique() <= 1]
    if flat:
        print("lob sweep: not in the sensitivity figure (the same value in every run): "
              + ", ".join(f"{m} = {ok[m].astype(float).dropna().iloc[0]:g}" for m in flat), file=sys.stderr)
        ms = [m for m in ms if m not in flat]
    if not ms:
        print(f"lob sweep: no sensitivity figure (no varying values of {', '.join(metrics)} in this sweep)",
              file=sys.stderr)
        return
    if not [k for k in grid if len(grid[k]) > 1]:
        print("lob sweep: no sensitivity figure (no --grid parameter takes more than one value)", file=sys.stderr)
        return
    bands(df, ms, band=args.band, params=list(grid)).to_csv(out / "sensitivity.csv", index=False)
    plot_sensitivity(df, ms, out / "sensitivity.png", band=args.band, params=list(grid))
    print(f"lob sweep: wrote {out / 'sensitivity.png'} and sensitivity.csv ({', '.join(ms)}; "
          f"90% {args.band} band across {args.seeds} seeds)", file=sys.stderr)
