"""Looking up a horizon mask: whether a look direction is below a site's horizon.

Masks are ``(M, 360)`` float64, the lowest clear elevation (deg) at every whole degree of azimuth
clockwise from north, joined by linear interpolation (:mod:`leonet.ground.obstructions` builds
them from profiles and files). The lookup lives here, outside the engine, because the engine and
the readers of a results folder (the app) both use it on the masks a run stores.
"""

from __future__ import annotations

import numpy as np

N_AZIMUTH = 360
WEDGE_DEG = 30.0


def wedge_of(azimuth_deg: np.ndarray) -> np.ndarray:
    """(K,) int8 the wedge (0..11, 30 deg each, clockwise from north, as the dish reports its
    ``wedges_fraction_obstructed``) of each azimuth (K,), deg."""
    return (np.mod(np.asarray(azimuth_deg, dtype=np.float64), 360.0) // WEDGE_DEG).astype(np.int8)


def blocked(masks: np.ndarray, mask_of_site: np.ndarray, site: np.ndarray,
            azimuth_deg: np.ndarray, elevation_deg: np.ndarray) -> np.ndarray:
    """Whether each (site, satellite) look direction is below that site's horizon.

    Parameters
    ----------
    masks : (M, 360) horizons; mask_of_site : (S,) mask number per site, -1 for a clear sky.
    site, azimuth_deg, elevation_deg : (K,) pairs.
    """
    out = np.zeros(len(site), dtype=bool)
    m = mask_of_site[site] if len(site) else np.zeros(0, dtype=np.int64)
    has = m >= 0
    if not has.any():
        return out
    az = np.mod(azimuth_deg[has], 360.0)
    lo = np.floor(az).astype(np.int64) % N_AZIMUTH
    hi = (lo + 1) % N_AZIMUTH
    w = az - np.floor(az)
    limit = (1 - w) * masks[m[has], lo] + w * masks[m[has], hi]
    out[has] = elevation_deg[has] < limit
    return out
