"""Stage 2, the links: lasers, feeder links and fibre that work at an instant (after the events),
and each dish's radio links to the satellites it sees."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...network.graph import gateway_links
from ...network.isl import IslState, active_isls
from ..instants import Chunk, subset_pairs
from ..model import SimulationModel
from .sky import Sky


@dataclass(frozen=True)
class Links:
    """The network's links at one instant, after the events (G gateways, P PoPs).

    Attributes
    ----------
    t_ns : int, the instant.
    isl : IslState, the lasers usable now: ``links`` (E, 2) satellite pairs, ``length_m`` (E,) m,
        ``candidate_ok`` (E_candidates,) bool, and counts of those dropped (grazing, range, failed).
    feeder_gateway, feeder_sat : (L,) int, gateway number (0..G-1) and satellite of each feeder
        link (each gateway antenna tracks one of its highest clear satellites).
    feeder_range_m : (L,) float64, m.
    gateway_pop : (G,) int64, PoP number (0..P-1) each gateway's fibre reaches now, -1 where none
        (no PoP, fibre cut, PoP down).
    backbone : (B, 2) int64, PoP numbers of the PoP-to-PoP fibre that works now.
    backbone_delay_s : (B,) float64, one-way, s.
    pop_up : (P,) bool, PoPs that work now; None in a scenario without events (all do).
    """

    t_ns: int
    isl: IslState
    feeder_gateway: np.ndarray
    feeder_sat: np.ndarray
    feeder_range_m: np.ndarray
    gateway_pop: np.ndarray
    backbone: np.ndarray
    backbone_delay_s: np.ndarray
    pop_up: np.ndarray | None


def links_at(chunk: Chunk, sky: Sky) -> Links:
    """The links at ``sky``'s instant, computed once per instant (a slot's start serves its steps);
    the part that depends on the sky alone (:class:`SkyLinks`) once for every chunk of this sky."""
    plan = (lambda: _traffic_plan_of_slot(chunk, sky.t_ns)) if chunk.model.network.track_traffic else None
    return chunk.memo(("links", sky.t_ns), lambda: network_links(
        chunk.model, sky, chunk.sky_memo("sky-links", sky.t_ns, lambda: sky_links(chunk.model, sky)), plan))


def _traffic_plan_of_slot(chunk: Chunk, t_ns: int) -> "TrafficPlan":
    """The gateways' :class:`TrafficPlan` of the slot holding ``t_ns``, made once per slot from the
    sky at its start (the plan is the slot's, as the dishes' serving satellites are)."""
    from .sky import sky_at

    start = int(chunk.model.network.clock.slot_start(np.array([t_ns]))[0])

    def make() -> TrafficPlan:
        slot_sky = sky_at(chunk, start)
        return traffic_plan(chunk.model, slot_sky, ground_links_at(chunk, slot_sky))

    return chunk.memo(("traffic-plan", start), make)


@dataclass(frozen=True)
class SkyLinks:
    """The links at one instant before the events: what the sky alone decides (shared by
    variants that differ only in events).

    Attributes
    ----------
    isl : IslState, the lasers that clear the Earth and are in range (see :class:`Links`).
    gateway, sat : (K,) int, gateway number (0..G-1) and satellite of each clear gateway link.
    elevation_deg, range_m : (K,) float64, deg and m.
    """

    isl: IslState
    gateway: np.ndarray
    sat: np.ndarray
    elevation_deg: np.ndarray
    range_m: np.ndarray


def sky_links(model: SimulationModel, sky: Sky) -> SkyLinks:
    """Lasers that clear the Earth and every gateway's clear links, whatever the events."""
    net = model.network
    isl = active_isls(net.isl_candidates, sky.sat_ecef_m, net.grazing_height_m, net.isl_max_range_m)
    return SkyLinks(isl, *subset_pairs(sky.clear, net.gateway_sites, len(model.sites)))


