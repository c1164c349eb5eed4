"""Export to Hypatia's satellite network state (leonet.hypatia.export).

A small case of Hypatia's Starlink study (72 x 22 shell, +Grid, range-only ground links): four of
Hypatia's top-100 cities, a station at the South Pole (no satellite ever in range), and a dish
(not a ground station) listed first, so that ground-station ids are not site indices. Steps of
10 s so that routes change between steps.

The forwarding state is checked against an oracle written here from scratch, the way satgenpy's
``algorithm_free_one_only_over_isls`` computes it: networkx shortest distances over the +Grid
(all ISLs up) to each destination station, a satellite's next hop is the neighbour (or the
station, if in range) that minimises link + remaining distance; a station's next hop is the
satellite in range that minimises range + its distance. Interface ids are derived from isls.txt
as read back from the file.
"""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest
from sgp4.api import Satrec

import leonet
from leonet.errors import InputError
from leonet.ground.builtin import hypatia_top100_cities
from leonet.network.isl import plus_grid_candidates
from leonet.hypatia.export import export_hypatia
from leonet.sim.step import compute_chunk
from leonet.space.hypatia_tles import read_hypatia_tles
from leonet.space.propagate import propagate_teme

CITIES = (0, 17, 73, 85)  # Tokyo, Manila, St Petersburg, Dalian (rows of Hypatia's top-100 list)
MAX_GSL_M = 1_089_686.0
MAX_ISL_KM = 5016.591
STEP_S, DURATION_S = 10, 40
N_SATS = 72 * 22


def _sites() -> list[dict]:
    top = hypatia_top100_cities()
    sites = [{"name": "a-dish", "kind": "dish", "lat_deg": 48.85, "lon_deg": 2.35}]
    for k in CITIES:
        sites.append({"name": str(top.name[k]), "kind": "station", "lat_deg": float(top.lat_deg[k]),
                      "lon_deg": float(top.lon_deg[k]), "elevation_m": 0.0})
    sites.append({"name": "South, Pole", "kind": "station", "lat_deg": -89.99, "lon_deg": 0.0})
    return sites


def scenario_dict(**changes) -> dict:
    data = {
        "name": "hypatia-export-test",
        "constellation": {"shells": [{
            "name": "starlink-550", "altitude_km": 550, "mean_motion_rev_per_day": 15.19,
            "eccentricity": 1e-7, "arg_perigee_deg": 0, "inclination_deg": 53, "planes": 72,
            "sats_per_plane": 22, "raan_spread_deg": 360, "phasing": "half-slot",
            "epoch": "2000-01-01T00:00:00Z",
        }]},
        "ground": {"sites": _sites()},
        "time": {"start": "2000-01-01T00:00:00Z", "duration_s": DURATION_S, "step_s": STEP_S},
        "visibility": {"min_elevation_deg": None, "max_range_m": MAX_GSL_M},
        "network": {"isl": {"topology": "plus-grid", "grazing_height_km": 80, "max_range_km": MAX_ISL_KM},
                    "all_station_pairs": True},
        "frames": {"earth_rotation": "utc"},  # Hypatia's convention, as the state is for Hypatia
        "outputs": {"visibility_pairs": False},
    }
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def model():
    return leonet.build_model(leonet.scenario_from_dict(scenario_dict()))


