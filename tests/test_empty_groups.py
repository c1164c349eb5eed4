"""Groups with no dish-time, and outages under a dish-second, in every reader.

* A dish group whose dishes are not delivered for the whole run (a ``deliveries`` event at share 0)
  has no dish-time: `leonet summary` printed ``nan%``, ``+nan``, ``nan (base nan)`` for it (the
  report says "–", the app null), gave it a top gateway (every gateway tied at weight 0:
  "Frankfurt, DE = Milano, IT"), path changes, "NO_PATH 0 dish-s" and a recovery from the core
  outage of dishes that were not there. A group never online (geofenced) printed ``nan (nan)``
  for its RTT in the resilience table. Now "-" / None / nothing.
* An outage of 0.1 dish-s printed "NO_PATH 0 dish-s" (the summary, the report, the app's
  outage_causes), ``:.0f``; now "NO_PATH 0.1 dish-s".
"""

import io
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import yaml

import leonet
from leonet.results.report.markup import dish_time
from leonet.results.summary import dish_time_text

HEADER = """
constellation: starlink-shell1
visibility: {min_elevation_deg: 25}
outputs: {chunk_steps: 60, visibility_pairs: false}
"""

# Kyiv: no dish delivered in the run (share 0 until April); Lviv: every dish there, a core outage
# at 30-60 s; Odesa: geofenced the whole run (never online)
EMPTY = HEADER + """
name: empty
ground:
  dish_groups:
    - {name: Kyiv, lat_deg: 50.4501, lon_deg: 30.5234, count: 2, radius_km: 15, seed: 1}
    - {name: Lviv, lat_deg: 49.8397, lon_deg: 24.0297, count: 2, radius_km: 15, seed: 3}
    - {name: Odesa, lat_deg: 46.48, lon_deg: 30.73, count: 1, radius_km: 5, seed: 4}
  builtin:
    - {name: starlink-gateways-2023, regions: [Europe]}
    - {name: starlink-pops-2023, regions: [Europe]}
time: {start: 2022-03-01T12:00:00Z, duration_s: 120, step_s: 10}
capacity: {enabled: true}
events:
  - {name: later, type: deliveries, start_s: 0, target: {groups: [Kyiv]}, schedule: [[2022-04-01T00:00:00Z, 1.0]]}
  - {name: core, type: core_outage, start_s: 30, end_s: 60}
  - {name: fence, type: geofence, start: 2022-03-01T11:00:00Z, end: 2022-03-01T13:00:00Z, target: {groups: [Odesa]}}
"""

# one dish, 0.3 s steps over 1 s: the core outage from 0.9 s takes the last 0.1 s
FRACTION = HEADER + """
name: frac
ground:
  dish_groups:
    - {name: Kyiv, lat_deg: 50.4501, lon_deg: 30.5234, count: 1, radius_km: 5, seed: 1}
  builtin:
    - {name: starlink-gateways-2023, regions: [Europe]}
    - {name: starlink-pops-2023, regions: [Europe]}
time: {start: 2022-03-01T12:00:00Z, duration_s: 1.0, step_s: 0.3}
events:
  - {name: core, type: core_outage, start_s: 0.9}
"""


def test_dish_time_under_a_dish_second_is_not_nil():
    """":.0f" printed 0.1 and 0.5 dish-s as "0 dish-s"; the report's cells read the same."""
    for seconds, text in ((0.1, "0.1 dish-s"), (0.3, "0.3 dish-s"), (0.5, "0.5 dish-s"), (0.04, "0.04 dish-s"),
                          (40.0, "40 dish-s"), (1_200.0, "20 dish-min"), (72_000.0, "20 dish-h")):
        assert dish_time_text(seconds) == text
        assert dish_time(seconds) == text
    assert dish_time_text(float("nan")) == "-"


def _summary(folder) -> str:
    r = subprocess.run([sys.executable, "-m", "leonet", "summary", str(folder)], capture_output=True, text=True,
                       timeout=300, env={"COLUMNS": "400", "PATH": "",
                                         **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}})
    assert r.returncode == 0, r.stderr
    return r.stdout


def _rows(text: str, title: str) -> dict[str, list[str]]:
    """The cells of each row of the rich table titled ``title`` in ``text``, by its first cell."""
    table = text[text.index(title):]
    table = table[:table.index("└")]
    return {cells[0]: cells for line in table.splitlines() if line.startswith("│")
            for cells in [[c.strip() for c in line.strip("│").split("│")]]}


def _report_rows(folder) -> dict[str, dict[str, str]]:
    from leonet.results.report import build_report_html

    html = build_report_html(folder)
    out = {}
    for group, row in re.findall(r'<tr data-group="([^"]+)">(.*?)</tr>', html):
        out[group] = {c: re.sub(r"<[^>]+>", "", v) for c, v in re.findall(r'<td[^>]*data-col="([^"]+)"[^>]*>(.*?)</td>', row)}
    return out


@pytest.fixture(scope="module")
def empty(tmp_path_factory):
    d = tmp_path_factory.mktemp("empty")
    sc = leonet.scenario_from_dict(yaml.safe_load(textwrap.dedent(EMPTY)))
    return leonet.run(sc, out_dir=d / "out", baseline=True)


