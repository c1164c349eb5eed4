"""The sky at one instant, for the globe: satellite positions, active laser links, thinned.

The constellation is rebuilt from the results folder's own ``satellites`` table (elements, shell,
plane, slot), so a snapshot needs no scenario files: it is the same SGP4 propagation the run used.
Laser links are recomputed for the instant with :func:`leonet.space.lineofsight.active_isls` (the
engine's rule) on the candidate pairs the run stored (``isl_candidates.json``).

Thinning keeps every response bounded whatever the constellation: a deterministic stride over
satellites and over links (every k-th), so the same request always draws the same points.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..space.constellation import Constellation
from ..space.elements import OrbitElements
from ..space.frames import FrameConvention, ecef_to_geodetic, enu_basis, geodetic_to_ecef, look_angles
from ..space.propagate import propagate

_ELEMENT_COLUMNS = (
    "mean_motion_rev_per_day", "eccentricity", "inclination_deg", "raan_deg", "arg_perigee_deg",
    "mean_anomaly_deg", "bstar_per_earth_radius", "mean_motion_dot_rev_per_day2",
    "mean_motion_ddot_rev_per_day3",
)


def constellation_from_table(table: pa.Table) -> Constellation:
    """The run's constellation from its ``satellites`` table (row order = satellite index)."""
    cols = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    n = table.num_rows
    epoch = table.column("epoch").cast(pa.int64()).to_numpy(zero_copy_only=False) if n else np.zeros(0, np.int64)
    elements = OrbitElements(
        name=np.asarray(cols.get("name", np.array([""] * n)), dtype=object),
        catalog_id=np.asarray([c or "" for c in cols.get("catalog_id", [""] * n)], dtype=object),
        epoch_ns=epoch,
        **{c: np.asarray(cols[c], dtype=np.float64) for c in _ELEMENT_COLUMNS if c in cols},
    )
    shell_text = np.asarray(cols.get("shell", np.array([""] * n)), dtype=object)
    names, first = np.unique(shell_text, return_index=True) if n else (np.zeros(0, object), np.zeros(0, int))
    order = np.argsort(first)  # shells in the order they first appear, as the run built them
    shell_names = tuple(str(s) for s in names[order])
    number = {s: k for k, s in enumerate(shell_names)}
    shell = np.array([number[s] for s in shell_text], dtype=np.int32)
    return Constellation(
        elements=elements, shell=shell,
        plane=np.asarray(cols.get("plane", np.full(n, -1)), dtype=np.int32),
        slot=np.asarray(cols.get("slot", np.full(n, -1)), dtype=np.int32),
        shell_names=shell_names, frame=FrameConvention.from_metadata(table.schema.metadata),
    )


def stride_pick(n: int, limit: int) -> np.ndarray:
    """Indices 0, k, 2k, ... with k = ceil(n / limit): at most ``limit`` of ``n``, spread evenly."""
    if n <= limit:
        return np.arange(n)
    k = -(-n // max(limit, 1))
    return np.arange(0, n, k)[:limit]


@dataclass(frozen=True)
class Sky:
    """Positions at one instant: ``ecef_m`` (N, 3) and geodetic ``lat_deg``, ``lon_deg``,
    ``alt_m`` (N,), NaN for satellites whose propagation failed; ``links`` (K, 2) active ISLs."""

    ecef_m: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_m: np.ndarray
    links: np.ndarray


class SkyModel:
    """Propagates the run's constellation on demand, with a small cache of recent instants."""

    def __init__(self, constellation: Constellation, isl_candidates: np.ndarray,
                 grazing_height_m: float, isl_max_range_m: float | None, cache_size: int = 32):
        self.constellation = constellation
        self.isl_candidates = isl_candidates
        self.grazing_height_m = grazing_height_m
        self.isl_max_range_m = isl_max_range_m
        self._cache: OrderedDict[int, Sky] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def at(self, t_ns: int) -> Sky:
        with self._lock:
            if t_ns in self._cache:
                self._cache.move_to_end(t_ns)
                return self._cache[t_ns]
            ecef = propagate(self.constellation, np.array([t_ns], dtype=np.int64)).ecef_m[0]
            lat, lon, alt = ecef_to_geodetic(ecef)
            if len(self.isl_candidates):
                from ..space.lineofsight import active_isls  # numba: imported when first needed (fast start)

                links = active_isls(self.isl_candidates, ecef, self.grazing_height_m, self.isl_max_range_m).links
            else:
                links = np.zeros((0, 2), dtype=np.int32)
            sky = Sky(ecef_m=ecef, lat_deg=lat, lon_deg=lon, alt_m=alt, links=links)
            self._cache[t_ns] = sky
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return sky

    def look_angles_from(self, lat_deg: float, lon_deg: float, elevation_m: float,
                         sats: np.ndarray, t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Azimuth and elevation (deg), each (T, S), of satellites ``sats`` seen from one site.

        Propagates only the satellites asked for, so a track of a few hundred instants stays cheap.
        """
        sats = np.asarray(sats, dtype=np.int64)
        t_ns = np.asarray(t_ns, dtype=np.int64)
        if len(sats) == 0 or len(t_ns) == 0:
            return np.zeros((len(t_ns), len(sats))), np.zeros((len(t_ns), len(sats)))
        c = self.constellation
        sub = Constellation(elements=c.elements.take(sats), shell=c.shell[sats], plane=c.plane[sats],
                            slot=c.slot[sats], shell_names=c.shell_names, frame=c.frame)
        ecef = propagate(sub, t_ns).ecef_m  # (T, S, 3)
        site = geodetic_to_ecef(lat_deg, lon_deg, elevation_m).reshape(1, 3)
        enu = enu_basis(lat_deg, lon_deg).reshape(1, 3, 3)
        flat = ecef.reshape(-1, 3)
        el, az, _ = look_angles(np.repeat(site, len(flat), axis=0), np.repeat(enu, len(flat), axis=0), flat)
        return az.reshape(ecef.shape[:2]), el.reshape(ecef.shape[:2])

