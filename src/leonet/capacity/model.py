"""Capacity of one instant: who gets how many bits per second, and where the bottleneck is.

Every connected dish is a flow, down and up, along its route (user beam, serving satellite,
lasers, gateway feeder, PoP). Links and their capacities:

- **user beam**: a beam serves one cell (a square of ``cell_size_km``) at a time; dishes in a cell
  share it. Its resource is airtime: a dish with spectral efficiency eta (bit/s/Hz, from its SINR
  and the DVB-S2X table) uses 1 / (B x eta) seconds of beam per bit, so in the max-min sharing its
  weight on the beam is 1 / (B x eta) and the beam's capacity is the airtime it has, 1 s/s when
  the satellite has a beam for each of its cells, beams / cells when it must share them;
- **satellite**: total user capacity of the serving satellite (per generation, REFERENCE.md);
- **laser**: each direction of each laser link in use (100 Gbps by default);
- **feeder**: each gateway antenna (one satellite each);
- **PoP**.

Rates are max-min fair (:func:`leonet.capacity.maxmin.max_min_fair`), each dish asking for its
busy-hour demand (demand x activity x surge). Queueing delay is added to RTT by a simple model:
q = queue_scale_ms x rho / (1 - rho), capped at queue_max_ms, with rho the utilisation of the
busiest link on the dish's route (the M/M/1 shape: low until links fill, then steep), so a loaded
cell shows higher latency, as measurements of loaded Starlink cells do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ..errors import InputError
from ..ground.sites import Sites
from ..network.routekernels import path_hops
from .atmosphere import MIN_ELEVATION_DEG
from .linkbudget import RADIO_DEFAULTS, RadioDefaults, sinr_db, user_downlink_snr_db, user_uplink_snr_db
from .csrkernels import canonical_csr, carried_and_speedtest, row_max_of
from .linkindex import unique_pairs
from .maxmin import max_min_fair
from .modcod import spectral_efficiency

#: Satellite generations: (user beams, down Gbps, up Gbps). REFERENCE.md: V1/V1.5 ~17-21 Gbps
#: down, V2 Mini ~96 Gbps down (both uncertain). Beams and uplink are assumptions (uncertain): no
#: public figure; uplink taken as ~1/6 of downlink, the ratio of the V3 figures (160 / 1000).
GENERATIONS = {"v1.5": (24, 20.0, 3.5), "v2-mini": (48, 96.0, 16.0)}

BOTTLENECKS = ("none", "beam", "satellite", "laser", "feeder", "pop")
#: Elevations (deg) at which each cell's atmospheric loss is computed; a scenario's grid starts at
#: its minimum elevation (see :func:`elevation_grid_deg`) and the loss between points is interpolated.
_GRID_DEG = (5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 65.0, 90.0)


def elevation_grid_deg(min_elevation_deg: float | None) -> np.ndarray:
    """(E,) elevations (deg) of the attenuation grid for links at or above ``min_elevation_deg``.

    The grid starts at the scenario's minimum elevation, so the lowest link gets the loss of its
    own elevation (rain loss grows fast at low elevation: about 2.8 dB at 10 deg against 1.2 dB at
    25 deg over Kyiv at 11.7 GHz, 99.5 %). ITU-R P.618 holds from 5 deg: a rule without a minimum
    elevation (range only) or one below 5 deg starts the grid at 5 deg, and links lower than that
    get the 5 deg loss (an underestimate; the model has no valid value below it).
    """
    lowest = MIN_ELEVATION_DEG if min_elevation_deg is None else max(float(min_elevation_deg), MIN_ELEVATION_DEG)
    return np.array([lowest] + [g for g in _GRID_DEG if g > lowest])


@dataclass(frozen=True)
class CapacityModel:
    """The static part: parameters, cells of the dishes, atmospheric losses per cell."""

    radio: RadioDefaults
    beams: int
    sat_down_bps: float
    sat_up_bps: float
    feeder_bps: float
    isl_bps: float
    pop_bps: float
    demand_down_bps: float
    demand_up_bps: float
    activity: float
    margin_db: float
    congested_below_bps: float
    queue_scale_ms: float
    queue_max_ms: float
    jamming_rejection_db: float
    satellite_jamming_rejection_db: float
    dish_cell: np.ndarray          # (D,) cell number of each dish
    elevation_grid_deg: np.ndarray  # (E,) elevations of the attenuation tables (elevation_grid_deg)
    atm_down_db: np.ndarray        # (C, E) attenuation per cell at elevation_grid_deg, dB
    atm_up_db: np.ndarray          # (C, E) the same for the uplink frequency, dB


def cell_keys(lat_deg: np.ndarray, lon_deg: np.ndarray, cell_size_m: float) -> np.ndarray:
    """(n,) int64: the grid square of each point, ``row * 2**32 + col``, on a grid of squares
    ``cell_size_m`` on a side: rows of constant latitude, each cut into equal widths in longitude
    (so cells keep their size away from the equator). A square's key is its own, whatever the
    other points (a stable key for draws per cell)."""
    dlat = np.rad2deg(cell_size_m / 6_371_008.8)
    row = np.floor((np.asarray(lat_deg, dtype=np.float64) + 90.0) / dlat)
    row_lat = np.deg2rad(-90.0 + (row + 0.5) * dlat)
    dlon = dlat / np.maximum(np.cos(row_lat), 1e-3)
    col = np.floor((np.asarray(lon_deg, dtype=np.float64) + 180.0) / dlon)
    return row.astype(np.int64) * (1 << 32) + col.astype(np.int64)


def cells_of(lat_deg: np.ndarray, lon_deg: np.ndarray, cell_size_m: float) -> np.ndarray:
    """Cell numbers (0..C-1) of points on the grid of :func:`cell_keys`, numbered over these
    points in the order of their keys (by row, then column)."""
    _, number = np.unique(cell_keys(lat_deg, lon_deg, cell_size_m), return_inverse=True)
    return number.reshape(-1).astype(np.int64)


def build_capacity_model(spec, dishes: Sites, min_elevation_deg: float | None) -> CapacityModel:
    """From the scenario's ``capacity`` section, the dish sites and the visibility rule's minimum
    elevation (deg; None for a range-only rule), where the attenuation grid starts."""
    sat = spec.satellite
    # custom has no defaults: the spec requires all three values (SatelliteHardwareSpec)
    beams, down_gbps, up_gbps = (None, None, None) if sat.generation == "custom" else GENERATIONS[sat.generation]
    beams = beams if sat.beams is None else sat.beams
    down_gbps = down_gbps if sat.down_capacity_gbps is None else sat.down_capacity_gbps
    up_gbps = up_gbps if sat.up_capacity_gbps is None else sat.up_capacity_gbps
    if beams is None or down_gbps is None or up_gbps is None:
        raise InputError("generation: custom needs beams, down_capacity_gbps and up_capacity_gbps",
                         location="capacity.satellite")
    overrides = {k: v for k, v in spec.radio.model_dump().items() if v is not None}
    radio = replace(RADIO_DEFAULTS, **overrides)
    cell = cells_of(dishes.lat_deg, dishes.lon_deg, spec.cell_size_km * 1e3) if len(dishes) else np.zeros(0, dtype=np.int64)
    n_cells = int(cell.max()) + 1 if len(cell) else 0
    grid = elevation_grid_deg(min_elevation_deg)
    atm_down = np.zeros((n_cells, len(grid)))
    atm_up = np.zeros((n_cells, len(grid)))
    if spec.atmosphere and n_cells:
        from .attenuation_cache import attenuation_table_db

        # One representative point per cell (its first dish): rain climate varies over hundreds
        # of km, far more than a cell. The tables depend only on places, frequency and elevations:
        # computed once (1.9-5 ms per point through itur) and read from the on-disk cache after.
        first = np.unique(cell, return_index=True)[1]
        lat, lon = dishes.lat_deg[first], dishes.lon_deg[first]
        kw = dict(availability_pct=spec.availability_pct, dish_diameter_m=radio.user_terminal_dish_diameter_m)
        atm_down = attenuation_table_db(lat, lon, grid, radio.user_downlink_frequency_hz, **kw)
        atm_up = attenuation_table_db(lat, lon, grid, radio.user_uplink_frequency_hz, **kw)
    return CapacityModel(
        radio=radio, beams=beams, sat_down_bps=down_gbps * 1e9, sat_up_bps=up_gbps * 1e9,
        feeder_bps=spec.gateway_antenna_gbps * 1e9, isl_bps=spec.isl_gbps * 1e9, pop_bps=spec.pop_gbps * 1e9,
        demand_down_bps=spec.demand.down_mbps * 1e6, demand_up_bps=spec.demand.up_mbps * 1e6,
        activity=spec.demand.activity, margin_db=spec.margin_db,
        congested_below_bps=spec.congested_below_mbps * 1e6, queue_scale_ms=spec.queue_scale_ms,
        queue_max_ms=spec.queue_max_ms, jamming_rejection_db=spec.jamming_rejection_db,
        satellite_jamming_rejection_db=spec.satellite_jamming_rejection_db,
        dish_cell=cell, elevation_grid_deg=grid, atm_down_db=np.asarray(atm_down, dtype=np.float64), atm_up_db=np.asarray(atm_up, dtype=np.float64),
    )


def _atm(table: np.ndarray, grid_deg: np.ndarray, cell: np.ndarray, elevation_deg: np.ndarray) -> np.ndarray:
    """Attenuation per dish (dB), from its cell's row of ``table`` (C, E) at ``grid_deg`` (E,),
    interpolated in elevation (linear in 1/sin(el), as slant paths scale); below the grid's lowest
    elevation, its value."""
    if table.size == 0 or len(cell) == 0:
        return np.zeros(len(cell))
    x = 1.0 / np.sin(np.deg2rad(grid_deg))
    xi = 1.0 / np.sin(np.deg2rad(np.clip(elevation_deg, grid_deg[0], 90.0)))
    k = np.clip(np.searchsorted(-x, -xi) - 1, 0, len(x) - 2)  # x decreases with elevation
    w = (xi - x[k]) / (x[k + 1] - x[k])
    rows = table[cell]
    return (1 - w) * rows[np.arange(len(cell)), k] + w * rows[np.arange(len(cell)), k + 1]


@dataclass(frozen=True)
class DirectionResult:
    rate_bps: np.ndarray        # (F,)
    bottleneck: np.ndarray      # (F,) index into BOTTLENECKS
    utilisation_max: np.ndarray  # (F,) utilisation of the busiest link on the route
    link_kind: np.ndarray       # (L,) index into BOTTLENECKS
    link_a: np.ndarray          # (L,) first id (beam: sat, satellite: sat, laser: from sat, feeder: gateway, pop: PoP)
    link_b: np.ndarray          # (L,) second id (beam: cell, laser: to sat, feeder: sat, else -1)
    link_load_bps: np.ndarray   # (L,) bits per second carried
    link_utilisation: np.ndarray  # (L,) share of capacity used (airtime for beams)
    available_bps: np.ndarray = None  # (F,) what a speed test would get (rate + tightest slack)
    routing: sp.csr_matrix | None = None  # (F + F_bg, L) weights of every flow (background flows last)
    capacity_bps: np.ndarray | None = None  # (L,) link capacities (airtime for beams)
    all_rate_bps: np.ndarray | None = None  # (F + F_bg,) rates of every flow, background flows last


def _unique_links(keys_a: np.ndarray, keys_b: np.ndarray):
    """Distinct (a, b) pairs (sorted by a, then b) and each input's row among them
    (:func:`leonet.capacity.linkindex.unique_pairs`: grouped by a, no global sort)."""
    return unique_pairs(keys_a, keys_b)


class _Links:
    """The links of one direction, added a kind at a time, and each flow's use of them: the
    entries (flow, link, weight) of the flows x links matrix, and per link its kind (index into
    :data:`BOTTLENECKS`), its two ids and its capacity."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.data: list[np.ndarray] = []
        self.kinds: list[np.ndarray] = []
        self.a: list[np.ndarray] = []
        self.b: list[np.ndarray] = []
        self.caps: list[np.ndarray] = []
        self.n = 0

    def add(self, flow_idx, a, b, kind: str, weight, capacity, unique=None) -> None:
        """Flows ``flow_idx`` (K,) use links (a, b) (K,) each with ``weight`` (K,) per bit/s;
        ``capacity(unique_links)`` gives the capacity of each distinct link; ``unique``: the
        pairs' ``_unique_links`` when the caller has them already."""
        uniq, inv = _unique_links(a, b) if unique is None else unique
        self.rows.append(flow_idx)
        self.cols.append(self.n + inv)
        self.data.append(weight)
        self.kinds.append(np.full(len(uniq), BOTTLENECKS.index(kind)))
        self.a.append(uniq[:, 0] if len(uniq) else np.zeros(0, dtype=np.int64))
        self.b.append(uniq[:, 1] if len(uniq) else np.zeros(0, dtype=np.int64))
        self.caps.append(capacity(uniq))
        self.n += len(uniq)

    def matrix(self, n_flows: int) -> sp.csr_matrix:
        """(F, L) weights of each flow on each link."""
        return canonical_csr(self.rows, self.cols, self.data, (n_flows, self.n))


