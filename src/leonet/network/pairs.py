"""Routes between pairs of ground stations, with Hypatia's semantics.

A ground station links to every satellite within its visibility rule; satellites relay over
ISLs; ground stations never relay. Each station is split into an "out" node (edges only to
satellites) and an "in" node (edges only from satellites), so no path can pass through a third
station. One Dijkstra per destination, over the reversed graph, gives every node's next hop toward
that destination: the forwarding state that Hypatia's ns-3 module consumes.

Node numbering: satellites ``0..N-1``, station out-nodes ``N..N+S-1``, in-nodes ``N+S..N+2S-1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..constants import SPEED_OF_LIGHT_M_PER_S
from .dijkstra import shortest_paths

try:  # numba compiles the path walk once per machine (cached on disk)
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency
    njit = None


@dataclass(frozen=True)
class PairRoutes:
    """Routes for pairs (src[i], dst[i]) of stations at one instant.

    Attributes
    ----------
    one_way_s : (M,) one-way propagation delay, inf if unreachable. RTT = 2 x this.
    hops : (M,) links on the path (station-satellite, ISLs, satellite-station); -1 if unreachable.
    path_sats : (M, L) satellites along the path from src to dst, padded with -1.
    """

    one_way_s: np.ndarray
    hops: np.ndarray
    path_sats: np.ndarray


@dataclass(frozen=True)
class ForwardingState:
    """Next hop of every node toward each destination station (Dijkstra on the reversed graph).

    ``next_hop[k, v]``: node after v on the shortest path from v to station ``dests[k]``'s in-node;
    -1 where v cannot reach it. ``delay_s[k, v]``: the delay of that path.
    """

    dests: np.ndarray
    next_hop: np.ndarray
    delay_s: np.ndarray
    n_sats: int
    n_stations: int

    def out_node(self, station):
        return self.n_sats + np.asarray(station)

    def in_node(self, station):
        return self.n_sats + self.n_stations + np.asarray(station)


def _csr_from_edges(n, rows, cols, vals):
    """CSR arrays of the (rows[i], cols[i]) -> vals[i] entries of an (n, n) matrix, as scipy builds
    them from COO: columns sorted within each row. Returns nnz = -1 if an entry is given twice
    (scipy would sum them, in an order of its sort's choosing)."""
    m = len(rows)
    indptr = np.zeros(n + 1, np.int64)
    for i in range(m):
        indptr[rows[i] + 1] += 1
    for r in range(n):
        indptr[r + 1] += indptr[r]
    fill = indptr[:-1].copy()
    indices = np.empty(m, np.int32)
    data = np.empty(m, np.float64)
    for i in range(m):
        r = rows[i]
        indices[fill[r]] = cols[i]
        data[fill[r]] = vals[i]
        fill[r] += 1
    for r in range(n):
        lo, hi = indptr[r], indptr[r + 1]
        for j in range(lo + 1, hi):  # insertion sort by column, stable (rows are short)
            c, v = indices[j], data[j]
            k = j - 1
            while k >= lo and indices[k] > c:
                indices[k + 1] = indices[k]
                data[k + 1] = data[k]
                k -= 1
            indices[k + 1] = c
            data[k + 1] = v
        for j in range(lo + 1, hi):
            if indices[j] == indices[j - 1]:
                return indptr, indices, data, -1
    return indptr, indices, data, m


_csr_from_edges_fast = njit(cache=True, nogil=True)(_csr_from_edges) if njit is not None else _csr_from_edges


def _station_edges(n_sats, n_stations, isl_links, isl_length_m, gsl_station, gsl_sat, gsl_range_m):
    c = SPEED_OF_LIGHT_M_PER_S
    isl = np.asarray(isl_links, dtype=np.int64).reshape(-1, 2)
    st = np.asarray(gsl_station, dtype=np.int64)
    sat = np.asarray(gsl_sat, dtype=np.int64)
    rows = np.concatenate([isl[:, 0], isl[:, 1], n_sats + st, sat])
    cols = np.concatenate([isl[:, 1], isl[:, 0], sat, n_sats + n_stations + st])
    d_isl = np.asarray(isl_length_m, dtype=np.float64) / c
    d_gsl = np.asarray(gsl_range_m, dtype=np.float64) / c
    delay = np.maximum(np.concatenate([d_isl, d_isl, d_gsl, d_gsl]), 1e-12)
    return rows, cols, delay


def station_graph(n_sats: int, n_stations: int, isl_links: np.ndarray, isl_length_m: np.ndarray,
                  gsl_station: np.ndarray, gsl_sat: np.ndarray, gsl_range_m: np.ndarray) -> sp.csr_matrix:
    """CSR graph of one-way delays (s) with split station nodes (see module docstring).

    Parameters
    ----------
    isl_links : int (E, 2) satellite pairs; isl_length_m : (E,) metres.
    gsl_station, gsl_sat, gsl_range_m : (G,) ground links: station number, satellite, range (m).

    Returns a CSR (n, n), n = n_sats + 2 n_stations, columns sorted within rows (built by a
    compiled kernel; identical to :func:`station_graph_reference`, scipy's COO conversion).

    Raises ValueError if a link is given twice (an ISL listed as both (a, b) and (b, a), or a
    station-satellite pair twice): scipy would silently add the two delays.
    """
    rows, cols, delay = _station_edges(n_sats, n_stations, isl_links, isl_length_m, gsl_station, gsl_sat,
                                       gsl_range_m)
    n = n_sats + 2 * n_stations
    for name, ids, limit in (("isl_links", isl_links, n_sats), ("gsl_sat", gsl_sat, n_sats),
                             ("gsl_station", gsl_station, n_stations)):
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= limit):
            raise ValueError(f"station_graph: {name} holds a number outside 0..{limit - 1}")
    indptr, indices, data, nnz = _csr_from_edges_fast(n, rows, cols, delay)
    if nnz < 0:
        raise ValueError("station_graph: a link is given twice (ISLs must be unique undirected pairs, "
                         "ground links unique station-satellite pairs)")
    matrix = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    matrix.has_sorted_indices = True
    return matrix


