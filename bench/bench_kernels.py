#!/usr/bin/env python
"""Network kernels before and after (issue 15): each new kernel against the implementation it
replaces, on Hypatia's workload (hypatia-starlink: 72x22 shell, top-100 cities, 9,900 pairs,
100 ms steps).

Run from the repository root:

    PYTHONPATH=src .venv/bin/python bench/bench_kernels.py               # ~1 minute
    PYTHONPATH=src .venv/bin/python bench/bench_kernels.py --callgrind   # + instruction counts

Kernels (before -> after):

- forwarding state toward 100 destinations: ``forwarding_state`` (a bucket-queue Dijkstra per
  destination, every step) -> ``ForwardingTracker.update`` (last step's trees checked and
  repaired), over consecutive steps;
- pair path walk: ``route_pairs_reference`` (numpy, vectorised) -> ``route_pairs`` (compiled);
- path comparison (``path_changed``): ``same_rows_reference`` -> ``same_rows``;
- list layout of the paths for Arrow: ``list_offsets_values_reference`` -> ``list_offsets_values``;
- laser geometry: ``active_isls_reference`` -> ``active_isls``;
- station graph build: ``station_graph_reference`` (scipy COO -> CSR) -> ``station_graph``.

Every "after" is checked equal to its "before" on every step before it is timed. Times are CPU
time (``time.process_time``) per call, median over steps x repeats, before and after interleaved;
single-threaded (BLAS/OpenMP set to 1 thread). On a shared machine they move with the load: treat
them as approximate. ``--callgrind`` also counts instructions per call under valgrind's callgrind
(deterministic; independent of the load): the region around N calls minus an empty region, / N.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from leonet.network import paths  # noqa: E402
from leonet.network.incremental import ForwardingTracker  # noqa: E402
from leonet.network.isl import active_isls, active_isls_reference  # noqa: E402
from leonet.network.pairs import (forwarding_state, route_pairs, route_pairs_reference,  # noqa: E402
                                  station_graph, station_graph_reference)
from leonet.scenario import load_scenario  # noqa: E402
from leonet.sim.model import build_model  # noqa: E402
from leonet.space.propagate import propagate  # noqa: E402


def workload(n_steps: int, constellation: str | None = None):
    """Everything the kernels take, at ``n_steps`` consecutive steps of hypatia-starlink (with
    another constellation preset in place of its shell if ``constellation`` is given)."""
    overrides = {"time.duration_s": (n_steps + 1) * 0.1}
    if constellation is None:
        sc = load_scenario("hypatia-starlink", overrides=overrides)
    else:
        import yaml

        import leonet
        from leonet.scenario import scenario_from_dict

        preset = Path(leonet.__file__).resolve().parent / "presets" / "scenarios" / "hypatia-starlink.yaml"
        data = yaml.safe_load(preset.read_text())
        data["constellation"] = constellation
        data["name"] += f"-{constellation}"
        sc = scenario_from_dict(data, source=f"bench {data['name']}", base_dir=preset.parent, overrides=overrides)
    model = build_model(sc)
    net = model.network
    n_sats, n_sites = len(model.constellation), len(model.sites)
    stations = np.unique(np.r_[net.pair_src, net.pair_dst])
    number = np.full(n_sites, -1, dtype=np.int64)
    number[stations] = np.arange(len(stations))
    src, dst = number[net.pair_src], number[net.pair_dst]
    dests = np.unique(dst)
    pos = propagate(model.constellation, model.t_ns[:n_steps])
    steps = []
    for k in range(n_steps):
        ecef = pos.ecef_m[k]
        vis = model.visibility.query(ecef)
        isl = active_isls_reference(net.isl_candidates, ecef, net.grazing_height_m, net.isl_max_range_m)
        local = number[vis.site]
        keep = local >= 0
        graph_args = (n_sats, len(stations), isl.links, isl.length_m, local[keep], vis.sat[keep], vis.range_m[keep])
        matrix = station_graph_reference(*graph_args)
        state = forwarding_state(matrix, n_sats, len(stations), dests)
        pr = route_pairs_reference(state, src, dst)
        steps.append(dict(ecef=ecef, graph_args=graph_args, matrix=matrix, state=state, path=pr.path_sats))
    return dict(net=net, n_sats=n_sats, n_stations=len(stations), src=src, dst=dst, dests=dests, steps=steps)


def kernels(w):
    """name -> (before, after, check): before/after(step_index) run one call; check(k) compares."""
    net, steps = w["net"], w["steps"]
    n_sats, n_st, src, dst, dests = w["n_sats"], w["n_stations"], w["src"], w["dst"], w["dests"]
    isl_args = lambda k: (net.isl_candidates, steps[k]["ecef"], net.grazing_height_m, net.isl_max_range_m)  # noqa: E731
    tracker = ForwardingTracker(n_sats, n_st, dests)

    def tracked(k):
        # Consecutive steps: the tracker holds step k - 1 (prime it where it does not).
        if k == 0 or getattr(tracker, "_bench_last", None) != k - 1:
            tracker.reset()
            tracker.update(steps[k - 1 if k else 0]["matrix"])
        tracker._bench_last = k
        return tracker.update(steps[k]["matrix"])

    def same_fw(k):
        a, b = forwarding_state(steps[k]["matrix"], n_sats, n_st, dests), tracked(k)
        return np.array_equal(a.delay_s, b.delay_s) and np.array_equal(a.next_hop, b.next_hop)

    def same_walk(k):
        a, b = route_pairs_reference(steps[k]["state"], src, dst), route_pairs(steps[k]["state"], src, dst)
        return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("one_way_s", "hops", "path_sats"))

    def same_isl(k):
        a, b = active_isls_reference(*isl_args(k)), active_isls(*isl_args(k))
        return np.array_equal(a.links, b.links) and np.array_equal(a.length_m, b.length_m)

    def same_graph(k):
        a, b = station_graph_reference(*steps[k]["graph_args"]), station_graph(*steps[k]["graph_args"])
        return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("indptr", "indices", "data"))

    prev = lambda k: steps[k - 1 if k else 1]["path"]  # noqa: E731
    return {
        "forwarding state (100 trees)": (lambda k: forwarding_state(steps[k]["matrix"], n_sats, n_st, dests),
                                         tracked, same_fw),
        "pair path walk (9,900 paths)": (lambda k: route_pairs_reference(steps[k]["state"], src, dst),
                                         lambda k: route_pairs(steps[k]["state"], src, dst), same_walk),
        "path_changed (same_rows)": (lambda k: paths.same_rows_reference(prev(k), steps[k]["path"]),
                                     lambda k: paths.same_rows(prev(k), steps[k]["path"]),
                                     lambda k: np.array_equal(paths.same_rows_reference(prev(k), steps[k]["path"]),
                                                              paths.same_rows(prev(k), steps[k]["path"]))),
        "path list layout (Arrow)": (lambda k: paths.list_offsets_values_reference(steps[k]["path"]),
                                     lambda k: paths.list_offsets_values(steps[k]["path"]),
                                     lambda k: all(np.array_equal(a, b) for a, b in zip(
                                         paths.list_offsets_values_reference(steps[k]["path"]),
                                         paths.list_offsets_values(steps[k]["path"])))),
        "lasers (active_isls)": (lambda k: active_isls_reference(*isl_args(k)), lambda k: active_isls(*isl_args(k)),
                                 same_isl),
        "station graph build": (lambda k: station_graph_reference(*steps[k]["graph_args"]),
                                lambda k: station_graph(*steps[k]["graph_args"]), same_graph),
    }


def time_kernels(ks, n_steps: int, repeat: int) -> dict:
    out = {}
    for name, (before, after, check) in ks.items():
        for k in range(n_steps):
            if not check(k):
                raise SystemExit(f"{name}: the new kernel differs from the reference at step {k}")
        times = {"before": [], "after": []}
        for _ in range(repeat):
            for label, fn in (("before", before), ("after", after)):
                for k in range(1, n_steps):  # in step order (the tracker needs consecutive steps)
                    c0 = time.process_time()
                    fn(k)
                    times[label].append(time.process_time() - c0)
        b, a = statistics.median(times["before"]) * 1e3, statistics.median(times["after"]) * 1e3
        out[name] = {"before_ms": b, "after_ms": a, "speedup": b / a, "calls": len(times["after"])}
    return out


def _ctl(*args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, capture_output=True)


def callgrind_child(n_steps: int, calls: int, constellation: str | None = None) -> None:
    """Run under valgrind --tool=callgrind --instr-atstart=no: one dumped region per kernel and
    side, plus an empty region (the cost of toggling), named in the dump's trigger."""
    w = workload(n_steps, constellation)
    ks = kernels(w)
    for i, (before, after, _check) in enumerate(ks.values()):
        for label, fn in (("before", before), ("after", after)):
            fn(1)  # compiled and warm before counting
            _ctl("-i", "on")
            for k in range(2, 2 + calls):
                fn(k)
            _ctl("-d", f"{label}_{i}")  # callgrind_control passes it through sh: a plain word
            _ctl("-i", "off")
    _ctl("-i", "on")
    _ctl("-d", "empty")
    _ctl("-i", "off")


