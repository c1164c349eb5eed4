"""User dishes generated around a centre: :func:`dishes_around` scatters a given number of
dishes uniformly by area over a disc (a spherical cap) around a district centre, reproducibly
from a seed, and returns them as :class:`~leonet.ground.sites.Sites` of kind "dish".
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .geodesy import MEAN_EARTH_RADIUS_M, destination_point
from .sites import Sites


def dishes_around(
    center_lat_deg: float,
    center_lon_deg: float,
    count: int,
    radius_m: float,
    seed: int,
    name_prefix: str = "dish-",
    group: str = "",
) -> Sites:
    """``count`` user dishes scattered uniformly by area over a disc around a centre.

    The disc is the spherical cap of great-circle radius ``radius_m`` on the mean sphere
    (:data:`~leonet.ground.geodesy.MEAN_EARTH_RADIUS_M`); the dishes are placed at those
    latitudes and longitudes on the WGS84 ellipsoid surface (elevation 0 m). Distance from the
    centre is ``2 R asin(sqrt(u) sin(radius / 2R))`` for uniform ``u``: the exact area-uniform
    rule on the sphere, which is ``radius * sqrt(u)`` to within 1e-4 for radii below 100 km.

    Parameters
    ----------
    center_lat_deg, center_lon_deg : degrees.
    count : number of dishes, >= 0.
    radius_m : metres, in [0, pi R]; 0 puts every dish at the centre.
    seed : int; the same seed gives the same dishes (numpy ``Generator``, PCG64).
    name_prefix : names are ``name_prefix`` + a zero-padded index ("dish-0007").
    group : the group of every dish (e.g. the district name).

    Returns
    -------
    Sites of kind "dish", length ``count``.
    """
    where = "dishes_around"
    if isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, np.integer)) or count < 0:
        raise InputError(f"count must be a whole number >= 0, got {count!r}", where, "count")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be an int (for reproducible dishes), got {seed!r}", where, "seed")
    max_radius_m = np.pi * MEAN_EARTH_RADIUS_M
    if not (0.0 <= radius_m <= max_radius_m):
        message = f"radius_m must be in [0, {max_radius_m:.0f}] m, got {radius_m!r}"
        raise InputError(message, where, "radius_m")
    if not abs(center_lat_deg) <= 90.0:
        raise InputError(f"center_lat_deg {center_lat_deg!r} is outside [-90, 90]", where, "center_lat_deg")
    if not abs(center_lon_deg) <= 180.0:
        raise InputError(f"center_lon_deg {center_lon_deg!r} is outside [-180, 180]", where, "center_lon_deg")

    rng = np.random.default_rng(seed)
    u, v = rng.random((2, count))
    half_angle = radius_m / (2.0 * MEAN_EARTH_RADIUS_M)
    distance_m = 2.0 * MEAN_EARTH_RADIUS_M * np.arcsin(np.sqrt(u) * np.sin(half_angle))
    lat, lon = destination_point(center_lat_deg, center_lon_deg, 360.0 * v, distance_m)
    width = len(str(max(count - 1, 0)))
    names = np.array([f"{name_prefix}{i:0{width}d}" for i in range(count)], dtype=object)
    return Sites(
        name=names, kind=np.full(count, "dish", dtype=object), lat_deg=lat,
        lon_deg=lon, elevation_m=np.zeros(count), group=np.full(count, group, dtype=object),
    )
