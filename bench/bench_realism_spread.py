"""A study of the realism check's dish places: sample dishes spread over each country's cities
instead of its most populous ones, with a take-up that falls with a city's size.

The check puts one sample dish in each of a country's 8 most populous cities (over 15,000
people), weighted by population. Starlink's subscribers are rural more than urban, and a country's
8 largest cities can all lie near its PoP (Santiago holds most of Chile's weight). This study
replaces the places, for every country alike:

1. every served GeoNames city of the country (over 15,000 people) gets a weight ``population**beta``
   (``beta`` = 1: subscribers follow people; ``beta`` < 1: take-up falls with city size, an
   **assumption** with no published elasticity);
2. 8 places (3 with ``--fast``) are chosen by a weighted k-means on the sphere (seeded by
   farthest-point sampling from the largest city, ``--iterations`` Lloyd steps; each centre is
   then the city nearest it, so every place is a real one);
3. each place's weight is the sum of its cities' weights, scaled to the country's take-up.

Everything else is the shipped check. The processing term is refitted by its own rule (the Sep
2023 file's median country latency error set to 0, added to every country as a constant), and the
other months are counted with that shift. Not shipped: see bench/RESULTS.md, "Realism: dishes
spread over each country's cities".

    PYTHONPATH=src python bench/bench_realism_spread.py [--beta 0.5] [--months 2023-10-03,2024-01-06]

About a minute per monthly file with 2 workers on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

import leonet.realism.calibrated as calibrated
from leonet.ground.population import cities_of

FOLDER = Path(calibrated.__file__).resolve().parents[1] / "data" / "measured" / "starlink_published_metrics"
_shipped_places = calibrated._dish_places


def spread_places(iso2: str, mode: str, day, beta: float, iterations: int):
    """(name, lat, lon, dishes) per place: the study's places (module docstring), or the shipped
    ones for a country without GeoNames cities."""
    places, kind = _shipped_places(iso2, mode, day)
    if kind != "geonames cities":
        return places, kind
    cities = cities_of([iso2], 15_000, 10**9)
    keep = calibrated.served([c.lat_deg for c in cities], [c.lon_deg for c in cities], day)
    cities = [c for c, k in zip(cities, keep) if k]
    n_places = min(calibrated.MAX_CITIES[mode], len(cities))
    lat, lon = np.radians([c.lat_deg for c in cities]), np.radians([c.lon_deg for c in cities])
    xyz = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
    population = np.array([c.population for c in cities], dtype=float)
    weight = population ** beta
    chosen = [0]                                  # cities_of sorts by population: the largest first
    gap = 1.0 - xyz @ xyz[0]
    while len(chosen) < n_places:                 # farthest-point seeds
        chosen.append(int(np.argmax(gap)))
        gap = np.minimum(gap, 1.0 - xyz @ xyz[chosen[-1]])
    for _ in range(iterations):                   # weighted Lloyd steps, snapped to cities
        nearest = np.argmax(xyz @ xyz[chosen].T, axis=1)
        centres = [(weight[nearest == k, None] * xyz[nearest == k]).sum(axis=0) for k in range(n_places)]
        chosen = [int(np.argmax(xyz @ c)) if np.any(c) else chosen[k] for k, c in enumerate(centres)]
    nearest = np.argmax(xyz @ xyz[chosen].T, axis=1)
    share = np.bincount(nearest, weights=weight, minlength=n_places) / weight.sum()
    dishes = share * population.sum() * calibrated.TAKE_UP
    return [(cities[j].name, cities[j].lat_deg, cities[j].lon_deg, max(1, int(round(d))))
            for j, d in zip(chosen, dishes)], kind


def _install() -> None:
    """Replace the check's places in this process (the spawned workers import this script again,
    so they run this too)."""
    beta = float(os.environ.get("LEONET_SPREAD_BETA", "1"))
    iterations = int(os.environ.get("LEONET_SPREAD_ITERATIONS", "10"))
    calibrated._dish_places = lambda iso2, mode, day: spread_places(iso2, mode, day, beta, iterations)


_install()


def main() -> None:
    from leonet.realism.check import run_realism
    from leonet.realism.metrics import read_published_metrics
    from leonet.realism.tolerance import within

    ap = argparse.ArgumentParser()
    ap.add_argument("--beta", type=float, default=0.5, help="take-up elasticity: weight = population**beta (default 0.5)")
    ap.add_argument("--iterations", type=int, default=10, help="weighted k-means steps (0: farthest-point places)")
    ap.add_argument("--months", default="2023-10-03,2023-11-08,2023-12-04,2024-01-06",
                    help="the files counted, by date (the Sep 2023 file is always run: the fit)")
    ap.add_argument("--folder", default=str(FOLDER), help="folder of residential_countries_<date>.json files (default: the shipped ones)")
    ap.add_argument("--workers", type=int, default=2, help="countries run at once (default 2)")
    args = ap.parse_args()
    # the workers read these when they import the script
    os.environ["LEONET_SPREAD_BETA"], os.environ["LEONET_SPREAD_ITERATIONS"] = str(args.beta), str(args.iterations)
    _install()

    def run(date: str):
        t0 = time.perf_counter()
        result = run_realism(read_published_metrics(Path(args.folder) / f"residential_countries_{date}.json"), mode="full",
                             references=False, workers=args.workers)
        return {r["country"]: r for r in result.rows}, {(r["country"], r["metric"]): r for r in result.rows}, \
            time.perf_counter() - t0

    _, sep, seconds = run("2023-09-08")
    shift = -statistics.median(r["leonet"] - r["published"] for (c, m), r in sep.items()
                               if m == "latency_p50" and r.get("leonet") is not None)
    print(f"beta {args.beta}, {args.iterations} k-means steps; Sep 2023 ({seconds:.0f} s): processing term refitted "
          f"by {shift:+.1f} ms")
    for date in args.months.split(","):
        _, rows, seconds = run(date)
        latency = download = both = n = 0
        for (country, metric), r in sorted(rows.items()):
            if metric != "latency_p50" or r.get("leonet") is None:
                continue
            n += 1
            lat_ok = within(metric, r["published"], r["leonet"] + shift)[0]
            d = rows.get((country, "download_p50"))
            dl_ok = d is not None and d.get("leonet") is not None and within("download_p50", d["published"], d["leonet"])[0]
            latency, download, both = latency + lat_ok, download + dl_ok, both + (lat_ok and dl_ok)
            print(f"  {date} {country} latency {r['leonet'] + shift:6.1f} / {r['published']:6.1f} ms"
                  f"{' ok' if lat_ok else '   '}")
        print(f"{date} ({seconds:.0f} s): latency {latency}, download {download}, both {both} of {n}")


if __name__ == "__main__":
    main()
