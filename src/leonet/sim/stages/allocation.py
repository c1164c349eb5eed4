"""Stage 4, the allocation: each connected dish's radio link (SINR, spectral efficiency, with any
jammers) and its max-min fair share of every link on its route, down and up (see
:mod:`leonet.capacity.model`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...capacity.model import DirectionResult, allocate_direction, link_efficiency, queueing_ms
from ...network.routekernels import path_hops
from ...service.kits import modcod_cap_bps
from ...service.latency import in_outage
from ...threats.jamming import dish_interference_to_noise_db, satellite_interference_to_noise_db
from ..model import SimulationModel
from .routes import DishRoutes
from .sky import Sky


@dataclass(frozen=True)
class Allocation:
    """Throughput of every dish at one instant (D dishes, network order).

    Attributes
    ----------
    demand_down_bps, demand_up_bps : (D,) float64, what each dish asks for, bit/s (busy-hour
        demand x activity x surge).
    down_bps, up_bps : (D,) float64, what it gets, bit/s (0 for dishes that are not flows).
    speedtest_down_bps, speedtest_up_bps : (D,) float64, what a speed test would measure, bit/s
        (its rate plus the spare capacity of the tightest link on its route).
    unmet_down_bps : (D,) float64, demand not served, bit/s.
    bottleneck : (D,) int8, the tightest link's kind (index into capacity.model.BOTTLENECKS).
    sinr_down_db, sinr_up_db : (D,) float64, dB (NaN: no serving satellite).
    efficiency_down_bps_per_hz : (D,) float64, bit/s/Hz (0: the link does not close; NaN: no
        serving satellite).
    queue_ms : (D,) float64, queueing delay down plus up at the busiest link of the route, ms.
    link_ok : (D,) bool, the radio link closes both ways (False without a serving satellite).
    jammed : (D,) bool, connected, but the link does not close under jamming.
    no_budget : (D,) bool, connected, but the link budget does not close even without jamming.
    directions : (down, up) DirectionResult with every link's load, or () without flows.
    dishes_on : (D,) int64, with the service model: admitted dishes of each site active now (its
        demand and rates are per active dish; a site with none active is one idle dish; 0 for a
        sold-out site, whose demand is still drawn for its dishes). None without.
    background_down_bps : (D,) float64, with the service model: background load offered to the
        serving satellite, bps (0 without one). None without.
    cap_down_bps, cap_up_bps : (D,) float64, with the service model: each dish's terminal cap at
        its link's MODCOD now, bps (:func:`leonet.service.kits.modcod_cap_bps`). None without.
    outage : (D,) bool, with the service model: the dish is in a short random outage now
        (:func:`leonet.service.latency.in_outage`; it takes no share). None without.

    With the service model (``service.enabled``), demand is on/off traffic per site, every dish's
    rate is capped by its kit, background subscribers load satellites and beams, and the speed
    test is a probe of one dish at its kit cap alongside the flows active now
    (:func:`service_allocate`).
    """

    demand_down_bps: np.ndarray
    demand_up_bps: np.ndarray
    down_bps: np.ndarray
    up_bps: np.ndarray
    speedtest_down_bps: np.ndarray
    speedtest_up_bps: np.ndarray
    unmet_down_bps: np.ndarray
    bottleneck: np.ndarray
    sinr_down_db: np.ndarray
    sinr_up_db: np.ndarray
    efficiency_down_bps_per_hz: np.ndarray
    queue_ms: np.ndarray
    link_ok: np.ndarray
    jammed: np.ndarray
    no_budget: np.ndarray
    directions: tuple[DirectionResult, ...]
    dishes_on: np.ndarray | None = None
    background_down_bps: np.ndarray | None = None
    cap_down_bps: np.ndarray | None = None
    cap_up_bps: np.ndarray | None = None
    outage: np.ndarray | None = None


def interference_to_noise_db(model: SimulationModel, sky: Sky, routes: DishRoutes) -> tuple[np.ndarray, np.ndarray]:
    """I/N (dB) of the active jammers at each dish (downlink) and at its serving satellite
    (uplink), each (D,); -inf without jamming."""
    net, cm, threat = model.network, model.capacity, sky.events
    n_d = len(net.dish_sites)
    i_n_down = np.full(n_d, -np.inf)
    i_n_up = np.full(n_d, -np.inf)
    if threat is not None and threat.jammers:
        dishes = model.sites.take(net.dish_sites)
        i_n_down = dish_interference_to_noise_db(threat.jammers, dishes.lat_deg, dishes.lon_deg, dishes.elevation_m,
                                                 cm.radio, cm.jamming_rejection_db)
        sat_i_n = satellite_interference_to_noise_db(threat.jammers, sky.sat_ecef_m, cm.radio,
                                                     cm.satellite_jamming_rejection_db)
        served = routes.serving >= 0
        i_n_up[served] = sat_i_n[routes.serving[served]]
    return i_n_down, i_n_up


def _radio(model: SimulationModel, sky: Sky, routes: DishRoutes):
    """Per dish (D,): the events' demand factor; SINR (dB) and spectral efficiency (bit/s/Hz) down
    and up under any jamming; whether both links close; whether a connected dish is jammed."""
    net, cm = model.network, model.capacity
    factor = sky.events.demand_factor[net.dish_sites] if sky.events is not None else np.ones(len(net.dish_sites))
    if model.service is None:   # without the service model a site is a fluid: its load scales with its dishes
        factor = factor * _delivered(model, sky)
    i_n_down, i_n_up = interference_to_noise_db(model, sky, routes)
    # a dish without a serving satellite has no link: the placeholder geometry only keeps the
    # budget free of NaN warnings, and its made-up SINR and efficiency are masked to NaN at once
    # (its kit cap then stays nominal, and it is never a flow)
    unserved = routes.serving < 0
    radio = link_efficiency(cm, cm.dish_cell, np.where(unserved, 90.0, routes.elevation_deg),
                            np.where(unserved, 1e6, routes.range_m), i_n_down, i_n_up)
    radio = tuple(np.where(unserved, np.nan, r) for r in radio)
    link_ok = (radio[1] > 0) & (radio[3] > 0)
    jammed = routes.connected & ~link_ok & (np.isfinite(i_n_down) | np.isfinite(i_n_up))
    return factor, radio, link_ok, jammed


def allocate(model: SimulationModel, sky: Sky, routes: DishRoutes) -> Allocation:
    """Max-min fair rates of the connected dishes whose radio link closes, down and up."""
    if model.service is not None:
        return service_allocate(model, sky, routes)
    net, cm = model.network, model.capacity
    n_d = len(net.dish_sites)
    connected = routes.connected
    factor, (sinr_down, eta_down, sinr_up, eta_up), link_ok, jammed = _radio(model, sky, routes)
    demand_down = cm.demand_down_bps * cm.activity * factor
    demand_up = cm.demand_up_bps * cm.activity * factor
    flows = np.flatnonzero(connected & link_ok)
    down, up, speed_down, speed_up, queue = (np.zeros(n_d) for _ in range(5))
    bottleneck = np.zeros(n_d, dtype=np.int8)
    directions: tuple[DirectionResult, ...] = ()
    if len(flows):
        path = routes.path[flows]
        common = dict(serving=routes.serving[flows].astype(np.int64), cell=cm.dish_cell[flows],
                      path=path, isl_hops=routes.isl_hops[flows].astype(np.int64),
                      gateway=routes.gateway[flows].astype(np.int64), pop=routes.pop[flows].astype(np.int64),
                      model=cm, multiplicity=model.dish_count[net.dish_sites[flows]],
                      hops=path_hops(path))  # the laser hops once for both directions
        rd = allocate_direction(eta_bps_per_hz=eta_down[flows], bandwidth_hz=cm.radio.user_downlink_bandwidth_hz,
                                demand_bps=demand_down[flows], sat_capacity_bps=cm.sat_down_bps, downlink=True, **common)
        ru = allocate_direction(eta_bps_per_hz=eta_up[flows], bandwidth_hz=cm.radio.user_uplink_bandwidth_hz,
                                demand_bps=demand_up[flows], sat_capacity_bps=cm.sat_up_bps, downlink=False, **common)
        down[flows], up[flows], bottleneck[flows] = rd.rate_bps, ru.rate_bps, rd.bottleneck
        speed_down[flows], speed_up[flows] = rd.available_bps, ru.available_bps
        queue[flows] = queueing_ms(rd.utilisation_max, cm) + queueing_ms(ru.utilisation_max, cm)
        directions = (rd, ru)
    return Allocation(
        demand_down, demand_up, down, up, speed_down, speed_up,
        unmet_down_bps=np.where(connected & link_ok, demand_down - down, demand_down), bottleneck=bottleneck,
        sinr_down_db=sinr_down, sinr_up_db=sinr_up, efficiency_down_bps_per_hz=eta_down, queue_ms=queue,
        link_ok=link_ok, jammed=jammed, no_budget=connected & ~link_ok & ~jammed, directions=directions,
    )


def service_allocate(model: SimulationModel, sky: Sky, routes: DishRoutes) -> Allocation:
    """The allocation with the service model (docs/service-model.md, items 1-4):

    - demand: each site's admitted dishes alternate on and off (:func:`leonet.service.traffic.demand_bps`,
      a pure function of t); a site is a flow of its active dishes (at least one), each asking
      for the site's demand per active dish, never above its kit's cap (the terminal link); a
      sold-out site's dishes ask the same way but are no flow (their demand is all unmet);
    - background: the satellites serving the scenario's dishes carry the load of the background
      subscribers in their footprints, shared among the satellites in view in proportion to their
      capacity (their capacity left is ``capacity - load``); with ``beam_hopping: equal`` their
      beams also hop over the background's cells, an equal slot per occupied cell (``beams /
      cells`` of a beam); the background subscribers active in a dish's own cell compete with it on its
      beam as one more max-min flow;
    - speed test: one dish of each site probes at its kit cap alongside the flows active now
      (:func:`leonet.service.traffic.speed_test_bps`).
    """
    net, cm, svc = model.network, model.capacity, model.service
    n_d = len(net.dish_sites)
    connected = routes.connected
    factor, (sinr_down, eta_down, sinr_up, eta_up), link_ok, jammed = _radio(model, sky, routes)
    # a backhaul dish carries the on/off traffic of the users behind it through one terminal
    backhaul = svc.users_per_dish > 1
    # a sold-out site's dishes want service too (its demand counts as unmet; it is never a flow)
    dn, up, n_on = svc.period_demand(sky.t_ns)     # traffic.demand_bps, drawn once per period
    dn, up, n_on = _delivered_dishes_on(model, sky, dn, up, n_on)
    per = np.where(backhaul, np.maximum(svc.n_wanting, 1), np.maximum(n_on, 1))
    # the terminal's cap at its link's MODCOD now (a modem's symbol rate is fixed)
    cap_down = modcod_cap_bps(svc.cap_down_bps, eta_down, svc.kit_cap_efficiency_bps_per_hz)
    cap_up = modcod_cap_bps(svc.cap_up_bps, eta_up, svc.kit_cap_efficiency_bps_per_hz)
    demand_down = np.minimum(dn * factor / per, cap_down)
    demand_up = np.minimum(up * factor / per, cap_up)
    # a dish in a short random outage (a pure function of t, as the service stage reads it) moves
    # nothing: it takes no share, and its traffic loads no link
    outage = in_outage(np.arange(n_d, dtype=np.int64), sky.t_ns, svc.seed, svc.latency)
    flows = np.flatnonzero(connected & link_ok & (svc.n_admitted > 0) & ~outage)
    down, up_r, speed_down, speed_up, queue, bg_sat = (np.zeros(n_d) for _ in range(6))
    bottleneck = np.zeros(n_d, dtype=np.int8)
    directions: tuple[DirectionResult, ...] = ()
    if len(flows):
        serving = routes.serving[flows].astype(np.int64)
        cell = cm.dish_cell[flows]
        sat_down, sat_up, bg_load, extra_cells, bg_flows_down, bg_flows_up = _background(
            model, sky, flows, serving, cell, cap_down[flows], cap_up[flows])
        bg_sat[flows] = bg_load
        path = routes.path[flows]
        common = dict(serving=serving, cell=cell, path=path, isl_hops=routes.isl_hops[flows].astype(np.int64),
                      gateway=routes.gateway[flows].astype(np.int64), pop=routes.pop[flows].astype(np.int64),
                      model=cm, multiplicity=per[flows].astype(float), extra_cells_per_sat=extra_cells,
                      beams_per_sat=svc.sat_beams, hops=path_hops(path))  # laser hops once for both directions
        rd = allocate_direction(eta_bps_per_hz=eta_down[flows], bandwidth_hz=cm.radio.user_downlink_bandwidth_hz,
                                demand_bps=demand_down[flows], sat_capacity_bps=sat_down, downlink=True,
                                background=bg_flows_down, **common)
        ru = allocate_direction(eta_bps_per_hz=eta_up[flows], bandwidth_hz=cm.radio.user_uplink_bandwidth_hz,
                                demand_bps=demand_up[flows], sat_capacity_bps=sat_up, downlink=False,
                                background=bg_flows_up, **common)
        down[flows], up_r[flows], bottleneck[flows] = rd.rate_bps, ru.rate_bps, rd.bottleneck
        speed_down[flows] = _probe(rd, per[flows], cap_down[flows])
        speed_up[flows] = _probe(ru, per[flows], cap_up[flows])
        directions = (rd, ru)
    served = np.isin(np.arange(n_d), flows)
    return Allocation(
        demand_down, demand_up, down, up_r, speed_down, speed_up,
        unmet_down_bps=np.where(served, demand_down - down, demand_down), bottleneck=bottleneck,
        sinr_down_db=sinr_down, sinr_up_db=sinr_up, efficiency_down_bps_per_hz=eta_down, queue_ms=queue,
        link_ok=link_ok, jammed=jammed, no_budget=connected & ~link_ok & ~jammed, directions=directions,
        dishes_on=np.where(svc.sold_out, 0, n_on).astype(np.int64), background_down_bps=bg_sat, cap_down_bps=cap_down, cap_up_bps=cap_up,
        outage=outage,
    )


def _delivered(model: SimulationModel, sky: Sky) -> np.ndarray:
    """(D,) share of each dish site's dishes delivered at t (a ``deliveries`` event; 1: all)."""
    n_d = len(model.network.dish_sites)
    if sky.events is None or sky.events.delivered is None:
        return np.ones(n_d)
    return sky.events.delivered[model.network.dish_sites]


