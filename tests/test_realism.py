"""The realism check (issue 11, item 9): the metrics reader, quality percentiles, and a fast run of
two countries through the command line, with the service model: both countries' download p50 within
20 %, Germany's latency p50 within 5 ms and upload p50 within 20 %, and the order of Ukraine and
Germany asserted; Ukraine's latency is an xfail (its reason given there)."""

import json
import re
import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest

from leonet.errors import InputError
from leonet.realism.metrics import FIELDS, SHIPPED_DATES, parse_published_metrics, read_published_metrics, shipped_metrics_path
from leonet.realism.quality import quality_percentile, weighted_percentile
from leonet.realism.reference import dish_history, series_stats

UKR = {"download_p20": 42.559, "download_p50": 153.387, "download_p80": 223.778, "latency_p20": 74.59,
       "latency_p50": 60.381, "latency_p80": 52.73, "upload_p20": 8.618, "upload_p50": 15.972, "upload_p80": 23.899}


def test_shipped_files_read_with_their_dates():
    counts = {}
    for d in SHIPPED_DATES:
        m = read_published_metrics(str(shipped_metrics_path(d)))
        assert m.date == date.fromisoformat(d)
        counts[d] = len(m.countries)
    assert counts == {"2023-09-08": 31, "2023-10-03": 31, "2023-11-08": 31, "2023-12-04": 35, "2024-01-06": 40}
    m = read_published_metrics()
    # Starlink's figures as published (SOURCE.md): Ukraine slower than Germany
    assert m.countries["UKR"]["latency_p50"] == pytest.approx(60.381)
    assert m.countries["DEU"]["latency_p50"] == pytest.approx(39.883)
    assert m.iso2("UKR") == "UA" and m.iso2("DEU") == "DE"


@pytest.mark.parametrize("data, field, words", [
    ({"UA": UKR}, "UA", "alpha-3"),
    ({"XXX": UKR}, "XXX", "unknown ISO"),
    ({"UKR": {k: v for k, v in UKR.items() if k != "upload_p80"}}, "UKR.upload_p80", "missing"),
    ({"UKR": {**UKR, "jitter_p50": 3.0}}, "UKR.jitter_p50", "unknown field"),
    ({"UKR": {**UKR, "latency_p50": "60"}}, "UKR.latency_p50", "number"),
    ({"UKR": {**UKR, "latency_p50": 0.06}}, "UKR.latency_p50", "plausible"),
    # numeric percentiles (p20 the lower latency) break the quality convention
    ({"UKR": {**UKR, "latency_p20": 52.73, "latency_p80": 74.59}}, "UKR.latency_p20", "quality convention"),
])
def test_bad_metrics_name_file_and_field(data, field, words):
    with pytest.raises(InputError) as err:
        parse_published_metrics(json.dumps(data), "m_2024-01-06.json")
    assert err.value.source == "m_2024-01-06.json" and err.value.location == field and words in err.value.message


def test_a_country_twice_in_a_metrics_file_is_refused():
    """json.loads keeps the last of two equal keys: a pasted second row once passed silently."""
    text = '{"UKR": %s, "UKR": %s}' % (json.dumps(UKR), json.dumps({**UKR, "latency_p50": 61.0}))
    with pytest.raises(InputError, match="appears twice") as err:
        parse_published_metrics(text, "m_2024-01-06.json")
    assert err.value.location == "UKR"
    inner = '{"UKR": %s}' % json.dumps(UKR).replace('"latency_p50"', '"latency_p50": 1.0, "latency_p50"', 1)
    with pytest.raises(InputError, match="'latency_p50' appears twice"):
        parse_published_metrics(inner, "m_2024-01-06.json")


def test_countries_naming_nothing_or_twice_are_refused():
    from leonet.realism.check import run_realism

    metrics = read_published_metrics()
    for countries, words in (([], "names no country"), ([" ", ""], "names no country"),
                             (["DNK", "dnk"], "given twice")):
        with pytest.raises(InputError, match=words):
            run_realism(metrics, countries=countries)
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "realism", "--countries", ""], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "names no country" in r.stderr