def route_links(serving: np.ndarray, cell: np.ndarray, eta_bps_per_hz: np.ndarray, bandwidth_hz: float,
                path: np.ndarray, isl_hops: np.ndarray, gateway: np.ndarray, pop: np.ndarray, model: CapacityModel,
                sat_capacity_bps, downlink: bool, mult: np.ndarray, extra_cells_per_sat=None,
                beams_per_sat=None, hops=None) -> _Links:
    """The links on the F flows' routes in one direction: user beam (airtime), serving satellite,
    lasers, gateway feeder, PoP (arguments as in :func:`allocate_direction`)."""
    f = len(serving)
    links = _Links()
    idx = np.arange(f)
    # Beams: airtime; a satellite with more cells than beams time-shares them (beam hopping),
    # counting the cells of background subscribers it serves too.
    beam_links = _unique_links(serving, cell)
    sat_cells = beam_links[0]
    cells_per_sat = np.bincount(sat_cells[:, 0], minlength=int(serving.max()) + 1 if f else 0).astype(float) \
        if f else np.zeros(0)
    if extra_cells_per_sat is not None and f:
        cells_per_sat = cells_per_sat + np.asarray(extra_cells_per_sat, dtype=float)[: len(cells_per_sat)]
    beams = (lambda sat: model.beams) if beams_per_sat is None else (lambda sat: np.asarray(beams_per_sat)[sat])
    links.add(idx, serving, cell, "beam", mult / (bandwidth_hz * eta_bps_per_hz),
              lambda u: np.minimum(1.0, beams(u[:, 0]) / np.maximum(cells_per_sat[u[:, 0]], 1.0)) if len(u) else np.zeros(0),
              unique=beam_links)
    sat_cap = np.asarray(sat_capacity_bps, dtype=float)
    links.add(idx, serving, np.full(f, -1), "satellite", mult,
              lambda u: (np.full(len(u), float(sat_cap)) if sat_cap.ndim == 0 else sat_cap[u[:, 0]]))
    # Lasers, each direction separately: downlink traffic runs from the feeder end to the serving
    # satellite (path[k+1] -> path[k]), uplink the other way.
    if path.shape[1] > 1:
        fi, a, b = path_hops(path) if hops is None else hops   # every hop, flow by flow
        src, dst = (b, a) if downlink else (a, b)
        links.add(fi, src, dst, "laser", mult[fi], lambda u: np.full(len(u), model.isl_bps))
    last = path[idx, np.maximum(isl_hops, 0)] if f else np.zeros(0, dtype=np.int64)
    links.add(idx, gateway, last, "feeder", mult, lambda u: np.full(len(u), model.feeder_bps))
    links.add(idx, pop, np.full(f, -1), "pop", mult, lambda u: np.full(len(u), model.pop_bps))
    return links


