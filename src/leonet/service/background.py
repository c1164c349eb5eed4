"""Background load: the subscribers outside the scenario, on the satellites and cells they use.

Chain (every step cheap and vectorised):

1. :func:`global_subscribers`: Starlink's subscriber total at a date, linear between SpaceX's
   announcements (REFERENCE.md, "Subscribers"); dates outside the announced range are an error
   (pass a total instead of guessing one).
2. :func:`subscriber_grid`: that total spread over people. No per-country counts are published,
   so subscribers are spread in proportion to the population of the given cities (GeoNames
   cities over 15,000 people via :mod:`leonet.ground.population`; by default every country,
   i.e. as if Starlink were sold everywhere), binned into a grid of ``cell_deg`` cells.
   **Assumptions**: take-up proportional to city population (real take-up is higher in rural
   areas, which the 1-degree grid partly smooths over) and equal in every served country.
3. :func:`satellite_background_bps`: each satellite's offered background load: the subscribers
   of every grid cell whose centre lies in its footprint (a cKDTree ball query around the
   sub-satellite points; the footprint radius from altitude and the terminals' minimum elevation)
   times the per-subscriber busy-hour demand times the diurnal factor at the cell's local time.
   A grid cell seen by k satellites loads each with 1/k of its subscribers (**assumption**: the
   scheduler spreads users evenly over the satellites in view), so the total is conserved.
4. :func:`cell_background_bps`: the background in the beam cell a dish is in: the subscriber
   density of the grid cell under the dish times the beam cell's area.
   :func:`sold_out_grid` caps each grid cell at a density (the admission limit over the cell
   area): city-population spreading otherwise puts more subscribers over big cities than beams
   take; the surplus waits, like the scenario's ``SOLD_OUT`` dishes.
5. :func:`residual_capacity_bps`: what the scenario's dishes have left: ``capacity x (1 - u)``
   with ``u = min(load / capacity, 1)``.

The per-subscriber busy-hour demand defaults to the traffic model's own mean
(:func:`leonet.service.traffic.busy_hour_demand_per_dish_bps`), so background subscribers behave
like the scenario's dishes on average.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

import numpy as np
from scipy.spatial import cKDTree

from ..errors import InputError
from ..ground.geodesy import MEAN_EARTH_RADIUS_M as EARTH_RADIUS_M
from ..network.landing import footprint_radius_m
from .traffic import DEFAULT_DIURNAL, diurnal_factor, local_solar_hour

#: Starlink subscribers as announced by SpaceX (REFERENCE.md, "Subscribers"; SpaceX posts on X
#: as reported by Benzinga, Digital Trends, Drive Tesla Canada; from Dec 2024 as reported by
#: Advanced Television 2025-08-29 (4.6 M in SpaceX's Dec 2024 progress report, 5 M in Feb 2025),
#: Broadband Breakfast 2025-06-10 (6 M), Benzinga 2025-08-28 (7 M), Business Insider via
#: India Today 2025-12-24 (8 M on 5 Nov 2025, 9 M on 22 Dec 2025) and Broadband Breakfast, Feb 2026
#: (10 M, 53 days after 9 M)). Announcements that give a month only are placed on its 15th
#: (assumption); ">N" is taken as N.
SUBSCRIBER_ANNOUNCEMENTS: tuple[tuple[str, int], ...] = (
    ("2021-06-30", 69_420),      # mid 2021
    ("2021-08-15", 90_000),      # Aug 2021
    ("2022-05-15", 400_000),     # >400,000, May 2022
    ("2022-12-15", 1_000_000),   # 1 million active, Dec 2022
    ("2023-09-15", 2_000_000),   # 2 million, Sep 2023
    ("2023-12-15", 2_300_000),   # >2.3 million in 70 countries, Dec 2023
    ("2024-05-15", 3_000_000),   # 3 million, May 2024
    ("2024-09-15", 4_000_000),   # 4 million in 100+ countries, Sep 2024
    ("2024-12-15", 4_600_000),   # 4.6 million, SpaceX progress report, Dec 2024
    ("2025-02-15", 5_000_000),   # 5 million, Feb 2025
    ("2025-06-10", 6_000_000),   # >6 million in 140 countries, Starlink on X, 10 Jun 2025
    ("2025-08-27", 7_000_000),   # 7 million in ~150 markets, Starlink on X, 27 Aug 2025
    ("2025-11-05", 8_000_000),   # 8 million, Starlink on X, 5 Nov 2025
    ("2025-12-22", 9_000_000),   # >9 million active in 155 markets, Starlink on X, 22 Dec 2025
    ("2026-02-13", 10_000_000),  # 10 million active, Musk and Shotwell on X, 53 days after 9 M
)


def _day_number(when) -> float:
    if isinstance(when, str):
        when = date.fromisoformat(when[:10])
    if isinstance(when, datetime):
        when = when.date()
    if isinstance(when, (int, np.integer)):            # ns since the Unix epoch
        return float(when) / 86_400e9
    return float((when - date(1970, 1, 1)).days)


def global_subscribers(when) -> float:
    """Starlink's subscriber total at ``when`` (ISO date string, date, datetime or int ns since the
    Unix epoch), linear between announcements. Outside the announced range (mid 2021 to Feb
    2026) an :class:`InputError`: give the total yourself."""
    days = np.array([_day_number(d) for d, _ in SUBSCRIBER_ANNOUNCEMENTS])
    counts = np.array([n for _, n in SUBSCRIBER_ANNOUNCEMENTS], dtype=float)
    x = _day_number(when)
    if not days[0] <= x <= days[-1]:
        raise InputError(f"no announced subscriber total near {when!s}: announcements run from "
                         f"{SUBSCRIBER_ANNOUNCEMENTS[0][0]} to {SUBSCRIBER_ANNOUNCEMENTS[-1][0]}; "
                         "give background.subscribers explicitly", location="background.year")
    return float(np.interp(x, days, counts))


@dataclass(frozen=True)
class SubscriberGrid:
    """Subscribers binned on a latitude/longitude grid.

    cell_deg : grid spacing, deg.
    subscribers : float (R, C) array, subscribers per grid cell (R = 180 / cell_deg rows from the
        south pole, C = 360 / cell_deg columns from -180 deg).
    lat_deg, lon_deg, count : (K,) the non-empty cells: population-weighted centre and subscribers.
    xyz_m : (K, 3) their centres on the sphere, m (for ball queries).
    flat_index : int (K,) their cell in ``subscribers.ravel()``.
    """

    cell_deg: float
    subscribers: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    count: np.ndarray
    xyz_m: np.ndarray
    flat_index: np.ndarray

    @property
    def total(self) -> float:
        return float(self.count.sum())

    @cached_property
    def tree(self) -> cKDTree:
        """k-d tree of the cells' centres ``xyz_m`` (built once, on first use)."""
        return cKDTree(self.xyz_m)


