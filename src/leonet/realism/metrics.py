"""Starlink's published per-country service figures: reading and checking the file format.

Format (Starlink's ``metrics_residential.json``, as archived; see leonet/data/measured/SOURCE.md):
a JSON object keyed by ISO 3166 alpha-3 country code, each value an object with the nine numbers
``latency_p20, latency_p50, latency_p80`` (ms) and ``download_p20/p50/p80``,
``upload_p20/p50/p80`` (Mbps). Extra fields are an error (a typo must not pass unnoticed).

The percentiles are **quality** percentiles: p20 is the worse value and p80 the better one, so
``latency_p20 >= latency_p50 >= latency_p80`` while ``download_p20 <= download_p50 <=
download_p80`` (and the same for upload). The reader checks that order, which catches files
written with the numeric convention. The file's date is the ``YYYY-MM-DD`` in its name (the
fetch date; each file covers the month before it); a date given for a file whose name holds one
must be that date (it is for files named without one).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..errors import InputError

METRICS = ("latency", "download", "upload")
PERCENTILES = ("p20", "p50", "p80")
FIELDS = tuple(f"{m}_{p}" for m in METRICS for p in PERCENTILES)
#: Units of each metric.
UNITS = {"latency": "ms", "download": "Mbps", "upload": "Mbps"}
#: For each metric, whether a higher value is better (decides which end p20 is).
HIGHER_IS_BETTER = {"latency": False, "download": True, "upload": True}
#: The files shipped with leonet (leonet/data/measured/starlink_published_metrics/).
SHIPPED_DATES = ("2023-09-08", "2023-10-03", "2023-11-08", "2023-12-04", "2024-01-06")
#: Physically plausible ranges, to catch unit mistakes (seconds for ms, bps for Mbps).
_RANGES = {"latency": (1.0, 2000.0), "download": (0.01, 10_000.0), "upload": (0.01, 10_000.0)}


@dataclass(frozen=True)
class PublishedMetrics:
    """One metrics file: ``countries`` maps ISO alpha-3 -> {field: value}; ``date`` its date."""

    countries: dict
    date: date
    source: str

    def iso2(self, iso3: str) -> str:
        """The ISO alpha-2 code of an alpha-3 code in the file."""
        return iso3_to_iso2()[iso3]


def iso3_to_iso2() -> dict[str, str]:
    """ISO 3166 alpha-3 -> alpha-2 for the 252 countries GeoNames knows (``leonet/data/countries_iso.csv``)."""
    import csv
    import io
    from importlib.resources import files

    text = (files("leonet") / "data" / "countries_iso.csv").read_text(encoding="utf-8")
    return {row["iso3"]: row["iso2"] for row in csv.DictReader(io.StringIO(text))}


def shipped_metrics_path(date_text: str = "2024-01-06"):
    """Path (a Traversable) of a shipped metrics file, by its date (one of :data:`SHIPPED_DATES`)."""
    from importlib.resources import files

    if date_text not in SHIPPED_DATES:
        raise InputError(f"no shipped metrics file of {date_text!r}; shipped: {list(SHIPPED_DATES)}", location="date")
    return files("leonet").joinpath("data", "measured", "starlink_published_metrics",
                                    f"residential_countries_{date_text}.json")


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list) -> dict:
    keys = [k for k, _ in pairs]
    for k in keys:
        if keys.count(k) > 1:
            raise _DuplicateKey(k)
    return dict(pairs)


def parse_published_metrics(text: str, source: str, when: date | None = None) -> PublishedMetrics:
    """Validate the text of a metrics file (see the module docstring); errors name file and field."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as e:
        raise InputError(f"is not valid JSON: {e.msg}", source, f"line {e.lineno}") from None
    except _DuplicateKey as e:  # json.loads keeps the last of two equal keys: a pasted row must not pass
        raise InputError(f"the key {e.args[0]!r} appears twice (JSON keeps only the last)", source, e.args[0]) from None
    if not isinstance(data, dict) or not data:
        raise InputError("expected a non-empty JSON object keyed by ISO 3166 alpha-3 country code", source)
    found = re.search(r"(\d{4})-(\d{2})-(\d{2})", Path(source).name)
    try:
        named = date(*map(int, found.groups())) if found else None
    except ValueError:
        if when is None:
            raise InputError(f"the date {found.group(0)!r} in the file name is not a calendar date", source) from None
        named = None  # no date in the name after all: the date given is the file's
    if when is None:
        if named is None:
            raise InputError("the file name holds no date (YYYY-MM-DD); give the date explicitly (--date)", source)
        when = named
    elif named is not None and named != when:
        # the name's date is the file's: a date given beside it must not relabel the figures
        raise InputError(f"the date given ({when.isoformat()}, --date) is not the one in the file name "
                         f"({named.isoformat()}): leave --date out, or rename the file", source, "date")
    known = iso3_to_iso2()
    countries: dict[str, dict[str, float]] = {}
    for code, entry in data.items():
        if not (isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isupper()):
            raise InputError(f"country key {code!r} is not an ISO 3166 alpha-3 code (three capitals, e.g. UKR)", source, code)
        if code not in known:
            raise InputError(f"unknown ISO 3166 alpha-3 country code {code!r}", source, code)
        if not isinstance(entry, dict):
            raise InputError("expected an object of the nine fields", source, code)
        missing = [f for f in FIELDS if f not in entry]
        extra = sorted(set(entry) - set(FIELDS))
        if missing:
            raise InputError(f"missing field(s) {missing}", source, f"{code}.{missing[0]}")
        if extra:
            raise InputError(f"unknown field(s) {extra}; expected {list(FIELDS)}", source, f"{code}.{extra[0]}")
        values = {}
        for f in FIELDS:
            v = entry[f]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise InputError(f"must be a number, got {v!r}", source, f"{code}.{f}")
            low, high = _RANGES[f.split("_")[0]]
            if not low <= v <= high:
                unit = UNITS[f.split("_")[0]]
                raise InputError(f"{v} {unit} is outside the plausible [{low}, {high}] {unit}", source, f"{code}.{f}")
            values[f] = float(v)
        for m in METRICS:
            p20, p50, p80 = (values[f"{m}_{p}"] for p in PERCENTILES)
            ordered = (p20 <= p50 <= p80) if HIGHER_IS_BETTER[m] else (p20 >= p50 >= p80)
            if not ordered:
                worse = "lower" if HIGHER_IS_BETTER[m] else "higher"
                raise InputError(
                    f"{m} p20/p50/p80 = {p20}/{p50}/{p80} break the quality convention (p20 is the worse, "
                    f"{worse}, value); was the file written with numeric percentiles?", source, f"{code}.{m}_p20")
        countries[code] = values
    return PublishedMetrics(countries=countries, date=when, source=source)


def read_published_metrics(path=None, when: date | None = None) -> PublishedMetrics:
    """Read a metrics file; with no path, the shipped file of 2024-01-06 (40 countries)."""
    if path is None:
        resource = shipped_metrics_path()
        return parse_published_metrics(resource.read_text(encoding="utf-8"),
                                       "leonet/data/measured/starlink_published_metrics/" + resource.name, when)
    from ..textfiles import read_text

    return parse_published_metrics(read_text(path, "a JSON object keyed by ISO alpha-3 code"), str(path), when)
