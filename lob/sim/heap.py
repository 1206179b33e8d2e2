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

# an index known to be in range: unsigned skips numba's negative-index fix-up
_u = np.uint64


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
    """Insert an event into the heap of size ``n`` (``n < len(h)``); returns n + 1.
    The sift-up moves parents down into a hole (the arrangement a swapping
    sift-up gives, with a third of the stores) and indexes unsigned (no
    negative-index fix-up)."""
    i = n
    while i > 0:
        p = (i - 1) >> 1
        pt = h[_u(p), T_TIME]
        if not ((time < pt) | ((time == pt) & (seq < h[_u(p), T_SEQ]))):
            break
        for c in range(EVENT_COLS):
            h[_u(i), c] = h[_u(p), c]
        i = p
    h[_u(i), T_TIME] = time
    h[_u(i), T_SEQ] = seq
    h[_u(i), T_KIND] = kind
    h[_u(i), T_AGENT] = agent
    h[_u(i), T_P0] = p0
    h[_u(i), T_P1] = p1
    h[_u(i), T_P2] = p2
    h[_u(i), T_P3] = p3
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
