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
``SUITE_VERSION`` changes whenever an entry (its scenario, parameters or
seeds) changes, so results carry the version they were measured on.
Units: s.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SUITE_VERSION = 1

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


_OCT_SHORT = dict(duration_s=900.0, shock_s=150.0, n_alts=4, n_calm_alts=2)

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
    Entry("flash-crash", "flash-crash", dict(duration_s=900.0, shock_s=150.0), (0, 1), window_s=750.0),
    Entry("stablecoin-depeg", "stablecoin-depeg", dict(duration_s=1200.0, shock_s=150.0), (0, 1),
          window_s=1050.0),
)

SUITES = {"full": FULL, "short": SHORT}


def entries(suite: str = "full", names=None) -> tuple[Entry, ...]:
    """The entries of ``suite`` (``"full"`` or ``"short"``), optionally only
    those named in ``names``; ``KeyError`` naming an unknown suite or entry."""
    if suite not in SUITES:
        raise KeyError(f"unknown suite {suite!r}; known: {', '.join(SUITES)}")
    out = SUITES[suite]
    if names:
        known = {e.name for e in out}
        bad = [n for n in names if n not in known]
        if bad:
            raise KeyError(f"no entry {bad[0]!r} in the {suite} suite; entries: {', '.join(e.name for e in out)}")
        out = tuple(e for e in out if e.name in set(names))
    return out


def spec(entry: Entry, user_mm=None, user_mm_share: float = 0.5):
    """The ``ScenarioSpec`` of ``entry`` with the user's market maker in
    place of ``user_mm_share`` of the built-in ones (none with ``user_mm=None``)."""
    from .run import scenario_spec
    kw = dict(entry.params)
    if user_mm is not None:
        kw.update(user_mm=user_mm, user_mm_share=user_mm_share)
    return scenario_spec(entry.scenario, **kw)
