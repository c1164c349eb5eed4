"""Event and scenario checks at the door: fields a type does not read, users_per_dish without the
service model, deliveries that bring no dish during the run, errors at a schedule entry's own line,
"did you mean" for unknown keys, an end_s before the start, alt_share 0, empty paths, settings that
change nothing, and pydantic's class names kept out of messages."""

from __future__ import annotations

import pytest

from leonet.scenario import load_scenario, scenario_from_dict
from leonet.scenario.events import EVENT_TYPES, ONLY_FOR, EventSpec
from leonet.sim.run_warnings import event_warnings
from test_scenario_door_fixes import BASE, base, error, write

KYIV = {"groups": ["Kyiv"]}
JAMMER = {"lat_deg": 50.0, "lon_deg": 30.0, "eirp_dbw": 30}


def events(*evs, **changes) -> dict:
    return base(events=list(evs), **changes)


# ------------------------------------------------------------------ 1: fields a type does not read


@pytest.mark.parametrize("field, value, wanted", [
    ("surge_factor", 3, "demand_surge"),
    ("rate_per_day", 0.1, "satellite_failures"),
    ("jammer", JAMMER, "jamming"),
    ("links", [["a", "b"]], "fibre_cut"),
    ("move_share", 0.3, "alt_network_wipe"),
    ("alt_share", 0.0, "alt_network_wipe"),
    ("countermeasure", {"after_s": 10}, "jamming"),
    ("schedule", [["2022-03-01T12:00:00Z", 0.5]], "deliveries"),
    ("level", 0.0, "terrestrial_outage, isp_outage and power_cut"),
    ("backup_hours", 4, "power_cut"),
    ("backup_share", 0.5, "power_cut"),
])
def test_a_field_the_type_does_not_read_is_an_error_naming_it(field, value, wanted):
    ev = {"name": "a", "type": "gateway_loss", "start_s": 0, field: value, "target": {"sites": ["GW-Berlin"]}}
    msg = error(scenario_from_dict, events(ev))
    what = "backup_share and backup_hours apply" if field.startswith("backup_") else f"{field} applies"
    assert f"events[0] (a): {what} to {wanted} events only (this is a gateway_loss event)" in msg


def test_the_fields_of_one_type_are_listed_exhaustively():
    common = {"name", "type", "start", "start_s", "end", "end_s", "target", "description"}
    assert set(EventSpec.model_fields) == common | set(ONLY_FOR)
    assert all(t in EVENT_TYPES for types in ONLY_FOR.values() for t in types)


def test_a_field_at_its_default_on_another_type_is_accepted():
    ev = {"name": "a", "type": "gateway_loss", "start_s": 0, "move_share": 0.0, "backup_share": 0.0,
          "target": {"sites": ["GW-Berlin"]}}
    scenario_from_dict(events(ev))


def test_the_error_names_the_events_line(tmp_path):
    text = BASE + "events:\n  - name: a\n    type: terrestrial_outage\n    start_s: 0\n    surge_factor: 3\n"
    msg = error(load_scenario, write(tmp_path, text))
    assert "events[0] (a) (line 12): surge_factor applies to demand_surge events only" in msg


# ------------------------------------------------------------------ 2: users_per_dish needs the service model


def test_users_per_dish_without_the_service_model_is_an_error(tmp_path):
    text = BASE.replace("radius_km: 10, seed: 1}", "radius_km: 10, seed: 1, users_per_dish: 300}")
    msg = error(load_scenario, write(tmp_path, text))
    assert "ground.dish_groups[0].users_per_dish (line 8): users_per_dish acts only through the service model" in msg
    assert "would change nothing: set service.enabled: true" in msg
    one = base()
    one["ground"]["dish_groups"][0]["users_per_dish"] = 1   # the default: nothing to warn about
    scenario_from_dict(one)


