"""Atmospheric attenuation of a slant path (ITU-R, through the ``itur`` package), dB.

Rain and scintillation from ITU-R P.618, gases from P.676, clouds from P.840; ``itur`` ships the
ITU digital maps, so this works offline. Every function takes numpy arrays (any shapes that
broadcast together) and returns float64; NaN elevations (a satellite not in view) give NaN;
arguments outside the Recommendations' ranges raise :class:`leonet.errors.InputError` naming the
function and the argument. The value depends only on the place, frequency, elevation and
availability, so compute it once per site and cache it (:mod:`leonet.capacity.attenuation_cache`).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import InputError
from .arrays import float_array

# ITU-R P.618 (rain and total attenuation) is stated for time percentages 0.001 % to 50 %,
# elevations of at least 5 deg, and (with P.838 / P.676 / P.840) frequencies up to 55 GHz.
MIN_AVAILABILITY_PCT = 50.0
MAX_AVAILABILITY_PCT = 99.999
MIN_ELEVATION_DEG = 5.0
MIN_ITU_FREQUENCY_HZ = 1e9
MAX_ITU_FREQUENCY_HZ = 55e9


#: Keys of :func:`atmospheric_attenuation_components_db`.
ATTENUATION_COMPONENTS = ("gas", "cloud", "rain", "scintillation", "total")


def _atmosphere_inputs(where, lat_deg, lon_deg, elevation_deg, frequency_hz, availability_pct,
                       dish_diameter_m, site_height_m, antenna_efficiency, polarization_tilt_deg):
    """Validate and broadcast the site/path arguments; returns the broadcast arrays and scalars."""
    arrays = {
        "lat_deg": float_array(lat_deg, where, "lat_deg"),
        "lon_deg": float_array(lon_deg, where, "lon_deg"),
        "elevation_deg": float_array(elevation_deg, where, "elevation_deg"),
        "frequency_hz": float_array(frequency_hz, where, "frequency_hz"),
    }
    if site_height_m is not None:
        arrays["site_height_m"] = float_array(site_height_m, where, "site_height_m")
    try:
        b = dict(zip(arrays, np.broadcast_arrays(*arrays.values()), strict=True))
    except ValueError:
        shapes = {k: v.shape for k, v in arrays.items()}
        raise InputError(f"arrays do not broadcast together: {shapes}", where) from None

    checks = (
        ("lat_deg", -90.0, 90.0, "deg"),
        ("lon_deg", -180.0, 360.0, "deg"),
        ("elevation_deg", MIN_ELEVATION_DEG, 90.0, "deg (ITU-R P.618 holds from 5 deg)"),
        ("frequency_hz", MIN_ITU_FREQUENCY_HZ, MAX_ITU_FREQUENCY_HZ, "Hz (ITU-R P.618 range)"),
        ("site_height_m", -500.0, 9000.0, "m"),
    )
    for name, lo, hi, unit in checks:
        if name not in b:
            continue
        v = b[name]
        bad = (v < lo) | (v > hi) | np.isinf(v)
        if name == "site_height_m":
            bad |= np.isnan(v)  # a given height must be a number; pass None to look it up
        if np.any(bad):
            raise InputError(f"must be in [{lo:g}, {hi:g}] {unit}, got {v[bad].flat[0]:g}", where, name)

    scalars = {}
    for name, value, lo, hi in (
        ("availability_pct", availability_pct, MIN_AVAILABILITY_PCT, MAX_AVAILABILITY_PCT),
        ("dish_diameter_m", dish_diameter_m, 1e-3, 100.0),
        ("antenna_efficiency", antenna_efficiency, 1e-3, 1.0),
        ("polarization_tilt_deg", polarization_tilt_deg, 0.0, 90.0),
    ):
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise InputError(f"must be one number, got {value!r}", where, name) from None
        if not lo <= x <= hi:  # also refuses NaN
            raise InputError(f"must be in [{lo:g}, {hi:g}], got {value!r}", where, name)
        scalars[name] = x
    return b, scalars


#: |latitude| at which the ITU-R maps are read for a site nearer a pole, deg (see _itur_components).
POLE_LATITUDE_LIMIT_DEG = 90.0 - 1e-4


#: Southern edge of the gap in the ITU-R maps near the North Pole, deg (see _fill_polar_gap):
#: itur (0.4.0) ships the P.836-6 water-vapour and P.840-7 cloud maps (1.125 deg grid) with the row
#: at 88.875 deg N missing (NaN) for longitudes 37.125-358.875 deg, so any point whose
#: interpolation reads that row, north of 86.625 deg, gets NaN gas and cloud terms there.
POLAR_GAP_EDGE_LAT_DEG = 86.625


def _itur_components(lat, lon, el, f_ghz, p_pct, diameter_m, height_km, eta, tau_deg):
    """One itur call for points sharing a frequency; returns five float arrays (dB)."""
    parts = _itur_call(lat, lon, el, f_ghz, p_pct, diameter_m, height_km, eta, tau_deg)
    return _fill_polar_gap(parts, lat, lon, el, f_ghz, p_pct, diameter_m, height_km, eta, tau_deg)


def _fill_polar_gap(parts, lat, lon, el, f_ghz, p_pct, diameter_m, height_km, eta, tau_deg):
    """``parts`` (gas, cloud, rain, scintillation, total) with the NaN terms of points north of
    :data:`POLAR_GAP_EDGE_LAT_DEG` filled in: each such term is interpolated linearly in latitude
    between its value at the gap's edge (86.625 deg, the point's longitude) and at the pole (where
    the maps' top row, valid, is the same at every longitude), as the maps' own bilinear
    interpolation would across the missing row; the total is then P.618's sum of the terms."""
    lat = np.asarray(lat, dtype=np.float64)
    nan = np.isnan(np.column_stack(parts))
    rows = np.flatnonzero(nan.any(axis=1) & (lat > POLAR_GAP_EDGE_LAT_DEG))
    if not len(rows):
        return parts
    k = len(rows)
    at = np.r_[np.full(k, POLAR_GAP_EDGE_LAT_DEG), np.full(k, POLE_LATITUDE_LIMIT_DEG)]
    along = np.r_[np.asarray(lon, dtype=np.float64)[rows], np.zeros(k)]   # the pole: any longitude
    twice = np.r_[np.asarray(el, dtype=np.float64)[rows], np.asarray(el, dtype=np.float64)[rows]]
    hs = None if height_km is None else np.r_[np.asarray(height_km)[rows], np.asarray(height_km)[rows]]
    edge_pole = _itur_call(at, along, twice, f_ghz, p_pct, diameter_m, hs, eta, tau_deg)
    w = (lat[rows] - POLAR_GAP_EDGE_LAT_DEG) / (90.0 - POLAR_GAP_EDGE_LAT_DEG)
    out = [np.array(q, dtype=np.float64) for q in parts]
    for j in range(4):   # gas, cloud, rain, scintillation; the total is recomputed below
        fill = (1.0 - w) * edge_pole[j][:k] + w * edge_pole[j][k:]
        out[j][rows] = np.where(nan[rows, j], fill, out[j][rows])
    gas, cloud, rain, scint = (out[j][rows] for j in range(4))
    out[4][rows] = gas + np.sqrt((rain + cloud) ** 2 + scint ** 2)   # P.618-13 2.5, as itur sums them
    return out


def _itur_call(lat, lon, el, f_ghz, p_pct, diameter_m, height_km, eta, tau_deg):
    import itur  # imported here: loading it takes ~2 s, and FSPL/SNR users should not pay that

    # itur (0.4.0) returns NaN gas and scintillation terms at exactly -90 deg (its maps' grid
    # edge); 1e-4 deg (11 m) off the pole the maps answer, and the atmosphere is the same there
    lat = np.clip(lat, -POLE_LATITUDE_LIMIT_DEG, POLE_LATITUDE_LIMIT_DEG)
    with warnings.catch_warnings():
        # itur (0.4.0) warns about the P.676 approximate method whenever an elevation lies
        # within 5 deg of 90 (it tests mod(el, 90) < 5), although the method holds up to 90 deg;
        # elevations were validated to [5, 90] above, so that one message carries no information.
        warnings.filterwarnings("ignore", message="The approximated method to compute the gaseous")
        parts = itur.atmospheric_attenuation_slant_path(
            lat, lon, f_ghz, el, p_pct, diameter_m, hs=height_km, eta=eta, tau=tau_deg,
            return_contributions=True,
        )
    n = lat.size
    return [np.broadcast_to(np.asarray(getattr(q, "value", q), dtype=np.float64), (n,)) for q in parts]


def atmospheric_attenuation_components_db(lat_deg, lon_deg, elevation_deg, frequency_hz,
                                          availability_pct=99.5, dish_diameter_m=0.5,
                                          site_height_m=None, antenna_efficiency=0.5,
                                          polarization_tilt_deg=45.0) -> dict[str, np.ndarray]:
    """Slant-path attenuation by gases, clouds, rain and scintillation, and their total, in dB.

    The total is ITU-R P.618-13 section 2.5: A = A_gas + sqrt((A_rain + A_cloud)^2 + A_scint^2),
    with gas (P.676-12 Annex 2) and cloud (P.840) terms taken at max(1 %, p) as P.618 prescribes.
    Each is the attenuation exceeded for (100 - availability_pct) % of an average year.

    Parameters
    ----------
    lat_deg, lon_deg : array_like. Site geodetic latitude [-90, 90] and longitude [-180, 360], deg.
    elevation_deg : array_like. Elevation of the satellite seen from the site, [5, 90] deg; NaN
        (satellite not in view) gives NaN in every output.
    frequency_hz : array_like. Carrier frequency, 1-55 GHz, Hz.
    availability_pct : float in [50, 99.999]. E.g. 99.5 -> attenuation exceeded 0.5 % of the year.
    dish_diameter_m : float. Receive aperture diameter, m (scintillation aperture averaging).
    site_height_m : None or array_like. Site height above mean sea level, m; None looks it up in
        the ITU-R P.1511 topography map. (A WGS84 ellipsoidal height differs from it by the geoid
        undulation, within about +-100 m, which moves the result little.)
    antenna_efficiency : float in (0, 1]. Aperture efficiency (P.618 scintillation).
    polarization_tilt_deg : float in [0, 90]. Polarisation tilt; 45 for circular (P.838).

    All array arguments broadcast together.

    Returns
    -------
    dict with keys :data:`ATTENUATION_COMPONENTS`, each an ndarray of float64 of the broadcast
    shape, dB.

    Notes
    -----
    Cost: the ITU maps load on the first call (about 4 s, once per process), and each point then
    costs of the order of 0.2 ms. Duplicate (site, elevation, frequency) points are computed once,
    and itur is called once per distinct frequency. The attenuation at a given availability is a
    long-term statistic and does not change with time: callers should compute it per site (at the
    elevations they need, e.g. a grid from 25 to 90 deg to interpolate) once per scenario and
    cache it, never once per time step.

    References
    ----------
    ITU-R P.618-13 (2017); ITU-R P.676-12; ITU-R P.840-7; ITU-R P.837-7 (rain rate); ITU-R P.838-3
    (specific attenuation); ITU-R P.839-4 (rain height); ITU-R P.1511 (topography). Implemented by
    ITU-Rpy (``itur``, del Portillo), validated by its authors against the ITU-R Study Group 3
    validation examples (CG-3M3J-13-ValEx).
    """
    where = "atmospheric_attenuation_db"
    b, s = _atmosphere_inputs(where, lat_deg, lon_deg, elevation_deg, frequency_hz, availability_pct,
                              dish_diameter_m, site_height_m, antenna_efficiency, polarization_tilt_deg)
    shape = b["lat_deg"].shape
    out = {k: np.full(shape, np.nan) for k in ATTENUATION_COMPONENTS}
    columns = [b[k].reshape(-1) for k in ("lat_deg", "lon_deg", "elevation_deg", "frequency_hz")]
    if "site_height_m" in b:
        columns.append(b["site_height_m"].reshape(-1))
    points = np.column_stack(columns) if columns[0].size else np.empty((0, len(columns)))
    known = ~np.isnan(points).any(axis=1)
    if not known.any():
        return out

    unique_points, inverse = np.unique(points[known], axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    results = np.empty((unique_points.shape[0], len(ATTENUATION_COMPONENTS)))
    p_pct = 100.0 - s["availability_pct"]
    for f_hz in np.unique(unique_points[:, 3]):
        rows = np.flatnonzero(unique_points[:, 3] == f_hz)
        pts = unique_points[rows]
        height_km = pts[:, 4] / 1e3 if pts.shape[1] > 4 else None
        parts = _itur_components(pts[:, 0], pts[:, 1], pts[:, 2], f_hz / 1e9, p_pct,
                                 s["dish_diameter_m"], height_km, s["antenna_efficiency"],
                                 s["polarization_tilt_deg"])
        # itur returns (gas, cloud, rain, scintillation, total), the order of ATTENUATION_COMPONENTS.
        results[rows] = np.column_stack(parts)
        bad = np.flatnonzero(np.isnan(results[rows]).any(axis=1))
        if len(bad):
            # a NaN attenuation would read as a link that does not close: say where instead
            lat, lon, el = pts[bad[0], :3]
            raise InputError(f"ITU-R attenuation is undefined (NaN) at lat {lat:g} deg, lon {lon:g} deg, elevation "
                             f"{el:g} deg, {f_hz / 1e9:g} GHz ({len(bad)} point(s))", location=where)

    flat_known = np.flatnonzero(known)
    for j, key in enumerate(ATTENUATION_COMPONENTS):
        flat = out[key].reshape(-1)
        flat[flat_known] = results[inverse, j]
    return out


def atmospheric_attenuation_db(lat_deg, lon_deg, elevation_deg, frequency_hz, availability_pct=99.5,
                               dish_diameter_m=0.5, site_height_m=None, antenna_efficiency=0.5,
                               polarization_tilt_deg=45.0) -> np.ndarray:
    """Total slant-path attenuation (rain + gases + clouds + scintillation), dB, exceeded for
    (100 - availability_pct) % of an average year.

    Arguments, cost and references as in :func:`atmospheric_attenuation_components_db` (compute
    per site once and cache: the value does not change with time). Returns an ndarray of
    float64 of the broadcast shape of the array arguments; NaN where the elevation is NaN.
    """
    return atmospheric_attenuation_components_db(
        lat_deg, lon_deg, elevation_deg, frequency_hz, availability_pct, dish_diameter_m,
        site_height_m, antenna_efficiency, polarization_tilt_deg,
    )["total"]
