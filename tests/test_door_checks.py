"""Scenarios and events that could not do what they say are refused at the door (or warned about):
overrides that choose a constellation preset, ends on permanent losses, fractions that select
nothing, capacity-only events without capacity, events outside the calendar, shells through the
Earth, walker_f without Walker phasing, polygons across the antimeridian, satellites SGP4 cannot
propagate."""

from __future__ import annotations

import dataclasses
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

import leonet
from leonet.errors import InputError
from leonet.scenario import RegionSpec, load_scenario, scenario_from_dict
from leonet.sim.model import build_model, model_with_events

BASE = """
name: t
constellation:
  shells: [{name: sh, altitude_km: 550, inclination_deg: 53, planes: 24, sats_per_plane: 12}]
ground:
  dish_groups: [{name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 3, radius_km: 10, seed: 1}]
  builtin: [{name: starlink-gateways-2023, regions: [Europe]}, {name: starlink-pops-2023, regions: [Europe]}]
time: {start: 2022-03-01T12:00:00Z, duration_s: 60, step_s: 5}
"""

JAMMER = {"lat_deg": 50.4, "lon_deg": 30.5, "eirp_dbw": 30}


def base(**changes) -> dict:
    data = yaml.safe_load(textwrap.dedent(BASE))
    data.update(changes)
    return data


def write(tmp_path, data: dict):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def error(fn, *args, **kw) -> str:
    with pytest.raises(InputError) as info:
        fn(*args, **kw)
    return str(info.value)


# ------------------------------------------------------------------ 1: overrides before presets


def test_set_constellation_preset_chooses_the_preset_that_is_expanded():
    data = base(constellation="starlink-shell1")
    sc = scenario_from_dict(data, overrides={"constellation.preset": "kuiper"})
    assert sc.constellation.preset == "kuiper"
    assert [s.name for s in sc.constellation.shells] == ["kuiper-630", "kuiper-610", "kuiper-590"]
    # the short form, as `constellation: kuiper` is written in a file
    sc = scenario_from_dict(data, overrides={"constellation": "kuiper"})
    assert sc.constellation.preset == "kuiper" and len(sc.constellation.shells) == 3
    # and the dict form of a scenario that names a preset beside its own fields
    sc = scenario_from_dict(base(constellation={"preset": "starlink-shell1", "description": "mine"}),
                            overrides={"constellation.preset": "kuiper"})
    assert len(sc.constellation.shells) == 3 and sc.constellation.description == "mine"


def test_set_reaches_into_a_presets_shells():
    sc = scenario_from_dict(base(constellation="starlink-shell1"), overrides={"constellation.shells[0].planes": 6})
    assert sc.constellation.preset == "starlink-shell1" and sc.constellation.shells[0].planes == 6
    assert sc.constellation.shells[0].sats_per_plane == 22  # the rest of the preset's shell


def test_set_constellation_preset_in_a_written_results_scenario(tmp_path):
    """The scenario.yaml a run writes (preset expanded, preset named) read back with another preset."""
    sc = scenario_from_dict(base(constellation="starlink-shell1"))
    again = scenario_from_dict(yaml.safe_load(sc.to_yaml()), overrides={"constellation": "kuiper"})
    assert again.constellation.preset == "kuiper" and len(again.constellation.shells) == 3


# ------------------------------------------------------------------ 2: permanent losses take no end


@pytest.mark.parametrize("event, field", [
    ({"name": "storm", "type": "satellite_loss", "start_s": 0, "end_s": 30, "target": {"fraction": 0.5}}, "end_s"),
    ({"name": "storm", "type": "asat", "start_s": 0, "end": "2022-03-01T12:00:30Z",
      "target": {"region": {"circle": {"lat_deg": 50, "lon_deg": 30, "radius_km": 1000}}}}, "end"),
])
def test_satellite_losses_refuse_an_end(tmp_path, event, field):
    msg = error(load_scenario, write(tmp_path, base(events=[event])))
    assert f"events[0] (storm).{field} (line " in msg and "do not come back" in msg, msg
    # without the end it loads
    load_scenario(write(tmp_path, base(events=[{k: v for k, v in event.items() if k != field}])))


