"""Readers of a windowed run (time that zooms, issue 12): every share and lost time weights a step
by the time it stands for, instants are the run's real ones, and the report tells the run day by
day. The expected numbers are worked out by hand from the scenario below.

The run: 3 days from 2022-03-01 01:00 UTC at 2 h steps (so the 23:00 step crosses midnight), a
60 s window at 10 s steps at 2022-03-02 11:00, 2 dishes in Kyiv and 2 in Kharkiv. Kharkiv loses
its ground internet on 2 March (00:00 - 24:00); a core outage takes every dish off the satellite
for the window's first 30 s (11:00:00 - 11:00:30).
"""

import csv
import json
import re
import textwrap

import numpy as np
import pytest

import leonet
from leonet.results.calendar import calendar
from leonet.results.compare import compare, resilience_by_group
from leonet.results.store import ResultStore

pytestmark = pytest.mark.slow

SCENARIO = """
name: story
constellation: starlink-gen1
ground:
  dish_groups:
    - {name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 2, radius_km: 10, seed: 1}
    - {name: Kharkiv, lat_deg: 49.99, lon_deg: 36.23, count: 2, radius_km: 10, seed: 2}
  builtin:
    - {name: starlink-gateways-2023, regions: [Europe]}
    - {name: starlink-pops-2023, regions: [Europe]}
time:
  start: 2022-03-01T01:00:00Z
  duration_s: 259200
  step_s: 7200
  windows:
    - {name: hack, start: 2022-03-02T11:00:00Z, duration_s: 60, step_s: 10}
outputs: {visibility_pairs: false}
events:
  - {name: east-fibre, type: terrestrial_outage, start: 2022-03-02T00:00:00Z, end: 2022-03-03T00:00:00Z,
     target: {groups: [Kharkiv]}}
  - {name: core, type: core_outage, start: 2022-03-02T11:00:00Z, end: 2022-03-02T11:00:30Z}
"""

DAY_S = 86_400.0
CORE_S = 30.0          # the core outage: 3 window steps of 10 s
DISHES = 4             # 2 per group


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("uneven")
    (d / "s.yaml").write_text(textwrap.dedent(SCENARIO))
    a = leonet.run(leonet.load_scenario(d / "s.yaml"), out_dir=d / "out", baseline=True)
    return a.store.root, a.baseline.store.root


def test_the_calendar_is_uneven(runs):
    store = ResultStore(runs[0])
    cal = calendar(store)
    assert not cal.uniform and cal.n_steps == 36 + 5  # 36 coarse steps, the window adds 5 instants
    assert cal.durations_s.sum() == pytest.approx(3 * DAY_S)
    assert cal.text() == "41 steps (7,200 s, and windows at hack 2022-03-02 11:00:00 for 60 s at 10 s)"


def test_lost_time_sums_durations_not_steps(runs):
    scen, base = ResultStore(runs[0]), ResultStore(runs[1])
    df = compare(scen, base)
    assert (df["availability_baseline"] == 1.0).all()
    # 2 dishes x 30 s in each group (3 steps of 10 s), not 3 steps x 7,200 s
    np.testing.assert_allclose(df["lost_s_NO_PATH"], 2 * CORE_S)
    np.testing.assert_allclose(df["availability"], 1 - CORE_S / (3 * DAY_S))
    # Kharkiv's users are on satellite only from the first step after the ground goes (01:00 on
    # 2 March) until the step that sees it back (01:00 on 3 March), less the core outage.
    assert df.loc["Kharkiv", "saved_by_satellite_s"] == pytest.approx(2 * (DAY_S - CORE_S))
    assert df.loc["Kharkiv", "online_none"] == pytest.approx(CORE_S / (3 * DAY_S))
    assert df.loc["Kyiv", "online_ground"] == pytest.approx(CORE_S / (3 * DAY_S))
    same = resilience_by_group(scen, scen.manifest.step_s)
    np.testing.assert_allclose(same["lost_s_NO_PATH"], df["lost_s_NO_PATH"])


def test_planning_metrics_weight_by_duration(runs):
    from leonet.planning.metrics import region_metrics

    assert region_metrics(runs[0])["availability"] == pytest.approx(1 - CORE_S / (3 * DAY_S))


