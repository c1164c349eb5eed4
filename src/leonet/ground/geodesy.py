"""Distances and destinations on the Earth's surface, on a mean sphere.

Ground-site bookkeeping (which PoP is nearest a gateway, how far a dish lies from its district
centre) needs surface distances good to a fraction of a percent, not geodesic accuracy: on the
mean sphere the error against the WGS84 ellipsoid is below ~0.5 %. Link geometry, which does need
precision, uses ECEF positions from :func:`leonet.space.frames.geodetic_to_ecef` instead.
"""

from __future__ import annotations

import numpy as np

#: IUGG mean Earth radius R1 = (2a + b) / 3 for WGS84, metres.
MEAN_EARTH_RADIUS_M = 6_371_008.8
#: Starts this close to a pole, degrees, count as at the pole in :func:`destination_point`.
POLE_TOLERANCE_DEG = 1e-9


def great_circle_distance_m(lat1_deg, lon1_deg, lat2_deg, lon2_deg) -> np.ndarray:
    """Great-circle distance between points, by the haversine formula on the mean sphere.

    Parameters
    ----------
    lat1_deg, lon1_deg, lat2_deg, lon2_deg : array_like, degrees; broadcast against each other.

    Returns
    -------
    float64 array of the broadcast shape, metres, in [0, pi * MEAN_EARTH_RADIUS_M].
    """
    lat1 = np.deg2rad(np.asarray(lat1_deg, dtype=np.float64))
    lat2 = np.deg2rad(np.asarray(lat2_deg, dtype=np.float64))
    dlat = lat2 - lat1
    dlon = np.deg2rad(np.asarray(lon2_deg, dtype=np.float64) - np.asarray(lon1_deg, dtype=np.float64))
    h = np.sin(dlat / 2.0) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2.0) ** 2
    # Rounding can push h a hair above 1 for antipodal points; arcsin would then return NaN.
    return 2.0 * MEAN_EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def destination_point(lat_deg, lon_deg, bearing_deg, distance_m) -> tuple[np.ndarray, np.ndarray]:
    """The point reached by travelling ``distance_m`` along a great circle at an initial bearing.

    Parameters
    ----------
    lat_deg, lon_deg : array_like, degrees, the start points.
    bearing_deg : array_like, degrees clockwise from north.
    distance_m : array_like, metres along the mean sphere.
    All four broadcast against each other.

    Returns
    -------
    (lat_deg, lon_deg) : float64 arrays of the broadcast shape; longitude in [-180, 180).

    At a pole every direction is south (or north), so the bearing is taken as it is just off the
    pole on the meridian ``lon_deg``: from the north pole, 180 follows that meridian and 0 the
    opposite one (longitude ``lon_deg + 180 - bearing``); from the south pole, 0 follows it
    (``lon_deg + bearing``). The formula's own limit there is 0/0, which put every point on one
    meridian (a dish group around a pole was a line).
    """
    lat_deg = np.asarray(lat_deg, dtype=np.float64)
    lat1 = np.deg2rad(lat_deg)
    lon1 = np.deg2rad(np.asarray(lon_deg, dtype=np.float64))
    bearing = np.deg2rad(np.asarray(bearing_deg, dtype=np.float64))
    delta = np.asarray(distance_m, dtype=np.float64) / MEAN_EARTH_RADIUS_M
    sin_lat2 = np.sin(lat1) * np.cos(delta) + np.cos(lat1) * np.sin(delta) * np.cos(bearing)
    lat2 = np.arcsin(np.clip(sin_lat2, -1.0, 1.0))
    lon2 = lon1 + np.arctan2(
        np.sin(bearing) * np.sin(delta) * np.cos(lat1), np.cos(delta) - np.sin(lat1) * sin_lat2
    )
    # within 1e-9 deg (0.1 mm) of a pole, the limit of the formula as the start nears the pole
    north, south = lat_deg >= 90.0 - POLE_TOLERANCE_DEG, lat_deg <= -90.0 + POLE_TOLERANCE_DEG
    if np.any(north) or np.any(south):
        lat2 = np.where(north, np.pi / 2 - delta, np.where(south, delta - np.pi / 2, lat2))
        lon2 = np.where(north, lon1 + np.pi - bearing, np.where(south, lon1 + bearing, lon2))
    lon2_deg = np.mod(np.rad2deg(lon2) + 180.0, 360.0) - 180.0
    return np.rad2deg(lat2), lon2_deg
