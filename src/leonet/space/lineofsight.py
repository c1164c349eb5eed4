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

try:  # numba compiles the per-link geometry once per machine (cached on disk)
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency
    njit = None

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


#: Link states in the compiled geometry kernel.
_OK, _FAILED, _GRAZING, _TOO_LONG = 0, 1, 2, 3


def _isl_geometry(cand, pos, min_radius_m, max_range_m, length_m, state):
    """Per candidate: its length (m) and state (_OK, _FAILED, _GRAZING, _TOO_LONG), with the same
    arithmetic, operation for operation, as the numpy reference (so the same floats)."""
    for e in range(cand.shape[0]):
        i, j = cand[e, 0], cand[e, 1]
        ax, ay, az = pos[i, 0], pos[i, 1], pos[i, 2]
        bx, by, bz = pos[j, 0], pos[j, 1], pos[j, 2]
        dx, dy, dz = bx - ax, by - ay, bz - az
        dd = dx * dx + dy * dy + dz * dz
        length_m[e] = np.sqrt(dd)
        if not (np.isfinite(ax) and np.isfinite(ay) and np.isfinite(az) and np.isfinite(bx) and np.isfinite(by)
                and np.isfinite(bz)):
            state[e] = _FAILED
            continue
        ad = ax * dx + ay * dy + az * dz
        t = -ad / dd if dd > 0 else 0.0
        t = min(max(t, 0.0), 1.0)
        cx, cy, cz = ax + t * dx, ay + t * dy, az + t * dz
        closest_m = np.sqrt(cx * cx + cy * cy + cz * cz)
        if not closest_m >= min_radius_m:
            state[e] = _GRAZING
        elif length_m[e] > max_range_m:
            state[e] = _TOO_LONG
        else:
            state[e] = _OK


_isl_geometry_fast = njit(cache=True, nogil=True)(_isl_geometry) if njit is not None else _isl_geometry


def _checked_inputs(candidates, sat_ecef_m, grazing_height_m, max_range_m) -> tuple[np.ndarray, np.ndarray]:
    """``active_isls``' arguments as arrays (E, 2) and (N, 3), or ValueError naming what is wrong."""
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
    return cand, pos


def _isl_states(candidates, sat_ecef_m, grazing_height_m, max_range_m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The compiled check of every candidate: (candidates (E, 2), length_m (E,) float64, state (E,)
    int8: ``_OK``, ``_FAILED``, ``_GRAZING`` or ``_TOO_LONG``), after :func:`_checked_inputs`."""
    cand, pos = _checked_inputs(candidates, sat_ecef_m, grazing_height_m, max_range_m)
    length_m = np.empty(len(cand))
    state = np.empty(len(cand), dtype=np.int8)
    _isl_geometry_fast(np.ascontiguousarray(cand, dtype=np.int64), np.ascontiguousarray(pos),
                       EARTH_RADIUS_M + grazing_height_m, np.inf if max_range_m is None else float(max_range_m),
                       length_m, state)
    return cand, length_m, state


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
    cand, length_m, state = _isl_states(candidates, sat_ecef_m, grazing_height_m, max_range_m)
    ok = state == _OK
    return IslState(
        links=cand[ok].astype(np.int32).reshape(-1, 2),
        length_m=length_m[ok],
        candidate_ok=ok,
        dropped_failed=int((state == _FAILED).sum()),
        dropped_grazing=int((state == _GRAZING).sum()),
        dropped_range=int((state == _TOO_LONG).sum()),
    )


def laser_clear(candidates: np.ndarray, sat_ecef_m: np.ndarray, grazing_height_m: float = DEFAULT_GRAZING_HEIGHT_M,
                max_range_m: float | None = None) -> np.ndarray:
    """(E,) bool: ``active_isls(...).candidate_ok`` alone (the same kernel, without gathering the
    usable links and their lengths), for callers that only need the check."""
    return _isl_states(candidates, sat_ecef_m, grazing_height_m, max_range_m)[2] == _OK


def active_isls_reference(
    candidates: np.ndarray,
    sat_ecef_m: np.ndarray,
    grazing_height_m: float = DEFAULT_GRAZING_HEIGHT_M,
    max_range_m: float | None = None,
) -> IslState:
    """:func:`active_isls` in numpy (the reference its compiled kernel is tested against)."""
    cand, pos = _checked_inputs(candidates, sat_ecef_m, grazing_height_m, max_range_m)

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
