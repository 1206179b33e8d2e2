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
from .core import codes
from .core.instrument import Instrument

__version__ = "0.1.0"


def __getattr__(name):
    # heavy modules on first use only
    if name in ("Engine", "CapacityError"):
        from .core import engine
        return getattr(engine, name)
    if name == "run":
        from .run import run
        return run
    if name == "ReferenceEngine":
        from .core.reference import ReferenceEngine
        return ReferenceEngine
    raise AttributeError(f"module 'lob' has no attribute {name!r}")


__all__ = ["codes", "Instrument", "Engine", "CapacityError", "ReferenceEngine", "run", "__version__"]
