"""The static part of a scenario's network, built once per run: who is a dish, a gateway, a PoP or
a station; which PoP each gateway feeds; the backbone; the ISL candidates; the station pairs.

The per-instant part (which links are up, routes) is computed in :mod:`leonet.sim.step`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..capacity.model import cells_of
from ..errors import InputError, did_you_mean, quote
from ..ground.builtin import nearest_pop, starlink_backbone_2023
from ..ground.sites import Sites
from ..network import isl as isl_mod
from ..network.backbone_join import backbone_components, joining_links
from ..network.fibre import fibre_delay_s
from ..network.graph import laser_islands
from ..network.slots import SlotClock
from ..scenario import Scenario
from ..space.constellation import Constellation
from .run_warnings import backbone_warnings, scenario_warnings


@dataclass(frozen=True)
class NetworkModel:
    """Index arrays into the scenario's sites, and link candidates. All int arrays are int64."""

    dish_sites: np.ndarray        # (D,) site index of each dish
    gateway_sites: np.ndarray     # (G,) site index of each gateway
    pop_sites: np.ndarray         # (P,) site index of each PoP
    gateway_pop: np.ndarray       # (G,) PoP number (0..P-1) each gateway feeds, -1 if no PoP
    gateway_pop_delay_s: np.ndarray  # (G,) one-way fibre delay gateway -> PoP
    gateway_antennas: np.ndarray  # (G,)
    backbone: np.ndarray          # (B, 2) PoP numbers
    backbone_delay_s: np.ndarray  # (B,)
    isl_candidates: np.ndarray    # (E, 2) satellite pairs
    grazing_height_m: float
    isl_max_range_m: float | None
    pair_src: np.ndarray          # (M,) site index
    pair_dst: np.ndarray          # (M,) site index
    clock: SlotClock
    policy: str
    warnings: tuple[str, ...] = ()
    dish_cell: np.ndarray = None     # (D,) cell of each dish (capacity.cell_size_km grid)
    max_sats_per_cell: int = 1
    dish_home_pop: np.ndarray = None  # (D,) home PoP number (0..P-1) of each dish, -1: any PoP (home_pop: any)
    laser_sats: int = 0               # satellites that carry lasers (network.isl.shells / min_catalog_number)
    dish_landing_group: np.ndarray = None  # (D,) landing mask of each dish (network.bent_pipe_only_gateways, .landing)
    landing_allowed: np.ndarray = None     # (M, G) bool, gateways each landing mask may land at
    landing_fallback: np.ndarray = None    # (M, G) bool, where it may land when none of those works now (or None)
    landing_homed: np.ndarray = None       # (M,) bool, the mask is home-PoP gateways in reach (home-in-reach), or None
    landing_route: str = "shortest"   # network.landing_route: "bent-pipe-first" descends at the first satellite that can
    sat_island: np.ndarray = None     # (N,) laser island of each satellite (-1: none), or None: gateways track the highest
    track_traffic: bool = False       # network.gateway_tracking: traffic (the satellites carrying the dishes' traffic first)

    @cached_property
    def route_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """(H, 2) int64 (home PoP, landing mask) of each route group and (D,) int64 each dish's
        group: dishes of one group share their routes (one per home PoP without bent-pipe-only
        gateways). Fixed for the run, so found once."""
        n_d = len(self.dish_sites)
        home = self.dish_home_pop if self.dish_home_pop is not None else np.full(n_d, -1, dtype=np.int64)
        landing = self.dish_landing_group if self.dish_landing_group is not None else np.zeros(n_d, dtype=np.int64)
        keys, group = np.unique(np.stack([home, landing], axis=1).astype(np.int64), axis=0, return_inverse=True)
        return keys, group.reshape(-1).astype(np.int64)


