"""Compiled kernels for the flows x links matrix of the capacity model (numba), each equal to the
scipy/numpy code it replaces (``*_reference`` in :mod:`leonet.capacity.model`; tests compare):

- :func:`canonical_csr`: the (F, L) CSR matrix of entries (flow, link, weight) in canonical form
  (each row's links sorted; what ``sp.csr_matrix((data, (rows, cols)))`` gives when no (flow,
  link) repeats), by a counting sort of the rows and an insertion sort of each row's few links;
- :func:`carried_and_speedtest`: bits carried per link and each flow's speed test, with the
  per-link sums accumulated in flow order as scipy's transposed CSR product does;
- :func:`row_max_of`: the busiest link on each route (a row maximum).
"""

from __future__ import annotations

import numpy as np

try:  # numba compiles the kernels once per machine (cached on disk)
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency
    njit = None


def _canonical_csr(rows, cols, data, n_rows):
    """indptr (F+1,), indices (K,), data (K,) and whether a (row, col) repeats (then the output
    is not valid: the caller falls back to scipy, which sums repeats)."""
    n = len(rows)
    indptr = np.zeros(n_rows + 1, np.int64)
    for i in range(n):
        indptr[rows[i] + 1] += 1
    for r in range(n_rows):
        indptr[r + 1] += indptr[r]
    fill = indptr[:-1].copy()
    indices = np.empty(n, np.int64)
    values = np.empty(n)
    for i in range(n):   # stable: each row keeps its entries' input order
        p = fill[rows[i]]
        indices[p] = cols[i]
        values[p] = data[i]
        fill[rows[i]] += 1
    for r in range(n_rows):
        if _sort_row(indices, values, indptr[r], indptr[r + 1]):
            return indptr, indices, values, True
    return indptr, indices, values, False


def _sort_row(indices, values, lo, hi):
    """Insertion-sort entries lo..hi-1 by column (stable, values alongside); True when two
    entries share a column."""
    for q in range(lo + 1, hi):
        c, v = indices[q], values[q]
        w = q
        while w > lo and indices[w - 1] > c:
            indices[w] = indices[w - 1]
            values[w] = values[w - 1]
            w -= 1
        indices[w] = c
        values[w] = v
    for q in range(lo + 1, hi):
        if indices[q] == indices[q - 1]:
            return True
    return False


def _merged_csr(rows, cols, data, part_start, n_rows):
    """The same for entries made of parts (``part_start`` (P+1,) bounds) whose rows are each
    sorted: row by row, each part's run of entries in part order (sequential reads and writes,
    no scatter), then an insertion sort of the row."""
    n_parts = len(part_start) - 1
    n = len(rows)
    indptr = np.zeros(n_rows + 1, np.int64)
    indices = np.empty(n, np.int64)
    values = np.empty(n)
    at = part_start[:-1].copy()
    e = 0
    for r in range(n_rows):
        lo = e
        for p in range(n_parts):
            q = at[p]
            end = part_start[p + 1]
            while q < end and rows[q] == r:
                indices[e] = cols[q]
                values[e] = data[q]
                e += 1
                q += 1
            at[p] = q
        if _sort_row(indices, values, lo, e):
            return indptr, indices, values, True
        indptr[r + 1] = e
    return indptr, indices, values, e != n


def _carried_and_speedtest(indptr, indices, data, n_links, capacity, rate, mult):
    n_flows = len(indptr) - 1
    link_bits = np.zeros(n_links)
    load = np.zeros(n_links)
    for f in range(n_flows):
        for j in range(indptr[f], indptr[f + 1]):
            link_bits[indices[j]] += mult[f] * rate[f]
            load[indices[j]] += data[j] * rate[f]
    slack = np.empty(n_links)
    for k in range(n_links):
        x = capacity[k] - load[k]
        slack[k] = x if (x >= 0.0 or x != x) else 0.0
    available = np.zeros(n_flows)
    for f in range(n_flows):
        lo, hi = indptr[f], indptr[f + 1]
        if hi == lo:
            continue
        m = 0.0
        for j in range(lo, hi):
            x = rate[f] + slack[indices[j]] / (data[j] / mult[f])
            if j == lo or not (m <= x or m != m):
                m = x
        available[f] = m
    return link_bits, available