@pytest.fixture(scope="module")
def export(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("hypatia")
    calls = []
    summary = export_hypatia(model, out, progress=lambda done, total: calls.append((done, total)),
                             gsl_bandwidth=2.5, chunk_steps=3)
    return out, summary, calls


@pytest.fixture(scope="module")
def stations(model):
    return np.flatnonzero(np.asarray(model.sites.kind) == "station")


def read_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n")
    return text.splitlines()


def read_fstate(path: Path) -> dict[tuple[int, int], tuple[int, int, int]]:
    out = {}
    for line in read_lines(path):
        cur, dst, nxt, my, other = (int(x) for x in line.split(","))
        assert (cur, dst) not in out, f"{path.name}: entry {cur},{dst} twice"
        out[(cur, dst)] = (nxt, my, other)
    return out


def step_times(model) -> list[int]:
    return [int(t - model.t_ns[0]) for t in model.t_ns]


def full_states(export, model) -> list[dict]:
    """The complete state at every step: the first file, then each file applied on top."""
    out, summary, _ = export
    states, state = [], {}
    for t in step_times(model):
        state = {**state, **read_fstate(summary.dynamic_state_dir / f"fstate_{t}.txt")}
        states.append(state)
    return states


def isl_interfaces(path: Path) -> dict[tuple[int, int], int]:
    """(node, neighbour) -> interface id on node: ends numbered in isls.txt line order."""
    count: dict[int, int] = {}
    iface = {}
    for line in read_lines(path):
        a, b = (int(x) for x in line.split())
        for u, v in ((a, b), (b, a)):
            iface[(u, v)] = count.get(u, 0)
            count[u] = count.get(u, 0) + 1
    return iface


def oracle_state(model, out: Path, stations: np.ndarray, t_ns: int) -> dict:
    """satgenpy's algorithm_free_one_only_over_isls, from scratch (distances in metres)."""
    n, g = N_SATS, len(stations)
    iface = isl_interfaces(out / "isls.txt")
    n_isl = np.zeros(n, dtype=int)
    for (u, _v) in iface:
        n_isl[u] += 1
    pos = leonet.propagate(model.constellation, np.array([t_ns])).ecef_m[0]
    gs_pos = np.asarray(model.sites.ecef_m)[stations]
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for (u, v) in iface:
        if u < v:
            graph.add_edge(u, v, weight=float(np.linalg.norm(pos[u] - pos[v])))
    in_range = []  # per station: [(range, sat)]
    for k in range(g):
        rng = np.linalg.norm(pos - gs_pos[k], axis=1)
        in_range.append([(float(rng[s]), int(s)) for s in np.flatnonzero(rng <= MAX_GSL_M)])
    state = {}
    dist_to_gs = {}
    for dg in range(g):
        dst = n + dg
        # distance from every satellite to station dg: via the best satellite in its range
        sources = {s: r for r, s in in_range[dg]}
        dist = {}
        if sources:
            graph.add_node("virtual")
            for s, r in sources.items():
                graph.add_edge("virtual", s, weight=r)
            dist = nx.single_source_dijkstra_path_length(graph, "virtual")
            graph.remove_node("virtual")
        for v in range(n):
            dist_to_gs[(v, dg)] = dist.get(v, math.inf)
            if v not in dist:
                state[(v, dst)] = (-1, -1, -1)
                continue
            options = [(graph.edges[v, w]["weight"] + dist[w], w) for w in graph.neighbors(v) if w in dist]
            if v in sources:
                options.append((sources[v], dst))
            best = min(options)[1]
            if best == dst:
                state[(v, dst)] = (dst, int(n_isl[v]), 0)
            else:
                state[(v, dst)] = (best, iface[(v, best)], iface[(best, v)])
    for sg in range(g):
        for dg in range(g):
            if sg == dg:
                continue
            options = [(r + dist_to_gs[(s, dg)], s) for r, s in in_range[sg] if math.isfinite(dist_to_gs[(s, dg)])]
            if not options:
                state[(n + sg, n + dg)] = (-1, -1, -1)
            else:
                s = min(options)[1]
                state[(n + sg, n + dg)] = (s, 0, int(n_isl[s]))
    return state


# ------------------------------------------------------------------------------------------- files


def test_every_file_and_the_summary(export, model):
    out, summary, calls = export
    steps = len(model.t_ns)
    assert steps == DURATION_S // STEP_S
    assert summary.dynamic_state_dir == out / f"dynamic_state_{STEP_S * 1000}ms_for_{DURATION_S}s"
    for name in ("tles.txt", "isls.txt", "ground_stations.txt", "gsl_interfaces_info.txt", "description.txt"):
        assert (out / name).is_file(), name
    for t in step_times(model):
        assert (summary.dynamic_state_dir / f"fstate_{t}.txt").is_file()
        assert (summary.dynamic_state_dir / f"gsl_if_bandwidth_{t}.txt").is_file()
    assert sorted(p.name for p in summary.dynamic_state_dir.iterdir()) == sorted(
        [f"fstate_{t}.txt" for t in step_times(model)] + [f"gsl_if_bandwidth_{t}.txt" for t in step_times(model)])
    assert summary.files_written == 5 + 2 * steps
    assert summary.steps == steps and summary.step_ns == STEP_S * 10**9
    assert (summary.n_satellites, summary.n_stations, summary.n_isls) == (N_SATS, 5, 2 * N_SATS)
    assert summary.isl_drops == 0 and summary.warnings == ()
    assert calls == [(k + 1, steps) for k in range(steps)]
    written = sum(len(read_lines(summary.dynamic_state_dir / f"fstate_{t}.txt")) for t in step_times(model))
    assert summary.fstate_entries == written
    assert summary.seconds > 0 and summary.ms_per_step > 0


def test_description_and_gsl_interfaces(export):
    out, summary, _ = export
    assert read_lines(out / "description.txt") == [
        f"max_gsl_length_m={MAX_GSL_M:.10f}", f"max_isl_length_m={MAX_ISL_KM * 1e3:.10f}"]
    info = [line.split(",") for line in read_lines(out / "gsl_interfaces_info.txt")]
    assert len(info) == N_SATS + 5
    for k, (node, n_if, bw) in enumerate(info):
        assert int(node) == k and int(n_if) == 1 and float(bw) == 2.5


def test_gsl_if_bandwidth_files(export, model):
    out, summary, _ = export
    n_isl = np.zeros(N_SATS, dtype=int)
    for (u, _v) in isl_interfaces(out / "isls.txt"):
        n_isl[u] += 1
    times = step_times(model)
    rows = [line.split(",") for line in read_lines(summary.dynamic_state_dir / f"gsl_if_bandwidth_{times[0]}.txt")]
    assert len(rows) == N_SATS + 5
    for k, (node, iface, bw) in enumerate(rows):
        assert int(node) == k
        assert int(iface) == (n_isl[k] if k < N_SATS else 0)  # the GSL interface comes after the ISLs
        assert float(bw) == 2.5
    for t in times[1:]:  # bandwidth never changes: later files are empty, as satgenpy writes them
        assert read_lines(summary.dynamic_state_dir / f"gsl_if_bandwidth_{t}.txt") == []


def test_tles_parse_with_sgp4_and_match_the_constellation(export, model):
    out, _, _ = export
    lines = read_lines(out / "tles.txt")
    assert lines[0] == "72 22"
    assert len(lines) == 1 + 3 * N_SATS
    r_leonet, _ = propagate_teme(model.constellation, model.t_ns[:1])
    for i in range(N_SATS):
        name, l1, l2 = lines[1 + 3 * i: 4 + 3 * i]
        assert int(name.split()[1]) == i  # satgenpy's read_tles reads the id from the name line
        assert name.split()[0] == model.constellation.names[i]
        assert len(l1) == len(l2) == 69
        sat = Satrec.twoline2rv(l1, l2)
        assert sat.satnum == i + 1
        assert sat.jdsatepoch + sat.jdsatepochF == 2451544.5  # 2000-01-01T00:00:00Z, TLE "00001.00000000"
        err, r_km, _ = sat.sgp4(sat.jdsatepoch, sat.jdsatepochF)
        assert err == 0
        # Angles are written to 1e-4 deg: ~6 m at this radius.
        assert np.linalg.norm(np.array(r_km) * 1e3 - r_leonet[0, i]) < 20.0
    elements, plane, slot = read_hypatia_tles(out / "tles.txt")
    assert (plane == model.constellation.plane).all() and (slot == model.constellation.slot).all()


def test_isls_are_the_plus_grid(export, model):
    out, _, _ = export
    pairs = np.array([[int(x) for x in line.split()] for line in read_lines(out / "isls.txt")])
    expected = plus_grid_candidates(model.constellation)
    assert np.array_equal(pairs, expected)
    assert np.array_equal(pairs, model.network.isl_candidates)
    assert (pairs[:, 0] < pairs[:, 1]).all() and len({tuple(p) for p in pairs}) == len(pairs)


def test_ground_stations_are_the_station_sites(export, model, stations):
    out, _, _ = export
    rows = [line.split(",") for line in read_lines(out / "ground_stations.txt")]
    assert len(rows) == len(stations) == 5
    ecef = np.asarray(model.sites.ecef_m)
    for gid, (row, site) in enumerate(zip(rows, stations)):
        assert len(row) == 8
        assert int(row[0]) == gid
        assert row[1] == str(model.sites.name[site]).replace(",", ";")
        assert float(row[2]) == model.sites.lat_deg[site] and float(row[3]) == model.sites.lon_deg[site]
        assert float(row[4]) == model.sites.elevation_m[site]
        xyz = np.array([float(v) for v in row[5:]])
        assert np.linalg.norm(xyz - ecef[site]) < 1.0


# ---------------------------------------------------------------------------------- forwarding state


def test_first_fstate_is_complete_with_valid_interfaces(export, model):
    out, summary, _ = export
    n, g = N_SATS, 5
    first = read_fstate(summary.dynamic_state_dir / "fstate_0.txt")
    # satgenpy: every satellite to every station, every station to every other station.
    assert len(first) == n * g + g * (g - 1) == summary.fstate_entries_first
    expected_keys = {(v, n + d) for v in range(n) for d in range(g)}
    expected_keys |= {(n + s, n + d) for s in range(g) for d in range(g) if s != d}
    assert set(first) == expected_keys
    lines = read_lines(summary.dynamic_state_dir / "fstate_0.txt")
    assert [tuple(int(x) for x in line.split(",")[:2]) for line in lines] == (
        [(v, n + d) for v in range(n) for d in range(g)]
        + [(n + s, n + d) for s in range(g) for d in range(g) if s != d])  # satgenpy's order
    iface = isl_interfaces(out / "isls.txt")
    n_isl = np.zeros(n, dtype=int)
    for (u, _v) in iface:
        n_isl[u] += 1
    reachable = 0
    for (cur, dst), (nxt, my, other) in first.items():
        if nxt == -1:
            assert (my, other) == (-1, -1)  # ns-3: a drop only if all three are -1
            continue
        reachable += 1
        assert my >= 0 and other >= 0
        if cur < n and nxt < n:
            assert (my, other) == (iface[(cur, nxt)], iface[(nxt, cur)])
        elif cur < n:
            assert nxt == dst and (my, other) == (n_isl[cur], 0)
        else:
            assert nxt < n and (my, other) == (0, n_isl[nxt])
    assert reachable > 0.5 * len(first)
    south_pole = n + 4
    assert all(first[(v, south_pole)] == (-1, -1, -1) for v in range(n))
    assert all(first[(south_pole, n + d)] == (-1, -1, -1) for d in range(4))


def test_later_files_hold_only_changes(export, model):
    _, summary, _ = export
    times = step_times(model)
    state = read_fstate(summary.dynamic_state_dir / f"fstate_{times[0]}.txt")
    changed_somewhere = False
    for t in times[1:]:
        diff = read_fstate(summary.dynamic_state_dir / f"fstate_{t}.txt")
        for key, value in diff.items():
            assert key in state and state[key] != value
        changed_somewhere |= bool(diff)
        state.update(diff)
    assert changed_somewhere


def test_full_state_matches_satgenpy_oracle(export, model, stations):
    out, _, _ = export
    states = full_states(export, model)
    for state, t in zip(states, model.t_ns):
        oracle = oracle_state(model, out, stations, int(t))
        assert set(state) == set(oracle)
        bad = [(k, state[k], oracle[k]) for k in oracle if state[k] != oracle[k]]
        assert not bad, f"t={int(t - model.t_ns[0])}: {len(bad)} entries differ, e.g. {bad[:3]}"


def test_following_next_hops_gives_leonet_pair_paths(export, model, stations):
    n = N_SATS
    states = full_states(export, model)
    table = compute_chunk(model, model.t_ns)["pair_steps"]
    t = table.column("t").cast(pa.int64()).to_numpy()
    src = table.column("src").to_numpy()
    dst = table.column("dst").to_numpy()
    rtt = table.column("rtt_ms").to_numpy()
    paths = table.column("path").to_pylist()
    gid = {int(site): k for k, site in enumerate(stations)}
    step = {int(v): k for k, v in enumerate(model.t_ns)}
    assert len(t) == len(model.t_ns) * 5 * 4
    reachable = 0
    for k in range(len(t)):
        state = states[step[int(t[k])]]
        a, b = n + gid[int(src[k])], n + gid[int(dst[k])]
        walk, node = [], a
        while True:
            nxt = state[(node, b)][0]
            if nxt == -1:
                walk = None
                break
            if nxt == b:
                break
            assert nxt < n, "a path relays through a third ground station"
            assert len(walk) < n, "forwarding loop"
            walk.append(nxt)
            node = nxt
        if walk is None:
            assert not np.isfinite(rtt[k]) and paths[k] == []
        else:
            reachable += 1
            assert walk == paths[k], f"pair {a}->{b} at step {step[int(t[k])]}"
    assert reachable >= len(model.t_ns) * 4 * 3 // 2  # most pairs among the four cities connect


@pytest.mark.slow  # worker processes
def test_workers_write_the_same_files(export, model, tmp_path):
    out, summary, _ = export
    s2 = export_hypatia(model, tmp_path, gsl_bandwidth=2.5, chunk_steps=2, workers=2)
    assert s2.fstate_entries == summary.fstate_entries
    for path in sorted(out.rglob("*.txt")):
        rel = path.relative_to(out)
        assert (tmp_path / rel).read_bytes() == path.read_bytes(), rel


@pytest.mark.slow  # worker processes
def test_a_killed_export_worker_ends_the_export_with_a_message(tmp_path):
    """A worker killed mid-export (as test_first_hour kills a run's) ends `leonet export hypatia`
    with the runs' executor's message, not a hang or a traceback."""
    import os
    import signal
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil")
    out = tmp_path / "hyp"
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1] / "src") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-c", "import sys; from leonet.cli import main; sys.exit(main(sys.argv[1:]))",
           "export", "hypatia", "hypatia-starlink", str(out), "--duration", "600", "--step", "0.1", "-w", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.time() + 120
        workers = []
        while time.time() < deadline and proc.poll() is None:
            workers = [c for c in parent.children(recursive=True) if "resource_tracker" not in " ".join(c.cmdline())]
            if len(workers) >= 2 and any(out.glob("dynamic_state_*/fstate_*.txt")):
                break
            time.sleep(0.1)
        assert proc.poll() is None and workers, "the export ended before a worker could be killed"
        os.kill(workers[0].pid, signal.SIGKILL)
        killed = time.monotonic()
        _, stderr = proc.communicate(timeout=60)
        ended_s = time.monotonic() - killed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 2, stderr[-3000:]
    assert "worker process died" in stderr and "export stopped" in stderr and "Traceback" not in stderr, stderr[-3000:]
    assert ended_s < 20


