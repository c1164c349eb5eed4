"""The site sets shipped with leonet (package data; see leonet/data/SOURCE.md).

Hypatia's 100 most populous cities, and the Starlink gateways, points of presence (PoPs) and
PoP-to-PoP backbone of the unofficial community map of 2023-10-10, each read from
:mod:`leonet.data` into :class:`~leonet.ground.sites.Sites`; with the helpers that tie them
together (:func:`resolve_backbone`, :func:`nearest_pop`) and :data:`BUILTIN_SITE_SETS`, the
registry by which scenarios and ``leonet presets`` name them.
"""

from __future__ import annotations

import csv
import io
from types import MappingProxyType
from typing import Iterable, NamedTuple

import numpy as np

from ..errors import InputError
from .sites import Sites
from .sites_csv import parse_sites_csv_text

_STARLINK_DIR = "starlink_ground_2023-10-10"
_STARLINK_2026_DIR = "starlink_ground_2026"

#: The regions of the 2023 community map, as its gateways.csv spells them.
STARLINK_REGIONS = ("North America", "South America", "Europe", "Africa", "APAC")

#: Gateway statuses counted as operational on 2023-10-10: seen live or built. Everything else
#: on the map (Construction, Possible Construction, Grant of Authority, Unknown and the various
#: "Not built as of ...") is a licence or a plan, not a working gateway.
OPERATIONAL_GATEWAY_STATUSES = frozenset(
    {"Live", "Presumed Live", "Built", "Built | STA", "Built | Ka Grant"}
)

#: Gateway rule "carried-traffic" (``statuses="carried-traffic"``): a gateway row counts as a
#: site that carried user traffic on 2023-10-10 when the map's editors coloured it green
#: ("live", the map's legend) OR its status says it was built (:data:`OPERATIONAL_GATEWAY_STATUSES`).
#: The status text is often the last licensing step the editors saw ("Grant of Authority": 46 of
#: the 75 green North American gateways) and lags the site going live; the colour is their
#: judgement of whether it is live. Yellow (construction), red (no construction), purple
#: (unknown) and blue rows count only when their status says built.
LIVE_MAP_COLOURS = frozenset({"green(live)"})

#: The 2023 map writes some PoPs' facility codes differently from the PoP codes that Starlink's
#: reverse DNS uses (``customer.<code>.pop.starlinkisp.net``, leonet/data/geoip); the others
#: are the facility code in lower case.
_POP_CODE_FIXES_2023 = MappingProxyType({"PRTHAU1": "prthaus1", "MNLAPH1": "mnlaphl1", "AKLNZL1": "acklnzl1"})

#: City and region of each PoP code in pops.csv; the file itself has no region column.
STARLINK_POP_CITY_REGION = MappingProxyType({
    "SEA": ("Seattle", "North America"),
    "ORD/CHI": ("Chicago", "North America"),
    "DEN": ("Denver", "North America"),
    "LAX": ("Los Angeles", "North America"),
    "LGA/NYC": ("New York", "North America"),
    "ATL": ("Atlanta", "North America"),
    "DFW/DAL": ("Dallas", "North America"),
    "QRO/MEX": ("Querétaro", "North America"),
    "SYD": ("Sydney", "APAC"),
    "GRU": ("São Paulo", "South America"),
    "SCL": ("Santiago", "South America"),
    "FRA": ("Frankfurt", "Europe"),
    "TYO/NRT": ("Tokyo", "APAC"),
    "LOS": ("Lagos", "Africa"),
    "MAD": ("Madrid", "Europe"),
    "LON/LHR": ("London", "Europe"),
    "BOG": ("Bogotá", "South America"),
    "AKL": ("Auckland", "APAC"),
    "LIM": ("Lima", "South America"),
    "PER": ("Perth", "APAC"),
    "MNL": ("Manila", "APAC"),
    "CGK": ("Jakarta", "APAC"),
    "SIN": ("Singapore", "APAC"),
})


