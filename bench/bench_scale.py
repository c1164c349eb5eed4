#!/usr/bin/env python
"""P2-P4, leonet at scale: capacity over Gen1, Gen2 with 100,000 dish cells, parallel speed-up.

Run from the repository root:

    .venv/bin/python bench/bench_scale.py                        # ~6-7 minutes on 2 cores
    .venv/bin/python bench/bench_scale.py --quick                # ~2 minutes
    .venv/bin/python bench/bench_scale.py --only p2 --p2-duration 3600 --p2-chunk-rows ''   # P2's full hour (~5.5 min)
    .venv/bin/python bench/bench_scale.py --only p3,p4 --json out.json

What it measures (single-threaded BLAS/OpenMP everywhere: the thread variables are set to 1 before
numpy is imported, here and in every child; CPU time is reported next to wall time because the
machine may be shared):

P2, capacity over Gen1 (the capacity issue). ``starlink-gen1`` (4,408 satellites), 10,000 dishes
(40 city discs of 250 in Europe and North America), every operational gateway of the 2023
community map (all regions) and its 23 PoPs, ``capacity.enabled: true``, 1 s steps. The run goes
through ``leonet.run(scenario, out_dir, workers=2)`` in a fresh child process; the parent samples
the whole process tree (RSS summed over the child and its workers, every 0.1 s) and reads the
child's CPU time and per-process peak RSS from ``wait4``. The default span is 10 minutes of
simulated time, extrapolated linearly to the hour (``--p2-duration 3600`` runs the hour itself).
A cProfile of ``compute_chunk`` on one core groups the step into propagation, visibility, routing,
capacity and tables, and tracemalloc measures how a worker's memory grows with the chunk length.

P3, Gen2 scale (the scale issue). ``starlink-gen2`` (29,988 satellites) and 100,000 dish cells at
random over latitudes -55..60 (area-uniform, seeded; a CSV site file), every operational gateway
and PoP, 15 s steps starting on a slot boundary (2025-03-01T00:00:12Z), the scale mode
``visibility.nearest_k: 8``, routing on, capacity off (then on, with the ITU-R atmosphere off so
that the model builds in seconds: the per-step work is the same). ``compute_chunk`` is timed over
10 steps after 2 warm-up steps in a fresh child per configuration (so peak RSS is that
configuration's). A table shows how the step grows with satellites {1,584, 4,408, 29,988} x dishes
{10,000, 100,000}, and all-pairs visibility (``nearest_k`` off) is run on two sizes as the in-run
baseline: the ratio all-pairs / nearest-8 is why the scale mode exists. The serving satellites of
both modes are compared on the same steps.

P4, speed-up. ``ukraine-gen1`` over one hour at 1 s (3,600 steps, 60 chunks of 60), run with 1, 2
and 4 local worker processes and with a Dask LocalCluster of 2 processes. Speed-up is the 1-worker
wall time over each run's wall time, measured in the same benchmark run. Every Parquet file of
every run is compared byte for byte with the 1-worker run's.

Performance is stated as ratios against baselines measured in the same run, and against the
issues' targets as plain comparisons; nothing here asserts a time. The exit status is non-zero
only if a run fails or the P4 byte-identity check fails.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime as _dt  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

try:
    import psutil
except ImportError:  # the tree sampler is skipped; wait4's per-process peaks remain
    psutil = None

HERE = Path(__file__).resolve()
REPO = HERE.parent.parent
START_P3 = "2025-03-01T00:00:12Z"  # a slot boundary (slots start at UTC seconds 12, 27, 42, 57)
START_P2 = "2025-03-01T00:00:00Z"
HOUR_S = 3600.0

#: P2's dish sites: 40 city discs of 250 dishes (radius 30 km), 20 in Europe, 20 in North America.
#: Public city-centre coordinates rounded to 1e-4 deg.
P2_CITIES = [
    ("London", 51.5074, -0.1278), ("Paris", 48.8566, 2.3522), ("Berlin", 52.5200, 13.4050),
    ("Madrid", 40.4168, -3.7038), ("Rome", 41.9028, 12.4964), ("Warsaw", 52.2297, 21.0122),
    ("Vienna", 48.2082, 16.3738), ("Amsterdam", 52.3676, 4.9041), ("Brussels", 50.8503, 4.3517),
    ("Stockholm", 59.3293, 18.0686), ("Oslo", 59.9139, 10.7522), ("Dublin", 53.3498, -6.2603),
    ("Lisbon", 38.7223, -9.1393), ("Prague", 50.0755, 14.4378), ("Budapest", 47.4979, 19.0402),
    ("Milan", 45.4642, 9.1900), ("Munich", 48.1351, 11.5820), ("Kyiv", 50.4501, 30.5234),
    ("Bucharest", 44.4268, 26.1025), ("Athens", 37.9838, 23.7275),
    ("NewYork", 40.7128, -74.0060), ("LosAngeles", 34.0522, -118.2437), ("Chicago", 41.8781, -87.6298),
    ("Houston", 29.7604, -95.3698), ("Phoenix", 33.4484, -112.0740), ("Philadelphia", 39.9526, -75.1652),
    ("Dallas", 32.7767, -96.7970), ("Seattle", 47.6062, -122.3321), ("Denver", 39.7392, -104.9903),
    ("Atlanta", 33.7490, -84.3880), ("Miami", 25.7617, -80.1918), ("Boston", 42.3601, -71.0589),
    ("Toronto", 43.6532, -79.3832), ("Montreal", 45.5017, -73.5673), ("Vancouver", 49.2827, -123.1207),
    ("Minneapolis", 44.9778, -93.2650), ("KansasCity", 39.0997, -94.5786), ("SaltLakeCity", 40.7608, -111.8910),
    ("StLouis", 38.6270, -90.1994), ("Nashville", 36.1627, -86.7816),
]

GROUND_ALL = [{"name": "starlink-gateways-2023"}, {"name": "starlink-pops-2023"}]  # all regions, operational


# ================================================================================================
# Scenarios (plain dicts: they travel to the child processes as JSON)
# ================================================================================================

#: P2 with the service model (``--p2-service``): the standard kit, on/off traffic, the background of
#: the date and cell limits, as in the realism check (issue 11's "the richer model must stay fast").
#: The background is Starlink's last announced total in leonet's table (4 M, 2024-09-15): P2 starts
#: in March 2025, after it, and leonet does not extrapolate announcements.
P2_SERVICE = {"enabled": True, "kit": "standard", "background": {"enabled": True, "as_of": "2024-09-15"},
              "admission": {"enabled": True}}
P2_WITH_SERVICE = False


def p2_scenario(duration_s: float, chunk_steps: int = 60) -> dict:
    extra = {"service": P2_SERVICE} if P2_WITH_SERVICE else {}
    return {"dict": {**extra,
        "name": "bench-p2-gen1-capacity",
        "constellation": "starlink-gen1",
        "ground": {
            "builtin": GROUND_ALL,
            "dish_groups": [{"name": n, "lat_deg": la, "lon_deg": lo, "count": 250, "radius_km": 30, "seed": k + 1}
                            for k, (n, la, lo) in enumerate(P2_CITIES)],
        },
        "time": {"start": START_P2, "duration_s": duration_s, "step_s": 1},
        "capacity": {"enabled": True},
        "outputs": {"visibility_pairs": False, "chunk_steps": chunk_steps},
    }}


def p3_scenario(constellation: str, csv_path: str, nearest_k: int | None, steps: int, capacity: bool = False,
                atmosphere: bool = False) -> dict:
    cap = {"enabled": True, "atmosphere": atmosphere} if capacity else {"enabled": False}
    return {"dict": {
        "name": "bench-p3",
        "constellation": constellation,
        "ground": {"builtin": GROUND_ALL, "site_files": [{"path": csv_path, "kind": "dish"}]},
        "time": {"start": START_P3, "duration_s": 15.0 * steps, "step_s": 15},
        "visibility": {"min_elevation_deg": 25, "nearest_k": nearest_k},
        "capacity": cap,
        "outputs": {"visibility_pairs": False},
    }}


def p4_scenario(duration_s: float) -> dict:
    return {"preset": "ukraine-gen1", "overrides": {"time.duration_s": duration_s, "outputs.chunk_steps": 60}}


def write_cells_csv(path: Path, n: int, seed: int = 2025) -> None:
    """``n`` dish cells at random over latitudes -55..60 (uniform in area), any longitude."""
    rng = np.random.default_rng(seed)
    s0, s1 = np.sin(np.deg2rad(-55.0)), np.sin(np.deg2rad(60.0))
    lat = np.rad2deg(np.arcsin(rng.uniform(s0, s1, n)))
    lon = rng.uniform(-180.0, 180.0, n)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("name,lat_deg,lon_deg,kind\n")
        fh.writelines(f"cell{k},{lat[k]:.5f},{lon[k]:.5f},dish\n" for k in range(n))


# ================================================================================================
# Child side: one measurement per fresh process
# ================================================================================================

def _make_scenario(spec: dict):
    from leonet.scenario import load_scenario, scenario_from_dict

    if "preset" in spec:
        return load_scenario(spec["preset"], overrides=spec.get("overrides"))
    return scenario_from_dict(spec["dict"], source=f"bench {spec['dict']['name']}", base_dir=str(REPO))


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _maxrss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: kB


def child_run(spec: dict) -> dict:
    """leonet.run on ``spec['scenario']``; times the main process's own parts by wrapping them."""
    import leonet
    import leonet.sim.runner as runner
    from leonet.results.store import ResultStore

    import pyarrow as pa
    try:
        pa.set_cpu_count(1)
        pa.set_io_thread_count(1)
    except Exception:  # pragma: no cover
        pass
    parts = {"build_s": 0.0, "write_s": 0.0, "first_chunk_s": None}
    t_start = time.perf_counter()
    real_build, real_write = runner.build_model, ResultStore.write_chunk_bytes

    def build(scenario, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return real_build(scenario, *args, **kwargs)
        finally:
            parts["build_s"] += time.perf_counter() - t0

    def write(self, chunk, data):
        if parts["first_chunk_s"] is None:  # first chunk back: start-up + one chunk
            parts["first_chunk_s"] = time.perf_counter() - t_start
        t0 = time.perf_counter()
        try:
            return real_write(self, chunk, data)
        finally:
            parts["write_s"] += time.perf_counter() - t0

    runner.build_model, ResultStore.write_chunk_bytes = build, write
    if hasattr(ResultStore, "record_chunk"):  # workers that write their own files: the main process only records
        real_record = ResultStore.record_chunk

        def record(self, chunk, records):
            if parts["first_chunk_s"] is None:
                parts["first_chunk_s"] = time.perf_counter() - t_start
            return real_record(self, chunk, records)

        ResultStore.record_chunk = record
    if "local_cluster_config" in spec:  # bench_scaleout: Dask's own defaults vs leonet's settings
        import leonet.sim.daskrun as daskrun

        daskrun.LOCAL_CLUSTER_CONFIG = spec["local_cluster_config"]
    scenario = _make_scenario(spec["scenario"])
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    t_start = t0
    result = leonet.run(scenario, out_dir=spec["out_dir"], workers=spec["workers"], dask=spec.get("dask"),
                        overwrite=True)
    wall = time.perf_counter() - t0
    cpu_self = time.process_time() - c0
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {
        "wall_s": wall, "cpu_self_s": cpu_self, "cpu_children_s": ch.ru_utime + ch.ru_stime,
        "maxrss_self_mb": _maxrss_mb(), "maxrss_children_mb": ch.ru_maxrss / 1024,
        "n_steps": len(result.model.t_ns), "chunks": result.chunks_total, "computed": result.chunks_computed,
        "n_sats": len(result.model.constellation), "n_sites": len(result.model.sites),
        "n_dishes": int((np.asarray(result.model.sites.kind) == "dish").sum()),
        **parts,
    }
    if spec.get("dask") == "local":  # what a LocalCluster costs to start and stop, alone (after the run)
        from dask.distributed import Client, LocalCluster

        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=spec["workers"], threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
        client.wait_for_workers(spec["workers"])
        t1 = time.perf_counter()
        client.close()
        cluster.close()
        out["dask_cluster_start_s"], out["dask_cluster_stop_s"] = t1 - t0, time.perf_counter() - t1
    return out


def child_steps(spec: dict) -> dict:
    """Build the model, warm up, then time compute_chunk over ``steps`` steps in chunks."""
    from leonet.sim.model import build_model
    from leonet.sim.step import compute_chunk
    from leonet.space.propagate import propagate

    scenario = _make_scenario(spec["scenario"])
    warm, steps, chunk = spec["warmup"], spec["steps"], spec["chunk"]
    rss0 = _rss_mb()
    c0, t0 = time.process_time(), time.perf_counter()
    model = build_model(scenario)
    model.visibility  # the k-d tree of sites: part of the build
    build_s, build_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    rss_build = _rss_mb()
    t_ns = model.t_ns
    if len(t_ns) < warm + steps:
        raise SystemExit(f"only {len(t_ns)} steps")
    t0 = time.perf_counter()
    compute_chunk(model, t_ns[:warm])
    warm_s = time.perf_counter() - t0
    walls, cpus, keep = [], [], {}
    for i in range(warm, warm + steps, chunk):
        times = t_ns[i: min(i + chunk, warm + steps)]
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        tables = compute_chunk(model, times, prev_t_ns=int(t_ns[i - 1]))
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        walls.append(dt / len(times))
        cpus.append(dc / len(times))
        if spec.get("save") and i == warm and "dish_steps" in tables:
            ds = tables["dish_steps"]
            ss = tables["site_steps"]
            best_el = ss.column("best_elevation_deg").to_numpy(zero_copy_only=False).reshape(len(times), -1)
            keep = {"serving_sat": ds.column("serving_sat").to_numpy(),
                    "rtt_ms": ds.column("rtt_ms").to_numpy(zero_copy_only=False),
                    "state": ds.column("state").combine_chunks().indices.to_numpy(),
                    "best_elevation_deg": best_el[:, model.network.dish_sites].reshape(-1)}
        del tables
    if keep:
        np.savez(spec["save"], **keep)
    # Size of the problem: dish-satellite pairs in view at the first timed step (outside timing).
    pos = propagate(model.constellation, t_ns[warm: warm + 1])
    vis = model.visibility.query(pos.ecef_m[0])
    is_dish = np.asarray(model.sites.kind) == "dish"
    dish_pairs = int(is_dish[vis.site].sum())
    return {
        "n_sats": len(model.constellation), "n_sites": len(model.sites), "n_dishes": int(is_dish.sum()),
        "dish_pairs": dish_pairs, "all_pairs": len(vis), "build_s": build_s, "build_cpu_s": build_cpu_s,
        "warmup_s": warm_s, "rss_start_mb": rss0, "rss_after_build_mb": rss_build,
        "ms_per_step": [w * 1e3 for w in walls], "cpu_ms_per_step": [c * 1e3 for c in cpus],
        "maxrss_mb": _maxrss_mb(), "steps": steps, "chunk": chunk,
    }


# -- profile grouping -------------------------------------------------------------------------

def _fn(stats, file_suffix: str, name: str):
    """The pstats key of leonet function ``name`` in a file ending with ``file_suffix``."""
    for key in stats.stats:
        if key[2] == name and key[0].replace("\\", "/").endswith(file_suffix):
            return key
    return None


def _ct(stats, file_suffix: str, name: str) -> float:
    key = _fn(stats, file_suffix, name)
    return stats.stats[key][3] if key else 0.0


def _tt(stats, file_suffix: str, name: str) -> float:
    key = _fn(stats, file_suffix, name)
    return stats.stats[key][2] if key else 0.0


def _edge_ct(stats, callee: tuple, caller: tuple) -> float:
    """Cumulative time of ``callee`` when called from ``caller`` (pstats' caller table)."""
    ck, ek = _fn(stats, *callee), _fn(stats, *caller)
    if ck is None or ek is None:
        return 0.0
    entry = stats.stats[ck][4].get(ek)
    return entry[3] if entry else 0.0


def group_profile(stats) -> tuple[dict, dict]:
    """Split compute_chunk's profiled time into disjoint stages (seconds) and some sub-items.

    - propagation: ``space.propagate.propagate`` (SGP4 + TEME -> ECEF);
    - visibility: ``VisibilityIndex.query`` + ``VisiblePairs.clear`` (k-d trees, look angles);
    - capacity: the allocation stage (``sim.stages.allocation.allocate``: link budget, the flows x
      links matrix, max-min, loads);
    - tables: the service stage (``serve``: states, RTT, terrestrial), the tables stage (rows,
      path changes, building the Arrow tables) and compute_chunk's own lines;
    - routing: ``sim.step.step_at`` minus capacity, service and the visibility queries made inside
      it (slot assignment, ISLs, the snapshot graph, Dijkstra toward the PoPs, paths, held-path delay);
    - other: the rest (the chunk's set-up, slot arithmetic).
    """
    total = _ct(stats, "sim/step.py", "compute_chunk")
    vis = _ct(stats, "network/visibility.py", "query") + _ct(stats, "network/visibility.py", "clear")
    cap = _ct(stats, "sim/stages/allocation.py", "allocate")
    service = _ct(stats, "sim/stages/service.py", "serve")
    routing = max(_ct(stats, "sim/step.py", "step_at") - cap - service - vis, 0.0)
    prop = _ct(stats, "space/propagate.py", "propagate")
    tables = (service + _ct(stats, "sim/stages/tables.py", "add") + _ct(stats, "sim/stages/tables.py", "tables")
              + _ct(stats, "sim/stages/tables.py", "update") + _tt(stats, "sim/step.py", "compute_chunk"))
    groups = {"propagation": prop, "visibility": vis, "routing (network)": routing,
              "capacity (max-min + link budget)": cap, "tables": tables}
    groups["other"] = max(total - sum(groups.values()), 0.0)
    sub = {
        "routing: route_to_internet (graph + Dijkstra to PoPs)": _ct(stats, "network/routing.py", "route_to_internet"),
        "routing: active_isls (laser line of sight)": _ct(stats, "network/isl.py", "active_isls"),
        "routing: held_path_delay (held slot paths at t)": _ct(stats, "sim/stages/routes.py", "held_path_delay"),
        "routing: satellite_paths (walk next hops)": _ct(stats, "network/routing.py", "satellite_paths"),
        "routing: _subset_pairs": _ct(stats, "sim/instants.py", "subset_pairs"),
        "capacity: link_efficiency (link budget, MODCOD)": _ct(stats, "capacity/model.py", "link_efficiency"),
        "capacity: _unique_links (one int64 key)": _ct(stats, "capacity/model.py", "_unique_links"),
        "capacity: max_min_fair": _ct(stats, "capacity/maxmin.py", "max_min_fair"),
        "capacity: allocate_direction (all)": _ct(stats, "capacity/model.py", "allocate_direction"),
    }
    return groups, {k: v for k, v in sub.items() if v > 0}


def child_profile(spec: dict) -> dict:
    """cProfile compute_chunk on some steps (one core); the same steps unprofiled for reference;
    Parquet encoding of the chunk; and (optionally) tracemalloc peaks for two chunk lengths."""
    import cProfile
    import io
    import pstats
    import tracemalloc

    from leonet.sim.executors import table_to_parquet_bytes
    from leonet.sim.model import build_model
    from leonet.sim.step import compute_chunk

    import pyarrow as pa
    try:
        pa.set_cpu_count(1)
        pa.set_io_thread_count(1)
    except Exception:  # pragma: no cover
        pass
    scenario = _make_scenario(spec["scenario"])
    model = build_model(scenario)
    model.visibility
    t_ns = model.t_ns
    warm, a, b = spec["warmup"], spec["warmup"], spec["warmup"] + spec["steps"]
    compute_chunk(model, t_ns[:warm])
    out: dict = {}
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    tables = compute_chunk(model, t_ns[a:b], int(t_ns[a - 1]))
    out["plain_cpu_ms_per_step"] = (time.process_time() - c0) / (b - a) * 1e3
    out["plain_ms_per_step"] = (time.perf_counter() - t0) / (b - a) * 1e3
    c0 = time.process_time()
    sizes = {name: len(table_to_parquet_bytes(t)) for name, t in tables.items()}
    out["parquet_cpu_ms_per_step"] = (time.process_time() - c0) / (b - a) * 1e3
    out["parquet_bytes_per_step"] = sum(sizes.values()) / (b - a)
    out["arrow_bytes_per_step"] = sum(t.nbytes for t in tables.values()) / (b - a)
    del tables
    gc.collect()
    prof = cProfile.Profile(time.process_time)  # CPU time: waiting for a core does not count
    prof.enable()
    compute_chunk(model, t_ns[a:b], int(t_ns[a - 1]))
    prof.disable()
    stats = pstats.Stats(prof)
    groups, sub = group_profile(stats)
    n = b - a
    out["profiled_cpu_ms_per_step"] = _ct(stats, "sim/step.py", "compute_chunk") / n * 1e3
    out["groups_ms_per_step"] = {k: v / n * 1e3 for k, v in groups.items()}
    out["sub_ms_per_step"] = {k: v / n * 1e3 for k, v in sub.items()}
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(spec.get("top", 15))
    lines = [line for line in buf.getvalue().splitlines() if line.strip()]
    head = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    out["top_text"] = "\n".join(lines[head:])
    # Memory per step held inside one compute_chunk call (tracemalloc sees numpy's buffers).
    for k in spec.get("mem_chunks", []):
        gc.collect()
        tracemalloc.start()
        tables = compute_chunk(model, t_ns[warm: warm + k], int(t_ns[warm - 1]))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out.setdefault("traced_peak_mb", {})[str(k)] = peak / 2**20
        out.setdefault("tables_mb", {})[str(k)] = sum(t.nbytes for t in tables.values()) / 2**20
        del tables
    # _unique_links: what the same unique costs through a 1-D int64 key (the suggested fix),
    # on the capacity model's own largest input (serving satellite, cell) of the last step.
    if spec.get("unique_check") and scenario.capacity.enabled:
        out["unique_check"] = _unique_check(model, t_ns[b - 1])
    out["maxrss_mb"] = _maxrss_mb()
    return out


def _unique_check(model, t: int) -> dict:
    from leonet.sim.step import compute_chunk

    ds = compute_chunk(model, np.array([t], dtype=np.int64))["dish_steps"]
    serving = ds.column("serving_sat").to_numpy().astype(np.int64)
    ok = serving >= 0
    a = serving[ok]
    b = np.asarray(model.capacity.dish_cell)[ok].astype(np.int64)
    reps = 20
    c0 = time.process_time()
    for _ in range(reps):
        u1, inv1 = np.unique(np.c_[a, b], axis=0, return_inverse=True)
    t_axis = (time.process_time() - c0) / reps
    c0 = time.process_time()
    for _ in range(reps):
        width = int(b.max()) + 2
        key = a * width + (b + 1)
        uk, inv2 = np.unique(key, return_inverse=True)
        u2 = np.c_[uk // width, uk % width - 1]
    t_key = (time.process_time() - c0) / reps
    same = bool(np.array_equal(u1, u2) and np.array_equal(inv1.reshape(-1), inv2.reshape(-1)))
    return {"rows": int(len(a)), "axis0_ms": t_axis * 1e3, "key1d_ms": t_key * 1e3, "identical": same}


def child_main(spec_path: str, out_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    fn = {"run": child_run, "steps": child_steps, "profile": child_profile}[spec["task"]]
    out = fn(spec)
    Path(out_path).write_text(json.dumps(out, default=float))
    return 0


# ================================================================================================
# Parent side: start a child, watch its process tree, collect its figures
# ================================================================================================

class TreeSampler(threading.Thread):
    """Samples the RSS of a process and all its descendants every ``interval`` s (psutil)."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_sum_mb = 0.0
        self.peak_procs = 0
        self.per_pid_peak_mb: dict[int, float] = {}
        self.cpu_last: dict[int, float] = {}
        self.peak_pss_mb = 0.0  # proportional set size: shared pages split between the processes
        self.stop = threading.Event()

    def run(self):
        if psutil is None:
            return
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        tick = 0
        while not self.stop.is_set():
            try:
                procs = [root] + root.children(recursive=True)
            except psutil.Error:
                break
            if tick % 5 == 0:  # PSS reads /proc/<pid>/smaps_rollup: every 0.5 s
                pss = 0.0
                for p in procs:
                    try:
                        pss += getattr(p.memory_full_info(), "pss", 0) / 2**20
                    except psutil.Error:
                        continue
                self.peak_pss_mb = max(self.peak_pss_mb, pss)
            tick += 1
            total = 0.0
            for p in procs:
                try:
                    rss = p.memory_info().rss / 2**20
                    cpu = p.cpu_times()
                except psutil.Error:
                    continue
                total += rss
                self.per_pid_peak_mb[p.pid] = max(self.per_pid_peak_mb.get(p.pid, 0.0), rss)
                self.cpu_last[p.pid] = cpu.user + cpu.system
            if total > self.peak_sum_mb:
                self.peak_sum_mb, self.peak_procs = total, len(procs)
            self.stop.wait(self.interval)


def run_child(spec: dict, workdir: Path, label: str, timeout_s: float | None = None) -> dict:
    """Run ``spec`` in a fresh ``python bench_scale.py --_child``; return its figures plus the
    parent's view: wall time of the whole child, CPU time and per-process peak RSS from wait4
    (the child and every descendant it reaped), and the peak of the tree's summed RSS."""
    workdir.mkdir(parents=True, exist_ok=True)
    tag = f"{label}-{time.monotonic_ns()}"
    spec_path, out_path, log_path = workdir / f"{tag}.spec.json", workdir / f"{tag}.out.json", workdir / f"{tag}.log"
    spec_path.write_text(json.dumps(spec))
    t0 = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, str(HERE), "--_child", str(spec_path), str(out_path)],
                                stdout=log, stderr=subprocess.STDOUT, cwd=str(REPO))
        sampler = TreeSampler(proc.pid)
        sampler.start()
        status, ru = None, None
        while True:
            pid, st, r = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                status, ru = st, r
                break
            if timeout_s is not None and time.perf_counter() - t0 > timeout_s:
                proc.kill()
                _, status, ru = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop.set()
        sampler.join()
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not out_path.exists():
        tail = log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{label}: child exited with status {proc.returncode}\n{tail}")
    out = json.loads(out_path.read_text())
    out["parent"] = {
        "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "maxrss_any_process_mb": ru.ru_maxrss / 1024,
        "tree_peak_rss_mb": sampler.peak_sum_mb if psutil is not None else None,
        "tree_peak_pss_mb": sampler.peak_pss_mb if psutil is not None else None,
        "tree_processes_at_peak": sampler.peak_procs,
        "tree_cpu_sampled_s": sum(sampler.cpu_last.values()) if psutil is not None else None,
        "processes_seen": len(sampler.per_pid_peak_mb),
    }
    return out


# ================================================================================================
# Report helpers and machine information
# ================================================================================================

def table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)
    lines = []
    for j, r in enumerate(cells):
        parts = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)]
        lines.append("  ".join(parts).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def say(text: str = "") -> None:
    print(text, flush=True)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_info() -> dict:
    import importlib

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        ram = f"{kb / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        pass
    try:  # GNU nproc honours OMP_NUM_THREADS, which this script sets to 1: ask without it
        env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True, env=env).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())
    versions = {}
    for mod in ("numpy", "scipy", "numba", "pyarrow", "dask", "distributed", "psutil", "sgp4", "itur", "leonet"):
        try:
            versions[mod] = importlib.import_module(mod).__version__
        except Exception:
            versions[mod] = "not installed"
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, check=True).stdout.strip()
        commit += " (src/ has uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {"date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "nproc": nproc, "cpu": cpu, "ram": ram, "load_avg": load(), "python": platform.python_version(),
            **versions, "git": commit,
            "threads": "OMP/OPENBLAS/MKL/NUMEXPR/NUMBA threads = 1 in the parent and every child; pyarrow pool 1"}


