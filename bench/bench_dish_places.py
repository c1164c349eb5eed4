"""`leonet dish` at a few capitals, with the calibrated model (other subscribers) and without
(``--no-background``), beside Starlink's published country figures of Jan 2024: writes the table
into bench/RESULTS.md (section "leonet dish runs the calibrated model").

    PYTHONPATH=src python bench/bench_dish_places.py [--duration 120]

One dish for two minutes at the element set's start (2023-12-27 12:00 UTC, so a different local
hour at each place) on the 2023 ground segment is not a country's month over all hours and
places: the published figures are a frame of reference, not a tolerance. Timings are wall-clock
on a shared machine; the CPU model is read from lscpu.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from importlib.resources import files
from pathlib import Path

from bench_realism import _cpu  # noqa: E402 - bench/ is the script's folder
from leonet.mydish import dish_scenario
from leonet.results.summary import network_summary
from leonet.scenario import scenario_from_dict
from leonet.sim.runner import run

HERE = Path(__file__).resolve().parent
MARK_BEGIN, MARK_END = "<!-- dish-places:begin -->", "<!-- dish-places:end -->"
#: (place, lat, lon, ISO alpha-3 of Starlink's figures)
PLACES = (("Kyiv", 50.45, 30.52, "UKR"), ("Berlin", 52.52, 13.40, "DEU"), ("Rome", 41.90, 12.50, "ITA"),
          ("Nairobi", -1.29, 36.82, "KEN"), ("Manila", 14.60, 120.98, "PHL"), ("Santiago", -33.45, -70.67, "CHL"),
          ("Nassau", 25.05, -77.35, "BHS"), ("Helsinki", 60.17, 24.94, "FIN"))


def _one(lat: float, lon: float, background: bool, duration_s: float) -> tuple[float, float, float, float]:
    """(RTT p50 ms, speed test p50 Mbps, wall s, CPU s) of one dish run."""
    with tempfile.TemporaryDirectory() as tmp:
        data, _ = dish_scenario(lat, lon, Path(tmp), ground_year=2023, duration_s=duration_s, background=background,
                                constellation="starlink-2023-12-27")
        sc = scenario_from_dict(data, source="bench")
        t0, c0 = time.perf_counter(), time.process_time()
        result = run(sc, out_dir=Path(tmp) / "out")
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        row = network_summary(result.store).per_dish.iloc[0]
        return float(row["rtt_p50_ms"]), float(row["speedtest_p50_mbps"]), wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=120.0)
    args = ap.parse_args()
    published = json.loads(files("leonet").joinpath("data", "measured", "starlink_published_metrics",
                                                     "residential_countries_2024-01-06.json").read_text())
    lines = ["| place (Starlink's figures) | RTT p50, calibrated | RTT p50, --no-background | published latency p50 "
             "| speed test p50, calibrated | --no-background | published download p50 | s (CPU s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, lat, lon, iso3 in PLACES:
        rtt, speed, wall, cpu = _one(lat, lon, True, args.duration)
        rtt0, speed0, _, _ = _one(lat, lon, False, args.duration)
        pub = published.get(iso3, {})
        lines.append(f"| {name} ({iso3}) | {rtt:.1f} ms | {rtt0:.1f} ms | {pub.get('latency_p50', float('nan')):.1f} ms "
                     f"| {speed:.0f} Mbps | {speed0:.0f} Mbps | {pub.get('download_p50', float('nan')):.0f} Mbps "
                     f"| {wall:.1f} ({cpu:.1f}) |")
        print(lines[-1], flush=True)
    block = "\n".join([MARK_BEGIN, f"`PYTHONPATH=src python bench/bench_dish_places.py` ({args.duration:.0f} s per dish, "
                       f"2023 ground segment, from 2023-12-27 12:00 UTC; {_cpu()}):", "", *lines, MARK_END])
    path = HERE / "RESULTS.md"
    text = path.read_text()
    if MARK_BEGIN in text:
        text = re.sub(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n### leonet dish runs the calibrated model\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
