"""Typed, frozen, keyword-only configs with located validation errors.

Declare a config with the :func:`config` decorator on a :class:`Config`
subclass; fields are ordinary annotated class attributes, with constraints,
units and docs given through :func:`field`::

    from lob.config import Config, config, field

    @config
    class MarketMaker(Config):
        \"\"\"A ladder market maker.\"\"\"
        spread: float = field(2.0, gt=0, unit="bps")
        \"\"\"Half-spread of the innermost quotes.\"\"\"
        levels: int = field(5, ge=1, le=50)
        policy: Literal["fifo", "pro_rata"] = "fifo"

    MarketMaker.from_dict({"spread": 3})          # MarketMaker(spread=3.0, levels=5, ...)
    MarketMaker.from_dict({"sprd": 3})            # ConfigError: unknown key 'sprd' at top level (did you mean 'spread'?)

The decorator makes a ``dataclass(frozen=True, kw_only=True, slots=True)``:
instances are immutable, hashable and compare by value.  Every
construction path validates: ``from_dict`` (with file/line when given a
source map), direct construction ``MarketMaker(spread=-1)`` and
``cfg.replace(...)``.

Supported field types: ``int`` (not bool), ``float`` (ints accepted and
converted; NaN refused), ``str``, ``bool``, ``Decimal`` (from strings,
ints or floats), ``datetime``/``date``/``time``, ``Literal[...]``, ``Enum``
subclasses (by value or name), ``tuple[T, ...]`` and ``tuple[A, B]`` (from
TOML arrays), ``dict[str, T]`` / ``Mapping[str, T]`` (named tables, stored
as a hashable read-only :class:`FrozenDict`), nested configs (from
tables), ``X | None`` (``None`` is "not set"; TOML has no null, so such
fields are set by leaving the key out), other unions (members tried in
order), ``Annotated[T, Range(...)]`` (constraints on elements) and
``Any`` (lists/dicts in it are frozen to tuples/FrozenDicts).  ``list[T]``
is refused in configs (they are frozen): use ``tuple[T, ...]``.  An ``int``
field refuses floats, even integral ones (write ``1_000_000_000``, not
``1e9``).  Plain dataclasses (such as the strategy configs in
``strategies/``) can be built with the same checks by the module-level
:func:`from_dict`.

*Tagged unions* (a table whose variant is chosen by one key, such as
distributions ``{ dist = "lognormal", ... }`` or shocks ``kind = "..."``):
decorate the root with ``@config(tag_key="kind")`` and each variant, a
subclass, with ``@config(tag="price_move")``.  A field typed with the root
accepts any registered variant.  A root may define a classmethod
``from_scalar(value)`` that turns a bare (non-table) value into an
instance (distributions use it: ``leverage = 5.0`` means a constant).

Cross-field checks go in a ``validate(self)`` method, which raises
:class:`ConfigError` with ``key=`` naming the offending key (relative to
the config) so that the error is reported at that key's line (or
``ConfigError.of([(key, message), ...])`` for several).  Do not define
``__post_init__``.  Configs may subclass configs; zero-argument ``super()``
works in their methods.  The root of a tagged union cannot be instantiated.
"""
from __future__ import annotations

import collections.abc as cabc
import dataclasses
import datetime as _dt
import ast
import hashlib
import inspect
import json
import math
import textwrap
import types
import typing
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Annotated, Any, Callable, Literal, Mapping, Union, get_args, get_origin

from .errors import ConfigError, Issue, SourceMap, fmt_path, suggest

__all__ = [
    "Config", "config", "field", "Range", "FrozenDict", "from_dict", "to_dict",
    "describe", "type_name", "fields_of", "FieldInfo", "MISSING",
]

MISSING = dataclasses.MISSING


class _Invalid:
    __slots__ = ()

    def __repr__(self):
        return "<invalid>"


INVALID: Any = _Invalid()


