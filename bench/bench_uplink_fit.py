"""Reproduce the fit of the satellite's Ku receive G/T (the user uplink budget), one global constant.

No public figure gives the satellite's receive figure of merit for the user uplink (leonet's
``RadioDefaults.satellite_g_over_t_db_per_k``). It sets the uplink SINR, hence the MODCOD and the
dish's upload cap at that MODCOD (``leonet.service.kits.modcod_cap_bps``), hence what an upload speed
test measures; it moves nothing else the realism check reports (latency and download are the same
to the digit at 10 and 6 dB/K). The fit: the value at which the median country's upload p50 ratio
(leonet / published) is 1 on Starlink's per-country figures of 2023-09-08 (31 countries; the month
the processing term is fitted on, which the check does not report), found by bisection (the ratio
grows with G/T, in steps: the MODCOD ladder). Each step is one realism run (~60 s on 2 workers).

    PYTHONPATH=src python bench/bench_uplink_fit.py [--metrics FILE] [--low 2] [--high 10] [--step 0.1]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from leonet.capacity.linkbudget import RADIO_DEFAULTS
from leonet.realism.calibrated import PROCESSING_FIT
from leonet.realism.check import run_realism
from leonet.realism.metrics import read_published_metrics

SEP_2023 = (Path(__file__).resolve().parents[1].parent / "shared" / "data" / "measured"
            / "starlink_published_metrics" / PROCESSING_FIT["metrics_file"])
FIELD = "capacity.radio.satellite_g_over_t_db_per_k"


def upload_ratios(metrics, g_over_t: float, workers: int) -> dict[str, float]:
    """Country -> leonet / published upload p50 with the satellite G/T at ``g_over_t`` dB/K."""
    result = run_realism(metrics, mode="full", references=False, workers=workers, overrides={FIELD: g_over_t})
    return {r["country"]: r["leonet"] / r["published"] for r in result.rows
            if r["metric"] == "upload_p50" and r.get("leonet") is not None and math.isfinite(r["leonet"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics", default=str(SEP_2023), help="metrics file to fit on (default: the 2023-09-08 file)")
    ap.add_argument("--workers", type=int, default=2, help="countries run at once (default 2: the CI machine's cores)")
    ap.add_argument("--low", type=float, default=2.0, help="lower end of the search, dB/K")
    ap.add_argument("--high", type=float, default=10.0, help="upper end of the search, dB/K (the former placeholder)")
    ap.add_argument("--step", type=float, default=0.1, help="resolution, dB")
    args = ap.parse_args()
    if not args.step >= 0.01:
        raise SystemExit("--step must be at least 0.01 dB (each step is a realism run of about a minute)")
    metrics = read_published_metrics(args.metrics)
    t0 = time.perf_counter()
    lo, hi = args.low, args.high
    seen = {}
    for g in (lo, hi):
        seen[g] = upload_ratios(metrics, g, args.workers)
    if not np.median(list(seen[lo].values())) <= 1.0 <= np.median(list(seen[hi].values())):
        raise SystemExit(f"the median ratio does not cross 1 between {lo} and {hi} dB/K")
    while hi - lo > args.step + 1e-9:
        mid = round((lo + hi) / 2, 3)
        seen[mid] = upload_ratios(metrics, mid, args.workers)
        if np.median(list(seen[mid].values())) <= 1.0:
            lo = mid
        else:
            hi = mid
    print(f"{Path(args.metrics).name}: {len(seen[hi])} countries, {len(seen)} runs, {time.perf_counter() - t0:.0f} s")
    for g in sorted(seen):
        r = np.array(list(seen[g].values()))
        print(f"  G/T {g:5.2f} dB/K: median upload p50 ratio {np.median(r):.3f}, "
              f"{int((np.abs(r - 1) <= 0.2).sum())} of {len(r)} within 20 %")
    print(f"fitted satellite G/T (median ratio 1, to {args.step} dB): {lo:.2f}-{hi:.2f} dB/K "
          f"(shipped: {RADIO_DEFAULTS.satellite_g_over_t_db_per_k:.1f})")


if __name__ == "__main__":
    main()
