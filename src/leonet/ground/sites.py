"""Ground sites as columns: user dishes, gateways, points of presence (PoPs) and stations.

Every source of sites (a user's CSV, the curated sets shipped in :mod:`leonet.data`, dishes
scattered around a district centre) ends up as one :class:`Sites`, so the network code sees one
shape: arrays of length n, positions as ``(n, 3)`` ECEF metres.

Heights: ``elevation_m`` is used as the height above the WGS84 ellipsoid. Elevations above sea
level differ from it by the geoid undulation (within about +-100 m), i.e. well under a
microsecond of light time, so no geoid model is applied.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping, NamedTuple

import numpy as np

from ..errors import InputError
from ..space.frames import geodetic_to_ecef
from .geodesy import MEAN_EARTH_RADIUS_M, destination_point

#: The kinds of site leonet knows. "station" is a generic endpoint (e.g. a city in Hypatia's
#: city-to-city study) that is neither a user dish nor part of the operator's ground segment.
KINDS = ("dish", "gateway", "pop", "station")

#: Plausible range of site heights, metres: the Dead Sea shore (-430 m) to Everest (8,849 m).
#: Anything outside is almost surely a unit mistake (feet, or a position in km or m of orbit).
ELEVATION_LIMITS_M = (-500.0, 9000.0)

_CORE_FIELDS = ("name", "kind", "lat_deg", "lon_deg", "elevation_m", "group")
_EXPECTED_COLUMNS = "name, lat_deg, lon_deg, [elevation_m], [kind], [group] ([...] optional)"


def _frozen(values, dtype) -> np.ndarray:
    """A read-only 1-D copy, so that cached derived arrays (ECEF) can never go stale."""
    arr = np.array(values, dtype=dtype, copy=True).reshape(-1)
    arr.setflags(write=False)
    return arr


def _text_column(values, n: int, field_name: str) -> np.ndarray:
    arr = _frozen(values, object)
    if arr.shape != (n,):
        raise InputError(f"has {arr.size} entries, expected {n} (one per site)", "Sites", field_name)
    not_str = [v for v in arr if not isinstance(v, str)]
    if not_str:
        bad = not_str[0]
        raise InputError(f"must hold str, found {type(bad).__name__} {bad!r}", "Sites", field_name)
    return arr


@dataclass(frozen=True, eq=False)
class Sites:
    """Columns of ground sites; every array has shape (n,) and is read-only.

    Attributes
    ----------
    name : object array of str, unique. For PoPs, the PoP code ("LON/LHR").
    kind : object array of str, each one of :data:`KINDS`.
    lat_deg, lon_deg : float64, WGS84 geodetic latitude in [-90, 90] and longitude in
        [-180, 180], degrees.
    elevation_m : float64, height above the WGS84 ellipsoid, metres (see the module note).
    group : object array of str, a free grouping such as a district or region; "" for none.
    attrs : read-only mapping of extra columns, each an array of shape (n,) (e.g. a gateway's
        ``status``, a PoP's ``code``).
    """

    name: np.ndarray
    kind: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    elevation_m: np.ndarray
    group: np.ndarray = field(default=None)  # type: ignore[assignment]
    attrs: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        n = np.asarray(self.name, dtype=object).reshape(-1).size
        set_(self, "name", _text_column(self.name, n, "name"))
        set_(self, "kind", _text_column(self.kind, n, "kind"))
        set_(self, "group", _text_column([""] * n if self.group is None else self.group, n, "group"))
        for f in ("lat_deg", "lon_deg", "elevation_m"):
            arr = _frozen(getattr(self, f), np.float64)
            if arr.shape != (n,):
                raise InputError(f"has {arr.size} entries, expected {n} (one per site)", "Sites", f)
            set_(self, f, arr)
        attrs = {}
        for key, values in dict(self.attrs).items():
            if key in _CORE_FIELDS:
                raise InputError(f"extra column {key!r} clashes with a core column", "Sites", "attrs")
            arr = np.asarray(values)
            # Text columns stay Python str objects, so that to_table gives plain strings.
            arr = _frozen(arr, object if arr.dtype.kind in "OUS" else arr.dtype)
            if arr.shape != (n,):
                raise InputError(
                    f"has {arr.size} entries, expected {n} (one per site)", "Sites", f"attrs.{key}"
                )
            attrs[key] = arr
        set_(self, "attrs", MappingProxyType(attrs))
        self._validate()

    def __reduce__(self):
        # Pickled for worker processes: the read-only attrs mapping travels as a plain dict.
        return (Sites, (self.name, self.kind, self.lat_deg, self.lon_deg, self.elevation_m,
                        self.group, dict(self.attrs)))

    def _validate(self) -> None:
        bad_kind = sorted(set(self.kind) - set(KINDS))
        if bad_kind:
            raise InputError(f"unknown kind(s) {bad_kind}; expected one of {list(KINDS)}", "Sites", "kind")
        for f, limit in (("lat_deg", 90.0), ("lon_deg", 180.0)):
            values = getattr(self, f)
            bad = np.flatnonzero(~(np.abs(values) <= limit))  # also catches NaN
            if bad.size:
                i = bad[0]
                raise InputError(
                    f"site {self.name[i]!r} has {f} {float(values[i]):g}, outside [-{limit:g}, {limit:g}]",
                    "Sites", f,
                )
        if not np.all(np.isfinite(self.elevation_m)):
            i = np.flatnonzero(~np.isfinite(self.elevation_m))[0]
            raise InputError(f"site {self.name[i]!r} has a non-finite elevation_m", "Sites", "elevation_m")
        if len(set(self.name)) != len(self.name):
            names, counts = np.unique(self.name.astype(str), return_counts=True)
            dup = names[counts > 1]
            raise InputError(
                f"site names must be unique; {dup.size} repeated, e.g. {[str(x) for x in dup[:5]]}",
                "Sites", "name",
            )

    def __len__(self) -> int:
        return self.name.size

    @cached_property
    def ecef_m(self) -> np.ndarray:
        """Earth-fixed (WGS84 ECEF) positions, float64 (n, 3) metres; computed once, read-only."""
        r = geodetic_to_ecef(self.lat_deg, self.lon_deg, self.elevation_m).reshape(-1, 3)
        r.setflags(write=False)
        return r

    @cached_property
    def _index_by_name(self) -> dict[str, int]:
        return dict(zip(self.name, range(len(self))))

    def index_of(self, names: str | Iterable[str]) -> np.ndarray:
        """Row indices (int64, shape (k,)) of the given site names, in the order given.

        Raises :class:`InputError` listing every name that is not a site here.
        """
        wanted = [names] if isinstance(names, str) else list(names)
        lookup = self._index_by_name
        unknown = [w for w in wanted if w not in lookup]
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            raise InputError(
                f"unknown site name(s): {shown}{more} ({len(unknown)} of {len(wanted)} not among "
                f"the {len(self)} sites)",
                location="names",
            )
        return np.fromiter((lookup[w] for w in wanted), dtype=np.int64, count=len(wanted))

    def take(self, index) -> "Sites":
        """A subset (or reordering) of the sites by integer index or boolean mask (no repeats)."""
        index = np.asarray(index)
        out = Sites(
            name=self.name[index], kind=self.kind[index], lat_deg=self.lat_deg[index],
            lon_deg=self.lon_deg[index], elevation_m=self.elevation_m[index],
            group=self.group[index], attrs={k: v[index] for k, v in self.attrs.items()},
        )
        if "ecef_m" in self.__dict__:  # reuse the cached positions rather than recompute them
            r = self.ecef_m[index]
            r.setflags(write=False)
            out.__dict__["ecef_m"] = r
        return out

    @staticmethod
    def empty() -> "Sites":
        """A set of no sites."""
        e = np.zeros(0)
        return Sites(name=np.zeros(0, object), kind=np.zeros(0, object), lat_deg=e, lon_deg=e, elevation_m=e)

    @staticmethod
    def concatenate(parts: list["Sites"]) -> "Sites":
        """Join site sets in order; names must stay unique across all parts.

        ``attrs`` is the union of the parts' extra columns; a column missing from a part is
        filled with None (a null in :meth:`to_table`) for that part's rows, never dropped.
        """
        parts = list(parts)
        if not parts:
            return Sites.empty()
        keys = list(dict.fromkeys(k for p in parts for k in p.attrs))
        attrs = {
            k: np.concatenate([p.attrs[k] if k in p.attrs else np.full(len(p), None, object) for p in parts])
            for k in keys
        }
        core = {f: np.concatenate([getattr(p, f) for p in parts]) for f in _CORE_FIELDS}
        return Sites(**core, attrs=attrs)

    def to_table(self):
        """The sites as a ``pyarrow.Table``: the core columns, then the ``attrs`` columns."""
        import pyarrow as pa

        cols = {f: pa.array(list(getattr(self, f)), pa.string()) for f in ("name", "kind")}
        cols.update({f: pa.array(getattr(self, f)) for f in ("lat_deg", "lon_deg", "elevation_m")})
        cols["group"] = pa.array(list(self.group), pa.string())
        for k, v in self.attrs.items():
            cols[k] = pa.array(list(v) if v.dtype == object else v)
        return pa.table(cols)


# --------------------------------------------------------------------------------------------
# CSV input


def read_sites_csv(path, default_kind: str | None = None) -> Sites:
    """Read sites from a CSV file with a header line.

    Columns: ``name``, ``lat_deg``, ``lon_deg`` (required); ``elevation_m`` (optional, metres
    above the ellipsoid, 0 when the column is absent); ``kind`` (one of :data:`KINDS`; optional
    when ``default_kind`` is given, which then applies to every row); ``group`` (optional).
    Any other column is kept as text in ``attrs``. Blank lines are skipped. A cell that is
    present must be valid: there is no per-cell default.

    Raises :class:`InputError` naming the file, the line (1-based, the header being line 1) and
    the column for: a missing file, an empty or binary file, missing columns, rows of the wrong
    width, values that are not numbers, latitudes, longitudes or elevations out of range,
    unknown kinds and repeated names.
    """
    source = str(path)
    if default_kind is not None and default_kind not in KINDS:
        raise InputError(f"default_kind {default_kind!r} is not one of {list(KINDS)}", source)
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", source)
    if not p.is_file():
        raise InputError("is not a regular file (a directory?); expected a CSV file", source)
    return parse_sites_csv_text(_decode_text(p.read_bytes(), source), source, default_kind)


def _decode_text(data: bytes, source: str) -> str:
    nul = data.find(b"\x00", 0, 8192)
    if nul >= 0:
        raise InputError(f"looks like a binary file (NUL byte at offset {nul}), not CSV text", source)
    try:
        return data.decode("utf-8-sig")  # tolerate the BOM that spreadsheet exports write
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(
            f"is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); save it as UTF-8 CSV",
            source, f"line {line}",
        ) from None


def parse_sites_csv_text(text: str, source: str, default_kind: str | None = None) -> Sites:
    """Parse the text of a sites CSV (see :func:`read_sites_csv`); ``source`` names it in errors."""
    if not text.strip():
        raise InputError(f"file is empty; expected a header line with columns {_EXPECTED_COLUMNS}", source)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    line_of_row: list[int] = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                line_of_row.append(reader.line_num)
    except csv.Error as e:
        raise InputError(f"malformed CSV: {e}", source, f"line {reader.line_num}") from None

    header = [h.strip() for h in rows[0]]
    header_loc = f"line {line_of_row[0]} (header)"
    if "" in header:
        raise InputError(
            f"column {header.index('') + 1} of the header has no name (a trailing comma?)", source, header_loc
        )
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise InputError(f"column(s) {repeated} appear more than once", source, header_loc)
    required = ["name", "lat_deg", "lon_deg"] + (["kind"] if default_kind is None else [])
    missing = [c for c in required if c not in header]
    if missing:
        hint = " (or pass a default kind)" if missing == ["kind"] else ""
        raise InputError(
            f"missing column(s) {missing}{hint}; expected columns {_EXPECTED_COLUMNS}; found {header}",
            source, header_loc,
        )
    body, lines = rows[1:], np.asarray(line_of_row[1:])
    if not body:
        raise InputError("has a header but no data rows; expected at least one site", source)
    widths = np.fromiter(map(len, body), dtype=np.int64, count=len(body))
    bad = np.flatnonzero(widths != len(header))
    if bad.size:
        i = bad[0]
        raise InputError(f"has {widths[i]} fields, the header has {len(header)}", source, f"line {lines[i]}")

    cells = {h: np.char.strip(np.array(col, dtype=str)) for h, col in zip(header, zip(*body))}
    at = _Locator(source, lines)
    name = cells["name"]
    at.first_bad(name == "", "name", "name is empty")
    lat = _float_column(cells, "lat_deg", at)
    lon = _float_column(cells, "lon_deg", at)
    _check_lat_lon(lat, lon, at)
    elevation = _float_column(cells, "elevation_m", at) if "elevation_m" in cells else np.zeros(len(body))
    lo, hi = ELEVATION_LIMITS_M
    i = at.first_index(~((elevation >= lo) & (elevation <= hi)))
    if i is not None:
        message = f"elevation_m {elevation[i]:g} is outside [{lo:g}, {hi:g}] m; is it in feet or km?"
        at.fail(i, "elevation_m", message)
    if "kind" in cells:
        kind = cells["kind"]
        i = at.first_index(~np.isin(kind, KINDS))
        if i is not None:
            at.fail(i, "kind", f"unknown kind {str(kind[i])!r}; expected one of {list(KINDS)}")
    else:
        kind = np.full(len(body), default_kind, dtype=object)
    _check_unique_names(name, at)

    extra = {h: v.astype(object) for h, v in cells.items() if h not in _CORE_FIELDS}
    return Sites(
        name=name.astype(object), kind=np.asarray(kind, dtype=object), lat_deg=lat, lon_deg=lon,
        elevation_m=elevation, group=cells["group"].astype(object) if "group" in cells else None,
        attrs=extra,
    )


class _Locator:
    """Turns a row index into an error naming the file, the line and the column."""

    def __init__(self, source: str, lines: np.ndarray):
        self.source, self.lines = source, lines

    @staticmethod
    def first_index(mask: np.ndarray) -> int | None:
        bad = np.flatnonzero(mask)
        return int(bad[0]) if bad.size else None

    def fail(self, i: int, column: str, message: str, count: int = 1):
        more = f" ({count - 1} more row(s) with this problem)" if count > 1 else ""
        raise InputError(message + more, self.source, f"line {self.lines[i]}, column {column}")

    def first_bad(self, mask: np.ndarray, column: str, message: str) -> None:
        bad = np.flatnonzero(mask)
        if bad.size:
            self.fail(int(bad[0]), column, message, bad.size)


def _float_column(cells: dict[str, np.ndarray], column: str, at: _Locator) -> np.ndarray:
    text = cells[column]
    try:
        values = text.astype(np.float64)
    except ValueError:
        # Only on failure: find the first offending cell to name its line.
        for i, cell in enumerate(text):
            try:
                np.asarray(cell).astype(np.float64)
            except ValueError:
                at.fail(i, column, f"{column} {str(cell)!r} is not a number")
        raise  # unreachable: the same parser failed on the whole column
    at.first_bad(~np.isfinite(values), column, f"{column} must be a finite number")
    return values


def _check_lat_lon(lat: np.ndarray, lon: np.ndarray, at: _Locator) -> None:
    i = at.first_index(np.abs(lat) > 90.0)
    if i is not None:
        hint = "; are lat_deg and lon_deg swapped?" if abs(lon[i]) <= 90.0 else ""
        at.fail(i, "lat_deg", f"lat_deg {lat[i]:g} is outside [-90, 90]{hint}")
    i = at.first_index(np.abs(lon) > 180.0)
    if i is not None:
        hint = ""
        if lon[i] <= 360.0:
            hint = "; longitudes in [0, 360) must be given as [-180, 180] (subtract 360)"
        at.fail(i, "lon_deg", f"lon_deg {lon[i]:g} is outside [-180, 180]{hint}")


def _check_unique_names(name: np.ndarray, at: _Locator) -> None:
    order = np.argsort(name, kind="stable")
    sorted_names = name[order]
    repeat = np.flatnonzero(sorted_names[1:] == sorted_names[:-1])
    if repeat.size:
        first, second = order[repeat[0]], order[repeat[0] + 1]
        at.fail(
            int(second), "name",
            f"name {str(name[second])!r} repeats the name on line {at.lines[first]}; names must be unique",
        )


# --------------------------------------------------------------------------------------------
# Dishes


def dishes_around(
    center_lat_deg: float,
    center_lon_deg: float,
    count: int,
    radius_m: float,
    seed: int,
    name_prefix: str = "dish-",
    group: str = "",
) -> Sites:
    """``count`` user dishes scattered uniformly by area over a disc around a centre.

    The disc is the spherical cap of great-circle radius ``radius_m`` on the mean sphere
    (:data:`~leonet.ground.geodesy.MEAN_EARTH_RADIUS_M`); the dishes are placed at those
    latitudes and longitudes on the WGS84 ellipsoid surface (elevation 0 m). Distance from the
    centre is ``2 R asin(sqrt(u) sin(radius / 2R))`` for uniform ``u``: the exact area-uniform
    rule on the sphere, which is ``radius * sqrt(u)`` to within 1e-4 for radii below 100 km.

    Parameters
    ----------
    center_lat_deg, center_lon_deg : degrees.
    count : number of dishes, >= 0.
    radius_m : metres, in [0, pi R]; 0 puts every dish at the centre.
    seed : int; the same seed gives the same dishes (numpy ``Generator``, PCG64).
    name_prefix : names are ``name_prefix`` + a zero-padded index ("dish-0007").
    group : the group of every dish (e.g. the district name).

    Returns
    -------
    Sites of kind "dish", length ``count``.
    """
    where = "dishes_around"
    if isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, np.integer)) or count < 0:
        raise InputError(f"count must be a whole number >= 0, got {count!r}", where, "count")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be an int (for reproducible dishes), got {seed!r}", where, "seed")
    max_radius_m = np.pi * MEAN_EARTH_RADIUS_M
    if not (0.0 <= radius_m <= max_radius_m):
        message = f"radius_m must be in [0, {max_radius_m:.0f}] m, got {radius_m!r}"
        raise InputError(message, where, "radius_m")
    if not abs(center_lat_deg) <= 90.0:
        raise InputError(f"center_lat_deg {center_lat_deg!r} is outside [-90, 90]", where, "center_lat_deg")
    if not abs(center_lon_deg) <= 180.0:
        raise InputError(f"center_lon_deg {center_lon_deg!r} is outside [-180, 180]", where, "center_lon_deg")

    rng = np.random.default_rng(seed)
    u, v = rng.random((2, count))
    half_angle = radius_m / (2.0 * MEAN_EARTH_RADIUS_M)
    distance_m = 2.0 * MEAN_EARTH_RADIUS_M * np.arcsin(np.sqrt(u) * np.sin(half_angle))
    lat, lon = destination_point(center_lat_deg, center_lon_deg, 360.0 * v, distance_m)
    width = len(str(max(count - 1, 0)))
    names = np.array([f"{name_prefix}{i:0{width}d}" for i in range(count)], dtype=object)
    return Sites(
        name=names, kind=np.full(count, "dish", dtype=object), lat_deg=lat,
        lon_deg=lon, elevation_m=np.zeros(count), group=np.full(count, group, dtype=object),
    )


# --------------------------------------------------------------------------------------------
# Built-in site sets (package data; see leonet/data/SOURCE.md)

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
        message = f"unknown region(s) {unknown}; expected some of {list(STARLINK_REGIONS)}"
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
