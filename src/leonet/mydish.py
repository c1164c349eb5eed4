"""A dish owner's scenario: one dish at a place, the ground segment around it, a short run.

``leonet dish LAT LON`` builds it with :func:`dish_scenario`, runs it, and opens the app on that
dish. What the scenario holds:

* **the dish**: one site ``my-dish`` (group ``my-dish``) at LAT, LON, with the horizon the owner
  gives (a CSV of azimuth_deg, elevation_deg, or the obstruction map the dish exports:
  :mod:`leonet.ground.obstruction_map`); the kit's minimum elevation (``--kit``,
  leonet/data/terminal_kits.csv) is the run's ``visibility.min_elevation_deg``;
* **the ground segment within reach**: the gateways of the calibrated ground segment of a year
  (:data:`leonet.scenario.calibration.GROUND_SEGMENTS`: 2026 by default, the 2026 list's operational
  gateways; or 2023, the 2023 map's gateways that carried traffic, with their antenna counts) within :data:`GATEWAY_REACH_KM` of the dish (a satellite over the dish
  sees gateways about 1,900 km away at most; lasers carry traffic further, so the reach is
  generous), at least the :data:`MIN_GATEWAYS` nearest (:data:`MIN_GATEWAYS_FAR` where none is
  within reach; every one above :data:`POLAR_LATITUDE_DEG`, where the polar shell serves and its
  planes land on any continent); and the PoPs of the same year within
  :data:`POP_REACH_KM`, at least the :data:`MIN_POPS` nearest, and each chosen gateway's own
  nearest PoP (a gateway's traffic leaves at its nearest PoP: without it, Nome, AK would reach
  Warsaw by fibre). The PoP backbone is the segment's, as the realism check runs it: the 2023
  map's own links (``community-2023``: they join 22 of its 23 PoPs; Jakarta stands apart) for
  2023; for 2026, the same links between the PoPs it knows (by their code) and the shortest links
  joining the ones it does not know to the rest (``community-2023-joined``,
  :mod:`leonet.network.backbone_join`): Rome's dish, homed in Frankfurt, lands at the Italian
  gateways, which feed Milan. The PoPs go to a site file (``.ground/pops.csv`` in the results
  folder) with their reverse-DNS codes, which inline sites cannot carry and GeoIP homing needs;
* **the home PoP**, where the dish's traffic leaves and what its app measures latency to
  (:func:`home_pop_near`): as Starlink's GeoIP feed homes the nearest place it lists
  (:mod:`leonet.ground.home_pop`, the rule of ``network.home_pop: geoip``, which the scenario
  sets): Kyiv's dishes leave at Frankfurt, not at Warsaw, the nearest PoP. Where that place's
  main PoP is not in the ``--ground`` set, its next PoP that is (pinned on the dish site); where
  the feed lists no place within :data:`GEOIP_PLACE_REACH_KM` (mid-ocean, Svalbard) or none of
  the place's PoPs is in the set, the nearest PoP its traffic can reach (pinned; over the joined
  backbone, any PoP of the set that some gateway feeds, joined or not: a Darwin dish homes in Darwin on
  the 2026 list, in Perth on the 2023 map). The scenario's
  description says which and why, and ``leonet dish`` prints it. The home PoP is always among the
  scenario's PoPs, and a chosen gateway feeds it (the nearest gateways of that PoP are added when
  none does: a home PoP that no gateway and no backbone link reaches leaves the dish NO_PATH);
* **the calibrated service model of the run's date** (:func:`model_of_the_day`, the model
  ``leonet realism`` checks against Starlink's published figures:
  :mod:`leonet.scenario.calibration`; docs/service-model.md): the kit's cap at the link's MODCOD,
  the dish's own on/off traffic and speed test, the latency the dish measures to its PoP
  (propagation, MAC scheduling, the processing term of that date, its own queue, jitter, short
  outages), **other subscribers** loading the satellites and beams it uses (Starlink's announced
  total at that date, on the shipped element set only: a constellation preset's shells are not
  what the background is calibrated on; ``background=False`` leaves them out), cell limits on them (the dish itself is an existing subscriber, never sold out), the
  satellite that offers the dish's cell the most in each slot (``max-rate``), and on the shipped
  element set lasers and V2 Mini capacity by launch (catalog number);
* **the constellation of the day**: a shipped Starlink element set (CelesTrak GP data,
  leonet/data/orbits): by default the newest, ``starlink-2026-08-22`` (10,744 satellites), or
  ``starlink-2023-12-27`` (5,202), run on the day of its epoch, because SGP4 drifts away from real positions within weeks (a ``start`` more
  than :data:`leonet.constants.SGP4_TRUSTED_DAYS` days from it is an error); or any
  constellation preset (``starlink-gen1``: the FCC Gen1 shells), run from now (UTC, the minute);
* **time**: ``duration_s`` (default 120 s) at 1 s steps.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .errors import InputError
from .space.element_sets import SHIPPED_SETS, extract_element_set

#: The shipped element sets a dish run may use: name -> (file under leonet/data/orbits, start).
ORBIT_SETS = {name: (s.file, s.start) for name, s in SHIPPED_SETS.items()}
#: The newest shipped element set: a dish owner's sky of today, as near as leonet has it.
DEFAULT_CONSTELLATION = max(SHIPPED_SETS.values(), key=lambda s: s.epoch_day).name
GATEWAY_REACH_KM = 3000.0
POP_REACH_KM = 3000.0
MIN_GATEWAYS = 5
#: A dish with no gateway within reach (Antarctica, mid-ocean) is served over lasers only, and
#: its laser island lands wherever its satellites pass over gateways: more of them are kept.
MIN_GATEWAYS_FAR = 20
#: Above this latitude (deg, either hemisphere) a dish sees mostly the polar shell, whose planes
#: are 60 deg apart and carry no lasers between them (leonet.network.isl.MAX_PLANE_ANGLE_DEG):
#: each plane's ring lands wherever it passes over a gateway, on any continent, so every gateway
#: of the set is kept.
POLAR_LATITUDE_DEG = 66.0
MIN_POPS = 2
#: A dish further than this (km) from every place of Starlink's GeoIP feed is in no place the feed
#: lists, and its nearest PoP stands in (said in the output). A place stands for its region's
#: subnets (most countries have one: Kyiv for Ukraine; "Antarctica", at McMurdo, for the whole
#: continent, 1,350 km from the South Pole); mid-ocean and Svalbard (1,990 km from Reykjavik,
#: 2,050 km from Oslo) are beyond it.
GEOIP_PLACE_REACH_KM = 1500.0
DISH_NAME = "my-dish"
MAX_DURATION_S = 3600.0
EARTH_RADIUS_KM = 6371.0


def _great_circle_km(lat, lon, lat0: float, lon0: float) -> np.ndarray:
    la, lo = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    a0, o0 = np.radians(lat0), np.radians(lon0)
    c = np.sin(la) * np.sin(a0) + np.cos(la) * np.cos(a0) * np.cos(lo - o0)
    return EARTH_RADIUS_KM * np.arccos(np.clip(c, -1.0, 1.0))


def _near(sites, lat: float, lon: float, reach_km: float, at_least: int) -> np.ndarray:
    """Indices of the sites within reach_km, at least the ``at_least`` nearest, nearest first."""
    d = _great_circle_km(sites.lat_deg, sites.lon_deg, lat, lon)
    order = np.argsort(d, kind="stable")
    keep = order[d[order] <= reach_km]
    return keep if len(keep) >= at_least else order[:at_least]


def ground_near(lat: float, lon: float, year: int = 2026) -> tuple[list[dict], dict]:
    """Site entries (gateways, then PoPs with their ``pop_code``, within reach: see the module
    doc) and what was chosen, the home PoP among it (``home_pop``, ``home_pop_pinned``,
    ``home_pop_reason``: :func:`home_pop_near`)."""
    from .ground.builtin import builtin_sites, nearest_pop, pop_codes_of
    from .scenario.calibration import ground_segment

    seg = ground_segment(year)   # the realism check's: 2023's gateways that carried traffic, with their antennas
    gws = builtin_sites(**seg.builtin[0])
    pops = builtin_sites(**seg.builtin[1])
    codes = pop_codes_of(pops)
    far = _great_circle_km(gws.lat_deg, gws.lon_deg, lat, lon).min() > GATEWAY_REACH_KM
    if abs(lat) >= POLAR_LATITUDE_DEG:
        g = _near(gws, lat, lon, np.inf, MIN_GATEWAYS)
        rule = f"all {len(g)} gateways of {year} (the polar shell lands on any continent)"
    else:
        g = _near(gws, lat, lon, GATEWAY_REACH_KM, MIN_GATEWAYS_FAR if far else MIN_GATEWAYS)
        within = np.count_nonzero(_great_circle_km(gws.lat_deg[g], gws.lon_deg[g], lat, lon) <= GATEWAY_REACH_KM)
        rule = (f"the {len(g)} nearest gateways of {year} (none within {GATEWAY_REACH_KM:,.0f} km: lasers carry its "
                "traffic)" if far else
                f"{len(g)} gateways of {year} within {GATEWAY_REACH_KM:,.0f} km" if within == len(g) else
                f"the {len(g)} nearest gateways of {year} ({within} within {GATEWAY_REACH_KM:,.0f} km)")
    n_chosen = len(g)
    gw_pop = nearest_pop(gws, pops)        # each gateway's own PoP, among all the year's
    # a PoP traffic can reach: some gateway's own, or joined to one by the backbone (the 2023 map's
    # links and the shortest joins, as the run builds it); a home PoP nothing feeds would leave the
    # dish NO_PATH all the time
    from .network.backbone_join import backbone_components
    from .sim.network_model import backbone_pairs, fed_pops

    backbone = backbone_pairs(pops, np.arange(len(pops.name)), seg.backbone)  # as the run joins them
    component = backbone_components(backbone, len(pops.name))
    reachable = fed_pops(gw_pop, backbone, len(pops.name))
    home = home_pop_near(lat, lon, pops, codes, year, fed=np.unique(gw_pop[g]), reachable=reachable)
    k_home = home["index"]
    if k_home not in gw_pop[g]:
        # keep the gateways nearest the dish that feed the home PoP: its own, or else those of a
        # PoP the backbone joins it to
        feeding = np.flatnonzero(gw_pop == k_home)
        if not len(feeding):
            feeding = np.flatnonzero(component[gw_pop] == component[k_home])
            feeding = feeding[~np.isin(feeding, g)]
        d = _great_circle_km(gws.lat_deg[feeding], gws.lon_deg[feeding], lat, lon)
        g = np.concatenate([g, feeding[np.argsort(d, kind="stable")[:MIN_GATEWAYS]]]).astype(np.int64)
    # 2023: every PoP (the backbone joins them); 2026: the PoPs within reach and the gateways' own
    p = np.arange(len(pops.name)) if year == 2023 else _near(pops, lat, lon, POP_REACH_KM, MIN_POPS)
    own = [k for k in dict.fromkeys([*gw_pop[g].tolist(), k_home]) if k not in p]
    p = np.concatenate([p, own]).astype(np.int64)
    antennas = gws.attrs.get("antennas")   # the 2023 map's Ka antenna counts (-1: not given)
    entries = [{"name": str(gws.name[k]), "lat_deg": float(gws.lat_deg[k]), "lon_deg": float(gws.lon_deg[k]),
                "elevation_m": float(gws.elevation_m[k]), "kind": "gateway", "group": str(gws.group[k]),
                **({"antennas": int(antennas[k])} if antennas is not None and int(antennas[k]) >= 1 else {})}
               for k in g]
    entries += [{"name": str(pops.name[k]), "lat_deg": float(pops.lat_deg[k]), "lon_deg": float(pops.lon_deg[k]),
                 "elevation_m": float(pops.elevation_m[k]), "kind": "pop", "group": str(pops.group[k]),
                 "pop_code": str(codes[k]),
                 "city": str(pops.attrs["city"][k]) if "city" in pops.attrs else ""} for k in p]
    d_g = _great_circle_km(gws.lat_deg[g], gws.lon_deg[g], lat, lon)
    first = int(np.argmin(d_g))
    if len(g) > n_chosen:
        rule += f" and the {len(g) - n_chosen} nearest that feed its home PoP"
    return entries, {"gateways": len(g), "gateway_rule": rule, "pops": len(p), "nearest_gateway": str(gws.name[g[first]]),
                     "nearest_gateway_km": float(d_g[first]), "home_pop": home["code"],
                     "home_pop_pinned": home["pinned"], "home_pop_reason": home["reason"]}


#: A dish within this distance (km) of a GeoNames city is taken to be in that city's country.
COUNTRY_CITY_REACH_KM = 100.0


def _country_unlisted(lat: float, lon: float, listed: set) -> str | None:
    """The ISO alpha-2 code of the dish's country (its nearest GeoNames city's, within
    :data:`COUNTRY_CITY_REACH_KM`) when Starlink's GeoIP feed lists no place there (``listed``:
    the feed's country codes), else None (a listed country, or a dish far from any city)."""
    from .ground.population import nearest_city

    city, km = nearest_city(lat, lon)
    return city.country if km <= COUNTRY_CITY_REACH_KM and city.country not in listed else None