def _xyz_m(lat_deg, lon_deg) -> np.ndarray:
    lat, lon = np.deg2rad(lat_deg), np.deg2rad(lon_deg)
    return EARTH_RADIUS_M * np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


#: The finest subscriber grid, deg (about 11 km; ``service.background.cell_deg`` has the same
#: bound). A beam cell is 24 km (:mod:`.admission`), so a finer grid resolves nothing the beams
#: can, while the dense global grid grows as 1/cell^2: 6.5 M cells (52 MB a copy, a few copies
#: at once) here, 648 M cells (5 GB a copy) at 0.01.
MIN_CELL_DEG = 0.1


def subscriber_grid(total_subscribers: float, lat_deg, lon_deg, population, cell_deg: float = 1.0) -> SubscriberGrid:
    """Spread ``total_subscribers`` over places in proportion to their population and bin them.

    lat_deg, lon_deg, population : (N,) places (cities), deg and people.
    """
    lat = np.asarray(lat_deg, dtype=float)
    lon = np.asarray(lon_deg, dtype=float)
    pop = np.asarray(population, dtype=float)
    if not (lat.shape == lon.shape == pop.shape and lat.ndim == 1):
        raise InputError("lat_deg, lon_deg and population must be (N,) arrays of one length", location="subscriber_grid")
    if not MIN_CELL_DEG <= cell_deg <= 10 or abs(180 / cell_deg - round(180 / cell_deg)) > 1e-9:
        raise InputError(f"must divide 180 and be in [{MIN_CELL_DEG:g}, 10], got {cell_deg}",
                         location="background.cell_deg")
    if total_subscribers < 0 or (pop < 0).any():
        raise InputError("subscribers and populations must be >= 0", location="subscriber_grid")
    if pop.sum() <= 0 and total_subscribers > 0:
        raise InputError("no population to spread subscribers over", location="subscriber_grid")
    n_rows, n_cols = int(round(180 / cell_deg)), int(round(360 / cell_deg))
    row = np.clip(np.floor((lat + 90.0) / cell_deg).astype(np.int64), 0, n_rows - 1)
    col = np.floor((np.mod(lon + 180.0, 360.0)) / cell_deg).astype(np.int64) % n_cols
    subs = total_subscribers * pop / pop.sum() if pop.sum() > 0 else np.zeros_like(pop)
    flat = row * n_cols + col
    grid = np.bincount(flat, weights=subs, minlength=n_rows * n_cols)
    # Population-weighted centre of each non-empty cell (unit vectors, so longitudes wrap).
    xyz = _xyz_m(lat, lon)
    cell_ids, inverse = np.unique(flat, return_inverse=True)
    weights = np.bincount(inverse, weights=np.where(pop > 0, pop, 0.0))
    count = np.bincount(inverse, weights=subs)
    centre = np.stack([np.bincount(inverse, weights=xyz[:, k] * pop) for k in range(3)], axis=1)
    keep = weights > 0
    centre = centre[keep] / np.linalg.norm(centre[keep], axis=1, keepdims=True) * EARTH_RADIUS_M
    c_lat = np.rad2deg(np.arcsin(np.clip(centre[:, 2] / EARTH_RADIUS_M, -1, 1)))
    c_lon = np.rad2deg(np.arctan2(centre[:, 1], centre[:, 0]))
    return SubscriberGrid(cell_deg=float(cell_deg), subscribers=grid.reshape(n_rows, n_cols),
                          lat_deg=c_lat, lon_deg=c_lon, count=count[keep], xyz_m=centre,
                          flat_index=cell_ids[keep])


