"""`leonet dish`'s scenario (leonet.mydish): the service model on (an RTT with its terms, the kit's
caps), a start SGP4 can be trusted at, each gateway with its own PoP; and the rule that a dish's
nearest home PoP is one that traffic can reach."""

from __future__ import annotations

import numpy as np
import pytest

import leonet
from leonet.errors import InputError
from leonet.ground.builtin import builtin_sites, nearest_pop
from leonet.mydish import dish_scenario, ground_near
from leonet.sim.network_model import fed_pops


def test_a_start_far_from_the_element_set_is_refused(tmp_path):
    # SGP4 four years from the epoch put satellites a million km off, yet "CONNECTED"
    for start in ("2030-01-01T00:00:00Z", "2019-06-01T00:00:00Z"):
        with pytest.raises(InputError, match="days from the epoch of starlink-2023-12-27") as e:
            dish_scenario(50.45, 30.52, tmp_path, start=start)
        assert e.value.location == "--start"
    with pytest.raises(InputError, match="ISO 8601"):
        dish_scenario(50.45, 30.52, tmp_path, start="yesterday")
    data, chosen = dish_scenario(50.45, 30.52, tmp_path, start="2024-01-05T18:00:00Z")  # 9 days on: fine
    assert data["time"]["start"] == chosen["start"] == "2024-01-05T18:00:00Z"


def test_the_dish_runs_the_calibrated_model_of_its_day_with_its_kit(tmp_path):
    """The dish owner's run is the model leonet realism checks (scenario.calibration), at the run's
    date: other subscribers' load, the dated processing term, lasers by launch; the kit is the owner's."""
    from datetime import date

    from leonet.scenario.calibration import model_sections

    data, chosen = dish_scenario(-33.87, 151.21, tmp_path, kit="mini")
    want = model_sections(date(2023, 12, 27), 2026, real_sky=True, kit="mini")
    want["network"]["bent_pipe_only_gateways"] = []    # Lekki and Ikire are not within Sydney's reach
    assert {k: data[k] for k in ("network", "capacity", "service")} == want
    assert data["service"]["background"]["as_of"] == "2023-12-27" and data["service"]["latency"] == {"processing_ms": 8.2}
    assert "calibrated model of 2023-12-27 (background: 2.4 M subscribers worldwide" in chosen["model"]
    assert chosen["model"] in data["description"]
    sc = leonet.scenario_from_dict({**data, "time": {**data["time"], "duration_s": 3.0}})
    d = leonet.run(sc, out_dir=tmp_path / "out").store.read("dish_steps").to_pandas()
    assert (d["kit_down_bps"] == 150e6).all()       # the mini kit's cap (leonet/data/terminal_kits.csv)
    online = d["state"] == "CONNECTED"
    assert online.any() and (d.loc[online, "speedtest_down_bps"] <= 150e6).all()
    # the RTT the dish measures: propagation (~8 ms here) plus MAC, processing and jitter
    assert (d.loc[online, "rtt_ms"] > 15).all()


def test_each_chosen_gateway_keeps_its_own_pop():
    """At 85 N the PoPs within reach were Warsaw and London only, so Nome, AK reached Warsaw by fibre."""
    entries, chosen = ground_near(85.0, 0.0, 2026)
    names = [e["name"] for e in entries if e["kind"] == "pop"]
    gws = builtin_sites("starlink-gateways-2026")
    pops = builtin_sites("starlink-pops-2026")
    chosen_gw = [e["name"] for e in entries if e["kind"] == "gateway"]
    take = np.flatnonzero(np.isin(gws.name, chosen_gw))
    own = set(pops.name[nearest_pop(gws.take(take), pops)].tolist())
    assert "Nome, AK" in chosen_gw and "sttlwax1" in own
    assert own <= set(names) and len(names) == len(set(names)) == chosen["pops"]


def test_fed_pops_follow_gateways_and_the_backbone():
    gateway_pop = np.array([0, 0, 3, -1])
    backbone = np.array([[3, 4], [1, 2]])
    assert fed_pops(gateway_pop, backbone, 6).tolist() == [True, False, False, True, True, False]
    assert fed_pops(np.array([], dtype=np.int64), np.zeros((0, 2), dtype=np.int64), 3).tolist() == [False] * 3


