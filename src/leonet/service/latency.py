"""Latency and loss as users measure them, term by term.

A ping's round trip from the dish to a target is

    RTT = propagation                  (input: dish - satellite(s) - gateway - PoP, both ways)
        + MAC scheduling               (:func:`mac_delay_ms`)
        + processing                   (:func:`processing_ms`)
        + laser hops                   (:func:`laser_hops_ms`)
        + queueing at the dish's own bottleneck (:func:`queueing_ms`)
        + PoP -> target leg            (:func:`pop_to_target_ms`)
        + jitter                       (:func:`jitter_ms`)

and a ping is lost during the short disturbance at each 15 s reconfiguration
(:func:`loss_probability`) or during a short random outage (:func:`in_outage`). What the dish
reports each second, the mean RTT of the pings that came back and the share that did not
(``popPingLatencyMs``, ``popPingDropRate`` in its history), is :func:`dish_second`.

Every term can be switched off in :class:`LatencyParams` (a frozen dataclass of the parameters,
each with its source or marked as an assumption). Every random term is a pure function of
(seed, dish id, instant) through :mod:`.rng`, so any chunking of time gives the same values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..network.fibre import DEFAULT_REFRACTIVE_INDEX, DEFAULT_ROUTE_FACTOR, fibre_delay_s
from .rng import uniform

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000


@dataclass(frozen=True)
class LatencyParams:
    """Terms of the latency and loss model; each ``*_on`` flag switches one term.

    MAC scheduling
        frame_period_ms = 1.333: the Starlink Ku downlink frame lasts 1/750 s (Humphreys et al.,
        "Signal Structure of the Starlink Ku-Band Downlink", IEEE TAES 2023).
        uplink_grant_frames = 2: a dish with data waits for its uplink grant, a request and a
        grant about one frame each (**assumption**). A ping waits, on average, half a frame for
        its uplink frame, the grant, and half a frame for its downlink frame: mean
        ``(1 + grant_frames) x frame`` = 4.0 ms.
    Processing
        processing_ms = 4.0: forwarding in the dish, satellite(s), gateway and PoP, both ways
        (**assumption**; with the defaults above, an unloaded dish near its gateway gets a median
        of about 25 ms to its PoP, as SpaceX reports for the US, 25.7 ms in June 2025).
    Laser hops
        isl_hop_ms = 0.0 by default: extra round-trip delay per laser hop of the path (forwarding in
        each satellite, and the detours of a mesh whose lasers are not all up), on top of the
        hops' propagation. **Assumption**, no published per-hop figure. Fitted jointly with the
        processing term on Starlink's per-country latency of 2023-09-08 and checked on Jan 2024
        (one day sampled, 2026-12-02): 1 and 2 ms per hop give 14 and 12 of 40 countries within 5 ms on the
        hold-out against 15 at 0 (Sep 2023: 14 and 17 of 31 against 16; bench/RESULTS.md,
        "Realism"), so the realism check leaves it at 0; a knob for detour studies.
    Queueing at the dish's own bottleneck
        packet_bits = 12000 (1500-byte packets); below saturation the mean M/M/1 wait
        ``rho / (1 - rho)`` packet times; at or above saturation (a speed test, a bulk download)
        the dish's buffer is full: saturated_queue_ms = 150, within the "hundreds of ms" of
        loaded RTT inside Starlink that Mohan et al. (WWW 2024) measure (the value is an
        **assumption**). The queue never exceeds that.
    PoP -> target
        great-circle fibre with ``route_factor`` (1.5) and group index (1.468), as
        :mod:`leonet.network.fibre`; 0 when the target is the PoP itself (what the dish's own
        ``popPingLatencyMs`` measures).
    Jitter within a slot
        jitter_mean_ms = 6.7: an exponential extra delay per ping. For independent exponential
        delays with mean m the mean absolute difference of successive pings is m, so this
        reproduces Huston's mean jitter of 6.7 ms (APNIC, May 2024).
    Reconfiguration
        slot_period_s = 15, slot_offset_s = 12: the global reconfiguration every 15 s, at 12, 27,
        42 and 57 s past each minute (Mohan et al. WWW 2024; community measurements).
        disturbance_loss = 0.5: the share of pings lost within the disturbance around each
        reconfiguration (Kassem et al., IMC 2022: loss bursts up to 50 % at handovers; taken as
        the burst's rate). disturbance_ms = 328: its length, **measured** from the shipped 1 Hz
        dish history (June 2024): the two seconds around each latency step lose 2.46 pings more
        than the other phases (:func:`leonet.realism.reference.reconfiguration_loss`), i.e.
        2.46 / (15 pings/s x 0.5) = 0.328 s. disturbance_spread_s = 2: the burst's centre falls
        uniformly within 1 s either side of the slot start, per dish and slot (seeded), because
        in that history the drops spread over both seconds around the step (56 % and 60 % of
        them have a drop), not one. One dish's history (an obstructed one; its fully lost
        seconds are left out) is the source: an **assumption** that it is typical.
    Random short outages
        outage_time_fraction = 0.005 and outage_duration_s = 1: whole seconds without service
        (beta-era dish statistics, 2021, show frequent 1 s outages; the rate is an
        **assumption** for a dish with a clear view, far below the ~6 % a beta dish lost after
        clearing its view). Outage starts are drawn per (dish, second).
    Pings
        pings_per_s = 15: pings the dish sends to its PoP each second (the drop rates in the
        shipped dish history come in steps of about 1/15).
    """

    mac_on: bool = True
    frame_period_ms: float = 1.333
    uplink_grant_frames: float = 2.0
    processing_on: bool = True
    processing_ms: float = 4.0
    isl_hop_on: bool = True
    isl_hop_ms: float = 0.0
    queueing_on: bool = True
    packet_bits: float = 12_000.0
    saturated_queue_ms: float = 150.0
    target_on: bool = True
    route_factor: float = DEFAULT_ROUTE_FACTOR
    refractive_index: float = DEFAULT_REFRACTIVE_INDEX
    jitter_on: bool = True
    jitter_mean_ms: float = 6.7
    reconfiguration_on: bool = True
    slot_period_s: float = 15.0
    slot_offset_s: float = 12.0
    disturbance_ms: float = 328.0
    disturbance_loss: float = 0.5
    disturbance_spread_s: float = 2.0
    outages_on: bool = True
    outage_time_fraction: float = 0.005
    outage_duration_s: int = 1
    pings_per_s: int = 15

    def __post_init__(self) -> None:
        for name in ("frame_period_ms", "uplink_grant_frames", "processing_ms", "isl_hop_ms", "packet_bits",
                     "saturated_queue_ms", "jitter_mean_ms", "disturbance_ms", "disturbance_spread_s", "outage_time_fraction",
                     "slot_offset_s"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise InputError(f"must be a finite number >= 0, got {value!r}", "LatencyParams", name)
        if not self.slot_period_s > 0:
            raise InputError("must be > 0 s", "LatencyParams", "slot_period_s")
        if self.route_factor < 1 or self.refractive_index < 1:
            raise InputError("route_factor and refractive_index must be >= 1", "LatencyParams", "route_factor")
        for name in ("disturbance_loss", "outage_time_fraction"):
            if not 0 <= getattr(self, name) <= 1:
                raise InputError("must be in [0, 1]", "LatencyParams", name)
        if int(self.outage_duration_s) != self.outage_duration_s or self.outage_duration_s < 1:
            raise InputError("must be a whole number of seconds >= 1", "LatencyParams", "outage_duration_s")
        if int(self.pings_per_s) != self.pings_per_s or self.pings_per_s < 1:
            raise InputError("must be a whole number >= 1", "LatencyParams", "pings_per_s")


DEFAULT_LATENCY = LatencyParams()


def mac_delay_ms(dish_ids, t_ns, seed: int, params: LatencyParams = DEFAULT_LATENCY) -> np.ndarray:
    """MAC scheduling delay of a ping sent at ``t_ns``, ms (broadcast shapes): wait for the
    uplink frame (uniform in one frame), the grant (``uplink_grant_frames`` frames) and the
    downlink frame (uniform in one frame). Mean ``(1 + grant_frames) x frame_period_ms``."""
    if not params.mac_on:
        return np.zeros(np.broadcast(np.asarray(dish_ids), np.asarray(t_ns)).shape)
    up = uniform(seed, "latency.mac.up", dish_ids, t_ns)
    down = uniform(seed, "latency.mac.down", dish_ids, t_ns)
    return params.frame_period_ms * (up + params.uplink_grant_frames + down)


def processing_ms(params: LatencyParams = DEFAULT_LATENCY) -> float:
    """Forwarding delay of dish, satellite(s), gateway and PoP over a round trip, ms."""
    return params.processing_ms if params.processing_on else 0.0


def laser_hops_ms(isl_hops, params: LatencyParams = DEFAULT_LATENCY) -> np.ndarray:
    """Extra round-trip delay of a path's laser hops, ms: ``isl_hops x isl_hop_ms`` (any shape;
    a negative hop count, no path, gives 0)."""
    hops = np.maximum(np.asarray(isl_hops, dtype=float), 0.0)
    return hops * (params.isl_hop_ms if params.isl_hop_on else 0.0)


def queueing_ms(offered_bps, rate_bps, params: LatencyParams = DEFAULT_LATENCY) -> np.ndarray:
    """Queueing delay at the dish's own bottleneck, ms (broadcast shapes).

    offered_bps : the dish's own offered load (its demand, or its terminal cap in a speed test).
    rate_bps : the rate it is allocated.
    Below saturation (rho = offered / rate < 1): the M/M/1 mean wait ``rho / (1 - rho)`` packet
    times, capped at ``saturated_queue_ms``; at or above it: ``saturated_queue_ms`` (a full buffer).
    A dish allocated 0 bps with traffic waits the full buffer; with no traffic, 0.
    """
    offered = np.asarray(offered_bps, dtype=float)
    rate = np.asarray(rate_bps, dtype=float)
    if not params.queueing_on:
        return np.zeros(np.broadcast(offered, rate).shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(rate > 0, offered / rate, np.where(offered > 0, np.inf, 0.0))
        wait_ms = np.where(rho < 1, rho / (1 - rho) * params.packet_bits / rate * 1e3, np.inf)
    return np.minimum(np.nan_to_num(wait_ms, nan=0.0, posinf=np.inf), params.saturated_queue_ms)


def pop_to_target_ms(pop_lat_deg, pop_lon_deg, target_lat_deg, target_lon_deg,
                     params: LatencyParams = DEFAULT_LATENCY) -> np.ndarray:
    """Round trip over terrestrial fibre from the PoP to a target (an internet exchange, a server
    city), ms: 2 x great-circle length x route factor / (c / n). Target = PoP gives 0."""
    one_way_s = fibre_delay_s(pop_lat_deg, pop_lon_deg, target_lat_deg, target_lon_deg,
                              params.route_factor, params.refractive_index)
    return 2e3 * one_way_s * (1.0 if params.target_on else 0.0)


def jitter_ms(dish_ids, t_ns, seed: int, params: LatencyParams = DEFAULT_LATENCY) -> np.ndarray:
    """Extra delay of a ping sent at ``t_ns``, ms: exponential with mean ``jitter_mean_ms``."""
    if not params.jitter_on:
        return np.zeros(np.broadcast(np.asarray(dish_ids), np.asarray(t_ns)).shape)
    return -params.jitter_mean_ms * np.log(uniform(seed, "latency.jitter", dish_ids, t_ns))


def time_since_slot_start_ns(t_ns, params: LatencyParams = DEFAULT_LATENCY) -> np.ndarray:
    """ns since the latest reconfiguration (slot start at ``slot_offset_s`` + k x ``slot_period_s``
    past each minute)."""
    period_ns = int(round(params.slot_period_s * NS_PER_S))
    offset_ns = int(round(params.slot_offset_s * NS_PER_S))
    return (np.asarray(t_ns, dtype=np.int64) - offset_ns) % period_ns


def in_disturbance(dish_ids, t_ns, seed: int, params: LatencyParams = DEFAULT_LATENCY) -> np.ndarray:
    """bool (broadcast shape): whether ``t_ns`` falls in the dish's disturbance around the nearest
    slot start: ``disturbance_ms`` long, centred ``(u - 0.5) x disturbance_spread_s`` from it, u a
    uniform draw per (dish, slot) (stream "latency.disturbance")."""
    shape = np.broadcast(np.asarray(dish_ids), np.asarray(t_ns)).shape
    if not params.reconfiguration_on:
        return np.zeros(shape, dtype=bool)
    period_ns = int(round(params.slot_period_s * NS_PER_S))
    offset_ns = int(round(params.slot_offset_s * NS_PER_S))
    x = np.asarray(t_ns, dtype=np.int64) - offset_ns
    slot = (x + period_ns // 2) // period_ns            # the nearest slot start
    rel_ns = x - slot * period_ns                       # ns from it, in [-period/2, period/2)
    u = uniform(seed, "latency.disturbance", dish_ids, slot)
    dist = rel_ns - (u - 0.5) * (params.disturbance_spread_s * NS_PER_S)
    half = params.disturbance_ms * NS_PER_MS / 2.0
    return np.broadcast_to((dist >= -half) & (dist < half), shape)


def in_outage(dish_ids, t_ns, seed: int, params: LatencyParams = DEFAULT_LATENCY) -> np.ndarray:
    """bool: whether the dish is in a short random outage at ``t_ns`` (broadcast shapes).

    Outages last ``outage_duration_s`` whole seconds; one starts in a given (dish, second) with
    probability ``outage_time_fraction / outage_duration_s``, so that (for small fractions) the
    share of time lost is ``outage_time_fraction``.
    """
    dish_ids, t = np.broadcast_arrays(np.asarray(dish_ids, dtype=np.int64), np.asarray(t_ns, dtype=np.int64))
    out = np.zeros(t.shape, dtype=bool)
    if not params.outages_on or params.outage_time_fraction == 0:
        return out
    second = t // NS_PER_S
    p_start = params.outage_time_fraction / params.outage_duration_s
    for back in range(int(params.outage_duration_s)):     # a few seconds, not dishes
        out |= uniform(seed, "latency.outage", dish_ids, second - back) < p_start
    return out


def loss_probability(dish_ids, t_ns, seed: int, params: LatencyParams = DEFAULT_LATENCY) -> np.ndarray:
    """Probability that a ping sent at ``t_ns`` is lost: 1 in an outage, ``disturbance_loss`` in a
    reconfiguration disturbance, else 0."""
    p = np.where(in_disturbance(dish_ids, t_ns, seed, params), params.disturbance_loss, 0.0)
    return np.where(in_outage(dish_ids, t_ns, seed, params), 1.0, p)


def rtt_terms_ms(dish_ids, t_ns, seed: int, propagation_ms, *, offered_bps=0.0, rate_bps=np.inf,
                 pop_target_ms=0.0, isl_hops=0, params: LatencyParams = DEFAULT_LATENCY) -> dict[str, np.ndarray]:
    """Each term of a ping's RTT at ``t_ns``, ms (arrays of the broadcast shape), by name:
    propagation, mac, processing, laser_hops, queueing, target, jitter. ``pop_target_ms`` is
    :func:`pop_to_target_ms` (0 for the PoP itself); ``isl_hops`` the path's laser hops."""
    shape = np.broadcast(np.asarray(dish_ids), np.asarray(t_ns), np.asarray(propagation_ms),
                         np.asarray(offered_bps), np.asarray(rate_bps), np.asarray(pop_target_ms),
                         np.asarray(isl_hops)).shape
    b = lambda v: np.broadcast_to(np.asarray(v, dtype=float), shape)  # noqa: E731
    return {
        "propagation": b(propagation_ms),
        "mac": b(mac_delay_ms(dish_ids, t_ns, seed, params)),
        "processing": b(processing_ms(params)),
        "laser_hops": b(laser_hops_ms(isl_hops, params)),
        "queueing": b(queueing_ms(offered_bps, rate_bps, params)),
        "target": b(pop_target_ms if params.target_on else 0.0),
        "jitter": b(jitter_ms(dish_ids, t_ns, seed, params)),
    }


