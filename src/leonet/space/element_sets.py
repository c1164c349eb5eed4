"""The real Starlink element sets shipped with leonet (leonet/data/orbits, SOURCE.md there) that
runs on the real sky take by name: ``leonet dish --constellation starlink-2026-08-22`` and the
realism check (the set nearest the date of its figures)."""

from __future__ import annotations

import gzip
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class ShippedSet:
    """One shipped element set."""

    name: str        # what a user names it (``--constellation``), e.g. "starlink-2023-12-27"
    epoch_day: date  # the day its elements are of (CelesTrak GP data fetched that day)
    file: str        # gzip-compressed TLE file under leonet/data/orbits
    start: str       # ISO 8601 UTC: where a run on it starts by default (a slot boundary that day)


#: The shipped sets by name. (The 2022-02-23 set ships split by shell for the ukraine-2022 presets,
#: which name its files directly.)
SHIPPED_SETS = {s.name: s for s in (
    ShippedSet("starlink-2023-12-27", date(2023, 12, 27), "starlink_2023-12-27.tle.gz", "2023-12-27T12:00:12Z"),
    ShippedSet("starlink-2026-08-22", date(2026, 8, 22), "starlink_2026-08-22.tle.gz", "2026-08-22T12:00:12Z"),
)}


def extract_element_set(name: str, folder: Path) -> Path:
    """Decompress the shipped set ``name`` (a key of :data:`SHIPPED_SETS`) into ``folder`` once
    (written whole, then renamed: an interrupted copy leaves no half file); returns the .tle path."""
    from importlib.resources import files

    file = SHIPPED_SETS[name].file
    out = Path(folder) / file[: -len(".gz")]
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".part")
        with files("leonet").joinpath("data", "orbits", file).open("rb") as raw, gzip.open(raw) as src, \
                open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        tmp.replace(out)
    return out
