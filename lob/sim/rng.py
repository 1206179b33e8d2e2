"""Per-agent random streams for compiled code: xoshiro256** on state arrays.

Every agent (and every stochastic process such as a fundamental oracle) owns
one row of a ``(n, 4)`` uint64 state array, seeded from a
``numpy.random.SeedSequence`` spawned per row, so streams are independent,
reproducible across processes, and never touch a global seed.  Draw
functions take the state array and the row; they are tiny and inlined by
LLVM.  Reference: Blackman & Vigna, "Scrambled linear pseudorandom number
generators" (2021).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

_M53 = 1.0 / 9007199254740992.0  # 2**-53


def seed_states(seed: int | np.random.SeedSequence, n: int) -> np.ndarray:
    """``(n, 4)`` uint64 xoshiro states, one independent stream per row."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    out = np.empty((n, 4), np.uint64)
    for i, child in enumerate(ss.spawn(n)):
        st = child.generate_state(4, np.uint64)
        if not st.any():          # the all-zero state is the one fixed point
            st[0] = 1
        out[i] = st
    return out


@njit(cache=True, _nrt=False)
def next_u64(s, r):
    """Next 64 random bits of stream ``r``."""
    s0 = s[r, 0]
    s1 = s[r, 1]
    s2 = s[r, 2]
    s3 = s[r, 3]
    x = s1 * np.uint64(5)
    result = ((x << np.uint64(7)) | (x >> np.uint64(57))) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << np.uint64(45)) | (s3 >> np.uint64(19))
    s[r, 0] = s0
    s[r, 1] = s1
    s[r, 2] = s2
    s[r, 3] = s3
    return result


@njit(cache=True, _nrt=False)
def uniform(s, r):
    """A float in [0, 1) with 53 random bits."""
    return float(next_u64(s, r) >> np.uint64(11)) * _M53


@njit(cache=True, _nrt=False)
def randint(s, r, n):
    """An int in [0, n) (n >= 1); multiply-shift, bias below 2**-11 for n < 2**42."""
    return int(uniform(s, r) * n)


@njit(cache=True, _nrt=False)
def exponential(s, r, mean):
    """Exponential variate with the given mean (same units out)."""
    return -mean * math.log(1.0 - uniform(s, r))


@njit(cache=True, _nrt=False)
def normal(s, r):
    """Standard normal (Box-Muller, one variate per two uniforms)."""
    u1 = 1.0 - uniform(s, r)
    u2 = uniform(s, r)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True, _nrt=False)
def geometric0(s, r, mean):
    """Geometric on {0, 1, 2, ...} with the given mean."""
    if mean <= 0.0:
        return 0
    p = 1.0 / (mean + 1.0)
    return int(math.log(1.0 - uniform(s, r)) / math.log(1.0 - p))


@njit(cache=True, _nrt=False)
def poisson(s, r, lam):
    """Poisson variate (inversion for small lam, normal approximation above 50)."""
    if lam <= 0.0:
        return 0
    if lam > 50.0:
        k = int(lam + math.sqrt(lam) * normal(s, r) + 0.5)
        return k if k > 0 else 0
    u = uniform(s, r)
    p = math.exp(-lam)
    c = p
    k = 0
    while u > c:
        k += 1
        p *= lam / k
        c += p
    return k
