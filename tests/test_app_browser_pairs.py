"""The page in Debian's headless Chromium (Playwright) for what issue 13 added: a station-pair run
(pairs panel, RTT over time, the pair's route on the globe), a server behind a token opened from
the URL it prints (with ?dish=), and struck gateways marked on the globe."""

from __future__ import annotations

import urllib.parse

import pytest

from test_app_fixes import browser  # noqa: F401 (the fixture)
from test_app_server import STRIKE_END_S, STRIKE_START_S, TOKEN, Served, event_run, pair_run  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _watch(page):
    errors, requests = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors, requests


def _names(page) -> list[str]:
    return page.evaluate("() => document.getElementById('globe').data.map(t => t.name)")


def test_station_pair_run_has_its_view(pair_run, browser):
    s = Served(pair_run)
    try:
        page = browser.new_page(viewport={"width": 1500, "height": 1400})
        errors, requests = _watch(page)
        page.goto(f"http://127.0.0.1:{s.port}/")
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        assert page.is_visible("#pairs-box")
        assert not page.is_visible("#regions-box"), "no dishes: no regions table (not an empty one)"
        assert page.locator("#pair-select option").count() >= 100
        first = page.locator("#pair-select option").first.inner_text()
        assert "\u2192" in first and "p50" in first
        # RTT over time of the chosen pair: one line, a value per step
        ys = page.evaluate("() => document.getElementById('pair-rtt').data[0].y.filter(v => v !== null).length")
        assert ys == 5
        names = _names(page)
        assert any(n.startswith("stations (100)") for n in names), names
        assert any(n.startswith("route ") for n in names), names
        # another pair, another step: the route follows
        page.select_option("#pair-select", index=3)
        page.wait_for_function("() => document.getElementById('globe').data.some(t => t.name.startsWith('route '))")
        page.locator("#slider").fill("4")
        page.wait_for_selector("#globe[data-step='4']", timeout=30_000)
        route = page.evaluate("() => document.getElementById('globe').data.find(t => t.name.startsWith('route '))")
        assert len(route["lon"]) >= 3
        assert errors == []
        assert all(u.startswith(f"http://127.0.0.1:{s.port}/") for u in requests)
        page.close()
    finally:
        s.close()


def test_token_url_opens_the_page_and_the_dish(event_run, browser):
    results, gateway = event_run
    s = Served(results, "--host", "0.0.0.0", "--allow-remote", "--token", TOKEN, "--dish", "Mariupol0")
    try:
        url = s.banner.split("open ", 1)[1].strip()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert query == {"token": [TOKEN], "dish": ["Mariupol0"]}
        page = browser.new_page(viewport={"width": 1500, "height": 1200})
        errors, _ = _watch(page)
        page.goto(f"http://127.0.0.1:{s.port}/?" + urllib.parse.urlencode({"token": TOKEN, "dish": "Mariupol0"}))
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        page.wait_for_selector("#dish[data-dish='Mariupol0']", timeout=30_000)
        # the struck gateway is marked while it is down, and not after
        page.locator("#slider").fill(str(STRIKE_START_S + 1))
        page.wait_for_selector(f"#globe[data-step='{STRIKE_START_S + 1}']", timeout=30_000)
        struck = page.evaluate("() => document.getElementById('globe').data.find(t => t.name.startsWith('struck'))")
        assert struck is not None and gateway in struck["text"][0]
        page.locator("#slider").fill(str(STRIKE_END_S + 2))
        page.wait_for_selector(f"#globe[data-step='{STRIKE_END_S + 2}']", timeout=30_000)
        assert not any(n.startswith("struck") for n in _names(page))
        assert errors == []
        page.close()
        # without the token the page cannot read the API: it shows the error
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{s.port}/")
        page.wait_for_selector("#error:not([hidden])", timeout=30_000)
        assert "401" in page.inner_text("#error")
        page.close()
    finally:
        s.close()