# ------------------------------------------------------------------ 3: fractions that select nothing


def test_fraction_that_rounds_to_no_site_is_an_error():
    sc = scenario_from_dict(base(), overrides={
        "ground.dish_groups[0].count": 1, "ground.dish_groups[0].dishes_per_site": 140,
        "events": [{"name": "brick", "type": "dish_bricking", "start_s": 0,
                    "target": {"groups": ["Kyiv"], "fraction": 0.5}}]})
    msg = error(build_model, sc)
    assert "events[0] (brick).target.fraction" in msg and "rounds to none" in msg and "halves to even" in msg, msg
    # 0.5 of 3 sites: 2 (round half to even), as documented
    sc = scenario_from_dict(base(events=[{"name": "brick", "type": "dish_bricking", "start_s": 0,
                                          "target": {"groups": ["Kyiv"], "fraction": 0.5}}]))
    assert len(build_model(sc).timeline.events[0].sites) == 2


def test_fraction_that_rounds_to_no_satellite_is_an_error():
    sc = scenario_from_dict(base(events=[{"name": "storm", "type": "satellite_loss", "start_s": 0,
                                          "target": {"fraction": 0.001}}]))
    msg = error(build_model, sc)
    assert "events[0] (storm).target.fraction" in msg and "288 satellite(s)" in msg, msg


# ------------------------------------------------------------------ 4: capacity-only events


@pytest.mark.parametrize("event", [
    {"name": "jam", "type": "jamming", "start_s": 0, "jammer": JAMMER},
    {"name": "jam", "type": "jamming", "start_s": 0, "jammer": JAMMER, "countermeasure": {"after_s": 10}},
    {"name": "jam", "type": "demand_surge", "start_s": 0, "surge_factor": 3},
])
def test_capacity_only_events_need_capacity(tmp_path, event):
    msg = error(load_scenario, write(tmp_path, base(events=[event])))
    assert "events[0] (jam).type (line " in msg and "capacity.enabled: true" in msg, msg
    sc = load_scenario(write(tmp_path, base(events=[event], capacity={"enabled": True})))
    assert sc.events[0].type == event["type"]


# ------------------------------------------------------------------ 5: events outside the calendar


def test_an_event_that_ends_before_the_calendar_is_an_error(tmp_path):
    event = {"name": "old", "type": "core_outage", "start": "2022-02-01T00:00:00Z", "end": "2022-03-01T12:00:00Z"}
    msg = error(load_scenario, write(tmp_path, base(events=[event])))
    assert "events[0] (old).end (line " in msg and "at or before the calendar's start" in msg, msg
    event["end"] = "2022-03-01T12:00:01Z"  # ends inside: fine
    load_scenario(write(tmp_path, base(events=[event])))


def test_an_event_that_starts_after_the_calendar_is_a_warning():
    late = [{"name": "late", "type": "core_outage", "start_s": 60},
            {"name": "later", "type": "core_outage", "start": "2022-03-02T00:00:00Z"}]
    early = [{"name": "now", "type": "core_outage", "start_s": 55}]
    model = build_model(scenario_from_dict(base(events=early + late)))
    said = [w for w in model.network.warnings if "after the calendar's end" in w]
    assert len(said) == 1 and "late, later" in said[0] and "now" not in said[0], model.network.warnings
    # variants built from a base share its network model but not its event warnings
    plain = build_model(scenario_from_dict(base(events=early)))
    assert not any("after the calendar's end" in w for w in plain.network.warnings)
    variant = model_with_events(plain, scenario_from_dict(base(events=early + late)))
    assert variant.network.warnings == model.network.warnings
    back = model_with_events(variant, scenario_from_dict(base(events=early)))
    assert back.network.warnings == plain.network.warnings


# ------------------------------------------------------------------ 6, 7: shells


