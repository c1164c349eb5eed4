"""A yardstick for the realism check: Starlink's own figures of an earlier month, taken as a
prediction of the month checked.

Starlink's per-country figures move from month to month by more than the check's tolerances in
a good share of countries (its median country's latency p50 moved 52.3, 55.8, 56.9, 54.0, 55.0 ms
from Sep 2023 to Jan 2024). A model that reproduced one month exactly would still miss some
countries the next month. This module counts how many: the countries both files hold whose
published latency p50 and download p50 of the earlier month lie within the check's tolerances of
the later month's (:func:`leonet.realism.tolerance.within`, the same rule leonet's column is judged by).
It reads only the shipped files; nothing is simulated.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from .metrics import SHIPPED_DATES, PublishedMetrics, read_published_metrics, shipped_metrics_path
from .tolerance import within


@dataclass(frozen=True)
class Persistence:
    """How the earlier file's figures fare as a prediction of the later file's."""

    earlier: date
    countries: tuple            # ISO alpha-3 codes both files hold, among those asked about
    latency_within: tuple       # of them, latency p50 within tolerance
    download_within: tuple      # of them, download p50 within tolerance

    @property
    def both_within(self) -> tuple:
        return tuple(c for c in self.latency_within if c in self.download_within)


def persistence(later: PublishedMetrics, earlier: PublishedMetrics, countries=None) -> Persistence:
    """Count ``earlier``'s latency p50 and download p50 within the check's tolerances of
    ``later``'s, over ``countries`` (default: all of ``later``'s) that both files hold."""
    asked = list(later.countries) if countries is None else list(countries)
    common = tuple(c for c in asked if c in later.countries and c in earlier.countries)

    def ok(metric: str) -> tuple:
        return tuple(c for c in common
                     if within(metric, later.countries[c][metric], earlier.countries[c][metric])[0])

    return Persistence(earlier.date, common, ok("latency_p50"), ok("download_p50"))


def shipped_month_before(when: date) -> PublishedMetrics | None:
    """The latest shipped file dated before ``when`` (None when none is). The file is read once
    (a realism run asks twice: the table's column and the summary's line); each caller gets its
    own copy of the figures, free to change."""
    before = [d for d in SHIPPED_DATES if date.fromisoformat(d) < when]
    if not before:
        return None
    read = _read_shipped(max(before))
    return dataclasses.replace(read, countries={c: dict(f) for c, f in read.countries.items()})


@lru_cache(maxsize=8)
def _read_shipped(day: str) -> PublishedMetrics:
    return read_published_metrics(shipped_metrics_path(day))


def persistence_lines(later: PublishedMetrics, countries: list[str], rows: list[dict]) -> list[str]:
    """The summary's yardstick line: the latest shipped file before ``later`` (named in the line),
    taken as a prediction, and leonet's own count on the same countries, those that ran
    (``rows``: the check's table rows). Empty when no shipped file comes before it or no country
    that ran is shared."""
    earlier = shipped_month_before(later.date)
    if earlier is None:
        return []
    by = {(r["country"], r["metric"]): r.get("within_tolerance") for r in rows}
    ran = [c for c in countries if by.get((c, "latency_p50")) is not None]   # as the summary's counts
    p = persistence(later, earlier, ran)
    if not p.countries:
        return []
    ours = [c for c in p.countries if by.get((c, "latency_p50")) and by.get((c, "download_p50"))]
    n = len(p.countries)
    return [f"yardstick: Starlink's own figures of {earlier.date.isoformat()}, taken as a prediction of these, "
            f"are within the same tolerances for {len(p.both_within)} of the {n} {'country' if n == 1 else 'countries'} both files hold "
            f"({len(p.both_within) / n:.0%}; latency {len(p.latency_within)}, download {len(p.download_within)}); "
            f"leonet, both: {len(ours)} of those {n}"]


def add_month_before(later: PublishedMetrics, rows: list[dict]) -> None:
    """Give each row of a country the shipped month before holds its figure as
    ``published_month_before`` (the same metric, Starlink's own value a month earlier): how far
    Starlink itself moved, beside how far leonet is. Rows of other countries are left as they are."""
    earlier = shipped_month_before(later.date)
    if earlier is None:
        return
    for r in rows:
        figures = earlier.countries.get(r.get("country"))
        if figures is not None and r.get("metric") in figures:
            r["published_month_before"] = figures[r["metric"]]
