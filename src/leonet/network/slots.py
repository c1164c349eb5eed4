"""Starlink's 15 s reconfiguration slots and the assignment of a serving satellite to each dish.

Measurements show the user-to-satellite assignment changing on a global 15 s schedule, at UTC
seconds 12, 27, 42 and 57 of each minute (Mohan et al., WWW 2024; community measurements; see
REFERENCE.md). A dish is assigned once per slot, at the slot's start, and keeps that satellite for
the slot. Because the assignment depends only on the slot's start time, any step can be computed
on its own: the dish's satellite at t is chosen from the sky at ``slot_start(t)``. Period and
offset are the scenario's (``network.slots.period_s``, ``offset_s``; 15 s and 12 s by default).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import NS_PER_S

POLICIES = ("highest-elevation", "longest-visibility", "load-aware")


@dataclass(frozen=True)
class SlotClock:
    """Slots of ``period_s`` seconds whose boundaries fall ``offset_s`` seconds after each period
    boundary counted from the Unix epoch (offset 12, period 15 -> UTC seconds 12, 27, 42, 57)."""

    period_s: float = 15.0
    offset_s: float = 12.0

    @property
    def period_ns(self) -> int:
        return int(round(self.period_s * NS_PER_S))

    @property
    def offset_ns(self) -> int:
        return int(round(self.offset_s * NS_PER_S))

    def slot_start(self, t_ns: np.ndarray) -> np.ndarray:
        """Start (int64 ns) of the slot that contains each instant."""
        t = np.asarray(t_ns, dtype=np.int64)
        k = np.floor_divide(t - self.offset_ns, self.period_ns)
        return k * self.period_ns + self.offset_ns


def best_row_per_site(site: np.ndarray, value: np.ndarray, n_sites: int) -> np.ndarray:
    """Row of the largest ``value`` per site (ties: the first row), -1 for sites with no row.

    O(K) for rows sorted by site (as visibility pairs are, by (site, sat), so ties go to the
    lowest satellite index); other orders are sorted first.
    """
    out = np.full(n_sites, -1, dtype=np.int64)
    k = len(site)
    if k == 0:
        return out
    if _best_rows_sorted_fast is not None and not np.any(site[1:] < site[:-1]):
        return _best_rows_sorted_fast(np.asarray(site, dtype=np.int64), np.asarray(value, dtype=np.float64), out)
    return best_row_per_site_reference(site, value, n_sites)


def best_row_per_site_reference(site: np.ndarray, value: np.ndarray, n_sites: int) -> np.ndarray:
    """:func:`best_row_per_site` with numpy segment reductions (the reference)."""
    out = np.full(n_sites, -1, dtype=np.int64)
    k = len(site)
    if k == 0:
        return out
    order = None
    if np.any(site[1:] < site[:-1]):
        order = np.argsort(site, kind="stable")
        site, value = site[order], value[order]
    starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])
    seg_max = np.maximum.reduceat(value, starts)
    counts = np.diff(np.r_[starts, k])
    is_max = value == np.repeat(seg_max, counts)
    first = np.minimum.reduceat(np.where(is_max, np.arange(k), k), starts)
    rows = first if order is None else order[first]
    out[site[starts]] = rows
    return out


def _best_rows_sorted(site, value, out):
    """best_row_per_site for rows sorted by site, in one pass per segment: the segment's maximum
    (NaN if any value is NaN, as numpy's maximum), then its first row equal to it (none for NaN:
    the reference then gives the row count, k)."""
    k = len(site)
    lo = 0
    while lo < k:
        hi = lo + 1
        while hi < k and site[hi] == site[lo]:
            hi += 1
        m = value[lo]
        for j in range(lo + 1, hi):
            x = value[j]
            if m == m and (x != x or x > m):
                m = x
        first = k
        for j in range(lo, hi):
            if value[j] == m:
                first = j
                break
        out[site[lo]] = first
        lo = hi
    return out


try:  # numba compiles the kernel once per machine (cached on disk)
    from numba import njit

    _best_rows_sorted_fast = njit(cache=True, nogil=True)(_best_rows_sorted)
except ImportError:  # pragma: no cover - numba is a dependency
    _best_rows_sorted_fast = None


def choose_serving(
    site: np.ndarray, sat: np.ndarray, elevation_deg: np.ndarray, n_sites: int,
    remaining_s: np.ndarray | None = None, policy: str = "highest-elevation",
) -> np.ndarray:
    """The serving satellite of each site, from the pairs in view at the slot start.

    Parameters
    ----------
    site, sat, elevation_deg : (K,) arrays of the pairs in view at the slot's start.
    n_sites : number of sites; sites with no pair get -1.
    remaining_s : (K,) seconds each pair stays in view from the slot start (for
        ``longest-visibility``); ties are broken by elevation.
    policy : ``"highest-elevation"`` (default) or ``"longest-visibility"``.

    Returns
    -------
    int32 (n_sites,) satellite index, -1 where nothing is in view.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown slot policy {policy!r}; expected one of {POLICIES}")
    if policy == "load-aware":
        raise ValueError("load-aware assignment needs cells: use spread_over_satellites")
    out = np.full(n_sites, -1, dtype=np.int32)
    if len(site) == 0:
        return out
    if policy == "highest-elevation":
        if np.all(site[1:] >= site[:-1]) and np.all((sat[1:] > sat[:-1]) | (site[1:] != site[:-1])):
            rows = best_row_per_site(site, elevation_deg, n_sites)  # pairs sorted by (site, sat)
            ok = rows >= 0
            out[ok] = sat[rows[ok]]
            return out
        key = (sat, -elevation_deg, site)  # lexsort: last key is primary; sat breaks exact ties
    else:
        if remaining_s is None:
            raise ValueError("longest-visibility needs remaining_s")
        key = (sat, -elevation_deg, -remaining_s, site)
    order = np.lexsort(key)
    s = site[order]
    first = np.r_[True, s[1:] != s[:-1]]
    out[s[first]] = sat[order][first]
    return out


