"""The static part of the service model (issue 11), built once per run from the scenario's
``service`` section: each dish's kit and caps, the traffic and latency parameters, the background
subscribers and each cell's admission.

The per-step part lives in the allocation stage (demand, background per satellite and beam, caps,
speed tests) and the service stage (RTT terms, loss, short outages): see docs/service-model.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..capacity.model import cell_keys
from ..errors import InputError
from ..scenario import Scenario
from ..service import admission, background
from ..service.kits import kit_caps_bps
from ..service.latency import LatencyParams
from ..service.rng import uniform
from ..service.traffic import PeriodDemand, PeriodUseCounts, TrafficParams, busy_hour_demand_per_dish_bps
from .ground_build import dish_rows


@dataclass(frozen=True)
class ServiceModel:
    """Arrays of the D dishes (network order) and the run's service parameters.

    Attributes
    ----------
    seed : int, the run's service seed (every draw is a pure function of (seed, dish, t)).
    traffic : TrafficParams; latency : LatencyParams.
    kit : (D,) object, kit name of each dish.
    cap_down_bps, cap_up_bps : (D,) float64, one dish's terminal caps (its kit's, at the best
        MODCOD), bps.
    kit_cap_efficiency_bps_per_hz : float or None, efficiency at which the caps hold; below it
        they fall with the link's (:func:`leonet.service.kits.modcod_cap_bps`); None: flat caps.
    n_dishes : (D,) int64, dishes each site stands for.
    n_admitted : (D,) int64, of those, dishes with a service plan: all or none in a model from
        :func:`leonet.sim.model.build_model`, which splits a site admitted in part into its admitted
        dishes and a sold-out part (a site of none is SOLD_OUT).
    users_per_dish : (D,) int64, users behind each dish: 1, or more for a backhaul dish (a village
        network, a cell tower) whose users' traffic shares the one terminal.
    busy_down_bps, busy_up_bps : float, mean busy-hour demand of one subscriber, bps.
    grid : SubscriberGrid or None, the background subscribers (capped at the admission density).
    limit_per_cell : (D,) int64, subscribers each dish's beam cell takes (0 with admission off: no limit).
    cell_background : (D,) float64, background subscribers in each dish's beam cell.
    lon_deg : (D,) float64, dish longitude (local time of its traffic).
    min_elevation_deg : float, the terminals' minimum elevation (background footprints), deg.
    target_ms_of_site : (S,) float64, round trip from each PoP site to the latency target, ms
        (``service.latency.target``: 0 for ``pop``, the dish's own ``popPingLatencyMs``; the PoP's
        nearest internet exchange for ``exchange``; a named city's server by great-circle fibre).
    sat_down_bps, sat_up_bps, sat_beams : (N,) each satellite's user capacity (bps) and beams, by
        generation (``capacity.satellite``; ``v2_mini_from_catalog`` splits a real element set).
    cell_area_m2 : float, area of a beam cell (``capacity.cell_size_km`` squared), m^2.
    beams_follow_demand : bool, ``service.background.beam_hopping: demand``: a satellite's beams
        follow demand, so the background shares its capacity but no cells.
    speedtest_window_bytes : int or None, receive window of a speed test's transfer, bytes (None:
        no window limit; :mod:`leonet.service.transfer`); speedtest_connections : int, its connections;
        speedtest_upload_window_bytes : int or None, the upload's data in flight (the phone's send buffer).
    background_cell : (D,) int64, each dish's beam cell as its grid square's own key
        (:func:`leonet.capacity.model.cell_keys`: the capacity model's cells, keyed so that a cell's
        draws do not change when other dishes are added), whose background subscribers switch on and
        off together (:attr:`cell_use_counts`); None: no background in the dishes' cells.
    """

    seed: int
    traffic: TrafficParams
    latency: LatencyParams
    kit: np.ndarray
    cap_down_bps: np.ndarray
    cap_up_bps: np.ndarray
    n_dishes: np.ndarray
    n_admitted: np.ndarray
    users_per_dish: np.ndarray
    busy_down_bps: float
    busy_up_bps: float
    grid: background.SubscriberGrid | None
    limit_per_cell: np.ndarray
    cell_background: np.ndarray
    lon_deg: np.ndarray
    min_elevation_deg: float
    target_ms_of_site: np.ndarray
    sat_down_bps: np.ndarray
    sat_up_bps: np.ndarray
    sat_beams: np.ndarray
    cell_area_m2: float
    beams_follow_demand: bool
    speedtest_window_bytes: int | None = None
    speedtest_connections: int = 1
    speedtest_upload_window_bytes: int | None = None
    kit_cap_efficiency_bps_per_hz: float | None = None
    background_cell: np.ndarray | None = None

    @property
    def sold_out(self) -> np.ndarray:
        """(D,) bool: sites none of whose dishes has a service plan (SOLD_OUT; with the sites split
        by admission, every dish of the others has one)."""
        return self.n_admitted == 0

    @property
    def n_wanting(self) -> np.ndarray:
        """(D,) int64, dishes of each site that want service: its admitted dishes, and every dish
        of a sold-out site (SOLD_OUT dishes still ask for traffic, and are never served)."""
        return np.where(self.sold_out, self.n_dishes, self.n_admitted).astype(np.int64)

    @cached_property
    def period_demand(self) -> PeriodDemand:
        """Each site's on/off traffic at an instant, ``period_demand(t_ns)`` -> (down_bps, up_bps,
        n_active), (D,) each: :func:`leonet.service.traffic.demand_bps` of the dishes that want
        service (:attr:`n_wanting`: the admitted ones, all of a sold-out site's) x their users (a
        backhaul dish carries its users' traffic), remembered per on/off period. Each site's draw
        is its own (keyed by its row), so a sold-out site's demand leaves the others' unchanged."""
        return PeriodDemand(np.arange(len(self.n_admitted), dtype=np.int64), self.n_wanting * self.users_per_dish,
                            self.lon_deg, self.seed, cap_down_bps=self.cap_down_bps, cap_up_bps=self.cap_up_bps,
                            params=self.traffic)


    @cached_property
    def cell_use_counts(self) -> tuple[np.ndarray, PeriodUseCounts]:
        """The background subscribers of the dishes' beam cells as on/off traffic: ((D,) each
        dish's row among the cells, :class:`leonet.service.traffic.PeriodUseCounts` of the cells,
        ``(t_ns) -> (counts (C, K), n_on (C,))``). A cell's subscribers are
        :attr:`cell_background` of its first dish, the fraction one more subscriber with that
        probability (drawn once per cell), so the mean is kept; their draws are keyed by the cell's
        grid square on a stream of their own, so they are independent of the scenario's dishes' and
        of which other dishes the scenario has."""
        if self.background_cell is None:
            raise ValueError("cell_use_counts: this run has no background (service.background.enabled is false)")
        cells, first, row = np.unique(self.background_cell, return_index=True, return_inverse=True)
        subscribers = self.cell_background[first]
        whole = np.floor(subscribers)
        n = whole + (uniform(self.seed, "background.cell.count", cells) < subscribers - whole)
        return row.reshape(-1), PeriodUseCounts(cells, n.astype(np.int64), self.lon_deg[first], self.seed,
                                                params=self.traffic, stream="background.cell")


def _users_per_dish(model) -> np.ndarray:
    """(D,) users behind each dish (1 unless a dish group says ``users_per_dish``: backhaul)."""
    raw = model.sites.attrs.get("users_per_dish")
    sites = model.network.dish_sites
    if raw is None:
        return np.ones(len(sites), dtype=np.int64)
    return np.array([1 if v is None else int(v) for v in np.asarray(raw, dtype=object)[sites]], dtype=np.int64)


def dish_kits(model, default_kit: str) -> np.ndarray:
    """(D,) kit name of each dish: the site's ``kit`` (dish group, site or sites CSV column) or
    ``default_kit`` (``service.kit``). Unknown names are an InputError naming the site and field."""
    from ..service.kits import get_kit

    net = model.network
    raw = model.sites.attrs.get("kit")
    kits = np.full(len(net.dish_sites), default_kit, dtype=object)
    if raw is not None:
        given = raw[net.dish_sites]
        has = np.array([v is not None and str(v).strip() not in ("", "nan", "None") for v in given], dtype=bool)
        kits[has] = [str(v).strip() for v in given[has]]
        for name in np.unique(kits[has].astype(str)):
            first = net.dish_sites[np.flatnonzero(has & (kits == name))[0]]
            get_kit(name, location=f"site {model.sites.name[first]}, kit")
    return kits


#: The minimum elevation of a range-only visibility rule (none of its own), deg: Starlink's 25.
RANGE_ONLY_MIN_ELEVATION_DEG = 25.0


def min_elevation_deg(rule) -> float:
    """The visibility rule's minimum elevation, deg (an explicit 0 stays 0), or
    :data:`RANGE_ONLY_MIN_ELEVATION_DEG` for a rule without one."""
    return float(rule.min_elevation_deg) if rule.min_elevation_deg is not None else RANGE_ONLY_MIN_ELEVATION_DEG


def beam_capacity_bps(model) -> float:
    """A beam's share of its satellite's downlink, bps: satellite capacity / beams (v1.5: 20 Gbps
    / 24 beams, ~830 Mbps; capacity.model.GENERATIONS)."""
    cm = model.capacity
    return cm.sat_down_bps / cm.beams


@dataclass(frozen=True)
class Admission:
    """The background and the cells' admission of the D dish sites of one sites list (in its
    order), computed once per run before the network model (:func:`build_admission`): admission
    needs the dishes' places and counts, the cell limits and the background, not their routes.

    Attributes
    ----------
    grid : SubscriberGrid or None, the background subscribers (capped at the admission density).
    limit_per_cell : (D,) int64, subscribers each dish's beam cell takes (0 with admission off: no limit).
    cell_background : (D,) float64, background subscribers in each dish's beam cell.
    n_admitted : (D,) int64, dishes of each site with a service plan (all of them with admission
        off or ``admission.dishes: false``).
    """

    grid: background.SubscriberGrid | None
    limit_per_cell: np.ndarray
    cell_background: np.ndarray
    n_admitted: np.ndarray

    def after_split(self, parent_dish: np.ndarray, sold_out: np.ndarray) -> "Admission":
        """This admission over a split dish list (:func:`leonet.sim.sold_out.split_partly_admitted`):
        ``parent_dish`` (D',) the row here of each dish site's site, ``sold_out`` (D',) bool the
        sold-out parts, which take their site's cell and admit none."""
        return dataclasses.replace(self, limit_per_cell=self.limit_per_cell[parent_dish],
                                   cell_background=self.cell_background[parent_dish],
                                   n_admitted=np.where(sold_out, 0, self.n_admitted[parent_dish]).astype(np.int64))


def _traffic_params(spec) -> TrafficParams:
    """The traffic parameters of the ``service`` section ``spec`` (a bad one: an InputError naming it)."""
    try:
        return spec.traffic.to_params()
    except ValueError as err:
        raise InputError(str(err), location="service.traffic") from None


def build_admission(model, sc: Scenario) -> Admission:
    """The background grid, each dish site's cell limit and background, and its admitted dishes
    (:func:`leonet.service.admission.admitted_counts`: background first, then the dishes in id
    order or a seeded order, the ids being the dish sites' places in ``model.sites``), for the
    dish sites of ``model.sites``. Needs ``model.capacity``, ``model.constellation`` and
    ``model.t_ns``, not the network model."""
    spec = sc.service
    rows = dish_rows(model.sites)   # the network model's dish_sites
    dishes = model.sites.take(rows)
    n = model.dish_count[rows]
    cell = (admission.dish_cells(dishes.lat_deg, dishes.lon_deg, sc.capacity.cell_size_km * 1e3)   # its dish_cell
            if len(rows) else np.zeros(0, dtype=np.int64))
    busy_down, _ = busy_hour_demand_per_dish_bps(params=_traffic_params(spec))
    sats = _satellites(model, sc.capacity.satellite.v2_mini_from_catalog)
    adm, bgs = spec.admission, spec.background
    per_cell_limits = adm.enabled and adm.limit_per_cell is None and bgs.enabled and bgs.beam_hopping == "equal"
    limit = 0
    if adm.enabled and not per_cell_limits:
        limit = adm.limit_per_cell
        if limit is None:
            limit = int(admission.cell_subscriber_limit(beam_capacity_bps(model), busy_down, adm.target_utilisation))
    dish_limit = np.full(len(n), limit, dtype=np.int64)
    grid = None
    cell_bg = np.zeros(len(rows))
    cell_area = (sc.capacity.cell_size_km * 1e3) ** 2
    if bgs.enabled:
        grid = _background_grid(bgs, sc.time.start.date())
        if per_cell_limits:
            grid, dish_limit = _equal_share_limits(model, grid, sats, busy_down, adm.target_utilisation, dishes)
        elif limit:
            grid = background.sold_out_grid(grid, limit / admission.CELL_AREA_M2)
        cell_bg = background.cell_background_subscribers(grid, dishes.lat_deg, dishes.lon_deg, cell_area)
    if adm.enabled and adm.dishes:
        n_adm = admission.admitted_counts(cell, n, _per_cell(cell, dish_limit.astype(float)).astype(np.int64),
                                          _per_cell(cell, cell_bg), dish_ids=np.arange(len(n)),
                                          seed=spec.seed if adm.order == "seeded" else None)
    else:
        n_adm = n.copy()
    return Admission(grid=grid, limit_per_cell=np.asarray(dish_limit, dtype=np.int64),
                     cell_background=np.asarray(cell_bg, float), n_admitted=np.asarray(n_adm, dtype=np.int64))


def build_service_model(model, sc: Scenario, admitted: Admission | None = None) -> ServiceModel:
    """Kits, caps, traffic and latency parameters, background grid and admission of ``model``
    (its network and capacity models built), from the scenario ``sc`` (its ``service`` section).
    ``admitted``: the admission of ``model``'s dish sites (:func:`build_admission`; computed here
    when not given, for a model whose sites are not split). :func:`leonet.sim.model.build_model`
    computes it before the network and splits each site admitted in part in two, so that a site
    is either all admitted or all SOLD_OUT (docs/service-model.md, "Cells and admission")."""
    spec = sc.service
    net = model.network
    dishes = model.sites.take(net.dish_sites)
    kit = dish_kits(model, spec.kit)
    cap_down, cap_up = kit_caps_bps(kit, location="service.kit")
    traffic = _traffic_params(spec)
    latency = spec.latency.to_params()
    latency = dataclasses.replace(latency, slot_period_s=sc.network.slots.period_s,
                                  slot_offset_s=sc.network.slots.offset_s)
    busy_down, busy_up = busy_hour_demand_per_dish_bps(params=traffic)
    n = model.dish_count[net.dish_sites]
    sats = _satellites(model, sc.capacity.satellite.v2_mini_from_catalog)
    if admitted is None:
        if getattr(model, "split", None) is not None:  # a second draw over the split list would differ
            raise ValueError("build_service_model: the model's sites are split by admission; pass the admission "
                             "build_model computed (model.service has it)")
        admitted = build_admission(model, sc)
    if len(admitted.n_admitted) != len(n):
        raise ValueError(f"build_service_model: the admission is of {len(admitted.n_admitted)} dish sites, "
                         f"the model has {len(n)}")
    bgs = spec.background
    cell_area = (sc.capacity.cell_size_km * 1e3) ** 2
    target = _target_ms_of_site(model, spec.latency.target, latency)
    min_el = min_elevation_deg(sc.visibility)
    return ServiceModel(
        seed=int(spec.seed), traffic=traffic, latency=latency, kit=kit, cap_down_bps=np.asarray(cap_down, float),
        cap_up_bps=np.asarray(cap_up, float), n_dishes=n, n_admitted=admitted.n_admitted,
        users_per_dish=_users_per_dish(model),
        busy_down_bps=float(busy_down), busy_up_bps=float(busy_up), grid=admitted.grid,
        limit_per_cell=admitted.limit_per_cell,
        cell_background=admitted.cell_background, lon_deg=np.asarray(dishes.lon_deg, float),
        min_elevation_deg=float(min_el), target_ms_of_site=target,
        cell_area_m2=cell_area, beams_follow_demand=bgs.beam_hopping == "demand", **sats,
        speedtest_window_bytes=spec.speed_test.tcp_window_bytes, speedtest_connections=spec.speed_test.connections,
        kit_cap_efficiency_bps_per_hz=spec.kit_cap_efficiency_bps_per_hz,
        speedtest_upload_window_bytes=spec.speed_test.upload_window_bytes,
        background_cell=None if admitted.grid is None else cell_keys(dishes.lat_deg, dishes.lon_deg,
                                                                     sc.capacity.cell_size_km * 1e3),
    )


def _background_grid(bgs, start_date) -> background.SubscriberGrid:
    """The background subscribers of ``service.background`` (``bgs``): the global total (given,
    or Starlink's as of ``as_of``, default ``start_date``) spread over cities."""
    if bgs.subscribers is not None:
        total = bgs.subscribers
    else:
        try:
            total = background.global_subscribers(bgs.as_of or start_date)
        except InputError as err:
            raise InputError(err.message, location="service.background.as_of") from None
    try:
        lat, lon, pop = (background.world_cities(bgs.countries) if bgs.spread == "population"
                         else background.geoip_weighted_cities(bgs.countries))
    except InputError as err:
        raise InputError(err.message, location="service.background.countries") from None
    return background.subscriber_grid(total, lat, lon, pop, bgs.cell_deg)


def radio_beam_bps(model) -> float:
    """What one beam carries to a dish at the minimum elevation from 550 km, clear sky, bps: the
    user downlink bandwidth x the spectral efficiency of its SNR (the capacity model's link budget
    and MODCOD table, with its margin). Limits are set for the worst dish a cell may have
    (**assumption**)."""
    from ..capacity.linkbudget import user_downlink_snr_db
    from ..capacity.modcod import spectral_efficiency

    cm = model.capacity
    e = np.deg2rad(min_elevation_deg(model.settings.visibility))
    r_e, h = 6_371_008.8, 550e3
    slant_m = np.sqrt((r_e + h) ** 2 - (r_e * np.cos(e)) ** 2) - r_e * np.sin(e)
    eta = spectral_efficiency(user_downlink_snr_db(np.array([slant_m]), 0.0, cm.radio), cm.margin_db)
    return float(cm.radio.user_downlink_bandwidth_hz * eta[0])


def _equal_share_limits(model, grid, sats: dict, busy_down_bps: float, target_utilisation: float, dishes):
    """Cell limits consistent with equal-slot beam hopping: each grid cell's beam cells take
    ``floor(cell capacity x target / busy-hour demand)`` subscribers, the cell capacity being the
    satellites in view shared among the occupied cells around (at the run's first instant), at most
    what one beam carries (its capacity share, and bandwidth x spectral efficiency). The
    background is capped at those limits; returns the capped grid and each dish's cell limit (D,)."""
    from ..space.propagate import propagate

    xyz = propagate(model.constellation, model.t_ns[:1]).ecef_m[0]
    beam = np.minimum(sats["sat_down_bps"] / sats["sat_beams"], radio_beam_bps(model))
    usable = beam * sats["sat_beams"]   # what its beams carry: min(capacity, beams x radio)
    min_el = min_elevation_deg(model.settings.visibility)
    cap_grid = admission.equal_share_cell_capacity_bps(grid, xyz, usable, beam, min_el)
    lim_grid = np.floor(cap_grid * target_utilisation / busy_down_bps)
    density = np.full(grid.subscribers.shape, np.inf)
    density.ravel()[grid.flat_index] = lim_grid / admission.CELL_AREA_M2
    capped = background.sold_out_grid(grid, density)
    cap_dish = admission.equal_share_cell_capacity_bps(grid, xyz, usable, beam, min_el,
                                                       points_xyz_m=background._xyz_m(dishes.lat_deg, dishes.lon_deg))
    return capped, np.floor(cap_dish * target_utilisation / busy_down_bps).astype(np.int64)


def _satellites(model, v2_mini_from_catalog: int | None) -> dict:
    """Per-satellite capacity and beams: the scenario's generation, and V2 Mini from a catalog
    number (``capacity.satellite.v2_mini_from_catalog``)."""
    from ..capacity.model import GENERATIONS

    cm = model.capacity
    n = len(model.constellation)
    down, up, beams = np.full(n, cm.sat_down_bps), np.full(n, cm.sat_up_bps), np.full(n, float(cm.beams))
    if v2_mini_from_catalog is not None:
        ids = [str(c).strip() for c in model.constellation.elements.catalog_id]
        if not all(c.isdigit() for c in ids):
            raise InputError("needs numeric NORAD catalog numbers (real element sets)",
                             location="capacity.satellite.v2_mini_from_catalog")
        v2 = np.array([int(c) for c in ids], dtype=np.int64) >= v2_mini_from_catalog
        b2, d2, u2 = GENERATIONS["v2-mini"]
        down[v2], up[v2], beams[v2] = d2 * 1e9, u2 * 1e9, b2
    return {"sat_down_bps": down, "sat_up_bps": up, "sat_beams": beams}


def _target_ms_of_site(model, target: str, latency) -> np.ndarray:
    """(S,) round trip PoP -> latency target (``service.latency.target``), ms, for every site
    (used at PoP sites)."""
    from ..ground.population import find_city
    from ..service.latency import pop_to_target_ms

    sites = model.sites
    if target == "pop":
        return np.zeros(len(sites))
    if target == "exchange":
        return np.asarray(model.terrestrial.ground_rtt_ms, dtype=float) * (1.0 if latency.target_on else 0.0)
    city = find_city(target)
    if city is None:
        raise InputError(f"unknown latency target {target!r}: 'pop', 'exchange' or a city name "
                         "(GeoNames cities over 15,000 people)", location="service.latency.target")
    return pop_to_target_ms(sites.lat_deg, sites.lon_deg, city.lat_deg, city.lon_deg, latency)


def _per_cell(cell: np.ndarray, value: np.ndarray) -> np.ndarray:
    """(C,) one value per cell from per-dish values that agree within a cell (the first)."""
    n_cells = int(cell.max()) + 1 if len(cell) else 0
    out = np.zeros(n_cells)
    out[cell[::-1]] = value[::-1]
    return out


__all__ = ["Admission", "ServiceModel", "build_admission", "build_service_model"]
