"""Scenario files: ``extends`` chains, deep merge with locations, named
(versioned) scenarios shipped as package data, and dotted overrides.

Rules
-----
* ``extends = "name-or-path"`` (or an array of them, merged left to right)
  names the base scenario(s); the file's own keys are merged over them.
  A reference is a **path** when it contains ``/`` or ``\\`` or ends in
  ``.toml`` (relative paths are relative to the referencing file), else a
  **name**, looked up as ``<name>.toml`` in: the referencing file's
  directory, the resolver's search path (in order), then the package
  resource directory (``lob/scenarios/`` by default).  ``name@N`` pins
  the version: the resolved file must declare ``version = N``.
* **Merge:** tables merge recursively; arrays (including ``[[arrays of
  tables]]``) and scalars replace; a table written *inline*
  (``x = { ... }``) replaces the base table as a whole (TOML defines
  inline tables as self-contained, and a distribution switched from
  lognormal to uniform must not keep the lognormal's parameters); use
  ``[x]`` headers or dotted keys ``x.sigma = 0.7`` to change single keys.
* **Delete** a key defined by a base with ``key = "__delete__"`` (the
  string :data:`DELETE`); deleting a key no base defines is an error
  (typos are caught).
* ``version`` (a positive int) is *not* inherited: the merged scenario has
  the version of the top file, or none.  Scenarios found by name must
  declare one.  ``extends`` is removed from the merged data.
* A cycle in ``extends`` is an error naming the chain.
* The merged :class:`~lob.config.toml.Document` records for every key the
  file and line it came from, so a validation error in an overridden key
  points into the overriding file.

Overrides (``--set``/``--grid``): :func:`override` sets dotted keys
(``agents.mm.count``, ``books[0].venue``, ``venues."binance-perp".fee``);
string values are parsed according to the schema's field type at that
key (``"3"`` -> ``3`` for an int field, ``"fifo"`` stays a string, ``"[1,
2]"`` an array, ``"{ dist = 'uniform', low = 1, high = 2 }"`` a table).
"""
from __future__ import annotations

import collections.abc as cabc
import copy
import datetime as _dt
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Union, get_args, get_origin

from .errors import ConfigError, Issue, Loc, SourceMap, display_path, fmt_path, parse_path, suggest
from .toml import Document, loads_toml

__all__ = ["DELETE", "ScenarioResolver", "load_scenario", "merge", "override", "parse_value",
           "default_resolver"]

DELETE = "__delete__"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
_PIN = re.compile(r"^(.*)@(\d+)$")


def _err(message: str, loc: Loc | None = None) -> ConfigError:
    return ConfigError(issues=[Issue((), message, "plain", loc)])


# ----------------------------------------------------------------------
# resolving names and paths
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Found:
    file: Any            # pathlib.Path or importlib Traversable
    shown: str           # name in messages
    ident: str           # identity for cycle detection
    by_name: bool
    pin: int | None


