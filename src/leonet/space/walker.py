"""Walker constellations: shells of circular orbits in evenly spaced planes.

A shell has ``planes`` orbital planes whose ascending nodes are spread evenly over
``raan_spread_deg`` (360 for a Walker delta, 180 for a Walker star / polar shell), each holding
``sats_per_plane`` satellites spaced evenly in mean anomaly. Between planes, satellites are phased
in one of two ways:

- ``"walker"``: the Walker delta pattern i:t/p/f, where plane ``j`` is advanced by
  ``j * f * 360 / t`` degrees (Walker, "Satellite constellations", JBIS 37, 1984);
- ``"half-slot"``: every odd plane is advanced by half a slot, ``360 / (2 * sats_per_plane)``
  degrees. This is the research convention of Hypatia (Kassing et al., IMC 2020) and LEOCraft;
  Starlink's true phasing is not public (REFERENCE.md).

Satellites are numbered plane by plane: index = plane * sats_per_plane + slot, as Hypatia does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import EARTH_MU_M3_PER_S2, EARTH_RADIUS_M, S_PER_DAY
from .elements import OrbitElements


def mean_motion_rev_per_day(altitude_m: float) -> float:
    """Keplerian mean motion of a circular orbit at ``altitude_m`` above the equatorial radius.

    n = sqrt(mu / a^3), a = R_e + h (WGS84). SGP4 reads this as a Kozai mean motion; the
    difference is a J2 correction of well under 1 km in semi-major axis for LEO.
    """
    a_m = EARTH_RADIUS_M + altitude_m
    n_rad_per_s = np.sqrt(EARTH_MU_M3_PER_S2 / a_m**3)
    return float(n_rad_per_s * S_PER_DAY / (2.0 * np.pi))


def altitude_m_from_mean_motion(mean_motion_rev_per_day: np.ndarray) -> np.ndarray:
    """Inverse of :func:`mean_motion_rev_per_day`: altitude (m) of a circular orbit."""
    n_rad_per_s = np.asarray(mean_motion_rev_per_day, dtype=np.float64) * 2.0 * np.pi / S_PER_DAY
    return np.cbrt(EARTH_MU_M3_PER_S2 / n_rad_per_s**2) - EARTH_RADIUS_M


def kepler_period_s(altitude_m: float) -> float:
    """Orbital period (s) of a circular orbit at ``altitude_m``: 2 pi sqrt(a^3 / mu)."""
    a_m = EARTH_RADIUS_M + altitude_m
    return float(2.0 * np.pi * np.sqrt(a_m**3 / EARTH_MU_M3_PER_S2))


@dataclass(frozen=True)
class WalkerShell:
    """One Walker shell. Angles in degrees; see the module docstring for phasing."""

    name: str
    altitude_m: float
    inclination_deg: float
    planes: int
    sats_per_plane: int
    epoch_ns: int
    raan_spread_deg: float = 360.0
    phasing: str = "half-slot"
    walker_f: int = 0
    raan_offset_deg: float = 0.0
    eccentricity: float = 0.0
    arg_perigee_deg: float = 0.0
    mean_motion_rev_per_day: float | None = None
    bstar_per_earth_radius: float = 0.0

    def __post_init__(self):
        # the scenario's ShellSpec checks these at the door; a shell built in Python gets the same
        # (planes 0 divided by zero; 550 for altitude_m put 400 satellites 0.55 km up, code 0)
        from ..errors import InputError

        where = f"WalkerShell {self.name!r}"
        if not 150e3 < self.altitude_m < 40_000e3:
            raise InputError(f"altitude_m must be between 150 km and 40,000 km, in metres (got {self.altitude_m!r})",
                             where, "altitude_m")
        if not 0 <= self.inclination_deg <= 180:
            raise InputError(f"inclination_deg must be within 0-180 (got {self.inclination_deg!r})", where, "inclination_deg")
        for field in ("planes", "sats_per_plane"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 10_000:
                raise InputError(f"{field} must be a whole number within 1-10,000 (got {value!r})", where, field)
        if not 0 <= self.eccentricity < 0.1:
            raise InputError(f"eccentricity must be within [0, 0.1) (got {self.eccentricity!r})", where, "eccentricity")

    @property
    def size(self) -> int:
        return self.planes * self.sats_per_plane


def walker_elements(shell: WalkerShell) -> tuple[OrbitElements, np.ndarray, np.ndarray]:
    """Elements of every satellite in a shell, with its plane and slot.

    Returns
    -------
    elements : OrbitElements with ``shell.size`` rows, ordered plane by plane.
    plane, slot : int32 arrays, shape (size,).
    """
    p, s = shell.planes, shell.sats_per_plane
    plane = np.repeat(np.arange(p, dtype=np.int32), s)
    slot = np.tile(np.arange(s, dtype=np.int32), p)

    raan_deg = np.mod(shell.raan_offset_deg + plane * (shell.raan_spread_deg / p), 360.0)
    mean_anomaly_deg = slot * (360.0 / s)
    if shell.phasing == "half-slot":
        mean_anomaly_deg = mean_anomaly_deg + np.where(plane % 2 == 1, 180.0 / s, 0.0)
    elif shell.phasing == "walker":
        mean_anomaly_deg = mean_anomaly_deg + plane * (shell.walker_f * 360.0 / (p * s))
    else:
        raise ValueError(f"unknown phasing {shell.phasing!r}; expected 'half-slot' or 'walker'")
    mean_anomaly_deg = np.mod(mean_anomaly_deg, 360.0)

    n_rev_per_day = (
        shell.mean_motion_rev_per_day
        if shell.mean_motion_rev_per_day is not None
        else mean_motion_rev_per_day(shell.altitude_m)
    )
    width = max(2, len(str(p - 1)))
    swidth = max(2, len(str(s - 1)))
    names = np.array(
        [f"{shell.name}-p{j:0{width}d}-s{k:0{swidth}d}" for j, k in zip(plane, slot)], dtype=object
    )
    elements = OrbitElements(
        name=names,
        catalog_id=np.full(p * s, "", dtype=object),
        epoch_ns=shell.epoch_ns,
        mean_motion_rev_per_day=n_rev_per_day,
        eccentricity=shell.eccentricity,
        inclination_deg=shell.inclination_deg,
        raan_deg=raan_deg,
        arg_perigee_deg=shell.arg_perigee_deg,
        mean_anomaly_deg=mean_anomaly_deg,
        bstar_per_earth_radius=shell.bstar_per_earth_radius,
    )
    return elements, plane, slot
