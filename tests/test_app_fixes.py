"""The app's answers to a tester's report, over real HTTP and in headless Chromium:

1. the ping drop rate is a share of pings lost (the service model's): no outage band where there
   was no outage, shown as a percentage, and the window's summary is its time-weighted mean;
2. regions count lost time in dish-time as `leonet summary` does (not site-steps);
3. sky tracks break between passes (a windowed run's steps hours apart are not joined);
4. a core outage is listed (and alerted) for every dish while it acts;
5. instants outside numpy's int64 range of ns are 422, not 500;
6. the globe counts dishes (a site may stand for many), and any dish can be found by name;
7. a run longer than a history window reloads the dish's window when the slider leaves it;
8. with a token, the page's link to /openapi.json and the printed URLs carry it;
9. the app's README lists every alert.

Small runs (a 1,584- or 288-satellite shell, a few dishes) keep each to a few seconds.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.parse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import leonet
from leonet.results.calendar import Calendar
from leonet.results.summary import network_summary

from test_app_api import Server, free_port, get, thread_server

pytestmark = pytest.mark.slow

EUROPE = [{"name": "starlink-gateways-2023", "regions": ["Europe"]}, {"name": "starlink-pops-2023", "regions": ["Europe"]}]
SHELL = {"shells": [{"name": "sh", "altitude_km": 550, "inclination_deg": 53, "planes": 24, "sats_per_plane": 12}]}
COURTYARD = [[0, 85], [180, 85], [200, 40], [230, 40], [250, 85]]
START = "2023-12-27T12:00:12Z"
TOKEN = "abcdefghijklmnop1234"
CORE_START_S, CORE_END_S = 30, 60


def _run(tmp_path_factory, name: str, doc: dict) -> Path:
    out = tmp_path_factory.mktemp(name) / "run"
    leonet.run(leonet.scenario_from_dict({"name": name, **doc}), out_dir=out)
    return out


@pytest.fixture(scope="module")
def svc_run(tmp_path_factory):
    """The service model (as `leonet dish` runs it): drop rates are shares of pings lost, a few
    at the slot reconfigurations while the dish stays CONNECTED."""
    return _run(tmp_path_factory, "svc", {
        "constellation": "starlink-shell1",
        "ground": {"dish_groups": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 2, "seed": 1,
                                    "radius_km": 5}], "builtin": EUROPE},
        "time": {"start": START, "duration_s": 60, "step_s": 1},
        "capacity": {"enabled": True}, "service": {"enabled": True},
        "outputs": {"visibility_pairs": False},
    })


@pytest.fixture(scope="module")
def win_run(tmp_path_factory):
    """Two days of hourly steps with two 2-minute windows of 10 s steps, a day apart; Kyiv's two
    sites stand for 50 dishes each behind a courtyard, Lviv's one for one dish; a core outage."""
    return _run(tmp_path_factory, "win", {
        "constellation": "starlink-shell1",
        "ground": {"dish_groups": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 2, "seed": 1,
                                    "radius_km": 5, "dishes_per_site": 50},
                                   {"name": "Lviv", "lat_deg": 49.84, "lon_deg": 24.03, "count": 1, "seed": 2}],
                   "builtin": EUROPE, "obstructions": [{"groups": ["Kyiv"], "profile": COURTYARD}]},
        "time": {"start": START, "duration_s": 2 * 86400, "step_s": 3600,
                 "windows": [{"name": "a", "start_s": 0, "duration_s": 120, "step_s": 10},
                             {"name": "b", "start_s": 86400, "duration_s": 120, "step_s": 10}]},
        "events": [{"name": "core", "type": "core_outage", "start_s": CORE_START_S, "end_s": CORE_END_S}],
    })


@pytest.fixture(scope="module")
def svc_server(svc_run):
    from leonet.app.server import create_app

    with thread_server(create_app(svc_run)) as s:
        yield s


@pytest.fixture(scope="module")
def win_server(win_run):
    from leonet.app.server import create_app

    with thread_server(create_app(win_run)) as s:
        yield s


def _steps(results: Path) -> pd.DataFrame:
    d = leonet.ResultStore(results).read("dish_steps").to_pandas()
    d["state"] = d["state"].astype(str)
    return d


# -- 1. drop rate ------------------------------------------------------------------------------------