def test_the_summary_says_the_samples_of_its_mode():
    from leonet.realism.calibrated import ASSUMPTIONS, assumptions

    fast = [a for a in assumptions("fast") if a.startswith("time:")]
    full = [a for a in assumptions("full") if a.startswith("time:")]
    assert "4 windows of 15 s, one in every 6 hours of the local day" in fast[0] and "over the 4 days" in fast[0]
    assert "96 windows of 15 s, one in every 15 minutes of the local day" in full[0] and "over the 24 days" in full[0]
    assert len(assumptions("fast")) == len(ASSUMPTIONS) and not any("{" in a for a in assumptions("full"))


def test_metrics_date_must_come_from_name_or_caller(tmp_path):
    with pytest.raises(InputError, match="no date"):
        parse_published_metrics(json.dumps({"UKR": UKR}), "mine.json")
    assert parse_published_metrics(json.dumps({"UKR": UKR}), "mine.json", date(2025, 3, 1)).date == date(2025, 3, 1)
    with pytest.raises(InputError, match="JSON"):
        parse_published_metrics("{", "x_2024-01-01.json")


def test_quality_percentiles_against_numpy():
    rng = np.random.default_rng(5)
    x = rng.gamma(2.0, 20.0, 501)
    for q in (20, 50, 80):
        assert weighted_percentile(x, 1.0, q) == pytest.approx(np.percentile(x, q, method="hazen"))
    # p20 is the worse value: the higher latency, the lower speed
    assert quality_percentile(x, 1.0, 20, higher_is_better=False) == pytest.approx(np.percentile(x, 80, method="hazen"))
    assert quality_percentile(x, 1.0, 20, higher_is_better=True) == pytest.approx(np.percentile(x, 20, method="hazen"))
    # integer weights equal repetition
    w = rng.integers(1, 5, 501)
    assert weighted_percentile(x, w, 50) == pytest.approx(np.percentile(np.repeat(x, w), 50, method="hazen"), rel=0.02)


def test_dish_history_statistics():
    lat, drop, _ = dish_history()
    assert lat.shape == drop.shape == (900,)
    s = series_stats(lat, drop)
    assert s["latency_p20"] >= s["latency_p50"] >= s["latency_p80"]
    assert 0 < s["drop_rate_mean"] < 1 and 0 < s["seconds_with_drops"] < 1
    # the 15 s reconfiguration shows: steps at the boundary exceed the jitter within a slot
    assert s["slot_step_ms"] > s["jitter_within_slot_ms"] > 0
    # outages apart: 76 of the 900 seconds lost every ping; the rest average 2.8 % lost
    assert s["seconds_lost"] == pytest.approx(76 / 900)
    kept = drop < 1
    assert s["drop_rate_mean_outside_outages"] == pytest.approx(drop[kept].sum() / kept.sum())
    assert s["drop_rate_mean"] == pytest.approx(s["seconds_lost"] + (1 - s["seconds_lost"]) * s["drop_rate_mean_outside_outages"])


def test_the_measured_dish_was_obstructed():
    """The dish history's own outage record (since boot) is what the reference rows' caveat cites:
    an obstructed installation, which leonet's clear-view dish is not."""
    from leonet.realism.reference import outage_record

    record = outage_record()
    assert record["BOOTING"][0] == 1 and record["OBSTRUCTED"][0] == 227 and record["NO_SCHEDULE"][0] == 251
    assert record["OBSTRUCTED"][1] == pytest.approx(1254.4, abs=0.1)


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    """The check's printed output and its folder (Ukraine and Germany)."""
    out = tmp_path_factory.mktemp("realism")
    # the full windows and cities of the benchmark (a few seconds for two countries): the fast mode's
    # handful of samples is a quick look, too few for a tolerance
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "realism", "--countries", "UKR,DEU",
                        "--no-references", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return r.stdout, out


