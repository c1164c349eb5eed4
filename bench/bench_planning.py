"""Issue 14 benchmark: N-1 over the gateways of the default scenario, in one run:

- independent full runs (each variant builds its inputs and runs on its own);
- shared build only: each variant runs on its own on the base's build (inputs, sites, network,
  capacity and service models made once per process) - the study before stage reuse;
- shared steps: the study as `leonet contingency` runs it (variants that differ only in events
  step through each chunk together: positions, visibility and sky-only links once per step,
  allocation and service once per distinct routes), in 1 process, on 2 local workers and on a
  Dask LocalCluster(2).

    PYTHONPATH=src .venv/bin/python bench/bench_planning.py [--duration 86400] [--step 3600]

Prints wall and CPU time (this process and its children) of each, the speed-ups, and checks
that every table of every variant is identical, column by column, between the independent runs
and each study.
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
    from leonet.planning.variants import (SHARED, Variant, _run_unit, folder_name, run_variants, scenario_data,
                                          scenario_for)

    base = leonet.load_scenario("ukraine-2022", overrides={"time.duration_s": args.duration, "time.step_s": args.step})
    variants = [Variant(BASE)] + [element_variant((e,)) for e in elements_of(base, "gateways")]
    work = Path(tempfile.mkdtemp(prefix="bench-planning-"))
    data = scenario_data(base)

    def independent():
        for v in variants:
            sc = scenario_for(data, base.base_dir, v)
            leonet.run(sc, out_dir=work / "independent" / folder_name(v.name))

    def shared_build_only():
        out = work / "build-only"
        for v in variants:
            _run_unit((data, base.base_dir, None), (v,), (str(out / folder_name(v.name)),))

    rows = []
    _, w, c = timed(independent)
    rows.append(("independent full runs (each builds its inputs)", w, c))
    _, w, c = timed(shared_build_only)
    rows.append(("shared build only, each variant its own steps", w, c))
    table, w, c = timed(lambda: run_variants(base, variants, work / "study1"))
    assert set(table["path"]) == {SHARED}, table["path"].tolist()
    rows.append(("shared steps, 1 process", w, c))
    _, w, c = timed(lambda: run_variants(base, variants, work / "study2", workers=2))
    rows.append(("shared steps, 2 local workers", w, c))
    folders = {"build-only": work / "build-only", "study1": work / "study1" / "variants",
               "study2": work / "study2" / "variants"}
    if not args.no_dask:
        _, w, c = timed(lambda: run_variants(base, variants, work / "study3", workers=2, dask="local"))
        rows.append(("shared steps, Dask LocalCluster(2)", w, c))
        folders["study3"] = work / "study3" / "variants"

    import numpy as np
    import pyarrow.parquet as pq

    def differences(a: Path, b: Path) -> list[str]:
        out = []
        for table_dir in sorted(p for p in a.iterdir() if p.is_dir()):
            for f in sorted(table_dir.glob("*.parquet")):
                x, y = pq.read_table(f), pq.read_table(b / table_dir.name / f.name)
                if x.schema != y.schema or x.num_rows != y.num_rows:
                    out.append(f"{table_dir.name}/{f.name}: schema or rows")
                    continue
                for col in x.column_names:
                    p, q = x.column(col).combine_chunks(), y.column(col).combine_chunks()
                    if str(p.type) in ("double", "float"):
                        ok = np.array_equal(p.to_numpy(zero_copy_only=False), q.to_numpy(zero_copy_only=False),
                                            equal_nan=True)
                    else:
                        ok = p.equals(q)
                    if not ok:
                        out.append(f"{table_dir.name}/{f.name}:{col}")
        return out

    differ = []
    n_tables = 0
    for v in variants:
        ref_dir = work / "independent" / folder_name(v.name)
        n_tables = len([p for p in ref_dir.iterdir() if p.is_dir()])
        for label, root in folders.items():
            differ += [f"{label} {v.name}: {d}" for d in differences(ref_dir, root / folder_name(v.name))]
    same = not differ
    ref = rows[0][1]
    print(f"N-1 over {len(variants) - 1} gateways of ukraine-2022 ({args.duration:g} s at {args.step:g} s steps), "
          f"{len(variants)} variants; CPU: {cpu_model()}, {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    print("| run | wall (s) | CPU (s) | speed-up (wall) | speed-up (CPU) | wall per variant (s) |")
    print("|---|---|---|---|---|---|")
    ref_cpu = rows[0][2]
    for name, w, c in rows:
        print(f"| {name} | {w:.1f} | {c:.1f} | {ref / w:.2f}x | {ref_cpu / c:.2f}x | {w / len(variants):.2f} |")
    print(f"every table ({n_tables} per variant) identical, column by column, between the independent runs and "
          f"{', '.join(folders)}: {same}")
    for line in differ:
        print(f"  differs: {line}")
    if not same:
        print(f"  (kept {work})")
        raise SystemExit(1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
