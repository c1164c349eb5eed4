"""Resolve a scenario's events into index arrays once, then say what is broken at any instant.

:meth:`Timeline.state_at` is a pure function of t: an event acts on [start, end) (open-ended
without an end). Random choices (a fraction of dishes, random satellite failure times) are drawn
from each event's own seed, so the same seed always gives the same losses, whatever the chunking.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, quote
from ..ground.geodesy import great_circle_distance_m
from ..ground.sites import Sites
from ..space.constellation import Constellation
from ..timeutil import utc_to_ns
from .providers import CITY_RADIUS_M
from ..scenario.events import EventSpec, RegionSpec

CITY_RADIUS_KM = CITY_RADIUS_M / 1e3

_NS_PER_DAY = 86_400 * 1_000_000_000
_NEVER = np.iinfo(np.int64).max
#: Events that act on sites -> (the kinds of site their target selects, whether it must select one).
_SITE_TARGETS: dict[str, tuple[tuple[str, ...], bool]] = {
    "terrestrial_outage": (("dish", "station"), False),
    "demand_surge": (("dish", "station"), False),
    "alt_network_wipe": (("dish", "station"), False),
    "deliveries": (("dish",), False),
    "dish_bricking": (("dish",), True),
    "geofence": (("dish",), True),
    "gateway_loss": (("gateway",), True),
    "pop_loss": (("pop",), True),
}


def in_region(region: RegionSpec, lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Whether points lie in a circle (great-circle radius) or polygon (planar lat/lon, even-odd)."""
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    if region.circle is not None:
        c = region.circle
        return great_circle_distance_m(lat, lon, c.lat_deg, c.lon_deg) <= c.radius_km * 1e3
    poly = np.asarray(region.polygon, dtype=np.float64)
    y, x = poly[:, 0], poly[:, 1]
    inside = np.zeros(lat.shape, dtype=bool)
    for i in range(len(poly)):  # over vertices (few), vectorised over points
        j = i - 1
        crosses = (y[i] > lat) != (y[j] > lat)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = (x[j] - x[i]) * (lat - y[i]) / (y[j] - y[i]) + x[i]
        inside ^= crosses & (lon < x_at)
    return inside


@dataclass(frozen=True)
class ThreatState:
    """What is broken at one instant. Boolean arrays over satellites (N,), sites (S,), gateways
    (G,) and backbone links (B,)."""

    sat_lost: np.ndarray
    site_down: np.ndarray          # gateways and PoPs that are down (strike, power, core outage)
    dish_offline: np.ndarray       # bricked or unpowered dishes (OFFLINE)
    terrestrial_down: np.ndarray   # sites whose ground internet is down (ground_level == 0)
    gateway_fibre_cut: np.ndarray  # (G,) gateway -> PoP fibre cut
    backbone_cut: np.ndarray       # (B,)
    demand_factor: np.ndarray      # (S,) multiplier on each dish's demand (1 = none)
    jammers: tuple = ()            # JammerSpec of the active jamming events (after any countermeasure)
    active: tuple[str, ...] = ()   # names of the active events
    ground_level: np.ndarray | None = None  # (S,) share of users whose non-Starlink internet works (1: all)
    geofenced: np.ndarray | None = None     # (S,) dishes refused service by the operator
    delivered: np.ndarray | None = None     # (S,) share of each site's dishes delivered (deliveries; None: all)

    @property
    def any(self) -> bool:
        return bool(self.active)

    def dish_side(self) -> "ThreatState":
        """This state without the ground network's part (``site_down``, ``gateway_fibre_cut``,
        ``backbone_cut`` and ``active`` are None): what the allocation and service stages see.
        Lost gateways, PoPs and fibre reach them only through the dishes' routes, so variants
        whose routes agree share their allocation (:meth:`leonet.sim.instants.Chunk.by_content`);
        a stage that read the network's part here would fail, not silently differ."""
        import dataclasses

        return dataclasses.replace(self, site_down=None, gateway_fibre_cut=None, backbone_cut=None, active=None)


