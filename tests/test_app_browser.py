"""The web page in a real browser: Debian's headless Chromium, driven by Playwright for Python.

The browser is the distribution's (`apt-get install chromium`, done by .ci/run); Playwright's own
browser download is never used. Without /usr/bin/chromium these tests are skipped, except where
LEONET_REQUIRE_BROWSER=1 (CI sets it): there a missing browser is a failure, not a skip.

Set LEONET_SCREENSHOT_DIR to also keep the screenshots (docs/screenshots/ was made that way).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from test_app_api import Server, compare_overrides, run_overrides

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _need_browser():
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is absent (install it with: apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "Playwright for Python is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("LEONET_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required (LEONET_REQUIRE_BROWSER=1) but {missing}")
        pytest.skip(missing)


# Chromium over real runs: the browser lane, and slow (skipped by -m "not slow" too).
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(shared_run):
    _need_browser()
    s = Server(shared_run("ukraine-gen1", run_overrides(duration_s=90)))
    yield s
    s.close()


@pytest.fixture(scope="module")
def compare_server(shared_run):
    _need_browser()
    s = Server(shared_run("ukraine-gen1", compare_overrides(duration_s=40), baseline=True))  # as test_app_api's
    yield s
    s.close()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def not_blank(png: bytes) -> int:
    """Distinct colours in a screenshot (a blank or single-colour page has a handful)."""
    try:
        from PIL import Image
    except ImportError:
        return 10_000 if len(png) > 60_000 else 0  # no Pillow: a blank PNG compresses to little
    im = Image.open(io.BytesIO(png)).convert("RGB")
    return len(im.getcolors(maxcolors=1 << 24))


def keep(name: str, png: bytes) -> None:
    folder = os.environ.get("LEONET_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_bytes(png)


def test_globe_slider_and_dish_view(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(server.url + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    page.wait_for_selector("#globe[data-step='0']")

    # Satellites drawn: the plot holds the whole of Gen1, and the visible half is on screen.
    traces = page.evaluate("() => document.getElementById('globe').data.map(t => [t.name, (t.lat || []).length])")
    sats = [n for name, n in traces if name.startswith("satellites")]
    assert sats and sats[0] > 1000, traces
    drawn = page.evaluate("() => document.querySelectorAll('#globe .scattergeo path.point').length")
    assert drawn > 1000
    assert any(name.startswith("laser links") and n > 1000 for name, n in traces)
    assert any(name.startswith("dishes") for name, _ in traces)
    shot = page.screenshot()
    assert not_blank(shot) > 1000
    keep("globe.png", shot)
    assert page.is_hidden("#compare-box")  # no baseline in this run
    assert page.is_hidden("#warnings")  # nor any warning

    # The time slider moves the constellation.
    before = page.evaluate("() => document.getElementById('globe').data.find(t => t.name.startsWith('satellites')).lon[0]")
    page.locator("#slider").fill("45")
    page.wait_for_selector("#globe[data-step='45']", timeout=30_000)
    after = page.evaluate("() => document.getElementById('globe').data.find(t => t.name.startsWith('satellites')).lon[0]")
    assert after != before
    assert "12:00:45" in page.inner_text("#time-label")

    # A dish's app view: status card, latency chart, obstruction map, outages, serving history.
    page.select_option("#dish-select", "Kyiv0")
    page.wait_for_selector("#dish[data-dish='Kyiv0']", timeout=30_000)
    card = page.inner_text("#status")
    assert "pop_ping_latency_ms" in card and "not modelled yet" in card and "wedges_fraction_obstructed" in card
    latency = page.evaluate("() => { const d = document.getElementById('latency').data[0]; return [d.x.length, d.y.filter(v => v !== null).length]; }")
    assert latency[0] == 90 and latency[1] > 10
    assert page.evaluate("() => document.getElementById('latency').data.length") == 1  # no baseline line
    assert page.locator("#latency .scatterlayer path.js-line").count() >= 1
    sky = page.evaluate("() => document.getElementById('skyplot').data.map(t => [t.type, t.name || '', (t.r || []).length])")
    assert any(name == "horizon mask" and n == 722 for _, name, n in sky), sky  # the courtyard, shaded
    assert sum(1 for kind, _, n in sky if kind == "scatterpolar" and n > 0) >= 3  # mask, cone, tracks
    assert page.locator("#skyplot .polarlayer").count() == 1
    assert "OBSTRUCTED" in page.inner_text("#outages")
    assert page.evaluate("() => document.getElementById('serving').data[0].y.filter(v => v !== null).length") > 10
    # the route of the dish is drawn on the globe when it is connected
    page.set_viewport_size({"width": 1500, "height": 1750})  # tall enough for the whole dish view
    page.locator("#slider").fill("50")
    page.wait_for_selector("#globe[data-step='50']", timeout=30_000)
    assert any(t.startswith("route of Kyiv0") for t in page.evaluate("() => document.getElementById('globe').data.map(t => t.name)")) \
        or page.inner_text("#status").find("CONNECTED") < 0
    dish_shot = page.screenshot()
    assert not_blank(dish_shot) > 1000
    keep("dish.png", dish_shot)

    # Play advances time by itself; pause stops it.
    page.click("#play")
    page.wait_for_selector("#globe:not([data-step='50'])", timeout=30_000)
    page.click("#play")

    assert errors == []
    local = server.url + "/"
    outside = [u for u in requests if not u.startswith(local)]
    assert requests and outside == [], outside
    page.close()


def test_dish_view_from_a_click_on_the_globe(server, browser):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    # Click the first drawn dish marker of the globe.
    box = page.locator("#globe g.trace.scattergeo").last.locator("path.point").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#dish:not([hidden])", timeout=30_000)
    page.wait_for_selector("#dish[data-dish]", timeout=30_000)
    assert page.get_attribute("#dish", "data-dish").startswith(("Kyiv", "Kharkiv", "Lviv", "Odesa", "Dnipro", "Mariupol"))
    page.close()


def test_scenario_vs_baseline(compare_server, browser):
    """A run with events and a baseline: the comparison panel, and the baseline's latency as a
    dashed line beside the scenario's."""
    page = browser.new_page(viewport={"width": 1500, "height": 1600})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(compare_server.url + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)

    assert page.is_visible("#compare-box")
    events = page.inner_text("#compare-events")
    assert "core_outage" in events and "terrestrial_outage" in events and "ukraine-gen1-baseline" in events
    # Events at their dates (UTC), not in seconds after the start.
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d(\.\d+)?)? UTC", events) and " s - " not in events
    # The app rounds as `leonet summary` does (Python: ties to even; JavaScript's toFixed: up).
    values = [12.5, 13.5, -12.5, 0.25, 0.35, 2.675, 87.5, 99.95, 12.4999, 0.0, 100.0]
    for digits in (0, 1, 2):
        shown = page.evaluate(f"() => {values}.map(v => fixed(v, {digits}))")
        assert shown == [format(v, f".{digits}f") for v in values], digits
    rows = page.locator("#compare table.compare tbody tr")
    assert rows.count() == 6
    kharkiv = page.locator("#compare table.compare tbody tr", has_text="Kharkiv").inner_text()
    assert "75.0 % vs 100.0 %" in kharkiv and "NO_PINGS (NO_PATH) 50 dish-s" in kharkiv and "saved" in kharkiv
    bars = page.evaluate("() => document.getElementById('compare-chart').data.map(t => [t.type, t.name, t.y.length])")
    assert bars == [["bar", "scenario", 6], ["bar", "baseline (no events)", 6]]
    # the table fits the side panel (no sideways scroll), even in a narrower window
    page.set_viewport_size({"width": 1100, "height": 1600})
    fit = page.evaluate("() => [document.querySelector('#compare table.compare').getBoundingClientRect().width,"
                        " document.getElementById('compare').getBoundingClientRect().width]")
    assert fit[0] <= fit[1] + 0.5, fit
    page.set_viewport_size({"width": 1500, "height": 1600})

    page.select_option("#dish-select", "Kharkiv0")
    page.wait_for_selector("#dish[data-dish='Kharkiv0']", timeout=30_000)
    lines = page.evaluate("() => document.getElementById('latency').data.map(t => [t.name, (t.line || {}).dash || 'solid', t.y.filter(v => v !== null).length])")
    assert lines[0][:2] == ["scenario", "solid"] and lines[1][:2] == ["baseline (no events)", "dash"]
    assert lines[1][2] == 40 > lines[0][2]  # the baseline has no core outage
    dashed = page.evaluate("() => [...document.querySelectorAll('#latency .scatterlayer path.js-line')]"
                           ".map(p => p.style.strokeDasharray).filter(d => d && d !== 'none').length")
    assert dashed == 1
    assert page.is_visible("#latency-baseline-note")
    shot = page.screenshot()
    assert not_blank(shot) > 1000
    keep("compare.png", shot)

    assert errors == []
    outside = [u for u in requests if not u.startswith(compare_server.url + "/")]
    assert requests and outside == [], outside
    page.close()


