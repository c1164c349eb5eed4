"""The calibrated scenario of one country at one date, for the realism check.

Every parameter here is global (the same for every country), physical or an assumption stated
in :data:`ASSUMPTIONS`; nothing is tuned to a country.

- Constellation: the nearest shipped Starlink element set (CelesTrak GP data; leonet/data/orbits:
  2023-12-27, the month of the Sep 2023 - Jan 2024 published figures, and 2026-08-22). SGP4 is
  trusted within :data:`MAX_PROPAGATION_DAYS` of the set's date; a metrics date further away is
  simulated on the set's own date (the summary says so; the table's ``sim_start`` is the first sample's instant).
- Ground segment of that time (:func:`ground_year_of`, the one whose source is nearest the
  simulated date, unless the caller names one): for the published figures the 2023 community map's
  gateways that carried traffic, with their Ka antenna counts (``statuses: carried-traffic``,
  ``antennas: from-data``), and its 23 PoPs with their backbone. All regions: lasers can carry a
  dish's traffic to any of them. The 2026 community list (``ground=2026``, ``leonet realism
  --ground 2026``) is, for them, a later bound (:data:`GROUND_SEGMENTS`).
- Dishes: one sample dish in each of the country's most populous GeoNames cities (over 15,000
  people) that Starlink served at the date (not within :data:`UNSERVED_PLACES`), an existing
  subscriber (never sold out), weighted in the figures by population x take-up. Countries with no such city get one dish per place of the GeoIP feed in that country
  (leonet/data/geoip). Each city is one sample dish per PoP its GeoIP place is homed on, pinned
  to that PoP and weighted by the PoP's share of the place's subnets (Kyiv: Frankfurt 2/3, Madrid
  2/9, London 1/9; **assumption**: subscribers spread evenly over a place's subnets).
- The service model (docs/service-model.md): the kit of the time (:data:`KIT`), on/off traffic,
  the background of that date (Starlink's announced total, shared among countries as the GeoIP
  feed's subnets and within them by city population), cell limits consistent with equal-slot
  beam hopping, V1.5 and V2 Mini satellites by catalog number, lasers only on satellites
  launched from mid 2021 (:data:`LASERS_FROM_CATALOG`), and the processing term of that date
  (:data:`PROCESSING_MS`).
- Time: 96 instants, every quarter hour of the local day once (:data:`DAY_SAMPLES`, local mean
  solar time at the dishes' population-weighted mean longitude), spread over the 24 days up to the
  date (:func:`sample_days`), as Starlink's figures aggregate a month of all hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from ..capacity.linkbudget import RADIO_DEFAULTS
from ..constants import SGP4_TRUSTED_DAYS
from ..errors import InputError
from ..space.element_sets import SHIPPED_SETS, extract_element_set
# the model's global settings live with the scenario layer (leonet dish runs them too); re-exported
# here, where the check's docs and tests name them
from ..scenario.calibration import (BEAM_HOPPING, BENT_PIPE_ONLY_GATEWAYS, GROUND_SEGMENTS, KIT,  # noqa: F401
                                    LASERS_FROM_CATALOG, PROCESSING_FIT, PROCESSING_MS, SLOT_POLICY,
                                    V2_MINI_FROM_CATALOG, GroundSegment, bent_pipe_only_gateways_at,
                                    ground_segment, ground_year_for, model_sections, processing_ms_at)

#: Shipped element sets: date -> file under leonet/data/orbits (leonet.space.element_sets).
ORBIT_SETS = {s.epoch_day: s.file for s in SHIPPED_SETS.values()}
#: Beyond this many days from an element set's epoch, the check simulates the set's own date (its model; its samples span the days :func:`sample_days` gives).
MAX_PROPAGATION_DAYS = SGP4_TRUSTED_DAYS
#: How the check samples time. Starlink's figures aggregate a month of its routers' measurements
#: over all hours (the metrics SOURCE.md: "for its whole residential customer base in that country
#: over a month"), so the check samples ``DAY_SAMPLES[mode]`` windows of ``SAMPLE_S[mode]`` seconds
#: at STEP_S steps, one in every 24 / n hours of the local day, spread over the ``SAMPLE_DAYS[mode]``
#: days up to the date (:func:`sample_days`, :func:`day_samples`), every instant weighted alike.
#: Samples spread over days span many geometries of the sky: one 10-minute window at the busy hour
#: (the check until 2026-12-02) read a single geometry, and so did one day's 24 one-minute windows
#: (until 2026-12-03) more than it seemed: the same model read Réunion 150 and 177 ms, Malawi 153
#: and 167, the Virgin Islands 63 and 75 on two arrangements of its days, and its fitted processing
#: term 7.0 and 5.5 ms; 96 one-step windows, at the same cost in steps, read 6.4 and 6.8
#: (bench/RESULTS.md, "Realism: a month of days sampled", 2026-12-03).
DAY_SAMPLES = {"fast": 4, "full": 96}
SAMPLE_DAYS = {"fast": 4, "full": 24}
SAMPLE_S = {"fast": 15.0, "full": 15.0}
STEP_S = 15.0
#: The local hour of the 1 Hz dish reference's window (the measured history's hour is not known;
#: assumption: the evening busy hour).
BUSY_HOUR_LOCAL = 20.0
#: Dishes per inhabitant of the cities chosen (assumption: Starlink had ~2.3 M subscribers in
#: ~70 countries at the end of 2023, a small fraction of a percent of people; 1 in 1,000).
TAKE_UP = 0.001
#: Cities per country (the most populous ones), each one dish site.
MAX_CITIES = {"fast": 3, "full": 8}


#: Places Starlink did not serve (a global list, applied to every country): cities under Russian
#: occupation, where Starlink was not active, with the date from which each was. A GeoNames city
#: within :data:`UNSERVED_RADIUS_KM` of one (the city's GeoNames districts) is no dish site from
#: that date. (name, lat_deg, lon_deg, since). Sources:
#: - Crimea (Sevastopol, Simferopol, Kerch, Yevpatoriya; annexed March 2014): "The Starlink regions
#:   in question were not activated" (Musk on X, 7 Sep 2023); the region "was actually turned off"
#:   because US sanctions on Russia include Crimea (Musk, All-In Summit, Sep 2023; Ukrinform,
#:   2023-09-13). US Executive Order 13685 (19 Dec 2014) embargoes the Crimea region.
#: - The "DNR"/"LNR" regions (Donetsk, Makiivka, Horlivka; Luhansk, Alchevsk; proclaimed April
#:   2014): under the same kind of comprehensive US embargo (Executive Order 14065, 21 Feb 2022).
#: - Occupied in 2022 (Berdiansk 27 Feb, Melitopol 1 Mar, Mariupol 20 May): Starlink terminals
#:   failed where Ukrainian troops crossed into Russian-held territory (FT, 7 Oct 2022; REFERENCE.md,
#:   "Geofencing").
#: Smaller occupied towns are not listed: none is among a country's most populous cities.
UNSERVED_PLACES = (
    ("Sevastopol", 44.608, 33.521, date(2014, 3, 18)),
    ("Simferopol", 44.957, 34.111, date(2014, 3, 18)),
    ("Kerch", 45.357, 36.475, date(2014, 3, 18)),
    ("Yevpatoriya", 45.201, 33.367, date(2014, 3, 18)),
    ("Donetsk", 48.023, 37.802, date(2014, 4, 7)),
    ("Makiivka", 48.048, 37.926, date(2014, 4, 7)),
    ("Horlivka", 48.300, 38.017, date(2014, 4, 14)),
    ("Luhansk", 48.568, 39.306, date(2014, 4, 27)),
    ("Alchevsk", 48.469, 38.797, date(2014, 4, 27)),
    ("Berdiansk", 46.756, 36.788, date(2022, 2, 27)),
    ("Melitopol", 46.847, 35.382, date(2022, 3, 1)),
    ("Mariupol", 47.095, 37.541, date(2022, 5, 20)),
)
#: Radius around an unserved place within which GeoNames cities (its districts) are excluded, km
#: (12 km keeps Avdiivka, Ukrainian-held until Feb 2024, 13.6 km from Donetsk).
UNSERVED_RADIUS_KM = 12.0


def served(lat_deg, lon_deg, day: date) -> np.ndarray:
    """(K,) bool: the places at (lat_deg, lon_deg) (K,) are not within :data:`UNSERVED_RADIUS_KM`
    of a place of :data:`UNSERVED_PLACES` unserved at ``day``."""
    from ..ground.geodesy import great_circle_distance_m

    lat = np.atleast_1d(np.asarray(lat_deg, dtype=float))[:, None]
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=float))[:, None]
    plat, plon = (np.array([p[k] for p in UNSERVED_PLACES if day >= p[3]], dtype=float) for k in (1, 2))
    return (great_circle_distance_m(lat, lon, plat, plon) > UNSERVED_RADIUS_KM * 1e3).all(axis=1)



#: The landing assumption as the summary states it, by ``network.landing`` (the segment's).
LANDING_TEXT = {
    "home-in-reach": "landing: a dish's traffic comes down at a gateway of its home PoP within its bent-pipe reach "
                     "where it has one, then the fibre; lasers carry it to a gateway beyond only where none is in reach "
                     "(network.landing: home-in-reach)",
    "anywhere": "landing: a dish's traffic comes down at whatever gateway its shortest route to its home PoP takes "
                "(network.landing: anywhere: on the 2026 list the gateways near a dish may feed PoPs the Aug 2024 GeoIP "
                "feed homes nobody there on)",
}

ASSUMPTIONS = (
    "one sample dish per city and home PoP (an existing subscriber, never sold out), weighted in the figures by "
    f"city population x {TAKE_UP} (assumed take-up) x the PoP's share of the city's GeoIP subnets (Aug 2024; "
    "subscribers spread evenly over subnets; PoPs {pops_label} lacks left out); everyone else is the background load",
    "one satellite serves a cell in a slot, the one that offers it the most (network.slots.policy: max-rate: beam time "
    "per occupied cell x one beam's rate at the dish's range, at most the satellite's capacity per beam): the cell's "
    "active subscribers share its beam",
    f"processing term by date: {PROCESSING_FIT['value_ms']:.1f} ms to Jan 2024 (fitted on the 2023-09-08 figures: median country error 0; "
    "SpaceX's US peak-hour 48.5 ms would give 26.8), then SpaceX's US peak-hour medians 33 ms (Mar 2024), 25.7 ms (June 2025)",
    "a speed test is one TCP transfer with a 2 MiB receive window (the Starlink app on an Android phone on Wi-Fi; rate <= window / RTT) "
    "at up to the probe's share of the links",
    "time: {samples} windows of {sample_s:.0f} s, one in every {every} of the local day (local mean solar time), spread "
    "over the {days} days up to the date: the published figures aggregate all hours of a month",
    "background: Starlink's announced total, shared among countries as the subnets of its GeoIP feed (Aug 2024)",
    "cell limits: 80 % of a cell's busy-hour share of the satellites in view (equal slots per occupied cell)",
    "from 2023-11-21 (inferred from Starlink's monthly figures) to Jan 2025 the Lagos PoP's Nigerian gateways (Lekki, "
    "Ikire) land only bent-pipe traffic: East Africa's Lagos-homed traffic was routed through Europe (PCMag, Jan 2025)",
    "latency = the dish's 1 Hz RTT to its home PoP (propagation, MAC, processing, its own queue, jitter), "
    "what Starlink's routers measure (popPingLatencyMs)",
    "download/upload = a speed-test probe at the kit's cap at its link's MODCOD alongside the flows active then; the "
    f"uplink's MODCOD with the satellite's G/T fitted on the 2023-09-08 upload figures ({RADIO_DEFAULTS.satellite_g_over_t_db_per_k:.1f} "
    "dB/K: median country upload p50 ratio 1)",
    "{ground_text}",
    "{landing_text}",
)

#: The scenario fields each of :data:`ASSUMPTIONS` rests on (dotted prefixes, in the same order): a
#: ``--set`` on one of them (or on a section above it) changes that assumption, and the summary says so.
_LATENCY_TERMS = tuple(f"service.latency.{f}" for f in (
    "target", "mac", "laser_hops", "isl_hop_ms", "queueing", "saturated_queue_ms", "jitter", "jitter_mean_ms",
    "reconfiguration", "outages", "outage_time_fraction"))
ASSUMPTION_FIELDS = (
    ("ground.sites",),
    ("network.slots",),
    ("service.latency.processing_ms", "service.latency.processing"),
    ("service.speed_test",),
    ("time",),
    ("service.background",),
    ("service.admission",),
    ("network.bent_pipe_only_gateways",),
    _LATENCY_TERMS,   # (network.home_pop changes nothing here: every sample dish pins its home PoP)
    ("service.kit", "service.kit_cap_efficiency_bps_per_hz", "capacity.radio"),
    ("ground.builtin", "network.backbone"),
    ("network.landing",),
)



def _touches(override: str, field: str) -> bool:
    """Whether a ``--set`` of the dotted path ``override`` changes ``field`` (itself, a part of it, or a
    section that holds it; ``ground.builtin[0].name`` is a part of ``ground.builtin``). Spaces around
    a path's parts do not count, as ``--set`` reads them."""
    override = ".".join(part.strip() for part in str(override).split("."))
    return any(a == b or a.startswith(b + ".") or a.startswith(b + "[")
               for a, b in ((override, field), (field, override)))