def test_daily_table_by_hand(runs):
    from leonet.results.timeline import daily_table

    day = daily_table(ResultStore(runs[0])).set_index("day")
    assert list(day.index) == ["2022-03-01", "2022-03-02", "2022-03-03", "2022-03-04"]
    np.testing.assert_allclose(day["hours"], [23, 24, 24, 1])         # the 23:00 step is split at midnight
    np.testing.assert_allclose(day["dish_hours"], DISHES * day["hours"])
    assert day["steps"].tolist() == [12, 12 + 5, 12, 0]
    d2 = day.loc["2022-03-02"]
    dish_s = DISHES * DAY_S
    # 2 March: Kharkiv satellite-only from 01:00 (23 h) less the 30 s core outage, when it has nothing
    assert d2["online_satellite"] == pytest.approx(2 * (23 * 3600 - CORE_S) / dish_s)
    assert d2["online_none"] == pytest.approx(2 * CORE_S / dish_s)
    assert d2["online_ground"] == pytest.approx(2 * CORE_S / dish_s)   # Kyiv: ground only during the core outage
    assert d2["online"] == pytest.approx(1 - DISHES * CORE_S / dish_s)
    # 3 March: the 23:00 step of 2 March (ground still down) covers its first hour
    assert day.loc["2022-03-03", "online_satellite"] == pytest.approx(2 * 3600 / dish_s)
    shares = day[["online_both", "online_satellite", "online_ground", "online_none"]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    assert day.loc["2022-03-01", "events"] == "" and day.loc["2022-03-03", "events"] == ""
    assert day.loc["2022-03-02", "events"] == "east-fibre (terrestrial_outage); core (core_outage)"


def test_app_history_and_outages_use_real_instants(runs):
    from datetime import datetime, timezone

    from leonet.app import dish, network
    from leonet.app.run import RunData

    run = RunData(runs[0])
    times = ResultStore(runs[0]).step_times_ns()
    h = dish.history(run, "Kharkiv0", None, None, baseline=True)
    np.testing.assert_array_equal(np.array(h.t_s) * 1e9 + run.start_ns, times)
    assert h.duration_s == pytest.approx(ResultStore(runs[0]).step_durations_s().tolist())
    assert h.summary.pop_ping_drop_rate == pytest.approx(CORE_S / (3 * DAY_S))
    o = dish.outages(run, "Kharkiv0", None, None, 10)
    assert o.seconds_by_cause == {"NO_PINGS": pytest.approx(CORE_S)}
    assert (o.outages[0].start, o.outages[0].end) == ("2022-03-02T11:00:00Z", "2022-03-02T11:00:30Z")
    assert o.outages[0].start_s == pytest.approx(DAY_S + 10 * 3600)
    inside = datetime(2022, 3, 2, 11, 0, 25, tzinfo=timezone.utc)
    assert run.t_ns(run.step_of(None, inside)) == int(times[np.searchsorted(times, 0) + 19])
    assert run.step_of(None, datetime(2022, 3, 2, 12, 30, tzinfo=timezone.utc)) == 22  # the 11:00:50 step
    page = network.steps(run, 17, 23)
    assert page.t[0] == "2022-03-02T11:00:00Z" and page.duration_s == [10.0] * 5 + [7150.0]
    info = run.info()
    assert not info.uniform_steps and info.duration_s == 3 * DAY_S and "windows at hack" in info.calendar
    regions = network.regions(run, 0, 10).regions
    assert [r.availability for r in regions] == pytest.approx([1 - CORE_S / (3 * DAY_S)] * 2)
    days = network.daily(run).days
    assert [d.day for d in days][1] == "2022-03-02" and days[1].events == ["east-fibre (terrestrial_outage)", "core (core_outage)"]


def test_czml_intervals_follow_real_instants(runs, tmp_path):
    from leonet.results.czml import export_czml

    # a few satellites: what is checked is the sites and the clock (the whole sky took 20 s)
    doc = json.loads(export_czml(runs[0], tmp_path / "run.czml", max_satellites=5, every_n_steps=1).read_text())
    sites = ResultStore(runs[0]).read("sites", columns=["name"]).column("name").to_pylist()
    packet = next(p for p in doc if p["id"] == f"site-{sites.index('Kharkiv0')}")
    intervals = [c["interval"] for c in packet["point"]["color"]]
    assert intervals == ["2022-03-01T01:00:00Z/2022-03-02T11:00:00Z", "2022-03-02T11:00:00Z/2022-03-02T11:00:30Z",
                         "2022-03-02T11:00:30Z/2022-03-04T01:00:00Z"]
    # the clock ends with the run (the last step lasts to its end), as the dishes' intervals do
    assert doc[0]["clock"]["interval"] == "2022-03-01T01:00:00Z/2022-03-04T01:00:00Z"


def test_report_tells_the_story(runs, tmp_path):
    from leonet.results.report import write_report
    from leonet.results.timeline import daily_table

    html = write_report(runs[0], tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="timeline"' in html and 'id="timeline-days"' in html and 'id="timeline-events"' in html
    assert "41 steps (7,200 s, and windows at hack 2022-03-02 11:00:00 for 60 s at 10 s)" in html
    assert "2022-03-04 01:00:00 UTC (259,200 s" in html
    table = html[html.index('id="timeline-days"'):html.index('id="timeline-events"')]
    shown = [float(v) for v in re.findall(r'data-col="online_satellite" data-value="([^"]+)"', table)]
    np.testing.assert_array_equal(shown, daily_table(ResultStore(runs[0]))["online_satellite"].to_numpy())
    assert len(shown) == 4
    # the group table's availability is a share of time too (30 s lost of 3 days), not of steps (6 of 82)
    avail = [float(v) for v in re.findall(r'data-col="availability" data-value="([^"]+)"', html)]
    assert avail == pytest.approx([1 - CORE_S / (3 * DAY_S)] * 2)


def test_csv_export_writes_steps_and_daily(runs, tmp_path):
    from leonet.results.csv_export import export_csv
    from leonet.results.timeline import daily_table

    files = {p.stem: p for p in export_csv(runs[0], tmp_path, tables=["steps", "daily"])}
    with open(files["steps"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 41 and rows[17] == {"t": "2022-03-02T11:00:00Z", "duration_s": "10"}
    with open(files["daily"], newline="") as fh:
        daily = list(csv.DictReader(fh))
    expected = daily_table(ResultStore(runs[0]))
    assert [r["day"] for r in daily] == expected["day"].tolist()
    np.testing.assert_allclose([float(r["online_satellite"]) for r in daily], expected["online_satellite"], rtol=1e-5)


def test_uniform_runs_weigh_every_step_alike(tmp_path):
    sc = leonet.scenario_from_dict({
        "name": "flat", "constellation": "starlink-shell1",
        "ground": {"dish_groups": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 1, "seed": 1}]},
        "time": {"start": "2022-03-09T00:00:00Z", "duration_s": 100, "step_s": 30},
        "network": {"enabled": False}, "outputs": {"visibility_pairs": False}})
    cal = calendar(ResultStore(leonet.run(sc, out_dir=tmp_path / "u").store.root))
    assert cal.uniform and cal.text() == "4 steps of 30 s"
    # every step of 30 s weighs exactly 1.0; the last stops at the calendar's end (100 s): 10 s
    np.testing.assert_array_equal(cal.weights, [1.0, 1.0, 1.0, 1.0 / 3.0])
    assert cal.weights.dtype == np.float64 and not cal.even
    np.testing.assert_array_equal(cal.index_of(cal.times_ns), np.arange(4))


def test_pair_figures_are_shares_of_time(tmp_path):
    """A station pair on a windowed calendar: the app's pair availability and history weigh each
    step by its duration, and the history's instants are the run's."""
    from leonet.app import pairs
    from leonet.app.run import RunData

    sc = leonet.scenario_from_dict({
        "name": "pairs", "constellation": "starlink-shell1",
        "ground": {"sites": [{"name": "S1", "lat_deg": 48.85, "lon_deg": 2.35, "kind": "station"},
                             {"name": "S2", "lat_deg": 52.52, "lon_deg": 13.40, "kind": "station"}]},
        "time": {"start": "2022-03-01T12:00:00Z", "duration_s": 3600, "step_s": 600,
                 "windows": [{"start_s": 600, "duration_s": 30, "step_s": 5}]},
        "network": {"pairs": [["S1", "S2"]]}, "outputs": {"visibility_pairs": False}})
    root = leonet.run(sc, out_dir=tmp_path / "p").store.root
    run = RunData(root)
    store = ResultStore(root)
    rtt = store.read("pair_steps", columns=["t", "rtt_ms"]).to_pandas().sort_values("t")
    seconds = store.step_durations_s()
    want = float((seconds * np.isfinite(rtt["rtt_ms"].to_numpy())).sum() / seconds.sum())
    h = pairs.history(run, "S1", "S2", None, None)
    np.testing.assert_array_equal(np.array(h.t_s) * 1e9 + run.start_ns, store.step_times_ns())
    assert h.availability == pytest.approx(want)
    listed = pairs.pair_list(run, 0, 10, None, "name").pairs[0]
    assert listed.availability == pytest.approx(want) and listed.steps == len(seconds)


def test_a_calendar_that_starts_in_a_window_counts_whole_dishes(tmp_path):
    """A group's dish count is a count: in a sampled day (each coarse step the first instant of a
    short window, as the realism check ran until Dec 2026) the first step stands for 15 s of an hour, and the
    count must not shrink with it (it read 0 dishes per group before)."""
    from leonet.results.summary import network_summary

    scenario = leonet.scenario_from_dict({
        "name": "sampled", "constellation": "starlink-gen1",
        "ground": {"dish_groups": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 3, "radius_km": 10,
                                    "seed": 1}],
                   "builtin": [{"name": "starlink-gateways-2023", "regions": ["Europe"]},
                               {"name": "starlink-pops-2023", "regions": ["Europe"]}]},
        "time": {"start": "2022-03-01T00:00:12Z", "duration_s": 7200, "step_s": 3600,
                 "windows": [{"name": f"h{k}", "start_s": 3600 * k, "duration_s": 30, "step_s": 15} for k in range(2)]},
        "outputs": {"visibility_pairs": False},
    })
    run = leonet.run(scenario, out_dir=tmp_path / "out")
    summary = network_summary(ResultStore(run.store.root))
    kyiv = summary.by_group().set_index("group").loc["Kyiv"]
    assert int(kyiv["dishes"]) == 3 and int(kyiv["steps"]) == 3 * 4
