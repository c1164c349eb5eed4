"""Compiled water-level search of :func:`leonet.service.traffic.speed_test_bps` (numba), equal to
its numpy reference (:func:`leonet.service.traffic.speed_test_bps_reference`) bit for bit.

The reference bisects every (probe, link) pair at once, a dozen numpy passes per round over all
pairs until the longest link (a gateway with thousands of flows) is settled. The kernel runs the
same bisection pair by pair (the same midpoints, the same load formula, so the same answer) and
keeps each probe's lowest level in the same order as ``np.minimum.at``.
"""

from __future__ import annotations

import numpy as np


def _water_levels(pair_probe, s0, n_l, w_p, r_p, c, sorted_rate, cum_wr, cum_w, cap):
    """(P,) each probe's rate, bps: the lowest water level over its pairs, and its cap."""
    out = cap.astype(np.float64).copy()
    for q in range(len(s0)):
        start = s0[q]
        end = start + n_l[q]
        wp, rp, cq = w_p[q], r_p[q], c[q]
        lo = -1
        hi = n_l[q]
        while hi - lo > 1:                      # largest k with load(k) <= C, as the reference
            mid = (lo + hi) // 2
            e = start + mid
            x = sorted_rate[e]
            d = x - rp
            if d < 0.0:                         # np.maximum(d, 0.0)
                d = 0.0
            load = (cum_wr[e] - cum_wr[start]) + x * (cum_w[end] - cum_w[e]) + wp * d
            if load <= cq:
                lo = mid
            else:
                hi = mid
        k = lo + 1
        s = cum_wr[start + k] - cum_wr[start]
        w_rest = cum_w[end] - cum_w[start + k]
        if np.isinf(cq):
            level = np.inf
        else:
            x_above = (cq - s + wp * rp) / (w_rest + wp)
            if x_above >= rp * (1 - 1e-9) or w_rest <= 0:
                level = x_above
            elif w_rest > 0:
                level = (cq - s) / w_rest
            else:
                level = np.inf
            if level < 0.0:                     # np.maximum(level, 0.0)
                level = 0.0
        p = pair_probe[q]
        if not (out[p] <= level or np.isnan(out[p])):   # np.minimum(out, level)
            out[p] = level
    return out


try:  # numba compiles the kernel once per machine (cached on disk)
    from numba import njit

    _water_levels_fast = njit(cache=True, nogil=True, error_model="numpy")(_water_levels)
    COMPILED = True
except ImportError:  # pragma: no cover - numba is a dependency
    COMPILED = False


def water_levels(pair_probe, s0, n_l, w_p, r_p, c, sorted_rate, cum_wr, cum_w, cap) -> np.ndarray:
    """Each probe's speed-test rate (P,) bps from its (probe, link) pairs (arguments as
    :func:`leonet.service.traffic._speed_test_pairs` returns them)."""
    as_f = lambda v: np.ascontiguousarray(v, dtype=np.float64)  # noqa: E731
    as_i = lambda v: np.ascontiguousarray(v, dtype=np.int64)  # noqa: E731
    return _water_levels_fast(as_i(pair_probe), as_i(s0), as_i(n_l), as_f(w_p), as_f(r_p), as_f(c),
                              as_f(sorted_rate), as_f(cum_wr), as_f(cum_w), as_f(cap))
