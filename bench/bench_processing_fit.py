"""Reproduce the fit of the realism check's processing term before 2024 (one global constant).

Runs the realism check on Starlink's per-country figures of 2023-09-08 (31 countries; a month the
check does not report) with the current schedule, and prints the value at which the median
country's latency p50 error would be zero: ``current - median(leonet - published)``. A constant
added to every RTT shifts each country's weighted p50 by exactly that constant, so one run gives
the fit. With the shipped schedule (``leonet.realism.calibrated.PROCESSING_MS``) the printed value
should equal the shipped one (6.4 ms) within a few tenths (the same samples a day earlier read 6.8).

    PYTHONPATH=src python bench/bench_processing_fit.py [--metrics FILE]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from leonet.realism.calibrated import PROCESSING_FIT, processing_ms_at
from leonet.realism.check import run_realism
from leonet.realism.metrics import read_published_metrics

SEP_2023 = (Path(__file__).resolve().parents[1].parent / "shared" / "data" / "measured"
            / "starlink_published_metrics" / PROCESSING_FIT["metrics_file"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics", default=str(SEP_2023), help="metrics file to fit on (default: the 2023-09-08 file)")
    ap.add_argument("--workers", type=int, default=2, help="countries run at once (default 2: the CI machine's cores)")
    args = ap.parse_args()
    metrics = read_published_metrics(args.metrics)
    t0 = time.perf_counter()
    result = run_realism(metrics, mode="full", references=False, workers=args.workers)
    errors = {r["country"]: r["leonet"] - r["published"] for r in result.rows
              if r["metric"] == "latency_p50" and r.get("leonet") is not None}
    current = processing_ms_at(metrics.date)
    median = float(np.median(list(errors.values())))
    within = sum(abs(e) <= 5 for e in errors.values())
    print(f"{len(errors)} countries of {Path(args.metrics).name} ({time.perf_counter() - t0:.0f} s)")
    print(f"processing term now {current:.1f} ms: median error {median:+.1f} ms, {within} within 5 ms")
    print(f"fitted processing term (median error 0): {current - median:.1f} ms "
          f"(shipped: {PROCESSING_FIT['value_ms']:.1f}; US peak-hour anchor: {PROCESSING_FIT['us_peak_hour_anchor_ms']:.1f})")
    for c, e in sorted(errors.items(), key=lambda kv: kv[1]):
        print(f"  {c} {e:+.1f} ms")


if __name__ == "__main__":
    main()
