"""The warnings a run gives before it starts (they go to ``run.json`` with the network model,
:attr:`leonet.sim.network_model.NetworkModel.warnings`): satellites that will not fly (perigees in
the atmosphere, orbits SGP4 cannot propagate), time windows and events after the calendar's end,
windows it cuts short, deliveries that bring no dish during the run, event settings that change
nothing, a PoP backbone that leaves PoPs or dishes' home PoPs cut off."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from ..scenario import Scenario
from ..space.constellation import Constellation


#: Perigees below this altitude lie in the atmosphere (a warning, not an error: SGP4's own
#: verification sets use such orbits).
LOW_PERIGEE_KM = 120.0


def _low_perigee_count(constellation: Constellation) -> int:
    """How many satellites have their perigee below :data:`LOW_PERIGEE_KM` (Kepler's third law on
    the mean motion; a(1 - e) - R)."""
    from ..constants import EARTH_RADIUS_M
    from ..space.walker import altitude_m_from_mean_motion

    if not len(constellation):
        return 0
    el = constellation.elements
    a_m = altitude_m_from_mean_motion(el.mean_motion_rev_per_day) + EARTH_RADIUS_M
    perigee_m = a_m * (1.0 - np.asarray(el.eccentricity, dtype=np.float64)) - EARTH_RADIUS_M
    return int((perigee_m < LOW_PERIGEE_KM * 1e3).sum())


def scenario_warnings(scenario: Scenario, constellation: Constellation) -> list[str]:
    """Warnings the scenario and its satellites give before the run: perigees in the atmosphere,
    time windows after the calendar's end or cut short by it."""
    warnings: list[str] = []
    low = _low_perigee_count(constellation)
    if low:
        warnings.append(f"{low} satellite(s) have their perigee below {LOW_PERIGEE_KM:g} km, inside the "
                        "atmosphere: SGP4 decays them within days and they may drop out of the run (NaN positions)")
    skipped = scenario.time.skipped_windows()
    if skipped:
        warnings.append(f"time windows after the calendar's end are not simulated: {_listed(skipped)}")
    warnings += network_off_warnings(scenario)
    clipped = scenario.time.clipped_windows()
    if clipped:  # the window's name and length alone would claim time the run does not simulate
        listed = _listed([f"{name} ({ran:g} s of its {asked:g} s)" for name, ran, asked in clipped])
        warnings.append(f"time windows cut short by the calendar's end run only in part: {listed}")
    return warnings


def network_off_warnings(scenario: Scenario) -> list[str]:
    """With ``network.enabled: false`` (visibility only), the station pairs it asks for are not
    routed: said, not silently dropped."""
    net = scenario.network
    if net.enabled or not (net.pairs or net.all_station_pairs):
        return []
    asked = "network.pairs" if net.pairs else "network.all_station_pairs"
    return [f"network.enabled is false (visibility only): {asked} are not routed and no pair_steps are written"]


#: At most this many instants of the run at which :func:`propagation_warnings` tries every
#: satellite (all of a shorter run's; else the first, the last and evenly spread ones between).
PROPAGATION_CHECK_INSTANTS = 64


