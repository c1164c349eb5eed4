#!/usr/bin/env python
"""Scale-out, paired and repeated (issue 15, item 5): 1 worker, 2 local workers, and a Dask
LocalCluster of 2 processes with Dask's default diagnostics and with leonet's settings
(``leonet.sim.daskrun.LOCAL_CLUSTER_CONFIG``: no sampling profiler), on P4 (``ukraine-gen1``,
one hour at 1 s, chunks of 60) or P2 (Gen1 with capacity, 10,000 dishes).

    .venv/bin/python bench/bench_scaleout.py --rounds 2                 # P4, ~3-4 min on 2 cores
    .venv/bin/python bench/bench_scaleout.py --workload p2 --duration 600

Each round runs every configuration once, in a fresh child process each (bench_scale's child:
single-threaded BLAS, CPU of the whole process tree from wait4), in a rotated order so that a
drift in the machine's load does not favour one configuration; the speed-up of a round is its
1-worker wall time over the configuration's wall time in the same round. The machine is shared:
read the median over rounds and the CPU column.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_scale as bs  # noqa: E402

CONFIGS = [("1 worker", 1, None, None), ("2 local workers", 2, None, None),
           ("Dask local 2, Dask defaults", 2, "local", {}), ("Dask local 2, leonet settings", 2, "local", None)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", choices=["p4", "p2"], default="p4")
    ap.add_argument("--duration", type=float, default=3600.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="leonet-scaleout-"))
    scenario = bs.p4_scenario(args.duration) if args.workload == "p4" else bs.p2_scenario(args.duration)
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")), "?")
    print(f"{args.workload} {args.duration:g} s; CPU {model}, {bs.machine_info()['nproc']} CPUs; load {bs.load()}")
    rows = {c[0]: [] for c in CONFIGS}
    for rnd in range(args.rounds):
        order = CONFIGS[rnd % len(CONFIGS):] + CONFIGS[:rnd % len(CONFIGS)]
        walls = {}
        for label, w, dask, cfg in order:
            out_dir = work / f"out-{rnd}-{w}-{dask}-{cfg is None}"  # fresh: the same folder would resume
            spec = {"task": "run", "scenario": scenario, "out_dir": str(out_dir), "workers": w, "dask": dask}
            if cfg is not None:
                spec["local_cluster_config"] = cfg
            r = bs.run_child(spec, work, label.replace(" ", "_").replace(",", ""))
            shutil.rmtree(out_dir, ignore_errors=True)
            if r["computed"] != r["chunks"]:
                raise SystemExit(f"{label}: computed {r['computed']} of {r['chunks']} chunks (not a fresh run)")
            walls[label] = (r["wall_s"], bs.cpu_of(r), r["first_chunk_s"], bs.load())
            print(f"  round {rnd + 1}: {label}: {r['wall_s']:.1f} s wall, {bs.cpu_of(r):.1f} s CPU, first chunk at "
                  f"{r['first_chunk_s'] or float('nan'):.1f} s (load {walls[label][3]})", flush=True)
        base = walls["1 worker"][0]
        for label, (wall, cpu, first, ld) in walls.items():
            rows[label].append({"wall_s": wall, "cpu_s": cpu, "first_chunk_s": first, "speedup": base / wall, "load": ld})
    print()
    print(bs.table(["configuration", "speed-ups per round", "median", "wall s (median)", "CPU s (median)"],
                   [[k, ", ".join(f"{x['speedup']:.2f}" for x in v), f"{statistics.median(x['speedup'] for x in v):.2f}x",
                     f"{statistics.median(x['wall_s'] for x in v):.1f}", f"{statistics.median(x['cpu_s'] for x in v):.1f}"]
                    for k, v in rows.items()]))
    if args.json:
        args.json.write_text(json.dumps({"workload": args.workload, "duration_s": args.duration, "cpu": model,
                                         "rounds": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
