"""Orbital plane and slot of each satellite, for constellations read from TLE/OMM.

Walker shells know their planes; published element sets do not. :func:`infer_planes` recovers
them: satellites sharing a plane share inclination and right ascension of the ascending node
(RAAN), once every RAAN is carried to one common instant (element sets have different epochs,
and J2 turns each node westward by a few degrees a day). Within a plane, satellites are ranked by
argument of latitude. :func:`read_plane_assignment` takes the grouping from a file instead.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from ..constants import EARTH_J2, EARTH_MU_M3_PER_S2, EARTH_RADIUS_M, NS_PER_S, S_PER_DAY
from ..errors import InputError, quote
from .elements import OrbitElements
from .tle import catalog_key as _catalog_key, read_text


def infer_planes(
    elements: OrbitElements,
    at_ns: int | None = None,
    raan_tolerance_deg: float = 2.0,
    inclination_tolerance_deg: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Group satellites into orbital planes and rank them within each plane.

    1. Inclination groups: sorted inclinations split wherever two neighbours differ by more
       than ``inclination_tolerance_deg``.
    2. Within a group, RAAN at ``at_ns`` (default: the median epoch), each node moved from its
       epoch by the J2 secular rate; sorted RAANs split where neighbours differ by more than
       ``raan_tolerance_deg``, the clusters either side of 0/360 joined when that gap is small.
       Planes are numbered by RAAN (circular mean, in [0, 360)) within a group, groups in order of
       inclination, numbers running on across groups.
    3. Slot: rank within the plane by argument of latitude (perigee argument + mean anomaly, moved
       to ``at_ns`` by the mean motion and the J2 rates), lowest first, from 0.

    Clustering is single-linkage: a chain of satellites each within tolerance of the next ends
    up in one plane, so satellites drifting between planes (orbit raising) may join two.

    Parameters
    ----------
    elements : n satellites.
    at_ns : common instant, int UTC ns since the Unix epoch.

    Returns
    -------
    plane, slot : int32 arrays, shape (n,).
    """
    if raan_tolerance_deg <= 0 or inclination_tolerance_deg <= 0:
        raise ValueError("raan_tolerance_deg and inclination_tolerance_deg must be positive")
    n = len(elements)
    plane = np.zeros(n, dtype=np.int32)
    slot = np.zeros(n, dtype=np.int32)
    if n == 0:
        return plane, slot
    if at_ns is None:
        # The lower median, taken exactly on the int64 epochs (np.median would go through float).
        at_ns = int(np.partition(elements.epoch_ns, (n - 1) // 2)[(n - 1) // 2])
    raan_deg, latitude_arg_deg = angles_at(elements, int(at_ns))

    group = _split_interleaved_shells(elements, inclination_groups(elements.inclination_deg, inclination_tolerance_deg))
    group_sorted = np.sort(group)

    next_plane = 0
    for g in range(int(group_sorted[-1]) + 1):  # inclination groups: a handful
        members = np.flatnonzero(group == g)
        local = _circular_clusters(raan_deg[members], raan_tolerance_deg)
        plane[members] = local + next_plane
        next_plane += int(local.max()) + 1

    # Slot: rank by argument of latitude within each plane (sort by plane, then by angle).
    order = np.lexsort((latitude_arg_deg, plane))
    sorted_plane = plane[order]
    first_of_plane = np.searchsorted(sorted_plane, sorted_plane, side="left")
    slot[order] = np.arange(n) - first_of_plane
    return plane, slot


#: Satellites further than this from their group's median altitude are raising or lowering their
#: orbit (m; **assumption**: Starlink satellites spend weeks climbing from ~300 km to their shell):
#: they carry no laser traffic and do not define planes or shells.
ON_STATION_M = 20_000.0
#: Inclination tolerance among satellites on station (deg): the 53.0 and 53.2 deg Starlink shells
#: sit 0.16 deg apart, each within ~0.02 deg (Dec 2023 set).
ON_STATION_INCLINATION_TOLERANCE_DEG = 0.05
#: A shell split off must hold at least this share of its group's satellites on station.
MIN_SHELL_SHARE = 0.02


def on_station(group: np.ndarray, mean_motion_rev_per_day: np.ndarray, tolerance_m: float = ON_STATION_M) -> np.ndarray:
    """(n,) bool: satellites within ``tolerance_m`` of their group's median semi-major axis (from
    the mean motion, Kepler's third law)."""
    group = np.asarray(group, dtype=np.int64)
    n_rad_per_s = np.asarray(mean_motion_rev_per_day, dtype=np.float64) * 2.0 * np.pi / S_PER_DAY
    a_m = np.cbrt(EARTH_MU_M3_PER_S2 / n_rad_per_s**2)
    out = np.zeros(len(group), dtype=bool)
    for g in np.unique(group):  # a handful of groups
        k = group == g
        out[k] = np.abs(a_m[k] - np.median(a_m[k])) <= tolerance_m
    return out


def _split_interleaved_shells(elements: OrbitElements, group: np.ndarray) -> np.ndarray:
    """Split inclination groups that hold two shells of close inclination (Starlink's 53.0 and
    53.2 deg): satellites raising their orbits have inclinations between the shells and chain them
    into one group at 0.5 deg, and then the shells' interleaved planes (2.5 deg apart in RAAN) chain
    into planes tens of degrees wide. Among the satellites on station (:data:`ON_STATION_M`) the
    shells stand apart; every satellite then joins the split group whose median inclination is
    nearest to its own. Groups of one shell are returned as they are. (n,) int64, numbered in
    order of inclination from 0."""
    inc = np.asarray(elements.inclination_deg, dtype=np.float64)
    steady = on_station(group, elements.mean_motion_rev_per_day)
    key = np.zeros(len(inc))  # a group's split: the median inclination of the shell each satellite joins
    for g in np.unique(group):
        members = np.flatnonzero(group == g)
        on = members[steady[members]]
        fine = inclination_groups(inc[on], ON_STATION_INCLINATION_TOLERANCE_DEG) if len(on) else np.zeros(0, dtype=np.int64)
        counts = np.bincount(fine) if len(fine) else np.zeros(0, dtype=np.int64)
        shells = np.flatnonzero(counts >= max(MIN_SHELL_SHARE * len(on), 3))
        if len(shells) < 2:
            key[members] = g * 1000.0
            continue
        centre = np.array([np.median(inc[on][fine == k]) for k in shells])
        nearest = np.argmin(np.abs(inc[members][:, None] - centre[None, :]), axis=1)
        key[members] = g * 1000.0 + centre[nearest]
    _, out = np.unique(key, return_inverse=True)
    return out.reshape(-1).astype(np.int64)


def inclination_groups(inclination_deg: np.ndarray, tolerance_deg: float = 0.5) -> np.ndarray:
    """(n,) int64 group of each satellite: sorted inclinations split wherever two neighbours
    differ by more than ``tolerance_deg``; groups numbered in order of inclination from 0."""
    inclination_deg = np.asarray(inclination_deg, dtype=np.float64)
    if len(inclination_deg) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(inclination_deg, kind="stable")
    group = np.empty(len(inclination_deg), dtype=np.int64)
    group[order] = _split_labels(np.diff(inclination_deg[order]) > tolerance_deg)
    return group


def angles_at(elements: OrbitElements, at_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """RAAN and argument of latitude (deg, in [0, 360)) carried from each epoch to ``at_ns``.

    Secular J2 rates of the mean elements (Vallado, "Fundamentals of Astrodynamics", 4th ed.,
    sec. 9.6), with p = a (1 - e^2) and a from the mean motion (a^3 = mu / n^2):
      dRAAN/dt = -3/2 n J2 (R/p)^2 cos i
      d(argp)/dt = 3/4 n J2 (R/p)^2 (5 cos^2 i - 1)
      dM/dt = n + 3/4 n J2 (R/p)^2 sqrt(1 - e^2) (3 cos^2 i - 1)
    Returns two float64 arrays of shape (n,).
    """
    e = elements
    n_rad_per_s = e.mean_motion_rev_per_day * 2.0 * np.pi / S_PER_DAY
    a_m = np.cbrt(EARTH_MU_M3_PER_S2 / n_rad_per_s**2)
    p_m = a_m * (1.0 - e.eccentricity**2)
    cos_i = np.cos(np.deg2rad(e.inclination_deg))
    k = 0.75 * n_rad_per_s * EARTH_J2 * (EARTH_RADIUS_M / p_m) ** 2
    raan_rate = -2.0 * k * cos_i
    argp_rate = k * (5.0 * cos_i**2 - 1.0)
    mean_anomaly_rate = n_rad_per_s + k * np.sqrt(1.0 - e.eccentricity**2) * (3.0 * cos_i**2 - 1.0)
    # Differences of int64 ns first, then seconds: epochs are ~1.7e18 ns, too big for float sums.
    dt_s = (at_ns - e.epoch_ns).astype(np.float64) / NS_PER_S
    raan_deg = np.mod(e.raan_deg + np.rad2deg(raan_rate * dt_s), 360.0)
    latitude_rate = argp_rate + mean_anomaly_rate
    latitude_arg_deg = np.mod(
        e.arg_perigee_deg + e.mean_anomaly_deg + np.rad2deg(latitude_rate * dt_s), 360.0)
    return raan_deg, latitude_arg_deg


def raan_clusters(raan_deg: np.ndarray, tolerance_deg: float = 2.0) -> np.ndarray:
    """(m,) int64 plane labels of satellites of one inclination group from their RAANs at one
    instant (deg): single-linkage on the circle, as :func:`infer_planes` groups them; labels 0..
    in order of each cluster's circular mean."""
    if len(raan_deg) == 0:
        return np.zeros(0, dtype=np.int64)
    return _circular_clusters(np.mod(np.asarray(raan_deg, dtype=np.float64), 360.0), tolerance_deg)


def _split_labels(split_after: np.ndarray) -> np.ndarray:
    """Cluster labels (0, 1, ...) for sorted values, given where neighbour gaps exceed tolerance.

    ``split_after`` has shape (m - 1,); the result has shape (m,).
    """
    return np.concatenate(([0], np.cumsum(split_after)))


def _circular_clusters(angle_deg: np.ndarray, tolerance_deg: float) -> np.ndarray:
    """Cluster angles on the circle; labels 0.. ordered by each cluster's circular mean in [0, 360).

    angle_deg: shape (m,), in [0, 360). Returns int64 labels, shape (m,).
    """
    m = len(angle_deg)
    order = np.argsort(angle_deg, kind="stable")
    sorted_deg = angle_deg[order]
    labels_sorted = _split_labels(np.diff(sorted_deg) > tolerance_deg)
    wrap_gap_deg = sorted_deg[0] + 360.0 - sorted_deg[-1]
    if labels_sorted[-1] > 0 and wrap_gap_deg <= tolerance_deg:
        # The last cluster continues past 360 into the first: join them.
        labels_sorted[labels_sorted == labels_sorted[-1]] = 0
    count = int(labels_sorted.max()) + 1
    rad = np.deg2rad(sorted_deg)
    sin_sum = np.bincount(labels_sorted, np.sin(rad), count)
    cos_sum = np.bincount(labels_sorted, np.cos(rad), count)
    mean_deg = np.mod(np.rad2deg(np.arctan2(sin_sum, cos_sum)), 360.0)
    rank = np.empty(count, dtype=np.int64)
    rank[np.argsort(mean_deg, kind="stable")] = np.arange(count)
    labels = np.empty(m, dtype=np.int64)
    labels[order] = rank[labels_sorted]
    return labels


def read_plane_assignment(path: str | Path, catalog_ids) -> tuple[np.ndarray, np.ndarray]:
    """Plane and slot of each satellite from a CSV file with columns ``catalog_id,plane,slot``.

    Every satellite in ``catalog_ids`` (shape (n,), as in :class:`OrbitElements`) must be listed
    exactly once; ids the satellites lack and (plane, slot) pairs used twice are refused. Ids match
    by catalog number, so "00005", "5" and Alpha-5 "A0001" / "100001" name the same satellite.

    Returns plane, slot: int32 arrays, shape (n,), in the order of ``catalog_ids``.
    """
    source = str(path)
    text = read_text(path)
    wanted = {}
    for i, cid in enumerate(catalog_ids):
        key = _catalog_key(str(cid))
        if key in wanted:
            raise InputError(f"the satellites list catalog_id {quote(cid)} twice; a plane assignment "
                             "needs unique ids", source)
        wanted[key] = i

    plane = np.full(len(wanted), -1, dtype=np.int32)
    slot = np.full(len(wanted), -1, dtype=np.int32)
    seen_line = {}
    used = {}
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
        if sorted(header) != ["catalog_id", "plane", "slot"]:
            raise InputError(f"the header is {quote(','.join(header))}, expected the columns "
                             "catalog_id,plane,slot", source, "line 1")
        for row in reader:
            where = f"line {reader.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 3:
                raise InputError(f"has {len(row)} values, expected 3 (catalog_id,plane,slot)",
                                 source, where)
            values = dict(zip(header, (cell.strip() for cell in row)))
            key = _catalog_key(values["catalog_id"])
            if key not in wanted:
                raise InputError(f"catalog_id {quote(values['catalog_id'])} is not one of the satellites",
                                 source, where)
            if key in seen_line:
                raise InputError(f"catalog_id {quote(values['catalog_id'])} is listed again (first on line "
                                 f"{seen_line[key]})", source, where)
            seen_line[key] = reader.line_num
            numbers = []
            for column in ("plane", "slot"):
                if not re.fullmatch(r"\d{1,9}", values[column]):
                    raise InputError(f"{column} is {quote(values[column])}, expected a whole number >= 0",
                                     source, where)
                numbers.append(int(values[column]))
            if tuple(numbers) in used:
                raise InputError(f"plane {numbers[0]} slot {numbers[1]} is already taken by line "
                                 f"{used[tuple(numbers)]}", source, where)
            used[tuple(numbers)] = reader.line_num
            plane[wanted[key]], slot[wanted[key]] = numbers
    except csv.Error as e:
        raise InputError(f"not valid CSV: {e}", source, f"line {reader.line_num}") from e
    missing = [str(catalog_ids[i]) for i in np.flatnonzero(plane < 0)]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise InputError(f"no plane and slot for catalog_id {', '.join(missing[:5])}{more}; "
                         "every satellite must be listed", source)
    return plane, slot