def laser_capable(scenario: Scenario, constellation: Constellation) -> np.ndarray:
    """(N,) bool: satellites that carry lasers (``network.isl.shells`` and ``min_catalog_number``;
    both unset: all)."""
    spec = scenario.network.isl
    capable = np.ones(len(constellation), dtype=bool)
    if spec.shells is not None:
        import difflib

        names = list(constellation.shell_names)
        for k, name in enumerate(spec.shells):
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise InputError(f"unknown shell {name!r}{hint} (shells: {', '.join(names)})",
                                 location=f"network.isl.shells[{k}]")
        capable &= np.isin(np.asarray(constellation.shell_names, dtype=object)[constellation.shell]
                           if len(constellation) else np.zeros(0, dtype=object), spec.shells)
    if spec.min_catalog_number is not None:
        ids = [str(c).strip() for c in constellation.elements.catalog_id]
        bad = [c for c in ids if not c.isdigit()]
        if bad:
            raise InputError(f"needs numeric NORAD catalog numbers; {len(bad)} satellites have none (e.g. {bad[0]!r}): "
                             "Walker shells have no launch order, use network.isl.shells",
                             location="network.isl.min_catalog_number")
        capable &= np.array([int(c) for c in ids], dtype=np.int64) >= spec.min_catalog_number
    return capable


def inferred_grid(scenario: Scenario, constellation: Constellation, inferred: np.ndarray,
                  capable: np.ndarray) -> np.ndarray:
    """(E, 2) laser candidates among the laser-carrying, on-station satellites of inferred planes: a
    ring per shell and inclination group and planes by RAAN, both found among those satellites,
    nearest neighbours abreast (:func:`leonet.network.isl.nearest_grid_candidates`), with RAANs and
    arguments of latitude at the scenario's start."""
    from ..space.planes import ON_STATION_INCLINATION_TOLERANCE_DEG, angles_at, inclination_groups, raan_clusters
    from ..timeutil import utc_to_ns

    el = constellation.elements
    coarse = constellation.shell.astype(np.int64) * 1_000 + inclination_groups(el.inclination_deg)
    raan_deg, u_deg = angles_at(el, utc_to_ns(scenario.time.start))
    member = capable & inferred & isl_mod.on_station(coarse, el.mean_motion_rev_per_day)
    # Rings and planes again among the mesh's members only: satellites raising their orbits bridge
    # shells of close inclination (53.0 and 53.2 deg, planes 2.5 deg apart in RAAN) into one
    # inclination group and chain their planes (one inferred plane held RAANs 28 deg apart); on
    # station, the two shells' inclinations are 0.16 deg apart with none between.
    ring = np.full(len(el), -1, dtype=np.int64)
    plane = np.full(len(el), -1, dtype=np.int64)
    if member.any():
        ring[member] = coarse[member] * 1_000 + inclination_groups(el.inclination_deg[member], ON_STATION_INCLINATION_TOLERANCE_DEG)
        for r in np.unique(ring[member]):  # a handful of rings
            k = np.flatnonzero(ring == r)
            plane[k] = raan_clusters(raan_deg[k])  # numbered by RAAN within the ring
    # a plane of fewer than MIN_PLANE_SATS such satellites is strays, not a plane of the mesh
    key = ring * 100_000 + plane
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    plane = np.where(counts[inverse.reshape(-1)] >= isl_mod.MIN_PLANE_SATS, plane, -1)
    return isl_mod.nearest_grid_candidates(ring, plane, u_deg, raan_deg=raan_deg,
                                           inclination_deg=el.inclination_deg).astype(np.int64)


