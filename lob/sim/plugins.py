"""Compiled user strategies (plug-in path 2), named by import path.

A compiled strategy is a numba function with the built-in agents' signature
(``lob.sim.agents``)::

    @njit(cache=True, _nrt=False)
    def decide(W, a, now):          # W: the world, a: agent, now: ns
        ...                         # read W, send orders with kernel.send
        return next_wake_ns         # or -1

The event loop cannot call a function it receives as an argument without
being compiled again in every process, so the strategies of a scenario are
*bound at build time instead*: ``loop_for(["pkg.mod:decide", ...])`` writes a
small module into the cache folder that imports them and a copy of the event
loop (``lob/sim/loop.py``) whose dispatcher calls them for agent kinds
``KIND_USER + i``.  The file's name is a hash of the strategy paths and the
loop's source, so numba caches its compiled code across processes like any
other module: the first run compiles, later runs load.

Folder: ``$LOB_PLUGIN_DIR``, else ``$NUMBA_CACHE_DIR/lob_plugins``, else
``~/.cache/lob/plugins``.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path

from . import layout as L
from . import loop as _loop

KIND_USER = 100


def plugin_dir() -> Path:
    d = os.environ.get("LOB_PLUGIN_DIR")
    if d:
        return Path(d)
    nc = os.environ.get("NUMBA_CACHE_DIR")
    return Path(nc) / "lob_plugins" if nc else Path.home() / ".cache" / "lob" / "plugins"


def _split(path: str) -> tuple[str, str]:
    mod, _, name = path.partition(":")
    if not name:
        mod, _, name = path.rpartition(".")
    if not mod or not name:
        raise ValueError(f"strategy path {path!r}: expected 'package.module:function'")
    return mod, name


def loop_for(paths: list[str] | tuple[str, ...]):
    """The ``advance`` function of an event loop that also runs the compiled
    strategies ``paths`` (agent kind ``KIND_USER + i`` runs ``paths[i]``)."""
    paths = tuple(paths)
    if not paths:
        return _loop.advance
    for p in paths:                       # fail early, with the path in the message
        mod, name = _split(p)
        try:
            fn = getattr(importlib.import_module(mod), name)
        except (ImportError, AttributeError) as e:
            raise ImportError(f"compiled strategy {p!r} cannot be loaded: {e}") from e
        if not hasattr(fn, "py_func"):
            raise TypeError(f"compiled strategy {p!r} is not a numba-compiled function")
    src = inspect.getsource(_loop)
    head = "\n".join(f"from {m} import {n} as _user_{i}" for i, (m, n) in enumerate(map(_split, paths)))
    branches = "\n".join(f"    if k == {KIND_USER + i}:\n        return _user_{i}(W, a, now)" for i in range(len(paths)))
    dispatcher = f'''

{head}
from lob.sim.agents import decide as _builtin_decide


@njit(cache=True, _nrt=False)
def decide(W, a, now):
    k = W.agents[a, L.A_KIND]
{branches}
    return _builtin_decide(W, a, now)
'''
    # the copy imports what loop.py imports relatively, absolutely
    body = (src.replace("from ..core", "from lob.core").replace("from . import", "from lob.sim import")
               .replace("from .agents import decide\n", "").replace("from .kernel", "from lob.sim.kernel"))
    marker = "\n\n@njit(cache=True, _nrt=False)\ndef _room"
    body = body.replace(marker, dispatcher + marker, 1)
    digest = hashlib.sha256((body + repr(paths)).encode()).hexdigest()[:16]
    name = f"lob_plugin_loop_{digest}"
    d = plugin_dir()
    d.mkdir(parents=True, exist_ok=True)
    f = d / f"{name}.py"
    if not f.exists() or f.read_text() != body:
        tmp = f.with_suffix(".tmp")
        tmp.write_text(body)
        tmp.replace(f)
    if name in sys.modules:
        return sys.modules[name].advance
    spec = importlib.util.spec_from_file_location(name, f)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod.advance


__all__ = ["KIND_USER", "loop_for", "plugin_dir", "L"]