def home_pop_near(lat: float, lon: float, pops, codes: np.ndarray, year: int, fed: np.ndarray,
                  reachable: np.ndarray | None = None) -> dict:
    """The dish's home PoP among ``pops`` (the ``--ground`` year's PoPs, ``codes`` their reverse-DNS
    codes), as the module doc says: Starlink's GeoIP feed's, from the nearest place it lists
    (:func:`leonet.ground.home_pop.home_pops`, as ``network.home_pop: geoip`` resolves it); else
    the nearest PoP of ``fed`` (indices of ``pops`` that the chosen gateways feed). ``reachable``
    ((P,) bool; default all): the PoPs some gateway of the set feeds, itself or over the backbone;
    the feed's PoPs that are not count as missing from the set.

    Returns a dict: ``index`` (into ``pops``), ``code``, ``pinned`` (False only where the
    scenario's ``home_pop: geoip`` gives this PoP by itself; True where the dish site must pin it)
    and ``reason`` (one line for the output, saying which PoP and why)."""
    from .ground.home_pop import home_pops, match_pops, read_home_pop_table

    table = read_home_pop_table()
    place = home_pops([lat], [lon], table=table)
    k, km = int(place.place[0]), float(place.city_distance_km[0])
    where = f"{table.city[k]}, {table.country[k]}"
    split = table.splits[k]                      # ((code, subnets), ...), most first
    total = sum(n for _, n in split)
    have = match_pops([c for c, _ in split], codes)
    in_set = have >= 0
    if reachable is not None:   # a PoP no gateway feeds is as good as absent (Mumbai, Jakarta in 2026)
        have = np.where(in_set & np.asarray(reachable, dtype=bool)[np.maximum(have, 0)], have, -1)

    def missing(m: np.ndarray) -> str:  # why the feed's PoPs m (indices into split) are of no use
        lacks = [split[j][0] for j in m if not in_set[j]]
        unfed = [split[j][0] for j in m if in_set[j]]
        parts = ([f"the {year} ground set lacks {' and '.join(lacks)}"] if lacks else []) + \
                ([f"no gateway of it reaches {' or '.join(unfed)}"] if unfed else [])
        return "; ".join(parts)

    def named(i: int) -> str:  # the 2023 map names its PoPs otherwise ("LOS"): the run's lines use that name
        own = f"{pops.name[i]}, " if str(pops.name[i]) != str(codes[i]) else ""
        if "city" in pops.attrs:
            return f"{codes[i]} ({own}{pops.attrs['city'][i]})"
        return f"{codes[i]} ({own.rstrip(', ')})" if own else str(codes[i])

    if km <= GEOIP_PLACE_REACH_KM:
        notes = [f"{km:,.0f} km away"] if km >= 100 else []
        country = _country_unlisted(lat, lon, set(table.country))
        if country:   # Beijing homes as Ulaanbaatar does: say that Starlink sold no service there
            notes.append(f"the feed lists no place in {country}, the dish's country: Starlink sold no service there "
                         "in Aug 2024, and the run shows what its sky and ground would give")
        place_text = f"{where}, its place nearest the dish" + (f" ({'; '.join(notes)})" if notes else "")
        if have[0] >= 0:
            i = int(have[0])
            return {"index": i, "code": str(codes[i]), "pinned": False,
                    "reason": f"home PoP {named(i)}, as Starlink's GeoIP feed homes {place_text}: "
                              f"{split[0][1]} of its {total} subnets"}
        nxt = np.flatnonzero(have >= 0)
        if len(nxt):
            j = int(nxt[0])
            i = int(have[j])
            return {"index": i, "code": str(codes[i]), "pinned": True,
                    "reason": f"home PoP {named(i)}: Starlink's GeoIP feed homes {place_text}, on {split[0][0]} "
                              f"({split[0][1]} of {total} subnets), but {missing(range(j))}; "
                              f"{split[j][0]} is that place's next PoP ({split[j][1]} of {total} subnets)"}
        listed = " and ".join(c for c, _ in split)
        why = f"Starlink's GeoIP feed homes {place_text}, on {listed}, but {missing(range(len(split)))}"
    else:
        why = (f"Starlink's GeoIP feed lists no place within {GEOIP_PLACE_REACH_KM:,.0f} km of the dish "
               f"(the nearest, {where}, is {km:,.0f} km away)")
    # the nearest PoP traffic can reach (over the run's backbone: any PoP of the set that some gateway
    # feeds, itself or joined), else the nearest a chosen gateway feeds: a Darwin dish homes in Darwin,
    # not at the Indonesian PoP its nearest gateways feed
    near = (np.flatnonzero(reachable) if reachable is not None and np.any(reachable)
            else np.asarray(fed, dtype=np.int64))
    i = int(near[np.argmin(_great_circle_km(pops.lat_deg[near], pops.lon_deg[near], lat, lon))])
    return {"index": i, "code": str(codes[i]), "pinned": True,
            "reason": f"home PoP {named(i)}, the nearest PoP its traffic can reach: {why}"}