# ------------------------------------------------------------------------------------------ errors


def test_no_ground_stations_is_a_clear_error(tmp_path):
    data = scenario_dict(ground={"sites": [{"name": "d", "kind": "dish", "lat_deg": 1, "lon_deg": 2}]})
    data["network"] = {"isl": {"topology": "plus-grid"}}
    model = leonet.build_model(leonet.scenario_from_dict(data))
    with pytest.raises(InputError, match="station"):
        export_hypatia(model, tmp_path)


def test_start_other_than_the_epoch_is_refused(tmp_path):
    data = scenario_dict(time={"start": "2000-01-01T00:00:10Z", "duration_s": 1, "step_s": 1})
    model = leonet.build_model(leonet.scenario_from_dict(data))
    with pytest.raises(InputError, match="epoch"):
        export_hypatia(model, tmp_path)


def test_bad_arguments(model, tmp_path):
    with pytest.raises(ValueError, match="gsl_bandwidth"):
        export_hypatia(model, tmp_path, gsl_bandwidth=0)
    with pytest.raises(ValueError, match="workers"):
        export_hypatia(model, tmp_path, workers=0)


def test_bad_bandwidths_and_output_folders_are_input_errors_before_any_work(model, tmp_path, monkeypatch):
    """--gsl-bandwidth 0, -1, nan, inf and an output that is a file or a folder of other files
    (a results folder) are one clear error (exit 2) before the scenario is even read; a previous
    export is replaced, and said."""
    from typer.testing import CliRunner

    import leonet.scenario as scenario_module
    from leonet.cli import app, main
    from leonet.hypatia.files import check_out_dir

    for bw in (0, -1, float("nan"), float("inf")):
        with pytest.raises(InputError, match="gsl_bandwidth"):
            export_hypatia(model, tmp_path / "x", gsl_bandwidth=bw)
    afile = tmp_path / "afile"
    afile.write_text("keep me\n")
    results = tmp_path / "results"
    results.mkdir()
    (results / "manifest.json").write_text("{}")

    def no_load(*args, **kwargs):
        raise AssertionError("the scenario was read before the arguments were checked")

    monkeypatch.setattr(scenario_module, "load_scenario", no_load)
    for bw in ("0", "nan", "-1", "inf"):
        assert main(["export", "hypatia", "hypatia-starlink", str(tmp_path / "y"), "--gsl-bandwidth", bw]) == 2
        assert not (tmp_path / "y").exists()
    for out, words in ((afile, "is not a folder"), (results, "inside the results folder"),
                       (results / "hyp", "inside the results folder")):
        with pytest.raises(InputError, match=words):
            CliRunner().invoke(app, ["export", "hypatia", "hypatia-starlink", str(out)], catch_exceptions=False)
    assert afile.read_text() == "keep me\n" and sorted(p.name for p in results.iterdir()) == ["manifest.json"]
    monkeypatch.undo()
    # a previous export may be replaced
    out = tmp_path / "hyp"
    export_hypatia(model, out)
    assert check_out_dir(out) is True
    export_hypatia(model, out)
    assert check_out_dir(tmp_path / "missing") is False


