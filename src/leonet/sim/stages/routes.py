"""Stage 3, the routes: every satellite's route to the internet, and each dish's route at an
instant (the one its slot decided, while it still works; a new one where it broke).

Dishes follow the routes the network decided at the start of the slot (serving satellite, laser
path, gateway, PoP), with the delays of those links at t: RTT moves smoothly within a slot and
steps at its boundaries, as measured on Starlink. Where a link of the slot's path breaks mid-slot
(or the serving satellite leaves view), the dish is rerouted on the network at t and flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...constants import SPEED_OF_LIGHT_M_PER_S
from ...network.graph import build_snapshot_graph
from ...network.isl import active_isls
from ...space.lineofsight import laser_clear
from ...network.routekernels import chosen_paths, hop_delay_s, path_hops, walk_grouped_paths
from ...network.routing import InternetRoutes, route_to_internet, satellite_paths
from ...network.slots import choose_serving
from ..instants import Chunk
from ..model import SimulationModel
from .links import GroundLinks, Links
from .sky import Sky


@dataclass(frozen=True)
class HomeRoutes:
    """Every satellite's route to each home PoP of the scenario's dishes at one instant.

    Dishes are grouped by home PoP (``network.home_pop``) and landing mask (the gateways they may
    land at, ``network.bent_pipe_only_gateways`` and ``network.landing``); a group's routes lead to its PoP only (over
    lasers, a gateway it may land at, its fibre and the PoP-to-PoP backbone), so a dish's traffic
    always leaves at its home PoP. With ``home_pop: any`` there is one group whose routes lead to the
    nearest reachable PoP, as before home PoPs.

    Attributes
    ----------
    homes : (H,) int64 PoP number of each group (-1: any PoP; two groups share one with different masks).
    routes : tuple of H InternetRoutes.
    dish_group : (D,) int64 group of each dish.
    pop_to_pop_s : (P, P) float64 one-way fibre delay between PoPs over the backbone that works
        now (0 on the diagonal, inf where none), s: a route that lands at a gateway of another PoP
        crosses it to its exit PoP (:func:`pop_fibre_delays_s`); (0, 0) without dishes.
    """

    homes: np.ndarray
    routes: tuple[InternetRoutes, ...]
    dish_group: np.ndarray
    pop_to_pop_s: np.ndarray

    @cached_property
    def _tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(H, n_nodes) next hop and exit PoP, (H, N) gateway and laser hops of every group."""
        return (np.stack([r.next_hop for r in self.routes]), np.stack([r.exit_pop for r in self.routes]),
                np.stack([r.sat_gateway for r in self.routes]), np.stack([r.sat_isl_hops for r in self.routes]))

    @cached_property
    def _delay_table_s(self) -> np.ndarray:
        """(H, n_nodes) every group's delay to its PoP, s (inf: none); one gather serves all dishes."""
        return np.stack([r.delay_s for r in self.routes]) if self.routes else np.zeros((0, 0))

    def reaches(self, dish: np.ndarray, sat: np.ndarray) -> np.ndarray:
        """(K,) bool: whether satellite ``sat`` (K,) has a route to dish ``dish``'s (K,) PoP now."""
        if not len(dish):
            return np.zeros(0, dtype=bool)
        return np.isfinite(self._delay_table_s[self.dish_group[dish], sat])

    def delay_s(self, serving: np.ndarray) -> np.ndarray:
        """(D,) one-way delay from each dish's satellite ``serving`` (D,) to its PoP, s (inf: none)."""
        out = np.full(len(serving), np.inf)
        has = serving >= 0
        out[has] = self._delay_table_s[self.dish_group[has], serving[has]]
        return out


def internet_routes_at(chunk: Chunk, links: Links) -> HomeRoutes:
    """Routes at ``links``' instant, computed once per instant (a slot's start serves its steps)."""
    return chunk.memo(("routes", links.t_ns), lambda: internet_routes(chunk.model, links))


