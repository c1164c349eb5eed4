"""The service each dish and station pair gets at one instant: serving satellite (per 15 s
slot), route to the internet, state, RTT, and (with the capacity model) throughput; plus the
terrestrial alternative. Called by :func:`leonet.sim.step.compute_chunk` once per step.
"""

from __future__ import annotations

import numpy as np

from ..constants import SPEED_OF_LIGHT_M_PER_S
from ..network.graph import build_snapshot_graph, gateway_links
from ..network.isl import active_isls
from ..network.pairs import forwarding_state, route_pairs, station_graph
from ..network.routing import route_to_internet, satellite_paths
from ..network.slots import choose_serving, spread_over_satellites
from ..space.propagate import propagate
from .instants import Chunk, subset_pairs

STATES = ("CONNECTED", "NO_SATS", "NO_PATH", "OBSTRUCTED", "OFFLINE", "JAMMED", "CONGESTED")
#: Look-ahead for the longest-visibility policy: samples every 15 s for 10 minutes.
_LOOKAHEAD_STEP_S, _LOOKAHEAD_N = 15, 40


def _remaining_visibility_s(model, chunk_times_start: int, local, sat, net) -> np.ndarray:
    """Seconds each (dish, sat) pair stays in view after the slot start, sampled every 15 s."""
    offsets = np.arange(1, _LOOKAHEAD_N + 1, dtype=np.int64) * _LOOKAHEAD_STEP_S * 1_000_000_000
    future = propagate(model.constellation, chunk_times_start + offsets)
    remaining = np.zeros(len(sat))
    still = np.ones(len(sat), dtype=bool)
    dish_sites = net.dish_sites[local]
    vis = model.visibility
    rule = vis.rule
    for k in range(len(offsets)):
        from ..space.frames import look_angles

        el, _, rng = look_angles(vis.site_ecef_m[dish_sites], vis.enu[dish_sites], future.ecef_m[k][sat])
        ok = np.isfinite(el)
        if rule.min_elevation_deg is not None:
            ok &= el >= rule.min_elevation_deg
        if rule.max_range_m is not None:
            ok &= rng <= rule.max_range_m
        still &= ok
        remaining += still * _LOOKAHEAD_STEP_S
    return remaining


def _assignments(chunk: Chunk, slot_start: int) -> np.ndarray:
    """Serving satellite of every dish for the slot that starts at ``slot_start``."""
    model, net = chunk.model, chunk.model.network
    local, sat, el, _ = subset_pairs(chunk.clear(slot_start), net.dish_sites, len(model.sites))
    remaining = None
    if net.policy == "longest-visibility":
        remaining = _remaining_visibility_s(model, slot_start, local, sat, net)
    if net.policy == "load-aware":
        return spread_over_satellites(local, sat, el, len(net.dish_sites), net.dish_cell, net.max_sats_per_cell)
    return choose_serving(local, sat, el, len(net.dish_sites), remaining, net.policy)


def _routes_at(chunk: Chunk, t: int):
    """Memoised per instant: a step that is its own slot start needs these twice."""
    return chunk.memo(("routes", int(t)), lambda: _compute_routes_at(chunk, t))


def _compute_routes_at(chunk: Chunk, t: int):
    """ISLs in use, feeder links (highest satellites per gateway antenna) and routes at instant t."""
    model, net = chunk.model, chunk.model.network
    n_sats = len(model.constellation)
    isl = active_isls(net.isl_candidates, chunk.ecef(t), net.grazing_height_m, net.isl_max_range_m)
    g_local, g_sat, g_el, g_rng = subset_pairs(chunk.clear(t), net.gateway_sites, len(model.sites))
    gateway_pop, backbone, backbone_delay_s, pop_up = net.gateway_pop, net.backbone, net.backbone_delay_s, None
    threat = chunk.threats(t)
    if threat is not None:
        gw_up = ~threat.site_down[net.gateway_sites]
        keep = gw_up[g_local]
        g_local, g_sat, g_el, g_rng = g_local[keep], g_sat[keep], g_el[keep], g_rng[keep]
        pop_up = ~threat.site_down[net.pop_sites]
        exit_ok = ~threat.gateway_fibre_cut & (gateway_pop >= 0)
        exit_ok[exit_ok] &= pop_up[gateway_pop[exit_ok]]
        gateway_pop = np.where(exit_ok, gateway_pop, -1)
        if len(backbone):
            bb_ok = ~threat.backbone_cut & pop_up[backbone[:, 0]] & pop_up[backbone[:, 1]]
            backbone, backbone_delay_s = backbone[bb_ok], backbone_delay_s[bb_ok]
    f_gw, f_sat, f_rng = gateway_links(g_local, g_sat, g_el, g_rng, net.gateway_antennas)
    graph = build_snapshot_graph(
        n_sats, len(net.gateway_sites), len(net.pop_sites), isl.links, isl.length_m,
        f_gw, f_sat, f_rng, gateway_pop, net.gateway_pop_delay_s, backbone, backbone_delay_s,
    )
    return isl, len(f_gw), route_to_internet(graph, pop_up)


