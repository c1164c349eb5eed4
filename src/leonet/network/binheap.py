"""A binary min-heap over two parallel arrays (keys, values), for the compiled shortest-path
searches (:mod:`leonet.network.incremental`, :mod:`leonet.network.routekernels`).

The caller owns the arrays (sized for every push it may make) and the current size; both
functions return the new size. Ties keep no particular order.
"""

from __future__ import annotations


def heap_push(keys, vals, size, key, val):
    """Add (key, val) to the heap of ``size`` entries; returns size + 1."""
    i = size
    keys[i] = key
    vals[i] = val
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= keys[i]:
            break
        keys[i], keys[parent] = keys[parent], keys[i]
        vals[i], vals[parent] = vals[parent], vals[i]
        i = parent
    return size + 1


def heap_pop(keys, vals, size):
    """Remove the smallest entry (the caller reads keys[0], vals[0] first); returns size - 1."""
    size -= 1
    keys[0] = keys[size]
    vals[0] = vals[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        c = left
        if left + 1 < size and keys[left + 1] < keys[left]:
            c = left + 1
        if keys[i] <= keys[c]:
            break
        keys[i], keys[c] = keys[c], keys[i]
        vals[i], vals[c] = vals[c], vals[i]
        i = c
    return size


try:  # numba compiles them once per machine (cached on disk)
    from numba import njit

    heap_push = njit(cache=True, nogil=True)(heap_push)
    heap_pop = njit(cache=True, nogil=True)(heap_pop)
except ImportError:  # pragma: no cover - numba is a dependency
    pass