def write_pops_file(entries: list[dict], out_dir: Path) -> Path:
    """The PoP entries as a sites CSV (``out_dir/.ground/pops.csv``) with their ``pop_code`` (and
    ``city``, which the app shows beside the code): an
    inline site cannot carry the code that ``network.home_pop: geoip`` matches PoPs by. Hidden,
    as the extracted ``.orbits``: leonet's own in a results folder, kept by ``--overwrite``."""
    import csv
    import io

    out = Path(out_dir).resolve() / ".ground" / "pops.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    columns = ("name", "lat_deg", "lon_deg", "elevation_m", "kind", "group", "pop_code", "city")
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: e[c] for c in columns} for e in entries)
    tmp = out.with_suffix(".part")
    tmp.write_text(text.getvalue(), encoding="utf-8")
    tmp.replace(out)
    return out


def extract_orbit_set(name: str, folder: Path) -> tuple[Path, str]:
    """Decompress a shipped element set into ``folder`` (once): (the .tle path, its run start)."""
    return extract_element_set(name, folder), SHIPPED_SETS[name].start


def _parse_start(when: str) -> datetime:
    """``--start`` as an aware datetime in UTC (a time without an offset is UTC; one with an offset
    is converted, so that its date is the UTC date); an InputError naming ``--start`` when it is
    not ISO 8601."""
    try:
        t = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"is not an ISO 8601 time (e.g. 2023-12-27T20:00:00Z): {when!r}", location="--start") from None
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _check_constellation(name: str) -> None:
    """An InputError naming ``--constellation`` unless ``name`` is a shipped element set or a
    Starlink constellation preset: the dish's ground segment, home PoPs and model are Starlink's
    (a Kuiper dish would land at Starlink's gateways)."""
    from .errors import did_you_mean
    from .scenario.presets import list_presets

    presets = [p["name"] for p in list_presets() if p["kind"] == "constellation"]
    known = list(ORBIT_SETS) + [p for p in presets if p.startswith("starlink")]
    if name in known:
        return
    if name in presets:
        raise InputError(f"{name!r} is not a Starlink constellation: leonet dish models a Starlink dish (Starlink's "
                         f"gateways, PoPs and home PoPs); choose one of {', '.join(known)}, or write a scenario "
                         "for another operator (leonet run)", location="--constellation")
    raise InputError(f"unknown constellation {name!r}{did_you_mean(name, known)}; available: {', '.join(known)}",
                     location="--constellation")


