"""Home PoPs: the point of presence each dish is homed on, from Starlink's GeoIP feed.

Starlink assigns a dish's public addresses by place, and each subnet of a place is homed on one
PoP (its reverse-DNS name ``customer.<pop>.pop.starlinkisp.net``): Kyiv's subnets leave through
Frankfurt (frntdeu1), not through the PoP nearest the dish at the moment. leonet ships that
place -> PoP table (``leonet/data/geoip/``, see ``leonet/data/SOURCE.md``) and gives each dish:

1. a country: the one given, or the country of the nearest place in the table;
2. a city: the nearest place of the table in that country (great circle);
3. a home PoP: that place's PoP with the most subnets (ties: the alphabetically first code).

A place's subnets may be homed on several PoPs (Kyiv: Frankfurt 18 subnets, Madrid 6, London 3).
:func:`home_pop_shares` gives each place's whole split, the share of its subscribers on each PoP
(**assumption**: subscribers spread evenly over a place's subnets); a scenario can pin a dish
site's home PoP (``ground.sites[].home_pop``) to represent a place's minority PoPs too.

The choice is a pure function of the dish's position (and country), so it is sticky for a run and
the same in every chunk and worker.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError

PLACES_FILE = "home_pop_places_2024-08-06.csv"
POPS_FILE = "home_pop_pops.csv"
_PLACE_COLUMNS = ("country", "region", "city", "lat_deg", "lon_deg", "pop_code", "n_subnets")
_POP_COLUMNS = ("code", "city", "lat_deg", "lon_deg")


@dataclass(frozen=True)
class HomePopTable:
    """One row per place (country, city): its position and its home PoP.

    Arrays of shape (K,): ``country`` (ISO 3166 alpha-2), ``city``, ``lat_deg``, ``lon_deg``,
    ``pop_code`` (the place's PoP with the most subnets) and ``n_subnets`` (of that PoP there).
    ``pops`` maps every PoP code of the table to (city, lat_deg, lon_deg). ``source`` names the
    places file. ``splits`` (K,): each place's PoPs and their subnets, ((code, n_subnets), ...),
    most subnets first (ties: alphabetical).
    """

    country: np.ndarray
    city: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    pop_code: np.ndarray
    n_subnets: np.ndarray
    pops: dict
    source: str
    splits: tuple = ()


@dataclass(frozen=True)
class HomePops:
    """Each dish's home: arrays of shape (D,) (country, city, pop_code, distance_km to the city)."""

    country: np.ndarray
    city: np.ndarray
    pop_code: np.ndarray
    city_distance_km: np.ndarray
    place: np.ndarray = None  # (D,) int64 row of each dish's place in the table


def _rows(text: str, source: str, columns: tuple[str, ...]) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"missing column(s) {missing}; expected {list(columns)}", source, "line 1")
    out = []
    for row in reader:
        if None in row or any(row[c] is None for c in columns):
            raise InputError("row has the wrong number of cells", source, f"line {reader.line_num}")
        if any(v.strip() for v in row.values() if isinstance(v, str)):
            out.append((reader.line_num, row))
    return out


def _number(row: dict, column: str, source: str, line: int, low: float, high: float) -> float:
    try:
        value = float(row[column])
    except ValueError:
        raise InputError(f"{column} is not a number: {row[column]!r}", source, f"line {line}, {column}") from None
    if not low <= value <= high:
        raise InputError(f"{column} = {value} is outside [{low}, {high}]", source, f"line {line}, {column}")
    return value