@pytest.mark.parametrize("shell", [
    {"altitude_km": 160, "eccentricity": 0.09},
    {"altitude_km": 550, "mean_motion_rev_per_day": 16.9, "eccentricity": 0.05},
])
def test_a_shell_through_the_earth_is_an_error(tmp_path, shell):
    data = base(constellation={"shells": [{"name": "low", "inclination_deg": 53, "planes": 4, "sats_per_plane": 4, **shell}]})
    msg = error(load_scenario, write(tmp_path, data))
    assert "constellation.shells[0].eccentricity (line " in msg and "runs through the Earth" in msg, msg


def test_walker_f_needs_walker_phasing(tmp_path):
    shell = {"name": "w", "altitude_km": 550, "inclination_deg": 53, "planes": 6, "sats_per_plane": 4, "walker_f": 2}
    msg = error(load_scenario, write(tmp_path, base(constellation={"shells": [shell]})))
    assert "constellation.shells[0].walker_f (line " in msg and "phasing: walker" in msg, msg
    assert load_scenario(write(tmp_path, base(constellation={"shells": [{**shell, "phasing": "walker"}]})))
    # walker_f: 0 (the default, which the resolved scenario.yaml writes) stays valid with half-slot
    sc = load_scenario(write(tmp_path, base(constellation={"shells": [{**shell, "walker_f": 0}]})))
    assert scenario_from_dict(yaml.safe_load(sc.to_yaml())).constellation.shells[0].walker_f == 0
    msg = error(load_scenario, write(tmp_path, base(constellation={"shells": [{**shell, "phasing": "walker", "walker_f": 6}]})))
    assert "constellation.shells[0].walker_f" in msg and "0..5" in msg, msg


# ------------------------------------------------------------------ 8: polygons across the antimeridian


def test_a_polygon_across_the_antimeridian_is_an_error(tmp_path):
    region = {"polygon": [[40, 170], [40, -170], [60, -170], [60, 170]]}
    with pytest.raises(ValueError, match="antimeridian"):
        RegionSpec(**region)
    event = {"name": "pacific", "type": "terrestrial_outage", "start_s": 0, "target": {"region": region}}
    msg = error(load_scenario, write(tmp_path, base(events=[event])))
    assert "events[0] (pacific).target.region" in msg and "antimeridian" in msg, msg
    # near the antimeridian without crossing it, and across the prime meridian: fine
    RegionSpec(polygon=[[40, 170], [40, 180], [60, 180], [60, 170]])
    RegionSpec(polygon=[[40, -10], [40, 10], [60, 10], [60, -10]])


# ------------------------------------------------------------------ 9: satellites SGP4 cannot propagate


def _decaying_tle(tmp_path):
    """Three Starlinks of the sample file, the first with an absurd B* (it decays within a day)."""
    from leonet.space.tle import parse_tle, write_tle

    el = parse_tle((Path(__file__).parent / "data" / "sample.tle").read_text())
    el = el.take(np.flatnonzero(np.isin(el.name, ["STARLINK-1007", "STARLINK-1008", "STARLINK-1130"])))
    bstar = np.array(el.bstar_per_earth_radius, dtype=np.float64)
    bstar[0] = 5.0
    (tmp_path / "sats.tle").write_text(write_tle(dataclasses.replace(el, bstar_per_earth_radius=bstar)))
    return str(el.name[0])


def _sgp4_scenario(tmp_path, network: bool):
    return scenario_from_dict({
        "name": "decay", "constellation": {"orbit_files": [{"path": "sats.tle", "plane_assignment": "planes.csv"}]},
        "ground": {"sites": [{"name": "d", "lat_deg": 50, "lon_deg": 30},
                             {"name": "g", "lat_deg": 50, "lon_deg": 31, "kind": "gateway"},
                             {"name": "p", "lat_deg": 50, "lon_deg": 32, "kind": "pop"}]},
        "time": {"start": "2024-01-15T06:00:00Z", "duration_s": 2 * 86400, "step_s": 21600},
        "network": {"enabled": network},
    }, base_dir=tmp_path)