def test_the_nearest_home_pop_is_one_traffic_reaches():
    sc = leonet.scenario_from_dict({
        "name": "fed", "constellation": {"shells": [{"altitude_km": 550, "inclination_deg": 53, "planes": 6,
                                                     "sats_per_plane": 6}]},
        "ground": {"sites": [{"name": "d", "lat_deg": 50.0, "lon_deg": 10.0},
                             {"name": "near-but-unfed", "kind": "pop", "lat_deg": 50.0, "lon_deg": 11.0},
                             {"name": "fed", "kind": "pop", "lat_deg": 45.0, "lon_deg": 0.0},
                             {"name": "gw", "kind": "gateway", "lat_deg": 45.0, "lon_deg": 1.0}]},
        "network": {"backbone": "none"},
        "time": {"start": "2024-01-15T12:00:00Z", "duration_s": 10, "step_s": 5}})
    m = leonet.build_model(sc)
    home = m.network.dish_home_pop[0]
    assert m.sites.name[m.network.pop_sites[home]] == "fed"


def test_a_dish_far_from_any_gateway_keeps_more_of_them():
    # Mid-Pacific: no gateway within reach, so its lasers' landings around the ocean are kept.
    from leonet.mydish import GATEWAY_REACH_KM, MIN_GATEWAYS, MIN_GATEWAYS_FAR, ground_near

    entries, chosen = ground_near(-10.0, -140.0, 2026)
    assert chosen["nearest_gateway_km"] > GATEWAY_REACH_KM
    assert chosen["gateways"] == MIN_GATEWAYS_FAR > MIN_GATEWAYS
    assert sum(e["kind"] == "gateway" for e in entries) == MIN_GATEWAYS_FAR
    _, near = ground_near(50.45, 30.52, 2026)   # Kyiv: the gateways within reach
    assert near["nearest_gateway_km"] < GATEWAY_REACH_KM and near["gateways"] >= MIN_GATEWAYS


def test_a_polar_dish_keeps_every_gateway():
    # Svalbard and McMurdo see mostly the polar shell, whose planes land wherever they pass over a
    # gateway, on any continent.
    from leonet.ground.builtin import builtin_sites
    from leonet.mydish import POLAR_LATITUDE_DEG, ground_near

    every = len(builtin_sites("starlink-gateways-2026").name)
    for lat, lon in ((78.22, 15.65), (-77.85, 166.67)):
        assert abs(lat) >= POLAR_LATITUDE_DEG and ground_near(lat, lon, 2026)[1]["gateways"] == every


def test_the_dish_background_can_be_left_out_and_is_dated(tmp_path):
    data, chosen = dish_scenario(50.45, 30.52, tmp_path, background=False)
    assert data["service"]["background"] == {"enabled": False} and "no other subscribers" in chosen["model"]
    # a synthetic constellation from now: past Starlink's last announced total, that total, said
    data, chosen = dish_scenario(50.45, 30.52, tmp_path, constellation="starlink-gen1", start="2026-12-01T00:00:00Z")
    from leonet.service.background import SUBSCRIBER_ANNOUNCEMENTS

    last_day, last_total = SUBSCRIBER_ANNOUNCEMENTS[-1]
    assert data["service"]["background"]["subscribers"] == last_total
    assert data["service"]["background"]["as_of"] == last_day and f"last announced total ({last_day})" in chosen["model"]
    assert "isl" not in data["network"] and "satellite" not in data["capacity"]    # no catalog numbers to go by
    assert data["service"]["latency"] == {"processing_ms": 4.0}                    # SpaceX's 2025 figure
    with pytest.raises(InputError, match="before Starlink's first announced subscriber total") as e:
        dish_scenario(50.45, 30.52, tmp_path, constellation="starlink-gen1", start="2019-01-01T00:00:00Z")
    assert e.value.location == "--start"
    dish_scenario(50.45, 30.52, tmp_path, constellation="starlink-gen1", start="2019-01-01T00:00:00Z", background=False)


def test_the_2023_ground_is_the_calibrated_one():
    """--ground 2023 takes the gateways the realism check does: those that carried traffic (the map's
    green ones too: Fort Lauderdale, 312 km from Nassau, whose status reads 'Grant of Authority'),
    with their Ka antenna counts."""
    entries, chosen = ground_near(25.05, -77.35, 2023)
    gws = {e["name"]: e for e in entries if e["kind"] == "gateway"}
    assert chosen["nearest_gateway"] == "Fort Lauderdale, FL" and gws["Fort Lauderdale, FL"]["antennas"] == 8
    mega = [e for e in gws.values() if "Mega" in e["name"]]
    assert mega and all(e.get("antennas", 0) >= 8 for e in mega)
    assert "Fort Lauderdale, FL" not in builtin_sites("starlink-gateways-2023").name   # built only: not there
