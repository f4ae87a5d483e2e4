"""Seeds turned into counter-based random streams: the same numbers on any thread count.

Every draw in a parallel kernel is ``uniform_int(key, a, b, c, n)``: a pure function of the run's
key and the draw's coordinates (for example epoch, edge and sample number), so the result never
depends on which thread made the draw or in which order.
"""

from __future__ import annotations

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, inline="always")
def mix64(z):
    """SplitMix64 finaliser: a bijection of uint64 with good avalanche."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def _hash(key, a, b, c):
    h = mix64(np.uint64(key) + _GOLDEN * np.uint64(a))
    h = mix64(h + _GOLDEN * np.uint64(b))
    return mix64(h + _GOLDEN * np.uint64(c))


@numba.njit(cache=True, inline="always")
def uniform_int(key, a, b, c, n):
    """An integer in [0, n), n < 2^32, determined by (key, a, b, c) alone: the top 32 bits of the
    hash scaled by n (a multiply and a shift; a 64-bit modulo costs as much as the hash)."""
    return np.int64(((_hash(key, a, b, c) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@numba.njit(cache=True, inline="always")
def uniform_float(key, a, b, c):
    """A float in [0, 1) determined by (key, a, b, c) alone."""
    return np.int64(_hash(key, a, b, c) >> np.uint64(11)) * (1.0 / (1 << 53))


@numba.njit(cache=True)
def hash_rows(values):
    """One 63-bit key per row of an integer array, a function of that row's values alone."""
    keys = np.empty(values.shape[0], dtype=np.int64)
    for i in range(values.shape[0]):
        h = np.uint64(0)
        for v in values[i]:
            h = mix64(h + _GOLDEN * np.uint64(v))
        keys[i] = np.int64(h >> np.uint64(1))
    return keys


def hash_pairs(a, b):
    """One key per pair (a[i], b[i]) of integer arrays."""
    return hash_rows(np.stack([a, b], axis=1).astype(np.int64))


def seed_key(random_state) -> int:
    """A 63-bit key for the kernels, drawn from ``random_state`` (None draws fresh entropy)."""
    return int(as_generator(random_state).integers(0, 2**63 - 1))


def as_generator(random_state) -> np.random.Generator:
    """``None``, an int, a ``Generator`` or a legacy ``RandomState`` as a ``numpy.random.Generator``."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    return np.random.default_rng(random_state)