def test_an_export_on_ut1_warns_that_hypatia_turns_the_earth_on_utc(tmp_path, export):
    _, summary, _ = export
    assert not any("UT1" in w for w in summary.warnings)  # the UTC export: no warning
    data = scenario_dict(time={"start": "2000-01-01T00:00:00Z", "duration_s": 0.2, "step_s": 0.1})
    data.pop("frames")
    model = leonet.build_model(leonet.scenario_from_dict(data))
    out = export_hypatia(model, tmp_path / "ut1")
    assert any("UT1" in w and "earth_rotation: utc" in w for w in out.warnings)


def test_a_station_behind_its_obstruction_mask_has_no_ground_link(tmp_path):
    """The export's ground links are the simulation's (the sky stage's clear pairs): a station
    whose horizon mask hides the whole sky has no satellite, so no entry from it or toward it
    finds a next hop, while the same station without the mask has routes."""
    tokyo = _sites()[1]["name"]
    one_step = {"start": "2000-01-01T00:00:00Z", "duration_s": STEP_S, "step_s": STEP_S}
    wall = {"obstructions": [{"sites": [tokyo], "profile": [[0.0, 90.0]]}]}
    first = {}
    for name, ground in (("open", {}), ("walled", wall)):
        sc = leonet.scenario_from_dict(scenario_dict(time=one_step, ground={"sites": _sites(), **ground}))
        summary = export_hypatia(leonet.build_model(sc), tmp_path / name)
        first[name] = read_fstate(summary.dynamic_state_dir / "fstate_0.txt")
    node = N_SATS  # Tokyo is the first ground station
    for name, fstate in first.items():
        hops = [nxt for (cur, dst), (nxt, _, _) in fstate.items() if node in (cur, dst) and cur != dst]
        assert len(hops) == N_SATS + 2 * (len(CITIES) + 1 - 1)
        reached = sum(h >= 0 for h in hops)
        assert (reached == 0) if name == "walled" else (reached > N_SATS // 2), (name, reached)