def assumptions(mode: str = "full", overridden=(), ground: int = 2023) -> tuple[str, ...]:
    """:data:`ASSUMPTIONS` as a run of ``mode`` ("full" or "fast") on the ``ground`` segment makes
    them (its time samples, its ground segment); one whose fields (:data:`ASSUMPTION_FIELDS`) a path
    of ``overridden`` changes says so, so that a sensitivity run's summary does not state an
    assumption it replaced as if it held."""
    every_min = round(1440 / DAY_SAMPLES[mode])
    every = ("hour" if every_min == 60 else f"{every_min // 60} hours" if every_min % 60 == 0 else f"{every_min} minutes")
    seg = ground_segment(ground)
    values = {"samples": DAY_SAMPLES[mode], "sample_s": SAMPLE_S[mode], "every": every, "days": SAMPLE_DAYS[mode],
              "pops_label": seg.pops_label, "ground_text": seg.text, "landing_text": LANDING_TEXT[seg.landing]}
    out = []
    for a, fields in zip(ASSUMPTIONS, ASSUMPTION_FIELDS, strict=True):
        text = a.format(**values) if "{" in a else a
        hit = sorted({str(o) for o in overridden if any(_touches(str(o), f) for f in fields)})
        out.append(text + (f" [changed in this run by --set {', '.join(hit)}]" if hit else ""))
    return tuple(out)