def station_graph_reference(n_sats: int, n_stations: int, isl_links: np.ndarray, isl_length_m: np.ndarray,
                            gsl_station: np.ndarray, gsl_sat: np.ndarray, gsl_range_m: np.ndarray) -> sp.csr_matrix:
    """:func:`station_graph` through scipy's COO -> CSR conversion (the reference)."""
    rows, cols, delay = _station_edges(n_sats, n_stations, isl_links, isl_length_m, gsl_station, gsl_sat,
                                       gsl_range_m)
    n = n_sats + 2 * n_stations
    return sp.csr_matrix((delay, (rows, cols)), shape=(n, n))


def forwarding_state(matrix: sp.csr_matrix, n_sats: int, n_stations: int, dests: np.ndarray) -> ForwardingState:
    dests = np.asarray(dests, dtype=np.int64)
    in_nodes = n_sats + n_stations + dests
    if len(dests) == 0:
        z = np.zeros((0, matrix.shape[0]))
        return ForwardingState(dests, z.astype(np.int32), z, n_sats, n_stations)
    dist, next_hop = shortest_paths(matrix.T.tocsr(), in_nodes)
    return ForwardingState(dests, next_hop, dist, n_sats, n_stations)


#: Paths walked side by side in the compiled walk: independent chains of loads overlap in the CPU.
_LANES = 8


def _walk_lanes(flat_next, n, rows, start, target, ok, path, hops, write):
    """Walk every reachable pair's path, ``_LANES`` pairs at a time (a finished lane takes the
    next pair). With ``write`` False, sets ``hops`` (satellites on the path + 1) and returns the
    most satellites on a path; with ``write`` True, fills ``path`` (rows padded with -1)."""
    m = len(rows)
    lane_pair = np.full(_LANES, -1, np.int64)
    lane_cur = np.zeros(_LANES, np.int64)
    lane_base = np.zeros(_LANES, np.int64)
    lane_len = np.zeros(_LANES, np.int64)
    width = 0
    nxt = 0
    busy = 0
    while True:
        for lane in range(_LANES):  # refill idle lanes
            if lane_pair[lane] < 0:
                while nxt < m and not ok[nxt]:
                    nxt += 1
                if nxt < m:
                    lane_pair[lane] = nxt
                    lane_base[lane] = rows[nxt] * n
                    lane_cur[lane] = flat_next[lane_base[lane] + start[nxt]]
                    lane_len[lane] = 0
                    busy += 1
                    nxt += 1
        if busy == 0:
            return width
        for lane in range(_LANES):
            i = lane_pair[lane]
            if i < 0:
                continue
            cur = lane_cur[lane]
            if cur == target[i]:
                if not write:
                    hops[i] = lane_len[lane] + 1
                    width = max(width, lane_len[lane])
                lane_pair[lane] = -1
                busy -= 1
                continue
            if cur < 0 or lane_len[lane] >= n:
                raise ValueError("route_pairs: the forwarding state breaks off or loops on a reachable path")
            if write:
                path[i, lane_len[lane]] = cur
            lane_len[lane] += 1
            lane_cur[lane] = flat_next[lane_base[lane] + cur]


