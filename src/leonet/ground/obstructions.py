"""Obstruction masks: the horizon a dish sees, as the lowest clear elevation per azimuth.

A mask is a horizon profile: points (azimuth_deg, elevation_deg), azimuth clockwise from north,
joined by linear interpolation around the circle. A satellite whose elevation is below the
profile at its azimuth is blocked (a tree, a roof, a hill). This is the same picture the Starlink
app's obstruction map draws; the app splits the sky into 12 wedges of 30 deg from north
(``wedges_fraction_obstructed``, REFERENCE.md).

Masks are stored sampled at every whole degree of azimuth, ``(M, 360)`` float64, so that looking
up thousands of pairs is one vectorised interpolation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError, quote

from ..horizon import N_AZIMUTH, WEDGE_DEG, blocked, wedge_of  # noqa: F401  (the mask lookup, shared with readers)


def horizon_from_points(azimuth_deg, elevation_deg, source: str = "mask") -> np.ndarray:
    """Sample a horizon profile at every whole degree of azimuth.

    Parameters
    ----------
    azimuth_deg, elevation_deg : (K,) points of the profile, K >= 1; azimuths in [0, 360),
        elevations in [0, 90].

    Returns
    -------
    float64 (360,): the clear-sky elevation limit at azimuth 0, 1, ..., 359 deg.
    """
    az = np.asarray(azimuth_deg, dtype=np.float64).reshape(-1)
    el = np.asarray(elevation_deg, dtype=np.float64).reshape(-1)
    if az.size == 0 or az.size != el.size:
        raise InputError("a horizon profile needs at least one (azimuth_deg, elevation_deg) point", source)
    if not np.all(np.isfinite(az)) or not np.all((az >= 0) & (az < 360)):
        raise InputError("azimuth_deg must be in [0, 360) (clockwise from north)", source, "azimuth_deg")
    if not np.all(np.isfinite(el)) or not np.all((el >= 0) & (el <= 90)):
        raise InputError("elevation_deg must be in [0, 90]", source, "elevation_deg")
    if len(np.unique(az)) != len(az):
        raise InputError("azimuth_deg values must be distinct", source, "azimuth_deg")
    order = np.argsort(az)
    az, el = az[order], el[order]
    grid = np.arange(N_AZIMUTH, dtype=np.float64)
    return np.interp(grid, az, el, period=360.0)


def read_horizon_csv(path: str | Path) -> np.ndarray:
    """A horizon profile from a CSV with columns azimuth_deg, elevation_deg (one row per point)."""
    from ..textfiles import read_text

    source = str(path)
    lines = read_text(path, "columns azimuth_deg,elevation_deg").splitlines()
    header = [h.strip() for h in lines[0].split(",")]
    if header[:2] != ["azimuth_deg", "elevation_deg"]:
        raise InputError(f"header must be 'azimuth_deg,elevation_deg', got {quote(lines[0])}", source, "line 1")
    az, el = [], []
    line_of_azimuth: dict[float, int] = {}
    for k, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(",")
        try:
            a, e = float(cells[0]), float(cells[1])
        except (ValueError, IndexError):
            raise InputError(f"expected two numbers, got {quote(line.strip())}", source, f"line {k}") from None
        # Checked row by row here so that the error names the line, not only the column.
        if not (np.isfinite(a) and 0 <= a < 360):
            raise InputError(f"azimuth_deg must be in [0, 360) (clockwise from north), got {cells[0].strip()}",
                             source, f"line {k}")
        if not (np.isfinite(e) and 0 <= e <= 90):
            raise InputError(f"elevation_deg must be in [0, 90], got {cells[1].strip()}", source, f"line {k}")
        if a in line_of_azimuth:
            raise InputError(f"azimuth {cells[0].strip()} deg is given again (first on line "
                             f"{line_of_azimuth[a]}); give each azimuth once", source, f"line {k}")
        line_of_azimuth[a] = k
        az.append(a)
        el.append(e)
    return horizon_from_points(az, el, source)
