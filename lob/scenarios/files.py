"""Scenario files: a TOML file names a scenario builder and its parameters.

::

    version = 1
    description = "..."
    builder = "lob.scenarios.oct_10_2025:oct_10_2025"   # import path of the builder

    [params]                                           # keyword arguments of the builder
    duration_s = 10800.0
    shock_alt = [-0.25, -0.10]

A file may ``extends`` another (by name or path, see
:mod:`lob.config.scenario`) and override a few ``params``: that is how the
counterfactuals shipped beside ``oct-10-2025.toml`` are written.  Named
scenarios are the ``*.toml`` files of this package.

Validation, before anything runs, with the file and line of the key:
unknown top-level keys, a builder that cannot be imported, ``params`` the
builder does not take, values of the wrong type (checked against the
builder's annotations: bool, int, float, str, tuple), and the builder's own
``ValueError``s (impossible values) located at the parameter they name.
"""
from __future__ import annotations

import inspect
import os
import typing
from typing import Any, Mapping

from ..config.errors import ConfigError, Issue
from ..config.loader import load_object
from ..config.scenario import load_scenario

TOP_KEYS = {"version", "description", "builder", "params"}


def _issue(doc, path, message, kind="value"):
    return Issue(tuple(path), message, kind, doc.source.locate(tuple(path)))


def _check_type(name, ann, v):
    """A message if ``v`` does not fit annotation ``ann`` (a string annotation)."""
    ann = str(ann)
    if ann.startswith("bool"):
        return None if isinstance(v, bool) else f"must be true or false, got {v!r}"
    if isinstance(v, bool) and ("float" in ann or "int" in ann):
        return f"must be a number, got {v!r}"
    if ann.startswith("int"):
        return None if isinstance(v, int) else f"must be an integer, got {v!r}"
    if ann.startswith("float") and "None" not in ann:
        return None if isinstance(v, (int, float)) else f"must be a number, got {v!r}"
    if ann.startswith("str"):
        return None if isinstance(v, str) else f"must be a string, got {v!r}"
    if ann.startswith("tuple"):
        return None if isinstance(v, (list, tuple)) else f"must be an array, got {v!r}"
    return None


def load(ref: str | os.PathLike, overrides: Mapping[str, Any] | None = None):
    """``(builder, params, document)`` of scenario file or name ``ref``, with
    ``overrides`` (builder parameters) applied; raises :class:`ConfigError`
    citing file:line."""
    doc = load_scenario(ref)
    data = doc.data
    issues = [_issue(doc, (k,), " (known: builder, params, version, description)", "unknown")
              for k in data if k not in TOP_KEYS]
    if "builder" not in data:
        issues.append(Issue(("builder",), "", "missing", doc.source.locate(())))
    if issues:
        raise ConfigError(issues=issues)
    try:
        builder = load_object(data["builder"])
    except ConfigError as e:
        raise ConfigError(issues=[_issue(doc, ("builder",), str(e))]) from None
    sig = inspect.signature(builder)
    params = dict(data.get("params", {}))
    if overrides:
        params.update(overrides)
    known = {n: p for n, p in sig.parameters.items() if p.kind == p.KEYWORD_ONLY}
    for k, v in params.items():
        if k not in known:
            issues.append(_issue(doc, ("params", k), f" (the builder takes: {', '.join(sorted(known))})",
                                 "unknown"))
            continue
        msg = _check_type(k, known[k].annotation, v)
        if msg:
            issues.append(_issue(doc, ("params", k), msg))
        if isinstance(v, list):
            params[k] = tuple(v)
    if issues:
        raise ConfigError(issues=issues)
    return builder, params, doc


def build(ref: str | os.PathLike, overrides: Mapping[str, Any] | None = None):
    """The ``ScenarioSpec`` of scenario file or name ``ref``."""
    builder, params, doc = load(ref, overrides)
    try:
        return builder(**params)
    except ValueError as e:
        # locate the parameter the builder's message names, if any
        text = str(e)
        key = next((k for k in sorted(params, key=len, reverse=True) if k in text), None)
        path = ("params", key) if key else ("builder",)
        raise ConfigError(issues=[_issue(doc, path, text)]) from None


def names() -> list[str]:
    from ..config.scenario import default_resolver
    return default_resolver().names()
