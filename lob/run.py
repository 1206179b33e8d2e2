"""``lob.run(scenario, seed=...)``: run a named or given scenario and return
its ``Result`` (logs as numpy structured arrays, ``.frame(name)`` for
DataFrames)."""
from __future__ import annotations

import sys
import time

SCENARIOS = {
    "calm-day": ("lob.scenarios.calm_day", "calm_day"),
    "liquidation-cascade": ("lob.scenarios.liquidation_cascade", "liquidation_cascade"),
    "usde-depeg": ("lob.scenarios.usde_depeg", "usde_depeg"),
    "oct-10-2025": ("lob.scenarios.oct_10_2025", "oct_10_2025"),
    "flash-crash": ("lob.scenarios.flash_crash", "flash_crash"),
    "stablecoin-depeg": ("lob.scenarios.stablecoin_depeg", "stablecoin_depeg"),
}


def known() -> list[str]:
    """Names ``lob run`` accepts: the builders below and the scenario files
    shipped in ``lob/scenarios`` (``oct-10-2025`` and its counterfactuals)."""
    from .scenarios.files import names
    return sorted(set(SCENARIOS) | set(names()))


def scenario_spec(name_or_spec, **overrides):
    """A ``ScenarioSpec`` from a scenario file (a path ending in ``.toml``,
    or the name of one shipped in ``lob/scenarios``) or a registered builder
    name; keyword overrides go to the builder's parameters.  Scenario files
    are validated with file and line (:mod:`lob.scenarios.files`)."""
    if not isinstance(name_or_spec, str):
        return name_or_spec
    from .scenarios import files
    if name_or_spec.endswith(".toml") or "/" in name_or_spec or name_or_spec in files.names():
        return files.build(name_or_spec, overrides)
    if name_or_spec not in SCENARIOS:
        raise KeyError(f"unknown scenario {name_or_spec!r}; known: {', '.join(known())}")
    import importlib
    mod, fn = SCENARIOS[name_or_spec]
    builder = getattr(importlib.import_module(mod), fn)
    if "duration_s" in overrides and not overrides["duration_s"] > 0:
        raise ValueError(f"duration_s must be > 0 seconds, got {overrides['duration_s']}")
    return builder(**overrides)


def run(scenario, seed: int = 0, *, progress: bool = False, **overrides):
    """Build and run ``scenario`` (a name or a ``ScenarioSpec``) with ``seed``."""
    from .sim.model import Simulation

    spec = scenario_spec(scenario, **overrides)
    sim = Simulation(spec, seed=seed)
    cb = _Progress(spec.duration_s) if progress else None
    res = sim.run(progress=cb)
    if cb:
        cb.done()
    return res


class _Progress:
    """A one-line progress bar on stderr: simulated time, events/s."""

    def __init__(self, duration_s: float):
        self.t0 = time.perf_counter()
        self.last = 0.0
        self.duration = duration_s

    def __call__(self, now_ns: int, stop_ns: int):
        t = time.perf_counter()
        if t - self.last < 0.2:
            return
        self.last = t
        frac = min(1.0, now_ns / max(1, stop_ns))
        bar = "#" * int(30 * frac)
        sys.stderr.write(f"\r[{bar:<30}] {frac * 100:5.1f}%  sim {now_ns / 1e9:9.1f}s  wall {t - self.t0:6.1f}s")
        sys.stderr.flush()

    def done(self):
        sys.stderr.write(f"\r{' ' * 80}\r")
        sys.stderr.flush()
