"""The crash benchmark suite: its entries (what the issue asks for, all
building, crash windows), its version (the fingerprint of every suite is
recorded per version), errors naming the entry and field, and a user's
market maker in place of a share of the built-in ones on every book, on
the same accounts."""
from __future__ import annotations

from collections import Counter

import pytest

from lob import suite
from lob.run import known
from lob.scenarios import files
from lob.sim.strategy import Strategy
from lob.suite import Entry


class UserMM(Strategy):
    def on_wakeup(self, now):
        return None


def test_suites_hold_the_named_scenarios_with_fixed_seeds():
    full = {e.name: e for e in suite.entries("full")}
    counterfactuals = {n for n in files.names() if n.startswith("oct-10-2025-")}
    assert len(counterfactuals) >= 5
    assert {"oct-10-2025", "flash-crash", "stablecoin-depeg"} | counterfactuals <= set(full)
    for name in ("full", "short"):
        es = suite.entries(name)
        assert suite.validate(es) == es
        assert all(e.scenario in known() for e in es)
        assert all(isinstance(s, int) for e in es for s in e.seeds)
    short = suite.entries("short")
    assert {e.name for e in short} <= set(full)
    assert sum(len(e.seeds) for e in short) < sum(len(e.seeds) for e in full.values())
    assert suite.entries("short", ["flash-crash"]) == tuple(e for e in short if e.name == "flash-crash")


@pytest.mark.parametrize("name", ["full", "short"])
def test_the_suite_version_matches_its_fingerprint(name):
    fp = suite.fingerprint(name)
    assert fp == suite.FINGERPRINTS[suite.SUITE_VERSION][name], (
        f"the {name} suite changed (an entry, or a scenario file it runs): bump lob.suite.SUITE_VERSION and "
        f"record fingerprint {fp!r} in FINGERPRINTS")


def test_fingerprint_follows_entries_and_scenario_files(tmp_path):
    base = (Entry("fc", "flash-crash", {"duration_s": 600.0}, (0, 1)),)
    fp = suite.fingerprint(base)
    assert fp == suite.fingerprint((Entry("fc", "flash-crash", {"duration_s": 600.0}, (0, 1)),))
    assert fp != suite.fingerprint((Entry("fc", "flash-crash", {"duration_s": 600.0}, (0, 2)),))
    assert fp != suite.fingerprint((Entry("fc", "flash-crash", {"duration_s": 900.0}, (0, 1)),))
    assert fp != suite.fingerprint((Entry("fc", "flash-crash", {"duration_s": 600.0}, (0, 1), window_s=60.0),))
    # a scenario file: its version and its parameters count
    fps = []
    for version, lev in ((1, 1.0), (2, 1.0), (2, 0.5)):
        f = tmp_path / f"cf{version}{lev}.toml"
        f.write_text(f'version = {version}\nextends = "oct-10-2025"\n\n[params]\nleverage_scale = {lev}\n')
        e = Entry("cf", str(f), {}, (0,))
        key = suite.entry_key(e)
        assert key["file"]["version"] == version and key["file"]["params"]["leverage_scale"] == lev
        fps.append(suite.fingerprint((e,)))
    assert len(set(fps)) == 3


def test_every_entry_builds_and_its_crash_window():
    for name in ("full", "short"):
        for e in suite.entries(name):
            sp = suite.spec(e)
            shock = min(t for t, _, _ in sp.shocks)
            lo, hi = e.crash_window(sp)
            assert lo == shock and hi == min(sp.duration_s, shock + e.window_s) and lo < hi <= sp.duration_s
            if "duration_s" in e.params:                    # the entry's parameters reach the spec
                assert sp.duration_s == e.params["duration_s"]
    e = suite.entries("short", ["flash-crash"])[0]
    assert e.crash_window(suite.spec(e)) == (120.0, 600.0)