def _delivered_dishes_on(model: SimulationModel, sky: Sky, down_bps: np.ndarray, up_bps: np.ndarray,
                         n_on: np.ndarray):
    """A site's traffic with only its delivered dishes: of its ``n_on`` dishes on now, each is
    there with the delivered share (a binomial thinning, drawn per site and on/off period as the
    traffic is, so chunks agree), and the site's demand keeps each remaining dish's own (its
    demand per dish on is unchanged; the site's falls with its dishes). Before Dec 2026 every dish
    stayed on with its demand scaled by the share, so a dish's figures were those of a part-dish."""
    from ...service.rng import uniform
    from ...service.traffic import binomial_draws, period_index

    share = _delivered(model, sky)
    if (share >= 1.0).all():
        return down_bps, up_bps, n_on
    svc = model.service
    ids = np.arange(len(n_on), dtype=np.int64)
    index, _ = period_index(ids, sky.t_ns, svc.seed, svc.traffic)
    kept = binomial_draws(uniform(svc.seed, "deliveries.kept", ids, index), n_on, share)
    scale = np.where(n_on > 0, kept / np.maximum(n_on, 1), 0.0)
    return down_bps * scale, up_bps * scale, kept


def _background(model: SimulationModel, sky: Sky, flows: np.ndarray, serving: np.ndarray, cell: np.ndarray,
                cap_down_bps: np.ndarray, cap_up_bps: np.ndarray):
    """The background subscribers' share of the satellites and cells the flows use: each
    satellite's user capacity left down and up (N,) bps, the load offered to each flow's satellite
    (F,) bps, the background cells each satellite's beams hop over (None: beams follow demand),
    and the background flows competing in each flow's own cell (down, up: a list of (share,
    rate) pairs, one per distinct use rate, or None). ``cap_down_bps``, ``cap_up_bps`` (F,): each flow's kit
    cap now, the rate of the elastic uses of its cell's background subscribers."""
    from ...service import background as bgm

    svc = model.service
    sat_down, sat_up = svc.sat_down_bps.copy(), svc.sat_up_bps.copy()
    if svc.grid is None:
        return sat_down, sat_up, np.zeros(len(flows)), None, None, None
    cell_area = svc.cell_area_m2
    load, extra_cells = bgm.satellite_background_near(svc.grid, sky.sat_ecef_m, serving, svc.min_elevation_deg,
                                                      sky.t_ns, svc.busy_down_bps, cell_area, svc.traffic.diurnal,
                                                      weight=svc.sat_down_bps, cell_weight=svc.sat_beams)
    if svc.beams_follow_demand:
        extra_cells = None   # beams follow demand: only the satellite's capacity is shared
    sat_down = bgm.residual_capacity_bps(sat_down, load)
    sat_up = bgm.residual_capacity_bps(sat_up, load * (svc.busy_up_bps / max(svc.busy_down_bps, 1e-9)))
    bg_down, bg_up = _cell_background_flows(svc, sky.t_ns, flows, cell, cap_down_bps, cap_up_bps)
    return sat_down, sat_up, load[serving], extra_cells, bg_down, bg_up


