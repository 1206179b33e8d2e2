"""TOML with line numbers: load files into a :class:`Document` (data + a
:class:`~lob.config.errors.SourceMap` of key path -> file:line), and write
plain data back as TOML.

``tomllib`` parses (and is the judge of validity); it reports no positions
for keys, so a small scanner walks the same text and records the line of
every key path: ``[table]`` and ``[[array.of.tables]]`` headers (with their
running indices), ``key = value`` and dotted keys ``a.b.c = 1``, the keys
of inline tables ``{ a = 1, b = { c = 2 } }`` and the elements of arrays
(also across lines).  It also records which tables were written inline:
those replace instead of merging when a scenario overrides them.

Malformed TOML raises :class:`~lob.config.errors.ConfigError` citing
``file:line`` with tomllib's own message (which includes line and column).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import tomllib
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import ConfigError, Issue, Loc, SourceMap, display_path

__all__ = ["Document", "load_toml", "loads_toml", "scan_lines", "dumps", "format_value"]


@dataclass(frozen=True, eq=False)
class Document:
    """Parsed data with its source map.  ``files``: the files that went into
    it, bases first (one for a plain file; the whole ``extends`` chain for a
    merged scenario)."""
    data: dict[str, Any]
    source: SourceMap
    files: tuple[str, ...] = field(default=())

    def build(self, schema: type, *, at: tuple = ()):
        """Validate the data (or the table at key path ``at``) against a
        config class; errors cite file and line."""
        from .base import from_dict
        from .errors import parse_path
        at = parse_path(at) if isinstance(at, str) else tuple(at)
        node: Any = self.data
        for i, seg in enumerate(at):
            try:
                node = node[seg]
            except (KeyError, IndexError, TypeError):
                raise ConfigError(issues=[Issue(at[:i + 1], "", "missing",
                                                self.source.locate(at[:i]))]) from None
        return from_dict(schema, node, source=self.source, at=at)

    def override(self, overrides: Mapping[str, Any], *, schema: type | None = None,
                 label: str = "<override>") -> "Document":
        """A copy with dotted-key ``overrides`` applied (see
        :func:`lob.config.scenario.override`); overridden keys are located
        at ``label`` (no line)."""
        from .scenario import _apply_overrides
        data, src = _apply_overrides(self.data, self.source, overrides, schema, label)
        return Document(data, src, self.files)

    def locate(self, path) -> Loc | None:
        """Where a key path was written (or its nearest ancestor)."""
        from .errors import parse_path
        return self.source.locate(parse_path(path))


# ----------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------
_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def loads_toml(text: str, filename: str = "<string>") -> Document:
    """Parse TOML ``text``; ``filename`` is the name errors cite."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _AT.search(msg)
        if m:
            line = int(m.group(1))
        elif "end of document" in msg:
            line = text.count("\n") + 1
        else:
            line = None
        raise ConfigError(issues=[Issue((), f"invalid TOML: {msg}", "plain", Loc(filename, line))]) from None
    lines, inline = scan_lines(text)
    src = SourceMap({p: Loc(filename, ln) for p, ln in lines.items()}, inline=inline, default=filename)
    return Document(data, src, (filename,))


def load_toml(path: str | os.PathLike, *, name: str | None = None) -> Document:
    """Read and parse a TOML file (UTF-8).  ``name``: the file name errors
    cite (default: the path, relative to the working directory when under
    it)."""
    shown = name if name is not None else display_path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ConfigError(issues=[Issue((), f"file not found: {shown}", "plain")]) from None
    except OSError as e:
        raise ConfigError(issues=[Issue((), f"cannot read {shown}: {e.strerror or e}", "plain")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ConfigError(issues=[Issue((), f"invalid TOML: not UTF-8 ({e.reason})", "plain",
                                        Loc(shown, line))]) from None
    return loads_toml(text, shown)


# ----------------------------------------------------------------------
# the line scanner
# ----------------------------------------------------------------------
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}\n#]*")
_ESC = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}


def _unescape(s: str) -> str:
    def rep(m):
        g = m.group(1)
        if g[0] in "uU":
            return chr(int(g[1:], 16))
        return _ESCAPES.get(g, g)
    return _ESC.sub(rep, s)


class _Stop(Exception):
    pass