def test_a_kit_without_the_service_model_is_an_error(tmp_path):
    text = BASE.replace("radius_km: 10, seed: 1}", "radius_km: 10, seed: 1, kit: mini}")
    msg = error(load_scenario, write(tmp_path, text))
    assert "ground.dish_groups[0].kit (line 8): kit 'mini' acts only through the service model" in msg
    one = base()
    one["ground"]["sites"] = [{"name": "a", "lat_deg": 50.0, "lon_deg": 30.0, "kit": "mini"}]
    msg = error(scenario_from_dict, one)
    assert "ground.sites[0].kit: kit 'mini' acts only through the service model" in msg, msg


# ------------------------------------------------------------------ 3: deliveries that deliver nothing


def deliveries(schedule, **event) -> dict:
    return {"name": "d", "type": "deliveries", "start_s": 0, "schedule": schedule, "target": KYIV, **event}


def delivery_warnings(*evs) -> list[str]:
    return [w for w in event_warnings(scenario_from_dict(events(*evs))) if "deliver no dish" in w]


def test_deliveries_after_the_run_are_warned_about():
    (w,) = delivery_warnings(deliveries([["2030-03-01T12:00:00Z", 0.5]]))
    assert "d (its first dishes come on 2030-03-01T12:00:00+00:00, at or after the calendar's end " \
           "(2022-03-01T12:02:00+00:00))" in w
    (w,) = delivery_warnings(deliveries([["2022-03-01T12:03:00Z", 0.0], ["2030-03-01T12:00:00Z", 0.5]]))
    assert "after 2022-03-01T12:03:00+00:00" in w


def test_deliveries_of_no_dish_are_warned_about():
    (w,) = delivery_warnings(deliveries([["2022-03-01T12:00:00Z", 0.0]]))
    assert "d (every share of its schedule is 0)" in w


def test_deliveries_between_the_last_instant_and_the_end_are_warned_about():
    # 120 s at 10 s: the last instant is 110 s; a first dish at 115 s is never seen
    assert delivery_warnings(deliveries([["2022-03-01T12:01:55Z", 0.5]]))
    assert not delivery_warnings(deliveries([["2022-03-01T12:01:50Z", 0.5]]))
    # shares that rise from 0 after an instant are seen at the next one
    assert not delivery_warnings(deliveries([["2022-03-01T12:01:41Z", 0.0], ["2022-03-01T12:02:00Z", 1.0]]))


def test_deliveries_that_end_before_the_first_dish_are_warned_about():
    (w,) = delivery_warnings(deliveries([["2022-03-01T12:01:00Z", 0.5]], end_s=30))
    assert "at or after the event's end" in w


def test_ordinary_deliveries_are_not_warned_about():
    assert not delivery_warnings(deliveries([["2022-02-01T00:00:00Z", 0.0], ["2022-04-01T00:00:00Z", 1.0]]))
    assert not delivery_warnings(deliveries([["2022-03-01T12:00:00Z", 0.2]]))
    # one that starts after the end is said once, with the others that do
    (late,) = event_warnings(scenario_from_dict(events(deliveries([["2030-01-01T00:00:00Z", 1.0]], start_s=500))))
    assert "start at or after the calendar's end" in late


# ------------------------------------------------------------------ 6: a schedule entry's own line


SCHEDULE = BASE + """\
events:
  - name: d
    type: deliveries
    start_s: 0
    target:
      groups: [Kyiv]
    schedule:
      - [2022-03-01T12:00:00Z, 0.1]
      - [2022-03-01T12:01:00Z, 0.5]
      - [2022-03-01T12:02:00Z, 0.7]
"""


@pytest.mark.parametrize("bad, where, words", [
    ("- [2022-03-01T12:02:00Z, 1.5]", "events[0] (d).schedule[2] (line 20)", "schedule shares must be within 0..1, got 1.5"),
    ("- [2022-03-01T12:00:30Z, 0.7]", "events[0] (d).schedule[2] (line 20)", "schedule dates must increase"),
    ("- [2022-03-01 12:02:00, 0.7]", "events[0] (d).schedule[2][0] (line 20)", "a schedule date has no timezone"),
])
def test_a_bad_schedule_entry_is_named_at_its_line(tmp_path, bad, where, words):
    msg = error(load_scenario, write(tmp_path, SCHEDULE.replace("- [2022-03-01T12:02:00Z, 0.7]", bad)))
    assert f"{where}: {words}" in msg