def test_drop_rate_is_a_share_and_the_summary_its_mean(svc_run, svc_server):
    d = _steps(svc_run)
    partial = d[(d["state"] == "CONNECTED") & (d["drop_rate"] > 0) & (d["drop_rate"] < 1)]
    assert len(partial), "the service model loses a few pings at reconfigurations while connected"
    site = int(partial["site"].iloc[0])
    name = str(leonet.ResultStore(svc_run).read("sites").column("name")[site])
    mine = d[d["site"] == site].sort_values("t")
    status, h = get(svc_server, f"/api/v1/dishes/{name}/history")
    assert status == 200
    assert h["pop_ping_drop_rate"] == pytest.approx(mine["drop_rate"].to_numpy(dtype=float).tolist())
    assert h["summary"]["pop_ping_drop_rate"] == pytest.approx(float(mine["drop_rate"].mean()))
    assert h["summary"]["pop_ping_drop_rate"] > 0
    step = int((partial["t"].iloc[0] - d["t"].min()).total_seconds())
    _, st = get(svc_server, f"/api/v1/dishes/{name}/status", {"step": step})
    assert st["state"] == "CONNECTED" and st["pop_ping_drop_rate"] == pytest.approx(float(partial["drop_rate"].iloc[0]))


def test_drop_rate_summary_weighs_each_step_by_its_time(win_run, win_server):
    """A windowed run: an hourly step weighs 360 times a 10 s one."""
    d = _steps(win_run).sort_values("t")
    steps = leonet.ResultStore(win_run).read("steps").to_pandas()
    dur = dict(zip(steps["t"].astype("int64"), steps["duration_s"]))
    mine = d[d["site"] == int(d["site"].min())]
    w = np.array([dur[t] for t in mine["t"].astype("int64")])
    lost = (mine["state"] != "CONNECTED").to_numpy(dtype=float)
    status, h = get(win_server, "/api/v1/dishes/Kyiv0/history")
    assert status == 200
    assert h["summary"]["pop_ping_drop_rate"] == pytest.approx(float((w * lost).sum() / w.sum()))


# -- 2. regions in dish-time -------------------------------------------------------------------------

def test_regions_count_lost_dish_time_as_leonet_summary(win_run, win_server):
    groups = network_summary(leonet.ResultStore(win_run)).by_group().set_index("group")
    status, body = get(win_server, "/api/v1/regions")
    assert status == 200 and {r["group"] for r in body["regions"]} == {"Kyiv", "Lviv"}
    for r in body["regions"]:
        g = groups.loc[r["group"]]
        assert r["outage_causes"] == g["outage_causes"] and "dish-" in r["outage_causes"]
        assert r["lost_s_by_leonet_state"] == pytest.approx(
            {s: float(g[f"lost_s_{s}"]) for s in r["outage_steps_by_leonet_state"]})
    # by hand: Kyiv's two sites stand for 50 dishes each; the core outage's 10 s steps are 3 of them
    kyiv = next(r for r in body["regions"] if r["group"] == "Kyiv")
    assert kyiv["lost_s_by_leonet_state"]["NO_PATH"] == pytest.approx(2 * 50 * (CORE_END_S - CORE_START_S))
    assert kyiv["lost_s_by_cause"]["NO_PINGS"] == kyiv["lost_s_by_leonet_state"]["NO_PATH"]


# -- 3. sky tracks -----------------------------------------------------------------------------------

def test_sky_tracks_break_between_passes(win_server):
    status, sky = get(win_server, "/api/v1/dishes/Kyiv0/obstruction_map")
    assert status == 200 and sky["tracks"]
    broken = 0
    for t in sky["tracks"]:
        ts = np.asarray(t["t_s"])
        breaks = set(t["breaks"])
        broken += len(breaks)
        assert all(0 < i < len(ts) for i in breaks)
        for i in range(1, len(ts)):
            if i not in breaks:
                assert ts[i] - ts[i - 1] <= 25.0, (t["name"], i, ts[i] - ts[i - 1])  # 2.5 x the 10 s steps
    assert broken, "a satellite seen in the first window and again later is two stretches"


def test_sky_tracks_of_a_short_run_are_whole_passes(svc_server):
    status, sky = get(svc_server, "/api/v1/dishes/Kyiv0/obstruction_map")
    assert status == 200
    for t in sky["tracks"]:
        ts = np.asarray(t["t_s"])
        gaps = np.flatnonzero(np.diff(ts) > 1.0) + 1  # a 1 s run: more than a step apart = left view
        assert t["breaks"] == gaps.tolist()


# -- 4. core outage ----------------------------------------------------------------------------------

def test_a_core_outage_is_listed_for_every_dish(win_server):
    for dish in ("Kyiv0", "Kyiv1", "Lviv0"):
        for step in range(0, 12):  # the first window: 10 s steps from the start
            status, st = get(win_server, f"/api/v1/dishes/{dish}/status", {"step": step})
            assert status == 200
            acting = CORE_START_S <= 10 * step < CORE_END_S
            assert (st["events"] == ["core"]) is acting, (dish, step, st["events"])
            assert ("core_outage" in st["alerts"]) is acting, (dish, step, st["alerts"])


# -- 5. instants beyond int64 ------------------------------------------------------------------------