@dataclass(frozen=True)
class CountryPlan:
    """What one country's run is: its scenario dict and how it was made."""

    iso3: str
    iso2: str
    scenario: dict
    sim_start: datetime
    orbit_set: date
    places: str  # "geonames cities" or "geoip places"
    cities: tuple[str, ...]  # (K,) each sample dish's city (its site group)
    weights: np.ndarray = None  # (K,) subscribers each sample dish stands for in the figures (population x take-up x PoP share)
    day: date | None = None  # the simulated date (the metrics date, or the element set's beyond MAX_PROPAGATION_DAYS)
    ground: int = 2023  # the ground segment's year (GROUND_SEGMENTS)


def local_time_utc(day: date, lon_deg: float, hour: float) -> datetime:
    """The UTC instant of ``hour`` local mean solar time at ``lon_deg`` on ``day``, on a slot
    boundary (slots start at :12, :27, :42, :57 of each minute)."""
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(hours=hour - lon_deg / 15.0)
    return start.replace(second=12, microsecond=0)


def sample_days(day: date, orbit_date: date, mode: str) -> tuple[date, date]:
    """The first and last of the ``SAMPLE_DAYS[mode]`` days the check samples for figures simulated
    on ``day`` (:func:`day_samples`): the days up to ``day`` (the figures aggregate the month before
    their date), moved later where the first would be more than :data:`MAX_PROPAGATION_DAYS` before
    the element set of ``orbit_date``."""
    n_days = SAMPLE_DAYS[mode]
    first = max(day - timedelta(days=n_days - 1), orbit_date - timedelta(days=MAX_PROPAGATION_DAYS))
    return first, first + timedelta(days=n_days - 1)