def propagation_warnings(constellation: Constellation, t_ns: np.ndarray) -> list[str]:
    """A warning naming the satellites that SGP4 fails to propagate during the run (an error code
    and NaN positions: decayed, an absurd B*, eccentricity out of range), tried at up to
    :data:`PROPAGATION_CHECK_INSTANTS` instants of ``t_ns`` (int64 UTC ns); none when all fly.
    Such satellites drop out of the run where SGP4 fails (no link, no route). SGP4's failures can
    come and go from one instant to the next, so on a longer run this is a sample, not a proof."""
    from ..space.propagate import ERROR_REASONS, propagate_teme

    t_ns = np.asarray(t_ns, dtype=np.int64)
    if not len(constellation) or not len(t_ns):
        return []
    picks = np.unique(np.linspace(0, len(t_ns) - 1, min(PROPAGATION_CHECK_INSTANTS, len(t_ns))).round().astype(np.int64))
    failed_any = np.zeros(len(constellation), dtype=bool)
    codes: set[int] = set()
    for k in range(0, len(picks), 16):  # (16, N, 3) positions at a time
        _, code = propagate_teme(constellation, t_ns[picks[k:k + 16]])
        failed_any |= (code != 0).any(axis=0)
        codes.update(int(c) for c in np.unique(code[code != 0]))
    failed = np.flatnonzero(failed_any)
    if not len(failed):
        return []
    reasons = "; ".join(ERROR_REASONS.get(c, f"error {c}") for c in sorted(codes))
    names = ", ".join(str(constellation.names[i]) for i in failed[:10])
    more = f" and {len(failed) - 10:,} more" if len(failed) > 10 else ""
    return [f"{len(failed):,} satellite(s) cannot be propagated by SGP4 during the run ({reasons}): {names}{more}; "
            "they drop out of the run (NaN positions) where SGP4 fails"]


def epoch_warnings(scenario: Scenario, constellation: Constellation, t_ns: np.ndarray) -> list[str]:
    """A warning per orbit file (``constellation.orbit_files``) whose satellites the run propagates
    more than :data:`leonet.constants.SGP4_TRUSTED_DAYS` days from their element sets' epochs (the
    median satellite, at the run's instant farthest from it): SGP4 drifts off the real sky within
    weeks, and years away it puts satellites where they never were, without an error code (2019
    launches sit at 442-616 km in 1990). Shells with ``station_keeping: true`` are held on station
    on purpose over long runs (their file's caveats say so) and are not warned about."""
    from pathlib import Path

    from ..constants import SGP4_TRUSTED_DAYS

    t_ns = np.asarray(t_ns, dtype=np.int64)
    if not len(constellation) or not len(t_ns):
        return []
    out = []
    names = list(constellation.shell_names)
    for k, spec in enumerate(scenario.constellation.orbit_files):
        shell = spec.shell or Path(spec.path).stem
        if spec.station_keeping or shell not in names:
            continue
        epochs = constellation.elements.epoch_ns[constellation.shell == names.index(shell)]
        if not len(epochs):
            continue
        median_ns = float(np.median(epochs))
        days = max(abs(float(t_ns.min()) - median_ns), abs(float(t_ns.max()) - median_ns)) / 86_400e9
        if days > SGP4_TRUSTED_DAYS:
            epoch = np.datetime_as_string(np.datetime64(int(median_ns), "ns"), unit="D")
            out.append(f"constellation.orbit_files[{k}] ({shell}): the run reaches {days:,.0f} days from its "
                       f"element sets' epoch ({epoch}, median); SGP4 drifts off the real sky within weeks "
                       f"(trusted within {SGP4_TRUSTED_DAYS} days), so these are not the satellites' real "
                       "positions on the run's dates: use element sets of those dates, or set "
                       "station_keeping: true if holding them on station over a long run is meant")
    return out


def _listed(items: list[str]) -> str:
    """The first ten of ``items``, comma-separated, and how many more."""
    return ", ".join(items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10 else "")


def backbone_warnings(net, sites, dish: np.ndarray, pop: np.ndarray, gateway_pop: np.ndarray, backbone: np.ndarray,
                      dish_home_pop: np.ndarray, fed: np.ndarray) -> list[str]:
    """Warnings about the PoP backbone (``network`` a scenario's network section; ``dish``/``pop``
    site numbers; ``gateway_pop`` (G,) each gateway's PoP; ``backbone`` (B, 2) PoP pairs;
    ``dish_home_pop`` (D,); ``fed`` (P,) bool, :func:`leonet.sim.network_model.fed_pops`): a
    community-2023 backbone that joins none of the PoPs, or leaves PoPs that gateways feed apart
    from its largest part (with home PoPs and dishes), and dishes homed on PoPs that nothing feeds."""
    out = []
    if net.backbone == "community-2023" and len(pop) > 1 and not len(backbone):
        out.append("network.backbone is community-2023, but none of its links joins two of the scenario's PoPs "
                   "(it knows the 2023 map's 23 PoPs, by name or reverse-DNS code): the PoPs have no fibre "
                   "between them; set network.backbone: none to say so, or community-2023-joined to join them")
    elif net.backbone == "community-2023" and net.home_pop != "any" and len(pop) > 1 and len(dish):
        out += _apart_pops(sites, dish, pop, gateway_pop, backbone)
    return out + _unfed_homes(net, sites, pop, dish_home_pop, fed)


