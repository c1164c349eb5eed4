"""Shortest paths by propagation delay (scipy's C Dijkstra).

- To the internet: one multi-source Dijkstra per step, from every PoP over the reversed graph,
  gives every node its delay to the nearest reachable PoP and its next hop toward it. A dish's
  route is then its serving satellite's route, so the cost does not grow with the number of dishes.
- Between ground stations (Hypatia's semantics): see :mod:`leonet.network.pairs`.

Ties between equal-delay paths are broken by scipy's Dijkstra (first found); with real-valued
delays exact ties are rare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from .graph import SnapshotGraph
from .routekernels import gateway_and_hops, internet_tree, walk_paths

NO_NODE = -9999  # scipy's marker for "no predecessor"


@dataclass(frozen=True)
class InternetRoutes:
    """Every node's route to the nearest reachable PoP at one instant.

    Attributes
    ----------
    delay_s : (n_nodes,) one-way delay to the exit PoP; inf where none is reachable.
    next_hop : (n_nodes,) next node toward that PoP; -1 at PoPs and where unreachable.
    exit_pop : (n_nodes,) PoP index (0..P-1) where traffic leaves; -1 where unreachable.
    sat_gateway : (n_sats,) gateway index (0..G-1) the satellite's traffic lands at; -1 if none.
    sat_isl_hops : (n_sats,) laser hops from the satellite to the one with the feeder link.
    """

    delay_s: np.ndarray
    next_hop: np.ndarray
    exit_pop: np.ndarray
    sat_gateway: np.ndarray
    sat_isl_hops: np.ndarray


def route_to_internet(graph: SnapshotGraph, pop_up: np.ndarray | None = None) -> InternetRoutes:
    """Routes of every node to its nearest reachable PoP; ``pop_up`` (P,) bool leaves out PoPs
    that are down (they are not exits, and nothing routes through them)."""
    n_sats, n = graph.n_sats, graph.n_nodes
    up = np.ones(graph.n_pops, dtype=bool) if pop_up is None else np.asarray(pop_up, dtype=bool)
    if graph.n_pops == 0 or not up.any():
        inf = np.full(n, np.inf)
        none = np.full(n, -1, dtype=np.int32)
        return InternetRoutes(inf, none, none, none[:n_sats].copy(), np.full(n_sats, -1, dtype=np.int32))
    pops = graph.pop_node(np.flatnonzero(up))
    # On the reversed graph, a path PoP -> v is the forward path v -> PoP, and v's predecessor
    # there is v's next hop toward the PoP.
    tree = internet_tree(graph.reversed_matrix, n_sats, pops)  # compiled; scipy where it does not apply
    dist, pred, source = tree if tree is not None else dijkstra(graph.reversed_matrix, directed=True, indices=pops,
                                                                return_predecessors=True, min_only=True)
    next_hop = np.where(pred == NO_NODE, -1, pred).astype(np.int32)
    exit_pop = np.where(source == NO_NODE, -1, source - (n_sats + graph.n_gateways)).astype(np.int32)

    # The first non-satellite node on every satellite's chain is its gateway; the number of
    # satellite-to-satellite steps is the hop count (one compiled pass; reference below).
    cur, hops = gateway_and_hops(next_hop, n_sats)
    reachable = np.isfinite(dist[:n_sats])
    sat_gateway = np.where(reachable, cur - n_sats, -1).astype(np.int32)
    sat_gateway[sat_gateway >= graph.n_gateways] = -1  # (cannot happen: sats reach PoPs via gateways)
    return InternetRoutes(dist, next_hop, exit_pop, sat_gateway, np.where(reachable, hops, -1).astype(np.int32))


def gateway_and_hops_reference(next_hop: np.ndarray, n_sats: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`leonet.network.routekernels.gateway_and_hops` in numpy: every chain advanced one hop
    per round (the reference the compiled pass is tested against)."""
    cur = np.arange(n_sats, dtype=np.int64)
    hops = np.zeros(n_sats, dtype=np.int32)
    active = next_hop[:n_sats] >= 0
    for _ in range(n_sats + 1):
        if not active.any():
            break
        nxt = next_hop[cur[active]]
        still_sat = nxt < n_sats
        idx = np.flatnonzero(active)
        hops[idx[still_sat]] += 1
        cur[idx] = nxt
        active[idx[~still_sat]] = False
    return cur, hops


def satellite_paths(routes: InternetRoutes, start_sats: np.ndarray, n_sats: int) -> np.ndarray:
    """Satellites on the route of each start satellite, padded with -1.

    Returns int32 (M, L): row i lists ``start_sats[i]`` then each following satellite up to the one
    with the feeder link. Rows of unreachable or negative starts are all -1.
    """
    start = np.asarray(start_sats, dtype=np.int64)
    ok = start >= 0
    ok[ok] &= np.isfinite(routes.delay_s[start[ok]])
    length = np.zeros(len(start), dtype=np.int64)
    length[ok] = routes.sat_isl_hops[start[ok]] + 1
    return walk_paths(routes.next_hop, np.where(ok, start, 0), length)


def satellite_paths_reference(routes: InternetRoutes, start_sats: np.ndarray, n_sats: int) -> np.ndarray:
    """:func:`satellite_paths` in numpy, one hop position per round (the reference)."""
    start = np.asarray(start_sats, dtype=np.int64)
    ok = start >= 0
    ok[ok] &= np.isfinite(routes.delay_s[start[ok]])
    length = np.zeros(len(start), dtype=np.int64)
    length[ok] = routes.sat_isl_hops[start[ok]] + 1
    width = int(length.max()) if len(length) else 0
    out = np.full((len(start), width), -1, dtype=np.int32)
    cur = np.where(ok, start, 0)
    for k in range(width):
        live = length > k
        out[live, k] = cur[live]
        cur = np.where(live, routes.next_hop[cur], cur)
    return out
