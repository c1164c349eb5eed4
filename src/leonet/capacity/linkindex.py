"""Distinct links (a, b) of the flows and each entry's link number, without one global sort.

The capacity model numbers the links of every kind (beam: serving satellite and cell; laser: two
satellites; ...) by the distinct (a, b) pairs its flows use, in (a, b) order, and needs each
entry's number: ``np.unique(key, return_inverse=True)`` on one int64 key per pair, a sort of all
entries (~1 M laser hops for Gen2 x 100,000 cells). Here a compiled kernel groups the entries by
``a`` with a counting sort (``a`` is a small non-negative id: a satellite, gateway or PoP) and
sorts only each group's ``b`` values (a satellite's few laser neighbours, a satellite's cells), so
the work is O(entries + ids + sum of g log g over groups of size g). Same output as the reference
(:func:`unique_pairs_reference`), which the tests compare.
"""

from __future__ import annotations

import numpy as np

try:  # numba compiles the kernel once per machine (cached on disk)
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency
    njit = None


def _unique_pairs(a, b, n_a):
    n = len(a)
    count = np.zeros(n_a + 1, np.int64)
    for i in range(n):
        count[a[i] + 1] += 1
    for v in range(n_a):
        count[v + 1] += count[v]
    start = count.copy()
    order = np.empty(n, np.int64)
    for i in range(n):   # stable counting sort by a
        order[start[a[i]]] = i
        start[a[i]] += 1
    inverse = np.empty(n, np.int64)
    ua = np.empty(n, np.int64)
    ub = np.empty(n, np.int64)
    m = 0
    for v in range(n_a):
        lo, hi = count[v], count[v + 1]
        if hi == lo:
            continue
        bs = np.empty(hi - lo, np.int64)
        for j in range(lo, hi):
            bs[j - lo] = b[order[j]]
        rank = np.argsort(bs, kind="mergesort")
        prev = 0
        for q in range(hi - lo):
            x = bs[rank[q]]
            if q == 0 or x != prev:
                ua[m] = v
                ub[m] = x
                m += 1
                prev = x
            inverse[order[lo + rank[q]]] = m - 1
    return ua[:m], ub[:m], inverse


_unique_pairs_fast = njit(cache=True, nogil=True)(_unique_pairs) if njit is not None else _unique_pairs


def unique_pairs(keys_a: np.ndarray, keys_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (a, b) pairs (sorted by a, then b) as (U, 2) int64, and each input's row among
    them (K,) int64. ``keys_a`` (K,) must be >= 0; ``keys_b`` (K,) any int64 (-1: no second id)."""
    a = np.asarray(keys_a, dtype=np.int64)
    b = np.asarray(keys_b, dtype=np.int64)
    if len(a) == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
    if a.min() < 0:
        return unique_pairs_reference(a, b)
    ua, ub, inverse = _unique_pairs_fast(a, b, int(a.max()) + 1)
    return np.c_[ua, ub], inverse


def unique_pairs_reference(keys_a: np.ndarray, keys_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`unique_pairs` through ``np.unique`` on one int64 key per pair (the reference)."""
    a = np.asarray(keys_a, dtype=np.int64)
    b = np.asarray(keys_b, dtype=np.int64)
    if len(a) == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
    lo = min(int(b.min()), 0)  # b may be -1 (no second id)
    span = int(b.max()) - lo + 1
    ukey, inverse = np.unique((a - min(int(a.min()), 0)) * span + (b - lo), return_inverse=True)
    uniq = np.c_[ukey // span + min(int(a.min()), 0), ukey % span + lo]
    return uniq, inverse.reshape(-1)