def _cell_background_flows(svc, t_ns: int, flows: np.ndarray, cell: np.ndarray, cap_down_bps: np.ndarray,
                           cap_up_bps: np.ndarray):
    """The background subscribers active in each flow's beam cell now, as one competing flow per
    distinct use rate: ([(share (F,), rate_bps (F,)) per rate] down, the same up). A cell's subscribers switch on
    and off as the scenario's dishes do (``svc.cell_use_counts``: its count on each use is the
    aggregate of its subscribers' on/off processes, drawn per cell and on/off period, so it has
    their variance, not only their mean); they are spread evenly over the cell's flows. Elastic
    uses (bulk) ask the flow's kit cap now."""
    row, period_counts = svc.cell_use_counts
    counts, _ = period_counts(t_ns)
    _, cell_inv, in_cell = np.unique(cell, return_inverse=True, return_counts=True)
    share = counts[row[flows]] / in_cell[cell_inv.reshape(-1), None]          # (F, K)
    return (_merged_classes(share, [u.down_bps for u in svc.traffic.uses], cap_down_bps),
            _merged_classes(share, [u.up_bps for u in svc.traffic.uses], cap_up_bps))


def _merged_classes(share: np.ndarray, rate_bps: list[float], cap_bps: np.ndarray) -> list[tuple]:
    """One background class per distinct rate: uses that ask the same rate (browsing and calls,
    3 Mbps down) are one max-min flow of their summed subscribers (identical demands on one link
    get identical rates, so this is exact and keeps the max-min problem small). Each rate is
    clipped at the flow's kit cap; an elastic use (inf) asks the cap."""
    merged: dict[float, np.ndarray] = {}
    for k, r in enumerate(rate_bps):
        merged[r] = merged.get(r, 0.0) + share[:, k]
    return [(m, np.minimum(r, cap_bps)) for r, m in merged.items()]