def parse_home_pop_table(places_text: str, places_source: str, pops_text: str, pops_source: str) -> HomePopTable:
    """Validate and reduce a place -> PoP table (see :func:`read_home_pop_table`)."""
    pops: dict[str, tuple[str, float, float]] = {}
    for line, row in _rows(pops_text, pops_source, _POP_COLUMNS):
        code = row["code"].strip()
        if not code:
            raise InputError("empty PoP code", pops_source, f"line {line}, code")
        if code in pops:
            raise InputError(f"PoP code {code!r} appears twice", pops_source, f"line {line}, code")
        pops[code] = (row["city"].strip(), _number(row, "lat_deg", pops_source, line, -90, 90),
                      _number(row, "lon_deg", pops_source, line, -180, 180))
    best: dict[tuple[str, str], tuple[int, str, float, float]] = {}
    split: dict[tuple[str, str], dict[str, int]] = {}
    for line, row in _rows(places_text, places_source, _PLACE_COLUMNS):
        country, city, code = row["country"].strip().upper(), row["city"].strip(), row["pop_code"].strip()
        if len(country) != 2 or not country.isalpha():
            raise InputError(f"country must be an ISO 3166 alpha-2 code, got {row['country']!r}",
                             places_source, f"line {line}, country")
        if not city:
            raise InputError("empty city", places_source, f"line {line}, city")
        if code not in pops:
            raise InputError(f"unknown PoP {code!r} (not in {pops_source})", places_source, f"line {line}, pop_code")
        lat = _number(row, "lat_deg", places_source, line, -90, 90)
        lon = _number(row, "lon_deg", places_source, line, -180, 180)
        n = _number(row, "n_subnets", places_source, line, 1, 1e9)
        if n != int(n):
            raise InputError(f"n_subnets must be a whole number, got {row['n_subnets']!r}",
                             places_source, f"line {line}, n_subnets")
        key = (country, city)
        old = best.get(key)
        if old is not None and (old[2], old[3]) != (lat, lon):
            raise InputError(f"{city}, {country} is placed at two positions", places_source, f"line {line}, lat_deg")
        if code in split.get(key, {}):
            raise InputError(f"{city}, {country} lists PoP {code!r} twice", places_source, f"line {line}, pop_code")
        split.setdefault(key, {})[code] = int(n)
        # most subnets wins; ties go to the alphabetically first code (deterministic)
        if old is None or int(n) > old[0] or (int(n) == old[0] and code < old[1]):
            best[key] = (int(n), code, lat, lon)
    if not best:
        raise InputError("the place table has no rows", places_source)
    keys = sorted(best)
    return HomePopTable(
        country=np.array([k[0] for k in keys], dtype=object), city=np.array([k[1] for k in keys], dtype=object),
        lat_deg=np.array([best[k][2] for k in keys]), lon_deg=np.array([best[k][3] for k in keys]),
        pop_code=np.array([best[k][1] for k in keys], dtype=object),
        n_subnets=np.array([best[k][0] for k in keys], dtype=np.int64), pops=pops, source=places_source,
        splits=tuple(tuple(sorted(split[k].items(), key=lambda cn: (-cn[1], cn[0]))) for k in keys),
    )


def read_home_pop_table(places_path: str | Path | None = None, pops_path: str | Path | None = None) -> HomePopTable:
    """Read a place -> PoP table; with no paths, the one shipped with leonet (geofeed 2024-08-06).

    Places file columns: ``country`` (ISO alpha-2), ``region``, ``city``, ``lat_deg``,
    ``lon_deg``, ``pop_code``, ``n_subnets`` (one row per place and PoP). PoPs file columns:
    ``code``, ``city``, ``lat_deg``, ``lon_deg``. A place naming a PoP that the PoPs file lacks
    is an :class:`InputError` naming the file, line and field.
    """
    if places_path is None and pops_path is None:
        return _shipped_table()
    from ..textfiles import read_text

    if places_path is None or pops_path is None:
        raise InputError("give both the places file and the PoPs file, or neither", location="home_pop")
    return parse_home_pop_table(read_text(places_path, ", ".join(_PLACE_COLUMNS)), str(places_path),
                                read_text(pops_path, ", ".join(_POP_COLUMNS)), str(pops_path))


@lru_cache(maxsize=1)
def _shipped_table() -> HomePopTable:
    from importlib.resources import files

    base = files("leonet").joinpath("data", "geoip")
    return parse_home_pop_table(
        base.joinpath(PLACES_FILE).read_text(encoding="utf-8"), f"leonet/data/geoip/{PLACES_FILE}",
        base.joinpath(POPS_FILE).read_text(encoding="utf-8"), f"leonet/data/geoip/{POPS_FILE}",
    )


