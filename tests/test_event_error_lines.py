"""Problems found while the model is built (an event's unknown group, provider or city) name the
line of the scenario file, as the schema's own errors do."""

from __future__ import annotations

from pathlib import Path

import pytest

import leonet
from leonet.errors import InputError
from leonet.scenario.loading import _location_to_loc, location_with_line

PRESETS = Path(leonet.__file__).parent / "presets" / "scenarios"


def test_locations_read_as_yaml_paths():
    assert _location_to_loc("events[8] (triolan-hack).target.groups") == ("events", 8, "target", "groups")
    assert _location_to_loc("ground.dish_groups[2].name") == ("ground", "dish_groups", 2, "name")
    assert _location_to_loc("terrestrial.providers") == ("terrestrial", "providers")
    assert _location_to_loc("line 3") is None and _location_to_loc("satellite 'X' (catalog 1)") is None


def test_an_events_unknown_group_names_its_line(tmp_path):
    text = (PRESETS / "ukraine-2022.yaml").read_text()
    text = text.replace("../../data/", str(PRESETS.parent.parent / "data") + "/")
    assert "groups: [Mariupol], seed: 3" in text
    text = text.replace("groups: [Mariupol], seed: 3", "groups: [Mariupl], seed: 3")
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "Mariupl" in x)
    (tmp_path / "s.yaml").write_text(text)
    sc = leonet.load_scenario(tmp_path / "s.yaml", overrides={"time.duration_s": 3600})
    with pytest.raises(InputError) as err:
        leonet.build_model(sc)
    assert f"target.groups[0] (line {line})" in str(err.value) and "Mariupol" in str(err.value)


def test_a_preset_or_an_unreadable_source_keeps_the_location():
    where = "events[0] (deliveries).target.groups"
    assert location_with_line("preset ukraine-2022", where).startswith(where + " (line ")
    assert location_with_line("leonet dish", where) == where
    assert location_with_line(None, where) == where


def test_a_value_from_the_command_line_is_named_so_not_by_the_files_line():
    """--set replaced the file's value: its line would point at the value that is not used."""
    sc = leonet.load_scenario("ukraine-2022", overrides={"events[3].target.groups": ["Nowhere"],
                                                          "time.duration_s": 3600})
    with pytest.raises(InputError) as err:
        leonet.build_model(sc)
    assert "events[3] (mariupol-power).target.groups[0] (from --set)" in str(err.value) and "(line" not in str(err.value)


def test_a_block_list_names_the_line_of_the_unknown_entry(tmp_path):
    """target.groups / target.sites written one per line: the error stands on the wrong entry's line."""
    text = (PRESETS / "ukraine-2022.yaml").read_text()
    text = text.replace("../../data/", str(PRESETS.parent.parent / "data") + "/")
    extra = ("  - name: two-cuts\n    type: terrestrial_outage\n    start_s: 0\n    target:\n"
             "      groups:\n        - Mariupol\n        - Kharkov\n"
             "  - name: one-strike\n    type: gateway_loss\n    start_s: 0\n    target:\n"
             "      sites:\n        - Atlantis\n")
    assert text.count("\noutputs:") == 1  # the events list ends there: the new ones go last in it
    text = text.replace("\noutputs:", "\n" + extra + "outputs:")
    lines = text.splitlines()
    (tmp_path / "s.yaml").write_text(text)
    sc = leonet.load_scenario(tmp_path / "s.yaml", overrides={"time.duration_s": 3600})
    with pytest.raises(InputError) as err:
        leonet.build_model(sc)
    line = next(i for i, x in enumerate(lines, 1) if x.strip() == "- Kharkov")
    assert f"target.groups[1] (line {line})" in str(err.value) and "Kharkiv" in str(err.value)
    text = text.replace("        - Kharkov\n", "        - Kharkiv\n")
    (tmp_path / "s.yaml").write_text(text)
    sc = leonet.load_scenario(tmp_path / "s.yaml", overrides={"time.duration_s": 3600})
    with pytest.raises(InputError) as err:
        leonet.build_model(sc)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if x.strip() == "- Atlantis")
    assert f"target.sites[0] (line {line})" in str(err.value)
