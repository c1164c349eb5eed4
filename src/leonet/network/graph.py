"""The snapshot graph at one instant: satellites, gateways and PoPs joined by lasers, radio and
fibre, as a scipy CSR matrix of one-way delays in seconds.

Node numbering: satellites ``0..N-1``, then gateways ``N..N+G-1``, then PoPs ``N+G..N+G+P-1``.
Edges are directed so that ground sites never relay between satellites:

- laser ISL: satellite <-> satellite (both directions);
- feeder link: satellite -> gateway (a gateway hands traffic to the ground, never back up);
- fibre: gateway -> its PoP, and PoP <-> PoP along the backbone.

Traffic from dish to internet therefore flows sat -> ... -> sat -> gateway -> PoP (-> PoP). The
reverse direction uses the same links, so RTT = 2 x one-way delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from ..constants import SPEED_OF_LIGHT_M_PER_S

#: scipy's sparse graphs drop zero-weight edges; a co-located gateway and PoP get this instead.
MIN_EDGE_DELAY_S = 1e-12


@dataclass(frozen=True)
class SnapshotGraph:
    """A directed graph of one-way delays (s). ``matrix[i, j]`` is the delay of link i -> j."""

    matrix: sp.csr_matrix
    n_sats: int
    n_gateways: int
    n_pops: int

    @property
    def n_nodes(self) -> int:
        return self.n_sats + self.n_gateways + self.n_pops

    @cached_property
    def reversed_matrix(self) -> sp.csr_matrix:
        """The transposed graph as CSR (edge j -> i at [i, j]), made once per graph."""
        return self.matrix.T.tocsr()

    def gateway_node(self, g):
        return self.n_sats + np.asarray(g)

    def pop_node(self, p):
        return self.n_sats + self.n_gateways + np.asarray(p)


def gateway_links(site: np.ndarray, sat: np.ndarray, elevation_deg: np.ndarray, range_m: np.ndarray,
                  antennas: np.ndarray, island: np.ndarray | None = None,
                  tracked_first: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feeder links: each gateway tracks its highest ``antennas[g]`` satellites in view; with
    ``island``, first the highest satellite of each laser island in view, then the highest of the rest;
    with ``tracked_first`` (K,) bool, the pairs it marks before all others (in the order above).

    Parameters
    ----------
    site, sat, elevation_deg, range_m : (K,) pairs in view (``site`` is the gateway number).
    antennas : (G,) int, antennas per gateway (each tracks one satellite).
    island : (N,) int, each satellite's laser island (connected component of the laser candidates;
        -1: a satellite without lasers), or None (highest only).
    tracked_first : (K,) bool, pairs tracked before any other (a satellite that carries the dishes'
        traffic and stays in the gateway's view for the slot, ``network.gateway_tracking: traffic``),
        or None.

    Returns
    -------
    gateway, sat, range_m of the links kept, each (L,).
    """
    if len(site) == 0:
        return site, sat, range_m
    order = np.lexsort((sat, -elevation_deg, site))
    g = site[order]
    if island is not None:
        # The first (highest) satellite of each (gateway, island) in elevation order leads its island;
        # leaders come first, each group still in elevation order.
        isl = np.asarray(island)[sat[order]]
        key = g.astype(np.int64) * (int(np.max(island, initial=0)) + 2) + (isl + 1)
        _, first = np.unique(key, return_index=True)
        leader = np.zeros(len(g), dtype=bool)
        leader[first] = True
        leader &= isl >= 0
        order = order[np.lexsort((np.arange(len(g)), ~leader, g))]
        g = site[order]
    if tracked_first is not None:
        # stable: the marked satellites come first in each gateway's group, the order above kept within
        marked = np.asarray(tracked_first, dtype=bool)[order]
        order = order[np.lexsort((np.arange(len(g)), ~marked, g))]
        g = site[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(g)]))
    rank = np.arange(len(g)) - group_start
    keep = order[rank < np.asarray(antennas)[g]]
    return site[keep], sat[keep], range_m[keep]