class ScenarioResolver:
    """Finds scenario files by name or path.

    ``search_path``: directories searched for ``<name>.toml``, in order.
    ``package``: the package resource directory searched last, as a dotted
    name (``"lob.scenarios"``: the ``scenarios`` directory of package
    ``lob``, with or without an ``__init__.py``); ``None`` for none."""

    def __init__(self, search_path: Iterable[str | os.PathLike] = (),
                 package: str | None = "lob.scenarios"):
        self.search_path = tuple(Path(p) for p in search_path)
        self.package = package

    def __repr__(self) -> str:
        return f"ScenarioResolver(search_path={[str(p) for p in self.search_path]!r}, package={self.package!r})"

    def _package_dir(self):
        if not self.package:
            return None
        try:
            d = resources.files(self.package)
        except (ModuleNotFoundError, TypeError, ValueError):
            parent, _, leaf = self.package.rpartition(".")
            if not parent:
                return None
            try:
                d = resources.files(parent) / leaf
            except (ModuleNotFoundError, TypeError, ValueError):
                return None
        try:
            return d if d.is_dir() else None
        except OSError:
            return None

    def _dirs(self, relative_to) -> list[tuple[Any, str]]:
        dirs = []
        if relative_to is not None:
            dirs.append((relative_to, _shown_dir(relative_to)))
        for p in self.search_path:
            dirs.append((p, display_path(p)))
        pk = self._package_dir()
        if pk is not None:
            dirs.append((pk, f"package {self.package}"))
        return dirs

    def names(self) -> list[str]:
        """Names of the scenarios on the search path and in the package."""
        out = set()
        for d, _ in self._dirs(None):
            try:
                for f in d.iterdir():
                    if f.name.endswith(".toml") and f.is_file():
                        out.add(f.name[:-5])
            except OSError:
                continue
        return sorted(out)

    def resolve(self, ref: str, *, relative_to: Any = None) -> _Found:
        """Find the file ``ref`` names (see the module docstring)."""
        if not isinstance(ref, str) or not ref.strip():
            raise _err(f"a scenario reference must be a non-empty string, got {ref!r}")
        pin = None
        m = _PIN.match(ref)
        if m and m.group(1):
            ref, pin = m.group(1), int(m.group(2))
        if "/" in ref or "\\" in ref or ref.endswith(".toml"):
            if relative_to is not None and not os.path.isabs(ref):
                f = relative_to.joinpath(*Path(ref).parts) if not isinstance(relative_to, Path) \
                    else relative_to / ref
            else:
                f = Path(ref).expanduser()
            try:
                ok = f.is_file()
            except OSError:
                ok = False
            if not ok:
                raise _err(f"scenario file not found: {_shown_file(f)}")
            return _Found(f, _shown_file(f), _ident(f), False, pin)
        if not _NAME.match(ref):
            raise _err(f"invalid scenario name {ref!r}")
        searched = []
        for d, shown in self._dirs(relative_to):
            f = d / f"{ref}.toml"
            searched.append(shown)
            try:
                if f.is_file():
                    return _Found(f, _shown_file(f), _ident(f), True, pin)
            except OSError:
                continue
        raise _err(f"scenario {ref!r} not found (searched: {', '.join(searched) or 'nothing'})"
                   f"{suggest(ref, self.names())}")

    # -- loading ------------------------------------------------------------
    def load(self, ref: str) -> Document:
        """The merged document of scenario ``ref`` (extends resolved)."""
        return self._load(ref, None, (), None)

    def _load(self, ref: str, relative_to, stack: tuple, at: Loc | None) -> Document:
        try:
            found = self.resolve(ref, relative_to=relative_to)
        except ConfigError as e:
            if not stack:
                raise
            raise _err(f"extends {ref!r}: {e.issues[0].message}", at) from None
        if found.ident in (s[0] for s in stack):
            chain = [s[1] for s in stack] + [found.shown]
            start = next(i for i, s in enumerate(stack) if s[0] == found.ident)
            raise _err("extends cycle: " + " -> ".join(chain[start:]), at)
        try:
            text = found.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise _err(f"cannot read {found.shown}: {e}", at) from None
        doc = loads_toml(text, found.shown)
        data = dict(doc.data)
        src = doc.source
        version = data.get("version")
        if "version" in data and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
            raise _err(f"version: must be a positive integer, got {version!r}", src.get(("version",)))
        if found.by_name and version is None:
            raise _err(f"scenario {found.shown} is found by name and must declare `version = N`",
                       Loc(found.shown, 1))
        if found.pin is not None and version != found.pin:
            raise _err(f"{'extends ' if stack else ''}{ref!r}: {found.shown} has version {version}, "
                       f"not {found.pin}", at)
        ext = data.pop("extends", None)
        if ext is None:
            refs: list[tuple[str, Loc | None]] = []
        elif isinstance(ext, str):
            refs = [(ext, src.get(("extends",)))]
        elif isinstance(ext, list) and all(isinstance(x, str) for x in ext):
            refs = [(x, src.locate(("extends", i))) for i, x in enumerate(ext)]
        else:
            raise _err(f"extends: expected a scenario name or path (or an array of them), got {ext!r}",
                       src.get(("extends",)))
        here = found.file.parent if hasattr(found.file, "parent") else None
        stack = stack + ((found.ident, found.shown),)
        base: Document | None = None
        for r, loc in refs:
            b = self._load(r, here, stack, loc)
            base = b if base is None else _merge_docs(base, b)
        own = Document(data, src, doc.files)
        merged = _merge_docs(base if base is not None else Document({}, SourceMap(), ()), own)
        # version is not inherited
        merged.data.pop("version", None)
        merged.source.locs.pop(("version",), None)
        if version is not None:
            merged.data["version"] = version
            loc = src.get(("version",))
            if loc is not None:
                merged.source.locs[("version",)] = loc
        return merged


