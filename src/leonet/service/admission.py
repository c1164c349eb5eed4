"""Cells and admission: a beam cell takes a limited number of subscribers; the rest wait.

SpaceX sells service per cell and marks full cells "Sold Out" on its availability map, with a
waiting list (widely reported since 2022-2023; the limits are not published). leonet models a
cell's limit as the subscribers its beam can carry at the busy hour at a target utilisation
(:func:`cell_subscriber_limit`, an **assumption** of how such a limit is set), or as a number the
scenario gives. Background subscribers (:mod:`.background`) already in the cell count first; the
scenario's dishes fill what is left in a fixed order (earliest dish id first, or a seeded random
order), and a dish that does not fit is ``SOLD_OUT`` (:mod:`leonet.states`: an outage, the dish
has no service plan), never silently served.

Cells are the 24 km grid of :func:`leonet.capacity.model.cells_of` (the one the capacity model
shares beams by), not H3: one grid for beams and admission keeps "the dish's cell" one thing;
24 km is of the order of a Starlink user beam's spot (a cell of about 24 km is the figure used in
community analyses of the FCC filings; H3 resolution 5, 252 km^2, would be a close alternative).
"""

from __future__ import annotations

import numpy as np

from ..capacity.model import cells_of
from ..errors import InputError
from .rng import uniform

#: Side of a beam cell, m (the capacity model's default ``cell_size_km``).
CELL_SIZE_M = 24_000.0
#: Area of a beam cell, m^2.
CELL_AREA_M2 = CELL_SIZE_M**2


def dish_cells(lat_deg, lon_deg, cell_size_m: float = CELL_SIZE_M) -> np.ndarray:
    """Cell number (0..C-1, numbered over these points) of each dish (D,)."""
    return cells_of(np.asarray(lat_deg, dtype=float), np.asarray(lon_deg, dtype=float), cell_size_m)


def cell_subscriber_limit(beam_capacity_bps, busy_hour_bps_per_subscriber: float,
                          target_utilisation: float = 0.8) -> np.ndarray:
    """Subscribers a cell takes: ``floor(capacity x target / busy-hour demand per subscriber)``
    (assumption: the limit is set so that the busy hour loads the beam to ``target``)."""
    if not 0 < target_utilisation <= 1:
        raise InputError("must be in (0, 1]", location="service.admission.target_utilisation")
    if not busy_hour_bps_per_subscriber > 0:
        raise InputError("must be > 0 bps", location="busy_hour_bps_per_subscriber")
    cap = np.asarray(beam_capacity_bps, dtype=float)
    return np.floor(cap * target_utilisation / busy_hour_bps_per_subscriber).astype(np.int64)


def admitted_counts(cell_ids, n_dishes, limit_per_cell, already_in_cell=0, *, dish_ids=None,
                    seed: int | None = None) -> np.ndarray:
    """How many of each site's dishes get service in their cell.

    Parameters
    ----------
    cell_ids : int array (D,), each site's cell (:func:`dish_cells`).
    n_dishes : int array (D,) or scalar, dishes each site stands for.
    limit_per_cell : int scalar, or array indexed by cell id (C,), subscribers the cell takes.
    already_in_cell : scalar or (C,) array, subscribers already there (background), counted first.
    dish_ids : int array (D,), the order key (default: position); earliest id first.
    seed : None for earliest-id-first; an int for a seeded random order (pure function of
        (seed, dish id)).

    Returns
    -------
    int64 (D,): admitted dishes of each site, 0..n_dishes; a site straddling the limit is
    admitted in part (at most one per cell; :func:`leonet.sim.model.build_model` then splits it
    into its admitted dishes and a sold-out part, :func:`leonet.sim.sold_out.split_partly_admitted`).
    Deterministic.
    """
    cells = np.asarray(cell_ids, dtype=np.int64)
    n = np.broadcast_to(np.asarray(n_dishes, dtype=np.int64), cells.shape)
    if (n < 0).any():
        raise InputError("must be >= 0", location="n_dishes")
    ids = np.arange(cells.size) if dish_ids is None else np.asarray(dish_ids, dtype=np.int64)
    n_cells = int(cells.max()) + 1 if cells.size else 0
    limit = np.broadcast_to(np.asarray(limit_per_cell, dtype=np.int64), (n_cells,)) if np.ndim(limit_per_cell) == 0 \
        else np.asarray(limit_per_cell, dtype=np.int64)
    before = np.broadcast_to(np.asarray(already_in_cell, dtype=float), (n_cells,)) if np.ndim(already_in_cell) == 0 \
        else np.asarray(already_in_cell, dtype=float)
    if limit.shape[0] < n_cells or before.shape[0] < n_cells:
        raise InputError(f"needs one value per cell ({n_cells} cells)", location="limit_per_cell")
    if (limit < 0).any():
        raise InputError("must be >= 0", location="limit_per_cell")
    key = ids.astype(float) if seed is None else uniform(seed, "admission.order", ids)
    order = np.lexsort((ids, key, cells))          # by cell, then key, ties by id
    c, m = cells[order], n[order]
    cum = np.cumsum(m)
    first = np.r_[0, np.flatnonzero(np.diff(c)) + 1] if c.size else np.zeros(0, dtype=np.int64)
    start_cum = np.repeat(cum[first] - m[first], np.diff(np.r_[first, c.size]))
    taken_before = cum - m - start_cum              # dishes of this cell ahead of this site
    room = np.maximum(limit[c] - np.ceil(before[c]).astype(np.int64), 0)
    got = np.clip(room - taken_before, 0, m)
    out = np.empty_like(got)
    out[order] = got
    return out