@pytest.fixture(scope="module")
def fast_table(fast_run):
    stdout, out = fast_run
    return stdout, pd.read_parquet(out / "realism.parquet"), pd.read_csv(out / "realism.csv")


@pytest.mark.slow
def test_fast_run_table_structure(fast_table):
    stdout, table, table_csv = fast_table
    assert "latency p50 within 5 ms" in stdout and "order kept" in stdout and "UKR" in stdout
    assert list(table.columns)[:7] == ["country", "metric", "unit", "published", "source", "leonet", "within_tolerance"]
    assert len(table) == len(table_csv) == 2 * len(FIELDS)
    assert set(table["country"]) == {"UKR", "DEU"} and set(table["metric"]) == set(FIELDS)
    ukr = table[table["country"] == "UKR"].set_index("metric")
    assert ukr.loc["latency_p50", "published"] == pytest.approx(60.381)
    # Starlink's own figure a month before (the shipped 2023-12-04 file), beside it
    dec = read_published_metrics(shipped_metrics_path("2023-12-04")).countries["UKR"]
    assert ukr["published_month_before"].to_dict() == pytest.approx({f: dec[f] for f in FIELDS})
    assert "yardstick: Starlink's own figures of 2023-12-04" in " ".join(stdout.split())
    # Kyiv's GeoIP subnets: Frankfurt 18, Madrid 6, London 3 (one sample dish per city and PoP)
    assert ukr["home_pop"].iloc[0] == "frntdeu1/lndngbr1/mdrdesp1"
    # a verdict exactly where a tolerance is defined
    assert table["within_tolerance"].notna().sum() == 4
    assert table[table["metric"].isin(["latency_p50", "download_p50"])]["within_tolerance"].notna().all()
    assert (table["leonet"].notna()).all() and (table["run_s"] > 0).all()
    # quality convention on leonet's side too
    lat = ukr.loc[["latency_p20", "latency_p50", "latency_p80"], "leonet"].to_numpy()
    down = ukr.loc[["download_p20", "download_p50", "download_p80"], "leonet"].to_numpy()
    assert lat[0] >= lat[1] >= lat[2] and down[0] <= down[1] <= down[2]


@pytest.mark.slow
def test_breakdown_by_home_pop(fast_run, fast_table):
    """realism_by_home_pop.csv: one row per country and home PoP of its sample dishes; the
    subscriber shares sum to 1 (Kyiv's GeoIP subnets: Frankfurt 18, Madrid 6, London 3 of 27);
    each country's latency and download p50 lie within its PoPs' (the median of a mixture lies
    between its parts'); shares are shares; the landing names gateways of the run."""
    _, table, _ = fast_table
    by_pop = pd.read_csv(fast_run[1] / "realism_by_home_pop.csv")
    assert list(by_pop.columns) == ["country", "home_pop", "subscriber_share", "connected_share", "latency_p50_ms",
                                    "propagation_p50_ms", "download_p50_mbps", "laser_hops_mean", "at_home_pop_share",
                                    "landing"]
    # the route alone is part of the latency: the service terms add MAC, processing and more
    assert ((by_pop["propagation_p50_ms"] > 1.0) & (by_pop["propagation_p50_ms"] < by_pop["latency_p50_ms"])).all()
    p50 = table.set_index(["country", "metric"])
    for iso3, rows in by_pop.groupby("country"):
        assert "/".join(sorted(rows["home_pop"])) == p50.loc[(iso3, "latency_p50"), "home_pop"]
        assert rows["subscriber_share"].sum() == pytest.approx(1.0)
        for metric, col in (("latency_p50", "latency_p50_ms"), ("download_p50", "download_p50_mbps")):
            assert rows[col].min() - 1e-9 <= p50.loc[(iso3, metric), "leonet"] <= rows[col].max() + 1e-9
        for col in ("connected_share", "at_home_pop_share"):
            assert ((rows[col] >= 0) & (rows[col] <= 1)).all()
        assert (rows["laser_hops_mean"] >= 0).all() and rows["landing"].str.contains("%").all()
    ukr = by_pop[by_pop["country"] == "UKR"].set_index("home_pop")["subscriber_share"]
    assert ukr.to_dict() == pytest.approx({"frntdeu1": 18 / 27, "mdrdesp1": 6 / 27, "lndngbr1": 3 / 27})