def home_pop_of_dishes(scenario: Scenario, sites: Sites, dish: np.ndarray, pop: np.ndarray,
                       fed: np.ndarray | None = None) -> np.ndarray:
    """(D,) home PoP number of each dish by ``network.home_pop`` (-1 for 'any'). A GeoIP home PoP
    the scenario lacks is an InputError naming the missing codes (nothing is re-homed silently).
    'nearest' takes the nearest PoP that traffic can reach (``fed``, (P,) bool: a gateway's own PoP
    or joined to one by the backbone; :func:`fed_pops`), where any can."""
    mode = scenario.network.home_pop
    pinned = _pinned_home_pops(scenario, sites, dish, pop)
    if mode == "any" or not len(dish) or not len(pop):
        if pinned is not None and (pinned >= 0).any():
            raise InputError("dish sites pin a home_pop, but network.home_pop is 'any' (every dish leaves at the "
                             "nearest PoP); set network.home_pop: geoip or nearest", location="network.home_pop")
        return np.full(len(dish), -1, dtype=np.int64)
    if mode == "nearest":
        reach = np.flatnonzero(fed) if fed is not None and np.any(fed) else np.arange(len(pop))
        number = reach[np.asarray(nearest_pop(sites.take(dish), sites.take(pop[reach])), dtype=np.int64)]
    else:
        from ..ground.home_pop import home_pops_of_sites

        try:
            number, codes, missing = home_pops_of_sites(sites)
        except InputError as err:
            raise InputError(err.message, source=err.source, location="network.home_pop") from None
        if pinned is not None:  # only the unpinned dishes need their GeoIP PoP in the scenario
            missing = sorted(set(codes[(number < 0) & (pinned < 0)].tolist()))
        if missing:
            raise InputError(f"the dishes' GeoIP home PoP(s) {missing} are not among the scenario's PoPs; add them "
                             "(e.g. builtin starlink-pops-2023 or -2026) or set network.home_pop: nearest",
                             location="network.home_pop")
    return number if pinned is None else np.where(pinned >= 0, pinned, number).astype(np.int64)


def fed_pops(gateway_pop: np.ndarray, backbone: np.ndarray, n_pops: int) -> np.ndarray:
    """(P,) bool: the PoPs that traffic can reach: a gateway's own (nearest) PoP, or one the backbone
    (B, 2) joins to such a PoP. A PoP no gateway feeds (the nearest to a dish far from any
    gateway's) would leave its dishes NO_PATH for the whole run."""
    fed = np.zeros(n_pops, dtype=bool)
    fed[gateway_pop[gateway_pop >= 0]] = True
    if len(backbone) and fed.any():
        label = backbone_components(backbone, n_pops)
        fed = np.isin(label, label[fed])
    return fed


def _pinned_home_pops(scenario: Scenario, sites: Sites, dish: np.ndarray, pop: np.ndarray) -> np.ndarray | None:
    """(D,) PoP number of each dish site's pinned ``home_pop`` (``ground.sites[].home_pop``), -1 where
    none is pinned; None when no site pins one. A pinned code the scenario's PoPs lack is an
    InputError naming the site."""
    if "home_pop" not in sites.attrs or not len(dish):
        return None
    from ..ground.builtin import pop_codes_of
    from ..ground.home_pop import match_pops

    wanted = sites.attrs["home_pop"][dish]
    given = np.array([w is not None and str(w) != "" for w in wanted])
    if not given.any():
        return None
    codes = pop_codes_of(sites.take(pop)) if len(pop) else np.zeros(0, dtype=object)
    number = np.full(len(dish), -1, dtype=np.int64)
    number[given] = match_pops(wanted[given], codes)
    bad = np.flatnonzero(given & (number < 0))
    if len(bad):
        k = int(bad[0])
        raise InputError(f"site {sites.name[dish[k]]!r} pins home_pop {wanted[k]!r}, which is not among the scenario's "
                         "PoPs (add them, e.g. builtin starlink-pops-2023 or -2026)", location="ground.sites.home_pop")
    return number


def gateway_antennas_of(sites: Sites, gw: np.ndarray, default: int) -> np.ndarray:
    """Antennas of each gateway: the sites' attr ``antennas`` where it gives one, else ``default``.

    Built-in sets give ``antennas`` with ``antennas: from-data`` (-1 where the source has no
    count); a sites CSV may carry an ``antennas`` column (text). Empty, None or -1 means "not
    given" (the scenario's ``network.gateway_antennas``); anything else must be a whole number
    from 1 to 1000. Returns int64 (G,).
    """
    out = np.full(len(gw), default, dtype=np.int64)
    if "antennas" not in sites.attrs:
        return out
    for k, value in enumerate(sites.attrs["antennas"][gw]):
        text = "" if value is None else str(value).strip()
        if text in ("", "-1", "None", "nan"):
            continue
        if not text.isdigit() or not 1 <= int(text) <= 1000:
            raise InputError(f"antennas must be a whole number from 1 to 1000, got {value!r}",
                             location=f"site {sites.name[gw[k]]}, antennas")
        out[k] = int(text)
    return out


