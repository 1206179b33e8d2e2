"""Errors with locations: key paths, source maps and :class:`ConfigError`.

A *key path* is a tuple of ``str`` (table keys) and ``int`` (array indices),
e.g. ``("agents", "mm", "spread")`` or ``("books", 1, "venue")``.  It is
written the TOML way, ``agents.mm.spread`` / ``books[1].venue`` (keys that
are not bare TOML keys are quoted: ``venues."binance-perp".fee``), and
:func:`parse_path` reads that form back (``books.1.venue`` is accepted too).

A :class:`SourceMap` maps key paths to :class:`Loc` (file, line); it is what
the TOML loader produces next to the parsed data and what scenario merging
carries along, so that every validation error can cite ``file:line``.
"""
from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

__all__ = [
    "Loc", "SourceMap", "Issue", "ConfigError",
    "fmt_path", "parse_path", "suggest", "display_path",
]

_BARE = re.compile(r"[A-Za-z0-9_-]+\Z")


def fmt_path(path: Sequence[str | int]) -> str:
    """``("books", 1, "venue")`` -> ``books[1].venue``; ``()`` -> ``""``."""
    out = []
    for seg in path:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
        else:
            s = seg if _BARE.match(seg) else json.dumps(seg, ensure_ascii=False)
            out.append(s if not out else "." + s)
    return "".join(out)


def where(path: Sequence[str | int]) -> str:
    """``in [agents.mm]`` / ``at top level`` (the table that holds a key)."""
    return f"in [{fmt_path(path)}]" if path else "at top level"


_SEG = re.compile(r"""
    \s*(?:
        (?P<bare>[A-Za-z0-9_-]+)
      | "(?P<basic>(?:[^"\\]|\\.)*)"
      | '(?P<lit>[^']*)'
    )\s*""", re.X)
_IDX = re.compile(r"\[\s*(\d+)\s*\]\s*")