def network_links(model: SimulationModel, sky: Sky, free: SkyLinks | None = None, plan=None) -> Links:
    """Lasers that clear the Earth, feeder links from working gateways, fibre that is not cut.
    ``free``: :func:`sky_links` of ``sky`` when already made; ``plan`` (``network.gateway_tracking:
    traffic`` only): a callable giving the :class:`TrafficPlan` of the slot holding ``sky``'s
    instant (default: one made from ``sky`` itself, as if it began a slot)."""
    net = model.network
    free = sky_links(model, sky) if free is None else free
    isl = free.isl
    g_local, g_sat, g_el, g_rng = free.gateway, free.sat, free.elevation_deg, free.range_m
    gateway_pop, backbone, backbone_delay_s, pop_up = net.gateway_pop, net.backbone, net.backbone_delay_s, None
    threat = sky.events
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
    first = None
    if net.track_traffic:
        made = plan() if plan is not None else traffic_plan(model, sky, dish_links(model, sky))
        first = made.feeder_pairs(model, g_local, g_sat)
    f_gw, f_sat, f_rng = gateway_links(g_local, g_sat, g_el, g_rng, net.gateway_antennas, net.sat_island, first)
    return Links(sky.t_ns, isl, f_gw, f_sat, f_rng, gateway_pop, backbone, backbone_delay_s, pop_up)


def traffic_satellites(model: SimulationModel, sky: Sky, ground: "GroundLinks") -> np.ndarray:
    """(N,) bool: the satellites that carry the dishes' traffic at ``sky``'s instant, as the slot
    policy would choose them were every satellite connected (no backhaul test). Only dishes that
    carry traffic count: not off or refused by an event, not sold out, delivered."""
    from .choice import choose_by_policy

    sites, svc = model.network.dish_sites, model.service
    carrying = ~sky.refused(sites)[0]
    if sky.events is not None and sky.events.delivered is not None:
        carrying &= sky.events.delivered[sites] > 0
    if svc is not None:
        carrying &= ~svc.sold_out
    chosen = choose_by_policy(model, ground.of_dishes(carrying), sky.t_ns, sat_ecef_m=sky.sat_ecef_m)
    out = np.zeros(len(sky.sat_ecef_m), dtype=bool)
    out[chosen[chosen >= 0]] = True
    return out


@dataclass(frozen=True)
class TrafficPlan:
    """What the gateways track first in one slot under ``network.gateway_tracking: traffic``.

    Attributes
    ----------
    carrying : (N,) bool, the satellites that carry the dishes' traffic in the slot
        (:func:`traffic_satellites` at its start).
    end_ecef_m : (N, 3) float64, the satellites at the slot's end, m (None when none carries).
    """

    carrying: np.ndarray
    end_ecef_m: np.ndarray | None

    def feeder_pairs(self, model: SimulationModel, gateway: np.ndarray, sat: np.ndarray) -> np.ndarray:
        """(K,) bool over gateway-satellite pairs in view now (``gateway`` numbers, ``sat``): the
        satellite carries traffic and stays in the gateway's view to the slot's end, so that a route
        held for the slot keeps its feeder link (a satellite about to set would break it mid-slot)."""
        marked = self.carrying[sat]
        if marked.any():
            stays, _, _ = model.visibility.link(model.network.gateway_sites[gateway[marked]],
                                                self.end_ecef_m[sat[marked]])
            marked[marked] = stays
        return marked


def traffic_plan(model: SimulationModel, slot_sky: Sky, ground: "GroundLinks") -> TrafficPlan:
    """The :class:`TrafficPlan` of the slot starting at ``slot_sky``'s instant (``ground``: the
    dishes' links then)."""
    from ...space.propagate import propagate

    carrying = traffic_satellites(model, slot_sky, ground)
    end = None
    if carrying.any():
        end_ns = slot_sky.t_ns + model.network.clock.period_ns
        end = propagate(model.constellation, np.array([end_ns], dtype=np.int64)).ecef_m[0]
    return TrafficPlan(carrying, end)