def _unit(lat_deg, lon_deg) -> np.ndarray:
    lat, lon = np.deg2rad(np.asarray(lat_deg, dtype=float)), np.deg2rad(np.asarray(lon_deg, dtype=float))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def home_pops(lat_deg, lon_deg, country=None, table: HomePopTable | None = None) -> HomePops:
    """Home PoP of each dish (a pure function of its place, so sticky for the run).

    Parameters
    ----------
    lat_deg, lon_deg : (D,) dish positions, degrees.
    country : None (each dish's country is that of the nearest place in the table), one ISO
        alpha-2 code for all dishes, or a (D,) array of codes.
    table : the place -> PoP table; None for the shipped one.

    Returns
    -------
    :class:`HomePops` with (D,) arrays. A country the table does not list is an InputError.
    """
    from scipy.spatial import cKDTree

    table = table or _shipped_table()
    lat, lon = np.atleast_1d(np.asarray(lat_deg, dtype=float)), np.atleast_1d(np.asarray(lon_deg, dtype=float))
    if lat.shape != lon.shape or lat.ndim != 1:
        raise InputError("lat_deg and lon_deg must be 1-D arrays of the same length", location="home_pops")
    n = lat.size
    xyz = _unit(lat, lon)
    places_xyz = _unit(table.lat_deg, table.lon_deg)
    if country is None:
        _, nearest = cKDTree(places_xyz).query(xyz, k=1)
        dish_country = table.country[np.asarray(nearest, dtype=np.int64)] if n else np.zeros(0, dtype=object)
    else:
        given = np.asarray(country, dtype=object)
        dish_country = np.full(n, str(country).upper(), dtype=object) if given.ndim == 0 else given.astype(str)
        dish_country = np.array([c.upper() for c in dish_country], dtype=object)
        if dish_country.shape != (n,):
            raise InputError(f"country must be one code or {n} codes, got {dish_country.shape}", location="country")
        unknown = sorted(set(dish_country) - set(table.country))
        if unknown:
            raise InputError(f"country code(s) {unknown} not in the place -> PoP table", table.source, "country")
    place = np.zeros(n, dtype=np.int64)
    chord = np.zeros(n)
    for c in np.unique(dish_country):  # a loop over countries (at most ~120), not dishes
        rows = np.flatnonzero(table.country == c)
        mine = np.flatnonzero(dish_country == c)
        d, k = cKDTree(places_xyz[rows]).query(xyz[mine], k=1)
        place[mine], chord[mine] = rows[np.asarray(k, dtype=np.int64)], d
    distance_km = 2.0 * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0)) * 6371.0088
    return HomePops(country=dish_country.astype(object), city=table.city[place], pop_code=table.pop_code[place],
                    city_distance_km=distance_km, place=place)


def home_pop_shares(lat_deg, lon_deg, country=None, table: HomePopTable | None = None) -> list[tuple[tuple[str, float], ...]]:
    """Each dish's place's whole PoP split: per dish, ((code, share), ...) with the shares of the
    place's subnets homed on each PoP (summing to 1), most first; the first is :func:`home_pops`'s
    home PoP. Arguments as :func:`home_pops`. **Assumption**: a place's subscribers are spread
    evenly over its subnets, so a PoP's share of subnets is its share of subscribers."""
    table = table or _shipped_table()
    home = home_pops(lat_deg, lon_deg, country=country, table=table)
    out = []
    for k in home.place:
        split = table.splits[int(k)]
        total = float(sum(n for _, n in split))
        out.append(tuple((code, n / total) for code, n in split))
    return out


def match_pops(home_codes, pop_codes) -> np.ndarray:
    """Index into ``pop_codes`` (the PoP sites' codes) of each home PoP code; -1 where absent.

    PoP sites may list several "/"-separated aliases ("sttlwax1/sttlwax9"); codes compare
    lower-case. Returns int64 (D,).
    """
    lookup: dict[str, int] = {}
    for k, code in enumerate(pop_codes):
        for alias in str(code).lower().split("/"):
            lookup.setdefault(alias.strip(), k)
    return np.array([lookup.get(str(c).lower(), -1) for c in home_codes], dtype=np.int64)


def home_pops_of_sites(sites, country=None, table: HomePopTable | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Home PoP of every dish of a scenario's sites, as a PoP number of those sites.

    Parameters
    ----------
    sites : :class:`~leonet.ground.sites.Sites` with dishes and PoPs (PoPs need a code, see
        :func:`leonet.ground.builtin.pop_codes_of`).
    country : as :func:`home_pops` (None: from the nearest place).

    Returns
    -------
    pop_number : int64 (D,), the home PoP's number among the sites' PoPs (0..P-1, in site
        order), -1 where the scenario lacks that PoP.
    code : object (D,), the home PoP's code.
    missing : the codes wanted but absent from the scenario's PoPs (sorted): the caller reports
        them; nothing is re-homed silently.
    """
    from .builtin import pop_codes_of

    kind = np.asarray(sites.kind)
    dish, pop = np.flatnonzero(kind == "dish"), np.flatnonzero(kind == "pop")
    home = home_pops(sites.lat_deg[dish], sites.lon_deg[dish], country=country, table=table)
    codes = pop_codes_of(sites.take(pop)) if len(pop) else np.zeros(0, dtype=object)
    number = match_pops(home.pop_code, codes)
    missing = sorted(set(home.pop_code[number < 0].tolist()))
    return number, home.pop_code, missing
