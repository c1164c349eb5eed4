"""Scenario validation: presets load, and bad files get errors naming the file, field and line."""

import textwrap

import pytest

from leonet.errors import InputError
from leonet.scenario import list_presets, load_scenario, scenario_from_dict
from leonet.sim.model import build_model

GOOD = """
name: t
constellation:
  shells:
    - {altitude_km: 550, inclination_deg: 53, planes: 6, sats_per_plane: 5}
ground:
  sites:
    - {name: A, lat_deg: 50.45, lon_deg: 30.52}
time: {start: 2022-03-01T12:00:00Z, duration_s: 60, step_s: 10}
"""


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_good_file_loads(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD))
    assert sc.time.n_steps == 6
    assert sc.visibility.min_elevation_deg == 25.0
    model = build_model(sc)
    assert len(model.constellation) == 30 and len(model.sites) == 1


@pytest.mark.parametrize("preset", [p["name"] for p in list_presets() if p["kind"] == "constellation"])
def test_constellation_presets_sizes(preset):
    expected = {"starlink-shell1": 1584, "starlink-gen1": 4408, "starlink-gen2": 29988, "kuiper": 3236}
    sc = scenario_from_dict({"name": "x", "constellation": preset,
                             "time": {"start": "2022-03-01T00:00:00Z", "duration_s": 1, "step_s": 1}})
    total = sum(s.planes * s.sats_per_plane for s in sc.constellation.shells)
    assert total == expected[preset]


def test_scenario_presets_validate():
    for p in list_presets():
        if p["kind"] == "scenario":
            assert load_scenario(p["name"]).name == p["name"]


def test_field_path_and_line_are_named(tmp_path):
    bad = GOOD.replace("planes: 6", "planes: -6")
    with pytest.raises(InputError) as e:
        load_scenario(write(tmp_path, bad))
    msg = str(e.value)
    assert "s.yaml" in msg and "constellation.shells[0].planes" in msg and "line 5" in msg
    assert "greater than or equal to 1" in msg


def test_unknown_field_and_missing_field(tmp_path):
    bad = GOOD.replace("sats_per_plane: 5", "sats_per_plan: 5")
    msg = str(pytest.raises(InputError, load_scenario, write(tmp_path, bad)).value)
    assert "constellation.shells[0].sats_per_plane" in msg and "required field is missing" in msg
    assert "constellation.shells[0].sats_per_plan " in msg and "unknown field" in msg


def test_a_missing_field_points_at_the_key_of_its_section(tmp_path):
    """A missing ``time.duration_s`` is named at ``time:`` (line 3), not at the section's first
    entry (``start:``, line 4), which is where the user's typo is not."""
    text = ("name: t\nconstellation: starlink-shell1\ntime:\n  start: 2022-03-01T00:00:00Z\n"
            "  duraton_s: 60\n  step_s: 10\n")
    msg = str(pytest.raises(InputError, load_scenario, write(tmp_path, text)).value)
    assert "time.duration_s (line 3): required field is missing" in msg
    assert "time.duraton_s (line 5): unknown field" in msg


def test_naive_time_and_bad_step(tmp_path):
    bad = GOOD.replace("2022-03-01T12:00:00Z", "2022-03-01T12:00:00").replace("step_s: 10", "step_s: 100")
    msg = str(pytest.raises(InputError, load_scenario, write(tmp_path, bad)).value)
    assert "time.start" in msg and "UTC" in msg


@pytest.mark.parametrize("content,expected", [
    (b"", "empty"),
    (b"\x00\x01\x02binary", "binary"),
    (b"name: [unclosed", "not valid YAML"),
    (b"- just\n- a list\n", "YAML mapping"),
    (b"\xff\xfe\xfa", "UTF-8"),
])
def test_broken_files(tmp_path, content, expected):
    p = tmp_path / "b.yaml"
    p.write_bytes(content)
    msg = str(pytest.raises(InputError, load_scenario, p).value)
    assert "b.yaml" in msg and expected in msg


def test_missing_file_and_unknown_preset(tmp_path):
    assert "no such file" in str(pytest.raises(InputError, load_scenario, tmp_path / "nope.yaml").value)
    msg = str(pytest.raises(InputError, load_scenario, "no-such-preset").value)
    assert "ukraine-gen1" in msg  # lists what exists
    msg = str(pytest.raises(InputError, load_scenario, "starlink-gen1").value)
    assert "constellation preset" in msg


def test_unknown_constellation_preset(tmp_path):
    bad = GOOD.replace("constellation:\n  shells:", "constellation:\n  preset: starlink-gen9\n  shells:")
    msg = str(pytest.raises(InputError, load_scenario, write(tmp_path, bad)).value)
    assert "starlink-gen9" in msg and "starlink-gen1" in msg


def test_overrides_apply():
    sc = load_scenario("ukraine-gen1", overrides={"time.duration_s": 30, "time.step_s": 5, "outputs.dir": "/tmp/x"})
    assert sc.time.n_steps == 6 and str(sc.output_dir()) == "/tmp/x"
    with pytest.raises(InputError) as e:
        load_scenario("ukraine-gen1", overrides={"time.step_s": -1})
    assert "time.step_s" in str(e.value)


def test_relative_site_file_resolves_against_scenario_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "sites.csv").write_text("name,lat_deg,lon_deg,kind\nX,10,20,dish\n")
    text = GOOD.replace("  sites:\n    - {name: A, lat_deg: 50.45, lon_deg: 30.52}", "  site_files:\n    - {path: sites.csv}")
    sc = load_scenario(write(tmp_path / "sub", text))
    assert list(build_model(sc).sites.name) == ["X"]


def test_resolved_yaml_round_trips(tmp_path):
    sc = load_scenario("ukraine-gen1")
    p = tmp_path / "resolved.yaml"
    p.write_text(sc.to_yaml())
    again = load_scenario(p)
    assert again.constellation == sc.constellation and again.time == sc.time