def _grid_cell_area_m2(rows: np.ndarray, cell_deg: float) -> np.ndarray:
    lat1 = np.deg2rad(-90.0 + rows * cell_deg)
    lat2 = np.deg2rad(-90.0 + (rows + 1) * cell_deg)
    return EARTH_RADIUS_M**2 * np.deg2rad(cell_deg) * (np.sin(lat2) - np.sin(lat1))


def sold_out_grid(grid: SubscriberGrid, max_subscribers_per_m2: float) -> SubscriberGrid:
    """The grid with every grid cell's subscribers capped at a density (subscribers per m^2; a
    cell limit divided by the cell area, :mod:`.admission`): the surplus waits, as the
    scenario's own ``SOLD_OUT`` dishes do. Spreading by city population puts far more
    subscribers over big cities than beams can take; this keeps the background consistent with
    the admission limits."""
    if not np.all(np.asarray(max_subscribers_per_m2) >= 0):
        raise InputError("must be >= 0", location="max_subscribers_per_m2")
    n_rows, n_cols = grid.subscribers.shape
    area = _grid_cell_area_m2(np.arange(n_rows), grid.cell_deg)[:, None]
    capped = np.minimum(grid.subscribers, max_subscribers_per_m2 * area)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(grid.subscribers > 0, capped / grid.subscribers, 0.0)
    return SubscriberGrid(cell_deg=grid.cell_deg, subscribers=capped, lat_deg=grid.lat_deg,
                          lon_deg=grid.lon_deg, count=grid.count * factor.ravel()[grid.flat_index],
                          xyz_m=grid.xyz_m, flat_index=grid.flat_index)


def world_cities(countries=None, min_population: int = 15_000):
    """(lat_deg, lon_deg, population) arrays of the cities in ``countries`` (ISO alpha-2 codes;
    None: every country the cities data knows) from :mod:`leonet.ground.population`."""
    from ..ground import population

    if countries is None:
        all_cities = population._city_rows()[0]
        countries = sorted({c.country for c in all_cities})
    cities = population.cities_of(list(countries), min_population, 10**9)
    return (np.array([c.lat_deg for c in cities]), np.array([c.lon_deg for c in cities]),
            np.array([c.population for c in cities], dtype=float))


