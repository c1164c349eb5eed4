"""`leonet dish`'s scenario (leonet.mydish): the service model on (an RTT with its terms, the kit's
caps), a start SGP4 can be trusted at, each gateway with its own PoP; and the rule that a dish's
nearest home PoP is one that traffic can reach."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import leonet
from leonet.errors import InputError
from leonet.ground.builtin import builtin_sites, nearest_pop
from leonet.mydish import dish_scenario, ground_near
from leonet.sim.network_model import fed_pops

#: The sky of Starlink's published figures (Jan 2024); the default is the newest shipped set.
SKY_2023 = "starlink-2023-12-27"


def test_a_start_far_from_the_element_set_is_refused(tmp_path):
    # SGP4 four years from the epoch put satellites a million km off, yet "CONNECTED"
    for start in ("2030-01-01T00:00:00Z", "2019-06-01T00:00:00Z"):
        with pytest.raises(InputError, match="days from the epoch of starlink-2023-12-27") as e:
            dish_scenario(50.45, 30.52, tmp_path, start=start, constellation=SKY_2023)
        assert e.value.location == "--start"
    with pytest.raises(InputError, match="ISO 8601"):
        dish_scenario(50.45, 30.52, tmp_path, start="yesterday")
    data, chosen = dish_scenario(50.45, 30.52, tmp_path, start="2024-01-05T18:00:00Z", constellation=SKY_2023)  # 9 days on
    # the default sky is the newest shipped set, with its own trusted span
    with pytest.raises(InputError, match="days from the epoch of starlink-2026-08-22"):
        dish_scenario(50.45, 30.52, tmp_path, start="2024-01-05T18:00:00Z")
    assert data["time"]["start"] == chosen["start"] == "2024-01-05T18:00:00Z"


def test_the_dish_runs_the_calibrated_model_of_its_day_with_its_kit(tmp_path):
    """The dish owner's run is the model leonet realism checks (scenario.calibration), at the run's
    date: other subscribers' load, the dated processing term, lasers by launch; the kit is the owner's."""
    from datetime import date

    from leonet.scenario.calibration import model_sections

    data, chosen = dish_scenario(-33.87, 151.21, tmp_path, kit="mini", constellation=SKY_2023)
    want = model_sections(date(2023, 12, 27), 2026, real_sky=True, kit="mini")
    want["network"]["bent_pipe_only_gateways"] = []    # Lekki and Ikire are not within Sydney's reach
    assert {k: data[k] for k in ("network", "capacity", "service")} == want
    # the values themselves (the realism check's, written out: a change to them is a change of the model)
    assert data["network"] == {"slots": {"policy": "max-rate"}, "home_pop": "geoip", "backbone": "community-2023-joined",
                               "landing": "anywhere",   # the 2026 segment (calibration.GROUND_SEGMENTS)
                               "bent_pipe_only_gateways": [], "isl": {"min_catalog_number": 48879}}
    assert data["capacity"] == {"enabled": True, "satellite": {"generation": "v1.5", "v2_mini_from_catalog": 55695}}
    assert data["service"] == {"enabled": True, "kit": "mini",
                               "background": {"enabled": True, "as_of": "2023-12-27", "spread": "geoip-subnets",
                                              "beam_hopping": "equal"},
                               "admission": {"enabled": True, "dishes": False}, "latency": {"processing_ms": 6.4}}
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


def test_the_dish_background_can_be_left_out_and_needs_the_real_sky(tmp_path):
    data, chosen = dish_scenario(50.45, 30.52, tmp_path, background=False)
    assert data["service"]["background"] == {"enabled": False} and "no other subscribers (--no-background)" in chosen["model"]
    # a synthetic constellation (the FCC shells, from now): Starlink's subscribers are calibrated on
    # its real satellites (V2 Minis by catalog number), not on 4,408 V1.5 ones: no background, said
    data, chosen = dish_scenario(50.45, 30.52, tmp_path, constellation="starlink-gen1", start="2026-12-01T00:00:00Z")
    assert data["service"]["background"] == {"enabled": False}
    assert chosen["model"].startswith("service model of 2026-12-01 (no other subscribers: the background load is "
                                      "calibrated on the shipped Starlink element set only; processing 4.0 ms)")
    assert "isl" not in data["network"] and "satellite" not in data["capacity"]    # no catalog numbers to go by
    dish_scenario(50.45, 30.52, tmp_path, constellation="starlink-gen1", start="2019-01-01T00:00:00Z")   # no load: fine


def test_the_model_date_is_the_utc_date_of_the_start(tmp_path):
    """02:00 at +05:00 on 18 Jan 2025 is 21:00 UTC on the 17th: the Lagos PoP's gateways still landed
    only bent-pipe traffic that day (until 2025-01-18), so a Nairobi dish's run keeps the rule."""
    for start in ("2025-01-18T02:00:00+05:00", "2025-01-17T21:00:00Z"):
        data, chosen = dish_scenario(-1.29, 36.82, tmp_path, constellation="starlink-gen1", start=start, ground_year=2023)
        assert data["network"]["bent_pipe_only_gateways"] == ["Lekki, NG", "Ikire, NG"], start
        assert "of 2025-01-17" in chosen["model"]
    data, _ = dish_scenario(-1.29, 36.82, tmp_path, constellation="starlink-gen1", start="2025-01-18T00:00:00Z")
    assert data["network"]["bent_pipe_only_gateways"] == []          # Nairobi's PoP is live


