#!/usr/bin/env python
"""P1, the Hypatia workload: how fast leonet computes a network step, against a naive baseline.

Run from the repository root:

    .venv/bin/python bench/bench_network.py                 # 1-2 minutes on 2 cores
    .venv/bin/python bench/bench_network.py --quick         # about 30 s
    .venv/bin/python bench/bench_network.py --steps 200 --baseline-steps 3 --json out.json
    .venv/bin/python bench/bench_network.py --incremental   # + the full forwarding state beside the tracker

What it measures (all in one process, on one core: BLAS/OpenMP thread counts are set to 1 before
numpy is imported and pyarrow's CPU pool is set to 1, so the work is single-threaded; CPU time is
reported next to wall time because other processes may share the cores; ``--pin`` pins the process
to one CPU):

1. leonet on ``hypatia-starlink`` (Hypatia's Starlink study: 72x22 shell, top-100 cities as
   stations, +Grid ISLs, 100 ms steps, all 9,900 ordered city pairs): build the model once, warm
   up with 2 steps, then time ``compute_chunk`` over N consecutive steps in chunks, as a real run
   does. A step computes positions, ISLs, ground links, the forwarding state toward all 100
   destinations, the paths of all 9,900 pairs, and the result tables.
2. A stage breakdown on the same steps (positions, visibility, ISLs, graph, forwarding, paths),
   timed by calling the same leonet functions that ``compute_chunk`` calls.
3. The baseline, Hypatia's approach: for each step, the same snapshot (leonet's positions, ISLs
   and visibility, so that links are identical and only the routing differs), all-pairs distances
   with ``networkx.floyd_warshall_numpy`` over the satellite ISL graph, then for every ordered
   station pair the minimum over (a in view of src, b in view of dst) of
   range(src, a) + D[a, b] + range(b, dst). Its RTTs are checked against leonet's. The min over
   ground links is vectorised with numpy here (Hypatia loops in Python), so the baseline is, if
   anything, faster than Hypatia's own code.
4. A scaling table: the dish scenarios ``ukraine-gen1`` and ``ukraine-2022`` (the default);
   Hypatia's scenario with 25, 50 and 100 stations; the 100 cities over constellations of 1,584
   to 29,988 satellites.

The stage breakdown runs the station pairs' stages as ``compute_chunk`` does: the forwarding
state from :class:`leonet.network.incremental.ForwardingTracker` (last step's shortest-path trees
checked and repaired; one tracker per chunk) and the paths from
:class:`leonet.network.pair_walk.PairPathWalker` (paths copied where no next hop they use changed,
the rest walked, written in Arrow list layout with ``path_changed``). With ``--incremental``, it
also times the full ``forwarding_state`` on the same graphs as the reference (not part of the
step), checks that the tracker returns exactly its distances and next hops, and times the paired
routing figure both ways.

Performance is reported as ratios against the baseline measured in the same run; nothing here
asserts a time. The script exits non-zero only if the correctness check fails or a scenario fails
to run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime as _dt  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import scipy  # noqa: E402
import yaml  # noqa: E402

import leonet  # noqa: E402
from leonet.constants import SPEED_OF_LIGHT_M_PER_S  # noqa: E402
from leonet.network.incremental import ForwardingTracker  # noqa: E402
from leonet.network.isl import active_isls  # noqa: E402
from leonet.network.pair_walk import PairPathWalker  # noqa: E402
from leonet.network.pairs import forwarding_state, route_pairs, station_graph  # noqa: E402
from leonet.scenario import load_scenario, scenario_from_dict  # noqa: E402
from leonet.sim.model import build_model  # noqa: E402
from leonet.sim.step import compute_chunk  # noqa: E402
from leonet.space.propagate import propagate  # noqa: E402

C = SPEED_OF_LIGHT_M_PER_S
PKG = Path(leonet.__file__).resolve().parent
HYPATIA_YAML = PKG / "presets" / "scenarios" / "hypatia-starlink.yaml"
CITIES_CSV = PKG / "data" / "top100_cities_hypatia.csv"
#: Hypatia's reported cost of this workload on one core (from the issue text; not measured here).
HYPATIA_ANCHOR_S_PER_STEP = 16.0
WARMUP_STEPS = 2
TOL_MS = 1e-6

try:
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
except Exception:  # pragma: no cover - older pyarrow
    pass


def pin_one_cpu() -> str:
    """Pin this process to one CPU (the last one it may use); return a note for the report."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    try:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
        return f"pinned to CPU {cpus[-1]} of {len(cpus)}"
    except OSError as err:  # pragma: no cover
        return f"not pinned ({err})"