def _package_text(*parts: str) -> tuple[str, str]:
    """(text, label) of a file under leonet/data, read through importlib.resources."""
    from importlib.resources import files

    resource = files("leonet").joinpath("data", *parts)
    return resource.read_text(encoding="utf-8"), "leonet/data/" + "/".join(parts)


def _check_regions(regions, source: str | None, location: str) -> list[str]:
    """``regions`` as a list of known region names; InputError (at ``source``, ``location``) for an
    unknown name or an empty list (it would keep no site: a set that silently adds nothing)."""
    wanted = [regions] if isinstance(regions, str) else list(regions)
    if not wanted:
        raise InputError(f"regions is an empty list, which would keep no sites; name some of {list(STARLINK_REGIONS)}, "
                         "or leave regions out to keep every region", source, location)
    unknown = [r for r in wanted if r not in STARLINK_REGIONS]
    if unknown:
        from ..errors import did_you_mean

        hint = did_you_mean(unknown[0], STARLINK_REGIONS)
        message = f"unknown region(s) {unknown}{hint}; expected some of {list(STARLINK_REGIONS)}"
        raise InputError(message, source, location)
    return wanted


def _region_mask(group: np.ndarray, regions, where: str) -> np.ndarray:
    if regions is None:
        return np.ones(group.size, dtype=bool)
    return np.isin(group.astype(str), _check_regions(regions, where, "regions"))


def hypatia_top100_cities() -> Sites:
    """The 100 most populous cities, as Hypatia's Starlink study used them (kind "station").

    Source: the ground-station list of Kassing et al., "Exploring the 'Internet from space'
    with Hypatia", IMC 2020; all at 0 m elevation. Groups are empty.
    """
    return parse_sites_csv_text(*_package_text("top100_cities_hypatia.csv"), default_kind="station")


def _starlink_gateways_all() -> Sites:
    sites = parse_sites_csv_text(*_package_text(_STARLINK_DIR, "gateways.csv"), default_kind="gateway")
    attrs = dict(sites.attrs)
    region = attrs.pop("region")
    return Sites(
        name=sites.name, kind=sites.kind, lat_deg=sites.lat_deg, lon_deg=sites.lon_deg,
        elevation_m=sites.elevation_m, group=region, attrs=attrs,
    )


def _gateway_details_2023(sites: Sites) -> dict[str, np.ndarray]:
    """Map colour and Ka antenna count of each row of gateways.csv, from gateway_antennas.csv.

    The two files hold the same 222 rows in the same order (checked by name). Returns text
    arrays ``map_colour`` and int ``antennas`` (Ka antennas; -1 where the source gives none).
    """
    text, label = _package_text(_STARLINK_DIR, "gateway_antennas.csv")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    if len(rows) != len(sites):
        raise InputError(f"has {len(rows)} rows, gateways.csv has {len(sites)}", label)
    antennas = np.full(len(rows), -1, dtype=np.int64)
    for k, (row, name) in enumerate(zip(rows, sites.name)):
        if row["name"] != name:
            raise InputError(f"row names {row['name']!r}, gateways.csv names {name!r}", label, f"line {k + 2}")
        count = row["ka_antenna_count"].strip()
        if count:
            if not count.isdigit() or int(count) < 1:
                raise InputError(f"ka_antenna_count must be a positive whole number, got {count!r}",
                                 label, f"line {k + 2}, ka_antenna_count")
            antennas[k] = int(count)
    return {"map_colour": np.array([r["map_colour"] for r in rows], dtype=object), "antennas": antennas}


