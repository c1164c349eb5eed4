"""OMM (CCSDS Orbit Mean-elements Message) readers: CelesTrak / Space-Track GP data as JSON, CSV
and XML.

All three carry the same keywords (CCSDS 502.0-B-3; CelesTrak, "A New Way to Obtain GP Data"):
OBJECT_NAME, OBJECT_ID, EPOCH, MEAN_MOTION (rev/day), ECCENTRICITY, INCLINATION, RA_OF_ASC_NODE,
ARG_OF_PERICENTER, MEAN_ANOMALY (deg), EPHEMERIS_TYPE, CLASSIFICATION_TYPE, NORAD_CAT_ID,
ELEMENT_SET_NO, REV_AT_EPOCH, BSTAR (1/earth radii), MEAN_MOTION_DOT (rev/day^2),
MEAN_MOTION_DDOT (rev/day^3). JSON is a list of flat objects, CSV has them as header columns, XML
nests them as ndm/omm/body/segment/{metadata, data/meanElements, data/tleParameters}.

Each format is turned into a list of flat records (keyword -> value) and checked in one place,
:func:`_records_to_elements`, so the three formats give identical results and identical errors.
Unlike TLE, NORAD_CAT_ID may have more than 5 digits; ``catalog_id`` is ``str(NORAD_CAT_ID)``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import numpy as np

from ..constants import NS_PER_DAY, NS_PER_S
from ..errors import InputError, quote
from .elements import OrbitElements
from .tle import read_text

# OMM keyword -> OrbitElements column, for the numbers every record must have.
_NUMBER_FIELDS = {
    "MEAN_MOTION": "mean_motion_rev_per_day",
    "ECCENTRICITY": "eccentricity",
    "INCLINATION": "inclination_deg",
    "RA_OF_ASC_NODE": "raan_deg",
    "ARG_OF_PERICENTER": "arg_perigee_deg",
    "MEAN_ANOMALY": "mean_anomaly_deg",
    "BSTAR": "bstar_per_earth_radius",
    "MEAN_MOTION_DOT": "mean_motion_dot_rev_per_day2",
    "MEAN_MOTION_DDOT": "mean_motion_ddot_rev_per_day3",
}
_REQUIRED = ("OBJECT_NAME", "NORAD_CAT_ID", "EPOCH", *_NUMBER_FIELDS)
# (low, high) in degrees, both inclusive, for the angles. Eccentricity (0 <= e < 1) and mean
# motion (> 0) are checked on their own.
_RANGES = {
    "INCLINATION": (0.0, 180.0),
    "RA_OF_ASC_NODE": (0.0, 360.0),
    "ARG_OF_PERICENTER": (0.0, 360.0),
    "MEAN_ANOMALY": (0.0, 360.0),
}
# Metadata that, when present, must say these elements are SGP4 mean elements in TEME, UTC.
_EXPECTED_METADATA = {
    "CENTER_NAME": "EARTH",
    "REF_FRAME": "TEME",
    "TIME_SYSTEM": "UTC",
    "MEAN_ELEMENT_THEORY": "SGP4",
}
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
# CCSDS epochs: calendar date (YYYY-MM-DD) or day of year (YYYY-DDD), then hh:mm:ss[.f], [Z].
_EPOCH_RE = re.compile(
    r"^(\d{4})-(?:(\d{2})-(\d{2})|(\d{3}))T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z?$"
)
_UNIX_ORDINAL = date(1970, 1, 1).toordinal()
#: Epoch years accepted (the scenario's time window is bounded the same way, leonet.scenario).
EARLIEST_EPOCH_YEAR, LATEST_EPOCH_YEAR = 1957, 2199


def read_omm(path: str | Path) -> OrbitElements:
    """Read an OMM file: JSON, CSV or XML, chosen by extension (.json, .csv, .xml), otherwise by
    the content (``[``/``{`` JSON, ``<`` XML, a header line naming OMM keywords: CSV)."""
    text = read_text(path)
    source = str(path)
    suffix = Path(path).suffix.lower()
    parser = {".json": parse_omm_json, ".csv": parse_omm_csv, ".xml": parse_omm_xml}.get(suffix)
    if parser is None:
        parser = _sniff(text, source)
    return parser(text, source)


def parse_omm_json(text: str, source: str = "<string>") -> OrbitElements:
    """Parse CelesTrak/Space-Track GP JSON: a list of flat OMM objects. Shapes (n,)."""
    _refuse_empty(text, source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e.msg}", source, f"line {e.lineno}, column {e.colno}") from e
    except RecursionError:
        raise InputError("not valid OMM JSON: nested too deeply (OMM is a flat list of objects)", source) from None
    except ValueError as e:  # an integer of thousands of digits
        raise InputError(f"not valid JSON: {quote(str(e))}", source) from None
    if not isinstance(data, list):
        raise InputError(f"expected a JSON list of OMM records, got a {_json_type(data)}", source)
    records = []
    for k, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise InputError(f"expected a JSON object, got a {_json_type(item)}", source, f"record {k}")
        records.append((_record_label(k, item), item))
    return _records_to_elements(records, source)


def parse_omm_csv(text: str, source: str = "<string>") -> OrbitElements:
    """Parse CelesTrak GP CSV: a header line of OMM keywords, then one record a line. Shapes (n,).

    Errors name the line in the file (the header is line 1).
    """
    _refuse_empty(text, source)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
        seen = set()
        for name in header:
            if name in seen:
                raise InputError(f"column {quote(name)} appears twice in the header", source, "line 1")
            seen.add(name)
        missing = [name for name in _REQUIRED if name not in seen]
        if missing:
            raise InputError(
                f"the header lacks the column(s) {', '.join(missing)}; it has {quote(', '.join(header))}",
                source, "line 1")
        records = []
        for row in reader:
            where = f"line {reader.line_num}"
            if not any(cell.strip() for cell in row):
                continue  # blank lines carry no record
            if len(row) != len(header):
                raise InputError(f"has {len(row)} values, the header has {len(header)} columns",
                                 source, where)
            # An empty cell is a missing value, reported as such by the checks.
            records.append((where, {h: v.strip() for h, v in zip(header, row) if v.strip()}))
    except csv.Error as e:
        raise InputError(f"not valid CSV: {e}", source, f"line {reader.line_num}") from e
    return _records_to_elements(records, source)


def parse_omm_xml(text: str, source: str = "<string>") -> OrbitElements:
    """Parse CCSDS OMM XML (ndm/omm/body/segment, namespaced or not). Shapes (n,).

    Documents with a DOCTYPE or ENTITY declaration are refused: OMM needs neither, and entity
    expansion is the way XML parsers are attacked ("billion laughs").
    """
    _refuse_empty(text, source)
    if re.search(r"<!\s*(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise InputError("XML with a DOCTYPE or ENTITY declaration is refused (OMM needs neither)",
                         source)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        line, column = e.position  # expat counts columns from 0
        reason = str(e).rsplit(": line", 1)[0]
        raise InputError(f"not valid XML: {reason}", source, f"line {line}, column {column + 1}") from e
    segments = [el for el in root.iter() if _local(el.tag) == "segment"]
    if not segments:
        raise InputError("no OMM segment found; expected ndm/omm/body/segment elements", source)
    records = []
    for k, segment in enumerate(segments, start=1):
        record: dict[str, str] = {}
        data = segment.find("./{*}data")
        groups = [segment.find("./{*}metadata")]
        if data is not None:
            groups += [data.find("./{*}meanElements"), data.find("./{*}tleParameters")]
        for group in groups:
            for leaf in group if group is not None else ():
                key = _local(leaf.tag)
                if key == "COMMENT":
                    continue
                if key in record:
                    raise InputError(f"{key} appears twice", source, f"record {k}")
                record[key] = (leaf.text or "").strip()
        records.append((_record_label(k, record), {key: v for key, v in record.items() if v}))
    return _records_to_elements(records, source)


# ------------------------------------------------------------------------------------ shared checks


def _records_to_elements(records: list[tuple[str, dict]], source: str) -> OrbitElements:
    """Check flat records (location label, keyword -> value) and build the columns, shape (n,)."""
    if not records:
        raise InputError("no OMM records found", source)
    # Records come one by one out of JSON/CSV/XML; each is checked as it is read.
    rows = [_check_record(record, source, where) for where, record in records]
    names, catalog_ids, epochs, numbers = zip(*rows)
    return OrbitElements(
        name=np.array(names, dtype=object),
        catalog_id=np.array(catalog_ids, dtype=object),
        epoch_ns=np.array(epochs, dtype=np.int64),
        **{column: np.array([row[key] for row in numbers], dtype=np.float64)
           for key, column in _NUMBER_FIELDS.items()},
        source=source,
    )


def _check_record(record: dict, source: str, where: str) -> tuple[str, str, int, dict]:
    """One record -> (name, catalog_id, epoch_ns, {keyword: float}); InputError if it is wrong."""
    for key in _REQUIRED:
        if record.get(key) is None or record[key] == "":
            raise InputError(f"{key}: missing (required)", source, where)
    for key, expected in _EXPECTED_METADATA.items():
        if key in record and str(record[key]).strip().upper() != expected:
            raise InputError(f"{key}: is {quote(record[key])}, expected {expected!r} (SGP4 mean elements)",
                             source, where)
    ephemeris_type = record.get("EPHEMERIS_TYPE", 0)
    if _integer(ephemeris_type, "EPHEMERIS_TYPE", source, where) != 0:
        raise InputError(
            f"EPHEMERIS_TYPE: is {quote(record['EPHEMERIS_TYPE'])}, expected 0 (SGP4 mean elements); "
            "other types, such as 4 (SGP4-XP), cannot be propagated with SGP4", source, where)
    name = record["OBJECT_NAME"]
    if not isinstance(name, str):
        raise InputError(f"OBJECT_NAME: expected text, got {quote(name)}", source, where)
    catalog = _integer(record["NORAD_CAT_ID"], "NORAD_CAT_ID", source, where)
    if catalog < 1:
        raise InputError(f"NORAD_CAT_ID: is {catalog}, expected a positive number", source, where)
    numbers = {key: _number(record[key], key, source, where) for key in _NUMBER_FIELDS}
    for key, (low, high) in _RANGES.items():
        if not low <= numbers[key] <= high:
            raise InputError(f"{key}: is {numbers[key]}, expected {low:g} to {high:g} degrees",
                             source, where)
    if not 0.0 <= numbers["ECCENTRICITY"] < 1.0:
        raise InputError(f"ECCENTRICITY: is {numbers['ECCENTRICITY']}, expected 0 <= e < 1",
                         source, where)
    if numbers["MEAN_MOTION"] <= 0.0:
        raise InputError(
            f"MEAN_MOTION: is {numbers['MEAN_MOTION']}, expected a positive number of rev/day",
            source, where)
    return name.strip(), str(catalog), _epoch_ns(record["EPOCH"], source, where), numbers


def _number(value, key: str, source: str, where: str) -> float:
    """A finite number, from a JSON number or decimal text ("15.5", "-1.2e-5")."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(f"{key}: expected a number, got {quote(value)}", source, where)
    if isinstance(value, str):
        if not _NUMBER_RE.match(value.strip()):
            raise InputError(f"{key}: expected a number, got {quote(value)}", source, where)
        value = float(value)
    try:
        value = float(value)
    except OverflowError:  # a JSON integer of hundreds of digits
        raise InputError(f"{key}: {quote(value)} is too large a number", source, where) from None
    if not math.isfinite(value):
        raise InputError(f"{key}: expected a finite number, got {quote(value)}", source, where)
    return value


def _integer(value, key: str, source: str, where: str) -> int:
    """A whole number, from a JSON integer or digits ("25544")."""
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**18:
            raise InputError(f"{key}: {quote(value)} is too large a number", source, where)
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,18}", value.strip()):
        return int(value)
    raise InputError(f"{key}: expected a whole number, got {quote(value)}", source, where)


def _epoch_ns(value, source: str, where: str) -> int:
    """EPOCH text (UTC, "2024-01-15T12:34:56.789012", optional Z) -> int64 ns, exactly."""
    match = _EPOCH_RE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InputError(
            f"EPOCH: expected a UTC time like 2024-01-15T12:34:56.789012, got {quote(value)}", source, where)
    year, month, day, day_of_year, hour, minute, second, fraction = match.groups()
    try:
        if day_of_year is None:
            days = date(int(year), int(month), int(day)).toordinal()
        else:
            days = date(int(year), 1, 1).toordinal() + int(day_of_year) - 1
            if not 1 <= int(day_of_year) or date.fromordinal(days).year != int(year):
                raise ValueError(f"day of year {day_of_year} is not in {year}")
    except ValueError as e:
        raise InputError(f"EPOCH: {quote(value)} is not a valid date ({e})", source, where) from e
    if not EARLIEST_EPOCH_YEAR <= int(year) <= LATEST_EPOCH_YEAR:
        raise InputError(f"EPOCH: {quote(value)} is outside {EARLIEST_EPOCH_YEAR} to {LATEST_EPOCH_YEAR} "
                         "(element sets begin in 1957; leonet's int64 nanosecond time ends in 2262)", source, where)
    if int(hour) > 23 or int(minute) > 59 or int(second) > 59:
        raise InputError(f"EPOCH: {quote(value)} is not a valid time of day", source, where)
    seconds = int(hour) * 3600 + int(minute) * 60 + int(second)
    ns = int((fraction or "").ljust(9, "0"))
    return (days - _UNIX_ORDINAL) * NS_PER_DAY + seconds * NS_PER_S + ns


def _record_label(k: int, record: dict) -> str:
    name = record.get("OBJECT_NAME")
    return f"record {k} ({name.strip()})" if isinstance(name, str) and name.strip() else f"record {k}"


def _local(tag) -> str:
    """An XML tag without its namespace: "{urn:ccsds}EPOCH" -> "EPOCH"."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _json_type(value) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def _refuse_empty(text: str, source: str) -> None:
    if not text.strip():
        raise InputError("the file is empty, expected OMM records", source)


def _sniff(text: str, source: str):
    """Pick the parser from the first non-blank characters."""
    _refuse_empty(text, source)
    start = text.lstrip()
    if start[0] in "[{":
        return parse_omm_json
    if start[0] == "<":
        return parse_omm_xml
    first_line = start.splitlines()[0]
    if "," in first_line and ("NORAD_CAT_ID" in first_line or "OBJECT_NAME" in first_line):
        return parse_omm_csv
    looks_like_tle = any(line.startswith("1 ") for line in start.splitlines()[:3])
    hint = " (it looks like TLE text; read it with read_tle)" if looks_like_tle else ""
    raise InputError(
        "not OMM: expected JSON (starting '['), XML (starting '<') or CSV with a header line of "
        f"OMM keywords such as OBJECT_NAME,NORAD_CAT_ID{hint}", source)