# --------------------------------------------------------------------------------------------
# Machine and versions
# --------------------------------------------------------------------------------------------

def machine_info(pin_note: str) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        # GNU nproc honours OMP_NUM_THREADS, which this script sets to 1: ask without it.
        env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True, env=env).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())
    try:
        import networkx
        nx_version = networkx.__version__
    except ImportError:
        nx_version = "not installed"
    repo = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, check=True).stdout.strip()
        commit += " (src/ has uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "nproc": nproc, "cpu": cpu, "load_avg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
        "networkx": nx_version, "pyarrow": pa.__version__,
        "leonet": getattr(leonet, "__version__", "?"), "git": commit,
        "threads": "OMP/OPENBLAS/MKL_NUM_THREADS=1, pyarrow cpu_count=1; " + pin_note,
    }


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------

def duration_for(steps: int, step_s: float) -> float:
    return round((steps + WARMUP_STEPS + 2) * step_s, 6)


def hypatia_scenario(steps: int, n_stations: int | None = None, constellation: str | None = None,
                     tmpdir: Path | None = None):
    """hypatia-starlink, optionally with its first ``n_stations`` cities or another constellation."""
    data = yaml.safe_load(HYPATIA_YAML.read_text())
    name = data["name"]
    if constellation is not None:
        data["constellation"] = constellation
        name += f"-{constellation}"
    if n_stations is not None:
        lines = CITIES_CSV.read_text(encoding="utf-8").splitlines()
        path = Path(tmpdir) / f"cities{n_stations}.csv"
        path.write_text("\n".join(lines[: n_stations + 1]) + "\n", encoding="utf-8")
        data["ground"] = {"site_files": [{"path": str(path), "kind": "station"}]}
        name += f"-{n_stations}st"
    data["name"] = name
    return scenario_from_dict(data, source=f"bench {name}", base_dir=HYPATIA_YAML.parent,
                              overrides={"time.duration_s": duration_for(steps, data["time"]["step_s"])})


# --------------------------------------------------------------------------------------------
# Timing compute_chunk
# --------------------------------------------------------------------------------------------

@dataclass
class StepTiming:
    build_s: float
    warmup_s: float
    chunk_ms_per_step: list[float]
    chunk_cpu_ms_per_step: list[float]
    steps: int
    first_tables: dict = field(repr=False, default_factory=dict)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.chunk_ms_per_step)

    @property
    def mean_ms(self) -> float:
        # Every chunk has the same length, so the mean of chunks is the overall mean per step.
        return statistics.fmean(self.chunk_ms_per_step)

    @property
    def median_cpu_ms(self) -> float:
        return statistics.median(self.chunk_cpu_ms_per_step)

    @property
    def min_ms(self) -> float:
        return min(self.chunk_ms_per_step)


def time_compute(scenario, steps: int, chunk: int, repeat: int = 1, keep_first: bool = False,
                 after_chunk=None):
    """Build the model, warm up with 2 steps, then time compute_chunk over ``steps`` steps.

    ``after_chunk(model, pass_number, times)`` runs after each timed chunk, outside the timing: the
    stage breakdown runs there, interleaved, so that both see the same load on a shared machine.
    """
    gc.collect()
    t0 = time.perf_counter()
    model = build_model(scenario)
    model.visibility  # the k-d tree of sites: part of the build, not of a step
    build_s = time.perf_counter() - t0
    t_ns = model.t_ns
    if len(t_ns) < WARMUP_STEPS + steps:
        raise SystemExit(f"{scenario.name}: only {len(t_ns)} steps; raise time.duration_s")
    t0 = time.perf_counter()
    compute_chunk(model, t_ns[:WARMUP_STEPS])
    warmup_s = time.perf_counter() - t0
    per_chunk: list[float] = []
    per_chunk_cpu: list[float] = []
    first: dict = {}
    for r in range(repeat):
        for i in range(WARMUP_STEPS, WARMUP_STEPS + steps, chunk):
            times = t_ns[i: min(i + chunk, WARMUP_STEPS + steps)]
            c0, t0 = time.process_time(), time.perf_counter()
            tables = compute_chunk(model, times, prev_t_ns=int(t_ns[i - 1]))
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            per_chunk.append(dt / len(times) * 1e3)
            per_chunk_cpu.append(dc / len(times) * 1e3)
            if keep_first and r == 0 and i == WARMUP_STEPS:
                first = tables
            del tables
            if after_chunk is not None:
                after_chunk(model, r, times)
    return model, StepTiming(build_s, warmup_s, per_chunk, per_chunk_cpu, steps, first)