def test_unknown_country_is_refused_before_running(tmp_path):
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "realism", "--countries", "FRA", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "FRA" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_download_and_order_with_the_service_model(fast_table):
    """Download p50 within 20 % for Germany (global parameters only), and Ukraine's latency above
    Germany's, as published."""
    _, table, _ = fast_table
    p50 = table.set_index(["country", "metric"])
    pub = p50.loc[("DEU", "download_p50"), "published"]
    assert abs(p50.loc[("DEU", "download_p50"), "leonet"] - pub) <= 0.2 * pub
    assert p50.loc[("UKR", "latency_p50"), "leonet"] > p50.loc[("DEU", "latency_p50"), "leonet"]


@pytest.mark.slow
def test_latency_tolerance_germany(fast_table):
    """Germany's latency p50 within 5 ms: the processing term before 2024 is fitted on another
    month (2023-09-08), so Jan 2024 is a hold-out."""
    _, table, _ = fast_table
    p50 = table.set_index(["country", "metric"])
    assert abs(p50.loc[("DEU", "latency_p50"), "leonet"] - p50.loc[("DEU", "latency_p50"), "published"]) <= 5.0


@pytest.mark.slow
def test_upload_germany_with_the_fitted_uplink(fast_table):
    """Germany's upload p50 within 20 % of Starlink's (18.7 Mbps, Jan 2024; a hold-out: the
    satellite's G/T is fitted on 2023-09-08), where the former 10 dB/K placeholder gave 26 Mbps
    (+39 %)."""
    _, table, _ = fast_table
    p50 = table.set_index(["country", "metric"])
    pub = p50.loc[("DEU", "upload_p50"), "published"]
    assert abs(p50.loc[("DEU", "upload_p50"), "leonet"] - pub) <= 0.2 * pub


@pytest.mark.slow
def test_download_tolerance_ukraine(fast_table):
    """Within 20 % (178.5 against 153.4 Mbps) since the check samples 96 instants over 24 days: on the
    one day it sampled before (2026-12-03) the p50 sat on the next MODCOD step, 184.07 Mbps, 0.004 Mbps
    past the tolerance. bench/RESULTS.md, "Realism: a month of days sampled"."""
    _, table, _ = fast_table
    p50 = table.set_index(["country", "metric"])
    pub = p50.loc[("UKR", "download_p50"), "published"]
    assert abs(p50.loc[("UKR", "download_p50"), "leonet"] - pub) <= 0.2 * pub


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "latency p50 is 54.2 ms against 60.4 published, 6.2 ms short: within (55.7) while the check sampled one "
    "day's hours, whose sky put far countries up to 26 ms from where 24 days put them; over 96 instants of 24 days the processing term "
    "refitted by its rule on Sep 2023 reads 6.4 ms (8.2 before) and Ukraine's own routes stay shorter than "
    "the median country's. bench/RESULTS.md, Realism: a month of days sampled"))
def test_latency_tolerance_ukraine(fast_table):
    _, table, _ = fast_table
    p50 = table.set_index(["country", "metric"])
    assert abs(p50.loc[("UKR", "latency_p50"), "leonet"] - p50.loc[("UKR", "latency_p50"), "published"]) <= 5.0


