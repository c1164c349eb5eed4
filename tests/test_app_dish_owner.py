"""The app as a dish owner reads it (a hunter's report on `leonet dish` runs), over real HTTP and
in headless Chromium:

1. the speed test (what `leonet dish` prints as "speed test p50") is in the status and history and
   on the page, apart from the throughput (what the dish's own traffic carries, often idle);
2. play reaches the run's last steps (an outage at the end is seen) before it starts again;
3. a satellite lost to the dish's mask is shown: the satellites in view behind the mask and, on an
   OBSTRUCTED step, the one it is blocked from; a dish whose whole sky is blocked still shows its
   sky; a run that does not store them says so;
4. the PoP's city, the dish named once, uptime from the run's start, no throughput for a dish
   never online, and one line saying why it never was;
5. one vocabulary of states on the page: the dish's word, leonet's state in brackets;
6. a run whose duration is not a whole number of steps says its last step is shorter.

The run: starlink-shell1 for 30.5 s with capacity and the service model (as `leonet dish` runs
it, less the other subscribers' load, which nothing here reads), two dishes named as their groups ("my-dish", as `leonet dish` names its dish): my-dish behind
a 65 deg wall from north to south-east, which its slot's satellite crosses at step 8 (OBSTRUCTED
steps 8-14 while clear satellites are in view), and NO_PATH in a 3 s core outage (steps 20-22);
"walled" behind 89 deg all round, OBSTRUCTED at every step. PoPs of 2026 (they carry their city).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import leonet
from leonet.results.summary import network_summary
from leonet.states import BY_NAME

from test_app_api import get, thread_server

pytestmark = pytest.mark.slow

START = "2023-12-27T12:00:12Z"
#: my-dish's wall: 65 deg from azimuth 0 to 160, 20 deg elsewhere.
WALL = [[a, 65 if a <= 160 else 20] for a in range(0, 360, 10)]
EUROPE_GATEWAYS = {"name": "starlink-gateways-2023", "regions": ["Europe"]}
LOST_STEP = 8  # my-dish's slot satellite goes behind the wall here (found from the run below)
CORE = (20, 23)


@pytest.fixture(scope="module")
def owner_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("owner") / "run"
    leonet.run(leonet.scenario_from_dict({
        "name": "owner", "constellation": "starlink-shell1",
        "ground": {
            "sites": [{"name": "my-dish", "lat_deg": 50.45, "lon_deg": 30.52, "kind": "dish", "group": "my-dish"},
                      {"name": "walled", "lat_deg": 50.40, "lon_deg": 30.60, "kind": "dish", "group": "walled"}],
            "builtin": [EUROPE_GATEWAYS, {"name": "starlink-pops-2026"}],
            "obstructions": [{"sites": ["my-dish"], "profile": WALL},
                             {"sites": ["walled"], "profile": [[0, 89], [359, 89]]}]},
        "time": {"start": START, "duration_s": 30.5, "step_s": 1},
        "capacity": {"enabled": True}, "service": {"enabled": True},
        "events": [{"name": "core", "type": "core_outage", "start_s": CORE[0], "end_s": CORE[1]}],
    }), out_dir=out)
    return out


@pytest.fixture(scope="module")
def bare_run(tmp_path_factory):
    """No capacity (no throughput, no speed test) and no visibility table (which satellites were
    behind the mask is not stored); a dish behind the same wall; 10 whole steps."""
    out = tmp_path_factory.mktemp("bare") / "run"
    leonet.run(leonet.scenario_from_dict({
        "name": "bare", "constellation": "starlink-shell1",
        "ground": {"dish_groups": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 1, "seed": 1}],
                   "builtin": [EUROPE_GATEWAYS, {"name": "starlink-pops-2023", "regions": ["Europe"]}],
                   "obstructions": [{"groups": ["Kyiv"], "profile": WALL}]},
        "time": {"start": START, "duration_s": 10, "step_s": 1},
        "outputs": {"visibility_pairs": False},
    }), out_dir=out)
    return out


@pytest.fixture(scope="module")
def owner(owner_run):
    from leonet.app.server import create_app

    with thread_server(create_app(owner_run)) as s:
        yield s


@pytest.fixture(scope="module")
def bare(bare_run):
    from leonet.app.server import create_app

    with thread_server(create_app(bare_run)) as s:
        yield s


def _dish_steps(results) -> pd.DataFrame:
    d = leonet.ResultStore(results).read("dish_steps").to_pandas()
    d["state"] = d["state"].astype(str)
    d = d.sort_values(["site", "t"]).reset_index(drop=True)
    d["step"] = d.groupby("site").cumcount()
    return d


def _sites(results) -> pd.DataFrame:
    return leonet.ResultStore(results).read("sites").to_pandas()


def _mine(results, name: str) -> pd.DataFrame:
    site = int(np.flatnonzero(_sites(results)["name"] == name)[0])
    d = _dish_steps(results)
    return d[d["site"] == site].reset_index(drop=True)


def test_the_run_is_what_the_tests_expect(owner_run):
    mine = _mine(owner_run, "my-dish")
    assert (mine["state"].iloc[LOST_STEP:15] == "OBSTRUCTED").all() and mine["serving_sat"][LOST_STEP - 1] >= 0
    assert (mine["state"].iloc[CORE[0]:CORE[1]] == "NO_PATH").all()
    assert (_mine(owner_run, "walled")["state"] == "OBSTRUCTED").all()


# -- 1. the speed test -------------------------------------------------------------------------------

def test_status_and_history_carry_the_speed_test(owner_run, owner):
    mine = _mine(owner_run, "my-dish")
    assert (mine["speedtest_down_bps"] > 10 * mine["downlink_bps"].max()).any(), "the speed test is not the throughput"
    for step in (0, LOST_STEP, 25, 30):
        status, st = get(owner, "/api/v1/dishes/my-dish/status", {"step": step})
        assert status == 200
        assert st["speedtest_down_bps"] == pytest.approx(float(mine["speedtest_down_bps"][step]))
        assert st["speedtest_up_bps"] == pytest.approx(float(mine["speedtest_up_bps"][step]))
        assert st["downlink_throughput_bps"] == pytest.approx(float(mine["downlink_bps"][step]))
    _, h = get(owner, "/api/v1/dishes/my-dish/history")
    assert h["speedtest_down_bps"] == pytest.approx(mine["speedtest_down_bps"].round().tolist())
    assert h["speedtest_up_bps"] == pytest.approx(mine["speedtest_up_bps"].round().tolist())


def test_no_speed_test_without_capacity(bare):
    """Not a made-up number: null where the run has none."""
    _, st = get(bare, "/api/v1/dishes/Kyiv0/status", {"step": 0})
    assert st["speedtest_down_bps"] is None and st["speedtest_up_bps"] is None
    _, h = get(bare, "/api/v1/dishes/Kyiv0/history")
    assert h["speedtest_down_bps"] is None and h["speedtest_up_bps"] is None


def test_the_openapi_document_says_what_the_speed_test_is(owner):
    _, doc = get(owner, "/openapi.json")
    status = doc["components"]["schemas"]["DishStatus"]["properties"]
    assert "speed test" in status["speedtest_down_bps"]["description"]
    assert "speedtest_down_bps" in doc["components"]["schemas"]["DishHistory"]["properties"]


# -- 3. satellites behind the mask ------------------------------------------------------------------

def _behind(results, site: int) -> pd.DataFrame:
    v = leonet.ResultStore(results).read("visibility").to_pandas()
    v = v[(v["site"] == site) & v["obstructed"]].copy()
    v["step"] = ((v["t"] - pd.Timestamp(START)).dt.total_seconds()).round().astype(int)
    return v.sort_values(["step", "elevation_deg", "sat"], ascending=[True, False, True])


@pytest.mark.parametrize("name", ["my-dish", "walled"])
def test_the_satellites_behind_the_mask_and_the_one_blocked(owner_run, owner, name):
    sites = _sites(owner_run)
    site = int(np.flatnonzero(sites["name"] == name)[0])
    mine = _mine(owner_run, name)
    behind = _behind(owner_run, site)
    held_seen = False
    for step in range(len(mine)):
        _, st = get(owner, f"/api/v1/dishes/{name}/status", {"step": step})
        now = behind[behind["step"] == step]
        assert [p["sat"] for p in st["satellites_behind_mask"]] == now["sat"].tolist()
        assert [p["elevation_deg"] for p in st["satellites_behind_mask"]] == pytest.approx(now["elevation_deg"].tolist())
        assert st["satellites_behind_mask_note"] is None
        if mine["state"][step] != "OBSTRUCTED":
            assert st["blocked_sat"] is None
            continue
        # the oracle: the satellite that served it last in this slot, when behind the mask now
        slot = mine["slot_start"][step]
        first = step
        while first > 0 and mine["slot_start"][first - 1] == slot:
            first -= 1
        served = [int(s) for s in mine["serving_sat"][first:step] if s >= 0]
        b = st["blocked_sat"]
        assert st["serving_sat"] is None and b is not None
        if served and served[-1] in set(now["sat"]):
            assert (b["sat"], b["was_serving"]) == (served[-1], True)
            held_seen = True
        else:
            assert (b["sat"], b["was_serving"]) == (int(now["sat"].iloc[0]), False)
        row = now[now["sat"] == b["sat"]].iloc[0]
        assert (b["azimuth_deg"], b["elevation_deg"]) == pytest.approx((float(row["azimuth_deg"]), float(row["elevation_deg"])))
    # my-dish loses its slot's satellite to the wall while clear ones are in view; walled never had one
    assert held_seen is (name == "my-dish")


def test_a_walled_dish_shows_its_sky(owner_run, owner):
    """Every satellite of its sky is behind the mask: the sky shows them, not nothing."""
    site = int(np.flatnonzero(_sites(owner_run)["name"] == "walled")[0])
    counts = _behind(owner_run, site)["sat"].value_counts()
    _, sky = get(owner, "/api/v1/dishes/walled/obstruction_map")
    assert sky["behind_mask_stored"] is True and sky["behind_mask_note"] is None
    assert sky["satellites_used"] == 0 and len(sky["tracks"]) == min(40, len(counts)) > 0
    for t in sky["tracks"]:
        assert not t["used"] and t["behind_mask_steps"] == counts[t["sat"]]
        assert any(t["obstructed"])
    # the most blocked first
    assert sorted(counts.to_numpy(), reverse=True)[: len(sky["tracks"])] == sorted(
        (t["behind_mask_steps"] for t in sky["tracks"]), reverse=True)


def test_a_run_without_the_visibility_table_says_so(bare):
    _, sky = get(bare, "/api/v1/dishes/Kyiv0/obstruction_map")
    assert sky["behind_mask_stored"] is False
    assert sky["behind_mask_note"].startswith("satellites behind the mask are not stored in this run: set outputs.visibility_pairs")
    assert all(t["behind_mask_steps"] is None for t in sky["tracks"])
    _, st = get(bare, "/api/v1/dishes/Kyiv0/status", {"step": 0})
    assert st["satellites_behind_mask"] is None and st["blocked_sat"] is None
    assert st["satellites_behind_mask_note"] == sky["behind_mask_note"]


# -- 4. the PoP's city, never online -----------------------------------------------------------------

def test_the_pops_city_and_why_a_dish_was_never_online(owner_run, owner):
    sites = _sites(owner_run)
    _, st = get(owner, "/api/v1/dishes/my-dish/status", {"step": 0})
    pop = sites[sites["name"] == st["pop"]].iloc[0]
    assert st["pop_city"] == pop["city"] and st["pop_city"]
    assert st["never_online"] is None
    _, walled = get(owner, "/api/v1/dishes/walled/status", {"step": 3})
    assert walled["never_online"] == ("walled: never online in 31 steps: OBSTRUCTED 100% of the time "
                                      f"({BY_NAME['OBSTRUCTED'].meaning})")
    _, dishes = get(owner, "/api/v1/dishes")
    assert [(d["id"], d["group"]) for d in dishes["dishes"]] == [("my-dish", "my-dish"), ("walled", "walled")]


# -- 6. a shorter last step --------------------------------------------------------------------------

def test_the_run_says_its_last_step_is_shorter(owner, bare):
    _, info = get(owner, "/api/v1/run")
    assert info["steps"] == 31 and info["duration_s"] == 30.5 and info["last_step_s"] == 0.5
    assert info["calendar"] == "31 steps of 1 s, the last of 0.5 s (the run ends 30.5 s after its start)"
    _, steps = get(owner, "/api/v1/steps")
    assert steps["calendar"] == info["calendar"] and steps["duration_s"][-1] == 0.5
    _, whole = get(bare, "/api/v1/run")
    assert whole["last_step_s"] == 1.0 and whole["calendar"] == "10 steps of 1 s"


# -- in the browser ----------------------------------------------------------------------------------

# the browser and a page on it, as the app's other browser tests open them
from test_app_fixes import _open, browser  # noqa: E402,F401


def _status_value(page, key: str) -> str:
    return page.evaluate("(key) => { const ks = [...document.querySelectorAll('#status .k')]; "
                         "const k = ks.find(e => e.textContent.startsWith(key)); return k ? k.nextElementSibling.textContent : null; }", key)


def _go_globe(page, step: int):
    page.locator("#slider").fill(str(step))
    page.wait_for_selector(f"#globe[data-step='{step}']", timeout=30_000)


def _go(page, step: int):
    page.locator("#slider").fill(str(step))
    page.wait_for_selector(f"#globe[data-step='{step}']", timeout=30_000)
    page.wait_for_function(f"() => window.leonetApp.status && window.leonetApp.status.step === {step}", timeout=30_000)


@pytest.mark.browser
def test_play_reaches_the_last_step(owner, browser):
    page, errors = _open(browser, owner.url + "/")
    # at 5 steps a tick: 0, 5, ..., 25, 30 (the last, half a second), then 0 again
    # each step drawn, once (a redraw of the same step is not a step shown)
    page.evaluate("() => { window.shown = []; new MutationObserver(() => { const s = Number("
                  "document.getElementById('globe').dataset.step); if (window.shown[window.shown.length - 1] !== s) "
                  "window.shown.push(s); }).observe(document.getElementById('globe'), "
                  "{ attributes: true, attributeFilter: ['data-step'] }); }")
    page.select_option("#speed", "5")
    page.click("#play")
    page.wait_for_function("() => window.shown.includes(0)", timeout=60_000)
    page.click("#play")
    shown = page.evaluate("() => window.shown")
    assert shown[:7] == [5, 10, 15, 20, 25, 30, 0], shown
    # at 60 steps a tick, more than the run: its last step, then the start (was 29, 27, 25, ...: never 30)
    page.wait_for_selector("#play:has-text('Play')")
    _go_globe(page, 0)
    page.evaluate("() => { window.shown = [0]; }")
    page.select_option("#speed", "60")
    page.click("#play")
    page.wait_for_function("() => window.shown.length >= 4", timeout=60_000)
    page.click("#play")
    assert page.evaluate("() => window.shown")[:4] == [0, 30, 0, 30]
    # the rule itself: never past the last step, back to the start only after it (a 120-step run
    # at 60 steps a tick shows 0, 60, 119: an outage at 109-119 is seen)
    got = page.evaluate("() => [[0, 5, 31], [25, 5, 31], [30, 5, 31], [0, 60, 120], [60, 60, 120], [119, 60, 120], [0, 1, 1]]"
                        ".map(([s, v, n]) => nextPlayStep(s, v, n))")
    assert got == [5, 30, 0, 60, 119, 0, 0]
    assert errors == []
    page.close()


@pytest.mark.browser
def test_page_shows_the_speed_test_apart_from_the_throughput(owner_run, owner, browser):
    mine = _mine(owner_run, "my-dish")
    page, errors = _open(browser, owner.url + "/?dish=my-dish", "my-dish")
    _go(page, 25)
    want = f"{mine['speedtest_down_bps'][25] / 1e6:.1f} / {mine['speedtest_up_bps'][25] / 1e6:.1f} Mbps"
    assert _status_value(page, "speed test") == want
    carrying = f"{mine['downlink_bps'][25] / 1e6:.1f} / {mine['uplink_bps'][25] / 1e6:.1f} Mbps"
    assert _status_value(page, "now carrying") == carrying
    # the chart: the speed test as its own series, none where the dish was not connected
    traces = page.evaluate("() => document.getElementById('throughput').data.map(t => [t.name, t.y])")
    names = [n for n, _ in traces]
    assert names == ["speed test down", "speed test up", "now carrying down", "now carrying up"]
    down = traces[0][1]
    assert down[25] == pytest.approx(mine["speedtest_down_bps"][25] / 1e6)
    assert all(down[i] is None for i in range(LOST_STEP, 15)) and all(down[i] is None for i in range(*CORE))
    # regions: the speed test's median as `leonet summary` has it
    groups = network_summary(leonet.ResultStore(owner_run)).by_group().set_index("group")
    row = page.locator("#regions tbody tr", has_text="my-dish").inner_text()
    assert f"{groups.loc['my-dish', 'speedtest_p50_mbps']:.0f}" in row.split("\t")
    assert "speed test p50" in page.inner_text("#regions thead")
    assert errors == []
    page.close()


@pytest.mark.browser
def test_page_shows_the_satellite_lost_to_the_mask(owner_run, owner, browser):
    mine = _mine(owner_run, "my-dish")
    page, errors = _open(browser, owner.url + "/?dish=my-dish", "my-dish")
    _go(page, LOST_STEP)
    sky = page.evaluate("() => document.getElementById('skyplot').data.map(t => [t.name || '', (t.theta || []).length])")
    names = [n for n, _ in sky]
    held = int(mine["serving_sat"][LOST_STEP - 1])
    blocked = page.evaluate("() => window.leonetApp.status.blocked_sat")
    assert blocked["sat"] == held and blocked["was_serving"]
    assert f"blocked here: {blocked['name']}" in names
    assert any(n.startswith("behind the mask now (") for n in names)
    assert "behind the mask (over the run)" in names and "served" in names
    assert _status_value(page, "blocked here").startswith(f"{held} (")
    assert page.is_hidden("#sky-note")
    # a connected step: no "blocked here"
    _go(page, 2)
    assert not any(n.startswith("blocked here") for n in page.evaluate(
        "() => document.getElementById('skyplot').data.map(t => t.name || '')"))
    # the walled dish: its whole sky behind the mask, drawn; why it was never online, in one line
    page.select_option("#dish-select", "walled")
    page.wait_for_selector("#dish[data-dish='walled']", timeout=30_000)
    page.wait_for_function("() => window.leonetApp.status && window.leonetApp.status.id === 'walled'", timeout=30_000)
    tracks = page.evaluate("() => document.getElementById('skyplot').data"
                           ".filter(t => t.mode === 'lines+markers').length")
    assert tracks > 0
    assert page.is_visible("#never-online")
    assert page.inner_text("#never-online").startswith("walled: never online in 31 steps: OBSTRUCTED 100% of the time")
    assert _status_value(page, "now carrying") == "- (not connected)"
    assert _status_value(page, "speed test") == "- (not connected)"
    assert errors == []
    page.close()


@pytest.mark.browser
def test_page_says_when_satellites_behind_the_mask_are_not_stored(bare_run, browser):
    from leonet.app.server import create_app

    with thread_server(create_app(bare_run)) as s:
        page, errors = _open(browser, s.url + "/?dish=Kyiv0", "Kyiv0")
        assert page.is_visible("#sky-note")
        assert page.inner_text("#sky-note").startswith(
            "satellites behind the mask are not stored in this run: set outputs.visibility_pairs")
        assert "not in this run" in _status_value(page, "speed test")
        assert errors == []
        page.close()


@pytest.mark.browser
def test_page_names_the_dish_once_the_pops_city_and_uptime_from_the_start(owner, browser):
    page, errors = _open(browser, owner.url + "/?dish=my-dish", "my-dish")
    options = page.evaluate("() => [...document.getElementById('dish-select').options].map(o => o.textContent)")
    assert "my-dish" in options and "my-dish (my-dish)" not in options
    st = page.evaluate("() => window.leonetApp.status")
    assert st["step"] == 0 and st["state"] == "CONNECTED"
    assert _status_value(page, "uptime_s") == "0 s (connected since the run's start)"
    assert _status_value(page, "gateway / pop").endswith(f" / {st['pop']} ({st['pop_city']})")
    assert page.is_hidden("#never-online")
    assert errors == []
    page.close()


@pytest.mark.browser
def test_one_vocabulary_of_states_on_the_page(owner_run, owner, browser):
    page, errors = _open(browser, owner.url + "/?dish=my-dish", "my-dish")
    outages = page.inner_text("#outages")
    assert "NO_PINGS (NO_PATH)" in outages and "OBSTRUCTED" in outages
    groups = network_summary(leonet.ResultStore(owner_run)).by_group().set_index("group")
    text = groups.loc["my-dish", "outage_causes"]  # "OBSTRUCTED 7 dish-s, NO_PATH 3 dish-s" (some order)
    want = text.replace("NO_PATH", "NO_PINGS (NO_PATH)")
    assert "NO_PATH" in text and want in page.locator("#regions tbody tr", has_text="my-dish").inner_text()
    # leonet's NO_PATH only ever in brackets after the dish's word, never alone
    for where in ("#outages", "#regions", "#globe-counts"):
        assert not re.search(r"(?<!\()NO_PATH", page.inner_text(where)), where
    _go(page, CORE[0])
    legend = page.evaluate("() => document.getElementById('globe').data.map(t => t.name).filter(n => n.startsWith('dishes'))")
    assert "dishes NO_PINGS (NO_PATH): 1" in legend, legend
    assert "NO_PINGS (NO_PATH) 1" in page.inner_text("#globe-counts")
    assert _status_value(page, "state") == "NO_PINGS (NO_PATH)"
    assert errors == []
    page.close()