# --------------------------------------------------------------------------------------------
# Stage breakdown: the same leonet calls that compute_chunk makes for station pairs
# --------------------------------------------------------------------------------------------

#: The stages of the station pairs' step, as ``compute_chunk`` runs them: "forwarding" is the
#: ForwardingTracker (shortest-path trees repaired step to step), "paths" the PairPathWalker
#: (paths copied or walked into Arrow list layout, with path_changed).
STAGES = ("positions", "visibility", "isls", "graph", "forwarding", "paths")


def station_routes(model, t_ns: np.ndarray, chunk: int, timings: dict[str, list] | None = None,
                   incremental: bool = False):
    """leonet's float64 pair RTTs (ms) at each instant, and per-stage CPU times (s, one per step).

    CPU time (``time.process_time``), not wall time: on a shared machine it does not count the
    time this process waits for a core. The code is single-threaded, so the two agree when idle.

    Mirrors the station-pair part of ``leonet.sim.step`` so each stage can be timed alone.
    Returns ``rtt_ms[k]`` (M,) for instant ``t_ns[k]`` and the snapshot inputs the baseline needs.
    With ``incremental``, also times ``ForwardingTracker.update`` (stage "incremental"; one tracker
    per chunk) on the same graphs and raises if it differs from ``forwarding_state`` anywhere.
    """
    net = model.network
    n_sats, n_sites = len(model.constellation), len(model.sites)
    stations = np.unique(np.r_[net.pair_src, net.pair_dst])
    number = np.full(n_sites, -1, dtype=np.int64)
    number[stations] = np.arange(len(stations))
    src, dst = number[net.pair_src], number[net.pair_dst]
    dests = np.unique(dst)
    timings = timings if timings is not None else {s: [] for s in STAGES}
    out_rtt, snapshots = [], []
    clock = time.process_time
    for i in range(0, len(t_ns), chunk):
        times = t_ns[i: i + chunk]
        tracker = ForwardingTracker(n_sats, len(stations), dests)  # one of each per chunk, as the sim
        walker = PairPathWalker(src, dst)
        t0 = clock()
        pos = propagate(model.constellation, times)
        timings["positions"] += [(clock() - t0) / len(times)] * len(times)
        for k in range(len(times)):
            ecef = pos.ecef_m[k]
            t0 = clock()
            vis = model.visibility.query(ecef)
            t1 = clock()
            isl = active_isls(net.isl_candidates, ecef, net.grazing_height_m, net.isl_max_range_m)
            t2 = clock()
            local = number[vis.site]
            keep = local >= 0
            g_st, g_sat, g_rng = local[keep], vis.sat[keep], vis.range_m[keep]
            matrix = station_graph(n_sats, len(stations), isl.links, isl.length_m, g_st, g_sat, g_rng)
            t3 = clock()
            fw = tracker.update(matrix)
            t4 = clock()
            pr = walker.walk(fw)
            t5 = clock()
            for name, dt in zip(STAGES[1:], (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                timings[name].append(dt)
            if incremental:
                t6 = clock()
                full = forwarding_state(matrix, n_sats, len(stations), dests)
                timings.setdefault("incremental", []).append(clock() - t6)
                if not (np.array_equal(full.delay_s, fw.delay_s) and np.array_equal(full.next_hop, fw.next_hop)):
                    raise SystemExit(f"incremental forwarding state differs from the full one at t = {times[k]} ns")
            out_rtt.append(2e3 * pr.one_way_s)
            snapshots.append((isl.links, isl.length_m, g_st, g_sat, g_rng))
    return out_rtt, snapshots, timings, (src, dst, dests, len(stations))


def leonet_routing_s(n_sats: int, n_stations: int, src, dst, dests, snapshot, repeat: int = 5, primer=None):
    """Best-of-``repeat`` wall and CPU time (s) of leonet's routing (graph, Dijkstra, path walk)
    on one snapshot. With ``primer`` (the snapshot of an adjacent step), the forwarding state is
    the incremental one: a tracker that holds ``primer``'s trees is updated to ``snapshot``."""
    links, length_m, g_st, g_sat, g_rng = snapshot
    best, best_cpu = np.inf, np.inf
    for _ in range(repeat):
        if primer is not None:
            tracker = ForwardingTracker(n_sats, n_stations, dests)
            tracker.update(station_graph(n_sats, n_stations, *primer))
        c0, t0 = time.process_time(), time.perf_counter()
        matrix = station_graph(n_sats, n_stations, links, length_m, g_st, g_sat, g_rng)
        fw = forwarding_state(matrix, n_sats, n_stations, dests) if primer is None else tracker.update(matrix)
        route_pairs(fw, src, dst)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best, best_cpu


# --------------------------------------------------------------------------------------------
# Baseline: Hypatia's approach (networkx Floyd-Warshall over the ISL graph)
# --------------------------------------------------------------------------------------------

def baseline_pair_rtt_ms(n_sats: int, n_stations: int, src: np.ndarray, dst: np.ndarray, snapshot):
    """RTT (ms) of every pair (src[i], dst[i]) and the time of each part (s)."""
    import networkx as nx

    links, length_m, g_st, g_sat, g_rng = snapshot
    t0 = time.perf_counter()
    g = nx.Graph()
    g.add_nodes_from(range(n_sats))
    g.add_weighted_edges_from((int(a), int(b), float(w)) for (a, b), w in zip(links, length_m))
    t1 = time.perf_counter()
    dist = nx.floyd_warshall_numpy(g, nodelist=range(n_sats))  # (n_sats, n_sats) metres
    t2 = time.perf_counter()
    # Ground links of each station: the satellites in view and their ranges.
    order = np.argsort(g_st, kind="stable")
    g_st, g_sat, g_rng = g_st[order], g_sat[order], g_rng[order]
    bounds = np.searchsorted(g_st, np.arange(n_stations + 1))
    views = [(g_sat[bounds[s]: bounds[s + 1]], g_rng[bounds[s]: bounds[s + 1]]) for s in range(n_stations)]
    # to_dst[d, a] = min over b in view of d of D[a, b] + range(b, d)
    to_dst = np.full((n_stations, n_sats), np.inf)
    for d, (b, rb) in enumerate(views):
        if len(b):
            to_dst[d] = (dist[:, b] + rb[None, :]).min(axis=1)
    # pair[s, d] = min over a in view of s of range(s, a) + to_dst[d, a]
    pair_m = np.full((n_stations, n_stations), np.inf)
    for s, (a, ra) in enumerate(views):
        if len(a):
            pair_m[s] = (to_dst[:, a] + ra[None, :]).min(axis=1)
    rtt_ms = 2.0 * pair_m[src, dst] / C * 1e3
    t3 = time.perf_counter()
    return rtt_ms, {"graph_s": t1 - t0, "floyd_warshall_s": t2 - t1, "ground_min_s": t3 - t2}


def compare(base: np.ndarray, leo: np.ndarray) -> tuple[float, int, bool]:
    """Max |difference| over pairs both reach, count of pairs neither reaches, and agreement."""
    fb, fl = np.isfinite(base), np.isfinite(leo)
    same_reach = bool((fb == fl).all())
    both = fb & fl
    max_diff = float(np.max(np.abs(base[both] - leo[both]))) if both.any() else 0.0
    return max_diff, int((~fb & ~fl).sum()), same_reach


# --------------------------------------------------------------------------------------------
# Report helpers
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=None, help="timed steps of hypatia-starlink (default 100; quick 50)")
    ap.add_argument("--chunk", type=int, default=50, help="steps per compute_chunk call (default 50, as the preset)")
    ap.add_argument("--repeat", type=int, default=None, help="passes over the timed steps (default 3; quick 2)")
    ap.add_argument("--baseline-steps", type=int, default=None, help="steps of the networkx baseline (default 2; quick 1)")
    ap.add_argument("--scaling-steps", type=int, default=None, help="timed steps per scaling row (default 20; quick 10)")
    ap.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    ap.add_argument("--no-gen2", action="store_true", help="skip the 29,988-satellite row (default on, off with --quick)")
    ap.add_argument("--pin", action="store_true",
                    help="pin the process to one CPU (off by default: on a shared machine a pinned process "
                         "cannot move off a busy core; the code is single-threaded either way)")
    ap.add_argument("--quick", action="store_true", help="a ~30 s version: fewer steps, 1 baseline step, no Gen2 row")
    ap.add_argument("--json", type=Path, default=None, help="also write every figure to this JSON file")
    ap.add_argument("--incremental", action="store_true",
                    help="also time the full forwarding_state (the reference) beside the tracker, checked equal")
    args = ap.parse_args(argv)
    q = args.quick
    steps = args.steps if args.steps is not None else (50 if q else 100)
    repeat = args.repeat if args.repeat is not None else (2 if q else 3)
    k_base = args.baseline_steps if args.baseline_steps is not None else (1 if q else 2)
    s_steps = args.scaling_steps if args.scaling_steps is not None else (10 if q else 20)
    gen2 = not (args.no_gen2 or q)
    if min(steps, args.chunk, repeat, s_steps) < 1 or k_base < 0:
        ap.error("--steps, --chunk, --repeat and --scaling-steps must be >= 1; --baseline-steps >= 0")
    k_base = min(k_base, steps)

    info = machine_info("")  # before pinning: nproc counts the CPUs this process may use
    pin_note = pin_one_cpu() if args.pin else "not pinned (single-threaded; --pin to pin)"
    info["threads"] += pin_note
    t_start = time.perf_counter()
    results: dict = {"machine": info, "command": " ".join([Path(sys.executable).name] + sys.argv)}

    say("leonet network benchmark P1 (the Hypatia workload)")
    say("=" * 78)
    for key in ("date_utc", "nproc", "cpu", "load_avg", "python", "numpy", "scipy", "networkx",
                "pyarrow", "leonet", "git", "threads"):
        say(f"{key:>9}: {info[key]}")
    say(f"  options: steps={steps} chunk={args.chunk} repeat={repeat} baseline_steps={k_base} "
        f"scaling_steps={s_steps} gen2={gen2} quick={q}")
    say()

    # ---- 1. leonet on hypatia-starlink ------------------------------------------------------
    t0 = time.perf_counter()
    sc = load_scenario("hypatia-starlink", overrides={"time.duration_s": duration_for(steps, 0.1)})
    load_s = time.perf_counter() - t0
    stage_t: dict[str, list] = {s: [] for s in STAGES}
    leo_rtt: list[np.ndarray] = []
    snapshots: list = []
    routing_meta: list = []

    def stages_after_chunk(m, r, times):
        rtt, snaps, _, meta = station_routes(m, times, len(times), stage_t, incremental=args.incremental)
        if r == 0:  # keep pass 0's RTTs and snapshots for the checks and the baseline (+1: a primer)
            leo_rtt.extend(rtt)
            snapshots.extend(snaps[: max(0, k_base + 1 - len(snapshots))])
            routing_meta[:] = [meta]

    model, tm = time_compute(sc, steps, args.chunk, repeat, keep_first=True, after_chunk=stages_after_chunk)
    src, dst, dests, n_st = routing_meta[0]
    net = model.network
    n_sats, n_sites, n_pairs = len(model.constellation), len(model.sites), len(net.pair_src)
    timed_t = model.t_ns[WARMUP_STEPS: WARMUP_STEPS + steps]
    say(f"[1] leonet compute_chunk on hypatia-starlink: {n_sats} satellites, {n_sites} stations, "
        f"{n_pairs} pairs, {len(net.isl_candidates)} ISL candidates, step {sc.time.step_s} s")
    say(f"    load_scenario {load_s * 1e3:.1f} ms; build_model (+ site index) {tm.build_s * 1e3:.1f} ms; "
        f"warm-up ({WARMUP_STEPS} steps) {tm.warmup_s * 1e3:.1f} ms")
    say(f"    {steps} steps x {repeat} pass(es) in chunks of {args.chunk}: per chunk (ms/step) "
        + ", ".join(f"{x:.1f}" for x in tm.chunk_ms_per_step))
    say(f"    median {tm.median_ms:.2f} ms/step, mean {tm.mean_ms:.2f} ms/step, best chunk {tm.min_ms:.2f} ms/step; "
        f"CPU time median {tm.median_cpu_ms:.2f} ms/step")
    say()

    # ---- 2. stage breakdown on the same steps -----------------------------------------------
    per_step = {s: statistics.median(v) * 1e3 for s, v in stage_t.items()}
    staged_total = sum(per_step[s] for s in STAGES)
    ref = tm.median_cpu_ms
    other = ref - staged_total
    rows = [[s, f"{per_step[s]:.2f}", f"{100 * per_step[s] / ref:.0f}%"] for s in STAGES]
    rows.append(["rest: tables, site_steps, ground/feeder links, chunk set-up", f"{other:.2f}", f"{100 * other / ref:.0f}%"])
    rows.append(["compute_chunk (median CPU time)", f"{ref:.2f}", "100%"])
    if "incremental" in per_step:
        rows.append(["(full forwarding_state: the reference, not in the step)", f"{per_step['incremental']:.2f}",
                     f"{100 * per_step['incremental'] / ref:.0f}%"])
    say("[2] where a step's time goes: each stage timed alone (CPU time) on the same steps, interleaved "
        "with the chunks\n    above, median per step; 'rest' = compute_chunk median CPU time - stages")
    say(table(["stage", "CPU ms/step", "share"], rows))
    # The stage replica must give exactly the rows compute_chunk wrote (float32 column).
    ps = tm.first_tables.get("pair_steps")
    replica_ok = None
    if ps is not None:
        tcol = ps.column("t").cast(pa.int64()).to_numpy()
        rcol = ps.column("rtt_ms").to_numpy(zero_copy_only=False)
        n_chk = min(len(np.unique(tcol)), steps)
        replica_ok = all(
            np.array_equal(rcol[tcol == timed_t[k]], leo_rtt[k].astype(np.float32), equal_nan=True)
            for k in range(n_chk)
        )
        say(f"    stage replica == compute_chunk's pair_steps.rtt_ms (float32) on {n_chk} steps: {replica_ok}")
    say()

    # ---- 3. baseline: networkx Floyd-Warshall, Hypatia's approach ---------------------------
    base_rows, base_steps_s, base_cpu_s, fw_s, max_diffs, paired, ok = [], [], [], [], [], [], True
    paired_inc: list[float] = []
    if k_base:
        say(f"[3] baseline: networkx.floyd_warshall_numpy on the {n_sats}-satellite ISL graph + min over "
            f"ground links, {k_base} step(s)")
        try:
            import networkx  # noqa: F401
        except ImportError:
            say("    networkx is not installed: baseline skipped (pip install networkx)")
            k_base = 0
    for k in range(k_base):
        c0, t0 = time.process_time(), time.perf_counter()
        base, parts = baseline_pair_rtt_ms(n_sats, n_st, src, dst, snapshots[k])
        total, total_cpu = time.perf_counter() - t0, time.process_time() - c0
        leo_s, leo_cpu_s = leonet_routing_s(n_sats, n_st, src, dst, dests, snapshots[k])
        paired.append(total_cpu / leo_cpu_s)
        inc_cpu_s = None
        if args.incremental and len(snapshots) > 1:
            primer = snapshots[k - 1] if k else snapshots[k + 1]  # an adjacent step, 100 ms away
            _, inc_cpu_s = leonet_routing_s(n_sats, n_st, src, dst, dests, snapshots[k], primer=primer)
            paired_inc.append(total_cpu / inc_cpu_s)
        max_diff, unreachable, same_reach = compare(base, leo_rtt[k])
        ok &= same_reach and max_diff <= TOL_MS
        base_steps_s.append(total)
        base_cpu_s.append(total_cpu)
        fw_s.append(parts["floyd_warshall_s"])
        max_diffs.append(max_diff)
        base_rows.append([f"t = {(timed_t[k] - model.t_ns[0]) / 1e9:.1f} s", f"{parts['graph_s']:.3f}",
                          f"{parts['floyd_warshall_s']:.2f}", f"{parts['ground_min_s']:.3f}", f"{total:.2f}",
                          f"{total_cpu:.2f}", f"{leo_cpu_s * 1e3:.1f}", f"{total_cpu / leo_cpu_s:,.0f}x",
                          f"{max_diff:.2e}", str(unreachable), str(same_reach)]
                         + ([f"{inc_cpu_s * 1e3:.2f}", f"{total_cpu / inc_cpu_s:,.0f}x"] if inc_cpu_s else []))
    if k_base:
        inc_cols = ["incremental routing CPU ms", "CPU ratio (incr.)"] if paired_inc else []
        base_rows = [r + ["-"] * (len(inc_cols) - (len(r) - 11)) if len(r) < 11 + len(inc_cols) else r for r in base_rows]
        say(table(["step", "graph s", "Floyd-W. s", "ground min s", "total s", "CPU s",
                   "leonet routing CPU ms", "CPU ratio", "max |dRTT| ms", "unreachable", "same reach"] + inc_cols,
                  base_rows))
        say("    leonet routing = station_graph + forwarding_state + route_pairs on the same snapshot, "
            "best of 5, timed right after the baseline step;\n    CPU ratio = baseline CPU s / leonet routing CPU s")
        if paired_inc:
            say("    incremental routing = the same with ForwardingTracker.update (holding an adjacent step's "
                "trees, 100 ms away) in place of forwarding_state")
        say(f"    correctness: baseline RTT == leonet RTT (float64) within {TOL_MS:g} ms on all "
            f"{n_pairs} pairs x {k_base} step(s): {'PASS' if ok else 'FAIL'} (max difference "
            f"{max(max_diffs):.2e} ms)")
        say()

    # ---- 4. scaling -----------------------------------------------------------------------
    scaling: list[dict] = []
    row_failed = False
    if not args.no_scaling:
        say(f"[4] scaling: compute_chunk ms/step (wall and CPU), median of chunks of 10 over {s_steps} steps "
            f"x 2 passes after {WARMUP_STEPS} warm-up steps;\n    Dijkstra = the forwarding state alone (CPU time) "
            "on the same graphs, interleaved with the chunks (median per step); share = Dijkstra / CPU ms/step;\n    "
            "Dijkstra here = the ForwardingTracker, as the step runs it")
        with tempfile.TemporaryDirectory(prefix="leonet-bench-") as tmp:
            configs = [
                ("ukraine-gen1 (30 dishes, EU gateways/PoPs, 1 s)", lambda n: load_scenario(
                    "ukraine-gen1", overrides={"outputs.visibility_pairs": False,
                                               "time.duration_s": duration_for(n, 1.0)}), False),
                ("ukraine-2022 (the default; 90 dish cells, 10 s)", lambda n: load_scenario(
                    "ukraine-2022", overrides={"outputs.visibility_pairs": False,
                                               "time.duration_s": duration_for(n, 10.0)}), False),
                ("hypatia-starlink, 25 stations", lambda n: hypatia_scenario(n, 25, tmpdir=tmp), True),
                ("hypatia-starlink, 50 stations", lambda n: hypatia_scenario(n, 50, tmpdir=tmp), True),
                ("hypatia-starlink, 100 stations", lambda n: hypatia_scenario(n, 100, tmpdir=tmp), True),
                ("starlink-shell1 (FCC), 100 cities", lambda n: hypatia_scenario(n, constellation="starlink-shell1"), True),
                ("kuiper (3 shells), 100 cities", lambda n: hypatia_scenario(n, constellation="kuiper"), True),
                ("starlink-gen1 (5 shells), 100 cities", lambda n: hypatia_scenario(n, constellation="starlink-gen1"), True),
            ]
            if gen2:
                configs.append(("starlink-gen2 (9 shells), 100 cities",
                                lambda n: hypatia_scenario(n, constellation="starlink-gen2"), True))
            rows = []
            for label, make, pairs in configs:
                n = s_steps if "gen2" not in label else min(s_steps, 10)
                dij: list[float] = []

                def dijkstra_after_chunk(m, r, times, dij=dij):
                    st = {s: [] for s in STAGES}
                    station_routes(m, times, len(times), st)
                    dij.extend(st["forwarding"])

                try:
                    m, t = time_compute(make(n), n, min(args.chunk, 10), 2,
                                        after_chunk=dijkstra_after_chunk if pairs else None)
                except Exception as err:  # a row that breaks is reported, not hidden; the exit status says so
                    say(f"    {label}: FAILED: {type(err).__name__}: {err}")
                    scaling.append({"scenario": label, "error": f"{type(err).__name__}: {err}"})
                    row_failed = True
                    continue
                mnet = m.network
                row = {"scenario": label, "satellites": len(m.constellation), "sites": len(m.sites),
                       "pairs": int(len(mnet.pair_src)), "dishes": int(len(mnet.dish_sites)),
                       "steps": n, "build_ms": t.build_s * 1e3, "ms_per_step": t.median_ms,
                       "mean_ms_per_step": t.mean_ms, "cpu_ms_per_step": t.median_cpu_ms}
                if pairs:
                    row["dijkstra_ms"] = statistics.median(dij) * 1e3
                rows.append(row)
                scaling.append(row)
                dj = row.get("dijkstra_ms")
                say(f"    {label}: {row['ms_per_step']:.1f} ms/step wall (chunks: "
                    + ", ".join(f"{x:.1f}" for x in t.chunk_ms_per_step) + f"), {row['cpu_ms_per_step']:.1f} CPU ms/step"
                    + (f", Dijkstra {dj:.1f} CPU ms" if dj is not None else ""))
                del m
            say()
            say(table(
                ["scenario", "sats", "sites", "pairs", "build ms", "ms/step", "CPU ms/step", "Dijkstra CPU ms",
                 "share", "steps/s (CPU)"],
                [[r["scenario"], f"{r['satellites']:,}", r["sites"], f"{r['pairs']:,}", f"{r['build_ms']:.0f}",
                  f"{r['ms_per_step']:.1f}", f"{r['cpu_ms_per_step']:.1f}",
                  f"{r['dijkstra_ms']:.1f}" if "dijkstra_ms" in r else "-",
                  f"{100 * r['dijkstra_ms'] / r['cpu_ms_per_step']:.0f}%" if "dijkstra_ms" in r else "-",
                  f"{1e3 / r['cpu_ms_per_step']:.0f}"] for r in rows]))
            say()

    # ---- summary --------------------------------------------------------------------------
    say("Summary (one core)")
    say("-" * 78)
    summary = [
        ["leonet hypatia-starlink, compute_chunk (median over chunks)", f"{tm.median_ms:.2f} ms/step"],
        ["leonet hypatia-starlink, compute_chunk (overall mean)", f"{tm.mean_ms:.2f} ms/step"],
        ["leonet hypatia-starlink, compute_chunk CPU time (median)", f"{tm.median_cpu_ms:.2f} ms/step"],
        ["leonet build_model (once per run)", f"{tm.build_s * 1e3:.1f} ms"],
        ["leonet forwarding state toward 100 destinations (ForwardingTracker.update, CPU time)",
         f"{per_step['forwarding']:.2f} ms/step"],
        ["leonet pair paths, 9,900 (PairPathWalker.walk, CPU time)", f"{per_step['paths']:.2f} ms/step"],
    ]
    if "incremental" in per_step:
        summary += [["reference: full forwarding_state from scratch (not in the step), CPU time",
                     f"{per_step['incremental']:.2f} ms/step"]]
    if k_base:
        b_med = statistics.median(base_steps_s)
        fw_med = statistics.median(fw_s)
        routing_ms = per_step["graph"] + per_step["forwarding"] + per_step["paths"]  # CPU time
        summary += [
            ["baseline (networkx Floyd-Warshall + ground min), measured", f"{b_med:.2f} s/step"],
            ["  of which floyd_warshall_numpy", f"{fw_med:.2f} s/step"],
            ["baseline CPU time, measured", f"{statistics.median(base_cpu_s):.2f} s/step"],
            ["speed-up, measured: baseline / leonet compute_chunk (wall)", f"{b_med * 1e3 / tm.median_ms:,.0f}x"],
            ["speed-up, measured: baseline / leonet compute_chunk (CPU time)",
             f"{statistics.median(base_cpu_s) * 1e3 / tm.median_cpu_ms:,.0f}x"],
            ["speed-up, measured: baseline / leonet routing alone (graph+forwarding+paths), CPU time",
             f"{statistics.median(base_cpu_s) * 1e3 / routing_ms:,.0f}x"],
            ["speed-up, measured: routing alone (full forwarding_state), CPU time, paired on one snapshot",
             f"{statistics.median(paired):,.0f}x"],
        ]
        if paired_inc:
            summary += [["speed-up, measured: routing alone with the tracker, CPU time, paired on one snapshot",
                         f"{statistics.median(paired_inc):,.0f}x"]]
        summary += [
            ["correctness: max |RTT difference| vs baseline", f"{max(max_diffs):.2e} ms ({'PASS' if ok else 'FAIL'})"],
        ]
    summary += [
        [f"anchor, NOT measured here: Hypatia reports ~{HYPATIA_ANCHOR_S_PER_STEP:g} s/step on one core", ""],
        ["  implied ratio, anchor / leonet compute_chunk CPU time (not measured here)",
         f"~{HYPATIA_ANCHOR_S_PER_STEP * 1e3 / tm.median_cpu_ms:,.0f}x"],
    ]
    say(table(["figure", "value"], summary, "lr"))
    elapsed = time.perf_counter() - t_start
    load_end = " ".join(f"{x:.2f}" for x in os.getloadavg())
    say(f"\nbenchmark wall time {elapsed:.0f} s; load average at the end {load_end} "
        f"(at the start {info['load_avg']}; other processes share this machine's cores)")

    results.update({
        "hypatia": {"satellites": n_sats, "stations": n_sites, "pairs": n_pairs, "steps": steps, "repeat": repeat,
                    "chunk": args.chunk, "load_ms": load_s * 1e3, "build_ms": tm.build_s * 1e3,
                    "warmup_ms": tm.warmup_s * 1e3, "chunk_ms_per_step": tm.chunk_ms_per_step,
                    "median_ms_per_step": tm.median_ms, "mean_ms_per_step": tm.mean_ms,
                    "median_cpu_ms_per_step": tm.median_cpu_ms,
                    "stages_ms_per_step": per_step, "replica_matches_tables": replica_ok},
        "baseline": {"steps": k_base, "s_per_step": base_steps_s, "cpu_s_per_step": base_cpu_s,
                     "floyd_warshall_s": fw_s,
                     "max_abs_rtt_diff_ms": max_diffs, "paired_routing_ratio": paired,
                     "paired_incremental_routing_ratio": paired_inc, "pass": ok},
        "anchor": {"hypatia_s_per_step": HYPATIA_ANCHOR_S_PER_STEP, "measured": False},
        "scaling": scaling, "wall_s": elapsed,
    })
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))
    return 0 if ok and replica_ok is not False and not row_failed else 1


if __name__ == "__main__":
    sys.exit(main())