def _row_max(indptr, indices, values):
    """Per row, numpy's maximum (NaN-propagating) of ``values[indices]`` over its entries; 0 for
    an empty row."""
    n = len(indptr) - 1
    out = np.zeros(n)
    for r in range(n):
        lo, hi = indptr[r], indptr[r + 1]
        if hi == lo:
            continue
        m = values[indices[lo]]
        for j in range(lo + 1, hi):
            x = values[indices[j]]
            if not (m >= x or m != m):
                m = x
        out[r] = m
    return out


if njit is not None:
    _sort_row = njit(cache=True, nogil=True)(_sort_row)
    _row_max_fast = njit(cache=True, nogil=True)(_row_max)
    _merged_csr_fast = njit(cache=True, nogil=True)(_merged_csr)
    _canonical_csr_fast = njit(cache=True, nogil=True)(_canonical_csr)
    _carried_and_speedtest_fast = njit(cache=True, nogil=True)(_carried_and_speedtest)
else:  # pragma: no cover
    _canonical_csr_fast, _carried_and_speedtest_fast = _canonical_csr, _carried_and_speedtest
    _merged_csr_fast, _row_max_fast = _merged_csr, _row_max


def canonical_csr(rows, cols, data, shape):
    """The CSR matrix of entries (rows, cols, data) (K,), shape (F, L), as scipy builds it from
    COO (float64 data, canonical form). Each may also be a list of parts (concatenated in order);
    parts whose rows are each sorted are merged row by row without a counting sort."""
    import scipy.sparse as sp

    if isinstance(rows, (list, tuple)):
        p_rows = [np.asarray(r, dtype=np.int64) for r in rows]
        bounds = np.cumsum([0] + [len(r) for r in p_rows]).astype(np.int64)
        rows, cols, data = np.concatenate(p_rows), np.concatenate(cols), np.concatenate(data)
        if all(not np.any(r[1:] < r[:-1]) for r in p_rows) and (not len(rows) or (rows.min() >= 0 and rows.max() < shape[0])):
            indptr, indices, values, repeats = _merged_csr_fast(rows, np.asarray(cols, dtype=np.int64),
                                                                np.asarray(data, dtype=np.float64), bounds,
                                                                int(shape[0]))
            if not repeats:
                return _csr(values, indices, indptr, shape)
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    data = np.asarray(data, dtype=np.float64)
    indptr, indices, values, repeats = _canonical_csr_fast(rows, cols, data, int(shape[0]))
    if repeats:
        return sp.csr_matrix((data, (rows, cols)), shape=shape)
    return _csr(values, indices, indptr, shape)


def _csr(values, indices, indptr, shape):
    import scipy.sparse as sp

    index_dtype = np.int32 if max(len(values), *shape) < np.iinfo(np.int32).max else np.int64
    out = sp.csr_matrix((values, indices.astype(index_dtype), indptr.astype(index_dtype)), shape=shape)
    out.has_canonical_format = True
    return out


def carried_and_speedtest(routing, capacity: np.ndarray, rate_bps: np.ndarray, mult: np.ndarray):
    """(L,) bits per second carried by each link and (F,) each flow's speed test (see
    :func:`leonet.capacity.model._carried_and_speedtest_reference`)."""
    return _carried_and_speedtest_fast(routing.indptr, routing.indices,
                                       np.asarray(routing.data, dtype=np.float64), int(routing.shape[1]),
                                       np.asarray(capacity, dtype=np.float64), np.asarray(rate_bps, dtype=np.float64),
                                       np.asarray(mult, dtype=np.float64))


def row_max_of(routing, values: np.ndarray) -> np.ndarray:
    """(F,) the largest of ``values`` (L,) over each row's links of the CSR ``routing`` (F, L)
    (0 for an empty row), as ``np.maximum.reduceat`` gives it."""
    return _row_max_fast(routing.indptr, routing.indices, np.asarray(values, dtype=np.float64))
