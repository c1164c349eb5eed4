"""Issue 14 benchmark: N-1 over the gateways of the default scenario as one study (variants share
the base's build: inputs, sites, network, capacity and service models made once per process)
against the same variants run as independent full runs, in one run; and the study on 2 local
workers and on a Dask LocalCluster(2).

    PYTHONPATH=src .venv/bin/python bench/bench_planning.py [--duration 86400] [--step 3600]

Prints wall and CPU time (this process and its children) of each, the speed-ups, and checks
that every variant's dish_steps table is identical between the independent runs and the study.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path


def cpu_s() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):
    w0, c0 = time.perf_counter(), cpu_s()
    out = fn()
    return out, time.perf_counter() - w0, cpu_s() - c0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=86400)
    ap.add_argument("--step", type=float, default=3600)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()

    import leonet
    from leonet.planning.contingency import BASE, elements_of
    from leonet.planning.contingency import _variant as element_variant
    from leonet.planning.variants import Variant, folder_name, run_variants, scenario_data, scenario_for

    base = leonet.load_scenario("ukraine-2022", overrides={"time.duration_s": args.duration, "time.step_s": args.step})
    variants = [Variant(BASE)] + [element_variant((e,)) for e in elements_of(base, "gateways")]
    work = Path(tempfile.mkdtemp(prefix="bench-planning-"))
    data = scenario_data(base)

    def independent():
        for v in variants:
            sc = scenario_for(data, base.base_dir, v)
            leonet.run(sc, out_dir=work / "independent" / folder_name(v.name))

    rows = []
    _, w, c = timed(independent)
    rows.append(("independent full runs (each builds its inputs)", w, c))
    _, w, c = timed(lambda: run_variants(base, variants, work / "study1"))
    rows.append(("study, shared build, 1 process", w, c))
    _, w, c = timed(lambda: run_variants(base, variants, work / "study2", workers=2))
    rows.append(("study, shared build, 2 local workers", w, c))
    if not args.no_dask:
        _, w, c = timed(lambda: run_variants(base, variants, work / "study3", workers=2, dask="local"))
        rows.append(("study, shared build, Dask LocalCluster(2)", w, c))

    import pyarrow.parquet as pq

    differ = []
    for v in variants:
        # pandas' equals counts NaN == NaN (Arrow's does not): same values, same places
        a = pq.read_table(work / "independent" / folder_name(v.name) / "dish_steps").to_pandas()
        b = pq.read_table(work / "study1" / "variants" / folder_name(v.name) / "dish_steps").to_pandas()
        cols = [c for c in a.columns if not a[c].equals(b[c])]
        if cols:
            differ.append(f"{v.name}: {', '.join(cols)}")
    same = not differ
    ref = rows[0][1]
    print(f"N-1 over {len(variants) - 1} gateways of ukraine-2022 ({args.duration:g} s at {args.step:g} s steps), "
          f"{len(variants)} variants; CPU: {cpu_model()}, {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    print("| run | wall (s) | CPU (s) | speed-up (wall) vs independent |")
    print("|---|---|---|---|")
    for name, w, c in rows:
        print(f"| {name} | {w:.1f} | {c:.1f} | {ref / w:.2f}x |")
    print(f"dish_steps identical between the independent runs and the study: {same}")
    for line in differ:
        print(f"  differs: {line}")
    if not same:
        print(f"  (kept {work})")
        raise SystemExit(1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
