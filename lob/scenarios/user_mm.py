"""A user's market maker in a scenario: resolve the ``user_mm`` builder
parameter (a ``Strategy`` class or factory, or an import path
``"pkg.mod:Class"``) and count how many of a book's built-in market makers
it replaces (``user_mm_share`` of them, at least one).  Used by the crash
suite's builders (``flash-crash``, ``stablecoin-depeg``) the way
``oct_10_2025`` does it."""
from __future__ import annotations


def resolve(user_mm, share: float):
    """The strategy factory named by ``user_mm`` (None stays None); raises
    ``ValueError`` for a share outside (0, 1] and ``ConfigError`` (naming
    the path) for an import path that does not import."""
    if isinstance(user_mm, str):
        from ..config.loader import load_object
        user_mm = load_object(user_mm)
    if user_mm is not None and not callable(user_mm):
        raise ValueError(f"user_mm must be a Strategy class or factory or an import path, got {user_mm!r}")
    if user_mm is not None and not 0.0 < share <= 1.0:
        raise ValueError(f"user_mm_share must be in (0, 1], got {share}")
    return user_mm


def n_replaced(user_mm, share: float, n: int) -> int:
    """How many of ``n`` built-in market makers of a book the user's take
    the place of: ``round(share * n)``, at least one (0 without ``user_mm``)."""
    return 0 if user_mm is None or n == 0 else min(n, max(1, int(round(share * n))))
