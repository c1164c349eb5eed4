"""Distinct links (a, b) of the flows and each entry's link number, without one global sort.

The capacity model numbers the links of every kind (beam: serving satellite and cell; laser: two
satellites; ...) by the distinct (a, b) pairs its flows use, in (a, b) order, and needs each
entry's number: ``np.unique(key, return_inverse=True)`` on one int64 key per pair, a sort of all
entries (~1 M laser hops for Gen2 x 100,000 cells). Here, where every ``a`` has a few distinct
``b`` (a satellite's laser neighbours, one satellite per ``a`` for the satellite and PoP links), a
compiled kernel keeps a small table of each a's b values and numbers them in (a, b) order, with no
sort of the entries; otherwise a compiled kernel sorts the pairs by two
stable counting sorts (by ``b``, then by ``a``: both are small ids, satellites, cells, gateways,
PoPs), so the work is O(entries + the ids' ranges), then numbers them in one walk. Same output as
the reference
(:func:`unique_pairs_reference`), which the tests compare.
"""

from __future__ import annotations

import numpy as np

try:  # numba compiles the kernel once per machine (cached on disk)
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency
    njit = None


def _counting_order(key, n_keys, order_in):
    """``order_in`` stably re-sorted by ``key[order_in]`` (keys in 0..n_keys-1)."""
    count = np.zeros(n_keys + 1, np.int64)
    for i in order_in:
        count[key[i] + 1] += 1
    for v in range(n_keys):
        count[v + 1] += count[v]
    out = np.empty(len(order_in), np.int64)
    for i in order_in:
        out[count[key[i]]] = i
        count[key[i]] += 1
    return out


def _unique_pairs(a, b, n_a, b_lo, n_b):
    """Two stable counting sorts (by b, then by a: a radix sort of the pairs), then one walk
    numbering the distinct pairs. a in 0..n_a-1, b in b_lo..b_lo+n_b-1."""
    n = len(a)
    bk = np.empty(n, np.int64)
    for i in range(n):
        bk[i] = b[i] - b_lo
    order = _counting_order(bk, n_b, np.arange(n))
    order = _counting_order(a, n_a, order)
    inverse = np.empty(n, np.int64)
    ua = np.empty(n, np.int64)
    ub = np.empty(n, np.int64)
    m = 0
    for q in range(n):
        i = order[q]
        if m == 0 or a[i] != ua[m - 1] or b[i] != ub[m - 1]:
            ua[m] = a[i]
            ub[m] = b[i]
            m += 1
        inverse[i] = m - 1
    return ua[:m], ub[:m], inverse


def _unique_pairs_few(a, b, n_a, max_degree):
    """The same when each ``a`` has at most ``max_degree`` distinct ``b`` (a satellite's laser
    neighbours): a small table of each a's b values, no sort of the entries. ``ok`` is False
    (and nothing else valid) when some a has more."""
    n = len(a)
    nbr = np.empty((n_a, max_degree), np.int64)
    deg = np.zeros(n_a, np.int64)
    for i in range(n):
        v, x = a[i], b[i]
        found = False
        for q in range(deg[v]):
            if nbr[v, q] == x:
                found = True
                break
        if not found:
            if deg[v] == max_degree:
                return False, a[:0], a[:0], a[:0]
            nbr[v, deg[v]] = x
            deg[v] += 1
    first = np.zeros(n_a + 1, np.int64)
    for v in range(n_a):   # each a's b values in order (insertion sort: a few), ids in (a, b) order
        d = deg[v]
        for q in range(1, d):
            x = nbr[v, q]
            w = q
            while w > 0 and nbr[v, w - 1] > x:
                nbr[v, w] = nbr[v, w - 1]
                w -= 1
            nbr[v, w] = x
        first[v + 1] = first[v] + d
    m = first[n_a]
    ua = np.empty(m, np.int64)
    ub = np.empty(m, np.int64)
    for v in range(n_a):
        for q in range(deg[v]):
            ua[first[v] + q] = v
            ub[first[v] + q] = nbr[v, q]
    inverse = np.empty(n, np.int64)
    for i in range(n):
        v, x = a[i], b[i]
        for q in range(deg[v]):
            if nbr[v, q] == x:
                inverse[i] = first[v] + q
                break
    return True, ua, ub, inverse


if njit is not None:
    _unique_pairs_few_fast = njit(cache=True, nogil=True)(_unique_pairs_few)
    _counting_order = njit(cache=True, nogil=True)(_counting_order)
    _unique_pairs_fast = njit(cache=True, nogil=True)(_unique_pairs)
else:  # pragma: no cover
    _unique_pairs_fast, _unique_pairs_few_fast = _unique_pairs, _unique_pairs_few

#: Distinct b per a up to which the small-table kernel is tried first.
FEW = 8


def unique_pairs(keys_a: np.ndarray, keys_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (a, b) pairs (sorted by a, then b) as (U, 2) int64, and each input's row among
    them (K,) int64. ``keys_a`` (K,) and ``keys_b`` (K,) int (b may be -1: no second id); keys
    spanning more than a few times the entries' count go through the reference's sort."""
    a = np.asarray(keys_a, dtype=np.int64)
    b = np.asarray(keys_b, dtype=np.int64)
    if len(a) == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
    span_b = int(b.max()) - int(b.min()) + 1
    if a.min() < 0 or int(a.max()) + span_b > 4 * len(a) + (1 << 20):
        return unique_pairs_reference(a, b)
    ok, ua, ub, inverse = _unique_pairs_few_fast(a, b, int(a.max()) + 1, FEW)
    if ok:
        return np.c_[ua, ub], inverse
    b_lo = int(b.min())
    ua, ub, inverse = _unique_pairs_fast(a, b, int(a.max()) + 1, b_lo, int(b.max()) - b_lo + 1)
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