def test_ukraine_2024_uses_the_dated_processing_term():
    """The preset's processing term is the realism model's for its start date (one schedule)."""
    from datetime import date

    from leonet.realism.calibrated import processing_ms_at
    from leonet.scenario import load_scenario

    sc = load_scenario("ukraine-2024")
    # the date of the published figures (the last of the 24 sampled days; the model is that date's throughout)
    assert sc.service.latency.processing_ms == pytest.approx(processing_ms_at(date(2024, 1, 6)), abs=0.0005)
    # the schedule: fitted before 2024, then through SpaceX's two later US figures (less the 2025 propagation share)
    assert processing_ms_at(date(2024, 1, 1)) == pytest.approx(6.4)   # fitted on the 2023-09-08 figures
    assert processing_ms_at(date(2024, 3, 1)) == pytest.approx(11.3)
    assert processing_ms_at(date(2025, 6, 1)) == pytest.approx(4.0)
    assert processing_ms_at(date(2023, 6, 1)) == pytest.approx(6.4)


def test_occupied_cities_are_no_dish_sites():
    """Starlink did not serve Russian-occupied Ukraine (calibrated.UNSERVED_PLACES, sourced there):
    Donetsk and Sevastopol, two of Ukraine's nine most populous GeoNames cities, are no dish sites
    of the 2024 plan, while front-line Avdiivka (Ukrainian-held until Feb 2024) stays served and
    Mariupol counts as unserved only from its fall (20 May 2022)."""
    from pathlib import Path

    from leonet.ground.population import cities_of, find_city
    from leonet.realism.calibrated import MAX_CITIES, UNSERVED_RADIUS_KM, country_plan, served

    day = date(2024, 1, 6)
    plan = country_plan("UKR", "UA", day, Path("unused.tle"))
    assert "Donetsk" not in plan.cities and "Sevastopol" not in plan.cities
    # the eight most populous cities of GeoNames that are not occupied, in order of population
    top = [c for c in cities_of(["UA"], 15_000, 20) if c.name not in ("Donetsk", "Sevastopol")][: MAX_CITIES["full"]]
    # one sample dish per city and home PoP (Kyiv's GeoIP split: Frankfurt 2/3, Madrid 2/9, London 1/9)
    assert tuple(dict.fromkeys(plan.cities)) == tuple(c.name for c in top)
    assert plan.cities[-1] == "Mykolayiv" and len(plan.weights) == 8 * 3
    homes = [s["home_pop"] for s in plan.scenario["ground"]["sites"]]
    assert homes[:3] == ["frntdeu1", "mdrdesp1", "lndngbr1"]
    kyiv = plan.weights[:3]
    assert kyiv / kyiv.sum() == pytest.approx([18 / 27, 6 / 27, 3 / 27])
    sites = plan.scenario["ground"]["sites"]
    assert served([s["lat_deg"] for s in sites], [s["lon_deg"] for s in sites], day).all()
    for name, ok in (("Donetsk", False), ("Makiyivka", False), ("Luhansk", False), ("Simferopol", False),
                     ("Avdiyivka", True), ("Kramatorsk", True), ("Kyiv", True), ("Zaporizhzhya", True)):
        c = find_city(name, "UA")
        assert bool(served(c.lat_deg, c.lon_deg, day)[0]) is ok, name
    mariupol = find_city("Mariupol", "UA")
    assert served(mariupol.lat_deg, mariupol.lon_deg, date(2022, 5, 19))[0]
    assert not served(mariupol.lat_deg, mariupol.lon_deg, date(2022, 5, 20))[0]
    assert UNSERVED_RADIUS_KM < 13.6  # Avdiivka's distance from Donetsk's centre
    # other countries are unaffected
    deu = country_plan("DEU", "DE", day, Path("unused.tle"))
    assert tuple(dict.fromkeys(deu.cities)) == tuple(c.name for c in cities_of(["DE"], 15_000, 8))


