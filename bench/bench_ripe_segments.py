"""The calibrated model beside RIPE Atlas's per-country Starlink latency of June-July 2025.

``../shared/data/measured/dish/ripe_atlas_latency_segments_2025-07.csv`` (b-baubeau/cmb-starlink-
measurements, RIPE measurement 113897643; see its SOURCE.md) gives, for 12 countries with one RIPE
Atlas probe each, the mean latency of UDP traceroutes to 8.8.8.8 split into the user's LAN, the
"bent pipe" (the dish to Starlink's first hop 100.64.0.1, i.e. to the PoP) and the ground (the PoP
onwards). The bent-pipe part is what leonet's ``rtt_ms`` measures (the dish's RTT to its home PoP),
so this is an independent check of the model at a later date than Starlink's own figures (2023-24):
its processing term of that date (4 ms, from SpaceX's June 2025 US median) and the 2026 ground list.

Each country runs as ``leonet realism`` runs one (``leonet.realism.calibrated.country_plan``: its
largest cities, GeoIP home PoPs, 96 instants over 24 days) on the 2026 ground list and the
shipped element set nearest the date, 2026-08-22. No element set of mid 2025 is at hand, so the
runs take that set's own days, with the background and processing term of that date (the same
4 ms as in July 2025). A single probe stands somewhere in each country, and
it reports a mean: the table shows leonet's weighted mean and median over the country, and is a
frame of reference, not a tolerance (one probe is not a country).

    PYTHONPATH=src python bench/bench_ripe_segments.py [--fast] [--workers 2] [--write]

``--write`` puts the table into bench/RESULTS.md (block ``ripe-segments``).
"""

from __future__ import annotations

import argparse
import csv
import re
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
RIPE = SHARED / "measured" / "dish" / "ripe_atlas_latency_segments_2025-07.csv"
#: The middle of the measurement (June-July 2025).
WHEN = date(2025, 7, 1)
#: RIPE's country names -> (ISO alpha-3, alpha-2).
CODES = {"Benin": ("BEN", "BJ"), "Cameroon": ("CMR", "CM"), "France": ("FRA", "FR"), "Germany": ("DEU", "DE"),
         "Hungary": ("HUN", "HU"), "Spain": ("ESP", "ES"), "UK": ("GBR", "GB"), "Canada": ("CAN", "CA"),
         "USA": ("USA", "US"), "Australia": ("AUS", "AU"), "Chile": ("CHL", "CL"), "Colombia": ("COL", "CO")}
MARK_BEGIN, MARK_END = "<!-- ripe-segments:begin -->", "<!-- ripe-segments:end -->"




def read_ripe(path: Path = RIPE) -> list[dict]:
    """The file's rows, with the bent-pipe mean as a float (ms)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if r["country"] not in CODES:
            raise SystemExit(f"{path}: country {r['country']!r} has no ISO code in this script's CODES")
        r["bent_pipe_ms"] = float(r["bent_pipe_latency"])
    return rows


def run_one(country: str, mode: str, work: str, homes: str = "geoip") -> dict:
    """One country's run; leonet's weighted mean and p50 of rtt_ms over its connected dish-steps.
    ``homes``: "geoip", the check's home PoPs (Starlink's GeoIP feed of Aug 2024); "nearest", each
    dish's nearest PoP of the 2026 list (network.home_pop: nearest)."""
    from leonet.realism.calibrated import country_plan, extract_orbit_file, orbit_set_for
    from leonet.realism.check import _pop_codes, _run, _weights
    from leonet.realism.figures import online
    from leonet.realism.quality import weighted_percentile

    iso3, iso2 = CODES[country]
    t0 = time.perf_counter()
    plan = country_plan(iso3, iso2, WHEN, extract_orbit_file(orbit_set_for(WHEN), Path(work)), mode=mode, ground=2026)
    scenario = plan.scenario
    if homes == "nearest":
        scenario = {**scenario, "network": {**scenario["network"], "home_pop": "nearest"},
                    "ground": {**scenario["ground"], "sites": [{k: v for k, v in site.items() if k != "home_pop"}
                                                               for site in scenario["ground"]["sites"]]}}
    sites, steps = _run(scenario, Path(work) / f"{iso3}-{homes}", len(plan.weights))
    w = _weights(plan, sites)[steps["site"].to_numpy()]
    rtt = steps["rtt_ms"].to_numpy(dtype=float)
    keep = online(steps) & np.isfinite(rtt)
    p50 = weighted_percentile(rtt[keep], w[keep], 50.0)
    mean = float(np.average(rtt[keep], weights=w[keep]))
    code_of = _pop_codes(sites)
    codes = sorted({code_of.get(int(k), str(k)) for k in steps.loc[keep, "home_pop"].unique()})
    return {"country": country, "mean_ms": mean, "p50_ms": p50, "homes": "/".join(codes),
            "day": plan.day.isoformat(), "run_s": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fast", action="store_true", help="4 instants and 3 cities a country (a quick look)")
    ap.add_argument("--workers", type=int, default=2, help="countries run at once (default 2)")
    ap.add_argument("--write", action="store_true", help="write the table into bench/RESULTS.md")
    args = ap.parse_args()
    ripe = read_ripe()
    mode = "fast" if args.fast else "full"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        from leonet.realism.calibrated import extract_orbit_file, orbit_set_for

        extract_orbit_file(orbit_set_for(WHEN), Path(work))   # once, before the workers read it
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=get_context("spawn")) as pool:
            names = [r["country"] for r in ripe]
            n = len(names)
            geoip = dict(zip(names, pool.map(run_one, names, [mode] * n, [work] * n, ["geoip"] * n)))
            nearest = dict(zip(names, pool.map(run_one, names, [mode] * n, [work] * n, ["nearest"] * n)))
    lines = ["| country | RIPE bent-pipe mean (ms) | leonet, GeoIP homes (Aug 2024): mean / p50 (ms) | their PoPs | "
             "leonet, nearest PoP (2026 list): mean / p50 (ms) | its PoPs |",
             "|---|---|---|---|---|---|"]
    diffs = {"geoip": [], "nearest": []}
    for r in ripe:
        g, near = geoip[r["country"]], nearest[r["country"]]
        diffs["geoip"].append(g["mean_ms"] - r["bent_pipe_ms"])
        diffs["nearest"].append(near["mean_ms"] - r["bent_pipe_ms"])
        lines.append(f"| {r['country']} | {r['bent_pipe_ms']:.1f} | {g['mean_ms']:.1f} / {g['p50_ms']:.1f} | {g['homes']} | "
                     f"{near['mean_ms']:.1f} / {near['p50_ms']:.1f} | {near['homes']} |")
    lines.append("")
    for homes, d in diffs.items():
        lines.append(f"- {homes} homes: leonet's mean within 5 ms of the probe's in {sum(abs(x) <= 5 for x in d)} of "
                     f"{len(d)}; median difference {np.median(d):+.1f} ms")
    lines.append(f"- simulated day {geoip[names[0]]['day']} (mode {mode}); {time.perf_counter() - t0:.0f} s in all")
    print("\n".join(lines))
    if args.write:
        path = HERE / "RESULTS.md"
        text = path.read_text(encoding="utf-8")
        block = f"{MARK_BEGIN}\n" + "\n".join(lines) + f"\n{MARK_END}"
        if MARK_BEGIN in text:
            text = re.sub(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END), lambda _: block, text, flags=re.S)
        else:
            text += "\n" + block + "\n"
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