def internet_routes(model: SimulationModel, links: Links) -> HomeRoutes:
    """Every node's shortest route (by delay) to each home PoP over the links that work now (a
    PoP that is down is reached by nobody). Without dishes there is nobody to route: no groups."""
    net = model.network
    if not len(net.dish_sites):
        return HomeRoutes(np.zeros(0, dtype=np.int64), (), np.zeros(0, dtype=np.int64), np.zeros((0, 0)))
    pop_to_pop_s = pop_fibre_delays_s(len(net.pop_sites), links.backbone, links.backbone_delay_s, links.pop_up)
    keys, group = net.route_groups

    working = None
    if net.landing_fallback is not None:   # gateways with a feeder link now and a way to their PoP
        working = np.zeros(len(net.gateway_sites), dtype=bool)
        working[links.feeder_gateway] = True
        working &= np.asarray(links.gateway_pop) >= 0

    def bent_pipe_first(mask: int) -> bool:
        # bent-pipe-first applies to the home PoP's gateways in reach (home-in-reach), or everywhere
        # (landing: anywhere); dishes with none in reach, or none working now, take the shortest route
        first = net.landing_route == "bent-pipe-first" and (net.landing_homed is None or bool(net.landing_homed[mask]))
        return first and not (working is not None and not (net.landing_allowed[mask] & working).any())

    def graph_of(mask: int, home: int | None):
        """The routing graph of landing mask ``mask``: feeder links only to the gateways it allows
        (its fallback's where none of those works now: network.landing: home-in-reach). With
        bent-pipe-first, ``home`` is the home PoP (-1: any PoP): a satellite descends at a gateway
        whose PoP reaches it over the backbone now, never into a PoP cut off from it."""
        keep = slice(None)
        allowed = None if net.landing_allowed is None else net.landing_allowed[mask]
        if working is not None and not (allowed & working).any():
            allowed = net.landing_fallback[mask]
        if allowed is not None and not allowed.all():
            keep = allowed[links.feeder_gateway]
        descend_at = None
        if home is not None:  # a satellite that sees a way down to the home PoP takes it
            feeder_gw, feeder_sat = links.feeder_gateway[keep], links.feeder_sat[keep]
            gw_pop = np.asarray(links.gateway_pop)[feeder_gw]
            has_pop = gw_pop >= 0
            to = gw_pop if home < 0 else np.full(len(gw_pop), home)   # -1: the gateway's own PoP, if up
            down = np.zeros(len(gw_pop), dtype=bool)
            down[has_pop] = np.isfinite(pop_to_pop_s[gw_pop[has_pop], to[has_pop]])
            descend_at = np.zeros(len(model.constellation), dtype=bool)
            descend_at[feeder_sat[down]] = True
        return build_snapshot_graph(
            len(model.constellation), len(net.gateway_sites), len(net.pop_sites), links.isl.links,
            links.isl.length_m, links.feeder_gateway[keep], links.feeder_sat[keep], links.feeder_range_m[keep],
            links.gateway_pop, net.gateway_pop_delay_s, links.backbone, links.backbone_delay_s, descend_at,
        )

    # one graph per landing mask; with bent-pipe-first, per landing mask and home PoP
    graph_keys = [(int(m), int(p) if bent_pipe_first(int(m)) else None) for p, m in keys]
    graphs = {k: graph_of(*k) for k in dict.fromkeys(graph_keys)}
    homes = keys[:, 0]
    routes = []
    for (p, mask), key in zip(keys, graph_keys):
        graph = graphs[key]
        if p < 0:
            routes.append(route_to_internet(graph, links.pop_up))
        else:
            only = np.zeros(len(net.pop_sites), dtype=bool)
            only[p] = True if links.pop_up is None else bool(links.pop_up[p])
            routes.append(route_to_internet(graph, only))
    return HomeRoutes(homes.astype(np.int64), tuple(routes), group, pop_to_pop_s)


def pop_fibre_delays_s(n_pops: int, backbone: np.ndarray, backbone_delay_s: np.ndarray,
                       pop_up: np.ndarray | None = None) -> np.ndarray:
    """(P, P) shortest one-way fibre delay between PoPs over the ``backbone`` (B, 2) links with
    one-way delays ``backbone_delay_s`` (B,), s: 0 on the diagonal of a PoP that is up, inf between
    PoPs the backbone does not join and for PoPs that are down (``pop_up`` (P,) bool, None: all up).
    The same fibre the routing graph carries, so a held route's delay equals the one its slot chose."""
    out = np.full((n_pops, n_pops), np.inf)
    if not n_pops:
        return out
    up = np.ones(n_pops, dtype=bool) if pop_up is None else np.asarray(pop_up, dtype=bool)
    backbone = np.asarray(backbone, dtype=np.int64).reshape(-1, 2)
    if len(backbone):
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        ok = up[backbone[:, 0]] & up[backbone[:, 1]]
        b, d = backbone[ok], np.asarray(backbone_delay_s, dtype=np.float64)[ok]
        graph = csr_matrix((np.r_[d, d], (np.r_[b[:, 0], b[:, 1]], np.r_[b[:, 1], b[:, 0]])), shape=(n_pops, n_pops))
        out = dijkstra(graph, directed=True)
    out[np.diag_indices(n_pops)] = 0.0
    out[~up, :] = np.inf
    out[:, ~up] = np.inf
    return out


