"""Objects by import path, and strategy specs.

``load_object("package.module:Name")`` (or ``"package.module.Name"``,
``"package.module:Outer.Inner"``) imports and returns an object, with
errors that say which part failed (module not found -- with a suggestion
from the sibling modules --, attribute missing, or the module itself
raising while imported).

A strategy spec is a table::

    strategy = { class = "strategies.ladder:LadderMM", config = { spread = 2.0 } }

(``strategy = "strategies.ladder:LadderMM"`` is short for an empty
``config``).  The strategy class names its config class in a class
attribute ``Config`` (a :class:`~lob.config.Config` or any dataclass);
failing that, the type annotation of the ``config`` parameter of its
``__init__`` is used (``def __init__(self, config: ASConfig | Mapping)``).
The config table is validated with the config machinery, so errors cite
file, key path and line.  A :class:`StrategySpec` field in a schema does
all of this while the scenario is validated.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import typing
from typing import Any, Mapping

from .base import Config, _Ctx, _build, _what, config, field, to_dict, _is_dataclass_type
from .errors import ConfigError, Issue, SourceMap, suggest

__all__ = ["load_object", "config_class_of", "StrategySpec", "build_strategy"]


def _plain(msg: str) -> ConfigError:
    return ConfigError(issues=[Issue((), msg, "plain")])


def _siblings(modname: str) -> list[str]:
    parent, _, _ = modname.rpartition(".")
    try:
        if parent:
            pkg = importlib.import_module(parent)
            paths = getattr(pkg, "__path__", None)
            if paths is None:
                return []
            return [f"{parent}.{m.name}" for m in pkgutil.iter_modules(paths)]
        return [m.name for m in pkgutil.iter_modules()] + list(sys.builtin_module_names)
    except Exception:
        return []


def _import(modname: str, ref: str):
    """Import ``modname``; ``None`` if it (or a parent) does not exist."""
    try:
        return importlib.import_module(modname)
    except ModuleNotFoundError as e:
        missing = e.name or ""
        if missing == modname or modname.startswith(missing + "."):
            return None
        raise _plain(f"cannot import {ref!r}: importing module {modname!r} failed: {e}") from e
    except ImportError as e:
        raise _plain(f"cannot import {ref!r}: importing module {modname!r} failed: {e}") from e
    except Exception as e:
        raise _plain(f"cannot import {ref!r}: module {modname!r} raised "
                     f"{type(e).__name__}: {e}") from e


def _getattrs(obj, names: list[str], ref: str, modname: str):
    cur, done = obj, modname
    for nm in names:
        try:
            cur = getattr(cur, nm)
        except AttributeError:
            public = [a for a in dir(cur) if not a.startswith("_")]
            kind = "module" if inspect.ismodule(cur) else type(cur).__name__ if not isinstance(cur, type) else "class"
            raise _plain(f"cannot import {ref!r}: {kind} {done!r} has no attribute {nm!r}"
                         f"{suggest(nm, public)}") from None
        done = f"{done}.{nm}"
    return cur


def load_object(ref: str) -> Any:
    """The object named by ``"package.module:Name"`` (attribute path after
    the colon may be dotted) or ``"package.module.Name"`` (the longest
    importable module prefix is used).  Raises :class:`ConfigError`."""
    if not isinstance(ref, str) or not ref.strip():
        raise _plain(f"an import path must be a non-empty string like 'package.module:Name', got {ref!r}")
    ref = ref.strip()
    if ref.count(":") > 1 or ref.startswith((".", ":")) or ref.endswith((".", ":")) or ".." in ref:
        raise _plain(f"invalid import path {ref!r} (expected 'package.module:Name')")
    if ":" in ref:
        modname, _, attr = ref.partition(":")
        mod = _import(modname, ref)
        if mod is None:
            raise _plain(f"cannot import {ref!r}: no module named {_missing(modname)!r}"
                         f"{suggest(_missing(modname), _siblings(_missing(modname)))}")
        return _getattrs(mod, attr.split("."), ref, modname)
    parts = ref.split(".")
    for i in range(len(parts), 0, -1):
        modname = ".".join(parts[:i])
        mod = _import(modname, ref)
        if mod is not None:
            if i == len(parts):
                return mod
            return _getattrs(mod, parts[i:], ref, modname)
    raise _plain(f"cannot import {ref!r}: no module named {parts[0]!r}{suggest(parts[0], _siblings(parts[0]))}")


def _missing(modname: str) -> str:
    """The first prefix of ``modname`` that does not import."""
    parts = modname.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        try:
            importlib.import_module(name)
        except ImportError:
            return name
    return modname


def config_class_of(cls: type) -> type | None:
    """The config class of a strategy class: its ``Config`` attribute (a
    dataclass), else the dataclass in the annotation of the ``config``
    parameter of ``__init__``; ``None`` when neither exists."""
    c = getattr(cls, "Config", None)
    if _is_dataclass_type(c):
        return c
    init = cls.__dict__.get("__init__") or getattr(cls, "__init__", None)
    try:
        hints = typing.get_type_hints(init)
    except Exception:
        return None
    tp = hints.get("config")
    if tp is None:
        return None
    members = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, __import__("types").UnionType) else (tp,)
    found = [m for m in members if _is_dataclass_type(m)]
    return found[0] if len(found) == 1 else None


@config
class StrategySpec(Config):
    """A strategy: its class (``class = "package.module:Name"``) and its
    validated config (``config = { ... }``, checked against the class's
    ``Config``)."""
    cls: type = field(key="class", doc="import path of the strategy class, 'package.module:Name'")
    config: Any = field(None, doc="table of the strategy's config (its Config class's keys)")

    def validate(self):
        want = config_class_of(self.cls)
        if want is None:
            raise ConfigError(f"{_name(self.cls)} has no config class (a class attribute `Config`)",
                              key="class")
        if not isinstance(self.config, want):
            raise ConfigError(f"expected a {want.__name__}, got {_what(self.config)}", key="config")

    def to_dict(self) -> dict[str, Any]:
        return {"class": _name(self.cls), "config": to_dict(self.config)}

    def build(self, *args, **kwargs):
        """``cls(config, *args, **kwargs)``: an instance of the strategy."""
        return self.cls(self.config, *args, **kwargs)

    @classmethod
    def _child_type(cls, key, node):
        """Type of ``key`` for dotted overrides (``strategy.config.gamma``)."""
        if key == "class":
            return str
        if key == "config":
            ref = node.get("class") if isinstance(node, Mapping) else None
            try:
                target = load_object(ref) if isinstance(ref, str) else None
            except ConfigError:
                target = None
            c = config_class_of(target) if isinstance(target, type) else None
            return c if c is not None else Any
        raise ConfigError(issues=[Issue((key,), suggest(str(key), ("class", "config")), "unknown")])

    @classmethod
    def _build_from(cls, v: Any, path: tuple, ctx: _Ctx) -> Any:
        if isinstance(v, StrategySpec):
            return v
        if isinstance(v, str):
            v = {"class": v}
        if not isinstance(v, Mapping):
            return ctx.error(path, f"expected a strategy table {{ class = \"package.module:Name\", "
                                   f"config = {{...}} }}, got {_what(v)}")
        ok = True
        for k in v:
            if k not in ("class", "config"):
                ctx.error(path + (k,), suggest(k, ("class", "config")), "unknown")
                ok = False
        ref = v.get("class")
        if ref is None:
            ctx.error(path + ("class",), "", "missing")
            return _invalid()
        if not isinstance(ref, str):
            ctx.error(path + ("class",), f"expected an import path string, got {_what(ref)}")
            return _invalid()
        try:
            target = load_object(ref)
        except ConfigError as e:
            ctx.error(path + ("class",), e.issues[0].message)
            return _invalid()
        if not isinstance(target, type):
            ctx.error(path + ("class",), f"{ref!r} is not a class ({type(target).__name__})")
            return _invalid()
        want = config_class_of(target)
        if want is None:
            ctx.error(path + ("class",), f"{ref!r} names no config class: give the strategy class "
                                         f"a class attribute `Config` (a dataclass)")
            return _invalid()
        table = v.get("config", {})
        if not isinstance(table, (Mapping, want)):
            ctx.error(path + ("config",), f"expected a table ({want.__name__}), got {_what(table)}")
            return _invalid()
        cfg = _build(want, table, path + ("config",), ctx)
        if cfg is _invalid() or not ok:
            return _invalid()
        return StrategySpec(cls=target, config=cfg)


def _invalid():
    from .base import INVALID
    return INVALID


def _name(c: type) -> str:
    return f"{c.__module__}:{c.__qualname__}"


def build_strategy(spec: Mapping[str, Any] | str, *, source: Any = None, at: tuple = ()) -> tuple[type, Any]:
    """``(cls, config)`` from a spec table ``{ class = "...", config = {...} }``
    (or a bare import path).  ``source``/``at``: where the table sits in a
    document, for ``file:line`` in errors.  Raises :class:`ConfigError`."""
    ctx = _Ctx(SourceMap.coerce(source))
    s = _build(StrategySpec, spec, tuple(at), ctx)
    if ctx.issues:
        raise ConfigError(issues=ctx.issues)
    return s.cls, s.config