def starlink_gateways_2023(regions=None, statuses: str = "operational", antennas: str = "default") -> Sites:
    """Starlink gateways from the unofficial community map of 2023-10-10 (kind "gateway").

    Source: the "Unofficial Starlink Global Gateways & PoPs" map as scraped by Mohan et al.
    (WWW 2024). Positions are approximate and statuses are the map editors' view on that date;
    heights are not in the source and are set to 0 m. TT&C and backhaul-only sites are never
    included (they do not carry user traffic).

    Parameters
    ----------
    regions : None for all, or a region name or list of them from :data:`STARLINK_REGIONS`.
    statuses : "operational" keeps the rows whose status is in
        :data:`OPERATIONAL_GATEWAY_STATUSES` (Live, Presumed Live, Built, Built | STA,
        Built | Ka Grant); "carried-traffic" also keeps the rows the map colours live (see
        :data:`LIVE_MAP_COLOURS`); "all" keeps every gateway row, planned ones included.
    antennas : "default" leaves the antenna count to the scenario (``network.gateway_antennas``
        for every gateway); "from-data" adds attr ``antennas``, the site's Ka antenna count
        from the map (8, 32 or 40 mostly; -1 where the map gives none, which the network model
        then fills with ``network.gateway_antennas``).

    Returns
    -------
    Sites with ``group`` = region and ``attrs`` ``status``, ``site_type`` and ``notes`` (text),
    plus ``antennas`` (int) with ``antennas="from-data"``.
    """
    where = "starlink_gateways_2023"
    if statuses not in ("operational", "carried-traffic", "all"):
        message = f"statuses must be 'operational', 'carried-traffic' or 'all', got {statuses!r}"
        raise InputError(message, where, "statuses")
    if antennas not in ("default", "from-data"):
        raise InputError(f"antennas must be 'default' or 'from-data', got {antennas!r}", where, "antennas")
    sites = _starlink_gateways_all()
    keep = (sites.attrs["site_type"] == "gateway") & _region_mask(sites.group, regions, where)
    built = np.isin(sites.attrs["status"].astype(str), sorted(OPERATIONAL_GATEWAY_STATUSES))
    if statuses != "all" or antennas == "from-data":
        details = _gateway_details_2023(sites)
    if statuses == "operational":
        keep &= built
    elif statuses == "carried-traffic":
        keep &= built | np.isin(details["map_colour"].astype(str), sorted(LIVE_MAP_COLOURS))
    if antennas == "from-data":
        sites = Sites(name=sites.name, kind=sites.kind, lat_deg=sites.lat_deg, lon_deg=sites.lon_deg,
                      elevation_m=sites.elevation_m, group=sites.group,
                      attrs={**sites.attrs, "antennas": details["antennas"]})
    return sites.take(keep)


def starlink_pops_2023(regions=None) -> Sites:
    """The 23 Starlink points of presence on the unofficial community map of 2023-10-10.

    Source as :func:`starlink_gateways_2023` (approximate, unofficial). Each PoP's ``name`` is
    its code as the map writes it ("LON/LHR"), ``group`` its region from
    :data:`STARLINK_POP_CITY_REGION`, and ``attrs`` hold ``code``, ``city``, ``clli`` (the
    facility code that the map gives as the PoP's name) and ``peering`` (internet exchanges).
    :func:`pop_codes_of` turns ``clli`` into the PoP code of Starlink's reverse DNS
    ("frntdeu1"), by which home PoPs (:mod:`leonet.ground.home_pop`) are matched.
    Heights are not in the source and are set to 0 m.

    Parameters
    ----------
    regions : None for all, or a region name or list of them from :data:`STARLINK_REGIONS`.
    """
    text, label = _package_text(_STARLINK_DIR, "pops.csv")
    raw = parse_sites_csv_text(text, label, default_kind="pop")
    code = raw.attrs["code"]
    missing = [c for c in code if c not in STARLINK_POP_CITY_REGION]
    if missing:
        raise InputError(f"PoP code(s) {missing} have no entry in STARLINK_POP_CITY_REGION", label, "code")
    city, region = zip(*(STARLINK_POP_CITY_REGION[c] for c in code))
    sites = Sites(
        name=code, kind=raw.kind, lat_deg=raw.lat_deg, lon_deg=raw.lon_deg, elevation_m=raw.elevation_m,
        group=np.array(region, dtype=object),
        attrs={
            "code": code, "city": np.array(city, dtype=object), "clli": raw.name,
            "peering": raw.attrs["peering"],
        },
    )
    return sites.take(_region_mask(sites.group, regions, "starlink_pops_2023"))