def allocate_direction(serving: np.ndarray, cell: np.ndarray, eta_bps_per_hz: np.ndarray, bandwidth_hz: float,
                       path: np.ndarray, isl_hops: np.ndarray, gateway: np.ndarray, pop: np.ndarray,
                       demand_bps: np.ndarray, model: CapacityModel, sat_capacity_bps,
                       downlink: bool, multiplicity: np.ndarray | None = None, extra_cells_per_sat=None,
                       background=None, beams_per_sat=None, hops=None) -> DirectionResult:
    """Max-min fair rates of F flows (connected dishes with eta > 0) in one direction.

    Parameters
    ----------
    serving, cell, eta_bps_per_hz, isl_hops, gateway, pop, demand_bps : (F,) per flow.
    path : (F, W) satellites from the serving one to the one with the feeder link, -1 padded.
    multiplicity : (F,) identical dishes each flow stands for (default 1): a flow of m dishes
        weighs m times on every link and its rate is the rate of each of its dishes (max-min
        fairness gives identical flows identical rates, so this is exact).
    sat_capacity_bps : scalar, or (N,) per satellite (e.g. what background load leaves).
    extra_cells_per_sat : (N,) cells of background subscribers each satellite also serves (its
        beams hop over them too), or None.
    beams_per_sat : (N,) beams of each satellite (None: ``model.beams`` for all).
    hops : ``path_hops(path)`` (row, first and second satellite of every laser hop) where the
        caller has it (both directions share their paths); None: computed here.
    background : None, or per-flow (F,) arrays ``(mult, demand_bps)``, or a list of such pairs
        (one per class of background use): the background subscribers active in each flow's
        cell, competing on that flow's beam only (their satellite load is in
        ``sat_capacity_bps``): one background flow per flow and class, of ``mult`` subscribers
        each asking ``demand_bps``, with the flow's airtime weight per bit.
    """
    f = len(serving)
    mult = np.ones(f) if multiplicity is None else np.asarray(multiplicity, dtype=np.float64)
    links = route_links(serving, cell, eta_bps_per_hz, bandwidth_hz, path, isl_hops, gateway, pop, model,
                        sat_capacity_bps, downlink, mult, extra_cells_per_sat, beams_per_sat, hops)
    routing = links.matrix(f)
    capacity = np.concatenate(links.caps)
    demand = np.asarray(demand_bps, dtype=float)
    if background is not None and f:
        classes = [background] if len(background) == 2 and np.ndim(background[0]) == 1 else list(background)
        beam_col = links.cols[0]          # each flow's beam link
        blocks, bg_demands = [routing], [demand]
        for bg_mult, bg_demand in ((np.asarray(m, dtype=float), np.asarray(d, dtype=float)) for m, d in classes):
            rows = np.flatnonzero(bg_mult > 0)
            blocks.append(sp.csr_matrix((bg_mult[rows] / (bandwidth_hz * eta_bps_per_hz[rows]),
                                         (np.arange(len(rows)), beam_col[rows])), shape=(len(rows), routing.shape[1])))
            bg_demands.append(bg_demand[rows])
        full = sp.vstack(blocks).tocsr()
        alloc_all = max_min_fair(full, capacity, np.concatenate(bg_demands))
        rates_all = alloc_all.rate_bps
        alloc = alloc_all
        routing_all = full
    else:
        alloc = max_min_fair(routing, capacity, demand)
        rates_all, routing_all = alloc.rate_bps, routing
    kind = np.concatenate(links.kinds).astype(np.int8)
    rate = rates_all[:f]
    bl = alloc.bottleneck_link[:f]
    bottleneck = np.where(bl >= 0, kind[np.maximum(bl, 0)], 0).astype(np.int8)
    util = alloc.link_utilisation
    link_bits, available = _carried_and_speedtest(routing, capacity, rate, mult)
    return DirectionResult(rate, bottleneck, _busiest_on_route(routing, util), kind,
                           np.concatenate(links.a), np.concatenate(links.b), link_bits, util, available,
                           routing_all, capacity, rates_all)


