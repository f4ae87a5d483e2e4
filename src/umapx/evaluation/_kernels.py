"""Numba kernels over blocks of query-to-all distances: tie-aware rank counts and k smallest."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True, nogil=True)
def _count_less_equal(D, thr):
    """For each row r and threshold thr[r, j]: how many D[r, :] are < and == the threshold."""
    c, n = D.shape
    k = thr.shape[1]
    less = np.zeros((c, k), dtype=np.int64)
    equal = np.zeros((c, k), dtype=np.int64)
    for r in prange(c):
        for j in range(k):
            t = thr[r, j]
            nl = 0
            ne = 0
            for col in range(n):
                v = D[r, col]
                if v < t:
                    nl += 1
                if v == t:
                    ne += 1
            less[r, j] = nl
            equal[r, j] = ne
    return less, equal


@njit(cache=True, inline="always")
def _after(va, ia, vb, ib):
    """(va, ia) sorts after (vb, ib): by value, then by index."""
    return va > vb or (va == vb and ia > ib)


@njit(cache=True)
def _sift_down(hv, hi, start, size):
    s = start
    while True:
        left = 2 * s + 1
        if left >= size:
            return
        big = left
        right = left + 1
        if right < size and _after(hv[right], hi[right], hv[left], hi[left]):
            big = right
        if _after(hv[big], hi[big], hv[s], hi[s]):
            hv[s], hv[big] = hv[big], hv[s]
            hi[s], hi[big] = hi[big], hi[s]
            s = big
        else:
            return


@njit(parallel=True, cache=True, nogil=True)
def _smallest_k(D, K):
    """Column indices of the K smallest entries of each row, ascending (ties: lower index first)."""
    c, n = D.shape
    out = np.empty((c, K), dtype=np.int64)
    for r in prange(c):
        hv = np.empty(K, dtype=D.dtype)
        hi = np.empty(K, dtype=np.int64)
        for col in range(K):
            hv[col] = D[r, col]
            hi[col] = col
        for s in range(K // 2 - 1, -1, -1):
            _sift_down(hv, hi, s, K)
        for col in range(K, n):
            v = D[r, col]
            if v < hv[0]:  # later columns have larger indices, so ties never displace
                hv[0] = v
                hi[0] = col
                _sift_down(hv, hi, 0, K)
        for end in range(K - 1, 0, -1):  # heap sort: pop the largest to the back
            hv[0], hv[end] = hv[end], hv[0]
            hi[0], hi[end] = hi[end], hi[0]
            _sift_down(hv, hi, 0, end)
        for j in range(K):
            out[r, j] = hi[j]
    return out