def dish_gateway_shares(store) -> list[tuple[str, float]]:
    """(gateway name, share of the connected steps) of the dish of a ``leonet dish`` results folder
    (``store``, a :class:`leonet.results.store.ResultStore`), most first (ties by name)."""
    steps = store.read("dish_steps", columns=["gateway"]).to_pandas()["gateway"].to_numpy()
    used = steps[steps >= 0]
    if not len(used):
        return []
    names = store.read("sites", columns=["name"]).to_pandas()["name"].to_numpy()
    ids, counts = np.unique(used, return_counts=True)
    order = sorted(range(len(ids)), key=lambda k: (-counts[k], str(names[ids[k]])))
    return [(str(names[ids[k]]), float(counts[k] / len(used))) for k in order]


def _check_start(when: str, set_start: str, constellation: str) -> None:
    """An InputError when ``when`` (ISO UTC) is more than SGP4_TRUSTED_DAYS from the element set's
    epoch: SGP4 years away puts satellites a million km off, yet in view."""
    from .constants import SGP4_TRUSTED_DAYS

    t = _parse_start(when)
    days = abs((t - datetime.fromisoformat(set_start.replace("Z", "+00:00"))).total_seconds()) / 86_400
    if days > SGP4_TRUSTED_DAYS:
        raise InputError(f"{when} is {days:.1f} days from the epoch of {constellation} ({set_start[:10]}); its satellites "
                         f"are trusted within {SGP4_TRUSTED_DAYS} days of it (SGP4 drifts off real positions within "
                         "weeks): choose a start near that date, or a constellation preset (--constellation)",
                         location="--start")