@dataclass
class _Resolved:
    spec: EventSpec
    start_ns: int
    end_ns: int
    sites: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sats: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fail_ns: np.ndarray | None = None  # satellite_failures: failure instant per target satellite
    gateway_links: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    backbone_links: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    site_level: np.ndarray | None = None  # (len(sites),) ground level while active (isp_outage, alt wipe)
    provider_lost: np.ndarray | None = None  # (len(sites), providers) users' share lost (isp_outage)
    offline_from_ns: np.ndarray | None = None  # power_cut: when each target dish goes dark


class Timeline:
    """Events of a scenario, resolved against its sites, satellites and network.

    Parameters
    ----------
    events : the scenario's EventSpec list.
    start_ns : the scenario's start (for start_s / end_s).
    sites, constellation : the scenario's.
    gateway_sites, pop_sites : (G,), (P,) site indices; gateway_pop : (G,) PoP number per gateway;
    backbone : (B, 2) PoP numbers.
    positions_at : callable t_ns -> (N, 3) ECEF positions (for anti-satellite strikes over a region).
    providers : :class:`~leonet.threats.providers.ProviderTable` (for isp_outage events), or None.
    """

    def __init__(self, events: list[EventSpec], start_ns: int, sites: Sites, constellation: Constellation,
                 gateway_sites: np.ndarray, pop_sites: np.ndarray, gateway_pop: np.ndarray, backbone: np.ndarray,
                 positions_at=None, providers=None):
        self.n_sats = len(constellation)
        self.n_sites = len(sites)
        self.n_gateways = len(gateway_sites)
        self.n_backbone = len(backbone)
        self.pop_sites = np.asarray(pop_sites, dtype=np.int64)
        self.providers = providers
        names = [e.name for e in events]
        for k, name in enumerate(names):  # the second use is the one to rename: name it
            if name in names[:k]:
                raise InputError(f"event names must be unique; {quote(name)} is also the name of "
                                 f"events[{names.index(name)}]", location=self._where(k, events[k], "name"))
        self.events = [self._resolve(k, e, start_ns, sites, constellation, gateway_sites, pop_sites,
                                     gateway_pop, backbone, positions_at) for k, e in enumerate(events)]

    # -- resolution --------------------------------------------------------------------------
    @staticmethod
    def _where(k: int, spec: EventSpec, fieldname: str) -> str:
        return f"events[{k}] ({spec.name}).{fieldname}"

    def _select_sites(self, k, spec, sites: Sites, kinds: tuple[str, ...], required: bool) -> np.ndarray:
        t = spec.target
        kind_ok = np.isin(np.asarray(sites.kind), kinds)
        chosen = np.zeros(len(sites), dtype=bool)
        named = bool(t.sites or t.groups or t.region)
        if t.sites:
            try:
                idx = sites.index_of(t.sites)
            except InputError as err:  # the first name not found: its own entry (and YAML line)
                i = next((j for j, n in enumerate(t.sites) if n not in sites._index_by_name), None)
                field = "target.sites" if i is None else f"target.sites[{i}]"
                raise InputError(err.message, location=self._where(k, spec, field)) from None
            wrong = [(j, n) for j, (n, i) in enumerate(zip(t.sites, idx)) if not kind_ok[i]]
            if wrong:
                raise InputError(f"{[n for _, n in wrong]} are not of kind {' or '.join(kinds)}",
                                 location=self._where(k, spec, f"target.sites[{wrong[0][0]}]"))
            chosen[idx] = True
        for j, g in enumerate(t.groups):
            in_group = (np.asarray(sites.group) == g) & kind_ok
            if not in_group.any():
                from ..errors import did_you_mean

                hint = did_you_mean(g, sorted(set(np.asarray(sites.group)[kind_ok].tolist())))
                raise InputError(f"no {'/'.join(kinds)} site has group {quote(g)}{hint}", location=self._where(k, spec, f"target.groups[{j}]"))
            chosen |= in_group
        if t.region is not None:
            in_r = in_region(t.region, sites.lat_deg, sites.lon_deg) & kind_ok
            chosen = (chosen & in_r) if (t.sites or t.groups) else in_r
        if not named:
            if required:
                raise InputError(f"a {spec.type} event needs a target (region, sites or groups)",
                                 location=self._where(k, spec, "target"))
            chosen = kind_ok
        idx = np.flatnonzero(chosen)
        if len(idx) == 0:
            raise InputError(f"the target selects no {'/'.join(kinds)} site", location=self._where(k, spec, "target"))
        return self._fraction(k, spec, idx, f"{'/'.join(kinds)} site")

    def _fraction(self, k, spec, idx: np.ndarray, what: str) -> np.ndarray:
        """``target.fraction`` of the selected ``idx`` (whole sites or satellites): round(fraction x
        len(idx)) of them, halves rounded to even (Python's round: 0.5 of 1 -> 0, 0.5 of 3 -> 2),
        chosen with ``target.seed``. An InputError when that leaves none: the event would do nothing."""
        fraction, seed = spec.target.fraction, spec.target.seed
        if fraction >= 1.0:
            return idx.astype(np.int64)
        count = int(round(fraction * len(idx)))
        if count == 0:
            whole = "" if what == "satellite" else "; it picks whole sites, a site's dishes together"
            raise InputError(f"fraction {fraction:g} of the {len(idx):,} {what}(s) the target selects rounds to none "
                             f"(round({fraction:g} x {len(idx):,}) = 0, halves to even{whole}): the event would hit "
                             "nothing; raise the fraction or widen the target",
                             location=self._where(k, spec, "target.fraction"))
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(idx, size=count, replace=False)).astype(np.int64)

    def _select_shells(self, k, spec, constellation: Constellation) -> np.ndarray:
        shells = spec.target.shells
        if not shells:
            return np.ones(self.n_sats, dtype=bool)
        unknown = [s for s in shells if s not in constellation.shell_names]
        if unknown:
            from ..errors import did_you_mean

            raise InputError(f"unknown shell(s) {unknown}{did_you_mean(unknown[0], constellation.shell_names)}; "
                             f"shells: {list(constellation.shell_names)}",
                             location=self._where(k, spec, "target.shells"))
        numbers = [constellation.shell_names.index(s) for s in shells]
        return np.isin(constellation.shell, numbers)

    def _select_planes(self, k, spec, constellation: Constellation, mask: np.ndarray) -> np.ndarray:
        planes = spec.target.planes
        if not planes:
            return mask
        have = set(np.unique(constellation.plane[mask]).tolist())
        missing = [p for p in planes if p not in have]
        if missing:
            raise InputError(f"no satellite of the selected shells is in plane(s) {missing[:10]} "
                             f"(planes {min(have) if have else '-'}..{max(have) if have else '-'})",
                             location=self._where(k, spec, "target.planes"))
        return mask & np.isin(constellation.plane, planes)

    def _resolve(self, k, spec, start_ns, sites, constellation, gateway_sites, pop_sites, gateway_pop, backbone,
                 positions_at) -> _Resolved:
        t0 = utc_to_ns(spec.start) if spec.start is not None else start_ns + int(round(spec.start_s * 1e9))
        if spec.end is not None:
            t1 = utc_to_ns(spec.end)
        elif spec.end_s is not None:
            t1 = start_ns + int(round(spec.end_s * 1e9))
        else:
            t1 = _NEVER
        if t1 <= t0:
            raise InputError("end is not after start", location=self._where(k, spec, "end"))
        r = _Resolved(spec, t0, t1)
        typ = spec.type
        if typ in _SITE_TARGETS:
            kinds, required = _SITE_TARGETS[typ]
            r.sites = self._select_sites(k, spec, sites, kinds, required=required)
        elif typ == "isp_outage":
            self._resolve_isp(k, spec, r, sites)
        elif typ == "power_cut":
            self._resolve_power(k, spec, r, sites)
        elif typ == "core_outage":
            r.sites = np.asarray(pop_sites, dtype=np.int64)
        elif typ == "fibre_cut":
            self._resolve_links(k, spec, r, sites, gateway_sites, pop_sites, gateway_pop, backbone)
        elif typ in ("satellite_loss", "asat", "satellite_failures"):
            self._resolve_satellites(k, spec, r, constellation, positions_at)
        return r

    def _resolve_satellites(self, k, spec, r, constellation, positions_at) -> None:
        """The satellites a satellite_loss, asat or satellite_failures event hits (``r.sats``) and,
        for failures, when each fails (``r.fail_ns``)."""
        typ, t0 = spec.type, r.start_ns
        mask = self._select_planes(k, spec, constellation, self._select_shells(k, spec, constellation))
        if typ == "asat" or (typ == "satellite_loss" and spec.target.region is not None):
            if spec.target.region is None:
                raise InputError("an asat event needs target.region", location=self._where(k, spec, "target"))
            if positions_at is None:
                raise ValueError("positions_at is needed for satellites over a region")
            from ..space.frames import ecef_to_geodetic

            lat, lon, _ = ecef_to_geodetic(positions_at(t0))
            ok = np.isfinite(lat)
            over = np.zeros(self.n_sats, dtype=bool)
            over[ok] = in_region(spec.target.region, lat[ok], lon[ok])
            mask &= over
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            raise InputError("the target selects no satellite", location=self._where(k, spec, "target"))
        if typ == "satellite_failures":
            # Each satellite fails after an exponential time with the given rate: a pure
            # function of the seed, so any step can tell who has failed by then.
            rng = np.random.default_rng(spec.target.seed)
            days = rng.exponential(1.0 / spec.rate_per_day, size=len(idx))
            r.sats = idx.astype(np.int64)
            r.fail_ns = t0 + np.minimum(days * _NS_PER_DAY, 9e18 - t0).astype(np.int64)
        else:
            r.sats = self._fraction(k, spec, idx, "satellite")

    def _resolve_isp(self, k, spec, r, sites) -> None:
        """Per site: the ground level while a provider is down = 1 - share x (1 - level), over the
        site's city in the providers table; per (site, provider) the share of users it takes
        (overlapping outages add across providers and count a provider once, at its worst)."""
        table = self.providers
        if table is None:
            raise InputError("an isp_outage event needs terrestrial.providers (e.g. builtin-ua-2022)",
                             location=self._where(k, spec, "providers"))
        prov = table.provider_index(spec.providers, self._where(k, spec, "providers"))
        city = table.city_of_sites(sites.lat_deg, sites.lon_deg)
        in_scope = (city >= 0) & np.isin(np.asarray(sites.kind), ("dish", "station"))
        near = f"(providers table {table.source}; a site belongs to a city within {CITY_RADIUS_KM:g} km)"
        if spec.cities:
            in_scope &= np.isin(city, table.city_index(spec.cities, self._where(k, spec, "cities")))
            if not in_scope.any():  # the cities filter, not the providers, leaves nothing
                raise InputError(f"no dish or station site of the scenario is in {', '.join(spec.cities)} {near}",
                                 location=self._where(k, spec, "cities"))
        if spec.target.sites or spec.target.groups or spec.target.region is not None:
            chosen = np.zeros(len(sites), dtype=bool)
            chosen[self._select_sites(k, spec, sites, ("dish", "station"), required=False)] = True
            in_scope &= chosen
            if not in_scope.any():
                scope = f"in {', '.join(spec.cities)}" if spec.cities else "in a city of the providers table"
                raise InputError(f"the target selects no dish or station site {scope} {near}",
                                 location=self._where(k, spec, "target"))
        level = 0.0 if spec.level is None else spec.level
        hit_share = table.share[np.maximum(city, 0)][:, prov].sum(axis=1) if len(prov) else np.zeros(len(sites))
        site_level = np.where(in_scope, 1.0 - np.clip(hit_share, 0.0, 1.0) * (1.0 - level), 1.0)
        # (site, provider) share of the site's users this event takes offline: a user has one
        # provider, so overlapping events add across providers and take the worst per provider
        lost = np.zeros((len(sites), table.share.shape[1]))
        if len(prov):
            lost[:, prov] = table.share[np.maximum(city, 0)][:, prov] * (1.0 - level)
        r.provider_lost = np.where(in_scope[:, None], lost, 0.0)
        if not (site_level < 1.0).any():
            if (in_scope & (hit_share > 0)).any():  # the providers are there; the level spares them
                raise InputError("level 1 leaves every customer online: the event would change nothing",
                                 location=self._where(k, spec, "level"))
            scope = f"{', '.join(spec.cities)}" if spec.cities else "a city of the scenario's sites"
            raise InputError(f"{', '.join(spec.providers)} serve(s) no customer in {scope} {near}",
                             location=self._where(k, spec, "providers"))
        r.site_level = site_level
        r.sites = np.flatnonzero(site_level < 1.0).astype(np.int64)

    def _resolve_power(self, k, spec, r, sites) -> None:
        """Dishes without backup go dark at the start; those with a generator or battery when it
        runs out (:func:`backed_up_sites`: the ``backup_share`` of the targeted dishes, met to
        within half a site's dishes, the sites chosen by the event's seed)."""
        dishes = self._select_sites(k, spec, sites, ("dish",), required=True)
        has_backup = backed_up_sites(site_dish_counts(sites)[dishes], spec.backup_share, spec.target.seed)
        r.sites = dishes
        r.offline_from_ns = np.where(has_backup, r.start_ns + int(round(spec.backup_hours * 3600e9)), r.start_ns)
        if spec.level is not None:
            everyone = np.zeros(len(sites), dtype=bool)
            everyone[self._select_sites(k, spec, sites, ("dish", "station"), required=True)] = True
            r.site_level = np.where(everyone, spec.level, 1.0)

    def _resolve_links(self, k, spec, r, sites, gateway_sites, pop_sites, gateway_pop, backbone):
        gw_number = {int(s): g for g, s in enumerate(gateway_sites)}
        pop_number = {int(s): p for p, s in enumerate(pop_sites)}
        g_links, b_links = [], []
        for j, (a, b) in enumerate(spec.links):
            where = self._where(k, spec, f"links[{j}]")
            try:
                ia, ib = sites.index_of([a, b])
            except InputError as err:
                raise InputError(err.message, location=where) from None
            if int(ia) in gw_number or int(ib) in gw_number:
                g_site, other = (ia, ib) if int(ia) in gw_number else (ib, ia)
                g = gw_number[int(g_site)]
                if int(other) not in pop_number or gateway_pop[g] != pop_number[int(other)]:
                    raise InputError(f"{a} - {b} is not a gateway-PoP fibre of this scenario (each gateway joins its nearest PoP)", location=where)
                g_links.append(g)
            elif int(ia) in pop_number and int(ib) in pop_number:
                pa, pb = sorted((pop_number[int(ia)], pop_number[int(ib)]))
                hit = np.flatnonzero((backbone[:, 0] == pa) & (backbone[:, 1] == pb)) if len(backbone) else []
                if len(hit) == 0:
                    raise InputError(f"{a} - {b} is not a backbone link of this scenario", location=where)
                b_links.append(int(hit[0]))
            else:
                raise InputError(f"{a} - {b}: a fibre cut names a gateway and its PoP, or two PoPs", location=where)
        r.gateway_links = np.array(g_links, dtype=np.int64)
        r.backbone_links = np.array(b_links, dtype=np.int64)

    # -- evaluation ----------------------------------------------------------------------------
    def state_at(self, t_ns: int) -> ThreatState:
        t = int(t_ns)
        sat_lost = np.zeros(self.n_sats, dtype=bool)
        site_down = np.zeros(self.n_sites, dtype=bool)
        offline = np.zeros(self.n_sites, dtype=bool)
        ground_down = np.zeros(self.n_sites, dtype=bool)
        gw_cut = np.zeros(self.n_gateways, dtype=bool)
        bb_cut = np.zeros(self.n_backbone, dtype=bool)
        factor = np.ones(self.n_sites)
        delivered = None
        level = np.ones(self.n_sites)
        geofenced = np.zeros(self.n_sites, dtype=bool)
        jammers, active = [], []
        isp_lost = None   # (sites, providers): the worst outage of each provider at each site
        for r in self.events:
            typ = r.spec.type
            if typ == "satellite_failures":
                if t >= r.start_ns:
                    failed = r.fail_ns <= min(t, r.end_ns)  # failures stop accruing at end
                    sat_lost[r.sats[failed]] = True
                    if failed.any():
                        active.append(r.spec.name)
                continue
            if typ in ("satellite_loss", "asat"):
                if t >= r.start_ns:  # lost satellites do not come back
                    sat_lost[r.sats] = True
                    active.append(r.spec.name)
                continue
            if not (r.start_ns <= t < r.end_ns):
                continue
            active.append(r.spec.name)
            if typ in ("gateway_loss", "pop_loss", "core_outage"):
                site_down[r.sites] = True
            elif typ == "dish_bricking":
                offline[r.sites] = True
            elif typ == "terrestrial_outage":
                level[r.sites] *= 0.0 if r.spec.level is None else r.spec.level
            elif typ == "isp_outage":
                isp_lost = r.provider_lost if isp_lost is None else np.maximum(isp_lost, r.provider_lost)
            elif typ == "power_cut":
                offline[r.sites[r.offline_from_ns <= t]] = True
                if r.site_level is not None:
                    level *= r.site_level
            elif typ == "geofence":
                geofenced[r.sites] = True
            elif typ == "deliveries":
                # fewer dishes, each with a dish's demand (the allocation thins the dishes on)
                delivered = np.ones(self.n_sites) if delivered is None else delivered
                delivered[r.sites] *= delivered_share(r.spec.schedule, t)
            elif typ == "alt_network_wipe":
                share = r.spec.alt_share
                level[r.sites] *= 1.0 - share  # its users lose their other way online
                factor[r.sites] *= 1.0 + share * r.spec.move_share  # those who move add their demand
            elif typ == "fibre_cut":
                gw_cut[r.gateway_links] = True
                bb_cut[r.backbone_links] = True
            elif typ == "demand_surge":
                factor[r.sites] *= r.spec.surge_factor  # overlapping surges compound
            elif typ == "jamming":
                jammers.append(_jammer_at(r, t))
        if isp_lost is not None:
            # each user has one provider: the shares its providers' outages take add up (a
            # provider in two events counts once, at its worst); independent of the other kinds
            level *= 1.0 - np.clip(isp_lost.sum(axis=1), 0.0, 1.0)
        ground_down = level <= 0.0
        return ThreatState(sat_lost, site_down, offline, ground_down, gw_cut, bb_cut, factor,
                           tuple(jammers), tuple(active), level, geofenced, delivered)


