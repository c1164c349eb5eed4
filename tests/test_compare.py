"""Scenario vs baseline: the comparison counts exactly the lost time the events cause."""

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import leonet
from leonet.results.compare import compare, resilience_by_group

# End to end: runs with events and their baselines, one through the command line.
pytestmark = pytest.mark.slow

SCENARIO = """
name: cmp
constellation: starlink-gen1
ground:
  dish_groups:
    - {name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 4, radius_km: 10, seed: 1}
    - {name: Kharkiv, lat_deg: 49.99, lon_deg: 36.23, count: 4, radius_km: 10, seed: 2}
  builtin:
    - {name: starlink-gateways-2023, regions: [Europe]}
    - {name: starlink-pops-2023, regions: [Europe]}
time: {start: 2022-03-01T12:00:00Z, duration_s: 60, step_s: 1}
outputs: {visibility_pairs: false}
events:
  - {name: east-fibre, type: terrestrial_outage, start_s: 0, target: {groups: [Kharkiv]}}
  - {name: core, type: core_outage, start_s: 20, end_s: 30}
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    (d / "s.yaml").write_text(textwrap.dedent(SCENARIO))
    sc = leonet.load_scenario(d / "s.yaml")
    a = leonet.run(sc, out_dir=d / "out", baseline=True)  # the baseline goes to out/baseline
    b = a.baseline
    assert b.store.root == d / "out" / "baseline" and b.model.scenario.name == "cmp-baseline"
    assert not b.model.scenario.events and b.store.read_manifest().scenario == "cmp-baseline"
    return d, a, b


def test_compare_counts_the_core_outage(runs):
    _, a, b = runs
    ends = {r.spec.name: (r.end_ns, r.spec.type) for r in a.model.timeline.events}
    df = compare(a.store, b.store, ends)
    assert (df["availability_baseline"] == 1.0).all()
    assert np.allclose(df["availability"], 50 / 60)
    assert np.allclose(df["lost_s_NO_PATH"], 4 * 10)  # 4 dishes x 10 s in each city
    assert np.allclose(df["rtt_matched_p50_change_ms"], 0.0)
    assert np.allclose(df["recover_s_core"], 0.0)
    assert df.loc["Kharkiv", "online_satellite"] == pytest.approx(50 / 60)
    assert df.loc["Kharkiv", "online_none"] == pytest.approx(10 / 60)
    assert df.loc["Kyiv", "online_both"] == pytest.approx(50 / 60)
    assert df.loc["Kharkiv", "saved_by_satellite_s"] == pytest.approx(4 * 50)


def test_cli_baseline_prints_the_comparison(tmp_path):
    (tmp_path / "s.yaml").write_text(textwrap.dedent(SCENARIO))
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o"),
                        "--baseline", "-q"], capture_output=True, text=True, timeout=300, env={"COLUMNS": "200", "PATH": ""})
    assert r.returncode == 0, r.stderr
    assert "scenario vs baseline" in r.stdout and "NO_PATH 40 dish-s" in r.stdout
    assert (tmp_path / "o" / "baseline" / "manifest.json").exists()


def test_throughput_against_baseline(tmp_path):
    """With capacity, the comparison gives mean downlink and unmet demand for both runs."""
    import yaml

    data = yaml.safe_load(textwrap.dedent(SCENARIO))
    data["capacity"] = {"enabled": True, "atmosphere": False}
    data["events"].append({"name": "rush", "type": "demand_surge", "start_s": 0, "surge_factor": 400})
    sc = leonet.scenario_from_dict(data, base_dir=tmp_path)
    a = leonet.run(sc, out_dir=tmp_path / "a")
    b = leonet.run(sc.model_copy(update={"events": [], "name": "cmp-b"}), out_dir=tmp_path / "b")
    df = compare(a.store, b.store)
    assert (df["unmet_down_share_baseline"] < 1e-9).all()   # the baseline's light demand is met
    assert (df["unmet_down_share"] > 0.05).all()             # a 400x surge is not
    assert (df["down_mean_mbps"] > df["down_mean_mbps_baseline"]).all()  # more is carried, though


def test_congested_is_online_in_summary_compare_report_and_app(runs, tmp_path):
    """leonet.states: CONGESTED is not an outage. Some CONNECTED steps are made CONGESTED: the
    availability of `summary`, `compare`, the report and the app stay those of the intact run, and
    none of them counts CONGESTED as lost time."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from leonet.app.network import regions
    from leonet.app.run import RunData
    from leonet.results.report import build_report_html
    from leonet.results.store import ResultStore, parquet_record
    from leonet.results.summary import network_summary
    from leonet.states import STATE_NAMES

    d, a, _ = runs
    before = network_summary(a.store).by_group().set_index("group")["availability"]
    folder = shutil.copytree(d / "out", tmp_path / "congested", ignore=shutil.ignore_patterns("baseline"))
    records = {}
    for part in sorted((folder / "dish_steps").glob("part-*.parquet")):
        table = pq.read_table(part)
        state = table.column("state").combine_chunks()
        assert state.dictionary.to_pylist() == list(STATE_NAMES)
        codes = state.indices.to_numpy(zero_copy_only=False).copy()
        connected = np.flatnonzero(codes == STATE_NAMES.index("CONNECTED"))
        codes[connected[::3]] = STATE_NAMES.index("CONGESTED")
        new = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), state.dictionary)
        pq.write_table(table.set_column(table.schema.get_field_index("state"), "state", new), part)
        records[int(part.stem[5:])] = parquet_record(part.read_bytes())
    store = ResultStore(folder)
    m = store.read_manifest()
    store.write_manifest(m.model_copy(update={"chunks": {**m.chunks, "dish_steps": records}}))
    store = ResultStore(folder)

    assert (store.read("dish_steps", columns=["state"]).column("state").to_pylist()).count("CONGESTED") > 10
    summary = network_summary(store).by_group().set_index("group")
    np.testing.assert_allclose(summary["availability"], before.reindex(summary.index), rtol=0, atol=1e-12)
    assert all("CONGESTED" not in causes for causes in summary["outage_causes"])
    res = resilience_by_group(store, store.manifest.step_s)
    np.testing.assert_allclose(res["availability"], summary["availability"].reindex(res.index), rtol=0, atol=1e-12)
    assert not any(c.endswith("CONGESTED") for c in res.columns if c.startswith("lost_s_"))
    app = {r.group: r for r in regions(RunData(folder), 0, 100).regions}
    for group, r in app.items():
        assert r.availability == pytest.approx(summary.loc[group, "availability"], abs=1e-12)
        assert "CONGESTED" not in r.outage_steps_by_leonet_state and "CONNECTED" not in r.outage_steps
    html = build_report_html(folder)
    for group, avail in summary["availability"].items():
        assert f'data-group="{group}"' in html and f"{avail * 100:.2f}" in html


