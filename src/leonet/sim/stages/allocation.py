"""Stage 4, the allocation: each connected dish's radio link (SINR, spectral efficiency, with any
jammers) and its max-min fair share of every link on its route, down and up (see
:mod:`leonet.capacity.model`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...capacity.model import DirectionResult, allocate_direction, link_efficiency, queueing_ms
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
    sinr_down_db, sinr_up_db : (D,) float64, dB.
    efficiency_down_bps_per_hz : (D,) float64, bit/s/Hz (0: the link does not close).
    queue_ms : (D,) float64, queueing delay down plus up at the busiest link of the route, ms.
    link_ok : (D,) bool, the radio link closes both ways.
    jammed : (D,) bool, connected, but the link does not close under jamming.
    no_budget : (D,) bool, connected, but the link budget does not close even without jamming.
    directions : (down, up) DirectionResult with every link's load, or () without flows.
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


def allocate(model: SimulationModel, sky: Sky, routes: DishRoutes) -> Allocation:
    """Max-min fair rates of the connected dishes whose radio link closes, down and up."""
    net, cm = model.network, model.capacity
    n_d = len(net.dish_sites)
    connected = routes.connected
    factor = sky.events.demand_factor[net.dish_sites] if sky.events is not None else np.ones(n_d)
    i_n_down, i_n_up = interference_to_noise_db(model, sky, routes)
    sinr_down, eta_down, sinr_up, eta_up = link_efficiency(
        cm, cm.dish_cell, np.nan_to_num(routes.elevation_deg, nan=90.0), np.nan_to_num(routes.range_m, nan=1e6),
        i_n_down, i_n_up)
    link_ok = (eta_down > 0) & (eta_up > 0)
    jammed = connected & ~link_ok & (np.isfinite(i_n_down) | np.isfinite(i_n_up))
    demand_down = cm.demand_down_bps * cm.activity * factor
    demand_up = cm.demand_up_bps * cm.activity * factor
    flows = np.flatnonzero(connected & link_ok)
    down, up, speed_down, speed_up, queue = (np.zeros(n_d) for _ in range(5))
    bottleneck = np.zeros(n_d, dtype=np.int8)
    directions: tuple[DirectionResult, ...] = ()
    if len(flows):
        common = dict(serving=routes.serving[flows].astype(np.int64), cell=cm.dish_cell[flows],
                      path=routes.path[flows], isl_hops=routes.isl_hops[flows].astype(np.int64),
                      gateway=routes.gateway[flows].astype(np.int64), pop=routes.pop[flows].astype(np.int64),
                      model=cm, multiplicity=model.dish_count[net.dish_sites[flows]])
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
