"""Reference frames: TEME -> Earth-fixed by GMST, geodetic <-> ECEF (WGS84), look angles.

Positions are ``(..., 3)`` float64 arrays in metres. The Earth-fixed frame is TEME rotated by
Greenwich mean sidereal time (Vallado et al., 2006, "Revisiting Spacetrack Report #3"), then,
optionally, by polar motion into the ITRF. :class:`FrameConvention` says how:

- ``earth_rotation="ut1"`` (default): GMST of UT1, with UT1-UTC from the IERS
  (:mod:`leonet.space.earth_rotation`). Agrees with skyfield's ITRS to millimetres.
- ``earth_rotation="utc"``: GMST of UTC, as Hypatia does (and leonet did before). Satellites are
  then off by |UT1-UTC| x ~505 m/s at LEO radius: up to ~450 m (UT1-UTC is always under 0.9 s).
- ``polar_motion=True``: also rotate by the pole's offset (x, y, from the same IERS table), PEF ->
  ITRF; it moves satellites ~5-20 m. The TIO locator s' (< 0.1 mas, < 1 mm) is neglected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..constants import JD_UNIX_EPOCH, NS_PER_DAY, WGS84_A_M, WGS84_B_M, WGS84_E2

_JD_J2000 = 2_451_545.0
_META_ROTATION = b"leonet.earth_rotation"
_META_POLAR = b"leonet.polar_motion"


@dataclass(frozen=True)
class FrameConvention:
    """How TEME positions become Earth-fixed.

    Attributes
    ----------
    earth_rotation : "ut1" (GMST of UT1, the Earth's real angle; default) or "utc" (GMST of UTC,
        Hypatia's convention).
    polar_motion : rotate by the IERS pole offset too (ITRF rather than pseudo-Earth-fixed);
        needs ``earth_rotation="ut1"``.
    """

    earth_rotation: Literal["ut1", "utc"] = "ut1"
    polar_motion: bool = False

    def __post_init__(self):
        if self.earth_rotation not in ("ut1", "utc"):
            raise ValueError(f"earth_rotation must be 'ut1' or 'utc', got {self.earth_rotation!r}")
        if self.polar_motion and self.earth_rotation != "ut1":
            raise ValueError("polar_motion needs earth_rotation 'ut1'")

    def as_dict(self) -> dict:
        """For a run's manifest: the convention, and the IERS table's source when one is used."""
        out: dict = {"earth_rotation": self.earth_rotation, "polar_motion": self.polar_motion}
        if self.earth_rotation == "ut1":
            from .earth_rotation import eop_table

            out["earth_orientation_source"] = eop_table().source
        return out

    def to_metadata(self) -> dict[bytes, bytes]:
        """Arrow schema metadata, so that a table of elements carries the frame its run used."""
        return {_META_ROTATION: self.earth_rotation.encode(), _META_POLAR: str(self.polar_motion).lower().encode()}

    @staticmethod
    def from_metadata(metadata: dict[bytes, bytes] | None) -> "FrameConvention":
        """The convention written by :meth:`to_metadata`. A table without it comes from a run made
        before leonet recorded frames, all of which rotated on UTC: that is what is returned."""
        metadata = metadata or {}
        if _META_ROTATION not in metadata:
            return FrameConvention(earth_rotation="utc")
        return FrameConvention(earth_rotation=metadata[_META_ROTATION].decode(),
                               polar_motion=metadata.get(_META_POLAR, b"false") == b"true")


def gmst_rad(t_ns: np.ndarray, ut1_minus_utc_s: np.ndarray | None = None) -> np.ndarray:
    """Greenwich mean sidereal time (IAU 1982 model, as SGP4's ``gstime``), radians in [0, 2pi).

    Parameters
    ----------
    t_ns : int64 array, shape (T,), UTC ns since the Unix epoch.
    ut1_minus_utc_s : float64 array, shape (T,), seconds; None: UTC stands in for UT1.
    """
    t_ns = np.asarray(t_ns, dtype=np.int64)
    days, rem_ns = np.divmod(t_ns, NS_PER_DAY)
    # Days since J2000 as (whole, fraction) to keep precision before combining.
    fraction = rem_ns / NS_PER_DAY
    if ut1_minus_utc_s is not None:
        fraction = fraction + np.asarray(ut1_minus_utc_s, dtype=np.float64) / 86_400.0
    du = (JD_UNIX_EPOCH - _JD_J2000) + days.astype(np.float64) + fraction
    tut1 = du / 36525.0
    gmst_s = (
        67310.54841
        + (876600.0 * 3600.0 + 8640184.812866) * tut1
        + 0.093104 * tut1**2
        - 6.2e-6 * tut1**3
    )
    return np.mod(np.deg2rad(gmst_s / 240.0), 2.0 * np.pi)


def polar_motion_matrix(x_rad: np.ndarray, y_rad: np.ndarray) -> np.ndarray:
    """PEF -> ITRF rotation W = R1(-y) R2(-x) (IERS Conventions 2010, eq. 5.3, transposed; s'
    neglected), float64 (T, 3, 3), for pole coordinates ``x_rad``, ``y_rad`` (T,)."""
    cx, sx, cy, sy = np.cos(x_rad), np.sin(x_rad), np.cos(y_rad), np.sin(y_rad)
    zero = np.zeros_like(cx)
    # R1(-y) @ R2(-x), both as matrices acting on column vectors.
    return np.stack([
        np.stack([cx, zero, sx], axis=-1),
        np.stack([sy * sx, cy, -sy * cx], axis=-1),
        np.stack([-cy * sx, sy, cy * cx], axis=-1),
    ], axis=-2)


def teme_to_ecef(r_teme_m: np.ndarray, t_ns: np.ndarray,
                 convention: FrameConvention = FrameConvention()) -> np.ndarray:
    """Rotate TEME positions to Earth-fixed by GMST (of UT1 or UTC), and polar motion if asked.

    Parameters
    ----------
    r_teme_m : float64 array, shape (T, N, 3), metres.
    t_ns : int64 array, shape (T,), UTC.
    convention : see :class:`FrameConvention`.

    Returns
    -------
    float64 array, shape (T, N, 3), metres, Earth-fixed.
    """
    dut1 = None
    if convention.earth_rotation == "ut1":
        from .earth_rotation import ut1_minus_utc_s

        dut1 = ut1_minus_utc_s(t_ns) if len(np.atleast_1d(t_ns)) else None
    theta = gmst_rad(t_ns, dut1)
    c, s = np.cos(theta), np.sin(theta)
    x, y, z = r_teme_m[..., 0], r_teme_m[..., 1], r_teme_m[..., 2]
    out = np.empty_like(r_teme_m)
    if not (convention.polar_motion and len(out)):
        c, s = c[:, None], s[:, None]
        out[..., 0] = c * x + s * y
        out[..., 1] = -s * x + c * y
        out[..., 2] = z
        return out
    from .earth_rotation import polar_motion_rad

    # One matrix per instant, W @ R3(theta), applied element-wise (cheaper than a batched matmul).
    zero, one = np.zeros_like(c), np.ones_like(c)
    r3 = np.stack([np.stack([c, s, zero], -1), np.stack([-s, c, zero], -1), np.stack([zero, zero, one], -1)], -2)
    m = polar_motion_matrix(*polar_motion_rad(t_ns)) @ r3  # (T, 3, 3)
    for i in range(3):
        out[..., i] = m[:, i, 0, None] * x + m[:, i, 1, None] * y + m[:, i, 2, None] * z
    return out


def geodetic_to_ecef(lat_deg, lon_deg, height_m) -> np.ndarray:
    """WGS84 geodetic latitude, longitude (deg) and ellipsoidal height (m) -> ECEF (m).

    Inputs broadcast; the result has shape ``broadcast_shape + (3,)``.
    """
    lat = np.deg2rad(np.asarray(lat_deg, dtype=np.float64))
    lon = np.deg2rad(np.asarray(lon_deg, dtype=np.float64))
    h = np.asarray(height_m, dtype=np.float64)
    sin_lat = np.sin(lat)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
    x = (n + h) * np.cos(lat) * np.cos(lon)
    y = (n + h) * np.cos(lat) * np.sin(lon)
    z = (n * (1.0 - WGS84_E2) + h) * sin_lat
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def ecef_to_geodetic(r_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECEF (m), shape (..., 3) -> WGS84 (lat_deg, lon_deg, height_m), Bowring's method.

    One Bowring iteration is good to well under a millimetre for heights below ~10,000 km.
    """
    r_m = np.asarray(r_m, dtype=np.float64)
    x, y, z = r_m[..., 0], r_m[..., 1], r_m[..., 2]
    a, b, e2 = WGS84_A_M, WGS84_B_M, WGS84_E2
    ep2 = (a * a - b * b) / (b * b)
    p = np.hypot(x, y)
    theta = np.arctan2(z * a, p * b)
    lat = np.arctan2(z + ep2 * b * np.sin(theta) ** 3, p - e2 * a * np.cos(theta) ** 3)
    for _ in range(2):  # refine: makes the result exact to float precision at LEO heights
        sin_lat = np.sin(lat)
        n = a / np.sqrt(1.0 - e2 * sin_lat**2)
        h = p / np.maximum(np.cos(lat), 1e-300) - n
        lat = np.arctan2(z, p * (1.0 - e2 * n / (n + h)))
    sin_lat = np.sin(lat)
    n = a / np.sqrt(1.0 - e2 * sin_lat**2)
    # Height by the formula that stays well conditioned at the poles.
    h = p * np.cos(lat) + z * sin_lat - a * a / n
    lon = np.arctan2(y, x)
    return np.rad2deg(lat), np.rad2deg(lon), h


def enu_basis(lat_deg, lon_deg) -> np.ndarray:
    """Local east, north, up unit vectors (geodetic up) in ECEF.

    Returns float64 array of shape ``broadcast_shape + (3, 3)``; ``[..., 0, :]`` is east,
    ``[..., 1, :]`` north, ``[..., 2, :]`` up.
    """
    lat = np.deg2rad(np.asarray(lat_deg, dtype=np.float64))
    lon = np.deg2rad(np.asarray(lon_deg, dtype=np.float64))
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    zero = np.zeros_like(sl * so)
    east = np.stack(np.broadcast_arrays(-so, co, zero), axis=-1)
    north = np.stack(np.broadcast_arrays(-sl * co, -sl * so, cl), axis=-1)
    up = np.stack(np.broadcast_arrays(cl * co, cl * so, sl), axis=-1)
    return np.stack([east, north, up], axis=-2)


def look_angles(
    site_ecef_m: np.ndarray, site_enu: np.ndarray, target_ecef_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elevation, azimuth and slant range from sites to targets, pairwise (same leading shape).

    Parameters
    ----------
    site_ecef_m : (K, 3) metres.
    site_enu : (K, 3, 3) from :func:`enu_basis`.
    target_ecef_m : (K, 3) metres.

    Returns
    -------
    elevation_deg, azimuth_deg (clockwise from north, [0, 360)), range_m : each (K,).
    """
    d = target_ecef_m - site_ecef_m
    range_m = np.linalg.norm(d, axis=-1)
    e = np.einsum("kj,kj->k", d, site_enu[:, 0, :])
    n = np.einsum("kj,kj->k", d, site_enu[:, 1, :])
    u = np.einsum("kj,kj->k", d, site_enu[:, 2, :])
    elevation_deg = np.rad2deg(np.arcsin(np.clip(u / np.maximum(range_m, 1e-9), -1.0, 1.0)))
    azimuth_deg = np.mod(np.rad2deg(np.arctan2(e, n)), 360.0)
    return elevation_deg, azimuth_deg, range_m