@pytest.mark.slow
def test_a_set_override_changes_every_country_alike(fast_table, tmp_path):
    """``--set`` (a sensitivity run): 10 ms more processing on every round trip moves each
    country's latency percentiles by exactly 10 ms (a constant added to every RTT); the summary
    lists the override."""
    _, base, _ = fast_table
    from leonet.realism.calibrated import processing_ms_at

    plus = processing_ms_at(date(2024, 1, 6)) + 10.0
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "realism", "--countries", "UKR,DEU", "--no-references",
                        "--set", f"service.latency.processing_ms={plus}", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "override" in r.stdout and "service.latency.processing_ms" in r.stdout
    text = " ".join(r.stdout.split())   # the console wraps long lines
    assert text.count("changed in this run") == 1, r.stdout
    assert re.search(r"processing term by date:[^\[]*\[changed in this run by --set service.latency.processing_ms\]", text)
    new = pd.read_parquet(tmp_path / "realism.parquet").set_index(["country", "metric"])["leonet"]
    old = base.set_index(["country", "metric"])["leonet"]
    for c in ("UKR", "DEU"):
        for q in (20, 50, 80):
            assert new[(c, f"latency_p{q}")] - old[(c, f"latency_p{q}")] == pytest.approx(10.0, abs=0.05)


def test_a_bad_set_override_fails_before_running(tmp_path):
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "realism", "--countries", "DEU", "--no-references",
                        "--set", "service.admission.target_utilisaton=0.6", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "target_utilisaton" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_a_date_far_from_the_element_sets_is_said_not_hidden():
    """Figures of a month the shipped element set cannot reach (beyond MAX_PROPAGATION_DAYS) run on
    the set's own date, and the summary says so; Jan 2024 runs on its own date."""
    from leonet.realism.calibrated import MAX_PROPAGATION_DAYS, simulated_day, simulated_day_note

    assert simulated_day(date(2024, 1, 6)) == date(2024, 1, 6) and simulated_day_note(date(2024, 1, 6)) is None
    assert simulated_day(date(2023, 9, 8)) == date(2023, 12, 27)
    note = simulated_day_note(date(2023, 9, 8))
    assert "2023-09-08" in note and "110 days" in note and "2023-12-27" in note
    assert f"{MAX_PROPAGATION_DAYS} days" in note
    # the plan follows the same rule
    from pathlib import Path

    from leonet.realism.calibrated import country_plan

    assert country_plan("DEU", "DE", date(2025, 3, 1), Path("unused.tle")).day == date(2023, 12, 27)