def _walk_paths(next_hop, rows, start, target, ok):
    """The satellites on each pair's path, padded with -1, and its hop count.

    next_hop : int32 (K, n) forwarding state (C order); rows, start, target : int64 (M,) the pair's
    row in ``next_hop``, its out-node and its in-node; ok : bool (M,) whether it is reachable.
    Returns path int32 (M, L) with L the most satellites on any path, hops int32 (M,) (-1 where
    not ok; otherwise the satellites on the path + 1).
    """
    m = len(rows)
    n = next_hop.shape[1]
    flat = next_hop.ravel()
    hops = np.full(m, -1, np.int32)
    path = np.empty((0, 0), np.int32)
    width = _walk_lanes_fast(flat, n, rows, start, target, ok, path, hops, False)
    path = np.full((m, width), -1, np.int32)
    _walk_lanes_fast(flat, n, rows, start, target, ok, path, hops, True)
    return path, hops


_walk_lanes_fast = njit(cache=True, nogil=True)(_walk_lanes) if njit is not None else _walk_lanes
_walk_paths_fast = njit(cache=True, nogil=True)(_walk_paths) if njit is not None else _walk_paths


def route_pairs(state: ForwardingState, src: np.ndarray, dst: np.ndarray) -> PairRoutes:
    """Follow the forwarding state from each src's out-node to its dst's in-node (a compiled
    walk; :func:`route_pairs_reference` is the same walk vectorised in numpy)."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    m = len(src)
    rows = _dest_rows(state, dst)
    start = state.out_node(src)
    one_way = state.delay_s[rows, start] if m else np.zeros(0)
    ok = np.isfinite(one_way)
    path, hops = _walk_paths_fast(np.ascontiguousarray(state.next_hop, dtype=np.int32), rows, start.astype(np.int64),
                                  state.in_node(dst).astype(np.int64), ok)
    return PairRoutes(one_way_s=one_way, hops=hops, path_sats=path)


def _dest_rows(state: ForwardingState, dst: np.ndarray) -> np.ndarray:
    """Row of each destination in the forwarding state; ValueError if one has none."""
    m = len(dst)
    order = np.argsort(state.dests)
    pos = np.searchsorted(state.dests, dst, sorter=order)
    if m and (pos.max() >= len(order) or (state.dests[order[np.minimum(pos, len(order) - 1)]] != dst).any()):
        raise ValueError("route_pairs: a destination has no forwarding state")
    return order[pos] if m else np.zeros(0, dtype=np.int64)


def route_pairs_reference(state: ForwardingState, src: np.ndarray, dst: np.ndarray) -> PairRoutes:
    """:func:`route_pairs` walked in numpy, vectorised over the pairs (the reference the compiled
    walk is tested against)."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    m = len(src)
    order = np.argsort(state.dests)
    pos = np.searchsorted(state.dests, dst, sorter=order)
    if m and (pos.max() >= len(order) or (state.dests[order[np.minimum(pos, len(order) - 1)]] != dst).any()):
        raise ValueError("route_pairs: a destination has no forwarding state")
    rows = order[pos] if m else np.zeros(0, dtype=np.int64)
    n_nodes = state.next_hop.shape[1]
    flat_next = state.next_hop.reshape(-1)
    start = state.out_node(src)
    one_way = state.delay_s[rows, start] if m else np.zeros(0)
    ok = np.isfinite(one_way)
    hops = np.where(ok, 1, -1).astype(np.int32)
    target = state.in_node(dst)
    # Walk only the pairs still on their way; `live` indexes into the pairs.
    live = np.flatnonzero(ok)
    cur = flat_next[rows[live] * n_nodes + start[live]].astype(np.int64)
    keep = cur != target[live]
    live, cur = live[keep], cur[keep]
    cols: list[tuple[np.ndarray, np.ndarray]] = []
    while len(live):
        cols.append((live, cur.astype(np.int32)))
        hops[live] += 1
        cur = flat_next[rows[live] * n_nodes + cur].astype(np.int64)
        keep = cur != target[live]
        live, cur = live[keep], cur[keep]
    path = np.full((m, len(cols)), -1, dtype=np.int32)
    for k, (who, node) in enumerate(cols):
        path[who, k] = node
    return PairRoutes(one_way_s=one_way, hops=hops, path_sats=path)
