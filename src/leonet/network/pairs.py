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


def station_graph(n_sats: int, n_stations: int, isl_links: np.ndarray, isl_length_m: np.ndarray,
                  gsl_station: np.ndarray, gsl_sat: np.ndarray, gsl_range_m: np.ndarray) -> sp.csr_matrix:
    """CSR graph of one-way delays (s) with split station nodes (see module docstring)."""
    c = SPEED_OF_LIGHT_M_PER_S
    isl = np.asarray(isl_links, dtype=np.int64).reshape(-1, 2)
    st = np.asarray(gsl_station, dtype=np.int64)
    sat = np.asarray(gsl_sat, dtype=np.int64)
    rows = np.concatenate([isl[:, 0], isl[:, 1], n_sats + st, sat])
    cols = np.concatenate([isl[:, 1], isl[:, 0], sat, n_sats + n_stations + st])
    d_isl = np.asarray(isl_length_m, dtype=np.float64) / c
    d_gsl = np.asarray(gsl_range_m, dtype=np.float64) / c
    delay = np.maximum(np.concatenate([d_isl, d_isl, d_gsl, d_gsl]), 1e-12)
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


def route_pairs(state: ForwardingState, src: np.ndarray, dst: np.ndarray) -> PairRoutes:
    """Follow the forwarding state from each src's out-node to its dst's in-node (vectorised)."""
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