def test_the_lagos_rule_names_the_gateways_of_the_dish_set(tmp_path):
    """In Jan 2024 (the shipped sky) a Nairobi dish, homed on Lagos by the GeoIP feed, runs with the
    Nigerian gateways bent-pipe only, under the name of its ground set; a Sydney dish, whose set
    lacks them, runs without the rule (the loader refuses names a run lacks)."""
    data, _ = dish_scenario(-1.29, 36.82, tmp_path, ground_year=2023, constellation=SKY_2023)
    assert data["network"]["bent_pipe_only_gateways"] == ["Lekki, NG", "Ikire, NG"]
    assert {"Lekki, NG", "Ikire, NG"} <= {s["name"] for s in data["ground"]["sites"]}
    data, _ = dish_scenario(-1.29, 36.82, tmp_path, ground_year=2026, constellation=SKY_2023)
    assert data["network"]["bent_pipe_only_gateways"] == ["Lekki, Nigeria", "Ikire, Nigeria"]
    data, _ = dish_scenario(-1.29, 36.82, tmp_path, ground_year=2026)   # Aug 2026: the rule ended in Jan 2025
    assert data["network"]["bent_pipe_only_gateways"] == []
    data, _ = dish_scenario(-33.87, 151.21, tmp_path, ground_year=2026, constellation=SKY_2023)
    assert data["network"]["bent_pipe_only_gateways"] == []


def test_the_background_after_the_last_announcement_holds_it_and_before_the_first_is_refused():
    from datetime import date, timedelta

    from leonet.scenario.calibration import background_at
    from leonet.service.background import SUBSCRIBER_ANNOUNCEMENTS

    last_day, last_total = SUBSCRIBER_ANNOUNCEMENTS[-1]
    last = date.fromisoformat(last_day)
    bg, text = background_at(last)
    assert bg["as_of"] == last_day and "subscribers" not in bg and text == f"{last_total / 1e6:,.1f} M subscribers worldwide"
    bg, text = background_at(last + timedelta(days=1))
    assert (bg["as_of"], bg["subscribers"]) == (last_day, last_total)
    assert text == f"{last_total / 1e6:,.1f} M subscribers, Starlink's last announced total ({last_day})"
    first = date.fromisoformat(SUBSCRIBER_ANNOUNCEMENTS[0][0])
    background_at(first)
    with pytest.raises(InputError, match="before Starlink's first announced subscriber total") as e:
        background_at(first - timedelta(days=1), where="--start")
    assert e.value.location == "--start"


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


def test_the_constellation_is_a_starlink_one(tmp_path):
    """The dish's ground segment, home PoPs and model are Starlink's: Kuiper is refused, and an
    unknown name lists the shipped element set too."""
    with pytest.raises(InputError, match="'kuiper' is not a Starlink constellation") as e:
        dish_scenario(50.45, 30.52, tmp_path, constellation="kuiper")
    assert e.value.location == "--constellation"
    with pytest.raises(InputError, match=r"unknown constellation 'starlink-2023'.*available: starlink-2023-12-27, "
                                         r"starlink-2026-08-22, starlink-gen1"):
        dish_scenario(50.45, 30.52, tmp_path, constellation="starlink-2023")


def test_a_start_is_written_in_utc_and_the_orbits_path_is_absolute(tmp_path, monkeypatch):
    """A start without a zone (or a date alone) is UTC, written with its Z (the scenario loader
    refuses a zoneless one); the element set's path is absolute, so a relative results folder's
    saved scenario.yaml re-runs (its paths are read from the YAML's own folder)."""
    monkeypatch.chdir(tmp_path)
    data, chosen = dish_scenario(50.45, 30.52, Path("rel/out"), start="2023-12-28", constellation=SKY_2023)
    assert data["time"]["start"] == chosen["start"] == "2023-12-28T00:00:00Z"
    data, _ = dish_scenario(50.45, 30.52, Path("rel/out"), start="2023-12-28T03:00:00+02:00", constellation=SKY_2023)
    assert data["time"]["start"] == "2023-12-28T01:00:00Z"
    orbit = Path(data["constellation"]["orbit_files"][0]["path"])
    assert orbit.is_absolute() and orbit.is_file() and orbit.parent == (tmp_path / "rel/out/.orbits")
    leonet.scenario_from_dict(data, source="t")   # loads as leonet dish hands it over