def day_samples(start: datetime, mode: str) -> dict:
    """The ``time:`` section of the n = ``DAY_SAMPLES[mode]`` samples over D = ``SAMPLE_DAYS[mode]``
    days from ``start``, the first day's last local slot of 24 / n hours (see :data:`DAY_SAMPLES`):
    a coarse step of (D - 1) x 24 / n hours, so that the samples fall on every local slot of the day
    once (D - 1 and n share no factor) and run on through the D days, and at each coarse instant a
    window of ``SAMPLE_S[mode]`` seconds at STEP_S steps (the coarse instants are the windows' first
    ones), each a sample of its stretch (``sample: true``: its steps share the coarse step equally
    in the run's own summary)."""
    n, n_days, length_s = DAY_SAMPLES[mode], SAMPLE_DAYS[mode], SAMPLE_S[mode]
    # every slot once needs D - 1 and n coprime; a step of at most a day needs D <= n
    assert math.gcd(n_days - 1, n) == 1 and n_days <= n, (n, n_days)
    every_s = 86_400.0 / n
    step_s = (n_days - 1) * every_s    # at most a day (n >= D), every local slot once
    first_s = 86_400.0 - every_s       # start: the first day's last slot
    at_s = [first_s + k * step_s for k in range(n)]   # from the first day's local midnight
    return {"start": start.isoformat().replace("+00:00", "Z"), "duration_s": n * step_s, "step_s": step_s,
            "windows": [{"name": f"day {int(a // 86_400) + 1} local {int(a % 86_400 // 3600):02d}:"
                                 f"{int(a % 3600 // 60):02d}",
                         "start_s": k * step_s, "duration_s": length_s, "step_s": STEP_S, "sample": True}
                        for k, a in enumerate(at_s)]}