# ------------------------------------------------------------------ 7: did you mean


@pytest.mark.parametrize("old, new, where, suggestion", [
    ("step_s: 10}", "step_s: 10, stepp_s: 5}", "time.stepp_s", "step_s"),
    ("outputs: {chunk_steps: 4}", "outputs: {chunk_step: 4}", "outputs.chunk_step", "chunk_steps"),
    ("name: base", "name: base\nterrestriall: {}", "terrestriall", "terrestrial"),
])
def test_an_unknown_key_gets_a_suggestion(tmp_path, old, new, where, suggestion):
    msg = error(load_scenario, write(tmp_path, BASE.replace(old, new)))
    assert f"{where} (line " in msg and f"unknown field (did you mean {suggestion!r}?" in msg


def test_an_unknown_key_inside_an_event_gets_a_suggestion():
    ev = {"name": "j", "type": "jamming", "start_s": 0, "jammer": JAMMER, "countermeasure": {"rejection": 30}}
    msg = error(scenario_from_dict, events(ev, capacity={"enabled": True}))
    assert "events[0] (j).countermeasure.rejection: unknown field (did you mean 'rejection_db'?" in msg
    msg = error(scenario_from_dict, events({"name": "t", "type": "terrestrial_outage", "start_s": 0, "levle": 0.1,
                                            "target": KYIV}))
    assert "events[0] (t).levle: unknown field (did you mean 'level'?" in msg


def test_an_unknown_key_with_no_near_name_keeps_the_old_wording():
    msg = error(scenario_from_dict, base(zzzz=1))
    assert "zzzz: unknown field (check its spelling; see the scenario format in the README)" in msg


# ------------------------------------------------------------------ 8: an event's end_s


def test_end_s_0_after_an_earlier_start_is_refused_as_end_is(tmp_path):
    ev = "events:\n  - {name: t, type: terrestrial_outage, start: 2022-03-01T10:00:00Z, %s, target: {groups: [Kyiv]}}\n"
    msg = error(load_scenario, write(tmp_path, BASE + ev % "end_s: 0"))
    assert "events[0] (t).end_s (line 12): the event ends (end_s 0: time.start 2022-03-01T12:00:00+00:00) at or " \
           "before the calendar's start: it would change nothing" in msg
    msg = error(load_scenario, write(tmp_path, BASE + ev % "end: 2022-03-01T12:00:00Z"))
    assert "events[0] (t).end (line 12)" in msg and "at or before the calendar's start" in msg


def test_an_end_s_before_an_absolute_start_names_end_s():
    ev = {"name": "t", "type": "terrestrial_outage", "start": "2022-03-01T12:03:00Z", "end_s": 60, "target": KYIV}
    msg = error(scenario_from_dict, events(ev))
    assert "events[0] (t).end_s: end_s 60 (time.start 2022-03-01T12:00:00+00:00 + 60 s = 2022-03-01T12:01:00+00:00) " \
           "is not after start (2022-03-01T12:03:00+00:00)" in msg
    ev = {"name": "t", "type": "terrestrial_outage", "start_s": 180, "end": "2022-03-01T12:01:00Z", "target": KYIV}
    msg = error(scenario_from_dict, events(ev))
    assert "events[0] (t).end: end (2022-03-01T12:01:00+00:00) is not after start_s 180" in msg
    ev = {"name": "t", "type": "terrestrial_outage", "start": "2022-03-01T12:00:30Z", "end_s": 60, "target": KYIV}
    scenario_from_dict(events(ev))


# ------------------------------------------------------------------ 9: alt_share 0, articles


