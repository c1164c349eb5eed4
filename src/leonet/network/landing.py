"""Where a dish's traffic may land: gateways that take laser-borne traffic, and those that do not.

A gateway normally takes traffic from any satellite it tracks, whether the satellite serves dishes
below it (bent pipe) or relays traffic over lasers from far away. Some gateways carry only their
own region's bent-pipe traffic (a scenario's ``network.bent_pipe_only_gateways``): a dish may land
there only if one satellite can see both the dish and the gateway, i.e. the two are within the
bent-pipe reach (:func:`bent_pipe_reach_m`); for every other dish the gateway is not a way out.

With ``network.landing: home-in-reach`` a dish that has a gateway of its home PoP within its
bent-pipe reach lands only at those (the fibre takes its traffic on to its PoP), and a dish with
none in reach lands anywhere but at bent-pipe-only gateways beyond its reach.

This is a per-dish mask over gateways, fixed for the run. Dishes with the same mask (and the same
home PoP) share their routes (:func:`landing_groups`), so the cost is one route tree per distinct
mask, and none at all when no gateway is bent-pipe only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..ground.geodesy import MEAN_EARTH_RADIUS_M as EARTH_RADIUS_M, great_circle_distance_m


def footprint_radius_m(altitude_m, min_elevation_deg) -> np.ndarray:
    """Ground radius (great-circle arc, m) within which a satellite at ``altitude_m`` (m) is above
    ``min_elevation_deg`` (deg): ``R x (arccos(R cos e / (R + h)) - e)``. Shapes broadcast."""
    e = np.deg2rad(np.asarray(min_elevation_deg, dtype=float))
    h = np.asarray(altitude_m, dtype=float)
    return EARTH_RADIUS_M * (np.arccos(EARTH_RADIUS_M * np.cos(e) / (EARTH_RADIUS_M + h)) - e)


def bent_pipe_reach_m(altitude_m: float, dish_min_elevation_deg: float, gateway_min_elevation_deg: float) -> float:
    """Largest ground distance (m) between a dish and a gateway that one satellite at
    ``altitude_m`` sees both above their minimum elevations (deg): the sum of the two footprint
    radii (the satellite above the great circle between them). 550 km, 25 deg and 25 deg: about
    1,880 km."""
    return float(footprint_radius_m(altitude_m, dish_min_elevation_deg)
                 + footprint_radius_m(altitude_m, gateway_min_elevation_deg))


class LandingGroups(NamedTuple):
    """Dishes grouped by where they may land (:func:`landing_groups`)."""

    group: np.ndarray      # (D,) int64, each dish's group
    allowed: np.ndarray    # (M, G) bool: dish d may land at gateway g iff allowed[group[d], g]
    fallback: np.ndarray   # (M, G) bool: where when none of its allowed gateways works now
    homed: np.ndarray      # (M,) bool: the group's allowed gateways are its home PoP's within reach


def landing_groups(dish_lat_deg, dish_lon_deg, gateway_lat_deg, gateway_lon_deg, bent_pipe_only,
                   reach_m: float, dish_home=None, gateway_home=None) -> LandingGroups:
    """Each dish's landing mask, as groups.

    dish_lat_deg, dish_lon_deg : (D,) deg. gateway_lat_deg, gateway_lon_deg : (G,) deg.
    bent_pipe_only : (G,) bool, gateways that take no laser-borne traffic.
    reach_m : bent-pipe reach, m (:func:`bent_pipe_reach_m`).
    dish_home : (D,) int home PoP of each dish (-1: any PoP), with ``gateway_home`` (G,) int, each
        gateway's own PoP: ``network.landing: home-in-reach``. A dish with gateways of its home
        PoP (any gateway, for -1) within ``reach_m`` lands only at those; one with none lands at
        any gateway but the bent-pipe-only ones beyond its reach. None: every gateway may carry
        every dish's traffic but the bent-pipe-only ones beyond its reach.

    Returns :class:`LandingGroups`: ``group`` (D,) int64 and ``allowed`` (M, G) bool, dish ``d``
    may land at gateway ``g`` iff ``allowed[group[d], g]``; ``fallback`` (M, G) bool, where a
    group's dishes may land when none of its allowed gateways works at an instant (lost, cut off
    from its PoP): anywhere but the bent-pipe-only gateways beyond their reach (dishes of one group
    share it); ``homed`` (M,) bool, the group's dishes have gateways of their home PoP within reach
    and ``allowed`` is those (all False without ``dish_home``). Without bent-pipe-only gateways
    (and no ``dish_home``) every dish is in group 0, whose mask allows all. Work: D x
    (bent-pipe-only gateways) distances, D x G with ``dish_home``.
    """
    only = np.asarray(bent_pipe_only, dtype=bool)
    n_d, n_g = len(np.atleast_1d(dish_lat_deg)), len(only)
    if dish_home is not None and n_d and n_g:
        reach = _within(dish_lat_deg, dish_lon_deg, gateway_lat_deg, gateway_lon_deg, reach_m)   # (D, G)
        home = np.asarray(dish_home, dtype=np.int64)[:, None]
        near = reach & ((np.asarray(gateway_home, dtype=np.int64)[None, :] == home) | (home < 0))
        fallback = reach | ~only[None, :]
        homed = near.any(axis=1, keepdims=True)
        mask = np.where(homed, near, fallback)
        rows, group = np.unique(np.concatenate([mask, fallback, homed], axis=1), axis=0, return_inverse=True)
        group = group.reshape(-1).astype(np.int64)
        return LandingGroups(group, rows[:, :n_g], rows[:, n_g:2 * n_g], rows[:, 2 * n_g])
    if not only.any() or not n_d:
        everywhere = np.ones((1, n_g), dtype=bool)
        return LandingGroups(np.zeros(n_d, dtype=np.int64), everywhere, everywhere, np.zeros(1, dtype=bool))
    k = np.flatnonzero(only)
    reachable = _within(dish_lat_deg, dish_lon_deg, np.asarray(gateway_lat_deg, float)[k],
                        np.asarray(gateway_lon_deg, float)[k], reach_m)          # (D, K)
    rows, group = np.unique(reachable, axis=0, return_inverse=True)
    allowed = np.ones((len(rows), n_g), dtype=bool)
    allowed[:, k] = rows
    return LandingGroups(group.reshape(-1).astype(np.int64), allowed, allowed, np.zeros(len(rows), dtype=bool))


#: Dishes per block of the reach test: the (block, G) distances, not (D, G), are held at once.
REACH_BLOCK_DISHES = 20_000


def _within(dish_lat_deg, dish_lon_deg, gateway_lat_deg, gateway_lon_deg, reach_m: float) -> np.ndarray:
    """(D, G) bool: each dish within ``reach_m`` of each gateway (great circle), computed a block
    of :data:`REACH_BLOCK_DISHES` dishes at a time (100,000 dishes x 200 gateways: 20 MB of bool,
    never 160 MB of distances)."""
    lat, lon = np.asarray(dish_lat_deg, float), np.asarray(dish_lon_deg, float)
    g_lat, g_lon = np.asarray(gateway_lat_deg, float)[None, :], np.asarray(gateway_lon_deg, float)[None, :]
    out = np.empty((len(lat), g_lat.shape[1]), dtype=bool)
    for a in range(0, len(lat), REACH_BLOCK_DISHES):
        b = slice(a, a + REACH_BLOCK_DISHES)
        out[b] = great_circle_distance_m(lat[b, None], lon[b, None], g_lat, g_lon) <= reach_m
    return out
