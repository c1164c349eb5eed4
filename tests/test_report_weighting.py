"""The report's dish figures weigh a dish-step as every results reader does (the dishes its site
stands for, times the time its step stands for): the outage text, the stacked plot of dish
states, the service table's dish-steps, dish-hours and outage time by cause agree with the
summary's availability, ``leonet summary``'s lost time and the day-by-day table. And the report
says what the run's RTT holds (propagation; queueing with capacity; the dish's own latency with
the service model).

Two dish sites in one group, A standing for 100 dishes and B for one, B bricked from the start:
availability 100 / 101, so a report counting sites (4 of 8 site-steps, 50 %) is caught.
"""

from __future__ import annotations

import base64
import json
import re
import shutil

import numpy as np
import pytest
import yaml

import leonet
from leonet.results.compare import resilience_by_group
from leonet.results.report import build_report_html
from leonet.results.report.markup import dish_time
from leonet.results.store import ResultStore
from leonet.results.summary import network_summary
from leonet.results.timeline import daily_table

pytestmark = pytest.mark.slow  # small simulation runs

SHELL = {"shells": [{"name": "sh", "altitude_km": 550, "inclination_deg": 53, "planes": 24, "sats_per_plane": 12}]}
EUROPE = [{"name": "starlink-gateways-2023", "regions": ["Europe"]}, {"name": "starlink-pops-2023", "regions": ["Europe"]}]
SITES = [{"name": "A", "kind": "dish", "lat_deg": 50.45, "lon_deg": 30.52, "group": "G", "dishes": 100},
         {"name": "B", "kind": "dish", "lat_deg": 50.50, "lon_deg": 30.60, "group": "G", "dishes": 1}]
BRICK = [{"name": "brick", "type": "dish_bricking", "start_s": 0, "target": {"sites": ["B"]}}]


def _run(tmp_path_factory, name: str, time: dict) -> ResultStore:
    sc = leonet.scenario_from_dict({"name": name, "constellation": SHELL, "ground": {"builtin": EUROPE, "sites": SITES},
                                    "time": {"start": "2022-03-01T12:00:00Z", **time}, "events": BRICK})
    out = tmp_path_factory.mktemp(name) / "out"
    leonet.run(sc, out_dir=out)
    return ResultStore(out)


@pytest.fixture(scope="module")
def even(tmp_path_factory) -> ResultStore:
    return _run(tmp_path_factory, "even", {"duration_s": 40, "step_s": 10})


@pytest.fixture(scope="module")
def windowed(tmp_path_factory) -> ResultStore:
    return _run(tmp_path_factory, "windowed", {"duration_s": 7200, "step_s": 3600,
                                               "windows": [{"name": "w", "start_s": 0, "duration_s": 60, "step_s": 10}]})


def _cells(html: str, table: str) -> dict[str, str]:
    """data-col -> data-value of the first row of a table."""
    body = html[html.index(f'<table id="{table}">'):]
    body = body[:body.index("</table>")]
    row = body[body.index("<tbody>"):]
    return dict(re.findall(r'data-col="([^"]+)"(?: data-value="([^"]*)")?', row)) | {
        c: v for c, v in re.findall(r'<td data-col="([^"]+)">([^<]*)</td>', row)}


def _array(v) -> np.ndarray:
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v, dtype=np.float64)


def _outage_figure(html: str) -> dict:
    for m in re.finditer(r"<script>\(function\(\)\{var f=(\{.*?\});Plotly\.newPlot\(\"([^\"]+)\"", html, re.S):
        if m.group(2) == "plot-outages":
            return json.loads(m.group(1))
    raise AssertionError("no plot-outages figure")


