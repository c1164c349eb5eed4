"""Mean orbital elements for many satellites, as columns (one array per element).

Every source of orbits (Walker shells, TLE, OMM) ends up as :class:`OrbitElements`; satellite
records for SGP4 are then built from these by ``sgp4init`` in one place
(:mod:`leonet.space.constellation`), so there is one path from elements to positions.

Elements are SGP4 (Brouwer/Kozai) mean elements referred to the TEME frame, in the units that
TLE/OMM write them, with the unit in each name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_FLOAT_FIELDS = (
    "mean_motion_rev_per_day",
    "eccentricity",
    "inclination_deg",
    "raan_deg",
    "arg_perigee_deg",
    "mean_anomaly_deg",
    "bstar_per_earth_radius",
    "mean_motion_dot_rev_per_day2",
    "mean_motion_ddot_rev_per_day3",
)


@dataclass(frozen=True)
class OrbitElements:
    """Columns of SGP4 mean elements; every array has shape (n,).

    Attributes
    ----------
    name : object array of str. Satellite names ("STARLINK-1007", "shell1-p03-s07").
    catalog_id : object array of str. NORAD catalog number as text, as the source wrote it
        ("44713", Alpha-5 "A0001", or OMM's 6-digit ids); "" where unknown (Walker shells).
    epoch_ns : int64, UTC ns since the Unix epoch.
    mean_motion_rev_per_day : Kozai mean motion, revolutions per day (TLE convention).
    eccentricity : dimensionless.
    inclination_deg, raan_deg, arg_perigee_deg, mean_anomaly_deg : degrees.
    bstar_per_earth_radius : SGP4 drag term B*, 1/earth radii.
    mean_motion_dot_rev_per_day2 : TLE's first derivative of mean motion / 2, rev/day^2
        (not used by SGP4; kept for round trips).
    mean_motion_ddot_rev_per_day3 : TLE's second derivative / 6, rev/day^3 (likewise).
    source : the file the elements were read from ("" where none: Walker shells, joined sets), so
        that a satellite found in two files can be reported with both.
    """

    name: np.ndarray
    catalog_id: np.ndarray
    epoch_ns: np.ndarray
    mean_motion_rev_per_day: np.ndarray
    eccentricity: np.ndarray
    inclination_deg: np.ndarray
    raan_deg: np.ndarray
    arg_perigee_deg: np.ndarray
    mean_anomaly_deg: np.ndarray
    bstar_per_earth_radius: np.ndarray = field(default=None)  # type: ignore[assignment]
    mean_motion_dot_rev_per_day2: np.ndarray = field(default=None)  # type: ignore[assignment]
    mean_motion_ddot_rev_per_day3: np.ndarray = field(default=None)  # type: ignore[assignment]
    source: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.name)
        set_ = object.__setattr__
        set_(self, "name", np.asarray(self.name, dtype=object))
        set_(self, "catalog_id", np.asarray(self.catalog_id, dtype=object))
        set_(self, "epoch_ns", np.broadcast_to(np.asarray(self.epoch_ns, dtype=np.int64), (n,)).copy())
        for f in _FLOAT_FIELDS:
            value = getattr(self, f)
            if value is None:
                value = 0.0
            set_(self, f, np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy())
        for f in ("catalog_id",):
            if len(getattr(self, f)) != n:
                raise ValueError(f"OrbitElements.{f} has {len(getattr(self, f))} rows, expected {n}")

    def __len__(self) -> int:
        return len(self.name)

    def take(self, index) -> "OrbitElements":
        """A subset (or reordering) of the satellites, by integer index or boolean mask."""
        index = np.asarray(index)
        return OrbitElements(
            **{f: getattr(self, f)[index] for f in ("name", "catalog_id", "epoch_ns", *_FLOAT_FIELDS)},
            source=self.source,
        )

    @staticmethod
    def concatenate(parts: list["OrbitElements"]) -> "OrbitElements":
        """Join several element sets, in order."""
        if not parts:
            return OrbitElements.empty()
        names = ("name", "catalog_id", "epoch_ns", *_FLOAT_FIELDS)
        return OrbitElements(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in names})

    @staticmethod
    def empty() -> "OrbitElements":
        e = np.zeros(0)
        return OrbitElements(
            name=np.zeros(0, dtype=object), catalog_id=np.zeros(0, dtype=object),
            epoch_ns=np.zeros(0, dtype=np.int64), mean_motion_rev_per_day=e, eccentricity=e,
            inclination_deg=e, raan_deg=e, arg_perigee_deg=e, mean_anomaly_deg=e,
        )

    @staticmethod
    def from_table(table) -> "OrbitElements":
        """The elements of a table :meth:`to_table` wrote (a results folder's ``satellites``):
        the optional float columns it lacks take their defaults, and a missing ``name`` or
        ``catalog_id`` reads as empty text."""
        import pyarrow as pa

        n = table.num_rows
        names = set(table.column_names)

        def text(column: str) -> np.ndarray:
            values = table.column(column).to_pylist() if column in names else [""] * n
            return np.array([v or "" for v in values], dtype=object)

        epoch = (table.column("epoch").cast(pa.timestamp("ns")).cast(pa.int64()).to_numpy(zero_copy_only=False)
                 if n else np.zeros(0, dtype=np.int64))
        return OrbitElements(name=text("name"), catalog_id=text("catalog_id"), epoch_ns=epoch,
                             **{f: np.asarray(table.column(f).to_numpy(zero_copy_only=False), dtype=np.float64)
                                for f in _FLOAT_FIELDS if f in names})

    def to_table(self):
        """The elements as a ``pyarrow.Table`` (one row per satellite)."""
        import pyarrow as pa

        cols = {
            "name": pa.array(list(self.name), pa.string()),
            "catalog_id": pa.array(list(self.catalog_id), pa.string()),
            "epoch": pa.array(self.epoch_ns.astype("datetime64[ns]")),
        }
        for f in _FLOAT_FIELDS:
            cols[f] = pa.array(getattr(self, f))
        return pa.table(cols)


# ------------------------------------------------------------------------------- plausibility

#: WGS72 (as SGP4 uses): Earth's gravitational parameter, km^3/s^2, and equatorial radius, km.
_MU_KM3_S2 = 398_600.8
_EARTH_RADIUS_KM = 6_378.135
#: Lowest perigee accepted, km above the equatorial radius. SGP4 handles perigees down to the
#: surface (it has a special case below 98 km, and Vallado's verification sets include an 83 km
#: perigee); below the surface the orbit runs through the Earth and SGP4 reports it as decayed.
MIN_PERIGEE_KM = 0.0


def perigee_altitude_km(mean_motion_rev_per_day: np.ndarray, eccentricity: np.ndarray) -> np.ndarray:
    """Perigee height above the equatorial radius, km (n,), from mean motion and eccentricity
    (two-body: a = (mu / n^2)^(1/3), perigee = a (1 - e) - R)."""
    n_rad_s = np.asarray(mean_motion_rev_per_day, dtype=np.float64) * 2.0 * np.pi / 86_400.0
    with np.errstate(divide="ignore", invalid="ignore"):
        a_km = np.cbrt(_MU_KM3_S2 / n_rad_s**2)
    return a_km * (1.0 - np.asarray(eccentricity, dtype=np.float64)) - _EARTH_RADIUS_KM


def implausible_orbit(mean_motion_rev_per_day: np.ndarray, eccentricity: np.ndarray):
    """The first satellite whose orbit cannot be flown, and why: ``(index, reason)``, or ``None``.

    Refused: a perigee below :data:`MIN_PERIGEE_KM`, inside the Earth (e.g. mean motion
    100 rev/day, or eccentricity 0.9999999 at 15 rev/day).
    """
    perigee = perigee_altitude_km(mean_motion_rev_per_day, eccentricity)
    bad = ~(perigee >= MIN_PERIGEE_KM)
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    mm, e = float(np.asarray(mean_motion_rev_per_day)[i]), float(np.asarray(eccentricity)[i])
    return i, (f"the orbit's perigee is {perigee[i]:,.0f} km above the Earth's equatorial radius (mean motion {mm:g} rev/day, "
               f"eccentricity {e:.7g}): the orbit runs through the Earth and SGP4 cannot propagate it")


def repeated_catalog_id(catalog_id: np.ndarray):
    """The first catalog number given twice: ``(first index, repeat index)``, or ``None``.
    Numbers compare as integers where they are digits ("00005" == "5")."""
    seen: dict = {}
    for i, cid in enumerate(catalog_id):  # ids are text; a dict finds repeats in one pass
        text = str(cid).strip()
        if not text:
            continue
        key = int(text) if text.isdigit() else text
        if key in seen:
            return seen[key], i
        seen[key] = i
    return None