class _DishPaths:
    """Each dish's route as decided at a slot's start: satellites, gateway and PoP."""

    def __init__(self, routes, serving: np.ndarray, n_sats: int):
        ok = serving >= 0
        ok[ok] &= np.isfinite(routes.delay_s[serving[ok]])
        self.ok = ok
        self.serving = serving
        self.path = satellite_paths(routes, np.where(ok, serving, -1), n_sats)
        s = np.where(ok, serving, 0)
        self.gateway = np.where(ok, routes.sat_gateway[s], -1)
        self.pop = np.where(ok, routes.exit_pop[s], -1)
        self.isl_hops = np.where(ok, routes.sat_isl_hops[s], -1)


def _path_delay_at(chunk: Chunk, t: int, paths: _DishPaths) -> tuple[np.ndarray, np.ndarray]:
    """One-way delay (s) at instant t along each slot path, satellite -> PoP, and whether every
    link of the path still works at t (ISLs clear the Earth and the gateway still sees the last
    satellite)."""
    model, net = chunk.model, chunk.model.network
    ecef = chunk.ecef(t)
    n = len(paths.serving)
    delay = np.zeros(n)
    works = paths.ok.copy()
    path = paths.path
    for k in range(path.shape[1] - 1):  # over hop positions (a few), not over dishes
        a, b = path[:, k], path[:, k + 1]
        hop = (a >= 0) & (b >= 0)
        if not hop.any():
            continue
        state = active_isls(np.c_[a[hop], b[hop]], ecef, net.grazing_height_m, net.isl_max_range_m)
        length = np.linalg.norm(ecef[a[hop]] - ecef[b[hop]], axis=1)
        delay[hop] += length / SPEED_OF_LIGHT_M_PER_S
        works[np.flatnonzero(hop)[~state.candidate_ok]] = False
    idx = np.flatnonzero(paths.ok)
    if len(idx):
        last = path[idx, paths.isl_hops[idx]]
        gw_site = net.gateway_sites[paths.gateway[idx]]
        vis = model.visibility
        from ..space.frames import look_angles

        el, _, rng = look_angles(vis.site_ecef_m[gw_site], vis.enu[gw_site], ecef[last])
        seen = np.isfinite(el)
        if vis.rule.min_elevation_deg is not None:
            seen &= el >= vis.rule.min_elevation_deg
        if vis.rule.max_range_m is not None:
            seen &= rng <= vis.rule.max_range_m
        works[idx[~seen]] = False
        threat = chunk.threats(t)
        if threat is not None:  # the slot's gateway, its fibre or its PoP may be gone now
            g = paths.gateway[idx]
            broken = (threat.site_down[net.gateway_sites[g]] | threat.gateway_fibre_cut[g]
                      | threat.site_down[net.pop_sites[paths.pop[idx]]])
            works[idx[broken]] = False
        delay[idx] += rng / SPEED_OF_LIGHT_M_PER_S + net.gateway_pop_delay_s[paths.gateway[idx]]
    delay[~paths.ok] = np.inf
    return delay, works