def test_satellites_sgp4_cannot_propagate_are_a_run_warning(tmp_path):
    name = _decaying_tle(tmp_path)
    from leonet.space.tle import read_tle

    el = read_tle(tmp_path / "sats.tle")
    (tmp_path / "planes.csv").write_text("catalog_id,plane,slot\n" + "".join(f"{c},0,{k}\n" for k, c in enumerate(el.catalog_id)))
    model = build_model(_sgp4_scenario(tmp_path, network=True))
    said = [w for w in model.network.warnings if "cannot be propagated by SGP4" in w]
    assert len(said) == 1 and said[0].startswith("1 satellite(s)") and name in said[0], model.network.warnings
    with pytest.warns(UserWarning, match="cannot be propagated by SGP4"):
        build_model(_sgp4_scenario(tmp_path, network=False))


def test_a_flying_constellation_has_no_sgp4_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = leonet.build_model(scenario_from_dict(base()))
    assert not any("SGP4" in w for w in model.network.warnings)


# ------------------------------------------------------------------ session 9: minor door checks


def test_a_set_error_names_the_override_not_the_files_line():
    # The file's line would point at the value the override replaced.
    msg = error(load_scenario, "ukraine-2022", overrides={"network.slots.policy": "bogus"})
    assert "network.slots.policy (from --set)" in msg and "line" not in msg.split("(from --set)")[0]
    msg = error(load_scenario, "ukraine-2022", overrides={"service.background": {"beam_hopping": "xx"}})
    assert "service.background.beam_hopping (from --set)" in msg


def test_a_take_up_that_gives_no_dish_is_an_error():
    data = base(ground={"population_dishes": [{"countries": ["UA"], "take_up": 1e-7}]})
    sc = scenario_from_dict(data)
    msg = error(build_model, sc)
    assert "population_dishes[0].take_up" in msg and "gives no dish" in msg and "Kyiv" in msg


@pytest.mark.parametrize("text, where", [
    ("azimuth_deg,elevation_deg\n0,10\n90,95\n", "line 3: elevation_deg"),
    ("azimuth_deg,elevation_deg\n0,10\n\n360,5\n", "line 4: azimuth_deg"),
    ("azimuth_deg,elevation_deg\n0,10\n\n0,20\n", "line 4: azimuth 0 deg is given again (first on line 2)"),
])
def test_horizon_csv_errors_name_the_line(tmp_path, text, where):
    from leonet.ground.obstructions import read_horizon_csv

    path = tmp_path / "h.csv"
    path.write_text(text)
    assert where in error(read_horizon_csv, path)


@pytest.mark.parametrize("column, meant", [("Elevation_m", "elevation_m"), ("groups", "group"),
                                           ("antenna", "antennas"), ("dish", "dishes"), ("homepop", "home_pop")])
def test_a_misspelt_site_column_is_an_error(tmp_path, column, meant):
    from leonet.ground import read_sites_csv

    path = tmp_path / "s.csv"
    path.write_text(f"name,lat_deg,lon_deg,kind,{column}\na,1,2,dish,3\n")
    msg = error(read_sites_csv, path)
    assert f"'{column}' reads like '{meant}'" in msg and "line 1" in msg


def test_note_columns_far_from_leonet_names_are_kept(tmp_path):
    from leonet.ground import read_sites_csv

    path = tmp_path / "s.csv"
    path.write_text("name,lat_deg,lon_deg,kind,code,country,notes\na,1,2,dish,KBP,UA,x\n")
    assert list(read_sites_csv(path).attrs) == ["code", "country", "notes"]


# ------------------------------------------------------------------ event targets, rates, polygons (input hunt)