def model_of_the_day(when: str, ground_year: int, real_sky: bool, kit: str, *, background: bool,
                     present_gateways: list[str] | None) -> tuple[dict, str]:
    """The calibrated model's ``network``, ``capacity`` and ``service`` sections at the UTC instant
    ``when`` (:func:`leonet.scenario.calibration.model_sections`), for one dish of ``kit``, and a
    short text saying what they hold. ``background`` False leaves other subscribers out (the sky to
    the dish alone); so does a synthetic sky (``real_sky`` False: a constellation preset's shells),
    on which the background, Starlink's subscribers on its real satellites, is not calibrated. The
    dated rules that name gateways keep those of ``present_gateways`` (the run's gateways; None:
    all of them)."""
    from .scenario.calibration import background_at, model_sections, processing_ms_at

    day = _parse_start(when).date()
    sections = model_sections(day, ground_year, real_sky=real_sky, kit=kit, background=False)
    if background and real_sky:   # the background section and its words from one call
        sections["service"]["background"], load = background_at(day, where="--start")
        load = f"background: {load}"
    else:
        load = ("no other subscribers (--no-background)" if not background else
                "no other subscribers: the background load is calibrated on the shipped Starlink element set only")
    if present_gateways is not None:
        keep = set(present_gateways)
        rule = sections["network"]["bent_pipe_only_gateways"]
        sections["network"]["bent_pipe_only_gateways"] = [g for g in rule if g in keep]
    lasers = "; lasers from mid-2021 launches" if real_sky else ""
    what = "calibrated model" if real_sky else "service model"
    return sections, f"{what} of {day} ({load}{lasers}; processing {processing_ms_at(day):.1f} ms)"


