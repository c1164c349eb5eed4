"""The calibrated service model's global settings, by date: what ``leonet realism`` checks against
Starlink's published figures and what ``leonet dish`` runs a dish owner's place with.

Every value is global (the same for every country and place), physical or an assumption said
where it is set; nothing here is tuned to a country. :func:`model_sections` gives them as the
scenario sections (``network``, ``capacity``, ``service``) that set them for a date; the places,
dishes and time of a run are the caller's (:mod:`leonet.realism.calibrated` samples a
country's cities over 24 days, :mod:`leonet.mydish` one dish for a few minutes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from ..errors import InputError

#: Satellites with lasers: NORAD catalog number from the first laser-carrying launches (Transporter-2,
#: 2021-06-30, 48879; Group 2-1, 2021-09-14): the 53 deg v1.0 shell launched before has none.
LASERS_FROM_CATALOG = 48879
#: Satellites with V2 Mini capacity (~96 Gbps, 48 beams; REFERENCE.md): from the first V2 Mini launch
#: (Group 6-1, 2023-02-27, COSPAR 2023-026, NORAD 55695); earlier ones are V1.5 (~20 Gbps, 24 beams).
V2_MINI_FROM_CATALOG = 55695
#: How beams share time among cells (service.background.beam_hopping; "equal", the default: a slot
#: per occupied cell, with cell limits consistent with it).
BEAM_HOPPING = "equal"
#: Which satellite serves a cell in a slot (``network.slots.policy``): "max-rate", the one that offers
#: the cell the most (its beam time per occupied background cell x one beam's rate at the dish's
#: range, at most its capacity per beam; :mod:`leonet.service.beamtime`): an operator balancing load
#: over the satellites in view (**assumption**: Starlink's choice is not public). With "load-aware"
#: (the highest satellite) instead, the five monthly files give both in 35 country-months and
#: download in 86; with "max-rate" 42 and 109 (bench/RESULTS.md, "Realism"): a V1.5 beam carries at
#: most 0.83 Gbps, a V2 Mini's ~1.1 (the radio), and a satellite over emptier ground has more beam
#: time per cell, so which one serves a cell decides its speed.
SLOT_POLICY = "max-rate"
#: The kit of the dishes (the 2021-23 rectangular "standard actuated" dish was the one most users
#: had at the end of 2023; its caps are those of the standard kit, leonet/data/terminal_kits.csv).
KIT = "gen2_rectangular"

#: The processing term by date, ms (piecewise linear between the dated points; the first value
#: holds before it). From March 2024 it follows SpaceX's US peak-hour medians (REFERENCE.md): 33 ms
#: when it announced its latency work (March 2024) and 25.7 ms in June 2025; leonet's default
#: processing term (4 ms) reproduces the 2025 figure, so March 2024 is 4 + (33 - 25.7) = 11.3 ms.
#: Before that the term is **fitted**, one global constant, on Starlink's own per-country figures
#: of 2023-09-08 (31 countries; a month the check does not report): the value at which the median
#: country's latency p50 error is zero, 6.4 ms (:data:`PROCESSING_FIT`; the same model with the samples
#: a day earlier reads 6.8, the fit's sampling noise; 8.2 before the check sampled 96 instants over 24
#: days instead of one day's 24 hours, 2026-12-03, which read 7.0 and 5.5 for two arrangements of 24
#: hours over 24 days; 8.4 before the real-sky laser
#: mesh kept to four lasers per satellite, 7.9 before gateways tracked every
#: laser island in view, ``network.gateway_tracking``, both 2026-12-02; 9.3 with one busy-hour window
#: instead of the day sampled; 17.9 with the highest satellite serving instead of the max-rate one,
#: whose routes are longer; 19.4 before held routes counted their backbone leg, 2026-12-02).
#: SpaceX's US peak-hour median of 48.5 ms before the work would give 4 + (48.5 - 25.7) = 26.8 ms:
#: 18.6 ms more, which the fit reads as a US peak hour being slower than a month's median over all
#: hours and places. The later anchors (11.3 and 4 ms) were
#: set with the highest-satellite choice; with max-rate the US reads a few ms longer, so they may be
#: a few ms high (not refitted: the check reports no month after Jan 2024).
#: The Jan 2024 figures the check reports are then a hold-out.
PROCESSING_FIT = {"metrics_file": "residential_countries_2023-09-08.json", "countries": 31,
                  "criterion": "median country latency_p50 error = 0", "value_ms": 6.4,
                  "us_peak_hour_anchor_ms": 4.0 + (48.5 - 25.7)}
PROCESSING_MS = ((date(2024, 1, 1), PROCESSING_FIT["value_ms"]), (date(2024, 3, 1), 4.0 + (33.0 - 25.7)),
                 (date(2025, 6, 1), 4.0))


#: Gateways that took no laser-borne traffic between two dates: (site name in the 2023 map, from,
#: until), compared with the run's date (the realism check's: the metrics file's; a dish run's: its start).
#: Before Starlink's Nairobi PoP went live (weekend of 18-19 Jan 2025), East African subscribers
#: homed on the Lagos PoP (the only African one) had "high latencies due to connections being
#: routed through Europe"; Kenya's average fell from 120 to 26 ms when Nairobi opened (PCMag,
#: 21 Jan 2025, quoting Elcome's Jimmy Grewal; REFERENCE.md, "Kenya: 120 ms -> 26 ms"). Traffic
#: routed through Europe to Lagos means the Nigerian gateways of the Lagos PoP (Lekki, Ikire) did not
#: land it: they carried only the bent-pipe traffic of dishes within reach (Nigeria, Benin).
#: **Inference from the record**: whether by policy or because Nigeria's own subscribers filled
#: them is not public. **When it began is not on the record either**: Starlink's own figures show
#: East Africa's latency p50 rising month by month (Malawi 118, 121, 130, 139, 157 ms and Rwanda
#: 105, 109, 115, 119, 131 ms from Sep 2023 to Jan 2024), so leonet places the start midway between
#: the 2023-11-08 and 2023-12-04 files, after which routing through Europe fits every East African
#: country better than landing in Nigeria (bench/RESULTS.md, "Realism"). The Dec 2023 and Jan 2024
#: rows are therefore not a hold-out for this term.
BENT_PIPE_ONLY_GATEWAYS = (("Lekki, NG", date(2023, 11, 21), date(2025, 1, 18)),
                           ("Ikire, NG", date(2023, 11, 21), date(2025, 1, 18)))


#: Where a dish's traffic lands (``network.landing``): "home-in-reach", at a gateway of its home PoP
#: within its bent-pipe reach where it has one, the fibre carrying it on (**assumption**: Starlink
#: sends a dish's traffic down near the dish, to a gateway backhauled to its PoP, and uses lasers to
#: reach one where none is in reach, as it describes its lasers: for places beyond its gateways).
#: The rule bounds where traffic lands, not how it gets there: within that reach the shortest route
#: may still take lasers to a gateway nearer the PoP (Kyiv's Frankfurt-homed dishes in ``ukraine-2024``
#: land at Foggia, Frankfurt, Wola Krobowska, Muallim, Aerzen and Milan, 98 % of their steps with a
#: laser hop; Kaunas, farther from Frankfurt by fibre, takes none).
#: Measured on the Jan 2024 figures with one day sampled (bench/RESULTS.md, "Realism: landing near the dish"): latency
#: within 5 ms in 16 of 40 countries instead of 14 (Ukraine 54.7 -> 55.7 ms against 60.4, Finland
#: 57.0 -> 65.0 against 73.0); landing at any gateway within reach instead (its home PoP's or not)
#: gives 13: Puerto Rico and the Virgin Islands land at Caribbean gateways far from Atlanta by fibre.
#: On the 2023 map only: the 2026 list has PoPs (Warsaw) that the Aug 2024 GeoIP feed homes nobody
#: near them on, so Kaunas and the Polish gateways feed Warsaw there, and a Kyiv dish homed in
#: Frankfurt would have to come down at German gateways 1,500 km away (99 ms instead of 50); the 2026
#: segment lands anywhere (its ``GroundSegment.landing``).
LANDING = "home-in-reach"


@dataclass(frozen=True)
class GroundSegment:
    """A ground segment the calibrated model runs on (``leonet realism --ground``, ``leonet dish --ground``)."""

    builtin: tuple[dict, ...]    # the scenario's ground.builtin entries: gateways, then PoPs
    backbone: str                # network.backbone
    gateway_names: dict          # a 2023 map gateway name -> its name in this set (the Lagos rule's gateways)
    pops_label: str              # what the assumptions call its PoP set
    text: str                    # the summary's "ground segment:" assumption
    landing: str = "anywhere"    # network.landing (see LANDING)


#: The ground segments of the realism check's country plans and of ``leonet dish``: 2023, the
#: community map of 2023-10-10 (the shipped check: nearest the published figures' dates, with
#: antenna counts), and 2026 (``leonet dish``'s default), the community list of
#: 2026-03-20 (a later bound: no antenna counts, 54 PoPs of which the 2023 backbone knows 22, so its
#: PoPs are joined by the shortest links too, ``community-2023-joined``). bench/RESULTS.md, "Realism
#: on the 2026 ground list".
GROUND_SEGMENTS = {
    2023: GroundSegment(
        builtin=({"name": "starlink-gateways-2023", "statuses": "carried-traffic", "antennas": "from-data"},
                 {"name": "starlink-pops-2023"}),
        backbone="community-2023", gateway_names={}, pops_label="the 2023 map", landing=LANDING,
        text="ground segment: the gateways of the community map of 2023-10-10 that carried traffic (live or built), "
             "with its antenna counts, and its PoPs and backbone; no Jan 2024 snapshot is available (bench/RESULTS.md: "
             "the same check on the 2026 list, --ground 2026)"),
    2026: GroundSegment(
        builtin=({"name": "starlink-gateways-2026"}, {"name": "starlink-pops-2026"}),
        backbone="community-2023-joined", gateway_names={"Lekki, NG": "Lekki, Nigeria", "Ikire, NG": "Ikire, Nigeria"},
        pops_label="the 2026 list",
        text="ground segment: the community list of 2026-03-20 (operational gateways, 8 antennas each, "
             "no counts in the source; its PoPs joined by the 2023 backbone and the shortest links to the ones it does "
             "not know); for figures before 2026, later than they are: a bound on what a later ground segment changes"),
}


#: The date of each ground segment's source (the community map of 2023-10-10, the list of 2026-03-20).
GROUND_SEGMENT_DATES = {2023: date(2023, 10, 10), 2026: date(2026, 3, 20)}


def ground_year_for(day: date) -> int:
    """The :data:`GROUND_SEGMENTS` year whose source is nearest ``day`` (the realism check's
    default: 2023 up to 2024-12-29, which holds Starlink's figures of Sep 2023 - Jan 2024;
    2026 from 2024-12-30)."""
    return min(GROUND_SEGMENT_DATES, key=lambda year: abs((GROUND_SEGMENT_DATES[year] - day).days))


def ground_segment(year: int) -> GroundSegment:
    """The :data:`GROUND_SEGMENTS` entry of ``year``; another year is an InputError naming ``--ground``."""
    if year not in GROUND_SEGMENTS:
        raise InputError(f"the built-in ground segment is of {' or '.join(map(str, GROUND_SEGMENTS))}, got {year!r}",
                         location="--ground")
    return GROUND_SEGMENTS[year]


def bent_pipe_only_gateways_at(when: date, ground: int = 2023) -> list[str]:
    """The gateways of :data:`BENT_PIPE_ONLY_GATEWAYS` that landed no laser-borne traffic at ``when``,
    as the ``ground`` segment names them."""
    names = ground_segment(ground).gateway_names
    return [names.get(name, name) for name, since, until in BENT_PIPE_ONLY_GATEWAYS if since <= when < until]


def processing_ms_at(day: date) -> float:
    """The processing term of the latency model at ``day`` (see :data:`PROCESSING_MS`), ms."""
    days = [(d - PROCESSING_MS[0][0]).days for d, _ in PROCESSING_MS]
    # to the microsecond: a preset can write the value out exactly
    return round(float(np.interp((day - PROCESSING_MS[0][0]).days, days, [v for _, v in PROCESSING_MS])), 3)



def background_at(day: date, where: str = "service.background.as_of") -> tuple[dict, str]:
    """The calibrated model's background (``service.background``) at ``day`` and a short text
    saying it: Starlink's announced subscriber total at ``day``
    (:func:`leonet.service.background.global_subscribers`), shared among countries as the subnets
    of its GeoIP feed. After the last announcement the background holds that total and the text
    says so (a later run is not refused, nor silently extrapolated); before the first one, an
    InputError naming ``where``."""
    from ..service.background import SUBSCRIBER_ANNOUNCEMENTS, global_subscribers

    (first, _), (last, last_total) = SUBSCRIBER_ANNOUNCEMENTS[0], SUBSCRIBER_ANNOUNCEMENTS[-1]
    background = {"enabled": True, "as_of": day.isoformat(), "spread": "geoip-subnets", "beam_hopping": BEAM_HOPPING}
    if day < date.fromisoformat(first):
        raise InputError(f"{day} is before Starlink's first announced subscriber total ({first}), which the "
                         "background load needs", location=where)
    if day > date.fromisoformat(last):
        background.update(as_of=last, subscribers=float(last_total))
        return background, f"{last_total / 1e6:,.1f} M subscribers, Starlink's last announced total ({last})"
    return background, f"{global_subscribers(day) / 1e6:,.1f} M subscribers worldwide"


def model_sections(day: date, ground: int = 2023, real_sky: bool = True, rules_day: date | None = None,
                   kit: str = KIT, background: bool = True, where: str = "service.background.as_of") -> dict:
    """The ``network``, ``capacity`` and ``service`` sections of the calibrated model at ``day``,
    on the ``ground`` segment (:data:`GROUND_SEGMENTS`). ``real_sky``: the run's constellation is a
    real element set (NORAD catalog numbers), so lasers (:data:`LASERS_FROM_CATALOG`) and V2 Mini
    capacity (:data:`V2_MINI_FROM_CATALOG`) go by launch; a synthetic constellation (a preset's
    shells) keeps its own lasers and satellite generation. ``background``: other subscribers load
    the satellites (:func:`background_at`; ``where`` names the input a date before Starlink's first
    announcement comes from); False leaves them out. ``kit``: the dishes' kit (``service.kit``;
    the check's, :data:`KIT`, by default). ``rules_day``: the date the operator's dated routing
    rules (:data:`BENT_PIPE_ONLY_GATEWAYS`) are read at, when not ``day`` (the check simulates a
    month's figures on its element set's own date, but routes as in that month)."""
    seg = ground_segment(ground)
    network = {"slots": {"policy": SLOT_POLICY}, "home_pop": "geoip", "backbone": seg.backbone, "landing": seg.landing,
               "bent_pipe_only_gateways": bent_pipe_only_gateways_at(rules_day or day, ground)}
    capacity = {"enabled": True}
    if real_sky:
        network["isl"] = {"min_catalog_number": LASERS_FROM_CATALOG}
        capacity["satellite"] = {"generation": "v1.5", "v2_mini_from_catalog": V2_MINI_FROM_CATALOG}
    service = {"enabled": True, "kit": kit,
               "background": background_at(day, where)[0] if background else {"enabled": False},
               # the run's dishes are existing subscribers, never sold out (admission still limits cells)
               "admission": {"enabled": True, "dishes": False},
               "latency": {"processing_ms": processing_ms_at(day)}}
    return {"network": network, "capacity": capacity, "service": service}
