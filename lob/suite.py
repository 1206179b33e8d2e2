"""The crash benchmark suite: a versioned, named set of stress scenarios,
each with a fixed list of seeds, on which a user's market maker is
evaluated (:mod:`lob.benchmark`, ``lob benchmark``).

* ``oct-10-2025`` and its five counterfactual scenario files
  (``oct-10-2025-mms-keep-quoting``, ``-oracle-collateral``, ``-no-loops``,
  ``-half-leverage``, ``-double-stink-bids``): two exchanges, 50 books, a
  chain, a macro shock;
* ``flash-crash`` (:mod:`lob.scenarios.flash_crash`): one book, a sell
  program, market makers pulling their bids, no fundamental move;
* ``stablecoin-depeg`` (:mod:`lob.scenarios.stablecoin_depeg`): a run on
  USDe's exchange book and the leverage spiral, no altcoin shock.

Every scenario takes ``user_mm`` and ``user_mm_share``: the user's strategy
takes the place of that share of the built-in unified-account market
makers on every book (at least one per book), on the same accounts.

``SUITES["full"]`` is the suite; ``SUITES["short"]`` its CI variant (the
same scenarios shortened -- ``duration_s``, ``shock_s``, fewer altcoins --,
a subset of the counterfactuals, fewer seeds: about a minute on 2 cores).
``SUITE_VERSION`` changes whenever an entry (its scenario, parameters,
seeds or crash window) changes, or a scenario file it runs (its
``version`` or its parameters): :func:`fingerprint` hashes all of that and
:data:`FINGERPRINTS` records the fingerprint of each suite at each version
(a test fails when they disagree), so results carry the version they were
measured on.  :func:`lob.benchmark` also accepts a suite of your own (a
sequence of :class:`Entry`).  Units: s.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

SUITE_VERSION = 5

#: the fingerprint (:func:`fingerprint`) of every suite at each version: change an entry, then bump
#: ``SUITE_VERSION`` and record the new fingerprints here
FINGERPRINTS = {
    1: {"full": "c3e51f32ebe4da85", "short": "ebbbe82dae0edf9c"},
    2: {"full": "fb95617e2645a148", "short": "e4a1126db2a2b379"},   # oct-10-2025 version 2
    3: {"full": "7c152e91a1fb5af9", "short": "d6bd5ff04e767084"},   # its compiled_mms parameter (same fills)
    4: {"full": "180604ebbe574c48", "short": "9de71bafa9978e75"},   # oct-10-2025 version 3
    5: {"full": "66b9f3047c3f3af7", "short": "3d2ae18aa11727c2"},   # version 4 (the liquidation-feed trigger)
}

COUNTERFACTUALS = ("mms-keep-quoting", "oracle-collateral", "no-loops", "half-leverage", "double-stink-bids")


@dataclass(frozen=True)
class Entry:
    """One scenario of the suite: ``name`` (unique in the suite), the
    ``scenario`` (a registered builder or a shipped scenario file),
    ``params`` (builder overrides), the ``seeds`` it runs with, and the
    crash window: from the scenario's first shock (``ScenarioSpec.shocks``)
    for ``window_s`` seconds (cut at the end of the run)."""
    name: str
    scenario: str
    params: dict = field(default_factory=dict)
    seeds: tuple = (0,)
    window_s: float = 3600.0

    def crash_window(self, spec) -> tuple[float, float]:
        """(start, end) of the crash window of a built spec, s."""
        start = min((t for t, _, _ in spec.shocks), default=0.0)
        return float(start), float(min(spec.duration_s, start + self.window_s))


_OCT_SHORT = dict(duration_s=900.0, shock_s=150.0, shock_tau_s=150.0, n_alts=5, n_calm_alts=2)

FULL = (
    Entry("oct-10-2025", "oct-10-2025", {}, (0, 1, 2)),
    *(Entry(f"oct-10-2025-{c}", f"oct-10-2025-{c}", {}, (0, 1, 2)) for c in COUNTERFACTUALS),
    Entry("flash-crash", "flash-crash", {}, tuple(range(10)), window_s=1200.0),
    Entry("stablecoin-depeg", "stablecoin-depeg", {}, tuple(range(5)), window_s=1800.0),
)

SHORT = (
    Entry("oct-10-2025", "oct-10-2025", _OCT_SHORT, (0, 1), window_s=750.0),
    Entry("oct-10-2025-mms-keep-quoting", "oct-10-2025-mms-keep-quoting", _OCT_SHORT, (0,), window_s=750.0),
    Entry("oct-10-2025-oracle-collateral", "oct-10-2025-oracle-collateral", _OCT_SHORT, (0,), window_s=750.0),
    Entry("flash-crash", "flash-crash", dict(duration_s=600.0, shock_s=120.0), (0, 1), window_s=480.0),
    Entry("stablecoin-depeg", "stablecoin-depeg", dict(duration_s=1200.0, shock_s=150.0), (0, 1),
          window_s=1050.0),
)

SUITES = {"full": FULL, "short": SHORT}


def entries(suite="full", names=None) -> tuple[Entry, ...]:
    """The entries of ``suite`` (``"full"``, ``"short"``, or a sequence of
    :class:`Entry` of your own, checked by :func:`validate`), optionally
    only those named in ``names``.  ``KeyError`` naming an unknown suite or
    entry, ``ValueError`` for an invalid entry of your own."""
    if isinstance(suite, str):
        if suite not in SUITES:
            raise KeyError(f"unknown suite {suite!r}; known: {', '.join(SUITES)}")
        out = SUITES[suite]
    else:
        out = validate(suite)
    if names:
        known = {e.name for e in out}
        bad = [n for n in names if n not in known]
        if bad:
            label = suite if isinstance(suite, str) else "given"
            raise KeyError(f"no entry {bad[0]!r} in the {label} suite; entries: {', '.join(e.name for e in out)}")
        out = tuple(e for e in out if e.name in set(names))
    return out


def validate(suite) -> tuple[Entry, ...]:
    """``suite`` (a sequence of :class:`Entry`) as a tuple, or ``ValueError``
    naming the entry and field at fault: not an Entry, an empty or
    repeated ``name``, ``scenario`` not a string, ``params`` not a dict,
    ``seeds`` not a non-empty sequence of distinct non-negative integers,
    ``window_s`` not > 0.  (Whether the scenario and its parameters build
    is known when it runs.)"""
    out, seen = [], set()
    for k, e in enumerate(suite):
        if not isinstance(e, Entry):
            raise ValueError(f"suite entry {k}: expected a lob.suite.Entry, got {type(e).__name__}")
        where = f"suite entry {e.name!r}" if isinstance(e.name, str) and e.name else f"suite entry {k}"
        if not isinstance(e.name, str) or not e.name:
            raise ValueError(f"{where}: name must be a non-empty string, got {e.name!r}")
        if e.name in seen:
            raise ValueError(f"{where}: name is used twice in the suite")
        seen.add(e.name)
        if not isinstance(e.scenario, str) or not e.scenario:
            raise ValueError(f"{where}: scenario must be a scenario name or file, got {e.scenario!r}")
        if not isinstance(e.params, dict):
            raise ValueError(f"{where}: params must be a dict of builder parameters, got {type(e.params).__name__}")
        seeds = e.seeds
        if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__len__") or not len(seeds) or any(
                isinstance(x, bool) or not isinstance(x, int) or x < 0 for x in seeds) or len(set(seeds)) != len(seeds):
            raise ValueError(f"{where}: seeds must be a non-empty sequence of distinct integers >= 0, got {seeds!r}")
        if not (isinstance(e.window_s, (int, float)) and e.window_s > 0):
            raise ValueError(f"{where}: window_s must be > 0 seconds, got {e.window_s!r}")
        out.append(e)
    if not out:
        raise ValueError("the suite has no entry")
    return tuple(out)


def entry_key(entry: Entry) -> dict:
    """What identifies the runs of ``entry``: its fields and, for a scenario
    file, the file's ``version`` and its parameters (after ``extends``)."""
    key = {"name": entry.name, "scenario": entry.scenario, "params": entry.params,
           "seeds": list(entry.seeds), "window_s": float(entry.window_s)}
    from .run import SCENARIOS
    if entry.scenario not in SCENARIOS:
        from .scenarios import files
        builder, params, doc = files.load(entry.scenario)
        key["file"] = {"version": doc.data.get("version"), "builder": doc.data.get("builder"), "params": params}
    return key


def fingerprint(suite) -> str:
    """A hash of the entries of ``suite`` (a name or a sequence of entries)
    and of the scenario files they run (:func:`entry_key`)."""
    key = [entry_key(e) for e in entries(suite)]
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=repr).encode()).hexdigest()[:16]


def spec(entry: Entry, user_mm=None, user_mm_share: float = 0.5):
    """The ``ScenarioSpec`` of ``entry`` with the user's market maker in
    place of ``user_mm_share`` of the built-in ones (none with ``user_mm=None``)."""
    from .run import scenario_spec
    kw = dict(entry.params)
    if user_mm is not None:
        kw.update(user_mm=user_mm, user_mm_share=user_mm_share)
    return scenario_spec(entry.scenario, **kw)