def dish_scenario(lat: float, lon: float, out_dir: Path, *, horizon: list[tuple[float, float]] | None = None,
                  horizon_file: str | Path | None = None,
                  kit: str = "standard", duration_s: float = 120.0, constellation: str = DEFAULT_CONSTELLATION,
                  ground_year: int = 2026, start: str | None = None, background: bool = True) -> tuple[dict, dict]:
    """The scenario (a dict for :func:`leonet.scenario.scenario_from_dict`) of one dish at
    (lat, lon) deg, and a dict saying what was chosen (see the module doc). ``horizon``: the
    dish's horizon profile, (azimuth_deg, elevation_deg) points; ``horizon_file``: a CSV of them
    (columns azimuth_deg, elevation_deg), read by the scenario loader. ``background`` False: no
    other subscribers load the dish's satellites."""
    from .service.kits import get_kit

    if not (np.isfinite(lat) and -90 <= lat <= 90):
        raise InputError(f"latitude must be in [-90, 90] deg, got {lat}", location="LAT")
    if not (np.isfinite(lon) and -180 <= lon <= 180):
        raise InputError(f"longitude must be in [-180, 180] deg, got {lon}", location="LON")
    if not (np.isfinite(duration_s) and 1 <= duration_s <= MAX_DURATION_S):
        raise InputError(f"must be in [1, {MAX_DURATION_S:.0f}] s (a dish run is short), got {duration_s}",
                         location="--duration")
    k = get_kit(kit, location="--kit")
    entries, chosen = ground_near(lat, lon, ground_year)
    dish = {"name": DISH_NAME, "lat_deg": float(lat), "lon_deg": float(lon), "kind": "dish", "group": DISH_NAME}
    if chosen["home_pop_pinned"]:   # network.home_pop: geoip alone would give another PoP, or one the set lacks
        dish["home_pop"] = chosen["home_pop"]
    sites = [dish] + [e for e in entries if e["kind"] != "pop"]
    pops_file = write_pops_file([e for e in entries if e["kind"] == "pop"], out_dir)
    _check_constellation(constellation)
    if start is not None:   # one form for the run and its saved scenario: UTC with a Z (a date alone: its midnight)
        start = _parse_start(start).isoformat().replace("+00:00", "Z")
    if constellation in ORBIT_SETS:
        # absolute: the saved scenario.yaml names it, and a path is read from the YAML's own folder
        tle, set_start = extract_orbit_set(constellation, Path(out_dir).resolve() / ".orbits")
        cons = {"orbit_files": [{"path": str(tle), "format": "tle", "shell": constellation}]}
        when = start or set_start
        _check_start(when, set_start, constellation)
    else:
        cons = constellation      # a Starlink constellation preset by name
        when = start or datetime.now(timezone.utc).replace(second=0, microsecond=0).isoformat().replace("+00:00", "Z")
    model, model_text = model_of_the_day(when, ground_year, real_sky=constellation in ORBIT_SETS, kit=k.name,
                                         background=background,
                                         present_gateways=[e["name"] for e in entries if e["kind"] == "gateway"])
    scenario = {
        "name": "my-dish",
        "description": f"one dish at {lat:.4f}, {lon:.4f} ({k.name} kit), "
                       + f"{chosen['gateway_rule']}, "
                       + (f"all {chosen['pops']} PoPs of 2023" if ground_year == 2023 else
                          f"{chosen['pops']} PoPs of {ground_year}")
                       + f", {constellation}; "
                       f"{chosen['home_pop_reason']}; {model_text}",
        "constellation": cons,
        "ground": {"sites": sites, "site_files": [{"path": str(pops_file), "kind": "pop"}]},
        "time": {"start": when, "duration_s": float(duration_s), "step_s": 1.0},
        "visibility": {"min_elevation_deg": float(k.min_elevation_deg)},
        **model,
        "outputs": {"dir": str(out_dir), "chunk_steps": 60},
    }
    if horizon is not None and horizon_file is not None:
        raise InputError("give a horizon file or an obstruction map, not both", location="--horizon")
    if horizon is not None:
        scenario["ground"]["obstructions"] = [{"sites": [DISH_NAME], "profile": [list(p) for p in horizon]}]
    if horizon_file is not None:
        scenario["ground"]["obstructions"] = [{"sites": [DISH_NAME], "file": str(Path(horizon_file).resolve())}]
    chosen.update(kit=k.name, constellation=constellation, start=when, model=model_text)
    return scenario, chosen