def test_the_runs_warnings_and_the_state_colours_from_the_api(browser, tmp_path):
    """A run without PoPs: the page shows the run's warning, and colours the dish's state with
    the colour /api/v1/states gives (the page has no copy of the vocabulary)."""
    import leonet
    from leonet.states import BY_NAME

    scenario = leonet.load_scenario("ukraine-gen1", overrides={
        "time.duration_s": 6, "ground.builtin": [{"name": "starlink-gateways-2023", "regions": ["Europe"]}]})
    result = leonet.run(scenario, out_dir=tmp_path / "nopop")
    warning = result.model.network.warnings[0]
    s = Server(tmp_path / "nopop")
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(s.url + "/")
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        assert page.is_visible("#warnings") and warning in page.inner_text("#warnings")
        page.select_option("#dish-select", "Lviv0")
        page.wait_for_selector("#dish[data-dish='Lviv0']", timeout=30_000)
        badge = page.locator("#status .badge").first
        assert badge.inner_text() == "NO_PINGS"
        colour = badge.evaluate("b => getComputedStyle(b).backgroundColor")
        hex_colour = BY_NAME["NO_PATH"].colour
        assert colour == "rgb({}, {}, {})".format(*(int(hex_colour[k:k + 2], 16) for k in (1, 3, 5)))
        assert not errors, errors
    finally:
        s.close()