def src_state() -> str:
    """HEAD plus a digest of uncommitted changes under src/ (others may edit src/ during a run)."""
    import hashlib

    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        diff = subprocess.run(["git", "-C", str(REPO), "diff", "HEAD", "--", "src"],
                              capture_output=True, check=True).stdout
        untracked = subprocess.run(["git", "-C", str(REPO), "ls-files", "--others", "--exclude-standard", "--", "src"],
                                   capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if not diff and not untracked:
        return head
    return f"{head}+dirty:{hashlib.sha1(diff + untracked).hexdigest()[:8]}"


def mb(x) -> str:
    return "-" if x is None else f"{x:,.0f} MiB"


def cpu_of(res: dict) -> float:
    return res["parent"]["cpu_s"]


# ================================================================================================
# P2
# ================================================================================================

def bench_p2(args, work: Path, results: dict) -> bool:
    dur = args.p2_duration
    say(f"P2: capacity over Gen1 - starlink-gen1, 10,000 dishes (40 x 250), all operational gateways and "
        f"23 PoPs,\n    capacity on, 1 s steps, workers=2 (the issue's target: one hour in <= 5 min and <= 2 GB "
        f"on 2 cores)")
    say("-" * 100)
    out_dir = work / "p2-run"
    res = run_child({"task": "run", "scenario": p2_scenario(dur), "out_dir": str(out_dir), "workers": 2},
                    work, "p2-run")
    shutil.rmtree(out_dir, ignore_errors=True)
    par = res["parent"]
    n = res["n_steps"]
    scale = HOUR_S / dur
    say(f"[P2.1] leonet.run, workers=2, {n:,} steps ({dur:,.0f} s of simulated time), {res['chunks']} chunks of 60, "
        f"{res['n_sats']:,} satellites, {res['n_sites']:,} sites ({res['n_dishes']:,} dishes)")
    rows = [
        ["wall time of leonet.run (in the child)", f"{res['wall_s']:.1f} s", f"{res['wall_s'] * scale / 60:.2f} min"],
        ["  of which build_model in the main process", f"{res['build_s']:.1f} s", "(once)"],
        ["  of which writing Parquet bytes in the main process", f"{res['write_s']:.1f} s", f"{res['write_s'] * scale:.1f} s"],
        ["  first chunk back after", f"{res['first_chunk_s']:.1f} s", "(once)"],
        ["CPU time, main process + workers (wait4)", f"{cpu_of(res):.1f} s", f"{cpu_of(res) * scale / 60:.2f} min"],
        ["wall time of the whole child (python start to exit)", f"{par['wall_s']:.1f} s", ""],
        ["per step: wall / CPU (all processes)", f"{res['wall_s'] / n * 1e3:.1f} / {cpu_of(res) / n * 1e3:.1f} ms", ""],
        ["peak RSS, process tree summed (sampled every 0.1 s)", mb(par["tree_peak_rss_mb"]),
         f"{par['tree_processes_at_peak']} processes at the peak"],
        ["peak PSS, process tree summed (shared pages split; every 0.5 s)", mb(par["tree_peak_pss_mb"]), ""],
        ["peak RSS of one process: main / largest worker", f"{res['maxrss_self_mb']:,.0f} / {res['maxrss_children_mb']:,.0f} MiB", ""],
    ]
    label = "one hour (measured)" if dur >= HOUR_S else f"one hour (x{scale:g}, EXTRAPOLATED)"
    say(table(["figure", "measured", label], rows, "lrr"))
    hour_wall = res["wall_s"] * scale
    say(f"    target <= 5 min for the hour: {hour_wall / 60:.2f} min "
        f"{'(extrapolated linearly from ' + format(dur, ',.0f') + ' s) ' if dur < HOUR_S else ''}-> "
        f"{'meets it' if hour_wall <= 300 else 'MISSES it'}; "
        f"target <= 2 GB (2,048 MiB): peak tree RSS {mb(par['tree_peak_rss_mb'])} -> "
        f"{'meets it' if (par['tree_peak_rss_mb'] or 0) <= 2048 else 'MISSES it'}, peak tree PSS "
        f"{mb(par['tree_peak_pss_mb'])} -> {'meets it' if (par['tree_peak_pss_mb'] or 0) <= 2048 else 'MISSES it'}")
    if res["chunks"] < 6 and dur < HOUR_S:
        say(f"    NOTE: only {res['chunks']} chunks: the build and the workers' start-up are scaled x{scale:g} too, "
            f"so this extrapolation overstates the hour (use the default 600 s or --p2-duration 3600)")
    floor = cpu_of(res) * scale / 2
    say(f"    CPU-bound floor: on two idle cores the hour cannot take less than its CPU time / 2 = {floor / 60:.2f} min "
        f"({'within' if floor <= 300 else 'above'} the 5 min target)")
    say(f"    (load average after the run {load()}; wall includes waiting for a core on a shared machine, "
        f"CPU time does not)")
    say()

    prof_steps = args.p2_profile_steps
    mem_chunks = [] if args.quick else [10, 30]
    prof = run_child({"task": "profile", "scenario": p2_scenario(prof_steps + 3 + max(mem_chunks, default=0)),
                      "warmup": 2, "steps": prof_steps, "mem_chunks": mem_chunks, "unique_check": True, "top": 15},
                     work, "p2-profile")
    say(f"[P2.2] where a step goes: cProfile (CPU clock) of compute_chunk over {prof_steps} steps on one core, "
        f"after 2 warm-up steps")
    say(f"    the same steps unprofiled: {prof['plain_cpu_ms_per_step']:.1f} CPU ms/step "
        f"({prof['plain_ms_per_step']:.1f} ms wall); profiled: {prof['profiled_cpu_ms_per_step']:.1f} CPU ms/step "
        f"(cProfile overhead x{prof['profiled_cpu_ms_per_step'] / prof['plain_cpu_ms_per_step']:.2f})")
    g = prof["groups_ms_per_step"]
    tot = sum(g.values())
    rows = [[k, f"{v:.1f}", f"{100 * v / tot:.0f}%"] for k, v in g.items()]
    rows.append(["compute_chunk (profiled)", f"{tot:.1f}", "100%"])
    rows.append(["+ Parquet encoding in the worker (not profiled; CPU)", f"{prof['parquet_cpu_ms_per_step']:.1f}", ""])
    say(table(["stage", "CPU ms/step", "share"], rows))
    say("    within the stages:")
    say(table(["item (cumulative, profiled)", "CPU ms/step"],
              [[k, f"{v:.1f}"] for k, v in prof["sub_ms_per_step"].items()]))
    say(f"    output per step: {prof['arrow_bytes_per_step'] / 2**20:.2f} MiB of Arrow columns -> "
        f"{prof['parquet_bytes_per_step'] / 2**20:.2f} MiB of Parquet (zstd)")
    say("    top functions by own time (profiled):")
    say("\n".join("      " + line for line in prof["top_text"].splitlines()))
    uc = prof.get("unique_check")
    if uc:
        say(f"    unique (serving sat, cell) links, row-wise np.unique(axis=0) (before) vs one int64 key (leonet now), "
            f"({uc['rows']:,} rows): {uc['axis0_ms']:.2f} ms, vs {uc['key1d_ms']:.2f} ms through one int64 key "
            f"(x{uc['axis0_ms'] / max(uc['key1d_ms'], 1e-9):.0f}; same uniques and inverse: {uc['identical']})")
    if prof.get("traced_peak_mb"):
        tp = prof["traced_peak_mb"]
        ks = sorted(tp, key=int)
        per = (tp[ks[-1]] - tp[ks[0]]) / (int(ks[-1]) - int(ks[0]))
        say(f"    memory inside one compute_chunk call (tracemalloc peak): "
            + ", ".join(f"{tp[k]:,.0f} MiB for {k} steps" for k in ks)
            + f" -> ~{per:.1f} MiB per step of chunk length; at outputs.chunk_steps 60 a worker holds "
            f"~{tp[ks[0]] + per * (60 - int(ks[0])):,.0f} MiB in the chunk")
    say()
    results["p2"] = {"run": res, "profile": prof, "duration_s": dur, "extrapolated": dur < HOUR_S,
                     "hour_wall_s": hour_wall, "hour_cpu_s": cpu_of(res) * scale, "hour_floor_2_cores_s": floor}

    chunk_rows = [int(c) for c in args.p2_chunk_rows.split(",") if c.strip()] if args.p2_chunk_rows else []
    if chunk_rows:
        span = min(dur, 600.0)
        rows = [["60 (the main run above)", f"{dur:,.0f}", f"{res['wall_s']:.1f}", f"{res['wall_s'] / n * 1e3:.1f}",
                 f"{cpu_of(res) / n * 1e3:.1f}", f"{res['maxrss_self_mb']:,.0f}", f"{res['maxrss_children_mb']:,.0f}",
                 mb(par["tree_peak_rss_mb"]), mb(par["tree_peak_pss_mb"])]]
        runs = []
        for c in chunk_rows:
            out_dir = work / f"p2-run-c{c}"
            r = run_child({"task": "run", "scenario": p2_scenario(span, chunk_steps=c), "out_dir": str(out_dir),
                           "workers": 2}, work, f"p2-run-c{c}")
            shutil.rmtree(out_dir, ignore_errors=True)
            runs.append(r)
            rows.append([str(c), f"{span:,.0f}", f"{r['wall_s']:.1f}", f"{r['wall_s'] / r['n_steps'] * 1e3:.1f}",
                         f"{cpu_of(r) / r['n_steps'] * 1e3:.1f}", f"{r['maxrss_self_mb']:,.0f}",
                         f"{r['maxrss_children_mb']:,.0f}", mb(r["parent"]["tree_peak_rss_mb"]),
                         mb(r["parent"]["tree_peak_pss_mb"])])
        say("[P2.3] memory against outputs.chunk_steps (same scenario, workers=2): does a worker's peak grow with "
            "the chunk length?")
        say(table(["chunk_steps", "span s", "wall s", "wall ms/step", "CPU ms/step (all)", "main peak MiB",
                   "worker peak MiB", "tree peak RSS", "tree peak PSS"], rows))
        say()
        results["p2"]["chunk_rows"] = runs
    return True


# ================================================================================================
# P3
# ================================================================================================

def bench_p3(args, work: Path, results: dict) -> bool:
    q = args.quick
    steps, chunk = args.p3_steps, args.p3_chunk
    total_steps = 2 + steps + 1
    say("P3: Gen2 scale - starlink-gen2 (29,988 satellites), 100,000 dish cells, 15 s steps from a slot boundary,\n"
        "    visibility.nearest_k 8, routing on, visibility_pairs off (the issue's target: <= 1 s per step per core)")
    say("-" * 100)
    csv = {}
    for n in (10_000, 100_000):
        csv[n] = work / f"cells{n}.csv"
        write_cells_csv(csv[n], n)
    rows_out, ok = [], True

    def steps_row(label, cons, n, k, capacity=False, save=None, n_steps=steps):
        spec = {"task": "steps", "scenario": p3_scenario(cons, str(csv[n]), k, 2 + n_steps + 1, capacity),
                "warmup": 2, "steps": n_steps, "chunk": min(chunk, n_steps), "save": save}
        r = run_child(spec, work, label.replace(" ", "_"))
        r["label"], r["constellation"], r["nearest_k"], r["capacity"] = label, cons, k, capacity
        return r

    # -- main rows
    main = steps_row("gen2 x 100k, nearest_k 8", "starlink-gen2", 100_000, 8)
    mains = [main]
    if not args.p3_no_capacity:
        mains.append(steps_row("gen2 x 100k, nearest_k 8, capacity on", "starlink-gen2", 100_000, 8, capacity=True,
                               n_steps=max(2, steps // 2) if q else steps))
    say(f"[P3.1] compute_chunk per step, {steps} timed steps in chunks of {chunk} after 2 warm-up steps, "
        f"one fresh process per row")
    rows = []
    for r in mains:
        med, cmed = statistics.median(r["ms_per_step"]), statistics.median(r["cpu_ms_per_step"])
        rows.append([r["label"], f"{r['n_dishes']:,}", f"{r['dish_pairs']:,}", f"{r['build_s']:.1f}",
                     f"{med / 1e3:.2f}", f"{cmed / 1e3:.2f}", f"{max(r['cpu_ms_per_step']) / 1e3:.2f}",
                     f"{r['maxrss_mb']:,.0f}", f"{r['parent']['tree_peak_rss_mb'] or 0:,.0f}",
                     "meets" if cmed <= 1000 else "MISSES"])
    say(table(["configuration", "dishes", "dish pairs", "build s", "s/step", "CPU s/step", "worst CPU s",
               "peak RSS MiB", "tree RSS MiB", "<= 1 s/step/core"], rows))
    say("    s/step = median wall over the chunks; CPU s/step = median CPU (time.process_time); peak RSS = ru_maxrss "
        "of the process;\n    capacity on uses capacity.atmosphere false (the ITU-R lookups happen at build time only; "
        "the per-step work is the same)")
    profile = run_child({"task": "profile", "scenario": p3_scenario("starlink-gen2", str(csv[100_000]), 8, 2 + 4 + 1),
                         "warmup": 2, "steps": 3 if q else 4, "top": 12}, work, "p3-profile")
    g = profile["groups_ms_per_step"]
    tot = sum(g.values())
    say(f"    where the gen2 x 100k step goes (cProfile, CPU clock, {3 if q else 4} steps; unprofiled "
        f"{profile['plain_cpu_ms_per_step']:.0f} CPU ms/step):")
    say(table(["stage", "CPU ms/step", "share"],
              [[k, f"{v:.0f}", f"{100 * v / tot:.0f}%"] for k, v in g.items()]
              + [[k, f"{v:.0f}", ""] for k, v in profile["sub_ms_per_step"].items()]))
    say("    top functions by own time (profiled):")
    say("\n".join("      " + line for line in profile["top_text"].splitlines()))
    cap_profile = None
    if not args.p3_no_capacity and not q:
        cap_profile = run_child({"task": "profile", "scenario": p3_scenario("starlink-gen2", str(csv[100_000]), 8,
                                                                            2 + 2 + 1, capacity=True),
                                 "warmup": 2, "steps": 2, "top": 10, "unique_check": True}, work, "p3-cap-profile")
        g = cap_profile["groups_ms_per_step"]
        tot = sum(g.values())
        say(f"    where the gen2 x 100k step goes with capacity on (cProfile, CPU clock, 2 steps; unprofiled "
            f"{cap_profile['plain_cpu_ms_per_step']:.0f} CPU ms/step):")
        say(table(["stage", "CPU ms/step", "share"],
                  [[k, f"{v:.0f}", f"{100 * v / tot:.0f}%"] for k, v in g.items()]
                  + [[k, f"{v:.0f}", ""] for k, v in cap_profile["sub_ms_per_step"].items() if k.startswith("capacity")]))
        uc = cap_profile.get("unique_check")
        if uc:
            say(f"    capacity._unique_links' np.unique(axis=0) on this step's (serving sat, cell) keys "
                f"({uc['rows']:,} rows): {uc['axis0_ms']:.1f} ms, vs {uc['key1d_ms']:.1f} ms through one int64 key "
                f"(x{uc['axis0_ms'] / max(uc['key1d_ms'], 1e-9):.0f}; same uniques and inverse: {uc['identical']})")
    say()

    # -- the ITU-R atmosphere at build time, per cell (measured on two samples, extrapolated)
    if not args.p3_no_capacity:
        samples = (200, 600) if q else (250, 1000)
        builds = {}
        for size in samples:
            csv_s = work / f"cells{size}.csv"
            write_cells_csv(csv_s, size, seed=2025)
            spec = {"task": "steps", "scenario": p3_scenario("starlink-shell1", str(csv_s), 8, 4, capacity=True,
                                                             atmosphere=True), "warmup": 1, "steps": 1, "chunk": 1}
            builds[size] = run_child(spec, work, f"p3-atm-{size}")["build_cpu_s"]
        spec["scenario"]["dict"]["capacity"]["atmosphere"] = False
        without = run_child(spec, work, "p3-noatm")["build_cpu_s"]
        per_cell = (builds[samples[1]] - builds[samples[0]]) / (samples[1] - samples[0])  # one dish per cell
        fixed = builds[samples[0]] - without - per_cell * samples[0]
        est = fixed + per_cell * 100_000 + without
        say(f"[P3.2] capacity.atmosphere (ITU-R P.618/P.676/P.840 through itur) is computed per cell at build time: "
            f"build CPU {builds[samples[0]]:.1f} s for {samples[0]:,} random cells, {builds[samples[1]]:.1f} s for "
            f"{samples[1]:,},\n    {without:.1f} s for {samples[1]:,} without the atmosphere -> "
            f"{per_cell * 1e3:.2f} ms per cell + {fixed:.1f} s once; 100,000 cells -> ~{est:,.0f} s of build "
            f"(EXTRAPOLATED linearly)")
        say()
        results.setdefault("p3", {})["atmosphere"] = {"samples": list(samples), "build_cpu_s": builds,
                                                      "without_cpu_s": without, "per_cell_ms": per_cell * 1e3,
                                                      "fixed_s": fixed, "est_100k_s": est}

    # -- scaling table and the all-pairs baseline
    scale_steps = max(2, steps // 2) if q else steps
    grid = ["starlink-shell1", "starlink-gen1", "starlink-gen2"]
    dish_sizes = (10_000, 100_000)
    base_sizes = [("starlink-gen1", 10_000), ("starlink-gen2", 10_000)] if q else list(_ALLPAIRS)

    def saved(cons, n, k):
        return str(work / f"serving-{cons}-{n}-{k or 'all'}.npz")

    cache = {("starlink-gen2", 100_000, 8): main}
    for cons in grid:
        for n in dish_sizes:
            if (cons, n, 8) not in cache:
                cache[(cons, n, 8)] = steps_row(f"{cons} x {n // 1000}k, nearest_k 8", cons, n, 8,
                                                n_steps=scale_steps,
                                                save=saved(cons, n, 8) if (cons, n) in base_sizes else None)
    for cons, n in base_sizes:
        cache[(cons, n, None)] = steps_row(f"{cons} x {n // 1000}k, all pairs", cons, n, None, n_steps=scale_steps,
                                           save=saved(cons, n, None))
    # Gen2 mixes shells at 340-360 km and 525-614 km: the 8 nearest satellites of a dish are then
    # mostly low ones, and a higher-shell satellite at a higher elevation can be left out.
    extra_k = [] if q else [32, 64]
    for k in extra_k:
        cache[("starlink-gen2", 10_000, k)] = steps_row(f"gen2 x 10k, nearest_k {k}", "starlink-gen2", 10_000, k,
                                                        n_steps=scale_steps, save=saved("starlink-gen2", 10_000, k))
    say(f"[P3.3] how the step grows (compute_chunk, median over chunks, {scale_steps} steps after 2 warm-up "
        f"({steps} for gen2 x 100k); capacity off; one fresh process per row)")
    table_rows = []
    order = sorted(cache, key=lambda key: (key[2] is None, key[2] != 8, grid.index(key[0]), key[1]))
    for cons, n, k in order:
        r = cache[(cons, n, k)]
        table_rows.append([cons, f"{r['n_sats']:,}", f"{n:,}", str(k) if k else "all (off)", f"{r['dish_pairs']:,}",
                           f"{statistics.median(r['ms_per_step']):,.0f}",
                           f"{statistics.median(r['cpu_ms_per_step']):,.0f}",
                           f"{statistics.median(r['cpu_ms_per_step']) / r['n_dishes'] * 1e3:.1f}",
                           f"{r['build_s']:.1f}", f"{r['maxrss_mb']:,.0f}"])
    say(table(["constellation", "sats", "dishes", "nearest_k", "dish pairs in view", "ms/step", "CPU ms/step",
               "CPU us/dish", "build s", "peak RSS MiB"], table_rows))
    cmp_rows = []
    agreement = []
    for cons, n, k in [(c, n, 8) for c, n in base_sizes] + [("starlink-gen2", 10_000, k) for k in extra_k]:
        a, b = cache[(cons, n, None)], cache[(cons, n, k)]
        ca, cb = statistics.median(a["cpu_ms_per_step"]), statistics.median(b["cpu_ms_per_step"])
        same_sat = same_rtt = el_lost = float("nan")
        fa, fb = Path(saved(cons, n, None)), Path(saved(cons, n, k))
        if fa.exists() and fb.exists():
            za, zb = np.load(fa), np.load(fb)
            same_sat = 100 * float((za["serving_sat"] == zb["serving_sat"]).mean())
            same_rtt = 100 * float(np.isclose(za["rtt_ms"], zb["rtt_ms"], rtol=0, atol=1e-3, equal_nan=True).mean())
            lost = za["best_elevation_deg"] - zb["best_elevation_deg"]
            el_lost = float(np.nanmean(lost))
        agreement.append({"size": f"{cons} x {n}", "nearest_k": k, "same_serving_pct": same_sat,
                          "same_rtt_pct": same_rtt, "mean_elevation_lost_deg": el_lost, "cpu_ms_all": ca,
                          "cpu_ms_k": cb})
        cmp_rows.append([f"{cons} x {n:,}", str(k), f"{a['dish_pairs']:,}", f"{b['dish_pairs']:,}", f"{ca:,.0f}",
                         f"{cb:,.0f}", f"x{ca / cb:.1f}", f"{a['maxrss_mb']:,.0f} / {b['maxrss_mb']:,.0f}",
                         f"{same_sat:.2f}%", f"{same_rtt:.2f}%", f"{el_lost:.2f}"])
    say()
    say("[P3.4] the in-run baseline: all pairs in view (nearest_k off) vs the scale mode (nearest_k k), same steps")
    say(table(["size", "k", "pairs (all)", "pairs (k)", "CPU ms/step all", "CPU ms/step k", "all / k",
               "peak RSS MiB all / k", "same serving sat", "same RTT", "elevation lost deg"], cmp_rows))
    say("    same serving sat / same RTT (within 1 us): share of (dish, step) rows of the first timed chunk where both "
        "modes agree;\n    elevation lost: mean over dishes of (highest satellite in view) - (highest among the k "
        "nearest), degrees")
    say()
    results.setdefault("p3", {}).update({
        "main": mains, "profile": profile, "capacity_profile": cap_profile, "agreement": agreement,
        "grid": [{"constellation": c, "dishes": n, "nearest_k": k, **{kk: v for kk, v in r.items() if kk != "parent"},
                  "parent": r["parent"]} for (c, n, k), r in cache.items()],
    })
    return ok


_ALLPAIRS = [("starlink-gen1", 100_000), ("starlink-gen2", 10_000)]


# ================================================================================================
# P4
# ================================================================================================

def parquet_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def bench_p4(args, work: Path, results: dict) -> bool:
    dur = args.p4_duration
    say(f"P4: speed-up - ukraine-gen1 (4,408 satellites, 30 dishes, European gateways and PoPs), "
        f"{dur:,.0f} s at 1 s = {int(dur):,} steps, chunks of 60")
    say("-" * 100)
    configs = [("1 worker (this process)", 1, None), ("2 local workers", 2, None), ("4 local workers", 4, None),
               ("Dask LocalCluster, 2 processes", 2, "local")]
    runs = []
    for label, w, dask in configs:
        out_dir = work / f"p4-{w}-{dask or 'proc'}"
        r = run_child({"task": "run", "scenario": p4_scenario(dur), "out_dir": str(out_dir), "workers": w,
                       "dask": dask}, work, f"p4-{w}-{dask or 'proc'}")
        r["label"], r["out_dir"], r["workers"], r["dask"] = label, str(out_dir), w, dask
        runs.append(r)
        say(f"    {label}: leonet.run {r['wall_s']:.1f} s wall, {cpu_of(r):.1f} s CPU in all processes "
            f"(load {load()})")
    base = runs[0]
    ref = parquet_files(Path(base["out_dir"]))
    identical_all = True
    for r in runs:
        files = parquet_files(Path(r["out_dir"]))
        same_names = set(files) == set(ref)
        n_same = sum(files.get(k) == v for k, v in ref.items())
        r["identical"] = same_names and n_same == len(ref)
        r["files_compared"] = len(ref)
        identical_all &= r["identical"]
    rows = []
    for r in runs:
        rows.append([r["label"], f"{r['wall_s']:.1f}", f"x{base['wall_s'] / r['wall_s']:.2f}", f"{cpu_of(r):.1f}",
                     f"{r['build_s']:.2f}", f"{r['first_chunk_s']:.1f}", f"{r['write_s']:.1f}",
                     f"{r['parent']['tree_peak_rss_mb'] or 0:,.0f}", f"{r['parent']['tree_peak_pss_mb'] or 0:,.0f}",
                     f"{r['files_compared']} {'identical' if r['identical'] else 'DIFFER'}"])
    say()
    say(table(["run", "wall s", "speed-up", "CPU s (all)", "build s", "1st chunk at s", "writes s",
               "tree RSS MiB", "tree PSS MiB", "Parquet files vs 1 worker"], rows))
    say("    wall s = leonet.run in the child (build, workers' start, compute, the main process writing Parquet); "
        "speed-up = 1-worker wall / wall;\n    CPU s = user+system of the child and every process it reaped "
        "(wait4); 1st chunk at = when the first chunk came back")
    d = next((r for r in runs if r["dask"]), None)
    if d and "dask_cluster_start_s" in d:
        say(f"    a LocalCluster of 2 processes alone takes {d['dask_cluster_start_s']:.1f} s to start and "
            f"{d['dask_cluster_stop_s']:.1f} s to stop (measured after the run, in the same child)")
    say(f"    byte-identity: every Parquet file ({len(ref)} per run: every table's part files, sites, satellites) "
        f"of every run equals the 1-worker run's byte for byte: {'PASS' if identical_all else 'FAIL'}")
    say()
    for r in runs:
        shutil.rmtree(r["out_dir"], ignore_errors=True)
    results["p4"] = {"duration_s": dur, "runs": runs, "identical": identical_all}
    return identical_all


# ================================================================================================
# Main
# ================================================================================================

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a ~2 minute version (shorter spans, fewer steps and rows)")
    ap.add_argument("--only", default="p2,p3,p4", help="comma-separated sections to run (default p2,p3,p4)")
    ap.add_argument("--p2-duration", type=float, default=None,
                    help="P2's simulated span in s (default 600, quick 120; 3600 runs the full hour)")
    ap.add_argument("--p2-service", action="store_true",
                    help="P2 with the service model on (kit caps, traffic, background, cell limits)")
    ap.add_argument("--p2-profile-steps", type=int, default=None, help="steps in P2's profile (default 20, quick 10)")
    ap.add_argument("--p2-chunk-rows", default=None,
                    help="also run P2 with these outputs.chunk_steps, comma-separated, to show memory (default 15; "
                         "quick none; '' for none)")
    ap.add_argument("--p3-steps", type=int, default=None, help="timed steps per P3 row (default 10, quick 4)")
    ap.add_argument("--p3-chunk", type=int, default=5, help="steps per compute_chunk call in P3 (default 5)")
    ap.add_argument("--p3-no-capacity", action="store_true", help="skip P3's capacity-on row and atmosphere cost")
    ap.add_argument("--p4-duration", type=float, default=None, help="P4's simulated span in s (default 3600, quick 600)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (site files, logs)")
    ap.add_argument("--json", type=Path, default=None, help="also write every figure to this JSON file")
    ap.add_argument("--_child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child:
        return child_main(*args._child)
    q = args.quick
    global P2_WITH_SERVICE
    P2_WITH_SERVICE = bool(args.p2_service)
    args.p2_duration = args.p2_duration or (120.0 if q else 600.0)
    args.p2_profile_steps = args.p2_profile_steps or (10 if q else 20)
    args.p3_steps = args.p3_steps or (4 if q else 10)
    if args.p2_chunk_rows is None:
        args.p2_chunk_rows = "" if q else "15"
    args.p4_duration = args.p4_duration or (600.0 if q else 3600.0)
    sections = [s.strip().lower() for s in args.only.split(",") if s.strip()]
    if not set(sections) <= {"p2", "p3", "p4"}:
        ap.error("--only takes p2, p3, p4")

    info = machine_info()
    state_start = src_state()
    say("leonet scale benchmarks P2-P4")
    say("=" * 100)
    for key, value in info.items():
        say(f"{key:>12}: {value}")
    say(f"{'options':>12}: sections={','.join(sections)} quick={q} p2_duration={args.p2_duration:g} "
        f"p3_steps={args.p3_steps} p3_chunk={args.p3_chunk} p4_duration={args.p4_duration:g}")
    say(f"{'memory':>12}: {'psutil tree sampling (RSS summed over the process tree)' if psutil else 'psutil missing: wait4 only'}"
        f" + wait4/getrusage per-process peaks")
    say()
    t0 = time.perf_counter()
    results: dict = {"machine": info, "command": " ".join([Path(sys.executable).name] + sys.argv), "quick": q}
    ok = True
    work = Path(tempfile.mkdtemp(prefix="leonet-bench-scale-"))
    try:
        for name, fn in (("p2", bench_p2), ("p3", bench_p3), ("p4", bench_p4)):
            if name not in sections:
                continue
            try:
                ok &= fn(args, work, results)
            except Exception as err:  # a section that breaks is reported, not hidden; the exit status says so
                say(f"{name.upper()} FAILED: {type(err).__name__}: {err}")
                results[name] = {"error": f"{type(err).__name__}: {err}"}
                ok = False
    finally:
        if args.keep:
            say(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - t0
    state_end = src_state()
    results["src_state"] = {"start": state_start, "end": state_end}
    if state_end != state_start:
        say(f"WARNING: src/ changed during the benchmark ({state_start} -> {state_end}): figures may mix two versions "
            f"of leonet; run it again")
    else:
        say(f"src/ unchanged during the benchmark ({state_end})")
    say(f"benchmark wall time {elapsed:.0f} s; load average at the start {info['load_avg']}, at the end {load()} "
        f"(other processes share this machine's cores: wall times include waiting for a core, CPU times do not)")
    results["wall_s"] = elapsed
    results["load_end"] = load()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
