"""The event queue of the simulation kernel: a binary min-heap in an int64
array, ordered by (time, sequence number).

Each row is ``EVENT_COLS`` wide: ``T_TIME`` (ns), ``T_SEQ`` (a global
counter: ties in time are broken by insertion order, which makes runs
deterministic), ``T_KIND``, ``T_AGENT`` and four payload words.  Push and pop
are O(log n); the caller grows the array (``grow``) when ``n == capacity``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

T_TIME = 0
T_SEQ = 1
T_KIND = 2
T_AGENT = 3
T_P0 = 4
T_P1 = 5
T_P2 = 6
T_P3 = 7
EVENT_COLS = 8


@njit(cache=True, _nrt=False)
def _less(h, i, j):
    return h[i, T_TIME] < h[j, T_TIME] or (h[i, T_TIME] == h[j, T_TIME] and h[i, T_SEQ] < h[j, T_SEQ])


@njit(cache=True, _nrt=False)
def _swap(h, i, j):
    for c in range(EVENT_COLS):
        x = h[i, c]
        h[i, c] = h[j, c]
        h[j, c] = x


@njit(cache=True, _nrt=False)
def push(h, n, time, seq, kind, agent, p0, p1, p2, p3):
    """Insert an event into the heap of size ``n`` (``n < len(h)``); returns n + 1."""
    h[n, T_TIME] = time
    h[n, T_SEQ] = seq
    h[n, T_KIND] = kind
    h[n, T_AGENT] = agent
    h[n, T_P0] = p0
    h[n, T_P1] = p1
    h[n, T_P2] = p2
    h[n, T_P3] = p3
    i = n
    while i > 0:
        p = (i - 1) >> 1
        if not _less(h, i, p):
            break
        _swap(h, i, p)
        i = p
    return n + 1


@njit(cache=True, _nrt=False)
def pop(h, n, out):
    """Remove the earliest event into ``out`` (length ``EVENT_COLS``); returns n - 1."""
    for c in range(EVENT_COLS):
        out[c] = h[0, c]
    n -= 1
    if n > 0:
        for c in range(EVENT_COLS):
            h[0, c] = h[n, c]
        i = 0
        while True:
            left = 2 * i + 1
            if left >= n:
                break
            c = left
            if left + 1 < n and _less(h, left + 1, left):
                c = left + 1
            if not _less(h, c, i):
                break
            _swap(h, i, c)
            i = c
    return n


def grow(h: np.ndarray) -> np.ndarray:
    """A heap array with twice the rows, same contents (heap order kept)."""
    new = np.zeros((2 * len(h), EVENT_COLS), np.int64)
    new[:len(h)] = h
    return new
