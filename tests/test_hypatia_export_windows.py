"""The Hypatia export's time: one update interval (a windowed calendar exports its coarse grid)
and folder names from the calendar's step and duration, exactly (leonet.hypatia.export).

ns-3 loads ``fstate_<t>`` every ``dynamic_state_update_interval_ns`` and applies each file on top
of the state it has, so files at a window's finer instants were never loaded and the diff after
them was against a state ns-3 never had; the folder was named from steps x step (600 s at 60 s
with a window read ``..._for_780s``; ``--duration 0.35`` read ``..._for_0.4s``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import leonet
from leonet.hypatia.export import export_hypatia

# end to end: simulation runs (the fast lane leaves them out)
pytestmark = pytest.mark.slow

# Hypatia's Starlink shell (as tests/test_hypatia_export.py) and four of its cities: routes change
# between 10 s steps, so a diff against the wrong instant shows.
SHELL = {
    "name": "starlink-550", "altitude_km": 550, "mean_motion_rev_per_day": 15.19, "eccentricity": 1e-7,
    "arg_perigee_deg": 0, "inclination_deg": 53, "planes": 72, "sats_per_plane": 22, "raan_spread_deg": 360,
    "phasing": "half-slot", "epoch": "2000-01-01T00:00:00Z",
}
SITES = [
    {"name": "Tokyo", "kind": "station", "lat_deg": 35.6895, "lon_deg": 139.69171},
    {"name": "Manila", "kind": "station", "lat_deg": 14.6042, "lon_deg": 120.9822},
    {"name": "Saint-Petersburg", "kind": "station", "lat_deg": 59.93863, "lon_deg": 30.31413},
    {"name": "Dalian", "kind": "station", "lat_deg": 38.91222, "lon_deg": 121.60222},
]
WINDOW = {"name": "zoom", "start_s": 10, "duration_s": 3, "step_s": 1}  # 10, 11, 12 s


def scenario(duration_s: float, step_s: float, windows: list | None = None) -> dict:
    time = {"start": "2000-01-01T00:00:00Z", "duration_s": duration_s, "step_s": step_s}
    if windows:
        time["windows"] = windows
    return {
        "name": "hypatia-windows-test",
        "constellation": {"shells": [SHELL]},
        "ground": {"sites": SITES},
        "time": time,
        "visibility": {"min_elevation_deg": None, "max_range_m": 1_089_686.0},
        "network": {"isl": {"topology": "plus-grid", "grazing_height_km": 80, "max_range_km": 5016.591},
                    "all_station_pairs": True},
        "frames": {"earth_rotation": "utc"},
        "outputs": {"visibility_pairs": False},
    }


def build(data: dict):
    return leonet.build_model(leonet.scenario_from_dict(data))


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def uniform_and_windowed(tmp_path_factory):
    out = tmp_path_factory.mktemp("hypatia-windows")
    plain = export_hypatia(build(scenario(40, 10)), out / "plain")
    model = build(scenario(40, 10, [WINDOW]))
    windowed = export_hypatia(model, out / "windowed", chunk_steps=2)
    return plain, windowed, model


def test_a_windowed_calendar_exports_its_coarse_grid_with_diffs_between_exported_steps(uniform_and_windowed):
    plain, windowed, model = uniform_and_windowed
    assert [int(t - model.t_ns[0]) // 10**9 for t in model.t_ns] == [0, 10, 11, 12, 20, 30]  # the run zooms
    assert windowed.dynamic_state_dir.name == "dynamic_state_10000ms_for_40s"  # was ..._for_60s (6 x 10 s)
    assert windowed.steps == 4 and windowed.step_ns == 10 * 10**9 and windowed.duration_ns == 40 * 10**9
    # The same files as the scenario without the window: nothing at 11 or 12 s, and fstate at
    # 20 s is the change since 10 s (ns-3's previous load), not since 12 s.
    assert files_of(windowed.dynamic_state_dir) == files_of(plain.dynamic_state_dir)
    assert sorted(files_of(windowed.dynamic_state_dir)) == sorted(
        f"{kind}_{t * 10**9}.txt" for kind in ("fstate", "gsl_if_bandwidth") for t in (0, 10, 20, 30))
    assert (windowed.fstate_entries, windowed.files_written) == (plain.fstate_entries, plain.files_written)
    assert plain.fstate_entries > plain.fstate_entries_first  # routes do change between the 10 s steps
    assert plain.warnings == ()


def test_the_windows_left_out_are_said(uniform_and_windowed):
    _, windowed, _ = uniform_and_windowed
    said = [w for w in windowed.warnings if "time.windows" in w]
    assert len(said) == 1, windowed.warnings
    assert "2 instant(s)" in said[0] and "from 11 s to 12 s" in said[0] and "10 s steps" in said[0]


def test_parallel_export_of_a_windowed_calendar_is_the_same(uniform_and_windowed, tmp_path):
    plain, _, model = uniform_and_windowed
    parallel = export_hypatia(model, tmp_path, chunk_steps=1, workers=2)
    assert files_of(parallel.dynamic_state_dir) == files_of(plain.dynamic_state_dir)


@pytest.mark.parametrize("duration_s, step_s, name, times_ns", [
    (0.35, 0.1, "dynamic_state_100ms_for_0.35s", [0, 10**8, 2 * 10**8, 3 * 10**8]),  # was ..._for_0.4s
    (1, 0.3, "dynamic_state_300ms_for_1s", [0, 3 * 10**8, 6 * 10**8, 9 * 10**8]),  # was ..._for_1.2s
    (0.3, 0.1, "dynamic_state_100ms_for_0.3s", [0, 10**8, 2 * 10**8]),  # 3 x 0.1 s: never 0.30000000000000004
    (0.002, 0.0015, "dynamic_state_1.5ms_for_0.002s", [0, 1_500_000]),
])
def test_the_folder_is_named_from_the_calendar_exactly(tmp_path, duration_s, step_s, name, times_ns):
    summary = export_hypatia(build(scenario(duration_s, step_s)), tmp_path)
    assert summary.dynamic_state_dir == tmp_path / name
    assert sorted(summary.dynamic_state_dir.iterdir()) == sorted(
        summary.dynamic_state_dir / f"{kind}_{t}.txt" for kind in ("fstate", "gsl_if_bandwidth") for t in times_ns)
    assert summary.duration_ns == round(duration_s * 1e9)
    whole = round(step_s * 1e9) % 10**6 == 0 and round(duration_s * 1e9) % 10**9 == 0
    said = [w for w in summary.warnings if w.startswith(name)]
    # satgenpy's names are whole ms and whole s; anything else is said (its tools will not find it)
    assert len(said) == (0 if whole else 1), summary.warnings
    if said:
        assert "%d" in said[0] and "satellite_network_routes_dir" in said[0]


def test_cli_export_of_a_windowed_scenario_names_the_real_duration_and_warns(tmp_path):
    from typer.testing import CliRunner

    from leonet.cli import app

    path = tmp_path / "windowed.yaml"
    path.write_text(yaml.safe_dump(scenario(20, 10, [WINDOW])), encoding="utf-8")
    r = CliRunner().invoke(app, ["export", "hypatia", str(path), str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    folders = [p.name for p in (tmp_path / "out").iterdir() if p.is_dir()]
    assert folders == ["dynamic_state_10000ms_for_20s"]
    fstates = sorted(p.name for p in (tmp_path / "out" / folders[0]).glob("fstate_*.txt"))
    assert fstates == ["fstate_0.txt", "fstate_10000000000.txt"]
    text = " ".join(r.output.split())
    assert "warning:" in text and "time.windows" in text and "(2 steps" in text