def network_at(chunk: Chunk, t: int, slot: int, cache: dict) -> dict:
    """Routes of every dish and station pair at instant t.

    Dishes follow the routes the network decided at the start of the slot (serving satellite,
    laser path, gateway, PoP), with delays of those links at t: RTT moves smoothly within a slot
    and steps at its boundaries, as measured on Starlink. Where a link of the slot's path breaks
    mid-slot (or the serving satellite leaves view), the dish is rerouted on the network at t and
    flagged. Station pairs are routed afresh at every step (Hypatia's semantics).
    """
    model, net = chunk.model, chunk.model.network
    n_sats, n_sites = len(model.constellation), len(model.sites)
    if slot not in cache:
        serving_slot = _assignments(chunk, slot)
        _, _, routes_slot = _routes_at(chunk, slot)
        cache[slot] = _DishPaths(routes_slot, serving_slot, n_sats)
    slot_paths: _DishPaths = cache[slot]
    isl, n_feeders, routes_now = _routes_at(chunk, t)
    pairs = chunk.clear(t)

    # Where the dish still sees its slot satellite, and the range to it now.
    d_local, d_sat, d_el, d_rng = subset_pairs(pairs, net.dish_sites, n_sites)
    n_d = len(net.dish_sites)
    # The slot satellite may be in view but behind an obstruction now: the dish keeps it (the
    # schedule is set for the slot) and is OBSTRUCTED until it clears or the slot ends.
    all_local, all_sat, _, _ = subset_pairs(chunk.pairs(t), net.dish_sites, n_sites)
    all_key = all_local * n_sats + all_sat
    any_in_view = np.bincount(all_local, minlength=n_d) > 0
    key = d_local * n_sats + d_sat  # sorted, as pairs are sorted by (site, sat)
    serving_slot = slot_paths.serving
    want = np.arange(n_d) * n_sats + np.maximum(serving_slot, 0)
    pos = np.clip(np.searchsorted(key, want), 0, max(len(key) - 1, 0))
    in_view = (serving_slot >= 0) & (key[pos] == want) if len(key) else np.zeros(n_d, dtype=bool)

    want_all = np.arange(n_d) * n_sats + np.maximum(serving_slot, 0)
    pos_all = np.clip(np.searchsorted(all_key, want_all), 0, max(len(all_key) - 1, 0))
    geo_view = (serving_slot >= 0) & (all_key[pos_all] == want_all) if len(all_key) else np.zeros(n_d, dtype=bool)
    behind_obstruction = geo_view & ~in_view
    chain_delay, works = _path_delay_at(chunk, t, slot_paths)
    keep = in_view & works
    # Everyone else is rerouted now: best satellite in view now, routes on the network at t.
    best_now = choose_serving(d_local, d_sat, d_el, n_d)
    best_now[behind_obstruction] = -1
    serving = np.where(keep, serving_slot, best_now).astype(np.int32)
    now_paths = _DishPaths(routes_now, np.where(keep, -1, best_now).astype(np.int32), n_sats)
    rerouted = ~keep & (best_now >= 0) & (slot_paths.ok | (serving_slot >= 0))

    has_sat = serving >= 0
    rng_now = np.full(n_d, np.nan)
    el_now = np.full(n_d, np.nan)
    if has_sat.any():
        want_now = np.arange(n_d)[has_sat] * n_sats + serving[has_sat]
        at = np.searchsorted(key, want_now)
        rng_now[has_sat] = d_rng[at]
        el_now[has_sat] = d_el[at]
    sat_delay = np.where(keep, chain_delay, np.inf)
    fresh = ~keep & has_sat
    sat_delay[fresh] = routes_now.delay_s[serving[fresh]]
    connected = has_sat & np.isfinite(sat_delay)
    obstructed = ~has_sat & (behind_obstruction | any_in_view)
    state = np.where(connected, 0, np.where(obstructed, 3, np.where(~has_sat, 1, 2))).astype(np.int8)
    threat = chunk.threats(t)
    if threat is not None:
        offline = threat.dish_offline[net.dish_sites]
        state[offline] = STATES.index("OFFLINE")
        connected &= ~offline
    rtt_ms = np.where(connected, 2e3 * (rng_now / SPEED_OF_LIGHT_M_PER_S + sat_delay), np.nan)

    gw_num = np.where(keep, slot_paths.gateway, now_paths.gateway)
    pop_num = np.where(keep, slot_paths.pop, now_paths.pop)
    isl_hops = np.where(keep, slot_paths.isl_hops, now_paths.isl_hops).astype(np.int16)
    width = max(slot_paths.path.shape[1], now_paths.path.shape[1])
    path = np.full((n_d, width), -1, dtype=np.int32)
    path[keep, : slot_paths.path.shape[1]] = slot_paths.path[keep]
    path[~keep, : now_paths.path.shape[1]] = now_paths.path[~keep]
    gw = np.where(connected, net.gateway_sites[np.maximum(gw_num, 0)], -1).astype(np.int32) if len(net.gateway_sites) else np.full(n_d, -1, np.int32)
    pop = np.where(connected, net.pop_sites[np.maximum(pop_num, 0)], -1).astype(np.int32) if len(net.pop_sites) else np.full(n_d, -1, np.int32)
    isl_hops = np.where(connected, isl_hops, -1).astype(np.int16)
    path[~connected] = -1
    hops = np.where(connected, isl_hops + 3, -1).astype(np.int16)  # dish-sat, ISLs, sat-gw, gw-PoP

    dish = dict(serving=serving, state=state, rtt_ms=rtt_ms, gateway=gw, pop=pop, isl_hops=isl_hops,
                hops=hops, path=path, reassigned=rerouted & connected)
    loads = None
    if model.scenario.capacity.enabled:
        loads = _capacity_at(chunk, t, dish, connected, rng_now, el_now)
    out = {
        "dish": dish,
        "loads": loads,
        "network": dict(isl_active=len(isl.links), isl_dropped_grazing=isl.dropped_grazing,
                        isl_dropped_range=isl.dropped_range, isl_dropped_failed=isl.dropped_failed,
                        feeder_links=n_feeders),
    }
    if len(net.pair_src):
        stations = np.unique(np.r_[net.pair_src, net.pair_dst])
        s_local, s_sat, _, s_rng = subset_pairs(pairs, stations, n_sites)  # clear pairs
        matrix = station_graph(n_sats, len(stations), isl.links, isl.length_m, s_local, s_sat, s_rng)
        number = np.full(n_sites, -1, dtype=np.int64)
        number[stations] = np.arange(len(stations))
        src, dst = number[net.pair_src], number[net.pair_dst]
        state_fw = forwarding_state(matrix, n_sats, len(stations), np.unique(dst))
        pr = route_pairs(state_fw, src, dst)
        out["pairs"] = dict(rtt_ms=2e3 * pr.one_way_s, hops=pr.hops, path=pr.path_sats)
    return out