def orbit_set_for(when: date) -> date:
    """The shipped element set nearest ``when``."""
    return min(ORBIT_SETS, key=lambda d: abs((d - when).days))


def simulated_day(when: date) -> date:
    """The date the check simulates for figures of ``when``: ``when`` itself within
    :data:`MAX_PROPAGATION_DAYS` of the nearest shipped element set, else the set's own date."""
    orbit_date = orbit_set_for(when)
    return when if abs((when - orbit_date).days) <= MAX_PROPAGATION_DAYS else orbit_date


def ground_year_of(when: date) -> int:
    """The ground segment figures of ``when`` run on by default: the one whose source is nearest
    the day the check simulates (:func:`simulated_day`), so that the sky, the model and the ground
    are of one date (2023 for Starlink's files of Sep 2023 - Jan 2024)."""
    return ground_year_for(simulated_day(when))


def simulated_day_note(when: date) -> str | None:
    """A sentence for the summary when the check cannot simulate ``when`` itself (None when it can)."""
    day = simulated_day(when)
    if day == when:
        return None
    return (f"note: the figures are of {when.isoformat()}, {abs((when - day).days)} days from the nearest shipped "
            f"element set; every country ran in the set's own days, up to {MAX_PROPAGATION_DAYS} days from "
            f"{day.isoformat()} (its sky, with the background and processing term of that date; SGP4 is trusted "
            f"within {MAX_PROPAGATION_DAYS} days of an element set)")


def extract_orbit_file(orbit_date: date, folder: Path) -> Path:
    """Decompress the shipped element set of ``orbit_date`` into ``folder`` (once); returns the .tle path."""
    return extract_element_set(next(s.name for s in SHIPPED_SETS.values() if s.epoch_day == orbit_date), folder)


def _dish_places(iso2: str, mode: str, day: date) -> tuple[list[tuple[str, float, float, int]], str]:
    """(name, lat, lon, dishes) per dish site, and which kind of places they are (cities served at
    ``day``; see :data:`UNSERVED_PLACES`)."""
    from ..ground.home_pop import read_home_pop_table
    from ..ground.population import _city_rows, cities_of

    # Only "GeoNames has no city of this country" (small territories) falls back to the GeoIP
    # places, asked before the call: catching cities_of's InputError would also hide every other
    # error it raises (any failure to read the table itself propagates either way)
    has_cities = iso2.upper() in {c.country for c in _city_rows()[0]}
    cities = cities_of([iso2], 15_000, 10**9) if has_cities else []
    if cities:
        keep = served([c.lat_deg for c in cities], [c.lon_deg for c in cities], day)
        cities = [c for c, k in zip(cities, keep) if k][: MAX_CITIES[mode]]
    if cities:
        return [(c.name, c.lat_deg, c.lon_deg, max(1, int(round(c.population * TAKE_UP)))) for c in cities], \
            "geonames cities"
    table = read_home_pop_table()
    rows = np.flatnonzero(table.country == iso2)
    if not len(rows):
        raise InputError(f"country {iso2} has no GeoNames city over 15,000 people and no GeoIP place",
                         location="countries")
    # no population figure for these places: one dish per place (they are small territories)
    return [(str(table.city[k]), float(table.lat_deg[k]), float(table.lon_deg[k]), 1) for k in rows], "geoip places"