@pytest.mark.slow
def test_a_group_without_dish_time_has_no_figures(empty):
    """Kyiv (no dish delivered) in the summary tables: "-" for every figure, no top gateway, no
    path changes, no outage, no recovery; Odesa (never online) "-" for its RTT, not "nan"."""
    text = _summary(empty.store.root)
    assert "nan" not in text.lower(), text
    service = _rows(text, "Service per dish group")
    kyiv = service["Kyiv"]            # group, dishes, availability, RTT p5, p50, p95, path changes, gw, PoP, outages
    assert kyiv[1] == "2" and kyiv[2:6] == ["-"] * 4 and kyiv[6] == "0", kyiv
    assert kyiv[7:] == ["", "", "-"], kyiv
    assert service["Lviv"][2] == "75.0%" and service["Lviv"][9] == "NO_PATH 60 dish-s"
    resilience = _rows(text, "Resilience per dish group")
    kyiv = resilience["Kyiv"]
    assert kyiv[1:7] == ["-", "-", "-", "- (-)", "-", "-"], kyiv
    assert kyiv[7:] == ["- (base -)", "- (base -)", "-", "-", "-"], kyiv
    assert resilience["Lviv"][-1] == "core 0" and resilience["Lviv"][9] == "NO_PATH 60 dish-s"
    odesa = resilience["Odesa"]
    assert odesa[1] == "0.0%" and odesa[4].startswith("- (") and odesa[5] == "-" and odesa[6] == "-", odesa


@pytest.mark.slow
def test_zero_weight_rows_count_for_nothing_in_every_reader(empty):
    """The summary's frame, compare, the report and /api/v1/regions and /api/v1/compare agree: a
    group with no dish-time has no top gateway or PoP, no path changes, no outage steps or lost
    time, no recovery; path changes elsewhere are the steps with dish-time and a changed path."""
    from leonet.app.network import compare as app_compare
    from leonet.app.network import regions
    from leonet.app.run import RunData
    from leonet.results.compare import compare
    from leonet.results.summary import network_summary

    store = empty.store
    g = network_summary(store).by_group().set_index("group")
    assert g.loc["Kyiv", "top_gateway"] == "" and g.loc["Kyiv", "top_pop"] == ""
    assert g.loc["Kyiv", "path_changes"] == 0 and g.loc["Kyiv", "outage_causes"] == "-"
    assert g.loc["Kyiv", "NO_PATH"] == 0 and g.loc["Kyiv", "lost_s_NO_PATH"] == 0
    d = store.read("dish_steps").to_pandas()
    group = store.read("sites").to_pandas()["group"].to_numpy()[d["site"].to_numpy()]
    for name in ("Kyiv", "Lviv", "Odesa"):
        mine = (group == name) & (d["delivered"].to_numpy() > 0)
        assert g.loc[name, "path_changes"] == int(d["path_changed"].to_numpy()[mine].sum()), name
    assert g.loc["Lviv", "path_changes"] > 0

    ends = {r.spec.name: (r.end_ns, r.spec.type) for r in empty.model.timeline.events if r.end_ns is not None}
    df = compare(store, empty.baseline.store, {"core": ends["core"]})
    assert np.isnan(df.loc["Kyiv", "recover_s_core"]) and df.loc["Lviv", "recover_s_core"] == 0.0

    run = RunData(store.root)
    app = {r.group: r for r in regions(run, 0, 100).regions}
    kyiv = app["Kyiv"]
    assert kyiv.availability is None and kyiv.top_gateway is None and kyiv.top_pop is None
    assert kyiv.path_changes == 0 and kyiv.outage_steps == {} and kyiv.outage_steps_by_leonet_state == {}
    assert kyiv.lost_s_by_cause == {} and kyiv.lost_s_by_leonet_state == {} and kyiv.outage_causes == "-"
    assert app["Lviv"].path_changes == g.loc["Lviv", "path_changes"]
    groups = {c.group: c for c in app_compare(run, 0, 100).groups}
    assert groups["Kyiv"].recovery == [] and groups["Kyiv"].availability is None
    assert [r.event for r in groups["Lviv"].recovery] == ["core"]

    report = _report_rows(store.root)
    assert report["Kyiv"]["top_gateway"] == "" and report["Kyiv"]["top_pop"] == ""
    assert report["Kyiv"]["path_changes"] == "0" and report["Kyiv"]["outage_time"] == "-"
    assert report["Lviv"]["path_changes"] == str(g.loc["Lviv", "path_changes"])


@pytest.mark.slow
def test_an_outage_of_a_tenth_of_a_dish_second_reads_so(tmp_path):
    """0.1 dish-s lost (NO_PATH, which the dish calls NO_PINGS) reads "NO_PATH 0.1 dish-s" in the
    summary's service and resilience tables, the report's outage time and the app's
    outage_causes, not "NO_PATH 0 dish-s"."""
    from rich.console import Console

    from leonet.app.network import regions
    from leonet.app.run import RunData
    from leonet.cli_summary import print_stored_resilience
    from leonet.results.summary import network_summary

    sc = leonet.scenario_from_dict(yaml.safe_load(textwrap.dedent(FRACTION)))
    r = leonet.run(sc, out_dir=tmp_path / "out")
    g = network_summary(r.store).by_group().set_index("group")
    assert g.loc["Kyiv", "availability"] == pytest.approx(0.9)
    assert g.loc["Kyiv", "outage_causes"] == "NO_PATH 0.1 dish-s"
    console = Console(file=io.StringIO(), width=300)
    print_stored_resilience(console, r.store)
    assert _rows(console.file.getvalue(), "Resilience per dish group")["Kyiv"][2] == "NO_PATH 0.1 dish-s"
    assert _report_rows(r.store.root)["Kyiv"]["outage_time"] == "NO_PATH 0.1 dish-s"
    region = regions(RunData(r.store.root), 0, 10).regions[0]
    assert region.outage_causes == "NO_PATH 0.1 dish-s"
    assert region.lost_s_by_leonet_state == pytest.approx({"NO_PATH": 0.1})
    assert region.lost_s_by_cause == pytest.approx({"NO_PINGS": 0.1})   # the same time, in the dish's word
