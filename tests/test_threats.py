"""Each event type changes exactly what it should, on small scenarios; same seeds give the same
losses; baseline and scenario differ only where events act; bad events are named."""

import textwrap

import numpy as np
import pandas as pd
import pytest

import leonet
from leonet.errors import InputError
from leonet.sim.step import compute_chunk
from leonet.scenario.events import RegionSpec
from leonet.threats.timeline import in_region

BASE = """
name: threats
constellation: starlink-gen1
ground:
  dish_groups:
    - {name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 6, radius_km: 10, seed: 1}
    - {name: Lviv, lat_deg: 49.84, lon_deg: 24.03, count: 6, radius_km: 10, seed: 2}
  builtin:
    - {name: starlink-gateways-2023, regions: [Europe, North America]}
    - {name: starlink-pops-2023, regions: [Europe, North America]}
time: {start: 2022-03-01T12:00:00Z, duration_s: 60, step_s: 2}
outputs: {visibility_pairs: false}
"""


def model_with(events: str = "", tmp_path=None):
    text = textwrap.dedent(BASE) + (textwrap.dedent(events) if events else "")
    return leonet.build_model(leonet.scenario_from_dict(__import__("yaml").safe_load(text), base_dir=tmp_path or "."))


def dishes(model):
    return compute_chunk(model, model.t_ns)["dish_steps"].to_pandas()


@pytest.fixture(scope="module")
def baseline():
    m = model_with()
    return m, dishes(m)


def test_lost_gateway_reroutes(baseline):
    m, base = baseline
    names = m.sites.name
    used = base["gateway"].value_counts().index[0]
    ev = f"""
    events:
      - {{name: strike, type: gateway_loss, start_s: 20, end_s: 40, target: {{sites: ["{names[used]}"]}}}}
    """
    d = dishes(model_with(ev))
    during = (d["t"] >= d["t"].min() + pd.Timedelta(seconds=20)) & (d["t"] < d["t"].min() + pd.Timedelta(seconds=40))
    assert not (d.loc[during, "gateway"] == used).any()
    assert (d.loc[during, "state"] == "CONNECTED").all()  # lasers reach other gateways
    assert (d.loc[~during, "gateway"] == used).any()       # before and after: back to normal


def test_core_outage_means_no_path_then_recovery(baseline):
    d = dishes(model_with("""
    events:
      - {name: core, type: core_outage, start_s: 10, end_s: 30}
    """))
    t0 = d["t"].min()
    during = (d["t"] >= t0 + pd.Timedelta(seconds=10)) & (d["t"] < t0 + pd.Timedelta(seconds=30))
    assert (d.loc[during, "state"] == "NO_PATH").all()
    assert (d.loc[~during, "state"] == "CONNECTED").all()


def test_fibre_cut_isolates_a_gateway(baseline):
    m, base = baseline
    net = m.network
    used = base["gateway"].value_counts().index[0]
    g = int(np.flatnonzero(net.gateway_sites == used)[0])
    pop_name = m.sites.name[net.pop_sites[net.gateway_pop[g]]]
    d = dishes(model_with(f"""
    events:
      - {{name: cut, type: fibre_cut, start_s: 0, links: [["{m.sites.name[used]}", "{pop_name}"]]}}
    """))
    assert not (d["gateway"] == used).any()


def test_lost_satellites_never_appear_and_seeds_repeat(baseline):
    ev = """
    events:
      - {name: storm, type: satellite_loss, start_s: 0, target: {shells: [shell1], fraction: 0.5, seed: 7}}
    """
    m = model_with(ev)
    lost = m.timeline.state_at(int(m.t_ns[0])).sat_lost
    assert lost.sum() == 792 and (m.constellation.shell[lost] == 0).all()
    d = dishes(m)
    used = set(d["serving_sat"]) | {s for p in d["path"] for s in p}
    assert not (used & set(np.flatnonzero(lost)))
    again = model_with(ev).timeline.state_at(int(m.t_ns[0])).sat_lost
    other = model_with(ev.replace("seed: 7", "seed: 8")).timeline.state_at(int(m.t_ns[0])).sat_lost
    assert np.array_equal(lost, again) and not np.array_equal(lost, other)


