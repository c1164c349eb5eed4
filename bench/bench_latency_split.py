"""Split each country's latency into the route and the service terms, and ask what a global shift
of the terms would do.

Reads a realism output folder (``leonet realism --out DIR``: ``realism.csv`` and
``realism_by_home_pop.csv``) and prints, for every country, the published latency p50, leonet's,
the route's own round trip (``propagation_p50_ms``: light in space and fibre) and what the service
terms add (MAC, processing, queueing, jitter: leonet's p50 minus the route's), both averaged over
the country's home PoPs by their subscriber shares (an average of medians, close to but not the
country's median). Then the counts within 5 ms if every country's latency moved by the same
amount (the processing term, the one global constant fitted on the data), from -4 to +13 ms.

The service terms are global, so they come out alike everywhere (16-19 ms); a country's miss is
then its route's, or a term that differs by place and leonet does not have (load, queueing).

    PYTHONPATH=src python bench/bench_latency_split.py DIR          # DIR: a realism --out folder
    PYTHONPATH=src python bench/bench_latency_split.py --run DIR    # run the check into DIR first
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from leonet.realism.tolerance import LATENCY_TOLERANCE_MS


def split_rows(folder: Path) -> list[dict]:
    """One dict per country: published and leonet latency p50, route and terms (subscriber-weighted
    over its home PoPs), mean laser hops, download within tolerance."""
    table = {(r["country"], r["metric"]): r for r in csv.DictReader(open(folder / "realism.csv"))}
    parts: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for b in csv.DictReader(open(folder / "realism_by_home_pop.csv")):
        w = float(b["subscriber_share"])
        route = float(b["propagation_p50_ms"])
        p = parts[b["country"]]
        p[0] += w * route
        p[1] += w * (float(b["latency_p50_ms"]) - route)
        p[2] += w
        p[3] += w * float(b["laser_hops_mean"])
    rows = []
    for country, (route, terms, w, hops) in parts.items():
        lat = table[(country, "latency_p50")]
        rows.append({"country": country, "published": float(lat["published"]), "leonet": float(lat["leonet"]),
                     "route": route / w, "terms": terms / w, "laser_hops": hops / w,
                     "download_within": table[(country, "download_p50")]["within_tolerance"] == "true"})
    return sorted(rows, key=lambda r: r["leonet"] - r["published"])


def shift_counts(rows: list[dict], shifts=range(-4, 14)) -> list[tuple[int, int, int]]:
    """(shift ms, latency within, both within) with every country's latency moved by ``shift``."""
    out = []
    for s in shifts:
        ok = [r for r in rows if abs(r["leonet"] + s - r["published"]) <= LATENCY_TOLERANCE_MS]
        out.append((s, len(ok), sum(r["download_within"] for r in ok)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="a `leonet realism --out` folder")
    ap.add_argument("--run", action="store_true", help="run `leonet realism --no-references --workers 2` into it first")
    args = ap.parse_args()
    if args.run:
        subprocess.run([sys.executable, "-m", "leonet", "realism", "--no-references", "--workers", "2",
                        "--out", str(args.folder)], check=True)
    rows = split_rows(args.folder)
    print("| country | published p50 | leonet p50 | leonet - published | route p50 (propagation) | service terms | laser hops |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        miss = r["leonet"] - r["published"]
        within = " (within)" if abs(miss) <= LATENCY_TOLERANCE_MS else ""
        print(f"| {r['country']} | {r['published']:.1f} | {r['leonet']:.1f} | {miss:+.1f}{within} | {r['route']:.1f} "
              f"| {r['terms']:.1f} | {r['laser_hops']:.1f} |")
    print()
    print("shift (ms) | latency within | both within")
    for s, lat, both in shift_counts(rows):
        print(f"{s:+d} | {lat} | {both}")


if __name__ == "__main__":
    main()