class _Scanner:
    def __init__(self, text: str):
        self.s = text
        self.n = len(text)
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.lines: dict[tuple, int] = {}
        self.explicit: set[tuple] = set()
        self.inline: set[tuple] = set()
        self.aot: dict[tuple, int] = {}

    def line(self, pos: int) -> int:
        return bisect_right(self.starts, pos)

    # -- lexing -----------------------------------------------------------
    def ws(self, pos: int) -> int:
        s, n = self.s, self.n
        while pos < n and s[pos] in " \t\r":
            pos += 1
        return pos

    def ws_nl(self, pos: int) -> int:
        """Whitespace, newlines and comments."""
        s, n = self.s, self.n
        while pos < n:
            c = s[pos]
            if c in " \t\r\n":
                pos += 1
            elif c == "#":
                e = s.find("\n", pos)
                pos = n if e < 0 else e
            else:
                break
        return pos

    def expect(self, pos: int, tok: str) -> int:
        if not self.s.startswith(tok, pos):
            raise _Stop
        return pos + len(tok)

    def key(self, pos: int) -> tuple[list[str], int]:
        s, comps = self.s, []
        while True:
            pos = self.ws(pos)
            if pos >= self.n:
                raise _Stop
            c = s[pos]
            if c == '"':
                end = self._basic_end(pos + 1)
                comps.append(_unescape(s[pos + 1:end - 1]))
                pos = end
            elif c == "'":
                end = s.find("'", pos + 1)
                if end < 0:
                    raise _Stop
                comps.append(s[pos + 1:end])
                pos = end + 1
            else:
                m = _BARE_KEY.match(s, pos)
                if not m:
                    raise _Stop
                comps.append(m.group())
                pos = m.end()
            pos = self.ws(pos)
            if pos < self.n and s[pos] == ".":
                pos += 1
                continue
            return comps, pos

    def _basic_end(self, pos: int) -> int:
        """Position after the closing quote of a one-line basic string whose
        content starts at ``pos``."""
        s, n = self.s, self.n
        while pos < n:
            c = s[pos]
            if c == "\\":
                pos += 2
            elif c == '"':
                return pos + 1
            elif c == "\n":
                raise _Stop
            else:
                pos += 1
        raise _Stop

    # -- recording --------------------------------------------------------
    def mark(self, path: tuple, line: int, explicit: bool) -> None:
        if explicit:
            if path not in self.explicit:
                self.lines[path] = line
                self.explicit.add(path)
        else:
            self.lines.setdefault(path, line)

    def resolve(self, keys: list[str], line: int) -> tuple:
        """Concrete path of header keys; an array of tables on the way
        stands for its last element."""
        cur: tuple = ()
        for k in keys:
            cur = cur + (k,)
            self.mark(cur, line, False)
            if cur in self.aot:
                cur = cur + (self.aot[cur] - 1,)
        return cur

    def define(self, table: tuple, keys: list[str], line: int) -> tuple:
        cur = table
        for k in keys[:-1]:
            cur = cur + (k,)
            self.mark(cur, line, False)
        cur = cur + (keys[-1],)
        self.mark(cur, line, True)
        return cur

    # -- values -----------------------------------------------------------
    def value(self, pos: int, path: tuple) -> int:
        s, n = self.s, self.n
        if pos >= n:
            raise _Stop
        if s.startswith('"""', pos):
            p = pos + 3
            while p < n:
                if s[p] == "\\":
                    p += 2
                elif s.startswith('"""', p):
                    p += 3
                    extra = 0
                    while p < n and s[p] == '"' and extra < 2:
                        p += 1
                        extra += 1
                    return p
                else:
                    p += 1
            raise _Stop
        if s.startswith("'''", pos):
            e = s.find("'''", pos + 3)
            if e < 0:
                raise _Stop
            p = e + 3
            extra = 0
            while p < n and s[p] == "'" and extra < 2:
                p += 1
                extra += 1
            return p
        c = s[pos]
        if c == '"':
            return self._basic_end(pos + 1)
        if c == "'":
            e = s.find("'", pos + 1)
            if e < 0:
                raise _Stop
            return e + 1
        if c == "[":
            pos += 1
            i = 0
            while True:
                pos = self.ws_nl(pos)
                if pos >= n:
                    raise _Stop
                if s[pos] == "]":
                    return pos + 1
                self.mark(path + (i,), self.line(pos), True)
                pos = self.value(pos, path + (i,))
                pos = self.ws_nl(pos)
                if pos < n and s[pos] == ",":
                    pos += 1
                i += 1
        if c == "{":
            self.inline.add(path)
            pos += 1
            while True:
                pos = self.ws_nl(pos)
                if pos >= n:
                    raise _Stop
                if s[pos] == "}":
                    return pos + 1
                keys, pos = self.key(pos)
                full = self.define(path, keys, self.line(pos))
                pos = self.expect(self.ws(pos), "=")
                pos = self.value(self.ws(pos), full)
                pos = self.ws_nl(pos)
                if pos < n and s[pos] == ",":
                    pos += 1
        m = _SCALAR.match(s, pos)
        return m.end()

    # -- document ---------------------------------------------------------
    def scan(self) -> None:
        s, n = self.s, self.n
        pos = 0
        table: tuple = ()
        while pos < n:
            pos = self.ws_nl(pos)
            if pos >= n:
                break
            ln = self.line(pos)
            if s.startswith("[[", pos):
                keys, pos = self.key(pos + 2)
                pos = self.expect(self.ws(pos), "]]")
                parent = self.resolve(keys[:-1], ln)
                arr = parent + (keys[-1],)
                self.mark(arr, ln, False)
                i = self.aot.get(arr, 0)
                self.aot[arr] = i + 1
                table = arr + (i,)
                self.mark(table, ln, True)
            elif s[pos] == "[":
                keys, pos = self.key(pos + 1)
                pos = self.expect(self.ws(pos), "]")
                table = self.resolve(keys, ln)
                self.explicit.discard(table)
                self.mark(table, ln, True)
            else:
                keys, pos = self.key(pos)
                full = self.define(table, keys, ln)
                pos = self.expect(self.ws(pos), "=")
                pos = self.value(self.ws(pos), full)