def pop_codes_of(pops: Sites) -> np.ndarray:
    """The reverse-DNS PoP code ("frntdeu1") of each PoP site, for matching home PoPs.

    Taken from attr ``pop_code`` when the sites have it (the 2026 set; a user's CSV may give
    one), else from the 2023 map's facility code ``clli`` (lower case, with the three spellings
    of :data:`_POP_CODE_FIXES_2023` corrected). Sites with neither are an InputError.

    Returns an object array (P,) of codes.
    """
    if "pop_code" in pops.attrs:
        return np.array([str(c).strip().lower() for c in pops.attrs["pop_code"]], dtype=object)
    if "clli" in pops.attrs:
        return np.array([_POP_CODE_FIXES_2023.get(str(c).strip(), str(c).strip().lower())
                         for c in pops.attrs["clli"]], dtype=object)
    raise InputError("PoP sites carry no code (attr pop_code or clli) to match home PoPs by", location="pops")


def _json_package(*parts: str):
    import json

    text, label = _package_text(*parts)
    try:
        return json.loads(text), label
    except json.JSONDecodeError as e:
        raise InputError(f"is not valid JSON: {e.msg}", label, f"line {e.lineno}") from None


def starlink_gateways_2026(statuses: str = "operational") -> Sites:
    """Starlink gateways of the 2026-03-20 community list (kind "gateway"; 214 operational, 93 planned).

    Source: juliensimon/starlink-viz ``data/ground-stations.json`` (commit 434f8ef, MIT),
    merged from public gateway lists; town-level positions, no antenna counts (the scenario's
    ``network.gateway_antennas`` applies) and no heights (0 m). ``group`` is the country or US
    state as the name writes it ("Accra, Ghana" -> "Ghana"); attr ``status``.

    Parameters
    ----------
    statuses : "operational" (status "operational") or "all" (planned ones too).
    """
    where = "starlink_gateways_2026"
    if statuses not in ("operational", "all"):
        raise InputError(f"statuses must be 'operational' or 'all', got {statuses!r}", where, "statuses")
    data, label = _json_package(_STARLINK_2026_DIR, "ground_stations_2026-03-20.json")
    rows = [(k, st) for k, st in enumerate(data.get("stations", [])) if st.get("type") == "gateway"]
    for k, st in rows:
        if st.get("status") not in ("operational", "planned"):
            raise InputError(f"unknown status {st.get('status')!r}", label, f"stations[{k}].status")
    if statuses == "operational":
        rows = [(k, st) for k, st in rows if st["status"] == "operational"]
    names = [st["name"].strip() for _, st in rows]
    return Sites(
        name=names, kind=["gateway"] * len(rows), lat_deg=[float(st["lat"]) for _, st in rows],
        lon_deg=[float(st["lon"]) for _, st in rows], elevation_m=np.zeros(len(rows)),
        group=[n.rsplit(",", 1)[-1].strip() for n in names],
        attrs={"status": np.array([st["status"] for _, st in rows], dtype=object)},
    )


