#!/usr/bin/env python
"""Gen2 with capacity at scale (issue 15, item 4): the ITU-R attenuation build cold vs from the
on-disk cache, and the per-step cost of Gen2 x N dish cells with capacity, by stage.

    .venv/bin/python bench/bench_gen2_cache.py                    # 100,000 cells (~10 min on 2 shared cores)
    .venv/bin/python bench/bench_gen2_cache.py --cells 10000 --atm-cells 300

Every measurement runs in a fresh child process (bench_scale's child machinery: single-threaded
BLAS, CPU time from wait4 beside wall time). The attenuation cache goes to a fresh temporary
LEONET_CACHE_DIR: the first child builds cold and fills it, the second reads it.

1. Build with ``capacity.atmosphere: true`` over ``--atm-cells`` random cells (starlink-shell1):
   build CPU cold (itur per cell) and warm (cache hit); the same without the atmosphere; per-cell
   cost cold = (cold - without) / cells, extrapolated linearly to ``--cells``.
2. Gen2 x ``--cells`` with capacity on: compute_chunk per step after warm-up (atmosphere off in
   the step child, as bench_scale P3 does: the per-step work is the same; the tables come from
   the build) and a cProfile grouped by stage. Steps are timed in chunks of ``--chunk`` (a
   run's chunk also recomputes the step before it, for "path changed": with ``--chunk 1`` every
   timed step costs two step computations); CPU per step is given as the minimum and the median
   over the chunks (time.process_time of the child), wall beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_scale as bs  # noqa: E402  (sets the single-thread variables first)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--atm-cells", type=int, default=300)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--chunk", type=int, default=5, help="steps per compute_chunk call (default 5)")
    ap.add_argument("--profile-steps", type=int, default=5, help="steps in the profiled compute_chunk call")
    ap.add_argument("--no-atm", action="store_true", help="skip part 1 (the attenuation build)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--no-steps", action="store_true", help="only the attenuation build (part 1)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="leonet-gen2-"))
    os.environ["LEONET_CACHE_DIR"] = str(work / "cache")
    out: dict = {"machine": bs.machine_info(), "load_before": bs.load()}
    print(f"machine: {out['machine'].get('cpu', '?')}; load {out['load_before']}")

    if args.no_atm:
        return _steps(args, work, out)
    csv_a = work / f"cells{args.atm_cells}.csv"
    bs.write_cells_csv(csv_a, args.atm_cells, seed=2025)
    spec = {"task": "steps", "scenario": bs.p3_scenario("starlink-shell1", str(csv_a), 8, 4, capacity=True, atmosphere=True),
            "warmup": 1, "steps": 1, "chunk": 1}
    cold = bs.run_child(spec, work, "atm-cold")
    warm = bs.run_child(spec, work, "atm-warm")
    spec["scenario"]["dict"]["capacity"]["atmosphere"] = False
    without = bs.run_child(spec, work, "atm-off")
    per_cell_ms = (cold["build_cpu_s"] - without["build_cpu_s"]) / args.atm_cells * 1e3
    atm = {"cells": args.atm_cells, "cold_build_cpu_s": cold["build_cpu_s"], "warm_build_cpu_s": warm["build_cpu_s"],
           "without_build_cpu_s": without["build_cpu_s"], "cold_per_cell_ms": per_cell_ms,
           "warm_per_cell_ms": (warm["build_cpu_s"] - without["build_cpu_s"]) / args.atm_cells * 1e3,
           "cold_est_s_at_cells": per_cell_ms * args.cells / 1e3}
    out["atmosphere"] = atm
    print(f"[1] atmosphere build, {args.atm_cells} cells: CPU cold {cold['build_cpu_s']:.2f} s, from cache "
          f"{warm['build_cpu_s']:.2f} s, without atmosphere {without['build_cpu_s']:.2f} s -> cold {per_cell_ms:.2f} ms "
          f"per cell (both frequencies; ~{atm['cold_est_s_at_cells']:,.0f} s for {args.cells:,} cells, extrapolated), "
          f"cache hit {atm['warm_per_cell_ms']:.3f} ms per cell")

    if args.no_steps:
        if args.json:
            args.json.write_text(json.dumps(out, indent=1, default=str))
        return 0
    return _steps(args, work, out)


def _steps(args, work: Path, out: dict) -> int:
    csv = work / f"cells{args.cells}.csv"
    bs.write_cells_csv(csv, args.cells)
    spec = {"task": "steps", "scenario": bs.p3_scenario("starlink-gen2", str(csv), 8, 2 + args.steps + 1, capacity=True),
            "warmup": 2, "steps": args.steps, "chunk": args.chunk}
    r = bs.run_child(spec, work, "gen2-cap")
    cpu, wall = r["cpu_ms_per_step"], r["ms_per_step"]
    out["gen2_capacity"] = {k: r[k] for k in ("n_dishes", "build_s", "build_cpu_s", "ms_per_step", "cpu_ms_per_step", "maxrss_mb")}
    out["gen2_capacity"]["chunk"] = args.chunk
    print(f"[2] gen2 x {r['n_dishes']:,} cells, capacity on: build {r['build_s']:.1f} s; {args.steps} steps in chunks of "
          f"{args.chunk} (each chunk also recomputes the step before it): CPU per step min {min(cpu) / 1e3:.2f} s, median "
          f"{statistics.median(cpu) / 1e3:.2f} s; wall min {min(wall) / 1e3:.2f} s, median {statistics.median(wall) / 1e3:.2f} s; "
          f"peak RSS {r['maxrss_mb']:,.0f} MiB")
    n = args.profile_steps
    prof = bs.run_child({"task": "profile", "scenario": bs.p3_scenario("starlink-gen2", str(csv), 8, 2 + n + 1, capacity=True),
                         "warmup": 2, "steps": n, "top": 25}, work, "gen2-cap-profile")
    g = prof["groups_ms_per_step"]
    out["gen2_capacity_profile"] = {"groups_ms_per_step": g, "sub_ms_per_step": prof["sub_ms_per_step"],
                                    "top_text": prof["top_text"], "steps": n,
                                    "plain_cpu_ms_per_step": prof["plain_cpu_ms_per_step"]}
    tot = sum(g.values())
    print(f"    where the step goes (cProfile, CPU ms per step of a {n}-step chunk, i.e. {n + 1} step computations / {n}; "
          f"the same chunk unprofiled: {prof['plain_cpu_ms_per_step']:.0f} CPU ms per step):")
    print(bs.table(["stage", "CPU ms/step", "share"], [[k, f"{v:.0f}", f"{100 * v / tot:.0f}%"] for k, v in g.items()]
                   + [[k, f"{v:.0f}", ""] for k, v in prof["sub_ms_per_step"].items()]))
    print(prof["top_text"])
    out["load_after"] = bs.load()
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