def build_network_model(scenario: Scenario, constellation: Constellation, sites: Sites) -> NetworkModel:
    """The network's fixed parts: which sites are dishes, gateways and PoPs, the fibre, the laser
    candidates, the station pairs, slots and home PoPs (see :class:`NetworkModel`)."""
    net = scenario.network
    kind = np.asarray(sites.kind)
    dish = np.flatnonzero(kind == "dish")
    gw = np.flatnonzero(kind == "gateway")
    pop = np.flatnonzero(kind == "pop")
    warnings = scenario_warnings(scenario, constellation)
    gateway_pop, gateway_pop_delay_s = _gateway_fibre(net, sites, gw, pop)
    if not (len(gw) and len(pop)) and len(dish):
        warnings.append(f"the scenario has no {'gateways' if not len(gw) else 'PoPs'}: every dish will be NO_PATH")
    backbone, backbone_delay_s = _backbone(net, sites, pop)
    fed = fed_pops(gateway_pop, backbone, len(pop))
    dish_home_pop = home_pop_of_dishes(scenario, sites, dish, pop, fed)
    warnings.extend(backbone_warnings(net, sites, dish, pop, gateway_pop, backbone, dish_home_pop, fed))
    capable = laser_capable(scenario, constellation)
    candidates = _laser_candidates(scenario, constellation, capable)
    src, dst = _station_pairs(net, sites, kind)
    landing = _landing(scenario, constellation, sites, dish, gw, dish_home_pop, gateway_pop)
    masks = len(landing["landing_allowed"])
    if masks > MANY_LANDING_MASKS:
        warnings.append(f"network.landing: home-in-reach gives the dishes {masks:,} distinct landing masks (the gateways "
                        "of their home PoP in reach): each is one routing graph and one route tree per home PoP at "
                        "every routing instant, so routing costs about that many times more than with landing: anywhere")
    return NetworkModel(
        dish_sites=dish.astype(np.int64), gateway_sites=gw.astype(np.int64), pop_sites=pop.astype(np.int64),
        gateway_pop=gateway_pop, gateway_pop_delay_s=np.asarray(gateway_pop_delay_s, dtype=np.float64),
        gateway_antennas=gateway_antennas_of(sites, gw, net.gateway_antennas),
        backbone=backbone, backbone_delay_s=np.asarray(backbone_delay_s, dtype=np.float64),
        isl_candidates=candidates,
        grazing_height_m=net.isl.grazing_height_km * 1e3,
        isl_max_range_m=None if net.isl.max_range_km is None else net.isl.max_range_km * 1e3,
        pair_src=np.asarray(src, dtype=np.int64), pair_dst=np.asarray(dst, dtype=np.int64),
        clock=SlotClock(net.slots.period_s, net.slots.offset_s), policy=net.slots.policy,
        warnings=tuple(warnings),
        dish_cell=cells_of(sites.lat_deg[dish], sites.lon_deg[dish], scenario.capacity.cell_size_km * 1e3)
        if len(dish) else np.zeros(0, dtype=np.int64),
        max_sats_per_cell=net.slots.max_sats_per_cell,
        dish_home_pop=dish_home_pop,
        laser_sats=int(capable.sum()),
        sat_island=_islands(net, len(capable), candidates),
        track_traffic=net.gateway_tracking == "traffic",
        **landing,
        landing_route=scenario.network.landing_route,
    )


def _islands(net, n_sats: int, candidates: np.ndarray) -> np.ndarray | None:
    """Each satellite's laser island for ``network.gateway_tracking: laser-islands`` (and
    ``traffic``, after the dishes' satellites); None where
    gateways track their highest satellites (or there is at most one island: the same choice)."""
    if net.gateway_tracking == "highest" or not len(candidates):
        return None
    island = laser_islands(n_sats, candidates)
    return island if island.max() >= 1 else None


#: Beyond this many landing masks a run says what routing will cost (network.landing).
MANY_LANDING_MASKS = 64