def parse_path(text: str | Sequence[str | int]) -> tuple[str | int, ...]:
    """Read a dotted key path: ``agents.mm.count``, ``books[0].venue``,
    ``books.0.venue`` (a digit segment is an array index where the value is
    an array), ``venues."binance-perp".fee``.  Tuples pass through."""
    if not isinstance(text, str):
        return tuple(text)
    pos, out, n = 0, [], len(text)
    if not text.strip():
        raise ValueError("empty key path")
    while True:
        m = _SEG.match(text, pos)
        if not m:
            raise ValueError(f"invalid key path {text!r} at character {pos + 1}")
        if m.group("bare") is not None:
            out.append(m.group("bare"))
        elif m.group("basic") is not None:
            out.append(json.loads('"' + m.group("basic") + '"'))
        else:
            out.append(m.group("lit"))
        pos = m.end()
        while (mi := _IDX.match(text, pos)):
            out.append(int(mi.group(1)))
            pos = mi.end()
        if pos == n:
            return tuple(out)
        if text[pos] != ".":
            raise ValueError(f"invalid key path {text!r} at character {pos + 1}")
        pos += 1


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'spread'?)`` or ``""`` (difflib close match)."""
    if not isinstance(word, str):
        return ""
    cs = [c for c in choices if isinstance(c, str)]
    low: dict[str, str] = {}
    for c in cs:
        low.setdefault(c.lower(), c)
    m = difflib.get_close_matches(word.lower(), list(low), n=1, cutoff=0.6)
    return f" (did you mean {low[m[0]]!r}?)" if m else ""


def display_path(p: str | os.PathLike) -> str:
    """A file name for messages: relative to the working directory when the
    file lies under it, else as given."""
    s = os.fspath(p)
    try:
        ap = os.path.abspath(s)
        rel = os.path.relpath(ap)
        if not rel.startswith(".."):
            return rel
        return ap
    except ValueError:       # other drive (Windows)
        return s


class Loc(NamedTuple):
    """Where a key was written: ``file`` (display name) and 1-based ``line``
    (``None`` when unknown, e.g. a command-line override)."""
    file: str | None
    line: int | None = None

    def __str__(self) -> str:
        if self.file is None:
            return "" if self.line is None else f"line {self.line}"
        return self.file if self.line is None else f"{self.file}:{self.line}"


class SourceMap:
    """Key path -> :class:`Loc`, plus the set of paths written as TOML inline
    tables (those *replace* rather than merge when a scenario overrides
    them).  ``default`` names the file for paths with no recorded line.

    :meth:`locate` returns the location of a path or of its nearest
    recorded ancestor (a missing key is reported at its table's line)."""

    __slots__ = ("locs", "inline", "default")

    def __init__(self, locs: Mapping[tuple, Loc] | None = None, *,
                 inline: Iterable[tuple] = (), default: str | None = None):
        self.locs: dict[tuple, Loc] = dict(locs or {})
        self.inline: set[tuple] = set(inline)
        self.default = default

    @classmethod
    def coerce(cls, source: Any) -> "SourceMap | None":
        """``None``, a :class:`SourceMap`, anything with a ``.source``
        SourceMap (a ``Document``), or a file name (no lines)."""
        if source is None or isinstance(source, SourceMap):
            return source
        inner = getattr(source, "source", None)
        if isinstance(inner, SourceMap):
            return inner
        if isinstance(source, (str, os.PathLike)):
            return cls(default=os.fspath(source))
        raise TypeError(f"source must be a SourceMap, a Document or a file name, got {type(source).__name__}")

    def get(self, path: Sequence[str | int]) -> Loc | None:
        return self.locs.get(tuple(path))

    def locate(self, path: Sequence[str | int]) -> Loc | None:
        p = tuple(path)
        while True:
            loc = self.locs.get(p)
            if loc is not None:
                return loc
            if not p:
                return Loc(self.default, None) if self.default is not None else None
            p = p[:-1]

    def __repr__(self) -> str:
        return f"SourceMap({len(self.locs)} keys, default={self.default!r})"


@dataclass(frozen=True)
class Issue:
    """One problem.  ``path`` is the full key path; ``kind`` decides how the
    message reads: ``"value"`` (``agents.mm.spread: must be > 0, got -1``),
    ``"unknown"`` (``unknown key 'sprd' in [agents.mm]`` + ``message`` as a
    suffix), ``"missing"`` (``missing required key 'spread' in [agents.mm]``
    + suffix) and ``"plain"`` (``message`` alone)."""
    path: tuple
    message: str
    kind: str = "value"
    loc: Loc | None = None

    def describe(self) -> str:
        p = self.path
        if self.kind == "unknown":
            body = f"unknown key {p[-1]!r} {where(p[:-1])}{self.message}"
        elif self.kind == "missing":
            body = f"missing required key {p[-1]!r} {where(p[:-1])}{self.message}"
        elif self.kind == "value" and p:
            body = f"{fmt_path(p)}: {self.message}"
        else:
            body = self.message
        where_ = str(self.loc) if self.loc is not None else ""
        return f"{where_}: {body}" if where_ else body

    def moved(self, prefix: tuple, source: SourceMap | None) -> "Issue":
        """The same issue under ``prefix``, located with ``source`` (an issue
        that already has a location keeps it)."""
        path = tuple(prefix) + self.path
        loc = self.loc
        if loc is None and source is not None:
            loc = source.locate(path[:-1] if self.kind == "missing" else path)
        return Issue(path, self.message, self.kind, loc)


class ConfigError(ValueError):
    """Invalid configuration.  ``issues`` lists every problem found (a
    config is checked completely before it is refused); ``str(error)`` is
    one line per issue, ``file:line: key.path: message``.

    Raise it from a config's ``validate()`` hook with ``key=`` naming the
    offending key relative to the config (``"low"``, ``"books[1].venue"``)
    so that the error is reported at that key's line."""

    def __init__(self, message: str | None = None, *, key: str | Sequence | None = None,
                 issues: Sequence[Issue] | None = None):
        if issues is None:
            path = () if key is None else parse_path(key)
            issues = [Issue(path, message or "invalid configuration", "value")]
        self.issues: list[Issue] = list(issues)
        super().__init__("\n".join(i.describe() for i in self.issues))

    @classmethod
    def of(cls, problems: Iterable[tuple[str | Sequence | None, str]]) -> "ConfigError":
        """One error for several ``(key, message)`` problems (``validate()``
        hooks that find more than one)."""
        return cls(issues=[Issue(() if k is None else parse_path(k), m, "value") for k, m in problems])

    def moved(self, prefix: tuple, source: SourceMap | None) -> "ConfigError":
        return ConfigError(issues=[i.moved(prefix, source) for i in self.issues])