def callgrind(n_steps: int, calls: int, names: list[str], constellation: str | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="leonet-cg-") as tmp:
        out = Path(tmp) / "cg.out"
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}.%p",
               sys.executable, __file__, "--callgrind-child", "--steps", str(n_steps), "--calls", str(calls)]
        cmd += ["--constellation", constellation] if constellation else []
        subprocess.run(cmd, check=True, capture_output=True, env=os.environ.copy())
        regions = {}
        for path in glob.glob(f"{out}.*"):
            text = Path(path).read_text(errors="replace")
            trig = re.search(r"^desc: Trigger: dump (.+)$", text, re.M)
            total = re.search(r"^totals: (\d+)", text, re.M)
            if trig and total:
                regions[trig.group(1).strip()] = int(total.group(1))
    empty = regions.pop("empty")
    res: dict = {}
    for key, ir in regions.items():
        label, i = key.split("_", 1)
        res.setdefault(names[int(i)], {})[label] = (ir - empty) / calls
    for r in res.values():
        r["ratio"] = r["before"] / r["after"]
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=30, help="consecutive steps of the workload (default 30)")
    ap.add_argument("--repeat", type=int, default=5, help="passes over the steps (default 5)")
    ap.add_argument("--callgrind", action="store_true", help="also count instructions under callgrind")
    ap.add_argument("--calls", type=int, default=5, help="calls per callgrind region (default 5)")
    ap.add_argument("--constellation", default=None,
                    help="a constellation preset in place of Hypatia's shell (e.g. starlink-gen2)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--callgrind-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.callgrind_child:
        callgrind_child(args.steps, args.calls, args.constellation)
        return 0
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "unknown")
    print(f"leonet network kernels, before -> after (issue 15); {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"CPU: {cpu}; {os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"Python {platform.python_version()}, numpy {np.__version__}")
    w = workload(args.steps, args.constellation)
    print(f"workload: hypatia-starlink{' with ' + args.constellation if args.constellation else ''}: "
          f"{w['n_sats']:,} satellites, {w['n_stations']} stations, {len(w['src']):,} pairs")
    ks = kernels(w)
    res = time_kernels(ks, args.steps, args.repeat)
    cg = callgrind(2 + args.calls, args.calls, list(ks), args.constellation) if args.callgrind else {}
    head = f"{'kernel':32} {'before CPU ms':>14} {'after CPU ms':>13} {'speed-up':>9}"
    if cg:
        head += f" {'before Minstr':>14} {'after Minstr':>13} {'ratio':>7}"
    print(f"\n{args.steps} consecutive steps x {args.repeat} passes; CPU time per call, median")
    print(head)
    print("-" * len(head))
    for name, r in res.items():
        line = f"{name:32} {r['before_ms']:14.3f} {r['after_ms']:13.3f} {r['speedup']:8.1f}x"
        if name in cg:
            c = cg[name]
            line += f" {c['before'] / 1e6:14.2f} {c['after'] / 1e6:13.2f} {c['ratio']:6.1f}x"
        print(line)
    tb = sum(r["before_ms"] for r in res.values())
    ta = sum(r["after_ms"] for r in res.values())
    print(f"{'all of the above':32} {tb:14.3f} {ta:13.3f} {tb / ta:8.1f}x")
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())} (shared machine: approximate)")
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu, "timing": res, "callgrind": cg}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