def site_dish_counts(sites: Sites) -> np.ndarray:
    """(S,) int64: how many identical dishes each site stands for (its ``dishes`` column, as
    :attr:`leonet.sim.model.SimulationModel.dish_count` reads it; 1 where it has none)."""
    raw = sites.attrs.get("dishes")
    if raw is None:
        return np.ones(len(sites), dtype=np.int64)
    return np.array([1 if v is None else int(v) for v in raw], dtype=np.int64)


def backed_up_sites(dishes: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Which of the sites (``dishes``: how many dishes each stands for) have backup power, so that
    their dishes come as close as whole sites allow to ``share`` x all of them.

    A site's dishes share its fate (one row of results), so the unit of choice is the site: the
    sites are taken in an order shuffled by ``seed``, each one while it brings the backed-up dish
    count closer to the target (a tie leaves it out). The result is within half the largest
    site's dishes of the target (a site left out would have overshot by at least its half); 6
    equal sites at 1/3 -> exactly 2. A pure function of the arguments."""
    dishes = np.asarray(dishes, dtype=np.int64)
    target = share * float(dishes.sum())
    chosen = np.zeros(len(dishes), dtype=bool)
    total = 0
    for i in np.random.default_rng(seed).permutation(len(dishes)):
        if abs(total + dishes[i] - target) < abs(total - target):
            chosen[i] = True
            total += int(dishes[i])
    return chosen


def delivered_share(schedule, t_ns: int) -> float:
    """The share of dishes delivered by ``t_ns``: linear between the schedule's points, 0 before the
    first, the last share after the last."""
    times = np.array([utc_to_ns(d) for d, _ in schedule], dtype=np.float64)
    shares = np.array([s for _, s in schedule], dtype=np.float64)
    return float(np.interp(float(t_ns), times, shares, left=0.0, right=shares[-1]))


def _jammer_at(r: _Resolved, t: int):
    """The jammer as it acts at t: weakened by the operator's countermeasure once it has landed."""
    cm = r.spec.countermeasure
    if cm is None or t < r.start_ns + int(round(cm.after_s * 1e9)):
        return r.spec.jammer
    return r.spec.jammer.model_copy(update={"eirp_dbw": r.spec.jammer.eirp_dbw - cm.rejection_db})