def country_plan(iso3: str, iso2: str, when: date, orbit_file: Path, mode: str = "full",
                 ground: int | None = None) -> CountryPlan:
    """The calibrated scenario of one country (see the module docstring) on the ``ground`` segment
    (:data:`GROUND_SEGMENTS`; None: :func:`ground_year_of` ``when``)."""
    if mode not in MAX_CITIES:
        raise InputError(f"mode must be one of {list(MAX_CITIES)}, got {mode!r}", location="mode")
    ground = ground_year_of(when) if ground is None else ground
    seg = ground_segment(ground)
    orbit_date = orbit_set_for(when)
    day = simulated_day(when)
    model = model_sections(day, ground, rules_day=when)   # the Lagos rule goes by the figures' month
    places, kind = _dish_places(iso2, mode, when)
    city_weights = np.array([p[3] for p in places], dtype=float)
    lon = np.array([p[2] for p in places])
    # population-weighted mean longitude on the circle
    mean_lon = float(np.degrees(np.arctan2((city_weights * np.sin(np.radians(lon))).sum(),
                                           (city_weights * np.cos(np.radians(lon))).sum())))
    # the first sampled day's last slot (23:45 in full mode); day_samples steps on by D - 1 slots at a time
    start = local_time_utc(sample_days(day, orbit_date, mode)[0], mean_lon, 24.0 - 24.0 / DAY_SAMPLES[mode])
    sites, weights, groups = [], [], []
    for k, ((name, la, lo, n), split) in enumerate(zip(places, _pop_splits(places, iso2, seg))):
        for code, share in split:  # one sample dish per home PoP of the city's GeoIP place
            sites.append({"name": f"{iso3}-{k}-{name}"[:51] + f"-{code}", "lat_deg": la, "lon_deg": lo, "kind": "dish",
                          "group": name, "dishes": 1, "home_pop": code})
            weights.append(n * share)
            groups.append(name)
    scenario = {
        "name": f"realism-{iso3}",
        "description": f"realism check, {iso3} at {when.isoformat()} (calibrated, global parameters)",
        "constellation": {"orbit_files": [{"path": str(orbit_file), "format": "tle",
                                           "shell": f"starlink-{orbit_date.isoformat()}"}]},
        "ground": {
            "sites": sites,
            "builtin": [dict(entry) for entry in seg.builtin],
        },
        "time": day_samples(start, mode),
        "visibility": {"min_elevation_deg": 25.0},
        **model,
        "outputs": {"chunk_steps": 1000, "visibility_pairs": False},
    }
    return CountryPlan(iso3=iso3, iso2=iso2, scenario=scenario, sim_start=start, orbit_set=orbit_date,
                       places=kind, cities=tuple(groups), weights=np.array(weights, dtype=float), day=day,
                       ground=ground)


def _pop_splits(places, iso2: str, seg: GroundSegment = GROUND_SEGMENTS[2023]) -> list[tuple[tuple[str, float], ...]]:
    """Each place's home PoPs and their shares of its subscribers (:func:`leonet.ground.home_pop.home_pop_shares`,
    the GeoIP place nearest it in the country, or anywhere for a country the feed does not list).

    The feed is of Aug 2024; a PoP it names that the ground segment ``seg`` lacks (the 2023 map:
    San Jose's snjecax1 for a share of New York) did not exist at the check's dates: its share goes
    to the place's other PoPs (:data:`ASSUMPTIONS`). A place with none of its PoPs in the set keeps
    them all (the run then fails naming the missing PoP)."""
    from ..ground.builtin import builtin_sites, pop_codes_of
    from ..ground.home_pop import home_pop_shares, read_home_pop_table

    pops = seg.builtin[-1]
    known = {c for code in pop_codes_of(builtin_sites(pops["name"])) for c in str(code).lower().split("/")}
    # a country the feed does not list (the Isle of Man) takes its nearest place's, as the run's home PoPs do
    country = iso2 if iso2 in set(read_home_pop_table().country.tolist()) else None
    out = []
    for split in home_pop_shares([p[1] for p in places], [p[2] for p in places], country=country):
        kept = tuple((c, f) for c, f in split if c in known) or split
        total = sum(f for _, f in kept)
        out.append(tuple((c, f / total) for c, f in kept))
    return out
