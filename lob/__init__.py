"""lob: an order-book microstructure simulator.

Layers, bottom up (each imports only the ones before it):

* ``lob.core``   -- the L3 matching engine (numba kernel + Python layer), its
                    readable twin, instruments and record layouts;
* ``lob.data``   -- loaders for recorded market data (LOBSTER, ...);
* ``lob.replay`` -- replays of recorded data through the engine;
* ``lob.bench``  -- workloads and the throughput runner behind ``lob bench``.

Importing ``lob`` is light: numba compiles (or loads from its cache) only
when an engine is first used.
"""
import hashlib as _hashlib
import os as _os
import sys as _sys
from pathlib import Path as _Path


def _salted_numba_cache() -> None:
    """Point numba's cache at a folder named after a hash of this package's
    sources.  Numba invalidates a cached function only when *its own* file
    changes, not when a function it calls (in another file) does; without
    this, an edited agent or kernel file could keep running its old compiled
    code.  The base folder is ``$NUMBA_CACHE_DIR`` (remembered in
    ``$LOB_NUMBA_CACHE_BASE`` so that child processes land in the same
    folder), else ``~/.cache/lob/numba``."""
    base = _os.environ.get("LOB_NUMBA_CACHE_BASE") or _os.environ.get("NUMBA_CACHE_DIR") \
        or str(_Path.home() / ".cache" / "lob" / "numba")
    h = _hashlib.sha256()
    root = _Path(__file__).resolve().parent
    for p in sorted(root.rglob("*.py")):
        src = p.read_bytes()
        rel = p.relative_to(root).parts
        # compiled code and the modules whose constants it freezes
        if b"numba" in src or (len(rel) > 1 and rel[0] in ("core", "sim", "bench", "margin")):
            h.update(p.relative_to(root).as_posix().encode())
            h.update(src)
    target = str(_Path(base) / f"lob-{h.hexdigest()[:12]}")
    _os.environ["LOB_NUMBA_CACHE_BASE"] = base
    _os.environ["NUMBA_CACHE_DIR"] = target
    if "numba" in _sys.modules:         # numba already imported: tell it directly
        _sys.modules["numba"].config.CACHE_DIR = target


_salted_numba_cache()

from .core import codes  # noqa: E402
from .core.instrument import Instrument  # noqa: E402

__version__ = "0.1.0"


def __getattr__(name):
    # heavy modules on first use only
    if name in ("Engine", "CapacityError"):
        from .core import engine
        return getattr(engine, name)
    if name == "run":
        from .run import run
        return run
    if name == "sweep":
        from .sweeps import sweep
        return sweep
    if name == "benchmark":
        from .mm_benchmark import benchmark
        return benchmark
    if name == "ReferenceEngine":
        from .core.reference import ReferenceEngine
        return ReferenceEngine
    raise AttributeError(f"module 'lob' has no attribute {name!r}")


__all__ = ["codes", "Instrument", "Engine", "CapacityError", "ReferenceEngine", "run", "sweep", "benchmark", "__version__"]
