"""Who provides each place's ground internet: a small table of (city, provider, share of users).

Provider-level events (an ISP hacked, a provider's core reset) hit the users of that provider in
the cities where it operates, so the ground model must know providers by place. The table is a
CSV with columns ``country, city, lat_deg, lon_deg, provider, share``; shares of one city sum to
at most 1 (the rest are users without ground internet). A site belongs to the nearest city of
the table within :data:`CITY_RADIUS_M`; a site farther from every city has no listed provider
(an ISP event does not reach it).

The shipped table ``providers_ua_2022.csv`` covers Ukrainian cities of the 2022 record. Its
shares are ASSUMPTIONS (no per-city market shares are published for 2022); what is on the record
is where each provider operated (Triolan: Kyiv, Kharkiv, Dnipro, Poltava, Odesa, Rivne,
Zaporizhzhia; REFERENCE.md, "Ukraine 2022 on the record"). See ``leonet/data/SOURCE.md``.
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..ground.geodesy import great_circle_distance_m

#: A site within this distance of a table city is that city's (metres).
CITY_RADIUS_M = 40_000.0
BUILTIN = {"builtin-ua-2022": "providers_ua_2022.csv"}
_COLUMNS = ("country", "city", "lat_deg", "lon_deg", "provider", "share")
_MAX_ROWS = 100_000


@dataclass(frozen=True)
class ProviderTable:
    """Shares of users per (city, provider).

    cities : (C,) city names; lat_deg, lon_deg : (C,); providers : (P,) provider names;
    share : (C, P) share of the city's users on each provider (0..1, rows sum to <= 1).
    """

    source: str
    cities: tuple[str, ...]
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    providers: tuple[str, ...]
    share: np.ndarray

    def city_of_sites(self, lat_deg, lon_deg) -> np.ndarray:
        """(S,) index of each site's city (nearest within CITY_RADIUS_M), -1 where none."""
        lat = np.asarray(lat_deg, dtype=np.float64)
        lon = np.asarray(lon_deg, dtype=np.float64)
        if len(self.cities) == 0 or lat.size == 0:
            return np.full(lat.shape, -1, dtype=np.int64)
        d = great_circle_distance_m(lat[:, None], lon[:, None], self.lat_deg[None, :], self.lon_deg[None, :])
        nearest = np.argmin(d, axis=1)
        return np.where(d[np.arange(len(lat)), nearest] <= CITY_RADIUS_M, nearest, -1).astype(np.int64)

    def provider_index(self, names, location: str) -> np.ndarray:
        """Indices of provider names; unknown names raise InputError with suggestions."""
        return self._index(names, self.providers, "provider", location)

    def city_index(self, names, location: str) -> np.ndarray:
        """Indices of city names; unknown names raise InputError with suggestions."""
        return self._index(names, self.cities, "city", location)

    def _index(self, names, known: tuple[str, ...], what: str, location: str) -> np.ndarray:
        out = []
        for name in names:
            if name not in known:
                hint = difflib.get_close_matches(name, known, n=3)
                did = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
                raise InputError(f"unknown {what} {name!r} in {self.source}{did} ({what} names: {', '.join(known[:30])})",
                                 location=location)
            out.append(known.index(name))
        return np.array(out, dtype=np.int64)


def _parse(text: str, source: str) -> ProviderTable:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != _COLUMNS:
        raise InputError(f"the header must be {','.join(_COLUMNS)}", source=source, location="line 1")
    cities: dict[str, tuple[float, float]] = {}
    rows: list[tuple[str, str, float]] = []
    seen: dict[tuple[str, str], int] = {}       # (city, provider) -> its line
    spelling: dict[str, str] = {}               # provider in lower case -> as first written
    for line_no, row in enumerate(reader, start=2):
        if line_no > _MAX_ROWS:
            raise InputError(f"more than {_MAX_ROWS:,} rows", source=source)
        if not row or all(not c.strip() for c in row):
            continue
        where = f"line {line_no}"
        if len(row) != len(_COLUMNS):
            raise InputError(f"expected {len(_COLUMNS)} fields, got {len(row)}", source=source, location=where)
        _, city, lat, lon, provider, share = (c.strip() for c in row)
        try:
            lat_f, lon_f, share_f = float(lat), float(lon), float(share)
        except ValueError:
            raise InputError("lat_deg, lon_deg and share must be numbers", source=source, location=where) from None
        if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
            raise InputError(f"({lat[:20]}, {lon[:20]}) is not a valid lat/lon", source=source, location=where)
        if not (0 <= share_f <= 1):
            raise InputError(f"share must be within 0..1, got {share[:20]}", source=source, location=where)
        if not city or not provider:
            raise InputError("city and provider must not be empty", source=source, location=where)
        if city in cities and cities[city] != (lat_f, lon_f):
            raise InputError(f"city {city!r} is given two positions", source=source, location=where)
        cities[city] = (lat_f, lon_f)
        # an event names a provider as written: two spellings would split its customers silently
        first = spelling.setdefault(provider.lower(), provider)
        if first != provider:
            raise InputError(f"provider {provider!r} is also written {first!r}; write it one way", source=source,
                             location=where)
        if (city, provider) in seen:
            raise InputError(f"{provider!r} in {city!r} is already given on line {seen[city, provider]}; give one share",
                             source=source, location=where)
        seen[city, provider] = line_no
        rows.append((city, provider, share_f))
    names = tuple(cities)
    providers = tuple(dict.fromkeys(p for _, p, _ in rows))
    share = np.zeros((len(names), len(providers)))
    for city, provider, s in rows:
        share[names.index(city), providers.index(provider)] += s
    over = np.flatnonzero(share.sum(axis=1) > 1 + 1e-9)
    if len(over):
        raise InputError(f"the shares of {names[over[0]]!r} add up to {share[over[0]].sum():.3g} (> 1)", source=source)
    lat = np.array([cities[c][0] for c in names])
    lon = np.array([cities[c][1] for c in names])
    return ProviderTable(source, names, lat, lon, providers, share)


def load_providers(spec: str, base_dir: str | Path = ".") -> ProviderTable:
    """A built-in table (``builtin-ua-2022``) or a CSV file path."""
    if spec in BUILTIN:
        text = (resources.files("leonet") / "data" / BUILTIN[spec]).read_text(encoding="utf-8")
        return _parse(text, f"leonet/data/{BUILTIN[spec]}")
    from ..textfiles import read_text

    path = Path(spec).expanduser()
    path = path if path.is_absolute() else Path(base_dir) / path
    return _parse(read_text(path, expected=",".join(_COLUMNS)), str(path))
