"""The app after a user hunt in headless Chromium (a month-long run, admission, windowed calendars),
over real HTTP and in the browser:

1. the speed test and throughput chart is drawn for every dish picked, not the first only, and a
   dish never online gets a note there instead of an empty grid;
2. on the globe the online dishes are drawn last (on top), so the admitted part of a site is the
   one seen and clicked, not its sold-out twin at the same place;
3. a dish is served only while online: a SOLD_OUT or OFFLINE dish has no serving satellite, no
   direction, no 'served' points on its sky and no serving history (the engine stores the
   satellite in view on those rows); a SOLD_OUT dish has its alert;
4. the outage table says what a step's weight is on a sampled calendar, and long durations read
   in hours or days;
5. the latency chart merges an outage's steps into one band and moves only its 'now' line;
6. the dish list puts a site's sold-out part right after it, without double brackets;
9. an unknown ?dish= is said once, adds no option and opens no panel; picking a real dish clears it.

The run: three sites of 10 dishes in one cell of 14 (tests/test_service_wiring.py's split run):
town0 admitted, town1 in part (4 admitted; "town1 (sold out)" the other 6), town2 not at all;
a power cut on town1 at the middle of its 3 steps of 15 s.
"""

from __future__ import annotations

import pytest

import leonet

from test_app_api import get, thread_server
from test_app_fixes import browser  # noqa: F401 (the fixture)
from test_service_wiring import CUT, split_scenario

pytestmark = pytest.mark.slow

SPLIT = split_scenario(events=[CUT])   # town1 admitted in part, its power cut at the middle step


@pytest.fixture(scope="module")
def split_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("split") / "run"
    leonet.run(leonet.scenario_from_dict(SPLIT), out_dir=out)
    return out


@pytest.fixture(scope="module")
def split(split_run):
    from leonet.app.server import create_app

    with thread_server(create_app(split_run)) as s:
        yield s


def _rows(results, name: str):
    store = leonet.ResultStore(results)
    names = store.read("sites").column("name").to_pylist()
    d = store.read("dish_steps").to_pandas()
    d["state"] = d["state"].astype(str)
    return d[d["site"] == names.index(name)].sort_values("t").reset_index(drop=True)


def test_the_run_is_what_the_tests_expect(split_run):
    sold, cut = _rows(split_run, "town2"), _rows(split_run, "town1")
    assert (sold["state"] == "SOLD_OUT").all()
    # the engine stores the satellite in view on rows with no service: the app must not call it serving
    assert (sold["serving_sat"] >= 0).any()
    assert cut["state"].tolist()[1] == "OFFLINE" and cut["state"].tolist()[0] in ("CONNECTED", "CONGESTED")
    assert len(_rows(split_run, "town1 (sold out)")) == 3


def test_a_dish_in_an_outage_is_served_by_no_satellite(split_run, split):
    for step in range(3):
        code, s = get(split, "/api/v1/dishes/town2/status", {"step": step})
        assert code == 200 and s["leonet_state"] == "SOLD_OUT"
        assert s["serving_sat"] is None and s["serving_sat_name"] is None
        assert s["direction_azimuth"] is None and s["direction_elevation"] is None
        assert "sold_out" in s["alerts"]
    code, h = get(split, "/api/v1/dishes/town2/history")
    assert code == 200 and h["serving_sat"] == [None] * 3 and h["serving_sat_name"] == [None] * 3
    code, sky = get(split, "/api/v1/dishes/town2/obstruction_map")
    assert code == 200 and sky["satellites_used"] == 0
    assert not any(any(t["serving"]) for t in sky["tracks"]) and not any(t["used"] for t in sky["tracks"])
    # OFFLINE in the power cut: no serving satellite then; served before it
    cut = _rows(split_run, "town1")
    code, s = get(split, "/api/v1/dishes/town1/status", {"step": 1})
    assert s["leonet_state"] == "OFFLINE" and s["serving_sat"] is None and s["direction_azimuth"] is None
    assert "dish_offline" in s["alerts"]
    code, s = get(split, "/api/v1/dishes/town1/status", {"step": 0})
    assert s["serving_sat"] == int(cut["serving_sat"][0]) and s["direction_azimuth"] is not None
    code, h = get(split, "/api/v1/dishes/town1/history")
    assert h["serving_sat"][1] is None and h["serving_sat"][0] == int(cut["serving_sat"][0])


# ---- in the browser ------------------------------------------------------------------------------

def _open(browser, url: str, dish: str | None = None, width: int = 1500):
    page = browser.new_page(viewport={"width": width, "height": 1400})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "404" not in m.text else None)
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    if dish:
        page.wait_for_selector(f"#dish[data-dish='{dish}']", timeout=30_000)
    return page, errors


def _pick(page, dish: str):
    page.select_option("#dish-select", dish)
    page.wait_for_selector(f"#dish[data-dish='{dish}']", timeout=30_000)


THROUGHPUT = """() => { const b = document.getElementById('throughput');
  return {svgs: b.querySelectorAll('svg.main-svg').length, traces: (b.data || []).length,
          lines: b.querySelectorAll('.scatterlayer path.js-line').length, text: b.textContent}; }"""