def laser_islands(n_sats: int, candidates: np.ndarray) -> np.ndarray:
    """(N,) int32: each satellite's laser island, the connected component of the laser candidate
    graph it belongs to (0..I-1, largest first is not promised), or -1 for a satellite with no
    laser candidate (bent pipe only)."""
    from scipy.sparse.csgraph import connected_components

    pairs = np.asarray(candidates, dtype=np.int64).reshape(-1, 2)
    adj = sp.csr_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n_sats, n_sats))
    _, label = connected_components(adj, directed=False)
    linked = np.zeros(n_sats, dtype=bool)
    linked[pairs.reshape(-1)] = True
    _, island = np.unique(label[linked], return_inverse=True)
    out = np.full(n_sats, -1, dtype=np.int32)
    out[linked] = island.reshape(-1)
    return out


def build_snapshot_graph(
    n_sats: int, n_gateways: int, n_pops: int,
    isl_links: np.ndarray, isl_length_m: np.ndarray,
    feeder_gateway: np.ndarray, feeder_sat: np.ndarray, feeder_range_m: np.ndarray,
    gateway_pop: np.ndarray, gateway_pop_delay_s: np.ndarray,
    backbone: np.ndarray, backbone_delay_s: np.ndarray,
    descend_at: np.ndarray | None = None,
) -> SnapshotGraph:
    """Assemble the CSR graph.

    Parameters
    ----------
    isl_links : (E, 2) satellite pairs; isl_length_m : (E,).
    feeder_gateway, feeder_sat, feeder_range_m : (L,) feeder links.
    gateway_pop : (G,) PoP of each gateway (-1: none); gateway_pop_delay_s : (G,).
    backbone : (B, 2) PoP pairs; backbone_delay_s : (B,).
    descend_at : (n_sats,) bool or None: satellites whose traffic goes down their own feeder links,
        never on over lasers (``network.landing_route: bent-pipe-first``): their outgoing laser
        edges are left out, their incoming ones kept.
    """
    c = SPEED_OF_LIGHT_M_PER_S
    isl_links = np.asarray(isl_links, dtype=np.int64).reshape(-1, 2)
    isl_length_m = np.asarray(isl_length_m, dtype=np.float64).reshape(-1)
    fwd = rev = slice(None)
    if descend_at is not None:  # a -> b only where a does not descend, b -> a only where b does not
        fwd, rev = ~descend_at[isl_links[:, 0]], ~descend_at[isl_links[:, 1]]
    gw_node = n_sats + np.arange(n_gateways)
    has_pop = np.asarray(gateway_pop) >= 0
    backbone = np.asarray(backbone, dtype=np.int64).reshape(-1, 2)
    pop0 = n_sats + n_gateways
    rows = np.concatenate([
        isl_links[fwd, 0], isl_links[rev, 1],
        feeder_sat,
        gw_node[has_pop],
        pop0 + backbone[:, 0], pop0 + backbone[:, 1],
    ]).astype(np.int64)
    cols = np.concatenate([
        isl_links[fwd, 1], isl_links[rev, 0],
        n_sats + np.asarray(feeder_gateway),
        pop0 + np.asarray(gateway_pop)[has_pop],
        pop0 + backbone[:, 1], pop0 + backbone[:, 0],
    ]).astype(np.int64)
    delay = np.concatenate([
        isl_length_m[fwd] / c, isl_length_m[rev] / c,
        np.asarray(feeder_range_m) / c,
        np.asarray(gateway_pop_delay_s)[has_pop],
        np.asarray(backbone_delay_s), np.asarray(backbone_delay_s),
    ]).astype(np.float64)
    delay = np.maximum(delay, MIN_EDGE_DELAY_S)
    n = n_sats + n_gateways + n_pops
    # Duplicate (row, col) entries would be summed by scipy; callers pass unique links.
    matrix = sp.csr_matrix((delay, (rows, cols)), shape=(n, n))
    return SnapshotGraph(matrix=matrix, n_sats=n_sats, n_gateways=n_gateways, n_pops=n_pops)