def starlink_pops_2026(statuses: str = "operational") -> Sites:
    """Starlink PoPs of the 2026-04-16 GeoIP PoP list, named by their code ("frntdeu1"; kind "pop").

    Source: clarkzjw/starlink-geoip PoP list (2026-04-16): code, city, country, position,
    facility. ``statuses="operational"`` keeps the 54 PoPs housed at a named internet facility
    (type "netfac"); "all" keeps every entry with a position and a code (66: community gateways,
    test and staging sites and planned PoPs too; the 6 without a position, cruise-ship gateways
    among them, are never kept, nor Salt Lake City's second facility, which has no code: the
    GeoIP records name one PoP there, ``sltyutx1``). ``group`` is the country; attrs ``pop_code``, ``city``, ``country``,
    ``pop_type``. Heights are not in the source (0 m).
    """
    where = "starlink_pops_2026"
    if statuses not in ("operational", "all"):
        raise InputError(f"statuses must be 'operational' or 'all', got {statuses!r}", where, "statuses")
    data, label = _json_package(_STARLINK_2026_DIR, "pops_2026-04-16.json")
    rows = [e for e in data if (e.get("lat") or e.get("lon")) and str(e.get("code") or "").strip()]
    if statuses == "operational":
        rows = [e for e in rows if e.get("type") == "netfac"]
    codes = [e["code"].strip().lower() for e in rows]
    return Sites(
        name=codes, kind=["pop"] * len(rows), lat_deg=[float(e["lat"]) for e in rows],
        lon_deg=[float(e["lon"]) for e in rows], elevation_m=np.zeros(len(rows)),
        group=[e["country"] for e in rows],
        attrs={"pop_code": np.array(codes, dtype=object), "city": np.array([e["city"] for e in rows], dtype=object),
               "country": np.array([e["country"] for e in rows], dtype=object),
               "pop_type": np.array([e.get("type") or "" for e in rows], dtype=object)},
    )


def builtin_sites(name: str, regions=None, statuses: str = "operational", antennas: str = "default",
                  location: str | None = None) -> Sites:
    """The built-in site set ``name`` with a scenario's options (``ground.builtin`` entries).

    ``regions`` applies to the 2023 sets, ``statuses`` to the gateway sets and the 2026 PoPs,
    ``antennas`` to ``starlink-gateways-2023``. An option a set does not take, when set away
    from its default, is an InputError (never ignored); so are an unknown region and an empty
    list of regions. ``location``: the scenario field of the entry (``ground.builtin[2]``), which
    the errors name (with no source: the scenario's loader adds its file and the line); by
    default ``ground.builtin (<name>)``.
    """
    where = location or f"ground.builtin ({name})"
    if name not in BUILTIN_SITE_SETS:
        raise InputError(f"unknown built-in site set {name!r}; known: {list(BUILTIN_SITE_SETS)}", location=where)
    takes = {
        "hypatia-top100": set(), "starlink-gateways-2023": {"regions", "statuses", "antennas"},
        "starlink-pops-2023": {"regions"}, "starlink-gateways-2026": {"statuses"},
        "starlink-pops-2026": {"statuses"},
    }[name]
    given = {"regions": regions is not None, "statuses": statuses != "operational", "antennas": antennas != "default"}
    extra = sorted(k for k, v in given.items() if v and k not in takes)
    if extra:
        raise InputError(f"the set {name!r} takes no option(s) {extra}", location=where)
    if regions is not None:
        regions = _check_regions(regions, None, f"{where}.regions")
    options = {"regions": regions, "statuses": statuses, "antennas": antennas}
    return BUILTIN_SITE_SETS[name][0](**{k: options[k] for k in sorted(takes)})


class UnresolvedEndpoint(NamedTuple):
    """A backbone endpoint that names no PoP."""

    endpoint: str  #: the text as written
    link_index: int  #: 0-based position of its link in the input list
    link: tuple[str, str]  #: the link as written


