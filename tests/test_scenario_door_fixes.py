"""Scenario checks at the door: a calendar of no step, keys given twice in the YAML, true/false
where a number is wanted, site names that two sources both make, dish groups at a pole, windows
cut short by the calendar's end or no finer than it, windows before a --start."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import yaml

import leonet
from leonet.errors import InputError
from leonet.ground.geodesy import great_circle_distance_m
from leonet.scenario import load_scenario, scenario_from_dict
from leonet.sim.ground_build import build_sites
from leonet.sim.model import build_constellation
from leonet.sim.run_warnings import scenario_warnings

BASE = """\
name: base
constellation:
  shells: [{name: sh, altitude_km: 550, inclination_deg: 53, planes: 12, sats_per_plane: 10}]
ground:
  sites:
    - {name: GW-Berlin, lat_deg: 52.52, lon_deg: 13.40, kind: gateway}
    - {name: FRA, lat_deg: 50.11, lon_deg: 8.68, kind: pop}
  dish_groups: [{name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 3, radius_km: 10, seed: 1}]
time: {start: 2022-03-01T12:00:00Z, duration_s: 120, step_s: 10}
outputs: {chunk_steps: 4}
"""


def base(**changes) -> dict:
    data = yaml.safe_load(BASE)
    data.update(changes)
    return data


def error(fn, *args, **kw) -> str:
    with pytest.raises(InputError) as info:
        fn(*args, **kw)
    return str(info.value)


def write(tmp_path, text: str, name: str = "s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# ------------------------------------------------------------------ 1: a calendar of no step


@pytest.mark.parametrize("how", ["override", "file"])
def test_a_duration_that_rounds_to_no_step_is_an_error(tmp_path, how):
    if how == "override":
        msg = error(load_scenario, write(tmp_path, BASE), overrides={"time.duration_s": 1e-10})
    else:
        msg = error(load_scenario, write(tmp_path, BASE.replace("duration_s: 120", "duration_s: 0.0000000004")))
    assert "time.duration_s" in msg and "no step" in msg


def test_a_nanosecond_calendar_still_holds_one_step():
    assert scenario_from_dict(base(), overrides={"time.duration_s": 1e-9}).time.n_steps == 1


# ------------------------------------------------------------------ 2: keys given twice


def test_a_key_given_twice_is_an_error_naming_both_lines(tmp_path):
    text = BASE.replace("time: {start: 2022-03-01T12:00:00Z, duration_s: 120, step_s: 10}",
                        "time:\n  start: 2022-03-01T12:00:00Z\n  duration_s: 120\n  step_s: 10\n  step_s: 30")
    msg = error(load_scenario, write(tmp_path, text))
    assert "time.step_s (line 13)" in msg and "lines 12 and 13" in msg
    msg = error(load_scenario, write(tmp_path, BASE + "name: other\n"))
    assert "name (line 11)" in msg and "lines 1 and 11" in msg
    msg = error(load_scenario, write(tmp_path, BASE.replace("step_s: 10}", "step_s: 10, step_s: 20}")))
    assert "time.step_s" in msg and "twice" in msg


def test_yaml_merge_keys_are_not_repeats(tmp_path):
    text = BASE.replace("outputs: {chunk_steps: 4}",
                        "outputs:\n  <<: {chunk_steps: 4}\n  <<: {positions: false}\n  chunk_steps: 2")
    assert load_scenario(write(tmp_path, text)).outputs.chunk_steps == 2


# ------------------------------------------------------------------ 3: true/false for a number


@pytest.mark.parametrize("old, new, field", [
    ("step_s: 10}", "step_s: true}", "time.step_s (line 9)"),
    ("planes: 12", "planes: true", "constellation.shells[0].planes (line 3)"),
    ("count: 3", "count: true", "ground.dish_groups[0].count (line 8)"),
])
def test_a_boolean_is_not_a_number(tmp_path, old, new, field):
    msg = error(load_scenario, write(tmp_path, BASE.replace(old, new)))
    assert field in msg and "wants a number" in msg


@pytest.mark.parametrize("dotted, value, field", [
    ("ground.dish_groups[0].count", True, "ground.dish_groups[0].count (from --set)"),
    ("ground.obstructions", [{"groups": ["Kyiv"], "profile": [[0, False]]}], "ground.obstructions[0].profile[0][1]"),
    ("service.traffic.shares", {"browsing": True}, "service.traffic.shares.browsing"),
])
def test_a_boolean_set_for_a_number_is_an_error(dotted, value, field):
    msg = error(scenario_from_dict, base(), overrides={dotted: value})
    assert field in msg and "wants a number" in msg


def test_a_yaml_boolean_where_text_belongs_says_to_quote_it(tmp_path):
    """PyYAML reads NO (Norway) as false: the error says so and how to write it."""
    text = BASE.replace("outputs: {chunk_steps: 4}", "outputs: {chunk_steps: 4}\nservice:\n  enabled: true\n"
                        "  background: {enabled: true, countries: [PL, NO]}")
    msg = error(load_scenario, write(tmp_path, text))
    assert "service.background.countries[1] (line 13)" in msg and "got false" in msg.lower()
    assert "quote the text ('NO'" in msg
    text = text.replace("NO]", "'NO']") + "capacity: {enabled: true}\nnetwork: {enabled: true}\n"
    assert scenario_from_dict(yaml.safe_load(text)).service.background.countries == ["PL", "NO"]


def test_numbers_and_strings_of_numbers_still_pass():
    """--set parses its value as YAML: "10" is an int, "1e2" a string; both are still numbers,
    and an int still fills a float field; booleans still fill boolean fields."""
    sc = scenario_from_dict(base(), overrides={"time.step_s": "10", "time.duration_s": "1e2",
                                               "ground.dish_groups[0].count": 4, "outputs.positions": True})
    assert sc.time.step_s == 10.0 and sc.time.duration_s == 100.0 and sc.ground.dish_groups[0].count == 4
    assert sc.outputs.positions is True


# ------------------------------------------------------------------ 4: site names two sources make


def test_dish_groups_that_make_the_same_name_are_named():
    groups = [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52, "count": 11},
              {"name": "Kyiv1", "lat_deg": 50.45, "lon_deg": 30.52, "count": 1}]
    sc = scenario_from_dict(base(ground={"dish_groups": groups}))
    msg = error(build_sites, sc)
    assert "ground.dish_groups[1] (Kyiv1)" in msg and "ground.dish_groups[0] (Kyiv)" in msg and "'Kyiv10'" in msg
    assert "rename one group" in msg


def test_a_demand_file_city_and_a_dish_group_of_its_name_are_named(tmp_path):
    (tmp_path / "d.csv").write_text("city,dishes\nKyiv,10\n")
    data = base()
    data["ground"]["demand_files"] = [{"path": "d.csv"}]
    msg = error(build_sites, scenario_from_dict(data, base_dir=tmp_path))
    assert "ground.demand_files[0]" in msg and "line 2: Kyiv" in msg and "ground.dish_groups[0] (Kyiv)" in msg


def test_two_cities_of_one_name_in_a_demand_file_name_both_lines(tmp_path):
    (tmp_path / "d.csv").write_text("city,dishes,country\nAlexandria,100,EG\n\nAlexandria,50,US\n")
    data = base()
    data["ground"]["demand_files"] = [{"path": "d.csv"}]
    msg = error(build_sites, scenario_from_dict(data, base_dir=tmp_path))
    assert "line 4: Alexandria, US" in msg and "line 2: Alexandria, EG" in msg and "'Alexandria0'" in msg


def test_an_explicit_site_given_twice_is_named():
    data = base()
    data["ground"]["sites"][1]["name"] = "GW-Berlin"
    msg = error(build_sites, scenario_from_dict(data))
    assert "ground.sites[1] (GW-Berlin)" in msg and "ground.sites[0]" in msg


def test_dish_group_description_tells_the_names_it_makes():
    from leonet.scenario.ground import DishGroupSpec

    sites = leonet.dishes_around(50, 30, 11, 1e3, 0, name_prefix="Kyiv")
    assert list(sites.name[[0, 10]]) == ["Kyiv00", "Kyiv10"]
    assert "Kyiv00 ... Kyiv10" in DishGroupSpec.model_fields["name"].description


# ------------------------------------------------------------------ 5: a dish group at a pole


@pytest.mark.parametrize("lat", [90.0, -90.0])
def test_dishes_around_a_pole_spread_as_a_disc(lat):
    sites = leonet.dishes_around(lat, 0, 50, 50e3, 1)
    assert np.ptp(sites.lon_deg) > 180 and len(np.unique(np.round(sites.lon_deg, 3))) == 50
    dist = great_circle_distance_m(lat, 0, sites.lat_deg, sites.lon_deg)
    assert (dist <= 50e3 + 1e-6).all() and dist.max() > 25e3


# ------------------------------------------------------------------ 6: windows cut short, or no finer


def _windowed(step_s, window):
    return scenario_from_dict(base(time={"start": "2022-03-01T12:00:00Z", "duration_s": 120, "step_s": step_s,
                                         "windows": [window]}))


def test_a_window_cut_short_by_the_calendars_end_is_a_warning():
    sc = _windowed(30, {"name": "edge-end", "start_s": 100, "duration_s": 60, "step_s": 5})
    assert sc.time.clipped_windows() == [("edge-end", 20.0, 60.0)]
    warnings = scenario_warnings(sc, build_constellation(sc))
    assert any("edge-end (20 s of its 60 s)" in w for w in warnings)
    whole = _windowed(30, {"name": "inside", "start_s": 30, "duration_s": 60, "step_s": 5})
    assert whole.time.clipped_windows() == [] and not scenario_warnings(whole, build_constellation(whole))


@pytest.mark.parametrize("window_step", [10, 30])
def test_a_window_no_finer_than_the_calendar_is_an_error(window_step):
    msg = error(_windowed, 10, {"name": "coarse", "start_s": 30, "duration_s": 60, "step_s": window_step})
    assert "time.windows[0].step_s" in msg and "no finer than time.step_s (10 s)" in msg


def test_a_coarse_window_after_a_shortened_calendar_is_only_skipped():
    sc = _windowed(10, {"name": "later", "start_s": 600, "duration_s": 60, "step_s": 30})
    assert sc.time.skipped_windows() == ["later"]


def test_a_step_override_that_swallows_a_window_says_so():
    data = base(time={"start": "2022-03-01T12:00:00Z", "duration_s": 120, "step_s": 30,
                      "windows": [{"name": "w", "start_s": 30, "duration_s": 60, "step_s": 5}]})
    from leonet.cli_options import overrides

    msg = error(scenario_from_dict, data, overrides=overrides(None, 5, None, []))
    assert "time.windows[0].step_s" in msg and "by --step)" in msg
    msg = error(scenario_from_dict, data, overrides={"time.step_s": 5})   # a plain override: --set's
    assert "time.windows[0].step_s" in msg and "by --set)" in msg


# ------------------------------------------------------------------ 7: windows before a --start


def test_a_start_after_a_presets_windows_names_them_and_the_way_out():
    from leonet.cli_options import overrides

    msg = error(load_scenario, "ukraine-2022", overrides=overrides(3600, 3600, "2022-03-10T00:00:00Z", []))
    assert "time.windows[0]" in msg and "starts before time.start (2022-03-10" in msg
    assert "jamming fix lands" in msg and "Triolan hacked" in msg and "Ukrtelecom" not in msg
    assert "--set 'time.windows=[]'" in msg and "by --start)" in msg
    sc = load_scenario("ukraine-2022", overrides={"time.start": "2022-03-05T00:00:00Z", "time.duration_s": 3600,
                                                  "time.step_s": 3600, "time.windows": []})
    assert sc.time.windows == []


# ------------------------------------------------------------------ input hunt: dates, --set, admission


@pytest.mark.parametrize("old, new, field", [
    ("start: 2022-03-01T12:00:00Z", "start: 20220301", "time.start (line 9)"),
    ("start: 2022-03-01T12:00:00Z", "start: '1646136000'", "time.start (line 9)"),
    ("sats_per_plane: 10}", "sats_per_plane: 10, epoch: 20220301}", "constellation.shells[0].epoch (line 3)"),
])
def test_a_number_is_not_a_date(tmp_path, old, new, field):
    # pydantic reads a number as seconds since 1970: 20220301 would be 1970-08-23
    msg = error(load_scenario, write(tmp_path, BASE.replace(old, new)))
    assert field in msg and "give an ISO date/time, e.g. 2022-03-01T00:00:00Z" in msg, msg


def test_a_number_is_not_an_event_date(tmp_path):
    text = BASE + "events:\n  - {name: cut, type: core_outage, start: 20220301}\n"
    msg = error(load_scenario, write(tmp_path, text))
    assert "events[0] (cut).start (line 12)" in msg and "ISO date/time" in msg, msg
    text = BASE + ("events:\n  - {name: arrive, type: deliveries, start_s: 0, "
                   "schedule: [[2022-03-01T00:00:00Z, 0.5], [20220401, 1]]}\n")
    msg = error(load_scenario, write(tmp_path, text))
    assert "events[0] (arrive).schedule[1][0]" in msg and "ISO date/time" in msg, msg
    sc = scenario_from_dict(base(), overrides={"time.start": "2022-03-05T00:00:00Z"})   # --start's text
    assert sc.time.start.isoformat() == "2022-03-05T00:00:00+00:00"


def test_set_values_are_read_with_the_scenario_files_limits():
    from leonet.cli_options import parse_sets

    msg = error(parse_sets, ["description=" + "[" * 5000])          # was a RecursionError traceback
    assert msg.startswith("--set description:") and ("nest" in msg or "not valid YAML" in msg), msg
    msg = error(parse_sets, ["visibility={min_elevation_deg: 80, min_elevation_deg: 10}"])
    assert msg.startswith("--set visibility:") and "'min_elevation_deg' is given twice" in msg, msg
    msg = error(parse_sets, ["time.step_s=[1"])
    assert msg.startswith("--set time.step_s:") and "not valid YAML" in msg, msg
    assert parse_sets(["a=1", "b={x: [1, 2]}", "c=", "d=2022-03-01T00:00:00Z"])["b"] == {"x": [1, 2]}
    assert parse_sets(["c="])["c"] is None and parse_sets(["a=1e2"])["a"] == "1e2"


def test_an_unknown_set_path_and_an_option_are_named_as_such(tmp_path):
    from leonet.cli_options import overrides

    path = write(tmp_path, BASE)
    msg = error(load_scenario, path, overrides=overrides(None, None, None, ["foo.bar=1"]))
    assert "foo (from --set): unknown field" in msg and "(line" not in msg, msg
    msg = error(load_scenario, path, overrides=overrides(float("nan"), None, None, []))
    assert "time.duration_s (from --duration)" in msg, msg
    msg = error(load_scenario, path, overrides=overrides(None, 0.0, None, ["time.step_s=5"]))
    assert "time.step_s (from --step)" in msg, msg
    msg = error(load_scenario, path, overrides=overrides(None, None, "20220301", []))
    assert "time.start (from --start)" in msg and "ISO date/time" in msg, msg
    msg = error(load_scenario, path, overrides=overrides(None, None, None, ["time.duration_s=-1"]))
    assert "time.duration_s (from --set)" in msg, msg


def test_an_admission_limit_is_bounded():
    sets = {"capacity.enabled": True, "service.enabled": True, "service.admission.enabled": True,
            "service.admission.limit_per_cell": 10**30}
    msg = error(scenario_from_dict, base(), overrides=sets)   # was an OverflowError in np.full
    assert "service.admission.limit_per_cell (from --set)" in msg and "1000000000" in msg, msg
    scenario_from_dict(base(), overrides={**sets, "service.admission.limit_per_cell": 10**9})


@pytest.mark.parametrize("shares, needle", [
    ({"browsing": float("nan"), "video": 1}, "service.traffic.shares.browsing"),
    ({"browsing": 2, "video": -1}, "service.traffic.shares.video"),
])
def test_traffic_shares_are_checked_one_by_one(shares, needle):
    msg = error(scenario_from_dict, base(), overrides={"capacity.enabled": True, "service.enabled": True,
                                                      "service.traffic.shares": shares})
    assert needle in msg, msg
