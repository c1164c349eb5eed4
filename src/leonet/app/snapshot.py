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

from ..space.constellation import Constellation
from ..space.frames import ecef_to_geodetic, enu_basis, geodetic_to_ecef, look_angles
from ..space.propagate import propagate

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