def test_alt_share_0_is_not_called_missing():
    ev = {"name": "a", "type": "alt_network_wipe", "start_s": 0, "alt_share": 0.0, "target": KYIV}
    msg = error(scenario_from_dict, events(ev))
    assert "events[0] (a).alt_share: alt_share 0" in msg and "would change nothing" in msg and "needs" not in msg
    del ev["alt_share"]
    assert "an alt_network_wipe event needs alt_share" in error(scenario_from_dict, events(ev))
    msg = error(scenario_from_dict, events({"name": "i", "type": "isp_outage", "start_s": 0}))
    assert "an isp_outage event needs providers" in msg


# ------------------------------------------------------------------ 10: empty paths


@pytest.mark.parametrize("old, new, where", [
    ("outputs:", "terrestrial: {providers: ''}\noutputs:", "terrestrial.providers (line 10)"),
    ("  dish_groups:", "  site_files: [{path: ''}]\n  dish_groups:", "ground.site_files[0].path (line 8)"),
    ("  shells:", "  orbit_files: [{path: ' '}]\n  shells:", "constellation.orbit_files[0].path (line 3)"),
    ("outputs:", "network: {isl: {topology: list, list_file: ''}}\noutputs:", "network.isl.list_file (line 10)"),
])
def test_an_empty_path_is_refused_naming_file_field_and_line(tmp_path, old, new, where):
    path = write(tmp_path, BASE.replace(old, new, 1))
    msg = error(load_scenario, path)
    assert str(path) in msg and f"{where}: an empty path" in msg and "is a folder" not in msg


# ------------------------------------------------------------------ 11: settings that change nothing


def test_backup_without_hours_and_hours_without_backup_are_warned_about():
    cut = {"name": "p", "type": "power_cut", "start_s": 0, "backup_share": 0.5, "target": KYIV}
    (w,) = event_warnings(scenario_from_dict(events(cut)))
    assert "events[0] (p): backup_share 0.5 changes nothing: backup_hours is 0" in w
    (w,) = event_warnings(scenario_from_dict(events({**cut, "backup_share": 0.0, "backup_hours": 4})))
    assert "events[0] (p): backup_hours 4 changes nothing: backup_share is 0" in w
    assert not event_warnings(scenario_from_dict(events({**cut, "backup_hours": 4})))


def test_a_countermeasure_after_its_jamming_ends_is_warned_about():
    jam = {"name": "j", "type": "jamming", "start_s": 0, "end_s": 100, "jammer": JAMMER,
           "countermeasure": {"after_s": 100}}
    (w,) = event_warnings(scenario_from_dict(events(jam, capacity={"enabled": True})))
    assert "events[0] (j): its countermeasure changes nothing: it lands 100 s after the jamming starts" in w
    jam["countermeasure"] = {"after_s": 50}
    assert not event_warnings(scenario_from_dict(events(jam, capacity={"enabled": True})))
    del jam["end_s"]   # open-ended: it lands in time, whenever
    jam["countermeasure"] = {"after_s": 5000}
    assert not event_warnings(scenario_from_dict(events(jam, capacity={"enabled": True})))


# ------------------------------------------------------------------ cosmetic: no class names


@pytest.mark.parametrize("changes, where, shown", [
    ({"time": "soon"}, "time", " (got 'soon')"),
    ({"events": [{"name": "p", "type": "power_cut", "start_s": 0, "target": ["Kyiv"]}]},
     "events[0] (p).target", ", not a list"),
])
def test_a_section_of_the_wrong_type_names_no_class(changes, where, shown):
    msg = error(scenario_from_dict, base(**changes))
    assert f"{where}: Input should be a mapping (field: value, ...){shown}" in msg
    assert "instance of" not in msg and "Spec" not in msg


def test_a_union_members_tag_is_left_out_of_the_path(tmp_path):
    text = BASE.replace("outputs:", "terrestrial:\n  exchanges:\n    - {name: X, lat_deg: 1, lon_deg: 2, foo: 1}\noutputs:")
    msg = error(load_scenario, write(tmp_path, text))
    assert "terrestrial.exchanges[0].foo (line 12): unknown field" in msg and "ExchangeSpec" not in msg