def spread_over_satellites(site: np.ndarray, sat: np.ndarray, elevation_deg: np.ndarray, n_sites: int,
                           cell_of_site: np.ndarray, max_sats_per_cell: int) -> np.ndarray:
    """Load-aware assignment: the dishes of a cell are spread over its best satellites.

    Within each cell, dishes are taken in index order and dealt round-robin over up to
    ``max_sats_per_cell`` of their highest satellites: dish k of its cell takes its
    ``(k mod m)``-th highest satellite, m = min(max_sats_per_cell, satellites it sees). Each
    (satellite, cell) pair is a beam, so a busy cell is served by several beams at once instead of
    one, as an operator balancing load across the satellites in view would do.

    Parameters
    ----------
    site, sat, elevation_deg : (K,) pairs in view; cell_of_site : (n_sites,) cell number.

    Returns
    -------
    int32 (n_sites,) satellite index, -1 where nothing is in view.
    """
    out = np.full(n_sites, -1, dtype=np.int32)
    if len(site) == 0:
        return out
    order = np.lexsort((sat, -elevation_deg, site))
    s_sorted, sat_sorted = site[order], sat[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    counts = np.diff(np.r_[starts, len(s_sorted)])
    sites_seen = s_sorted[starts]
    # Position of each dish within its cell (dishes in index order).
    cell = np.asarray(cell_of_site)[sites_seen]
    by_cell = np.lexsort((sites_seen, cell))
    cell_sorted = cell[by_cell]
    cstarts = np.flatnonzero(np.r_[True, cell_sorted[1:] != cell_sorted[:-1]])
    pos = np.empty(len(sites_seen), dtype=np.int64)
    pos[by_cell] = np.arange(len(by_cell)) - np.repeat(cstarts, np.diff(np.r_[cstarts, len(by_cell)]))
    want = pos % np.minimum(max_sats_per_cell, counts)
    pick = starts + want
    out[sites_seen] = sat_sorted[pick]
    return out
