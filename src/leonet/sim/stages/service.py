"""Stage 5, the service: what each dish's user gets at an instant, in the words of
:mod:`leonet.states` (CONNECTED, NO_SATS, NO_PATH, OBSTRUCTED, OFFLINE, JAMMED, CONGESTED), its
round-trip time, and the terrestrial alternative."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...constants import SPEED_OF_LIGHT_M_PER_S
from ...states import code
from ..model import SimulationModel
from .allocation import Allocation
from .routes import DishRoutes
from .sky import Sky

CONNECTED, NO_SATS, NO_PATH, OBSTRUCTED = code("CONNECTED"), code("NO_SATS"), code("NO_PATH"), code("OBSTRUCTED")
OFFLINE, JAMMED, CONGESTED = code("OFFLINE"), code("JAMMED"), code("CONGESTED")


@dataclass(frozen=True)
class DishService:
    """What each dish's user gets at one instant (D dishes, network order).

    Attributes
    ----------
    state : (D,) int8, code of the dish's state (leonet.states).
    rtt_ms : (D,) float64, round trip dish -> PoP, ms: propagation, plus queueing with the
        capacity model; NaN without service.
    gateway, pop : (D,) int32 site index, -1 without service.
    isl_hops, hops : (D,) int16, -1 without service.
    path : (D, W) int32 satellites of the route, serving first, -1 padded.
    rerouted_mid_slot : (D,) bool, served over a route chosen mid-slot.
    ground_online : (D,) bool, the dish's site still has its terrestrial internet.
    ground_rtt_ms : (D,) float32, round trip over fibre to the nearest internet exchange, ms.
    online_by : (D,) int8, index into leonet.sim.schemas.ONLINE_BY (both, satellite, ground, none).
    """

    state: np.ndarray
    rtt_ms: np.ndarray
    gateway: np.ndarray
    pop: np.ndarray
    isl_hops: np.ndarray
    hops: np.ndarray
    path: np.ndarray
    rerouted_mid_slot: np.ndarray
    ground_online: np.ndarray
    ground_rtt_ms: np.ndarray
    online_by: np.ndarray


def dish_states(model: SimulationModel, routes: DishRoutes, allocation: Allocation | None) -> np.ndarray:
    """(D,) int8 state codes. Without a route: OBSTRUCTED, NO_SATS or NO_PATH; OFFLINE overrides;
    with capacity, a connected dish whose link does not close is JAMMED (under jamming) or NO_SATS,
    and one that gets less than it asks and less than ``capacity.congested_below_mbps`` CONGESTED
    (a dish that asks for 2 Mbps and gets it is not congested)."""
    has_sat = routes.serving >= 0
    state = np.where(routes.routed, CONNECTED, np.where(routes.obstructed, OBSTRUCTED,
                                                        np.where(~has_sat, NO_SATS, NO_PATH))).astype(np.int8)
    state[routes.offline] = OFFLINE
    if allocation is not None:
        state[allocation.jammed] = JAMMED
        state[allocation.no_budget] = NO_SATS
        wanted = np.minimum(model.capacity.congested_below_bps, allocation.demand_down_bps)
        congested = routes.connected & allocation.link_ok & (allocation.down_bps < wanted * (1.0 - 1e-6))
        state[congested] = CONGESTED
    return state


def serve(model: SimulationModel, sky: Sky, routes: DishRoutes, allocation: Allocation | None) -> DishService:
    """States, RTT and route of each dish; a dish whose radio link does not close keeps no route."""
    connected = routes.connected
    state = dish_states(model, routes, allocation)
    rtt_ms = np.where(connected, 2e3 * (routes.range_m / SPEED_OF_LIGHT_M_PER_S + routes.one_way_s), np.nan)
    gateway, pop, isl_hops, hops, path = routes.gateway, routes.pop, routes.isl_hops, routes.hops, routes.path
    if allocation is not None:
        lost = allocation.jammed | allocation.no_budget
        rtt_ms = np.where(lost, np.nan, rtt_ms + allocation.queue_ms)
        gateway = np.where(lost, -1, gateway).astype(gateway.dtype)
        pop = np.where(lost, -1, pop).astype(pop.dtype)
        isl_hops = np.where(lost, -1, isl_hops).astype(np.int16)
        hops = np.where(lost, -1, hops).astype(np.int16)
        path = np.where(lost[:, None], -1, path)
    ground_online, online_by = online_by_what(model, sky, state == CONNECTED)
    return DishService(state, rtt_ms, gateway, pop, isl_hops, hops, path, routes.rerouted, ground_online,
                       model.terrestrial.ground_rtt_ms[model.network.dish_sites].astype(np.float32), online_by)


def online_by_what(model: SimulationModel, sky: Sky, sat_online: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each dish's site still has ground internet (D,) bool, and by what its user is online
    (D,) int8 (index into ONLINE_BY: both, satellite, ground, none)."""
    net = model.network
    ground = np.ones(len(net.dish_sites), dtype=bool)
    if sky.events is not None:
        ground = ~sky.events.terrestrial_down[net.dish_sites]
    online_by = np.where(sat_online & ground, 0, np.where(sat_online, 1, np.where(ground, 2, 3))).astype(np.int8)
    return ground, online_by