# ----------------------------------------------------------------------
# FrozenDict: the hashable mapping used for dict-typed fields
# ----------------------------------------------------------------------
class FrozenDict(dict):
    """A read-only, hashable ``dict`` (named tables in frozen configs).
    It is a real ``dict`` subclass, so ``isinstance(x, dict)``, ``json``
    and ``==`` against plain dicts work; mutation raises ``TypeError``."""

    __slots__ = ("_hash",)

    def __hash__(self):
        try:
            return self._hash
        except AttributeError:
            h = self._hash = hash(frozenset(self.items()))
            return h

    def _ro(self, *a, **k):
        raise TypeError("FrozenDict is read-only (configs are immutable: use .replace())")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _ro  # type: ignore[assignment]
    __ior__ = _ro  # type: ignore[assignment]

    def __reduce__(self):
        return (FrozenDict, (dict(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return f"FrozenDict({dict.__repr__(self)})"


# ----------------------------------------------------------------------
# field(): constraints, units and docs in dataclass metadata
# ----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Range:
    """Numeric bounds; usable as ``Annotated[float, Range(ge=0)]`` (e.g. on
    the element type of a tuple).  For a distribution-valued field the
    bounds apply to the distribution's support."""
    ge: Any = None
    gt: Any = None
    le: Any = None
    lt: Any = None

    def describe(self) -> str:
        parts = []
        for op, v in ((">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt)):
            if v is not None:
                parts.append(f"{op} {v}")
        return ", ".join(parts)

    def __bool__(self):
        return any(v is not None for v in (self.ge, self.gt, self.le, self.lt))


def field(default: Any = MISSING, *, default_factory: Any = MISSING,
          ge: Any = None, gt: Any = None, le: Any = None, lt: Any = None,
          min_len: int | None = None, max_len: int | None = None,
          check: Callable[[Any], Any] | None = None,
          unit: str | None = None, doc: str | None = None, key: str | None = None,
          repr: bool = True, compare: bool = True, metadata: Mapping | None = None) -> Any:
    """A dataclass field with config metadata.

    ``ge``/``gt``/``le``/``lt``: numeric bounds (on numbers, on each element
    of a tuple or named table of numbers, on a distribution's support).
    ``min_len``/``max_len``: length of a string, tuple or table.
    ``check``: ``f(value)`` returning ``None``/``True`` when fine, ``False``
    or an error message (``str``) otherwise, or raising ``ValueError``.
    ``unit``: shown by :func:`describe` (``"ns"``, ``"bps"``, ``"USD"``).
    ``doc``: one-line description (an attribute docstring, the string
    literal right below the field, works too).
    ``key``: the key in files when it differs from the attribute name
    (e.g. ``key="class"``).

    ``dataclasses.field(metadata={"ge": 0, "unit": "s"})`` is honoured too.
    """
    md = dict(metadata or {})
    for name, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt), ("min_len", min_len),
                    ("max_len", max_len), ("check", check), ("unit", unit), ("doc", doc),
                    ("key", key)):
        if v is not None:
            md[name] = v
    kw: dict[str, Any] = {"metadata": md, "repr": repr, "compare": compare}
    if default is not MISSING:
        kw["default"] = default
    if default_factory is not MISSING:
        kw["default_factory"] = default_factory
    return dataclasses.field(**kw)


@dataclasses.dataclass(frozen=True)
class FieldInfo:
    """What the machinery knows of one field."""
    name: str                 # attribute name
    key: str                  # key in files
    type: Any                 # resolved annotation
    default: Any              # MISSING or the default value
    default_factory: Any      # MISSING or a callable
    range: Range
    min_len: int | None
    max_len: int | None
    check: Callable | None
    unit: str | None
    doc: str | None
    init: bool

    @property
    def required(self) -> bool:
        return self.default is MISSING and self.default_factory is MISSING


_FIELDS: dict[type, tuple[FieldInfo, ...]] = {}


def _attr_docs(cls) -> dict[str, str]:
    """Attribute docstrings (a string literal right after an annotated
    assignment), read from the class source; ``{}`` when unavailable."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or not dataclasses.is_dataclass(klass):
            continue
        try:
            src = textwrap.dedent(inspect.getsource(klass))
            tree = ast.parse(src)
        except (OSError, TypeError, SyntaxError, IndentationError):
            continue
        node = next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)
        if node is None:
            continue
        body = node.body
        for a, b in zip(body, body[1:]):
            if (isinstance(a, ast.AnnAssign) and isinstance(a.target, ast.Name)
                    and isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant)
                    and isinstance(b.value.value, str)):
                docs[a.target.id] = inspect.cleandoc(b.value.value)
    return docs


def fields_of(cls) -> tuple[FieldInfo, ...]:
    """The :class:`FieldInfo` of a dataclass (resolved types, cached)."""
    try:
        return _FIELDS[cls]
    except KeyError:
        pass
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a dataclass")
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except NameError as e:
        raise TypeError(f"cannot resolve the annotations of {cls.__qualname__}: {e} "
                        f"(config classes must be defined at module level, or their "
                        f"annotations must name importable types)") from None
    is_cfg = _is_config(cls)
    docs = None
    out = []
    for f in dataclasses.fields(cls):
        md = f.metadata
        tp = hints.get(f.name, f.type)
        if is_cfg:
            _check_supported(tp, f"{cls.__qualname__}.{f.name}", frozen=True)
        doc = md.get("doc")
        unit = md.get("unit")
        if doc is None:
            if docs is None:
                docs = _attr_docs(cls)
            doc = docs.get(f.name)
            if doc and unit is None and doc.startswith("["):
                end = doc.find("]")
                if end > 1:
                    unit, doc = doc[1:end], doc[end + 1:].strip()
        out.append(FieldInfo(
            name=f.name, key=md.get("key", f.name), type=tp, default=f.default,
            default_factory=f.default_factory,
            range=Range(md.get("ge"), md.get("gt"), md.get("le"), md.get("lt")),
            min_len=md.get("min_len"), max_len=md.get("max_len"), check=md.get("check"),
            unit=unit, doc=doc, init=f.init))
    res = tuple(out)
    _FIELDS[cls] = res
    return res


def _check_supported(tp, where_: str, frozen: bool) -> None:
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any or tp is object or tp is type(None):
        return
    if origin is Annotated:
        return _check_supported(args[0], where_, frozen)
    if origin in (Union, types.UnionType):
        for a in args:
            _check_supported(a, where_, frozen)
        return
    if origin is Literal:
        return
    if origin in (list, cabc.MutableSequence, set, frozenset) and frozen:
        raise TypeError(f"{where_}: {type_name(tp)} is mutable; configs are frozen and hashable, "
                        f"use tuple[{type_name(args[0]) if args else 'T'}, ...]")
    if origin in (tuple, cabc.Sequence, list):
        for a in args:
            if a is not Ellipsis:
                _check_supported(a, where_, frozen)
        return
    if origin in (dict, cabc.Mapping, typing.Mapping):
        if args and args[0] is not str:
            raise TypeError(f"{where_}: table keys are strings; use dict[str, ...]")
        if args:
            _check_supported(args[1], where_, frozen)
        return
    if origin is type:
        return
    if isinstance(tp, type):
        if tp in (list, dict, set) and frozen:
            raise TypeError(f"{where_}: bare {tp.__name__} is not supported; use tuple[T, ...] "
                            f"or dict[str, T]")
        return
    raise TypeError(f"{where_}: unsupported config type {tp!r}")


# ----------------------------------------------------------------------
# Config base and @config decorator
# ----------------------------------------------------------------------
class Config:
    """Base of typed configs; subclass it and decorate with :func:`config`.

    Class methods: :meth:`from_dict`, :meth:`from_toml`, :meth:`load`,
    :meth:`describe`.  Instance methods: :meth:`to_dict`, :meth:`replace`,
    :meth:`fingerprint`, and the ``validate()`` hook."""

    __slots__ = ()

    # set by @config
    __lob_config__: bool = False
    __tag__: str | None = None
    __tag_key__: str | None = None

    def __post_init__(self):
        cls = type(self)
        if "__variants__" in cls.__dict__:
            raise TypeError(f"{cls.__qualname__} is the root of a tagged union; build one of its variants "
                            f"({', '.join(sorted(cls.__variants__))}) or use from_dict")
        ctx = _Ctx(None)
        for fi in fields_of(cls):
            if not fi.init:
                continue
            v = getattr(self, fi.name)
            r = _convert(fi.type, v, (fi.key,), ctx)
            if r is INVALID or not _check_field(fi, r, (fi.key,), ctx):
                continue
            if fi.type is Any:
                r = _freeze(r)          # keep configs hashable
            if r is not v:
                object.__setattr__(self, fi.name, r)
        if ctx.issues:
            raise ConfigError(issues=ctx.issues)
        try:
            self.validate()
        except ConfigError:
            raise
        except ValueError as e:
            raise ConfigError(str(e)) from None

    def validate(self) -> None:
        """Cross-field checks; raise :class:`ConfigError` (``key=`` names the
        offending key) or ``ValueError``.  Called after every construction."""

    # -- building -------------------------------------------------------
    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: Any = None, at: tuple = ()):
        """Build from a mapping (parsed TOML, a dict).  ``source``: a
        :class:`~lob.config.errors.SourceMap` or ``Document`` (errors cite
        ``file:line``) or a file name; ``at``: the key path of ``d`` inside
        that source (for configs nested in a larger document).  Raises
        :class:`ConfigError` listing every problem."""
        return from_dict(cls, d, source=source, at=at)

    @classmethod
    def from_toml(cls, path, *, at: tuple = ()):
        """Build from one TOML file (no ``extends``; see :meth:`load`).
        ``at``: build from the table at that key path instead of the root."""
        from .toml import load_toml
        doc = load_toml(path)
        return doc.build(cls, at=at)

    @classmethod
    def load(cls, ref, *, overrides: Mapping[str, Any] | None = None, resolver=None):
        """Load a scenario-style file by name or path (resolving ``extends``,
        applying dotted ``overrides``) and build this config from it."""
        from .scenario import load_scenario
        return load_scenario(ref, resolver=resolver, overrides=overrides, schema=cls).build(cls)

    @classmethod
    def describe(cls, style: str = "text") -> str:
        """The schema as a table (see :func:`describe`)."""
        return describe(cls, style=style)

    # -- using ----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain data (dicts, lists, scalars; keys as written in files,
        tagged unions with their tag key), such that ``type(c).from_dict(
        c.to_dict()) == c``.  ``None`` values are kept (a TOML writer drops
        them)."""
        return _to_plain_fields(self)

    def replace(self, **changes):
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def fingerprint(self) -> str:
        """A stable hex digest of the config's content (sha256 of canonical
        JSON of :meth:`to_dict`), equal across processes and runs: use it
        to name or cache results."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"),
                          default=_json_default, allow_nan=True)
        return hashlib.sha256(f"{type(self).__qualname__}\n{blob}".encode()).hexdigest()


def _freeze(v: Any) -> Any:
    """Lists -> tuples, dicts -> FrozenDict, deeply (values of ``Any`` fields)."""
    if isinstance(v, (list, tuple)):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, dict) and not isinstance(v, FrozenDict):
        return FrozenDict({k: _freeze(x) for k, x in v.items()})
    return v


def _json_default(o):
    if isinstance(o, (_dt.datetime, _dt.date, _dt.time)):
        return o.isoformat()
    raise TypeError(f"cannot serialize {type(o).__name__}")


def _is_config(cls) -> bool:
    return isinstance(cls, type) and cls.__dict__.get("__lob_config__", False) is True


def _fix_class_cells(new: type, old: type) -> None:
    """``dataclass(slots=True)`` re-creates the class; point the ``__class__``
    cells of its methods (zero-argument ``super()``) at the new class, as
    Python 3.14 does."""
    for v in new.__dict__.values():
        for fn in (getattr(v, "__func__", None), getattr(v, "fget", None), getattr(v, "fset", None), v):
            code = getattr(fn, "__code__", None)
            if code is None or "__class__" not in code.co_freevars or not fn.__closure__:
                continue
            cell = fn.__closure__[code.co_freevars.index("__class__")]
            try:
                if cell.cell_contents is old:
                    cell.cell_contents = new
            except ValueError:          # empty cell
                pass


@typing.dataclass_transform(kw_only_default=True, frozen_default=True,
                            field_specifiers=(field, dataclasses.field))
def config(cls=None, /, *, tag: str | None = None, tag_key: str | None = None):
    """Make a :class:`Config` subclass a frozen, keyword-only, slotted
    dataclass with validation.  ``@config(tag_key="kind")`` makes the
    class the root of a tagged union; ``@config(tag="name")`` registers a
    subclass as the variant selected by ``kind = "name"``."""

    def wrap(c):
        if not (isinstance(c, type) and issubclass(c, Config)):
            raise TypeError(f"@config: {c!r} must subclass lob.config.Config")
        if "__post_init__" in c.__dict__:
            raise TypeError(f"@config {c.__qualname__}: define validate(self) for checks, "
                            f"not __post_init__ (it runs the type checks)")
        new = dataclasses.dataclass(frozen=True, kw_only=True, slots=True, eq=True)(c)
        _fix_class_cells(new, c)
        new.__lob_config__ = True
        if tag_key is not None:
            if tag is not None:
                raise TypeError("@config: a class is a union root (tag_key) or a variant (tag), not both")
            new.__tag_key__ = tag_key
            new.__variants__ = {}
            new.__tag__ = None
            new.__union_root__ = new
        elif tag is not None:
            root = next((b for b in new.__mro__[1:] if "__variants__" in b.__dict__), None)
            if root is None:
                raise TypeError(f"@config(tag={tag!r}) {c.__qualname__}: no base declares tag_key")
            if any(f.name == root.__tag_key__ or (f.metadata.get("key") == root.__tag_key__)
                   for f in dataclasses.fields(new)):
                raise TypeError(f"{c.__qualname__}: a field uses the tag key {root.__tag_key__!r}")
            prev = root.__variants__.get(tag)
            if prev is not None and prev.__qualname__ != new.__qualname__:
                raise TypeError(f"tag {tag!r} of {root.__qualname__} already used by {prev.__qualname__}")
            root.__variants__[tag] = new
            new.__tag__ = tag
        else:
            new.__tag__ = None
        return new

    if cls is None:
        return wrap
    return wrap(cls)


# ----------------------------------------------------------------------
# conversion
# ----------------------------------------------------------------------
class _Ctx:
    __slots__ = ("source", "issues")

    def __init__(self, source: SourceMap | None):
        self.source = source
        self.issues: list[Issue] = []

    def error(self, path: tuple, message: str, kind: str = "value") -> Any:
        loc = None
        if self.source is not None:
            loc = self.source.locate(path[:-1] if kind == "missing" else path)
        self.issues.append(Issue(tuple(path), message, kind, loc))
        return INVALID

    def absorb(self, err: ConfigError, prefix: tuple) -> Any:
        for i in err.issues:
            self.issues.append(i.moved(prefix, self.source))
        return INVALID


def _what(v: Any) -> str:
    """``str 'abc'``, ``float 2.5``, ``an array``, ``a table``."""
    if isinstance(v, Mapping):
        return "a table"
    if isinstance(v, (list, tuple)):
        r = repr(list(v))
        return f"an array {r if len(r) <= 40 else r[:37] + '...'}"
    r = repr(v)
    if len(r) > 60:
        r = r[:57] + "..."
    return f"{type(v).__name__} {r}"


def _is_dataclass_type(tp) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _union_root(tp):
    """The tagged-union root of ``tp`` if ``tp`` is that root, else None."""
    return tp if isinstance(tp, type) and "__variants__" in tp.__dict__ else None


def _convert(tp: Any, v: Any, path: tuple, ctx: _Ctx) -> Any:
    origin = get_origin(tp)
    if tp is Any or tp is object:
        return v
    if origin is Annotated:
        args = get_args(tp)
        r = _convert(args[0], v, path, ctx)
        if r is INVALID:
            return r
        for m in args[1:]:
            if isinstance(m, Range) and not _check_range(m, r, path, ctx):
                return INVALID
        return r
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if v is None:
            if type(None) in args:
                return None
            return ctx.error(path, f"expected {type_name(tp)}, got None")
        members = [a for a in args if a is not type(None)]
        if len(members) == 1:
            return _convert(members[0], v, path, ctx)
        for a in members:
            sub = _Ctx(ctx.source)
            r = _convert(a, v, path, sub)
            if r is not INVALID and not sub.issues:
                return r
        return ctx.error(path, f"expected {type_name(tp)}, got {_what(v)}")
    if origin is Literal:
        choices = get_args(tp)
        for c in choices:
            if type(c) is type(v) and c == v:
                return c
        if isinstance(v, int) and not isinstance(v, bool):   # 1 for Literal[1.0]
            for c in choices:
                if type(c) is float and c == v:
                    return c
        shown = ", ".join(_lit(c) for c in choices)
        return ctx.error(path, f"{_lit(v) if isinstance(v, (str, int, float, bool)) else _what(v)} "
                               f"is not one of {shown}{suggest(v, [c for c in choices if isinstance(c, str)])}")
    if tp is type(None):
        return None if v is None else ctx.error(path, f"expected None, got {_what(v)}")
    if isinstance(tp, type):
        if _is_dataclass_type(tp):
            return _build(tp, v, path, ctx)
        if issubclass(tp, Enum):
            if isinstance(v, tp):
                return v
            for m in tp:
                if type(m.value) is type(v) and m.value == v:
                    return m
            if isinstance(v, str) and v in tp.__members__:
                return tp.__members__[v]
            names = [_enum_key(m) for m in tp]
            return ctx.error(path, f"{_what(v)} is not one of {', '.join(_lit(n) for n in names)}"
                                   f"{suggest(v, [n for n in names if isinstance(n, str)])}")
        if tp is bool:
            if isinstance(v, bool):
                return v
            if type(v).__module__ == "numpy" and type(v).__name__ == "bool":
                return bool(v)
            return ctx.error(path, f"expected bool, got {_what(v)}")
        if tp is int:
            if isinstance(v, int) and not isinstance(v, bool):
                return int(v) if type(v) is not int else v
            if _is_np_int(v):
                return int(v)
            return ctx.error(path, f"expected int, got {_what(v)}")
        if tp is float:
            if isinstance(v, bool) or not (isinstance(v, (int, float)) or _is_np_num(v)):
                return ctx.error(path, f"expected float, got {_what(v)}")
            f = float(v)
            if math.isnan(f):
                return ctx.error(path, "expected float, got nan")
            return f
        if tp is str:
            return v if isinstance(v, str) else ctx.error(path, f"expected str, got {_what(v)}")
        if tp is Decimal:
            if isinstance(v, Decimal):
                d = v
            elif isinstance(v, bool):
                return ctx.error(path, f"expected a decimal number, got {_what(v)}")
            elif isinstance(v, (int, str)):
                try:
                    d = Decimal(v.strip() if isinstance(v, str) else v)
                except InvalidOperation:
                    return ctx.error(path, f"expected a decimal number, got {_what(v)}")
            elif isinstance(v, float):
                d = Decimal(repr(v))
            else:
                return ctx.error(path, f"expected a decimal number, got {_what(v)}")
            if not d.is_finite():
                return ctx.error(path, f"expected a finite decimal number, got {_what(v)}")
            return d
        if tp in (_dt.datetime, _dt.date, _dt.time):
            if isinstance(v, tp) and (tp is not _dt.date or not isinstance(v, _dt.datetime)):
                return v
            if isinstance(v, str):
                try:
                    return tp.fromisoformat(v)
                except ValueError:
                    pass
            return ctx.error(path, f"expected {tp.__name__}, got {_what(v)}")
        if isinstance(v, tp):
            return v
        return ctx.error(path, f"expected {type_name(tp)}, got {_what(v)}")
    if origin in (tuple, list, cabc.Sequence):
        if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, (list, tuple)):
            if not (_is_np_array(v) and v.ndim == 1):
                return ctx.error(path, f"expected an array ({type_name(tp)}), got {_what(v)}")
            v = v.tolist()
        args = get_args(tp)
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if args == ((),):
                args = ()
            if len(v) != len(args):
                return ctx.error(path, f"expected an array of {len(args)} items ({type_name(tp)}), "
                                       f"got {len(v)}")
            items = [_convert(a, x, path + (i,), ctx) for i, (a, x) in enumerate(zip(args, v))]
        else:
            et = args[0] if args else Any
            items = [_convert(et, x, path + (i,), ctx) for i, x in enumerate(v)]
        if any(x is INVALID for x in items):
            return INVALID
        return list(items) if origin is list else tuple(items)
    if origin in (dict, cabc.Mapping):
        if not isinstance(v, Mapping):
            return ctx.error(path, f"expected a table ({type_name(tp)}), got {_what(v)}")
        args = get_args(tp)
        vt = args[1] if args else Any
        out = {}
        bad = False
        for k, x in v.items():
            if not isinstance(k, str):
                ctx.error(path, f"table keys must be strings, got {_what(k)}")
                bad = True
                continue
            r = _convert(vt, x, path + (k,), ctx)
            if r is INVALID:
                bad = True
            else:
                out[k] = r
        return INVALID if bad else FrozenDict(out)
    if origin is type:
        want = get_args(tp)[0] if get_args(tp) else object
        if isinstance(v, type) and (want is Any or issubclass(v, want)):
            return v
        return ctx.error(path, f"expected a class ({type_name(tp)}), got {_what(v)}")
    raise TypeError(f"unsupported config type {tp!r} at {fmt_path(path)}")


def _is_np_int(v) -> bool:
    t = type(v)
    return t.__module__ == "numpy" and hasattr(v, "dtype") and v.dtype.kind in "iu"


def _is_np_num(v) -> bool:
    t = type(v)
    return t.__module__ == "numpy" and hasattr(v, "dtype") and v.dtype.kind in "iuf"


def _is_np_array(v) -> bool:
    return type(v).__name__ == "ndarray" and type(v).__module__ == "numpy"


def _lit(c) -> str:
    """A value in an error message (Python-style quotes, like key names)."""
    return repr(c).lower() if isinstance(c, bool) else repr(c)


def _tlit(c) -> str:
    """A value as written in TOML (for schema tables)."""
    return json.dumps(c) if isinstance(c, str) else repr(c).lower() if isinstance(c, bool) else repr(c)


def _enum_key(m: Enum):
    return m.value if isinstance(m.value, (str, int, float)) and not isinstance(m.value, bool) else m.name


def _build(cls: type, v: Any, path: tuple, ctx: _Ctx) -> Any:
    if isinstance(v, cls):
        return v
    hook = getattr(cls, "_build_from", None)
    if hook is not None:
        return hook(v, path, ctx)
    if not isinstance(v, Mapping):
        fs = getattr(cls, "from_scalar", None)
        if fs is not None and v is not None and not isinstance(v, (list, tuple)):
            try:
                r = fs(v)
            except ConfigError as e:
                return ctx.absorb(e, path)
            except (ValueError, TypeError) as e:
                return ctx.error(path, str(e))
            if isinstance(r, cls):
                return r
            return ctx.error(path, f"expected a table ({type_name(cls)}), got {_what(v)}")
        return ctx.error(path, f"expected a table ({type_name(cls)}), got {_what(v)}")
    root = _union_root(cls)
    tag_key = getattr(cls, "__tag_key__", None)
    if root is not None:
        tag = v.get(tag_key, MISSING)
        names = sorted(root.__variants__)
        if tag is MISSING:
            return ctx.error(path + (tag_key,), f" (one of: {', '.join(map(_lit, names))})", "missing")
        if not isinstance(tag, str) or tag not in root.__variants__:
            shown = _lit(tag) if isinstance(tag, str) else _what(tag)
            return ctx.error(path + (tag_key,), f"unknown {tag_key} {shown}{suggest(tag, names)}; "
                                                f"expected one of {', '.join(map(_lit, names))}")
        cls = root.__variants__[tag]
    elif tag_key is not None and cls.__tag__ is not None:
        tag = v.get(tag_key, MISSING)
        if tag is not MISSING and tag != cls.__tag__:
            return ctx.error(path + (tag_key,), f"expected {_lit(cls.__tag__)} here, got {_lit(tag) if isinstance(tag, str) else _what(tag)}")
    infos = fields_of(cls)
    keymap = {fi.key: fi for fi in infos if fi.init}
    kwargs: dict[str, Any] = {}
    ok = True
    for k, x in v.items():
        if tag_key is not None and k == tag_key and cls.__tag__ is not None:
            continue
        fi = keymap.get(k)
        if fi is None:
            ctx.error(path + (k,), suggest(k, keymap), "unknown")
            ok = False
            continue
        r = _convert(fi.type, x, path + (k,), ctx)
        if r is INVALID or not _check_field(fi, r, path + (k,), ctx):
            ok = False
            continue
        kwargs[fi.name] = r
    for fi in keymap.values():
        if fi.required and fi.key not in v:
            ctx.error(path + (fi.key,), "", "missing")
            ok = False
    if not ok:
        return INVALID
    try:
        return cls(**kwargs)
    except ConfigError as e:
        return ctx.absorb(e, path)
    except (ValueError, TypeError) as e:
        return ctx.error(path, str(e))


def _check_field(fi: FieldInfo, v: Any, path: tuple, ctx: _Ctx) -> bool:
    if v is None:
        return True
    ok = True
    if fi.range:
        ok = _check_range(fi.range, v, path, ctx)
    if fi.min_len is not None or fi.max_len is not None:
        try:
            n = len(v)
        except TypeError:
            n = None
        if n is not None:
            if fi.min_len is not None and n < fi.min_len:
                ctx.error(path, f"needs at least {fi.min_len} item{'s' if fi.min_len != 1 else ''}"
                                f"{' (characters)' if isinstance(v, str) else ''}, got {n}")
                ok = False
            if fi.max_len is not None and n > fi.max_len:
                ctx.error(path, f"takes at most {fi.max_len} item{'s' if fi.max_len != 1 else ''}, got {n}")
                ok = False
    if ok and fi.check is not None:
        try:
            r = fi.check(v)
        except (ValueError, TypeError) as e:
            r = str(e)
        if r is False:
            r = f"invalid value {_short(v)} ({getattr(fi.check, '__name__', 'check')} failed)"
        if isinstance(r, str):
            ctx.error(path, r)
            ok = False
    return ok


def _short(v) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _check_range(rg: Range, v: Any, path: tuple, ctx: _Ctx) -> bool:
    if v is None:
        return True
    if isinstance(v, (tuple, list)):
        return all([_check_range(rg, x, path + (i,), ctx) for i, x in enumerate(v)])
    if isinstance(v, Mapping):
        return all([_check_range(rg, x, path + (k,), ctx) for k, x in v.items()])
    support = getattr(v, "support", None)
    if callable(support) and not isinstance(v, (int, float, Decimal)):
        s = support()
        if s is None:
            ctx.error(path, f"must be numeric ({rg.describe()}), got a non-numeric distribution")
            return False
        lo, hi, lo_open, hi_open = s
        bad = []
        if rg.ge is not None and not lo >= rg.ge:
            bad.append(f">= {rg.ge}")
        if rg.gt is not None and not (lo > rg.gt or (lo == rg.gt and lo_open)):
            bad.append(f"> {rg.gt}")
        if rg.le is not None and not hi <= rg.le:
            bad.append(f"<= {rg.le}")
        if rg.lt is not None and not (hi < rg.lt or (hi == rg.lt and hi_open)):
            bad.append(f"< {rg.lt}")
        if bad and lo == hi:
            ctx.error(path, f"must be {', '.join(bad)}, got {_num(lo)}")
            return False
        if bad:
            ivl = f"{'(' if lo_open else '['}{_num(lo)}, {_num(hi)}{')' if hi_open else ']'}"
            ctx.error(path, f"values must be {', '.join(bad)}, but the distribution's range is {ivl}"
                            f" (narrow it, e.g. with min/max)")
            return False
        return True
    if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
        return True
    ok = True
    for op, bound, good in ((">=", rg.ge, lambda a, b: a >= b), (">", rg.gt, lambda a, b: a > b),
                            ("<=", rg.le, lambda a, b: a <= b), ("<", rg.lt, lambda a, b: a < b)):
        if bound is None:
            continue
        b = Decimal(str(bound)) if isinstance(v, Decimal) else bound
        if not good(v, b):
            ctx.error(path, f"must be {op} {bound}, got {_num(v)}")
            ok = False
            break
    return ok


def _num(x) -> str:
    if isinstance(x, float):
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(x)
    return str(x)


def from_dict(cls: type, d: Any, *, source: Any = None, at: tuple = ()) -> Any:
    """Build the dataclass (a :class:`Config` or a plain dataclass) or type
    ``cls`` from plain data with full checking; see :meth:`Config.from_dict`.
    For plain dataclasses, errors raised by their own ``__post_init__``
    (``ValueError``/``TypeError``) are reported at the table's line."""
    ctx = _Ctx(SourceMap.coerce(source))
    r = _convert(cls, d, tuple(at), ctx)
    if ctx.issues:
        raise ConfigError(issues=ctx.issues)
    return r


def convert(tp: Any, v: Any, *, source: Any = None, at: tuple = ()) -> Any:
    """Check and convert ``v`` to the type ``tp`` (any supported field
    type), raising :class:`ConfigError`."""
    return from_dict(tp, v, source=source, at=at)


# ----------------------------------------------------------------------
# to_dict
# ----------------------------------------------------------------------
def _to_plain_fields(obj) -> dict[str, Any]:
    cls = type(obj)
    out: dict[str, Any] = {}
    tag = getattr(cls, "__tag__", None)
    if tag is not None:
        out[cls.__tag_key__] = tag
    for fi in fields_of(cls):
        out[fi.key] = to_dict(getattr(obj, fi.name))
    return out


def to_dict(v: Any) -> Any:
    """Plain data for any config value (see :meth:`Config.to_dict`)."""
    if isinstance(v, Config):
        return v.to_dict()
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return _to_plain_fields(v)
    if isinstance(v, Mapping):
        return {k: to_dict(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_dict(x) for x in v]
    if isinstance(v, Enum):
        return _enum_key(v)
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, type):
        return f"{v.__module__}:{v.__qualname__}"
    if type(v).__module__ == "numpy" and hasattr(v, "item"):
        return v.item()
    return v


# ----------------------------------------------------------------------
# describe
# ----------------------------------------------------------------------
def type_name(tp: Any) -> str:
    """Readable name of a field type (``float``, ``"fifo" | "pro_rata"``,
    ``tuple[Book, ...]``, ``dict[str, Venue]``, ``Dist``)."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any or tp is object:
        return "any"
    if tp is type(None):
        return "None"
    if origin is Annotated:
        return type_name(args[0])
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is Literal:
        return " | ".join(_tlit(a) for a in args)
    if origin in (tuple, list, cabc.Sequence):
        n = "tuple" if origin is tuple else "list" if origin is list else "Sequence"
        if not args:
            return n
        if len(args) == 2 and args[1] is Ellipsis:
            return f"{n}[{type_name(args[0])}, ...]"
        return f"{n}[{', '.join(type_name(a) for a in args)}]"
    if origin in (dict, cabc.Mapping):
        return f"dict[{', '.join(type_name(a) for a in args)}]" if args else "dict"
    if origin is type:
        return f"type[{type_name(args[0])}]" if args else "type"
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            return " | ".join(_tlit(_enum_key(m)) for m in tp)
        return tp.__name__
    return str(tp)


def _default_text(fi: FieldInfo) -> str:
    if fi.default is not MISSING:
        v = fi.default
    elif fi.default_factory is not MISSING:
        try:
            v = fi.default_factory()
        except Exception:           # pragma: no cover - exotic factories
            return "(computed)"
    else:
        return "required"
    if v is None:
        return "(unset)"
    if _nested(fi.type) is not None and _nested(fi.type)[0] == "." and isinstance(v, Config) \
            and getattr(type(v), "from_scalar", None) is None:
        return "(table)"
    if getattr(type(v), "__tag__", None) == "const" and hasattr(v, "value"):
        v = v.value                      # a constant distribution reads as its value
    plain = to_dict(v)
    from .toml import format_value
    try:
        s = format_value(plain)
    except TypeError:
        s = repr(plain)
    return s if len(s) <= 48 else s[:45] + "..."


def _constraint_text(fi: FieldInfo) -> str:
    parts = []
    if fi.range:
        parts.append(fi.range.describe())
    def inner(tp, top):
        if get_origin(tp) is Annotated:
            for m in get_args(tp)[1:]:
                if isinstance(m, Range) and m:
                    parts.append(m.describe() if top else f"each {m.describe()}")
            return inner(get_args(tp)[0], top)
        for a in get_args(tp):
            if a is not Ellipsis and not isinstance(a, (str, int, float, bool)):
                inner(a, top and get_origin(tp) in (Union, types.UnionType))
    inner(fi.type, True)
    if fi.min_len is not None:
        parts.append(f"len >= {fi.min_len}")
    if fi.max_len is not None:
        parts.append(f"len <= {fi.max_len}")
    if fi.check is not None:
        parts.append(f"check {getattr(fi.check, '__name__', 'custom')}")
    return ", ".join(parts)


def _nested(tp) -> tuple[str, Any] | None:
    """('.', Cls) / ('.<name>.', Cls) / ('[].', Cls) for a type that holds a
    config, else None (tagged roots and types with from_scalar are leaves
    unless they are the element of an array/table)."""
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return _nested(args[0])
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        return _nested(members[0]) if len(members) == 1 else None
    if origin in (tuple, list, cabc.Sequence) and args and (len(args) == 1 or args[1] is Ellipsis):
        inner = args[0]
        return ("[].", inner) if _is_dataclass_type(inner) else None
    if origin in (dict, cabc.Mapping) and len(args) == 2:
        return (".<name>.", args[1]) if _is_dataclass_type(args[1]) else None
    if _is_dataclass_type(tp):
        return (".", tp)
    return None


def _rows(cls, prefix: str, rows: list, stack: tuple) -> None:
    if cls in stack:
        return
    stack = stack + (cls,)
    for fi in fields_of(cls):
        if not fi.init:
            continue
        key = prefix + fi.key
        nest = _nested(fi.type)
        doc = (fi.doc or "").split("\n\n")[0].replace("\n", " ")
        if nest is not None and ((getattr(nest[1], "from_scalar", None) is not None and nest[0] == ".")
                                 or getattr(nest[1], "_build_from", None) is not None):
            nest = None         # leaf-like (distributions, strategy specs): documented on their own
        if not doc and nest is not None and nest[1].__doc__ and not nest[1].__doc__.startswith(nest[1].__name__ + "("):
            doc = _first_line(nest[1].__doc__)
        rows.append((key, type_name(fi.type), _default_text(fi), fi.unit or "", _constraint_text(fi), doc))
        if nest is None:
            continue
        sep, sub = nest
        root = _union_root(sub)
        if root is not None:
            tk = root.__tag_key__
            names = sorted(root.__variants__)
            rows.append((key + sep + tk, " | ".join(map(_tlit, names)), "required", "", "",
                         f"selects the {type_name(root)} variant"))
            _rows(root, key + sep, rows, stack)          # keys common to all variants
            common = {f.key for f in fields_of(root) if f.init}
            for name in names:
                sub_rows: list = []
                _rows(root.__variants__[name], key + sep, sub_rows, stack)
                for r in sub_rows:
                    own = r[0][len(key + sep):].split(".")[0].split("[")[0]
                    if own not in common:
                        rows.append((f"{r[0]} ({tk}={_tlit(name)})",) + r[1:])
        else:
            _rows(sub, key + sep, rows, stack)


def describe(cls: type, *, style: str = "text") -> str:
    """The schema of a config class as a table with columns key, type,
    default, unit, constraint and doc.  Nested configs are expanded with
    dotted keys (``venues.<name>.fee``, ``books[].tick``); tagged unions
    list each variant's keys.  ``style``: ``"text"`` (aligned columns) or
    ``"markdown"`` (a pipe table for the README).  For a tagged-union root
    (e.g. ``Dist``) every variant is listed."""
    if style not in ("text", "markdown"):
        raise ValueError(f"style must be 'text' or 'markdown', got {style!r}")
    rows: list = []
    root = _union_root(cls)
    if root is not None:
        tk = root.__tag_key__
        for name in sorted(root.__variants__):
            sub: list = []
            _rows(root.__variants__[name], "", sub, ())
            rows.append((f"{tk} = {_tlit(name)}", "", "", "", "",
                         _first_line(root.__variants__[name].__doc__)))
            rows.extend(("  " + r[0],) + r[1:] for r in sub)
    else:
        _rows(cls, "", rows, ())
    header = ("key", "type", "default", "unit", "constraint", "doc")
    if style == "markdown":
        def esc(s):
            s = s.replace("|", "\\|")
            return f"`{s}`" if s and s not in ("required",) and not s.startswith("(") else s
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        for r in rows:
            cells = [esc(r[0]), esc(r[1]), esc(r[2]), r[3].replace("|", "\\|"),
                     r[4].replace("|", "\\|"), r[5].replace("|", "\\|")]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i])
              for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    lines = [fmt(header), fmt(tuple("-" * w for w in widths))] + [fmt(r) for r in rows]
    return "\n".join(lines) + "\n"


def _first_line(doc: str | None) -> str:
    if not doc:
        return ""
    return inspect.cleandoc(doc).split("\n\n")[0].replace("\n", " ")