def resolve_backbone(
    links: Iterable[tuple[str, str]], pop_codes: Iterable[str]
) -> tuple[list[tuple[str, str]], list[UnresolvedEndpoint]]:
    """Map backbone link endpoints to PoP codes.

    An endpoint matches a PoP code when, after stripping spaces and a trailing "?" (the map's
    mark of an uncertain link) and upper-casing, it equals the code or one of its
    slash-separated aliases ("LHR" and "LON" both name "LON/LHR").

    Returns
    -------
    resolved : list of (code_a, code_b), full PoP codes, for the links whose two ends resolve.
    unresolved : every endpoint that matched no PoP; its link is left out of ``resolved``.
        Nothing is dropped silently: the caller reports these.
    """
    alias_to_code: dict[str, str] = {}
    for code in pop_codes:
        for alias in code.upper().split("/"):
            other = alias_to_code.setdefault(alias.strip(), code)
            if other != code:
                message = f"alias {alias!r} names two PoPs, {other!r} and {code!r}"
                raise InputError(message, location="pop_codes")
    resolved, unresolved = [], []
    for i, link in enumerate(links):
        ends = [alias_to_code.get(e.strip().rstrip("?").strip().upper()) for e in link]
        for end, code in zip(link, ends):
            if code is None:
                unresolved.append(UnresolvedEndpoint(end, i, tuple(link)))
        if None not in ends:
            resolved.append((ends[0], ends[1]))
    return resolved, unresolved


def starlink_backbone_2023() -> tuple[list[tuple[str, str]], list[UnresolvedEndpoint]]:
    """PoP-to-PoP backbone links of the unofficial community map of 2023-10-10.

    Returns ``(links, unresolved)`` as :func:`resolve_backbone`, against the codes of
    :func:`starlink_pops_2023`. With the shipped data two endpoints do not resolve: "Suava"
    (likely Suva, Fiji, which has a gateway but no PoP; link to SYD) and "HNL" (Honolulu, no
    PoP; link to LAX), so 39 of the 41 links remain.
    """
    text, label = _package_text(_STARLINK_DIR, "backbone.csv")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if rows[0] != ["pop_a", "pop_b"] or any(len(r) != 2 for r in rows[1:]):
        raise InputError("expected two columns pop_a, pop_b", label)
    return resolve_backbone([tuple(r) for r in rows[1:]], starlink_pops_2023().name)


def nearest_pop(gateways: Sites, pops: Sites) -> np.ndarray:
    """Index into ``pops`` of the PoP nearest each gateway by great-circle distance.

    Searches a k-d tree of unit vectors on the sphere: the chord between unit vectors grows
    with the great-circle angle, so the nearest by chord is the nearest on the mean sphere.

    Returns
    -------
    int64 array, shape (len(gateways),).
    """
    from scipy.spatial import cKDTree

    if len(pops) == 0 and len(gateways) > 0:
        raise InputError("no PoPs to attach the gateways to", location="pops")
    if len(gateways) == 0:
        return np.zeros(0, dtype=np.int64)

    def unit(s: Sites) -> np.ndarray:
        lat, lon = np.deg2rad(s.lat_deg), np.deg2rad(s.lon_deg)
        return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)

    _, index = cKDTree(unit(pops)).query(unit(gateways), k=1)
    return np.asarray(index, dtype=np.int64)


#: Site sets shipped with leonet, by the name scenarios and ``leonet presets`` use:
#: name -> (function returning Sites, one-line description).
BUILTIN_SITE_SETS = MappingProxyType({
    "hypatia-top100": (
        hypatia_top100_cities,
        "100 most populous cities as ground stations (Hypatia, IMC 2020)",
    ),
    "starlink-gateways-2023": (
        starlink_gateways_2023,
        "Starlink gateways seen live or built on 2023-10-10 (unofficial community map, approximate)",
    ),
    "starlink-pops-2023": (
        starlink_pops_2023,
        "23 Starlink PoPs on 2023-10-10 (unofficial community map, approximate)",
    ),
    "starlink-gateways-2026": (
        starlink_gateways_2026,
        "Starlink gateways of 2026-03-20, operational (community list; 'statuses: all' adds planned)",
    ),
    "starlink-pops-2026": (
        starlink_pops_2026,
        "Starlink PoPs of 2026-04-16 with their codes (GeoIP PoP list; 54 at internet facilities)",
    ),
})
