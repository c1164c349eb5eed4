"""The realism check's yardstick: Starlink's own figures of the month before, taken as a prediction."""

import json
from datetime import date
from importlib.resources import files

import pytest

from leonet.realism.metrics import PublishedMetrics, read_published_metrics, shipped_metrics_path
from leonet.realism.persistence import persistence, persistence_lines, shipped_month_before


def _metrics(when, **countries):
    return PublishedMetrics({c: {"latency_p50": lat, "download_p50": dl} for c, (lat, dl) in countries.items()},
                            when, "test")


def test_counts_by_hand():
    later = _metrics(date(2024, 1, 6), AAA=(50.0, 100.0), BBB=(60.0, 100.0), CCC=(40.0, 200.0))
    earlier = _metrics(date(2023, 12, 4), AAA=(54.9, 119.0), BBB=(66.0, 100.0), DDD=(1.0, 1.0))
    p = persistence(later, earlier)
    assert p.countries == ("AAA", "BBB")          # CCC and DDD are in one file only
    assert p.latency_within == ("AAA",)            # 4.9 ms off; BBB 6 ms off
    assert p.download_within == ("AAA", "BBB")     # 19 % off and equal
    assert p.both_within == ("AAA",)
    assert persistence(later, earlier, ["BBB", "CCC"]).countries == ("BBB",)


def test_the_shipped_months_against_a_count_of_the_files_themselves():
    """Dec 2023 as a prediction of Jan 2024, counted from the raw JSON (not through the reader)."""
    def raw(d):
        path = files("leonet").joinpath("data", "measured", "starlink_published_metrics", f"residential_countries_{d}.json")
        return json.loads(path.read_text())

    jan, dec = raw("2024-01-06"), raw("2023-12-04")
    common = [c for c in jan if c in dec]
    lat = {c for c in common if abs(dec[c]["latency_p50"] - jan[c]["latency_p50"]) <= 5}
    dl = {c for c in common if abs(dec[c]["download_p50"] - jan[c]["download_p50"]) <= 0.2 * jan[c]["download_p50"]}
    p = persistence(read_published_metrics(shipped_metrics_path("2024-01-06")), shipped_month_before(date(2024, 1, 6)))
    assert p.earlier == date(2023, 12, 4)
    assert set(p.countries) == set(common) and len(common) == 35
    assert set(p.latency_within) == lat and set(p.download_within) == dl
    # Starlink itself, a month apart, meets the goal's tolerances in 26 of 35 countries: 74 %, under 80 %
    assert len(p.both_within) == 26


def test_the_summary_line_and_when_there_is_none():
    jan = read_published_metrics(shipped_metrics_path("2024-01-06"))
    rows = [{"country": "UKR", "metric": "latency_p50", "within_tolerance": False},
            {"country": "UKR", "metric": "download_p50", "within_tolerance": True},
            {"country": "DEU", "metric": "latency_p50", "within_tolerance": True},
            {"country": "DEU", "metric": "download_p50", "within_tolerance": True}]
    (line,) = persistence_lines(jan, ["UKR", "DEU"], rows)
    assert line.startswith("yardstick: Starlink's own figures of 2023-12-04")
    assert "of the 2 countries both files hold" in line and line.endswith("leonet, both: 1 of those 2")
    sep = read_published_metrics(shipped_metrics_path("2023-09-08"))
    assert shipped_month_before(sep.date) is None and persistence_lines(sep, ["DEU"], rows) == []
    # only countries that ran count (as in the summary's own counts); ATA has no rows here
    assert persistence_lines(jan, ["ATA"], rows) == [] and persistence_lines(jan, ["ZZZ"], rows) == []
    ata = [{"country": "ATA", "metric": m, "within_tolerance": False} for m in ("latency_p50", "download_p50")]
    assert "of the 1 country both files hold" in persistence_lines(jan, ["ATA", "UKR"], ata)[0]


def test_starlink_against_its_own_month_before():
    """What the yardstick says of the shipped files: a month apart, Starlink's own figures meet the
    goal's tolerances in 17, 26, 24 and 26 countries (Oct 2023 to Jan 2024): 93 of 128
    country-months, 73 %, under the goal's 80 %."""
    got = []
    for when in ("2023-10-03", "2023-11-08", "2023-12-04", "2024-01-06"):
        later = read_published_metrics(shipped_metrics_path(when))
        p = persistence(later, shipped_month_before(later.date))
        got.append((len(p.both_within), len(p.countries)))
    assert got == [(17, 31), (26, 31), (24, 31), (26, 35)]
    assert sum(b for b, _ in got) / sum(n for _, n in got) == pytest.approx(93 / 128)


def test_rows_get_starlinks_own_figure_of_the_month_before():
    from leonet.realism.persistence import add_month_before

    jan = read_published_metrics(shipped_metrics_path("2024-01-06"))
    dec = read_published_metrics(shipped_metrics_path("2023-12-04"))
    rows = [{"country": "UKR", "metric": "latency_p50"}, {"country": "DEU", "metric": "download_p20"},
            {"country": "ZZZ", "metric": "latency_p50"}, {"country": "USA (reference)", "metric": "latency_p50"}]
    missing = [c for c in jan.countries if c not in dec.countries]
    rows.append({"country": missing[0], "metric": "latency_p50"})
    add_month_before(jan, rows)
    assert rows[0]["published_month_before"] == dec.countries["UKR"]["latency_p50"]
    assert rows[1]["published_month_before"] == dec.countries["DEU"]["download_p20"]
    assert all("published_month_before" not in r for r in rows[2:])
    sep_rows = [{"country": "DEU", "metric": "latency_p50"}]
    add_month_before(read_published_metrics(shipped_metrics_path("2023-09-08")), sep_rows)
    assert "published_month_before" not in sep_rows[0]