def _apart_pops(sites, dish: np.ndarray, pop: np.ndarray, gateway_pop: np.ndarray, backbone: np.ndarray) -> list[str]:
    """The PoPs that some gateway feeds but the backbone leaves apart from its largest part (no
    link, or links only among themselves): with home PoPs, their gateways carry only the traffic of
    dishes homed on them or on PoPs joined to them. Nearest the dishes first."""
    from ..network.backbone_join import backbone_components

    part = backbone_components(backbone, len(pop))
    sizes = np.bincount(part)
    if sizes.max() < 2:  # no link at all: backbone_warnings says so
        return []
    main = int(np.argmax(sizes))   # the largest part (the lowest label among equals)
    fed = np.unique(gateway_pop[gateway_pop >= 0])
    apart = fed[part[fed] != main]
    if not len(apart):
        return []
    from ..ground.geodesy import great_circle_distance_m

    # the ones nearest the dishes first: those are the ones the run's dishes would use
    d_m = np.array([great_circle_distance_m(sites.lat_deg[pop[k]], sites.lon_deg[pop[k]], sites.lat_deg[dish],
                                            sites.lon_deg[dish]).min() for k in apart])
    names = [str(sites.name[pop][k]) for k in apart[np.argsort(d_m, kind="stable")]]
    return [f"network.backbone community-2023 leaves {len(names)} PoP(s) that gateways feed apart from its largest "
            f"part ({_listed(names)}: the map has no link that reaches them from there): their gateways carry only the "
            "traffic of dishes homed on them or on PoPs joined to them; network.backbone: community-2023-joined joins "
            "every part to its nearest"]


def _unfed_homes(net, sites, pop: np.ndarray, dish_home_pop: np.ndarray, fed: np.ndarray) -> list[str]:
    """The home PoPs that no gateway feeds, itself or over the backbone, with how many dish sites are
    homed there: those dishes are NO_PATH for the whole run (a hunt found Mumbai's and Dhaka's
    dishes offline while the warnings named other PoPs)."""
    home = np.asarray(dish_home_pop, dtype=np.int64)
    if not len(home) or not np.any(fed):   # no gateway at all: build_network_model's warning says so
        return []
    cut = home[(home >= 0) & ~np.asarray(fed, dtype=bool)[np.maximum(home, 0)]]
    if not len(cut):
        return []
    codes, counts = np.unique(cut, return_counts=True)
    listed = _listed([f"{sites.name[pop][c]} ({n} dish site{'s' if n > 1 else ''})" for c, n in zip(codes, counts)])
    fix = ("; network.backbone: community-2023-joined joins every PoP to the rest" if net.backbone == "community-2023"
           else "")
    return [f"{len(cut)} dish site(s) are homed on PoPs that no gateway feeds, itself or over the backbone ({listed}): "
            f"they are NO_PATH for the whole run; add gateways near them{fix}"]


def event_warnings(scenario: Scenario) -> list[str]:
    """Warnings about the scenario's events that the run cannot show: those that start at or after
    the calendar's end (:meth:`~leonet.scenario.Scenario.events_after_end`), deliveries that bring
    no dish during the run (:func:`undelivered_events`), and settings that change nothing
    (:func:`idle_event_settings`)."""
    out = []
    late = scenario.events_after_end()
    if late:
        out.append(f"events that start at or after the calendar's end change nothing in this run: {_listed(late)}")
    empty = undelivered_events(scenario, skip=set(late))
    if empty:
        out.append("deliveries events that deliver no dish at any instant of the run leave the sites they target "
                   f"with no dish for all of it: {_listed(empty)}")
    return out + idle_event_settings(scenario)