def never_online_line(name: str, summary, home_pop: str | None = None) -> str | None:
    """The line ``leonet dish`` prints for a dish never online over the run: its lost time by
    state, with each state's share and meaning (``summary``: the run's
    :class:`~leonet.results.summary.NetworkSummary`, ``home_pop``: the dish's home PoP code, named
    in NO_PATH's meaning); None where it was online at some step (the usual line says enough).
    Without it the RTT, gateway and PoP of a dish that never had any print as "-" and no reason."""
    from .states import never_online_text

    rows = summary.per_dish[summary.per_dish["name"] == name]
    if len(rows) != 1:
        raise InputError(f"the run has {len(rows)} dishes named {name!r}, expected one", location="dish_steps")
    row = rows.iloc[0]
    if row["availability"] > 0:
        return None
    # shares of the dish-time each outage state took (all of it is lost: never online)
    lost = {s: float(row[f"lost_s_{s}"]) for s in summary.states if f"lost_s_{s}" in row.index}
    if not lost:
        # one state only (the summary keeps no per-state columns then): it took all the time
        if len(summary.states) != 1:
            raise InputError(f"the summary of {name!r} has no lost time per state", location="dish_steps")
        lost = {summary.states[0]: 1.0}
    meanings = {"NO_PATH": "satellites in view, but no laser route from them reaches a gateway leading to its "
                           f"home PoP {home_pop}"} if home_pop else None
    line = never_online_text(name, int(row["steps"]), lost, meanings=meanings)
    if line is None:
        raise InputError(f"{name!r} was never online, yet lost no time in any state", location="dish_steps")
    return line