def _busiest_on_route(routing: sp.csr_matrix, link_utilisation: np.ndarray) -> np.ndarray:
    """(F,) utilisation of the busiest link on each flow's route (0 for a flow without links;
    compiled: :func:`leonet.capacity.csrkernels.row_max_of`)."""
    return row_max_of(routing, link_utilisation)


def _busiest_on_route_reference(routing: sp.csr_matrix, link_utilisation: np.ndarray) -> np.ndarray:
    """:func:`_busiest_on_route` through ``np.maximum.reduceat`` (the reference)."""
    umax = np.zeros(routing.shape[0])
    if routing.nnz:
        per_entry = link_utilisation[routing.indices]
        starts = routing.indptr[:-1]
        has = np.diff(routing.indptr) > 0
        umax[has] = np.maximum.reduceat(per_entry, starts[has])
    return umax


def _carried_and_speedtest(routing: sp.csr_matrix, capacity: np.ndarray, rate_bps: np.ndarray,
                           mult: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bits per second carried by each link (L,), and what a speed test would measure for each
    flow (F,): its rate plus the spare capacity of its tightest link (others keep their rates),
    i.e. min over its links of rate + slack / weight (compiled: :mod:`leonet.capacity.csrkernels`)."""
    return carried_and_speedtest(routing, capacity, rate_bps, mult)


def _carried_and_speedtest_reference(routing: sp.csr_matrix, capacity: np.ndarray, rate_bps: np.ndarray,
                                     mult: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_carried_and_speedtest` through scipy products and numpy reductions (the reference)."""
    f = routing.shape[0]
    # A beam's capacity is airtime, so its load in bits is the sum of its flows' rates, not the
    # weighted airtime the allocation works in.
    carried = routing.copy()
    carried.data = mult[np.repeat(np.arange(f), np.diff(routing.indptr))]
    link_bits = carried.T @ rate_bps
    slack = np.maximum(capacity - (routing.T @ rate_bps), 0.0)
    available = np.zeros(f)
    if routing.nnz:
        row = np.repeat(np.arange(f), np.diff(routing.indptr))
        per_entry = rate_bps[row] + slack[routing.indices] / (routing.data / mult[row])  # one more dish
        has = np.diff(routing.indptr) > 0
        available[has] = np.minimum.reduceat(per_entry, routing.indptr[:-1][has])
    return link_bits, available


def queueing_ms(utilisation: np.ndarray, model: CapacityModel) -> np.ndarray:
    rho = np.clip(utilisation, 0.0, 0.999)
    return np.minimum(model.queue_max_ms, model.queue_scale_ms * rho / (1.0 - rho))


def radio_with(model: CapacityModel, **changes) -> CapacityModel:
    return replace(model, radio=replace(model.radio, **changes))


def link_efficiency(model: CapacityModel, cell: np.ndarray, elevation_deg: np.ndarray, range_m: np.ndarray,
                    i_n_down_db: np.ndarray, i_n_up_db: np.ndarray):
    """SINR (dB) and spectral efficiency (bit/s/Hz) down and up for each dish."""
    grid = model.elevation_grid_deg
    snr_down = user_downlink_snr_db(range_m, _atm(model.atm_down_db, grid, cell, elevation_deg), model.radio)
    snr_up = user_uplink_snr_db(range_m, _atm(model.atm_up_db, grid, cell, elevation_deg), model.radio)
    sinr_down = sinr_db(snr_down, i_n_down_db)
    sinr_up = sinr_db(snr_up, i_n_up_db)
    return (sinr_down, spectral_efficiency(sinr_down, model.margin_db),
            sinr_up, spectral_efficiency(sinr_up, model.margin_db))