def test_the_dish_latency_line_breaks_after_sample_windows(browser, tmp_path):
    """A sampled run (time.windows[].sample: a minute at the start of each hour): the dish view's
    latency line has a null point after each window, so it does not join a window to the next hour's."""
    import leonet

    from test_app_api import Server

    scenario = leonet.scenario_from_dict({
        "name": "sampled", "constellation": "starlink-shell1",
        "ground": {"dish_groups": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 1, "seed": 1}],
                   "builtin": [{"name": "starlink-gateways-2023", "regions": ["Europe"]},
                               {"name": "starlink-pops-2023", "regions": ["Europe"]}]},
        "time": {"start": "2022-03-09T00:00:12Z", "duration_s": 10800, "step_s": 3600,
                 "windows": [{"name": f"h{k}", "start_s": 3600 * k, "duration_s": 60, "step_s": 15, "sample": True}
                             for k in range(3)]},
        "outputs": {"visibility_pairs": False},
    })
    leonet.run(scenario, out_dir=tmp_path / "run")
    server = Server(tmp_path / "run")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        page.select_option("#dish-select", "Kyiv0")
        page.wait_for_selector("#dish[data-dish='Kyiv0']", timeout=30_000)
        n, nulls = page.evaluate("() => { const d = document.getElementById('latency').data[0]; "
                                 "return [d.x.length, d.y.filter(v => v === null).length]; }")
        # 12 samples (4 per window) and a break after each of the first two windows
        assert n == 12 + 2 and nulls >= 2
        page.close()
    finally:
        server.close()