def test_outage_figures_count_dishes_not_sites(even):
    html = build_report_html(even.root)
    group = network_summary(even).by_group().set_index("group").loc["G"]
    assert group["availability"] == pytest.approx(100 / 101, rel=1e-12)
    # B's one dish x 4 steps of 10 s, of 101 dishes x 4 steps: 1 - availability, as `leonet summary` says
    lost_s = resilience_by_group(even, even.manifest.step_s).loc["G", "lost_s_OFFLINE"]
    assert lost_s == pytest.approx(40.0) and dish_time(lost_s) == "40 dish-s"
    assert "4 of 404 dish-steps (0.99 %) were in an outage: OFFLINE 4 (40 dish-s)." in html
    cells = _cells(html, "group-summary")
    assert float(cells["dish_steps"]) == 404
    assert float(cells["dish_hours"]) == pytest.approx(101 * 40 / 3600, rel=1e-12)
    assert cells["outage_time"] == "OFFLINE 40 dish-s"
    # the stacked plot: dishes in each state, 101 at every step, on an axis that holds them
    fig = _outage_figure(html)
    stacked = sum(_array(t["y"]).astype(np.float64) for t in fig["data"])
    np.testing.assert_array_equal(stacked, np.full(4, 101.0))
    offline = next(t for t in fig["data"] if t["name"] == "OFFLINE")
    np.testing.assert_array_equal(_array(offline["y"]), np.ones(4))
    assert fig["layout"]["yaxis"]["range"][1] >= 101


def test_windowed_outage_time_agrees_with_summary_and_daily_table(windowed):
    html = build_report_html(windowed.root)
    day_hours = float(daily_table(windowed)["dish_hours"].sum())
    assert day_hours == pytest.approx(101 * 2.0, rel=1e-12)
    lost_s = resilience_by_group(windowed, windowed.manifest.step_s).loc["G", "lost_s_OFFLINE"]
    assert lost_s == pytest.approx(7200.0)  # B's one dish for the run's two hours
    assert (f"{lost_s / 3600:.2f} of {day_hours:.2f} dish-hours ({100 * lost_s / 3600 / day_hours:.2f} %) were in an "
            f"outage: OFFLINE {dish_time(lost_s)}.") in html
    assert dish_time(lost_s) == "120 dish-min"
    cells = _cells(html, "group-summary")
    assert float(cells["dish_hours"]) == pytest.approx(day_hours, rel=1e-12)
    assert float(cells["dish_steps"]) == 101 * windowed.manifest.n_steps
    assert cells["outage_time"] == "OFFLINE 120 dish-min"


def _rewrite(src: ResultStore, dest, run_json: dict | None = None, service: dict | None = None) -> ResultStore:
    """A copy of a results folder whose run.json / scenario.yaml say the run had capacity or the
    service model (what the report reads to tell what the RTT holds)."""
    folder = shutil.copytree(src.root, dest)
    if run_json:
        facts = json.loads((folder / "run.json").read_text())
        (folder / "run.json").write_text(json.dumps({**facts, **run_json}))
    if service is not None:
        doc = yaml.safe_load((folder / "scenario.yaml").read_text())
        doc["service"] = {**doc["service"], **service, "latency": {**doc["service"]["latency"], **service.get("latency", {})}}
        (folder / "scenario.yaml").write_text(yaml.safe_dump(doc))
    return ResultStore(folder)


def _rtt_text(store: ResultStore) -> str:
    html = build_report_html(store.root)
    assert "no queueing yet" not in html
    return html[html.index("<b>RTT</b> is"):][:400]


def test_rtt_text_says_what_the_run_measured(even, tmp_path):
    assert "(propagation only: the run has no capacity model, so no queueing)" in _rtt_text(even)
    capacity = _rtt_text(_rewrite(even, tmp_path / "cap", run_json={"capacity": True}))
    assert "propagation round trip dish &rarr; satellites &rarr; gateway &rarr; PoP plus the queueing delay" in capacity
    service = _rtt_text(_rewrite(even, tmp_path / "svc", run_json={"capacity": True}, service={"enabled": True}))
    assert ("the latency the dish measures (its 1 Hz ping round trip; the service model is on): the propagation "
            "dish &rarr; satellites &rarr; gateway &rarr; PoP plus MAC scheduling, processing, the dish's own queue "
            "and jitter") in service.replace("&#x27;", "'")
    terms = _rtt_text(_rewrite(even, tmp_path / "terms", run_json={"capacity": True},
                               service={"enabled": True, "latency": {"jitter": False, "target": "exchange",
                                                                     "isl_hop_ms": 0.5}}))
    assert "plus MAC scheduling, processing, the dish's own queue, 0.5 ms per laser hop and the PoP &rarr; exchange leg" \
        in terms.replace("&#x27;", "'")