ONLINE_BY = ("both", "satellite", "ground", "none")


def _capacity_at(chunk: Chunk, t: int, dish: dict, connected: np.ndarray, range_m: np.ndarray,
                 elevation_deg: np.ndarray) -> dict:
    """Throughput of every dish at t (max-min fair, down and up); updates ``dish`` in place
    (state JAMMED / CONGESTED, RTT with queueing) and returns the link loads."""
    from ..capacity.model import allocate_direction, link_efficiency, queueing_ms
    from ..threats.jamming import dish_interference_to_noise_db, satellite_interference_to_noise_db

    model, net = chunk.model, chunk.model.network
    cm = model.capacity
    n_d = len(net.dish_sites)
    threat = chunk.threats(t)
    factor = threat.demand_factor[net.dish_sites] if threat is not None else np.ones(n_d)
    i_n_down = np.full(n_d, -np.inf)
    i_n_up = np.full(n_d, -np.inf)
    if threat is not None and threat.jammers:
        dishes = model.sites.take(net.dish_sites)
        i_n_down = dish_interference_to_noise_db(threat.jammers, dishes.lat_deg, dishes.lon_deg, dishes.elevation_m,
                                                 cm.radio, cm.jamming_rejection_db)
        sat_i_n = satellite_interference_to_noise_db(threat.jammers, chunk.ecef(t), cm.radio,
                                                     cm.satellite_jamming_rejection_db)
        served = dish["serving"] >= 0
        i_n_up[served] = sat_i_n[dish["serving"][served]]
    sinr_down, eta_down, sinr_up, eta_up = link_efficiency(
        cm, cm.dish_cell, np.nan_to_num(elevation_deg, nan=90.0), np.nan_to_num(range_m, nan=1e6), i_n_down, i_n_up)
    link_ok = (eta_down > 0) & (eta_up > 0)
    jammed = connected & ~link_ok & (np.isfinite(i_n_down) | np.isfinite(i_n_up))
    dead = connected & ~link_ok & ~jammed  # the budget does not close even without jamming
    flows = np.flatnonzero(connected & link_ok)
    down = np.zeros(n_d)
    up = np.zeros(n_d)
    avail_down = np.zeros(n_d)
    avail_up = np.zeros(n_d)
    bottleneck = np.zeros(n_d, dtype=np.int8)
    queue = np.zeros(n_d)
    demand_down = cm.demand_down_bps * cm.activity * factor
    demand_up = cm.demand_up_bps * cm.activity * factor
    loads = []
    if len(flows):
        cell = cm.dish_cell[flows]
        common = dict(serving=dish["serving"][flows].astype(np.int64), cell=cell, path=dish["path"][flows],
                      isl_hops=dish["isl_hops"][flows].astype(np.int64), gateway=dish["gateway"][flows].astype(np.int64),
                      pop=dish["pop"][flows].astype(np.int64), model=cm,
                      multiplicity=model.dish_count[net.dish_sites[flows]])
        rd = allocate_direction(eta_bps_per_hz=eta_down[flows], bandwidth_hz=cm.radio.user_downlink_bandwidth_hz,
                                demand_bps=demand_down[flows], sat_capacity_bps=cm.sat_down_bps, downlink=True, **common)
        ru = allocate_direction(eta_bps_per_hz=eta_up[flows], bandwidth_hz=cm.radio.user_uplink_bandwidth_hz,
                                demand_bps=demand_up[flows], sat_capacity_bps=cm.sat_up_bps, downlink=False, **common)
        down[flows], up[flows], bottleneck[flows] = rd.rate_bps, ru.rate_bps, rd.bottleneck
        avail_down[flows], avail_up[flows] = rd.available_bps, ru.available_bps
        queue[flows] = queueing_ms(rd.utilisation_max, cm) + queueing_ms(ru.utilisation_max, cm)
        for direction, r in ((0, rd), (1, ru)):
            loads.append((direction, r))
    state = dish["state"]
    state[jammed] = STATES.index("JAMMED")
    state[dead] = STATES.index("NO_SATS")
    # Congested: the network gives less than the dish asks for, and less than the threshold
    # (a dish that only asks for 2 Mbps and gets it is not congested).
    wanted = np.minimum(cm.congested_below_bps, demand_down)
    congested = connected & link_ok & (down < wanted * (1.0 - 1e-6))
    state[congested] = STATES.index("CONGESTED")
    lost = jammed | dead
    dish["rtt_ms"] = np.where(lost, np.nan, dish["rtt_ms"] + queue)
    for name in ("gateway", "pop"):
        dish[name] = np.where(lost, -1, dish[name]).astype(dish[name].dtype)
    dish["isl_hops"] = np.where(lost, -1, dish["isl_hops"]).astype(np.int16)
    dish["hops"] = np.where(lost, -1, dish["hops"]).astype(np.int16)
    dish["path"] = np.where(lost[:, None], -1, dish["path"])
    dish["capacity"] = {
        "downlink_bps": down, "uplink_bps": up, "demand_down_bps": demand_down, "demand_up_bps": demand_up,
        "speedtest_down_bps": avail_down, "speedtest_up_bps": avail_up,
        "unmet_down_bps": np.where(connected & link_ok, demand_down - down, demand_down), "bottleneck": bottleneck,
        "sinr_down_db": sinr_down.astype(np.float32), "sinr_up_db": sinr_up.astype(np.float32),
        "efficiency_down_bps_per_hz": eta_down.astype(np.float32), "queue_ms": queue.astype(np.float32),
    }
    return loads


def ground_columns(chunk: Chunk, t: int, sat_online: np.ndarray) -> dict[str, np.ndarray]:
    """Each dish's terrestrial alternative at t, and by what the user is online."""
    model, net = chunk.model, chunk.model.network
    threat = chunk.threats(t)
    ground = np.ones(len(net.dish_sites), dtype=bool)
    if threat is not None:
        ground = ~threat.terrestrial_down[net.dish_sites]
    online_by = np.where(sat_online & ground, 0, np.where(sat_online, 1, np.where(ground, 2, 3))).astype(np.int8)
    return {"ground_online": ground, "ground_rtt_ms": model.terrestrial.ground_rtt_ms[net.dish_sites].astype(np.float32),
            "online_by": online_by}


