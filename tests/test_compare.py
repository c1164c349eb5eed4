"""Scenario vs baseline: the comparison counts exactly the lost time the events cause."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import leonet
from leonet.results.compare import compare, resilience_by_group

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
    assert np.allclose(df["rtt_p50_inflation_ms"], 0.0)
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