def satellite_background_bps(grid: SubscriberGrid, sat_lat_deg, sat_lon_deg, altitude_m,
                             min_elevation_deg, t_ns, per_subscriber_busy_bps: float,
                             diurnal=DEFAULT_DIURNAL, serving=None) -> np.ndarray:
    """Offered background load on each satellite at one instant, bps.

    Parameters
    ----------
    grid : the subscribers (:func:`subscriber_grid`).
    sat_lat_deg, sat_lon_deg : (S,) sub-satellite points, deg.
    altitude_m : scalar or (S,) altitude, m (one footprint radius is used: the largest).
    min_elevation_deg : the terminals' minimum elevation, deg.
    t_ns : the instant, int64 ns (UTC).
    per_subscriber_busy_bps : mean busy-hour demand of one subscriber in this direction, bps.
    diurnal : 24 hourly factors by local solar time (the traffic model's profile).
    serving : optional bool (S,), satellites that serve users now (others get no load and take
        no share).

    Returns
    -------
    float64 (S,): the subscribers each satellite serves x per-subscriber demand x diurnal factor
    at each grid cell's local time. Grid cells seen by k satellites give each 1/k.
    """
    sat_lat = np.asarray(sat_lat_deg, dtype=float)
    n_sats = sat_lat.size
    load = np.zeros(n_sats)
    if n_sats == 0 or grid.count.size == 0:
        return load
    ids = np.arange(n_sats) if serving is None else np.flatnonzero(np.asarray(serving, dtype=bool))
    if ids.size == 0:
        return load
    radius_m = float(np.max(footprint_radius_m(altitude_m, min_elevation_deg)))
    chord_m = 2 * EARTH_RADIUS_M * np.sin(radius_m / (2 * EARTH_RADIUS_M))
    sat_xyz = _xyz_m(sat_lat[ids], np.asarray(sat_lon_deg, dtype=float)[ids])
    pairs = cKDTree(grid.xyz_m).sparse_distance_matrix(cKDTree(sat_xyz), chord_m, output_type="ndarray")
    gi = pairs["i"].astype(np.int64)          # zero distances are kept (a centre under a satellite)
    sj = pairs["j"].astype(np.int64)
    key = np.unique(gi * ids.size + sj)              # one entry per (grid cell, satellite)
    gi, sj = key // ids.size, key % ids.size
    seen_by = np.bincount(gi, minlength=grid.count.size)
    demand = grid.count * per_subscriber_busy_bps * diurnal_factor(local_solar_hour(grid.lon_deg, t_ns), diurnal)
    load[ids] = np.bincount(sj, weights=demand[gi] / seen_by[gi], minlength=ids.size)
    return load


def subscriber_density_per_m2(grid: SubscriberGrid, lat_deg, lon_deg) -> np.ndarray:
    """Subscribers per m^2 of the grid cell each point (D,) lies in."""
    lat = np.asarray(lat_deg, dtype=float)
    lon = np.asarray(lon_deg, dtype=float)
    n_rows, n_cols = grid.subscribers.shape
    row = np.clip(np.floor((lat + 90.0) / grid.cell_deg).astype(np.int64), 0, n_rows - 1)
    col = np.floor(np.mod(lon + 180.0, 360.0) / grid.cell_deg).astype(np.int64) % n_cols
    return grid.subscribers[row, col] / _grid_cell_area_m2(row, grid.cell_deg)


def cell_background_subscribers(grid: SubscriberGrid, lat_deg, lon_deg, cell_area_m2) -> np.ndarray:
    """Background subscribers in the beam cell around each point (D,): grid density x cell area
    (a 24 km square cell: 5.76e8 m^2)."""
    return subscriber_density_per_m2(grid, lat_deg, lon_deg) * np.asarray(cell_area_m2, dtype=float)


