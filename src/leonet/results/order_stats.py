"""Exact order statistics of a float32 column too long to hold, by radix selection chunk by chunk.

The k-th smallest of N float32 values is found without sorting them: each value maps to a 32-bit
unsigned key with the same order (sign bit flipped for positives, all bits flipped for
negatives); a first pass over the chunks counts the top 16 bits of the keys, which places every
wanted rank in one bucket; two more passes count the next 8 and the last 8 bits of the keys that
fall in the wanted buckets only. Memory: 65,536 counters plus 256 per wanted rank, whatever N;
time: three reads of the column. The result equals ``np.sort(values)[ranks]`` exactly.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

_SIGN = np.uint32(0x80000000)


def sortable_keys(values: np.ndarray) -> np.ndarray:
    """(N,) uint32 keys of float32 ``values`` (no NaN) in the same order as the values."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    return np.where(bits & _SIGN, ~bits, bits | _SIGN)


def values_of_keys(keys: np.ndarray) -> np.ndarray:
    """The float32 values of :func:`sortable_keys` keys."""
    keys = np.asarray(keys, dtype=np.uint32)
    return np.where(keys & _SIGN, keys & ~_SIGN, ~keys).astype(np.uint32).view(np.float32)


def _refine(chunks: Callable[[], Iterable[np.ndarray]], prefixes: np.ndarray, ranks: np.ndarray,
            shift: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """One pass: the ``width`` bits below ``shift + width`` of keys whose prefix (bits above) is in
    ``prefixes`` (sorted unique), counted per prefix; returns each rank's longer prefix and its rank
    within it. ``ranks`` are ranks within the rank's current prefix; ``prefixes`` per rank."""
    wanted = np.unique(prefixes)
    counts = np.zeros(len(wanted) << width, dtype=np.int64)
    for keys in chunks():
        top = keys >> np.uint32(shift + width)
        row = np.searchsorted(wanted, top)
        row[row == len(wanted)] = 0
        hit = wanted[row] == top
        sub = (keys[hit] >> np.uint32(shift)) & np.uint32((1 << width) - 1)
        counts += np.bincount((row[hit].astype(np.int64) << width) + sub, minlength=len(counts))
    counts = counts.reshape(len(wanted), 1 << width)
    cum = np.cumsum(counts, axis=1)
    row = np.searchsorted(wanted, prefixes)
    digit = np.array([np.searchsorted(cum[r], k, side="right") for r, k in zip(row, ranks)], dtype=np.int64)
    below = np.where(digit > 0, cum[row, np.maximum(digit - 1, 0)], 0)
    return (prefixes.astype(np.int64) << width) + digit, ranks - below


def order_statistics(chunks: Callable[[], Iterable[np.ndarray]], ranks) -> np.ndarray:
    """float32 values at 0-based ``ranks`` of the sorted concatenation of the float32 arrays that
    ``chunks()`` yields (called three times; NaN must be removed by the caller). ``ranks`` may be
    a function of the number of values, called once after the first pass."""
    def keys():
        for values in chunks():
            yield sortable_keys(values)

    top = np.zeros(1 << 16, dtype=np.int64)
    for k in keys():
        top += np.bincount(k >> np.uint32(16), minlength=1 << 16)
    cum = np.cumsum(top)
    ranks = np.asarray(ranks(int(cum[-1])) if callable(ranks) else ranks, dtype=np.int64)
    if len(ranks) == 0:
        return np.zeros(0, dtype=np.float32)
    if ranks.min() < 0 or ranks.max() >= cum[-1]:
        raise ValueError(f"ranks must lie in 0..{cum[-1] - 1}")
    prefix = np.searchsorted(cum, ranks, side="right")
    within = ranks - np.where(prefix > 0, cum[np.maximum(prefix - 1, 0)], 0)
    prefix, within = _refine(keys, prefix, within, 8, 8)
    prefix, within = _refine(keys, prefix, within, 0, 8)
    return values_of_keys(prefix.astype(np.uint32))


def ecdf_points(chunks: Callable[[], Iterable[np.ndarray]], max_points: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Empirical CDF of the finite float32 values that ``chunks()`` yields, thinned to at most
    ``max_points`` points: (values, shares, n) with values and shares float32 and n the number of
    finite values; equal to sorting them all and taking the values at
    ``unique(round(linspace(0, n - 1, min(n, max_points))))`` with shares (i + 1) / n."""
    def finite():
        for values in chunks():
            v = np.asarray(values, dtype=np.float32)
            yield v[np.isfinite(v)]

    found = {}

    def ranks(n: int) -> np.ndarray:
        found["n"] = n
        return np.unique(np.linspace(0, n - 1, min(n, max_points)).round().astype(np.int64)) if n else np.zeros(0, np.int64)

    x = order_statistics(finite, ranks)
    n = found["n"]
    return x, ((ranks(n) + 1) / max(n, 1)).astype(np.float32), n