def rtt_ms(dish_ids, t_ns, seed: int, propagation_ms, *, offered_bps=0.0, rate_bps=np.inf,
           pop_target_ms=0.0, isl_hops=0, params: LatencyParams = DEFAULT_LATENCY) -> np.ndarray:
    """A ping's RTT at ``t_ns``, ms: the sum of :func:`rtt_terms_ms`."""
    return sum(rtt_terms_ms(dish_ids, t_ns, seed, propagation_ms, offered_bps=offered_bps,
                            rate_bps=rate_bps, pop_target_ms=pop_target_ms, isl_hops=isl_hops,
                            params=params).values())


def dish_second(dish_ids, t_ns, seed: int, propagation_ms, *, offered_bps=0.0, rate_bps=np.inf,
                pop_target_ms=0.0, isl_hops=0, params: LatencyParams = DEFAULT_LATENCY):
    """What the dish's 1 Hz history records for the second starting at ``t_ns``.

    ``pings_per_s`` pings go out evenly through the second (at ``t + (k + 0.5) / n`` s); each is
    lost with :func:`loss_probability` (a counter-RNG draw per ping) and otherwise takes
    :func:`rtt_ms` (propagation, load and target held for the second).

    Parameters: as :func:`rtt_ms`; ``dish_ids`` and ``t_ns`` broadcast to shape (...).

    Returns
    -------
    latency_ms : float (...), mean RTT of the pings that came back (NaN when none did).
    drop_rate : float (...), the share of pings lost, 0..1.
    """
    n = int(params.pings_per_s)
    dish = np.asarray(dish_ids, dtype=np.int64)[..., None]
    t0 = np.asarray(t_ns, dtype=np.int64)[..., None]
    t = t0 + ((np.arange(n) + 0.5) * (NS_PER_S / n)).astype(np.int64)           # (..., n)
    extra = lambda v: np.asarray(v, dtype=float)[..., None]  # noqa: E731
    lost = uniform(seed, "latency.loss", dish, t) < loss_probability(dish, t, seed, params)
    rtt = rtt_ms(dish, t, seed, extra(propagation_ms), offered_bps=extra(offered_bps),
                 rate_bps=extra(rate_bps), pop_target_ms=extra(pop_target_ms), isl_hops=extra(isl_hops),
                 params=params)
    received = (~lost).sum(axis=-1)
    with np.errstate(invalid="ignore"):
        latency = np.where(received > 0, np.where(lost, 0.0, rtt).sum(axis=-1) / np.maximum(received, 1), np.nan)
    return latency, lost.mean(axis=-1)