def cell_background_bps(grid: SubscriberGrid, lat_deg, lon_deg, cell_area_m2, t_ns,
                        per_subscriber_busy_bps: float, diurnal=DEFAULT_DIURNAL) -> np.ndarray:
    """Offered background load in the beam cell of each point (D,), bps, at instant ``t_ns``."""
    subs = cell_background_subscribers(grid, lat_deg, lon_deg, cell_area_m2)
    return subs * per_subscriber_busy_bps * diurnal_factor(local_solar_hour(lon_deg, t_ns), diurnal)


def background_utilisation(load_bps, capacity_bps) -> np.ndarray:
    """``min(load / capacity, 1)`` elementwise; 1 where the capacity is 0 (nothing is left)."""
    load = np.asarray(load_bps, dtype=float)
    cap = np.asarray(capacity_bps, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(cap > 0, load / cap, 1.0)
    return np.clip(u, 0.0, 1.0)


def residual_capacity_bps(capacity_bps, load_bps) -> np.ndarray:
    """Capacity left to the scenario's dishes: ``capacity x (1 - utilisation)``, bps."""
    cap = np.asarray(capacity_bps, dtype=float)
    return cap * (1.0 - background_utilisation(load_bps, cap))


def satellite_background_near(grid: SubscriberGrid, sat_xyz_m, wanted, min_elevation_deg, t_ns,
                              per_subscriber_busy_bps: float, cell_area_m2: float, diurnal=DEFAULT_DIURNAL,
                              weight=None, cell_weight=None):
    """Background load and occupied beam cells of the ``wanted`` satellites only (cheap per step).

    Like :func:`satellite_background_bps` (a grid cell seen by k satellites gives each 1/k; k
    counted over every satellite given), but only the grid cells under the wanted satellites are
    visited: a few hundred per satellite instead of the whole grid against every satellite.

    Parameters
    ----------
    sat_xyz_m : (N, 3) Earth-fixed satellite positions, m (NaN rows: lost satellites, ignored).
    wanted : int array (W,), satellites whose load is needed (others get 0).
    cell_area_m2 : area of one beam cell, m^2 (a 24 km square: 5.76e8).
    weight, cell_weight : optional (N,) shares of each satellite in a grid cell's load and in its
        occupied cells (e.g. capacity and beams: a network that balances load gives a bigger
        satellite more, **assumption**); None: equal (1/k).

    Returns
    -------
    load_bps : (N,) float64, offered background load, bps.
    cells : (N,) float64, beam cells with background subscribers each satellite serves: a grid
        cell of ``n`` beam cells and ``s`` subscribers has ``n (1 - exp(-s / n))`` of them
        (subscribers placed at random, Poisson: **assumption**), shared 1/k like the load.
    """
    xyz = np.asarray(sat_xyz_m, dtype=float)
    load, cells = np.zeros(len(xyz)), np.zeros(len(xyz))
    wanted = np.unique(np.asarray(wanted, dtype=np.int64))
    good = np.isfinite(xyz).all(axis=1)
    wanted = wanted[good[wanted]] if len(wanted) else wanted
    if not len(wanted) or grid.count.size == 0:
        return load, cells
    r = np.linalg.norm(xyz[wanted], axis=1)
    radius_m = float(np.max(footprint_radius_m(r - EARTH_RADIUS_M, min_elevation_deg)))
    chord_m = 2 * EARTH_RADIUS_M * np.sin(radius_m / (2 * EARTH_RADIUS_M))
    sub = xyz / np.linalg.norm(np.where(good[:, None], xyz, 1.0), axis=1, keepdims=True) * EARTH_RADIUS_M
    pairs = grid.tree.sparse_distance_matrix(cKDTree(sub[wanted]), chord_m, output_type="ndarray")
    gi, wj = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    if not len(gi):
        return load, cells
    # the grid cells under the wanted satellites (sorted), and each pair's cell among them
    used_mask = np.bincount(gi, minlength=grid.count.size) > 0
    used = np.flatnonzero(used_mask)
    gu = (np.cumsum(used_mask) - 1)[gi]
    w = np.ones(len(xyz)) if weight is None else np.asarray(weight, dtype=float)
    wc = np.ones(len(xyz)) if cell_weight is None else np.asarray(cell_weight, dtype=float)
    owner, flat = _cells_near_satellites(grid.xyz_m[used], sub, good, chord_m)
    sum_w = np.maximum(np.bincount(owner, weights=w[flat], minlength=len(used)), 1e-300)
    sum_wc = np.maximum(np.bincount(owner, weights=wc[flat], minlength=len(used)), 1e-300)
    count = grid.count[used]
    demand = count * per_subscriber_busy_bps * diurnal_factor(local_solar_hour(grid.lon_deg[used], t_ns), diurnal)
    n_cols = grid.subscribers.shape[1]
    n_beam_cells = np.maximum(_grid_cell_area_m2(grid.flat_index[used] // n_cols, grid.cell_deg) / cell_area_m2, 1.0)
    occupied = n_beam_cells * (1.0 - np.exp(-count / n_beam_cells))
    sat = wanted[wj]
    load[wanted] = np.bincount(wj, weights=demand[gu] * w[sat] / sum_w[gu], minlength=len(wanted))
    cells[wanted] = np.bincount(wj, weights=occupied[gu] * wc[sat] / sum_wc[gu], minlength=len(wanted))
    return load, cells


def _cells_near_satellites(cell_xyz_m: np.ndarray, sub_xyz_m: np.ndarray, good: np.ndarray, chord_m: float):
    """Every (cell, satellite) pair within ``chord_m`` (straight-line distance, m) of the cells
    (U, 3) and the good satellites' sub-points (N, 3), ordered by cell, then satellite: (owner
    (P,) cell number, sat (P,) satellite number), in the order a ball query per cell lists them
    (sums over them are the same to the bit). One sparse distance matrix between two k-d trees
    and an integer sort instead of a Python list per cell."""
    good_idx = np.flatnonzero(good)
    if not len(good_idx) or not len(cell_xyz_m):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # the pairs do not depend on the trees' shape (each is a distance test), nor their order (sorted
    # below): trees that are quicker to build than scipy's balanced default
    fast = dict(balanced_tree=False, compact_nodes=False)
    pairs = cKDTree(cell_xyz_m, **fast).sparse_distance_matrix(cKDTree(sub_xyz_m[good], **fast), chord_m,
                                                               output_type="ndarray")
    key = np.sort(pairs["i"].astype(np.int64) * len(good_idx) + pairs["j"].astype(np.int64))
    return key // len(good_idx), good_idx[key % len(good_idx)]


def geoip_weighted_cities(countries=None, min_population: int = 15_000):
    """(lat_deg, lon_deg, weight) of cities, weighted so that each country's share is its share
    of the subnets in Starlink's GeoIP feed (leonet/data/geoip, 2024-08-06), spread over the
    country's cities by population.

    Starlink gives out addresses by place; the subnets a country has are the only public trace of
    how many subscribers it has (US 23 %, Canada 11 %, Germany 1.6 %, Ukraine 1.7 % of 1,560
    subnets). **Assumption**: subscribers in proportion to subnets (a coarse proxy: one subnet
    serves many subscribers, and the feed is of August 2024). Countries without a subnet get none.
    """
    from ..ground.home_pop import read_home_pop_table
    from ..ground import population

    table = read_home_pop_table()
    subnets: dict[str, float] = {}
    for c, n in zip(table.country, table.n_subnets):
        subnets[c] = subnets.get(c, 0.0) + float(n)
    all_cities = population._city_rows()[0]
    chosen = set(subnets) if countries is None else {c.upper() for c in countries} & set(subnets)
    cities = [c for c in all_cities if c.country in chosen and c.population >= min_population]
    if not cities:
        raise InputError("no city of the GeoIP feed's countries to spread subscribers over", location="countries")
    pop = np.array([c.population for c in cities], dtype=float)
    code, of_city = np.unique(np.array([c.country for c in cities], dtype=object), return_inverse=True)
    total = np.bincount(of_city, weights=pop)           # each country's population in these cities
    weight = pop / total[of_city] * np.array([subnets[k] for k in code])[of_city]
    return (np.array([c.lat_deg for c in cities]), np.array([c.lon_deg for c in cities]), weight)
