"""Laser links at one instant: which candidate satellite pairs see each other over the Earth.

A link is usable when both ends have finite positions, the segment between them clears the
Earth's surface by a grazing height (spherical Earth, as in Hypatia), and it is no longer than a
maximum range if one is given. Pure geometry on positions: the engine
(:mod:`leonet.network.isl`) and the readers of a results folder (the app's globe, from the
candidate pairs a run stores) use the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import EARTH_RADIUS_M

#: Line of sight must clear the Earth by this much (Hypatia: 80 km).
DEFAULT_GRAZING_HEIGHT_M = 80e3


@dataclass(frozen=True)
class IslState:
    """The ISLs usable at one instant.

    Every candidate is counted in exactly one of: usable, ``dropped_failed``,
    ``dropped_grazing``, ``dropped_range`` (checked in that order).

    Attributes
    ----------
    links : int32 (K, 2), the usable candidates, in candidate order.
    length_m : float64 (K,), their lengths in metres.
    candidate_ok : bool (E,), True for each candidate that is usable.
    dropped_failed : int, candidates with an endpoint whose position is not finite.
    dropped_grazing : int, candidates whose line of sight passes below the grazing height.
    dropped_range : int, candidates clear of the Earth but longer than the maximum range.
    """

    links: np.ndarray
    length_m: np.ndarray
    candidate_ok: np.ndarray
    dropped_failed: int
    dropped_grazing: int
    dropped_range: int


def active_isls(
    candidates: np.ndarray,
    sat_ecef_m: np.ndarray,
    grazing_height_m: float = DEFAULT_GRAZING_HEIGHT_M,
    max_range_m: float | None = None,
) -> IslState:
    """The candidate ISLs usable at one instant.

    A link is usable when both ends have finite positions, the segment between them stays at
    least ``EARTH_RADIUS_M + grazing_height_m`` from the Earth's centre (spherical Earth, as in
    Hypatia), and, if ``max_range_m`` is given, it is no longer than that.

    Parameters
    ----------
    candidates : int (E, 2), satellite indices (from :func:`plus_grid_candidates` or
        :func:`read_isl_list`).
    sat_ecef_m : float64 (N, 3), positions in metres at one instant, NaN for failed satellites.
        Any frame centred on the Earth works (the test only uses distances to the centre).
    grazing_height_m : float, metres above ``EARTH_RADIUS_M``.
    max_range_m : float or None, metres.

    Returns
    -------
    IslState.
    """
    cand = np.asarray(candidates)
    pos = np.asarray(sat_ecef_m, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ValueError(f"sat_ecef_m must have shape (N, 3), got {pos.shape}")
    if cand.ndim != 2 or cand.shape[1] != 2:
        raise ValueError(f"candidates must have shape (E, 2), got {cand.shape}")
    if len(cand) and not np.issubdtype(cand.dtype, np.integer):
        raise ValueError(f"candidates must be integer satellite indices, got dtype {cand.dtype}")
    if len(cand) and (cand.min() < 0 or cand.max() >= len(pos)):
        raise ValueError(f"candidates refer to satellites outside 0..{len(pos) - 1}")
    if not np.isfinite(grazing_height_m):
        raise ValueError(f"grazing_height_m must be finite, got {grazing_height_m!r}")
    if max_range_m is not None and not (max_range_m > 0):
        raise ValueError(f"max_range_m must be positive or None, got {max_range_m!r}")

    a = pos[cand[:, 0]]
    b = pos[cand[:, 1]]
    d = b - a
    length_m = np.linalg.norm(d, axis=1)
    failed = ~(np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1))

    # Closest point to the origin on the segment a + t d, t in [0, 1]: t = -a.d / d.d, clamped.
    # Coincident ends (d = 0) take t = 0; NaN rows are already counted as failed.
    dd = np.einsum("ij,ij->i", d, d)
    ad = np.einsum("ij,ij->i", a, d)
    t = np.clip(np.divide(-ad, dd, out=np.zeros_like(dd), where=dd > 0), 0.0, 1.0)
    closest_m = np.linalg.norm(a + t[:, None] * d, axis=1)
    with np.errstate(invalid="ignore"):  # NaN rows compare False; they are excluded by `failed`
        grazing = ~failed & ~(closest_m >= EARTH_RADIUS_M + grazing_height_m)
        too_long = ~failed & ~grazing
        if max_range_m is not None:
            too_long &= length_m > max_range_m
        else:
            too_long[:] = False
    ok = ~(failed | grazing | too_long)
    return IslState(
        links=cand[ok].astype(np.int32).reshape(-1, 2),
        length_m=length_m[ok],
        candidate_ok=ok,
        dropped_failed=int(failed.sum()),
        dropped_grazing=int(grazing.sum()),
        dropped_range=int(too_long.sum()),
    )
