"""The report's words match what it counts: "The run" box says dish sites and the dishes they stand
for (as the CLI's run header does), and the Throughput section says its curves are shares of the
dish sites' steps (uniform calendar) or of their time (uneven calendar), each site counted once."""

from __future__ import annotations

import re

import pytest

import leonet
from leonet.results.report import build_report_html

# end to end: simulation runs (the fast lane leaves them out)
pytestmark = pytest.mark.slow

SHELL = {"shells": [{"name": "s1", "altitude_km": 550, "inclination_deg": 53, "planes": 12, "sats_per_plane": 12}]}


def _scenario(windows: list | None = None) -> dict:
    return {
        "name": "report-words", "constellation": SHELL,
        "ground": {
            "dish_groups": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 3, "dishes_per_site": 50}],
            "sites": [{"name": "gw", "kind": "gateway", "lat_deg": 50.0, "lon_deg": 20.0},
                      {"name": "pop", "kind": "pop", "lat_deg": 52.2, "lon_deg": 21.0}],
        },
        "network": {"backbone": "none"},
        "capacity": {"enabled": True, "atmosphere": False},
        "time": {"start": "2024-01-15T12:00:00Z", "duration_s": 60, "step_s": 20,
                 **({"windows": windows} if windows else {})},
    }


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, str]:
    out = {}
    for name, windows in (("even", None), ("uneven", [{"start_s": 20, "duration_s": 10, "step_s": 5}])):
        folder = tmp_path_factory.mktemp(name) / "run"
        leonet.run(leonet.scenario_from_dict(_scenario(windows)), out_dir=folder)
        out[name] = build_report_html(folder)
    return out


def _explain(page: str, section_id: str) -> str:
    """The first explanatory paragraph after the section's heading."""
    start = page.index(f'id="{section_id}"')
    return re.search(r'<p class="explain">(.*?)</p>', page[start:], re.S).group(1)


def test_the_run_box_counts_dish_sites_and_their_dishes(pages):
    box = re.search(r"<dt>Ground sites</dt><dd>(.*?)</dd>", pages["even"]).group(1)
    assert box == "3 dish sites (150 dishes), 1 gateway, 1 PoP"


@pytest.mark.parametrize("calendar, words", [("even", "share of the online steps of its dish sites"),
                                             ("uneven", "share of the online time of its dish sites (each dish "
                                                        "site's step weighted by the time it stands for)")])
def test_the_throughput_text_says_what_the_curves_count(pages, calendar, words):
    text = _explain(pages[calendar], "throughput")
    assert words in text
    assert "Outage steps are left out" in text  # quality over the online time, as leonet summary's percentiles
    assert "dish-steps" not in text
    assert "counts once, however many dishes it stands for" in text


def test_a_short_uniform_run_names_its_events(tmp_path):
    """Only the day-by-day section (windowed or multi-day runs) listed the events: the report of a
    short, uniform strike named none of them."""
    data = _scenario()
    data["events"] = [{"name": "core-strike", "type": "core_outage", "start_s": 20, "end_s": 40,
                       "description": "the PoP's core is hit"}]
    folder = tmp_path / "run"
    leonet.run(leonet.scenario_from_dict(data), out_dir=folder)
    page = build_report_html(folder)
    table = re.search(r'<table id="events-table">.*?</table>', page, re.S)
    assert table and "core-strike" in table.group(0) and "core_outage" in table.group(0)
    assert "2024-01-15 12:00:20" in table.group(0) and "the PoP&#x27;s core is hit" in table.group(0)
    assert 'id="timeline"' not in page


def test_a_run_without_events_has_no_events_section(pages):
    assert 'id="events-table"' not in pages["even"]
