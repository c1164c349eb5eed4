"""The Python API as a researcher calls it in a notebook: a scenario as a preset name, a YAML path
or a dict; instants as numpy datetime64 or datetimes (seconds given for ns are refused: they
read as 1970); each station pair once (a pair given twice was routed and written twice)."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

import leonet
from leonet.errors import InputError

# end to end: simulation runs (the fast lane leaves them out)
pytestmark = pytest.mark.slow

SHELL = {"shells": [{"name": "s1", "altitude_km": 550, "inclination_deg": 53, "planes": 12, "sats_per_plane": 12}]}


def _pairs_scenario(**network) -> dict:
    return {"name": "pairs", "constellation": SHELL,
            "ground": {"sites": [{"name": "London", "kind": "station", "lat_deg": 51.5, "lon_deg": -0.1},
                                 {"name": "Tokyo", "kind": "station", "lat_deg": 35.7, "lon_deg": 139.7},
                                 {"name": "Lima", "kind": "station", "lat_deg": -12.0, "lon_deg": -77.0}]},
            "network": network, "time": {"start": "2024-01-15T12:00:00Z", "duration_s": 20, "step_s": 10},
            "outputs": {"visibility_pairs": False}}


def test_run_takes_a_dict_and_says_what_it_cannot_take(tmp_path):
    r = leonet.run(_pairs_scenario(pairs=[["London", "Tokyo"]]), out_dir=tmp_path / "o")
    assert r.model.scenario.name == "pairs"
    with pytest.raises(TypeError, match="a scenario is a leonet.Scenario"):
        leonet.run(42, out_dir=tmp_path / "x")
    with pytest.raises(TypeError, match="whole number of processes"):
        leonet.run(_pairs_scenario(pairs=[["London", "Tokyo"]]), out_dir=tmp_path / "y", workers="2")
    assert leonet.build_model("ukraine-gen1").scenario.name == "ukraine-gen1"


def test_each_pair_once(tmp_path):
    with pytest.raises(InputError, match=r"network.pairs\[1\].*also network.pairs\[0\]"):
        leonet.run(_pairs_scenario(pairs=[["London", "Tokyo"], ["London", "Tokyo"]]), out_dir=tmp_path / "a")
    r = leonet.run(_pairs_scenario(pairs=[["London", "Tokyo"]], all_station_pairs=True), out_dir=tmp_path / "b")
    d = r.store.read("pair_steps", columns=["t", "src", "dst"]).to_pandas()
    assert not d.duplicated().any() and len(d) == 2 * 6   # six ordered pairs of three stations, two steps


def test_instants_in_any_unit_a_notebook_has():
    c = leonet.build_model(_pairs_scenario()).constellation
    want = leonet.propagate(c, np.array([1_705_320_000_000_000_000])).ecef_m
    for t in (np.array(["2024-01-15T12:00:00"], dtype="datetime64[s]"),
              datetime.datetime(2024, 1, 15, 12, tzinfo=datetime.timezone.utc)):
        assert np.array_equal(leonet.propagate(c, t).ecef_m, want)
    with pytest.raises(InputError, match="seconds"):
        leonet.propagate(c, 1_705_320_000)
    with pytest.raises(InputError, match="one list"):
        leonet.propagate(c, np.zeros((2, 2), dtype=np.int64) + 1_705_320_000_000_000_000)


def test_reading_a_column_a_table_lacks_names_it(tmp_path):
    r = leonet.run(_pairs_scenario(pairs=[["London", "Tokyo"]]), out_dir=tmp_path / "o")
    with pytest.raises(InputError, match="pair_steps has no column 'rtt'; its columns: t, "):
        r.store.read("pair_steps", columns=["t", "rtt"])


def test_pairs_with_the_network_off_are_said_not_dropped(tmp_path):
    data = _pairs_scenario(enabled=False, pairs=[["London", "Tokyo"]])
    with pytest.warns(UserWarning, match="network.enabled is false .*network.pairs are not routed"):
        r = leonet.run(data, out_dir=tmp_path / "o")
    assert "pair_steps" not in r.store.tables()


@pytest.mark.parametrize("change, field", [({"planes": 0}, "planes"), ({"altitude_m": 550}, "altitude_m"),
                                           ({"inclination_deg": 200}, "inclination_deg")])
def test_a_walker_shell_built_in_python_is_checked(change, field):
    kw = dict(name="s", altitude_m=550e3, inclination_deg=53, planes=4, sats_per_plane=4, epoch_ns=1_705_320_000_000_000_000)
    leonet.WalkerShell(**kw)
    with pytest.raises(InputError, match=field):
        leonet.WalkerShell(**{**kw, **change})