def _delivering_spans_ns(schedule, start) -> list[tuple[int, int | None]]:
    """The [from, to) spans (ns after ``start``; to None: for ever) in which a deliveries schedule's
    share is above 0 (:func:`leonet.threats.timeline.delivered_share`: 0 before the first point,
    linear between points, the last share after the last)."""
    def ns(t):
        return (t - start) // timedelta(microseconds=1) * 1000

    spans = []
    for (t0, s0), (t1, s1) in zip(schedule, schedule[1:]):
        if s0 > 0 or s1 > 0:
            spans.append((ns(t0) + (s0 <= 0), ns(t1) + (s1 > 0)))
    t_last, s_last = schedule[-1]
    if s_last > 0:
        spans.append((ns(t_last), None))
    return spans


def undelivered_events(scenario: Scenario, skip=frozenset()) -> list[str]:
    """The deliveries events (by name, with why) whose schedule delivers no dish at any instant of
    the calendar while the event is on: their sites have no dish for the whole run (events named
    in ``skip``, those that start after the calendar's end, are left out)."""
    time = scenario.time
    end_ns = round(time.duration_s * 1e9)
    out = []
    for e in scenario.events:
        if e.type != "deliveries" or e.name in skip or not e.schedule:
            continue
        start_ns, stop_ns = scenario.event_span_ns(e)
        lo, hi = max(start_ns, 0), min(end_ns if stop_ns is None else stop_ns, end_ns)
        spans = _delivering_spans_ns(e.schedule, time.start)
        if any(time.any_instant_in(max(a, lo), hi if b is None else min(b, hi)) for a, b in spans):
            continue
        if not spans:
            why = "every share of its schedule is 0"
        elif spans[0][0] >= hi:
            j = next(j for j, (_, share) in enumerate(e.schedule) if share > 0)
            first = f"on {e.schedule[0][0].isoformat()}" if j == 0 else f"after {e.schedule[j - 1][0].isoformat()}"
            limit = ("the calendar's end" if stop_ns is None or stop_ns >= end_ns else "the event's end")
            at = time.start + timedelta(microseconds=hi // 1000)
            why = f"its first dishes come {first}, at or after {limit} ({at.isoformat()})"
        else:
            why = "its schedule's shares are 0 at every instant of the run while it is on"
        out.append(f"{e.name} ({why})")
    return out


def idle_event_settings(scenario: Scenario) -> list[str]:
    """Warnings about event settings that change nothing: a power_cut's backup_share with no
    backup_hours (the backup runs out at once) or the other way round, a jamming countermeasure
    that lands at or after its jamming's end."""
    out = []
    for k, e in enumerate(scenario.events):
        where = f"events[{k}] ({e.name})"
        if e.type == "power_cut" and e.backup_share > 0 and e.backup_hours == 0:
            out.append(f"{where}: backup_share {e.backup_share:g} changes nothing: backup_hours is 0, so the backup "
                       "runs out at once and every targeted dish goes offline at the cut's start (set backup_hours)")
        if e.type == "power_cut" and e.backup_hours > 0 and e.backup_share == 0:
            out.append(f"{where}: backup_hours {e.backup_hours:g} changes nothing: backup_share is 0, so no dish has "
                       "backup (set backup_share)")
        if e.type == "jamming" and e.countermeasure is not None:
            start_ns, stop_ns = scenario.event_span_ns(e)
            if stop_ns is not None and start_ns + round(e.countermeasure.after_s * 1e9) >= stop_ns:
                out.append(f"{where}: its countermeasure changes nothing: it lands {e.countermeasure.after_s:g} s after "
                           f"the jamming starts, at or after its end ({(stop_ns - start_ns) / 1e9:g} s after its start)")
    return out