@pytest.mark.parametrize("when", [date(2024, 1, 6), date(2023, 9, 8), date(2023, 12, 27)])
@pytest.mark.parametrize("mode", ["full", "fast"])
def test_every_local_hour_once_on_days_the_element_set_reaches(when, mode):
    """The check samples every slot of the local day once (quarter hours in full mode), spread over
    the days up to the simulated date, never beyond SGP4's trusted span of the element set
    (calibrated.sample_days, calibrated.day_samples)."""
    from datetime import datetime, timedelta, timezone
    from pathlib import Path

    from leonet.realism.calibrated import (DAY_SAMPLES, MAX_PROPAGATION_DAYS, SAMPLE_DAYS, STEP_S, country_plan,
                                           orbit_set_for, sample_days, simulated_day)

    plan = country_plan("DEU", "DE", when, Path("unused.tle"), mode)
    t = plan.scenario["time"]
    n = DAY_SAMPLES[mode]
    start = datetime.fromisoformat(t["start"].replace("Z", "+00:00"))
    assert len(t["windows"]) == n and t["step_s"] <= 86_400 and t["duration_s"] == n * t["step_s"]
    assert [w["step_s"] for w in t["windows"]] == [STEP_S] * n
    assert [w["start_s"] for w in t["windows"]] == [k * t["step_s"] for k in range(n)]
    instants = [start + timedelta(seconds=w["start_s"]) for w in t["windows"]]
    # the run starts at the first day's last local slot of 24 / n hours: measured from that day's
    # local midnight, the samples cover every slot of the local day once, spread over the D days
    n_days = SAMPLE_DAYS[mode]
    midnight = start - timedelta(hours=24 - 24 / n)
    offsets = [(i - midnight).total_seconds() for i in instants]
    assert sorted(round((o % 86_400) / (86_400 / n)) % n for o in offsets) == list(range(n))
    assert all(o % (86_400 / n) < 60 for o in offsets)      # on the slot, to the slot boundary's seconds
    days = [int(o // 86_400) for o in offsets]
    assert days[0] == 0 and days[-1] == n_days - 1 and set(days) == set(range(n_days))
    # inside the element set's trusted span, and up to the simulated day unless that span moves them later
    first, last = sample_days(simulated_day(when), orbit_set_for(when), mode)
    assert (last - first).days == n_days - 1 and abs((midnight.date() - first).days) <= 1
    orbit = datetime.combine(orbit_set_for(when), datetime.min.time(), tzinfo=timezone.utc)
    span = timedelta(days=MAX_PROPAGATION_DAYS + 1)
    assert all(orbit - span <= i <= orbit + span for i in instants)
    day = simulated_day(when)
    if day - timedelta(days=n_days - 1) >= orbit_set_for(when) - timedelta(days=MAX_PROPAGATION_DAYS):
        assert last == day
    else:
        assert first == orbit_set_for(when) - timedelta(days=MAX_PROPAGATION_DAYS)


@pytest.mark.slow
def test_countries_in_parallel_give_the_same_table(fast_table):
    """``workers`` > 1 runs countries in spawned processes: the same figures, in the same order."""
    from leonet.realism.check import run_realism

    seen = []
    r = run_realism(read_published_metrics(), ["UKR", "DEU"], references=False, workers=2,
                    progress=lambda k, n, c: seen.append((k, n, c)))
    _, base, _ = fast_table
    assert [(x["country"], x["metric"]) for x in r.rows] == list(zip(base["country"], base["metric"]))
    assert [x["leonet"] for x in r.rows] == base["leonet"].tolist()
    assert sorted(c for _, _, c in seen) == ["DEU", "UKR"] and [k for k, _, _ in seen] == [1, 2]


def test_workers_below_one_are_refused():
    from leonet.realism.check import run_realism

    with pytest.raises(InputError, match="workers"):
        run_realism(read_published_metrics(), ["DEU"], references=False, workers=0)


@pytest.mark.slow
def test_parallel_countries_from_a_script_without_a_main_guard_fail_clearly(tmp_path):
    """Spawned workers import the calling script again: without `if __name__ == "__main__":` the
    error says so (not multiprocessing's bootstrapping message)."""
    script = tmp_path / "noguard.py"
    script.write_text("from leonet.realism.check import run_realism\n"
                      "from leonet.realism.metrics import read_published_metrics\n"
                      "run_realism(read_published_metrics(), ['DEU', 'UKR'], references=False, workers=2)\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("leonet.errors.InputError: workers:") and "__main__" in last


def test_the_summary_marks_the_assumptions_an_override_replaces():
    """A sensitivity run on the 2026 ground list once printed "ground segment of 2023" and the Lagos
    rule it had switched off as if they held."""
    from leonet.realism.calibrated import ASSUMPTION_FIELDS, ASSUMPTIONS, assumptions

    assert len(ASSUMPTION_FIELDS) == len(ASSUMPTIONS)
    assert not any("changed in this run" in a for a in assumptions("full"))
    got = assumptions("full", ["ground.builtin", "network.bent_pipe_only_gateways"])
    marked = [a for a in got if "changed in this run" in a]
    assert len(marked) == 2 and "Lagos PoP" in marked[0] and marked[1].startswith("ground segment")
    # a part of a field, and a section above it, change it too; a sibling does not
    assert any("changed" in a for a in assumptions("full", ["ground.builtin[0].name"]) if a.startswith("ground segment"))
    assert sum("changed" in a for a in assumptions("full", ["service"])) == 6  # processing, speed test, background, cells, latency, kit
    # the latency assumption names its terms: switching one off changes it, and the processing term is its own
    jitter = [a for a in assumptions("full", ["service.latency.jitter"]) if "changed" in a]
    assert len(jitter) == 1 and jitter[0].startswith("latency =")
    assert [a.split(":")[0] for a in assumptions("full", ["service.latency.processing_ms"]) if "changed" in a] == [
        "processing term by date"]
    # every sample dish pins its home PoP, so network.home_pop changes no assumption (a hunt found it
    # marked while the table was identical); spaces around parts count as --set reads them
    assert not any("changed" in a for a in assumptions("full", ["network.home_pop"]))
    assert sum("changed" in a for a in assumptions("full", ["service. admission.enabled"])) == 1
    assert not any("changed" in a for a in assumptions("full", ["service.latency.processing_ms_x", "timeout"]))


@pytest.mark.parametrize("preset", ["ukraine-2022", "ukraine-2022-year"])
def test_the_2022_presets_use_the_dated_processing_term(preset):
    """The default story runs the calibrated model's processing term of its dates, not 2025's."""
    from datetime import timedelta

    from leonet.scenario import load_scenario
    from leonet.scenario.calibration import processing_ms_at

    sc = load_scenario(preset)
    start, end = sc.time.start.date(), (sc.time.start + timedelta(seconds=sc.time.duration_s)).date()
    assert sc.service.latency.processing_ms == processing_ms_at(start) == processing_ms_at(end) == 6.4


def test_the_element_set_and_ground_segment_follow_the_figures_date():
    """The check runs figures on the shipped element set nearest their date (2023-12-27 for
    Starlink's files of Sep 2023 - Jan 2024, 2026-08-22 for figures of 2026) and, by default, on the
    ground segment whose source is nearest the day it simulates (the 2023 map, the 2026 list): the
    sky, the model and the ground of one date."""
    from leonet.realism.calibrated import ground_year_of, orbit_set_for, simulated_day
    from leonet.scenario.calibration import ground_year_for

    for when in (date(2023, 9, 8), date(2024, 1, 6), date(2025, 3, 1)):
        assert orbit_set_for(when) == date(2023, 12, 27)
    assert orbit_set_for(date(2025, 6, 1)) == orbit_set_for(date(2026, 12, 1)) == date(2026, 8, 22)
    assert simulated_day(date(2026, 8, 15)) == date(2026, 8, 15)
    assert [ground_year_for(d) for d in (date(2023, 9, 8), date(2024, 1, 6), date(2024, 12, 29))] == [2023] * 3
    assert [ground_year_for(d) for d in (date(2024, 12, 30), date(2026, 8, 15))] == [2026] * 2
    # figures of early 2025 run on the 2023 sky's own days, so on the 2023 ground too
    assert simulated_day(date(2025, 3, 1)) == date(2023, 12, 27) and ground_year_of(date(2025, 3, 1)) == 2023
    assert ground_year_of(date(2024, 1, 6)) == 2023 and ground_year_of(date(2026, 8, 15)) == 2026


@pytest.mark.slow
def test_figures_of_2026_run_on_the_2026_sky_and_ground():
    """A user's metrics file of Aug 2026 runs on the 2026 element set, its own dates, and the 2026
    ground list, and the summary says which ground segment; --ground still chooses."""
    from leonet.realism.check import run_realism

    m = parse_published_metrics(json.dumps({"UKR": UKR}), "mine.json", date(2026, 8, 15))
    result = run_realism(m, mode="fast", references=False)
    starts = {r["sim_start"][:7] for r in result.rows}
    assert starts == {"2026-08"}
    assert any("community list of 2026-03-20" in line for line in result.summary)
    assert not any("days from the nearest shipped element set" in line for line in result.summary)
    # an explicit ground segment still chooses
    plan_rows = run_realism(m, mode="fast", references=False, ground=2023).summary
    assert any("community map of 2023-10-10" in line for line in plan_rows)
