"""An int64 -> int64 map for compiled code: open addressing with linear
probing in a ``(capacity, 2)`` int64 array (key 0 = empty cell), Fibonacci
hashing, backward-shift deletion (no tombstones).  The caller keeps the
count and grows the table (``rehashed``) before it is half full.
O(1) expected per operation.  Keys must be non-zero.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, _nrt=False)
def _home(key, mask):
    return np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(29)) & mask


@njit(cache=True, _nrt=False)
def get(t, key):
    """Value stored for ``key``, or -1."""
    mask = t.shape[0] - 1
    h = _home(key, mask)
    while t[h, 0] != 0:
        if t[h, 0] == key:
            return t[h, 1]
        h = (h + 1) & mask
    return -1


@njit(cache=True, _nrt=False)
def put(t, key, value):
    """Insert or overwrite; returns 1 if the key is new, else 0."""
    mask = t.shape[0] - 1
    h = _home(key, mask)
    while t[h, 0] != 0:
        if t[h, 0] == key:
            t[h, 1] = value
            return 0
        h = (h + 1) & mask
    t[h, 0] = key
    t[h, 1] = value
    return 1


@njit(cache=True, _nrt=False)
def delete(t, key):
    """Remove ``key``; returns 1 if it was present, else 0."""
    mask = t.shape[0] - 1
    h = _home(key, mask)
    while t[h, 0] != key:
        if t[h, 0] == 0:
            return 0
        h = (h + 1) & mask
    j = h
    while True:
        j = (j + 1) & mask
        if t[j, 0] == 0:
            break
        home = _home(t[j, 0], mask)
        if (j > h and (home <= h or home > j)) or (j < h and home <= h and home > j):
            t[h, 0] = t[j, 0]
            t[h, 1] = t[j, 1]
            h = j
    t[h, 0] = 0
    return 1


def new(capacity: int) -> np.ndarray:
    """An empty table with at least ``capacity`` cells (a power of two)."""
    cap = 1 << max(3, int(capacity - 1).bit_length())
    return np.zeros((cap, 2), np.int64)


def rehashed(t: np.ndarray, capacity: int) -> np.ndarray:
    """A larger table with the same entries."""
    out = new(capacity)
    for k, v in t[t[:, 0] != 0]:
        put(out, int(k), int(v))
    return out