@pytest.mark.parametrize("t", ["0001-01-01T00:00:00", "1677-09-21T00:00:00Z", "1000-01-01T00:00:00Z",
                               "2262-04-12T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_instants_outside_int64_are_422(win_server, svc_server, t):
    for server in (win_server, svc_server):
        for path in ("/api/v1/dishes/Kyiv0/status", "/api/v1/snapshot"):
            status, body = get(server, path, {"t": t, "max_satellites": 0} if "snapshot" in path else {"t": t})
            assert status == 422, (path, t, body)
            assert body["detail"][0]["loc"] == ["query", "t"] and "outside the run" in body["detail"][0]["msg"]


def test_calendar_step_at_takes_any_integer():
    cal = Calendar(times_ns=np.array([10, 20, 40], dtype=np.int64), durations_s=np.array([1e-8, 2e-8, 1e-8]),
                   step_s=1e-8, uniform=False, end_ns=50)
    assert [cal.step_at(t) for t in (-(10**30), 9, 10, 19, 20, 39, 40, 10**30)] == [-1, -1, 0, 0, 1, 1, 2, 2]


# -- 6. dishes, not sites; search by name ------------------------------------------------------------

def test_snapshot_counts_dishes_and_sites(win_server):
    status, snap = get(win_server, "/api/v1/snapshot", {"step": 4, "max_satellites": 0, "max_links": 0})
    assert status == 200
    d = snap["dishes"]
    assert d["total"] == 3 and sum(d["by_state"].values()) == 3
    assert d["dishes"] == 101 and sum(d["dishes_by_state"].values()) == 101
    assert sum(d["dishes_by_leonet_state"].values()) == 101
    assert sorted(d["dishes_of_site"]) == [1, 50, 50]
    _, info = get(win_server, "/api/v1/run")
    assert info["sizes"]["dishes"] == d["dishes"]


def test_dishes_are_found_by_name(win_server):
    status, hits = get(win_server, "/api/v1/dishes", {"q": "kyiv", "limit": 1})
    assert status == 200 and hits["total"] == 2 and [x["id"] for x in hits["dishes"]] == ["Kyiv0"]
    _, page2 = get(win_server, "/api/v1/dishes", {"q": "KYIV", "limit": 1, "offset": 1})
    assert [x["id"] for x in page2["dishes"]] == ["Kyiv1"]
    _, one = get(win_server, "/api/v1/dishes", {"q": "lviv0"})
    assert [x["id"] for x in one["dishes"]] == ["Lviv0"]
    _, none = get(win_server, "/api/v1/dishes", {"q": ".*"})  # text, not a pattern
    assert none["total"] == 0
    assert get(win_server, "/api/v1/dishes", {"q": "x" * 201})[0] == 422


# -- 8. the token in printed URLs --------------------------------------------------------------------

def test_printed_urls_carry_the_token(svc_run):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "leonet", "serve", str(svc_run), "--port", str(port),
                             "--token", TOKEN], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    text = "".join(lines)
    assert f"/?token={TOKEN}" in lines[0]
    assert f"api/v1/run?token={TOKEN}" in lines[1] and f"openapi.json?token={TOKEN}" in lines[1], text


# -- 9. the README -----------------------------------------------------------------------------------

def test_the_readme_lists_every_alert_and_the_default_run():
    from leonet.app.run import ALERTS

    text = (Path(leonet.__file__).parent / "app" / "README.md").read_text(encoding="utf-8")
    missing = [a for a in ALERTS if f"`{a}`" not in text]
    assert not missing, missing
    assert "results/ukraine-gen1" not in text and "results/ukraine-2022" in text
    assert "0 or 1" not in text


# -- in the browser ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    from test_app_browser import ARGS, CHROMIUM, _need_browser

    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, url: str, dish: str | None = None):
    page = browser.new_page(viewport={"width": 1500, "height": 1400})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    if dish:
        page.wait_for_selector(f"#dish[data-dish='{dish}']", timeout=30_000)
    return page, errors


def _status_value(page, key: str) -> str:
    return page.evaluate("(key) => { const ks = [...document.querySelectorAll('#status .k')]; "
                         "const k = ks.find(e => e.textContent === key); return k.nextElementSibling.textContent; }", key)