def scan_lines(text: str) -> tuple[dict[tuple, int], set[tuple]]:
    """``({key path: line}, {paths written as inline tables})`` for valid
    TOML ``text``.  Best effort: on anything unexpected it returns what it
    has (validity is tomllib's business)."""
    sc = _Scanner(text)
    try:
        sc.scan()
    except (_Stop, IndexError):
        pass
    return sc.lines, sc.inline


# ----------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------
_BARE_KEY_FULL = re.compile(r"[A-Za-z0-9_-]+\Z")


def _key(k: str) -> str:
    return k if _BARE_KEY_FULL.match(k) else _str(k)


def _str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def format_value(v: Any) -> str:
    """One TOML value (inline form): strings, numbers, booleans, dates,
    arrays, inline tables."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, Mapping):
        items = [f"{_key(k)} = {format_value(x)}" for k, x in v.items() if x is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(v, (list, tuple)):
        if any(x is None for x in v):
            raise TypeError("TOML arrays cannot hold None")
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _is_table(v) -> bool:
    return isinstance(v, Mapping)


def _is_aot(v) -> bool:
    return isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(x, Mapping) for x in v)


def _inline_ok(v: Mapping) -> bool:
    """Small tables of scalars are written inline."""
    if not all(not isinstance(x, (Mapping, list, tuple)) or
               (isinstance(x, (list, tuple)) and not any(isinstance(y, (Mapping, list, tuple)) for y in x))
               for x in v.values()):
        return False
    return len(format_value(v)) <= 88


def dumps(data: Mapping[str, Any]) -> str:
    """Write plain data (e.g. ``config.to_dict()``) as TOML; ``None``
    values are left out (TOML has no null).  ``tomllib.loads(dumps(d))``
    gives ``d`` back without its ``None`` entries (tuples read back as
    lists)."""
    out: list[str] = []
    _emit(data, (), out)
    return "\n".join(out).lstrip("\n") + "\n"


def _emit(d: Mapping[str, Any], path: tuple, out: list[str]) -> None:
    head = ".".join(_key(k) for k in path)
    subs, aots = [], []
    for k, v in d.items():
        if v is None:
            continue
        if _is_table(v) and v and not _inline_ok(v):
            subs.append((k, v))
        elif _is_aot(v):
            aots.append((k, v))
        else:
            out.append(f"{_key(k)} = {format_value(v)}")
    for k, v in subs:
        out.append("")
        out.append(f"[{head + '.' if head else ''}{_key(k)}]")
        _emit(v, path + (k,), out)
    for k, v in aots:
        name = f"{head + '.' if head else ''}{_key(k)}"
        for item in v:
            out.append("")
            out.append(f"[[{name}]]")
            _emit(item, path + (k,), out)
