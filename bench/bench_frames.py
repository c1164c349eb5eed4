#!/usr/bin/env python
"""Cost of the Earth-rotation convention per ``propagate`` call (issue 16).

Run from the repository root:

    PYTHONPATH=src .venv/bin/python bench/bench_frames.py            # ~20 s on a shared core (bench/README.md)
    PYTHONPATH=src .venv/bin/python bench/bench_frames.py --repeats 9

What it measures: CPU time (``time.process_time``; the machine may be shared, so wall time is not
used) of ``leonet.propagate`` for the real Starlink constellation of 2026-08-22
(``/work/shared/data/orbits/starlink_2026-08-22.tle``, 10,744 satellites; or ``--tle FILE``) in
three conventions:

- ``utc``: GMST of UTC (Hypatia's convention; leonet's only one before issue 16) - the baseline;
- ``ut1``: GMST of UT1, UT1-UTC interpolated from the IERS table (the new default);
- ``ut1+pm``: also rotated by polar motion.

for the call shapes leonet makes: one instant (the app's sky, the timeline's ``positions_at``),
a 60-step chunk (``instants.Chunk``) and 600 look-ahead instants of 1,000 satellites
(``service._remaining_visibility_s``-like). Each figure is the minimum and the median over
``--repeats`` calls after one warm-up call; the IERS table's one-off load (once per process) is
timed separately. Single-threaded BLAS/OpenMP (set before numpy is imported).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

DEFAULT_TLE = Path("/work/shared/data/orbits/starlink_2026-08-22.tle")


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def timed(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times), float(np.median(times))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tle", type=Path, default=DEFAULT_TLE)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    import astropy_iers_data
    import sgp4

    import leonet
    from leonet.space import tle
    from leonet.space.constellation import Constellation
    from leonet.space.earth_rotation import eop_table
    from leonet.space.frames import FrameConvention
    from leonet.space.propagate import propagate
    from leonet.timeutil import utc_to_ns

    t0 = time.process_time()
    eop_table()
    load_s = time.process_time() - t0

    elements = tle.read_tle(args.tle)
    n = len(elements)
    full = Constellation.from_parts([("s", elements, np.full(n, -1), np.full(n, -1))])
    full.satrec_array  # build the SGP4 records outside the timings
    small_idx = np.arange(0, n, max(1, n // 1000))[:1000]
    small = Constellation(elements=elements.take(small_idx), shell=full.shell[small_idx],
                          plane=full.plane[small_idx], slot=full.slot[small_idx], shell_names=full.shell_names)
    small.satrec_array
    start = utc_to_ns("2026-08-22T18:00:00Z")
    shapes = {
        f"1 instant x {n} sats": (full, np.array([start])),
        f"60 instants x {n} sats": (full, start + np.arange(60, dtype=np.int64) * 10**9),
        f"600 instants x {len(small)} sats": (small, start + np.arange(600, dtype=np.int64) * 10**9),
    }
    conventions = {"utc": FrameConvention("utc"), "ut1": FrameConvention("ut1"),
                   "ut1+pm": FrameConvention("ut1", polar_motion=True)}

    print("leonet frames benchmark (issue 16): CPU time per propagate() call")
    print("=" * 78)
    print(f" date_utc: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    print(f"      cpu: {cpu_model()}  (nproc {os.cpu_count()}, load avg {' '.join(f'{v:.2f}' for v in os.getloadavg())})")
    print(f"   python: {platform.python_version()}  numpy {np.__version__}  sgp4 {sgp4.__version__}  "
          f"leonet {leonet.__version__}  astropy-iers-data {astropy_iers_data.__version__}")
    print(f"      tle: {args.tle} ({n} satellites)")
    print(f" repeats: {args.repeats} (min / median CPU ms; one warm-up call first)")
    print(f" IERS table load (once per process): {load_s * 1e3:.0f} ms CPU")
    print()
    print(f" {'call':<28}" + "".join(f"{name:>18}" for name in conventions) + f"{'ut1/utc':>9}{'pm/utc':>8}")
    for label, (c, t_ns) in shapes.items():
        mins, row = {}, ""
        for name, conv in conventions.items():
            cc = replace(c, frame=conv)
            cc.__dict__["satrec_array"] = c.satrec_array  # share the built records (cached_property)
            lo, med = timed(lambda: propagate(cc, t_ns), args.repeats)
            mins[name] = lo
            row += f"{lo * 1e3:>9.2f} / {med * 1e3:>6.2f}"
        print(f" {label:<28}{row}{mins['ut1'] / mins['utc']:>9.3f}{mins['ut1+pm'] / mins['utc']:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
