"""Reading and validating sites CSV files into :class:`~leonet.ground.sites.Sites`.

A sites CSV has a header line naming the columns ``name``, ``lat_deg``, ``lon_deg`` and
optionally ``elevation_m``, ``kind`` and ``group``; any other column is kept as text in
``attrs``. :func:`read_sites_csv` reads a file and :func:`parse_sites_csv_text` parses text
already in hand (the built-in site sets use it on package data). Every problem is raised as an
:class:`~leonet.errors.InputError` naming the source, the line and the column.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from ..errors import InputError, quote
from .sites import _CORE_FIELDS, KINDS, Sites

#: Plausible range of site heights, metres: the Dead Sea shore (-430 m) to Everest (8,849 m).
#: Anything outside is almost surely a unit mistake (feet, or a position in km or m of orbit).
ELEVATION_LIMITS_M = (-500.0, 9000.0)
_EXPECTED_COLUMNS = "name, lat_deg, lon_deg, [elevation_m], [kind], [group] ([...] optional)"
#: Extra columns the model reads when present (sim/model.py, sim/service_model.py,
#: sim/network_model.py); a misspelling of one would be kept as a plain attribute and ignored.
MODEL_COLUMNS = ("dishes", "users_per_dish", "kit", "home_pop", "antennas", "pop_code")
#: Whole-number model columns and their bounds: the same as a YAML site's ``dishes`` and a dish
#: group's ``users_per_dish`` (leonet/scenario/ground.py). They are read here, at the door, into
#: Python ints (an object column; None for a blank cell of a gateway, PoP or station row, to which
#: they do not apply), as the YAML sites give them.
COUNT_COLUMNS = {"dishes": (1, 10_000_000), "users_per_dish": (1, 100_000)}
#: A gateway's antennas (the satellites it tracks at once), as a YAML gateway site's ``antennas``:
#: a whole number in these bounds on a gateway row, blank for "not given" (the scenario's
#: ``network.gateway_antennas``) and on every other row.
ANTENNAS_BOUNDS = (1, 1000)


def read_sites_csv(path, default_kind: str | None = None) -> Sites:
    """Read sites from a CSV file with a header line.

    Columns: ``name``, ``lat_deg``, ``lon_deg`` (required); ``elevation_m`` (optional, metres
    above the ellipsoid, 0 when the column is absent); ``kind`` (one of :data:`KINDS`; optional
    when ``default_kind`` is given, which then applies to every row); ``group`` (optional).
    Any other column is kept in ``attrs``: as text, but ``dishes`` and ``users_per_dish`` as
    whole numbers (:data:`COUNT_COLUMNS`), and ``antennas`` likewise on gateway rows
    (:data:`ANTENNAS_BOUNDS`). Blank lines are skipped. A cell that is present must be valid:
    there is no per-cell default.

    Raises :class:`InputError` naming the file, the line (1-based, the header being line 1) and
    the column for: a missing file, an empty or binary file, missing columns, rows of the wrong
    width, values that are not plain numbers (``5_0`` is refused), latitudes, longitudes or
    elevations out of range, unknown kinds, repeated names, and ``dishes`` / ``users_per_dish``
    cells that are not whole numbers within :data:`COUNT_COLUMNS` (blank only in a row that is not
    a dish).
    """
    source = str(path)
    if default_kind is not None and default_kind not in KINDS:
        raise InputError(f"default_kind {default_kind!r} is not one of {list(KINDS)}", source)
    from ..textfiles import read_bytes

    sites = parse_sites_csv_text(_decode_text(read_bytes(path), source), source, default_kind)
    _check_column_spelling(sites, source)
    return sites


def _check_column_spelling(sites: Sites, source: str) -> None:
    """Refuse an extra column that reads like a column leonet uses but is not it (``Elevation_m``,
    ``groups``, ``antenna``): kept as an attribute it would be silently ignored."""
    import difflib

    known = [c for c in _CORE_FIELDS + MODEL_COLUMNS if c not in sites.attrs]
    for column in sites.attrs:
        if column in MODEL_COLUMNS:
            continue
        close = difflib.get_close_matches(column.lower(), known, n=1, cutoff=0.8)
        if close:
            raise InputError(f"column {quote(column)} reads like {quote(close[0])}, which leonet uses; "
                             f"rename it to {close[0]} (or to a name further from it if it is only a note)",
                             source, "line 1 (header)")


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
    if not rows:
        raise InputError(f"holds no values (only commas or blanks); expected a header line with columns "
                         f"{_EXPECTED_COLUMNS}", source)

    header = [h.strip() for h in rows[0]]
    header_loc = f"line {line_of_row[0]} (header)"
    if "" in header:
        raise InputError(
            f"column {header.index('') + 1} of the header has no name (a trailing comma?)", source, header_loc
        )
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise InputError(f"column(s) {quote(repeated)} appear more than once", source, header_loc)
    required = ["name", "lat_deg", "lon_deg"] + (["kind"] if default_kind is None else [])
    missing = [c for c in required if c not in header]
    if missing:
        hint = " (or pass a default kind)" if missing == ["kind"] else ""
        raise InputError(
            f"missing column(s) {missing}{hint}; expected columns {_EXPECTED_COLUMNS}; found {quote(header)}",
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
            at.fail(i, "kind", f"unknown kind {quote(str(kind[i]))}; expected one of {list(KINDS)}")
    else:
        kind = np.full(len(body), default_kind, dtype=object)
    _check_unique_names(name, at)

    extra = {h: v.astype(object) for h, v in cells.items() if h not in _CORE_FIELDS}
    for column, (lo, hi) in COUNT_COLUMNS.items():
        if column in cells:
            extra[column] = _count_column(cells[column], column, lo, hi, np.asarray(kind) == "dish", at)
    if "antennas" in cells:   # read here, as YAML gives it: a run mixing site sources gets one type
        gateway = np.asarray(kind) == "gateway"
        at.first_bad((cells["antennas"] != "") & ~gateway, "antennas",
                     "antennas is for gateway rows; leave it blank on other rows")
        extra["antennas"] = _count_column(cells["antennas"], "antennas", *ANTENNAS_BOUNDS, np.zeros(len(gateway), bool), at)
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


def _first_non_ascii(text: np.ndarray) -> int | None:
    """Index of the first cell holding a character outside ASCII, or None (vectorised when clean)."""
    try:
        text.astype(np.bytes_)   # numpy encodes as ASCII: fails on any other character
        return None
    except UnicodeEncodeError:
        return next(i for i, cell in enumerate(text) if not str(cell).isascii())


def _float_column(cells: dict[str, np.ndarray], column: str, at: _Locator) -> np.ndarray:
    text = cells[column]
    # numpy (as Python's float()) also reads "5_0" as 50 and non-ASCII digits ("５0"): refuse them,
    # a typo is likelier than a number written that way (np.char, not np.strings: numpy 1.26 is allowed)
    i = _first_non_ascii(text)
    if i is None:
        i = at.first_index(np.char.find(text, "_") >= 0)
    if i is not None:
        at.fail(i, column, f"{column} {quote(str(text[i]))} is not a plain decimal number (ASCII digits, no '_')")
    try:
        values = text.astype(np.float64)
    except ValueError:
        # Only on failure: find the first offending cell to name its line.
        for i, cell in enumerate(text):
            try:
                np.asarray(cell).astype(np.float64)
            except ValueError:
                at.fail(i, column, f"{column} {quote(str(cell))} is not a number")
        raise  # unreachable: the same parser failed on the whole column
    at.first_bad(~np.isfinite(values), column, f"{column} must be a finite number")
    return values


def _count_column(text: np.ndarray, column: str, lo: int, hi: int, dish: np.ndarray, at: _Locator) -> np.ndarray:
    """A whole-number column (``dishes``, ``users_per_dish``, ``antennas``) as an object array of
    Python ints: every cell of a row where ``dish`` is True a whole number in [lo, hi]; a blank
    cell of another row is None (the column does not apply to it, or is not given there)."""
    expected = f"a whole number from {lo:,} to {hi:,}"
    blank = text == ""
    at.first_bad(blank & dish, column, f"{column} is empty; a dish row needs {expected}")
    i = _first_non_ascii(text)
    if i is None:
        i = at.first_index(~blank & ~np.char.isdigit(text))
    if i is not None:
        at.fail(i, column, f"{column} {quote(str(text[i]))} is not {expected}")
    digits = np.char.str_len(text)
    short = ~blank & (digits <= 12)   # longer runs of digits are out of range anyway (and int64-safe)
    values = np.where(short, text, "0").astype(np.int64)
    i = at.first_index(~blank & ((digits > 12) | (values < lo) | (values > hi)))
    if i is not None:
        shown = f"{values[i]:,}" if short[i] else quote(str(text[i]))
        at.fail(i, column, f"{column} {shown} is outside [{lo:,}, {hi:,}]; expected {expected}")
    out = np.full(len(text), None, dtype=object)
    out[~blank] = values[~blank].tolist()
    return out


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
            f"name {quote(str(name[second]))} repeats the name on line {at.lines[first]}; names must be unique",
        )