def _probe(r: DirectionResult, per_flow_dishes: np.ndarray, cap_bps: np.ndarray) -> np.ndarray:
    """A speed test of one dish of each flow: a probe with one dish's weights on the flow's route,
    alongside every flow at its current rate (background flows included), capped at the kit."""
    from ...service.traffic import speed_test_bps

    f = len(per_flow_dishes)
    routing = _with_probe_rows(r.routing, f, 1.0 / per_flow_dishes)
    rate = np.r_[r.all_rate_bps, np.zeros(f)]
    return speed_test_bps(routing, r.capacity_bps, rate, r.routing.shape[0] + np.arange(f), cap_bps, alongside=True)


def _with_probe_rows(routing, f: int, scale: np.ndarray):
    """``routing`` (R, L) CSR with its first ``f`` rows appended again, each scaled by ``scale``
    (f,): (R + f, L) CSR, the probes' rows last. The entries of ``sp.vstack([routing,
    routing[:f].multiply(scale[:, None])])``, in the same order, without scipy's general stacking
    (a product that underflows to 0 stays as an explicit zero, which ``speed_test_bps`` drops)."""
    import scipy.sparse as sp

    routing = routing.tocsr()
    indptr = routing.indptr.astype(np.int64)
    nnz_f = int(indptr[f])
    own = routing.data[:nnz_f] * np.repeat(scale, np.diff(indptr[:f + 1]))
    data = np.concatenate([routing.data, own])
    indices = np.concatenate([routing.indices, routing.indices[:nnz_f]])
    new_ptr = np.concatenate([indptr, indptr[-1] + indptr[1:f + 1]])
    return sp.csr_matrix((data, indices, new_ptr), shape=(routing.shape[0] + f, routing.shape[1]))