def test_a_dish_in_a_country_starlink_did_not_serve_says_so():
    _, chosen = ground_near(39.9, 116.4, 2026)       # Beijing: homed as Ulaanbaatar is, 1,170 km away
    assert "the feed lists no place in CN, the dish's country: Starlink sold no service there" in chosen["home_pop_reason"]
    _, chosen = ground_near(50.45, 30.52, 2026)
    assert "sold no service" not in chosen["home_pop_reason"]


def test_the_home_pop_reason_says_which_pops_are_missing_and_which_unfed():
    _, chosen = ground_near(64.18, -51.72, 2026)     # Nuuk: Iqaluit's PoPs are not in the 2026 list
    assert "on iqltcan1 and pthpakx, but the 2026 ground set lacks iqltcan1 and pthpakx" in chosen["home_pop_reason"]


def test_the_dish_line_splits_the_gateways_when_none_has_most_of_the_time():
    import io

    from rich.console import Console

    from leonet.cli_summary import print_dish_line

    row = {"availability": 1.0, "steps": 1, "rtt_p50_ms": 40.0, "rtt_p5_ms": 39.0, "rtt_p95_ms": 41.0,
           "top_gateway": "Kaunas", "top_pop": "FRA", "speedtest_p50_mbps": 150.0}
    out = io.StringIO()
    print_dish_line(Console(file=out, width=400), "my-dish", row,
                    gateway_shares=[("Kaunas", 0.26), ("Usingen", 0.25), ("Aerzen", 0.25), ("Chalfont", 0.24)])
    assert "of 1 step;" in out.getvalue()
    assert "via Kaunas 26%, Usingen 25%, Aerzen 25% and others of the time connected to FRA" in out.getvalue()
    out = io.StringIO()
    print_dish_line(Console(file=out, width=400), "my-dish", row, gateway_shares=[("Kaunas", 0.6), ("Usingen", 0.4)])
    assert "mostly via Kaunas to FRA" in out.getvalue()


@pytest.mark.slow
def test_the_2026_element_set_is_shipped_and_a_dish_runs_on_its_day(tmp_path):
    """The newest shipped sky: every one of its 10,744 Starlink satellites is read, its newest
    elements are of 2026-08-22 (the run's day), and the dish runs the calibrated model of that day
    (processing 4 ms from June 2025, the last announced subscriber total held)."""
    from datetime import date, datetime, timezone

    from sgp4.api import Satrec

    from leonet.scenario.calibration import model_sections
    from leonet.space.element_sets import SHIPPED_SETS, extract_element_set
    from leonet.space.tle import read_tle

    tle = extract_element_set("starlink-2026-08-22", tmp_path / "orbits")
    lines = tle.read_text().splitlines()
    assert len(lines) == 3 * 10_744 and all(n.startswith("STARLINK") for n in lines[0::3])
    assert len(read_tle(tle)) == 10_744
    # an independent reader (sgp4) on every 500th entry: epochs within the set's documented span
    for k in range(0, len(lines), 3 * 500):
        sat = Satrec.twoline2rv(lines[k + 1], lines[k + 2])
        epoch = datetime.fromtimestamp(datetime(2000 + sat.epochyr, 1, 1, tzinfo=timezone.utc).timestamp()
                                       + (sat.epochdays - 1) * 86_400, timezone.utc).date()
        assert date(2026, 7, 30) <= epoch <= SHIPPED_SETS["starlink-2026-08-22"].epoch_day, lines[k]

    # it is the default sky, for the function and the command alike
    import inspect

    from leonet.cli import dish_cmd
    from leonet.mydish import DEFAULT_CONSTELLATION

    assert DEFAULT_CONSTELLATION == "starlink-2026-08-22"
    assert inspect.signature(dish_cmd).parameters["constellation"].default.default == DEFAULT_CONSTELLATION
    data, chosen = dish_scenario(50.45, 30.52, tmp_path / "out", duration_s=30)
    assert data["time"]["start"] == "2026-08-22T12:00:12Z"
    want = model_sections(date(2026, 8, 22), 2026, real_sky=True, kit="standard")
    assert data["service"]["latency"]["processing_ms"] == want["service"]["latency"]["processing_ms"] == 4.0
    assert data["service"]["background"] == want["service"]["background"]
    result = leonet.run(leonet.scenario_from_dict(data), out_dir=tmp_path / "out", overwrite=True)
    steps = result.store.read("dish_steps").to_pandas()
    assert len(steps) == 30 and (steps["state"] == "CONNECTED").mean() > 0.9
    assert 20 < steps["rtt_ms"].median() < 80