def test_rtt_change_by_hand():
    """Two dishes of one group over 4 steps, computed by hand. Baseline RTT (ms): dish 0 at
    10, 10, 10, 10; dish 1 at 20, 20, 20, 20. Scenario: dish 0 at 10, 10, 10, 10 (unchanged);
    dish 1 down at steps 0-1, then 30, 30. Medians: baseline of {10 x4, 20 x4} = 15; scenario of
    {10 x4, 30 x2} = 10; change -5. Matched (both connected): dish 0 at 4 steps (diff 0), dish 1 at
    steps 2-3 (diff +10): mean 20/6 = 3.333, median of {0,0,0,0,10,10} = 0."""
    from leonet.results.compare import rtt_change_by_group

    t = np.tile(np.arange(4), 2)
    site = np.repeat([0, 1], 4)
    # wk: each dish-step's weight (one dish, equal steps)
    base = pd.DataFrame({"t": t, "site": site, "group": "G", "rtt_ms": [10.0] * 4 + [20.0] * 4, "wk": 1.0})
    scen = pd.DataFrame({"t": t, "site": site, "group": "G", "rtt_ms": [10.0] * 4 + [np.nan, np.nan, 30.0, 30.0],
                         "wk": 1.0})
    r = rtt_change_by_group(scen, base).loc["G"]
    assert r["rtt_p50_ms"] == 10.0 and r["rtt_p50_ms_baseline"] == 15.0 and r["rtt_p50_change_ms"] == -5.0
    assert r["rtt_matched_mean_change_ms"] == pytest.approx(20 / 6)
    assert r["rtt_matched_p50_change_ms"] == 0.0
    # Dish 1 stands for 5 dishes: the matched diffs weigh 1 x {0,0,0,0} and 5 x {10,10}: mean
    # 100 / 14, median 10 (the weighted median lies in dish 1's mass).
    scen["wk"] = np.where(site == 1, 5.0, 1.0)
    r = rtt_change_by_group(scen, base).loc["G"]
    assert r["rtt_matched_mean_change_ms"] == pytest.approx(100 / 14)
    assert r["rtt_matched_p50_change_ms"] == pytest.approx(10.0)
    # a group never online in the scenario keeps its baseline's median (it was dropped: "- (-)")
    scen["rtt_ms"] = np.nan
    r = rtt_change_by_group(scen, base).loc["G"]
    assert np.isnan(r["rtt_p50_ms"]) and r["rtt_p50_ms_baseline"] == 15.0 and np.isnan(r["rtt_p50_change_ms"])