@pytest.mark.parametrize("typ, extra, target, field", [
    # a satellite_failures event draws over whole shells: a region, sites or fraction would be ignored
    ("satellite_failures", {"rate_per_day": 1},
     {"region": {"circle": {"lat_deg": -80, "lon_deg": 0, "radius_km": 1}}, "sites": ["A"], "fraction": 0.01},
     "region"),
    ("satellite_failures", {"rate_per_day": 1}, {"fraction": 0.5}, "fraction"),
    ("core_outage", {}, {"sites": ["FRA"]}, "sites"),
    ("jamming", {"jammer": JAMMER}, {"sites": ["Kyiv0"]}, "sites"),
    ("gateway_loss", {}, {"sites": ["GW"], "shells": ["sh"]}, "shells"),
    ("gateway_loss", {}, {"sites": ["GW"], "planes": [1]}, "planes"),
    ("isp_outage", {"providers": ["Triolan"]}, {"fraction": 0.5}, "fraction"),
])
def test_a_target_field_the_event_does_not_use_is_an_error(tmp_path, typ, extra, target, field):
    event = {"name": "ev", "type": typ, "start_s": 0, **extra, "target": target}
    msg = error(load_scenario, write(tmp_path, base(events=[event])))
    assert f"events[0] (ev).target.{field} (line " in msg and f"does not use target.{field}" in msg, msg


def test_target_fields_the_event_uses_still_pass():
    from leonet.scenario.events import TARGET_FIELDS, EVENT_TYPES

    assert set(TARGET_FIELDS) == set(EVENT_TYPES)
    events = [{"name": "a", "type": "satellite_failures", "start_s": 0, "rate_per_day": 1,
               "target": {"shells": ["sh"], "planes": [1], "seed": 3}},
              {"name": "b", "type": "satellite_loss", "start_s": 0,
               "target": {"shells": ["sh"], "fraction": 0.5, "seed": 1}},
              {"name": "c", "type": "gateway_loss", "start_s": 0, "target": {"groups": ["x"], "fraction": 0.5}},
              {"name": "d", "type": "core_outage", "start_s": 0, "target": {"fraction": 1.0}}]  # the default
    scenario_from_dict(base(events=events))


@pytest.mark.parametrize("rate", [".inf", "1e300", "1001"])
def test_a_failure_rate_is_bounded(tmp_path, rate):
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(BASE) + "events:\n  - {name: wear, type: satellite_failures, start_s: 0, "
                    f"rate_per_day: {rate}}}\n")
    msg = error(load_scenario, path)
    assert "events[0] (wear).rate_per_day (line 10)" in msg and "1000" in msg, msg


@pytest.mark.parametrize("date", ["0001-01-01T00:00:00Z", "9999-01-01T00:00:00Z"])
def test_delivery_dates_are_bounded_like_event_times(tmp_path, date):
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(BASE) + "events:\n  - name: arrive\n    type: deliveries\n    start_s: 0\n"
                    f"    schedule:\n      - [2022-03-01T00:00:00Z, 0.5]\n      - [{date}, 1]\n")
    msg = error(load_scenario, path)
    assert "events[0] (arrive).schedule" in msg and "1957 to 2199" in msg, msg


def test_a_polygon_of_too_many_vertices_is_refused_and_the_largest_is_checked_fast():
    import time

    angles = np.linspace(0, 2 * np.pi, 2_001, endpoint=False)
    ring = [[10 * float(np.sin(a)), 10 * float(np.cos(a))] for a in angles]
    with pytest.raises(ValueError, match="at most 2,000 vertices, got 2,001"):
        RegionSpec(polygon=ring)
    t = time.perf_counter()
    RegionSpec(polygon=ring[:2_000])     # the worst case: every pair of edges compared, none crosses
    assert time.perf_counter() - t < 2.0
    with pytest.raises(ValueError, match=r"crosses itself \(edge 0 and edge 2\)"):
        RegionSpec(polygon=[[0, 0], [1, 1], [0, 1], [1, 0]])
    notch = ring[:1000] + [[0, 0]] + ring[1001:2_000]   # a vertex at the centre: still simple
    RegionSpec(polygon=notch)
    crossing = ring[:1000] + [[0, 20]] + ring[1001:2_000]  # reaches across the ring: crosses
    with pytest.raises(ValueError, match="crosses itself"):
        RegionSpec(polygon=crossing)