@dataclass(frozen=True)
class DishPaths:
    """Each dish's route as chosen at one instant (D dishes, W the longest path).

    Attributes
    ----------
    serving : (D,) int32 serving satellite, -1 none.
    ok : (D,) bool, a serving satellite with a route to a PoP.
    path : (D, W) int32 satellites from the serving one to the one with the feeder link, -1 padded
        (rows of dishes without a route are all -1).
    gateway, pop : (D,) gateway (0..G-1) and PoP (0..P-1) numbers, -1 without a route.
    isl_hops : (D,) laser hops, -1 without a route.
    """

    serving: np.ndarray
    ok: np.ndarray
    path: np.ndarray
    gateway: np.ndarray
    pop: np.ndarray
    isl_hops: np.ndarray


def paths_along(routes: HomeRoutes, serving: np.ndarray, n_sats: int) -> DishPaths:
    """The routes of dishes served by ``serving`` (D,) satellites (-1: none), each to its PoP
    (every group's routes as tables, one gather and one compiled walk for all dishes)."""
    serving = np.asarray(serving, dtype=np.int32)
    if not routes.routes:  # no dishes, no groups (internet_routes): nobody to route
        n_d = len(serving)
        return DishPaths(serving=serving, ok=np.zeros(n_d, dtype=bool), path=np.zeros((n_d, 0), dtype=np.int32),
                         gateway=np.full(n_d, -1, dtype=np.int64), pop=np.full(n_d, -1, dtype=np.int64),
                         isl_hops=np.full(n_d, -1, dtype=np.int64))
    group = routes.dish_group
    next_hop, exit_pop, sat_gateway, sat_isl_hops = routes._tables
    ok = serving >= 0
    ok[ok] &= np.isfinite(routes._delay_table_s[group[ok], serving[ok]])
    s = np.where(ok, serving, 0)
    gateway = np.where(ok, sat_gateway[group, s], -1).astype(np.int64)
    pop = np.where(ok, exit_pop[group, s], -1).astype(np.int64)
    isl_hops = np.where(ok, sat_isl_hops[group, s], -1).astype(np.int64)
    path = walk_grouped_paths(next_hop, group, s, np.where(ok, isl_hops + 1, 0))
    return DishPaths(serving=serving, ok=ok, path=path, gateway=gateway, pop=pop, isl_hops=isl_hops)


def paths_along_reference(routes: HomeRoutes, serving: np.ndarray, n_sats: int) -> DishPaths:
    """:func:`paths_along` group by group (the reference)."""
    serving = np.asarray(serving, dtype=np.int32)
    n_d = len(serving)
    ok = np.zeros(n_d, dtype=bool)
    gateway, pop, isl_hops = (np.full(n_d, -1, dtype=np.int64) for _ in range(3))
    parts = []
    for h, r in enumerate(routes.routes):  # a few home PoPs, not dishes
        mine = np.flatnonzero(routes.dish_group == h)
        sv = serving[mine]
        o = sv >= 0
        o[o] &= np.isfinite(r.delay_s[sv[o]])
        s = np.where(o, sv, 0)
        ok[mine] = o
        gateway[mine] = np.where(o, r.sat_gateway[s], -1)
        pop[mine] = np.where(o, r.exit_pop[s], -1)
        isl_hops[mine] = np.where(o, r.sat_isl_hops[s], -1)
        parts.append((mine, satellite_paths(r, np.where(o, sv, -1), n_sats)))
    width = max((p.shape[1] for _, p in parts), default=0)
    path = np.full((n_d, width), -1, dtype=np.int32)
    for mine, p in parts:
        path[mine, : p.shape[1]] = p
    return DishPaths(serving=serving, ok=ok, path=path, gateway=gateway, pop=pop, isl_hops=isl_hops)


def held_path_delay(model: SimulationModel, sky: Sky, held: DishPaths,
                    pop_to_pop_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-way delay (s) at ``sky``'s instant along each held path, serving satellite -> PoP (inf
    without a path), and whether every link of it still works (lasers clear the Earth, the
    gateway still sees the last satellite, gateway, fibre, backbone and PoP are up); each (D,).
    ``pop_to_pop_s`` (P, P): the backbone's delays now (:attr:`HomeRoutes.pop_to_pop_s`)."""
    net, ecef = model.network, sky.sat_ecef_m
    works = held.ok.copy()
    path = held.path
    # Laser delay summed hop by hop in path order (compiled, from the hops: equal to
    # held_hop_delay_s over the path matrix); every hop's laser checked at once.
    delay = np.zeros(len(held.serving))
    if path.shape[1] > 1:
        row, a, b = path_hops(path)
        delay = hop_delay_s(row, a, b, ecef, SPEED_OF_LIGHT_M_PER_S, len(path))
        if len(row):
            works[row[~laser_clear(np.c_[a, b], ecef, net.grazing_height_m, net.isl_max_range_m)]] = False
    return _gateway_leg(model, sky, held, delay, works, pop_to_pop_s)