def test_overwrite_removes_the_old_scenarios_baseline(tmp_path):
    # The stored baseline belongs to the scenario it was run with; after --overwrite with another
    # scenario a summary must not compare the new run with it.
    import yaml

    data = yaml.safe_load(textwrap.dedent(SCENARIO))
    data["time"]["duration_s"] = 4
    first = leonet.scenario_from_dict(data)
    leonet.run(first, out_dir=tmp_path / "o", baseline=True)
    assert (tmp_path / "o" / "baseline" / "manifest.json").exists()
    data["ground"]["dish_groups"][0]["lat_deg"] = 10.0
    leonet.run(leonet.scenario_from_dict(data), out_dir=tmp_path / "o", overwrite=True)
    assert not (tmp_path / "o" / "baseline").exists()
    r = subprocess.run([sys.executable, "-m", "leonet", "summary", str(tmp_path / "o")], capture_output=True,
                       text=True, timeout=300, env={"COLUMNS": "200", "PATH": ""})
    assert r.returncode == 0 and "baseline" not in r.stdout


def test_summary_leaves_out_a_baseline_that_did_not_finish(runs, tmp_path):
    """A run killed during its baseline left out/baseline with part of its chunks: `leonet summary`
    compared against it as if whole (other RTT medians and availabilities than the finished one)."""
    import json
    import shutil

    d, _, _ = runs
    folder = shutil.copytree(d / "out", tmp_path / "out")
    manifest = folder / "baseline" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["completed"] = False
    manifest.write_text(json.dumps(data))
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "summary", str(folder)], capture_output=True, text=True,
                       timeout=300, env={"COLUMNS": "200", "PATH": ""})
    assert r.returncode == 0, r.stderr
    assert "is an incomplete run" in " ".join((r.stdout + r.stderr).split())
    assert "scenario vs baseline" not in r.stdout


def test_recovery_after_a_geofence_and_a_power_cut(tmp_path):
    """Recovery times covered the outages of the network and the dish, not the operator's geofence
    or a power cut: those dishes are GEOFENCED and OFFLINE until the event ends."""
    import yaml

    data = yaml.safe_load(textwrap.dedent(SCENARIO))
    data["events"] = [
        {"name": "fence", "type": "geofence", "start_s": 10, "end_s": 20, "target": {"groups": ["Kyiv"]}},
        {"name": "dark", "type": "power_cut", "start_s": 30, "end_s": 40, "target": {"groups": ["Kharkiv"]}}]
    a = leonet.run(leonet.scenario_from_dict(data), out_dir=tmp_path / "o", baseline=True)
    ends = {r.spec.name: (r.end_ns, r.spec.type) for r in a.model.timeline.events}
    df = compare(a.store, a.baseline.store, ends)
    assert df.loc["Kyiv", "recover_s_fence"] == 0.0 and df.loc["Kharkiv", "recover_s_dark"] == 0.0
    assert np.isnan(df.loc["Kharkiv", "recover_s_fence"]) and np.isnan(df.loc["Kyiv", "recover_s_dark"])