def admitted(cell_ids, limit_per_cell, already_in_cell=0, *, dish_ids=None, seed: int | None = None) -> np.ndarray:
    """bool (D,): which single dishes get service (:func:`admitted_counts` with one dish each)."""
    return admitted_counts(cell_ids, 1, limit_per_cell, already_in_cell, dish_ids=dish_ids, seed=seed) > 0


def equal_share_cell_capacity_bps(grid, sat_xyz_m, sat_capacity_bps, beam_capacity_bps, min_elevation_deg,
                                  cell_area_m2: float = CELL_AREA_M2, points_xyz_m=None):
    """Busy-hour capacity of a beam cell in each grid cell (K,) when beams hop with an equal slot
    per occupied cell: the capacity of the satellites in view of the grid cell's centre, shared
    among the occupied beam cells in their footprint (radius as for the background), at most
    one beam's capacity.

    Parameters
    ----------
    grid : :class:`~leonet.service.background.SubscriberGrid` (its non-empty cells, K).
    sat_xyz_m : (N, 3) Earth-fixed satellite positions at one instant, m (a snapshot stands for
        the constellation's density).
    sat_capacity_bps, beam_capacity_bps : (N,) user capacity and one beam's capacity of each
        satellite, bps.

    points_xyz_m : optional (M, 3) points on the sphere (m) to evaluate instead of the grid's cells.

    Returns
    -------
    float64 (K,) or (M,), bps. Occupied cells: ``n (1 - exp(-s / n))`` per grid cell of ``n`` beam cells
    and ``s`` subscribers (Poisson, **assumption**).
    """
    from scipy.spatial import cKDTree

    from ..network.landing import footprint_radius_m
    from .background import EARTH_RADIUS_M, _grid_cell_area_m2

    xyz = np.asarray(sat_xyz_m, dtype=float)
    good = np.isfinite(xyz).all(axis=1)
    r = np.linalg.norm(xyz[good], axis=1)
    radius_m = float(np.median(footprint_radius_m(r - EARTH_RADIUS_M, min_elevation_deg))) if good.any() else 0.0
    chord_m = 2 * EARTH_RADIUS_M * np.sin(radius_m / (2 * EARTH_RADIUS_M))
    n_cols = grid.subscribers.shape[1]
    n_beam = np.maximum(_grid_cell_area_m2(grid.flat_index // n_cols, grid.cell_deg) / cell_area_m2, 1.0)
    occupied = n_beam * (1.0 - np.exp(-grid.count / n_beam))
    where = grid.xyz_m if points_xyz_m is None else np.asarray(points_xyz_m, dtype=float).reshape(-1, 3)
    near_cells = cKDTree(grid.xyz_m).query_ball_point(where, chord_m)
    occ_near = np.array([occupied[i].sum() for i in near_cells])
    sub = xyz[good] / r[:, None] * EARTH_RADIUS_M
    near_sats = cKDTree(sub).query_ball_point(where, chord_m)
    cap = np.asarray(sat_capacity_bps, dtype=float)[good]
    beam = np.asarray(beam_capacity_bps, dtype=float)[good]
    total = np.array([cap[i].sum() for i in near_sats])
    top = np.array([beam[i].max() if len(i) else 0.0 for i in near_sats])
    return np.minimum(total / np.maximum(occ_near, 1.0), top)
