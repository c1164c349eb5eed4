"""The step function: what happens at instants t, as a pure function of the model and t.

A chunk of instants is computed together (SGP4 propagates all of them in one call), but the
result for each instant depends on that instant alone (and on the start of its 15 s slot, and on
the step before it for "did the path change"), so chunks can run in any order on any worker and
give the same rows.

Tables produced (pyarrow, one row per ...):

- ``site_steps``: (step, site): t, site, n_visible, n_clear (not behind an obstruction mask),
  best_sat, best_elevation_deg, best_range_m (the highest clear satellite).
- ``visibility``: (step, site, satellite in view): t, site, sat, elevation_deg, azimuth_deg,
  range_m, obstructed. Optional (``outputs.visibility_pairs``).
- ``dish_steps``: (step, dish): t, site, slot_start, serving_sat, state, rtt_ms, gateway, pop,
  isl_hops, hops, path (satellites), path_changed, rerouted_mid_slot, ground_online,
  ground_rtt_ms (fibre to the nearest internet exchange), online_by (both/satellite/ground/none).
- ``pair_steps``: (step, station pair): t, src, dst, rtt_ms, hops, path, path_changed.
- ``network_steps``: (step): t, isl_active, isl_dropped_grazing, isl_dropped_range,
  isl_dropped_failed, feeder_links.
- ``load_steps`` (with capacity): (step, direction, busy link): t, direction (down/up), kind
  (beam/satellite/laser/feeder/pop), a, b (beam: sat, cell; satellite: sat; laser: from, to sat;
  feeder: gateway site, sat; pop: PoP site), load_bps, utilisation.
- ``positions``: (step, satellite): t, sat, x_m, y_m, z_m, error_code. Optional.

With capacity, ``dish_steps`` also has downlink_bps, uplink_bps, demand_down_bps, demand_up_bps,
unmet_down_bps, speedtest_down_bps, speedtest_up_bps (what a speed test would measure: the rate
plus the spare capacity of the tightest link), bottleneck, sinr_down_db, sinr_up_db,
efficiency_down_bps_per_hz, queue_ms.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..constants import SPEED_OF_LIGHT_M_PER_S
from ..network.graph import build_snapshot_graph, gateway_links
from ..network.isl import active_isls
from ..network.pairs import forwarding_state, route_pairs, station_graph
from ..network.routing import route_to_internet, satellite_paths
from ..network.slots import best_row_per_site, choose_serving, spread_over_satellites
from ..space.propagate import propagate
from .model import SimulationModel

_TS = pa.timestamp("ns", tz="UTC")
STATES = ("CONNECTED", "NO_SATS", "NO_PATH", "OBSTRUCTED", "OFFLINE", "JAMMED", "CONGESTED")
#: Look-ahead for the longest-visibility policy: samples every 15 s for 10 minutes.
_LOOKAHEAD_STEP_S, _LOOKAHEAD_N = 15, 40


def _site_step_columns(all_pairs, pairs, n_sites: int) -> dict[str, np.ndarray]:
    """Per-site aggregates of one instant's pairs: counts in view (and clear of obstructions), and
    the highest clear satellite."""
    n_visible = np.bincount(all_pairs.site, minlength=n_sites).astype(np.int16)
    n_clear = np.bincount(pairs.site, minlength=n_sites).astype(np.int16)
    best_sat = np.full(n_sites, -1, dtype=np.int32)
    best_el = np.full(n_sites, np.nan, dtype=np.float32)
    best_range = np.full(n_sites, np.nan, dtype=np.float32)
    if len(pairs):
        rows = best_row_per_site(pairs.site, pairs.elevation_deg, n_sites)
        has = rows >= 0
        r = rows[has]
        best_sat[has] = pairs.sat[r]
        best_el[has] = pairs.elevation_deg[r]
        best_range[has] = pairs.range_m[r]
    return {"n_visible": n_visible, "n_clear": n_clear, "best_sat": best_sat, "best_elevation_deg": best_el,
            "best_range_m": best_range}


def _subset_pairs(pairs, site_index: np.ndarray, n_sites: int):
    """Pairs whose site is in ``site_index``, renumbered to positions in ``site_index``."""
    number = np.full(n_sites, -1, dtype=np.int64)
    number[site_index] = np.arange(len(site_index))
    local = number[pairs.site]
    keep = local >= 0
    return local[keep], pairs.sat[keep], pairs.elevation_deg[keep], pairs.range_m[keep]


class _Chunk:
    """Positions and visibility for every instant a chunk needs, computed once each."""

    def __init__(self, model: SimulationModel, instants: np.ndarray):
        self.model = model
        self.instants = np.unique(instants)
        self.positions = propagate(model.constellation, self.instants)
        self._row = {int(t): k for k, t in enumerate(self.instants)}
        self._pairs: dict[int, object] = {}
        self._threats: dict[int, object] = {}
        self.has_events = bool(model.scenario.events) and model.scenario.network.enabled
        if self.has_events:
            # Lost satellites vanish: no visibility, no lasers, never on a path.
            for t in self.instants:
                lost = self.threats(t).sat_lost
                if lost.any():
                    self.positions.ecef_m[self._row[int(t)], lost] = np.nan

    def forget_until(self, t: int) -> None:
        """Drop the visibility of instants up to t: later steps need only their own (and their
        slot's, whose assignment is cached by then)."""
        for key in [k for k in self._pairs if (k[1] if isinstance(k, tuple) else k) <= t]:
            del self._pairs[key]

    def threats(self, t: int):
        """What the scenario's events have broken at t (None without events)."""
        if not self.has_events:
            return None
        t = int(t)
        if t not in self._threats:
            self._threats[t] = self.model.timeline.state_at(t)
        return self._threats[t]

    def ecef(self, t: int) -> np.ndarray:
        return self.positions.ecef_m[self._row[int(t)]]

    def pairs(self, t: int):
        """Every pair in view by the visibility rule (obstructed ones flagged)."""
        t = int(t)
        if t not in self._pairs:
            self._pairs[t] = self.model.visibility.query(self.ecef(t))
        return self._pairs[t]

    def clear(self, t: int):
        """Pairs in view and not blocked by an obstruction mask."""
        key = ("clear", int(t))
        if key not in self._pairs:
            p = self.pairs(t)
            self._pairs[key] = p.clear() if p.obstructed.any() else p
        return self._pairs[key]


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


def _assignments(chunk: _Chunk, slot_start: int) -> np.ndarray:
    """Serving satellite of every dish for the slot that starts at ``slot_start``."""
    model, net = chunk.model, chunk.model.network
    local, sat, el, _ = _subset_pairs(chunk.clear(slot_start), net.dish_sites, len(model.sites))
    remaining = None
    if net.policy == "longest-visibility":
        remaining = _remaining_visibility_s(model, slot_start, local, sat, net)
    if net.policy == "load-aware":
        return spread_over_satellites(local, sat, el, len(net.dish_sites), net.dish_cell, net.max_sats_per_cell)
    return choose_serving(local, sat, el, len(net.dish_sites), remaining, net.policy)


def _routes_at(chunk: _Chunk, t: int):
    """ISLs in use, feeder links (highest satellites per gateway antenna) and routes at instant t."""
    model, net = chunk.model, chunk.model.network
    n_sats = len(model.constellation)
    isl = active_isls(net.isl_candidates, chunk.ecef(t), net.grazing_height_m, net.isl_max_range_m)
    g_local, g_sat, g_el, g_rng = _subset_pairs(chunk.clear(t), net.gateway_sites, len(model.sites))
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


def _path_delay_at(chunk: _Chunk, t: int, paths: _DishPaths) -> tuple[np.ndarray, np.ndarray]:
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


def _network_at(chunk: _Chunk, t: int, slot: int, cache: dict) -> dict:
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
    d_local, d_sat, d_el, d_rng = _subset_pairs(pairs, net.dish_sites, n_sites)
    n_d = len(net.dish_sites)
    # The slot satellite may be in view but behind an obstruction now: the dish keeps it (the
    # schedule is set for the slot) and is OBSTRUCTED until it clears or the slot ends.
    all_local, all_sat, _, _ = _subset_pairs(chunk.pairs(t), net.dish_sites, n_sites)
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
        s_local, s_sat, _, s_rng = _subset_pairs(pairs, stations, n_sites)  # clear pairs
        matrix = station_graph(n_sats, len(stations), isl.links, isl.length_m, s_local, s_sat, s_rng)
        number = np.full(n_sites, -1, dtype=np.int64)
        number[stations] = np.arange(len(stations))
        src, dst = number[net.pair_src], number[net.pair_dst]
        state_fw = forwarding_state(matrix, n_sats, len(stations), np.unique(dst))
        pr = route_pairs(state_fw, src, dst)
        out["pairs"] = dict(rtt_ms=2e3 * pr.one_way_s, hops=pr.hops, path=pr.path_sats)
    return out


ONLINE_BY = ("both", "satellite", "ground", "none")


def _capacity_at(chunk: _Chunk, t: int, dish: dict, connected: np.ndarray, range_m: np.ndarray,
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


def _ground_columns(chunk: _Chunk, t: int, sat_online: np.ndarray) -> dict[str, np.ndarray]:
    """Each dish's terrestrial alternative at t, and by what the user is online."""
    model, net = chunk.model, chunk.model.network
    threat = chunk.threats(t)
    ground = np.ones(len(net.dish_sites), dtype=bool)
    if threat is not None:
        ground = ~threat.terrestrial_down[net.dish_sites]
    online_by = np.where(sat_online & ground, 0, np.where(sat_online, 1, np.where(ground, 2, 3))).astype(np.int8)
    return {"ground_online": ground, "ground_rtt_ms": model.terrestrial.ground_rtt_ms[net.dish_sites].astype(np.float32),
            "online_by": online_by}


def _list_column(matrix: np.ndarray) -> pa.Array:
    """(M, L) int32 padded with -1 -> pyarrow list<int32> without the padding."""
    valid = matrix >= 0
    counts = valid.sum(axis=1)
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(matrix[valid].astype(np.int32)))


def _same_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    width = max(a.shape[1], b.shape[1])
    pa_ = np.full((a.shape[0], width), -1, dtype=np.int32)
    pb_ = np.full((b.shape[0], width), -1, dtype=np.int32)
    pa_[:, : a.shape[1]] = a
    pb_[:, : b.shape[1]] = b
    return (pa_ == pb_).all(axis=1)


def compute_chunk(model: SimulationModel, t_ns: np.ndarray, prev_t_ns: int | None = None) -> dict[str, pa.Table]:
    """Results for the instants ``t_ns`` (int64, shape (T,)) as pyarrow tables (see module doc).

    ``prev_t_ns`` is the step before ``t_ns[0]`` (None for a run's first step); it is recomputed
    here so that "path changed" needs nothing from another chunk.
    """
    t_ns = np.asarray(t_ns, dtype=np.int64)
    sc = model.scenario
    outputs = sc.outputs
    n_sites = len(model.sites)
    do_net = sc.network.enabled
    net = model.network if do_net else None
    steps = t_ns if prev_t_ns is None else np.r_[np.int64(prev_t_ns), t_ns]
    instants = steps
    if do_net:
        slot_of = net.clock.slot_start(steps)
        instants = np.r_[steps, slot_of]
    chunk = _Chunk(model, instants)

    site_cols: dict[str, list] = {}
    vis_cols: dict[str, list] = {k: [] for k in ("t", "site", "sat", "elevation_deg", "azimuth_deg", "range_m", "obstructed")}
    dish_cols: dict[str, list] = {}
    pair_cols: dict[str, list] = {}
    net_cols: dict[str, list] = {}
    load_cols: dict[str, list] = {}
    assigned: dict[int, object] = {}  # slot start -> the slot's dish paths
    prev_dish = prev_pair = None
    for k, t in enumerate(steps):
        is_output = not (prev_t_ns is not None and k == 0)
        pairs = chunk.pairs(t)
        if is_output:
            cols = {"t": np.full(n_sites, t, dtype=np.int64), "site": np.arange(n_sites, dtype=np.int32)}
            cols.update(_site_step_columns(pairs, chunk.clear(t), n_sites))
            for name, col in cols.items():
                site_cols.setdefault(name, []).append(col)
            if outputs.visibility_pairs:
                vis_cols["t"].append(np.full(len(pairs), t, dtype=np.int64))
                vis_cols["site"].append(pairs.site)
                vis_cols["sat"].append(pairs.sat)
                vis_cols["elevation_deg"].append(pairs.elevation_deg.astype(np.float32))
                vis_cols["azimuth_deg"].append(pairs.azimuth_deg.astype(np.float32))
                vis_cols["range_m"].append(pairs.range_m.astype(np.float32))
                vis_cols["obstructed"].append(pairs.obstructed)
        if not do_net:
            chunk.forget_until(int(t))
            continue
        slot = int(slot_of[k])
        res = _network_at(chunk, t, slot, assigned)
        chunk.forget_until(int(t))  # a chunk of many dishes would otherwise hold every step's pairs
        d = res["dish"]
        dish_sig = np.c_[d["serving"], d["gateway"], d["pop"], d["path"]] if len(d["serving"]) else np.zeros((0, 3), dtype=np.int32)
        changed = np.zeros(len(d["serving"]), dtype=bool) if prev_dish is None else ~_same_rows(prev_dish, dish_sig)
        prev_dish = dish_sig
        if "pairs" in res:
            psig = res["pairs"]["path"]
            pchanged = np.zeros(len(psig), dtype=bool) if prev_pair is None else ~_same_rows(prev_pair, psig)
            prev_pair = psig
        if not is_output:
            continue
        n_d = len(d["serving"])
        for name, col in {
            "t": np.full(n_d, t, dtype=np.int64), "site": net.dish_sites.astype(np.int32),
            "slot_start": np.full(n_d, slot, dtype=np.int64), "serving_sat": d["serving"],
            "state": d["state"], "rtt_ms": d["rtt_ms"].astype(np.float32), "gateway": d["gateway"],
            "pop": d["pop"], "isl_hops": d["isl_hops"], "hops": d["hops"], "path": d["path"],
            "path_changed": changed, "rerouted_mid_slot": d["reassigned"],
            **_ground_columns(chunk, t, d["state"] == 0),
            **d.get("capacity", {}),
        }.items():
            dish_cols.setdefault(name, []).append(col)
        if res.get("loads"):
            for direction, r in res["loads"]:
                busy = r.link_load_bps > 0
                n_l = int(busy.sum())
                for name, col in {
                    "t": np.full(n_l, t, dtype=np.int64), "direction": np.full(n_l, direction, dtype=np.int8),
                    "kind": r.link_kind[busy], "a": r.link_a[busy].astype(np.int32), "b": r.link_b[busy].astype(np.int32),
                    "load_bps": r.link_load_bps[busy], "utilisation": r.link_utilisation[busy].astype(np.float32),
                }.items():
                    load_cols.setdefault(name, []).append(col)
        for name, value in res["network"].items():
            net_cols.setdefault(name, []).append(np.array([value], dtype=np.int32))
        net_cols.setdefault("t", []).append(np.array([t], dtype=np.int64))
        if "pairs" in res:
            p = res["pairs"]
            m = len(net.pair_src)
            for name, col in {
                "t": np.full(m, t, dtype=np.int64), "src": net.pair_src.astype(np.int32),
                "dst": net.pair_dst.astype(np.int32), "rtt_ms": p["rtt_ms"].astype(np.float32),
                "hops": p["hops"].astype(np.int16), "path": p["path"], "path_changed": pchanged,
            }.items():
                pair_cols.setdefault(name, []).append(col)

    tables = {"site_steps": _table(site_cols)}
    if outputs.visibility_pairs:
        tables["visibility"] = _table(vis_cols)
    if do_net:
        tables["dish_steps"] = _table(dish_cols, states=True)
        tables["network_steps"] = _table(net_cols)
        if len(net.pair_src):
            tables["pair_steps"] = _table(pair_cols)
        if sc.capacity.enabled:
            tables["load_steps"] = _table(load_cols) if load_cols else _empty_loads()
    if outputs.positions:
        n_sats = len(model.constellation)
        xyz = np.concatenate([chunk.ecef(t) for t in t_ns])
        codes = np.concatenate([chunk.positions.error_code[chunk._row[int(t)]] for t in t_ns])
        tables["positions"] = _table({
            "t": [np.repeat(t_ns, n_sats)], "sat": [np.tile(np.arange(n_sats, dtype=np.int32), len(t_ns))],
            "x_m": [xyz[:, 0]], "y_m": [xyz[:, 1]], "z_m": [xyz[:, 2]], "error_code": [codes],
        })
    return tables


def _empty_loads() -> pa.Table:
    return _table({"t": [np.zeros(0, dtype=np.int64)], "direction": [np.zeros(0, dtype=np.int8)],
                   "kind": [np.zeros(0, dtype=np.int8)], "a": [np.zeros(0, dtype=np.int32)],
                   "b": [np.zeros(0, dtype=np.int32)], "load_bps": [np.zeros(0)],
                   "utilisation": [np.zeros(0, dtype=np.float32)]})


def _table(cols: dict[str, list], states: bool = False) -> pa.Table:
    arrays = {}
    for name, parts in cols.items():
        if name == "path":
            width = max((p.shape[1] for p in parts), default=0)
            padded = [np.pad(p, ((0, 0), (0, width - p.shape[1])), constant_values=-1) for p in parts]
            arrays[name] = _list_column(np.concatenate(padded) if padded else np.zeros((0, 0), dtype=np.int32))
            continue
        data = np.concatenate(parts) if parts else np.zeros(0)
        if name in ("t", "slot_start"):
            arrays[name] = pa.array(data.astype(np.int64), type=pa.int64()).cast(_TS)
        elif name == "state" and states:
            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array(data.astype(np.int8)), pa.array(list(STATES), pa.string()))
        elif name == "bottleneck":
            from ..capacity.model import BOTTLENECKS

            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array(data.astype(np.int8)), pa.array(list(BOTTLENECKS), pa.string()))
        elif name == "kind" and "load_bps" in cols:
            from ..capacity.model import BOTTLENECKS

            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array(data.astype(np.int8)), pa.array(list(BOTTLENECKS), pa.string()))
        elif name == "direction":
            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array(data.astype(np.int8)), pa.array(["down", "up"], pa.string()))
        elif name == "online_by":
            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array(data.astype(np.int8)), pa.array(list(ONLINE_BY), pa.string()))
        else:
            arrays[name] = pa.array(data)
    return pa.table(arrays)