def _landing(scenario: Scenario, constellation: Constellation, sites: Sites, dish: np.ndarray,
             gw: np.ndarray, dish_home_pop=None, gateway_pop=None) -> dict:
    """``dish_landing_group``, ``landing_allowed`` and ``landing_fallback`` from
    ``network.bent_pipe_only_gateways`` and ``network.landing``
    (:mod:`leonet.network.landing`); an unknown gateway name is an InputError naming it."""
    from ..network.landing import bent_pipe_reach_m, landing_groups
    from ..space.walker import altitude_m_from_mean_motion

    names = scenario.network.bent_pipe_only_gateways
    only = np.zeros(len(gw), dtype=bool)
    if names:
        number = {str(n): k for k, n in enumerate(sites.name[gw])}
        unknown = [n for n in names if n not in number]
        if unknown:
            hints = "".join(f"; {quote(n)}{did_you_mean(n, number, n=1)}" for n in unknown)
            raise InputError(f"unknown gateway(s) {unknown}: not among the scenario's gateway sites{hints}",
                             location="network.bent_pipe_only_gateways")
        only[[number[n] for n in names]] = True
    el = constellation.elements
    altitude = float(np.median(altitude_m_from_mean_motion(el.mean_motion_rev_per_day))) if len(constellation) else 550e3
    min_el = scenario.visibility.min_elevation_deg
    min_el = 25.0 if min_el is None else float(min_el)
    home = scenario.network.landing == "home-in-reach"
    group, allowed, fallback, homed = landing_groups(
        sites.lat_deg[dish], sites.lon_deg[dish], sites.lat_deg[gw], sites.lon_deg[gw], only,
        bent_pipe_reach_m(altitude, min_el, min_el),
        **({"dish_home": dish_home_pop, "gateway_home": gateway_pop} if home else {}))
    return {"dish_landing_group": group, "landing_allowed": allowed,
            # a dish whose landing gateways are all lost or cut off lands elsewhere (never stranded)
            "landing_fallback": fallback if home else None,
            "landing_homed": homed if home else None}


