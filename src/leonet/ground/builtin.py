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

#: The regions of the 2023 community map, as its gateways.csv spells them.
STARLINK_REGIONS = ("North America", "South America", "Europe", "Africa", "APAC")

#: Gateway statuses counted as operational on 2023-10-10: seen live or built. Everything else
#: on the map (Construction, Possible Construction, Grant of Authority, Unknown and the various
#: "Not built as of ...") is a licence or a plan, not a working gateway.
OPERATIONAL_GATEWAY_STATUSES = frozenset(
    {"Live", "Presumed Live", "Built", "Built | STA", "Built | Ka Grant"}
)

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


def _region_mask(group: np.ndarray, regions, where: str) -> np.ndarray:
    if regions is None:
        return np.ones(group.size, dtype=bool)
    wanted = [regions] if isinstance(regions, str) else list(regions)
    unknown = [r for r in wanted if r not in STARLINK_REGIONS]
    if unknown:
        from ..errors import did_you_mean

        hint = did_you_mean(unknown[0], STARLINK_REGIONS)
        message = f"unknown region(s) {unknown}{hint}; expected some of {list(STARLINK_REGIONS)}"
        raise InputError(message, where, "regions")
    return np.isin(group.astype(str), wanted)


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


def starlink_gateways_2023(regions=None, statuses: str = "operational") -> Sites:
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
        Built | Ka Grant); "all" keeps every gateway row, planned ones included.

    Returns
    -------
    Sites with ``group`` = region and ``attrs`` ``status``, ``site_type`` and ``notes`` (text).
    """
    where = "starlink_gateways_2023"
    if statuses not in ("operational", "all"):
        raise InputError(f"statuses must be 'operational' or 'all', got {statuses!r}", where, "statuses")
    sites = _starlink_gateways_all()
    keep = (sites.attrs["site_type"] == "gateway") & _region_mask(sites.group, regions, where)
    if statuses == "operational":
        keep &= np.isin(sites.attrs["status"].astype(str), sorted(OPERATIONAL_GATEWAY_STATUSES))
    return sites.take(keep)


def starlink_pops_2023(regions=None) -> Sites:
    """The 23 Starlink points of presence on the unofficial community map of 2023-10-10.

    Source as :func:`starlink_gateways_2023` (approximate, unofficial). Each PoP's ``name`` is
    its code as the map writes it ("LON/LHR"), ``group`` its region from
    :data:`STARLINK_POP_CITY_REGION`, and ``attrs`` hold ``code``, ``city``, ``clli`` (the
    facility code that the map gives as the PoP's name) and ``peering`` (internet exchanges).
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
})