@dataclass(frozen=True)
class GroundLinks:
    """Each dish's radio links to satellites at one instant (dishes numbered 0..D-1, in the order
    of ``model.network.dish_sites``; N satellites).

    Attributes
    ----------
    dish, sat : (K,) int, the clear links (in view, not behind an obstruction), sorted by (dish, sat).
    elevation_deg : (K,) float64, deg.
    range_m : (K,) float64, slant range, m.
    clear_key : (K,) int64, ``dish * N + sat`` of the clear links (sorted: for look-ups).
    in_view_key : (K_all,) int64, the same for every link in view, obstructed or not (sorted).
    any_in_view : (D,) bool, dishes with a satellite in view, obstructed or not.
    n_sats : int, N.
    """

    dish: np.ndarray
    sat: np.ndarray
    elevation_deg: np.ndarray
    range_m: np.ndarray
    clear_key: np.ndarray
    in_view_key: np.ndarray
    any_in_view: np.ndarray
    n_sats: int

    def of_dishes(self, keep: np.ndarray) -> "GroundLinks":
        """The clear links of the dishes ``keep`` (D,) bool marks (the others keep their
        in-view record: they are in view, only not choosing)."""
        rows = np.asarray(keep, dtype=bool)[self.dish]
        return self.subset(rows)

    def subset(self, rows: np.ndarray) -> "GroundLinks":
        """These links with only the clear links ``rows`` (K,) bool marks."""
        return GroundLinks(self.dish[rows], self.sat[rows], self.elevation_deg[rows], self.range_m[rows],
                           self.clear_key[rows], self.in_view_key, self.any_in_view, self.n_sats)

    def clear_to(self, sat: np.ndarray) -> np.ndarray:
        """(D,) bool: whether each dish has a clear link to ``sat`` (D,) (-1: none, False)."""
        return (sat >= 0) & _contains(self.clear_key, self._key(sat))

    def in_view_to(self, sat: np.ndarray) -> np.ndarray:
        """(D,) bool: whether ``sat`` (D,) is in view of each dish, obstructed or not."""
        return (sat >= 0) & _contains(self.in_view_key, self._key(sat))

    def toward(self, sat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Elevation (deg) and slant range (m), each (D,), of each dish's clear link to ``sat``
        (D,); NaN where ``sat`` is -1. Every other ``sat`` must have a clear link."""
        n_d = len(sat)
        elevation_deg, range_m = np.full(n_d, np.nan), np.full(n_d, np.nan)
        has = sat >= 0
        if has.any():
            at = np.searchsorted(self.clear_key, np.arange(n_d)[has] * self.n_sats + sat[has])
            range_m[has] = self.range_m[at]
            elevation_deg[has] = self.elevation_deg[at]
        return elevation_deg, range_m

    def _key(self, sat: np.ndarray) -> np.ndarray:
        return np.arange(len(sat)) * self.n_sats + np.maximum(sat, 0)


def _contains(sorted_key: np.ndarray, want: np.ndarray) -> np.ndarray:
    if not len(sorted_key):
        return np.zeros(len(want), dtype=bool)
    pos = np.clip(np.searchsorted(sorted_key, want), 0, len(sorted_key) - 1)
    return sorted_key[pos] == want


def ground_links_at(chunk: Chunk, sky: Sky) -> GroundLinks:
    """The dishes' links at ``sky``'s instant, computed once per instant (and sky: they depend on
    the sky alone)."""
    return chunk.sky_memo("ground", sky.t_ns, lambda: dish_links(chunk.model, sky))


def dish_links(model: SimulationModel, sky: Sky) -> GroundLinks:
    """Each dish's clear links, and which satellites it sees at all."""
    net, n_sites, n_sats = model.network, len(model.sites), len(model.constellation)
    dish, sat, elevation_deg, range_m = subset_pairs(sky.clear, net.dish_sites, n_sites)
    # without obstruction masks the clear pairs are the pairs in view (the same object)
    all_dish, all_sat = (dish, sat) if sky.clear is sky.in_view else subset_pairs(sky.in_view, net.dish_sites, n_sites)[:2]
    return GroundLinks(
        dish, sat, elevation_deg, range_m, clear_key=dish * n_sats + sat, in_view_key=all_dish * n_sats + all_sat,
        any_in_view=np.bincount(all_dish, minlength=len(net.dish_sites)) > 0, n_sats=n_sats,
    )