def test_bad_suites_are_refused_naming_the_entry_and_field():
    with pytest.raises(KeyError, match="unknown suite 'medium'"):
        suite.entries("medium")
    with pytest.raises(KeyError, match="no entry 'flash' in the short suite"):
        suite.entries("short", ["flash"])
    ok = Entry("a", "flash-crash")
    cases = [
        ((ok, Entry("a", "flash-crash")), "'a': name is used twice"),
        ((Entry("", "flash-crash"),), "name must be"),
        ((Entry("b", "flash-crash", seeds=()),), "'b': seeds must be"),
        ((Entry("b", "flash-crash", seeds=(0, 0)),), "'b': seeds must be"),
        ((Entry("b", "flash-crash", seeds=(-1,)),), "'b': seeds must be"),
        ((Entry("b", "flash-crash", seeds=(0.5,)),), "'b': seeds must be"),
        ((Entry("b", "flash-crash", window_s=0.0),), "'b': window_s must be > 0"),
        ((Entry("b", "flash-crash", params=[("duration_s", 1.0)]),), "'b': params must be a dict"),
        ((Entry("b", 7),), "'b': scenario must be"),
        (("flash-crash",), "suite entry 0: expected a lob.suite.Entry"),
        ((), "no entry"),
    ]
    for entries_, msg in cases:
        with pytest.raises(ValueError, match=msg):
            suite.validate(entries_)


def _mm_specs(spec, user_cls):
    """(book, is the user's) of the unified-account market makers of a spec:
    the populations built from ``user_cls``, from a GuardedLadderMM factory or
    of its compiled kind."""
    from lob.sim import layout as L
    from strategies.guarded_ladder import GuardedLadderMM
    out = []
    for i, p in enumerate(spec.agents):
        if p.margin_venue is None:
            continue
        if p.kind == L.KIND_GUARDED_MM:
            out.append((i, p.book, False))
        elif p.strategy is None:
            continue
        elif p.strategy is user_cls:
            out.append((i, p.book, True))
        elif not isinstance(p.strategy, type) and isinstance(p.strategy(), GuardedLadderMM):
            out.append((i, p.book, False))
    return out


@pytest.mark.parametrize("name,share,per_book", [
    ("flash-crash", 0.3, {0: (3, 7)}),                     # 10 market makers on its one book
    ("flash-crash", 0.01, {0: (1, 9)}),                    # at least one
    ("flash-crash", 1.0, {0: (10, 0)}),
    ("stablecoin-depeg", 0.5, {0: (2, 1), 1: (2, 1)}),     # 3 per book: round(1.5) = 2
    ("oct-10-2025", 0.5, None),                            # majors: 3 per book (2 replaced), altcoins: 2 (1)
])
def test_user_mm_takes_the_place_of_a_share_of_builtin_mms(name, share, per_book):
    e = suite.entries("short", [name])[0]
    plain, mine = suite.spec(e), suite.spec(e, UserMM, share)
    a, b = _mm_specs(plain, UserMM), _mm_specs(mine, UserMM)
    assert not any(u for _, _, u in a)
    # the same populations in the same places: the user's agents replace built-in ones, one for one
    assert [(i, bk) for i, bk, _ in a] == [(i, bk) for i, bk, _ in b]
    assert len(plain.agents) == len(mine.agents)
    for i, _, _ in b:                                      # on the same accounts
        assert plain.agents[i].balances == mine.agents[i].balances
        assert plain.agents[i].credit == mine.agents[i].credit
    counts = Counter((bk, u) for _, bk, u in b)
    books = sorted({bk for _, bk, _ in b})
    got = {bk: (counts[(bk, True)], counts[(bk, False)]) for bk in books}
    if per_book is None:                                   # oct-10-2025: every BIG book with market makers
        per_book = {bk: ((2, 1) if counts[(bk, True)] + counts[(bk, False)] == 3 else (1, 1)) for bk in books}
        assert sorted(Counter(sum(v) for v in got.values()).items()) == [(2, 5), (3, 4)]
    assert got == per_book


def test_user_mm_errors_name_the_parameter():
    e = suite.entries("short", ["flash-crash"])[0]
    with pytest.raises(ValueError, match="user_mm_share"):
        suite.spec(e, UserMM, 1.5)
    with pytest.raises(ValueError, match="no_such_module"):
        suite.spec(e, "no_such_module:MM")
    with pytest.raises(ValueError, match="user_mm must be"):
        suite.spec(e, 42)
