"""The on-disk ITU-R attenuation cache: a hit equals a fresh computation to the bit (issue 15, item 4)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from leonet.capacity import attenuation_cache as ac
from leonet.capacity.atmosphere import atmospheric_attenuation_db

LAT = np.array([50.45, -33.9, 1.35])
LON = np.array([30.52, 18.4, 103.8])
GRID = np.array([25.0, 30.0, 40.0, 50.0, 65.0, 90.0])
ARGS = (LAT, LON, GRID, 11.7e9, 99.5, 0.5)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LEONET_CACHE_DIR", str(tmp_path / "c"))
    return tmp_path / "c" / "attenuation"


def reference() -> np.ndarray:
    """The table as build_capacity_model computed it before the cache (one itur call)."""
    lat, lon, el = np.repeat(LAT, len(GRID)), np.repeat(LON, len(GRID)), np.tile(GRID, len(LAT))
    return atmospheric_attenuation_db(lat, lon, el, 11.7e9, availability_pct=99.5, dish_diameter_m=0.5).reshape(len(LAT), -1)


@pytest.mark.slow
def test_miss_then_hit_equal_fresh(cache, monkeypatch):
    fresh = ac.attenuation_table_db(*ARGS)
    assert np.array_equal(fresh, reference())
    assert len(list(cache.glob("*.npz"))) == 1
    monkeypatch.setattr(ac, "compute_table_db", lambda *a, **k: pytest.fail("a hit must not recompute"))
    hit = ac.attenuation_table_db(*ARGS)
    assert np.array_equal(hit, fresh) and hit.dtype == np.float64 and hit.shape == (3, 6)


@pytest.mark.parametrize("change", [dict(frequency_hz=14.25e9), dict(availability_pct=99.9), dict(dish_diameter_m=0.58),
                                    dict(grid=GRID[1:]), dict(lat=LAT + 1e-9)])
def test_each_input_is_in_the_key(cache, change):
    ac.attenuation_table_db(*ARGS)
    args = dict(lat_deg=LAT, lon_deg=LON, grid_deg=GRID, frequency_hz=11.7e9, availability_pct=99.5, dish_diameter_m=0.5)
    rename = {"grid": "grid_deg", "lat": "lat_deg"}
    args.update({rename.get(k, k): v for k, v in change.items()})
    got = ac.attenuation_table_db(**args)
    assert len(list(cache.glob("*.npz"))) == 2
    assert np.array_equal(got, ac.compute_table_db(**args))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "other_inputs"])
def test_damaged_file_recomputed_with_warning(cache, damage):
    fresh = ac.attenuation_table_db(*ARGS)
    (path,) = cache.glob("*.npz")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"not a numpy file")
    else:  # a file under this key written for other places (a collision or a hand edit)
        np.savez(path, table_db=fresh + 1.0, **ac._inputs(LAT + 1, LON, GRID, 11.7e9, 99.5, 0.5, {}))
    with pytest.warns(UserWarning, match="attenuation cache"):
        again = ac.attenuation_table_db(*ARGS)
    assert np.array_equal(again, fresh)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(ac.attenuation_table_db(*ARGS), fresh)  # rewritten: a clean hit now


def test_unwritable_folder_warns_and_computes(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("LEONET_CACHE_DIR", str(blocker / "sub"))
    with pytest.warns(UserWarning, match="could not write"):
        got = ac.attenuation_table_db(*ARGS)
    assert np.array_equal(got, reference())


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("LEONET_CACHE_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert ac.cache_dir() == tmp_path / "a"
    monkeypatch.delenv("LEONET_CACHE_DIR")
    assert ac.cache_dir() == tmp_path / "x" / "leonet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert str(ac.cache_dir()).endswith(".cache/leonet")