def test_random_failures_accumulate_deterministically():
    m = model_with("""
    events:
      - {name: wear, type: satellite_failures, start_s: 0, rate_per_day: 50, target: {seed: 3}}
    """)
    counts = [m.timeline.state_at(int(t)).sat_lost.sum() for t in m.t_ns[::5]]
    assert counts == sorted(counts) and counts[-1] > counts[0] >= 0
    # Expected failures by t: N (1 - exp(-rate t)); 60 s at 50/day -> ~3.4% of 4,408 ~ 150.
    t_days = (m.t_ns[-1] - m.t_ns[0]) / 86400e9
    expected = 4408 * (1 - np.exp(-50 * t_days))
    assert abs(m.timeline.state_at(int(m.t_ns[-1])).sat_lost.sum() - expected) < 5 * np.sqrt(expected)


def test_asat_hits_satellites_over_the_region():
    m = model_with("""
    events:
      - {name: asat, type: asat, start_s: 10, target: {region: {circle: {lat_deg: 50, lon_deg: 30, radius_km: 1500}}}}
    """)
    t_hit = int(m.t_ns[0] + 10 * 10**9)
    lost = m.timeline.state_at(t_hit).sat_lost
    assert not m.timeline.state_at(int(m.t_ns[0])).sat_lost.any()
    from leonet.space.frames import ecef_to_geodetic
    from leonet.space.propagate import propagate

    lat, lon, _ = ecef_to_geodetic(propagate(m.constellation, np.array([t_hit])).ecef_m[0])
    region = RegionSpec(circle={"lat_deg": 50, "lon_deg": 30, "radius_km": 1500})
    assert np.array_equal(lost, in_region(region, lat, lon)) and lost.sum() > 5


def test_bricked_dishes_are_offline_others_not(baseline):
    d = dishes(model_with("""
    events:
      - {name: acidrain, type: dish_bricking, start_s: 0, target: {groups: [Kyiv], fraction: 0.5, seed: 1}}
    """))
    m = baseline[0]
    group = m.sites.group[d["site"].to_numpy()]
    kyiv = d[group == "Kyiv"]
    per_dish = kyiv.groupby("site")["state"].agg(lambda s: set(s))
    assert sum(s == {"OFFLINE"} for s in per_dish) == 3
    assert (d[group == "Lviv"]["state"] == "CONNECTED").all()


def test_terrestrial_outage_moves_users_to_satellite(baseline):
    d = dishes(model_with("""
    events:
      - {name: fibre-east, type: terrestrial_outage, start_s: 0, target: {region: {circle: {lat_deg: 50.45, lon_deg: 30.52, radius_km: 100}}}}
    """))
    m = baseline[0]
    group = m.sites.group[d["site"].to_numpy()]
    assert (~d.loc[group == "Kyiv", "ground_online"]).all()
    assert (d.loc[group == "Kyiv", "online_by"] == "satellite").all()
    assert (d.loc[group == "Lviv", "online_by"] == "both").all()
    assert (d["ground_rtt_ms"] > 0).all()


def test_baseline_and_scenario_differ_only_where_events_act(baseline):
    m, base = baseline
    # A strike on American gateways cannot change routes from Ukraine to European gateways.
    d = dishes(model_with("""
    events:
      - {name: far, type: gateway_loss, start_s: 0, target: {region: {circle: {lat_deg: 40, lon_deg: -100, radius_km: 1500}}}}
    """))
    pd.testing.assert_frame_equal(base, d)


@pytest.mark.parametrize("event,needle", [
    ("{name: bad, type: core_outage, start_s: 30, end_s: 10}", "events[0] (bad)"),
    ("{name: frac, type: dish_bricking, start_s: 0, target: {groups: [Kyiv], fraction: 1.5}}", "events[0] (frac).target.fraction"),
    ("{name: poly, type: terrestrial_outage, start_s: 0, target: {region: {polygon: [[0,0],[1,1],[0,1],[1,0]]}}}", "crosses itself"),
    ("{name: who, type: gateway_loss, start_s: 0, target: {sites: [Atlantis]}}", "events[0] (who).target.sites"),
    ("{name: nothing, type: gateway_loss, start_s: 0}", "needs a target"),
])
def test_bad_events_are_named(tmp_path, event, needle):
    text = textwrap.dedent(BASE) + f"events:\n  - {event}\n"
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(InputError) as e:
        leonet.build_model(leonet.load_scenario(tmp_path / "s.yaml"))
    assert needle in str(e.value), str(e.value)
