"""CSV and CZML exports of a results folder (leonet.results.csv_export, leonet.results.czml)."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pytest

import leonet
from leonet.errors import InputError
from leonet.results.csv_export import export_csv
from leonet.results.czml import STATE_RGBA, OTHER_STATE_RGBA, _online_links, export_czml
from leonet.results.czml_check import validate_czml
from leonet.results.dish_runs import DishRuns, Runs
from leonet.states import OUTAGE_STATES
from leonet.timeutil import utc_to_ns

# End to end: exports of real runs.
pytestmark = pytest.mark.slow

DURATION_S = 30
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _run(tmp_path_factory, name: str, positions: bool):
    scenario = leonet.load_scenario(
        "ukraine-gen1", overrides={"time.duration_s": DURATION_S, "outputs.positions": positions})
    out = tmp_path_factory.mktemp(name)
    result = leonet.run(scenario, out_dir=out)
    return out, result


@pytest.fixture(scope="module")
def with_positions(tmp_path_factory):
    return _run(tmp_path_factory, "with_positions", True)


@pytest.fixture(scope="module")
def without_positions(tmp_path_factory):
    return _run(tmp_path_factory, "without_positions", False)


@pytest.fixture(scope="module")
def csv_files(with_positions, tmp_path_factory):
    folder, _ = with_positions
    out = tmp_path_factory.mktemp("csv")
    files = export_csv(folder, out)
    return folder, {p.stem: p for p in files}


@pytest.fixture(scope="module")
def czml_doc(with_positions, tmp_path_factory):
    folder, _ = with_positions
    path = export_czml(folder, tmp_path_factory.mktemp("czml") / "run.czml")
    return folder, json.loads(path.read_text(encoding="utf-8"))


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _ns(text: str) -> int:
    return utc_to_ns(text)


def _parse_interval(text: str) -> tuple[int, int]:
    a, b = text.split("/")
    return _ns(a), _ns(b)


# -- CSV ------------------------------------------------------------------------------------------

def test_csv_one_file_per_table_with_parquet_row_counts(csv_files):
    folder, files = csv_files
    store = leonet.ResultStore(folder)
    expected = {"sites", "satellites", "site_steps", "visibility", "dish_steps", "network_steps", "positions"}
    assert expected <= set(files)
    assert "daily" in files  # the day-by-day table, derived from dish_steps (tests/test_uneven.py checks it)
    for name, path in files.items():
        assert path.exists() and path.suffix == ".csv"
        if name == "daily":
            continue
        with open(path, newline="", encoding="utf-8") as fh:
            n_rows = sum(1 for _ in csv.reader(fh)) - 1  # header once
        assert n_rows == store.read(name).num_rows, name


def test_csv_timestamps_iso_utc(csv_files):
    folder, files = csv_files
    rows = _read_csv(files["dish_steps"])
    table = leonet.ResultStore(folder).read("dish_steps")
    t_ns = table.column("t").cast(pa.int64()).to_numpy()
    for row, t in zip(rows[:200], t_ns[:200]):
        assert ISO_RE.match(row["t"]) and ISO_RE.match(row["slot_start"])
        assert _ns(row["t"]) == t
        datetime.fromisoformat(row["t"].replace("Z", "+00:00")).astimezone(timezone.utc)
    sats = _read_csv(files["satellites"])
    assert ISO_RE.match(sats[0]["epoch"])


def test_csv_path_round_trips_and_dictionary_is_text(csv_files):
    folder, files = csv_files
    table = leonet.ResultStore(folder).read("dish_steps").to_pydict()
    rows = _read_csv(files["dish_steps"])
    assert len(rows) == len(table["path"])
    for row, path, state in zip(rows, table["path"], [str(s) for s in table["state"]]):
        parsed = [int(x) for x in row["path"].split()] if row["path"] else []
        assert parsed == list(path)
        assert row["state"] == state
    assert {r["state"] for r in rows} <= {"CONNECTED", "NO_SATS", "NO_PATH", "OBSTRUCTED"}


def test_csv_name_columns(csv_files):
    folder, files = csv_files
    store = leonet.ResultStore(folder)
    site_names = store.read("sites").column("name").to_pylist()
    sat_names = store.read("satellites").column("name").to_pylist()

    def name_of(names, text):
        i = int(text)
        return names[i] if i >= 0 else ""

    rows = _read_csv(files["dish_steps"])
    for row in rows:
        assert row["site_name"] == name_of(site_names, row["site"])
        assert row["serving_sat_name"] == name_of(sat_names, row["serving_sat"])
        assert row["gateway_name"] == name_of(site_names, row["gateway"])
        assert row["pop_name"] == name_of(site_names, row["pop"])
        ids = [int(x) for x in row["path"].split()]
        assert row["path_names"] == " > ".join(sat_names[i] for i in ids)
    for row in _read_csv(files["site_steps"])[:500]:
        assert row["site_name"] == site_names[int(row["site"])]
        assert row["best_sat_name"] == name_of(sat_names, row["best_sat"])
    sites = _read_csv(files["sites"])
    assert [int(r["site"]) for r in sites] == list(range(len(site_names)))
    assert [r["name"] for r in sites] == site_names
    pos = _read_csv(files["positions"])
    assert all(r["sat_name"] == sat_names[int(r["sat"])] for r in pos[:1000])


def test_csv_selected_tables_and_max_rows(with_positions, tmp_path):
    folder, _ = with_positions
    files = export_csv(folder, tmp_path, tables=["dish_steps", "sites"], max_rows=7)
    assert [p.name for p in files] == ["dish_steps.csv", "sites.csv"]
    assert len(_read_csv(files[0])) == 7 and len(_read_csv(files[1])) == 7
    assert not (tmp_path / "positions.csv").exists()


def test_csv_bad_input(with_positions, tmp_path):
    folder, _ = with_positions
    with pytest.raises(InputError, match="not a leonet results folder") as err:
        export_csv(tmp_path, tmp_path / "out")
    assert str(tmp_path) in str(err.value)
    with pytest.raises(InputError, match="pair_steps") as err:
        export_csv(folder, tmp_path / "out", tables=["dish_steps", "pair_steps"])
    assert str(folder) in str(err.value)
    assert not (tmp_path / "out" / "dish_steps.csv").exists()  # nothing written before the check


SHELL = {"shells": [{"name": "sh", "altitude_km": 550, "inclination_deg": 53, "planes": 24, "sats_per_plane": 12}]}
START = "2022-03-01T12:00:00Z"


@pytest.fixture(scope="module")
def stations_only(tmp_path_factory):
    """Two ground stations and their pair, no dish: dish_steps is written, without a row."""
    sc = leonet.scenario_from_dict({
        "name": "stations", "constellation": SHELL,
        "ground": {"sites": [{"name": "Paris", "kind": "station", "lat_deg": 48.85, "lon_deg": 2.35},
                             {"name": "Berlin", "kind": "station", "lat_deg": 52.52, "lon_deg": 13.40}]},
        "network": {"isl": {"topology": "plus-grid"}, "pairs": [["Paris", "Berlin"]]},
        "time": {"start": START, "duration_s": 20, "step_s": 10}})
    out = tmp_path_factory.mktemp("stations") / "out"
    leonet.run(sc, out_dir=out)
    return out


def test_csv_of_a_run_without_dishes_has_no_daily_table(stations_only, tmp_path):
    assert leonet.ResultStore(stations_only).read("dish_steps").num_rows == 0
    files = export_csv(stations_only, tmp_path / "csv")
    assert "pair_steps.csv" in [p.name for p in files] and "daily.csv" not in [p.name for p in files]
    assert not (tmp_path / "csv" / "daily.csv").exists()  # not an empty (1-byte) file
    with pytest.raises(InputError, match="no dish steps") as err:
        export_csv(stations_only, tmp_path / "only", tables=["daily"])
    assert str(stations_only) in str(err.value)
    assert not (tmp_path / "only" / "daily.csv").exists()


# -- CZML -----------------------------------------------------------------------------------------

def _sat_packets(doc):
    return {p["id"]: p for p in doc if p["id"].startswith("sat-")}


def test_czml_document_packet_and_clock(czml_doc):
    folder, doc = czml_doc
    assert isinstance(doc, list) and doc[0]["id"] == "document" and doc[0]["version"] == "1.0"
    validate_czml(doc)
    manifest = leonet.ResultStore(folder).read_manifest()
    clock = doc[0]["clock"]
    start, end = _parse_interval(clock["interval"])
    assert start == manifest["start_ns"]
    # the run's end: the last step's instant + the time it stands for, as the dish intervals end
    assert end == manifest["start_ns"] + manifest["n_steps"] * manifest["step_ns"]
    assert _ns(clock["currentTime"]) == start and clock["multiplier"] >= 1
    assert len({p["id"] for p in doc}) == len(doc)
    assert "positions table" in doc[0]["name"]


def test_czml_satellite_positions_match_positions_table(czml_doc, with_positions):
    folder, doc = czml_doc
    model = with_positions[1].model
    store = leonet.ResultStore(folder)
    manifest = store.read_manifest()
    n_steps = manifest["n_steps"]
    sats = _sat_packets(doc)
    assert len(sats) == manifest["n_satellites"]
    pos = store.read("positions").to_pandas().sort_values(["sat", "t"])
    xyz = pos[["x_m", "y_m", "z_m"]].to_numpy().reshape(manifest["n_satellites"], n_steps, 3)
    end_ns = manifest["start_ns"] + n_steps * manifest["step_ns"]
    at_end = leonet.propagate(model.constellation, np.array([end_ns], dtype=np.int64)).ecef_m[0]  # (N, 3)
    for sid, packet in sats.items():
        position = packet["position"]
        assert position["referenceFrame"] == "FIXED" and _ns(position["epoch"]) == manifest["start_ns"]
        samples = np.asarray(position["cartesian"], dtype=float).reshape(-1, 4)
        # every step, then the run's end (no step: propagated), so the satellite lasts the last step
        assert len(samples) == n_steps + 1
        np.testing.assert_array_equal(samples[:, 0], np.arange(n_steps + 1) * manifest["step_ns"] / 1e9)
        np.testing.assert_allclose(samples[:-1, 1:], xyz[int(sid[4:])], rtol=0, atol=1e-3)
        np.testing.assert_allclose(samples[-1, 1:], at_end[int(sid[4:])], rtol=0, atol=1.0)
        assert _parse_interval(packet["availability"]) == (manifest["start_ns"], end_ns)
        assert packet["label"]["text"] == packet["name"] and "point" in packet


def test_czml_without_positions_table_propagates(without_positions, tmp_path):
    folder, result = without_positions
    every = 4
    doc = json.loads(export_czml(folder, tmp_path / "p.czml", every_n_steps=every).read_text())
    validate_czml(doc)
    assert "propagation" in doc[0]["name"]
    model = result.model
    steps = np.arange(0, len(model.t_ns), every)
    if steps[-1] != len(model.t_ns) - 1:
        steps = np.r_[steps, len(model.t_ns) - 1]
    end_ns = int(model.t_ns[-1]) + (int(model.t_ns[1]) - int(model.t_ns[0]))  # the last step's end
    truth = leonet.propagate(model.constellation, np.r_[model.t_ns[steps], end_ns]).ecef_m  # (T + 1, N, 3)
    sats = _sat_packets(doc)
    assert len(sats) == len(model.constellation)
    for sid, packet in sats.items():
        samples = np.asarray(packet["position"]["cartesian"], dtype=float).reshape(-1, 4)
        assert len(samples) == len(steps) + 1
        np.testing.assert_allclose(samples[:, 1:], truth[:, int(sid[4:])], rtol=0, atol=1.0)


@pytest.fixture(scope="module")
def varied_states(with_positions, tmp_path_factory):
    """A copy of the results whose dish states change every few steps, one state unknown. The
    rewritten chunks are recorded in the manifest again (rows, sha256), as a run records them."""
    import shutil

    import pyarrow.parquet as pq

    folder, _ = with_positions
    copy = tmp_path_factory.mktemp("varied") / "results"
    shutil.copytree(folder, copy)
    from leonet.results.store import parquet_record

    names = ["CONNECTED", "NO_SATS", "NO_PATH", "OBSTRUCTED", "NOT_A_STATE_YET"]
    store = leonet.ResultStore(copy)
    records = {}
    for part in sorted((copy / "dish_steps").glob("part-*.parquet")):
        table = pq.read_table(part)
        step = (table.column("t").cast(pa.int64()).to_numpy() - table.column("t").cast(pa.int64()).to_numpy().min())
        step //= 1_000_000_000
        site = table.column("site").to_numpy()
        code = ((step // 4 + site) % 5).astype(np.int8)
        code[site % 7 == 0] = 0  # some dishes never change
        state = pa.DictionaryArray.from_arrays(pa.array(code), pa.array(names))
        pq.write_table(table.set_column(table.schema.get_field_index("state"), "state", state), part)
        records[int(part.stem[5:])] = parquet_record(part.read_bytes())
    m = store.read_manifest()
    store.write_manifest(m.model_copy(update={"chunks": {**m.chunks, "dish_steps": records}}))
    return copy


def _check_dish_colours(folder, doc):
    store = leonet.ResultStore(folder)
    manifest = store.read_manifest()
    start, step = manifest["start_ns"], manifest["step_ns"]
    end = start + manifest["n_steps"] * step
    dish = store.read("dish_steps", columns=["t", "site", "state"]).to_pandas()
    packets = {p["id"]: p for p in doc}
    sites = store.read("sites").to_pydict()
    dish_sites = set(dish["site"].tolist())
    n_spans = 0
    for i, kind in enumerate(sites["kind"]):
        assert f"site-{i}" in packets
        colour = packets[f"site-{i}"]["point"]["color"]
        if i not in dish_sites:
            assert isinstance(colour, dict) and "rgba" in colour
            continue
        spans = [(*_parse_interval(c["interval"]), c["rgba"]) for c in colour]
        n_spans += len(spans)
        assert spans[0][0] == start and spans[-1][1] == end
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # contiguous
        assert all(a[2] != b[2] for a, b in zip(spans, spans[1:]))  # merged runs
    for t_ns, site, state in zip(dish["t"].astype("int64"), dish["site"], dish["state"].astype(str)):
        spans = [(*_parse_interval(c["interval"]), c["rgba"]) for c in packets[f"site-{site}"]["point"]["color"]]
        hit = [rgba for a, b, rgba in spans if a <= t_ns < b]
        assert hit == [STATE_RGBA.get(state, OTHER_STATE_RGBA)]
    return n_spans


def test_czml_dish_colours_cover_run_and_follow_states(czml_doc):
    folder, doc = czml_doc
    _check_dish_colours(folder, doc)


def test_czml_dish_colours_when_states_change(varied_states, tmp_path):
    doc = json.loads(export_czml(varied_states, tmp_path / "v.czml", max_satellites=200).read_text())
    validate_czml(doc)
    n_spans = _check_dish_colours(varied_states, doc)
    assert n_spans > 100
    colours = {tuple(c["rgba"]) for p in doc if p["id"].startswith("site-") and isinstance(p["point"]["color"], list)
               for c in p["point"]["color"]}
    used = ("CONNECTED", "NO_SATS", "NO_PATH", "OBSTRUCTED")  # and one state leonet.states does not know
    assert colours == {tuple(STATE_RGBA[s]) for s in used} | {tuple(OTHER_STATE_RGBA)}


def test_czml_links_reference_existing_entities_and_follow_serving(czml_doc):
    folder, doc = czml_doc
    store = leonet.ResultStore(folder)
    ids = {p["id"] for p in doc}
    links = [p for p in doc if p["id"].startswith("link-")]
    assert links
    dish = store.read("dish_steps", columns=["t", "site", "serving_sat", "state"]).to_pandas()
    dish["t_ns"] = dish["t"].astype("int64")
    dish["online"] = ~dish["state"].astype(str).isin(OUTAGE_STATES)
    for link in links:
        refs = link["polyline"]["positions"]["references"]
        assert len(refs) == 2 and all(r.endswith("#position") for r in refs)
        assert {r.split("#")[0] for r in refs} <= ids
        site = int(refs[0].split("#")[0][5:])
        sat = int(refs[1].split("#")[0][4:])
        a, b = _parse_interval(link["availability"])
        rows = dish[(dish.site == site) & (dish.t_ns >= a) & (dish.t_ns < b)]
        assert len(rows) and (rows.serving_sat == sat).all() and rows.online.all()
    # every step of an online dish with a serving satellite is drawn by exactly one link
    served = dish[(dish.serving_sat >= 0) & dish.online]
    covered = 0
    for link in links:
        site = int(link["polyline"]["positions"]["references"][0].split("#")[0][5:])
        a, b = _parse_interval(link["availability"])
        covered += int(((served.site == site) & (served.t_ns >= a) & (served.t_ns < b)).sum())
    assert covered == len(served)


def test_czml_max_satellites_keeps_serving_ones(with_positions, tmp_path):
    folder, _ = with_positions
    store = leonet.ResultStore(folder)
    serving = set(int(s) for s in store.read("dish_steps", columns=["serving_sat"]).column(0).to_pylist() if s >= 0)
    limit = len(serving) + 50
    doc = json.loads(export_czml(folder, tmp_path / "small.czml", max_satellites=limit, every_n_steps=10).read_text())
    validate_czml(doc)
    sats = {int(k[4:]) for k in _sat_packets(doc)}
    assert len(sats) == limit and serving <= sats
    n = store.read_manifest()["n_steps"]
    expected = len(range(0, n, 10)) + (0 if (n - 1) % 10 == 0 else 1) + 1  # and the run's end
    assert all(len(p["position"]["cartesian"]) == 4 * expected for p in _sat_packets(doc).values())
    # fewer slots than serving satellites: the most used are kept and links stay resolvable
    doc = json.loads(export_czml(folder, tmp_path / "tiny.czml", max_satellites=3).read_text())
    validate_czml(doc)
    assert len(_sat_packets(doc)) == 3


def test_czml_bad_input(with_positions, tmp_path):
    with pytest.raises(InputError, match="not a leonet results folder") as err:
        export_czml(tmp_path, tmp_path / "x.czml")
    assert str(tmp_path) in str(err.value)
    folder, _ = with_positions
    with pytest.raises(InputError, match="every_n_steps"):
        export_czml(folder, tmp_path / "x.czml", every_n_steps=0)
    assert not (tmp_path / "x.czml").exists()


def test_validate_czml_catches_broken_documents():
    doc = [{"id": "document", "version": "1.0", "clock": {"interval": "2022-03-01T12:00:00Z/2022-03-01T12:01:00Z"}},
           {"id": "link-0-0", "polyline": {"positions": {"references": ["site-0#position", "sat-1#position"]}}}]
    with pytest.raises(ValueError, match="unknown entities"):
        validate_czml(doc)
    with pytest.raises(ValueError, match="document"):
        validate_czml(doc[1:])


def _runs(rows) -> Runs:
    site, key, first, last = (np.array([r[k] for r in rows], dtype=np.int64).reshape(-1) for k in range(4))
    return Runs(site=site, key=key, first=first, last=last)


def test_czml_links_only_while_the_dish_is_online():
    """Serving runs cut to the dish's online states: an outage (bricked, jammed, no route...) or a
    state leonet does not know draws no link; CONNECTED then CONGESTED is one online stretch."""
    names = np.array(["CONNECTED", "OFFLINE", "CONGESTED", "NOT_A_STATE_YET", "?"], dtype=object)
    states = _runs([(0, 0, 0, 3), (0, 1, 4, 6), (0, 0, 7, 8), (0, 2, 9, 12),  # site 0: on, bricked, on, congested
                    (1, 1, 0, 12),                                           # site 1: bricked throughout
                    (2, 3, 0, 2), (2, 0, 3, 5), (2, -1, 6, 6), (2, 0, 7, 12)])  # unknown, on, missing, on
    links = _runs([(0, 7, 0, 10), (0, 8, 11, 12), (1, 7, 0, 12), (2, 9, 0, 12)])
    dish = DishRuns(states=states, links=links, state_names=names, serving_counts=np.zeros(10, dtype=np.int64))
    got = _online_links(dish)
    assert list(zip(got.site.tolist(), got.key.tolist(), got.first.tolist(), got.last.tolist())) == [
        (0, 7, 0, 3), (0, 7, 7, 10), (0, 8, 11, 12), (2, 9, 3, 5), (2, 9, 7, 12)]
    empty = _online_links(DishRuns(states=_runs([(0, 1, 0, 5)]), links=_runs([(0, 3, 0, 5)]), state_names=names,
                                   serving_counts=np.zeros(4, dtype=np.int64)))
    assert len(empty.site) == 0


@pytest.fixture(scope="module")
def bricked(tmp_path_factory):
    """Dish A online, dish B bricked from the start (its rows keep a serving satellite)."""
    sc = leonet.scenario_from_dict({
        "name": "bricked", "constellation": SHELL,
        "ground": {"builtin": [{"name": "starlink-gateways-2023", "regions": ["Europe"]},
                               {"name": "starlink-pops-2023", "regions": ["Europe"]}],
                   "sites": [{"name": "A", "kind": "dish", "lat_deg": 50.45, "lon_deg": 30.52, "group": "G"},
                             {"name": "B", "kind": "dish", "lat_deg": 50.50, "lon_deg": 30.60, "group": "G"}]},
        "time": {"start": START, "duration_s": 40, "step_s": 10},
        "events": [{"name": "brick", "type": "dish_bricking", "start_s": 0, "target": {"sites": ["B"]}}]})
    out = tmp_path_factory.mktemp("bricked") / "out"
    leonet.run(sc, out_dir=out)
    return out


def test_czml_bricked_dish_has_no_link_and_everything_ends_with_the_run(bricked, tmp_path):
    store = leonet.ResultStore(bricked)
    dish = store.read("dish_steps", columns=["site", "state", "serving_sat"]).to_pandas()
    names = store.read("sites", columns=["name"]).column("name").to_pylist()
    a, b = names.index("A"), names.index("B")
    b_rows = dish[dish.site == b]
    assert (b_rows.state.astype(str) == "OFFLINE").all() and (b_rows.serving_sat >= 0).any()
    doc = json.loads(export_czml(bricked, tmp_path / "b.czml", every_n_steps=1).read_text())
    validate_czml(doc)
    start, end = _ns(START), _ns(START) + 40 * 10**9  # the last step (12:00:30) stands for 10 s
    assert _parse_interval(doc[0]["clock"]["interval"]) == (start, end)
    links = [p for p in doc if p["id"].startswith("link-")]
    assert not [p for p in links if p["id"].startswith(f"link-{b}-")]  # OFFLINE: no serving link
    assert [_parse_interval(p["availability"]) for p in links if p["id"].startswith(f"link-{a}-")][-1][1] == end
    site_b = next(p for p in doc if p["id"] == f"site-{b}")
    assert [_parse_interval(c["interval"]) for c in site_b["point"]["color"]] == [(start, end)]
    serving = {int(s) for s in dish[dish.site == a].serving_sat}
    for sat in serving:
        packet = next(p for p in doc if p["id"] == f"sat-{sat}")
        assert _parse_interval(packet["availability"]) == (start, end)
        assert packet["point"]["pixelSize"] == 6  # a satellite that served an online dish