def _gateway_fibre(net, sites: Sites, gw: np.ndarray, pop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(G,) each gateway's nearest PoP (-1 without PoPs) and the one-way fibre delay to it, s."""
    if not (len(gw) and len(pop)):
        return np.full(len(gw), -1, dtype=np.int64), np.zeros(len(gw))
    gw_sites, pop_sites = sites.take(gw), sites.take(pop)
    gateway_pop = np.asarray(nearest_pop(gw_sites, pop_sites), dtype=np.int64)
    delay_s = fibre_delay_s(
        gw_sites.lat_deg, gw_sites.lon_deg, pop_sites.lat_deg[gateway_pop], pop_sites.lon_deg[gateway_pop],
        net.fibre_route_factor, net.fibre_refractive_index,
    )
    return gateway_pop, delay_s


def backbone_pairs(sites: Sites, pop: np.ndarray, backbone: str = "community-2023") -> np.ndarray:
    """(B, 2) pairs of PoP numbers (0..len(pop)-1, the sites ``pop`` in order) that the backbone
    ``backbone`` (``network.backbone``) joins, as a run builds them."""
    from types import SimpleNamespace

    return _backbone(SimpleNamespace(backbone=backbone, fibre_route_factor=1.0, fibre_refractive_index=1.0),
                     sites, np.asarray(pop, dtype=np.int64))[0]


def _backbone(net, sites: Sites, pop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B, 2) PoP pairs of the backbone and their one-way fibre delays (B,), s."""
    backbone = np.zeros((0, 2), dtype=np.int64)
    if net.backbone in ("community-2023", "community-2023-joined") and len(pop) > 1:
        links, _unresolved = starlink_backbone_2023()  # unresolved endpoints are listed in data/SOURCE.md
        number = _backbone_pop_numbers(sites, pop)
        pairs = sorted({tuple(sorted((number[a], number[b]))) for a, b in links
                        if a in number and b in number and number[a] != number[b]})
        if pairs:
            backbone = np.array(pairs, dtype=np.int64)
    if net.backbone == "community-2023-joined" and len(pop) > 1:
        added = joining_links(sites.lat_deg[pop], sites.lon_deg[pop], backbone)
        backbone = np.concatenate([backbone, added]).astype(np.int64)
    if not len(backbone):
        return backbone, np.zeros(0)
    return backbone, fibre_delay_s(
        sites.lat_deg[pop][backbone[:, 0]], sites.lon_deg[pop][backbone[:, 0]],
        sites.lat_deg[pop][backbone[:, 1]], sites.lon_deg[pop][backbone[:, 1]],
        net.fibre_route_factor, net.fibre_refractive_index,
    )


def _backbone_pop_numbers(sites: Sites, pop: np.ndarray) -> dict[str, int]:
    """The 2023 map's PoP names ("FRA", "LGA/NYC") -> the scenario's PoP number (0..P-1) that is
    that PoP: the PoP of the same site name, or (for PoPs named otherwise, the 2026 set's
    "frntdeu1") the PoP of the same reverse-DNS code, as its attr or as its name. A 2023 PoP the
    scenario lacks is absent."""
    from ..ground.builtin import pop_codes_of, starlink_pops_2023

    pops_2023 = starlink_pops_2023()
    code_of_2023 = dict(zip(pops_2023.name.tolist(), pop_codes_of(pops_2023).tolist()))
    try:
        codes = pop_codes_of(sites.take(pop)).tolist()
    except InputError:  # PoPs without a code attr (site entries, a user's CSV): their names may be codes
        codes = [None] * len(pop)
    by_code = {str(n).strip().lower(): k for k, n in enumerate(sites.name[pop])}
    by_code.update({c: k for k, c in enumerate(codes) if c})
    number = {}
    for name_2023, code in code_of_2023.items():
        if code in by_code:
            number[name_2023] = by_code[code]
    number.update({name: k for k, name in enumerate(sites.name[pop])})
    return number


def walker_star_shells(scenario: Scenario, constellation: Constellation) -> tuple[str, ...]:
    """Names of the shells whose +Grid seam is not linked, their last plane and plane 0
    counter-rotating: the scenario's Walker shells whose RAAN spread is under 360 deg (stars: their
    planes do not close the circle), and the orbit-file shells with given planes (a plane
    assignment file, Hypatia's file order) whose last and first planes counter-rotate at the
    scenario's start (:func:`counter_rotating_seam`). The constellation holds the Walker shells
    first, in the scenario's order (:func:`leonet.sim.model.build_constellation`)."""
    shells = scenario.constellation.shells
    names = constellation.shell_names
    stars = [names[k] for k, spec in enumerate(shells) if k < len(names) and spec.raan_spread_deg < 360.0]
    given = [k for k in range(len(shells), len(names)) if names[k] not in constellation.inferred_plane_shells]
    if given:
        from ..space.planes import angles_at
        from ..timeutil import utc_to_ns

        raan_deg, _ = angles_at(constellation.elements, utc_to_ns(scenario.time.start))
        stars += [names[k] for k in given
                  if counter_rotating_seam(constellation.shell == k, constellation.plane, raan_deg,
                                           constellation.elements.inclination_deg)]
    return tuple(stars)


def counter_rotating_seam(in_shell: np.ndarray, plane: np.ndarray, raan_deg: np.ndarray,
                          inclination_deg: np.ndarray) -> bool:
    """True when a shell's last plane (the largest plane number) and plane 0 orbit in opposite
    senses: their mean orbit normals, ``(sin i sin RAAN, -sin i cos RAAN, cos i)``, more than 90 deg
    apart. That is a Walker star's seam (polar planes spread over 180 deg: the last plane's nodes
    sit beside plane 0's, moving the other way, so a laser across closes at up to twice the
    orbital speed); a delta's last plane runs beside plane 0 (normals a plane spacing apart).
    Arrays (n,) over the constellation; ``in_shell`` bool; planes -1 (unknown) are ignored."""
    member = in_shell & (plane >= 0)
    if not member.any():
        return False
    last, first = plane[member].max(), 0
    if last == first:
        return False

    def mean_normal(p: int) -> np.ndarray | None:
        k = member & (plane == p)
        if not k.any():
            return None   # a gap: +Grid does not link across it anyway
        inc, raan = np.radians(inclination_deg[k]), np.radians(raan_deg[k])
        return np.array([np.mean(np.sin(inc) * np.sin(raan)), np.mean(-np.sin(inc) * np.cos(raan)),
                         np.mean(np.cos(inc))])

    a, b = mean_normal(last), mean_normal(first)
    return a is not None and b is not None and float(a @ b) < 0.0


def _laser_candidates(scenario: Scenario, constellation: Constellation, capable: np.ndarray) -> np.ndarray:
    """(E, 2) int64 laser candidates by ``network.isl.topology``, between laser satellites only."""
    isl = scenario.network.isl
    if isl.topology == "plus-grid":
        candidates = isl_mod.plus_grid_candidates(constellation, inter_plane_shift=isl.inter_plane_shift,
                                                  open_shells=walker_star_shells(scenario, constellation))
        inferred = constellation.inferred_planes
        if inferred.any():
            candidates = np.vstack([candidates[~(inferred[candidates[:, 0]] | inferred[candidates[:, 1]])],
                                    inferred_grid(scenario, constellation, inferred, capable)])
    elif isl.topology == "list":
        from .inputs import input_file

        candidates = isl_mod.read_isl_list(input_file(scenario, isl.list_file, "network.isl.list_file"), len(constellation))
    else:
        candidates = np.zeros((0, 2), dtype=np.int32)
    candidates = np.asarray(candidates, dtype=np.int64).reshape(-1, 2)
    if not capable.all() and len(candidates):
        candidates = candidates[capable[candidates[:, 0]] & capable[candidates[:, 1]]]
    return candidates


def _station_pairs(net, sites: Sites, kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Source and destination sites (int64 (M,)) of ``network.pairs`` and ``all_station_pairs``,
    each ordered pair once (a pair written twice was routed and written twice, doubling its path
    changes in the summary; ``all_station_pairs`` adds only the pairs ``network.pairs`` does not
    name): ``network.pairs`` in their order, then every ordered pair of stations, by source then
    destination. ``all_station_pairs`` grows as stations squared (6,000 stations: 36 million
    pairs), so its count is checked against the memory budget before any pair is built."""
    src, dst = [], []
    first: dict[tuple[int, int], int] = {}
    for k, (a, b) in enumerate(net.pairs or ()):  # a loop over the pairs the scenario writes out
        try:
            ia, ib = sites.index_of([a, b])
        except InputError as err:
            raise InputError(f"{err.message}", source=err.source, location=f"network.pairs[{k}]") from None
        if ia == ib:
            raise InputError(f"a pair needs two different sites, got {quote(a)} twice", location=f"network.pairs[{k}]")
        if (int(ia), int(ib)) in first:
            raise InputError(f"{quote(a)} -> {quote(b)} is also network.pairs[{first[(int(ia), int(ib))]}]; give each "
                             "pair once", location=f"network.pairs[{k}]")
        first[(int(ia), int(ib))] = k
        src.append(ia)
        dst.append(ib)
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    if not net.all_station_pairs:
        return src, dst
    st = np.flatnonzero(kind == "station").astype(np.int64)
    n = len(st)
    if n < 2:
        raise InputError("all_station_pairs needs at least two sites of kind station", location="network.all_station_pairs")
    # build_model has already checked the n (n - 1) pairs against the memory budget (--max-memory)
    # Every ordered pair (i, j), i != j, row by row: column k of row i skips the diagonal.
    row = np.repeat(np.arange(n, dtype=np.int64), n - 1)
    col = np.tile(np.arange(n - 1, dtype=np.int64), n)
    col += col >= row
    a, b = st[row], st[col]
    del row, col
    if len(src):  # drop those network.pairs already names (keys unique: site indices < len(sites))
        size = max(len(sites), 1)
        keep = ~np.isin(a * size + b, src * size + dst)
        a, b = a[keep], b[keep]
    return np.concatenate([src, a]), np.concatenate([dst, b])