@pytest.mark.browser
def test_the_throughput_chart_is_drawn_for_every_dish_picked(split, browser):
    page, errors = _open(browser, split.url + "/")
    for dish in ["town0", "town1", "town0"]:
        _pick(page, dish)
        got = page.evaluate(THROUGHPUT)
        assert got["svgs"] > 0 and got["traces"] == 4 and got["lines"] > 0, (dish, got)
    # never online: a note, not an empty grid; then a served dish is drawn again
    _pick(page, "town2")
    got = page.evaluate(THROUGHPUT)
    assert got["svgs"] == 0 and "no service in this run" in got["text"], got
    _pick(page, "town0")
    got = page.evaluate(THROUGHPUT)
    assert got["svgs"] > 0 and got["lines"] > 0, got
    assert errors == []
    page.close()


@pytest.mark.browser
def test_online_dishes_are_drawn_on_top_of_their_sold_out_twins(split, browser):
    page, errors = _open(browser, split.url + "/")
    names = page.evaluate("() => document.getElementById('globe').data.map(t => t.name)")
    dishes = [n for n in names if n.startswith("dishes ")]
    assert len(dishes) >= 2, names
    assert dishes[-1].startswith("dishes CONNECTED"), dishes
    # the dish list: the sold-out part right after its site, no double brackets
    options = page.evaluate("() => [...document.getElementById('dish-select').options].map(o => [o.value, o.textContent])")
    values = [v for v, _ in options if v]
    assert values.index("town1 (sold out)") == values.index("town1") + 1, values
    assert all(t.count("(") <= 1 for _, t in options), options
    # a sold-out dish: no 'serving now' star, no 'served' points, no serving history; its alert shown
    _pick(page, "town2")
    sky = page.evaluate("() => document.getElementById('skyplot').data.map(t => t.name)")
    assert "serving now" not in sky and "served" not in sky, sky
    serving = page.evaluate("() => document.getElementById('serving').data[0].y.filter(v => v !== null).length")
    assert serving == 0
    assert "sold_out" in page.inner_text("#status")
    assert errors == []
    page.close()


@pytest.mark.browser
def test_an_unknown_dish_in_the_address_is_said_and_cleared(split, browser):
    page, errors = _open(browser, split.url + "/?dish=nosuch")
    assert page.is_visible("#error") and "nosuch" in page.inner_text("#error")
    assert page.is_hidden("#dish")
    values = page.evaluate("() => [...document.getElementById('dish-select').options].map(o => o.value)")
    assert "nosuch" not in values
    _pick(page, "town0")
    assert page.is_hidden("#error")
    page.close()


@pytest.mark.browser
def test_outage_durations_and_the_latency_chart(split, browser):
    page, errors = _open(browser, split.url + "/")
    got = page.evaluate("() => [durationText(900), durationText(3600), durationText(2592000), durationText(45),"
                        " durationText(5400), durationText(86400 * 1500)]")
    assert got == ["900 s", "1 h", "30 d", "45 s", "1.5 h", "1,500 d"], got
    # a step weighing more than its wall span says so (a 15 s sample standing for 900 s); else the time
    row = page.evaluate("() => outageDuration({duration_s: 900, start_step: 0, end_step: 1,"
                        " start: '2024-01-01T00:00:00Z', end: '2024-01-01T00:00:15Z'})")
    assert row == "1 step (stands for 900 s)", row
    row = page.evaluate("() => outageDuration({duration_s: 30, start_step: 0, end_step: 2,"
                        " start: '2024-01-01T00:00:00Z', end: '2024-01-01T00:00:30Z'})")
    assert row == "30 s", row
    # consecutive outage steps: one band; the 'now' line moved alone
    _pick(page, "town2")
    rects = page.evaluate("() => document.getElementById('latency').layout.shapes.filter(s => s.type === 'rect').length")
    assert rects == 1
    page.locator("#slider").fill("2")
    page.wait_for_function("() => window.leonetApp.status && window.leonetApp.status.step === 2", timeout=30_000)
    now = page.evaluate("() => { const s = document.getElementById('latency').layout.shapes; return s[s.length - 1].x0; }")
    assert now.startswith("2024-01-06") and "19:00:42" in now.replace("T", " "), now
    assert errors == []
    page.close()


@pytest.mark.browser
def test_the_globe_counts_line_wraps_and_is_not_cut_off(split, browser):
    page, errors = _open(browser, split.url + "/", width=820)
    page.set_viewport_size({"width": 820, "height": 700})
    page.wait_for_timeout(300)
    got = page.evaluate("""() => { const c = document.getElementById('globe-counts').getBoundingClientRect();
      const m = document.querySelector('main').getBoundingClientRect();
      const line = parseFloat(getComputedStyle(document.getElementById('globe-counts')).lineHeight) || 17;
      return {bottom: c.bottom, main: m.bottom, lines: c.height / line,
              scroll: document.documentElement.scrollHeight, vh: innerHeight}; }""")
    assert got["lines"] > 1.5, got  # wraps at this width
    assert got["bottom"] <= got["main"] + 0.5 and got["scroll"] <= got["vh"], got
    assert errors == []
    page.close()