def _shown_file(f) -> str:
    return display_path(f) if isinstance(f, Path) else str(f)


def _shown_dir(d) -> str:
    return display_path(d) if isinstance(d, Path) else str(d)


def _ident(f) -> str:
    if isinstance(f, Path):
        try:
            return str(f.resolve())
        except OSError:
            return str(f.absolute())
    return str(f)


_DEFAULT: ScenarioResolver | None = None


def default_resolver() -> ScenarioResolver:
    """The resolver used when none is given: no search path, package
    resources ``lob.scenarios``."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ScenarioResolver()
    return _DEFAULT


def load_scenario(ref: str | os.PathLike, *, resolver: ScenarioResolver | None = None,
                  overrides: Mapping[str, Any] | None = None, schema: type | None = None,
                  label: str = "<override>") -> Document:
    """Load scenario ``ref`` (a name or a path) with its ``extends`` chain
    merged, then apply dotted ``overrides`` (string values parsed with the
    field types of ``schema`` when given).  Build the config with
    ``doc.build(Schema)`` (or ``Schema.load(ref, overrides=...)``)."""
    r = resolver or default_resolver()
    doc = r.load(os.fspath(ref))
    if overrides:
        doc = doc.override(overrides, schema=schema, label=label)
    return doc


# ----------------------------------------------------------------------
# merging
# ----------------------------------------------------------------------
def _walk(v: Any, p: tuple):
    yield p
    if isinstance(v, Mapping):
        for k, x in v.items():
            yield from _walk(x, p + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _walk(x, p + (i,))


def _copy_locs(src: SourceMap, v: Any, p: tuple, locs: dict, inline: set) -> None:
    for q in _walk(v, p):
        loc = src.locs.get(q)
        if loc is not None:
            locs[q] = loc
        if q in src.inline:
            inline.add(q)


def _find_delete(v: Any, p: tuple):
    for q in _walk(v, p):
        node = v
        for seg in q[len(p):]:
            node = node[seg]
        if isinstance(node, str) and node == DELETE:
            return q
    return None


def _merge_docs(base: Document, over: Document) -> Document:
    """``over`` merged onto ``base`` (see the module docstring)."""
    locs: dict[tuple, Loc] = {}
    inline: set[tuple] = set()
    issues: list[Issue] = []

    def rec(b: Mapping, o: Mapping, p: tuple) -> dict:
        out = {}
        for k in [*b, *(k for k in o if k not in b)]:     # base order, then new keys
            q = p + (k,)
            if k not in o:
                out[k] = copy.deepcopy(b[k])
                _copy_locs(base.source, b[k], q, locs, inline)
                continue
            ov = o[k]
            if isinstance(ov, str) and ov == DELETE:
                if k not in b:
                    issues.append(Issue(q, f"cannot delete {fmt_path(q)!r}: no base scenario defines it"
                                           f"{suggest(k, b)}", "plain", over.source.locate(q)))
                continue
            bv = b.get(k)
            if isinstance(ov, Mapping) and isinstance(bv, Mapping) and q not in over.source.inline:
                out[k] = rec(bv, ov, q)
                loc = over.source.locs.get(q) or base.source.locs.get(q)
                if loc is not None:
                    locs[q] = loc
                continue
            d = _find_delete(ov, q)
            if d is not None:
                issues.append(Issue(d, f"'{DELETE}' at {fmt_path(d)}: only a key that a base "
                                       f"scenario defines can be deleted (this value replaces "
                                       f"{fmt_path(q)} as a whole)", "plain", over.source.locate(d)))
                continue
            out[k] = copy.deepcopy(ov)
            _copy_locs(over.source, ov, q, locs, inline)
        return out

    data = rec(base.data, over.data, ())
    if issues:
        raise ConfigError(issues=issues)
    files = tuple(dict.fromkeys(base.files + over.files))
    return Document(data, SourceMap(locs, inline=inline, default=over.source.default), files)


def merge(base: Document, over: Document) -> Document:
    """Merge two documents with the scenario rules (public for tools that
    combine documents themselves)."""
    return _merge_docs(base, over)


# ----------------------------------------------------------------------
# overrides
# ----------------------------------------------------------------------
def parse_value(text: str, tp: Any = None) -> Any:
    """Parse an override string.  With a field type ``tp``: ``str`` fields
    take the text as is, ``int``/``float``/``bool``/``Literal``/enums/
    ``Decimal``/dates parse it, ``None`` is ``none``/``null`` for optional
    fields, anything else (arrays, tables, distributions, unions) reads it
    as a TOML value.  Without a type: a TOML value if it parses as one,
    else the text itself.  Raises ``ValueError`` when it does not parse."""
    s = text.strip()
    if tp is None or tp is Any or tp is object:
        try:
            return _toml_value(s)
        except ValueError:
            return text
    origin, args = get_origin(tp), get_args(tp)
    if origin is typing.Annotated:
        return parse_value(text, args[0])
    if origin in (Union, types.UnionType):
        if s.lower() in ("none", "null") and type(None) in args:
            return None
        members = [a for a in args if a is not type(None)]
        errors = []
        for a in members:
            try:
                return parse_value(text, a)
            except ValueError as e:
                errors.append(str(e))
        raise ValueError(f"{text!r} is not a valid {' or '.join(_tn(a) for a in members)}")
    if origin is Literal:
        for c in args:
            if isinstance(c, str) and c == text:
                return c
        for c in args:
            if not isinstance(c, str):
                try:
                    v = _toml_value(s)
                except ValueError:
                    continue
                if type(v) is type(c) and v == c:
                    return c
        return text            # validation reports it with the choices
    if tp is str:
        return text
    if tp is bool:
        if s.lower() in ("true", "false"):
            return s.lower() == "true"
        raise ValueError(f"expected true or false, got {text!r}")
    if tp is int:
        try:
            return int(s, 0) if s.lower().startswith(("0x", "0o", "0b")) else int(s)
        except ValueError:
            raise ValueError(f"expected int, got {text!r}") from None
    if tp is float:
        try:
            return float(s.replace("_", ""))
        except ValueError:
            raise ValueError(f"expected float, got {text!r}") from None
    if tp is Decimal:
        return s
    if tp in (_dt.datetime, _dt.date, _dt.time):
        return s
    if isinstance(tp, type) and issubclass(tp, Enum):
        if text in tp.__members__:
            return text
        for m in tp:
            if str(m.value) == text:
                return m.value
        return text
    try:
        return _toml_value(s)
    except ValueError:
        raise ValueError(f"expected {_tn(tp)} written as a TOML value, got {text!r}") from None


def _tn(tp) -> str:
    from .base import type_name
    return type_name(tp)


def _toml_value(s: str) -> Any:
    try:
        return tomllib.loads(f"v = {s}")["v"]
    except tomllib.TOMLDecodeError as e:
        raise ValueError(str(e)) from None


def _child_type(tp: Any, seg: Any, node: Any, done: tuple) -> tuple[Any, Any]:
    """``(type of tp[seg], seg normalized)``; raises ConfigError for a key
    the schema does not have."""
    from .base import _is_dataclass_type, fields_of
    origin, args = get_origin(tp), get_args(tp)
    if tp is None or tp is Any or tp is object:
        return Any, seg
    if origin is typing.Annotated:
        return _child_type(args[0], seg, node, done)
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if len(members) == 1:
            return _child_type(members[0], seg, node, done)
        for a in members:             # the first member that can hold it
            try:
                return _child_type(a, seg, node, done)
            except (ConfigError, ValueError):
                continue
        raise ValueError(f"cannot set {fmt_path(done + (seg,))}: {fmt_path(done)} is a {_tn(tp)}")
    if origin in (tuple, list, cabc.Sequence):
        if isinstance(seg, str) and seg.isdigit():
            seg = int(seg)
        if not isinstance(seg, int):
            raise ValueError(f"{fmt_path(done)} is an array: use an index, not {seg!r}")
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return (args[seg] if seg < len(args) else Any), seg
        return (args[0] if args else Any), seg
    if origin in (dict, cabc.Mapping):
        return (args[1] if len(args) == 2 else Any), str(seg)
    if _is_dataclass_type(tp):
        hook = getattr(tp, "_child_type", None)
        if hook is not None:
            return hook(seg, node), seg
        root = tp if "__variants__" in tp.__dict__ else None
        tag_key = getattr(tp, "__tag_key__", None)
        if root is not None:
            if seg == tag_key:
                return str, seg
            tag = node.get(tag_key) if isinstance(node, Mapping) else None
            if tag in root.__variants__:
                tp = root.__variants__[tag]
            else:
                return Any, seg
        elif tag_key is not None and seg == tag_key:
            return str, seg
        keys = {fi.key: fi for fi in fields_of(tp) if fi.init}
        if seg not in keys:
            raise ConfigError(issues=[Issue(done + (seg,), suggest(str(seg), keys), "unknown")])
        return keys[seg].type, seg
    raise ValueError(f"cannot set {fmt_path(done + (seg,))}: {fmt_path(done)} holds a {_tn(tp)}")


def _apply_overrides(data: Mapping, source: SourceMap | None, overrides: Mapping[str, Any],
                     schema: type | None, label: str) -> tuple[dict, SourceMap]:
    out = copy.deepcopy(dict(data))
    src = SourceMap(dict(source.locs) if source else {}, inline=set(source.inline) if source else (),
                    default=source.default if source else None)
    where_ = Loc(label, None)
    issues: list[Issue] = []
    for key, value in overrides.items():
        try:
            path = parse_path(key)
        except ValueError as e:
            issues.append(Issue((), f"{key!r}: {e}", "plain", where_))
            continue
        if not path:
            issues.append(Issue((), "empty override key", "plain", where_))
            continue
        tp: Any = schema
        node: Any = out
        parent: Any = None
        done: tuple = ()
        norm: list = []
        try:
            for i, seg in enumerate(path):
                if schema is not None:
                    tp, seg = _child_type(tp, seg, node, done)
                if isinstance(node, list) and isinstance(seg, str) and seg.isdigit():
                    seg = int(seg)
                last = i == len(path) - 1
                if isinstance(node, list):
                    if not isinstance(seg, int) or not -len(node) <= seg < len(node):
                        raise ValueError(f"{fmt_path(done)} has {len(node)} items; no index {seg!r}")
                    seg = seg % len(node)
                elif isinstance(node, dict):
                    if isinstance(seg, int):
                        raise ValueError(f"{fmt_path(done)} is a table, not an array")
                    if not last and seg not in node:
                        node[seg] = {}
                else:
                    raise ValueError(f"cannot set {fmt_path(done + (seg,))}: "
                                     f"{fmt_path(done) or 'the root'} is not a table")
                norm.append(seg)
                done = done + (seg,)
                if not last:
                    parent, node = node, node[seg]
            seg = norm[-1]
            full = tuple(norm)
            if isinstance(value, str) and value == DELETE:
                if isinstance(node, list):
                    raise ValueError(f"cannot delete an array item ({fmt_path(full)})")
                if seg not in node:
                    raise ValueError(f"cannot delete {fmt_path(full)}: not set")
                del node[seg]
            else:
                if isinstance(value, str):
                    value = parse_value(value, tp if schema is not None else None)
                else:
                    value = copy.deepcopy(value)
                node[seg] = value
            for q in [q for q in src.locs if q[:len(full)] == full]:
                del src.locs[q]
            src.inline = {q for q in src.inline if q[:len(full)] != full}
            if not (isinstance(value, str) and value == DELETE):
                for q in _walk(value, full):
                    src.locs[q] = where_
        except ConfigError as e:
            issues.extend(Issue(i.path, i.message, i.kind, where_) for i in e.issues)
        except ValueError as e:
            issues.append(Issue(tuple(path), str(e), "value", where_))
    if issues:
        raise ConfigError(issues=issues)
    return out, src


def override(data: Mapping[str, Any], overrides: Mapping[str, Any], *,
             schema: type | None = None) -> dict[str, Any]:
    """A copy of plain scenario data with dotted-key ``overrides`` applied,
    e.g. ``override(d, {"agents.mm.count": "3", "policies.adl": "off"},
    schema=Scenario)``.  String values are parsed with the field type at
    that key (:func:`parse_value`); other values are used as they are;
    :data:`DELETE` removes the key.  Missing intermediate tables are
    created; array items must exist.  Unknown keys (with a schema) and
    unparsable strings raise :class:`ConfigError` listing all of them.
    Use :meth:`Document.override` to keep locations."""
    out, _ = _apply_overrides(data, None, overrides, schema, "<override>")
    return out
