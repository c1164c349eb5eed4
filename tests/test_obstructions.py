"""Obstruction masks: horizon profiles, blocked look directions, and the OBSTRUCTED state."""

import textwrap

import numpy as np
import pandas as pd
import pytest

import leonet
from leonet.errors import InputError
from leonet.ground.obstructions import blocked, horizon_from_points, read_horizon_csv, wedge_of


def test_horizon_interpolates_around_north():
    h = horizon_from_points([350, 10], [40, 20])
    assert h[350] == pytest.approx(40) and h[10] == pytest.approx(20)
    assert h[0] == pytest.approx(30)  # halfway across north
    assert h[180] == pytest.approx(20 + 20 * (180 - 10) / 340)  # the long way round, linear


def test_blocked_matches_direct_interpolation():
    rng = np.random.default_rng(1)
    pts_az = np.sort(rng.choice(360, 8, replace=False)).astype(float)
    pts_el = rng.uniform(0, 60, 8)
    masks = horizon_from_points(pts_az, pts_el)[None, :]
    mask_of_site = np.array([0, -1])
    az = rng.uniform(0, 360, 500)
    el = rng.uniform(0, 90, 500)
    site = rng.integers(0, 2, 500)
    got = blocked(masks, mask_of_site, site, az, el)
    limit = np.interp(az, pts_az, pts_el, period=360)
    assert np.array_equal(got, (site == 0) & (el < limit))


def test_wedges():
    assert list(wedge_of([0, 29.9, 30, 359.9])) == [0, 0, 1, 11]


@pytest.mark.parametrize("content,msg", [
    ("", "empty"), ("az,el\n1,2\n", "header"), ("azimuth_deg,elevation_deg\n10,x\n", "line 2"),
    ("azimuth_deg,elevation_deg\n400,10\n", "[0, 360)"), ("azimuth_deg,elevation_deg\n10,95\n", "[0, 90]"),
])
def test_bad_horizon_csv(tmp_path, content, msg):
    p = tmp_path / "h.csv"
    p.write_text(content)
    with pytest.raises(InputError) as e:
        read_horizon_csv(p)
    assert msg in str(e.value) and "h.csv" in str(e.value)


SCENARIO = """
name: obs
constellation: starlink-gen1
ground:
  sites:
    - {name: Clear, lat_deg: 50.45, lon_deg: 30.52, kind: dish}
    - {name: Yard, lat_deg: 50.46, lon_deg: 30.53, kind: dish, group: yard}
    - {name: Canyon, lat_deg: 50.47, lon_deg: 30.54, kind: dish}
  builtin:
    - {name: starlink-gateways-2023, regions: [Europe]}
    - {name: starlink-pops-2023, regions: [Europe]}
  obstructions:
    - {groups: [yard], profile: [[0, 70], [90, 70], [180, 0], [270, 0]]}
    - {sites: [Canyon], profile: [[0, 89], [180, 89]]}
time: {start: 2022-03-01T12:00:00Z, duration_s: 180, step_s: 1}
"""


@pytest.fixture(scope="module")
def obs_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("obs")
    (d / "s.yaml").write_text(textwrap.dedent(SCENARIO))
    result = leonet.run(leonet.load_scenario(d / "s.yaml"), out_dir=d / "out")
    return result, result.store.read("dish_steps").to_pandas(), result.store.read("visibility").to_pandas()


@pytest.mark.slow
def test_visibility_flags_follow_the_mask(obs_run):
    result, _, vis = obs_run
    yard = vis[vis["site"] == 1]
    limit = np.interp(yard["azimuth_deg"], [0, 90, 180, 270], [70, 70, 0, 0], period=360)
    assert np.array_equal(yard["obstructed"].to_numpy(), (yard["elevation_deg"] < limit).to_numpy())
    assert not vis.loc[vis["site"] == 0, "obstructed"].any()


@pytest.mark.slow
def test_states(obs_run):
    _, d, _ = obs_run
    clear = d[d["site"] == 0]
    canyon = d[d["site"] == 2]
    yard = d[d["site"] == 1]
    assert (clear["state"] == "CONNECTED").all()
    # Nothing clears an 89 deg horizon: satellites are in view but all blocked.
    assert (canyon["state"] == "OBSTRUCTED").all()
    # Half the sky blocked: the dish only ever uses satellites clear of its mask.
    assert (yard["state"] == "CONNECTED").mean() > 0.5
    assert set(yard["state"].unique()) <= {"CONNECTED", "OBSTRUCTED"}


@pytest.mark.slow
def test_serving_satellites_are_clear_of_the_mask(obs_run):
    _, d, vis = obs_run
    yard = d[(d["site"] == 1) & (d["state"] == "CONNECTED")][["t", "serving_sat"]]
    joined = yard.merge(vis[vis["site"] == 1], left_on=["t", "serving_sat"], right_on=["t", "sat"])
    assert len(joined) == len(yard) and not joined["obstructed"].any()


def test_unknown_site_in_mask(tmp_path):
    text = textwrap.dedent(SCENARIO).replace("sites: [Canyon]", "sites: [Nowhere]")
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(InputError) as e:
        leonet.build_model(leonet.load_scenario(tmp_path / "s.yaml"))
    assert "Nowhere" in str(e.value) and "ground.obstructions[1].sites" in str(e.value)
