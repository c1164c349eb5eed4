"""Stage 5, the service: what each dish's user gets at an instant, in the words of
:mod:`leonet.states` (CONNECTED, NO_SATS, NO_PATH, OBSTRUCTED, OFFLINE, JAMMED, CONGESTED), its
round-trip time, and the terrestrial alternative."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...constants import NS_PER_S, SPEED_OF_LIGHT_M_PER_S
from ...states import code
from ..model import SimulationModel
from .allocation import Allocation
from .routes import DishRoutes
from .sky import Sky

CONNECTED, NO_SATS, NO_PATH, OBSTRUCTED = code("CONNECTED"), code("NO_SATS"), code("NO_PATH"), code("OBSTRUCTED")
OFFLINE, JAMMED, CONGESTED = code("OFFLINE"), code("JAMMED"), code("CONGESTED")
GEOFENCED = code("GEOFENCED")
SOLD_OUT = code("SOLD_OUT")


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
    ground_online : (D,) bool, most of the dish's site's users still have terrestrial internet
        (``ground_level`` >= 0.5; the majority decides ``online_by``).
    ground_level : (D,) float32, the share of the site's users whose terrestrial internet works
        (0..1: an ISP outage or a power cut lowers it to the provider's or the region's level).
    ground_rtt_ms : (D,) float32, round trip over fibre to the nearest internet exchange, ms.
    online_by : (D,) int8, index into leonet.sim.schemas.ONLINE_BY (both, satellite, ground, none).
    drop_rate, rtt_loaded_ms, queue_ms : (D,) with the service model (None without): the share of
        the pings lost over the step's first seconds, as many as the step stands for up to one
        15 s reconfiguration cycle (0..1; 1 in an outage; :func:`drop_seconds`), the RTT during a
        speed test (loaded latency, ms) and the dish's own downlink queueing delay (ms, in ``rtt_ms``).
    propagation_rtt_ms : (D,) float32 with the service model (None without): the round trip of the
        route alone at the speed of light and of fibre (dish-satellite, lasers, feeder link, fibre
        and backbone to the exit PoP), ms, NaN unless online: the part of ``rtt_ms`` that
        Hypatia-style simulators report, kept apart so that a latency can be split into its terms.
    speedtest_down_bps, speedtest_up_bps : (D,) with the service model: what the dish's speed test
        measures down and up, bit/s: the allocation's probe rate, limited by the test's TCP window
        (down) or the phone's send buffer (up) over ``rtt_ms`` (:mod:`leonet.service.transfer`).

    With the service model, ``rtt_ms`` is what the dish records for the second starting at the
    step (:func:`leonet.service.latency.dish_second`): the mean RTT of its pings that came back,
    propagation + MAC scheduling + processing + queueing at its own bottleneck + PoP to target +
    jitter. A site with no admitted dish is SOLD_OUT (build_model splits a site admitted in part
    into its admitted dishes and a sold-out part, so that a site's state holds for all its
    dishes: docs/service-model.md, "Cells and admission"); a short random outage is NO_PATH (the
    dish's word NO_PINGS; the closest state: the dish is up, in view, and no ping comes back).
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
    ground_level: np.ndarray | None = None
    drop_rate: np.ndarray | None = None
    rtt_loaded_ms: np.ndarray | None = None
    queue_ms: np.ndarray | None = None
    speedtest_down_bps: np.ndarray | None = None
    speedtest_up_bps: np.ndarray | None = None
    propagation_rtt_ms: np.ndarray | None = None


def dish_states(model: SimulationModel, routes: DishRoutes, allocation: Allocation | None) -> np.ndarray:
    """(D,) int8 state codes. Without a route: OBSTRUCTED, NO_SATS or NO_PATH; OFFLINE overrides;
    with capacity, a connected dish whose link does not close is JAMMED (under jamming) or NO_SATS,
    and one that gets less than it asks and less than ``capacity.congested_below_mbps`` CONGESTED
    (a dish that asks for 2 Mbps and gets it is not congested)."""
    has_sat = routes.serving >= 0
    state = np.where(routes.routed, CONNECTED, np.where(routes.obstructed, OBSTRUCTED,
                                                        np.where(~has_sat, NO_SATS, NO_PATH))).astype(np.int8)
    state[routes.offline] = OFFLINE
    if routes.geofenced is not None:
        state[routes.geofenced] = GEOFENCED
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
    propagation_ms = np.where(connected, 2e3 * (routes.range_m / SPEED_OF_LIGHT_M_PER_S + routes.one_way_s), np.nan)
    rtt_ms = propagation_ms
    gateway, pop, isl_hops, hops, path = routes.gateway, routes.pop, routes.isl_hops, routes.hops, routes.path
    if allocation is not None:
        lost = allocation.jammed | allocation.no_budget
        rtt_ms = np.where(lost, np.nan, rtt_ms + allocation.queue_ms)
        gateway = np.where(lost, -1, gateway).astype(gateway.dtype)
        pop = np.where(lost, -1, pop).astype(pop.dtype)
        isl_hops = np.where(lost, -1, isl_hops).astype(np.int16)
        hops = np.where(lost, -1, hops).astype(np.int16)
        path = _without_rows(path, lost)
    extra = {}
    if model.service is not None and allocation is not None:
        state, rtt_ms, extra = _service_terms(model, sky, routes, allocation, state, rtt_ms)
        lost = ~np.isin(state, (CONNECTED, CONGESTED))
        extra["propagation_rtt_ms"] = np.where(lost, np.nan, propagation_ms).astype(np.float32)
        gateway = np.where(lost, -1, gateway).astype(gateway.dtype)
        pop = np.where(lost, -1, pop).astype(pop.dtype)
        isl_hops = np.where(lost, -1, isl_hops).astype(np.int16)
        hops = np.where(lost, -1, hops).astype(np.int16)
        path = _without_rows(path, lost)
    ground_online, online_by, level = online_by_what(model, sky, np.isin(state, (CONNECTED, CONGESTED))
                                                     if model.service is not None else state == CONNECTED)
    return DishService(state, rtt_ms, gateway, pop, isl_hops, hops, path, routes.rerouted, ground_online,
                       model.terrestrial.ground_rtt_ms[model.network.dish_sites].astype(np.float32), online_by,
                       level, **extra)


def _without_rows(path: np.ndarray, lost: np.ndarray) -> np.ndarray:
    """``np.where(lost[:, None], -1, path)``: rows of ``path`` (D, W) set to -1 where ``lost`` (D,);
    ``path`` itself (not a copy) where no row is lost (a Gen2 x 100,000 path matrix is 30 MB)."""
    return np.where(lost[:, None], -1, path) if lost.any() else path


def _service_terms(model: SimulationModel, sky: Sky, routes: DishRoutes, allocation: Allocation,
                   state: np.ndarray, propagation_rtt_ms: np.ndarray):
    """SOLD_OUT, short outages, and the RTT, loaded RTT and drop rate the dish records."""
    from ...service.latency import queueing_ms
    from ...service.pings import dish_second, ping_rtt_ms     # latency's, compiled
    from ...service.transfer import transfer_bps

    svc = model.service
    n_d = len(state)
    ids = np.arange(n_d, dtype=np.int64)
    t = sky.t_ns
    state = state.copy()
    online = np.isin(state, (CONNECTED, CONGESTED))
    outage = online & allocation.outage     # the short outage the allocation left out
    state[outage] = NO_PATH
    state[svc.sold_out & (state != OFFLINE) & (state != GEOFENCED)] = SOLD_OUT
    online = np.isin(state, (CONNECTED, CONGESTED))
    prop = np.where(online, propagation_rtt_ms, 0.0)
    target = np.where(routes.pop >= 0, svc.target_ms_of_site[np.maximum(routes.pop, 0)], 0.0)
    # the dish's own buffer: its offered load against the rate it could get now (its speed test)
    hops = np.where(online, routes.isl_hops, 0)
    lat, drop = dish_second(ids, t, svc.seed, prop, offered_bps=allocation.demand_down_bps,
                            rate_bps=allocation.speedtest_down_bps, pop_target_ms=target, isl_hops=hops,
                            params=svc.latency)
    # The step stands for its whole span, but its first second always sits at the same phase of
    # the 15 s reconfiguration cycle when steps are slot-aligned (15 s steps from a slot start
    # read the burst's second, 8 % lost, at every step; the cycle's mean is 1.6 %). The drop rate
    # is therefore the mean over the span's first seconds, up to one whole cycle (each phase once).
    seconds = drop_seconds(model, t)
    for k in range(1, seconds):
        drop = drop + dish_second(ids, t + k * NS_PER_S, svc.seed, prop, offered_bps=allocation.demand_down_bps,
                                  rate_bps=allocation.speedtest_down_bps, pop_target_ms=target, isl_hops=hops,
                                  params=svc.latency)[1]
    drop = drop / seconds
    loaded = ping_rtt_ms(ids, t, svc.seed, prop, offered_bps=allocation.cap_down_bps, rate_bps=allocation.speedtest_down_bps,
                         isl_hops=hops,
                         pop_target_ms=target, params=svc.latency)
    queue = queueing_ms(allocation.demand_down_bps, allocation.speedtest_down_bps, svc.latency)
    rtt = np.where(online, lat, np.nan)
    drop_rate = np.where(online, drop, 1.0)
    # the test is a TCP transfer to the latency target: its window limits it over a long round trip;
    # a dish that is not online measures nothing
    speed_down = np.where(online, transfer_bps(allocation.speedtest_down_bps, rtt, svc.speedtest_window_bytes,
                                               svc.speedtest_connections), 0.0)
    # and the upload by what the phone may have in flight (its send buffer)
    speed_up = np.where(online, transfer_bps(allocation.speedtest_up_bps, rtt, svc.speedtest_upload_window_bytes,
                                             svc.speedtest_connections), 0.0)
    return state, rtt, {"drop_rate": drop_rate, "rtt_loaded_ms": np.where(online, loaded, np.nan),
                        "queue_ms": np.where(online, queue, np.nan), "speedtest_down_bps": speed_down,
                        "speedtest_up_bps": speed_up}


#: Most seconds of a step whose pings the drop rate averages: one reconfiguration cycle of the
#: default 15 s slot (every phase of it once), whatever the step's length.
DROP_SECONDS_MAX = 15


def drop_seconds(model: SimulationModel, t_ns: int) -> int:
    """How many whole seconds from ``t_ns`` (a step of the run) its drop rate averages: the
    seconds its step stands for (to the next instant, or the calendar's end), at least 1 and at
    most the slot period (:data:`DROP_SECONDS_MAX` for the default 15 s)."""
    t_all = model.t_ns
    i = int(np.searchsorted(t_all, t_ns))
    end = int(t_all[i + 1]) if i + 1 < len(t_all) else int(t_all[0]) + model.settings.duration_ns
    cycle = int(round(model.service.latency.slot_period_s)) if model.service is not None else DROP_SECONDS_MAX
    return int(max(1, min((end - int(t_ns)) // NS_PER_S, max(cycle, 1))))


def online_by_what(model: SimulationModel, sky: Sky, sat_online: np.ndarray):
    """Whether most of each dish's site's users still have ground internet (D,) bool, by what its
    user is online (D,) int8 (index into ONLINE_BY: both, satellite, ground, none; the majority
    decides), and the share of its users whose ground internet works (D,) float32."""
    net = model.network
    level = np.ones(len(net.dish_sites))
    if sky.events is not None:
        level = (sky.events.ground_level[net.dish_sites] if sky.events.ground_level is not None
                 else (~sky.events.terrestrial_down[net.dish_sites]).astype(np.float64))
    ground = level >= 0.5
    online_by = np.where(sat_online & ground, 0, np.where(sat_online, 1, np.where(ground, 2, 3))).astype(np.int8)
    return ground, online_by, level.astype(np.float32)
