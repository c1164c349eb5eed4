"""Fixes from an audit of the readers: a PNG whose image data expands past its header (a zip bomb),
the app's per-dish cache bounded in bytes, zero demand as "no figure" (NaN) rather than a made-up
share, the Hypatia export's ISL length when the grazing height forbids every ISL, and the realism
check's fallback to GeoIP places only where GeoNames has no city of the country."""

from __future__ import annotations

import math
import struct
import threading
import tracemalloc
import zlib
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from leonet.app.bytecache import ByteBudgetLRU
from leonet.app.dish_rows import DISH_CACHE_BYTES
from leonet.errors import InputError


# -- 1. a PNG obstruction map is inflated at most to its header's size ----------------------------------

def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png(width: int, height: int, raw: bytes) -> bytes:
    """A grey 8-bit PNG whose IDAT is ``raw`` (filter bytes included), compressed."""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b""))


def test_a_png_that_expands_past_its_header_is_refused_without_inflating_it(tmp_path):
    from leonet.ground.obstruction_map import read_obstruction_grid

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png(16, 16, bytes(64 << 20)))  # 64 MiB of zeros behind a 16 x 16 header
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="expands past the 272 bytes") as err:
            read_obstruction_grid(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(bomb) in str(err.value)
    assert peak < 8 << 20, f"inflating the bomb took {peak / 2**20:.0f} MiB"


def test_a_png_short_of_its_header_is_refused_and_an_exact_one_reads(tmp_path):
    from leonet.ground.obstruction_map import read_obstruction_grid

    short = tmp_path / "short.png"
    short.write_bytes(_png(16, 16, bytes(17 * 15)))
    with pytest.raises(InputError, match="too short") as err:
        read_obstruction_grid(short)
    assert str(short) in str(err.value)
    ok = tmp_path / "ok.png"
    ok.write_bytes(_png(16, 16, b"".join(b"\x00" + bytes([255]) * 16 for _ in range(16))))
    assert np.array_equal(read_obstruction_grid(ok), np.ones((16, 16)))


@pytest.mark.parametrize("make, words", [
    (lambda g: g.astype(str), "holds '<U"),                          # was a ValueError traceback
    (lambda g: np.zeros(g.shape, dtype=[("q", float)]), "holds \"[('q'"),  # was a TypeError traceback
    (lambda g: g.astype(complex), "holds 'complex128'"),              # was silently cut to its real part
    (lambda g: g.astype("M8[s]"), "holds 'datetime64[s]'"),
    (lambda g: g.astype(object), "holds Python objects"),
])
def test_an_npy_obstruction_map_of_anything_but_real_numbers_is_refused(tmp_path, make, words):
    from leonet.ground.obstruction_map import read_obstruction_grid

    path = tmp_path / "om.npy"
    np.save(path, make(np.ones((5, 5))), allow_pickle=True)
    with pytest.raises(InputError) as err:
        read_obstruction_grid(path)
    assert err.value.source == str(path) and words in err.value.message
    np.save(path, np.ones((5, 5), dtype=np.int8))
    assert np.array_equal(read_obstruction_grid(path), np.ones((5, 5)))


# -- 2. the app's per-dish cache is bounded in bytes ----------------------------------------------------

def _fake_run(n_sites: int, steps: int):
    """A RunData with one chunk of dish_steps in memory (no results folder behind it)."""
    from leonet.app.dish_rows import DishChunk
    from leonet.app.run import RunData

    site = np.repeat(np.arange(n_sites, dtype=np.int32), steps)
    t = np.tile(np.arange(steps, dtype=np.int64) * 1_000_000_000, n_sites)
    rows = len(site)
    table = pa.table({
        "t": pa.array(t, pa.timestamp("ns", tz="UTC")), "site": site,
        "state": pa.array(["CONNECTED"] * rows).dictionary_encode(),
        "rtt_ms": np.full(rows, 30.0), "serving_sat": np.zeros(rows, np.int32), "gateway": np.zeros(rows, np.int32),
        "pop": np.zeros(rows, np.int32), "slot_start": pa.array(t, pa.timestamp("ns", tz="UTC")),
        "isl_hops": np.ones(rows, np.int32), "hops": np.full(rows, 3, np.int32),
        "path": pa.array([[1000 + k, 2000 + k, 3000 + k] for k in range(rows)], pa.list_(pa.int32())),
        "path_changed": np.zeros(rows, bool), "rerouted_mid_slot": np.zeros(rows, bool),
    })
    chunk = DishChunk.from_table(table, n_sites)
    run = RunData.__new__(RunData)
    run.tables = {"dish_steps"}
    run.manifest = SimpleNamespace(chunks_total=1)
    run.uniform, run.start_ns, run.step_ns = True, 0, 1_000_000_000
    run._lock = threading.Lock()
    run._dish_cache = ByteBudgetLRU(DISH_CACHE_BYTES)
    run.__dict__["_dish_columns"] = table.column_names
    run.dish_chunk = lambda c, table="dish_steps": chunk
    return run


def test_the_dish_cache_evicts_the_least_recently_used_past_its_byte_budget():
    run = _fake_run(4, 500)
    one = run.dish_rows(0)
    assert len(one.step) == 500 and one.path[0] == [1000, 2000, 3000]
    # the path lists dominate (Python objects) and are counted, not only the arrays' buffers
    arrays = sum(v.nbytes for v in vars(one).values() if isinstance(v, np.ndarray))
    assert one.nbytes > arrays + 500 * 3 * 28
    run._dish_cache.budget_bytes = int(2.5 * one.nbytes)
    run.dish_rows(1)
    run.dish_rows(0)                       # used again: 1 is now the least recently used
    run.dish_rows(2)                       # over budget: 1 goes, not 0
    assert run._dish_cache.keys() == [0, 2]
    assert run._dish_cache.nbytes == sum(r.nbytes for r in run._dish_cache.values()) <= run._dish_cache.budget_bytes
    assert run.dish_rows(0) is one         # still cached
    run._dish_cache.budget_bytes = 1
    big = run.dish_rows(3)                 # alone over budget: kept (its caller holds it anyway), the rest go
    assert run._dish_cache.keys() == [3] and run._dish_cache.nbytes == big.nbytes


# -- 3. zero demand has no share served or unmet ----------------------------------------------------------

def _dish_frame(demand: list[float]) -> pd.DataFrame:
    """Two groups of one dish, two steps each: A wants ``demand[0]`` bps, B ``demand[1]``; each is
    served 1 Mbps."""
    rows = []
    for site, (group, want) in enumerate(zip("AB", demand)):
        for t in range(2):
            rows.append({"t": t * 1_000_000_000, "site": site, "group": group, "state": "CONNECTED", "rtt_ms": 30.0,
                         "gateway": 2, "pop": 3, "path_changed": False, "downlink_bps": 1e6, "uplink_bps": 1e5,
                         "demand_down_bps": want, "speedtest_down_bps": 1e6})
    return pd.DataFrame(rows)


def test_the_summary_has_no_demand_served_for_a_group_that_wanted_nothing():
    from leonet.results.summary import _dish_frame as summary_frame, _dish_service

    d = _dish_frame([0.0, 2e6]).drop(columns="group")
    cal = SimpleNamespace(weight_of=lambda t: np.ones(len(t)), step_s=1.0)
    d = summary_frame(d, np.array(["A", "B", "gw", "pop"], dtype=object), np.ones(4), cal)
    names = np.array(["a", "b", "gw", "pop"], dtype=object)
    per_dish, groups = _dish_service(d, ("CONNECTED",), names)
    served = groups.set_index("group")["demand_served"]
    assert math.isnan(served["A"]) and served["B"] == pytest.approx(0.5)
    assert math.isnan(per_dish.set_index("name").loc["a", "demand_served"])


def test_compare_has_no_unmet_share_for_a_group_that_wanted_nothing():
    from leonet.results.compare import _resilience

    d = _dish_frame([0.0, 2e6])
    d["w"] = d["wk"] = 1.0
    unmet = _resilience(d, 1.0)["unmet_down_share"]
    assert math.isnan(unmet["A"]) and unmet["B"] == pytest.approx(0.5)


def test_the_cli_prints_a_dash_for_a_share_of_no_demand():
    from leonet.cli_summary import pct

    assert pct(float("nan")) == "-" and pct(None) == "-" and pct(0.5) == "50%"


def test_planning_unmet_demand_of_no_demand_meets_no_target(monkeypatch):
    from leonet.planning import metrics
    from leonet.planning.targets import all_met, parse_target

    cols = {"site": np.zeros(3, np.int64), "n": np.ones(3), "state": np.array(["CONNECTED"] * 3, dtype=object),
            "rtt_ms": np.full(3, 30.0), "w": np.ones(3), "group": np.array(["A"] * 3, dtype=object),
            "down_bps": np.zeros(3), "demand_bps": np.zeros(3), "speedtest_bps": np.full(3, 100e6)}
    monkeypatch.setattr(metrics, "_dish_rows", lambda store, groups: (cols, True))
    from leonet.results.store import ResultStore

    store = ResultStore.__new__(ResultStore)
    got = metrics.region_metrics(store)
    assert math.isnan(got["unmet_demand"]) and got["availability"] == 1.0
    assert not all_met(parse_target("unmet_demand<=0.05"), got)
    assert all_met(parse_target("availability>=0.99"), got)
    cols["demand_bps"] = np.full(3, 2e6)
    assert metrics.region_metrics(store)["unmet_demand"] == pytest.approx(1.0)


# -- 4. Hypatia: ISLs the grazing height forbids are refused, not written as max_isl_length_m=0 ----------

def _hypatia_scenario(grazing_km: float, topology: str = "plus-grid") -> dict:
    return {
        "name": "hypatia-grazing",
        "constellation": {"shells": [{
            "name": "low-shell", "altitude_km": 550, "mean_motion_rev_per_day": 15.19, "eccentricity": 1e-7,
            "arg_perigee_deg": 0, "inclination_deg": 53, "planes": 4, "sats_per_plane": 4, "raan_spread_deg": 360,
            "phasing": "half-slot", "epoch": "2000-01-01T00:00:00Z"}]},
        "ground": {"sites": [{"name": "a", "kind": "station", "lat_deg": 10.0, "lon_deg": 20.0},
                             {"name": "b", "kind": "station", "lat_deg": 11.0, "lon_deg": 21.0}]},
        "time": {"start": "2000-01-01T00:00:00Z", "duration_s": 1, "step_s": 1},
        "network": {"isl": {"topology": topology, "grazing_height_km": grazing_km}, "all_station_pairs": True},
        "frames": {"earth_rotation": "utc"},
        "outputs": {"visibility_pairs": False},
    }


def test_hypatia_export_refuses_isls_below_the_grazing_height(tmp_path):
    import leonet
    from leonet.hypatia.export import export_hypatia

    model = leonet.build_model(leonet.scenario_from_dict(_hypatia_scenario(800.0)))
    with pytest.raises(InputError, match="below the ISL grazing height 800 km") as err:
        export_hypatia(model, tmp_path / "out")
    text = str(err.value)
    assert "'low-shell'" in text and "network.isl.grazing_height_km" in text and "max_isl_length_m" in text
    assert not (tmp_path / "out" / "description.txt").exists()
    # where the grazing height allows them, the length is written as before
    ok = leonet.build_model(leonet.scenario_from_dict(_hypatia_scenario(80.0)))
    export_hypatia(ok, tmp_path / "ok")
    text = (tmp_path / "ok" / "description.txt").read_text()
    assert 4.5e6 < float(text.split("max_isl_length_m=")[1]) < 5.1e6   # ~5,000 km at ~500 km up


# -- 5. realism: only "no GeoNames city in this country" falls back to GeoIP places ----------------------

def test_a_broken_city_table_is_not_hidden_by_the_geoip_fallback(monkeypatch):
    from datetime import date

    import leonet.ground.population as population
    from leonet.realism.calibrated import _dish_places

    def broken(countries, min_population, max_cities):
        raise InputError("damaged row", source="cities15000.csv.gz", location="line 7")

    monkeypatch.setattr(population, "cities_of", broken)
    with pytest.raises(InputError, match="damaged row"):
        _dish_places("UA", "fast", date(2023, 12, 27))


def test_a_country_without_geonames_cities_gets_its_geoip_places():
    from datetime import date

    from leonet.ground.home_pop import read_home_pop_table
    from leonet.ground.population import _cities
    from leonet.realism.calibrated import _dish_places

    with_cities = {c.country for c in _cities()[0]}
    table = read_home_pop_table()
    without = sorted({str(c) for c in table.country} - with_cities)
    if not without:
        pytest.skip("every GeoIP country has a GeoNames city")
    places, kind = _dish_places(without[0], "fast", date(2023, 12, 27))
    assert kind == "geoip places" and places and all(n == 1 for *_, n in places)
    places, kind = _dish_places("UA", "fast", date(2023, 12, 27))
    assert kind == "geonames cities"