def test_recovery_counts_only_the_dishes_the_event_touched(tmp_path):
    """Recovery after an event's end is measured over the dishes it struck (events.json), not
    every dish in its state then: Kharkiv, dark from a power cut, did not fail to recover from a
    bricking of Kyiv's dishes (bug: charged "never recovered"). A bricking of Kharkiv's dishes
    (still dark at its end) reads "not recovered" in `leonet summary`, apart from "-" (untouched)."""
    import io

    import yaml
    from rich.console import Console

    from leonet.cli_summary import print_stored_resilience

    data = yaml.safe_load(textwrap.dedent(SCENARIO))
    data["time"]["duration_s"] = 40
    data["events"] = [
        {"name": "dark", "type": "power_cut", "start_s": 5, "target": {"groups": ["Kharkiv"]}},
        {"name": "brick", "type": "dish_bricking", "start_s": 10, "end_s": 20, "target": {"groups": ["Kyiv"]}},
        {"name": "brick2", "type": "dish_bricking", "start_s": 10, "end_s": 20, "target": {"groups": ["Kharkiv"]}}]
    a = leonet.run(leonet.scenario_from_dict(data), out_dir=tmp_path / "o", baseline=True)
    ends = {r.spec.name: (r.end_ns, r.spec.type) for r in a.model.timeline.events if r.spec.name != "dark"}
    df = compare(a.store, a.baseline.store, ends)
    assert df.loc["Kyiv", "recover_s_brick"] == 0.0
    assert np.isnan(df.loc["Kharkiv", "recover_s_brick"])  # OFFLINE at its end, from the power cut
    assert df.loc["Kharkiv", "recover_s_brick2"] == np.inf and np.isnan(df.loc["Kyiv", "recover_s_brick2"])
    console = Console(file=io.StringIO(), width=400)
    print_stored_resilience(console, a.store, a.baseline.store)
    rows = {line.split("│")[1].strip(): line for line in console.file.getvalue().splitlines() if line.count("│") > 3}
    assert rows["Kyiv"].split("│")[-2].strip() == "brick 0"
    assert rows["Kharkiv"].split("│")[-2].strip() == "brick2 not recovered"


def _baseline_with_sites(runs, tmp_path, change):
    """A copy of the run whose baseline's sites.parquet is ``change``d (a pyarrow table -> table)."""
    import shutil

    import pyarrow.parquet as pq

    d, _, _ = runs
    folder = shutil.copytree(d / "out", tmp_path / "out")
    path = folder / "baseline" / "sites.parquet"
    pq.write_table(change(pq.read_table(path)), path)
    return folder


def _renamed(table):
    import pyarrow as pa

    names = table.column("name").to_pylist()
    row = names.index("Kharkiv0")
    names[row] = "Odesa0"
    return table.set_column(table.schema.get_field_index("name"), "name", pa.array(names)), row


def test_a_baseline_of_other_sites_is_left_out_everywhere(runs, tmp_path):
    """Dishes are paired by their row in each run's sites: a baseline with other sites (another
    scenario's run put in its folder) read each dish's RTT change against another dish."""
    from leonet.app.run import NotFound, RunData
    from leonet.errors import InputError
    from leonet.results.store import ResultStore

    row = {}

    def rename(table):
        out, row["k"] = _renamed(table)
        return out

    folder = _baseline_with_sites(runs, tmp_path, rename)
    r = subprocess.run([sys.executable, "-m", "leonet.cli", "summary", str(folder)], capture_output=True, text=True,
                       timeout=300, env={"COLUMNS": "200", "PATH": ""})
    text = " ".join((r.stdout + r.stderr).split())
    assert r.returncode == 0, r.stderr
    assert f"has other sites than the run (row {row['k']}: 'Odesa0' in the baseline, 'Kharkiv0' in the run)" in text
    assert "scenario vs baseline" not in r.stdout
    with pytest.raises(InputError, match="has other sites than the run"):
        compare(ResultStore(folder), ResultStore(folder / "baseline"))
    data = RunData(folder)
    assert data.baseline is None and any("other sites" in w for w in data.warnings)
    with pytest.raises(NotFound, match=r"baseline \(baseline/\) is left out: .*Odesa0"):
        data.need_baseline()


def test_a_baseline_whose_site_moved_names_the_field(runs, tmp_path):
    import pyarrow as pa

    from leonet.results.baseline import sites_mismatch
    from leonet.results.store import ResultStore

    def move(table):
        lat = table.column("lat_deg").to_pylist()
        lat[0] += 0.01
        return table.set_column(table.schema.get_field_index("lat_deg"), "lat_deg", pa.array(lat))

    folder = _baseline_with_sites(runs, tmp_path, move)
    why = sites_mismatch(ResultStore(folder), ResultStore(folder / "baseline"))
    assert why.startswith("has other sites than the run (row 0: ") and "lat_deg" in why
    d, a, b = runs
    assert sites_mismatch(a.store, b.store) is None   # a run and the baseline it wrote