@pytest.mark.browser
def test_page_shades_outages_only_and_shows_the_drop_rate(svc_run, browser):
    d = _steps(svc_run)
    site = int(d[(d["state"] == "CONNECTED") & (d["drop_rate"] > 0)]["site"].iloc[0])
    name = str(leonet.ResultStore(svc_run).read("sites").column("name")[site])
    mine = d[d["site"] == site].sort_values("t").reset_index(drop=True)
    step = int(mine.index[(mine["state"] == "CONNECTED") & (mine["drop_rate"] > 0)][0])
    s = Server(svc_run)
    try:
        page, errors = _open(browser, s.url + "/?" + urllib.parse.urlencode({"dish": name}), name)
        page.locator("#slider").fill(str(step))
        page.wait_for_selector(f"#globe[data-step='{step}']", timeout=30_000)
        bands = page.evaluate("() => document.getElementById('latency').layout.shapes"
                              ".filter(s => s.type === 'rect').length")
        assert bands == int((mine["state"] != "CONNECTED").sum())
        drop = page.evaluate("() => document.getElementById('latency').data"
                             ".find(t => t.name.startsWith('pop_ping_drop_rate'))")
        assert drop is not None and drop["yaxis"] == "y2"
        assert max(v for v in drop["y"] if v is not None) == pytest.approx(
            100 * float(mine.loc[mine["state"] == "CONNECTED", "drop_rate"].max()), rel=1e-6)
        assert _status_value(page, "pop_ping_drop_rate") == f"{100 * float(mine['drop_rate'][step]):.1f} %"
        assert "No outages" not in page.inner_text("#outages") or bands == 0
        assert errors == []
        page.close()
    finally:
        s.close()


@pytest.mark.browser
def test_page_on_a_windowed_run_with_many_dishes_a_site(win_run, browser):
    s = Server(win_run)
    try:
        page, errors = _open(browser, s.url + "/")
        # dishes counted as dishes, sites named as sites
        counts = page.inner_text("#globe-counts")
        assert "dishes (101 at 3 dish sites)" in counts, counts
        # regions: lost time in dish-time, as leonet summary prints it
        groups = network_summary(leonet.ResultStore(win_run)).by_group().set_index("group")
        regions = page.inner_text("#regions")
        # in the page's one vocabulary: the dish's word, leonet's state in brackets (NO_PINGS (NO_PATH))
        want = groups.loc["Kyiv", "outage_causes"].replace("NO_PATH", "NO_PINGS (NO_PATH)")
        assert "dish-time" in regions and "NO_PINGS (NO_PATH)" in want and want in regions, regions
        # any dish by name: the search box opens it
        page.fill("#dish-search", "lviv0")  # any case
        page.locator("#dish-search").press("Enter")
        page.wait_for_selector("#dish[data-dish='Lviv0']", timeout=30_000)
        assert page.input_value("#dish-select") == "Lviv0"
        # the sky plot: a null between two passes, never a line across hours
        sky = page.evaluate("() => document.getElementById('skyplot').data"
                            ".filter(t => t.type === 'scatterpolar' && t.mode === 'lines+markers')"
                            ".map(t => t.theta.filter(v => v === null).length)")
        assert sky and sum(sky) > 0
        assert errors == []
        page.close()
    finally:
        s.close()


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    """3,700 steps of 1 s: longer than one history window (3,600 steps)."""
    return _run(tmp_path_factory, "long", {
        "constellation": SHELL,
        "ground": {"dish_groups": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 1, "seed": 1}],
                   "builtin": EUROPE},
        "time": {"start": START, "duration_s": 3700, "step_s": 1},
        "outputs": {"visibility_pairs": False},
    })


@pytest.mark.browser
def test_dish_view_reloads_its_window_past_3600_steps(long_run, browser):
    s = Server(long_run)
    try:
        page, errors = _open(browser, s.url + "/?dish=Kyiv0", "Kyiv0")
        window = page.locator("#dish-window")
        assert (window.get_attribute("data-start"), window.get_attribute("data-end")) == ("0", "3600")
        assert "steps 0 - 3599 of 0 - 3699" in window.inner_text()
        page.locator("#slider").fill("3690")
        page.wait_for_selector("#globe[data-step='3690']", timeout=30_000)
        assert (window.get_attribute("data-start"), window.get_attribute("data-end")) == ("100", "3700")
        last = page.evaluate("() => { const h = window.leonetApp.history; return [h.start_step, h.end_step, "
                             "h.steps[h.steps.length - 1]]; }")
        assert last == [100, 3700, 3699]
        assert errors == []
        page.close()
    finally:
        s.close()


@pytest.mark.browser
def test_openapi_link_carries_the_token(svc_run, browser):
    from test_app_server import Served

    s = Served(svc_run, "--token", TOKEN)
    try:
        page, errors = _open(browser, f"http://127.0.0.1:{s.port}/?token={TOKEN}")
        href = page.get_attribute("#openapi-link", "href")
        assert href == f"/openapi.json?token={TOKEN}"
        status = page.evaluate("async (h) => (await fetch(h)).status", href)
        assert status == 200
        assert errors == []
        assert page.evaluate("async () => (await fetch('/openapi.json')).status") == 401  # (logs the 401)
        page.close()
    finally:
        s.close()