def held_path_delay_reference(model: SimulationModel, sky: Sky, held: DishPaths,
                              pop_to_pop_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`held_path_delay` one hop position at a time in numpy (the reference)."""
    net, ecef = model.network, sky.sat_ecef_m
    delay = np.zeros(len(held.serving))
    works = held.ok.copy()
    path = held.path
    for k in range(path.shape[1] - 1):  # over hop positions (a few), not over dishes
        a, b = path[:, k], path[:, k + 1]
        hop = (a >= 0) & (b >= 0)
        if not hop.any():
            continue
        state = active_isls(np.c_[a[hop], b[hop]], ecef, net.grazing_height_m, net.isl_max_range_m)
        length = np.linalg.norm(ecef[a[hop]] - ecef[b[hop]], axis=1)
        delay[hop] += length / SPEED_OF_LIGHT_M_PER_S
        works[np.flatnonzero(hop)[~state.candidate_ok]] = False
    return _gateway_leg(model, sky, held, delay, works, pop_to_pop_s)


def _gateway_leg(model: SimulationModel, sky: Sky, held: DishPaths, delay: np.ndarray, works: np.ndarray,
                 pop_to_pop_s: np.ndarray):
    """The held paths' gateway link and fibre: their delay added to ``delay`` (D,) s, and
    ``works`` (D,) cleared where the gateway no longer sees the last satellite or an event broke
    the gateway, its fibre or its PoP. The fibre is the gateway's own to its PoP, then the
    backbone from there to the route's exit PoP (``pop_to_pop_s``, (P, P) s; inf: cut now)."""
    net, ecef, path = model.network, sky.sat_ecef_m, held.path
    idx = np.flatnonzero(held.ok)
    if len(idx):
        g = held.gateway[idx]
        seen, _, range_m = model.visibility.link(net.gateway_sites[g], ecef[path[idx, held.isl_hops[idx]]])
        works[idx[~seen]] = False
        threat = sky.events
        if threat is not None:  # the slot's gateway, its fibre or its PoP may be gone now
            broken = (threat.site_down[net.gateway_sites[g]] | threat.gateway_fibre_cut[g]
                      | threat.site_down[net.pop_sites[held.pop[idx]]])
            works[idx[broken]] = False
        backbone_s = pop_to_pop_s[net.gateway_pop[g], held.pop[idx]]
        works[idx[~np.isfinite(backbone_s)]] = False
        delay[idx] += range_m / SPEED_OF_LIGHT_M_PER_S + net.gateway_pop_delay_s[g] + backbone_s
    delay[~held.ok] = np.inf
    return delay, works


@dataclass(frozen=True)
class DishRoutes:
    """Each dish's route at one instant (D dishes, network order), before capacity.

    Attributes
    ----------
    serving : (D,) int32 serving satellite, -1 none.
    routed : (D,) bool, a serving satellite with a working route to a PoP.
    obstructed : (D,) bool, no serving satellite, and one in view behind an obstruction (or the
        slot's satellite is behind one now).
    offline : (D,) bool, the dish is off or refused service (an event bricked it, its power is
        out, or the operator geofences its place).
    elevation_deg, range_m : (D,) float64 of the link to the serving satellite now (deg, m; NaN
        without one).
    one_way_s : (D,) float64, delay from the serving satellite to the exit PoP, s (inf: no route).
    gateway, pop : (D,) int32 site index of the gateway and PoP, -1 unless connected.
    isl_hops, hops : (D,) int16 laser hops and links (dish-sat, lasers, sat-gateway, gateway-PoP),
        -1 unless connected.
    path : (D, W) int32 satellites of the route, serving first, -1 padded (all -1 unless connected).
    rerouted : (D,) bool, connected over a route chosen mid-slot (the slot's one broke).
    geofenced : (D,) bool, refused service where it is (a geofence event; part of ``offline``).
    """

    serving: np.ndarray
    routed: np.ndarray
    obstructed: np.ndarray
    offline: np.ndarray
    elevation_deg: np.ndarray
    range_m: np.ndarray
    one_way_s: np.ndarray
    gateway: np.ndarray
    pop: np.ndarray
    isl_hops: np.ndarray
    hops: np.ndarray
    path: np.ndarray
    rerouted: np.ndarray
    geofenced: np.ndarray | None = None

    @property
    def connected(self) -> np.ndarray:
        """(D,) bool, routed and on."""
        return self.routed & ~self.offline


def route_dishes(model: SimulationModel, sky: Sky, ground: GroundLinks, routes: HomeRoutes,
                 held: DishPaths) -> DishRoutes:
    """Each dish keeps its slot's route ``held`` while its serving satellite is in clear view and
    every link of the route works; the others take the highest clear satellite now and its route
    on the network now (``routes``). A slot satellite that is in view but behind an obstruction
    is kept (the schedule is set for the slot): the dish is OBSTRUCTED until it clears or the
    slot ends."""
    net, n_sats, n_d = model.network, len(model.constellation), len(held.serving)
    in_view = ground.clear_to(held.serving)
    behind_obstruction = ground.in_view_to(held.serving) & ~in_view
    held_delay, works = held_path_delay(model, sky, held, routes.pop_to_pop_s)
    keep = in_view & works
    best_now = best_reaching(ground, routes, n_d)
    best_now[behind_obstruction] = -1
    serving = np.where(keep, held.serving, best_now).astype(np.int32)
    fresh = paths_along(routes, np.where(keep, -1, best_now).astype(np.int32), n_sats)
    rerouted = ~keep & (best_now >= 0) & (held.ok | (held.serving >= 0))
    elevation_deg, range_m = ground.toward(serving)
    has_sat = serving >= 0
    one_way_s = np.where(keep, held_delay, np.inf)
    now = ~keep & has_sat
    one_way_s[now] = routes.delay_s(serving)[now]
    routed = has_sat & np.isfinite(one_way_s)
    offline, geofenced = sky.refused(net.dish_sites)
    connected = routed & ~offline
    gateway, pop, isl_hops, hops, path = _chosen_route(model, held, fresh, keep, connected)
    return DishRoutes(serving, routed, ~has_sat & (behind_obstruction | ground.any_in_view), offline,
                      elevation_deg, range_m, one_way_s, gateway, pop, isl_hops, hops, path, rerouted & connected,
                      geofenced)


def chosen_paths_reference(held: np.ndarray, fresh: np.ndarray, keep: np.ndarray, connected: np.ndarray) -> np.ndarray:
    """:func:`leonet.network.routekernels.chosen_paths` with numpy masks (the reference)."""
    path = np.full((len(keep), max(held.shape[1], fresh.shape[1])), -1, dtype=np.int32)
    path[keep, : held.shape[1]] = held[keep]
    path[~keep, : fresh.shape[1]] = fresh[~keep]
    path[~connected] = -1
    return path


def best_reaching(ground: GroundLinks, routes: HomeRoutes, n_d: int) -> np.ndarray:
    """(D,) the highest clear satellite of each dish that reaches its PoP now; where none does,
    the highest clear one (the dish is then NO_PATH: a satellite in view, no route)."""
    reach = routes.reaches(ground.dish, ground.sat)
    best = choose_serving(ground.dish[reach], ground.sat[reach], ground.elevation_deg[reach], n_d)
    any_clear = choose_serving(ground.dish, ground.sat, ground.elevation_deg, n_d)
    return np.where(best >= 0, best, any_clear).astype(np.int32)


def _chosen_route(model: SimulationModel, held: DishPaths, fresh: DishPaths, keep: np.ndarray,
                  connected: np.ndarray):
    """Gateway and PoP (site indices), laser hops, links and path of each dish: the held route
    where ``keep``, the fresh one elsewhere; -1 unless connected."""
    net, n_d = model.network, len(keep)
    gw_num = np.where(keep, held.gateway, fresh.gateway)
    pop_num = np.where(keep, held.pop, fresh.pop)
    isl_hops = np.where(keep, held.isl_hops, fresh.isl_hops).astype(np.int16)
    path = chosen_paths(held.path, fresh.path, keep, connected)  # compiled; chosen_paths_reference
    gateway = (np.where(connected, net.gateway_sites[np.maximum(gw_num, 0)], -1).astype(np.int32)
               if len(net.gateway_sites) else np.full(n_d, -1, np.int32))
    pop = (np.where(connected, net.pop_sites[np.maximum(pop_num, 0)], -1).astype(np.int32)
           if len(net.pop_sites) else np.full(n_d, -1, np.int32))
    isl_hops = np.where(connected, isl_hops, -1).astype(np.int16)
    hops = np.where(connected, isl_hops + 3, -1).astype(np.int16)  # dish-sat, lasers, sat-gw, gw-PoP
    return gateway, pop, isl_hops, hops, path
